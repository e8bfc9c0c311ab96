/**
 * The GCP stack's settings, read from config namespace `ci` by a pure function so that every rule
 * (and every error message) is unit-tested without Pulumi.
 *
 * Secret settings (the external clusters' kubeconfigs, the tokens job pods read) are returned as
 * plain strings: the caller wraps each one in `pulumi.secret()` before it goes anywhere. Error
 * messages never quote a secret value.
 */
import { didYouMean } from "../lib/suggest";

/** The agent-stack-k8s chart version used when the stack does not pin one. */
export const DEFAULT_AGENT_STACK_K8S_VERSION = "0.47.0";
/** Namespace the agent stack is installed into unless a cluster says otherwise. */
export const DEFAULT_AGENT_STACK_NAMESPACE = "buildkite";

/** Config keys of the GCP stack (without the `ci:` namespace). */
export const GCP_CONFIG_KEYS = {
    gcpProject: "gcpProject",
    tpuProject: "tpuProject",
    gcpRegions: "gcpRegions",
    gkeNetwork: "gkeNetwork",
    buildkiteOrg: "buildkiteOrg",
    agentStackK8sVersion: "agentStackK8sVersion",
    agentStackNamespace: "agentStackNamespace",
    externalClusters: "externalClusters",
    externalKubeconfigs: "externalKubeconfigs",
    hfTokenSecretId: "hfTokenSecretId",
    analyticsTokenSecretId: "analyticsTokenSecretId",
    hfToken: "hfToken",
    buildkiteAnalyticsToken: "buildkiteAnalyticsToken",
} as const;

/**
 * A Kubernetes cluster this program does not create, served by agent-stack-k8s. Which queues it
 * serves is the catalog's to say (`k8s.cluster` of provider-k8s queues), not the stack's.
 */
export interface ExternalCluster {
    /** The name catalog queues use in `k8s.cluster`. */
    name: string;
    /** Namespace of the agent stack on this cluster (`ci:agentStackNamespace`). */
    namespace: string;
    /**
     * The cluster's kubeconfig (secret, in the clear here). When `context` is set, this is a
     * kubeconfig shared by every external cluster and `context` picks this one's.
     */
    kubeconfig: string;
    /** Context to use within a shared kubeconfig. */
    context?: string;
}

/** Everything the GCP stack reads from its config. */
export interface GcpSettings {
    /** Project of the GKE clusters, CPU builders, registry and secrets. */
    project: string;
    /** Project of the TPU VMs (defaults to `project`). */
    tpuProject: string;
    /** Regions the stack may create resources in; each gets its own provider per project. */
    regions: string[];
    /** VPC network the clusters, builders and TPU VMs join. */
    network: string;
    /** Buildkite organization slug (metric names of the builders' autoscaler). */
    buildkiteOrg: string;
    /** agent-stack-k8s chart version. */
    agentStackK8sVersion: string;
    /** Namespace of the agent stack on every cluster, GKE and external. */
    agentStackNamespace: string;
    /** Secret Manager secret id of the Hugging Face token. */
    hfTokenSecretId: string;
    /** Secret Manager secret id of the Buildkite test analytics token. */
    analyticsTokenSecretId: string;
    /** External Kubernetes clusters, with their kubeconfigs (secret). */
    externalClusters: ExternalCluster[];
    /** Hugging Face token for the job pods' `hf-token-secret` (secret). */
    hfToken: string;
    /** Analytics token for the job pods' `buildkite-analytics-token-secret` (secret). */
    buildkiteAnalyticsToken: string;
}

/** A setting that cannot be used: one line naming the stack file and the key. */
export class SettingsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SettingsError";
    }
}

/** Reads one raw config value (`ci:<key>`), as the engine passes it (structured values as JSON). */
export type ConfigReader = (key: string) => string | undefined;

const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const GCP_REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

function parseJson(where: string, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        throw new SettingsError(`${where}: not valid JSON`);
    }
}

