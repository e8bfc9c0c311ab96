import { strict as assert } from "assert";
import { diffMarkdown, diffPlans, type PlannedResource } from "../../plan/diff";

const vpc = (cidr: string): PlannedResource => ({ type: "aws:ec2/vpc:Vpc", name: "vpc-us-east-1", inputs: { cidrBlock: cidr, tags: {} } });
const bucket: PlannedResource = { type: "aws:s3/bucket:Bucket", name: "wheels", inputs: { bucket: "vllm-wheels" } };
const repo: PlannedResource = { type: "aws:ecr/repository:Repository", name: "cache", inputs: {} };

describe("plan diff", () => {
    it("lists added, removed and changed resources with the changed inputs", () => {
        const [diff] = diffPlans({ "aws-prod": [vpc("10.0.0.0/16"), bucket] }, { "aws-prod": [vpc("10.1.0.0/16"), repo] });
        assert.deepEqual(diff.added.map((r) => r.name), ["cache"]);
        assert.deepEqual(diff.removed.map((r) => r.name), ["wheels"]);
        assert.deepEqual(diff.changed.map((c) => [c.resource.name, c.fields]), [["vpc-us-east-1", ["cidrBlock"]]]);
        const markdown = diffMarkdown([diff]);
        assert.match(markdown, /### aws-prod: \+1 -1 ~1/);
        assert.match(markdown, /`~` `aws:ec2\/vpc:Vpc` \*\*vpc-us-east-1\*\*: cidrBlock/);
    });

    it("reports no change for identical plans and handles a stack missing on one side", () => {
        const diffs = diffPlans({ "aws-prod": [bucket] }, { "aws-prod": [bucket], "gcp-prod": [repo] });
        assert.match(diffMarkdown(diffs), /### aws-prod: no change/);
        assert.deepEqual(diffs[1].added.map((r) => r.name), ["cache"]);
    });
});

describe("plan diff of Elastic CI Stacks", () => {
    const stack = (parameters: Record<string, string>, version = "6.21.0"): PlannedResource => ({
        type: "aws:cloudformation/stack:Stack",
        name: "gpu_4_queue",
        inputs: { name: "bk-gpu-4-queue-ci", templateUrl: `https://s3.amazonaws.com/buildkite-aws-stack/v${version}/aws-stack.yml`, parameters: { BuildkiteQueue: "gpu_4_queue", InstanceTypes: "g6.12xlarge", MaxSize: "64", ...parameters } },
    });

    it("marks a parameter change that replaces the autoscaling group, naming the queue and the cancelled jobs", () => {
        const [diff] = diffPlans({ "aws-prod": [stack({})] }, { "aws-prod": [stack({ InstanceTypes: "g6.24xlarge" })] });
        assert.deepEqual(diff.changed[0].effects, ["replaces the autoscaling group of queue gpu_4_queue (InstanceTypes): running jobs are cancelled"]);
        const markdown = diffMarkdown([diff]);
        assert.match(markdown, /:warning: \*\*replaces the autoscaling group of queue gpu_4_queue \(InstanceTypes\): running jobs are cancelled\*\*/);
        assert.match(markdown, /> :warning: 1 change\(s\) replace an autoscaling group/);
    });

    it("does not mark one that does not (MaxSize)", () => {
        const [diff] = diffPlans({ "aws-prod": [stack({})] }, { "aws-prod": [stack({ MaxSize: "80" })] });
        assert.deepEqual(diff.changed.map((c) => [c.fields, c.effects]), [[["parameters"], []]]);
        assert.doesNotMatch(diffMarkdown([diff]), /warning/);
    });

    it("marks another Elastic CI Stack version", () => {
        const [diff] = diffPlans({ "aws-prod": [stack({})] }, { "aws-prod": [stack({}, "6.71.1")] });
        assert.deepEqual(diff.changed[0].effects, ["replaces the autoscaling group of queue gpu_4_queue (Elastic CI Stack 6.21.0 → 6.71.1): running jobs are cancelled"]);
    });
});
