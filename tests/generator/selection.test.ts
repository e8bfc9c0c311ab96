import { strict as assert } from "assert";
import { GeneratorError } from "../../generator/errors";
import {
    checkDependencies,
    decideRun,
    decideRunAll,
    dependencyMatchesPath,
    isDocsOnlyDiff,
    matchSourceDependencies,
    selectOnlyStepKeys,
    type SelectableStep,
    type SelectionContext,
} from "../../generator/selection";
import { VLLM_SETTINGS } from "../../generator/settings";
import { parseStep, type Step } from "../../generator/steps";
import { WarningSink } from "../../generator/errors";

function step(fields: Record<string, unknown>, file = "jobs/a.yaml"): Step {
    return parseStep({ commands: ["x"], ...fields }, file, 0, new WarningSink(false));
}

function context(overrides: Partial<SelectionContext> = {}): SelectionContext {
    const changedFiles = overrides.changedFiles ?? [];
    return {
        noAuto: false,
        onlyStepKeys: false,
        nightly: false,
        runAll: false,
        runAllReason: "",
        changedFiles,
        changedFileSet: new Set(changedFiles),
        amdDevices: new Map([["mi300_1", 1]]),
        settings: VLLM_SETTINGS,
        ...overrides,
    };
}

const selectable = (fields: Partial<SelectableStep>): SelectableStep => ({
    key: null,
    device: null,
    dind: true,
    optional: false,
    sourceFileDependencies: ["vllm/"],
    ...fields,
});

