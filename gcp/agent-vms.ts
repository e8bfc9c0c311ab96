/**
 * AgentVmGroup: fixed CPU agent VMs of one `gce` queue in one zone, each with its static external
 * address, as upstream's tpu-inference roots run them (`vllm-ci-cpu-<n>`, `vllm-ci-cpu-64-core-<n>`).
 * The boot image and the account stay as live (changing either replaces or stops the VM); the
 * startup script is updated in place and runs at the next boot.
 */
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { FixedVmGroupLayout } from "./layout";
import { labelValue } from "./names";
import { REGISTRY_HOSTS, vmStartupVariables } from "./agent-script";
import { agentTags, renderStartupScript } from "./startup-script";

export interface AgentVmGroupArgs {
    /** The group's VMs, from the catalog (`layoutGcpFleet`). */
    readonly layout: FixedVmGroupLayout;
    /** `project/secretId` → the Secret's `secretId` output (the VMs boot after their secrets exist). */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
}

/** The fixed VMs of one group. Pass the group's project provider in `opts.provider`. */
export class AgentVmGroup extends pulumi.ComponentResource {
    /** The VMs, by name. */
    public readonly instances: Record<string, gcp.compute.Instance> = {};
    /** Their static addresses, by VM name. */
    public readonly addresses: Record<string, gcp.compute.Address> = {};

    constructor(name: string, args: AgentVmGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci:gcp:AgentVmGroup", name, {}, opts);
        const { layout } = args;
        const queue = layout.queue.name;
        const ready = [layout.secrets.agentToken, layout.secrets.hfToken, layout.secrets.analyticsToken]
            .filter((id): id is string => !!id)
            .map((id) => args.secrets[`${layout.secrets.project}/${id}`]);
        for (const vm of layout.vms) {
            const address = vm.address
                ? new gcp.compute.Address(`${vm.address}-${layout.region}`, { name: vm.address, project: layout.project, region: layout.region }, { parent: this, protect: true })
                : undefined;
            if (address) this.addresses[vm.name] = address;
            const script = renderStartupScript("builder", { ...vmStartupVariables(layout, vm.name, agentTags(queue)), AGENT_ENVIRONMENT: "", REGISTRY_HOSTS });
            this.instances[vm.name] = new gcp.compute.Instance(
                `${vm.name}-${layout.zone}`,
                {
                    name: vm.name,
                    project: layout.project,
                    zone: layout.zone,
                    machineType: layout.machineType,
                    bootDisk: {
                        autoDelete: true,
                        deviceName: vm.name,
                        mode: "READ_WRITE",
                        initializeParams: { image: layout.image, size: layout.diskGb, type: layout.diskType },
                    },
                    networkInterfaces: [
                        {
                            subnetwork: `projects/${layout.project}/regions/${layout.region}/subnetworks/${layout.network}`,
                            accessConfigs: [address ? { natIp: address.address } : {}],
                        },
                    ],
                    // The default compute account (as live) or none of ours: only the scope is ours to say.
                    serviceAccount: { scopes: ["cloud-platform"] },
                    metadata: {
                        "enable-osconfig": "TRUE",
                        "enable-oslogin": "true",
                        "startup-script": pulumi.all(ready).apply(() => script),
                    },
                    labels: { "ci-queue": labelValue(queue) },
                    // A VM whose machine type changes is stopped, changed and started again.
                    allowStoppingForUpdate: true,
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
