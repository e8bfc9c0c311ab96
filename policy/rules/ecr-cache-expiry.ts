/** Every ECR build-cache repository expires its images, so caches cannot grow without bound. */
import { ofTypes, pointsAt, violation, type FleetRule, type Subject, type Violation } from "../subject";

const REPOSITORY = "aws:ecr/repository:Repository";
const LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";

/** Whether a lifecycle policy document has a rule that expires images. */
export function expiresImages(policy: unknown): boolean {
    let document: any = policy;
    if (typeof policy === "string") {
        try {
            document = JSON.parse(policy);
        } catch {
            return false;
        }
    }
    const rules: any[] = Array.isArray(document?.rules) ? document.rules : [];
    return rules.some(
        (rule) =>
            rule?.action?.type === "expire" &&
            ((rule?.selection?.countType === "sinceImagePushed" && Number(rule.selection.countNumber) > 0) ||
                (rule?.selection?.countType === "imageCountMoreThan" && Number(rule.selection.countNumber) > 0)),
    );
}

export const ecrCacheExpiry: FleetRule = {
    name: "ecr-cache-expiry",
    description: "Every ECR cache repository has a lifecycle policy that expires images.",
    check(subjects: Subject[]): Violation[] {
        const lifecycles = ofTypes(subjects, LIFECYCLE);
        return ofTypes(subjects, REPOSITORY)
            .filter((repository) => /cache/i.test(String(repository.props.name ?? repository.name)))
            .filter((repository) => {
                const policies = lifecycles.filter((l) => pointsAt(l, "repository", repository, [repository.props.name]));
                return !policies.some((l) => expiresImages(l.props.policy));
            })
            .map((repository) => violation(this, repository, "cache repository has no lifecycle policy that expires images"));
    },
};
