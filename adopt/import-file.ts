/**
 * The Pulumi bulk import file (`pulumi import --file`) of an adoption: one entry per adopted
 * resource with its exact type, the program's logical name and the provider's import id; the
 * program's component resources as `component: true` entries (no id), so that every imported
 * resource lands under the parent the program declares; explicit providers through `nameTable`
 * by URN, so that every resource is read through the provider (region, project, cluster) the
 * program gives it.
 *
 * Pulumi resolves `parent` against the `name` of another entry of the file or a `nameTable` key,
 * and `provider` against a `nameTable` key only, whose URN must already be in the stack: the
 * runbook creates the providers first with a targeted `pulumi up` (`providerTargets`).
 */
import type { RecordedResource } from "../plan/harness";
import type { Adoption } from "./engine";

/** The root of every stack: parents that are the stack itself are left out of the file. */
const STACK_TYPE = "pulumi:pulumi:Stack";

/** One entry of `resources`. */
export interface ImportEntry {
    readonly type: string;
    /** Key of the entry within the file (the logical name, unless two entries share one). */
    readonly name: string;
    /** The program's logical name, when `name` had to differ from it. */
    readonly logicalName?: string;
    readonly id?: string;
    /** `name` of a component entry of this file. */
    readonly parent?: string;
    /** Key of `nameTable` naming the explicit provider. */
    readonly provider?: string;
    readonly component?: boolean;
}

/** The file, as `pulumi import --file` reads it. */
export interface ImportFile {
    readonly nameTable: Readonly<Record<string, string>>;
    readonly resources: readonly ImportEntry[];
}

/** Default providers are the engine's own and are never named in an import. */
function isDefaultProvider(providerRef: string): boolean {
    return /^pulumi:providers:[^:]+::default(_|$)/.test(providerRef);
}

function ref(resource: RecordedResource): string {
    return `${resource.type}::${resource.name}`;
}

/** Short form of a type token for disambiguation: `aws:s3/bucket:Bucket` → `Bucket`. */
function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}

/**
 * The URN the Pulumi engine gives `resource`: its parents' types chained with `$`, the root stack
 * left out (`urn:pulumi:<stack>::<project>::<parent types$>type::name`). The offline plan's mock
 * monitor spells URNs differently (it keeps the stack's type and only the last parent's), so URNs
 * written for the real engine (the name table, the targets of the provider pre-import) are
 * rebuilt from the plan's parent links.
 */
export function engineUrn(resource: RecordedResource, byRef: ReadonlyMap<string, RecordedResource>): string {
    const [prefix, project] = resource.urn.split("::");
    const stack = prefix.slice("urn:pulumi:".length);
    const chain: string[] = [resource.type];
    const seen = new Set<string>();
    for (let parentRef = resource.parent; parentRef && !seen.has(parentRef); ) {
        seen.add(parentRef);
        const parent = byRef.get(parentRef);
        if (!parent || parent.type === STACK_TYPE) break;
        chain.unshift(parent.type);
        parentRef = parent.parent;
    }
    return `urn:pulumi:${stack}::${project}::${chain.join("$")}::${resource.name}`;
}

/**
 * Builds the import file of `adoptions` over `plan` (which holds their components and providers).
 * Components whose (plan) URN is in `alreadyInStack` were imported by an earlier phase: they are
 * named through `nameTable` by their engine URN instead of being entries again.
 * Pure and deterministic: entries in plan order (by URN), names made unique in the same order.
 */
