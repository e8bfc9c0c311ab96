/**
 * Taking over the AWS fleet: the offline plan of aws-prod against the Terraform state of the
 * fleet (the shared fixture) and variants built from it here: a stack deleted, every id changed,
 * a resource added outside the program, a value changed behind Terraform's back.
 *
 * The parity test is the adoption itself: every adopted resource is compared field by field with
 * its Terraform counterpart, and any difference without a reason is `unexplained`, which fails.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { awsAdoption } from "../../adopt/aws";
import { adopt, type AdoptionResult } from "../../adopt/engine";
import { importFileProblems, type ImportFile } from "../../adopt/import-file";
import { renderAdoption, secretLeaks } from "../../adopt/outputs";
import { parseTerraformState, type TerraformState } from "../../adopt/terraform-state";
import { loadCatalog, queuesOf } from "../../catalog";
import type { RecordedResource } from "../../plan/harness";
import { sharedFixture } from "../support/fixtures";
import { sharedPlan } from "../support/plans";

const STATE_FILE = sharedFixture("fixtures", "terraform-state", "aws.tfstate");
const STACK = "aws:cloudformation/stack:Stack";

type RawState = { resources: { mode: string; type: string; name: string; module?: string; instances: { index_key?: string | number; attributes: Record<string, unknown> }[] }[] };

const rawState = (): RawState => JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
const stateOf = (raw: RawState, label = "aws.tfstate"): TerraformState => parseTerraformState(JSON.stringify(raw), label, label);

/** Terraform types whose every instance the program takes over (the "done when"). */
const ADOPTED_TYPES = [
    "aws_cloudformation_stack",
    "aws_vpc",
    "aws_subnet",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_internet_gateway",
    "aws_security_group",
    "aws_ecr_repository",
    "aws_ecr_lifecycle_policy",
    "aws_s3_bucket",
    "aws_secretsmanager_secret",
    "aws_ssm_parameter",
];

