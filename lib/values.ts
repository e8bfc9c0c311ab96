/** Questions about parsed YAML and JSON values, shared by the catalog, the generator and the tests. No dependencies. */

/** A plain object (not null, not an array): what YAML and JSON mappings parse to. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
