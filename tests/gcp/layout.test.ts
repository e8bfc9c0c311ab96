import { strict as assert } from "assert";
import { loadCatalog, queuesOf, type Catalog, type Provider, type QueueOf } from "../../catalog";
import { l4GpusOf, tpuShape } from "../../gcp/accelerators";
import {
    agentTokenSecretOf,
    gcpFleetProblems,
    gkeManagedClusters,
    layoutGcpFleet,
    GcpLayoutError,
    GKE_NODE_POOL_LABEL,
    QUEUE_NODE_LABEL,
    queueJobsMetric,
    type GcpFleetLayout,
} from "../../gcp/layout";
import { agentServiceAccountId, fitName, indexedName } from "../../gcp/names";
import type { GcpSettings } from "../../gcp/settings";
import { GCP_FIXTURE_CATALOG, SAMPLE_GCP_SETTINGS as settings } from "../support/gcp-settings";

const STACK = "Pulumi.gcp-test.yaml";
const ALL_REGIONS = { regions: ["us-central1", "us-west1", "us-south1", "us-east5"] };

/** A copy of the fixture catalog, changed by `edit`. */
function catalogWith(edit: (catalog: Catalog) => void): Catalog {
    const catalog = structuredClone(loadCatalog(GCP_FIXTURE_CATALOG));
    edit(catalog);
    return catalog;
}

function queue<P extends Provider>(catalog: Catalog, name: string, provider: P, cluster?: string): QueueOf<P> {
    const found = queuesOf(catalog, provider).find((q) => q.name === name && (cluster === undefined || q.cluster === cluster));
    assert.ok(found, name);
    return found;
}

/** The one problem of the layout (every problem is collected: the edits below each make one). */
function layoutError(catalog: Catalog, changed: Partial<GcpSettings> = {}): string {
    try {
        layoutGcpFleet(catalog, { ...settings, ...ALL_REGIONS, ...changed }, STACK);
    } catch (error) {
        assert.ok(error instanceof GcpLayoutError, String(error));
        assert.equal(error.problems.length, 1, error.message);
        return error.message;
    }
    assert.fail("expected an error");
}

