/**
 * The GPU AMI, built on demand: the queues with an accelerator boot a pinned `aws.imageId`, and a
 * new image reaches them through a catalog change (reviewed, planned, rolled by `pulumi up`), not
 * through the daily rebuild. This module gives the operator the catalog's facts for `packer build`.
 */
import { queuesOf, type Catalog } from "../catalog";
import { BUILDKITE_AMI_OWNER, acceleratorOf } from "../aws/stack-parameters";

/** Where the GPU template is (from the repository root). */
export const GPU_TEMPLATE_DIR = "images/gpu";

/** One region's GPU image: the queues that boot it and the image they boot today. */
export interface GpuImageBuild {
    readonly region: string;
    readonly queues: readonly string[];
    readonly imageIds: readonly string[];
    /** The `-var` flags of `packer build` that are catalog facts. */
    readonly packerVariables: Readonly<Record<string, string>>;
}

/** The GPU images of the catalog, one per region with AWS accelerator queues, in region order. */
export function gpuImageBuilds(catalog: Catalog): GpuImageBuild[] {
    const byRegion = new Map<string, { queues: string[]; imageIds: Set<string> }>();
    for (const queue of queuesOf(catalog, "aws")) {
        if (acceleratorOf(catalog, queue) === undefined) continue;
        const entry = byRegion.get(queue.region) ?? { queues: [], imageIds: new Set<string>() };
        entry.queues.push(queue.name);
        if (queue.aws?.imageId) entry.imageIds.add(queue.aws.imageId);
        byRegion.set(queue.region, entry);
    }
    return [...byRegion.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([region, entry]) => ({
            region,
            queues: entry.queues,
            imageIds: [...entry.imageIds].sort(),
            packerVariables: { region, source_ami_owner: BUILDKITE_AMI_OWNER },
        }));
}

/** The operator's command lines, one per region (`npm run -s images -- gpu-vars`). */
export function gpuBuildCommands(catalog: Catalog): string[] {
    return gpuImageBuilds(catalog).map((build) => {
        const flags = Object.entries(build.packerVariables).map(([name, value]) => `-var ${name}=${value}`);
        return `packer build ${flags.join(" ")} ${GPU_TEMPLATE_DIR}   # ${build.queues.join(", ")} (today ${build.imageIds.join(", ") || "the stack's default AMI"})`;
    });
}
