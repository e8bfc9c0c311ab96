/**
 * The pipeline config file (spec §2.2) and the build context read from the environment (§2.3).
 * Both are validated here, in the reference's order, before anything else runs.
 */
import { GeneratorError } from "./errors";
import type { GeneratorSettings } from "./settings";
import { isPlainObject } from "../lib/values";

export interface PipelineConfig {
    /** File the config was read from (for messages). */
    file: string;
    name: string;
    /** Job directories, relative to the working directory. */
    jobDirs: string[];
    /**
     * Image registry prefix, e.g. `public.ecr.aws/q9t5s3a7`. Optional here (the reference requires
     * it): only steps that run in a container image, and `$VAR` injection, need it, and a
     * pipeline without such steps (vLLM's `ci_config_rocm.yaml`) has none.
     */
    registries: string | undefined;
    /** Image repositories: `main` for main-branch builds, `premerge` for the others (optional, like `registries`). */
    repositories: { main?: string; premerge?: string; [other: string]: string | undefined };
    /**
     * Regexes matched at the start of changed paths (Python `re.match`). A missing list is an
     * empty list: the reference crashes instead (case 06, a deliberate deviation).
     */
    runAllPatterns: string[];
    runAllExcludePatterns: string[];
    githubRepoName: string;
}


function stringList(value: unknown, file: string, field: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
        throw new GeneratorError({ file, field }, "must be a list of strings");
    }
    return value as string[];
}

function checkRegexes(patterns: string[], file: string, field: string): void {
    patterns.forEach((pattern, index) => {
        try {
            new RegExp(pattern);
        } catch (error) {
            throw new GeneratorError({ file, field: `${field}[${index}]` }, `invalid regex ${JSON.stringify(pattern)}`);
        }
    });
}

/**
 * Validate a parsed pipeline config. The order of the checks is the reference's: name, job_dirs,
 * registries, repositories, github_repo_name. Whether each job dir exists is checked by the
 * caller, which owns the file system.
 */
export function parsePipelineConfig(raw: unknown, file: string, settings: GeneratorSettings): PipelineConfig {
    if (!isPlainObject(raw)) throw new GeneratorError({ file }, "the pipeline config must be a mapping");
    if (!("name" in raw)) throw new GeneratorError({ file, field: "name" }, "missing (the pipeline name is required)");
    if (!raw.name || typeof raw.name !== "string") {
        throw new GeneratorError({ file, field: "name" }, "the pipeline name is required (a non-empty string)");
    }
    if (!Array.isArray(raw.job_dirs) || raw.job_dirs.length === 0) {
        throw new GeneratorError({ file, field: "job_dirs" }, "must be a non-empty list of directories");
    }
    const jobDirs = stringList(raw.job_dirs, file, "job_dirs");
    if (raw.registries !== undefined && raw.registries !== null && (!raw.registries || typeof raw.registries !== "string")) {
        throw new GeneratorError({ file, field: "registries" }, "the image registry must be a non-empty string");
    }
    const repositories = raw.repositories ?? {};
    if (!isPlainObject(repositories) || (raw.repositories !== undefined && raw.repositories !== null && Object.keys(repositories).length === 0)) {
        throw new GeneratorError({ file, field: "repositories" }, "must be a mapping with `main` and `premerge`");
    }
    for (const [key, value] of Object.entries(repositories)) {
        if (typeof value !== "string") throw new GeneratorError({ file, field: `repositories.${key}` }, "must be a string");
    }
    const repo = raw.github_repo_name === undefined || raw.github_repo_name === null ? settings.github.defaultRepo : raw.github_repo_name;
    // Python's `$` also accepts one trailing newline.
    if (typeof repo !== "string" || !new RegExp(`^(?:${settings.github.repoNamePattern})\\n?$`).test(repo)) {
        throw new GeneratorError(
            { file, field: "github_repo_name" },
            `invalid github_repo_name ${JSON.stringify(repo)}: must match ${settings.github.repoNamePattern}`,
        );
    }
    const runAllPatterns = stringList(raw.run_all_patterns, file, "run_all_patterns");
    const runAllExcludePatterns = stringList(raw.run_all_exclude_patterns, file, "run_all_exclude_patterns");
    checkRegexes(runAllPatterns, file, "run_all_patterns");
    checkRegexes(runAllExcludePatterns, file, "run_all_exclude_patterns");
    return {
        file,
        name: raw.name,
        jobDirs,
        registries: (raw.registries as string | null | undefined) ?? undefined,
        repositories: repositories as PipelineConfig["repositories"],
        runAllPatterns,
        runAllExcludePatterns,
        githubRepoName: repo,
    };
}

