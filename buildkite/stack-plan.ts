/** The Buildkite stack's whole input, checked before any resource is declared (Pulumi-free: the lint calls it too). */
import { defaultOrganization, type Catalog } from "../catalog";
import { collectingProblems, ProblemsError } from "../lib/problems";
import { planBuildkite, type BuildkiteLayout } from "./layout";
import { layoutPipelines, type PipelineLayout } from "./pipelines";
import { apiTokenProblems, readBuildkiteSettings, type BuildkiteSettings } from "./settings";

/** What the Buildkite stack is built from, every problem of its input found at once. */
export interface BuildkitePlan {
    readonly layout: BuildkiteLayout;
    readonly pipelines: readonly PipelineLayout[];
    readonly settings: BuildkiteSettings;
}

/** Checks the catalog and the stack's config for the Buildkite stack; throws a ProblemsError listing every problem. */
export function planBuildkiteStack(catalog: Catalog, read: (key: string) => string | undefined, stackFile: string): BuildkitePlan {
    const problems: string[] = [];
    const attempt = collectingProblems(problems);
    const { layout, problems: layoutProblems } = planBuildkite(catalog);
    problems.push(...layoutProblems);
    // Every organization with a provider: its clusters', and the pipelines' (the default organization).
    const organizations = [...new Set([...layout.organizations.map((o) => o.slug), ...(defaultOrganization(catalog) ? [defaultOrganization(catalog)!] : [])])];
    problems.push(...apiTokenProblems(read("buildkiteApiToken"), organizations, stackFile));
    const pipelines = attempt(() => layoutPipelines(catalog));
    const settings = attempt(() => readBuildkiteSettings(read, stackFile, Object.keys(catalog.buildkiteClusters)));
    if (problems.length > 0 || !pipelines || !settings) throw new ProblemsError(problems);
    return { layout, pipelines, settings };
}

