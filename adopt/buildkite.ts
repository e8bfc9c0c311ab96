/**
 * Adoption rules of `buildkite-prod`. No Terraform state holds the Buildkite side (clusters,
 * queues, tokens, pipelines and schedules were made in the web UI), so what exists comes from a
 * **live inventory**: per organization, the raw answer of the GraphQL query
 * `adopt/buildkite-inventory.graphql` (`{"<organization>": {"data": {"organization": ...}}}`; the
 * command is in adopt/README.md). Everything is matched by what Buildkite identifies it by: a
 * cluster by organization and name, a queue by its cluster and key, a pipeline by slug, a
 * schedule by its pipeline and cronline. The import ids are those the SDK's `## Import` sections
 * give (GraphQL ids; a queue's is `<queue id>,<cluster uuid>`).
 *
 * Agent tokens cannot be imported (Buildkite never returns a token's value after its creation):
 * each cluster gets a new token, written into every store; the live tokens are listed, to be
 * revoked by hand once the agents run on the new one.
 */
import { AMI_REBUILD_PIPELINE, FLEET_REPOSITORY, VLLM_PIPELINES, VLLM_REPOSITORY } from "../buildkite/pipelines";
import type { RecordedResource } from "../plan/harness";
import type { AdoptionContext, Explanation, ExistingOutsideTerraform, FieldChange, StackAdoption } from "./engine";

const CLUSTER = "buildkite:Cluster/cluster:Cluster";
const QUEUE = "buildkite:Cluster/clusterQueue:ClusterQueue";
const TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const SCHEDULE = "buildkite:Pipeline/schedule:Schedule";
const SSM = "aws:ssm/parameter:Parameter";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";

/** One live cluster, as the inventory tells it. */
export interface LiveCluster {
    readonly id: string;
    readonly uuid: string;
    readonly name: string;
    readonly queues: readonly { readonly id: string; readonly key: string }[];
    readonly agentTokens: readonly { readonly id: string; readonly description: string }[];
}

/** One live pipeline. */
export interface LivePipeline {
    readonly id: string;
    readonly slug: string;
    readonly repository?: string;
    readonly clusterId?: string;
    readonly defaultBranch?: string;
    readonly schedules: readonly { readonly id: string; readonly label: string; readonly cronline: string; readonly branch: string }[];
}

/** The live organizations, by slug. */
export type BuildkiteInventory = Readonly<Record<string, { readonly clusters: readonly LiveCluster[]; readonly pipelines: readonly LivePipeline[] }>>;

/** A problem of the inventory file: the CLI prints it as one line. */
export class BuildkiteInventoryError extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** `edges[].node` of a GraphQL connection at `where`, each checked by `node`. */
function nodes<T>(connection: unknown, where: string, node: (value: Record<string, unknown>, where: string) => T): T[] {
    if (!isObject(connection) || !Array.isArray(connection.edges)) throw new BuildkiteInventoryError(`${where}: expected a GraphQL connection {"edges": [{"node": ...}]}`);
    return connection.edges.map((edge, index) => {
        const value = isObject(edge) ? edge.node : undefined;
        if (!isObject(value)) throw new BuildkiteInventoryError(`${where}.edges[${index}]: expected {"node": {...}}`);
        return node(value, `${where}.edges[${index}].node`);
    });
}

function text(value: Record<string, unknown>, key: string, where: string): string {
    const found = value[key];
    if (typeof found !== "string" || found === "") throw new BuildkiteInventoryError(`${where}: field ${key}: expected a non-empty string, got ${JSON.stringify(found) ?? "nothing"}`);
    return found;
}

const optionalText = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * Reads the inventory file's JSON (`{"<organization>": <GraphQL response>}`); throws a
 * BuildkiteInventoryError naming the first bad path. A GraphQL `errors` answer is refused.
 */
