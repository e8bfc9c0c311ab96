/**
 * Bad input through the bundled CLI, as the bootstrap runs it: each case gives one `error:` line
 * naming the file (and the step and field where there is one), exit code 2, no stack trace,
 * nothing written, within a time bound (a child process, so that a hang is caught and killed).
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildGenerator } from "../../scripts/build-generator";

/** Generous for a shared 2-core machine: a correct run takes well under a second. */
const TIME_BOUND_MS = 15_000;

const CONFIG = `name: ci-test
job_dirs: [jobs]
run_all_patterns: []
run_all_exclude_patterns: []
registries: public.ecr.aws/q9t5s3a7
repositories: {main: main-repo, premerge: test-repo}
`;

interface BadInput {
    name: string;
    /** Job files (name → text or bytes). */
    jobs?: Record<string, string | Buffer>;
    /** Prepares the workspace (files in the way, links...). */
    prepare?: (cwd: string) => void;
    output?: string;
    message: RegExp;
}

function nested(levels: number): string {
    let text = "steps:\n- label: deep\n  env:\n";
    for (let i = 0; i < levels; i++) text += " ".repeat(4 + 2 * i) + `k${i}:\n`;
    return text;
}

const CASES: BadInput[] = [
    {
        name: "output path whose parent is a file",
        prepare: (cwd) => fs.writeFileSync(path.join(cwd, "out"), "a file"),
        message: /^error: field --output_file_path: cannot write out\/pipeline\.yaml: .*\/out is a file, not a directory$/,
    },
    {
        name: "output path whose parent is a dangling symlink",
        prepare: (cwd) => fs.symlinkSync(path.join(cwd, "nowhere"), path.join(cwd, "out")),
        message: /^error: field --output_file_path: cannot write out\/pipeline\.yaml: .*\/out is a symbolic link to nothing$/,
    },
    {
        name: "output path that is an existing directory",
        prepare: (cwd) => fs.mkdirSync(path.join(cwd, "out", "pipeline.yaml"), { recursive: true }),
        message: /^error: field --output_file_path: cannot write out\/pipeline\.yaml: .*\/out\/pipeline\.yaml is a directory$/,
    },
    {
        name: "output directory under /proc",
        output: "/proc/ci-generator-test/out/pipeline.yaml",
        message: /^error: field --output_file_path: cannot write \/proc\/ci-generator-test\/out\/pipeline\.yaml: cannot create the directory \/proc\/ci-generator-test \(ENOENT\)$/,
    },
    {
        name: "YAML nested 5,000 levels deep (block)",
        jobs: { "a.yaml": nested(5000) },
        message: /^error: jobs\/a\.yaml: YAML error: nesting exceeded maxDepth \(100\) \(line \d+, column \d+\)$/,
    },
    {
        name: "YAML nested 5,000 levels deep (flow)",
        jobs: { "a.yaml": `steps:\n- label: deep\n  retry: ${"[".repeat(5000)}${"]".repeat(5000)}\n` },
        message: /^error: jobs\/a\.yaml: YAML error: nesting exceeded maxDepth \(100\) \(line 3, column \d+\)$/,
    },
    {
        name: "job file that is not valid UTF-8",
        jobs: { "a.yaml": Buffer.concat([Buffer.from("steps:\n- label: caf"), Buffer.from([0xe9]), Buffer.from("\n  commands: [x]\n")]) },
        message: /^error: jobs\/a\.yaml: the job file is not valid UTF-8 \(first bad byte at line 2, column 13\)$/,
    },
    {
        name: "pipeline config that is not valid UTF-8",
        prepare: (cwd) => fs.writeFileSync(path.join(cwd, "pipeline_config.yaml"), Buffer.concat([Buffer.from(CONFIG), Buffer.from([0xff, 0x0a])])),
        message: /^error: pipeline_config\.yaml: the pipeline config is not valid UTF-8 \(first bad byte at line 7, column 1\)$/,
    },
    {
        name: "duplicate step keys",
        jobs: { "a.yaml": "steps:\n- {label: one, key: same, commands: [x]}\n- {label: two, key: same, commands: [x]}\n" },
        message: /^error: jobs\/a\.yaml: step "two" \(key same\): field key: key "same" is also the key of step "one" \(jobs\/a\.yaml\): Buildkite rejects a pipeline with duplicate keys; give the steps distinct keys$/,
    },
    {
        name: "key with characters Buildkite refuses",
        jobs: { "a.yaml": "steps:\n- {label: \"tests [fast] & more\", commands: [x]}\n" },
        message: /^error: jobs\/a\.yaml: step "tests \[fast\] & more" \(key tests-\[fast\]-&-more\): field key: key "tests-\[fast\]-&-more" has the character "\[", which Buildkite does not allow in keys/,
    },
    {
        name: "value Buildkite refuses (negative timeout)",
        jobs: { "a.yaml": "steps:\n- {label: slow, key: slow, timeout_in_minutes: -1, commands: [x]}\n" },
        message: /^error: jobs\/a\.yaml: step "slow" \(key slow\): field timeout_in_minutes: the generated pipeline does not match the Buildkite pipeline schema: must be >= 0, not -1$/,
    },
];

