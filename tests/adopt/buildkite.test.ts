/**
 * Adoption of the Buildkite side from a live inventory (no Terraform state): the import entries
 * the fixture inventory gives, what is created and why (tokens cannot be imported), notes about
 * live objects nothing declares, and a bad inventory stopping in one line.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { main } from "../../adopt/cli";
import { lookalikePipelines, parseBuildkiteInventory, sameClusterName, sameCronline } from "../../adopt/buildkite";
import { AMI_REBUILD_PIPELINE } from "../../buildkite/pipelines";
import { importFileProblems } from "../../adopt/import-file";
import { MOCK_AGENT_TOKEN_PREFIX } from "../../plan/mocks/buildkite";

const FIXTURE = path.join(__dirname, "..", "fixtures", "buildkite", "inventory.json");
const inventoryJson = () => JSON.parse(fs.readFileSync(FIXTURE, "utf8"));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = "";
    let stderr = "";
    out.on("data", (chunk) => (stdout += chunk));
    err.on("data", (chunk) => (stderr += chunk));
    const code = await main(argv, out, err);
    return { code, stdout, stderr };
}

describe("adopt buildkite-prod", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-buildkite-"));
    let result: { code: number; stdout: string; stderr: string };
    let importFile: { nameTable: Record<string, string>; resources: { type: string; name: string; logicalName?: string; id?: string; provider?: string; component?: boolean }[] };
    let report: {
        adopted: { type: string; name: string; id: string; reason?: string }[];
        created: { type: string; name: string; reason: string }[];
        differences: { name: string; field: string; reason: string }[];
        unexplained: string[];
    };
    before(async () => {
        result = await run(["buildkite-prod", "--live-inventory", FIXTURE, "--out", dir, "--strict"]);
        importFile = JSON.parse(fs.readFileSync(path.join(dir, "buildkite-prod.import.json"), "utf8"));
        report = JSON.parse(fs.readFileSync(path.join(dir, "buildkite-prod.adoption.json"), "utf8"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const entry = (type: string, name: string) => importFile.resources.find((r) => r.type === type && (r.logicalName ?? r.name) === name);

    it("needs no Terraform state and explains everything", () => {
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(report.unexplained, []);
        assert.deepEqual(importFileProblems(importFile as never), []);
    });

    it("imports live clusters by name (spelled as Buildkite users do) with their GraphQL ids, in their organization", () => {
        const inventory = parseBuildkiteInventory(inventoryJson());
        const ci = inventory.vllm.clusters.find((c) => c.name === "CI")!;
        assert.deepEqual(entry("buildkite:Cluster/cluster:Cluster", "bk-ci")?.id, ci.id);
        assert.equal(entry("buildkite:Cluster/cluster:Cluster", "bk-ci")?.provider, "buildkite-vllm");
        const tpu = inventory["tpu-commons"].clusters[0];
        assert.equal(entry("buildkite:Cluster/cluster:Cluster", "bk-tpu-commons")?.id, tpu.id);
        assert.equal(entry("buildkite:Cluster/cluster:Cluster", "bk-tpu-commons")?.provider, "buildkite-tpu-commons");
        // The sandbox cluster is nobody's: a note, never an import.
        assert.match(result.stdout, /note: live cluster vllm\/Sandbox \(\S+\) matches no catalog cluster/);
    });

    it("imports live queues as <queue id>,<cluster uuid> and creates the catalog queues missing live", () => {
        const inventory = parseBuildkiteInventory(inventoryJson());
        const east = inventory.vllm.clusters.find((c) => c.name === "ci-us-east-1")!;
        const packer = east.queues.find((q) => q.key === "packer_build_queue")!;
        assert.equal(entry("buildkite:Cluster/clusterQueue:ClusterQueue", "bk-ci-us-east-1-packer_build_queue")?.id, `${packer.id},${east.uuid}`);
        assert.ok(report.created.some((c) => c.name === "bk-ci-gke_l4_1_queue" && /not in its live cluster/.test(c.reason)));
        assert.match(result.stdout, /note: live queue old_queue_nobody_uses of cluster vllm\/CI has no catalog queue/);
    });

    it("imports the pipelines by slug and the AMI rebuild's hand-made schedule, and says what the first up changes", () => {
        for (const slug of ["ci", "fastcheck", "amd-ci", "intel-ci", "rebuild-cpu-ami"]) {
            const live = parseBuildkiteInventory(inventoryJson()).vllm.pipelines.find((p) => p.slug === slug)!;
            assert.equal(entry("buildkite:Pipeline/pipeline:Pipeline", `pipeline-${slug}`)?.id, live.id, slug);
        }
        const schedule = importFile.resources.find((r) => r.type === "buildkite:Pipeline/schedule:Schedule");
        assert.ok(schedule?.id, "the schedule is adopted, not created a second time");
        const steps = report.differences.find((d) => d.name === "pipeline-ci" && d.field === "steps")!;
        assert.match(steps.reason, /the versioned steps of buildkite\/pipelines.ts replace those set in the web UI/);
        assert.equal(entry("buildkite:Pipeline/pipeline:Pipeline", "perf-eval"), undefined);
    });

    it("stops --strict on a pipeline that would move to another cluster (its jobs would be stranded)", async () => {
        const moved = inventoryJson();
        const edges = moved.vllm.data.organization.pipelines.edges as { node: { slug: string; cluster: { id: string } | null } }[];
        edges.find((e) => e.node.slug === "ci")!.node.cluster = null;
        const file = path.join(dir, "moved.json");
        fs.writeFileSync(file, JSON.stringify(moved));
        const other = await run(["buildkite-prod", "--live-inventory", file, "--out", path.join(dir, "moved"), "--strict"]);
        assert.equal(other.code, 1, other.stderr);
        const moved_ = JSON.parse(fs.readFileSync(path.join(dir, "moved", "buildkite-prod.adoption.json"), "utf8")) as {
            unexplained: string[];
            differences: { name: string; field: string; effect?: string }[];
        };
        assert.deepEqual(moved_.unexplained.filter((line) => /pipeline-ci/.test(line)).map((line) => line.replace(/ clusterId: .*/, " clusterId")), ["difference buildkite:Pipeline/pipeline:Pipeline::pipeline-ci clusterId"]);
        assert.match(moved_.differences.find((d) => d.name === "pipeline-ci" && d.field === "clusterId")!.effect!, /moves the pipeline to cluster perf_benchmark/);
    });

    it("stops --strict before creating the AMI rebuild beside a live pipeline of the same repository under another slug", async () => {
        const renamed = inventoryJson();
        const edges = renamed.vllm.data.organization.pipelines.edges as { node: { slug: string } }[];
        edges.find((e) => e.node.slug === AMI_REBUILD_PIPELINE.slug)!.node.slug = "cpu-ami-nightly";
        const file = path.join(dir, "renamed.json");
        fs.writeFileSync(file, JSON.stringify(renamed));
        const other = await run(["buildkite-prod", "--live-inventory", file, "--out", path.join(dir, "renamed"), "--strict"]);
        assert.equal(other.code, 1, other.stderr);
        const renamed_ = JSON.parse(fs.readFileSync(path.join(dir, "renamed", "buildkite-prod.adoption.json"), "utf8")) as { unexplained: string[] };
        assert.deepEqual(renamed_.unexplained.filter((line) => /Pipeline/.test(line)).map((line) => line.replace(/: no Terraform counterpart.*/, "")), [`created buildkite:Pipeline/pipeline:Pipeline::pipeline-${AMI_REBUILD_PIPELINE.slug}`]);
        assert.match(other.stdout, new RegExp(`note: pipeline ${AMI_REBUILD_PIPELINE.slug} is not live, but cpu-ami-nightly builds the same repository`));
        // The fixture's own live pipelines (perf-eval builds vLLM too) flag nothing while every program pipeline is live.
        assert.deepEqual(lookalikePipelines(parseBuildkiteInventory(inventoryJson())), []);
    });

    it("creates every agent token (none can be imported) and lists the live tokens to revoke", () => {
        assert.equal(importFile.resources.filter((r) => r.type === "buildkite:Cluster/clusterAgentToken:ClusterAgentToken").length, 0);
        const ci = report.created.find((c) => c.name === "bk-ci-agent-token")!;
        assert.match(ci.reason, /revoke the live ones of vllm\/CI: \S+ "Elastic CI Stack us-west-2", \S+ "GKE controllers"/);
        // The SSM parameters exist (made by hand): imported by name, then overwritten with the new token.
        assert.equal(entry("aws:ssm/parameter:Parameter", "bk-ci-ssm-us-west-2")?.id, "/bk_agent_token_cluster_ci");
        assert.equal(entry("aws:ssm/parameter:Parameter", "bk-ci-ssm-us-west-2")?.provider, "aws-us-west-2");
    });

    it("writes no token into any file", () => {
        for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("buildkite-prod."))) {
            assert.ok(!fs.readFileSync(path.join(dir, file), "utf8").includes(MOCK_AGENT_TOKEN_PREFIX), file);
        }
        assert.ok(!result.stdout.includes(MOCK_AGENT_TOKEN_PREFIX));
    });

    it("stops at a bad inventory with one line naming the path, exit 2", async () => {
        const cases: [unknown, RegExp][] = [
            [{}, /^error: --live-inventory \S+: expected \{"<organization slug>": <the GraphQL answer of adopt\/buildkite-inventory\.graphql>\}\n$/],
            [{ vllm: { errors: [{ message: "No organization found" }] } }, /^error: --live-inventory \S+: vllm: the GraphQL query failed: No organization found\n$/],
            [{ vllm: { data: { organization: { clusters: { edges: [{ node: { id: "x", uuid: "u" } }] }, pipelines: { edges: [] } } } } }, /^error: --live-inventory \S+: vllm\.data\.organization\.clusters\.edges\[0\]\.node: field name: expected a non-empty string, got nothing\n$/],
        ];
        for (const [value, pattern] of cases) {
            const file = path.join(dir, "bad.json");
            fs.writeFileSync(file, JSON.stringify(value));
            const bad = await run(["buildkite-prod", "--live-inventory", file, "--out", path.join(dir, "bad")]);
            assert.equal(bad.code, 2);
            assert.match(bad.stderr, pattern);
        }
        const missing = await run(["buildkite-prod", "--out", path.join(dir, "bad")]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^error: buildkite-prod is adopted from the live organizations: give --live-inventory FILE/);
    });

    it("compares names and cronlines as Buildkite means them", () => {
        assert.ok(sameClusterName("CI US East 1", "ci_us_east_1"));
        assert.ok(!sameClusterName("ci", "ci_us_east_1"));
        assert.ok(sameCronline("0 11 * * *", "0 11 * * * UTC"));
        assert.ok(!sameCronline("0 3 * * *", "0 11 * * * UTC"));
    });
});
