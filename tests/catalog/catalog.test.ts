import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import {
    CatalogError,
    DEFAULT_CATALOG_PATH,
    lintProblems,
    loadCatalog,
    parseCatalog,
    resolveDevice,
    routeStep,
    amdDevices,
    queueNamed,
    queuesOf,
} from "../../catalog";

const catalogText = fs.readFileSync(DEFAULT_CATALOG_PATH, "utf8");
const catalog = loadCatalog();

/** The fleet's catalog with one textual edit, which must apply exactly once. */
function edited(find: string | RegExp, replace: string): string {
    const count = typeof find === "string" ? catalogText.split(find).length - 1 : (catalogText.match(new RegExp(find, "g")) ?? []).length;
    assert.equal(count, 1, `the edit must hit exactly one place: ${String(find)}`);
    return catalogText.replace(find, replace);
}

/** Every problem of a bad catalog, one line each naming the file; the message is those lines. */
function loadError(text: string): string {
    try {
        parseCatalog(text, "queues.yaml");
    } catch (error) {
        assert.ok(error instanceof CatalogError, `expected a CatalogError, got ${String(error)}`);
        assert.equal(error.message, error.problems.join("\n"));
        for (const line of error.problems) assert.match(line, /^queues\.yaml: (queue|routing rule|device|section|machineTypes|top level|defaults|buildkiteClusters|YAML)/);
        return error.message;
    }
    assert.fail("the catalog was accepted");
}

describe("catalog: the fleet's queues.yaml", () => {
    it("passes lint", () => {
        assert.deepEqual(lintProblems(catalog), []);
    });

    it("holds every queue of the upstream fleet with its size", () => {
        const expectations: [string, string, string | undefined, number | undefined][] = [
            ["small_cpu_queue_premerge", "aws", "r6in.large", 40],
            ["medium_cpu_queue_premerge", "aws", "r6in.4xlarge", 40],
            ["cpu_queue_premerge", "aws", "r6in.16xlarge", 10],
            ["arm64_cpu_queue_premerge", "aws", "r7g.16xlarge", 10],
            ["cpu_queue_premerge_us_east_1", "aws", "r6in.16xlarge", 20],
            ["small_cpu_queue_postmerge", "aws", "r6in.large", 10],
            ["cpu_queue_postmerge", "aws", "r6in.16xlarge", 10],
            ["arm64_cpu_queue_postmerge", "aws", "r7g.16xlarge", 10],
            ["cpu_queue_postmerge_us_east_1", "aws", "r6in.16xlarge", 10],
            ["gpu_1_queue", "aws", "g6.4xlarge", 208],
            ["gpu_4_queue", "aws", "g6.12xlarge", 64],
            ["cpu-gcp", "gce", "n2-highmem-64", undefined],
            ["small-cpu-gcp", "gce", "n2-highmem-4", undefined],
        ];
        for (const [name, provider, type, max] of expectations) {
            const queue = catalog.queues.find((q) => q.name === name);
            assert.ok(queue, `queue ${name} is declared`);
            assert.equal(queue.provider, provider, name);
            assert.equal(queue.machine?.type, type, name);
            if (max !== undefined) assert.equal("scale" in queue ? queue.scale?.max : undefined, max, name);
        }
        for (const name of ["small_cpu_queue_release", "cpu_queue_release", "arm64_cpu_queue_release"]) {
            const queue = catalog.queues.find((q) => q.name === name);
            assert.equal(queue?.stage, "release", name);
            assert.equal(queue?.region, "us-east-1", name);
        }
        const eastPremerge = queueNamed(catalog, "cpu_queue_premerge_us_east_1", "aws");
        assert.equal(eastPremerge.aws?.imageIdParameter, "/buildkite/cpu-build-ami/us-east-1");
        assert.deepEqual(eastPremerge.aws?.rootVolume, { iops: 16000, throughputMBps: 1000 });
        const gpu1 = queueNamed(catalog, "gpu_1_queue", "aws");
        assert.equal(gpu1.scale?.terminateAfterJob, true);
        const gpu4 = queueNamed(catalog, "gpu_4_queue", "aws");
        assert.deepEqual([gpu4.scale?.min, gpu4.scale?.idleSeconds, gpu4.scale?.terminateAfterJob], [1, 1200, false]);
        assert.equal(gpu4.machine?.count, 4);
    });

    it("has TPU queues for v5e, v6e and v7x, and AMD queues in 1/2/4/8 sizes", () => {
        const tpuTypes = queuesOf(catalog, "tpu").map((q) => q.tpu.acceleratorType);
        for (const type of ["v5litepod-1", "v6e-1", "v6e-8", "tpu7x-2", "tpu7x-8"]) assert.ok(tpuTypes.includes(type), type);
        for (const family of ["mi250", "mi300", "mi325", "mi355"]) {
            for (const n of [1, 2, 4, 8]) {
                assert.equal(amdDevices(catalog).get(`${family}_${n}`), n);
                assert.ok(catalog.queues.some((q) => q.name === `amd_${family}_${n}`));
            }
        }
    });

    it("merges provider defaults under the queue's own values", () => {
        const small = queueNamed(catalog, "small_cpu_queue_postmerge", "aws");
        assert.equal(small.region, "us-west-2", "from defaults.aws");
        assert.equal(small.scale?.max, 10, "from defaults.aws");
        const release = catalog.queues.find((q) => q.name === "cpu_queue_release")!;
        assert.equal(release.cluster, "release", "the queue's own value wins");
    });
});

