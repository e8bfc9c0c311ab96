/**
 * The bundled bootstrap against real git repositories, a fake `buildkite-agent` (and `aws`,
 * `docker`) on PATH that record their arguments, and a local HTTP server on 127.0.0.1 standing
 * in for the GitHub API and the wheels host.
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const BUNDLE = path.join(ROOT, "dist", "bootstrap.js");

interface AgentCall {
    args: string[];
    env: Record<string, string>;
}

interface Server {
    url: string;
    labels: Map<string, string[]>;
    wheels: Set<string>;
    githubDown: boolean;
    requests: string[];
    close(): Promise<void>;
}

async function startServer(): Promise<Server> {
    const state = { labels: new Map<string, string[]>(), wheels: new Set<string>(), githubDown: false, requests: [] as string[] };
    const server = http.createServer((request, response) => {
        const url = request.url ?? "";
        state.requests.push(`${request.method} ${url}`);
        const pull = /^\/github\/repos\/vllm-project\/vllm\/pulls\/(\d+)$/.exec(url);
        if (pull) {
            if (state.githubDown) {
                response.writeHead(503).end("down");
                return;
            }
            response.writeHead(200, { "content-type": "application/json" });
            response.end(JSON.stringify({ labels: (state.labels.get(pull[1]) ?? []).map((name) => ({ name })) }));
            return;
        }
        const wheel = /^\/wheels\/([0-9a-f]+)\/vllm\/metadata\.json$/.exec(url);
        response.writeHead(wheel && state.wheels.has(wheel[1]) ? 200 : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(state, {
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
}

/** Fake binaries: each records its call (args + a few env vars) as a JSON line. */
function fakeBin(dir: string, log: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const recorder = (name: string, exitCode: number, extra = "") =>
        `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
const env = {};
for (const key of ["VLLM_USE_PRECOMPILED", "MERGE_BASE_COMMIT", "RUN_ALL", "NIGHTLY"]) if (process.env[key] !== undefined) env[key] = process.env[key];
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: ${JSON.stringify(name)}, args, env }) + "\\n");
${extra}
process.exit(${exitCode});
`;
    const keepUpload = `if (args[0] === "pipeline" && args[1] === "upload") fs.copyFileSync(args[2], ${JSON.stringify(log)} + ".uploaded.yaml");`;
    fs.writeFileSync(path.join(bin, "buildkite-agent"), recorder("buildkite-agent", 0, keepUpload), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "aws"), recorder("aws", 0, 'process.stdout.write("password");'), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "docker"), recorder("docker", 0, 'if (args[0] === "manifest") process.exit(1);'), { mode: 0o755 });
    return bin;
}

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
        { label: ":docker: build image", key: "image-build", commands: ["docker build --build-arg USE_PRECOMPILED=$VLLM_USE_PRECOMPILED ."] },
        { label: "Unit", key: "unit", depends_on: ["image-build"], source_file_dependencies: ["vllm/"], commands: ["pytest tests/unit"] },
        { label: "Kernels", key: "kernels", depends_on: ["image-build"], source_file_dependencies: ["csrc/"], commands: ["pytest tests/kernels"] },
    ],
};

class Repo {
    readonly origin: string;
    readonly work: string;
    constructor(readonly root: string) {
        this.origin = path.join(root, "origin.git");
        this.work = path.join(root, "work");
        execFileSync("git", ["init", "-q", "--bare", "-b", "main", this.origin]);
        execFileSync("git", ["clone", "-q", this.origin, this.work], { stdio: "ignore" });
        this.git("config", "user.email", "ci@example.com");
        this.git("config", "user.name", "CI");
        this.git("checkout", "-q", "-b", "main");
        // The generated pipeline is not part of the checkout, as in vLLM.
        this.write(".gitignore", ".buildkite/pipeline.yaml\n");
        this.write(".buildkite/ci_config.yaml", yaml.dump(CONFIG));
        this.write(".buildkite/test_areas/tests.yaml", yaml.dump(JOBS));
        this.write("vllm/__init__.py", "");
        this.write("csrc/kernel.cu", "");
        this.commit("initial");
        this.git("push", "-q", "origin", "main");
    }
    git(...args: string[]): string {
        return execFileSync("git", args, { cwd: this.work, encoding: "utf8" }).trim();
    }
    write(file: string, text: string): void {
        fs.mkdirSync(path.dirname(path.join(this.work, file)), { recursive: true });
        fs.writeFileSync(path.join(this.work, file), text);
    }
    commit(message: string): string {
        this.git("add", "-A");
        this.git("commit", "-q", "-m", message);
        return this.git("rev-parse", "HEAD");
    }
    /** A branch off main with one commit changing `files`. */
    branch(name: string, files: string[]): string {
        this.git("checkout", "-q", "-B", name, "main");
        for (const file of files) this.write(file, `changed on ${name}\n`);
        return this.commit(`change ${files.join(", ")}`);
    }
}

