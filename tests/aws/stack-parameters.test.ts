import { strict as assert } from "assert";
import { loadCatalog, queueNamed, queuesOf, type AwsQueue, type Catalog } from "../../catalog";
import { readAwsSettings, type AwsSettings } from "../../aws/settings";
import { agentBootOf } from "../../aws/agent-boot";
import {
    acceleratorOf,
    BUILDKITE_AMI_OWNER,
    NETWORK_PARAMETERS,
    queueStackParameters,
    runsUntrustedCode,
    stackNameOf,
    templateUrlOf,
} from "../../aws/stack-parameters";
import { parameterProblems } from "../../aws/stack-template";
import * as fs from "fs";
import { sharedFixture } from "../support/fixtures";
import { CATALOG_FILE, editedCatalog, realTemplateRules, replaceAfter, TEMPLATE_VERSIONS } from "./helpers";

const BOOTSTRAP_URL = "https://example.com/gpu-bootstrap.sh";
const settings: AwsSettings = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsGpuBootstrapScriptUrl: BOOTSTRAP_URL })[key], "test");
const parametersOf = (catalog: Catalog, queue: AwsQueue) => queueStackParameters(catalog, queue, agentBootOf(queue, settings).url);

/** Every problem of every AWS queue of `catalog` against the real template of `version`. */
function templateProblems(catalog: Catalog, version: string): string[] {
    const rules = realTemplateRules(version);
    const network = Object.fromEntries(NETWORK_PARAMETERS.map((name) => [name, undefined]));
    return queuesOf(catalog, "aws").flatMap((queue) => parameterProblems(rules, queue.name, { ...parametersOf(catalog, queue), ...network }));
}

