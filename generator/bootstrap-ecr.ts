/**
 * The build-cache lookups of the generator (`docker manifest inspect` on the ECR cache tags), made
 * optional: the login happens only when a lookup is needed (main builds need none), every command
 * has a timeout, and any failure (no `aws`, no credentials, a hung registry) is a warning and the
 * answer "absent", so the generator falls back to the postmerge `latest` cache. A registry that
 * failed once is not asked again in the same run.
 */
import { describeFailure, type CommandRunner } from "./bootstrap-adapters";
import type { BootstrapReport } from "./bootstrap-report";
import type { GeneratorAdapters } from "./generate";
import type { GeneratorSettings } from "./settings";

export function boundedCacheAdapters(
    run: CommandRunner,
    settings: GeneratorSettings,
    report: BootstrapReport,
    timeoutMs: number,
): Pick<GeneratorAdapters, "ecrLogin" | "manifestExists"> {
    const fallback = `${settings.ecr.postmergeCache}:${settings.ecr.postmergeTag}`;
    let state: "not-logged-in" | "logged-in" | "unavailable" = "not-logged-in";
    const giveUp = (why: string) => {
        state = "unavailable";
        report.warn(`ECR build cache unavailable (${why}); images build from ${fallback}`);
    };
    const login = async (): Promise<boolean> => {
        const password = await run("aws", ["ecr", "get-login-password", "--region", settings.ecr.loginRegion], { timeoutMs });
        if (!password.ok) {
            giveUp(describeFailure("aws ecr get-login-password", password, timeoutMs));
            return false;
        }
        const docker = await run("docker", ["login", "--username", "AWS", "--password-stdin", settings.ecr.loginRegistry], {
            input: password.stdout,
            timeoutMs,
        });
        if (!docker.ok) {
            giveUp(describeFailure("docker login", docker, timeoutMs));
            return false;
        }
        state = "logged-in";
        return true;
    };
    return {
        // Deferred to the first lookup: a build that looks nothing up needs no credentials.
        ecrLogin: () => undefined,
        async manifestExists(tag) {
            if (state === "unavailable") return false;
            if (state === "not-logged-in" && !(await login())) return false;
            const inspect = await run("docker", ["manifest", "inspect", tag], { timeoutMs });
            if (inspect.ok) return true;
            // A missing tag is the normal "absent"; a registry that does not answer is not.
            if (inspect.timedOut || inspect.missing) giveUp(describeFailure("docker manifest inspect", inspect, timeoutMs));
            return false;
        },
    };
}
