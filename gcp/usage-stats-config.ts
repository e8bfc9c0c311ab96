/**
 * The usage-stats endpoint's facts and its Vector configuration, without Pulumi: what
 * `UsageStatsEndpoint` (gcp/usage-stats.ts) deploys and what the tests check.
 *
 * vLLM installations report anonymous usage by POSTing one JSON object to
 * `VLLM_USAGE_STATS_SERVER` (default `https://stats.vllm.ai`, no credentials: vllm/usage/usage_lib.py),
 * so the endpoint is public. Upstream runs it from `usage-stats/` of ci-infra (a Dockerfile on
 * `timberio/vector:latest-alpine` with `vector_config.yaml` baked in, deployed by hand to Cloud
 * Run in us-central1; the bucket `vllm-usage-stats` was made by hand too: no Terraform state holds
 * either). Here the image is pinned and stock, and the configuration is a file of this repository
 * (`gcp/usage-stats/vector.yaml`) handed to the container in its environment.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

/** The file the service's Vector configuration is read from. */
export const VECTOR_CONFIG_FILE = path.join(__dirname, "usage-stats", "vector.yaml");

/**
 * The Vector image, pinned to an exact release of the alpine variant upstream builds on
 * (`latest-alpine` moves under the service at every release; alpine has the `/bin/sh` that hands
 * the configuration over). An exact tag, not a digest: no registry is reachable where this is
 * written; resolve it with `crane digest docker.io/timberio/vector:0.49.0-alpine` and append
 * `@sha256:...` to pin the bytes (the tests accept either form, never a moving tag).
 */
export const VECTOR_IMAGE = "docker.io/timberio/vector:0.49.0-alpine";

/** The live names and the settings of the endpoint. */
export const USAGE_STATS = {
    /** The live bucket (made by hand; adopted, never recreated). */
    bucket: "vllm-usage-stats",
    /** Where upstream's service runs (its run.app host ends in `-uc`). */
    region: "us-central1",
    /**
     * Location and default storage class the bucket gets when this program creates it (a new
     * project). Not the live bucket's (unknown here: made by hand, in no state): the adopted bucket
     * keeps its own location, storage class and project (`ADOPTED_BUCKET_FIELDS`), which GCS cannot
     * change without a new bucket. Check them before the import (README, usage statistics).
     */
    bucketLocation: "US-CENTRAL1",
    bucketStorageClass: "STANDARD",
    /** The Cloud Run service: a new one beside upstream's hand-deployed service (see the README's cut-over). */
    service: "vllm-usage-stats",
    /** The service's own account: it may only create objects in the bucket. */
    accountId: "usage-stats-writer",
    /** Objects move to Nearline after this many days: they are read for the yearly report, never deleted by a rule. */
    nearlineAfterDays: 90,
    /** Most instances: a burst of reports never scales the bill without bound. */
    maxInstances: 4,
    /** The variable the configuration reads the bucket name from. */
    bucketVariable: "USAGE_STATS_BUCKET",
    /** The variable the container's shell writes the configuration from. */
    configVariable: "VECTOR_CONFIG_YAML",
} as const;

/** The port Cloud Run sends requests to (it also sets `PORT` to it). */
export const USAGE_STATS_PORT = 8080;

/** The Vector configuration as the repository holds it. */
export function vectorConfigText(file: string = VECTOR_CONFIG_FILE): string {
    return fs.readFileSync(file, "utf8");
}

/**
 * The container's command: write the configuration from the environment to the in-memory /tmp,
 * then become Vector. (Cloud Run mounts files only from secrets or buckets; this needs neither.)
 */
export function usageStatsCommand(): { commands: string[]; args: string[] } {
    return {
        commands: ["/bin/sh", "-c"],
        args: [`printf '%s' "$${USAGE_STATS.configVariable}" > /tmp/vector.yaml && exec /usr/local/bin/vector --config /tmp/vector.yaml`],
    };
}

/** The container's environment: where Vector listens, which bucket it writes, and its configuration. */
export function usageStatsEnvironment(bucket: string, configText: string): { name: string; value: string }[] {
    return [
        { name: "HOST", value: "0.0.0.0" },
        { name: USAGE_STATS.bucketVariable, value: bucket },
        { name: USAGE_STATS.configVariable, value: configText },
    ];
}

/** A problem line when `image` is not pinned to an exact release tag or a digest. */
export function imagePinProblem(image: string): string | undefined {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    const tag = /:([^:/@]+)$/.exec(image)?.[1];
    if (tag && /^[0-9]+\.[0-9]+\.[0-9]+(-[a-z]+)?$/.test(tag)) return undefined;
    return `image ${image}: not pinned (use an exact release tag like 0.49.0-alpine, or @sha256:<digest>)`;
}

/**
 * Every problem of the endpoint's own inputs, one line each: the repository's Vector configuration
 * (`file`, named relative to `root`) and the image pin. The program and the lint both run it, so a
 * broken vector.yaml stops the preview, not the first request.
 */
