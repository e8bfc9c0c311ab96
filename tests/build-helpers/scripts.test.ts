/**
 * The build helpers as builds run them: under shellcheck, then with recording fakes of `docker`,
 * `buildkite-agent`, `curl`, `python3`, `git` and `codecov` first on PATH (each case asserts the
 * exit code, the calls and a time bound), and delivered through `ci-helper.sh` from a local server
 * standing in for the bundle bucket (checksums checked, a tampered helper refused).
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BRANCH_PREFIX, BUILD_HELPERS, BUNDLE_BUCKET_URL, HELPERS_LIST, PRODUCTION_PREFIX, bundlePrefix } from "../../lib/bundle-delivery";
import { stagePublish } from "../../scripts/publish-bundles";
import { startServer, type Server } from "../bootstrap/harness";

const ROOT = path.resolve(__dirname, "..", "..");
const CI_BAKE = path.join(ROOT, BUILD_HELPERS["ci-bake.sh"]);
const CODECOV = path.join(ROOT, BUILD_HELPERS["upload_codecov.sh"]);
const HELPER = path.join(ROOT, "ci-helper.sh");
const URL_LINE = /^readonly BUNDLE_BUCKET_URL="([^"]+)"$/m;
/** Every case here ends well within this, hangs included (their bounds are set to 1 s). */
const BOUND_MS = 8_000;

/** A fake: records `name<TAB>arg<TAB>arg...` and behaves as `FAKE_*` variables say. */
const FAKE = (name: string, body: string) => `#!/bin/bash
{ printf '%s' ${name}; printf '\\t%s' "$@"; printf '\\n'; } >>"$FAKE_LOG"
${body}
`;
const FAKES: Record<string, string> = {
    docker: `
case "$1 $2" in
  "manifest inspect") case "\${FAKE_MANIFEST:-absent}" in exists) exit 0 ;; hang) exec sleep 30 ;; *) exit 1 ;; esac ;;
  "buildx inspect") [[ -n "$3" && "$3" != --* && "\${FAKE_BUILDER:-absent}" == absent ]] && exit 1; exit 0 ;;
  "buildx bake")
    for a in "$@"; do [[ "$a" == --print ]] && { echo '{"target":{"test-ci":{}}}'; exit 0; }; done
    prev=""; for a in "$@"; do [[ "$prev" == -f ]] && cp "$a" "$FAKE_LOG.hcl.$(basename "$a")" 2>/dev/null; prev="$a"; done
    exit "\${FAKE_BAKE_EXIT:-0}" ;;
esac
exit 0`,
    "buildkite-agent": `[[ "$1 $2" == "artifact upload" ]] && exit "\${FAKE_UPLOAD_EXIT:-0}"; exit 0`,
    curl: `
out=""; url=""; prev=""
for a in "$@"; do [[ "$prev" == -o || "$prev" == --output ]] && out="$a"; [[ "$a" == http* ]] && url="$a"; prev="$a"; done
case "$url" in
  *169.254.169.254*) exit 7 ;;
  */codecov.SHA256SUM) [[ "\${FAKE_DOWNLOAD:-ok}" == down ]] && exit 22; printf '%s  codecov\\n' "\${FAKE_CLI_SHA:-0000}" >"$out" ;;
  */codecov) [[ "\${FAKE_DOWNLOAD:-ok}" == down ]] && exit 22; printf '#!/bin/bash\\necho downloaded-cli-ran >>"$FAKE_LOG"\\n' >"$out" ;;
  *) exit 6 ;;
esac`,
    python3: `
[[ "$1 $2 $3" == "-m coverage combine" ]] && { [[ "\${FAKE_COMBINE:-ok}" == nodata ]] && { echo "No data to combine"; exit 0; }; : >.coverage; echo "Combined data file"; exit 0; }
[[ "$1 $2 $3" == "-m coverage xml" ]] && { echo '<class name="a.py" filename="vllm/a.py">' >coverage.xml; exit 0; }
exit 1`,
    git: `[[ "$1" == rev-parse ]] && { echo "\${FAKE_PARENT:-1111111111111111111111111111111111111111}"; exit 0; }; exit 1`,
    codecov: `printf 'codecov-env\\ttoken=%s\\n' "\${CODECOV_TOKEN:+set}" >>"$FAKE_LOG"; [[ "\${FAKE_CODECOV:-ok}" == hang ]] && exec sleep 30; [[ "\${FAKE_CODECOV:-ok}" == fail ]] && exit 1; exit 0`,
};

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
    calls: string[][];
    ms: number;
    /** The calls log; the fake docker copies each bake file it is given beside it (`<log>.hcl.<name>`). */
    log: string;
}

