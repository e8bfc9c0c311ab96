/**
 * The fleet's policy pack: `pulumi preview --policy-pack policy`. Every rule is mandatory and is a
 * pure check over the stack's resources (policy/rules/), so the same checks run in the tests
 * against the offline plan.
 */
import { PolicyPack, type PolicyResource } from "@pulumi/policy";
import { FLEET_RULES } from "./rules";
import { refFromUrn, type Subject } from "./subject";
import { rulesForStack, stackOfUrn } from "./stack-rules";

/** The engine's view of a resource, reduced to what rules read. */
export function subjectOf(resource: PolicyResource): Subject {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [property, sources] of Object.entries(resource.propertyDependencies ?? {})) {
        propertyDependencies[property] = sources.map((source) => refFromUrn(source.urn));
    }
    return {
        type: resource.type,
        name: resource.name,
        ref: refFromUrn(resource.urn),
        props: resource.props,
        parent: resource.parent ? refFromUrn(resource.parent.urn) : undefined,
        propertyDependencies,
    };
}

new PolicyPack("vllm-ci-fleet", {
    enforcementLevel: "mandatory",
    policies: FLEET_RULES.map((rule) => ({
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory" as const,
        validateStack: (args, reportViolation) => {
            const byRef = new Map(args.resources.map((r) => [refFromUrn(r.urn), r.urn]));
            const stack = args.resources.length > 0 ? stackOfUrn(args.resources[0].urn) : "";
            const forStack = stack ? rulesForStack(stack).find((r) => r.name === rule.name) ?? rule : rule;
            for (const found of forStack.check(args.resources.map(subjectOf))) reportViolation(found.message, byRef.get(found.resource));
        },
    })),
});
