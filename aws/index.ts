/**
 * The AWS part of the fleet (stack aws-prod): one Elastic CI Stack per catalog queue, the network
 * of each region, the build caches, artifact buckets and CI secrets, the warm-cache AMI, and the
 * IAM policies that draw the trust boundary between pull-request code and what it must not touch.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { queuesOf, ssmTokenParameterOf, type Catalog } from "../catalog";
import { ProblemsError } from "../lib/problems";
import { ArtifactBucket } from "./artifact-bucket";
import { BuildCacheRepository } from "./build-cache-repository";
import { CiSecret } from "./ci-secret";
import { ElasticStackQueue } from "./elastic-stack-queue";
import { amiBuildsOf, awsFleetProblems } from "./fleet-problems";
import { stagePolicy } from "./iam-policies";
import { RegionalNetwork } from "./regional-network";
import { AWS_CONFIG_KEYS, readAwsSettings, zonesOf, type AwsSettings } from "./settings";
import { acceleratorOf, queueStackParameters, stackNameOf, templateUrlOf } from "./stack-parameters";
import { checkedStackVersions, keptTemplateRules, type StackTemplateRules } from "./stack-template";
import { WarmCacheAmi, latestElasticStackAmi } from "./warm-cache-ami";

export { readAwsSettings, type AwsSettings } from "./settings";

/** Tags every AWS resource of the fleet carries (the providers' default tags). */
export const FLEET_TAGS = { "managed-by": "pulumi", project: "vllm-ci" } as const;

