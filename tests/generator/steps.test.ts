import { strict as assert } from "assert";
import { GeneratorError, WarningSink } from "../../generator/errors";
import { VLLM_SETTINGS } from "../../generator/settings";
import { deriveKey, parseJobFile, parseStep } from "../../generator/steps";

function parse(fields: Record<string, unknown>, sink = new WarningSink(false)) {
    return parseStep({ label: "S", commands: ["x"], ...fields }, "jobs/a.yaml", 0, sink);
}

function rejects(fields: Record<string, unknown>, field: string, pattern: RegExp) {
    assert.throws(
        () => parse(fields),
        (error: unknown) => {
            assert.ok(error instanceof GeneratorError, String(error));
            assert.equal(error.location.file, "jobs/a.yaml");
            assert.equal(error.location.field, field);
            assert.match(error.message, pattern);
            assert.ok(!error.message.includes("\n"));
            return true;
        },
    );
}

describe("generator step model", function () {
    it("derives keys from labels exactly like upstream", function () {
        assert.equal(deriveKey("zeta (2%), A+B: v1.2/3"), "zeta-2--a-b--v1-2-3");
        assert.equal(deriveKey(":docker: Build Image"), "-docker--build-image");
        assert.equal(deriveKey("_underscore [x] & 'q'"), "_underscore-[x]-&-'q'");
        assert.equal(deriveKey("Émile Ünicode"), "émile-ünicode");
    });

    it("coerces like pydantic's lax mode", function () {
        assert.equal(parse({ num_devices: "2" }).numDevices, 2);
        assert.equal(parse({ num_devices: 2.0 }).numDevices, 2);
        assert.equal(parse({ num_devices: true }).numDevices, 1);
        assert.equal(parse({ timeout_in_minutes: "15" }).timeoutInMinutes, 15);
        assert.equal(parse({ soft_fail: "yes" }).softFail, true);
        assert.equal(parse({ soft_fail: "on" }).softFail, true);
        assert.equal(parse({ soft_fail: null }).softFail, null, "null soft_fail is kept as null (left out of the output)");
        assert.equal(parse({}).softFail, false);
        assert.equal(parse({}).dind, true);
        assert.equal(parse({ group: "" }).group, "");
    });

    it("rejects what the reference rejects, naming file, step and field", function () {
        rejects({ num_devices: 2.5 }, "num_devices", /integer/);
        rejects({ num_nodes: 2 }, "num_nodes", /requires num_devices/);
        rejects({ concurrency: 2 }, "concurrency", /requires concurrency_group/);
        rejects({ concurrency_group: "g" }, "concurrency_group", /requires concurrency/);
        rejects({ concurrency: "2", concurrency_group: "g" }, "concurrency", /integer/);
        rejects({ concurrency: 0, concurrency_group: "g" }, "concurrency", /greater than 0/);
        rejects({ concurrency: 1, concurrency_group: "  " }, "concurrency_group", /blank/);
        rejects({ env: { A: 1 } }, "env.A", /must be a string/);
        rejects({ commands: "echo" }, "commands", /list of strings/);
        rejects({ commands: ["ok", 3] }, "commands[1]", /must be a string/);
        rejects({ depends_on: "image-build" }, "depends_on", /list of strings/);
        rejects({ label: 5 }, "label", /must be a string/);
        rejects({ group: null }, "group", /null/);
        rejects({ dind: null }, "dind", /null/);
        rejects({ soft_fail: "maybe" }, "soft_fail", /boolean/);
        assert.throws(() => parseStep({ commands: ["x"] }, "jobs/a.yaml", 3, new WarningSink(false)), /step "#4": field label: missing/);
    });

    it("accepts unknown fields with a warning and a did-you-mean; --strict makes it an error", function () {
        const sink = new WarningSink(false);
        const parsed = parse({ source_file_dependency: ["vllm/"], autorun_on_main: true }, sink);
        assert.equal(parsed.sourceFileDependencies, null);
        assert.equal(sink.warnings.length, 2);
        assert.deepEqual(
            sink.warnings.map((w) => [w.file, w.step, w.field]),
            [
                ["jobs/a.yaml", "S", "source_file_dependency"],
                ["jobs/a.yaml", "S", "autorun_on_main"],
            ],
        );
        assert.match(sink.warnings[0].message, /unknown field "source_file_dependency" \(did you mean "source_file_dependencies"\?\)/);
        assert.throws(() => parse({ source_file_dependency: ["vllm/"] }, new WarningSink(true)), /--strict/);
    });

    it("validates mirror.amd fields too", function () {
        assert.equal(parse({ mirror: { amd: { device: "mi300_1", num_gpus: "1" } } }).amdMirror?.numGpus, 1);
        assert.throws(() => parse({ mirror: { amd: { device: "mi300_1", timeout_in_minutes: "long" } } }), /field mirror\.amd\.timeout_in_minutes/);
    });

    describe("job files", function () {
        const sink = () => new WarningSink(false);

        it("file group overrides step groups; file depends_on fills deps, working_dir and the job file dependency", function () {
            const steps = parseJobFile(
                {
                    group: "Tests",
                    depends_on: ["image-build"],
                    steps: [
                        { label: "a", group: "ignored", commands: ["x"] },
                        { label: "b", depends_on: ["other"], working_dir: "/w", source_file_dependencies: ["vllm/"], commands: ["x"] },
                    ],
                },
                "jobs/tests.yaml",
                "vllm-project/vllm",
                VLLM_SETTINGS,
                sink(),
            );
            assert.deepEqual(
                steps.map((s) => [s.group, s.dependsOn, s.workingDir, s.sourceFileDependencies]),
                [
                    ["Tests", ["image-build"], "/vllm-workspace/tests", ["jobs/tests.yaml"]],
                    ["Tests", ["other"], "/w", ["vllm/", "jobs/tests.yaml"]],
                ],
            );
            const other = parseJobFile(
                { depends_on: ["image-build"], steps: [{ label: "a", commands: ["x"] }] },
                "jobs/t.yaml",
                "vllm-project/other",
                VLLM_SETTINGS,
                sink(),
            );
            assert.equal(other[0].workingDir, null, "the working_dir default is only for vllm-project/vllm");
        });

        it("rejects an empty job file and a non-list of steps", function () {
            assert.throws(() => parseJobFile(undefined, "jobs/a.yaml", "vllm-project/vllm", VLLM_SETTINGS, sink()), /jobs\/a\.yaml: the job file is empty/);
            assert.throws(() => parseJobFile({ steps: { a: 1 } }, "jobs/a.yaml", "vllm-project/vllm", VLLM_SETTINGS, sink()), /field steps: must be a list/);
        });
    });
});
