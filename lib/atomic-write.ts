/**
 * Writing a file so that readers (and a crash) see the old content or the new, never a part:
 * write a temporary file beside the target, then rename it over the target (atomic within one
 * file system). The generator, the adoption tool and every script that writes an output use it.
 */
import * as fs from "fs";
import * as path from "path";

/** What to write: text, bytes, or a writer that receives the text in chunks (large pipelines stream). */
export type AtomicContent = string | Uint8Array | ((write: (chunk: string) => void) => void);

/** Why a path cannot be written, as one clause ("… is a file, not a directory"). */
export class AtomicWriteError extends Error {}

function code(error: unknown): string {
    return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/**
 * The directories to create for `directory`, outermost first, after checking that its nearest
 * existing ancestor is a directory. Walks up with `stat` itself (Node 20's recursive
 * `mkdirSync` loops forever under `/proc`, where `mkdir` answers ENOENT).
 */
function missingDirectories(directory: string): string[] {
    const missing: string[] = [];
    for (let current = directory; ; ) {
        let stats: fs.Stats | undefined;
        try {
            stats = fs.statSync(current);
        } catch (error) {
            if (code(error) !== "ENOENT" && code(error) !== "ENOTDIR") throw new AtomicWriteError(`${current} cannot be examined (${code(error)})`);
            let link: fs.Stats | undefined;
            try {
                link = fs.lstatSync(current);
            } catch {
                link = undefined;
            }
            if (link?.isSymbolicLink()) throw new AtomicWriteError(`${current} is a symbolic link to nothing`);
        }
        if (stats) {
            if (!stats.isDirectory()) throw new AtomicWriteError(`${current} is a file, not a directory`);
            return missing;
        }
        missing.unshift(current);
        const parent = path.dirname(current);
        if (parent === current) throw new AtomicWriteError(`no directory of ${directory} exists`);
        current = parent;
    }
}

/** Checks, without writing, that `file` can be written: its directories exist or can be made, and it is not a directory. */
export function checkWritable(file: string): void {
    missingDirectories(path.dirname(file));
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new AtomicWriteError(`${file} is a directory`);
}

/**
 * Writes `content` to `file` atomically, with `mode` if given. Missing directories are created
 * (and removed again if the write fails). A failure of the path is an AtomicWriteError whose
 * message is one clause naming the path and the system's error code.
 */
export function writeFileAtomic(file: string, content: AtomicContent, mode?: number): void {
    const directory = path.dirname(file);
    const created: string[] = [];
    const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    let fd: number | undefined;
    try {
        for (const missing of missingDirectories(directory)) {
            try {
                fs.mkdirSync(missing);
            } catch (error) {
                throw new AtomicWriteError(`cannot create the directory ${missing} (${code(error)})`);
            }
            created.push(missing);
        }
        if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new AtomicWriteError(`${file} is a directory`);
        try {
            fd = fs.openSync(temporary, "w", mode);
        } catch (error) {
            throw new AtomicWriteError(`cannot create a file in ${directory} (${code(error)})`);
        }
        const descriptor = fd;
        try {
            if (typeof content === "string") fs.writeSync(descriptor, content);
            else if (content instanceof Uint8Array) fs.writeSync(descriptor, content);
            else content((chunk) => fs.writeSync(descriptor, chunk));
            fs.closeSync(descriptor);
            fd = undefined;
        } catch (error) {
            if (!(error as NodeJS.ErrnoException).code) throw error;
            throw new AtomicWriteError(`cannot write to ${directory} (${code(error)})`);
        }
        // The umask trims the mode `open` creates with; an explicit mode is what the caller asked for.
        if (mode !== undefined) fs.chmodSync(temporary, mode);
        try {
            fs.renameSync(temporary, file);
        } catch (error) {
            throw new AtomicWriteError(`cannot replace ${file} (${code(error)})`);
        }
    } catch (error) {
        if (fd !== undefined) fs.closeSync(fd);
        fs.rmSync(temporary, { force: true });
        for (const made of created.reverse()) {
            try {
                fs.rmdirSync(made);
            } catch {
                // not empty any more (another writer): leave it
            }
        }
        throw error;
    }
}
