/**
 * Names of GCP resources derived from catalog names. They are deterministic functions of the
 * queue (and VM index), so renaming one queue never renames, and so never replaces, another.
 */
import { createHash } from "crypto";
import { dnsLabel } from "../lib/names";


function shortHash(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, 6);
}

/** Fits `name` in `max` characters, keeping it unique by a hash of the whole name when cut. */
export function fitName(name: string, max: number): string {
    if (name.length <= max) return name;
    return `${name.slice(0, max - 7).replace(/-$/, "")}-${shortHash(name)}`;
}

/**
 * Service account id (6 to 30 characters, `[a-z][a-z0-9-]*[a-z0-9]`) of the agents of a queue.
 * The prefix keeps ids of agents apart from the project's other accounts.
 */
export function agentServiceAccountId(queue: string): string {
    return fitName(`bk-${dnsLabel(queue)}`, 30);
}

/** A name from a catalog pattern: `{index}` becomes the VM's number (`vllm-tpu-v6-ci-{index}`, 3 → `vllm-tpu-v6-ci-3`). */
export function indexedName(pattern: string, index: number): string {
    return pattern.replace(/\{index\}/g, String(index));
}

/** A GCP label value (lowercase letters, digits, `_` and `-`, at most 63 characters). */
export function labelValue(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63);
}
