/**
 * FleetPipeline: one Buildkite pipeline the fleet owns, with its repository, cluster, branch
 * settings, its `steps` (the versioned bootstrap or upload step) and its schedules.
 */
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";

export interface FleetPipelineArgs {
    /** The pipeline's slug (its URL path), kept as live. */
    readonly slug: string;
    /** Display name. */
    readonly pipelineName: string;
    /** What the pipeline does. */
    readonly description: string;
    /** Repository URL it checks out. */
    readonly repository: string;
    /** GraphQL id of the cluster its jobs run in. */
    readonly clusterId: pulumi.Input<string>;
    /** The default branch. */
    readonly defaultBranch: string;
    /** Branch filter for builds on push; absent: every branch. */
    readonly branchConfiguration?: string;
    /** No webhook builds at all: only the schedules (and builds started by hand). */
    readonly scheduledOnly: boolean;
    /** The steps in the pipeline's settings (YAML). */
    readonly steps: string;
    /** Schedules, each with its label, cronline (with time zone), branch and build message. */
    readonly schedules: readonly { readonly label: string; readonly cronline: string; readonly branch: string; readonly message: string }[];
    /** Team (GraphQL id) a new pipeline is given; Buildkite needs one to create it, an adopted pipeline keeps its teams. */
    readonly defaultTeamId?: string;
}

/** One pipeline and its schedules. Pass the organization's provider in `opts.provider`. */
export class FleetPipeline extends pulumi.ComponentResource {
    /** The pipeline. */
    public readonly pipeline: buildkite.pipeline.Pipeline;
    /** Its schedules, by label. */
    public readonly schedules: Record<string, buildkite.pipeline.Schedule> = {};

    constructor(name: string, args: FleetPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:buildkite:FleetPipeline", name, {}, opts);
        this.pipeline = new buildkite.pipeline.Pipeline(
            name,
            {
                slug: args.slug,
                name: args.pipelineName,
                description: args.description,
                repository: args.repository,
                clusterId: args.clusterId,
                defaultBranch: args.defaultBranch,
                ...(args.branchConfiguration !== undefined ? { branchConfiguration: args.branchConfiguration } : {}),
                ...(args.scheduledOnly ? { providerSettings: { triggerMode: "none" } } : {}),
                steps: args.steps,
                ...(args.defaultTeamId !== undefined ? { defaultTeamId: args.defaultTeamId } : {}),
            },
            // Deleting a pipeline loses its build history (the provider archives instead, see buildkite/index.ts).
            { parent: this, protect: true, ignoreChanges: ["defaultTeamId"] },
        );
        for (const schedule of args.schedules) {
            this.schedules[schedule.label] = new buildkite.pipeline.Schedule(
                `${name}-${schedule.label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
                { pipelineId: this.pipeline.id, label: schedule.label, cronline: schedule.cronline, branch: schedule.branch, message: schedule.message, enabled: true },
                { parent: this },
            );
        }
        this.registerOutputs({ slug: this.pipeline.slug });
    }
}
