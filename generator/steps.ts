/**
 * Step definitions: reading a job file (spec §2.5) into validated step models (§2.6).
 *
 * Field types follow the reference's pydantic model in lax mode (`"2"` is the integer 2, `"yes"`
 * is true, an unquoted number in `env` is an error). Unknown fields are accepted, as upstream
 * accepts them (old definitions still carry legacy keys), but each one is reported as a warning
 * with a "did you mean" suggestion; `--strict` makes them errors.
 */
import { didYouMean } from "../lib/suggest";
import { GeneratorError, type Location, type WarningSink } from "./errors";
import type { GeneratorSettings } from "./settings";
import { isPlainObject } from "../lib/values";

/** `mirror.amd` of a step: an extra copy of the step on AMD hardware (§4.16). */
export interface AmdMirror {
    device: string | null;
    label: string | null;
    commands: string[] | null;
    workingDir: string | null;
    env: Record<string, string> | null;
    dependsOn: string[] | null;
    sourceFileDependencies: string[] | null;
    softFail: boolean | null;
    timeoutInMinutes: number | null;
    concurrency: number | null;
    concurrencyGroup: string | null;
    noPlugin: boolean | null;
    noGpu: boolean | null;
    numDevices: number | null;
    numGpus: number | null;
    dind: boolean | null;
    numNodes: number | null;
    optional: boolean | null;
    agentTags: Record<string, string> | null;
}

export interface Step {
    /** Job file, relative to the working directory (`jobs/tests.yaml`). */
    file: string;
    /** Position of the step in its file (0-based). */
    index: number;
    label: string;
    /** After the file-level override; an empty group is `ungrouped` in the output. */
    group: string;
    /** The explicit `key`, or null. */
    key: string | null;
    dependsOn: string[] | null;
    commands: string[] | null;
    workingDir: string | null;
    device: string | null;
    agentTags: Record<string, string> | null;
    numDevices: number | null;
    numNodes: number | null;
    sourceFileDependencies: string[] | null;
    /** null when the YAML says `null`: the field is then left out of the output. */
    softFail: boolean | null;
    parallelism: number | null;
    concurrency: number | null;
    concurrencyGroup: string | null;
    timeoutInMinutes: number | null;
    mountBuildkiteAgent: boolean;
    env: Record<string, string> | null;
    retry: Record<string, unknown> | null;
    optional: boolean;
    noPlugin: boolean;
    noGpu: boolean;
    dind: boolean;
    amdMirror: AmdMirror | null;
}

/** Fields a step may have. */
export const STEP_FIELDS = [
    "label",
    "group",
    "key",
    "depends_on",
    "commands",
    "working_dir",
    "device",
    "agent_tags",
    "num_devices",
    "num_nodes",
    "source_file_dependencies",
    "soft_fail",
    "parallelism",
    "concurrency",
    "concurrency_group",
    "timeout_in_minutes",
    "mount_buildkite_agent",
    "env",
    "retry",
    "optional",
    "no_plugin",
    "no_gpu",
    "dind",
    "mirror",
] as const;

/** Fields of `mirror.amd`. */
export const AMD_MIRROR_FIELDS = [
    "device",
    "label",
    "commands",
    "working_dir",
    "env",
    "depends_on",
    "source_file_dependencies",
    "soft_fail",
    "timeout_in_minutes",
    "concurrency",
    "concurrency_group",
    "no_plugin",
    "no_gpu",
    "num_devices",
    "num_gpus",
    "dind",
    "num_nodes",
    "optional",
    "agent_tags",
] as const;

const FILE_FIELDS = ["steps", "group", "depends_on"];
const STEP_FIELD_SET = new Set<string>(STEP_FIELDS);
const MIRROR_FIELD_SET = new Set<string>(AMD_MIRROR_FIELDS);

/** The step's key: the explicit one, else derived from the label (§4.2). */
export function stepKey(step: { key: string | null; label: string }): string {
    return step.key || deriveKey(step.label);
}

/**
 * The key upstream derives from a label, in this exact order: spaces to `-`, lowercase, drop
 * `(`, `)`, `%`, then `,` `+` `:` `.` `/` to `-`. No collapsing, no trimming.
 */
export function deriveKey(label: string): string {
    return label
        .replace(/ /g, "-")
        .toLowerCase()
        .replace(/[()%]/g, "")
        .replace(/[,+:./]/g, "-");
}


/** Field readers: pydantic lax-mode coercions, throwing a located error otherwise. */
class FieldReader {
    constructor(
        private readonly raw: Record<string, unknown>,
        private readonly location: Location,
        private readonly prefix = "",
    ) {}

    private fail(field: string, reason: string): never {
        throw new GeneratorError({ ...this.location, field: this.prefix + field }, reason);
    }

    has(field: string): boolean {
        return Object.prototype.hasOwnProperty.call(this.raw, field);
    }

