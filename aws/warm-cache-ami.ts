/**
 * Warm-cache AMI support: the SSM parameter that holds the AMI id some queues boot from, where the
 * AMI-build queue launches its builder (a security group, and SSM parameters naming it and its
 * subnet), and the policy that lets the build queue publish the AMI and roll it into the queues
 * that boot it. The parameter's value belongs to the AMI pipeline after creation.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AMI_BUILDER_TAG, amiBuildPolicy } from "./iam-policies";

/** The account Buildkite publishes the Elastic CI Stack AMIs from. */
export const BUILDKITE_AMI_OWNER = "172840064832";
/** SSH, for the image builder (Packer) to reach the instance it bakes. */
export const SSH_PORT = 22;

/** SSM parameters that tell the AMI build of queue `buildQueue` where to launch its builder. */
export function amiBuilderParameterNames(buildQueue: string): { securityGroupId: string; subnetId: string } {
    return {
        securityGroupId: `/buildkite/ami-build/${buildQueue}/security-group-id`,
        subnetId: `/buildkite/ami-build/${buildQueue}/subnet-id`,
    };
}

/** The newest Elastic CI Stack AMI for an architecture: what the parameter holds before the first build. */
export function latestElasticStackAmi(arch: "x86_64" | "arm64", provider: aws.Provider): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput(
            { owners: [BUILDKITE_AMI_OWNER], mostRecent: true, filters: [{ name: "name", values: [`buildkite-stack-linux-${arch}-*`] }] },
            { provider },
        )
        .apply((ami) => ami.id);
}

/** A queue the built AMI rolls into. */
export interface WarmCacheAmiTarget {
    /** The queue's CloudFormation stack name. */
    readonly stackName: string;
    /** Its autoscaling group (stack output). */
    readonly autoScalingGroupName: pulumi.Input<string>;
    /** Its instance role (stack output), which the rollout passes to EC2. */
    readonly instanceRoleName: pulumi.Input<string>;
}

export interface WarmCacheAmiArgs {
    /** Region of the build queue, its targets and the AMI. */
    readonly region: string;
    /** The account the AMI and the parameters live in. */
    readonly accountId: string;
    /** The catalog name of the AMI-build queue. */
    readonly buildQueue: string;
    /** The AMI-build queue's instance role, which receives the policy. */
    readonly buildQueueRoleName: pulumi.Input<string>;
    /** SSM parameter holding the AMI id, for example `/buildkite/cpu-build-ami/us-east-1`. */
    readonly amiParameter: string;
    /** The AMI id the parameter is created with; later values are the AMI pipeline's. */
    readonly seedImageId: pulumi.Input<string>;
    /** The region's VPC, where the builder launches. */
    readonly vpcId: pulumi.Input<string>;
    /** The VPC's address range (the builder accepts SSH from it only). */
    readonly vpcCidr: string;
    /** The subnet the builder launches into. */
    readonly builderSubnetId: pulumi.Input<string>;
    /** The queues whose autoscaling groups receive the new AMI. */
    readonly targets: readonly WarmCacheAmiTarget[];
}

/** The warm-cache AMI's parameter, its builder's network and the build queue's rollout policy. Pass the region's provider in `opts.provider`. */
export class WarmCacheAmi extends pulumi.ComponentResource {
    /** The SSM parameter holding the AMI id. */
    public readonly amiParameter: aws.ssm.Parameter;
    /** The builder's security group. */
    public readonly builderSecurityGroup: aws.ec2.SecurityGroup;
    /** The policy of the build queue's role. */
    public readonly buildPolicy: aws.iam.RolePolicy;
    public readonly amiParameterName: string;

    constructor(name: string, args: WarmCacheAmiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:WarmCacheAmi", name, {}, opts);
        const child = { parent: this };

        this.amiParameter = new aws.ssm.Parameter(
            `${name}-parameter`,
            {
                name: args.amiParameter,
                type: "String",
                dataType: "aws:ec2:image",
                insecureValue: args.seedImageId,
                description: `Warm-cache AMI booted by ${args.targets.map((t) => t.stackName).join(", ")}; written by the ${args.buildQueue} pipeline`,
            },
            { ...child, ignoreChanges: ["insecureValue"], retainOnDelete: true },
        );

        const builder = new aws.ec2.SecurityGroup(
            `${name}-builder`,
            {
                vpcId: args.vpcId,
                description: "Warm-cache AMI builder: SSH from the VPC only",
                ingress: [{ protocol: "tcp", fromPort: SSH_PORT, toPort: SSH_PORT, cidrBlocks: [args.vpcCidr], description: "The image builder, from the build queue" }],
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Packages and images" }],
                tags: { Name: `${name}-builder`, [AMI_BUILDER_TAG.key]: AMI_BUILDER_TAG.value },
            },
            child,
        );
        const builderParameters = amiBuilderParameterNames(args.buildQueue);
        new aws.ssm.Parameter(
            `${name}-builder-security-group`,
            { name: builderParameters.securityGroupId, type: "String", insecureValue: builder.id, description: "Security group of the warm-cache AMI builder" },
            child,
        );
        new aws.ssm.Parameter(
            `${name}-builder-subnet`,
            { name: builderParameters.subnetId, type: "String", insecureValue: args.builderSubnetId, description: "Subnet of the warm-cache AMI builder" },
            child,
        );

        const policy = pulumi
            .all([
                builder.id,
                args.builderSubnetId,
                pulumi.all(args.targets.map((t) => pulumi.all([t.autoScalingGroupName, t.instanceRoleName]))),
            ])
            .apply(([securityGroupId, subnetId, targetOutputs]) =>
                JSON.stringify(
                    amiBuildPolicy({
                        region: args.region,
                        accountId: args.accountId,
                        amiParameter: args.amiParameter,
                        builderParameters: [builderParameters.securityGroupId, builderParameters.subnetId],
                        builderSubnetId: subnetId,
                        builderSecurityGroupId: securityGroupId,
                        targets: args.targets.map((target, i) => ({
                            stackName: target.stackName,
                            autoScalingGroupName: targetOutputs[i][0],
                            instanceRoleName: targetOutputs[i][1],
                        })),
                    }),
                ),
            );
        this.builderSecurityGroup = builder;
        this.buildPolicy = new aws.iam.RolePolicy(`${name}-build-access`, { name: "vllm-ci-warm-cache-ami-build", role: args.buildQueueRoleName, policy }, child);
        this.amiParameterName = args.amiParameter;
        this.registerOutputs({ amiParameterName: this.amiParameterName });
    }
}