/** The settings of the GCP stack; throws SettingsError naming `stackFile` and the key. */
export function readGcpSettings(get: ConfigReader, stackFile: string): GcpSettings {
    const where = (key: string) => `${stackFile}: config ci:${key}`;
    const text = (key: string, fallback?: string): string => {
        const value = get(key) ?? fallback;
        if (value === undefined || value === "") throw new SettingsError(`${where(key)}: missing (set it in ${stackFile})`);
        return value;
    };
    const matching = (key: string, pattern: RegExp, what: string, fallback?: string): string => {
        const value = text(key, fallback);
        if (!pattern.test(value)) throw new SettingsError(`${where(key)}: "${value}" is not ${what}`);
        return value;
    };

    const project = matching(GCP_CONFIG_KEYS.gcpProject, GCP_PROJECT_ID, "a GCP project id");
    const tpuProject = matching(GCP_CONFIG_KEYS.tpuProject, GCP_PROJECT_ID, "a GCP project id", project);

    const regionsRaw = parseJson(where(GCP_CONFIG_KEYS.gcpRegions), text(GCP_CONFIG_KEYS.gcpRegions));
    if (!Array.isArray(regionsRaw) || regionsRaw.length === 0 || !regionsRaw.every((r) => typeof r === "string")) {
        throw new SettingsError(`${where(GCP_CONFIG_KEYS.gcpRegions)}: must be a non-empty list of region names`);
    }
    const regions = regionsRaw as string[];
    for (const region of regions) {
        if (!GCP_REGION.test(region)) throw new SettingsError(`${where(GCP_CONFIG_KEYS.gcpRegions)}: "${region}" is not a GCP region (like us-central1)`);
    }
    const duplicateRegion = regions.find((region, index) => regions.indexOf(region) !== index);
    if (duplicateRegion) throw new SettingsError(`${where(GCP_CONFIG_KEYS.gcpRegions)}: "${duplicateRegion}" is listed twice`);

    const agentStackNamespace = matching(GCP_CONFIG_KEYS.agentStackNamespace, DNS_LABEL, "a Kubernetes namespace name", DEFAULT_AGENT_STACK_NAMESPACE);
    const externalClusters = readExternalClusters(get, stackFile, agentStackNamespace);
    return {
        project,
        tpuProject,
        regions,
        network: matching(GCP_CONFIG_KEYS.gkeNetwork, DNS_LABEL, "a VPC network name", "default"),
        buildkiteOrg: matching(GCP_CONFIG_KEYS.buildkiteOrg, DNS_LABEL, "a Buildkite organization slug", "vllm"),
        agentStackK8sVersion: matching(GCP_CONFIG_KEYS.agentStackK8sVersion, SEMVER, "a chart version (like 0.47.0)", DEFAULT_AGENT_STACK_K8S_VERSION),
        agentStackNamespace,
        hfTokenSecretId: matching(GCP_CONFIG_KEYS.hfTokenSecretId, SECRET_ID, "a Secret Manager secret id", "hf-token"),
        analyticsTokenSecretId: matching(GCP_CONFIG_KEYS.analyticsTokenSecretId, SECRET_ID, "a Secret Manager secret id", "buildkite-analytics-token"),
        externalClusters,
        hfToken: text(GCP_CONFIG_KEYS.hfToken),
        buildkiteAnalyticsToken: text(GCP_CONFIG_KEYS.buildkiteAnalyticsToken),
    };
}

/**
 * `ci:externalClusters` (non-secret: the cluster names) joined with `ci:externalKubeconfigs`
 * (secret). The kubeconfigs are either a JSON object `{cluster name: kubeconfig}` naming exactly the
 * listed clusters, or one kubeconfig holding a context per cluster, named after the cluster.
 */
function readExternalClusters(get: ConfigReader, stackFile: string, namespace: string): ExternalCluster[] {
    const listKey = `${stackFile}: config ci:${GCP_CONFIG_KEYS.externalClusters}`;
    const listText = get(GCP_CONFIG_KEYS.externalClusters);
    if (listText === undefined || listText === "") return [];
    const list = parseJson(listKey, listText);
    if (!Array.isArray(list)) throw new SettingsError(`${listKey}: must be a list of cluster names`);
    const seen = new Set<string>();
    const declared = list.map((name, index) => {
        const at = `${listKey}[${index}]`;
        if (typeof name !== "string" || !DNS_LABEL.test(name)) throw new SettingsError(`${at}: must be a cluster name (lowercase letters, digits, -)`);
        if (seen.has(name)) throw new SettingsError(`${at}: cluster "${name}" is listed twice`);
        seen.add(name);
        return { name, namespace };
    });
    if (declared.length === 0) return [];

    const secretKey = `${stackFile}: config ci:${GCP_CONFIG_KEYS.externalKubeconfigs}`;
    const secret = get(GCP_CONFIG_KEYS.externalKubeconfigs);
    if (secret === undefined || secret.trim() === "") {
        throw new SettingsError(`${secretKey}: missing; set it with \`pulumi config set --secret ${GCP_CONFIG_KEYS.externalKubeconfigs} ...\``);
    }
    if (!secret.trim().startsWith("{")) {
        // One kubeconfig with a context per cluster (`kubectl config view --flatten`).
        return declared.map((cluster) => ({ ...cluster, kubeconfig: secret, context: cluster.name }));
    }
    let map: unknown;
    try {
        map = JSON.parse(secret);
    } catch {
        // Never echo the parser's message: it quotes the secret.
        throw new SettingsError(`${secretKey}: starts with "{" but is not valid JSON (expected {"cluster name": "kubeconfig", ...})`);
    }
    if (map === null || typeof map !== "object" || Array.isArray(map)) throw new SettingsError(`${secretKey}: must be a JSON object {"cluster name": "kubeconfig"}`);
    const kubeconfigs = map as Record<string, unknown>;
    for (const name of Object.keys(kubeconfigs)) {
        if (!seen.has(name)) throw new SettingsError(`${secretKey}: cluster "${name}" is not in ci:${GCP_CONFIG_KEYS.externalClusters}${didYouMean(name, seen)}`);
    }
    return declared.map((cluster) => {
        const kubeconfig = kubeconfigs[cluster.name];
        if (typeof kubeconfig !== "string" || kubeconfig.trim() === "") throw new SettingsError(`${secretKey}: no kubeconfig for cluster "${cluster.name}"`);
        return { ...cluster, kubeconfig };
    });
}

/** The region of a zone (`us-east5-b` → `us-east5`). */
export function regionOfZone(zone: string): string {
    return zone.replace(/-[a-z]$/, "");
}
