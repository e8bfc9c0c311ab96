/**
 * Every S3 bucket blocks public access, all four ways, with two explicit, narrow exceptions:
 * - a bucket whose access settings stay as they are live (config `ci:awsBucketAccess` `live`: the
 *   program declares none of them, the adoption changes nothing; `vllm-wheels` may be public);
 * - a bucket allowed public read of named prefixes (the bundle bucket: `production/`, `branches/`,
 *   `agent-boot/`): public ACLs still blocked and ignored, and its bucket policy may grant anyone
 *   nothing but `s3:GetObject` on those prefixes.
 */
import { AWS_DEFAULTS } from "../../aws/settings";
import { BUNDLE_BUCKET, PUBLIC_READ_PREFIXES } from "../../lib/bundle-delivery";
import { ofTypes, pointsAt, violation, type FleetRule, type Subject, type Violation } from "../subject";

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
const ACL_FLAGS = ["blockPublicAcls", "ignorePublicAcls"] as const;

/** The exceptions a stack allows. */
export interface PublicAccessExceptions {
    /** Buckets the program does not declare access settings for (kept as they are live). */
    readonly liveAccess: readonly string[];
    /** Buckets anyone may read under these prefixes (no trailing slash), and nothing else. */
    readonly publicRead: Readonly<Record<string, readonly string[]>>;
}

/** The exceptions under the default settings: every artifact bucket live, the bundle bucket's public prefixes. */
export const DEFAULT_EXCEPTIONS: PublicAccessExceptions = {
    liveAccess: [AWS_DEFAULTS.wheelsBucket, AWS_DEFAULTS.devWheelsBucket, AWS_DEFAULTS.compilerCacheBucket],
    publicRead: { [BUNDLE_BUCKET]: [...PUBLIC_READ_PREFIXES] },
};

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function isPublicPrincipal(principal: unknown): boolean {
    if (principal === "*") return true;
    if (principal && typeof principal === "object") return asList((principal as { AWS?: unknown }).AWS).includes("*");
    return false;
}

/** What a bucket policy grants anyone beyond `s3:GetObject` on the allowed prefixes. */
export function publicGrantsBeyond(policy: unknown, bucket: string, prefixes: readonly string[]): string[] {
    let document: { Statement?: unknown } | undefined;
    try {
        document = typeof policy === "string" ? JSON.parse(policy) : (policy as { Statement?: unknown });
    } catch {
        return ["the bucket policy is not JSON"];
    }
    const allowed = new Set(prefixes.map((prefix) => `arn:aws:s3:::${bucket}/${prefix}/*`));
    const found: string[] = [];
    for (const statement of asList(document?.Statement) as Record<string, unknown>[]) {
        if (statement?.Effect !== "Allow" || !isPublicPrincipal(statement.Principal)) continue;
        const actions = asList(statement.Action).map(String);
        const resources = asList(statement.Resource).map(String);
        for (const action of actions.filter((a) => a !== "s3:GetObject")) found.push(`public ${action}`);
        for (const resource of resources.filter((r) => !allowed.has(r))) found.push(`public read of ${resource}`);
        if (statement.NotAction !== undefined || statement.NotResource !== undefined) found.push("a public NotAction/NotResource statement");
    }
    return found;
}

/** The rule with a stack's exceptions. */
export function s3PublicAccessBlockedRule(exceptions: PublicAccessExceptions = DEFAULT_EXCEPTIONS): FleetRule {
    return {
        name: "s3-public-access-blocked",
        description: "Every S3 bucket has a public access block with all four settings on, but the buckets kept as they are live and the named public-read prefixes.",
        check(subjects: Subject[]): Violation[] {
            const blocks = ofTypes(subjects, BLOCK);
            const policies = ofTypes(subjects, POLICY);
            const violations: Violation[] = [];
            for (const bucket of ofTypes(subjects, ...BUCKETS)) {
                const name = String(bucket.props.bucket ?? "");
                const identifiers = [bucket.props.bucket, `${bucket.name}-id`];
                const mine = blocks.filter((b) => pointsAt(b, "bucket", bucket, identifiers));
                const prefixes = exceptions.publicRead[name];
                if (mine.length === 0) {
                    if (!exceptions.liveAccess.includes(name) || prefixes) violations.push(violation(this, bucket, "bucket has no public access block"));
                    continue;
                }
                const required = prefixes ? ACL_FLAGS : FLAGS;
                const off = required.filter((flag) => !mine.some((b) => b.props[flag] === true));
                if (off.length > 0) violations.push(violation(this, bucket, `public access block leaves ${off.join(", ")} off`));
                if (prefixes) {
                    for (const policy of policies.filter((p) => pointsAt(p, "bucket", bucket, identifiers))) {
                        for (const grant of publicGrantsBeyond(policy.props.policy, name, prefixes)) {
                            violations.push(violation(this, bucket, `bucket policy grants ${grant}; only s3:GetObject on ${prefixes.map((p) => `${p}/*`).join(", ")} may be public`));
                        }
                    }
                }
            }
            return violations;
        },
    };
}

export const s3PublicAccessBlocked: FleetRule = s3PublicAccessBlockedRule();
