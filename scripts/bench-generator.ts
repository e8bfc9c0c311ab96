/**
 * `npm run bench:generator [-- --runs N]`: times the bundled generator CLI (`--offline`) on the
 * real vLLM case `vllm-pr-lora-change`, whole process (node start-up included), and prints
 * min / median / max wall time and peak memory; then the floor (node start-up; reading the
 * inputs and writing the output; the same plus YAML parsing and serialising) and the scaling
 * on a synthetic pipeline with 10x the steps.
 *
 * A benchmark, not a test: the figures depend on the machine and its load (printed too).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { build } from "esbuild";
import { dump, load } from "js-yaml";
import { buildGenerator } from "./build-generator";
import { copyCase, DEFAULT_CASES_DIR, readCase } from "./conformance";

const ROOT = path.resolve(__dirname, "..");
const CASE = "vllm-pr-lora-change";
const TIME = "/usr/bin/time";

interface Sample {
    ms: number;
    /** User + system CPU time, when /usr/bin/time is there (less sensitive to other load than wall time). */
    cpuMs?: number;
    rssMb?: number;
}

function percentile(values: number[], fraction: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One timed run; peak RSS from /usr/bin/time when present, else from a preloaded reporter. */
function runOnce(args: string[], cwd: string, env: NodeJS.ProcessEnv, reporter: string): Sample {
    const useTime = fs.existsSync(TIME);
    const command = useTime ? TIME : process.execPath;
    const fullArgs = useTime ? ["-f", "RSS_KB=%M CPU=%U+%S", process.execPath, ...args] : ["-r", reporter, ...args];
    const start = process.hrtime.bigint();
    const child = spawnSync(command, fullArgs, { cwd, env, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (child.status !== 0) throw new Error(`${args.join(" ")} failed (${child.status}): ${child.stderr}`);
    const match = /RSS_KB=(\d+)/.exec(child.stderr);
    const cpu = /CPU=([\d.]+)\+([\d.]+)/.exec(child.stderr);
    return { ms, rssMb: match ? Number(match[1]) / 1024 : undefined, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined };
}

interface Series {
    label: string;
    samples: Sample[];
}

/**
 * Run several commands `runs` times, interleaved (A B C A B C ...), so that changes in the
 * machine's load hit every series alike.
 */
function interleaved(runs: number, commands: Array<[string, () => Sample]>): Series[] {
    for (const [, run] of commands) run(); // warm the file system cache
    const results = commands.map(([label]) => ({ label, samples: [] as Sample[] }));
    for (let i = 0; i < runs; i++) commands.forEach(([, run], index) => results[index].samples.push(run()));
    return results;
}

function describeSeries({ label, samples }: Series): string {
    const times = samples.map((sample) => sample.ms);
    const rss = samples.map((sample) => sample.rssMb).filter((value): value is number => value !== undefined);
    const cpu = samples.map((sample) => sample.cpuMs).filter((value): value is number => value !== undefined);
    const peak = (rss.length ? `  peak RSS ${Math.max(...rss).toFixed(0)} MB` : "") + (cpu.length ? `  median CPU ${median(cpu).toFixed(0)} ms` : "");
    return `${label.padEnd(44)} min ${Math.min(...times).toFixed(0).padStart(4)} ms  median ${median(times).toFixed(0).padStart(4)} ms  max ${Math.max(...times)
        .toFixed(0)
        .padStart(4)} ms${peak}`;
}

/** A copy of the case with every job file replicated `factor` times (keys, labels and dependencies renamed). */
function syntheticCase(source: string, factor: number): string {
    const directory = copyCase(source);
    const config = load(fs.readFileSync(path.join(directory, "pipeline_config.yaml"), "utf8")) as { job_dirs: string[] };
    const files = config.job_dirs.flatMap((dir) => {
        const walk = (d: string): string[] =>
            fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(".yaml") ? [path.join(d, e.name)] : []));
        return walk(path.join(directory, dir));
    });
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        for (let copy = 1; copy < factor; copy++) {
            const document = load(text) as { depends_on?: string[]; steps?: Array<Record<string, unknown>> };
            const rename = (key: string) => `${key}-copy${copy}`;
            if (document.depends_on) document.depends_on = document.depends_on.map(rename);
            for (const step of document.steps ?? []) {
                step.label = `${step.label} (copy ${copy})`;
                if (typeof step.key === "string") step.key = rename(step.key);
                if (Array.isArray(step.depends_on)) step.depends_on = step.depends_on.map((dep: string) => rename(dep));
                const amd = (step.mirror as { amd?: { depends_on?: string[] } } | undefined)?.amd;
                if (amd?.depends_on) amd.depends_on = amd.depends_on.map(rename);
            }
            fs.writeFileSync(file.replace(/\.yaml$/, `-copy${copy}.yaml`), dump(document, { noRefs: true }));
        }
    }
    return directory;
}

