/**
 * OTel command tracing (spec §4.11): when it is on, and how a step's commands are wrapped.
 *
 * The lines go into Buildkite `commands`, so every shell `$` is written `$$` (Buildkite would
 * interpolate it at upload) and they hold no `'` (command preparation turns `'` into `"`).
 */
import type { BuildContext, PipelineConfig } from "./config";
import type { GeneratorSettings } from "./settings";

/**
 * Tracing is on only for the configured repository (vLLM), on a branch build
 * (`BUILDKITE_PULL_REQUEST` exactly `false`) of `main`, or of the treatment branch
 * (`CI_INFRA_OTEL_TREATMENT_BRANCH`) when the build was started through the API. Never for AMD
 * GPU jobs (the caller does not ask for them).
 */
export function otelTracingOn(config: PipelineConfig, build: BuildContext, settings: GeneratorSettings): boolean {
    if (config.githubRepoName !== settings.otel.repo || build.pullRequest !== "false") return false;
    if (build.branch === "main") return true;
    return !!build.otelTreatmentBranch && build.branch === build.otelTreatmentBranch && build.buildkiteSource === "api";
}

/** Python (standard library) that extracts the base64 tar.gz given as argv[1] into argv[2]. */
const EXTRACT = "import base64,io,sys,tarfile;tarfile.open(fileobj=io.BytesIO(base64.b64decode(sys.argv[1]))).extractall(sys.argv[2])";

/**
 * The line after the setup lines: extract the helpers into a fresh `mktemp -d` folder and source
 * `ci_otel.sh`. Any failure (no mktemp, no python3, no space) leaves `CI_INFRA_OTEL_READY=0`
 * with one warning line; the commands then run untraced.
 */
export function otelSetupLine(bundle: string): string {
    return (
        `CI_INFRA_OTEL_READY=0; _ci_otel_tmp=$$(mktemp -d 2>/dev/null) && python3 -W ignore -c "${EXTRACT}" ${bundle} "$$_ci_otel_tmp" 2>/dev/null ` +
        `&& CI_OTEL_HELPERS_DIR="$$_ci_otel_tmp/otel_helpers" && . "$$CI_OTEL_HELPERS_DIR/ci_otel.sh" ` +
        `|| { CI_INFRA_OTEL_READY=0; echo "ci_otel: helpers not available, commands run untraced" >&2; }`
    );
}

const GUARD = `if [ "$\${CI_INFRA_OTEL_READY:-0}" = 1 ]; then`;

/**
 * A command as five lines (one `commands` entry): start a span named after the command's
 * preview (base64), run the command, keep its status, finish the span, and end with that status.
 */
export function otelWrapCommand(index: number, preview: string, command: string): string {
    const name = Buffer.from(preview, "utf8").toString("base64");
    return [
        `${GUARD} ci_otel_start ${index} ${name} || :; fi`,
        command,
        "_CI_INFRA_OTEL_COMMAND_STATUS=$$?",
        `${GUARD} ci_otel_finish "$$_CI_INFRA_OTEL_COMMAND_STATUS" || :; fi`,
        '(exit "$$_CI_INFRA_OTEL_COMMAND_STATUS")',
    ].join("\n");
}
