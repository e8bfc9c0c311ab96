/**
 * Facts about GCP accelerators that the catalog must agree with: L4 GPUs per G2 machine type, and
 * how TPU accelerator types map to hosts and disks.
 */

/** NVIDIA L4 GPUs attached to each G2 machine type (fixed by GCE: the GPU count is the shape). */
export const L4_GPUS_BY_MACHINE_TYPE = {
    "g2-standard-4": 1,
    "g2-standard-8": 1,
    "g2-standard-12": 1,
    "g2-standard-16": 1,
    "g2-standard-32": 1,
    "g2-standard-24": 2,
    "g2-standard-48": 4,
    "g2-standard-96": 8,
} as const;

/** The GKE accelerator type name of the NVIDIA L4. */
export const L4_ACCELERATOR = "nvidia-l4";

/** L4 GPUs on a machine type, or undefined when it is not a G2 machine type. */
export function l4GpusOf(machineType: string): number | undefined {
    return (L4_GPUS_BY_MACHINE_TYPE as Record<string, number>)[machineType];
}

/**
 * TPU families by accelerator type prefix: what the number after the prefix counts, how many of
 * those one host holds, and which data disk types the family can attach.
 */
export const TPU_FAMILIES = {
    "v5litepod-": { generation: "v5e", unitsPerHost: 8, unitsPerChip: 1, diskTypes: ["pd-balanced", "pd-ssd"] },
    "v6e-": { generation: "v6e", unitsPerHost: 8, unitsPerChip: 1, diskTypes: ["hyperdisk-balanced"] },
    // v7x counts TensorCores: 2 per chip, 4 chips per host.
    "tpu7x-": { generation: "v7x", unitsPerHost: 8, unitsPerChip: 2, diskTypes: ["hyperdisk-balanced"] },
} as const;

export interface TpuShape {
    generation: string;
    /** Chips (v5e, v6e) or TensorCores (v7x) of the slice. */
    units: number;
    /** Worker VMs of the slice. */
    hosts: number;
    /** Chips of the slice (what Google prices a TPU by). */
    chips: number;
    /** Data disk types the family can attach. */
    diskTypes: readonly string[];
}

/** The shape of a TPU accelerator type, or undefined when the family is unknown. */
export function tpuShape(acceleratorType: string): TpuShape | undefined {
    for (const [prefix, family] of Object.entries(TPU_FAMILIES)) {
        if (!acceleratorType.startsWith(prefix)) continue;
        const units = Number(acceleratorType.slice(prefix.length));
        if (!Number.isInteger(units) || units < 1) return undefined;
        return { generation: family.generation, units, hosts: Math.ceil(units / family.unitsPerHost), chips: Math.ceil(units / family.unitsPerChip), diskTypes: family.diskTypes };
    }
    return undefined;
}
