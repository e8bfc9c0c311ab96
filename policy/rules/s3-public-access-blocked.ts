/** Every S3 bucket blocks public access, all four ways. */
import { ofTypes, pointsAt, violation, type FleetRule, type Subject, type Violation } from "../subject";

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlocked: FleetRule = {
    name: "s3-public-access-blocked",
    description: "Every S3 bucket has a public access block with all four settings on.",
    check(subjects: Subject[]): Violation[] {
        const blocks = ofTypes(subjects, BLOCK);
        const violations: Violation[] = [];
        for (const bucket of ofTypes(subjects, ...BUCKETS)) {
            const mine = blocks.filter((b) => pointsAt(b, "bucket", bucket, [bucket.props.bucket, `${bucket.name}-id`]));
            if (mine.length === 0) {
                violations.push(violation(this, bucket, "bucket has no public access block"));
                continue;
            }
            const off = FLAGS.filter((flag) => !mine.some((b) => b.props[flag] === true));
            if (off.length > 0) violations.push(violation(this, bucket, `public access block leaves ${off.join(", ")} off`));
        }
        return violations;
    },
};
