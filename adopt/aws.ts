/**
 * Adoption rules of the AWS stack (`aws-prod`) from the Terraform root `terraform/aws` of
 * vllm-project/ci-infra: one `AdoptionRule` per Pulumi type the program declares that exists in
 * the live account, matched by physical identity (region + name, region + CIDR, bucket name),
 * imported with the ids the SDK's `## Import` sections document, and compared field by field
 * with what Terraform recorded, so the report lists every change the first `up` makes.
 *
 * Values the offline plan only knows as mocks (ids of other resources, outputs) are mapped to
 * their live values through the adopted resources before comparing, so `VpcId`, `Subnets` and the
 * security groups of rules compare as what they are on the live side.
 */
import type { RecordedResource } from "../plan/harness";
import { mockResourceId, SECRET_MASK } from "../plan/harness";
import { mockOutputs } from "../plan/mocks";
import { keptTemplateRules, replacementEffect } from "../aws/stack-template";
import type { AdoptionContext, AdoptionRule, Explanation, FieldChange, LiveIndex, StackAdoption } from "./engine";
import type { TerraformInstance } from "./terraform-state";

type Attributes = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** `cidrBlock` → `cidr_block`. */
export function snakeCase(key: string): string {
    return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The region in an ARN (`arn:aws:ec2:us-west-2:...`); undefined for global ARNs (S3, IAM). */
export function regionOfArn(value: unknown): string | undefined {
    if (typeof value !== "string" || !value.startsWith("arn:")) return undefined;
    const region = value.split(":")[3];
    return region ? region : undefined;
}

// ---- The plan side -------------------------------------------------------------------------------

/** The region a planned resource lives in: its own `region` input, else its explicit provider's. */
function planRegion(resource: RecordedResource, context: AdoptionContext): string | undefined {
    const own = resource.inputs.region;
    if (typeof own === "string") return own;
    const region = context.providerOf(resource)?.inputs.region;
    return typeof region === "string" ? region : undefined;
}

/** The planned resource an input of `resource` comes from (its property dependency). */
function planDependency(resource: RecordedResource, input: string, context: AdoptionContext): RecordedResource | undefined {
    const urn = resource.propertyDependencies[input]?.[0];
    return urn ? context.resource(urn) : undefined;
}

function planVpcCidr(resource: RecordedResource, context: AdoptionContext): string | undefined {
    const vpc = planDependency(resource, "vpcId", context);
    return typeof vpc?.inputs.cidrBlock === "string" ? vpc.inputs.cidrBlock : undefined;
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const join = (...parts: (string | undefined)[]): string | undefined => (parts.some((part) => part === undefined) ? undefined : parts.join("/"));

// ---- The live side ----------------------------------------------------------------------------------

function liveVpcCidr(attributes: Attributes, live: LiveIndex): string | undefined {
    return text(live.byAttribute("aws_vpc", "id", attributes.vpc_id)?.attributes.cidr_block);
}

function liveRegion(attributes: Attributes): string | undefined {
    return regionOfArn(attributes.arn) ?? regionOfArn(attributes.id);
}

const nameTag = (tags: unknown): string | undefined => (isObject(tags) ? text(tags.Name) : undefined);

// ---- Identities shared by the rules that go through a reference ---------------------------------------

function planRouteTableIdentity(resource: RecordedResource | undefined, context: AdoptionContext): string | undefined {
    if (!resource) return undefined;
    return join(planRegion(resource, context), planVpcCidr(resource, context), nameTag(resource.inputs.tags));
}

function liveRouteTableIdentity(instance: TerraformInstance | undefined, live: LiveIndex): string | undefined {
    if (!instance) return undefined;
    return join(liveRegion(instance.attributes), liveVpcCidr(instance.attributes, live), nameTag(instance.attributes.tags));
}

function planSubnetIdentity(resource: RecordedResource | undefined, context: AdoptionContext): string | undefined {
    if (!resource) return undefined;
    return join(planRegion(resource, context), planVpcCidr(resource, context), text(resource.inputs.cidrBlock));
}

function liveSubnetIdentity(instance: TerraformInstance | undefined, live: LiveIndex): string | undefined {
    if (!instance) return undefined;
    return join(liveRegion(instance.attributes), liveVpcCidr(instance.attributes, live), text(instance.attributes.cidr_block));
}

// ---- Comparing ---------------------------------------------------------------------------------------------

/**
 * Mock value → live value, for every adopted resource: its mock id → its import id, and each
 * output the plan's mocks gave it → the attribute Terraform recorded under the same name.
 */
function mockToLive(context: AdoptionContext): Map<string, string> {
    const map = new Map<string, string>();
    const pair = (mock: unknown, liveValue: unknown) => {
        if (typeof mock === "string" && typeof liveValue === "string" && mock !== liveValue) map.set(mock, liveValue);
        else if (isObject(mock) && isObject(liveValue)) for (const key of Object.keys(mock)) pair(mock[key], liveValue[key] ?? liveValue[snakeCase(key)]);
    };
    for (const resource of context.plan) {
        if (!resource.custom) continue;
        const id = context.adoptedId(resource.urn);
        const instance = context.adoptedInstance(resource.urn);
        if (id === undefined || !instance) continue;
        map.set(mockResourceId(resource.name), String(instance.attributes.id ?? id));
        const outputs = mockOutputs(resource.type, resource.name, resource.rawInputs);
        for (const [key, value] of Object.entries(outputs)) pair(value, instance.attributes[key] ?? instance.attributes[snakeCase(key)]);
    }
    return map;
}

const substitutions = new WeakMap<AdoptionContext, Map<string, string>>();

/** A planned value with every mock id and output replaced by its live counterpart (comma lists too). */
function asLive(value: unknown, context: AdoptionContext): unknown {
    let map = substitutions.get(context);
    if (!map) substitutions.set(context, (map = mockToLive(context)));
    const table = map;
    const walk = (node: unknown): unknown => {
        if (typeof node === "string") return node.split(",").map((part) => table.get(part) ?? part).join(",");
        if (Array.isArray(node)) return node.map(walk);
        if (isObject(node)) return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item)]));
        return node;
    };
    return walk(value);
}

