/**
 * The Buildkite stack (`buildkite-prod`, `ci:cloud: buildkite`): every catalog Buildkite cluster
 * with its queues and agent token, the token written into every store its agents read, and the
 * fleet's pipelines with their steps and schedules. One explicit provider per Buildkite
 * organization, AWS region (SSM) and GCP project (Secret Manager); no default provider.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as buildkite from "@pulumiverse/buildkite";
import { defaultOrganization, type Catalog } from "../catalog";
import { ProblemsError } from "../lib/problems";
import { AgentCluster } from "./agent-cluster";
import { AgentTokenCopy } from "./agent-token-copy";
import { FleetPipeline } from "./pipeline";
import { apiTokenOf } from "./settings";
import { planBuildkiteStack } from "./stack-plan";

export { AgentCluster, agentTokenDescription } from "./agent-cluster";
export { AgentTokenCopy } from "./agent-token-copy";
export { FleetPipeline } from "./pipeline";
export * from "./layout";
export * from "./pipelines";
export * from "./settings";
export * from "./stack-plan";

/** `make(key)` once per key: one provider per organization, region or project, made when first needed. */
function onePer<T>(make: (key: string) => T): (key: string) => T {
    const made = new Map<string, T>();
    return (key) => {
        if (!made.has(key)) made.set(key, make(key));
        return made.get(key)!;
    };
}

/** Logical name of a cluster's component: `bk-<cluster>` (cluster keys are unique across organizations). */
export function clusterResourceName(clusterKey: string): string {
    return `bk-${clusterKey.replace(/_/g, "-")}`;
}

/** Builds the stack; returns its outputs (names and ids only: no token value is ever an output). */
export function buildBuildkiteFleet(catalog: Catalog, stackFile: string): Record<string, pulumi.Input<unknown>> {
    const config = new pulumi.Config("ci");
    const { layout, pipelines, settings } = planBuildkiteStack(catalog, (key) => pulumi.runtime.getConfig(`ci:${key}`), stackFile);
    const apiToken = config.getSecret("buildkiteApiToken");

    const organization = onePer((slug) => {
        const token = apiToken?.apply((raw) => apiTokenOf(raw, slug) ?? "");
        // A pipeline removed from the program is archived, its builds kept.
        return new buildkite.Provider(`buildkite-${slug}`, { organization: slug, ...(token ? { apiToken: pulumi.secret(token) } : {}), archivePipelineOnDelete: true });
    });
    const awsIn = onePer((region) => new aws.Provider(`aws-${region}`, { region, allowedAccountIds: [settings.awsAccountId] }));
    const gcpIn = onePer((project) => new gcp.Provider(`gcp-${project}`, { project }));

    const clusters = new Map<string, AgentCluster>();
    const tokenStores: Record<string, string[]> = {};
    for (const { slug, clusters: clusterLayouts } of layout.organizations) {
        for (const cluster of clusterLayouts) {
            const name = clusterResourceName(cluster.key);
            const component = new AgentCluster(
                name,
                {
                    clusterName: cluster.key,
                    description: `vLLM CI fleet: catalog cluster ${cluster.key} (catalog/queues.yaml, buildkiteClusters)`,
                    queues: cluster.queues,
                    tokenRotation: settings.tokenRotation[cluster.key] ?? 0,
                },
                { provider: organization(slug) },
            );
            clusters.set(cluster.key, component);
            const stores: string[] = [];
            for (const parameter of cluster.tokenStores.ssmParameters) {
                new AgentTokenCopy(`${name}-ssm-${parameter.region}`, { token: component.token, store: { kind: "ssm", name: parameter.name } }, { parent: component, provider: awsIn(parameter.region) });
                stores.push(`ssm:${parameter.region}:${parameter.name}`);
            }
            for (const secret of cluster.tokenStores.gcpSecrets) {
                new AgentTokenCopy(`${name}-secret-${secret.project}`, { token: component.token, store: { kind: "secret-manager", ...secret } }, { parent: component, provider: gcpIn(secret.project) });
                stores.push(`secretmanager:${secret.project}/${secret.secretId}`);
            }
            tokenStores[cluster.key] = stores;
        }
    }

    const pipelineOrganization = defaultOrganization(catalog)!;
    const slugs: string[] = [];
    for (const pipeline of pipelines) {
        const cluster = clusters.get(pipeline.cluster);
        if (!cluster) throw new ProblemsError([`${catalog.file}: queue "${pipeline.queue}": its cluster "${pipeline.cluster}" is not declared (pipeline ${pipeline.slug})`]);
        new FleetPipeline(
            `pipeline-${pipeline.slug}`,
            {
                slug: pipeline.slug,
                pipelineName: pipeline.name,
                description: pipeline.description,
                repository: pipeline.repository,
                clusterId: cluster.cluster.id,
                defaultBranch: pipeline.defaultBranch,
                branchConfiguration: pipeline.branchConfiguration,
                scheduledOnly: pipeline.scheduledOnly,
                steps: pipeline.steps,
                schedules: pipeline.schedules,
                defaultTeamId: settings.pipelineTeams[pipelineOrganization],
            },
            { provider: organization(pipelineOrganization) },
        );
        slugs.push(pipeline.slug);
    }

    return {
        clusters: Object.fromEntries([...clusters.entries()].map(([key, component]) => [key, component.cluster.id])),
        clusterQueues: Object.fromEntries(layout.organizations.flatMap((o) => o.clusters).map((cluster) => [cluster.key, cluster.queues.map((queue) => queue.key)])),
        // Where each cluster's token was written (names only).
        agentTokenStores: tokenStores,
        routingOnlyQueues: [...layout.routingOnly],
        pipelines: slugs,
    };
}
