/**
 * The boot script of each queue's instances (the Elastic CI Stack's `BootstrapScriptUrl`),
 * rendered by a pure function from the catalog and the settings: the project's own script
 * (`boot/agent-boot.sh`) with a header of the queue's settings. It
 * - keeps job containers off the instance metadata service (every queue it runs on);
 * - installs the job guard (`boot/job-guard.sh`) as the agent's first environment hook on
 *   postmerge, release and AMI-build queues: pull-request jobs are refused before checkout;
 * - installs Node.js on queues with `aws.nodejs` (the bootstrap queue);
 * - runs the GPU queues' own boot script, pinned by sha256, when `ci:awsGpuBootstrapScriptSha256`
 *   is set. Without it the GPU stacks keep that script as their BootstrapScriptUrl, as today.
 *
 * Scripts live in the bundle bucket under `agent-boot/<sha256>.sh` (public read, immutable): a
 * changed script is a new URL, which the stack rolls out like any launch-template change.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { AwsQueue } from "../catalog";
import { AGENT_BOOT_PREFIX, BUNDLE_BUCKET_URL } from "../lib/bundle-delivery";
import type { AwsSettings } from "./settings";

/** Where the script bodies live. */
export const BOOT_DIR = path.join(__dirname, "boot");
const JOB_GUARD_MARKER = "__JOB_GUARD_HOOK__";

/** The stages whose agents refuse pull-request jobs. */
export const GUARDED_STAGES = ["postmerge", "release"] as const;

/** What a queue's instances run at boot. */
export interface AgentBoot {
    /** The URL the stack's `BootstrapScriptUrl` gets. */
    readonly url: string;
    /** The rendered script and its key in the bundle bucket; absent when the URL is not ours (GPU queues, unpinned). */
    readonly script?: { readonly key: string; readonly content: string };
    /** What the script does, for the plan and the README. */
    readonly features: readonly ("container-metadata-blocked" | "job-guard" | "nodejs" | "chained-gpu-script")[];
}

/** A shell word: the value in single quotes. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function assignments(values: Record<string, string>): string {
    return Object.entries(values)
        .map(([name, value]) => `${name}=${shellQuote(value)}`)
        .join("\n");
}

function body(file: string): string {
    return fs.readFileSync(path.join(BOOT_DIR, file), "utf8");
}

/** The job guard hook of a queue: its settings, then `boot/job-guard.sh`. */
export function renderJobGuard(queue: AwsQueue, settings: AwsSettings): string {
    const stage = queue.stage as (typeof GUARDED_STAGES)[number];
    return [
        "#!/usr/bin/env bash",
        `# Rendered by aws/agent-boot.ts for queue ${queue.name}; installed by the agent boot script.`,
        assignments({
            VLLM_CI_QUEUE: queue.name,
            VLLM_CI_STAGE: stage,
            VLLM_CI_TRUSTED_BRANCHES: settings.trustedBranches[stage].join("\n"),
            VLLM_CI_TRUSTED_REPOSITORIES: settings.trustedRepositories.join("\n"),
            VLLM_CI_TRUSTED_PIPELINES: (settings.trustedPipelines[stage] ?? []).join("\n"),
        }),
        body("job-guard.sh"),
    ].join("\n");
}

/** Whether a queue's agents refuse pull-request jobs. */
export function isGuarded(queue: AwsQueue): boolean {
    return (GUARDED_STAGES as readonly string[]).includes(queue.stage);
}

/** A queue's boot: the program's script (rendered), or the GPU queues' own URL when it is not pinned. */
export function agentBootOf(queue: AwsQueue, settings: AwsSettings): AgentBoot {
    const gpuScript = queue.aws?.bootstrapScript === true;
    if (gpuScript && settings.gpuBootstrapScriptSha256 === undefined) return { url: settings.gpuBootstrapScriptUrl, features: [] };
    const guard = isGuarded(queue);
    const features: AgentBoot["features"][number][] = ["container-metadata-blocked"];
    if (guard) features.push("job-guard");
    if (queue.aws?.nodejs) features.push("nodejs");
    if (gpuScript) features.push("chained-gpu-script");
    const header = assignments({
        VLLM_CI_QUEUE: queue.name,
        VLLM_CI_STAGE: queue.stage,
        VLLM_CI_JOB_GUARD: guard ? "1" : "0",
        VLLM_CI_NODE_PACKAGE: queue.aws?.nodejs ? settings.bootstrapNodePackage : "",
        VLLM_CI_CHAINED_SCRIPT_URL: gpuScript ? settings.gpuBootstrapScriptUrl : "",
        VLLM_CI_CHAINED_SCRIPT_SHA256: gpuScript ? (settings.gpuBootstrapScriptSha256 ?? "") : "",
    });
    const script = body("agent-boot.sh").replace(JOB_GUARD_MARKER, () => (guard ? renderJobGuard(queue, settings).trimEnd() : "# (no job guard on this queue)"));
    const content = [
        "#!/usr/bin/env bash",
        `# vLLM CI agent boot script of queue ${queue.name}, rendered by aws/agent-boot.ts (do not edit the copy in S3).`,
        "set -euo pipefail",
        header,
        script,
    ].join("\n");
    const key = `${AGENT_BOOT_PREFIX}/${crypto.createHash("sha256").update(content).digest("hex")}.sh`;
    return { url: `${BUNDLE_BUCKET_URL}/${key}`, script: { key, content }, features };
}
