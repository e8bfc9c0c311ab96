/**
 * Values two folders must agree on but cannot import from each other (the generator bundle loads
 * no Pulumi code): each pair is tied here, so a change on one side fails until the other follows.
 */
import { strict as assert } from "assert";
import { loadCatalog, queueNamed } from "../catalog";
import { AWS_DEFAULTS } from "../aws/settings";
import { VLLM_AWS_ACCOUNT_ID, VLLM_ECR_CACHE, VLLM_SETTINGS } from "../generator/settings";
import { JOB_SECRETS, PRIORITY_CLASSES } from "../k8s";
import { loadStackConfig } from "../plan/stack-config";
import * as fs from "fs";
import * as yaml from "js-yaml";
import { queuesOf } from "../catalog";
import { AMI_BUILDER_PARAMETERS } from "../aws/iam-policies";
import { stackNameOf } from "../aws/stack-parameters";
import { DEFAULT_ELASTIC_STACK_VERSION } from "../aws/settings";
import { sharedFixture } from "./support/fixtures";

/** Every `secretKeyRef` and `priorityClassName` in a pod spec template. */
function podSpecReferences(value: unknown, found: { secrets: string[]; priorityClasses: string[] } = { secrets: [], priorityClasses: [] }) {
    if (Array.isArray(value)) value.forEach((item) => podSpecReferences(item, found));
    else if (value && typeof value === "object") {
        for (const [key, child] of Object.entries(value)) {
            if (key === "secretKeyRef") found.secrets.push(`${(child as { name: string }).name}/${(child as { key: string }).key}`);
            else if (key === "priorityClassName") found.priorityClasses.push(String(child));
            else podSpecReferences(child, found);
        }
    }
    return found;
}

describe("one owner per value", () => {
    it("the generator's AWS account is the aws-prod stack's", () => {
        assert.equal(loadStackConfig("aws-prod").config["ci:awsAccountId"], VLLM_AWS_ACCOUNT_ID);
        for (const registry of [VLLM_SETTINGS.ecr.loginRegistry, VLLM_SETTINGS.ecr.testCache, VLLM_SETTINGS.ecr.postmergeCache, VLLM_SETTINGS.images.pullThroughCache.to]) {
            assert.ok(registry.startsWith(`${VLLM_AWS_ACCOUNT_ID}.dkr.ecr.`), registry);
        }
    });

    it("the generator's ECR build caches are the repositories and region the AWS stack creates", () => {
        const stack = loadStackConfig("aws-prod").config;
        assert.equal(stack["ci:awsPrCacheRepository"] ?? AWS_DEFAULTS.prCacheRepository, VLLM_ECR_CACHE.testRepository);
        assert.equal(stack["ci:awsPostmergeCacheRepository"] ?? AWS_DEFAULTS.postmergeCacheRepository, VLLM_ECR_CACHE.postmergeRepository);
        assert.equal(stack["ci:awsBuildCacheRegion"] ?? AWS_DEFAULTS.buildCacheRegion, VLLM_ECR_CACHE.region);
        assert.ok(VLLM_SETTINGS.ecr.testCache.endsWith(`.${VLLM_ECR_CACHE.region}.amazonaws.com/${VLLM_ECR_CACHE.testRepository}`));
        assert.ok(VLLM_SETTINGS.ecr.postmergeCache.endsWith(`.${VLLM_ECR_CACHE.region}.amazonaws.com/${VLLM_ECR_CACHE.postmergeRepository}`));
        assert.equal(VLLM_SETTINGS.ecr.loginRegion, VLLM_ECR_CACHE.region);
    });

    it("the pre-commit queue is a premerge AWS queue of the catalog (untrusted PR code runs there)", () => {
        const queue = queueNamed(loadCatalog(), VLLM_SETTINGS.precommit.queue, "aws");
        assert.equal(queue.stage, "premerge");
    });

    it("the generator's pod templates read only the Secrets and priority classes the agent stack creates", () => {
        const references = podSpecReferences(VLLM_SETTINGS.kubernetes.templates);
        const created = Object.values(JOB_SECRETS).map((secret) => `${secret.name}/${secret.key}`);
        assert.ok(references.secrets.length > 0 && references.priorityClasses.length > 0, "the templates do name secrets and a priority class");
        for (const secret of references.secrets) assert.ok(created.includes(secret), `${secret} is not created by k8s/ (${created.join(", ")})`);
        for (const name of references.priorityClasses) assert.ok(name in PRIORITY_CLASSES, `priority class ${name} is not created by k8s/`);
    });

    it("the AMI queue, its SSM parameters and its rollout are those ci-infra's rebuild-cpu-ami pipeline uses", () => {
        const pipeline = yaml.load(fs.readFileSync(sharedFixture("reference", "ci-infra", ".buildkite", "pipelines", "rebuild-cpu-ami.yml"), "utf8")) as {
            env: Record<string, string>;
            steps: { agents: { queue: string }; command: string[] }[];
        };
        const catalog = loadCatalog();
        const build = queuesOf(catalog, "aws").find((queue) => queue.aws?.buildsAmi)!;
        assert.deepEqual([...new Set(pipeline.steps.map((step) => step.agents.queue))], [build.name]);
        assert.equal(pipeline.env.SSM_PARAM_SECURITY_GROUP, AMI_BUILDER_PARAMETERS.securityGroupId);
        assert.equal(pipeline.env.SSM_PARAM_SUBNET, AMI_BUILDER_PARAMETERS.subnetId);
        const targets = (build.aws?.rollsAmiTo ?? []).map((name) => queuesOf(catalog, "aws").find((q) => q.name === name)!);
        for (const target of targets) assert.equal(target.aws?.imageIdParameter, pipeline.env.SSM_PARAM_US_EAST_1);
        const rollout = pipeline.steps.map((step) => step.command.join("\n")).join("\n").match(/for STACK_NAME in ([^;]+);/)![1].trim().split(/\s+/);
        assert.deepEqual(rollout, targets.map(stackNameOf));
        assert.equal(pipeline.env.STACK_VERSION, DEFAULT_ELASTIC_STACK_VERSION);
    });
});
