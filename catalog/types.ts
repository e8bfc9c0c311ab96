/**
 * Types of the queue catalog (`catalog/queues.yaml`): the one source of truth that both the
 * infrastructure (aws/, gcp/, k8s/) and the pipeline generator (generator/) read.
 *
 * Every type is derived from the model (`catalog/model.ts`), where each field is declared once
 * with its description; this module only names them. Type-only imports of it cost nothing at run
 * time, so the generator bundle imports it freely. No `@pulumi/*`, no cloud SDK.
 */
import type { Static } from "@sinclair/typebox";
import type * as model from "./model";
import { PLUGIN_KINDS, PROVIDERS, REACHED_BY, STAGES, TRUST_STAGES } from "./constants";

export { PLUGIN_KINDS, PROVIDERS, REACHED_BY, STAGES, TRUST_STAGES };

export type Provider = (typeof PROVIDERS)[number];
export type Stage = (typeof STAGES)[number];
/** A stage that is a trust boundary: every AWS queue has one. */
export type TrustStage = (typeof TRUST_STAGES)[number];
export type ReachedBy = (typeof REACHED_BY)[number];
export type PluginKind = (typeof PLUGIN_KINDS)[number];

export type MachineType = Static<typeof model.MachineTypeSchema>;
export type MachinePrice = Static<typeof model.MachinePriceSchema>;
export type BuildkiteCluster = Static<typeof model.BuildkiteClusterSchema>;
export type BuildkiteOrganization = Static<typeof model.BuildkiteOrganizationSchema>;
export type MetricsExporter = Static<typeof model.MetricsExporterSchema>;
export type GcpProject = Static<typeof model.GcpProjectSchema>;
export type CacheBucket = Static<typeof model.CacheBucketSchema>;
export type TpuGroup = Static<typeof model.TpuGroupSchema>;
export type GceInstances = Static<typeof model.GceInstancesSchema>;
export type GkeCluster = Static<typeof model.GkeClusterSchema>;
export type QueueMachine = Static<typeof model.QueueMachineSchema>;
export type QueueScale = Static<typeof model.QueueScaleSchema>;
export type AwsQueueSettings = Static<typeof model.AwsQueueSettingsSchema>;
export type GkeQueueSettings = Static<typeof model.GkeQueueSettingsSchema>;
export type TpuQueueSettings = Static<typeof model.TpuQueueSettingsSchema>;
export type GceQueueSettings = Static<typeof model.GceQueueSettingsSchema>;
export type K8sQueueSettings = Static<typeof model.K8sQueueSettingsSchema>;

export type AwsQueue = Static<typeof model.AwsQueueSchema>;
export type GkeQueue = Static<typeof model.GkeQueueSchema>;
export type TpuQueue = Static<typeof model.TpuQueueSchema>;
export type GceQueue = Static<typeof model.GceQueueSchema>;
export type K8sQueue = Static<typeof model.K8sQueueSchema>;
export type ExternalQueue = Static<typeof model.ExternalQueueSchema>;

/** One Buildkite queue of the fleet, after its provider's defaults are merged. */
export type Queue = AwsQueue | GkeQueue | TpuQueue | GceQueue | K8sQueue | ExternalQueue;
/** The queues of one provider: `QueueOf<"tpu">` has its `tpu` section by type. */
export type QueueOf<P extends Provider> = Extract<Queue, { provider: P }>;

export type DeviceSpec = Static<typeof model.DeviceSpecSchema>;
export type RoutingMatch = Static<typeof model.RoutingMatchSchema>;
export type RoutingTarget = Static<typeof model.RoutingTargetSchema>;
export type RoutingRule = Static<typeof model.RoutingRuleSchema>;

/** The whole catalog, queues merged over their defaults. */
export interface Catalog {
    /** File the catalog was read from (for messages). */
    file: string;
    /** Buildkite organizations by slug (empty: one organization, unnamed). */
    buildkiteOrganizations: Record<string, BuildkiteOrganization>;
    /** GCP projects by id (empty: the stack's projects only). */
    gcpProjects: Record<string, GcpProject>;
    machineTypes: Record<string, MachineType>;
    buildkiteClusters: Record<string, BuildkiteCluster>;
    gkeClusters: Record<string, GkeCluster>;
    queues: Queue[];
    devices: Record<string, DeviceSpec>;
    routing: RoutingRule[];
    /** On-demand prices by machine type (absent or empty: the catalog has no cost view). */
    prices?: Record<string, MachinePrice>;
}

/** A step, as far as routing is concerned. */
export interface RoutableStep {
    label: string;
    device?: string | null;
    numDevices?: number | null;
}
