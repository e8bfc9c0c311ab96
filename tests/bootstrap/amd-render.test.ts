/**
 * The AMD entry point renders vLLM's real AMD step file exactly as Python's jinja2 does:
 * `.buildkite/test-amd.yaml` (226 KB, 243 steps, vendored) with our copy of
 * `test-template-amd.j2`, through our renderer (minijinja-js) and through jinja2 (Debian's
 * python3-jinja2), compared byte for byte after the same blank-line stripping, upstream's
 * `sed '/^[[:space:]]*$/d'` (run for real on jinja2's output).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AMD_TEMPLATE_NAME, parseAmdSteps, renderAmdTemplate, stripBlankLines, type AmdTemplateVariables } from "../../generator/bootstrap-amd-render";
import { sharedFixture } from "../support/fixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const TEMPLATE = path.join(ROOT, "generator", "templates", AMD_TEMPLATE_NAME);
const STEPS = sharedFixture("fixtures", "vllm-amd", ".buildkite", "test-amd.yaml");
/** Debian's interpreter, with Debian's python3-jinja2 (not whatever a version manager puts first on PATH). */
const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const base: AmdTemplateVariables = {
    branch: "feature/moe",
    list_file_diff: "vllm/model_executor/layers/fused_moe/layer.py|tests/kernels/moe/test_moe.py|docs/moe.md",
    run_all: "0",
    nightly: "0",
    torch_nightly: "0",
    mirror_hw: "amdproduction",
    fail_fast: "true",
    vllm_use_precompiled: "1",
    vllm_merge_base_commit: "0123456789abcdef0123456789abcdef01234567",
    cov_enabled: "0",
    vllm_ci_branch: "main",
    rocm_base_refresh_skip: "0",
    rocm_base_refresh_force: "0",
};

/** Variable sets covering every branch of the template that the real step file reaches. */
const CASES: Record<string, AmdTemplateVariables> = {
    "pr-production": base,
    "pr-native-runner-change": { ...base, list_file_diff: ".buildkite/scripts/hardware_ci/run-amd-test.sh|vllm/v1/engine/core.py", mirror_hw: "amdmi355" },
    "run-all": { ...base, list_file_diff: "run_all", run_all: "1", vllm_use_precompiled: "0" },
    "nightly-mi300": { ...base, list_file_diff: "nightly", nightly: "1", mirror_hw: "amdmi300", rocm_base_refresh_skip: "1" },
    "main-mi250": { ...base, branch: "main", fail_fast: "false", list_file_diff: "vllm/config.py", mirror_hw: "amdmi250", rocm_base_refresh_force: "1" },
    "fastcheck-tentative": { ...base, mirror_hw: "amdtentative" },
    "empty-diff-experimental": { ...base, list_file_diff: "", mirror_hw: "amdexperimental" },
};

function sed(text: string): string {
    const result = spawnSync("sed", ["/^[[:space:]]*$/d"], { input: text, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
}

function firstDifference(a: string, b: string): string {
    const left = a.split("\n");
    const right = b.split("\n");
    const index = left.findIndex((line, i) => line !== right[i]);
    const at = index === -1 ? Math.min(left.length, right.length) : index;
    return `line ${at + 1}: ${JSON.stringify(left[at])} vs ${JSON.stringify(right[at])}`;
}

describe("AMD render equivalence (minijinja-js vs Python jinja2, real test-amd.yaml)", function () {
    this.timeout(120_000);
    let tmp: string;
    let oracle: Record<string, string>;
    let jinja2Version: string;
    const ours: Record<string, { raw: string; stripped: string }> = {};

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "amd-render-"));
        const result = spawnSync(PYTHON, [path.join(__dirname, "jinja2_render.py"), TEMPLATE, STEPS, tmp], {
            input: JSON.stringify(CASES),
            encoding: "utf8",
        });
        assert.equal(result.status, 0, `Python's jinja2 (Debian python3-jinja2, installed by .ci/run) must render the template: ${result.stderr}`);
        jinja2Version = result.stdout.trim();
        oracle = Object.fromEntries(Object.keys(CASES).map((name) => [name, sed(fs.readFileSync(path.join(tmp, `${name}.yaml`), "utf8"))]));
        const template = fs.readFileSync(TEMPLATE, "utf8");
        const context = parseAmdSteps(fs.readFileSync(STEPS, "utf8"), STEPS);
        for (const [name, variables] of Object.entries(CASES)) {
            const raw = renderAmdTemplate(template, context, variables);
            ours[name] = { raw, stripped: stripBlankLines(raw) };
        }
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("our template is upstream's, unmodified", () => {
        assert.ok(fs.readFileSync(TEMPLATE).equals(fs.readFileSync(sharedFixture("reference", "ci-infra", "buildkite", AMD_TEMPLATE_NAME))));
    });

    it("the inputs are the real ones (243 steps, 226518 bytes)", () => {
        assert.equal(fs.statSync(STEPS).size, 226518);
        assert.equal((parseAmdSteps(fs.readFileSync(STEPS, "utf8"), STEPS).steps as unknown[]).length, 243);
        assert.match(jinja2Version, /^3\./);
    });

    for (const name of Object.keys(CASES)) {
        it(`${name}: byte for byte equal to jinja2 after sed`, () => {
            const expected = oracle[name];
            const actual = ours[name].stripped;
            assert.ok(actual === expected, `${Buffer.byteLength(actual)} vs ${Buffer.byteLength(expected)} bytes; first difference at ${firstDifference(actual, expected)}`);
        });
    }

    it("our blank-line stripping is sed's, on our own raw render too", () => {
        for (const name of Object.keys(CASES)) assert.ok(stripBlankLines(ours[name].raw) === sed(ours[name].raw), name);
        assert.equal(stripBlankLines("a\n \t\nb"), "a\nb", "a last line without newline stays so");
        assert.equal(sed("a\n \t\nb"), "a\nb");
    });

    it("the comparison is not vacuous: the cases render different pipelines, of the expected size", () => {
        const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;
        const production = oracle["pr-production"];
        assert.equal(count(production, /^ {6}- label: /gm), 3 + 243, "the three build steps, then every test step (all are mirrored on amdproduction)");
        assert.ok(count(production, /^ {6}- block: /gm) > 100, "a PR blocks most steps");
        assert.equal(count(oracle["run-all"], /^ {6}- block: /gm) > 0, true, "optional steps stay blocked without nightly");
        assert.equal(count(oracle["nightly-mi300"], /^ {6}- block: /gm), 0, "nightly unblocks everything");
        assert.equal(count(oracle["fastcheck-tentative"], /^ {6}- label: /gm), 3, "no test step is mirrored on amdtentative: the three build steps only");
        assert.notEqual(oracle["pr-production"], oracle["pr-native-runner-change"]);
        assert.ok(Buffer.byteLength(production) > 1_000_000, `${Buffer.byteLength(production)} bytes`);
    });
});
