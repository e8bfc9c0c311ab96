/**
 * Adoption rules of the GCP stack (`gcp-prod`) from the Terraform roots of vllm-project/ci-infra
 * that run vLLM's GCP fleet: `terraform/gcp` (project vllm-gcp: GKE, builders, registry) and
 * `terraform/gcp_old/*` (vllm-405802: vLLM's TPU VMs; cloud-tpu-inference-test and
 * cloud-ullm-inference-ci-cd: tpu-commons' TPU VMs, CPU agents, exporter, cache), plus the
 * Kubernetes objects that exist on the clusters without any Terraform state (made by the scripts
 * of `infra-k8s/`), keyed by kube context.
 *
 * Import ids follow the SDKs' `## Import` sections (`@pulumi/gcp`, `@pulumi/kubernetes`: namespaced
 * objects `<namespace>/<name>`, cluster-scoped ones `<name>`, Helm releases `<namespace>/<name>`).
 * `compare` reports only fields the state records (a state holds what its resources set), and marks
 * `replaces` where the provider cannot change the field in place.
 */
import { USAGE_STATS } from "../gcp/usage-stats-config";
import type { RecordedResource } from "../plan/harness";
import type { AdoptionContext, AdoptionRule, Explanation, ExistingOutsideTerraform, FieldChange, StackAdoption } from "./engine";
import type { TerraformInstance } from "./terraform-state";

// ---- Reading both sides ---------------------------------------------------------------------------

/** A value of a Terraform instance by dotted path (`node_config.0.machine_type`); blocks are lists. */
function tf(instance: TerraformInstance, path: string): unknown {
    let node: unknown = instance.attributes;
    for (const step of path.split(".")) {
        if (node === null || node === undefined) return undefined;
        node = Array.isArray(node) ? node[Number(step)] : (node as Record<string, unknown>)[step];
    }
    return node;
}

/** A value of a planned resource's inputs by dotted path. */
function input(resource: RecordedResource, path: string): unknown {
    let node: unknown = resource.inputs;
    for (const step of path.split(".")) {
        if (node === null || node === undefined) return undefined;
        node = Array.isArray(node) ? node[Number(step)] : (node as Record<string, unknown>)[step];
    }
    return node;
}

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
/** The last segment of a self link or a bare name (`projects/p/global/networks/default` → `default`). */
const lastSegment = (value: unknown): string | undefined => str(value)?.split("/").pop();

/** The project a planned resource lives in: its own `project`, else its provider's. */
function projectOf(resource: RecordedResource, context: AdoptionContext): string | undefined {
    return str(resource.inputs.project) ?? str(context.providerOf(resource)?.inputs.project);
}

function canonical(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
}
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
const sameSet = (a: unknown, b: unknown) => same([...((a as unknown[]) ?? [])].map(String).sort(), [...((b as unknown[]) ?? [])].map(String).sort());

/** One field to compare: how each side reads it, and whether a change replaces the resource. */
interface Field {
    readonly field: string;
    readonly terraform: (instance: TerraformInstance) => unknown;
    readonly program: (resource: RecordedResource) => unknown;
    readonly replaces?: boolean;
    readonly equal?: (terraform: unknown, program: unknown) => boolean;
    /** How the report shows a value (startup scripts are summarised, never copied). */
    readonly show?: (value: unknown) => unknown;
}

/** Compares the fields the state records. */
function compareFields(fields: readonly Field[]): (resource: RecordedResource, instance: TerraformInstance) => FieldChange[] {
    return (resource, instance) => {
        const changes: FieldChange[] = [];
        for (const f of fields) {
            const terraform = f.terraform(instance);
            if (terraform === undefined || terraform === null) continue;
            const program = f.program(resource);
            if ((f.equal ?? same)(terraform, program)) continue;
            const show = f.show ?? ((v: unknown) => v);
            changes.push({ field: f.field, terraform: show(terraform), program: show(program), ...(f.replaces ? { replaces: true } : {}) });
        }
        return changes;
    };
}

const attr = (path: string) => (instance: TerraformInstance) => tf(instance, path);
const inp = (path: string) => (resource: RecordedResource) => input(resource, path);
/** Startup scripts are compared, never shown: a Terraform one may hold tokens (masked or not). */
const summariseScript = (value: unknown) => (typeof value === "string" ? `(startup script, ${value.length} characters)` : value);
const labelsOf = (instance: TerraformInstance) => tf(instance, "labels") ?? undefined;

