/**
 * What the generator needs of a catalog beyond routing: every device's template exists in the
 * settings (else a step on that device fails only when a build uses it), and the queues and
 * devices the settings name are the catalog's. Pure; `npm run catalog -- lint` runs it.
 */
import type { Catalog } from "../catalog/types";
import { didYouMean } from "../lib/suggest";
import { VLLM_SETTINGS, type GeneratorSettings } from "./settings";

/** Problems of `catalog` for the generator with `settings`, one line each (the caller prefixes the file). */
export function generatorCatalogProblems(catalog: Catalog, settings: GeneratorSettings = VLLM_SETTINGS): string[] {
    const problems: string[] = [];
    for (const [name, device] of Object.entries(catalog.devices)) {
        if (device.plugin === "amd" || device.template === undefined) continue;
        const templates: Record<string, unknown> = device.plugin === "docker" ? settings.docker.templates : settings.kubernetes.templates;
        const template = templates[device.template];
        if (template === undefined) {
            problems.push(
                `device "${name}": field template: the generator settings have no ${device.plugin} template "${device.template}"${didYouMean(device.template, Object.keys(templates))}`,
            );
        } else if (device.plugin === "kubernetes") {
            const containers = (template as { containers?: unknown }).containers;
            if (!Array.isArray(containers) || containers.length === 0) {
                problems.push(`device "${name}": field template: the generator's kubernetes template "${device.template}" has no container`);
            }
        }
    }
    const queues = catalog.queues.map((queue) => queue.name);
    if (!queues.includes(settings.precommit.queue)) {
        problems.push(`generator settings: field precommit.queue: "${settings.precommit.queue}" is not a queue of the catalog${didYouMean(settings.precommit.queue, queues)}`);
    }
    for (const device of settings.amd.cpuDevices) {
        if (!catalog.devices[device]) problems.push(`generator settings: field amd.cpuDevices: "${device}" is not a device of the catalog${didYouMean(device, Object.keys(catalog.devices))}`);
    }
    return problems;
}
