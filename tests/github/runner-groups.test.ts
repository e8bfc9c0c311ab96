/**
 * github-prod: the runner groups file against upstream's Terraform (read with HashiCorp's HCL
 * parser), its bad-input lines, the program under mocks with a sentinel token, and the adoption
 * from the live inventory fixture.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { adopt } from "../../adopt/engine";
import { githubAdoption, runnerGroupInventoryProblems, type RunnerGroupInventory } from "../../adopt/github";
import { renderAdoption } from "../../adopt/outputs";
import { defineFleet } from "../../fleet";
import { loadRunnerGroups, parseRunnerGroups, tokenConfigProblems } from "../../github/runner-groups";
import { runWithMocks, type ProgramRun } from "../../plan/harness";
import { loadStackConfig } from "../../plan/stack-config";
import { sharedFixture } from "../support/fixtures";

const TOKEN = "SENTINEL-GITHUB-TOKEN-4c0ffee";
const INVENTORY = path.join(__dirname, "..", "fixtures", "github", "runner-groups.inventory.json");
const GROUP = "github:index/actionsRunnerGroup:ActionsRunnerGroup";
const inventory = (): RunnerGroupInventory => JSON.parse(fs.readFileSync(INVENTORY, "utf8"));

async function runGithubProd(config: Record<string, string> = {}): Promise<ProgramRun> {
    const stack = loadStackConfig("github-prod");
    return runWithMocks({ ...stack, config: { ...stack.config, "ci:githubToken": TOKEN, ...config } }, () => defineFleet() as Record<string, unknown>);
}

/** Upstream's groups: `github/runner-groups/<root>/group.tf` with its repository id variables. */
async function terraformGroups() {
    const root = sharedFixture("reference", "ci-infra", "github", "runner-groups");
    return Promise.all(
        fs.readdirSync(root).map(async (dir) => {
            const read = (file: string): Promise<any> => parseHcl(file, fs.readFileSync(path.join(root, dir, file), "utf8"));
            const group = (Object.values((await read("group.tf")).resource.github_actions_runner_group) as any[][])[0][0];
            const variables = (await read("repo-ids.tf")).variable as Record<string, { default: number }[]>;
            const ids = (group.selected_repository_ids as string[]).map((ref) => variables[/^\$\{var\.(.+)\}$/.exec(ref)![1]][0].default);
            const owner = Object.values((await read("providers.tf")).provider.github)[0] as { owner: string };
            return { root: dir, owner: owner.owner, name: group.name, visibility: group.visibility, allowsPublic: group.allows_public_repositories, restricted: group.restricted_to_workflows, ids };
        }),
    );
}

