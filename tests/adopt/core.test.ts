/** The adoption engine, import file, handover and state reader, on small plans and states of their own. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { adopt, type AdoptionRule, type StackAdoption } from "../../adopt/engine";
import { buildHandover } from "../../adopt/handover";
import { buildImportFile, importFileProblems } from "../../adopt/import-file";
import { renderAdoption, secretLeaks } from "../../adopt/outputs";
import { parseTerraformState, STATE_SECRET_MASK, TerraformStateError, type TerraformState } from "../../adopt/terraform-state";
import type { RecordedResource } from "../../plan/harness";
import { sharedFixture } from "../support/fixtures";

const STACK = "test-stack";

function urnOf(type: string, name: string, parentChain: string[] = []): string {
    return `urn:pulumi:${STACK}::ci::${[...parentChain, type].join("$")}::${name}`;
}

function planned(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource {
    return { type, name, custom: true, inputs, rawInputs: inputs, urn: urnOf(type, name), propertyDependencies: {}, ...extra };
}

/** A stack: two regional providers, a component holding two buckets and a queue, one loose bucket. */
function samplePlan(): RecordedResource[] {
    const root = planned("pulumi:pulumi:Stack", `ci-${STACK}`, {}, { custom: false });
    const west = planned("pulumi:providers:aws", "aws-us-west-2", { region: "us-west-2" }, { parent: "pulumi:pulumi:Stack::ci-test-stack" });
    const east = planned("pulumi:providers:aws", "aws-us-east-1", { region: "us-east-1" }, { parent: "pulumi:pulumi:Stack::ci-test-stack" });
    const component = planned("ci:aws:Buckets", "buckets", {}, { custom: false, parent: "pulumi:pulumi:Stack::ci-test-stack", urn: urnOf("ci:aws:Buckets", "buckets") });
    const inComponent = (type: string, name: string, inputs: Record<string, unknown>, provider: string) =>
        planned(type, name, inputs, { parent: "ci:aws:Buckets::buckets", provider, urn: urnOf(type, name, ["ci:aws:Buckets"]) });
    return [
        root,
        west,
        east,
        component,
        inComponent("aws:s3/bucket:Bucket", "wheels", { bucket: "vllm-wheels", forceDestroy: false }, "pulumi:providers:aws::aws-us-west-2"),
        inComponent("aws:s3/bucket:Bucket", "wheels-dev", { bucket: "vllm-wheels-dev", forceDestroy: false }, "pulumi:providers:aws::aws-us-west-2"),
        // Same logical name as a bucket, another type: the import file must keep both apart.
        inComponent("aws:sqs/queue:Queue", "wheels", { name: "wheels-events" }, "pulumi:providers:aws::aws-us-east-1"),
        planned("aws:s3/bucket:Bucket", "new-bucket", { bucket: "vllm-new" }, { parent: "pulumi:pulumi:Stack::ci-test-stack", provider: "pulumi:providers:aws::default_7_0_0" }),
    ];
}

function sampleState(extra: object[] = []): TerraformState {
    const bucket = (name: string, tfName: string, forceDestroy: boolean) => ({
        mode: "managed",
        type: "aws_s3_bucket",
        name: tfName,
        provider: 'provider["registry.terraform.io/hashicorp/aws"]',
        instances: [{ attributes: { id: name, bucket: name, force_destroy: forceDestroy }, schema_version: 0 }],
    });
    return parseTerraformState(
        JSON.stringify({
            version: 4,
            terraform_version: "1.11.4",
            lineage: "test",
            serial: 3,
            resources: [
                bucket("vllm-wheels", "vllm_wheels", false),
                bucket("vllm-wheels-dev", "vllm_wheels_dev", true),
                {
                    mode: "managed",
                    type: "aws_iam_role_policy_attachment",
                    name: "attach",
                    provider: 'provider["registry.terraform.io/hashicorp/aws"]',
                    instances: [
                        { index_key: "a", attributes: { id: "role-a/arn" } },
                        { index_key: "b", attributes: { id: "role-b/arn" } },
                    ],
                },
                {
                    mode: "managed",
                    type: "aws_secretsmanager_secret_version",
                    name: "hf",
                    provider: 'provider["registry.terraform.io/hashicorp/aws"]',
                    instances: [{ attributes: { id: "arn|v1", secret_string: "hf_supersecretvalue" } }],
                },
                ...extra,
            ],
        }),
        "fixture.tfstate",
    );
}