/** Empty values (absent, null, "", [], {}) are one: AWS does not tell them apart. */
function isEmpty(value: unknown): boolean {
    return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

function canonical(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(canonical);
    if (isObject(value)) {
        const entries = Object.entries(value).filter(([, item]) => !isEmpty(item) && item !== false);
        return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, item]) => [key, canonical(item)]));
    }
    return value;
}

function same(a: unknown, b: unknown): boolean {
    if (isEmpty(a) && isEmpty(b)) return true;
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** JSON documents compared by meaning (key order, spacing). */
function sameJson(a: unknown, b: unknown): boolean {
    const parse = (value: unknown) => {
        if (typeof value !== "string") return value;
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    };
    return same(parse(a), parse(b));
}

/** Lists compared as sets (Terraform keeps them unordered). */
function sameSet(a: unknown, b: unknown): boolean {
    const items = (value: unknown) => (Array.isArray(value) ? value.map((item) => JSON.stringify(canonical(item))).sort() : []);
    return JSON.stringify(items(a)) === JSON.stringify(items(b));
}

/** A security group rule as both sides spell it: lists sorted, empties dropped, `self` false dropped. */
function canonicalRule(rule: unknown): unknown {
    if (!isObject(rule)) return rule;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rule)) {
        const snake = snakeCase(key);
        out[snake] = Array.isArray(value) ? [...value].map(String).sort() : value;
    }
    if (typeof out.protocol === "string") out.protocol = out.protocol.toLowerCase();
    return out;
}

interface FieldSpec {
    /** The program's input. */
    readonly input: string;
    /** Terraform's attribute (default: the input in snake case). */
    readonly attribute?: string;
    readonly replaces?: boolean;
    readonly compare?: (terraform: unknown, program: unknown) => boolean;
    /** Terraform's configuration never sets it (the state holds a provider default or nothing): compare only when the program sets it. */
    readonly onlyWhenSet?: boolean;
}

const RULE_SET = (terraform: unknown, program: unknown) =>
    sameSet(Array.isArray(terraform) ? terraform.map(canonicalRule) : terraform, Array.isArray(program) ? program.map(canonicalRule) : program);

/** Inputs that are engine or provider plumbing, not resource fields. */
const PLUMBING = new Set(["__defaults", "region"]);

/**
 * The changes of `resource` against `instance` for the fields in `specs`. Every other input of the
 * program is a change too, reported with Terraform's value as "(not in the Terraform state)": the
 * program sets something Terraform never did, whose live value the state cannot tell.
 */
