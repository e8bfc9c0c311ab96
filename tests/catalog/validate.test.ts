/**
 * `catalogProblems` on a small catalog of the tests' own, one flaw at a time, each compared with
 * the exact line it must give (the loader's schema is bypassed: these are the checks across entries).
 */
import { strict as assert } from "assert";
import { catalogProblems, parseCatalog, queuesOf, type Catalog } from "../../catalog";

const CATALOG = `
machineTypes:
  r6in.large: {}
  g6.4xlarge: { accelerator: nvidia-l4, count: 1 }
  g2-standard-12: { accelerator: nvidia-l4, count: 1 }
  v6e-1: { accelerator: tpu-v6e, count: 1 }
  n2-highmem-4: {}
buildkiteOrganizations:
  main: { default: true, gcpSecrets: { project: proj-one, hfToken: hf } }
  other: {}
gcpProjects:
  proj-one: {}
buildkiteClusters:
  ci: { ssmTokenParameter: /bk_ci, gcpSecretId: bk-ci }
  aws_only: { ssmTokenParameter: /bk_aws }
  elsewhere: { organization: other, gcpSecretId: bk-other, metricsExporter: { project: proj-one, zone: us-central1-b, name: m, machineType: e2-micro, image: i, version: 5.5.0 } }
gkeClusters:
  standard: { region: us-central1, zones: [us-central1-a], project: proj-one }
  auto: { region: us-central1, zones: [], autopilot: true }
defaults:
  aws: { region: us-west-2, cluster: ci, stage: premerge, scale: { min: 0, max: 2 } }
  gke: { stage: premerge, cluster: ci, reachedBy: name }
  tpu: { stage: premerge, cluster: ci, reachedBy: name }
  gce: { stage: premerge, cluster: ci, reachedBy: name }
  k8s: { stage: premerge, cluster: ci, reachedBy: name }
  external: { stage: any }
queues:
  - { name: cpu, provider: aws, machine: { type: r6in.large } }
  - { name: gpu, provider: aws, machine: { type: g6.4xlarge, accelerator: nvidia-l4, count: 1 }, aws: { imageIdParameter: /ami } }
  - { name: builder, provider: aws, stage: postmerge, reachedBy: name, machine: { type: r6in.large }, aws: { buildsAmi: true, rollsAmiTo: [gpu] } }
  - { name: l4, provider: gke, machine: { type: g2-standard-12 }, scale: { min: 0, max: 1 }, gke: { clusters: [standard] } }
  - { name: tpu, provider: tpu, machine: { type: v6e-1 }, tpu: { acceleratorType: v6e-1, runtimeVersion: r, groups: [{ project: proj-one, zone: us-east5-b, count: 1, vmName: "t-{index}" }] } }
  - { name: tpu, provider: tpu, cluster: elsewhere, machine: { type: v6e-1 }, tpu: { acceleratorType: v6e-1, runtimeVersion: r, groups: [{ project: proj-one, zone: us-east5-b, count: 1, vmName: "o-{index}" }] } }
  - { name: group, provider: gce, machine: { type: n2-highmem-4 }, scale: { min: 1, max: 1 }, gce: { region: us-central1, project: proj-one, group: { name: g, baseInstanceName: gi, templatePrefix: gt-, zones: [us-central1-a] } } }
  - { name: fixed, provider: gce, machine: { type: n2-highmem-4 }, gce: { image: i, instances: [{ project: proj-one, zone: us-east5-b, count: 2, name: "f-{index}" }] } }
  - { name: pods, provider: k8s, k8s: { cluster: partner-cluster } }
  - { name: partner, provider: external }
devices:
  default: { plugin: docker, template: default }
  cpu: { plugin: docker, template: default }
  mi: { plugin: amd, amdGpus: 2 }
routing:
  - { match: { device: [cpu] }, queue: cpu }
  - { match: { device: [mi] }, queue: partner }
  - queue: gpu
`;

const base = parseCatalog(CATALOG, "v.yaml");
const problemsWith = (edit: (catalog: Catalog) => void): string[] => {
    const catalog = structuredClone(base);
    edit(catalog);
    return catalogProblems(catalog);
};
const aws = (catalog: Catalog, name: string) => queuesOf(catalog, "aws").find((q) => q.name === name)!;
const gce = (catalog: Catalog, name: string) => queuesOf(catalog, "gce").find((q) => q.name === name)!;

