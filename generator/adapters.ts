/**
 * The real adapters (git, GitHub, docker/ECR, buildkite-agent) and the offline ones. Only the
 * CLI layer (`run.ts`) creates them; the core receives them as plain functions.
 */
import { spawnSync } from "child_process";
import { GeneratorError } from "./errors";
import type { GeneratorAdapters } from "./generate";
import type { GeneratorSettings } from "./settings";

function run(command: string, args: string[], cwd: string, input?: string): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(command, args, { cwd, input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (result.error) return { status: null, stdout: "", stderr: result.error.message };
    return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function firstLine(text: string): string {
    return text.trim().split("\n")[0] ?? "";
}

/** Git: merge base against origin/main and the changed files (the reference stages the tree first). */
export function gitAdapters(cwd: string): Pick<GeneratorAdapters, "mergeBase" | "changedFiles"> {
    return {
        mergeBase() {
            const result = run("git", ["merge-base", "origin/main", "HEAD"], cwd);
            return result.status === 0 ? result.stdout.trim() || null : null;
        },
        changedFiles({ branch, mergeBase }) {
            // Staging makes new, untracked files part of the diff, as upstream does.
            run("git", ["add", "."], cwd);
            const base = branch === "main" ? "HEAD~1" : (mergeBase as string);
            const result = run("git", ["diff", "--name-only", "--diff-filter=ACMDR", base], cwd);
            if (result.status !== 0) {
                throw new GeneratorError({}, `git diff against ${base} failed: ${firstLine(result.stderr) || `exit ${result.status}`}`);
            }
            return result.stdout.split("\n").filter((line) => line.trim() !== "");
        },
    };
}

/** GitHub: the PR's labels (unauthenticated, like upstream; GITHUB_TOKEN is not read). */
export function githubAdapters(settings: GeneratorSettings): Pick<GeneratorAdapters, "prLabels"> {
    return {
        async prLabels(repo, pullRequest) {
            const url = `${settings.github.apiUrl}/repos/${repo}/pulls/${pullRequest}`;
            let response: Response;
            try {
                response = await fetch(url, {
                    headers: { Accept: "application/vnd.github+json", "User-Agent": "vllm-ci-pipeline-generator" },
                    signal: AbortSignal.timeout(30_000),
                });
            } catch (error) {
                throw new GeneratorError({}, `GitHub API request ${url} failed: ${(error as Error).message}`);
            }
            if (!response.ok) throw new GeneratorError({}, `GitHub API request ${url} failed: HTTP ${response.status}`);
            const body = (await response.json()) as { labels?: Array<{ name?: unknown }> };
            return (body.labels ?? []).map((label) => label.name).filter((name): name is string => typeof name === "string");
        },
    };
}

/** Docker: ECR login and `docker manifest inspect`. */
export function dockerAdapters(settings: GeneratorSettings, cwd: string): Pick<GeneratorAdapters, "ecrLogin" | "manifestExists"> {
    return {
        ecrLogin() {
            const password = run("aws", ["ecr", "get-login-password", "--region", settings.ecr.loginRegion], cwd);
            if (password.status !== 0) {
                throw new GeneratorError({}, `ECR login failed: aws ecr get-login-password: ${firstLine(password.stderr) || `exit ${password.status}`}`);
            }
            const login = run("docker", ["login", "--username", "AWS", "--password-stdin", settings.ecr.loginRegistry], cwd, password.stdout);
            if (login.status !== 0) {
                throw new GeneratorError({}, `ECR login failed: docker login: ${firstLine(login.stderr) || `exit ${login.status}`}`);
            }
        },
        manifestExists(tag) {
            return run("docker", ["manifest", "inspect", tag], cwd).status === 0;
        },
    };
}

/** `buildkite-agent annotate TEXT`; it must succeed. */
export function buildkiteAnnotate(cwd: string): (text: string) => void {
    return (text) => {
        const result = run("buildkite-agent", ["annotate", text], cwd);
        if (result.status !== 0) {
            throw new GeneratorError({}, `buildkite-agent annotate failed: ${firstLine(result.stderr) || `exit ${result.status}`}`);
        }
    };
}

/** Offline: no git, GitHub, docker or registry; every build-cache lookup answers "absent". */
export function offlineAdapters(labels: string[]): GeneratorAdapters {
    return {
        mergeBase: () => null,
        changedFiles: () => [],
        prLabels: () => labels,
        manifestExists: () => false,
    };
}
