/**
 * Explicit `gcp.Provider`s, one per project. Every GCP resource of the fleet names its own region
 * or zone, so a provider carries only the project (and the fleet's labels); no resource uses the
 * default provider, so nothing depends on the machine that runs `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** Labels every GCP resource carries (the provider adds them). */
export const FLEET_LABELS = { "managed-by": "pulumi", fleet: "vllm-ci" } as const;

/** The fleet's GCP providers, by project. Components receive theirs in `opts.provider`. */
export class GcpProviders {
    private readonly byProject = new Map<string, gcp.Provider>();

    /** Creates the provider of every project the fleet uses (named `gcp-<project>`). */
    constructor(projects: readonly string[], opts?: pulumi.CustomResourceOptions) {
        for (const project of projects) {
            this.byProject.set(project, new gcp.Provider(`gcp-${project}`, { project, defaultLabels: { ...FLEET_LABELS } }, opts));
        }
    }

    /** The provider of a project. */
    forProject(project: string): gcp.Provider {
        const provider = this.byProject.get(project);
        if (!provider) throw new Error(`no GCP provider for project ${project}`);
        return provider;
    }
}
