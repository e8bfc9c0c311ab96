/**
 * Raw Terraform state (format version 4, as `terraform state pull` prints it), read into flat
 * resource instances with their full addresses.
 *
 * A state holds secrets in plain text (a secret version's `secret_string`, SSM values read as data
 * sources, anything the provider marks sensitive). They are masked here, at the only door through
 * which state enters the adoption tool, and collected in `secretValues` so that the writer can
 * refuse any output that would still contain one.
 */
import * as fs from "fs";
import * as path from "path";

/** What an adoption output shows in place of a value masked from the state. */
export const STATE_SECRET_MASK = "[secret from state]";

/** A state file cannot be used: the message is one line naming the file. */
export class TerraformStateError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TerraformStateError";
    }
}

/** One instance of a Terraform resource, with secrets masked. */
export interface TerraformInstance {
    /** Label of the state file it came from (its file name), for reports and the handover. */
    readonly state: string;
    /** Full instance address, e.g. `module.vpc.aws_subnet.public[0]`, `aws_cloudformation_stack.bk_queue["bootstrap"]`. */
    readonly address: string;
    /** Address of the resource (all its instances): the address without the instance key. */
    readonly resourceAddress: string;
    /** Module path (`module.vpc`), empty for the root module. */
    readonly module: string;
    readonly mode: "managed" | "data";
    /** Terraform resource type, e.g. `aws_s3_bucket`. */
    readonly type: string;
    /** Terraform resource name, e.g. `vllm_wheels`. */
    readonly name: string;
    /** `count` or `for_each` key, absent for a single-instance resource. */
    readonly indexKey?: string | number;
    /** Provider configuration address, e.g. `provider["registry.terraform.io/hashicorp/aws"].us_east_1`. */
    readonly provider: string;
    /** Attributes as recorded, secret values replaced by `STATE_SECRET_MASK`. */
    readonly attributes: Readonly<Record<string, unknown>>;
}

/** One parsed state file. */
export interface TerraformState {
    /** Label used in reports (the file's base name, made unique when several share it). */
    readonly label: string;
    readonly file: string;
    readonly lineage?: string;
    readonly serial?: number;
    readonly terraformVersion?: string;
    readonly instances: readonly TerraformInstance[];
    /** Every secret value masked from this state (never written anywhere; used to check outputs). */
    readonly secretValues: ReadonlySet<string>;
}

/**
 * Attributes that hold secrets whatever the provider marks: Terraform only records
 * `sensitive_attributes` for values a provider or the configuration declares sensitive, and a
 * hand-made or older state may lack them.
 */
const SECRET_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
    "secret_string",
    "secret_binary",
    "secret_data",
    "secret_data_wo",
    "password",
    "private_key",
    "private_key_pem",
    "token",
    "access_token",
    "client_secret",
    "master_auth",
    "kube_config",
    "kube_config_raw",
]);

