/**
 * Every grant of every queue as today: the Terraform fleet attaches 14 managed policies to the
 * queues' instance roles (89 attachments); the program gives each queue one inline policy. Both
 * are expanded into (action, resource, condition) grants per queue and compared, queue by queue.
 * The one grant dropped on purpose is `s3:List`, which names no IAM action and granted nothing.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import type { RecordedResource } from "../../plan/harness";
import { sharedFixture } from "../support/fixtures";
import { sharedPlan } from "../support/plans";

type Attributes = Record<string, unknown>;
type RawState = { resources: { mode: string; type: string; name: string; instances: { index_key?: string; attributes: Attributes }[] }[] };
type Statement = { Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };

/** Grants that exist only on one side, on purpose. */
const DROPPED = new Set(["s3:List"]);

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** A secret ARN by its name: Secrets Manager's suffix differs between the plan's mocks and the state. */
function secretName(resource: string): string {
    const match = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(resource);
    return match ? `secret:${match[1]}` : resource;
}

/** Every (action on resource, condition) a document grants. */
function grants(document: string, expand: (resource: string) => string[] = (r) => [r]): Set<string> {
    const found = new Set<string>();
    for (const statement of (JSON.parse(document) as { Statement: Statement[] }).Statement) {
        assert.equal(statement.Effect, "Allow");
        for (const action of list(statement.Action)) {
            if (DROPPED.has(action)) continue;
            for (const resource of list(statement.Resource).flatMap(expand)) {
                found.add(`${action} on ${secretName(resource)}${statement.Condition ? ` if ${JSON.stringify(statement.Condition)}` : ""}`);
            }
        }
    }
    return found;
}

/** Terraform's grants per queue (BuildkiteQueue of the stack whose role the attachment names). */
function terraformGrants(raw: RawState): Map<string, Set<string>> {
    const instances = (type: string) => raw.resources.filter((r) => r.mode === "managed" && r.type === type).flatMap((r) => r.instances.map((i) => i.attributes));
    const policies = new Map(instances("aws_iam_policy").map((p) => [String(p.arn), String(p.policy)]));
    const secrets = instances("aws_secretsmanager_secret").map((s) => String(s.arn));
    // The fixture's policy names the secrets by the mock ARN Terraform's plan gave them; the real state names each secret.
    const expand = (resource: string) => (resource.includes(":secret:mock-") ? secrets : [resource]);
    const queueOfRole = new Map(
        instances("aws_cloudformation_stack").map((stack) => [String((stack.outputs as Attributes).InstanceRoleName), String((stack.parameters as Attributes).BuildkiteQueue)]),
    );
    const byQueue = new Map<string, Set<string>>();
    for (const attachment of instances("aws_iam_role_policy_attachment")) {
        const queue = queueOfRole.get(String(attachment.role));
        assert.ok(queue, `attachment to ${String(attachment.role)} names a stack's role`);
        const document = policies.get(String(attachment.policy_arn));
        assert.ok(document, `attachment names policy ${String(attachment.policy_arn)}`);
        const set = byQueue.get(queue) ?? new Set<string>();
        for (const grant of grants(document, expand)) set.add(grant);
        byQueue.set(queue, set);
    }
    return byQueue;
}

function programGrants(plan: readonly RecordedResource[]): Map<string, Set<string>> {
    const byUrn = new Map(plan.map((r) => [r.urn, r]));
    const byQueue = new Map<string, Set<string>>();
    for (const policy of plan.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("-instance-access"))) {
        const stack = (policy.propertyDependencies.role ?? []).map((urn) => byUrn.get(urn)).find((r) => r?.type === "aws:cloudformation/stack:Stack");
        assert.ok(stack, `${policy.name} is on a stack's role`);
        const queue = String((stack.inputs.parameters as Attributes).BuildkiteQueue);
        byQueue.set(queue, grants(String(policy.rawInputs.policy)));
    }
    return byQueue;
}

describe("IAM parity with the Terraform fleet", function () {
    this.timeout(120000);
    let terraform: Map<string, Set<string>>;
    let program: Map<string, Set<string>>;
    before(async () => {
        terraform = terraformGrants(JSON.parse(fs.readFileSync(sharedFixture("fixtures", "terraform-state", "aws.tfstate"), "utf8")));
        program = programGrants((await sharedPlan("aws-prod")).resources);
    });

    it("covers the same 16 queues", () => {
        assert.deepEqual([...program.keys()].sort(), [...terraform.keys()].sort());
        assert.equal(program.size, 16);
    });

    it("grants every queue exactly what Terraform grants it today", () => {
        for (const [queue, expected] of terraform) {
            const actual = program.get(queue)!;
            const missing = [...expected].filter((grant) => !actual.has(grant)).sort();
            const extra = [...actual].filter((grant) => !expected.has(grant)).sort();
            assert.deepEqual({ queue, missing, extra }, { queue, missing: [], extra: [] });
        }
    });

    it("can tell a missing grant (the comparison can fail)", () => {
        const release = new Set(terraform.get("cpu_queue_release"));
        assert.ok([...release].some((grant) => grant.includes("repository/vllm-omni-release-repo")), "release pushes vLLM-Omni images today");
        assert.ok([...(terraform.get("cpu_queue_postmerge") ?? [])].some((grant) => grant === "ecr-public:PutImage on arn:aws:ecr-public::936637512419:repository/vllm-release-repo"));
        assert.ok(![...(terraform.get("gpu_1_queue") ?? [])].some((grant) => grant.startsWith("ecr-public:PutImage")), "GPU queues push nothing");
        const withoutOne = new Set([...release].filter((grant) => !grant.includes("vllm-arm64-cpu-release-repo")));
        assert.notDeepEqual(withoutOne, program.get("cpu_queue_release"));
    });
});
