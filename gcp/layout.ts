/**
 * What the GCP stack builds, computed from the catalog and the stack settings without Pulumi:
 * GKE clusters and their L4 pools, TPU pools and their VMs, CPU builder groups, and the Secret
 * Manager secrets agents read. Every inconsistency is collected, one line each naming the file,
 * the queue (or cluster) and the field: `gcpFleetProblems` lists them (the lint), `layoutGcpFleet`
 * throws them all at once (the program). The agent stacks on the clusters are `k8s/`'s.
 */
import { clusterOf, queuesOf, type Catalog, type GceQueue, type TpuQueue } from "../catalog";
import { ProblemsError } from "../lib/problems";
import { L4_ACCELERATOR, l4GpusOf, tpuShape } from "./accelerators";
import { agentServiceAccountId, nodePoolName, tpuVmName } from "./names";
import { regionOfZone, type GcpSettings } from "./settings";
import type { ManagedCluster } from "../k8s/layout";

/** Kubernetes labels and taints that pin a GKE queue's job pods to its node pool. */
export const QUEUE_NODE_LABEL = "ci.vllm.ai/queue";
/** Region of the CI registry (and of the builders that push to it). */
export const REGISTRY_REGION = "us-central1";
/** Boot disk size when the catalog gives none. */
export const DEFAULT_DISK_GB = 100;

/** One L4 node pool: a GKE queue in one cluster. */
export interface L4PoolLayout {
    /** The catalog queue the pool serves. */
    readonly queue: string;
    /** Node pool name (also its Pulumi name suffix). */
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
    readonly region: string;
    readonly zones: readonly string[];
    readonly autopilot: boolean;
    readonly pools: readonly L4PoolLayout[];
}

/** The TPU VMs of one TPU queue. */
export interface TpuPoolLayout {
    readonly queue: TpuQueue;
    readonly project: string;
    readonly zone: string;
    readonly region: string;
    readonly acceleratorType: string;
    readonly runtimeVersion: string;
    /** Worker VMs per slice; more than one makes the slice multi-host. */
    readonly hosts: number;
    readonly reserved: boolean;
    readonly spot: boolean;
    readonly dataDisk?: { readonly type: string; readonly sizeGb: number };
    /** VM names, one per slice, stable per index. */
    readonly vmNames: readonly string[];
    readonly serviceAccountId: string;
    readonly agentTokenSecretId: string;
}

/** The CPU builders of one GCE queue. */
export interface BuilderLayout {
    readonly queue: GceQueue;
    readonly region: string;
    readonly machineType: string;
    readonly diskGb: number;
    readonly preemptible: boolean;
    readonly minSize: number;
    readonly maxSize: number;
    readonly serviceAccountId: string;
    readonly agentTokenSecretId: string;
}

/** The whole GCP stack, laid out. */
export interface GcpFleetLayout {
    readonly gkeClusters: readonly GkeClusterLayout[];
    readonly tpuPools: readonly TpuPoolLayout[];
    readonly builders: readonly BuilderLayout[];
    /** Secret Manager secret ids of the agent tokens the VMs read. */
    readonly agentTokenSecretIds: readonly string[];
    /** Projects that hold resources (each gets one provider). */
    readonly projects: readonly string[];
}

/** A GCP stack the catalog and settings cannot build: every problem, one line each. */
export class GcpLayoutError extends ProblemsError {
    constructor(problems: readonly string[]) {
        super(problems, "GcpLayoutError");
    }
}

const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

