/**
 * The generator core (spec §1): from the pipeline config, the job files, the catalog, the
 * changed files and the build context to a pipeline object, or to "docs only".
 *
 * External lookups (git, the GitHub API, the container registry) are adapters passed in; this
 * module never touches the file system, the network or child processes.
 */
import type { Catalog } from "../catalog/types";
import { amdDevices as catalogAmdDevices, isKnownDevice, routeStep } from "../catalog/routing";
import { didYouMean } from "../lib/suggest";
import { keyProblem } from "./buildkite-keys";
import { Injector, type Injection } from "./commands";
import { isPullRequest, type BuildContext, type PipelineConfig } from "./config";
import { computeCacheTags, type CacheTags } from "./ecr";
import { GeneratorError, WarningSink, type GeneratorWarning, type Location } from "./errors";
import { otelTracingOn, otelSetupLine } from "./otel";
import { otelHelpersBundle } from "./otel-bundle";
import { validatePipeline, type StepLocator } from "./output";
import { buildPipeline, type Pipeline, type PipelineContext, type PipelineStep, type StepExplanation } from "./pipeline";
import { baseImage, type ImageContext } from "./plugins";
import {
    checkDependencies,
    decideRunAll,
    isDocsOnlyDiff,
    selectOnlyStepKeys,
    type RunAllDecision,
    type SelectionContext,
} from "./selection";
import { VLLM_SETTINGS, type GeneratorSettings } from "./settings";
import { parseJobFile, stepKey, type Step } from "./steps";
import { parseYaml } from "./yaml";

/** A job file: its path relative to the working directory, and its text (or an already parsed document). */
export interface JobFile {
    path: string;
    text?: string;
    document?: unknown;
}

type MaybePromise<T> = T | Promise<T>;

/** The outside world, injected. Every adapter is optional: a missing one means "no answer". */
export interface GeneratorAdapters {
    /** `git merge-base origin/main HEAD`, or null when it cannot be determined. */
    mergeBase?(): MaybePromise<string | null>;
    /** The changed files of the build (`git diff --name-only …`). */
    changedFiles?(request: { branch: string | undefined; mergeBase: string | null }): MaybePromise<string[]>;
    /** The labels of a PR (GitHub API). */
    prLabels?(repo: string, pullRequest: string): MaybePromise<string[]>;
    /** Log Docker in to the build-cache registry; throws on failure. */
    ecrLogin?(): MaybePromise<void>;
    /** Whether an image manifest exists (`docker manifest inspect`). Missing adapter: never. */
    manifestExists?(tag: string): MaybePromise<boolean>;
}

export interface GeneratorInputs {
    config: PipelineConfig;
    /** The job files, in the order to read them (sorted by path for determinism). Called only when needed. */
    jobFiles: JobFile[] | (() => JobFile[]);
    catalog: Catalog;
    build: BuildContext;
    settings?: GeneratorSettings;
    /** The changed files; when absent, the `changedFiles` adapter is asked. */
    changedFiles?: string[];
    /** The PR labels; when absent (on a PR build), the `prLabels` adapter is asked. */
    prLabels?: string[];
    /** A run-all decision made by the caller (the bootstrap decides it once); overrides §3.2. */
    runAll?: boolean;
    /** Warnings become errors. */
    strict?: boolean;
}

interface CommonResult {
    warnings: GeneratorWarning[];
    changedFiles: string[];
    labels: string[];
    runAll: RunAllDecision;
    nightly: boolean;
}

export type GenerateResult =
    | (CommonResult & {
          kind: "pipeline";
          pipeline: Pipeline;
          /** Why each step of the output runs or is blocked, by output key. */
          explanations: Map<string, StepExplanation>;
          /** The steps read, before only-step-keys selection. */
          steps: Step[];
          cacheTags?: CacheTags;
      })
    | (CommonResult & { kind: "docs_only"; annotation: string });

async function resolveChangedFiles(inputs: GeneratorInputs, adapters: GeneratorAdapters): Promise<string[]> {
    let files = inputs.changedFiles;
    if (files === undefined) {
        const { build } = inputs;
        const mergeBase = build.mergeBaseCommit ?? (adapters.mergeBase ? await adapters.mergeBase() : null);
        if (build.branch !== "main" && !mergeBase) {
            throw new GeneratorError({ field: "MERGE_BASE_COMMIT" }, "failed to determine the merge base commit for git diff");
        }
        files = adapters.changedFiles ? await adapters.changedFiles({ branch: build.branch, mergeBase: mergeBase ?? null }) : [];
    }
    return files.filter((file) => file.trim() !== "");
}

