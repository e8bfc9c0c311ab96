/**
 * GkeCiCluster: a GKE cluster of the fleet. Standard clusters are created without their default
 * node pool and get one NVIDIA L4 node pool per GKE queue; the Autopilot cluster has no pools of
 * ours. Exposes a Kubernetes provider built from the cluster's endpoint and CA.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as kubernetes from "@pulumi/kubernetes";
import { L4_ACCELERATOR } from "./accelerators";
import { gkeKubeconfig } from "./kubeconfig";
import { labelValue } from "./names";
import { QUEUE_NODE_LABEL, type GkeClusterLayout, type L4PoolLayout } from "./layout";

const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

export interface GkeCiClusterArgs {
    /** Project of the cluster. */
    readonly project: string;
    /** The cluster and its pools, from the catalog (`layoutGcpFleet`). */
    readonly layout: GkeClusterLayout;
    /** VPC network of the cluster. */
    readonly network: string;
    /** Least-privilege service account of the nodes (never the default compute account). */
    readonly nodeServiceAccount: pulumi.Input<string>;
}

/** The node pool arguments of one L4 pool (pure, so tests read them without mocks). */
export function l4NodePoolArgs(
    project: string,
    cluster: pulumi.Input<string>,
    layout: Pick<GkeClusterLayout, "region" | "zones">,
    pool: L4PoolLayout,
    nodeServiceAccount: pulumi.Input<string>,
): gcp.container.NodePoolArgs {
    return {
        name: pool.name,
        project,
        cluster,
        location: layout.region,
        nodeLocations: [...layout.zones],
        autoscaling: { totalMinNodeCount: pool.minNodes, totalMaxNodeCount: pool.maxNodes, locationPolicy: "ANY" },
        management: { autoRepair: true, autoUpgrade: true },
        // L4 capacity is scarce: replace nodes one at a time instead of asking for surge GPUs.
        upgradeSettings: { strategy: "SURGE", maxSurge: 0, maxUnavailable: 1 },
        nodeConfig: {
            machineType: pool.machineType,
            guestAccelerators: [{ type: L4_ACCELERATOR, count: pool.gpus, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }],
            imageType: "COS_CONTAINERD",
            diskSizeGb: pool.diskGb,
            diskType: "pd-balanced",
            serviceAccount: nodeServiceAccount,
            oauthScopes: [CLOUD_PLATFORM_SCOPE],
            metadata: { "disable-legacy-endpoints": "true" },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            labels: { [QUEUE_NODE_LABEL]: pool.queue },
            taints: [{ key: QUEUE_NODE_LABEL, value: pool.queue, effect: "NO_SCHEDULE" }],
            resourceLabels: { "ci-queue": labelValue(pool.queue) },
        },
    };
}

/**
 * A GKE cluster of the fleet with its L4 node pools, and a Kubernetes provider for it when it has
 * pools (the agent stack is installed through it, from `fleet.ts`). Pass the project's provider in
 * `opts.provider`.
 */
export class GkeCiCluster extends pulumi.ComponentResource {
    /** The cluster. */
    public readonly cluster: gcp.container.Cluster;
    /** Its node pools, by queue. */
    public readonly nodePools: Record<string, gcp.container.NodePool> = {};
    public readonly clusterName: pulumi.Output<string>;
    public readonly endpoint: pulumi.Output<string>;
    /** Kubernetes provider of this cluster; only clusters with pools (queues to serve) get one. */
    public readonly kubeProvider?: kubernetes.Provider;

    constructor(name: string, args: GkeCiClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:GkeCiCluster", name, {}, opts);
        const { layout } = args;
        const common = {
            name: layout.key,
            project: args.project,
            location: layout.region,
            network: args.network,
            releaseChannel: { channel: "REGULAR" },
            // VPC-native networking, ranges chosen by GKE.
            ipAllocationPolicy: {},
            deletionProtection: true,
        };
        const cluster = layout.autopilot
            ? new gcp.container.Cluster(
                  name,
                  {
                      ...common,
                      enableAutopilot: true,
                      clusterAutoscaling: { autoProvisioningDefaults: { serviceAccount: args.nodeServiceAccount, oauthScopes: [CLOUD_PLATFORM_SCOPE] } },
                  },
                  { parent: this },
              )
            : new gcp.container.Cluster(
                  name,
                  {
                      ...common,
                      nodeLocations: [...layout.zones],
                      removeDefaultNodePool: true,
                      initialNodeCount: 1,
                      // The short-lived default pool also runs as the least-privilege account.
                      nodeConfig: {
                          serviceAccount: args.nodeServiceAccount,
                          oauthScopes: [CLOUD_PLATFORM_SCOPE],
                          metadata: { "disable-legacy-endpoints": "true" },
                      },
                      workloadIdentityConfig: { workloadPool: `${args.project}.svc.id.goog` },
                      enableShieldedNodes: true,
                  },
                  { parent: this, ignoreChanges: ["nodeConfig", "initialNodeCount"] },
              );
        this.cluster = cluster;
        this.clusterName = cluster.name;
        this.endpoint = cluster.endpoint;

        for (const pool of layout.pools) {
            this.nodePools[pool.queue] = new gcp.container.NodePool(`${name}-${pool.name}`, l4NodePoolArgs(args.project, cluster.name, layout, pool, args.nodeServiceAccount), {
                parent: this,
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
                { parent: this },
            );
        }
        this.registerOutputs({ clusterName: this.clusterName, endpoint: this.endpoint });
    }
}
