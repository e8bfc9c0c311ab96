/**
 * Differential test of the fast YAML reader (`generator/fast-yaml.ts`) against js-yaml with the
 * PyYAML schema (`parseYamlWithJsYaml`): on every generated document, either the fast reader
 * gives up (`undefined`, the caller then uses js-yaml) or it returns exactly what js-yaml returns
 * (same mappings with their key order, same lists, same scalars and types, -0 included); and it
 * never accepts what js-yaml rejects.
 *
 * The documents are drawn by fast-check from the subset the reader claims: block mappings and
 * sequences (compact and nested, sequences at their key's indentation), plain scalars (also over
 * several lines), single- and double-quoted scalars (escapes, over several lines, escaped line
 * breaks), literal and folded block scalars with clip/strip/keep chomping (trailing empty lines,
 * spaces-only lines, at the end of the file), one-line flow collections, anchors and aliases,
 * comments, Unicode whitespace and line separators. A quarter of them is then mutated (a character
 * inserted or deleted, a line re-indented or repeated) to reach the edges of the subset.
 */
import { strict as assert } from "assert";
import fc from "fast-check";
import { parseFastYaml } from "../../generator/fast-yaml";
import { parseYamlWithJsYaml } from "../../generator/yaml";

/** At least this many generated documents (the issue asks for 10,000). */
export const DIFFERENTIAL_RUNS = 12_000;

type Gen = fc.GeneratorValue;

