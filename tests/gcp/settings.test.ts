import { strict as assert } from "assert";
import { readGcpSettings, regionOfZone } from "../../gcp/settings";
import { DEFAULT_AGENT_STACK_K8S_VERSION, readK8sSettings } from "../../k8s/settings";
import { problemsOf } from "../../lib/problems";

const STACK = "Pulumi.gcp-test.yaml";
const SECRET_KUBECONFIG = "apiVersion: v1\nusers: [{name: u, user: {token: SENTINEL-KUBE-TOKEN}}]";

function reader(values: Record<string, unknown>) {
    return (key: string) => {
        const value = values[key];
        return value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);
    };
}

const minimal = {
    gcpProject: "vllm-ci",
    gcpRegions: ["us-central1"],
    hfToken: "hf",
    buildkiteAnalyticsToken: "an",
};

/** The problems of a gcp-prod-like stack's config (GCP and agent stack settings), collected. */
function problemsOfConfig(values: Record<string, unknown>): string[] {
    const problems: string[] = [];
    for (const read of [readGcpSettings, readK8sSettings]) {
        try {
            read(reader(values), STACK);
        } catch (error) {
            const found = problemsOf(error);
            assert.ok(found, `expected a problem list, got ${error}`);
            problems.push(...found);
        }
    }
    return problems;
}

/** The one problem of a config with one mistake. */
function errorOf(values: Record<string, unknown>): string {
    const problems = problemsOfConfig(values);
    assert.equal(problems.length, 1, `one problem: ${problems.join(" | ")}`);
    return problems[0];
}

