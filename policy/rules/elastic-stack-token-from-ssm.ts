/** Every Elastic CI Stack queue reads its agent token from SSM Parameter Store, never inline. */
import { ofTypes, violation, type FleetRule, type Subject, type Violation } from "../subject";

const STACK = "aws:cloudformation/stack:Stack";

export function isElasticCiStack(subject: Subject): boolean {
    return subject.type === STACK && /buildkite-aws-stack/.test(String(subject.props.templateUrl ?? ""));
}

export const elasticStackTokenFromSsm: FleetRule = {
    name: "elastic-stack-token-from-ssm",
    description: "Elastic CI Stack queues take the agent token from an SSM parameter path, never as a parameter value.",
    check(subjects: Subject[]): Violation[] {
        const violations: Violation[] = [];
        for (const stack of ofTypes(subjects, STACK).filter(isElasticCiStack)) {
            const parameters: Record<string, unknown> = stack.props.parameters ?? {};
            if (typeof parameters.BuildkiteAgentToken === "string" && parameters.BuildkiteAgentToken !== "") {
                violations.push(violation(this, stack, "parameter BuildkiteAgentToken is set inline; use BuildkiteAgentTokenParameterStorePath"));
            }
            const path = parameters.BuildkiteAgentTokenParameterStorePath;
            if (typeof path !== "string" || !path.startsWith("/")) {
                violations.push(violation(this, stack, "parameter BuildkiteAgentTokenParameterStorePath is not an SSM parameter path"));
            }
        }
        return violations;
    },
};
