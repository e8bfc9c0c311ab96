/** CiRegistry: the Artifact Registry Docker repository for CI test images, pruned after a week. */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** The live repository (upstream's `terraform/gcp`): its id, description and cleanup policy. */
export const CI_REGISTRY = { repositoryId: "vllm-ci-test-repo-gcp", description: "Hosting images for vLLM CI test", retentionDays: 7, policyId: "delete-old-images" } as const;

/** The cleanup policy that deletes images older than `days` (the live one: tagged or not). */
export function imageRetentionPolicy(days: number): gcp.types.input.artifactregistry.RepositoryCleanupPolicy {
    return { id: CI_REGISTRY.policyId, action: "DELETE", condition: { olderThan: `${days * 24 * 3600}s` } };
}

export interface CiRegistryArgs {
    /** Project of the repository. */
    readonly project: string;
    /** Region of the repository. */
    readonly location: string;
}

/**
 * The CI registry: a Docker repository whose images are deleted after `CI_REGISTRY.retentionDays`.
 * Pass the project's provider in `opts.provider`.
 */
export class CiRegistry extends pulumi.ComponentResource {
    /** The Artifact Registry repository. */
    public readonly repository: gcp.artifactregistry.Repository;
    /** Repository id, for IAM bindings (an output, so they wait for the repository). */
    public readonly repositoryId: pulumi.Output<string>;
    /** Host agents log in to, like `us-central1-docker.pkg.dev`. */
    public readonly host: string;
    /** Image prefix: `<host>/<project>/<repository>`. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: CiRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:CiRegistry", name, {}, opts);
        const repository = new gcp.artifactregistry.Repository(
            name,
            {
                project: args.project,
                location: args.location,
                repositoryId: CI_REGISTRY.repositoryId,
                format: "DOCKER",
                description: CI_REGISTRY.description,
                cleanupPolicies: [imageRetentionPolicy(CI_REGISTRY.retentionDays)],
            },
            { parent: this },
        );
        this.repository = repository;
        this.repositoryId = repository.repositoryId;
        this.host = `${args.location}-docker.pkg.dev`;
        this.url = pulumi.interpolate`${this.host}/${args.project}/${repository.repositoryId}`;
        this.registerOutputs({ url: this.url });
    }
}
