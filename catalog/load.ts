/**
 * Reading the queue catalog: YAML → the file's schema → provider defaults merged → each queue
 * against its provider's schema → checks across entries (`validate.ts`). Every problem is collected
 * and reported together, one line each, naming the file, the queue (or section) and the field.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { didYouMean } from "../lib/suggest";
import { ProblemsError } from "../lib/problems";
import { isPlainObject } from "../lib/values";
import { CatalogFileSchema, PROVIDER_SECTIONS, QueueSchema } from "./model";
import type { Catalog, Provider, Queue } from "./types";
import { catalogProblems } from "./validate";

/** A catalog that cannot be used. Each line of the message: file, queue or section, field, problem. */
export class CatalogError extends ProblemsError {
    constructor(problems: readonly string[] | string) {
        super(typeof problems === "string" ? [problems] : problems, "CatalogError");
    }
}

/** The catalog the fleet and the generator use unless told otherwise. */
export const DEFAULT_CATALOG_PATH = path.join(__dirname, "queues.yaml");

type RawQueue = Record<string, unknown> & { name: string; provider: Provider };
interface RawCatalog extends Omit<Catalog, "file" | "queues" | "gkeClusters" | "buildkiteOrganizations" | "gcpProjects"> {
    gkeClusters?: Catalog["gkeClusters"];
    buildkiteOrganizations?: Catalog["buildkiteOrganizations"];
    gcpProjects?: Catalog["gcpProjects"];
    defaults?: Partial<Record<Provider, Record<string, unknown>>>;
    queues: RawQueue[];
}

let validators: { file: ValidateFunction; queue: ValidateFunction } | undefined;
function schemaValidators(): { file: ValidateFunction; queue: ValidateFunction } {
    if (!validators) {
        const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true, discriminator: true });
        validators = { file: ajv.compile(CatalogFileSchema), queue: ajv.compile(QueueSchema) };
    }
    return validators;
}

const pointerParts = (pointer: string): string[] => pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));

/** Where in the file a JSON pointer lands, in words, and the field path below it. */
function describeLocation(raw: unknown, parts: string[]): { where: string; field: string[] } {
    if (parts[0] === "queues" && parts.length >= 2) {
        const queue = (raw as RawCatalog).queues?.[Number(parts[1])];
        const name = isPlainObject(queue) && typeof queue.name === "string" ? `queue "${queue.name}"` : `queues[${parts[1]}]`;
        return { where: name, field: parts.slice(2) };
    }
    if (parts[0] === "routing" && parts.length >= 2) return { where: `routing rule ${Number(parts[1]) + 1}`, field: parts.slice(2) };
    if (parts.length >= 2) return { where: `${parts[0]} "${parts[1]}"`, field: parts.slice(2) };
    return { where: parts.length === 1 ? `section ${parts[0]}` : "top level", field: [] };
}

/** One Ajv error as a catalog problem line (without the file). `raw` names queues by index. */
function schemaMessage(raw: unknown, error: ErrorObject, provider?: string): string {
    const { where, field } = describeLocation(raw, pointerParts(error.instancePath));
    const at = (path: string[]) => (path.length > 0 ? `${where}: field ${path.join(".")}` : where);
    switch (error.keyword) {
        case "additionalProperties": {
            const extra = String(error.params.additionalProperty);
            if (field.length === 0 && (PROVIDER_SECTIONS as readonly string[]).includes(extra) && provider && provider !== extra) {
                return `${at([extra])}: only allowed on provider ${extra} (this queue is ${provider})`;
            }
            const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
            return `${at(field)}: unknown field "${extra}"${didYouMean(extra, known)}`;
        }
        case "required":
            return `${where}: missing field "${[...field, String(error.params.missingProperty)].join(".")}"`;
        case "enum": {
            const allowed = (error.params.allowedValues as unknown[]).map(String);
            return `${at(field)}: must be one of ${allowed.join(", ")}${typeof error.data === "string" ? didYouMean(error.data, allowed) : ""}`;
        }
        case "discriminator":
            return `${at([...field, String(error.params.tag)])}: must be one of ${(error.parentSchema as { oneOf: { properties: { provider: { const: string } } }[] }).oneOf
                .map((branch) => branch.properties.provider.const)
                .join(", ")}`;
        default:
            return `${at(field)}: ${error.message ?? "is invalid"}`;
    }
}

