/**
 * The buildkite-prod stack on its offline plan (one mock run, shared): every catalog queue has
 * exactly one Buildkite cluster queue, every agent token reaches exactly the secret stores its
 * queues' agents read (as the AWS and GCP stacks name them), no token value is ever in plain
 * text, the pipelines' steps and the AMI rebuild's schedule.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";
import { isGuarded, renderJobGuard } from "../../aws/agent-boot";
import { readAwsSettings } from "../../aws/settings";
import { loadCatalog, queueNamed, queuesOf, type Catalog } from "../../catalog";
import { agentTokenDescription, AMI_REBUILD_PIPELINE, BOOTSTRAP_SCRIPT_URL, clusterResourceName, layoutPipelines, planBuildkite, VLLM_PIPELINES, VLLM_REPOSITORY } from "../../buildkite";
import { clusterTokenSecretOf } from "../../catalog";
import { ENTRY_NAMES } from "../../generator/bootstrap-entries";
import { agentTokenSecretOf } from "../../gcp/layout";
import { AMI_REBUILD_PIPELINE_FILE, WARM_CACHE_IMAGE } from "../../images/rebuild-pipeline";
import { planJson, planText } from "../../plan/cli";
import { ofType, resource, runWithMocks, type ProgramRun, type RecordedResource } from "../../plan/harness";
import { MOCK_AGENT_TOKEN_PREFIX } from "../../plan/mocks/buildkite";
import { loadStackConfig, PROJECT_ROOT } from "../../plan/stack-config";
import { defineFleet } from "../../fleet";
import { sharedPlan } from "../support/plans";

const CLUSTER = "buildkite:Cluster/cluster:Cluster";
const QUEUE = "buildkite:Cluster/clusterQueue:ClusterQueue";
const TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";
const SSM = "aws:ssm/parameter:Parameter";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const SCHEDULE = "buildkite:Pipeline/schedule:Schedule";
const ref = (r: RecordedResource) => `${r.type}::${r.name}`;

describe("buildkite-prod stack", () => {
    let run: ProgramRun;
    let aws: ProgramRun;
    let gcp: ProgramRun;
    let catalog: Catalog;
    before(async () => {
        catalog = loadCatalog(path.join(PROJECT_ROOT, "catalog", "queues.yaml"));
        // One after the other: runs share Pulumi's global runtime state.
        run = await sharedPlan("buildkite-prod");
        aws = await sharedPlan("aws-prod");
        gcp = await sharedPlan("gcp-prod");
    });

    /** The cluster component a resource is a child (or grandchild) of. */
    const clusterOfResource = (r: RecordedResource): string | undefined => {
        let current: RecordedResource | undefined = r;
        while (current) {
            if (current.type === "ci:buildkite:AgentCluster") return current.name;
            const parent: string | undefined = current.parent;
            current = run.resources.find((candidate) => ref(candidate) === parent);
        }
        return undefined;
    };
    /** The mocked token value of a cluster (what its token resource would hold). */
    const tokenOf = (clusterKey: string) => `${MOCK_AGENT_TOKEN_PREFIX}${Buffer.from(`${clusterResourceName(clusterKey)}-agent-token`).toString("hex")}`;

    it("declares one cluster and one agent token per catalog cluster, in its organization", () => {
        const clusters = ofType(run, CLUSTER);
        assert.deepEqual(clusters.map((c) => c.inputs.name).sort(), Object.keys(catalog.buildkiteClusters).sort());
        for (const cluster of clusters) {
            const key = String(cluster.inputs.name);
            const organization = catalog.buildkiteClusters[key].organization ?? "vllm";
            assert.equal(cluster.provider, `pulumi:providers:buildkite::buildkite-${organization}`, key);
            assert.equal(cluster.protect, true, `${key} is protected`);
            const tokens = ofType(run, TOKEN).filter((token) => clusterOfResource(token) === clusterResourceName(key));
            assert.equal(tokens.length, 1, `${key}: one agent token`);
            assert.equal(tokens[0].rawInputs.clusterId, `${cluster.name}-id`);
            // A rotation must not revoke the old token before gcp-prod has copied the new one into the controllers' Secrets.
            assert.equal(tokens[0].retainOnDelete, true, `${key}: the old token survives its replacement`);
        }
    });

    it("gives every catalog queue in a cluster exactly one cluster queue, in that cluster, and no other queue", () => {
        const declared = ofType(run, QUEUE).map((q) => `${clusterOfResource(q)}/${q.inputs.key}`);
        const expected = catalog.queues.filter((q) => q.cluster !== undefined).map((q) => `${clusterResourceName(q.cluster!)}/${q.name}`);
        assert.deepEqual([...declared].sort(), [...expected].sort());
        assert.equal(new Set(declared).size, declared.length, "no queue twice");
        for (const queue of ofType(run, QUEUE)) assert.equal(queue.rawInputs.clusterId, `${clusterOfResource(queue)}-id`, queue.name);
        // Queues in no cluster of ours are routing only (partners' agents), and say so in the outputs.
        const routingOnly = catalog.queues.filter((q) => q.cluster === undefined).map((q) => q.name);
        assert.ok(routingOnly.length > 0 && routingOnly.every((name) => catalog.queues.find((q) => q.name === name)!.provider === "external"));
        assert.deepEqual(run.outputs.routingOnlyQueues, routingOnly);
    });

    it("writes each cluster's token into exactly the SSM parameters its Elastic CI Stacks read (aws-prod), in their regions", () => {
        // What aws-prod's stacks read: BuildkiteAgentTokenParameterStorePath, in the stack's provider's region.
        const read = new Map<string, Set<string>>();
        for (const queue of queuesOf(catalog, "aws")) {
            const stack = ofType(aws, "aws:cloudformation/stack:Stack").find((s) => (s.inputs.parameters as Record<string, unknown>).BuildkiteQueue === queue.name);
            assert.ok(stack, queue.name);
            const parameter = String((stack.inputs.parameters as Record<string, unknown>).BuildkiteAgentTokenParameterStorePath);
            const region = String(stack.provider).replace(/^pulumi:providers:aws::aws-/, "");
            const set = read.get(queue.cluster) ?? new Set<string>();
            set.add(`${region}:${parameter}`);
            read.set(queue.cluster, set);
        }
        const written = new Map<string, Set<string>>();
        for (const parameter of ofType(run, SSM)) {
            const cluster = clusterOfResource(parameter)!;
            assert.equal(parameter.rawInputs.type, "SecureString", parameter.name);
            assert.equal(parameter.inputs.value, "[secret]", `${parameter.name}: the value is a secret`);
            const key = Object.keys(catalog.buildkiteClusters).find((k) => clusterResourceName(k) === cluster)!;
            assert.equal(parameter.rawInputs.value, tokenOf(key), `${parameter.name} holds ${key}'s token`);
            assert.equal(parameter.retainOnDelete, true);
            const set = written.get(key) ?? new Set<string>();
            set.add(`${String(parameter.provider).replace(/^pulumi:providers:aws::aws-/, "")}:${parameter.rawInputs.name}`);
            written.set(key, set);
        }
        assert.deepEqual(
            Object.fromEntries([...written].map(([k, v]) => [k, [...v].sort()]).sort()),
            Object.fromEntries([...read].map(([k, v]) => [k, [...v].sort()]).sort()),
        );
    });

    it("adds a version, with the cluster's token, to exactly the Secret Manager secrets its GCP agents and controllers read (gcp-prod owns the secrets)", () => {
        const expected = new Map<string, string>();
        for (const queue of catalog.queues) {
            if (!["gke", "tpu", "gce", "k8s"].includes(queue.provider) || !queue.cluster) continue;
            const secret = agentTokenSecretOf(catalog, queue.cluster)!;
            expected.set(`projects/${secret.project}/secrets/${secret.secretId}`, queue.cluster);
        }
        for (const [key, cluster] of Object.entries(catalog.buildkiteClusters)) {
            if (cluster.metricsExporter) {
                const secret = agentTokenSecretOf(catalog, key)!;
                expected.set(`projects/${secret.project}/secrets/${secret.secretId}`, key);
            }
        }
        const written = new Map<string, string>();
        for (const version of ofType(run, VERSION)) {
            const key = Object.keys(catalog.buildkiteClusters).find((k) => clusterResourceName(k) === clusterOfResource(version))!;
            assert.equal(version.rawInputs.secretData, tokenOf(key), version.name);
            assert.equal(version.inputs.secretData, "[secret]");
            assert.equal(version.rawInputs.deletionPolicy, "DISABLE");
            assert.ok(!written.has(String(version.rawInputs.secret)), `one version per secret: ${version.rawInputs.secret}`);
            written.set(String(version.rawInputs.secret), key);
            const project = String(version.rawInputs.secret).split("/")[1];
            assert.equal(version.provider, `pulumi:providers:gcp::gcp-${project}`);
        }
        assert.deepEqual(Object.fromEntries([...written].sort()), Object.fromEntries([...expected].sort()));
        // Every secret written is one gcp-prod declares (and owns): no second owner, none created here.
        const gcpSecrets = new Set(ofType(gcp, "gcp:secretmanager/secret:Secret").map((s) => `projects/${s.inputs.project}/secrets/${s.inputs.secretId}`));
        for (const secret of written.keys()) assert.ok(gcpSecrets.has(secret), `${secret} is declared by gcp-prod`);
        assert.equal(ofType(run, "gcp:secretmanager/secret:Secret").length, 0);
    });

    it("reaches the controllers' Kubernetes Secrets through the Secret Manager secret gcp-prod copies them from", () => {
        const { layout } = planBuildkite(catalog);
        const k8sSecrets = new Set(ofType(gcp, "kubernetes:core/v1:Secret").map((s) => String((s.inputs.metadata as Record<string, unknown>).name)));
        for (const cluster of layout.organizations.flatMap((o) => o.clusters)) {
            for (const secret of cluster.tokenStores.kubernetesSecrets) {
                assert.ok(k8sSecrets.has(secret.name), `gcp-prod writes ${secret.name}`);
                assert.deepEqual(secret.fromSecret, agentTokenSecretOf(catalog, cluster.key), `${secret.name} is fed from the secret this stack writes`);
                assert.ok(cluster.tokenStores.gcpSecrets.some((s) => s.project === secret.fromSecret.project && s.secretId === secret.fromSecret.secretId));
            }
        }
        const fed = layout.organizations.flatMap((o) => o.clusters).flatMap((c) => c.tokenStores.kubernetesSecrets.map((s) => s.name));
        assert.deepEqual(fed.sort(), ["bk-agent-token-cluster-ci", "bk-agent-token-cluster-perf-benchmark"]);
        assert.equal(ofType(run, "kubernetes:core/v1:Secret").length, 0, "buildkite-prod writes no Kubernetes Secret (gcp-prod owns them)");
    });

    it("agrees with gcp-prod on where each cluster's token lives in Secret Manager", () => {
        for (const key of Object.keys(catalog.buildkiteClusters)) assert.deepEqual(clusterTokenSecretOf(catalog, key), agentTokenSecretOf(catalog, key), key);
    });

    it("never shows a token value: not in the plan's inputs, JSON, tree or outputs (the raw inputs prove the check can fail)", () => {
        const raw = JSON.stringify(run.resources.map((r) => r.rawInputs));
        assert.ok(raw.includes(MOCK_AGENT_TOKEN_PREFIX), "the mocked tokens do reach the stores");
        for (const [what, text] of [
            ["plan JSON", planJson(run)],
            ["plan tree", planText("buildkite-prod", run)],
            ["outputs", JSON.stringify(run.outputs)],
            ["masked inputs", JSON.stringify(run.resources.map((r) => r.inputs))],
        ]) {
            assert.ok(!text.includes(MOCK_AGENT_TOKEN_PREFIX), `no token in the ${what}`);
            assert.ok(!/bkct_[A-Za-z0-9]{20,}/.test(text), `nothing token-shaped in the ${what}`);
        }
        // The only places the value goes: the token stores.
        const holders = run.resources.filter((r) => JSON.stringify(r.rawInputs).includes(MOCK_AGENT_TOKEN_PREFIX)).map((r) => r.type);
        assert.deepEqual([...new Set(holders)].sort(), [SSM, VERSION]);
    });

    it("runs each vLLM pipeline's versioned bootstrap step on the bootstrap queue of its own cluster", () => {
        const pipelines = ofType(run, PIPELINE);
        assert.deepEqual(pipelines.map((p) => p.inputs.slug).sort(), [...VLLM_PIPELINES.map((p) => p.slug), AMI_REBUILD_PIPELINE.slug].sort());
        const bootstrap = queuesOf(catalog, "aws").find((q) => q.aws?.nodejs)!;
        for (const spec of VLLM_PIPELINES) {
            assert.ok((ENTRY_NAMES as readonly string[]).includes(spec.entry), spec.entry);
            const pipeline = resource(run, PIPELINE, `pipeline-${spec.slug}`);
            assert.equal(pipeline.inputs.repository, "https://github.com/vllm-project/vllm.git");
            assert.equal(pipeline.inputs.defaultBranch, "main");
            assert.equal(pipeline.protect, true);
            assert.equal(pipeline.rawInputs.clusterId, `${clusterResourceName(bootstrap.cluster)}-id`);
            const steps = yaml.load(String(pipeline.inputs.steps)) as { steps: { agents: { queue: string }; command: string }[] };
            assert.equal(steps.steps.length, 1);
            assert.equal(steps.steps[0].agents.queue, bootstrap.name);
            assert.ok(ofType(run, QUEUE).some((q) => q.inputs.key === bootstrap.name && clusterOfResource(q) === clusterResourceName(bootstrap.cluster)), "the bootstrap queue is in the pipeline's cluster");
            assert.ok(steps.steps[0].command.startsWith(`curl -fsSL ${BOOTSTRAP_SCRIPT_URL} | bash`));
            assert.equal(/--entry (\w+)/.exec(steps.steps[0].command)?.[1] ?? "cuda", spec.entry);
        }
    });

    it("uploads the committed AMI rebuild pipeline from the AMI-building queue, daily at 11:00 UTC on main", () => {
        const builder = queuesOf(catalog, "aws").find((q) => q.aws?.buildsAmi)!;
        const pipeline = resource(run, PIPELINE, `pipeline-${AMI_REBUILD_PIPELINE.slug}`);
        assert.equal(pipeline.rawInputs.clusterId, `${clusterResourceName(builder.cluster)}-id`);
        assert.equal(pipeline.inputs.branchConfiguration, "main");
        assert.deepEqual(pipeline.inputs.providerSettings, { triggerMode: "none" });
        const steps = yaml.load(String(pipeline.inputs.steps)) as { steps: { agents: { queue: string }; command: string }[] };
        assert.deepEqual(
            steps.steps.map((s) => [s.agents.queue, s.command]),
            [[builder.name, `buildkite-agent pipeline upload ${AMI_REBUILD_PIPELINE_FILE}`]],
        );
        const schedules = ofType(run, SCHEDULE);
        assert.equal(schedules.length, 1);
        assert.equal(schedules[0].inputs.cronline, "0 11 * * * UTC");
        assert.equal(schedules[0].inputs.branch, "main");
        assert.equal(schedules[0].inputs.enabled, true);
        assert.equal(schedules[0].rawInputs.pipelineId, `${pipeline.name}-id`);
    });

    it("rotates one cluster's token with one config line, leaving the others", async () => {
        const config = loadStackConfig("buildkite-prod");
        const rotated = await runWithMocks({ ...config, config: { ...config.config, "ci:buildkiteTokenRotation": '{"ci": 3}' } }, () => defineFleet() as Record<string, unknown>);
        const descriptions = (r: ProgramRun) => Object.fromEntries(ofType(r, TOKEN).map((t) => [t.name, t.inputs.description]));
        const before = descriptions(run);
        const after = descriptions(rotated);
        const changed = Object.keys(after).filter((name) => after[name] !== before[name]);
        assert.deepEqual(changed, ["bk-ci-agent-token"]);
        assert.equal(after["bk-ci-agent-token"], agentTokenDescription("ci", 3));
        assert.equal(before["bk-ci-agent-token"], agentTokenDescription("ci", 0));
    });

    it("writes tokens into the account aws-prod runs in", () => {
        assert.equal(loadStackConfig("buildkite-prod").config["ci:awsAccountId"], loadStackConfig("aws-prod").config["ci:awsAccountId"]);
        for (const provider of ofType(run, "pulumi:providers:aws")) assert.deepEqual(JSON.parse(String(provider.inputs.allowedAccountIds)), [loadStackConfig("aws-prod").config["ci:awsAccountId"]]);
    });

    it("runs each pipeline's scheduled or main builds past its queue's job guard (aws-prod's settings), and refuses its pull requests", () => {
        const stackConfig = loadStackConfig("aws-prod").config;
        const settings = readAwsSettings((key) => stackConfig[`ci:${key}`], "Pulumi.aws-prod.yaml");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bk-guard-"));
        const guarded = layoutPipelines(catalog).filter((p) => isGuarded(queueNamed(catalog, p.queue, "aws")));
        assert.ok(guarded.some((p) => p.slug === AMI_REBUILD_PIPELINE.slug), "the AMI rebuild runs on a guarded queue");
        for (const pipeline of guarded) {
            const hook = path.join(dir, `${pipeline.slug}.sh`);
            fs.writeFileSync(hook, renderJobGuard(queueNamed(catalog, pipeline.queue, "aws"), settings));
            const job = (pullRequest: string) =>
                spawnSync("bash", ["-c", `source "$0"`, hook], {
                    encoding: "utf8",
                    env: { PATH: process.env.PATH, BUILDKITE_PULL_REQUEST: pullRequest, BUILDKITE_REPO: pipeline.repository, BUILDKITE_BRANCH: pipeline.defaultBranch, BUILDKITE_PIPELINE_SLUG: pipeline.slug },
                });
            const scheduled = job("false");
            assert.equal(scheduled.status, 0, `${pipeline.slug}: ${scheduled.stderr}`);
            assert.notEqual(job("42").status, 0, `${pipeline.slug}: a pull request build is refused`);
        }
        fs.rmSync(dir, { recursive: true, force: true });
        // The warm-up checks out the repository vLLM's pipelines build (images/ cannot import buildkite/: buildkite/ imports it).
        assert.equal(WARM_CACHE_IMAGE.vllmRepository, VLLM_REPOSITORY);
    });

    it("derives every pipeline from the catalog (no queue or cluster retyped)", () => {
        const edited = { ...catalog, queues: catalog.queues.map((q) => (q.provider === "aws" && q.aws?.buildsAmi ? { ...q, cluster: "release" } : q)) } as Catalog;
        const ami = layoutPipelines(edited).find((p) => p.slug === AMI_REBUILD_PIPELINE.slug)!;
        assert.equal(ami.cluster, "release");
    });
});
