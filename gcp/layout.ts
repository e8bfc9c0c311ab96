/**
 * What the GCP stack builds, computed from the catalog and the stack settings without Pulumi:
 * GKE clusters with their L4 pools and system pool, TPU groups and their VMs, CPU builder groups
 * and fixed VMs, the metrics exporters, cache buckets, and the Secret Manager secrets agents read.
 * Every name is the live fleet's where it exists (the catalog's patterns), so that the adoption
 * matches it. Every inconsistency is collected, one line each naming the file, the queue (or
 * section) and the field: `gcpFleetProblems` lists them (the lint), `layoutGcpFleet` throws them
 * all at once (the program). The agent stacks on the clusters are `k8s/`'s.
 */
import { clusterOf, organizationOf, queueResourceName, queuesOf, type Catalog, type GceQueue, type Queue, type TpuQueue } from "../catalog";
import { ProblemsError } from "../lib/problems";
import { L4_ACCELERATOR, l4GpusOf, tpuShape } from "./accelerators";
import { agentServiceAccountId, indexedName } from "./names";
import { regionOfZone, type GcpSettings } from "./settings";
import type { ManagedCluster } from "../k8s/layout";

/** Kubernetes labels and taints that pin a GKE queue's job pods to its node pool. */
export const QUEUE_NODE_LABEL = "ci.vllm.ai/queue";
/** The label GKE puts on every node: the name of its node pool. */
export const GKE_NODE_POOL_LABEL = "cloud.google.com/gke-nodepool";
/** Region of the CI registry (and of the builders that push to it). */
export const REGISTRY_REGION = "us-central1";
/** Boot disk size when the catalog gives none. */
export const DEFAULT_DISK_GB = 100;
/** Boot image of builders when the catalog gives none. */
export const DEFAULT_BUILDER_IMAGE = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64";
/**
 * The untainted pool every Standard cluster with queue pools gets, for kube-dns, the agent-stack
 * controllers and the other system pods: the queue pools are tainted, so nothing else would run.
 */
export const SYSTEM_POOL = { suffix: "-system", machineType: "e2-standard-4", minNodes: 1, maxNodes: 3, diskGb: 100 } as const;

/** The secrets one organization's VM agents read, in its secrets project. */
export interface AgentSecrets {
    /** Project holding the secrets. */
    readonly project: string;
    /** Secret id of the agent token of the queue's Buildkite cluster. */
    readonly agentToken: string;
    readonly hfToken: string;
    readonly analyticsToken?: string;
}

/** Which account VMs run as: the project's default compute account (kept, with the reason), or one of ours. */
export type VmAccount = { readonly kind: "default"; readonly reason: string } | { readonly kind: "dedicated"; readonly accountId: string };

/** One L4 node pool: a GKE queue in one cluster. */
export interface L4PoolLayout {
    /** The catalog queue the pool serves. */
    readonly queue: string;
    /** Node pool name, the live one: `<cluster>-l4-<GPUs per node>`. */
    readonly name: string;
    readonly machineType: string;
    /** L4 GPUs per node (fixed by the machine type). */
    readonly gpus: number;
    readonly minNodes: number;
    readonly maxNodes: number;
    readonly diskGb: number;
}

/** A GKE cluster of the catalog and the pools it gets. */
export interface GkeClusterLayout {
    /** Key in the catalog's `gkeClusters`, also the cluster's name. */
    readonly key: string;
    readonly project: string;
    readonly network: string;
    readonly region: string;
    readonly zones: readonly string[];
    readonly autopilot: boolean;
    readonly pools: readonly L4PoolLayout[];
    /** The untainted pool for system pods and controllers (Standard clusters with queue pools). */
    readonly systemPool?: { readonly name: string; readonly machineType: string; readonly minNodes: number; readonly maxNodes: number; readonly diskGb: number };
    /** Set when the queue pools keep the project's default compute account: the catalog's reason. */
    readonly defaultNodeServiceAccount?: string;
}

/** One TPU VM of a group, with its data disk. */
export interface TpuVmLayout {
    readonly name: string;
    readonly index: number;
    readonly disk?: { readonly name: string; readonly type: string; readonly sizeGb: number };
}

