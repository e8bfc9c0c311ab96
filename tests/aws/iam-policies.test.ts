import { strict as assert } from "assert";
import { parseCatalog } from "../../catalog";
import { accessProfileOf, amiBuildPolicy, capabilitiesPolicy, ACCESS_PROFILES, queueCapabilities, queuePolicy, type PolicyDocument } from "../../aws/iam-policies";
import { readAwsSettings } from "../../aws/settings";
import { asList, mayWrite, statementsOf, writesReaching } from "./helpers";

const ACCOUNT = "111122223333";
const settings = readAwsSettings((key) => ({ awsAccountId: ACCOUNT })[key as "awsAccountId"], "test");
const SECRETS = [`arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:ci_hf_token-AbCdEf`, `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:bk_analytics_token-GhIjKl`];
const ctx = { settings, secretArns: SECRETS };

/** Concrete ARNs of the artifacts only postmerge and release builds write (vLLM's names, written out). */
const POSTMERGE_AND_RELEASE = [
    `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`,
    ...["vllm-release-repo", "vllm-omni-release-repo", "vllm-cpu-release-repo", "vllm-arm64-cpu-release-repo"].map((name) => `arn:aws:ecr-public::${ACCOUNT}:repository/${name}`),
    `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`,
    "arn:aws:s3:::vllm-wheels/nightly/vllm-1.0.0-cp38-abi3-manylinux1_x86_64.whl",
    "arn:aws:s3:::vllm-wheels-dev/abc/vllm.whl",
    "arn:aws:s3:::vllm-build-sccache/cache/a/b/c",
];

const writesOn = (document: PolicyDocument, arn: string) => writesReaching(document, [arn]);

/** A small catalog of its own: one queue per profile. */
const catalog = parseCatalog(
    `
machineTypes: { r6in.large: {}, g6.4xlarge: { accelerator: nvidia-l4, count: 1 } }
buildkiteClusters: { ci: { ssmTokenParameter: /t, gcpSecretId: t } }
defaults: { aws: { region: us-east-1, cluster: ci, machine: { type: r6in.large }, scale: { min: 0, max: 1 } } }
queues:
  - { name: pr_builds, provider: aws, stage: premerge, reachedBy: name, aws: { compilerCache: read } }
  - { name: gpu_tests, provider: aws, stage: premerge, reachedBy: name, machine: { type: g6.4xlarge } }
  - { name: main_builds, provider: aws, stage: postmerge, reachedBy: name, aws: { compilerCache: write, imageIdParameter: /ami } }
  - { name: releases, provider: aws, stage: release, reachedBy: name }
  - { name: ami_builds, provider: aws, stage: postmerge, reachedBy: name, aws: { buildsAmi: true, rollsAmiTo: [main_builds], compilerCache: read } }
devices: { default: { plugin: docker, template: default } }
routing: [{ queue: gpu_tests }]
`,
    "test-catalog.yaml",
);
const queue = (name: string) => catalog.queues.find((q) => q.name === name) as Extract<(typeof catalog.queues)[number], { provider: "aws" }>;

describe("access profiles", () => {
    const premerge = capabilitiesPolicy(ACCESS_PROFILES.premerge, ctx);
    const gpu = capabilitiesPolicy(ACCESS_PROFILES["gpu-test"], ctx);
    const postmerge = capabilitiesPolicy(ACCESS_PROFILES.postmerge, ctx);

    it("follow the catalog: the AMI build, GPU tests, then the stage", () => {
        assert.deepEqual(["pr_builds", "gpu_tests", "main_builds", "releases", "ami_builds"].map((name) => accessProfileOf(catalog, queue(name))), [
            "premerge",
            "gpu-test",
            "postmerge",
            "release",
            "ami-build",
        ]);
        assert.deepEqual(queueCapabilities(catalog, queue("pr_builds")).slice(-1), ["readCompilerCache"]);
        assert.deepEqual(queueCapabilities(catalog, queue("main_builds")).slice(-1), ["writeCompilerCache"]);
        // The profile's capabilities first, then the cache access, if any, and nothing else.
        assert.deepEqual(queueCapabilities(catalog, queue("pr_builds")), [...ACCESS_PROFILES.premerge, "readCompilerCache"]);
        assert.deepEqual(queueCapabilities(catalog, queue("releases")), [...ACCESS_PROFILES.release]);
        assert.deepEqual(queueCapabilities(catalog, queue("gpu_tests")), [...ACCESS_PROFILES["gpu-test"]]);
    });

    it("give premerge and GPU tests no write on any postmerge or release artifact", () => {
        assert.deepEqual(writesReaching(premerge, POSTMERGE_AND_RELEASE), []);
        assert.deepEqual(writesReaching(gpu, POSTMERGE_AND_RELEASE), []);
        assert.deepEqual(writesReaching(queuePolicy(catalog, queue("pr_builds"), ctx), POSTMERGE_AND_RELEASE), [], "compiler-cache reads only");
    });

    it("give premerge what pull requests need: their cache and image, reads of main's cache, the secrets", () => {
        assert.ok(writesOn(premerge, `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-test-cache`).includes(`ecr:PutImage on arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-test-cache`));
        assert.ok(writesOn(premerge, `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-test-repo`).length > 0);
        const reads = statementsOf(premerge).flatMap((s) => asList(s.Resource));
        assert.ok(reads.includes(`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`));
        for (const secret of SECRETS) assert.ok(reads.includes(secret), "secrets by their exact ARNs, in the home region");
    });

    it("give GPU tests pulls and the secrets, and no push at all", () => {
        const writes = statementsOf(gpu).flatMap((s) => asList(s.Action).filter(mayWrite));
        assert.deepEqual(writes, []);
    });

    it("let postmerge and release push every image, write main's cache and the wheels, as they do today", () => {
        for (const arn of POSTMERGE_AND_RELEASE.filter((a) => !a.includes("sccache"))) assert.ok(writesOn(postmerge, arn).length > 0, `postmerge cannot write ${arn}`);
        assert.deepEqual(capabilitiesPolicy(ACCESS_PROFILES.release, ctx), postmerge);
        assert.deepEqual(writesOn(postmerge, "arn:aws:s3:::vllm-build-sccache/x"), [], "the compiler cache is a queue's own field");
        assert.ok(writesOn(queuePolicy(catalog, queue("main_builds"), ctx), "arn:aws:s3:::vllm-build-sccache/x").length > 0);
    });

    it("grant no write action on * in any profile", () => {
        for (const [profile, capabilities] of Object.entries(ACCESS_PROFILES)) {
            const document = capabilitiesPolicy(capabilities, ctx);
            const wild = statementsOf(document).filter((s) => asList(s.Resource).includes("*")).flatMap((s) => asList(s.Action).filter(mayWrite));
            assert.deepEqual(wild, [], profile);
        }
    });

    it("name resources from config", () => {
        const other = readAwsSettings((key) => ({ awsAccountId: "999988887777", awsPostmergeCacheRepository: "other-cache" })[key as "awsAccountId"], "test");
        const document = JSON.stringify(capabilitiesPolicy(ACCESS_PROFILES.postmerge, { settings: other, secretArns: [] }));
        assert.ok(document.includes("arn:aws:ecr:us-east-1:999988887777:repository/other-cache"));
        assert.ok(!document.includes(ACCOUNT));
    });
});

