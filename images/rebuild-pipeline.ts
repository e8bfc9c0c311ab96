/**
 * The AMI rebuild pipeline: the Buildkite steps that bake the agent images (Packer), publish each
 * new AMI id to the SSM parameter its queues read, roll those queues and prune old images.
 *
 * The pipeline file lives in this repository and is generated from the catalog; the
 * `buildkite-prod` stack's AMI-rebuild pipeline uploads it, so both sides name it through this
 * one constant.
 *
 * One chain of four steps per AMI build the catalog declares (a queue with `aws.buildsAmi`), all
 * on that queue: its grants (`amiBuildPolicy`) are what the step scripts use, and a test checks
 * every call they make against the policy the AWS stack computes. Every value of the steps' env
 * comes from the catalog, the AWS stack's settings or the module that owns it.
 */
import type { AwsQueue, Catalog } from "../catalog";
import { VLLM_REPOSITORY } from "../catalog/constants";
import { amiBuildsOf, type AmiBuild } from "../aws/fleet-problems";
import { AMI_BUILDER_PARAMETERS } from "../aws/iam-policies";
import type { AwsSettings } from "../aws/settings";
import { BUILDKITE_AMI_OWNER, stackNameOf, templateUrlOf } from "../aws/stack-parameters";
import { toYaml } from "../generator/output";

/** Path, from the repository root, of the committed AMI rebuild pipeline (generated from the catalog). */
export const AMI_REBUILD_PIPELINE_FILE = "images/rebuild-pipeline.yml";

/** What the steps run, from the repository root (the pipeline checks out this repository). */
export const STEP_SCRIPTS = {
    build: "images/scripts/build-cpu-ami.sh",
    publish: "images/scripts/publish-ami.sh",
    roll: "images/scripts/roll-ami.sh",
    prune: "images/scripts/prune-amis.sh",
} as const;

/** The image facts of the warm-cache AMI, owned here (the templates and scripts receive them). */
export const WARM_CACHE_IMAGE = {
    /** AMI names are `<prefix>-<timestamp>`; pruning matches `<prefix>-*`, as the live images are named. */
    amiNamePrefix: "vllm-buildkite-stack-linux-cpu-build",
    /** The rollback window: the newest images kept (the one in use is never deleted). */
    keepAmis: 3,
    /** Old images drop out of listings after this (still launchable by the account). */
    deprecateAfterDays: 7,
    /** ECR Public alias of the CI images (vLLM's `registries`); the repository is the AWS settings'. */
    publicRegistry: "public.ecr.aws/q9t5s3a7",
    /** The postmerge image whose build's cache the AMI is warmed from. */
    postmergeTag: "latest",
    /** The vLLM step that uploads the bake file of the postmerge image (its AMD twin uploads one of the same name). */
    bakeConfigStep: "image-build",
    vllmRepository: VLLM_REPOSITORY,
    packerVersion: "1.11.2",
    yqVersion: "v4.44.3",
} as const;

/** The Elastic CI Stack template's `AWSRegion2AMI` column for an architecture. */
const STACK_AMI_MAPPINGS = { x86_64: "linuxamd64", arm64: "linuxarm64" } as const;

/** The AWS stack's settings the pipeline reads. */
export type RebuildPipelineSettings = Pick<AwsSettings, "accountId" | "elasticStackVersion" | "buildCacheRegion" | "buildCacheRepositories" | "imageRepositories">;

/** A Buildkite command step, as this pipeline writes them. */
export interface RebuildStep {
    label: string;
    key: string;
    depends_on?: string;
    command: string;
    agents: { queue: string };
    env: Record<string, string>;
    timeout_in_minutes: number;
    retry: { automatic: { exit_status: number; limit: number }[] };
}

export interface RebuildPipeline {
    steps: RebuildStep[];
}

const ARCH_OF = (catalog: Catalog, queue: AwsQueue) => catalog.machineTypes[queue.machine.type]?.arch ?? "x86_64";
/** Agent lost or instance gone (-1): retried once; a failing script is not. */
const AGENT_LOST = { automatic: [{ exit_status: -1, limit: 1 }] };

