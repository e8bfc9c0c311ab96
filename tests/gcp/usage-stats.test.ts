/**
 * The usage-stats endpoint: its Vector configuration (the repository's file, read with the
 * project's YAML library: the `vector` binary is not available offline), the component's
 * resources under mocks (pinned image, the account's one grant, lifecycle, public invoker), its
 * place in the gcp-prod plan, and its bucket's adoption.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { adopt } from "../../adopt/engine";
import { gcpAdoption } from "../../adopt/gcp";
import { parseTerraformState } from "../../adopt/terraform-state";
import { ofType, runWithMocks, type ProgramRun } from "../../plan/harness";
import { CLOUD_RUN_API, UsageStatsEndpoint, USAGE_STATS_WRITER_ROLE } from "../../gcp/usage-stats";
import { imagePinProblem, USAGE_STATS, usageStatsProblems, VECTOR_CONFIG_FILE, VECTOR_IMAGE, vectorConfigProblems, vectorConfigText } from "../../gcp/usage-stats-config";
import * as os from "os";
import * as path from "path";
import { sharedFixture } from "../support/fixtures";
import { sharedPlan } from "../support/plans";

const FILE = "vector.yaml";
const config = () => yaml.load(vectorConfigText()) as any;
const problemsOf = (edit: (c: any) => void) => {
    const c = config();
    edit(c);
    return vectorConfigProblems(yaml.dump(c), FILE);
};

describe("usage-stats endpoint", () => {
    describe("the Vector configuration (gcp/usage-stats/vector.yaml)", () => {
        it("has one HTTP source, a GCS sink fed by it writing JSON lines to the service's bucket", () => {
            assert.deepEqual(vectorConfigProblems(vectorConfigText(), FILE), []);
            const c = config();
            assert.equal(c.sources.in.type, "http_server");
            assert.equal(c.sinks.out.type, "gcp_cloud_storage");
            assert.equal(c.sinks.out.bucket, `\${${USAGE_STATS.bucketVariable}}`);
        });

        it("keeps upstream's source, transform, encoding and key prefix", () => {
            const upstream = yaml.load(fs.readFileSync(sharedFixture("reference", "ci-infra", "usage-stats", "vector_config.yaml"), "utf8")) as any;
            const ours = config();
            assert.deepEqual(ours.sources, upstream.sources);
            assert.deepEqual(ours.transforms, upstream.transforms);
            for (const key of ["inputs", "type", "encoding", "framing", "key_prefix"]) assert.deepEqual(ours.sinks.out[key], upstream.sinks.out[key], key);
            assert.equal(upstream.sinks.out.bucket, USAGE_STATS.bucket, "upstream writes the bucket the program adopts");
        });

        it("names each broken part in one line", () => {
            assert.deepEqual(problemsOf((c) => (c.sinks.out.bucket = "other-bucket")), [`${FILE}: sink "out": field bucket: must be \${USAGE_STATS_BUCKET} (the service sets it to the bucket), not "other-bucket"`]);
            assert.deepEqual(problemsOf((c) => (c.sinks.out.encoding.codec = "text")), [`${FILE}: sink "out": field encoding.codec: must be json, not "text"`]);
            assert.deepEqual(problemsOf((c) => delete c.sinks.out.framing), [`${FILE}: sink "out": field framing.method: must be newline_delimited (JSON lines), not undefined`]);
            assert.deepEqual(problemsOf((c) => (c.sources.in.type = "socket")), [`${FILE}: sources: exactly one source, of type http_server (found 1, 0 http_server)`]);
            assert.deepEqual(problemsOf((c) => (c.sources.in.address = "0.0.0.0:80")), [`${FILE}: source "in": field address: must be \${HOST}:\${PORT} (Cloud Run's port), not "0.0.0.0:80"`]);
            assert.deepEqual(problemsOf((c) => (c.transforms.modify.inputs = ["nowhere"])), [`${FILE}: "modify": field inputs: "nowhere" is no source or transform`, `${FILE}: sink "out": field inputs: does not receive source "in"`]);
            assert.deepEqual(problemsOf((c) => (c.sinks.out.type = "aws_s3")), [`${FILE}: sinks: exactly one sink, of type gcp_cloud_storage (found 1, 0 gcp_cloud_storage)`]);
            assert.deepEqual(problemsOf((c) => (c.sinks.out.healthcheck.enabled = true)), [`${FILE}: sink "out": field healthcheck.enabled: must be false (the writer account cannot read the bucket's metadata)`]);
            assert.deepEqual(vectorConfigProblems("sources: [", FILE).length, 1);
        });
    });

    it("the program refuses a broken vector.yaml or a moving image in one line each, naming the file", () => {
        assert.deepEqual(usageStatsProblems(), []);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "usage-stats-"));
        try {
            const broken = path.join(dir, "vector.yaml");
            fs.writeFileSync(broken, vectorConfigText().replace("codec: json", "codec: text"));
            assert.deepEqual(usageStatsProblems(broken, "timberio/vector:latest-alpine", dir), [
                `vector.yaml: sink "out": field encoding.codec: must be json, not "text"`,
                "gcp/usage-stats-config.ts: VECTOR_IMAGE: image timberio/vector:latest-alpine: not pinned (use an exact release tag like 0.49.0-alpine, or @sha256:<digest>)",
            ]);
            assert.deepEqual(usageStatsProblems(path.join(dir, "missing.yaml"), VECTOR_IMAGE, dir), ["missing.yaml: cannot be read (ENOENT)"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("accepts only a pinned image: an exact release tag or a digest", () => {
        assert.equal(imagePinProblem(VECTOR_IMAGE), undefined);
        assert.equal(imagePinProblem(`docker.io/timberio/vector@sha256:${"a".repeat(64)}`), undefined);
        for (const moving of ["timberio/vector:latest-alpine", "timberio/vector:nightly-alpine", "timberio/vector", "timberio/vector:0.49-alpine"]) assert.ok(imagePinProblem(moving), moving);
    });

    describe("the component under mocks", () => {
        let run: ProgramRun;
        const of = (type: string) => ofType(run, type);
        before(async () => {
            run = await runWithMocks({ project: "ci", stack: "test", config: {} }, () => {
                const provider = new gcp.Provider("gcp-test", { project: "test-project" });
                const endpoint = new UsageStatsEndpoint(
                    "usage-stats",
                    {
                        project: "test-project",
                        region: "us-central1",
                        bucketName: "test-usage-bucket",
                        bucketLocation: "US",
                        bucketStorageClass: "STANDARD",
                        nearlineAfterDays: 30,
                        serviceName: "test-usage",
                        accountId: "test-usage-writer",
                        image: VECTOR_IMAGE,
                        vectorConfig: vectorConfigText(),
                        maxInstances: 2,
                        public: true,
                    },
                    { provider },
                );
                return { uri: endpoint.uri as pulumi.Output<string> };
            });
        });

        it("runs the pinned image with the repository's configuration and the bucket in its environment", () => {
            const [service] = of("gcp:cloudrunv2/service:Service");
            const container = (service.inputs.template as any).containers[0];
            assert.equal(container.image, VECTOR_IMAGE);
            assert.equal(imagePinProblem(container.image), undefined);
            const env = Object.fromEntries(container.envs.map((e: { name: string; value: string }) => [e.name, e.value]));
            assert.equal(env[USAGE_STATS.configVariable], fs.readFileSync(VECTOR_CONFIG_FILE, "utf8"));
            assert.equal(env[USAGE_STATS.bucketVariable], "test-usage-bucket");
            assert.equal(env.HOST, "0.0.0.0");
            assert.match(container.args[0], new RegExp(`"\\$${USAGE_STATS.configVariable}" > /tmp/vector.yaml && exec /usr/local/bin/vector --config /tmp/vector.yaml`));
            assert.equal((service.inputs.template as any).serviceAccount, "test-usage-writer@test-project.iam.gserviceaccount.com");
        });

        it("gives the service's account one grant: creating objects in its bucket, nothing project-wide", () => {
            const member = "serviceAccount:test-usage-writer@test-project.iam.gserviceaccount.com";
            const grants = run.resources.filter((r) => r.custom && JSON.stringify(r.inputs).includes(member));
            assert.deepEqual(grants.map((g) => [g.type, g.inputs.bucket, g.inputs.role]), [["gcp:storage/bucketIAMMember:BucketIAMMember", "test-usage-bucket", "roles/storage.objectCreator"]]);
            assert.equal(USAGE_STATS_WRITER_ROLE, "roles/storage.objectCreator");
            assert.deepEqual(of("gcp:projects/iAMMember:IAMMember"), []);
        });

        it("keeps the bucket (protected, kept on delete, never public) and moves old objects to Nearline", () => {
            const [bucket] = of("gcp:storage/bucket:Bucket");
            assert.equal(bucket.inputs.name, "test-usage-bucket");
            assert.equal(bucket.protect, true);
            assert.equal(bucket.retainOnDelete, true);
            assert.equal(bucket.inputs.publicAccessPrevention, "enforced");
            assert.deepEqual(bucket.inputs.lifecycleRules, [{ condition: { age: 30, matchesStorageClasses: ["STANDARD", "MULTI_REGIONAL", "REGIONAL"] }, action: { type: "SetStorageClass", storageClass: "NEARLINE" } }]);
        });

        it("keeps the adopted bucket's project, location and storage class: the first up after the import never replaces it", () => {
            const [bucket] = of("gcp:storage/bucket:Bucket");
            // GCS cannot move a bucket: a program value that differs from the live one would replace it, and protect fails the up.
            assert.deepEqual([...(bucket.ignoreChanges ?? [])].sort(), ["location", "project", "storageClass"]);
            assert.equal(bucket.inputs.location, "US", "the given location, used only when the bucket is created");
            assert.equal(bucket.inputs.storageClass, "STANDARD");
        });

        it("enables the Cloud Run API before the service, and never disables it", () => {
            const [api] = of("gcp:projects/service:Service");
            assert.deepEqual([api.inputs.project, api.inputs.service, api.inputs.disableOnDestroy, api.inputs.disableDependentServices], ["test-project", CLOUD_RUN_API, false, false]);
            const [service] = of("gcp:cloudrunv2/service:Service");
            assert.ok(service.dependsOn?.includes(api.urn), "the service waits for the API");
        });

        it("lets anyone invoke the service, as upstream's endpoint does", () => {
            assert.deepEqual(of("gcp:cloudrunv2/serviceIamMember:ServiceIamMember").map((m) => [m.inputs.name, m.inputs.role, m.inputs.member]), [["test-usage", "roles/run.invoker", "allUsers"]]);
        });
    });

    describe("in the gcp-prod plan", () => {
        let plan: ProgramRun;
        before(async () => {
            plan = await sharedPlan("gcp-prod");
        });

        it("declares the endpoint once, on the live bucket, from the pinned image", () => {
            const [bucket] = ofType(plan, "gcp:storage/bucket:Bucket").filter((b) => b.inputs.name === USAGE_STATS.bucket);
            assert.ok(bucket);
            assert.equal(bucket.inputs.location, USAGE_STATS.region.toUpperCase());
            const services = ofType(plan, "gcp:cloudrunv2/service:Service");
            assert.deepEqual(services.map((s) => (s.inputs.template as any).containers[0].image), [VECTOR_IMAGE]);
            // The configuration is an input of the service: an edit of vector.yaml is a change (a new revision) in the plan.
            const env = (services[0].inputs.template as any).containers[0].envs as { name: string; value: string }[];
            assert.equal(env.find((e) => e.name === USAGE_STATS.configVariable)?.value, vectorConfigText());
            assert.deepEqual([...(bucket.ignoreChanges ?? [])].sort(), ["location", "project", "storageClass"]);
        });

        it("adopts the hand-made bucket (no AlreadyExists on the first up) and explains the rest", () => {
            const file = sharedFixture("fixtures", "terraform-state", "gcp.tfstate");
            const result = adopt(plan.resources, [parseTerraformState(fs.readFileSync(file, "utf8"), file)], gcpAdoption("gcp-prod"));
            const bucket = result.report.adopted.find((a) => a.type === "gcp:storage/bucket:Bucket" && a.name === USAGE_STATS.bucket);
            assert.equal(bucket?.id, USAGE_STATS.bucket);
            assert.ok(result.report.created.some((c) => c.type === "gcp:cloudrunv2/service:Service" && /pinned Vector image/.test(c.reason)));
            assert.deepEqual(result.report.unexplained.filter((u) => /usage|cloudrunv2|bucketIAMMember/.test(u)), []);
        });
    });
});
