/**
 * Where the bootstrap bundles live and how a published set is laid out: the one owner of the
 * bundle bucket's name, URL and prefixes. `bootstrap.sh` (which fetches), `scripts/publish-bundles.ts`
 * (which stages and uploads) and the AWS stack (which creates the bucket and the two publishing
 * roles) all follow this module; `tests/bootstrap/delivery.test.ts` ties `bootstrap.sh`'s copy of
 * the URL to it. No dependencies: the generator bundle and the Pulumi program may both import it.
 *
 * Layout of the bucket (every object public-read, nothing else is; `agent-boot/` holds the agents' boot scripts):
 *
 *     production/manifest.json                 the last bundle published from main
 *     production/<commit>/bootstrap.js         immutable: one folder per published commit
 *     production/<commit>/pipeline-generator.js
 *     production/<commit>/ci.hcl, ci-bake.sh, upload_codecov.sh   the build helpers of the same commit
 *     production/helpers.sha256                their checksums, for ci-helper.sh
 *     branches/<branch>/manifest.json          same, for any other branch of this repository
 *     branches/<branch>/<commit>/...
 *
 * A publish uploads the commit folder first and the manifest last, so a reader never sees a
 * manifest naming files that are not there; the manifest carries each file's sha256, which
 * `bootstrap.sh` checks before it runs anything.
 */

/** The bundle bucket (created by the AWS stack, us-west-2, versioned, public read of `PUBLIC_READ_PREFIXES` only). */
export const BUNDLE_BUCKET = "vllm-ci-bootstrap-bundles";
export const BUNDLE_BUCKET_REGION = "us-west-2";
/** The only base URL `bootstrap.sh` fetches from (`VLLM_CI_BUNDLE_URL` may only repeat it). */
export const BUNDLE_BUCKET_URL = `https://${BUNDLE_BUCKET}.s3.${BUNDLE_BUCKET_REGION}.amazonaws.com`;

/** Written only from `main`, in the protected environment, by the production role. */
export const PRODUCTION_PREFIX = "production";
/** Written by the branch role from any other branch push (never from tags or pull requests). */
export const BRANCH_PREFIX = "branches";
/**
 * The fleet's agent boot scripts (`agent-boot/<sha256>.sh`, public read, immutable), written by the
 * AWS stack itself: the Elastic CI Stacks' `BootstrapScriptUrl` points here.
 */
export const AGENT_BOOT_PREFIX = "agent-boot";
/** Every prefix anyone may read without credentials (the bucket policy's only public grant). */
export const PUBLIC_READ_PREFIXES = [PRODUCTION_PREFIX, BRANCH_PREFIX, AGENT_BOOT_PREFIX] as const;
/** The GitHub environment the production publish runs in (the production role trusts only it). */
export const PRODUCTION_ENVIRONMENT = "bundles-production";
/** The branch whose bundles are production. */
export const PRODUCTION_BRANCH = "main";

/** The files of one published set. */
export const BUNDLE_FILES = ["bootstrap.js", "pipeline-generator.js"] as const;
export type BundleFile = (typeof BUNDLE_FILES)[number];

/**
 * The build helpers vLLM's jobs run (README.md, Build helpers): published in the same commit
 * folder, by name, from these paths of this repository. `ci-helper.sh` fetches them.
 */
export const BUILD_HELPERS = {
    "ci.hcl": "docker/ci.hcl",
    "ci-bake.sh": "buildkite/scripts/ci-bake.sh",
    "upload_codecov.sh": "buildkite/scripts/upload_codecov.sh",
} as const;
export type BuildHelper = keyof typeof BUILD_HELPERS;
/**
 * `<prefix>/helpers.sha256`: one `<sha256>  <key>` line per helper (sha256sum's format), written
 * with the manifest, so that `ci-helper.sh` checks them with coreutils alone (no Node.js in test
 * containers). It repeats the manifest's entries for the helpers, nothing else.
 */
export const HELPERS_LIST = "helpers.sha256";

export interface BundleManifest {
    /** Format version of this manifest. */
    schema: 1;
    /** The branch it was published from. */
    ref: string;
    /** The commit the bundles were built from (40 hex digits). */
    commit: string;
    /** Each file (bundles and build helpers): its key in the bucket, sha256 (hex) and size. */
    files: Record<BundleFile | BuildHelper, { key: string; sha256: string; bytes: number }>;
}

/**
 * A branch name we publish and fetch: git's rules, narrowed to what is safe in a URL path and an
 * S3 key without escaping (no `..`, no leading or trailing `/`, no `//`, no `.lock` suffix).
 * `bootstrap.sh` applies the same rule (tested together).
 */
export const BRANCH_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/;

export function isPublishableBranch(ref: string): boolean {
    return (
        ref.length <= 200 &&
        BRANCH_NAME_PATTERN.test(ref) &&
        !ref.includes("..") &&
        !ref.includes("//") &&
        !ref.endsWith("/") &&
        !ref.endsWith(".lock") &&
        !ref.split("/").some((part) => part.startsWith("."))
    );
}

/** The prefix (no trailing slash) of a branch's bundles: `production` for main, `branches/<ref>` otherwise. */
export function bundlePrefix(ref: string): string {
    return ref === PRODUCTION_BRANCH ? PRODUCTION_PREFIX : `${BRANCH_PREFIX}/${ref}`;
}