/** The kept rules of the configured template version; a version never checked is a problem of the stack file. */
export function templateRulesOrFail(settings: AwsSettings, stackFile: string): StackTemplateRules {
    const rules = keptTemplateRules(settings.elasticStackVersion);
    if (!rules) {
        throw new ProblemsError([
            `${stackFile}: config ci:${AWS_CONFIG_KEYS.elasticStackVersion}: ${settings.elasticStackVersion} is not a version this program was checked against ` +
                `(checked: ${checkedStackVersions().join(", ")}; add one with aws/templates/extract.ts)`,
        ]);
    }
    return rules;
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/**
 * Builds every AWS queue of the catalog and what they need. Every problem of the settings and the
 * catalog is found before any resource is declared, and thrown at once (`ProblemsError`).
 */
export function buildAwsFleet(catalog: Catalog, stackFile: string): Record<string, pulumi.Input<unknown>> {
    const config = new pulumi.Config("ci");
    const settings = readAwsSettings((key) => config.get(key), stackFile);
    const rules = templateRulesOrFail(settings, stackFile);
    const problems = awsFleetProblems(catalog, settings, rules);
    if (problems.length > 0) throw new ProblemsError(problems);

    const queues = queuesOf(catalog, "aws");
    const queueRegions = sorted(queues.map((queue) => queue.region));
    const providers = new Map<string, aws.Provider>();
    for (const region of sorted([...queueRegions, settings.homeRegion, settings.buildCacheRegion])) {
        providers.set(region, new aws.Provider(`aws-${region}`, { region, allowedAccountIds: [settings.accountId], defaultTags: { tags: { ...FLEET_TAGS } } }));
    }
    const inRegion = (region: string): pulumi.ComponentResourceOptions => ({ provider: providers.get(region) });

    const gpuRegions = new Set(queues.filter((queue) => acceleratorOf(catalog, queue) !== undefined).map((queue) => queue.region));
    const networks = new Map(
        queueRegions.map((region) => [
            region,
            new RegionalNetwork(`network-${region}`, { region, zones: zonesOf(settings, region), modelWeightsFileSystem: gpuRegions.has(region) }, inRegion(region)),
        ]),
    );

    const buildCaches = {
        pullRequest: new BuildCacheRepository("pr-build-cache", { repositoryName: settings.buildCacheRepositories.pullRequest }, inRegion(settings.buildCacheRegion)),
        postmerge: new BuildCacheRepository("postmerge-build-cache", { repositoryName: settings.buildCacheRepositories.postmerge }, inRegion(settings.buildCacheRegion)),
    };
    const home = inRegion(settings.homeRegion);
    new ArtifactBucket("wheels", { bucketName: settings.buckets.wheels }, home);
    new ArtifactBucket("dev-wheels", { bucketName: settings.buckets.devWheels }, home);
    new ArtifactBucket("compiler-cache", { bucketName: settings.buckets.compilerCache }, home);
    const replicaRegions = queueRegions.filter((region) => region !== settings.homeRegion);
    const secrets = {
        hfToken: new CiSecret(
            "hf-token",
            { secretName: settings.secretNames.hfToken, description: "Hugging Face token CI jobs download models with; set out of band", replicaRegions },
            home,
        ),
        analyticsToken: new CiSecret(
            "analytics-token",
            { secretName: settings.secretNames.analyticsToken, description: "Buildkite Test Analytics token CI jobs report with; set out of band", replicaRegions },
            home,
        ),
    };

    const stacks = new Map<string, ElasticStackQueue>();
    for (const queue of queues) {
        const region = queue.region;
        const network = networks.get(region) as RegionalNetwork;
        const stage = queue.stage;
        stacks.set(
            queue.name,
            new ElasticStackQueue(
                queue.name,
                {
                    stackName: stackNameOf(queue.name),
                    templateUrl: templateUrlOf(settings.elasticStackVersion),
                    parameters: queueStackParameters(catalog, queue, settings),
                    vpcId: network.vpcId,
                    subnetIds: network.subnetIds,
                    securityGroupId: network.agentSecurityGroupId,
                    instanceRolePolicyName: `vllm-ci-${stage}-access`,
                    instanceRolePolicy: JSON.stringify(stagePolicy(stage, { settings, region })),
                },
                inRegion(region),
            ),
        );
    }

    const amiParameters: string[] = [];
    for (const build of amiBuildsOf(catalog)) {
        const region = build.buildQueue.region;
        const network = networks.get(region) as RegionalNetwork;
        const arch = catalog.machineTypes[build.targets[0].machine.type]?.arch ?? "x86_64";
        new WarmCacheAmi(
            `${build.buildQueue.name}-warm-cache-ami`,
            {
                region,
                accountId: settings.accountId,
                buildQueue: build.buildQueue.name,
                buildQueueRoleName: (stacks.get(build.buildQueue.name) as ElasticStackQueue).instanceRoleName,
                amiParameter: build.amiParameter,
                seedImageId: settings.warmCacheAmiSeed ?? latestElasticStackAmi(arch, providers.get(region) as aws.Provider),
                vpcId: network.vpcId,
                vpcCidr: network.cidrBlock,
                builderSubnetId: network.subnetIds[0],
                targets: build.targets.map((target) => {
                    const stack = stacks.get(target.name) as ElasticStackQueue;
                    return { stackName: stack.stackName, autoScalingGroupName: stack.autoScalingGroupName, instanceRoleName: stack.instanceRoleName };
                }),
            },
            inRegion(region),
        );
        amiParameters.push(`${region}:${build.amiParameter}`);
    }

    const tokenParameters: Record<string, string[]> = {};
    for (const region of queueRegions) {
        tokenParameters[region] = sorted(queues.filter((q) => q.region === region).map((q) => ssmTokenParameterOf(catalog, q)));
    }
    return {
        elasticStacks: Object.fromEntries(queues.map((queue) => [queue.name, stackNameOf(queue.name)])),
        elasticStackVersion: settings.elasticStackVersion,
        vpcIds: Object.fromEntries([...networks].map(([region, network]) => [region, network.vpcId])),
        buildCacheRepositoryUrls: { pullRequest: buildCaches.pullRequest.repositoryUrl, postmerge: buildCaches.postmerge.repositoryUrl },
        /** SSM SecureString parameters an operator must create before `pulumi up` (region → names). */
        agentTokenParameters: tokenParameters,
        /** Secrets an operator sets after the first `pulumi up`. */
        secretsToSet: { hfToken: secrets.hfToken.arn, analyticsToken: secrets.analyticsToken.arn },
        warmCacheAmiParameters: amiParameters,
    };
}
