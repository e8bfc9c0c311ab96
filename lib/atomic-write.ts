/**
 * Writing a file so that readers see the old content or the new, never a part: write a temporary
 * file beside the target, then rename it over the target (atomic within one file system).
 */
import * as fs from "fs";
import * as path from "path";

/** Writes `text` to `file` atomically; the folder must exist. Errors are Node's, with `file` in them. */
export function writeFileAtomic(file: string, text: string, mode?: number): void {
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        fs.writeFileSync(temporary, text, mode === undefined ? undefined : { mode });
        fs.renameSync(temporary, file);
    } catch (error) {
        fs.rmSync(temporary, { force: true });
        throw error;
    }
}