/** The layout and every problem found on the way (the layout is only usable when there is none). */
export function planGcpFleet(catalog: Catalog, settings: GcpSettings, stackFile: string): { layout: GcpFleetLayout; problems: string[] } {
    const problems: string[] = [];
    const fail = (message: string) => problems.push(`${catalog.file}: ${message}`);
    const useRegion = (region: string, where: string): string => {
        if (!settings.regions.includes(region)) fail(`${where}: region ${region} is not in ci:gcpRegions of ${stackFile} (${settings.regions.join(", ")})`);
        return region;
    };
    if (!settings.regions.includes(REGISTRY_REGION)) problems.push(`${stackFile}: config ci:gcpRegions: must include ${REGISTRY_REGION}, the CI registry's region`);

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
    const gkeClusters = Object.entries(catalog.gkeClusters).map(([key, cluster]): GkeClusterLayout => {
        useRegion(cluster.region, `gkeClusters "${key}": field region`);
        for (const zone of cluster.zones) {
            if (regionOfZone(zone) !== cluster.region) fail(`gkeClusters "${key}": field zones: ${zone} is not in region ${cluster.region}`);
        }
        if (!cluster.autopilot && cluster.zones.length === 0) fail(`gkeClusters "${key}": field zones: a Standard cluster needs at least one zone`);
        const served = gkeQueues.filter((queue) => queue.gke.clusters.includes(key));
        return {
            key,
            region: cluster.region,
            zones: cluster.zones,
            autopilot: cluster.autopilot === true,
            pools: served.map((queue) => ({
                queue: queue.name,
                name: nodePoolName(queue.name),
                machineType: queue.machine.type,
                gpus: gpusOf.get(queue.name) ?? 0,
                minNodes: queue.scale.min,
                maxNodes: queue.scale.max,
                diskGb: queue.machine.diskGb ?? DEFAULT_DISK_GB,
            })),
        };
    });

    const tpuPools = queuesOf(catalog, "tpu").map((queue): TpuPoolLayout => {
        const where = `queue "${queue.name}"`;
        const { tpu } = queue;
        const shape = tpuShape(tpu.acceleratorType);
        if (!shape) fail(`${where}: field tpu.acceleratorType: unknown TPU type "${tpu.acceleratorType}" (known: v5litepod-N, v6e-N, tpu7x-N)`);
        else if (tpu.dataDisk && !shape.diskTypes.includes(tpu.dataDisk.type)) {
            fail(`${where}: field tpu.dataDisk.type: TPU ${shape.generation} attaches ${shape.diskTypes.join(" or ")}, not ${tpu.dataDisk.type}`);
        }
        if (tpu.reserved && tpu.spot) fail(`${where}: field tpu.spot: a VM is either reserved or spot, not both`);
        if (!Number.isInteger(tpu.count) || tpu.count < 1) fail(`${where}: field tpu.count: must be a positive whole number, not ${tpu.count}`);
        const zoneValid = ZONE.test(tpu.zone);
        if (!zoneValid) fail(`${where}: field tpu.zone: "${tpu.zone}" is not a zone (like us-east5-b)`);
        const region = zoneValid ? useRegion(regionOfZone(tpu.zone), `${where}: field tpu.zone`) : regionOfZone(tpu.zone);
        return {
            queue,
            project: settings.tpuProject,
            zone: tpu.zone,
            region,
            acceleratorType: tpu.acceleratorType,
            runtimeVersion: tpu.runtimeVersion,
            hosts: shape?.hosts ?? 1,
            reserved: tpu.reserved === true,
            spot: tpu.spot === true,
            dataDisk: tpu.dataDisk,
            vmNames: Array.from({ length: Math.max(0, tpu.count) }, (_, index) => tpuVmName(queue.name, index)),
            serviceAccountId: agentServiceAccountId(queue.name),
            agentTokenSecretId: clusterOf(catalog, queue).gcpSecretId,
        };
    });

    const builders = queuesOf(catalog, "gce").map(
        (queue): BuilderLayout => ({
            queue,
            region: useRegion(queue.gce.region, `queue "${queue.name}": field gce.region`),
            machineType: queue.machine.type,
            diskGb: queue.machine.diskGb ?? DEFAULT_DISK_GB,
            preemptible: queue.gce.preemptible === true,
            minSize: queue.scale.min,
            maxSize: queue.scale.max,
            serviceAccountId: agentServiceAccountId(queue.name),
            agentTokenSecretId: clusterOf(catalog, queue).gcpSecretId,
        }),
    );

    // Two queues must not collapse onto one service account, VM or node pool name.
    const owners = new Map<string, string>();
    const claim = (name: string, queue: string, field: string) => {
        const owner = owners.get(name);
        if (owner && owner !== queue) fail(`queue "${queue}": field name: its ${field} "${name}" collides with queue "${owner}"'s; rename one of them`);
        else owners.set(name, queue);
    };
    for (const pool of tpuPools) {
        claim(`sa:${pool.serviceAccountId}`, pool.queue.name, "service account");
        pool.vmNames.forEach((vm) => claim(`vm:${vm}`, pool.queue.name, "TPU VM name"));
    }
    for (const builder of builders) claim(`sa:${builder.serviceAccountId}`, builder.queue.name, "service account");
    for (const cluster of gkeClusters) for (const pool of cluster.pools) claim(`pool:${cluster.key}/${pool.name}`, pool.queue, "node pool name");

    const vmQueues = [...tpuPools.map((p) => p.queue), ...builders.map((b) => b.queue)];
    const layout: GcpFleetLayout = {
        gkeClusters,
        tpuPools,
        builders,
        agentTokenSecretIds: [...new Set(vmQueues.map((queue) => clusterOf(catalog, queue).gcpSecretId))].sort(),
        projects: [...new Set([settings.project, ...tpuPools.map((pool) => pool.project)])].sort(),
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

/** The GKE clusters with node pools of queues, as the agent stack's layout takes them (`k8s/layout.ts`). */
export function gkeManagedClusters(layout: GcpFleetLayout): ManagedCluster[] {
    return layout.gkeClusters
        .filter((cluster) => cluster.pools.length > 0)
        .map((cluster) => ({ name: cluster.key, pools: cluster.pools.map((pool) => ({ queue: pool.queue, pool: { labelKey: QUEUE_NODE_LABEL, gpus: pool.gpus } })) }));
}