/** Warnings (errors for AMD-looking names) for devices the catalog does not know (§4.5: they route to the default). */
function checkDevices(steps: Step[], catalog: Catalog, settings: GeneratorSettings, branch: string | undefined, sink: WarningSink): void {
    const amdPattern = new RegExp(`^(?:${settings.amd.devicePattern})$`);
    const known = Object.keys(catalog.devices).filter((name) => name !== "default");
    for (const step of steps) {
        if (step.device === null || isKnownDevice(catalog, step.device)) continue;
        const location = { file: step.file, step: step.label, field: "device" };
        if (amdPattern.test(step.device)) {
            throw new GeneratorError(location, `unknown AMD device ${step.device}${didYouMean(step.device, known)}`);
        }
        const queue = routeStep(catalog, { label: step.label, device: step.device, numDevices: step.numDevices }, branch);
        sink.warn(location, `unknown device "${step.device}"${didYouMean(step.device, known)}; the step runs on the default (queue ${queue})`);
    }
}

/** Keys the generator itself emits, which steps may depend on without declaring them. */
function generatedKeys(steps: Step[], settings: GeneratorSettings): Set<string> {
    const keys = new Set<string>([settings.precommit.key, settings.amd.buildKey]);
    for (const step of steps) {
        const key = stepKey(step);
        keys.add(`block-${key}`);
        keys.add(`block-amd-${key}`);
        if (step.amdMirror) keys.add(`amd-${key}`);
    }
    return keys;
}

/** Where each step of the output comes from: its job file and step, and its key (the pre-commit step has no file). */
function stepLocator(sources: WeakMap<PipelineStep, Location>, settings: GeneratorSettings): StepLocator {
    return (step) => {
        const key = typeof step.key === "string" ? step.key : undefined;
        const source = sources.get(step);
        if (source) return { ...source, key };
        if (key === settings.precommit.key) return { step: settings.precommit.label, key };
        return { step: typeof step.label === "string" ? step.label : typeof step.block === "string" ? step.block : undefined, key };
    };
}

/**
 * Keys Buildkite would reject: invalid characters or length, or used twice. Upstream emits them
 * (keys derived from labels are not checked, case 22; duplicates pass, spec §3.3) and the upload
 * then fails; here they are errors naming the step: the fix is an explicit, distinct `key`.
 * Block keys are checked too (`block-<key>` can pass 100 characters when the key does not).
 */
function checkKeys(pipeline: Pipeline, locate: StepLocator): void {
    const seen = new Map<string, PipelineStep>();
    const check = (step: PipelineStep, block: boolean) => {
        const key = step.key;
        if (typeof key !== "string" || "block" in step !== block) return;
        const what = block ? "its block step's key" : "key";
        const first = seen.get(key);
        if (first) {
            const other = locate(first);
            throw new GeneratorError(
                { ...locate(step), field: "key" },
                `${what} "${key}" is also the key of step "${other.step}"${other.file ? ` (${other.file})` : ""}: ` +
                    "Buildkite rejects a pipeline with duplicate keys; give the steps distinct keys",
            );
        }
        seen.set(key, step);
        const problem = keyProblem(key);
        if (problem) {
            throw new GeneratorError(
                { ...locate(step), field: "key" },
                `${what} "${key}" ${problem}: Buildkite would reject the pipeline; give the step an explicit key` + (block ? " of at most 94 characters" : ""),
            );
        }
    };
    // Command steps first: a duplicate is reported for the step, not for the block in front of it.
    for (const block of [false, true]) for (const group of pipeline.steps) for (const step of group.steps) check(step, block);
}

