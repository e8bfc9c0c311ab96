/**
 * Explicit `gcp.Provider`s: one per project for global resources (service accounts, IAM, secrets)
 * and one per project and region. No resource of the stack uses the default provider, so the
 * stack's project and region never depend on the machine that runs `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** Labels every GCP resource carries (the provider adds them). */
export const FLEET_LABELS = { "managed-by": "pulumi", fleet: "vllm-ci" } as const;

export class GcpProviders {
    private readonly global = new Map<string, gcp.Provider>();
    private readonly regional = new Map<string, gcp.Provider>();

    /** Creates the providers of every project and region the fleet uses. */
    constructor(regionsByProject: Record<string, string[]>, opts?: pulumi.CustomResourceOptions) {
        for (const [project, regions] of Object.entries(regionsByProject)) {
            this.global.set(project, new gcp.Provider(`gcp-${project}`, { project, defaultLabels: { ...FLEET_LABELS } }, opts));
            for (const region of regions) {
                this.regional.set(`${project}/${region}`, new gcp.Provider(`gcp-${project}-${region}`, { project, region, defaultLabels: { ...FLEET_LABELS } }, opts));
            }
        }
    }

    /** The provider of a project's global resources. */
    forProject(project: string): gcp.Provider {
        const provider = this.global.get(project);
        if (!provider) throw new Error(`no GCP provider for project ${project}`);
        return provider;
    }

    /** The provider of a project's region. */
    forRegion(project: string, region: string): gcp.Provider {
        const provider = this.regional.get(`${project}/${region}`);
        if (!provider) throw new Error(`no GCP provider for project ${project}, region ${region}`);
        return provider;
    }
}
