/**
 * From validated steps to the Buildkite pipeline object (spec §4): groups and ordering, keys,
 * block steps, queues, plugins, commands, retry, timeouts, priority, AMD jobs and the
 * pre-commit group. Pure: everything external was resolved before.
 */
import type { Catalog, DeviceSpec } from "../catalog/types";
import { resolveDevice, routeStep } from "../catalog/routing";
import { amdGpuCount, amdSetupLines, buildAmdCommandStep, normalizeAmdDependencies, validateAmdJob, type AmdJob } from "./amd";
import { compareCodePoints, prepareCommands, type Injector } from "./commands";
import type { BuildContext, PipelineConfig } from "./config";
import { GeneratorError, type Location } from "./errors";
import { buildPlugins, cloneData, deviceImage, type ImageContext } from "./plugins";
import { decideRun, type RunDecision, type SelectionContext } from "./selection";
import type { GeneratorSettings } from "./settings";
import { stepKey, type Step } from "./steps";
import { isPlainObject } from "../lib/values";

export type PipelineStep = Record<string, unknown>;
export interface PipelineGroup {
    group: string;
    steps: PipelineStep[];
}
export interface Pipeline {
    steps: PipelineGroup[];
}

/** Why a step of the output runs or is blocked (for `--explain`). */
export interface StepExplanation {
    key: string;
    label: string;
    file: string;
    kind: "step" | "amd" | "mirror";
    decision: RunDecision;
    blockKey?: string;
    queue: string;
}

export interface PipelineContext {
    settings: GeneratorSettings;
    catalog: Catalog;
    config: PipelineConfig;
    build: BuildContext;
    selection: SelectionContext;
    injector: Injector;
    image: ImageContext;
    amdDevices: ReadonlyMap<string, number>;
    /** Set when OTel command tracing is on (§4.11): non-AMD-GPU steps only. */
    otel?: { setupLine: string };
}


/**
 * Merge one rule into `retry.automatic` (§4.12): kept as is when automatic is `true` or already
 * has such a rule; `false`/null replaced in place; a mapping becomes `[rule, mapping]`; a list
 * gets the rule first; absent is appended last.
 */
export function mergeRetryRule(
    retry: Record<string, unknown>,
    rule: Record<string, unknown>,
    present: (condition: Record<string, unknown>) => boolean,
    location: Location,
): void {
    if (!Object.prototype.hasOwnProperty.call(retry, "automatic")) {
        retry.automatic = [rule];
        return;
    }
    const automatic = retry.automatic;
    if (automatic === true) return;
    if (automatic === false || automatic === null) {
        retry.automatic = [rule];
    } else if (isPlainObject(automatic)) {
        if (!present(automatic)) retry.automatic = [rule, automatic];
    } else if (Array.isArray(automatic)) {
        if (!automatic.some((item) => isPlainObject(item) && present(item))) retry.automatic = [rule, ...automatic];
    } else {
        throw new GeneratorError({ ...location, field: "retry.automatic" }, "retry.automatic must be a boolean, mapping, or list");
    }
}

/** The retry of a non-AMD-GPU command step: agent-lost rule, plus stack-error first on AMD CPU builders. */
export function stepRetry(step: Step, amdCpu: boolean, settings: GeneratorSettings, location: Location): Record<string, unknown> {
    const retry = step.retry ? cloneData(step.retry) : {};
    const { agentLost, stackError } = settings.retry;
    mergeRetryRule(retry, agentLost, (item) => item.exit_status === agentLost.exit_status, location);
    if (amdCpu) mergeRetryRule(retry, stackError, (item) => item.signal_reason === stackError.signal_reason, location);
    return retry;
}

/** Timeout of a non-AMD-GPU step (§4.13). */
export function stepTimeout(step: Step, key: string, amdCpu: boolean, context: PipelineContext): number | undefined {
    const { build, settings } = context;
    if (build.skipTimeout) return undefined;
    if (key === settings.amd.refreshKey) {
        return build.rocmBaseRefreshSkip === "1" ? settings.amd.timeouts.refreshSkipped : settings.amd.timeouts.refresh;
    }
    if (amdCpu) return Math.min(step.timeoutInMinutes ?? settings.amd.timeouts.cap, settings.amd.timeouts.cap);
    return step.timeoutInMinutes || undefined;
}

function locationOf(step: Step): Location {
    return { file: step.file, step: step.label };
}

function nvidiaSetup(settings: GeneratorSettings): (multiGpu: boolean) => string[] {
    const { info, topology, coredump } = settings.nvidiaSetup;
    return (multiGpu) => (multiGpu ? [...info, ...topology, ...coredump] : [...info, ...coredump]);
}