describe("Elastic CI Stack parameters", () => {
    const catalog = loadCatalog(CATALOG_FILE);
    const parameters = (name: string) => parametersOf(catalog, queueNamed(catalog, name, "aws"));

    it("names each stack bk-<queue>, with hyphens where CloudFormation refuses underscores, unless aws.stackName keeps a live name", () => {
        assert.equal(stackNameOf({ name: "bootstrap" }), "bk-bootstrap");
        assert.equal(stackNameOf({ name: "cpu_queue_premerge_us_east_1" }), "bk-cpu-queue-premerge-us-east-1");
        assert.equal(stackNameOf({ name: "gpu_1_queue", aws: { stackName: "bk-gpu-1-queue-ci" } }), "bk-gpu-1-queue-ci");
        assert.equal(templateUrlOf("6.21.0"), "https://s3.amazonaws.com/buildkite-aws-stack/v6.21.0/aws-stack.yml");
    });

    it("lists every queue's parameters sorted by name (the plan's bytes do not depend on the order they were set in)", () => {
        for (const queue of queuesOf(catalog, "aws")) {
            const names = Object.keys(parametersOf(catalog, queue));
            assert.deepEqual(names, [...names].sort(), queue.name);
        }
    });

    it("knows which queues run untrusted code: premerge ones, and every queue whose machines carry an accelerator", () => {
        const queue = (name: string) => queueNamed(catalog, name, "aws");
        assert.equal(acceleratorOf(catalog, queue("gpu_1_queue")), "nvidia-l4", "from the machine type when the queue does not say");
        assert.equal(acceleratorOf(catalog, queue("cpu_queue_postmerge")), undefined);
        assert.equal(acceleratorOf(catalog, queueNamed(catalog, "mithril-h100-pool")), undefined, "no machine: no accelerator");
        assert.equal(runsUntrustedCode(catalog, queue("small_cpu_queue_premerge")), true);
        assert.equal(runsUntrustedCode(catalog, queue("gpu_1_queue")), true);
        assert.equal(runsUntrustedCode(catalog, queue("cpu_queue_postmerge")), false);
        assert.equal(runsUntrustedCode(catalog, queue("cpu_queue_release")), false);
        // The rule on its own, on queues lint would refuse: a GPU queue is untrusted whatever its stage.
        const unsaid = structuredClone(queue("gpu_1_queue"));
        delete unsaid.machine.accelerator;
        assert.equal(acceleratorOf(catalog, unsaid), "nvidia-l4", "from the machine type when the queue does not say");
        assert.equal(runsUntrustedCode(catalog, { ...unsaid, stage: "postmerge" }), true);
    });

    it("takes the Elastic CI Stack AMIs from the account upstream's Packer templates name", () => {
        const template = fs.readFileSync(sharedFixture("reference", "ci-infra", "packer", "gpu", "buildkite-gpu-ami.pkr.hcl"), "utf8");
        assert.match(template, new RegExp(`owners\\s*=\\s*\\["${BUILDKITE_AMI_OWNER}"\\]`));
        assert.match(BUILDKITE_AMI_OWNER, /^\d{12}$/);
    });

    it("starts every queue from the shared defaults, every value a string", () => {
        for (const queue of queuesOf(catalog, "aws")) {
            const values = parametersOf(catalog, queue);
            for (const [name, value] of Object.entries(values)) assert.equal(typeof value, "string", `${queue.name}: ${name}`);
            assert.equal(values.OnDemandPercentage, "100");
            assert.equal(values.EnableDockerUserNamespaceRemap, "false", "Docker in Docker needs the remap off");
            assert.equal(values.BuildkiteAgentTimestampLines, "true");
            assert.equal(values.EnableECRPlugin, "true");
            assert.equal(values.InstanceOperatingSystem, "linux");
            assert.equal(values.BuildkiteQueue, queue.name);
            assert.equal(values.InstanceTypes, queue.machine?.type);
            assert.equal(values.MinSize, String(queue.scale?.min));
            assert.equal(values.MaxSize, String(queue.scale?.max));
            assert.equal(values.BuildkiteAgentToken, undefined, "the token never passes through the program");
        }
    });

    it("takes the agent token path of the queue's Buildkite cluster", () => {
        assert.equal(parameters("gpu_1_queue").BuildkiteAgentTokenParameterStorePath, "/bk_agent_token_cluster_ci");
        assert.equal(parameters("cpu_queue_premerge_us_east_1").BuildkiteAgentTokenParameterStorePath, "/bk_agent_token_cluster_ci_us_east_1");
        assert.equal(parameters("cpu_queue_release").BuildkiteAgentTokenParameterStorePath, "/bk_agent_token_cluster_release");
    });

    it("gives every queue read-only ECR: pushes go by exact ARN in its inline policy", () => {
        for (const queue of queuesOf(catalog, "aws")) assert.equal(parametersOf(catalog, queue).ECRAccessPolicy, "readonly", queue.name);
    });

    it("maps the GPU queues' AMI, boot script and lifetime, and passes no instance storage they never had", () => {
        const gpu1 = parameters("gpu_1_queue");
        assert.equal(gpu1.EnableInstanceStorage, undefined);
        assert.equal(gpu1.ImageId, "ami-040f1b73b7a7c7453");
        assert.equal(gpu1.BootstrapScriptUrl, BOOTSTRAP_URL, "unpinned: the GPU script's own URL, as today");
        assert.equal(gpu1.BuildkiteTerminateInstanceAfterJob, "true");
        assert.equal(gpu1.RootVolumeSize, "512");
        const gpu4 = parameters("gpu_4_queue");
        assert.equal(gpu4.BuildkiteTerminateInstanceAfterJob, "false");
        assert.equal(gpu4.ScaleInIdlePeriod, "1200");
        assert.match(parameters("small_cpu_queue_premerge").BootstrapScriptUrl, /^https:\/\/vllm-ci-bootstrap-bundles\.s3\.us-west-2\.amazonaws\.com\/agent-boot\/[0-9a-f]{64}\.sh$/);
        assert.equal(parameters("small_cpu_queue_premerge").EnableInstanceStorage, "true");
    });

    it("boots the warm-cache AMI from its parameter, with the fast root volume", () => {
        const warm = parameters("cpu_queue_premerge_us_east_1");
        assert.equal(warm.ImageIdParameter, "/buildkite/cpu-build-ami/us-east-1");
        assert.equal(warm.ImageId, undefined);
        assert.equal(warm.RootVolumeIops, "16000");
        assert.equal(warm.RootVolumeThroughput, "1000");
        assert.equal(warm.RootVolumeType, undefined, "the template's default (gp3), as Terraform left it");
    });

    it("lets a queue's own parameters win over the shared defaults", () => {
        const spot = editedCatalog((text) =>
            replaceAfter(text, "- name: medium_cpu_queue_premerge", "aws: { instanceStorage: true }", 'aws: { instanceStorage: true, parameters: { OnDemandPercentage: "70" } }'),
        );
        assert.equal(parametersOf(spot, queueNamed(spot, "medium_cpu_queue_premerge", "aws")).OnDemandPercentage, "70");
    });

    for (const version of TEMPLATE_VERSIONS) {
        it(`fits every queue of the catalog to the real v${version} template`, () => {
            assert.deepEqual(templateProblems(catalog, version), []);
        });
    }

    describe("a catalog value the template would reject", () => {
        const cases: { what: string; version: string; edit: (text: string) => string; expected: string }[] = [
            {
                what: "a value outside AllowedValues",
                version: "6.21.0",
                edit: (text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", 'imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, parameters: { EnableDockerExperimental: "yes" } }'),
                expected: 'queue "gpu_1_queue": Elastic CI Stack v6.21.0 parameter EnableDockerExperimental: "yes" is not one of the allowed values "true", "false"',
            },
            {
                what: "a root volume below MinValue",
                version: "6.71.1",
                edit: (text) => replaceAfter(text, "- name: small_cpu_queue_postmerge", "machine: { type: r6in.large }", "machine: { type: r6in.large, diskGb: 8 }"),
                expected: 'queue "small_cpu_queue_postmerge": Elastic CI Stack v6.71.1 parameter RootVolumeSize: "8" is below the minimum value 10',
            },
            {
                what: "more instance types than v6.21.0's AllowedPattern takes (v6.71.1 takes 25)",
                version: "6.21.0",
                edit: (text) =>
                    replaceAfter(
                        text.replace("machineTypes:\n", 'machineTypes:\n  "r6in.large,r6i.large,m6i.large,m7i.large,c6i.large": {}\n'),
                        "- name: small_cpu_queue_postmerge",
                        "machine: { type: r6in.large }",
                        "machine: { type: 'r6in.large,r6i.large,m6i.large,m7i.large,c6i.large' }",
                    ),
                expected:
                    'queue "small_cpu_queue_postmerge": Elastic CI Stack v6.21.0 parameter InstanceTypes: "r6in.large,r6i.large,m6i.large,m7i.large,c6i.large" does not match the allowed pattern ^[\\w-\\.]+(,[\\w-\\.]*){0,3}$',
            },
            {
                what: "a value above MaxValue",
                version: "6.71.1",
                edit: (text) => replaceAfter(text, "- name: bootstrap", "aws: { instanceStorage: true, nodejs: true }", 'aws: { instanceStorage: true, nodejs: true, parameters: { ResourceLimitsCPUWeight: "20000" } }'),
                expected: 'queue "bootstrap": Elastic CI Stack v6.71.1 parameter ResourceLimitsCPUWeight: "20000" is above the maximum value 10000',
            },
            {
                what: "a parameter v6.71.1 no longer has",
                version: "6.71.1",
                edit: (text) => replaceAfter(text, "- name: bootstrap", "aws: { instanceStorage: true, nodejs: true }", 'aws: { instanceStorage: true, nodejs: true, parameters: { BuildkiteAgentScalerVersion: "1.7.0" } }'),
                expected: 'queue "bootstrap": Elastic CI Stack v6.71.1 parameter BuildkiteAgentScalerVersion: the template has no such parameter (did you mean "BuildkiteAgentScalerServerlessARN"?)',
            },
        ];
        for (const { what, version, edit, expected } of cases) {
            it(`fails for ${what}, naming the queue, the parameter and what is allowed`, () => {
                assert.deepEqual(templateProblems(editedCatalog(edit), version), [expected]);
            });
        }

        it("is accepted by the other version where only that version rejects it", () => {
            const scaler = editedCatalog((text) =>
                replaceAfter(text, "- name: bootstrap", "aws: { instanceStorage: true, nodejs: true }", 'aws: { instanceStorage: true, nodejs: true, parameters: { BuildkiteAgentScalerVersion: "1.7.0" } }'),
            );
            assert.deepEqual(templateProblems(scaler, "6.21.0"), []);
        });
    });
});
