/**
 * The catalog's enumerations, as values (the model builds its schema from them, code iterates
 * them). No dependencies: the generator bundle imports this cheaply.
 */

/** vLLM's repository: its pipelines build it, the warm-cache AMI pre-builds its image. */
export const VLLM_REPOSITORY = "https://github.com/vllm-project/vllm.git";

/** Where a queue's agents run. */
export const PROVIDERS = ["aws", "gke", "tpu", "gce", "k8s", "external"] as const;

/**
 * Which code a queue runs, which decides its IAM and its place in the trust boundary.
 * - premerge: untrusted pull-request code (GPU test queues are premerge too).
 * - postmerge: code that landed on main; may publish postmerge images, caches and wheels.
 * - release: release builds; may publish release images and wheels.
 * - any: not a trust boundary this program manages (external or routing-only queues).
 */
export const STAGES = ["premerge", "postmerge", "release", "any"] as const;

/** The stages that are a trust boundary (every AWS queue is one of these: its IAM follows it). */
export const TRUST_STAGES = ["premerge", "postmerge", "release"] as const;

/** How steps reach a queue: through a routing rule, or only by naming the queue in a pipeline. */
export const REACHED_BY = ["rules", "name"] as const;

/** How steps that name a device are executed (the plugin and its template). */
export const PLUGIN_KINDS = ["docker", "kubernetes", "amd"] as const;
