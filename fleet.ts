/**
 * The whole program, callable: reads the stack's config, loads the catalog and builds the stack's
 * cloud. `index.ts` calls it for `pulumi up`; the offline plan and the tests call it under mocks.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { CatalogError, loadCatalog, type Catalog } from "./catalog";
import { didYouMean } from "./lib/suggest";
import { buildAwsFleet } from "./aws";
import { buildGcpFleet } from "./gcp";

/** The config namespace of this project (`ci:cloud`, ...). */
export const CONFIG_NAMESPACE = "ci";
export const CLOUDS = ["aws", "gcp"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** The config keys `Pulumi.yaml` declares, with their declarations. */
export function declaredConfig(projectFile = path.join(__dirname, "Pulumi.yaml")): Record<string, { type?: string; secret?: boolean; default?: unknown }> {
    const project = yaml.load(fs.readFileSync(projectFile, "utf8")) as { config?: Record<string, object> };
    return (project.config ?? {}) as Record<string, { type?: string; secret?: boolean; default?: unknown }>;
}

/**
 * Stack config keys in our namespace that `Pulumi.yaml` does not declare: almost always a typo,
 * which would otherwise silently fall back to a default.
 */
export function unknownConfigKeys(stackConfig: Record<string, string>, declared: Iterable<string>): string[] {
    const known = new Set(declared);
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.keys(stackConfig)
        .filter((key) => key.startsWith(prefix) && !known.has(key.slice(prefix.length)))
        .sort()
        .map((key) => `${key}${didYouMean(key.slice(prefix.length), known)}`);
}

/** Outputs of a stack. */
export type FleetOutputs = Record<string, pulumi.Input<unknown>>;

export function defineFleet(): FleetOutputs {
    const unknown = unknownConfigKeys(pulumi.runtime.allConfig(), Object.keys(declaredConfig()));
    if (unknown.length > 0) {
        throw new pulumi.RunError(`Pulumi.${pulumi.getStack()}.yaml: unknown config key ${unknown.join(", ")}`);
    }
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const cloud = config.require("cloud");
    if (!(CLOUDS as readonly string[]).includes(cloud)) {
        throw new pulumi.RunError(`Pulumi.${pulumi.getStack()}.yaml: config ci:cloud: must be one of ${CLOUDS.join(", ")}, not "${cloud}"`);
    }
    let catalog: Catalog;
    try {
        catalog = loadCatalog(path.resolve(__dirname, config.get("catalogPath") ?? "catalog/queues.yaml"));
    } catch (error) {
        if (error instanceof CatalogError) throw new pulumi.RunError(error.message);
        throw error;
    }
    return cloud === "aws" ? buildAwsFleet(catalog) : buildGcpFleet(catalog);
}