/** Attributes of a data source worth keeping: what identifies it. Everything else a data source read is masked. */
const DATA_SOURCE_KEPT_ATTRIBUTES: ReadonlySet<string> = new Set(["id", "arn", "name", "project", "region", "location"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Terraform's spelling of an instance key: numbers bare, strings as a quoted HCL string. */
export function formatIndexKey(key: string | number): string {
    return typeof key === "number" ? `[${key}]` : `[${JSON.stringify(key)}]`;
}

/** Collects every string and number leaf of a value (the secret values to watch for). */
function collectLeaves(value: unknown, into: Set<string>): void {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) value.forEach((item) => collectLeaves(item, into));
    else if (isPlainObject(value)) Object.values(value).forEach((item) => collectLeaves(item, into));
    else if (typeof value === "string" || typeof value === "number") {
        const text = String(value);
        // Very short values (booleans spelt out, "0", "us") would flag innocent text everywhere.
        if (text.length >= 6) into.add(text);
    }
}

type PathStep = string | number;

/** A `sensitive_attributes` entry as a list of steps (Terraform ≥ 1.x records `[{type, value}]`). */
function sensitivePath(entry: unknown): PathStep[] | undefined {
    if (!Array.isArray(entry)) return undefined;
    const steps: PathStep[] = [];
    for (const step of entry) {
        if (!isPlainObject(step)) return undefined;
        if (step.type === "get_attr" && typeof step.value === "string") steps.push(step.value);
        else if (step.type === "index" && isPlainObject(step.value)) {
            const key = (step.value as { value?: unknown }).value;
            if (typeof key === "string" || typeof key === "number") steps.push(key);
            else return undefined;
        } else return undefined;
    }
    return steps;
}

/** Replaces the value at `steps` (when present) by the mask, collecting what it held. */
function maskPath(attributes: Record<string, unknown>, steps: PathStep[], secrets: Set<string>): void {
    if (steps.length === 0) return;
    let node: unknown = attributes;
    for (const step of steps.slice(0, -1)) {
        if (Array.isArray(node) && typeof step === "number") node = node[step];
        else if (isPlainObject(node)) node = node[String(step)];
        else return;
    }
    const last = steps[steps.length - 1];
    if (Array.isArray(node) && typeof last === "number" && last < node.length) {
        collectLeaves(node[last], secrets);
        node[last] = STATE_SECRET_MASK;
    } else if (isPlainObject(node) && String(last) in node) {
        collectLeaves(node[String(last)], secrets);
        node[String(last)] = STATE_SECRET_MASK;
    }
}

function maskAttributes(mode: string, type: string, attributes: Record<string, unknown>, sensitive: unknown, secrets: Set<string>): Record<string, unknown> {
    const masked = structuredClone(attributes);
    if (Array.isArray(sensitive)) {
        for (const entry of sensitive) {
            const steps = sensitivePath(entry);
            if (steps) maskPath(masked, steps, secrets);
        }
    }
    for (const key of Object.keys(masked)) {
        const secretByName = SECRET_ATTRIBUTE_NAMES.has(key);
        const secretDataValue = mode === "data" && !DATA_SOURCE_KEPT_ATTRIBUTES.has(key);
        const secureParameter = type === "aws_ssm_parameter" && (key === "value" || key === "insecure_value") && masked.type === "SecureString";
        if ((secretByName || secretDataValue || secureParameter) && masked[key] !== null && masked[key] !== undefined) {
            collectLeaves(masked[key], secrets);
            masked[key] = STATE_SECRET_MASK;
        }
    }
    return masked;
}

function foreignKind(document: Record<string, unknown>): string | undefined {
    if ("planned_values" in document || "resource_changes" in document) return "a Terraform plan (terraform show -json), not a state";
    if ("values" in document && "format_version" in document) return "the output of terraform show -json, not a raw state";
    if ("checkpoint" in document || "deployment" in document) return "a Pulumi state, not a Terraform one";
    return undefined;
}

/** Parses the text of a raw state. `label` names it in every message and report. */
export function parseTerraformState(text: string, file: string, label = path.basename(file)): TerraformState {
    let document: unknown;
    try {
        document = JSON.parse(text);
    } catch (error) {
        throw new TerraformStateError(`${file}: not a Terraform state: invalid JSON (${(error as Error).message.split("\n")[0]})`);
    }
    if (!isPlainObject(document)) throw new TerraformStateError(`${file}: not a Terraform state: the top level is not a JSON object`);
    const foreign = foreignKind(document);
    if (foreign) throw new TerraformStateError(`${file}: this is ${foreign}; pull the raw state with \`terraform state pull\``);
    if (document.version !== 4) {
        const found = document.version === undefined ? "no field version" : `version ${JSON.stringify(document.version)}`;
        throw new TerraformStateError(`${file}: unsupported Terraform state (${found}); this tool reads format version 4, as \`terraform state pull\` prints it`);
    }
    if (!Array.isArray(document.resources)) throw new TerraformStateError(`${file}: not a Terraform state: field resources is not a list`);
    const secrets = new Set<string>();
    const instances: TerraformInstance[] = [];
    document.resources.forEach((resource, position) => {
        const where = `${file}: resources[${position}]`;
        if (!isPlainObject(resource)) throw new TerraformStateError(`${where}: not an object`);
        for (const field of ["mode", "type", "name", "provider"] as const) {
            if (typeof resource[field] !== "string") throw new TerraformStateError(`${where}: field ${field} is missing or not a string`);
        }
        const mode = resource.mode as string;
        if (mode !== "managed" && mode !== "data") throw new TerraformStateError(`${where}: field mode must be managed or data, not ${JSON.stringify(mode)}`);
        if (resource.module !== undefined && typeof resource.module !== "string") throw new TerraformStateError(`${where}: field module is not a string`);
        if (!Array.isArray(resource.instances)) throw new TerraformStateError(`${where}: field instances is not a list`);
        const module = (resource.module as string | undefined) ?? "";
        const type = resource.type as string;
        const name = resource.name as string;
        const local = mode === "data" ? `data.${type}.${name}` : `${type}.${name}`;
        const resourceAddress = module ? `${module}.${local}` : local;
        resource.instances.forEach((instance, index) => {
            const at = `${where} (${resourceAddress}): instances[${index}]`;
            if (!isPlainObject(instance)) throw new TerraformStateError(`${at}: not an object`);
            if (!isPlainObject(instance.attributes)) throw new TerraformStateError(`${at}: field attributes is missing or not an object`);
            const indexKey = instance.index_key;
            if (indexKey !== undefined && typeof indexKey !== "string" && typeof indexKey !== "number") {
                throw new TerraformStateError(`${at}: field index_key must be a string or a number`);
            }
            instances.push({
                state: label,
                address: indexKey === undefined ? resourceAddress : `${resourceAddress}${formatIndexKey(indexKey)}`,
                resourceAddress,
                module,
                mode,
                type,
                name,
                indexKey,
                provider: resource.provider as string,
                attributes: maskAttributes(mode, type, instance.attributes, instance.sensitive_attributes, secrets),
            });
        });
    });
    const addresses = new Set<string>();
    for (const instance of instances) {
        if (addresses.has(instance.address)) throw new TerraformStateError(`${file}: instance ${instance.address} appears twice`);
        addresses.add(instance.address);
    }
    return {
        label,
        file,
        lineage: typeof document.lineage === "string" ? document.lineage : undefined,
        serial: typeof document.serial === "number" ? document.serial : undefined,
        terraformVersion: typeof document.terraform_version === "string" ? document.terraform_version : undefined,
        instances,
        secretValues: secrets,
    };
}

/** Reads and parses state files; labels are made unique when two files share a base name. */
export function readTerraformStates(files: readonly string[]): TerraformState[] {
    const seen = new Map<string, number>();
    return files.map((file) => {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (error) {
            throw new TerraformStateError(`${file}: cannot read the state (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        }
        const base = path.basename(file);
        const count = (seen.get(base) ?? 0) + 1;
        seen.set(base, count);
        return parseTerraformState(text, file, count === 1 ? base : `${base}#${count}`);
    });
}
