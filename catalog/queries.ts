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