const UNICODE_SPACES = ["\u00a0", "\u2028", "\u2029", "\u3000", "\ufeff", "\u0085", "\u2003", "\u1680", "\u200b", "\u202f"];
/** Words of ordinary step files. */
const WORDS = [
    "a", "b", "pytest", "-v", "-s", "tests/", "vllm/a.py", "x=1", "echo", "$VAR", "${X}", "$$X", "(a)", "é", "ü", "日本",
    "yes", "No", "on", "OFF", "true", "False", "null", "Null", "~", "y", "n", "0", "-1", "+3", "007", "0755", "1e3", "1.5",
    ".5", "1_000", "0x1f", "0o7", "0b11", "12:30", "1:2:3", ".inf", "-.Inf", ".nan", "2001-12-14", "2+", "1-", "a:b",
    "a#b", "http://x.io/a:b", "--", "Émile", "😀", "x\u00a0", "\u00a0x", "a,b", "=x", "<x",
];
/** Words that may continue a plain scalar on the next line (no `: `, ` #` or leading `- `). */
const CONTINUATION_WORDS = WORDS.filter((word) => !/[:#]/.test(word) && !word.startsWith("-"));
/** Words at the edges: indicators, separators, whitespace other than spaces. */
const TRICKY_WORDS = [
    "2001-12-14 21:59:43.10 -5", "a:", ":a", "a #b", "#", "-", "- x", "?", "?x", "!t", "&a", "*a", "%", "@", "`", "|", ">",
    "'", "\"", "\\", "\\n", "[", "]", "{", "}", ",", "=", "<<", "<", "::", "k: v", "---", "...", "\t", "\u00a0", "\u2028",
    "\u2029", "\u3000", "\ufeff", "\u0085", "\u200b",
];
const KEYS = ["a", "b", "c", "key", "label", "commands", "with space", "on", "yes", "1", "null", "a:b", "é", "k-", "a b c", "toString"];
const TRICKY_KEYS = ["trailing ", "~", "k\u00a0", "-k", "k#", "__proto__", "constructor", "<<", "x\u3000", "? k", "k:", "&k", "'k"];
const ESCAPES = ["\\n", "\\t", "\\\\", "\\\"", "\\/", "\\0", "\\a", "\\b", "\\v", "\\f", "\\r", "\\e", "\\ ", "\\N", "\\_", "\\L", "\\P", "\\x41", "\\u00e9", "\\U0001F600", "\\u2028", "\\x85"];
const BAD_ESCAPES = ["\\q", "\\x4", "\\uD800", "\\U00110000"];
const ANCHORS = ["a", "b", "x1"];

function nat(g: Gen, max: number): number {
    return g(fc.nat, { max });
}
function pick<T>(g: Gen, items: readonly T[]): T {
    return items[nat(g, items.length - 1)];
}
function chance(g: Gen, percent: number): boolean {
    return nat(g, 99) < percent;
}
const spaces = (n: number) => " ".repeat(n);

function text(g: Gen, continuation = false): string {
    const count = 1 + nat(g, 3);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(continuation ? pick(g, CONTINUATION_WORDS) : chance(g, 2) ? pick(g, TRICKY_WORDS) : pick(g, WORDS));
    let result = parts.join(continuation || chance(g, 85) ? " " : pick(g, ["  ", "", ":", "#", "\u00a0", "\u2028", "-"]));
    if (chance(g, 10)) result = pick(g, UNICODE_SPACES) + result;
    if (chance(g, 10)) result += pick(g, UNICODE_SPACES);
    if (chance(g, 5)) result += " ";
    return result;
}

function singleQuoted(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

function doubleQuoted(g: Gen, value: string): string {
    let body = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    if (chance(g, 50)) {
        const at = nat(g, body.length);
        body = body.slice(0, at) + (chance(g, 2) ? pick(g, BAD_ESCAPES) : pick(g, ESCAPES)) + body.slice(at);
    }
    return `"${body}"`;
}

/** Ways a scalar may follow `key: ` or `- `; may spill over following lines (at `indent` or deeper). */
function scalarLines(g: Gen, indent: number, out: string[]): string {
    const value = text(g);
    switch (nat(g, 9)) {
        case 0:
        case 1:
        case 2:
            return value;
        case 3:
            return singleQuoted(value);
        case 4:
            return doubleQuoted(g, value);
        case 5: {
            // A plain scalar continued on deeper lines (folded into one line with spaces).
            const lines = 1 + nat(g, 2);
            for (let i = 0; i < lines; i++) {
                if (chance(g, 4)) out.push("");
                if (chance(g, 1)) out.push(spaces(indent + 1) + "# comment"); // ends the scalar: what follows is an error
                out.push(spaces(indent + 1 + nat(g, 3)) + text(g, true) + (chance(g, 10) ? " " : ""));
            }
            return value;
        }
        case 6: {
            // A quoted scalar over several lines, empty lines and escaped line breaks included.
            const double = chance(g, 50);
            const first = double ? doubleQuoted(g, value).slice(0, -1) : singleQuoted(value).slice(0, -1);
            const lines = 1 + nat(g, 2);
            for (let i = 0; i < lines; i++) {
                if (chance(g, 20)) out.push(chance(g, 50) ? "" : spaces(nat(g, indent + 3)));
                const part = double ? doubleQuoted(g, text(g)).slice(1, -1) : singleQuoted(text(g)).slice(1, -1);
                const last = i === lines - 1;
                out.push(spaces(indent + 1 + nat(g, 2)) + part + (double && !last && chance(g, 20) ? "\\" : "") + (last ? (double ? '"' : "'") : ""));
            }
            return first + (chance(g, 10) ? " " : "") + (double && chance(g, 10) ? "\\" : "");
        }
        case 7:
        case 8: {
            // A literal or folded block scalar.
            const header = pick(g, ["|", ">"]) + (chance(g, 8) ? pick(g, ["2", "-2", "1+"]) : pick(g, ["", "-", "+"])) + (chance(g, 10) ? " # c" : "");
            const contentIndent = indent + 1 + nat(g, 3);
            const lines = nat(g, 4);
            for (let i = 0; i < lines; i++) {
                switch (nat(g, 6)) {
                    case 0:
                        out.push("");
                        break;
                    case 1:
                        out.push(spaces(nat(g, contentIndent + 2)));
                        break;
                    case 2:
                        out.push(spaces(contentIndent + 1 + nat(g, 2)) + text(g));
                        break;
                    default:
                        out.push(spaces(contentIndent) + text(g) + (chance(g, 10) ? "  " : ""));
                }
            }
            for (let i = nat(g, 2); i > 0; i--) out.push(chance(g, 70) ? "" : spaces(nat(g, contentIndent + 1)));
            return header;
        }
        default:
            return flow(g, 0);
    }
}

function flowScalar(g: Gen): string {
    const value = chance(g, 3) ? pick(g, TRICKY_WORDS) : pick(g, WORDS);
    switch (nat(g, 3)) {
        case 0:
            return singleQuoted(value);
        case 1:
            return doubleQuoted(g, value);
        default:
            return value;
    }
}

function flow(g: Gen, depth: number): string {
    const count = nat(g, 3);
    const items: string[] = [];
    const map = chance(g, 40);
    for (let i = 0; i < count; i++) {
        const item = depth < 2 && chance(g, 20) ? flow(g, depth + 1) : flowScalar(g);
        items.push(map ? `${chance(g, 20) ? singleQuoted(pick(g, KEYS)) : pick(g, KEYS)}: ${item}` : item);
    }
    const separator = pick(g, [", ", ", ", ",", " , "]);
    const inner = items.join(separator) + (chance(g, 5) ? "," : "");
    return map ? `{${inner}}` : `[${inner}]`;
}

function properties(g: Gen, anchors: string[]): string {
    if (!chance(g, 12)) return "";
    const name = pick(g, ANCHORS);
    anchors.push(name);
    return `&${name} `;
}

/** A trailing comment, or (`glued`) a `#` right after a scalar, which is part of the scalar. */
function comment(g: Gen, glued = true): string {
    if (!chance(g, 15)) return "";
    return pick(g, glued ? [" # trailing", " #", "  # x: y", "# not a comment"] : [" # trailing", " #", "  # x: y"]);
}

/** A value after `key:` or `-` (`head` is that line so far), then its following lines. */
function value(g: Gen, head: string, indent: number, depth: number, inSequence: boolean, anchors: string[], out: string[]): void {
    // 0-5 scalar, 6 empty, 7-8 mapping, 9-10 sequence; deep nodes are scalars.
    const choice = depth >= 3 ? nat(g, 5) : nat(g, 10);
    if (choice === 0 && anchors.length > 0 && chance(g, 40)) {
        out.push(`${head} *${chance(g, 90) ? pick(g, anchors) : "undefined"}${comment(g)}`);
        return;
    }
    if (choice <= 5) {
        const props = properties(g, anchors);
        const following: string[] = [];
        const scalar = scalarLines(g, indent, following);
        // A comment cannot end a line that a scalar continues, or a block scalar header that has one.
        const single = following.length === 0 && !/^[|>]/.test(scalar);
        out.push(`${head} ${props}${scalar}${single ? comment(g) : ""}`);
        out.push(...following);
        return;
    }
    if (choice === 6) {
        out.push(head.endsWith("-") || chance(g, 80) ? head : `${head} `);
        return;
    }
    const props = properties(g, anchors).trimEnd();
    const child = indent + (inSequence ? 2 : pick(g, [0, 1, 2, 2, 2, 4]));
    const isMapping = choice <= 8;
    if (inSequence && chance(g, 50)) {
        // Compact: `- key: value` or `- - item` on the dash line.
        const lines: string[] = [];
        if (isMapping) mapping(g, indent + 2, depth + 1, anchors, lines);
        else sequence(g, indent + 2, depth + 1, anchors, lines);
        // Properties before a compact sequence are an error, before a compact mapping they name its first key.
        lines[0] = `${head} ${props && chance(g, isMapping ? 30 : 5) ? props + " " : ""}${lines[0].slice(indent + 2)}`;
        out.push(...lines);
        return;
    }
    out.push(head + (props ? ` ${props}` : "") + comment(g, false));
    if (chance(g, 10)) out.push(spaces(nat(g, child + 2)) + "# between");
    if (chance(g, 5)) out.push("");
    if (isMapping) mapping(g, Math.max(child, indent + 1), depth + 1, anchors, out);
    else sequence(g, inSequence ? child : pick(g, [indent, indent, child]), depth + 1, anchors, out);
}

function mapping(g: Gen, indent: number, depth: number, anchors: string[], out: string[]): void {
    const count = 1 + nat(g, depth === 0 ? 3 : 2);
    const used = new Set<string>();
    for (let i = 0; i < count; i++) {
        let key = chance(g, 5) ? pick(g, TRICKY_KEYS) : pick(g, KEYS);
        // Mostly distinct keys (a duplicate is an error).
        if (used.has(key) && chance(g, 90)) key = `${key}${i}`;
        used.add(key);
        const rendered = chance(g, 15) ? singleQuoted(key) : chance(g, 10) ? doubleQuoted(g, key) : key;
        value(g, `${spaces(indent)}${rendered}${chance(g, 5) ? " " : ""}:`, indent, depth, false, anchors, out);
        if (chance(g, 8)) out.push(chance(g, 50) ? "" : spaces(nat(g, indent + 2)) + "# comment");
    }
}

function sequence(g: Gen, indent: number, depth: number, anchors: string[], out: string[]): void {
    const count = 1 + nat(g, depth === 0 ? 3 : 2);
    for (let i = 0; i < count; i++) {
        value(g, `${spaces(indent)}-`, indent, depth, true, anchors, out);
        if (chance(g, 8)) out.push(chance(g, 50) ? "" : spaces(nat(g, indent + 2)) + "# comment");
    }
}

function mutate(g: Gen, document: string): string {
    let result = document;
    for (let n = 1 + nat(g, 1); n > 0; n--) {
        const lines = result.split("\n");
        const at = nat(g, Math.max(0, lines.length - 1));
        switch (nat(g, 4)) {
            case 0: {
                const position = nat(g, result.length);
                result = result.slice(0, position) + pick(g, [" ", "\n", ":", "#", "-", "'", '"', "\t", "\u00a0", "|", ">", "&", "*", "[", "{", ",", "\\", "?", "\r", "\x00", "\x7f", "\x85", "\ufffe"]) + result.slice(position);
                break;
            }
            case 1: {
                const position = nat(g, Math.max(0, result.length - 1));
                result = result.slice(0, position) + result.slice(position + 1);
                break;
            }
            case 2:
                lines[at] = chance(g, 50) ? " " + lines[at] : lines[at].replace(/^ /, "");
                result = lines.join("\n");
                break;
            default:
                lines.splice(at, 0, lines[at]);
                result = lines.join("\n");
        }
    }
    return result;
}

/** One generated document. */
export const yamlDocument: fc.Arbitrary<string> = fc.gen().map((g) => {
    const anchors: string[] = [];
    const out: string[] = [];
    if (chance(g, 10)) out.push("# leading comment");
    if (chance(g, 5)) out.push("");
    const top = nat(g, 9);
    if (top < 6) mapping(g, 0, 0, anchors, out);
    else if (top < 9) sequence(g, 0, 0, anchors, out);
    else out.push(scalarLines(g, -1, out));
    let document = out.join("\n") + pick(g, ["\n", "\n", "\n", "", "\n\n", "\n  \n", "\n# end\n"]);
    if (chance(g, 25)) document = mutate(g, document);
    return document;
});

/** JSON with every non-ASCII character escaped, so that odd whitespace shows in messages. */
function visible(value: unknown): string {
    return (JSON.stringify(value) ?? String(value)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Exact equality of parsed YAML: key order, -0 and NaN included. */
function sameValue(expected: unknown, actual: unknown, at = "/"): string | undefined {
    if (Array.isArray(expected) || Array.isArray(actual)) {
        if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) return `${at}: lists differ`;
        for (let i = 0; i < expected.length; i++) {
            const difference = sameValue(expected[i], actual[i], `${at}${i}/`);
            if (difference) return difference;
        }
        return undefined;
    }
    if (typeof expected === "object" && expected !== null && typeof actual === "object" && actual !== null) {
        if (Object.getPrototypeOf(expected) !== Object.getPrototypeOf(actual)) return `${at}: different kinds of object`;
        const keys = Object.keys(expected);
        if (keys.join("\u0000") !== Object.keys(actual).join("\u0000")) return `${at}: keys ${visible(keys)} vs ${visible(Object.keys(actual))}`;
        for (const key of keys) {
            const difference = sameValue((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${at}${key}/`);
            if (difference) return difference;
        }
        return undefined;
    }
    return Object.is(expected, actual) ? undefined : `${at}: js-yaml ${visible(expected)} (${typeof expected}), fast ${visible(actual)} (${typeof actual})`;
}

export interface DifferentialTally {
    documents: number;
    fast: number;
    bails: number;
    rejectedByJsYaml: number;
}

/** The property: identical results or a bail. Counts what happened. */
export function checkDocument(document: string, tally: DifferentialTally): void {
    tally.documents++;
    let reference: unknown;
    let referenceError: unknown;
    try {
        reference = parseYamlWithJsYaml(document, "generated.yaml");
    } catch (error) {
        referenceError = error;
        tally.rejectedByJsYaml++;
    }
    const fast = parseFastYaml(document);
    if (!fast) {
        tally.bails++;
        return;
    }
    tally.fast++;
    assert.equal(referenceError, undefined, `the fast reader accepted what js-yaml rejects:\n${visible(document)}`);
    const difference = sameValue(reference, fast.value);
    assert.equal(difference, undefined, `the fast reader differs from js-yaml at ${difference}:\n${visible(document)}`);
}

describe("fast YAML reader: differential test against js-yaml (fast-check)", function () {
    this.timeout(120_000);

    it(`gives js-yaml's result or bails on ${DIFFERENTIAL_RUNS.toLocaleString("en")} generated documents`, function () {
        const tally: DifferentialTally = { documents: 0, fast: 0, bails: 0, rejectedByJsYaml: 0 };
        fc.assert(
            fc.property(yamlDocument, (document) => checkDocument(document, tally)),
            { numRuns: DIFFERENTIAL_RUNS, seed: Number(process.env.YAML_DIFFERENTIAL_SEED ?? 20261201) },
        );
        // eslint-disable-next-line no-console
        console.log(
            `      differential: ${tally.documents} documents, ${tally.fast} on the fast path (identical), ` +
                `${tally.bails} bails, ${tally.rejectedByJsYaml} rejected by js-yaml, 0 mismatches`,
        );
        assert.ok(tally.documents >= DIFFERENTIAL_RUNS);
        // Not vacuous: most documents are read by the fast reader, and some are invalid YAML.
        assert.ok(tally.fast >= tally.documents * 0.3, `only ${tally.fast} of ${tally.documents} on the fast path`);
        assert.ok(tally.rejectedByJsYaml >= tally.documents * 0.02, `only ${tally.rejectedByJsYaml} invalid documents`);
    });
});
