/**
 * TpuAgentPool: the TPU VMs (`gcp.tpu.V2Vm`) of one TPU queue in one project and zone, each with
 * its own data disk, running the Buildkite agent. Names are the catalog's (the live ones), stable
 * per index, so one broken VM can be replaced (`pulumi up --replace`) without touching the others.
 * Multi-host slices get an SSH key pair per VM whose private half lives only in Secret Manager.
 *
 * A TPU VM's account, network, scheduling and shape cannot change in place: adopted groups keep
 * theirs (the project's default compute account, reservations as live); the startup script,
 * labels and data disks are updated in place.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as tls from "@pulumi/tls";
import type { TpuGroupLayout } from "./layout";
import { dnsLabel } from "../lib/names";
import { labelValue } from "./names";
import { REGISTRY_HOSTS, vmStartupVariables } from "./agent-script";
import { AGENT_PROJECT_ROLES, LeastPrivilegeServiceAccount } from "./service-account";
import { agentTags, renderStartupScript } from "./startup-script";

export interface TpuAgentPoolArgs {
    /** The group's VMs, from the catalog (`layoutGcpFleet`). */
    readonly layout: TpuGroupLayout;
    /** `project/secretId` → the Secret's `secretId` output of the fleet's secrets (orders IAM and boots after them). */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
}

/** The `TPU_VERSION` jobs see, as on the live VMs (`tpu6e`, `tpu7x`...). */
export function tpuVersion(acceleratorType: string): string {
    if (acceleratorType.startsWith("tpu7x-")) return "tpu7x";
    if (acceleratorType.startsWith("v6e-")) return "tpu6e";
    if (acceleratorType.startsWith("v5litepod-")) return "tpu5e";
    return acceleratorType.split("-")[0];
}

/**
 * The TPU VMs of one group. Pass the group's project provider and the TLS provider in
 * `opts.providers` (`{ gcp, tls }`); every resource names its project and zone.
 */
export class TpuAgentPool extends pulumi.ComponentResource {
    /** Names of the VMs, in index order. */
    public readonly vmNames: readonly string[];
    /** The VMs, by name. */
    public readonly vms: Record<string, gcp.tpu.V2Vm> = {};
    /** Their data disks, by VM name (none when the group has no data disk). */
    public readonly dataDisks: Record<string, gcp.compute.Disk> = {};
    /** The agents' own service account, unless the group keeps the default compute account. */
    public readonly serviceAccount?: LeastPrivilegeServiceAccount;

    constructor(name: string, args: TpuAgentPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:TpuAgentPool", name, {}, opts);
        const { layout } = args;
        const queue = layout.queue.name;
        const secretRef = (secretId: string) => args.secrets[`${layout.secrets.project}/${secretId}`];

        let email: pulumi.Input<string> | undefined;
        if (layout.account.kind === "dedicated") {
            const readable: Record<string, pulumi.Input<string>> = {};
            for (const id of [layout.secrets.agentToken, layout.secrets.hfToken, layout.secrets.analyticsToken]) if (id) readable[id] = secretRef(id);
            this.serviceAccount = new LeastPrivilegeServiceAccount(
                `${name}-agent`,
                {
                    project: layout.project,
                    accountId: layout.account.accountId,
                    description: `Buildkite agents of TPU queue ${queue}`,
                    projectRoles: AGENT_PROJECT_ROLES,
                    readableSecrets: readable,
                    secretsProject: layout.secrets.project,
                },
                { parent: this },
            );
            email = this.serviceAccount.email;
        }

        this.vmNames = layout.vms.map((vm) => vm.name);
        for (const vm of layout.vms) {
            let sshKey: { secretId: string; publicKey: pulumi.Output<string> } | undefined;
            const dependsOn: pulumi.Resource[] = this.serviceAccount ? [this.serviceAccount] : [];
            if (layout.hosts > 1) {
                const key = new tls.PrivateKey(`${vm.name}-worker-ssh-key`, { algorithm: "ED25519" }, { parent: this });
                const secretId = `${dnsLabel(vm.name)}-worker-ssh-key`;
                const secret = new gcp.secretmanager.Secret(
                    `${vm.name}-worker-ssh-key`,
                    { project: layout.project, secretId, replication: { auto: {} }, labels: { purpose: "tpu-worker-ssh", "ci-queue": labelValue(queue) } },
                    { parent: this },
                );
                const version = new gcp.secretmanager.SecretVersion(`${vm.name}-worker-ssh-key-version`, { secret: secret.id, secretData: pulumi.secret(key.privateKeyOpenssh) }, { parent: this });
                dependsOn.push(version);
                if (email) {
                    new gcp.secretmanager.SecretIamMember(
                        `${vm.name}-reads-worker-ssh-key`,
                        { project: layout.project, secretId: secret.secretId, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${email}` },
                        { parent: this },
                    );
                }
                sshKey = { secretId, publicKey: key.publicKeyOpenssh.apply((k) => k.trim()) };
            }
            const disk = vm.disk
                ? new gcp.compute.Disk(
                      vm.disk.name,
                      { name: vm.disk.name, project: layout.project, zone: layout.zone, type: vm.disk.type, size: vm.disk.sizeGb },
                      // Fixed names: the old disk must go before its replacement is created.
                      { parent: this, deleteBeforeReplace: true },
                  )
                : undefined;
            if (disk) this.dataDisks[vm.name] = disk;
            const startupScript = (sshPublicKey: string) =>
                renderStartupScript("tpu", {
                    ...vmStartupVariables(layout, vm.name, agentTags(queue, { hostname: vm.name })),
                    AGENT_ENVIRONMENT: `TPU_VERSION=${tpuVersion(layout.acceleratorType)}`,
                    REGISTRY_HOSTS,
                    DATA_DISK_NAME: vm.disk?.name ?? "",
                    SSH_KEY_SECRET: sshKey?.secretId ?? "",
                    SSH_PUBLIC_KEY: sshPublicKey,
                });
            // A VM boots once its secrets exist (their values are waited for by the script).
            const secretsReady = [layout.secrets.agentToken, layout.secrets.hfToken, layout.secrets.analyticsToken].filter((id): id is string => !!id).map(secretRef);
            this.vms[vm.name] = new gcp.tpu.V2Vm(
                vm.name,
                {
                    name: vm.name,
                    project: layout.project,
                    zone: layout.zone,
                    acceleratorType: layout.acceleratorType,
                    runtimeVersion: layout.runtimeVersion,
                    networkConfig: { network: `projects/${layout.project}/global/networks/${layout.network}`, enableExternalIps: true },
                    ...(email ? { serviceAccount: { email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] } } : {}),
                    ...(layout.reserved || layout.spot ? { schedulingConfig: { ...(layout.reserved ? { reserved: true } : {}), ...(layout.spot ? { spot: true } : {}) } } : {}),
                    dataDisks: disk ? [{ sourceDisk: disk.id, mode: "READ_WRITE" }] : undefined,
                    metadata: {
                        "startup-script": pulumi
                            .all([sshKey ? sshKey.publicKey : "", ...secretsReady])
                            .apply(([publicKey]) => startupScript(publicKey as string)),
                    },
                    labels: { vm_name: vm.name, "ci-queue": labelValue(queue) },
                },
                { parent: this, dependsOn, deleteBeforeReplace: true },
            );
        }
        this.registerOutputs({ vmNames: this.vmNames });
    }
}
