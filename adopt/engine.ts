/**
 * The adoption engine: matches the resources of a stack's offline plan with the instances of
 * Terraform states by physical identity (names, ARNs, CIDRs within a region, project/location/name,
 * never Terraform's ids or addresses), and says for every resource on either side what the first
 * `pulumi import` + `pulumi up` will do with it.
 *
 * What to match and how to compare is per stack (`StackAdoption`, written next to the stack's
 * cloud code); the engine is the same for every stack. It makes no cloud call.
 */
import type { RecordedResource } from "../plan/harness";
import type { TerraformInstance, TerraformState } from "./terraform-state";

/** How one Pulumi resource type is found in Terraform state and imported. */
export interface AdoptionRule {
    /** Pulumi type token, e.g. `aws:s3/bucket:Bucket`. */
    readonly pulumiType: string;
    /** Terraform resource types that can be its counterpart, e.g. `["aws_s3_bucket"]`. */
    readonly terraformTypes: readonly string[];
    /**
     * The physical identity of a planned resource: the same string `stateIdentity` gives its live
     * counterpart (e.g. `us-west-2/vpc/10.0.0.0/16`). Undefined: this resource cannot exist yet.
     */
    readonly planIdentity: (resource: RecordedResource, context: AdoptionContext) => string | undefined;
    /**
     * The physical identity of a Terraform instance; undefined when it has none this rule knows.
     * `live` finds the instances it refers to (a subnet's VPC, a route's table) by attribute.
     */
    readonly stateIdentity: (instance: TerraformInstance, live: LiveIndex) => string | undefined;
    /** The import id in the format the provider documents (`## Import` in the SDK's `.d.ts`). */
    readonly importId: (instance: TerraformInstance, resource: RecordedResource) => string;
    /**
     * The fields where the first `pulumi up` after the import would change the resource: each with
     * the live (Terraform) value, the program's, and whether the change replaces the resource.
     * Called once every match is known, so references can be compared through `context.adoptedId`.
     */
    readonly compare?: (resource: RecordedResource, instance: TerraformInstance, context: AdoptionContext) => readonly FieldChange[];
}

/** One field the first `up` changes. */
export interface FieldChange {
    /** Input path, e.g. `parameters.MaxSize`. */
    readonly field: string;
    readonly terraform: unknown;
    readonly program: unknown;
    /** The provider replaces the resource for this change (a create-before-delete or delete-then-create). */
    readonly replaces?: boolean;
    /**
     * What the in-place change does beyond the resource, in one line, when it matters to whoever
     * runs the `up` (e.g. "replaces the autoscaling group of queue gpu_1_queue: running jobs are cancelled").
     */
    readonly effect?: string;
}

/** The managed instances of the states, searchable by attribute (for identities that go through a reference). */
export interface LiveIndex {
    readonly instances: readonly TerraformInstance[];
    /** The managed instance of `type` whose attribute `attribute` equals `value`; undefined when none or several. */
    byAttribute(type: string, attribute: string, value: unknown): TerraformInstance | undefined;
}

/** What Terraform does with an instance the program does not adopt, after the import. */
export type TerraformHandover =
    /** Terraform keeps managing it (the default). */
    | "keep"
    /** Terraform forgets it without destroying it (`removed { destroy = false }`): it stays as it is, unmanaged. */
    | "forget"
    /** Terraform destroys it once the program's replacement is up (its resource block is deleted, no `removed` block). */
    | "retire";

/** Why something differs, is created, or stays in Terraform: matched by type, name and field. */
export interface Explanation {
    /** Pulumi type token (for differences, replacements and creations) or Terraform type (for what stays). */
    readonly type: string;
    /** Logical name or Terraform address it applies to; every one when absent. */
    readonly name?: string | RegExp;
    /** The field it applies to (differences and replacements); every field when absent. */
    readonly field?: string | RegExp;
    /** One line: the reason, as the report shows it. */
    readonly reason: string;
    /** For what stays in Terraform: what Terraform does with it after the import (default `keep`). */
    readonly handover?: TerraformHandover;
}

/** A resource that exists outside every Terraform state (made by hand or by a script), to import all the same. */
export interface ExistingOutsideTerraform {
    readonly id: string;
    /** Where it comes from, e.g. "created by infra-k8s/install-buildkite-k8s.sh". */
    readonly reason: string;
    /** What the first `up` changes on it, when the inventory that found it records its fields (reported like a state's differences). */
    readonly changes?: readonly FieldChange[];
}