// ---- Rules ------------------------------------------------------------------------------------------

function rule(
    pulumiType: string,
    terraformTypes: readonly string[],
    planIdentity: (resource: RecordedResource, context: AdoptionContext) => string | undefined,
    stateIdentity: (instance: TerraformInstance) => string | undefined,
    importId: (instance: TerraformInstance, resource: RecordedResource) => string,
    fields: readonly Field[] = [],
): AdoptionRule {
    return { pulumiType, terraformTypes, planIdentity, stateIdentity, importId, compare: compareFields(fields) };
}

const join = (...parts: (string | undefined)[]) => (parts.every((p) => p !== undefined && p !== "") ? parts.join("/") : undefined);

const CLUSTER = rule(
    "gcp:container/cluster:Cluster",
    ["google_container_cluster"],
    (r, c) => join(projectOf(r, c), str(r.inputs.location), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "location")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/locations/${tf(i, "location")}/clusters/${tf(i, "name")}`,
    [
        { field: "network", terraform: (i) => lastSegment(tf(i, "network")), program: (r) => lastSegment(r.inputs.network) ?? "default", replaces: true },
        { field: "enableAutopilot", terraform: attr("enable_autopilot"), program: (r) => r.inputs.enableAutopilot === true, replaces: true },
        { field: "nodeLocations", terraform: attr("node_locations"), program: inp("nodeLocations"), equal: sameSet },
        { field: "deletionProtection", terraform: attr("deletion_protection"), program: inp("deletionProtection") },
        { field: "workloadIdentityConfig.workloadPool", terraform: (i) => tf(i, "workload_identity_config.0.workload_pool") ?? (tf(i, "workload_identity_config") ? "" : undefined), program: inp("workloadIdentityConfig.workloadPool") },
    ],
);

const taintsOf = (value: unknown) => ((value as { key?: string; value?: string; effect?: string }[] | undefined) ?? []).map((t) => `${t.key}=${t.value}:${t.effect}`).sort();

const NODE_POOL = rule(
    "gcp:container/nodePool:NodePool",
    ["google_container_node_pool"],
    (r, c) => join(projectOf(r, c), str(r.inputs.location), str(r.inputs.cluster), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "location")), lastSegment(tf(i, "cluster")), str(tf(i, "name"))),
    (i) => `${tf(i, "project")}/${tf(i, "location")}/${lastSegment(tf(i, "cluster"))}/${tf(i, "name")}`,
    [
        { field: "nodeConfig.serviceAccount", terraform: attr("node_config.0.service_account"), program: (r) => input(r, "nodeConfig.serviceAccount") ?? "default", replaces: true },
        { field: "nodeConfig.oauthScopes", terraform: attr("node_config.0.oauth_scopes"), program: inp("nodeConfig.oauthScopes"), equal: sameSet, replaces: true },
        { field: "nodeConfig.metadata", terraform: attr("node_config.0.metadata"), program: inp("nodeConfig.metadata"), replaces: true },
        { field: "nodeConfig.preemptible", terraform: attr("node_config.0.preemptible"), program: (r) => input(r, "nodeConfig.preemptible") === true, replaces: true },
        { field: "nodeConfig.guestAccelerators.0.type", terraform: attr("node_config.0.guest_accelerator.0.type"), program: inp("nodeConfig.guestAccelerators.0.type"), replaces: true },
        { field: "nodeConfig.guestAccelerators.0.count", terraform: attr("node_config.0.guest_accelerator.0.count"), program: inp("nodeConfig.guestAccelerators.0.count"), replaces: true },
        { field: "nodeConfig.machineType", terraform: attr("node_config.0.machine_type"), program: inp("nodeConfig.machineType") },
        { field: "nodeConfig.diskSizeGb", terraform: attr("node_config.0.disk_size_gb"), program: inp("nodeConfig.diskSizeGb"), equal: (a, b) => Number(a) === Number(b) },
        { field: "nodeConfig.diskType", terraform: attr("node_config.0.disk_type"), program: inp("nodeConfig.diskType") },
        { field: "nodeConfig.imageType", terraform: attr("node_config.0.image_type"), program: inp("nodeConfig.imageType"), equal: (a, b) => String(a).toUpperCase() === String(b).toUpperCase() },
        { field: "nodeConfig.tags", terraform: attr("node_config.0.tags"), program: (r) => input(r, "nodeConfig.tags") ?? [], equal: sameSet },
        { field: "nodeConfig.labels", terraform: attr("node_config.0.labels"), program: inp("nodeConfig.labels") },
        { field: "nodeConfig.taints", terraform: (i) => (tf(i, "node_config.0") ? taintsOf(tf(i, "node_config.0.taint")) : undefined), program: (r) => taintsOf(input(r, "nodeConfig.taints")) },
        { field: "nodeConfig.workloadMetadataConfig.mode", terraform: (i) => (tf(i, "node_config.0") ? tf(i, "node_config.0.workload_metadata_config.0.mode") ?? "(unset)" : undefined), program: inp("nodeConfig.workloadMetadataConfig.mode") },
        { field: "autoscaling.totalMinNodeCount", terraform: attr("autoscaling.0.total_min_node_count"), program: inp("autoscaling.totalMinNodeCount"), equal: (a, b) => Number(a) === Number(b) },
        { field: "autoscaling.totalMaxNodeCount", terraform: attr("autoscaling.0.total_max_node_count"), program: inp("autoscaling.totalMaxNodeCount"), equal: (a, b) => Number(a) === Number(b) },
        { field: "autoscaling.locationPolicy", terraform: attr("autoscaling.0.location_policy"), program: inp("autoscaling.locationPolicy") },
        { field: "nodeLocations", terraform: attr("node_locations"), program: inp("nodeLocations"), equal: sameSet },
        { field: "upgradeSettings.maxSurge", terraform: attr("upgrade_settings.0.max_surge"), program: inp("upgradeSettings.maxSurge") },
    ],
);

/** A template of the program has a name prefix; its live counterpart is the template named without the trailing dash. */
const TEMPLATE = rule(
    "gcp:compute/instanceTemplate:InstanceTemplate",
    ["google_compute_instance_template"],
    (r, c) => join(projectOf(r, c), str(r.inputs.name) ?? str(r.inputs.namePrefix)?.replace(/-$/, "")),
    (i) => join(str(tf(i, "project")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/global/instanceTemplates/${tf(i, "name")}`,
    [
        { field: "name", terraform: attr("name"), program: (r) => str(r.inputs.name) ?? `${str(r.inputs.namePrefix)}<suffix>`, replaces: true },
        { field: "machineType", terraform: attr("machine_type"), program: inp("machineType"), replaces: true },
        { field: "disks.0.sourceImage", terraform: attr("disk.0.source_image"), program: inp("disks.0.sourceImage"), replaces: true },
        { field: "disks.0.diskSizeGb", terraform: attr("disk.0.disk_size_gb"), program: inp("disks.0.diskSizeGb"), replaces: true, equal: (a, b) => Number(a) === Number(b) },
        { field: "serviceAccount.email", terraform: attr("service_account.0.email"), program: inp("serviceAccount.email"), replaces: true },
        { field: "metadata.startup-script", terraform: attr("metadata.startup-script"), program: inp("metadata.startup-script"), replaces: true, show: summariseScript },
    ],
);

