/** Questions the infrastructure asks the catalog. */
import type { BuildkiteCluster, Catalog, Provider, Queue } from "./types";

/** The queues of one provider, in catalog order. */
export function queuesOf(catalog: Catalog, provider: Provider): Queue[] {
    return catalog.queues.filter((queue) => queue.provider === provider);
}

/** A queue by name; throws when it is not declared. */
export function queueNamed(catalog: Catalog, name: string): Queue {
    const queue = catalog.queues.find((q) => q.name === name);
    if (!queue) throw new Error(`${catalog.file}: no queue named "${name}"`);
    return queue;
}

/** The Buildkite cluster whose agent token a queue's agents use. */
export function clusterOf(catalog: Catalog, queue: Queue): BuildkiteCluster {
    const cluster = queue.cluster ? catalog.buildkiteClusters[queue.cluster] : undefined;
    if (!cluster) throw new Error(`${catalog.file}: queue "${queue.name}" has no Buildkite cluster`);
    return cluster;
}
