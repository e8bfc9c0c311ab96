/**
 * The whole gcp-prod program under mocks, run once with sentinel secret values, then checked
 * resource by resource against the catalog, the chart schema and the house rules.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadCatalog, queuesOf, type Catalog } from "../../catalog";
import { defineFleet } from "../../fleet";
import { l4GpusOf } from "../../gcp/accelerators";
import { agentServiceAccountId } from "../../gcp/names";
import { GCP_FIXTURE_CATALOG } from "../support/gcp-settings";
import { MOCK_PRIVATE_KEY, MOCK_SECRET_DATA } from "../../plan/mocks/gcp";
import { LIVE_POOL_OAUTH_SCOPES } from "../../gcp/gke-cluster";
import { shellcheckFindings } from "./sandbox";
import { ofType, resource, runWithMocks, SECRET_MASK, type ProgramRun, type RecordedResource } from "../../plan/harness";
import { loadStackConfig } from "../../plan/stack-config";
import { loadChartSchema } from "../k8s/chart-schema";
import { bashSyntaxErrors } from "./bash";

const SENTINELS = {
    hfToken: "SENTINEL-HF-TOKEN-5d1f0c",
    analyticsToken: "SENTINEL-ANALYTICS-TOKEN-a71e2b",
    kubeconfig: (cluster: string) => `SENTINEL-KUBECONFIG-${cluster}-93be4d`,
};
const EXTERNAL = ["mithril-h100", "a100", "b200", "nebius-h200"];

async function runGcpProd(overrides: Record<string, string> = {}): Promise<ProgramRun> {
    const stack = loadStackConfig("gcp-prod");
    return runWithMocks(
        {
            ...stack,
            config: {
                ...stack.config,
                "ci:externalKubeconfigs": JSON.stringify(Object.fromEntries(EXTERNAL.map((c) => [c, SENTINELS.kubeconfig(c)]))),
                "ci:hfToken": SENTINELS.hfToken,
                "ci:buildkiteAnalyticsToken": SENTINELS.analyticsToken,
                // The tests' own catalog: expectations do not move when the fleet's catalog gains a queue.
                "ci:catalogPath": GCP_FIXTURE_CATALOG,
                ...overrides,
            },
        },
        () => defineFleet() as Record<string, unknown>,
    );
}

const json = (value: unknown) => JSON.stringify(value);
const input = (r: RecordedResource, key: string) => r.inputs[key] as any;

describe("gcp-prod program", () => {
    let run: ProgramRun;
    let catalog: Catalog;
    before(async () => {
        catalog = loadCatalog(GCP_FIXTURE_CATALOG);
        run = await runGcpProd();
    });

    describe("providers", () => {
        it("uses no default provider: every custom resource names an explicit one", () => {
            const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
            assert.ok(custom.length > 150);
            for (const r of custom) {
                assert.ok(r.provider, `${r.type} ${r.name} has no provider`);
                assert.doesNotMatch(r.provider!, /^pulumi:providers:[^:]+::default/, `${r.type} ${r.name}`);
            }
            assert.deepEqual(run.resources.filter((r) => r.type.startsWith("pulumi:providers:") && r.name.startsWith("default")), []);
        });

        it("gives each project one provider, without a region: every GCP resource names its project and location", () => {
            const providers = new Map(ofType(run, "pulumi:providers:gcp").map((p) => [`${p.type}::${p.name}`, p.inputs]));
            const projects = ["cloud-tpu-inference-test", "cloud-ullm-inference-ci-cd", "vllm-405802", "vllm-gcp"];
            assert.deepEqual([...providers.values()].map((p) => p.project).sort(), projects);
            for (const provider of providers.values()) assert.equal(provider.region, undefined);
            for (const r of run.resources.filter((x) => x.type.startsWith("gcp:"))) {
                const provider = providers.get(r.provider!)!;
                assert.ok(provider, `${r.name}: provider ${r.provider}`);
                // A secret version, a bucket's cache or grant belongs to its parent, which names the project.
                if (["gcp:secretmanager/secretVersion:SecretVersion", "gcp:storage/anywhereCache:AnywhereCache", "gcp:storage/bucketIAMMember:BucketIAMMember"].includes(r.type)) continue;
                assert.ok(projects.includes(r.inputs.project as string), `${r.type} ${r.name} names its project`);
                if (!["gcp:secretmanager/secretIamMember:SecretIamMember"].includes(r.type)) assert.equal(provider.project, r.inputs.project, `${r.type} ${r.name} goes through its project's provider`);
            }
            const regional = ["gcp:compute/region", "gcp:compute/disk", "gcp:compute/instance:", "gcp:compute/address", "gcp:tpu/", "gcp:container/", "gcp:artifactregistry/repository:"];
            for (const r of run.resources.filter((x) => regional.some((prefix) => x.type.startsWith(prefix)))) {
                assert.ok(r.inputs.zone ?? r.inputs.region ?? r.inputs.location, `${r.type} ${r.name} names its location`);
            }
        });
    });

    describe("GKE", () => {
        it("adopts the catalog's clusters as named live: Standard ones without their default pool, one Autopilot, all protected", () => {
            for (const [key, cluster] of Object.entries(catalog.gkeClusters)) {
                const r = resource(run, "gcp:container/cluster:Cluster", key);
                assert.deepEqual([input(r, "name"), input(r, "project"), input(r, "location"), input(r, "deletionProtection")], [key, "vllm-gcp", cluster.region, true]);
                if (cluster.autopilot) assert.equal(input(r, "enableAutopilot"), true);
                else {
                    assert.equal(input(r, "removeDefaultNodePool"), true);
                    assert.deepEqual(input(r, "nodeLocations"), cluster.zones);
                    assert.equal(input(r, "ipAllocationPolicy"), undefined, "networking stays as live (a change replaces the cluster)");
                }
            }
        });

        it("keeps the adopted L4 pools' account, scopes, metadata and tags as live, and taints them for their queue", () => {
            for (const gke of queuesOf(catalog, "gke")) {
                for (const cluster of gke.gke.clusters) {
                    const pool = resource(run, "gcp:container/nodePool:NodePool", `${cluster}-l4-${gke.machine.count}`);
                    const node = input(pool, "nodeConfig");
                    assert.equal(node.machineType, gke.machine.type);
                    assert.deepEqual(node.guestAccelerators, [{ type: "nvidia-l4", count: l4GpusOf(gke.machine.type), gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }]);
                    assert.deepEqual(input(pool, "autoscaling"), { totalMinNodeCount: gke.scale.min, totalMaxNodeCount: gke.scale.max, locationPolicy: "ANY" });
                    assert.equal(node.serviceAccount, undefined, "the default compute account, as live");
                    assert.deepEqual([...node.oauthScopes].sort(), [...LIVE_POOL_OAUTH_SCOPES].sort());
                    assert.deepEqual(node.metadata, { "disable-legacy-endpoints": "true", startup_script: "" });
                    assert.deepEqual(node.tags, ["gke-node", "vllm-gcp-gke"]);
                    assert.equal(node.preemptible, false);
                    assert.equal(node.shieldedInstanceConfig, undefined);
                    assert.deepEqual(node.labels, { env: "vllm-gcp", "ci.vllm.ai/queue": gke.name });
                    assert.deepEqual(node.taints, [{ key: "ci.vllm.ai/queue", value: gke.name, effect: "NO_SCHEDULE" }]);
                    assert.equal(input(pool, "cluster"), cluster);
                }
            }
        });

        it("adds an untainted system pool per Standard cluster, on the fleet's own node account", () => {
            for (const cluster of Object.keys(catalog.gkeClusters).filter((k) => !catalog.gkeClusters[k].autopilot)) {
                const pool = resource(run, "gcp:container/nodePool:NodePool", `${cluster}-system`);
                const node = input(pool, "nodeConfig");
                assert.equal(node.serviceAccount, "gke-ci-nodes@vllm-gcp.iam.gserviceaccount.com");
                assert.equal(node.taints, undefined);
                assert.ok(input(pool, "autoscaling").totalMinNodeCount >= 1, "never scaled to zero: kube-dns and the controllers live here");
                // Nothing reaches the cluster's Kubernetes API (and so no controller is installed) before the pool exists.
                assert.ok(resource(run, "pulumi:providers:kubernetes", `${cluster}-k8s`).dependsOn?.includes(pool.urn), cluster);
            }
        });
    });

    describe("agent stack on Kubernetes", () => {
        const schema = loadChartSchema();
        const agentReleases = () => ofType(run, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.name !== "agent-stack-k8s");

        it("installs one release per queue and cluster, through that cluster's provider, each with an id of its own", () => {
            const expected = [
                ...queuesOf(catalog, "gke").flatMap((q) => q.gke.clusters.map((c) => [`pulumi:providers:kubernetes::${c}-k8s`, q.name])),
                ...queuesOf(catalog, "k8s").map((q) => [`pulumi:providers:kubernetes::k8s-${q.k8s.cluster}`, q.name]),
            ];
            const actual = agentReleases().map((r) => [r.provider, ((r.inputs.values as any).config.tags as string[])[0].replace("queue=", "")]);
            assert.deepEqual(actual.sort(), expected.sort());
            const ids = agentReleases().map((r) => r.inputs.name);
            assert.equal(new Set(ids).size, ids.length);
        });

        it("renders values the chart's schema accepts, with the token from the Secret the program writes", () => {
            for (const release of agentReleases()) {
                assert.equal(release.inputs.chart, "oci://ghcr.io/buildkite/helm/agent-stack-k8s");
                assert.equal(release.inputs.version, "0.47.0");
                const values = release.inputs.values as Record<string, unknown>;
                assert.deepEqual(schema.problems(values), [], release.name);
                assert.match(values.agentStackSecret as string, /^bk-agent-token-cluster-/);
                assert.ok(!("agentToken" in values));
            }
        });

        it("writes each controller's token from its cluster's Secret Manager secret, a Pulumi secret", () => {
            for (const secret of ofType(run, "kubernetes:core/v1:Secret").filter((s) => /bk-agent-token-/.test((s.inputs.metadata as any).name))) {
                assert.equal(secret.inputs.stringData, SECRET_MASK);
                assert.deepEqual(secret.rawInputs.stringData, { BUILDKITE_AGENT_TOKEN: MOCK_SECRET_DATA });
            }
        });

        it("creates the namespace, the six priority classes with the live values, and the secrets on every cluster", () => {
            const clusters = [...Object.keys(catalog.gkeClusters).filter((k) => !catalog.gkeClusters[k].autopilot), ...EXTERNAL];
            for (const cluster of clusters) {
                const owned = (type: string) => ofType(run, type).filter((r) => r.parent === `ci:k8s:AgentStackK8s::agent-stack-${cluster}`);
                assert.equal(owned("kubernetes:core/v1:Namespace").length, 1, cluster);
                assert.deepEqual(
                    Object.fromEntries(owned("kubernetes:scheduling.k8s.io/v1:PriorityClass").map((p) => [(p.inputs.metadata as any).name, p.inputs.value])),
                    { ci: 2, "perf-benchmark": 1, "gpu-priority-cls-1": 2001, "gpu-priority-cls-2": 2002, "gpu-priority-cls-4": 2004, "gpu-priority-cls-8": 2008 },
                );
                const secrets = owned("kubernetes:core/v1:Secret").map((s) => (s.inputs.metadata as any).name);
                for (const name of ["buildkite-analytics-token-secret", "hf-token-secret"]) assert.ok(secrets.includes(name), `${cluster}: ${name}`);
            }
        });

        it("keeps the old single release declared on the clusters the stack lists, for the cut-over", () => {
            const legacy = ofType(run, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.name === "agent-stack-k8s");
            assert.deepEqual(legacy.map((r) => r.parent).sort(), ["vllm-ci-test-cluster", ...EXTERNAL].map((c) => `ci:k8s:AgentStackK8s::agent-stack-${c}`).sort());
        });

        it("reaches external clusters with their kubeconfig as a secret", () => {
            for (const cluster of EXTERNAL) {
                const provider = resource(run, "pulumi:providers:kubernetes", `k8s-${cluster}`);
                assert.equal(provider.inputs.kubeconfig, SECRET_MASK);
                assert.equal(provider.rawInputs.kubeconfig, SENTINELS.kubeconfig(cluster));
            }
        });
    });

    describe("TPU agents", () => {
        it("creates every group's VMs in its project and zone, as named live, with its type, runtime and reservation", () => {
            const vms = ofType(run, "gcp:tpu/v2Vm:V2Vm");
            const groups = queuesOf(catalog, "tpu").flatMap((q) => q.tpu.groups.map((g) => ({ q, g })));
            assert.equal(vms.length, groups.reduce((sum, { g }) => sum + g.count, 0));
            for (const { q, g } of groups) {
                const names = Array.from({ length: g.count }, (_, i) => g.vmName.replace("{index}", String((g.firstIndex ?? 0) + i)));
                for (const name of names) {
                    const vm = resource(run, "gcp:tpu/v2Vm:V2Vm", name);
                    assert.deepEqual([vm.inputs.project, vm.inputs.zone, vm.inputs.acceleratorType, vm.inputs.runtimeVersion], [g.project, g.zone, q.tpu.acceleratorType, q.tpu.runtimeVersion]);
                    assert.deepEqual(vm.inputs.schedulingConfig, g.reserved ? { reserved: true } : undefined);
                    if (g.defaultServiceAccount) assert.equal(vm.inputs.serviceAccount, undefined, "the default compute account, as live");
                    else assert.match((vm.inputs.serviceAccount as any).email, new RegExp(`^bk-[a-z0-9-]+@${g.project}\\.iam\\.gserviceaccount\\.com$`));
                    assert.deepEqual(vm.inputs.networkConfig, { network: `projects/${g.project}/global/networks/default`, enableExternalIps: true });
                    assert.equal(vm.provider, `pulumi:providers:gcp::gcp-${g.project}`);
                }
            }
        });

        it("attaches to each VM its own data disk, named as live, and none when the group has none", () => {
            for (const q of queuesOf(catalog, "tpu")) {
                for (const g of q.tpu.groups) {
                    for (let i = 0; i < g.count; i++) {
                        const index = (g.firstIndex ?? 0) + i;
                        const name = g.vmName.replace("{index}", String(index));
                        const disks = resource(run, "gcp:tpu/v2Vm:V2Vm", name).inputs.dataDisks as { sourceDisk: string }[] | undefined;
                        if (!g.dataDisk) {
                            assert.equal(disks, undefined, name);
                            continue;
                        }
                        const diskName = g.dataDisk.name ? g.dataDisk.name.replace("{index}", String(index)) : `${name}-disk`;
                        assert.deepEqual(disks!.map((d) => d.sourceDisk), [`${diskName}-id`]);
                        const disk = resource(run, "gcp:compute/disk:Disk", diskName);
                        assert.deepEqual([disk.inputs.type, disk.inputs.size, disk.inputs.zone, disk.inputs.project], [g.dataDisk.type, g.dataDisk.sizeGb, g.zone, g.project]);
                        assert.match((resource(run, "gcp:tpu/v2Vm:V2Vm", name).inputs.metadata as any)["startup-script"], new RegExp(`^readonly DATA_DISK_NAME='${diskName}'$`, "m"));
                    }
                }
            }
        });

        it("gives each multi-host v7x slice a generated key pair, the private half only in Secret Manager", () => {
            const keys = ofType(run, "tls:index/privateKey:PrivateKey");
            assert.deepEqual(keys.map((k) => k.name), ["tpu7x-16-ci-bk-0-cicd-us-central1-c-worker-ssh-key"]);
            const versions = ofType(run, "gcp:secretmanager/secretVersion:SecretVersion");
            assert.equal(versions.length, 1);
            assert.equal(versions[0].inputs.secretData, SECRET_MASK);
            assert.equal(versions[0].rawInputs.secretData, MOCK_PRIVATE_KEY);
            const script = (resource(run, "gcp:tpu/v2Vm:V2Vm", "tpu7x-16-ci-bk-0-cicd-us-central1-c").inputs.metadata as any)["startup-script"] as string;
            assert.match(script, /readonly SSH_KEY_SECRET='tpu7x-16-ci-bk-0-cicd-us-central1-c-worker-ssh-key'/);
            assert.match(script, /readonly SSH_PUBLIC_KEY='ssh-ed25519 /);
            assert.doesNotMatch(script, /PRIVATE KEY/);
        });
    });

    describe("CPU agents", () => {
        it("keeps the builder groups' live names and size, on a new template of their own", () => {
            for (const queue of queuesOf(catalog, "gce").filter((q) => q.gce.group)) {
                const template = resource(run, "gcp:compute/instanceTemplate:InstanceTemplate", queue.name);
                assert.equal(template.inputs.namePrefix, queue.gce.group!.templatePrefix);
                assert.equal(template.inputs.machineType, queue.machine.type);
                assert.equal((template.inputs.disks as any[])[0].diskSizeGb, queue.machine.diskGb);
                assert.equal((template.inputs.scheduling as any).preemptible, queue.gce.preemptible === true);
                assert.equal((template.inputs.serviceAccount as any).email, `${agentServiceAccountId(queue.name)}@vllm-gcp.iam.gserviceaccount.com`);
                const group = resource(run, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", queue.name);
                assert.deepEqual([group.inputs.name, group.inputs.baseInstanceName, group.inputs.distributionPolicyZones, group.inputs.targetSize], [
                    queue.gce.group!.name,
                    queue.gce.group!.baseInstanceName,
                    queue.gce.group!.zones,
                    queue.scale!.min,
                ]);
            }
            assert.equal(ofType(run, "gcp:compute/regionAutoscaler:RegionAutoscaler").length, 0, "fixed-size groups have no autoscaler");
        });

        it("keeps the fixed CPU VMs with their static addresses and pinned image", () => {
            const vm = resource(run, "gcp:compute/instance:Instance", "vllm-ci-cpu-64-core-1-us-central1-c");
            assert.deepEqual([vm.inputs.name, vm.inputs.zone, vm.inputs.machineType], ["vllm-ci-cpu-64-core-1", "us-central1-c", "n2-standard-64"]);
            assert.equal((vm.inputs.bootDisk as any).initializeParams.image, "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20251021");
            assert.equal(resource(run, "gcp:compute/address:Address", "vllm-ci-cpu-64-core-zone-c-1-ip-us-central1").inputs.name, "vllm-ci-cpu-64-core-zone-c-1-ip");
        });

        it("runs the tpu-commons metrics exporter, the only writer of its project's queue metrics", () => {
            const exporter = resource(run, "gcp:compute/instance:Instance", "vllm-ci-monitoring-cpu-0");
            assert.deepEqual([exporter.inputs.project, exporter.inputs.zone, exporter.inputs.machineType], ["cloud-ullm-inference-ci-cd", "us-central1-b", "e2-micro"]);
            const writers = ofType(run, "gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs.role === "roles/monitoring.metricWriter");
            assert.deepEqual(writers.map((m) => m.inputs.member), ["serviceAccount:cloud-ullm-inference-ci-cd-compute@developer.gserviceaccount.com"]);
        });
    });

    describe("startup scripts", () => {
        it("pass bash -n and shellcheck, for every VM, template and exporter of the plan", () => {
            const withScripts = [...ofType(run, "gcp:tpu/v2Vm:V2Vm"), ...ofType(run, "gcp:compute/instanceTemplate:InstanceTemplate"), ...ofType(run, "gcp:compute/instance:Instance")];
            const scripts = [...new Set(withScripts.map((r) => (r.inputs.metadata as any)["startup-script"] as string))];
            assert.ok(scripts.length > 10, `${scripts.length} distinct scripts`);
            for (const script of scripts) assert.equal(bashSyntaxErrors(script), "");
            assert.equal(shellcheckFindings(scripts), "");
        });
    });

    describe("secrets", () => {
        const sentinels = [SENTINELS.hfToken, SENTINELS.analyticsToken, ...EXTERNAL.map(SENTINELS.kubeconfig), MOCK_PRIVATE_KEY.split("\n")[1], MOCK_SECRET_DATA];

        it("never appear in plaintext in any resource input or stack output", () => {
            for (const r of run.resources) {
                const text = json(r.inputs);
                for (const sentinel of sentinels) assert.ok(!text.includes(sentinel), `${r.type} ${r.name} has ${sentinel} in plaintext`);
            }
            const outputs = json(run.outputs);
            for (const sentinel of sentinels) assert.ok(!outputs.includes(sentinel), `outputs have ${sentinel}`);
        });

        it("do reach the resources that need them, as secrets (the check above is not vacuous)", () => {
            const raw = run.resources.map((r) => json(r.rawInputs)).join("\n");
            for (const sentinel of sentinels) assert.ok(raw.includes(sentinel), `${sentinel} reached no resource`);
        });

        it("are declared in each organization's project with their live names, without values", () => {
            assert.deepEqual(ofType(run, "gcp:secretmanager/secret:Secret").map((s) => `${s.inputs.project}/${s.inputs.secretId}`).sort(), [
                "cloud-tpu-inference-test/tpu_commons_buildkite_agent_token",
                "cloud-tpu-inference-test/tpu_commons_buildkite_analytics_token",
                "cloud-tpu-inference-test/tpu_commons_buildkite_hf_token",
                "cloud-ullm-inference-ci-cd/tpu7x-16-ci-bk-0-cicd-us-central1-c-worker-ssh-key",
                "vllm-405802/buildkite_agent_token_benchmark_cluster",
                "vllm-405802/buildkite_agent_token_ci_cluster",
                "vllm-405802/huggingface_token",
            ]);
        });

        it("are read by VM agents at boot from declared secrets, never put in instance metadata", () => {
            const declared = new Set(ofType(run, "gcp:secretmanager/secret:Secret").map((s) => s.inputs.secretId));
            for (const r of [...ofType(run, "gcp:tpu/v2Vm:V2Vm"), ...ofType(run, "gcp:compute/instanceTemplate:InstanceTemplate"), ...ofType(run, "gcp:compute/instance:Instance")]) {
                const metadata = r.rawInputs.metadata as Record<string, string>;
                assert.deepEqual(Object.keys(metadata).filter((k) => !["startup-script", "block-project-ssh-keys", "enable-oslogin", "enable-osconfig"].includes(k)), [], r.name);
                const named = [...metadata["startup-script"].matchAll(/^readonly ([A-Z_]+_SECRET)='(.*)'$/gm)].map((m) => m[2]).filter((v) => v !== "");
                assert.ok(named.length >= 1, r.name);
                for (const id of named.filter((id) => id !== "GITHUB_CI_BOT_PEM")) assert.ok(declared.has(id), `${r.name} reads undeclared secret ${id}`);
            }
        });
    });

    describe("least privilege", () => {
        const grants = () => {
            const by = new Map<string, string[]>();
            const add = (member: string, what: string) => by.set(member, [...(by.get(member) ?? []), what].sort());
            for (const r of ofType(run, "gcp:projects/iAMMember:IAMMember")) add(r.inputs.member as string, `${r.inputs.project}:${r.inputs.role}`);
            for (const r of ofType(run, "gcp:secretmanager/secretIamMember:SecretIamMember")) {
                assert.equal(r.inputs.role, "roles/secretmanager.secretAccessor");
                add(r.inputs.member as string, `${r.inputs.project}/${r.inputs.secretId}`);
            }
            for (const r of ofType(run, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")) add(r.inputs.member as string, `registry:${r.inputs.role}`);
            return by;
        };
        const sa = (id: string, project = "vllm-gcp") => `serviceAccount:${id}@${project}.iam.gserviceaccount.com`;
        const defaultAccount = (project: string) => `serviceAccount:${project}-compute@developer.gserviceaccount.com`;

        it("grants the GKE nodes of ours only the node role and registry reads", () => {
            assert.deepEqual(grants().get(sa("gke-ci-nodes")), ["registry:roles/artifactregistry.reader", "vllm-gcp:roles/container.defaultNodeServiceAccount"]);
        });

        it("lets the builders push to the test registry and read their organization's two secrets, and write no metric", () => {
            for (const queue of queuesOf(catalog, "gce").filter((q) => q.gce.group)) {
                assert.deepEqual(grants().get(sa(agentServiceAccountId(queue.name))), [
                    "registry:roles/artifactregistry.writer",
                    "vllm-405802/buildkite_agent_token_ci_cluster",
                    "vllm-405802/huggingface_token",
                    "vllm-gcp:roles/logging.logWriter",
                ]);
            }
        });

        it("lets each project's default account, which the adopted VMs run as, read only its agents' secrets", () => {
            assert.deepEqual(grants().get(defaultAccount("vllm-405802")), ["vllm-405802/buildkite_agent_token_ci_cluster", "vllm-405802/huggingface_token"]);
            assert.deepEqual(grants().get(defaultAccount("cloud-tpu-inference-test")), [
                "cloud-tpu-inference-test/tpu_commons_buildkite_agent_token",
                "cloud-tpu-inference-test/tpu_commons_buildkite_analytics_token",
                "cloud-tpu-inference-test/tpu_commons_buildkite_hf_token",
            ]);
        });

        it("grants no broad role to anyone", () => {
            for (const [who, list] of grants()) for (const what of list) assert.doesNotMatch(what, /roles\/(owner|editor|viewer|iam\.|secretmanager\.admin)/, who);
        });
    });

    describe("registry", () => {
        it("is the live Docker repository vllm-ci-test-repo-gcp in us-central1, deleting images after 7 days", () => {
            const [repo, ...others] = ofType(run, "gcp:artifactregistry/repository:Repository");
            assert.equal(others.length, 0);
            assert.deepEqual([repo.inputs.repositoryId, repo.inputs.project, repo.inputs.location, repo.inputs.format], ["vllm-ci-test-repo-gcp", "vllm-gcp", "us-central1", "DOCKER"]);
            assert.deepEqual(repo.inputs.cleanupPolicies, [{ id: "delete-old-images", action: "DELETE", condition: { olderThan: `${7 * 86400}s` } }]);
        });

        it("keeps the JAX cache bucket and its Anywhere Caches", () => {
            const bucket = resource(run, "gcp:storage/bucket:Bucket", "ullm-ci-cache");
            assert.deepEqual(bucket.inputs.lifecycleRules, [{ condition: { age: 4 }, action: { type: "Delete" } }]);
            assert.deepEqual(ofType(run, "gcp:storage/anywhereCache:AnywhereCache").map((c) => c.inputs.zone).sort(), ["us-central1-b", "us-central1-c"]);
        });
    });

    describe("bad stack config", () => {
        it("fails with one line per problem, naming the file, queue and field, every problem at once", async () => {
            await assert.rejects(
                runGcpProd({ "ci:gcpRegions": JSON.stringify(["us-central1", "us-west1", "us-east5"]), "ci:agentStackNamespace": "Not_A_Namespace" }),
                (error: Error) => {
                    assert.ok(error instanceof pulumi.RunError, String(error));
                    assert.deepEqual(error.message.split("\n"), [
                        'Pulumi.gcp-prod.yaml: config ci:agentStackNamespace: "Not_A_Namespace" is not a Kubernetes namespace name',
                        "tests/fixtures/catalogs/gcp-fleet.yaml: queue \"tpu_v5_queue\": field tpu.groups[0].zone: region us-south1 is not in ci:gcpRegions of Pulumi.gcp-prod.yaml (us-central1, us-west1, us-east5)",
                    ]);
                    return true;
                },
            );
        });

        it("fails when the stack leaves out the registry's region", async () => {
            await assert.rejects(
                runGcpProd({ "ci:gcpRegions": JSON.stringify(["us-west1", "us-south1", "us-east5"]) }),
                /Pulumi\.gcp-prod\.yaml: config ci:gcpRegions: must include us-central1, the CI registry's region/,
            );
        });
    });
});
