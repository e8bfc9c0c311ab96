/**
 * Command line: a drop-in replacement for the reference's `main.py` (same arguments, same
 * environment variables), plus offline dry runs and explanations. Exit codes: 0 success,
 * 2 bad input (one `error:` line on stderr, nothing written), 1 internal error.
 */
import { parseArgs } from "util";
import { ENVIRONMENT_VARIABLES } from "./config";
import { GeneratorError } from "./errors";
import { runGenerator } from "./run";

export const HELP = `Usage: pipeline-generator --pipeline_config_path PATH --output_file_path PATH [options]

Generates the Buildkite pipeline of a CI build from the pipeline config, the step definition
files of its job_dirs and the queue catalog, selecting steps from the changed files.

Options:
  --pipeline_config_path PATH  pipeline config (YAML); job_dirs are relative to the working directory
  --output_file_path PATH      where to write the pipeline YAML (written atomically; on a docs-only
                               change a .docs_only marker is written next to it instead)
  --changed-files FILE         changed files, one path per line, instead of asking git
  --offline                    no git, GitHub, docker or registry calls: changed files from
                               --changed-files (default none), labels from --pr-labels, every
                               build-cache lookup answers "absent", no annotation (printed instead)
  --pr-labels A,B              PR labels to use instead of asking the GitHub API
  --explain KEY                print why step KEY runs or is blocked (which changed file matched
                               which dependency, or which rule decided); --output_file_path is
                               then optional
  --strict                     warnings (unknown fields, unknown devices, dangling depends_on)
                               become errors
  --catalog PATH               queue catalog to route with (default: the built-in catalog/queues.yaml)
  --settings PATH              YAML/JSON file overriding the generator settings (registries' hosts,
                               ECR caches, plugin templates, AMD values...; see generator/README.md)
  -h, --help                   show this help

Exit codes: 0 generated (or skipped as docs-only), 2 bad input (nothing written), 1 internal error.

Environment variables:
${ENVIRONMENT_VARIABLES.map(([name, use]) => `  ${name.padEnd(34)} ${use}`).join("\n")}
`;

export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                pipeline_config_path: { type: "string" },
                "pipeline-config-path": { type: "string" },
                output_file_path: { type: "string" },
                "output-file-path": { type: "string" },
                "changed-files": { type: "string" },
                offline: { type: "boolean" },
                "pr-labels": { type: "string" },
                explain: { type: "string" },
                strict: { type: "boolean" },
                catalog: { type: "string" },
                settings: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\nTry --help.\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(HELP);
        return 0;
    }
    const pipelineConfigPath = values.pipeline_config_path ?? values["pipeline-config-path"];
    if (!pipelineConfigPath) {
        process.stderr.write("error: --pipeline_config_path is required\nTry --help.\n");
        return 2;
    }
    const labels = values["pr-labels"];
    try {
        await runGenerator({
            cwd: process.cwd(),
            env,
            pipelineConfigPath,
            outputFilePath: values.output_file_path ?? values["output-file-path"],
            changedFilesPath: values["changed-files"],
            offline: values.offline,
            prLabels: labels === undefined ? undefined : labels.split(",").map((label) => label.trim()).filter(Boolean),
            explain: values.explain,
            strict: values.strict,
            catalog: values.catalog,
            settingsPath: values.settings,
        });
        return 0;
    } catch (error) {
        if (error instanceof GeneratorError) {
            process.stderr.write(`error: ${error.message}\n`);
            return 2;
        }
        process.stderr.write(`internal error: ${(error as Error)?.stack ?? String(error)}\n`);
        return 1;
    }
}
