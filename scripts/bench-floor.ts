/**
 * The floor of the generator benchmark (`scripts/bench-generator.ts`): what any generator must
 * do for the same case. Bundled like the generator and run with plain `node`.
 *
 *   node bench-floor.js io   OUTPUT_SOURCE OUT DIR...   read every input, write the output bytes
 *   node bench-floor.js yaml OUTPUT_JSON  OUT DIR...   also parse the inputs and serialise the output
 *
 * OUTPUT_SOURCE is a pipeline YAML (copied as bytes); OUTPUT_JSON the same pipeline as JSON
 * (read natively, then written as YAML with the generator's emitter).
 */
import * as fs from "fs";
import * as path from "path";
import { setFlagsFromString } from "v8";

// The same V8 setting as the generator's CLI (generator/bin.ts), for a like-for-like floor.
setFlagsFromString("--no-opt");

function yamlFiles(directory: string): string[] {
    return fs
        .readdirSync(directory, { withFileTypes: true })
        .flatMap((entry) =>
            entry.isDirectory() ? yamlFiles(path.join(directory, entry.name)) : entry.name.endsWith(".yaml") ? [path.join(directory, entry.name)] : [],
        );
}

const [mode, source, out, ...directories] = process.argv.slice(2);
const inputs = ["pipeline_config.yaml", ...directories.flatMap(yamlFiles)];
if (mode === "io") {
    for (const file of inputs) fs.readFileSync(file, "utf8");
    fs.writeFileSync(out, fs.readFileSync(source));
} else {
    // Loaded only in this mode, so that the I/O floor carries no YAML code.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { writeYamlAtomic } = require("../generator/output") as typeof import("../generator/output");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseYaml } = require("../generator/yaml") as typeof import("../generator/yaml");
    for (const file of inputs) parseYaml(fs.readFileSync(file, "utf8"), file);
    writeYamlAtomic(out, JSON.parse(fs.readFileSync(source, "utf8")));
}
