/**
 * The AWS stack's settings, read from config namespace `ci` by a pure function so that every rule
 * (and every error message) is unit-tested without Pulumi.
 *
 * Nothing here is secret: the agent tokens, the HF token and the analytics token live in SSM and
 * Secrets Manager, and the program only ever handles their names.
 */

import { ProblemsError } from "../lib/problems";

/** The Elastic CI Stack version used when the stack does not pin one. */
export const DEFAULT_ELASTIC_STACK_VERSION = "6.21.0";

/** Config keys of the AWS stack (without the `ci:` namespace). */
export const AWS_CONFIG_KEYS = {
    accountId: "awsAccountId",
    elasticStackVersion: "elasticStackVersion",
    homeRegion: "awsHomeRegion",
    buildCacheRegion: "awsBuildCacheRegion",
    availabilityZones: "awsAvailabilityZones",
    gpuBootstrapScriptUrl: "awsGpuBootstrapScriptUrl",
    gpuBootstrapScriptSha256: "awsGpuBootstrapScriptSha256",
    warmCacheAmiSeed: "awsWarmCacheAmiSeed",
    trustedBranches: "awsTrustedBranches",
    trustedRepositories: "awsTrustedRepositories",
    trustedPipelines: "awsTrustedPipelines",
    bootstrapNodePackage: "awsBootstrapNodePackage",
    githubOidcProvider: "awsGithubOidcProvider",
    bundlePublisherRepository: "awsBundlePublisherRepository",
    bucketAccess: "awsBucketAccess",
    defaultTags: "awsDefaultTags",
    prCacheRepository: "awsPrCacheRepository",
    postmergeCacheRepository: "awsPostmergeCacheRepository",
    ciImageRepository: "awsCiImageRepository",
    postmergeImageRepository: "awsPostmergeImageRepository",
    releaseImageRepositories: "awsReleaseImageRepositories",
    wheelsBucket: "awsWheelsBucket",
    devWheelsBucket: "awsDevWheelsBucket",
    compilerCacheBucket: "awsCompilerCacheBucket",
    hfTokenSecretName: "awsHfTokenSecretName",
    analyticsTokenSecretName: "awsAnalyticsTokenSecretName",
} as const;

/** vLLM's values, used when the stack file does not say otherwise. */
export const AWS_DEFAULTS = {
    elasticStackVersion: DEFAULT_ELASTIC_STACK_VERSION,
    homeRegion: "us-west-2",
    buildCacheRegion: "us-east-1",
    prCacheRepository: "vllm-ci-test-cache",
    postmergeCacheRepository: "vllm-ci-postmerge-cache",
    ciImageRepository: "vllm-ci-test-repo",
    postmergeImageRepository: "vllm-ci-postmerge-repo",
    releaseImageRepositories: ["vllm-release-repo", "vllm-omni-release-repo", "vllm-cpu-release-repo", "vllm-arm64-cpu-release-repo"],
    wheelsBucket: "vllm-wheels",
    devWheelsBucket: "vllm-wheels-dev",
    compilerCacheBucket: "vllm-build-sccache",
    hfTokenSecretName: "ci_hf_token",
    analyticsTokenSecretName: "bk_analytics_token",
    // The script the GPU stacks run at boot today (not in Terraform: its content is not ours).
    gpuBootstrapScriptUrl: "https://vllm-ci.s3.us-west-2.amazonaws.com/bootstrap.sh",
    // Branches whose builds postmerge, release and AMI-build agents accept (glob patterns).
    trustedBranches: { postmerge: ["main"], release: ["main", "releases/*", "v*"] },
    // Repositories whose pipelines may run there (scheme, user and `.git` are ignored).
    trustedRepositories: ["github.com/vllm-project/vllm", "github.com/vllm-project/ci-infra"],
    // Amazon Linux 2023's package; its repository is locked to the AMI's release, which the stack version pins.
    bootstrapNodePackage: "nodejs20",
    githubOidcProvider: "existing",
    bundlePublisherRepository: "vllm-project/ci-infra",
} as const;

/** How the program treats a bucket's public access block, encryption and ownership. */
export const BUCKET_ACCESS = {
    /** The bucket keeps whatever it has live: the program declares none of the three (the Terraform did not manage them). */
    live: "live",
    /** The program declares them: public access blocked all four ways, SSE-S3, ACLs off. */
    private: "private",
} as const;
export type BucketAccess = (typeof BUCKET_ACCESS)[keyof typeof BUCKET_ACCESS];