describe("build helpers (ci-bake.sh, upload_codecov.sh, ci-helper.sh)", function () {
    this.timeout(60_000);
    let tmp: string;
    let vllm: string;
    let workspace: string;

    /** A folder of fakes: the named ones only (a tool left out is absent from PATH). */
    const fakeBin = (names: string[]): string => {
        const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
        for (const name of names) fs.writeFileSync(path.join(bin, name), FAKE(name, FAKES[name]), { mode: 0o755 });
        return bin;
    };
    const run = (command: string[], env: Record<string, string>, options: { fakes?: string[]; cwd?: string } = {}): Promise<Run> => {
        const log = path.join(fs.mkdtempSync(path.join(tmp, "log-")), "calls");
        fs.writeFileSync(log, "");
        const bin = fakeBin(options.fakes ?? Object.keys(FAKES));
        const started = Date.now();
        return new Promise((resolve) => {
            const child = spawn("/bin/bash", command, {
                cwd: options.cwd ?? vllm,
                env: { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, TMPDIR: tmp, FAKE_LOG: log, ...env },
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (status) => {
                const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => line.split("\t"));
                resolve({ status, stdout, stderr, calls, ms: Date.now() - started, log });
            });
        });
    };
    const of = (r: Run, tool: string) => r.calls.filter((c) => c[0] === tool).map((c) => c.slice(1).join(" "));

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "build-helpers-"));
        vllm = path.join(tmp, "vllm");
        fs.mkdirSync(path.join(vllm, "docker"), { recursive: true });
        fs.writeFileSync(path.join(vllm, "docker", "docker-bake.hcl"), 'target "_common" {}\n');
        workspace = path.join(tmp, "workspace");
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("pass shellcheck", () => {
        const result = spawnSync("shellcheck", ["-x", CI_BAKE, CODECOV, HELPER], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    describe("ci-bake.sh", () => {
        const BASE = { BUILDKITE_BUILD_NUMBER: "42", BUILDKITE_JOB_ID: "job-1", VLLM_CI_PROBE_TIMEOUT_S: "1" };

        it("builds test-ci from vLLM's bake file and ci.hcl on a new docker-container builder, and uploads the resolved configuration", async () => {
            const r = await run([CI_BAKE], { ...BASE, IMAGE_TAG: "registry/vllm:abc" });
            assert.equal(r.status, 0, r.stderr);
            const hcl = path.join(ROOT, BUILD_HELPERS["ci.hcl"]);
            assert.deepEqual(of(r, "docker"), [
                "manifest inspect registry/vllm:abc",
                "buildx inspect vllm-builder",
                "buildx create --name vllm-builder --driver docker-container --use",
                "buildx inspect --bootstrap",
                `buildx bake -f docker/docker-bake.hcl -f ${hcl} --print test-ci`,
                `buildx bake -f docker/docker-bake.hcl -f ${hcl} --progress plain test-ci`,
            ]);
            // The name the AMI rebuild pipeline downloads (rebuild-cpu-ami.yml: bake-config-build-<build number>.json).
            assert.deepEqual(of(r, "buildkite-agent"), ["artifact upload bake-config-build-42.json"]);
            assert.match(fs.readFileSync(path.join(vllm, "bake-config-build-42.json"), "utf8"), /test-ci/);
            assert.match(r.stdout, /instance metadata: not available/);
            assert.ok(r.ms < BOUND_MS, `${r.ms} ms`);
        });

        it("builds nothing when the image exists", async () => {
            const r = await run([CI_BAKE], { ...BASE, IMAGE_TAG: "registry/vllm:abc", FAKE_MANIFEST: "exists" });
            assert.equal(r.status, 0);
            assert.deepEqual(of(r, "docker"), ["manifest inspect registry/vllm:abc"]);
        });

        it("a registry that hangs, a failed artifact upload, no buildkite-agent: warnings, within the bound, and the build runs", async () => {
            const hung = await run([CI_BAKE, "cache-warm"], { ...BASE, IMAGE_TAG: "x", FAKE_MANIFEST: "hang", FAKE_UPLOAD_EXIT: "1", FAKE_BUILDER: "present" });
            assert.equal(hung.status, 0, hung.stderr);
            assert.ok(hung.ms < BOUND_MS, `${hung.ms} ms`);
            assert.match(hung.stderr, /warning: could not upload bake-config-build-42\.json/);
            assert.ok(of(hung, "docker").includes("buildx use vllm-builder"));
            assert.match(of(hung, "docker").at(-1)!, /--progress plain cache-warm$/);
            const noAgent = await run([CI_BAKE], BASE, { fakes: ["docker", "curl", "git"] });
            assert.equal(noAgent.status, 0, noAgent.stderr);
            assert.match(of(noAgent, "docker").at(-1)!, /--progress plain test-ci$/);
        });

        it("fails the step when the build fails or a bake file is missing", async () => {
            const failed = await run([CI_BAKE], { ...BASE, FAKE_BAKE_EXIT: "17" });
            assert.equal(failed.status, 17);
            const elsewhere = await run([CI_BAKE], BASE, { cwd: tmp });
            assert.equal(elsewhere.status, 1);
            assert.match(elsewhere.stderr, /^error: vLLM's bake file docker\/docker-bake\.hcl is not here/m);
            const noHcl = await run([CI_BAKE], { ...BASE, VLLM_CI_HCL: path.join(tmp, "nope.hcl") });
            assert.equal(noHcl.status, 1);
            assert.match(noHcl.stderr, /^error: no ci\.hcl/m);
        });
    });

    describe("upload_codecov.sh", () => {
        const coverage = () => {
            fs.rmSync(workspace, { recursive: true, force: true });
            fs.mkdirSync(path.join(workspace, "tests"), { recursive: true });
            fs.writeFileSync(path.join(workspace, "tests", ".coverage.host.1"), "data");
        };
        const BASE = () => ({ VLLM_CI_WORKSPACE: workspace, VLLM_CI_NETWORK_TIMEOUT_S: "1", BUILDKITE_BRANCH: "main", BUILDKITE_COMMIT: "c0ffee", BUILDKITE_BUILD_NUMBER: "42" });
        const TOKEN = "SENTINEL-CODECOV-TOKEN-9a7f";

        it("COV_ENABLED=0 uploads nothing, calls nothing, exits 0", async () => {
            coverage();
            const r = await run([CODECOV, "Kernels Test (A100)"], { ...BASE(), COV_ENABLED: "0", CODECOV_TOKEN: TOKEN });
            assert.equal(r.status, 0);
            assert.deepEqual(r.calls, []);
            assert.match(r.stdout, /coverage: COV_ENABLED=0; nothing uploaded/);
        });

        it("uploads the combined report under the step's flag, the token only in the environment", async () => {
            coverage();
            const r = await run([CODECOV, "Kernels Test (A100) %2"], { ...BASE(), CODECOV_TOKEN: TOKEN, BUILDKITE_PULL_REQUEST: "123", BUILDKITE_PULL_REQUEST_REPO: "https://github.com/vllm-project/vllm.git" });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(of(r, "python3"), ["-m coverage combine --keep", "-m coverage xml -o coverage.xml"]);
            assert.deepEqual(of(r, "codecov"), [
                `upload-process -f coverage.xml --git-service github --build 42 --branch main --sha c0ffee --slug vllm-project/vllm --flag kernels_test_a100_2 --name Kernels Test (A100) %2 --dir ${workspace} --disable-search --pr 123`,
            ]);
            assert.doesNotMatch(JSON.stringify(r.calls) + r.stdout + r.stderr, new RegExp(TOKEN));
            assert.deepEqual(of(r, "codecov-env"), ["token=set"], "the CLI reads the token from its environment");
            assert.ok(fs.existsSync(path.join(workspace, ".coverage.host.1")), "data files are combined in the workspace");
        });

        it("a fork's PR uploads to the fork without a token; upstream without one skips", async () => {
            coverage();
            const fork = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN, BUILDKITE_PULL_REQUEST: "7", BUILDKITE_PULL_REQUEST_REPO: "git@github.com:someone/vllm.git" });
            assert.equal(fork.status, 0);
            assert.match(of(fork, "codecov")[0], /--slug someone\/vllm /);
            assert.deepEqual(of(fork, "codecov-env"), ["token="], "upstream's token is not handed to a fork's upload");
            coverage();
            const upstream = await run([CODECOV, "x"], BASE());
            assert.equal(upstream.status, 0);
            assert.deepEqual(of(upstream, "codecov"), []);
            assert.match(upstream.stdout, /CODECOV_TOKEN is not set/);
        });

        it("never fails the build: no data, no CLI and no network, a CLI that does not match its checksum, an upload that hangs", async () => {
            fs.rmSync(workspace, { recursive: true, force: true });
            fs.mkdirSync(workspace);
            const none = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN });
            assert.equal(none.status, 0);
            assert.match(none.stdout, /no \.coverage\.\* files/);
            coverage();
            const noData = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN, FAKE_COMBINE: "nodata" });
            assert.equal(noData.status, 0);
            assert.match(noData.stdout, /no coverage data to combine/);
            const withoutCli = ["curl", "python3"];
            coverage();
            const offline = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN, FAKE_DOWNLOAD: "down" }, { fakes: withoutCli });
            assert.equal(offline.status, 0);
            assert.match(offline.stdout, /could not download the Codecov CLI/);
            coverage();
            const tampered = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN, FAKE_CLI_SHA: "0".repeat(64) }, { fakes: withoutCli });
            assert.equal(tampered.status, 0);
            assert.match(tampered.stdout, /does not match its SHA256SUM/);
            assert.ok(!tampered.calls.some((c) => c[0] === "downloaded-cli-ran"), "the unchecked CLI never runs");
            coverage();
            const hung = await run([CODECOV, "x"], { ...BASE(), CODECOV_TOKEN: TOKEN, FAKE_CODECOV: "hang" });
            assert.equal(hung.status, 0);
            assert.match(hung.stdout, /failed or took more than 1s/);
            for (const r of [none, noData, offline, tampered, hung]) assert.ok(r.ms < BOUND_MS, `${r.ms} ms`);
        });
    });

    describe("delivery through the bundle bucket (ci-helper.sh)", () => {
        let server: Server;
        let bucket: string;
        let localHelper: string;
        const COMMIT = "c".repeat(40);

        before(async () => {
            server = await startServer();
            bucket = path.join(tmp, "bucket");
            server.bucketDir = bucket;
            const dist = path.join(tmp, "dist");
            fs.mkdirSync(dist, { recursive: true });
            for (const name of ["bootstrap.js", "pipeline-generator.js"]) fs.writeFileSync(path.join(dist, name), `// ${name}\n`);
            stagePublish({ ref: "main", commit: COMMIT, distDir: dist, outDir: bucket });
            stagePublish({ ref: "feature/x", commit: "d".repeat(40), distDir: dist, outDir: bucket });
            const original = fs.readFileSync(HELPER, "utf8");
            const local = original.replace(URL_LINE, `readonly BUNDLE_BUCKET_URL="${server.url}/bucket"`);
            assert.deepEqual(original.split("\n").filter((line, i) => line !== local.split("\n")[i]), [`readonly BUNDLE_BUCKET_URL="${BUNDLE_BUCKET_URL}"`]);
            localHelper = path.join(tmp, "ci-helper-local.sh");
            fs.writeFileSync(localHelper, local, { mode: 0o755 });
        });
        after(() => server.close());
        // The real curl talks to the local bucket; the other tools stay fakes.
        const NO_CURL = { fakes: ["docker", "buildkite-agent", "git", "python3", "codecov"] };

        it("names the bucket, prefixes and checksum list of lib/bundle-delivery.ts", () => {
            const script = fs.readFileSync(HELPER, "utf8");
            assert.equal(URL_LINE.exec(script)?.[1], BUNDLE_BUCKET_URL);
            assert.match(script, new RegExp(`^readonly PRODUCTION_PREFIX="${PRODUCTION_PREFIX}"$`, "m"));
            assert.match(script, new RegExp(`^readonly BRANCH_PREFIX="${BRANCH_PREFIX}"$`, "m"));
            assert.match(script, new RegExp(`^readonly HELPERS_LIST="${HELPERS_LIST.replace(".", "\\.")}"$`, "m"));
        });

        it("publishes each helper in the commit folder, in the manifest and in the checksum list", () => {
            const manifest = JSON.parse(fs.readFileSync(path.join(bucket, "production", "manifest.json"), "utf8"));
            const list = fs.readFileSync(path.join(bucket, "production", HELPERS_LIST), "utf8").trim().split("\n");
            assert.deepEqual(list, Object.keys(BUILD_HELPERS).map((name) => `${manifest.files[name].sha256}  production/${COMMIT}/${name}`));
            for (const [name, source] of Object.entries(BUILD_HELPERS)) {
                assert.deepEqual(fs.readFileSync(path.join(bucket, "production", COMMIT, name)), fs.readFileSync(path.join(ROOT, source)), name);
            }
            assert.equal(bundlePrefix("feature/x"), "branches/feature/x");
            assert.ok(fs.existsSync(path.join(bucket, "branches", "feature", "x", HELPERS_LIST)));
        });

        it("runs the checked helper with its arguments, ci-bake.sh with the checked ci.hcl beside it", async () => {
            const cov = await run([localHelper, "upload_codecov.sh", "label"], { COV_ENABLED: "0" }, NO_CURL);
            assert.equal(cov.status, 0, cov.stderr);
            assert.match(cov.stdout, new RegExp(`upload_codecov\\.sh \\(ci-infra main at ${COMMIT}, sha256 [0-9a-f]{64}\\)`));
            assert.match(cov.stdout, /coverage: COV_ENABLED=0; nothing uploaded/);
            const bakeRun = await run([localHelper, "ci-bake.sh", "test-ci"], { VLLM_CI_BRANCH: "feature/x", BUILDKITE_BUILD_NUMBER: "5", VLLM_CI_PROBE_TIMEOUT_S: "1" }, NO_CURL);
            assert.equal(bakeRun.status, 0, bakeRun.stderr);
            const build = of(bakeRun, "docker").at(-1)!;
            assert.match(build, /^buildx bake -f docker\/docker-bake\.hcl -f \S+\/ci\.hcl --progress plain test-ci$/);
            assert.deepEqual(fs.readFileSync(`${bakeRun.log}.hcl.ci.hcl`), fs.readFileSync(path.join(ROOT, BUILD_HELPERS["ci.hcl"])), "the build used the published ci.hcl");
        });

        it("refuses, with exit 3 and before running anything, a tampered helper, an unpublished branch, another URL, an unknown helper", async () => {
            const file = path.join(bucket, "production", COMMIT, "upload_codecov.sh");
            const good = fs.readFileSync(file);
            fs.writeFileSync(file, Buffer.concat([good, Buffer.from("\necho tampered >>\"$FAKE_LOG\"\n")]));
            try {
                const tampered = await run([localHelper, "upload_codecov.sh", "x"], { COV_ENABLED: "0" }, NO_CURL);
                assert.equal(tampered.status, 3);
                assert.match(tampered.stderr, /upload_codecov\.sh of ci-infra main at c{40} does not match its checksum .* refusing to run it/);
                assert.ok(!tampered.calls.some((c) => c[0] === "tampered"));
                assert.doesNotMatch(tampered.stdout, /coverage:/);
            } finally {
                fs.writeFileSync(file, good);
            }
            const cases: [Record<string, string>, string[], RegExp][] = [
                [{ VLLM_CI_BRANCH: "never-pushed" }, ["ci-bake.sh"], /branch 'never-pushed' has no published build helpers .*HTTP 403/],
                [{ VLLM_CI_BRANCH: "../etc" }, ["ci-bake.sh"], /is not a branch name/],
                [{ VLLM_CI_BUNDLE_URL: "https://evil.example" }, ["ci-bake.sh"], /is not the managed bundle bucket/],
                [{}, ["rm-rf.sh"], /publishes no helper 'rm-rf\.sh' \(it has: ci\.hcl ci-bake\.sh upload_codecov\.sh \)/],
                [{}, [], /name the helper to run/],
            ];
            for (const [env, args, message] of cases) {
                const r = await run([localHelper, ...args], env, NO_CURL);
                assert.equal(r.status, 3, `${JSON.stringify(env)} ${args}: ${r.stderr}`);
                assert.match(r.stderr, message);
                assert.deepEqual(r.calls, []);
            }
        });
    });
});
