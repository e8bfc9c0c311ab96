/** `bash -n` for rendered scripts (test helper). */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The syntax errors `bash -n` finds in a script, or "" when it parses. */
export function bashSyntaxErrors(script: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "startup-"));
    try {
        const file = path.join(dir, "startup.sh");
        fs.writeFileSync(file, script);
        const result = spawnSync("bash", ["-n", file], { encoding: "utf8" });
        return result.status === 0 ? "" : result.stderr || `bash -n exited ${result.status}`;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
