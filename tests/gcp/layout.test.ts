import { strict as assert } from "assert";
import { loadCatalog, queuesOf, type Catalog, type Provider, type QueueOf } from "../../catalog";
import { l4GpusOf, tpuShape } from "../../gcp/accelerators";
import { gcpFleetProblems, gkeManagedClusters, layoutGcpFleet, GcpLayoutError, QUEUE_NODE_LABEL, type GcpFleetLayout } from "../../gcp/layout";
import { agentServiceAccountId, fitName, tpuVmName } from "../../gcp/names";
import type { GcpSettings } from "../../gcp/settings";
import { dnsLabel as slug } from "../../lib/names";
import { GCP_FIXTURE_CATALOG, SAMPLE_GCP_SETTINGS as settings } from "../support/gcp-settings";

const STACK = "Pulumi.gcp-test.yaml";

/** A copy of the real catalog, changed by `edit`. */
function catalogWith(edit: (catalog: Catalog) => void): Catalog {
    const catalog = structuredClone(loadCatalog(GCP_FIXTURE_CATALOG));
    edit(catalog);
    return catalog;
}

function queue<P extends Provider>(catalog: Catalog, name: string, provider: P): QueueOf<P> {
    const found = queuesOf(catalog, provider).find((q) => q.name === name);
    assert.ok(found, name);
    return found;
}

/** The one problem of the layout (every problem is collected: the edits below each make one). */
function layoutError(catalog: Catalog, changed: Partial<GcpSettings> = {}): { type: string; message: string } {
    try {
        layoutGcpFleet(catalog, { ...settings, ...changed }, STACK);
    } catch (error) {
        assert.ok(error instanceof GcpLayoutError, String(error));
        assert.equal(error.problems.length, 1, error.message);
        return { type: error.name, message: error.message };
    }
    assert.fail("expected an error");
}