const GROUP = rule(
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    ["google_compute_region_instance_group_manager"],
    (r, c) => join(projectOf(r, c), str(r.inputs.region), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "region")), str(tf(i, "name"))),
    // The SDK documents `{{name}}`, which takes the region from the provider; ours have none, and
    // the provider's importer also takes the full path.
    (i) => `projects/${tf(i, "project")}/regions/${tf(i, "region")}/instanceGroupManagers/${tf(i, "name")}`,
    [
        { field: "baseInstanceName", terraform: attr("base_instance_name"), program: inp("baseInstanceName"), replaces: true },
        { field: "distributionPolicyZones", terraform: attr("distribution_policy_zones"), program: inp("distributionPolicyZones"), equal: sameSet, replaces: true },
        { field: "targetSize", terraform: attr("target_size"), program: (r) => input(r, "targetSize") ?? "(the autoscaler's)" },
        { field: "versions.0.instanceTemplate", terraform: attr("version.0.instance_template"), program: () => "(the program's template)" },
    ],
);

const REGISTRY = rule(
    "gcp:artifactregistry/repository:Repository",
    ["google_artifact_registry_repository"],
    (r, c) => join(projectOf(r, c), str(r.inputs.location), str(r.inputs.repositoryId)),
    (i) => join(str(tf(i, "project")), str(tf(i, "location")), str(tf(i, "repository_id"))),
    (i) => `projects/${tf(i, "project")}/locations/${tf(i, "location")}/repositories/${tf(i, "repository_id")}`,
    [
        { field: "format", terraform: attr("format"), program: inp("format"), replaces: true },
        { field: "description", terraform: attr("description"), program: inp("description") },
        {
            field: "cleanupPolicies",
            terraform: (i) => ((tf(i, "cleanup_policies") as { id: string; action: string; condition?: { older_than?: string }[] }[] | undefined)?.map((p) => `${p.id}:${p.action}:${p.condition?.[0]?.older_than ?? ""}`)),
            program: (r) => ((r.inputs.cleanupPolicies as { id: string; action: string; condition?: { olderThan?: string } }[] | undefined) ?? []).map((p) => `${p.id}:${p.action}:${p.condition?.olderThan ?? ""}`),
            equal: sameSet,
        },
    ],
);

