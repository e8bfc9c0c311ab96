/**
 * GkeCiCluster: a GKE cluster of the fleet. Standard clusters have no default node pool, one
 * NVIDIA L4 node pool per GKE queue (tainted for that queue) and an untainted system pool for
 * kube-dns and the agent-stack controllers; the Autopilot cluster has no pools of ours. Exposes a
 * Kubernetes provider built from the cluster's endpoint and CA.
 *
 * The clusters and pools exist (upstream's `terraform/gcp`): every argument GKE cannot change in
 * place (node service account, OAuth scopes, metadata, accelerators, preemptibility, shielded
 * nodes, networking) keeps its live value, so that the adoption replaces no cluster or pool.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as kubernetes from "@pulumi/kubernetes";
import { L4_ACCELERATOR } from "./accelerators";
import { gkeKubeconfig } from "./kubeconfig";
import { labelValue } from "./names";
import { QUEUE_NODE_LABEL, type GkeClusterLayout, type L4PoolLayout } from "./layout";

const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** The OAuth scopes the live pools have (GKE's defaults); changing them replaces a pool. */
export const LIVE_POOL_OAUTH_SCOPES = [
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/trace.append",
    "https://www.googleapis.com/auth/service.management.readonly",
    "https://www.googleapis.com/auth/servicecontrol",
] as const;

export interface GkeCiClusterArgs {
    /** The cluster and its pools, from the catalog (`layoutGcpFleet`). */
    readonly layout: GkeClusterLayout;
    /** Least-privilege service account of the nodes the program creates (and of every pool of a cluster that keeps none). */
    readonly nodeServiceAccount: pulumi.Input<string>;
}

/** What a queue pool's nodes run as: the live default account and its node config, or ours. */
interface NodeIdentity {
    readonly serviceAccount?: pulumi.Input<string>;
    readonly oauthScopes: string[];
    readonly metadata: Record<string, string>;
    readonly tags: string[];
    readonly labels: Record<string, string>;
}

function nodeIdentity(layout: Pick<GkeClusterLayout, "project" | "defaultNodeServiceAccount">, nodeServiceAccount: pulumi.Input<string>): NodeIdentity {
    if (layout.defaultNodeServiceAccount) {
        // As live (terraform/gcp): the default compute account, GKE's default scopes, the metadata
        // and tags Terraform gave the nodes. All four replace the pool when changed.
        return {
            oauthScopes: [...LIVE_POOL_OAUTH_SCOPES],
            metadata: { "disable-legacy-endpoints": "true", startup_script: "" },
            tags: ["gke-node", `${layout.project}-gke`],
            labels: { env: layout.project },
        };
    }
    return { serviceAccount: nodeServiceAccount, oauthScopes: [CLOUD_PLATFORM_SCOPE], metadata: { "disable-legacy-endpoints": "true" }, tags: [], labels: {} };
}

/** Where a pool is and how it scales, for any pool of a cluster. */
function poolPlacement(
    cluster: pulumi.Input<string>,
    layout: Pick<GkeClusterLayout, "project" | "region" | "zones">,
    pool: { readonly name: string; readonly minNodes: number; readonly maxNodes: number },
    locationPolicy: "ANY" | "BALANCED",
) {
    return {
        name: pool.name,
        project: layout.project,
        cluster,
        location: layout.region,
        nodeLocations: [...layout.zones],
        autoscaling: { totalMinNodeCount: pool.minNodes, totalMaxNodeCount: pool.maxNodes, locationPolicy },
        management: { autoRepair: true, autoUpgrade: true },
    };
}

/** The node pool arguments of one L4 pool (pure, so tests read them without mocks). */
export function l4NodePoolArgs(
    cluster: pulumi.Input<string>,
    layout: Pick<GkeClusterLayout, "project" | "region" | "zones" | "defaultNodeServiceAccount">,
    pool: L4PoolLayout,
    nodeServiceAccount: pulumi.Input<string>,
): gcp.container.NodePoolArgs {
    const identity = nodeIdentity(layout, nodeServiceAccount);
    return {
        ...poolPlacement(cluster, layout, pool, "ANY"),
        // L4 capacity is scarce: replace nodes one at a time instead of asking for surge GPUs.
        upgradeSettings: { strategy: "SURGE", maxSurge: 0, maxUnavailable: 1 },
        nodeConfig: {
            machineType: pool.machineType,
            guestAccelerators: [{ type: L4_ACCELERATOR, count: pool.gpus, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }],
            imageType: "COS_CONTAINERD",
            diskSizeGb: pool.diskGb,
            diskType: "pd-balanced",
            preemptible: false,
            ...(identity.serviceAccount ? { serviceAccount: identity.serviceAccount } : {}),
            oauthScopes: identity.oauthScopes,
            metadata: identity.metadata,
            ...(identity.tags.length > 0 ? { tags: identity.tags } : {}),
            // Job pods cannot borrow the node's account through the metadata server.
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            labels: { ...identity.labels, [QUEUE_NODE_LABEL]: pool.queue },
            // Only the queue's job pods land here, so nothing else keeps an expensive node up.
            taints: [{ key: QUEUE_NODE_LABEL, value: pool.queue, effect: "NO_SCHEDULE" }],
            resourceLabels: { "ci-queue": labelValue(pool.queue) },
        },
    };
}

