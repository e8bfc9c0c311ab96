/**
 * TpuAgentPool: the TPU VMs (`gcp.tpu.V2Vm`) serving one TPU queue, each with its own data disk,
 * running the Buildkite agent. VM and disk names are stable per index, so one broken VM can be
 * replaced (`pulumi up --replace`) without touching the others. Multi-host slices get an SSH key
 * pair whose private half lives only in Secret Manager.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as tls from "@pulumi/tls";
import { agentReadableSecrets } from "./fleet-secrets";
import type { AgentRegistry } from "./builder-group";
import type { TpuPoolLayout } from "./layout";
import { dnsLabel } from "../lib/names";
import { labelValue } from "./names";
import { AGENT_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { agentTags, renderStartupScript } from "./startup-script";

/** Where a TPU VM sees its first attached data disk. */
export const TPU_DATA_DISK_DEVICE = "/dev/disk/by-id/google-persistent-disk-1";

export interface TpuAgentPoolArgs {
    /** The queue's VMs, from the catalog (`layoutGcpFleet`). */
    readonly layout: TpuPoolLayout;
    /** VPC network the VMs join. */
    readonly network: string;
    /** Project holding the secrets (and the registry). */
    readonly sharedProject: string;
    /** Secret id → `secretId` output of the fleet's secrets. */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
    /** Secret Manager id of the Hugging Face token. */
    readonly hfTokenSecretId: string;
    /** Secret Manager id of the test analytics token. */
    readonly analyticsTokenSecretId: string;
    /** The registry the agents pull test images from. */
    readonly registry: Pick<AgentRegistry, "location" | "repository">;
}

/**
 * The TPU VMs of one TPU queue. Pass the TPU project's provider and the TLS provider in
 * `opts.providers` (`{ gcp, tls }`); every resource names its project and zone.
 */
export class TpuAgentPool extends pulumi.ComponentResource {
    /** Names of the VMs, by index. */
    public readonly vmNames: readonly string[];
    /** The VMs, by name. */
    public readonly vms: Record<string, gcp.tpu.V2Vm> = {};
    /** Their data disks, by VM name (none when the queue has no data disk). */
    public readonly dataDisks: Record<string, gcp.compute.Disk> = {};
    /** The agents' service account. */
    public readonly serviceAccount: LeastPrivilegeServiceAccount;
    public readonly serviceAccountEmail: pulumi.Output<string>;

    constructor(name: string, args: TpuAgentPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:TpuAgentPool", name, {}, opts);
        const { layout } = args;
        const queue = layout.queue.name;
        const readable = agentReadableSecrets(
            `TPU queue ${queue}`,
            [layout.agentTokenSecretId, args.hfTokenSecretId, args.analyticsTokenSecretId],
            args.secrets,
        );

        let sshKey: { secretId: string; publicKey: pulumi.Output<string> } | undefined;
        if (layout.hosts > 1) {
            const key = new tls.PrivateKey(`${name}-worker-ssh-key`, { algorithm: "ED25519" }, { parent: this });
            const secretId = `${dnsLabel(queue)}-worker-ssh-key`;
            const secret = new gcp.secretmanager.Secret(
                secretId,
                { project: args.sharedProject, secretId, replication: { auto: {} }, labels: { purpose: "tpu-worker-ssh", "ci-queue": labelValue(queue) } },
                { parent: this },
            );
            new gcp.secretmanager.SecretVersion(
                `${secretId}-version`,
                { secret: secret.id, secretData: pulumi.secret(key.privateKeyOpenssh) },
                { parent: this },
            );
            readable[secretId] = secret.secretId;
            sshKey = { secretId, publicKey: key.publicKeyOpenssh.apply((k) => k.trim()) };
        }

        const account = new LeastPrivilegeServiceAccount(
            `${name}-agent`,
            {
                project: layout.project,
                accountId: layout.serviceAccountId,
                description: `Buildkite agents of TPU queue ${queue}`,
                projectRoles: AGENT_PROJECT_ROLES,
                readableSecrets: readable,
                secretsProject: args.sharedProject,
                registry: { project: args.sharedProject, location: args.registry.location, repository: args.registry.repository, access: "read" },
            },
            { parent: this },
        );
        this.serviceAccount = account;
        this.serviceAccountEmail = account.email;

        this.vmNames = layout.vmNames;
        for (const vmName of layout.vmNames) {
            const disk = layout.dataDisk
                ? new gcp.compute.Disk(
                      `${vmName}-data`,
                      { name: `${vmName}-data`, project: layout.project, zone: layout.zone, type: layout.dataDisk.type, size: layout.dataDisk.sizeGb },
                      // Fixed names: the old disk must go before its replacement is created.
                      { parent: this, deleteBeforeReplace: true },
                  )
                : undefined;
            if (disk) this.dataDisks[vmName] = disk;
            const startupScript = (sshPublicKey: string) =>
                renderStartupScript("tpu", {
                    QUEUE: queue,
                    AGENT_NAME: vmName,
                    AGENT_TAGS: agentTags(queue, { "tpu-type": layout.acceleratorType }),
                    SECRETS_PROJECT: args.sharedProject,
                    AGENT_TOKEN_SECRET: layout.agentTokenSecretId,
                    HF_TOKEN_SECRET: args.hfTokenSecretId,
                    ANALYTICS_TOKEN_SECRET: args.analyticsTokenSecretId,
                    DATA_DISK_DEVICE: disk ? TPU_DATA_DISK_DEVICE : "",
                    SSH_KEY_SECRET: sshKey?.secretId ?? "",
                    SSH_PUBLIC_KEY: sshPublicKey,
                });
            this.vms[vmName] = new gcp.tpu.V2Vm(
                vmName,
                {
                    name: vmName,
                    project: layout.project,
                    zone: layout.zone,
                    acceleratorType: layout.acceleratorType,
                    runtimeVersion: layout.runtimeVersion,
                    description: `Buildkite agent of queue ${queue}`,
                    networkConfig: { network: args.network, enableExternalIps: true },
                    serviceAccount: { email: account.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
                    schedulingConfig: { reserved: layout.reserved, spot: layout.spot },
                    dataDisks: disk ? [{ sourceDisk: disk.id, mode: "READ_WRITE" }] : undefined,
                    metadata: { "startup-script": sshKey ? sshKey.publicKey.apply(startupScript) : startupScript("") },
                    labels: { "ci-queue": labelValue(queue) },
                },
                { parent: this, dependsOn: [account], deleteBeforeReplace: true },
            );
        }
        this.registerOutputs({ vmNames: this.vmNames, serviceAccountEmail: this.serviceAccountEmail });
    }
}
