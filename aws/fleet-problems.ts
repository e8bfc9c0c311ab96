/**
 * Everything that makes the catalog unusable for the AWS stack, found before any resource is
 * declared: one line per problem naming the file, the queue and the field (or the template
 * parameter and what it allows).
 */
import { queuesOf, type AwsQueue, type Catalog } from "../catalog";
import {
    NETWORK_PARAMETERS,
    PARAMETER_SOURCES,
    STACK_NAME_PATTERN,
    acceleratorOf,
    queueStackParameters,
    stackNameOf,
} from "./stack-parameters";
import { parameterProblems, type StackTemplateRules } from "./stack-template";
import { agentBootOf } from "./agent-boot";
import type { AwsSettings } from "./settings";

/** The queues that build a warm-cache AMI, with the queues each one rolls it into. */
export interface AmiBuild {
    /** The queue that builds the AMI (`aws.buildsAmi`). */
    readonly buildQueue: AwsQueue;
    /** The queues it rolls the AMI into (`aws.rollsAmiTo`), in catalog order of that list. */
    readonly targets: readonly AwsQueue[];
    /** The SSM parameter all targets boot from. */
    readonly amiParameter: string;
}

/** The AMI builds the catalog declares (call after `awsFleetProblems` found nothing). */
export function amiBuildsOf(catalog: Catalog): AmiBuild[] {
    return queuesOf(catalog, "aws")
        .filter((queue) => queue.aws?.buildsAmi)
        .map((buildQueue) => {
            const aws = queuesOf(catalog, "aws");
            const targets = (buildQueue.aws?.rollsAmiTo ?? []).flatMap((name) => aws.filter((q) => q.name === name));
            return { buildQueue, targets, amiParameter: targets[0]?.aws?.imageIdParameter ?? "" };
        });
}

function queueProblems(catalog: Catalog, queue: AwsQueue, settings: AwsSettings, rules: StackTemplateRules): string[] {
    const where = `queue "${queue.name}"`;
    const problems: string[] = [];
    // The model only allows trust stages on AWS queues; a GPU queue runs pull-request code whatever its stage.
    if (acceleratorOf(catalog, queue) !== undefined && queue.stage !== "premerge") {
        problems.push(`${where}: field stage: GPU queues run pull-request code and must be premerge, not ${queue.stage}`);
    }
    if (!STACK_NAME_PATTERN.test(stackNameOf(queue))) {
        problems.push(`${where}: field name: stack name ${stackNameOf(queue)} is not a valid CloudFormation stack name (letters, digits, hyphens, at most 128)`);
    }
    for (const name of Object.keys(queue.aws?.parameters ?? {})) {
        const source = PARAMETER_SOURCES[name];
        if (source) problems.push(`${where}: field aws.parameters.${name}: set by the program from ${source}`);
    }
    if (queue.aws?.bootstrapScript && queue.aws.nodejs) {
        problems.push(`${where}: field aws.nodejs: a queue with aws.bootstrapScript boots the GPU script; Node.js is installed only by the fleet's own boot script`);
    }
    const diskGb = queue.machine.diskGb;
    const sizeGb = queue.aws?.rootVolume?.sizeGb;
    if (diskGb !== undefined && sizeGb !== undefined && diskGb !== sizeGb) {
        problems.push(`${where}: field aws.rootVolume.sizeGb: ${sizeGb} contradicts machine.diskGb ${diskGb}; set one of them`);
    }
    if (problems.length > 0) return problems;
    const network = Object.fromEntries(NETWORK_PARAMETERS.map((name) => [name, undefined]));
    return parameterProblems(rules, queue.name, { ...queueStackParameters(catalog, queue, agentBootOf(queue, settings).url), ...network });
}

function amiProblems(catalog: Catalog): string[] {
    const problems: string[] = [];
    const aws = queuesOf(catalog, "aws");
    const rolledBy = new Map<string, string>();
    for (const queue of aws) {
        const where = `queue "${queue.name}"`;
        const targets = queue.aws?.rollsAmiTo ?? [];
        if (queue.aws?.buildsAmi && targets.length === 0) {
            problems.push(`${where}: field aws.rollsAmiTo: a queue that builds an AMI must name the queues it rolls it into`);
        }
        if (!queue.aws?.buildsAmi && targets.length > 0) {
            problems.push(`${where}: field aws.rollsAmiTo: only a queue with aws.buildsAmi rolls out AMIs`);
        }
        if (!queue.aws?.buildsAmi) continue;
        const parameters = new Set<string>();
        for (const name of targets) {
            const target = aws.find((q) => q.name === name);
            if (!target?.aws?.imageIdParameter) continue; // the catalog's own check reports it
            parameters.add(target.aws.imageIdParameter);
            if (target.region !== queue.region) {
                problems.push(`${where}: field aws.rollsAmiTo: queue "${name}" is in ${target.region}, but AMIs built in ${queue.region} stay there`);
            }
            const other = rolledBy.get(target.aws.imageIdParameter);
            if (other && other !== queue.name) {
                problems.push(`${where}: field aws.rollsAmiTo: parameter ${target.aws.imageIdParameter} is already written by queue "${other}"`);
            }
            rolledBy.set(target.aws.imageIdParameter, queue.name);
        }
        if (parameters.size > 1) {
            problems.push(`${where}: field aws.rollsAmiTo: the queues boot from different AMI parameters (${[...parameters].join(", ")}); an AMI build writes one`);
        }
    }
    for (const queue of aws) {
        const parameter = queue.aws?.imageIdParameter;
        if (parameter && !rolledBy.has(parameter)) {
            problems.push(`queue "${queue.name}": field aws.imageIdParameter: no queue with aws.buildsAmi writes ${parameter} (add this queue to its aws.rollsAmiTo)`);
        }
    }
    return problems;
}

/** Every problem of the catalog's AWS queues against the settings and the stack template. */
export function awsFleetProblems(catalog: Catalog, settings: AwsSettings, rules: StackTemplateRules): string[] {
    const queues = queuesOf(catalog, "aws");
    const problems = queues.flatMap((queue) => queueProblems(catalog, queue, settings, rules));
    const byStackName = new Map<string, string>();
    for (const queue of queues) {
        const stackName = stackNameOf(queue);
        const other = byStackName.get(stackName);
        if (other) problems.push(`queue "${queue.name}": field name: gets the same CloudFormation stack name as queue "${other}" (${stackName})`);
        byStackName.set(stackName, queue.name);
    }
    problems.push(...amiProblems(catalog));
    return problems.map((problem) => `${catalog.file}: ${problem}`);
}
