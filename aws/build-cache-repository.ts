/**
 * A private ECR repository holding a BuildKit registry cache. Cache images are rewritten on every
 * build, so anything older than two weeks is dead weight: a lifecycle policy expires it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** Days after push at which cache images expire. */
export const CACHE_EXPIRY_DAYS = 14;

/**
 * An ECR lifecycle policy that expires every image `days` after it was pushed, spelt as the live
 * policy is (Terraform's `jsonencode`: keys sorted): a lifecycle policy is replaced on any change.
 */
export function expireAfterPushPolicy(days: number): string {
    return JSON.stringify({
        rules: [
            {
                action: { type: "expire" },
                rulePriority: 1,
                selection: { countNumber: days, countType: "sinceImagePushed", countUnit: "days", tagStatus: "any" },
            },
        ],
    });
}

export interface BuildCacheRepositoryArgs {
    /** Repository name, for example `vllm-ci-test-cache`. */
    readonly repositoryName: pulumi.Input<string>;
    /** Days after push at which images expire (default 14). */
    readonly expiryDays?: number;
}

/** A BuildKit cache repository that expires its images. Pass the region's provider in `opts.provider`. */
export class BuildCacheRepository extends pulumi.ComponentResource {
    /** The repository (kept when the resource is deleted). */
    public readonly repository: aws.ecr.Repository;
    /** Its lifecycle policy. */
    public readonly lifecyclePolicy: aws.ecr.LifecyclePolicy;
    /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. */
    public readonly repositoryUrl: pulumi.Output<string>;

    constructor(name: string, args: BuildCacheRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:BuildCacheRepository", name, {}, opts);
        const repository = new aws.ecr.Repository(
            name,
            // As it exists: tags stay mutable (cache tags `:latest`, `:pr-123` are overwritten by design).
            { name: args.repositoryName },
            { parent: this, retainOnDelete: true },
        );
        this.repository = repository;
        this.lifecyclePolicy = new aws.ecr.LifecyclePolicy(name, { repository: repository.name, policy: expireAfterPushPolicy(args.expiryDays ?? CACHE_EXPIRY_DAYS) }, { parent: this });
        this.repositoryUrl = repository.repositoryUrl;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl });
    }
}