function compareFields(resource: RecordedResource, instance: TerraformInstance, context: AdoptionContext, specs: readonly FieldSpec[]): FieldChange[] {
    const changes: FieldChange[] = [];
    const ignored = new Set(resource.ignoreChanges ?? []);
    const known = new Set(specs.map((spec) => spec.input));
    for (const spec of specs) {
        if (ignored.has(spec.input)) continue;
        const program = asLive(resource.rawInputs[spec.input], context);
        if (spec.onlyWhenSet && isEmpty(program)) continue;
        const terraform = instance.attributes[spec.attribute ?? snakeCase(spec.input)];
        const equal = (spec.compare ?? same)(terraform, program);
        if (!equal) changes.push({ field: spec.input, terraform, program: shown(resource, spec.input, program), ...(spec.replaces ? { replaces: true } : {}) });
    }
    for (const input of Object.keys(resource.inputs)) {
        if (known.has(input) || PLUMBING.has(input) || ignored.has(input) || isEmpty(resource.inputs[input])) continue;
        changes.push({ field: input, terraform: "(not in the Terraform state)", program: shown(resource, input, asLive(resource.rawInputs[input], context)) });
    }
    return changes;
}

/** What the report shows for the program's value: secrets stay masked. */
function shown(resource: RecordedResource, input: string, value: unknown): unknown {
    return resource.inputs[input] === SECRET_MASK ? SECRET_MASK : value;
}

/** Tags, without those AWS or the stack's `ignoreChanges` own. */
function tagSpec(ignoredTags: readonly string[] = []): FieldSpec {
    const strip = (tags: unknown) => (isObject(tags) ? Object.fromEntries(Object.entries(tags).filter(([key]) => !ignoredTags.includes(key))) : tags);
    return { input: "tags", compare: (terraform, program) => same(strip(terraform), strip(program)) };
}

// ---- The rules -----------------------------------------------------------------------------------------------

const STACK = "aws:cloudformation/stack:Stack";

/** The CloudFormation stack's queue, for the replacement effect (its `BuildkiteQueue`). */
function queueOf(resource: RecordedResource): string {
    const parameters = resource.inputs.parameters;
    return isObject(parameters) && typeof parameters.BuildkiteQueue === "string" ? parameters.BuildkiteQueue : resource.name;
}

/** The Elastic CI Stack version a template URL names (`.../v6.21.0/aws-stack.yml`). */
export function stackVersionOf(templateUrl: unknown): string | undefined {
    return typeof templateUrl === "string" ? /\/v([0-9]+\.[0-9]+\.[0-9]+)\//.exec(templateUrl)?.[1] : undefined;
}

const stackRule: AdoptionRule = {
    pulumiType: STACK,
    terraformTypes: ["aws_cloudformation_stack"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.name)),
    stateIdentity: (instance) => join(liveRegion(instance.attributes), text(instance.attributes.name)),
    importId: (instance) => String(instance.attributes.name),
    compare: (resource, instance, context) => {
        const changes = compareFields(resource, instance, context, [
            { input: "name", replaces: true },
            { input: "templateUrl" },
            { input: "capabilities", compare: sameSet },
            { input: "parameters", compare: () => true },
            tagSpec(["AppManagerCFNStackKey"]),
        ]);
        const [was, now] = [stackVersionOf(instance.attributes.template_url), stackVersionOf(resource.inputs.templateUrl)];
        const templateChange = changes.find((change) => change.field === "templateUrl");
        if (templateChange && was !== now) {
            changes.splice(changes.indexOf(templateChange), 1, {
                ...templateChange,
                effect: `replaces the autoscaling group of queue ${queueOf(resource)} (Elastic CI Stack ${was ?? "?"} → ${now ?? "?"}): running jobs are cancelled`,
            });
        }
        // Parameters one by one: each is its own change, and some replace the autoscaling group.
        const program = asLive(resource.rawInputs.parameters, context) as Record<string, unknown>;
        const terraform = (instance.attributes.parameters ?? {}) as Record<string, unknown>;
        const rules = keptTemplateRules(stackVersionOf(resource.inputs.templateUrl) ?? "");
        for (const key of [...new Set([...Object.keys(program ?? {}), ...Object.keys(terraform)])].sort()) {
            if (same(String(terraform[key] ?? ""), String(program?.[key] ?? ""))) continue;
            const effect = rules ? replacementEffect(rules, queueOf(resource), [key]) : undefined;
            changes.push({ field: `parameters.${key}`, terraform: terraform[key], program: program?.[key], ...(effect ? { effect } : {}) });
        }
        return changes;
    },
};

