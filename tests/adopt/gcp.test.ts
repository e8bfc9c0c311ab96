/**
 * The GCP adoption on the offline plan of gcp-prod: the small fixture state of `terraform/gcp`,
 * then states of our own with the attributes the live roots set (terraform/gcp with its node
 * configs and templates, gcp_old's TPU VMs, CPU VMs, exporter and cache, two roots declaring one
 * secret), and the Kubernetes objects the clusters hold without Terraform.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import { adopt, type AdoptionResult } from "../../adopt/engine";
import { DEFAULT_KUBERNETES_INVENTORY, gcpAdoption } from "../../adopt/gcp";
import { importFileProblems, type ImportFile } from "../../adopt/import-file";
import { renderAdoption, secretLeaks } from "../../adopt/outputs";
import { parseTerraformState, type TerraformState } from "../../adopt/terraform-state";
import type { RecordedResource } from "../../plan/harness";
import { sharedFixture } from "../support/fixtures";
import { sharedPlan } from "../support/plans";

const GOOGLE = 'provider["registry.terraform.io/hashicorp/google"]';
const BETA = 'provider["registry.terraform.io/hashicorp/google-beta"]';
const TOKEN = "bkua_0123456789abcdef-LIVE-TOKEN-IN-STATE";

interface Res {
    type: string;
    name: string;
    module?: string;
    provider?: string;
    instances: { index_key?: string | number; attributes: Record<string, unknown>; sensitive_attributes?: unknown[] }[];
}
const state = (label: string, resources: Res[]): TerraformState =>
    parseTerraformState(JSON.stringify({ version: 4, serial: 1, lineage: label, resources: resources.map((r) => ({ mode: "managed", provider: GOOGLE, ...r })) }), label);
const scriptPath = [[{ type: "get_attr", value: "metadata" }, { type: "index", value: { value: "startup-script", type: "string" } }]];

const SCOPES = [
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/trace.append",
    "https://www.googleapis.com/auth/service.management.readonly",
    "https://www.googleapis.com/auth/servicecontrol",
];
const POOLS = [["gpu_L4x1_pool_ondemand", "-l4-1", 1, "g2-standard-12", 64], ["gpu_L4x2_pool", "-l4-2", 2, "g2-standard-24", 10], ["gpu_L4x4_pool", "-l4-4", 4, "g2-standard-48", 3]] as const;

/** terraform/gcp as its configuration sets it: node configs, templates with the token in their scripts, groups, registry. */
function gcpRootState(edit: (resources: Res[]) => void = () => undefined): TerraformState {
    const cluster = (tfName: string, name: string, location: string, zones: string[]): Res => ({
        type: "google_container_cluster",
        name: tfName,
        instances: [{ attributes: { id: `projects/vllm-gcp/locations/${location}/clusters/${name}`, name, location, project: "vllm-gcp", network: "default", node_locations: zones, deletion_protection: false, enable_autopilot: false, workload_identity_config: [] } }],
    });
    const pools = (tfName: string, clusterName: string, location: string, zones: string[]): Res => ({
        type: "google_container_node_pool",
        name: tfName,
        instances: POOLS.map(([key, suffix, gpus, machine, max]) => ({
            index_key: key,
            attributes: {
                name: `${clusterName}${suffix}`,
                cluster: clusterName,
                location,
                project: "vllm-gcp",
                node_locations: zones,
                autoscaling: [{ total_min_node_count: 0, total_max_node_count: max, location_policy: "ANY" }],
                upgrade_settings: [{ max_surge: 1, max_unavailable: 0 }],
                node_config: [
                    {
                        machine_type: machine,
                        guest_accelerator: [{ type: "nvidia-l4", count: gpus, gpu_driver_installation_config: [{ gpu_driver_version: "LATEST" }] }],
                        service_account: "default",
                        oauth_scopes: SCOPES,
                        metadata: { "disable-legacy-endpoints": "true", startup_script: "" },
                        preemptible: false,
                        tags: ["gke-node", "vllm-gcp-gke"],
                        labels: { env: "vllm-gcp" },
                        image_type: "COS_CONTAINERD",
                        disk_size_gb: 512,
                        disk_type: "pd-balanced",
                        taint: [],
                        workload_metadata_config: [],
                    },
                ],
            },
        })),
    });
    const template = (tfName: string, name: string, machine: string, disk: number, queue: string): Res => ({
        type: "google_compute_instance_template",
        name: tfName,
        instances: [
            {
                attributes: {
                    id: `projects/vllm-gcp/global/instanceTemplates/${name}`,
                    name,
                    project: "vllm-gcp",
                    machine_type: machine,
                    disk: [{ source_image: "debian-cloud/debian-11", disk_size_gb: disk }],
                    service_account: [{ email: "artifact-registry-sa@vllm-gcp.iam.gserviceaccount.com", scopes: ["cloud-platform"] }],
                    metadata: { "startup-script": `#!/bin/bash\nsed -i "s/xxx/${TOKEN}/g" /etc/buildkite-agent/buildkite-agent.cfg\necho 'tags="queue=${queue}"'\n` },
                },
                sensitive_attributes: scriptPath,
            },
        ],
    });
    const group = (tfName: string, name: string, base: string, template: string): Res => ({
        type: "google_compute_region_instance_group_manager",
        name: tfName,
        instances: [{ attributes: { name, base_instance_name: base, region: "us-central1", project: "vllm-gcp", distribution_policy_zones: ["us-central1-a", "us-central1-b"], target_size: 1, version: [{ instance_template: `https://www.googleapis.com/compute/v1/projects/vllm-gcp/global/instanceTemplates/${template}` }] } }],
    });
    const resources: Res[] = [
        cluster("ci_cluster", "vllm-ci-test-cluster", "us-central1", ["us-central1-a", "us-central1-b", "us-central1-c"]),
        cluster("ci_cluster_us_west_1", "vllm-ci-test-cluster-us-west-1", "us-west1", ["us-west1-a", "us-west1-b"]),
        { type: "google_container_cluster", name: "autopilot_ci_cluster", instances: [{ attributes: { name: "gke-autopilot-vllm-ci-cluster", location: "us-central1", project: "vllm-gcp", enable_autopilot: true, deletion_protection: false } }] },
        pools("node_pool", "vllm-ci-test-cluster", "us-central1", ["us-central1-a", "us-central1-b", "us-central1-c"]),
        pools("node_pool_us_west_1", "vllm-ci-test-cluster-us-west-1", "us-west1", ["us-west1-a", "us-west1-b"]),
        template("builder_template", "builder-template", "n2-highmem-64", 512, "cpu-gcp"),
        template("small_cpu_template", "small-cpu-template", "n2-highmem-4", 128, "small-cpu-gcp"),
        group("builder_group", "builder-group", "builder-instance", "builder-template"),
        group("small_cpu_group", "small-cpu-group", "small-cpu-instance", "small-cpu-template"),
        {
            type: "google_artifact_registry_repository",
            name: "vllm-repo",
            provider: BETA,
            instances: [{ attributes: { repository_id: "vllm-ci-test-repo-gcp", location: "us-central1", project: "vllm-gcp", format: "DOCKER", description: "Hosting images for vLLM CI test", cleanup_policies: [{ id: "delete-old-images", action: "DELETE", condition: [{ older_than: "604800s" }] }] } }],
        },
        { type: "google_service_account", name: "artifact_registry_sa", instances: [{ attributes: { account_id: "artifact-registry-sa", project: "vllm-gcp" } }] },
        { type: "google_project_iam_member", name: "artifact_registry_iam", instances: [{ attributes: { project: "vllm-gcp", role: "roles/artifactregistry.repoAdmin", member: "serviceAccount:artifact-registry-sa@vllm-gcp.iam.gserviceaccount.com" } }] },
    ];
    edit(resources);
    return state("gcp-root.tfstate", resources);
}

