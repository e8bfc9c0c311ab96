/** GCP settings as `readGcpSettings` would return them for the production stack, for pure-function tests. */
import type { GcpSettings } from "../../gcp/settings";

export const SAMPLE_GCP_SETTINGS: GcpSettings = {
    project: "vllm-ci",
    tpuProject: "vllm-tpu-ci",
    regions: ["us-central1", "us-west1", "us-south1", "us-east5"],
    network: "default",
    buildkiteOrg: "vllm",
    agentStackK8sVersion: "0.47.0",
    agentStackNamespace: "buildkite",
    hfTokenSecretId: "hf-token",
    analyticsTokenSecretId: "buildkite-analytics-token",
    externalClusters: [
        { name: "mithril-h100", namespace: "buildkite", kubeconfig: "k" },
        { name: "a100", namespace: "buildkite", kubeconfig: "k" },
        { name: "b200", namespace: "buildkite", kubeconfig: "k" },
        { name: "nebius-h200", namespace: "buildkite", kubeconfig: "k" },
    ],
    hfToken: "h",
    buildkiteAnalyticsToken: "a",
};