export function parseBuildkiteInventory(value: unknown): BuildkiteInventory {
    if (!isObject(value) || Object.keys(value).length === 0) throw new BuildkiteInventoryError(`expected {"<organization slug>": <the GraphQL answer of adopt/buildkite-inventory.graphql>}`);
    const inventory: Record<string, { clusters: LiveCluster[]; pipelines: LivePipeline[] }> = {};
    for (const [slug, answer] of Object.entries(value)) {
        const where = slug;
        if (isObject(answer) && Array.isArray(answer.errors) && answer.errors.length > 0) {
            const first = answer.errors[0];
            throw new BuildkiteInventoryError(`${where}: the GraphQL query failed: ${isObject(first) ? String(first.message) : JSON.stringify(first)}`);
        }
        const organization = isObject(answer) && isObject(answer.data) ? answer.data.organization : undefined;
        if (!isObject(organization)) throw new BuildkiteInventoryError(`${where}: expected {"data": {"organization": {...}}} (is the slug right, and may the token read it?)`);
        const clusters = nodes(organization.clusters, `${where}.data.organization.clusters`, (cluster, at) => ({
            id: text(cluster, "id", at),
            uuid: text(cluster, "uuid", at),
            name: text(cluster, "name", at),
            queues: nodes(cluster.queues, `${at}.queues`, (queue, q) => ({ id: text(queue, "id", q), key: text(queue, "key", q) })),
            agentTokens: nodes(cluster.agentTokens, `${at}.agentTokens`, (token, t) => ({ id: text(token, "id", t), description: optionalText(token.description) ?? "" })),
        }));
        const pipelines = nodes(organization.pipelines, `${where}.data.organization.pipelines`, (pipeline, at) => ({
            id: text(pipeline, "id", at),
            slug: text(pipeline, "slug", at),
            repository: isObject(pipeline.repository) ? optionalText(pipeline.repository.url) : undefined,
            clusterId: isObject(pipeline.cluster) ? optionalText(pipeline.cluster.id) : undefined,
            defaultBranch: optionalText(pipeline.defaultBranch),
            schedules: nodes(pipeline.schedules, `${at}.schedules`, (schedule, s) => ({
                id: text(schedule, "id", s),
                label: optionalText(schedule.label) ?? "",
                cronline: text(schedule, "cronline", s),
                branch: optionalText(schedule.branch) ?? "",
            })),
        }));
        inventory[slug] = { clusters, pipelines };
    }
    return inventory;
}

/** Cluster names compared as Buildkite users write them: case, spaces, `-` and `_` aside. */
export function sameClusterName(a: string, b: string): boolean {
    const normal = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");
    return normal(a) === normal(b);
}

/** Cronlines compared as Buildkite runs them: blanks aside, no time zone meaning UTC. */
export function sameCronline(a: string, b: string): boolean {
    const normal = (cronline: string) => cronline.trim().split(/\s+/).filter((part, index) => !(index === 5 && part === "UTC")).join(" ");
    return normal(a) === normal(b);
}

/** The organization of a Buildkite resource: its provider's (`buildkite-<organization>`). */
function organizationOf(resource: RecordedResource, context: AdoptionContext): string | undefined {
    const provider = context.providerOf(resource);
    return provider?.type === "pulumi:providers:buildkite" ? String(provider.inputs.organization) : undefined;
}

/** The first custom ancestor-or-sibling: the `buildkite:Cluster` of a queue's component. */
function clusterResourceOf(resource: RecordedResource, context: AdoptionContext): RecordedResource | undefined {
    const component = resource.parent;
    return context.plan.find((candidate) => candidate.type === CLUSTER && candidate.parent === component);
}

function liveClusterOf(inventory: BuildkiteInventory, cluster: RecordedResource, context: AdoptionContext): LiveCluster | undefined {
    const organization = organizationOf(cluster, context);
    if (organization === undefined) return undefined;
    const found = (inventory[organization]?.clusters ?? []).filter((live) => sameClusterName(live.name, String(cluster.inputs.name)));
    return found.length === 1 ? found[0] : undefined;
}

function livePipelineOf(inventory: BuildkiteInventory, pipeline: RecordedResource, context: AdoptionContext): LivePipeline | undefined {
    const organization = organizationOf(pipeline, context);
    return organization === undefined ? undefined : inventory[organization]?.pipelines.find((live) => live.slug === pipeline.inputs.slug);
}

/**
 * What the first `up` changes on an adopted pipeline (the inventory's fields only), as the
 * engine's field changes. The versioned steps are the point of the stack (explained below); a
 * repository, default branch or cluster that differs from the live one is left unexplained on
 * purpose, so that `--strict` stops: moving a pipeline to another cluster strands its jobs (they
 * run only on that cluster's agents) until the catalog puts its queues where the live agents are.
 */
