/**
 * YAML reading with the semantics of the reference (PyYAML `safe_load`, YAML 1.1): `yes`/`on`
 * are booleans, `0755` is octal, `1:30` is sexagesimal. js-yaml's YAML 1.1 schema also reads
 * `y`/`n` as booleans, which PyYAML does not, so the boolean tag is replaced by PyYAML's.
 */
import { NOT_RESOLVED, YAML11_SCHEMA, defineScalarTag, load, type Schema } from "js-yaml";
import { GeneratorError } from "./errors";
import { parseFastYaml, setOtherScalarResolver } from "./fast-yaml";

const PYYAML_TRUE = new Set(["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const PYYAML_FALSE = new Set(["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);

const pyyamlBool = defineScalarTag<boolean>("tag:yaml.org,2002:bool", {
    implicit: true,
    implicitFirstChars: ["y", "Y", "t", "T", "o", "O", "n", "N", "f", "F"],
    resolve: (source) => (PYYAML_TRUE.has(source) ? true : PYYAML_FALSE.has(source) ? false : NOT_RESOLVED),
    identify: (data) => typeof data === "boolean",
    represent: (data) => (data ? "true" : "false"),
});

/** PyYAML-compatible YAML 1.1 schema. */
export const PYYAML_SCHEMA: Schema = YAML11_SCHEMA.withTags(pyyamlBool);

// The fast reader asks js-yaml about number-like scalars it does not read itself (`1_000`, `2+`, `0x1f`...).
setOtherScalarResolver((text) => load(text, { schema: PYYAML_SCHEMA }));

/** Set to false by the benchmark's second bundle (`npm run bench:generator`), to measure the generator without the fast reader. */
declare const __GENERATOR_FAST_YAML__: boolean | undefined;
const FAST_READER = typeof __GENERATOR_FAST_YAML__ === "undefined" || __GENERATOR_FAST_YAML__;

/**
 * Parse one YAML document: the fast reader for the usual subset, js-yaml for everything else. A syntax error (or a duplicated mapping key, which PyYAML would
 * silently resolve to the last value) becomes a one-line GeneratorError naming the file and line.
 * An empty document is `undefined`.
 */
export function parseYaml(text: string, file: string): unknown {
    const fast = FAST_READER ? parseFastYaml(text) : undefined;
    if (fast) return fast.value;
    return parseYamlWithJsYaml(text, file);
}

/** The general parser (js-yaml with the PyYAML schema). */
export function parseYamlWithJsYaml(text: string, file: string): unknown {
    try {
        return load(text, { schema: PYYAML_SCHEMA, filename: file });
    } catch (error) {
        const e = error as { reason?: string; mark?: { line: number; column: number }; message?: string };
        // PyYAML's safe_load returns None for a stream with no document (empty or only comments).
        if (e.reason !== undefined && e.reason.startsWith("expected a document, but the input is empty")) return undefined;
        const where = e.mark ? ` (line ${e.mark.line + 1}, column ${e.mark.column + 1})` : "";
        const reason = e.reason ?? String(e.message ?? error).split("\n")[0];
        throw new GeneratorError({ file }, `YAML error: ${reason}${where}`);
    }
}
