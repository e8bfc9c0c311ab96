/**
 * One run of the generator with its file system and adapters: read the config and job files,
 * generate, validate, write the pipeline atomically (or the docs-only marker). Used by the CLI
 * and by tests; paths resolve against `cwd`, never against `process.cwd()`.
 */
import { isUtf8 } from "buffer";
import * as fs from "fs";
import * as path from "path";
import type { Catalog } from "../catalog/types";
import { buildkiteAnnotate, dockerAdapters, gitAdapters, githubAdapters, offlineAdapters } from "./adapters";
import { defaultCatalog, loadCatalogFile } from "./catalog-source";
import { parsePipelineConfig, readBuildContext, type PipelineConfig } from "./config";
import { GeneratorError, formatWarning } from "./errors";
import { explain } from "./explain";
import { generatePipeline, type GenerateResult, type GeneratorAdapters, type JobFile } from "./generate";
import { checkOutputPath, writeFileAtomic, writeYamlAtomic } from "./output";
import { mergeSettings, SettingsError, VLLM_SETTINGS, type GeneratorSettings } from "./settings";
import { parseYaml } from "./yaml";

export interface RunOptions {
    /** Working directory: config, job dirs, output and changed-files paths are relative to it. */
    cwd: string;
    /** The environment (only the variables of `ENVIRONMENT_VARIABLES` are read). */
    env: Record<string, string | undefined>;
    pipelineConfigPath: string;
    /** Where to write the pipeline; optional with `explain` (then nothing is written). */
    outputFilePath?: string;
    /** A file listing the changed files, one per line, instead of asking git. */
    changedFilesPath?: string;
    /** No git, GitHub, docker or registry calls. */
    offline?: boolean;
    /** PR labels to use instead of asking GitHub. */
    prLabels?: string[];
    /** Print why this step runs or is blocked. */
    explain?: string;
    strict?: boolean;
    /** Catalog object or file; default: the fleet's catalog. */
    catalog?: Catalog | string;
    /** Settings file (YAML or JSON) overriding the vLLM defaults. */
    settingsPath?: string;
    /** Settings already loaded by the caller (the bootstrap); `settingsPath` is then not read. */
    settings?: GeneratorSettings;
    /** The pipeline config already parsed by the caller; `pipelineConfigPath` is then not read again. */
    config?: PipelineConfig;
    /** A precomputed run-all decision. */
    runAll?: boolean;
    /** Replace the real adapters (tests, conformance). */
    adapters?: GeneratorAdapters;
    /** Replace `buildkite-agent annotate`. */
    annotate?: (text: string) => void;
    /** Diagnostics (warnings, offline notes): default stderr. */
    log?: (line: string) => void;
    /** Explanations: default stdout. */
    print?: (line: string) => void;
}

export interface RunOutcome {
    result: GenerateResult;
    /** The pipeline file written, if any. */
    outputPath?: string;
    /** The docs-only marker written, if any. */
    markerPath?: string;
}

/** Where the first byte that is not UTF-8 is (line and column, 1-based, column in bytes), or undefined. */
export function invalidUtf8(bytes: Buffer): { line: number; column: number } | undefined {
    if (isUtf8(bytes)) return undefined;
    const text = bytes.toString("utf8");
    for (let at = text.indexOf("\ufffd"); at >= 0; at = text.indexOf("\ufffd", at + 1)) {
        const prefix = text.slice(0, at);
        const offset = Buffer.byteLength(prefix);
        // A U+FFFD written in the file is three valid bytes; a replaced byte is not.
        if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue;
        const lineStart = prefix.lastIndexOf("\n") + 1;
        return { line: prefix.split("\n").length, column: offset - Buffer.byteLength(prefix.slice(0, lineStart)) + 1 };
    }
    return { line: 1, column: 1 };
}

