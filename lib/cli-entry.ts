/**
 * The entry point of every command-line tool of the project: run `main` on the process's
 * arguments, exit with its code, and turn anything it throws into one `error:` line with exit 2,
 * never a stack trace (input problems are reported by `main` itself; what reaches here is not one,
 * but the person at the terminal still gets one line).
 */

/** One line for an unexpected error: its message's first line. */
export function errorLine(error: unknown, prefix = "error: "): string {
    return `${prefix}${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`;
}

/** Runs `main(process.argv.slice(2))`, synchronous or not, as described above. */
export function runMain(main: (argv: string[]) => number | Promise<number>, prefix = "error: "): void {
    const fail = (error: unknown) => {
        process.stderr.write(errorLine(error, prefix));
        process.exitCode = 2;
    };
    try {
        Promise.resolve(main(process.argv.slice(2))).then((code) => {
            process.exitCode = code;
        }, fail);
    } catch (error) {
        fail(error);
    }
}
