/**
 * The capacity and cost view on a small catalog of its own (every expectation below is worked
 * out by hand from it): maxima per provider, accelerators by kind, cost arithmetic, totals, the
 * diff lines of two changes ("double L4 quota", "shrink v7x-8 from 18 to 14"), missing prices,
 * the SVG (same bytes, well-formed XML), the CLI and plan:diff's section.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseCatalog, type Catalog } from "../../catalog";
import { acceleratorKind, fleetCapacity, priceProblems, type FleetCapacity } from "../../capacity/capacity";
import { capacityDiffLines, capacityTable, formatUsd } from "../../capacity/report";
import { capacityChart, escapeXml } from "../../capacity/svg";
import type { GcpSettings } from "../../gcp/settings";
import { main } from "../../lint/cli";
import { diffMarkdown, diffPlans, readCapacity } from "../../plan/diff";

const SETTINGS: GcpSettings = { project: "test-gcp", regions: ["us-central1", "us-west1"], network: "default" };
const src = "https://example.com/prices";

/** The small fleet; `edit` changes its text before parsing (the scenarios). */
function catalogText(edit: (text: string) => string = (t) => t): string {
    return edit(`
buildkiteOrganizations:
  org: { default: true, gcpSecrets: { project: test-secrets, hfToken: hf } }
gcpProjects: { test-gcp: {}, test-tpu: {}, test-secrets: {} }
machineTypes:
  m.cpu: {}
  g6.4xlarge: { accelerator: nvidia-l4, count: 1 }
  p5.48xlarge: { accelerator: nvidia-h100, count: 8 }
  g2-standard-24: { accelerator: nvidia-l4, count: 2 }
  tpu7x-8: { accelerator: tpu-v7x, count: 8 }
  tpu7x-16: { accelerator: tpu-v7x, count: 16 }
  n2-standard-8: {}
buildkiteClusters:
  ci: { ssmTokenParameter: /token, gcpSecretId: token }
gkeClusters:
  c1: { project: test-gcp, region: us-central1, zones: [us-central1-a] }
  c2: { project: test-gcp, region: us-west1, zones: [us-west1-a] }
prices:
  m.cpu: { usdPerHour: 0.5, region: r, source: "${src}", date: "2026-12-01" }
  g6.4xlarge: { usdPerHour: 1, region: r, source: "${src}", date: "2026-12-01" }
  p5.48xlarge: { usdPerHour: 50, region: r, source: "${src}", date: "2026-12-01" }
  g2-standard-24: { usdPerHour: 2, region: r, source: "${src}", date: "2026-12-01" }
  tpu7x-8: { usdPerChipHour: 3, region: r, source: "${src}", date: "2026-12-01", estimate: "no list price" }
  tpu7x-16: { usdPerChipHour: 3, region: r, source: "${src}", date: "2026-12-01" }
  n2-standard-8: { usdPerHour: 0.4, region: r, source: "${src}", date: "2026-12-01" }
defaults:
  aws: { stage: premerge, cluster: ci, region: us-west-2, reachedBy: name }
  gke: { stage: premerge, cluster: ci, reachedBy: name }
  tpu: { stage: premerge, cluster: ci, reachedBy: name }
  gce: { stage: premerge, cluster: ci, reachedBy: name }
queues:
  - { name: l4_aws, provider: aws, machine: { type: g6.4xlarge, accelerator: nvidia-l4, count: 1 }, scale: { min: 0, max: 10 } }
  - { name: h100_aws, provider: aws, machine: { type: p5.48xlarge, accelerator: nvidia-h100, count: 8 }, scale: { min: 0, max: 2 } }
  - { name: cpu_aws, provider: aws, machine: { type: m.cpu }, scale: { min: 0, max: 5 } }
  - { name: l4_gke, provider: gke, machine: { type: g2-standard-24, accelerator: nvidia-l4, count: 2 }, scale: { min: 0, max: 4 }, gke: { clusters: [c1, c2] } }
  - name: v7x_8
    provider: tpu
    machine: { type: tpu7x-8, accelerator: tpu-v7x, count: 8 }
    tpu: { acceleratorType: tpu7x-8, runtimeVersion: rt, groups: [{ project: test-tpu, zone: us-central1-c, count: 18, vmName: "v7x-8-{index}" }] }
  - name: v7x_16
    provider: tpu
    machine: { type: tpu7x-16, accelerator: tpu-v7x, count: 16 }
    tpu: { acceleratorType: tpu7x-16, runtimeVersion: rt, groups: [{ project: test-tpu, zone: us-central1-c, count: 2, vmName: "v7x-16-{index}" }] }
  - { name: builder, provider: gce, machine: { type: n2-standard-8 }, scale: { min: 2, max: 2 }, gce: { region: us-central1, group: { name: g, baseInstanceName: b, templatePrefix: t-, zones: [us-central1-a] } } }
  - { name: fixed, provider: gce, machine: { type: n2-standard-8 }, gce: { image: img, instances: [{ project: test-gcp, zone: us-central1-b, count: 3, name: "fixed-{index}" }] } }
  - { name: partner, provider: external, stage: any }
devices: { default: { plugin: docker, template: default } }
routing: [{ queue: l4_aws }]
`);
}

