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