function listing(directory: string): string[] {
    const found: string[] = [];
    const walk = (relative: string) => {
        for (const entry of fs.readdirSync(path.join(directory, relative), { withFileTypes: true })) {
            const child = path.join(relative, entry.name);
            found.push(child);
            if (entry.isDirectory()) walk(child);
        }
    };
    walk("");
    return found.sort();
}

function runCli(bundle: string, cwd: string, output: string): Promise<{ code: number | null; stderr: string; ms: number }> {
    return new Promise((resolve, reject) => {
        const start = Date.now();
        const child = spawn(process.execPath, [bundle, "--pipeline_config_path", "pipeline_config.yaml", "--output_file_path", output, "--offline", "--changed-files", "diff.txt"], {
            cwd,
            env: { PATH: process.env.PATH, BUILDKITE_BRANCH: "feature/x", BUILDKITE_COMMIT: "abc", BUILDKITE_PULL_REQUEST: "false" },
            stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (chunk) => (stderr += chunk));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`no answer within ${TIME_BOUND_MS} ms (killed)`));
        }, TIME_BOUND_MS);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stderr, ms: Date.now() - start });
        });
    });
}

describe("bad input through the bundled CLI: one line, exit 2, nothing written, in bounded time", function () {
    this.timeout(120_000);
    let scratch: string;
    let bundle: string;
    const table: string[] = [];

    before(async function () {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bad-input-"));
        bundle = await buildGenerator(path.join(scratch, "pipeline-generator.js"));
    });
    after(function () {
        if (process.env.GENERATOR_BAD_INPUT_TABLE) fs.writeFileSync(process.env.GENERATOR_BAD_INPUT_TABLE, table.join("\n") + "\n");
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    for (const badInput of CASES) {
        it(badInput.name, async function () {
            const cwd = fs.mkdtempSync(path.join(scratch, "case-"));
            fs.writeFileSync(path.join(cwd, "pipeline_config.yaml"), CONFIG);
            fs.mkdirSync(path.join(cwd, "jobs"));
            for (const [name, text] of Object.entries(badInput.jobs ?? { "a.yaml": "steps:\n- {label: fine, key: fine, commands: [x]}\n" })) {
                fs.writeFileSync(path.join(cwd, "jobs", name), text);
            }
            fs.writeFileSync(path.join(cwd, "diff.txt"), "vllm/a.py\n");
            badInput.prepare?.(cwd);
            const before = listing(cwd);
            const result = await runCli(bundle, cwd, badInput.output ?? "out/pipeline.yaml");
            table.push(`| ${badInput.name} | \`${result.stderr.trim().replace(/\|/g, "\\|")}\` | ${result.code} | ${result.ms} ms |`);
            assert.equal(result.code, 2, result.stderr);
            const lines = result.stderr.trim().split("\n");
            assert.equal(lines.length, 1, result.stderr);
            assert.match(lines[0], badInput.message);
            assert.ok(!result.stderr.includes("    at "), "no stack trace");
            assert.deepEqual(listing(cwd), before, "nothing written");
            assert.ok(result.ms < TIME_BOUND_MS);
        });
    }
});
