/**
 * The PR's labels from the GitHub API, within a fixed budget (15 s by default): authenticated
 * with `GITHUB_TOKEN` when the agent has one (5000 requests an hour instead of 60 per IP),
 * retrying server errors and timeouts, waiting out a rate limit only when its reset falls inside
 * the budget. An unreadable answer is "no labels" plus the reason, which the bootstrap annotates:
 * a missing `ready-run-all-tests` changes what runs.
 */
import { sleep, type HttpClient } from "./bootstrap-adapters";

export interface LabelRequest {
    apiUrl: string;
    repo: string;
    pullRequest: string;
    token?: string;
    /** The whole lookup, retries and waits included. */
    budgetMs: number;
    /** One request. */
    attemptTimeoutMs: number;
    now?: () => number;
    wait?: (ms: number) => Promise<void>;
}

export type LabelAnswer = { labels: string[]; problem?: undefined } | { labels: []; problem: string };

/** How long the answer asks us to wait before trying again, or undefined when it is not a rate limit. */
export function rateLimitWaitMs(status: number, headers: Record<string, string>, now: number): number | undefined {
    const retryAfter = Number(headers["retry-after"]);
    if ((status === 403 || status === 429) && Number.isFinite(retryAfter) && headers["retry-after"] !== undefined) return retryAfter * 1000;
    const reset = Number(headers["x-ratelimit-reset"]);
    if ((status === 403 || status === 429) && headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) {
        return Math.max(0, reset * 1000 - now);
    }
    return status === 429 ? 1000 : undefined;
}

export async function readPrLabels(http: HttpClient, request: LabelRequest): Promise<LabelAnswer> {
    const now = request.now ?? Date.now;
    const wait = request.wait ?? sleep;
    const end = now() + request.budgetMs;
    const url = `${request.apiUrl.replace(/\/+$/, "")}/repos/${request.repo}/pulls/${request.pullRequest}`;
    const headers: Record<string, string> = { Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" };
    if (request.token) headers.Authorization = `Bearer ${request.token}`;
    let lastProblem = "no attempt made";
    let backoffMs = 500;
    let attempts = 0;
    for (;;) {
        const remaining = end - now();
        if (remaining <= 0) break;
        attempts++;
        const result = await http(url, { method: "GET", headers, timeoutMs: Math.min(request.attemptTimeoutMs, remaining) });
        let retryInMs = backoffMs;
        if ("error" in result) {
            lastProblem = result.error;
        } else if (result.status === 200) {
            try {
                const body = JSON.parse(result.body) as { labels?: Array<{ name?: unknown }> };
                return { labels: (body.labels ?? []).map((label) => label.name).filter((name): name is string => typeof name === "string") };
            } catch {
                return { labels: [], problem: `the GitHub API answer for PR ${request.pullRequest} is not JSON` };
            }
        } else {
            const limitWait = rateLimitWaitMs(result.status, result.headers, now());
            if (limitWait !== undefined) {
                const resetAt = new Date(now() + limitWait).toISOString().slice(11, 19);
                lastProblem = `GitHub API rate limit (HTTP ${result.status}${request.token ? "" : ", no GITHUB_TOKEN"}), resets at ${resetAt} UTC`;
                if (limitWait >= end - now()) return { labels: [], problem: lastProblem };
                retryInMs = limitWait;
            } else if (result.status >= 500) {
                lastProblem = `HTTP ${result.status}`;
            } else {
                // 401, 403 without a rate limit, 404: asking again will not help.
                return { labels: [], problem: `GitHub API ${url} answered HTTP ${result.status}` };
            }
        }
        if (now() + retryInMs >= end) break;
        await wait(retryInMs);
        backoffMs *= 2;
    }
    return { labels: [], problem: `GitHub API ${url}: ${lastProblem} after ${attempts} attempt(s) within ${request.budgetMs / 1000} s` };
}
