/**
 * Reading the queue catalog: YAML → schema check → provider defaults merged → semantic checks.
 * Every problem is reported as one line naming the file, the queue (or section) and the field.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import Ajv, { type ErrorObject } from "ajv";
import catalogSchema from "./queues.schema.json";
import { didYouMean } from "../lib/suggest";
import type { Catalog, Provider, Queue } from "./types";
import { catalogProblems } from "./validate";

/** A catalog that cannot be used. The message is one line: file, queue or section, field, problem. */
export class CatalogError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CatalogError";
    }
}

/** The catalog the fleet and the generator use unless told otherwise. */
export const DEFAULT_CATALOG_PATH = path.join(__dirname, "queues.yaml");

type RawQueue = Partial<Queue> & { name: string; provider: Provider };
interface RawCatalog extends Omit<Catalog, "file" | "queues" | "gkeClusters"> {
    gkeClusters?: Catalog["gkeClusters"];
    defaults?: Partial<Record<Provider, Partial<Queue>>>;
    queues: RawQueue[];
}

let compiledValidator: ReturnType<Ajv["compile"]> | undefined;
function schemaValidator(): ReturnType<Ajv["compile"]> {
    if (!compiledValidator) {
        compiledValidator = new Ajv({ allErrors: false, strict: true, strictRequired: false, verbose: true }).compile(catalogSchema);
    }
    return compiledValidator;
}

/** Where in the catalog a JSON pointer lands, in words: `queue "x": field scale.min`. */
function describeLocation(raw: unknown, instancePath: string): string {
    const parts = instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (parts[0] === "queues" && parts.length >= 2) {
        const queue = (raw as RawCatalog).queues?.[Number(parts[1])];
        const name = queue && typeof queue.name === "string" ? `queue "${queue.name}"` : `queues[${parts[1]}]`;
        return parts.length > 2 ? `${name}: field ${parts.slice(2).join(".")}` : name;
    }
    if (parts[0] === "routing" && parts.length >= 2) {
        const rest = parts.slice(2).join(".");
        return `routing rule ${Number(parts[1]) + 1}${rest ? `: field ${rest}` : ""}`;
    }
    if (parts.length >= 2) return `${parts[0]} "${parts[1]}"${parts.length > 2 ? `: field ${parts.slice(2).join(".")}` : ""}`;
    return parts.length === 1 ? `section ${parts[0]}` : "top level";
}

function schemaMessage(raw: unknown, error: ErrorObject): string {
    const where = describeLocation(raw, error.instancePath);
    switch (error.keyword) {
        case "additionalProperties": {
            const field = String(error.params.additionalProperty);
            const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
            return `${where}: unknown field "${field}"${didYouMean(field, known)}`;
        }
        case "required":
            return `${where}: missing field "${String(error.params.missingProperty)}"`;
        case "enum":
            return `${where}: must be one of ${(error.params.allowedValues as unknown[]).join(", ")}`;
        default:
            return `${where}: ${error.message ?? "is invalid"}`;
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Queue values win; nested maps (machine, scale, aws...) merge one level down. */
function mergeDefaults(defaults: Partial<Queue> | undefined, queue: RawQueue): Queue {
    const merged: Record<string, unknown> = { reachedBy: "rules", ...(defaults ?? {}) };
    for (const [key, value] of Object.entries(queue)) {
        const base = merged[key];
        merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
    }
    return merged as unknown as Queue;
}

/** Parse and check a catalog. Throws CatalogError on the first problem. */
export function parseCatalog(text: string, file: string): Catalog {
    let raw: unknown;
    try {
        raw = yaml.load(text);
    } catch (error) {
        const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new CatalogError(`${file}: YAML syntax error: ${reason}`);
    }
    const validate = schemaValidator();
    if (!validate(raw)) {
        throw new CatalogError(`${file}: ${schemaMessage(raw, validate.errors![0])}`);
    }
    const rawCatalog = raw as RawCatalog;
    const catalog: Catalog = {
        file,
        machineTypes: rawCatalog.machineTypes,
        buildkiteClusters: rawCatalog.buildkiteClusters,
        gkeClusters: rawCatalog.gkeClusters ?? {},
        queues: rawCatalog.queues.map((queue) => mergeDefaults(rawCatalog.defaults?.[queue.provider], queue)),
        devices: rawCatalog.devices,
        routing: rawCatalog.routing,
    };
    const problems = catalogProblems(catalog);
    if (problems.length > 0) throw new CatalogError(`${file}: ${problems[0]}`);
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