/** Where the GitHub OIDC provider the bundle publishing roles trust comes from. */
export const OIDC_PROVIDER_CHOICES = ["existing", "create"] as const;
export type OidcProviderChoice = (typeof OIDC_PROVIDER_CHOICES)[number];

/** Subnets per region: the VPC's /16 is cut into this many public /18s, one per zone. */
export const ZONES_PER_REGION = 4;

/** Everything the AWS stack reads from its config. */
export interface AwsSettings {
    /** The account every resource lives in; providers refuse to run against any other. */
    accountId: string;
    /** Elastic CI Stack for AWS release, without the leading `v` (for example `6.21.0`). */
    elasticStackVersion: string;
    /** Region of the artifact buckets and the primary copy of the CI secrets. */
    homeRegion: string;
    /** Region of the BuildKit cache repositories (where the image builds run). */
    buildCacheRegion: string;
    /** Availability zones per region, overriding `<region>a..d`. */
    availabilityZones: Record<string, string[]>;
    /** HTTPS or S3 URL of the script GPU instances run at boot today (queues with `aws.bootstrapScript`). */
    gpuBootstrapScriptUrl: string;
    /**
     * sha256 of that script. When set, GPU instances boot the program's own script (containers
     * kept off the instance metadata service), which then runs the GPU script verified against it;
     * when unset, the GPU stacks keep the URL as their BootstrapScriptUrl, as today.
     */
    gpuBootstrapScriptSha256?: string;
    /** Branch patterns (glob) whose builds the agents of each trusted stage accept. */
    trustedBranches: Record<"postmerge" | "release", string[]>;
    /** Repositories (`host/owner/name`) whose builds trusted agents accept. */
    trustedRepositories: string[];
    /** Pipeline slugs trusted agents accept, per stage; a stage absent here accepts any pipeline of the trusted repositories. */
    trustedPipelines: Partial<Record<"postmerge" | "release", string[]>>;
    /** The dnf package that gives the bootstrap queue Node.js (`nodejs20`, or an exact `nodejs20-<version>`). */
    bootstrapNodePackage: string;
    /** Reference the account's existing GitHub OIDC provider, or create it. */
    githubOidcProvider: OidcProviderChoice;
    /** The GitHub repository (`owner/name`) whose workflows publish bootstrap bundles. */
    bundlePublisherRepository: string;
    /** Per artifact bucket: keep its live access settings, or declare them private. */
    bucketAccess: Record<string, BucketAccess>;
    /** Tags the providers add to every resource (none by default: each adopted resource would change). */
    defaultTags: Record<string, string>;
    /** AMI the warm-cache parameter is created with; default: the newest Elastic CI Stack AMI. */
    warmCacheAmiSeed?: string;
    /** Private ECR repositories of the BuildKit registry cache. */
    buildCacheRepositories: { pullRequest: string; postmerge: string };
    /** ECR Public repositories of the CI images. */
    imageRepositories: { ci: string; postmerge: string; release: string[] };
    /** S3 buckets. */
    buckets: { wheels: string; devWheels: string; compilerCache: string };
    /** Secrets Manager names of the secrets CI jobs read. */
    secretNames: { hfToken: string; analyticsToken: string };
}

/** Reads one raw config value (without namespace); `undefined` when unset. */
export type ConfigReader = (key: string) => string | undefined;

