/**
 * The GCP part of the fleet (stack gcp-prod): GKE clusters with NVIDIA L4 pools, TPU groups, CPU
 * builders and fixed CPU VMs, the metrics exporters, the CI registry, the cache buckets and the
 * secrets agents read at boot, across every project of the catalog. The agent stacks on the GKE
 * clusters are installed by `fleet.ts` (through `k8s/`), like those on any other cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as kubernetes from "@pulumi/kubernetes";
import * as tls from "@pulumi/tls";
import type { Catalog } from "../catalog";
import type { ManagedCluster } from "../k8s/layout";
import { AgentVmGroup } from "./agent-vms";
import { BuilderGroup } from "./builder-group";
import { CacheBucket } from "./cache-bucket";
import { FleetSecrets } from "./fleet-secrets";
import { GkeCiCluster } from "./gke-cluster";
import { gcpQueueNames, gkeManagedClusters, layoutGcpFleet, REGISTRY_REGION } from "./layout";
import { MetricsExporter } from "./metrics-exporter";
import { GcpProviders } from "./providers";
import { CiRegistry } from "./registry";
import { DefaultAccountSecretAccess, EXPORTER_PROJECT_ROLES, GKE_NODE_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { readGcpSettings, type GcpSettings } from "./settings";
import type { GcpFleetLayout } from "./layout";
import { TpuAgentPool } from "./tpu-agent-pool";
import { UsageStatsEndpoint } from "./usage-stats";
import { USAGE_STATS, usageStatsProblems, VECTOR_IMAGE, vectorConfigText } from "./usage-stats-config";
import { ProblemsError } from "../lib/problems";

export { gcpFleetProblems, gkeManagedClusters, layoutGcpFleet, REGISTRY_REGION } from "./layout";
export { readGcpSettings } from "./settings";

/** A GKE cluster the agent stack is installed on, with the provider that reaches it. */
export interface GkeAgentCluster extends ManagedCluster {
    /** Kubernetes provider built from the cluster's endpoint and CA. */
    readonly provider: kubernetes.Provider;
}

/** What the GCP stack built: its outputs, the clusters whose agent stacks `fleet.ts` installs, and how it reads agent tokens. */
export interface GcpFleet {
    readonly outputs: Record<string, pulumi.Input<unknown>>;
    readonly clusters: readonly GkeAgentCluster[];
    /**
     * The agent token of a Buildkite cluster, read from its Secret Manager secret (a Pulumi
     * secret): the controllers' Kubernetes Secrets are written from it, after the secret exists.
     */
    readonly agentToken: (project: string, secretId: string) => pulumi.Output<string>;
}

/** The stack's settings and layout, before any resource: throws every problem at once (`ProblemsError`). */
export function planGcpStack(catalog: Catalog, stackFile: string): { settings: GcpSettings; layout: GcpFleetLayout } {
    const settings = readGcpSettings((key) => pulumi.runtime.getConfig(`ci:${key}`), stackFile);
    const layout = layoutGcpFleet(catalog, settings, stackFile);
    // The endpoint's Vector configuration and image: a broken file stops the preview, not the first report.
    const usageStats = usageStatsProblems();
    if (usageStats.length > 0) throw new ProblemsError(usageStats);
    return { settings, layout };
}

