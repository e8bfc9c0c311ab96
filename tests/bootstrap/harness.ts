/**
 * The bootstrap's black-box test bench: real git repositories (a bare origin and clones of it,
 * shallow or single-branch as agents make them), recording fakes of `buildkite-agent`, `aws` and
 * `docker` on PATH, and one HTTP server on 127.0.0.1 standing in for the GitHub API, the wheels
 * host and the bundle bucket. Every run is timed and kept for the scenario table.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import * as yaml from "js-yaml";

export const ROOT = path.resolve(__dirname, "..", "..");
export const BUNDLE = path.join(ROOT, "dist", "bootstrap.js");

export type GithubMode = "ok" | "down" | "slow" | "rate-limited";

export interface Server {
    url: string;
    labels: Map<string, string[]>;
    wheels: Set<string>;
    github: GithubMode;
    /** Directory served under /bucket/ (missing keys answer 403, as a public-read S3 prefix does). */
    bucketDir?: string;
    requests: Array<{ method: string; url: string; authorization?: string }>;
    close(): Promise<void>;
}

export async function startServer(): Promise<Server> {
    const state = {
        labels: new Map<string, string[]>(),
        wheels: new Set<string>(),
        github: "ok" as GithubMode,
        bucketDir: undefined as string | undefined,
        requests: [] as Server["requests"],
    };
    const server = http.createServer((request, response) => {
        const url = request.url ?? "";
        state.requests.push({ method: request.method ?? "", url, authorization: request.headers.authorization });
        const pull = /^\/github\/repos\/vllm-project\/vllm\/pulls\/(\d+)$/.exec(url);
        if (pull) {
            const answer = () => {
                response.writeHead(200, { "content-type": "application/json" });
                response.end(JSON.stringify({ labels: (state.labels.get(pull[1]) ?? []).map((name) => ({ name })) }));
            };
            if (state.github === "down") response.writeHead(503).end("down");
            else if (state.github === "slow") setTimeout(answer, 30_000).unref();
            else if (state.github === "rate-limited") {
                const reset = Math.floor(Date.now() / 1000) + 3600;
                response.writeHead(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }).end('{"message":"API rate limit exceeded"}');
            } else answer();
            return;
        }
        const wheel = /^\/wheels\/([0-9a-f]+)\/vllm\/metadata\.json$/.exec(url);
        if (wheel) {
            response.writeHead(state.wheels.has(wheel[1]) ? 200 : 404).end();
            return;
        }
        if (url.startsWith("/bucket/") && state.bucketDir) {
            const file = path.join(state.bucketDir, decodeURIComponent(url.slice("/bucket/".length)));
            if (file.startsWith(state.bucketDir) && fs.existsSync(file) && fs.statSync(file).isFile()) response.writeHead(200).end(fs.readFileSync(file));
            else response.writeHead(403).end("<Error><Code>AccessDenied</Code></Error>");
            return;
        }
        response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(state, {
        url: `http://127.0.0.1:${port}`,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    });
}

export interface FakeOptions {
    /** `aws ecr get-login-password`: ok, no credentials, or not installed. */
    aws?: "ok" | "no-credentials" | "absent";
    /** `docker manifest inspect`: every tag absent, or hang. */
    dockerManifest?: "absent" | "hang";
}

/** Fake binaries in `<dir>/bin`: each records its call as a JSON line; shebangs are absolute, so PATH may hold nothing else. */
export function fakeBin(dir: string, log: string, options: FakeOptions = {}): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const recorder = (name: string, body: string) =>
        `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
const env = {};
for (const key of ["VLLM_USE_PRECOMPILED", "VLLM_MERGE_BASE_COMMIT", "MERGE_BASE_COMMIT", "RUN_ALL", "NIGHTLY"]) if (process.env[key] !== undefined) env[key] = process.env[key];
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: ${JSON.stringify(name)}, args, env }) + "\\n");
${body}
`;
    const agent = `if (args[0] === "pipeline" && args[1] === "upload") fs.copyFileSync(args[2], ${JSON.stringify(log)} + ".uploaded.yaml");`;
    fs.writeFileSync(path.join(bin, "buildkite-agent"), recorder("buildkite-agent", agent), { mode: 0o755 });
    const aws = options.aws ?? "ok";
    if (aws !== "absent") {
        const body =
            aws === "ok"
                ? 'process.stdout.write("password");'
                : 'process.stderr.write("Unable to locate credentials. You can configure credentials by running \\"aws configure\\".\\n"); process.exit(255);';
        fs.writeFileSync(path.join(bin, "aws"), recorder("aws", body), { mode: 0o755 });
    }
    const manifest = options.dockerManifest === "hang" ? "setTimeout(() => {}, 1e9); return;" : "process.exit(1);";
    fs.writeFileSync(path.join(bin, "docker"), recorder("docker", `(() => { if (args[0] === "manifest") { ${manifest} } })();`), { mode: 0o755 });
    return bin;
}

