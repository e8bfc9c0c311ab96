/**
 * The network of one region, as the fleet runs it today (Terraform's `terraform-aws-modules/vpc`
 * 5.0.0, public subnets only): a VPC cut into public subnets over four zones (no NAT gateways:
 * each instance gets a public address), an internet gateway and one public route table. The
 * agents use the VPC's default security group, which the program reads and does not manage
 * (Terraform did not either). In regions with GPU queues: the security group of the model-weights
 * file system (FSx for Lustre, reached over NFS), with its Lustre rules.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** The address range of every fleet VPC (regions never peer, so they may share it). */
export const VPC_CIDR = "10.0.0.0/16";
/** NFS, the model-weights file system's protocol. */
export const NFS_PORT = 2049;
/** FSx for Lustre: the LNet port and the range its clients and servers talk on. */
export const LUSTRE_PORTS = [{ from: 988, to: 988 }, { from: 1018, to: 1023 }] as const;
/** The model-weights security group's name, as it exists. */
export const MODEL_WEIGHTS_SECURITY_GROUP = "ci-model-weights-security-group";

/** `count` equal subnets of a /16, in order: four /18s for four zones. */
export function subnetCidrs(vpcCidr: string, count: number): string[] {
    const [address, prefix] = vpcCidr.split("/");
    const bits = Math.log2(count);
    if (Number(prefix) !== 16 || !Number.isInteger(bits)) throw new Error(`cannot cut ${vpcCidr} into ${count} subnets`);
    const [a, b] = address.split(".");
    const step = 256 / count;
    return Array.from({ length: count }, (_, i) => `${a}.${b}.${i * step}.0/${16 + bits}`);
}

/** The `Name` tag of a region's network: `vLLM CI VPC` in the home region, `vLLM CI VPC <region>` elsewhere (as it exists). */
export function networkNameTag(region: string, homeRegion: string): string {
    return region === homeRegion ? "vLLM CI VPC" : `vLLM CI VPC ${region}`;
}

export interface RegionalNetworkArgs {
    /** AWS region, for example `us-west-2`. */
    readonly region: string;
    /** Availability zones, one public subnet each. Their order fixes each subnet's range. */
    readonly zones: readonly string[];
    /** The `Name` tag of the VPC, its subnets, gateway and route table (see `networkNameTag`). */
    readonly nameTag: string;
    /** Also manage the model-weights file system's security group (regions with GPU queues). */
    readonly modelWeightsFileSystem?: boolean;
}

/** A region's VPC, public subnets, routing and security groups. Pass the region's provider in `opts.provider`. */
export class RegionalNetwork extends pulumi.ComponentResource {
    /** The VPC. */
    public readonly vpc: aws.ec2.Vpc;
    /** The public subnets, in zone order. */
    public readonly subnets: aws.ec2.Subnet[] = [];
    /** The public route table. */
    public readonly routeTable: aws.ec2.RouteTable;
    public readonly vpcId: pulumi.Output<string>;
    /** The VPC's address range. */
    public readonly cidrBlock: string;
    /** Subnet ids in zone order. */
    public readonly subnetIds: pulumi.Output<string>[];
    /** The security group of the agents' instances: the VPC's default group. */
    public readonly agentSecurityGroupId: pulumi.Output<string>;
    /** The model-weights file system's group; absent where there is none. */
    public readonly modelWeightsSecurityGroup?: aws.ec2.SecurityGroup;

    constructor(name: string, args: RegionalNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:RegionalNetwork", name, {}, opts);
        const child = { parent: this };
        const tags = { Name: args.nameTag };

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: VPC_CIDR, enableDnsSupport: true, enableDnsHostnames: true, tags }, { ...child, retainOnDelete: true });
        const gateway = new aws.ec2.InternetGateway(`${name}-internet`, { vpcId: vpc.id, tags }, child);
        // Routes are their own resources (as the module declares them): inline routes would fight them.
        const routeTable = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags }, child);
        new aws.ec2.Route(`${name}-public-internet`, { routeTableId: routeTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: gateway.id }, child);
        const cidrs = subnetCidrs(VPC_CIDR, args.zones.length);
        this.subnetIds = args.zones.map((zone, i) => {
            const subnet = new aws.ec2.Subnet(`${name}-${zone}`, { vpcId: vpc.id, availabilityZone: zone, cidrBlock: cidrs[i], mapPublicIpOnLaunch: true, tags }, child);
            this.subnets.push(subnet);
            new aws.ec2.RouteTableAssociation(`${name}-${zone}`, { subnetId: subnet.id, routeTableId: routeTable.id }, child);
            return subnet.id;
        });

        if (args.modelWeightsFileSystem) {
            const lustre = LUSTRE_PORTS.map((ports) => ({ protocol: "tcp", fromPort: ports.from, toPort: ports.to, securityGroups: [vpc.defaultSecurityGroupId], self: true }));
            this.modelWeightsSecurityGroup = new aws.ec2.SecurityGroup(
                `${name}-model-weights`,
                {
                    name: MODEL_WEIGHTS_SECURITY_GROUP,
                    vpcId: vpc.id,
                    // The group's description, as it exists (it cannot change without replacing the group).
                    description: "Security group for the CI model weights EFS",
                    ingress: [{ protocol: "tcp", fromPort: NFS_PORT, toPort: NFS_PORT, cidrBlocks: [VPC_CIDR], description: "Allow inbound NFS from VPC" }, ...lustre],
                    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }, ...lustre],
                    tags: { Name: MODEL_WEIGHTS_SECURITY_GROUP },
                },
                child,
            );
        }

        this.vpc = vpc;
        this.routeTable = routeTable;
        this.vpcId = vpc.id;
        this.cidrBlock = VPC_CIDR;
        this.agentSecurityGroupId = vpc.defaultSecurityGroupId;
        this.registerOutputs({
            vpcId: this.vpcId,
            subnetIds: this.subnetIds,
            agentSecurityGroupId: this.agentSecurityGroupId,
            modelWeightsSecurityGroupId: this.modelWeightsSecurityGroup?.id,
        });
    }
}
