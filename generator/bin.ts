#!/usr/bin/env node
/** Entry point of the CLI (`tsx generator/bin.ts …`, bundled as `dist/pipeline-generator.js`). */
import { setFlagsFromString } from "v8";

// A run lasts a fraction of a second: optimising compilation (TurboFan) on background threads
// costs more CPU than it saves, and on a small CI machine (2 cores) it competes with the run
// itself (measured: about a third faster with it off, the 10x synthetic pipeline included).
// The flag only changes how code is compiled, never what it does.
setFlagsFromString("--no-opt");

// Loaded after the flag is set.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require("./cli") as typeof import("./cli");

main(process.argv.slice(2)).then((code: number) => {
    process.exitCode = code;
});
