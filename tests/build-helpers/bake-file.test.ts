/**
 * docker/ci.hcl, read with HashiCorp's HCL parser (no buildx offline): the targets and variables
 * vLLM's pipelines and our scripts call, the contract with the AMI rebuild pipeline, upstream's
 * variables kept, and the names the AWS stack owns.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { AWS_DEFAULTS } from "../../aws/settings";
import { BUILD_HELPERS } from "../../lib/bundle-delivery";
import { sharedFixture } from "../support/fixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string) => fs.readFileSync(file, "utf8");
type Bake = { variable: Record<string, { default?: unknown }[]>; target: Record<string, Record<string, any>[]>; function?: Record<string, unknown[]> };
const bake = async (file: string): Promise<Bake> => (await parseHcl(path.basename(file), read(file))) as Bake;
const defaultOf = (file: Bake, name: string) => file.variable[name]?.[0]?.default;

describe("docker/ci.hcl", () => {
    let ours: Bake;
    let upstream: Bake;
    before(async () => {
        ours = await bake(path.join(ROOT, BUILD_HELPERS["ci.hcl"]));
        upstream = await bake(sharedFixture("reference", "ci-infra", "docker", "ci.hcl"));
    });

    it("parses, and the parser refuses a broken file (the check can fail)", async () => {
        assert.ok(Object.keys(ours.target).length > 0);
        await assert.rejects(parseHcl("broken.hcl", 'target "x" {\n  tags = [\n'));
    });

    it("has the targets the scripts call: ci-bake.sh's default and the AMI cache warm-up's base", async () => {
        const script = read(path.join(ROOT, BUILD_HELPERS["ci-bake.sh"]));
        const defaultTarget = /TARGET="\$\{1:-([^}]+)\}"/.exec(script)?.[1];
        assert.equal(defaultTarget, "test-ci");
        assert.ok(ours.target[defaultTarget!], "ci-bake.sh's default target is defined");
        const overlay = await bake(sharedFixture("reference", "ci-infra", "packer", "cpu", "cache-warm-overlay.hcl"));
        for (const base of overlay.target["cache-warm"][0].inherits as string[]) assert.ok(ours.target[base], `the overlay inherits ${base}`);
        assert.ok(ours.target["cache-warm"]);
    });

    it("layers over vLLM's bake file: the CI targets inherit its _common and _labels, and build its test stage", () => {
        for (const name of ["test-ci", "cache-warm"]) {
            const target = ours.target[name][0];
            assert.deepEqual(target.inherits, ["_common", "_ci", "_labels"], name);
            assert.equal(target.target, "test", name);
        }
        assert.deepEqual(ours.target["test-ci"][0].output, ["type=registry"]);
        assert.deepEqual(ours.target["cache-warm"][0].output, ["type=cacheonly"]);
    });

    it("annotates the image with what the AMI rebuild pipeline reads back", () => {
        const pipeline = read(sharedFixture("reference", "ci-infra", ".buildkite", "pipelines", "rebuild-cpu-ami.yml"));
        const read_back = [...pipeline.matchAll(/get_annotation "\$\$POSTMERGE_IMAGE" "(vllm\.[^"]+)"/g)].map((m) => m[1]);
        assert.deepEqual(read_back.sort(), ["vllm.buildkite.build_id", "vllm.buildkite.build_number"]);
        const annotations = ours.target._ci[0].annotations as string[];
        for (const key of read_back) assert.ok(annotations.some((a) => a.startsWith(`index,manifest:${key}=`)), key);
    });

    it("declares every variable upstream's did, with the same defaults (the pipelines set them by name)", () => {
        for (const name of Object.keys(upstream.variable)) {
            assert.ok(ours.variable[name], `variable ${name}`);
            if (!["REGISTRY", "SCCACHE_BUCKET_NAME", "SCCACHE_REGION_NAME"].includes(name)) assert.deepEqual(defaultOf(ours, name), defaultOf(upstream, name), name);
        }
        assert.deepEqual(Object.keys(ours.target._ci[0].args).sort(), Object.keys(upstream.target._ci[0].args).sort());
        assert.deepEqual(Object.keys(ours.function ?? {}).sort(), ["get_cache_from", "get_cache_to"]);
    });

    it("declares the variables vLLM's steps set in their env", () => {
        const stepsDir = sharedFixture("fixtures", "vllm", ".buildkite", "hardware_tests");
        const envNames = new Set<string>();
        for (const file of fs.readdirSync(stepsDir).filter((f) => f.endsWith(".yaml"))) {
            const doc = yaml.load(read(path.join(stepsDir, file))) as { steps?: { env?: Record<string, string> }[] };
            for (const step of doc.steps ?? []) for (const name of Object.keys(step.env ?? {})) envNames.add(name);
        }
        assert.ok(envNames.has("IMAGE_TAG"));
        for (const name of ["IMAGE_TAG"]) assert.ok(ours.variable[name], name);
    });

    it("names the registry, caches and compiler cache the AWS stack owns", () => {
        const stack = yaml.load(read(path.join(ROOT, "Pulumi.aws-prod.yaml"))) as { config: Record<string, string> };
        assert.equal(defaultOf(ours, "REGISTRY"), `${stack.config["ci:awsAccountId"]}.dkr.ecr.${AWS_DEFAULTS.buildCacheRegion}.amazonaws.com`);
        assert.equal(defaultOf(ours, "PR_CACHE_REPOSITORY"), AWS_DEFAULTS.prCacheRepository);
        assert.equal(defaultOf(ours, "POSTMERGE_CACHE_REPOSITORY"), AWS_DEFAULTS.postmergeCacheRepository);
        assert.equal(defaultOf(ours, "SCCACHE_BUCKET_NAME"), AWS_DEFAULTS.compilerCacheBucket);
        assert.equal(defaultOf(ours, "SCCACHE_REGION_NAME"), AWS_DEFAULTS.homeRegion);
        // Every cache reference goes through those variables, none spells a repository again.
        assert.doesNotMatch(read(path.join(ROOT, BUILD_HELPERS["ci.hcl"])).replace(/^variable[\s\S]*?^}/gm, ""), /vllm-ci-(test|postmerge)-cache/);
    });
});
