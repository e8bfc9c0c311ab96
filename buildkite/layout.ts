/**
 * The Buildkite side of the catalog, Pulumi-free: which clusters, cluster queues and agent tokens
 * each organization has, and every secret-store name each agent token must reach so that the
 * agents of its queues can read it. The stack (`buildkite/index.ts`) declares exactly this, the
 * lint and the tests call it directly.
 *
 * Which queues get a Buildkite cluster queue: every catalog queue that names a Buildkite cluster,
 * whatever its provider. `external` queues (partners' hardware we only route to) name none in
 * today's catalog: they live in partners' own clusters or in the organization's unclustered
 * agents, which we do not own, so they get no cluster queue (`routingOnly`). An external queue
 * that names one of our clusters gets its cluster queue like any other: its agents connect with
 * that cluster's token, so the queue must exist there.
 */
import { ProblemsError } from "../lib/problems";
import { clusterTokenSecretOf, defaultOrganization, queuesOf, type AwsQueue, type Catalog, type Provider, type Queue } from "../catalog";

/** An SSM parameter (AWS) an agent token is written into. */
export interface SsmTokenParameter {
    readonly region: string;
    readonly name: string;
}

/** A Secret Manager secret (GCP) an agent token gets a version in; the secret itself is gcp-prod's. */
export interface GcpTokenSecret {
    readonly project: string;
    readonly secretId: string;
}

/** A Kubernetes Secret of agent-stack-k8s controllers: gcp-prod writes it from `fromSecret`. */
export interface KubernetesTokenSecret {
    readonly name: string;
    readonly fromSecret: GcpTokenSecret;
}

/** Every place one cluster's agent token must reach, by what its queues read. */
export interface TokenStores {
    readonly ssmParameters: readonly SsmTokenParameter[];
    readonly gcpSecrets: readonly GcpTokenSecret[];
    /** Not written by this stack: listed so that tests and docs can follow the token to the pods. */
    readonly kubernetesSecrets: readonly KubernetesTokenSecret[];
}

/** One cluster queue. */
export interface ClusterQueueLayout {
    /** The queue key agents listen on (the catalog queue's name). */
    readonly key: string;
    readonly provider: Provider;
    readonly description: string;
}

/** One Buildkite cluster of the catalog. */
export interface ClusterLayout {
    /** Key in `buildkiteClusters`, also the cluster's name in Buildkite. */
    readonly key: string;
    readonly organization: string;
    readonly queues: readonly ClusterQueueLayout[];
    readonly tokenStores: TokenStores;
}

export interface BuildkiteLayout {
    /** Organization slug → its clusters, both in catalog order. */
    readonly organizations: readonly { readonly slug: string; readonly clusters: readonly ClusterLayout[] }[];
    /** Catalog queues that name no Buildkite cluster (routing only: partners' agents). */
    readonly routingOnly: readonly string[];
}

const where = (catalog: Catalog, section: string) => `${catalog.file}: ${section}`;

/** The description a cluster queue carries in Buildkite (the catalog's, else what runs it). */
export function clusterQueueDescription(queue: Queue): string {
    return queue.description ?? `${queue.provider} queue of the vLLM CI fleet (catalog/queues.yaml)`;
}

