/**
 * `npm run images -- <command>`:
 *   pipeline           writes images/rebuild-pipeline.yml from the catalog (atomically)
 *   pipeline --check   exits 1 when the committed file is not what the catalog gives
 *   gpu-vars           prints the `packer build` command of the GPU AMI, per region, with the catalog's facts
 * Options: --catalog FILE (default catalog/queues.yaml), --stack NAME (the AWS stack; default the one with ci:cloud aws).
 * Exit codes: 0 fine, 1 stale file, 2 unusable input or usage (one line per problem).
 */
import * as fs from "fs";
import * as path from "path";
import { loadCatalog } from "../catalog";
import { awsFleetProblems } from "../aws/fleet-problems";
import { readAwsSettings, type AwsSettings } from "../aws/settings";
import { checkedStackVersions, keptTemplateRules } from "../aws/stack-template";
import { writeFileAtomic } from "../lib/atomic-write";
import { ProblemsError, problemsOf } from "../lib/problems";
import { listStacks, loadStackConfig, PROJECT_ROOT } from "../plan/stack-config";
import { gpuBuildCommands } from "./gpu-image";
import { AMI_REBUILD_PIPELINE_FILE, rebuildPipelineYaml } from "./rebuild-pipeline";
import { runMain } from "../lib/cli-entry";

/** The fleet catalog, from the repository root. */
const CATALOG_FILE = path.join("catalog", "queues.yaml");
const USAGE = "usage: npm run images -- pipeline [--check] | gpu-vars  [--catalog FILE] [--stack NAME]";

/** The AWS stack's settings: of `stack`, or of the one stack whose ci:cloud is aws. */
export function awsStackSettings(root: string, stack?: string): AwsSettings {
    const candidates = stack ? [stack] : listStacks(root).filter((name) => loadStackConfig(name, root).config["ci:cloud"] === "aws");
    if (candidates.length !== 1) throw new ProblemsError([`stacks: expected one AWS stack (ci:cloud aws), found ${candidates.length}: ${candidates.join(", ") || "none"} (pass --stack)`]);
    const config = loadStackConfig(candidates[0], root).config;
    const stackFile = `Pulumi.${candidates[0]}.yaml`;
    const settings = readAwsSettings((key) => config[`ci:${key}`], stackFile);
    if (!keptTemplateRules(settings.elasticStackVersion)) {
        throw new ProblemsError([`${stackFile}: config ci:elasticStackVersion: ${settings.elasticStackVersion} is not a version this program was checked against (checked: ${checkedStackVersions().join(", ")})`]);
    }
    return settings;
}

export function main(argv: string[], root = PROJECT_ROOT, out = process.stdout, err = process.stderr): number {
    const options = new Map<string, string>();
    const words: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--catalog" || argv[i] === "--stack") options.set(argv[i], argv[++i] ?? "");
        else words.push(argv[i]);
    }
    const [command, ...flags] = words;
    const check = flags.length === 1 && flags[0] === "--check" && command === "pipeline";
    if (!((command === "pipeline" && (flags.length === 0 || check)) || (command === "gpu-vars" && flags.length === 0))) {
        err.write(`${USAGE}\n`);
        return 2;
    }
    try {
        const catalog = loadCatalog(options.get("--catalog") ?? path.join(root, CATALOG_FILE));
        if (command === "gpu-vars") {
            out.write(gpuBuildCommands(catalog).map((line) => `${line}\n`).join(""));
            return 0;
        }
        const settings = awsStackSettings(root, options.get("--stack"));
        const problems = awsFleetProblems(catalog, settings, keptTemplateRules(settings.elasticStackVersion)!);
        if (problems.length > 0) throw new ProblemsError(problems);
        const text = rebuildPipelineYaml(catalog, settings);
        const file = path.join(root, AMI_REBUILD_PIPELINE_FILE);
        if (check) {
            const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
            if (committed === text) return 0;
            err.write(`error: ${AMI_REBUILD_PIPELINE_FILE}: stale; run npm run images -- pipeline\n`);
            return 1;
        }
        writeFileAtomic(file, text);
        out.write(`wrote ${AMI_REBUILD_PIPELINE_FILE}\n`);
        return 0;
    } catch (error) {
        const problems = problemsOf(error);
        if (!problems) throw error;
        for (const line of problems) err.write(`error: ${line}\n`);
        return 2;
    }
}

if (require.main === module) runMain(main);
