/**
 * LeastPrivilegeServiceAccount: a service account with exactly the access one kind of VM or node
 * needs: a few project roles, read access to named Secret Manager secrets, and one role on the
 * CI registry. Nothing is granted project-wide beyond `projectRoles`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** Roles every VM agent needs to report its logs and metrics. */
export const AGENT_PROJECT_ROLES = ["roles/logging.logWriter", "roles/monitoring.metricWriter"] as const;
/** The role Google recommends for GKE nodes instead of the default compute account. */
export const GKE_NODE_PROJECT_ROLES = ["roles/container.defaultNodeServiceAccount"] as const;
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
export const REGISTRY_ROLES = { read: "roles/artifactregistry.reader", write: "roles/artifactregistry.writer" } as const;

export interface LeastPrivilegeServiceAccountArgs {
    /** Project the account lives in (and gets `projectRoles` in). */
    project: string;
    /** Account id (6 to 30 characters). */
    accountId: string;
    /** What the account is for, shown in the console. */
    description: string;
    /** Roles on the account's project. */
    projectRoles: readonly string[];
    /** Secrets the account may read: secret id → the Secret's `secretId` output (orders creation). */
    readableSecrets: Record<string, pulumi.Input<string>>;
    /** Project holding those secrets. */
    secretsProject: string;
    /** Access to the CI registry. */
    registry?: { project: string; location: string; repository: pulumi.Input<string>; access: keyof typeof REGISTRY_ROLES };
    /** Provider of the account's project (global resources). */
    provider: gcp.Provider;
    /** Provider of the secrets' and registry's project. */
    sharedProvider: gcp.Provider;
}

export class LeastPrivilegeServiceAccount extends pulumi.ComponentResource {
    public readonly email: pulumi.Output<string>;
    public readonly member: pulumi.Output<string>;

    constructor(name: string, args: LeastPrivilegeServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:LeastPrivilegeServiceAccount", name, {}, opts);
        const account = new gcp.serviceaccount.Account(
            name,
            { project: args.project, accountId: args.accountId, displayName: args.accountId, description: args.description },
            { parent: this, provider: args.provider },
        );
        this.email = account.email;
        this.member = pulumi.interpolate`serviceAccount:${account.email}`;

        for (const role of args.projectRoles) {
            new gcp.projects.IAMMember(
                `${name}-${role.replace(/^roles\//, "")}`,
                { project: args.project, role, member: this.member },
                { parent: this, provider: args.provider },
            );
        }
        for (const [secretId, secret] of Object.entries(args.readableSecrets)) {
            new gcp.secretmanager.SecretIamMember(
                `${name}-reads-${secretId}`,
                { project: args.secretsProject, secretId: secret, role: SECRET_ACCESSOR_ROLE, member: this.member },
                { parent: this, provider: args.sharedProvider },
            );
        }
        if (args.registry) {
            new gcp.artifactregistry.RepositoryIamMember(
                `${name}-registry-${args.registry.access}`,
                {
                    project: args.registry.project,
                    location: args.registry.location,
                    repository: args.registry.repository,
                    role: REGISTRY_ROLES[args.registry.access],
                    member: this.member,
                },
                { parent: this, provider: args.sharedProvider },
            );
        }
        this.registerOutputs({ email: this.email });
    }
}
