/** The offline plan of each stack, run once per test process and shared by the test files. */
import { planStack } from "../../plan/cli";
import type { ProgramRun } from "../../plan/harness";
import { withConfigReads } from "./config-reads";

interface RecordedPlan {
    readonly run: ProgramRun;
    /** Every `namespace:key` the program read through Pulumi's config during the run. */
    readonly configReads: ReadonlySet<string>;
}

const plans = new Map<string, Promise<RecordedPlan>>();

function recordedPlan(stack: string): Promise<RecordedPlan> {
    let plan = plans.get(stack);
    if (!plan) {
        // Runs are never concurrent (the Pulumi mocks are process-wide), so the keys read are this stack's.
        plan = withConfigReads(() => planStack(stack)).then(({ result, keys }) => ({ run: result, configReads: keys }));
        plans.set(stack, plan);
    }
    return plan;
}

export async function sharedPlan(stack: string): Promise<ProgramRun> {
    return (await recordedPlan(stack)).run;
}

/** The config keys the shared plan of `stack` read: what a secret test needs to be more than vacuous. */
export async function sharedPlanConfigReads(stack: string): Promise<ReadonlySet<string>> {
    return (await recordedPlan(stack)).configReads;
}
