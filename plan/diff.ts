/**
 * `npm run plan:diff -- BASE.json HEAD.json [--capacity BASE-CAPACITY.json HEAD-CAPACITY.json]`:
 * what a change does to the fleet, as Markdown for the pull request's job summary. Both plans are
 * `npm run plan -- --json` output (all stacks); the capacity files, `npm run catalog -- capacity
 * --json` of each side, add how the change moves the capacity and cost at full scale.
 */
import * as fs from "fs";
import { keptTemplateRules, replacementEffect } from "../aws/stack-template";
import type { FleetCapacity } from "../capacity/capacity";
import { capacityDiffMarkdown } from "../capacity/report";

/** A resource as `npm run plan -- --json` prints it. */
export interface PlannedResource {
    type: string;
    name: string;
    parent?: string;
    provider?: string;
    inputs: Record<string, unknown>;
}

/** Stack name → its resources. */
export type PlanDocument = Record<string, PlannedResource[]>;

export interface StackDiff {
    stack: string;
    added: PlannedResource[];
    removed: PlannedResource[];
    /**
     * Changed resources with the top-level input keys (or `parent`/`provider`) that differ, and
     * what the change does beyond the resource (an Elastic CI Stack's autoscaling group replaced).
     */
    changed: { resource: PlannedResource; fields: string[]; effects: string[] }[];
}

const STACK = "aws:cloudformation/stack:Stack";

/** `6.21.0` from `https://s3.amazonaws.com/buildkite-aws-stack/v6.21.0/aws-stack.yml`. */
function stackVersion(templateUrl: unknown): string | undefined {
    return typeof templateUrl === "string" ? /\/v([0-9]+\.[0-9]+\.[0-9]+)\//.exec(templateUrl)?.[1] : undefined;
}

const record = (value: unknown): Record<string, unknown> => (value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * Why a change of an Elastic CI Stack cancels running jobs: a parameter that reaches the launch
 * template, the mixed instances policy or the subnets of its autoscaling group (the template's
 * own rules, `aws/templates/`), or another template version. Empty for other resources.
 */
export function stackChangeEffects(before: PlannedResource, after: PlannedResource): string[] {
    if (after.type !== STACK) return [];
    const queue = String(record(after.inputs.parameters).BuildkiteQueue ?? after.name);
    const effects: string[] = [];
    const [was, now] = [stackVersion(before.inputs.templateUrl), stackVersion(after.inputs.templateUrl)];
    if (was !== now) effects.push(`replaces the autoscaling group of queue ${queue} (Elastic CI Stack ${was ?? "?"} → ${now ?? "?"}): running jobs are cancelled`);
    const rules = now ? keptTemplateRules(now) : undefined;
    const [old, next] = [record(before.inputs.parameters), record(after.inputs.parameters)];
    const changed = [...new Set([...Object.keys(old), ...Object.keys(next)])].filter((key) => JSON.stringify(old[key]) !== JSON.stringify(next[key]));
    if (was === now) {
        const effect = rules ? replacementEffect(rules, queue, changed) : changed.length > 0 ? `parameters of queue ${queue} changed against an unchecked template version` : undefined;
        if (effect) effects.push(effect);
    }
    return effects;
}

const refOf = (r: PlannedResource): string => `${r.type}::${r.name}`;

function changedFields(before: PlannedResource, after: PlannedResource): string[] {
    const fields = new Set<string>();
    for (const key of new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)])) {
        if (JSON.stringify(before.inputs[key]) !== JSON.stringify(after.inputs[key])) fields.add(key);
    }
    if (before.parent !== after.parent) fields.add("(parent)");
    if (before.provider !== after.provider) fields.add("(provider)");
    return [...fields].sort();
}