const SECRET = rule(
    "gcp:secretmanager/secret:Secret",
    ["google_secret_manager_secret"],
    (r, c) => join(projectOf(r, c), str(r.inputs.secretId)),
    (i) => join(str(tf(i, "project")), str(tf(i, "secret_id"))),
    (i) => `projects/${tf(i, "project")}/secrets/${tf(i, "secret_id")}`,
    [
        { field: "replication", terraform: (i) => (tf(i, "replication.0") ? (tf(i, "replication.0.auto.0") !== undefined ? "auto" : "user-managed") : undefined), program: (r) => (input(r, "replication.auto") ? "auto" : "user-managed"), replaces: true },
        { field: "labels", terraform: labelsOf, program: (r) => input(r, "labels") ?? {} },
    ],
);

const TPU_VM = rule(
    "gcp:tpu/v2Vm:V2Vm",
    ["google_tpu_v2_vm"],
    (r, c) => join(projectOf(r, c), str(r.inputs.zone), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "zone")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/locations/${tf(i, "zone")}/nodes/${tf(i, "name")}`,
    [
        { field: "acceleratorType", terraform: attr("accelerator_type"), program: inp("acceleratorType"), replaces: true },
        { field: "runtimeVersion", terraform: attr("runtime_version"), program: inp("runtimeVersion"), replaces: true },
        { field: "networkConfig.network", terraform: (i) => lastSegment(tf(i, "network_config.0.network")), program: (r) => lastSegment(input(r, "networkConfig.network")), replaces: true },
        { field: "networkConfig.enableExternalIps", terraform: attr("network_config.0.enable_external_ips"), program: inp("networkConfig.enableExternalIps"), replaces: true },
        { field: "schedulingConfig.reserved", terraform: (i) => tf(i, "scheduling_config.0.reserved") ?? (Array.isArray(tf(i, "scheduling_config")) ? false : undefined), program: (r) => input(r, "schedulingConfig.reserved") === true, replaces: true },
        { field: "serviceAccount.email", terraform: (i) => (tf(i, "service_account.0.email") as string | undefined)?.replace(/^\d+-compute@developer\.gserviceaccount\.com$/, "default"), program: (r) => input(r, "serviceAccount.email") ?? "default", replaces: true },
        { field: "metadata.startup-script", terraform: attr("metadata.startup-script"), program: inp("metadata.startup-script"), show: summariseScript },
        { field: "labels", terraform: labelsOf, program: inp("labels") },
        { field: "dataDisks.0.sourceDisk", terraform: (i) => lastSegment(tf(i, "data_disks.0.source_disk")), program: () => undefined, equal: () => true },
    ],
);

const DISK = rule(
    "gcp:compute/disk:Disk",
    ["google_compute_disk"],
    (r, c) => join(projectOf(r, c), str(r.inputs.zone), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "zone")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/zones/${tf(i, "zone")}/disks/${tf(i, "name")}`,
    [
        { field: "type", terraform: attr("type"), program: inp("type"), replaces: true },
        { field: "size", terraform: attr("size"), program: inp("size"), equal: (a, b) => Number(a) === Number(b) },
        { field: "labels", terraform: labelsOf, program: (r) => input(r, "labels") ?? {} },
    ],
);

