/**
 * What every entry point of the bootstrap shares: the time limits (each overridable from the
 * environment, so tests can use short ones), the runners, the report, and the steps common to
 * all entries (the checkout's facts, the PR labels, the decisions handed to the jobs, the upload).
 */
import * as fs from "fs";
import {
    agentRunner,
    Deadline,
    describeFailure,
    EnvironmentError,
    gitRunner,
    realHttp,
    realRunner,
    type AgentRunner,
    type CommandRunner,
    type GitRunner,
    type HttpClient,
} from "./bootstrap-adapters";
import { inspectCheckout, type CheckoutFacts } from "./bootstrap-git";
import { readPrLabels } from "./bootstrap-github";
import { BootstrapReport } from "./bootstrap-report";
import { GeneratorError } from "./errors";

/** Time limits of one run. */
export interface BootstrapLimits {
    /** The whole run; every command's and request's timeout is cut to what is left of it. */
    budgetMs: number;
    /** One git command (fetches included). */
    gitTimeoutMs: number;
    /** One `aws` or `docker` command. */
    commandTimeoutMs: number;
    /** One `buildkite-agent` command. */
    agentTimeoutMs: number;
    /** The PR-label lookup, retries and rate-limit waits included. */
    githubBudgetMs: number;
    /** One HTTP request. */
    httpTimeoutMs: number;
    /** Commits fetched first on a shallow clone, and the first deepening step. */
    gitDepth: number;
    /** Extra commits a shallow clone may be deepened by, in all. */
    gitMaxDeepen: number;
}

/** [variable, field, default, unit, meaning]: seconds are converted to milliseconds. */
export const LIMIT_VARIABLES: ReadonlyArray<[string, keyof BootstrapLimits, number, "s" | "commits", string]> = [
    ["VLLM_CI_BOOTSTRAP_BUDGET_S", "budgetMs", 600, "s", "the whole bootstrap"],
    ["VLLM_CI_GIT_TIMEOUT_S", "gitTimeoutMs", 180, "s", "one git command"],
    ["VLLM_CI_COMMAND_TIMEOUT_S", "commandTimeoutMs", 30, "s", "one aws or docker command"],
    ["VLLM_CI_AGENT_TIMEOUT_S", "agentTimeoutMs", 120, "s", "one buildkite-agent command"],
    ["VLLM_CI_GITHUB_BUDGET_S", "githubBudgetMs", 15, "s", "the PR-label lookup, retries included"],
    ["VLLM_CI_HTTP_TIMEOUT_S", "httpTimeoutMs", 5, "s", "one HTTP request"],
    ["VLLM_CI_GIT_DEPTH", "gitDepth", 50, "commits", "first fetch and first deepening step of a shallow clone"],
    ["VLLM_CI_GIT_MAX_DEEPEN", "gitMaxDeepen", 1600, "commits", "extra history a shallow clone may fetch"],
];

export function bootstrapLimits(env: Record<string, string | undefined>): BootstrapLimits {
    const limits = {} as BootstrapLimits;
    for (const [name, field, fallback, unit] of LIMIT_VARIABLES) {
        const raw = env[name];
        const value = raw === undefined || raw === "" ? fallback : Number(raw);
        if (!Number.isFinite(value) || value <= 0 || (unit === "commits" && !Number.isInteger(value))) {
            throw new GeneratorError({ field: name }, `must be a positive ${unit === "s" ? "number of seconds" : "whole number"}, got ${JSON.stringify(raw)}`);
        }
        limits[field] = unit === "s" ? Math.round(value * 1000) : value;
    }
    return limits;
}

export interface BootstrapContext {
    cwd: string;
    env: Record<string, string | undefined>;
    limits: BootstrapLimits;
    deadline: Deadline;
    run: CommandRunner;
    git: GitRunner;
    agent: AgentRunner;
    http: HttpClient;
    report: BootstrapReport;
    log: (line: string) => void;
}

export interface ContextOptions {
    cwd: string;
    env: Record<string, string | undefined>;
    /** Replace the command runner (tests); default: real processes. */
    run?: CommandRunner;
    http?: HttpClient;
    log?: (line: string) => void;
}