/** What every group of VM agents has: where it runs and what its agents read. */
interface VmAgentsLayout {
    /** Component name: the queue's resource name (and project and zone, for groups of a queue). */
    readonly name: string;
    /** The queue's Buildkite organization. */
    readonly organization?: string;
    readonly project: string;
    readonly network: string;
    readonly region: string;
    readonly secrets: AgentSecrets;
    readonly githubApp?: GithubAppLayout;
}

/** The TPU VMs of one queue in one project and zone. */
export interface TpuGroupLayout extends VmAgentsLayout {
    readonly queue: TpuQueue;
    readonly zone: string;
    readonly acceleratorType: string;
    readonly runtimeVersion: string;
    /** Worker VMs per slice; more than one makes the slice multi-host. */
    readonly hosts: number;
    readonly reserved: boolean;
    readonly spot: boolean;
    readonly vms: readonly TpuVmLayout[];
    readonly account: VmAccount;
}

/** The GitHub App agents clone private repositories with. */
export interface GithubAppLayout {
    readonly appId: string;
    readonly installationId: string;
    readonly pemSecret: string;
}

/** The CPU builders of one `gce` queue in a regional managed instance group. */
export interface BuilderLayout extends VmAgentsLayout {
    readonly queue: GceQueue;
    readonly machineType: string;
    readonly diskGb: number;
    readonly diskType: string;
    readonly image: string;
    readonly preemptible: boolean;
    readonly minSize: number;
    readonly maxSize: number;
    readonly group: { readonly name: string; readonly baseInstanceName: string; readonly templatePrefix: string; readonly zones: readonly string[] };
    readonly serviceAccountId: string;
    /** The metric the autoscaler follows, when the group is not fixed-size (min < max). */
    readonly metric?: { readonly name: string; readonly filter: string };
}

/** Fixed CPU VMs of one `gce` queue in one zone. */
export interface FixedVmGroupLayout extends VmAgentsLayout {
    readonly queue: GceQueue;
    readonly zone: string;
    readonly machineType: string;
    readonly diskGb: number;
    readonly diskType: string;
    readonly image: string;
    readonly vms: readonly { readonly name: string; readonly address?: string }[];
    readonly account: VmAccount;
}

/** A buildkite-agent-metrics VM of one Buildkite cluster. */
export interface MetricsExporterLayout {
    /** The Buildkite cluster whose queues it measures. */
    readonly cluster: string;
    readonly organization: string;
    readonly project: string;
    readonly network: string;
    readonly zone: string;
    readonly region: string;
    readonly name: string;
    readonly machineType: string;
    readonly image: string;
    readonly version: string;
    /** The agent token it reads at boot. */
    readonly tokenSecret: { readonly project: string; readonly secretId: string };
}

/** A cache bucket and its Anywhere Caches. */
export interface CacheBucketLayout {
    readonly project: string;
    readonly name: string;
    readonly location: string;
    readonly deleteAfterDays: number;
    readonly anywhereCacheZones: readonly string[];
}

/** A Secret Manager secret the fleet declares (without value). */
export interface SecretLayout {
    readonly project: string;
    readonly secretId: string;
}

/** The whole GCP stack, laid out. */
export interface GcpFleetLayout {
    readonly gkeClusters: readonly GkeClusterLayout[];
    readonly tpuGroups: readonly TpuGroupLayout[];
    readonly builders: readonly BuilderLayout[];
    readonly fixedVms: readonly FixedVmGroupLayout[];
    readonly exporters: readonly MetricsExporterLayout[];
    readonly buckets: readonly CacheBucketLayout[];
    /** Secret Manager secrets VMs read (agent tokens, HF and analytics tokens), by project and id. */
    readonly secrets: readonly SecretLayout[];
    /**
     * Per project whose VMs run as its default compute account: the secrets that account reads
     * (granted once per project, whichever group needs them).
     */
    readonly defaultAccountSecrets: readonly { readonly project: string; readonly secrets: readonly SecretLayout[] }[];
    /** Projects that hold resources (each gets one provider). */
    readonly projects: readonly string[];
}

/** A GCP stack the catalog and settings cannot build: every problem, one line each. */
export class GcpLayoutError extends ProblemsError {
    constructor(problems: readonly string[]) {
        super(problems, "GcpLayoutError");
    }
}

