/** Which config keys a program run reads: what a secret test must know to be more than vacuous. */
/* eslint-disable @typescript-eslint/no-require-imports */
type ConfigModule = { getConfig(key: string): string | undefined };
// `pulumi.Config` reads through runtime/config; `pulumi.runtime.getConfig` is a copy made when runtime/index loaded.
const modules = [require("@pulumi/pulumi/runtime/config") as ConfigModule, require("@pulumi/pulumi/runtime") as ConfigModule];

/** Runs `run`, returning its result and every `namespace:key` read through Pulumi's config (pulumi.Config and pulumi.runtime.getConfig). */
export async function withConfigReads<T>(run: () => Promise<T>): Promise<{ result: T; keys: Set<string> }> {
    const keys = new Set<string>();
    const originals = modules.map((module) => module.getConfig);
    modules.forEach((module, index) => {
        module.getConfig = (key: string) => {
            keys.add(key);
            return originals[index](key);
        };
    });
    try {
        return { result: await run(), keys };
    } finally {
        modules.forEach((module, index) => (module.getConfig = originals[index]));
    }
}