interface BootstrapRun {
    status: number | null;
    stderr: string;
    calls: AgentCall[];
    uploaded?: any;
}

describe("bootstrap (bundled, real git, fake buildkite-agent, local HTTP)", function () {
    this.timeout(120_000);
    let server: Server;
    let repo: Repo;
    let tmp: string;
    let mainSha: string;

    before(async () => {
        const build = spawnSync("npm", ["run", "-s", "build:generator"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(build.status, 0, build.stderr);
        assert.ok(fs.existsSync(BUNDLE), "npm run build:generator produces dist/bootstrap.js");
        server = await startServer();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-"));
        repo = new Repo(tmp);
        mainSha = repo.git("rev-parse", "HEAD");
    });
    after(async () => {
        await server.close();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    let runCount = 0;
    async function bootstrap(env: Record<string, string>, entry: string[] = ["node", BUNDLE]): Promise<BootstrapRun> {
        const dir = path.join(tmp, `run-${++runCount}`);
        fs.mkdirSync(dir);
        const log = path.join(dir, "calls.jsonl");
        const bin = fakeBin(dir, log);
        const child = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
            const { spawn } = require("child_process") as typeof import("child_process");
            const proc = spawn(entry[0], entry.slice(1), {
                cwd: repo.work,
                env: {
                    PATH: `${bin}:${process.env.PATH}`,
                    HOME: process.env.HOME ?? tmp,
                    GITHUB_API_URL: `${server.url}/github`,
                    VLLM_WHEELS_URL: `${server.url}/wheels`,
                    BUILDKITE_COMMIT: repo.git("rev-parse", "HEAD"),
                    ...env,
                },
            });
            let stderr = "";
            proc.stderr.on("data", (chunk) => (stderr += chunk));
            proc.stdout.resume();
            proc.on("close", (status) => resolve({ status, stderr }));
        });
        const calls = fs.existsSync(log)
            ? fs.readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line)).filter((c) => c.tool === "buildkite-agent")
            : [];
        const uploadedFile = `${log}.uploaded.yaml`;
        return { ...child, calls, uploaded: fs.existsSync(uploadedFile) ? yaml.load(fs.readFileSync(uploadedFile, "utf8")) : undefined };
    }

    const steps = (pipeline: any): any[] => pipeline.steps.flatMap((group: any) => group.steps);
    const blocked = (pipeline: any): string[] => steps(pipeline).filter((s) => s.block).map((s) => s.key).sort();

    it("PR changing vllm/: runs Unit, blocks Kernels, uses wheels of the merge base, uploads after keeping an artifact", async () => {
        repo.branch("feature/unit", ["vllm/engine.py"]);
        server.wheels.add(mainSha);
        const run = await bootstrap({ BUILDKITE_BRANCH: "feature/unit", BUILDKITE_PULL_REQUEST: "101", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls.map((c) => c.args.slice(0, 2)), [["artifact", "upload"], ["pipeline", "upload"]]);
        const upload = run.calls[1];
        assert.equal(upload.env.VLLM_USE_PRECOMPILED, "1");
        assert.equal(upload.env.MERGE_BASE_COMMIT, mainSha);
        assert.deepEqual(blocked(run.uploaded), ["block-kernels"]);
        assert.ok(steps(run.uploaded).some((s) => s.key === "pre-commit"), "PR builds get the pre-commit gate");
        assert.ok(server.requests.includes("GET /github/repos/vllm-project/vllm/pulls/101"));
        assert.ok(server.requests.includes(`HEAD /wheels/${mainSha}/vllm/metadata.json`));
    });

    it("PR changing csrc/: runs everything from source (decided once, by the bootstrap)", async () => {
        repo.branch("feature/kernel", ["csrc/attention.cu"]);
        server.wheels.add(mainSha);
        const run = await bootstrap({ BUILDKITE_BRANCH: "feature/kernel", BUILDKITE_PULL_REQUEST: "102", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(blocked(run.uploaded), []);
        assert.equal(run.calls[1].env.VLLM_USE_PRECOMPILED, "0");
        assert.equal(run.calls[1].env.RUN_ALL, "1");
        assert.match(run.stderr, /run all: true \(changed file csrc\/attention\.cu matches the run-all pattern/);
    });

    it("docs-only PR: annotates and uploads nothing; DOCS_ONLY_DISABLE=1 or RUN_ALL=1 generate anyway", async () => {
        repo.branch("docs/typo", ["docs/usage.md", "README.md"]);
        const env = { BUILDKITE_BRANCH: "docs/typo", BUILDKITE_PULL_REQUEST: "103", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" };
        const skipped = await bootstrap(env);
        assert.equal(skipped.status, 0, skipped.stderr);
        assert.deepEqual(skipped.calls.map((c) => c.args[0]), ["annotate"]);
        assert.equal(skipped.uploaded, undefined);
        for (const extra of [{ DOCS_ONLY_DISABLE: "1" }, { RUN_ALL: "1" }] as Record<string, string>[]) {
            const forced = await bootstrap({ ...env, ...extra });
            assert.equal(forced.status, 0, forced.stderr);
            assert.ok(forced.uploaded, `uploads with ${JSON.stringify(extra)}`);
        }
    });

    it("fork PR branch owner:branch is accepted; the label ready-run-all-tests runs everything", async () => {
        // Buildkite names a fork's branch owner:branch; the checkout itself is that commit.
        repo.branch("fix-typo", ["vllm/utils.py"]);
        server.labels.set("104", ["ready-run-all-tests"]);
        const run = await bootstrap({ BUILDKITE_BRANCH: "contributor:fix-typo", BUILDKITE_PULL_REQUEST: "104", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(blocked(run.uploaded), []);
        assert.equal(run.calls[1].env.NIGHTLY, "1");
    });

    it("a GitHub outage degrades to no labels with a warning, and never blocks CI", async () => {
        repo.branch("feature/outage", ["vllm/outage.py"]);
        server.githubDown = true;
        try {
            const run = await bootstrap({ BUILDKITE_BRANCH: "feature/outage", BUILDKITE_PULL_REQUEST: "105", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
            assert.equal(run.status, 0, run.stderr);
            assert.match(run.stderr, /warning: could not read the PR labels .*HTTP 503 after 3 attempt\(s\)/);
            assert.ok(run.uploaded);
        } finally {
            server.githubDown = false;
        }
    });

    it("main: diffs against HEAD~1 and uses the postmerge side", async () => {
        repo.git("checkout", "-q", "main");
        repo.write("vllm/main_change.py", "x\n");
        repo.commit("main change");
        repo.git("push", "-q", "origin", "main");
        const run = await bootstrap({ BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false" });
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, /1 changed file\(s\)/);
        assert.deepEqual(blocked(run.uploaded), ["block-kernels"]);
        assert.ok(!steps(run.uploaded).some((s) => s.key === "pre-commit"), "main builds are not PR builds");
        const build = steps(run.uploaded).find((s) => s.key === "image-build");
        assert.equal(build.agents.queue, "cpu_queue_postmerge_us_east_1");
    });

    it("no merge base: runs everything with a warning", async () => {
        repo.git("checkout", "-q", "--orphan", "unrelated");
        repo.write("vllm/orphan.py", "x\n");
        repo.commit("unrelated history");
        const run = await bootstrap({ BUILDKITE_BRANCH: "unrelated", BUILDKITE_PULL_REQUEST: "106", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, /warning: no merge base with origin\/main; running everything/);
        assert.deepEqual(blocked(run.uploaded), []);
    });

    it("bad pipeline config: one error line, exit 2, nothing uploaded", async () => {
        repo.git("checkout", "-q", "main");
        repo.git("checkout", "-q", "-B", "feature/broken");
        repo.write(".buildkite/ci_config.yaml", "name: vllm_ci\njob_dirs: [.buildkite/missing]\nregistries: r\nrepositories: {main: a, premerge: b}\n");
        repo.commit("broken config");
        const run = await bootstrap({ BUILDKITE_BRANCH: "feature/broken", BUILDKITE_PULL_REQUEST: "107", BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main" });
        assert.equal(run.status, 2);
        assert.equal(run.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1, run.stderr);
        assert.doesNotMatch(run.stderr, /\n\s+at /);
        assert.ok(!run.calls.some((c) => c.args[0] === "pipeline"));
    });

    it("bootstrap.sh fetches the bundle of VLLM_CI_BRANCH and runs it", async () => {
        const bundles = http.createServer((request, response) => {
            if (request.url === "/bundles/my-ci-branch/bootstrap.js") {
                response.writeHead(200).end(fs.readFileSync(BUNDLE));
            } else {
                response.writeHead(404).end();
            }
        });
        await new Promise<void>((resolve) => bundles.listen(0, "127.0.0.1", resolve));
        try {
            repo.git("checkout", "-q", "main");
            const port = (bundles.address() as AddressInfo).port;
            const run = await bootstrap(
                { BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false", VLLM_CI_BRANCH: "my-ci-branch", VLLM_CI_BUNDLE_URL: `http://127.0.0.1:${port}/bundles` },
                ["bash", path.join(ROOT, "bootstrap.sh")],
            );
            assert.equal(run.status, 0, run.stderr);
            assert.ok(run.uploaded);
        } finally {
            await new Promise<void>((resolve) => bundles.close(() => resolve()));
        }
    });
});
