/**
 * The AMD and Intel entry points of the bundled bootstrap, black-box: real git, fake agent, local
 * HTTP; the AMD runs use vLLM's real `.buildkite/test-amd.yaml` (vendored).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { amdTemplateSource, parseAmdSteps, renderAmdTemplate, stripBlankLines, type AmdTemplateVariables } from "../../generator/bootstrap-amd-render";
import { sharedFixture } from "../support/fixtures";
import { agentCalls, blocked, ensureBundle, FAST_LIMITS, record, Repo, runBootstrap, SCENARIO_BOUND_MS, startServer, steps, writeScenarioTable, type Run, type Server } from "./harness";

const AMD_STEPS = fs.readFileSync(sharedFixture("fixtures", "vllm-amd", ".buildkite", "test-amd.yaml"), "utf8");

describe("bootstrap entry points: AMD and Intel (bundled)", function () {
    this.timeout(120_000);
    let server: Server;
    let tmp: string;

    before(async () => {
        ensureBundle();
        server = await startServer();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-entries-"));
    });
    after(async () => {
        await server.close();
        fs.rmSync(tmp, { recursive: true, force: true });
        writeScenarioTable();
    });

    const run = (repo: Repo, entry: string, env: Record<string, string>): Promise<Run> =>
        runBootstrap(tmp, {
            cwd: repo.work,
            args: ["--entry", entry],
            env: { GITHUB_API_URL: `${server.url}/github`, VLLM_WHEELS_URL: `${server.url}/wheels`, ...FAST_LIMITS, ...env },
        });
    const pr = (branch: string, number: string) => ({ BUILDKITE_BRANCH: branch, BUILDKITE_PULL_REQUEST: number, BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });

    describe("AMD (--entry amd)", () => {
        let repo: Repo;
        let mainSha: string;
        before(() => {
            repo = new Repo(path.join(tmp, "amd"), { ".buildkite/test-amd.yaml": AMD_STEPS, "vllm/__init__.py": "" });
            mainSha = repo.git("rev-parse", "HEAD");
        });

        /** What upstream's minijinja-cli call would render for these variables (our source renderer, proven equal to jinja2 elsewhere). */
        const expectedRender = (variables: Partial<AmdTemplateVariables>) =>
            stripBlankLines(
                renderAmdTemplate(amdTemplateSource(), parseAmdSteps(AMD_STEPS, "test-amd.yaml"), {
                    branch: "",
                    list_file_diff: "",
                    run_all: "0",
                    nightly: "0",
                    torch_nightly: "0",
                    mirror_hw: "amdproduction",
                    fail_fast: "false",
                    vllm_use_precompiled: "1",
                    vllm_merge_base_commit: mainSha,
                    cov_enabled: "0",
                    vllm_ci_branch: "main",
                    rocm_base_refresh_skip: "0",
                    rocm_base_refresh_force: "0",
                    ...variables,
                }),
            );
        const uploadedSteps = (result: Run) => result.uploadedText!.slice(result.uploadedText!.indexOf("steps:\n") + "steps:\n".length);

        it("PR: the template's render, byte for byte, under a top-level env with the decisions", async () => {
            repo.branch("feature/amd", ["vllm/model_executor/models/llama.py"]);
            const result = await run(repo, "amd", pr("feature/amd", "201"));
            record("AMD entry, PR", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(result.annotations, []);
            assert.deepEqual(result.uploaded.env, { VLLM_USE_PRECOMPILED: "1", VLLM_MERGE_BASE_COMMIT: mainSha });
            assert.equal(result.uploaded.steps[0].group, "AMD Tests");
            const expected = expectedRender({ branch: "feature/amd", list_file_diff: "vllm/model_executor/models/llama.py", fail_fast: "true" });
            assert.ok(uploadedSteps(result) === expected, "the bundle (embedded template and engine) renders what the source does");
            assert.equal(steps(result.uploaded).filter((s) => s.label).length, 3 + 243);
            assert.deepEqual(agentCalls(result).map((c) => c.args.slice(0, 2)), [["artifact", "upload"], ["pipeline", "upload"]]);
        });

        it("the fastcheck pipeline renders the amdtentative mirror; AMD_MIRROR_HW picks another", async () => {
            const fastcheck = await run(repo, "amd", { ...pr("feature/amd", "202"), BUILDKITE_PIPELINE_SLUG: "fastcheck", AMD_MIRROR_HW: "amdmi355" });
            record("AMD entry, fastcheck pipeline", fastcheck, SCENARIO_BOUND_MS);
            assert.equal(fastcheck.status, 0, fastcheck.stderr);
            assert.match(fastcheck.stderr, /AMD mirror hardware amdtentative/);
            assert.equal(steps(fastcheck.uploaded).length, 3, "no test step is mirrored on amdtentative");
            const mi355 = await run(repo, "amd", { ...pr("feature/amd", "202"), BUILDKITE_PIPELINE_SLUG: "amd-ci", AMD_MIRROR_HW: "amdmi355" });
            assert.equal(mi355.status, 0, mi355.stderr);
            assert.equal(steps(mi355.uploaded).filter((s) => s.label).length, 3 + 117);
        });

        it("a change to docker/Dockerfile.rocm_base makes the build nightly (not run-all), from source", async () => {
            repo.branch("feature/rocm-base", ["docker/Dockerfile.rocm_base"]);
            const result = await run(repo, "amd", pr("feature/rocm-base", "203"));
            record("AMD entry, Dockerfile.rocm_base change", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stderr, /docker\/Dockerfile\.rocm_base changed: nightly AMD coverage/);
            assert.equal(result.uploaded.env.VLLM_USE_PRECOMPILED, "0");
            assert.deepEqual(blocked(result.uploaded), [], "nightly unblocks every step, optional ones included");
            const upload = agentCalls(result).at(-1)!;
            assert.deepEqual([upload.env.RUN_ALL, upload.env.NIGHTLY], ["0", "1"]);
            assert.ok(uploadedSteps(result) === expectedRender({ branch: "feature/rocm-base", list_file_diff: "nightly", nightly: "1", vllm_use_precompiled: "0", fail_fast: "true" }));
        });

        it("docs-only: upstream's AMD annotation, nothing uploaded", async () => {
            repo.branch("docs/amd", ["docs/amd.md"]);
            const result = await run(repo, "amd", pr("docs/amd", "204"));
            record("AMD entry, docs-only", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 0, result.stderr);
            assert.equal(result.uploaded, undefined);
            assert.deepEqual(result.annotations.map((a) => a.style), ["info"]);
            assert.match(result.annotations[0].body, /^:memo: CI skipped — docs\/Markdown\/mkdocs-only changes detected\n\n```\ndocs\/amd\.md\n```$/);
        });

        it("a checkout without .buildkite: upstream's 'please merge upstream main' annotation, exit 2", async () => {
            const old = new Repo(path.join(tmp, "amd-old"), { "vllm/__init__.py": "" });
            const result = await run(old, "amd", pr("main", "205"));
            record("AMD entry, no .buildkite", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 2, result.stderr);
            assert.equal(result.uploaded, undefined);
            assert.deepEqual(
                result.annotations.map((a) => [a.style, a.context]),
                [["error", "merge-upstream"], ["error", "bootstrap-error"]],
                "upstream's annotation is not replaced by the failure's (another context)",
            );
            assert.equal(result.annotations[0].body, "Please merge upstream main branch for buildkite CI");
        });
    });

    describe("Intel (--entry intel)", () => {
        let repo: Repo;
        let mainSha: string;
        before(() => {
            repo = new Repo(path.join(tmp, "intel"), {
                ".buildkite/ci_config_intel.yaml": yaml.dump({
                    name: "vllm_intel_ci",
                    job_dirs: [".buildkite/intel_jobs"],
                    run_all_patterns: ["setup\\.py"],
                    registries: "public.ecr.aws/q9t5s3a7",
                    repositories: { main: "vllm-ci-postmerge-repo", premerge: "vllm-ci-test-repo" },
                }),
                ".buildkite/intel_jobs/xpu.yaml": yaml.dump({
                    group: "Intel",
                    steps: [{ label: "XPU unit", key: "xpu-unit", source_file_dependencies: ["vllm/", "requirements/"], commands: ["pytest tests/xpu"] }],
                }),
                "vllm/__init__.py": "",
            });
            mainSha = repo.git("rev-parse", "HEAD");
            server.wheels.add(mainSha);
        });

        it("reads ci_config_intel.yaml, writes OUTPUT_PIPELINE_PATH, and a requirements/xpu.txt change builds from source", async () => {
            repo.branch("feature/xpu", ["requirements/xpu.txt"]);
            const result = await run(repo, "intel", { ...pr("feature/xpu", "301"), OUTPUT_PIPELINE_PATH: ".buildkite/intel-pipeline.yaml" });
            record("Intel entry, requirements/xpu.txt change", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(agentCalls(result).map((c) => c.args), [
                ["artifact", "upload", ".buildkite/intel-pipeline.yaml"],
                ["pipeline", "upload", ".buildkite/intel-pipeline.yaml"],
            ]);
            assert.ok(fs.existsSync(path.join(repo.work, ".buildkite/intel-pipeline.yaml")));
            assert.match(result.stderr, /VLLM_USE_PRECOMPILED=0 \(requirements\/xpu\.txt needs a source build\)/);
            assert.deepEqual(result.uploaded.env, { VLLM_USE_PRECOMPILED: "0", VLLM_MERGE_BASE_COMMIT: mainSha });
            assert.ok(steps(result.uploaded).some((s) => s.key === "xpu-unit"));
        });

        it("Intel's ignore list: docker/Dockerfile.xpu does not force a source build; the wheels decide", async () => {
            repo.branch("feature/xpu-docker", ["docker/Dockerfile.xpu", "vllm/xpu.py"]);
            const result = await run(repo, "intel", pr("feature/xpu-docker", "302"));
            record("Intel entry, wheels available", result, SCENARIO_BOUND_MS);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stderr, new RegExp(`VLLM_USE_PRECOMPILED=1 \\(wheels exist for ${mainSha}\\)`));
            assert.equal(result.uploaded.env.VLLM_USE_PRECOMPILED, "1");
        });

        it("without ci_config_intel.yaml: bad input, annotated, exit 2", async () => {
            const other = new Repo(path.join(tmp, "intel-missing"), { "vllm/__init__.py": "" });
            const result = await run(other, "intel", pr("main", "303"));
            assert.equal(result.status, 2, result.stderr);
            assert.match(result.stderr, /^error: \S*\/\.buildkite\/ci_config_intel\.yaml: cannot read the pipeline config \(ENOENT\)$/m);
            assert.ok(result.annotations.some((a) => a.style === "error" && /ci_config_intel\.yaml/.test(a.body)));
        });
    });

    it("an unknown --entry is a usage error", async () => {
        const repo = new Repo(path.join(tmp, "usage"), { "vllm/__init__.py": "" });
        const result = await run(repo, "rocm", {});
        assert.equal(result.status, 2);
        assert.match(result.stderr, /--entry must be one of cuda, intel, amd, got "rocm"/);
    });
});
