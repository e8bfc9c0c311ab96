/**
 * Keeps the rules of one Elastic CI Stack template next to the program:
 *
 *   npx tsx aws/templates/extract.ts <version> <path/to/aws-stack.yml>
 *
 * writes `aws/templates/elastic-ci-stack-v<version>.json` (parameters' constraints and output
 * names). Run it when adopting a new stack version; `tests/aws/stack-template.test.ts` proves
 * each kept file equals what the real template says.
 */
import * as fs from "fs";
import { writeFileAtomic } from "../../lib/atomic-write";
import { parseCloudFormationYaml } from "../cloudformation-yaml";
import { extractTemplateRules, templateRulesFile, type StackTemplateRules } from "../stack-template";

/** The file's content: provenance first, then the rules. */
export function keptRulesDocument(rules: StackTemplateRules): string {
    const document = {
        source: `https://s3.amazonaws.com/buildkite-aws-stack/v${rules.version}/aws-stack.yml (buildkite/elastic-ci-stack-for-aws, MIT License, Copyright (c) 2016 99designs, Buildkite Pty Ltd)`,
        version: rules.version,
        parameters: rules.parameters,
        outputs: rules.outputs,
        replacesAutoScalingGroup: rules.replacesAutoScalingGroup,
    };
    return `${JSON.stringify(document, null, 2)}\n`;
}

if (require.main === module) {
    const [version, templatePath, ...rest] = process.argv.slice(2);
    if (!version || !templatePath || rest.length > 0) {
        process.stderr.write("usage: npx tsx aws/templates/extract.ts <version> <aws-stack.yml>\n");
        process.exit(2);
    }
    const rules = extractTemplateRules(version, parseCloudFormationYaml(fs.readFileSync(templatePath, "utf8"), templatePath));
    writeFileAtomic(templateRulesFile(version), keptRulesDocument(rules));
    process.stdout.write(`wrote ${templateRulesFile(version)}: ${Object.keys(rules.parameters).length} parameters, ${rules.outputs.length} outputs, ${Object.keys(rules.replacesAutoScalingGroup).length} parameters replacing the autoscaling group\n`);
}
