/**
 * Warm-cache AMI support, as the AMI pipeline (`.buildkite/pipelines/rebuild-cpu-ami.yml` of
 * ci-infra) expects it: the SSM parameter holding the AMI id some queues boot from, the Packer
 * builder's security group, and the SSM parameters naming that group and the builder's subnet.
 * The AMI parameter's value belongs to the pipeline: created once, then never overwritten.
 * The build queue's grants are part of its inline policy (`amiBuildPolicy`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AMI_BUILDER_PARAMETERS } from "./iam-policies";
import { BUILDKITE_AMI_OWNER } from "./stack-parameters";

export { BUILDKITE_AMI_OWNER } from "./stack-parameters";
/** SSH, for Packer to reach the instance it bakes. */
export const SSH_PORT = 22;
/** The builder's security group, as the pipeline's SSM parameter names it today. */
export const AMI_BUILDER_SECURITY_GROUP = "packer-build-sg";

/** The newest Elastic CI Stack AMI for an architecture: what the parameter holds before the first build. */
export function latestElasticStackAmi(arch: "x86_64" | "arm64", provider: aws.Provider): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput(
            { owners: [BUILDKITE_AMI_OWNER], mostRecent: true, filters: [{ name: "name", values: [`buildkite-stack-linux-${arch}-*`] }] },
            { provider },
        )
        .apply((ami) => ami.id);
}

export interface WarmCacheAmiArgs {
    /** Region of the build queue, its targets and the AMI. */
    readonly region: string;
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
}

/** The warm-cache AMI's parameter and its builder's network. Pass the region's provider in `opts.provider`. */
export class WarmCacheAmi extends pulumi.ComponentResource {
    /** The SSM parameter holding the AMI id (kept when the resource is deleted). */
    public readonly amiParameter: aws.ssm.Parameter;
    /** The builder's security group. */
    public readonly builderSecurityGroup: aws.ec2.SecurityGroup;
    public readonly amiParameterName: string;

    constructor(name: string, args: WarmCacheAmiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:WarmCacheAmi", name, {}, opts);
        const child = { parent: this };

        this.amiParameter = new aws.ssm.Parameter(
            `${name}-parameter`,
            { name: args.amiParameter, type: "String", insecureValue: args.seedImageId, description: `Latest vLLM CPU build AMI ID for ${args.region}` },
            // The pipeline writes the value (plain `value` in Terraform's state): never overwrite it.
            { ...child, ignoreChanges: ["insecureValue", "value"], retainOnDelete: true },
        );

        const builder = new aws.ec2.SecurityGroup(
            `${name}-builder`,
            {
                name: AMI_BUILDER_SECURITY_GROUP,
                vpcId: args.vpcId,
                description: "Security group for Packer AMI build instances",
                ingress: [{ protocol: "tcp", fromPort: SSH_PORT, toPort: SSH_PORT, cidrBlocks: [args.vpcCidr], description: "SSH from VPC for Packer builds" }],
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Allow all outbound" }],
                tags: { Name: AMI_BUILDER_SECURITY_GROUP },
            },
            child,
        );
        // `value`, as Terraform wrote them: the adopted parameters need no update (the plan shows them as secret).
        new aws.ssm.Parameter(
            `${name}-builder-security-group`,
            { name: AMI_BUILDER_PARAMETERS.securityGroupId, type: "String", value: builder.id, description: "Security group ID for Packer build instances" },
            child,
        );
        new aws.ssm.Parameter(
            `${name}-builder-subnet`,
            { name: AMI_BUILDER_PARAMETERS.subnetId, type: "String", value: args.builderSubnetId, description: "Subnet ID for Packer build instances" },
            child,
        );
        this.builderSecurityGroup = builder;
        this.amiParameterName = args.amiParameter;
        this.registerOutputs({ amiParameterName: this.amiParameterName });
    }
}