export function usageStatsProblems(file: string = VECTOR_CONFIG_FILE, image: string = VECTOR_IMAGE, root: string = path.join(__dirname, "..")): string[] {
    const shown = path.relative(root, file);
    let text: string;
    try {
        text = vectorConfigText(file);
    } catch (error) {
        return [`${shown}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`];
    }
    const pin = imagePinProblem(image);
    return [...vectorConfigProblems(text, shown), ...(pin ? [`gcp/usage-stats-config.ts: VECTOR_IMAGE: ${pin}`] : [])];
}

type Component = { type?: unknown; inputs?: unknown; [key: string]: unknown };
const record = (value: unknown): Record<string, unknown> => (value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * Every problem of a Vector configuration for the endpoint, one line each naming `file` and the
 * component: one `http_server` source on `${HOST}:${PORT}`, every input declared, and a
 * `gcp_cloud_storage` sink fed (through the transforms) by that source, writing to the bucket
 * of `${USAGE_STATS_BUCKET}` as JSON lines. Read with the project's YAML library (the `vector`
 * binary is not at hand offline): structure, not Vector's own validation.
 */
export function vectorConfigProblems(text: string, file: string): string[] {
    let document: unknown;
    try {
        document = yaml.load(text);
    } catch (error) {
        return [`${file}: YAML syntax error: ${(error as Error).message.split("\n")[0]}`];
    }
    const problems: string[] = [];
    const top = record(document);
    for (const key of Object.keys(top)) if (!["sources", "transforms", "sinks"].includes(key)) problems.push(`${file}: section ${key}: not used by the endpoint (sources, transforms, sinks only)`);
    const sections = { sources: record(top.sources), transforms: record(top.transforms), sinks: record(top.sinks) };
    const kindOf = new Map<string, string>();
    for (const [section, components] of Object.entries(sections)) for (const id of Object.keys(components)) kindOf.set(id, section);

    const httpSources = Object.entries(sections.sources).filter(([, c]) => record(c).type === "http_server");
    if (httpSources.length !== 1 || Object.keys(sections.sources).length !== 1) problems.push(`${file}: sources: exactly one source, of type http_server (found ${Object.keys(sections.sources).length}, ${httpSources.length} http_server)`);
    for (const [id, source] of httpSources) {
        if (record(source).address !== "${HOST}:${PORT}") problems.push(`${file}: source "${id}": field address: must be \${HOST}:\${PORT} (Cloud Run's port), not ${JSON.stringify(record(source).address)}`);
    }
    const inputsOf = (id: string, component: Component): string[] => {
        const inputs = component.inputs;
        if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((i) => typeof i === "string")) {
            problems.push(`${file}: ${kindOf.get(id) === "sinks" ? "sink" : "transform"} "${id}": field inputs: must list at least one component`);
            return [];
        }
        for (const input of inputs) if (!kindOf.has(input) || kindOf.get(input) === "sinks") problems.push(`${file}: "${id}": field inputs: "${input}" is no source or transform`);
        return inputs as string[];
    };
    const feeds = new Map<string, string[]>();
    for (const [id, transform] of Object.entries(sections.transforms)) feeds.set(id, inputsOf(id, record(transform)));
    const reaches = (id: string, seen = new Set<string>()): Set<string> => {
        if (seen.has(id)) return new Set();
        seen.add(id);
        if (kindOf.get(id) === "sources") return new Set([id]);
        return new Set((feeds.get(id) ?? []).flatMap((input) => [...reaches(input, seen)]));
    };

    const gcsSinks = Object.entries(sections.sinks).filter(([, c]) => record(c).type === "gcp_cloud_storage");
    if (gcsSinks.length !== 1 || Object.keys(sections.sinks).length !== 1) problems.push(`${file}: sinks: exactly one sink, of type gcp_cloud_storage (found ${Object.keys(sections.sinks).length}, ${gcsSinks.length} gcp_cloud_storage)`);
    for (const [id, raw] of gcsSinks) {
        const sink = record(raw);
        const at = `${file}: sink "${id}"`;
        const sources = new Set(inputsOf(id, sink).flatMap((input) => [...reaches(input)]));
        for (const [source] of httpSources) if (!sources.has(source)) problems.push(`${at}: field inputs: does not receive source "${source}"`);
        if (sink.bucket !== `\${${USAGE_STATS.bucketVariable}}`) problems.push(`${at}: field bucket: must be \${${USAGE_STATS.bucketVariable}} (the service sets it to the bucket), not ${JSON.stringify(sink.bucket)}`);
        if (record(sink.encoding).codec !== "json") problems.push(`${at}: field encoding.codec: must be json, not ${JSON.stringify(record(sink.encoding).codec)}`);
        if (record(sink.framing).method !== "newline_delimited") problems.push(`${at}: field framing.method: must be newline_delimited (JSON lines), not ${JSON.stringify(record(sink.framing).method)}`);
        if (record(sink.healthcheck).enabled !== false) problems.push(`${at}: field healthcheck.enabled: must be false (the writer account cannot read the bucket's metadata)`);
    }
    return problems;
}