const bucketRule: AdoptionRule = {
    pulumiType: "aws:s3/bucket:Bucket",
    terraformTypes: ["aws_s3_bucket"],
    planIdentity: (resource) => String(resource.inputs.bucket),
    stateIdentity: (instance) => String(instance.attributes.bucket),
    importId: (instance) => String(instance.attributes.bucket),
    compare: (resource, instance) =>
        resource.inputs.forceDestroy !== instance.attributes.force_destroy
            ? [{ field: "forceDestroy", terraform: instance.attributes.force_destroy, program: resource.inputs.forceDestroy }]
            : [],
};

const queueRule: AdoptionRule = {
    pulumiType: "aws:sqs/queue:Queue",
    terraformTypes: ["aws_sqs_queue"],
    planIdentity: (resource) => String(resource.inputs.name),
    stateIdentity: (instance) => String(instance.attributes.name),
    importId: (instance) => String(instance.attributes.url),
};

function sampleAdoption(overrides: Partial<StackAdoption> = {}): StackAdoption {
    return {
        stack: STACK,
        rules: [bucketRule, queueRule],
        created: [{ type: "aws:s3/bucket:Bucket", name: "new-bucket", reason: "new in this program" }],
        leftInTerraform: [
            { type: "aws_iam_role_policy_attachment", reason: "replaced by inline policies" },
            { type: "aws_secretsmanager_secret_version", reason: "the value stays out of the program" },
        ],
        differences: [{ type: "aws:s3/bucket:Bucket", name: "wheels-dev", field: "forceDestroy", reason: "never delete objects with the bucket" }],
        existingOutsideTerraform: (resource) => (resource.type === "aws:sqs/queue:Queue" ? { id: "https://sqs/wheels-events", reason: "made by hand" } : undefined),
        ...overrides,
    };
}

describe("adoption engine", function () {
    it("adopts by physical identity, explains what is created, left and different", function () {
        const { report, adoptions } = adopt(samplePlan(), [sampleState()], sampleAdoption());
        assert.deepEqual(
            report.adopted.map((entry) => [entry.terraform, entry.type, entry.name, entry.id]),
            [
                ["aws_s3_bucket.vllm_wheels", "aws:s3/bucket:Bucket", "wheels", "vllm-wheels"],
                ["aws_s3_bucket.vllm_wheels_dev", "aws:s3/bucket:Bucket", "wheels-dev", "vllm-wheels-dev"],
                [null, "aws:sqs/queue:Queue", "wheels", "https://sqs/wheels-events"],
            ],
        );
        assert.equal(report.adopted[2].reason, "made by hand");
        assert.deepEqual(report.created, [{ type: "aws:s3/bucket:Bucket", name: "new-bucket", reason: "new in this program" }]);
        assert.deepEqual(report.differences, [
            { type: "aws:s3/bucket:Bucket", name: "wheels-dev", field: "forceDestroy", terraform: true, program: false, reason: "never delete objects with the bucket" },
        ]);
        assert.deepEqual(
            report.leftInTerraform.map((entry) => entry.terraform),
            ['aws_iam_role_policy_attachment.attach["a"]', 'aws_iam_role_policy_attachment.attach["b"]', "aws_secretsmanager_secret_version.hf"],
        );
        assert.deepEqual(report.unexplained, []);
        assert.equal(adoptions.length, 3);
    });

    it("lists as unexplained whatever has no reason, and a replacement apart from differences", function () {
        const replacing: AdoptionRule = { ...bucketRule, compare: (r, i) => [{ field: "bucket", terraform: i.attributes.bucket, program: r.inputs.bucket, replaces: true }] };
        const { report } = adopt(samplePlan(), [sampleState()], sampleAdoption({ rules: [replacing, queueRule], created: [], leftInTerraform: [], differences: [] }));
        assert.equal(report.replaced.length, 2);
        assert.equal(report.differences.length, 0);
        assert.ok(report.unexplained.some((line) => line.startsWith("created aws:s3/bucket:Bucket::new-bucket")));
        assert.ok(report.unexplained.some((line) => line.startsWith("replaced aws:s3/bucket:Bucket::wheels bucket")));
        assert.ok(report.unexplained.some((line) => line.includes('left in Terraform fixture.tfstate:aws_iam_role_policy_attachment.attach["a"]')));
    });

    it("flags two live instances with one identity instead of picking silently", function () {
        const twin = { mode: "managed", type: "aws_s3_bucket", name: "twin", provider: "p", instances: [{ attributes: { bucket: "vllm-wheels" } }] };
        const { report } = adopt(samplePlan(), [sampleState([twin])], sampleAdoption());
        assert.ok(report.unexplained.some((line) => /2 Terraform instances share its identity vllm-wheels/.test(line)), report.unexplained.join("\n"));
    });

    it("gives the same report whatever the order of the state's resources", function () {
        const state = sampleState();
        const reversed: TerraformState = { ...state, instances: [...state.instances].reverse() };
        assert.deepEqual(adopt(samplePlan(), [reversed], sampleAdoption()).report, adopt(samplePlan(), [state], sampleAdoption()).report);
    });
});

