/**
 * A Buildkite agent token flows only into the secret stores agents read it from: an SSM
 * SecureString parameter's value, a Secret Manager version's data, a Kubernetes Secret's data.
 * Anywhere else (a tag, a description, a pipeline's steps, an instance's metadata, a plain SSM
 * String) it would be readable by whoever reads that resource.
 */
import { violation, type FleetRule, type Subject, type Violation } from "../subject";

const AGENT_TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";

/** Store type → the properties that may hold the token. */
const STORES: Readonly<Record<string, readonly string[]>> = {
    "aws:ssm/parameter:Parameter": ["value"],
    "gcp:secretmanager/secretVersion:SecretVersion": ["secretData"],
    "kubernetes:core/v1:Secret": ["stringData", "data"],
};

const fromAgentToken = (subject: Subject, property: string) => (subject.propertyDependencies[property] ?? []).some((source) => source.startsWith(`${AGENT_TOKEN}::`));

export const buildkiteTokenInSecretStores: FleetRule = {
    name: "buildkite-token-in-secret-stores",
    description: "A Buildkite agent token flows only into secret stores (SSM SecureString, Secret Manager versions, Kubernetes Secrets), never into another input.",
    check(subjects: Subject[]): Violation[] {
        const violations: Violation[] = [];
        for (const subject of subjects) {
            for (const property of Object.keys(subject.propertyDependencies)) {
                if (!fromAgentToken(subject, property)) continue;
                const allowed = STORES[subject.type] ?? [];
                if (!allowed.includes(property)) {
                    violations.push(violation(this, subject, `input ${property} carries a Buildkite agent token; only a secret store's value may`));
                } else if (subject.type === "aws:ssm/parameter:Parameter" && subject.props.type !== "SecureString") {
                    violations.push(violation(this, subject, `holds a Buildkite agent token as a ${String(subject.props.type ?? "String")} parameter; use SecureString`));
                }
            }
        }
        return violations;
    },
};
