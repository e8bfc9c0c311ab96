/**
 * The bootstrap: the first step of every build (replaces upstream's bootstrap shell scripts).
 *
 * In the vLLM checkout it works out the base branch and merge base, the changed files and the PR
 * labels; decides docs-only and run-all ONCE (upstream computes run-all twice and disagrees,
 * spec §6.1); checks whether precompiled wheels exist for the merge base; runs the generator in
 * process with those decisions; then uploads the pipeline (and keeps it as an artifact).
 *
 * Bundled into `dist/bootstrap.js` (plain `node`, no node_modules). `bootstrap.sh` fetches it.
 */
import { parseArgs } from "util";
import {
    DEFAULT_RETRY,
    realAgent,
    realGit,
    realHttp,
    type AgentRunner,
    type GitRunner,
    type HttpClient,
} from "./bootstrap-adapters";
import { isPullRequestNumber } from "./config";
import { dockerAdapters } from "./adapters";
import { GeneratorError } from "./errors";
import { loadPipelineConfig, loadSettings, runGenerator } from "./run";
import { decideRunAll, isDocsOnlyDiff } from "./selection";
import type { GeneratorSettings } from "./settings";

/** Where the bootstrap's vLLM-specific values come from; each has an environment override. */
export interface BootstrapSettings {
    /** `PIPELINE_CONFIG_PATH`: the pipeline config, relative to the checkout. */
    pipelineConfigPath: string;
    /** `PIPELINE_OUTPUT_PATH`: where the pipeline is written. */
    outputPath: string;
    /** `VLLM_WHEELS_URL`: base URL of the precompiled wheels; `<base>/<commit>/vllm/metadata.json` is probed. */
    wheelsBaseUrl: string;
    /** Changed paths (prefixes) that need a source build, so precompiled wheels cannot be used. */
    sourceBuildPrefixes: string[];
}

export const VLLM_BOOTSTRAP_SETTINGS: BootstrapSettings = {
    pipelineConfigPath: ".buildkite/ci_config.yaml",
    outputPath: ".buildkite/pipeline.yaml",
    wheelsBaseUrl: "https://wheels.vllm.ai",
    sourceBuildPrefixes: ["csrc/", "cmake/", "CMakeLists.txt", "setup.py", "requirements/build.txt", "docker/Dockerfile", "vllm/vllm_flash_attn/"],
};

export function bootstrapSettings(env: Record<string, string | undefined>): BootstrapSettings {
    return {
        ...VLLM_BOOTSTRAP_SETTINGS,
        pipelineConfigPath: env.PIPELINE_CONFIG_PATH || VLLM_BOOTSTRAP_SETTINGS.pipelineConfigPath,
        outputPath: env.PIPELINE_OUTPUT_PATH || VLLM_BOOTSTRAP_SETTINGS.outputPath,
        wheelsBaseUrl: (env.VLLM_WHEELS_URL || VLLM_BOOTSTRAP_SETTINGS.wheelsBaseUrl).replace(/\/+$/, ""),
    };
}

export interface BootstrapOptions {
    cwd: string;
    env: Record<string, string | undefined>;
    git?: GitRunner;
    agent?: AgentRunner;
    http?: HttpClient;
    log?: (line: string) => void;
}

/** What the bootstrap decided, for the log and the tests. */
export interface BootstrapOutcome {
    kind: "docs_only" | "uploaded";
    baseBranch: string;
    mergeBase: string;
    changedFiles: string[];
    labels: string[];
    runAll: boolean;
    runAllReason: string;
    nightly: boolean;
    usePrecompiled: "0" | "1";
    precompiledReason: string;
    outputPath?: string;
}

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
const isPullRequest = isPullRequestNumber;

/** The base branch and whether this is a pull-request build. */
export function baseBranchOf(env: Record<string, string | undefined>): string {
    return isPullRequest(env.BUILDKITE_PULL_REQUEST) ? env.BUILDKITE_PULL_REQUEST_BASE_BRANCH || "main" : "main";
}

/** Whether a change needs a source build (so wheels built for the merge base cannot stand in). */
export function needsSourceBuild(changedFiles: string[], prefixes: string[]): string | undefined {
    return changedFiles.find((file) => prefixes.some((prefix) => file === prefix || file.startsWith(prefix)));
}

/** The docs-only switch: on unless DOCS_ONLY_DISABLE holds a value other than 0. */
export function docsOnlyEnabled(env: Record<string, string | undefined>): boolean {
    const value = env.DOCS_ONLY_DISABLE;
    return value === undefined || value === "" || value === "0";
}

