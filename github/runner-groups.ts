/**
 * The runner groups file (`github/runner-groups.yaml`): its model, written once with TypeBox (the
 * types and the schema Ajv checks), and the loader. Pulumi-free, so the tests and the adoption call
 * it directly. Every problem is one line naming the file, the group (or organization) and the field.
 *
 * Why its own file rather than the queue catalog: nothing in it is a Buildkite queue, nothing else
 * reads it, and the stack that builds it (`github-prod`) holds credentials no other stack may see.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import Ajv, { type ErrorObject } from "ajv";
import { Type, type Static } from "@sinclair/typebox";
import { ProblemsError } from "../lib/problems";
import { didYouMean } from "../lib/suggest";

/** The file the github-prod stack builds from unless `ci:githubRunnerGroupsPath` names another. */
export const DEFAULT_RUNNER_GROUPS_PATH = path.join(__dirname, "runner-groups.yaml");

/** GitHub's own rules: an organization login, a repository name. */
const ORGANIZATION = "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$";
const REPOSITORY = "^[A-Za-z0-9._-]{1,100}$";
/** A `ci:` config key (Pulumi.yaml declares it, `secret: true`). */
const CONFIG_KEY = "^[A-Za-z][A-Za-z0-9]*$";

/** What the API accepts; `private` is refused by GitHub for organization groups. */
export const RUNNER_GROUP_VISIBILITIES = ["all", "selected"] as const;

export const OrganizationSchema = Type.Object(
    {
        tokenConfig: Type.String({ pattern: CONFIG_KEY, description: "The `ci:` secret config key holding this organization's admin token (a PAT or an app token with `admin:org`)." }),
    },
    { additionalProperties: false },
);

export const RunnerGroupSchema = Type.Object(
    {
        name: Type.String({ minLength: 1, maxLength: 100, description: "The group's name in its organization (the runners' `runs-on: group:` name)." }),
        organization: Type.String({ pattern: ORGANIZATION, description: "The organization the group lives in (a key of `organizations`)." }),
        partner: Type.String({ minLength: 1, description: "Who hosts the runners that join this group." }),
        visibility: Type.Unsafe<(typeof RUNNER_GROUP_VISIBILITIES)[number]>({ type: "string", enum: [...RUNNER_GROUP_VISIBILITIES], description: "Which repositories may use it: `all`, or the `selected` ones." }),
        allowsPublicRepositories: Type.Boolean({ description: "Whether public repositories may use it (vLLM is public)." }),
        restrictedToWorkflows: Type.Boolean({ description: "Whether only `selectedWorkflows` may use it." }),
        selectedWorkflows: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: "Workflow refs allowed when `restrictedToWorkflows` (`owner/repo/.github/workflows/x.yml@ref`)." })),
        repositories: Type.Optional(Type.Array(Type.String({ pattern: REPOSITORY }), { uniqueItems: true, description: "Repository names (in `organization`) allowed when `visibility` is `selected`." })),
    },
    { additionalProperties: false },
);

export const RunnerGroupsFileSchema = Type.Object(
    {
        organizations: Type.Record(Type.String({ pattern: ORGANIZATION }), OrganizationSchema, { description: "The organizations managed, one GitHub provider each." }),
        runnerGroups: Type.Array(RunnerGroupSchema, { description: "The runner groups." }),
    },
    { additionalProperties: false },
);

export type GithubOrganization = Static<typeof OrganizationSchema>;
export type RunnerGroup = Static<typeof RunnerGroupSchema>;
export interface RunnerGroups extends Static<typeof RunnerGroupsFileSchema> {
    /** The file they were read from, as problems name it. */
    readonly file: string;
}

/** A runner groups file that cannot be used; one line per problem. */
export class RunnerGroupsError extends ProblemsError {
    constructor(problems: readonly string[]) {
        super(problems, "RunnerGroupsError");
    }
}

let validate: ReturnType<Ajv["compile"]> | undefined;

/** Where a JSON pointer lands, in words: `runner group "ibm-runners"`, `organization "x"`, `section runnerGroups`. */
function where(raw: unknown, pointer: string): { at: string; field: string[] } {
    const parts = pointer.split("/").slice(1);
    if (parts[0] === "runnerGroups" && parts.length >= 2) {
        const group = (raw as { runnerGroups?: { name?: unknown }[] }).runnerGroups?.[Number(parts[1])];
        return { at: typeof group?.name === "string" ? `runner group "${group.name}"` : `runnerGroups[${parts[1]}]`, field: parts.slice(2) };
    }
    if (parts[0] === "organizations" && parts.length >= 2) return { at: `organization "${parts[1]}"`, field: parts.slice(2) };
    return { at: parts.length > 0 ? `section ${parts[0]}` : "top level", field: [] };
}

