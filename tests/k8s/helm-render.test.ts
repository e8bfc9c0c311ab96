/**
 * Every agent-stack-k8s release of the gcp-prod plan, rendered by a real Helm from the chart
 * packaged as upstream releases it, with the exact values the program passes; then held against
 * the rest of the plan: the controller lands on a node pool the program creates (selectors and
 * tolerations against the pools' labels and taints), reads a Secret the program declares, is
 * configured only with keys the controller's config.go accepts, and patches job pods with a valid
 * Kubernetes PodSpec (kubernetes-models' schema of `io.k8s.api.core.v1.PodSpec`).
 */
import { strict as assert } from "assert";
import * as yaml from "js-yaml";
import { AGENT_TOKEN_KEY, LEGACY_RELEASE } from "../../k8s/chart";
import { GKE_NODE_POOL_LABEL } from "../../gcp/layout";
import type { ProgramRun, RecordedResource } from "../../plan/harness";
import { sharedPlan } from "../support/plans";
import { controllerConfigKeys, helmTemplate, schedulable, type Taint } from "./helm";

/** kubernetes-models ships ES modules only: a real dynamic import (TypeScript would turn `import()` into `require`). */
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<{ validate: ((data: unknown) => boolean) & { errors?: unknown } }>;
let validatePodSpec: ((data: unknown) => boolean) & { errors?: unknown };

const EFFECTS: Record<string, string> = { NO_SCHEDULE: "NoSchedule", PREFER_NO_SCHEDULE: "PreferNoSchedule", NO_EXECUTE: "NoExecute" };