    string(field: string): string | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (typeof value !== "string") this.fail(field, `must be a string, not ${describeValue(value)}`);
        return value;
    }

    stringList(field: string): string[] | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (!Array.isArray(value)) this.fail(field, `must be a list of strings, not ${describeValue(value)}`);
        value.forEach((item, index) => {
            if (typeof item !== "string") this.fail(`${field}[${index}]`, `must be a string, not ${describeValue(item)}`);
        });
        return [...value];
    }

    stringMap(field: string): Record<string, string> | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (!isPlainObject(value)) this.fail(field, `must be a mapping of strings, not ${describeValue(value)}`);
        for (const [key, item] of Object.entries(value)) {
            if (typeof item !== "string") {
                this.fail(`${field}.${key}`, `must be a string (quote it), not ${describeValue(item)}`);
            }
        }
        return { ...(value as Record<string, string>) };
    }

    /** Lax int: integers, integral floats, numeric strings and booleans. */
    int(field: string): number | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (typeof value === "boolean") return value ? 1 : 0;
        if (typeof value === "number") {
            if (!Number.isInteger(value)) this.fail(field, `must be an integer, not ${value}`);
            return value;
        }
        if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
        return this.fail(field, `must be an integer, not ${describeValue(value)}`);
    }

    /** Strict positive int (`concurrency`): no strings, no booleans. */
    positiveInt(field: string): number | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (typeof value !== "number" || !Number.isInteger(value)) {
            this.fail(field, `must be an integer, not ${describeValue(value)}`);
        }
        if (value <= 0) this.fail(field, `must be greater than 0, not ${value}`);
        return value;
    }

    /** Lax bool: booleans, 0/1 and the usual words (`yes`, `on`, `true`, `1`, …). */
    bool(field: string): boolean | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (typeof value === "boolean") return value;
        if (value === 0 || value === 1) return value === 1;
        if (typeof value === "string") {
            const word = value.trim().toLowerCase();
            if (["1", "on", "t", "true", "y", "yes"].includes(word)) return true;
            if (["0", "off", "f", "false", "n", "no"].includes(word)) return false;
        }
        return this.fail(field, `must be a boolean, not ${describeValue(value)}`);
    }

    mapping(field: string): Record<string, unknown> | null {
        const value = this.raw[field];
        if (value === undefined || value === null) return null;
        if (!isPlainObject(value)) this.fail(field, `must be a mapping, not ${describeValue(value)}`);
        return value;
    }
}

function describeValue(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    if (value instanceof Date) return `the date ${value.toISOString().slice(0, 10)} (quote it)`;
    if (typeof value === "object") return "a mapping";
    if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
    return `${typeof value} ${String(value)}`;
}

/** How a step is named in messages: its label, else its key, else its position. */
function stepName(raw: Record<string, unknown>, index: number): string {
    if (typeof raw.label === "string") return raw.label;
    if (typeof raw.key === "string") return raw.key;
    return `#${index + 1}`;
}

function warnUnknownFields(
    raw: Record<string, unknown>,
    known: Set<string>,
    location: Location,
    prefix: string,
    sink: WarningSink,
): void {
    for (const field of Object.keys(raw)) {
        if (!known.has(field)) {
            sink.warn(
                { ...location, field: prefix + field },
                `unknown field "${prefix}${field}"${didYouMean(field, known)}; it is ignored`,
            );
        }
    }
}

function parseAmdMirror(raw: unknown, location: Location, sink: WarningSink): AmdMirror {
    if (!isPlainObject(raw)) {
        throw new GeneratorError({ ...location, field: "mirror.amd" }, `must be a mapping, not ${describeValue(raw)}`);
    }
    warnUnknownFields(raw, MIRROR_FIELD_SET, location, "mirror.amd.", sink);
    const read = new FieldReader(raw, location, "mirror.amd.");
    const mirror: AmdMirror = {
        device: read.string("device"),
        label: read.string("label"),
        commands: read.stringList("commands"),
        workingDir: read.string("working_dir"),
        env: read.stringMap("env"),
        dependsOn: read.stringList("depends_on"),
        sourceFileDependencies: read.stringList("source_file_dependencies"),
        softFail: read.bool("soft_fail"),
        timeoutInMinutes: read.int("timeout_in_minutes"),
        concurrency: read.positiveInt("concurrency"),
        concurrencyGroup: read.string("concurrency_group"),
        noPlugin: read.bool("no_plugin"),
        noGpu: read.bool("no_gpu"),
        numDevices: read.int("num_devices"),
        numGpus: read.int("num_gpus"),
        dind: read.bool("dind"),
        numNodes: read.int("num_nodes"),
        optional: read.bool("optional"),
        agentTags: read.stringMap("agent_tags"),
    };
    return mirror;
}

