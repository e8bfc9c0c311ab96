/**
 * `npm run catalog -- lint [FILE]`: check the catalog and everything built from it: its own
 * coherence (reachable queues, every device routed by exactly one rule, no shadowed rule), the
 * generator's templates, and each stack's fleet checks (see `fleet-lint.ts`).
 * `npm run catalog -- show [FILE]`: print the queues, one line each.
 * `npm run catalog -- schema`: print the catalog's JSON schema (`catalog/queues.schema.json`).
 * `npm run catalog -- capacity [FILE] [--svg OUT.svg] [--json]`: per queue and per cloud, the most
 *   machines, the accelerators by kind and the on-demand cost at full scale (`capacity/`).
 *
 * Every problem is one line `error: FILE: WHERE: field F: ...`, no stack trace.
 * Exit codes: 0 fine, 1 lint problems, 2 unusable catalog or bad usage.
 */
import { DEFAULT_CATALOG_PATH, loadCatalog, type Catalog, type Queue } from "../catalog";
import { catalogFileJsonSchema } from "../catalog/model";
import { problemsOf } from "../lib/problems";
import { writeFileAtomic } from "../lib/atomic-write";
import { fleetCapacity, priceProblems, type FleetCapacity } from "../capacity/capacity";
import { capacityTable } from "../capacity/report";
import { capacityChart } from "../capacity/svg";
import { readGcpSettings } from "../gcp/settings";
import { listStacks, loadStackConfig } from "../plan/stack-config";
import { fleetLintProblems } from "./fleet-lint";
import { planBuildkite } from "../buildkite/layout";
import { runMain } from "../lib/cli-entry";

const USAGE = "usage: npm run catalog -- <lint|show> [catalog.yaml] | schema | capacity [catalog.yaml] [--svg FILE] [--json]";

function summary(catalog: Catalog): string {
    const byProvider = new Map<string, number>();
    for (const queue of catalog.queues) byProvider.set(queue.provider, (byProvider.get(queue.provider) ?? 0) + 1);
    const providers = [...byProvider.entries()].map(([provider, count]) => `${count} ${provider}`).join(", ");
    return `${catalog.queues.length} queues (${providers}), ${catalog.routing.length} routing rules, ${Object.keys(catalog.devices).length} devices`;
}

/** Both sides agree (the lint has checked it): the Buildkite cluster queues per cluster, and the queues we only route to. */
function buildkiteSummary(catalog: Catalog): string {
    const { layout } = planBuildkite(catalog);
    const clusters = layout.organizations.flatMap((organization) => organization.clusters.map((cluster) => `${organization.slug}/${cluster.key} ${cluster.queues.length}`));
    const queues = layout.organizations.flatMap((o) => o.clusters).reduce((sum, cluster) => sum + cluster.queues.length, 0);
    return `buildkite: ${queues} cluster queues, one per catalog queue in a cluster (${clusters.join(", ")}); ${layout.routingOnly.length} routing-only queues in no cluster of ours`;
}

function showLine(queue: Queue): string {
    const machine = queue.machine ? `${queue.machine.type}${queue.machine.count ? ` ${queue.machine.count}x${queue.machine.accelerator}` : ""}` : "-";
    const scale = queue.provider === "tpu" ? `${queue.tpu.groups.reduce((sum, group) => sum + group.count, 0)} VMs` : queue.scale ? `${queue.scale.min}..${queue.scale.max}` : "-";
    const where = queue.provider === "gce" ? (queue.gce.region ?? "-") : queue.provider === "tpu" ? queue.tpu.groups.map((group) => group.zone).join(",") : (queue.region ?? "-");
    return [queue.name, queue.provider, where, queue.stage, machine, scale, `reached-by-${queue.reachedBy}`].join("\t");
}

/** Writes each line as `error: <line>`. */
function report(lines: readonly string[]): void {
    for (const line of lines) process.stderr.write(`error: ${line}\n`);
}

/** The capacity view of the catalog in `file`, laid out with the GCP stack's settings (pools per cluster, TPU VMs per group). */
export function catalogCapacity(file: string): { catalog: Catalog; view: FleetCapacity } {
    const catalog = loadCatalog(file);
    const stack = listStacks().find((name) => loadStackConfig(name).config["ci:cloud"] === "gcp");
    if (!stack) throw new Error("no GCP stack (Pulumi.<stack>.yaml with ci:cloud gcp) to lay the GCP queues out with");
    const config = loadStackConfig(stack).config;
    return { catalog, view: fleetCapacity(catalog, readGcpSettings((key) => config[`ci:${key}`], `Pulumi.${stack}.yaml`), `Pulumi.${stack}.yaml`) };
}

/** `capacity [FILE] [--svg OUT] [--json]`: the table (or JSON) on stdout, the chart in OUT, price problems as errors (exit 1). */
function capacity(args: string[]): number {
    let file = DEFAULT_CATALOG_PATH;
    let svg: string | undefined;
    let json = false;
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--svg" && args[i + 1] !== undefined) svg = args[++i];
        else if (args[i] === "--json") json = true;
        else if (!args[i].startsWith("--") && file === DEFAULT_CATALOG_PATH) file = args[i];
        else {
            process.stderr.write(`${USAGE}\n`);
            return 2;
        }
    }
    try {
        const { catalog, view } = catalogCapacity(file);
        process.stdout.write(json ? `${JSON.stringify(view, null, 2)}\n` : capacityTable(view, catalog.file));
        if (svg) writeFileAtomic(svg, capacityChart(view, catalog.file));
        const problems = priceProblems(catalog).map((problem) => `${catalog.file}: ${problem}`);
        report(problems);
        return problems.length > 0 ? 1 : 0;
    } catch (error) {
        const problems = problemsOf(error);
        if (!problems) throw error;
        report(problems);
        return 2;
    }
}

export function main(argv: string[]): number {
    const [command, file = DEFAULT_CATALOG_PATH, ...rest] = argv;
    if (command === "capacity") return capacity(argv.slice(1));
    if (command === "schema" && argv.length === 1) {
        process.stdout.write(`${JSON.stringify(catalogFileJsonSchema(), null, 2)}\n`);
        return 0;
    }
    if ((command !== "lint" && command !== "show") || rest.length > 0) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
    let catalog: Catalog;
    try {
        catalog = loadCatalog(file);
    } catch (error) {
        const problems = problemsOf(error);
        if (!problems) throw error;
        report(problems);
        return 2;
    }
    if (command === "show") {
        process.stdout.write(catalog.queues.map(showLine).join("\n") + "\n");
        return 0;
    }
    let problems: string[];
    try {
        problems = fleetLintProblems(catalog);
    } catch (error) {
        const found = problemsOf(error);
        if (!found) throw error;
        report(found);
        return 2;
    }
    report(problems);
    if (problems.length > 0) {
        process.stderr.write(`${problems.length} problem(s)\n`);
        return 1;
    }
    process.stdout.write(`${catalog.file}: ok: ${summary(catalog)}\n`);
    process.stdout.write(`${catalog.file}: ok: ${buildkiteSummary(catalog)}\n`);
    return 0;
}

if (require.main === module) runMain(main);
