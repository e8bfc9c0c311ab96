/**
 * Stack configuration as `pulumi` would hand it to the program: project defaults from
 * `Pulumi.yaml`, overlaid by `Pulumi.<stack>.yaml`. Secret values are never in those files, so the
 * offline plan stands in a placeholder, marked secret, for every secret the program may read.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

interface ConfigDeclaration {
    type?: string;
    default?: unknown;
    secret?: boolean;
    value?: unknown;
}

export interface StackConfig {
    project: string;
    stack: string;
    /** `namespace:key` → value as the engine passes it (structured values as JSON). */
    config: Record<string, string>;
    secretKeys: string[];
}

/** The placeholder the plan uses for a secret the stack file cannot hold. */
export function secretPlaceholder(key: string): string {
    return `plan-placeholder-for-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Lists the stacks that have a `Pulumi.<stack>.yaml` in the project. */
export function listStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

export function loadStackConfig(stack: string, root = PROJECT_ROOT): StackConfig {
    const projectFile = path.join(root, "Pulumi.yaml");
    const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        throw new Error(`no stack "${stack}": ${path.relative(process.cwd(), stackFile)} does not exist (stacks: ${listStacks(root).join(", ")})`);
    }
    const project = yaml.load(fs.readFileSync(projectFile, "utf8")) as { name: string; config?: Record<string, ConfigDeclaration> };
    const stackDoc = (yaml.load(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
        const value = declaration?.value ?? declaration?.default;
        if (value !== undefined) config[fullKey] = asConfigString(value);
        if (declaration?.secret) {
            config[fullKey] = secretPlaceholder(fullKey);
            secretKeys.push(fullKey);
        }
    }
    for (const [key, value] of Object.entries(stackDoc.config ?? {})) {
        const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
        if (value && typeof value === "object" && "secure" in (value as object)) {
            config[fullKey] = secretPlaceholder(fullKey);
            secretKeys.push(fullKey);
        } else {
            config[fullKey] = asConfigString(value);
        }
    }
    return { project: project.name, stack, config, secretKeys: [...new Set(secretKeys)].sort() };
}
