/**
 * The priority classes CI job pods name (`priorityClassName`). Jobs that need more GPUs rank
 * higher: on a shared node they would otherwise starve behind a stream of single-GPU jobs, which
 * always fit first.
 */

/** Name → priority value. */
export const PRIORITY_CLASSES = {
    ci: 1000,
    "perf-benchmark": 2000,
    "gpu-priority-cls-1": 10000,
    "gpu-priority-cls-2": 20000,
    "gpu-priority-cls-4": 40000,
    "gpu-priority-cls-8": 80000,
} as const;
export type PriorityClassName = keyof typeof PRIORITY_CLASSES;

/** GPUs per job that have a priority class of their own. */
export const GPU_PRIORITY_COUNTS = [1, 2, 4, 8] as const;

/** The priority class of a job that takes `gpus` GPUs. */
export function gpuPriorityClass(gpus: number): PriorityClassName {
    if (!(GPU_PRIORITY_COUNTS as readonly number[]).includes(gpus)) {
        throw new Error(`no GPU priority class for ${gpus} GPUs (have ${GPU_PRIORITY_COUNTS.join(", ")})`);
    }
    return `gpu-priority-cls-${gpus}` as PriorityClassName;
}

/** Describes a priority class for `kubectl get priorityclass`. */
export function priorityClassDescription(name: PriorityClassName): string {
    if (name === "ci") return "Buildkite CI jobs without GPUs of their own pool.";
    if (name === "perf-benchmark") return "Performance benchmark jobs: ahead of ordinary CI jobs on shared pools.";
    return `Buildkite CI jobs taking ${name.split("-").pop()} GPUs: more GPUs rank higher so large jobs are not starved.`;
}
