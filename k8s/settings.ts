/**
 * The agent stack's settings (config namespace `ci`), read by a pure function so that every rule
 * and message is unit-tested without Pulumi. They hold for every cluster the stack is installed
 * on: the GKE clusters of gcp-prod, external clusters, a future EKS.
 *
 * Secret settings (the external clusters' kubeconfigs, the tokens job pods read) are returned as
 * plain strings: the caller wraps each one in `pulumi.secret()` before it goes anywhere. Messages
 * never quote a secret value. Every problem is collected; `K8sSettingsError` lists them all.
 */
import { didYouMean } from "../lib/suggest";
import { collectingReader, type ConfigReader } from "../lib/config-reader";
import { ProblemsError } from "../lib/problems";

/** The agent-stack-k8s chart version used when the stack does not pin one. */
export const DEFAULT_AGENT_STACK_K8S_VERSION = "0.47.0";
/** Namespace the agent stack is installed into unless the stack says otherwise. */
export const DEFAULT_AGENT_STACK_NAMESPACE = "buildkite";

/** Config keys of the agent stack (without the `ci:` namespace). */
export const K8S_CONFIG_KEYS = {
    agentStackK8sVersion: "agentStackK8sVersion",
    agentStackNamespace: "agentStackNamespace",
    externalClusters: "externalClusters",
    externalKubeconfigs: "externalKubeconfigs",
    hfToken: "hfToken",
    buildkiteAnalyticsToken: "buildkiteAnalyticsToken",
    legacyAgentStackReleases: "legacyAgentStackReleases",
} as const;

/**
 * A Kubernetes cluster this program does not create, served by agent-stack-k8s. Which queues it
 * serves is the catalog's to say (`k8s.cluster` of provider-k8s queues), not the stack's.
 */
export interface ExternalCluster {
    /** The name catalog queues use in `k8s.cluster`. */
    readonly name: string;
    /** Namespace of the agent stack on this cluster (`ci:agentStackNamespace`). */
    readonly namespace: string;
    /**
     * The cluster's kubeconfig (secret, in the clear here). When `context` is set, this is a
     * kubeconfig shared by every external cluster and `context` picks this one's.
     */
    readonly kubeconfig: string;
    /** Context to use within a shared kubeconfig. */
    readonly context?: string;
}

/** Everything the agent stack reads from the stack config. */
export interface K8sSettings {
    /** agent-stack-k8s chart version. */
    readonly agentStackK8sVersion: string;
    /** Namespace of the agent stack on every cluster, GKE and external. */
    readonly agentStackNamespace: string;
    /** External Kubernetes clusters, with their kubeconfigs (secret). */
    readonly externalClusters: readonly ExternalCluster[];
    /** Hugging Face token for the job pods' `hf-token-secret` (secret). */
    readonly hfToken: string;
    /** Analytics token for the job pods' `buildkite-analytics-token-secret` (secret). */
    readonly buildkiteAnalyticsToken: string;
    /**
     * Clusters whose old single release (`agent-stack-k8s`) still runs: the program declares it,
     * untouched, so it can be imported; removing a cluster from the list retires it.
     */
    readonly legacyAgentStackReleases: readonly string[];
}

/** Settings that cannot be used: one line per problem, naming the stack file and the key. */
export class K8sSettingsError extends ProblemsError {
    constructor(problems: readonly string[]) {
        super(problems, "K8sSettingsError");
    }
}

export type { ConfigReader };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The agent stack's settings; throws K8sSettingsError listing every problem. */
export function readK8sSettings(get: ConfigReader, stackFile: string): K8sSettings {
    const problems: string[] = [];
    const { text, matching } = collectingReader(get, stackFile, problems);
    const K = K8S_CONFIG_KEYS;
    const agentStackNamespace = matching(K.agentStackNamespace, DNS_LABEL, "a Kubernetes namespace name", DEFAULT_AGENT_STACK_NAMESPACE);
    const settings: K8sSettings = {
        agentStackK8sVersion: matching(K.agentStackK8sVersion, SEMVER, "a chart version (like 0.47.0)", DEFAULT_AGENT_STACK_K8S_VERSION),
        agentStackNamespace,
        externalClusters: readExternalClusters(get, stackFile, agentStackNamespace, problems),
        hfToken: text(K.hfToken),
        buildkiteAnalyticsToken: text(K.buildkiteAnalyticsToken),
        legacyAgentStackReleases: readNameList(get(K.legacyAgentStackReleases), `${stackFile}: config ci:${K.legacyAgentStackReleases}`, problems),
    };
    if (problems.length > 0) throw new K8sSettingsError(problems);
    return settings;
}

