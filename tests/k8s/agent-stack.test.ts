import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import { AgentStackK8s } from "../../k8s";
import { ofType, resource, runWithMocks, SECRET_MASK, type ProgramRun } from "../../plan/harness";

describe("AgentStackK8s component", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runWithMocks({ project: "ci", stack: "k8s-test", config: {} }, () => {
            const provider = new kubernetes.Provider("cluster", { kubeconfig: pulumi.secret("kubeconfig") });
            new AgentStackK8s("stack", {
                cluster: "lab",
                namespace: "ci-agents",
                chartVersion: "0.47.0",
                queues: [
                    { name: "a100_queue", agentTokenSecret: "bk-agent-token-cluster-ci", buildkiteCluster: "ci" },
                    { name: "perf-benchmark-h200", agentTokenSecret: "bk-agent-token-cluster-perf-benchmark", buildkiteCluster: "perf_benchmark", maxInFlight: 4 },
                ],
                placement: { nodeSelector: { pool: "system" } },
                agentTokens: { "bk-agent-token-cluster-ci": "ci-token-plain-input", "bk-agent-token-cluster-perf-benchmark": "perf-token-plain-input" },
                hfToken: "hf-plain-input",
                analyticsToken: "analytics-plain-input",
                keepLegacyRelease: true,
            }, { provider });
            return {};
        });
    });

    it("installs one release per queue in its namespace, through the given provider", () => {
        const releases = ofType(run, "kubernetes:helm.sh/v3:Release");
        assert.deepEqual(releases.map((r) => [r.inputs.name, r.inputs.namespace, r.provider]).sort(), [
            ["a100-queue-lab", "ci-agents", "pulumi:providers:kubernetes::cluster"],
            ["perf-benchmark-h200-lab", "ci-agents", "pulumi:providers:kubernetes::cluster"],
            ["agent-stack-k8s", "ci-agents", "pulumi:providers:kubernetes::cluster"],
        ].sort());
        const perf = resource(run, "kubernetes:helm.sh/v3:Release", "stack-perf-benchmark-h200-lab");
        assert.deepEqual(perf.inputs.values, {
            fullnameOverride: "perf-benchmark-h200-lab",
            agentStackSecret: "bk-agent-token-cluster-perf-benchmark",
            nodeSelector: { pool: "system" },
            config: { tags: ["queue=perf-benchmark-h200"], "max-in-flight": 4 },
        });
        for (const r of run.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) {
            assert.equal(r.provider, "pulumi:providers:kubernetes::cluster", `${r.type} ${r.name}`);
            assert.equal(r.parent, "ci:k8s:AgentStackK8s::stack");
        }
    });

    it("makes the job pods' tokens secrets even when given plain values", () => {
        for (const name of ["hf-token-secret", "buildkite-analytics-token-secret"]) {
            const secret = resource(run, "kubernetes:core/v1:Secret", `stack-${name}`);
            assert.equal((secret.inputs.metadata as any).namespace, "ci-agents");
            assert.equal(secret.inputs.stringData, SECRET_MASK);
            assert.ok(Object.keys(secret.rawInputs.stringData as object).includes("token"));
        }
    });

    it("writes each controller's token Secret from the token it is given, as a secret, before its release", () => {
        for (const [name, key] of [["bk-agent-token-cluster-ci", "ci"], ["bk-agent-token-cluster-perf-benchmark", "perf"]]) {
            const secret = resource(run, "kubernetes:core/v1:Secret", `stack-${name}`);
            assert.equal((secret.inputs.metadata as any).name, name);
            assert.equal(secret.inputs.stringData, SECRET_MASK);
            assert.deepEqual(secret.rawInputs.stringData, { BUILDKITE_AGENT_TOKEN: `${key}-token-plain-input` });
        }
    });

    it("creates each release after its token Secret, the priority classes and the job secrets", () => {
        const a100 = resource(run, "kubernetes:helm.sh/v3:Release", "stack-a100-queue-lab");
        const token = resource(run, "kubernetes:core/v1:Secret", "stack-bk-agent-token-cluster-ci");
        assert.ok(a100.dependsOn?.includes(token.urn), "waits for its token Secret");
        assert.ok(!a100.dependsOn?.includes(resource(run, "kubernetes:core/v1:Secret", "stack-bk-agent-token-cluster-perf-benchmark").urn), "and not for another queue's");
        assert.ok(a100.dependsOn?.includes(resource(run, "kubernetes:scheduling.k8s.io/v1:PriorityClass", "stack-gpu-priority-cls-4").urn));
    });

    it("creates the priority classes with their live values, kept on delete", () => {
        const ci = resource(run, "kubernetes:scheduling.k8s.io/v1:PriorityClass", "stack-ci");
        assert.deepEqual([ci.inputs.value, ci.inputs.preemptionPolicy], [2, "PreemptLowerPriority"]);
        assert.equal(resource(run, "kubernetes:scheduling.k8s.io/v1:PriorityClass", "stack-gpu-priority-cls-8").inputs.value, 2008);
        assert.equal(ci.retainOnDelete, true);
    });

    it("declares the old single release untouched, only so that it can be imported and retired", () => {
        const legacy = resource(run, "kubernetes:helm.sh/v3:Release", "stack-agent-stack-k8s");
        assert.equal(legacy.inputs.values, undefined);
        assert.equal(legacy.inputs.version, undefined);
        for (const field of ["chart", "version", "values"]) assert.ok(legacy.ignoreChanges?.includes(field), field);
    });

    it("refuses a queue whose token it is not given", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "k8s-no-token", config: {} }, () => {
                const provider = new kubernetes.Provider("cluster", {});
                new AgentStackK8s("notoken", { cluster: "c", namespace: "x", chartVersion: "0.47.0", queues: [{ name: "q", agentTokenSecret: "s", buildkiteCluster: "ci" }], placement: {}, agentTokens: {}, hfToken: "", analyticsToken: "" }, { provider });
                return {};
            }),
            /agent stack notoken: no agent token for the Secret s/,
        );
    });

    it("refuses to serve no queue", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "k8s-empty", config: {} }, () => {
                const provider = new kubernetes.Provider("cluster", {});
                new AgentStackK8s("empty", { cluster: "c", namespace: "x", chartVersion: "0.47.0", queues: [], placement: {}, agentTokens: {}, hfToken: "", analyticsToken: "" }, { provider });
                return {};
            }),
            /agent stack empty: no queues to serve/,
        );
    });

    it("refuses to fall back on a default provider", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "k8s-no-provider", config: {} }, () => {
                new AgentStackK8s("bare", { cluster: "c", namespace: "x", chartVersion: "0.47.0", queues: [{ name: "q", agentTokenSecret: "s", buildkiteCluster: "ci" }], placement: {}, agentTokens: { s: "t" }, hfToken: "", analyticsToken: "" });
                return {};
            }),
            /agent stack bare: no Kubernetes provider in opts.provider/,
        );
    });
});
