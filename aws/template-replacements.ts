/**
 * Which Elastic CI Stack parameters replace a queue's autoscaling group when they change, read
 * from the template itself.
 *
 * `AgentAutoScaleGroup` has the update policy `AutoScalingReplacingUpdate: WillReplace`: when its
 * launch template (any property: each change is a new version the group points at), its mixed
 * instances policy or its subnets change, CloudFormation creates a new group and deletes the old
 * one, cancelling the jobs running on it. A parameter "reaches" the group when a `Ref`, `Sub` or
 * condition leads from those properties to it, directly or through a resource whose identity
 * (name, id, outputs) it changes. The answer is conservative: a parameter that only feeds a
 * condition is counted, though flipping that condition may not be what a given change does.
 */

type Template = Record<string, unknown>;
type Node = unknown;

/** Properties of `AWS::AutoScaling::AutoScalingGroup` whose change `AutoScalingReplacingUpdate` answers with a new group. */
const REPLACING_GROUP_PROPERTIES = ["LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy", "PlacementGroup", "VPCZoneIdentifier"] as const;

/**
 * Properties whose change gives a resource a new identity (a replacement, or new outputs), per
 * type; a type not listed counts every property (conservative). Launch templates: every property
 * makes a new version, which is what the group references.
 */
const IDENTITY_PROPERTIES: Record<string, readonly string[] | "all"> = {
    "AWS::EC2::LaunchTemplate": "all",
    "AWS::CloudFormation::Stack": "all",
    "AWS::IAM::Role": ["RoleName", "Path"],
    "AWS::IAM::InstanceProfile": ["InstanceProfileName", "Path"],
    "AWS::IAM::ManagedPolicy": ["ManagedPolicyName", "Path"],
    "AWS::EC2::SecurityGroup": ["GroupName", "GroupDescription", "VpcId"],
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::SSM::Parameter": ["Name"],
    "AWS::Lambda::Function": ["FunctionName"],
    "AWS::Logs::LogGroup": ["LogGroupName"],
    "AWS::SecretsManager::Secret": ["Name"],
    "AWS::KMS::Key": [],
};

/** The logical id of the agents' group in every Elastic CI Stack release. */
export const AGENT_AUTO_SCALE_GROUP = "AgentAutoScaleGroup";

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `${Name}` and `${Name.Attribute}` references of a `Fn::Sub` string (`${!Literal}` is text). */
function subReferences(text: string): string[] {
    return [...text.matchAll(/\$\{([^!}][^}]*)\}/g)].map((match) => match[1].trim());
}

/**
 * Every parameter that replaces the template's agent autoscaling group when it changes, with the
 * first place where it reaches the group (`AgentAutoScaleGroup.MixedInstancesPolicy`,
 * `AgentLaunchTemplate`...). Sorted by parameter name.
 */
