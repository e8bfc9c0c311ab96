import { strict as assert } from "assert";
import { loadCatalog } from "../../catalog";
import { gkeManagedClusters, layoutGcpFleet } from "../../gcp/layout";
import { layoutAgentStacks } from "../../k8s/layout";
import { GCP_FIXTURE_CATALOG, SAMPLE_GCP_SETTINGS as settings, SAMPLE_K8S_SETTINGS } from "../support/gcp-settings";
import {
    agentStackValues,
    dedicatedPoolPatch,
    GPU_PRIORITY_COUNTS,
    gpuPriorityClass,
    PRIORITY_CLASSES,
    queueSetProblem,
    releaseName,
    type AgentStackQueue,
} from "../../k8s";
import { helmMerge, loadChartSchema, type ChartSchema } from "./chart-schema";


describe("agent-stack-k8s values", () => {
    let schema: ChartSchema;
    let queues: (AgentStackQueue & { cluster: string })[];
    before(() => {
        schema = loadChartSchema();
        const catalog = loadCatalog(GCP_FIXTURE_CATALOG);
        const layout = layoutGcpFleet(catalog, settings, "Pulumi.gcp-prod.yaml");
        queues = layoutAgentStacks(catalog, SAMPLE_K8S_SETTINGS, "Pulumi.gcp-prod.yaml", gkeManagedClusters(layout)).flatMap((install) =>
            install.queues.map((q) => ({ ...q, cluster: install.cluster })),
        );
    });

    it("validates, for every queue of the fleet, against the chart's schema merged over values.yaml", () => {
        assert.ok(queues.length >= 7, `expected the GKE and external queues, got ${queues.map((q) => q.name)}`);
        for (const queue of queues) {
            assert.deepEqual(schema.problems(agentStackValues(queue, queue.cluster)), [], `values of ${queue.name}`);
        }
    });

    it("takes the agent token from the named Secret, never as a value", () => {
        for (const queue of queues) {
            const values = agentStackValues(queue, queue.cluster);
            assert.equal(values.agentStackSecret, queue.agentTokenSecret);
            assert.ok(!("agentToken" in values), `${queue.name} sets agentToken`);
            // Merged, the chart's empty default token is all that is left.
            assert.equal(helmMerge(schema.baseValues, values).agentToken, "");
        }
    });

    it("tags each controller with its queue only", () => {
        const values = agentStackValues({ name: "a100_queue", agentTokenSecret: "s", buildkiteCluster: "ci" }, "a100");
        assert.deepEqual((values.config as { tags: string[] }).tags, ["queue=a100_queue"]);
    });

    it("rejects the keys current charts removed (config.org, config.cluster-uuid)", () => {
        const base = agentStackValues(queues[0], queues[0].cluster);
        const config = base.config as Record<string, unknown>;
        assert.match(schema.problems({ ...base, config: { ...config, org: "vllm" } }).join("\n"), /config\/org/);
        assert.match(schema.problems({ ...base, config: { ...config, "cluster-uuid": "x" } }).join("\n"), /cluster-uuid/);
    });

    it("fails values of the wrong type (the schema check can fail)", () => {
        assert.match(schema.problems({ config: { "max-in-flight": "ten" } }).join("\n"), /max-in-flight must be integer/);
        assert.match(schema.problems({ labels: { app: "x" } }).join("\n"), /labels/);
    });

    it("needs the packaged image: the git values.yaml alone does not pass", () => {
        assert.match(schema.problems({ image: null }).join("\n"), /image/);
    });

    it("pins GKE queues' job pods to their pool with all its GPUs and the matching priority", () => {
        const patch = dedicatedPoolPatch("gke_l4_4_queue", { labelKey: "ci.vllm.ai/queue", gpus: 4 }) as any;
        assert.deepEqual(patch.nodeSelector, { "ci.vllm.ai/queue": "gke_l4_4_queue" });
        assert.ok(patch.tolerations.some((t: any) => t.key === "ci.vllm.ai/queue" && t.value === "gke_l4_4_queue" && t.effect === "NoSchedule"));
        assert.equal(patch.containers[0].resources.limits["nvidia.com/gpu"], "4");
        assert.equal(patch.priorityClassName, "gpu-priority-cls-4");
        const gke = queues.filter((q) => q.dedicatedPool);
        assert.equal(gke.length, 6, "3 L4 queues in 2 standard clusters");
        for (const queue of gke) {
            const values = agentStackValues(queue, queue.cluster) as any;
            assert.equal(values.config["pod-spec-patch"].priorityClassName, gpuPriorityClass(queue.dedicatedPool!.gpus));
        }
    });
});

describe("priority classes", () => {
    it("has the live values (a class's value is immutable): ci 2 above perf-benchmark 1, GPU classes 2000 + GPUs", () => {
        assert.deepEqual(PRIORITY_CLASSES, { ci: 2, "perf-benchmark": 1, "gpu-priority-cls-1": 2001, "gpu-priority-cls-2": 2002, "gpu-priority-cls-4": 2004, "gpu-priority-cls-8": 2008 });
    });

    it("has ci, perf-benchmark and one class per GPU count, higher for more GPUs", () => {
        assert.deepEqual(Object.keys(PRIORITY_CLASSES).sort(), ["ci", "gpu-priority-cls-1", "gpu-priority-cls-2", "gpu-priority-cls-4", "gpu-priority-cls-8", "perf-benchmark"]);
        assert.ok(PRIORITY_CLASSES.ci > PRIORITY_CLASSES["perf-benchmark"], "CI outranks benchmarks");
        const values = GPU_PRIORITY_COUNTS.map((gpus) => PRIORITY_CLASSES[gpuPriorityClass(gpus)]);
        for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], `gpu-priority-cls-${GPU_PRIORITY_COUNTS[i]} must outrank the one before`);
        assert.ok(values[0] > PRIORITY_CLASSES.ci);
    });

    it("has no class for a GPU count without one", () => {
        assert.throws(() => gpuPriorityClass(3), /no GPU priority class for 3 GPUs/);
    });
});

describe("release names (the controllers' ids)", () => {
    const q = (name: string): AgentStackQueue => ({ name, agentTokenSecret: "s", buildkiteCluster: "ci" });
    it("are DNS labels of the queue and the cluster, so one queue on two clusters has two ids", () => {
        assert.equal(releaseName("gke_l4_1_queue", "vllm-ci-test-cluster"), "gke-l4-1-queue-vllm-ci-test-cluster");
        assert.notEqual(releaseName("gke_l4_1_queue", "vllm-ci-test-cluster"), releaseName("gke_l4_1_queue", "vllm-ci-test-cluster-us-west-1"));
    });

    it("are the controller id: the chart's full name is forced to the release name", () => {
        const values = agentStackValues(q("gke_l4_1_queue"), "vllm-ci-test-cluster");
        assert.equal(values.fullnameOverride, "gke-l4-1-queue-vllm-ci-test-cluster");
    });

    it("reject queues that would share a release, and names too long for Helm", () => {
        assert.match(queueSetProblem([q("a_b"), q("a-b")], "c") ?? "", /same Helm release/);
        assert.equal(queueSetProblem([q("a_b")], "c"), undefined);
        assert.match(queueSetProblem([], "c") ?? "", /no queues/);
        assert.match(queueSetProblem([q("q".repeat(50))], "cluster") ?? "", /longer than Helm's 53 characters/);
    });
});
