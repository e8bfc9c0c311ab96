/**
 * Checks on a catalog across its entries, beyond what the model's schema says of each entry. Each
 * problem is one line naming the queue (or section) and the field; the caller prefixes the file.
 *
 * - `catalogProblems`: the catalog cannot be used (loading fails).
 * - `lintProblems`: the catalog is usable but not coherent (`npm run catalog -- lint` fails; the
 *   lint adds the clouds' and the generator's checks, see `lint/`).
 */
import { didYouMean } from "../lib/suggest";
import { DEFAULT_DEVICE } from "./routing";
import { defaultOrganization, organizationOf } from "./queries";
import type { Catalog, Queue, RoutingMatch, RoutingRule } from "./types";

/** Providers whose agents read their token from GCP Secret Manager or a Kubernetes Secret. */
const GCP_TOKEN_PROVIDERS: readonly string[] = ["gke", "tpu", "gce", "k8s"];

/** The queues a rule may send to (both branches of a main/other target). */
export function ruleTargets(rule: RoutingRule): string[] {
    return typeof rule.queue === "string" ? [rule.queue] : [rule.queue.main, rule.queue.other];
}

function queueProblems(catalog: Catalog, queue: Queue): string[] {
    const problems: string[] = [];
    const where = `queue "${queue.name}"`;
    const cluster = queue.cluster !== undefined ? catalog.buildkiteClusters[queue.cluster] : undefined;
    if (queue.cluster !== undefined && !cluster) {
        problems.push(`${where}: field cluster: unknown Buildkite cluster "${queue.cluster}"${didYouMean(queue.cluster, Object.keys(catalog.buildkiteClusters))}`);
    }
    if (cluster && queue.provider === "aws" && !cluster.ssmTokenParameter) {
        problems.push(`${where}: field cluster: Buildkite cluster "${queue.cluster}" has no ssmTokenParameter, which AWS agents read their token from`);
    }
    if (cluster && GCP_TOKEN_PROVIDERS.includes(queue.provider) && !cluster.gcpSecretId) {
        problems.push(`${where}: field cluster: Buildkite cluster "${queue.cluster}" has no gcpSecretId, which ${queue.provider} agents read their token from`);
    }
    const projects = Object.keys(catalog.gcpProjects);
    const knownProject = (project: string | undefined, field: string) => {
        if (project !== undefined && projects.length > 0 && !projects.includes(project)) {
            problems.push(`${where}: field ${field}: project "${project}" is not in gcpProjects${didYouMean(project, projects)}`);
        }
    };
    if (queue.provider === "tpu") queue.tpu.groups.forEach((group, index) => knownProject(group.project, `tpu.groups[${index}].project`));
    if (queue.provider === "gce") {
        knownProject(queue.gce.project, "gce.project");
        queue.gce.instances?.forEach((group, index) => knownProject(group.project, `gce.instances[${index}].project`));
        if (queue.gce.instances && (queue.gce.group || queue.scale)) {
            problems.push(`${where}: field gce.instances: fixed VMs take no group or scale (their number is each entry's count)`);
        }
        if (!queue.gce.instances && !queue.scale) problems.push(`${where}: field scale: a managed instance group needs scale.min and scale.max`);
        if (!queue.gce.instances && !queue.gce.region) problems.push(`${where}: field gce.region: a managed instance group needs its region`);
    }
    if ("scale" in queue && queue.scale && queue.scale.min > queue.scale.max) {
        problems.push(`${where}: field scale.min: ${queue.scale.min} is greater than scale.max (${queue.scale.max})`);
    }
    if (queue.machine) {
        const declared = catalog.machineTypes[queue.machine.type];
        if (!declared) {
            problems.push(`${where}: field machine.type: unknown machine type "${queue.machine.type}"${didYouMean(queue.machine.type, Object.keys(catalog.machineTypes))}`);
        } else {
            if (queue.machine.accelerator !== undefined && queue.machine.accelerator !== declared.accelerator) {
                problems.push(
                    `${where}: field machine.accelerator: ${queue.machine.accelerator} does not match machine type ${queue.machine.type} (${declared.accelerator ?? "no accelerator"})`,
                );
            }
            if (queue.machine.count !== undefined && queue.machine.count !== declared.count) {
                problems.push(`${where}: field machine.count: ${queue.machine.count} does not match machine type ${queue.machine.type} (${declared.count ?? 0} accelerators)`);
            }
        }
    }
    if (queue.provider === "gke") {
        for (const cluster of queue.gke.clusters) {
            const gke = catalog.gkeClusters[cluster];
            if (!gke) {
                problems.push(`${where}: field gke.clusters: unknown GKE cluster "${cluster}"${didYouMean(cluster, Object.keys(catalog.gkeClusters))}`);
            } else if (gke.autopilot) {
                problems.push(`${where}: field gke.clusters: "${cluster}" is an Autopilot cluster and takes no node pools`);
            }
        }
    }
    if (queue.provider === "tpu" && queue.machine.type !== queue.tpu.acceleratorType) {
        problems.push(`${where}: field tpu.acceleratorType: ${queue.tpu.acceleratorType} differs from machine.type ${queue.machine.type}`);
    }
    if (queue.provider === "aws" && queue.aws?.imageId && queue.aws.imageIdParameter) {
        problems.push(`${where}: field aws.imageId: set either imageId or imageIdParameter, not both`);
    }
    return problems;
}

