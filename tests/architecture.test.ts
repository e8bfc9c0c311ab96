/**
 * The import graph keeps the design's arrows (DESIGN.md): no cycles between modules, the catalog
 * and the generator free of Pulumi and of the clouds, k8s beside the clouds rather than under one.
 * Imports are read with TypeScript's own pre-processor, so the check sees what `tsc` sees.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const FOLDERS = ["catalog", "aws", "gcp", "buildkite", "k8s", "generator", "plan", "policy", "lib", "lint", "adopt", "images", "github", "capacity"];

function sources(): string[] {
    const walk = (dir: string): string[] =>
        fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
            const relative = path.join(dir, entry.name);
            if (entry.isDirectory()) return walk(relative);
            return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [relative] : [];
        });
    return [...FOLDERS.flatMap(walk), "fleet.ts", "index.ts"];
}

/** Module → the modules and packages it imports (type-only imports included: they are arrows too). */
export function importGraph(files = sources()): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
        graph.set(
            file,
            importedFiles.map(({ fileName }) => {
                if (!fileName.startsWith(".")) return fileName;
                const resolved = path.normalize(path.join(path.dirname(file), fileName));
                for (const candidate of [`${resolved}.ts`, path.join(resolved, "index.ts"), resolved]) if (fs.existsSync(path.join(ROOT, candidate))) return candidate;
                return resolved;
            }),
        );
    }
    return graph;
}

/** Every cycle's path, found by depth-first search. */
export function cycles(graph: Map<string, string[]>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
        state.set(node, "open");
        stack.push(node);
        for (const next of graph.get(node) ?? []) {
            if (!graph.has(next)) continue;
            if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
            else if (!state.has(next)) visit(next);
        }
        stack.pop();
        state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    return found;
}

const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0] : file);

describe("architecture", () => {
    const graph = importGraph();

    it("checks, and type-checks, every folder that holds TypeScript", () => {
        const holdsTypeScript = (dir: string): boolean =>
            fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).some((entry) => (entry.isDirectory() ? holdsTypeScript(path.join(dir, entry.name)) : entry.name.endsWith(".ts")));
        const NOT_ARCHITECTURE = ["node_modules", "dist", "reports", "out", "scripts", "tests"];
        const folders = fs
            .readdirSync(ROOT, { withFileTypes: true })
            .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !NOT_ARCHITECTURE.includes(entry.name) && holdsTypeScript(entry.name))
            .map((entry) => entry.name)
            .sort();
        assert.deepEqual(folders, [...FOLDERS].sort(), "FOLDERS lists every folder of the program");
        const include = (JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")) as { include: string[] }).include;
        for (const folder of [...folders, "scripts", "tests"]) assert.ok(include.includes(`${folder}/**/*.ts`), `tsconfig.json includes ${folder}/**/*.ts`);
    });

    it("has no import cycle", () => {
        assert.deepEqual(cycles(graph).map((cycle) => cycle.join(" -> ")), []);
    });

    it("finds a cycle when there is one (the check can fail)", () => {
        assert.deepEqual(cycles(new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts", "zod"]]])), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
    });

    const allowed: Record<string, string[]> = {
        catalog: ["catalog", "lib"],
        generator: ["generator", "catalog", "lib"],
        lib: ["lib"],
        k8s: ["k8s", "catalog", "lib"],
        aws: ["aws", "catalog", "lib"],
        buildkite: ["buildkite", "catalog", "lib", "images"],
        gcp: ["gcp", "catalog", "lib", "k8s"],
        github: ["github", "lib"],
        // The capacity view reads the GCP layout (pure) but declares nothing.
        capacity: ["capacity", "catalog", "lib", "gcp"],
    };
    for (const [folder, folders] of Object.entries(allowed)) {
        it(`keeps ${folder}/ to ${folders.join(", ")}${["catalog", "generator", "lib", "capacity"].includes(folder) ? ", and no Pulumi or cloud SDK" : ""}`, () => {
            for (const [file, imports] of graph) {
                if (folderOf(file) !== folder) continue;
                for (const target of imports) {
                    if (target.startsWith("@pulumi/") || target.startsWith("@aws-sdk/") || target.startsWith("@google-cloud/")) {
                        assert.ok(!["catalog", "generator", "lib", "capacity"].includes(folder), `${file} imports ${target}`);
                        continue;
                    }
                    if (!target.endsWith(".ts") && !target.endsWith(".json") && !target.includes("/")) continue; // a package
                    if (!graph.has(target) && !target.endsWith(".json")) continue;
                    assert.ok(folders.includes(folderOf(target)) || target.endsWith(".json"), `${file} imports ${target}`);
                }
            }
        });
    }

    it("lets only type imports cross from gcp/ to k8s/ (the agent stack is wired in fleet.ts)", () => {
        for (const [file] of graph) {
            if (folderOf(file) !== "gcp") continue;
            const text = fs.readFileSync(path.join(ROOT, file), "utf8");
            for (const line of text.split("\n").filter((l) => /from "\.\.\/k8s/.test(l))) assert.match(line, /^import type /, `${file}: ${line}`);
        }
    });
});