export function buildImportFile(
    plan: readonly RecordedResource[],
    adoptions: readonly Adoption[],
    alreadyInStack: ReadonlySet<string> = new Set(),
): { file: ImportFile; providerTargets: string[]; componentUrns: string[] } {
    const byRef = new Map(plan.map((resource) => [ref(resource), resource]));
    const idByUrn = new Map(adoptions.map((adoption) => [adoption.resource.urn, adoption.id]));

    // The components above every adopted resource, up to the stack.
    const needed = new Set<string>();
    for (const adoption of adoptions) {
        let parentRef = adoption.resource.parent;
        while (parentRef) {
            const parent = byRef.get(parentRef);
            if (!parent || parent.type === STACK_TYPE) break;
            if (parent.custom) throw new Error(`adopted ${ref(adoption.resource)} has a custom resource as parent (${parentRef}); the import file cannot express it`);
            needed.add(parent.urn);
            parentRef = parent.parent;
        }
    }
    const members = plan.filter((resource) => needed.has(resource.urn) || idByUrn.has(resource.urn));

    const nameCounts = new Map<string, number>();
    for (const resource of members) nameCounts.set(resource.name, (nameCounts.get(resource.name) ?? 0) + 1);
    const entryName = new Map<string, string>();
    const used = new Set<string>();
    for (const resource of members) {
        let name = resource.name;
        if ((nameCounts.get(name) ?? 0) > 1) {
            name = `${resource.name}~${shortType(resource.type)}`;
            for (let n = 2; used.has(name); n++) name = `${resource.name}~${shortType(resource.type)}~${n}`;
        }
        used.add(name);
        entryName.set(resource.urn, name);
    }

    const nameTable: Record<string, string> = {};
    for (const resource of members) if (alreadyInStack.has(resource.urn)) nameTable[entryName.get(resource.urn)!] = engineUrn(resource, byRef);
    const providerKey = new Map<string, string>();
    const providerTargets: string[] = [];
    const componentUrns: string[] = [];
    const resources: ImportEntry[] = members.filter((resource) => !alreadyInStack.has(resource.urn)).map((resource) => {
        const parent = resource.parent ? byRef.get(resource.parent) : undefined;
        const parentName = parent && parent.type !== STACK_TYPE ? entryName.get(parent.urn) : undefined;
        const name = entryName.get(resource.urn)!;
        const base: ImportEntry = {
            type: resource.type,
            name,
            ...(name !== resource.name ? { logicalName: resource.name } : {}),
            ...(parentName ? { parent: parentName } : {}),
        };
        if (!idByUrn.has(resource.urn)) {
            componentUrns.push(resource.urn);
            return { ...base, component: true };
        }
        let provider: string | undefined;
        if (resource.provider && !isDefaultProvider(resource.provider)) {
            const providerResource = byRef.get(resource.provider);
            if (!providerResource) throw new Error(`adopted ${ref(resource)} names provider ${resource.provider}, which the plan does not hold`);
            provider = providerKey.get(providerResource.urn);
            if (!provider) {
                provider = providerResource.name;
                for (let n = 2; provider in nameTable; n++) provider = `${providerResource.name}~${n}`;
                const urn = engineUrn(providerResource, byRef);
                nameTable[provider] = urn;
                providerKey.set(providerResource.urn, provider);
                providerTargets.push(urn);
            }
        }
        return { ...base, id: idByUrn.get(resource.urn), ...(provider ? { provider } : {}) };
    });
    return { file: { nameTable, resources }, providerTargets: providerTargets.sort(), componentUrns };
}

/** One step of an import: the providers a targeted `up` creates, then the file `pulumi import` reads. */
export interface ImportPhase {
    readonly file: ImportFile;
    /** Engine URNs of the explicit providers this phase's entries are read through. */
    readonly providerTargets: readonly string[];
}

/**
 * The import split into the phases a real engine can run. An explicit provider whose inputs come
 * from an adopted resource (a GKE cluster's Kubernetes provider reads the cluster's endpoint and
 * certificate) cannot be created before that resource is in the stack, so the entries read
 * through it go one phase after everything it depends on. Dependencies are followed through
 * resources that are not imported (a kubeconfig built from the cluster) up to adopted ones.
 * One phase when no provider depends on an adopted resource.
 */