/** The build, as the environment describes it (spec §2.3). Flags keep the reference's exact-string tests. */
export interface BuildContext {
    branch: string | undefined;
    commit: string | undefined;
    pullRequest: string | undefined;
    pullRequestBaseBranch: string | undefined;
    mergeBaseCommit: string | undefined;
    /** The docs-only skip is active only when this is exactly "0" (the default). */
    docsOnlyDisable: string;
    runAll: boolean;
    nightly: boolean;
    torchNightly: boolean;
    /** Requested step keys (`VLLM_CI_ONLY_STEP_KEYS`), or undefined when unset. */
    onlyStepKeys: string[] | undefined;
    noAuto: boolean;
    skipTimeout: boolean;
    highPriority: boolean;
    continueOnFailure: boolean;
    rocmBaseRefreshSkip: string;
    rocmBaseRefreshForce: string;
    rocmDebugAgent: boolean;
    /** `CI_INFRA_OTEL_TREATMENT_BRANCH`: a branch traced like main when started through the API. */
    otelTreatmentBranch: string | undefined;
    /** `BUILDKITE_SOURCE` (`webhook`, `api`, `ui`, `schedule`...). */
    buildkiteSource: string | undefined;
}

/** Every environment variable the generator reads, with what it does (for `--help`). */
export const ENVIRONMENT_VARIABLES: ReadonlyArray<[string, string]> = [
    ["BUILDKITE_BRANCH", "branch; `main` selects postmerge images, queues and caches"],
    ["BUILDKITE_COMMIT", "commit baked into the pre-commit poller"],
    ["BUILDKITE_PULL_REQUEST", "PR number, or `false`/empty for branch builds (labels, pre-commit group, ECR cache; exactly `false` for OTel tracing)"],
    ["BUILDKITE_PULL_REQUEST_BASE_BRANCH", "PR base branch (ECR cache fallback)"],
    ["MERGE_BASE_COMMIT", "merge base of the diff (default: git merge-base origin/main HEAD)"],
    ["DOCS_ONLY_DISABLE", "the docs-only skip is active only when this is 0 (default 0)"],
    ["RUN_ALL", "1: run every non-optional step"],
    ["NIGHTLY", "1: run every step, optional ones included"],
    ["TORCH_NIGHTLY", "1: run all, with -torch-nightly images"],
    ["VLLM_CI_ONLY_STEP_KEYS", "JSON list of step keys: only these and their dependencies"],
    ["NOAUTO", "1: block every step"],
    ["SKIP_TIMEOUT", "1: no timeout_in_minutes anywhere"],
    ["PRIORITY", "HIGH: priority 1000 instead of 0"],
    ["CONTINUE_ON_FAILURE", "1: run every command of a step even after a failure"],
    ["ROCM_BASE_REFRESH_SKIP", "1: the ROCm base refresh step gets a 15-minute timeout (passed to its env)"],
    ["ROCM_BASE_REFRESH_FORCE", "passed to the env of the ROCm base refresh step"],
    ["VLLM_CI_ENABLE_ROCM_DEBUG_AGENT", "1: AMD steps set up the ROCm debug agent"],
    ["CI_INFRA_OTEL_TREATMENT_BRANCH", "a branch whose API-started builds get OTel command tracing like main"],
    ["BUILDKITE_SOURCE", "what started the build; `api` (with the treatment branch) turns on OTel tracing"],
];

