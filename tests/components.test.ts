/**
 * The house style of components (DESIGN.md § Style), checked on the source: every component class
 * and every field of its Args is documented, Args are `readonly`, providers come in `opts`.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const FOLDERS = ["aws", "gcp", "k8s", "github"];

function componentFiles(): string[] {
    return FOLDERS.flatMap((folder) =>
        fs
            .readdirSync(path.join(ROOT, folder))
            .filter((file) => file.endsWith(".ts"))
            .map((file) => path.join(folder, file))
            .filter((file) => fs.readFileSync(path.join(ROOT, file), "utf8").includes("extends pulumi.ComponentResource")),
    );
}

const hasDoc = (node: ts.Node, source: ts.SourceFile) => (ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? []).some((c) => source.text.slice(c.pos, c.end).startsWith("/**"));

/** Problems of one component file: undocumented classes and Args fields, mutable Args, providers in Args. */
export function styleProblems(file: string, text = fs.readFileSync(path.join(ROOT, file), "utf8")): string[] {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const problems: string[] = [];
    const visit = (node: ts.Node) => {
        if (ts.isClassDeclaration(node) && node.heritageClauses?.some((h) => h.getText(source).includes("pulumi.ComponentResource"))) {
            if (!hasDoc(node, source)) problems.push(`${file}: class ${node.name?.text} has no doc comment`);
        }
        if (ts.isInterfaceDeclaration(node) && node.name.text.endsWith("Args")) {
            for (const member of node.members) {
                if (!ts.isPropertySignature(member)) continue;
                const name = member.name.getText(source);
                if (!hasDoc(member, source)) problems.push(`${file}: ${node.name.text}.${name} has no doc comment`);
                if (!member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword)) problems.push(`${file}: ${node.name.text}.${name} is not readonly`);
                if (/provider/i.test(name) || /Provider\b/.test(member.type?.getText(source) ?? "")) problems.push(`${file}: ${node.name.text}.${name} passes a provider in Args (use opts.provider)`);
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return problems;
}

describe("components", () => {
    it("are found in aws/, gcp/ and k8s/", () => {
        assert.ok(componentFiles().length >= 13, componentFiles().join(", "));
    });

    it("document every class and Args field, keep Args readonly, and take providers in opts", () => {
        assert.deepEqual(componentFiles().flatMap((file) => styleProblems(file)), []);
    });

    it("the style check can fail", () => {
        const bad = "export interface XArgs {\n    name: string;\n    /** ok */\n    readonly provider: gcp.Provider;\n}\nexport class X extends pulumi.ComponentResource {}\n";
        assert.deepEqual(styleProblems("x.ts", bad), [
            "x.ts: XArgs.name has no doc comment",
            "x.ts: XArgs.name is not readonly",
            "x.ts: XArgs.provider passes a provider in Args (use opts.provider)",
            "x.ts: class X has no doc comment",
        ]);
    });
});
