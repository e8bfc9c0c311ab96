/**
 * Generator conformance runner: `npm run conformance -- [DIR]`.
 *
 * Runs every case folder of DIR as its README describes: in a temporary copy of the folder (the
 * cases stay untouched), with only `env.json` as the environment, the diff from `diff.txt` and
 * the lookups from `stubs.json`. Without DIR it runs the published cases (the vendored copy
 * `tests/fixtures/shared/conformance/generator`, with our documented deviations from
 * `tests/generator/conformance/deviations/`) and then our own (`tests/generator/conformance/cases/`).
 * Prints PASS/FAIL per case with the first differing path, then `N passed, M failed`; exits
 * non-zero when a case fails.
 *
 * The OTel helper bundle embedded in traced commands (spec §4.11) is compared as opaque: in both
 * outputs every bundle is replaced by a placeholder, and each bundle of ours must decode to the
 * four helpers; everything else is compared exactly.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Catalog } from "../catalog/types";
import { defaultCatalog } from "../generator/catalog-source";
import { GeneratorError } from "../generator/errors";
import { OTEL_HELPER_FILES, OTEL_HELPERS_DIR, readTarGz } from "../generator/otel-bundle";
import type { GeneratorAdapters } from "../generator/generate";
import { runGenerator } from "../generator/run";
import { VLLM_SETTINGS } from "../generator/settings";
import { stepKey, type Step } from "../generator/steps";
import { parseYaml } from "../generator/yaml";
import { sharedFixture } from "../tests/support/fixtures";

export const DEFAULT_CASES_DIR = sharedFixture("conformance", "generator");
const OUR_CONFORMANCE = path.resolve(__dirname, "..", "tests", "generator", "conformance");
/** Our own cases (main builds with OTel tracing and more); documented in their README. */
export const OWN_CASES_DIR = path.join(OUR_CONFORMANCE, "cases");
/** Where we deliberately differ from a published case: `<case name>/` holds our expected files and a DEVIATION.md. */
export const DEVIATIONS_DIR = path.join(OUR_CONFORMANCE, "deviations");

/** What stands for an OTel helper bundle in compared outputs. */
export const OTEL_BUNDLE_PLACEHOLDER = "<otel-helpers.tar.gz>";
/** A base64 gzip stream (gzip magic 1f 8b 08 is `H4sI`) long enough to be a bundle. */
const BUNDLE_PATTERN = /H4sI[A-Za-z0-9+/]{200,}={0,2}/g;

/**
 * The value with every embedded helper bundle replaced by the placeholder; `found` receives the
 * bundles. Returns a copy.
 */
export function replaceOtelBundles(value: unknown, found: string[] = []): unknown {
    if (typeof value === "string") {
        return value.includes("H4sI")
            ? value.replace(BUNDLE_PATTERN, (bundle) => {
                  found.push(bundle);
                  return OTEL_BUNDLE_PLACEHOLDER;
              })
            : value;
    }
    if (Array.isArray(value)) return value.map((item) => replaceOtelBundles(item, found));
    if (typeof value === "object" && value !== null && !(value instanceof Date)) {
        const copy: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) copy[key] = replaceOtelBundles(item, found);
        return copy;
    }
    return value;
}

/** Why an embedded bundle is not the helper bundle the spec describes, or undefined. */
export function otelBundleProblem(bundle: string): string | undefined {
    try {
        const archive = Buffer.from(bundle, "base64");
        if (archive.readUInt32LE(4) !== 0) return "its gzip header carries a time";
        const entries = readTarGz(archive);
        const names = entries.map((entry) => `${entry.name} ${entry.mode.toString(8)}`);
        const wanted = OTEL_HELPER_FILES.map((name) => `${OTEL_HELPERS_DIR}/${name} ${name.endsWith(".sh") ? "755" : "644"}`);
        if (names.join(", ") !== wanted.join(", ")) return `it holds ${names.join(", ")} instead of ${wanted.join(", ")}`;
        if (entries.some((entry) => entry.content.length === 0)) return "a helper is empty";
        return undefined;
    } catch (error) {
        return `it does not decode (${(error as Error).message})`;
    }
}

export interface CaseStubs {
    pr_labels?: string[];
    existing_manifests?: string[];
    merge_base_commit?: string;
    output_file?: string;
}

