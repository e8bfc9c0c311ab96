/**
 * Lint rules on small catalogs of the tests' own: each rule fires on the one flaw it is about and
 * stays quiet on a clean catalog, so deleting or weakening a rule fails here.
 */
import { strict as assert } from "assert";
import { covers, lintProblems, parseCatalog, shadowedRuleProblems, type Catalog } from "../../catalog";
import { generatorCatalogProblems } from "../../generator/catalog-check";
import { VLLM_SETTINGS } from "../../generator/settings";

/** A clean catalog: two queues, three devices, every device routed once, a default rule. */
const CLEAN = `
machineTypes:
  r6in.large: {}
buildkiteClusters:
  ci: { ssmTokenParameter: /bk_ci, gcpSecretId: bk-ci }
defaults:
  aws: { region: us-west-2, cluster: ci, stage: premerge, machine: { type: r6in.large }, scale: { min: 0, max: 2 } }
  external: { stage: any }
queues:
  - { name: small_cpu_queue_premerge, provider: aws }
  - { name: gpu_queue, provider: aws }
  - { name: partner, provider: external }
  - { name: named_only, provider: external, reachedBy: name }
devices:
  default: { plugin: docker, template: default }
  cpu: { plugin: docker, template: default, gpus: false }
  h100: { plugin: kubernetes, template: h100 }
  mi300_1: { plugin: amd, amdGpus: 1 }
  amd_cpu: { plugin: docker, template: default }
routing:
  - { match: { labelPrefix: ":docker:" }, queue: small_cpu_queue_premerge }
  - { match: { device: [cpu] }, queue: small_cpu_queue_premerge }
  - { match: { device: [h100, mi300_1] }, queue: partner }
  - { match: { device: [amd_cpu] }, queue: partner }
  - queue: gpu_queue
`;

const parse = (text: string): Catalog => parseCatalog(text, "lint.yaml");
const edit = (find: string, replace: string): Catalog => {
    assert.equal(CLEAN.split(find).length, 2, `the edit hits one place: ${find}`);
    return parse(CLEAN.replace(find, replace));
};

