/**
 * Images (spec §4.7) and the plugin of a command step (§4.6). Which plugin and template a
 * device uses comes from the catalog; the template contents come from the settings.
 */
import type { DeviceSpec } from "../catalog/types";
import { GeneratorError, type Location } from "./errors";
import type { DockerTemplate, GeneratorSettings } from "./settings";

/** Image naming inputs, fixed for a build. */
export interface ImageContext {
    /** Registry prefix; throws (lazily) when the config lacks it. */
    registry: () => string;
    /** Repository for this branch; throws (lazily) when the config lacks it. */
    repository: () => string;
    torchNightly: boolean;
    settings: GeneratorSettings;
}

/** `<registry>/<repo>:$BUILDKITE_COMMIT`, plus `-torch-nightly` under TORCH_NIGHTLY (no device suffix). */
export function baseImage(context: ImageContext): string {
    const image = `${context.registry()}/${context.repository()}:$BUILDKITE_COMMIT`;
    return context.torchNightly ? image + context.settings.images.torchNightlySuffix : image;
}

/** The test image of a device: base image, device suffix, then the pull-through cache rewrite. */
export function deviceImage(context: ImageContext, device: DeviceSpec): string {
    let image = baseImage(context) + (device.imageSuffix ?? "");
    if (device.pullThroughCache) {
        const { from, to } = context.settings.images.pullThroughCache;
        image = image.split(from).join(to);
    }
    return image;
}

/** A deep copy of JSON-like template data (templates are shared between steps). */
export function cloneData<T>(value: T): T {
    if (Array.isArray(value)) return value.map(cloneData) as T;
    if (typeof value === "object" && value !== null) {
        const copy: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) copy[key] = cloneData(item);
        return copy as T;
    }
    return value;
}

const volumeCache = new WeakMap<DockerTemplate, string[]>();

/** `path:path` volume list of a template, built once and shared (the pipeline is read-only once built). */
function dockerVolumes(template: DockerTemplate): string[] {
    let volumes = volumeCache.get(template);
    if (!volumes) volumeCache.set(template, (volumes = template.volumes.map((volume) => `${volume}:${volume}`)));
    return volumes;
}

/** What plugin building needs of a step. */
export interface PluginStep {
    label: string;
    numDevices: number | null;
    mountBuildkiteAgent: boolean;
}

/**
 * The one-element `plugins` list of a non-AMD step, by the device's plugin kind:
 * a docker plugin (image, environment, volumes, `gpus: all` unless the catalog says otherwise)
 * or a Kubernetes pod spec (image and GPU limit filled in).
 */
export function buildPlugins(
    step: PluginStep,
    device: DeviceSpec,
    image: string,
    settings: GeneratorSettings,
    location: Location,
): unknown[] {
    if (device.plugin === "kubernetes") {
        const template = settings.kubernetes.templates[device.template ?? ""];
        if (!template) {
            throw new GeneratorError(location, `no Kubernetes template "${device.template}" in the generator settings`);
        }
        // Copy only the path that differs per step (container image and GPU limit); the rest of
        // the template is shared, read-only.
        const containers = template.containers as Array<Record<string, unknown>> | undefined;
        if (!containers?.[0]) {
            throw new GeneratorError(location, `Kubernetes template "${device.template}" has no container`);
        }
        const resources = (containers[0].resources ?? {}) as Record<string, unknown>;
        const container = {
            ...containers[0],
            image,
            resources: { ...resources, limits: { ...((resources.limits as object) ?? {}), [settings.kubernetes.gpuResource]: step.numDevices || 1 } },
        };
        const podSpec = { ...template, containers: [container, ...containers.slice(1)] };
        return [{ kubernetes: { podSpec } }];
    }
    const template = settings.docker.templates[device.template ?? "default"];
    if (!template) {
        throw new GeneratorError(location, `no docker template "${device.template}" in the generator settings`);
    }
    const plugin: Record<string, unknown> = {
        image,
        "always-pull": true,
        "propagate-environment": true,
    };
    if (device.gpus !== false) plugin.gpus = "all";
    plugin.environment = template.environment;
    plugin.volumes = dockerVolumes(template);
    if (step.label === settings.benchmarksLabel || step.mountBuildkiteAgent) plugin.mount_buildkite_agent = true;
    return [{ [settings.docker.plugin]: plugin }];
}
