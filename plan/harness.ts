/**
 * Runs the Pulumi program in process under `pulumi.runtime.setMocks` and records every resource
 * it registers: type, name, parent, provider and inputs (secrets masked). The offline plan and the
 * infrastructure tests both stand on this.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { urnToRef } from "../lib/urn";
import { mockCall, mockOutputs } from "./mocks";

/** What the plan shows in place of a secret value. */
export const SECRET_MASK = "[secret]";
/** What the plan shows for a value only known after deployment. */
export const UNKNOWN_MASK = "[unknown]";

/** One registered resource. */
export interface RecordedResource {
    /** Resource type token, e.g. `aws:cloudformation/stack:Stack`. */
    type: string;
    /** Logical name. */
    name: string;
    /** `type::name` of the parent resource; absent for the stack itself. */
    parent?: string;
    /** `type::name` of the explicit or default provider; absent for components and providers. */
    provider?: string;
    /** Whether a cloud provider manages it (false for component resources). */
    custom: boolean;
    /** Inputs as sent to the engine, secrets replaced by `[secret]`. */
    inputs: Record<string, unknown>;
    /** Inputs with secret values in the clear, for assertions about where secrets go. */
    rawInputs: Record<string, unknown>;
    /** The resource's URN. */
    urn: string;
    /** Input property → URNs of the resources its value came from (what links a policy to its role). */
    propertyDependencies: Record<string, string[]>;
    /** URNs of the resources it waits for (`dependsOn`, besides those its inputs come from). */
    dependsOn?: string[];
    /** The `ignoreChanges` option: inputs the engine never updates once the resource exists. */
    ignoreChanges?: string[];
    /** The `protect` and `retainOnDelete` options, when set. */
    protect?: boolean;
    retainOnDelete?: boolean;
}

/** The id a mocked custom resource `name` gets: what references to it hold in the plan. */
export function mockResourceId(name: string): string {
    return `${name}-id`;
}

/** The result of one program run. */
export interface ProgramRun {
    resources: RecordedResource[];
    /** Stack outputs, resolved. */
    outputs: Record<string, unknown>;
}

// Signatures of Pulumi's wire format for special values (see @pulumi/pulumi/runtime/rpc).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270";
const SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const SIG_ASSET = "c44067f5952c0a294b673a41bacd8c17";
const SIG_ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Turns the wire form of inputs into plain values; `maskSecrets` hides secret values. */
export function decodeWireValue(value: unknown, maskSecrets: boolean): unknown {
    if (value === UNKNOWN) return UNKNOWN_MASK;
    if (Array.isArray(value)) return value.map((item) => decodeWireValue(item, maskSecrets));
    if (value === null || typeof value !== "object") return value;
    const object = value as Record<string, unknown>;
    switch (object[SIG_KEY]) {
        case SIG_SECRET:
            return maskSecrets ? SECRET_MASK : decodeWireValue(object.value, maskSecrets);
        case SIG_OUTPUT:
            if (object.secret && maskSecrets) return SECRET_MASK;
            return "value" in object ? decodeWireValue(object.value, maskSecrets) : UNKNOWN_MASK;
        case SIG_RESOURCE:
            return `ref:${String(object.urn)}`;
        case SIG_ASSET:
        case SIG_ARCHIVE:
            return { asset: object.path ?? object.uri ?? (typeof object.text === "string" ? `text(${object.text.length} chars)` : "assets") };
        default: {
            const result: Record<string, unknown> = {};
            for (const key of Object.keys(object)) result[key] = decodeWireValue(object[key], maskSecrets);
            return result;
        }
    }
}

export { urnToRef };

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getCustom(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getIgnorechangesList(): string[];
    getDependenciesList(): string[];
    getProtect(): boolean;
    getRetainondelete?(): boolean;
}
interface RegisterResponse {
    getUrn(): string;
}

let activeRecorder: RecordedResource[] | undefined;
let monitorPatched = false;

/** Wraps MockMonitor once so that each registration is recorded with its parent and provider. */
function patchMockMonitor(): void {
    if (monitorPatched) return;
    monitorPatched = true;
    const prototype = MockMonitor.prototype as unknown as {
        registerResource(req: RegisterRequest, callback: (err: unknown, res?: RegisterResponse) => void): Promise<void>;
    };
    const original = prototype.registerResource;
    prototype.registerResource = function (req, callback) {
        const recorder = activeRecorder;
        const wire = req.getObject()?.toJavaScript() ?? {};
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((value, key) => {
            const urns = value.getUrnsList();
            if (urns.length > 0) propertyDependencies[key] = [...urns].sort();
        });
        return original.call(this, req, (err, res) => {
            if (!err && res && recorder) {
                const provider = req.getProvider();
                recorder.push({
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() ? urnToRef(req.getParent()) : undefined,
                    provider: provider ? urnToRef(provider.split("::").slice(0, -1).join("::")) : undefined,
                    custom: req.getCustom(),
                    inputs: decodeWireValue(wire, true) as Record<string, unknown>,
                    rawInputs: decodeWireValue(wire, false) as Record<string, unknown>,
                    urn: res.getUrn(),
                    propertyDependencies,
                    ...(req.getIgnorechangesList().length > 0 ? { ignoreChanges: [...req.getIgnorechangesList()] } : {}),
                    ...(req.getDependenciesList().length > 0 ? { dependsOn: [...req.getDependenciesList()].sort() } : {}),
                    ...(req.getProtect() ? { protect: true } : {}),
                    ...(req.getRetainondelete?.() ? { retainOnDelete: true } : {}),
                });
            }
            callback(err, res);
        });
    };
}

/** Options of one run. */
export interface RunOptions {
    /** Pulumi project name (namespace of un-prefixed config). */
    project: string;
    /** Stack name. */
    stack: string;
    /** Full config map, keys `namespace:key`. */
    config: Record<string, string>;
    /** Config keys whose values are secret. */
    secretKeys?: string[];
}

/** Stable order: by URN, which spells the parent chain, the type and the name. */
function byUrn(a: RecordedResource, b: RecordedResource): number {
    return a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0;
}

/**
 * Runs `program` as the stack would, with mocked resources, and returns what it registered.
 * Runs must not overlap: Pulumi's runtime state is global to the process.
 */
export async function runWithMocks(options: RunOptions, program: () => Record<string, unknown> | Promise<Record<string, unknown>>): Promise<ProgramRun> {
    patchMockMonitor();
    const recorded: RecordedResource[] = [];
    activeRecorder = recorded;
    try {
        pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({
                    id: args.custom === false ? undefined : mockResourceId(args.name),
                    state: { ...args.inputs, ...mockOutputs(args.type, args.name, args.inputs) },
                }),
                call: (args) => mockCall(args.token, args.inputs),
            },
            options.project,
            options.stack,
            false,
        );
        // A program error is caught here and rethrown after the run: left to Pulumi's stack resource,
        // it also rejects a promise nobody awaits, and Node exits with that error's stack trace.
        let programError: { error: unknown } | undefined;
        const outputs = await pulumi.runtime.runInPulumiStack(async () => {
            try {
                return await program();
            } catch (error) {
                programError = { error };
                return {};
            }
        });
        await pulumi.runtime.disconnect();
        if (programError) throw programError.error;
        return { resources: recorded.sort(byUrn), outputs: (outputs ?? {}) as Record<string, unknown> };
    } finally {
        activeRecorder = undefined;
    }
}

/** The resources of one type. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((resource) => resource.type === type);
}

/** The one resource of that type and name; throws when absent. */
export function resource(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have: ${ofType(run, type).map((r) => r.name).join(", ") || "none of that type"}`);
    return found;
}
