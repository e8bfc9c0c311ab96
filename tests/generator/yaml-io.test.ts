/** YAML in (the fast reader against js-yaml) and out (the emitter, schema validation, atomic write). */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { BUILDKITE_KEY_MAX_LENGTH, BUILDKITE_KEY_PATTERN } from "../../generator/buildkite-keys";
import { GeneratorError } from "../../generator/errors";
import { parseFastYaml } from "../../generator/fast-yaml";
import { toYaml, validatePipeline, writeFileAtomic } from "../../generator/output";
import { SCHEMA_DIFFERENCES, validationSchema } from "../../generator/schema-validator";
import { parseYaml, parseYamlWithJsYaml, PYYAML_SCHEMA } from "../../generator/yaml";
import { firstDifference } from "../../scripts/conformance";
import { SHARED_COPY } from "../support/fixtures";

const SHARED = SHARED_COPY;

function yamlFiles(directory: string): string[] {
    if (!fs.existsSync(directory)) return [];
    return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) return yamlFiles(full);
        return /\.ya?ml$/.test(entry.name) && entry.name !== "expected.yaml" ? [full] : [];
    });
}

describe("generator YAML", function () {
    describe("reading", function () {
        it("reads YAML 1.1 like PyYAML (yes/on are booleans, y/n are not, 0755 is octal)", function () {
            assert.deepEqual(parseYaml("a: yes\nb: y\nc: [n, off]\nd: 0755\ne: '0755'\n", "f.yaml"), { a: true, b: "y", c: ["n", false], d: 493, e: "0755" });
        });

        it("reports syntax errors and duplicate keys as one line with file and position", function () {
            assert.throws(() => parseYaml("steps: [a\n", "jobs/x.yaml"), (error: unknown) => {
                assert.ok(error instanceof GeneratorError);
                assert.match(error.message, /^jobs\/x\.yaml: YAML error: .*\(line \d+, column \d+\)$/);
                return true;
            });
            assert.throws(() => parseYaml("a: 1\na: 2\n", "jobs/x.yaml"), /duplicated mapping key \(line 2/);
        });

        it("the fast reader takes, and agrees with js-yaml on, every real vLLM step file", function () {
            const files = [...yamlFiles(path.join(SHARED, "fixtures", "vllm")), ...yamlFiles(path.join(SHARED, "fixtures", "vllm-amd"))];
            assert.ok(files.length >= 60, `only ${files.length} real step files found`);
            for (const file of files) {
                const text = fs.readFileSync(file, "utf8");
                const result = parseFastYaml(text);
                assert.ok(result, `the fast reader gave up on ${path.relative(SHARED, file)}`);
                assert.equal(firstDifference(parseYamlWithJsYaml(text, file), result.value), undefined, file);
            }
        });

        it("the fast reader agrees with js-yaml on every step file of the conformance cases", function () {
            const files = yamlFiles(path.join(SHARED, "conformance", "generator"));
            assert.ok(files.length > 100, `only ${files.length} step files found`);
            let fast = 0;
            for (const file of files) {
                const text = fs.readFileSync(file, "utf8");
                const result = parseFastYaml(text);
                if (!result) continue;
                fast++;
                const reference = parseYamlWithJsYaml(text, file);
                assert.equal(firstDifference(reference, result.value), undefined, file);
            }
            assert.ok(fast / files.length > 0.9, `only ${fast} of ${files.length} files on the fast path`);
        });

        /**
         * Snippets at the edges of the subset, each with what the fast reader must do: read it
         * (and agree with js-yaml) or give up. A snippet marked "fast" fails when the reader bails.
         */
        const snippets: Array<[string, "fast" | "bail"]> = [
            ["a: 1\nb: -2\nc: +3\nd: 0\ne: ~\nf:\ng: null\nh: Null\n", "fast"],
            ["k: 1.5\nl: 1e3\nm: 1_000\nn: 0x1f\no: 2001-12-14\np: 12:30\nq: .inf\nr: 2+\ns: 2 Node Test\n", "bail"],
            ["a: 'it''s'\nb: \"tab\\tnl\\n\\u00e9\\x41\\\\\"\nc: '#not a comment'\nd: x #comment\ne: x#y\n", "fast"],
            ["list:\n- a\n-   b\n- - c\n  - d\n-\n  e: 1\n- {x: [1, 2], 'y': \"z\"}\n- [a, -1, 'b c']\n- []\n- {}\n", "fast"],
            ["nested:\n  deeper:\n    - k: v\n      k2: v2\n    - k: v3\nsame_indent:\n- 1\n- 2\nafter: x\n", "fast"],
            ["lit: |\n  line 1\n    indented\n\n  line 3\nkeep: |+\n  a\n\nstrip: >-\n  folded\n  text\nclip: >\n  one\n", "fast"],
            ["cmd:\n  - pytest -v -s kernels/\n      --ignore=a\n      --ignore=b\n  - next\n", "fast"],
            ["q: \"pip install \\\n    'x>=1' \\\n    y\"\nfold: \"a\n  b\n\n  c\"\nsq: 'multi\n  line'\n", "fast"],
            ["anchors:\n  base: &deps\n    - a\n    - b\n  again: *deps\n  scalar: &s v\n  ref: *s\n", "fast"],
            ["weird keys:\n  \"quoted key\": 1\n  'single': 2\n  with space: 3\n  trailing   : 4\n", "fast"],
            ["url: http://example.com/a:b\nrange: 1:2:3\ncolon_end: a:\n", "bail"],
            ["empty_flow: {a: }\n", "bail"],
            ["tabs:\tx\n", "bail"],
            ["- top\n- level\n", "fast"],
            ["<<: {a: 1}\n", "bail"],
            ["a: !tag x\n", "bail"],
            ["--- \na: 1\n", "bail"],
            ["a: b: c\n", "bail"],
            ["a:\n  - x\n   - y\n", "bail"],
            ["y: yes\nn: no\nY: Yes\nN: No\n", "fast"],
            // Unicode whitespace is content, not trimmed
            ["a: x\u00a0\nb: \u3000y\u3000\nc: z\u2028\n", "fast"],
            ["k\u00a0: v\n", "fast"],
            ["- [a\u00a0, b\u2003]\n", "fast"],
            ["a: 'x\u00a0\n  y'\n", "fast"],
            // keep chomping at end of file
            ["a: |+\n  x\n\n", "fast"],
            ["a: |+\n  x\n\n\n", "fast"],
            ["a: |+\n  x", "fast"],
            ["a: >+\n  x\n  y\n\n", "fast"],
            ["a: |-\n  x\n\n", "fast"],
            // spaces-only and leading empty lines in block scalars
            ["a: |\n  x\n     \n  y\n", "fast"],
            ["a: |\n\n  x\n", "fast"],
            ["a: >\n  x\n\n  y\n   z\n  w\n", "fast"],
            ["a: |\nb: 1\n", "fast"],
            // anchors before compact keys / sequences, and circular aliases
            ["- &a k: v\n- *a\n", "bail"],
            ["- &a - x\n", "bail"],
            ["- &a\n  - *a\n", "bail"],
            ["a: &a &b x\n", "bail"],
            // keys that resolve to other types
            ["on: 1\n1: 2\n~: 3\n007: 4\n", "fast"],
            ["on: 1\nyes: 2\n", "bail"],
            // document markers and non-printable characters
            ["a: 1\n...\n", "bail"],
            ["a: x\u0001\n", "bail"],
            ["a: \"\\q\"\n", "bail"],
            ["- 2001-12-14 21:59:43.10 -5 :: y\n", "bail"],
        ];
        snippets.forEach(([snippet, mode], index) => {
            it(`the fast reader ${mode === "fast" ? "reads" : "defers to js-yaml on"} snippet ${index + 1}: ${JSON.stringify(snippet).slice(0, 40)}`, function () {
                let reference: unknown;
                let referenceError: string | undefined;
                try {
                    reference = parseYamlWithJsYaml(snippet, "snippet.yaml");
                } catch (error) {
                    referenceError = (error as Error).message;
                }
                const result = parseFastYaml(snippet);
                if (mode === "bail") {
                    assert.equal(result, undefined, "the fast reader should give up on this one");
                    return;
                }
                assert.equal(referenceError, undefined, "a snippet for the fast path must be valid YAML");
                assert.ok(result, "the fast reader gave up");
                assert.equal(firstDifference(reference, result.value), undefined);
            });
        });
    });

    describe("writing", function () {
        const tricky = [
            "plain words",
            "",
            " leading space",
            "trailing space ",
            "yes",
            "No",
            "null",
            "~",
            "0",
            "-1",
            "0755",
            "1e3",
            "1:30",
            "2001-12-14",
            ".inf",
            ":docker: build",
            "- dash",
            "key: value",
            "a #comment",
            "ends with colon:",
            "multi\nline\n",
            "tab\there",
            "quote ' and \" both",
            "$BUILDKITE_COMMIT",
            "{flow}",
            "[list]",
            "*alias",
            "&anchor",
            "!tag",
            "%directive",
            "@at",
            "`backtick",
            "|pipe",
            ">gt",
            "?q",
            "Émile \u2028 \ud83d\ude00",
            "=",
            "<<",
        ];

        it("round-trips tricky strings and scalars through YAML 1.1 (PyYAML) and 1.2 readers", function () {
            const document = {
                strings: tricky,
                mapping: Object.fromEntries(tricky.filter(Boolean).map((text, i) => [text, i])),
                numbers: [0, -1, 1000, 2.5],
                booleans: [true, false],
                empty: { list: [], map: {} },
                nested: [[["deep"]], [{ a: [{ b: 1 }] }]],
            };
            const text = toYaml(document);
            assert.equal(firstDifference(document, load(text, { schema: PYYAML_SCHEMA })), undefined);
            assert.equal(firstDifference(document, load(text, { schema: CORE_SCHEMA })), undefined);
            assert.ok(!/&\w|\*\w/.test(text.replace(/"[^"\n]*"/g, "")), "no anchors or aliases");
        });

        it("writes block style with sequences under their key, like PyYAML", function () {
            assert.equal(toYaml({ steps: [{ group: "G", steps: [{ label: "a", depends_on: [], retry: { automatic: [{ exit_status: -1 }] } }] }] }), [
                "steps:",
                "- group: G",
                "  steps:",
                "  - label: a",
                "    depends_on: []",
                "    retry:",
                "      automatic:",
                "      - exit_status: -1",
                "",
            ].join("\n"));
        });

        it("validates against the Buildkite schema, naming the step and the field", function () {
            validatePipeline({ steps: [{ group: "G", steps: [{ label: "a", key: "a", commands: ["x"] }] }] });
            const locate = (step: Record<string, unknown>) => ({ file: "jobs/a.yaml", step: String(step.label ?? step.block), key: String(step.key) });
            assert.throws(
                () => validatePipeline({ steps: [{ group: "G", steps: [{ label: "a", key: "a", commands: ["x"], no_such_field: 1 }] }] }, locate),
                /jobs\/a\.yaml: step "a" \(key a\): field no_such_field: the generated pipeline does not match the Buildkite pipeline schema: is not a field Buildkite knows here$/,
            );
            assert.throws(
                () => validatePipeline({ steps: [{ group: "G", steps: [{ block: "Run a", key: "block-a", depends_on: [], prompt: 3 }] }] }, locate),
                /jobs\/a\.yaml: step "Run a" \(key block-a\): field prompt: .*must be of type string, not 3$/,
            );
            assert.throws(
                () => validatePipeline({ steps: [{ group: "G", steps: [{ label: "a", key: "a", soft_fail: "maybe" }] }] }, locate),
                /field soft_fail: .*must be one of \[true,false,"true","false"\], not "maybe"$/,
            );
            assert.throws(() => validatePipeline({}), /field steps: .*must be a list/);
        });

        it("keeps its schema overlay small, explicit and tied to the official schema", function () {
            const official = JSON.parse(fs.readFileSync(path.join(SHARED, "schemas", "buildkite-pipeline.schema.json"), "utf8"));
            const ours = validationSchema();
            assert.ok(SCHEMA_DIFFERENCES.length <= 3, "a minimal set of differences");
            const changed: string[] = [];
            const compare = (a: unknown, b: unknown, at: string[]) => {
                if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
                    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [...at, key]);
                } else if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(at.join("."));
            };
            compare(official, ours, []);
            assert.deepEqual(changed, SCHEMA_DIFFERENCES.map((difference) => difference.path.join(".")), "only the listed paths differ");
            for (const difference of SCHEMA_DIFFERENCES) {
                const value = (root: unknown) => difference.path.reduce((node, part) => (node as Record<string, unknown>)[part], root);
                assert.equal(value(official), difference.official, `the official schema no longer has ${difference.path.join(".")} = ${difference.official}`);
                assert.equal(value(ours), difference.ours);
                assert.ok(difference.reason.length > 20);
            }
        });

        it("keeps its copy of the schema identical to the shared one, and the key rule in step with it", function () {
            const shared = path.join(SHARED, "schemas", "buildkite-pipeline.schema.json");
            const copy = path.resolve(__dirname, "..", "..", "generator", "schemas", "buildkite-pipeline.schema.json");
            const schema = JSON.parse(fs.readFileSync(copy, "utf8"));
            if (fs.existsSync(shared)) assert.equal(fs.readFileSync(copy, "utf8"), fs.readFileSync(shared, "utf8"));
            assert.equal(BUILDKITE_KEY_PATTERN.source, schema.definitions.key.pattern);
            assert.equal(BUILDKITE_KEY_MAX_LENGTH, schema.definitions.key.maxLength);
        });

        it("writes atomically: no temporary file is left, an existing file is replaced whole", function () {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "atomic-"));
            try {
                const file = path.join(directory, "sub", "pipeline.yaml");
                writeFileAtomic(file, "one");
                writeFileAtomic(file, "two");
                assert.equal(fs.readFileSync(file, "utf8"), "two");
                assert.deepEqual(fs.readdirSync(path.dirname(file)), ["pipeline.yaml"]);
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });
    });
});
