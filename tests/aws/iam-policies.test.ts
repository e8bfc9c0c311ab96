import { strict as assert } from "assert";
import { amiBuildPolicy, stagePolicy, STAGE_CAPABILITIES, type PolicyDocument } from "../../aws/iam-policies";
import { readAwsSettings } from "../../aws/settings";
import { asList, mayWrite, statementsOf, writesReaching } from "./helpers";

const ACCOUNT = "111122223333";
const settings = readAwsSettings((key) => ({ awsAccountId: ACCOUNT })[key], "test");

/** Concrete ARNs of the artifacts each side of the boundary owns (vLLM's names, written out). */
const POSTMERGE_AND_RELEASE = [
    `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`,
    `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`,
    `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`,
    "arn:aws:s3:::vllm-wheels",
    "arn:aws:s3:::vllm-wheels/nightly/vllm-1.0.0-cp38-abi3-manylinux1_x86_64.whl",
    "arn:aws:s3:::vllm-wheels-dev",
    "arn:aws:s3:::vllm-wheels-dev/abc/vllm.whl",
    "arn:aws:s3:::vllm-build-sccache",
    "arn:aws:s3:::vllm-build-sccache/cache/a/b/c",
];

const writesOn = (document: PolicyDocument, arn: string) => writesReaching(document, [arn]);

describe("stage policies", () => {
    const premerge = stagePolicy("premerge", { settings, region: "us-west-2" });
    const postmerge = stagePolicy("postmerge", { settings, region: "us-east-1" });
    const release = stagePolicy("release", { settings, region: "us-east-1" });

    it("give premerge no write on any postmerge or release artifact", () => {
        assert.deepEqual(writesReaching(premerge, POSTMERGE_AND_RELEASE), []);
    });

    it("give premerge what pull requests need: their cache and image, reads of the rest", () => {
        assert.ok(writesOn(premerge, `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-test-cache`).includes(`ecr:PutImage on arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-test-cache`));
        assert.ok(writesOn(premerge, `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-test-repo`).length > 0);
        const reads = statementsOf(premerge).filter((s) => asList(s.Action).every((a) => !mayWrite(a)));
        const readResources = reads.flatMap((s) => asList(s.Resource));
        assert.ok(readResources.includes(`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`));
        assert.ok(readResources.includes("arn:aws:s3:::vllm-build-sccache/*"));
        assert.ok(readResources.includes(`arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:ci/hf-token-??????`), "secrets are read in the queue's region");
    });

    it("let postmerge push postmerge images, write the postmerge and compiler caches and the wheels", () => {
        for (const arn of POSTMERGE_AND_RELEASE.filter((a) => !a.includes("release") && !a.match(/:::[^/]+$/))) {
            assert.ok(writesOn(postmerge, arn).length > 0, `postmerge cannot write ${arn}`);
        }
        assert.deepEqual(writesOn(postmerge, `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`), []);
    });

    it("let release push release images and wheels, and nothing of main's", () => {
        assert.ok(writesOn(release, `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`).length > 0);
        assert.ok(writesOn(release, "arn:aws:s3:::vllm-wheels/0.9.0/vllm.whl").length > 0);
        for (const arn of [`arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`, `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`, "arn:aws:s3:::vllm-build-sccache/x", "arn:aws:s3:::vllm-wheels-dev/x"]) {
            assert.deepEqual(writesOn(release, arn), [], arn);
        }
        assert.deepEqual(STAGE_CAPABILITIES.release, ["pushReleaseImages", "writeReleaseWheels"]);
    });

    it("grant no write action on * in any stage", () => {
        for (const [stage, document] of Object.entries({ premerge, postmerge, release })) {
            const wild = statementsOf(document).filter((s) => asList(s.Resource).includes("*")).flatMap((s) => asList(s.Action).filter(mayWrite));
            assert.deepEqual(wild, [], stage);
        }
    });

    it("name resources from config", () => {
        const other = readAwsSettings((key) => ({ awsAccountId: "999988887777", awsPostmergeCacheRepository: "other-cache" })[key], "test");
        const document = JSON.stringify(stagePolicy("postmerge", { settings: other, region: "us-east-1" }));
        assert.ok(document.includes("arn:aws:ecr:us-east-1:999988887777:repository/other-cache"));
        assert.ok(!document.includes(ACCOUNT));
    });
});