/** Everything the engine needs to know about one stack. */
export interface StackAdoption {
    readonly stack: string;
    readonly rules: readonly AdoptionRule[];
    /** Resources that exist outside Terraform, keyed by what the program declares. */
    readonly existingOutsideTerraform?: (resource: RecordedResource, context: AdoptionContext) => ExistingOutsideTerraform | undefined;
    /** Why program resources with no counterpart are new. */
    readonly created: readonly Explanation[];
    /** Why Terraform resources the program does not take over stay where they are (by Terraform type and address). */
    readonly leftInTerraform: readonly Explanation[];
    /** Why each deliberate difference or replacement exists. */
    readonly differences: readonly Explanation[];
}

/** What the rules see besides the resource at hand. */
export interface AdoptionContext {
    /** Every resource of the plan. */
    readonly plan: readonly RecordedResource[];
    /** The resource a `type::name` reference (as in `parent` / `provider`) or URN names. */
    resource(refOrUrn: string): RecordedResource | undefined;
    /** The explicit provider resource of a resource, if it has one. */
    providerOf(resource: RecordedResource): RecordedResource | undefined;
    /** The id an adopted resource (by URN or `type::name`) will have after the import; only known in `compare`. */
    adoptedId(refOrUrn: string): string | undefined;
    /** The Terraform instance an adopted resource was matched with; only known in `compare`. */
    adoptedInstance(refOrUrn: string): TerraformInstance | undefined;
    /** Every managed instance of the states (what they tell about resources they do not hold, e.g. ARNs a policy names). */
    readonly live: LiveIndex;
}

/** The adoption report, as written to `<stack>.adoption.json`. */
export interface AdoptionReport {
    readonly stack: string;
    readonly states: readonly { readonly label: string; readonly lineage?: string; readonly serial?: number; readonly instances: number }[];
    readonly adopted: readonly {
        readonly terraform: string | null;
        readonly state?: string;
        readonly type: string;
        readonly name: string;
        readonly id: string;
        readonly reason?: string;
        /** `state:address` of the other states that manage the same object (all of them let it go). */
        readonly alsoManagedBy?: readonly string[];
    }[];
    readonly created: readonly { readonly type: string; readonly name: string; readonly reason: string }[];
    readonly replaced: readonly { readonly type: string; readonly name: string; readonly field: string; readonly reason: string }[];
    readonly leftInTerraform: readonly { readonly terraform: string; readonly state: string; readonly reason: string; readonly handover: TerraformHandover }[];
    readonly differences: readonly {
        readonly type: string;
        readonly name: string;
        readonly field: string;
        readonly terraform: unknown;
        readonly program: unknown;
        readonly reason: string;
        /** What the change does beyond the resource (see `FieldChange.effect`). */
        readonly effect?: string;
    }[];
    /** Entries of the lists above that no explanation covers: each is a finding to resolve before the import. */
    readonly unexplained: readonly string[];
}

/** One adopted resource, for the import file and the handover. */
export interface Adoption {
    readonly resource: RecordedResource;
    /** The Terraform instance, or undefined for a resource that exists outside Terraform. */
    readonly instance?: TerraformInstance;
    /** The same object managed by other states too (two roots declaring one secret): handed over with it. */
    readonly alsoManagedBy?: readonly TerraformInstance[];
    readonly id: string;
}

/** Everything `adopt` found: the report plus what the writers need. */
export interface AdoptionResult {
    readonly report: AdoptionReport;
    readonly adoptions: readonly Adoption[];
    /** Every managed Terraform instance of the states, for the handover. */
    readonly managedInstances: readonly TerraformInstance[];
}

function matches(pattern: string | RegExp | undefined, value: string): boolean {
    if (pattern === undefined) return true;
    return typeof pattern === "string" ? pattern === value : pattern.test(value);
}

/** The first explanation for this type, name and field, if any. */
export function explanationOf(explanations: readonly Explanation[], type: string, name: string, field?: string): Explanation | undefined {
    return explanations.find((e) => e.type === type && matches(e.name, name) && (field === undefined || matches(e.field, field)));
}

/** The reason of the first explanation for this type, name and field, if any. */
export function explain(explanations: readonly Explanation[], type: string, name: string, field?: string): string | undefined {
    return explanationOf(explanations, type, name, field)?.reason;
}