const BRANCH_PATTERN = /^[a-zA-Z0-9._/:-]+$/;
const STEP_KEY_PATTERN = /^[a-zA-Z0-9_-]+$/;
const ONLY_KEYS = "VLLM_CI_ONLY_STEP_KEYS";

/** Parse `VLLM_CI_ONLY_STEP_KEYS` with the reference's four checks and messages (case 19). */
export function parseOnlyStepKeys(value: string): string[] {
    const fail = (reason: string): never => {
        throw new GeneratorError({ field: ONLY_KEYS }, reason);
    };
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        fail(`${ONLY_KEYS} must be a JSON array of step keys.`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0) fail(`${ONLY_KEYS} must be a non-empty JSON array.`);
    const keys = parsed as unknown[];
    if (keys.some((key) => typeof key !== "string" || !STEP_KEY_PATTERN.test(key))) {
        fail(`${ONLY_KEYS} contains an invalid step key.`);
    }
    if (new Set(keys).size !== keys.length) fail(`${ONLY_KEYS} contains duplicate step keys.`);
    return keys as string[];
}

/** Read the build context from environment variables (only these; nothing else is consulted). */
export function readBuildContext(env: Record<string, string | undefined>): BuildContext {
    const branch = env.BUILDKITE_BRANCH;
    if (branch !== undefined && branch !== "" && !BRANCH_PATTERN.test(branch)) {
        throw new GeneratorError(
            { field: "BUILDKITE_BRANCH" },
            `invalid branch name ${JSON.stringify(branch)}: only letters, digits and . _ / : - are allowed`,
        );
    }
    const only = env[ONLY_KEYS];
    return {
        // An empty branch is treated like an unset one, as the reference's truthiness tests do.
        branch: branch || undefined,
        commit: env.BUILDKITE_COMMIT,
        pullRequest: env.BUILDKITE_PULL_REQUEST,
        pullRequestBaseBranch: env.BUILDKITE_PULL_REQUEST_BASE_BRANCH,
        mergeBaseCommit: env.MERGE_BASE_COMMIT || undefined,
        docsOnlyDisable: env.DOCS_ONLY_DISABLE ?? "0",
        runAll: env.RUN_ALL === "1",
        nightly: (env.NIGHTLY ?? "0") === "1",
        torchNightly: (env.TORCH_NIGHTLY ?? "0") === "1",
        onlyStepKeys: only === undefined ? undefined : parseOnlyStepKeys(only),
        noAuto: env.NOAUTO === "1",
        skipTimeout: env.SKIP_TIMEOUT === "1",
        highPriority: env.PRIORITY === "HIGH",
        continueOnFailure: env.CONTINUE_ON_FAILURE === "1",
        rocmBaseRefreshSkip: env.ROCM_BASE_REFRESH_SKIP ?? "0",
        rocmBaseRefreshForce: env.ROCM_BASE_REFRESH_FORCE ?? "0",
        rocmDebugAgent: env.VLLM_CI_ENABLE_ROCM_DEBUG_AGENT === "1",
        otelTreatmentBranch: env.CI_INFRA_OTEL_TREATMENT_BRANCH || undefined,
        buildkiteSource: env.BUILDKITE_SOURCE,
    };
}

/** Whether `BUILDKITE_PULL_REQUEST` names a pull request: set, non-empty and not `false`. */
export function isPullRequestNumber(value: string | null | undefined): boolean {
    return !!value && value !== "false";
}

/** A PR build for labels and the pre-commit group. */
export function isPullRequest(context: BuildContext): boolean {
    return isPullRequestNumber(context.pullRequest);
}
