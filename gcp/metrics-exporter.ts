/**
 * MetricsExporter: the VM running buildkite-agent-metrics for one Buildkite cluster, publishing
 * its queues' job and agent counts to Cloud Monitoring of its project (the only writer of those
 * metrics: the agents of the fleet get no metric-writer role). As live: `vllm-ci-monitoring-cpu-0`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { MetricsExporterLayout } from "./layout";
import { renderStartupScript } from "./startup-script";

export interface MetricsExporterArgs {
    /** The exporter, from the catalog (`layoutGcpFleet`). */
    readonly layout: MetricsExporterLayout;
    /** The Secret's `secretId` output of the agent token it reads (it boots after the secret exists). */
    readonly tokenSecret: pulumi.Input<string>;
}

/** The exporter VM. Pass its project's provider in `opts.provider`. */
export class MetricsExporter extends pulumi.ComponentResource {
    public readonly instance: gcp.compute.Instance;

    constructor(name: string, args: MetricsExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:MetricsExporter", name, {}, opts);
        const { layout } = args;
        const script = renderStartupScript("exporter", {
            METRICS_VERSION: layout.version,
            METRICS_PROJECT: layout.project,
            SECRETS_PROJECT: layout.tokenSecret.project,
            AGENT_TOKEN_SECRET: layout.tokenSecret.secretId,
        });
        this.instance = new gcp.compute.Instance(
            layout.name,
            {
                name: layout.name,
                project: layout.project,
                zone: layout.zone,
                machineType: layout.machineType,
                bootDisk: { autoDelete: true, initializeParams: { image: layout.image, size: 20, type: "pd-standard" } },
                networkInterfaces: [{ subnetwork: `projects/${layout.project}/regions/${layout.region}/subnetworks/${layout.network}`, accessConfigs: [{}] }],
                serviceAccount: { scopes: ["cloud-platform"] },
                metadata: { "enable-oslogin": "true", "startup-script": pulumi.output(args.tokenSecret).apply(() => script) },
                labels: { "ci-role": "metrics-exporter" },
                allowStoppingForUpdate: true,
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
