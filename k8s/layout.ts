/**
 * Where the agent stack is installed and which queues each install serves, from the catalog, the
 * agent stack's settings and the clusters the clouds create, without Pulumi. `fleet.ts` wires the
 * installs onto the clusters; every problem is collected (`agentStackProblems` for the lint,
 * `layoutAgentStacks` throws them all).
 */
import { clusterOf, queuesOf, type Catalog, type Queue } from "../catalog";
import { ProblemsError } from "../lib/problems";
import { didYouMean } from "../lib/suggest";
import type { ExternalCluster, K8sSettings } from "./settings";
import { releaseNameProblem, type AgentStackQueue, type ControllerPlacement, type DedicatedPool } from "./values";

/** A cluster a cloud creates, with the node pools dedicated to queues (GKE today, EKS tomorrow). */
export interface ManagedCluster {
    /** The cluster's name (its agent stack is `agent-stack-<name>`). */
    readonly name: string;
    /** The queues with a node pool of their own on this cluster. */
    readonly pools: readonly { readonly queue: string; readonly pool: DedicatedPool }[];
    /** Labels of the untainted nodes the controllers must run on (the queue pools are tainted). */
    readonly controllerNodeSelector?: Readonly<Record<string, string>>;
}

/** One install of the agent stack: a cluster, its namespace and the queues it serves. */
export interface AgentStackInstall {
    /** The cluster's name. */
    readonly cluster: string;
    readonly namespace: string;
    readonly queues: readonly AgentStackQueue[];
    /** Where the controllers run (a managed cluster's system pool; external clusters: anywhere). */
    readonly placement: ControllerPlacement;
    /** Set for clusters this program does not create (reached through their kubeconfig). */
    readonly external?: ExternalCluster;
}

/** Kubernetes Secret names are DNS subdomains; the agent token's Secret is named after the GCP secret id. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Agent stacks that cannot be laid out: every problem, one line each. */
export class AgentStackLayoutError extends ProblemsError {
    constructor(problems: readonly string[]) {
        super(problems, "AgentStackLayoutError");
    }
}

/** The installs and every problem found on the way. */
export function planAgentStacks(
    catalog: Catalog,
    settings: K8sSettings,
    stackFile: string,
    managed: readonly ManagedCluster[],
): { installs: AgentStackInstall[]; problems: string[] } {
    const problems: string[] = [];
    const badSecrets = new Set<string>();
    const agentQueue = (queue: Queue, cluster: string, pool?: DedicatedPool): AgentStackQueue => {
        const buildkiteCluster = clusterOf(catalog, queue);
        const secret = buildkiteCluster.kubernetesSecret ?? buildkiteCluster.gcpSecretId ?? "";
        if (!DNS_SUBDOMAIN.test(secret) && !badSecrets.has(secret)) {
            badSecrets.add(secret);
            const field = buildkiteCluster.kubernetesSecret ? "kubernetesSecret" : "gcpSecretId";
            problems.push(`${catalog.file}: buildkiteClusters "${queue.cluster}": field ${field}: "${secret}" must also be a Kubernetes Secret name (lowercase letters, digits, -); set kubernetesSecret`);
        }
        const tooLong = releaseNameProblem(queue.name, cluster);
        if (tooLong) problems.push(`${catalog.file}: ${tooLong}`);
        return {
            name: queue.name,
            agentTokenSecret: secret,
            buildkiteCluster: queue.cluster ?? "",
            maxInFlight: "scale" in queue ? queue.scale?.max : undefined,
            ...(pool ? { dedicatedPool: pool } : {}),
        };
    };
    const byName = new Map(catalog.queues.map((queue) => [queue.name, queue]));
    const installs: AgentStackInstall[] = [];
    for (const cluster of managed) {
        if (cluster.pools.length === 0) continue;
        const queues = cluster.pools.flatMap(({ queue, pool }) => {
            const found = byName.get(queue);
            return found ? [agentQueue(found, cluster.name, pool)] : [];
        });
        const placement = cluster.controllerNodeSelector ? { nodeSelector: cluster.controllerNodeSelector } : {};
        installs.push({ cluster: cluster.name, namespace: settings.agentStackNamespace, queues, placement });
    }

    // Every cluster a queue names must be listed (a queue never silently loses its controller), and
    // every listed cluster must serve some queue (a kubeconfig for nothing is a stale entry).
    const k8sQueues = queuesOf(catalog, "k8s");
    const listed = settings.externalClusters.map((cluster) => cluster.name);
    const managedNames = new Set(managed.map((cluster) => cluster.name));
    for (const queue of k8sQueues) {
        const cluster = queue.k8s.cluster;
        if (catalog.gkeClusters[cluster] || managedNames.has(cluster)) {
            problems.push(`${catalog.file}: queue "${queue.name}": field k8s.cluster: "${cluster}" is a GKE cluster; serve it with provider gke`);
        } else if (!listed.includes(cluster)) {
            problems.push(`${catalog.file}: queue "${queue.name}": field k8s.cluster: cluster "${cluster}" is not in ci:externalClusters of ${stackFile}${didYouMean(cluster, listed)}`);
        }
    }
    settings.externalClusters.forEach((cluster, index) => {
        const served = k8sQueues.filter((queue) => queue.k8s.cluster === cluster.name);
        if (served.length === 0) {
            problems.push(`${stackFile}: config ci:externalClusters[${index}]: cluster "${cluster.name}" serves no queue of ${catalog.file} (no k8s.cluster names it)`);
            return;
        }
        installs.push({ cluster: cluster.name, namespace: cluster.namespace, queues: served.map((queue) => agentQueue(queue, cluster.name)), placement: {}, external: cluster });
    });
    settings.legacyAgentStackReleases.forEach((cluster, index) => {
        if (!installs.some((install) => install.cluster === cluster)) {
            problems.push(`${stackFile}: config ci:legacyAgentStackReleases[${index}]: cluster "${cluster}" runs no agent stack of this program${didYouMean(cluster, installs.map((i) => i.cluster))}`);
        }
    });
    return { installs, problems };
}

/** Every problem of the agent stacks (empty when they can be installed). */
export function agentStackProblems(catalog: Catalog, settings: K8sSettings, stackFile: string, managed: readonly ManagedCluster[]): string[] {
    return planAgentStacks(catalog, settings, stackFile, managed).problems;
}

/** The installs; throws AgentStackLayoutError listing every problem. */
export function layoutAgentStacks(catalog: Catalog, settings: K8sSettings, stackFile: string, managed: readonly ManagedCluster[]): AgentStackInstall[] {
    const { installs, problems } = planAgentStacks(catalog, settings, stackFile, managed);
    if (problems.length > 0) throw new AgentStackLayoutError(problems);
    return installs;
}