describe("GCP fleet layout from the catalog", () => {
    let catalog: Catalog;
    let layout: GcpFleetLayout;
    before(() => {
        catalog = loadCatalog(GCP_FIXTURE_CATALOG);
        layout = layoutGcpFleet(catalog, { ...settings, ...ALL_REGIONS }, STACK);
    });

    it("names each L4 pool as live, <cluster>-l4-<GPUs>, with the queue's machine and scale", () => {
        for (const cluster of layout.gkeClusters) {
            const expected = cluster.autopilot ? [] : queuesOf(catalog, "gke").filter((q) => q.gke.clusters.includes(cluster.key));
            assert.deepEqual(cluster.pools.map((p) => p.queue), expected.map((q) => q.name), cluster.key);
            for (const pool of cluster.pools) {
                const q = queue(catalog, pool.queue, "gke");
                assert.equal(pool.name, `${cluster.key}-l4-${l4GpusOf(q.machine.type)}`);
                assert.deepEqual([pool.machineType, pool.minNodes, pool.maxNodes, pool.diskGb], [q.machine.type, q.scale.min, q.scale.max, q.machine.diskGb]);
            }
        }
        assert.deepEqual(layout.gkeClusters.find((c) => c.key === "vllm-ci-test-cluster")!.pools.map((p) => p.name), [
            "vllm-ci-test-cluster-l4-1",
            "vllm-ci-test-cluster-l4-2",
            "vllm-ci-test-cluster-l4-4",
        ]);
    });

    it("gives every Standard cluster with pools an untainted system pool, and the Autopilot one none", () => {
        for (const cluster of layout.gkeClusters) {
            if (cluster.autopilot) assert.equal(cluster.systemPool, undefined);
            else assert.equal(cluster.systemPool?.name, `${cluster.key}-system`);
        }
    });

    it("keeps the catalog's reason on clusters whose pools stay on the default account", () => {
        const kept = layout.gkeClusters.filter((c) => c.defaultNodeServiceAccount).map((c) => c.key);
        assert.deepEqual(kept, ["vllm-ci-test-cluster", "vllm-ci-test-cluster-us-west-1"]);
        const dedicated = layoutGcpFleet(catalogWith((c) => delete c.gkeClusters["vllm-ci-test-cluster"].defaultNodeServiceAccount), { ...settings, ...ALL_REGIONS }, STACK);
        assert.equal(dedicated.gkeClusters[0].defaultNodeServiceAccount, undefined);
    });

    it("hands the agent stack each cluster with pools, its pools by label and GPUs, its controllers on the system pool", () => {
        const managed = gkeManagedClusters(layout);
        assert.deepEqual(managed.map((m) => m.name), ["vllm-ci-test-cluster", "vllm-ci-test-cluster-us-west-1"]);
        for (const m of managed) {
            assert.deepEqual(m.controllerNodeSelector, { [GKE_NODE_POOL_LABEL]: `${m.name}-system` });
            for (const { queue: q, pool } of m.pools) assert.deepEqual(pool, { labelKey: QUEUE_NODE_LABEL, gpus: l4GpusOf(queue(catalog, q, "gke").machine.type) });
        }
    });

    it("reports every problem at once, and none for the fixture", () => {
        assert.deepEqual(gcpFleetProblems(catalog, { ...settings, ...ALL_REGIONS }, STACK), []);
        const broken = catalogWith((c) => {
            queue(c, "gke_l4_2_queue", "gke").machine.type = "g2-standard-12";
            queue(c, "tpu_v5_queue", "tpu").tpu.groups[0].zone = "europe-west4-a";
        });
        assert.equal(gcpFleetProblems(broken, { ...settings, ...ALL_REGIONS }, STACK).length, 4, "L4 count, the pool name collision in each cluster, region");
    });

    it("lays out each TPU group in its project and zone, VMs and disks named by the catalog's patterns", () => {
        const v5 = layout.tpuGroups.find((g) => g.queue.name === "tpu_v5_queue")!;
        assert.deepEqual(
            v5.vms.map((vm) => [vm.name, vm.disk?.name]),
            [1, 2, 3].map((n) => [`vllm-tpu-v5-${n}`, `tpu-disk-south1-a-${n}`]),
        );
        assert.deepEqual([v5.project, v5.zone, v5.region, v5.reserved], ["vllm-405802", "us-south1-a", "us-south1", false]);
        const commons = layout.tpuGroups.find((g) => g.queue.name === "tpu_v6e_queue" && g.organization === "tpu-commons")!;
        assert.deepEqual(commons.vms.map((vm) => [vm.name, vm.disk?.name]), [0, 1].map((n) => [`v6e-1-ci-${n}-test-us-east5-a`, `v6e-1-ci-${n}-test-us-east5-a-disk`]));
        assert.equal(commons.reserved, true);
        const v7x8 = layout.tpuGroups.filter((g) => g.queue.name === "tpu_v7x_8_queue");
        assert.deepEqual(v7x8.map((g) => [g.project, g.vms.length, g.vms[0].disk?.sizeGb]), [["cloud-tpu-inference-test", 1, 1024], ["cloud-ullm-inference-ci-cd", 2, 4096]]);
    });

    it("names a queue's groups apart by organization, project and zone (one name may serve two organizations)", () => {
        const names = layout.tpuGroups.map((g) => g.name);
        assert.equal(new Set(names).size, names.length);
        assert.ok(names.includes("tpu_v6e_queue-vllm-405802-us-east5-b"));
        assert.ok(names.includes("tpu-commons-tpu_v6e_queue-cloud-tpu-inference-test-us-east5-a"));
    });

    it("reads each organization's secrets in its own project, the queue's cluster's token with them", () => {
        const vllm = layout.tpuGroups.find((g) => g.queue.name === "tpu_v5_queue")!;
        assert.deepEqual(vllm.secrets, { project: "vllm-405802", agentToken: "buildkite_agent_token_ci_cluster", hfToken: "huggingface_token" });
        const commons = layout.tpuGroups.find((g) => g.organization === "tpu-commons")!;
        assert.deepEqual(commons.secrets, {
            project: "cloud-tpu-inference-test",
            agentToken: "tpu_commons_buildkite_agent_token",
            hfToken: "tpu_commons_buildkite_hf_token",
            analyticsToken: "tpu_commons_buildkite_analytics_token",
        });
        assert.equal(commons.githubApp?.pemSecret, "GITHUB_CI_BOT_PEM");
        assert.equal(vllm.githubApp, undefined);
        assert.deepEqual(agentTokenSecretOf(catalog, "perf_benchmark"), { project: "vllm-405802", secretId: "buildkite_agent_token_benchmark_cluster" });
    });

    it("declares each secret once per project, and grants each project's default account only its agents' secrets", () => {
        const refs = layout.secrets.map((s) => `${s.project}/${s.secretId}`);
        assert.equal(new Set(refs).size, refs.length);
        for (const ref of ["vllm-405802/buildkite_agent_token_ci_cluster", "vllm-405802/buildkite_agent_token_benchmark_cluster", "cloud-tpu-inference-test/tpu_commons_buildkite_agent_token"]) {
            assert.ok(refs.includes(ref), ref);
        }
        const grants = Object.fromEntries(layout.defaultAccountSecrets.map((g) => [g.project, g.secrets.map((s) => s.secretId)]));
        assert.deepEqual(grants["vllm-405802"], ["buildkite_agent_token_ci_cluster", "huggingface_token"]);
        // The builders run as accounts of their own: vllm-gcp's default account gets nothing.
        assert.equal(grants["vllm-gcp"], undefined);
        // The exporter's project reads the tpu-commons token (and so do its agents).
        assert.ok(grants["cloud-ullm-inference-ci-cd"].includes("tpu_commons_buildkite_agent_token"));
    });

    it("makes only slices of more than 8 v7x cores multi-host", () => {
        assert.equal(layout.tpuGroups.find((g) => g.queue.name === "tpu_v7x_16_queue")!.hosts, 2);
        assert.equal(layout.tpuGroups.find((g) => g.queue.name === "tpu_v7x_8_queue")!.hosts, 1);
        assert.equal(tpuShape("tpu7x-16")?.hosts, 2);
    });

    it("lays out fixed CPU VMs per zone with their static addresses, and builder groups as named live", () => {
        assert.deepEqual(
            layout.fixedVms.map((g) => [g.zone, g.vms.map((vm) => `${vm.name}@${vm.address}`)]),
            [
                ["us-central1-b", ["vllm-ci-cpu-64-core-0@vllm-ci-cpu-64-core-0-ip", "vllm-ci-cpu-64-core-1@vllm-ci-cpu-64-core-1-ip"]],
                ["us-central1-c", ["vllm-ci-cpu-64-core-0@vllm-ci-cpu-64-core-zone-c-0-ip", "vllm-ci-cpu-64-core-1@vllm-ci-cpu-64-core-zone-c-1-ip"]],
            ],
        );
        const builder = layout.builders.find((b) => b.queue.name === "cpu-gcp")!;
        assert.deepEqual(builder.group, { name: "builder-group", baseInstanceName: "builder-instance", templatePrefix: "builder-template-", zones: ["us-central1-a", "us-central1-b"] });
        assert.deepEqual([builder.minSize, builder.maxSize, builder.metric], [1, 1, undefined]);
    });

    it("scales a group only on its cluster's exporter's metric, published to the group's project", () => {
        assert.match(layoutError(catalogWith((c) => (queue(c, "cpu-gcp", "gce").scale = { min: 1, max: 4 }))), /queue "cpu-gcp": field scale: scale.min < scale.max needs a metrics exporter of Buildkite cluster "ci"/);
        const elsewhere = catalogWith((c) => {
            const q = queue(c, "cpu-gcp", "gce");
            q.scale = { min: 1, max: 4 };
            q.cluster = "tpu_commons";
        });
        assert.match(layoutError(elsewhere), /the exporter of cluster "tpu_commons" publishes to cloud-ullm-inference-ci-cd, not the group's project vllm-gcp/);
        assert.deepEqual(queueJobsMetric("tpu-commons", "cpu"), {
            name: "custom.googleapis.com/buildkite/tpu_commons/UnfinishedJobsCount",
            filter: 'resource.type = "global" AND metric.label.Queue = "cpu"',
        });
    });

    it("lays out the exporter and the cache bucket of the catalog", () => {
        assert.deepEqual(
            layout.exporters.map((e) => [e.name, e.project, e.zone, e.tokenSecret]),
            [["vllm-ci-monitoring-cpu-0", "cloud-ullm-inference-ci-cd", "us-central1-b", { project: "cloud-tpu-inference-test", secretId: "tpu_commons_buildkite_agent_token" }]],
        );
        assert.deepEqual(layout.buckets.map((b) => [b.name, b.deleteAfterDays, b.anywhereCacheZones]), [["ullm-ci-cache", 4, ["us-central1-b", "us-central1-c"]]]);
    });

    it("gives one provider per project that holds anything", () => {
        assert.deepEqual(layout.projects, ["cloud-tpu-inference-test", "cloud-ullm-inference-ci-cd", "vllm-405802", "vllm-gcp"]);
    });

    it("rejects an unknown TPU type, a disk the TPU cannot attach, reserved spot capacity and a pattern without {index}", () => {
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v5_queue", "tpu").tpu.acceleratorType = "v9-8"))), /field tpu.acceleratorType: unknown TPU type "v9-8"/);
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v6e_queue", "tpu", "ci").tpu.groups[0].dataDisk!.type = "pd-ssd"))), /field tpu.groups\[0\].dataDisk.type: TPU v6e attaches hyperdisk-balanced, not pd-ssd/);
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v6e_queue", "tpu", "tpu_commons").tpu.groups[0].spot = true))), /field tpu.groups\[0\].spot: a VM is either reserved or spot/);
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v5_queue", "tpu").tpu.groups[0].vmName = "vllm-tpu-v5"))), /field tpu.groups\[0\].vmName: 3 VMs need \{index\} in their name/);
    });

    it("holds a TPU machine type's count to its accelerator type's name (v7x counts TensorCores; chips come from the name)", () => {
        const chips = catalogWith((c) => {
            c.machineTypes["tpu7x-8"] = { accelerator: "tpu-v7x", count: 4 };
            queue(c, "tpu_v7x_8_queue", "tpu").machine.count = 4;
        });
        assert.match(layoutError(chips), /queue "tpu_v7x_8_queue": field machine.type: machineTypes "tpu7x-8" counts 4, but tpu.acceleratorType tpu7x-8 is 8 TensorCores = 4 chips per slice/);
        const otherSlice = catalogWith((c) => (queue(c, "tpu_v7x_8_queue", "tpu").tpu.acceleratorType = "tpu7x-16"));
        assert.match(layoutError(otherSlice), /machineTypes "tpu7x-8" counts 8, but tpu.acceleratorType tpu7x-16 is 16 TensorCores = 8 chips per slice/);
    });

    it("rejects a group in a region the stack does not list", () => {
        assert.match(
            layoutError(catalog, { regions: ["us-central1", "us-west1", "us-east5"] }),
            /queue "tpu_v5_queue": field tpu.groups\[0\].zone: region us-south1 is not in ci:gcpRegions of Pulumi.gcp-test.yaml/,
        );
    });

    it("rejects two groups that collapse onto one VM name", () => {
        const twin = catalogWith((c) => (queue(c, "tpu_v7x_8_queue", "tpu").tpu.groups[1].vmName = "tpu7x-16-ci-bk-{index}-cicd-us-central1-c"));
        assert.match(layoutError(twin), /its TPU VM name "tpu7x-16-ci-bk-0-cicd-us-central1-c" collides with/);
    });

    it("rejects GKE pools of another accelerator, and clusters whose zones are elsewhere or missing", () => {
        assert.match(layoutError(catalogWith((c) => (queue(c, "gke_l4_1_queue", "gke").machine.type = "n2-highmem-4"))), /n2-highmem-4 is not a G2 \(NVIDIA L4\) machine type/);
        assert.match(layoutError(catalogWith((c) => (c.gkeClusters["vllm-ci-test-cluster"].zones = ["us-west1-a"]))), /gkeClusters "vllm-ci-test-cluster": field zones: us-west1-a is not in region us-central1/);
    });
});

describe("GCP names", () => {
    it("derive service account ids within GCP's 6 to 30 characters, unique when cut", () => {
        const long = agentServiceAccountId("a-very-long-queue-name-for-the-fleet-1");
        assert.ok(long.length <= 30 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(long), long);
        assert.notEqual(long, agentServiceAccountId("a-very-long-queue-name-for-the-fleet-2"));
        assert.equal(fitName("short", 30), "short");
    });

    it("fill {index} in the catalog's patterns", () => {
        assert.equal(indexedName("vllm-tpu-v6-ci-{index}", 3), "vllm-tpu-v6-ci-3");
        assert.equal(indexedName("exporter", 0), "exporter");
    });
});

describe("GCP autoscaling metric", () => {
    it("refuses a group that scales on a metric premerge agents of its project could write", () => {
        const catalog = structuredClone(loadCatalog(GCP_FIXTURE_CATALOG));
        const cpu = queuesOf(catalog, "gce").find((q) => q.name === "cpu_64_core")!;
        // A scaled group of tpu-commons in the exporter's project, beside premerge VMs on the default account.
        catalog.queues.push({ ...structuredClone(queuesOf(catalog, "gce").find((q) => q.name === "cpu-gcp")!), cluster: "tpu_commons", scale: { min: 1, max: 3 }, gce: { region: "us-central1", project: "cloud-ullm-inference-ci-cd", group: { name: "g", baseInstanceName: "g", templatePrefix: "g-", zones: ["us-central1-b"] } } });
        const problems = gcpFleetProblems(catalog, { ...settings, ...ALL_REGIONS }, STACK);
        assert.ok(problems.some((p) => p.includes(`premerge queue "${cpu.name}" runs as the default compute account and could write it`)), problems.join("\n"));
    });
});