/** The nodes a GKE node pool of the plan makes: its labels (GKE adds the pool's name) and taints (GKE taints GPU nodes). */
function nodesOf(pool: RecordedResource): { name: string; labels: Record<string, string>; taints: Taint[] } {
    const config = (pool.inputs.nodeConfig ?? {}) as Record<string, any>;
    const taints: Taint[] = ((config.taints ?? []) as { key: string; value: string; effect: string }[]).map((t) => ({ key: t.key, value: t.value, effect: EFFECTS[t.effect] ?? t.effect }));
    if ((config.guestAccelerators ?? []).length > 0) taints.push({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
    return { name: String(pool.inputs.name), labels: { ...(config.labels ?? {}), [GKE_NODE_POOL_LABEL]: String(pool.inputs.name) }, taints };
}

interface Rendered {
    release: RecordedResource;
    cluster: string;
    objects: Record<string, any>[];
}

describe("agent-stack-k8s rendered by Helm with the plan's values", function () {
    let plan: ProgramRun;
    let rendered: Rendered[];
    before(async function () {
        validatePodSpec = (await importEsm("kubernetes-models/_schemas/IoK8sApiCoreV1PodSpec")).validate;
        plan = await sharedPlan("gcp-prod");
        const releases = plan.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name !== LEGACY_RELEASE.name);
        rendered = releases.map((release) => ({
            release,
            cluster: String(release.parent).replace(/^ci:k8s:AgentStackK8s::agent-stack-/, ""),
            objects: helmTemplate(String(release.inputs.name), String(release.inputs.namespace), release.rawInputs.values),
        }));
    });

    const kind = (r: Rendered, k: string) => r.objects.filter((o) => o.kind === k);
    const deployment = (r: Rendered) => {
        const found = kind(r, "Deployment");
        assert.equal(found.length, 1, `${r.release.name}: one Deployment`);
        return found[0];
    };
    const configOf = (r: Rendered) => yaml.load(kind(r, "ConfigMap")[0].data["config.yaml"]) as Record<string, any>;

    it("renders every queue's controller of every cluster, each with an id of its own", () => {
        assert.ok(rendered.length >= 2, `releases: ${rendered.map((r) => r.release.name)}`);
        const ids = rendered.map((r) => configOf(r).id);
        assert.equal(new Set(ids).size, ids.length, `controller ids: ${ids.join(", ")}`);
        for (const r of rendered) assert.equal(configOf(r).id, r.release.inputs.name, "the id is the release name");
    });

    it("schedules each GKE controller on an untainted pool of its cluster, never on a queue's GPU pool", () => {
        const gke = rendered.filter((r) => plan.resources.some((p) => p.type === "gcp:container/nodePool:NodePool" && p.inputs.cluster === r.cluster));
        assert.ok(gke.length > 0, "the plan has GKE agent stacks");
        for (const r of gke) {
            const pod = deployment(r).spec.template.spec;
            const pools = plan.resources.filter((p) => p.type === "gcp:container/nodePool:NodePool" && p.inputs.cluster === r.cluster).map(nodesOf);
            const fits = pools.filter((node) => schedulable(pod, node)).map((node) => node.name);
            assert.deepEqual(fits, [`${r.cluster}-system`], `${r.release.name} fits ${fits.join(", ") || "no pool"}`);
        }
    });

    it("lands each GKE queue's job pods on that queue's pool alone", () => {
        for (const r of rendered) {
            const patch = configOf(r)["pod-spec-patch"];
            if (!patch) continue;
            const pools = plan.resources.filter((p) => p.type === "gcp:container/nodePool:NodePool" && p.inputs.cluster === r.cluster).map(nodesOf);
            const queue = String(configOf(r).tags[0]).replace(/^queue=/, "");
            const fits = pools.filter((node) => schedulable(patch, node));
            assert.deepEqual(fits.map((n) => n.labels["ci.vllm.ai/queue"]), [queue], `${r.release.name}`);
        }
    });

    it("leaves external clusters' controllers free of selectors and tolerations (their nodes are not the program's)", () => {
        const external = rendered.filter((r) => !plan.resources.some((p) => p.type === "gcp:container/nodePool:NodePool" && p.inputs.cluster === r.cluster));
        assert.ok(external.length > 0);
        for (const r of external) {
            const pod = deployment(r).spec.template.spec;
            assert.deepEqual([pod.nodeSelector ?? {}, pod.tolerations ?? []], [{}, []], r.release.name);
        }
    });

    it("reads the agent token from a Secret the program declares on the same cluster, never in plain text", () => {
        for (const r of rendered) {
            const sources = deployment(r).spec.template.spec.containers[0].envFrom.map((e: any) => e.secretRef.name);
            assert.equal(configOf(r)["agent-token-secret"], sources[0]);
            for (const name of sources) {
                const secret = plan.resources.find(
                    (s) => s.type === "kubernetes:core/v1:Secret" && (s.inputs.metadata as any)?.name === name && s.provider === r.release.provider && s.parent === r.release.parent,
                );
                assert.ok(secret, `${r.release.name}: Secret ${name} is declared by the program`);
                assert.deepEqual(Object.keys(secret!.rawInputs.stringData as object), [AGENT_TOKEN_KEY]);
                assert.equal(secret!.inputs.stringData, "[secret]", "never in plain text");
            }
            assert.equal(kind(r, "Secret").length, 0, "the chart makes no token Secret of its own");
        }
    });

    it("configures each controller only with keys its config.go accepts (it refuses unknown ones)", () => {
        const accepted = controllerConfigKeys();
        assert.ok(accepted.has("pod-spec-patch") && accepted.has("agent-token-secret") && !accepted.has("org"));
        for (const r of rendered) {
            const unknown = Object.keys(configOf(r)).filter((key) => !accepted.has(key));
            assert.deepEqual(unknown, [], r.release.name);
        }
    });

    it("patches job pods with a valid Kubernetes PodSpec", () => {
        const patches = rendered.map((r) => configOf(r)["pod-spec-patch"]).filter((p) => p !== undefined);
        assert.ok(patches.length > 0);
        for (const patch of patches) assert.ok(validatePodSpec(patch), JSON.stringify(validatePodSpec.errors));
        // The schema check can fail: a toleration with a numeric key, a container without a name.
        assert.equal(validatePodSpec({ containers: [{ resources: {} }] }), false);
        assert.equal(validatePodSpec({ containers: [], tolerations: [{ key: 3 }] }), false);
    });
});