const load = (edit?: (text: string) => string): Catalog => parseCatalog(catalogText(edit), "small.yaml");
const view = (edit?: (text: string) => string): FleetCapacity => fleetCapacity(load(edit), SETTINGS);
const queue = (capacity: FleetCapacity, name: string) => capacity.queues.find((q) => q.queue === name)!;
const total = (capacity: FleetCapacity, cloud: string) => capacity.totals.find((t) => t.cloud === cloud)!;

describe("capacity view", () => {
    let base: FleetCapacity;
    before(() => {
        base = view();
    });

    it("reaches each provider's maximum: scale.max, pools x max nodes, TPU slices x hosts, builders, fixed VMs", () => {
        const rows = base.queues.map((q) => [q.queue, q.cloud, q.maxInstances, q.accelerators, q.usdPerHour]);
        assert.deepEqual(rows, [
            ["l4_aws", "aws", 10, { L4: 10 }, 10],
            ["h100_aws", "aws", 2, { H100: 16 }, 100],
            ["cpu_aws", "aws", 5, {}, 2.5],
            ["l4_gke", "gcp", 8, { L4: 16 }, 16],
            ["v7x_8", "gcp", 18, { "TPU v7x chips": 72 }, 216],
            ["v7x_16", "gcp", 4, { "TPU v7x chips": 16 }, 48],
            ["builder", "gcp", 2, {}, 0.8],
            ["fixed", "gcp", 3, {}, 1.2],
        ]);
        assert.equal(queue(base, "v7x_16").slices, 2);
        assert.equal(queue(base, "v7x_8").estimate, true);
        assert.deepEqual(base.notProvisioned, ["partner"]);
    });

    it("adds up per cloud and for the fleet", () => {
        assert.deepEqual(
            base.totals.map((t) => [t.cloud, t.maxInstances, t.accelerators, t.usdPerHour, t.unpriced, t.estimated]),
            [
                ["aws", 17, { H100: 16, L4: 10 }, 112.5, 0, 0],
                ["gcp", 35, { L4: 16, "TPU v7x chips": 88 }, 282, 0, 1],
                ["fleet", 52, { H100: 16, L4: 26, "TPU v7x chips": 88 }, 394.5, 0, 1],
            ],
        );
    });

    it("names accelerator kinds from the catalog's accelerator ids", () => {
        assert.deepEqual(["nvidia-l4", "nvidia-h100", "nvidia-a100", "tpu-v6e"].map(acceleratorKind), ["L4", "H100", "A100", "TPU v6e chips"]);
        assert.deepEqual([0.5, 1234.567, -48, 1461846.9].map(formatUsd), ["$0.50", "$1,234.57", "-$48.00", "$1,461,846.90"]);
    });

    it("says how doubling the L4 quota moves the totals", () => {
        const doubled = view((t) => t.replace("count: 1 }, scale: { min: 0, max: 10 }", "count: 1 }, scale: { min: 0, max: 20 }").replace("count: 2 }, scale: { min: 0, max: 4 }", "count: 2 }, scale: { min: 0, max: 8 }"));
        assert.deepEqual(capacityDiffLines(base, doubled), [
            "aws: +10 L4, +$10.00/h at full scale, +10 instances",
            "gcp: +16 L4, +$16.00/h at full scale, +8 instances",
            "fleet: +26 L4, +$26.00/h at full scale, +18 instances",
            "queue aws/l4_aws: max 10 → 20: +10 L4, +$10.00/h at full scale, +10 instances",
            "queue gcp/l4_gke: max 8 → 16: +16 L4, +$16.00/h at full scale, +8 instances",
        ]);
    });

    it("says how shrinking v7x-8 from 18 to 14 moves them", () => {
        const shrunk = view((t) => t.replace("count: 18,", "count: 14,"));
        assert.deepEqual(capacityDiffLines(base, shrunk), [
            "gcp: -16 TPU v7x chips, -$48.00/h at full scale, -4 instances",
            "fleet: -16 TPU v7x chips, -$48.00/h at full scale, -4 instances",
            "queue gcp/v7x_8: max 18 → 14: -16 TPU v7x chips, -$48.00/h at full scale, -4 instances",
        ]);
        assert.deepEqual(capacityDiffLines(base, view()), [], "no change, no line");
    });

    it("names the queue and machine type of a missing price, and counts it unpriced", () => {
        const edit = (t: string) => t.replace(/ {2}p5\.48xlarge: \{ usdPerHour.*\n/, "");
        assert.deepEqual(priceProblems(load(edit)), ['queue "h100_aws": field machine.type: p5.48xlarge has no price in section prices']);
        const unpriced = view(edit);
        assert.equal(queue(unpriced, "h100_aws").usdPerHour, undefined);
        assert.deepEqual([total(unpriced, "aws").usdPerHour, total(unpriced, "aws").unpriced], [12.5, 1]);
        assert.match(capacityTable(unpriced, "small.yaml"), /h100_aws .* no price\n/);
        assert.deepEqual(priceProblems(load((t) => t.replace("usdPerHour: 0.4,", "usdPerHour: 0.4, usdPerChipHour: 1,"))), ['prices "n2-standard-8": give exactly one of usdPerHour and usdPerChipHour']);
        assert.deepEqual(priceProblems(load((t) => t.replace("usdPerHour: 0.4,", "usdPerChipHour: 0.4,"))), ['prices "n2-standard-8": field usdPerChipHour: only TPU types are priced per chip; give usdPerHour']);
        assert.deepEqual(priceProblems(load((t) => t.replace(/\nprices:\n( {2}.*\n)+/, "\n"))), [], "a catalog without prices has no cost view to check");
    });

    it("prints the table with an estimate marked", () => {
        const table = capacityTable(base, "small.yaml");
        assert.match(table, /^v7x_8 +gcp +tpu +tpu7x-8 +18 .* 72 TPU v7x chips +~\$216\.00$/m);
        assert.match(table, /^fleet +52 +16 H100 \+ 26 L4 \+ 88 TPU v7x chips +~\$394\.50 +~\$287,985\.00$/m);
    });

    describe("the chart", () => {
        it("is the same bytes for the same capacity, and well-formed XML with one bar per queue", () => {
            const svg = capacityChart(base, "small.yaml");
            assert.equal(capacityChart(view(), "small.yaml"), svg);
            assert.notEqual(capacityChart(view((t) => t.replace("count: 18,", "count: 14,")), "small.yaml"), svg);
            const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "capacity-")), "chart.svg");
            fs.writeFileSync(file, svg);
            // A real XML parser (Python's, from the standard library): counts the bars it finds.
            const parsed = execFileSync("/usr/bin/python3", ["-c", "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag, len(r.findall('{http://www.w3.org/2000/svg}rect')))", file], { encoding: "utf8" });
            // background + 8 queue bars + accelerator bars (L4: aws and gcp, H100: aws, TPU: gcp) + 2 legend swatches
            assert.equal(parsed.trim(), "{http://www.w3.org/2000/svg}svg 15");
        });

        it("escapes text", () => {
            assert.equal(escapeXml(`a<b & "c"'`), "a&lt;b &amp; &quot;c&quot;&apos;");
        });
    });

    describe("npm run catalog -- capacity", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capacity-cli-"));
        const run = (args: string[]) => {
            const out: string[] = [];
            const err: string[] = [];
            const [write, writeErr] = [process.stdout.write, process.stderr.write];
            process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
            process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
            try {
                return { code: main(args), out: out.join(""), err: err.join("") };
            } finally {
                process.stdout.write = write;
                process.stderr.write = writeErr;
            }
        };

        it("prints the table and writes the chart (atomically, no temporary left)", () => {
            const file = path.join(dir, "small.yaml");
            fs.writeFileSync(file, catalogText());
            const svg = path.join(dir, "chart.svg");
            const result = run(["capacity", file, "--svg", svg]);
            assert.equal(result.code, 0, result.err);
            assert.match(result.out, /^Capacity and on-demand cost at full scale/);
            assert.equal(fs.readFileSync(svg, "utf8"), capacityChart(base, path.relative(process.cwd(), file)));
            assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
            assert.deepEqual(JSON.parse(run(["capacity", file, "--json"]).out).totals, JSON.parse(JSON.stringify(base.totals)));
        });

        it("fails with one line per missing price (exit 1), and on bad usage (exit 2)", () => {
            const file = path.join(dir, "unpriced.yaml");
            fs.writeFileSync(file, catalogText((t) => t.replace(/ {2}p5\.48xlarge: \{ usdPerHour.*\n/, "")));
            const result = run(["capacity", file]);
            assert.equal(result.code, 1);
            assert.equal(result.err, `error: ${path.relative(process.cwd(), file)}: queue "h100_aws": field machine.type: p5.48xlarge has no price in section prices\n`);
            assert.equal(run(["capacity", file, "--bogus"]).code, 2);
        });
    });

    it("plan:diff adds the capacity section to the pull request's summary", () => {
        const shrunk = view((t) => t.replace("count: 18,", "count: 14,"));
        const markdown = diffMarkdown(diffPlans({}, {}), { base, head: shrunk });
        assert.match(markdown, /### Capacity at full scale\n\n- gcp: -16 TPU v7x chips, -\$48\.00\/h at full scale, -4 instances\n/);
        assert.doesNotMatch(diffMarkdown(diffPlans({}, {}), { base, head: base }), /Capacity/);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "capacity-diff-")), "base.json");
        fs.writeFileSync(file, "{}\n");
        assert.equal(readCapacity(file), undefined, "a base without the view");
        // A side whose command printed something else (npm's banner, a stack trace) is one line naming the file.
        fs.writeFileSync(file, "> ci@1.0.0 catalog\n{");
        assert.throws(() => readCapacity(file), (error: Error) => error.message.startsWith(`${file}: not JSON (`) && !error.message.includes("\n"));
        fs.writeFileSync(file, "null");
        assert.throws(() => readCapacity(file), new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not a capacity view`));
        assert.deepEqual(capacityDiffLines(undefined, base)[0], "aws: +16 H100, +10 L4, +$112.50/h at full scale, +17 instances");
    });
});
