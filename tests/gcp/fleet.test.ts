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
import { dnsLabel as slug } from "../../lib/names";
import { GCP_FIXTURE_CATALOG } from "../support/gcp-settings";
import { MOCK_PRIVATE_KEY } from "../../plan/mocks/gcp";
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
            assert.deepEqual([...providers.values()].map((p) => p.project).sort(), ["vllm-ci", "vllm-tpu-ci"]);
            for (const provider of providers.values()) assert.equal(provider.region, undefined);
            for (const r of run.resources.filter((x) => x.type.startsWith("gcp:"))) {
                const provider = providers.get(r.provider!)!;
                assert.ok(provider, `${r.name}: provider ${r.provider}`);
                // A secret version belongs to its secret, which names the project.
                if (r.type === "gcp:secretmanager/secretVersion:SecretVersion") continue;
                assert.ok(["vllm-ci", "vllm-tpu-ci"].includes(r.inputs.project as string), `${r.type} ${r.name} names its project`);
            }
            const regional = ["gcp:compute/instanceTemplate", "gcp:compute/region", "gcp:compute/disk", "gcp:tpu/", "gcp:container/", "gcp:artifactregistry/repository:"];
            for (const r of run.resources.filter((x) => regional.some((prefix) => x.type.startsWith(prefix)))) {
                assert.ok(r.inputs.zone ?? r.inputs.region ?? r.inputs.location, `${r.type} ${r.name} names its location`);
            }
            for (const vm of ofType(run, "gcp:tpu/v2Vm:V2Vm")) assert.equal(vm.provider, "pulumi:providers:gcp::gcp-vllm-tpu-ci", vm.name);
        });
    });

    describe("GKE", () => {
        it("creates the catalog's clusters: Standard ones without their default pool, one Autopilot", () => {
            for (const [key, cluster] of Object.entries(catalog.gkeClusters)) {
                const r = resource(run, "gcp:container/cluster:Cluster", key);
                assert.equal(input(r, "location"), cluster.region);
                if (cluster.autopilot) {
                    assert.equal(input(r, "enableAutopilot"), true);
                } else {
                    assert.equal(input(r, "removeDefaultNodePool"), true);
                    assert.deepEqual(input(r, "nodeLocations"), cluster.zones);
                }
            }
            assert.deepEqual(ofType(run, "gcp:container/cluster:Cluster").filter((c) => c.inputs.enableAutopilot).map((c) => c.name), ["ci-autopilot-us-central1"]);
        });

        it("gives each cluster of a GKE queue an L4 pool as the catalog says, GPU count matching the machine type", () => {
            const pools = ofType(run, "gcp:container/nodePool:NodePool");
            const expected = queuesOf(catalog, "gke").flatMap((q) => q.gke.clusters.map((c) => `${c}-${slug(q.name)}`));
            assert.deepEqual(pools.map((p) => p.name).sort(), expected.sort());
            for (const gke of queuesOf(catalog, "gke")) {
                for (const cluster of gke.gke.clusters) {
                    const pool = resource(run, "gcp:container/nodePool:NodePool", `${cluster}-${slug(gke.name)}`);
                    const node = input(pool, "nodeConfig");
                    assert.equal(node.machineType, gke.machine.type);
                    assert.equal(node.guestAccelerators.length, 1);
                    assert.equal(node.guestAccelerators[0].type, "nvidia-l4");
                    assert.equal(node.guestAccelerators[0].count, l4GpusOf(gke.machine.type));
                    assert.equal(node.guestAccelerators[0].count, gke.machine.count);
                    assert.ok(node.guestAccelerators[0].gpuDriverInstallationConfig.gpuDriverVersion, "GKE installs the driver");
                    assert.deepEqual(input(pool, "autoscaling"), { totalMinNodeCount: gke.scale.min, totalMaxNodeCount: gke.scale.max, locationPolicy: "ANY" });
                    assert.deepEqual(input(pool, "management"), { autoRepair: true, autoUpgrade: true });
                    assert.equal(node.imageType, "COS_CONTAINERD");
                    assert.equal(node.diskSizeGb, 512);
                    assert.equal(node.diskType, "pd-balanced");
                    assert.equal(node.metadata["disable-legacy-endpoints"], "true");
                    assert.equal(node.serviceAccount, "gke-ci-nodes@vllm-ci.iam.gserviceaccount.com");
                    assert.equal(node.labels["ci.vllm.ai/queue"], gke.name);
                    assert.deepEqual(node.taints, [{ key: "ci.vllm.ai/queue", value: gke.name, effect: "NO_SCHEDULE" }]);
                    assert.equal(input(pool, "cluster"), cluster);
                }
            }
        });
    });

    describe("agent stack on Kubernetes", () => {
        const schema = loadChartSchema();

        it("installs one release per queue on each GKE cluster and each external cluster, through that cluster's provider", () => {
            const releases = ofType(run, "kubernetes:helm.sh/v3:Release");
            const expected = [
                ...queuesOf(catalog, "gke").flatMap((q) => q.gke.clusters.map((c) => [`pulumi:providers:kubernetes::${c}-k8s`, q.name])),
                ...queuesOf(catalog, "k8s").map((q) => [`pulumi:providers:kubernetes::k8s-${q.k8s.cluster}`, q.name]),
            ];
            const actual = releases.map((r) => [r.provider, ((r.inputs.values as any).config.tags as string[])[0].replace("queue=", "")]);
            assert.deepEqual(actual.sort(), expected.sort());
        });

        it("renders values the chart's schema accepts, with the token from an existing Secret", () => {
            for (const release of ofType(run, "kubernetes:helm.sh/v3:Release")) {
                assert.equal(release.inputs.chart, "oci://ghcr.io/buildkite/helm/agent-stack-k8s");
                assert.equal(release.inputs.version, "0.47.0");
                const values = release.inputs.values as Record<string, unknown>;
                assert.deepEqual(schema.problems(values), [], release.name);
                assert.match(values.agentStackSecret as string, /^bk-agent-token-cluster-/);
                assert.ok(!("agentToken" in values));
            }
        });

        it("creates the namespace, the six priority classes and the job pods' secrets on every cluster", () => {
            const clusters = [...Object.keys(catalog.gkeClusters).filter((k) => !catalog.gkeClusters[k].autopilot), ...EXTERNAL];
            for (const cluster of clusters) {
                const owned = (type: string) => ofType(run, type).filter((r) => r.parent === `ci:k8s:AgentStackK8s::agent-stack-${cluster}`);
                assert.equal(owned("kubernetes:core/v1:Namespace").length, 1, cluster);
                assert.deepEqual(
                    owned("kubernetes:scheduling.k8s.io/v1:PriorityClass").map((p) => (p.inputs.metadata as any).name).sort(),
                    ["ci", "gpu-priority-cls-1", "gpu-priority-cls-2", "gpu-priority-cls-4", "gpu-priority-cls-8", "perf-benchmark"],
                );
                const secrets = owned("kubernetes:core/v1:Secret");
                assert.deepEqual(secrets.map((s) => (s.inputs.metadata as any).name).sort(), ["buildkite-analytics-token-secret", "hf-token-secret"]);
                for (const secret of secrets) assert.equal(secret.inputs.stringData, SECRET_MASK);
            }
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
        it("creates the catalog's count of VMs per TPU queue, with its type, runtime, zone and capacity", () => {
            const vms = ofType(run, "gcp:tpu/v2Vm:V2Vm");
            assert.equal(vms.length, queuesOf(catalog, "tpu").reduce((sum, q) => sum + q.tpu.count, 0));
            for (const queue of queuesOf(catalog, "tpu")) {
                const own = vms.filter((vm) => vm.parent === `ci:gcp:TpuAgentPool::${queue.name}`);
                assert.deepEqual(own.map((vm) => vm.name).sort(), Array.from({ length: queue.tpu.count }, (_, i) => `${slug(queue.name)}-${i}`).sort());
                for (const vm of own) {
                    assert.equal(vm.inputs.acceleratorType, queue.tpu.acceleratorType);
                    assert.equal(vm.inputs.runtimeVersion, queue.tpu.runtimeVersion);
                    assert.equal(vm.inputs.zone, queue.tpu.zone);
                    assert.equal((vm.inputs.schedulingConfig as any).reserved, queue.tpu.reserved === true);
                    assert.equal((vm.inputs.serviceAccount as any).email, `${agentServiceAccountId(queue.name)}@vllm-tpu-ci.iam.gserviceaccount.com`);
                }
            }
        });

        it("attaches to each VM its own data disk of the catalog's type and size, and none when the catalog has none", () => {
            for (const queue of queuesOf(catalog, "tpu")) {
                for (const vm of ofType(run, "gcp:tpu/v2Vm:V2Vm").filter((v) => v.parent === `ci:gcp:TpuAgentPool::${queue.name}`)) {
                    const disks = vm.inputs.dataDisks as { sourceDisk: string }[] | undefined;
                    if (!queue.tpu.dataDisk) {
                        assert.equal(disks, undefined, vm.name);
                        continue;
                    }
                    assert.deepEqual(disks!.map((d) => d.sourceDisk), [`${vm.name}-data-id`]);
                    const disk = resource(run, "gcp:compute/disk:Disk", `${vm.name}-data`);
                    assert.equal(disk.inputs.type, queue.tpu.dataDisk.type);
                    assert.equal(disk.inputs.size, queue.tpu.dataDisk.sizeGb);
                    assert.equal(disk.inputs.zone, queue.tpu.zone);
                }
            }
        });

        it("gives multi-host v7x slices a generated key pair, the private half only in Secret Manager", () => {
            const keys = ofType(run, "tls:index/privateKey:PrivateKey");
            assert.deepEqual(keys.map((k) => k.name), ["tpu_v7x_16_queue-worker-ssh-key"]);
            assert.equal(keys[0].provider, "pulumi:providers:tls::tls");
            const versions = ofType(run, "gcp:secretmanager/secretVersion:SecretVersion");
            assert.deepEqual(versions.map((v) => v.name), ["tpu-v7x-16-queue-worker-ssh-key-version"]);
            assert.equal(versions[0].inputs.secretData, SECRET_MASK);
            assert.equal(versions[0].rawInputs.secretData, MOCK_PRIVATE_KEY);
            const vm = resource(run, "gcp:tpu/v2Vm:V2Vm", "tpu-v7x-16-queue-0");
            const script = (vm.inputs.metadata as any)["startup-script"] as string;
            assert.match(script, /readonly SSH_KEY_SECRET='tpu-v7x-16-queue-worker-ssh-key'/);
            assert.match(script, /readonly SSH_PUBLIC_KEY='ssh-ed25519 /);
            assert.doesNotMatch(script, /PRIVATE KEY/);
            const single = (resource(run, "gcp:tpu/v2Vm:V2Vm", "tpu-v7x-8-queue-0").inputs.metadata as any)["startup-script"] as string;
            assert.match(single, /readonly SSH_KEY_SECRET=''/);
        });
    });

    describe("CPU builders", () => {
        it("creates a template, a regional group and its autoscaler per builder queue, as the catalog says", () => {
            for (const queue of queuesOf(catalog, "gce")) {
                const template = resource(run, "gcp:compute/instanceTemplate:InstanceTemplate", queue.name);
                assert.equal(template.inputs.machineType, queue.machine.type);
                const [boot] = template.inputs.disks as any[];
                assert.equal(boot.diskSizeGb, queue.machine.diskGb);
                assert.equal(boot.boot, true);
                assert.equal((template.inputs.scheduling as any).preemptible, queue.gce.preemptible === true);
                assert.equal((template.inputs.serviceAccount as any).email, `${agentServiceAccountId(queue.name)}@vllm-ci.iam.gserviceaccount.com`);
                assert.match((template.inputs.metadata as any)["startup-script"], new RegExp(`readonly AGENT_TAGS='queue=${queue.name}'`));
                const group = resource(run, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", queue.name);
                assert.equal(group.inputs.region, queue.gce.region);
                const scaler = resource(run, "gcp:compute/regionAutoscaler:RegionAutoscaler", queue.name);
                assert.equal((scaler.inputs.autoscalingPolicy as any).minReplicas, queue.scale.min);
                assert.equal((scaler.inputs.autoscalingPolicy as any).maxReplicas, queue.scale.max);
                assert.equal(scaler.inputs.target, `${queue.name}-id`);
            }
        });
    });

    describe("startup scripts", () => {
        it("pass bash -n, for every VM and template", () => {
            const scripts = [...ofType(run, "gcp:tpu/v2Vm:V2Vm"), ...ofType(run, "gcp:compute/instanceTemplate:InstanceTemplate")].map(
                (r) => [r.name, (r.inputs.metadata as any)["startup-script"] as string] as const,
            );
            const expected = queuesOf(catalog, "tpu").reduce((sum, q) => sum + q.tpu.count, 0) + queuesOf(catalog, "gce").length;
            assert.equal(scripts.length, expected);
            assert.equal(expected, 23, "the fixture catalog's 21 TPU VMs and 2 builder templates");
            for (const [name, script] of scripts) {
                assert.equal(typeof script, "string", name);
                assert.equal(bashSyntaxErrors(script), "", name);
            }
        });
    });

    describe("secrets", () => {
        const sentinels = [SENTINELS.hfToken, SENTINELS.analyticsToken, ...EXTERNAL.map(SENTINELS.kubeconfig), MOCK_PRIVATE_KEY.split("\n")[1]];

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

        it("are declared in Secret Manager without values (only the generated SSH key has a version)", () => {
            assert.deepEqual(ofType(run, "gcp:secretmanager/secret:Secret").map((s) => s.inputs.secretId).sort(), [
                "bk-agent-token-cluster-ci",
                "buildkite-analytics-token",
                "hf-token",
                "tpu-v7x-16-queue-worker-ssh-key",
            ]);
            assert.equal(ofType(run, "gcp:secretmanager/secretVersion:SecretVersion").length, 1);
        });

        it("are read by VM agents at boot, never put in instance metadata", () => {
            for (const r of [...ofType(run, "gcp:tpu/v2Vm:V2Vm"), ...ofType(run, "gcp:compute/instanceTemplate:InstanceTemplate")]) {
                const metadata = r.rawInputs.metadata as Record<string, string>;
                assert.deepEqual(Object.keys(metadata).filter((k) => k !== "startup-script" && k !== "block-project-ssh-keys"), [], r.name);
                // The script names the secrets it reads; each name is a declared Secret Manager secret.
                const declared = new Set(ofType(run, "gcp:secretmanager/secret:Secret").map((s) => s.inputs.secretId));
                const named = [...metadata["startup-script"].matchAll(/^readonly ([A-Z_]+_SECRET)='(.*)'$/gm)].map((m) => m[2]).filter((v) => v !== "");
                assert.ok(named.length >= 3, r.name);
                for (const id of named) assert.ok(declared.has(id), `${r.name} reads undeclared secret ${id}`);
            }
        });
    });

    describe("least privilege", () => {
        interface Grants {
            project: string[];
            secrets: string[];
            registry: string[];
        }
        let grants: Map<string, Grants>;
        before(() => {
            grants = new Map();
            const of = (member: string) => {
                if (!grants.has(member)) grants.set(member, { project: [], secrets: [], registry: [] });
                return grants.get(member)!;
            };
            for (const r of ofType(run, "gcp:projects/iAMMember:IAMMember")) of(r.inputs.member as string).project.push(r.inputs.role as string);
            for (const r of ofType(run, "gcp:secretmanager/secretIamMember:SecretIamMember")) {
                assert.equal(r.inputs.role, "roles/secretmanager.secretAccessor");
                of(r.inputs.member as string).secrets.push(r.inputs.secretId as string);
            }
            for (const r of ofType(run, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")) {
                assert.equal(r.inputs.repository, "vllm-ci-test-repo-gcp");
                of(r.inputs.member as string).registry.push(r.inputs.role as string);
            }
            for (const g of grants.values()) for (const list of Object.values(g)) list.sort();
        });
        const member = (id: string, project = "vllm-ci") => `serviceAccount:${id}@${project}.iam.gserviceaccount.com`;

        it("grants the GKE nodes only the node role and registry reads (not the default compute account)", () => {
            assert.deepEqual(grants.get(member("gke-ci-nodes")), { project: ["roles/container.defaultNodeServiceAccount"], secrets: [], registry: ["roles/artifactregistry.reader"] });
        });

        it("lets each TPU queue read exactly its token, HF and analytics secrets (plus its slice key), and only read the registry", () => {
            for (const queue of queuesOf(catalog, "tpu")) {
                const expectedSecrets = ["bk-agent-token-cluster-ci", "buildkite-analytics-token", "hf-token"];
                if (queue.name === "tpu_v7x_16_queue") expectedSecrets.push("tpu-v7x-16-queue-worker-ssh-key");
                assert.deepEqual(grants.get(member(agentServiceAccountId(queue.name), "vllm-tpu-ci")), {
                    project: ["roles/logging.logWriter", "roles/monitoring.metricWriter"],
                    secrets: expectedSecrets.sort(),
                    registry: ["roles/artifactregistry.reader"],
                });
            }
        });

        it("lets the builders push only to the test registry", () => {
            for (const queue of queuesOf(catalog, "gce")) {
                assert.deepEqual(grants.get(member(agentServiceAccountId(queue.name))), {
                    project: ["roles/logging.logWriter", "roles/monitoring.metricWriter"],
                    secrets: ["bk-agent-token-cluster-ci", "buildkite-analytics-token", "hf-token"],
                    registry: ["roles/artifactregistry.writer"],
                });
            }
        });

        it("grants nothing else: no other member, no broad role", () => {
            const expected = new Set([
                member("gke-ci-nodes"),
                ...queuesOf(catalog, "tpu").map((q) => member(agentServiceAccountId(q.name), "vllm-tpu-ci")),
                ...queuesOf(catalog, "gce").map((q) => member(agentServiceAccountId(q.name))),
            ]);
            assert.deepEqual([...grants.keys()].sort(), [...expected].sort());
            for (const [who, g] of grants) {
                for (const role of g.project) assert.doesNotMatch(role, /roles\/(owner|editor|viewer|iam\.|secretmanager\.|artifactregistry\.)/, who);
            }
        });
    });

    describe("registry", () => {
        it("is the Docker repository vllm-ci-test-repo-gcp in us-central1, deleting images after 7 days", () => {
            const [repo, ...others] = ofType(run, "gcp:artifactregistry/repository:Repository");
            assert.equal(others.length, 0);
            assert.equal(repo.inputs.repositoryId, "vllm-ci-test-repo-gcp");
            assert.equal(repo.inputs.location, "us-central1");
            assert.equal(repo.inputs.format, "DOCKER");
            assert.equal(repo.inputs.cleanupPolicyDryRun, false);
            assert.deepEqual(repo.inputs.cleanupPolicies, [{ id: "delete-older-than-7-days", action: "DELETE", condition: { tagState: "ANY", olderThan: `${7 * 86400}s` } }]);
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
                        "tests/fixtures/catalogs/gcp-fleet.yaml: queue \"tpu_v5_queue\": field tpu.zone: region us-south1 is not in ci:gcpRegions of Pulumi.gcp-prod.yaml (us-central1, us-west1, us-east5)",
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
