/** GCP and agent-stack settings as the readers would return them for a production-like stack, for pure-function tests. */
import * as path from "path";
import type { GcpSettings } from "../../gcp/settings";
import type { K8sSettings } from "../../k8s/settings";

/** The tests' own GCP/Kubernetes catalog (see its header). */
export const GCP_FIXTURE_CATALOG = path.join(__dirname, "..", "fixtures", "catalogs", "gcp-fleet.yaml");

export const SAMPLE_GCP_SETTINGS: GcpSettings = {
    project: "vllm-gcp",
    regions: ["us-central1", "us-west1", "us-south1", "us-east5"],
    network: "default",
};

export const SAMPLE_K8S_SETTINGS: K8sSettings = {
    agentStackK8sVersion: "0.47.0",
    agentStackNamespace: "buildkite",
    externalClusters: [
        { name: "mithril-h100", namespace: "buildkite", kubeconfig: "k" },
        { name: "a100", namespace: "buildkite", kubeconfig: "k" },
        { name: "b200", namespace: "buildkite", kubeconfig: "k" },
        { name: "nebius-h200", namespace: "buildkite", kubeconfig: "k" },
    ],
    hfToken: "h",
    buildkiteAnalyticsToken: "a",
    legacyAgentStackReleases: [],
};