describe("adoption import file", function () {
    it("holds the adopted resources with ids, their components without, and explicit providers by URN", function () {
        const plan = samplePlan();
        const { adoptions } = adopt(plan, [sampleState()], sampleAdoption());
        const { file, providerTargets } = buildImportFile(plan, adoptions);
        assert.deepEqual(importFileProblems(file), []);
        assert.deepEqual(file.nameTable, {
            "aws-us-east-1": "urn:pulumi:test-stack::ci::pulumi:providers:aws::aws-us-east-1",
            "aws-us-west-2": "urn:pulumi:test-stack::ci::pulumi:providers:aws::aws-us-west-2",
        });
        assert.deepEqual(providerTargets, Object.values(file.nameTable).sort());
        const component = file.resources.find((entry) => entry.component);
        assert.deepEqual(component, { type: "ci:aws:Buckets", name: "buckets", component: true });
        const names = file.resources.map((entry) => entry.name);
        assert.equal(new Set(names).size, names.length, "names are unique");
        const queue = file.resources.find((entry) => entry.type === "aws:sqs/queue:Queue")!;
        assert.equal(queue.logicalName, "wheels", "a renamed entry keeps the program's logical name");
        assert.deepEqual({ parent: queue.parent, provider: queue.provider, id: queue.id }, { parent: "buckets", provider: "aws-us-east-1", id: "https://sqs/wheels-events" });
        assert.ok(!file.resources.some((entry) => entry.name === "new-bucket"), "created resources are not imported");
    });

    it("finds what pulumi import would refuse", function () {
        const problems = importFileProblems({
            nameTable: { p: "not-a-urn" },
            resources: [
                { type: "ci:x:Component", name: "c", component: true, id: "oops" },
                { type: "aws:s3/bucket:Bucket", name: "b", parent: "missing", provider: "nowhere" },
                { type: "aws:s3/bucket:Bucket", name: "b", id: "x", parent: "b" },
                { type: "pulumi:providers:aws", name: "prov", id: "x" },
            ],
        });
        for (const expected of [/two entries named "b"/, /"c".*a component has no id/, /"b".*no id/, /parent "missing"/, /provider "nowhere"/, /parent "b" is not a component/, /providers cannot be imported/, /not a URN/]) {
            assert.ok(problems.some((problem) => expected.test(problem)), `${expected} in ${problems.join("; ")}`);
        }
    });
});

describe("adoption handover", function () {
    it("removes whole resources with removed blocks and single instances with state rm", function () {
        const state = sampleState();
        const attachmentA = state.instances.find((i) => i.address.endsWith('["a"]'))!;
        const wheels = state.instances.find((i) => i.address === "aws_s3_bucket.vllm_wheels")!;
        const handover = buildHandover(STACK, [wheels, attachmentA], state.instances);
        assert.match(handover.removedBlocks, /removed \{\n {2}from = aws_s3_bucket\.vllm_wheels\n {2}lifecycle \{\n {4}destroy = false\n {2}\}\n\}/);
        assert.doesNotMatch(handover.removedBlocks, /vllm_wheels_dev|attach/);
        assert.match(handover.stateRmScript, /^terraform state rm 'aws_iam_role_policy_attachment\.attach\["a"\]'$/m);
        assert.doesNotMatch(handover.stateRmScript, /\["b"\]/);
        assert.deepEqual([handover.removedResources, handover.removedInstances], [1, 1]);
    });
});

