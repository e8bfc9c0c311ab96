/**
 * The trust boundary: queues that run untrusted pull-request code (catalog stage `premerge`) get
 * no write access to postmerge or release artifacts (images, wheels, caches), and no write
 * action anywhere on `*`.
 */
import { loadCatalog, type Catalog } from "../../catalog";
import { trustedArtifactArns } from "../../aws/iam-policies";
import { AWS_DEFAULTS } from "../../aws/settings";
import { iamGlobMatches } from "../../lib/iam-glob";
import { isElasticCiStack } from "./elastic-stack-token-from-ssm";
import { isUnknown, ofTypes, violation, type FleetRule, type Subject, type Violation } from "../subject";

/**
 * ARNs of postmerge and release artifacts under the default names. The pack guards the names the
 * stack's own config gives (`policy/index.ts`), through the same function.
 */
export const PROTECTED_ARNS = trustedArtifactArns({
    imageRepositories: { ci: AWS_DEFAULTS.ciImageRepository, postmerge: AWS_DEFAULTS.postmergeImageRepository, release: [...AWS_DEFAULTS.releaseImageRepositories] },
    buildCacheRepositories: { pullRequest: AWS_DEFAULTS.prCacheRepository, postmerge: AWS_DEFAULTS.postmergeCacheRepository },
    buckets: { wheels: AWS_DEFAULTS.wheelsBucket, devWheels: AWS_DEFAULTS.devWheelsBucket, compilerCache: AWS_DEFAULTS.compilerCacheBucket },
});

/** ECR access levels of the Elastic CI Stack that only read. */
const READ_ONLY_ECR_ACCESS = new Set(["none", "readonly"]);

const READ_VERB = /^(Get|List|Describe|BatchGet|BatchCheck|Head|Lookup|Search|Validate)/;

/** Whether an IAM action can change something (wildcards included). */
export function isWriteAction(action: string): boolean {
    if (action === "*") return true;
    const verb = action.split(":")[1] ?? "";
    if (verb === "" || verb.includes("*")) {
        // `s3:Get*` only reads; `s3:*`, `s3:Put*` or `ecr:*Layer*` may write.
        const prefix = verb.split("*")[0];
        return prefix === "" || !READ_VERB.test(prefix);
    }
    return !READ_VERB.test(verb) && verb !== "GetAuthorizationToken";
}

/** Whether a policy resource ARN (itself possibly a glob) can reach a protected ARN. */
export function reachesProtected(resourceArn: string, protectedArns: string[] = PROTECTED_ARNS): boolean {
    if (resourceArn === "*") return true;
    return protectedArns.some((glob) => iamGlobMatches(glob, resourceArn) || iamGlobMatches(resourceArn, glob));
}

interface Statement {
    Effect?: string;
    Action?: string | string[];
    Resource?: string | string[];
}

function statementsOf(policy: unknown): Statement[] {
    let document: any = policy;
    if (typeof policy === "string") {
        try {
            document = JSON.parse(policy);
        } catch {
            return [];
        }
    }
    const statements = document?.Statement;
    return Array.isArray(statements) ? statements : statements ? [statements] : [];
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Write grants in a policy document that reach protected artifacts or `*`. */
export function forbiddenGrants(policy: unknown, protectedArns: string[] = PROTECTED_ARNS): string[] {
    const grants: string[] = [];
    for (const statement of statementsOf(policy)) {
        if (statement.Effect !== "Allow") continue;
        const writes = asList(statement.Action).filter(isWriteAction);
        if (writes.length === 0) continue;
        for (const arn of asList(statement.Resource).filter((r) => reachesProtected(r, protectedArns))) {
            grants.push(`${writes.join(", ")} on ${arn}`);
        }
    }
    return grants;
}

/** The Buildkite queue whose instance role a policy's `role` input names. */
function queueOfRole(holder: Subject, stacks: Subject[]): string | undefined {
    const sources = holder.propertyDependencies.role ?? [];
    const stack = stacks.find(
        (s) => sources.includes(s.ref) || (!isUnknown(holder.props.role) && s.props.outputs?.InstanceRoleName === holder.props.role),
    );
    return stack?.props.parameters?.BuildkiteQueue;
}

let fleetCatalog: Catalog | undefined;

export function premergeQueues(catalog: Catalog): Set<string> {
    return new Set(catalog.queues.filter((q) => q.stage === "premerge").map((q) => q.name));
}

/** Builds the rule over a catalog (the fleet's by default, loaded on first use). */
export function premergeNoReleaseWriteRule(catalogOverride?: Catalog, protectedArns: string[] = PROTECTED_ARNS): FleetRule {
    return {
        name: "premerge-no-release-write",
        description: "Queues running pull-request code get no write access to postmerge or release artifacts, nor any write on *.",
        check(subjects: Subject[]): Violation[] {
            const catalog = catalogOverride ?? (fleetCatalog ??= loadCatalog());
            const premerge = premergeQueues(catalog);
            const stacks = ofTypes(subjects, "aws:cloudformation/stack:Stack").filter(isElasticCiStack);
            const violations: Violation[] = [];
            for (const stack of stacks) {
                const queue = stack.props.parameters?.BuildkiteQueue;
                const access = stack.props.parameters?.ECRAccessPolicy;
                if (premerge.has(queue) && access !== undefined && !READ_ONLY_ECR_ACCESS.has(access)) {
                    violations.push(violation(this, stack, `premerge queue ${queue} has ECRAccessPolicy ${access}; it may only read`));
                }
            }
            const managedPolicies = ofTypes(subjects, "aws:iam/policy:Policy");
            const holders = [
                ...ofTypes(subjects, "aws:iam/rolePolicy:RolePolicy").map((p) => ({ holder: p, document: p.props.policy })),
                ...ofTypes(subjects, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").flatMap((attachment) =>
                    managedPolicies
                        .filter((p) => (attachment.propertyDependencies.policyArn ?? []).includes(p.ref) || p.props.arn === attachment.props.policyArn)
                        .map((p) => ({ holder: attachment, document: p.props.policy })),
                ),
            ];
            for (const { holder, document } of holders) {
                const queue = queueOfRole(holder, stacks);
                if (queue === undefined || !premerge.has(queue)) continue;
                for (const grant of forbiddenGrants(document, protectedArns)) {
                    violations.push(violation(this, holder, `premerge queue ${queue} is granted ${grant}`));
                }
            }
            return violations;
        },
    };
}

export const premergeNoReleaseWrite: FleetRule = premergeNoReleaseWriteRule();
