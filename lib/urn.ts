/** Pulumi URNs, reduced to the `type::name` reference the plan and the policy pack name resources by. */

/** `type::name` from a URN `urn:pulumi:stack::project::parent$type::name`. */
export function urnToRef(urn: string): string {
    const parts = urn.split("::");
    const qualifiedType = parts[2] ?? "";
    const type = qualifiedType.split("$").pop() ?? qualifiedType;
    return `${type}::${parts.slice(3).join("::")}`;
}
