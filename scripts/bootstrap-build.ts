/**
 * What `dist/bootstrap.js` embeds beyond the generator (used by `scripts/build-generator.ts`):
 *
 * - the ci-infra commit it is built from (`VLLM_CI_BUNDLE_COMMIT`, else `git rev-parse HEAD`),
 *   which the bootstrap logs;
 * - the AMD template `generator/templates/test-template-amd.j2`, so the template a build renders
 *   is the one of the bundle it fetched (and verified);
 * - minijinja's WebAssembly module (brotli-compressed, ~310 KiB instead of 1 MiB), in place of
 *   the file `minijinja-js` reads next to itself at load time.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import type { Plugin } from "esbuild";

const ROOT = path.resolve(__dirname, "..");
export const AMD_TEMPLATE = path.join(ROOT, "generator", "templates", "test-template-amd.j2");

/** The commit a bundle is built from: the workflow's `GITHUB_SHA`, else the checkout's HEAD. */
export function bundleCommit(env: Record<string, string | undefined> = process.env): string {
    if (env.VLLM_CI_BUNDLE_COMMIT) return env.VLLM_CI_BUNDLE_COMMIT;
    try {
        return execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return "unknown";
    }
}

/** The two lines of minijinja-js's Node loader that read the WebAssembly file next to it. */
const WASM_READ = /const path = require\('path'\)\.join\(__dirname, 'minijinja_js_bg\.wasm'\);\s*const bytes = require\('fs'\)\.readFileSync\(path\);/;

/** Replace minijinja-js's file read with the embedded, compressed module. */
export function embeddedMinijinja(): Plugin {
    return {
        name: "embedded-minijinja-wasm",
        setup(builder) {
            builder.onLoad({ filter: /minijinja-js[\\/]dist[\\/]node[\\/]minijinja_js\.js$/ }, (args) => {
                const source = fs.readFileSync(args.path, "utf8");
                if (!WASM_READ.test(source)) {
                    throw new Error(`${args.path}: the WebAssembly loader changed; update scripts/bootstrap-build.ts`);
                }
                const wasm = fs.readFileSync(path.join(path.dirname(args.path), "minijinja_js_bg.wasm"));
                const packed = zlib.brotliCompressSync(wasm, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } }).toString("base64");
                const contents = source.replace(WASM_READ, `const bytes = require('zlib').brotliDecompressSync(Buffer.from(${JSON.stringify(packed)}, 'base64'));`);
                return { contents, loader: "js" };
            });
        },
    };
}

/** esbuild `define`s and plugins of the bootstrap bundle. */
export function bootstrapBuildOptions(): { define: Record<string, string>; plugins: Plugin[] } {
    return {
        define: {
            __BUNDLE_COMMIT__: JSON.stringify(bundleCommit()),
            __EMBEDDED_AMD_TEMPLATE__: JSON.stringify(fs.readFileSync(AMD_TEMPLATE, "utf8")),
        },
        plugins: [embeddedMinijinja()],
    };
}