/** Generate the pipeline. Throws GeneratorError on bad input. */
export async function generatePipeline(inputs: GeneratorInputs, adapters: GeneratorAdapters = {}): Promise<GenerateResult> {
    const settings = inputs.settings ?? VLLM_SETTINGS;
    const { config, build, catalog } = inputs;
    const sink = new WarningSink(!!inputs.strict);

    // 1. Diff, labels, run-all and nightly.
    const changedFiles = await resolveChangedFiles(inputs, adapters);
    let labels: string[] = [];
    if (isPullRequest(build)) {
        labels = inputs.prLabels ?? (adapters.prLabels ? await adapters.prLabels(config.githubRepoName, build.pullRequest!) : []);
    }
    const runAll: RunAllDecision =
        inputs.runAll !== undefined
            ? {
                  runAll: inputs.runAll,
                  nightlyFromLabel: labels.includes(settings.github.runAllLabel),
                  reason: inputs.runAll ? "decided by the caller" : "the caller decided not to run all",
              }
            : decideRunAll({
                  runAllEnv: build.runAll,
                  torchNightly: build.torchNightly,
                  labels,
                  changedFiles,
                  patterns: config.runAllPatterns,
                  excludePatterns: config.runAllExcludePatterns,
                  settings,
              });
    const nightly = build.nightly || runAll.nightlyFromLabel;
    const common: CommonResult = { warnings: sink.warnings, changedFiles, labels, runAll, nightly };

    // 2. Docs-only short-circuit: no job file is read.
    if (build.docsOnlyDisable === "0" && !runAll.runAll && build.onlyStepKeys === undefined && isDocsOnlyDiff(changedFiles, settings)) {
        return { ...common, kind: "docs_only", annotation: settings.docsOnly.annotation };
    }

    // 3. Job files to steps.
    const files = typeof inputs.jobFiles === "function" ? inputs.jobFiles() : inputs.jobFiles;
    const allSteps: Step[] = [];
    for (const file of files) {
        const document = file.document !== undefined ? file.document : parseYaml(file.text ?? "", file.path);
        for (const step of parseJobFile(document, file.path, config.githubRepoName, settings, sink)) allSteps.push(step);
    }
    checkDevices(allSteps, catalog, settings, build.branch, sink);
    checkDependencies(allSteps, generatedKeys(allSteps, settings), (step, dependency) =>
        sink.warn(
            { file: step.file, step: step.label, field: "depends_on" },
            `depends on "${dependency}", which no step declares${didYouMean(dependency, allSteps.map(stepKey))}`,
        ),
    );

    // 4. Only-step-keys.
    const steps = build.onlyStepKeys ? selectOnlyStepKeys(allSteps, build.onlyStepKeys) : allSteps;

    // 5. Images, build cache and variable injection.
    const repositoryRole = build.branch === "main" ? "main" : "premerge";
    const repository = (): string => {
        const name = config.repositories[repositoryRole];
        if (!name) {
            throw new GeneratorError(
                { file: config.file, field: `repositories.${repositoryRole}` },
                `missing: the image repository of ${repositoryRole === "main" ? "main-branch" : "non-main"} builds is required`,
            );
        }
        return name;
    };
    const registry = (): string => {
        if (!config.registries) {
            throw new GeneratorError({ file: config.file, field: "registries" }, "missing: the image registry is required to name the container images");
        }
        return config.registries;
    };
    const image: ImageContext = { registry, repository, torchNightly: build.torchNightly, settings };
    let cacheTags: CacheTags | undefined;
    let injections: Injection[] = [];
    if (config.name === settings.injectionPipelineName) {
        if (adapters.ecrLogin) await adapters.ecrLogin();
        cacheTags = await computeCacheTags(
            { branch: build.branch, pullRequest: build.pullRequest, baseBranch: build.pullRequestBaseBranch },
            settings,
            (tag) => (adapters.manifestExists ? adapters.manifestExists(tag) : false),
        );
        const untaggedImage = `${registry()}/${repository()}:$BUILDKITE_COMMIT`;
        injections = [
            { name: "REGISTRY", value: registry() },
            { name: "REPO", value: repository() },
            { name: "BUILDKITE_COMMIT", value: "$$BUILDKITE_COMMIT" },
            { name: "BRANCH", value: build.branch ?? "" },
            { name: "CACHE_FROM", value: cacheTags.from },
            { name: "CACHE_TO", value: cacheTags.to },
            { name: "IMAGE_TAG", value: baseImage(image) },
            {
                name: "IMAGE_TAG_LATEST",
                value:
                    build.branch === "main" && !build.torchNightly && config.repositories.main
                        ? `${config.registries}/${config.repositories.main}:${settings.images.latestTag}`
                        : "",
            },
            { name: "IMAGE_TAG_TORCH_NIGHTLY", value: untaggedImage + settings.images.torchNightlySuffix },
        ];
    }

    // 6. Conversion, ordering, pre-commit.
    const amdDevices = catalogAmdDevices(catalog);
    const selection: SelectionContext = {
        noAuto: build.noAuto,
        onlyStepKeys: build.onlyStepKeys !== undefined,
        nightly,
        runAll: runAll.runAll,
        runAllReason: runAll.reason,
        changedFiles,
        changedFileSet: new Set(changedFiles),
        amdDevices,
        settings,
    };
    const context: PipelineContext = {
        settings,
        catalog,
        config,
        build,
        selection,
        injector: new Injector(injections),
        image,
        amdDevices,
        otel: otelTracingOn(config, build, settings) ? { setupLine: otelSetupLine(otelHelpersBundle()) } : undefined,
    };
    const { pipeline, explanations, sources } = buildPipeline(steps, context, { pullRequest: isPullRequest(build) });

    // 7. The output must be a valid Buildkite pipeline.
    const locate = stepLocator(sources, settings);
    checkKeys(pipeline, locate);
    validatePipeline(pipeline, locate);
    return { ...common, kind: "pipeline", pipeline, explanations, steps: allSteps, cacheTags };
}