/** Ajv's errors as problem lines, without the errors a union reports on its way to the real one. */
function schemaProblems(raw: unknown, errors: ErrorObject[], providerOf: (instancePath: string) => string | undefined): string[] {
    const lines = errors.filter((error) => error.keyword !== "oneOf" && error.keyword !== "anyOf").map((error) => schemaMessage(raw, error, providerOf(error.instancePath)));
    return [...new Set(lines)];
}

/** Queue values win; nested maps (machine, scale, aws...) merge one level down. */
function mergeDefaults(defaults: Record<string, unknown> | undefined, queue: RawQueue): Record<string, unknown> {
    const merged: Record<string, unknown> = { reachedBy: "rules", ...(defaults ?? {}) };
    for (const [key, value] of Object.entries(queue)) {
        const base = merged[key];
        merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
    }
    return merged;
}

/** Parse and check a catalog. Throws a CatalogError listing every problem. */
export function parseCatalog(text: string, file: string): Catalog {
    let raw: unknown;
    try {
        raw = yaml.load(text);
    } catch (error) {
        const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new CatalogError(`${file}: YAML syntax error: ${reason}`);
    }
    const { file: validateFile, queue: validateQueue } = schemaValidators();
    const inFile = (problem: string) => `${file}: ${problem}`;
    if (!validateFile(raw)) {
        const queueAt = (pointer: string) => {
            const parts = pointerParts(pointer);
            const queue = parts[0] === "queues" ? (raw as RawCatalog).queues?.[Number(parts[1])] : undefined;
            return isPlainObject(queue) && typeof queue.provider === "string" ? queue.provider : undefined;
        };
        throw new CatalogError(schemaProblems(raw, validateFile.errors ?? [], queueAt).map(inFile));
    }
    const rawCatalog = raw as RawCatalog;
    const problems: string[] = [];
    const queues = rawCatalog.queues.map((queue) => {
        const merged = mergeDefaults(rawCatalog.defaults?.[queue.provider], queue);
        if (!validateQueue(merged)) {
            const named = { queues: [merged] };
            const errors = (validateQueue.errors ?? []).map((error) => ({ ...error, instancePath: `/queues/0${error.instancePath}` }));
            problems.push(...schemaProblems(named, errors, () => queue.provider).map(inFile));
        }
        return merged as unknown as Queue;
    });
    if (problems.length > 0) throw new CatalogError(problems);
    const catalog: Catalog = {
        file,
        buildkiteOrganizations: rawCatalog.buildkiteOrganizations ?? {},
        gcpProjects: rawCatalog.gcpProjects ?? {},
        machineTypes: rawCatalog.machineTypes,
        buildkiteClusters: rawCatalog.buildkiteClusters,
        gkeClusters: rawCatalog.gkeClusters ?? {},
        queues,
        devices: rawCatalog.devices,
        routing: rawCatalog.routing,
        prices: rawCatalog.prices ?? {},
    };
    const semantic = catalogProblems(catalog);
    if (semantic.length > 0) throw new CatalogError(semantic.map(inFile));
    return catalog;
}

/** Read and check the catalog at `file` (default: the fleet's catalog). */
export function loadCatalog(file: string = DEFAULT_CATALOG_PATH): Catalog {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new CatalogError(`${file}: cannot read the catalog (${code})`);
    }
    return parseCatalog(text, path.relative(process.cwd(), file) || file);
}
