/**
 * Checks on a parsed catalog, beyond its JSON schema. Each problem is one line naming the queue
 * (or section) and the field; the caller prefixes the file.
 *
 * - `catalogProblems`: the catalog cannot be used (loading fails).
 * - `lintProblems`: the catalog is usable but not coherent (`npm run catalog -- lint` fails).
 */
import { didYouMean } from "../lib/suggest";
import { DEFAULT_DEVICE } from "./routing";
import type { Catalog, Provider, Queue, RoutingRule } from "./types";

/** Settings sections and the one provider each belongs to. */
const PROVIDER_SECTIONS: Record<string, Provider> = { aws: "aws", gke: "gke", tpu: "tpu", gce: "gce", k8s: "k8s" };

/** Providers whose agents this program provisions, so that size and machine must be known. */
const PROVISIONED: ReadonlySet<Provider> = new Set(["aws", "gke", "tpu", "gce"]);

function ruleTargets(rule: RoutingRule): string[] {
    return typeof rule.queue === "string" ? [rule.queue] : [rule.queue.main, rule.queue.other];
}

function queueProblems(catalog: Catalog, queue: Queue): string[] {
    const problems: string[] = [];
    const where = `queue "${queue.name}"`;
    for (const [section, owner] of Object.entries(PROVIDER_SECTIONS)) {
        if ((queue as unknown as Record<string, unknown>)[section] !== undefined && queue.provider !== owner) {
            problems.push(`${where}: field ${section}: only allowed on provider ${owner} (this queue is ${queue.provider})`);
        }
    }
    if (queue.provider !== "external" && queue.stage === undefined) {
        problems.push(`${where}: missing field "stage"`);
    }
    if (queue.provider !== "external") {
        if (queue.cluster === undefined) {
            problems.push(`${where}: missing field "cluster"`);
        } else if (!catalog.buildkiteClusters[queue.cluster]) {
            problems.push(
                `${where}: field cluster: unknown Buildkite cluster "${queue.cluster}"${didYouMean(queue.cluster, Object.keys(catalog.buildkiteClusters))}`,
            );
        }
    }
    if (PROVISIONED.has(queue.provider)) {
        if (!queue.machine) problems.push(`${where}: missing field "machine"`);
        if (!queue.scale && queue.provider !== "tpu") problems.push(`${where}: missing field "scale"`);
    }
    if (queue.provider === "aws" && !queue.region) problems.push(`${where}: missing field "region"`);
    if (queue.scale) {
        const { min, max } = queue.scale;
        if (min === undefined) problems.push(`${where}: missing field "scale.min"`);
        if (max === undefined) problems.push(`${where}: missing field "scale.max"`);
        if (min !== undefined && max !== undefined && min > max) {
            problems.push(`${where}: field scale.min: ${min} is greater than scale.max (${max})`);
        }
    }
    if (queue.machine) {
        const declared = catalog.machineTypes[queue.machine.type];
        if (!declared) {
            problems.push(
                `${where}: field machine.type: unknown machine type "${queue.machine.type}"${didYouMean(queue.machine.type, Object.keys(catalog.machineTypes))}`,
            );
        } else {
            if (queue.machine.accelerator !== undefined && queue.machine.accelerator !== declared.accelerator) {
                problems.push(
                    `${where}: field machine.accelerator: ${queue.machine.accelerator} does not match machine type ${queue.machine.type} (${declared.accelerator ?? "no accelerator"})`,
                );
            }
            if (queue.machine.count !== undefined && queue.machine.count !== declared.count) {
                problems.push(
                    `${where}: field machine.count: ${queue.machine.count} does not match machine type ${queue.machine.type} (${declared.count ?? 0} accelerators)`,
                );
            }
        }
    }
    if (queue.provider === "gke") {
        if (!queue.gke) {
            problems.push(`${where}: missing field "gke"`);
        } else {
            for (const cluster of queue.gke.clusters) {
                const gke = catalog.gkeClusters[cluster];
                if (!gke) {
                    problems.push(
                        `${where}: field gke.clusters: unknown GKE cluster "${cluster}"${didYouMean(cluster, Object.keys(catalog.gkeClusters))}`,
                    );
                } else if (gke.autopilot) {
                    problems.push(`${where}: field gke.clusters: "${cluster}" is an Autopilot cluster and takes no node pools`);
                }
            }
        }
    }
    if (queue.provider === "tpu") {
        if (!queue.tpu) {
            problems.push(`${where}: missing field "tpu"`);
        } else if (queue.machine && queue.machine.type !== queue.tpu.acceleratorType) {
            problems.push(
                `${where}: field tpu.acceleratorType: ${queue.tpu.acceleratorType} differs from machine.type ${queue.machine.type}`,
            );
        }
    }
    if (queue.provider === "gce" && !queue.gce) problems.push(`${where}: missing field "gce"`);
    if (queue.provider === "k8s" && !queue.k8s) problems.push(`${where}: missing field "k8s"`);
    if (queue.aws?.imageId && queue.aws.imageIdParameter) {
        problems.push(`${where}: field aws.imageId: set either imageId or imageIdParameter, not both`);
    }
    return problems;
}