export function importPhases(plan: readonly RecordedResource[], adoptions: readonly Adoption[]): ImportPhase[] {
    const byRef = new Map(plan.map((resource) => [ref(resource), resource]));
    const byUrn = new Map(plan.map((resource) => [resource.urn, resource]));
    const adopted = new Set(adoptions.map((adoption) => adoption.resource.urn));
    const providerPhase = new Map<string, number>();
    const phaseOf = (resource: RecordedResource): number => {
        const provider = resource.provider && !isDefaultProvider(resource.provider) ? byRef.get(resource.provider) : undefined;
        return provider ? phaseOfProvider(provider) : 1;
    };
    const phaseOfProvider = (provider: RecordedResource): number => {
        const known = providerPhase.get(provider.urn);
        if (known !== undefined) return known;
        providerPhase.set(provider.urn, 1); // a cycle (which the engine refuses anyway) ends here
        let phase = 1;
        const seen = new Set<string>();
        const visit = (resource: RecordedResource) => {
            for (const urn of [...Object.values(resource.propertyDependencies).flat(), ...(resource.dependsOn ?? [])]) {
                if (seen.has(urn)) continue;
                seen.add(urn);
                const dependency = byUrn.get(urn);
                if (!dependency) continue;
                if (adopted.has(urn)) phase = Math.max(phase, phaseOf(dependency) + 1);
                else visit(dependency);
            }
        };
        visit(provider);
        providerPhase.set(provider.urn, phase);
        return phase;
    };
    const byPhase = new Map<number, Adoption[]>();
    for (const adoption of adoptions) {
        const phase = phaseOf(adoption.resource);
        byPhase.set(phase, [...(byPhase.get(phase) ?? []), adoption]);
    }
    const phases: ImportPhase[] = [];
    const inStack = new Set<string>();
    for (const phase of [...byPhase.keys()].sort((a, b) => a - b)) {
        const { file, providerTargets, componentUrns } = buildImportFile(plan, byPhase.get(phase)!, inStack);
        phases.push({ file, providerTargets });
        for (const urn of componentUrns) inStack.add(urn);
    }
    return phases;
}

/**
 * Problems that would make `pulumi import --file` refuse the file or import into the wrong place:
 * duplicate names, a parent or provider that resolves to nothing, an id on a component, an entry
 * without id that is not a component. Empty when the file is valid.
 */
export function importFileProblems(file: ImportFile): string[] {
    const problems: string[] = [];
    const names = new Map<string, ImportEntry>();
    for (const entry of file.resources) {
        if (names.has(entry.name)) problems.push(`resources: two entries named "${entry.name}"`);
        names.set(entry.name, entry);
    }
    for (const entry of file.resources) {
        const where = `resource "${entry.name}" (${entry.type})`;
        if (!entry.type || !/^[^:]+:[^:]*:[^:]+$/.test(entry.type)) problems.push(`${where}: type is not a type token`);
        if (entry.component) {
            if (entry.id !== undefined) problems.push(`${where}: a component has no id`);
            if (entry.provider !== undefined) problems.push(`${where}: a component has no provider`);
        } else if (!entry.id) problems.push(`${where}: no id (only components may omit it)`);
        if (entry.type.startsWith("pulumi:providers:")) problems.push(`${where}: providers cannot be imported; name them in nameTable`);
        if (entry.parent !== undefined) {
            const parent = names.get(entry.parent);
            if (!parent && !(entry.parent in file.nameTable)) problems.push(`${where}: parent "${entry.parent}" is neither an entry nor in nameTable`);
            if (parent && !parent.component) problems.push(`${where}: parent "${entry.parent}" is not a component`);
        }
        if (entry.provider !== undefined && !(entry.provider in file.nameTable)) problems.push(`${where}: provider "${entry.provider}" is not in nameTable`);
    }
    for (const [key, urn] of Object.entries(file.nameTable)) {
        if (!/^urn:pulumi:[^:]+::[^:]+::.+::.+$/.test(urn)) problems.push(`nameTable "${key}": not a URN: ${urn}`);
    }
    return problems;
}
