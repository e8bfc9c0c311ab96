/** The vendored copy of `../shared` (tests/fixtures/shared) is unmodified, checked whenever the original is beside the checkout. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { hasSharedOriginal, SHARED_COPY, SHARED_ORIGINAL } from "./support/fixtures";

function filesUnder(root: string, relative = ""): string[] {
    return fs.readdirSync(path.join(root, relative), { withFileTypes: true }).flatMap((entry) => {
        const child = path.join(relative, entry.name);
        return entry.isDirectory() ? filesUnder(root, child) : [child];
    });
}

describe("vendored fixtures", function () {
    it("hold the parts every test reads", function () {
        for (const part of ["schemas", "conformance/generator", "fixtures/vllm/.buildkite", "fixtures/vllm-amd/.buildkite", "fixtures/terraform-state", "charts/agent-stack-k8s-0.47.0", "reference/ci-infra/terraform"]) {
            assert.ok(fs.existsSync(path.join(SHARED_COPY, part)), `tests/fixtures/shared/${part} is missing`);
        }
    });

    it("are byte-identical to ../shared, when it is present", function () {
        if (!hasSharedOriginal()) this.skip();
        const copied = filesUnder(SHARED_COPY).sort();
        const drifted = copied.filter((file) => {
            const original = path.join(SHARED_ORIGINAL, file);
            return !fs.existsSync(original) || !fs.readFileSync(original).equals(fs.readFileSync(path.join(SHARED_COPY, file)));
        });
        assert.deepEqual(drifted, [], `copies differ from ../shared (refresh them): ${drifted.slice(0, 10).join(", ")}`);
        for (const part of ["schemas", "conformance", "fixtures", "charts", "reference"]) {
            const missing = filesUnder(path.join(SHARED_ORIGINAL, part)).filter((file) => !fs.existsSync(path.join(SHARED_COPY, part, file)));
            assert.deepEqual(missing, [], `../shared/${part} has files the copy lacks: ${missing.slice(0, 10).join(", ")}`);
        }
    });
});
