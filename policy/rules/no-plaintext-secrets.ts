/**
 * No secret value in plain text in any resource input: not in startup scripts, metadata, Helm
 * values, parameters or tags. Secrets are read at boot from the cloud's secret store; only the
 * stores themselves may hold them.
 */
import { stringsIn, violation, type FleetRule, type Subject, type Violation } from "../subject";

/** Types whose job is to hold a secret value (it arrives there as a Pulumi secret). */
const SECRET_STORES = new Set([
    "aws:secretsmanager/secretVersion:SecretVersion",
    "gcp:secretmanager/secretVersion:SecretVersion",
    "kubernetes:core/v1:Secret",
    "tls:index/privateKey:PrivateKey",
]);

/** Shapes of secret material. */
const SECRET_PATTERNS: [string, RegExp][] = [
    ["a Hugging Face token", /\bhf_[A-Za-z0-9]{30,}\b/],
    ["a Buildkite token", /\bbk(ua|ct|at|ag)_[A-Za-z0-9]{20,}\b/],
    ["an AWS access key", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
    ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    // A token assigned a literal (not read from a store: no `$(`, `${` or `$VAR`) in a script or env.
    [
        "a literal token assignment",
        /\b(BUILDKITE_AGENT_TOKEN|BUILDKITE_ANALYTICS_TOKEN|HF_TOKEN|HUGGING_FACE_HUB_TOKEN)\s*[=:]\s*["']?(?![$"'\s])[^\s"';]{12,}/,
    ],
];

/** Instance metadata keys that would put a secret where any process on the VM can read it. */
const SECRET_METADATA_KEY = /(token|password|passwd|secret|private[-_]?key|credential)/i;

function metadataKeys(subject: Subject): string[] {
    const metadata = subject.props.metadata;
    if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) return [];
    return Object.keys(metadata).filter((key) => SECRET_METADATA_KEY.test(key));
}

export const noPlaintextSecrets: FleetRule = {
    name: "no-plaintext-secrets",
    description: "No token, key or password in plain text in any resource input; read secrets at boot from the secret store.",
    check(subjects: Subject[]): Violation[] {
        const violations: Violation[] = [];
        for (const subject of subjects) {
            if (SECRET_STORES.has(subject.type)) continue;
            // An SSM SecureString parameter is a store too (the agent token's, for the Elastic CI Stacks).
            if (subject.type === "aws:ssm/parameter:Parameter" && subject.props.type === "SecureString") continue;
            for (const [path, text] of stringsIn(subject.props)) {
                const found = SECRET_PATTERNS.find(([, pattern]) => pattern.test(text));
                if (found) violations.push(violation(this, subject, `input ${path} contains ${found[0]} in plain text`));
            }
            for (const key of metadataKeys(subject)) {
                violations.push(violation(this, subject, `instance metadata key "${key}" would expose a secret to every process on the VM`));
            }
        }
        return violations;
    },
};