export function autoScalingGroupReplacingParameters(template: Template): Record<string, string> {
    const parameters = new Set(Object.keys(isObject(template.Parameters) ? template.Parameters : {}));
    const conditions = isObject(template.Conditions) ? template.Conditions : {};
    const resources = (isObject(template.Resources) ? template.Resources : {}) as Record<string, Record<string, unknown>>;
    const group = resources[AGENT_AUTO_SCALE_GROUP];
    if (!group) throw new Error(`the template has no ${AGENT_AUTO_SCALE_GROUP}`);

    const conditionMemo = new Map<string, Set<string>>();
    const resourceMemo = new Map<string, Map<string, string>>();

    /** Parameters a condition depends on. */
    const conditionDeps = (name: string): Set<string> => {
        const memo = conditionMemo.get(name);
        if (memo) return memo;
        const found = new Set<string>();
        conditionMemo.set(name, found);
        for (const parameter of walk(conditions[name], new Set()).keys()) found.add(parameter);
        return found;
    };

    /** Parameters that change a resource's identity, each with where it enters the resource. */
    const resourceDeps = (name: string): Map<string, string> => {
        const memo = resourceMemo.get(name);
        if (memo) return memo;
        const found = new Map<string, string>();
        resourceMemo.set(name, found);
        const resource = resources[name];
        if (!resource) return found;
        const add = (deps: Map<string, string>) => {
            for (const [parameter, via] of deps) if (!found.has(parameter)) found.set(parameter, via);
        };
        if (typeof resource.Condition === "string") add(new Map([...conditionDeps(resource.Condition)].map((p) => [p, `${name} (condition ${resource.Condition})`])));
        const properties = isObject(resource.Properties) ? resource.Properties : {};
        const identity = IDENTITY_PROPERTIES[String(resource.Type)] ?? "all";
        const keys = identity === "all" ? Object.keys(properties).sort() : identity.filter((key) => key in properties);
        for (const key of keys) add(walk(properties[key], new Set(), `${name}.${key}`));
        return found;
    };

    /** Parameters a value depends on, each with the path it was found through. */
    function walk(node: Node, locals: Set<string>, via = ""): Map<string, string> {
        const found = new Map<string, string>();
        const add = (parameter: string, path: string) => {
            if (!found.has(parameter)) found.set(parameter, path);
        };
        const addAll = (deps: Map<string, string> | Set<string>, path?: string) => {
            for (const entry of deps) {
                if (typeof entry === "string") add(entry, path ?? via);
                else add(entry[0], path ? `${path} → ${entry[1]}` : entry[1]);
            }
        };
        const reference = (name: string) => {
            const [target] = name.split(".");
            if (locals.has(target) || target.startsWith("AWS::")) return;
            if (parameters.has(target)) add(target, via);
            else if (resources[target]) addAll(resourceDeps(target), via);
        };
        if (Array.isArray(node)) {
            for (const item of node) addAll(walk(item, locals, via));
        } else if (isObject(node)) {
            const keys = Object.keys(node);
            if (keys.length === 1 && keys[0] === "Ref" && typeof node.Ref === "string") reference(node.Ref);
            else if (keys.length === 1 && keys[0] === "Fn::GetAtt") {
                const target = Array.isArray(node["Fn::GetAtt"]) ? String(node["Fn::GetAtt"][0]) : String(node["Fn::GetAtt"]).split(".")[0];
                reference(target);
            } else if (keys.length === 1 && keys[0] === "Fn::Sub") {
                const argument = node["Fn::Sub"];
                const [text, variables] = Array.isArray(argument) ? [String(argument[0]), argument[1]] : [String(argument), undefined];
                const inner = new Set(locals);
                if (isObject(variables)) {
                    for (const [name, value] of Object.entries(variables)) {
                        inner.add(name);
                        addAll(walk(value, locals, via));
                    }
                }
                for (const name of subReferences(text)) {
                    const [target] = name.split(".");
                    if (!inner.has(target)) reference(name);
                }
            } else if (keys.length === 1 && keys[0] === "Fn::If" && Array.isArray(node["Fn::If"])) {
                const [condition, ...branches] = node["Fn::If"];
                addAll(conditionDeps(String(condition)), `${via} (condition ${String(condition)})`);
                for (const branch of branches) addAll(walk(branch, locals, via));
            } else if (keys.length === 1 && keys[0] === "Condition" && typeof node.Condition === "string") {
                addAll(conditionDeps(node.Condition), `${via} (condition ${node.Condition})`);
            } else {
                for (const key of keys) addAll(walk(node[key], locals, via));
            }
        }
        return found;
    }

    const reached = new Map<string, string>();
    const properties = isObject(group.Properties) ? group.Properties : {};
    for (const property of REPLACING_GROUP_PROPERTIES) {
        if (!(property in properties)) continue;
        for (const [parameter, via] of walk(properties[property], new Set(), `${AGENT_AUTO_SCALE_GROUP}.${property}`)) {
            if (!reached.has(parameter)) reached.set(parameter, via);
        }
    }
    return Object.fromEntries([...reached].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