describe("adopting the AWS fleet from its Terraform state", function () {
    this.timeout(120000);
    let plan: RecordedResource[];
    let result: AdoptionResult;
    const run = (state: TerraformState) => adopt(plan, [state], awsAdoption("aws-prod"));

    before(async () => {
        plan = (await sharedPlan("aws-prod")).resources;
        result = run(stateOf(rawState()));
    });

    it("explains everything: no unexplained entry, nothing replaced", () => {
        assert.deepEqual(result.report.unexplained, []);
        assert.deepEqual(result.report.replaced, []);
    });

    it("adopts every stack, VPC, subnet, route, ECR repository, bucket, secret and SSM parameter Terraform manages", () => {
        const managed = result.managedInstances.filter((instance) => ADOPTED_TYPES.includes(instance.type));
        const adopted = new Set(result.report.adopted.map((entry) => entry.terraform));
        assert.deepEqual(managed.filter((instance) => !adopted.has(instance.address)).map((instance) => instance.address), []);
        const counts = (type: string) => result.report.adopted.filter((entry) => entry.type === type).length;
        assert.equal(counts(STACK), 16);
        assert.equal(counts("aws:ec2/subnet:Subnet"), 8);
        assert.equal(result.report.adopted.length, 54);
        assert.deepEqual(
            result.report.adopted.filter((entry) => entry.terraform === null).map((entry) => [entry.type, entry.id]),
            [["aws:s3/bucket:Bucket", "vllm-build-sccache"]],
            "the compiler cache exists outside Terraform (its IAM policies name it)",
        );
    });

    it("matches every queue to its live stack, by region and name", () => {
        const catalog = loadCatalog();
        for (const queue of queuesOf(catalog, "aws")) {
            const entry = result.report.adopted.find((e) => e.type === STACK && e.name === queue.name);
            assert.ok(entry, `${queue.name} is adopted`);
            assert.equal(entry.id, queue.aws?.stackName ?? `bk-${queue.name.replace(/_/g, "-")}`);
        }
    });

    it("imports with the ids the SDK documents", () => {
        const id = (type: string, name: string) => result.report.adopted.find((e) => e.type === type && e.name === name)!.id;
        assert.equal(id(STACK, "gpu_1_queue"), "bk-gpu-1-queue-ci");
        assert.equal(id("aws:ec2/route:Route", "network-us-west-2-public-internet"), "rtb-577a94bb5018b80a8_0.0.0.0/0");
        assert.equal(id("aws:ec2/routeTableAssociation:RouteTableAssociation", "network-us-east-1-us-east-1a"), "subnet-b5d3728cf1b128259/rtb-bb553a970081623e1");
        assert.equal(id("aws:secretsmanager/secret:Secret", "hf-token"), "arn:aws:secretsmanager:us-west-2:936637512419:secret:ci_hf_token-315f7c");
        assert.equal(id("aws:ssm/parameter:Parameter", "packer_build_queue-warm-cache-ami-parameter"), "/buildkite/cpu-build-ami/us-east-1");
        assert.equal(id("aws:ecr/lifecyclePolicy:LifecyclePolicy", "pr-build-cache"), "vllm-ci-test-cache");
        assert.equal(id("aws:ec2/securityGroup:SecurityGroup", "network-us-west-2-model-weights"), "sg-05e4f68edc7145756");
    });

    it("lists exactly the deliberate differences, each replacing that queue's autoscaling group with a warning", () => {
        const differences = result.report.differences;
        const byField = (field: string) => differences.filter((d) => d.field === field).map((d) => d.name).sort();
        const catalog = loadCatalog();
        const aws = queuesOf(catalog, "aws");
        assert.deepEqual(byField("parameters.BootstrapScriptUrl"), aws.filter((q) => !q.aws?.bootstrapScript).map((q) => q.name).sort(), "every queue but the GPU ones gets the fleet's boot script");
        assert.deepEqual(byField("parameters.ECRAccessPolicy"), aws.filter((q) => q.stage !== "premerge" || q.name === "bootstrap").filter((q) => !q.aws?.buildsAmi).map((q) => q.name).sort());
        assert.deepEqual([...new Set(differences.map((d) => d.field))].sort(), ["parameters.BootstrapScriptUrl", "parameters.ECRAccessPolicy"]);
        for (const difference of differences) {
            assert.ok(difference.reason.length > 20, `${difference.name} ${difference.field} has a reason`);
            assert.match(difference.effect ?? "", new RegExp(`^replaces the autoscaling group of queue ${difference.name} \\(.+\\): running jobs are cancelled$`));
        }
        assert.deepEqual(differences.filter((d) => d.field === "parameters.ECRAccessPolicy").map((d) => [d.terraform, d.program])[0], ["poweruser", "readonly"]);
    });

    it("leaves the 89 attachments and 14 policies for Terraform to retire and forgets the secret version", () => {
        const byHandover = (handover: string) => result.report.leftInTerraform.filter((entry) => entry.handover === handover).map((entry) => entry.terraform);
        assert.equal(byHandover("retire").filter((a) => a.startsWith("aws_iam_role_policy_attachment.")).length, 89);
        assert.equal(byHandover("retire").filter((a) => a.startsWith("aws_iam_policy.")).length, 14);
        assert.deepEqual(byHandover("forget"), ["aws_secretsmanager_secret_version.ci_hf_token"]);
        assert.deepEqual(byHandover("keep"), []);
    });

    it("writes an import file Pulumi accepts, naming providers by the engine's URNs, and no secret anywhere", () => {
        const rendered = renderAdoption("aws-prod", plan, result);
        assert.deepEqual(rendered.importProblems, []);
        const file = JSON.parse(rendered.files["aws-prod.import.json"]) as ImportFile;
        assert.deepEqual(importFileProblems(file), []);
        assert.deepEqual(file.nameTable, {
            "aws-us-west-2": "urn:pulumi:aws-prod::ci::pulumi:providers:aws::aws-us-west-2",
            "aws-us-east-1": "urn:pulumi:aws-prod::ci::pulumi:providers:aws::aws-us-east-1",
        });
        assert.equal(file.resources.filter((entry) => !entry.component).length, 54);
        for (const entry of file.resources.filter((e) => !e.component)) assert.ok(entry.provider && entry.id, `${entry.name}: provider and id`);
        assert.match(rendered.files["aws-prod.import.sh"], /--target 'urn:pulumi:aws-prod::ci::pulumi:providers:aws::aws-us-east-1'/);
        const handover = rendered.files["aws-prod.terraform-handover.tf"];
        assert.match(handover, /removed \{\n {2}from = aws_cloudformation_stack\.bk_queue_ci_gpu\n/);
        assert.match(handover, /removed \{\n {2}from = aws_secretsmanager_secret_version\.ci_hf_token\n/);
        assert.match(handover, /show exactly these 103 as destroyed/);
        const state = stateOf(rawState());
        assert.deepEqual(secretLeaks([state], { ...rendered.files, summary: rendered.summary }), []);
        const hfToken = String(rawState().resources.find((r) => r.type === "aws_secretsmanager_secret_version")!.instances[0].attributes.secret_string);
        for (const text of [...Object.values(rendered.files), rendered.summary]) assert.ok(!text.includes(hfToken));
    });

    describe("on variants of the state", () => {
        it("creates a stack that is gone, and says it has no reason to", () => {
            const raw = rawState();
            const stacks = raw.resources.find((r) => r.type === "aws_cloudformation_stack" && r.name === "bk_queue")!;
            stacks.instances = [];
            const report = run(stateOf(raw)).report;
            assert.ok(report.created.some((entry) => entry.type === STACK && entry.name === "bootstrap"));
            assert.ok(report.unexplained.some((line) => line.startsWith(`created ${STACK}::bootstrap: no Terraform counterpart`)), report.unexplained.join("\n"));
            assert.equal(report.adopted.filter((entry) => entry.type === STACK).length, 15);
        });

        it("follows changed ids: the same adoption, the import ids of the new state", () => {
            let text = fs.readFileSync(STATE_FILE, "utf8");
            const ids = new Set(text.match(/\b(vpc|subnet|rtb|igw|sg)-[0-9a-z]{8,}\b/g));
            let n = 0;
            for (const id of [...ids].sort((a, b) => b.length - a.length)) text = text.split(id).join(`${id.split("-")[0]}-changed${String(n++).padStart(4, "0")}`);
            const changed = run(parseTerraformState(text, "changed.tfstate"));
            assert.deepEqual(changed.report.unexplained, []);
            assert.equal(changed.report.adopted.length, result.report.adopted.length);
            assert.deepEqual(changed.report.differences.map((d) => [d.name, d.field]), result.report.differences.map((d) => [d.name, d.field]));
            assert.ok(changed.report.adopted.filter((e) => e.type === "aws:ec2/vpc:Vpc").every((e) => /^vpc-changed\d{4}$/.test(e.id)));
        });

        it("does not take over a resource added outside the program, and says so", () => {
            const raw = rawState();
            const buckets = raw.resources.find((r) => r.type === "aws_s3_bucket")!;
            raw.resources.push({ ...buckets, name: "someone_elses", instances: [{ attributes: { ...buckets.instances[0].attributes, bucket: "someone-elses-bucket", id: "someone-elses-bucket" } }] });
            const report = run(stateOf(raw)).report;
            assert.ok(report.unexplained.some((line) => line.includes("left in Terraform aws.tfstate:aws_s3_bucket.someone_elses")), report.unexplained.join("\n"));
            assert.ok(!report.adopted.some((entry) => entry.id === "someone-elses-bucket"));
        });

        it("fails parity on a live value the program does not have, naming resource, field and both values", () => {
            const raw = rawState();
            const gpu = raw.resources.find((r) => r.type === "aws_cloudformation_stack" && r.name === "bk_queue_ci_gpu")!;
            (gpu.instances[0].attributes.parameters as Record<string, string>).MaxSize = "300";
            const sg = raw.resources.find((r) => r.name === "ci-model-weights-sg")!;
            (sg.instances[0].attributes.ingress as { from_port: number }[])[2].from_port = 989;
            const report = run(stateOf(raw)).report;
            assert.ok(report.unexplained.some((line) => line === `difference ${STACK}::gpu_1_queue parameters.MaxSize: Terraform "300", program "208", no reason given`), report.unexplained.join("\n"));
            assert.ok(report.unexplained.some((line) => line.startsWith("difference aws:ec2/securityGroup:SecurityGroup::network-us-west-2-model-weights ingress:")), report.unexplained.join("\n"));
            const maxSize = report.differences.find((d) => d.field === "parameters.MaxSize")!;
            assert.equal(maxSize.effect, undefined, "MaxSize does not replace the autoscaling group");
        });

        it("marks a stack on another template version as replacing its autoscaling group", () => {
            const raw = rawState();
            const bootstrap = raw.resources.find((r) => r.type === "aws_cloudformation_stack" && r.name === "bk_queue")!;
            bootstrap.instances[0].attributes.template_url = "https://s3.amazonaws.com/buildkite-aws-stack/v6.20.0/aws-stack.yml";
            const change = run(stateOf(raw)).report.differences.find((d) => d.name === "bootstrap" && d.field === "templateUrl")!;
            assert.equal(change.effect, "replaces the autoscaling group of queue bootstrap (Elastic CI Stack 6.20.0 → 6.21.0): running jobs are cancelled");
        });

        it("reports a replacement where the provider replaces", () => {
            const raw = rawState();
            const subnet = raw.resources.find((r) => r.type === "aws_subnet" && r.module === "module.vpc")!;
            subnet.instances[1].attributes.availability_zone = "us-west-2f";
            const report = run(stateOf(raw)).report;
            assert.deepEqual(report.replaced.map((entry) => [entry.name, entry.field]), [["network-us-west-2-us-west-2b", "availabilityZone"]]);
        });

        it("gives the same report whatever the order of the state's resources", () => {
            const raw = rawState();
            raw.resources.reverse();
            for (const resource of raw.resources) resource.instances.reverse();
            assert.deepEqual(run(stateOf(raw)).report, result.report);
        });
    });
});
