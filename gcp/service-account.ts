/**
 * LeastPrivilegeServiceAccount: a service account with exactly the access one kind of VM or node
 * needs: a few project roles, read access to named Secret Manager secrets, and one role on the
 * CI registry. Nothing is granted project-wide beyond `projectRoles`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/**
 * Roles every VM agent of ours needs: its logs. Not `monitoring.metricWriter`: the builders'
 * autoscaling metric must come from the exporter alone, never from pull-request code.
 */
export const AGENT_PROJECT_ROLES = ["roles/logging.logWriter"] as const;
/** The exporter publishes the queues' metrics. */
export const EXPORTER_PROJECT_ROLES = ["roles/logging.logWriter", "roles/monitoring.metricWriter"] as const;
/** The role Google recommends for GKE nodes instead of the default compute account. */
export const GKE_NODE_PROJECT_ROLES = ["roles/container.defaultNodeServiceAccount"] as const;
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
export const REGISTRY_ROLES = { read: "roles/artifactregistry.reader", write: "roles/artifactregistry.writer" } as const;

/** A role on the CI registry. */
export interface RegistryAccess {
    /** Project of the registry. */
    readonly project: string;
    /** Region of the registry. */
    readonly location: string;
    /** Repository id (an output, so the binding waits for the repository). */
    readonly repository: pulumi.Input<string>;
    /** Pull only, or push too. */
    readonly access: keyof typeof REGISTRY_ROLES;
}

export interface LeastPrivilegeServiceAccountArgs {
    /** Project the account lives in (and gets `projectRoles` in). */
    readonly project: string;
    /** Account id (6 to 30 characters). */
    readonly accountId: string;
    /** What the account is for, shown in the console. */
    readonly description: string;
    /** Roles on the account's project. */
    readonly projectRoles: readonly string[];
    /** Secrets the account may read: secret id → the Secret's `secretId` output (orders creation). */
    readonly readableSecrets: Readonly<Record<string, pulumi.Input<string>>>;
    /** Project holding those secrets (bindings name it, so one provider serves both projects). */
    readonly secretsProject: string;
    /** Access to the CI registry. */
    readonly registry?: RegistryAccess;
}

/**
 * A service account with exactly the access one kind of VM or node needs. Pass the provider of
 * the account's project in `opts.provider`; bindings in other projects name their project.
 */
export class LeastPrivilegeServiceAccount extends pulumi.ComponentResource {
    /** The service account. */
    public readonly account: gcp.serviceaccount.Account;
    /** Its email. */
    public readonly email: pulumi.Output<string>;
    /** `serviceAccount:<email>`, as IAM bindings name it. */
    public readonly member: pulumi.Output<string>;

    constructor(name: string, args: LeastPrivilegeServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:LeastPrivilegeServiceAccount", name, {}, opts);
        const account = new gcp.serviceaccount.Account(
            name,
            { project: args.project, accountId: args.accountId, displayName: args.accountId, description: args.description },
            { parent: this },
        );
        this.account = account;
        this.email = account.email;
        this.member = pulumi.interpolate`serviceAccount:${account.email}`;

        for (const role of args.projectRoles) {
            new gcp.projects.IAMMember(
                `${name}-${role.replace(/^roles\//, "")}`,
                { project: args.project, role, member: this.member },
                { parent: this },
            );
        }
        for (const [secretId, secret] of Object.entries(args.readableSecrets)) {
            new gcp.secretmanager.SecretIamMember(
                `${name}-reads-${secretId}`,
                { project: args.secretsProject, secretId: secret, role: SECRET_ACCESSOR_ROLE, member: this.member },
                { parent: this },
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
                { parent: this },
            );
        }
        this.registerOutputs({ email: this.email });
    }
}

export interface DefaultAccountSecretAccessArgs {
    /** Project whose default compute account the VMs run as. */
    readonly project: string;
    /** The account's email (`gcp.compute.getDefaultServiceAccount`). */
    readonly email: pulumi.Input<string>;
    /** `project/secretId` → the Secret's `secretId` output: the secrets it may read. */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * Read access to named secrets for a project's default compute account, which the adopted VMs
 * run as (their account cannot change in place). Granted once per project and secret.
 */
export class DefaultAccountSecretAccess extends pulumi.ComponentResource {
    public readonly members: Record<string, gcp.secretmanager.SecretIamMember> = {};

    constructor(name: string, args: DefaultAccountSecretAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:DefaultAccountSecretAccess", name, {}, opts);
        for (const [ref, secretId] of Object.entries(args.secrets).sort(([a], [b]) => (a < b ? -1 : 1))) {
            const [secretsProject, id] = ref.split("/");
            this.members[ref] = new gcp.secretmanager.SecretIamMember(
                `${name}-reads-${secretsProject}-${id}`,
                { project: secretsProject, secretId, role: SECRET_ACCESSOR_ROLE, member: pulumi.interpolate`serviceAccount:${args.email}` },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
