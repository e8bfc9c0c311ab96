/**
 * A queue's Elastic CI Stack: its name, template and parameters, computed from the catalog by pure
 * functions. A queue is a short map merged over shared defaults, every value a string, as the
 * CloudFormation API wants them.
 */
import { ssmTokenParameterOf, type AwsQueue, type Catalog, type Queue } from "../catalog";

/** Capabilities the Elastic CI Stack needs: it creates named IAM roles and nests a SAM app. */
export const STACK_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"] as const;

/** Tags AWS adds to stacks by itself (Application Manager); changing them is not our business. */
export const AWS_MANAGED_STACK_TAGS = ["AppManagerCFNStackKey"] as const;

/** Stack outputs the program reads. Tests prove every checked template declares them. */
export const STACK_OUTPUTS = {
    instanceRoleName: "InstanceRoleName",
    autoScalingGroupName: "AutoScalingGroupName",
} as const;

/**
 * ECR access the stack's managed policy grants, for every queue: pulls only. Pushes are granted by
 * exact repository ARN in the queue's inline policy (`iam-policies.ts`); `poweruser` would let a
 * job push to every private repository of the account.
 */
export const ECR_ACCESS_POLICY = "readonly";

/**
 * Settings every queue starts from, as the Terraform fleet passes them to every stack; a queue's
 * own values (and `aws.parameters`) win. Parameters not listed keep the template's defaults.
 */
export const SHARED_PARAMETERS = {
    OnDemandPercentage: "100",
    // Jobs run Docker in Docker, which a remapped user namespace breaks.
    EnableDockerUserNamespaceRemap: "false",
    BuildkiteAgentTimestampLines: "true",
    EnableECRPlugin: "true",
    InstanceOperatingSystem: "linux",
} as const satisfies Record<string, string>;

/** Parameters that come from the region's network, known only once it exists. */
export const NETWORK_PARAMETERS = ["VpcId", "Subnets", "SecurityGroupIds"] as const;

/**
 * Parameters `aws.parameters` may not set, with where their value comes from instead. Identity,
 * credentials and IAM are the trust boundary; the rest have a catalog field of their own.
 */
export const PARAMETER_SOURCES: Readonly<Record<string, string>> = {
    BuildkiteAgentToken: "the SSM parameter of the queue's Buildkite cluster (tokens never pass through the program)",
    BuildkiteAgentTokenParameterStorePath: "the queue's Buildkite cluster (field cluster)",
    BuildkiteQueue: "the queue's name",
    ECRAccessPolicy: "one value for every queue, readonly (pushes go by exact ARN in the queue's inline policy)",
    ManagedPolicyARNs: "the queue's access profile (field stage)",
    InstanceRoleARN: "the queue's access profile (field stage)",
    InstanceRoleName: "the queue's access profile (field stage)",
    InstanceRolePermissionsBoundaryARN: "the queue's access profile (field stage)",
    VpcId: "the region's network",
    Subnets: "the region's network",
    SecurityGroupIds: "the region's network",
    InstanceTypes: "field machine.type",
    MinSize: "field scale.min",
    MaxSize: "field scale.max",
    ScaleInIdlePeriod: "field scale.idleSeconds",
    BuildkiteTerminateInstanceAfterJob: "field scale.terminateAfterJob",
    EnableInstanceStorage: "field aws.instanceStorage",
    RootVolumeSize: "field aws.rootVolume.sizeGb (or machine.diskGb)",
    RootVolumeIops: "field aws.rootVolume.iops",
    RootVolumeThroughput: "field aws.rootVolume.throughputMBps",
    ImageId: "field aws.imageId",
    ImageIdParameter: "field aws.imageIdParameter",
    BootstrapScriptUrl: "the program's boot script (aws/agent-boot.ts; GPU queues: field aws.bootstrapScript and config ci:awsGpuBootstrapScriptUrl)",
};

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
export const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * `bk-<queue>`. CloudFormation refuses underscores in stack names, so they become hyphens:
 * `cpu_queue_premerge` runs in stack `bk-cpu-queue-premerge`.
 */
export function defaultStackNameOf(queueName: string): string {
    return `bk-${queueName.replace(/_/g, "-")}`;
}

/** A queue's CloudFormation stack name: `aws.stackName` (a stack that exists keeps its name), else `bk-<queue>`. */
export function stackNameOf(queue: Pick<AwsQueue, "name" | "aws">): string {
    return queue.aws?.stackName ?? defaultStackNameOf(queue.name);
}

/** The account Buildkite publishes the Elastic CI Stack AMIs from (the seed of the warm-cache AMI, the base of ours). */
export const BUILDKITE_AMI_OWNER = "172840064832";

/** Where Buildkite publishes the template of a release. */
export function templateUrlOf(version: string): string {
    return `https://s3.amazonaws.com/buildkite-aws-stack/v${version}/aws-stack.yml`;
}

/** The accelerator a queue's machines carry, if any. */
export function acceleratorOf(catalog: Catalog, queue: Queue): string | undefined {
    return queue.machine?.accelerator ?? (queue.machine ? catalog.machineTypes[queue.machine.type]?.accelerator : undefined);
}

/** Premerge queues run pull-request code; so do GPU queues, whatever else they do. */
export function runsUntrustedCode(catalog: Catalog, queue: Queue): boolean {
    return queue.stage === "premerge" || acceleratorOf(catalog, queue) !== undefined;
}

/** The root volume size a queue asks for: `aws.rootVolume.sizeGb`, else `machine.diskGb`. */
export function rootVolumeSizeOf(queue: AwsQueue): number | undefined {
    return queue.aws?.rootVolume?.sizeGb ?? queue.machine?.diskGb;
}

/**
 * The stack parameters of one queue that do not depend on other resources (the network ones are
 * added by the component). `bootstrapScriptUrl` is the queue's boot script (`agent-boot.ts`).
 */
export function queueStackParameters(catalog: Catalog, queue: AwsQueue, bootstrapScriptUrl?: string): Record<string, string> {
    const { scale } = queue;
    const aws = queue.aws ?? {};
    const own: Record<string, string | undefined> = {
        BuildkiteAgentTokenParameterStorePath: ssmTokenParameterOf(catalog, queue),
        BuildkiteQueue: queue.name,
        InstanceTypes: queue.machine.type,
        MinSize: String(scale.min),
        MaxSize: String(scale.max),
        ECRAccessPolicy: ECR_ACCESS_POLICY,
        BuildkiteTerminateInstanceAfterJob: scale.terminateAfterJob === undefined ? undefined : String(scale.terminateAfterJob),
        ScaleInIdlePeriod: scale.idleSeconds === undefined ? undefined : String(scale.idleSeconds),
        EnableInstanceStorage: aws.instanceStorage === undefined ? undefined : String(aws.instanceStorage),
        RootVolumeSize: optionalString(rootVolumeSizeOf(queue)),
        RootVolumeIops: optionalString(aws.rootVolume?.iops),
        RootVolumeThroughput: optionalString(aws.rootVolume?.throughputMBps),
        ImageId: aws.imageId,
        ImageIdParameter: aws.imageIdParameter,
        BootstrapScriptUrl: bootstrapScriptUrl,
    };
    const parameters: Record<string, string> = { ...SHARED_PARAMETERS, ...(aws.parameters ?? {}) };
    for (const [name, value] of Object.entries(own)) if (value !== undefined) parameters[name] = value;
    return sortedByKey(parameters);
}

function optionalString(value: number | undefined): string | undefined {
    return value === undefined ? undefined : String(value);
}

function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
