/**
 * The AMI rebuild pipeline: the Buildkite steps that bake the agent images (Packer), publish each
 * new AMI id to the SSM parameter its queues read, roll those queues and prune old images.
 *
 * The pipeline file lives in this repository and is generated from the catalog; the
 * `buildkite-prod` stack's AMI-rebuild pipeline uploads it, so both sides name it through this
 * one constant.
 */

/** Path, from the repository root, of the committed AMI rebuild pipeline (generated from the catalog). */
export const AMI_REBUILD_PIPELINE_FILE = "images/rebuild-pipeline.yml";
