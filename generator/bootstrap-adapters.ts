/**
 * What the bootstrap asks of the outside world: git in the checkout, HTTP (GitHub, the wheels
 * host) with timeouts and a bounded retry, and `buildkite-agent`. Each is a small interface so
 * the tests can run the real thing against temporary repositories and a local server.
 */
import { spawnSync } from "child_process";

export interface CommandResult {
    ok: boolean;
    stdout: string;
    stderr: string;
}

/** Runs `git ARGS` in the checkout. */
export type GitRunner = (args: string[]) => CommandResult;

/** Runs `buildkite-agent ARGS` with extra environment variables. */
export type AgentRunner = (args: string[], env?: Record<string, string>) => CommandResult;

/** The status of an HTTP request, or an error when no answer came back in time. */
export type HttpResult = { status: number; body: string } | { error: string };

/** Sends one request (with its own timeout and retries). */
export type HttpClient = (url: string, request: { method: "GET" | "HEAD"; headers?: Record<string, string> }) => Promise<HttpResult>;

function runCommand(command: string, args: string[], cwd: string, env?: Record<string, string>, timeoutMs = 300_000): CommandResult {
    const result = spawnSync(command, args, {
        cwd,
        encoding: "utf8",
        env: env ? { ...process.env, ...env } : process.env,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) return { ok: false, stdout: "", stderr: result.error.message };
    return { ok: result.status === 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

export function realGit(cwd: string): GitRunner {
    return (args) => runCommand("git", args, cwd);
}

export function realAgent(cwd: string): AgentRunner {
    return (args, env) => runCommand("buildkite-agent", args, cwd, env);
}

export interface RetryPolicy {
    /** Per-attempt timeout. */
    timeoutMs: number;
    /** Attempts in all (1 = no retry). */
    attempts: number;
    /** Wait before the second attempt; doubled after each failure. */
    backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 10_000, attempts: 3, backoffMs: 500 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * HTTP over `fetch` with a timeout per attempt and a bounded number of attempts. Server errors
 * (5xx, 429) and network failures are retried; any other status is an answer.
 */
export function realHttp(policy: RetryPolicy = DEFAULT_RETRY): HttpClient {
    return async (url, request) => {
        let lastError = "no attempt made";
        for (let attempt = 1; attempt <= policy.attempts; attempt++) {
            try {
                const response = await fetch(url, {
                    method: request.method,
                    headers: { "User-Agent": "vllm-ci-bootstrap", ...request.headers },
                    signal: AbortSignal.timeout(policy.timeoutMs),
                });
                const body = request.method === "HEAD" ? "" : await response.text();
                if (response.status < 500 && response.status !== 429) return { status: response.status, body };
                lastError = `HTTP ${response.status}`;
            } catch (error) {
                const cause = (error as { cause?: { code?: string } }).cause?.code;
                lastError = cause ?? (error as Error).message;
            }
            if (attempt < policy.attempts) await sleep(policy.backoffMs * 2 ** (attempt - 1));
        }
        return { error: `${request.method} ${url}: ${lastError} after ${policy.attempts} attempt(s)` };
    };
}
