/**
 * The bundled bootstrap (CUDA/CPU entry point) as a build runs it: real git, recording fakes of
 * `buildkite-agent`, `aws` and `docker`, a local HTTP server for GitHub and the wheels host.
 * Each scenario asserts the exit code, the uploaded pipeline (or none), the annotations and a
 * time bound.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import {
    agentCalls,
    blocked,
    ensureBundle,
    gitOnlyPath,
    FAST_LIMITS,
    git,
    record,
    Repo,
    runBootstrap,
    SCENARIO_BOUND_MS,
    startServer,
    steps,
    writeScenarioTable,
    type Run,
    type Server,
} from "./harness";

const CONFIG = {
    name: "vllm_ci",
    job_dirs: [".buildkite/test_areas"],
    run_all_patterns: ["csrc/", "setup\\.py"],
    run_all_exclude_patterns: ["csrc/cpu/"],
    registries: "public.ecr.aws/q9t5s3a7",
    repositories: { main: "vllm-ci-postmerge-repo", premerge: "vllm-ci-test-repo" },
};

const JOBS = {
    group: "Tests",
    steps: [
        {
            label: ":docker: build image",
            key: "image-build",
            commands: ["docker buildx bake --set *.args.VLLM_USE_PRECOMPILED=$VLLM_USE_PRECOMPILED --cache-from $CACHE_FROM --cache-to $CACHE_TO"],
        },
        { label: "Unit", key: "unit", depends_on: ["image-build"], source_file_dependencies: ["vllm/"], commands: ["pytest tests/unit"] },
        { label: "Kernels", key: "kernels", depends_on: ["image-build"], source_file_dependencies: ["csrc/"], commands: ["pytest tests/kernels"] },
    ],
};

const POSTMERGE_CACHE = "936637512419.dkr.ecr.us-east-1.amazonaws.com/vllm-ci-postmerge-cache:latest";

const warnings = (run: Run) => run.annotations.filter((a) => a.style === "warning").map((a) => a.body).join("\n");
const errors = (run: Run) => run.annotations.filter((a) => a.style === "error").map((a) => a.body).join("\n");
const imageBuild = (run: Run) => steps(run.uploaded).find((s: any) => s.key === "image-build");

describe("bootstrap (bundled, real git, fake agent/aws/docker, local HTTP)", function () {
    this.timeout(120_000);
    let server: Server;
    let repo: Repo;
    let tmp: string;
    let mainSha: string;

    before(async () => {
        ensureBundle();
        server = await startServer();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-"));
        repo = new Repo(tmp, {
            ".buildkite/ci_config.yaml": yaml.dump(CONFIG),
            ".buildkite/test_areas/tests.yaml": yaml.dump(JOBS),
            "vllm/__init__.py": "",
            "csrc/kernel.cu": "",
        });
        mainSha = repo.git("rev-parse", "HEAD");
    });
    after(async () => {
        await server.close();
        fs.rmSync(tmp, { recursive: true, force: true });
        writeScenarioTable();
    });

    const bootstrap = (env: Record<string, string>, extra: { cwd?: string; fakes?: Parameters<typeof runBootstrap>[1]["fakes"]; path?: string } = {}) =>
        runBootstrap(tmp, {
            cwd: extra.cwd ?? repo.work,
            fakes: extra.fakes,
            path: extra.path,
            env: {
                GITHUB_API_URL: `${server.url}/github`,
                VLLM_WHEELS_URL: `${server.url}/wheels`,
                BUILDKITE_COMMIT: git(extra.cwd ?? repo.work, "rev-parse", "HEAD"),
                ...FAST_LIMITS,
                ...env,
            },
        });
    const pr = (branch: string, number: string, extra: Record<string, string> = {}) => ({
        BUILDKITE_BRANCH: branch,
        BUILDKITE_PULL_REQUEST: number,
        BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main",
        ...extra,
    });

    it("PR changing vllm/: runs Unit, blocks Kernels, wheels of the merge base, decisions in the top-level env, artifact then upload", async () => {
        repo.branch("feature/unit", ["vllm/engine.py"]);
        server.wheels.add(mainSha);
        const run = await bootstrap(pr("feature/unit", "101"));
        record("PR, vllm/ change (baseline)", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(agentCalls(run).map((c) => c.args.slice(0, 2)), [["artifact", "upload"], ["pipeline", "upload"]]);
        assert.deepEqual(run.annotations, []);
        // Item 4: the jobs get the decisions from the uploaded pipeline itself.
        assert.deepEqual(run.uploaded.env, { VLLM_USE_PRECOMPILED: "1", VLLM_MERGE_BASE_COMMIT: mainSha });
        assert.deepEqual(Object.keys(run.uploaded), ["env", "steps"]);
        assert.equal(agentCalls(run)[1].env.VLLM_USE_PRECOMPILED, "1");
        assert.deepEqual(blocked(run.uploaded), ["block-kernels"]);
        assert.ok(steps(run.uploaded).some((s) => s.key === "pre-commit"), "PR builds get the pre-commit gate");
        assert.ok(server.requests.some((r) => r.url === "/github/repos/vllm-project/vllm/pulls/101"));
        assert.ok(server.requests.some((r) => r.method === "HEAD" && r.url === `/wheels/${mainSha}/vllm/metadata.json`));
        // A PR looks the cache up: login once, then the PR tag; nothing found, the postmerge cache it is.
        const tools = run.calls.filter((c) => c.tool !== "buildkite-agent").map((c) => `${c.tool} ${c.args.slice(0, 2).join(" ")}`);
        assert.deepEqual(tools.slice(0, 2), ["aws ecr get-login-password", "docker login --username"]);
        assert.match(imageBuild(run).commands.join("\n"), new RegExp(`--cache-from ${POSTMERGE_CACHE.replace(/[.:]/g, "\\$&")}`));
    });

    it("PR changing csrc/: runs everything from source (decided once, by the bootstrap)", async () => {
        repo.branch("feature/kernel", ["csrc/attention.cu"]);
        const run = await bootstrap(pr("feature/kernel", "102"));
        record("PR, csrc/ change (run all)", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(blocked(run.uploaded), []);
        assert.equal(run.uploaded.env.VLLM_USE_PRECOMPILED, "0");
        assert.equal(agentCalls(run).at(-1)!.env.RUN_ALL, "1");
        assert.match(run.stderr, /run all: true \(changed file csrc\/attention\.cu matches the run-all pattern/);
        assert.deepEqual(run.annotations, [], "a run-all pattern is no fallback");
    });

    it("docs-only PR: info annotation, nothing uploaded; DOCS_ONLY_DISABLE=1 or RUN_ALL=1 generate anyway", async () => {
        repo.branch("docs/typo", ["docs/usage.md", "README.md"]);
        const env = pr("docs/typo", "103");
        const skipped = await bootstrap(env);
        record("PR, docs-only", skipped, SCENARIO_BOUND_MS);
        assert.equal(skipped.status, 0, skipped.stderr);
        assert.deepEqual(agentCalls(skipped).map((c) => c.args[0]), ["annotate"]);
        assert.deepEqual(skipped.annotations.map((a) => [a.style, a.context]), [["info", "docs-only"]]);
        assert.equal(skipped.uploaded, undefined);
        for (const extra of [{ DOCS_ONLY_DISABLE: "1" }, { RUN_ALL: "1" }] as Record<string, string>[]) {
            const forced = await bootstrap({ ...env, ...extra });
            assert.equal(forced.status, 0, forced.stderr);
            assert.ok(forced.uploaded, `uploads with ${JSON.stringify(extra)}`);
        }
    });

    it("fork PR (owner:branch) with ready-run-all-tests runs everything, nightly; GITHUB_TOKEN is sent", async () => {
        repo.branch("fix-typo", ["vllm/utils.py"]);
        server.labels.set("104", ["ready-run-all-tests"]);
        const run = await bootstrap(pr("contributor:fix-typo", "104", { GITHUB_TOKEN: "test-token-104" }));
        record("fork PR, label ready-run-all-tests", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(blocked(run.uploaded), []);
        assert.equal(agentCalls(run).at(-1)!.env.NIGHTLY, "1");
        assert.equal(server.requests.find((r) => r.url.endsWith("/pulls/104"))?.authorization, "Bearer test-token-104");
        assert.doesNotMatch(run.stderr, /test-token-104/, "the token is never logged");
    });

    describe("GitHub degraded: no labels, a warning annotation naming why, bounded wait", () => {
        afterEach(() => {
            server.github = "ok";
        });
        for (const [mode, why] of [
            ["down", /HTTP 503 after \d+ attempt\(s\) within 2 s/],
            ["slow", /no answer within 0\.5 s after \d+ attempt\(s\) within 2 s/],
            ["rate-limited", /rate limit \(HTTP 403, no GITHUB_TOKEN\), resets at \d\d:\d\d:\d\d UTC/],
        ] as const) {
            it(`GitHub ${mode}`, async () => {
                repo.branch(`feature/github-${mode}`, ["vllm/outage.py"]);
                server.labels.set("105", ["ready-run-all-tests"]);
                server.github = mode;
                const run = await bootstrap(pr(`feature/github-${mode}`, "105"));
                record(`GitHub ${mode}`, run, mode === "rate-limited" ? 5_000 : SCENARIO_BOUND_MS);
                assert.equal(run.status, 0, run.stderr);
                assert.ok(run.uploaded, "CI is never blocked by GitHub");
                assert.deepEqual(blocked(run.uploaded), ["block-kernels"], "without the label, the usual selection");
                assert.match(warnings(run), /the PR labels could not be read/);
                assert.match(warnings(run), why);
                assert.match(warnings(run), /ready-run-all-tests are not applied/);
            });
        }
    });

    it("ECR without credentials: warning annotation, the postmerge latest cache, no docker login", async () => {
        repo.branch("feature/ecr", ["vllm/ecr.py"]);
        const run = await bootstrap(pr("feature/ecr", "106"), { fakes: { aws: "no-credentials" } });
        record("ECR without credentials", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(warnings(run), /ECR build cache unavailable \(aws ecr get-login-password failed: Unable to locate credentials/);
        assert.ok(!run.calls.some((c) => c.tool === "docker"), "no login, no lookups after the failure");
        assert.match(imageBuild(run).commands.join("\n"), /--cache-from 936637512419\.dkr\.ecr\.us-east-1\.amazonaws\.com\/vllm-ci-postmerge-cache:latest/);
        assert.match(imageBuild(run).commands.join("\n"), /--cache-to \S+vllm-ci-test-cache:pr-106/);
    });

    it("aws not installed: the same fallback", async () => {
        const run = await bootstrap(pr("feature/ecr", "106"), { fakes: { aws: "absent" }, path: gitOnlyPath(tmp) });
        record("aws not installed", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(warnings(run), /ECR build cache unavailable \(aws ecr get-login-password is not installed on this agent\)/);
    });

    it("a hung docker manifest inspect is killed after the command timeout; one lookup only", async () => {
        repo.branch("release-fix", ["vllm/hang.py"]);
        const env = { ...pr("release-fix", "107"), BUILDKITE_PULL_REQUEST_BASE_BRANCH: "releases/v1" };
        repo.git("push", "-q", "origin", "main:releases/v1");
        const run = await bootstrap(env, { fakes: { dockerManifest: "hang" } });
        record("hung docker manifest inspect", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(warnings(run), /docker manifest inspect timed out after 1 s/);
        assert.equal(run.calls.filter((c) => c.tool === "docker" && c.args[0] === "manifest").length, 1, "the registry is not asked again");
        assert.match(imageBuild(run).commands.join("\n"), /--cache-from 936637512419\.dkr\.ecr\.us-east-1\.amazonaws\.com\/vllm-ci-postmerge-cache:latest/);
    });

    it("main: diffs against HEAD~1, no cache lookup (so no ECR login), postmerge queue", async () => {
        const head = repo.advanceMain(1, "vllm/main-change");
        const run = await bootstrap({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false" }, { fakes: { aws: "no-credentials" } });
        record("main build", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, /1 changed file\(s\)/);
        assert.deepEqual(run.annotations, [], "no credentials needed where nothing is looked up");
        assert.ok(!run.calls.some((c) => c.tool === "aws" || c.tool === "docker"));
        assert.deepEqual(blocked(run.uploaded), ["block-kernels"], "vllm/ changed: Unit runs");
        assert.ok(!steps(run.uploaded).some((s) => s.key === "pre-commit"), "main builds are not PR builds");
        assert.equal(imageBuild(run).agents.queue, "cpu_queue_postmerge_us_east_1");
        assert.equal(run.uploaded.env.VLLM_MERGE_BASE_COMMIT, head);
    });

    it("a preset MERGE_BASE_COMMIT is kept (diff, env and wheels)", async () => {
        const first = mainSha;
        repo.branch("feature/preset", ["vllm/preset.py"]);
        const run = await bootstrap(pr("feature/preset", "108", { MERGE_BASE_COMMIT: first }));
        record("preset MERGE_BASE_COMMIT", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, new RegExp(`keeping the preset MERGE_BASE_COMMIT ${first}`));
        assert.equal(run.uploaded.env.VLLM_MERGE_BASE_COMMIT, first);
        assert.ok(server.requests.some((r) => r.url === `/wheels/${first}/vllm/metadata.json`), "wheels of the preset merge base");
        // Against the first commit the diff also holds main's later change, which a computed merge base would not.
        assert.match(run.stderr, /2 changed file\(s\)/);
    });

    it("no merge base: runs everything, with a warning annotation naming why", async () => {
        repo.git("checkout", "-q", "--orphan", "unrelated");
        repo.write("vllm/orphan.py", "x\n");
        repo.commit("unrelated history");
        const run = await bootstrap(pr("unrelated", "109"));
        record("no merge base (unrelated history)", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        assert.match(warnings(run), /no merge base with origin\/main \(unrelated histories\): running every step/);
        assert.deepEqual(blocked(run.uploaded), []);
    });

    it("bad pipeline config: one error line, an error annotation with it, exit 2, nothing uploaded", async () => {
        repo.git("checkout", "-q", "-f", "main");
        repo.git("checkout", "-q", "-B", "feature/broken");
        repo.write(".buildkite/ci_config.yaml", "name: vllm_ci\njob_dirs: [.buildkite/missing]\nregistries: r\nrepositories: {main: a, premerge: b}\n");
        repo.commit("broken config");
        const run = await bootstrap(pr("feature/broken", "110"));
        record("bad pipeline config", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 2);
        const errorLines = run.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errorLines.length, 1, run.stderr);
        assert.doesNotMatch(run.stderr, /\n\s+at /);
        assert.ok(!agentCalls(run).some((c) => c.args[0] === "pipeline"));
        assert.equal(errors(run), `:rotating_light: **Bootstrap failed**: ${errorLines[0].slice("error: ".length)}`);
        repo.git("checkout", "-q", "main");
    });

    it("a bad limit variable is bad input (exit 2), named", async () => {
        const run = await bootstrap({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false", VLLM_CI_GITHUB_BUDGET_S: "soon" });
        assert.equal(run.status, 2);
        assert.match(run.stderr, /^error: field VLLM_CI_GITHUB_BUDGET_S: must be a positive number of seconds, got "soon"$/m);
    });

    describe("git edge cases", () => {
        let shallowRepo: Repo;
        let forkPoint: string;
        before(() => {
            // main: 30 commits, a PR branched 20 commits back, then main moved on.
            shallowRepo = new Repo(path.join(tmp, "shallow-origin"), {
                ".buildkite/ci_config.yaml": yaml.dump(CONFIG),
                ".buildkite/test_areas/tests.yaml": yaml.dump(JOBS),
                "vllm/__init__.py": "",
            });
            forkPoint = shallowRepo.advanceMain(10, "early");
            shallowRepo.branch("feature/deep", ["vllm/deep.py"], "main", true);
            shallowRepo.git("checkout", "-q", "feature/deep");
            shallowRepo.write("vllm/deep2.py", "x\n");
            shallowRepo.commit("second PR commit");
            shallowRepo.git("push", "-q", "origin", "feature/deep");
            shallowRepo.advanceMain(20, "late");
        });

        it("shallow single-branch PR clone: fetches origin/main by refspec, deepens until the merge base", async () => {
            const clone = shallowRepo.clone(path.join(tmp, "clone-shallow-pr"), { branch: "feature/deep", depth: 1, singleBranch: true });
            assert.throws(() => git(clone, "rev-parse", "--verify", "origin/main"), "a single-branch clone has no origin/main");
            const run = await bootstrap({ ...pr("feature/deep", "111"), VLLM_CI_GIT_DEPTH: "4" }, { cwd: clone });
            record("shallow single-branch PR clone", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 0, run.stderr);
            assert.match(run.stderr, /shallow clone without a merge base; fetching \d+ more commits/);
            assert.equal(run.uploaded.env.VLLM_MERGE_BASE_COMMIT, forkPoint);
            assert.match(run.stderr, /2 changed file\(s\), run all: false/);
            assert.deepEqual(run.annotations, [], "found, so nothing to report");
        });

        it("shallow PR clone beyond the deepening bound: runs everything, says so", async () => {
            const clone = shallowRepo.clone(path.join(tmp, "clone-shallow-bound"), { branch: "feature/deep", depth: 1, singleBranch: true });
            const run = await bootstrap({ ...pr("feature/deep", "112"), VLLM_CI_GIT_DEPTH: "2", VLLM_CI_GIT_MAX_DEEPEN: "6" }, { cwd: clone });
            record("shallow PR clone, merge base beyond the bound", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 0, run.stderr);
            assert.match(warnings(run), /no merge base with origin\/main within 8 commits of the shallow clone: running every step/);
            assert.deepEqual(blocked(run.uploaded), []);
        });

        it("shallow main clone (depth 1): fetches HEAD~1 and diffs one commit", async () => {
            const clone = shallowRepo.clone(path.join(tmp, "clone-shallow-main"), { branch: "main", depth: 1, singleBranch: true });
            // Depth 1 for the base fetch too, so that HEAD~1 is still missing after it.
            const run = await bootstrap({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false", VLLM_CI_GIT_DEPTH: "1" }, { cwd: clone });
            record("shallow main clone", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 0, run.stderr);
            assert.match(run.stderr, /HEAD~1 is not in the shallow clone; fetching one more commit/);
            assert.match(run.stderr, /1 changed file\(s\), run all: false/);
            assert.deepEqual(run.annotations, []);
        });

        it("a checkout owned by another uid works without touching the global git config", async function () {
            if (process.getuid?.() !== 0) this.skip();
            const clone = shallowRepo.clone(path.join(tmp, "clone-other-uid"), { branch: "feature/deep" });
            execFileSync("chown", ["-R", "65534:65534", clone]);
            assert.throws(() => execFileSync("git", ["status"], { cwd: clone, stdio: "pipe" }), /dubious ownership/, "the scenario is real");
            const globalConfig = path.join(tmp, "gitconfig-home");
            fs.mkdirSync(globalConfig, { recursive: true });
            const run = await runBootstrap(tmp, {
                cwd: clone,
                env: {
                    HOME: globalConfig,
                    GITHUB_API_URL: `${server.url}/github`,
                    VLLM_WHEELS_URL: `${server.url}/wheels`,
                    ...FAST_LIMITS,
                    ...pr("feature/deep", "113"),
                },
            });
            record("checkout owned by another uid", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 0, run.stderr);
            assert.equal(run.uploaded.env.VLLM_MERGE_BASE_COMMIT, forkPoint);
            assert.deepEqual(run.annotations, []);
            assert.ok(!fs.existsSync(path.join(globalConfig, ".gitconfig")), "no global safe.directory entry left behind");
        });

        it("git missing: an error annotation and exit 3, not a full run", async () => {
            const run = await bootstrap(pr("feature/deep", "114"), { path: "" });
            record("git missing", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 3, run.stderr);
            assert.match(run.stderr, /^error: git is not installed on this agent/m);
            assert.match(errors(run), /git is not installed on this agent/);
            assert.equal(run.uploaded, undefined);
        });
    });

    it("the time budget stops a run that would overrun it (exit 3, annotated)", async () => {
        repo.branch("feature/budget", ["vllm/budget.py"]);
        server.github = "slow";
        try {
            const run = await bootstrap({ ...pr("feature/budget", "115"), VLLM_CI_BOOTSTRAP_BUDGET_S: "1", VLLM_CI_GITHUB_BUDGET_S: "5", VLLM_CI_HTTP_TIMEOUT_S: "5" });
            record("whole-run time budget spent", run, SCENARIO_BOUND_MS);
            assert.equal(run.status, 3, run.stderr);
            assert.match(errors(run), /time budget of 1 s/);
            assert.equal(run.uploaded, undefined);
        } finally {
            server.github = "ok";
        }
    });
});