const ACCOUNT_ID = /^[0-9]{12}$/;
const STACK_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/;
const ZONE_SUFFIX = /^[a-z]$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SCRIPT_URL = /^(https|s3):\/\/\S+$/;
// ECR repository names, S3 bucket names and Secrets Manager names, as AWS documents them.
const ECR_REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const REPOSITORY = /^[a-z0-9.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const NODE_PACKAGE = /^nodejs(2[0-9]|[3-9][0-9])(-[0-9][0-9A-Za-z.:_+~-]*)?$/;

/** Settings that cannot be used: one line per problem, naming the stack file and the key. */
export class AwsSettingsError extends ProblemsError {
    constructor(problems: readonly string[] | string) {
        super(typeof problems === "string" ? [problems] : problems, "AwsSettingsError");
    }
}

/**
 * Reads and checks the AWS settings. `source` names the stack file in messages
 * (for example `Pulumi.aws-prod.yaml`). Throws AwsSettingsError listing every problem.
 */
export function readAwsSettings(read: ConfigReader, source: string): AwsSettings {
    const problems: string[] = [];
    const fail = (key: string, problem: string): string => {
        problems.push(`${source}: config ci:${key}: ${problem}`);
        return "";
    };
    const text = (key: string, fallback: string | undefined, pattern: RegExp, what: string): string | undefined => {
        const value = read(key) ?? fallback;
        if (value !== undefined && !pattern.test(value)) fail(key, `must be ${what}, not "${value}"`);
        return value;
    };
    const required = (key: string, pattern: RegExp, what: string): string =>
        text(key, undefined, pattern, what) ?? fail(key, `missing (${what}); set it with \`pulumi config set ${key} <value>\``);
    const withDefault = (key: string, fallback: string, pattern: RegExp, what: string): string => text(key, fallback, pattern, what) as string;
    const K = AWS_CONFIG_KEYS;
    const D = AWS_DEFAULTS;

    const json = (key: string, what: string, check: (value: unknown) => boolean): unknown => {
        const raw = read(key);
        if (raw === undefined) return undefined;
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            fail(key, `must be ${what}, not "${raw}"`);
            return undefined;
        }
        if (!check(value)) {
            fail(key, `must be ${what}`);
            return undefined;
        }
        return value;
    };
    const isStringList = (value: unknown, pattern?: RegExp): value is string[] =>
        Array.isArray(value) && value.every((item) => typeof item === "string" && item !== "" && (!pattern || pattern.test(item)));
    const isStringMap = (value: unknown, check: (item: unknown) => boolean): value is Record<string, unknown> =>
        typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every(check);
    const stageLists = (key: string, fallback: Partial<Record<"postmerge" | "release", readonly string[]>>): Partial<Record<"postmerge" | "release", string[]>> => {
        const value = json(key, 'a JSON object {"postmerge": [...], "release": [...]} of string lists', (v) => isStringMap(v, (item) => isStringList(item)));
        if (value === undefined) return Object.fromEntries(Object.entries(fallback).map(([stage, list]) => [stage, [...list]]));
        const unknown = Object.keys(value as object).filter((stage) => stage !== "postmerge" && stage !== "release");
        for (const stage of unknown) fail(key, `"${stage}" is not a trusted stage (postmerge, release)`);
        return value as Partial<Record<"postmerge" | "release", string[]>>;
    };

    const accountId = required(K.accountId, ACCOUNT_ID, "a 12-digit AWS account id");
    const elasticStackVersion = withDefault(K.elasticStackVersion, D.elasticStackVersion, STACK_VERSION, "a release like 6.21.0 (no leading v)");
    const homeRegion = withDefault(K.homeRegion, D.homeRegion, REGION, "an AWS region like us-west-2");
    const buckets = {
        wheels: withDefault(K.wheelsBucket, D.wheelsBucket, S3_BUCKET, "an S3 bucket name"),
        devWheels: withDefault(K.devWheelsBucket, D.devWheelsBucket, S3_BUCKET, "an S3 bucket name"),
        compilerCache: withDefault(K.compilerCacheBucket, D.compilerCacheBucket, S3_BUCKET, "an S3 bucket name"),
    };
    const accessValues = Object.values(BUCKET_ACCESS) as string[];
    const bucketAccessOverride =
        (json(K.bucketAccess, `a JSON object {"<bucket>": "${accessValues.join('" | "')}"}`, (v) => isStringMap(v, (item) => accessValues.includes(String(item)))) as
            | Record<string, BucketAccess>
            | undefined) ?? {};
    for (const bucket of Object.keys(bucketAccessOverride)) {
        if (!Object.values(buckets).includes(bucket)) fail(K.bucketAccess, `"${bucket}" is not one of the artifact buckets (${Object.values(buckets).join(", ")})`);
    }
    const oidc = read(K.githubOidcProvider) ?? D.githubOidcProvider;
    if (!(OIDC_PROVIDER_CHOICES as readonly string[]).includes(oidc)) fail(K.githubOidcProvider, `must be one of ${OIDC_PROVIDER_CHOICES.join(", ")}, not "${oidc}"`);

    const settings: AwsSettings = {
        accountId,
        elasticStackVersion,
        homeRegion,
        buildCacheRegion: withDefault(K.buildCacheRegion, D.buildCacheRegion, REGION, "an AWS region like us-east-1"),
        availabilityZones: readZones(read(K.availabilityZones), (problem) => fail(K.availabilityZones, problem)),
        gpuBootstrapScriptUrl: withDefault(K.gpuBootstrapScriptUrl, D.gpuBootstrapScriptUrl, SCRIPT_URL, "an https:// or s3:// URL"),
        gpuBootstrapScriptSha256: text(K.gpuBootstrapScriptSha256, undefined, SHA256, "a sha256 in hex (64 characters)"),
        warmCacheAmiSeed: text(K.warmCacheAmiSeed, undefined, AMI_ID, "an AMI id like ami-0123456789abcdef0"),
        trustedBranches: { postmerge: [...D.trustedBranches.postmerge], release: [...D.trustedBranches.release], ...stageLists(K.trustedBranches, D.trustedBranches) },
        trustedRepositories: (json(K.trustedRepositories, "a JSON list of repositories like github.com/owner/name", (v) => isStringList(v, REPOSITORY)) as string[] | undefined) ?? [
            ...D.trustedRepositories,
        ],
        trustedPipelines: stageLists(K.trustedPipelines, {}),
        bootstrapNodePackage: withDefault(K.bootstrapNodePackage, D.bootstrapNodePackage, NODE_PACKAGE, "nodejs20 or nodejs20-<version> (an Amazon Linux 2023 package, Node.js 20 or later)"),
        githubOidcProvider: oidc as OidcProviderChoice,
        bundlePublisherRepository: withDefault(K.bundlePublisherRepository, D.bundlePublisherRepository, GITHUB_REPOSITORY, "a GitHub repository owner/name"),
        bucketAccess: { ...Object.fromEntries(Object.values(buckets).map((bucket) => [bucket, BUCKET_ACCESS.live])), ...bucketAccessOverride },
        defaultTags: (json(K.defaultTags, 'a JSON object {"key": "value"}', (v) => isStringMap(v, (item) => typeof item === "string")) as Record<string, string> | undefined) ?? {},
        buildCacheRepositories: {
            pullRequest: withDefault(K.prCacheRepository, D.prCacheRepository, ECR_REPOSITORY, "an ECR repository name"),
            postmerge: withDefault(K.postmergeCacheRepository, D.postmergeCacheRepository, ECR_REPOSITORY, "an ECR repository name"),
        },
        imageRepositories: {
            ci: withDefault(K.ciImageRepository, D.ciImageRepository, ECR_REPOSITORY, "an ECR repository name"),
            postmerge: withDefault(K.postmergeImageRepository, D.postmergeImageRepository, ECR_REPOSITORY, "an ECR repository name"),
            release: (json(K.releaseImageRepositories, "a JSON list of ECR Public repository names", (v) => isStringList(v, ECR_REPOSITORY) && v.length > 0) as string[] | undefined) ?? [
                ...D.releaseImageRepositories,
            ],
        },
        buckets,
        secretNames: {
            hfToken: withDefault(K.hfTokenSecretName, D.hfTokenSecretName, SECRET_NAME, "a Secrets Manager secret name"),
            analyticsToken: withDefault(K.analyticsTokenSecretName, D.analyticsTokenSecretName, SECRET_NAME, "a Secrets Manager secret name"),
        },
    };
    if (problems.length > 0) throw new AwsSettingsError(problems);
    return settings;
}

