import { strict as assert } from "assert";
import { loadCatalog } from "../../catalog";
import { ecrCacheExpiry, expiresImages } from "../../policy/rules/ecr-cache-expiry";
import { elasticStackTokenFromSsm } from "../../policy/rules/elastic-stack-token-from-ssm";
import { gkeNoDefaultServiceAccount } from "../../policy/rules/gke-no-default-service-account";
import { noPlaintextSecrets } from "../../policy/rules/no-plaintext-secrets";
import { forbiddenGrants, isWriteAction, premergeNoReleaseWriteRule, reachesProtected } from "../../policy/rules/premerge-no-release-write";
import { s3PublicAccessBlocked, s3PublicAccessBlockedRule } from "../../policy/rules/s3-public-access-blocked";
import { UNKNOWN_VALUE, type Subject } from "../../policy/subject";

function subject(type: string, name: string, props: Record<string, any>, propertyDependencies: Record<string, string[]> = {}): Subject {
    return { type, name, ref: `${type}::${name}`, props, propertyDependencies };
}

describe("policy rules on hand-made resources", () => {
    it("no-plaintext-secrets: finds token shapes and secret metadata keys, ignores secret stores and references", () => {
        const fine = subject("gcp:tpu/v2Vm:V2Vm", "tpu", {
            metadata: { "startup-script": 'HF_TOKEN="$(gcloud secrets versions access latest --secret=hf-token)"', "ssh-keys": "ubuntu:ssh-ed25519 AAAA" },
        });
        const store = subject("gcp:secretmanager/secretVersion:SecretVersion", "v", { secretData: "hf_abcdefghijklmnopqrstuvwxyz0123456789" });
        assert.deepEqual(noPlaintextSecrets.check([fine, store]), []);
        const leaky = subject("gcp:compute/instanceTemplate:InstanceTemplate", "t", {
            metadata: { "startup-script": "export BUILDKITE_AGENT_TOKEN=abcdef0123456789abcdef", "agent-token": "x" },
        });
        const messages = noPlaintextSecrets.check([leaky]).map((v) => v.message);
        assert.equal(messages.length, 2);
        assert.match(messages[0], /InstanceTemplate::t: input metadata\.startup-script contains a literal token assignment in plain text \[no-plaintext-secrets\]/);
        assert.match(messages[1], /metadata key "agent-token"/);
    });

    it("premerge-no-release-write: classifies actions and ARNs", () => {
        assert.ok(isWriteAction("ecr:PutImage") && isWriteAction("s3:*") && isWriteAction("*") && isWriteAction("s3:Put*"));
        assert.ok(!isWriteAction("s3:GetObject") && !isWriteAction("s3:Get*") && !isWriteAction("ecr:BatchGetImage"));
        assert.ok(reachesProtected("arn:aws:s3:::vllm-wheels/*") && reachesProtected("*") && reachesProtected("arn:aws:s3:::vllm-*"));
        assert.ok(!reachesProtected("arn:aws:ecr:us-east-1:123456789012:repository/vllm-ci-test-cache"));
        const policy = JSON.stringify({
            Statement: [
                { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::vllm-wheels/*" },
                { Effect: "Allow", Action: ["ecr:PutImage"], Resource: "arn:aws:ecr:us-east-1:1:repository/vllm-ci-postmerge-cache" },
            ],
        });
        assert.deepEqual(forbiddenGrants(policy), ["ecr:PutImage on arn:aws:ecr:us-east-1:1:repository/vllm-ci-postmerge-cache"]);
    });

    it("premerge-no-release-write: ties a role policy to its queue through the stack and checks its stage", () => {
        const rule = premergeNoReleaseWriteRule(loadCatalog());
        const stack = (queue: string, access: string) =>
            subject("aws:cloudformation/stack:Stack", `bk-${queue}`, {
                templateUrl: "https://s3.amazonaws.com/buildkite-aws-stack/v6.21.0/aws-stack.yml",
                parameters: { BuildkiteQueue: queue, ECRAccessPolicy: access },
            });
        const write = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::vllm-wheels/*" }] });
        const policyOf = (queue: string) =>
            subject("aws:iam/rolePolicy:RolePolicy", `${queue}-wheels`, { role: UNKNOWN_VALUE, policy: write }, { role: [`aws:cloudformation/stack:Stack::bk-${queue}`] });
        const subjects = [stack("gpu_1_queue", "readonly"), stack("cpu_queue_postmerge", "poweruser"), policyOf("gpu_1_queue"), policyOf("cpu_queue_postmerge")];
        const violations = rule.check(subjects);
        assert.deepEqual(violations.map((v) => v.resource), ["aws:iam/rolePolicy:RolePolicy::gpu_1_queue-wheels"]);
        assert.match(violations[0].message, /premerge queue gpu_1_queue is granted s3:PutObject on arn:aws:s3:::vllm-wheels\/\*/);
        const poweruser = rule.check([stack("small_cpu_queue_premerge", "poweruser")]);
        assert.match(poweruser[0].message, /premerge queue small_cpu_queue_premerge has ECRAccessPolicy poweruser/);
    });

    it("ecr-cache-expiry: needs an expiring lifecycle policy on cache repositories", () => {
        const repo = subject("aws:ecr/repository:Repository", "test-cache", { name: "vllm-ci-test-cache" });
        const expiring = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 }, action: { type: "expire" } }] });
        const lifecycle = subject("aws:ecr/lifecyclePolicy:LifecyclePolicy", "test-cache", { repository: "vllm-ci-test-cache", policy: expiring });
        assert.ok(expiresImages(expiring));
        assert.deepEqual(ecrCacheExpiry.check([repo, lifecycle]), []);
        assert.equal(ecrCacheExpiry.check([repo]).length, 1);
        const keepForever = subject("aws:ecr/lifecyclePolicy:LifecyclePolicy", "test-cache", { repository: "vllm-ci-test-cache", policy: JSON.stringify({ rules: [] }) });
        assert.match(ecrCacheExpiry.check([repo, keepForever])[0].message, /no lifecycle policy that expires images/);
    });

    it("s3-public-access-blocked: all four flags, linked by dependency", () => {
        const bucket = subject("aws:s3/bucket:Bucket", "artifacts", { bucket: "my-artifacts" });
        const flags = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
        const block = (extra: object) =>
            subject("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts", { bucket: UNKNOWN_VALUE, ...flags, ...extra }, { bucket: [bucket.ref] });
        assert.deepEqual(s3PublicAccessBlocked.check([bucket, block({})]), []);
        assert.match(s3PublicAccessBlocked.check([bucket, block({ blockPublicPolicy: false })])[0].message, /leaves blockPublicPolicy off/);
        assert.match(s3PublicAccessBlocked.check([bucket])[0].message, /no public access block/);
    });

    it("s3-public-access-blocked: only the named exceptions, and only as narrow as named", () => {
        const rule = s3PublicAccessBlockedRule({ liveAccess: ["live-bucket"], publicRead: { bundles: ["production", "branches"] } });
        const live = subject("aws:s3/bucket:Bucket", "live", { bucket: "live-bucket" });
        assert.deepEqual(rule.check([live]), [], "a bucket kept as it is live needs no block");
        const bundles = subject("aws:s3/bucket:Bucket", "bundles", { bucket: "bundles" });
        const block = (extra: object) =>
            subject("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bundles", { bucket: "bundles", blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false, ...extra });
        const policy = (statements: object[]) => subject("aws:s3/bucketPolicy:BucketPolicy", "bundles", { bucket: "bundles", policy: JSON.stringify({ Statement: statements }) });
        const read = (prefix: string) => ({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::bundles/${prefix}/*` });
        assert.deepEqual(rule.check([bundles, block({}), policy([read("production"), read("branches")])]), []);
        assert.match(rule.check([bundles])[0].message, /no public access block/, "a public-read bucket still needs its ACLs blocked");
        assert.match(rule.check([bundles, block({ blockPublicAcls: false })])[0].message, /leaves blockPublicAcls off/);
        assert.match(rule.check([bundles, block({}), policy([read("secret-stuff")])])[0].message, /public read of arn:aws:s3:::bundles\/secret-stuff\/\*/);
        assert.match(rule.check([bundles, block({}), policy([{ ...read("production"), Action: ["s3:GetObject", "s3:PutObject"] }])])[0].message, /grants public s3:PutObject/);
        assert.deepEqual(rule.check([bundles, block({}), policy([{ ...read("x"), Principal: { AWS: "arn:aws:iam::1:root" } }])]), [], "a named principal is not public");
        assert.match(s3PublicAccessBlocked.check([live])[0].message, /no public access block/, "the default rule does not know live-bucket");
    });

    it("elastic-stack-token-from-ssm: path required, inline token forbidden", () => {
        const stack = (parameters: object) =>
            subject("aws:cloudformation/stack:Stack", "bk-q", { templateUrl: "https://s3.amazonaws.com/buildkite-aws-stack/v6.21.0/aws-stack.yml", parameters });
        assert.deepEqual(elasticStackTokenFromSsm.check([stack({ BuildkiteAgentTokenParameterStorePath: "/bk_agent_token_cluster_ci" })]), []);
        const messages = elasticStackTokenFromSsm.check([stack({ BuildkiteAgentToken: "abc" })]).map((v) => v.message);
        assert.equal(messages.length, 2);
        assert.match(messages[0], /BuildkiteAgentToken is set inline/);
    });

    it("gke-no-default-service-account: dedicated account or one of ours known later", () => {
        const pool = (serviceAccount: unknown, deps: string[] = []) =>
            subject("gcp:container/nodePool:NodePool", "l4", { nodeConfig: { serviceAccount } }, { nodeConfig: deps });
        const account = subject("gcp:serviceaccount/account:Account", "gke-nodes", { accountId: "gke-nodes" });
        assert.deepEqual(gkeNoDefaultServiceAccount.check([pool("gke-nodes@p.iam.gserviceaccount.com")]), []);
        assert.deepEqual(gkeNoDefaultServiceAccount.check([account, pool(UNKNOWN_VALUE, [account.ref])]), []);
        assert.match(gkeNoDefaultServiceAccount.check([pool("123-compute@developer.gserviceaccount.com")])[0].message, /default compute service account/);
        assert.match(gkeNoDefaultServiceAccount.check([pool(undefined)])[0].message, /sets no service account/);
    });
});
