/**
 * AMD GPU jobs (spec §4.16): steps whose device is an AMD GPU, and `mirror.amd` copies of other
 * steps. Both end up in the `Hardware-AMD Tests` group, run through the AMD runner script with
 * their commands in `VLLM_TEST_COMMANDS`, and are either DinD (default) or native (a Kubernetes
 * pod patch).
 */
import { GeneratorError, type Location } from "./errors";
import { cloneData } from "./plugins";
import type { GeneratorSettings } from "./settings";

/**
 * AMD dependencies: `image-build` becomes `image-build-amd`, duplicates go (first kept) and
 * `image-build-amd` is put first when missing.
 */
export function normalizeAmdDependencies(dependsOn: string[] | null, settings: GeneratorSettings): string[] {
    const { buildKey, imageBuildKey } = settings.amd;
    const result: string[] = [];
    for (const dependency of dependsOn ?? []) {
        const rewritten = dependency === imageBuildKey ? buildKey : dependency;
        if (!result.includes(rewritten)) result.push(rewritten);
    }
    if (!result.includes(buildKey)) result.unshift(buildKey);
    return result;
}

/** GPUs a job asks for: 0 with `no_gpu`, else the device's count, which `num_devices` must equal. */
export function amdGpuCount(
    device: string,
    numDevices: number | null,
    noGpu: boolean,
    amdDevices: ReadonlyMap<string, number>,
    location: Location,
): number {
    if (noGpu) return 0;
    const count = amdDevices.get(device)!;
    if (numDevices !== null && numDevices !== count) {
        throw new GeneratorError(
            { ...location, field: location.field ?? "num_devices" },
            `AMD device ${device} provides ${count} GPUs, but num_devices=${numDevices}`,
        );
    }
    return count;
}

/** Everything an AMD command step is built from, for direct steps and mirrors alike. */
export interface AmdJob {
    label: string;
    key: string;
    queue: string;
    /** The prepared command string (lines joined with ` && `). */
    commandString: string;
    dependsOn: string[];
    softFail: boolean | null;
    noPlugin: boolean;
    dind: boolean;
    numNodes: number | null;
    gpuCount: number;
    env: Record<string, string> | null;
    agentTags: Record<string, string> | null;
    parallelism: number | null;
    concurrency: number | null;
    concurrencyGroup: string | null;
    timeoutInMinutes: number | null;
    location: Location;
}

/** The rules that only AMD jobs have: tags only when native; native is neither no_plugin nor multi-node. */
export function validateAmdJob(job: AmdJob, fieldPrefix = ""): void {
    const fail = (field: string, reason: string): never => {
        throw new GeneratorError({ ...job.location, field: fieldPrefix + field }, reason);
    };
    if (job.agentTags && Object.keys(job.agentTags).length > 0) {
        if (job.dind) fail("agent_tags", "AMD agent_tags are only supported for native CI jobs (dind: false)");
        for (const [name, value] of Object.entries(job.agentTags)) {
            if (name.trim() === "" || value.trim() === "") fail(`agent_tags.${name}`, "AMD agent tags must be non-blank strings");
        }
    }
    if (!job.dind && job.noPlugin) fail("no_plugin", "native AMD jobs (dind: false) cannot set no_plugin");
    if (!job.dind && job.numNodes !== null && job.numNodes > 1) {
        fail("num_nodes", "native AMD jobs (dind: false) do not support multi-node execution");
    }
}

function fill(value: string, vars: Record<string, string>): string {
    return value.includes("{{") ? value.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole) : value;
}

function fillTemplate<T>(template: T, vars: Record<string, string>): T {
    if (typeof template === "string") return fill(template, vars) as T;
    if (Array.isArray(template)) return template.map((item) => fillTemplate(item, vars)) as T;
    if (typeof template === "object" && template !== null) {
        const result: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(template)) result[key] = fillTemplate(item, vars);
        return result as T;
    }
    return cloneData(template);
}

/**
 * The env of an AMD job that uses the runner script. Key order matters for byte parity: the
 * job's own env first; setting an existing key keeps its position.
 */
