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
import { accessProfileOf } from "../../aws/iam-policies";
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
        it("deploys one Elastic CI Stack per AWS queue of the catalog, named bk-<queue> or as it exists", () => {
            const stacks = ofType(run, STACK);
            assert.deepEqual(stacks.map((s) => parametersOf(s).BuildkiteQueue).sort(), awsQueues.map((q) => q.name).sort());
            for (const queue of awsQueues) {
                const stack = stackOf(run, queue);
                assert.equal(stack.inputs.name, queue.aws?.stackName ?? `bk-${queue.name.replace(/_/g, "-")}`);
                assert.equal(stack.protect, true, "stacks are protected");
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
                assert.deepEqual(ignoredChanges.get(`${STACK}::${stack.name}`), ['tags["AppManagerCFNStackKey"]', 'tagsAll["AppManagerCFNStackKey"]'], stack.name);
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

        it("launches each queue into its region's VPC, four subnets and the VPC's default security group (as today)", () => {
            for (const queue of awsQueues) {
                const parameters = parametersOf(stackOf(run, queue));
                const network = `network-${queue.region}`;
                assert.equal(parameters.VpcId, `${network}-vpc-id`);
                assert.equal(parameters.SecurityGroupIds, `${network}-vpc-default-security-group`);
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
                "us-west-2": ["/bk_agent_token_cluster_ci", "/bk_agent_token_cluster_perf_benchmark"],
            });
        });
    });

    describe("trust boundary", () => {
        const premerge = awsQueues.filter((q) => q.stage === "premerge");
        const protectedArns = [
            `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-ci-postmerge-repo`,
            `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-release-repo`,
            `arn:aws:ecr-public::${ACCOUNT}:repository/vllm-omni-release-repo`,
            `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/vllm-ci-postmerge-cache`,
            "arn:aws:s3:::vllm-wheels/nightly/vllm.whl",
            "arn:aws:s3:::vllm-wheels-dev/dev/vllm.whl",
            "arn:aws:s3:::vllm-build-sccache/sccache/object",
        ];

        it("attaches exactly one access policy to every queue's instance role", () => {
            for (const queue of awsQueues) {
                const policies = ofType(run, ROLE_POLICY).filter((p) => queueOfRolePolicy(run, p) === queue.name);
                assert.deepEqual(policies.map((p) => p.inputs.name), [`vllm-ci-${accessProfileOf(catalog, queue)}-access`], queue.name);
                assert.equal(policies[0].inputs.role, `${stackOf(run, queue).inputs.name}-Role`, "the role is the stack's InstanceRoleName output");
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
            for (const repository of ["vllm-release-repo", "vllm-omni-release-repo", "vllm-cpu-release-repo", "vllm-arm64-cpu-release-repo"]) {
                assert.ok(writesReaching(release.inputs.policy, [`arn:aws:ecr-public::${ACCOUNT}:repository/${repository}`]).length > 0, repository);
                assert.ok(writesReaching(postmerge.inputs.policy, [`arn:aws:ecr-public::${ACCOUNT}:repository/${repository}`]).length > 0, `postmerge pushes ${repository} today`);
            }
            assert.ok(writesReaching(release.inputs.policy, ["arn:aws:s3:::vllm-build-sccache/x", "arn:aws:s3:::vllm-wheels-dev/x"]).length > 0, "release writes sccache and dev wheels today");
        });

        it("never grants a write action on *, but the AMI build's rollout as today (launch-template versions, group updates)", () => {
            const wild: string[] = [];
            for (const policy of ofType(run, ROLE_POLICY)) {
                for (const statement of statementsOf(policy.inputs.policy)) {
                    if (!asList(statement.Resource).includes("*")) continue;
                    wild.push(...asList(statement.Action).filter(mayWrite).map((action) => `${policy.inputs.name}: ${action}`));
                }
            }
            assert.deepEqual(wild, ["vllm-ci-ami-build-access: ec2:CreateLaunchTemplateVersion", "vllm-ci-ami-build-access: autoscaling:UpdateAutoScalingGroup"]);
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
                const table = ofType(run, "aws:ec2/routeTable:RouteTable").find((r) => r.parent === vpc.parent)!;
                assert.equal(table.inputs.routes, undefined, "routes are their own resources, as in Terraform");
                const routes = ofType(run, "aws:ec2/route:Route").filter((r) => (r.propertyDependencies.routeTableId ?? []).includes(table.urn));
                assert.deepEqual(routes.map((r) => r.inputs.destinationCidrBlock), ["0.0.0.0/0"]);
                for (const tagged of [vpc, table, ...subnets]) assert.match(String((tagged.inputs.tags as { Name: string }).Name), /^vLLM CI VPC( us-east-1)?$/);
                assert.equal(ofType(run, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((a) => a.parent === vpc.parent).length, 4);
            }
            assert.deepEqual(ofType(run, "aws:ec2/natGateway:NatGateway"), []);
        });

        it("keeps the model-weights group as it is: NFS from the VPC, Lustre 988 and 1018-1023 with the agents", () => {
            const group = resource(run, "aws:ec2/securityGroup:SecurityGroup", "network-us-west-2-model-weights");
            assert.equal(group.inputs.name, "ci-model-weights-security-group");
            type Rule = { protocol: string; fromPort: number; toPort: number; cidrBlocks?: string[]; securityGroups?: string[]; self?: boolean };
            const rules = (key: string) => (group.inputs[key] as Rule[]).map((r) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks ?? r.securityGroups, r.self ?? false]);
            const lustre = [
                ["tcp", 988, 988, ["network-us-west-2-vpc-default-security-group"], true],
                ["tcp", 1018, 1023, ["network-us-west-2-vpc-default-security-group"], true],
            ];
            assert.deepEqual(rules("ingress"), [["tcp", 2049, 2049, ["10.0.0.0/16"], false], ...lustre]);
            assert.deepEqual(rules("egress"), [["-1", 0, 0, ["0.0.0.0/0"], false], ...lustre]);
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
                assert.deepEqual(rules[0].selection, { countNumber: 14, countType: "sinceImagePushed", countUnit: "days", tagStatus: "any" });
                assert.equal(repository.retainOnDelete, true);
                assert.deepEqual(rules[0].action, { type: "expire" });
            }
        });

        it("keeps the artifact buckets' live access settings by default, and declares them private when told", async () => {
            const artifacts = (r: ProgramRun) => ofType(r, "aws:s3/bucket:Bucket").filter((b) => b.inputs.bucket !== "vllm-ci-bootstrap-bundles");
            assert.deepEqual(artifacts(run).map((b) => b.inputs.bucket).sort(), ["vllm-build-sccache", "vllm-wheels", "vllm-wheels-dev"]);
            const attached = (r: ProgramRun, type: string, bucket: RecordedResource) => ofType(r, type).filter((x) => (x.propertyDependencies.bucket ?? []).includes(bucket.urn));
            for (const bucket of artifacts(run)) {
                assert.equal(bucket.retainOnDelete, true);
                assert.deepEqual(attached(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket), [], `${bucket.name}: nothing declared, nothing changed`);
            }
            const privateRun = await runAwsProd({ awsBucketAccess: JSON.stringify({ "vllm-build-sccache": "private" }) });
            for (const bucket of artifacts(privateRun).filter((b) => b.inputs.bucket === "vllm-build-sccache")) {
                const attachedHere = (type: string) => attached(privateRun, type, bucket);
                assert.equal(bucket.provider, "pulumi:providers:aws::aws-us-west-2");
                const [block] = attachedHere("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
                for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block.inputs[flag], true, `${bucket.name}: ${flag}`);
                const [encryption] = attachedHere("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
                assert.equal((encryption.inputs.rules as { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }[])[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
                const [ownership] = attachedHere("aws:s3/bucketOwnershipControls:BucketOwnershipControls");
                assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
            }
        });

        it("keeps the CI secrets' names, without value or replica, in the home region", () => {
            const secrets = ofType(run, "aws:secretsmanager/secret:Secret");
            assert.deepEqual(secrets.map((s) => s.inputs.name).sort(), ["bk_analytics_token", "ci_hf_token"]);
            for (const secret of secrets) {
                assert.equal(secret.provider, "pulumi:providers:aws::aws-us-west-2");
                assert.equal(secret.inputs.replicas, undefined);
                assert.equal(secret.retainOnDelete, true);
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
            assert.equal(parameter.inputs.dataType, undefined, "text, as it exists");
            assert.equal(parameter.inputs.insecureValue, MOCK_AMI_ID, "seeded with the looked-up Elastic CI Stack AMI");
            assert.deepEqual(ignoredChanges.get(`aws:ssm/parameter:Parameter::${parameter.name}`), ["insecureValue", "value"]);
            assert.equal(parameter.retainOnDelete, true);
            for (const target of targets) {
                const stack = resource(run, STACK, target);
                assert.equal((stack.inputs.parameters as Record<string, string>).ImageIdParameter, parameter.inputs.name);
                assert.ok((stack.dependsOn ?? []).includes(parameter.urn), `${target} waits for the parameter it boots from`);
            }
        });

        it("publishes the builder's security group and subnet in SSM", () => {
            const group = ofType(run, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name.endsWith("-builder"))!;
            assert.equal(group.inputs.name, "packer-build-sg");
            const byName = (name: string) => ofType(run, "aws:ssm/parameter:Parameter").find((p) => p.inputs.name === name)!;
            // The names rebuild-cpu-ami.yml reads (SSM_PARAM_SECURITY_GROUP, SSM_PARAM_SUBNET).
            assert.equal(byName("/buildkite/packer/security-group-id").rawInputs.value, `${group.name}-id`);
            assert.equal(byName("/buildkite/packer/subnet-id").rawInputs.value, "network-us-east-1-us-east-1a-id");
            assert.deepEqual((group.inputs.ingress as { cidrBlocks: string[]; fromPort: number }[]).map((r) => [r.fromPort, r.cidrBlocks]), [[22, ["10.0.0.0/16"]]]);
        });

        it("lets only the AMI-build queue publish the AMI and roll it into the queues that boot it", () => {
            const rolling = ofType(run, ROLE_POLICY).filter((p) => statementsOf(p.inputs.policy).some((s) => asList(s.Action).includes("autoscaling:UpdateAutoScalingGroup")));
            assert.deepEqual(rolling.map((p) => queueOfRolePolicy(run, p)), [build.name]);
            const pass = statementsOf(rolling[0].inputs.policy).find((s) => asList(s.Action).includes("iam:PassRole"))!;
            assert.deepEqual(asList(pass.Resource), targets.map((q) => `arn:aws:iam::*:role/bk-${q.replace(/_/g, "-")}-*`));
            const putters = ofType(run, ROLE_POLICY).filter((p) => statementsOf(p.inputs.policy).some((s) => asList(s.Action).includes("ssm:PutParameter")));
            assert.deepEqual(putters.map((p) => queueOfRolePolicy(run, p)), [build.name]);
        });
    });

    describe("providers and names", () => {
        it("uses one explicit provider per region and no default provider", () => {
            const providers = run.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
            assert.deepEqual(providers.map((p) => [p.name, p.inputs.region]).sort(), [["aws-us-east-1", "us-east-1"], ["aws-us-west-2", "us-west-2"]]);
            for (const provider of providers) {
                assert.deepEqual(JSON.parse(String(provider.inputs.allowedAccountIds)), [ACCOUNT]);
                assert.equal(provider.inputs.defaultTags, undefined, "no default tags: every adopted resource would change");
            }
            for (const custom of run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:"))) {
                assert.match(custom.provider ?? "", /^pulumi:providers:aws::aws-us-(east-1|west-2)$/, `${custom.type}::${custom.name}`);
            }
        });

        it("changes only the renamed queue's resources when a queue is renamed", async () => {
            const renamed = await runAwsProd({ catalogPath: writeTempCatalog(editedCatalogText((text) => text.replace("- name: small_cpu_queue_postmerge\n", "- name: small_cpu_queue_postmerge_v2\n"))) });
            const before = new Set(run.resources.map((r) => r.urn));
            const after = new Set(renamed.resources.map((r) => r.urn));
            // The queue's own boot script names it, so its object is new too.
            const gone = [...before].filter((urn) => !after.has(urn)).map((urn) => urn.split("::").pop()!.replace(/^bundles-[0-9a-f]{16}$/, "bundles-<its boot script>"));
            const added = [...after].filter((urn) => !before.has(urn)).map((urn) => urn.split("::").pop()!.replace(/^bundles-[0-9a-f]{16}$/, "bundles-<its boot script>"));
            assert.deepEqual(gone.sort(), ["bundles-<its boot script>", "small_cpu_queue_postmerge", "small_cpu_queue_postmerge", "small_cpu_queue_postmerge-instance-access"]);
            assert.deepEqual(added.sort(), ["bundles-<its boot script>", "small_cpu_queue_postmerge_v2", "small_cpu_queue_postmerge_v2", "small_cpu_queue_postmerge_v2-instance-access"]);
        });
    });

    describe("bad input", () => {
        it("stops at a catalog value the template rejects, in one line naming queue, parameter and allowed values", async () => {
            const bad = writeTempCatalog(
                editedCatalogText((text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", 'imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, parameters: { EnableECRPlugin: "on" } }')),
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