describe("catalog: routing (spec §4.5)", () => {
    const route = (label: string, device?: string, numDevices?: number, branch = "feature/x") =>
        routeStep(catalog, { label, device, numDevices }, branch);

    it("routes docker builds by branch and architecture", () => {
        assert.equal(route(":docker: build image"), "cpu_queue_premerge_us_east_1");
        assert.equal(route(":docker: build image", undefined, undefined, "main"), "cpu_queue_postmerge_us_east_1");
        assert.equal(route(":docker: build arm64 image"), "arm64_cpu_queue_premerge");
        assert.equal(route(":docker: build arm64 image", "h100", 8, "main"), "arm64_cpu_queue_postmerge");
    });

    it("sends Documentation Build to the small CPU queue whatever its device", () => {
        assert.equal(route("Documentation Build", "h100"), "small_cpu_queue_premerge");
        assert.equal(resolveDevice(catalog, "h100").plugin, "kubernetes");
    });

    it("routes devices, with device counts before zen5 and a default", () => {
        assert.equal(route("t", "cpu", undefined, "main"), "cpu_queue_premerge_us_east_1");
        assert.equal(route("t", "h100", 8), "mithril-h100-pool");
        assert.equal(route("t", "mi325_4"), "amd_mi325_4");
        assert.equal(route("t", "zen5", 2), "gpu_4_queue");
        assert.equal(route("t", "zen5"), "amd-zen5-cpu");
        assert.equal(route("t", undefined, 4), "gpu_4_queue");
        assert.equal(route("t", undefined, 8), "gpu_1_queue");
        assert.equal(route("t", "l4"), "gpu_1_queue");
        assert.equal(resolveDevice(catalog, "l4"), catalog.devices.default);
    });
});

