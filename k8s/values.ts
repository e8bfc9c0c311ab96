/**
 * Helm values of one agent-stack-k8s release, as a pure function so that tests validate them
 * against the chart's own JSON schema.
 */
import { dnsLabel } from "../lib/names";
import { AGENT_STACK_K8S_CHART, MAX_RELEASE_NAME } from "./chart";
import { gpuPriorityClass } from "./priority-classes";

/**
 * A node pool dedicated to a queue: nodes labelled and tainted `<labelKey>=<queue>`, each with
 * `gpus` GPUs that every job takes whole.
 */
export interface DedicatedPool {
    /** Label (and taint) key whose value is the queue's name. */
    readonly labelKey: string;
    /** GPUs per node; a job takes them all. */
    readonly gpus: number;
}

/** One Buildkite queue served by an agent-stack-k8s controller. */
export interface AgentStackQueue {
    /** The Buildkite queue tag the controller takes jobs from. */
    readonly name: string;
    /**
     * Kubernetes Secret, in the stack's namespace, whose `BUILDKITE_AGENT_TOKEN` key holds the
     * agent token of the queue's Buildkite cluster. The agent stack creates it from the token it
     * is given (`AgentStackK8sArgs.agentTokens`), never from a plain value.
     */
    readonly agentTokenSecret: string;
    /** The queue's Buildkite cluster (a key of the catalog's `buildkiteClusters`): whose token that is. */
    readonly buildkiteCluster: string;
    /** Most jobs the controller runs at once; absent: the chart's default. */
    readonly maxInFlight?: number;
    /** The node pool the queue's job pods are pinned to, when it has one of its own. */
    readonly dedicatedPool?: DedicatedPool;
}

/**
 * The Helm release of a queue's controller on a cluster, which is also the controller's id: the
 * chart registers it with Buildkite as the stack key, and two controllers sharing one id "may both
 * reserve the same job". The same queue served on two clusters gets two ids. The chart's full name
 * is forced to the release name (`fullnameOverride`), so the id is exactly this.
 */
export function releaseName(queue: string, cluster: string): string {
    return `${dnsLabel(queue)}-${dnsLabel(cluster)}`;
}

/** The problem with a release name, if any (Helm: a DNS label of at most 53 characters). */
export function releaseNameProblem(queue: string, cluster: string): string | undefined {
    const name = releaseName(queue, cluster);
    return name.length > MAX_RELEASE_NAME ? `queue "${queue}" on cluster ${cluster}: controller id ${name} is longer than Helm's ${MAX_RELEASE_NAME} characters` : undefined;
}

/** Checks a set of queues can share one namespace of one cluster; returns the problem, if any. */
export function queueSetProblem(queues: readonly AgentStackQueue[], cluster: string): string | undefined {
    if (queues.length === 0) return "no queues to serve";
    const byRelease = new Map<string, string>();
    for (const queue of queues) {
        const tooLong = releaseNameProblem(queue.name, cluster);
        if (tooLong) return tooLong;
        const release = releaseName(queue.name, cluster);
        const other = byRelease.get(release);
        if (other !== undefined) return `queues "${other}" and "${queue.name}" map to the same Helm release ${release}`;
        byRelease.set(release, queue.name);
    }
    return undefined;
}

/** Where the controllers run: the node selector and tolerations of the controller pods. */
export interface ControllerPlacement {
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Readonly<Record<string, string>>[];
}

/**
 * The pod spec patch that lands a queue's job pods on its dedicated pool: they select and tolerate
 * the pool's label/taint, take all of a node's GPUs, and rank by GPU count.
 */
export function dedicatedPoolPatch(queue: string, pool: DedicatedPool): Record<string, unknown> {
    return {
        priorityClassName: gpuPriorityClass(pool.gpus),
        nodeSelector: { [pool.labelKey]: queue },
        tolerations: [
            { key: pool.labelKey, operator: "Equal", value: queue, effect: "NoSchedule" },
            // GKE taints GPU nodes itself.
            { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
        ],
        // agent-stack-k8s names the job's command container container-0.
        containers: [{ name: "container-0", resources: { limits: { "nvidia.com/gpu": String(pool.gpus) } } }],
    };
}

/** The values of the release serving `queue` on `cluster` (merged by Helm over the chart's values.yaml). */
export function agentStackValues(queue: AgentStackQueue, cluster: string, placement: ControllerPlacement = {}): Record<string, unknown> {
    const config: Record<string, unknown> = { tags: [`queue=${queue.name}`] };
    if (queue.maxInFlight !== undefined) config["max-in-flight"] = queue.maxInFlight;
    if (queue.dedicatedPool) config["pod-spec-patch"] = dedicatedPoolPatch(queue.name, queue.dedicatedPool);
    return {
        fullnameOverride: releaseName(queue.name, cluster),
        agentStackSecret: queue.agentTokenSecret,
        ...(placement.nodeSelector ? { nodeSelector: { ...placement.nodeSelector } } : {}),
        ...(placement.tolerations ? { tolerations: placement.tolerations.map((t) => ({ ...t })) } : {}),
        config,
    };
}

/** The chart a release installs (shown in the README and plan). */
export function chartReference(version: string): string {
    return `${AGENT_STACK_K8S_CHART}:${version}`;
}
