/**
 * Where the generator's catalog comes from. The bundle (`scripts/build-generator.ts`) embeds the
 * catalog parsed at build time, so a bootstrap step needs no
 * `catalog/queues.yaml` on disk and does not pay for the catalog's schema check; the catalog
 * loader (and its Ajv) is only loaded when `--catalog PATH` asks for another file.
 */
import * as path from "path";
import type { Catalog } from "../catalog/types";
import { GeneratorError } from "./errors";

/** Read and check a catalog file; a bad catalog is a one-line error. */
export function loadCatalogFile(file: string): Catalog {
    // Required lazily: the loader pulls in Ajv, which the default path does not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loader = require("../catalog/load") as typeof import("../catalog/load");
    try {
        return loader.loadCatalog(file);
    } catch (error) {
        if (error instanceof loader.CatalogError) throw new GeneratorError({}, `catalog: ${error.message}`);
        throw error;
    }
}

/** Set by the bundler: the fleet's catalog, already parsed and checked. */
declare const __EMBEDDED_CATALOG__: Catalog | undefined;

/** The fleet's catalog (`catalog/queues.yaml`). */
export function defaultCatalog(): Catalog {
    if (typeof __EMBEDDED_CATALOG__ !== "undefined") return __EMBEDDED_CATALOG__;
    return loadCatalogFile(path.join(__dirname, "..", "catalog", "queues.yaml"));
}
