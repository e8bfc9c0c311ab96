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
import { otelHelpersBundle } from "../../generator/otel-bundle";
import {
    DEFAULT_CASES_DIR,
    DEVIATIONS_DIR,
    OTEL_BUNDLE_PLACEHOLDER,
    OWN_CASES_DIR,
    canonicalAmdGroupOrder,
    copyCase,
    deviationFor,
    firstDifference,
    listCases,
    otelBundleProblem,
    readCase,
    replaceOtelBundles,
    runCase,
    stubAdapters,
} from "../../scripts/conformance";

const cases = listCases(DEFAULT_CASES_DIR);
const ownCases = listCases(OWN_CASES_DIR);

type PipelineDocument = { steps: Array<{ group: string; steps: Array<Record<string, unknown>> }> };

/**
 * A traced pipeline with the tracing taken out: the setup line removed, each five-line command
 * back to its command, `mount_buildkite_agent` dropped from docker plugins.
 */
function withoutTracing(pipeline: PipelineDocument): PipelineDocument {
    const copy = JSON.parse(JSON.stringify(pipeline)) as PipelineDocument;
    for (const group of copy.steps) {
        for (const step of group.steps) {
            if (Array.isArray(step.commands)) {
                step.commands = (step.commands as string[])
                    .filter((line) => !line.includes("ci_otel.sh"))
                    .map((line) => (line.includes("ci_otel_start") ? line.split("\n").slice(1, -3).join("\n") : line));
            }
            for (const plugin of (step.plugins as Array<Record<string, Record<string, unknown>>> | undefined) ?? []) {
                for (const settings of Object.values(plugin)) delete settings.mount_buildkite_agent;
            }
        }
    }
    // The order of source groups inside the AMD group follows file listing order (spec §4.1):
    // compare its block + step units sorted by key.
    const amd = copy.steps.find((group) => group.group === "Hardware-AMD Tests");
    if (amd) {
        const units: Array<Array<Record<string, unknown>>> = [];
        let pending: Array<Record<string, unknown>> = [];
        for (const step of amd.steps) {
            pending.push(step);
            if (!("block" in step)) units.push(pending), (pending = []);
        }
        units.sort((a, b) => String(a[a.length - 1].key).localeCompare(String(b[b.length - 1].key)));
        amd.steps = units.flat();
    }
    return copy;
}

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
        const deviation = deviationFor(caseDir);
        it(`${path.basename(caseDir)}${deviation ? " (our documented deviation)" : ""}`, async function () {
            const result = await runCase(caseDir, catalog, deviation);
            assert.ok(result.pass, result.detail);
        });
    }

    it("has a deviation only for published cases, each with its reason", function () {
        for (const entry of fs.readdirSync(DEVIATIONS_DIR)) {
            assert.ok(cases.some((dir) => path.basename(dir) === entry), `${entry} is not a published case`);
            assert.ok(fs.readFileSync(path.join(DEVIATIONS_DIR, entry, "DEVIATION.md"), "utf8").length > 100);
        }
    });
});

describe("generator conformance (our cases: main builds, OTel, AMD lines)", function () {
    let catalog: Catalog;
    before(function () {
        catalog = defaultCatalog();
    });

    it("finds our cases, documented in their README", function () {
        const readme = fs.readFileSync(path.join(OWN_CASES_DIR, "..", "README.md"), "utf8");
        assert.ok(ownCases.length >= 8, `only ${ownCases.length} cases`);
        for (const dir of ownCases) assert.ok(readme.includes(`\`${path.basename(dir)}\``), `README lacks ${path.basename(dir)}`);
    });

    for (const caseDir of ownCases) {
        it(path.basename(caseDir), async function () {
            const result = await runCase(caseDir, catalog);
            assert.ok(result.pass, result.detail);
        });
    }

    it("the production main build is the published main build plus the tracing, nothing else", function () {
        const production = parseYaml(fs.readFileSync(path.join(OWN_CASES_DIR, "vllm-main-production", "expected.yaml"), "utf8"), "production") as PipelineDocument;
        const published = parseYaml(fs.readFileSync(path.join(DEFAULT_CASES_DIR, "vllm-main-postmerge", "expected.yaml"), "utf8"), "published") as PipelineDocument;
        const traced = production.steps.flatMap((group) => group.steps).filter((step) => JSON.stringify(step).includes("ci_otel_start"));
        assert.ok(traced.length > 200, `only ${traced.length} traced steps`);
        const steps = readCase(path.join(OWN_CASES_DIR, "vllm-main-production"));
        assert.equal(steps.env.BUILDKITE_PULL_REQUEST, "false");
        assert.equal(firstDifference(withoutTracing(published), withoutTracing(production)), undefined);
    });
});

describe("conformance runner", function () {
    it("compares the OTel helper bundle as opaque, and checks that ours decodes to the four helpers", function () {
        const bundle = otelHelpersBundle();
        const found: string[] = [];
        const replaced = replaceOtelBundles({ commands: [`x ${bundle} y`, "plain"] }, found);
        assert.deepEqual(replaced, { commands: [`x ${OTEL_BUNDLE_PLACEHOLDER} y`, "plain"] });
        assert.deepEqual(found, [bundle]);
        assert.equal(otelBundleProblem(bundle), undefined);
        assert.match(otelBundleProblem("H4sI" + "A".repeat(300)) ?? "", /does not decode|holds/);
    });

    it("checks an error case's message against its error_pattern", async function () {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-pattern-"));
        try {
            const copy = path.join(root, "case");
            fs.cpSync(path.join(DEFAULT_CASES_DIR, "50-validation-invalid-branch"), copy, { recursive: true });
            fs.chmodSync(copy, 0o755);
            fs.chmodSync(path.join(copy, "expected_outcome.json"), 0o644);
            fs.writeFileSync(path.join(copy, "expected_outcome.json"), JSON.stringify({ outcome: "error", error_pattern: "^no such message" }));
            const result = await runCase(copy);
            assert.equal(result.pass, false);
            assert.match(result.detail ?? "", /does not match \^no such message/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

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

    function runBundle(caseName: string, extraArgs: string[] = [], casesDir = DEFAULT_CASES_DIR) {
        const caseDir = path.join(casesDir, caseName);
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

    it("embeds the OTel helper bundle built at build time, and passes our traced main-build case", function () {
        const text = fs.readFileSync(bundle, "utf8");
        assert.ok(text.includes(otelHelpersBundle()), "the bundle carries the helpers packed from generator/otel/");
        const { child, workDir, caseDir, outputPath } = runBundle("otel-main-build", [], OWN_CASES_DIR);
        try {
            assert.equal(child.status, 0, child.stderr);
            const found: string[] = [];
            const actual = replaceOtelBundles(parseYaml(fs.readFileSync(outputPath, "utf8"), "out"), found);
            const expected = replaceOtelBundles(parseYaml(fs.readFileSync(path.join(caseDir, "expected.yaml"), "utf8"), "expected"));
            assert.equal(firstDifference(expected, actual), undefined);
            assert.deepEqual([...new Set(found)], [otelHelpersBundle()]);
        } finally {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

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