/** Organizations, clusters and projects: every name they use exists, one organization is the default. */
function sectionProblems(catalog: Catalog): string[] {
    const problems: string[] = [];
    const organizations = Object.keys(catalog.buildkiteOrganizations);
    const defaults = organizations.filter((key) => catalog.buildkiteOrganizations[key].default);
    if (organizations.length > 1 && defaults.length !== 1) {
        problems.push(`buildkiteOrganizations: field default: exactly one organization is the default (the one the generator routes), not ${defaults.length}`);
    }
    const projects = Object.keys(catalog.gcpProjects);
    for (const [key, cluster] of Object.entries(catalog.buildkiteClusters)) {
        if (cluster.organization !== undefined && !catalog.buildkiteOrganizations[cluster.organization]) {
            problems.push(`buildkiteClusters "${key}": field organization: unknown organization "${cluster.organization}"${didYouMean(cluster.organization, organizations)}`);
        }
        const exporter = cluster.metricsExporter?.project;
        if (exporter && projects.length > 0 && !projects.includes(exporter)) {
            problems.push(`buildkiteClusters "${key}": field metricsExporter.project: project "${exporter}" is not in gcpProjects${didYouMean(exporter, projects)}`);
        }
    }
    for (const [key, organization] of Object.entries(catalog.buildkiteOrganizations)) {
        const project = organization.gcpSecrets?.project;
        if (project && projects.length > 0 && !projects.includes(project)) {
            problems.push(`buildkiteOrganizations "${key}": field gcpSecrets.project: project "${project}" is not in gcpProjects${didYouMean(project, projects)}`);
        }
    }
    for (const [key, cluster] of Object.entries(catalog.gkeClusters)) {
        if (cluster.project && projects.length > 0 && !projects.includes(cluster.project)) {
            problems.push(`gkeClusters "${key}": field project: project "${cluster.project}" is not in gcpProjects${didYouMean(cluster.project, projects)}`);
        }
    }
    return problems;
}

