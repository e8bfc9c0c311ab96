/**
 * `npx tsx scripts/publish-bundles.ts --ref BRANCH --commit SHA (--stage DIR | --upload)`:
 * lay out the built bundles (`dist/`) as the bucket holds them (`lib/bundle-delivery.ts`) with
 * their manifest, and optionally upload them with the AWS CLI: the commit folder first, the
 * manifest last, so a reader never gets a manifest whose files are not there yet.
 *
 * Run by `.github/workflows/bundles.yml` after `npm run build:generator`, with the credentials of
 * the role that may write this branch's prefix (production for main, branches otherwise).
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { writeFileAtomic } from "../lib/atomic-write";
import { BUILD_HELPERS, BUNDLE_BUCKET, BUNDLE_FILES, bundlePrefix, HELPERS_LIST, isPublishableBranch, type BuildHelper, type BundleManifest } from "../lib/bundle-delivery";

const ROOT = path.resolve(__dirname, "..");

export interface StagedPublish {
    manifest: BundleManifest;
    /** Bucket keys of the files, in upload order (the manifest last). */
    keys: string[];
}

/**
 * Write `<dir>/<prefix>/<commit>/<file>` for the bundles (from `distDir`) and the build helpers
 * (from `sourceDir`, default the repository), then `<prefix>/helpers.sha256` and `<prefix>/manifest.json`.
 */
export function stagePublish(options: { ref: string; commit: string; distDir: string; outDir: string; sourceDir?: string }): StagedPublish {
    const { ref, commit } = options;
    if (!isPublishableBranch(ref)) throw new Error(`--ref ${JSON.stringify(ref)} is not a branch name bundles are published under`);
    if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`--commit must be a 40-digit lowercase hex commit id, got ${JSON.stringify(commit)}`);
    const prefix = bundlePrefix(ref);
    const files = {} as BundleManifest["files"];
    const keys: string[] = [];
    const sources: { name: keyof BundleManifest["files"]; source: string; hint: string }[] = [
        ...BUNDLE_FILES.map((name) => ({ name, source: path.join(options.distDir, name), hint: ": run npm run build:generator first" })),
        ...(Object.entries(BUILD_HELPERS) as [BuildHelper, string][]).map(([name, file]) => ({ name, source: path.join(options.sourceDir ?? ROOT, file), hint: "" })),
    ];
    for (const { name, source, hint } of sources) {
        if (!fs.existsSync(source)) throw new Error(`${source} is missing${hint}`);
        const bytes = fs.readFileSync(source);
        const key = `${prefix}/${commit}/${name}`;
        writeFileAtomic(path.join(options.outDir, key), bytes);
        files[name] = { key, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
        keys.push(key);
    }
    const helpersKey = `${prefix}/${HELPERS_LIST}`;
    const helperLines = (Object.keys(BUILD_HELPERS) as BuildHelper[]).map((name) => `${files[name].sha256}  ${files[name].key}\n`);
    writeFileAtomic(path.join(options.outDir, helpersKey), helperLines.join(""));
    keys.push(helpersKey);
    const manifest: BundleManifest = { schema: 1, ref, commit, files };
    const manifestKey = `${prefix}/manifest.json`;
    writeFileAtomic(path.join(options.outDir, manifestKey), `${JSON.stringify(manifest, null, 2)}\n`);
    keys.push(manifestKey);
    return { manifest, keys };
}

function upload(outDir: string, keys: string[]): void {
    for (const key of keys) {
        const isManifest = key.endsWith("manifest.json") || key.endsWith(HELPERS_LIST);
        const contentType = key.endsWith(".js") ? "application/javascript" : key.endsWith(".json") ? "application/json" : "text/plain";
        const args = [
            "s3",
            "cp",
            path.join(outDir, key),
            `s3://${BUNDLE_BUCKET}/${key}`,
            "--content-type",
            contentType,
            "--cache-control",
            isManifest ? "no-cache" : "public, max-age=31536000, immutable",
        ];
        const result = spawnSync("aws", args, { stdio: "inherit" });
        if (result.status !== 0) throw new Error(`aws ${args.slice(0, 4).join(" ")} failed (exit ${result.status ?? result.error?.message})`);
    }
}

function main(argv: string[]): number {
    try {
        const { values } = parseArgs({
            args: argv,
            options: { ref: { type: "string" }, commit: { type: "string" }, stage: { type: "string" }, upload: { type: "boolean" }, dist: { type: "string" } },
        });
        if (!values.ref || !values.commit || (!values.stage && !values.upload)) {
            throw new Error("usage: publish-bundles.ts --ref BRANCH --commit SHA (--stage DIR | --upload) [--dist DIR]");
        }
        const outDir = values.stage ?? fs.mkdtempSync(path.join(os.tmpdir(), "bundles-"));
        const staged = stagePublish({ ref: values.ref, commit: values.commit, distDir: values.dist ?? path.join(ROOT, "dist"), outDir });
        for (const name of Object.keys(staged.manifest.files) as (keyof BundleManifest["files"])[]) process.stdout.write(`${staged.manifest.files[name].key}  sha256 ${staged.manifest.files[name].sha256}\n`);
        if (values.upload) upload(outDir, staged.keys);
        return 0;
    } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        return 2;
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