describe("the trust-boundary check itself", () => {
    const grant = (Action: string[], Resource: string[]): PolicyDocument => ({ Version: "2012-10-17", Statement: [{ Sid: "X", Effect: "Allow", Action, Resource }] });

    it("catches a write on a protected artifact, by exact ARN, by glob or by *", () => {
        assert.deepEqual(writesReaching(grant(["s3:PutObject"], ["arn:aws:s3:::vllm-wheels/*"]), POSTMERGE_AND_RELEASE), [
            "s3:PutObject on arn:aws:s3:::vllm-wheels/*",
        ]);
        assert.equal(writesReaching(grant(["s3:*"], ["arn:aws:s3:::vllm-*"]), POSTMERGE_AND_RELEASE).length, 1);
        assert.equal(writesReaching(grant(["ecr:PutImage"], ["*"]), POSTMERGE_AND_RELEASE).length, 1);
        assert.equal(writesReaching(grant(["*"], [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`]), POSTMERGE_AND_RELEASE).length, 1);
    });

    it("does not count reads, and refuses NotAction", () => {
        assert.deepEqual(writesReaching(grant(["s3:GetObject", "ecr:BatchGetImage"], ["*"]), POSTMERGE_AND_RELEASE), []);
        const notAction = { Version: "2012-10-17", Statement: [{ Effect: "Allow", NotAction: ["iam:*"], Resource: ["*"] }] };
        assert.equal(writesReaching(notAction, POSTMERGE_AND_RELEASE).length, 1);
    });
});

describe("AMI build policy", () => {
    const document = amiBuildPolicy({
        region: "us-east-1",
        accountId: ACCOUNT,
        amiParameter: "/buildkite/cpu-build-ami/us-east-1",
        builderParameters: ["/p/sg", "/p/subnet"],
        builderSubnetId: "subnet-1",
        builderSecurityGroupId: "sg-1",
        targets: [
            { stackName: "bk-a", autoScalingGroupName: "asg-a", instanceRoleName: "role-a" },
            { stackName: "bk-b", autoScalingGroupName: "asg-b", instanceRoleName: "role-b" },
        ],
    });
    const statements = statementsOf(document);

    it("writes only the AMI parameter", () => {
        const ssmWrites = statements.flatMap((s) => asList(s.Action).filter((a) => a.startsWith("ssm:") && mayWrite(a)).flatMap(() => asList(s.Resource)));
        assert.deepEqual([...new Set(ssmWrites)], [`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/buildkite/cpu-build-ami/us-east-1`]);
    });

    it("rolls out only to the named queues' autoscaling groups, launch templates and roles", () => {
        const asg = statements.find((s) => asList(s.Action).includes("autoscaling:UpdateAutoScalingGroup"))!;
        assert.deepEqual(asList(asg.Resource), ["asg-a", "asg-b"].map((name) => `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${name}`));
        const templates = statements.find((s) => asList(s.Action).includes("ec2:CreateLaunchTemplateVersion"))!;
        assert.deepEqual(templates.Condition, { StringEquals: { "aws:ResourceTag/aws:cloudformation:stack-name": ["bk-a", "bk-b"] } });
        const pass = statements.find((s) => asList(s.Action).includes("iam:PassRole"))!;
        assert.deepEqual(asList(pass.Resource), [`arn:aws:iam::${ACCOUNT}:role/role-a`, `arn:aws:iam::${ACCOUNT}:role/role-b`]);
    });

    it("stops, terminates and images only the instances it tagged", () => {
        for (const action of ["ec2:TerminateInstances", "ec2:StopInstances"]) {
            const holders = statements.filter((s) => asList(s.Action).includes(action));
            assert.ok(holders.length > 0);
            for (const s of holders) assert.ok(JSON.stringify(s.Condition).includes("aws:ResourceTag/vllm-ci:purpose"), `${action} in ${s.Sid}`);
        }
    });

    it("grants nothing but EC2, Auto Scaling, SSM and PassRole, and no write on *", () => {
        const services = new Set(statements.flatMap((s) => asList(s.Action).map((a) => a.split(":")[0])));
        assert.deepEqual([...services].sort(), ["autoscaling", "ec2", "iam", "ssm"]);
        const wild = statements.filter((s) => asList(s.Resource).includes("*")).flatMap((s) => asList(s.Action).filter(mayWrite));
        assert.deepEqual(wild, []);
    });
});
