/**
 * ECR build-cache tags for `$CACHE_FROM` / `$CACHE_TO` (spec §4.9).
 *
 * Deliberate fix: the reference treats `BUILDKITE_PULL_REQUEST=false` (what Buildkite sets on
 * every non-PR build, main included) as PR number "false" and reads and writes the shared tag
 * `pr-false`. Here `false` means "not a PR", as it does for labels and the pre-commit group.
 */
import type { GeneratorSettings } from "./settings";

export interface CacheTags {
    from: string;
    to: string;
    /** The manifest lookups made, in order, with their answers (for `--explain` and tests). */
    lookups: Array<{ tag: string; exists: boolean }>;
}

/** Tag-safe form of a branch name: every character outside `[A-Za-z0-9_.-]` becomes `-`. */
export function sanitizeTag(value: string | undefined): string {
    return (value ?? "").replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** Compute the cache tags; `manifestExists` is the registry lookup (an adapter). */
export async function computeCacheTags(
    build: { branch: string | undefined; pullRequest: string | undefined; baseBranch: string | undefined },
    settings: GeneratorSettings,
    manifestExists: (tag: string) => Promise<boolean> | boolean,
): Promise<CacheTags> {
    const { testCache, postmergeCache, postmergeTag } = settings.ecr;
    const postmerge = `${postmergeCache}:${postmergeTag}`;
    const lookups: CacheTags["lookups"] = [];
    const exists = async (tag: string): Promise<boolean> => {
        const answer = await manifestExists(tag);
        lookups.push({ tag, exists: answer });
        return answer;
    };
    const pr = build.pullRequest;
    if (pr && pr !== "false") {
        const to = `${testCache}:pr-${pr}`;
        if (await exists(to)) return { from: to, to, lookups };
        if (build.baseBranch !== "main") {
            const base = `${testCache}:${sanitizeTag(build.baseBranch)}`;
            if (await exists(base)) return { from: base, to, lookups };
        }
        return { from: postmerge, to, lookups };
    }
    if (build.branch === "main") return { from: postmerge, to: postmerge, lookups };
    const to = `${testCache}:${sanitizeTag(build.branch)}`;
    return { from: (await exists(to)) ? to : postmerge, to, lookups };
}
