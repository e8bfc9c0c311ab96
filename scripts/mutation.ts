/**
 * `npm run mutation -- [FILE ...]`: mutation testing of the core with Stryker (a benchmark of the
 * tests, not part of `npm test`). Each file is mutated on its own, against the test files that
 * exercise it, and gets its own report (`reports/mutation/<file>.html` and `.json`) and score.
 *
 * Stryker runs every mutant through its command runner: one mocha process per mutant, on the
 * file's tests only, stopping at the first failure (`--bail`). The mocha runner plugin is not used
 * because its releases for Node 20 (Stryker 9) do not load mocha 12, which this project pins.
 *
 * Without arguments every file below runs, one after the other (about an hour on 2 cores; see the
 * README for measured times). Exit code 0 unless Stryker itself fails: scores are read, not gated.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const REPORTS = path.join(ROOT, "reports", "mutation");

/** The mutated files and the tests that must kill their mutants. */
export const MUTATION_TARGETS: Readonly<Record<string, readonly string[]>> = {
    "catalog/validate.ts": ["tests/catalog/validate.test.ts", "tests/catalog/lint.test.ts"],
    "catalog/routing.ts": ["tests/catalog/routing.test.ts", "tests/catalog/catalog.test.ts"],
    "generator/selection.ts": ["tests/generator/selection.test.ts", "tests/generator/run.test.ts"],
    "generator/pipeline.ts": ["tests/generator/run.test.ts", "tests/generator/commands.test.ts", "tests/generator/conformance.test.ts"],
    "aws/stack-parameters.ts": ["tests/aws/parameter-sources.test.ts", "tests/aws/stack-parameters.test.ts", "tests/aws/fleet-problems.test.ts"],
    "aws/iam-policies.ts": ["tests/aws/iam-documents.test.ts", "tests/aws/iam-policies.test.ts", "tests/policy/stack-rules.test.ts"],
};

/** Stryker's configuration for one file. */
export function strykerConfig(file: string, tests: readonly string[]): Record<string, unknown> {
    const slug = file.replace(/[/.]/g, "-");
    const mocha = ["node", "node_modules/mocha/bin/mocha.js", "--no-config", "--node-option", "import=tsx", "--extension", "ts", "--timeout", "60000", "--bail", "--reporter", "dot", ...tests];
    return {
        $schema: "./node_modules/@stryker-mutator/core/schema/stryker-schema.json",
        mutate: [file],
        testRunner: "command",
        commandRunner: { command: mocha.join(" ") },
        coverageAnalysis: "off",
        concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
        timeoutMS: 30000,
        reporters: ["clear-text", "html", "json", "progress"],
        htmlReporter: { fileName: path.join("reports", "mutation", `${slug}.html`) },
        jsonReporter: { fileName: path.join("reports", "mutation", `${slug}.json`) },
        // One folder per file, so runs of different files may overlap.
        tempDirName: `.stryker-tmp-${slug}`,
        cleanTempDir: "always",
        ignorePatterns: ["dist", "reports", ".stryker-tmp*", "tests/fixtures/shared/reference"],
        thresholds: { high: 90, low: 80, break: null },
    };
}

interface FileReport {
    files: Record<string, { mutants: { status: string }[] }>;
}

/** Killed (and timed-out) mutants over all that could be judged, as Stryker computes it. */
export function mutationScore(report: FileReport): { score: number; killed: number; survived: number; noCoverage: number; total: number } {
    const mutants = Object.values(report.files).flatMap((f) => f.mutants);
    const count = (status: string) => mutants.filter((m) => m.status === status).length;
    const killed = count("Killed") + count("Timeout");
    const survived = count("Survived");
    const noCoverage = count("NoCoverage");
    const valid = killed + survived + noCoverage;
    return { score: valid === 0 ? 100 : (100 * killed) / valid, killed, survived, noCoverage, total: mutants.length };
}

function main(argv: string[]): number {
    const files = argv.length > 0 ? argv : Object.keys(MUTATION_TARGETS);
    const unknown = files.filter((file) => !MUTATION_TARGETS[file]);
    if (unknown.length > 0) {
        process.stderr.write(`error: no mutation target ${unknown.join(", ")} (targets: ${Object.keys(MUTATION_TARGETS).join(", ")})\n`);
        return 2;
    }
    fs.mkdirSync(REPORTS, { recursive: true });
    const summary: string[] = [];
    for (const file of files) {
        const config = path.join(REPORTS, `${file.replace(/[/.]/g, "-")}.stryker.json`);
        fs.writeFileSync(config, JSON.stringify(strykerConfig(file, MUTATION_TARGETS[file]), null, 2));
        const started = Date.now();
        const result = spawnSync(path.join(ROOT, "node_modules", ".bin", "stryker"), ["run", config], { cwd: ROOT, stdio: "inherit" });
        const minutes = ((Date.now() - started) / 60000).toFixed(1);
        if (result.status !== 0) {
            process.stderr.write(`error: stryker failed on ${file} (exit ${result.status})\n`);
            return 1;
        }
        const report = JSON.parse(fs.readFileSync(path.join(ROOT, "reports", "mutation", `${file.replace(/[/.]/g, "-")}.json`), "utf8")) as FileReport;
        const { score, killed, survived, noCoverage, total } = mutationScore(report);
        summary.push(`${file}: ${score.toFixed(1)}% (${killed} killed, ${survived} survived, ${noCoverage} not covered, ${total} mutants) in ${minutes} min`);
    }
    process.stdout.write(`\nMutation scores:\n${summary.map((line) => `  ${line}`).join("\n")}\n`);
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
