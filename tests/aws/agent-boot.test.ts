/**
 * The agents' boot scripts as the plan renders them into the bundle bucket: each passes
 * shellcheck, and runs under bash with stub `iptables`, `dnf`, `curl` and a temporary hooks folder
 * to prove what it does: containers kept off the metadata service, the job guard in front of the
 * Elastic CI Stack's hook (refusing pull requests, untrusted branches, repositories and
 * pipelines before anything of the job runs), Node.js on the bootstrap queue, and the GPU script
 * run only when its sha256 matches.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadCatalog, parseCatalog, queueNamed, queuesOf } from "../../catalog";
import { agentBootOf, renderJobGuard } from "../../aws/agent-boot";
import { readAwsSettings } from "../../aws/settings";
import { BUNDLE_BUCKET_URL } from "../../lib/bundle-delivery";
import type { ProgramRun } from "../../plan/harness";
import { sharedPlan } from "../support/plans";

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const STACK = "aws:cloudformation/stack:Stack";
const settings = readAwsSettings((key) => ({ awsAccountId: "111122223333" })[key as "awsAccountId"], "test");
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

/** A folder with stub commands that log their arguments; `iptables -C` finds no rule. */
function sandbox(): { dir: string; bin: string; hooks: string; log: string; env: NodeJS.ProcessEnv } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-boot-"));
    const bin = path.join(dir, "bin");
    const hooks = path.join(dir, "hooks");
    fs.mkdirSync(bin);
    fs.mkdirSync(hooks);
    const log = path.join(dir, "calls.log");
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`, { mode: 0o755 });
    stub("iptables", '[[ "$1" == "-C" ]] && exit 1; exit 0');
    stub("ip6tables", '[[ "$1" == "-C" ]] && exit 1; exit 0');
    // dnf "installs" node-20 by writing it into the stub folder.
    stub("dnf", `printf '#!/usr/bin/env bash\\necho v20.19.5\\n' > "${bin}/node-20"; chmod +x "${bin}/node-20"`);
    stub("curl", 'out=""; while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && out="$2"; shift; done; cp "$CHAINED_SOURCE" "$out"');
    // Only the stubs and the basics: no real iptables, node or dnf of the machine.
    const basics = ["bash", "cat", "mv", "chmod", "mkdir", "grep", "mktemp", "rm", "sha256sum", "cp", "dirname", "env", "touch"];
    for (const tool of basics) {
        const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (found && !fs.existsSync(path.join(bin, tool))) fs.symlinkSync(found, path.join(bin, tool));
    }
    return { dir, bin, hooks, log, env: { PATH: bin, STUB_LOG: log, VLLM_CI_HOOKS_DIR: hooks, HOME: dir } };
}

function runBoot(script: string, box: ReturnType<typeof sandbox>, extraEnv: NodeJS.ProcessEnv = {}) {
    const file = path.join(box.dir, "boot.sh");
    fs.writeFileSync(file, script);
    return spawnSync("bash", [file], { env: { ...box.env, ...extraEnv }, encoding: "utf8", timeout: 20000 });
}

/** Runs the installed environment hook as the agent does: sourced by bash, in the job's environment. */
function runHook(box: ReturnType<typeof sandbox>, job: NodeJS.ProcessEnv) {
    const marker = path.join(box.dir, "elastic-stack-hook-ran");
    fs.rmSync(marker, { force: true });
    const result = spawnSync("bash", ["-c", `source "${path.join(box.hooks, "environment")}"`], { env: { PATH: box.bin, HOME: box.dir, MARKER: marker, ...job }, encoding: "utf8", timeout: 10000 });
    return { ...result, chained: fs.existsSync(marker) };
}

const TRUSTED_JOB = { BUILDKITE_PULL_REQUEST: "false", BUILDKITE_PULL_REQUEST_REPO: "", BUILDKITE_REPO: "https://github.com/vllm-project/vllm.git", BUILDKITE_BRANCH: "main", BUILDKITE_PIPELINE_SLUG: "ci" };

describe("agent boot scripts", function () {
    this.timeout(60000);
    let run: ProgramRun;
    const catalog = loadCatalog();
    before(async () => {
        run = await sharedPlan("aws-prod");
    });
    const scriptOf = (queue: string): string => {
        const stack = run.resources.find((r) => r.type === STACK && r.name === queue)!;
        const url = String((stack.inputs.parameters as Record<string, string>).BootstrapScriptUrl);
        const key = url.slice(BUNDLE_BUCKET_URL.length + 1);
        const object = run.resources.find((r) => r.type === OBJECT && r.inputs.key === key);
        assert.ok(object, `the stack of ${queue} boots a script the plan writes (${url})`);
        assert.ok((stack.dependsOn ?? []).includes(object.urn), `the stack of ${queue} waits for its boot script`);
        return String(object.rawInputs.content);
    };

    it("are written, content-addressed, for every queue but the unpinned GPU ones, which keep their script", () => {
        const objects = run.resources.filter((r) => r.type === OBJECT);
        for (const object of objects) {
            const content = String(object.rawInputs.content);
            assert.equal(object.inputs.key, `agent-boot/${crypto.createHash("sha256").update(content).digest("hex")}.sh`);
            assert.equal(object.retainOnDelete, true, "a rolled-back stack still boots the previous script");
        }
        for (const queue of queuesOf(catalog, "aws")) {
            const url = (run.resources.find((r) => r.type === STACK && r.name === queue.name)!.inputs.parameters as Record<string, string>).BootstrapScriptUrl;
            if (queue.aws?.bootstrapScript) assert.equal(url, "https://vllm-ci.s3.us-west-2.amazonaws.com/bootstrap.sh", queue.name);
            else assert.ok(url.startsWith(`${BUNDLE_BUCKET_URL}/agent-boot/`), queue.name);
        }
    });

    it("pass shellcheck, the job guard hook included", function () {
        if (!hasShellcheck) this.skip();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-boot-check-"));
        const files: string[] = [];
        for (const object of run.resources.filter((r) => r.type === OBJECT)) {
            const file = path.join(dir, `${String(object.name)}.sh`);
            fs.writeFileSync(file, String(object.rawInputs.content));
            files.push(file);
        }
        const hook = path.join(dir, "hook.sh");
        fs.writeFileSync(hook, renderJobGuard(queueNamed(catalog, "cpu_queue_release", "aws"), settings));
        const result = spawnSync("shellcheck", ["-s", "bash", ...files, hook], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.ok(files.length >= 10);
    });

    it("keep job containers off the instance metadata service, on every queue they boot", () => {
        for (const queue of ["small_cpu_queue_premerge", "bootstrap", "cpu_queue_postmerge"]) {
            const box = sandbox();
            const result = runBoot(scriptOf(queue), box);
            assert.equal(result.status, 0, result.stdout + result.stderr);
            const calls = fs.readFileSync(box.log, "utf8");
            assert.match(calls, /^iptables -I DOCKER-USER 1 -d 169\.254\.169\.254\/32 -j REJECT$/m, queue);
            assert.match(calls, /^ip6tables -I DOCKER-USER 1 -d fd00:ec2::254\/128 -j REJECT$/m, queue);
        }
    });

    it("fail the boot when iptables is missing rather than start an agent without the block", () => {
        const box = sandbox();
        fs.rmSync(path.join(box.bin, "iptables"));
        const result = runBoot(scriptOf("small_cpu_queue_premerge"), box);
        assert.notEqual(result.status, 0);
        assert.match(result.stdout, /iptables is missing/);
    });

    it("guard postmerge, release and AMI-build agents, and only them", () => {
        for (const queue of queuesOf(catalog, "aws").filter((q) => !q.aws?.bootstrapScript)) {
            const guarded = /VLLM_CI_JOB_GUARD='1'/.test(scriptOf(queue.name));
            assert.equal(guarded, queue.stage !== "premerge", queue.name);
        }
    });

    describe("the job guard on a release agent", () => {
        let box: ReturnType<typeof sandbox>;
        before(() => {
            box = sandbox();
            fs.writeFileSync(path.join(box.hooks, "environment"), 'touch "$MARKER"\n');
            const first = runBoot(scriptOf("cpu_queue_release"), box);
            assert.equal(first.status, 0, first.stdout + first.stderr);
            const again = runBoot(scriptOf("cpu_queue_release"), box);
            assert.equal(again.status, 0, "boots repeat (the user data runs at every boot)");
        });

        it("sits in front of the Elastic CI Stack's hook, once, after a repeated boot", () => {
            assert.ok(fs.existsSync(path.join(box.hooks, "environment.elastic-stack")));
            assert.doesNotMatch(fs.readFileSync(path.join(box.hooks, "environment.elastic-stack"), "utf8"), /job guard/);
            assert.equal((fs.statSync(path.join(box.hooks, "environment")).mode & 0o777).toString(8), "755");
        });

        it("runs a trusted job, and the stack's own hook after it", () => {
            for (const branch of ["main", "releases/v0.11.0", "v0.11.0"]) {
                const result = runHook(box, { ...TRUSTED_JOB, BUILDKITE_BRANCH: branch });
                assert.equal(result.status, 0, `${branch}: ${result.stderr}`);
                assert.ok(result.chained, branch);
            }
            assert.equal(runHook(box, { ...TRUSTED_JOB, BUILDKITE_REPO: "git@github.com:vllm-project/vllm.git" }).status, 0, "ssh remote of the same repository");
        });

        const refusals: [string, NodeJS.ProcessEnv, RegExp][] = [
            ["a pull request's job", { ...TRUSTED_JOB, BUILDKITE_PULL_REQUEST: "12345" }, /refuses this job: it belongs to pull request 12345/],
            ["a job from a fork's pull request repository", { ...TRUSTED_JOB, BUILDKITE_PULL_REQUEST_REPO: "https://github.com/someone/vllm.git" }, /pull request repository/],
            ["a job without BUILDKITE_PULL_REQUEST", { ...TRUSTED_JOB, BUILDKITE_PULL_REQUEST: undefined }, /BUILDKITE_PULL_REQUEST is not set/],
            ["a job of a branch the stage does not trust", { ...TRUSTED_JOB, BUILDKITE_BRANCH: "feature/x" }, /branch feature\/x is not trusted here/],
            ["a job of another repository", { ...TRUSTED_JOB, BUILDKITE_REPO: "https://github.com/someone/vllm.git" }, /repository https:\/\/github\.com\/someone\/vllm\.git is not trusted/],
        ];
        for (const [what, job, expected] of refusals) {
            it(`refuses ${what}, before the stack's hook (secrets, checkout) runs`, () => {
                const env = Object.fromEntries(Object.entries(job).filter(([, value]) => value !== undefined));
                const result = runHook(box, env);
                assert.equal(result.status, 1);
                assert.match(result.stderr, expected);
                assert.match(result.stderr, /the release queue cpu_queue_release/);
                assert.equal(result.chained, false);
            });
        }
    });

    it("refuse pipelines a stage does not list, when the stage lists them", () => {
        const listed = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsTrustedPipelines: JSON.stringify({ postmerge: ["ci"] }) })[key as "awsAccountId"], "test");
        const box = sandbox();
        const boot = agentBootOf(queueNamed(catalog, "cpu_queue_postmerge", "aws"), listed);
        assert.equal(runBoot(boot.script!.content, box).status, 0);
        assert.equal(runHook(box, TRUSTED_JOB).status, 0);
        const other = runHook(box, { ...TRUSTED_JOB, BUILDKITE_PIPELINE_SLUG: "fastcheck" });
        assert.equal(other.status, 1);
        assert.match(other.stderr, /pipeline fastcheck is not trusted here/);
    });

    it("install Node.js 20 on the bootstrap queue, from the configured package", () => {
        const box = sandbox();
        const result = runBoot(scriptOf("bootstrap"), box);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(fs.readFileSync(box.log, "utf8"), /^dnf install -y nodejs20$/m);
        assert.match(result.stdout, /Node\.js v20\.19\.5 ready \(node-20\)/);
        assert.doesNotMatch(scriptOf("small_cpu_queue_premerge"), /VLLM_CI_NODE_PACKAGE='nodejs/);
    });

    it("run the GPU queues' own script only when it has the pinned sha256", () => {
        const legacy = "#!/usr/bin/env bash\necho legacy-gpu-boot-ran\n";
        const sha = crypto.createHash("sha256").update(legacy).digest("hex");
        const pinned = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsGpuBootstrapScriptSha256: sha })[key as "awsAccountId"], "test");
        const gpu = queueNamed(catalog, "gpu_1_queue", "aws");
        const boot = agentBootOf(gpu, pinned);
        assert.deepEqual(boot.features, ["container-metadata-blocked", "chained-gpu-script"]);
        const box = sandbox();
        const source = path.join(box.dir, "legacy.sh");
        fs.writeFileSync(source, legacy);
        const good = runBoot(boot.script!.content, box, { CHAINED_SOURCE: source });
        assert.equal(good.status, 0, good.stdout + good.stderr);
        assert.match(good.stdout, /legacy-gpu-boot-ran/);
        assert.match(fs.readFileSync(box.log, "utf8"), /curl -fsSL --retry 3 --max-time 120 -o \S+ https:\/\/vllm-ci\.s3\.us-west-2\.amazonaws\.com\/bootstrap\.sh/);
        fs.writeFileSync(source, `${legacy}echo tampered\n`);
        const bad = runBoot(boot.script!.content, box, { CHAINED_SOURCE: source });
        assert.notEqual(bad.status, 0);
        assert.match(bad.stdout, /not the pinned [0-9a-f]{64}: not running it/);
        assert.doesNotMatch(bad.stdout, /legacy-gpu-boot-ran/);
    });

    it("render the same bytes for the same catalog and settings, and a new URL for a new script", () => {
        const small = parseCatalog(fs.readFileSync(path.join(__dirname, "..", "..", "catalog", "queues.yaml"), "utf8"), "catalog/queues.yaml");
        const queue = queueNamed(small, "cpu_queue_postmerge", "aws");
        assert.deepEqual(agentBootOf(queue, settings), agentBootOf(queue, settings));
        const other = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsTrustedBranches: JSON.stringify({ postmerge: ["main", "hotfix/*"] }) })[key as "awsAccountId"], "test");
        assert.notEqual(agentBootOf(queue, other).url, agentBootOf(queue, settings).url);
    });
});