describe("the trust-boundary check itself", () => {
    const grant = (Action: string[], Resource: string[]): PolicyDocument => ({ Version: "2012-10-17", Statement: [{ Sid: "X", Effect: "Allow", Action, Resource }] });

    it("catches a write on a protected artifact, by exact ARN, by glob or by *", () => {
        assert.deepEqual(writesReaching(grant(["s3:PutObject"], ["arn:aws:s3:::vllm-wheels/*"]), POSTMERGE_AND_RELEASE), ["s3:PutObject on arn:aws:s3:::vllm-wheels/*"]);
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
    const args = { region: "us-east-1", amiParameter: "/buildkite/cpu-build-ami/us-east-1", targetStacks: ["bk-a", "bk-b"] };
    const document = amiBuildPolicy(args);
    const statements = statementsOf(document);

    it("is part of the building queue's policy, beside its capabilities, and of no other queue's", () => {
        const sids = (policy: PolicyDocument) => statementsOf(policy).map((statement) => statement.Sid);
        const withBuild = sids(queuePolicy(catalog, queue("ami_builds"), ctx, args));
        for (const sid of sids(document)) assert.ok(withBuild.includes(sid), `${sid} in the AMI queue's policy`);
        for (const sid of sids(capabilitiesPolicy(queueCapabilities(catalog, queue("ami_builds")), ctx))) assert.ok(withBuild.includes(sid), `${sid} kept`);
        assert.ok(!sids(queuePolicy(catalog, queue("main_builds"), ctx)).some((sid) => sids(document).includes(sid)));
    });

    it("writes only the AMI parameter's and the builder parameters' folders, in its region", () => {
        const ssmWrites = statements.flatMap((s) => asList(s.Action).filter((a) => a.startsWith("ssm:") && mayWrite(a)).flatMap(() => asList(s.Resource)));
        assert.deepEqual([...new Set(ssmWrites)], ["arn:aws:ssm:us-east-1:*:parameter/buildkite/cpu-build-ami/*", "arn:aws:ssm:us-east-1:*:parameter/buildkite/packer/*"]);
    });

    it("finds and passes the roles of the named stacks only", () => {
        const describe = statements.find((s) => asList(s.Action).includes("cloudformation:DescribeStackResource"))!;
        assert.deepEqual(asList(describe.Resource), ["arn:aws:cloudformation:us-east-1:*:stack/bk-a/*", "arn:aws:cloudformation:us-east-1:*:stack/bk-b/*"]);
        const pass = statements.find((s) => asList(s.Action).includes("iam:PassRole"))!;
        assert.deepEqual(asList(pass.Resource), ["arn:aws:iam::*:role/bk-a-*", "arn:aws:iam::*:role/bk-b-*"]);
    });

    it("has what the Packer build and the cleanup need: deregister, delete snapshots, deprecate, packer_* key pairs", () => {
        const actions = new Set(statements.flatMap((s) => asList(s.Action)));
        for (const action of ["ec2:RunInstances", "ec2:CreateImage", "ec2:DeregisterImage", "ec2:DeleteSnapshot", "ec2:EnableImageDeprecation", "ec2:CreateKeyPair", "ec2:CreateLaunchTemplateVersion", "autoscaling:UpdateAutoScalingGroup", "ssm:PutParameter"]) {
            assert.ok(actions.has(action), action);
        }
        const keys = statements.find((s) => asList(s.Action).includes("ec2:CreateKeyPair"))!;
        assert.deepEqual(asList(keys.Resource), ["arn:aws:ec2:us-east-1:*:key-pair/packer_*"]);
    });

    it("keeps every EC2 grant in its region", () => {
        const ec2 = statements.flatMap((s) => asList(s.Resource)).filter((r) => r.startsWith("arn:aws:ec2:"));
        assert.ok(ec2.length > 0 && ec2.every((r) => r.startsWith("arn:aws:ec2:us-east-1:")));
    });
});
