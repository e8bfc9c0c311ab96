/**
 * What a rule looks at: a resource reduced to plain data. Built from the policy engine's
 * `PolicyResource` during `pulumi preview --policy-pack policy`, or from the offline plan's recorded
 * resources in the tests, so each rule's check is a pure function over the same shape.
 */

/** The policy engine's stand-in for a value not known until deployment. */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Subject {
    type: string;
    name: string;
    /** `type::name`: how rules name resources and their links. */
    ref: string;
    /** Properties as the engine sees them: secrets unwrapped, unknowns as UNKNOWN_VALUE. */
    props: Record<string, any>;
    /** `type::name` of the parent, if any. */
    parent?: string;
    /** Property → `type::name` of the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
}

/** A broken rule: which rule, which resource, and why, in one line. */
export interface Violation {
    rule: string;
    resource: string;
    message: string;
}

/** A rule of the pack: a name, what it protects, and a pure check over the whole stack. */
export interface FleetRule {
    name: string;
    description: string;
    check(subjects: Subject[]): Violation[];
}

export function refOf(type: string, name: string): string {
    return `${type}::${name}`;
}

export { urnToRef as refFromUrn } from "../lib/urn";

export function isUnknown(value: unknown): boolean {
    return value === undefined || value === UNKNOWN_VALUE;
}

/** Every string inside a value, with its dotted path. */
export function stringsIn(value: unknown, path = ""): [string, string][] {
    if (typeof value === "string") return [[path, value]];
    if (Array.isArray(value)) return value.flatMap((item, index) => stringsIn(item, `${path}[${index}]`));
    if (value && typeof value === "object") {
        return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => stringsIn(item, path ? `${path}.${key}` : key));
    }
    return [];
}

/** The subjects of some types. */
export function ofTypes(subjects: Subject[], ...types: string[]): Subject[] {
    return subjects.filter((subject) => types.includes(subject.type));
}

/**
 * Whether `dependent.props[property]` points at `target`: through the engine's property
 * dependencies, or by carrying one of the target's identifying values.
 */
export function pointsAt(dependent: Subject, property: string, target: Subject, identifiers: unknown[]): boolean {
    if ((dependent.propertyDependencies[property] ?? []).includes(target.ref)) return true;
    const value = dependent.props[property];
    return !isUnknown(value) && identifiers.some((id) => id !== undefined && id === value);
}

export function violation(rule: FleetRule | string, subject: Subject, message: string): Violation {
    const name = typeof rule === "string" ? rule : rule.name;
    return { rule: name, resource: subject.ref, message: `${subject.ref}: ${message} [${name}]` };
}
