/**
 * The bootstrap: the first step of every build (replaces upstream's bootstrap shell scripts).
 *
 * In the vLLM checkout it works out the base branch and merge base, the changed files and the PR
 * labels; decides docs-only and run-all ONCE (upstream computes run-all twice and disagrees,
 * spec §6.1); checks whether precompiled wheels exist for the merge base; runs the generator in
 * process with those decisions (or, for AMD, renders the AMD template); puts the decisions the
 * jobs need in the pipeline's top-level `env`; then uploads the pipeline (and keeps it as an
 * artifact). Every fallback is annotated; every failure is an error annotation and one line.
 *
 * Bundled into `dist/bootstrap.js` (plain `node`, no node_modules). `bootstrap.sh` fetches it.
 */
import * as path from "path";
import { parseArgs } from "util";
import { EnvironmentError } from "./bootstrap-adapters";
import { runAmdEntry } from "./bootstrap-amd";
import {
    checkoutFacts,
    createContext,
    docsOnlyEnabled,
    LIMIT_VARIABLES,
    pullRequestLabels,
    uploadPipeline,
    type BootstrapContext,
    type ContextOptions,
    type JobDecisions,
} from "./bootstrap-context";
import { boundedCacheAdapters } from "./bootstrap-ecr";
import { ENTRY_NAMES, ENTRY_POINTS, fromEnv, matchPrefixRule, type EntryName, type GeneratorEntry } from "./bootstrap-entries";
import { ANNOTATION_CONTEXT } from "./bootstrap-report";
import { GeneratorError } from "./errors";
import { validatePipeline, writeYamlAtomic } from "./output";
import { loadPipelineConfig, loadSettings, runGenerator } from "./run";
import { decideRunAll, isDocsOnlyDiff } from "./selection";

/** The wheels host: `<base>/<commit>/vllm/metadata.json` is probed (`VLLM_WHEELS_URL` overrides). */
export const DEFAULT_WHEELS_URL = "https://wheels.vllm.ai";

/** Set by the bundler: the ci-infra commit the bundle was built from. */
declare const __BUNDLE_COMMIT__: string | undefined;
export const BUNDLE_COMMIT = typeof __BUNDLE_COMMIT__ !== "undefined" ? __BUNDLE_COMMIT__ : "source";

export interface BootstrapOptions extends ContextOptions {
    /** Which pipeline this is (default `cuda`). */
    entry?: EntryName;
}

/** What the bootstrap decided, for the log and the tests. */
export interface BootstrapOutcome {
    kind: "docs_only" | "uploaded";
    entry: EntryName;
    baseBranch: string;
    mergeBase: string;
    changedFiles: string[];
    labels: string[];
    runAll: boolean;
    runAllReason: string;
    nightly: boolean;
    usePrecompiled: string;
    precompiledReason: string;
    outputPath?: string;
}

/** The pipeline with the jobs' decisions in its top-level `env` (a pipeline's own env entries are kept). */
export function withJobDecisions(pipeline: Record<string, unknown>, decisions: JobDecisions): Record<string, unknown> {
    const { env, ...rest } = pipeline;
    return { env: { ...(env as Record<string, unknown> | undefined), ...decisions }, ...rest };
}

async function decidePrecompiled(
    context: BootstrapContext,
    runAll: boolean,
    changedFiles: string[],
    mergeBase: string,
    entry: GeneratorEntry,
): Promise<{ value: string; reason: string }> {
    const preset = context.env.VLLM_USE_PRECOMPILED;
    if (preset) return { value: preset, reason: "VLLM_USE_PRECOMPILED was set" };
    if (runAll) return { value: "0", reason: "a full run builds from source" };
    const source = matchPrefixRule(changedFiles, entry.sourceBuild);
    if (source) return { value: "0", reason: `${source} needs a source build` };
    const base = (context.env.VLLM_WHEELS_URL || DEFAULT_WHEELS_URL).replace(/\/+$/, "");
    const url = `${base}/${mergeBase}/vllm/metadata.json`;
    let problem = "";
    for (let attempt = 1; attempt <= 2; attempt++) {
        const result = await context.http(url, { method: "HEAD", timeoutMs: context.limits.httpTimeoutMs });
        if (!("error" in result) && result.status < 500) {
            return result.status >= 200 && result.status < 300
                ? { value: "1", reason: `wheels exist for ${mergeBase}` }
                : { value: "0", reason: `no wheels for ${mergeBase} (HTTP ${result.status})` };
        }
        problem = "error" in result ? result.error : `HTTP ${result.status}`;
    }
    context.report.warn(`the wheels host did not answer (HEAD ${url}: ${problem}); vLLM builds from source`);
    return { value: "0", reason: "wheels host unreachable" };
}

