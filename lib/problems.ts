/**
 * The one error model of the program, the catalog and the lint: collect every problem, then report
 * them together. Each problem is one complete line naming the file, the queue (or resource or
 * config key) and the field; the error's message is those lines. Callers print each line and exit
 * 2 (`npm run plan`, `npm run catalog`), or hand the message to Pulumi as a `RunError` (one line
 * per problem, no stack trace).
 */

/** Problems that make the input unusable. */
export class ProblemsError extends Error {
    /** Every problem found, one line each, in the order found. */
    public readonly problems: readonly string[];

    constructor(problems: readonly string[], name = "ProblemsError") {
        super(problems.join("\n"));
        this.name = name;
        this.problems = problems;
    }
}

/** Throws `make(problems)` when there is any problem. */
export function throwIfProblems(problems: readonly string[], make: (problems: readonly string[]) => ProblemsError): void {
    if (problems.length > 0) throw make(problems);
}

/** The problem lines of an error of this model, or undefined for any other error. */
export function problemsOf(error: unknown): readonly string[] | undefined {
    return error instanceof ProblemsError ? error.problems : undefined;
}

/**
 * A runner of steps that collects the problems they throw into `problems` (an undefined result
 * for that step) and rethrows anything else, so that every check runs and all is reported at once.
 */
export function collectingProblems(problems: string[]): <T>(step: () => T) => T | undefined {
    return <T>(step: () => T): T | undefined => {
        try {
            return step();
        } catch (error) {
            const found = problemsOf(error);
            if (!found) throw error;
            problems.push(...found);
            return undefined;
        }
    };
}
