/**
 * Command preparation (spec §4.10) and `$VARIABLE` injection (§4.8).
 */
import { otelWrapCommand } from "./otel";

/** Whether a string has UTF-16 surrogates (characters outside the BMP). */
const SURROGATE = /[\uD800-\uDFFF]/;

/** The first `count` code points of `text` (Python slicing counts code points, not UTF-16 units). */
export function firstCodePoints(text: string, count: number): string {
    if (!SURROGATE.test(text)) return text.slice(0, count);
    return Array.from(text).slice(0, count).join("");
}

/** Preview of a command in its echo line: 80 code points, then `'`, `"` and `$` removed. */
export function commandPreview(command: string): string {
    return firstCodePoints(command, 80).replace(/['"$]/g, "");
}

/** Python's `str` ordering: by code point (JS `<` compares UTF-16 units, which differs outside the BMP). */
export function compareCodePoints(a: string, b: string): number {
    if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
    const left = Array.from(a);
    const right = Array.from(b);
    const length = Math.min(left.length, right.length);
    for (let i = 0; i < length; i++) {
        const x = left[i].codePointAt(0)!;
        const y = right[i].codePointAt(0)!;
        if (x !== y) return x - y;
    }
    return left.length - right.length;
}

/** A variable to inject: `$NAME` (whole word) is replaced by `value`. */
export interface Injection {
    name: string;
    value: string;
}

interface CompiledInjection {
    needle: string;
    pattern: RegExp;
    value: string;
}

/**
 * Replaces `$NAME` as a whole word (followed by a regex word boundary, Unicode-aware like
 * Python's `\b`), variable by variable in the given order, so text inserted by an earlier
 * variable is scanned by the later ones. Variables with a falsy value are skipped and their
 * literal stays. Values are inserted literally.
 */
export class Injector {
    private readonly compiled: CompiledInjection[];
    constructor(injections: Injection[]) {
        this.compiled = injections
            .filter((injection) => injection.value)
            .map((injection) => ({
                needle: `$${injection.name}`,
                pattern: new RegExp(`\\$${injection.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}_])`, "gu"),
                value: injection.value,
            }));
    }

    get active(): boolean {
        return this.compiled.length > 0;
    }

    apply(line: string): string {
        if (!line.includes("$")) return line;
        let result = line;
        for (const { needle, pattern, value } of this.compiled) {
            if (result.includes(needle)) result = result.replace(pattern, () => value);
        }
        return result;
    }
}

/** What command preparation needs to know about a step. */
export interface CommandSource {
    label: string;
    commands: string[] | null;
    workingDir: string | null;
    numNodes: number | null;
    numDevices: number | null;
    noPlugin: boolean;
}

export interface PrepareOptions {
    /** Setup lines of the hardware profile; `multiGpu` adds the topology dump. */
    setup: (multiGpu: boolean) => string[];
    /** Label prefix of image builds: no setup lines and no `cd`. */
    imageBuildLabelPrefix: string;
    continueOnFailure: boolean;
    injector: Injector;
    /** OTel tracing: the helpers' setup line, and each command wrapped in a span (§4.11). */
    otel?: { setupLine: string };
}

/**
 * The command lines of a step (§4.10): setup lines (not for image builds or `no_plugin`),
 * the CONTINUE_ON_FAILURE wrapper, an echo preview before each command, then on every line
 * `'` becomes `"` (unless `num_nodes` is set: multi-node scripts keep their quoting) and the
 * variables are injected; finally `cd <working_dir>` is prepended, untouched by both.
 */
export function prepareCommands(step: CommandSource, options: PrepareOptions): string[] {
    const isImageBuild = step.label.startsWith(options.imageBuildLabelPrefix);
    const multiNode = step.numNodes !== null && step.numNodes >= 2;
    const lines: string[] = [];
    if (!isImageBuild && !step.noPlugin) {
        const multiGpu = multiNode || (step.numDevices !== null && step.numDevices >= 2);
        lines.push(...options.setup(multiGpu));
    }
    // The OTel line comes even for image builds and no_plugin steps (spec §4.11, case 30).
    if (options.otel) lines.push(options.otel.setupLine);
    if (options.continueOnFailure) lines.push("CI_OVERALL_STATUS=0");
    const commands = step.commands ?? [];
    commands.forEach((command, index) => {
        const preview = commandPreview(command);
        lines.push(`echo '+++ :test_tube: Command (${index + 1}/${commands.length}): ${preview}'`);
        // The span wraps the command itself; CONTINUE_ON_FAILURE wraps both, so a failure still
        // sets CI_OVERALL_STATUS (the span's last line ends with the command's status).
        const traced = options.otel ? otelWrapCommand(index + 1, preview, command) : command;
        lines.push(options.continueOnFailure ? `{ ${traced}\n} || CI_OVERALL_STATUS=1` : traced);
    });
    if (options.continueOnFailure) lines.push("exit $$CI_OVERALL_STATUS");
    const keepQuotes = !!step.numNodes;
    const prepared = lines.map((line) => options.injector.apply(keepQuotes ? line : line.replace(/'/g, '"')));
    if (step.workingDir && !isImageBuild && !multiNode) prepared.unshift(`cd ${step.workingDir}`);
    return prepared;
}
