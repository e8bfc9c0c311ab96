/**
 * Where the tests find the material they read: copies, inside the repository, of what the project
 * was given in `../shared/` (schemas, templates, the chart, conformance cases, vLLM's step files,
 * Terraform states, the reference ci-infra). `npm test` must pass on a plain clone, where no
 * `../shared` exists (GitHub Actions); `tests/fixtures.test.ts` checks, when `../shared` is
 * present, that these copies have not drifted from it.
 */
import * as fs from "fs";
import * as path from "path";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Root of the vendored copy; its layout mirrors `../shared/`. */
export const SHARED_COPY = path.join(PROJECT_ROOT, "tests", "fixtures", "shared");

/** The original `../shared/` beside the checkout, when there is one (local sessions, not CI). */
export const SHARED_ORIGINAL = path.resolve(PROJECT_ROOT, "..", "shared");

/** A path inside the vendored copy, e.g. `sharedFixture("schemas", "buildkite-pipeline.schema.json")`. */
export function sharedFixture(...parts: string[]): string {
    return path.join(SHARED_COPY, ...parts);
}

/** Whether the original `../shared/` is present, so the drift check can run. */
export function hasSharedOriginal(): boolean {
    return fs.existsSync(path.join(SHARED_ORIGINAL, "DESIGN.md"));
}