const INSTANCE = rule(
    "gcp:compute/instance:Instance",
    ["google_compute_instance"],
    (r, c) => join(projectOf(r, c), str(r.inputs.zone), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "zone")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/zones/${tf(i, "zone")}/instances/${tf(i, "name")}`,
    [
        { field: "bootDisk.initializeParams.image", terraform: (i) => lastSegment(tf(i, "boot_disk.0.initialize_params.0.image")), program: (r) => lastSegment(input(r, "bootDisk.initializeParams.image")), replaces: true },
        { field: "machineType", terraform: (i) => lastSegment(tf(i, "machine_type")), program: inp("machineType") },
        { field: "metadata.startup-script", terraform: attr("metadata.startup-script"), program: inp("metadata.startup-script"), show: summariseScript },
        { field: "labels", terraform: labelsOf, program: (r) => input(r, "labels") ?? {} },
    ],
);

const ADDRESS = rule(
    "gcp:compute/address:Address",
    ["google_compute_address"],
    (r, c) => join(projectOf(r, c), str(r.inputs.region), str(r.inputs.name)),
    (i) => join(str(tf(i, "project")), str(tf(i, "region")), str(tf(i, "name"))),
    (i) => `projects/${tf(i, "project")}/regions/${tf(i, "region")}/addresses/${tf(i, "name")}`,
);

const BUCKET = rule(
    "gcp:storage/bucket:Bucket",
    ["google_storage_bucket"],
    (r) => str(r.inputs.name),
    (i) => str(tf(i, "name")),
    (i) => String(tf(i, "name")),
    [
        { field: "location", terraform: attr("location"), program: inp("location"), equal: (a, b) => String(a).toUpperCase() === String(b).toUpperCase(), replaces: true },
        { field: "lifecycleRules.0.condition.age", terraform: attr("lifecycle_rule.0.condition.0.age"), program: inp("lifecycleRules.0.condition.age") },
    ],
);

const ANYWHERE_CACHE = rule(
    "gcp:storage/anywhereCache:AnywhereCache",
    ["google_storage_anywhere_cache"],
    // The bucket input is an output of the bucket; its logical name carries the bucket and the zone.
    (r) => join(str(r.inputs.bucket) ?? r.name.slice(0, -(String(r.inputs.zone).length + 1)), str(r.inputs.zone)),
    (i) => join(str(tf(i, "bucket")), str(tf(i, "zone"))),
    (i) => `${tf(i, "bucket")}/${tf(i, "anywhere_cache_id") ?? tf(i, "zone")}`,
);

const RULES: readonly AdoptionRule[] = [CLUSTER, NODE_POOL, TEMPLATE, GROUP, REGISTRY, SECRET, TPU_VM, DISK, INSTANCE, ADDRESS, BUCKET, ANYWHERE_CACHE];

// ---- Kubernetes objects made by the infra-k8s scripts ----------------------------------------------

/** What the `infra-k8s/` scripts and upstream's runbook created, per kube context: `<kind>/<namespace>/<name>` or `<kind>/<name>`. */
export type KubernetesInventory = Readonly<Record<string, readonly string[]>>;

const JOB_SECRET_OBJECTS = ["secret/buildkite/hf-token-secret", "secret/buildkite/buildkite-analytics-token-secret"];
const ALL_CLASSES = ["ci", "perf-benchmark", "gpu-priority-cls-1", "gpu-priority-cls-2", "gpu-priority-cls-4", "gpu-priority-cls-8"].map((c) => `priorityclass/${c}`);
const LEGACY = ["namespace/buildkite", "release/buildkite/agent-stack-k8s"];

/**
 * What exists without Terraform on each cluster, as upstream's scripts made it: the external
 * clusters have the namespace, the job secrets, the priority classes and the old release (the
 * issue's account of them); `vllm-ci-test-cluster` (where install-buildkite-k8s.sh and
 * priority-class.yaml were run) the namespace, the GPU classes and the old release. An operator
 * replaces this with the live list (`--live-inventory`, see the README) before importing.
 */
export const DEFAULT_KUBERNETES_INVENTORY: KubernetesInventory = {
    ...Object.fromEntries(["mithril-h100", "a100", "b200", "nebius-h200"].map((context) => [context, [...LEGACY, ...JOB_SECRET_OBJECTS, ...ALL_CLASSES]])),
    "gke-vllm-ci-test-cluster": [...LEGACY, ...ALL_CLASSES.filter((c) => c.includes("gpu-priority"))],
};

/** The kube context a Kubernetes resource of the plan is reached through. */
export function kubeContextOf(resource: RecordedResource, context: AdoptionContext): string | undefined {
    const provider = context.providerOf(resource);
    if (!provider || !provider.type.startsWith("pulumi:providers:kubernetes")) return undefined;
    const explicit = str(provider.inputs.context);
    if (explicit) return explicit;
    // GKE providers' kubeconfigs name their one context `gke-<cluster>` (gcp/kubeconfig.ts).
    return provider.name.endsWith("-k8s") ? `gke-${provider.name.slice(0, -"-k8s".length)}` : undefined;
}

/** The inventory key and import id of a Kubernetes resource of the plan. */
function kubernetesObject(resource: RecordedResource): { key: string; id: string } | undefined {
    const name = str(input(resource, "metadata.name")) ?? str(resource.inputs.name);
    const namespace = str(input(resource, "metadata.namespace")) ?? str(resource.inputs.namespace);
    if (!name) return undefined;
    switch (resource.type) {
        case "kubernetes:core/v1:Namespace":
            return { key: `namespace/${name}`, id: name };
        case "kubernetes:scheduling.k8s.io/v1:PriorityClass":
            return { key: `priorityclass/${name}`, id: name };
        case "kubernetes:core/v1:Secret":
            return namespace ? { key: `secret/${namespace}/${name}`, id: `${namespace}/${name}` } : undefined;
        case "kubernetes:helm.sh/v3:Release":
            return namespace ? { key: `release/${namespace}/${name}`, id: `${namespace}/${name}` } : undefined;
        default:
            return undefined;
    }
}

function existingKubernetesObjects(inventory: KubernetesInventory, inventorySource: string) {
    return (resource: RecordedResource, context: AdoptionContext): ExistingOutsideTerraform | undefined => {
        const kubeContext = kubeContextOf(resource, context);
        const object = kubernetesObject(resource);
        if (!kubeContext || !object || !(inventory[kubeContext] ?? []).includes(object.key)) return undefined;
        return { id: object.id, reason: `exists on kube context ${kubeContext} (${inventorySource}), made by infra-k8s/ scripts or by hand` };
    };
}

// ---- GCP objects made by hand ---------------------------------------------------------------------

/**
 * GCP objects that exist without any Terraform state, by Pulumi type and physical identity (the
 * rule's `planIdentity`), with their import id: upstream's usage-stats bucket, made by hand for
 * the Vector endpoint of `usage-stats/`. Its Cloud Run service is not here: ours is a new one
 * (its own name), and upstream's hand-deployed service goes once the domain points at ours.
 */
export const HAND_MADE_GCP_OBJECTS: readonly { readonly type: string; readonly identity: string; readonly id: string; readonly reason: string }[] = [
    { type: "gcp:storage/bucket:Bucket", identity: USAGE_STATS.bucket, id: USAGE_STATS.bucket, reason: "made by hand for upstream's usage-stats/ endpoint; in no Terraform state" },
];

function existingHandMadeObjects(resource: RecordedResource, context: AdoptionContext): ExistingOutsideTerraform | undefined {
    const rule = RULES.find((r) => r.pulumiType === resource.type);
    const identity = rule?.planIdentity(resource, context);
    const object = HAND_MADE_GCP_OBJECTS.find((o) => o.type === resource.type && o.identity === identity);
    return object ? { id: object.id, reason: object.reason } : undefined;
}

// ---- Explanations -----------------------------------------------------------------------------------

const OLD_ROOTS = "terraform/gcp_old (vllm, tpu-inference/cloud-tpu-inference-test, -v7x, cloud-ullm-inference-ci-cd)";

const CREATED: readonly Explanation[] = [
    { type: "gcp:cloudrunv2/service:Service", name: USAGE_STATS.service, reason: "the usage-stats endpoint from a pinned Vector image, beside upstream's hand-deployed service (which goes once stats.vllm.ai points here)" },
    { type: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", reason: "anyone may post usage reports, as vLLM installations do without credentials (upstream's endpoint is public too)" },
    { type: "gcp:serviceaccount/account:Account", name: /usage-stats/, reason: "the usage-stats endpoint's own account instead of the project's default compute account (editor on the project)" },
    { type: "gcp:storage/bucketIAMMember:BucketIAMMember", reason: "the usage-stats endpoint may create objects in its bucket, nothing else" },
    { type: "gcp:projects/service:Service", name: /usage-stats-run-api$/, reason: "enables the Cloud Run API for the usage-stats service (a no-op where it is on; never disabled on delete)" },
    { type: "kubernetes:helm.sh/v3:Release", name: /^agent-stack-.*-agent-stack-k8s$/, reason: "the old single release, declared for the cut-over; not on this context's inventory" },
    { type: "kubernetes:helm.sh/v3:Release", reason: "one agent-stack-k8s controller per queue and cluster, with an id of its own (the old single release served every queue)" },
    { type: "kubernetes:core/v1:Secret", name: /bk-agent-token-/, reason: "the controllers' agent token, written by the program from the Buildkite cluster's Secret Manager secret (there was none: the old release kept its token in its own secret)" },
    { type: "kubernetes:core/v1:Secret", reason: "job pods' token Secret, not on this context's inventory: created from the stack's Pulumi secret" },
    { type: "kubernetes:core/v1:Namespace", reason: "the agent stack's namespace, not on this context's inventory" },
    { type: "kubernetes:scheduling.k8s.io/v1:PriorityClass", reason: "a priority class job pods name, not on this context's inventory; created with the live value" },
    { type: "gcp:container/nodePool:NodePool", name: /-system$/, reason: "untainted system pool: kube-dns and the controllers need nodes the tainted L4 pools refuse them" },
    { type: "gcp:serviceaccount/account:Account", reason: "a least-privilege account of ours (builders, new GKE nodes) instead of artifact-registry-sa (repoAdmin on the whole project) or the default compute account" },
    { type: "gcp:projects/iAMMember:IAMMember", reason: "the project role of one of our accounts (logs; metrics for the exporter only)" },
    { type: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", reason: "registry access of one of our accounts (builders push, nodes pull), on the one repository instead of project-wide" },
    { type: "gcp:secretmanager/secretIamMember:SecretIamMember", reason: "read access to the secrets an agent reads at boot (Terraform baked their values into startup scripts instead)" },
    { type: "gcp:secretmanager/secret:Secret", name: /worker-ssh-key$/, reason: "a multi-host slice's worker key, kept in Secret Manager (Terraform wrote it into the startup script)" },
    { type: "gcp:secretmanager/secretVersion:SecretVersion", reason: "the value of a multi-host slice's worker key" },
    { type: "tls:index/privateKey:PrivateKey", reason: "a multi-host slice's worker key pair (ED25519 instead of Terraform's RSA key in metadata)" },
    { type: "gcp:compute/regionAutoscaler:RegionAutoscaler", reason: "autoscaler of a group the catalog scales, on the metric of its cluster's own exporter" },
    // Resources of the gcp_old roots, when their states are not given.
    ...["gcp:tpu/v2Vm:V2Vm", "gcp:compute/disk:Disk", "gcp:compute/instance:Instance", "gcp:compute/address:Address", "gcp:secretmanager/secret:Secret", "gcp:storage/bucket:Bucket", "gcp:storage/anywhereCache:AnywhereCache"].map(
        (type): Explanation => ({ type, reason: `NOT NEW: lives in ${OLD_ROOTS}; pass that root's state too (--terraform-state), or the first up collides with it` }),
    ),
];

