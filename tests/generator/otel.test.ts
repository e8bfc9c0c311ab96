/**
 * OTel command tracing (spec §4.11): the bundle's format, the wrapping the generator writes, and
 * the helpers themselves, run by real shells (dash and bash, with `-e` as Buildkite and the docker
 * plugin run commands) against a local OTLP receiver on 127.0.0.1, a collector that is down and
 * one that never answers.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import type { Catalog } from "../../catalog/types";
import { defaultCatalog } from "../../generator/catalog-source";
import { readBuildContext } from "../../generator/config";
import { otelSetupLine, otelTracingOn, otelWrapCommand } from "../../generator/otel";
import { buildOtelHelpersBundle, OTEL_HELPER_FILES, otelHelpersBundle, readTarGz } from "../../generator/otel-bundle";
import { runGenerator } from "../../generator/run";
import { VLLM_SETTINGS } from "../../generator/settings";
import { parseYaml } from "../../generator/yaml";

const HELPERS = path.resolve(__dirname, "..", "..", "generator", "otel");
const SHELLS = ["/bin/sh", "/bin/bash"].filter((shell) => fs.existsSync(shell));

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    ms: number;
}

/** Run a process without blocking the event loop (the OTLP receiver lives in this process). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 20_000): Promise<Run> {
    return new Promise((resolve, reject) => {
        const start = Date.now();
        // No stdin: bash reads ~/.bashrc when its stdin is a socket.
        const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`${command} ${args.join(" ")} did not end within ${timeoutMs} ms`));
        }, timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr, ms: Date.now() - start });
        });
    });
}

interface ReceivedSpan {
    name: string;
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    startTimeUnixNano: string;
    endTimeUnixNano: string;
    attributes: Array<{ key: string; value: Record<string, string> }>;
    status: { code: number; message?: string };
}

/** A local OTLP/HTTP receiver that records the spans posted to /v1/traces. */
class Receiver {
    readonly spans: ReceivedSpan[] = [];
    readonly requests: Array<{ url?: string; headers: http.IncomingHttpHeaders; resource: unknown }> = [];
    private server?: http.Server;
    constructor(private readonly behaviour: "answer" | "hang" = "answer") {}