/** The system pool's arguments: small, untainted, on the fleet's own node account. */
export function systemNodePoolArgs(
    cluster: pulumi.Input<string>,
    layout: Pick<GkeClusterLayout, "project" | "region" | "zones" | "systemPool">,
    nodeServiceAccount: pulumi.Input<string>,
): gcp.container.NodePoolArgs {
    const pool = layout.systemPool!;
    return {
        ...poolPlacement(cluster, layout, pool, "BALANCED"),
        nodeConfig: {
            machineType: pool.machineType,
            imageType: "COS_CONTAINERD",
            diskSizeGb: pool.diskGb,
            diskType: "pd-balanced",
            serviceAccount: nodeServiceAccount,
            oauthScopes: [CLOUD_PLATFORM_SCOPE],
            metadata: { "disable-legacy-endpoints": "true" },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            labels: { "ci.vllm.ai/role": "system" },
            resourceLabels: { "ci-role": "system" },
        },
    };
}

/**
 * A GKE cluster of the fleet with its L4 node pools, its system pool, and a Kubernetes provider
 * for it when it has pools (the agent stack is installed through it, from `fleet.ts`). Pass the
 * project's provider in `opts.provider`.
 */
export class GkeCiCluster extends pulumi.ComponentResource {
    /** The cluster. */
    public readonly cluster: gcp.container.Cluster;
    /** Its queue node pools, by queue. */
    public readonly nodePools: Record<string, gcp.container.NodePool> = {};
    /** The untainted pool of system pods and controllers. */
    public readonly systemPool?: gcp.container.NodePool;
    public readonly clusterName: pulumi.Output<string>;
    public readonly endpoint: pulumi.Output<string>;
    /** Kubernetes provider of this cluster; only clusters with pools (queues to serve) get one. */
    public readonly kubeProvider?: kubernetes.Provider;

    constructor(name: string, args: GkeCiClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:GkeCiCluster", name, {}, opts);
        const { layout } = args;
        const common = {
            name: layout.key,
            project: layout.project,
            location: layout.region,
            network: layout.network,
            // A mistaken delete of a cluster takes every queue on it down.
            deletionProtection: true,
        };
        const cluster = layout.autopilot
            ? new gcp.container.Cluster(name, { ...common, enableAutopilot: true }, { parent: this })
            : new gcp.container.Cluster(
                  name,
                  {
                      ...common,
                      nodeLocations: [...layout.zones],
                      removeDefaultNodePool: true,
                      initialNodeCount: 1,
                      // Job pods use no cloud identity of their own; GKE_METADATA on the pools hides the nodes'.
                      workloadIdentityConfig: { workloadPool: `${layout.project}.svc.id.goog` },
                  },
                  // The default pool is created and removed once; its settings never change again.
                  { parent: this, ignoreChanges: ["nodeConfig", "initialNodeCount", "removeDefaultNodePool"] },
              );
        this.cluster = cluster;
        this.clusterName = cluster.name;
        this.endpoint = cluster.endpoint;

        if (layout.systemPool) {
            this.systemPool = new gcp.container.NodePool(`${name}-system`, systemNodePoolArgs(cluster.name, layout, args.nodeServiceAccount), { parent: this });
        }
        for (const pool of layout.pools) {
            this.nodePools[pool.queue] = new gcp.container.NodePool(pool.name, l4NodePoolArgs(cluster.name, layout, pool, args.nodeServiceAccount), {
                parent: this,
                // Node pool names are fixed (the live ones): a replaced pool must go first.
                deleteBeforeReplace: true,
            });
        }

        if (layout.pools.length > 0) {
            this.kubeProvider = new kubernetes.Provider(
                `${name}-k8s`,
                {
                    kubeconfig: pulumi
                        .all([cluster.name, cluster.endpoint, cluster.masterAuth])
                        .apply(([clusterName, endpoint, auth]) => gkeKubeconfig(clusterName, endpoint, auth.clusterCaCertificate ?? "")),
                },
                // The agent stack waits for the pool its controllers run on.
                { parent: this, dependsOn: this.systemPool ? [this.systemPool] : [] },
            );
        }
        this.registerOutputs({ clusterName: this.clusterName, endpoint: this.endpoint });
    }
}
