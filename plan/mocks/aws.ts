/** Mocked AWS outputs and functions. */
import type { CallMock, OutputMock } from "./types";

/** The account the offline plan pretends to run in (documentation range, not a real account). */
export const MOCK_AWS_ACCOUNT = "123456789012";
/** The AMI the plan's image lookups find. */
export const MOCK_AMI_ID = "ami-0123456789abcdef0";

/** The default security group the mocked VPC `name` reports. */
export const mockDefaultSecurityGroupId = (name: string): string => `${name}-default-security-group`;

export const awsOutputs: Record<string, OutputMock> = {
    "aws:ec2/vpc:Vpc": (name) => ({ defaultSecurityGroupId: mockDefaultSecurityGroupId(name) }),
    // The Elastic CI Stack's outputs the program reads (InstanceRoleName, AutoScalingGroupName), named as CloudFormation would.
    "aws:cloudformation/stack:Stack": (name, inputs) => {
        const stackName = String(inputs.name ?? name);
        return {
            outputs: {
                InstanceRoleName: `${stackName}-Role`,
                AutoScalingGroupName: `${stackName}-AgentAutoScaleGroup-MOCK`,
                VpcId: String(inputs.parameters?.VpcId ?? ""),
            },
        };
    },
    "aws:ecr/repository:Repository": (name, inputs) => ({
        repositoryUrl: `${MOCK_AWS_ACCOUNT}.dkr.ecr.region.amazonaws.com/${String(inputs.name ?? name)}`,
        arn: `arn:aws:ecr:region:${MOCK_AWS_ACCOUNT}:repository/${String(inputs.name ?? name)}`,
    }),
    "aws:s3/bucket:Bucket": (name, inputs) => ({ arn: `arn:aws:s3:::${String(inputs.bucket ?? name)}` }),
    "aws:secretsmanager/secret:Secret": (name, inputs) => ({
        arn: `arn:aws:secretsmanager:region:${MOCK_AWS_ACCOUNT}:secret:${String(inputs.name ?? name)}-AbCdEf`,
    }),
};

export const awsCalls: Record<string, CallMock> = {
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: MOCK_AWS_ACCOUNT, arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:user/plan`, userId: "plan" }),
    "aws:ec2/getAmi:getAmi": () => ({ id: MOCK_AMI_ID, imageId: MOCK_AMI_ID, name: "buildkite-stack-linux-x86_64-mock" }),
};
