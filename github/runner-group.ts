/**
 * One GitHub Actions runner group of an organization: the group, its visibility, and the
 * repositories that may use it, their ids resolved from their names when the program runs
 * (the Terraform roots pinned the ids by hand, from `github/tools/get-repo-id`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";

export interface RunnerGroupArgs {
    /** The group's name in the organization. */
    readonly groupName: pulumi.Input<string>;
    /** `all` or `selected`. */
    readonly visibility: pulumi.Input<string>;
    /** Whether public repositories may use the group. */
    readonly allowsPublicRepositories: pulumi.Input<boolean>;
    /** Whether only `selectedWorkflows` may use the group. */
    readonly restrictedToWorkflows: pulumi.Input<boolean>;
    /** The workflows allowed when `restrictedToWorkflows`. */
    readonly selectedWorkflows?: pulumi.Input<pulumi.Input<string>[]>;
    /** `owner/name` of each repository allowed when the visibility is `selected` (ids are looked up). */
    readonly repositories: readonly string[];
}

/**
 * A runner group and its repository grants. Pass the organization's provider in `opts.provider`:
 * the group and every repository look-up go through it.
 */
export class RunnerGroup extends pulumi.ComponentResource {
    /** The runner group. */
    public readonly group: github.ActionsRunnerGroup;
    /** The group's numeric id (its import id). */
    public readonly groupId: pulumi.Output<string>;
    /** The ids of the selected repositories, in the order of `repositories`. */
    public readonly repositoryIds: pulumi.Output<number[]>;

    constructor(name: string, args: RunnerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        // The names stay on the component: the plan and the adoption read them (the ids are only known live).
        super("ci:github:RunnerGroup", name, { repositories: args.repositories }, opts);
        const ids = args.repositories.map((fullName) => github.getRepositoryOutput({ fullName }, { parent: this, provider: opts?.provider }).repoId);
        this.repositoryIds = pulumi.all(ids);
        this.group = new github.ActionsRunnerGroup(
            name,
            {
                name: args.groupName,
                visibility: args.visibility,
                allowsPublicRepositories: args.allowsPublicRepositories,
                restrictedToWorkflows: args.restrictedToWorkflows,
                selectedWorkflows: args.selectedWorkflows,
                selectedRepositoryIds: args.repositories.length > 0 ? this.repositoryIds : undefined,
            },
            // Runners are registered into the group out of band: deleting it would orphan them.
            { parent: this, protect: true },
        );
        this.groupId = this.group.id;
        this.registerOutputs({ groupId: this.groupId, repositoryIds: this.repositoryIds });
    }
}