/**
 * The Cloud Monitoring metric buildkite-agent-metrics (`-backend stackdriver`) publishes for a
 * queue's unfinished jobs (scheduled + running): `custom.googleapis.com/buildkite/<org>/<name>`,
 * the org slug's dashes made underscores, labelled `Queue` (and `Cluster`).
 */
export function queueJobsMetric(organization: string, queue: string): { name: string; filter: string } {
    return {
        name: `custom.googleapis.com/buildkite/${organization.replace(/-/g, "_")}/UnfinishedJobsCount`,
        filter: `resource.type = "global" AND metric.label.Queue = "${queue}"`,
    };
}

const key = (secret: SecretLayout) => `${secret.project}/${secret.secretId}`;

/** The layout and every problem found on the way (the layout is only usable when there is none). */
export function planGcpFleet(catalog: Catalog, settings: GcpSettings, stackFile: string): { layout: GcpFleetLayout; problems: string[] } {
    const problems: string[] = [];
    const fail = (message: string) => problems.push(`${catalog.file}: ${message}`);
    const useRegion = (region: string, where: string): string => {
        if (!settings.regions.includes(region)) fail(`${where}: region ${region} is not in ci:gcpRegions of ${stackFile} (${settings.regions.join(", ")})`);
        return region;
    };
    if (!settings.regions.includes(REGISTRY_REGION)) problems.push(`${stackFile}: config ci:gcpRegions: must include ${REGISTRY_REGION}, the CI registry's region`);
    const networkOf = (project: string) => catalog.gcpProjects[project]?.network ?? settings.network;

    // The secrets an organization's agents read, in its secrets project.
    const secretsOf = (queue: Queue, where: string): AgentSecrets => {
        const organization = organizationOf(catalog, queue);
        const org = organization !== undefined ? catalog.buildkiteOrganizations[organization] : undefined;
        const gcpSecrets = org?.gcpSecrets;
        if (!gcpSecrets) fail(`${where}: field cluster: organization ${organization ?? "(none)"} has no gcpSecrets: the agents could read no token`);
        return {
            project: gcpSecrets?.project ?? settings.project,
            agentToken: clusterOf(catalog, queue).gcpSecretId ?? "",
            hfToken: gcpSecrets?.hfToken ?? "",
            ...(gcpSecrets?.analyticsToken ? { analyticsToken: gcpSecrets.analyticsToken } : {}),
        };
    };
    const githubAppOf = (queue: Queue): GithubAppLayout | undefined => {
        const organization = organizationOf(catalog, queue);
        return organization !== undefined ? catalog.buildkiteOrganizations[organization]?.githubApp : undefined;
    };

    // GKE L4 pools, checked against the machine types' fixed GPU counts.
    const gkeQueues = queuesOf(catalog, "gke");
    const gpusOf = new Map<string, number>();
    for (const queue of gkeQueues) {
        const where = `queue "${queue.name}"`;
        const { machine } = queue;
        const gpus = l4GpusOf(machine.type);
        if (gpus === undefined) fail(`${where}: field machine.type: ${machine.type} is not a G2 (NVIDIA L4) machine type`);
        else if (machine.accelerator !== L4_ACCELERATOR) fail(`${where}: field machine.accelerator: GKE pools here are ${L4_ACCELERATOR}, not ${machine.accelerator ?? "none"}`);
        else if (machine.count !== gpus) fail(`${where}: field machine.count: ${machine.type} carries ${gpus} L4 GPUs, not ${machine.count ?? 0}`);
        gpusOf.set(queue.name, gpus ?? 0);
    }
    const gkeClusters = Object.entries(catalog.gkeClusters).map(([clusterKey, cluster]): GkeClusterLayout => {
        useRegion(cluster.region, `gkeClusters "${clusterKey}": field region`);
        for (const zone of cluster.zones) {
            if (regionOfZone(zone) !== cluster.region) fail(`gkeClusters "${clusterKey}": field zones: ${zone} is not in region ${cluster.region}`);
        }
        if (!cluster.autopilot && cluster.zones.length === 0) fail(`gkeClusters "${clusterKey}": field zones: a Standard cluster needs at least one zone`);
        const project = cluster.project ?? settings.project;
        const pools = gkeQueues
            .filter((queue) => queue.gke.clusters.includes(clusterKey))
            .map((queue) => ({
                queue: queue.name,
                name: `${clusterKey}-l4-${gpusOf.get(queue.name) ?? 0}`,
                machineType: queue.machine.type,
                gpus: gpusOf.get(queue.name) ?? 0,
                minNodes: queue.scale.min,
                maxNodes: queue.scale.max,
                diskGb: queue.machine.diskGb ?? DEFAULT_DISK_GB,
            }));
        const systemPool =
            !cluster.autopilot && pools.length > 0
                ? { name: `${clusterKey}${SYSTEM_POOL.suffix}`, machineType: SYSTEM_POOL.machineType, minNodes: SYSTEM_POOL.minNodes, maxNodes: SYSTEM_POOL.maxNodes, diskGb: SYSTEM_POOL.diskGb }
                : undefined;
        return {
            key: clusterKey,
            project,
            network: networkOf(project),
            region: cluster.region,
            zones: cluster.zones,
            autopilot: cluster.autopilot === true,
            pools,
            ...(systemPool ? { systemPool } : {}),
            ...(cluster.defaultNodeServiceAccount ? { defaultNodeServiceAccount: cluster.defaultNodeServiceAccount } : {}),
        };
    });

    const zoneRegion = (zone: string, where: string) => useRegion(regionOfZone(zone), where);

    const tpuGroups = queuesOf(catalog, "tpu").flatMap((queue) => {
        const where = `queue "${queue.name}"`;
        const { tpu } = queue;
        const shape = tpuShape(tpu.acceleratorType);
        if (!shape) fail(`${where}: field tpu.acceleratorType: unknown TPU type "${tpu.acceleratorType}" (known: v5litepod-N, v6e-N, tpu7x-N)`);
        // A TPU machine type's count is what its accelerator type's name counts (v7x: TensorCores,
        // 2 per chip); chips per slice come from tpuShape alone (the capacity view prices those).
        const declared = catalog.machineTypes[queue.machine.type]?.count;
        if (shape && declared !== undefined && declared !== shape.units) {
            const units = shape.units === shape.chips ? "chips" : `TensorCores = ${shape.chips} chips`;
            fail(`${where}: field machine.type: machineTypes "${queue.machine.type}" counts ${declared}, but tpu.acceleratorType ${tpu.acceleratorType} is ${shape.units} ${units} per slice (count is the number in the accelerator type's name)`);
        }
        const resourceName = queueResourceName(catalog, queue);
        const secrets = secretsOf(queue, where);
        return tpu.groups.map((group, groupIndex): TpuGroupLayout => {
            const at = `${where}: field tpu.groups[${groupIndex}]`;
            if (shape && group.dataDisk && !shape.diskTypes.includes(group.dataDisk.type)) {
                fail(`${at}.dataDisk.type: TPU ${shape.generation} attaches ${shape.diskTypes.join(" or ")}, not ${group.dataDisk.type}`);
            }
            if (group.reserved && group.spot) fail(`${at}.spot: a VM is either reserved or spot, not both`);
            if (group.count > 1 && !group.vmName.includes("{index}")) fail(`${at}.vmName: ${group.count} VMs need {index} in their name`);
            const first = group.firstIndex ?? 0;
            const vms = Array.from({ length: group.count }, (_, offset): TpuVmLayout => {
                const index = first + offset;
                const name = indexedName(group.vmName, index);
                const disk = group.dataDisk
                    ? { name: group.dataDisk.name ? indexedName(group.dataDisk.name, index) : `${name}-disk`, type: group.dataDisk.type, sizeGb: group.dataDisk.sizeGb }
                    : undefined;
                return { name, index, ...(disk ? { disk } : {}) };
            });
            const account: VmAccount = group.defaultServiceAccount
                ? { kind: "default", reason: group.defaultServiceAccount }
                : { kind: "dedicated", accountId: agentServiceAccountId(resourceName) };
            return {
                queue,
                name: `${resourceName}-${group.project}-${group.zone}`,
                organization: organizationOf(catalog, queue),
                project: group.project,
                network: networkOf(group.project),
                zone: group.zone,
                region: zoneRegion(group.zone, `${at}.zone`),
                acceleratorType: tpu.acceleratorType,
                runtimeVersion: tpu.runtimeVersion,
                hosts: shape?.hosts ?? 1,
                reserved: group.reserved === true,
                spot: group.spot === true,
                vms,
                account,
                secrets,
                ...(githubAppOf(queue) ? { githubApp: githubAppOf(queue) } : {}),
            };
        });
    });

    const builders: BuilderLayout[] = [];
    const fixedVms: FixedVmGroupLayout[] = [];
    for (const queue of queuesOf(catalog, "gce")) {
        const where = `queue "${queue.name}"`;
        const resourceName = queueResourceName(catalog, queue);
        const secrets = secretsOf(queue, where);
        const common = {
            queue,
            organization: organizationOf(catalog, queue),
            machineType: queue.machine.type,
            diskGb: queue.machine.diskGb ?? DEFAULT_DISK_GB,
            diskType: queue.gce.diskType ?? "pd-balanced",
            image: queue.gce.image ?? DEFAULT_BUILDER_IMAGE,
            ...(githubAppOf(queue) ? { githubApp: githubAppOf(queue) } : {}),
        };
        if (queue.gce.instances) {
            queue.gce.instances.forEach((group, index) => {
                const at = `${where}: field gce.instances[${index}]`;
                if (group.count > 1 && !group.name.includes("{index}")) fail(`${at}.name: ${group.count} VMs need {index} in their name`);
                if (queue.gce.image === undefined) fail(`${where}: field gce.image: fixed VMs need an exact image (changing a VM's image replaces it)`);
                fixedVms.push({
                    ...common,
                    name: `${resourceName}-${group.project}-${group.zone}`,
                    project: group.project,
                    network: networkOf(group.project),
                    zone: group.zone,
                    region: zoneRegion(group.zone, `${at}.zone`),
                    vms: Array.from({ length: group.count }, (_, i) => ({ name: indexedName(group.name, i), ...(group.address ? { address: indexedName(group.address, i) } : {}) })),
                    account: queue.gce.defaultServiceAccount
                        ? { kind: "default", reason: queue.gce.defaultServiceAccount }
                        : { kind: "dedicated", accountId: agentServiceAccountId(resourceName) },
                    secrets,
                });
            });
            continue;
        }
        const region = useRegion(queue.gce.region ?? "", `${where}: field gce.region`);
        const project = queue.gce.project ?? settings.project;
        const scale = queue.scale ?? { min: 0, max: 0 };
        const group = queue.gce.group ?? { name: `${resourceName.replace(/_/g, "-")}`, baseInstanceName: resourceName.replace(/_/g, "-"), templatePrefix: `${resourceName.replace(/_/g, "-")}-`, zones: [] };
        for (const zone of group.zones) if (regionOfZone(zone) !== region) fail(`${where}: field gce.group.zones: ${zone} is not in region ${region}`);
        let metric: BuilderLayout["metric"];
        if (scale.min < scale.max) {
            // Autoscaling follows the queue's metric, which only the cluster's exporter may publish.
            const exporter = clusterOf(catalog, queue).metricsExporter;
            if (!exporter) fail(`${where}: field scale: scale.min < scale.max needs a metrics exporter of Buildkite cluster "${queue.cluster}" (buildkiteClusters.${queue.cluster}.metricsExporter)`);
            else if (exporter.project !== project) fail(`${where}: field scale: the exporter of cluster "${queue.cluster}" publishes to ${exporter.project}, not the group's project ${project}`);
            metric = queueJobsMetric(organizationOf(catalog, queue) ?? "vllm", queue.name);
        }
        builders.push({
            ...common,
            name: resourceName,
            project,
            network: networkOf(project),
            region,
            preemptible: queue.gce.preemptible === true,
            minSize: scale.min,
            maxSize: scale.max,
            group,
            serviceAccountId: agentServiceAccountId(resourceName),
            secrets,
            ...(metric ? { metric } : {}),
        });
    }

    const exporters: MetricsExporterLayout[] = [];
    for (const [clusterKey, cluster] of Object.entries(catalog.buildkiteClusters)) {
        const exporter = cluster.metricsExporter;
        if (!exporter) continue;
        const organization = cluster.organization ?? Object.keys(catalog.buildkiteOrganizations).find((o) => catalog.buildkiteOrganizations[o].default) ?? "vllm";
        const secretsProject = catalog.buildkiteOrganizations[organization]?.gcpSecrets?.project;
        if (!cluster.gcpSecretId || !secretsProject) fail(`buildkiteClusters "${clusterKey}": field metricsExporter: the exporter reads the cluster's agent token: give gcpSecretId and the organization's gcpSecrets`);
        exporters.push({
            cluster: clusterKey,
            organization,
            project: exporter.project,
            network: networkOf(exporter.project),
            zone: exporter.zone,
            region: zoneRegion(exporter.zone, `buildkiteClusters "${clusterKey}": field metricsExporter.zone`),
            name: exporter.name,
            machineType: exporter.machineType,
            image: exporter.image,
            version: exporter.version,
            tokenSecret: { project: secretsProject ?? settings.project, secretId: cluster.gcpSecretId ?? "" },
        });
    }

    const buckets: CacheBucketLayout[] = Object.entries(catalog.gcpProjects).flatMap(([project, p]) =>
        (p.cacheBuckets ?? []).map((bucket) => ({
            project,
            name: bucket.name,
            location: bucket.location,
            deleteAfterDays: bucket.deleteAfterDays,
            anywhereCacheZones: bucket.anywhereCacheZones ?? [],
        })),
    );

    // The metric an autoscaled group follows must be the exporter's alone: no premerge agent of its
    // project may run as the default compute account, which can write any metric.
    for (const builder of builders.filter((b) => b.metric)) {
        const writers = [...tpuGroups, ...fixedVms].filter((g) => g.project === builder.project && g.account.kind === "default" && g.queue.stage === "premerge");
        for (const writer of writers) {
            fail(`queue "${builder.queue.name}": field scale: it scales on a metric of project ${builder.project}, where premerge queue "${writer.queue.name}" runs as the default compute account and could write it`);
        }
    }

    // Two queues must not collapse onto one service account, VM, disk or node pool name.
    const owners = new Map<string, string>();
    const claim = (name: string, owner: string, what: string) => {
        const other = owners.get(name);
        if (other && other !== owner) fail(`${owner}: its ${what} "${name.split("|").pop()}" collides with ${other}'s; rename one of them`);
        else owners.set(name, owner);
    };
    for (const group of tpuGroups) {
        const owner = `queue "${group.queue.name}"`;
        if (group.account.kind === "dedicated") claim(`sa|${group.project}|${group.account.accountId}`, `${owner} (${group.name})`, "service account");
        for (const vm of group.vms) {
            claim(`vm|${group.project}|${group.zone}|${vm.name}`, owner, "TPU VM name");
            if (vm.disk) claim(`disk|${group.project}|${group.zone}|${vm.disk.name}`, owner, "disk name");
        }
    }
    for (const builder of builders) claim(`sa|${builder.project}|${builder.serviceAccountId}`, `queue "${builder.queue.name}"`, "service account");
    for (const group of fixedVms) {
        for (const vm of group.vms) {
            claim(`instance|${group.project}|${group.zone}|${vm.name}`, `queue "${group.queue.name}"`, "VM name");
            if (vm.address) claim(`address|${group.project}|${group.region}|${vm.address}`, `queue "${group.queue.name}"`, "address name");
        }
    }
    for (const cluster of gkeClusters) for (const pool of cluster.pools) claim(`pool|${cluster.key}|${pool.name}`, `queue "${pool.queue}"`, "node pool name");

    // The secrets every VM agent reads, declared once per project and id.
    const secrets = new Map<string, SecretLayout>();
    const defaultAccounts = new Map<string, Map<string, SecretLayout>>();
    const need = (agent: { secrets: AgentSecrets; project: string; account?: VmAccount }) => {
        const ids = [agent.secrets.agentToken, agent.secrets.hfToken, agent.secrets.analyticsToken].filter((id): id is string => !!id);
        for (const secretId of ids) {
            const secret = { project: agent.secrets.project, secretId };
            secrets.set(key(secret), secret);
            if (agent.account?.kind === "default") {
                const grants = defaultAccounts.get(agent.project) ?? new Map<string, SecretLayout>();
                grants.set(key(secret), secret);
                defaultAccounts.set(agent.project, grants);
            }
        }
    };
    // The controllers' tokens are read from Secret Manager too (the Kubernetes Secrets are written from them).
    for (const queue of [...queuesOf(catalog, "gke"), ...queuesOf(catalog, "k8s")]) {
        const secret = agentTokenSecretOf(catalog, queue.cluster);
        if (secret) secrets.set(key(secret), secret);
    }
    tpuGroups.forEach(need);
    builders.forEach((builder) => need({ ...builder, account: undefined }));
    fixedVms.forEach(need);
    for (const exporter of exporters) {
        secrets.set(key(exporter.tokenSecret), exporter.tokenSecret);
        const grants = defaultAccounts.get(exporter.project) ?? new Map<string, SecretLayout>();
        grants.set(key(exporter.tokenSecret), exporter.tokenSecret);
        defaultAccounts.set(exporter.project, grants);
    }
    const bySecret = (a: SecretLayout, b: SecretLayout) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

    const projects = new Set<string>([settings.project, settings.usageStatsProject ?? settings.project]);
    for (const cluster of gkeClusters) projects.add(cluster.project);
    for (const item of [...tpuGroups, ...builders, ...fixedVms, ...exporters, ...buckets]) projects.add(item.project);
    for (const secret of secrets.values()) projects.add(secret.project);

    const layout: GcpFleetLayout = {
        gkeClusters,
        tpuGroups,
        builders,
        fixedVms,
        exporters,
        buckets,
        secrets: [...secrets.values()].sort(bySecret),
        defaultAccountSecrets: [...defaultAccounts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([project, grants]) => ({ project, secrets: [...grants.values()].sort(bySecret) })),
        projects: [...projects].sort(),
    };
    return { layout, problems };
}

