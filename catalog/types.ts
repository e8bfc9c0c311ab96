/**
 * Types of the queue catalog (`catalog/queues.yaml`): the one source of truth that both the
 * infrastructure (aws/, gcp/, k8s/) and the pipeline generator (generator/) read.
 *
 * This module is imported by the generator bundle: it must stay free of `@pulumi/*` and of any
 * cloud SDK.
 */

/** Where a queue's agents run. */
export const PROVIDERS = ["aws", "gke", "tpu", "gce", "k8s", "external"] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * Which code a queue runs, which decides its IAM and its place in the trust boundary.
 * - premerge: untrusted pull-request code (GPU test queues are premerge too).
 * - postmerge: code that landed on main; may publish postmerge images, caches and wheels.
 * - release: release builds; may publish release images and wheels.
 * - any: not a trust boundary this program manages (external or routing-only queues).
 */
export const STAGES = ["premerge", "postmerge", "release", "any"] as const;
export type Stage = (typeof STAGES)[number];

/** How steps reach a queue: through a routing rule, or only by naming the queue in a pipeline. */
export const REACHED_BY = ["rules", "name"] as const;
export type ReachedBy = (typeof REACHED_BY)[number];

/** A machine type the fleet uses, with the accelerators it carries. */
export interface MachineType {
    /** Accelerator model, for example `nvidia-l4`; absent for CPU-only machines. */
    accelerator?: string;
    /** Number of accelerators on one machine. */
    count?: number;
    /** CPU architecture, `x86_64` unless stated. */
    arch?: "x86_64" | "arm64";
}

/** The machine a queue's agents run on. */
export interface QueueMachine {
    /** Machine type, declared in `machineTypes` (for example `g6.12xlarge`, `g2-standard-48`). */
    type: string;
    /** Accelerator model; must equal the machine type's. */
    accelerator?: string;
    /** Accelerators per machine; must equal the machine type's. */
    count?: number;
    /** Root / boot disk size in GiB. */
    diskGb?: number;
}

/** How a queue scales. */
export interface QueueScale {
    /** Fewest agents (instances, nodes or VMs) kept running. */
    min: number;
    /** Most agents. */
    max: number;
    /** Seconds an agent may idle before the autoscaler removes it. */
    idleSeconds?: number;
    /** Replace the instance after every job (a clean machine for each untrusted job). */
    terminateAfterJob?: boolean;
}

/** AWS-only settings, passed to the Elastic CI Stack. */
export interface AwsQueueSettings {
    /** Root volume (GiB, IOPS, MB/s). */
    rootVolume?: { sizeGb?: number; iops?: number; throughputMBps?: number };
    /** An AMI id to boot instead of the stack's default. */
    imageId?: string;
    /** An SSM parameter holding the AMI id (the warm-cache AMI). */
    imageIdParameter?: string;
    /** Mount the instance store for Docker. */
    instanceStorage?: boolean;
    /** Run the fleet's bootstrap script at instance start (GPU queues). */
    bootstrapScript?: boolean;
    /** This queue builds the warm-cache AMI and may roll it out. */
    buildsAmi?: boolean;
    /** Queues whose autoscaling groups receive the AMI this queue builds. */
    rollsAmiTo?: string[];
    /** Extra Elastic CI Stack parameters, verbatim (strings). */
    parameters?: Record<string, string>;
}

/** GKE-only settings: one node pool per listed cluster. */
export interface GkeQueueSettings {
    /** Keys of `gkeClusters` this queue gets a node pool in. */
    clusters: string[];
}

/** TPU-only settings. */
export interface TpuQueueSettings {
    /** TPU accelerator type, for example `v6e-8` or `tpu7x-16`. */
    acceleratorType: string;
    /** TPU runtime version. */
    runtimeVersion: string;
    /** Zone, for example `us-east5-b`. */
    zone: string;
    /** Number of TPU VMs (slices) serving the queue. */
    count: number;
    /** Use reserved capacity. */
    reserved?: boolean;
    /** Use spot capacity. */
    spot?: boolean;
    /** Data disk for Docker's data root. */
    dataDisk?: { type: string; sizeGb: number };
}