/** Builds every GCP queue of the catalog and what they need, from a checked plan (`planGcpStack`). */
export function buildGcpFleet(catalog: Catalog, settings: GcpSettings, layout: GcpFleetLayout): GcpFleet {
    const managed = gkeManagedClusters(layout);
    const providers = new GcpProviders(layout.projects);
    const inProject = (project: string) => ({ provider: providers.forProject(project) });
    const shared = inProject(settings.project);
    const tlsProvider = new tls.Provider("tls");

    const registry = new CiRegistry("ci-registry", { project: settings.project, location: REGISTRY_REGION }, shared);
    const secretIds: Record<string, pulumi.Output<string>> = {};
    const secretResources: Record<string, gcp.secretmanager.Secret> = {};
    for (const project of [...new Set(layout.secrets.map((s) => s.project))].sort()) {
        const secrets = new FleetSecrets(
            `agent-secrets-${project}`,
            { project, secretIds: layout.secrets.filter((s) => s.project === project).map((s) => s.secretId) },
            inProject(project),
        );
        Object.assign(secretIds, secrets.secretIds);
        Object.assign(secretResources, secrets.secrets);
    }

    for (const { project, secrets } of layout.defaultAccountSecrets) {
        const account = gcp.compute.getDefaultServiceAccountOutput({ project }, inProject(project));
        new DefaultAccountSecretAccess(
            `default-account-secrets-${project}`,
            { project, email: account.email, secrets: Object.fromEntries(secrets.map((s) => [`${s.project}/${s.secretId}`, secretIds[`${s.project}/${s.secretId}`]])) },
            inProject(project),
        );
    }

    const nodeAccounts = new Map<string, LeastPrivilegeServiceAccount>();
    const nodeAccountOf = (project: string) => {
        let account = nodeAccounts.get(project);
        if (!account) {
            account = new LeastPrivilegeServiceAccount(
                `gke-ci-nodes-${project}`,
                {
                    project,
                    accountId: "gke-ci-nodes",
                    description: "GKE nodes of the CI clusters (instead of the default compute account)",
                    projectRoles: GKE_NODE_PROJECT_ROLES,
                    readableSecrets: {},
                    secretsProject: project,
                    registry: { project: settings.project, location: REGISTRY_REGION, repository: registry.repositoryId, access: "read" },
                },
                inProject(project),
            );
            nodeAccounts.set(project, account);
        }
        return account;
    };

    const clusters: GkeAgentCluster[] = [];
    const endpoints: Record<string, pulumi.Output<string>> = {};
    for (const clusterLayout of layout.gkeClusters) {
        const cluster = new GkeCiCluster(clusterLayout.key, { layout: clusterLayout, nodeServiceAccount: nodeAccountOf(clusterLayout.project).email }, inProject(clusterLayout.project));
        endpoints[clusterLayout.key] = cluster.endpoint;
        const served = managed.find((m) => m.name === clusterLayout.key);
        if (cluster.kubeProvider && served) clusters.push({ ...served, provider: cluster.kubeProvider });
    }

    const tpuVms: Record<string, readonly string[]> = {};
    for (const group of layout.tpuGroups) {
        tpuVms[group.name] = new TpuAgentPool(group.name, { layout: group, secrets: secretIds }, { providers: { gcp: providers.forProject(group.project), tls: tlsProvider } }).vmNames;
    }

    const builders: Record<string, pulumi.Output<string>> = {};
    const registryRef = { project: settings.project, location: REGISTRY_REGION, repository: registry.repositoryId };
    for (const builder of layout.builders) {
        builders[builder.name] = new BuilderGroup(builder.name, { layout: builder, secrets: secretIds, registry: registryRef }, inProject(builder.project)).instanceGroup;
    }
    const fixedVms: Record<string, string[]> = {};
    for (const group of layout.fixedVms) {
        new AgentVmGroup(group.name, { layout: group, secrets: secretIds }, inProject(group.project));
        fixedVms[group.name] = group.vms.map((vm) => vm.name);
    }
    for (const exporter of layout.exporters) {
        const component = new MetricsExporter(`metrics-exporter-${exporter.cluster}`, { layout: exporter, tokenSecret: secretIds[`${exporter.tokenSecret.project}/${exporter.tokenSecret.secretId}`] }, inProject(exporter.project));
        // The exporter runs as its project's default account: it alone writes the queues' metrics.
        const account = gcp.compute.getDefaultServiceAccountOutput({ project: exporter.project }, inProject(exporter.project));
        for (const role of EXPORTER_PROJECT_ROLES) {
            new gcp.projects.IAMMember(
                `metrics-exporter-${exporter.cluster}-${role.replace(/^roles\//, "")}`,
                { project: exporter.project, role, member: pulumi.interpolate`serviceAccount:${account.email}` },
                { parent: component },
            );
        }
    }
    for (const bucket of layout.buckets) new CacheBucket(`cache-${bucket.name}`, { layout: bucket }, inProject(bucket.project));

    const usageStatsProject = settings.usageStatsProject ?? settings.project;
    const usageStats = new UsageStatsEndpoint(
        "usage-stats",
        {
            project: usageStatsProject,
            region: USAGE_STATS.region,
            bucketName: USAGE_STATS.bucket,
            bucketLocation: USAGE_STATS.bucketLocation,
            bucketStorageClass: USAGE_STATS.bucketStorageClass,
            nearlineAfterDays: USAGE_STATS.nearlineAfterDays,
            serviceName: USAGE_STATS.service,
            accountId: USAGE_STATS.accountId,
            image: VECTOR_IMAGE,
            vectorConfig: vectorConfigText(),
            maxInstances: USAGE_STATS.maxInstances,
            // vLLM reports without credentials (usage_lib.py posts anonymously to stats.vllm.ai).
            public: true,
        },
        inProject(usageStatsProject),
    );

    const agentToken = (project: string, secretId: string): pulumi.Output<string> => {
        const secret = secretResources[`${project}/${secretId}`];
        const version = gcp.secretmanager.getSecretVersionOutput(
            { project, secret: secretId },
            { ...inProject(project), ...(secret ? { dependsOn: [secret] } : {}) },
        );
        return pulumi.secret(version.secretData);
    };

    return {
        clusters,
        agentToken,
        outputs: {
            queues: gcpQueueNames(catalog),
            gkeClusterEndpoints: endpoints,
            tpuVms,
            builderGroups: builders,
            fixedVms,
            registry: registry.url,
            usageStatsUri: usageStats.uri,
            // Secrets whose values are added out of band (see the README, GCP stack).
            secretsToPopulate: Object.keys(secretIds),
        },
    };
}
