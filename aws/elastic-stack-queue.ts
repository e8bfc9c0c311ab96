/**
 * One Buildkite queue on AWS: the Elastic CI Stack for AWS deployed as a CloudFormation stack, and
 * the queue's inline IAM policy on the stack's instance role.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AWS_MANAGED_STACK_TAGS, STACK_CAPABILITIES, STACK_OUTPUTS } from "./stack-parameters";

export interface ElasticStackQueueArgs {
    /** CloudFormation stack name (see `stackNameOf`). */
    readonly stackName: string;
    /** The template of the Elastic CI Stack release (see `templateUrlOf`). */
    readonly templateUrl: string;
    /** Stack parameters computed from the catalog (see `queueStackParameters`), every value a string. */
    readonly parameters: Readonly<Record<string, string>>;
    /** The region's VPC the instances launch into. */
    readonly vpcId: pulumi.Input<string>;
    /** The subnets the autoscaling group spans. */
    readonly subnetIds: readonly pulumi.Input<string>[];
    /** Security group of the instances. */
    readonly securityGroupId: pulumi.Input<string>;
    /** Name of the inline policy on the instance role (it says which access profile it holds). */
    readonly instanceRolePolicyName: string;
    /** The instance role's policy document, as JSON. */
    readonly instanceRolePolicy: pulumi.Input<string>;
    /**
     * What the stack reads while it creates or updates instances and must exist first: the AMI
     * parameter of `ImageIdParameter`, the boot script of `BootstrapScriptUrl` and its bucket policy.
     */
    readonly readsAtDeploy?: readonly pulumi.Resource[];
}

/** A queue's Elastic CI Stack and its inline policy on the stack's instance role. Pass the region's provider in `opts.provider`. */
export class ElasticStackQueue extends pulumi.ComponentResource {
    /** The CloudFormation stack (protected: removing a queue is a deliberate two-step, `pulumi state unprotect` first). */
    public readonly stack: aws.cloudformation.Stack;
    /** The queue's inline policy on the instance role. */
    public readonly instanceRolePolicy: aws.iam.RolePolicy;
    /** The IAM role of the queue's instances (stack output `InstanceRoleName`). */
    public readonly instanceRoleName: pulumi.Output<string>;
    /** The queue's autoscaling group (stack output `AutoScalingGroupName`). */
    public readonly autoScalingGroupName: pulumi.Output<string>;
    /** The CloudFormation stack's name. */
    public readonly stackName: string;

    constructor(name: string, args: ElasticStackQueueArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:ElasticStackQueue", name, {}, opts);
        const stack = new aws.cloudformation.Stack(
            name,
            {
                name: args.stackName,
                templateUrl: args.templateUrl,
                capabilities: [...STACK_CAPABILITIES],
                parameters: {
                    ...args.parameters,
                    VpcId: args.vpcId,
                    Subnets: pulumi.all([...args.subnetIds]).apply((ids) => ids.join(",")),
                    SecurityGroupIds: args.securityGroupId,
                },
            },
            {
                parent: this,
                protect: true,
                dependsOn: [...(args.readsAtDeploy ?? [])],
                ignoreChanges: AWS_MANAGED_STACK_TAGS.flatMap((tag) => [`tags["${tag}"]`, `tagsAll["${tag}"]`]),
            },
        );
        this.stack = stack;
        this.stackName = args.stackName;
        this.instanceRoleName = stack.outputs.apply((outputs) => String(outputs[STACK_OUTPUTS.instanceRoleName]));
        this.autoScalingGroupName = stack.outputs.apply((outputs) => String(outputs[STACK_OUTPUTS.autoScalingGroupName]));

        this.instanceRolePolicy = new aws.iam.RolePolicy(
            `${name}-instance-access`,
            { name: args.instanceRolePolicyName, role: this.instanceRoleName, policy: args.instanceRolePolicy },
            { parent: this },
        );
        this.registerOutputs({ instanceRoleName: this.instanceRoleName, autoScalingGroupName: this.autoScalingGroupName });
    }
}
