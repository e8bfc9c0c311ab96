/**
 * AgentStackK8s: the Buildkite agent-stack-k8s controller for one or more catalog queues on one
 * Kubernetes cluster, in its own namespace, with the priority classes and the secrets its job pods
 * use.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import { ProblemsError } from "../lib/problems";
import { AGENT_STACK_K8S_CHART, JOB_SECRETS } from "./chart";
import { PRIORITY_CLASSES, priorityClassDescription, type PriorityClassName } from "./priority-classes";
import { agentStackValues, queueSetProblem, releaseName, type AgentStackQueue } from "./values";

export interface AgentStackK8sArgs {
    /** Namespace created for the controllers and their job pods. */
    readonly namespace: string;
    /** agent-stack-k8s chart version, for example `0.47.0`. */
    readonly chartVersion: pulumi.Input<string>;
    /** The queues served on this cluster: one controller (Helm release) each. */
    readonly queues: readonly AgentStackQueue[];
    /** Hugging Face token job pods read from `hf-token-secret` (made a Pulumi secret here). */
    readonly hfToken: pulumi.Input<string>;
    /** Test analytics token job pods read from `buildkite-analytics-token-secret` (made secret here). */
    readonly analyticsToken: pulumi.Input<string>;
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
    /** Helm release name per queue. */
    public readonly releases: Record<string, pulumi.Output<string>>;
    /** The Helm releases, by queue. */
    public readonly helmReleases: Record<string, kubernetes.helm.v3.Release> = {};
    /** The priority classes, by name. */
    public readonly priorityClasses: Record<string, kubernetes.scheduling.v1.PriorityClass> = {};
    /** The Secrets job pods read, by name. */
    public readonly jobSecrets: Record<string, kubernetes.core.v1.Secret> = {};

    constructor(name: string, args: AgentStackK8sArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:k8s:AgentStackK8s", name, {}, opts);
        if (!opts?.provider) throw new ProblemsError([`agent stack ${name}: no Kubernetes provider in opts.provider`]);
        const problem = queueSetProblem(args.queues);
        if (problem) throw new ProblemsError([`agent stack ${name}: ${problem}`]);
        const childOpts = { parent: this };

        const namespace = new kubernetes.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "buildkite-ci" } } },
            childOpts,
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
                        globalDefault: false,
                        description: priorityClassDescription(className),
                    },
                    childOpts,
                )),
        );

        const jobSecrets = [
            { ...JOB_SECRETS.hfToken, value: args.hfToken },
            { ...JOB_SECRETS.analyticsToken, value: args.analyticsToken },
        ].map(
            (secret) =>
                (this.jobSecrets[secret.name] = new kubernetes.core.v1.Secret(
                    `${name}-${secret.name}`,
                    {
                        metadata: { name: secret.name, namespace: this.namespace },
                        type: "Opaque",
                        stringData: { [secret.key]: pulumi.secret(secret.value) },
                    },
                    { ...childOpts, additionalSecretOutputs: ["data", "stringData"] },
                )),
        );

        this.releases = {};
        for (const queue of args.queues) {
            const release = new kubernetes.helm.v3.Release(
                `${name}-${releaseName(queue.name)}`,
                {
                    name: releaseName(queue.name),
                    chart: AGENT_STACK_K8S_CHART,
                    version: args.chartVersion,
                    namespace: this.namespace,
                    createNamespace: false,
                    values: agentStackValues(queue),
                    // Roll back a failed upgrade rather than leave a queue without its controller.
                    atomic: true,
                    cleanupOnFail: true,
                },
                { ...childOpts, dependsOn: [...priorityClasses, ...jobSecrets] },
            );
            this.helmReleases[queue.name] = release;
            this.releases[queue.name] = release.name;
        }
        this.registerOutputs({ namespace: this.namespace, releases: this.releases });
    }
}
