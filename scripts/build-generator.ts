/**
 * `npm run build:generator`: bundle the pipeline generator into one self-contained file,
 * `dist/pipeline-generator.js`, that runs with plain `node` and no `node_modules` (the bootstrap
 * step of every build downloads and runs it).
 *
 * Two things are done at build time rather than at every run:
 * - the Buildkite schema is compiled into Ajv standalone code (no Ajv compiler at run time);
 * - the queue catalog is read, checked and embedded (`--catalog PATH` still loads another one);
 * - the OTel helpers (`generator/otel/`) are packed into the base64 tar.gz pipelines embed.
 */
import * as fs from "fs";
import * as path from "path";
import { build, type Plugin } from "esbuild";
import standaloneCode from "ajv/dist/standalone";
import { loadCatalogFile } from "../generator/catalog-source";
import { buildOtelHelpersBundle } from "../generator/otel-bundle";
import { pipelineAjv, VALIDATOR_REFS } from "../generator/schema-validator";
import { bootstrapBuildOptions } from "./bootstrap-build";

const ROOT = path.resolve(__dirname, "..");
export const GENERATOR_BUNDLE = path.join(ROOT, "dist", "pipeline-generator.js");
/** The bootstrap (first step of every build), which runs the generator in process. */
export const BOOTSTRAP_BUNDLE = path.join(ROOT, "dist", "bootstrap.js");

/** Ajv standalone validation code for the pipeline schema, as a module exporting `createPipelineValidators`. */
function standaloneValidatorModule(): string {
    const code = standaloneCode(pipelineAjv({ code: { source: true } }), VALIDATOR_REFS);
    return [
        "const compiled = (() => { const module = { exports: {} }; const exports = module.exports;",
        code,
        "return module.exports; })();",
        "exports.AJV_OPTIONS = {};",
        "exports.createPipelineValidators = () => compiled;",
    ].join("\n");
}

/** Replace `generator/schema-validator.ts` with the precompiled validator. */
function precompiledValidator(): Plugin {
    const target = path.join(ROOT, "generator", "schema-validator.ts");
    return {
        name: "precompiled-pipeline-validator",
        setup(builder) {
            builder.onResolve({ filter: /schema-validator$/ }, (args) => {
                const resolved = path.resolve(args.resolveDir, args.path) + ".ts";
                return resolved === target ? { path: target, namespace: "precompiled-validator" } : undefined;
            });
            builder.onLoad({ filter: /.*/, namespace: "precompiled-validator" }, () => ({
                contents: standaloneValidatorModule(),
                loader: "js",
                resolveDir: ROOT,
            }));
        },
    };
}

/** Build the generator bundle; returns its path. */
export async function buildGenerator(outfile = GENERATOR_BUNDLE, defines: Record<string, string> = {}): Promise<string> {
    return bundle(path.join(ROOT, "generator", "bin.ts"), outfile, { define: defines });
}

/** Build the bootstrap bundle; returns its path. */
export async function buildBootstrap(outfile = BOOTSTRAP_BUNDLE): Promise<string> {
    return bundle(path.join(ROOT, "generator", "bootstrap.ts"), outfile, bootstrapBuildOptions());
}

/** What one bundle adds to the shared build options. */
interface BundleExtras {
    define?: Record<string, string>;
    plugins?: Plugin[];
}

async function bundle(entry: string, outfile: string, extras: BundleExtras = {}): Promise<string> {
    const catalog = loadCatalogFile(path.join(ROOT, "catalog", "queues.yaml"));
    const result = await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        minify: process.env.GENERATOR_BUNDLE_MINIFY !== "0",
        legalComments: "eof",
        logLevel: "warning",
        define: { __EMBEDDED_CATALOG__: JSON.stringify(catalog), __OTEL_HELPERS_BUNDLE__: JSON.stringify(buildOtelHelpersBundle()), ...extras.define },
        // The catalog loader's Ajv (only for --catalog) must never pull in a cloud SDK.
        external: ["@pulumi/*"],
        plugins: [precompiledValidator(), ...(extras.plugins ?? [])],
        metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    const forbidden = inputs.filter((input) => input.includes("@pulumi") || input.includes("aws-sdk"));
    if (forbidden.length > 0) throw new Error(`the generator bundle must not include ${forbidden.join(", ")}`);
    return outfile;
}

if (require.main === module) {
    Promise.all([buildGenerator(), buildBootstrap()]).then(
        (files) => {
            for (const file of files) {
                const size = fs.statSync(file).size;
                process.stdout.write(`${path.relative(process.cwd(), file)}: ${(size / 1024).toFixed(0)} KiB\n`);
            }
        },
        (error) => {
            process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
