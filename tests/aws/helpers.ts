/** Shared by the AWS tests: the real Elastic CI Stack templates, temporary catalogs, program runs. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { parseCatalog, type Catalog } from "../../catalog";
import { parseCloudFormationYaml } from "../../aws/cloudformation-yaml";
import { extractTemplateRules, type StackTemplateRules } from "../../aws/stack-template";
import { runWithMocks, type ProgramRun } from "../../plan/harness";
import { loadStackConfig, PROJECT_ROOT } from "../../plan/stack-config";
import { iamGlobMatches } from "../../lib/iam-glob";
import { sharedFixture } from "../support/fixtures";

/** The template versions the tests check every queue against. */
export const TEMPLATE_VERSIONS = ["6.21.0", "6.71.1"] as const;

/** The read-only templates Buildkite publishes (vendored copy of ../shared/schemas). */
export function realTemplatePath(version: string): string {
    return sharedFixture("schemas", `elastic-ci-stack-v${version}.aws-stack.yml`);
}

const parsedTemplates = new Map<string, Record<string, unknown>>();

/** The real template, parsed with the short-form tags declared. */
export function realTemplate(version: string): Record<string, unknown> {
    let template = parsedTemplates.get(version);
    if (!template) {
        template = parseCloudFormationYaml(fs.readFileSync(realTemplatePath(version), "utf8"), realTemplatePath(version));
        parsedTemplates.set(version, template);
    }
    return template;
}

/** The rules of the real template (not the program's kept copy). */
export function realTemplateRules(version: string): StackTemplateRules {
    return extractTemplateRules(version, realTemplate(version));
}

export const CATALOG_FILE = path.join(PROJECT_ROOT, "catalog", "queues.yaml");

/** The fleet's catalog text with `edit` applied; fails when the edit changed nothing. */
export function editedCatalogText(edit: (text: string) => string): string {
    const original = fs.readFileSync(CATALOG_FILE, "utf8");
    const edited = edit(original);
    if (edited === original) throw new Error("the catalog edit changed nothing: the test's anchor text is gone");
    return edited;
}

/** A catalog parsed from the fleet's with `edit` applied. */
export function editedCatalog(edit: (text: string) => string): Catalog {
    return parseCatalog(editedCatalogText(edit), "catalog/queues.yaml");
}

/** Writes a catalog into a fresh temporary folder and returns its path. */
export function writeTempCatalog(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-fleet-"));
    const file = path.join(dir, "queues.yaml");
    fs.writeFileSync(file, text);
    return file;
}

/** Replaces the first occurrence of `anchor` after `after` in `text`. */
export function replaceAfter(text: string, after: string, anchor: string, replacement: string): string {
    const start = text.indexOf(after);
    if (start < 0) return text;
    const at = text.indexOf(anchor, start);
    if (at < 0) return text;
    return text.slice(0, at) + replacement + text.slice(at + anchor.length);
}

/** `ignoreChanges` of each registered resource (`type::name`), which the harness does not record. */
export const ignoredChanges = new Map<string, string[]>();
let ignoreChangesRecorded = false;

function recordIgnoreChanges(): void {
    if (ignoreChangesRecorded) return;
    ignoreChangesRecorded = true;
    const prototype = MockMonitor.prototype as unknown as {
        registerResource(req: { getType(): string; getName(): string; getIgnorechangesList(): string[] }, callback: unknown): Promise<void>;
    };
    const inner = prototype.registerResource;
    prototype.registerResource = function (req, callback) {
        ignoredChanges.set(`${req.getType()}::${req.getName()}`, req.getIgnorechangesList());
        return inner.call(this, req, callback);
    };
}

/** Runs the whole program for stack aws-prod, with config keys (without `ci:`) overridden. */
export async function runAwsProd(overrides: Record<string, string> = {}, secretOverrides: Record<string, string> = {}): Promise<ProgramRun> {
    recordIgnoreChanges();
    const stack = loadStackConfig("aws-prod");
    const config = { ...stack.config };
    for (const [key, value] of Object.entries(overrides)) config[`ci:${key}`] = value;
    for (const [key, value] of Object.entries(secretOverrides)) config[key] = value;
    const { defineFleet } = await import("../../fleet");
    return runWithMocks({ ...stack, config }, () => defineFleet() as Record<string, unknown>);
}

/** An IAM statement, as the tests read policy documents. */
export interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
    NotAction?: unknown;
    Resource?: string | string[];
    NotResource?: unknown;
    Condition?: Record<string, Record<string, string | string[]>>;
}

export function statementsOf(policy: unknown): Statement[] {
    const document = (typeof policy === "string" ? JSON.parse(policy) : policy) as { Statement?: Statement | Statement[] };
    const statements = document.Statement ?? [];
    return Array.isArray(statements) ? statements : [statements];
}

export const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);


/**
 * Whether an IAM action (possibly a wildcard) can change something. Read verbs are the ones AWS
 * lists as read or list access; logins only hand out a token for what other grants allow.
 */
export function mayWrite(action: string): boolean {
    const [, verb = ""] = action.split(":");
    if (action === "*" || verb.startsWith("*")) return true;
    const readVerb = /^(Get|Describe|List|BatchGet|BatchCheckLayerAvailability)/;
    return !readVerb.test(verb);
}

/** Write grants of a policy that reach any of `protectedArns`, spelled `action on resource`. */
export function writesReaching(policy: unknown, protectedArns: string[]): string[] {
    const grants: string[] = [];
    for (const statement of statementsOf(policy)) {
        if (statement.Effect !== "Allow") continue;
        if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
            grants.push(`NotAction/NotResource in ${statement.Sid ?? "a statement"}`);
            continue;
        }
        const writes = asList(statement.Action).filter(mayWrite);
        for (const resource of asList(statement.Resource)) {
            const reaches = protectedArns.some((arn) => iamGlobMatches(resource, arn));
            if (reaches) for (const action of writes) grants.push(`${action} on ${resource}`);
        }
    }
    return grants;
}
