/**
 * A queue's Elastic CI Stack: its name, template and parameters, computed from the catalog by pure
 * functions. A queue is a short map merged over shared defaults, every value a string, as the
 * CloudFormation API wants them.
 */
import { ssmTokenParameterOf, type AwsQueue, type Catalog, type Queue } from "../catalog";
import type { AwsSettings } from "./settings";

/** Capabilities the Elastic CI Stack needs: it creates named IAM roles and nests a SAM app. */
export const STACK_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"] as const;

/** Tags AWS adds to stacks by itself (Application Manager); changing them is not our business. */
export const AWS_MANAGED_STACK_TAGS = ["AppManagerCFNStackKey"] as const;

/** Stack outputs the program reads. Tests prove every checked template declares them. */
export const STACK_OUTPUTS = {
    instanceRoleName: "InstanceRoleName",
    autoScalingGroupName: "AutoScalingGroupName",
} as const;

/** ECR access the stack grants its instances, by trust: untrusted code only ever pulls. */
export const ECR_ACCESS_POLICY = { untrusted: "readonly", trusted: "poweruser" } as const;

/** Settings every queue starts from; a queue's own values (and `aws.parameters`) win. */
export const SHARED_PARAMETERS = {
    OnDemandPercentage: "100",
    // Jobs run Docker in Docker, which a remapped user namespace breaks.
    EnableDockerUserNamespaceRemap: "false",
    BuildkiteAgentTimestampLines: "true",
    EnableECRPlugin: "true",
    BuildkiteTerminateInstanceAfterJob: "false",
    EnableInstanceStorage: "false",
    RootVolumeType: "gp3",
    // Public subnets and no NAT gateway: instances reach the internet through their own address.
    AssociatePublicIpAddress: "true",
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
    ECRAccessPolicy: "the queue's stage (field stage)",
    ManagedPolicyARNs: "the queue's stage (field stage)",
    InstanceRoleARN: "the queue's stage (field stage)",
    InstanceRoleName: "the queue's stage (field stage)",
    InstanceRolePermissionsBoundaryARN: "the queue's stage (field stage)",
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
    BootstrapScriptUrl: "field aws.bootstrapScript (the URL is config ci:awsGpuBootstrapScriptUrl)",
};

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
export const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * `bk-<queue>`. CloudFormation refuses underscores in stack names, so they become hyphens:
 * `gpu_1_queue` runs in stack `bk-gpu-1-queue`.
 */
export function stackNameOf(queueName: string): string {
    return `bk-${queueName.replace(/_/g, "-")}`;
}

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
 * added by the component). Call after `awsFleetProblems` found nothing: a GPU bootstrap script
 * without its URL, for example, is reported there.
 */
export function queueStackParameters(catalog: Catalog, queue: AwsQueue, settings: AwsSettings): Record<string, string> {
    const { scale } = queue;
    const aws = queue.aws ?? {};
    const own: Record<string, string | undefined> = {
        BuildkiteAgentTokenParameterStorePath: ssmTokenParameterOf(catalog, queue),
        BuildkiteQueue: queue.name,
        InstanceTypes: queue.machine.type,
        MinSize: String(scale.min),
        MaxSize: String(scale.max),
        ECRAccessPolicy: runsUntrustedCode(catalog, queue) ? ECR_ACCESS_POLICY.untrusted : ECR_ACCESS_POLICY.trusted,
        BuildkiteTerminateInstanceAfterJob: scale.terminateAfterJob === undefined ? undefined : String(scale.terminateAfterJob),
        ScaleInIdlePeriod: scale.idleSeconds === undefined ? undefined : String(scale.idleSeconds),
        EnableInstanceStorage: aws.instanceStorage === undefined ? undefined : String(aws.instanceStorage),
        RootVolumeSize: optionalString(rootVolumeSizeOf(queue)),
        RootVolumeIops: optionalString(aws.rootVolume?.iops),
        RootVolumeThroughput: optionalString(aws.rootVolume?.throughputMBps),
        ImageId: aws.imageId,
        ImageIdParameter: aws.imageIdParameter,
        BootstrapScriptUrl: aws.bootstrapScript ? settings.gpuBootstrapScriptUrl : undefined,
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
