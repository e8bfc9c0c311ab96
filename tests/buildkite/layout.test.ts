/** The Buildkite side's pure functions on small catalogs: where tokens go, both sides agree, bad input in one line. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseCatalog } from "../../catalog";
import { planBuildkite, planBuildkiteStack, queueAgreementProblems, apiTokenOf } from "../../buildkite";
import { PROJECT_ROOT } from "../../plan/stack-config";

const live = fs.readFileSync(path.join(PROJECT_ROOT, "catalog", "queues.yaml"), "utf8");
const catalogOf = (text: string) => parseCatalog(text, "queues.yaml");
const read = (config: Record<string, string>) => (key: string) => config[key];

describe("buildkite layout", () => {
    it("finds an AWS queue whose cluster names no SSM parameter, in one line", () => {
        // The loader refuses such a catalog already; the stack checks again on what it is handed.
        const catalog = catalogOf(live);
        const { problems } = planBuildkite({ ...catalog, buildkiteClusters: { ...catalog.buildkiteClusters, release: {} } });
        assert.ok(problems.length >= 1);
        assert.match(problems[0], /^queues\.yaml: buildkiteClusters "release": field ssmTokenParameter: AWS queue "\S+" reads the agent token from SSM, but the cluster names no parameter$/);
    });

    it("finds a Kubernetes queue whose cluster has no Secret Manager secret", () => {
        const catalog = catalogOf(live);
        const { gcpSecretId: _dropped, ...perf } = catalog.buildkiteClusters.perf_benchmark;
        const problems = planBuildkite({ ...catalog, buildkiteClusters: { ...catalog.buildkiteClusters, perf_benchmark: perf } }).problems.filter((p) => p.includes("perf_benchmark"));
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /field gcpSecretId: queue "perf-benchmark-h200" \(its controller's Kubernetes Secret is written from it\) reads the agent token from Secret Manager/);
    });

    it("notices a catalog queue with no Buildkite queue, or twice, or a Buildkite queue of no catalog queue", () => {
        const catalog = catalogOf(live);
        const { layout } = planBuildkite(catalog);
        assert.deepEqual(queueAgreementProblems(catalog, layout), []);
        const [first, ...rest] = layout.organizations;
        const [cluster, ...others] = first.clusters;
        const dropped = { ...layout, organizations: [{ ...first, clusters: [{ ...cluster, queues: cluster.queues.slice(1) }, ...others] }, ...rest] };
        assert.deepEqual(queueAgreementProblems(catalog, dropped), [`queues.yaml: queue "${cluster.queues[0].key}": has 0 Buildkite cluster queues in cluster "${cluster.key}", not exactly one`]);
        const doubled = { ...layout, organizations: [{ ...first, clusters: [{ ...cluster, queues: [...cluster.queues, cluster.queues[0]] }, ...others] }, ...rest] };
        assert.equal(queueAgreementProblems(catalog, doubled).length, 1);
        const stray = { ...layout, organizations: [{ ...first, clusters: [{ ...cluster, queues: [...cluster.queues, { key: "ghost", provider: "aws" as const, description: "" }] }, ...others] }, ...rest] };
        assert.deepEqual(queueAgreementProblems(catalog, stray), [`queues.yaml: buildkiteClusters: Buildkite cluster queue ${cluster.key}/ghost has no catalog queue`]);
    });

    it("gives an external queue that names one of our clusters its cluster queue", () => {
        const text = live.replace("  - { name: H200, provider: external }", "  - { name: H200, provider: external, cluster: ci }");
        const ci = planBuildkite(catalogOf(text)).layout.organizations[0].clusters.find((c) => c.key === "ci")!;
        assert.ok(ci.queues.some((q) => q.key === "H200" && q.provider === "external"));
    });

    it("reports every bad stack setting at once, one line each, naming the stack file and key", () => {
        const catalog = catalogOf(live);
        assert.throws(
            () => planBuildkiteStack(catalog, read({ awsAccountId: "123", buildkiteTokenRotation: '{"nope": 1, "ci": -1}' }), "Pulumi.buildkite-prod.yaml"),
            (error: Error) => {
                assert.deepEqual(error.message.split("\n"), [
                    'Pulumi.buildkite-prod.yaml: config ci:awsAccountId: "123" is not an AWS account id (12 digits)',
                    'Pulumi.buildkite-prod.yaml: config ci:buildkiteTokenRotation: "ci": -1 is not valid ({"<cluster>": <non-negative integer>})',
                    'Pulumi.buildkite-prod.yaml: config ci:buildkiteTokenRotation: "nope" is not a key of buildkiteClusters (clusters: ci, ci_us_east_1, release, perf_benchmark, tpu_commons)',
                ]);
                return true;
            },
        );
        assert.throws(() => planBuildkiteStack(catalog, read({ awsAccountId: "936637512419", buildkiteTokenRotation: "[1" }), "S.yaml"), /^ProblemsError: S\.yaml: config ci:buildkiteTokenRotation: not JSON/);
    });

    it("names the bootstrap queue problem when no queue (or two) has aws.nodejs", () => {
        const text = live.replace("    aws: { instanceStorage: true, nodejs: true }", "    aws: { instanceStorage: true }");
        assert.throws(() => planBuildkiteStack(catalogOf(text), read({ awsAccountId: "936637512419" }), "S.yaml"), /^ProblemsError: queues\.yaml: queues: 0 AWS queues have aws\.nodejs: true; exactly one must/);
    });

    it("takes one API token for every organization, or one per organization, never echoing a bad value", () => {
        assert.equal(apiTokenOf("bkua_x", "vllm"), "bkua_x");
        assert.equal(apiTokenOf('{"vllm": "a", "tpu-commons": "b"}', "tpu-commons"), "b");
        assert.equal(apiTokenOf(undefined, "vllm"), undefined);
        assert.throws(() => apiTokenOf('{"vllm": "bkua_secretvalue"', "vllm"), (error: Error) => !error.message.includes("bkua_secretvalue"));
        // A per-organization token object that misses one of the stack's organizations: one line, no value echoed.
        const catalog = catalogOf(live);
        const config = { awsAccountId: "936637512419" };
        assert.doesNotThrow(() => planBuildkiteStack(catalog, read({ ...config, buildkiteApiToken: '{"vllm": "bkua_a", "tpu-commons": "bkua_b"}' }), "S.yaml"));
        assert.throws(
            () => planBuildkiteStack(catalog, read({ ...config, buildkiteApiToken: '{"vllm": "bkua_secretvalue"}' }), "S.yaml"),
            (error: Error) => error.message === 'S.yaml: config ci:buildkiteApiToken: no token for organization "tpu-commons" (keys: vllm)' && !error.message.includes("bkua_secretvalue"),
        );
        assert.throws(() => planBuildkiteStack(catalog, read({ ...config, buildkiteApiToken: '{"vllm": "bkua_secretvalue"' }), "S.yaml"), /^ProblemsError: S\.yaml: config ci:buildkiteApiToken: starts with "\{" but is not a JSON object/);
    });
});
