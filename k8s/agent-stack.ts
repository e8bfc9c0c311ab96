/**
 * AgentStackK8s: the Buildkite agent-stack-k8s controllers for one or more catalog queues on one
 * Kubernetes cluster, in their namespace, with the priority classes and the secrets the
 * controllers and their job pods use.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import { ProblemsError } from "../lib/problems";
import { AGENT_STACK_K8S_CHART, AGENT_TOKEN_KEY, JOB_SECRETS, LEGACY_RELEASE } from "./chart";
import { PRIORITY_CLASSES, PRIORITY_PREEMPTION_POLICY, priorityClassDescription, type PriorityClassName } from "./priority-classes";
import { agentStackValues, queueSetProblem, releaseName, type AgentStackQueue, type ControllerPlacement } from "./values";

export interface AgentStackK8sArgs {
    /** Name of the cluster: it makes the controllers' ids unique across clusters. */
    readonly cluster: string;
    /** Namespace of the controllers and their job pods. */
    readonly namespace: string;
    /** agent-stack-k8s chart version, for example `0.47.0`. */
    readonly chartVersion: pulumi.Input<string>;
    /** The queues served on this cluster: one controller (Helm release) each. */
    readonly queues: readonly AgentStackQueue[];
    /** Where the controllers run (node selector and tolerations). */
    readonly placement: ControllerPlacement;
    /**
     * The agent token of each Buildkite cluster the queues use, by the Kubernetes Secret it goes
     * into (`AgentStackQueue.agentTokenSecret`). Made a Pulumi secret here.
     */
    readonly agentTokens: Readonly<Record<string, pulumi.Input<string>>>;
    /** Hugging Face token job pods read from `hf-token-secret` (made a Pulumi secret here). */
    readonly hfToken: pulumi.Input<string>;
    /** Test analytics token job pods read from `buildkite-analytics-token-secret` (made secret here). */
    readonly analyticsToken: pulumi.Input<string>;
    /**
     * Keep the cluster's old single release (`agent-stack-k8s`, installed by hand) declared, and
     * untouched, during the cut-over: once removed from the program, `pulumi up` uninstalls it
     * after the new controllers are up.
     */
    readonly keepLegacyRelease?: boolean;
}

/**
 * The agent stack on one cluster. Pass the cluster's Kubernetes provider in `opts.provider`: no
 * default provider is ever used, so a missing one is an error rather than the current kubeconfig.
 */
export class AgentStackK8s extends pulumi.ComponentResource {
    /** The namespace's name. */
    public readonly namespace: pulumi.Output<string>;
    /** The namespace. */
    public readonly namespaceResource: kubernetes.core.v1.Namespace;
    /** Helm release name (= controller id) per queue. */
    public readonly releases: Record<string, pulumi.Output<string>>;
    /** The Helm releases, by queue. */
    public readonly helmReleases: Record<string, kubernetes.helm.v3.Release> = {};
    /** The priority classes, by name. */
    public readonly priorityClasses: Record<string, kubernetes.scheduling.v1.PriorityClass> = {};
    /** The Secrets job pods read, by name. */
    public readonly jobSecrets: Record<string, kubernetes.core.v1.Secret> = {};
    /** The controllers' agent token Secrets, by name. */
    public readonly agentTokenSecrets: Record<string, kubernetes.core.v1.Secret> = {};
    /** The old single release, while it is kept for the cut-over. */
    public readonly legacyRelease?: kubernetes.helm.v3.Release;