/** A JSON list of cluster names (absent: empty). */
function readNameList(raw: string | undefined, where: string, problems: string[]): string[] {
    if (raw === undefined || raw === "") return [];
    let list: unknown;
    try {
        list = JSON.parse(raw);
    } catch {
        problems.push(`${where}: not valid JSON`);
        return [];
    }
    if (!Array.isArray(list) || !list.every((name) => typeof name === "string" && DNS_LABEL.test(name))) {
        problems.push(`${where}: must be a list of cluster names (lowercase letters, digits, -)`);
        return [];
    }
    return list as string[];
}

/**
 * `ci:externalClusters` (non-secret: the cluster names) joined with `ci:externalKubeconfigs`
 * (secret). The kubeconfigs are either a JSON object `{cluster name: kubeconfig}` naming exactly the
 * listed clusters, or one kubeconfig holding a context per cluster, named after the cluster.
 */
function readExternalClusters(get: ConfigReader, stackFile: string, namespace: string, problems: string[]): ExternalCluster[] {
    const listKey = `${stackFile}: config ci:${K8S_CONFIG_KEYS.externalClusters}`;
    const listText = get(K8S_CONFIG_KEYS.externalClusters);
    if (listText === undefined || listText === "") return [];
    let list: unknown;
    try {
        list = JSON.parse(listText);
    } catch {
        problems.push(`${listKey}: not valid JSON`);
        return [];
    }
    if (!Array.isArray(list)) {
        problems.push(`${listKey}: must be a list of cluster names`);
        return [];
    }
    const seen = new Set<string>();
    const declared: { name: string; namespace: string }[] = [];
    list.forEach((name, index) => {
        const at = `${listKey}[${index}]`;
        if (typeof name !== "string" || !DNS_LABEL.test(name)) problems.push(`${at}: must be a cluster name (lowercase letters, digits, -)`);
        else if (seen.has(name)) problems.push(`${at}: cluster "${name}" is listed twice`);
        else {
            seen.add(name);
            declared.push({ name, namespace });
        }
    });
    if (declared.length === 0) return [];

    const secretKey = `${stackFile}: config ci:${K8S_CONFIG_KEYS.externalKubeconfigs}`;
    const secret = get(K8S_CONFIG_KEYS.externalKubeconfigs);
    if (secret === undefined || secret.trim() === "") {
        problems.push(`${secretKey}: missing; set it with \`pulumi config set --secret ${K8S_CONFIG_KEYS.externalKubeconfigs} ...\``);
        return [];
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
        problems.push(`${secretKey}: starts with "{" but is not valid JSON (expected {"cluster name": "kubeconfig", ...})`);
        return [];
    }
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
        problems.push(`${secretKey}: must be a JSON object {"cluster name": "kubeconfig"}`);
        return [];
    }
    const kubeconfigs = map as Record<string, unknown>;
    for (const name of Object.keys(kubeconfigs)) {
        if (!seen.has(name)) problems.push(`${secretKey}: cluster "${name}" is not in ci:${K8S_CONFIG_KEYS.externalClusters}${didYouMean(name, seen)}`);
    }
    return declared.flatMap((cluster) => {
        const kubeconfig = kubeconfigs[cluster.name];
        if (typeof kubeconfig !== "string" || kubeconfig.trim() === "") {
            problems.push(`${secretKey}: no kubeconfig for cluster "${cluster.name}"`);
            return [];
        }
        return [{ ...cluster, kubeconfig }];
    });
}