/** A non-AMD step: its block (if it does not run) and its command step. */
function convertStep(step: Step, context: PipelineContext, explanations: Map<string, StepExplanation>): PipelineStep[] {
    const { settings, catalog, build } = context;
    const key = stepKey(step);
    const location = locationOf(step);
    const device: DeviceSpec = resolveDevice(catalog, step.device);
    const amdCpu = step.device !== null && settings.amd.cpuDevices.includes(step.device);
    const decision = decideRun(step, context.selection);
    const output: PipelineStep[] = [];

    let dependsOn = step.dependsOn ? [...step.dependsOn] : undefined;
    let blockKey: string | undefined;
    if (!decision.run) {
        blockKey = `block-${key}`;
        output.push({ block: `Run ${step.label}`, depends_on: [], key: blockKey });
        dependsOn = [blockKey, ...(dependsOn ?? []).filter((dependency) => dependency !== blockKey)];
    }

    const queue = routeStep(catalog, { label: step.label, device: step.device, numDevices: step.numDevices }, build.branch);
    const agents: Record<string, string> = { queue };
    if (device.agentTags && step.agentTags) {
        for (const [name, value] of Object.entries(step.agentTags)) if (name !== "queue") agents[name] = value;
    }
    const isImageBuild = step.label.startsWith(settings.imageBuildLabelPrefix);
    const commands = prepareCommands(step, {
        setup: nvidiaSetup(settings),
        imageBuildLabelPrefix: settings.imageBuildLabelPrefix,
        continueOnFailure: build.continueOnFailure,
        injector: context.injector,
        otel: context.otel,
    });

    const command: PipelineStep = { label: step.label, key, agents, commands };
    if (dependsOn !== undefined) command.depends_on = dependsOn;
    if (step.softFail !== null) command.soft_fail = step.softFail;
    command.retry = stepRetry(step, amdCpu, settings, location);
    if (!step.noPlugin && !isImageBuild && !(step.numNodes !== null && step.numNodes >= 2)) {
        if (device.plugin === "amd") {
            throw new GeneratorError({ ...location, field: "device" }, `device ${step.device} is an AMD device without a GPU count in the catalog`);
        }
        // Traced steps mount the buildkite-agent binary into the container (§4.6).
        const pluginStep = context.otel ? { ...step, mountBuildkiteAgent: true } : step;
        let image: string;
        try {
            image = deviceImage(context.image, device);
        } catch (error) {
            // A config field missing: say which step needs it.
            if (!(error instanceof GeneratorError)) throw error;
            throw new GeneratorError(error.location, `${error.reason} (step "${step.label}" in ${step.file} runs in a container image)`);
        }
        command.plugins = buildPlugins(pluginStep, device, image, settings, { ...location, field: "device" });
    }
    let env: Record<string, string> | undefined = step.env && Object.keys(step.env).length > 0 ? { ...step.env } : undefined;
    if (key === settings.amd.refreshKey) {
        env = { ...(env ?? {}), ROCM_BASE_REFRESH_SKIP: build.rocmBaseRefreshSkip, ROCM_BASE_REFRESH_FORCE: build.rocmBaseRefreshForce };
    }
    if (env) command.env = env;
    if (step.parallelism) command.parallelism = step.parallelism;
    if (step.concurrency !== null) command.concurrency = step.concurrency;
    if (step.concurrencyGroup !== null) command.concurrency_group = step.concurrencyGroup;
    const timeout = stepTimeout(step, key, amdCpu, context);
    if (timeout !== undefined) command.timeout_in_minutes = timeout;
    command.priority = build.highPriority ? settings.priority.high : settings.priority.normal;
    output.push(command);

    explanations.set(key, { key, label: step.label, file: step.file, kind: "step", decision, blockKey, queue });
    return output;
}

/** The AMD queue of a device: routed by the device alone (the reference always uses `amd_<device>`). */
function amdQueue(device: string, context: PipelineContext): string {
    return routeStep(context.catalog, { label: "", device, numDevices: null }, context.build.branch);
}

function amdCommandString(
    source: { label: string; commands: string[] | null; workingDir: string | null; numNodes: number | null; numDevices: number | null; noPlugin: boolean },
    context: PipelineContext,
    prefix: string[],
): string {
    const lines = prepareCommands(source, {
        setup: () => amdSetupLines(context.settings, context.build.rocmDebugAgent),
        imageBuildLabelPrefix: context.settings.imageBuildLabelPrefix,
        continueOnFailure: context.build.continueOnFailure,
        injector: context.injector,
    });
    return [...prefix, ...lines].join(" && ");
}

