/** Routing on a small catalog of the tests' own: each condition, the order of rules, the main branch, devices. */
import { strict as assert } from "assert";
import { amdDevices, findRoutingRule, isKnownDevice, parseCatalog, resolveDevice, routeStep, ruleQueue, type Catalog } from "../../catalog";

const CATALOG = `
machineTypes: { m: {} }
buildkiteClusters: { ci: { ssmTokenParameter: /t, gcpSecretId: t } }
defaults:
  external: { stage: any }
queues:
  - { name: docker_main, provider: external }
  - { name: docker_pr, provider: external }
  - { name: arm, provider: external }
  - { name: docs, provider: external }
  - { name: exact, provider: external }
  - { name: multi, provider: external }
  - { name: gpu, provider: external }
  - { name: mi, provider: external }
  - { name: fallback, provider: external }
devices:
  default: { plugin: docker, template: default }
  gpu: { plugin: docker, template: default }
  mi300_2: { plugin: amd, amdGpus: 2 }
  mi300_8: { plugin: amd, amdGpus: 8 }
routing:
  - { match: { labelPrefix: ":docker:", labelContains: arm }, queue: arm }
  - { match: { labelPrefix: ":docker:" }, queue: { main: docker_main, other: docker_pr } }
  - { match: { labelContains: docs }, queue: docs }
  - { match: { label: Exact }, queue: exact }
  - { match: { device: [gpu], numDevices: [2, 4] }, queue: multi }
  - { match: { device: [gpu] }, queue: gpu }
  - { match: { device: [mi300_2, mi300_8] }, queue: mi }
  - queue: fallback
`;

describe("routing", () => {
    const catalog: Catalog = parseCatalog(CATALOG, "routing.yaml");
    const route = (label: string, device?: string | null, numDevices?: number | null, branch: string | null = "feature") => routeStep(catalog, { label, device, numDevices }, branch);

    it("takes the first rule whose conditions all hold", () => {
        assert.equal(route(":docker: build arm64"), "arm");
        assert.equal(route(":docker: build"), "docker_pr");
        assert.equal(route("build arm64"), "fallback", "labelContains alone is not enough when labelPrefix fails");
        assert.equal(route("x :docker: y"), "fallback", "a prefix is a prefix");
    });

    it("picks the main-branch queue only on main", () => {
        assert.equal(route(":docker: build", null, null, "main"), "docker_main");
        assert.equal(route(":docker: build", null, null, "mainline"), "docker_pr");
        assert.equal(route(":docker: build", null, null, null), "docker_pr");
        assert.equal(route(":docker: build", null, null, undefined as unknown as string), "docker_pr");
        assert.equal(ruleQueue({ queue: "q" }, "main"), "q");
        assert.equal(ruleQueue({ queue: { main: "a", other: "b" } }, "main"), "a");
        assert.equal(ruleQueue({ queue: { main: "a", other: "b" } }, "x"), "b");
    });

    it("matches labels anywhere, exactly, or by prefix", () => {
        assert.equal(route("build the docs now"), "docs");
        assert.equal(route("Exact"), "exact");
        assert.equal(route("Exact match"), "fallback");
        assert.equal(route("exact"), "fallback");
    });

    it("needs every listed device count and device", () => {
        assert.equal(route("t", "gpu", 2), "multi");
        assert.equal(route("t", "gpu", 4), "multi");
        assert.equal(route("t", "gpu", 8), "gpu");
        assert.equal(route("t", "gpu", null), "gpu", "no count: the count condition fails");
        assert.equal(route("t", "gpu"), "gpu");
        assert.equal(route("t", null, 2), "fallback", "no device: the device condition fails");
        assert.equal(route("t", "mi300_8"), "mi");
        assert.equal(route("t", "unknown"), "fallback");
    });

    it("finds the rule, or none when the catalog has no default", () => {
        assert.equal(findRoutingRule(catalog, { label: "Exact" }), catalog.routing[3]);
        const noDefault = { ...catalog, routing: catalog.routing.slice(0, -1) };
        assert.equal(findRoutingRule(noDefault, { label: "t" }), undefined);
        assert.throws(() => routeStep(noDefault, { label: "t" }, "main"), /^Error: routing\.yaml: routing: no rule matches step "t" and there is no default rule$/);
    });

    it("resolves devices: known ones by name, anything else (and `default` itself) to the default entry", () => {
        assert.equal(isKnownDevice(catalog, "gpu"), true);
        assert.equal(isKnownDevice(catalog, "default"), false);
        assert.equal(isKnownDevice(catalog, null), false);
        assert.equal(isKnownDevice(catalog, undefined), false);
        assert.equal(isKnownDevice(catalog, "constructor"), false, "not a property of every object");
        assert.equal(isKnownDevice(catalog, "nope"), false);
        assert.equal(resolveDevice(catalog, "mi300_2"), catalog.devices.mi300_2);
        assert.equal(resolveDevice(catalog, "nope"), catalog.devices.default);
        assert.equal(resolveDevice(catalog, null), catalog.devices.default);
    });

    it("lists the AMD devices with their GPU counts, and only them", () => {
        assert.deepEqual([...amdDevices(catalog)], [
            ["mi300_2", 2],
            ["mi300_8", 8],
        ]);
    });
});
