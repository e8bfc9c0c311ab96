/** The trust-boundary rule guards the artifact names the stack's own config gives. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { trustedArtifactArns } from "../../aws/iam-policies";
import { loadCatalog } from "../../catalog";
import { rulesForStack, stackOfUrn } from "../../policy/stack-rules";
import { PROJECT_ROOT } from "../../plan/stack-config";
import type { Subject } from "../../policy/subject";

const subject = (type: string, name: string, props: Record<string, any>, propertyDependencies: Record<string, string[]> = {}): Subject => ({ type, name, ref: `${type}::${name}`, props, propertyDependencies });

describe("policy rules per stack", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-rules-"));
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        fs.writeFileSync(path.join(root, "Pulumi.aws-other.yaml"), 'config:\n  ci:cloud: aws\n  ci:awsAccountId: "111122223333"\n  ci:awsWheelsBucket: other-wheels\n');
        fs.writeFileSync(path.join(root, "Pulumi.gcp-other.yaml"), "config:\n  ci:cloud: gcp\n");
        fs.writeFileSync(path.join(root, "Pulumi.aws-private.yaml"), 'config:\n  ci:cloud: aws\n  ci:awsAccountId: "111122223333"\n  ci:awsBucketAccess: \'{"vllm-wheels": "private"}\'\n');
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("names the trusted artifacts from the settings, in any region and account", () => {
        const arns = trustedArtifactArns({
            imageRepositories: { ci: "ci", postmerge: "pm-images", release: ["rel-images"] },
            buildCacheRepositories: { pullRequest: "pr-cache", postmerge: "pm-cache" },
            buckets: { wheels: "w", devWheels: "dw", compilerCache: "cc" },
        });
        assert.deepEqual(arns, [
            "arn:aws:ecr:*:*:repository/pm-cache",
            "arn:aws:ecr-public::*:repository/pm-images",
            "arn:aws:ecr-public::*:repository/rel-images",
            "arn:aws:s3:::w",
            "arn:aws:s3:::w/*",
            "arn:aws:s3:::dw",
            "arn:aws:s3:::dw/*",
            "arn:aws:s3:::cc",
            "arn:aws:s3:::cc/*",
        ]);
    });

    it("reads the stack from a URN", () => {
        assert.equal(stackOfUrn("urn:pulumi:aws-prod::vllm-ci-fleet::aws:s3/bucket:Bucket::wheels"), "aws-prod");
    });

    it("guards the configured wheels bucket, not only the default name", () => {
        const rule = rulesForStack("aws-other", root).find((r) => r.name === "premerge-no-release-write")!;
        const stack = subject("aws:cloudformation/stack:Stack", "gpu", {
            templateUrl: "https://s3.amazonaws.com/buildkite-aws-stack/v6.21.0/aws-stack.yml",
            parameters: { BuildkiteQueue: "gpu_1_queue", ECRAccessPolicy: "readonly" },
        });
        const write = (bucket: string) =>
            subject("aws:iam/rolePolicy:RolePolicy", `writes-${bucket}`, { role: "r", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `arn:aws:s3:::${bucket}/*` }] }) }, { role: [stack.ref] });
        assert.ok(loadCatalog().queues.some((q) => q.name === "gpu_1_queue" && q.stage === "premerge"));
        assert.deepEqual(rule.check([stack, write("other-wheels")]).map((v) => v.resource), ["aws:iam/rolePolicy:RolePolicy::writes-other-wheels"]);
        assert.deepEqual(rule.check([stack, write("vllm-wheels")]), [], "the default name is not this stack's bucket");
        const gcpRule = rulesForStack("gcp-other", root).find((r) => r.name === "premerge-no-release-write")!;
        assert.equal(gcpRule.check([stack, write("vllm-wheels")]).length, 1, "other stacks keep the defaults");
    });

    it("lets only the buckets the stack keeps live go without a public access block", () => {
        const wheels = subject("aws:s3/bucket:Bucket", "wheels", { bucket: "vllm-wheels" });
        const devWheels = subject("aws:s3/bucket:Bucket", "dev-wheels", { bucket: "vllm-wheels-dev" });
        const rule = (stack: string) => rulesForStack(stack, root).find((r) => r.name === "s3-public-access-blocked")!;
        assert.deepEqual(rule("aws-other").check([devWheels]), [], "default: kept as it is live");
        assert.equal(rule("aws-other").check([wheels]).length, 1, "vllm-wheels is not that stack's wheels bucket (other-wheels)");
        assert.deepEqual(rule("aws-private").check([wheels, devWheels]).map((v) => v.resource), ["aws:s3/bucket:Bucket::wheels"]);
    });
});
