import { strict as assert } from "assert";
import { loadCatalog, queuesOf, type Catalog } from "../../catalog";
import { gkeManagedClusters, layoutGcpFleet } from "../../gcp/layout";
import { AgentStackLayoutError, agentStackProblems, layoutAgentStacks, type K8sSettings } from "../../k8s";
import { GCP_FIXTURE_CATALOG, SAMPLE_GCP_SETTINGS, SAMPLE_K8S_SETTINGS as settings } from "../support/gcp-settings";

const STACK = "Pulumi.gcp-test.yaml";
const base = loadCatalog(GCP_FIXTURE_CATALOG);
const managed = gkeManagedClusters(layoutGcpFleet(base, SAMPLE_GCP_SETTINGS, STACK));

function catalogWith(edit: (catalog: Catalog) => void): Catalog {
    const catalog = structuredClone(base);
    edit(catalog);
    return catalog;
}
const k8sQueue = (catalog: Catalog, name: string) => queuesOf(catalog, "k8s").find((q) => q.name === name)!;

function layoutError(catalog: Catalog, changed: Partial<K8sSettings> = {}): string {
    try {
        layoutAgentStacks(catalog, { ...settings, ...changed }, STACK, managed);
    } catch (error) {
        assert.ok(error instanceof AgentStackLayoutError, String(error));
        assert.equal(error.problems.length, 1, error.message);
        return error.message;
    }
    assert.fail("expected an error");
}

describe("agent stack layout", () => {
    it("installs on each GKE cluster with pools and each external cluster, with each queue's token secret", () => {
        assert.deepEqual(
            layoutAgentStacks(base, settings, STACK, managed).map((i) => [i.cluster, i.external !== undefined, i.queues.map((q) => `${q.name}:${q.agentTokenSecret}`)]),
            [
                ["vllm-ci-test-cluster", false, ["gke_l4_1_queue", "gke_l4_2_queue", "gke_l4_4_queue"].map((q) => `${q}:bk-agent-token-cluster-ci`)],
                ["vllm-ci-test-cluster-us-west-1", false, ["gke_l4_1_queue", "gke_l4_2_queue", "gke_l4_4_queue"].map((q) => `${q}:bk-agent-token-cluster-ci`)],
                ["mithril-h100", true, ["mithril-h100-pool:bk-agent-token-cluster-ci"]],
                ["a100", true, ["a100_queue:bk-agent-token-cluster-ci"]],
                ["b200", true, ["b200-k8s:bk-agent-token-cluster-ci"]],
                ["nebius-h200", true, ["perf-benchmark-h200:bk-agent-token-cluster-perf-benchmark"]],
            ],
        );
    });

    it("pins GKE queues to their pool and caps their controllers at the queue's max", () => {
        const [central] = layoutAgentStacks(base, settings, STACK, managed);
        assert.deepEqual(central.queues.map((q) => [q.name, q.maxInFlight, q.dedicatedPool?.gpus]), [
            ["gke_l4_1_queue", 64, 1],
            ["gke_l4_2_queue", 10, 2],
            ["gke_l4_4_queue", 3, 4],
        ]);
    });

    it("rejects a k8s queue whose cluster the stack does not list", () => {
        assert.match(
            layoutError(base, { externalClusters: settings.externalClusters.filter((c) => c.name !== "b200") }),
            /queue "b200-k8s": field k8s\.cluster: cluster "b200" is not in ci:externalClusters of Pulumi\.gcp-test\.yaml/,
        );
    });

    it("rejects a stack cluster that serves no queue of the catalog", () => {
        assert.match(
            layoutError(base, { externalClusters: [...settings.externalClusters, { name: "spare", namespace: "buildkite", kubeconfig: "k" }] }),
            /ci:externalClusters\[4\]: cluster "spare" serves no queue of .*gcp-fleet\.yaml \(no k8s\.cluster names it\)/,
        );
    });

    it("rejects a Buildkite cluster whose token's Kubernetes Secret name is not one, once", () => {
        const bad = catalogWith((c) => delete c.buildkiteClusters.perf_benchmark.kubernetesSecret);
        assert.match(layoutError(bad), /buildkiteClusters "perf_benchmark": field gcpSecretId: "buildkite_agent_token_benchmark_cluster" must also be a Kubernetes Secret name .*set kubernetesSecret/);
    });

    it("runs GKE controllers on the system pool and external ones wherever their cluster schedules them", () => {
        const installs = layoutAgentStacks(base, settings, STACK, managed);
        assert.deepEqual(installs[0].placement, { nodeSelector: { "cloud.google.com/gke-nodepool": "vllm-ci-test-cluster-system" } });
        assert.deepEqual(installs.find((i) => i.cluster === "a100")!.placement, {});
        assert.deepEqual(installs.find((i) => i.cluster === "nebius-h200")!.queues[0].buildkiteCluster, "perf_benchmark");
    });

    it("rejects a legacy release on a cluster with no agent stack", () => {
        assert.match(layoutError(base, { legacyAgentStackReleases: ["a10"] }), /ci:legacyAgentStackReleases\[0\]: cluster "a10" runs no agent stack of this program \(did you mean "a100"\?\)/);
    });

    it("serves every catalog queue of a cluster from that cluster, the catalog alone deciding", () => {
        const two = catalogWith((c) => c.queues.push({ ...structuredClone(k8sQueue(c, "a100_queue")), name: "a100_queue_2" }));
        const a100 = layoutAgentStacks(two, settings, STACK, managed).find((install) => install.cluster === "a100")!;
        assert.deepEqual(a100.queues.map((q) => q.name), ["a100_queue", "a100_queue_2"]);
    });

    it("rejects a k8s queue placed on a GKE cluster (which leaves its listed cluster serving nothing)", () => {
        const problems = agentStackProblems(catalogWith((c) => (k8sQueue(c, "a100_queue").k8s.cluster = "vllm-ci-test-cluster")), settings, STACK, managed);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /queue "a100_queue": field k8s\.cluster: "vllm-ci-test-cluster" is a GKE cluster; serve it with provider gke/);
        assert.match(problems[1], /ci:externalClusters\[1\]: cluster "a100" serves no queue/);
    });

    it("collects every problem", () => {
        const bad = catalogWith((c) => (k8sQueue(c, "a100_queue").k8s.cluster = "vllm-ci-test-cluster"));
        assert.equal(agentStackProblems(bad, { ...settings, externalClusters: settings.externalClusters.filter((c) => c.name !== "b200") }, STACK, managed).length, 3);
    });
});
