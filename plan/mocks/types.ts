/** Shapes of the mock tables (kept apart so the tables and their index import no one in a circle). */

/** Computes the outputs a resource of this type would have after creation. */
export type OutputMock = (name: string, inputs: Record<string, any>) => Record<string, unknown>;
/** Computes the result of a provider function. */
export type CallMock = (inputs: Record<string, any>) => Record<string, unknown>;
