/** The bootstrap's pure decisions, tested directly (the black-box runs are in the other files). */
import { strict as assert } from "assert";
import { Deadline, EnvironmentError, type HttpClient, type HttpResult } from "../../generator/bootstrap-adapters";
import { buildAmdDocument, decideAmd } from "../../generator/bootstrap-amd";
import { bootstrapLimits } from "../../generator/bootstrap-context";
import { ENTRY_POINTS, fromEnv, matchPrefixRule, type TemplateEntry } from "../../generator/bootstrap-entries";
import { rateLimitWaitMs, readPrLabels } from "../../generator/bootstrap-github";
import { withJobDecisions } from "../../generator/bootstrap";
import { GeneratorError } from "../../generator/errors";

/** A fake clock and an HTTP client answering from a script, advancing the clock as a server would. */
const START = 1_000_000;

function scripted(answers: Array<{ result: HttpResult; takesMs?: number }>) {
    let now = START;
    const calls: Array<{ at: number; timeoutMs: number; headers?: Record<string, string> }> = [];
    const http: HttpClient = async (_url, request) => {
        calls.push({ at: now, timeoutMs: request.timeoutMs, headers: request.headers });
        const next = answers.shift() ?? { result: { error: "no more answers" } };
        now += Math.min(next.takesMs ?? 10, request.timeoutMs);
        return next.result;
    };
    return { http, calls, now: () => now, wait: async (ms: number) => void (now += ms) };
}

const ok = (labels: string[]): HttpResult => ({ status: 200, body: JSON.stringify({ labels: labels.map((name) => ({ name })) }), headers: {} });
const request = { apiUrl: "https://api.example", repo: "vllm-project/vllm", pullRequest: "7", budgetMs: 15_000, attemptTimeoutMs: 5_000 };

describe("bootstrap: PR labels within a budget", () => {
    it("reads the labels, with the token as a Bearer header", async () => {
        const fake = scripted([{ result: ok(["ready", "ci-no-fail-fast"]) }]);
        const answer = await readPrLabels(fake.http, { ...request, token: "t0k3n", now: fake.now, wait: fake.wait });
        assert.deepEqual(answer, { labels: ["ready", "ci-no-fail-fast"] });
        assert.equal(fake.calls[0].headers?.Authorization, "Bearer t0k3n");
    });

    it("retries server errors and timeouts, and never goes past the budget", async () => {
        const fake = scripted(Array.from({ length: 20 }, () => ({ result: { error: "no answer within 5 s" } as HttpResult, takesMs: 5_000 })));
        const start = fake.now();
        const answer = await readPrLabels(fake.http, { ...request, now: fake.now, wait: fake.wait });
        assert.match(answer.problem ?? "", /no answer within 5 s after 3 attempt\(s\) within 15 s/);
        assert.ok(fake.now() - start <= 15_000, `${fake.now() - start} ms`);
    });

    it("waits out a rate limit that resets inside the budget, then reads", async () => {
        const reset = Math.floor((START + 3_000) / 1000);
        const limited: HttpResult = { status: 403, body: "{}", headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) } };
        const fake2 = scripted([{ result: limited }, { result: ok(["ready-run-all-tests"]) }]);
        const answer = await readPrLabels(fake2.http, { ...request, now: fake2.now, wait: fake2.wait });
        assert.deepEqual(answer, { labels: ["ready-run-all-tests"] });
        assert.equal(fake2.calls.length, 2);
    });

    it("gives up at once on a rate limit resetting after the budget, naming the reset time", async () => {
        const reset = Math.floor(START / 1000) + 3600;
        const fake2 = scripted([{ result: { status: 403, body: "", headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) } } }]);
        const answer = await readPrLabels(fake2.http, { ...request, now: fake2.now, wait: fake2.wait });
        assert.match(answer.problem ?? "", /GitHub API rate limit \(HTTP 403, no GITHUB_TOKEN\), resets at \d\d:\d\d:\d\d UTC/);
        assert.equal(fake2.calls.length, 1);
    });

    it("429 with Retry-After, and 404 without retry", async () => {
        assert.equal(rateLimitWaitMs(429, { "retry-after": "2" }, 0), 2000);
        assert.equal(rateLimitWaitMs(403, {}, 0), undefined, "a 403 without rate-limit headers is a refusal");
        const fake = scripted([{ result: { status: 404, body: "", headers: {} } }]);
        const answer = await readPrLabels(fake.http, { ...request, now: fake.now, wait: fake.wait });
        assert.match(answer.problem ?? "", /answered HTTP 404/);
        assert.equal(fake.calls.length, 1);
    });
});

