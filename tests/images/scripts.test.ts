/**
 * The rebuild pipeline's step scripts, run for real under bash against a fake `aws` CLI on PATH
 * (tests/images/fake-aws.cjs: it answers from a state file and logs every call), with the env the
 * generated pipeline gives each step. Every AWS call they make is then checked against the
 * build queue's inline policy as the AWS stack computes it (the mock plan), with lib/iam-glob.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load } from "js-yaml";
import { loadCatalog, queuesOf } from "../../catalog";
import { stackNameOf } from "../../aws/stack-parameters";
import { iamGlobMatches } from "../../lib/iam-glob";
import { PROJECT_ROOT } from "../../plan/stack-config";
import { AMI_REBUILD_PIPELINE_FILE, STEP_SCRIPTS, WARM_CACHE_IMAGE, type RebuildPipeline, type RebuildStep } from "../../images/rebuild-pipeline";
import { awsStackSettings } from "../../images/cli";
import { asList, statementsOf } from "../aws/helpers";
import { sharedPlan } from "../support/plans";

const IMAGES = path.join(PROJECT_ROOT, "images");
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
const hasJq = spawnSync("jq", ["--version"]).status === 0;
const catalog = loadCatalog();
const pipeline = load(fs.readFileSync(path.join(PROJECT_ROOT, AMI_REBUILD_PIPELINE_FILE), "utf8")) as RebuildPipeline;
const stepOf = (script: keyof typeof STEP_SCRIPTS): RebuildStep => pipeline.steps.find((step) => step.command === STEP_SCRIPTS[script])!;

/** Every shell script of images/ (the instance-side ones and the pipeline's). */
function shellScripts(): string[] {
    const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) return walk(file);
            return entry.name.endsWith(".sh") || fs.readFileSync(file, "utf8").startsWith("#!/usr/bin/env bash") ? [file] : [];
        });
    return walk(IMAGES).sort();
}

interface Run {
    status: number | null;
    output: string;
    /** Each AWS call's argv, in order. */
    calls: string[][];
    /** The parameters after the run. */
    parameters: Record<string, string>;
}

interface FakeImage {
    ImageId: string;
    Name: string;
    CreationDate: string;
    State: string;
    BlockDeviceMappings: { Ebs?: { SnapshotId: string } }[];
}

/** What the fake AWS holds (tests/images/fake-aws.sh). */
interface FakeState {
    parameters: Record<string, string>;
    /** What the owner-and-name listing returns. */
    images: FakeImage[];
    /** What describe-images by id finds. */
    known?: FakeImage[];
    stacks: string[];
    /** Launch template id → the AMI of its latest version. */
    templates: Record<string, string>;
    failOn?: string[];
}

const allCalls: { step: string; argv: string[] }[] = [];

/** Runs one step's script with its pipeline env (overridden by `env`) against the fake AWS in `state`. */
function runStep(script: keyof typeof STEP_SCRIPTS, state: FakeState, env: Record<string, string> = {}): Run {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "images-step-"));
    const bin = path.join(dir, "bin");
    const data = path.join(dir, "aws");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(data, "parameters"), { recursive: true });
    fs.copyFileSync(path.join(__dirname, "fake-aws.sh"), path.join(bin, "aws"));
    fs.chmodSync(path.join(bin, "aws"), 0o755);
    fs.writeFileSync(path.join(bin, "buildkite-agent"), '#!/usr/bin/env bash\necho "buildkite-agent $*" >&2\necho "${FAKE_META_DATA:-}"\n', { mode: 0o755 });
    const parameterFile = (name: string) => path.join(data, "parameters", name.replace(/\//g, "%"));
    for (const [name, value] of Object.entries(state.parameters)) fs.writeFileSync(parameterFile(name), value);
    fs.writeFileSync(path.join(data, "images.json"), JSON.stringify({ Images: state.images }));
    for (const image of state.known ?? []) fs.writeFileSync(path.join(data, `image-${image.ImageId}.json`), JSON.stringify({ Images: [image] }));
    fs.writeFileSync(path.join(data, "stacks"), state.stacks.map((stack) => `${stack}\n`).join(""));
    for (const [template, ami] of Object.entries(state.templates)) fs.writeFileSync(path.join(data, `template-${template}`), ami);
    if (state.failOn) fs.writeFileSync(path.join(data, "fail-on"), state.failOn.map((line) => `${line}\n`).join(""));
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(log, "");
    const result = spawnSync("bash", [path.join(PROJECT_ROOT, STEP_SCRIPTS[script])], {
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, FAKE_AWS_DIR: data, FAKE_AWS_LOG: log, ...stepOf(script).env, ...env },
        timeout: 30_000,
    });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => line.split("\x1f"));
    for (const argv of calls) allCalls.push({ step: script, argv });
    const parameters = Object.fromEntries(Object.keys(state.parameters).map((name) => [name, fs.readFileSync(parameterFile(name), "utf8")]));
    return { status: result.status, output: result.stdout + result.stderr, calls, parameters };
}