describe("catalog checks across entries", () => {
    it("find nothing in a coherent catalog", () => {
        assert.deepEqual(catalogProblems(base), []);
    });

    const cases: [string, (catalog: Catalog) => void, string[]][] = [
        ["a duplicate name", (c) => c.queues.push(structuredClone(c.queues[0])), ['queue "cpu": field name: declared more than once in organization main']],
        ["the same name in two organizations (fine)", () => undefined, []],
        ["an unknown organization", (c) => (c.buildkiteClusters.elsewhere.organization = "othr"), ['buildkiteClusters "elsewhere": field organization: unknown organization "othr" (did you mean "other"?)']],
        ["no default organization", (c) => delete c.buildkiteOrganizations.main.default, ["buildkiteOrganizations: field default: exactly one organization is the default (the one the generator routes), not 0"]],
        ["a TPU group in an undeclared project", (c) => (queuesOf(c, "tpu")[0].tpu.groups[0].project = "proj-onr"), ['queue "tpu": field tpu.groups[0].project: project "proj-onr" is not in gcpProjects (did you mean "proj-one"?)']],
        ["an AWS queue on a cluster without SSM parameter", (c) => (aws(c, "builder").cluster = "elsewhere"), ['queue "builder": field cluster: Buildkite cluster "elsewhere" has no ssmTokenParameter, which AWS agents read their token from']],
        ["a TPU queue on a cluster without secret", (c) => (queuesOf(c, "tpu")[0].cluster = "aws_only"), ['queue "tpu": field cluster: Buildkite cluster "aws_only" has no gcpSecretId, which tpu agents read their token from']],
        ["a rule to another organization's queue", (c) => (c.routing[0].queue = "tpu"), []],
        ["an unknown Buildkite cluster", (c) => (aws(c, "cpu").cluster = "cj"), ['queue "cpu": field cluster: unknown Buildkite cluster "cj" (did you mean "ci"?)']],
        ["min above max", (c) => (aws(c, "cpu").scale = { min: 3, max: 2 }), ['queue "cpu": field scale.min: 3 is greater than scale.max (2)']],
        ["min equal to max (fine)", (c) => (aws(c, "cpu").scale = { min: 2, max: 2 }), []],
        ["an unknown machine type", (c) => (aws(c, "cpu").machine.type = "r6in.larg"), ['queue "cpu": field machine.type: unknown machine type "r6in.larg" (did you mean "r6in.large"?)']],
        ["another accelerator than the machine type's", (c) => (aws(c, "gpu").machine.accelerator = "nvidia-a10"), ['queue "gpu": field machine.accelerator: nvidia-a10 does not match machine type g6.4xlarge (nvidia-l4)']],
        ["an accelerator on a CPU machine", (c) => (aws(c, "cpu").machine.accelerator = "nvidia-l4"), ['queue "cpu": field machine.accelerator: nvidia-l4 does not match machine type r6in.large (no accelerator)']],
        ["another count than the machine type's", (c) => (aws(c, "gpu").machine.count = 2), ['queue "gpu": field machine.count: 2 does not match machine type g6.4xlarge (1 accelerators)']],
        ["a count on a CPU machine", (c) => (aws(c, "cpu").machine.count = 1), ['queue "cpu": field machine.count: 1 does not match machine type r6in.large (0 accelerators)']],
        ["an unknown GKE cluster", (c) => (queuesOf(c, "gke")[0].gke.clusters = ["standrd"]), ['queue "l4": field gke.clusters: unknown GKE cluster "standrd" (did you mean "standard"?)']],
        ["a pool on an Autopilot cluster", (c) => (queuesOf(c, "gke")[0].gke.clusters = ["standard", "auto"]), ['queue "l4": field gke.clusters: "auto" is an Autopilot cluster and takes no node pools']],
        ["a TPU type other than the machine's", (c) => (queuesOf(c, "tpu")[0].tpu.acceleratorType = "v6e-8"), ['queue "tpu": field tpu.acceleratorType: v6e-8 differs from machine.type v6e-1']],
        ["both an AMI and an AMI parameter", (c) => (aws(c, "gpu").aws!.imageId = "ami-0123456789abcdef0"), ['queue "gpu": field aws.imageId: set either imageId or imageIdParameter, not both']],
        ["a rollout to an unknown queue", (c) => (aws(c, "builder").aws!.rollsAmiTo = ["gpv"]), ['queue "builder": field aws.rollsAmiTo: unknown queue "gpv" (did you mean "gpu"?)']],
        ["a rollout to a queue without an AMI parameter", (c) => (aws(c, "builder").aws!.rollsAmiTo = ["cpu"]), ['queue "builder": field aws.rollsAmiTo: queue "cpu" does not boot from an AMI parameter']],
        ["a rollout to a queue of another provider", (c) => (aws(c, "builder").aws!.rollsAmiTo = ["tpu"]), ['queue "builder": field aws.rollsAmiTo: queue "tpu" does not boot from an AMI parameter']],
        ["a builder group in an undeclared project", (c) => (gce(c, "group").gce.project = "proj-onr"), ['queue "group": field gce.project: project "proj-onr" is not in gcpProjects (did you mean "proj-one"?)']],
        ["fixed VMs in an undeclared project", (c) => (gce(c, "fixed").gce.instances![0].project = "proj-onx"), ['queue "fixed": field gce.instances[0].project: project "proj-onx" is not in gcpProjects (did you mean "proj-one"?)']],
        ["fixed VMs with a scale", (c) => (gce(c, "fixed").scale = { min: 1, max: 2 }), ['queue "fixed": field gce.instances: fixed VMs take no group or scale (their number is each entry\'s count)']],
        ["fixed VMs with a group", (c) => (gce(c, "fixed").gce.group = structuredClone(gce(c, "group").gce.group)), ['queue "fixed": field gce.instances: fixed VMs take no group or scale (their number is each entry\'s count)']],
        ["a builder group without a scale", (c) => delete gce(c, "group").scale, ['queue "group": field scale: a managed instance group needs scale.min and scale.max']],
        ["a builder group without a region", (c) => delete gce(c, "group").gce.region, ['queue "group": field gce.region: a managed instance group needs its region']],
        ["projects unchecked when the catalog declares none", (c) => {
            c.gcpProjects = {};
            gce(c, "group").gce.project = "anything";
        }, []],
        ["an exporter in an undeclared project", (c) => (c.buildkiteClusters.elsewhere.metricsExporter!.project = "proj-onr"), ['buildkiteClusters "elsewhere": field metricsExporter.project: project "proj-onr" is not in gcpProjects (did you mean "proj-one"?)']],
        ["an organization's secrets in an undeclared project", (c) => (c.buildkiteOrganizations.main.gcpSecrets!.project = "proj-onr"), ['buildkiteOrganizations "main": field gcpSecrets.project: project "proj-onr" is not in gcpProjects (did you mean "proj-one"?)']],
        ["a GKE cluster in an undeclared project", (c) => (c.gkeClusters.standard.project = "proj-onr"), ['gkeClusters "standard": field project: project "proj-onr" is not in gcpProjects (did you mean "proj-one"?)']],
        ["a single organization without a default (fine)", (c) => {
            delete c.buildkiteOrganizations.main.default;
            delete c.buildkiteOrganizations.other;
            delete c.buildkiteClusters.elsewhere;
            c.queues = c.queues.filter((q) => q.cluster !== "elsewhere");
        }, []],
        ["a GCE queue on a cluster without secret", (c) => (gce(c, "group").cluster = "aws_only"), ['queue "group": field cluster: Buildkite cluster "aws_only" has no gcpSecretId, which gce agents read their token from']],
        ["a k8s queue on a cluster without secret", (c) => (queuesOf(c, "k8s")[0].cluster = "aws_only"), ['queue "pods": field cluster: Buildkite cluster "aws_only" has no gcpSecretId, which k8s agents read their token from']],
        ["a GKE queue on a cluster without secret", (c) => (queuesOf(c, "gke")[0].cluster = "aws_only"), ['queue "l4": field cluster: Buildkite cluster "aws_only" has no gcpSecretId, which gke agents read their token from']],
        ["a docker device without its template", (c) => delete c.devices.cpu.template, ['device "cpu": missing field "template"']],
        ["an AMD device without its GPU count", (c) => delete c.devices.mi.amdGpus, ['device "mi": missing field "amdGpus"']],
        ["a GPU count on a docker device", (c) => (c.devices.cpu.amdGpus = 1), ['device "cpu": field amdGpus: only allowed with plugin amd']],
        ["an AMD default device", (c) => (c.devices.default = { plugin: "amd", amdGpus: 1 }), ['device "default": field plugin: the default device cannot be an AMD device']],
        ["a rule to an unknown queue", (c) => (c.routing[0].queue = "cpv"), ['routing rule 1: field queue: unknown queue "cpv" (did you mean "cpu"?)']],
        ["a main/other rule to an unknown queue", (c) => (c.routing[0].queue = { main: "cpu", other: "gpx" }), ['routing rule 1: field queue: unknown queue "gpx" (did you mean "gpu"?)']],
        ["a rule naming an unknown device", (c) => (c.routing[0].match = { device: ["cpv"] }), ['routing rule 1: field match.device: unknown device "cpv" (did you mean "cpu"?)']],
        ["a rule naming a misspelt device, never suggesting `default`", (c) => (c.routing[0].match = { device: ["defaulr"] }), ['routing rule 1: field match.device: unknown device "defaulr"']],
        ["a rule naming the default device", (c) => (c.routing[0].match = { device: ["default"] }), ['routing rule 1: field match.device: "default" is not a device a step names (steps without a known device reach the last rule)']],
        [
            "a default rule before the end",
            (c) => c.routing.splice(1, 0, { queue: "cpu" }),
            ["routing rule 2: field match: a rule without match must be the last one (the rules after it are unreachable)"],
        ],
        ["a last rule with a match", (c) => (c.routing[2].match = { label: "x" }), ["routing rule 3: field match: the last rule must have no match (the default queue)"]],
    ];
    for (const [what, edit, expected] of cases) {
        it(`report ${what}`, () => {
            assert.deepEqual(problemsWith(edit), expected);
        });
    }

    it("report every problem of several flaws, in order", () => {
        assert.deepEqual(
            problemsWith((c) => {
                aws(c, "cpu").cluster = "cj";
                c.routing[0].queue = "cpv";
            }),
            ['queue "cpu": field cluster: unknown Buildkite cluster "cj" (did you mean "ci"?)', 'routing rule 1: field queue: unknown queue "cpv" (did you mean "cpu"?)'],
        );
    });
});
