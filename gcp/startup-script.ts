/**
 * Startup scripts of the GCP agents, rendered from one template per kind (`gcp/startup/*.sh.tmpl`)
 * plus the functions they share (`gcp/startup/common.sh`). Values are substituted as single-quoted
 * shell words, so no value can inject code. Only names of secrets go in: the script reads the
 * values at boot from Secret Manager.
 */
import * as fs from "fs";
import * as path from "path";

/** Agent kinds with a startup template. */
export const STARTUP_KINDS = { tpu: "tpu-agent", builder: "builder-agent", exporter: "metrics-exporter" } as const;
export type StartupKind = keyof typeof STARTUP_KINDS;

const TEMPLATE_DIR = path.join(__dirname, "startup");
const PLACEHOLDER = /\{\{([A-Z_]+)\}\}/g;
const COMMON = "COMMON";

/** Variables shared by every kind. */
export interface AgentScriptVariables {
    QUEUE: string;
    /** Buildkite agent name; `%hostname` lets the agent use the VM's host name. */
    AGENT_NAME: string;
    /** Agent tags, comma separated, `queue=<queue>` first. */
    AGENT_TAGS: string;
    /** Project holding the secrets. */
    SECRETS_PROJECT: string;
    AGENT_TOKEN_SECRET: string;
    HF_TOKEN_SECRET: string;
    /** Empty when the organization has no analytics token. */
    ANALYTICS_TOKEN_SECRET: string;
    /** Artifact Registry hosts docker logs in to, space separated. */
    REGISTRY_HOSTS: string;
    /** One extra `NAME=value` every job gets (empty: none). */
    AGENT_ENVIRONMENT: string;
    /** GitHub App the agents clone with (all three empty: none). */
    GITHUB_APP_ID: string;
    GITHUB_APP_INSTALLATION_ID: string;
    GITHUB_APP_PEM_SECRET: string;
}

export interface TpuScriptVariables extends AgentScriptVariables {
    /** Name of the data disk Docker moves onto (found as /dev/disk/by-id/google-<name>); empty when there is none. */
    DATA_DISK_NAME: string;
    /** Secret holding a multi-host slice's private SSH key; empty on single-host slices. */
    SSH_KEY_SECRET: string;
    /** Its public key (not secret); empty on single-host slices. */
    SSH_PUBLIC_KEY: string;
}

export type BuilderScriptVariables = AgentScriptVariables;

export interface ExporterScriptVariables {
    METRICS_VERSION: string;
    /** Project the metrics are published to. */
    METRICS_PROJECT: string;
    SECRETS_PROJECT: string;
    AGENT_TOKEN_SECRET: string;
}

/** A value as one single-quoted shell word. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Substitutes `{{NAME}}` placeholders; every placeholder must have a value and every value a use. */
export function renderTemplate(template: string, variables: Record<string, string>, common = ""): string {
    const used = new Set<string>();
    const missing = new Set<string>();
    const rendered = template.replace(PLACEHOLDER, (_, name: string) => {
        if (name === COMMON) return common.trimEnd();
        used.add(name);
        if (!(name in variables)) {
            missing.add(name);
            return "";
        }
        return shellQuote(variables[name]);
    });
    if (missing.size > 0) throw new Error(`startup template: no value for ${[...missing].join(", ")}`);
    const unused = Object.keys(variables).filter((name) => !used.has(name));
    if (unused.length > 0) throw new Error(`startup template: ${unused.join(", ")} not used by the template`);
    return rendered;
}

function readTemplate(file: string): string {
    return fs.readFileSync(path.join(TEMPLATE_DIR, file), "utf8");
}

/** The startup script of an agent of `kind`. */
export function renderStartupScript(kind: "tpu", variables: TpuScriptVariables): string;
export function renderStartupScript(kind: "builder", variables: BuilderScriptVariables): string;
export function renderStartupScript(kind: "exporter", variables: ExporterScriptVariables): string;
export function renderStartupScript(kind: StartupKind, variables: TpuScriptVariables | BuilderScriptVariables | ExporterScriptVariables): string {
    return renderTemplate(readTemplate(`${STARTUP_KINDS[kind]}.sh.tmpl`), { ...variables }, readTemplate("common.sh"));
}

/** Agent tags: the queue tag first, then the extra ones. */
export function agentTags(queue: string, extra: Record<string, string> = {}): string {
    return [`queue=${queue}`, ...Object.entries(extra).map(([key, value]) => `${key}=${value}`)].join(",");
}
