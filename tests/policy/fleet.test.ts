/**
 * The policy pack against the real stacks, captured from the offline plan: both pass, and a
 * deliberately broken copy of a real resource fails each rule with a message naming the resource
 * and the rule.
 */
import { strict as assert } from "assert";
import { subjectsFromPlan } from "../../policy/from-plan";
import { FLEET_RULES } from "../../policy/rules";
import { rulesForStack } from "../../policy/stack-rules";
import type { FleetRule, Subject } from "../../policy/subject";
import { sharedPlan } from "../support/plans";

const rule = (name: string): FleetRule => FLEET_RULES.find((r) => r.name === name)!;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe("policy pack on the offline plans", () => {
    let aws: Subject[];
    let gcp: Subject[];
    before(async () => {
        aws = subjectsFromPlan((await sharedPlan("aws-prod")).resources);
        gcp = subjectsFromPlan((await sharedPlan("gcp-prod")).resources);
    });

    /** The stack with one resource replaced by a broken copy. */
    function broken(subjects: Subject[], pick: (s: Subject) => boolean, breakIt: (copy: Subject) => void): { subjects: Subject[]; target: Subject } {
        const target = subjects.find(pick);
        assert.ok(target, "the plan has a resource to break");
        const copy = clone(target);
        breakIt(copy);
        return { subjects: subjects.map((s) => (s === target ? copy : s)), target };
    }

    function expectViolation(ruleName: string, subjects: Subject[], target: Subject, pattern: RegExp): void {
        const violations = rule(ruleName).check(subjects);
        const mine = violations.filter((v) => v.resource === target.ref);
        assert.ok(mine.length > 0, `${ruleName} flags ${target.ref}; got ${JSON.stringify(violations)}`);
        assert.match(mine[0].message, pattern);
        assert.ok(mine[0].message.includes(target.ref) && mine[0].message.includes(`[${ruleName}]`));
    }

    it("both stacks pass every rule", () => {
        for (const [stack, subjects] of [["aws-prod", aws], ["gcp-prod", gcp]] as const) {
            for (const r of rulesForStack(stack)) assert.deepEqual(r.check(subjects), [], `${stack}: ${r.name}`);
        }
    });

    it("the rules have something to look at in each stack", () => {
        const types = (subjects: Subject[]) => new Set(subjects.map((s) => s.type));
        for (const type of ["aws:cloudformation/stack:Stack", "aws:iam/rolePolicy:RolePolicy", "aws:ecr/repository:Repository", "aws:s3/bucket:Bucket"]) {
            assert.ok(types(aws).has(type), type);
        }
        for (const type of ["gcp:container/nodePool:NodePool", "gcp:tpu/v2Vm:V2Vm"]) assert.ok(types(gcp).has(type), type);
    });

    it("no-plaintext-secrets: an HF token pasted into a TPU VM's startup script", () => {
        const { subjects, target } = broken(gcp, (s) => s.type === "gcp:tpu/v2Vm:V2Vm", (copy) => {
            copy.props.metadata = { ...copy.props.metadata, "startup-script": "export HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n" };
        });
        expectViolation("no-plaintext-secrets", subjects, target, /contains a Hugging Face token in plain text/);
    });

    it("no-plaintext-secrets: an agent token as an Elastic CI Stack parameter", () => {
        const { subjects, target } = broken(aws, (s) => s.type === "aws:cloudformation/stack:Stack", (copy) => {
            copy.props.parameters.BuildkiteAgentToken = "bkct_0123456789abcdefghijklmnopqrstuv";
        });
        expectViolation("no-plaintext-secrets", subjects, target, /contains a Buildkite token in plain text/);
    });

    it("premerge-no-release-write: a premerge queue's policy granted a wheels upload", () => {
        const { subjects, target } = broken(aws, (s) => s.name === "gpu_1_queue-instance-access", (copy) => {
            const document = JSON.parse(copy.props.policy);
            document.Statement.push({ Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::vllm-wheels/*"] });
            copy.props.policy = JSON.stringify(document);
        });
        expectViolation("premerge-no-release-write", subjects, target, /premerge queue gpu_1_queue is granted s3:PutObject on arn:aws:s3:::vllm-wheels\/\*/);
    });

    it("premerge-no-release-write: a premerge queue given ECR poweruser", () => {
        const { subjects, target } = broken(aws, (s) => s.type === "aws:cloudformation/stack:Stack" && s.props.parameters?.BuildkiteQueue === "small_cpu_queue_premerge", (copy) => {
            copy.props.parameters.ECRAccessPolicy = "poweruser";
        });
        expectViolation("premerge-no-release-write", subjects, target, /has ECRAccessPolicy poweruser/);
    });

    it("ecr-cache-expiry: a cache repository whose lifecycle policy keeps everything", () => {
        const lifecycle = aws.find((s) => s.type === "aws:ecr/lifecyclePolicy:LifecyclePolicy")!;
        const repository = aws.find((s) => s.type === "aws:ecr/repository:Repository" && s.props.name === lifecycle.props.repository)!;
        const { subjects } = broken(aws, (s) => s === lifecycle, (copy) => {
            copy.props.policy = JSON.stringify({ rules: [] });
        });
        expectViolation("ecr-cache-expiry", subjects, repository, /no lifecycle policy that expires images/);
    });

    it("s3-public-access-blocked: the bundle bucket with public ACLs let in", () => {
        const bucket = aws.find((s) => s.type === "aws:s3/bucket:Bucket" && s.props.bucket === "vllm-ci-bootstrap-bundles")!;
        const { subjects } = broken(aws, (s) => s.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" && (s.propertyDependencies.bucket ?? []).includes(bucket.ref), (copy) => {
            copy.props.ignorePublicAcls = false;
        });
        expectViolation("s3-public-access-blocked", subjects, bucket, /leaves ignorePublicAcls off/);
    });

    it("s3-public-access-blocked: the bundle bucket's policy opening more than its public prefixes", () => {
        const bucket = aws.find((s) => s.type === "aws:s3/bucket:Bucket" && s.props.bucket === "vllm-ci-bootstrap-bundles")!;
        const { subjects } = broken(aws, (s) => s.type === "aws:s3/bucketPolicy:BucketPolicy", (copy) => {
            const policy = JSON.parse(copy.props.policy);
            policy.Statement.push({ Effect: "Allow", Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::vllm-ci-bootstrap-bundles" });
            copy.props.policy = JSON.stringify(policy);
        });
        expectViolation("s3-public-access-blocked", subjects, bucket, /grants public s3:ListBucket/);
    });

    it("elastic-stack-token-from-ssm: a queue without its SSM token path", () => {
        const { subjects, target } = broken(aws, (s) => s.type === "aws:cloudformation/stack:Stack", (copy) => {
            delete copy.props.parameters.BuildkiteAgentTokenParameterStorePath;
        });
        expectViolation("elastic-stack-token-from-ssm", subjects, target, /not an SSM parameter path/);
    });

    it("gke-no-default-service-account: keeps only the adopted L4 pools the catalog names on the default account", () => {
        const stackRule = rulesForStack("gcp-prod").find((r) => r.name === "gke-no-default-service-account")!;
        const l4 = gcp.filter((s) => s.type === "gcp:container/nodePool:NodePool" && /-l4-\d$/.test(String(s.props.name)));
        assert.ok(l4.length > 0);
        for (const pool of l4) assert.equal(pool.props.nodeConfig.serviceAccount, undefined, "adopted pools keep the default account");
        assert.deepEqual(stackRule.check(gcp), []);
        assert.ok(rule("gke-no-default-service-account").check(gcp).length >= l4.length, "without the catalog's exemption they would fail");
    });

    it("gke-no-default-service-account: a pool of ours on the default compute account", () => {
        const { subjects, target } = broken(gcp, (s) => s.type === "gcp:container/nodePool:NodePool" && /-system$/.test(String(s.props.name)), (copy) => {
            copy.props.nodeConfig.serviceAccount = "123456789-compute@developer.gserviceaccount.com";
            copy.propertyDependencies.nodeConfig = [];
        });
        expectViolation("gke-no-default-service-account", subjects, target, /uses the default compute service account/);
        const stackRule = rulesForStack("gcp-prod").find((r) => r.name === "gke-no-default-service-account")!;
        assert.equal(stackRule.check(subjects).filter((v) => v.resource === target.ref).length, 1, "the exemption covers the catalog's pools only");
    });
});