const vpcRule: AdoptionRule = {
    pulumiType: "aws:ec2/vpc:Vpc",
    terraformTypes: ["aws_vpc"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.cidrBlock)),
    stateIdentity: (instance) => join(liveRegion(instance.attributes), text(instance.attributes.cidr_block)),
    importId: (instance) => String(instance.attributes.id),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [{ input: "cidrBlock", replaces: true }, { input: "enableDnsSupport" }, { input: "enableDnsHostnames" }, tagSpec()]),
};

const subnetRule: AdoptionRule = {
    pulumiType: "aws:ec2/subnet:Subnet",
    terraformTypes: ["aws_subnet"],
    planIdentity: (resource, context) => planSubnetIdentity(resource, context),
    stateIdentity: (instance, live) => liveSubnetIdentity(instance, live),
    importId: (instance) => String(instance.attributes.id),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [
            { input: "vpcId", replaces: true },
            { input: "availabilityZone", replaces: true },
            { input: "cidrBlock", replaces: true },
            { input: "mapPublicIpOnLaunch" },
            tagSpec(),
        ]),
};

const internetGatewayRule: AdoptionRule = {
    pulumiType: "aws:ec2/internetGateway:InternetGateway",
    terraformTypes: ["aws_internet_gateway"],
    planIdentity: (resource, context) => join(planRegion(resource, context), planVpcCidr(resource, context)),
    stateIdentity: (instance, live) => join(liveRegion(instance.attributes), liveVpcCidr(instance.attributes, live)),
    importId: (instance) => String(instance.attributes.id),
    compare: (resource, instance, context) => compareFields(resource, instance, context, [{ input: "vpcId" }, tagSpec()]),
};

const routeTableRule: AdoptionRule = {
    pulumiType: "aws:ec2/routeTable:RouteTable",
    terraformTypes: ["aws_route_table"],
    planIdentity: (resource, context) => planRouteTableIdentity(resource, context),
    stateIdentity: (instance, live) => liveRouteTableIdentity(instance, live),
    importId: (instance) => String(instance.attributes.id),
    compare: (resource, instance, context) => compareFields(resource, instance, context, [{ input: "vpcId", replaces: true }, tagSpec()]),
};

const routeRule: AdoptionRule = {
    pulumiType: "aws:ec2/route:Route",
    terraformTypes: ["aws_route"],
    planIdentity: (resource, context) => join(planRouteTableIdentity(planDependency(resource, "routeTableId", context), context), text(resource.inputs.destinationCidrBlock)),
    stateIdentity: (instance, live) =>
        join(liveRouteTableIdentity(live.byAttribute("aws_route_table", "id", instance.attributes.route_table_id), live), text(instance.attributes.destination_cidr_block)),
    importId: (instance) => `${String(instance.attributes.route_table_id)}_${String(instance.attributes.destination_cidr_block)}`,
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [{ input: "routeTableId", replaces: true }, { input: "destinationCidrBlock", replaces: true }, { input: "gatewayId" }]),
};

const routeTableAssociationRule: AdoptionRule = {
    pulumiType: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    terraformTypes: ["aws_route_table_association"],
    planIdentity: (resource, context) => planSubnetIdentity(planDependency(resource, "subnetId", context), context),
    stateIdentity: (instance, live) => liveSubnetIdentity(live.byAttribute("aws_subnet", "id", instance.attributes.subnet_id), live),
    importId: (instance) => `${String(instance.attributes.subnet_id)}/${String(instance.attributes.route_table_id)}`,
    compare: (resource, instance, context) => compareFields(resource, instance, context, [{ input: "subnetId", replaces: true }, { input: "routeTableId" }]),
};

const securityGroupRule: AdoptionRule = {
    pulumiType: "aws:ec2/securityGroup:SecurityGroup",
    terraformTypes: ["aws_security_group"],
    planIdentity: (resource, context) => join(planRegion(resource, context), planVpcCidr(resource, context), text(resource.inputs.name)),
    stateIdentity: (instance, live) => join(liveRegion(instance.attributes), liveVpcCidr(instance.attributes, live), text(instance.attributes.name)),
    importId: (instance) => String(instance.attributes.id),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [
            { input: "name", replaces: true },
            { input: "description", replaces: true },
            { input: "vpcId", replaces: true },
            { input: "ingress", compare: RULE_SET },
            { input: "egress", compare: RULE_SET },
            tagSpec(),
        ]),
};