/** A piece of cloud-ullm-inference-ci-cd and of the two cloud-tpu-inference-test roots (which both declare the tpu-commons secrets). */
function oldRootStates(): TerraformState[] {
    const tpu = (index: number): Res["instances"][number] => ({
        index_key: index,
        attributes: {
            name: `tpu7x-2-ci-${index}-cicd-us-central1-c`,
            zone: "us-central1-c",
            project: "cloud-ullm-inference-ci-cd",
            accelerator_type: "tpu7x-2",
            runtime_version: "v2-alpha-tpu7-ubuntu2404",
            network_config: [{ network: "projects/cloud-ullm-inference-ci-cd/global/networks/default", enable_external_ips: true }],
            scheduling_config: [{ reserved: true, preemptible: false, spot: false }],
            service_account: [{ email: "123456789012-compute@developer.gserviceaccount.com", scope: ["https://www.googleapis.com/auth/cloud-platform"] }],
            labels: { vm_name: `tpu7x-2-ci-${index}-cicd-us-central1-c` },
            data_disks: [{ source_disk: `projects/cloud-ullm-inference-ci-cd/zones/us-central1-c/disks/tpu7x-2-ci-${index}-cicd-us-central1-c-disk`, mode: "READ_WRITE" }],
            metadata: { "startup-script": `sudo sed -i "s/xxx/${TOKEN}/g"` },
        },
        sensitive_attributes: scriptPath,
    });
    const ullm = state("cloud-ullm-inference-ci-cd.tfstate", [
        { module: "module.ci_v7x_2", type: "google_tpu_v2_vm", name: "tpu_v7x_ci", provider: BETA, instances: [tpu(0), tpu(1)] },
        {
            module: "module.ci_v7x_2",
            type: "google_compute_disk",
            name: "tpu_disk",
            provider: BETA,
            instances: [0, 1].map((i) => ({ index_key: i, attributes: { name: `tpu7x-2-ci-${i}-cicd-us-central1-c-disk`, zone: "us-central1-c", project: "cloud-ullm-inference-ci-cd", type: "hyperdisk-balanced", size: 2048 } })),
        },
        { module: "module.ci_v7x_16", type: "tls_private_key", name: "internal_ssh_key", provider: 'provider["registry.terraform.io/hashicorp/tls"]', instances: [{ index_key: 0, attributes: { algorithm: "RSA", private_key_pem: "-----BEGIN RSA PRIVATE KEY-----\nsecretkeymaterial\n" } }] },
        {
            module: "module.ci_cpu_64_core_zone_c",
            type: "google_compute_instance",
            name: "buildkite-agent-instance",
            provider: BETA,
            instances: [{ index_key: 0, attributes: { name: "vllm-ci-cpu-64-core-0", zone: "us-central1-c", project: "cloud-ullm-inference-ci-cd", machine_type: "n2-standard-64", boot_disk: [{ initialize_params: [{ image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20251021" }] }], metadata: { "startup-script": TOKEN } }, sensitive_attributes: scriptPath }],
        },
        { module: "module.ci_cpu_64_core_zone_c", type: "google_compute_address", name: "static", provider: BETA, instances: [{ index_key: 0, attributes: { name: "vllm-ci-cpu-64-core-zone-c-0-ip", region: "us-central1", project: "cloud-ullm-inference-ci-cd" } }] },
        { module: "module.ci_monitoring", type: "google_compute_instance", name: "monitoring_instance", provider: BETA, instances: [{ attributes: { name: "vllm-ci-monitoring-cpu-0", zone: "us-central1-b", project: "cloud-ullm-inference-ci-cd", machine_type: "e2-micro", boot_disk: [{ initialize_params: [{ image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20251021" }] }] } }] },
        { module: "module.ci_monitoring", type: "google_bigquery_dataset", name: "ci_analytics", instances: [{ attributes: { dataset_id: "ci_efficiency_metrics", project: "cloud-ullm-inference-ci-cd" } }] },
        { module: "module.ci_cache_storage", type: "google_storage_bucket", name: "jax_cache_bucket", instances: [{ attributes: { name: "ullm-ci-cache", project: "cloud-ullm-inference-ci-cd", location: "US-CENTRAL1", lifecycle_rule: [{ condition: [{ age: 4 }], action: [{ type: "Delete" }] }] } }] },
        {
            module: "module.ci_cache_storage",
            type: "google_storage_anywhere_cache",
            name: "jax_cache",
            provider: BETA,
            instances: ["us-central1-b", "us-central1-c"].map((zone) => ({ index_key: zone, attributes: { bucket: "ullm-ci-cache", zone, anywhere_cache_id: zone } })),
        },
    ]);
    const secrets = (label: string) =>
        state(label, [
            ...["tpu_commons_buildkite_agent_token", "tpu_commons_buildkite_analytics_token", "tpu_commons_buildkite_hf_token"].map((secretId, i) => ({
                type: "google_secret_manager_secret",
                name: ["buildkite_agent_token_ci_cluster", "buildkite_analytics_token_ci_cluster", "huggingface_token"][i],
                instances: [{ attributes: { secret_id: secretId, project: "cloud-tpu-inference-test", replication: [{ auto: [{}] }] } }],
            })),
        ]);
    return [ullm, secrets("cloud-tpu-inference-test.tfstate"), secrets("cloud-tpu-inference-test-v7x.tfstate")];
}

describe("GCP adoption (gcp-prod)", function () {
    let plan: RecordedResource[];
    const rules = gcpAdoption("gcp-prod");
    before(async () => {
        plan = (await sharedPlan("gcp-prod")).resources;
    });
    const adopted = (result: AdoptionResult, type: string) => result.report.adopted.filter((a) => a.type === type);

    describe("on the fixture state of terraform/gcp", () => {
        let result: AdoptionResult;
        before(() => {
            const file = sharedFixture("fixtures", "terraform-state", "gcp.tfstate");
            result = adopt(plan, [parseTerraformState(fs.readFileSync(file, "utf8"), file)], rules);
        });

        it("adopts the clusters, pools, templates, groups and registry, with the SDKs' import ids", () => {
            assert.deepEqual(adopted(result, "gcp:container/cluster:Cluster").map((a) => a.id).sort(), [
                "projects/vllm-gcp/locations/us-central1/clusters/gke-autopilot-vllm-ci-cluster",
                "projects/vllm-gcp/locations/us-central1/clusters/vllm-ci-test-cluster",
                "projects/vllm-gcp/locations/us-west1/clusters/vllm-ci-test-cluster-us-west-1",
            ]);
            assert.equal(adopted(result, "gcp:container/nodePool:NodePool").length, 6);
            assert.ok(adopted(result, "gcp:container/nodePool:NodePool").some((a) => a.id === "vllm-gcp/us-west1/vllm-ci-test-cluster-us-west-1/vllm-ci-test-cluster-us-west-1-l4-4"));
            assert.deepEqual(adopted(result, "gcp:compute/instanceTemplate:InstanceTemplate").map((a) => a.id).sort(), [
                "projects/vllm-gcp/global/instanceTemplates/builder-template",
                "projects/vllm-gcp/global/instanceTemplates/small-cpu-template",
            ]);
            assert.deepEqual(adopted(result, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager").map((a) => a.id).sort(), [
                "projects/vllm-gcp/regions/us-central1/instanceGroupManagers/builder-group",
                "projects/vllm-gcp/regions/us-central1/instanceGroupManagers/small-cpu-group",
            ]);
            assert.deepEqual(adopted(result, "gcp:artifactregistry/repository:Repository").map((a) => a.id), ["projects/vllm-gcp/locations/us-central1/repositories/vllm-ci-test-repo-gcp"]);
        });

        it("replaces no cluster or pool, explains everything, and writes a valid import file", () => {
            assert.deepEqual(result.report.replaced.filter((r) => /container/.test(r.type)), []);
            assert.deepEqual(result.report.unexplained, []);
            const rendered = renderAdoption("gcp-prod", plan, result);
            assert.deepEqual(rendered.importProblems, []);
            assert.match(rendered.files["gcp-prod.terraform-handover.tf"], /removed \{\n {2}from = google_container_node_pool\.node_pool\n/);
            assert.match(rendered.files["gcp-prod.import.sh"], /--target 'urn:pulumi:gcp-prod::ci::pulumi:providers:gcp::gcp-vllm-gcp'/);
        });

        it("imports in two phases: what a cluster's Kubernetes provider reads is in the stack before that provider is created", () => {
            const rendered = renderAdoption("gcp-prod", plan, result);
            const phase = (n: number) => JSON.parse(rendered.files[`gcp-prod.import-phase-${n}.json`]) as ImportFile;
            assert.equal(rendered.files["gcp-prod.import-phase-3.json"], undefined);
            const [first, second] = [phase(1), phase(2)];
            const whole = JSON.parse(rendered.files["gcp-prod.import.json"]) as ImportFile;
            const imported = (file: ImportFile) => file.resources.filter((entry) => !entry.component);
            assert.equal(imported(first).length + imported(second).length, imported(whole).length, "every entry in exactly one phase");
            // External clusters' providers read a kubeconfig from config (phase 1); a GKE cluster's reads the cluster.
            const CLUSTER_PROVIDER = "GkeCiCluster$pulumi:providers:kubernetes";
            const kubernetesProvider = (file: ImportFile, key: string | undefined) => key !== undefined && file.nameTable[key].includes(CLUSTER_PROVIDER);
            assert.ok(!imported(first).some((entry) => kubernetesProvider(first, entry.provider)), "phase 1 reads nothing through a cluster's provider");
            assert.ok(imported(second).length > 0 && imported(second).every((entry) => kubernetesProvider(second, entry.provider)), "phase 2 is the clusters' Kubernetes objects");
            assert.ok(imported(first).some((entry) => entry.type === "gcp:container/cluster:Cluster"), "the clusters come first");
            for (const file of [first, second]) assert.deepEqual(importFileProblems(file), []);
            // Components made by phase 1 are named by URN in phase 2, never created twice.
            const firstComponents = new Set(first.resources.filter((entry) => entry.component).map((entry) => entry.type + "::" + (entry.logicalName ?? entry.name)));
            for (const entry of second.resources.filter((e) => e.component)) assert.ok(!firstComponents.has(entry.type + "::" + (entry.logicalName ?? entry.name)), `${entry.name} in both phases`);
            const script = rendered.files["gcp-prod.import.sh"];
            const targets = (text: string) => [...text.matchAll(/--target '([^']+)'/g)].map((match) => match[1]);
            const [before, after] = script.split("# phase 2");
            assert.ok(targets(before).length > 0 && targets(before).every((urn) => !urn.includes(CLUSTER_PROVIDER)), "phase 1 creates no cluster's provider");
            assert.ok(targets(after).length > 0 && targets(after).every((urn) => urn.includes(CLUSTER_PROVIDER)));
            assert.ok(before.indexOf("gcp-prod.import-phase-1.json") > 0 && after.indexOf("gcp-prod.import-phase-2.json") > 0);
            const checked = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
            assert.equal(checked.status, 0, checked.stdout);
        });

        it("says where the resources of the other roots live when their states are not given", () => {
            const vm = result.report.created.find((c) => c.type === "gcp:tpu/v2Vm:V2Vm")!;
            assert.match(vm.reason, /^NOT NEW: lives in terraform\/gcp_old/);
        });
    });

    describe("on states with the live attributes", () => {
        let result: AdoptionResult;
        let states: TerraformState[];
        before(() => {
            states = [gcpRootState(), ...oldRootStates()];
            result = adopt(plan, states, rules);
        });

        it("changes the adopted pools only in place (taints, labels, metadata server, upgrades), each with its reason", () => {
            assert.deepEqual(result.report.replaced.filter((r) => /container|tpu|compute\/disk|compute\/instance:/.test(r.type)), []);
            const poolFields = [...new Set(result.report.differences.filter((d) => d.type === "gcp:container/nodePool:NodePool").map((d) => d.field))].sort();
            assert.deepEqual(poolFields, ["nodeConfig.labels", "nodeConfig.taints", "nodeConfig.workloadMetadataConfig.mode", "upgradeSettings.maxSurge"]);
            assert.deepEqual([...new Set(result.report.differences.filter((d) => d.type === "gcp:container/cluster:Cluster").map((d) => d.field))].sort(), ["deletionProtection", "workloadIdentityConfig.workloadPool"]);
            assert.deepEqual(result.report.unexplained, []);
            for (const d of result.report.differences) assert.ok(d.reason.length > 10, `${d.type} ${d.field}`);
        });

        it("replaces the immutable templates (created before the old ones go), and nothing else that holds state", () => {
            assert.deepEqual([...new Set(result.report.replaced.map((r) => r.type))], ["gcp:compute/instanceTemplate:InstanceTemplate"]);
            assert.ok(result.report.replaced.some((r) => r.field === "disks.0.sourceImage"));
        });

        it("adopts the TPU VMs, disks, CPU VMs, addresses, exporter, bucket and caches of the old roots", () => {
            const ids = result.report.adopted.map((a) => a.id);
            for (const id of [
                "projects/cloud-ullm-inference-ci-cd/locations/us-central1-c/nodes/tpu7x-2-ci-1-cicd-us-central1-c",
                "projects/cloud-ullm-inference-ci-cd/zones/us-central1-c/disks/tpu7x-2-ci-0-cicd-us-central1-c-disk",
                "projects/cloud-ullm-inference-ci-cd/zones/us-central1-c/instances/vllm-ci-cpu-64-core-0",
                "projects/cloud-ullm-inference-ci-cd/regions/us-central1/addresses/vllm-ci-cpu-64-core-zone-c-0-ip",
                "projects/cloud-ullm-inference-ci-cd/zones/us-central1-b/instances/vllm-ci-monitoring-cpu-0",
                "ullm-ci-cache",
                "ullm-ci-cache/us-central1-b",
            ]) {
                assert.ok(ids.includes(id), id);
            }
            const vm = result.report.differences.filter((d) => d.name === "tpu7x-2-ci-1-cicd-us-central1-c").map((d) => d.field);
            assert.deepEqual(vm.sort(), ["labels", "metadata.startup-script"]);
        });

        it("adopts a secret two roots declare once, and hands it over from both", () => {
            const secret = result.report.adopted.find((a) => a.id === "projects/cloud-tpu-inference-test/secrets/tpu_commons_buildkite_agent_token")!;
            assert.equal(secret.alsoManagedBy?.length, 1);
            const handover = renderAdoption("gcp-prod", plan, result).files["gcp-prod.terraform-handover.tf"];
            for (const root of ["cloud-tpu-inference-test.tfstate", "cloud-tpu-inference-test-v7x.tfstate"]) {
                assert.match(handover, new RegExp(`# ---- state ${root.replace(/\./g, "\\.")} ----\\n\\nremoved \\{\\n  from = google_secret_manager_secret\\.buildkite_agent_token_ci_cluster`));
            }
        });

        it("leaves the analytics and Terraform's own plumbing in Terraform, with reasons", () => {
            const left = result.report.leftInTerraform.map((l) => l.terraform);
            for (const address of ["module.ci_monitoring.google_bigquery_dataset.ci_analytics", "google_service_account.artifact_registry_sa", "module.ci_v7x_16.tls_private_key.internal_ssh_key[0]"]) assert.ok(left.includes(address), address);
        });

        it("never writes a value the states hold in secret (tokens in startup scripts, private keys)", () => {
            const rendered = renderAdoption("gcp-prod", plan, result);
            assert.deepEqual(secretLeaks(states, { ...rendered.files, summary: rendered.summary }), []);
            assert.ok(!Object.values(rendered.files).some((text) => text.includes(TOKEN) || text.includes("secretkeymaterial")));
            assert.deepEqual(rendered.importProblems, []);
        });

        it("flags a change GKE cannot make in place (the check can fail)", () => {
            const other = gcpRootState((resources) => {
                const pools = resources.find((r) => r.name === "node_pool")!;
                ((pools.instances[0].attributes.node_config as any[])[0] as Record<string, unknown>).service_account = "someone@vllm-gcp.iam.gserviceaccount.com";
            });
            const changed = adopt(plan, [other], rules);
            assert.deepEqual(changed.report.replaced.map((r) => [r.name, r.field]).filter(([, f]) => f === "nodeConfig.serviceAccount"), [["vllm-ci-test-cluster-l4-1", "nodeConfig.serviceAccount"]]);
        });
    });

    describe("Kubernetes objects made without Terraform", () => {
        it("imports the namespace, job secrets, priority classes and old release of each context, with the SDK's ids", () => {
            const result = adopt(plan, [], rules);
            const a100 = result.report.adopted.filter((a) => a.terraform === null && /agent-stack-a100/.test(a.name));
            const ids = a100.map((a) => `${a.type.split(":").pop()}=${a.id}`).sort();
            assert.ok(ids.includes("Namespace=buildkite"), ids.join(" "));
            assert.ok(ids.includes("Secret=buildkite/hf-token-secret"));
            assert.ok(ids.includes("PriorityClass=ci"));
            assert.ok(ids.includes("Release=buildkite/agent-stack-k8s"));
            assert.ok(!ids.some((id) => id.includes("bk-agent-token")), "the controllers' token Secrets are new");
            for (const entry of a100) assert.match(entry.reason ?? "", /kube context a100/);
        });

        it("follows the live inventory an operator gives instead of upstream's account", () => {
            const result = adopt(plan, [], gcpAdoption("gcp-prod", { kubernetesInventory: { a100: ["namespace/buildkite"] } }));
            const outside = result.report.adopted.filter((a) => a.terraform === null && a.type.startsWith("kubernetes:"));
            assert.deepEqual(outside.map((a) => [a.name, a.id]), [["agent-stack-a100-namespace", "buildkite"]]);
            assert.ok(result.report.created.some((c) => c.name === "agent-stack-a100-hf-token-secret"));
            assert.ok(Object.keys(DEFAULT_KUBERNETES_INVENTORY).includes("gke-vllm-ci-test-cluster"));
        });
    });
});
