/**
 * Reading CloudFormation templates written in YAML with short-form intrinsic functions
 * (`!Ref`, `!Sub`, `!If`, ...). Each tag becomes its long JSON form (`{"Ref": ...}`,
 * `{"Fn::If": [...]}`), so the result is the template CloudFormation itself would see.
 */
import * as yaml from "js-yaml";

/** Short-form tags and the long form each one stands for. */
const INTRINSICS: Record<string, string> = {
    Ref: "Ref",
    Condition: "Condition",
    Base64: "Fn::Base64",
    Cidr: "Fn::Cidr",
    FindInMap: "Fn::FindInMap",
    GetAtt: "Fn::GetAtt",
    GetAZs: "Fn::GetAZs",
    ImportValue: "Fn::ImportValue",
    Join: "Fn::Join",
    Select: "Fn::Select",
    Split: "Fn::Split",
    Sub: "Fn::Sub",
    Transform: "Fn::Transform",
    And: "Fn::And",
    Equals: "Fn::Equals",
    If: "Fn::If",
    Not: "Fn::Not",
    Or: "Fn::Or",
};

const loadOnly = (): boolean => false;

/** `!GetAtt Resource.Attribute` is the scalar spelling of `["Resource", "Attribute"]`. */
function scalarArgument(name: string, source: string): unknown {
    if (name !== "GetAtt") return source;
    const dot = source.indexOf(".");
    return dot < 0 ? [source] : [source.slice(0, dot), source.slice(dot + 1)];
}

function intrinsicTags(): yaml.TagDefinition[] {
    return Object.entries(INTRINSICS).flatMap(([name, longForm]) => [
        yaml.defineScalarTag(`!${name}`, {
            resolve: (source) => ({ [longForm]: scalarArgument(name, source) }),
            identify: loadOnly,
        }),
        yaml.defineSequenceTag<unknown[], unknown>(`!${name}`, {
            create: () => [],
            addItem: (items, item) => {
                items.push(item);
            },
            finalize: (items) => ({ [longForm]: items }),
            identify: loadOnly,
        }),
        yaml.defineMappingTag<Record<string, unknown>, unknown>(`!${name}`, {
            create: () => ({}),
            addPair: (map, key, value) => {
                map[String(key)] = value;
                return "";
            },
            has: (map, key) => Object.prototype.hasOwnProperty.call(map, String(key)),
            keys: (result) => Object.keys((result as Record<string, Record<string, unknown>>)[longForm]),
            get: (result, key) => (result as Record<string, Record<string, unknown>>)[longForm][String(key)],
            finalize: (map) => ({ [longForm]: map }),
            identify: loadOnly,
        }),
    ]);
}

let schema: yaml.Schema | undefined;

/** The YAML schema of CloudFormation templates: the core schema plus the intrinsic tags. */
export function cloudFormationSchema(): yaml.Schema {
    schema ??= yaml.CORE_SCHEMA.withTags(intrinsicTags());
    return schema;
}

/** Parses a CloudFormation template written in YAML. */
export function parseCloudFormationYaml(text: string, file = "template"): Record<string, unknown> {
    const document = yaml.load(text, { schema: cloudFormationSchema(), filename: file });
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
        throw new Error(`${file}: not a CloudFormation template (expected a mapping at the top level)`);
    }
    return document as Record<string, unknown>;
}
