/**
 * vLLM's three real pipeline configs (`ci_config.yaml`, `ci_config_intel.yaml`,
 * `ci_config_rocm.yaml`, vendored with their step files) each generate in the PR, main, nightly
 * and run-all scenarios. Expectations are derived from the step files themselves (read here with
 * js-yaml, independently of the generator): no step lost, blocks only where the rules put them,
 * the pre-commit group on PRs only, OTel tracing on main only and never on AMD GPU jobs.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load } from "js-yaml";
import type { Catalog } from "../../catalog/types";
import { defaultCatalog } from "../../generator/catalog-source";
import { runGenerator } from "../../generator/run";
import { VLLM_SETTINGS } from "../../generator/settings";
import { deriveKey } from "../../generator/steps";
import { parseYaml } from "../../generator/yaml";
import { sharedFixture } from "../support/fixtures";

const VLLM = sharedFixture("fixtures", "vllm");
const CONFIGS = ["ci_config.yaml", "ci_config_intel.yaml", "ci_config_rocm.yaml"];

interface Scenario {
    name: string;
    env: Record<string, string>;
    changedFiles: string[];
}

const SCENARIOS: Scenario[] = [
    {
        name: "PR",
        env: { BUILDKITE_BRANCH: "contrib:fix-lora", BUILDKITE_COMMIT: "0123abcd", BUILDKITE_PULL_REQUEST: "48001", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" },
        changedFiles: ["vllm/lora/layers.py", "tests/lora/test_layers.py"],
    },
    { name: "main", env: { BUILDKITE_BRANCH: "main", BUILDKITE_COMMIT: "89ab23cd", BUILDKITE_PULL_REQUEST: "false" }, changedFiles: ["vllm/engine/llm_engine.py"] },
    { name: "nightly", env: { BUILDKITE_BRANCH: "main", BUILDKITE_COMMIT: "89ab23cd", BUILDKITE_PULL_REQUEST: "false", NIGHTLY: "1" }, changedFiles: [] },
    { name: "run-all", env: { BUILDKITE_BRANCH: "feature/kernels", BUILDKITE_COMMIT: "4567ef01", BUILDKITE_PULL_REQUEST: "false", RUN_ALL: "1" }, changedFiles: ["README.md"] },
];

interface SourceStep {
    key: string;
    optional: boolean;
    amdGpu: boolean;
    mirror: boolean;
}

/** The steps of a config's job dirs, read directly from the files. */
function sourceSteps(config: string): SourceStep[] {
    const { job_dirs: jobDirs } = load(fs.readFileSync(path.join(VLLM, ".buildkite", config), "utf8")) as { job_dirs: string[] };
    const files = jobDirs.flatMap((directory) => {
        const walk = (dir: string): string[] =>
            fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : entry.name.endsWith(".yaml") ? [path.join(dir, entry.name)] : []));
        return walk(path.join(VLLM, directory));
    });
    return files.flatMap((file) =>
        (((load(fs.readFileSync(file, "utf8")) as { steps?: Array<Record<string, unknown>> }).steps ?? []) as Array<Record<string, unknown>>).map((step) => ({
            key: typeof step.key === "string" ? step.key : deriveKey(String(step.label)),
            optional: step.optional === true,
            amdGpu: typeof step.device === "string" && /^mi\d+_\d$/.test(step.device),
            mirror: !!(step.mirror as { amd?: unknown } | undefined)?.amd,
        })),
    );
}

type OutputStep = Record<string, unknown>;

describe("vLLM's real configs in every scenario", function () {
    this.timeout(60_000);
    let catalog: Catalog;
    let workspace: string;
    before(function () {
        catalog = defaultCatalog();
        workspace = fs.mkdtempSync(path.join(os.tmpdir(), "real-configs-"));
        fs.cpSync(path.join(VLLM, ".buildkite"), path.join(workspace, ".buildkite"), { recursive: true });
    });
    after(function () {
        fs.rmSync(workspace, { recursive: true, force: true });
    });

    it("ci_config_rocm.yaml names no image registry: none of its steps needs one", function () {
        const rocm = load(fs.readFileSync(path.join(VLLM, ".buildkite", "ci_config_rocm.yaml"), "utf8")) as Record<string, unknown>;
        assert.equal(rocm.registries, undefined);
        assert.equal(rocm.repositories, undefined);
    });

    for (const config of CONFIGS) {
        for (const scenario of SCENARIOS) {
            it(`${config}: ${scenario.name}`, async function () {
                const output = `out/${config}-${scenario.name}.yaml`;
                const warnings: string[] = [];
                const outcome = await runGenerator({
                    cwd: workspace,
                    env: scenario.env,
                    pipelineConfigPath: `.buildkite/${config}`,
                    outputFilePath: output,
                    adapters: { mergeBase: () => "0000base", changedFiles: () => scenario.changedFiles, prLabels: () => [], manifestExists: () => false, ecrLogin: () => undefined },
                    catalog,
                    log: (line) => warnings.push(line),
                });
                assert.equal(outcome.result.kind, "pipeline");
                const pipeline = parseYaml(fs.readFileSync(path.join(workspace, output), "utf8"), output) as { steps: Array<{ group: string; steps: OutputStep[] }> };
                const steps = pipeline.steps.flatMap((group) => group.steps);
                const commandSteps = steps.filter((step) => !("block" in step));
                const keys = new Set(commandSteps.map((step) => String(step.key)));
                const source = sourceSteps(config);

                // No step lost; mirrors come along.
                for (const step of source) {
                    assert.ok(keys.has(step.key), `step ${step.key} is missing`);
                    if (step.mirror && !step.amdGpu) assert.ok(keys.has(`amd-${step.key}`), `mirror of ${step.key} is missing`);
                }

                // The pre-commit group on PR builds only, first.
                const isPr = scenario.name === "PR";
                assert.equal(pipeline.steps[0].group === VLLM_SETTINGS.precommit.groupName, isPr);

                // Blocks: none in nightly builds; under run-all only for optional steps.
                const blocked = steps.filter((step) => "block" in step).map((step) => String(step.key));
                if (scenario.name === "nightly") assert.deepEqual(blocked, []);
                if (scenario.name === "run-all") {
                    const optional = new Set(source.filter((step) => step.optional).flatMap((step) => [`block-${step.key}`, `block-amd-${step.key}`]));
                    for (const key of blocked) assert.ok(optional.has(key), `${key} is blocked under run-all but its step is not optional`);
                }

                // OTel tracing on main builds (vllm-project/vllm, BUILDKITE_PULL_REQUEST=false): every
                // non-AMD-GPU command step, never an AMD GPU job.
                const amdGroup = pipeline.steps.find((group) => group.group === VLLM_SETTINGS.amd.groupName)?.steps ?? [];
                const amdKeys = new Set(amdGroup.map((step) => step.key));
                for (const step of commandSteps) {
                    const traced = (step.commands as string[]).some((line) => line.includes("ci_otel.sh"));
                    const traceable = scenario.env.BUILDKITE_BRANCH === "main" && !amdKeys.has(step.key) && step.key !== VLLM_SETTINGS.precommit.key;
                    assert.equal(traced, traceable, `step ${step.key}: traced ${traced}`);
                }
                assert.ok(warnings.every((line) => line.startsWith("warning: ")), warnings.join("\n"));
            });
        }
    }
});
