import { strict as assert } from "assert";
import { commandPreview, compareCodePoints, firstCodePoints, Injector, prepareCommands } from "../../generator/commands";
import { computeCacheTags, sanitizeTag } from "../../generator/ecr";
import { VLLM_SETTINGS } from "../../generator/settings";

const none = new Injector([]);
const setup = (multiGpu: boolean) => (multiGpu ? ["SETUP", "TOPOLOGY"] : ["SETUP"]);
const source = (fields: Partial<Parameters<typeof prepareCommands>[0]>) => ({
    label: "Step",
    commands: ["echo 'a'"],
    workingDir: null,
    numNodes: null,
    numDevices: null,
    noPlugin: false,
    ...fields,
});

describe("generator commands", function () {
    it("previews 80 code points with quotes and $ removed", function () {
        const long = "pytest -k 'not slow' --opt=\"x\" $HOME/" + "a".repeat(100);
        const preview = commandPreview(long);
        assert.ok(!/['"$]/.test(preview));
        assert.equal(preview, firstCodePoints(long, 80).replace(/['"$]/g, ""));
        assert.equal(firstCodePoints("😀".repeat(90), 80), "😀".repeat(80), "code points, not UTF-16 units");
    });

    it("orders like Python strings (code points)", function () {
        const labels = ["beta", "Alpha", ":docker: x", "Zeta", "😀", "\uffff"];
        assert.deepEqual([...labels].sort(compareCodePoints), [":docker: x", "Alpha", "Zeta", "beta", "\uffff", "😀"]);
    });

    it("injects variables as whole words, in order, skipping empty values", function () {
        const injector = new Injector([
            { name: "REGISTRY", value: "reg" },
            { name: "BUILDKITE_COMMIT", value: "$$BUILDKITE_COMMIT" },
            { name: "IMAGE_TAG", value: "reg/repo:$BUILDKITE_COMMIT" },
            { name: "IMAGE_TAG_LATEST", value: "" },
        ]);
        assert.equal(
            injector.apply("$REGISTRY $REGISTRY_X ${REGISTRY} $REGISTRYé $IMAGE_TAG $IMAGE_TAG_LATEST $BUILDKITE_COMMIT"),
            "reg $REGISTRY_X ${REGISTRY} $REGISTRYé reg/repo:$BUILDKITE_COMMIT $IMAGE_TAG_LATEST $$BUILDKITE_COMMIT",
        );
        assert.equal(new Injector([{ name: "R", value: "a$&b" }]).apply("$R"), "a$&b", "values are inserted literally");
    });

    it("prepares commands: setup, previews, quote rewrite, then cd", function () {
        assert.deepEqual(prepareCommands(source({ workingDir: "/w's" }), { setup, imageBuildLabelPrefix: ":docker:", continueOnFailure: false, injector: none }), [
            "cd /w's",
            "SETUP",
            'echo "+++ :test_tube: Command (1/1): echo a"',
            'echo "a"',
        ]);
    });

    it("keeps single quotes when num_nodes is set, and multi-node steps get the topology but no cd", function () {
        const lines = prepareCommands(source({ workingDir: "/w", numNodes: 2, numDevices: 2 }), {
            setup,
            imageBuildLabelPrefix: ":docker:",
            continueOnFailure: false,
            injector: none,
        });
        assert.deepEqual(lines, ["SETUP", "TOPOLOGY", "echo '+++ :test_tube: Command (1/1): echo a'", "echo 'a'"]);
        const single = prepareCommands(source({ numNodes: 1, numDevices: 1 }), { setup, imageBuildLabelPrefix: ":docker:", continueOnFailure: false, injector: none });
        assert.equal(single[single.length - 1], "echo 'a'");
    });

    it("gives image builds and no_plugin steps no setup lines", function () {
        const options = { setup, imageBuildLabelPrefix: ":docker:", continueOnFailure: false, injector: none };
        assert.deepEqual(prepareCommands(source({ label: ":docker: build", workingDir: "/w" }), options), [
            'echo "+++ :test_tube: Command (1/1): echo a"',
            'echo "a"',
        ]);
        assert.equal(prepareCommands(source({ noPlugin: true, workingDir: "/w" }), options)[0], "cd /w");
    });

    it("wraps commands under CONTINUE_ON_FAILURE", function () {
        const lines = prepareCommands(source({ commands: ["a", "b"] }), { setup: () => [], imageBuildLabelPrefix: ":docker:", continueOnFailure: true, injector: none });
        assert.deepEqual(lines, [
            "CI_OVERALL_STATUS=0",
            'echo "+++ :test_tube: Command (1/2): a"',
            "{ a\n} || CI_OVERALL_STATUS=1",
            'echo "+++ :test_tube: Command (2/2): b"',
            "{ b\n} || CI_OVERALL_STATUS=1",
            "exit $$CI_OVERALL_STATUS",
        ]);
    });

    describe("ECR build-cache tags", function () {
        const T = VLLM_SETTINGS.ecr.testCache;
        const P = `${VLLM_SETTINGS.ecr.postmergeCache}:latest`;
        const lookup = (existing: string[]) => (tag: string) => existing.includes(tag);

        it("PR builds: own cache, then the base branch's, then main's", async function () {
            assert.deepEqual(
                await computeCacheTags({ branch: "x", pullRequest: "42", baseBranch: "main" }, VLLM_SETTINGS, lookup([`${T}:pr-42`])),
                { from: `${T}:pr-42`, to: `${T}:pr-42`, lookups: [{ tag: `${T}:pr-42`, exists: true }] },
            );
            const release = await computeCacheTags({ branch: "x", pullRequest: "42", baseBranch: "release/v0.9+rc1" }, VLLM_SETTINGS, lookup([`${T}:release-v0.9-rc1`]));
            assert.equal(release.from, `${T}:release-v0.9-rc1`);
            const fallback = await computeCacheTags({ branch: "x", pullRequest: "42", baseBranch: "main" }, VLLM_SETTINGS, lookup([]));
            assert.deepEqual([fallback.from, fallback.to], [P, `${T}:pr-42`]);
        });

        it("branch builds: the sanitised branch tag, main uses the postmerge cache", async function () {
            const branch = await computeCacheTags({ branch: "user/feat:1", pullRequest: undefined, baseBranch: undefined }, VLLM_SETTINGS, lookup([]));
            assert.deepEqual([branch.from, branch.to], [P, `${T}:user-feat-1`]);
            const main = await computeCacheTags({ branch: "main", pullRequest: "", baseBranch: undefined }, VLLM_SETTINGS, lookup([]));
            assert.deepEqual([main.from, main.to, main.lookups.length], [P, P, 0]);
        });

        it("treats BUILDKITE_PULL_REQUEST=false as not a PR (deliberate fix: no shared pr-false tag)", async function () {
            const main = await computeCacheTags({ branch: "main", pullRequest: "false", baseBranch: undefined }, VLLM_SETTINGS, lookup([]));
            assert.deepEqual([main.from, main.to], [P, P]);
            const branch = await computeCacheTags({ branch: "feature/x", pullRequest: "false", baseBranch: undefined }, VLLM_SETTINGS, lookup([]));
            assert.equal(branch.to, `${T}:feature-x`);
            assert.equal(sanitizeTag(undefined), "");
        });
    });
});