export interface ExpectedOutcome {
    outcome: "ok" | "docs_only" | "error";
    /** Our cases and deviations: a regex the one-line error message must match. */
    error_pattern?: string;
    docs_only_marker?: string;
    calls?: { annotate?: string[][] };
}

export interface CaseResult {
    name: string;
    pass: boolean;
    /** Why it failed: the first differing path, or what was wrong. */
    detail?: string;
}

/** Case folders of a directory: every subfolder with an `expected_outcome.json`, sorted by name. */
export function listCases(directory: string): string[] {
    return fs
        .readdirSync(directory, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(directory, entry.name, "expected_outcome.json")))
        .map((entry) => path.join(directory, entry.name))
        .sort();
}

function describe(value: unknown): string {
    const text = JSON.stringify(value);
    return text === undefined ? "nothing" : text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * The first difference between two parsed YAML values, comparing mappings with their key
 * order, lists in order and scalars with their types; undefined when equal.
 */
export function firstDifference(expected: unknown, actual: unknown, at = ""): string | undefined {
    const where = at || "/";
    if (Array.isArray(expected) || Array.isArray(actual)) {
        if (!Array.isArray(expected) || !Array.isArray(actual)) return `${where}: expected ${describe(expected)}, got ${describe(actual)}`;
        const length = Math.min(expected.length, actual.length);
        for (let i = 0; i < length; i++) {
            const difference = firstDifference(expected[i], actual[i], `${at}/${i}`);
            if (difference) return difference;
        }
        if (expected.length !== actual.length) {
            return `${where}: expected ${expected.length} items, got ${actual.length} (first extra: ${describe(
                expected.length > actual.length ? expected[length] : actual[length],
            )})`;
        }
        return undefined;
    }
    const isMap = (value: unknown) => typeof value === "object" && value !== null && !(value instanceof Date);
    if (isMap(expected) || isMap(actual)) {
        if (!isMap(expected) || !isMap(actual)) return `${where}: expected ${describe(expected)}, got ${describe(actual)}`;
        const expectedKeys = Object.keys(expected as object);
        const actualKeys = Object.keys(actual as object);
        for (const key of expectedKeys) {
            if (!actualKeys.includes(key)) return `${at}/${key}: missing (expected ${describe((expected as Record<string, unknown>)[key])})`;
        }
        for (const key of actualKeys) {
            if (!expectedKeys.includes(key)) return `${at}/${key}: unexpected ${describe((actual as Record<string, unknown>)[key])}`;
        }
        for (const key of expectedKeys) {
            const difference = firstDifference((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${at}/${key}`);
            if (difference) return difference;
        }
        if (expectedKeys.join("\u0000") !== actualKeys.join("\u0000")) {
            return `${where}: key order differs: expected ${expectedKeys.join(", ")}; got ${actualKeys.join(", ")}`;
        }
        return undefined;
    }
    if (expected instanceof Date || actual instanceof Date) {
        return String(expected) === String(actual) ? undefined : `${where}: expected ${describe(expected)}, got ${describe(actual)}`;
    }
    if (expected !== actual || typeof expected !== typeof actual) return `${where}: expected ${describe(expected)}, got ${describe(actual)}`;
    return undefined;
}

/**
 * The order of the source groups inside `Hardware-AMD Tests` follows the order in which the
 * reference's `os.walk` listed the job files (unsorted; spec §4.1 calls it unspecified). We read
 * job files sorted by path, so that group is compared with its source-group runs put in a
 * canonical order (by group name, stable), in the expected and the actual output alike.
 * Everything else, including the order inside each run, is compared exactly.
 */
export function canonicalAmdGroupOrder(pipeline: unknown, steps: Step[], amdGroup = VLLM_SETTINGS.amd.groupName): unknown {
    const groups = (pipeline as { steps?: Array<{ group?: string; steps?: Array<Record<string, unknown>> }> })?.steps;
    const amd = Array.isArray(groups) ? groups.find((group) => group?.group === amdGroup) : undefined;
    if (!amd || !Array.isArray(amd.steps)) return pipeline;
    const sourceGroup = new Map<string, string>();
    for (const step of steps) {
        const group = step.group || "ungrouped";
        sourceGroup.set(stepKey(step), group);
        if (step.amdMirror) sourceGroup.set(`amd-${stepKey(step)}`, group);
    }
    const units: Array<{ group: string; steps: Array<Record<string, unknown>> }> = [];
    let pending: Array<Record<string, unknown>> = [];
    for (const step of amd.steps) {
        pending.push(step);
        if (!("block" in step)) {
            units.push({ group: sourceGroup.get(String(step.key)) ?? "", steps: pending });
            pending = [];
        }
    }
    units.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    amd.steps = [...units.flatMap((unit) => unit.steps), ...pending];
    return pipeline;
}

function makeWritable(directory: string): void {
    fs.chmodSync(directory, 0o755);
    for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const child = path.join(directory, entry.name);
        if (entry.isDirectory()) makeWritable(child);
        else fs.chmodSync(child, 0o644);
    }
}

/**
 * The published case whose inputs a case of ours reuses (file `inputs_from`, holding its name),
 * so that large inputs such as vLLM's step files are not copied into the repository twice.
 */
export function inputsFrom(caseDir: string): string | undefined {
    const marker = path.join(caseDir, "inputs_from");
    return fs.existsSync(marker) ? path.join(DEFAULT_CASES_DIR, fs.readFileSync(marker, "utf8").trim()) : undefined;
}

/** A temporary, writable copy of a case folder (over the inputs of the case it reuses, if any). */
export function copyCase(caseDir: string): string {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-${path.basename(caseDir)}-`));
    const source = inputsFrom(caseDir);
    if (source) {
        fs.cpSync(source, copy, { recursive: true });
        makeWritable(copy);
    }
    fs.cpSync(caseDir, copy, { recursive: true, force: true });
    makeWritable(copy);
    return copy;
}

/** Our deviation folder for a published case, when we deliberately differ from it. */
export function deviationFor(caseDir: string, deviationsDir = DEVIATIONS_DIR): string | undefined {
    const folder = path.join(deviationsDir, path.basename(caseDir));
    return fs.existsSync(path.join(folder, "DEVIATION.md")) ? folder : undefined;
}

export function readCase(
    caseDir: string,
    deviation?: string,
): {
    env: Record<string, string>;
    diff: string[];
    stubs: CaseStubs;
    expected: ExpectedOutcome;
    /** The expected pipeline file (ours when a deviation gives one). */
    expectedYaml: string;
} {
    const source = inputsFrom(caseDir);
    const input = (name: string) => (source && !fs.existsSync(path.join(caseDir, name)) ? path.join(source, name) : path.join(caseDir, name));
    const read = (name: string) => fs.readFileSync(input(name), "utf8");
    const exists = (name: string) => fs.existsSync(input(name));
    const expectedFile = (name: string) => (deviation && fs.existsSync(path.join(deviation, name)) ? path.join(deviation, name) : path.join(caseDir, name));
    return {
        env: exists("env.json") ? JSON.parse(read("env.json")) : {},
        diff: exists("diff.txt") ? read("diff.txt").split(/\r?\n/).filter((line) => line.trim() !== "") : [],
        stubs: exists("stubs.json") ? JSON.parse(read("stubs.json")) : {},
        expected: JSON.parse(fs.readFileSync(expectedFile("expected_outcome.json"), "utf8")),
        expectedYaml: expectedFile("expected.yaml"),
    };
}

/** Adapters answering from the case's recorded lookups. */
export function stubAdapters(diff: string[], stubs: CaseStubs): GeneratorAdapters {
    const manifests = new Set(stubs.existing_manifests ?? []);
    return {
        mergeBase: () => stubs.merge_base_commit ?? "stub-merge-base",
        changedFiles: () => [...diff],
        prLabels: () => [...(stubs.pr_labels ?? [])],
        ecrLogin: () => undefined,
        manifestExists: (tag) => manifests.has(tag),
    };
}

/** Run one case in process; never throws. */
export async function runCase(caseDir: string, catalog: Catalog = defaultCatalog(), deviation?: string): Promise<CaseResult> {
    const name = path.basename(caseDir);
    let workDir: string | undefined;
    try {
        const { env, diff, stubs, expected, expectedYaml } = readCase(caseDir, deviation);
        workDir = copyCase(caseDir);
        const outputFile = stubs.output_file ?? "out/pipeline.yaml";
        const outputPath = path.resolve(workDir, outputFile);
        const markerPath = path.join(path.dirname(outputPath), ".docs_only");
        const annotations: string[] = [];
        let error: unknown;
        let stepsRead: Step[] = [];
        try {
            const outcome = await runGenerator({
                cwd: workDir,
                env,
                pipelineConfigPath: "pipeline_config.yaml",
                outputFilePath: outputFile,
                adapters: stubAdapters(diff, stubs),
                annotate: (text) => annotations.push(text),
                catalog,
                log: () => undefined,
                print: () => undefined,
            });
            if (outcome.result.kind === "pipeline") stepsRead = outcome.result.steps;
        } catch (caught) {
            error = caught;
        }
        const fail = (detail: string): CaseResult => ({ name, pass: false, detail });
        switch (expected.outcome) {
            case "error": {
                if (error === undefined) return fail("expected an error, but the generator succeeded");
                if (!(error instanceof GeneratorError)) return fail(`expected a clean error, got ${(error as Error)?.stack ?? error}`);
                if (error.message.includes("\n")) return fail(`the error message is not one line: ${error.message}`);
                if (expected.error_pattern && !new RegExp(expected.error_pattern).test(error.message)) {
                    return fail(`the error ${JSON.stringify(error.message)} does not match ${expected.error_pattern}`);
                }
                if (fs.existsSync(outputPath)) return fail("an error was reported but the pipeline was written");
                if (fs.existsSync(markerPath)) return fail("an error was reported but the docs-only marker was written");
                return { name, pass: true };
            }
            case "docs_only": {
                if (error !== undefined) return fail(`unexpected error: ${(error as Error).message}`);
                if (fs.existsSync(outputPath)) return fail("docs-only, but a pipeline was written");
                if (!fs.existsSync(markerPath)) return fail(`the docs-only marker ${path.relative(workDir, markerPath)} is missing`);
                const marker = fs.readFileSync(markerPath, "utf8");
                if (marker !== (expected.docs_only_marker ?? "true")) return fail(`marker contains ${describe(marker)}`);
                const expectedAnnotations = (expected.calls?.annotate ?? []).map((call) => call[call.length - 1]);
                const difference = firstDifference(expectedAnnotations, annotations, "/annotations");
                return difference ? fail(difference) : { name, pass: true };
            }
            default: {
                if (error !== undefined) return fail(`unexpected error: ${(error as Error).message}`);
                if (!fs.existsSync(outputPath)) return fail(`no pipeline written at ${outputFile}`);
                const bundles: string[] = [];
                const actual = replaceOtelBundles(parseYaml(fs.readFileSync(outputPath, "utf8"), outputFile), bundles);
                const wanted = replaceOtelBundles(parseYaml(fs.readFileSync(expectedYaml, "utf8"), "expected.yaml"));
                const difference = firstDifference(canonicalAmdGroupOrder(wanted, stepsRead), canonicalAmdGroupOrder(actual, stepsRead));
                if (difference) return fail(difference);
                for (const bundle of new Set(bundles)) {
                    const problem = otelBundleProblem(bundle);
                    if (problem) return fail(`an embedded OTel helper bundle is wrong: ${problem}`);
                }
                return { name, pass: true };
            }
        }
    } catch (unexpected) {
        return { name, pass: false, detail: `runner error: ${(unexpected as Error)?.stack ?? unexpected}` };
    } finally {
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
}

export async function main(argv: string[]): Promise<number> {
    const suites: Array<[string, string]> = argv[0] ? [[argv[0], path.resolve(argv[0])]] : [["published cases", DEFAULT_CASES_DIR], ["our cases", OWN_CASES_DIR]];
    for (const [, directory] of suites) {
        if (!fs.existsSync(directory)) {
            process.stderr.write(`error: ${directory}: no such directory\n`);
            return 2;
        }
    }
    const catalog = defaultCatalog();
    let passed = 0;
    let failed = 0;
    for (const [label, directory] of suites) {
        let suitePassed = 0;
        let suiteFailed = 0;
        for (const caseDir of listCases(directory)) {
            const deviation = deviationFor(caseDir);
            const result = await runCase(caseDir, catalog, deviation);
            if (result.pass) suitePassed++;
            else suiteFailed++;
            const note = deviation ? " (our documented deviation)" : "";
            process.stdout.write(result.pass ? `PASS ${result.name}${note}\n` : `FAIL ${result.name}${note}: ${result.detail}\n`);
        }
        if (suites.length > 1) process.stdout.write(`${label}: ${suitePassed} passed, ${suiteFailed} failed\n`);
        passed += suitePassed;
        failed += suiteFailed;
    }
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
