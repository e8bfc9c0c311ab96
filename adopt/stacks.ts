/**
 * Which adoption rules serve which stack. The rules of a stack live in `adopt/<cloud>.ts`, next to
 * nothing else, so that the engine stays the same for every stack.
 */
import type { StackAdoption } from "./engine";
import { awsAdoption } from "./aws";
import { gcpAdoption, type KubernetesInventory } from "./gcp";
import { githubAdoption, runnerGroupInventoryProblems, type RunnerGroupInventory } from "./github";

/** What the CLI hands a stack's rules besides the states. */
export interface AdoptionOptions {
    /** A live inventory of objects no Terraform state holds (`--live-inventory FILE`, parsed JSON). */
    readonly liveInventory?: unknown;
}

const ADOPTIONS: Readonly<Record<string, (stack: string, options: AdoptionOptions) => StackAdoption>> = {
    "aws-prod": (stack) => awsAdoption(stack),
    "gcp-prod": (stack, options) => gcpAdoption(stack, { kubernetesInventory: kubernetesInventoryOf(options.liveInventory) }),
    "github-prod": (stack, options) => githubAdoption(stack, runnerGroupInventoryOf(options.liveInventory)),
};

/** A live Kubernetes inventory `{"<kube context>": ["<kind>/<namespace>/<name>", ...]}`; throws on another shape. */
function kubernetesInventoryOf(value: unknown): KubernetesInventory | undefined {
    if (value === undefined) return undefined;
    const valid =
        value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((list) => Array.isArray(list) && list.every((item) => typeof item === "string"));
    if (!valid) throw new Error(`the live inventory must be a JSON object {"<kube context>": ["namespace/<name>", "secret/<namespace>/<name>", ...]}`);
    return value as KubernetesInventory;
}

/** A live runner group inventory (adopt/github.ts); throws with every problem on another shape. */
function runnerGroupInventoryOf(value: unknown): RunnerGroupInventory | undefined {
    if (value === undefined) return undefined;
    const problems = runnerGroupInventoryProblems(value);
    if (problems.length > 0) throw new Error(problems.join("; "));
    return value as RunnerGroupInventory;
}

/** Stacks that can be adopted from Terraform. */
export function adoptableStacks(): string[] {
    return Object.keys(ADOPTIONS).sort();
}

/** The adoption rules of `stack`, or undefined when it has none. */
export function stackAdoption(stack: string, options: AdoptionOptions = {}): StackAdoption | undefined {
    return ADOPTIONS[stack]?.(stack, options);
}