/** An index of `instances` by attribute values. */
export function liveIndex(instances: readonly TerraformInstance[]): LiveIndex {
    const cache = new Map<string, Map<string, TerraformInstance[]>>();
    return {
        instances,
        byAttribute(type, attribute, value) {
            if (value === undefined || value === null) return undefined;
            const key = `${type}\u0000${attribute}`;
            let index = cache.get(key);
            if (!index) {
                index = new Map();
                for (const instance of instances) {
                    if (instance.type !== type) continue;
                    const own = instance.attributes[attribute];
                    if (own === undefined || own === null) continue;
                    index.set(JSON.stringify(own), [...(index.get(JSON.stringify(own)) ?? []), instance]);
                }
                cache.set(key, index);
            }
            const found = index.get(JSON.stringify(value)) ?? [];
            return found.length === 1 ? found[0] : undefined;
        },
    };
}

function ref(resource: RecordedResource): string {
    return `${resource.type}::${resource.name}`;
}

function compareText(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Matches a plan with Terraform states. Pure: same plan and states, same result, whatever the
 * order of the states' resources.
 */
export function adopt(plan: readonly RecordedResource[], states: readonly TerraformState[], stack: StackAdoption): AdoptionResult {
    const byRef = new Map<string, RecordedResource>();
    const byUrn = new Map<string, RecordedResource>();
    for (const resource of plan) {
        byRef.set(ref(resource), resource);
        byUrn.set(resource.urn, resource);
    }
    const adoptedIds = new Map<string, string>();
    const adoptedInstances = new Map<string, TerraformInstance>();
    const managed = states
        .flatMap((state) => state.instances.filter((instance) => instance.mode === "managed"))
        .sort((a, b) => compareText(a.state, b.state) || compareText(a.address, b.address));
    const index = liveIndex(managed);
    const context: AdoptionContext = {
        plan,
        resource: (key) => byUrn.get(key) ?? byRef.get(key),
        providerOf: (resource) => (resource.provider ? byRef.get(resource.provider) : undefined),
        adoptedId: (key) => {
            const target = byUrn.get(key) ?? byRef.get(key);
            return target ? adoptedIds.get(target.urn) : undefined;
        },
        adoptedInstance: (key) => {
            const target = byUrn.get(key) ?? byRef.get(key);
            return target ? adoptedInstances.get(target.urn) : undefined;
        },
        live: index,
    };

    const unexplained: string[] = [];

    // Index the live side once per Terraform type and identity; a duplicate identity is ambiguous.
    const rulesByType = new Map<string, AdoptionRule>();
    for (const rule of stack.rules) {
        if (rulesByType.has(rule.pulumiType)) throw new Error(`adoption rules of ${stack.stack}: two rules for ${rule.pulumiType}`);
        rulesByType.set(rule.pulumiType, rule);
    }
    const live = new Map<string, TerraformInstance[]>();
    for (const rule of stack.rules) {
        for (const instance of managed) {
            if (!rule.terraformTypes.includes(instance.type)) continue;
            const identity = rule.stateIdentity(instance, index);
            if (identity === undefined) continue;
            const key = `${rule.pulumiType}\u0000${identity}`;
            live.set(key, [...(live.get(key) ?? []), instance]);
        }
    }

    const adoptions: Adoption[] = [];
    const outsideChanges = new Map<RecordedResource, readonly FieldChange[]>();
    const taken = new Set<TerraformInstance>();
    const created: AdoptionReport["created"][number][] = [];
    for (const resource of plan) {
        if (!resource.custom || resource.type.startsWith("pulumi:providers:")) continue;
        const rule = rulesByType.get(resource.type);
        const identity = rule?.planIdentity(resource, context);
        const candidates = rule && identity !== undefined ? (live.get(`${rule.pulumiType}\u0000${identity}`) ?? []).filter((i) => !taken.has(i)) : [];
        // One object declared by several roots (one instance per state) is adopted once and let go by all;
        // two instances of one identity in a single state are ambiguous.
        const states = new Set(candidates.map((c) => c.state));
        const sharedByRoots = candidates.length > 1 && states.size === candidates.length;
        if (rule && candidates.length > 1 && !sharedByRoots) {
            unexplained.push(`${ref(resource)}: ${candidates.length} Terraform instances share its identity ${identity} (${candidates.map((c) => c.address).join(", ")})`);
        }
        if (rule && candidates.length >= 1) {
            const instance = candidates[0];
            taken.add(instance);
            const alsoManagedBy = sharedByRoots ? candidates.slice(1) : [];
            for (const other of alsoManagedBy) taken.add(other);
            const id = rule.importId(instance, resource);
            adoptions.push({ resource, instance, id, ...(alsoManagedBy.length > 0 ? { alsoManagedBy } : {}) });
            adoptedIds.set(resource.urn, id);
            adoptedInstances.set(resource.urn, instance);
            continue;
        }
        const outside = stack.existingOutsideTerraform?.(resource, context);
        if (outside) {
            if (outside.changes) outsideChanges.set(resource, outside.changes);
            adoptions.push({ resource, id: outside.id });
            adoptedIds.set(resource.urn, outside.id);
            continue;
        }
        const reason = explain(stack.created, resource.type, resource.name);
        if (reason === undefined) unexplained.push(`created ${ref(resource)}: no Terraform counterpart and no reason given`);
        created.push({ type: resource.type, name: resource.name, reason: reason ?? "" });
    }

    const replaced: AdoptionReport["replaced"][number][] = [];
    const differences: AdoptionReport["differences"][number][] = [];
    for (const adoption of adoptions) {
        const changes = adoption.instance ? rulesByType.get(adoption.resource.type)?.compare?.(adoption.resource, adoption.instance, context) : outsideChanges.get(adoption.resource);
        for (const change of changes ?? []) {
            const { type, name } = adoption.resource;
            const reason = explain(stack.differences, type, name, change.field);
            if (reason === undefined) {
                unexplained.push(`${change.replaces ? "replaced" : "difference"} ${type}::${name} ${change.field}: Terraform ${JSON.stringify(change.terraform)}, program ${JSON.stringify(change.program)}, no reason given`);
            }
            if (change.replaces) replaced.push({ type, name, field: change.field, reason: reason ?? "" });
            else {
                differences.push({
                    type,
                    name,
                    field: change.field,
                    // Absent is null in the report (JSON drops undefined, and a reader needs the key).
                    terraform: change.terraform ?? null,
                    program: change.program ?? null,
                    reason: reason ?? "",
                    ...(change.effect ? { effect: change.effect } : {}),
                });
            }
        }
    }

    const leftInTerraform: AdoptionReport["leftInTerraform"][number][] = [];
    for (const instance of managed) {
        if (taken.has(instance)) continue;
        const explanation = explanationOf(stack.leftInTerraform, instance.type, instance.address);
        if (explanation === undefined) unexplained.push(`left in Terraform ${instance.state}:${instance.address}: the program has no counterpart and no reason is given`);
        leftInTerraform.push({ terraform: instance.address, state: instance.state, reason: explanation?.reason ?? "", handover: explanation?.handover ?? "keep" });
    }

    const byTypeName = <T extends { type: string; name: string }>(a: T, b: T) => compareText(a.type, b.type) || compareText(a.name, b.name);
    const sortedAdoptions = [...adoptions].sort((a, b) => byTypeName(a.resource, b.resource) || compareText(a.resource.urn, b.resource.urn));
    const report: AdoptionReport = {
        stack: stack.stack,
        states: states.map((state) => ({ label: state.label, lineage: state.lineage, serial: state.serial, instances: state.instances.length })),
        adopted: sortedAdoptions.map(({ resource, instance, id, alsoManagedBy }) => ({
            terraform: instance ? instance.address : null,
            ...(instance ? { state: instance.state } : {}),
            type: resource.type,
            name: resource.name,
            id,
            ...(instance ? {} : { reason: stack.existingOutsideTerraform?.(resource, context)?.reason }),
            ...(alsoManagedBy ? { alsoManagedBy: alsoManagedBy.map((other) => `${other.state}:${other.address}`) } : {}),
        })),
        created: created.sort(byTypeName),
        replaced: replaced.sort((a, b) => byTypeName(a, b) || compareText(a.field, b.field)),
        leftInTerraform: leftInTerraform.sort((a, b) => compareText(a.state, b.state) || compareText(a.terraform, b.terraform)),
        differences: differences.sort((a, b) => byTypeName(a, b) || compareText(a.field, b.field)),
        unexplained: [...unexplained].sort(),
    };
    return { report, adoptions: sortedAdoptions, managedInstances: managed };
}
