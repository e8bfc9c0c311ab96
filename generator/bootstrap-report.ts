/**
 * What the PR author sees on the build page. Every fallback that changes what runs (no merge
 * base, so everything runs; labels unreadable; the build cache unavailable) is collected and
 * shown in one warning annotation naming each reason; a failure is an error annotation with the
 * same one-line message as the log. The log (stderr) gets every line as well.
 */
import { firstLine, type AgentRunner } from "./bootstrap-adapters";

/** Annotation contexts, so a retried bootstrap replaces its own annotations instead of stacking them. */
export const ANNOTATION_CONTEXT = { warnings: "bootstrap-warnings", error: "bootstrap-error", docsOnly: "docs-only", mergeUpstream: "merge-upstream" } as const;

export class BootstrapReport {
    readonly warnings: string[] = [];
    constructor(
        private readonly agent: AgentRunner,
        readonly log: (line: string) => void,
    ) {}

    /** A fallback that changes what the build runs or how: logged now, annotated by `flush`. */
    warn(reason: string): void {
        this.warnings.push(reason);
        this.log(`warning: ${reason}`);
    }

    /** One warning annotation listing every fallback (nothing when there was none). */
    async flush(): Promise<void> {
        if (this.warnings.length === 0) return;
        const body = [":warning: **Bootstrap fallbacks** (this build may run more, or differently, than it should):", "", ...this.warnings.map((w) => `- ${w}`)].join("\n");
        await this.annotate("warning", ANNOTATION_CONTEXT.warnings, body);
    }

    /** The error that stops the bootstrap, on the build page. */
    async error(message: string): Promise<void> {
        await this.annotate("error", ANNOTATION_CONTEXT.error, `:rotating_light: **Bootstrap failed**: ${message}`);
    }

    async annotate(style: "info" | "warning" | "error", context: string, body: string): Promise<void> {
        let result;
        try {
            // Annotations say why a build failed, so they go out even when the time budget is spent.
            result = await this.agent(["annotate", "--style", style, "--context", context, body], undefined, { evenAfterBudget: true });
        } catch (error) {
            this.log(`warning: buildkite-agent annotate failed: ${(error as Error).message}`);
            return;
        }
        if (!result.ok) {
            const why = result.missing ? "buildkite-agent is not installed" : firstLine(result.stderr) || `exit ${result.status}`;
            this.log(`warning: buildkite-agent annotate failed: ${why}`);
        }
    }
}
