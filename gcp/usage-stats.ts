/**
 * UsageStatsEndpoint: the public endpoint vLLM installations report anonymous usage to
 * (`https://stats.vllm.ai`), a Cloud Run service running a pinned, stock Vector image that writes
 * each report as one JSON line into the `vllm-usage-stats` bucket. Facts, image and the Vector
 * configuration's checks: `gcp/usage-stats-config.ts`; the configuration: `gcp/usage-stats/vector.yaml`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { LeastPrivilegeServiceAccount } from "./service-account";
import { USAGE_STATS_PORT, usageStatsCommand, usageStatsEnvironment } from "./usage-stats-config";

/** The role the service's account has on the bucket, and nothing else: create objects (no read, no overwrite, no delete). */
export const USAGE_STATS_WRITER_ROLE = "roles/storage.objectCreator";
/** Who may call the service when it is public: anyone, as vLLM installations report without credentials. */
export const PUBLIC_INVOKER = { role: "roles/run.invoker", member: "allUsers" } as const;
/**
 * The bucket's fields the program adopts from the live bucket rather than owns: GCS cannot change
 * a bucket's project or location in place (the provider would replace it, which `protect` refuses:
 * the first `up` after the import would fail), and its default storage class is the live one's
 * choice. The program's values apply only when it creates the bucket.
 */
export const ADOPTED_BUCKET_FIELDS = ["project", "location", "storageClass"];
/** The Cloud Run API, enabled in the service's project (a no-op where it is on; never disabled by this program). */
export const CLOUD_RUN_API = "run.googleapis.com";

export interface UsageStatsEndpointArgs {
    /** Project of the service, its account and the bucket. */
    readonly project: string;
    /** Region of the Cloud Run service and of the bucket. */
    readonly region: string;
    /** The bucket the reports are written to (the live `vllm-usage-stats`: adopted, protected, kept on delete). */
    readonly bucketName: string;
    /** The bucket's location when it is created; an adopted bucket keeps its own (`ADOPTED_BUCKET_FIELDS`). */
    readonly bucketLocation: string;
    /** The bucket's default storage class when it is created; an adopted bucket keeps its own. */
    readonly bucketStorageClass: string;
    /** Objects move to Nearline this many days after they are written (the bucket's lifecycle rule). */
    readonly nearlineAfterDays: number;
    /** Name of the Cloud Run service. */
    readonly serviceName: string;
    /** Account id of the service's own account. */
    readonly accountId: string;
    /** The Vector image, pinned to an exact release tag or a digest. */
    readonly image: string;
    /** The Vector configuration (YAML), handed to the container in its environment. */
    readonly vectorConfig: string;
    /** Most instances the service scales to. */
    readonly maxInstances: number;
    /** Let anyone call the service (`allUsers` may invoke): upstream's endpoint takes anonymous reports. */
    readonly public: boolean;
}

/** The service, its bucket and its account. Pass the project's provider in `opts.provider`. */
export class UsageStatsEndpoint extends pulumi.ComponentResource {
    public readonly bucket: gcp.storage.Bucket;
    public readonly writer: LeastPrivilegeServiceAccount;
    public readonly service: gcp.cloudrunv2.Service;
    /** The service's run.app address. */
    public readonly uri: pulumi.Output<string>;

    constructor(name: string, args: UsageStatsEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:UsageStatsEndpoint", name, {}, opts);
        this.bucket = new gcp.storage.Bucket(
            args.bucketName,
            {
                name: args.bucketName,
                project: args.project,
                location: args.bucketLocation,
                storageClass: args.bucketStorageClass,
                forceDestroy: false,
                // Usage data is never public, whatever a later grant says.
                publicAccessPrevention: "enforced",
                lifecycleRules: [
                    {
                        // A hand-made bucket's objects may carry the legacy classes of STANDARD.
                        condition: { age: args.nearlineAfterDays, matchesStorageClasses: ["STANDARD", "MULTI_REGIONAL", "REGIONAL"] },
                        action: { type: "SetStorageClass", storageClass: "NEARLINE" },
                    },
                ],
            },
            // Years of reports: never deleted by a replace or a removed line.
            { parent: this, protect: true, retainOnDelete: true, ignoreChanges: ADOPTED_BUCKET_FIELDS },
        );
        this.writer = new LeastPrivilegeServiceAccount(
            `${name}-writer`,
            {
                project: args.project,
                accountId: args.accountId,
                description: "The usage-stats endpoint: may only create objects in its bucket",
                projectRoles: [],
                readableSecrets: {},
                secretsProject: args.project,
            },
            { parent: this },
        );
        new gcp.storage.BucketIAMMember(
            `${name}-writer-creates-objects`,
            { bucket: this.bucket.name, role: USAGE_STATS_WRITER_ROLE, member: this.writer.member },
            { parent: this },
        );
        // A project that never ran Cloud Run has the API off: the service's create would fail.
        const runApi = new gcp.projects.Service(
            `${name}-run-api`,
            { project: args.project, service: CLOUD_RUN_API, disableOnDestroy: false, disableDependentServices: false },
            { parent: this },
        );
        const { commands, args: commandArgs } = usageStatsCommand();
        this.service = new gcp.cloudrunv2.Service(
            args.serviceName,
            {
                name: args.serviceName,
                project: args.project,
                location: args.region,
                ingress: "INGRESS_TRAFFIC_ALL",
                deletionProtection: false,
                template: {
                    serviceAccount: this.writer.email,
                    scaling: { minInstanceCount: 0, maxInstanceCount: args.maxInstances },
                    maxInstanceRequestConcurrency: 80,
                    timeout: "30s",
                    containers: [
                        {
                            image: args.image,
                            commands,
                            args: commandArgs,
                            envs: this.bucket.name.apply((bucket) => usageStatsEnvironment(bucket, args.vectorConfig)),
                            ports: { containerPort: USAGE_STATS_PORT },
                            // CPU stays allocated between requests so Vector flushes its batches.
                            resources: { limits: { cpu: "1", memory: "512Mi" }, cpuIdle: false },
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [this.bucket, runApi] },
        );
        if (args.public) {
            new gcp.cloudrunv2.ServiceIamMember(
                `${name}-public-invoker`,
                { project: args.project, location: args.region, name: this.service.name, role: PUBLIC_INVOKER.role, member: PUBLIC_INVOKER.member },
                { parent: this },
            );
        }
        this.uri = this.service.uri;
        this.registerOutputs({ uri: this.uri });
    }
}
