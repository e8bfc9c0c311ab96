/**
 * FleetSecrets: the Secret Manager secrets agents read at boot, declared without values. Their
 * values are added out of band (`gcloud secrets versions add`), so no token ever passes through
 * Pulumi or its state.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { ProblemsError } from "../lib/problems";

export interface FleetSecretsArgs {
    /** Project holding the secrets. */
    readonly project: string;
    /** Secret ids: the agent tokens of Buildkite clusters, the HF and analytics tokens of organizations. */
    readonly secretIds: readonly string[];
}

/** The secrets of one project agents read at boot, without values. Pass the project's provider in `opts.provider`. */
export class FleetSecrets extends pulumi.ComponentResource {
    /** The secrets, by `project/secretId`. */
    public readonly secrets: Record<string, gcp.secretmanager.Secret> = {};
    /** `project/secretId` → the secret's `secretId` output, which orders IAM after creation. */
    public readonly secretIds: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: FleetSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:FleetSecrets", name, {}, opts);
        for (const secretId of [...new Set(args.secretIds)].sort()) {
            const secret = new gcp.secretmanager.Secret(
                `${args.project}-${secretId}`,
                { project: args.project, secretId, replication: { auto: {} } },
                // Deleting a secret loses the token set out of band: keep it unless removed on purpose.
                { parent: this, protect: true },
            );
            this.secrets[`${args.project}/${secretId}`] = secret;
            this.secretIds[`${args.project}/${secretId}`] = secret.secretId;
        }
        this.registerOutputs({ secretIds: this.secretIds });
    }
}

/**
 * The secrets a VM agent reads at boot (its Buildkite cluster's token, the HF and analytics
 * tokens), by id, picked from the fleet's declared secrets. `who` names the agent for the error.
 */
export function agentReadableSecrets(
    who: string,
    ids: readonly string[],
    declared: Readonly<Record<string, pulumi.Input<string>>>,
): Record<string, pulumi.Input<string>> {
    const readable: Record<string, pulumi.Input<string>> = {};
    const missing = ids.filter((id) => declared[id] === undefined);
    if (missing.length > 0) throw new ProblemsError(missing.map((id) => `${who}: secret ${id} is not declared by the fleet`));
    for (const id of ids) readable[id] = declared[id];
    return readable;
}
