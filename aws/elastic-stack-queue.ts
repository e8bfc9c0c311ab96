/**
 * One Buildkite queue on AWS: the Elastic CI Stack for AWS deployed as a CloudFormation stack, and
 * the IAM policy of its stage attached to the stack's instance role.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AWS_MANAGED_STACK_TAGS, STACK_CAPABILITIES, STACK_OUTPUTS } from "./stack-parameters";

export interface ElasticStackQueueArgs {
    /** CloudFormation stack name (`bk-<queue>`, see `stackNameOf`). */
    stackName: string;
    /** The template of the Elastic CI Stack release (see `templateUrlOf`). */
    templateUrl: string;
    /** Stack parameters computed from the catalog (see `queueStackParameters`), every value a string. */
    parameters: Record<string, string>;
    /** The region's VPC the instances launch into. */
    vpcId: pulumi.Input<string>;
    /** The subnets the autoscaling group spans. */
    subnetIds: pulumi.Input<string>[];
    /** Security group of the instances. */
    securityGroupId: pulumi.Input<string>;
    /** Name of the inline policy on the instance role (it says which stage's grants it holds). */
    instanceRolePolicyName: string;
    /** The instance role's policy document, as JSON. */
    instanceRolePolicy: pulumi.Input<string>;
}

export class ElasticStackQueue extends pulumi.ComponentResource {
    /** The IAM role of the queue's instances (stack output `InstanceRoleName`). */
    public readonly instanceRoleName: pulumi.Output<string>;
    /** The queue's autoscaling group (stack output `AutoScalingGroupName`). */
    public readonly autoScalingGroupName: pulumi.Output<string>;
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
                    Subnets: pulumi.all(args.subnetIds).apply((ids) => ids.join(",")),
                    SecurityGroupIds: args.securityGroupId,
                },
                tags: { "buildkite-queue": args.parameters.BuildkiteQueue ?? name },
            },
            { parent: this, ignoreChanges: AWS_MANAGED_STACK_TAGS.map((tag) => `tags["${tag}"]`) },
        );
        this.stackName = args.stackName;
        this.instanceRoleName = stack.outputs.apply((outputs) => String(outputs[STACK_OUTPUTS.instanceRoleName]));
        this.autoScalingGroupName = stack.outputs.apply((outputs) => String(outputs[STACK_OUTPUTS.autoScalingGroupName]));

        new aws.iam.RolePolicy(
            `${name}-instance-access`,
            { name: args.instanceRolePolicyName, role: this.instanceRoleName, policy: args.instanceRolePolicy },
            { parent: this },
        );
        this.registerOutputs({ instanceRoleName: this.instanceRoleName, autoScalingGroupName: this.autoScalingGroupName });
    }
}
