/** The AWS part of the fleet (stack aws-prod). */
import type { Catalog } from "../catalog";
import type { FleetOutputs } from "../fleet";

/** Builds every AWS queue of the catalog and what they need. */
export function buildAwsFleet(catalog: Catalog): FleetOutputs {
    return { queues: catalog.queues.filter((q) => q.provider === "aws").map((q) => q.name) };
}