const LEFT_IN_TERRAFORM: readonly Explanation[] = [
    { type: "random_id", reason: "names the Terraform backend bucket: Terraform's own plumbing" },
    { type: "local_file", reason: "writes Terraform's backend.tf: Terraform's own plumbing" },
    { type: "google_storage_bucket", name: /^google_storage_bucket\.default$/, reason: "Terraform's state backend; stays until the roots are retired" },
    { type: "google_service_account", name: /artifact_registry_sa/, reason: "artifact-registry-sa: the builders move to accounts of their own; Terraform deletes it once the new templates run", handover: "retire" },
    { type: "google_project_iam_member", name: /artifact_registry_iam/, reason: "repoAdmin on the whole project for artifact-registry-sa: replaced by writer on the one repository", handover: "retire" },
    { type: "google_storage_bucket_iam_member", reason: "storage.admin on vllm-build-artifacts-gcp for artifact-registry-sa: no builder of ours uses that bucket", handover: "retire" },
    { type: "google_secret_manager_secret", name: /buildkite_agent_token_benchmark_cluster/, reason: "bm-agent-hf-token (cloud-tpu-inference-test): read by no agent" },
    { type: "tls_private_key", reason: "the v7x multi-host RSA keys Terraform wrote into startup scripts: replaced by keys in Secret Manager", handover: "forget" },
    { type: "google_compute_instance", name: /^module\.ci_monitoring\./, reason: "the exporter VM is adopted when its identity matches; this instance is another" },
    ...["google_bigquery_dataset", "google_bigquery_table", "google_storage_bucket_object", "google_cloudfunctions2_function", "google_cloud_run_service_iam_member", "google_cloud_scheduler_job"].map(
        (type): Explanation => ({ type, reason: "tpu-inference's CI analytics (BigQuery, webhook function, scheduler): no CI agent depends on it; stays in Terraform" }),
    ),
    { type: "google_storage_bucket", name: /^module\.ci_monitoring\./, reason: "source bucket of the analytics function: stays with it in Terraform" },
    { type: "google_service_account", name: /^module\.ci_monitoring\./, reason: "accounts of the analytics function and scheduler: stay with them in Terraform" },
    { type: "google_project_iam_member", name: /^module\.ci_monitoring\./, reason: "grant of the analytics function: stays with it in Terraform" },
    { type: "google_secret_manager_secret_iam_member", name: /^module\.ci_monitoring\./, reason: "grant of the analytics function: stays with it in Terraform" },
];

