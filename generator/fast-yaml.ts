/**
 * A fast reader for the subset of YAML that step definition files use: block mappings and
 * sequences, plain scalars (also folded over several lines), single- and double-quoted scalars
 * (also over several lines), literal and folded block scalars, one-line flow collections,
 * anchors and aliases, and comments.
 *
 * Why: the generator runs first in every CI build, and js-yaml's general parser is slow before
 * the JIT has warmed up (~200 ms for vLLM's 166 KiB of step files, most of the generator's run
 * time). This reader handles those files with a few regexes and tight loops.
 *
 * Contract: for any text it accepts, it returns exactly what js-yaml with the PyYAML schema
 * returns (a test checks this on every fixture and on tricky snippets). For anything else —
 * tags, merge keys, complex keys, tabs, CRLF, duplicate keys, explicit indentation indicators,
 * odd folding, timestamps, syntax errors — it gives up (`undefined`) and the caller uses js-yaml,
 * which also produces the error messages. Non-decimal numbers are resolved by js-yaml too.
 */

class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported();

function bail(): never {
    throw UNSUPPORTED;
}

const TRUE_WORDS = new Set(["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const FALSE_WORDS = new Set(["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);
const NULL_WORDS = new Set(["~", "null", "Null", "NULL", ""]);
const DECIMAL = /^[-+]?(?:0|[1-9][0-9]*)$/;
/** Scalars that could be numbers or timestamps: plain decimals are read here, the rest by js-yaml. */
const NUMBER_LIKE = /^[-+]?\.?[0-9]|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/;

/** Set by `yaml.ts`: resolves one plain scalar with js-yaml (for the rare non-decimal numbers). */
let resolveOther: ((text: string) => unknown) | undefined;
export function setOtherScalarResolver(resolver: (text: string) => unknown): void {
    resolveOther = resolver;
}

/** A plain scalar's value under PyYAML's implicit resolvers. */
function resolvePlain(text: string): unknown {
    const first = text.charCodeAt(0);
    // Letters other than the bool/null words, `/`, `$`, `(`... are strings: the common case.
    if (TRUE_WORDS.has(text)) return true;
    if (FALSE_WORDS.has(text)) return false;
    if (NULL_WORDS.has(text)) return null;
    if (first === 61 /* = */ || first === 60 /* < */) bail();
    if (NUMBER_LIKE.test(text)) {
        if (DECIMAL.test(text)) {
            const value = Number(text);
            if (!Number.isSafeInteger(value)) bail();
            return value === 0 ? 0 : value;
        }
        // Numbers never contain a space; timestamps only after their date.
        if (text.includes(" ") && !/^[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?[ Tt]/.test(text)) return text;
        if (!resolveOther) bail();
        const value = resolveOther(text);
        if (typeof value !== "string" && typeof value !== "number") bail();
        return value;
    }
    return text;
}

/** A multi-line plain scalar: the folded text resolves like any plain scalar, numbers aside. */
function resolveFolded(text: string): unknown {
    if (NUMBER_LIKE.test(text) || TRUE_WORDS.has(text) || FALSE_WORDS.has(text) || NULL_WORDS.has(text)) bail();
    return text;
}

const DOUBLE_ESCAPES: Record<string, string> = {
    "0": "\0",
    a: "\x07",
    b: "\b",
    t: "\t",
    n: "\n",
    v: "\v",
    f: "\f",
    r: "\r",
    e: "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    N: "\x85",
    _: "\xa0",
    L: "\u2028",
    P: "\u2029",
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

interface Line {
    /** Number of leading spaces. */
    indent: number;
    text: string;
    /** Blank or comment-only. */
    blank: boolean;
}

class Reader {
    private readonly lines: Line[];
    private readonly anchors = new Map<string, unknown>();
    private readonly following: Int32Array;

    constructor(text: string) {
        if (text.includes("\t") || text.includes("\r") || text.charCodeAt(0) === 0xfeff) bail();
        this.lines = text.split("\n").map((raw) => {
            let indent = 0;
            while (raw.charCodeAt(indent) === 32) indent++;
            const first = raw.charCodeAt(indent);
            return { indent, text: raw, blank: indent === raw.length || first === 35 /* # */ };
        });
        // following[i]: the first non-blank line at or after i (-1 when none), computed once.
        this.following = new Int32Array(this.lines.length);
        let next = -1;
        for (let i = this.lines.length - 1; i >= 0; i--) {
            if (!this.lines[i].blank) next = i;
            this.following[i] = next;
        }
    }

    /** Next non-blank line index at or after `index`, or -1. */
    private next(index: number): number {
        return index < this.following.length ? this.following[index] : -1;
    }

    document(): unknown {
        const start = this.next(0);
        if (start < 0) bail(); // empty stream: js-yaml decides
        const line = this.lines[start];
        if (line.indent !== 0) bail();
        const head = line.text;
        if (head.startsWith("---") || head.startsWith("...") || head.startsWith("%")) bail();
        const [value, end] = this.block(start, 0, -1);
        if (this.next(end) >= 0) bail();
        return value;
    }

    /**
     * A block node starting at (line, column); `parent` is the indentation of the enclosing
     * collection. Returns the value and the index of the first line after it.
     */
    private block(index: number, column: number, parent: number): [unknown, number] {
        const text = this.lines[index].text;
        const first = text.charCodeAt(column);
        if (first === 45 /* - */ && (column + 1 === text.length || text.charCodeAt(column + 1) === 32)) {
            return this.sequence(index, column);
        }
        if (first === 91 /* [ */ || first === 123 /* { */ || first === 34 /* " */ || first === 39 /* ' */) {
            // A flow collection or a quoted scalar, unless it is the key of a mapping entry.
            if (first === 91 || first === 123 || this.keyEnd(text, column) < 0) return this.inlineValue(index, column, parent);
        }
        if (this.keyEnd(text, column) >= 0) return this.mapping(index, column);
        // A lone scalar on its own line (a document or a nested value).
        return this.inlineValue(index, column, parent);
    }

    /** Where a `key:` ends on this line (the index of the colon), or -1 if the text is not a mapping entry. */
    private keyEnd(text: string, column: number): number {
        const first = text.charCodeAt(column);
        if (first === 34 /* " */ || first === 39 /* ' */) {
            // Find the closing quote on this line; none means a (multi-line) scalar, not a key.
            let end = -1;
            for (let j = column + 1; j < text.length; j++) {
                const code = text.charCodeAt(j);
                if (first === 34 && code === 92) j++;
                else if (code === first) {
                    if (first === 39 && text.charCodeAt(j + 1) === 39) j++;
                    else {
                        end = j + 1;
                        break;
                    }
                }
            }
            if (end < 0) return -1;
            let i = end;
            while (text.charCodeAt(i) === 32) i++;
            return text.charCodeAt(i) === 58 /* : */ && (i + 1 === text.length || text.charCodeAt(i + 1) === 32) ? i : -1;
        }
        const colon = text.indexOf(":", column);
        if (colon < 0) return -1;
        let i = colon;
        // The first ": " or ":" at the end of the line ends the key.
        while (i >= 0 && i + 1 < text.length && text.charCodeAt(i + 1) !== 32) i = text.indexOf(":", i + 1);
        if (i < 0) return -1;
        const comment = text.indexOf(" #", column);
        if (comment >= 0 && comment < i) return -1;
        return i;
    }

    private key(text: string, column: number, colon: number): string {
        const first = text.charCodeAt(column);
        let key: string;
        if (first === 34 || first === 39) {
            key = this.quotedOnLine(text, column)[0];
        } else {
            key = text.slice(column, colon).trimEnd();
            if (key === "" || /^[-?:,[\]{}#&*!|>%@`]/.test(key) || /[[\]{},"'#]/.test(key)) bail();
            if (resolvePlain(key) !== key) bail();
        }
        if (key === "__proto__") bail();
        return key;
    }

    private mapping(index: number, column: number): [Record<string, unknown>, number] {
        const result: Record<string, unknown> = {};
        const keys = new Set<string>();
        let i = index;
        let col = column;
        for (;;) {
            const text = this.lines[i].text;
            const colon = this.keyEnd(text, col);
            if (colon < 0) bail();
            const key = this.key(text, col, colon);
            if (keys.has(key)) bail(); // duplicate key: js-yaml reports it
            keys.add(key);
            let valueStart = colon + 1;
            while (text.charCodeAt(valueStart) === 32) valueStart++;
            let value: unknown;
            let after: number;
            if (valueStart >= text.length || text.charCodeAt(valueStart) === 35 /* # */) {
                [value, after] = this.nested(i + 1, column, true);
            } else {
                [value, after] = this.valueAt(i, valueStart, column, true);
            }
            result[key] = value;
            const next = this.next(after);
            if (next < 0 || this.lines[next].indent < column) return [result, after];
            if (this.lines[next].indent !== column) bail();
            i = next;
            col = column;
        }
    }

    private sequence(index: number, column: number): [unknown[], number] {
        const result: unknown[] = [];
        let i = index;
        for (;;) {
            const text = this.lines[i].text;
            if (text.charCodeAt(column) !== 45 || (column + 1 < text.length && text.charCodeAt(column + 1) !== 32)) bail();
            let start = column + 1;
            while (text.charCodeAt(start) === 32) start++;
            let value: unknown;
            let after: number;
            if (start >= text.length || text.charCodeAt(start) === 35) {
                [value, after] = this.nested(i + 1, column, false);
            } else {
                [value, after] = this.valueAt(i, start, column, false);
            }
            result.push(value);
            const next = this.next(after);
            if (next < 0 || this.lines[next].indent < column) return [result, after];
            if (this.lines[next].indent !== column) bail();
            const nextText = this.lines[next].text;
            if (nextText.charCodeAt(column) !== 45) return [result, after]; // a sibling mapping key (value of a same-indent key)
            i = next;
        }
    }

    /** The value after `key: ` or `- `, with anchors (`&name`) and aliases (`*name`) resolved. */
    private valueAt(index: number, start: number, parent: number, isMappingValue: boolean): [unknown, number] {
        const text = this.lines[index].text;
        const first = text.charCodeAt(start);
        if (first !== 38 /* & */ && first !== 42 /* * */) {
            return isMappingValue ? this.inlineValue(index, start, parent) : this.block(index, start, parent);
        }
        let end = start + 1;
        while (end < text.length && text.charCodeAt(end) !== 32) end++;
        const name = text.slice(start + 1, end);
        if (name === "" || /[,[\]{}]/.test(name)) bail();
        let rest = end;
        while (text.charCodeAt(rest) === 32) rest++;
        const restIsEmpty = rest >= text.length || (text.charCodeAt(rest) === 35 && rest > end);
        if (first === 42) {
            // An alias: the anchored node itself (js-yaml shares the object too).
            if (!this.anchors.has(name) || !restIsEmpty || this.continues(index, parent)) bail();
            return [this.anchors.get(name), index + 1];
        }
        const result = restIsEmpty ? this.nested(index + 1, parent, isMappingValue) : this.valueAt(index, rest, parent, isMappingValue);
        this.anchors.set(name, result[0]);
        return result;
    }

    /** The value of `key:` or `-` with nothing after it: a node on the following lines, or null. */
    private nested(index: number, parentIndent: number, isMappingValue: boolean): [unknown, number] {
        const next = this.next(index);
        if (next < 0) return [null, this.lines.length];
        const line = this.lines[next];
        if (line.indent > parentIndent) return this.block(next, line.indent, parentIndent);
        // `key:` followed by a sequence at the key's own indentation.
        if (isMappingValue && line.indent === parentIndent && line.text.charCodeAt(parentIndent) === 45) {
            const second = line.text.charCodeAt(parentIndent + 1);
            if (Number.isNaN(second) || second === 32) return this.sequence(next, parentIndent);
        }
        return [null, index];
    }

    /** A value that starts on this line at `start`: quoted, flow, block scalar or plain. */
    private inlineValue(index: number, start: number, parent: number): [unknown, number] {
        let text = this.lines[index].text;
        const first = text.charCodeAt(start);
        let value: unknown;
        let end: number;
        switch (first) {
            case 34 /* " */:
            case 39 /* ' */: {
                const found = this.quoted(index, text, start, parent);
                value = found.value;
                index = found.line;
                text = this.lines[index].text;
                end = found.column;
                break;
            }
            case 91 /* [ */:
            case 123 /* { */:
                [value, end] = this.flow(text, start);
                break;
            case 124 /* | */:
            case 62 /* > */:
                return this.blockScalar(index, start, parent);
            case 38 /* & */:
            case 42 /* * */:
            case 33 /* ! */:
            case 37 /* % */:
            case 64 /* @ */:
            case 96 /* ` */:
            case 63 /* ? */:
            case 44 /* , */:
            case 93 /* ] */:
            case 125 /* } */:
                bail();
            // eslint-disable-next-line no-fallthrough
            default: {
                let stop = text.indexOf(" #", start);
                const commented = stop >= 0;
                if (stop < 0) stop = text.length;
                let plain = text.slice(start, stop).trimEnd();
                if (plain.includes(": ") || plain.endsWith(":")) bail();
                const second = plain.charCodeAt(1);
                if ((first === 45 /* - */ || first === 58 /* : */) && (plain.length === 1 || second === 32)) bail();
                // Continuation lines (deeper than the parent collection) fold into one line with spaces.
                let last = index;
                if (!commented) {
                    for (let j = index + 1; j < this.lines.length; j++) {
                        const line = this.lines[j];
                        if (line.blank || line.indent <= parent) break;
                        const part = line.text.slice(line.indent).trimEnd();
                        if (part.includes(" #") || part.includes(": ") || part.endsWith(":") || part === "-" || part.startsWith("- ")) bail();
                        plain += " " + part;
                        last = j;
                    }
                }
                // Anything deeper after that (past a comment or an empty line) is beyond this reader.
                if (this.continues(last, parent)) bail();
                return [last === index ? resolvePlain(plain) : resolveFolded(plain), last + 1];
            }
        }

        // After a quoted or flow value: only spaces or a comment.
        let i = end;
        while (text.charCodeAt(i) === 32) i++;
        if (i < text.length && text.charCodeAt(i) !== 35) bail();
        if (i < text.length && i === end) bail(); // "#" right after the value is not a comment
        if (this.continues(index, parent)) bail();
        return [value, index + 1];
    }

    /**
     * Whether the next non-blank line is indented deeper than the enclosing collection: every
     * valid follower (a sibling entry or a parent's entry) is at or left of it, so a deeper line
     * continues a multi-line scalar (or is an error).
     */
    private continues(index: number, parent: number): boolean {
        const next = this.next(index + 1);
        return next >= 0 && this.lines[next].indent > parent;
    }

    /** A quoted scalar that ends on the same line: its value and the column after the closing quote. */
    private quotedOnLine(text: string, start: number): [string, number] {
        const found = this.quoted(-1, text, start, -1);
        return [found.value, found.column];
    }

    /**
     * A single- or double-quoted scalar starting at `start`. With a line index it may continue on
     * following lines (folded like PyYAML: a line break is a space, n empty lines are n line
     * breaks, a `\` before the break joins the lines); with -1 it must end on this line.
     */
    private quoted(index: number, text: string, start: number, parent: number): { value: string; line: number; column: number } {
        const double = text.charCodeAt(start) === 34;
        let line = index;
        let result = "";
        let i = start + 1;
        let run = i;
        for (;;) {
            if (i >= text.length) {
                // The line ends inside the scalar: fold it.
                if (line < 0) bail();
                result += text.slice(run, i).trimEnd();
                let empty = 0;
                for (;;) {
                    line++;
                    if (line >= this.lines.length) bail();
                    const next = this.lines[line];
                    if (next.indent !== next.text.length) break;
                    empty++;
                }
                const next = this.lines[line];
                if (next.indent <= parent) bail();
                result += empty === 0 ? " " : "\n".repeat(empty);
                text = next.text;
                i = next.indent;
                run = i;
                continue;
            }
            const code = text.charCodeAt(i);
            if (!double) {
                if (code === 39) {
                    result += text.slice(run, i);
                    if (text.charCodeAt(i + 1) === 39) {
                        result += "'";
                        i += 2;
                        run = i;
                        continue;
                    }
                    return { value: result, line: line < 0 ? index : line, column: i + 1 };
                }
                i++;
                continue;
            }
            if (code === 34) {
                result += text.slice(run, i);
                return { value: result, line: line < 0 ? index : line, column: i + 1 };
            }
            if (code === 92 /* \ */) {
                result += text.slice(run, i);
                if (i + 1 >= text.length) {
                    // An escaped line break: the lines join without a space.
                    if (line < 0) bail();
                    line++;
                    if (line >= this.lines.length) bail();
                    const next = this.lines[line];
                    if (next.indent === next.text.length || next.indent <= parent) bail();
                    text = next.text;
                    i = next.indent;
                    run = i;
                    continue;
                }
                const escape = text[i + 1];
                const simple = DOUBLE_ESCAPES[escape];
                if (simple !== undefined) {
                    result += simple;
                    i += 2;
                } else {
                    const length = HEX_LENGTH[escape];
                    if (!length) bail();
                    const hex = text.slice(i + 2, i + 2 + length);
                    if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) bail();
                    const codePoint = Number.parseInt(hex, 16);
                    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) bail();
                    result += String.fromCodePoint(codePoint);
                    i += 2 + length;
                }
                run = i;
                continue;
            }
            i++;
        }
    }

    /** A flow collection that closes on the same line. */
    private flow(text: string, start: number): [unknown, number] {
        let i = start;
        const skip = () => {
            while (text.charCodeAt(i) === 32) i++;
        };
        const flowKey = (): string => {
            skip();
            const code = text.charCodeAt(i);
            if (code === 34 || code === 39) {
                const [value, end] = this.quotedOnLine(text, i);
                i = end;
                return value;
            }
            const begin = i;
            while (i < text.length && !(text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 32)) {
                const c = text.charCodeAt(i);
                if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 35 || c === 63 || c === 58) bail();
                i++;
            }
            const key = text.slice(begin, i).trim();
            if (key === "" || /^[-&*!|>%@`'"]/.test(key) || resolvePlain(key) !== key) bail();
            return key;
        };
        const node = (): unknown => {
            skip();
            const code = text.charCodeAt(i);
            if (code === 91 /* [ */) {
                i++;
                const list: unknown[] = [];
                skip();
                if (text.charCodeAt(i) === 93) {
                    i++;
                    return list;
                }
                for (;;) {
                    list.push(node());
                    skip();
                    const sep = text.charCodeAt(i);
                    i++;
                    if (sep === 93) return list;
                    if (sep !== 44) bail();
                    skip();
                    if (text.charCodeAt(i) === 93) bail(); // trailing comma: leave to js-yaml
                }
            }
            if (code === 123 /* { */) {
                i++;
                const map: Record<string, unknown> = {};
                skip();
                if (text.charCodeAt(i) === 125) {
                    i++;
                    return map;
                }
                for (;;) {
                    const key = flowKey();
                    if (key === "__proto__" || key in map) bail();
                    skip();
                    if (text.charCodeAt(i) !== 58 || text.charCodeAt(i + 1) !== 32) bail();
                    i += 2;
                    map[key] = node();
                    skip();
                    const sep = text.charCodeAt(i);
                    i++;
                    if (sep === 125) return map;
                    if (sep !== 44) bail();
                    skip();
                    if (text.charCodeAt(i) === 125) bail();
                }
            }
            if (code === 34 || code === 39) {
                const [value, end] = this.quotedOnLine(text, i);
                i = end;
                return value;
            }
            const begin = i;
            while (i < text.length) {
                const c = text.charCodeAt(i);
                if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125) break;
                if (c === 58 /* : */ || c === 35 /* # */ || c === 63 /* ? */) bail();
                i++;
            }
            const plain = text.slice(begin, i).trim();
            if (plain === "" || /^[&*!|>%@`]|^-(?: |$)/.test(plain)) bail();
            return resolvePlain(plain);
        };
        const value = node();
        return [value, i];
    }

    /** `|` / `>` with an optional chomping indicator (explicit indentation is left to js-yaml). */
    private blockScalar(index: number, start: number, parent: number): [string, number] {
        const text = this.lines[index].text;
        const folded = text.charCodeAt(start) === 62;
        let i = start + 1;
        let chomp: "clip" | "strip" | "keep" = "clip";
        if (text[i] === "-") {
            chomp = "strip";
            i++;
        } else if (text[i] === "+") {
            chomp = "keep";
            i++;
        }
        if (i < text.length && text.charCodeAt(i) !== 32) bail(); // indentation indicator or junk
        while (text.charCodeAt(i) === 32) i++;
        if (i < text.length && text.charCodeAt(i) !== 35) bail();

        let indent = -1;
        const content: string[] = [];
        let pendingEmpty = 0;
        let j = index + 1;
        for (; j < this.lines.length; j++) {
            const line = this.lines[j];
            if (line.indent === line.text.length) {
                // An empty (or spaces-only) line: spaces beyond the content indentation are content.
                if (line.text.length > (indent < 0 ? 0 : indent)) bail();
                pendingEmpty++;
                continue;
            }
            if (indent < 0) {
                if (line.indent <= parent) break;
                if (pendingEmpty > 0) bail(); // leading empty lines: js-yaml
                indent = line.indent;
            } else if (line.indent < indent) {
                if (line.indent > parent) bail(); // neither content nor a follower: an error
                break;
            }
            for (; pendingEmpty > 0; pendingEmpty--) content.push("");
            content.push(line.text.slice(indent));
        }
        if (content.length === 0) bail();
        let body: string;
        if (folded) {
            if (content.some((line) => line === "" || line.charCodeAt(0) === 32)) bail(); // folding rules for those: js-yaml
            body = content.join(" ");
        } else {
            body = content.join("\n");
        }
        if (chomp === "clip") body += "\n";
        else if (chomp === "keep") body += "\n".repeat(1 + pendingEmpty);
        return [body, j];
    }
}

/** Parse `text` if it stays inside the supported subset; undefined means "use js-yaml". */
export function parseFastYaml(text: string): { value: unknown } | undefined {
    try {
        return { value: new Reader(text).document() };
    } catch (error) {
        if (error === UNSUPPORTED) return undefined;
        throw error;
    }
}
