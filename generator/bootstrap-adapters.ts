/**
 * What the bootstrap asks of the outside world: commands (git, buildkite-agent, aws, docker) and
 * HTTP (GitHub, the wheels host). Every call has a timeout, and every timeout is cut to what is
 * left of the whole run's time budget, so no hung registry or server can stall a build. Each is a
 * small function type so that tests can run the real thing against temporary repositories, fake
 * binaries and a local server.
 */
import { spawn } from "child_process";

export interface CommandResult {
    ok: boolean;
    /** Exit status; null when the command did not run or was killed. */
    status: number | null;
    stdout: string;
    stderr: string;
    /** The program is not installed (or not on PATH). */
    missing?: boolean;
    /** Killed after its timeout. */
    timedOut?: boolean;
}

export interface CommandRequest {
    /** Extra environment variables. */
    env?: Record<string, string>;
    /** Written to the command's standard input. */
    input?: string;
    /** Upper bound for this call (cut to the remaining budget). */
    timeoutMs: number;
    /** Runs even once the budget is spent, with its own timeout only (the final annotations). */
    evenAfterBudget?: boolean;
}

/** Runs `command ARGS` in the checkout. */
export type CommandRunner = (command: string, args: string[], request: CommandRequest) => Promise<CommandResult>;

/** The agent cannot run the bootstrap (git missing, time budget spent, upload refused): exit 3. */
export class EnvironmentError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EnvironmentError";
    }
}

/** The whole run's time budget. */
export class Deadline {
    private readonly end: number;
    constructor(
        readonly budgetMs: number,
        private readonly now: () => number = Date.now,
    ) {
        this.end = now() + budgetMs;
    }
    remainingMs(): number {
        return this.end - this.now();
    }
    /** `timeoutMs`, cut to what is left; throws once nothing is left. */
    bound(timeoutMs: number, what: string): number {
        const remaining = this.remainingMs();
        if (remaining <= 0) throw new EnvironmentError(`the bootstrap spent its time budget of ${Math.round(this.budgetMs / 1000)} s before ${what}`);
        return Math.max(1, Math.min(timeoutMs, remaining));
    }
}

/** The first line of a command's complaint, for one-line messages. */
export function firstLine(text: string): string {
    return text.trim().split("\n")[0] ?? "";
}

/** Why a command failed, in a few words. */
export function describeFailure(command: string, result: CommandResult, timeoutMs?: number): string {
    if (result.missing) return `${command} is not installed on this agent`;
    if (result.timedOut) return `${command} timed out${timeoutMs ? ` after ${Math.round(timeoutMs / 100) / 10} s` : ""}`;
    return `${command} failed: ${firstLine(result.stderr) || `exit ${result.status}`}`;
}

/**
 * Spawns commands in their own process group and kills the whole group on timeout, so a hung
 * child (or its children, holding the output pipes) cannot keep the bootstrap waiting.
 */
export function realRunner(cwd: string, deadline: Deadline, baseEnv: Record<string, string | undefined> = process.env): CommandRunner {
    return (command, args, request) =>
        new Promise((resolve) => {
            const timeoutMs = request.evenAfterBudget ? request.timeoutMs : deadline.bound(request.timeoutMs, `${command} ${args[0] ?? ""}`.trim());
            let stdout = "";
            let stderr = "";
            let settled = false;
            const finish = (result: CommandResult) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                resolve(result);
            };
            const child = spawn(command, args, {
                cwd,
                env: { ...baseEnv, ...request.env },
                detached: true,
                stdio: ["pipe", "pipe", "pipe"],
            });
            const timer = setTimeout(() => {
                try {
                    if (child.pid) process.kill(-child.pid, "SIGKILL");
                } catch {
                    // already gone
                }
                finish({ ok: false, status: null, stdout, stderr, timedOut: true });
            }, timeoutMs);
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
            child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
            child.on("error", (error: NodeJS.ErrnoException) =>
                finish({ ok: false, status: null, stdout, stderr: error.message, missing: error.code === "ENOENT" }),
            );
            child.on("close", (status) => finish({ ok: status === 0, status, stdout, stderr }));
            child.stdin.on("error", () => undefined);
            child.stdin.end(request.input ?? "");
        });
}

/** Runs `git ARGS` in the checkout. */
export type GitRunner = (args: string[], timeoutMs?: number) => Promise<CommandResult>;

/**
 * Git, with the checkout marked safe for this process only (`GIT_CONFIG_*` is command-line
 * scope, which git honours for `safe.directory`): a checkout owned by another uid, as on
 * Kubernetes agents, is then readable without touching the agent's global git config.
 */
export function gitRunner(run: CommandRunner, checkout: string, defaultTimeoutMs: number): GitRunner {
    const env = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "safe.directory", GIT_CONFIG_VALUE_0: checkout, GIT_TERMINAL_PROMPT: "0" };
    return (args, timeoutMs = defaultTimeoutMs) => run("git", args, { env, timeoutMs });
}

/** Runs `buildkite-agent ARGS` with extra environment variables. */
export type AgentRunner = (args: string[], env?: Record<string, string>, options?: { evenAfterBudget?: boolean }) => Promise<CommandResult>;

export function agentRunner(run: CommandRunner, timeoutMs: number): AgentRunner {
    return (args, env, options) => run("buildkite-agent", args, { env, timeoutMs, evenAfterBudget: options?.evenAfterBudget });
}

/** An HTTP answer, or an error when none came back in time. */
export type HttpResult = { status: number; body: string; headers: Record<string, string> } | { error: string };

/** Sends one request, with its own timeout (no retry: callers retry within their own budget). */
export type HttpClient = (url: string, request: { method: "GET" | "HEAD"; headers?: Record<string, string>; timeoutMs: number }) => Promise<HttpResult>;

export function realHttp(deadline: Deadline): HttpClient {
    return async (url, request) => {
        const timeoutMs = deadline.bound(request.timeoutMs, `${request.method} ${url}`);
        try {
            const response = await fetch(url, {
                method: request.method,
                headers: { "User-Agent": "vllm-ci-bootstrap", ...request.headers },
                signal: AbortSignal.timeout(timeoutMs),
            });
            const body = request.method === "HEAD" ? "" : await response.text();
            const headers: Record<string, string> = {};
            response.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
            return { status: response.status, body, headers };
        } catch (error) {
            const name = (error as Error).name;
            if (name === "TimeoutError" || name === "AbortError") return { error: `no answer within ${Math.round(timeoutMs / 100) / 10} s` };
            return { error: (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message };
        }
    };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
