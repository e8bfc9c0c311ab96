/**
 * The offline plan: `npm run plan -- [stack ...] [--json]`.
 *
 * Runs the program in process under mocks (no Pulumi CLI, credentials or network) and prints what
 * the stack would contain: a tree grouped by component with the inputs that matter and a count per
 * type, or (`--json`) every resource as `{type, name, parent, provider, inputs}` in a stable order.
 */
import * as path from "path";
import { parseArgs } from "util";
import { runWithMocks, type ProgramRun, type RecordedResource } from "./harness";
import { listStacks, loadStackConfig } from "./stack-config";
import { summaryKeys } from "./summary";
import { runMain } from "../lib/cli-entry";

const USAGE = `usage: npm run plan -- [STACK ...] [--json] [--catalog FILE]

Plans the named stacks (default: every Pulumi.<stack>.yaml) offline, under mocks.
  --json          print every resource as JSON {type, name, parent, provider, inputs}, secrets as "[secret]"
  --catalog FILE  plan another catalog than the stack's (config ci:catalogPath)
  --help   this text`;

/**
 * The lines of a program error: each problem of the input (the program reports every one of them,
 * one per line), or the first line of anything else.
 */
export function errorLines(error: unknown): string[] {
    const message = error instanceof Error ? error.message : String(error);
    const lines = message.split("\n").filter((line) => line.trim() !== "");
    const isProblemList = error instanceof Error && (error as { __pulumiRunError?: boolean }).__pulumiRunError === true;
    return isProblemList ? lines : lines.slice(0, 1);
}

/** Runs the program for one stack under mocks. */
export async function planStack(stack: string, catalogPath?: string): Promise<ProgramRun> {
    const stackConfig = loadStackConfig(stack);
    if (catalogPath !== undefined) stackConfig.config["ci:catalogPath"] = path.resolve(catalogPath);
    // The program module is loaded lazily so that a usage error costs no Pulumi start-up.
    const { defineFleet } = await import("../fleet");
    return runWithMocks(stackConfig, () => defineFleet() as Record<string, unknown>);
}

/** The plan as JSON: stable order, secrets masked, no run-specific values. */
export function planJson(run: ProgramRun): string {
    const resources = run.resources.map(({ type, name, parent, provider, inputs }) => ({ type, name, parent, provider, inputs }));
    return JSON.stringify(resources, null, 2);
}

function formatValue(value: unknown): string {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 72 ? `${text.slice(0, 69)}...` : text;
}

function describe(resource: RecordedResource): string {
    const details = summaryKeys(resource)
        .map(([key, value]) => `${key}=${formatValue(value)}`)
        .join(" ");
    return `${resource.type} ${resource.name}${details ? `  ${details}` : ""}`;
}

/** The resource tree, children under their component, then a count per type. */
export function planText(stack: string, run: ProgramRun): string {
    const children = new Map<string, RecordedResource[]>();
    const refs = new Set(run.resources.map((r) => `${r.type}::${r.name}`));
    const roots: RecordedResource[] = [];
    for (const resource of run.resources) {
        if (resource.parent && refs.has(resource.parent)) {
            children.set(resource.parent, [...(children.get(resource.parent) ?? []), resource]);
        } else {
            roots.push(resource);
        }
    }
    const lines: string[] = [`Stack ${stack}: ${run.resources.length} resources`];
    const walk = (resource: RecordedResource, depth: number): void => {
        lines.push(`${"  ".repeat(depth)}${resource.custom ? "+" : "◇"} ${describe(resource)}`);
        for (const child of children.get(`${resource.type}::${resource.name}`) ?? []) walk(child, depth + 1);
    };
    for (const root of roots) walk(root, 1);
    const counts = new Map<string, number>();
    for (const resource of run.resources) counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
    lines.push("", "Resources by type:");
    for (const [type, count] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        lines.push(`  ${String(count).padStart(4)}  ${type}`);
    }
    return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean" }, catalog: { type: "string" } } });
    } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (parsed.values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const stacks = parsed.positionals.length > 0 ? parsed.positionals : listStacks();
    const known = listStacks();
    const unknown = stacks.filter((stack) => !known.includes(stack));
    if (unknown.length > 0) {
        process.stderr.write(`error: unknown stack ${unknown.join(", ")} (stacks: ${known.join(", ")})\n`);
        return 2;
    }
    const jsonPlans: Record<string, unknown> = {};
    for (const stack of stacks) {
        let run: ProgramRun;
        try {
            run = await planStack(stack, parsed.values.catalog);
        } catch (error) {
            // Program errors are meant for people: one line per problem, no stack trace.
            for (const line of errorLines(error)) process.stderr.write(`error: stack ${stack}: ${line}\n`);
            return 2;
        }
        if (parsed.values.json) {
            jsonPlans[stack] = JSON.parse(planJson(run));
        } else {
            process.stdout.write(`${planText(stack, run)}\n\n`);
        }
    }
    if (parsed.values.json) {
        const document = stacks.length === 1 ? jsonPlans[stacks[0]] : jsonPlans;
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
    return 0;
}

if (require.main === module) runMain(main);
