/**
 * The pipelines the fleet owns in Buildkite, Pulumi-free: vLLM's four pipelines, whose only step
 * in Buildkite's settings is the bootstrap (it uploads the rest), and the daily AMI rebuild of this
 * repository. Their `steps` were typed into Buildkite's web UI upstream and versioned nowhere;
 * here they are rendered from this file and the catalog, so a change to them is a reviewed pull
 * request whose plan diff shows the new YAML.
 *
 * Slugs are the live ones (`buildkite.com/vllm/ci`, `fastcheck`, `amd-ci`, `intel-ci`); the AMI
 * rebuild's is named after upstream's pipeline file (`rebuild-cpu-ami.yml`). The adoption matches
 * pipelines by slug (`adopt/buildkite.ts`).
 */
import * as yaml from "js-yaml";
import type { Catalog } from "../catalog";
import { PRODUCTION_BRANCH } from "../lib/bundle-delivery";
import { VLLM_REPOSITORY } from "../catalog/constants";
import { AMI_REBUILD_PIPELINE_FILE } from "../images/rebuild-pipeline";
import { onlyAwsQueueWith } from "./layout";

export { VLLM_REPOSITORY };
/** This repository (the fleet): its `bootstrap.sh` starts every vLLM build, its AMI pipeline runs from it. */
export const FLEET_REPOSITORY = "https://github.com/vllm-project/ci-infra.git";
/** What the bootstrap step fetches: `bootstrap.sh` of this repository's production branch. */
export const BOOTSTRAP_SCRIPT_URL = `https://raw.githubusercontent.com/vllm-project/ci-infra/${PRODUCTION_BRANCH}/bootstrap.sh`;

/** The bootstrap's entry points (`generator/bootstrap-entries.ts` ENTRY_NAMES; a test ties them). */
export type BootstrapEntry = "cuda" | "intel" | "amd";

/** A schedule of a pipeline. */
export interface ScheduleLayout {
    readonly label: string;
    /** Buildkite cronline, with its time zone. */
    readonly cronline: string;
    readonly branch: string;
    readonly message: string;
}

/** One pipeline as Buildkite holds it. */
export interface PipelineLayout {
    readonly slug: string;
    readonly name: string;
    readonly description: string;
    readonly repository: string;
    readonly defaultBranch: string;
    /** Branches that build on push (Buildkite branch filter); absent: every branch. */
    readonly branchConfiguration?: string;
    /** Builds start only from the schedule or by hand (no push or pull-request webhook builds). */
    readonly scheduledOnly: boolean;
    /** Key of `buildkiteClusters` the pipeline belongs to: the cluster of the queue its first step runs on. */
    readonly cluster: string;
    /** The step queue the pipeline's first step targets (a catalog queue of `cluster`). */
    readonly queue: string;
    /** The pipeline's steps in Buildkite's settings, as YAML. */
    readonly steps: string;
    readonly schedules: readonly ScheduleLayout[];
}

/** vLLM's pipelines and the bootstrap entry each runs. */
export const VLLM_PIPELINES: readonly { readonly slug: string; readonly name: string; readonly entry: BootstrapEntry; readonly description: string }[] = [
    { slug: "ci", name: "CI", entry: "cuda", description: "vLLM's CUDA and CPU tests (the pipeline generator)" },
    { slug: "fastcheck", name: "Fastcheck", entry: "cuda", description: "vLLM's fast checks (the pipeline generator; AMD mirrors on amdtentative)" },
    { slug: "amd-ci", name: "AMD CI", entry: "amd", description: "vLLM's ROCm tests (test-amd.yaml through test-template-amd.j2)" },
    { slug: "intel-ci", name: "Intel CI", entry: "intel", description: "vLLM's Intel XPU tests (the pipeline generator on ci_config_intel.yaml)" },
];

/** The AMI rebuild: daily at 11:00 UTC on main (upstream dropped the schedule from Terraform and set it by hand). */
export const AMI_REBUILD_PIPELINE = { slug: "rebuild-cpu-ami", name: "Rebuild CPU AMI", cronline: "0 11 * * * UTC", branch: PRODUCTION_BRANCH } as const;

function stepsYaml(step: Record<string, unknown>): string {
    return yaml.dump({ steps: [step] }, { lineWidth: -1, noRefs: true, sortKeys: false });
}

/** The bootstrap step of a vLLM pipeline: `bootstrap.sh` with the pipeline's entry point, on the bootstrap queue. */
export function bootstrapSteps(entry: BootstrapEntry, queue: string): string {
    const command = entry === "cuda" ? `curl -fsSL ${BOOTSTRAP_SCRIPT_URL} | bash` : `curl -fsSL ${BOOTSTRAP_SCRIPT_URL} | bash -s -- --entry ${entry}`;
    return stepsYaml({ label: ":pipeline: bootstrap", key: "bootstrap", agents: { queue }, command });
}

/** The AMI rebuild's only step in Buildkite: upload the committed rebuild pipeline, on the AMI-building queue. */
export function amiRebuildSteps(queue: string): string {
    return stepsYaml({ label: ":pipeline: upload the AMI rebuild", key: "upload", agents: { queue }, command: `buildkite-agent pipeline upload ${AMI_REBUILD_PIPELINE_FILE}` });
}

/**
 * Every pipeline of the default organization, from the catalog: the bootstrap queue is the AWS
 * queue with `aws.nodejs`, the AMI builder the one with `aws.buildsAmi`; each pipeline belongs to
 * its first step's queue's cluster (a pipeline's jobs run only on its cluster's agents).
 * Throws a problem line when the catalog has no such queue.
 */
export function layoutPipelines(catalog: Catalog): PipelineLayout[] {
    const bootstrap = onlyAwsQueueWith(catalog, "nodejs", "the bootstrap queue every vLLM pipeline starts on");
    const amiBuilder = onlyAwsQueueWith(catalog, "buildsAmi", "the queue the AMI rebuild runs on");
    const vllm = VLLM_PIPELINES.map(
        (pipeline): PipelineLayout => ({
            slug: pipeline.slug,
            name: pipeline.name,
            description: pipeline.description,
            repository: VLLM_REPOSITORY,
            defaultBranch: "main",
            scheduledOnly: false,
            cluster: bootstrap.cluster,
            queue: bootstrap.name,
            steps: bootstrapSteps(pipeline.entry, bootstrap.name),
            schedules: [],
        }),
    );
    const ami: PipelineLayout = {
        slug: AMI_REBUILD_PIPELINE.slug,
        name: AMI_REBUILD_PIPELINE.name,
        description: "Bakes the warm-cache CPU build AMI daily and rolls it into the queues that boot it (images/)",
        repository: FLEET_REPOSITORY,
        defaultBranch: AMI_REBUILD_PIPELINE.branch,
        branchConfiguration: AMI_REBUILD_PIPELINE.branch,
        scheduledOnly: true,
        cluster: amiBuilder.cluster,
        queue: amiBuilder.name,
        steps: amiRebuildSteps(amiBuilder.name),
        schedules: [{ label: "Daily warm-cache AMI rebuild", cronline: AMI_REBUILD_PIPELINE.cronline, branch: AMI_REBUILD_PIPELINE.branch, message: "Daily warm-cache AMI rebuild (buildkite-prod)" }],
    };
    return [...vllm, ami];
}
