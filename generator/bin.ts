#!/usr/bin/env node
/** Entry point of the CLI (`tsx generator/bin.ts …`, bundled as `dist/pipeline-generator.js`). */
import { main } from "./cli";

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
