/**
 * `npm run catalog -- lint [FILE]`: check the catalog and summarise it.
 * `npm run catalog -- show [FILE]`: print the queues, one line each.
 * Exit codes: 0 fine, 1 lint problems, 2 unusable catalog or bad usage.
 */
import { CatalogError, DEFAULT_CATALOG_PATH, loadCatalog } from "./load";
import { lintProblems } from "./validate";
import type { Catalog } from "./types";

const USAGE = "usage: npm run catalog -- <lint|show> [catalog.yaml]";

function summary(catalog: Catalog): string {
    const byProvider = new Map<string, number>();
    for (const queue of catalog.queues) byProvider.set(queue.provider, (byProvider.get(queue.provider) ?? 0) + 1);
    const providers = [...byProvider.entries()].map(([provider, count]) => `${count} ${provider}`).join(", ");
    return `${catalog.queues.length} queues (${providers}), ${catalog.routing.length} routing rules, ${Object.keys(catalog.devices).length} devices`;
}

function showLine(queue: Catalog["queues"][number]): string {
    const machine = queue.machine
        ? `${queue.machine.type}${queue.machine.count ? ` ${queue.machine.count}x${queue.machine.accelerator}` : ""}`
        : "-";
    const scale = queue.tpu ? `${queue.tpu.count} VMs` : queue.scale ? `${queue.scale.min}..${queue.scale.max}` : "-";
    return [queue.name, queue.provider, queue.region ?? queue.gce?.region ?? queue.tpu?.zone ?? "-", queue.stage, machine, scale, `reached-by-${queue.reachedBy}`].join("\t");
}

export function main(argv: string[]): number {
    const [command, file = DEFAULT_CATALOG_PATH, ...rest] = argv;
    if ((command !== "lint" && command !== "show") || rest.length > 0) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
    let catalog: Catalog;
    try {
        catalog = loadCatalog(file);
    } catch (error) {
        if (error instanceof CatalogError) {
            process.stderr.write(`error: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
    if (command === "show") {
        process.stdout.write(catalog.queues.map(showLine).join("\n") + "\n");
        return 0;
    }
    const problems = lintProblems(catalog);
    for (const problem of problems) process.stderr.write(`error: ${catalog.file}: ${problem}\n`);
    if (problems.length > 0) {
        process.stderr.write(`${problems.length} problem(s)\n`);
        return 1;
    }
    process.stdout.write(`${catalog.file}: ok: ${summary(catalog)}\n`);
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