/** CUDA/CPU and Intel: the generator, in process. */
async function runGeneratorEntry(context: BootstrapContext, entry: GeneratorEntry): Promise<BootstrapOutcome> {
    const { cwd, env, report, log } = context;
    const configPath = fromEnv(env, entry.configEnv, entry.defaultConfigPath);
    const outputPath = fromEnv(env, entry.outputEnv, entry.defaultOutputPath);
    const generatorSettings = loadSettings(env.VLLM_CI_GENERATOR_SETTINGS, cwd);
    const config = loadPipelineConfig(cwd, configPath, generatorSettings);

    // 1. Merge base and changed files; 2. labels.
    const facts = await checkoutFacts(context);
    const { mergeBase, changedFiles } = facts;
    const labels = await pullRequestLabels(
        context,
        env.GITHUB_API_URL || generatorSettings.github.apiUrl,
        config.githubRepoName,
        generatorSettings.github.runAllLabel,
    );

    // 3. Run-all and nightly, decided once here and handed to the generator.
    const decision = decideRunAll({
        runAllEnv: env.RUN_ALL === "1" || facts.forcedRunAll !== undefined,
        torchNightly: env.TORCH_NIGHTLY === "1",
        labels,
        changedFiles,
        patterns: config.runAllPatterns ?? [],
        excludePatterns: config.runAllExcludePatterns ?? [],
        settings: generatorSettings,
    });
    const runAllReason = facts.forcedRunAll ?? decision.reason;
    const nightly = env.NIGHTLY === "1" || decision.nightlyFromLabel;
    const outcome = { entry: entry.name, baseBranch: facts.baseBranch, mergeBase, changedFiles, labels, runAll: decision.runAll, runAllReason, nightly };
    log(`bootstrap: base ${facts.baseBranch}, merge base ${mergeBase}, ${changedFiles.length} changed file(s), run all: ${decision.runAll} (${runAllReason})`);

    // 4. Docs-only builds stop here.
    if (docsOnlyEnabled(env) && !decision.runAll && !env.VLLM_CI_ONLY_STEP_KEYS && isDocsOnlyDiff(changedFiles, generatorSettings)) {
        await report.annotate("info", ANNOTATION_CONTEXT.docsOnly, generatorSettings.docsOnly.annotation);
        log("bootstrap: documentation-only change, CI skipped");
        return { kind: "docs_only", ...outcome, usePrecompiled: "0", precompiledReason: "docs-only: nothing runs" };
    }

    // 5. Precompiled wheels for the merge base.
    const precompiled = await decidePrecompiled(context, decision.runAll, changedFiles, mergeBase, entry);
    log(`bootstrap: VLLM_USE_PRECOMPILED=${precompiled.value} (${precompiled.reason})`);

    // 6. The generator, in process, with the decisions above.
    const run = await runGenerator({
        cwd,
        env: {
            ...env,
            MERGE_BASE_COMMIT: mergeBase,
            NIGHTLY: nightly ? "1" : env.NIGHTLY,
            // Docs-only was decided above; the generator must not decide it again.
            DOCS_ONLY_DISABLE: "1",
        },
        pipelineConfigPath: configPath,
        outputFilePath: outputPath,
        prLabels: labels,
        runAll: decision.runAll,
        settings: generatorSettings,
        config,
        adapters: {
            mergeBase: () => mergeBase,
            changedFiles: () => changedFiles,
            prLabels: () => labels,
            ...boundedCacheAdapters(context.run, generatorSettings, report, context.limits.commandTimeoutMs),
        },
        log,
    });
    if (run.result.kind !== "pipeline") throw new Error("the generator skipped a build the bootstrap did not skip");

    // 7. The decisions reach the jobs: the pipeline's top-level env (the generator's output is unchanged otherwise).
    const decisions: JobDecisions = { VLLM_USE_PRECOMPILED: precompiled.value, VLLM_MERGE_BASE_COMMIT: mergeBase };
    const pipeline = withJobDecisions(run.result.pipeline as unknown as Record<string, unknown>, decisions);
    validatePipeline(pipeline);
    const written = path.resolve(cwd, outputPath);
    writeYamlAtomic(written, pipeline);

    // 8. Artifact and upload.
    await uploadPipeline(context, outputPath, {
        VLLM_USE_PRECOMPILED: precompiled.value,
        VLLM_MERGE_BASE_COMMIT: mergeBase,
        MERGE_BASE_COMMIT: mergeBase,
        RUN_ALL: decision.runAll ? "1" : "0",
        NIGHTLY: nightly ? "1" : "0",
    });
    return { kind: "uploaded", ...outcome, usePrecompiled: precompiled.value, precompiledReason: precompiled.reason, outputPath: written };
}

