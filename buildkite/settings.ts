/**
 * The `buildkite-prod` stack's settings (`ci:` config, declared in `Pulumi.yaml`), read and checked
 * in one place; every problem is one line naming the stack file and the key. Pulumi-free.
 */
import { collectingReader, type ConfigReader } from "../lib/config-reader";
import { ProblemsError } from "../lib/problems";

export interface BuildkiteSettings {
    /** The AWS account whose SSM parameters receive the agent tokens (the providers refuse any other). */
    readonly awsAccountId: string;
    /**
     * Rotation counter per Buildkite cluster (key of `buildkiteClusters`; absent: 0). Raising one
     * replaces that cluster's agent token and rewrites every store it reaches.
     */
    readonly tokenRotation: Readonly<Record<string, number>>;
    /** Team (GraphQL id) a pipeline the stack creates is given, per organization (Buildkite requires one on creation). */
    readonly pipelineTeams: Readonly<Record<string, string>>;
}

const ACCOUNT_ID = /^[0-9]{12}$/;

function jsonObject(problems: string[], where: string, raw: string | undefined, valueOk: (value: unknown) => boolean, what: string): Record<string, never> | Record<string, unknown> {
    if (raw === undefined || raw === "") return {};
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        problems.push(`${where}: not JSON (${what})`);
        return {};
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        problems.push(`${where}: must be a JSON object (${what})`);
        return {};
    }
    for (const [key, item] of Object.entries(value)) if (!valueOk(item)) problems.push(`${where}: "${key}": ${JSON.stringify(item)} is not valid (${what})`);
    return value as Record<string, unknown>;
}

/** Reads the stack's settings; throws a ProblemsError listing every bad key. */
export function readBuildkiteSettings(get: ConfigReader, stackFile: string, clusters: readonly string[]): BuildkiteSettings {
    const problems: string[] = [];
    const read = collectingReader(get, stackFile, problems);
    const awsAccountId = read.matching("awsAccountId", ACCOUNT_ID, "an AWS account id (12 digits)");
    const rotation = jsonObject(problems, read.where("buildkiteTokenRotation"), get("buildkiteTokenRotation"), (n) => Number.isInteger(n) && (n as number) >= 0, '{"<cluster>": <non-negative integer>}');
    for (const key of Object.keys(rotation)) {
        if (!clusters.includes(key)) problems.push(`${read.where("buildkiteTokenRotation")}: "${key}" is not a key of buildkiteClusters (clusters: ${clusters.join(", ")})`);
    }
    const teams = jsonObject(problems, read.where("buildkitePipelineTeams"), get("buildkitePipelineTeams"), (id) => typeof id === "string" && id !== "", '{"<organization>": "<team GraphQL id>"}');
    if (problems.length > 0) throw new ProblemsError(problems, "BuildkiteSettingsError");
    return { awsAccountId, tokenRotation: rotation as Record<string, number>, pipelineTeams: teams as Record<string, string> };
}

/**
 * The API token of an organization's provider, from the secret `ci:buildkiteApiToken`: one token
 * for every organization (a Buildkite user token may reach several), or a JSON object by
 * organization slug. Undefined: the provider reads `BUILDKITE_API_TOKEN`.
 */
export function apiTokenOf(raw: string | undefined, organization: string): string | undefined {
    if (raw === undefined || raw === "") return undefined;
    if (!raw.trimStart().startsWith("{")) return raw;
    try {
        const tokens = JSON.parse(raw) as Record<string, unknown>;
        const token = tokens[organization];
        return typeof token === "string" ? token : undefined;
    } catch {
        // Never echo the value: it is a secret.
        throw new ProblemsError([`config ci:buildkiteApiToken: starts with "{" but is not a JSON object {"<organization>": "<token>"}`]);
    }
}

/**
 * The problems of `ci:buildkiteApiToken` for the organizations the stack manages, one line each,
 * never echoing the value: a JSON object that is not one, or names no token for an organization
 * (its provider would get an empty token and fail on the first call, far from the cause).
 */
export function apiTokenProblems(raw: string | undefined, organizations: readonly string[], stackFile: string): string[] {
    const where = `${stackFile}: config ci:buildkiteApiToken`;
    if (raw === undefined || !raw.trimStart().startsWith("{")) return [];
    let tokens: unknown;
    try {
        tokens = JSON.parse(raw);
    } catch {
        return [`${where}: starts with "{" but is not a JSON object {"<organization>": "<token>"}`];
    }
    if (tokens === null || typeof tokens !== "object" || Array.isArray(tokens)) return [`${where}: must be a JSON object {"<organization>": "<token>"}`];
    const byOrganization = tokens as Record<string, unknown>;
    return organizations
        .filter((organization) => typeof byOrganization[organization] !== "string" || byOrganization[organization] === "")
        .map((organization) => `${where}: no token for organization "${organization}" (keys: ${Object.keys(byOrganization).join(", ") || "none"})`);
}
