/**
 * Which steps run (spec §3): run-all, the docs-only skip, only-step-keys, source-file
 * dependencies and the rule order that decides whether a step gets a block step.
 * Every decision carries the rule that made it, for `--explain`.
 */
import { GeneratorError } from "./errors";
import type { GeneratorSettings } from "./settings";
import { stepKey, type Step } from "./steps";

/** Python `re.match`: anchored at the start only, every alternative included. */
export function compileStartPatterns(patterns: string[]): RegExp[] {
    return patterns.map((pattern) => new RegExp(`^(?:${pattern})`));
}

export interface RunAllDecision {
    runAll: boolean;
    /** The label `ready-run-all-tests` also makes the build nightly. */
    nightlyFromLabel: boolean;
    reason: string;
}

/**
 * run_all (§3.2), checked in order: RUN_ALL=1, TORCH_NIGHTLY=1, the run-all PR label, then a
 * changed file matching a run-all pattern and no exclude pattern.
 */
export function decideRunAll(input: {
    runAllEnv: boolean;
    torchNightly: boolean;
    labels: string[];
    changedFiles: string[];
    patterns: string[];
    excludePatterns: string[];
    settings: GeneratorSettings;
}): RunAllDecision {
    const nightlyFromLabel = input.labels.includes(input.settings.github.runAllLabel);
    if (input.runAllEnv) return { runAll: true, nightlyFromLabel, reason: "RUN_ALL=1" };
    if (input.torchNightly) return { runAll: true, nightlyFromLabel, reason: "TORCH_NIGHTLY=1" };
    if (nightlyFromLabel) {
        return { runAll: true, nightlyFromLabel, reason: `the PR label ${input.settings.github.runAllLabel}` };
    }
    const include = compileStartPatterns(input.patterns);
    const exclude = compileStartPatterns(input.excludePatterns);
    for (const file of input.changedFiles) {
        // The reason names the pattern as written: a RegExp's `source` escapes every "/".
        const index = include.findIndex((regex) => regex.test(file));
        if (index >= 0 && !exclude.some((regex) => regex.test(file))) {
            return {
                runAll: true,
                nightlyFromLabel,
                reason: `changed file ${file} matches the run-all pattern ${input.patterns[index]}`,
            };
        }
    }
    return { runAll: false, nightlyFromLabel, reason: "no run-all condition holds" };
}

/** Docs-only (§3.1): a non-empty diff where every path is documentation. */
export function isDocsOnlyDiff(changedFiles: string[], settings: GeneratorSettings): boolean {
    const files = changedFiles.filter((file) => file !== "");
    if (files.length === 0) return false;
    const { prefixes, suffixes, exact } = settings.docsOnly;
    return files.every(
        (file) =>
            prefixes.some((prefix) => file.startsWith(prefix)) ||
            suffixes.some((suffix) => file.endsWith(suffix)) ||
            exact.includes(file),
    );
}

/** One dependency entry against one changed path: whole path components, no glob (§3.5). */
export function dependencyMatchesPath(dependency: string, path: string): boolean {
    let end = dependency.length;
    while (end > 0 && dependency.charCodeAt(end - 1) === 47 /* "/" */) end--;
    if (end === 0) return false;
    const entry = end === dependency.length ? dependency : dependency.slice(0, end);
    return path === entry || (path.length > entry.length && path.startsWith(entry) && path.charCodeAt(entry.length) === 47);
}

export interface DependencyMatch {
    file: string;
    dependency: string;
}

/**
 * The first changed file that matches an include entry and no `!` exclusion, with the entry
 * it matched; undefined when none does (and always when there are no dependencies).
 */
export function matchSourceDependencies(dependencies: string[] | null, changedFiles: string[]): DependencyMatch | undefined {
    if (!dependencies || dependencies.length === 0) return undefined;
    const includes: string[] = [];
    const excludes: string[] = [];
    for (const entry of dependencies) {
        if (entry.startsWith("!")) excludes.push(entry.slice(1));
        else includes.push(entry);
    }
    if (includes.length === 0) return undefined;
    for (const file of changedFiles) {
        const dependency = includes.find((entry) => dependencyMatchesPath(entry, file));
        if (dependency !== undefined && !excludes.some((entry) => dependencyMatchesPath(entry, file))) {
            return { file, dependency };
        }
    }
    return undefined;
}

/** What the rules of §3.4 see of a step (a main step, a direct AMD step or a mirror's effective step). */
export interface SelectableStep {
    key: string | null;
    device: string | null;
    dind: boolean;
    optional: boolean;
    sourceFileDependencies: string[] | null;
}

/** Build-wide facts the rules need. */
export interface SelectionContext {
    noAuto: boolean;
    onlyStepKeys: boolean;
    nightly: boolean;
    runAll: boolean;
    runAllReason: string;
    changedFiles: string[];
    changedFileSet: ReadonlySet<string>;
    amdDevices: ReadonlyMap<string, number>;
    settings: GeneratorSettings;
}

export interface RunDecision {
    run: boolean;
    /** The rule that decided, in words. */
    reason: string;
    match?: DependencyMatch;
}

