/**
 * Writing the pipeline: schema validation, YAML serialisation and an atomic write.
 *
 * The YAML emitter is our own, small and fast (the output of a vLLM build is ~0.8 MB and the
 * generator is on the critical path of every build). It writes block style like PyYAML
 * (`sort_keys=False`, sequences not indented under their key), never anchors or aliases, never
 * folds lines, and quotes every string that is not unambiguously a plain string in both YAML 1.1
 * and 1.2, using JSON's double-quoted form (valid YAML), so parsing gives back exactly the object.
 */
import { AtomicWriteError, checkWritable, writeFileAtomic as writeAtomic, type AtomicContent } from "../lib/atomic-write";
import { GeneratorError, type Location } from "./errors";
import { createPipelineValidators, type PipelineValidators, type ValidationError } from "./schema-validator";

/** Words that YAML 1.1 or 1.2 read as booleans or null when plain. */
const RESERVED_WORDS = new Set(["y", "n", "yes", "no", "true", "false", "on", "off", "null"]);
/** Plain-safe: starts with a letter, `_`, `/`, `(` or `$`; only printable ASCII after that. */
const PLAIN_SAFE = /^[A-Za-z_/($][\x20-\x7e]*$/;

function isPlainSafe(text: string): boolean {
    if (!PLAIN_SAFE.test(text)) return false;
    const last = text.charCodeAt(text.length - 1);
    if (last === 32 /* space */ || last === 58 /* ":" */) return false;
    if (text.includes(": ") || text.includes(" #")) return false;
    return text.length > 5 || !RESERVED_WORDS.has(text.toLowerCase());
}

function scalar(value: unknown): string {
    if (typeof value === "string") return isPlainSafe(value) ? value : JSON.stringify(value);
    if (typeof value === "number") {
        if (Number.isNaN(value)) return ".nan";
        if (!Number.isFinite(value)) return value > 0 ? ".inf" : "-.inf";
        return String(value);
    }
    if (typeof value === "boolean") return value ? "true" : "false";
    if (value === null || value === undefined) return "null";
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    throw new Error(`cannot serialise ${typeof value}`);
}

function isCollection(value: unknown): value is Record<string, unknown> | unknown[] {
    if (typeof value !== "object" || value === null) return false;
    if (Array.isArray(value)) return value.length > 0;
    if (value instanceof Date) return false;
    for (const _ in value) return true;
    return false;
}

function inline(value: unknown): string {
    if (Array.isArray(value)) return "[]";
    if (typeof value === "object" && value !== null && !(value instanceof Date)) return "{}";
    return scalar(value);
}

/** Rendered mapping keys: the same few dozen keys repeat thousands of times. */
const renderedKeys = new Map<string, string>();

function renderKey(key: string): string {
    let rendered = renderedKeys.get(key);
    if (rendered === undefined) {
        rendered = scalar(key) + ":";
        renderedKeys.set(key, rendered);
    }
    return rendered;
}

/** Output is handed over in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/**
 * Appends to a string and hands it to `sink` every ~64 KiB. Small chunks die young, so the
 * garbage collector never has to copy a growing rope of a megabyte of output pieces again and again.
 */
class Emitter {
    private out = "";
    constructor(private readonly sink: (chunk: string) => void) {}

    private flushIfFull(): void {
        if (this.out.length >= CHUNK) {
            this.sink(this.out);
            this.out = "";
        }
    }

    finish(): void {
        if (this.out.length > 0) this.sink(this.out);
        this.out = "";
    }

    mapping(map: Record<string, unknown>, indent: string, continuesLine: boolean): void {
        let first = true;
        for (const key in map) {
            const value = map[key];
            if (value === undefined) continue;
            if (!(first && continuesLine)) this.out += indent;
            first = false;
            if (!isCollection(value)) {
                this.out += renderKey(key) + " " + inline(value) + "\n";
                this.flushIfFull();
            } else if (Array.isArray(value)) {
                this.out += renderKey(key) + "\n";
                this.sequence(value, indent);
            } else {
                this.out += renderKey(key) + "\n";
                this.mapping(value, indent + "  ", false);
            }
        }
    }

    sequence(items: unknown[], indent: string): void {
        for (const item of items) {
            if (!isCollection(item)) {
                this.out += indent + "- " + inline(item === undefined ? null : item) + "\n";
                this.flushIfFull();
            } else if (Array.isArray(item)) {
                this.out += indent + "-\n";
                this.sequence(item, indent + "  ");
            } else {
                this.out += indent + "- ";
                this.mapping(item, indent + "  ", true);
            }
        }
    }
}

/** Serialise a mapping as block YAML, chunk by chunk. */
export function emitYaml(document: Record<string, unknown>, sink: (chunk: string) => void): void {
    const emitter = new Emitter(sink);
    emitter.mapping(document, "", false);
    emitter.finish();
}

/** Serialise a pipeline (or any JSON-like mapping) as block YAML. */
export function toYaml(document: Record<string, unknown>): string {
    const chunks: string[] = [];
    emitYaml(document, (chunk) => chunks.push(chunk));
    return chunks.join("");
}

let validators: PipelineValidators | undefined;

/** Where a step of the output comes from (file, label, key), for messages. */
export type StepLocator = (step: Record<string, unknown>) => Location;

function describeValue(value: unknown): string {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, pointer: string): unknown {
    let node = root;
    for (const part of pointer.split("/").slice(1)) {
        node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return node;
}

/** `/retry/automatic/0` as a field name: `retry.automatic[0]`. */
function fieldName(pointer: string): string {
    return pointer
        .split("/")
        .slice(1)
        .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
        .join("");
}

/**
 * The most specific schema error (deepest path; a branch of an `anyOf` rather than the `anyOf`)
 * as a field and a plain sentence.
 */
function explainError(errors: ValidationError[], data: unknown): { field: string; problem: string } {
    const error = [...errors].sort((a, b) => b.instancePath.split("/").length - a.instancePath.split("/").length || Number(a.keyword === "anyOf") - Number(b.keyword === "anyOf"))[0];
    const params = error.params ?? {};
    let pointer = error.instancePath;
    const value = valueAt(data, pointer);
    let problem: string;
    switch (error.keyword) {
        case "additionalProperties":
            pointer += `/${params.additionalProperty}`;
            problem = "is not a field Buildkite knows here";
            break;
        case "required":
            pointer += `/${params.missingProperty}`;
            problem = "is missing";
            break;
        case "type":
            problem = `must be of type ${params.type}, not ${describeValue(value)}`;
            break;
        case "minimum":
        case "maximum":
        case "exclusiveMinimum":
        case "exclusiveMaximum":
            problem = `must be ${params.comparison} ${params.limit}, not ${describeValue(value)}`;
            break;
        case "enum":
            problem = `must be one of ${describeValue(params.allowedValues)}, not ${describeValue(value)}`;
            break;
        case "pattern":
            problem = `${describeValue(value)} does not match ${params.pattern}`;
            break;
        case "minItems":
            problem = "must not be empty";
            break;
        case "maxLength":
            problem = `is longer than ${params.limit} characters`;
            break;
        case "anyOf":
        case "oneOf":
            problem = `${describeValue(value)} is none of the forms Buildkite accepts here`;
            break;
        default:
            problem = `${describeValue(value)} fails the schema rule "${error.keyword}" ${describeValue(params)}`;
    }
    return { field: fieldName(pointer) || "(the step)", problem };
}

/**
 * Validate against the Buildkite pipeline schema (with our documented overlay). A failure is a
 * generator or input problem; it is reported as the step's file, label and key and the field,
 * found by validating each step on its own against the schema of its kind.
 */
export function validatePipeline(pipeline: unknown, locate: StepLocator = () => ({})): void {
    validators ??= createPipelineValidators();
    if (validators.pipeline(pipeline)) return;
    const fail = (location: Location, field: string, problem: string): never => {
        throw new GeneratorError({ ...location, field }, `the generated pipeline does not match the Buildkite pipeline schema: ${problem}`);
    };
    const groups = (pipeline as { steps?: unknown })?.steps;
    if (!Array.isArray(groups)) fail({}, "steps", "must be a list");
    for (const [index, group] of (groups as unknown[]).entries()) {
        const where: Location = { step: `group #${index + 1}` };
        if (typeof group !== "object" || group === null || Array.isArray(group)) fail(where, "group", "must be a mapping");
        const { group: name, steps, ...rest } = group as Record<string, unknown>;
        const named: Location = typeof name === "string" ? { step: `group ${name}` } : where;
        if (typeof name !== "string") fail(named, "group", `must be a string, not ${describeValue(name)}`);
        if (!Array.isArray(steps) || steps.length === 0) fail(named, "steps", "must be a non-empty list");
        const extra = Object.keys(rest)[0];
        if (extra !== undefined) fail(named, extra, "is not a field of a group we emit");
        for (const step of steps as unknown[]) {
            if (typeof step !== "object" || step === null || Array.isArray(step)) fail(named, "steps", `has an item that is not a mapping: ${describeValue(step)}`);
            const record = step as Record<string, unknown>;
            const validate = "block" in record ? validators.blockStep : validators.commandStep;
            if (!validate(record)) {
                const { field, problem } = explainError(validate.errors ?? [], record);
                fail(locate(record), field, problem);
            }
        }
    }
    const { field, problem } = explainError(validators.pipeline.errors ?? [], pipeline);
    fail({}, field, problem);
}

/** Check, without writing, that `file` can be written: its directories exist or can be made, and it is not a directory. */
export function checkOutputPath(file: string, shownAs: string = file): void {
    asGeneratorError(shownAs, () => checkWritable(file));
}

/**
 * Write a file atomically (lib/atomic-write.ts: a temporary file, then a rename; missing
 * directories made and removed again on failure). Any failure is a one-line GeneratorError
 * naming the path.
 */
export function writeFileAtomic(file: string, content: AtomicContent): void {
    asGeneratorError(file, () => writeAtomic(file, content));
}

function asGeneratorError(shownAs: string, act: () => void): void {
    try {
        act();
    } catch (error) {
        if (error instanceof AtomicWriteError) throw new GeneratorError({ field: "--output_file_path" }, `cannot write ${shownAs}: ${error.message}`);
        throw error;
    }
}

/** Write a pipeline as YAML, atomically. */
export function writeYamlAtomic(file: string, document: Record<string, unknown>): void {
    writeFileAtomic(file, (write) => emitYaml(document, write));
}