describe("catalog lint", () => {
    it("finds nothing in a clean catalog", () => {
        assert.deepEqual(lintProblems(parse(CLEAN)), []);
        assert.deepEqual(generatorCatalogProblems(parse(CLEAN)), []);
    });

    it("reports a device no routing rule names", () => {
        const catalog = edit("  - { match: { device: [cpu] }, queue: small_cpu_queue_premerge }\n", "");
        assert.deepEqual(lintProblems(catalog), ['device "cpu": no routing rule names this device']);
    });

    it("reports a device named by more than one rule (and the later rule it shadows)", () => {
        const catalog = edit("{ match: { device: [amd_cpu] }, queue: partner }", "{ match: { device: [amd_cpu, cpu] }, queue: partner }");
        assert.deepEqual(lintProblems(catalog), [
            'device "cpu": named by more than one routing rule (2, 4)',
            'routing rule 4: field match.device: unreachable for device "cpu": routing rule 2 matches every such step first',
        ]);
    });

    it("reports queues no rule reaches, and queues marked by name that a rule reaches", () => {
        const unreachable = edit("{ match: { device: [h100, mi300_1] }, queue: partner }", "{ match: { device: [h100, mi300_1] }, queue: gpu_queue }").routing;
        const catalog = { ...parse(CLEAN), routing: unreachable.filter((rule) => rule.queue !== "partner") };
        catalog.devices = { ...catalog.devices };
        delete catalog.devices.amd_cpu;
        assert.deepEqual(lintProblems(catalog), ['queue "partner": field reachedBy: no routing rule reaches this queue (add a rule, or mark it reachedBy: name)']);
        const byName = edit("{ name: gpu_queue, provider: aws }", "{ name: gpu_queue, provider: aws, reachedBy: name }");
        assert.deepEqual(lintProblems(byName), ['queue "gpu_queue": field reachedBy: marked "name" but routing rule 5 reaches it']);
        const twice = edit("{ name: partner, provider: external }", "{ name: partner, provider: external, reachedBy: name }");
        assert.deepEqual(lintProblems(twice), ['queue "partner": field reachedBy: marked "name" but routing rule 3 reaches it'], "the first rule that reaches it");
    });

    it("reports a rule an earlier one shadows for a device: a device rule after a broader one", () => {
        const catalog = edit(
            "  - { match: { device: [cpu] }, queue: small_cpu_queue_premerge }\n",
            "  - { match: { labelPrefix: T }, queue: partner }\n  - { match: { device: [cpu], labelPrefix: Tests }, queue: small_cpu_queue_premerge }\n",
        );
        assert.deepEqual(shadowedRuleProblems(catalog), ['routing rule 3: field match.device: unreachable for device "cpu": routing rule 2 matches every such step first']);
        const shadowing = edit("{ match: { labelPrefix: \":docker:\" }, queue: small_cpu_queue_premerge }", "{ match: { numDevices: [1, 2] }, queue: small_cpu_queue_premerge }");
        assert.deepEqual(shadowedRuleProblems(shadowing), []);
        const broad = edit("  - { match: { device: [amd_cpu] }, queue: partner }\n", "  - { match: { device: [amd_cpu] }, queue: partner }\n  - { match: { device: [h100], numDevices: [8] }, queue: gpu_queue }\n");
        assert.deepEqual(shadowedRuleProblems(broad), ['routing rule 5: field match.device: unreachable for device "h100": routing rule 3 matches every such step first']);
    });

    it("reports a rule without devices that an earlier rule covers whole", () => {
        const catalog = edit(
            "  - queue: gpu_queue\n",
            "  - { match: { label: \":docker: build\" }, queue: gpu_queue }\n  - queue: gpu_queue\n",
        );
        assert.deepEqual(shadowedRuleProblems(catalog), ["routing rule 5: field match: unreachable: routing rule 1 matches every step it matches"]);
    });

    it("decides coverage condition by condition", () => {
        assert.ok(covers(undefined, { label: "x" }, undefined), "no match covers everything");
        assert.ok(covers({ labelPrefix: "ab" }, { labelPrefix: "abc" }, undefined));
        assert.ok(!covers({ labelPrefix: "abc" }, { labelPrefix: "ab" }, undefined));
        assert.ok(covers({ labelContains: "arm" }, { label: "build arm64" }, undefined));
        assert.ok(covers({ labelContains: "arm" }, { labelPrefix: "arm" }, undefined));
        assert.ok(covers({ labelContains: "arm" }, { labelContains: "arm64" }, undefined));
        assert.ok(!covers({ labelContains: "arm" }, { labelPrefix: "x" }, undefined));
        assert.ok(covers({ label: "a" }, { label: "a" }, undefined));
        assert.ok(!covers({ label: "a" }, { label: "b" }, undefined));
        assert.ok(!covers({ label: "a" }, {}, undefined));
        assert.ok(covers({ device: ["x", "y"] }, { device: ["y"] }, "y"));
        assert.ok(!covers({ device: ["x"] }, { device: ["y"] }, "y"));
        assert.ok(!covers({ device: ["x"] }, {}, undefined), "a rule for any device is not covered by a device rule");
        assert.ok(covers({ numDevices: [2, 4] }, { numDevices: [4] }, undefined));
        assert.ok(!covers({ numDevices: [2] }, { numDevices: [2, 4] }, undefined));
        assert.ok(!covers({ numDevices: [2] }, {}, undefined));
        assert.ok(covers({ labelPrefix: "a" }, { label: "abc" }, undefined));
        assert.ok(!covers({ labelPrefix: "a" }, { label: "xbc" }, undefined));
    });
});

describe("generator checks of a catalog", () => {
    it("reports a device whose docker or kubernetes template the generator settings lack", () => {
        const catalog = edit("h100: { plugin: kubernetes, template: h100 }", "h100: { plugin: kubernetes, template: h1OO }");
        assert.deepEqual(generatorCatalogProblems(catalog), ['device "h100": field template: the generator settings have no kubernetes template "h1OO" (did you mean "h100"?)']);
        const docker = edit("cpu: { plugin: docker, template: default, gpus: false }", "cpu: { plugin: docker, template: cpu-only, gpus: false }");
        assert.match(generatorCatalogProblems(docker).join("\n"), /device "cpu": field template: the generator settings have no docker template "cpu-only"/);
    });

    it("reports a kubernetes template with no container, the pre-commit queue and AMD CPU devices the catalog lacks", () => {
        const settings = structuredClone(VLLM_SETTINGS);
        settings.kubernetes.templates.h100 = { volumes: [] };
        settings.precommit.queue = "small_cpu_queue_premerg";
        settings.amd.cpuDevices = ["amd_cpu", "amd_gpu"];
        assert.deepEqual(generatorCatalogProblems(parse(CLEAN), settings), [
            'device "h100": field template: the generator\'s kubernetes template "h100" has no container',
            'generator settings: field precommit.queue: "small_cpu_queue_premerg" is not a queue of the catalog (did you mean "small_cpu_queue_premerge"?)',
            'generator settings: field amd.cpuDevices: "amd_gpu" is not a device of the catalog (did you mean "amd_cpu"?)',
        ]);
    });
});
