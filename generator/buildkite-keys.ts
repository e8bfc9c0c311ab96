/**
 * Buildkite's rule for step keys (the `key` definition of the pipeline schema): at most 100
 * characters from `[a-zA-Z0-9_-:${}.,]`, and not shaped like a UUID. A test keeps these in step
 * with `schemas/buildkite-pipeline.schema.json`.
 */
export const BUILDKITE_KEY_PATTERN = /^[a-zA-Z0-9_\-:${}.,]+$/;
export const BUILDKITE_KEY_MAX_LENGTH = 100;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Why Buildkite would reject this key, or undefined when it is fine. */
export function keyProblem(key: string): string | undefined {
    if (key.length > BUILDKITE_KEY_MAX_LENGTH) return `is longer than ${BUILDKITE_KEY_MAX_LENGTH} characters`;
    if (!BUILDKITE_KEY_PATTERN.test(key)) {
        const bad = [...key].find((character) => !BUILDKITE_KEY_PATTERN.test(character));
        return `has the character ${JSON.stringify(bad)}, which Buildkite does not allow in keys (only a-z A-Z 0-9 and _-:\${}.,)`;
    }
    if (UUID.test(key)) return "looks like a UUID";
    return undefined;
}
