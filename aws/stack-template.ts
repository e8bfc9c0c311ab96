/**
 * What an Elastic CI Stack template accepts: its parameters' constraints and its outputs, and the
 * check of a queue's parameters against them.
 *
 * The program checks against rules extracted from the published templates and kept next to this
 * file (`templates/elastic-ci-stack-v<version>.json`, written by `templates/extract.ts`), so a
 * wrong value fails `pulumi preview` with one line instead of a CloudFormation rollback. The tests
 * extract the same rules from the real templates and prove the kept copies equal them.
 */
import * as fs from "fs";
import * as path from "path";
import { didYouMean } from "../lib/suggest";
import { autoScalingGroupReplacingParameters } from "./template-replacements";

/** The constraints CloudFormation enforces on one parameter value. */
export interface ParameterRule {
    /** `String`, `Number`, `CommaDelimitedList`, ... */
    Type: string;
    /** The value must be one of these (compared as strings, as CloudFormation does). */
    AllowedValues?: string[];
    /** The whole value must match this regular expression. */
    AllowedPattern?: string;
    MinValue?: number;
    MaxValue?: number;
    MinLength?: number;
    MaxLength?: number;
}

/** The parts of one template version that the program relies on. */
export interface StackTemplateRules {
    /** Elastic CI Stack release, e.g. `6.21.0`. */
    version: string;
    parameters: Record<string, ParameterRule>;
    /** Names of the stack outputs the template declares. */
    outputs: string[];
    /**
     * Parameters whose change replaces the agents' autoscaling group (cancelling running jobs),
     * each with where it reaches the group (see `template-replacements.ts`).
     */
    replacesAutoScalingGroup: Record<string, string>;
}

const RULE_KEYS = ["AllowedValues", "AllowedPattern", "MinValue", "MaxValue", "MinLength", "MaxLength"] as const;

/** The rules of a parsed template (see `parseCloudFormationYaml`). */
export function extractTemplateRules(version: string, template: Record<string, unknown>): StackTemplateRules {
    const parameters: Record<string, ParameterRule> = {};
    const declared = (template.Parameters ?? {}) as Record<string, Record<string, unknown>>;
    for (const name of Object.keys(declared).sort()) {
        const source = declared[name];
        const rule: ParameterRule = { Type: String(source.Type) };
        for (const key of RULE_KEYS) {
            const value = source[key];
            if (value === undefined) continue;
            if (key === "AllowedValues") rule.AllowedValues = (value as unknown[]).map(String);
            else if (key === "AllowedPattern") rule.AllowedPattern = String(value);
            else rule[key] = Number(value);
        }
        parameters[name] = rule;
    }
    return {
        version,
        parameters,
        outputs: Object.keys((template.Outputs ?? {}) as object).sort(),
        replacesAutoScalingGroup: autoScalingGroupReplacingParameters(template),
    };
}

/** Why `value` breaks `rule`, or undefined when it does not. */
export function ruleViolation(rule: ParameterRule, value: string): string | undefined {
    const shown = JSON.stringify(value);
    if (rule.AllowedValues && !rule.AllowedValues.includes(value)) {
        return `${shown} is not one of the allowed values ${rule.AllowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    if (rule.AllowedPattern !== undefined && !new RegExp(`^(?:${rule.AllowedPattern})$`).test(value)) {
        return `${shown} does not match the allowed pattern ${rule.AllowedPattern}`;
    }
    if (rule.MinLength !== undefined && value.length < rule.MinLength) return `${shown} is shorter than ${rule.MinLength} characters`;
    if (rule.MaxLength !== undefined && value.length > rule.MaxLength) return `${shown} is longer than ${rule.MaxLength} characters`;
    if (rule.Type === "Number") {
        const number = value.trim() === "" ? NaN : Number(value);
        if (Number.isNaN(number)) return `${shown} is not a number`;
        if (rule.MinValue !== undefined && number < rule.MinValue) return `${shown} is below the minimum value ${rule.MinValue}`;
        if (rule.MaxValue !== undefined && number > rule.MaxValue) return `${shown} is above the maximum value ${rule.MaxValue}`;
    }
    return undefined;
}

/**
 * Problems of one queue's parameters against a template version, one line each, naming the
 * queue, the parameter and what the template allows. Values that are not known yet (outputs of
 * other resources) are passed as `undefined` and only their names are checked.
 */
export function parameterProblems(rules: StackTemplateRules, queue: string, parameters: Record<string, string | undefined>): string[] {
    const problems: string[] = [];
    for (const [name, value] of Object.entries(parameters)) {
        const where = `queue "${queue}": Elastic CI Stack v${rules.version} parameter ${name}`;
        const rule = rules.parameters[name];
        if (!rule) {
            problems.push(`${where}: the template has no such parameter${didYouMean(name, Object.keys(rules.parameters))}`);
            continue;
        }
        if (typeof value !== "string") continue;
        const violation = ruleViolation(rule, value);
        if (violation) problems.push(`${where}: ${violation}`);
    }
    return problems;
}

/** The outputs in `names` that the template does not declare. */
export function missingOutputs(rules: StackTemplateRules, names: readonly string[]): string[] {
    return names.filter((name) => !rules.outputs.includes(name));
}

/** Where the kept rules of each checked template version live. */
export const TEMPLATE_RULES_DIR = path.join(__dirname, "templates");

/** `elastic-ci-stack-v6.21.0.json` for `6.21.0`. */
export function templateRulesFile(version: string): string {
    return path.join(TEMPLATE_RULES_DIR, `elastic-ci-stack-v${version}.json`);
}

/** The template versions this program has been checked against, oldest first. */
export function checkedStackVersions(): string[] {
    return fs
        .readdirSync(TEMPLATE_RULES_DIR)
        .map((file) => /^elastic-ci-stack-v(.+)\.json$/.exec(file)?.[1])
        .filter((version): version is string => version !== undefined)
        .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** The kept rules of a version; undefined when the program has not been checked against it. */
export function keptTemplateRules(version: string): StackTemplateRules | undefined {
    const file = templateRulesFile(version);
    if (!fs.existsSync(file)) return undefined;
    const { parameters, outputs, replacesAutoScalingGroup } = JSON.parse(fs.readFileSync(file, "utf8")) as StackTemplateRules;
    return { version, parameters, outputs, replacesAutoScalingGroup };
}

/** The parameters among `changed` whose change replaces the autoscaling group (see `replacesAutoScalingGroup`), sorted. */
export function groupReplacingParameters(rules: StackTemplateRules, changed: readonly string[]): string[] {
    return [...new Set(changed)].filter((name) => name in rules.replacesAutoScalingGroup).sort();
}

/**
 * The one line a reviewer must read when a change of `changed` parameters replaces a queue's
 * autoscaling group; undefined when none of them does.
 */
export function replacementEffect(rules: StackTemplateRules, queue: string, changed: readonly string[]): string | undefined {
    const replacing = groupReplacingParameters(rules, changed);
    if (replacing.length === 0) return undefined;
    return `replaces the autoscaling group of queue ${queue} (${replacing.join(", ")}): running jobs are cancelled`;
}
