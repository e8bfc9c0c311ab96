/**
 * The bootstrap's entry points: which vLLM pipeline runs which, with what. Upstream has one
 * script per pipeline (the CUDA path installing the Python generator, `bootstrap-intel.sh`,
 * `bootstrap-amd.sh`); here one bundle serves all three, picked with `--entry`, and each keeps
 * the file names and variables its pipeline already sets.
 */

export type EntryName = "cuda" | "intel" | "amd";
export const ENTRY_NAMES: readonly EntryName[] = ["cuda", "intel", "amd"];

/** Path prefixes: a changed file matching one of `patterns` and none of `ignore` (upstream's `[[ $f == $p* ]]`). */
export interface PrefixRule {
    patterns: string[];
    ignore: string[];
}

export function matchPrefixRule(changedFiles: string[], rule: PrefixRule): string | undefined {
    const starts = (file: string, prefixes: string[]) => prefixes.some((prefix) => file.startsWith(prefix));
    return changedFiles.find((file) => starts(file, rule.patterns) && !starts(file, rule.ignore));
}

interface EntryBase {
    name: EntryName;
    /** For `--help` and the log. */
    description: string;
    /** Environment variables naming the output file, first set wins. */
    outputEnv: string[];
    defaultOutputPath: string;
}

/** CUDA/CPU and Intel: the pipeline generator, run in process. */
export interface GeneratorEntry extends EntryBase {
    kind: "generator";
    /** Environment variables naming the pipeline config, first set wins. */
    configEnv: string[];
    defaultConfigPath: string;
    /** Changes that need a source build, so wheels built for the merge base cannot stand in. */
    sourceBuild: PrefixRule;
}

/** AMD: `test-template-amd.j2` rendered with the step file (no generator), as upstream. */
export interface TemplateEntry extends EntryBase {
    kind: "template";
    /** The step file, the template's context. */
    stepsPath: string;
    /** Changes that run everything (and build from source). */
    runAll: PrefixRule;
    /** Changes that make the build nightly (full AMD coverage) without counting as run-all. */
    nightlyPrefixes: string[];
    /** The mirror hardware selector, its variable, and the pipelines that use another one. */
    mirrorHardware: { env: string; default: string; bySlug: Record<string, string> };
}

export type EntryPoint = GeneratorEntry | TemplateEntry;

export const ENTRY_POINTS: Record<EntryName, EntryPoint> = {
    cuda: {
        name: "cuda",
        kind: "generator",
        description: "CUDA and CPU (vLLM's `ci` and `fastcheck` pipelines): the generator on .buildkite/ci_config.yaml",
        configEnv: ["PIPELINE_CONFIG_PATH"],
        defaultConfigPath: ".buildkite/ci_config.yaml",
        outputEnv: ["PIPELINE_OUTPUT_PATH"],
        defaultOutputPath: ".buildkite/pipeline.yaml",
        sourceBuild: {
            patterns: ["csrc/", "cmake/", "CMakeLists.txt", "setup.py", "requirements/build.txt", "docker/Dockerfile", "vllm/vllm_flash_attn/"],
            ignore: [],
        },
    },
    intel: {
        name: "intel",
        kind: "generator",
        description: "Intel XPU: the generator on .buildkite/ci_config_intel.yaml (upstream bootstrap-intel.sh)",
        configEnv: ["PIPELINE_CONFIG_PATH"],
        defaultConfigPath: ".buildkite/ci_config_intel.yaml",
        // bootstrap-intel.sh's own name first; PIPELINE_OUTPUT_PATH as for the other entries.
        outputEnv: ["OUTPUT_PIPELINE_PATH", "PIPELINE_OUTPUT_PATH"],
        defaultOutputPath: ".buildkite/pipeline.yaml",
        sourceBuild: {
            patterns: [
                "docker/Dockerfile",
                "CMakeLists.txt",
                "requirements/common.txt",
                "requirements/xpu.txt",
                "requirements/build.txt",
                "requirements/test.txt",
                "setup.py",
                "csrc/",
                "cmake/",
            ],
            ignore: ["docker/Dockerfile.", "csrc/cpu", "csrc/rocm", "cmake/hipify.py", "cmake/cpu_extension.cmake"],
        },
    },
    amd: {
        name: "amd",
        kind: "template",
        description: "AMD ROCm (upstream bootstrap-amd.sh): test-template-amd.j2 rendered with .buildkite/test-amd.yaml",
        stepsPath: ".buildkite/test-amd.yaml",
        outputEnv: ["PIPELINE_OUTPUT_PATH"],
        defaultOutputPath: ".buildkite/pipeline.yaml",
        runAll: {
            patterns: [
                "docker/Dockerfile.rocm",
                "CMakeLists.txt",
                "requirements/common.txt",
                "requirements/rocm.txt",
                "requirements/build/rocm.txt",
                "requirements/test/rocm.txt",
                "setup.py",
                "csrc/",
                "cmake/",
            ],
            ignore: ["csrc/cpu", "cmake/cpu_extension.cmake"],
        },
        nightlyPrefixes: ["docker/Dockerfile.rocm_base"],
        mirrorHardware: { env: "AMD_MIRROR_HW", default: "amdproduction", bySlug: { fastcheck: "amdtentative" } },
    },
};

/** The first of `names` set (non-empty) in the environment, else `fallback`. */
export function fromEnv(env: Record<string, string | undefined>, names: string[], fallback: string): string {
    for (const name of names) {
        const value = env[name];
        if (value !== undefined && value !== "") return value;
    }
    return fallback;
}
