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
                namespace: "ci-agents",
                chartVersion: "0.47.0",
                queues: [
                    { name: "a100_queue", agentTokenSecret: "bk-agent-token-cluster-ci" },
                    { name: "perf-benchmark-h200", agentTokenSecret: "bk-agent-token-cluster-perf-benchmark", maxInFlight: 4 },
                ],
                hfToken: "hf-plain-input",
                analyticsToken: "analytics-plain-input",
            }, { provider });
            return {};
        });
    });

    it("installs one release per queue in its namespace, through the given provider", () => {
        const releases = ofType(run, "kubernetes:helm.sh/v3:Release");
        assert.deepEqual(releases.map((r) => [r.inputs.name, r.inputs.namespace, r.provider]), [
            ["agent-stack-a100-queue", "ci-agents", "pulumi:providers:kubernetes::cluster"],
            ["agent-stack-perf-benchmark-h200", "ci-agents", "pulumi:providers:kubernetes::cluster"],
        ]);
        const perf = resource(run, "kubernetes:helm.sh/v3:Release", "stack-agent-stack-perf-benchmark-h200");
        assert.deepEqual(perf.inputs.values, { agentStackSecret: "bk-agent-token-cluster-perf-benchmark", config: { tags: ["queue=perf-benchmark-h200"], "max-in-flight": 4 } });
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

    it("refuses to serve no queue", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "k8s-empty", config: {} }, () => {
                const provider = new kubernetes.Provider("cluster", {});
                new AgentStackK8s("empty", { namespace: "x", chartVersion: "0.47.0", queues: [], hfToken: "", analyticsToken: "" }, { provider });
                return {};
            }),
            /agent stack empty: no queues to serve/,
        );
    });

    it("refuses to fall back on a default provider", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "k8s-no-provider", config: {} }, () => {
                new AgentStackK8s("bare", { namespace: "x", chartVersion: "0.47.0", queues: [{ name: "q", agentTokenSecret: "s" }], hfToken: "", analyticsToken: "" });
                return {};
            }),
            /agent stack bare: no Kubernetes provider in opts.provider/,
        );
    });
});
