/** The offline plan's recorded resources as rule subjects (secrets in the clear, as the engine shows them). */
import type { RecordedResource } from "../plan/harness";
import type { Subject } from "./subject";

export function subjectsFromPlan(resources: RecordedResource[]): Subject[] {
    const byUrn = new Map(resources.map((r) => [r.urn, `${r.type}::${r.name}`]));
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        ref: `${r.type}::${r.name}`,
        props: r.rawInputs,
        parent: r.parent,
        propertyDependencies: Object.fromEntries(
            Object.entries(r.propertyDependencies).map(([property, urns]) => [property, urns.map((urn) => byUrn.get(urn) ?? urn)]),
        ),
    }));
}