describe("GCP and agent stack settings", () => {
    it("fills defaults: chart version, namespace, network, no legacy release", () => {
        const settings = readGcpSettings(reader(minimal), STACK);
        const k8s = readK8sSettings(reader(minimal), STACK);
        assert.equal(k8s.agentStackK8sVersion, DEFAULT_AGENT_STACK_K8S_VERSION);
        assert.equal(DEFAULT_AGENT_STACK_K8S_VERSION, "0.47.0");
        assert.equal(k8s.agentStackNamespace, "buildkite");
        assert.equal(settings.network, "default");
        assert.deepEqual(k8s.externalClusters, []);
        assert.deepEqual(k8s.legacyAgentStackReleases, []);
    });

    it("collects every problem instead of stopping at the first", () => {
        assert.deepEqual(problemsOfConfig({ gcpRegions: ["us-central1"], gkeNetwork: "Bad_Net", agentStackK8sVersion: "latest", legacyAgentStackReleases: "x" }), [
            `${STACK}: config ci:gcpProject: missing (set it in ${STACK})`,
            `${STACK}: config ci:gkeNetwork: "Bad_Net" is not a VPC network name`,
            `${STACK}: config ci:agentStackK8sVersion: "latest" is not a chart version (like 0.47.0)`,
            `${STACK}: config ci:hfToken: missing (set it in ${STACK})`,
            `${STACK}: config ci:buildkiteAnalyticsToken: missing (set it in ${STACK})`,
            `${STACK}: config ci:legacyAgentStackReleases: not valid JSON`,
        ]);
    });

    it("reads external clusters with their kubeconfigs from one secret JSON map", () => {
        const settings = readK8sSettings(
            reader({
                ...minimal,
                agentStackNamespace: "bk",
                externalClusters: ["a100", "b200"],
                externalKubeconfigs: JSON.stringify({ a100: SECRET_KUBECONFIG, b200: "kubeconfig-b" }),
            }),
            STACK,
        );
        assert.deepEqual(
            settings.externalClusters.map((c) => [c.name, c.namespace, c.kubeconfig, c.context]),
            [
                ["a100", "bk", SECRET_KUBECONFIG, undefined],
                ["b200", "bk", "kubeconfig-b", undefined],
            ],
        );
    });

    it("reads one shared kubeconfig, a context per cluster, when the secret is not a JSON map", () => {
        const settings = readK8sSettings(
            reader({ ...minimal, externalClusters: ["a100"], externalKubeconfigs: SECRET_KUBECONFIG }),
            STACK,
        );
        assert.equal(settings.externalClusters[0].context, "a100");
        assert.equal(settings.externalClusters[0].kubeconfig, SECRET_KUBECONFIG);
    });

    it("rejects a missing or malformed project", () => {
        assert.equal(errorOf({ ...minimal, gcpProject: undefined }), `${STACK}: config ci:gcpProject: missing (set it in ${STACK})`);
        assert.match(errorOf({ ...minimal, gcpProject: "Bad_Project" }), /ci:gcpProject: "Bad_Project" is not a GCP project id/);
        assert.match(errorOf({ ...minimal, legacyAgentStackReleases: ["A100"] }), /ci:legacyAgentStackReleases: must be a list of cluster names/);
    });

    it("rejects bad region lists", () => {
        assert.match(errorOf({ ...minimal, gcpRegions: [] }), /ci:gcpRegions: must be a non-empty list/);
        assert.match(errorOf({ ...minimal, gcpRegions: ["us-central1-a"] }), /"us-central1-a" is not a GCP region/);
        assert.match(errorOf({ ...minimal, gcpRegions: ["us-west1", "us-west1"] }), /"us-west1" is listed twice/);
        assert.match(errorOf({ ...minimal, gcpRegions: "[us-west1" }), /ci:gcpRegions: not valid JSON/);
    });

    it("rejects a chart version that is not a version", () => {
        assert.match(errorOf({ ...minimal, agentStackK8sVersion: "latest" }), /ci:agentStackK8sVersion: "latest" is not a chart version/);
    });

    it("rejects external clusters that are not a list of unique cluster names", () => {
        const kubeconfigs = JSON.stringify({ a100: "k" });
        assert.match(errorOf({ ...minimal, externalClusters: { a100: ["a100_queue"] }, externalKubeconfigs: kubeconfigs }), /ci:externalClusters: must be a list of cluster names/);
        assert.match(
            errorOf({ ...minimal, externalClusters: [{ name: "a100" }], externalKubeconfigs: kubeconfigs }),
            /ci:externalClusters\[0\]: must be a cluster name \(lowercase letters, digits, -\)/,
        );
        assert.match(errorOf({ ...minimal, externalClusters: ["a100", "a100"], externalKubeconfigs: kubeconfigs }), /\[1\]: cluster "a100" is listed twice/);
    });

    it("requires a kubeconfig for every external cluster, and none for others", () => {
        const clusters = ["a100", "b200"];
        assert.match(errorOf({ ...minimal, externalClusters: clusters }), /ci:externalKubeconfigs: missing; set it with `pulumi config set --secret/);
        assert.match(errorOf({ ...minimal, externalClusters: clusters, externalKubeconfigs: JSON.stringify({ a100: "k" }) }), /no kubeconfig for cluster "b200"/);
        assert.match(
            errorOf({ ...minimal, externalClusters: clusters, externalKubeconfigs: JSON.stringify({ a100: "k", b200: "k", b20: "k" }) }),
            /cluster "b20" is not in ci:externalClusters \(did you mean "b200"\?\)/,
        );
    });

    it("never quotes the secret when its JSON is broken", () => {
        const message = errorOf({ ...minimal, externalClusters: ["a100"], externalKubeconfigs: `{"a100": "${SECRET_KUBECONFIG}` });
        assert.match(message, /ci:externalKubeconfigs: starts with "\{" but is not valid JSON/);
        assert.ok(!message.includes("SENTINEL"));
    });

    it("rejects a namespace that is not a Kubernetes name", () => {
        assert.match(errorOf({ ...minimal, agentStackNamespace: "Build_Kite" }), /ci:agentStackNamespace: "Build_Kite" is not a Kubernetes namespace name/);
    });

    it("requires the job pods' tokens", () => {
        assert.match(errorOf({ ...minimal, hfToken: undefined }), /ci:hfToken: missing/);
    });

    it("knows the region of a zone", () => {
        assert.equal(regionOfZone("us-east5-b"), "us-east5");
        assert.equal(regionOfZone("us-central1-c"), "us-central1");
    });
});