/** The whole bootstrap. Throws GeneratorError on bad input, EnvironmentError when the agent cannot run it. */
export async function runBootstrap(options: BootstrapOptions): Promise<BootstrapOutcome> {
    const entry = ENTRY_POINTS[options.entry ?? "cuda"];
    const context = createContext(options);
    context.log(`bootstrap: ci-infra ${BUNDLE_COMMIT}, entry point ${entry.name}`);
    try {
        const outcome = entry.kind === "template" ? await runAmdEntry(context, entry) : await runGeneratorEntry(context, entry);
        await context.report.flush();
        return outcome;
    } catch (error) {
        await context.report.flush();
        await context.report.error(oneLine(error));
        throw error;
    }
}

function oneLine(error: unknown): string {
    return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unknown error";
}

const USAGE = `usage: node dist/bootstrap.js [--entry cuda|intel|amd] [--help]

The first step of a vLLM build: base branch, merge base, changed files, PR labels, docs-only and
run-all decisions, precompiled wheels, then the pipeline (generator or AMD template) and the
upload. Run it from the root of the vLLM checkout.

Entry points (--entry, default cuda):
${ENTRY_NAMES.map((name) => `  ${name.padEnd(6)} ${ENTRY_POINTS[name].description}`).join("\n")}

Environment:
  BUILDKITE_BRANCH, BUILDKITE_COMMIT, BUILDKITE_PULL_REQUEST, BUILDKITE_PULL_REQUEST_BASE_BRANCH,
  BUILDKITE_PIPELINE_SLUG (amd: fastcheck renders the amdtentative mirror)
  RUN_ALL=1, NIGHTLY=1, TORCH_NIGHTLY=1   force a full / nightly / torch-nightly run
  DOCS_ONLY_DISABLE                       any value but 0 disables the docs-only skip
  MERGE_BASE_COMMIT                       kept when set (no merge-base computation)
  VLLM_USE_PRECOMPILED                    kept when set (no wheels check)
  PIPELINE_CONFIG_PATH                    cuda: .buildkite/ci_config.yaml, intel: .buildkite/ci_config_intel.yaml
  OUTPUT_PIPELINE_PATH (intel), PIPELINE_OUTPUT_PATH   default .buildkite/pipeline.yaml
  GITHUB_API_URL, GITHUB_TOKEN            PR labels (the token raises GitHub's rate limit)
  VLLM_WHEELS_URL                         default ${DEFAULT_WHEELS_URL}
  VLLM_CI_GENERATOR_SETTINGS              a generator settings file (YAML/JSON)
  AMD_MIRROR_HW, COV_ENABLED, VLLM_CI_BRANCH, ROCM_BASE_REFRESH_SKIP, ROCM_BASE_REFRESH_FORCE   (amd)
${LIMIT_VARIABLES.map(([name, , fallback, unit, meaning]) => `  ${name.padEnd(38)}${meaning} (default ${fallback}${unit === "s" ? " s" : " commits"})`).join("\n")}
  plus every variable the generator reads (node dist/pipeline-generator.js --help).

Exit codes: 0 uploaded or docs-only, 2 bad input, 3 the agent cannot run the bootstrap
(git missing, time budget spent, upload refused), 1 internal error.`;

export async function main(argv: string[], env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<number> {
    let entry: EntryName;
    try {
        const { values } = parseArgs({ args: argv, options: { help: { type: "boolean" }, entry: { type: "string" } } });
        if (values.help) {
            process.stdout.write(`${USAGE}\n`);
            return 0;
        }
        const name = values.entry ?? "cuda";
        if (!(ENTRY_NAMES as readonly string[]).includes(name)) throw new Error(`--entry must be one of ${ENTRY_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
        entry = name as EntryName;
    } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
        return 2;
    }
    try {
        await runBootstrap({ cwd, env, entry });
        return 0;
    } catch (error) {
        process.stderr.write(`error: ${oneLine(error)}\n`);
        if (error instanceof GeneratorError) return 2;
        if (error instanceof EnvironmentError) return 3;
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
