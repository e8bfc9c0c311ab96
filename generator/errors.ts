/**
 * Errors and warnings of the generator. Each renders as one line naming the file, the step and
 * the field where that applies, so a CI log shows the problem without a stack trace.
 */

/** Where a problem is: file, step (label or key) and field, each optional. */
export interface Location {
    file?: string;
    step?: string;
    field?: string;
    /** The step's key, when it helps to find the step (validation of the output). */
    key?: string;
}

function describe(location: Location, message: string): string {
    const parts: string[] = [];
    if (location.file) parts.push(location.file);
    if (location.step !== undefined) parts.push(location.key !== undefined ? `step "${location.step}" (key ${location.key})` : `step "${location.step}"`);
    else if (location.key !== undefined) parts.push(`step ${location.key}`);
    if (location.field) parts.push(`field ${location.field}`);
    parts.push(message);
    return parts.join(": ");
}

/** Bad input: generation stops, nothing is written, the CLI exits with code 2. */
export class GeneratorError extends Error {
    readonly location: Location;
    readonly reason: string;
    constructor(location: Location, reason: string) {
        super(describe(location, reason));
        this.name = "GeneratorError";
        this.location = location;
        this.reason = reason;
    }
}

/** A problem the reference accepts; `--strict` turns it into an error. */
export interface GeneratorWarning extends Location {
    message: string;
}

export function formatWarning(warning: GeneratorWarning): string {
    return describe(warning, warning.message);
}

/** Collects warnings; under `strict` the first one is thrown as an error instead. */
export class WarningSink {
    readonly warnings: GeneratorWarning[] = [];
    constructor(private readonly strict: boolean) {}
    warn(location: Location, message: string): void {
        if (this.strict) throw new GeneratorError(location, `${message} (an error under --strict)`);
        this.warnings.push({ ...location, message });
    }
}
