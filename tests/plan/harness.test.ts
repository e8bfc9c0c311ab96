import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { runWithMocks, resource, SECRET_MASK, urnToRef } from "../../plan/harness";

class Box extends pulumi.ComponentResource {
    constructor(name: string, secret: pulumi.Input<string>, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Box", name, {}, opts);
        const provider = new aws.Provider(`${name}-east`, { region: "us-east-1" }, { parent: this });
        new aws.ssm.Parameter(`${name}-param`, { type: "SecureString", value: secret, name: "/x" }, { parent: this, provider });
        this.registerOutputs({});
    }
}

describe("mock harness", () => {
    it("records parent, explicit provider and masks secrets while keeping raw values", async () => {
        const run = await runWithMocks({ project: "p", stack: "s", config: {} }, () => {
            new Box("box", pulumi.secret("sentinel-value"));
            return {};
        });
        const param = resource(run, "aws:ssm/parameter:Parameter", "box-param");
        assert.equal(param.parent, "test:index:Box::box");
        assert.equal(param.provider, "pulumi:providers:aws::box-east");
        assert.equal(param.inputs.value, SECRET_MASK);
        assert.equal(param.rawInputs.value, "sentinel-value");
        assert.equal(param.inputs.name, "/x");
        assert.equal(resource(run, "test:index:Box", "box").custom, false);
    });

    it("reads type and name from URNs with parent chains", () => {
        assert.equal(urnToRef("urn:pulumi:s::p::a:b:C$aws:ec2/vpc:Vpc::my::vpc"), "aws:ec2/vpc:Vpc::my::vpc");
    });

    it("gives each run only its own resources", async () => {
        const first = await runWithMocks({ project: "p", stack: "one", config: {} }, () => {
            new aws.Provider("only-in-one", { region: "us-west-2" });
            return {};
        });
        const second = await runWithMocks({ project: "p", stack: "two", config: {} }, () => ({}));
        assert.ok(first.resources.some((r) => r.name === "only-in-one"));
        assert.ok(!second.resources.some((r) => r.name === "only-in-one"));
    });
});

describe("mock harness: dependencies", () => {
    it("records which resources an input came from", async () => {
        const run = await runWithMocks({ project: "p", stack: "deps", config: {} }, () => {
            const provider = new aws.Provider("west", { region: "us-west-2" });
            const bucket = new aws.s3.Bucket("wheels", { bucket: "vllm-wheels" }, { provider });
            new aws.s3.BucketPublicAccessBlock("wheels-pab", { bucket: bucket.id, blockPublicAcls: true }, { provider });
            return {};
        });
        const block = resource(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wheels-pab");
        const bucket = resource(run, "aws:s3/bucket:Bucket", "wheels");
        assert.deepEqual(block.propertyDependencies.bucket, [bucket.urn]);
        assert.equal(block.propertyDependencies.blockPublicAcls, undefined);
    });
});