function countSteps(file: string): number {
    const pipeline = load(fs.readFileSync(file, "utf8")) as { steps: Array<{ steps: unknown[] }> };
    return pipeline.steps.reduce((total, group) => total + group.steps.length, 0);
}

async function main(): Promise<void> {
    const runsArg = process.argv.indexOf("--runs");
    const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 15;
    const caseDir = path.join(DEFAULT_CASES_DIR, CASE);
    if (!fs.existsSync(caseDir)) throw new Error(`${caseDir} not found`);
    const loadAtStart = os.loadavg().map((value) => value.toFixed(2)).join(" ");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-generator-"));
    // Fresh bundles of the working tree (a stale dist/ would measure old code): the generator,
    // and the same without the fast YAML reader (every file read by js-yaml).
    const bundlePath = await buildGenerator(path.join(scratch, "pipeline-generator.js"));
    const jsYamlBundle = await buildGenerator(path.join(scratch, "pipeline-generator-js-yaml.js"), { __GENERATOR_FAST_YAML__: "false" });
    const reporter = path.join(scratch, "report-rss.js");
    fs.writeFileSync(reporter, 'process.on("exit", () => process.stderr.write("RSS_KB=" + Math.round(process.resourceUsage().maxRSS) + "\\n"));\n');
    const floor = path.join(scratch, "bench-floor.js");
    await build({ entryPoints: [path.join(ROOT, "scripts", "bench-floor.ts")], outfile: floor, bundle: true, platform: "node", target: "node20", minify: true, logLevel: "warning" });

    const { env: caseEnv, stubs } = readCase(caseDir);
    const env = { PATH: process.env.PATH, ...caseEnv };
    const work = copyCase(caseDir);
    const synthetic = syntheticCase(caseDir, 10);
    try {
        const config = load(fs.readFileSync(path.join(work, "pipeline_config.yaml"), "utf8")) as { job_dirs: string[] };
        const generatorArgs = (out: string, bundle = bundlePath) => [
            bundle,
            "--pipeline_config_path",
            "pipeline_config.yaml",
            "--output_file_path",
            out,
            "--offline",
            "--changed-files",
            "diff.txt",
            "--pr-labels",
            (stubs.pr_labels ?? []).join(","),
        ];
        // One run first, for the output size and the floor's output.
        runOnce(generatorArgs("out/pipeline.yaml"), work, env, reporter);
        const output = path.join(work, "out", "pipeline.yaml");
        const steps = countSteps(output);
        const outputJson = path.join(scratch, "pipeline.json");
        fs.writeFileSync(outputJson, JSON.stringify(load(fs.readFileSync(output, "utf8"))));
        const inputBytes = ["pipeline_config.yaml", ...config.job_dirs].reduce((total, entry) => {
            const walk = (p: string): number => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).reduce((t, e) => t + walk(path.join(p, e)), 0) : p.endsWith(".yaml") ? fs.statSync(p).size : 0);
            return total + walk(path.join(work, entry));
        }, 0);

        runOnce(generatorArgs("out/pipeline.yaml"), synthetic, env, reporter);
        const syntheticSteps = countSteps(path.join(synthetic, "out", "pipeline.yaml"));
        const [generator, withoutFastYaml, start, io, yaml, tenX] = interleaved(runs, [
            ["generator (bundled CLI, --offline)", () => runOnce(generatorArgs("out/pipeline.yaml"), work, env, reporter)],
            ["generator without the fast YAML reader", () => runOnce(generatorArgs("out/pipeline-js-yaml.yaml", jsYamlBundle), work, env, reporter)],
            ["floor: node start-up (node -e '')", () => runOnce(["-e", ""], work, env, reporter)],
            ["floor: + read inputs, write output bytes", () => runOnce([floor, "io", output, "out/floor.yaml", ...config.job_dirs], work, env, reporter)],
            ["floor: + parse inputs, emit output YAML", () => runOnce([floor, "yaml", outputJson, "out/floor.yaml", ...config.job_dirs], work, env, reporter)],
            [`10x: synthetic (${syntheticSteps} steps)`, () => runOnce(generatorArgs("out/pipeline.yaml"), synthetic, env, reporter)],
        ]);
        const results = [generator, withoutFastYaml, start, io, yaml];
        if (fs.readFileSync(path.join(work, "out", "pipeline-js-yaml.yaml"), "utf8") !== fs.readFileSync(path.join(work, "out", "pipeline.yaml"), "utf8")) {
            throw new Error("the generator writes different pipelines with and without the fast YAML reader");
        }
        const oneX = { ...generator, label: `1x: ${CASE} (${steps} steps)` };

        const loadAverage = os.loadavg().map((value) => value.toFixed(2)).join(" ");
        process.stdout.write(
            `generator benchmark: ${CASE}, ${steps} output steps, ${(inputBytes / 1024).toFixed(0)} KiB of inputs, ` +
                `${(fs.statSync(output).size / 1024).toFixed(0)} KiB of output; ${runs} runs; node ${process.version}, ` +
                `${os.cpus().length} cores, load average (1, 5, 15 min) ${loadAtStart} at the start, ${loadAverage} at the end\n`,
        );
        for (const result of results) process.stdout.write(describeSeries(result) + "\n");
        const generatorMedian = median(results[0].samples.map((s) => s.ms));
        const floorMedian = median(results[4].samples.map((s) => s.ms));
        const withoutMedian = median(withoutFastYaml.samples.map((s) => s.ms));
        process.stdout.write(`fast YAML reader saves ${(withoutMedian - generatorMedian).toFixed(0)} ms of ${withoutMedian.toFixed(0)} ms (median with ${generatorMedian.toFixed(0)} ms, without ${withoutMedian.toFixed(0)} ms)\n`);
        process.stdout.write(`generator median / floor (parse + emit) median: ${(generatorMedian / floorMedian).toFixed(2)}x (+${(generatorMedian - floorMedian).toFixed(0)} ms)\n`);
        process.stdout.write(describeSeries(oneX) + "\n" + describeSeries(tenX) + "\n");
        const ratio = median(tenX.samples.map((s) => s.ms)) / median(oneX.samples.map((s) => s.ms));
        process.stdout.write(`scaling: 10x the steps takes ${ratio.toFixed(2)}x the time (${ratio <= 10 ? "within" : "OVER"} the 10x bound)\n`);
        const p90 = percentile(results[0].samples.map((s) => s.ms), 0.9);
        process.stdout.write(`targets: median < 250 ms: ${generatorMedian < 250 ? "yes" : "no"} (p90 ${p90.toFixed(0)} ms); peak RSS < 150 MB: ${
            Math.max(...results[0].samples.map((s) => s.rssMb ?? 0)) < 150 ? "yes" : "no"
        }\n`);
    } finally {
        for (const directory of [scratch, work, synthetic]) fs.rmSync(directory, { recursive: true, force: true });
    }
}

main().catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
});