const ecrRepositoryRule: AdoptionRule = {
    pulumiType: "aws:ecr/repository:Repository",
    terraformTypes: ["aws_ecr_repository"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.name)),
    stateIdentity: (instance) => join(liveRegion(instance.attributes), text(instance.attributes.name)),
    importId: (instance) => String(instance.attributes.name),
    compare: (resource, instance, context) => compareFields(resource, instance, context, [{ input: "name", replaces: true }, tagSpec()]),
};

const ecrLifecyclePolicyRule: AdoptionRule = {
    pulumiType: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    terraformTypes: ["aws_ecr_lifecycle_policy"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.repository)),
    stateIdentity: (instance, live) =>
        join(liveRegion(live.byAttribute("aws_ecr_repository", "name", instance.attributes.repository)?.attributes ?? {}), text(instance.attributes.repository)),
    importId: (instance) => String(instance.attributes.repository),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [{ input: "repository", replaces: true }, { input: "policy", replaces: true, compare: sameJson }]),
};

const bucketRule: AdoptionRule = {
    pulumiType: "aws:s3/bucket:Bucket",
    terraformTypes: ["aws_s3_bucket"],
    planIdentity: (resource) => text(resource.inputs.bucket),
    stateIdentity: (instance) => text(instance.attributes.bucket),
    importId: (instance) => String(instance.attributes.bucket),
    compare: (resource, instance, context) => compareFields(resource, instance, context, [{ input: "bucket", replaces: true }, { input: "forceDestroy" }, tagSpec()]),
};

const secretRule: AdoptionRule = {
    pulumiType: "aws:secretsmanager/secret:Secret",
    terraformTypes: ["aws_secretsmanager_secret"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.name)),
    stateIdentity: (instance) => join(liveRegion(instance.attributes), text(instance.attributes.name)),
    importId: (instance) => String(instance.attributes.arn),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [{ input: "name", replaces: true }, { input: "description" }, { input: "replicas", attribute: "replica", compare: sameSet }, tagSpec()]),
};

const ssmParameterRule: AdoptionRule = {
    pulumiType: "aws:ssm/parameter:Parameter",
    terraformTypes: ["aws_ssm_parameter"],
    planIdentity: (resource, context) => join(planRegion(resource, context), text(resource.inputs.name)),
    stateIdentity: (instance) => join(liveRegion(instance.attributes), text(instance.attributes.name)),
    importId: (instance) => String(instance.attributes.name),
    compare: (resource, instance, context) =>
        compareFields(resource, instance, context, [
            { input: "name", replaces: true },
            { input: "type" },
            { input: "description" },
            { input: "value" },
            { input: "insecureValue", onlyWhenSet: true },
            tagSpec(),
        ]),
};

/** Every rule of the AWS stack. */
export const AWS_ADOPTION_RULES: readonly AdoptionRule[] = [
    stackRule,
    vpcRule,
    subnetRule,
    internetGatewayRule,
    routeTableRule,
    routeRule,
    routeTableAssociationRule,
    securityGroupRule,
    ecrRepositoryRule,
    ecrLifecyclePolicyRule,
    bucketRule,
    secretRule,
    ssmParameterRule,
];

// ---- Why things are created, left or different -----------------------------------------------------------------

