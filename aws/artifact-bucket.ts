/**
 * An S3 bucket for CI artifacts (wheels, the compiler cache). With access `private` the program
 * also declares its public access block (all four flags), SSE-S3 encryption and ACLs off; with
 * `live` (the default for the buckets that exist: Terraform never managed those settings, and
 * `vllm-wheels` may serve public downloads) it declares none of them, so the import changes
 * nothing on the live bucket.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { BUCKET_ACCESS, type BucketAccess } from "./settings";

export interface ArtifactBucketArgs {
    /** Bucket name, for example `vllm-wheels`. */
    readonly bucketName: pulumi.Input<string>;
    /** Keep the live access settings, or declare them private (config `ci:awsBucketAccess`). */
    readonly access: BucketAccess;
}

/** An artifact bucket, with its access settings when they are the program's. Pass the region's provider in `opts.provider`. */
export class ArtifactBucket extends pulumi.ComponentResource {
    /** The bucket (kept when the resource is deleted). */
    public readonly bucket: aws.s3.Bucket;
    /** Its public access block (all four flags on), when the access is `private`. */
    public readonly publicAccessBlock?: aws.s3.BucketPublicAccessBlock;
    public readonly bucketName: pulumi.Output<string>;
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: ArtifactBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:ArtifactBucket", name, {}, opts);
        const child = { parent: this };
        // Wheels and caches outlive this program: deleting the resource must not delete the data.
        const bucket = new aws.s3.Bucket(name, { bucket: args.bucketName }, { ...child, retainOnDelete: true });
        this.bucket = bucket;
        if (args.access === BUCKET_ACCESS.private) {
            this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
                name,
                { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                child,
            );
            new aws.s3.BucketServerSideEncryptionConfiguration(
                name,
                { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
                child,
            );
            new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        }
        this.bucketName = bucket.bucket;
        this.arn = bucket.arn;
        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
    }
}
