import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AtomicWriteError, checkWritable, writeFileAtomic } from "../../lib/atomic-write";

describe("lib/atomic-write", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "atomic-write-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const leftovers = (folder: string) => fs.readdirSync(folder).filter((name) => name.endsWith(".tmp"));

    it("replaces the file whole and leaves no temporary file", () => {
        const file = path.join(dir, "out.txt");
        writeFileAtomic(file, "one");
        writeFileAtomic(file, "two");
        assert.equal(fs.readFileSync(file, "utf8"), "two");
        assert.deepEqual(leftovers(dir), []);
    });

    it("writes bytes as they are and streams chunks in order", () => {
        const bytes = Uint8Array.from([0xff, 0x00, 0xc3, 0x28]);
        writeFileAtomic(path.join(dir, "bin"), bytes);
        assert.deepEqual([...fs.readFileSync(path.join(dir, "bin"))], [...bytes]);
        writeFileAtomic(path.join(dir, "chunks"), (write) => ["a", "b", "c"].forEach(write));
        assert.equal(fs.readFileSync(path.join(dir, "chunks"), "utf8"), "abc");
    });

    it("gives the file the mode asked for, whatever the umask", () => {
        const previous = process.umask(0o077);
        try {
            writeFileAtomic(path.join(dir, "run.sh"), "#!/bin/sh\n", 0o755);
        } finally {
            process.umask(previous);
        }
        assert.equal(fs.statSync(path.join(dir, "run.sh")).mode & 0o777, 0o755);
    });

    it("creates missing folders, and removes them again when the write fails", () => {
        const nested = path.join(dir, "a", "b", "out.txt");
        writeFileAtomic(nested, "x");
        assert.equal(fs.readFileSync(nested, "utf8"), "x");
        const failing = path.join(dir, "c", "d", "out.txt");
        assert.throws(
            () =>
                writeFileAtomic(failing, () => {
                    throw new Error("writer broke");
                }),
            /writer broke/,
        );
        assert.equal(fs.existsSync(path.join(dir, "c")), false);
    });

    it("refuses a directory or a file in the way, in one clause naming the path", () => {
        fs.mkdirSync(path.join(dir, "folder"));
        assert.throws(() => writeFileAtomic(path.join(dir, "folder"), "x"), (error: unknown) => error instanceof AtomicWriteError && error.message === `${path.join(dir, "folder")} is a directory`);
        fs.writeFileSync(path.join(dir, "plain"), "");
        assert.throws(() => checkWritable(path.join(dir, "plain", "out.txt")), (error: unknown) => error instanceof AtomicWriteError && /plain is a file, not a directory$/.test(error.message));
        assert.deepEqual(leftovers(dir), []);
    });
});