const flag = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];
/** `service command` of a CLI call: its first two words that are neither options nor their values. */
const serviceCommand = (argv: string[]) => argv.filter((word, i) => !word.startsWith("--") && !(i > 0 && argv[i - 1].startsWith("--"))).slice(0, 2);
const callsOf = (run: Run, service: string, command: string) => run.calls.filter((argv) => serviceCommand(argv).join(" ") === `${service} ${command}`);

const AMI_PARAMETER = stepOf("roll").env.AMI_PARAMETER;
const PREFIX = WARM_CACHE_IMAGE.amiNamePrefix;
const NEW_AMI = "ami-0123456789abcdef0";
/** AMI n, created on day n, with n snapshots' worth of block devices (1 or 2). */
function image(n: number, name = `${PREFIX}-2025010${n}110000`) {
    const devices = n % 2 === 0 ? [{ Ebs: { SnapshotId: `snap-${n}a` } }, { Ebs: { SnapshotId: `snap-${n}b` } }, {}] : [{ Ebs: { SnapshotId: `snap-${n}a` } }];
    return { ImageId: `ami-0000000${n}`, Name: name, CreationDate: `2025-01-0${n}T11:00:00.000Z`, State: "available", BlockDeviceMappings: devices };
}
const emptyState = (): FakeState => ({ parameters: { [AMI_PARAMETER]: NEW_AMI }, images: [], stacks: [], templates: {} });

