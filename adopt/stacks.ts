/**
 * Which adoption rules serve which stack. The rules of a stack live in `adopt/<cloud>.ts`, next to
 * nothing else, so that the engine stays the same for every stack.
 */
import type { StackAdoption } from "./engine";
import { awsAdoption } from "./aws";
import { gcpAdoption } from "./gcp";

const ADOPTIONS: Readonly<Record<string, (stack: string) => StackAdoption>> = {
    "aws-prod": awsAdoption,
    "gcp-prod": gcpAdoption,
};

/** Stacks that can be adopted from Terraform. */
export function adoptableStacks(): string[] {
    return Object.keys(ADOPTIONS).sort();
}

/** The adoption rules of `stack`, or undefined when it has none. */
export function stackAdoption(stack: string): StackAdoption | undefined {
    return ADOPTIONS[stack]?.(stack);
}
