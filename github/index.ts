/**
 * The GitHub part of the fleet (stack github-prod): the Actions runner groups of
 * `runner-groups.yaml`, one explicit provider per organization, each authenticated with its own
 * secret token. Apart from the cloud stacks because those tokens are organization admin rights
 * that no Buildkite or cloud deployment should hold.
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { ProblemsError } from "../lib/problems";
import { RunnerGroup } from "./runner-group";
import { runnerGroupResourceName, selectedRepositories, type RunnerGroups } from "./runner-groups";

export { DEFAULT_RUNNER_GROUPS_PATH, loadRunnerGroups, parseRunnerGroups, RunnerGroupsError, tokenConfigProblems, type RunnerGroups } from "./runner-groups";

/** Reads a `ci:` config value as the engine passes it; undefined when unset. */
export type SecretConfigReader = (key: string) => pulumi.Output<string> | undefined;

/** Builds every runner group; `token(key)` reads an organization's token config (a secret). */
export function buildGithubFleet(groups: RunnerGroups, token: SecretConfigReader): Record<string, pulumi.Input<unknown>> {
    const providers = new Map<string, github.Provider>();
    for (const [organization, { tokenConfig }] of Object.entries(groups.organizations)) {
        const value = token(tokenConfig);
        if (!value) throw new ProblemsError([`${groups.file}: organization "${organization}": field tokenConfig: ci:${tokenConfig} is not set`]);
        providers.set(organization, new github.Provider(`github-${organization}`, { owner: organization, token: pulumi.secret(value) }));
    }
    const runnerGroups: Record<string, pulumi.Output<string>> = {};
    for (const group of groups.runnerGroups) {
        const name = runnerGroupResourceName(group);
        runnerGroups[name] = new RunnerGroup(
            name,
            {
                groupName: group.name,
                visibility: group.visibility,
                allowsPublicRepositories: group.allowsPublicRepositories,
                restrictedToWorkflows: group.restrictedToWorkflows,
                selectedWorkflows: group.selectedWorkflows,
                repositories: selectedRepositories(group),
            },
            { provider: providers.get(group.organization) },
        ).groupId;
    }
    return { runnerGroups };
}
