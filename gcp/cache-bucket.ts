/**
 * CacheBucket: a Cloud Storage bucket CI jobs use as a cache (the JAX compilation cache of the TPU
 * jobs, `ullm-ci-cache`), emptied of old objects, with an Anywhere Cache next to the TPUs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { CacheBucketLayout } from "./layout";

export interface CacheBucketArgs {
    /** The bucket, from the catalog (`layoutGcpFleet`). */
    readonly layout: CacheBucketLayout;
}

/** The bucket and its caches. Pass its project's provider in `opts.provider`. */
export class CacheBucket extends pulumi.ComponentResource {
    public readonly bucket: gcp.storage.Bucket;
    public readonly caches: Record<string, gcp.storage.AnywhereCache> = {};

    constructor(name: string, args: CacheBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:CacheBucket", name, {}, opts);
        const { layout } = args;
        this.bucket = new gcp.storage.Bucket(
            layout.name,
            {
                name: layout.name,
                project: layout.project,
                location: layout.location.toUpperCase(),
                storageClass: "STANDARD",
                uniformBucketLevelAccess: true,
                forceDestroy: false,
                softDeletePolicy: { retentionDurationSeconds: 0 },
                lifecycleRules: [{ condition: { age: layout.deleteAfterDays }, action: { type: "Delete" } }],
            },
            // The cache is cheap to rebuild, but deleting the bucket would break every job that syncs it.
            { parent: this, protect: true },
        );
        for (const zone of layout.anywhereCacheZones) {
            this.caches[zone] = new gcp.storage.AnywhereCache(`${layout.name}-${zone}`, { bucket: this.bucket.name, zone, ttl: "86400s" }, { parent: this });
        }
        this.registerOutputs({});
    }
}
