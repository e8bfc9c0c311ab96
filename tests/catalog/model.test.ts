/** The catalog model is the one source: the editors' schema file is generated from it, and its union holds by provider. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import * as yaml from "js-yaml";
import { catalogFileJsonSchema, PROVIDER_SECTIONS, QUEUE_SCHEMAS } from "../../catalog/model";
import { PROVIDERS } from "../../catalog";

const SCHEMA_FILE = path.join(__dirname, "..", "..", "catalog", "queues.schema.json");

describe("catalog model", () => {
    it("is what catalog/queues.schema.json holds (regenerate: npm run -s catalog -- schema > catalog/queues.schema.json)", () => {
        assert.deepEqual(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")), catalogFileJsonSchema());
    });

    it("lets a plain JSON-schema validator (an editor's) accept the fleet's catalog and refuse a misspelt field", () => {
        const validate = new Ajv({ strict: false, discriminator: true }).compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
        const catalog = yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "catalog", "queues.yaml"), "utf8")) as { queues: Record<string, unknown>[] };
        assert.equal(validate(catalog), true, JSON.stringify(validate.errors?.slice(0, 3)));
        catalog.queues[0].scael = { min: 0, max: 1 };
        assert.equal(validate(catalog), false);
    });

    it("gives each provider its own queue schema, and each section to its provider only", () => {
        assert.deepEqual(Object.keys(QUEUE_SCHEMAS).sort(), [...PROVIDERS].sort());
        for (const provider of PROVIDERS) {
            const properties = Object.keys(QUEUE_SCHEMAS[provider].properties);
            for (const section of PROVIDER_SECTIONS) assert.equal(properties.includes(section), section === provider, `${provider} queue, section ${section}`);
            assert.equal(QUEUE_SCHEMAS[provider].properties.provider.const, provider);
        }
    });
});