describe("Terraform state reader", function () {
    it("reads the fleet's AWS state with full addresses and masks its secrets", function () {
        const file = sharedFixture("fixtures", "terraform-state", "aws.tfstate");
        const text = fs.readFileSync(file, "utf8");
        const state = parseTerraformState(text, file);
        assert.equal(state.instances.length, 162);
        assert.ok(state.instances.some((i) => i.address === 'aws_cloudformation_stack.bk_queue_ci_gpu["gpu-1-queue-ci"]'));
        assert.ok(state.instances.some((i) => i.address === "module.vpc_us_east_1.aws_subnet.public[3]"));
        const version = state.instances.find((i) => i.type === "aws_secretsmanager_secret_version")!;
        assert.equal(version.attributes.secret_string, STATE_SECRET_MASK);
        const raw = JSON.parse(text) as { resources: { type: string; mode: string; instances: { attributes: Record<string, unknown> }[] }[] };
        const secretString = raw.resources.find((r) => r.type === "aws_secretsmanager_secret_version")!.instances[0].attributes.secret_string as string;
        const tokenValue = raw.resources.find((r) => r.mode === "data")!.instances[0].attributes.value as string;
        assert.ok(state.secretValues.has(secretString) && state.secretValues.has(tokenValue));
        assert.ok(!JSON.stringify(state.instances).includes(secretString), "the HF token is nowhere in the parsed instances");
        assert.ok(!JSON.stringify(state.instances).includes(tokenValue), "agent tokens read as data sources are masked");
    });

    it("masks what sensitive_attributes names", function () {
        const state = parseTerraformState(
            JSON.stringify({
                version: 4,
                resources: [
                    {
                        mode: "managed",
                        type: "google_container_cluster",
                        name: "c",
                        provider: "p",
                        instances: [{ attributes: { name: "c", endpoint: "1.2.3.4", conf: [{ cert: "CERTIFICATEDATA" }] }, sensitive_attributes: [[{ type: "get_attr", value: "conf" }, { type: "index", value: { value: 0, type: "number" } }, { type: "get_attr", value: "cert" }]] }],
                    },
                ],
            }),
            "s.tfstate",
        );
        assert.deepEqual(state.instances[0].attributes.conf, [{ cert: STATE_SECRET_MASK }]);
        assert.ok(state.secretValues.has("CERTIFICATEDATA"));
        assert.deepEqual(secretLeaks([state], { "a.json": "x CERTIFICATEDATA y", "b.json": "clean" }), ["a.json would contain a secret value of s.tfstate"]);
    });

    it("refuses malformed and foreign files in one line naming the file", function () {
        const cases: [string, RegExp][] = [
            ["{not json", /^bad\.tfstate: not a Terraform state: invalid JSON/],
            ["[]", /^bad\.tfstate: not a Terraform state: the top level is not a JSON object$/],
            [JSON.stringify({ version: 3, resources: [] }), /^bad\.tfstate: unsupported Terraform state \(version 3\)/],
            [JSON.stringify({ format_version: "1.2", planned_values: {} }), /^bad\.tfstate: this is a Terraform plan/],
            [JSON.stringify({ version: 3, checkpoint: {} }), /^bad\.tfstate: this is a Pulumi state/],
            [JSON.stringify({ version: 4, resources: {} }), /^bad\.tfstate: not a Terraform state: field resources is not a list$/],
            [JSON.stringify({ version: 4, resources: [{ mode: "managed", type: "t", name: "n", provider: "p", instances: [{}] }] }), /^bad\.tfstate: resources\[0\] \(t\.n\): instances\[0\]: field attributes is missing/],
            [JSON.stringify({ version: 4, resources: [{ mode: "odd", type: "t", name: "n", provider: "p", instances: [] }] }), /^bad\.tfstate: resources\[0\]: field mode must be managed or data/],
        ];
        for (const [text, expected] of cases) {
            assert.throws(() => parseTerraformState(text, "bad.tfstate"), (error: unknown) => {
                assert.ok(error instanceof TerraformStateError);
                assert.match(error.message, expected);
                assert.ok(!error.message.includes("\n"), "one line");
                return true;
            });
        }
    });
});

describe("adoption outputs", function () {
    it("render every file, none holding a secret of the state, the scripts valid bash", function () {
        const plan = samplePlan();
        const state = sampleState();
        const rendered = renderAdoption(STACK, plan, adopt(plan, [state], sampleAdoption()));
        assert.deepEqual(Object.keys(rendered.files).sort(), [
            "test-stack.adoption.json",
            "test-stack.import.json",
            "test-stack.import.sh",
            "test-stack.terraform-handover.tf",
            "test-stack.terraform-state-rm.sh",
        ]);
        assert.deepEqual(secretLeaks([state], rendered.files), []);
        assert.match(rendered.files["test-stack.import.sh"], /--target 'urn:pulumi:test-stack::ci::pulumi:providers:aws::aws-us-west-2'/);
        assert.match(rendered.summary, /test-stack from fixture\.tfstate \(5 instances\): 3 adopted \(1 from outside Terraform\), 1 created, 0 replaced, 3 left in Terraform, 1 differences, 0 unexplained/);
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-sh-"));
        try {
            for (const name of ["test-stack.import.sh", "test-stack.terraform-state-rm.sh"]) {
                const file = path.join(directory, name);
                fs.writeFileSync(file, rendered.files[name]);
                const { spawnSync } = require("child_process") as typeof import("child_process");
                const check = spawnSync("bash", ["-n", file], { encoding: "utf8" });
                assert.equal(check.status, 0, `${name}: ${check.stderr}`);
            }
        } finally {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
});