/** Validate one raw step mapping into a Step (before file-level rules are applied). */
export function parseStep(raw: unknown, file: string, index: number, sink: WarningSink): Step {
    if (!isPlainObject(raw)) {
        throw new GeneratorError({ file, step: `#${index + 1}` }, `a step must be a mapping, not ${describeValue(raw)}`);
    }
    const location: Location = { file, step: stepName(raw, index) };
    warnUnknownFields(raw, STEP_FIELD_SET, location, "", sink);
    const read = new FieldReader(raw, location);
    const fail = (field: string, reason: string): never => {
        throw new GeneratorError({ ...location, field }, reason);
    };

    if (!read.has("label") || raw.label === null) fail("label", "missing (every step needs a label)");
    const label = read.string("label") as string;
    if (read.has("group") && raw.group === null) fail("group", "must be a string, not null");
    if (read.has("dind") && raw.dind === null) fail("dind", "must be a boolean, not null");

    const numDevices = read.int("num_devices");
    const numNodes = read.int("num_nodes");
    if (numNodes && !numDevices) fail("num_nodes", "num_nodes requires num_devices (the devices per node)");

    const concurrency = read.positiveInt("concurrency");
    const concurrencyGroup = read.string("concurrency_group");
    if (concurrency !== null && concurrencyGroup === null) {
        fail("concurrency", "concurrency requires concurrency_group");
    }
    if (concurrencyGroup !== null && concurrency === null) {
        fail("concurrency_group", "concurrency_group requires concurrency");
    }
    if (concurrencyGroup !== null && concurrencyGroup.trim() === "") fail("concurrency_group", "must not be blank");

    let amdMirror: AmdMirror | null = null;
    const mirror = read.mapping("mirror");
    if (mirror) {
        for (const [hardware, spec] of Object.entries(mirror)) {
            if (hardware === "amd") {
                if (spec !== null && spec !== undefined) amdMirror = parseAmdMirror(spec, location, sink);
            } else {
                if (!isPlainObject(spec)) fail(`mirror.${hardware}`, `must be a mapping, not ${describeValue(spec)}`);
                sink.warn({ ...location, field: `mirror.${hardware}` }, `mirror "${hardware}" is not supported (only amd); it is ignored`);
            }
        }
    }

    return {
        file,
        index,
        label,
        group: read.string("group") ?? "",
        key: read.string("key"),
        dependsOn: read.stringList("depends_on"),
        commands: read.stringList("commands"),
        workingDir: read.string("working_dir"),
        device: read.string("device"),
        agentTags: read.stringMap("agent_tags"),
        numDevices,
        numNodes,
        sourceFileDependencies: read.stringList("source_file_dependencies"),
        softFail: read.has("soft_fail") ? read.bool("soft_fail") : false,
        parallelism: read.int("parallelism"),
        concurrency,
        concurrencyGroup,
        timeoutInMinutes: read.int("timeout_in_minutes"),
        mountBuildkiteAgent: read.bool("mount_buildkite_agent") ?? false,
        env: read.stringMap("env"),
        retry: read.mapping("retry"),
        optional: read.bool("optional") ?? false,
        noPlugin: read.bool("no_plugin") ?? false,
        noGpu: read.bool("no_gpu") ?? false,
        dind: read.bool("dind") ?? true,
        amdMirror,
    };
}

/**
 * Read the steps of one parsed job file and apply the file-level rules (§2.5): a truthy file
 * `group` overwrites every step's group; a truthy file `depends_on` fills empty step
 * `depends_on`, defaults `working_dir` (vLLM repository only) and adds the job file itself to
 * `source_file_dependencies`, so that editing the file selects its steps.
 */
export function parseJobFile(
    document: unknown,
    file: string,
    githubRepoName: string,
    settings: GeneratorSettings,
    sink: WarningSink,
): Step[] {
    if (document === undefined || document === null) {
        throw new GeneratorError({ file }, "the job file is empty (it needs a `steps:` list)");
    }
    if (!isPlainObject(document)) {
        throw new GeneratorError({ file }, `a job file must be a mapping with \`steps:\`, not ${describeValue(document)}`);
    }
    for (const field of Object.keys(document)) {
        if (!FILE_FIELDS.includes(field)) {
            sink.warn({ file, field }, `unknown top-level field "${field}"${didYouMean(field, FILE_FIELDS)}; it is ignored`);
        }
    }
    const read = new FieldReader(document, { file });
    const fileGroup = read.string("group");
    const fileDependsOn = read.stringList("depends_on");
    const rawSteps = document.steps;
    if (rawSteps !== undefined && rawSteps !== null && !Array.isArray(rawSteps)) {
        throw new GeneratorError({ file, field: "steps" }, `must be a list of steps, not ${describeValue(rawSteps)}`);
    }
    const steps = ((rawSteps as unknown[] | null | undefined) ?? []).map((raw, index) => parseStep(raw, file, index, sink));
    for (const step of steps) {
        if (fileGroup) step.group = fileGroup;
        if (fileDependsOn && fileDependsOn.length > 0) {
            if (!step.dependsOn || step.dependsOn.length === 0) step.dependsOn = [...fileDependsOn];
            if (!step.workingDir && githubRepoName === settings.fileDependsOnWorkingDir.repo) {
                step.workingDir = settings.fileDependsOnWorkingDir.workingDir;
            }
            step.sourceFileDependencies = [...(step.sourceFileDependencies ?? []), file];
        }
    }
    return steps;
}
