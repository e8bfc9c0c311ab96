/** The pack's rules as they apply to one stack, with what its own config names. Pure: the tests call it. */
import { trustedArtifactArns } from "../aws/iam-policies";
import { readAwsSettings } from "../aws/settings";
import { loadStackConfig, PROJECT_ROOT } from "../plan/stack-config";
import { FLEET_RULES } from "./rules";
import { premergeNoReleaseWrite, premergeNoReleaseWriteRule } from "./rules/premerge-no-release-write";
import { gkeNoDefaultServiceAccount, gkeNoDefaultServiceAccountRule } from "./rules/gke-no-default-service-account";
import { loadCatalog } from "../catalog";
import { planGcpFleet } from "../gcp/layout";
import { readGcpSettings } from "../gcp/settings";
import * as path from "path";
import { DEFAULT_EXCEPTIONS, s3PublicAccessBlocked, s3PublicAccessBlockedRule } from "./rules/s3-public-access-blocked";
import { BUCKET_ACCESS } from "../aws/settings";
import type { FleetRule } from "./subject";

/** The stack a URN belongs to (`urn:pulumi:<stack>::<project>::...`). */
export function stackOfUrn(urn: string): string {
    return urn.split("::")[0].split(":")[2] ?? "";
}

/**
 * The rules for one stack: the trust boundary guards the artifact names the stack's own config
 * gives (`Pulumi.<stack>.yaml`), not only vLLM's defaults, and only the buckets that config keeps
 * `live` may lack a public access block.
 */
export function rulesForStack(stack: string, root = PROJECT_ROOT): FleetRule[] {
    const stackConfig = loadStackConfig(stack, root);
    if (stackConfig.config["ci:cloud"] === "gcp") return FLEET_RULES.map((rule) => (rule === gkeNoDefaultServiceAccount ? gkeNoDefaultServiceAccountRule(keptDefaultAccountPools(stackConfig.config, stack, root)) : rule));
    if (stackConfig.config["ci:cloud"] !== "aws") return FLEET_RULES;
    const settings = readAwsSettings((key) => stackConfig.config[`ci:${key}`], `Pulumi.${stack}.yaml`);
    const guard = premergeNoReleaseWriteRule(undefined, trustedArtifactArns(settings));
    const buckets = s3PublicAccessBlockedRule({
        ...DEFAULT_EXCEPTIONS,
        liveAccess: Object.entries(settings.bucketAccess)
            .filter(([, access]) => access === BUCKET_ACCESS.live)
            .map(([bucket]) => bucket),
    });
    return FLEET_RULES.map((rule) => (rule === premergeNoReleaseWrite ? guard : rule === s3PublicAccessBlocked ? buckets : rule));
}

/**
 * The GKE pools of a gcp stack that keep the default compute account on purpose (pool name
 * → the catalog's reason): adopted pools, which GKE would replace to change it. Empty when the
 * stack cannot be laid out (the program then fails on its own).
 */
export function keptDefaultAccountPools(config: Record<string, string>, stack: string, root = PROJECT_ROOT): Map<string, string> {
    const kept = new Map<string, string>();
    try {
        const catalog = loadCatalog(path.resolve(root, config["ci:catalogPath"] ?? "catalog/queues.yaml"));
        const settings = readGcpSettings((key) => config[`ci:${key}`], `Pulumi.${stack}.yaml`);
        for (const cluster of planGcpFleet(catalog, settings, `Pulumi.${stack}.yaml`).layout.gkeClusters) {
            if (!cluster.defaultNodeServiceAccount) continue;
            for (const pool of cluster.pools) kept.set(pool.name, cluster.defaultNodeServiceAccount);
        }
    } catch {
        return kept;
    }
    return kept;
}
