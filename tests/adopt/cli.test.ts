/** `npm run adopt` as a command: bad input in one line with exit 2, files written atomically, no secret out. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { main } from "../../adopt/cli";
import { sharedFixture } from "../support/fixtures";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: [string[], string[]] = [[], []];
    out.on("data", (chunk) => chunks[0].push(String(chunk)));
    err.on("data", (chunk) => chunks[1].push(String(chunk)));
    const code = await main(argv, out, err);
    return { code, stdout: chunks[0].join(""), stderr: chunks[1].join("") };
}

describe("`npm run adopt` command line", function () {
    let directory: string;
    beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-cli-"))));
    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

    it("refuses bad input with one line and exit 2, before planning anything", async function () {
        const state = path.join(directory, "bad.tfstate");
        fs.writeFileSync(state, JSON.stringify({ version: 3 }));
        const cases: [string[], RegExp][] = [
            [[], /^error: name one stack/],
            [["no-such-stack", "--terraform-state", state], /^error: stack no-such-stack has no adoption rules/],
            [["aws-prod"], /^error: give at least one --terraform-state FILE/],
            [["aws-prod", "--terraform-state", path.join(directory, "missing.tfstate")], /^error: .*missing\.tfstate: cannot read the state \(ENOENT\)$/m],
            [["aws-prod", "--terraform-state", state], /^error: .*bad\.tfstate: unsupported Terraform state \(version 3\)/],
            [["aws-prod", "--bogus"], /^error: Unknown option '--bogus'/],
        ];
        for (const [argv, expected] of cases) {
            const result = await run(argv);
            assert.equal(result.code, 2, argv.join(" "));
            assert.match(result.stderr, expected);
            assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        }
        assert.deepEqual(fs.readdirSync(directory), ["bad.tfstate"], "nothing written");
    });

    it("writes the five files of an adoption and never the state's secrets", async function () {
        this.timeout(120000);
        const stateFile = sharedFixture("fixtures", "terraform-state", "aws.tfstate");
        const out = path.join(directory, "out");
        const result = await run(["aws-prod", "--terraform-state", stateFile, "--out", out]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(fs.readdirSync(out).sort(), [
            "aws-prod.adoption.json",
            "aws-prod.import.json",
            "aws-prod.import.sh",
            "aws-prod.terraform-handover.tf",
            "aws-prod.terraform-state-rm.sh",
        ]);
        const raw = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { resources: { type: string; instances: { attributes: Record<string, unknown> }[] }[] };
        const hfToken = String(raw.resources.find((r) => r.type === "aws_secretsmanager_secret_version")!.instances[0].attributes.secret_string);
        for (const name of fs.readdirSync(out)) assert.ok(!fs.readFileSync(path.join(out, name), "utf8").includes(hfToken), `${name} holds the HF token`);
        assert.ok(!result.stdout.includes(hfToken));
        const report = JSON.parse(fs.readFileSync(path.join(out, "aws-prod.adoption.json"), "utf8"));
        assert.deepEqual(Object.keys(report), ["stack", "states", "adopted", "created", "replaced", "leftInTerraform", "differences", "unexplained"]);
        assert.match(result.stdout, /^aws-prod from aws\.tfstate \(162 instances\): /m);
    });
});
