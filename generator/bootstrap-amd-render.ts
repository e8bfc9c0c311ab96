/**
 * Rendering vLLM's AMD pipeline: `test-template-amd.j2` with `.buildkite/test-amd.yaml` as its
 * context, as upstream's `minijinja-cli test-template-amd.j2 test-amd.yaml -D …` does, in process.
 *
 * The engine is minijinja itself (`minijinja-js`, the WebAssembly build of the Rust crate that
 * `minijinja-cli` is made of), chosen by measurement: nunjucks cannot parse the template (slices,
 * `namespace` attribute assignment) and @huggingface/jinja lacks the `split` filter with no way
 * to add one (`generator/README.md`, "AMD entry point"). The bundle embeds the WebAssembly
 * module; it is compiled only when the AMD entry point runs.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { GeneratorError } from "./errors";

/** The template's `-D` variables (all strings, as on upstream's command line). */
export interface AmdTemplateVariables {
    branch: string;
    list_file_diff: string;
    run_all: string;
    nightly: string;
    torch_nightly: string;
    mirror_hw: string;
    fail_fast: string;
    vllm_use_precompiled: string;
    vllm_merge_base_commit: string;
    cov_enabled: string;
    vllm_ci_branch: string;
    rocm_base_refresh_skip: string;
    rocm_base_refresh_force: string;
}

/** The template's name, for messages (upstream's file name). */
export const AMD_TEMPLATE_NAME = "test-template-amd.j2";

/** Set by the bundler: the template as it was in this repository when the bundle was built. */
declare const __EMBEDDED_AMD_TEMPLATE__: string | undefined;

/** The AMD template of this ci-infra revision (embedded in the bundle, read from the source tree otherwise). */
export function amdTemplateSource(): string {
    if (typeof __EMBEDDED_AMD_TEMPLATE__ !== "undefined") return __EMBEDDED_AMD_TEMPLATE__;
    return fs.readFileSync(path.join(__dirname, "templates", AMD_TEMPLATE_NAME), "utf8");
}

/**
 * Parse the step file the way `minijinja-cli` does (YAML 1.2 core schema: `yes` stays a string,
 * no timestamps). The document must be a mapping: its keys (`steps`) become template variables.
 */
export function parseAmdSteps(text: string, file: string): Record<string, unknown> {
    let document: unknown;
    try {
        document = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
    } catch (error) {
        const reason = error instanceof yaml.YAMLException ? error.reason : (error as Error).message;
        const line = error instanceof yaml.YAMLException && error.mark ? ` (line ${error.mark.line + 1})` : "";
        throw new GeneratorError({ file }, `invalid YAML${line}: ${reason}`);
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
        throw new GeneratorError({ file }, "must be a mapping with a `steps` list");
    }
    return document as Record<string, unknown>;
}

/** Render the template; the text is exactly what `minijinja-cli` prints (blank lines included). */
export function renderAmdTemplate(template: string, context: Record<string, unknown>, variables: AmdTemplateVariables): string {
    // Loaded here, not at the top: only the AMD entry point pays for compiling the WebAssembly.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Environment } = require("minijinja-js") as typeof import("minijinja-js");
    const environment = new Environment();
    try {
        return environment.renderNamedStr(AMD_TEMPLATE_NAME, template, { ...context, ...variables });
    } catch (error) {
        const message = String((error as Error).message ?? error).split("\n").find((line) => line.trim() !== "") ?? "render failed";
        throw new GeneratorError({ file: AMD_TEMPLATE_NAME }, `cannot render the AMD pipeline: ${message.trim()}`);
    } finally {
        environment.free();
    }
}

/**
 * `sed '/^[[:space:]]*$/d'`: drop every line that is empty or only whitespace, keep the others
 * byte for byte (and the final line's missing newline, if it is missing).
 */
export function stripBlankLines(text: string): string {
    const lines = text.split("\n");
    const terminated = text.endsWith("\n");
    if (terminated) lines.pop();
    const kept: string[] = [];
    lines.forEach((line, index) => {
        if (/^[ \t\n\v\f\r]*$/.test(line)) return;
        const last = index === lines.length - 1;
        kept.push(last && !terminated ? line : `${line}\n`);
    });
    return kept.join("");
}
