/**
 * What the fleet can reach at full scale and what that costs: per queue and per cloud, the most
 * machines at once, the accelerators they carry (by kind: L4, H100, TPU v6e chips...) and the
 * on-demand hourly cost, from the catalog's `prices`. Pure (no Pulumi): the numbers come from the
 * same layout the program builds from (`gcp/layout.ts`: node pools per cluster, TPU VMs per group,
 * builders, fixed VMs) and the catalog's AWS queues, so the view cannot drift from the plan.
 *
 * How each provider reaches its maximum:
 * - AWS (Elastic CI Stack): `scale.max` instances of the queue's machine type.
 * - GKE: one node pool per cluster the queue lists, each up to its max nodes (`scale.max`).
 * - TPU: fixed VMs: each group's slices, each slice `hosts` VMs (multi-host slices count every
 *   host) and its chips (v7x: 2 TensorCores per chip).
 * - GCE: a builder group's `scale.max`, or the fixed VMs of `gce.instances`.
 * - k8s and external queues run on clusters and hardware we do not provision: not counted.
 */
import { queueResourceName, queuesOf, type Catalog, type MachinePrice, type Provider, type Queue, type QueueMachine } from "../catalog";
import { tpuShape } from "../gcp/accelerators";
import { planGcpFleet } from "../gcp/layout";
import type { GcpSettings } from "../gcp/settings";

