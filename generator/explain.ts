/**
 * `--explain KEY`: why a step runs or is blocked, in words (which changed file matched which
 * dependency, or which rule decided).
 */
import { didYouMean } from "../lib/suggest";
import type { GenerateResult } from "./generate";
import { stepKey } from "./steps";

export function explain(result: GenerateResult, key: string): string[] {
    const lines: string[] = [];
    if (result.kind === "docs_only") {
        return [`${key}: no pipeline is generated: every changed file is documentation (${result.changedFiles.join(", ")})`];
    }
    const runAll = result.runAll.runAll ? `run all: yes (${result.runAll.reason})` : `run all: no (${result.runAll.reason})`;
    let explanation = result.explanations.get(key);
    if (!explanation) {
        // A block key names the step it gates.
        for (const candidate of result.explanations.values()) if (candidate.blockKey === key) explanation = candidate;
    }
    if (!explanation) {
        const read = result.steps.find((step) => stepKey(step) === key);
        if (read) return [`${key}: step "${read.label}" (${read.file}) is not in the pipeline: it was not selected by VLLM_CI_ONLY_STEP_KEYS`];
        const suggestion = didYouMean(key, result.explanations.keys());
        const similar = [...result.explanations.keys()].filter((candidate) => candidate.includes(key) || key.includes(candidate)).slice(0, 5);
        const hint = suggestion || (similar.length > 0 ? ` (keys containing it: ${similar.join(", ")})` : "");
        return [`${key}: no step has this key${hint}`];
    }
    const verdict = explanation.decision.run ? "runs" : `is blocked (block step ${explanation.blockKey})`;
    lines.push(`${explanation.key}: "${explanation.label}" (${explanation.file}, queue ${explanation.queue}) ${verdict}`);
    lines.push(`  because ${explanation.decision.reason}`);
    lines.push(`  ${runAll}; nightly: ${result.nightly ? "yes" : "no"}; changed files: ${result.changedFiles.length}`);
    return lines;
}