describe("images: the rebuild pipeline's scripts", function () {
    this.timeout(60_000);
    before(function () {
        if (!hasJq) this.skip();
    });

    it("all pass shellcheck (instance-side and pipeline scripts)", function () {
        if (!hasShellcheck) this.skip();
        const files = shellScripts();
        assert.ok(files.length >= 9, files.join(" "));
        const result = spawnSync("shellcheck", ["-x", "-P", "SCRIPTDIR", "-s", "bash", ...files], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    it("all run under set -euo pipefail", () => {
        for (const file of shellScripts().filter((f) => !f.endsWith("lib.sh"))) assert.match(fs.readFileSync(file, "utf8"), /^set -euo pipefail$/m, file);
    });

    describe("prune", () => {
        it("keeps the three newest AMIs of the prefix and deletes the older ones with all their snapshots", () => {
            const state = emptyState();
            state.images = [image(3), image(6), image(1), image(5), image(2), image(4)];
            state.parameters[AMI_PARAMETER] = "ami-00000006";
            const run = runStep("prune", state);
            assert.equal(run.status, 0, run.output);
            const [listing] = callsOf(run, "ec2", "describe-images");
            assert.deepEqual([flag(listing, "--owners"), flag(listing, "--filters")], ["self", `Name=name,Values=${PREFIX}-*`]);
            assert.deepEqual(callsOf(run, "ec2", "deregister-image").map((argv) => flag(argv, "--image-id")).sort(), ["ami-00000001", "ami-00000002", "ami-00000003"]);
            assert.deepEqual(callsOf(run, "ec2", "delete-snapshot").map((argv) => flag(argv, "--snapshot-id")).sort(), ["snap-1a", "snap-2a", "snap-2b", "snap-3a"]);
            assert.match(run.output, /pruned 3 image\(s\)/);
        });

        for (const count of [0, 1, 3]) {
            it(`deletes nothing with ${count} AMI(s), and runs to its end`, () => {
                const state = emptyState();
                state.images = [image(1), image(2), image(3)].slice(0, count);
                const run = runStep("prune", state);
                assert.equal(run.status, 0, run.output);
                assert.deepEqual([...callsOf(run, "ec2", "deregister-image"), ...callsOf(run, "ec2", "delete-snapshot")], []);
                assert.match(run.output, /pruned 0 image\(s\)/);
            });
        }

        it("never deletes the AMI the parameter names, however old", () => {
            const state = emptyState();
            state.images = [image(1), image(2), image(3), image(4), image(5)];
            state.parameters[AMI_PARAMETER] = "ami-00000001";
            const run = runStep("prune", state);
            assert.equal(run.status, 0, run.output);
            assert.deepEqual(callsOf(run, "ec2", "deregister-image").map((argv) => flag(argv, "--image-id")), ["ami-00000002"]);
        });

        it("deletes nothing, and fails in one line, when the parameter names no AMI (it cannot tell which image is in use)", () => {
            const state = emptyState();
            state.images = [image(1), image(2), image(3), image(4), image(5)];
            state.parameters[AMI_PARAMETER] = "placeholder";
            const run = runStep("prune", state);
            assert.notEqual(run.status, 0, run.output);
            assert.deepEqual([...callsOf(run, "ec2", "deregister-image"), ...callsOf(run, "ec2", "delete-snapshot")], []);
            assert.match(run.output, new RegExp(`error: ${AMI_PARAMETER}: got "placeholder"`));
        });
    });

    describe("roll", () => {
        const stacks = stepOf("roll").env.TARGET_STACKS.split(" ");
        const rolled = () => {
            const state = emptyState();
            state.stacks = stacks;
            for (const stack of stacks) state.templates[`lt-${stack}`] = "ami-0bbbbbbbbbbbbbbbb";
            state.templates[`lt-${stacks[1]}`] = NEW_AMI; // already rolled: no new version
            return state;
        };

        it("rolls every rollsAmiTo queue's stack: a launch-template version with the new AMI, the group on it", () => {
            const aws = queuesOf(catalog, "aws");
            const expected = aws.find((queue) => queue.aws?.buildsAmi)!.aws!.rollsAmiTo!.map((name) => stackNameOf(aws.find((queue) => queue.name === name)!));
            assert.deepEqual(stacks, expected);
            const run = runStep("roll", rolled());
            assert.equal(run.status, 0, run.output);
            const created = callsOf(run, "ec2", "create-launch-template-version");
            assert.deepEqual(created.map((argv) => flag(argv, "--launch-template-id")), stacks.filter((_, i) => i !== 1).map((stack) => `lt-${stack}`));
            for (const argv of created) assert.deepEqual(JSON.parse(flag(argv, "--launch-template-data")), { ImageId: NEW_AMI });
            assert.deepEqual(
                callsOf(run, "autoscaling", "update-auto-scaling-group").map((argv) => [flag(argv, "--auto-scaling-group-name"), flag(argv, "--mixed-instances-policy")]),
                stacks.map((stack, i) => [`asg-${stack}`, `LaunchTemplateSpecification={LaunchTemplateId=lt-${stack},Version=${i === 1 ? 2 : 3}}`].map((v, j) => (j === 1 ? `LaunchTemplate={${v}}` : v))),
            );
        });

        it("tries every stack when one fails, then fails naming it", () => {
            const state = rolled();
            state.failOn = [`lt-${stacks[0]}`];
            // Two stacks are enough to show the loop goes on (each stack costs a dozen processes).
            const run = runStep("roll", state, { TARGET_STACKS: stacks.slice(0, 2).join(" ") });
            assert.equal(run.status, 1, run.output);
            assert.match(run.output, new RegExp(`not rolled: ${stacks[0]}$`, "m"));
            assert.deepEqual(callsOf(run, "autoscaling", "update-auto-scaling-group").map((argv) => flag(argv, "--auto-scaling-group-name")), [`asg-${stacks[1]}`]);
        });

        it("does nothing, successfully, with no stack to roll", () => {
            const run = runStep("roll", emptyState(), { TARGET_STACKS: "" });
            assert.equal(run.status, 0, run.output);
            assert.match(run.output, /nothing to roll[\s\S]*rolled ami-\w+ into 0 stack/);
        });

        it("refuses a parameter that holds no AMI id", () => {
            const state = rolled();
            state.parameters[AMI_PARAMETER] = "placeholder";
            const run = runStep("roll", state);
            assert.equal(run.status, 1);
            assert.equal(callsOf(run, "autoscaling", "update-auto-scaling-group").length, 0);
        });
    });

    describe("publish", () => {
        it("writes the built AMI (from the build step's meta-data) to the parameter and schedules its deprecation", () => {
            const state = emptyState();
            state.parameters[AMI_PARAMETER] = "ami-00000001";
            state.known = [{ ...image(1), ImageId: NEW_AMI }];
            const run = runStep("publish", state, { FAKE_META_DATA: NEW_AMI });
            assert.equal(run.status, 0, run.output);
            assert.equal(run.parameters[AMI_PARAMETER], NEW_AMI);
            assert.match(run.output, new RegExp(`meta-data get ${stepOf("build").env.AMI_META_DATA_KEY}`));
            assert.equal(callsOf(run, "ec2", "enable-image-deprecation").length, 1);
        });

        it("publishes nothing when the AMI is not available", () => {
            const state = emptyState();
            state.parameters[AMI_PARAMETER] = "ami-00000001";
            const run = runStep("publish", state, { AMI_ID: NEW_AMI });
            assert.equal(run.status, 1);
            assert.equal(run.parameters[AMI_PARAMETER], "ami-00000001");
        });
    });

    describe("grants", () => {
        let statements: ReturnType<typeof statementsOf> = [];
        const settings = awsStackSettings(PROJECT_ROOT);
        const region = stepOf("roll").env.AWS_REGION;
        const account = settings.accountId;

        before(async function () {
            this.timeout(240_000);
            const buildQueue = queuesOf(catalog, "aws").find((queue) => queue.aws?.buildsAmi)!;
            const run = await sharedPlan("aws-prod");
            const policy = run.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${buildQueue.name}-instance-access`);
            assert.ok(policy, "the build queue's inline policy is in the plan");
            statements = statementsOf(policy.rawInputs.policy);
        });

        /** What IAM authorizes for one CLI call: actions on resources (ARN formats as AWS documents them). */
        function requests(argv: string[]): { action: string; resource: string }[] {
            const [service, command] = serviceCommand(argv);
            const action = `${service}:${command.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`;
            const ec2 = (resource: string) => `arn:aws:ec2:${region}::${resource}`;
            switch (`${service} ${command}`) {
                case "ssm get-parameter":
                case "ssm put-parameter":
                    return [{ action, resource: `arn:aws:ssm:${region}:${account}:parameter${flag(argv, "--name")}` }];
                case "ec2 enable-image-deprecation":
                case "ec2 deregister-image":
                    return [{ action, resource: ec2(`image/${flag(argv, "--image-id")}`) }];
                case "ec2 delete-snapshot":
                    return [{ action, resource: ec2(`snapshot/${flag(argv, "--snapshot-id")}`) }];
                case "cloudformation describe-stack-resource":
                    return [{ action, resource: `arn:aws:cloudformation:${region}:${account}:stack/${flag(argv, "--stack-name")}/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0` }];
                case "ec2 create-launch-template-version":
                    return [{ action, resource: `arn:aws:ec2:${region}:${account}:launch-template/${flag(argv, "--launch-template-id")}` }];
                case "autoscaling update-auto-scaling-group": {
                    const group = flag(argv, "--auto-scaling-group-name");
                    return [
                        { action, resource: `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${group}` },
                        // The group's new launch template carries the stack's instance profile, whose role is passed.
                        { action: "iam:PassRole", resource: `arn:aws:iam::${account}:role/${group.replace(/^asg-/, "")}-Role` },
                    ];
                }
                case "ec2 describe-images":
                case "ec2 describe-launch-templates":
                case "ec2 describe-launch-template-versions":
                    return [{ action, resource: "*" }];
                default:
                    throw new Error(`no IAM mapping for ${service} ${command}: add it here`);
            }
        }

        const allowed = (action: string, resource: string) =>
            statements.some(
                (s) => s.Effect === "Allow" && s.Condition === undefined && asList(s.Action).some((a) => iamGlobMatches(a, action)) && asList(s.Resource).some((r) => iamGlobMatches(r, resource)),
            );

        it("allows every AWS call the publish, roll and prune steps made above", () => {
            assert.ok(allCalls.length > 20, "the step tests ran first");
            const denied = allCalls.flatMap(({ step, argv }) => requests(argv).filter((r) => !allowed(r.action, r.resource)).map((r) => `${step}: ${r.action} on ${r.resource}`));
            assert.deepEqual([...new Set(denied)], []);
        });

        it("allows the build step's calls: the builder's SSM parameters; its ECR login comes from the stack's ECRAccessPolicy", () => {
            const build = stepOf("build").env;
            for (const name of [build.BUILDER_SECURITY_GROUP_PARAMETER, build.BUILDER_SUBNET_PARAMETER]) {
                const [request] = requests(["ssm", "get-parameter", "--name", name]);
                assert.ok(allowed(request.action, request.resource), `${request.action} on ${request.resource}`);
            }
            // Not the inline policy's: the Elastic CI Stack's ECRAccessPolicy (readonly) grants it, to every queue.
            assert.ok(!allowed("ecr:GetAuthorizationToken", "*"));
        });

        it("knows every AWS call the scripts can make (a new call needs its grant checked here)", () => {
            const scripts = Object.values(STEP_SCRIPTS).map((script) => fs.readFileSync(path.join(PROJECT_ROOT, script), "utf8"));
            const used = new Set(scripts.flatMap((text) => [...text.matchAll(/aws_json (\w+) ([\w-]+)/g)].map((m) => `${m[1]} ${m[2]}`)));
            // The build step's calls are checked by the test above.
            const exercised = new Set([...allCalls.map(({ argv }) => serviceCommand(argv).join(" ")), "ssm get-parameter", "ecr get-login-password"]);
            assert.deepEqual([...used].filter((call) => !exercised.has(call)), []);
        });

        it("denies what the policy does not grant (the check can fail)", () => {
            assert.ok(!allowed("ssm:PutParameter", `arn:aws:ssm:${region}:${account}:parameter/buildkite/other/x`));
            assert.ok(!allowed("cloudformation:DescribeStackResource", `arn:aws:cloudformation:${region}:${account}:stack/bk-gpu-1-queue-ci/x`));
            assert.ok(!allowed("ec2:DeleteSnapshot", `arn:aws:ec2:us-west-2::snapshot/snap-1`));
        });
    });
});
