/**
 * An S3 bucket for CI artifacts (wheels, the compiler cache): public access blocked all four ways,
 * encrypted at rest, and owned by the bucket owner whatever the uploader (ACLs off).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface ArtifactBucketArgs {
    /** Bucket name, for example `vllm-wheels`. */
    readonly bucketName: pulumi.Input<string>;
}

/** An artifact bucket with its public access block, encryption and ownership. Pass the region's provider in `opts.provider`. */
export class ArtifactBucket extends pulumi.ComponentResource {
    /** The bucket (kept when the resource is deleted). */
    public readonly bucket: aws.s3.Bucket;
    /** Its public access block: all four flags on. */
    public readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
    public readonly bucketName: pulumi.Output<string>;
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: ArtifactBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:ArtifactBucket", name, {}, opts);
        const child = { parent: this };
        // Wheels and caches outlive this program: deleting the resource must not delete the data.
        const bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, forceDestroy: false }, { ...child, retainOnDelete: true });
        this.bucket = bucket;
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
        this.bucketName = bucket.bucket;
        this.arn = bucket.arn;
        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
    }
}
