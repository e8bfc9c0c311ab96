/**
 * The trust boundary as IAM policy documents, built by pure functions from the settings.
 *
 * A queue's instance role gets one inline policy: the grants of its access profile (from its
 * catalog stage, whether it runs GPU tests, whether it builds the AMI) plus its compiler-cache
 * access. The grants are those the Terraform fleet attached to each queue's role through 14
 * managed policies, statement for statement, on the same ARNs (`tests/adopt/iam-parity.test.ts`
 * compares them with the Terraform state, queue by queue). The only grant dropped is `s3:List`,
 * which names no IAM action and so granted nothing.
 *
 * What stays wide, as today: ECR Public logins and `Describe*` on `*` (AWS scopes neither), the
 * AMI build's launch-template and autoscaling updates on `*`, and the Elastic CI Stack's own
 * `ECRAccessPolicy` (`readonly`: pulls from every private repository of the account).
 */
import type { AwsQueue, Catalog } from "../catalog";
import type { AwsSettings } from "./settings";

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** ARNs of the resources the fleet's policies name. */
export const arn = {
    ecrRepository: (region: string, account: string, name: string) => `arn:aws:ecr:${region}:${account}:repository/${name}`,
    /** ECR Public repositories are global: their ARNs carry no region. */
    ecrPublicRepository: (account: string, name: string) => `arn:aws:ecr-public::${account}:repository/${name}`,
    s3Bucket: (bucket: string) => `arn:aws:s3:::${bucket}`,
    s3Objects: (bucket: string, prefix = "") => `arn:aws:s3:::${bucket}/${prefix}*`,
    /** `name` starts with `/`. */
    ssmParameter: (region: string, account: string, name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`,
    ec2: (region: string, account: string, resource: string) => `arn:aws:ec2:${region}:${account}:${resource}`,
    cloudFormationStack: (region: string, account: string, name: string) => `arn:aws:cloudformation:${region}:${account}:stack/${name}/*`,
    iamRole: (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`,
};

/** Pulls from ECR Public, logged in (the CI images are public; a login lifts the rate limits). */
const ECR_PUBLIC_PULL = [
    "ecr-public:GetAuthorizationToken",
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:GetDownloadUrlForLayer",
    "ecr-public:GetRepositoryCatalogData",
    "ecr-public:DescribeRepositories",
    "ecr-public:DescribeImageTags",
    "ecr-public:DescribeRegistries",
    "sts:GetServiceBearerToken",
];
/** Push and pull of one ECR Public repository, as the fleet grants it today. */
const ECR_PUBLIC_PUSH = [
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:CompleteLayerUpload",
    "ecr-public:DescribeImageTags",
    "ecr-public:DescribeImages",
    "ecr-public:DescribeRegistries",
    "ecr-public:DescribeRepositories",
    "ecr-public:GetAuthorizationToken",
    "ecr-public:GetRegistryCatalogData",
    "ecr-public:GetRepositoryCatalogData",
    "ecr-public:GetRepositoryPolicy",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:ListTagsForResource",
    "ecr-public:PutImage",
    "ecr-public:PutRegistryCatalogData",
    "ecr-public:TagResource",
    "ecr-public:UploadLayerPart",
    "sts:GetServiceBearerToken",
];
const ECR_PUBLIC_LOGIN = ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"];
const ECR_LOGIN = ["ecr:GetAuthorizationToken", "sts:GetServiceBearerToken"];
const ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
const ECR_READ_WRITE = [...ECR_PULL, "ecr:CompleteLayerUpload", "ecr:UploadLayerPart", "ecr:InitiateLayerUpload", "ecr:PutImage", ...ECR_LOGIN];
const S3_READ = ["s3:Get*"];
const S3_READ_WRITE = ["s3:Get*", "s3:PutObject"];

/** Where a queue's policy applies: the settings and the ARNs only known once resources exist. */
export interface PolicyContext {
    readonly settings: AwsSettings;
    /** The two CI secrets' ARNs (with Secrets Manager's random suffix), in the home region. */
    readonly secretArns: readonly string[];
}

const statement = (Sid: string, Action: string[], Resource: string[]): PolicyStatement => ({ Sid, Effect: "Allow", Action, Resource });

function cacheRepository(ctx: PolicyContext, name: string): string {
    return arn.ecrRepository(ctx.settings.buildCacheRegion, ctx.settings.accountId, name);
}

function publicRepository(ctx: PolicyContext, name: string): string {
    return arn.ecrPublicRepository(ctx.settings.accountId, name);
}

const bucketAndObjects = (bucket: string) => [arn.s3Objects(bucket), arn.s3Bucket(bucket)];

/** What one capability grants. Statement ids are unique across capabilities. */
export const CAPABILITIES = {
    /** Authenticated pulls of the CI images (GPU tests). */
    pullCiImages: (): PolicyStatement[] => [statement("PullCiImages", ECR_PUBLIC_PULL, ["*"])],
    /** The pull request's own test image (built on premerge queues, pulled by the GPU tests). */
    pushCiImages: (ctx: PolicyContext) => [
        statement("PushCiImages", ECR_PUBLIC_PUSH, [publicRepository(ctx, ctx.settings.imageRepositories.ci)]),
        statement("EcrPublicLogin", ECR_PUBLIC_LOGIN, ["*"]),
    ],
    /** The pull requests' BuildKit cache, and main's read-only. */
    pullRequestCache: (ctx: PolicyContext) => [
        statement("ReadWritePullRequestCache", ECR_READ_WRITE, [cacheRepository(ctx, ctx.settings.buildCacheRepositories.pullRequest)]),
        statement("ReadPostmergeCache", [...ECR_PULL, ...ECR_LOGIN], [cacheRepository(ctx, ctx.settings.buildCacheRepositories.postmerge)]),
        statement("EcrLogin", ECR_LOGIN, ["*"]),
    ],
    readCiSecrets: (ctx: PolicyContext) => [statement("ReadCiSecrets", ["secretsmanager:GetSecretValue"], [...ctx.secretArns])],
    pushPostmergeImages: (ctx: PolicyContext) => [statement("PushPostmergeImages", ECR_PUBLIC_PUSH, [publicRepository(ctx, ctx.settings.imageRepositories.postmerge)])],
    postmergeCache: (ctx: PolicyContext) => [
        statement("ReadWritePostmergeCache", ECR_READ_WRITE, [cacheRepository(ctx, ctx.settings.buildCacheRepositories.postmerge)]),
        statement("EcrLogin", ECR_LOGIN, ["*"]),
    ],
    /** Release images: vLLM's, vLLM-Omni's, the CPU and arm64 CPU images. */
    pushReleaseImages: (ctx: PolicyContext) => [
        statement("PushReleaseImages", ECR_PUBLIC_PUSH, ctx.settings.imageRepositories.release.map((name) => publicRepository(ctx, name))),
    ],
    /** Nightly and release wheels, and the dev wheels. */
    writeWheels: (ctx: PolicyContext) => [
        statement("ReadWriteWheels", S3_READ_WRITE, [...bucketAndObjects(ctx.settings.buckets.wheels), ...bucketAndObjects(ctx.settings.buckets.devWheels)]),
    ],
    readCompilerCache: (ctx: PolicyContext) => [statement("ReadCompilerCache", S3_READ, bucketAndObjects(ctx.settings.buckets.compilerCache))],
    writeCompilerCache: (ctx: PolicyContext) => [statement("ReadWriteCompilerCache", S3_READ_WRITE, bucketAndObjects(ctx.settings.buckets.compilerCache))],
} as const;

export type Capability = keyof typeof CAPABILITIES;

/** The grant sets of the fleet; each queue has one, from its catalog entry (`accessProfileOf`). */
export const ACCESS_PROFILES = {
    /** Builds of pull requests: their image, their cache, the CI secrets. */
    premerge: ["pushCiImages", "pullRequestCache", "readCiSecrets"],
    /** GPU tests of pull requests: pull the images, read the CI secrets. */
    "gpu-test": ["pullCiImages", "readCiSecrets"],
    /** Builds of main: all images (test, postmerge, release), main's cache, the wheels. */
    postmerge: ["pushCiImages", "pushPostmergeImages", "postmergeCache", "pushReleaseImages", "readCiSecrets", "writeWheels"],
    /** Release builds: as postmerge today (they share every grant). */
    release: ["pushCiImages", "pushPostmergeImages", "postmergeCache", "pushReleaseImages", "readCiSecrets", "writeWheels"],
    /** The warm-cache AMI build: see `amiBuildPolicy`. */
    "ami-build": [],
} as const satisfies Record<string, readonly Capability[]>;

export type AccessProfile = keyof typeof ACCESS_PROFILES;

/** A queue's access profile: the AMI build, GPU tests (any accelerator runs pull-request code), or its stage. */
export function accessProfileOf(catalog: Catalog, queue: AwsQueue): AccessProfile {
    if (queue.aws?.buildsAmi) return "ami-build";
    const accelerator = queue.machine.accelerator ?? catalog.machineTypes[queue.machine.type]?.accelerator;
    if (accelerator !== undefined) return "gpu-test";
    return queue.stage;
}

/** The capabilities of a queue: its profile's, then its compiler-cache access. */
export function queueCapabilities(catalog: Catalog, queue: AwsQueue): Capability[] {
    const capabilities: Capability[] = [...ACCESS_PROFILES[accessProfileOf(catalog, queue)]];
    if (queue.aws?.compilerCache === "read") capabilities.push("readCompilerCache");
    if (queue.aws?.compilerCache === "write") capabilities.push("writeCompilerCache");
    return capabilities;
}

/** Statements with the same id are the same grant (a login two capabilities need): kept once. */
export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
    const bySid = new Map<string, PolicyStatement>();
    for (const s of statements) if (!bySid.has(s.Sid)) bySid.set(s.Sid, s);
    return { Version: "2012-10-17", Statement: [...bySid.values()] };
}

/** The policy of a set of capabilities. */
export function capabilitiesPolicy(capabilities: readonly Capability[], ctx: PolicyContext): PolicyDocument {
    return policyDocument(capabilities.flatMap((capability) => CAPABILITIES[capability](ctx)));
}

/** The settings that name the artifacts of trusted builds. */
export type ArtifactNames = Pick<AwsSettings, "imageRepositories" | "buildCacheRepositories" | "buckets">;

/**
 * ARNs (IAM globs) of what only postmerge and release builds may write: their images, the
 * postmerge build cache, the wheels and the compiler cache, named from the settings (in any
 * region and account, so a grant elsewhere is caught too). The policy pack guards these.
 */
export function trustedArtifactArns(names: ArtifactNames): string[] {
    const buckets = [names.buckets.wheels, names.buckets.devWheels, names.buckets.compilerCache];
    return [
        arn.ecrRepository("*", "*", names.buildCacheRepositories.postmerge),
        arn.ecrPublicRepository("*", names.imageRepositories.postmerge),
        ...names.imageRepositories.release.map((name) => arn.ecrPublicRepository("*", name)),
        ...buckets.flatMap((bucket) => [arn.s3Bucket(bucket), arn.s3Objects(bucket)]),
    ];
}

/** SSM parameters the AMI pipeline (`.buildkite/pipelines/rebuild-cpu-ami.yml`) reads to place its builder. */
export const AMI_BUILDER_PARAMETERS = {
    securityGroupId: "/buildkite/packer/security-group-id",
    subnetId: "/buildkite/packer/subnet-id",
} as const;

/** `/buildkite/cpu-build-ami/*` for `/buildkite/cpu-build-ami/us-east-1`: what a parameter's folder holds. */
export function parameterFolderGlob(name: string): string {
    return `${name.slice(0, name.lastIndexOf("/"))}/*`;
}

export interface AmiBuildPolicyArgs {
    readonly region: string;
    /** The SSM parameter holding the AMI id, which the build updates. */
    readonly amiParameter: string;
    /** CloudFormation stacks whose launch templates and autoscaling groups receive the AMI. */
    readonly targetStacks: readonly string[];
}

/**
 * What the AMI-build queue may do, as it does today (Terraform's `packer-ami-builder-policy`):
 * run, image, stop and terminate the Packer builder in the region, manage its snapshots, volumes
 * and `packer_*` key pairs, write the AMI parameter and read the builder's, find the target
 * stacks' launch templates and groups and roll a new launch-template version into them.
 */
export function amiBuildPolicy(args: AmiBuildPolicyArgs): PolicyDocument {
    const ec2 = (resource: string) => arn.ec2(args.region, "*", resource);
    return policyDocument([
        statement(
            "DescribeResources",
            [
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeImages",
                "ec2:DescribeSnapshots",
                "ec2:DescribeVolumes",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeRegions",
                "ec2:DescribeTags",
            ],
            ["*"],
        ),
        statement(
            "ManageInstances",
            ["ec2:RunInstances", "ec2:TerminateInstances", "ec2:StopInstances"],
            ["instance/*", "volume/*", "network-interface/*", "security-group/*", "subnet/*", "key-pair/*", "image/*", "launch-template/*"].map(ec2),
        ),
        statement(
            "ManageAMIs",
            ["ec2:CreateImage", "ec2:RegisterImage", "ec2:DeregisterImage", "ec2:EnableImageDeprecation", "ec2:ModifyImageAttribute"],
            ["image/*", "instance/*", "snapshot/*"].map(ec2),
        ),
        statement("ManageSnapshots", ["ec2:CreateSnapshot", "ec2:DeleteSnapshot"], [ec2("snapshot/*")]),
        statement("ManageVolumes", ["ec2:CreateVolume", "ec2:DeleteVolume"], [ec2("volume/*")]),
        statement("ManageKeyPairs", ["ec2:CreateKeyPair", "ec2:DeleteKeyPair"], [ec2("key-pair/packer_*")]),
        statement("ManageNetworkInterfaces", ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"], [ec2("network-interface/*")]),
        {
            ...statement("CreateTags", ["ec2:CreateTags"], ["instance/*", "volume/*", "network-interface/*", "image/*", "snapshot/*"].map(ec2)),
            Condition: { StringEquals: { "ec2:CreateAction": ["RunInstances", "CreateImage", "CreateSnapshot", "CreateVolume"] } },
        },
        statement(
            "UpdateSSMParameter",
            ["ssm:PutParameter", "ssm:GetParameter"],
            [parameterFolderGlob(args.amiParameter), parameterFolderGlob(AMI_BUILDER_PARAMETERS.securityGroupId)].map((name) => arn.ssmParameter(args.region, "*", name)),
        ),
        statement(
            "DescribeCloudFormationStacks",
            ["cloudformation:DescribeStackResource"],
            args.targetStacks.map((stack) => arn.cloudFormationStack(args.region, "*", stack)),
        ),
        statement("ManageLaunchTemplates", ["ec2:CreateLaunchTemplateVersion", "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"], ["*"]),
        statement("ManageAutoScaling", ["autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup"], ["*"]),
        // The rollout hands each group a launch template whose instance profile carries the queue's role.
        statement("PassRoleForASG", ["iam:PassRole"], args.targetStacks.map((stack) => arn.iamRole("*", `${stack}-*`))),
    ]);
}

/** A queue's whole inline policy: its capabilities, and the AMI build's grants when it builds the AMI. */
export function queuePolicy(catalog: Catalog, queue: AwsQueue, ctx: PolicyContext, amiBuild?: AmiBuildPolicyArgs): PolicyDocument {
    const statements = capabilitiesPolicy(queueCapabilities(catalog, queue), ctx).Statement;
    if (amiBuild) statements.unshift(...amiBuildPolicy(amiBuild).Statement);
    return policyDocument(statements);
}
