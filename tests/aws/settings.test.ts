import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { AWS_CONFIG_KEYS, AwsSettingsError, readAwsSettings, zonesOf } from "../../aws/settings";
import { PROJECT_ROOT } from "../../plan/stack-config";

const SOURCE = "Pulumi.test.yaml";
const read = (values: Record<string, string>) => (key: string) => values[key];
const minimal = { awsAccountId: "111122223333" };

function readError(values: Record<string, string>): string {
    try {
        readAwsSettings(read(values), SOURCE);
    } catch (error) {
        assert.ok(error instanceof AwsSettingsError, `expected AwsSettingsError, got ${String(error)}`);
        return error.message;
    }
    assert.fail("expected the settings to be refused");
}

describe("aws settings", () => {
    it("fills vLLM's values around the account id", () => {
        const settings = readAwsSettings(read(minimal), SOURCE);
        assert.equal(settings.accountId, "111122223333");
        assert.equal(settings.elasticStackVersion, "6.21.0");
        assert.equal(settings.homeRegion, "us-west-2");
        assert.equal(settings.buildCacheRegion, "us-east-1");
        assert.deepEqual(settings.buildCacheRepositories, { pullRequest: "vllm-ci-test-cache", postmerge: "vllm-ci-postmerge-cache" });
        assert.deepEqual(settings.buckets, { wheels: "vllm-wheels", devWheels: "vllm-wheels-dev", compilerCache: "vllm-build-sccache" });
        assert.equal(settings.gpuBootstrapScriptUrl, "https://vllm-ci.s3.us-west-2.amazonaws.com/bootstrap.sh", "the GPU stacks' script today");
        assert.equal(settings.gpuBootstrapScriptSha256, undefined);
        assert.equal(settings.warmCacheAmiSeed, undefined);
        assert.deepEqual(settings.secretNames, { hfToken: "ci_hf_token", analyticsToken: "bk_analytics_token" });
        assert.deepEqual(settings.imageRepositories.release, ["vllm-release-repo", "vllm-omni-release-repo", "vllm-cpu-release-repo", "vllm-arm64-cpu-release-repo"]);
        assert.deepEqual(settings.bucketAccess, { "vllm-wheels": "live", "vllm-wheels-dev": "live", "vllm-build-sccache": "live" });
        assert.deepEqual(settings.trustedBranches, { postmerge: ["main"], release: ["main", "releases/*", "v*"] });
        assert.deepEqual(settings.trustedPipelines, {});
        assert.equal(settings.githubOidcProvider, "existing");
        assert.deepEqual(settings.defaultTags, {});
    });

    it("takes every setting from config when given", () => {
        const settings = readAwsSettings(
            read({
                ...minimal,
                elasticStackVersion: "6.71.1",
                awsHomeRegion: "eu-west-1",
                awsWheelsBucket: "my-wheels",
                awsGpuBootstrapScriptUrl: "s3://bucket/boot.sh",
                awsWarmCacheAmiSeed: "ami-0123456789abcdef0",
                awsAvailabilityZones: JSON.stringify(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1f"]),
                awsGpuBootstrapScriptSha256: "a".repeat(64),
                awsTrustedBranches: JSON.stringify({ release: ["releases/*"] }),
                awsTrustedPipelines: JSON.stringify({ postmerge: ["ci"] }),
                awsBucketAccess: JSON.stringify({ "my-wheels": "private" }),
                awsGithubOidcProvider: "create",
                awsBootstrapNodePackage: "nodejs22-22.12.0-1.amzn2023.0.1",
                awsDefaultTags: JSON.stringify({ team: "ci" }),
            }),
            SOURCE,
        );
        assert.equal(settings.elasticStackVersion, "6.71.1");
        assert.equal(settings.homeRegion, "eu-west-1");
        assert.equal(settings.buckets.wheels, "my-wheels");
        assert.equal(settings.gpuBootstrapScriptUrl, "s3://bucket/boot.sh");
        assert.deepEqual(zonesOf(settings, "us-east-1"), ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1f"]);
        assert.deepEqual(zonesOf(settings, "us-west-2"), ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]);
        assert.equal(settings.gpuBootstrapScriptSha256, "a".repeat(64));
        assert.deepEqual(settings.trustedBranches, { postmerge: ["main"], release: ["releases/*"] });
        assert.deepEqual(settings.trustedPipelines, { postmerge: ["ci"] });
        assert.equal(settings.bucketAccess["my-wheels"], "private");
        assert.equal(settings.githubOidcProvider, "create");
        assert.equal(settings.bootstrapNodePackage, "nodejs22-22.12.0-1.amzn2023.0.1");
        assert.deepEqual(settings.defaultTags, { team: "ci" });
    });

    const refusals: [string, Record<string, string>, RegExp][] = [
        ["a missing account id", {}, /config ci:awsAccountId: missing/],
        ["an account id that is not 12 digits", { awsAccountId: "1234" }, /ci:awsAccountId: must be a 12-digit AWS account id, not "1234"/],
        ["a stack version with a leading v", { ...minimal, elasticStackVersion: "v6.21.0" }, /ci:elasticStackVersion: must be a release like 6.21.0/],
        ["a region that is not one", { ...minimal, awsHomeRegion: "uswest2" }, /ci:awsHomeRegion: must be an AWS region/],
        ["a bootstrap script URL over http", { ...minimal, awsGpuBootstrapScriptUrl: "http://x/boot.sh" }, /ci:awsGpuBootstrapScriptUrl: must be an https:\/\/ or s3:\/\/ URL/],
        ["an AMI seed that is not an AMI id", { ...minimal, awsWarmCacheAmiSeed: "ubuntu" }, /ci:awsWarmCacheAmiSeed: must be an AMI id/],
        ["an upper-case repository name", { ...minimal, awsPrCacheRepository: "Cache" }, /ci:awsPrCacheRepository: must be an ECR repository name/],
        ["a bucket name with underscores", { ...minimal, awsWheelsBucket: "vllm_wheels" }, /ci:awsWheelsBucket: must be an S3 bucket name/],
        ["a secret name with spaces", { ...minimal, awsHfTokenSecretName: "hf token" }, /ci:awsHfTokenSecretName: must be a Secrets Manager secret name/],
        ["zones that are not JSON", { ...minimal, awsAvailabilityZones: "us-east-1a" }, /ci:awsAvailabilityZones: must be a list of availability zones/],
        ["three zones for a region", { ...minimal, awsAvailabilityZones: JSON.stringify(["us-east-1a", "us-east-1b", "us-east-1c"]) }, /us-east-1: must list 4 distinct availability zones, not 3/],
        ["a GPU script hash that is not sha256", { ...minimal, awsGpuBootstrapScriptSha256: "abc" }, /ci:awsGpuBootstrapScriptSha256: must be a sha256 in hex/],
        ["trusted branches of an unknown stage", { ...minimal, awsTrustedBranches: JSON.stringify({ premerge: ["*"] }) }, /ci:awsTrustedBranches: "premerge" is not a trusted stage/],
        ["trusted branches that are not lists", { ...minimal, awsTrustedBranches: JSON.stringify({ release: "main" }) }, /ci:awsTrustedBranches: must be a JSON object/],
        ["a trusted repository without its host", { ...minimal, awsTrustedRepositories: JSON.stringify(["vllm-project/vllm"]) }, /ci:awsTrustedRepositories: must be a JSON list of repositories/],
        ["bucket access for a bucket that is not one of ours", { ...minimal, awsBucketAccess: JSON.stringify({ elsewhere: "private" }) }, /ci:awsBucketAccess: "elsewhere" is not one of the artifact buckets/],
        ["bucket access that is neither live nor private", { ...minimal, awsBucketAccess: JSON.stringify({ "vllm-wheels": "public" }) }, /ci:awsBucketAccess: must be a JSON object/],
        ["an OIDC choice that is neither", { ...minimal, awsGithubOidcProvider: "maybe" }, /ci:awsGithubOidcProvider: must be one of existing, create/],
        ["a Node.js package older than 20", { ...minimal, awsBootstrapNodePackage: "nodejs18" }, /ci:awsBootstrapNodePackage: must be nodejs20/],
        ["release repositories that are not a list", { ...minimal, awsReleaseImageRepositories: "vllm-release-repo" }, /ci:awsReleaseImageRepositories: must be a JSON list/],
        ["a region where a zone belongs", { ...minimal, awsAvailabilityZones: JSON.stringify(["us-east-1", "us-east-1b", "us-east-1c", "us-east-1d"]) }, /"us-east-1" is not an availability zone \(like us-east-1a\)/],
    ];
    for (const [what, values, expected] of refusals) {
        it(`refuses ${what}, naming the stack file and the key`, () => {
            const message = readError(values);
            assert.match(message, expected);
            for (const line of message.split("\n")) assert.ok(line.startsWith(`${SOURCE}: config ci:`), line);
        });
    }

    it("collects every problem, one line each, instead of stopping at the first", () => {
        const lines = readError({ awsHomeRegion: "uswest2", awsWheelsBucket: "vllm_wheels" }).split("\n");
        assert.equal(lines.length, 3, lines.join("\n"));
        assert.match(lines[0], /ci:awsAccountId: missing/);
        assert.match(lines[1], /ci:awsHomeRegion: must be an AWS region/);
        assert.match(lines[2], /ci:awsWheelsBucket: must be an S3 bucket name/);
    });

    it("reads exactly the AWS keys Pulumi.yaml declares in its AWS section", () => {
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
        const declared = Object.keys((yaml.load(text) as { config: Record<string, unknown> }).config);
        const section = text.slice(text.indexOf("# --- AWS stack"), text.indexOf("# --- GCP stack"));
        const inSection = declared.filter((key) => new RegExp(`^  ${key}:`, "m").test(section));
        assert.deepEqual([...inSection].sort(), Object.values(AWS_CONFIG_KEYS).sort());
    });
});
