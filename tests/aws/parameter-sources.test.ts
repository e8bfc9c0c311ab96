/**
 * The parameters `aws.parameters` may not set: each is a real template parameter, each names where
 * its value comes from (a catalog field that exists in the model, or a fixed source), and each is
 * refused when a queue tries to set it.
 */
import { strict as assert } from "assert";
import { parseCatalog, type Catalog } from "../../catalog";
import { AwsQueueSchema } from "../../catalog/model";
import { awsFleetProblems } from "../../aws/fleet-problems";
import { readAwsSettings } from "../../aws/settings";
import { NETWORK_PARAMETERS, PARAMETER_SOURCES, SHARED_PARAMETERS, STACK_CAPABILITIES } from "../../aws/stack-parameters";
import { keptTemplateRules } from "../../aws/stack-template";

const rules = keptTemplateRules("6.21.0")!;
const newer = keptTemplateRules("6.71.1")!;
const settings = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsGpuBootstrapScriptUrl: "https://example.com/b.sh" })[key], "test");
const FIXED_SOURCES = [
    "the SSM parameter of the queue's Buildkite cluster (tokens never pass through the program)",
    "the queue's Buildkite cluster (field cluster)",
    "the queue's name",
    "the queue's access profile (field stage)",
    "one value for every queue, readonly (pushes go by exact ARN in the queue's inline policy)",
    "the program's boot script (aws/agent-boot.ts; GPU queues: field aws.bootstrapScript and config ci:awsGpuBootstrapScriptUrl)",
    "the region's network",
];

/** Whether a dotted path exists in an object schema. */
function hasPath(schema: { properties?: Record<string, unknown> }, dotted: string): boolean {
    let node: unknown = schema;
    for (const part of dotted.split(".")) {
        const properties = (node as { properties?: Record<string, unknown> }).properties;
        if (!properties || !(part in properties)) return false;
        node = properties[part];
    }
    return true;
}

const catalogWith = (parameters: Record<string, string>): Catalog =>
    parseCatalog(
        `
machineTypes: { r6in.large: {} }
buildkiteClusters: { ci: { ssmTokenParameter: /bk_ci, gcpSecretId: bk-ci } }
queues:
  - { name: q, provider: aws, region: us-west-2, cluster: ci, stage: premerge, reachedBy: name, machine: { type: r6in.large }, scale: { min: 0, max: 1 }, aws: { parameters: ${JSON.stringify(parameters)} } }
devices: { default: { plugin: docker, template: default } }
routing: [ { queue: q } ]
`,
        "p.yaml",
    );

describe("Elastic CI Stack parameters the program owns", () => {
    it("are template parameters, each with a source that exists", () => {
        for (const [name, source] of Object.entries(PARAMETER_SOURCES)) {
            assert.ok(rules.parameters[name] ?? newer.parameters[name], `${name} is a parameter of a checked template`);
            const fields = [...source.matchAll(/field ([a-zA-Z.]+)/g)].map((m) => m[1]);
            if (fields.length === 0) assert.ok(FIXED_SOURCES.includes(source), `${name}: ${source}`);
            for (const field of fields) assert.ok(hasPath(AwsQueueSchema, field), `${name}: ${field} is a field of an AWS queue`);
        }
        for (const name of NETWORK_PARAMETERS) assert.equal(PARAMETER_SOURCES[name], "the region's network");
    });

    it("are each refused in aws.parameters, naming where the value comes from", () => {
        for (const [name, source] of Object.entries(PARAMETER_SOURCES)) {
            const problems = awsFleetProblems(catalogWith({ [name]: "x" }), settings, rules.parameters[name] ? rules : newer);
            assert.deepEqual(problems, [`p.yaml: queue "q": field aws.parameters.${name}: set by the program from ${source}`], name);
        }
        assert.deepEqual(awsFleetProblems(catalogWith({ OnDemandPercentage: "70" }), settings, rules), [], "other parameters are the queue's to set");
    });

    it("start from shared values the template accepts, with the capabilities it needs", () => {
        for (const [name, value] of Object.entries(SHARED_PARAMETERS)) {
            assert.ok(rules.parameters[name], name);
            assert.ok(!(name in PARAMETER_SOURCES) || name === "BuildkiteTerminateInstanceAfterJob" || name === "EnableInstanceStorage", `${name} is shared, not owned`);
            assert.equal(typeof value, "string");
        }
        assert.deepEqual([...STACK_CAPABILITIES], ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]);
    });
});
