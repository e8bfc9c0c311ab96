/**
 * The OTel helper bundle (spec §4.11): a base64 `tar.gz` of `otel_helpers/{ci_otel.py,
 * ci_otel.sh, ci_pytest.sh, ci_pytest_otel.py}` (the files of `generator/otel/`), gzip level 9,
 * mtime 0, modes 0755 for `.sh` and 0644 otherwise. The same files always give the same bytes: the
 * tar headers carry no time, owner or order of their own, and Node's gzip writes no time.
 *
 * The bundle (`scripts/build-generator.ts`) embeds it at build time (`__OTEL_HELPERS_BUNDLE__`);
 * run from source, it is built from the files on first use.
 */
import * as fs from "fs";
import * as path from "path";

/** The folder the bundle extracts to, and its files in bundle order. */
export const OTEL_HELPERS_DIR = "otel_helpers";
export const OTEL_HELPER_FILES = ["ci_otel.py", "ci_otel.sh", "ci_pytest.sh", "ci_pytest_otel.py"] as const;

export interface TarEntry {
    name: string;
    mode: number;
    content: Buffer;
}

const BLOCK = 512;

/** Loaded on use: the generator only packs or reads a bundle at build time and in tests. */
function zlib(): typeof import("zlib") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("zlib") as typeof import("zlib");
}

function octal(value: number, width: number): string {
    return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** A POSIX ustar header: regular file, owner 0:0 with no names, mtime 0. */
function header(entry: TarEntry): Buffer {
    const block = Buffer.alloc(BLOCK);
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name too long: ${entry.name}`);
    block.write(entry.name, 0, "utf8");
    block.write(octal(entry.mode, 8), 100, "ascii");
    block.write(octal(0, 8), 108, "ascii");
    block.write(octal(0, 8), 116, "ascii");
    block.write(octal(entry.content.length, 12), 124, "ascii");
    block.write(octal(0, 12), 136, "ascii");
    block.fill(" ", 148, 156);
    block.write("0", 156, "ascii");
    block.write("ustar\0", 257, "ascii");
    block.write("00", 263, "ascii");
    let sum = 0;
    for (const byte of block) sum += byte;
    block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
    return block;
}

/** A gzip (level 9) ustar archive of the entries, in the given order. */
export function tarGz(entries: readonly TarEntry[]): Buffer {
    const parts: Buffer[] = [];
    for (const entry of entries) {
        parts.push(header(entry), entry.content, Buffer.alloc((BLOCK - (entry.content.length % BLOCK)) % BLOCK));
    }
    parts.push(Buffer.alloc(2 * BLOCK));
    return zlib().gzipSync(Buffer.concat(parts), { level: 9 });
}

/** The regular files of a gzip ustar archive (for tests and the conformance runner). */
export function readTarGz(archive: Buffer): TarEntry[] {
    const tar = zlib().gunzipSync(archive);
    const entries: TarEntry[] = [];
    for (let offset = 0; offset + BLOCK <= tar.length; ) {
        const block = tar.subarray(offset, offset + BLOCK);
        if (block.every((byte) => byte === 0)) break;
        const field = (start: number, length: number) => block.toString("utf8", start, start + length).replace(/\0.*$/s, "");
        const size = parseInt(field(124, 12), 8);
        const content = tar.subarray(offset + BLOCK, offset + BLOCK + size);
        if (field(156, 1) === "0" || field(156, 1) === "") entries.push({ name: field(0, 100), mode: parseInt(field(100, 8), 8), content: Buffer.from(content) });
        offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
    return entries;
}

/** The helper bundle, base64, built from a folder holding the helper files. */
export function buildOtelHelpersBundle(directory = path.join(__dirname, "otel")): string {
    const entries = OTEL_HELPER_FILES.map((name) => ({
        name: `${OTEL_HELPERS_DIR}/${name}`,
        mode: name.endsWith(".sh") ? 0o755 : 0o644,
        content: fs.readFileSync(path.join(directory, name)),
    }));
    return tarGz(entries).toString("base64");
}

/** Set by the bundler: the helper bundle, built at build time. */
declare const __OTEL_HELPERS_BUNDLE__: string | undefined;
let cached: string | undefined;

/** The helper bundle the generator embeds in pipelines. */
export function otelHelpersBundle(): string {
    if (typeof __OTEL_HELPERS_BUNDLE__ !== "undefined") return __OTEL_HELPERS_BUNDLE__;
    return (cached ??= buildOtelHelpersBundle());
}
