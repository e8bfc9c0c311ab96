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
    warmCacheAmiSeed: "awsWarmCacheAmiSeed",
    prCacheRepository: "awsPrCacheRepository",
    postmergeCacheRepository: "awsPostmergeCacheRepository",
    ciImageRepository: "awsCiImageRepository",
    postmergeImageRepository: "awsPostmergeImageRepository",
    releaseImageRepository: "awsReleaseImageRepository",
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
    releaseImageRepository: "vllm-release-repo",
    wheelsBucket: "vllm-wheels",
    devWheelsBucket: "vllm-wheels-dev",
    compilerCacheBucket: "vllm-build-sccache",
    hfTokenSecretName: "ci/hf-token",
    analyticsTokenSecretName: "ci/buildkite-analytics-token",
} as const;

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
    /** HTTPS or S3 URL of the script GPU instances run at boot (queues with `aws.bootstrapScript`). */
    gpuBootstrapScriptUrl?: string;
    /** AMI the warm-cache parameter is created with; default: the newest Elastic CI Stack AMI. */
    warmCacheAmiSeed?: string;
    /** Private ECR repositories of the BuildKit registry cache. */
    buildCacheRepositories: { pullRequest: string; postmerge: string };
    /** ECR Public repositories of the CI images. */
    imageRepositories: { ci: string; postmerge: string; release: string };
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

    const settings: AwsSettings = {
        accountId: required(K.accountId, ACCOUNT_ID, "a 12-digit AWS account id"),
        elasticStackVersion: withDefault(K.elasticStackVersion, D.elasticStackVersion, STACK_VERSION, "a release like 6.21.0 (no leading v)"),
        homeRegion: withDefault(K.homeRegion, D.homeRegion, REGION, "an AWS region like us-west-2"),
        buildCacheRegion: withDefault(K.buildCacheRegion, D.buildCacheRegion, REGION, "an AWS region like us-east-1"),
        availabilityZones: readZones(read(K.availabilityZones), (problem) => fail(K.availabilityZones, problem)),
        gpuBootstrapScriptUrl: text(K.gpuBootstrapScriptUrl, undefined, SCRIPT_URL, "an https:// or s3:// URL"),
        warmCacheAmiSeed: text(K.warmCacheAmiSeed, undefined, AMI_ID, "an AMI id like ami-0123456789abcdef0"),
        buildCacheRepositories: {
            pullRequest: withDefault(K.prCacheRepository, D.prCacheRepository, ECR_REPOSITORY, "an ECR repository name"),
            postmerge: withDefault(K.postmergeCacheRepository, D.postmergeCacheRepository, ECR_REPOSITORY, "an ECR repository name"),
        },
        imageRepositories: {
            ci: withDefault(K.ciImageRepository, D.ciImageRepository, ECR_REPOSITORY, "an ECR repository name"),
            postmerge: withDefault(K.postmergeImageRepository, D.postmergeImageRepository, ECR_REPOSITORY, "an ECR repository name"),
            release: withDefault(K.releaseImageRepository, D.releaseImageRepository, ECR_REPOSITORY, "an ECR repository name"),
        },
        buckets: {
            wheels: withDefault(K.wheelsBucket, D.wheelsBucket, S3_BUCKET, "an S3 bucket name"),
            devWheels: withDefault(K.devWheelsBucket, D.devWheelsBucket, S3_BUCKET, "an S3 bucket name"),
            compilerCache: withDefault(K.compilerCacheBucket, D.compilerCacheBucket, S3_BUCKET, "an S3 bucket name"),
        },
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