    async start(): Promise<string> {
        this.server = http.createServer((request, response) => {
            let body = "";
            request.on("data", (chunk) => (body += chunk));
            request.on("end", () => {
                if (this.behaviour === "hang") return; // accept, read, never answer
                const payload = JSON.parse(body);
                for (const resourceSpans of payload.resourceSpans) {
                    this.requests.push({ url: request.url, headers: request.headers, resource: resourceSpans.resource });
                    for (const scope of resourceSpans.scopeSpans) this.spans.push(...scope.spans);
                }
                response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

/** An address where nothing listens. */
async function closedPort(): Promise<string> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
}

function attribute(span: ReceivedSpan, key: string): string | undefined {
    const found = span.attributes.find((item) => item.key === key);
    return found ? Object.values(found.value)[0] : undefined;
}

let catalog: Catalog;
const folders: string[] = [];

function tempDir(prefix: string): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    folders.push(directory);
    return directory;
}

const JOBS = `steps:
- label: traced
  key: traced
  source_file_dependencies: [vllm/]
  no_plugin: true
  commands:
  - echo "a" $$X
  - sleep 0.2 && echo 'second'
- label: failing
  key: failing
  source_file_dependencies: [vllm/]
  no_plugin: true
  commands:
  - echo before
  - sleep 0.1; exit 3
  - echo never
- label: on a gpu
  key: gpu
  device: h200
  source_file_dependencies: [vllm/]
  commands: [echo gpu]
- label: ":docker: build image"
  key: image-build
  commands: [echo build]
- label: amd
  key: amd
  device: mi300_1
  commands: [echo amd]
`;

/** Generate the pipeline of a main build (tracing on) for JOBS; returns the command steps by key. */
async function generateMain(env: Record<string, string> = {}): Promise<Map<string, Record<string, unknown>>> {
    const cwd = tempDir("otel-gen-");
    fs.writeFileSync(
        path.join(cwd, "pipeline_config.yaml"),
        "name: ci-test\njob_dirs: [jobs]\nregistries: public.ecr.aws/q9t5s3a7\nrepositories: {main: main-repo, premerge: test-repo}\n",
    );
    fs.mkdirSync(path.join(cwd, "jobs"));
    fs.writeFileSync(path.join(cwd, "jobs", "a.yaml"), JOBS);
    fs.writeFileSync(path.join(cwd, "diff.txt"), "vllm/a.py\n");
    await runGenerator({
        cwd,
        env: { BUILDKITE_BRANCH: "main", BUILDKITE_COMMIT: "abc", BUILDKITE_PULL_REQUEST: "false", ...env },
        pipelineConfigPath: "pipeline_config.yaml",
        outputFilePath: "out/pipeline.yaml",
        offline: true,
        changedFilesPath: "diff.txt",
        catalog,
        log: () => undefined,
    });
    const pipeline = parseYaml(fs.readFileSync(path.join(cwd, "out", "pipeline.yaml"), "utf8"), "out") as { steps: Array<{ steps: Array<Record<string, unknown>> }> };
    const steps = new Map<string, Record<string, unknown>>();
    for (const group of pipeline.steps) for (const step of group.steps) if (!("block" in step)) steps.set(String(step.key), step);
    return steps;
}

/** What the commands printed, without the `+++ Command (i/n)` preview lines. */
function printed(output: string): string {
    return output.replace(/^\+\+\+ :test_tube: .*\n/gm, "");
}

/** A step's commands as the agent runs them: Buildkite's `$$` unescaped, joined by line breaks. */
function script(step: Record<string, unknown> | undefined): string {
    assert.ok(step, "no such step");
    return (step.commands as string[]).map((command) => command.replace(/\$\$/g, "$")).join("\n");
}

function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: os.tmpdir(), BUILDKITE_BUILD_ID: "0190-build", BUILDKITE_JOB_ID: "job-1", X: "x-value", ...extra };
}

describe("OTel command tracing", function () {
    this.timeout(60_000);
    before(function () {
        catalog = defaultCatalog();
    });
    after(function () {
        for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
    });

    describe("the helper bundle", function () {
        it("is a base64 tar.gz of otel_helpers/{4 files}, gzip level 9 with mtime 0, modes 0755 for .sh and 0644 otherwise", function () {
            const archive = Buffer.from(otelHelpersBundle(), "base64");
            assert.deepEqual([...archive.subarray(0, 3)], [0x1f, 0x8b, 8], "gzip, deflate");
            assert.equal(archive.readUInt32LE(4), 0, "gzip mtime 0");
            assert.equal(archive[8], 2, "gzip XFL 2: maximum compression (level 9)");
            const entries = readTarGz(archive);
            assert.deepEqual(
                entries.map((entry) => [entry.name, entry.mode.toString(8)]),
                OTEL_HELPER_FILES.map((name) => [`otel_helpers/${name}`, name.endsWith(".sh") ? "755" : "644"]),
            );
            for (const entry of entries) assert.ok(entry.content.equals(fs.readFileSync(path.join(HELPERS, path.basename(entry.name)))), entry.name);
        });

        it("gives the same bytes every time, and Python's tarfile reads it with mtime 0 and owner 0", function () {
            const bundle = buildOtelHelpersBundle();
            assert.equal(bundle, buildOtelHelpersBundle());
            const listing = spawnSync(
                "python3",
                ["-c", "import base64,io,sys,tarfile\nfor m in tarfile.open(fileobj=io.BytesIO(base64.b64decode(sys.stdin.read()))): print(m.name, oct(m.mode), m.mtime, m.uid, m.gid)"],
                { input: bundle, encoding: "utf8" },
            );
            assert.equal(listing.status, 0, listing.stderr);
            assert.deepEqual(
                listing.stdout.trim().split("\n"),
                OTEL_HELPER_FILES.map((name) => `otel_helpers/${name} ${name.endsWith(".sh") ? "0o755" : "0o644"} 0 0 0`),
            );
        });

        it("has shell helpers that pass shellcheck (POSIX sh) and Python helpers that compile", function () {
            const shellcheck = spawnSync("shellcheck", ["--version"]);
            if (shellcheck.status !== 0) this.skip();
            const result = spawnSync("shellcheck", ["-s", "sh", path.join(HELPERS, "ci_otel.sh"), path.join(HELPERS, "ci_pytest.sh")], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stdout);
            const compiled = spawnSync("python3", ["-c", "import ast,sys\nfor f in sys.argv[1:]: ast.parse(open(f).read(), f)", path.join(HELPERS, "ci_otel.py"), path.join(HELPERS, "ci_pytest_otel.py")], { encoding: "utf8" });
            assert.equal(compiled.status, 0, compiled.stderr);
        });
    });

    describe("when it is on (§4.11)", function () {
        const config = { githubRepoName: "vllm-project/vllm" } as Parameters<typeof otelTracingOn>[0];
        const on = (env: Record<string, string>, repo = config) => otelTracingOn(repo, readBuildContext(env), VLLM_SETTINGS);

        it("main of vllm-project/vllm with BUILDKITE_PULL_REQUEST exactly false", function () {
            assert.equal(on({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false" }), true);
            assert.equal(on({ BUILDKITE_BRANCH: "main" }), false, "PR variable unset");
            assert.equal(on({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "" }), false);
            assert.equal(on({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "123" }), false);
            assert.equal(on({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false" }, { githubRepoName: "vllm-project/other" } as typeof config), false);
            assert.equal(on({ BUILDKITE_BRANCH: "feature/x", BUILDKITE_PULL_REQUEST: "false" }), false);
        });

        it("the treatment branch, only for builds started through the API", function () {
            const treatment = { BUILDKITE_BRANCH: "otel/try", BUILDKITE_PULL_REQUEST: "false", CI_INFRA_OTEL_TREATMENT_BRANCH: "otel/try" };
            assert.equal(on({ ...treatment, BUILDKITE_SOURCE: "api" }), true);
            assert.equal(on({ ...treatment, BUILDKITE_SOURCE: "webhook" }), false);
            assert.equal(on({ ...treatment, CI_INFRA_OTEL_TREATMENT_BRANCH: "", BUILDKITE_BRANCH: "", BUILDKITE_SOURCE: "api" }), false);
        });

        it("wraps a command in five lines, with $ escaped for Buildkite and no single quote", function () {
            const wrapped = otelWrapCommand(1, "echo a X", 'echo "a" $X').split("\n");
            assert.equal(wrapped.length, 5);
            assert.match(wrapped[0], / ci_otel_start 1 ZWNobyBhIFg= \|\| :; fi$/);
            assert.equal(wrapped[1], 'echo "a" $X');
            assert.equal(wrapped[2], "_CI_INFRA_OTEL_COMMAND_STATUS=$$?");
            assert.match(wrapped[3], /ci_otel_finish "\$\$_CI_INFRA_OTEL_COMMAND_STATUS" \|\| :; fi$/);
            assert.equal(wrapped[4], '(exit "$$_CI_INFRA_OTEL_COMMAND_STATUS")');
            assert.ok(!wrapped.join("\n").includes("'"));
        });

        it("traces every non-AMD step (image builds and no_plugin ones too), mounts the agent on docker plugins, never AMD", async function () {
            const steps = await generateMain();
            for (const key of ["traced", "failing", "gpu", "image-build"]) {
                const commands = steps.get(key)!.commands as string[];
                assert.equal(commands.filter((line) => line.includes("ci_otel.sh")).length, 1, key);
                assert.ok(commands.some((line) => line.startsWith('if [ "$${CI_INFRA_OTEL_READY:-0}" = 1 ]; then ci_otel_start 1 ')), key);
            }
            const plugin = (steps.get("gpu")!.plugins as Array<Record<string, Record<string, unknown>>>)[0];
            assert.equal(Object.values(plugin)[0].mount_buildkite_agent, true);
            assert.ok(!JSON.stringify(steps.get("amd")).includes("ci_otel"), "AMD steps are not traced");
            const off = await generateMain({ BUILDKITE_PULL_REQUEST: "" });
            assert.ok(!JSON.stringify([...off.values()]).includes("ci_otel"), "no tracing without BUILDKITE_PULL_REQUEST=false");
        });
    });

    for (const shell of SHELLS) {
        describe(`the helpers, run by ${shell} -e`, function () {
            it("record one span per command with its name, duration and exit status; a failure keeps its status", async function () {
                const receiver = new Receiver();
                const url = await receiver.start();
                try {
                    const steps = await generateMain();
                    const ok = await run(shell, ["-e", "-c", script(steps.get("traced"))], shellEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), tempDir("otel-run-"));
                    assert.equal(ok.code, 0, ok.stderr);
                    assert.equal(printed(ok.stdout), "a x-value\nsecond\n");
                    const failing = await run(shell, ["-e", "-c", script(steps.get("failing"))], shellEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), tempDir("otel-run-"));
                    assert.equal(failing.code, 3, "the command's exit status is the step's");
                    assert.equal(printed(failing.stdout), "before\n", "set -e still stops at the failure");
                    assert.equal(failing.stderr, "");

                    assert.deepEqual(
                        receiver.spans.map((span) => [span.name, attribute(span, "ci.command.index"), attribute(span, "ci.command.exit_status"), span.status.code]),
                        [
                            ["echo a X", "1", "0", 1],
                            ["sleep 0.2 && echo second", "2", "0", 1],
                            ["echo before", "1", "0", 1],
                            ["sleep 0.1; exit 3", "2", "3", 2],
                        ],
                    );
                    const duration = (span: ReceivedSpan) => (Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6);
                    assert.ok(duration(receiver.spans[1]) >= 190 && duration(receiver.spans[1]) < 5000, `sleep 0.2 took ${duration(receiver.spans[1])} ms`);
                    assert.ok(duration(receiver.spans[3]) >= 90, `sleep 0.1 took ${duration(receiver.spans[3])} ms`);
                    assert.equal(new Set(receiver.spans.map((span) => span.traceId)).size, 1, "one trace per build");
                    assert.match(receiver.spans[0].spanId, /^[0-9a-f]{16}$/);
                    assert.equal(receiver.requests[0].url, "/v1/traces");
                    assert.match(JSON.stringify(receiver.requests[0].resource), /"buildkite\.job\.id".*"job-1"/);
                } finally {
                    await receiver.stop();
                }
            });

            it("a collector that is down: the commands run with their exit status, one warning, one bounded attempt", async function () {
                const url = await closedPort();
                const steps = await generateMain();
                const failing = await run(shell, ["-e", "-c", script(steps.get("failing"))], shellEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), tempDir("otel-run-"));
                assert.equal(failing.code, 3);
                assert.equal(printed(failing.stdout), "before\n");
                const warnings = failing.stderr.trim().split("\n");
                assert.equal(warnings.length, 1, failing.stderr);
                assert.match(warnings[0], /^ci_otel: span export to http:\/\/127\.0\.0\.1:\d+ failed \(.*\); command tracing is off for the rest of this step$/);
                assert.ok(failing.ms < 5000, `took ${failing.ms} ms`);
            });

            it("a collector that never answers: bounded by OTEL_EXPORTER_OTLP_TIMEOUT (2 s by default), exit status kept", async function () {
                const receiver = new Receiver("hang");
                const url = await receiver.start();
                try {
                    const steps = await generateMain();
                    const quick = await run(shell, ["-e", "-c", script(steps.get("traced"))], shellEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/v1/traces`, OTEL_EXPORTER_OTLP_TIMEOUT: "300" }), tempDir("otel-run-"));
                    assert.equal(quick.code, 0);
                    assert.match(quick.stderr, /no answer within 0\.3s/);
                    assert.equal(quick.stderr.trim().split("\n").length, 1, "after one timeout, tracing is off for the step");
                    assert.ok(quick.ms < 3000, `took ${quick.ms} ms`);
                    const failing = await run(shell, ["-e", "-c", script(steps.get("failing"))], shellEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), tempDir("otel-run-"));
                    assert.equal(failing.code, 3);
                    assert.match(failing.stderr, /no answer within 2s/);
                    assert.ok(failing.ms >= 1900 && failing.ms < 6000, `took ${failing.ms} ms`);
                } finally {
                    await receiver.stop();
                }
            });

            it("no endpoint: nothing is exported, nothing is printed, the commands run as without tracing", async function () {
                const steps = await generateMain();
                const result = await run(shell, ["-e", "-c", script(steps.get("failing"))], shellEnv({}), tempDir("otel-run-"));
                assert.equal(result.code, 3);
                assert.equal(printed(result.stdout), "before\n");
                assert.equal(result.stderr, "");
            });

            it("no python3 (or no mktemp): one warning, the commands run untraced with their exit status", async function () {
                const steps = await generateMain();
                const bin = tempDir("otel-bin-");
                for (const tool of ["sleep", "date", "od", "tr", "grep"]) {
                    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
                    if (found) fs.symlinkSync(found, path.join(bin, tool));
                }
                const result = await run(shell, ["-e", "-c", script(steps.get("failing"))], { PATH: bin, OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }, tempDir("otel-run-"));
                assert.equal(result.code, 3);
                assert.equal(printed(result.stdout), "before\n");
                assert.equal(result.stderr.trim(), "ci_otel: helpers not available, commands run untraced");
            });
        });
    }

    it("ci_pytest.sh: one span per test, children of the command's span; pytest's exit status unchanged", async function () {
        if (spawnSync("python3", ["-c", "import pytest"]).status !== 0) this.skip();
        const receiver = new Receiver();
        const url = await receiver.start();
        try {
            const work = tempDir("otel-pytest-");
            fs.writeFileSync(path.join(work, "test_sample.py"), "def test_ok():\n    pass\n\ndef test_fails():\n    assert False\n");
            const command = `"$CI_OTEL_HELPERS_DIR/ci_pytest.sh" -q -p no:cacheprovider test_sample.py`;
            const step = [otelSetupLine(otelHelpersBundle()), otelWrapCommand(1, "ci_pytest.sh", command)].join("\n").replace(/\$\$/g, "$");
            const result = await run("/bin/sh", ["-e", "-c", step], shellEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), work);
            assert.equal(result.code, 1, "pytest's exit status for a failing test");
            const command1 = receiver.spans.find((span) => span.name === "ci_pytest.sh")!;
            assert.ok(command1, JSON.stringify(receiver.spans.map((span) => span.name)));
            const tests = receiver.spans.filter((span) => span.name.startsWith("test_sample.py::"));
            assert.deepEqual(tests.map((span) => [span.name, span.status.code, span.parentSpanId]), [
                ["test_sample.py::test_ok", 1, command1.spanId],
                ["test_sample.py::test_fails", 2, command1.spanId],
            ]);
        } finally {
            await receiver.stop();
        }
    });
});
