/**
 * The trust boundary as IAM policy documents, built by pure functions from the settings.
 *
 * A queue's instance role gets the capabilities of its catalog stage. Every write names exact
 * ARNs built from config (account, region, repository and bucket names); `*` only appears for
 * actions AWS does not scope to resources (logins, `Describe*`).
 */
import type { TrustStage } from "../catalog";
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
    s3Objects: (bucket: string) => `arn:aws:s3:::${bucket}/*`,
    /** Secrets Manager appends six random characters to a secret's name in its ARN. */
    secret: (region: string, account: string, name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-??????`,
    /** `name` starts with `/`. */
    ssmParameter: (region: string, account: string, name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`,
    ec2: (region: string, account: string, resource: string) => `arn:aws:ec2:${region}:${account}:${resource}`,
    /** Images and snapshots belong to no account in their ARNs. */
    ec2Unowned: (region: string, resource: string) => `arn:aws:ec2:${region}::${resource}`,
    autoScalingGroup: (region: string, account: string, name: string) =>
        `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${name}`,
    iamRole: (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`,
};

const ECR_LOGIN = ["ecr:GetAuthorizationToken"];
const ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
const ECR_PUSH = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"];
const ECR_PUBLIC_LOGIN = ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"];
const ECR_PUBLIC_PUSH = [
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:UploadLayerPart",
    "ecr-public:CompleteLayerUpload",
    "ecr-public:PutImage",
];
const S3_READ = ["s3:GetObject"];
const S3_LIST = ["s3:ListBucket"];
const S3_WRITE = ["s3:PutObject"];
const SECRET_READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"];

/** Where a queue's policy applies: its settings and region. */
export interface PolicyContext {
    settings: AwsSettings;
    /** The queue's region (secrets are read from their replica there). */
    region: string;
}

const statement = (Sid: string, Action: string[], Resource: string[]): PolicyStatement => ({ Sid, Effect: "Allow", Action, Resource });

function readBucket(Sid: string, bucket: string): PolicyStatement[] {
    return [statement(`${Sid}List`, S3_LIST, [arn.s3Bucket(bucket)]), statement(`${Sid}Objects`, S3_READ, [arn.s3Objects(bucket)])];
}

function cacheRepository(ctx: PolicyContext, name: string): string {
    return arn.ecrRepository(ctx.settings.buildCacheRegion, ctx.settings.accountId, name);
}

function publicRepository(ctx: PolicyContext, name: string): string {
    return arn.ecrPublicRepository(ctx.settings.accountId, name);
}

/** What one capability grants. Statement ids are unique across capabilities. */
export const CAPABILITIES = {
    /** Authenticated pulls from ECR Public (the CI images are public; logging in lifts rate limits). */
    pullCiImages: (): PolicyStatement[] => [statement("EcrPublicLogin", ECR_PUBLIC_LOGIN, ["*"])],
    /** The pull request's own test image (built on premerge queues, pulled by the GPU tests). */
    pushCiImages: (ctx: PolicyContext) => [
        statement("EcrPublicLogin", ECR_PUBLIC_LOGIN, ["*"]),
        statement("PushCiImages", ECR_PUBLIC_PUSH, [publicRepository(ctx, ctx.settings.imageRepositories.ci)]),
    ],
    readWritePullRequestCache: (ctx: PolicyContext) => [
        statement("EcrLogin", ECR_LOGIN, ["*"]),
        statement("ReadWritePullRequestCache", [...ECR_PULL, ...ECR_PUSH], [cacheRepository(ctx, ctx.settings.buildCacheRepositories.pullRequest)]),
    ],
    readPostmergeCache: (ctx: PolicyContext) => [
        statement("EcrLogin", ECR_LOGIN, ["*"]),
        statement("ReadPostmergeCache", ECR_PULL, [cacheRepository(ctx, ctx.settings.buildCacheRepositories.postmerge)]),
    ],
    readCompilerCache: (ctx: PolicyContext) => readBucket("ReadCompilerCache", ctx.settings.buckets.compilerCache),
    readCiSecrets: (ctx: PolicyContext) => [
        statement(
            "ReadCiSecrets",
            SECRET_READ,
            [ctx.settings.secretNames.hfToken, ctx.settings.secretNames.analyticsToken].map((name) => arn.secret(ctx.region, ctx.settings.accountId, name)),
        ),
    ],
    pushPostmergeImages: (ctx: PolicyContext) => [
        statement("EcrPublicLogin", ECR_PUBLIC_LOGIN, ["*"]),
        statement("PushPostmergeImages", ECR_PUBLIC_PUSH, [publicRepository(ctx, ctx.settings.imageRepositories.postmerge)]),
    ],
    writePostmergeCache: (ctx: PolicyContext) => [
        statement("EcrLogin", ECR_LOGIN, ["*"]),
        statement("WritePostmergeCache", [...ECR_PULL, ...ECR_PUSH], [cacheRepository(ctx, ctx.settings.buildCacheRepositories.postmerge)]),
    ],
    writeCompilerCache: (ctx: PolicyContext) => [statement("WriteCompilerCache", S3_WRITE, [arn.s3Objects(ctx.settings.buckets.compilerCache)])],
    /** Nightly wheels of main and the dev wheels. */
    writeWheels: (ctx: PolicyContext) => {
        const buckets = [ctx.settings.buckets.wheels, ctx.settings.buckets.devWheels];
        return [
            statement("WheelsList", S3_LIST, buckets.map(arn.s3Bucket)),
            statement("WriteWheels", [...S3_READ, ...S3_WRITE], buckets.map(arn.s3Objects)),
        ];
    },
    pushReleaseImages: (ctx: PolicyContext) => [
        statement("EcrPublicLogin", ECR_PUBLIC_LOGIN, ["*"]),
        statement("PushReleaseImages", ECR_PUBLIC_PUSH, [publicRepository(ctx, ctx.settings.imageRepositories.release)]),
    ],
    /** Release wheels go to the main wheels bucket only. */
    writeReleaseWheels: (ctx: PolicyContext) => [
        statement("ReleaseWheelsList", S3_LIST, [arn.s3Bucket(ctx.settings.buckets.wheels)]),
        statement("WriteReleaseWheels", [...S3_READ, ...S3_WRITE], [arn.s3Objects(ctx.settings.buckets.wheels)]),
    ],
} as const;

export type Capability = keyof typeof CAPABILITIES;

const PREMERGE_CAPABILITIES: readonly Capability[] = [
    "pullCiImages",
    "pushCiImages",
    "readWritePullRequestCache",
    "readPostmergeCache",
    "readCompilerCache",
    "readCiSecrets",
];

/** The capabilities of each stage that runs on AWS. Postmerge can do all premerge can, and more. */
export const STAGE_CAPABILITIES: Readonly<Record<TrustStage, readonly Capability[]>> = {
    premerge: PREMERGE_CAPABILITIES,
    postmerge: [...PREMERGE_CAPABILITIES, "pushPostmergeImages", "writePostmergeCache", "writeCompilerCache", "writeWheels"],
    release: ["pushReleaseImages", "writeReleaseWheels"],
};

/** Statements with the same id are the same grant (a login two capabilities need): kept once. */
function document(statements: PolicyStatement[]): PolicyDocument {
    const bySid = new Map<string, PolicyStatement>();
    for (const s of statements) if (!bySid.has(s.Sid)) bySid.set(s.Sid, s);
    return { Version: "2012-10-17", Statement: [...bySid.values()] };
}

/** The policy of a queue's instance role, from its stage. */
export function stagePolicy(stage: TrustStage, ctx: PolicyContext): PolicyDocument {
    return document(STAGE_CAPABILITIES[stage].flatMap((capability) => CAPABILITIES[capability](ctx)));
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
        arn.ecrPublicRepository("*", names.imageRepositories.release),
        ...buckets.flatMap((bucket) => [arn.s3Bucket(bucket), arn.s3Objects(bucket)]),
    ];
}

/** Tag the AMI build must put on the instances and volumes it launches, and that scopes what it may stop. */
export const AMI_BUILDER_TAG = { key: "vllm-ci:purpose", value: "warm-cache-ami-build" } as const;

/** A queue the AMI build rolls its AMI into. */
export interface AmiRolloutTarget {
    /** Its CloudFormation stack (the launch template carries it as tag `aws:cloudformation:stack-name`). */
    stackName: string;
    autoScalingGroupName: string;
    instanceRoleName: string;
}

export interface AmiBuildPolicyArgs {
    region: string;
    accountId: string;
    /** The SSM parameter holding the AMI id, which the build updates. */
    amiParameter: string;
    /** SSM parameters the build reads to find where to launch its builder instance. */
    builderParameters: string[];
    builderSubnetId: string;
    builderSecurityGroupId: string;
    targets: AmiRolloutTarget[];
}

/**
 * What the AMI-build queue may do, and nothing more: launch a tagged builder instance into its
 * subnet and security group, image it, publish the AMI id in its parameter, and roll a new launch
 * template version into the named queues' autoscaling groups.
 */
export function amiBuildPolicy(args: AmiBuildPolicyArgs): PolicyDocument {
    const { region, accountId: account } = args;
    const ec2 = (resource: string) => arn.ec2(region, account, resource);
    const builderTagged = { StringEquals: { [`aws:ResourceTag/${AMI_BUILDER_TAG.key}`]: AMI_BUILDER_TAG.value } };
    const targetStacks = { StringEquals: { "aws:ResourceTag/aws:cloudformation:stack-name": args.targets.map((t) => t.stackName) } };
    return document([
        statement(
            "DescribeForAmiBuild",
            [
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeSnapshots",
                "ec2:DescribeVolumes",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeRegions",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeLaunchTemplateVersions",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeInstanceRefreshes",
            ],
            ["*"],
        ),
        {
            ...statement("LaunchTaggedBuilder", ["ec2:RunInstances"], [ec2("instance/*"), ec2("volume/*")]),
            Condition: { StringEquals: { [`aws:RequestTag/${AMI_BUILDER_TAG.key}`]: AMI_BUILDER_TAG.value } },
        },
        statement("LaunchBuilderInto", ["ec2:RunInstances"], [
            ec2(`subnet/${args.builderSubnetId}`),
            ec2(`security-group/${args.builderSecurityGroupId}`),
            ec2("network-interface/*"),
            ec2("key-pair/packer_*"),
            arn.ec2Unowned(region, "image/*"),
        ]),
        {
            ...statement("TagBuilderAtLaunch", ["ec2:CreateTags"], [ec2("instance/*"), ec2("volume/*")]),
            Condition: { StringEquals: { "ec2:CreateAction": "RunInstances" } },
        },
        { ...statement("ImageAndStopBuilder", ["ec2:CreateImage", "ec2:StopInstances", "ec2:TerminateInstances"], [ec2("instance/*")]), Condition: builderTagged },
        statement("CreateAmi", ["ec2:CreateImage", "ec2:CreateTags"], [arn.ec2Unowned(region, "image/*"), arn.ec2Unowned(region, "snapshot/*")]),
        statement("BuilderKeyPair", ["ec2:CreateKeyPair", "ec2:DeleteKeyPair"], [ec2("key-pair/packer_*")]),
        statement("ReadAmiBuildParameters", ["ssm:GetParameter", "ssm:GetParameters"], [args.amiParameter, ...args.builderParameters].map((name) => arn.ssmParameter(region, account, name))),
        statement("PublishAmi", ["ssm:PutParameter"], [arn.ssmParameter(region, account, args.amiParameter)]),
        { ...statement("RollLaunchTemplates", ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:RunInstances"], [ec2("launch-template/*")]), Condition: targetStacks },
        statement("RollAutoScalingGroups", ["autoscaling:UpdateAutoScalingGroup", "autoscaling:StartInstanceRefresh"], args.targets.map((t) => arn.autoScalingGroup(region, account, t.autoScalingGroupName))),
        {
            ...statement("PassTargetRoles", ["iam:PassRole"], args.targets.map((t) => arn.iamRole(account, t.instanceRoleName))),
            Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        },
    ]);
}
