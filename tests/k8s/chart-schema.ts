/**
 * Validates agent-stack-k8s Helm values the way the chart would see them: our values merged over
 * the chart's values.yaml (Helm's coalescing), checked against the chart's values.schema.json,
 * plus the controller's own rule (since 0.37) that `config` has no unknown keys.
 *
 * The schema is the pinned upstream file, unmodified. Two things stand in for what only exists in
 * the packaged chart or online:
 * - `image`: the git copy of values.yaml has none; packaging fills in the controller image
 *   (SOURCE.md), so the base values get it here, as the published chart has it.
 * - the schema's `$ref`s to kubernetes-json-schema definitions (online): each referenced
 *   definition is registered as "an object", the one thing every Kubernetes type here is.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import * as yaml from "js-yaml";
import { isPlainObject } from "../../lib/values";
import { sharedFixture } from "../support/fixtures";

export const SHARED_SCHEMAS = sharedFixture("schemas");
export const CHART_VERSION = "0.47.0";
/** The controller image the published 0.47.0 chart's values.yaml carries (SOURCE.md). */
export const PACKAGED_IMAGE = `ghcr.io/buildkite/agent-stack-k8s/controller:${CHART_VERSION}`;

type Json = Record<string, unknown>;

const isMap = (value: unknown): value is Json => isPlainObject(value);

/** Helm's coalescing of user values over chart values: maps merge, lists and scalars replace, null deletes. */
export function helmMerge(base: Json, override: Json): Json {
    const result: Json = { ...base };
    for (const [key, value] of Object.entries(override)) {
        if (value === null) delete result[key];
        else if (isMap(value) && isMap(result[key])) result[key] = helmMerge(result[key] as Json, value);
        else result[key] = value;
    }
    return result;
}

function collectRefs(node: unknown, refs: Set<string>): void {
    if (Array.isArray(node)) node.forEach((item) => collectRefs(item, refs));
    else if (isMap(node)) {
        for (const [key, value] of Object.entries(node)) {
            if (key === "$ref" && typeof value === "string" && value.startsWith("http")) refs.add(value);
            else collectRefs(value, refs);
        }
    }
}

export interface ChartSchema {
    /** Chart values.yaml as packaged (with the controller image). */
    baseValues: Json;
    /** Problems of `values` merged over the base values; empty when Helm would accept them. */
    problems(values: Json): string[];
}

export function loadChartSchema(dir = SHARED_SCHEMAS): ChartSchema {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, `agent-stack-k8s-${CHART_VERSION}.values.schema.json`), "utf8")) as Json;
    const gitValues = (yaml.load(fs.readFileSync(path.join(dir, `agent-stack-k8s-${CHART_VERSION}.values.yaml`), "utf8")) ?? {}) as Json;
    const baseValues = helmMerge(gitValues, { image: PACKAGED_IMAGE });

    // `example` (singular) is an annotation some properties carry; declare it so strict mode holds.
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    ajv.addVocabulary(["example"]);
    const refs = new Set<string>();
    collectRefs(schema, refs);
    const byDocument = new Map<string, string[]>();
    for (const ref of refs) {
        const [document, pointer] = ref.split("#");
        byDocument.set(document, [...(byDocument.get(document) ?? []), pointer]);
    }
    for (const [document, pointers] of byDocument) {
        const definitions: Json = {};
        for (const pointer of pointers) definitions[pointer.split("/").pop()!] = { type: "object" };
        ajv.addSchema({ $id: document, definitions });
    }
    const validate = ajv.compile(schema);
    const configKeys = new Set(Object.keys(((schema.properties as Json).config as Json).properties as Json));

    return {
        baseValues,
        problems(values: Json): string[] {
            const merged = helmMerge(baseValues, values);
            const problems: string[] = [];
            if (!validate(merged)) {
                for (const error of validate.errors ?? []) problems.push(`${error.instancePath || "/"} ${error.message}`);
            }
            for (const key of Object.keys((merged.config as Json | undefined) ?? {})) {
                if (!configKeys.has(key)) problems.push(`/config/${key} is not a config key of the controller`);
            }
            return problems;
        },
    };
}
