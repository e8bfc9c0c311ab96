/**
 * What the GCP stack builds, computed from the catalog and the stack settings without Pulumi:
 * GKE clusters and their L4 pools, TPU pools and their VMs, CPU builder groups, agent-stack-k8s
 * installs, and the Secret Manager secrets agents read. Every inconsistency is one error line
 * naming the file, the queue (or cluster) and the field.
 */
import { CatalogError, clusterOf, queuesOf, type Catalog, type Queue } from "../catalog";
import { didYouMean } from "../lib/suggest";
import { L4_ACCELERATOR, l4GpusOf, tpuShape } from "./accelerators";
import { agentServiceAccountId, nodePoolName, tpuVmName } from "./names";
import type { AgentStackQueue } from "../k8s/values";
import { regionOfZone, SettingsError, type ExternalCluster, type GcpSettings } from "./settings";

/** Kubernetes labels and taints that pin a GKE queue's job pods to its node pool. */
export const QUEUE_NODE_LABEL = "ci.vllm.ai/queue";

/** One L4 node pool: a GKE queue in one cluster. */
export interface L4PoolLayout {
    queue: string;
    /** Node pool name (also its Pulumi name suffix). */
    name: string;
    machineType: string;
    gpus: number;
    minNodes: number;
    maxNodes: number;
    diskGb: number;
}

export interface GkeClusterLayout {
    key: string;
    region: string;
    zones: string[];
    autopilot: boolean;
    pools: L4PoolLayout[];
    agentQueues: AgentStackQueue[];
}

export interface TpuPoolLayout {
    queue: Queue;
    project: string;
    zone: string;
    region: string;
    acceleratorType: string;
    runtimeVersion: string;
    /** Worker VMs per slice; more than one makes the slice multi-host. */
    hosts: number;
    reserved: boolean;
    spot: boolean;
    dataDisk?: { type: string; sizeGb: number };
    /** VM names, one per slice, stable per index. */
    vmNames: string[];
    serviceAccountId: string;
    agentTokenSecretId: string;
}

export interface BuilderLayout {
    queue: Queue;
    region: string;
    machineType: string;
    diskGb: number;
    preemptible: boolean;
    minSize: number;
    maxSize: number;
    serviceAccountId: string;
    agentTokenSecretId: string;
}

export interface ExternalInstallLayout {
    cluster: ExternalCluster;
    agentQueues: AgentStackQueue[];
}