describe("GCP fleet layout from the catalog", () => {
    let catalog: Catalog;
    let layout: GcpFleetLayout;
    before(() => {
        catalog = loadCatalog(GCP_FIXTURE_CATALOG);
        layout = layoutGcpFleet(catalog, settings, STACK);
    });

    it("gives every non-Autopilot GKE cluster one L4 pool per GKE queue that names it", () => {
        for (const cluster of layout.gkeClusters) {
            const expected = cluster.autopilot ? [] : queuesOf(catalog, "gke").filter((q) => q.gke.clusters.includes(cluster.key));
            assert.deepEqual(cluster.pools.map((p) => p.queue), expected.map((q) => q.name), cluster.key);
            for (const pool of cluster.pools) {
                const q = queue(catalog, pool.queue, "gke");
                assert.equal(pool.machineType, q.machine.type);
                assert.equal(pool.minNodes, q.scale.min);
                assert.equal(pool.maxNodes, q.scale.max);
                assert.equal(pool.diskGb, q.machine.diskGb);
            }
        }
        assert.deepEqual(layout.gkeClusters.map((c) => [c.key, c.autopilot, c.pools.length]), [
            ["ci-us-central1", false, 3],
            ["ci-us-west1", false, 3],
            ["ci-autopilot-us-central1", true, 0],
        ]);
    });

    it("gives each L4 pool the GPU count its machine type carries", () => {
        for (const pool of layout.gkeClusters.flatMap((c) => c.pools)) assert.equal(pool.gpus, l4GpusOf(pool.machineType), pool.name);
        assert.deepEqual([l4GpusOf("g2-standard-12"), l4GpusOf("g2-standard-24"), l4GpusOf("g2-standard-48")], [1, 2, 4]);
    });

    it("hands the agent stack each cluster with pools, each pool pinned by the queue label with its GPUs", () => {
        assert.deepEqual(
            gkeManagedClusters(layout).map((c) => [c.name, c.pools.map((p) => `${p.queue}:${p.pool.labelKey}:${p.pool.gpus}`)]),
            ["ci-us-central1", "ci-us-west1"].map((key) => [key, [`gke_l4_1_queue:${QUEUE_NODE_LABEL}:1`, `gke_l4_2_queue:${QUEUE_NODE_LABEL}:2`, `gke_l4_4_queue:${QUEUE_NODE_LABEL}:4`]]),
        );
    });

    it("reports every problem at once, and none for the fixture", () => {
        assert.deepEqual(gcpFleetProblems(catalog, settings, STACK), []);
        const two = catalogWith((c) => {
            queue(c, "tpu_v5_queue", "tpu").tpu.acceleratorType = "v9z-4";
            queue(c, "tpu_v7x_2_queue", "tpu").tpu.spot = true;
        });
        assert.equal(gcpFleetProblems(two, settings, STACK).length, 2);
    });

    it("rejects an L4 count that does not match the machine type", () => {
        const bad = catalogWith((c) => {
            queue(c, "gke_l4_2_queue", "gke").machine.type = "g2-standard-48";
            c.machineTypes["g2-standard-48"] = { accelerator: "nvidia-l4", count: 4 };
        });
        assert.equal(layoutError(bad).message, `${catalog.file}: queue "gke_l4_2_queue": field machine.count: g2-standard-48 carries 4 L4 GPUs, not 2`);
        const cpu = catalogWith((c) => {
            Object.assign(queue(c, "gke_l4_1_queue", "gke").machine, { type: "n2-highmem-4", accelerator: undefined, count: undefined });
        });
        assert.match(layoutError(cpu).message, /queue "gke_l4_1_queue": field machine.type: n2-highmem-4 is not a G2/);
    });

    it("gives each TPU queue its catalog count of VMs, named stably per index", () => {
        for (const tpu of queuesOf(catalog, "tpu")) {
            const pool = layout.tpuPools.find((p) => p.queue.name === tpu.name)!;
            assert.equal(pool.vmNames.length, tpu.tpu.count);
            assert.deepEqual(pool.vmNames, Array.from({ length: tpu.tpu.count }, (_, i) => `${slug(tpu.name)}-${i}`));
            assert.equal(pool.zone, tpu.tpu.zone);
            assert.equal(pool.acceleratorType, tpu.tpu.acceleratorType);
            assert.equal(pool.runtimeVersion, tpu.tpu.runtimeVersion);
            assert.equal(pool.reserved, tpu.tpu.reserved === true);
            assert.deepEqual(pool.dataDisk, tpu.tpu.dataDisk);
            assert.equal(pool.project, "vllm-tpu-ci");
        }
    });

    it("keeps the other VMs' names when a pool shrinks or a queue is added", () => {
        const before = layout.tpuPools.map((p) => p.vmNames);
        const smaller = layoutGcpFleet(catalogWith((c) => (queue(c, "tpu_v6e_queue", "tpu").tpu.count = 5)), settings, STACK);
        const v6e = smaller.tpuPools.find((p) => p.queue.name === "tpu_v6e_queue")!;
        assert.deepEqual(v6e.vmNames, before[layout.tpuPools.findIndex((p) => p.queue.name === "tpu_v6e_queue")].slice(0, 5));
        const added = layoutGcpFleet(
            catalogWith((c) => c.queues.splice(c.queues.findIndex((q) => q.name === "tpu_v5_queue"), 0, { ...structuredClone(queue(c, "tpu_v5_queue", "tpu")), name: "tpu_v5_extra" })),
            settings,
            STACK,
        );
        for (const pool of layout.tpuPools) assert.deepEqual(added.tpuPools.find((p) => p.queue.name === pool.queue.name)!.vmNames, pool.vmNames);
    });

    it("makes only slices of more than 8 v7x cores multi-host", () => {
        const multiHost = layout.tpuPools.filter((p) => p.hosts > 1).map((p) => [p.queue.name, p.hosts]);
        assert.deepEqual(multiHost, [["tpu_v7x_16_queue", 2]]);
        assert.equal(tpuShape("tpu7x-8")!.hosts, 1);
        assert.equal(tpuShape("v6e-8")!.hosts, 1);
        assert.equal(tpuShape("v5litepod-16")!.hosts, 2);
    });

    it("rejects an unknown TPU type, a disk the TPU cannot attach, and reserved spot capacity", () => {
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v5_queue", "tpu").tpu.acceleratorType = "v9z-4"))).message, /queue "tpu_v5_queue": field tpu.acceleratorType: unknown TPU type "v9z-4"/);
        assert.equal(
            layoutError(catalogWith((c) => (queue(c, "tpu_v6e_queue", "tpu").tpu.dataDisk = { type: "pd-ssd", sizeGb: 512 }))).message,
            `${catalog.file}: queue "tpu_v6e_queue": field tpu.dataDisk.type: TPU v6e attaches hyperdisk-balanced, not pd-ssd`,
        );
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v7x_2_queue", "tpu").tpu.spot = true))).message, /queue "tpu_v7x_2_queue": field tpu.spot: a VM is either reserved or spot/);
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v7x_2_queue", "tpu").tpu.count = 0))).message, /field tpu.count: must be a positive whole number/);
    });

    it("rejects a queue in a region the stack does not list", () => {
        const { message } = layoutError(catalog, { regions: ["us-central1", "us-west1", "us-east5"] });
        assert.equal(message, `${catalog.file}: queue "tpu_v5_queue": field tpu.zone: region us-south1 is not in ci:gcpRegions of ${STACK} (us-central1, us-west1, us-east5)`);
        assert.match(layoutError(catalog, { regions: ["us-central1", "us-south1", "us-east5"] }).message, /gkeClusters "ci-us-west1": field region: region us-west1/);
    });

    it("lays out the CPU builders from the catalog", () => {
        assert.deepEqual(
            layout.builders.map((b) => [b.queue.name, b.machineType, b.diskGb, b.preemptible, b.region, b.minSize, b.maxSize]),
            [
                ["cpu-gcp", "n2-highmem-64", 512, true, "us-central1", 0, 8],
                ["small-cpu-gcp", "n2-highmem-4", 128, true, "us-central1", 0, 16],
            ],
        );
    });

    it("declares the agent token secrets of the Buildkite clusters VM agents use", () => {
        assert.deepEqual(layout.agentTokenSecretIds, ["bk-agent-token-cluster-ci"]);
        const withRelease = catalogWith((c) => (queue(c, "cpu-gcp", "gce").cluster = "release"));
        assert.deepEqual(layoutGcpFleet(withRelease, settings, STACK).agentTokenSecretIds, ["bk-agent-token-cluster-ci", "bk-agent-token-cluster-release"]);
    });

    it("rejects GKE pools of another accelerator, and clusters whose zones are elsewhere or missing", () => {
        const h100 = catalogWith((c) => {
            c.machineTypes["g2-standard-12"] = { accelerator: "nvidia-h100", count: 1 };
            queue(c, "gke_l4_1_queue", "gke").machine.accelerator = "nvidia-h100";
        });
        assert.match(layoutError(h100).message, /queue "gke_l4_1_queue": field machine.accelerator: GKE pools here are nvidia-l4, not nvidia-h100/);
        assert.match(
            layoutError(catalogWith((c) => (c.gkeClusters["ci-us-west1"].zones = ["us-west1-a", "us-east1-b"]))).message,
            /gkeClusters "ci-us-west1": field zones: us-east1-b is not in region us-west1/,
        );
        assert.match(layoutError(catalogWith((c) => (c.gkeClusters["ci-us-west1"].zones = []))).message, /gkeClusters "ci-us-west1": field zones: a Standard cluster needs at least one zone/);
    });

    it("rejects a TPU zone that is not a zone", () => {
        assert.match(layoutError(catalogWith((c) => (queue(c, "tpu_v5_queue", "tpu").tpu.zone = "us-south1"))).message, /queue "tpu_v5_queue": field tpu.zone: "us-south1" is not a zone/);
    });

});

describe("GCP names", () => {
    it("derive service account ids within GCP's 6 to 30 characters, unique when cut", () => {
        assert.equal(agentServiceAccountId("tpu_v7x_16_queue"), "bk-tpu-v7x-16-queue");
        const long = agentServiceAccountId("a_really_long_queue_name_for_testing_one");
        const other = agentServiceAccountId("a_really_long_queue_name_for_testing_two");
        assert.ok(long.length <= 30 && other.length <= 30);
        assert.notEqual(long, other);
        assert.match(long, /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    });

    it("name TPU VMs by queue and index", () => {
        assert.equal(tpuVmName("tpu_v6e_queue", 3), "tpu-v6e-queue-3");
        assert.equal(fitName("short", 10), "short");
    });

    it("reject two queues that collapse onto one service account", () => {
        const clash = catalogWith((c) => c.queues.push({ ...structuredClone(queue(c, "cpu-gcp", "gce")), name: "cpu_gcp" }));
        assert.match(layoutError(clash).message, /queue "cpu_gcp": field name: its service account "sa:bk-cpu-gcp" collides with queue "cpu-gcp"'s/);
    });
});