describe("catalog: bad input fails with one line naming file, queue and field", () => {
    it("rejects YAML syntax errors", () => {
        assert.match(loadError("queues: [unclosed\n"), /^queues\.yaml: YAML syntax error/);
    });

    it("rejects a duplicate queue name, with every consequence at once", () => {
        const text = edited("  - name: medium_cpu_queue_premerge\n", "  - name: small_cpu_queue_premerge\n");
        const lines = loadError(text).split("\n");
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.equal(lines[0], 'queues.yaml: queue "small_cpu_queue_premerge": field name: declared more than once in organization vllm');
        assert.match(lines[1], /^queues\.yaml: routing rule \d+: field queue: unknown queue "medium_cpu_queue_premerge"/);
    });

    it("rejects an AWS queue outside the trust stages: its IAM follows its stage", () => {
        const text = edited("  - name: bootstrap\n    provider: aws\n    stage: premerge\n", "  - name: bootstrap\n    provider: aws\n    stage: any\n");
        assert.equal(loadError(text), 'queues.yaml: queue "bootstrap": field stage: must be one of premerge, postmerge, release');
    });

    it("rejects a missing provider section, from the provider's schema", () => {
        const text = edited("    gke: { clusters: [vllm-ci-test-cluster, vllm-ci-test-cluster-us-west-1] }\n  - name: gke_l4_2_queue", "  - name: gke_l4_2_queue");
        assert.equal(loadError(text), 'queues.yaml: queue "gke_l4_1_queue": missing field "gke"');
    });

    it("rejects an unknown provider", () => {
        const text = edited("  - name: cpu-gcp\n    provider: gce\n", "  - name: cpu-gcp\n    provider: azure\n");
        assert.match(loadError(text), /queue "cpu-gcp": field provider: must be one of aws, gke, tpu, gce, k8s, external/);
    });

    it("rejects min greater than max", () => {
        const text = edited("scale: { min: 1, max: 64, idleSeconds: 1200", "scale: { min: 65, max: 64, idleSeconds: 1200");
        assert.match(loadError(text), /queue "gpu_4_queue": field scale\.min: 65 is greater than scale\.max \(64\)/);
    });

    it("rejects a routing rule pointing at no queue", () => {
        const text = edited("{ match: { device: [a100] }, queue: a100_queue }", "{ match: { device: [a100] }, queue: a100_queeu }");
        assert.match(loadError(text), /routing rule \d+: field queue: unknown queue "a100_queeu" \(did you mean "a100_queue"\?\)/);
    });

    it("rejects a typo in a field name with a suggestion", () => {
        const text = edited("scale: { min: 1, max: 64, idleSeconds: 1200, terminateAfterJob: false }", "scale: { min: 1, max: 64, idleSeconds: 1200, terminateAfterJobs: false }");
        assert.match(loadError(text), /queue "gpu_4_queue": field scale: unknown field "terminateAfterJobs" \(did you mean "terminateAfterJob"\?\)/);
    });

    it("rejects an accelerator count that does not match the machine type", () => {
        const text = edited("machine: { type: g6.12xlarge, accelerator: nvidia-l4, count: 4", "machine: { type: g6.12xlarge, accelerator: nvidia-l4, count: 8");
        assert.match(loadError(text), /queue "gpu_4_queue": field machine\.count: 8 does not match machine type g6\.12xlarge \(4 accelerators\)/);
    });

    it("rejects an unknown machine type and an unknown Buildkite cluster", () => {
        assert.match(loadError(edited("machine: { type: r6in.4xlarge }", "machine: { type: r6in.4xlarg }")), /queue "medium_cpu_queue_premerge": field machine\.type: unknown machine type "r6in\.4xlarg" \(did you mean "r6in\.4xlarge"\?\)/);
        assert.match(loadError(edited("    cluster: perf_benchmark\n    reachedBy: name\n    description: Nebius", "    cluster: perf\n    reachedBy: name\n    description: Nebius")), /queue "perf-benchmark-h200": field cluster: unknown Buildkite cluster "perf"/);
    });

    it("rejects settings of another provider and a routing device the catalog does not declare", () => {
        assert.match(loadError(edited("  - name: small-cpu-gcp\n    provider: gce\n    machine: { type: n2-highmem-4, diskGb: 128 }\n", "  - name: small-cpu-gcp\n    provider: gce\n    machine: { type: n2-highmem-4, diskGb: 128 }\n    aws: { instanceStorage: true }\n")), /queue "small-cpu-gcp": field aws: only allowed on provider aws/);
        assert.match(loadError(edited("{ match: { device: [gh200] }", "{ match: { device: [gh300] }")), /routing rule \d+: field match\.device: unknown device "gh300"/);
    });

    it("rejects a default rule that is not last", () => {
        assert.match(loadError(edited("  - { match: { device: [a100] }, queue: a100_queue }\n", "  - { queue: a100_queue }\n")), /a rule without match must be the last one/);
    });

    it("lints unreachable queues and queues marked by name that rules reach", () => {
        const unreachable = parseCatalog(edited("{ match: { device: [a100] }, queue: a100_queue }", "{ match: { device: [a100] }, queue: mithril-h100-pool }"), "queues.yaml");
        assert.ok(lintProblems(unreachable).some((p) => /queue "a100_queue": field reachedBy: no routing rule reaches this queue/.test(p)));
        const byName = parseCatalog(edited("  - name: gpu_4_queue\n    provider: aws\n", "  - name: gpu_4_queue\n    provider: aws\n    reachedBy: name\n"), "queues.yaml");
        assert.ok(lintProblems(byName).some((p) => /queue "gpu_4_queue": field reachedBy: marked "name" but routing rule \d+ reaches it/.test(p)));
    });
});

describe("catalog: `npm run catalog -- lint`", () => {
    const cli = path.join(__dirname, "..", "..", "lint", "cli.ts");
    const tsx = path.join(__dirname, "..", "..", "node_modules", ".bin", "tsx");

    it("prints a summary and exits 0 on the fleet's catalog", () => {
        const result = spawnSync(tsx, [cli, "lint"], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /ok: \d+ queues \(.*aws.*\), \d+ routing rules/);
    });

    it("exits 2 with one error line and no stack trace on a broken catalog", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-"));
        const file = path.join(dir, "queues.yaml");
        fs.writeFileSync(file, edited("  - name: medium_cpu_queue_premerge\n", "  - name: small_cpu_queue_premerge\n"));
        const result = spawnSync(tsx, [cli, "lint", file], { encoding: "utf8" });
        assert.equal(result.status, 2);
        const lines = result.stderr.trim().split("\n");
        assert.equal(lines.length, 2, result.stderr);
        assert.match(lines[0], /^error: .*queues\.yaml: queue "small_cpu_queue_premerge": field name: declared more than once in organization vllm$/);
        assert.match(lines[1], /^error: .*queues\.yaml: routing rule \d+: field queue: unknown queue "medium_cpu_queue_premerge"/);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
});
