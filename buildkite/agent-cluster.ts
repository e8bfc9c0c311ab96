/**
 * AgentCluster: one Buildkite cluster of the catalog with its queues and its agent token. The
 * token leaves the component only as a Pulumi secret (`token`), for the stores agents read it from
 * (`AgentTokenCopy`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";

export interface AgentClusterArgs {
    /** The cluster's name in Buildkite (the catalog's key in `buildkiteClusters`). */
    readonly clusterName: string;
    /** What the cluster is for, as Buildkite shows it. */
    readonly description: string;
    /** Its cluster queues: the catalog queues of the cluster, by key (the tag agents listen on). */
    readonly queues: readonly { readonly key: string; readonly description: string }[];
    /**
     * The token's rotation number (`ci:buildkiteTokenRotation`): it is part of the token's
     * description, and a new description replaces the token (the old one stays valid until revoked by hand).
     */
    readonly tokenRotation: number;
}

/** One Buildkite cluster, its queues and one agent token. Pass the organization's provider in `opts.provider`. */
export class AgentCluster extends pulumi.ComponentResource {
    /** The cluster. */
    public readonly cluster: buildkite.cluster.Cluster;
    /** Its queues, by key. */
    public readonly queues: Record<string, buildkite.cluster.ClusterQueue> = {};
    /** The agent token resource. */
    public readonly agentToken: buildkite.cluster.ClusterAgentToken;
    /** The agent token's value, a Pulumi secret. */
    public readonly token: pulumi.Output<string>;

    constructor(name: string, args: AgentClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:buildkite:AgentCluster", name, {}, opts);
        // Deleting a cluster disconnects every agent of its queues: only on purpose.
        this.cluster = new buildkite.cluster.Cluster(name, { name: args.clusterName, description: args.description }, { parent: this, protect: true });
        for (const queue of args.queues) {
            this.queues[queue.key] = new buildkite.cluster.ClusterQueue(`${name}-${queue.key}`, { clusterId: this.cluster.id, key: queue.key, description: queue.description }, { parent: this });
        }
        this.agentToken = new buildkite.cluster.ClusterAgentToken(
            `${name}-agent-token`,
            { clusterId: this.cluster.id, description: agentTokenDescription(args.clusterName, args.tokenRotation) },
            // Buildkite cannot change a token's value: a new rotation number is a new token. The old one is
            // kept (not revoked) when replaced: the controllers' Kubernetes Secrets get the new token only
            // at gcp-prod's next up, and every agent-stack-k8s job pod registers with its Secret's token;
            // an operator revokes the old token once every agent runs on the new one (README, Rotation).
            { parent: this, replaceOnChanges: ["description"], additionalSecretOutputs: ["token"], retainOnDelete: true },
        );
        this.token = pulumi.secret(this.agentToken.token);
        this.registerOutputs({ clusterId: this.cluster.id, queues: Object.keys(this.queues) });
    }
}

/** The description of a cluster's agent token, which carries its rotation number. */
export function agentTokenDescription(clusterName: string, rotation: number): string {
    return `Agents of cluster ${clusterName}, written by buildkite-prod into the secret stores (rotation ${rotation})`;
}
