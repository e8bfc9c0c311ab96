/**
 * Routing: which queue a step lands on and how its device is executed, read from the catalog.
 * Pure functions; the generator calls them for every step, so they stay cheap.
 */
import type { Catalog, DeviceSpec, RoutableStep, RoutingMatch, RoutingRule } from "./types";

/** Name of the `devices` entry used for steps with no device or a device the catalog does not know. */
export const DEFAULT_DEVICE = "default";

function matches(match: RoutingMatch | undefined, step: RoutableStep): boolean {
    if (!match) return true;
    if (match.labelPrefix !== undefined && !step.label.startsWith(match.labelPrefix)) return false;
    if (match.labelContains !== undefined && !step.label.includes(match.labelContains)) return false;
    if (match.label !== undefined && step.label !== match.label) return false;
    if (match.device !== undefined && (step.device == null || !match.device.includes(step.device))) return false;
    if (match.numDevices !== undefined && (step.numDevices == null || !match.numDevices.includes(step.numDevices))) {
        return false;
    }
    return true;
}

/** The queue a rule sends to on this branch. */
export function ruleQueue(rule: RoutingRule, branch: string | null | undefined): string {
    if (typeof rule.queue === "string") return rule.queue;
    return branch === "main" ? rule.queue.main : rule.queue.other;
}

/** The first routing rule that applies to the step, or undefined when none does. */
export function findRoutingRule(catalog: Catalog, step: RoutableStep): RoutingRule | undefined {
    return catalog.routing.find((rule) => matches(rule.match, step));
}

/**
 * The Buildkite queue a step runs on. The catalog's last rule has no `match`, so every step
 * gets a queue; `lint` proves that.
 */
export function routeStep(catalog: Catalog, step: RoutableStep, branch: string | null | undefined): string {
    const rule = findRoutingRule(catalog, step);
    if (!rule) {
        throw new Error(`${catalog.file}: routing: no rule matches step "${step.label}" and there is no default rule`);
    }
    return ruleQueue(rule, branch);
}

/** Whether the catalog declares this device. */
export function isKnownDevice(catalog: Catalog, device: string | null | undefined): boolean {
    return device != null && device !== DEFAULT_DEVICE && Object.prototype.hasOwnProperty.call(catalog.devices, device);
}

/** How a device is executed; unknown devices and steps without one get the `default` entry. */
export function resolveDevice(catalog: Catalog, device: string | null | undefined): DeviceSpec {
    if (isKnownDevice(catalog, device)) return catalog.devices[device as string];
    return catalog.devices[DEFAULT_DEVICE];
}

/** AMD GPU devices and their GPU counts. */
export function amdDevices(catalog: Catalog): Map<string, number> {
    const result = new Map<string, number>();
    for (const [name, spec] of Object.entries(catalog.devices)) {
        if (spec.plugin === "amd" && spec.amdGpus !== undefined) result.set(name, spec.amdGpus);
    }
    return result;
}