export function git(cwd: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A bare origin and a working clone to make history in. */
export class Repo {
    readonly origin: string;
    readonly work: string;
    constructor(readonly root: string, files: Record<string, string>) {
        this.origin = path.join(root, "origin.git");
        this.work = path.join(root, "work");
        execFileSync("git", ["init", "-q", "--bare", "-b", "main", this.origin]);
        execFileSync("git", ["clone", "-q", this.origin, this.work], { stdio: "ignore" });
        this.git("config", "user.email", "ci@example.com");
        this.git("config", "user.name", "CI");
        this.git("checkout", "-q", "-b", "main");
        // The generated pipeline is not part of the checkout, as in vLLM.
        this.write(".gitignore", ".buildkite/pipeline.yaml\n.buildkite/*-pipeline.yaml\n");
        for (const [file, text] of Object.entries(files)) this.write(file, text);
        this.commit("initial");
        this.git("push", "-q", "origin", "main");
    }
    git(...args: string[]): string {
        return git(this.work, ...args);
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
    /** A branch off `from` with one commit changing `files`; pushed when `push`. */
    branch(name: string, files: string[], from = "main", push = false): string {
        this.git("checkout", "-q", "-B", name, from);
        for (const file of files) this.write(file, `changed on ${name}\n`);
        const sha = this.commit(`change ${files.join(", ")}`);
        if (push) this.git("push", "-q", "-f", "origin", name);
        return sha;
    }
    /** `count` commits on main, pushed. */
    advanceMain(count: number, prefix = "history"): string {
        this.git("checkout", "-q", "main");
        for (let i = 0; i < count; i++) {
            this.write(`${prefix}/${i}.txt`, `${i}\n`);
            this.commit(`${prefix} ${i}`);
        }
        this.git("push", "-q", "origin", "main");
        return this.git("rev-parse", "HEAD");
    }
    /** A clone as an agent makes it (file:// so that --depth applies). */
    clone(into: string, options: { branch: string; depth?: number; singleBranch?: boolean }): string {
        const args = ["clone", "-q", "--branch", options.branch];
        if (options.depth) args.push(`--depth=${options.depth}`);
        if (options.singleBranch) args.push("--single-branch");
        execFileSync("git", [...args, `file://${this.origin}`, into], { stdio: "ignore" });
        return into;
    }
}

export interface Annotation {
    style: string;
    context: string;
    body: string;
}

export interface Run {
    status: number | null;
    stderr: string;
    stdout: string;
    ms: number;
    calls: Array<{ tool: string; args: string[]; env: Record<string, string> }>;
    annotations: Annotation[];
    uploadedText?: string;
    uploaded?: any;
}

export interface RunRequest {
    cwd: string;
    env: Record<string, string>;
    /** Program and arguments; default the bundle with `args`. */
    command?: string[];
    args?: string[];
    fakes?: FakeOptions;
    /** PATH after the fakes; default the test's PATH. "" leaves only the fakes. */
    path?: string;
}

let runCount = 0;

/** Run the bootstrap (or bootstrap.sh) in `cwd` and collect what it did. */
export async function runBootstrap(tmp: string, request: RunRequest): Promise<Run> {
    const dir = path.join(tmp, `run-${++runCount}`);
    fs.mkdirSync(dir, { recursive: true });
    const log = path.join(dir, "calls.jsonl");
    const bin = fakeBin(dir, log, request.fakes);
    const command = request.command ?? [process.execPath, BUNDLE, ...(request.args ?? [])];
    const started = Date.now();
    const child = await new Promise<{ status: number | null; stderr: string; stdout: string }>((resolve) => {
        const proc = spawn(command[0], command.slice(1), {
            cwd: request.cwd,
            env: {
                PATH: request.path === "" ? bin : `${bin}:${request.path ?? process.env.PATH}`,
                HOME: process.env.HOME ?? tmp,
                ...request.env,
            },
        });
        let stderr = "";
        let stdout = "";
        proc.stderr.on("data", (chunk) => (stderr += chunk));
        proc.stdout.on("data", (chunk) => (stdout += chunk));
        proc.on("close", (status) => resolve({ status, stderr, stdout }));
    });
    const ms = Date.now() - started;
    const calls = fs.existsSync(log)
        ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line))
        : [];
    const annotations = calls
        .filter((c: any) => c.tool === "buildkite-agent" && c.args[0] === "annotate")
        .map((c: any) => ({ style: c.args[c.args.indexOf("--style") + 1], context: c.args[c.args.indexOf("--context") + 1], body: c.args[c.args.length - 1] }));
    const uploadedFile = `${log}.uploaded.yaml`;
    const uploadedText = fs.existsSync(uploadedFile) ? fs.readFileSync(uploadedFile, "utf8") : undefined;
    return { ...child, ms, calls, annotations, uploadedText, uploaded: uploadedText === undefined ? undefined : yaml.load(uploadedText) };
}