function pipelineChanges(live: LivePipeline, pipeline: RecordedResource, inventory: BuildkiteInventory, context: AdoptionContext): FieldChange[] {
    const changes: FieldChange[] = [];
    if (live.repository !== undefined && live.repository !== pipeline.inputs.repository) changes.push({ field: "repository", terraform: live.repository, program: pipeline.inputs.repository });
    if (live.defaultBranch !== undefined && live.defaultBranch !== pipeline.inputs.defaultBranch) changes.push({ field: "defaultBranch", terraform: live.defaultBranch, program: pipeline.inputs.defaultBranch });
    const programCluster = context.plan.find((r) => r.type === CLUSTER && `${r.name}-id` === pipeline.rawInputs.clusterId);
    const liveCluster = programCluster ? liveClusterOf(inventory, programCluster, context) : undefined;
    if (liveCluster && live.clusterId !== liveCluster.id) {
        changes.push({
            field: "clusterId",
            terraform: live.clusterId ?? null,
            program: liveCluster.id,
            effect: `moves the pipeline to cluster ${liveCluster.name}: its jobs then run only on that cluster's agents`,
        });
    }
    changes.push({ field: "steps", terraform: "(set in the web UI)", program: "(buildkite/pipelines.ts)" });
    return changes;
}

function existingInBuildkite(inventory: BuildkiteInventory) {
    return (resource: RecordedResource, context: AdoptionContext): ExistingOutsideTerraform | undefined => {
        if (resource.type === CLUSTER) {
            const live = liveClusterOf(inventory, resource, context);
            return live ? { id: live.id, reason: `live cluster "${live.name}" (${live.uuid}), made in the web UI` } : undefined;
        }
        if (resource.type === QUEUE) {
            const cluster = clusterResourceOf(resource, context);
            const live = cluster ? liveClusterOf(inventory, cluster, context) : undefined;
            const queue = live?.queues.find((q) => q.key === resource.inputs.key);
            return live && queue ? { id: `${queue.id},${live.uuid}`, reason: `live queue ${queue.key} of cluster "${live.name}"` } : undefined;
        }
        if (resource.type === PIPELINE) {
            const live = livePipelineOf(inventory, resource, context);
            return live ? { id: live.id, reason: `live pipeline ${live.slug}`, changes: pipelineChanges(live, resource, inventory, context) } : undefined;
        }
        if (resource.type === SCHEDULE) {
            const pipeline = context.plan.find((r) => r.type === PIPELINE && `${r.name}-id` === resource.rawInputs.pipelineId);
            const live = pipeline ? livePipelineOf(inventory, pipeline, context) : undefined;
            const schedule = live?.schedules.find((s) => sameCronline(s.cronline, String(resource.inputs.cronline)) || s.label === resource.inputs.label);
            if (!live || !schedule) return undefined;
            const same = sameCronline(schedule.cronline, String(resource.inputs.cronline)) && schedule.branch === resource.inputs.branch;
            return { id: schedule.id, reason: `live schedule "${schedule.label}" of ${live.slug} (set by hand)${same ? "" : `; the first up sets ${String(resource.inputs.cronline)} on ${String(resource.inputs.branch)} (live: ${schedule.cronline} on ${schedule.branch})`}` };
        }
        if (resource.type === SSM) {
            // Upstream's Terraform only reads these (`data "aws_ssm_parameter"`): they were made by hand and exist.
            return { id: String(resource.inputs.name), reason: "the agent token parameter, made by hand (upstream Terraform only reads it); the first up writes the new token into it" };
        }
        return undefined;
    };
}

/** Per cluster: the live tokens the operator revokes once every agent runs on the new one. */
function tokenExplanations(inventory: BuildkiteInventory): Explanation[] {
    const explanations: Explanation[] = [];
    for (const [organization, { clusters }] of Object.entries(inventory)) {
        for (const cluster of clusters) {
            const live = cluster.agentTokens.map((token) => `${token.id} "${token.description}"`).join(", ");
            explanations.push({
                type: TOKEN,
                name: new RegExp(`^bk-${cluster.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-agent-token$`),
                reason: `a new token (Buildkite never reads a token back, it cannot be imported); once the agents run on it, revoke the live ones of ${organization}/${cluster.name}: ${live || "none"}`,
            });
        }
    }
    return explanations;
}

/** The program's pipelines by slug and the repository each builds (buildkite/pipelines.ts), in the default organization. */
const PROGRAM_PIPELINES: readonly { readonly slug: string; readonly repository: string }[] = [
    ...VLLM_PIPELINES.map((pipeline) => ({ slug: pipeline.slug, repository: VLLM_REPOSITORY })),
    { slug: AMI_REBUILD_PIPELINE.slug, repository: FLEET_REPOSITORY },
];

