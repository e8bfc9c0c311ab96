/**
 * BuilderGroup: the CPU builders of one `gce` queue: an instance template and a regional managed
 * instance group, scaled by the queue's unfinished Buildkite jobs (published to Cloud Monitoring
 * by buildkite-agent-metrics), between the catalog's min and max.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { agentReadableSecrets } from "./fleet-secrets";
import type { BuilderLayout } from "./layout";
import { dnsLabel } from "../lib/names";
import { labelValue } from "./names";
import { AGENT_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { agentTags, renderStartupScript } from "./startup-script";

/** Image the builders boot. */
export const BUILDER_IMAGE = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64";

/**
 * The autoscaler metric of a queue: buildkite-agent-metrics' Stackdriver backend publishes
 * `UnfinishedJobsCount` (scheduled + running) per queue; one builder per job.
 */
export function queueJobsMetric(org: string, queue: string): { name: string; filter: string } {
    return {
        name: `custom.googleapis.com/buildkite/${org}/UnfinishedJobsCount`,
        filter: `resource.type = "global" AND metric.label.Queue = "${queue}"`,
    };
}

/** The CI registry, as the agents reach it. */
export interface AgentRegistry {
    /** Region of the registry. */
    readonly location: string;
    /** Host agents log in to, like `us-central1-docker.pkg.dev`. */
    readonly host: string;
    /** Repository id (an output, so bindings wait for the repository). */
    readonly repository: pulumi.Input<string>;
}

export interface BuilderGroupArgs {
    /** The queue's builders, from the catalog (`layoutGcpFleet`). */
    readonly layout: BuilderLayout;
    /** Project of the builders (and of the secrets and registry they use). */
    readonly project: string;
    /** VPC network the builders join. */
    readonly network: string;
    /** Buildkite organization slug: the autoscaler's metric is named after it. */
    readonly buildkiteOrg: string;
    /** Secret id → `secretId` output of the fleet's secrets. */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
    /** Secret Manager id of the Hugging Face token. */
    readonly hfTokenSecretId: string;
    /** Secret Manager id of the test analytics token. */
    readonly analyticsTokenSecretId: string;
    /** The registry the builders push test images to. */
    readonly registry: AgentRegistry;
}

/**
 * The CPU builders of one `gce` queue. Pass the project's provider in `opts.provider`; every
 * resource names its region.
 */
export class BuilderGroup extends pulumi.ComponentResource {
    /** The builders' service account. */
    public readonly serviceAccount: LeastPrivilegeServiceAccount;
    /** The instance template. */
    public readonly template: gcp.compute.InstanceTemplate;
    /** The regional managed instance group. */
    public readonly groupManager: gcp.compute.RegionInstanceGroupManager;
    /** The autoscaler of the group. */
    public readonly autoscaler: gcp.compute.RegionAutoscaler;
    public readonly instanceGroup: pulumi.Output<string>;
    public readonly serviceAccountEmail: pulumi.Output<string>;

    constructor(name: string, args: BuilderGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:BuilderGroup", name, {}, opts);
        const { layout } = args;
        const queue = layout.queue.name;
        const readable = agentReadableSecrets(
            `builder queue ${queue}`,
            [layout.agentTokenSecretId, args.hfTokenSecretId, args.analyticsTokenSecretId],
            args.secrets,
        );
        const account = new LeastPrivilegeServiceAccount(
            `${name}-agent`,
            {
                project: args.project,
                accountId: layout.serviceAccountId,
                description: `Buildkite agents of CPU builder queue ${queue}`,
                projectRoles: AGENT_PROJECT_ROLES,
                readableSecrets: readable,
                secretsProject: args.project,
                // Builders push the test images of the queue's stage; the test repository holds no
                // postmerge or release artifacts.
                registry: { project: args.project, location: args.registry.location, repository: args.registry.repository, access: "write" },
            },
            { parent: this },
        );
        this.serviceAccount = account;
        this.serviceAccountEmail = account.email;

        const template = new gcp.compute.InstanceTemplate(
            name,
            {
                // No fixed name: a changed template is created before the old one is deleted.
                project: args.project,
                region: layout.region,
                description: `Buildkite CPU builders of queue ${queue}`,
                machineType: layout.machineType,
                disks: [{ boot: true, autoDelete: true, sourceImage: BUILDER_IMAGE, diskSizeGb: layout.diskGb, diskType: "pd-balanced" }],
                networkInterfaces: [{ network: args.network, accessConfigs: [{}] }],
                serviceAccount: { email: account.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
                scheduling: layout.preemptible
                    ? { preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", provisioningModel: "SPOT" }
                    : { preemptible: false, automaticRestart: true, onHostMaintenance: "MIGRATE" },
                shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true, enableVtpm: true },
                metadata: {
                    "startup-script": renderStartupScript("builder", {
                        QUEUE: queue,
                        AGENT_NAME: "%hostname",
                        AGENT_TAGS: agentTags(queue),
                        SECRETS_PROJECT: args.project,
                        AGENT_TOKEN_SECRET: layout.agentTokenSecretId,
                        HF_TOKEN_SECRET: args.hfTokenSecretId,
                        ANALYTICS_TOKEN_SECRET: args.analyticsTokenSecretId,
                        DATA_DISK_DEVICE: "",
                        REGISTRY_HOST: args.registry.host,
                    }),
                    "block-project-ssh-keys": "true",
                },
                labels: { "ci-queue": labelValue(queue) },
            },
            { parent: this, dependsOn: [account] },
        );
        this.template = template;

        const group = new gcp.compute.RegionInstanceGroupManager(
            name,
            {
                name: dnsLabel(queue),
                project: args.project,
                region: layout.region,
                baseInstanceName: dnsLabel(queue),
                versions: [{ name: "primary", instanceTemplate: template.selfLinkUnique }],
                updatePolicy: { type: "OPPORTUNISTIC", minimalAction: "REPLACE", maxSurgeFixed: 0, maxUnavailableFixed: 3, instanceRedistributionType: "NONE" },
            },
            { parent: this, ignoreChanges: ["targetSize"], deleteBeforeReplace: true },
        );
        this.groupManager = group;
        this.instanceGroup = group.instanceGroup;

        const metric = queueJobsMetric(args.buildkiteOrg, queue);
        this.autoscaler = new gcp.compute.RegionAutoscaler(
            name,
            {
                name: dnsLabel(queue),
                project: args.project,
                region: layout.region,
                target: group.id,
                autoscalingPolicy: {
                    minReplicas: layout.minSize,
                    maxReplicas: layout.maxSize,
                    cooldownPeriod: 300,
                    metrics: [{ ...metric, singleInstanceAssignment: 1 }],
                    // Builders run jobs to completion: shrink slowly so a running job is rarely cut.
                    scaleInControl: { maxScaledInReplicas: { fixed: 1 }, timeWindowSec: 900 },
                },
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({ instanceGroup: this.instanceGroup, serviceAccountEmail: this.serviceAccountEmail });
    }
}
