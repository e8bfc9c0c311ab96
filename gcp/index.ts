/**
 * The GCP part of the fleet (stack gcp-prod): GKE clusters with NVIDIA L4 pools, the agent stack
 * on Kubernetes (GKE and external clusters), TPU agents, CPU builders, the CI registry and the
 * secrets agents read at boot.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import * as tls from "@pulumi/tls";
import { CatalogError, type Catalog } from "../catalog";
import type { FleetOutputs } from "../fleet";
import { AgentStackK8s } from "../k8s";
import { BuilderGroup } from "./builder-group";
import { FleetSecrets } from "./fleet-secrets";
import { GkeCiCluster } from "./gke-cluster";
import { layoutGcpFleet, type GcpFleetLayout } from "./layout";
import { GcpProviders } from "./providers";
import { CiRegistry } from "./registry";
import { GKE_NODE_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { readGcpSettings, SettingsError, type GcpSettings } from "./settings";
import { TpuAgentPool } from "./tpu-agent-pool";

export { layoutGcpFleet } from "./layout";
export { readGcpSettings } from "./settings";

/** Region of the CI registry (and of the builders that push to it). */
export const REGISTRY_REGION = "us-central1";

/** Settings and layout, with every problem as one RunError line (no stack trace). */
function plan(catalog: Catalog): { settings: GcpSettings; layout: GcpFleetLayout } {
    const stackFile = `Pulumi.${pulumi.getStack()}.yaml`;
    try {
        const settings = readGcpSettings((key) => pulumi.runtime.getConfig(`ci:${key}`), stackFile);
        if (!settings.regions.includes(REGISTRY_REGION)) {
            throw new SettingsError(`${stackFile}: config ci:gcpRegions: must include ${REGISTRY_REGION}, the CI registry's region`);
        }
        return { settings, layout: layoutGcpFleet(catalog, settings, stackFile) };
    } catch (error) {
        if (error instanceof SettingsError || error instanceof CatalogError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** Builds every GCP queue of the catalog and what they need. */
export function buildGcpFleet(catalog: Catalog): FleetOutputs {
    const { settings, layout } = plan(catalog);
    const regionsByProject = { ...layout.regionsByProject };
    regionsByProject[settings.project] = [...new Set([...(regionsByProject[settings.project] ?? []), REGISTRY_REGION])].sort();
    const providers = new GcpProviders(regionsByProject);
    const shared = providers.forProject(settings.project);
    const tlsProvider = new tls.Provider("tls");

    const registry = new CiRegistry("ci-registry", { project: settings.project, location: REGISTRY_REGION, provider: providers.forRegion(settings.project, REGISTRY_REGION) });
    const secrets = new FleetSecrets("agent-secrets", {
        project: settings.project,
        secretIds: [...layout.agentTokenSecretIds, settings.hfTokenSecretId, settings.analyticsTokenSecretId],
        provider: shared,
    });
    const registryRef = { location: REGISTRY_REGION, host: registry.host, repository: registry.repositoryId };

    const nodeAccount = new LeastPrivilegeServiceAccount("gke-l4-nodes", {
        project: settings.project,
        accountId: "gke-ci-nodes",
        description: "GKE nodes of the CI clusters (instead of the default compute account)",
        projectRoles: GKE_NODE_PROJECT_ROLES,
        readableSecrets: {},
        secretsProject: settings.project,
        registry: { project: settings.project, location: REGISTRY_REGION, repository: registry.repositoryId, access: "read" },
        provider: shared,
        sharedProvider: shared,
    });

    const jobTokens = { hfToken: pulumi.secret(settings.hfToken), analyticsToken: pulumi.secret(settings.buildkiteAnalyticsToken) };
    const agentStacks: Record<string, pulumi.Output<string>> = {};
    const clusters: Record<string, pulumi.Output<string>> = {};
    for (const clusterLayout of layout.gkeClusters) {
        const cluster = new GkeCiCluster(clusterLayout.key, {
            project: settings.project,
            layout: clusterLayout,
            network: settings.network,
            nodeServiceAccount: nodeAccount.email,
            provider: providers.forRegion(settings.project, clusterLayout.region),
        });
        clusters[clusterLayout.key] = cluster.endpoint;
        if (cluster.kubeProvider) {
            agentStacks[clusterLayout.key] = new AgentStackK8s(`agent-stack-${clusterLayout.key}`, {
                provider: cluster.kubeProvider,
                namespace: settings.agentStackNamespace,
                chartVersion: settings.agentStackK8sVersion,
                queues: clusterLayout.agentQueues,
                ...jobTokens,
            }).namespace;
        }
    }
    for (const install of layout.externalInstalls) {
        const provider = new kubernetes.Provider(`k8s-${install.cluster.name}`, {
            kubeconfig: pulumi.secret(install.cluster.kubeconfig),
            context: install.cluster.context,
        });
        agentStacks[install.cluster.name] = new AgentStackK8s(`agent-stack-${install.cluster.name}`, {
            provider,
            namespace: install.cluster.namespace,
            chartVersion: settings.agentStackK8sVersion,
            queues: install.agentQueues,
            ...jobTokens,
        }).namespace;
    }

    const tpuVms: Record<string, string[]> = {};
    for (const pool of layout.tpuPools) {
        tpuVms[pool.queue.name] = new TpuAgentPool(pool.queue.name, {
            layout: pool,
            network: settings.network,
            sharedProject: settings.project,
            secrets: secrets.secretIds,
            hfTokenSecretId: settings.hfTokenSecretId,
            analyticsTokenSecretId: settings.analyticsTokenSecretId,
            registry: registryRef,
            provider: providers.forRegion(pool.project, pool.region),
            projectProvider: providers.forProject(pool.project),
            sharedProvider: shared,
            tlsProvider,
        }).vmNames;
    }

    const builders: Record<string, pulumi.Output<string>> = {};
    for (const builder of layout.builders) {
        builders[builder.queue.name] = new BuilderGroup(builder.queue.name, {
            layout: builder,
            project: settings.project,
            network: settings.network,
            buildkiteOrg: settings.buildkiteOrg,
            secrets: secrets.secretIds,
            hfTokenSecretId: settings.hfTokenSecretId,
            analyticsTokenSecretId: settings.analyticsTokenSecretId,
            registry: registryRef,
            provider: providers.forRegion(settings.project, builder.region),
            projectProvider: shared,
        }).instanceGroup;
    }

    return {
        queues: catalog.queues.filter((q) => ["gke", "tpu", "gce", "k8s"].includes(q.provider)).map((q) => q.name),
        gkeClusterEndpoints: clusters,
        agentStackNamespaces: agentStacks,
        tpuVms,
        builderGroups: builders,
        registry: registry.url,
        // Secrets whose values are added out of band (see the README, GCP stack).
        secretsToPopulate: Object.keys(secrets.secretIds),
    };
}
