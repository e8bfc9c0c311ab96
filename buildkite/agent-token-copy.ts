/**
 * AgentTokenCopy: a cluster's agent token written into one secret store its agents read: an SSM
 * SecureString parameter (Elastic CI Stack queues) or a new version of a Secret Manager secret
 * (TPU and GCE VMs, the metrics exporter, and the agent-stack-k8s controllers, whose Kubernetes
 * Secret gcp-prod writes from that version). The Secret Manager secret itself belongs to gcp-prod:
 * only the version is declared here.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";

/** Where the token goes. */
export type AgentTokenStore = { readonly kind: "ssm"; readonly name: string } | { readonly kind: "secret-manager"; readonly project: string; readonly secretId: string };

export interface AgentTokenCopyArgs {
    /** The agent token (a Pulumi secret; made one here again). */
    readonly token: pulumi.Input<string>;
    /** The store, by the name its agents read. */
    readonly store: AgentTokenStore;
}

/**
 * One copy of an agent token. Pass the store's provider in `opts.provider`: the AWS provider of
 * the parameter's region, or the GCP provider of the secret's project.
 */
export class AgentTokenCopy extends pulumi.ComponentResource {
    /** The SSM parameter or the secret version. */
    public readonly resource: aws.ssm.Parameter | gcp.secretmanager.SecretVersion;

    constructor(name: string, args: AgentTokenCopyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:buildkite:AgentTokenCopy", name, {}, opts);
        const value = pulumi.secret(args.token);
        if (args.store.kind === "ssm") {
            // The parameter exists live (made by hand): adopted, then overwritten with the managed token.
            // Kept if the stack is ever destroyed: the queues would lose their token.
            this.resource = new aws.ssm.Parameter(name, { name: args.store.name, type: "SecureString", value }, { parent: this, retainOnDelete: true });
        } else {
            // A new token is a new version; the old version is disabled, not destroyed, so it can be inspected.
            this.resource = new gcp.secretmanager.SecretVersion(
                name,
                { secret: `projects/${args.store.project}/secrets/${args.store.secretId}`, secretData: value, deletionPolicy: "DISABLE" },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