describe("github runner groups", () => {
    it("keeps upstream's groups: organization, name, visibility, flags and repositories (ids through the inventory)", async () => {
        const ours = loadRunnerGroups();
        const names = new Map(Object.values(inventory()).flat().flatMap((g) => g.repositories ?? []).map((r) => [r.id, r.full_name]));
        const upstream = await terraformGroups();
        assert.equal(upstream.length, 2);
        assert.deepEqual(ours.runnerGroups.map((g) => g.name).sort(), upstream.map((g) => g.name).sort());
        for (const tf of upstream) {
            const group = ours.runnerGroups.find((g) => g.name === tf.name)!;
            assert.equal(group.organization, tf.owner, tf.root);
            assert.deepEqual([group.visibility, group.allowsPublicRepositories, group.restrictedToWorkflows], [tf.visibility, tf.allowsPublic, tf.restricted], tf.root);
            const wanted = tf.ids.map((id) => names.get(id));
            assert.ok(wanted.every((name) => name !== undefined), `${tf.root}: every repository id is in the inventory fixture`);
            assert.deepEqual((group.repositories ?? []).map((r) => `${group.organization}/${r}`).sort(), wanted.sort(), tf.root);
        }
    });

    it("reports each bad input in one line naming the file, group or organization, and field", () => {
        const problems = (text: string) => {
            try {
                parseRunnerGroups(text, "rg.yaml");
                return [];
            } catch (error) {
                return (error as { problems: string[] }).problems;
            }
        };
        const base = "organizations:\n  vllm-project: { tokenConfig: githubToken }\nrunnerGroups:\n";
        const group = (extra: string) => `${base}  - { name: g, organization: vllm-project, partner: P, visibility: selected, allowsPublicRepositories: true, restrictedToWorkflows: false${extra} }\n`;
        assert.deepEqual(problems(group(", repositories: [vllm]")), []);
        assert.deepEqual(problems(group(", selectedWorkflow: [x], repositories: [vllm]")), ['rg.yaml: runner group "g": unknown field "selectedWorkflow" (did you mean "selectedWorkflows"?)']);
        assert.deepEqual(problems(group(", repositories: [vllm]").replace("visibility: selected", "visibility: private")), ['rg.yaml: runner group "g": field visibility: must be one of all, selected']);
        assert.deepEqual(problems(group("")), ['rg.yaml: runner group "g": field repositories: visibility selected needs at least one repository']);
        assert.deepEqual(problems(group(", repositories: [vllm]").replace("organization: vllm-project", "organization: vllm-projekt")), [
            'rg.yaml: runner group "g": field organization: "vllm-projekt" is not in organizations (vllm-project) (did you mean "vllm-project"?)',
        ]);
        assert.deepEqual(problems(group(", repositories: [vllm]").replace("allowsPublicRepositories: true", "allowsPublicRepositories: yes please")), ['rg.yaml: runner group "g": field allowsPublicRepositories: must be boolean']);
        assert.deepEqual(problems(group(", repositories: [vllm]").replace("partner: P, ", "")), ['rg.yaml: runner group "g": missing field "partner"']);
        assert.match(problems("runnerGroups: [\n")[0], /^rg\.yaml: YAML syntax error: /);
        const twice = `${group(", repositories: [vllm]")}  - { name: g, organization: vllm-project, partner: Q, visibility: all, allowsPublicRepositories: true, restrictedToWorkflows: false }\n`;
        assert.deepEqual(problems(twice), ['rg.yaml: runner group "g": field name: declared twice in organization vllm-project']);
    });

    it("refuses a token config key that is not declared secret, before any resource", () => {
        const groups = loadRunnerGroups();
        assert.deepEqual(tokenConfigProblems(groups, () => true, "Pulumi.github-prod.yaml", () => true), []);
        assert.deepEqual(tokenConfigProblems(groups, () => false, "Pulumi.github-prod.yaml", () => true), [
            `${groups.file}: organization "vllm-project": field tokenConfig: ci:githubToken is not declared with secret: true in Pulumi.yaml`,
        ]);
        assert.deepEqual(tokenConfigProblems(groups, () => true, "Pulumi.github-prod.yaml", () => false), [
            "Pulumi.github-prod.yaml: config ci:githubToken: missing (pulumi config set --secret githubToken <admin token of vllm-project>)",
        ]);
    });

    describe("the github-prod program under mocks", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runGithubProd();
        });

        it("builds every group through its organization's one provider, protected", () => {
            const providers = run.resources.filter((r) => r.type === "pulumi:providers:github");
            assert.deepEqual(providers.map((p) => [p.name, p.inputs.owner]), [["github-vllm-project", "vllm-project"]]);
            const groups = run.resources.filter((r) => r.type === GROUP);
            assert.deepEqual(groups.map((g) => g.inputs.name).sort(), loadRunnerGroups().runnerGroups.map((g) => g.name).sort());
            for (const group of groups) {
                assert.equal(group.provider, "pulumi:providers:github::github-vllm-project");
                assert.equal(group.protect, true);
                const component = run.resources.find((r) => `${r.type}::${r.name}` === group.parent)!;
                assert.equal((group.inputs.selectedRepositoryIds as number[]).length, (component.inputs.repositories as string[]).length);
            }
        });

        it("keeps the token secret: only the provider holds it, masked everywhere the plan shows", () => {
            const holders = run.resources.filter((r) => JSON.stringify(r.rawInputs).includes(TOKEN));
            assert.deepEqual(holders.map((r) => r.name), ["github-vllm-project"]);
            assert.equal(holders[0].inputs.token, "[secret]");
            assert.doesNotMatch(JSON.stringify(run.resources.map((r) => r.inputs)), new RegExp(TOKEN));
            assert.doesNotMatch(JSON.stringify(run.outputs), new RegExp(TOKEN));
        });

        it("stops on a bad runner groups file with its lines", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rg-"));
            const file = path.join(dir, "rg.yaml");
            fs.writeFileSync(file, "organizations: {}\nrunnerGroups:\n  - { name: g, organization: nope, partner: P, visibility: all, allowsPublicRepositories: true, restrictedToWorkflows: false }\n");
            await assert.rejects(runGithubProd({ "ci:githubRunnerGroupsPath": file }), /runner group "g": field organization: "nope" is not in organizations \(none\)/);
        });
    });

    describe("adoption from the live inventory", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runGithubProd();
        });

        it("imports every group by its id, with nothing unexplained", () => {
            const result = adopt(run.resources, [], githubAdoption("github-prod", inventory()));
            assert.deepEqual(result.report.unexplained, []);
            assert.deepEqual(result.report.adopted.map((a) => [a.name, a.id]), [["vllm-project-ibm-runners", "7"], ["vllm-project-neural-magic-runners", "4"]]);
            const rendered = renderAdoption("github-prod", run.resources, result);
            assert.deepEqual(rendered.importProblems, []);
            assert.doesNotMatch(JSON.stringify(rendered.files), new RegExp(TOKEN));
        });

        it("reports a live group that differs, and one missing, as unexplained", () => {
            const live = inventory();
            const edited = { "vllm-project": live["vllm-project"].filter((g) => g.name !== "ibm-runners").map((g) => ({ ...g, visibility: "all", repositories: g.repositories!.slice(1) })) };
            const { report } = adopt(run.resources, [], githubAdoption("github-prod", edited));
            assert.deepEqual(report.unexplained, [
                "created github:index/actionsRunnerGroup:ActionsRunnerGroup::vllm-project-ibm-runners: no Terraform counterpart and no reason given",
                'difference github:index/actionsRunnerGroup:ActionsRunnerGroup::vllm-project-neural-magic-runners selectedRepositoryIds: Terraform ["vllm-project/speculators","vllm-project/vllm"], program ["vllm-project/llm-compressor","vllm-project/speculators","vllm-project/vllm"], no reason given',
                'difference github:index/actionsRunnerGroup:ActionsRunnerGroup::vllm-project-neural-magic-runners visibility: Terraform "all", program "selected", no reason given',
            ]);
        });

        it("refuses an inventory of another shape, one line per problem", () => {
            assert.deepEqual(runnerGroupInventoryProblems({ "vllm-project": [{ id: "4", name: "g", visibility: "selected", allows_public_repositories: true, restricted_to_workflows: "no" }] }), [
                'organization "vllm-project": runner group "g": field id: must be an integer',
                'organization "vllm-project": runner group "g": field restricted_to_workflows: must be true or false',
            ]);
            assert.deepEqual(runnerGroupInventoryProblems([]), ['the live inventory must be a JSON object {"<organization>": [runner group, ...]}']);
        });
    });
});