/** Why the program creates what Terraform never had. */
export const AWS_CREATED: readonly Explanation[] = [
    {
        type: "aws:iam/rolePolicy:RolePolicy",
        name: /-instance-access$/,
        reason: "the queue's grants as one inline policy on its instance role, replacing the managed policies Terraform attached (same statements on the same ARNs; tests/adopt/iam-parity.test.ts)",
    },
    { type: "aws:s3/bucket:Bucket", name: "bundles", reason: "the bootstrap bundle bucket (issue 14): new, nothing to import" },
    { type: "aws:s3/bucketVersioning:BucketVersioning", name: "bundles", reason: "the bundle bucket keeps old versions (new bucket)" },
    { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "bundles", reason: "SSE-S3 on the bundle bucket (new bucket)" },
    { type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name: "bundles", reason: "ACLs off on the bundle bucket (new bucket)" },
    { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "bundles", reason: "public ACLs blocked on the bundle bucket; its policy grants public read of the three prefixes only" },
    { type: "aws:s3/bucketPolicy:BucketPolicy", name: "bundles", reason: "public s3:GetObject of production/*, branches/* and agent-boot/* (bootstrap.sh and the agents' boot fetch anonymously)" },
    { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "bundles", reason: "old bundle versions expire after 30 days, branch bundles after 90" },
    { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: /^bundles-/, reason: "an agent boot script of the fleet (aws/boot/), written where BootstrapScriptUrl points" },
    { type: "aws:iam/role:Role", name: /^bundles-(production|branch)-publisher$/, reason: "the GitHub OIDC role that publishes bootstrap bundles (issue 14): new" },
    { type: "aws:iam/rolePolicy:RolePolicy", name: /^bundles-(production|branch)-publisher$/, reason: "the publishing role may put objects under its prefix only (new)" },
    { type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider", reason: "config ci:awsGithubOidcProvider is create: the account has no GitHub OIDC provider yet" },
    {
        type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        reason: "config ci:awsBucketAccess makes this bucket private: the program now declares its public access block (Terraform never did)",
    },
    { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", reason: "config ci:awsBucketAccess makes this bucket private: SSE-S3 declared" },
    { type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls", reason: "config ci:awsBucketAccess makes this bucket private: ACLs off" },
];

/** Why what Terraform manages stays with it, or how it lets go. */
export const AWS_LEFT_IN_TERRAFORM: readonly Explanation[] = [
    {
        type: "aws_iam_role_policy_attachment",
        reason: "replaced by the queue's inline policy vllm-ci-<profile>-access (same grants); Terraform detaches it after the first pulumi up",
        handover: "retire",
    },
    {
        type: "aws_iam_policy",
        reason: "its statements are in the queues' inline policies now; Terraform deletes it after the first pulumi up (once detached)",
        handover: "retire",
    },
    {
        type: "aws_secretsmanager_secret_version",
        reason: "the secret's value never enters the program (set out of band); Terraform forgets the version without deleting it",
        handover: "forget",
    },
];

/** `effect` of the parameter changes that replace a queue's autoscaling group: the reasons below say why each is worth it. */
export const AWS_DIFFERENCES: readonly Explanation[] = [
    {
        type: STACK,
        field: "parameters.BootstrapScriptUrl",
        reason: "the fleet's own boot script (aws/boot/): job containers kept off the instance metadata service; on postmerge, release and AMI-build queues the job guard refuses pull-request jobs before checkout; Node.js on the bootstrap queue",
    },
    {
        type: STACK,
        field: "parameters.ECRAccessPolicy",
        reason: "poweruser let jobs push to every private repository of the account; readonly plus the exact repositories of the queue's inline policy keeps today's pushes only (on the premerge bootstrap queue poweruser also broke the premerge rule)",
    },
];

/** Every S3 bucket ARN the managed IAM policies of the states name (`arn:aws:s3:::<bucket>` or `.../*`). */
export function bucketsNamedByPolicies(live: LiveIndex): Map<string, string[]> {
    const named = new Map<string, string[]>();
    for (const policy of live.instances.filter((instance) => instance.type === "aws_iam_policy")) {
        const document = typeof policy.attributes.policy === "string" ? policy.attributes.policy : "";
        for (const match of document.matchAll(/arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?=[/"])/g)) {
            const policies = named.get(match[1]) ?? [];
            if (!policies.includes(policy.address)) policies.push(policy.address);
            named.set(match[1], policies);
        }
    }
    return named;
}

/**
 * Buckets no state holds but Terraform's own IAM policies grant access to: they exist, made
 * outside Terraform (the compiler cache `vllm-build-sccache`), and are imported all the same.
 */
function existingOutsideTerraform(resource: RecordedResource, context: AdoptionContext) {
    if (resource.type !== "aws:s3/bucket:Bucket" || typeof resource.inputs.bucket !== "string") return undefined;
    const policies = bucketsNamedByPolicies(context.live).get(resource.inputs.bucket);
    if (!policies) return undefined;
    return {
        id: resource.inputs.bucket,
        reason: `not in the Terraform state, but its IAM policies grant access to it (${policies.join(", ")}): made outside Terraform; check it exists in ${planRegion(resource, context)} before the import`,
    };
}

export function awsAdoption(stack: string): StackAdoption {
    return { stack, rules: AWS_ADOPTION_RULES, existingOutsideTerraform, created: AWS_CREATED, leftInTerraform: AWS_LEFT_IN_TERRAFORM, differences: AWS_DIFFERENCES };
}
