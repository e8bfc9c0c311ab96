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
        { name: "mithril-h100", queues: ["mithril-h100-pool"], namespace: "buildkite", kubeconfig: "k" },
        { name: "a100", queues: ["a100_queue"], namespace: "buildkite", kubeconfig: "k" },
        { name: "b200", queues: ["b200-k8s"], namespace: "buildkite", kubeconfig: "k" },
        { name: "nebius-h200", queues: ["perf-benchmark-h200"], namespace: "buildkite", kubeconfig: "k" },
    ],
    hfToken: "h",
    buildkiteAnalyticsToken: "a",
};
