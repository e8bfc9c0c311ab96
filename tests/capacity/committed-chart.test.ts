/**
 * `docs/capacity.svg` and `docs/capacity.txt` are the capacity view of today's catalog, committed
 * so a reader sees the fleet's ceiling without running anything: they must be what the command
 * writes (regenerate: `npm run -s catalog -- capacity --svg docs/capacity.svg > docs/capacity.txt`).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { capacityTable } from "../../capacity/report";
import { capacityChart } from "../../capacity/svg";
import { catalogCapacity } from "../../lint/cli";
import { DEFAULT_CATALOG_PATH } from "../../catalog";

const DOCS = path.resolve(__dirname, "..", "..", "docs");
const REGENERATE = "npm run -s catalog -- capacity --svg docs/capacity.svg > docs/capacity.txt";

describe("the committed capacity view", () => {
    const { catalog, view } = catalogCapacity(DEFAULT_CATALOG_PATH);

    it("docs/capacity.txt is the table of today's catalog", () => {
        assert.equal(fs.readFileSync(path.join(DOCS, "capacity.txt"), "utf8"), capacityTable(view, catalog.file), `stale: ${REGENERATE}`);
    });

    it("docs/capacity.svg is the chart of today's catalog", () => {
        assert.equal(fs.readFileSync(path.join(DOCS, "capacity.svg"), "utf8"), capacityChart(view, catalog.file), `stale: ${REGENERATE}`);
    });
});
