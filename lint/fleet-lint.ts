/**
 * The whole lint of a catalog: the catalog's own coherence, the generator's needs, and every
 * stack's fleet checks (AWS: trust stages, template parameters, AMI rollouts; GCP: regions,
 * machine shapes, names; the agent stacks: clusters and token secrets), run against each
 * `Pulumi.<stack>.yaml` of the project. Everything here is pure (no `@pulumi/*`): the same
 * functions the program calls before it declares a resource, so what lint passes, preview passes.
 */
import * as path from "path";
import { lintProblems, type Catalog } from "../catalog";
import { priceProblems } from "../capacity/capacity";
import { generatorCatalogProblems } from "../generator/catalog-check";
import { awsFleetProblems } from "../aws/fleet-problems";
import { readAwsSettings } from "../aws/settings";
import { checkedStackVersions, keptTemplateRules } from "../aws/stack-template";
import { gcpFleetProblems, gkeManagedClusters, layoutGcpFleet } from "../gcp/layout";
import { readGcpSettings } from "../gcp/settings";
import { usageStatsProblems } from "../gcp/usage-stats-config";
import { queueAgreementProblems } from "../buildkite/layout";
import { planBuildkiteStack } from "../buildkite/stack-plan";
import { agentStackProblems } from "../k8s/layout";
import { readK8sSettings } from "../k8s/settings";
import { loadRunnerGroups, tokenConfigProblems } from "../github/runner-groups";
import { problemsOf } from "../lib/problems";
import { listStacks, loadStackConfig, PROJECT_ROOT } from "../plan/stack-config";

/** Runs `step`, turning the problems it throws into lines. */
function collect(problems: string[], step: () => void): void {
    try {
        step();
    } catch (error) {
        const found = problemsOf(error);
        if (!found) throw error;
        problems.push(...found);
    }
}

/** The fleet checks of one stack against `catalog`; `root` holds `Pulumi.<stack>.yaml`. */
export function stackProblems(catalog: Catalog, stack: string, root = PROJECT_ROOT): string[] {
    const stackConfig = loadStackConfig(stack, root);
    const stackFile = `Pulumi.${stack}.yaml`;
    const read = (key: string) => stackConfig.config[`ci:${key}`];
    const problems: string[] = [];
    const cloud = read("cloud");
    if (cloud === "aws") {
        collect(problems, () => {
            const settings = readAwsSettings(read, stackFile);
            const rules = keptTemplateRules(settings.elasticStackVersion);
            if (!rules) {
                problems.push(`${stackFile}: config ci:elasticStackVersion: ${settings.elasticStackVersion} is not a version this program was checked against (checked: ${checkedStackVersions().join(", ")})`);
                return;
            }
            problems.push(...awsFleetProblems(catalog, settings, rules));
        });
    } else if (cloud === "gcp") {
        collect(problems, () => {
            const settings = readGcpSettings(read, stackFile);
            const found = [...gcpFleetProblems(catalog, settings, stackFile), ...usageStatsProblems()];
            problems.push(...found);
            if (found.length > 0) return;
            const managed = gkeManagedClusters(layoutGcpFleet(catalog, settings, stackFile));
            collect(problems, () => problems.push(...agentStackProblems(catalog, readK8sSettings(read, stackFile), stackFile, managed)));
        });
    } else if (cloud === "buildkite") {
        collect(problems, () => problems.push(...queueAgreementProblems(catalog, planBuildkiteStack(catalog, read, stackFile).layout)));
    } else if (cloud === "github") {
        collect(problems, () => {
            const groups = loadRunnerGroups(path.resolve(root, read("githubRunnerGroupsPath") ?? "github/runner-groups.yaml"));
            const declaredSecret = (key: string) => stackConfig.secretKeys.includes(`ci:${key}`);
            problems.push(...tokenConfigProblems(groups, declaredSecret, stackFile, declaredSecret));
        });
    } else {
        problems.push(`${stackFile}: config ci:cloud: must be one of aws, gcp, buildkite, github, not "${cloud}"`);
    }
    return problems;
}

/** Every problem of `catalog`: its own lint, the generator's, and each stack's (one line each, file first). */
export function fleetLintProblems(catalog: Catalog, stacks: readonly string[] = listStacks(), root = PROJECT_ROOT): string[] {
    const inFile = (problem: string) => `${catalog.file}: ${problem}`;
    return [...lintProblems(catalog).map(inFile), ...generatorCatalogProblems(catalog).map(inFile), ...priceProblems(catalog).map(inFile), ...stacks.flatMap((stack) => stackProblems(catalog, stack, root))];
}