/** A step whose own device is an AMD GPU (§4.16): only in the AMD group; its mirror is ignored. */
function convertDirectAmd(step: Step, context: PipelineContext, explanations: Map<string, StepExplanation>): PipelineStep[] {
    const { settings } = context;
    const device = step.device as string;
    const key = stepKey(step);
    const location = locationOf(step);
    const gpuCount = amdGpuCount(device, step.numDevices, step.noGpu, context.amdDevices, { ...location, field: "num_devices" });
    const dependsOn = normalizeAmdDependencies(step.dependsOn, settings);
    const job: AmdJob = {
        label: `AMD: ${step.label} (${device})`,
        key,
        queue: amdQueue(device, context),
        commandString: amdCommandString(step, context, [`export VLLM_TEST_GROUP_NAME=${key}`]),
        dependsOn,
        softFail: step.softFail,
        noPlugin: step.noPlugin,
        dind: step.dind,
        numNodes: step.numNodes,
        gpuCount,
        env: step.env,
        agentTags: step.agentTags,
        parallelism: step.parallelism,
        concurrency: step.concurrency,
        concurrencyGroup: step.concurrencyGroup,
        timeoutInMinutes: step.timeoutInMinutes,
        location,
    };
    validateAmdJob(job);
    const decision = decideRun(step, context.selection);
    const output: PipelineStep[] = [];
    let blockKey: string | undefined;
    if (!decision.run) {
        blockKey = `block-amd-${key}`;
        output.push({ block: `Run ${job.label}`, depends_on: [...dependsOn], key: blockKey });
        job.dependsOn = [...dependsOn, blockKey];
    }
    output.push(buildAmdCommandStep(job, settings, context.build.skipTimeout));
    explanations.set(key, { key, label: job.label, file: step.file, kind: "amd", decision, blockKey, queue: job.queue });
    return output;
}

/** The `mirror.amd` copy of a non-AMD step (§4.16), gated as in §3.6. */
function convertMirror(step: Step, context: PipelineContext, explanations: Map<string, StepExplanation>): PipelineStep[] {
    const { settings, selection } = context;
    const mirror = step.amdMirror!;
    const location: Location = locationOf(step);
    if (!mirror.device) throw new GeneratorError({ ...location, field: "mirror.amd.device" }, "missing (the AMD device to mirror to)");
    if (!context.amdDevices.has(mirror.device)) {
        throw new GeneratorError(
            { ...location, field: "mirror.amd.device" },
            `unknown AMD device ${mirror.device} (known: ${[...context.amdDevices.keys()].join(", ")})`,
        );
    }
    const device = mirror.device;
    const mainKey = stepKey(step);
    const key = `amd-${mainKey}`;
    const numDevices = mirror.numDevices ?? mirror.numGpus ?? step.numDevices;
    const noGpu = mirror.noGpu ?? step.noGpu;
    const gpuCount = amdGpuCount(device, numDevices, noGpu, context.amdDevices, { ...location, field: "mirror.amd.num_devices" });
    const dependsOn = normalizeAmdDependencies(mirror.dependsOn, settings);
    const numNodes = mirror.numNodes ?? step.numNodes;
    const noPlugin = mirror.noPlugin ?? false;
    const label = mirror.label ?? `AMD: ${step.label} (${device})`;
    const job: AmdJob = {
        label,
        key,
        queue: amdQueue(device, context),
        commandString: amdCommandString(
            {
                label: step.label,
                commands: mirror.commands ?? step.commands,
                workingDir: mirror.workingDir ?? step.workingDir,
                numNodes,
                numDevices,
                noPlugin,
            },
            context,
            [],
        ),
        dependsOn,
        softFail: mirror.softFail ?? step.softFail,
        noPlugin,
        dind: mirror.dind ?? true,
        numNodes,
        gpuCount,
        env: step.env || mirror.env ? { ...(step.env ?? {}), ...(mirror.env ?? {}) } : null,
        agentTags: mirror.agentTags,
        parallelism: step.parallelism,
        concurrency: mirror.concurrency ?? step.concurrency,
        concurrencyGroup: mirror.concurrencyGroup ?? step.concurrencyGroup,
        timeoutInMinutes: mirror.timeoutInMinutes,
        location,
    };
    validateAmdJob(job, "mirror.amd.");

    const effectiveDependencies = [...(mirror.sourceFileDependencies ?? [])];
    for (const dependency of step.sourceFileDependencies ?? []) {
        if (!effectiveDependencies.includes(dependency)) effectiveDependencies.push(dependency);
    }
    let decision = decideRun(
        { key: null, device, dind: job.dind, optional: mirror.optional ?? step.optional, sourceFileDependencies: effectiveDependencies },
        selection,
    );
    if (!decision.run && !selection.noAuto && selection.changedFileSet.has(settings.amd.rocmBaseDockerfile)) {
        decision = { run: true, reason: `${settings.amd.rocmBaseDockerfile} changed, which runs every AMD mirror` };
    }
    const output: PipelineStep[] = [];
    let blockKey: string | undefined;
    if (!decision.run) {
        blockKey = `block-amd-${mainKey}`;
        output.push({
            block: mirror.label ? `Run ${mirror.label}` : `Run AMD: ${step.label}`,
            depends_on: [dependsOn[0]],
            key: blockKey,
        });
        job.dependsOn = [...dependsOn, blockKey];
    }
    output.push(buildAmdCommandStep(job, settings, context.build.skipTimeout));
    explanations.set(key, { key, label, file: step.file, kind: "mirror", decision, blockKey, queue: job.queue });
    return output;
}

