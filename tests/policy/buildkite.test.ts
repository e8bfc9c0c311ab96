/** The policy pack on buildkite-prod's offline plan: it passes, and a token sent anywhere but a secret store fails. */
import { strict as assert } from "assert";
import { subjectsFromPlan } from "../../policy/from-plan";
import { FLEET_RULES } from "../../policy/rules";
import { rulesForStack } from "../../policy/stack-rules";
import type { Subject } from "../../policy/subject";
import { sharedPlan } from "../support/plans";

const rule = (name: string) => FLEET_RULES.find((r) => r.name === name)!;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe("policy pack on buildkite-prod", () => {
    let subjects: Subject[];
    before(async () => {
        subjects = subjectsFromPlan((await sharedPlan("buildkite-prod")).resources);
    });

    it("passes every rule, and the token rule sees the token flow into each store", () => {
        for (const r of rulesForStack("buildkite-prod")) assert.deepEqual(r.check(subjects), [], r.name);
        const carriers = subjects.filter((s) => Object.values(s.propertyDependencies).some((sources) => sources.some((source) => source.includes("clusterAgentToken"))));
        assert.deepEqual([...new Set(carriers.map((s) => s.type))].sort(), ["aws:ssm/parameter:Parameter", "gcp:secretmanager/secretVersion:SecretVersion"]);
    });

    it("flags a token in a pipeline's steps, and in a plain String parameter", () => {
        const token = subjects.find((s) => s.type === "aws:ssm/parameter:Parameter")!;
        const source = token.propertyDependencies.value[0];
        const pipeline = clone(subjects.find((s) => s.type === "buildkite:Pipeline/pipeline:Pipeline")!);
        pipeline.propertyDependencies.steps = [source];
        const plain = clone(token);
        plain.props.type = "String";
        const found = rule("buildkite-token-in-secret-stores").check([pipeline, plain]);
        assert.deepEqual(found.map((v) => v.resource), [pipeline.ref, plain.ref]);
        assert.match(found[0].message, /input steps carries a Buildkite agent token; only a secret store's value may \[buildkite-token-in-secret-stores\]$/);
        assert.match(found[1].message, /as a String parameter; use SecureString/);
        // A literal token anywhere else is the plaintext rule's.
        pipeline.props.steps = "command: BUILDKITE_AGENT_TOKEN=bkct_0123456789abcdefghijABCDEFGHIJ buildkite-agent start";
        assert.ok(rule("no-plaintext-secrets").check([pipeline]).length > 0);
    });
});
