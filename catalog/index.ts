/** The queue catalog: one typed source of truth for the fleet and the pipeline generator. */
export * from "./types";
export * from "./routing";
export { CatalogError, DEFAULT_CATALOG_PATH, loadCatalog, parseCatalog } from "./load";
export { catalogProblems, covers, lintProblems, ruleTargets, shadowedRuleProblems } from "./validate";
export * from "./queries";