/** The Buildkite side of `catalog` and every problem found on the way (names missing for a store). */
export function planBuildkite(catalog: Catalog): { layout: BuildkiteLayout; problems: string[] } {
    const problems: string[] = [];
    const fallback = defaultOrganization(catalog);
    const byOrganization = new Map<string, ClusterLayout[]>();
    for (const [key, cluster] of Object.entries(catalog.buildkiteClusters)) {
        const organization = cluster.organization ?? fallback;
        if (organization === undefined) {
            problems.push(`${where(catalog, `buildkiteClusters "${key}"`)}: no organization (declare buildkiteOrganizations)`);
            continue;
        }
        const queues = catalog.queues.filter((queue) => queue.cluster === key);
        const ssm = new Map<string, SsmTokenParameter>();
        const gcpSecrets = new Map<string, GcpTokenSecret>();
        const kubernetes = new Map<string, KubernetesTokenSecret>();
        const secretManager = clusterTokenSecretOf(catalog, key);
        const needSecretManager = (why: string) => {
            if (secretManager) gcpSecrets.set(`${secretManager.project}/${secretManager.secretId}`, secretManager);
            else problems.push(`${where(catalog, `buildkiteClusters "${key}"`)}: field gcpSecretId: ${why} reads the agent token from Secret Manager, but the cluster (or its organization's gcpSecrets.project) names no secret`);
        };
        for (const queue of queues) {
            if (queue.provider === "aws") {
                if (cluster.ssmTokenParameter) ssm.set(`${queue.region}|${cluster.ssmTokenParameter}`, { region: queue.region, name: cluster.ssmTokenParameter });
                else problems.push(`${where(catalog, `buildkiteClusters "${key}"`)}: field ssmTokenParameter: AWS queue "${queue.name}" reads the agent token from SSM, but the cluster names no parameter`);
            } else if (queue.provider === "tpu" || queue.provider === "gce") {
                needSecretManager(`queue "${queue.name}"`);
            } else if (queue.provider === "gke" || queue.provider === "k8s") {
                needSecretManager(`queue "${queue.name}" (its controller's Kubernetes Secret is written from it)`);
                const name = cluster.kubernetesSecret ?? cluster.gcpSecretId;
                if (secretManager && name) kubernetes.set(name, { name, fromSecret: secretManager });
            }
        }
        if (cluster.metricsExporter) needSecretManager("the metrics exporter");
        const sortedBy = <T>(values: Iterable<T>, keyOf: (value: T) => string) => [...values].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
        const layout: ClusterLayout = {
            key,
            organization,
            queues: queues.map((queue) => ({ key: queue.name, provider: queue.provider, description: clusterQueueDescription(queue) })),
            tokenStores: {
                ssmParameters: sortedBy(ssm.values(), (p) => `${p.region}|${p.name}`),
                gcpSecrets: sortedBy(gcpSecrets.values(), (s) => `${s.project}/${s.secretId}`),
                kubernetesSecrets: sortedBy(kubernetes.values(), (s) => s.name),
            },
        };
        byOrganization.set(organization, [...(byOrganization.get(organization) ?? []), layout]);
    }
    for (const queue of catalog.queues) {
        if (queue.cluster !== undefined && !(queue.cluster in catalog.buildkiteClusters)) {
            problems.push(`${where(catalog, `queue "${queue.name}"`)}: field cluster: "${queue.cluster}" is not a key of buildkiteClusters`);
        }
    }
    for (const organization of byOrganization.keys()) {
        if (!(organization in catalog.buildkiteOrganizations)) {
            problems.push(`${where(catalog, "buildkiteClusters")}: organization "${organization}" is not a key of buildkiteOrganizations`);
        }
    }
    const organizations = [...byOrganization.entries()].map(([slug, clusters]) => ({ slug, clusters }));
    const routingOnly = catalog.queues.filter((queue) => queue.cluster === undefined).map((queue) => queue.name);
    return { layout: { organizations, routingOnly }, problems };
}

/** Every problem of the catalog for the Buildkite stack (empty when it can be built). */
export function buildkiteProblems(catalog: Catalog): string[] {
    return planBuildkite(catalog).problems;
}

/**
 * Both sides agree: every catalog queue in a cluster has exactly one cluster queue in that
 * cluster of the layout, and every cluster queue is a catalog queue of that cluster. One line per
 * disagreement (empty when they agree).
 */
export function queueAgreementProblems(catalog: Catalog, layout: BuildkiteLayout): string[] {
    const problems: string[] = [];
    const declared = new Map<string, number>();
    for (const organization of layout.organizations) {
        for (const cluster of organization.clusters) {
            for (const queue of cluster.queues) declared.set(`${cluster.key}/${queue.key}`, (declared.get(`${cluster.key}/${queue.key}`) ?? 0) + 1);
        }
    }
    const expected = new Set<string>();
    for (const queue of catalog.queues) {
        if (queue.cluster === undefined) continue;
        const id = `${queue.cluster}/${queue.name}`;
        expected.add(id);
        const count = declared.get(id) ?? 0;
        if (count !== 1) problems.push(`${where(catalog, `queue "${queue.name}"`)}: has ${count} Buildkite cluster queues in cluster "${queue.cluster}", not exactly one`);
    }
    for (const id of declared.keys()) {
        if (!expected.has(id)) problems.push(`${where(catalog, "buildkiteClusters")}: Buildkite cluster queue ${id} has no catalog queue`);
    }
    return problems;
}

/** The queue of the catalog flagged by `flag` (the bootstrap queue, the AMI builder), typed; throws a problem line when not exactly one. */
export function onlyAwsQueueWith(catalog: Catalog, flag: "nodejs" | "buildsAmi", role: string): AwsQueue {
    const found = queuesOf(catalog, "aws").filter((queue) => queue.aws?.[flag] === true);
    if (found.length !== 1) {
        throw new ProblemsError([`${where(catalog, "queues")}: ${found.length} AWS queues have aws.${flag}: true; exactly one must (${role})`]);
    }
    return found[0];
}
