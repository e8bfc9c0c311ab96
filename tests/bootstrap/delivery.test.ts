/**
 * Delivery of the bundle: `scripts/publish-bundles.ts` lays out a publish as the bucket holds
 * it, and `bootstrap.sh` fetches it from a local server standing in for the bucket, checks the
 * sha256 from the manifest, and refuses what it cannot trust: a tampered bundle, a branch never
 * published, an unmanaged URL, a bad branch name, a missing or old Node.js.
 *
 * The script is run unchanged when it must refuse before any request; for the fetches a copy is
 * run whose only difference is the bucket URL line (checked), pointing at 127.0.0.1.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import {
    BRANCH_PREFIX,
    BUNDLE_BUCKET_URL,
    bundlePrefix,
    isPublishableBranch,
    PRODUCTION_PREFIX,
    type BundleManifest,
} from "../../lib/bundle-delivery";
import { stagePublish } from "../../scripts/publish-bundles";
import { agentCalls, ensureBundle, FAST_LIMITS, ROOT, record, Repo, runBootstrap, SCENARIO_BOUND_MS, startServer, writeScenarioTable, type Run, type Server } from "./harness";

const SCRIPT = path.join(ROOT, "bootstrap.sh");
const COMMIT = "a".repeat(40);
const URL_LINE = /^readonly BUNDLE_BUCKET_URL="([^"]+)"$/m;

describe("bundle delivery (publish layout, bootstrap.sh)", function () {
    this.timeout(120_000);
    let server: Server;
    let tmp: string;
    let repo: Repo;
    let localScript: string;
    let bucket: string;

    before(async () => {
        ensureBundle();
        server = await startServer();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "delivery-"));
        bucket = path.join(tmp, "bucket");
        server.bucketDir = bucket;
        stagePublish({ ref: "main", commit: COMMIT, distDir: path.join(ROOT, "dist"), outDir: bucket });
        stagePublish({ ref: "feature/try-me", commit: "b".repeat(40), distDir: path.join(ROOT, "dist"), outDir: bucket });
        const original = fs.readFileSync(SCRIPT, "utf8");
        const local = original.replace(URL_LINE, `readonly BUNDLE_BUCKET_URL="${server.url}/bucket"`);
        localScript = path.join(tmp, "bootstrap-local.sh");
        fs.writeFileSync(localScript, local, { mode: 0o755 });
        const changed = original.split("\n").filter((line, i) => line !== local.split("\n")[i]);
        assert.deepEqual(changed, [`readonly BUNDLE_BUCKET_URL="${BUNDLE_BUCKET_URL}"`], "the copy differs from bootstrap.sh in the URL line only");
        repo = new Repo(path.join(tmp, "vllm"), {
            ".buildkite/ci_config.yaml": yaml.dump({ name: "vllm_ci", job_dirs: [".buildkite/jobs"], registries: "r", repositories: { main: "m", premerge: "p" } }),
            ".buildkite/jobs/a.yaml": yaml.dump({ group: "G", steps: [{ label: "A", key: "a", commands: ["true"] }] }),
        });
        repo.advanceMain(1); // main builds diff HEAD~1..HEAD

    });
    after(async () => {
        await server.close();
        fs.rmSync(tmp, { recursive: true, force: true });
        writeScenarioTable();
    });

    const sh = (script: string, env: Record<string, string>, options: { path?: string; args?: string[] } = {}): Promise<Run> =>
        runBootstrap(tmp, {
            cwd: repo.work,
            command: ["/bin/bash", script, ...(options.args ?? [])],
            path: options.path,
            env: { BUILDKITE_BRANCH: "main", BUILDKITE_PULL_REQUEST: "false", GITHUB_API_URL: `${server.url}/github`, VLLM_WHEELS_URL: `${server.url}/wheels`, ...FAST_LIMITS, ...env },
        });
    const errors = (run: Run) => run.annotations.filter((a) => a.style === "error").map((a) => a.body).join("\n");
    const bundleRequests = () => server.requests.filter((r) => r.url.startsWith("/bucket/"));

    describe("one owner for the bucket, the layout and the rules", () => {
        it("bootstrap.sh names the bucket URL, prefixes and Node.js major of lib/bundle-delivery.ts and the bundle's target", () => {
            const script = fs.readFileSync(SCRIPT, "utf8");
            assert.equal(URL_LINE.exec(script)?.[1], BUNDLE_BUCKET_URL);
            assert.match(script, new RegExp(`^readonly PRODUCTION_PREFIX="${PRODUCTION_PREFIX}"$`, "m"));
            assert.match(script, new RegExp(`^readonly BRANCH_PREFIX="${BRANCH_PREFIX}"$`, "m"));
            const target = /target: "node(\d+)"/.exec(fs.readFileSync(path.join(ROOT, "scripts", "build-generator.ts"), "utf8"))?.[1];
            assert.match(script, new RegExp(`^readonly MIN_NODE_MAJOR=${target}$`, "m"), "the bundle's esbuild target is the Node.js bootstrap.sh requires");
        });

        it("passes shellcheck", () => {
            const result = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
            assert.ifError(result.error); // .ci/run installs shellcheck
            assert.equal(result.status, 0, result.stdout);
        });

        it("the branch-name rule is the same in TypeScript and in bootstrap.sh", async () => {
            const names = ["main", "feature/x", "v0.9.1-fix", "user_1/a.b", "../production", "a//b", "a/", "a..b", ".hidden", "a/.git", "x.lock", "-rf", "a b", "a;b", "$(id)"];
            for (const name of names) {
                const result = await sh(SCRIPT, { VLLM_CI_BRANCH: name, VLLM_CI_BUNDLE_URL: "http://127.0.0.1:1/not-managed" });
                const rejected = /is not a branch name bundles are published under/.test(result.stderr);
                assert.equal(!rejected, isPublishableBranch(name), `${name}: ${result.stderr}`);
            }
        });

        it("a publish: commit folder and manifest with the commit and each file's sha256", () => {
            const out = path.join(tmp, "stage-check");
            const staged = stagePublish({ ref: "main", commit: COMMIT, distDir: path.join(ROOT, "dist"), outDir: out });
            const manifest = JSON.parse(fs.readFileSync(path.join(out, "production", "manifest.json"), "utf8")) as BundleManifest;
            assert.deepEqual(manifest, staged.manifest);
            assert.equal(manifest.commit, COMMIT);
            assert.equal(manifest.files["bootstrap.js"].key, `production/${COMMIT}/bootstrap.js`);
            const bytes = fs.readFileSync(path.join(ROOT, "dist", "bootstrap.js"));
            assert.equal(manifest.files["bootstrap.js"].sha256, require("crypto").createHash("sha256").update(bytes).digest("hex"));
            assert.equal(staged.keys.at(-1), "production/manifest.json", "the manifest is uploaded last");
            assert.equal(bundlePrefix("feature/x"), "branches/feature/x");
            assert.throws(() => stagePublish({ ref: "../production", commit: COMMIT, distDir: path.join(ROOT, "dist"), outDir: out }), /not a branch name/);
            assert.throws(() => stagePublish({ ref: "main", commit: "HEAD", distDir: path.join(ROOT, "dist"), outDir: out }), /40-digit/);
        });
    });

    it("production bundle: fetched, sha256 checked, commit and hash logged, run", async () => {
        const run = await sh(localScript, {});
        record("bootstrap.sh, production bundle", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 0, run.stderr);
        const manifest = JSON.parse(fs.readFileSync(path.join(bucket, "production", "manifest.json"), "utf8")) as BundleManifest;
        assert.match(run.stdout, new RegExp(`bootstrap \\(ci-infra main at ${COMMIT}, bootstrap\\.js sha256 ${manifest.files["bootstrap.js"].sha256}, v\\d+`));
        assert.ok(run.uploaded, "the bundle ran and uploaded");
        assert.deepEqual(run.annotations, [], run.annotations.map((a) => a.body).join("\n"));
    });

    it("a branch bundle (VLLM_CI_BRANCH) comes from its own prefix; arguments reach the bundle", async () => {
        server.requests.length = 0;
        const run = await sh(localScript, { VLLM_CI_BRANCH: "feature/try-me" }, { args: ["--entry", "cuda"] });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(bundleRequests().map((r) => r.url), ["/bucket/branches/feature/try-me/manifest.json", `/bucket/branches/feature/try-me/${"b".repeat(40)}/bootstrap.js`]);
        assert.match(run.stderr, /entry point cuda/);
    });

    it("a tampered bundle: sha256 mismatch, exit 3 before running it, annotated", async () => {
        const tamperedDir = path.join(bucket, "branches", "tampered");
        stagePublish({ ref: "tampered", commit: "c".repeat(40), distDir: path.join(ROOT, "dist"), outDir: bucket });
        const marker = path.join(tmp, "tampered-ran");
        fs.writeFileSync(path.join(tamperedDir, "c".repeat(40), "bootstrap.js"), `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
        const run = await sh(localScript, { VLLM_CI_BRANCH: "tampered" });
        record("bootstrap.sh, tampered bundle", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, /bootstrap\.js of ci-infra tampered at c{40} does not match its manifest \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); refusing to run it/);
        assert.ok(!fs.existsSync(marker), "the tampered bundle never ran");
        assert.equal(run.uploaded, undefined);
        assert.match(errors(run), /does not match its manifest/);
    });

    it("a branch never published: says so, exit 3", async () => {
        const run = await sh(localScript, { VLLM_CI_BRANCH: "never-pushed" });
        record("bootstrap.sh, branch never published", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, /ci-infra branch 'never-pushed' has no published bootstrap bundle \(\S+\/branches\/never-pushed\/manifest\.json answered HTTP 403\)/);
        assert.match(errors(run), /no published bootstrap bundle/);
        assert.equal(agentCalls(run).filter((c) => c.args[0] !== "annotate").length, 0);
    });

    it("a manifest that names files outside its commit folder is refused", async () => {
        const dir = path.join(bucket, "branches", "odd");
        stagePublish({ ref: "odd", commit: "d".repeat(40), distDir: path.join(ROOT, "dist"), outDir: bucket });
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
        manifest.files["bootstrap.js"].key = `production/${COMMIT}/bootstrap.js`;
        fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
        const run = await sh(localScript, { VLLM_CI_BRANCH: "odd" });
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, /the manifest \S+ is not valid: bootstrap\.js key "production\/a{40}\/bootstrap\.js" is outside branches\/odd\/d{40}\//);
    });

    it("VLLM_CI_BUNDLE_URL naming anything but the managed bucket is refused before any request", async () => {
        server.requests.length = 0;
        const run = await sh(SCRIPT, { VLLM_CI_BUNDLE_URL: `${server.url}/bucket` });
        record("bootstrap.sh, unmanaged VLLM_CI_BUNDLE_URL", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, new RegExp(`is not the managed bundle bucket ${BUNDLE_BUCKET_URL.replace(/\./g, "\\.")}`));
        assert.deepEqual(bundleRequests(), []);
        assert.match(errors(run), /not the managed bundle bucket/);
    });

    it("no Node.js on the agent: says what is missing, exit 3", async () => {
        const run = await sh(SCRIPT, {}, { path: "" });
        record("bootstrap.sh, no Node.js", run, SCENARIO_BOUND_MS);
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, /Node\.js >= 20 is needed to run the bootstrap \(found: no node on PATH\); the bootstrap queue's agents install/);
        assert.match(errors(run), /Node\.js >= 20 is needed/);
    });

    it("an old Node.js: names the version found", async () => {
        const old = path.join(tmp, "old-node");
        fs.mkdirSync(old, { recursive: true });
        fs.writeFileSync(path.join(old, "node"), "#!/bin/sh\necho v18.19.0\n", { mode: 0o755 });
        const run = await sh(SCRIPT, {}, { path: old });
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stderr, /found: node v18\.19\.0/);
    });
});
