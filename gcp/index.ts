/** The GCP part of the fleet (stack gcp-prod). */
import type { Catalog } from "../catalog";
import type { FleetOutputs } from "../fleet";

/** Builds every GCP queue of the catalog and what they need. */
export function buildGcpFleet(catalog: Catalog): FleetOutputs {
    return { queues: catalog.queues.filter((q) => ["gke", "tpu", "gce"].includes(q.provider)).map((q) => q.name) };
}