async function fetchLabels(http: HttpClient, apiUrl: string, repo: string, pullRequest: string, log: (l: string) => void): Promise<string[]> {
    const url = `${apiUrl.replace(/\/+$/, "")}/repos/${repo}/pulls/${pullRequest}`;
    const result = await http(url, { method: "GET", headers: { Accept: "application/vnd.github+json" } });
    if ("error" in result || result.status !== 200) {
        const why = "error" in result ? result.error : `HTTP ${result.status}`;
        log(`warning: could not read the PR labels (${why}); continuing without labels`);
        return [];
    }
    try {
        const body = JSON.parse(result.body) as { labels?: Array<{ name?: unknown }> };
        return (body.labels ?? []).map((label) => label.name).filter((name): name is string => typeof name === "string");
    } catch {
        log(`warning: the PR labels answer of ${url} is not JSON; continuing without labels`);
        return [];
    }
}

async function decidePrecompiled(
    env: Record<string, string | undefined>,
    runAll: boolean,
    changedFiles: string[],
    mergeBase: string,
    settings: BootstrapSettings,
    http: HttpClient,
): Promise<{ value: "0" | "1"; reason: string }> {
    const preset = env.VLLM_USE_PRECOMPILED;
    if (preset === "0" || preset === "1") return { value: preset, reason: "VLLM_USE_PRECOMPILED was set" };
    if (runAll) return { value: "0", reason: "a full run builds from source" };
    const source = needsSourceBuild(changedFiles, settings.sourceBuildPrefixes);
    if (source) return { value: "0", reason: `${source} needs a source build` };
    const url = `${settings.wheelsBaseUrl}/${mergeBase}/vllm/metadata.json`;
    const result = await http(url, { method: "HEAD" });
    if ("error" in result) return { value: "0", reason: `wheels host unreachable (${result.error})` };
    return result.status >= 200 && result.status < 300
        ? { value: "1", reason: `wheels exist for ${mergeBase}` }
        : { value: "0", reason: `no wheels for ${mergeBase} (HTTP ${result.status})` };
}

/** The whole bootstrap. Throws GeneratorError on bad input or a failed upload. */
export async function runBootstrap(options: BootstrapOptions): Promise<BootstrapOutcome> {
    const { cwd, env } = options;
    const git = options.git ?? realGit(cwd);
    const agent = options.agent ?? realAgent(cwd);
    const http = options.http ?? realHttp(DEFAULT_RETRY);
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const settings = bootstrapSettings(env);
    const generatorSettings: GeneratorSettings = loadSettings(env.VLLM_CI_GENERATOR_SETTINGS, cwd);
    const configPath = settings.pipelineConfigPath;
    const config = loadPipelineConfig(cwd, configPath, generatorSettings);

    // 1. Base branch, merge base, changed files.
    const pullRequest = env.BUILDKITE_PULL_REQUEST;
    const baseBranch = baseBranchOf(env);
    const onMain = env.BUILDKITE_BRANCH === "main" && !isPullRequest(pullRequest);
    if (!git(["fetch", "--no-tags", "origin", baseBranch]).ok) log(`warning: git fetch origin ${baseBranch} failed`);
    let forcedRunAll: string | undefined;
    let mergeBase = lines(git(["merge-base", `origin/${baseBranch}`, "HEAD"]).stdout)[0];
    if (!mergeBase) {
        forcedRunAll = `no merge base with origin/${baseBranch}`;
        mergeBase = lines(git(["rev-parse", "HEAD"]).stdout)[0] ?? "HEAD";
        log(`warning: ${forcedRunAll}; running everything`);
    }
    const diffBase = onMain ? "HEAD~1" : mergeBase;
    const diff = git(["diff", "--name-only", "--diff-filter=ACMDR", diffBase, "HEAD"]);
    if (!diff.ok) {
        forcedRunAll ??= `git diff against ${diffBase} failed`;
        log(`warning: git diff against ${diffBase} failed; running everything`);
    }
    const changedFiles = diff.ok ? lines(diff.stdout) : [];

    // 2. Labels: a GitHub outage degrades to "no labels", it never blocks CI.
    const labels = isPullRequest(pullRequest)
        ? await fetchLabels(http, env.GITHUB_API_URL || generatorSettings.github.apiUrl, config.githubRepoName, pullRequest!, log)
        : [];

    // 3. Run-all and nightly, decided once here and handed to the generator.
    const decision = decideRunAll({
        runAllEnv: env.RUN_ALL === "1" || forcedRunAll !== undefined,
        torchNightly: env.TORCH_NIGHTLY === "1",
        labels,
        changedFiles,
        patterns: config.runAllPatterns ?? [],
        excludePatterns: config.runAllExcludePatterns ?? [],
        settings: generatorSettings,
    });
    const runAllReason = forcedRunAll ?? decision.reason;
    const nightly = env.NIGHTLY === "1" || decision.nightlyFromLabel;
    const outcome = { baseBranch, mergeBase, changedFiles, labels, runAll: decision.runAll, runAllReason, nightly };
    log(`bootstrap: base ${baseBranch}, merge base ${mergeBase}, ${changedFiles.length} changed file(s), run all: ${decision.runAll} (${runAllReason})`);

    // 4. Docs-only builds stop here.
    if (docsOnlyEnabled(env) && !decision.runAll && !env.VLLM_CI_ONLY_STEP_KEYS && isDocsOnlyDiff(changedFiles, generatorSettings)) {
        const annotated = agent(["annotate", "--style", "info", "--context", "docs-only", generatorSettings.docsOnly.annotation]);
        if (!annotated.ok) log(`warning: buildkite-agent annotate failed: ${annotated.stderr.trim().split("\n")[0]}`);
        log("bootstrap: documentation-only change, CI skipped");
        return { kind: "docs_only", ...outcome, usePrecompiled: "0", precompiledReason: "docs-only: nothing runs" };
    }

    // 5. Precompiled wheels for the merge base.
    const precompiled = await decidePrecompiled(env, decision.runAll, changedFiles, mergeBase, settings, http);
    log(`bootstrap: VLLM_USE_PRECOMPILED=${precompiled.value} (${precompiled.reason})`);

    // 6. The generator, in process, with the decisions above.
    const generatorEnv: Record<string, string | undefined> = {
        ...env,
        MERGE_BASE_COMMIT: mergeBase,
        NIGHTLY: nightly ? "1" : env.NIGHTLY,
        // Docs-only was decided above; the generator must not decide it again.
        DOCS_ONLY_DISABLE: "1",
    };
    const run = await runGenerator({
        cwd,
        env: generatorEnv,
        pipelineConfigPath: configPath,
        outputFilePath: settings.outputPath,
        prLabels: labels,
        runAll: decision.runAll,
        settings: generatorSettings,
        config,
        adapters: {
            mergeBase: () => mergeBase,
            changedFiles: () => changedFiles,
            prLabels: () => labels,
            ...dockerAdapters(generatorSettings, cwd),
        },
        log,
    });
    const outputPath = run.outputPath ?? settings.outputPath;

    // 7. Keep the pipeline as an artifact, then upload it. Buildkite interpolates
    // $VLLM_USE_PRECOMPILED in the steps from the uploader's environment.
    const uploadEnv = { VLLM_USE_PRECOMPILED: precompiled.value, MERGE_BASE_COMMIT: mergeBase, RUN_ALL: decision.runAll ? "1" : "0", NIGHTLY: nightly ? "1" : "0" };
    const artifact = agent(["artifact", "upload", settings.outputPath], uploadEnv);
    if (!artifact.ok) log(`warning: buildkite-agent artifact upload failed: ${artifact.stderr.trim().split("\n")[0]}`);
    const upload = agent(["pipeline", "upload", settings.outputPath], uploadEnv);
    if (!upload.ok) {
        throw new GeneratorError({ file: settings.outputPath }, `buildkite-agent pipeline upload failed: ${upload.stderr.trim().split("\n")[0] || "no output"}`);
    }
    return { kind: "uploaded", ...outcome, usePrecompiled: precompiled.value, precompiledReason: precompiled.reason, outputPath };
}