export interface GcpFleetLayout {
    gkeClusters: GkeClusterLayout[];
    tpuPools: TpuPoolLayout[];
    builders: BuilderLayout[];
    externalInstalls: ExternalInstallLayout[];
    /** Secret Manager secret ids of the agent tokens the VMs read. */
    agentTokenSecretIds: string[];
    /** Regions (per project) that hold resources. */
    regionsByProject: Record<string, string[]>;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Computes the GCP fleet; throws CatalogError (catalog problems) or SettingsError (stack config). */
export function layoutGcpFleet(catalog: Catalog, settings: GcpSettings, stackFile: string): GcpFleetLayout {
    const fail = (message: string): never => {
        throw new CatalogError(`${catalog.file}: ${message}`);
    };
    const regionsByProject: Record<string, Set<string>> = {};
    const useRegion = (project: string, region: string, where: string): string => {
        if (!settings.regions.includes(region)) {
            fail(`${where}: region ${region} is not in ci:gcpRegions of ${stackFile} (${settings.regions.join(", ")})`);
        }
        (regionsByProject[project] ??= new Set()).add(region);
        return region;
    };
    const k8sSecretName = (queue: Queue): string => {
        const secret = clusterOf(catalog, queue).gcpSecretId;
        if (!DNS_SUBDOMAIN.test(secret)) {
            fail(`buildkiteClusters "${queue.cluster}": field gcpSecretId: "${secret}" must also be a Kubernetes Secret name (lowercase letters, digits, -)`);
        }
        return secret;
    };

    // GKE L4 pools, checked against the machine types' fixed GPU counts.
    const gkeQueues = queuesOf(catalog, "gke");
    for (const queue of gkeQueues) {
        const where = `queue "${queue.name}"`;
        const machine = queue.machine!;
        const gpus = l4GpusOf(machine.type);
        if (gpus === undefined) fail(`${where}: field machine.type: ${machine.type} is not a G2 (NVIDIA L4) machine type`);
        if (machine.accelerator !== L4_ACCELERATOR) fail(`${where}: field machine.accelerator: GKE pools here are ${L4_ACCELERATOR}, not ${machine.accelerator ?? "none"}`);
        if (machine.count !== gpus) fail(`${where}: field machine.count: ${machine.type} carries ${gpus} L4 GPUs, not ${machine.count ?? 0}`);
    }
    const gkeClusters = Object.entries(catalog.gkeClusters).map(([key, cluster]): GkeClusterLayout => {
        useRegion(settings.project, cluster.region, `gkeClusters "${key}": field region`);
        for (const zone of cluster.zones) {
            if (regionOfZone(zone) !== cluster.region) fail(`gkeClusters "${key}": field zones: ${zone} is not in region ${cluster.region}`);
        }
        if (!cluster.autopilot && cluster.zones.length === 0) fail(`gkeClusters "${key}": field zones: a Standard cluster needs at least one zone`);
        const served = gkeQueues.filter((queue) => queue.gke!.clusters.includes(key));
        return {
            key,
            region: cluster.region,
            zones: cluster.zones,
            autopilot: cluster.autopilot === true,
            pools: served.map((queue) => ({
                queue: queue.name,
                name: nodePoolName(queue.name),
                machineType: queue.machine!.type,
                gpus: queue.machine!.count!,
                minNodes: queue.scale!.min,
                maxNodes: queue.scale!.max,
                diskGb: queue.machine!.diskGb ?? 100,
            })),
            agentQueues: served.map((queue) => ({
                name: queue.name,
                agentTokenSecret: k8sSecretName(queue),
                maxInFlight: queue.scale!.max,
                dedicatedPool: { labelKey: QUEUE_NODE_LABEL, gpus: queue.machine!.count! },
            })),
        };
    });

    const tpuPools = queuesOf(catalog, "tpu").map((queue): TpuPoolLayout => {
        const where = `queue "${queue.name}"`;
        const tpu = queue.tpu!;
        const shape = tpuShape(tpu.acceleratorType);
        if (!shape) fail(`${where}: field tpu.acceleratorType: unknown TPU type "${tpu.acceleratorType}" (known: v5litepod-N, v6e-N, tpu7x-N)`);
        if (tpu.dataDisk && !shape!.diskTypes.includes(tpu.dataDisk.type)) {
            fail(`${where}: field tpu.dataDisk.type: TPU ${shape!.generation} attaches ${shape!.diskTypes.join(" or ")}, not ${tpu.dataDisk.type}`);
        }
        if (tpu.reserved && tpu.spot) fail(`${where}: field tpu.spot: a VM is either reserved or spot, not both`);
        if (!Number.isInteger(tpu.count) || tpu.count < 1) fail(`${where}: field tpu.count: must be a positive whole number, not ${tpu.count}`);
        if (!/^[a-z]+-[a-z]+[0-9]+-[a-z]$/.test(tpu.zone)) fail(`${where}: field tpu.zone: "${tpu.zone}" is not a zone (like us-east5-b)`);
        const region = useRegion(settings.tpuProject, regionOfZone(tpu.zone), `${where}: field tpu.zone`);
        return {
            queue,
            project: settings.tpuProject,
            zone: tpu.zone,
            region,
            acceleratorType: tpu.acceleratorType,
            runtimeVersion: tpu.runtimeVersion,
            hosts: shape!.hosts,
            reserved: tpu.reserved === true,
            spot: tpu.spot === true,
            dataDisk: tpu.dataDisk,
            vmNames: Array.from({ length: tpu.count }, (_, index) => tpuVmName(queue.name, index)),
            serviceAccountId: agentServiceAccountId(queue.name),
            agentTokenSecretId: clusterOf(catalog, queue).gcpSecretId,
        };
    });

    const builders = queuesOf(catalog, "gce").map((queue): BuilderLayout => {
        const region = useRegion(settings.project, queue.gce!.region, `queue "${queue.name}": field gce.region`);
        return {
            queue,
            region,
            machineType: queue.machine!.type,
            diskGb: queue.machine!.diskGb ?? 100,
            preemptible: queue.gce!.preemptible === true,
            minSize: queue.scale!.min,
            maxSize: queue.scale!.max,
            serviceAccountId: agentServiceAccountId(queue.name),
            agentTokenSecretId: clusterOf(catalog, queue).gcpSecretId,
        };
    });

    const externalInstalls = layoutExternalInstalls(catalog, settings, stackFile, k8sSecretName);

    // Two queues must not collapse onto one service account, VM or node pool name.
    const owners = new Map<string, string>();
    const claim = (name: string, queue: string, field: string) => {
        const owner = owners.get(name);
        if (owner && owner !== queue) fail(`queue "${queue}": field name: its ${field} "${name}" collides with queue "${owner}"'s; rename one of them`);
        owners.set(name, queue);
    };
    for (const pool of tpuPools) {
        claim(`sa:${pool.serviceAccountId}`, pool.queue.name, "service account");
        pool.vmNames.forEach((vm) => claim(`vm:${vm}`, pool.queue.name, "TPU VM name"));
    }
    for (const builder of builders) claim(`sa:${builder.serviceAccountId}`, builder.queue.name, "service account");
    for (const cluster of gkeClusters) for (const pool of cluster.pools) claim(`pool:${cluster.key}/${pool.name}`, pool.queue, "node pool name");

    const vmQueues = [...tpuPools.map((p) => p.queue), ...builders.map((b) => b.queue)];
    return {
        gkeClusters,
        tpuPools,
        builders,
        externalInstalls,
        agentTokenSecretIds: [...new Set(vmQueues.map((queue) => clusterOf(catalog, queue).gcpSecretId))].sort(),
        regionsByProject: Object.fromEntries(Object.entries(regionsByProject).map(([project, regions]) => [project, [...regions].sort()])),
    };
}

/**
 * Joins the catalog's k8s queues with the stack's external clusters: every cluster a queue names
 * must be listed (a queue never silently loses its controller), and every listed cluster must
 * serve some queue (a kubeconfig for nothing is a stale entry).
 */
function layoutExternalInstalls(
    catalog: Catalog,
    settings: GcpSettings,
    stackFile: string,
    k8sSecretName: (queue: Queue) => string,
): ExternalInstallLayout[] {
    const k8sQueues = queuesOf(catalog, "k8s");
    const clusterNames = settings.externalClusters.map((cluster) => cluster.name);
    for (const queue of k8sQueues) {
        const cluster = queue.k8s!.cluster;
        if (catalog.gkeClusters[cluster]) {
            throw new CatalogError(`${catalog.file}: queue "${queue.name}": field k8s.cluster: "${cluster}" is a GKE cluster; serve it with provider gke`);
        }
        if (!clusterNames.includes(cluster)) {
            throw new CatalogError(
                `${catalog.file}: queue "${queue.name}": field k8s.cluster: cluster "${cluster}" is not in ci:externalClusters of ${stackFile}${didYouMean(cluster, clusterNames)}`,
            );
        }
    }
    return settings.externalClusters.map((cluster, index) => {
        const served = k8sQueues.filter((queue) => queue.k8s!.cluster === cluster.name);
        if (served.length === 0) {
            throw new SettingsError(`${stackFile}: config ci:externalClusters[${index}]: cluster "${cluster.name}" serves no queue of ${catalog.file} (no k8s.cluster names it)`);
        }
        return {
            cluster,
            agentQueues: served.map((queue) => ({ name: queue.name, agentTokenSecret: k8sSecretName(queue), maxInFlight: queue.scale?.max })),
        };
    });
}
