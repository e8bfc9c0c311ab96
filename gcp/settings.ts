/**
 * The GCP stack's settings, read from config namespace `ci` by a pure function so that every rule
 * (and every error message) is unit-tested without Pulumi. The agent stack's settings (external
 * clusters, chart, job tokens) are `k8s/settings.ts`: they are not GCP's.
 *
 * Nothing here is secret. Every problem is collected; `SettingsError` lists them all.
 */
import { collectingReader, type ConfigReader } from "../lib/config-reader";
import { ProblemsError } from "../lib/problems";

/** Config keys of the GCP stack (without the `ci:` namespace). */
export const GCP_CONFIG_KEYS = {
    gcpProject: "gcpProject",
    gcpRegions: "gcpRegions",
    gkeNetwork: "gkeNetwork",
    usageStatsProject: "usageStatsProject",
} as const;

/** Everything the GCP stack reads from its config. */
export interface GcpSettings {
    /**
     * Project of the GKE clusters, CPU builders and registry, unless the catalog names another
     * (TPU groups, fixed VMs and organizations' secrets always name theirs).
     */
    readonly project: string;
    /** Regions the stack may create resources in (a guard against a zone typo landing elsewhere). */
    readonly regions: readonly string[];
    /** VPC network of the projects the catalog gives none (`gcpProjects.<p>.network`). */
    readonly network: string;
    /** Project of the usage-stats endpoint and its bucket (default: `project`). */
    readonly usageStatsProject?: string;
}

/** Settings that cannot be used: one line per problem, naming the stack file and the key. */
export class SettingsError extends ProblemsError {
    constructor(problems: readonly string[] | string) {
        super(typeof problems === "string" ? [problems] : problems, "SettingsError");
    }
}

export type { ConfigReader };

const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const GCP_REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The settings of the GCP stack; throws SettingsError naming `stackFile` and each key. */
export function readGcpSettings(get: ConfigReader, stackFile: string): GcpSettings {
    const problems: string[] = [];
    const { where, text, matching } = collectingReader(get, stackFile, problems);
    const K = GCP_CONFIG_KEYS;
    const project = matching(K.gcpProject, GCP_PROJECT_ID, "a GCP project id");
    const settings: GcpSettings = {
        project,
        regions: readRegions(text(K.gcpRegions), where(K.gcpRegions), problems),
        network: matching(K.gkeNetwork, DNS_LABEL, "a VPC network name", "default"),
        usageStatsProject: get(K.usageStatsProject) === undefined ? project : matching(K.usageStatsProject, GCP_PROJECT_ID, "a GCP project id"),
    };
    if (problems.length > 0) throw new SettingsError(problems);
    return settings;
}

function readRegions(raw: string, where: string, problems: string[]): string[] {
    if (raw === "") return [];
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        problems.push(`${where}: not valid JSON`);
        return [];
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((r) => typeof r === "string")) {
        problems.push(`${where}: must be a non-empty list of region names`);
        return [];
    }
    const regions = parsed as string[];
    for (const region of regions) if (!GCP_REGION.test(region)) problems.push(`${where}: "${region}" is not a GCP region (like us-central1)`);
    const duplicate = regions.find((region, index) => regions.indexOf(region) !== index);
    if (duplicate) problems.push(`${where}: "${duplicate}" is listed twice`);
    return regions;
}

/** The region of a zone (`us-east5-b` → `us-east5`). */
export function regionOfZone(zone: string): string {
    return zone.replace(/-[a-z]$/, "");
}