/** Should a step run without a block step? The first rule that applies wins (§3.4). */
export function decideRun(step: SelectableStep, context: SelectionContext): RunDecision {
    const { settings } = context;
    if (context.noAuto) return { run: false, reason: "NOAUTO=1 blocks every step" };
    if (context.onlyStepKeys) return { run: true, reason: "selected by VLLM_CI_ONLY_STEP_KEYS" };
    if (step.key && (step.key.startsWith(settings.imageBuildKeyPrefix) || settings.alwaysRunKeys.includes(step.key))) {
        return { run: true, reason: `its key ${step.key} always runs` };
    }
    if (context.nightly) return { run: true, reason: "nightly build (NIGHTLY=1 or the run-all PR label)" };
    if (step.optional) return { run: false, reason: "optional steps run only in nightly builds" };
    if (
        step.device !== null &&
        context.amdDevices.has(step.device) &&
        !step.dind &&
        context.changedFileSet.has(settings.amd.runScriptPath)
    ) {
        return { run: true, reason: `native AMD step and ${settings.amd.runScriptPath} changed` };
    }
    if (context.runAll) return { run: true, reason: `run all: ${context.runAllReason}` };
    const match = matchSourceDependencies(step.sourceFileDependencies, context.changedFiles);
    if (match) {
        return { run: true, reason: `changed file ${match.file} matches source_file_dependencies entry ${match.dependency}`, match };
    }
    if (!step.sourceFileDependencies || step.sourceFileDependencies.length === 0) {
        return { run: false, reason: "it has no source_file_dependencies, so no change selects it" };
    }
    return { run: false, reason: "no changed file matches its source_file_dependencies" };
}

/**
 * Only-step-keys (§3.3): the requested explicit keys plus their transitive `depends_on`, in read
 * order. Steps without an explicit key are dropped.
 */
export function selectOnlyStepKeys(steps: Step[], requested: string[]): Step[] {
    const byKey = new Map<string, Step>();
    for (const step of steps) {
        if (!step.key) continue;
        if (byKey.has(step.key)) {
            throw new GeneratorError(
                { file: step.file, step: step.label, field: "key" },
                `duplicate CI step key ${step.key} (also in ${byKey.get(step.key)!.file}); keys must be unique with VLLM_CI_ONLY_STEP_KEYS`,
            );
        }
        byKey.set(step.key, step);
    }
    const unknown = requested.filter((key) => !byKey.has(key)).sort();
    if (unknown.length > 0) {
        throw new GeneratorError({ field: "VLLM_CI_ONLY_STEP_KEYS" }, `unknown CI step key(s): ${unknown.join(", ")}`);
    }
    const selected = new Set<string>();
    const pending = [...requested];
    while (pending.length > 0) {
        const key = pending.pop()!;
        if (selected.has(key)) continue;
        selected.add(key);
        const step = byKey.get(key)!;
        for (const dependency of step.dependsOn ?? []) {
            if (!byKey.has(dependency)) {
                throw new GeneratorError(
                    { file: step.file, step: step.label, field: "depends_on" },
                    `CI step ${key} depends on unknown step ${dependency}`,
                );
            }
            pending.push(dependency);
        }
    }
    return steps.filter((step) => step.key !== null && selected.has(step.key));
}

/**
 * Dependency checks the reference does not make: a cycle among the steps' `depends_on` is an
 * error (Buildkite would never start those steps); a dependency on a key that no step declares
 * and the generator does not emit is reported through `onDangling` (a warning by default,
 * because the key may come from another pipeline upload of the same build).
 */
export function checkDependencies(
    steps: Step[],
    generatedKeys: ReadonlySet<string>,
    onDangling: (step: Step, dependency: string) => void,
): void {
    const byKey = new Map<string, Step>();
    for (const step of steps) {
        const key = stepKey(step);
        if (!byKey.has(key)) byKey.set(key, step);
    }
    for (const step of steps) {
        for (const dependency of step.dependsOn ?? []) {
            if (!byKey.has(dependency) && !generatedKeys.has(dependency)) onDangling(step, dependency);
        }
    }
    // Iterative depth-first search for a cycle (white/grey/black colouring).
    const state = new Map<string, 1 | 2>();
    for (const start of byKey.keys()) {
        if (state.has(start)) continue;
        const stack: Array<{ key: string; next: number }> = [{ key: start, next: 0 }];
        state.set(start, 1);
        while (stack.length > 0) {
            const frame = stack[stack.length - 1];
            const deps = byKey.get(frame.key)!.dependsOn ?? [];
            if (frame.next >= deps.length) {
                state.set(frame.key, 2);
                stack.pop();
                continue;
            }
            const dependency = deps[frame.next++];
            if (!byKey.has(dependency)) continue;
            const seen = state.get(dependency);
            if (seen === 1) {
                const cycleStart = stack.findIndex((entry) => entry.key === dependency);
                const cycle = [...stack.slice(cycleStart).map((entry) => entry.key), dependency];
                const step = byKey.get(frame.key)!;
                throw new GeneratorError(
                    { file: step.file, step: step.label, field: "depends_on" },
                    `dependency cycle: ${cycle.join(" -> ")}`,
                );
            }
            if (seen === undefined) {
                state.set(dependency, 1);
                stack.push({ key: dependency, next: 0 });
            }
        }
    }
}