/** Problems that make the catalog unusable. */
export function catalogProblems(catalog: Catalog): string[] {
    const problems: string[] = [];
    const byName = new Map<string, Queue>();
    for (const queue of catalog.queues) {
        if (byName.has(queue.name)) problems.push(`queue "${queue.name}": field name: declared more than once`);
        byName.set(queue.name, queue);
    }
    for (const queue of catalog.queues) problems.push(...queueProblems(catalog, queue));

    for (const queue of catalog.queues) {
        for (const target of queue.aws?.rollsAmiTo ?? []) {
            const rolled = byName.get(target);
            if (!rolled) {
                problems.push(`queue "${queue.name}": field aws.rollsAmiTo: unknown queue "${target}"${didYouMean(target, byName.keys())}`);
            } else if (!rolled.aws?.imageIdParameter) {
                problems.push(`queue "${queue.name}": field aws.rollsAmiTo: queue "${target}" does not boot from an AMI parameter`);
            }
        }
    }

    for (const [name, device] of Object.entries(catalog.devices)) {
        if (device.plugin !== "amd" && !device.template) problems.push(`device "${name}": missing field "template"`);
        if (device.plugin === "amd" && device.amdGpus === undefined) problems.push(`device "${name}": missing field "amdGpus"`);
        if (device.plugin !== "amd" && device.amdGpus !== undefined) {
            problems.push(`device "${name}": field amdGpus: only allowed with plugin amd`);
        }
    }
    if (catalog.devices[DEFAULT_DEVICE]?.plugin === "amd") {
        problems.push(`device "${DEFAULT_DEVICE}": field plugin: the default device cannot be an AMD device`);
    }

    catalog.routing.forEach((rule, index) => {
        const where = `routing rule ${index + 1}`;
        for (const target of ruleTargets(rule)) {
            if (!byName.has(target)) {
                problems.push(`${where}: field queue: unknown queue "${target}"${didYouMean(target, byName.keys())}`);
            }
        }
        for (const device of rule.match?.device ?? []) {
            if (device === DEFAULT_DEVICE || !catalog.devices[device]) {
                problems.push(`${where}: field match.device: unknown device "${device}"${didYouMean(device, Object.keys(catalog.devices))}`);
            }
        }
        if (!rule.match && index !== catalog.routing.length - 1) {
            problems.push(`${where}: field match: a rule without match must be the last one (the rules after it are unreachable)`);
        }
    });
    const last = catalog.routing[catalog.routing.length - 1];
    if (last && last.match) problems.push(`routing rule ${catalog.routing.length}: field match: the last rule must have no match (the default queue)`);
    return problems;
}

/** Problems of coherence: reachability of queues and coverage of devices. */
export function lintProblems(catalog: Catalog): string[] {
    const problems = catalogProblems(catalog);
    const routedTo = new Map<string, number>();
    catalog.routing.forEach((rule, index) => {
        for (const target of ruleTargets(rule)) if (!routedTo.has(target)) routedTo.set(target, index + 1);
    });
    for (const queue of catalog.queues) {
        const rule = routedTo.get(queue.name);
        if (queue.reachedBy === "rules" && rule === undefined) {
            problems.push(`queue "${queue.name}": field reachedBy: no routing rule reaches this queue (add a rule, or mark it reachedBy: name)`);
        }
        if (queue.reachedBy === "name" && rule !== undefined) {
            problems.push(`queue "${queue.name}": field reachedBy: marked "name" but routing rule ${rule} reaches it`);
        }
    }
    const deviceRules = new Map<string, number[]>();
    catalog.routing.forEach((rule, index) => {
        for (const device of rule.match?.device ?? []) deviceRules.set(device, [...(deviceRules.get(device) ?? []), index + 1]);
    });
    for (const device of Object.keys(catalog.devices)) {
        if (device === DEFAULT_DEVICE) continue;
        const rules = deviceRules.get(device) ?? [];
        if (rules.length === 0) problems.push(`device "${device}": no routing rule names this device`);
        if (rules.length > 1) problems.push(`device "${device}": named by more than one routing rule (${rules.join(", ")})`);
    }
    return problems;
}
