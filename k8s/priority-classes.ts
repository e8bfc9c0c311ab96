/**
 * The priority classes CI job pods name (`priorityClassName`), with the values they have on the
 * live clusters (`infra-k8s/priority-class.yaml`, `a100-priority-class.yaml`): a class's value is
 * immutable, so these are the only values a first `up` can keep. CI jobs (2) rank above
 * performance benchmarks (1); GPU jobs rank above both, and jobs that need more GPUs rank higher
 * (2000 + GPUs): on a shared node they would otherwise starve behind single-GPU jobs.
 */

/** Name → priority value, as live. */
export const PRIORITY_CLASSES = {
    ci: 2,
    "perf-benchmark": 1,
    "gpu-priority-cls-1": 2001,
    "gpu-priority-cls-2": 2002,
    "gpu-priority-cls-4": 2004,
    "gpu-priority-cls-8": 2008,
} as const;
export type PriorityClassName = keyof typeof PRIORITY_CLASSES;

/** Every class preempts lower ones, as live (also immutable). */
export const PRIORITY_PREEMPTION_POLICY = "PreemptLowerPriority";

/** GPUs per job that have a priority class of their own. */
export const GPU_PRIORITY_COUNTS = [1, 2, 4, 8] as const;

/** The priority class of a job that takes `gpus` GPUs. */
export function gpuPriorityClass(gpus: number): PriorityClassName {
    if (!(GPU_PRIORITY_COUNTS as readonly number[]).includes(gpus)) {
        throw new Error(`no GPU priority class for ${gpus} GPUs (have ${GPU_PRIORITY_COUNTS.join(", ")})`);
    }
    return `gpu-priority-cls-${gpus}` as PriorityClassName;
}

/** The live description of a priority class. */
export function priorityClassDescription(name: PriorityClassName): string {
    if (name === "ci") return "This priority class will be used for running CI tests.";
    if (name === "perf-benchmark") return "This priority class will be used for running performance benchmark.";
    return `This priority class will be used for ${name.split("-").pop()} GPU pods.`;
}
