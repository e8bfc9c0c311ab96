/**
 * Writing the pipeline: schema validation, YAML serialisation and an atomic write.
 *
 * The YAML emitter is our own, small and fast (the output of a vLLM build is ~0.8 MB and the
 * generator is on the critical path of every build). It writes block style like PyYAML
 * (`sort_keys=False`, sequences not indented under their key), never anchors or aliases, never
 * folds lines, and quotes every string that is not unambiguously a plain string in both YAML 1.1
 * and 1.2, using JSON's double-quoted form (valid YAML), so parsing gives back exactly the object.
 */
import * as fs from "fs";
import * as path from "path";
import { GeneratorError } from "./errors";
import { createPipelineValidator, type PipelineValidator } from "./schema-validator";

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

let validator: PipelineValidator | undefined;

/** Validate against the Buildkite pipeline schema; a failure is a bug in the generator or the settings. */
export function validatePipeline(pipeline: unknown): void {
    validator ??= createPipelineValidator();
    if (!validator(pipeline)) {
        const error = validator.errors?.[0];
        const where = error?.instancePath || "/";
        throw new GeneratorError(
            { field: where },
            `the generated pipeline does not match the Buildkite pipeline schema: ${error?.message ?? `fails "${error?.keyword ?? "?"}"`}` +
                (error?.params ? ` ${JSON.stringify(error.params)}` : ""),
        );
    }
}

/**
 * Write a file atomically: a temporary file in the same directory, then a rename, so a reader
 * (or a crash) never sees half a pipeline. The directory is created if needed. `content` is a
 * string or a writer that receives chunks.
 */
export function writeFileAtomic(file: string, content: string | ((write: (chunk: string) => void) => void)): void {
    const directory = path.dirname(file);
    fs.mkdirSync(directory, { recursive: true });
    const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    let fd: number | undefined;
    try {
        fd = fs.openSync(temporary, "w");
        const descriptor = fd;
        if (typeof content === "string") fs.writeSync(descriptor, content);
        else content((chunk) => fs.writeSync(descriptor, chunk));
        fs.closeSync(descriptor);
        fd = undefined;
        fs.renameSync(temporary, file);
    } catch (error) {
        if (fd !== undefined) fs.closeSync(fd);
        fs.rmSync(temporary, { force: true });
        throw error;
    }
}

/** Write a pipeline as YAML, atomically. */
export function writeYamlAtomic(file: string, document: Record<string, unknown>): void {
    writeFileAtomic(file, (write) => emitYaml(document, write));
}