export function createContext(options: ContextOptions): BootstrapContext {
    const { cwd, env } = options;
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    // Limits first: a bad value is bad input, reported before anything runs.
    const limits = bootstrapLimits(env);
    const deadline = new Deadline(limits.budgetMs);
    const run = options.run ?? realRunner(cwd, deadline);
    const agent = agentRunner(run, limits.agentTimeoutMs);
    return {
        cwd,
        env,
        limits,
        deadline,
        run,
        // safe.directory must name the checkout as git resolves it (no symlinks).
        git: gitRunner(run, realPath(cwd), limits.gitTimeoutMs),
        agent,
        http: options.http ?? realHttp(deadline),
        report: new BootstrapReport(agent, log),
        log,
    };
}

function realPath(directory: string): string {
    try {
        return fs.realpathSync(directory);
    } catch {
        return directory;
    }
}

/** A PR build: `BUILDKITE_PULL_REQUEST` set and not `false` (what Buildkite sets on branch builds). */
export const isPullRequest = (value: string | undefined) => !!value && value !== "false";

/** The branch the merge base is computed against: the PR's base branch, or main. */
export function baseBranchOf(env: Record<string, string | undefined>): string {
    return isPullRequest(env.BUILDKITE_PULL_REQUEST) ? env.BUILDKITE_PULL_REQUEST_BASE_BRANCH || "main" : "main";
}

/** A main-branch build (not a PR whose head branch happens to be called main). */
export function isMainBuild(env: Record<string, string | undefined>): boolean {
    return env.BUILDKITE_BRANCH === "main" && !isPullRequest(env.BUILDKITE_PULL_REQUEST);
}

/** The docs-only switch: on unless DOCS_ONLY_DISABLE holds a value other than 0. */
export function docsOnlyEnabled(env: Record<string, string | undefined>): boolean {
    const value = env.DOCS_ONLY_DISABLE;
    return value === undefined || value === "" || value === "0";
}

/** Merge base and changed files, every fallback reported. */
export async function checkoutFacts(context: BootstrapContext): Promise<CheckoutFacts & { baseBranch: string }> {
    const baseBranch = baseBranchOf(context.env);
    const facts = await inspectCheckout(
        context.git,
        {
            baseBranch,
            onMain: isMainBuild(context.env),
            presetMergeBase: context.env.MERGE_BASE_COMMIT || undefined,
            depthStep: context.limits.gitDepth,
            maxDeepen: context.limits.gitMaxDeepen,
        },
        context.report,
    );
    return { ...facts, baseBranch };
}

/** The PR's labels ([] for branch builds); unreadable labels are a reported fallback. */
export async function pullRequestLabels(context: BootstrapContext, apiUrl: string, repo: string, runAllLabel: string): Promise<string[]> {
    const pullRequest = context.env.BUILDKITE_PULL_REQUEST;
    if (!isPullRequest(pullRequest)) return [];
    const answer = await readPrLabels(context.http, {
        apiUrl,
        repo,
        pullRequest: pullRequest!,
        token: context.env.GITHUB_TOKEN || undefined,
        budgetMs: context.limits.githubBudgetMs,
        attemptTimeoutMs: context.limits.httpTimeoutMs,
    });
    if (answer.problem) {
        context.report.warn(`the PR labels could not be read (${answer.problem}); labels such as ${runAllLabel} are not applied to this build`);
    }
    return answer.labels;
}

/** What the bootstrap decided that the jobs need (docker/ci.hcl reads both from the job's environment). */
export interface JobDecisions {
    VLLM_USE_PRECOMPILED: "0" | "1" | string;
    VLLM_MERGE_BASE_COMMIT: string;
}

/**
 * Keep the pipeline as an artifact, then upload it. The upload's environment carries the
 * decisions too, for `$VAR` interpolation at upload time; the jobs get them from the pipeline's
 * top-level `env`.
 */
export async function uploadPipeline(context: BootstrapContext, file: string, uploadEnv: Record<string, string>): Promise<void> {
    const artifact = await context.agent(["artifact", "upload", file], uploadEnv);
    if (!artifact.ok) context.log(`warning: ${describeFailure("buildkite-agent artifact upload", artifact, context.limits.agentTimeoutMs)}`);
    const upload = await context.agent(["pipeline", "upload", file], uploadEnv);
    if (!upload.ok) throw new EnvironmentError(`${describeFailure("buildkite-agent pipeline upload", upload, context.limits.agentTimeoutMs)} (${file})`);
}