/** Resources added, removed and changed, per stack, in a stable order. */
export function diffPlans(base: PlanDocument, head: PlanDocument): StackDiff[] {
    const stacks = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
    return stacks.map((stack) => {
        const before = new Map((base[stack] ?? []).map((r) => [refOf(r), r]));
        const after = new Map((head[stack] ?? []).map((r) => [refOf(r), r]));
        const added = [...after.keys()].filter((k) => !before.has(k)).sort().map((k) => after.get(k)!);
        const removed = [...before.keys()].filter((k) => !after.has(k)).sort().map((k) => before.get(k)!);
        const changed = [...after.keys()]
            .filter((k) => before.has(k))
            .sort()
            .map((k) => ({ resource: after.get(k)!, fields: changedFields(before.get(k)!, after.get(k)!), effects: stackChangeEffects(before.get(k)!, after.get(k)!) }))
            .filter((entry) => entry.fields.length > 0);
        return { stack, added, removed, changed };
    });
}

/** The diff as Markdown; `capacity` (base and head capacity views) adds how the totals move. */
export function diffMarkdown(diffs: StackDiff[], capacity?: { base: FleetCapacity | undefined; head: FleetCapacity }): string {
    const lines = ["## Offline plan: what this change does to the fleet", ""];
    if (capacity) lines.push(...capacityDiffMarkdown(capacity.base, capacity.head));
    const replacing = diffs.flatMap((diff) => diff.changed.flatMap((entry) => entry.effects.map((effect) => `${diff.stack}: ${effect}`)));
    if (replacing.length > 0) lines.push(`> :warning: ${replacing.length} change(s) replace an autoscaling group and cancel the jobs running on it (listed below).`, "");
    for (const diff of diffs) {
        const total = diff.added.length + diff.removed.length + diff.changed.length;
        lines.push(`### ${diff.stack}: ${total === 0 ? "no change" : `+${diff.added.length} -${diff.removed.length} ~${diff.changed.length}`}`, "");
        for (const r of diff.added) lines.push(`- \`+\` \`${r.type}\` **${r.name}**`);
        for (const r of diff.removed) lines.push(`- \`-\` \`${r.type}\` **${r.name}**`);
        for (const { resource, fields, effects } of diff.changed) {
            lines.push(`- \`~\` \`${resource.type}\` **${resource.name}**: ${fields.join(", ")}`);
            for (const effect of effects) lines.push(`  - :warning: **${effect}**`);
        }
        if (total > 0) lines.push("");
    }
    return lines.join("\n");
}

function readPlan(file: string): PlanDocument {
    const document = JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument | PlannedResource[];
    // A single-stack plan is a bare array; name it after nothing rather than guess.
    return Array.isArray(document) ? { stack: document } : document;
}

/** A capacity view (`catalog -- capacity --json`); an empty or absent base (a branch without the view) is undefined. */
export function readCapacity(file: string): FleetCapacity | undefined {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    if (text === "" || text === "{}") return undefined;
    let document: FleetCapacity;
    try {
        document = JSON.parse(text) as FleetCapacity;
    } catch (error) {
        throw new Error(`${file}: not JSON (${(error as Error).message.split("\n")[0]}); a capacity view is npm run -s catalog -- capacity --json`);
    }
    if (document === null || typeof document !== "object" || !Array.isArray(document.queues) || !Array.isArray(document.totals)) throw new Error(`${file}: not a capacity view (npm run catalog -- capacity --json)`);
    return document;
}

if (require.main === module) {
    const [baseFile, headFile, flag, baseCapacity, headCapacity, ...extra] = process.argv.slice(2);
    if (!baseFile || !headFile || (flag !== undefined && (flag !== "--capacity" || !baseCapacity || !headCapacity)) || extra.length > 0) {
        process.stderr.write("usage: npm run plan:diff -- BASE.json HEAD.json [--capacity BASE-CAPACITY.json HEAD-CAPACITY.json]\n");
        process.exitCode = 2;
    } else {
        try {
            const head = flag ? readCapacity(headCapacity) : undefined;
            const capacity = head ? { base: readCapacity(baseCapacity), head } : undefined;
            process.stdout.write(`${diffMarkdown(diffPlans(readPlan(baseFile), readPlan(headFile)), capacity)}\n`);
        } catch (error) {
            process.stderr.write(`error: ${(error as Error).message.split("\n")[0]}\n`);
            process.exitCode = 2;
        }
    }
}
