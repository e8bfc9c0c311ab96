/**
 * The whole AWS program under mocks, run once per configuration in `before` hooks; the tests
 * assert on the resources it registered.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadCatalog, queuesOf, type Queue } from "../../catalog";
import { ofType, resource, type ProgramRun, type RecordedResource } from "../../plan/harness";
import { loadStackConfig } from "../../plan/stack-config";
import { parameterProblems } from "../../aws/stack-template";
import { MOCK_AMI_ID } from "../../plan/mocks/aws";
import { noPlaintextSecrets } from "../../policy/rules/no-plaintext-secrets";
import { subjectsFromPlan } from "../../policy/from-plan";
import { withConfigReads } from "../support/config-reads";
import {
    CATALOG_FILE,
    asList,
    editedCatalogText,
    ignoredChanges,
    mayWrite,
    realTemplateRules,
    runAwsProd,
    statementsOf,
    writeTempCatalog,
    writesReaching,
    TEMPLATE_VERSIONS,
} from "./helpers";

const STACK = "aws:cloudformation/stack:Stack";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ACCOUNT = "936637512419";
const SENTINEL = "sentinel-secret-value-4f1c9e";

const catalog = loadCatalog(CATALOG_FILE);
const awsQueues = queuesOf(catalog, "aws");
const stackOf = (run: ProgramRun, queue: Queue): RecordedResource => resource(run, STACK, queue.name);
const parametersOf = (stack: RecordedResource) => stack.inputs.parameters as Record<string, string>;

/** The queue whose CloudFormation stack a role policy's `role` comes from. */
function queueOfRolePolicy(run: ProgramRun, policy: RecordedResource): string | undefined {
    const sources = policy.propertyDependencies.role ?? [];
    const stack = ofType(run, STACK).find((s) => sources.includes(s.urn));
    return stack ? parametersOf(stack).BuildkiteQueue : undefined;
}

