/**
 * The workflows' trust rule, as a pure check over a parsed workflow:
 *
 * - the workflow-level token grants nothing (every grant is on a job, where it is needed);
 * - every job says what its token may do (no job gets the repository's default permissions);
 * - a job that checks out pull-request code (any checkout on `pull_request`; on
 *   `pull_request_target` / `workflow_run`, a checkout of the head, or `gh pr checkout`) is
 *   granted no write scope and no `id-token`;
 * - `id-token: write` only on jobs that exchange it (a cloud-credentials action);
 * - `pull-requests: write` only on jobs that comment on a pull request;
 * - a job that publishes with cloud credentials from a push has a `concurrency` group.
 */

type Permissions = string | Record<string, string> | undefined;

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}

interface Job {
    permissions?: Permissions;
    steps?: Step[];
    concurrency?: unknown;
}

export interface Workflow {
    on?: unknown;
    permissions?: Permissions;
    concurrency?: unknown;
    jobs?: Record<string, Job>;
}

const OIDC_ACTIONS = ["aws-actions/configure-aws-credentials@", "google-github-actions/auth@"];

function triggers(workflow: Workflow): string[] {
    const on = workflow.on;
    if (typeof on === "string") return [on];
    if (Array.isArray(on)) return on.map(String);
    return on && typeof on === "object" ? Object.keys(on) : [];
}

/** The write scopes a permissions value grants (`write-all` grants every one). */
export function writeScopes(permissions: Permissions): string[] {
    if (permissions === undefined) return [];
    if (permissions === "write-all") return ["every scope"];
    if (typeof permissions === "string") return [];
    return Object.entries(permissions)
        .filter(([, level]) => level === "write")
        .map(([scope]) => scope);
}

const mentionsHead = (value: unknown) => /head|pull_request|workflow_run/.test(JSON.stringify(value ?? ""));

/** Whether a job runs code of the pull request. */
export function checksOutPullRequestCode(workflow: Workflow, job: Job): boolean {
    const events = triggers(workflow);
    const steps = job.steps ?? [];
    const checkouts = steps.filter((step) => String(step.uses ?? "").startsWith("actions/checkout@"));
    if (events.includes("pull_request") && checkouts.length > 0) return true;
    if (events.some((event) => event === "pull_request_target" || event === "workflow_run")) {
        if (checkouts.some((step) => mentionsHead(step.with?.ref) || mentionsHead(step.with?.repository))) return true;
        if (steps.some((step) => /gh pr checkout|refs\/pull\//.test(step.run ?? ""))) return true;
    }
    return false;
}

export function permissionProblems(workflow: Workflow, file: string): string[] {
    const problems: string[] = [];
    const top = writeScopes(workflow.permissions);
    if (workflow.permissions === undefined) problems.push(`${file}: no workflow-level permissions (set permissions: {} and grant per job)`);
    else if (top.length > 0) problems.push(`${file}: the workflow-level token is granted ${top.join(", ")}: write (grant it on the jobs that need it)`);
    for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
        const where = `${file}: job ${name}`;
        if (job.permissions === undefined && workflow.permissions === undefined) problems.push(`${where}: no permissions, so the repository default applies`);
        const effective = job.permissions ?? workflow.permissions;
        const writes = writeScopes(effective);
        const steps = job.steps ?? [];
        if (checksOutPullRequestCode(workflow, job) && writes.length > 0) {
            problems.push(`${where}: checks out pull-request code and is granted ${writes.join(", ")}: write`);
        }
        const usesOidc = steps.some((step) => OIDC_ACTIONS.some((action) => String(step.uses ?? "").startsWith(action)));
        if (writes.includes("id-token") && !usesOidc) problems.push(`${where}: id-token: write without a cloud-credentials step`);
        const comments = steps.some(
            (step) =>
                /gh pr comment|gh pr review/.test(step.run ?? "") ||
                String(step.uses ?? "").startsWith("actions/github-script@") ||
                (String(step.uses ?? "").startsWith("pulumi/actions@") && step.with?.["comment-on-pr"] === true),
        );
        if (writes.includes("pull-requests") && !comments) problems.push(`${where}: pull-requests: write without a step that comments`);
        const publishes = usesOidc && steps.some((step) => /publish|s3 cp|s3 sync/.test(step.run ?? ""));
        if (publishes && job.concurrency === undefined && workflow.concurrency === undefined) problems.push(`${where}: publishes without a concurrency group`);
    }
    return problems;
}
