/** Reading `ci:` config values for a settings reader that collects every problem (the error model of lib/problems.ts). */

/** Reads one raw config value (`ci:<key>`), as the engine passes it (structured values as JSON). */
export type ConfigReader = (key: string) => string | undefined;

/** Text and pattern-checked values of `get`, each problem pushed onto `problems` (the value is then `""`). */
export function collectingReader(get: ConfigReader, stackFile: string, problems: string[]) {
    const where = (key: string) => `${stackFile}: config ci:${key}`;
    /** The value, or `fallback`; missing and empty are problems. */
    const text = (key: string, fallback?: string): string => {
        const value = get(key) ?? fallback;
        if (value === undefined || value === "") {
            problems.push(`${where(key)}: missing (set it in ${stackFile})`);
            return "";
        }
        return value;
    };
    /** `text`, which must also match `pattern` (`what` says what it must be). */
    const matching = (key: string, pattern: RegExp, what: string, fallback?: string): string => {
        const value = text(key, fallback);
        if (value !== "" && !pattern.test(value)) problems.push(`${where(key)}: "${value}" is not ${what}`);
        return value;
    };
    return { where, text, matching };
}
