/**
 * The checkout's facts for the bootstrap: the merge base with the base branch and the changed
 * files. The git edge cases of real agents are handled, never turned silently into a full run:
 *
 * - a checkout owned by another uid is marked safe (for this process, see `gitRunner`);
 * - the base branch is fetched with an explicit refspec, so single-branch clones get
 *   `origin/<base>` too;
 * - shallow clones are deepened, step by step and bounded, until the merge base appears;
 * - a preset `MERGE_BASE_COMMIT` is kept;
 * - every fallback that runs everything says why (the report annotates it);
 * - git missing, or no checkout at all, is an error.
 */
import { describeFailure, EnvironmentError, type GitRunner } from "./bootstrap-adapters";
import type { BootstrapReport } from "./bootstrap-report";

export interface CheckoutRequest {
    /** The branch the merge base is computed against (`main`, or the PR's base branch). */
    baseBranch: string;
    /** A main-branch build: the diff is `HEAD~1..HEAD`. */
    onMain: boolean;
    /** `MERGE_BASE_COMMIT` as set on the build, kept when given. */
    presetMergeBase?: string;
    /** Commits of history to fetch first on a shallow clone, then the first deepening step (doubled each time). */
    depthStep: number;
    /** Stop deepening after this many extra commits. */
    maxDeepen: number;
}

export interface CheckoutFacts {
    /** The merge base, or HEAD when none could be found. */
    mergeBase: string;
    changedFiles: string[];
    /** Set when the diff is unknown, so everything must run: the reason. */
    forcedRunAll?: string;
    /** Whether the clone is (still) shallow. */
    shallow: boolean;
}

const lines = (text: string) =>
    text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "");

/** A name git accepts as a branch in a refspec (no option, no glob, no `..`). */
const SAFE_BRANCH = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/;

export async function inspectCheckout(git: GitRunner, request: CheckoutRequest, report: BootstrapReport): Promise<CheckoutFacts> {
    const version = await git(["--version"]);
    if (!version.ok) {
        throw new EnvironmentError(
            version.missing
                ? "git is not installed on this agent (or not on PATH); the bootstrap needs it to know what changed"
                : `git does not run: ${describeFailure("git --version", version)}`,
        );
    }
    const inside = await git(["rev-parse", "--is-inside-work-tree"]);
    if (!inside.ok || inside.stdout.trim() !== "true") {
        throw new EnvironmentError(`the working directory is not a git checkout (${describeFailure("git rev-parse", inside)})`);
    }
    const head = lines((await git(["rev-parse", "HEAD"])).stdout)[0] ?? "HEAD";
    const isShallow = async () => (await git(["rev-parse", "--is-shallow-repository"])).stdout.trim() === "true";
    let shallow = await isShallow();

    const base = request.baseBranch;
    if (!SAFE_BRANCH.test(base)) throw new EnvironmentError(`the base branch name ${JSON.stringify(base)} is not a branch git can fetch`);
    const refspec = `+refs/heads/${base}:refs/remotes/origin/${base}`;
    const fetchBase = async (...depth: string[]) => git(["fetch", "--no-tags", "--quiet", ...depth, "origin", refspec]);

    // 1. The merge base: preset, or computed against a freshly fetched origin/<base>.
    let mergeBase = request.presetMergeBase;
    let forcedRunAll: string | undefined;
    let fetchProblem: string | undefined;
    if (mergeBase) {
        report.log(`bootstrap: keeping the preset MERGE_BASE_COMMIT ${mergeBase}`);
    } else {
        const fetched = await fetchBase(...(shallow ? [`--depth=${request.depthStep}`] : []));
        if (!fetched.ok) fetchProblem = describeFailure(`git fetch origin ${base}`, fetched);
        const mergeBaseOf = async () => {
            const result = await git(["merge-base", `origin/${base}`, "HEAD"]);
            return result.ok ? lines(result.stdout)[0] : undefined;
        };
        mergeBase = await mergeBaseOf();
        let deepened = 0;
        let step = request.depthStep;
        while (!mergeBase && shallow && !fetchProblem && deepened < request.maxDeepen) {
            step = Math.min(step, request.maxDeepen - deepened);
            report.log(`bootstrap: shallow clone without a merge base; fetching ${step} more commits`);
            const deeper = await fetchBase(`--deepen=${step}`);
            if (!deeper.ok) {
                fetchProblem = describeFailure(`git fetch --deepen origin ${base}`, deeper);
                break;
            }
            deepened += step;
            step *= 2;
            shallow = await isShallow();
            mergeBase = await mergeBaseOf();
        }
        if (!mergeBase) {
            const reason = fetchProblem
                ? `no merge base with origin/${base} (${fetchProblem})`
                : shallow
                  ? `no merge base with origin/${base} within ${request.depthStep + deepened} commits of the shallow clone`
                  : `no merge base with origin/${base} (unrelated histories)`;
            // On main the diff is HEAD~1..HEAD; the merge base only names the wheels to look for.
            if (request.onMain) report.log(`bootstrap: ${reason}; using HEAD`);
            else forcedRunAll = reason;
        } else if (fetchProblem) {
            report.warn(`could not fetch origin/${base} (${fetchProblem}); the diff uses the copy the agent already had`);
        }
    }

    // 2. The diff: against HEAD~1 on main, else against the merge base.
    let diffBase = mergeBase;
    if (request.onMain) {
        const hasParent = async () => (await git(["rev-parse", "--verify", "--quiet", "HEAD~1"])).ok;
        if (!(await hasParent()) && shallow) {
            report.log("bootstrap: HEAD~1 is not in the shallow clone; fetching one more commit");
            await git(["fetch", "--no-tags", "--quiet", "--deepen=1", "origin", refspec]);
        }
        if (await hasParent()) diffBase = "HEAD~1";
        else forcedRunAll = "HEAD~1 is not available on main, so the change is unknown";
    }
    let changedFiles: string[] = [];
    if (!forcedRunAll && diffBase) {
        const diff = await git(["diff", "--name-only", "--diff-filter=ACMDR", diffBase, "HEAD"]);
        if (diff.ok) changedFiles = lines(diff.stdout);
        else forcedRunAll = `git diff against ${diffBase} failed (${describeFailure("git diff", diff)})`;
    }
    if (forcedRunAll) report.warn(`${forcedRunAll}: running every step`);
    return { mergeBase: mergeBase ?? head, changedFiles, forcedRunAll, shallow };
}