export function amdEnv(job: AmdJob, settings: GeneratorSettings): Record<string, string> {
    const vars = { gpu_count: String(job.gpuCount), commands: job.commandString };
    const env: Record<string, string> = { ...(job.env ?? {}) };
    const set = (values: Record<string, string>) => {
        for (const [name, value] of Object.entries(values)) env[name] = fill(value, vars);
    };
    set(settings.amd.commonEnv);
    if (job.dind) {
        set(settings.amd.dindEnv);
        return env;
    }
    for (const name of settings.amd.nativeRemoveEnv) delete env[name];
    for (const [name, value] of Object.entries(settings.amd.nativeDefaultEnv)) {
        if (!(name in env)) env[name] = fill(value, vars);
    }
    set(settings.amd.nativeEnv);
    return env;
}

/*
 * The fixed parts of AMD steps are built once per settings (and GPU count) and shared by every
 * step: the pipeline is read-only once built, and the emitter writes shared objects in full (no
 * anchors), so sharing only saves allocations.
 */
const retryCache = new WeakMap<GeneratorSettings, unknown[]>();
const podPatchCache = new WeakMap<GeneratorSettings, Map<number, Record<string, unknown>>>();

function sharedRetry(settings: GeneratorSettings): unknown[] {
    let retry = retryCache.get(settings);
    if (!retry) retryCache.set(settings, (retry = cloneData(settings.amd.retry)));
    return retry;
}

function sharedPodSpecPatch(settings: GeneratorSettings, gpuCount: number): Record<string, unknown> {
    let byCount = podPatchCache.get(settings);
    if (!byCount) podPatchCache.set(settings, (byCount = new Map()));
    let patch = byCount.get(gpuCount);
    if (!patch) byCount.set(gpuCount, (patch = fillTemplate(settings.amd.nativePodSpecPatch, { gpu_count: String(gpuCount) })));
    return patch;
}

/** The Buildkite command step of an AMD job. */
export function buildAmdCommandStep(
    job: AmdJob,
    settings: GeneratorSettings,
    skipTimeout: boolean,
): Record<string, unknown> {
    const agents: Record<string, string> = { queue: job.queue };
    if (!job.dind && job.agentTags) {
        for (const [name, value] of Object.entries(job.agentTags)) if (name !== "queue") agents[name] = value;
    }
    const step: Record<string, unknown> = {
        label: job.label,
        key: job.key,
        agents,
        commands: job.noPlugin ? [job.commandString] : [settings.amd.runScriptCommand],
        depends_on: job.dependsOn,
    };
    if (job.softFail !== null) step.soft_fail = job.softFail;
    step.retry = { automatic: sharedRetry(settings) };
    if (!job.dind && !job.noPlugin) step.plugins = [{ kubernetes: { podSpecPatch: sharedPodSpecPatch(settings, job.gpuCount) } }];
    if (job.noPlugin) {
        if (job.env && Object.keys(job.env).length > 0) step.env = { ...job.env };
    } else {
        step.env = amdEnv(job, settings);
        step.artifact_paths = [...settings.amd.artifactPaths];
    }
    if (job.parallelism) step.parallelism = job.parallelism;
    if (job.concurrency !== null) step.concurrency = job.concurrency;
    if (job.concurrencyGroup !== null) step.concurrency_group = job.concurrencyGroup;
    if (!skipTimeout) step.timeout_in_minutes = Math.min(job.timeoutInMinutes ?? settings.amd.timeouts.cap, settings.amd.timeouts.cap);
    step.priority = settings.priority.amd;
    return step;
}

/** The setup lines of AMD jobs (the debug agent line depends on VLLM_CI_ENABLE_ROCM_DEBUG_AGENT). */
export function amdSetupLines(settings: GeneratorSettings, debugAgent: boolean): string[] {
    return [...settings.amd.setup, debugAgent ? settings.amd.debugAgentEnabled : settings.amd.debugAgentDisabled];
}