describe("generator selection", function () {
    describe("source-file dependencies (whole path components, no glob)", function () {
        const diff = ["vllm/distributed/kv_transfer/x.py", "vllm/engine/a.py", "setup.py", "tests/kv/t.py", "tests/other/t.py"];
        const table: Array<[string[], boolean]> = [
            [["vllm"], true],
            [["vllm/eng"], false],
            [["setup.py"], true],
            [["vllm/", "!vllm/distributed/kv_transfer/"], true],
            [["!vllm/"], false],
            [["/"], false],
            [[""], false],
            [["tests/", "!tests/kv/"], true],
            [["setup"], false],
        ];
        for (const [deps, expected] of table) {
            it(`${JSON.stringify(deps)} ${expected ? "matches" : "does not match"}`, function () {
                assert.equal(matchSourceDependencies(deps, diff) !== undefined, expected);
            });
        }

        it("applies exclusions per changed file and says which file matched which entry", function () {
            assert.equal(matchSourceDependencies(["vllm/", "!vllm/distributed/"], ["vllm/distributed/a.py"]), undefined);
            assert.deepEqual(matchSourceDependencies(["vllm/", "!vllm/distributed/"], ["vllm/distributed/a.py", "vllm/b.py"]), {
                file: "vllm/b.py",
                dependency: "vllm/",
            });
            assert.equal(dependencyMatchesPath("vllm///", "vllm/a"), true);
            assert.equal(dependencyMatchesPath("vllm", "vllmx/a"), false);
        });

        it("an entry that is empty or only slashes matches nothing, not even an empty or absolute path", function () {
            assert.equal(dependencyMatchesPath("", ""), false);
            assert.equal(dependencyMatchesPath("//", "/etc/x"), false);
            assert.equal(matchSourceDependencies(["/"], ["/etc/x", ""]), undefined);
        });
    });

    describe("run-all", function () {
        const base = { runAllEnv: false, torchNightly: false, labels: [], settings: VLLM_SETTINGS };

        it("anchors patterns at the start only, every alternative included (Python re.match)", function () {
            const decide = (changedFiles: string[]) =>
                decideRunAll({ ...base, changedFiles, patterns: ["docker/Dockerfile", "setup\\.py|csrc/"], excludePatterns: ["docker/Dockerfile."] })
                    .runAll;
            assert.equal(decide(["third_party/csrc/x.cu"]), false);
            assert.equal(decide(["csrc/a.cu"]), true);
            assert.equal(decide(["docker/Dockerfile_extra"]), false, "'.' in an exclusion matches any character");
            assert.equal(decide(["docker/Dockerfile"]), true);
        });

        it("checks RUN_ALL, TORCH_NIGHTLY and the PR label first; the label also makes the build nightly", function () {
            const none = { changedFiles: [], patterns: [], excludePatterns: [] };
            assert.equal(decideRunAll({ ...base, ...none, runAllEnv: true }).reason, "RUN_ALL=1");
            assert.equal(decideRunAll({ ...base, ...none, torchNightly: true }).reason, "TORCH_NIGHTLY=1");
            const labelled = decideRunAll({ ...base, ...none, labels: ["ready-run-all-tests"] });
            assert.equal(labelled.runAll, true);
            assert.equal(labelled.nightlyFromLabel, true);
            assert.equal(decideRunAll({ ...base, ...none }).runAll, false);
        });

        it("explains each run-all decision", function () {
            const none = { changedFiles: [], patterns: [], excludePatterns: [] };
            assert.deepEqual(decideRunAll({ ...base, ...none, runAllEnv: true }), { runAll: true, nightlyFromLabel: false, reason: "RUN_ALL=1" });
            assert.deepEqual(decideRunAll({ ...base, ...none, torchNightly: true, labels: ["ready-run-all-tests"] }), {
                runAll: true,
                nightlyFromLabel: true,
                reason: "TORCH_NIGHTLY=1",
            });
            assert.equal(decideRunAll({ ...base, ...none, labels: ["ready-run-all-tests"] }).reason, "the PR label ready-run-all-tests");
            assert.deepEqual(decideRunAll({ ...base, ...none, changedFiles: ["vllm/a.py"], patterns: ["csrc/"] }), {
                runAll: false,
                nightlyFromLabel: false,
                reason: "no run-all condition holds",
            });
            const matched = decideRunAll({ ...base, changedFiles: ["vllm/a.py", "csrc/a.cu"], patterns: ["setup\\.py", "csrc/|cmake/"], excludePatterns: [] });
            assert.equal(matched.reason, "changed file csrc/a.cu matches the run-all pattern csrc/|cmake/", "the pattern as written, '/' unescaped");
        });

        it("a file matching any one exclude pattern does not run all", function () {
            const decide = (changedFiles: string[]) =>
                decideRunAll({ ...base, changedFiles, patterns: ["docker/"], excludePatterns: ["docker/Dockerfile\\.rocm", "docker/Dockerfile\\.cpu"] }).runAll;
            assert.equal(decide(["docker/Dockerfile.cpu"]), false);
            assert.equal(decide(["docker/Dockerfile.rocm"]), false);
            assert.equal(decide(["docker/Dockerfile"]), true);
        });
    });

    describe("docs-only", function () {
        it("needs a non-empty diff of docs/, *.md and mkdocs.yaml only", function () {
            assert.equal(isDocsOnlyDiff(["docs/a/b.rst", "README.md", "vllm/sub/NOTES.md", "mkdocs.yaml"], VLLM_SETTINGS), true);
            assert.equal(isDocsOnlyDiff(["mkdocs.yml"], VLLM_SETTINGS), false);
            assert.equal(isDocsOnlyDiff([], VLLM_SETTINGS), false);
            assert.equal(isDocsOnlyDiff(["docs/a.md", "vllm/a.py"], VLLM_SETTINGS), false);
        });

        it("ignores empty diff entries, and a diff of empty entries is not docs-only", function () {
            assert.equal(isDocsOnlyDiff(["docs/a.rst", ""], VLLM_SETTINGS), true);
            assert.equal(isDocsOnlyDiff([""], VLLM_SETTINGS), false);
        });
        it("a file needs to match one prefix or one suffix, not all of them", function () {
            const settings = { ...VLLM_SETTINGS, docsOnly: { ...VLLM_SETTINGS.docsOnly, prefixes: ["docs/", "site/"], suffixes: [".md", ".rst"], exact: [] } };
            assert.equal(isDocsOnlyDiff(["docs/a.py", "site/b.py"], settings), true);
            assert.equal(isDocsOnlyDiff(["vllm/a.md", "vllm/b.rst"], settings), true);
            assert.equal(isDocsOnlyDiff(["vllm/a.py"], settings), false);
        });
    });

    describe("should a step run (rule order)", function () {
        it("NOAUTO blocks everything, image builds included", function () {
            assert.equal(decideRun(selectable({ key: "image-build" }), context({ noAuto: true, runAll: true })).run, false);
        });
        it("only-step-keys runs every selected step", function () {
            assert.equal(decideRun(selectable({ optional: true, sourceFileDependencies: null }), context({ onlyStepKeys: true })).run, true);
        });
        it("image builds and the AMD base steps always run, by explicit key", function () {
            assert.equal(decideRun(selectable({ key: "image-build-cpu", sourceFileDependencies: null }), context()).run, true);
            assert.equal(decideRun(selectable({ key: "ensure-ci-base-amd", sourceFileDependencies: null }), context()).run, true);
            assert.equal(decideRun(selectable({ key: null, sourceFileDependencies: null }), context()).run, false);
        });
        it("nightly runs optional steps; otherwise optional steps stay blocked even under run-all", function () {
            assert.equal(decideRun(selectable({ optional: true }), context({ nightly: true })).run, true);
            const blocked = decideRun(selectable({ optional: true }), context({ runAll: true, changedFiles: ["vllm/a.py"] }));
            assert.equal(blocked.run, false);
            assert.match(blocked.reason, /optional/);
        });
        it("a change to the AMD runner script runs native AMD steps", function () {
            const changed = context({ changedFiles: [".buildkite/scripts/hardware_ci/run-amd-test.sh"] });
            assert.equal(decideRun(selectable({ device: "mi300_1", dind: false, sourceFileDependencies: null }), changed).run, true);
            assert.equal(decideRun(selectable({ device: "mi300_1", dind: true, sourceFileDependencies: null }), changed).run, false);
        });
        it("run-all runs steps without dependencies; otherwise no dependencies means blocked", function () {
            assert.equal(decideRun(selectable({ sourceFileDependencies: null }), context({ runAll: true })).run, true);
            const decision = decideRun(selectable({ sourceFileDependencies: null }), context({ changedFiles: ["vllm/a.py"] }));
            assert.equal(decision.run, false);
            assert.match(decision.reason, /no source_file_dependencies/);
        });
        it("explains which changed file matched which dependency", function () {
            const decision = decideRun(selectable({ sourceFileDependencies: ["tests/", "vllm/"] }), context({ changedFiles: ["docs/x", "vllm/a.py"] }));
            assert.deepEqual(decision.match, { file: "vllm/a.py", dependency: "vllm/" });
            assert.match(decision.reason, /vllm\/a\.py matches source_file_dependencies entry vllm\//);
        });

        it("explains every rule in words (--explain)", function () {
            const amdScript = ".buildkite/scripts/hardware_ci/run-amd-test.sh";
            const reason = (fields: Partial<SelectableStep>, overrides: Partial<SelectionContext>) => decideRun(selectable(fields), context(overrides));
            assert.deepEqual(reason({ key: "image-build" }, { noAuto: true }), { run: false, reason: "NOAUTO=1 blocks every step" });
            assert.deepEqual(reason({}, { onlyStepKeys: true }), { run: true, reason: "selected by VLLM_CI_ONLY_STEP_KEYS" });
            assert.deepEqual(reason({ key: "image-build-cpu" }, {}), { run: true, reason: "its key image-build-cpu always runs" });
            assert.deepEqual(reason({ key: "refresh-rocm-base-amd" }, {}), { run: true, reason: "its key refresh-rocm-base-amd always runs" });
            assert.deepEqual(reason({ optional: true }, { nightly: true }), { run: true, reason: "nightly build (NIGHTLY=1 or the run-all PR label)" });
            assert.deepEqual(reason({ device: "mi300_1", dind: false }, { changedFiles: [amdScript] }), {
                run: true,
                reason: `native AMD step and ${amdScript} changed`,
            });
            assert.deepEqual(reason({}, { runAll: true, runAllReason: "TORCH_NIGHTLY=1" }), { run: true, reason: "run all: TORCH_NIGHTLY=1" });
            assert.deepEqual(reason({ sourceFileDependencies: ["tests/"] }, { changedFiles: ["vllm/a.py"] }), {
                run: false,
                reason: "no changed file matches its source_file_dependencies",
            });
            assert.deepEqual(reason({ sourceFileDependencies: [] }, { changedFiles: ["vllm/a.py"] }), {
                run: false,
                reason: "it has no source_file_dependencies, so no change selects it",
            });
        });
        it("a change to the AMD runner script does not run steps on other devices", function () {
            const changed = context({ changedFiles: [".buildkite/scripts/hardware_ci/run-amd-test.sh"] });
            assert.equal(decideRun(selectable({ device: "h100", dind: false, sourceFileDependencies: null }), changed).run, false);
        });
    });

    describe("only-step-keys", function () {
        const steps = [
            step({ label: "build", key: "image-build" }),
            step({ label: "a", key: "a", depends_on: ["image-build"] }),
            step({ label: "b", key: "b", depends_on: ["a"] }),
            step({ label: "unkeyed" }),
            step({ label: "c", key: "c" }),
        ];

        const message = (run: () => unknown): string => {
            try {
                run();
            } catch (error) {
                assert.ok(error instanceof GeneratorError);
                return error.message;
            }
            return assert.fail("no error");
        };

        it("keeps the requested keys and their transitive dependencies, in read order", function () {
            assert.deepEqual(
                selectOnlyStepKeys(steps, ["b"]).map((s) => s.key),
                ["image-build", "a", "b"],
            );
        });
        it("rejects unknown keys (sorted), unknown dependencies and duplicate keys", function () {
            assert.throws(() => selectOnlyStepKeys(steps, ["zzz", "b", "aaa"]), /unknown CI step key\(s\): aaa, zzz/);
            assert.throws(() => selectOnlyStepKeys([step({ label: "x", key: "x", depends_on: ["nope"] })], ["x"]), /depends on unknown step nope/);
            assert.throws(() => selectOnlyStepKeys([step({ label: "x", key: "dup" }), step({ label: "y", key: "dup" })], ["dup"]), /duplicate CI step key dup/);
        });

        it("names the file, step and field of each problem", function () {
            assert.equal(message(() => selectOnlyStepKeys(steps, ["zzz", "b"])), "field VLLM_CI_ONLY_STEP_KEYS: unknown CI step key(s): zzz");
            assert.equal(
                message(() => selectOnlyStepKeys([step({ label: "x", key: "x", depends_on: ["nope"] }, "jobs/x.yaml")], ["x"])),
                'jobs/x.yaml: step "x": field depends_on: CI step x depends on unknown step nope',
            );
            assert.equal(
                message(() => selectOnlyStepKeys([step({ label: "x", key: "dup" }), step({ label: "y", key: "dup" }, "jobs/b.yaml")], ["dup"])),
                'jobs/b.yaml: step "y": field key: duplicate CI step key dup (also in jobs/a.yaml); keys must be unique with VLLM_CI_ONLY_STEP_KEYS',
            );
        });
        it("several unkeyed steps are no duplicate keys; they are dropped", function () {
            const withUnkeyed = [...steps, step({ label: "another unkeyed" })];
            assert.deepEqual(
                selectOnlyStepKeys(withUnkeyed, ["c"]).map((s) => s.label),
                ["c"],
            );
        });
        it("stops at a dependency cycle instead of looping", function () {
            const cyclic = [step({ label: "p", key: "p", depends_on: ["q"] }), step({ label: "q", key: "q", depends_on: ["p"] })];
            assert.deepEqual(
                selectOnlyStepKeys(cyclic, ["p"]).map((s) => s.key),
                ["p", "q"],
            );
        });
    });

    describe("dependency checks", function () {
        it("rejects a cycle, naming the file, step and field", function () {
            const steps = [
                step({ label: "A", key: "a", depends_on: ["b"] }),
                step({ label: "B", key: "b", depends_on: ["c"] }),
                step({ label: "C", key: "c", depends_on: ["a"] }),
            ];
            assert.throws(
                () => checkDependencies(steps, new Set(), () => undefined),
                (error: unknown) =>
                    error instanceof GeneratorError &&
                    /jobs\/a\.yaml: step "[ABC]": field depends_on: dependency cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/.test(error.message),
            );
        });

        it("reports only the cycle, not the path that led to it, at the step that closes it", function () {
            const steps = [
                step({ label: "X", key: "x", depends_on: ["a"] }),
                step({ label: "A", key: "a", depends_on: ["b"] }),
                step({ label: "B", key: "b", depends_on: ["a"] }, "jobs/b.yaml"),
            ];
            assert.throws(
                () => checkDependencies(steps, new Set(), () => undefined),
                (error: unknown) => error instanceof GeneratorError && error.message === 'jobs/b.yaml: step "B": field depends_on: dependency cycle: a -> b -> a',
            );
            assert.throws(
                () => checkDependencies([step({ label: "S", key: "s", depends_on: ["s"] })], new Set(), () => undefined),
                (error: unknown) => error instanceof GeneratorError && error.message === 'jobs/a.yaml: step "S": field depends_on: dependency cycle: s -> s',
            );
        });
        it("checks the depends_on of a key's first declaration", function () {
            const steps = [
                step({ label: "A", key: "a", depends_on: ["b"] }),
                step({ label: "B", key: "b", depends_on: ["a"] }),
                step({ label: "A again", key: "a" }),
            ];
            assert.throws(() => checkDependencies(steps, new Set(), () => undefined), /dependency cycle: a -> b -> a/);
        });
        it("accepts a diamond (a shared dependency is no cycle)", function () {
            const steps = [
                step({ label: "top", key: "top", depends_on: ["l", "r"] }),
                step({ label: "l", key: "l", depends_on: ["base"] }),
                step({ label: "r", key: "r", depends_on: ["base"] }),
                step({ label: "base", key: "base" }),
            ];
            assert.doesNotThrow(() => checkDependencies(steps, new Set(), () => undefined));
        });
        it("reports dangling dependencies, but not keys the generator emits or derived keys", function () {
            const dangling: string[] = [];
            checkDependencies(
                [
                    step({ label: "Build Image" }),
                    step({ label: "t", key: "t", depends_on: ["build-image", "pre-commit", "nowhere"] }),
                ],
                new Set(["pre-commit"]),
                (_step, dependency) => dangling.push(dependency),
            );
            assert.deepEqual(dangling, ["nowhere"]);
        });
    });
});
