/**
 * The Buildkite pipeline schema validators, compiled with Ajv at run time. The bundle
 * (`scripts/build-generator.ts`) replaces this module with Ajv standalone code compiled at build
 * time, so the bundled CLI neither ships Ajv's compiler nor pays for compiling the schema.
 */
import Ajv from "ajv";
import officialSchema from "./schemas/buildkite-pipeline.schema.json";

/**
 * Ajv options shared by run-time and build-time compilation. `regex` is the only format the
 * schema uses (for input fields, which we never emit). No inlined refs and no message strings
 * keep the precompiled validator small (it is most of the bundle) and quick to start; a failure
 * still reports the path, the keyword and its parameters.
 */
export const AJV_OPTIONS = { strict: false, allErrors: false, formats: { regex: true }, inlineRefs: false, messages: false } as const;

export interface ValidationError {
    instancePath: string;
    keyword: string;
    message?: string;
    params?: Record<string, unknown>;
}

export type PipelineValidator = ((data: unknown) => boolean) & { errors?: ValidationError[] | null };

/** The whole pipeline, and one step of each kind the generator emits (to name a failing field). */
export interface PipelineValidators {
    pipeline: PipelineValidator;
    commandStep: PipelineValidator;
    blockStep: PipelineValidator;
}

/** Where each validator's schema is, once the schema is added to Ajv under the id `pipeline`. */
export const VALIDATOR_REFS: Record<keyof PipelineValidators, string> = {
    pipeline: "pipeline",
    commandStep: "pipeline#/definitions/commandStep",
    blockStep: "pipeline#/definitions/blockStep",
};

/** One deliberate difference between the schema we validate against and Buildkite's official one. */
export interface SchemaDifference {
    /** Path of the changed value inside the schema. */
    path: readonly string[];
    /** Its value in the official schema (a test checks the vendored copy still says so). */
    official: unknown;
    /** Its value here. */
    ours: unknown;
    reason: string;
}

/**
 * The overlay on the official schema (`schemas/buildkite-pipeline.schema.json`, kept
 * byte-identical to the vendored original): everything the spec says we emit must validate.
 * Keep it minimal; every entry says why.
 */
export const SCHEMA_DIFFERENCES: readonly SchemaDifference[] = [
    {
        path: ["definitions", "commandStep", "properties", "timeout_in_minutes", "minimum"],
        official: 1,
        ours: 0,
        reason:
            "spec §4.13: an amd_cpu step with `timeout_in_minutes: 0` keeps its 0 (min(0, 180)), as the reference " +
            "emits it; every other step drops a 0, so only that case reaches the output",
    },
];

function at(schema: unknown, path: readonly string[]): Record<string, unknown> {
    let node = schema as Record<string, unknown>;
    for (const part of path) node = node[part] as Record<string, unknown>;
    return node;
}

/** The schema we validate against: the official one with `SCHEMA_DIFFERENCES` applied. */
export function validationSchema(): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(officialSchema)) as Record<string, unknown>;
    for (const difference of SCHEMA_DIFFERENCES) {
        const parent = at(copy, difference.path.slice(0, -1));
        const name = difference.path[difference.path.length - 1];
        if (parent[name] !== difference.official) throw new Error(`schema overlay: ${difference.path.join(".")} is not ${difference.official}`);
        parent[name] = difference.ours;
    }
    return copy;
}

/** An Ajv instance holding the validation schema under the id `pipeline`. */
export function pipelineAjv(options: Record<string, unknown> = {}): Ajv {
    const ajv = new Ajv({ ...AJV_OPTIONS, ...options });
    ajv.addSchema(validationSchema(), "pipeline");
    return ajv;
}

export function createPipelineValidators(): PipelineValidators {
    const ajv = pipelineAjv();
    const get = (ref: string) => ajv.getSchema(ref) as unknown as PipelineValidator;
    return { pipeline: get(VALIDATOR_REFS.pipeline), commandStep: get(VALIDATOR_REFS.commandStep), blockStep: get(VALIDATOR_REFS.blockStep) };
}
