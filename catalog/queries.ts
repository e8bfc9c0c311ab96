/** Questions the infrastructure asks the catalog. */
import type { BuildkiteCluster, Catalog, Provider, Queue, QueueOf } from "./types";

/** The queues of one provider, in catalog order, typed by provider (their section is present). */
export function queuesOf<P extends Provider>(catalog: Catalog, provider: P): QueueOf<P>[] {
    return catalog.queues.filter((queue): queue is QueueOf<P> => queue.provider === provider);
}

/** A queue by name (of `provider`, when given, typed by it); throws when it is not declared. */
export function queueNamed(catalog: Catalog, name: string): Queue;
export function queueNamed<P extends Provider>(catalog: Catalog, name: string, provider: P): QueueOf<P>;
export function queueNamed(catalog: Catalog, name: string, provider?: Provider): Queue {
    const queue = catalog.queues.find((q) => q.name === name);
    if (!queue) throw new Error(`${catalog.file}: no queue named "${name}"`);
    if (provider !== undefined && queue.provider !== provider) throw new Error(`${catalog.file}: queue "${name}" is a ${queue.provider} queue, not ${provider}`);
    return queue;
}

/** The Buildkite cluster whose agent token a queue's agents use. */
export function clusterOf(catalog: Catalog, queue: Queue): BuildkiteCluster {
    const cluster = queue.cluster ? catalog.buildkiteClusters[queue.cluster] : undefined;
    if (!cluster) throw new Error(`${catalog.file}: queue "${queue.name}" has no Buildkite cluster`);
    return cluster;
}

/** The default organization's key, or undefined when the catalog names no organization. */
export function defaultOrganization(catalog: Catalog): string | undefined {
    const entries = Object.entries(catalog.buildkiteOrganizations);
    return (entries.find(([, org]) => org.default) ?? entries[0])?.[0];
}

/** The Buildkite organization a queue belongs to (its cluster's), or undefined in a catalog without organizations. */
export function organizationOf(catalog: Catalog, queue: Queue): string | undefined {
    const cluster = queue.cluster ? catalog.buildkiteClusters[queue.cluster] : undefined;
    return cluster?.organization ?? defaultOrganization(catalog);
}

/**
 * The name a queue's resources are declared under: the queue's name in the default organization,
 * `<organization>-<name>` in another (a queue name is unique within its organization only).
 */
export function queueResourceName(catalog: Catalog, queue: Queue): string {
    const organization = organizationOf(catalog, queue);
    return organization === undefined || organization === defaultOrganization(catalog) ? queue.name : `${organization}-${queue.name}`;
}

/** The SSM parameter holding the agent token of an AWS queue's cluster; throws when the cluster has none. */
export function ssmTokenParameterOf(catalog: Catalog, queue: Queue): string {
    const parameter = clusterOf(catalog, queue).ssmTokenParameter;
    if (!parameter) throw new Error(`${catalog.file}: buildkiteClusters "${queue.cluster}": no ssmTokenParameter for queue "${queue.name}"`);
    return parameter;
}

/** The Secret Manager secret id of a queue's cluster's agent token; throws when the cluster has none. */
export function gcpSecretIdOf(catalog: Catalog, queue: Queue): string {
    const secret = clusterOf(catalog, queue).gcpSecretId;
    if (!secret) throw new Error(`${catalog.file}: buildkiteClusters "${queue.cluster}": no gcpSecretId for queue "${queue.name}"`);
    return secret;
}

/**
 * Where a Buildkite cluster's agent token lives in Secret Manager: its `gcpSecretId`, in its
 * organization's secrets project; undefined when the cluster has no secret id or its organization
 * no secrets project. The GCP stack reads (and the Buildkite stack writes) the token there.
 */
export function clusterTokenSecretOf(catalog: Catalog, clusterKey: string): { project: string; secretId: string } | undefined {
    const cluster = catalog.buildkiteClusters[clusterKey];
    if (!cluster?.gcpSecretId) return undefined;
    const organization = cluster.organization ?? defaultOrganization(catalog);
    const project = organization !== undefined ? catalog.buildkiteOrganizations[organization]?.gcpSecrets?.project : undefined;
    return project ? { project, secretId: cluster.gcpSecretId } : undefined;
}
