/** The Buildkite agent-stack-k8s chart. */

/** OCI reference of the chart. */
export const AGENT_STACK_K8S_CHART = "oci://ghcr.io/buildkite/helm/agent-stack-k8s";

/** Key the controller reads the agent token from, in the Secret named by `agentStackSecret`. */
export const AGENT_TOKEN_KEY = "BUILDKITE_AGENT_TOKEN";

/** Secrets job pods read (`secretKeyRef` name/key in the generator's pod templates). */
export const JOB_SECRETS = {
    hfToken: { name: "hf-token-secret", key: "token" },
    analyticsToken: { name: "buildkite-analytics-token-secret", key: "token" },
} as const;

/** Helm release names are DNS labels of at most 53 characters. */
export const MAX_RELEASE_NAME = 53;

/** The single release the fleet's clusters run today, installed by hand (`infra-k8s/install-buildkite-k8s.sh`). */
export const LEGACY_RELEASE = { name: "agent-stack-k8s", namespace: "buildkite" } as const;
