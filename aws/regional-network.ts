/**
 * The network of one region: a VPC cut into public subnets over four zones (no NAT gateways: each
 * instance gets a public address), the agents' security group, and the security group of the
 * model-weights file system.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** The address range of every fleet VPC (regions never peer, so they may share it). */
export const VPC_CIDR = "10.0.0.0/16";
/** NFS, the model-weights file system's protocol. */
export const NFS_PORT = 2049;

/** `count` equal subnets of a /16, in order: four /18s for four zones. */
export function subnetCidrs(vpcCidr: string, count: number): string[] {
    const [address, prefix] = vpcCidr.split("/");
    const bits = Math.log2(count);
    if (Number(prefix) !== 16 || !Number.isInteger(bits)) throw new Error(`cannot cut ${vpcCidr} into ${count} subnets`);
    const [a, b] = address.split(".");
    const step = 256 / count;
    return Array.from({ length: count }, (_, i) => `${a}.${b}.${i * step}.0/${16 + bits}`);
}

export interface RegionalNetworkArgs {
    /** AWS region, for example `us-west-2`. */
    readonly region: string;
    /** Availability zones, one public subnet each. Their order fixes each subnet's range. */
    readonly zones: readonly string[];
    /** Also create the model-weights file system's security group (regions with GPU queues). */
    readonly modelWeightsFileSystem?: boolean;
}

/** A region's VPC, public subnets and security groups. Pass the region's provider in `opts.provider`. */
export class RegionalNetwork extends pulumi.ComponentResource {
    /** The VPC. */
    public readonly vpc: aws.ec2.Vpc;
    /** The public subnets, in zone order. */
    public readonly subnets: aws.ec2.Subnet[] = [];
    /** The agents' security group. */
    public readonly agentSecurityGroup: aws.ec2.SecurityGroup;
    public readonly vpcId: pulumi.Output<string>;
    /** The VPC's address range. */
    public readonly cidrBlock: string;
    /** Subnet ids in zone order. */
    public readonly subnetIds: pulumi.Output<string>[];
    /** The security group of the agents' instances: all egress, no ingress. */
    public readonly agentSecurityGroupId: pulumi.Output<string>;
    /** NFS from inside the VPC only; absent where there is no model-weights file system. */
    public readonly modelWeightsSecurityGroupId?: pulumi.Output<string>;

    constructor(name: string, args: RegionalNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:RegionalNetwork", name, {}, opts);
        const child = { parent: this };
        const tags = (role: string) => ({ Name: `${name}-${role}` });

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: VPC_CIDR, enableDnsSupport: true, enableDnsHostnames: true, tags: tags("vpc") }, child);
        const gateway = new aws.ec2.InternetGateway(`${name}-internet`, { vpcId: vpc.id, tags: tags("internet") }, child);
        const routes = new aws.ec2.RouteTable(
            `${name}-public`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags: tags("public") },
            child,
        );
        const cidrs = subnetCidrs(VPC_CIDR, args.zones.length);
        this.subnetIds = args.zones.map((zone, i) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-${zone}`,
                { vpcId: vpc.id, availabilityZone: zone, cidrBlock: cidrs[i], mapPublicIpOnLaunch: true, tags: tags(zone) },
                child,
            );
            this.subnets.push(subnet);
            new aws.ec2.RouteTableAssociation(`${name}-${zone}`, { subnetId: subnet.id, routeTableId: routes.id }, child);
            return subnet.id;
        });

        const agents = new aws.ec2.SecurityGroup(
            `${name}-agents`,
            {
                vpcId: vpc.id,
                description: "Buildkite agents: outbound only",
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Internet through the instance's public address" }],
                tags: tags("agents"),
            },
            child,
        );
        if (args.modelWeightsFileSystem) {
            const modelWeights = new aws.ec2.SecurityGroup(
                `${name}-model-weights`,
                {
                    vpcId: vpc.id,
                    description: "Model-weights file system: NFS from the VPC only",
                    ingress: [{ protocol: "tcp", fromPort: NFS_PORT, toPort: NFS_PORT, cidrBlocks: [VPC_CIDR], description: "NFS from the fleet's VPC" }],
                    tags: tags("model-weights"),
                },
                child,
            );
            this.modelWeightsSecurityGroupId = modelWeights.id;
        }

        this.vpc = vpc;
        this.agentSecurityGroup = agents;
        this.vpcId = vpc.id;
        this.cidrBlock = VPC_CIDR;
        this.agentSecurityGroupId = agents.id;
        this.registerOutputs({
            vpcId: this.vpcId,
            subnetIds: this.subnetIds,
            agentSecurityGroupId: this.agentSecurityGroupId,
            modelWeightsSecurityGroupId: this.modelWeightsSecurityGroupId,
        });
    }
}
