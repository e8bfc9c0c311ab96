/**
 * The pipeline generator as a library (the bootstrap imports it in process).
 *
 * - `generatePipeline(inputs, adapters)`: the pure core, from config, job files, catalog, changed
 *   files and build context to `{kind: "pipeline", pipeline, warnings}` or `{kind: "docs_only"}`.
 * - `runGenerator(options)`: the same with files, adapters and the atomic write (what the CLI runs).
 */
export { generatePipeline } from "./generate";
export type { GenerateResult, GeneratorAdapters, GeneratorInputs, JobFile } from "./generate";
export { runGenerator, listJobFiles, loadSettings } from "./run";
export type { RunOptions, RunOutcome } from "./run";
export { parsePipelineConfig, readBuildContext, parseOnlyStepKeys, isPullRequest, ENVIRONMENT_VARIABLES } from "./config";
export type { BuildContext, PipelineConfig } from "./config";
export { GeneratorError, formatWarning } from "./errors";
export type { GeneratorWarning } from "./errors";
export { VLLM_SETTINGS, mergeSettings } from "./settings";
export type { GeneratorSettings } from "./settings";
export { emitYaml, toYaml, validatePipeline, writeFileAtomic, writeYamlAtomic } from "./output";
export { parseYaml } from "./yaml";
export { explain } from "./explain";
export { defaultCatalog, loadCatalogFile } from "./catalog-source";
export type { Pipeline, PipelineGroup, PipelineStep, StepExplanation } from "./pipeline";
export { main } from "./cli";