describe("AWS fleet (aws-prod under mocks)", function () {
    this.timeout(60000);
    const runs = new Map<string, ProgramRun>();
    let run: ProgramRun;
    let configRead: Set<string>;

    before(async () => {
        const secrets = Object.fromEntries(loadStackConfig("aws-prod").secretKeys.map((key) => [key, SENTINEL]));
        ({ result: run, keys: configRead } = await withConfigReads(() => runAwsProd({}, secrets)));
        runs.set("6.21.0", run);
        runs.set("6.71.1", await runAwsProd({ elasticStackVersion: "6.71.1" }));
    });

    describe("queues", () => {
        it("deploys one Elastic CI Stack per AWS queue of the catalog, named bk-<queue>", () => {
            const stacks = ofType(run, STACK);
            assert.deepEqual(stacks.map((s) => parametersOf(s).BuildkiteQueue).sort(), awsQueues.map((q) => q.name).sort());
            for (const queue of awsQueues) {
                const stack = stackOf(run, queue);
                assert.equal(stack.inputs.name, `bk-${queue.name.replace(/_/g, "-")}`);
                assert.equal(stack.parent, `ci:aws:ElasticStackQueue::${queue.name}`);
                assert.equal(stack.provider, `pulumi:providers:aws::aws-${queue.region}`);
                assert.deepEqual(stack.inputs.capabilities, ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]);
            }
        });

        it("takes the template of the configured stack version", () => {
            for (const [version, versionRun] of runs) {
                for (const stack of ofType(versionRun, STACK)) {
                    assert.equal(stack.inputs.templateUrl, `https://s3.amazonaws.com/buildkite-aws-stack/v${version}/aws-stack.yml`);
                }
            }
        });

        it("ignores the tag AWS adds to stacks by itself", () => {
            for (const stack of ofType(run, STACK)) {
                assert.deepEqual(ignoredChanges.get(`${STACK}::${stack.name}`), ['tags["AppManagerCFNStackKey"]'], stack.name);
            }
        });

        for (const version of TEMPLATE_VERSIONS) {
            it(`passes every registered stack's parameters, all strings, to the real v${version} template`, () => {
                const rules = realTemplateRules(version);
                for (const stack of ofType(runs.get(version)!, STACK)) {
                    const parameters = parametersOf(stack);
                    for (const [name, value] of Object.entries(parameters)) assert.equal(typeof value, "string", `${stack.name}: ${name}`);
                    assert.deepEqual(parameterProblems(rules, stack.name, parameters), []);
                }
            });
        }

        it("launches each queue into its region's VPC, four subnets and agents' security group", () => {
            for (const queue of awsQueues) {
                const parameters = parametersOf(stackOf(run, queue));
                const network = `network-${queue.region}`;
                assert.equal(parameters.VpcId, `${network}-vpc-id`);
                assert.equal(parameters.SecurityGroupIds, `${network}-agents-id`);
                assert.deepEqual(parameters.Subnets.split(","), ["a", "b", "c", "d"].map((zone) => `${network}-${queue.region}${zone}-id`));
            }
        });

        it("reads agent tokens from SSM by path only", () => {
            for (const queue of awsQueues) {
                const parameters = parametersOf(stackOf(run, queue));
                assert.equal(parameters.BuildkiteAgentTokenParameterStorePath, catalog.buildkiteClusters[queue.cluster as string].ssmTokenParameter);
                assert.equal(parameters.BuildkiteAgentToken, undefined);
            }
            assert.deepEqual(run.outputs.agentTokenParameters, {
                "us-east-1": ["/bk_agent_token_cluster_ci_us_east_1", "/bk_agent_token_cluster_release"],
                "us-west-2": ["/bk_agent_token_cluster_ci"],
            });
        });
    });

    describe("trust boundary", () => {
        const premerge = awsQueues.filter((q) => q.stage === "premerge");
        const protectedArns = [
            `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`,
            `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`,
            `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`,
            "arn:aws:s3:::vllm-wheels/nightly/vllm.whl",
            "arn:aws:s3:::vllm-wheels-dev/dev/vllm.whl",
            "arn:aws:s3:::vllm-build-sccache/sccache/object",
        ];

        it("attaches exactly one stage policy to every queue's instance role", () => {
            for (const queue of awsQueues) {
                const policies = ofType(run, ROLE_POLICY).filter((p) => queueOfRolePolicy(run, p) === queue.name);
                const stagePolicies = policies.filter((p) => String(p.inputs.name).startsWith("vllm-ci-") && p.inputs.name !== "vllm-ci-warm-cache-ami-build");
                assert.deepEqual(stagePolicies.map((p) => p.inputs.name), [`vllm-ci-${queue.stage}-access`], queue.name);
                assert.equal(policies[0].inputs.role, `bk-${queue.name.replace(/_/g, "-")}-Role`, "the role is the stack's InstanceRoleName output");
            }
        });

        it("gives no premerge queue a write on postmerge or release artifacts", () => {
            assert.ok(premerge.length >= 8, "the GPU and CPU premerge queues are all checked");
            for (const queue of premerge) {
                const policies = ofType(run, ROLE_POLICY).filter((p) => queueOfRolePolicy(run, p) === queue.name);
                assert.ok(policies.length > 0, `${queue.name} has a policy`);
                for (const policy of policies) assert.deepEqual(writesReaching(policy.inputs.policy, protectedArns), [], `${queue.name}: ${policy.name}`);
                const parameters = parametersOf(stackOf(run, queue));
                assert.equal(parameters.ECRAccessPolicy, "readonly", `${queue.name} may only pull from ECR`);
                assert.equal(parameters.ManagedPolicyARNs, undefined);
            }
        });

        it("lets postmerge and release queues write what their stage publishes", () => {
            const postmerge = ofType(run, ROLE_POLICY).find((p) => queueOfRolePolicy(run, p) === "cpu_queue_postmerge")!;
            assert.ok(writesReaching(postmerge.inputs.policy, [`arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`]).length > 0);
            const release = ofType(run, ROLE_POLICY).find((p) => queueOfRolePolicy(run, p) === "cpu_queue_release")!;
            assert.ok(writesReaching(release.inputs.policy, [`arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`]).length > 0);
            assert.deepEqual(writesReaching(release.inputs.policy, [`arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`]), []);
        });

        it("never grants a write action on *", () => {
            for (const policy of ofType(run, ROLE_POLICY)) {
                for (const statement of statementsOf(policy.inputs.policy)) {
                    if (!asList(statement.Resource).includes("*")) continue;
                    assert.deepEqual(asList(statement.Action).filter(mayWrite), [], `${policy.name}: ${statement.Sid}`);
                }
            }
        });
    });

    describe("around the queues", () => {
        it("builds one VPC per region: 10.0.0.0/16, DNS hostnames, four public /18s over four zones, no NAT", () => {
            const vpcs = ofType(run, "aws:ec2/vpc:Vpc");
            assert.deepEqual(vpcs.map((v) => v.provider).sort(), ["pulumi:providers:aws::aws-us-east-1", "pulumi:providers:aws::aws-us-west-2"]);
            for (const vpc of vpcs) {
                assert.equal(vpc.inputs.cidrBlock, "10.0.0.0/16");
                assert.equal(vpc.inputs.enableDnsHostnames, true);
                const subnets = ofType(run, "aws:ec2/subnet:Subnet").filter((s) => s.parent === vpc.parent);
                assert.equal(subnets.length, 4);
                assert.equal(new Set(subnets.map((s) => s.inputs.availabilityZone)).size, 4);
                assert.deepEqual(subnets.map((s) => s.inputs.cidrBlock).sort(), ["10.0.0.0/18", "10.0.128.0/18", "10.0.192.0/18", "10.0.64.0/18"]);
                for (const subnet of subnets) assert.equal(subnet.inputs.mapPublicIpOnLaunch, true);
                const routes = ofType(run, "aws:ec2/routeTable:RouteTable").find((r) => r.parent === vpc.parent)!;
                assert.deepEqual((routes.inputs.routes as { cidrBlock: string }[]).map((r) => r.cidrBlock), ["0.0.0.0/0"]);
                assert.equal(ofType(run, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((a) => a.parent === vpc.parent).length, 4);
            }
            assert.deepEqual(ofType(run, "aws:ec2/natGateway:NatGateway"), []);
        });

        it("opens the model-weights file system to NFS from the VPC only", () => {
            const group = resource(run, "aws:ec2/securityGroup:SecurityGroup", "network-us-west-2-model-weights");
            const ingress = group.inputs.ingress as { protocol: string; fromPort: number; toPort: number; cidrBlocks: string[] }[];
            assert.deepEqual(ingress.map((r) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks]), [["tcp", 2049, 2049, ["10.0.0.0/16"]]]);
            assert.equal(group.inputs.egress, undefined);
        });

        it("keeps the BuildKit caches in us-east-1 and expires their images 14 days after push", () => {
            const repositories = ofType(run, "aws:ecr/repository:Repository");
            assert.deepEqual(repositories.map((r) => r.inputs.name).sort(), ["vllm-ci-postmerge-cache", "vllm-ci-test-cache"]);
            for (const repository of repositories) {
                assert.equal(repository.provider, "pulumi:providers:aws::aws-us-east-1");
                const lifecycle = ofType(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy").find((l) => l.inputs.repository === repository.inputs.name)!;
                assert.ok((lifecycle.propertyDependencies.repository ?? []).includes(repository.urn), "the policy follows the repository");
                const rules = JSON.parse(String(lifecycle.inputs.policy)).rules;
                assert.equal(rules.length, 1);
                assert.deepEqual(rules[0].selection, { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 });
                assert.deepEqual(rules[0].action, { type: "expire" });
            }
        });

        it("blocks public access to the wheels and compiler-cache buckets, encrypts them and enforces ownership", () => {
            const buckets = ofType(run, "aws:s3/bucket:Bucket");
            assert.deepEqual(buckets.map((b) => b.inputs.bucket).sort(), ["vllm-build-sccache", "vllm-wheels", "vllm-wheels-dev"]);
            const attached = (type: string, bucket: RecordedResource) =>
                ofType(run, type).filter((r) => (r.propertyDependencies.bucket ?? []).includes(bucket.urn));
            for (const bucket of buckets) {
                assert.equal(bucket.provider, "pulumi:providers:aws::aws-us-west-2");
                const [block] = attached("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket);
                for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block.inputs[flag], true, `${bucket.name}: ${flag}`);
                const [encryption] = attached("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket);
                assert.equal((encryption.inputs.rules as { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }[])[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
                const [ownership] = attached("aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket);
                assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
            }
        });

        it("creates the CI secrets empty, replicated to the other queue region", () => {
            const secrets = ofType(run, "aws:secretsmanager/secret:Secret");
            assert.deepEqual(secrets.map((s) => s.inputs.name).sort(), ["ci/buildkite-analytics-token", "ci/hf-token"]);
            for (const secret of secrets) {
                assert.equal(secret.provider, "pulumi:providers:aws::aws-us-west-2");
                assert.deepEqual(secret.inputs.replicas, [{ region: "us-east-1" }]);
            }
            assert.deepEqual(ofType(run, "aws:secretsmanager/secretVersion:SecretVersion"), []);
        });

        it("reads no secret config, so no secret value can reach a resource or output", () => {
            const secretKeys = loadStackConfig("aws-prod").secretKeys;
            assert.ok(secretKeys.length > 0, "the project declares secrets (of the GCP stack)");
            assert.ok(configRead.has("ci:awsAccountId") && configRead.has("ci:cloud"), `the reads are recorded: ${[...configRead].join(", ")}`);
            assert.deepEqual([...configRead].filter((key) => secretKeys.includes(key)), [], "AWS agents read their tokens from SSM and Secrets Manager at boot");
            const everything = JSON.stringify([run.resources.map((r) => r.rawInputs), run.outputs]);
            assert.ok(!everything.includes(SENTINEL));
            for (const parameter of ofType(run, "aws:ssm/parameter:Parameter")) assert.equal(parameter.inputs.type, "String", "no SecureString values pass through the program");
        });

        it("passes the plaintext-secret rule, which catches a token put in a stack parameter", () => {
            const subjects = subjectsFromPlan(run.resources);
            assert.deepEqual(noPlaintextSecrets.check(subjects), []);
            const leaked = subjects.map((s) =>
                s.type === STACK && s.name === "gpu_1_queue" ? { ...s, props: { ...s.props, parameters: { ...s.props.parameters, BuildkiteAgentToken: "bkua_0123456789abcdefghij0123456789" } } } : s,
            );
            assert.deepEqual(noPlaintextSecrets.check(leaked).map((v) => v.resource), [`${STACK}::gpu_1_queue`]);
        });
    });

    describe("warm-cache AMI", () => {
        const build = awsQueues.find((q) => q.aws?.buildsAmi)!;
        const targets = build.aws!.rollsAmiTo!;

        it("creates the AMI parameter with a seed and leaves its later values to the AMI pipeline", () => {
            const parameter = ofType(run, "aws:ssm/parameter:Parameter").find((p) => p.inputs.name === "/buildkite/cpu-build-ami/us-east-1")!;
            assert.equal(parameter.provider, "pulumi:providers:aws::aws-us-east-1");
            assert.equal(parameter.inputs.dataType, "aws:ec2:image");
            assert.equal(parameter.inputs.insecureValue, MOCK_AMI_ID, "seeded with the looked-up Elastic CI Stack AMI");
            assert.deepEqual(ignoredChanges.get(`aws:ssm/parameter:Parameter::${parameter.name}`), ["insecureValue"]);
        });

        it("publishes the builder's security group and subnet in SSM", () => {
            const group = ofType(run, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name.endsWith("-builder"))!;
            const byName = (name: string) => ofType(run, "aws:ssm/parameter:Parameter").find((p) => p.inputs.name === name)!;
            assert.equal(byName(`/buildkite/ami-build/${build.name}/security-group-id`).inputs.insecureValue, `${group.name}-id`);
            assert.equal(byName(`/buildkite/ami-build/${build.name}/subnet-id`).inputs.insecureValue, "network-us-east-1-us-east-1a-id");
            assert.deepEqual((group.inputs.ingress as { cidrBlocks: string[]; fromPort: number }[]).map((r) => [r.fromPort, r.cidrBlocks]), [[22, ["10.0.0.0/16"]]]);
        });

        it("lets only the AMI-build queue publish the AMI and roll it into the queues that boot it", () => {
            const rolling = ofType(run, ROLE_POLICY).filter((p) => statementsOf(p.inputs.policy).some((s) => asList(s.Action).includes("autoscaling:UpdateAutoScalingGroup")));
            assert.deepEqual(rolling.map((p) => queueOfRolePolicy(run, p)), [build.name]);
            const asgs = statementsOf(rolling[0].inputs.policy).find((s) => asList(s.Action).includes("autoscaling:UpdateAutoScalingGroup"))!;
            assert.deepEqual(
                asList(asgs.Resource),
                targets.map((q) => `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/bk-${q.replace(/_/g, "-")}-AgentAutoScaleGroup-MOCK`),
            );
            const putters = ofType(run, ROLE_POLICY).filter((p) => statementsOf(p.inputs.policy).some((s) => asList(s.Action).includes("ssm:PutParameter")));
            assert.deepEqual(putters.map((p) => queueOfRolePolicy(run, p)), [build.name]);
        });
    });

    describe("providers and names", () => {
        it("uses one explicit provider per region and no default provider", () => {
            const providers = run.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
            assert.deepEqual(providers.map((p) => [p.name, p.inputs.region]).sort(), [["aws-us-east-1", "us-east-1"], ["aws-us-west-2", "us-west-2"]]);
            for (const provider of providers) assert.deepEqual(JSON.parse(String(provider.inputs.allowedAccountIds)), [ACCOUNT]);
            for (const custom of run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:"))) {
                assert.match(custom.provider ?? "", /^pulumi:providers:aws::aws-us-(east-1|west-2)$/, `${custom.type}::${custom.name}`);
            }
        });

        it("changes only the renamed queue's resources when a queue is renamed", async () => {
            const renamed = await runAwsProd({ catalogPath: writeTempCatalog(editedCatalogText((text) => text.replace("- name: cpu_queue_release\n", "- name: cpu_queue_release_v2\n"))) });
            const before = new Set(run.resources.map((r) => r.urn));
            const after = new Set(renamed.resources.map((r) => r.urn));
            const gone = [...before].filter((urn) => !after.has(urn)).map((urn) => urn.split("::").pop());
            const added = [...after].filter((urn) => !before.has(urn)).map((urn) => urn.split("::").pop());
            assert.deepEqual(gone.sort(), ["cpu_queue_release", "cpu_queue_release", "cpu_queue_release-instance-access"]);
            assert.deepEqual(added.sort(), ["cpu_queue_release_v2", "cpu_queue_release_v2", "cpu_queue_release_v2-instance-access"]);
        });
    });

    describe("bad input", () => {
        it("stops at a catalog value the template rejects, in one line naming queue, parameter and allowed values", async () => {
            const bad = writeTempCatalog(
                editedCatalogText((text) => text.replace("aws: { instanceStorage: true, bootstrapScript: true }", 'aws: { instanceStorage: true, bootstrapScript: true, parameters: { EnableECRPlugin: "on" } }')),
            );
            await assert.rejects(runAwsProd({ catalogPath: bad }), (error: Error) => {
                assert.ok(error instanceof pulumi.RunError, String(error));
                assert.match(error.message, /queue "gpu_1_queue": Elastic CI Stack v6\.21\.0 parameter EnableECRPlugin: "on" is not one of the allowed values "true", "false"/);
                assert.ok(!error.message.includes("\n"));
                return true;
            });
        });

        it("stops at a stack version the program was not checked against", async () => {
            await assert.rejects(runAwsProd({ elasticStackVersion: "6.30.0" }), (error: Error) => {
                assert.ok(error instanceof pulumi.RunError, String(error));
                assert.match(error.message, /config ci:elasticStackVersion: 6\.30\.0 is not a version this program was checked against \(checked: 6\.21\.0, 6\.71\.1;/);
                return true;
            });
        });

        it("stops at a bad setting, naming the stack file and key", async () => {
            await assert.rejects(runAwsProd({ awsAccountId: "12345" }), (error: Error) => {
                assert.ok(error instanceof pulumi.RunError, String(error));
                assert.match(error.message, /^Pulumi\.aws-prod\.yaml: config ci:awsAccountId: must be a 12-digit AWS account id/);
                return true;
            });
        });
    });
});
