/**
 * The inputs that matter, per resource type, for the plan's tree view. Types not listed show
 * their first few scalar inputs. Dotted keys reach into nested inputs.
 */
import type { RecordedResource } from "./harness";

const KEYS_BY_TYPE: Record<string, string[]> = {
    "aws:cloudformation/stack:Stack": [
        "name",
        "parameters.BuildkiteQueue",
        "parameters.InstanceTypes",
        "parameters.MinSize",
        "parameters.MaxSize",
        "parameters.ECRAccessPolicy",
        "templateUrl",
    ],
    "aws:ec2/vpc:Vpc": ["cidrBlock"],
    "github:index/actionsRunnerGroup:ActionsRunnerGroup": ["name", "visibility", "allowsPublicRepositories", "selectedRepositoryIds"],
    "aws:ec2/subnet:Subnet": ["cidrBlock", "availabilityZone"],
    "aws:ecr/repository:Repository": ["name"],
    "aws:s3/bucket:Bucket": ["bucket"],
    "aws:iam/rolePolicy:RolePolicy": ["name", "role"],
    "aws:ec2/securityGroup:SecurityGroup": ["name"],
    "aws:ssm/parameter:Parameter": ["name", "dataType"],
    "aws:secretsmanager/secret:Secret": ["name"],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ["repository"],
    "aws:ec2/route:Route": ["destinationCidrBlock"],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": [],
    "aws:ec2/internetGateway:InternetGateway": [],
    "aws:ec2/routeTable:RouteTable": [],
    "aws:s3/bucketObjectv2:BucketObjectv2": ["key"],
    "aws:s3/bucketPolicy:BucketPolicy": [],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"],
    "aws:iam/role:Role": ["name"],
    "pulumi:providers:aws": ["region"],
    "buildkite:Cluster/cluster:Cluster": ["name"],
    "buildkite:Cluster/clusterQueue:ClusterQueue": ["key"],
    "buildkite:Cluster/clusterAgentToken:ClusterAgentToken": ["description"],
    "buildkite:Pipeline/pipeline:Pipeline": ["slug", "repository", "defaultBranch"],
    "buildkite:Pipeline/schedule:Schedule": ["cronline", "branch"],
    "pulumi:providers:buildkite": ["organization"],
    "gcp:container/cluster:Cluster": ["name", "location", "enableAutopilot"],
    "gcp:container/nodePool:NodePool": ["name", "nodeConfig.machineType", "autoscaling.totalMaxNodeCount"],
    "gcp:tpu/v2Vm:V2Vm": ["name", "zone", "acceleratorType", "runtimeVersion"],
    "kubernetes:helm.sh/v3:Release": ["chart", "version", "namespace"],
    "gcp:compute/instanceTemplate:InstanceTemplate": ["machineType", "scheduling.preemptible", "serviceAccount.email"],
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": ["name", "region"],
    "gcp:compute/regionAutoscaler:RegionAutoscaler": ["name", "autoscalingPolicy.minReplicas", "autoscalingPolicy.maxReplicas"],
    "gcp:compute/disk:Disk": ["name", "zone", "type", "size"],
    "gcp:serviceaccount/account:Account": ["accountId", "project"],
    "gcp:projects/iAMMember:IAMMember": ["role", "member"],
    "gcp:secretmanager/secret:Secret": ["secretId", "project"],
    "gcp:secretmanager/secretIamMember:SecretIamMember": ["secretId", "role", "member"],
    "gcp:secretmanager/secretVersion:SecretVersion": ["secretData"],
    "gcp:artifactregistry/repository:Repository": ["repositoryId", "location", "format", "cleanupPolicies"],
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": ["repository", "role", "member"],
    "gcp:cloudrunv2/service:Service": ["name", "location", "template.containers.0.image", "template.serviceAccount"],
    "gcp:storage/bucket:Bucket": ["name", "location", "lifecycleRules"],
    "kubernetes:core/v1:Namespace": ["metadata.name"],
    "kubernetes:core/v1:Secret": ["metadata.name", "metadata.namespace", "stringData"],
    "kubernetes:scheduling.k8s.io/v1:PriorityClass": ["metadata.name", "value"],
    "pulumi:providers:kubernetes": ["context", "namespace"],
};

const FALLBACK_COUNT = 4;

function pick(inputs: Record<string, unknown>, dotted: string): unknown {
    let value: unknown = inputs;
    for (const part of dotted.split(".")) {
        if (value === null || typeof value !== "object") return undefined;
        value = (value as Record<string, unknown>)[part];
    }
    return value;
}

/** `[key, value]` pairs to show for a resource. */
export function summaryKeys(resource: RecordedResource): [string, unknown][] {
    const keys = KEYS_BY_TYPE[resource.type];
    if (keys) {
        return keys
            .map((key): [string, unknown] => [key.split(".").pop() as string, pick(resource.inputs, key)])
            .filter(([, value]) => value !== undefined);
    }
    return Object.entries(resource.inputs)
        .filter(([key, value]) => key !== "__defaults" && value !== null && ["string", "number", "boolean"].includes(typeof value))
        .slice(0, FALLBACK_COUNT);
}
