/**
 * The Buildkite pipeline schema validator, compiled with Ajv at run time. The bundle
 * (`scripts/build-generator.ts`) replaces this module with Ajv standalone code compiled at build
 * time, so the bundled CLI neither ships Ajv's compiler nor pays for compiling the schema.
 */
import Ajv from "ajv";
import schema from "./schemas/buildkite-pipeline.schema.json";

/**
 * Ajv options shared by run-time and build-time compilation. `regex` is the only format the
 * schema uses (for input fields, which we never emit). No inlined refs and no message strings
 * keep the precompiled validator small (it is most of the bundle) and quick to start; a failure
 * still reports the path, the keyword and its parameters.
 */
export const AJV_OPTIONS = { strict: false, allErrors: false, formats: { regex: true }, inlineRefs: false, messages: false } as const;

export type PipelineValidator = ((data: unknown) => boolean) & {
    errors?: Array<{ instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }> | null;
};

/**
 * The schema we validate against: Buildkite's, except that step keys are not held to Buildkite's
 * key pattern and length here. Upstream derives keys from labels without checking them (a label
 * like `Émile` gives the key `émile`, case 22), and parity requires emitting them; the generator
 * reports such keys as warnings instead (`buildkite-keys.ts`).
 */
export function validationSchema(): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(schema)) as { definitions: Record<string, Record<string, unknown>> };
    delete copy.definitions.key.pattern;
    delete copy.definitions.key.maxLength;
    return copy;
}

export function createPipelineValidator(): PipelineValidator {
    return new Ajv(AJV_OPTIONS).compile(validationSchema()) as unknown as PipelineValidator;
}