/** Every problem of the catalog against the GCP stack's settings (empty when it can be built). */
export function gcpFleetProblems(catalog: Catalog, settings: GcpSettings, stackFile: string): string[] {
    return planGcpFleet(catalog, settings, stackFile).problems;
}

/** The GCP stack's layout; throws GcpLayoutError listing every problem. */
export function layoutGcpFleet(catalog: Catalog, settings: GcpSettings, stackFile: string): GcpFleetLayout {
    const { layout, problems } = planGcpFleet(catalog, settings, stackFile);
    if (problems.length > 0) throw new GcpLayoutError(problems);
    return layout;
}

/**
 * The GKE clusters with node pools of queues, as the agent stack's layout takes them
 * (`k8s/layout.ts`): each queue's pool, and where the controllers run (the system pool).
 */
export function gkeManagedClusters(layout: GcpFleetLayout): ManagedCluster[] {
    return layout.gkeClusters
        .filter((cluster) => cluster.pools.length > 0)
        .map((cluster) => ({
            name: cluster.key,
            pools: cluster.pools.map((pool) => ({ queue: pool.queue, pool: { labelKey: QUEUE_NODE_LABEL, gpus: pool.gpus } })),
            ...(cluster.systemPool ? { controllerNodeSelector: { [GKE_NODE_POOL_LABEL]: cluster.systemPool.name } } : {}),
        }));
}

/** Where a Buildkite cluster's agent token lives in Secret Manager: its id, in its organization's secrets project. */
export function agentTokenSecretOf(catalog: Catalog, clusterKey: string): SecretLayout | undefined {
    const cluster = catalog.buildkiteClusters[clusterKey];
    if (!cluster?.gcpSecretId) return undefined;
    const organization = cluster.organization ?? Object.keys(catalog.buildkiteOrganizations).find((o) => catalog.buildkiteOrganizations[o].default);
    const project = organization !== undefined ? catalog.buildkiteOrganizations[organization]?.gcpSecrets?.project : undefined;
    return project ? { project, secretId: cluster.gcpSecretId } : undefined;
}

/** The queues of the fleet the GCP stack serves (for outputs). */
export function gcpQueueNames(catalog: Catalog): string[] {
    return catalog.queues.filter((q) => ["gke", "tpu", "gce", "k8s"].includes(q.provider)).map((q) => queueResourceName(catalog, q));
}
