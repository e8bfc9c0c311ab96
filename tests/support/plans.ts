/** The offline plan of each stack, run once per test process and shared by the test files. */
import { planStack } from "../../plan/cli";
import type { ProgramRun } from "../../plan/harness";

const runs = new Map<string, Promise<ProgramRun>>();

export function sharedPlan(stack: string): Promise<ProgramRun> {
    let run = runs.get(stack);
    if (!run) {
        run = planStack(stack);
        runs.set(stack, run);
    }
    return run;
}