const DIFFERENCES: readonly Explanation[] = [
    { type: "gcp:container/cluster:Cluster", field: "deletionProtection", reason: "a mistaken delete of a cluster takes every queue on it down" },
    { type: "gcp:container/cluster:Cluster", field: "workloadIdentityConfig.workloadPool", reason: "lets the pools hide the nodes' account from job pods (GKE_METADATA); in place" },
    { type: "gcp:container/nodePool:NodePool", field: "nodeConfig.taints", reason: "only the queue's job pods land on its L4 nodes, so system pods no longer keep GPU nodes up; in place" },
    { type: "gcp:container/nodePool:NodePool", field: "nodeConfig.labels", reason: "the queue label the job pods select; env kept; in place" },
    { type: "gcp:container/nodePool:NodePool", field: "nodeConfig.workloadMetadataConfig.mode", reason: "untrusted job pods cannot use the node's default compute account through the metadata server; in place" },
    { type: "gcp:container/nodePool:NodePool", field: "upgradeSettings.maxSurge", reason: "L4 capacity is scarce: upgrades replace one node at a time instead of asking for surge GPUs" },
    { type: "gcp:compute/instanceTemplate:InstanceTemplate", reason: "templates are immutable: the new one (name prefix, Ubuntu 24.04, its own account, a startup script that reads the token at boot instead of carrying it) is created first, the group rolls onto it, then the old one is deleted" },
    { type: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", field: "versions.0.instanceTemplate", reason: "the group rolls onto the program's template (PROACTIVE, no capacity lost)" },
    { type: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", field: "targetSize", reason: "the catalog's size" },
    { type: "gcp:artifactregistry/repository:Repository", field: "cleanupPolicies", reason: "the live policy: delete images older than 7 days" },
    { type: "gcp:tpu/v2Vm:V2Vm", field: "metadata.startup-script", reason: "the fleet's startup script: tokens read at boot from Secret Manager (Terraform put their values in metadata), waits for secrets and disk, runs at the next boot" },
    { type: "gcp:tpu/v2Vm:V2Vm", field: "labels", reason: "the fleet's labels (queue, managed-by) beside vm_name; in place" },
    { type: "gcp:compute/instance:Instance", field: "metadata.startup-script", reason: "the fleet's startup script (tokens read at boot); runs at the next boot" },
    { type: "gcp:compute/instance:Instance", field: "labels", reason: "the fleet's labels; in place" },
    { type: "gcp:compute/disk:Disk", field: "labels", reason: "the fleet's labels; in place" },
    { type: "gcp:secretmanager/secret:Secret", field: "labels", reason: "the fleet's labels replace the hand-written ones; in place" },
];

/** Options of the GCP adoption. */
export interface GcpAdoptionOptions {
    /** The live Kubernetes objects per kube context (default: `DEFAULT_KUBERNETES_INVENTORY`). */
    readonly kubernetesInventory?: KubernetesInventory;
}

export function gcpAdoption(stack: string, options: GcpAdoptionOptions = {}): StackAdoption {
    const inventory = options.kubernetesInventory ?? DEFAULT_KUBERNETES_INVENTORY;
    const kubernetesObjects = existingKubernetesObjects(inventory, options.kubernetesInventory ? "the given live inventory" : "upstream's scripts; check with the live inventory");
    return {
        stack,
        rules: RULES,
        existingOutsideTerraform: (resource, context) => existingHandMadeObjects(resource, context) ?? kubernetesObjects(resource, context),
        created: CREATED,
        leftInTerraform: LEFT_IN_TERRAFORM,
        differences: DIFFERENCES,
    };
}