/** Problems that make the catalog unusable. */
export function catalogProblems(catalog: Catalog): string[] {
    const problems: string[] = sectionProblems(catalog);
    // A queue name is unique within its organization; rules and AMI rollouts name queues of the default one.
    const main = defaultOrganization(catalog);
    const byName = new Map<string, Queue>();
    const seen = new Set<string>();
    for (const queue of catalog.queues) {
        const organization = organizationOf(catalog, queue);
        const key = `${organization ?? ""}\u0000${queue.name}`;
        if (seen.has(key)) problems.push(`queue "${queue.name}": field name: declared more than once${organization ? ` in organization ${organization}` : ""}`);
        seen.add(key);
        if (organization === main) byName.set(queue.name, queue);
    }
    for (const queue of catalog.queues) problems.push(...queueProblems(catalog, queue));

    for (const queue of catalog.queues) {
        if (queue.provider !== "aws") continue;
        for (const target of queue.aws?.rollsAmiTo ?? []) {
            const rolled = byName.get(target);
            if (!rolled) {
                problems.push(`queue "${queue.name}": field aws.rollsAmiTo: unknown queue "${target}"${didYouMean(target, byName.keys())}`);
            } else if (rolled.provider !== "aws" || !rolled.aws?.imageIdParameter) {
                problems.push(`queue "${queue.name}": field aws.rollsAmiTo: queue "${target}" does not boot from an AMI parameter`);
            }
        }
    }

    for (const [name, device] of Object.entries(catalog.devices)) {
        if (device.plugin !== "amd" && !device.template) problems.push(`device "${name}": missing field "template"`);
        if (device.plugin === "amd" && device.amdGpus === undefined) problems.push(`device "${name}": missing field "amdGpus"`);
        if (device.plugin !== "amd" && device.amdGpus !== undefined) problems.push(`device "${name}": field amdGpus: only allowed with plugin amd`);
    }
    if (catalog.devices[DEFAULT_DEVICE]?.plugin === "amd") {
        problems.push(`device "${DEFAULT_DEVICE}": field plugin: the default device cannot be an AMD device`);
    }

    catalog.routing.forEach((rule, index) => {
        const where = `routing rule ${index + 1}`;
        for (const target of ruleTargets(rule)) {
            if (!byName.has(target)) problems.push(`${where}: field queue: unknown queue "${target}"${didYouMean(target, byName.keys())}`);
        }
        for (const device of rule.match?.device ?? []) {
            if (device === DEFAULT_DEVICE) {
                problems.push(`${where}: field match.device: "${DEFAULT_DEVICE}" is not a device a step names (steps without a known device reach the last rule)`);
            } else if (!catalog.devices[device]) {
                const named = Object.keys(catalog.devices).filter((name) => name !== DEFAULT_DEVICE);
                problems.push(`${where}: field match.device: unknown device "${device}"${didYouMean(device, named)}`);
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

/**
 * Whether every step with device `device` that `later` matches is matched by `earlier` too:
 * then `earlier` wins and `later` is unreachable for that device. `device` undefined stands for
 * "any device" (a rule without a device condition).
 */
export function covers(earlier: RoutingMatch | undefined, later: RoutingMatch | undefined, device: string | undefined): boolean {
    if (!earlier) return true;
    const after = later ?? {};
    if (earlier.device !== undefined && (device === undefined || !earlier.device.includes(device))) return false;
    if (earlier.numDevices !== undefined && (after.numDevices === undefined || !after.numDevices.every((n) => earlier.numDevices!.includes(n)))) return false;
    if (earlier.label !== undefined && after.label !== earlier.label) return false;
    if (earlier.labelPrefix !== undefined) {
        const prefix = earlier.labelPrefix;
        const implied = (after.label !== undefined && after.label.startsWith(prefix)) || (after.labelPrefix !== undefined && after.labelPrefix.startsWith(prefix));
        if (!implied) return false;
    }
    if (earlier.labelContains !== undefined) {
        const part = earlier.labelContains;
        const implied = [after.label, after.labelPrefix, after.labelContains].some((text) => text !== undefined && text.includes(part));
        if (!implied) return false;
    }
    return true;
}

/** Rules that an earlier rule makes unreachable, for some device or for every step. */
export function shadowedRuleProblems(catalog: Catalog): string[] {
    const problems: string[] = [];
    catalog.routing.forEach((rule, index) => {
        if (!rule.match) return; // the default rule: reached by whatever the others leave
        for (const device of rule.match.device ?? [undefined]) {
            const earlier = catalog.routing.slice(0, index).findIndex((other) => covers(other.match, rule.match, device));
            if (earlier < 0) continue;
            problems.push(
                device === undefined
                    ? `routing rule ${index + 1}: field match: unreachable: routing rule ${earlier + 1} matches every step it matches`
                    : `routing rule ${index + 1}: field match.device: unreachable for device "${device}": routing rule ${earlier + 1} matches every such step first`,
            );
        }
    });
    return problems;
}

/** Problems of coherence: reachability of queues, coverage of devices, shadowed rules. */
export function lintProblems(catalog: Catalog): string[] {
    const problems = catalogProblems(catalog);
    const routedTo = new Map<string, number>();
    catalog.routing.forEach((rule, index) => {
        for (const target of ruleTargets(rule)) if (!routedTo.has(target)) routedTo.set(target, index + 1);
    });
    const main = defaultOrganization(catalog);
    for (const queue of catalog.queues) {
        // Rules route the default organization's pipelines; another organization's queues are named by its own.
        const rule = organizationOf(catalog, queue) === main ? routedTo.get(queue.name) : undefined;
        if (queue.reachedBy === "rules" && organizationOf(catalog, queue) !== main) {
            problems.push(`queue "${queue.name}": field reachedBy: routing rules serve organization ${main}'s pipelines; mark it reachedBy: name`);
        } else if (queue.reachedBy === "rules" && rule === undefined) {
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
    problems.push(...shadowedRuleProblems(catalog));
    return problems;
}
