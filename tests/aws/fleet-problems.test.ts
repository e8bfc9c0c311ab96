import { strict as assert } from "assert";
import { loadCatalog, type Catalog } from "../../catalog";
import { amiBuildsOf, awsFleetProblems } from "../../aws/fleet-problems";
import { readAwsSettings, type AwsSettings } from "../../aws/settings";
import { keptTemplateRules } from "../../aws/stack-template";
import { CATALOG_FILE, editedCatalog, replaceAfter } from "./helpers";

const settings: AwsSettings = readAwsSettings((key) => ({ awsAccountId: "111122223333", awsGpuBootstrapScriptUrl: "https://example.com/boot.sh" })[key], "test");
const rules = keptTemplateRules("6.21.0")!;
const problems = (catalog: Catalog, withSettings: AwsSettings = settings) => awsFleetProblems(catalog, withSettings, rules);

/** Adds a queue (YAML list item, indented as in the catalog) before the GCP section. */
const addQueue = (item: string) => (text: string) => text.replace("  # ---- GCP: GKE NVIDIA L4 node pools", `${item}\n  # ---- GCP: GKE NVIDIA L4 node pools`);

describe("AWS fleet problems", () => {
    it("finds none in the fleet's catalog", () => {
        assert.deepEqual(problems(loadCatalog(CATALOG_FILE)), []);
    });

    it("pairs the AMI build queue with the queues it rolls into and their one parameter", () => {
        const [build, ...others] = amiBuildsOf(loadCatalog(CATALOG_FILE));
        assert.equal(others.length, 0);
        assert.equal(build.buildQueue.name, "packer_build_queue");
        assert.deepEqual(build.targets.map((q) => q.name), ["cpu_queue_premerge_us_east_1", "cpu_queue_postmerge_us_east_1", "small_cpu_queue_release", "cpu_queue_release"]);
        assert.equal(build.amiParameter, "/buildkite/cpu-build-ami/us-east-1");
    });

    const cases: { what: string; edit?: (text: string) => string; settings?: AwsSettings; expected: string | string[] }[] = [
        {
            what: "a GPU queue in a trusted stage",
            edit: (text) => replaceAfter(text, "- name: gpu_4_queue", "stage: premerge", "stage: postmerge"),
            expected: 'queue "gpu_4_queue": field stage: GPU queues run pull-request code and must be premerge, not postmerge',
        },
        {
            what: "aws.parameters setting the ECR access the stage decides",
            edit: (text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", 'imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, parameters: { ECRAccessPolicy: "poweruser" } }'),
            expected: 'queue "gpu_1_queue": field aws.parameters.ECRAccessPolicy: set by the program from one value for every queue, readonly (pushes go by exact ARN in the queue\'s inline policy)',
        },
        {
            what: "aws.parameters setting what a catalog field sets",
            edit: (text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", 'imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, parameters: { MaxSize: "5" } }'),
            expected: 'queue "gpu_1_queue": field aws.parameters.MaxSize: set by the program from field scale.max',
        },
        {
            what: "Node.js asked of a queue that boots the GPU script",
            edit: (text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", "imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, nodejs: true }"),
            expected: 'queue "gpu_1_queue": field aws.nodejs: a queue with aws.bootstrapScript boots the GPU script; Node.js is installed only by the fleet\'s own boot script',
        },
        {
            what: "two root volume sizes",
            edit: (text) => replaceAfter(text, "- name: cpu_queue_premerge_us_east_1", "rootVolume: { iops: 16000", "rootVolume: { sizeGb: 256, iops: 16000"),
            // machine.diskGb 512 comes from the AWS defaults of the catalog.
            expected: 'queue "cpu_queue_premerge_us_east_1": field aws.rootVolume.sizeGb: 256 contradicts machine.diskGb 512; set one of them',
        },
        {
            what: "a queue name CloudFormation cannot use in a stack name",
            edit: addQueue("  - { name: cpu.queue, provider: aws, stage: premerge, reachedBy: name, machine: { type: r6in.large } }"),
            expected: 'queue "cpu.queue": field name: stack name bk-cpu.queue is not a valid CloudFormation stack name (letters, digits, hyphens, at most 128)',
        },
        {
            what: "two queues that get one stack name",
            edit: addQueue("  - { name: cpu-queue-premerge, provider: aws, stage: premerge, reachedBy: name, machine: { type: r6in.large } }"),
            expected: 'queue "cpu-queue-premerge": field name: gets the same CloudFormation stack name as queue "cpu_queue_premerge" (bk-cpu-queue-premerge)',
        },
        {
            what: "a queue named after another queue's kept stack name",
            edit: addQueue("  - { name: gpu-1-queue-ci, provider: aws, stage: premerge, reachedBy: name, machine: { type: r6in.large } }"),
            expected: 'queue "gpu-1-queue-ci": field name: gets the same CloudFormation stack name as queue "gpu_1_queue" (bk-gpu-1-queue-ci)',
        },
        {
            what: "an AMI build that rolls into nothing",
            edit: (text) => text.replace("rollsAmiTo: [cpu_queue_premerge_us_east_1, cpu_queue_postmerge_us_east_1, small_cpu_queue_release, cpu_queue_release]", "rollsAmiTo: []").replace(/ *imageIdParameter: \/buildkite\/cpu-build-ami\/us-east-1\n/g, ""),
            expected: 'queue "packer_build_queue": field aws.rollsAmiTo: a queue that builds an AMI must name the queues it rolls it into',
        },
        {
            what: "a rollout from a queue that builds no AMI",
            edit: (text) => text.replace("      buildsAmi: true\n", ""),
            expected: [
                'queue "packer_build_queue": field aws.rollsAmiTo: only a queue with aws.buildsAmi rolls out AMIs',
                ...["cpu_queue_premerge_us_east_1", "cpu_queue_postmerge_us_east_1", "small_cpu_queue_release", "cpu_queue_release"].map(
                    (q) => `queue "${q}": field aws.imageIdParameter: no queue with aws.buildsAmi writes /buildkite/cpu-build-ami/us-east-1 (add this queue to its aws.rollsAmiTo)`,
                ),
            ],
        },
        {
            what: "a rollout into another region",
            edit: (text) =>
                replaceAfter(text, "- name: cpu_queue_postmerge\n", "aws: { instanceStorage: true, compilerCache: write }", "aws: { instanceStorage: true, compilerCache: write, imageIdParameter: /buildkite/cpu-build-ami/us-east-1 }").replace(
                    "rollsAmiTo: [cpu_queue_premerge_us_east_1, cpu_queue_postmerge_us_east_1, small_cpu_queue_release, cpu_queue_release]",
                    "rollsAmiTo: [cpu_queue_premerge_us_east_1, cpu_queue_postmerge_us_east_1, small_cpu_queue_release, cpu_queue_release, cpu_queue_postmerge]",
                ),
            expected: 'queue "packer_build_queue": field aws.rollsAmiTo: queue "cpu_queue_postmerge" is in us-west-2, but AMIs built in us-east-1 stay there',
        },
        {
            what: "a rollout into queues booting different parameters",
            edit: (text) => replaceAfter(text, "- name: cpu_queue_postmerge_us_east_1", "imageIdParameter: /buildkite/cpu-build-ami/us-east-1", "imageIdParameter: /buildkite/other-ami"),
            expected: 'queue "packer_build_queue": field aws.rollsAmiTo: the queues boot from different AMI parameters (/buildkite/cpu-build-ami/us-east-1, /buildkite/other-ami); an AMI build writes one',
        },
        {
            what: "an AMI parameter nobody writes",
            edit: (text) => text.replace("rollsAmiTo: [cpu_queue_premerge_us_east_1, cpu_queue_postmerge_us_east_1, small_cpu_queue_release, cpu_queue_release]", "rollsAmiTo: [cpu_queue_premerge_us_east_1, small_cpu_queue_release, cpu_queue_release]").replace(
                /(- name: cpu_queue_postmerge_us_east_1[\s\S]*?)imageIdParameter: \/buildkite\/cpu-build-ami\/us-east-1/,
                "$1imageIdParameter: /buildkite/hand-made-ami",
            ),
            expected: 'queue "cpu_queue_postmerge_us_east_1": field aws.imageIdParameter: no queue with aws.buildsAmi writes /buildkite/hand-made-ami (add this queue to its aws.rollsAmiTo)',
        },
        {
            what: "two AMI builds writing one parameter",
            edit: addQueue(
                "  - { name: second_ami_build, provider: aws, region: us-east-1, cluster: ci_us_east_1, stage: postmerge, reachedBy: name, machine: { type: r6in.large }, aws: { buildsAmi: true, rollsAmiTo: [cpu_queue_premerge_us_east_1] } }",
            ),
            expected: 'queue "second_ami_build": field aws.rollsAmiTo: parameter /buildkite/cpu-build-ami/us-east-1 is already written by queue "packer_build_queue"',
        },
        {
            what: "a catalog value the template rejects",
            edit: (text) => text.replace("imageId: ami-040f1b73b7a7c7453, bootstrapScript: true }", 'imageId: ami-040f1b73b7a7c7453, bootstrapScript: true, parameters: { EnableDockerExperimental: "yes" } }'),
            expected: 'queue "gpu_1_queue": Elastic CI Stack v6.21.0 parameter EnableDockerExperimental: "yes" is not one of the allowed values "true", "false"',
        },
    ];
    for (const { what, edit, settings: withSettings, expected } of cases) {
        it(`reports ${what} in one line naming the file, the queue and the field`, () => {
            const found = problems(edit ? editedCatalog(edit) : loadCatalog(CATALOG_FILE), withSettings);
            assert.deepEqual(found, (Array.isArray(expected) ? expected : [expected]).map((line) => `catalog/queues.yaml: ${line}`));
        });
    }
});