/** Gate command steps that depend on an image build on the pre-commit check (§4.15). */
export function addPrecommitGating(groups: PipelineGroup[], settings: GeneratorSettings): void {
    const gate = settings.precommit.key;
    const marker = settings.imageBuildKeyPrefix;
    for (const group of groups) {
        for (const step of group.steps) {
            if ("block" in step) continue;
            const dependsOn = step.depends_on as string[] | undefined;
            if (!dependsOn || dependsOn.length === 0) continue;
            if (typeof step.key === "string" && step.key.includes(marker)) continue;
            if (!dependsOn.some((dependency) => dependency.includes(marker))) continue;
            if (dependsOn.includes(gate)) continue;
            dependsOn.push(gate);
        }
    }
}

/** The pre-commit group, inserted first on PR builds. */
export function precommitGroup(context: PipelineContext): PipelineGroup {
    const { settings, build, config } = context;
    const vars: Record<string, string> = {
        commit: build.commit ?? "None",
        repo: config.githubRepoName,
        api_url: settings.github.apiUrl,
        check_name: settings.precommit.checkName,
        max_wait: String(settings.precommit.maxWaitSeconds),
        wait_interval: String(settings.precommit.pollIntervalSeconds),
    };
    const program = settings.precommit.program.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole);
    return {
        group: settings.precommit.groupName,
        steps: [
            {
                label: settings.precommit.label,
                key: settings.precommit.key,
                agents: { queue: settings.precommit.queue },
                commands: [`python3 -c '${program}'`],
                depends_on: [],
                soft_fail: false,
                priority: build.highPriority ? settings.priority.high : settings.priority.normal,
            },
        ],
    };
}

/** Build the pipeline from the selected steps, in read order. */
export function buildPipeline(
    steps: Step[],
    context: PipelineContext,
    options: { pullRequest: boolean },
): { pipeline: Pipeline; explanations: Map<string, StepExplanation>; sources: WeakMap<PipelineStep, Location> } {
    const explanations = new Map<string, StepExplanation>();
    // The job file and step (as written there) behind each output step, for messages.
    const sources = new WeakMap<PipelineStep, Location>();
    const from = (step: Step, produced: PipelineStep[]): PipelineStep[] => {
        for (const item of produced) sources.set(item, { file: step.file, step: step.label });
        return produced;
    };
    const buckets = new Map<string, Step[]>();
    for (const step of steps) {
        const name = step.group || "ungrouped";
        let bucket = buckets.get(name);
        if (!bucket) buckets.set(name, (bucket = []));
        bucket.push(step);
    }
    const groups: PipelineGroup[] = [];
    const amdSteps: PipelineStep[] = [];
    for (const [name, bucket] of buckets) {
        const sorted = [...bucket].sort((a, b) => compareCodePoints(a.label, b.label));
        const output: PipelineStep[] = [];
        for (const step of sorted) {
            if (step.device !== null && context.amdDevices.has(step.device)) {
                amdSteps.push(...from(step, convertDirectAmd(step, context, explanations)));
                continue;
            }
            output.push(...from(step, convertStep(step, context, explanations)));
            if (step.amdMirror && !context.selection.onlyStepKeys) amdSteps.push(...from(step, convertMirror(step, context, explanations)));
        }
        if (output.length > 0) groups.push({ group: name, steps: output });
    }
    if (amdSteps.length > 0) groups.push({ group: context.settings.amd.groupName, steps: amdSteps });
    groups.sort((a, b) => compareCodePoints(a.group, b.group));
    if (options.pullRequest) {
        addPrecommitGating(groups, context.settings);
        groups.unshift(precommitGroup(context));
    }
    return { pipeline: { steps: groups }, explanations, sources };
}