function schemaLine(raw: unknown, error: ErrorObject): string {
    const { at, field } = where(raw, error.instancePath);
    const atField = (names: string[]) => (names.length > 0 ? `${at}: field ${names.join(".")}` : at);
    if (error.keyword === "additionalProperties") {
        const extra = String(error.params.additionalProperty);
        return `${atField(field)}: unknown field "${extra}"${didYouMean(extra, Object.keys((error.parentSchema as { properties?: object }).properties ?? {}))}`;
    }
    if (error.keyword === "required") return `${at}: missing field "${[...field, String(error.params.missingProperty)].join(".")}"`;
    if (error.keyword === "enum") return `${atField(field)}: must be one of ${(error.params.allowedValues as string[]).join(", ")}`;
    if (error.keyword === "propertyNames") return `${at}: organization name is not a GitHub login`;
    return `${atField(field)}: ${error.message ?? "is invalid"}`;
}

/** Checks across entries: unique names per organization, declared organizations, repositories only where they mean something. */
export function runnerGroupProblems(groups: Omit<RunnerGroups, "file">): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const group of groups.runnerGroups) {
        const at = `runner group "${group.name}"`;
        const key = `${group.organization}/${group.name}`;
        if (seen.has(key)) problems.push(`${at}: field name: declared twice in organization ${group.organization}`);
        seen.add(key);
        if (!(group.organization in groups.organizations)) {
            problems.push(`${at}: field organization: "${group.organization}" is not in organizations (${Object.keys(groups.organizations).join(", ") || "none"})${didYouMean(group.organization, Object.keys(groups.organizations))}`);
        }
        if (group.visibility === "selected" && (group.repositories ?? []).length === 0) problems.push(`${at}: field repositories: visibility selected needs at least one repository`);
        if (group.visibility === "all" && group.repositories !== undefined) problems.push(`${at}: field repositories: only used with visibility selected (this group is visible to all)`);
        if (group.restrictedToWorkflows && (group.selectedWorkflows ?? []).length === 0) problems.push(`${at}: field selectedWorkflows: restrictedToWorkflows needs at least one workflow`);
        if (!group.restrictedToWorkflows && group.selectedWorkflows !== undefined) problems.push(`${at}: field selectedWorkflows: ignored unless restrictedToWorkflows is true`);
    }
    return problems;
}

/** Parses and checks a runner groups file; throws a `RunnerGroupsError` with every problem. */
export function parseRunnerGroups(text: string, file: string): RunnerGroups {
    let raw: unknown;
    try {
        raw = yaml.load(text);
    } catch (error) {
        throw new RunnerGroupsError([`${file}: YAML syntax error: ${(error as Error).message.split("\n")[0]}`]);
    }
    validate ??= new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true }).compile(RunnerGroupsFileSchema);
    if (!validate(raw)) throw new RunnerGroupsError([...new Set((validate.errors ?? []).map((error) => `${file}: ${schemaLine(raw, error)}`))]);
    const groups = raw as Static<typeof RunnerGroupsFileSchema>;
    const problems = runnerGroupProblems(groups).map((problem) => `${file}: ${problem}`);
    if (problems.length > 0) throw new RunnerGroupsError(problems);
    return { file, ...groups };
}

/** Reads `file` (a missing file is one problem line too). */
export function loadRunnerGroups(file = DEFAULT_RUNNER_GROUPS_PATH): RunnerGroups {
    const shown = path.relative(process.cwd(), file) || file;
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new RunnerGroupsError([`${shown}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
    }
    return parseRunnerGroups(text, shown);
}

/**
 * Each organization's token config key must be declared secret in `Pulumi.yaml` and be set: a
 * token that could sit in plain text in a stack file, or none, is found before any resource.
 */
export function tokenConfigProblems(groups: RunnerGroups, isDeclaredSecret: (key: string) => boolean, stackFile: string, isSet: (key: string) => boolean): string[] {
    const problems: string[] = [];
    for (const [organization, { tokenConfig }] of Object.entries(groups.organizations)) {
        if (!isDeclaredSecret(tokenConfig)) {
            problems.push(`${groups.file}: organization "${organization}": field tokenConfig: ci:${tokenConfig} is not declared with secret: true in Pulumi.yaml`);
        } else if (!isSet(tokenConfig)) {
            problems.push(`${stackFile}: config ci:${tokenConfig}: missing (pulumi config set --secret ${tokenConfig} <admin token of ${organization}>)`);
        }
    }
    return problems;
}

/** `owner/name` of each repository a group selects, in the file's order. */
export function selectedRepositories(group: RunnerGroup): string[] {
    return (group.repositories ?? []).map((repository) => `${group.organization}/${repository}`);
}

/** The Pulumi logical name of a group: organization and group, stable across reorderings of the file. */
export function runnerGroupResourceName(group: Pick<RunnerGroup, "organization" | "name">): string {
    return `${group.organization}-${group.name}`;
}
