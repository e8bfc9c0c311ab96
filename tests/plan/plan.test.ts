import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { planJson, planStack, planText } from "../../plan/cli";
import { runWithMocks, type ProgramRun } from "../../plan/harness";
import { listStacks, loadStackConfig, secretPlaceholder } from "../../plan/stack-config";
import { declaredConfig, defineFleet, unknownConfigKeys } from "../../fleet";
import * as fs from "fs";
import * as yaml from "js-yaml";
import { sharedPlan, sharedPlanConfigReads } from "../support/plans";

describe("offline plan", () => {
    const runs = new Map<string, ProgramRun>();
    before(async () => {
        for (const stack of listStacks()) runs.set(stack, await sharedPlan(stack));
    });

    it("knows the production stacks", () => {
        assert.deepEqual(listStacks(), ["aws-prod", "gcp-prod", "github-prod"]);
        assert.equal(loadStackConfig("github-prod").config["ci:cloud"], "github");
        assert.equal(loadStackConfig("aws-prod").config["ci:cloud"], "aws");
        assert.equal(loadStackConfig("gcp-prod").config["ci:cloud"], "gcp");
    });

    it("is deterministic: a second run gives byte-identical JSON", async () => {
        for (const [stack, run] of runs) {
            const again = await planStack(stack);
            assert.equal(planJson(again), planJson(run), stack);
        }
    });

    it("prints a tree with a count per type", () => {
        for (const [stack, run] of runs) {
            const text = planText(stack, run);
            assert.match(text, new RegExp(`^Stack ${stack}: ${run.resources.length} resources`));
            const counts = text.slice(text.indexOf("Resources by type:"));
            assert.match(counts, /\n\s+1 {2}pulumi:pulumi:Stack(\n|$)/);
            const total = [...counts.matchAll(/^\s+(\d+) {2}\S+$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
            assert.equal(total, run.resources.length, `${stack}: the counts add up to the resources`);
        }
    });

    it("shows the secrets a stack reads only as [secret] in JSON, and reads no other", async () => {
        const readBy: Record<string, string[]> = {};
        for (const stack of listStacks()) {
            const [run, keys] = [await sharedPlan(stack), await sharedPlanConfigReads(stack)];
            const json = planJson(run);
            const raw = JSON.stringify(run.resources.map((r) => r.rawInputs));
            const secretKeys = loadStackConfig(stack).secretKeys;
            readBy[stack] = secretKeys.filter((key) => keys.has(key));
            for (const key of readBy[stack]) {
                assert.ok(raw.includes(secretPlaceholder(key)), `${stack}: ${key} is read, so its value must reach a resource (as a secret)`);
                assert.ok(!json.includes(secretPlaceholder(key)), `${stack}: ${key} leaks into the plan`);
            }
        }
        assert.deepEqual(readBy, {
            "aws-prod": [],
            "gcp-prod": ["ci:buildkiteAnalyticsToken", "ci:externalKubeconfigs", "ci:hfToken"],
            "github-prod": ["ci:githubToken"],
        });
    });

    it("uses no default provider: every region and project is explicit", () => {
        for (const [stack, run] of runs) {
            const defaults = run.resources.filter((r) => /^pulumi:providers:[^:]+$/.test(r.type) && r.name.startsWith("default"));
            assert.deepEqual(defaults.map((r) => `${r.type}::${r.name}`), [], stack);
        }
    });
});

describe("stack config", () => {
    const TYPES = ["string", "integer", "boolean", "array"];

    it("Pulumi.yaml gives every config entry a type Pulumi knows (arrays with their item type)", () => {
        for (const [key, declaration] of Object.entries(declaredConfig())) {
            assert.ok(declaration.type && TYPES.includes(declaration.type), `${key}: type ${String(declaration.type)}`);
            if (declaration.type === "array") assert.ok((declaration as { items?: { type?: string } }).items?.type, `${key}: items`);
        }
    });

    it("stack files hold values of the declared types", () => {
        const declared = declaredConfig();
        for (const stack of listStacks()) {
            const values = (yaml.load(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
            for (const [fullKey, value] of Object.entries(values)) {
                const declaration = declared[fullKey.replace(/^ci:/, "")];
                assert.ok(declaration, `${stack}: ${fullKey} is declared`);
                const fits: Record<string, (v: unknown) => boolean> = {
                    // Pulumi keeps scalars as text: any scalar can stand for a string.
                    string: (v) => ["string", "number", "boolean"].includes(typeof v),
                    integer: (v) => Number.isInteger(v),
                    boolean: (v) => typeof v === "boolean",
                    array: (v) => Array.isArray(v) && v.every((item) => typeof item === "string"),
                };
                assert.ok(fits[declaration.type!](value), `${stack}: ${fullKey} is not a ${declaration.type}: ${JSON.stringify(value)}`);
            }
        }
    });

    it("flags config keys Pulumi.yaml does not declare, with a suggestion", () => {
        assert.deepEqual(unknownConfigKeys({ "ci:clod": "aws", "ci:cloud": "aws", "aws:region": "x" }, ["cloud", "catalogPath"]), [
            'ci:clod (did you mean "cloud"?)',
        ]);
    });

    it("fails the program on an unknown config key or cloud, in one line", async () => {
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "t", config: { "ci:cloud": "aws", "ci:catalogPth": "x" } }, () => defineFleet() as Record<string, unknown>),
            /unknown config key ci:catalogPth \(did you mean "catalogPath"\?\)/,
        );
        await assert.rejects(
            runWithMocks({ project: "ci", stack: "t", config: { "ci:cloud": "azure" } }, () => defineFleet() as Record<string, unknown>),
            /config ci:cloud: must be one of aws, gcp, github, not "azure"/,
        );
    });
});

describe("`npm run plan` command line", () => {
    const tsx = path.join(__dirname, "..", "..", "node_modules", ".bin", "tsx");
    const cli = path.join(__dirname, "..", "..", "plan", "cli.ts");

    it("stops at a bad catalog with one line per problem, naming file, queue and field, exit 2, no stack trace", () => {
        const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "plan-cli-"));
        const bad = path.join(dir, "queues.yaml");
        fs.writeFileSync(bad, fs.readFileSync(path.join(__dirname, "..", "..", "catalog", "queues.yaml"), "utf8").replace("- name: medium_cpu_queue_premerge", "- name: small_cpu_queue_premerge"));
        const result = spawnSync(tsx, [cli, "aws-prod", "--catalog", bad], { encoding: "utf8" });
        assert.equal(result.status, 2, result.stderr);
        const lines = result.stderr.trim().split("\n");
        assert.equal(lines.length, 2, result.stderr);
        assert.match(lines[0], /^error: stack aws-prod: .*queues\.yaml: queue "small_cpu_queue_premerge": field name: declared more than once in organization vllm$/);
        assert.match(lines[1], /^error: stack aws-prod: .*queues\.yaml: routing rule \d+: field queue: unknown queue "medium_cpu_queue_premerge"/);
        assert.doesNotMatch(result.stderr, /^\s+at |RunError/m);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("rejects an unknown stack with one line and exit 2", () => {
        const result = spawnSync(tsx, [cli, "azure-prod"], { encoding: "utf8" });
        assert.equal(result.status, 2);
        assert.match(result.stderr, /^error: unknown stack azure-prod \(stacks: aws-prod, gcp-prod, github-prod\)\n$/);
    });
});
