/**
 * The AWS part of the fleet (stack aws-prod): one Elastic CI Stack per catalog queue, the network
 * of each region, the build caches, artifact buckets and CI secrets, the warm-cache AMI, and the
 * IAM policies that draw the trust boundary between pull-request code and what it must not touch.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { queuesOf, ssmTokenParameterOf, type Catalog } from "../catalog";
import { BUNDLE_BUCKET_REGION } from "../lib/bundle-delivery";
import { ProblemsError } from "../lib/problems";
import { agentBootOf } from "./agent-boot";
import { ArtifactBucket } from "./artifact-bucket";
import { BuildCacheRepository } from "./build-cache-repository";
import { BundleBucket } from "./bundle-bucket";
import { CiSecret } from "./ci-secret";
import { ElasticStackQueue } from "./elastic-stack-queue";
import { amiBuildsOf, awsFleetProblems } from "./fleet-problems";
import { accessProfileOf, queuePolicy } from "./iam-policies";
import { RegionalNetwork, networkNameTag } from "./regional-network";
import { AWS_CONFIG_KEYS, readAwsSettings, zonesOf, type AwsSettings } from "./settings";
import { acceleratorOf, queueStackParameters, stackNameOf, templateUrlOf } from "./stack-parameters";
import { checkedStackVersions, keptTemplateRules, type StackTemplateRules } from "./stack-template";
import { WarmCacheAmi, latestElasticStackAmi } from "./warm-cache-ami";

export { readAwsSettings, type AwsSettings } from "./settings";

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
    const defaultTags = Object.keys(settings.defaultTags).length > 0 ? { defaultTags: { tags: { ...settings.defaultTags } } } : {};
    for (const region of sorted([...queueRegions, settings.homeRegion, settings.buildCacheRegion, BUNDLE_BUCKET_REGION])) {
        providers.set(region, new aws.Provider(`aws-${region}`, { region, allowedAccountIds: [settings.accountId], ...defaultTags }));
    }
    const inRegion = (region: string): pulumi.ComponentResourceOptions => ({ provider: providers.get(region) });

    const gpuRegions = new Set(queues.filter((queue) => acceleratorOf(catalog, queue) !== undefined).map((queue) => queue.region));
    const networks = new Map(
        queueRegions.map((region) => [
            region,
            new RegionalNetwork(
                `network-${region}`,
                { region, zones: zonesOf(settings, region), nameTag: networkNameTag(region, settings.homeRegion), modelWeightsFileSystem: gpuRegions.has(region) },
                inRegion(region),
            ),
        ]),
    );

    const buildCaches = {
        pullRequest: new BuildCacheRepository("pr-build-cache", { repositoryName: settings.buildCacheRepositories.pullRequest }, inRegion(settings.buildCacheRegion)),
        postmerge: new BuildCacheRepository("postmerge-build-cache", { repositoryName: settings.buildCacheRepositories.postmerge }, inRegion(settings.buildCacheRegion)),
    };
    const home = inRegion(settings.homeRegion);
    const bucket = (name: string, bucketName: string) => new ArtifactBucket(name, { bucketName, access: settings.bucketAccess[bucketName] }, home);
    bucket("wheels", settings.buckets.wheels);
    bucket("dev-wheels", settings.buckets.devWheels);
    bucket("compiler-cache", settings.buckets.compilerCache);
    const secrets = {
        hfToken: new CiSecret("hf-token", { secretName: settings.secretNames.hfToken }, home),
        analyticsToken: new CiSecret("analytics-token", { secretName: settings.secretNames.analyticsToken }, home),
    };

    // Before the stacks: those booting from the AMI parameter read it when they create instances.
    const amiBuilds = amiBuildsOf(catalog);
    const amiParameters = new Map<string, WarmCacheAmi>();
    for (const build of amiBuilds) {
        const region = build.buildQueue.region;
        const network = networks.get(region) as RegionalNetwork;
        const arch = catalog.machineTypes[build.targets[0].machine.type]?.arch ?? "x86_64";
        amiParameters.set(
            build.amiParameter,
            new WarmCacheAmi(
                `${build.buildQueue.name}-warm-cache-ami`,
                {
                    region,
                    amiParameter: build.amiParameter,
                    seedImageId: settings.warmCacheAmiSeed ?? latestElasticStackAmi(arch, providers.get(region) as aws.Provider),
                    vpcId: network.vpcId,
                    vpcCidr: network.cidrBlock,
                    builderSubnetId: network.subnetIds[0],
                },
                inRegion(region),
            ),
        );
    }

    const boots = new Map(queues.map((queue) => [queue.name, agentBootOf(queue, settings)]));
    const bootScripts = new Map<string, { key: string; content: string }>();
    for (const boot of boots.values()) if (boot.script) bootScripts.set(boot.script.key, boot.script);
    const bundles = new BundleBucket(
        "bundles",
        {
            accountId: settings.accountId,
            publisherRepository: settings.bundlePublisherRepository,
            createGithubOidc: settings.githubOidcProvider === "create",
            agentBootScripts: [...bootScripts.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
        },
        inRegion(BUNDLE_BUCKET_REGION),
    );

    const secretArns = pulumi.all([secrets.hfToken.arn, secrets.analyticsToken.arn]);
    for (const queue of queues) {
        const region = queue.region;
        const network = networks.get(region) as RegionalNetwork;
        const boot = boots.get(queue.name)!;
        const build = amiBuilds.find((candidate) => candidate.buildQueue.name === queue.name);
        const amiBuild = build ? { region, amiParameter: build.amiParameter, targetStacks: build.targets.map(stackNameOf) } : undefined;
        const readsAtDeploy: pulumi.Resource[] = [];
        const imageParameter = queue.aws?.imageIdParameter ? amiParameters.get(queue.aws.imageIdParameter) : undefined;
        if (imageParameter) readsAtDeploy.push(imageParameter.amiParameter);
        if (boot.script) readsAtDeploy.push(bundles.agentBootObjects.get(boot.script.key)!, bundles.bucketPolicy);
        new ElasticStackQueue(
            queue.name,
            {
                stackName: stackNameOf(queue),
                templateUrl: templateUrlOf(settings.elasticStackVersion),
                parameters: queueStackParameters(catalog, queue, boot.url),
                vpcId: network.vpcId,
                subnetIds: network.subnetIds,
                securityGroupId: network.agentSecurityGroupId,
                instanceRolePolicyName: `vllm-ci-${accessProfileOf(catalog, queue)}-access`,
                instanceRolePolicy: secretArns.apply((arns) => JSON.stringify(queuePolicy(catalog, queue, { settings, secretArns: arns }, amiBuild))),
                readsAtDeploy,
            },
            inRegion(region),
        );
    }

    const tokenParameters: Record<string, string[]> = {};
    for (const region of queueRegions) {
        tokenParameters[region] = sorted(queues.filter((q) => q.region === region).map((q) => ssmTokenParameterOf(catalog, q)));
    }
    return {
        elasticStacks: Object.fromEntries(queues.map((queue) => [queue.name, stackNameOf(queue)])),
        elasticStackVersion: settings.elasticStackVersion,
        vpcIds: Object.fromEntries([...networks].map(([region, network]) => [region, network.vpcId])),
        buildCacheRepositoryUrls: { pullRequest: buildCaches.pullRequest.repositoryUrl, postmerge: buildCaches.postmerge.repositoryUrl },
        /** SSM SecureString parameters an operator must create before `pulumi up` (region → names). */
        agentTokenParameters: tokenParameters,
        /** Secrets an operator sets after the first `pulumi up`. */
        secretsToSet: { hfToken: secrets.hfToken.arn, analyticsToken: secrets.analyticsToken.arn },
        warmCacheAmiParameters: [...amiParameters.values()].map((ami, i) => `${amiBuilds[i].buildQueue.region}:${ami.amiParameterName}`),
        /** For the GitHub repository variables BUNDLES_PRODUCTION_ROLE_ARN and BUNDLES_BRANCH_ROLE_ARN. */
        bundlePublisherRoleArns: bundles.publisherRoleArns,
    };
}
