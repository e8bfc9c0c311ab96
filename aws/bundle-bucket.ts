/**
 * The bundle bucket (`lib/bundle-delivery.ts` owns its name, region and layout): where every
 * build's bootstrap fetches the pipeline generator from, and where the agents' boot scripts live.
 * Versioned, SSE-S3, ACLs off; anyone may read `production/*`, `branches/*` and `agent-boot/*`,
 * nothing else (no public listing: a missing key answers 403). Two GitHub OIDC roles publish:
 * the production role from `main` in the protected environment only, the branch role from any
 * other branch push. The boot scripts are written here by the stack itself.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { BRANCH_PREFIX, BUNDLE_BUCKET, PRODUCTION_ENVIRONMENT, PRODUCTION_PREFIX, PUBLIC_READ_PREFIXES } from "../lib/bundle-delivery";
import { arn, policyDocument } from "./iam-policies";

/** GitHub Actions' OIDC issuer and the audience its tokens carry for AWS. */
export const GITHUB_OIDC = { host: "token.actions.githubusercontent.com", audience: "sts.amazonaws.com" } as const;
/** Days before old versions of any object, and current objects under `branches/`, expire. */
export const BUNDLE_EXPIRY_DAYS = { noncurrentVersions: 30, branches: 90 } as const;
/** The two publishing roles' names. */
export const BUNDLE_PUBLISHER_ROLES = { production: "vllm-ci-bundles-production", branch: "vllm-ci-bundles-branch" } as const;

/** The bucket policy: public `s3:GetObject` on the public prefixes only. */
export function bundleBucketPolicy(bucket: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "PublicReadOfBundlesAndBootScripts",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: PUBLIC_READ_PREFIXES.map((prefix) => arn.s3Objects(bucket, `${prefix}/`)),
            },
        ],
    });
}

/** Who may assume a publishing role: GitHub's OIDC tokens for `sub`, from the given repository. */
export function publisherTrustPolicy(providerArn: string, repository: string, kind: keyof typeof BUNDLE_PUBLISHER_ROLES): string {
    const subject =
        kind === "production"
            ? { StringEquals: { [`${GITHUB_OIDC.host}:sub`]: `repo:${repository}:environment:${PRODUCTION_ENVIRONMENT}` } }
            : { StringLike: { [`${GITHUB_OIDC.host}:sub`]: `repo:${repository}:ref:refs/heads/*` } };
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "GitHubActionsOfTheRepository",
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience }, ...subject },
            },
        ],
    });
}

/** What a publishing role may do: put objects under its prefix, nothing else. */
export function publisherPolicy(bucket: string, kind: keyof typeof BUNDLE_PUBLISHER_ROLES): string {
    const prefix = kind === "production" ? PRODUCTION_PREFIX : BRANCH_PREFIX;
    return JSON.stringify(policyDocument([{ Sid: "PublishBundles", Effect: "Allow", Action: ["s3:PutObject"], Resource: [arn.s3Objects(bucket, `${prefix}/`)] }]));
}

export interface BundleBucketArgs {
    /** The account (the existing OIDC provider's ARN is built from it). */
    readonly accountId: string;
    /** The repository whose workflows publish (`owner/name`). */
    readonly publisherRepository: string;
    /** Create the account's GitHub OIDC identity provider; otherwise the roles trust the one that exists. */
    readonly createGithubOidc: boolean;
    /** The agents' boot scripts to write (key under `agent-boot/` and content). */
    readonly agentBootScripts: readonly { readonly key: string; readonly content: string }[];
}

/** The bundle bucket, its publishing roles and the agents' boot scripts. Pass the bucket region's provider in `opts.provider`. */
export class BundleBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    /** The public-read policy; readers of the boot scripts wait for it. */
    public readonly bucketPolicy: aws.s3.BucketPolicy;
    /** The boot scripts, by key. */
    public readonly agentBootObjects: ReadonlyMap<string, aws.s3.BucketObjectv2>;
    /** Role ARNs for the repository variables `BUNDLES_PRODUCTION_ROLE_ARN` and `BUNDLES_BRANCH_ROLE_ARN`. */
    public readonly publisherRoleArns: { production: pulumi.Output<string>; branch: pulumi.Output<string> };

    constructor(name: string, args: BundleBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:BundleBucket", name, {}, opts);
        const child = { parent: this };
        const bucket = new aws.s3.Bucket(name, { bucket: BUNDLE_BUCKET }, { ...child, retainOnDelete: true });
        new aws.s3.BucketVersioning(name, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, child);
        new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        // ACLs stay blocked; the public-read policy is what makes the three prefixes readable (s3-public-access-blocked allows exactly that).
        const accessBlock = new aws.s3.BucketPublicAccessBlock(
            name,
            { bucket: bucket.id, blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false },
            child,
        );
        this.bucketPolicy = new aws.s3.BucketPolicy(name, { bucket: bucket.id, policy: bundleBucketPolicy(BUNDLE_BUCKET) }, { ...child, dependsOn: [accessBlock] });
        new aws.s3.BucketLifecycleConfiguration(
            name,
            {
                bucket: bucket.id,
                rules: [
                    { id: "expire-old-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: BUNDLE_EXPIRY_DAYS.noncurrentVersions } },
                    { id: "expire-branch-bundles", status: "Enabled", filter: { prefix: `${BRANCH_PREFIX}/` }, expiration: { days: BUNDLE_EXPIRY_DAYS.branches } },
                ],
            },
            child,
        );

        const providerArn =
            args.createGithubOidc
                ? new aws.iam.OpenIdConnectProvider(`${name}-github-oidc`, { url: `https://${GITHUB_OIDC.host}`, clientIdLists: [GITHUB_OIDC.audience] }, { ...child, retainOnDelete: true }).arn
                : pulumi.output(`arn:aws:iam::${args.accountId}:oidc-provider/${GITHUB_OIDC.host}`);
        const role = (kind: keyof typeof BUNDLE_PUBLISHER_ROLES) => {
            const created = new aws.iam.Role(
                `${name}-${kind}-publisher`,
                { name: BUNDLE_PUBLISHER_ROLES[kind], assumeRolePolicy: providerArn.apply((provider) => publisherTrustPolicy(provider, args.publisherRepository, kind)) },
                child,
            );
            new aws.iam.RolePolicy(`${name}-${kind}-publisher`, { name: "publish-bundles", role: created.name, policy: publisherPolicy(BUNDLE_BUCKET, kind) }, child);
            return created.arn;
        };
        this.publisherRoleArns = { production: role("production"), branch: role("branch") };

        const objects = new Map<string, aws.s3.BucketObjectv2>();
        for (const script of args.agentBootScripts) {
            const objectName = `${name}-${script.key.split("/").pop()!.replace(/\.sh$/, "").slice(0, 16)}`;
            objects.set(
                script.key,
                new aws.s3.BucketObjectv2(
                    objectName,
                    { bucket: bucket.id, key: script.key, content: script.content, contentType: "text/x-shellscript" },
                    // Instances of a rolled-back stack still boot from the previous script: never delete one.
                    { ...child, retainOnDelete: true },
                ),
            );
        }
        this.agentBootObjects = objects;
        this.bucket = bucket;
        this.registerOutputs({ bucket: bucket.bucket, publisherRoleArns: this.publisherRoleArns });
    }
}
