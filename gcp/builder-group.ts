/**
 * BuilderGroup: the CPU builders of one `gce` queue: an instance template and a regional managed
 * instance group with the live names. A fixed-size group (scale.min = scale.max, as upstream runs
 * them) has no autoscaler; a group that scales follows the queue's unfinished jobs as the
 * cluster's own buildkite-agent-metrics exporter publishes them (`queueJobsMetric`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { agentReadableSecrets } from "./fleet-secrets";
import type { BuilderLayout } from "./layout";
import { labelValue } from "./names";
import { REGISTRY_HOSTS, vmStartupVariables } from "./agent-script";
import { AGENT_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { agentTags, renderStartupScript } from "./startup-script";

/** The CI registry, as the agents reach it. */
export interface AgentRegistry {
    /** Project of the registry. */
    readonly project: string;
    /** Region of the registry. */
    readonly location: string;
    /** Repository id (an output, so bindings wait for the repository). */
    readonly repository: pulumi.Input<string>;
}

export interface BuilderGroupArgs {
    /** The queue's builders, from the catalog (`layoutGcpFleet`). */
    readonly layout: BuilderLayout;
    /** `project/secretId` → `secretId` output of the fleet's secrets. */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
    /** The registry the builders push test images to. */
    readonly registry: AgentRegistry;
}

/** The template's arguments (pure, so tests read them without mocks). */
export function builderTemplateArgs(layout: BuilderLayout, serviceAccountEmail: pulumi.Input<string>): gcp.compute.InstanceTemplateArgs {
    const queue = layout.queue.name;
    return {
        // A template is immutable: each change is a new one (prefix + suffix), created before the old one goes.
        namePrefix: layout.group.templatePrefix,
        project: layout.project,
        description: `Buildkite CPU builders of queue ${queue}`,
        machineType: layout.machineType,
        disks: [{ boot: true, autoDelete: true, sourceImage: layout.image, diskSizeGb: layout.diskGb, diskType: layout.diskType }],
        networkInterfaces: [{ network: layout.network, accessConfigs: [{}] }],
        serviceAccount: { email: serviceAccountEmail, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
        scheduling: layout.preemptible
            ? { preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", provisioningModel: "SPOT" }
            : { preemptible: false, automaticRestart: true, onHostMaintenance: "MIGRATE" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true, enableVtpm: true },
        metadata: {
            "startup-script": renderStartupScript("builder", {
                ...vmStartupVariables(layout, "%hostname", agentTags(queue)),
                AGENT_ENVIRONMENT: "",
                REGISTRY_HOSTS,
            }),
            "block-project-ssh-keys": "true",
        },
        labels: { "ci-queue": labelValue(queue) },
    };
}

/** The group's rolling update: a new template reaches every builder, one zone's worth at a time, none lost. */
export function builderUpdatePolicy(zones: number): gcp.types.input.compute.RegionInstanceGroupManagerUpdatePolicy {
    // Regional groups take fixed surge/unavailable values of 0 or at least one per zone.
    return { type: "PROACTIVE", minimalAction: "REPLACE", maxSurgeFixed: Math.max(zones, 1), maxUnavailableFixed: 0, instanceRedistributionType: "PROACTIVE" };
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
    /** The autoscaler of the group, when it is not fixed-size. */
    public readonly autoscaler?: gcp.compute.RegionAutoscaler;
    public readonly instanceGroup: pulumi.Output<string>;
    public readonly serviceAccountEmail: pulumi.Output<string>;

    constructor(name: string, args: BuilderGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:BuilderGroup", name, {}, opts);
        const { layout } = args;
        const queue = layout.queue.name;
        const ids = [layout.secrets.agentToken, layout.secrets.hfToken, layout.secrets.analyticsToken].filter((id): id is string => !!id);
        const readable = agentReadableSecrets(
            `builder queue ${queue}`,
            ids.map((id) => `${layout.secrets.project}/${id}`),
            args.secrets,
        );
        const account = new LeastPrivilegeServiceAccount(
            `${name}-agent`,
            {
                project: layout.project,
                accountId: layout.serviceAccountId,
                description: `Buildkite agents of CPU builder queue ${queue}`,
                // Builders write no metrics: the autoscaler's metric is the exporter's alone.
                projectRoles: AGENT_PROJECT_ROLES,
                readableSecrets: Object.fromEntries(Object.entries(readable).map(([ref, value]) => [ref.split("/").pop()!, value])),
                secretsProject: layout.secrets.project,
                // Builders push the test images of the queue's stage; the test repository holds no
                // postmerge or release artifacts.
                registry: { project: args.registry.project, location: args.registry.location, repository: args.registry.repository, access: "write" },
            },
            { parent: this },
        );
        this.serviceAccount = account;
        this.serviceAccountEmail = account.email;

        const template = new gcp.compute.InstanceTemplate(name, builderTemplateArgs(layout, account.email), { parent: this, dependsOn: [account] });
        this.template = template;

        const fixed = layout.minSize === layout.maxSize;
        const group = new gcp.compute.RegionInstanceGroupManager(
            name,
            {
                name: layout.group.name,
                project: layout.project,
                region: layout.region,
                baseInstanceName: layout.group.baseInstanceName,
                distributionPolicyZones: [...layout.group.zones],
                versions: [{ name: "primary", instanceTemplate: template.selfLinkUnique }],
                updatePolicy: builderUpdatePolicy(layout.group.zones.length),
                ...(fixed ? { targetSize: layout.minSize } : {}),
            },
            // An autoscaled group's size is the autoscaler's.
            { parent: this, ...(fixed ? {} : { ignoreChanges: ["targetSize"] }) },
        );
        this.groupManager = group;
        this.instanceGroup = group.instanceGroup;

        if (!fixed && layout.metric) {
            this.autoscaler = new gcp.compute.RegionAutoscaler(
                name,
                {
                    name: layout.group.name,
                    project: layout.project,
                    region: layout.region,
                    target: group.id,
                    autoscalingPolicy: {
                        minReplicas: layout.minSize,
                        maxReplicas: layout.maxSize,
                        cooldownPeriod: 300,
                        metrics: [{ ...layout.metric, singleInstanceAssignment: 1 }],
                        // Builders run jobs to completion: shrink slowly so a running job is rarely cut.
                        scaleInControl: { maxScaledInReplicas: { fixed: 1 }, timeWindowSec: 900 },
                    },
                },
                { parent: this, deleteBeforeReplace: true },
            );
        }
        this.registerOutputs({ instanceGroup: this.instanceGroup, serviceAccountEmail: this.serviceAccountEmail });
    }
}
