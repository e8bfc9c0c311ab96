/**
 * `npm run adopt -- STACK --terraform-state FILE [--terraform-state FILE...] [--out DIR] [--strict]`
 *
 * Takes over a fleet that Terraform manages today, without any cloud call: runs the stack's
 * offline plan, matches it with the raw Terraform states, and writes to DIR (default `out/adopt`):
 * - `STACK.import.json`: the Pulumi bulk import file (`pulumi import --file`);
 * - `STACK.adoption.json`: adopted / created / replaced / left in Terraform / differences, with reasons;
 * - `STACK.terraform-handover.tf` and `STACK.terraform-state-rm.sh`: Terraform lets go, destroys nothing;
 * - `STACK.import.sh`: the import phase by phase (a targeted `pulumi up` of the explicit providers, then
 *   `pulumi import`), with `STACK.import-phase-N.json` when a provider reads an adopted resource.
 * Prints a summary table. Exit 0; 1 with `--strict` when something is unexplained; 2 on bad input.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { writeFileAtomic } from "../lib/atomic-write";
import { adopt } from "./engine";
import { renderAdoption, secretLeaks } from "./outputs";
import { adoptableStacks, stackAdoption } from "./stacks";
import { readTerraformStates, TerraformStateError } from "./terraform-state";
import { runMain } from "../lib/cli-entry";

const USAGE = `usage: npm run adopt -- STACK --terraform-state FILE [--terraform-state FILE ...] [--live-inventory FILE] [--out DIR] [--strict]

Matches the offline plan of STACK with raw Terraform states (terraform state pull) and writes the
Pulumi import file, the adoption report and the Terraform handover to DIR (default out/adopt).
  --live-inventory FILE  objects that exist outside Terraform, as the stack's rules read them
                         (gcp-prod: {"<kube context>": ["namespace/buildkite", "secret/buildkite/hf-token-secret", ...]};
                         github-prod, required, no Terraform state: {"<organization>": [runner group as gh api lists it, ...]};
                         buildkite-prod, required, no Terraform state: {"<organization>": <answer of adopt/buildkite-inventory.graphql>})
  --strict   exit 1 when any created, replaced, left or different resource has no reason
  --help     this text`;

/** A usage or input problem: one line, exit 2. */
class UsageError extends Error {}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
    try {
        let parsed;
        try {
            parsed = parseArgs({
                args: argv,
                allowPositionals: true,
                options: {
                    "terraform-state": { type: "string", multiple: true },
                    "live-inventory": { type: "string" },
                    out: { type: "string" },
                    strict: { type: "boolean" },
                    help: { type: "boolean" },
                },
            });
        } catch (error) {
            throw new UsageError(`${(error as Error).message}\n${USAGE}`);
        }
        if (parsed.values.help) {
            out.write(`${USAGE}\n`);
            return 0;
        }
        if (parsed.positionals.length !== 1) throw new UsageError(`name one stack (${adoptableStacks().join(", ")})\n${USAGE}`);
        const stack = parsed.positionals[0];
        if (!adoptableStacks().includes(stack)) throw new UsageError(`stack ${stack} has no adoption rules (adoptable: ${adoptableStacks().join(", ")})`);
        const inventoryFile = parsed.values["live-inventory"];
        let liveInventory: unknown;
        if (inventoryFile !== undefined) {
            try {
                liveInventory = JSON.parse(fs.readFileSync(inventoryFile, "utf8"));
            } catch (error) {
                throw new UsageError(`--live-inventory ${inventoryFile}: ${(error as Error).message.split("\n")[0]}`);
            }
        }
        let rules;
        try {
            rules = stackAdoption(stack, { liveInventory })!;
        } catch (error) {
            throw new UsageError(inventoryFile === undefined ? (error as Error).message : `--live-inventory ${inventoryFile}: ${(error as Error).message}`);
        }
        const stateFiles = parsed.values["terraform-state"] ?? [];
        if (stateFiles.length === 0 && rules.needsTerraformState !== false) throw new UsageError(`give at least one --terraform-state FILE\n${USAGE}`);
        const outDir = path.resolve(parsed.values.out ?? path.join("out", "adopt"));
        if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: not a directory`);

        const states = readTerraformStates(stateFiles);
        // Loaded lazily so that a usage error costs no Pulumi start-up.
        const { planStack } = await import("../plan/cli");
        let plan;
        try {
            plan = (await planStack(stack)).resources;
        } catch (error) {
            throw new UsageError(`stack ${stack}: ${(error as Error).message.split("\n")[0]}`);
        }
        const result = adopt(plan, states, rules);
        const rendered = renderAdoption(stack, plan, result);
        if (rendered.importProblems.length > 0) {
            err.write(`error: the import file of ${stack} would be refused: ${rendered.importProblems.join("; ")}\n`);
            return 2;
        }
        const leaks = secretLeaks(states, { ...rendered.files, summary: rendered.summary });
        if (leaks.length > 0) {
            err.write(`error: refusing to write: ${leaks.join("; ")}\n`);
            return 2;
        }
        fs.mkdirSync(outDir, { recursive: true });
        for (const [name, text] of Object.entries(rendered.files)) writeFileAtomic(path.join(outDir, name), text, name.endsWith(".sh") ? 0o755 : undefined);
        const notes = rules.liveNotes?.(plan) ?? [];
        out.write(`${rendered.summary}\n\n${notes.map((note) => `note: ${note}\n`).join("")}${notes.length > 0 ? "\n" : ""}wrote ${Object.keys(rendered.files).map((name) => path.join(path.relative(process.cwd(), outDir) || ".", name)).join(", ")}\n`);
        return parsed.values.strict && result.report.unexplained.length > 0 ? 1 : 0;
    } catch (error) {
        if (error instanceof UsageError || error instanceof TerraformStateError) {
            err.write(`error: ${error.message}\n`);
            return 2;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code) {
            err.write(`error: ${(error as Error).message.split("\n")[0]}\n`);
            return 2;
        }
        throw error;
    }
}

if (require.main === module) runMain(main, "error: internal: ");
