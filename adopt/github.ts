/**
 * Adoption rules of the GitHub stack (`github-prod`). The runner groups were made by two Terraform
 * roots (`github/runner-groups/group-neural-magic`, `group-ibm` of vllm-project/ci-infra) whose
 * state is kept by whoever ran them, not in a shared backend: the live groups come from an
 * inventory of the organization, read with `gh api` (README.md, GitHub stack), and each group the
 * program declares is imported by its id, its differences reported field by field.
 *
 * Inventory (`--live-inventory FILE`): `{"<organization>": [{"id": 3, "name": "ibm-runners",
 * "visibility": "selected", "allows_public_repositories": true, "restricted_to_workflows": false,
 * "selected_workflows": [], "repositories": [{"id": 599547518, "full_name": "vllm-project/vllm"}]}]}`,
 * GitHub's own field names. Import id: the group's id (`## Import` of `ActionsRunnerGroup`).
 */
import type { RecordedResource } from "../plan/harness";
import type { AdoptionContext, Explanation, ExistingOutsideTerraform, FieldChange, StackAdoption } from "./engine";

const RUNNER_GROUP = "github:index/actionsRunnerGroup:ActionsRunnerGroup";

/** One live runner group as the inventory lists it. */
export interface LiveRunnerGroup {
    readonly id: number;
    readonly name: string;
    readonly visibility: string;
    readonly allows_public_repositories: boolean;
    readonly restricted_to_workflows: boolean;
    readonly selected_workflows?: readonly string[];
    readonly repositories?: readonly { readonly id: number; readonly full_name: string }[];
}

/** `{"<organization>": [group, ...]}`. */
export type RunnerGroupInventory = Readonly<Record<string, readonly LiveRunnerGroup[]>>;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** The inventory's problems, one line each (empty when usable). */
export function runnerGroupInventoryProblems(value: unknown): string[] {
    if (!isObject(value)) return ['the live inventory must be a JSON object {"<organization>": [runner group, ...]}'];
    const problems: string[] = [];
    for (const [organization, groups] of Object.entries(value)) {
        if (!Array.isArray(groups)) {
            problems.push(`organization "${organization}": must be a list of runner groups`);
            continue;
        }
        groups.forEach((group: unknown, index) => {
            const at = `organization "${organization}": runner group ${isObject(group) && typeof group.name === "string" ? `"${group.name}"` : index}`;
            if (!isObject(group)) return problems.push(`${at}: must be an object`);
            if (!Number.isInteger(group.id)) problems.push(`${at}: field id: must be an integer`);
            for (const field of ["name", "visibility"]) if (typeof group[field] !== "string") problems.push(`${at}: field ${field}: must be a string`);
            for (const field of ["allows_public_repositories", "restricted_to_workflows"]) if (typeof group[field] !== "boolean") problems.push(`${at}: field ${field}: must be true or false`);
            const repositories = group.repositories;
            if (repositories !== undefined && !(Array.isArray(repositories) && repositories.every((r) => isObject(r) && Number.isInteger(r.id) && typeof r.full_name === "string"))) {
                problems.push(`${at}: field repositories: must be a list of {id, full_name}`);
            }
            return undefined;
        });
    }
    return problems;
}

const sortedText = (values: readonly unknown[] | undefined): string[] => [...(values ?? [])].map(String).sort();

/** What the first `up` changes on a live group: the fields GitHub records, repositories by name. */
export function runnerGroupChanges(resource: RecordedResource, repositories: readonly string[], live: LiveRunnerGroup): FieldChange[] {
    const changes: FieldChange[] = [];
    const field = (name: string, terraform: unknown, program: unknown) => {
        if (JSON.stringify(terraform) !== JSON.stringify(program)) changes.push({ field: name, terraform, program });
    };
    field("visibility", live.visibility, resource.inputs.visibility);
    field("allowsPublicRepositories", live.allows_public_repositories, resource.inputs.allowsPublicRepositories ?? false);
    field("restrictedToWorkflows", live.restricted_to_workflows, resource.inputs.restrictedToWorkflows ?? false);
    field("selectedWorkflows", sortedText(live.selected_workflows), sortedText(resource.inputs.selectedWorkflows as unknown[] | undefined));
    // Only a selected group has repositories of its own; an `all` group lists every repository.
    if (live.visibility === "selected" || resource.inputs.visibility === "selected") {
        field("selectedRepositoryIds", sortedText(live.repositories?.map((r) => r.full_name)), sortedText(repositories));
    }
    return changes;
}

const CREATED: readonly Explanation[] = [];
const DIFFERENCES: readonly Explanation[] = [];

/** The rules of `stack`; without an inventory nothing can be matched, and every group is reported as unexplained. */
export function githubAdoption(stack: string, inventory?: RunnerGroupInventory): StackAdoption {
    const existing = (resource: RecordedResource, context: AdoptionContext): ExistingOutsideTerraform | undefined => {
        if (resource.type !== RUNNER_GROUP || !inventory) return undefined;
        const organization = String(context.providerOf(resource)?.inputs.owner ?? "");
        const live = inventory[organization]?.find((group) => group.name === resource.inputs.name);
        if (!live) return undefined;
        const repositories = (resource.parent ? context.resource(resource.parent)?.inputs.repositories : undefined) as string[] | undefined;
        return {
            id: String(live.id),
            reason: `runner group ${live.name} of ${organization} (made by Terraform github/runner-groups/, found in the live inventory)`,
            changes: runnerGroupChanges(resource, repositories ?? [], live),
        };
    };
    return { stack, rules: [], existingOutsideTerraform: existing, created: CREATED, leftInTerraform: [], differences: DIFFERENCES };
}
