/**
 * The published conformance cases (vendored in tests/fixtures/shared/conformance/generator), one test per case, run in
 * process through the library exactly as `npm run conformance` runs them; then the bundled CLI,
 * built here with esbuild, on a few of them from a folder without node_modules.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Catalog } from "../../catalog/types";
import { defaultCatalog } from "../../generator/catalog-source";
import { runGenerator } from "../../generator/run";
import { parseYaml } from "../../generator/yaml";
import { buildGenerator } from "../../scripts/build-generator";
import {
    DEFAULT_CASES_DIR,
    canonicalAmdGroupOrder,
    copyCase,
    firstDifference,
    listCases,
    readCase,
    runCase,
    stubAdapters,
} from "../../scripts/conformance";

const cases = listCases(DEFAULT_CASES_DIR);

describe("generator conformance (published cases, in process)", function () {
    let catalog: Catalog;
    before(function () {
        catalog = defaultCatalog();
    });

    it("finds the published cases, the three real vLLM ones included", function () {
        const names = cases.map((dir) => path.basename(dir));
        assert.ok(names.length >= 50, `only ${names.length} cases`);
        for (const name of ["vllm-branch-csrc-run-all", "vllm-main-postmerge", "vllm-pr-lora-change"]) assert.ok(names.includes(name), name);
    });

    for (const caseDir of cases) {
        it(path.basename(caseDir), async function () {
            const result = await runCase(caseDir, catalog);
            assert.ok(result.pass, result.detail);
        });
    }
});

describe("conformance runner", function () {
    it("reports the first differing path, with key order and scalar types", function () {
        assert.equal(firstDifference({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }), undefined);
        assert.equal(firstDifference({ a: { b: "0" } }, { a: { b: 0 } }), '/a/b: expected "0", got 0');
        assert.match(firstDifference({ a: 1, b: 2 }, { b: 2, a: 1 }) ?? "", /key order differs/);
        assert.equal(firstDifference({ s: [1] }, { s: [1, 2] }), "/s: expected 1 items, got 2 (first extra: 2)");
        assert.equal(firstDifference({ x: 1 }, {}), "/x: missing (expected 1)");
    });

    it("fails a case whose expected output differs, and works on any folder of cases", async function () {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-custom-"));
        try {
            const source = cases.find((dir) => path.basename(dir).startsWith("01-"))!;
            const broken = path.join(root, "broken");
            fs.cpSync(source, broken, { recursive: true });
            fs.chmodSync(broken, 0o755);
            const expectedFile = path.join(broken, "expected.yaml");
            fs.chmodSync(expectedFile, 0o644);
            fs.writeFileSync(expectedFile, fs.readFileSync(expectedFile, "utf8").replace("queue: gpu_1_queue", "queue: other_queue"));
            assert.deepEqual(listCases(root), [broken]);
            const result = await runCase(broken);
            assert.equal(result.pass, false);
            assert.match(result.detail ?? "", /\/agents\/queue: expected "other_queue", got "gpu_1_queue"/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("bundled CLI (dist/pipeline-generator.js)", function () {
    this.timeout(120_000);
    let bundleDir: string;
    let bundle: string;

    before(async function () {
        // Outside the repository: no node_modules to fall back on.
        bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), "generator-bundle-"));
        bundle = await buildGenerator(path.join(bundleDir, "pipeline-generator.js"));
    });
    after(function () {
        if (bundleDir) fs.rmSync(bundleDir, { recursive: true, force: true });
    });

    function runBundle(caseName: string, extraArgs: string[] = []) {
        const caseDir = path.join(DEFAULT_CASES_DIR, caseName);
        const { env, stubs } = readCase(caseDir);
        const workDir = copyCase(caseDir);
        const output = stubs.output_file ?? "out/pipeline.yaml";
        const args = [bundle, "--pipeline_config_path", "pipeline_config.yaml", "--output_file_path", output, "--offline", "--changed-files", "diff.txt"];
        if (stubs.pr_labels) args.push("--pr-labels", stubs.pr_labels.join(","));
        const child = spawnSync(process.execPath, [...args, ...extraArgs], {
            cwd: workDir,
            env: { PATH: process.env.PATH, ...env },
            encoding: "utf8",
        });
        return { child, workDir, caseDir, outputPath: path.join(workDir, output) };
    }

    it("is one self-contained file that never includes a cloud SDK", function () {
        const text = fs.readFileSync(bundle, "utf8");
        assert.ok(!/require\(["']@pulumi/.test(text));
        assert.ok(!/require\(["'](js-yaml|ajv)["']\)/.test(text), "dependencies must be bundled");
    });

    for (const name of ["25-queue-routing-feature-branch", "42-amd-direct-steps", "15-pr-label-ready-run-all"]) {
        it(`passes ${name}`, function () {
            const { child, workDir, caseDir, outputPath } = runBundle(name);
            try {
                assert.equal(child.status, 0, child.stderr);
                const actual = parseYaml(fs.readFileSync(outputPath, "utf8"), "out");
                const expected = parseYaml(fs.readFileSync(path.join(caseDir, "expected.yaml"), "utf8"), "expected");
                assert.equal(firstDifference(expected, actual), undefined);
            } finally {
                fs.rmSync(workDir, { recursive: true, force: true });
            }
        });
    }

    it("writes byte for byte what the library writes on the real vLLM case", async function () {
        const name = "vllm-pr-lora-change";
        const { child, workDir, caseDir, outputPath } = runBundle(name);
        const { env, diff, stubs } = readCase(caseDir);
        const libraryDir = copyCase(caseDir);
        try {
            assert.equal(child.status, 0, child.stderr);
            const outcome = await runGenerator({
                cwd: libraryDir,
                env,
                pipelineConfigPath: "pipeline_config.yaml",
                outputFilePath: "out/pipeline.yaml",
                adapters: stubAdapters(diff, stubs),
                log: () => undefined,
            });
            const bundled = fs.readFileSync(outputPath, "utf8");
            assert.equal(bundled, fs.readFileSync(outcome.outputPath!, "utf8"));
            // And it matches the reference (source-group order inside the AMD group aside).
            const steps = outcome.result.kind === "pipeline" ? outcome.result.steps : [];
            const expected = parseYaml(fs.readFileSync(path.join(caseDir, "expected.yaml"), "utf8"), "expected");
            assert.equal(firstDifference(canonicalAmdGroupOrder(expected, steps), canonicalAmdGroupOrder(parseYaml(bundled, "out"), steps)), undefined);
        } finally {
            fs.rmSync(workDir, { recursive: true, force: true });
            fs.rmSync(libraryDir, { recursive: true, force: true });
        }
    });

    it("fails cleanly on bad input: exit 2, one error line, nothing written", function () {
        const { child, workDir, outputPath } = runBundle("50-validation-invalid-branch");
        try {
            assert.equal(child.status, 2);
            assert.match(child.stderr, /^error: .*invalid branch name "bad;branch"/);
            assert.equal(child.stderr.trim().split("\n").length, 1);
            assert.ok(!child.stderr.includes("    at "), "no stack trace");
            assert.ok(!fs.existsSync(outputPath));
        } finally {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

    it("skips docs-only changes with the marker and no pipeline", function () {
        const { child, workDir, outputPath } = runBundle("11-docs-only-skip");
        try {
            assert.equal(child.status, 0, child.stderr);
            assert.ok(!fs.existsSync(outputPath));
            assert.equal(fs.readFileSync(path.join(path.dirname(outputPath), ".docs_only"), "utf8"), "true");
            assert.match(child.stderr, /would run buildkite-agent annotate/);
        } finally {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

    it("documents every option and environment variable in --help", function () {
        const child = spawnSync(process.execPath, [bundle, "--help"], { encoding: "utf8" });
        assert.equal(child.status, 0);
        for (const word of [
            "--pipeline_config_path",
            "--output_file_path",
            "--changed-files",
            "--offline",
            "--pr-labels",
            "--explain",
            "--strict",
            "--catalog",
            "--settings",
            "BUILDKITE_PULL_REQUEST",
            "VLLM_CI_ONLY_STEP_KEYS",
            "NOAUTO",
            "SKIP_TIMEOUT",
            "ROCM_BASE_REFRESH_SKIP",
        ]) {
            assert.ok(child.stdout.includes(word), `--help lacks ${word}`);
        }
    });

    it("routes with another catalog given by --catalog", function () {
        const { child: first, workDir, outputPath } = runBundle("25-queue-routing-feature-branch");
        try {
            assert.equal(first.status, 0, first.stderr);
            const repoCatalog = path.resolve(__dirname, "..", "..", "catalog", "queues.yaml");
            const custom = path.join(workDir, "catalog.yaml");
            const original = fs.readFileSync(repoCatalog, "utf8");
            assert.match(fs.readFileSync(outputPath, "utf8"), /queue: a100_queue\b/, "the case routes a step to a100_queue");
            // A valid catalog where the A100 queue has another name: the steps must follow it.
            fs.writeFileSync(custom, original.replaceAll("a100_queue", "a100_other_queue"));
            const generate = (catalogFile: string) =>
                spawnSync(
                    process.execPath,
                    [bundle, "--pipeline_config_path", "pipeline_config.yaml", "--output_file_path", "out/custom.yaml", "--offline", "--changed-files", "diff.txt", "--catalog", catalogFile],
                    { cwd: workDir, env: { PATH: process.env.PATH, BUILDKITE_BRANCH: "feature/x", RUN_ALL: "1" }, encoding: "utf8" },
                );
            const child = generate(custom);
            assert.equal(child.status, 0, child.stderr);
            const output = fs.readFileSync(path.join(workDir, "out/custom.yaml"), "utf8");
            assert.match(output, /queue: a100_other_queue/);
            assert.doesNotMatch(output, /queue: a100_queue\b/);
            // A broken one is refused in one line, exit 2.
            const broken = path.join(workDir, "broken.yaml");
            fs.writeFileSync(broken, original.replace("queue: a100_queue }", "queue: a100_queeu }"));
            const refused = generate(broken);
            assert.equal(refused.status, 2, refused.stderr);
            assert.match(refused.stderr, /^error: catalog: .*broken\.yaml: routing rule \d+: field queue: unknown queue "a100_queeu"/);
        } finally {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });
});