/** GCE managed-instance-group settings (CPU builders). */
export interface GceQueueSettings {
    /** Region of the regional managed instance group. */
    region: string;
    /** Use preemptible instances. */
    preemptible?: boolean;
}

/** Kubernetes (agent-stack-k8s) settings. */
export interface K8sQueueSettings {
    /** The external cluster that serves the queue: a name in the gcp-prod stack config `ci:externalClusters`. (GKE queues are provider `gke`.) */
    cluster: string;
}

/** One Buildkite queue of the fleet. */
export interface Queue {
    /** The Buildkite queue tag agents listen on. */
    name: string;
    provider: Provider;
    /** Cloud region (aws, gce); informative elsewhere. */
    region?: string;
    stage: Stage;
    /** Buildkite cluster (a key of `buildkiteClusters`) whose agent token the agents use. */
    cluster?: string;
    /** How steps reach the queue (default `rules`). */
    reachedBy: ReachedBy;
    /** One line on what the queue is for. */
    description?: string;
    machine?: QueueMachine;
    scale?: QueueScale;
    aws?: AwsQueueSettings;
    gke?: GkeQueueSettings;
    tpu?: TpuQueueSettings;
    gce?: GceQueueSettings;
    k8s?: K8sQueueSettings;
}

/** A Buildkite cluster: its agent token lives in the cloud secret stores under these names. */
export interface BuildkiteCluster {
    /** SSM parameter (AWS) holding the agent token. */
    ssmTokenParameter: string;
    /** Secret Manager secret id (GCP) holding the agent token. */
    gcpSecretId: string;
}

/** A GKE cluster of the fleet. */
export interface GkeCluster {
    /** Region of the cluster. */
    region: string;
    /** Zones the node pools span. */
    zones: string[];
    /** Autopilot cluster (no node pools of ours). */
    autopilot?: boolean;
}

/** How steps that name a device are executed (the plugin and its template). */
export const PLUGIN_KINDS = ["docker", "kubernetes", "amd"] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** What a device means for a step, besides its queue. */
export interface DeviceSpec {
    /** `docker` (the docker plugin), `kubernetes` (a pod spec), or `amd` (AMD GPU jobs). */
    plugin: PluginKind;
    /**
     * Name of the plugin template (docker environment/volumes or pod spec) in the generator's
     * settings. Absent for `amd`.
     */
    template?: string;
    /** Docker plugin: pass `gpus: all`. Default true. */
    gpus?: boolean;
    /** Suffix appended to the test image tag (for example `-cpu`, `-arm64`). */
    imageSuffix?: string;
    /** Pull the image through the pull-through cache instead of the public registry. */
    pullThroughCache?: boolean;
    /** Merge the step's `agent_tags` into `agents`. */
    agentTags?: boolean;
    /** AMD GPU devices: GPUs per job. */
    amdGpus?: number;
}

/** A routing rule: the first rule whose `match` holds gives the step's queue. */
export interface RoutingMatch {
    /** The label starts with this. */
    labelPrefix?: string;
    /** The label contains this anywhere. */
    labelContains?: string;
    /** The label equals this. */
    label?: string;
    /** The step's device is one of these. */
    device?: string[];
    /** The step's `num_devices` is one of these. */
    numDevices?: number[];
}

/** A queue, possibly different on the main branch. */
export interface RoutingTarget {
    /** Queue for builds of the main branch. */
    main: string;
    /** Queue for every other branch. */
    other: string;
}

export interface RoutingRule {
    /** Absent: the rule always matches (the default at the end of the table). */
    match?: RoutingMatch;
    queue: string | RoutingTarget;
}

/** The whole catalog. */
export interface Catalog {
    /** File the catalog was read from (for messages). */
    file: string;
    machineTypes: Record<string, MachineType>;
    buildkiteClusters: Record<string, BuildkiteCluster>;
    gkeClusters: Record<string, GkeCluster>;
    queues: Queue[];
    devices: Record<string, DeviceSpec>;
    routing: RoutingRule[];
}

/** A step, as far as routing is concerned. */
export interface RoutableStep {
    label: string;
    device?: string | null;
    numDevices?: number | null;
}
