/**
 * The rebuild pipeline is a pure function of the catalog and the AWS stack's settings: the
 * committed file is its output, a catalog change changes it, and it is a valid Buildkite pipeline
 * (the official schema). The Packer templates validate offline with Debian's packer.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Ajv from "ajv";
import { load } from "js-yaml";
import { loadCatalog } from "../../catalog";
import { PROJECT_ROOT } from "../../plan/stack-config";
import { awsStackSettings, main } from "../../images/cli";
import { gpuBuildCommands, gpuImageBuilds } from "../../images/gpu-image";
import { AMI_REBUILD_PIPELINE_FILE, rebuildPipeline, rebuildPipelineYaml } from "../../images/rebuild-pipeline";
import { editedCatalog } from "../aws/helpers";
import { sharedFixture } from "../support/fixtures";

const catalog = loadCatalog();
const settings = awsStackSettings(PROJECT_ROOT);
const hasPacker = spawnSync("packer", ["version"]).status === 0;

describe("images: the rebuild pipeline", () => {
    it("is committed as the catalog gives it (npm run images -- pipeline)", () => {
        assert.equal(fs.readFileSync(path.join(PROJECT_ROOT, AMI_REBUILD_PIPELINE_FILE), "utf8"), rebuildPipelineYaml(catalog, settings));
        const err: string[] = [];
        assert.equal(main(["pipeline", "--check"], PROJECT_ROOT, process.stdout, { write: (s: string) => err.push(s) } as never), 0, err.join(""));
    });

    it("follows the catalog: the rolled stacks, the AMI parameter, the build queue", () => {
        const steps = (c = catalog) => rebuildPipeline(c, settings).steps;
        const roll = (c = catalog) => steps(c).find((step) => step.key.startsWith("roll-"))!;
        assert.equal(roll().env.TARGET_STACKS, "bk-cpu-queue-premerge-us-east-1 bk-cpu-queue-postmerge-us-east-1 bk-small-cpu-queue-release bk-cpu-queue-release");
        const fewer = editedCatalog((text) => text.replace("rollsAmiTo: [cpu_queue_premerge_us_east_1, ", "rollsAmiTo: ["));
        assert.equal(roll(fewer).env.TARGET_STACKS, "bk-cpu-queue-postmerge-us-east-1 bk-small-cpu-queue-release bk-cpu-queue-release");
        const renamed = editedCatalog((text) => text.replace("/buildkite/cpu-build-ami/us-east-1", "/buildkite/warm-ami/us-east-1").replaceAll("imageIdParameter: /buildkite/cpu-build-ami/us-east-1", "imageIdParameter: /buildkite/warm-ami/us-east-1"));
        assert.ok(steps(renamed).every((step) => step.env.AMI_PARAMETER === "/buildkite/warm-ami/us-east-1"));
        const queues = new Set(steps().map((step) => step.agents.queue));
        assert.deepEqual([...queues], ["packer_build_queue"]);
        assert.deepEqual(steps(editedCatalog((text) => text.replace("\n      buildsAmi: true\n      rollsAmiTo: [cpu_queue_premerge_us_east_1, cpu_queue_postmerge_us_east_1, small_cpu_queue_release, cpu_queue_release]", "").replace(/\n +imageIdParameter: \/buildkite\/cpu-build-ami\/us-east-1/g, ""))), []);
    });

    it("chains bake, publish, roll, prune on the build queue", () => {
        const steps = rebuildPipeline(catalog, settings).steps;
        assert.deepEqual(steps.map((step) => [step.key, step.depends_on ?? null]), [
            ["build-packer-build-queue", null],
            ["publish-packer-build-queue", "build-packer-build-queue"],
            ["roll-packer-build-queue", "publish-packer-build-queue"],
            ["prune-packer-build-queue", "roll-packer-build-queue"],
        ]);
        for (const step of steps) assert.ok(fs.existsSync(path.join(PROJECT_ROOT, step.command)), step.command);
    });

    it("is a valid Buildkite pipeline (the official schema)", () => {
        const schema = JSON.parse(fs.readFileSync(sharedFixture("schemas", "buildkite-pipeline.schema.json"), "utf8"));
        const validate = new Ajv({ strict: false, allErrors: true, logger: false }).compile(schema);
        const document = load(fs.readFileSync(path.join(PROJECT_ROOT, AMI_REBUILD_PIPELINE_FILE), "utf8"));
        assert.ok(validate(document), JSON.stringify(validate.errors));
        assert.ok(!validate({ steps: [{ command: "x", agents: { queue: "q" }, timeout_in_minutes: "soon" }] }), "the schema does reject a bad step");
    });

    it("gives the GPU build the catalog's facts, one command per region", () => {
        assert.deepEqual(gpuImageBuilds(catalog).map((build) => [build.region, build.queues, build.imageIds]), [["us-west-2", ["gpu_1_queue", "gpu_4_queue"], ["ami-040f1b73b7a7c7453"]]]);
        assert.match(gpuBuildCommands(catalog)[0], /^packer build -var region=us-west-2 -var source_ami_owner=172840064832 images\/gpu /);
    });
});

describe("images: the Packer templates", function () {
    this.timeout(60_000);
    const template = (name: string) => path.join(PROJECT_ROOT, "images", name, `${name}.pkr.hcl`);
    /** The -var flags the build script passes, with dummy values; the GPU ones from gpuImageBuilds. */
    const cpuVariables = () => {
        const script = fs.readFileSync(path.join(PROJECT_ROOT, "images", "scripts", "build-cpu-ami.sh"), "utf8");
        return [...script.matchAll(/-var "(\w+)=/g)].map((m) => m[1]);
    };
    const declared = (file: string, withDefault: boolean) =>
        [...fs.readFileSync(file, "utf8").matchAll(/variable "(\w+)" \{([^}]*)\}/g)].filter((m) => /\bdefault\s*=/.test(m[2]) === withDefault).map((m) => m[1]);

    it("get every required variable from the pipeline, and only declared ones", () => {
        const passed = cpuVariables();
        const required = declared(template("cpu"), false).filter((name) => name !== "ecr_token"); // PKR_VAR_ecr_token, off the command line
        assert.deepEqual(required.filter((name) => !passed.includes(name)), []);
        assert.deepEqual(passed.filter((name) => !declared(template("cpu"), true).includes(name) && !required.includes(name)), []);
        assert.match(fs.readFileSync(path.join(PROJECT_ROOT, "images", "scripts", "build-cpu-ami.sh"), "utf8"), /export PKR_VAR_ecr_token/);
        assert.deepEqual(declared(template("gpu"), false).sort(), Object.keys(gpuImageBuilds(catalog)[0].packerVariables).sort());
    });

    it("pin the same Amazon plugin version exactly", () => {
        const pins = ["cpu", "gpu"].map((name) => /version = "= (\d+\.\d+\.\d+)"/.exec(fs.readFileSync(path.join(PROJECT_ROOT, "images", name, "plugins.pkr.hcl"), "utf8"))?.[1]);
        assert.ok(pins[0] && pins[0] === pins[1], String(pins));
    });

    it("pass packer validate and packer fmt -check (Debian's packer, offline)", function () {
        if (!hasPacker) this.skip();
        const context = fs.mkdtempSync(path.join(os.tmpdir(), "warm-cache-"));
        const dummy = (names: string[]) => names.flatMap((name) => ["-var", `${name}=${name === "warm_cache_context" ? context : name === "source_ami" ? "ami-0123456789abcdef0" : "x"}`]);
        const runs = [
            spawnSync("packer", ["validate", ...dummy([...cpuVariables(), "ecr_token"]), template("cpu")], { encoding: "utf8" }),
            spawnSync("packer", ["validate", ...dummy(declared(template("gpu"), false)), template("gpu")], { encoding: "utf8" }),
            spawnSync("packer", ["fmt", "-check", path.join(PROJECT_ROOT, "images", "cpu")], { encoding: "utf8" }),
            spawnSync("packer", ["fmt", "-check", path.join(PROJECT_ROOT, "images", "gpu")], { encoding: "utf8" }),
        ];
        for (const run of runs) assert.equal(run.status, 0, run.stdout + run.stderr);
    });

    it("fail packer validate when broken (the check can fail)", function () {
        if (!hasPacker) this.skip();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-broken-"));
        const broken = path.join(dir, "gpu.pkr.hcl");
        fs.writeFileSync(broken, fs.readFileSync(template("gpu"), "utf8").replace("ssh_username = ", "ssh_user_name = "));
        const run = spawnSync("packer", ["validate", ...declared(template("gpu"), false).flatMap((name) => ["-var", `${name}=x`]), broken], { encoding: "utf8" });
        assert.notEqual(run.status, 0);
        assert.match(run.stdout + run.stderr, /ssh_user_name/);
    });
});