const USAGE = `usage: node dist/bootstrap.js [--help]

The first step of a vLLM build: base branch, merge base, changed files, PR labels, docs-only and
run-all decisions, precompiled wheels, then the pipeline generator and the upload. Run it from the
root of the vLLM checkout.

Environment:
  BUILDKITE_BRANCH, BUILDKITE_COMMIT, BUILDKITE_PULL_REQUEST, BUILDKITE_PULL_REQUEST_BASE_BRANCH
  RUN_ALL=1, NIGHTLY=1, TORCH_NIGHTLY=1   force a full / nightly / torch-nightly run
  DOCS_ONLY_DISABLE                       any value but 0 disables the docs-only skip
  VLLM_USE_PRECOMPILED                    0 or 1 skips the wheels check
  PIPELINE_CONFIG_PATH                    default ${VLLM_BOOTSTRAP_SETTINGS.pipelineConfigPath}
  PIPELINE_OUTPUT_PATH                    default ${VLLM_BOOTSTRAP_SETTINGS.outputPath}
  GITHUB_API_URL                          default https://api.github.com
  VLLM_WHEELS_URL                         default ${VLLM_BOOTSTRAP_SETTINGS.wheelsBaseUrl}
  VLLM_CI_GENERATOR_SETTINGS              a generator settings file (YAML/JSON)
  plus every variable the generator reads (node dist/pipeline-generator.js --help).`;

export async function main(argv: string[], env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<number> {
    try {
        const { values } = parseArgs({ args: argv, options: { help: { type: "boolean" } } });
        if (values.help) {
            process.stdout.write(`${USAGE}\n`);
            return 0;
        }
    } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
        return 2;
    }
    try {
        await runBootstrap({ cwd, env });
        return 0;
    } catch (error) {
        if (error instanceof GeneratorError) {
            process.stderr.write(`error: ${error.message}\n`);
            return 2;
        }
        process.stderr.write(`error: ${(error as Error).message.split("\n")[0]}\n`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