/**
 * `["us-east-1a", "us-east-1b", ...]`: the zones of the regions whose defaults (`<region>a..d`) do
 * not suit, exactly four distinct zones per region named; the region is the zone without its letter.
 */
function readZones(raw: string | undefined, fail: (problem: string) => unknown): Record<string, string[]> {
    if (raw === undefined) return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        fail(`must be a list of availability zones, not "${raw}"`);
        return {};
    }
    if (!Array.isArray(parsed)) {
        fail("must be a list of availability zones");
        return {};
    }
    const zones: Record<string, string[]> = {};
    for (const zone of parsed as unknown[]) {
        const region = typeof zone === "string" ? zone.slice(0, -1) : "";
        if (typeof zone !== "string" || !REGION.test(region) || !ZONE_SUFFIX.test(zone.slice(region.length))) {
            fail(`"${String(zone)}" is not an availability zone (like us-east-1a)`);
            continue;
        }
        zones[region] = [...(zones[region] ?? []), zone as string];
    }
    for (const [region, list] of Object.entries(zones)) {
        if (list.length !== ZONES_PER_REGION || new Set(list).size !== ZONES_PER_REGION) {
            fail(`${region}: must list ${ZONES_PER_REGION} distinct availability zones, not ${list.length}`);
        }
    }
    return zones;
}

/** The zones a region's subnets span: the configured ones, else `<region>a` to `<region>d`. */
export function zonesOf(settings: AwsSettings, region: string): string[] {
    return settings.availabilityZones[region] ?? ["a", "b", "c", "d"].map((suffix) => `${region}${suffix}`);
}
