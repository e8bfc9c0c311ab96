/**
 * The AMD entry point: vLLM's AMD pipeline as upstream's `bootstrap-amd.sh` makes it, in process.
 *
 * Same inputs and rules: `.buildkite/test-amd.yaml` rendered with `test-template-amd.j2` (this
 * repository's copy, embedded in the bundle of `VLLM_CI_BRANCH`) and the same thirteen variables;
 * `AMD_MIRROR_HW` (default `amdproduction`, `amdtentative` on the `fastcheck` pipeline); ROCm
 * run-all prefixes; a change to `docker/Dockerfile.rocm_base` makes the build nightly; the label
 * `ready-run-all-tests` sets run-all and nightly; `fail_fast` unless `ci-no-fail-fast`;
 * `VLLM_USE_PRECOMPILED` kept, else 0 for full coverage and 1 otherwise (upstream checks no wheels
 * here); blank lines stripped. A checkout without `.buildkite/` gets upstream's "please merge"
 * annotation.
 *
 * Different on purpose: the merge base is taken against the PR's base branch (upstream: always
 * origin/main), the git fallbacks are those of every entry point (annotated), the rendered
 * pipeline is checked against the Buildkite schema before the upload, and the decisions reach the
 * jobs through the top-level `env` (the rendered lines themselves are uploaded byte for byte).
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { AMD_TEMPLATE_NAME, amdTemplateSource, parseAmdSteps, renderAmdTemplate, stripBlankLines, type AmdTemplateVariables } from "./bootstrap-amd-render";
import { checkoutFacts, docsOnlyEnabled, isPullRequest, pullRequestLabels, uploadPipeline, type BootstrapContext } from "./bootstrap-context";
import { fromEnv, matchPrefixRule, type TemplateEntry } from "./bootstrap-entries";
import { ANNOTATION_CONTEXT } from "./bootstrap-report";
import type { BootstrapOutcome } from "./bootstrap";
import { GeneratorError } from "./errors";
import { validatePipeline, writeFileAtomic } from "./output";
import { VLLM_SETTINGS } from "./settings";

/** Upstream's annotation when the checkout predates the AMD CI files. */
export const MERGE_UPSTREAM_ANNOTATION = "Please merge upstream main branch for buildkite CI";

/** The AMD decisions (upstream's shell variables), before rendering. */
export interface AmdDecisions {
    runAll: string;
    nightly: string;
    reason: string;
    listFileDiff: string;
    usePrecompiled: string;
}

/** Upstream's rules, as a pure function of the changed files, labels and environment. */
export function decideAmd(
    entry: TemplateEntry,
    input: { env: Record<string, string | undefined>; changedFiles: string[]; labels: string[]; forcedRunAll?: string },
): AmdDecisions {
    const { env } = input;
    let runAll = env.RUN_ALL || "0";
    let nightly = env.NIGHTLY || "0";
    let reason = runAll === "1" ? "RUN_ALL=1" : nightly === "1" ? "NIGHTLY=1" : "no run-all condition holds";
    if (input.forcedRunAll) {
        runAll = "1";
        reason = input.forcedRunAll;
    }
    // A nightly-prefix file counts as nightly, never as run-all (upstream `continue`s past it).
    const nightlyFile = input.changedFiles.find((file) => entry.nightlyPrefixes.some((prefix) => file.startsWith(prefix)));
    if (nightlyFile) {
        nightly = "1";
        if (runAll !== "1") reason = `${nightlyFile} changed: nightly AMD coverage`;
    }
    const others = input.changedFiles.filter((file) => !entry.nightlyPrefixes.some((prefix) => file.startsWith(prefix)));
    const runAllFile = matchPrefixRule(others, entry.runAll);
    if (runAllFile && runAll !== "1") {
        runAll = "1";
        reason = `${runAllFile} changed: run all tests`;
    }
    if (input.labels.includes(VLLM_SETTINGS.github.runAllLabel)) {
        if (runAll !== "1") reason = `the PR label ${VLLM_SETTINGS.github.runAllLabel}`;
        runAll = "1";
        nightly = "1";
    }
    const usePrecompiled = env.VLLM_USE_PRECOMPILED || (runAll === "1" || nightly === "1" ? "0" : "1");
    const listFileDiff = runAll === "1" ? "run_all" : nightly === "1" ? "nightly" : input.changedFiles.join("|");
    return { runAll, nightly, reason, listFileDiff, usePrecompiled };
}