describe("bootstrap: AMD decisions (upstream bootstrap-amd.sh rules)", () => {
    const amd = ENTRY_POINTS.amd as TemplateEntry;
    const decide = (changedFiles: string[], env: Record<string, string> = {}, labels: string[] = []) => decideAmd(amd, { env, changedFiles, labels });

    it("a Python change: no run-all, precompiled, the diff joined with |", () => {
        assert.deepEqual(decide(["vllm/a.py", "tests/b.py"]), { runAll: "0", nightly: "0", reason: "no run-all condition holds", listFileDiff: "vllm/a.py|tests/b.py", usePrecompiled: "1" });
    });
    it("docker/Dockerfile.rocm_base is nightly, not run-all, although it starts with docker/Dockerfile.rocm", () => {
        const decision = decide(["docker/Dockerfile.rocm_base"]);
        assert.deepEqual([decision.runAll, decision.nightly, decision.listFileDiff, decision.usePrecompiled], ["0", "1", "nightly", "0"]);
    });
    it("ROCm run-all prefixes with their ignores", () => {
        assert.equal(decide(["docker/Dockerfile.rocm"]).runAll, "1");
        assert.equal(decide(["requirements/test/rocm.txt"]).listFileDiff, "run_all");
        assert.equal(decide(["csrc/cpu/x.cpp"]).runAll, "0");
        assert.equal(decide(["cmake/cpu_extension.cmake"]).runAll, "0");
    });
    it("the run-all label sets both; a preset VLLM_USE_PRECOMPILED is kept", () => {
        const decision = decide(["vllm/a.py"], { VLLM_USE_PRECOMPILED: "1" }, ["ready-run-all-tests"]);
        assert.deepEqual([decision.runAll, decision.nightly, decision.usePrecompiled], ["1", "1", "1"]);
    });
    it("a forced run-all (no merge base) names its reason", () => {
        assert.equal(decideAmd(amd, { env: {}, changedFiles: [], labels: [], forcedRunAll: "no merge base" }).reason, "no merge base");
    });
});

describe("bootstrap: the uploaded document", () => {
    it("generator pipelines get the decisions as the first key, their own env kept", () => {
        const pipeline = withJobDecisions({ steps: [], env: { A: "1" } }, { VLLM_USE_PRECOMPILED: "0", VLLM_MERGE_BASE_COMMIT: "abc" });
        assert.deepEqual(Object.keys(pipeline), ["env", "steps"]);
        assert.deepEqual(pipeline.env, { A: "1", VLLM_USE_PRECOMPILED: "0", VLLM_MERGE_BASE_COMMIT: "abc" });
    });
    it("the AMD render goes under steps: as it is when indented, indented when not; anything else is refused", () => {
        const decisions = { VLLM_USE_PRECOMPILED: "1", VLLM_MERGE_BASE_COMMIT: "abc" };
        const indented = '  - label: "a"\n    command: "true"\n';
        assert.equal(buildAmdDocument(indented, decisions), `env:\n  VLLM_USE_PRECOMPILED: "1"\n  VLLM_MERGE_BASE_COMMIT: "abc"\nsteps:\n${indented}`);
        assert.match(buildAmdDocument('- label: "a"\n  command: "true"\n', decisions), /\nsteps:\n {2}- label: "a"\n {4}command: "true"\n$/);
        assert.throws(() => buildAmdDocument("  label: a\n", decisions), (error: unknown) => error instanceof GeneratorError && /not a list of steps/.test(error.message));
        assert.throws(() => buildAmdDocument('  - label: "a"\n    bogus_key: 1\n', decisions), /Buildkite pipeline schema/);
    });
});

describe("bootstrap: limits, entries, deadline", () => {
    it("limits come from the environment in seconds; bad values name the variable", () => {
        const limits = bootstrapLimits({ VLLM_CI_GITHUB_BUDGET_S: "2.5", VLLM_CI_GIT_MAX_DEEPEN: "100" });
        assert.equal(limits.githubBudgetMs, 2500);
        assert.equal(limits.gitMaxDeepen, 100);
        assert.equal(bootstrapLimits({}).githubBudgetMs, 15_000, "the issue's bound: labels within 15 s");
        assert.throws(() => bootstrapLimits({ VLLM_CI_GIT_DEPTH: "1.5" }), /field VLLM_CI_GIT_DEPTH: must be a positive whole number/);
        assert.throws(() => bootstrapLimits({ VLLM_CI_BOOTSTRAP_BUDGET_S: "-1" }), /VLLM_CI_BOOTSTRAP_BUDGET_S/);
    });
    it("Intel reads its own output variable first", () => {
        const intel = ENTRY_POINTS.intel;
        assert.equal(fromEnv({ OUTPUT_PIPELINE_PATH: "a.yaml", PIPELINE_OUTPUT_PATH: "b.yaml" }, intel.outputEnv, intel.defaultOutputPath), "a.yaml");
        assert.equal(fromEnv({}, intel.outputEnv, intel.defaultOutputPath), ".buildkite/pipeline.yaml");
        assert.equal(matchPrefixRule(["docker/Dockerfile.xpu"], (intel as { sourceBuild: { patterns: string[]; ignore: string[] } }).sourceBuild), undefined);
        assert.equal(matchPrefixRule(["docker/Dockerfile"], (intel as { sourceBuild: { patterns: string[]; ignore: string[] } }).sourceBuild), "docker/Dockerfile");
    });
    it("the deadline cuts timeouts to what is left, then refuses", () => {
        let now = 0;
        const deadline = new Deadline(1000, () => now);
        assert.equal(deadline.bound(5000, "x"), 1000);
        now = 900;
        assert.equal(deadline.bound(5000, "x"), 100);
        now = 1000;
        assert.throws(() => deadline.bound(5000, "git fetch"), (error: unknown) => error instanceof EnvironmentError && /time budget of 1 s before git fetch/.test(error.message));
    });
});