/** The clouds whose cost the view adds up. */
export const CLOUDS = ["aws", "gcp"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** What one queue reaches at full scale. */
export interface QueueCapacity {
    /** The queue's resource name (`<organization>-<name>` outside the default organization). */
    readonly queue: string;
    readonly cloud: Cloud;
    readonly provider: Provider;
    readonly machineType: string;
    /** Most machines at once: instances, nodes or VMs (a multi-host TPU slice counts each host). */
    readonly maxInstances: number;
    /** TPU queues: slices (each of one or more hosts). */
    readonly slices?: number;
    /** Accelerators at full scale, by kind (`L4`, `H100`, `TPU v6e chips`). */
    readonly accelerators: Readonly<Record<string, number>>;
    /** On-demand US dollars per hour at full scale; undefined without a price. */
    readonly usdPerHour: number | undefined;
    /** The price is an estimate (the catalog's `estimate` reason). */
    readonly estimate: boolean;
    /** How the maximum is reached, in words (`2 pools x 64 nodes`). */
    readonly how: string;
}

/** Totals of one cloud, or of the whole fleet (`cloud: "fleet"`). */
export interface CapacityTotals {
    readonly cloud: Cloud | "fleet";
    readonly maxInstances: number;
    readonly accelerators: Readonly<Record<string, number>>;
    readonly usdPerHour: number;
    /** Queues of this cloud without a price (their cost is not in `usdPerHour`). */
    readonly unpriced: number;
    /** Queues whose price is an estimate (then so is `usdPerHour`). */
    readonly estimated: number;
}

/** The capacity view of a catalog. */
export interface FleetCapacity {
    readonly queues: readonly QueueCapacity[];
    readonly totals: readonly CapacityTotals[];
    /** Queues that run on hardware we do not provision (k8s, external). */
    readonly notProvisioned: readonly string[];
}

/** The kind TPU chips of a generation are counted as (`TPU v7x chips`). */
export const tpuChipKind = (generation: string) => `TPU ${generation} chips`;

/** The kind an accelerator is counted as: `nvidia-l4` → `L4`, `nvidia-h100` → `H100`, `tpu-v6e` → `TPU v6e chips`. */
export function acceleratorKind(accelerator: string): string {
    const tpu = /^tpu-(.+)$/.exec(accelerator);
    if (tpu) return tpuChipKind(tpu[1]);
    return accelerator.replace(/^(nvidia|amd|intel)-/, "").toUpperCase();
}

/** Money to a hundredth of a cent: sums print and compare the same everywhere, and a difference rounds once, when it is shown. */
const cents = (usd: number) => Math.round(usd * 10000) / 10000;

/** One line per machine type a provisioned queue uses without a usable price (empty when the catalog has no prices). */
export function priceProblems(catalog: Catalog): string[] {
    const prices = catalog.prices ?? {};
    if (Object.keys(prices).length === 0) return [];
    const problems: string[] = [];
    for (const [type, price] of Object.entries(prices)) {
        if ((price.usdPerHour === undefined) === (price.usdPerChipHour === undefined)) problems.push(`prices "${type}": give exactly one of usdPerHour and usdPerChipHour`);
        else if (price.usdPerChipHour !== undefined && !tpuShape(type)) problems.push(`prices "${type}": field usdPerChipHour: only TPU types are priced per chip; give usdPerHour`);
    }
    for (const queue of catalog.queues) {
        if (!["aws", "gke", "tpu", "gce"].includes(queue.provider) || !queue.machine) continue;
        const type = queue.provider === "tpu" ? queue.tpu.acceleratorType : queue.machine.type;
        if (!prices[type]) problems.push(`queue "${queueResourceName(catalog, queue)}": field machine.type: ${type} has no price in section prices`);
    }
    return [...new Set(problems)];
}

/** The hourly cost of `machines` of a type (`chips` for per-chip TPU prices), or undefined without a price. */
function costOf(price: MachinePrice | undefined, machines: number, chips = 0): number | undefined {
    if (!price) return undefined;
    if (price.usdPerChipHour !== undefined) return cents(price.usdPerChipHour * chips);
    if (price.usdPerHour !== undefined) return cents(price.usdPerHour * machines);
    return undefined;
}

function add(into: Record<string, number>, kind: string, count: number): void {
    if (count > 0) into[kind] = (into[kind] ?? 0) + count;
}

/**
 * The capacity of every provisioned queue, and the totals per cloud and for the fleet. `gcp` is
 * the gcp-prod stack's settings (the layout needs its project and regions); its problems are the
 * lint's, not this view's.
 */
export function fleetCapacity(catalog: Catalog, gcp: GcpSettings, stackFile = "Pulumi.gcp-prod.yaml"): FleetCapacity {
    const prices = catalog.prices ?? {};
    const queues: QueueCapacity[] = [];
    const priced = (type: string) => prices[type];

    /** A queue of machines priced per machine: `machines` of its type, carrying `accelerators` (default: its machine type's). */
    const machineRow = (queue: Queue & { machine: QueueMachine }, cloud: Cloud, machines: number, how: string, accelerators?: Record<string, number>): QueueCapacity => {
        const type = catalog.machineTypes[queue.machine.type];
        const carried: Record<string, number> = {};
        if (accelerators) Object.assign(carried, accelerators);
        else if (type?.accelerator) add(carried, acceleratorKind(type.accelerator), (type.count ?? 1) * machines);
        return {
            queue: queueResourceName(catalog, queue),
            cloud,
            provider: queue.provider,
            machineType: queue.machine.type,
            maxInstances: machines,
            accelerators: carried,
            usdPerHour: costOf(priced(queue.machine.type), machines),
            estimate: priced(queue.machine.type)?.estimate !== undefined,
            how,
        };
    };

    for (const queue of queuesOf(catalog, "aws")) queues.push(machineRow(queue, "aws", queue.scale.max, `scale.max ${queue.scale.max}`));

    const { layout } = planGcpFleet(catalog, gcp, stackFile);
    for (const queue of queuesOf(catalog, "gke")) {
        const pools = layout.gkeClusters.flatMap((cluster) => cluster.pools.filter((pool) => pool.queue === queue.name));
        const gpus: Record<string, number> = {};
        add(gpus, acceleratorKind(queue.machine.accelerator ?? ""), pools.reduce((sum, pool) => sum + pool.maxNodes * pool.gpus, 0));
        const nodes = pools.reduce((sum, pool) => sum + pool.maxNodes, 0);
        queues.push(machineRow(queue, "gcp", nodes, `${pools.length} pool(s) x ${pools.map((p) => p.maxNodes).join("+")} nodes`, gpus));
    }

    for (const queue of queuesOf(catalog, "tpu")) {
        const name = queueResourceName(catalog, queue);
        const groups = layout.tpuGroups.filter((group) => group.queue === queue);
        const shape = tpuShape(queue.tpu.acceleratorType);
        const slices = groups.reduce((sum, group) => sum + group.vms.length, 0);
        const hosts = shape?.hosts ?? 1;
        const chips = slices * (shape?.chips ?? 0);
        const accelerators: Record<string, number> = {};
        if (shape) add(accelerators, tpuChipKind(shape.generation), chips);
        const price = priced(queue.tpu.acceleratorType);
        queues.push({
            queue: name,
            cloud: "gcp",
            provider: "tpu",
            machineType: queue.tpu.acceleratorType,
            maxInstances: slices * hosts,
            slices,
            accelerators,
            usdPerHour: costOf(price, slices, chips),
            estimate: price?.estimate !== undefined,
            how: `fixed: ${groups.map((g) => g.vms.length).join("+")} slice(s), ${hosts} host(s) and ${shape?.chips ?? "?"} chip(s) each`,
        });
    }

    for (const queue of queuesOf(catalog, "gce")) {
        const builder = layout.builders.find((b) => b.queue === queue);
        const fixed = layout.fixedVms.filter((group) => group.queue === queue);
        const machines = builder ? builder.maxSize : fixed.reduce((sum, group) => sum + group.vms.length, 0);
        queues.push(machineRow(queue, "gcp", machines, builder ? `group max ${builder.maxSize}` : `fixed: ${fixed.map((g) => g.vms.length).join("+")} VM(s)`));
    }

    const totalsOf = (cloud: Cloud | "fleet", of: readonly QueueCapacity[]): CapacityTotals => {
        const accelerators: Record<string, number> = {};
        for (const q of of) for (const [kind, count] of Object.entries(q.accelerators)) add(accelerators, kind, count);
        return {
            cloud,
            maxInstances: of.reduce((sum, q) => sum + q.maxInstances, 0),
            accelerators: Object.fromEntries(Object.entries(accelerators).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
            usdPerHour: cents(of.reduce((sum, q) => sum + (q.usdPerHour ?? 0), 0)),
            unpriced: of.filter((q) => q.usdPerHour === undefined).length,
            estimated: of.filter((q) => q.estimate).length,
        };
    };
    const totals = [...CLOUDS.map((cloud) => totalsOf(cloud, queues.filter((q) => q.cloud === cloud))), totalsOf("fleet", queues)];
    const notProvisioned = catalog.queues.filter((q) => q.provider === "k8s" || q.provider === "external").map((q) => queueResourceName(catalog, q));
    return { queues, totals, notProvisioned };
}