function readText(file: string, what: string, shownAs = file): string {
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch (error) {
        // The full path: which file was looked for matters here (the bootstrap's tests rely on it).
        throw new GeneratorError({ file }, `cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    const invalid = invalidUtf8(bytes);
    if (invalid) {
        throw new GeneratorError({ file: shownAs }, `the ${what} is not valid UTF-8 (first bad byte at line ${invalid.line}, column ${invalid.column})`);
    }
    return bytes.toString("utf8");
}

/** Settings: the vLLM defaults, overlaid with a YAML/JSON file when given. */
export function loadSettings(file: string | undefined, cwd: string): GeneratorSettings {
    if (!file) return VLLM_SETTINGS;
    const resolved = path.resolve(cwd, file);
    try {
        return mergeSettings(VLLM_SETTINGS, parseYaml(readText(resolved, "settings file", file), file), file);
    } catch (error) {
        if (error instanceof SettingsError) throw new GeneratorError({}, error.message);
        throw error;
    }
}

/** Every `.yaml` file under a directory (recursively), sorted by path so the output never depends on listing order. */
export function listJobFiles(cwd: string, directory: string): string[] {
    const found: string[] = [];
    const walk = (relative: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(path.join(cwd, relative), { withFileTypes: true });
        } catch (error) {
            throw new GeneratorError({ file: relative || "." }, `cannot list the job directory (${(error as NodeJS.ErrnoException).code ?? error})`);
        }
        for (const entry of entries) {
            const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
            if (entry.isDirectory()) walk(child);
            else if (entry.name.endsWith(".yaml")) found.push(child);
        }
    };
    walk(path.relative(cwd, path.resolve(cwd, directory)).split(path.sep).join("/"));
    return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Run the generator. Throws GeneratorError on bad input; nothing is written then. */
/** Read and check the pipeline config at `configPath` (relative to `cwd`). */
export function loadPipelineConfig(cwd: string, configPath: string, settings: GeneratorSettings): PipelineConfig {
    return parsePipelineConfig(parseYaml(readText(path.resolve(cwd, configPath), "pipeline config", configPath), configPath), configPath, settings);
}

export async function runGenerator(options: RunOptions): Promise<RunOutcome> {
    const { cwd } = options;
    const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
    const print = options.print ?? ((line: string) => process.stdout.write(line + "\n"));
    if (!options.outputFilePath && !options.explain) {
        throw new GeneratorError({ field: "--output_file_path" }, "missing (where to write the pipeline)");
    }

    // A path that cannot be written fails now, before any work (and nothing is created).
    if (options.outputFilePath) checkOutputPath(path.resolve(cwd, options.outputFilePath), options.outputFilePath);
    const settings = options.settings ?? loadSettings(options.settingsPath, cwd);
    const configPath = options.pipelineConfigPath;
    const config = options.config ?? loadPipelineConfig(cwd, configPath, settings);
    for (const directory of config.jobDirs) {
        const absolute = path.resolve(cwd, directory);
        if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
            throw new GeneratorError({ file: configPath, field: "job_dirs" }, `job directory not found: ${directory}`);
        }
    }
    const build = readBuildContext(options.env);
    const catalog =
        options.catalog === undefined
            ? defaultCatalog()
            : typeof options.catalog === "string"
              ? loadCatalogFile(path.resolve(cwd, options.catalog))
              : options.catalog;

    let adapters: GeneratorAdapters;
    if (options.adapters) adapters = options.adapters;
    else if (options.offline) adapters = offlineAdapters(options.prLabels ?? []);
    else adapters = { ...gitAdapters(cwd), ...githubAdapters(settings), ...dockerAdapters(settings, cwd) };

    let changedFiles: string[] | undefined;
    if (options.changedFilesPath) {
        changedFiles = readText(path.resolve(cwd, options.changedFilesPath), "changed files list", options.changedFilesPath).split(/\r?\n/);
    } else if (options.offline) {
        changedFiles = [];
    }

    const jobFiles = (): JobFile[] =>
        config.jobDirs.flatMap((directory) =>
            listJobFiles(cwd, directory).map((file) => ({ path: file, text: readText(path.join(cwd, file), "job file", file) })),
        );

    const result = await generatePipeline(
        {
            config,
            jobFiles,
            catalog,
            build,
            settings,
            changedFiles,
            prLabels: options.prLabels,
            runAll: options.runAll,
            strict: options.strict,
        },
        adapters,
    );
    for (const warning of result.warnings) log(`warning: ${formatWarning(warning)}`);
    if (options.explain) for (const line of explain(result, options.explain)) print(line);

    const outcome: RunOutcome = { result };
    if (!options.outputFilePath) return outcome;
    const outputPath = path.resolve(cwd, options.outputFilePath);
    if (result.kind === "docs_only") {
        if (options.annotate) options.annotate(result.annotation);
        else if (options.offline) log(`offline: would run buildkite-agent annotate ${JSON.stringify(result.annotation)}`);
        else buildkiteAnnotate(cwd)(result.annotation);
        const markerPath = path.join(path.dirname(outputPath), settings.docsOnly.markerFile);
        writeFileAtomic(markerPath, "true");
        outcome.markerPath = markerPath;
        return outcome;
    }
    writeYamlAtomic(outputPath, result.pipeline as unknown as Record<string, unknown>);
    outcome.outputPath = outputPath;
    return outcome;
}
