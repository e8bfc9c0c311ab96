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
     * Existing Kubernetes Secret, in the stack's namespace, whose `BUILDKITE_AGENT_TOKEN` key holds
     * the agent token of the queue's Buildkite cluster. Created out of band: never a plain value.
     */
    readonly agentTokenSecret: string;
    /** Most jobs the controller runs at once; absent: the chart's default. */
    readonly maxInFlight?: number;
    /** The node pool the queue's job pods are pinned to, when it has one of its own. */
    readonly dedicatedPool?: DedicatedPool;
}

/** The Helm release name of a queue's controller. */
export function releaseName(queue: string): string {
    const name = `agent-stack-${dnsLabel(queue)}`;
    if (name.length > MAX_RELEASE_NAME) throw new Error(`queue "${queue}": Helm release name ${name} is longer than ${MAX_RELEASE_NAME} characters`);
    return name;
}

/** Checks a set of queues can share one namespace; returns the problem, if any. */
export function queueSetProblem(queues: readonly AgentStackQueue[]): string | undefined {
    if (queues.length === 0) return "no queues to serve";
    const byRelease = new Map<string, string>();
    for (const queue of queues) {
        const release = releaseName(queue.name);
        const other = byRelease.get(release);
        if (other !== undefined) return `queues "${other}" and "${queue.name}" map to the same Helm release ${release}`;
        byRelease.set(release, queue.name);
    }
    return undefined;
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

/** The values of the release serving `queue` (merged by Helm over the chart's values.yaml). */
export function agentStackValues(queue: AgentStackQueue): Record<string, unknown> {
    const config: Record<string, unknown> = { tags: [`queue=${queue.name}`] };
    if (queue.maxInFlight !== undefined) config["max-in-flight"] = queue.maxInFlight;
    if (queue.dedicatedPool) config["pod-spec-patch"] = dedicatedPoolPatch(queue.name, queue.dedicatedPool);
    return { agentStackSecret: queue.agentTokenSecret, config };
}

/** The chart a release installs (shown in the README and plan). */
export function chartReference(version: string): string {
    return `${AGENT_STACK_K8S_CHART}:${version}`;
}