export const agentCalls = (run: Run) => run.calls.filter((c) => c.tool === "buildkite-agent");
export const steps = (pipeline: any): any[] => pipeline.steps.flatMap((group: any) => group.steps ?? [group]);
export const blocked = (pipeline: any): string[] => steps(pipeline).filter((s) => s.block).map((s) => s.key).sort();

/** One line of the scenario table (scenario → exit, uploaded, annotated, time). */
export interface ScenarioRow {
    scenario: string;
    exit: number | null;
    uploaded: string;
    annotated: string;
    ms: number;
    boundMs: number;
}

export const scenarioRows: ScenarioRow[] = [];

/** Record a run for the table and check its time bound. */
export function record(scenario: string, run: Run, boundMs: number, uploaded?: string): void {
    const annotated = run.annotations.map((a) => `${a.style}${a.context === "docs-only" ? " (docs-only)" : ""}`).join(", ") || "none";
    scenarioRows.push({ scenario, exit: run.status, uploaded: uploaded ?? (run.uploadedText === undefined ? "no" : "yes"), annotated, ms: run.ms, boundMs });
    if (run.ms > boundMs) throw new Error(`${scenario}: took ${run.ms} ms, more than its bound of ${boundMs} ms\n${run.stderr}`);
}

/** Write the table when BOOTSTRAP_SCENARIO_TABLE names a file (for the closing note). */
export function writeScenarioTable(): void {
    const file = process.env.BOOTSTRAP_SCENARIO_TABLE;
    if (!file) return;
    const lines = ["| scenario | exit | uploaded | annotated | time (bound) |", "| --- | --- | --- | --- | --- |"];
    for (const row of scenarioRows) lines.push(`| ${row.scenario} | ${row.exit} | ${row.uploaded} | ${row.annotated} | ${(row.ms / 1000).toFixed(2)} s (${row.boundMs / 1000} s) |`);
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
}

/** Short limits, so that every degraded scenario ends in seconds (each is an environment variable of the bootstrap). */
export const FAST_LIMITS: Record<string, string> = {
    VLLM_CI_BOOTSTRAP_BUDGET_S: "60",
    VLLM_CI_GIT_TIMEOUT_S: "20",
    VLLM_CI_COMMAND_TIMEOUT_S: "1",
    VLLM_CI_AGENT_TIMEOUT_S: "20",
    VLLM_CI_GITHUB_BUDGET_S: "2",
    VLLM_CI_HTTP_TIMEOUT_S: "0.5",
};

/** The bound every scenario must finish within on the 2-core CI machine (a hung call would take 30 s or forever). */
export const SCENARIO_BOUND_MS = 10_000;

let built: string | undefined;

/** `npm run build:generator`, once per test process. */
export function ensureBundle(): void {
    if (built) return;
    const result = require("child_process").spawnSync("npm", ["run", "-s", "build:generator"], { cwd: ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`npm run build:generator failed: ${result.stderr}`);
    if (!fs.existsSync(BUNDLE)) throw new Error("npm run build:generator did not produce dist/bootstrap.js");
    built = BUNDLE;
}

/** A PATH directory holding only git (so that no real aws, docker or node of the machine is found). */
export function gitOnlyPath(tmp: string): string {
    const dir = path.join(tmp, "git-only-bin");
    if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        const gitPath = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
        fs.symlinkSync(gitPath, path.join(dir, "git"));
    }
    return dir;
}
