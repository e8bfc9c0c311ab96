/**
 * A Secrets Manager secret CI jobs read (the HF token, the Buildkite analytics token). The program
 * creates it empty and never sees its value: an operator sets it out of band
 * (`aws secretsmanager put-secret-value`, see the README, AWS stack). Agents of every region read it
 * in the home region, as they do today.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface CiSecretArgs {
    /** Secret name, for example `ci/hf-token`. */
    readonly secretName: pulumi.Input<string>;
    /** What the secret holds and who reads it; none on the secrets that exist (a description would be a change). */
    readonly description?: pulumi.Input<string>;
}

/** A secret without a value. Pass the home region's provider in `opts.provider`. */
export class CiSecret extends pulumi.ComponentResource {
    /** The secret (kept when the resource is deleted). */
    public readonly secret: aws.secretsmanager.Secret;
    /** Its ARN (with Secrets Manager's random suffix). */
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: CiSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:aws:CiSecret", name, {}, opts);
        const secret = new aws.secretsmanager.Secret(
            name,
            { name: args.secretName, description: args.description },
            // No SecretVersion: the value is not the program's business.
            { parent: this, retainOnDelete: true },
        );
        this.secret = secret;
        this.arn = secret.arn;
        this.registerOutputs({ arn: this.arn });
    }
}
