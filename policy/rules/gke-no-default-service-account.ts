/**
 * GKE nodes never run as the default compute service account, which has broad project-wide
 * rights: a job escaping its pod would inherit them.
 */
import { isUnknown, ofTypes, violation, type FleetRule, type Subject, type Violation } from "../subject";

const NODE_POOL = "gcp:container/nodePool:NodePool";
const CLUSTER = "gcp:container/cluster:Cluster";
const SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account";

export function isDefaultComputeAccount(email: string): boolean {
    return email === "default" || /-compute@developer\.gserviceaccount\.com$/.test(email);
}

function checkNodeConfig(rule: FleetRule, subject: Subject, subjects: Subject[], where: string): Violation[] {
    const email = subject.props.nodeConfig?.serviceAccount;
    if (isUnknown(email)) {
        // Known only after deployment: fine when it comes from a service account of ours.
        const sources = subject.propertyDependencies.nodeConfig ?? [];
        const fromOurAccount = sources.some((ref) => subjects.some((s) => s.ref === ref && s.type === SERVICE_ACCOUNT));
        return fromOurAccount ? [] : [violation(rule, subject, `${where} sets no service account, so nodes run as the default compute account`)];
    }
    return isDefaultComputeAccount(String(email)) ? [violation(rule, subject, `${where} uses the default compute service account (${String(email)})`)] : [];
}

/**
 * The rule, allowing the pools the catalog keeps on the default account on purpose (`exempt`:
 * pool name → the catalog's reason; GKE replaces a pool whose account changes).
 */
export function gkeNoDefaultServiceAccountRule(exempt: ReadonlyMap<string, string> = new Map()): FleetRule {
    return {
        name: "gke-no-default-service-account",
        description: "GKE node pools run as a dedicated service account, not the default compute account (unless the catalog keeps an adopted pool's, with a reason).",
        check(subjects: Subject[]): Violation[] {
            const violations: Violation[] = [];
            for (const pool of ofTypes(subjects, NODE_POOL)) {
                // Pool names are `<cluster>-...`: unique across the stack.
                if (exempt.has(String(pool.props.name))) continue;
                violations.push(...checkNodeConfig(this, pool, subjects, "node pool"));
            }
            for (const cluster of ofTypes(subjects, CLUSTER)) {
                // A cluster created without its default pool has no nodes of its own to check.
                if (cluster.props.nodeConfig !== undefined) violations.push(...checkNodeConfig(this, cluster, subjects, "cluster node config"));
            }
            return violations;
        },
    };
}

export const gkeNoDefaultServiceAccount: FleetRule = {
    name: "gke-no-default-service-account",
    description: "GKE node pools run as a dedicated service account, not the default compute account.",
    check(subjects: Subject[]): Violation[] {
        const violations: Violation[] = [];
        for (const pool of ofTypes(subjects, NODE_POOL)) violations.push(...checkNodeConfig(this, pool, subjects, "node pool"));
        for (const cluster of ofTypes(subjects, CLUSTER)) {
            // A cluster created without its default pool has no nodes of its own to check.
            if (cluster.props.nodeConfig !== undefined) violations.push(...checkNodeConfig(this, cluster, subjects, "cluster node config"));
        }
        return violations;
    },
};