    constructor(name: string, args: AgentStackK8sArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:k8s:AgentStackK8s", name, {}, opts);
        if (!opts?.provider) throw new ProblemsError([`agent stack ${name}: no Kubernetes provider in opts.provider`]);
        const problem = queueSetProblem(args.queues, args.cluster);
        if (problem) throw new ProblemsError([`agent stack ${name}: ${problem}`]);
        const missing = [...new Set(args.queues.map((q) => q.agentTokenSecret))].filter((secret) => args.agentTokens[secret] === undefined);
        if (missing.length > 0) throw new ProblemsError(missing.map((secret) => `agent stack ${name}: no agent token for the Secret ${secret}`));
        const childOpts = { parent: this };

        const namespace = new kubernetes.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "buildkite-ci" } } },
            // The namespace holds the tokens and every job: never deleted with the program.
            { ...childOpts, retainOnDelete: true },
        );
        this.namespace = namespace.metadata.name;
        this.namespaceResource = namespace;

        const priorityClasses = (Object.keys(PRIORITY_CLASSES) as PriorityClassName[]).map(
            (className) =>
                (this.priorityClasses[className] = new kubernetes.scheduling.v1.PriorityClass(
                    `${name}-${className}`,
                    {
                        metadata: { name: className },
                        value: PRIORITY_CLASSES[className],
                        preemptionPolicy: PRIORITY_PREEMPTION_POLICY,
                        globalDefault: false,
                        description: priorityClassDescription(className),
                    },
                    // Running pods name them: never deleted with the program.
                    { ...childOpts, retainOnDelete: true },
                )),
        );

        const secretOpts = { ...childOpts, additionalSecretOutputs: ["data", "stringData"] };
        const jobSecrets = [
            { ...JOB_SECRETS.hfToken, value: args.hfToken },
            { ...JOB_SECRETS.analyticsToken, value: args.analyticsToken },
        ].map(
            (secret) =>
                (this.jobSecrets[secret.name] = new kubernetes.core.v1.Secret(
                    `${name}-${secret.name}`,
                    { metadata: { name: secret.name, namespace: this.namespace }, type: "Opaque", stringData: { [secret.key]: pulumi.secret(secret.value) } },
                    secretOpts,
                )),
        );

        for (const secretName of [...new Set(args.queues.map((q) => q.agentTokenSecret))].sort()) {
            this.agentTokenSecrets[secretName] = new kubernetes.core.v1.Secret(
                `${name}-${secretName}`,
                {
                    metadata: { name: secretName, namespace: this.namespace, labels: { "app.kubernetes.io/part-of": "buildkite-ci" } },
                    type: "Opaque",
                    stringData: { [AGENT_TOKEN_KEY]: pulumi.secret(args.agentTokens[secretName]) },
                },
                secretOpts,
            );
        }

        this.releases = {};
        for (const queue of args.queues) {
            const release = releaseName(queue.name, args.cluster);
            const helmRelease = new kubernetes.helm.v3.Release(
                `${name}-${release}`,
                {
                    name: release,
                    chart: AGENT_STACK_K8S_CHART,
                    version: args.chartVersion,
                    namespace: this.namespace,
                    createNamespace: false,
                    values: agentStackValues(queue, args.cluster, args.placement),
                    // Roll back a failed upgrade rather than leave a queue without its controller.
                    atomic: true,
                    cleanupOnFail: true,
                },
                // The controller needs its token Secret, and its jobs name the classes and secrets.
                { ...childOpts, dependsOn: [...priorityClasses, ...jobSecrets, this.agentTokenSecrets[queue.agentTokenSecret]] },
            );
            this.helmReleases[queue.name] = helmRelease;
            this.releases[queue.name] = helmRelease.name;
        }

        if (args.keepLegacyRelease) {
            // Declared only so that it can be imported and then retired by the program; its chart
            // version and values stay whatever was installed by hand.
            this.legacyRelease = new kubernetes.helm.v3.Release(
                `${name}-${LEGACY_RELEASE.name}`,
                { name: LEGACY_RELEASE.name, chart: AGENT_STACK_K8S_CHART, namespace: this.namespace, skipAwait: true },
                { ...childOpts, ignoreChanges: ["chart", "version", "values", "valueYamlFiles", "atomic", "cleanupOnFail", "skipAwait", "timeout", "repositoryOpts", "description"] },
            );
        }
        this.registerOutputs({ namespace: this.namespace, releases: this.releases });
    }
}