export async function runAmdEntry(context: BootstrapContext, entry: TemplateEntry): Promise<BootstrapOutcome> {
    const { cwd, env, report, log } = context;
    const stepsFile = path.resolve(cwd, entry.stepsPath);
    if (!fs.existsSync(path.join(cwd, ".buildkite"))) {
        await report.annotate("error", ANNOTATION_CONTEXT.mergeUpstream, MERGE_UPSTREAM_ANNOTATION);
        throw new GeneratorError({ file: ".buildkite" }, `missing: ${MERGE_UPSTREAM_ANNOTATION.toLowerCase()}`);
    }
    if (!fs.existsSync(stepsFile)) throw new GeneratorError({ file: entry.stepsPath }, "missing: the AMD step file this pipeline renders");
    const outputPath = fromEnv(env, entry.outputEnv, entry.defaultOutputPath);

    const facts = await checkoutFacts(context);
    const labels = await pullRequestLabels(context, env.GITHUB_API_URL || VLLM_SETTINGS.github.apiUrl, VLLM_SETTINGS.github.defaultRepo, VLLM_SETTINGS.github.runAllLabel);
    const decisions = decideAmd(entry, { env, changedFiles: facts.changedFiles, labels, forcedRunAll: facts.forcedRunAll });
    const outcome = {
        entry: entry.name,
        baseBranch: facts.baseBranch,
        mergeBase: facts.mergeBase,
        changedFiles: facts.changedFiles,
        labels,
        runAll: decisions.runAll === "1",
        runAllReason: decisions.reason,
        nightly: decisions.nightly === "1",
    };
    log(`bootstrap: base ${facts.baseBranch}, merge base ${facts.mergeBase}, ${facts.changedFiles.length} changed file(s), run all: ${decisions.runAll}, nightly: ${decisions.nightly} (${decisions.reason})`);

    // Docs-only: upstream's rule and annotation text.
    if (docsOnlyEnabled(env) && !facts.forcedRunAll && facts.changedFiles.length > 0 && facts.changedFiles.every(isDocumentation)) {
        await report.annotate("info", ANNOTATION_CONTEXT.docsOnly, `:memo: CI skipped \u2014 docs/Markdown/mkdocs-only changes detected\n\n\`\`\`\n${facts.changedFiles.join("\n")}\n\`\`\``);
        log("bootstrap: documentation-only change, CI skipped");
        return { kind: "docs_only", ...outcome, usePrecompiled: "0", precompiledReason: "docs-only: nothing runs" };
    }

    const mirror = entry.mirrorHardware;
    const variables: AmdTemplateVariables = {
        branch: env.BUILDKITE_BRANCH ?? "",
        list_file_diff: decisions.listFileDiff,
        run_all: decisions.runAll,
        nightly: decisions.nightly,
        torch_nightly: env.TORCH_NIGHTLY || "0",
        mirror_hw: mirror.bySlug[env.BUILDKITE_PIPELINE_SLUG ?? ""] ?? (env[mirror.env] || mirror.default),
        fail_fast: isPullRequest(env.BUILDKITE_PULL_REQUEST) && !labels.includes(VLLM_SETTINGS.github.noFailFastLabel) ? "true" : "false",
        vllm_use_precompiled: decisions.usePrecompiled,
        vllm_merge_base_commit: env.MERGE_BASE_COMMIT || facts.mergeBase,
        cov_enabled: env.COV_ENABLED || "0",
        vllm_ci_branch: env.VLLM_CI_BRANCH || "main",
        rocm_base_refresh_skip: env.ROCM_BASE_REFRESH_SKIP || "0",
        rocm_base_refresh_force: env.ROCM_BASE_REFRESH_FORCE || "0",
    };
    log(`bootstrap: AMD mirror hardware ${variables.mirror_hw}, VLLM_USE_PRECOMPILED=${variables.vllm_use_precompiled}, fail fast ${variables.fail_fast}`);

    const stepDocument = parseAmdSteps(fs.readFileSync(stepsFile, "utf8"), entry.stepsPath);
    const rendered = stripBlankLines(renderAmdTemplate(amdTemplateSource(), stepDocument, variables));
    const document = buildAmdDocument(rendered, { VLLM_USE_PRECOMPILED: variables.vllm_use_precompiled, VLLM_MERGE_BASE_COMMIT: variables.vllm_merge_base_commit });
    writeFileAtomic(path.resolve(cwd, outputPath), document);

    await uploadPipeline(context, outputPath, {
        VLLM_USE_PRECOMPILED: variables.vllm_use_precompiled,
        VLLM_MERGE_BASE_COMMIT: variables.vllm_merge_base_commit,
        MERGE_BASE_COMMIT: variables.vllm_merge_base_commit,
        RUN_ALL: decisions.runAll,
        NIGHTLY: decisions.nightly,
    });
    return {
        kind: "uploaded",
        ...outcome,
        usePrecompiled: decisions.usePrecompiled,
        precompiledReason: env.VLLM_USE_PRECOMPILED ? "VLLM_USE_PRECOMPILED was set" : "upstream AMD rule (full coverage builds from source)",
        outputPath: path.resolve(cwd, outputPath),
    };
}

const isDocumentation = (file: string) => file.startsWith("docs/") || file.endsWith(".md") || file === "mkdocs.yaml";

/**
 * The uploaded document: the decisions as top-level `env`, then the rendered steps under
 * `steps:`. The template's top-level list is indented, so it is a valid value of `steps:` as it
 * stands and the rendered lines are uploaded byte for byte (a list at column 0 would be indented).
 * The result is parsed back and must be a Buildkite pipeline with a list of steps.
 */
export function buildAmdDocument(rendered: string, decisions: Record<string, string>): string {
    const header = ["env:", ...Object.entries(decisions).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`), "steps:"].join("\n");
    const body = /^[ \t]/.test(rendered) ? rendered : rendered.replace(/^(?=.)/gm, "  ");
    const text = `${header}\n${body}${body.endsWith("\n") ? "" : "\n"}`;
    let document: unknown;
    try {
        document = yaml.load(text, { schema: yaml.CORE_SCHEMA });
    } catch (error) {
        const reason = error instanceof yaml.YAMLException ? error.reason : (error as Error).message;
        throw new GeneratorError({ file: AMD_TEMPLATE_NAME }, `the rendered AMD pipeline is not valid YAML: ${reason}`);
    }
    const steps = (document as { steps?: unknown } | undefined)?.steps;
    if (!Array.isArray(steps) || Object.keys(document as object).length !== 2) {
        throw new GeneratorError({ file: AMD_TEMPLATE_NAME }, "the rendered AMD pipeline is not a list of steps");
    }
    validatePipeline(document);
    return text;
}