/** The four steps of one AMI build: bake, publish, roll, prune. Keys carry the build queue's name. */
export function amiBuildSteps(catalog: Catalog, build: AmiBuild, settings: RebuildPipelineSettings): RebuildStep[] {
    const queue = build.buildQueue.name;
    const region = build.buildQueue.region;
    const key = (step: string) => `${step}-${queue.replace(/_/g, "-")}`;
    const shared = { AWS_REGION: region, AMI_PARAMETER: build.amiParameter };
    const step = (name: keyof typeof STEP_SCRIPTS, label: string, minutes: number, env: Record<string, string>, after?: keyof typeof STEP_SCRIPTS): RebuildStep => ({
        label,
        key: key(name),
        ...(after ? { depends_on: key(after) } : {}),
        command: STEP_SCRIPTS[name],
        agents: { queue },
        env: { ...shared, ...env },
        timeout_in_minutes: minutes,
        retry: AGENT_LOST,
    });
    const metaDataKey = `ami-${queue}`;
    const targets = build.targets.map((target) => target.name).join(", ");
    return [
        step("build", ":packer: Bake the warm-cache AMI", 120, {
            STACK_TEMPLATE_URL: templateUrlOf(settings.elasticStackVersion),
            STACK_AMI_MAPPING: STACK_AMI_MAPPINGS[ARCH_OF(catalog, build.targets[0] ?? build.buildQueue)],
            SOURCE_AMI_OWNER: BUILDKITE_AMI_OWNER,
            BUILDER_SECURITY_GROUP_PARAMETER: AMI_BUILDER_PARAMETERS.securityGroupId,
            BUILDER_SUBNET_PARAMETER: AMI_BUILDER_PARAMETERS.subnetId,
            AMI_NAME_PREFIX: WARM_CACHE_IMAGE.amiNamePrefix,
            POSTMERGE_IMAGE: `${WARM_CACHE_IMAGE.publicRegistry}/${settings.imageRepositories.postmerge}:${WARM_CACHE_IMAGE.postmergeTag}`,
            CACHE_REGISTRY: `${settings.accountId}.dkr.ecr.${settings.buildCacheRegion}.amazonaws.com`,
            CACHE_REPOSITORY: settings.buildCacheRepositories.pullRequest,
            VLLM_REPOSITORY: WARM_CACHE_IMAGE.vllmRepository,
            BAKE_CONFIG_STEP: WARM_CACHE_IMAGE.bakeConfigStep,
            AMI_META_DATA_KEY: metaDataKey,
            PACKER_VERSION: WARM_CACHE_IMAGE.packerVersion,
            YQ_VERSION: WARM_CACHE_IMAGE.yqVersion,
        }),
        step("publish", ":ssm: Publish the AMI id", 10, { AMI_META_DATA_KEY: metaDataKey, DEPRECATE_AFTER_DAYS: String(WARM_CACHE_IMAGE.deprecateAfterDays) }, "build"),
        step("roll", `:rocket: Roll the AMI into ${targets}`, 20, { TARGET_STACKS: build.targets.map(stackNameOf).join(" ") }, "publish"),
        step("prune", ":broom: Prune old AMIs", 20, { AMI_NAME_PREFIX: WARM_CACHE_IMAGE.amiNamePrefix, KEEP_AMIS: String(WARM_CACHE_IMAGE.keepAmis) }, "roll"),
    ];
}

/** The rebuild pipeline of a catalog: every AMI build's steps, in catalog order (pure). */
export function rebuildPipeline(catalog: Catalog, settings: RebuildPipelineSettings): RebuildPipeline {
    return { steps: amiBuildsOf(catalog).flatMap((build) => amiBuildSteps(catalog, build, settings)) };
}

const HEADER = [
    "# Generated from catalog/queues.yaml by `npm run images -- pipeline`: do not edit.",
    "# The AMI rebuild (daily, scheduled by the buildkite-prod stack): bake, publish to SSM, roll, prune.",
    "",
].join("\n");

/** The pipeline file's text: same catalog and settings, same bytes. */
export function rebuildPipelineYaml(catalog: Catalog, settings: RebuildPipelineSettings): string {
    return HEADER + toYaml(rebuildPipeline(catalog, settings) as unknown as Record<string, unknown>);
}
