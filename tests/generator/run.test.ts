/**
 * Whole runs on temporary folders: bad input fails cleanly with nothing written, warnings and
 * --strict, determinism whatever the file listing order, --explain, settings overrides, and the
 * library entry the bootstrap uses.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Catalog } from "../../catalog/types";
import { defaultCatalog } from "../../generator/catalog-source";
import { GeneratorError } from "../../generator/errors";
import { generatePipeline, parsePipelineConfig, readBuildContext, runGenerator, VLLM_SETTINGS, type RunOptions } from "../../generator/index";

const CONFIG = `name: ci-test
job_dirs: [jobs]
run_all_patterns: ['csrc/']
run_all_exclude_patterns: []
registries: public.ecr.aws/q9t5s3a7
repositories: {main: main-repo, premerge: test-repo}
`;
const ENV = { BUILDKITE_BRANCH: "feature/x", BUILDKITE_COMMIT: "abc123", BUILDKITE_PULL_REQUEST: "false" };

let catalog: Catalog;
const folders: string[] = [];

function workspace(jobs: Record<string, string>, config = CONFIG): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "generator-run-"));
    folders.push(root);
    fs.writeFileSync(path.join(root, "pipeline_config.yaml"), config);
    fs.mkdirSync(path.join(root, "jobs"));
    for (const [name, text] of Object.entries(jobs)) {
        fs.mkdirSync(path.dirname(path.join(root, "jobs", name)), { recursive: true });
        fs.writeFileSync(path.join(root, "jobs", name), text);
    }
    fs.writeFileSync(path.join(root, "diff.txt"), "vllm/a.py\n");
    return root;
}

function options(cwd: string, extra: Partial<RunOptions> = {}): RunOptions & { warnings: string[]; printed: string[] } {
    const warnings: string[] = [];
    const printed: string[] = [];
    return {
        cwd,
        env: ENV,
        pipelineConfigPath: "pipeline_config.yaml",
        outputFilePath: "out/pipeline.yaml",
        offline: true,
        changedFilesPath: "diff.txt",
        catalog,
        log: (line) => warnings.push(line),
        print: (line) => printed.push(line),
        warnings,
        printed,
        ...extra,
    };
}

async function failsCleanly(cwd: string, pattern: RegExp, extra: Partial<RunOptions> = {}): Promise<void> {
    await assert.rejects(runGenerator(options(cwd, extra)), (error: unknown) => {
        assert.ok(error instanceof GeneratorError, `not a clean error: ${(error as Error)?.stack}`);
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes("\n"), "one line");
        return true;
    });
    assert.ok(!fs.existsSync(path.join(cwd, "out")), "nothing written");
}

describe("generator runs", function () {
    before(function () {
        catalog = defaultCatalog();
    });
    after(function () {
        for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
    });

    describe("bad input: one line naming file, step and field; nothing written", function () {
        it("YAML syntax errors", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- label: [unclosed\n" }), /^jobs\/a\.yaml: YAML error: .*\(line \d+, column \d+\)$/);
        });
        it("wrong types", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- label: t\n  timeout_in_minutes: soon\n" }), /^jobs\/a\.yaml: step "t": field timeout_in_minutes: must be an integer/);
        });
        it("num_nodes without num_devices", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- label: t\n  num_nodes: 2\n" }), /step "t": field num_nodes: num_nodes requires num_devices/);
        });
        it("concurrency without concurrency_group", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- label: t\n  concurrency: 1\n" }), /step "t": field concurrency: concurrency requires concurrency_group/);
        });
        it("dependency cycles", async function () {
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: a, key: a, depends_on: [b]}\n- {label: b, key: b, depends_on: [a]}\n" }),
                /field depends_on: dependency cycle: (a -> b -> a|b -> a -> b)/,
            );
        });
        it("duplicate mapping keys", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- label: t\n  commands: [a]\n  commands: [b]\n" }), /jobs\/a\.yaml: YAML error: duplicated mapping key/);
        });
        it("duplicate step keys with only-step-keys", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- {label: a, key: k}\n- {label: b, key: k}\n" }), /duplicate CI step key k/, {
                env: { ...ENV, VLLM_CI_ONLY_STEP_KEYS: '["k"]' },
            });
        });
        it("invalid branch names", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps: []\n" }), /field BUILDKITE_BRANCH: invalid branch name "a\+b"/, { env: { ...ENV, BUILDKITE_BRANCH: "a+b" } });
        });
        it("an unknown AMD device, as a step device or a mirror", async function () {
            await failsCleanly(workspace({ "a.yaml": "steps:\n- {label: t, device: mi300_3}\n" }), /step "t": field device: unknown AMD device mi300_3/);
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: t, mirror: {amd: {device: h100}}}\n" }),
                /step "t": field mirror\.amd\.device: unknown AMD device h100/,
            );
        });
        it("no registries while a step runs in a container image (a config may omit it otherwise)", async function () {
            const noRegistry = CONFIG.replace(/^registries:.*\n/m, "").replace(/^repositories:.*\n/m, "");
            await runGenerator(options(workspace({ "a.yaml": "steps:\n- {label: host, key: host, no_plugin: true, commands: [x]}\n" }, noRegistry)));
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: gpu, key: gpu, commands: [x]}\n" }, noRegistry),
                /^pipeline_config\.yaml: field registries: missing: the image registry is required to name the container images \(step "gpu" in jobs\/a\.yaml runs in a container image\)$/,
            );
        });
        it("an empty job file, a missing job dir, a bad config", async function () {
            await failsCleanly(workspace({ "a.yaml": "" }), /^jobs\/a\.yaml: the job file is empty/);
            await failsCleanly(workspace({}, CONFIG.replace("[jobs]", "[jobs, nope]")), /^pipeline_config\.yaml: field job_dirs: job directory not found: nope/);
            await failsCleanly(workspace({}, CONFIG.replace("name: ci-test", "name: ''")), /^pipeline_config\.yaml: field name:/);
            await failsCleanly(workspace({}, CONFIG + "github_repo_name: someone/vllm\n"), /field github_repo_name: invalid github_repo_name "someone\/vllm"/);
        });
    });

    describe("warnings and --strict", function () {
        const jobs = {
            "a.yaml": [
                "steps:",
                "- label: typo",
                "  source_file_dependency: [vllm/]",
                "  commands: [x]",
                "- label: dangling",
                "  depends_on: [no-such-step]",
                "  commands: [x]",
                "- label: odd device",
                "  device: l4",
                "  commands: [x]",
                "",
            ].join("\n"),
        };

        it("accepts unknown fields, dangling dependencies and unknown devices with one warning each", async function () {
            const cwd = workspace(jobs);
            const run = options(cwd);
            await runGenerator(run);
            assert.ok(fs.existsSync(path.join(cwd, "out", "pipeline.yaml")));
            assert.deepEqual(run.warnings, [
                'warning: jobs/a.yaml: step "typo": field source_file_dependency: unknown field "source_file_dependency" (did you mean "source_file_dependencies"?); it is ignored',
                'warning: jobs/a.yaml: step "odd device": field device: unknown device "l4"; the step runs on the default (queue gpu_1_queue)',
                'warning: jobs/a.yaml: step "dangling": field depends_on: depends on "no-such-step", which no step declares',
            ]);
        });

        it("turns them into errors under --strict", async function () {
            await failsCleanly(workspace(jobs), /step "typo": field source_file_dependency: unknown field .*--strict/, { strict: true });
        });
    });

    describe("keys Buildkite would reject are errors naming the step", function () {
        it("a derived key with a character Buildkite refuses", async function () {
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: Émile, source_file_dependencies: [vllm/], commands: [x]}\n" }),
                /^jobs\/a\.yaml: step "Émile" \(key émile\): field key: key "émile" has the character "é", which Buildkite does not allow in keys .*give the step an explicit key$/,
            );
        });
        it("the same key twice, across files: the later step in the output is named, and the other one", async function () {
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: twice, key: dup, commands: [x]}\n", "b.yaml": "steps:\n- {label: again, key: dup, commands: [x]}\n" }),
                /^jobs\/a\.yaml: step "twice" \(key dup\): field key: key "dup" is also the key of step "again" \(jobs\/b\.yaml\): Buildkite rejects/,
            );
        });
        it("a block key over 100 characters (the step's own key has 96)", async function () {
            const key = "k".repeat(96);
            await failsCleanly(
                workspace({ "a.yaml": `steps:\n- {label: long, key: ${key}, source_file_dependencies: [nothing/], commands: [x]}\n` }),
                new RegExp(`^jobs/a\\.yaml: step "long" \\(key block-${key}\\): field key: its block step's key "block-${key}" is longer than 100 characters`),
            );
        });
    });

    describe("output validation speaks plainly: file, step, key and field", function () {
        it("accepts timeout_in_minutes: 0 on an amd_cpu step (spec §4.13; our schema overlay)", async function () {
            const cwd = workspace({ "a.yaml": "steps:\n- {label: build, key: build, device: amd_cpu, no_plugin: true, timeout_in_minutes: 0, commands: [x]}\n" });
            await runGenerator(options(cwd));
            assert.match(fs.readFileSync(path.join(cwd, "out", "pipeline.yaml"), "utf8"), /timeout_in_minutes: 0\n/);
        });
        it("a negative timeout: the step's file, label, key and the field, not an anyOf branch", async function () {
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: slow, key: slow, source_file_dependencies: [vllm/], timeout_in_minutes: -5, commands: [x]}\n" }),
                /^jobs\/a\.yaml: step "slow" \(key slow\): field timeout_in_minutes: the generated pipeline does not match the Buildkite pipeline schema: must be >= 0, not -5$/,
            );
        });
        it("a retry rule with an unknown field", async function () {
            await failsCleanly(
                workspace({ "a.yaml": "steps:\n- {label: r, key: r, source_file_dependencies: [vllm/], retry: {automatic: [{exit_status: 1, limt: 2}]}, commands: [x]}\n" }),
                /^jobs\/a\.yaml: step "r" \(key r\): field retry\.automatic\[1\]\.limt: .* is not a field Buildkite knows here$/,
            );
        });
    });

    it("writes the same bytes whatever order the file system lists the job files in", async function () {
        const files: Record<string, string> = {};
        for (let i = 0; i < 12; i++) {
            files[`dir${i % 3}/f${i}.yaml`] = `group: G${i % 4}\nsteps:\n- {label: same label, key: k${i}, commands: [echo ${i}], mirror: {amd: {device: mi300_1}}}\n`;
        }
        const forward = workspace(files);
        const backward = workspace(Object.fromEntries(Object.entries(files).reverse()));
        await runGenerator(options(forward));
        await runGenerator(options(backward));
        const a = fs.readFileSync(path.join(forward, "out", "pipeline.yaml"), "utf8");
        assert.equal(a, fs.readFileSync(path.join(backward, "out", "pipeline.yaml"), "utf8"));
        assert.ok(a.includes("Hardware-AMD Tests"));
    });

    it("--explain says which changed file matched which dependency, or which rule decided", async function () {
        const cwd = workspace({
            "a.yaml": "steps:\n- {label: Matched, key: m, source_file_dependencies: [tests/, vllm/], commands: [x]}\n- {label: Optional, key: o, optional: true, commands: [x]}\n",
        });
        const run = options(cwd, { explain: "m", outputFilePath: undefined });
        await runGenerator(run);
        assert.match(run.printed.join("\n"), /^m: "Matched" \(jobs\/a\.yaml, queue gpu_1_queue\) runs\n  because changed file vllm\/a\.py matches source_file_dependencies entry vllm\//);
        assert.ok(!fs.existsSync(path.join(cwd, "out")), "--explain alone writes nothing");
        const blocked = options(cwd, { explain: "block-o", outputFilePath: undefined });
        await runGenerator(blocked);
        assert.match(blocked.printed.join("\n"), /o: "Optional" .* is blocked \(block step block-o\)\n  because optional steps run only in nightly builds/);
        const unknown = options(cwd, { explain: "mm", outputFilePath: undefined });
        await runGenerator(unknown);
        assert.match(unknown.printed[0], /no step has this key \(did you mean "m"\?\)/);
    });

    it("takes every project-specific value from a settings file", async function () {
        const cwd = workspace({ "a.yaml": "steps:\n- {label: t, device: h100, source_file_dependencies: [vllm/], commands: [x]}\n" });
        fs.writeFileSync(
            path.join(cwd, "settings.yaml"),
            [
                "images:",
                "  pullThroughCache: {from: public.ecr.aws, to: mirror.example.com/cache}",
                "kubernetes:",
                "  templates:",
                "    h100:",
                "      containers: [{image: '', resources: {limits: {nvidia.com/gpu: 1}}}]",
                "",
            ].join("\n"),
        );
        await runGenerator(options(cwd, { settingsPath: "settings.yaml" }));
        const text = fs.readFileSync(path.join(cwd, "out", "pipeline.yaml"), "utf8");
        assert.ok(text.includes("image: mirror.example.com/cache/q9t5s3a7/test-repo:$BUILDKITE_COMMIT"), text);
        assert.ok(!text.includes("hf-token-secret"), "a template given replaces the built-in one whole");
        assert.ok(!text.includes("hf-cache"));
        fs.rmSync(path.join(cwd, "out"), { recursive: true });
        fs.writeFileSync(path.join(cwd, "bad.yaml"), "images: {pullThroughCach: {}}\n");
        await failsCleanly(cwd, /bad\.yaml: unknown field images\.pullThroughCach/, { settingsPath: "bad.yaml" });
    });

    it("library entry: pure function of its inputs, with a run-all decision from the caller", async function () {
        const settings = VLLM_SETTINGS;
        const config = parsePipelineConfig(
            { name: "ci-test", job_dirs: ["jobs"], registries: "r", repositories: { main: "m", premerge: "p" } },
            "pipeline_config.yaml",
            settings,
        );
        const jobFiles = [{ path: "jobs/a.yaml", text: "steps:\n- {label: t, source_file_dependencies: [nothing/], commands: [x]}\n" }];
        let asked = 0;
        const adapters = {
            changedFiles: () => {
                asked++;
                return ["vllm/a.py"];
            },
            mergeBase: () => "base",
        };
        const blocked = await generatePipeline({ config, jobFiles, catalog, build: readBuildContext(ENV) }, adapters);
        assert.equal(asked, 1);
        assert.equal(blocked.kind, "pipeline");
        if (blocked.kind !== "pipeline") return;
        assert.ok(JSON.stringify(blocked.pipeline).includes('"block":"Run t"'));
        const runAll = await generatePipeline({ config, jobFiles, catalog, build: readBuildContext(ENV), changedFiles: ["x"], runAll: true }, adapters);
        assert.equal(asked, 1, "given changed files are used as they are");
        assert.ok(runAll.kind === "pipeline" && !JSON.stringify(runAll.pipeline).includes('"block"'));
        const docs = await generatePipeline(
            { config, jobFiles: () => assert.fail("docs-only must not read job files"), catalog, build: readBuildContext(ENV), changedFiles: ["docs/a.md"] },
            {},
        );
        assert.equal(docs.kind, "docs_only");
    });
});
