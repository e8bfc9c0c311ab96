/**
 * The GCP part of the fleet (stack gcp-prod): GKE clusters with NVIDIA L4 pools, TPU agents, CPU
 * builders, the CI registry and the secrets agents read at boot. The agent stacks on the GKE
 * clusters are installed by `fleet.ts` (through `k8s/`), like those on any other cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import * as tls from "@pulumi/tls";
import type { Catalog } from "../catalog";
import type { ManagedCluster } from "../k8s/layout";
import { BuilderGroup } from "./builder-group";
import { FleetSecrets } from "./fleet-secrets";
import { GkeCiCluster } from "./gke-cluster";
import { gkeManagedClusters, layoutGcpFleet, REGISTRY_REGION } from "./layout";
import { GcpProviders } from "./providers";
import { CiRegistry } from "./registry";
import { GKE_NODE_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { readGcpSettings, type GcpSettings } from "./settings";
import type { GcpFleetLayout } from "./layout";
import { TpuAgentPool } from "./tpu-agent-pool";

export { gcpFleetProblems, gkeManagedClusters, layoutGcpFleet, REGISTRY_REGION } from "./layout";
export { readGcpSettings } from "./settings";

/** A GKE cluster the agent stack is installed on, with the provider that reaches it. */
export interface GkeAgentCluster extends ManagedCluster {
    /** Kubernetes provider built from the cluster's endpoint and CA. */
    readonly provider: kubernetes.Provider;
}

/** What the GCP stack built: its outputs, and the clusters whose agent stacks `fleet.ts` installs. */
export interface GcpFleet {
    readonly outputs: Record<string, pulumi.Input<unknown>>;
    readonly clusters: readonly GkeAgentCluster[];
}

/** The stack's settings and layout, before any resource: throws every problem at once (`ProblemsError`). */
export function planGcpStack(catalog: Catalog, stackFile: string): { settings: GcpSettings; layout: GcpFleetLayout } {
    const settings = readGcpSettings((key) => pulumi.runtime.getConfig(`ci:${key}`), stackFile);
    return { settings, layout: layoutGcpFleet(catalog, settings, stackFile) };
}

/** Builds every GCP queue of the catalog and what they need, from a checked plan (`planGcpStack`). */
export function buildGcpFleet(catalog: Catalog, settings: GcpSettings, layout: GcpFleetLayout): GcpFleet {
    const managed = gkeManagedClusters(layout);
    const providers = new GcpProviders(layout.projects);
    const shared = { provider: providers.forProject(settings.project) };
    const tlsProvider = new tls.Provider("tls");

    const registry = new CiRegistry("ci-registry", { project: settings.project, location: REGISTRY_REGION }, shared);
    const secrets = new FleetSecrets(
        "agent-secrets",
        { project: settings.project, secretIds: [...layout.agentTokenSecretIds, settings.hfTokenSecretId, settings.analyticsTokenSecretId] },
        shared,
    );
    const registryRef = { location: REGISTRY_REGION, host: registry.host, repository: registry.repositoryId };

    const nodeAccount = new LeastPrivilegeServiceAccount(
        "gke-l4-nodes",
        {
            project: settings.project,
            accountId: "gke-ci-nodes",
            description: "GKE nodes of the CI clusters (instead of the default compute account)",
            projectRoles: GKE_NODE_PROJECT_ROLES,
            readableSecrets: {},
            secretsProject: settings.project,
            registry: { project: settings.project, location: REGISTRY_REGION, repository: registry.repositoryId, access: "read" },
        },
        shared,
    );

    const clusters: GkeAgentCluster[] = [];
    const endpoints: Record<string, pulumi.Output<string>> = {};
    for (const clusterLayout of layout.gkeClusters) {
        const cluster = new GkeCiCluster(
            clusterLayout.key,
            { project: settings.project, layout: clusterLayout, network: settings.network, nodeServiceAccount: nodeAccount.email },
            shared,
        );
        endpoints[clusterLayout.key] = cluster.endpoint;
        const served = managed.find((m) => m.name === clusterLayout.key);
        if (cluster.kubeProvider && served) clusters.push({ ...served, provider: cluster.kubeProvider });
    }

    const tpuVms: Record<string, readonly string[]> = {};
    for (const pool of layout.tpuPools) {
        tpuVms[pool.queue.name] = new TpuAgentPool(
            pool.queue.name,
            {
                layout: pool,
                network: settings.network,
                sharedProject: settings.project,
                secrets: secrets.secretIds,
                hfTokenSecretId: settings.hfTokenSecretId,
                analyticsTokenSecretId: settings.analyticsTokenSecretId,
                registry: registryRef,
            },
            { providers: { gcp: providers.forProject(pool.project), tls: tlsProvider } },
        ).vmNames;
    }

    const builders: Record<string, pulumi.Output<string>> = {};
    for (const builder of layout.builders) {
        builders[builder.queue.name] = new BuilderGroup(
            builder.queue.name,
            {
                layout: builder,
                project: settings.project,
                network: settings.network,
                buildkiteOrg: settings.buildkiteOrg,
                secrets: secrets.secretIds,
                hfTokenSecretId: settings.hfTokenSecretId,
                analyticsTokenSecretId: settings.analyticsTokenSecretId,
                registry: registryRef,
            },
            shared,
        ).instanceGroup;
    }

    return {
        clusters,
        outputs: {
            queues: catalog.queues.filter((q) => ["gke", "tpu", "gce", "k8s"].includes(q.provider)).map((q) => q.name),
            gkeClusterEndpoints: endpoints,
            tpuVms,
            builderGroups: builders,
            registry: registry.url,
            // Secrets whose values are added out of band (see the README, GCP stack).
            secretsToPopulate: Object.keys(secrets.secretIds),
        },
    };
}