const repositoryKey = (url: string) => url.replace(/^[a-z+]+:\/\//, "").replace(/^[^@/]+@/, "").replace(":", "/").replace(/\.git$/, "").replace(/\/$/, "").toLowerCase();

/**
 * Program pipelines missing live while a live pipeline nothing declares builds the same repository:
 * most likely the same pipeline under another slug (the AMI rebuild's slug has no public record).
 * Creating it would run both (two daily AMI bakes rolling the same queues), so these stay unexplained.
 */
export function lookalikePipelines(inventory: BuildkiteInventory): { slug: string; live: string[] }[] {
    const declared = new Set(PROGRAM_PIPELINES.map((pipeline) => pipeline.slug));
    const found: { slug: string; live: string[] }[] = [];
    for (const { pipelines } of Object.values(inventory)) {
        for (const pipeline of PROGRAM_PIPELINES) {
            if (pipelines.some((live) => live.slug === pipeline.slug)) continue;
            const live = pipelines.filter((l) => !declared.has(l.slug) && l.repository !== undefined && repositoryKey(l.repository) === repositoryKey(pipeline.repository)).map((l) => l.slug);
            if (live.length > 0) found.push({ slug: pipeline.slug, live });
        }
    }
    return found;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Why a pipeline is created; none for a lookalike (see lookalikePipelines), so --strict stops. */
function pipelineCreation(inventory: BuildkiteInventory): Explanation {
    const reason = "not in the live inventory: created (set ci:buildkitePipelineTeams for its team)";
    const lookalikes = lookalikePipelines(inventory).map((l) => escapeRegExp(`pipeline-${l.slug}`));
    return lookalikes.length === 0 ? { type: PIPELINE, reason } : { type: PIPELINE, name: new RegExp(`^(?!(${lookalikes.join("|")})$)`), reason };
}

const CREATED: readonly Explanation[] = [
    { type: TOKEN, reason: "a new token (Buildkite never reads a token back, it cannot be imported); the cluster is not in the inventory: no live token to revoke" },
    { type: VERSION, reason: "a new version of the secret gcp-prod owns, holding the new agent token (older versions stay; VMs and controllers read `latest`)" },
    { type: CLUSTER, reason: "a catalog cluster not in the live inventory: created" },
    { type: QUEUE, reason: "a catalog queue not in its live cluster: created (its agents could not connect before)" },
    { type: SCHEDULE, reason: "the AMI rebuild's daily schedule, not on the live pipeline: created" },
];

/** Live clusters, queues and pipelines-to-be that nothing in the program declares: one line each (the operator decides). */
export function undeclaredLiveObjects(inventory: BuildkiteInventory, plan: readonly RecordedResource[]): string[] {
    const lines: string[] = [];
    const planned = (type: string) => plan.filter((r) => r.type === type);
    for (const [organization, { clusters }] of Object.entries(inventory)) {
        const provider = `pulumi:providers:buildkite::buildkite-${organization}`;
        for (const cluster of clusters) {
            const program = planned(CLUSTER).find((r) => r.provider === provider && sameClusterName(String(r.inputs.name), cluster.name));
            if (!program) {
                lines.push(`live cluster ${organization}/${cluster.name} (${cluster.id}) matches no catalog cluster: name it in buildkiteClusters or leave it unmanaged`);
                continue;
            }
            const keys = new Set(planned(QUEUE).filter((q) => q.parent === program.parent).map((q) => String(q.inputs.key)));
            for (const queue of cluster.queues) if (!keys.has(queue.key)) lines.push(`live queue ${queue.key} of cluster ${organization}/${cluster.name} has no catalog queue: stays unmanaged (add it to the catalog, or delete it in Buildkite)`);
        }
    }
    return lines;
}

/** The rules of `buildkite-prod`, given the live inventory. */
export function buildkiteAdoption(stack: string, inventory: BuildkiteInventory): StackAdoption {
    return {
        stack,
        rules: [],
        needsTerraformState: false,
        liveNotes: (plan) => [
            ...undeclaredLiveObjects(inventory, plan),
            ...lookalikePipelines(inventory).map(
                (l) => `pipeline ${l.slug} is not live, but ${l.live.join(", ")} builds the same repository: if it is the same pipeline, set its slug in buildkite/pipelines.ts; the first up would otherwise run both`,
            ),
        ],
        existingOutsideTerraform: existingInBuildkite(inventory),
        created: [...tokenExplanations(inventory), pipelineCreation(inventory), ...CREATED],
        leftInTerraform: [],
        differences: [{ type: PIPELINE, field: "steps", reason: "the versioned steps of buildkite/pipelines.ts replace those set in the web UI: the bootstrap step is reviewed in pull requests" }],
    };
}
