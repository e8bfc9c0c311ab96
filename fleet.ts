/**
 * The whole program, callable: reads the stack's config, loads the catalog, builds the stack's
 * cloud and wires the agent stack (`k8s/`) onto every cluster that serves queues, whichever cloud
 * created it or none. `index.ts` calls it for `pulumi up`; the offline plan and the tests call it
 * under mocks. Every problem of the input is reported at once, one line each, as a `RunError`
 * (Pulumi prints it without a stack trace).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import * as yaml from "js-yaml";
import { loadCatalog, type Catalog } from "./catalog";
import { problemsOf, ProblemsError } from "./lib/problems";
import { didYouMean } from "./lib/suggest";
import { buildAwsFleet } from "./aws";
import { buildGcpFleet, gkeManagedClusters, planGcpStack, type GcpFleet } from "./gcp";
import { agentTokenSecretOf } from "./gcp/layout";
import { buildGithubFleet, loadRunnerGroups, tokenConfigProblems } from "./github";
import { AgentStackK8s, layoutAgentStacks, readK8sSettings, type AgentStackInstall, type K8sSettings } from "./k8s";

/** The config namespace of this project (`ci:cloud`, ...). */
export const CONFIG_NAMESPACE = "ci";
export const CLOUDS = ["aws", "gcp", "github"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** The config keys `Pulumi.yaml` declares, with their declarations. */
export function declaredConfig(projectFile = path.join(__dirname, "Pulumi.yaml")): Record<string, { type?: string; secret?: boolean; default?: unknown }> {
    const project = yaml.load(fs.readFileSync(projectFile, "utf8")) as { config?: Record<string, object> };
    return (project.config ?? {}) as Record<string, { type?: string; secret?: boolean; default?: unknown }>;
}

/**
 * Stack config keys in our namespace that `Pulumi.yaml` does not declare: almost always a typo,
 * which would otherwise silently fall back to a default.
 */
export function unknownConfigKeys(stackConfig: Record<string, string>, declared: Iterable<string>): string[] {
    const known = new Set(declared);
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.keys(stackConfig)
        .filter((key) => key.startsWith(prefix) && !known.has(key.slice(prefix.length)))
        .sort()
        .map((key) => `${key}${didYouMean(key.slice(prefix.length), known)}`);
}

/** Outputs of a stack. */
export type FleetOutputs = Record<string, pulumi.Input<unknown>>;

/**
 * The agent stacks of the clusters that serve queues: GKE clusters of the stack and external ones.
 * Each controller's token Secret is written from its Buildkite cluster's Secret Manager secret.
 */
function installAgentStacks(catalog: Catalog, installs: readonly AgentStackInstall[], settings: K8sSettings, gcp: GcpFleet): Record<string, pulumi.Output<string>> {
    const jobTokens = { hfToken: pulumi.secret(settings.hfToken), analyticsToken: pulumi.secret(settings.buildkiteAnalyticsToken) };
    const tokens = new Map<string, pulumi.Output<string>>();
    const tokenOf = (buildkiteCluster: string) => {
        let token = tokens.get(buildkiteCluster);
        if (!token) {
            const secret = agentTokenSecretOf(catalog, buildkiteCluster);
            if (!secret) throw new ProblemsError([`${catalog.file}: buildkiteClusters "${buildkiteCluster}": no Secret Manager secret to read the controllers' agent token from`]);
            token = gcp.agentToken(secret.project, secret.secretId);
            tokens.set(buildkiteCluster, token);
        }
        return token;
    };
    const namespaces: Record<string, pulumi.Output<string>> = {};
    for (const install of installs) {
        const provider = install.external
            ? new kubernetes.Provider(`k8s-${install.cluster}`, { kubeconfig: pulumi.secret(install.external.kubeconfig), context: install.external.context })
            : gcp.clusters.find((cluster) => cluster.name === install.cluster)?.provider;
        const agentTokens = Object.fromEntries(install.queues.map((queue) => [queue.agentTokenSecret, tokenOf(queue.buildkiteCluster)]));
        namespaces[install.cluster] = new AgentStackK8s(
            `agent-stack-${install.cluster}`,
            {
                cluster: install.cluster,
                namespace: install.namespace,
                chartVersion: settings.agentStackK8sVersion,
                queues: install.queues,
                placement: install.placement,
                agentTokens,
                keepLegacyRelease: settings.legacyAgentStackReleases.includes(install.cluster),
                ...jobTokens,
            },
            { provider },
        ).namespace;
    }
    return namespaces;
}

function buildFleet(cloud: Cloud, catalog: Catalog, stackFile: string): FleetOutputs {
    if (cloud === "aws") return buildAwsFleet(catalog, stackFile);
    // Every plan is checked before any resource exists, and their problems are reported together.
    const problems: string[] = [];
    const attempt = <T>(step: () => T): T | undefined => {
        try {
            return step();
        } catch (error) {
            const found = problemsOf(error);
            if (!found) throw error;
            problems.push(...found);
            return undefined;
        }
    };
    const k8s = attempt(() => readK8sSettings((key) => pulumi.runtime.getConfig(`${CONFIG_NAMESPACE}:${key}`), stackFile));
    const gcp = attempt(() => planGcpStack(catalog, stackFile));
    const installs = k8s && gcp ? attempt(() => layoutAgentStacks(catalog, k8s, stackFile, gkeManagedClusters(gcp.layout))) : undefined;
    if (!k8s || !gcp || !installs) throw new ProblemsError(problems);
    const built = buildGcpFleet(catalog, gcp.settings, gcp.layout);
    return { ...built.outputs, agentStackNamespaces: installAgentStacks(catalog, installs, k8s, built) };
}

/** The github-prod stack: runner groups, no queue catalog; every token is a secret config value. */
function defineGithubFleet(config: pulumi.Config, stackFile: string): FleetOutputs {
    const groups = loadRunnerGroups(path.resolve(__dirname, config.get("githubRunnerGroupsPath") ?? "github/runner-groups.yaml"));
    const declared = declaredConfig();
    const problems = tokenConfigProblems(groups, (key) => declared[key]?.secret === true, stackFile, (key) => config.get(key) !== undefined);
    if (problems.length > 0) throw new ProblemsError(problems);
    return buildGithubFleet(groups, (key) => config.getSecret(key));
}

export function defineFleet(): FleetOutputs {
    const stackFile = `Pulumi.${pulumi.getStack()}.yaml`;
    const unknown = unknownConfigKeys(pulumi.runtime.allConfig(), Object.keys(declaredConfig()));
    if (unknown.length > 0) throw new pulumi.RunError(unknown.map((key) => `${stackFile}: unknown config key ${key}`).join("\n"));
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const cloud = config.require("cloud");
    if (!(CLOUDS as readonly string[]).includes(cloud)) {
        throw new pulumi.RunError(`${stackFile}: config ci:cloud: must be one of ${CLOUDS.join(", ")}, not "${cloud}"`);
    }
    try {
        if (cloud === "github") return defineGithubFleet(config, stackFile);
        const catalog = loadCatalog(path.resolve(__dirname, config.get("catalogPath") ?? "catalog/queues.yaml"));
        return buildFleet(cloud as Cloud, catalog, stackFile);
    } catch (error) {
        const problems = problemsOf(error);
        if (problems) throw new pulumi.RunError(problems.join("\n"));
        throw error;
    }
}
