/**
 * Generator settings: every project-specific constant the reference hard-codes (spec §8, the
 * values marked [VLLM]). The defaults are vLLM's; another project reuses the generator by
 * passing a settings file (`--settings FILE`, YAML or JSON) that overrides any part of them.
 *
 * Queue routing and the plugin kind of each device are not here: they come from the queue
 * catalog (`catalog/queues.yaml`). The plugin *templates* the catalog names are here.
 */
import { PRECOMMIT_PROGRAM_TEMPLATE } from "./precommit-program";
import { isPlainObject } from "../lib/values";

/** A container environment entry of a Kubernetes pod spec. */
export type PodEnv = { name: string; value?: string; valueFrom?: unknown };

/** Environment and volumes of a docker plugin template (`docker#vX` plugin). */
export interface DockerTemplate {
    /** `environment` of the docker plugin: `NAME=value` or `NAME` (propagated). */
    environment: string[];
    /** Host paths mounted at the same path (`/dev/shm` becomes `/dev/shm:/dev/shm`). */
    volumes: string[];
}

/**
 * A Kubernetes pod spec template (`kubernetes: {podSpec: …}`). The first container's `image`
 * and its `resources.limits[<gpuResource>]` are filled in per step; keep them in the template
 * (with any placeholder value) so they appear where they should in the output.
 */
export type PodSpecTemplate = Record<string, unknown>;

/** A retry rule of Buildkite's `retry.automatic`. */
export type RetryRule = Record<string, string | number>;

export interface GeneratorSettings {
    /** Pipeline `name` that turns on `$VAR` injection in commands and the ECR cache lookup (§4.8, §4.9). */
    injectionPipelineName: string;

    github: {
        /** GitHub REST API base URL (PR labels, pre-commit check runs). */
        apiUrl: string;
        /** `github_repo_name` must match this regex (anchored by the generator). */
        repoNamePattern: string;
        /** `github_repo_name` when the pipeline config does not set it. */
        defaultRepo: string;
        /** PR label that turns on run-all and nightly. */
        runAllLabel: string;
        /** PR label that turns off fail-fast (computed, unused in the output, like upstream). */
        noFailFastLabel: string;
    };

    /** Default `working_dir` for steps of a job file with a file-level `depends_on`, for one repository only. */
    fileDependsOnWorkingDir: { repo: string; workingDir: string };

    /** Docs-only skip (§3.1). */
    docsOnly: {
        prefixes: string[];
        suffixes: string[];
        exact: string[];
        annotation: string;
        /** Marker file written next to the output file. */
        markerFile: string;
    };

    /** Label prefix of image-build steps: no setup lines, no plugin, no `cd`. */
    imageBuildLabelPrefix: string;
    /** Explicit key prefix of image builds: always run (§3.4 rule 3) and pre-commit gating (§4.15). */
    imageBuildKeyPrefix: string;
    /** Explicit keys that always run (§3.4 rule 3). */
    alwaysRunKeys: string[];
    /** Label whose docker plugin mounts the buildkite-agent binary. */
    benchmarksLabel: string;

    /** OTel command tracing (§4.11): only for builds of this repository (`github_repo_name`). */
    otel: { repo: string };

    /** Priorities (§4.14). */
    priority: { normal: number; high: number; amd: number };

    /** Retry rules (§4.12). */
    retry: { agentLost: RetryRule; stackError: RetryRule };

    /** Container images (§4.7, §4.9). */
    images: {
        /** Tag suffix under TORCH_NIGHTLY=1. */
        torchNightlySuffix: string;
        /** Tag of the latest main image (`$IMAGE_TAG_LATEST`). */
        latestTag: string;
        /** Pull-through cache: `from` is replaced by `to` for devices the catalog marks `pullThroughCache`. */
        pullThroughCache: { from: string; to: string };
    };

    /** ECR build cache (§4.9). */
    ecr: {
        loginRegion: string;
        loginRegistry: string;
        /** Cache repository of PR and branch builds (`T`). */
        testCache: string;
        /** Cache repository of main (`P`); its `latest` tag is the fallback. */
        postmergeCache: string;
        /** Tag of the postmerge cache used as the fallback. */
        postmergeTag: string;
    };

    /** Setup lines prepended to the commands of every non-AMD step (§4.10). */
    nvidiaSetup: {
        info: string[];
        /** Only for multi-GPU steps (`num_nodes >= 2` or `num_devices >= 2`). */
        topology: string[];
        coredump: string[];
    };

    docker: {
        /** Plugin name with version. */
        plugin: string;
        /** Templates by name; the catalog's devices name them. */
        templates: Record<string, DockerTemplate>;
    };

    kubernetes: {
        /** Resource name of the GPU limit filled in per step. */
        gpuResource: string;
        /** Pod spec templates by name; the catalog's devices name them. */
        templates: Record<string, PodSpecTemplate>;
    };

    /** The pre-commit group of PR builds (§4.15). */
    precommit: {
        groupName: string;
        label: string;
        key: string;
        queue: string;
        /** Name of the GitHub check run to wait for. */
        checkName: string;
        pollIntervalSeconds: number;
        maxWaitSeconds: number;
        /** Python program; placeholders `{{commit}}`, `{{repo}}`, `{{api_url}}`, `{{check_name}}`, `{{max_wait}}`, `{{wait_interval}}`. */
        program: string;
    };

    amd: {
        /** Group that collects AMD GPU steps and mirrors. */
        groupName: string;
        /** Devices that are AMD CPU builders: stack-error retry and the 180-minute timeout cap. */
        cpuDevices: string[];
        /** A device name matching this regex must be one of the catalog's AMD GPU devices. */
        devicePattern: string;
        /** Key of the AMD image build; `image-build` dependencies are rewritten to it. */
        buildKey: string;
        /** The dependency rewritten to `buildKey`. */
        imageBuildKey: string;
        /** Key of the ROCm base refresh step (special timeout and env). */
        refreshKey: string;
        /** A change to this file runs native (non-DinD) AMD steps. */
        runScriptPath: string;
        /** The command of AMD steps that use the runner script. */
        runScriptCommand: string;
        /** A change to this file runs every AMD mirror. */
        rocmBaseDockerfile: string;
        artifactPaths: string[];
        timeouts: { cap: number; refresh: number; refreshSkipped: number };
        /** Fixed retry list of AMD GPU steps. */
        retry: RetryRule[];
        /** Setup lines of AMD steps (before the debug agent line). */
        setup: string[];
        debugAgentDisabled: string;
        debugAgentEnabled: string;
        /** Set first on every AMD env (placeholders `{{gpu_count}}`, `{{commands}}`). */
        commonEnv: Record<string, string>;
        /** Set on DinD steps after `commonEnv`. */
        dindEnv: Record<string, string>;
        /** Native steps: removed from the env. */
        nativeRemoveEnv: string[];
        /** Native steps: added only when absent. */
        nativeDefaultEnv: Record<string, string>;
        /** Native steps: set last. */
        nativeEnv: Record<string, string>;
        /** `kubernetes.podSpecPatch` of native steps (placeholder `{{gpu_count}}`). */
        nativePodSpecPatch: Record<string, unknown>;
    };
}

/**
 * vLLM's AWS account and the ECR cache repositories the AWS stack creates. The generator cannot
 * import the stack (no Pulumi in the bundle): `tests/one-owner.test.ts` ties these to
 * `Pulumi.aws-prod.yaml` and `aws/settings.ts`, so the two cannot drift.
 */
export const VLLM_AWS_ACCOUNT_ID = "936637512419";
export const VLLM_ECR_CACHE = { region: "us-east-1", testRepository: "vllm-ci-test-cache", postmergeRepository: "vllm-ci-postmerge-cache" } as const;
const ecrRegistry = (region: string) => `${VLLM_AWS_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`;

const HF_TOKEN_SECRET = { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-token-secret", key: "token" } } };
const ANALYTICS_SECRET = {
    name: "BUILDKITE_ANALYTICS_TOKEN",
    valueFrom: { secretKeyRef: { name: "buildkite-analytics-token-secret", key: "token", optional: true } },
};
const H100_CONTAINER = {
    image: "",
    resources: { limits: { "nvidia.com/gpu": 1 } },
    volumeMounts: [
        { name: "devshm", mountPath: "/dev/shm" },
        { name: "hf-cache", mountPath: "/root/.cache/huggingface" },
    ],
    env: [
        { name: "VLLM_USAGE_SOURCE", value: "ci-test" },
        { name: "NCCL_CUMEM_HOST_ENABLE", value: "0" },
        { name: "HF_HOME", value: "/root/.cache/huggingface" },
        HF_TOKEN_SECRET,
        ANALYTICS_SECRET,
    ],
};
const HF_CACHE_VOLUMES = [
    { name: "devshm", emptyDir: { medium: "Memory" } },
    { name: "hf-cache", hostPath: { path: "/mnt/hf-cache", type: "DirectoryOrCreate" } },
];

/** vLLM's settings: the values upstream hard-codes. */
export const VLLM_SETTINGS: GeneratorSettings = {
    injectionPipelineName: "vllm_ci",
    github: {
        apiUrl: "https://api.github.com",
        repoNamePattern: "vllm-project/[A-Za-z0-9._-]+",
        defaultRepo: "vllm-project/vllm",
        runAllLabel: "ready-run-all-tests",
        noFailFastLabel: "ci-no-fail-fast",
    },
    fileDependsOnWorkingDir: { repo: "vllm-project/vllm", workingDir: "/vllm-workspace/tests" },
    docsOnly: {
        prefixes: ["docs/"],
        suffixes: [".md"],
        exact: ["mkdocs.yaml"],
        annotation: ":memo: CI skipped \u2014 doc-only changes",
        markerFile: ".docs_only",
    },
    imageBuildLabelPrefix: ":docker:",
    imageBuildKeyPrefix: "image-build",
    alwaysRunKeys: ["ensure-ci-base-amd", "refresh-rocm-base-amd"],
    benchmarksLabel: "Benchmarks",
    otel: { repo: "vllm-project/vllm" },
    priority: { normal: 0, high: 1000, amd: 200 },
    retry: {
        agentLost: { exit_status: -1, limit: 1 },
        stackError: { signal_reason: "stack_error", limit: 1 },
    },
    images: {
        torchNightlySuffix: "-torch-nightly",
        latestTag: "latest",
        pullThroughCache: {
            from: "public.ecr.aws",
            to: `${ecrRegistry("us-west-2")}/vllm-ci-pull-through-cache`,
        },
    },
    ecr: {
        loginRegion: VLLM_ECR_CACHE.region,
        loginRegistry: ecrRegistry(VLLM_ECR_CACHE.region),
        testCache: `${ecrRegistry(VLLM_ECR_CACHE.region)}/${VLLM_ECR_CACHE.testRepository}`,
        postmergeCache: `${ecrRegistry(VLLM_ECR_CACHE.region)}/${VLLM_ECR_CACHE.postmergeRepository}`,
        postmergeTag: "latest",
    },
    nvidiaSetup: {
        info: ["echo '--- :nvidia: GPU Info'", "(command nvidia-smi || true)"],
        topology: ["echo '--- :nvidia: GPU Topology'", "(command nvidia-smi topo -m || true)"],
        coredump: [
            "echo '--- :gear: CUDA Coredump Setup'",
            "export CUDA_ENABLE_COREDUMP_ON_EXCEPTION=1 && export CUDA_COREDUMP_SHOW_PROGRESS=1 && " +
                "export CUDA_COREDUMP_GENERATION_FLAGS='skip_nonrelocated_elf_images,skip_global_memory," +
                "skip_shared_memory,skip_local_memory,skip_constbank_memory'",
        ],
    },
    docker: {
        plugin: "docker#v5.2.0",
        templates: {
            h200: {
                environment: [
                    "VLLM_USAGE_SOURCE=ci-test",
                    "NCCL_CUMEM_HOST_ENABLE=0",
                    "HF_TOKEN",
                    "HF_HOME",
                    "CODECOV_TOKEN",
                    "BUILDKITE_ANALYTICS_TOKEN",
                ],
                volumes: ["/dev/shm", "/mnt/vllm-ci"],
            },
            "h200-small": {
                environment: [
                    "VLLM_USAGE_SOURCE=ci-test",
                    "NCCL_CUMEM_HOST_ENABLE=0",
                    "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:False",
                    "HF_TOKEN",
                    "HF_HOME",
                    "CODECOV_TOKEN",
                    "BUILDKITE_ANALYTICS_TOKEN",
                    "CUDA_VISIBLE_DEVICES",
                    "NVIDIA_VISIBLE_DEVICES",
                ],
                volumes: ["/dev/shm", "/mnt/vllm-ci", "/dev/nvidiactl"],
            },
            b200: {
                environment: [
                    "VLLM_USAGE_SOURCE=ci-test",
                    "NCCL_CUMEM_HOST_ENABLE=0",
                    "HF_HOME",
                    "HF_TOKEN",
                    "CODECOV_TOKEN",
                    "BUILDKITE_ANALYTICS_TOKEN",
                ],
                volumes: ["/dev/shm", "/raid", "/mnt/shared"],
            },
            zen5: {
                environment: [
                    "VLLM_USAGE_SOURCE=ci-test",
                    "NCCL_CUMEM_HOST_ENABLE=0",
                    "HF_HOME",
                    "HF_TOKEN",
                    "CODECOV_TOKEN",
                    "BUILDKITE_ANALYTICS_TOKEN",
                ],
                volumes: ["/dev/shm", "/mnt/ci-cache"],
            },
            default: {
                environment: [
                    "VLLM_USAGE_SOURCE=ci-test",
                    "NCCL_CUMEM_HOST_ENABLE=0",
                    "HF_HOME=/fsx/hf_cache",
                    "HF_TOKEN",
                    "CODECOV_TOKEN",
                    "BUILDKITE_ANALYTICS_TOKEN",
                    "RAY_COMPAT_SLACK_WEBHOOK_URL",
                ],
                volumes: ["/dev/shm", "/fsx/hf_cache"],
            },
        },
    },
    kubernetes: {
        gpuResource: "nvidia.com/gpu",
        templates: {
            h100: { containers: [H100_CONTAINER], volumes: HF_CACHE_VOLUMES },
            a100: {
                priorityClassName: "ci",
                containers: [H100_CONTAINER],
                nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB" },
                volumes: HF_CACHE_VOLUMES,
            },
            b200: {
                runtimeClassName: "nvidia",
                hostNetwork: true,
                dnsPolicy: "ClusterFirstWithHostNet",
                imagePullSecrets: [{ name: "k8s-ecr-login-renew-docker-secret" }],
                containers: [
                    {
                        image: "",
                        resources: { limits: { "nvidia.com/gpu": 1 } },
                        securityContext: { capabilities: { add: ["IPC_LOCK", "SYS_RESOURCE"] } },
                        volumeMounts: [
                            { name: "devshm", mountPath: "/dev/shm" },
                            { name: "raid", mountPath: "/raid" },
                            { name: "shared", mountPath: "/mnt/shared" },
                        ],
                        env: [
                            { name: "VLLM_USAGE_SOURCE", value: "ci-test" },
                            { name: "NCCL_CUMEM_HOST_ENABLE", value: "0" },
                            { name: "HF_HOME", value: "/raid/hf_cache" },
                            HF_TOKEN_SECRET,
                            ANALYTICS_SECRET,
                        ],
                    },
                ],
                volumes: [
                    { name: "devshm", emptyDir: { medium: "Memory" } },
                    { name: "raid", hostPath: { path: "/raid", type: "DirectoryOrCreate" } },
                    { name: "shared", hostPath: { path: "/mnt/shared", type: "DirectoryOrCreate" } },
                ],
            },
        },
    },
    precommit: {
        groupName: "GitHub pre-commit check",
        label: ":github: GitHub pre-commit check",
        key: "pre-commit",
        queue: "small_cpu_queue_premerge",
        checkName: "pre-commit",
        pollIntervalSeconds: 60,
        maxWaitSeconds: 3600,
        program: PRECOMMIT_PROGRAM_TEMPLATE,
    },
    amd: {
        groupName: "Hardware-AMD Tests",
        cpuDevices: ["amd_cpu"],
        devicePattern: "mi[0-9]+[a-z]*_[0-9]+",
        buildKey: "image-build-amd",
        imageBuildKey: "image-build",
        refreshKey: "refresh-rocm-base-amd",
        runScriptPath: ".buildkite/scripts/hardware_ci/run-amd-test.sh",
        runScriptCommand: "bash .buildkite/scripts/hardware_ci/run-amd-test.sh",
        rocmBaseDockerfile: "docker/Dockerfile.rocm_base",
        artifactPaths: ["artifacts/amd-gpu-diagnostics/*/diagnostics.log"],
        timeouts: { cap: 180, refresh: 540, refreshSkipped: 15 },
        retry: [
            { signal_reason: "stack_error", limit: 1 },
            { exit_status: -1, limit: 1 },
            { exit_status: 1, limit: 1 },
            { exit_status: 128, limit: 1 },
            { exit_status: 134, limit: 1 },
            { signal_reason: "agent_stop", limit: 1 },
            { signal_reason: "agent_refused", limit: 1 },
        ],
        setup: ["echo '--- :amd: GPU Info'", "(command amd-smi || true)", "echo '--- :gear: ROCm Debug Agent Setup'"],
        // Both forms exactly as spec §4.16 gives them (in double quotes, so they read the same
        // in multi-node steps, whose quotes are kept).
        debugAgentDisabled:
            'echo "ROCm debug agent disabled; set VLLM_CI_ENABLE_ROCM_DEBUG_AGENT=1 at pipeline generation time to enable coredump setup"',
        debugAgentEnabled:
            "if test -f /opt/rocm/lib/librocm-debug-agent.so.2; then export HSA_TOOLS_LIB=/opt/rocm/lib/librocm-debug-agent.so.2 " +
            "&& export HSA_ENABLE_DEBUG=1 && echo ROCm debug agent enabled: /opt/rocm/lib/librocm-debug-agent.so.2; " +
            'else echo "WARNING: ROCm debug agent not found at /opt/rocm/lib/librocm-debug-agent.so.2; skipping coredump setup"; fi',
        commonEnv: {
            BUILDKITE_ARTIFACT_UPLOAD_SKIP_SYMLINKS: "true",
            VLLM_CI_DIAGNOSTICS_DIR: "artifacts/amd-gpu-diagnostics",
            VLLM_CI_EXPECTED_GPU_COUNT: "{{gpu_count}}",
        },
        dindEnv: {
            DOCKER_BUILDKIT: "1",
            DOCKER_IMAGE_NAME: "rocm/vllm-dev:ci_base",
            VLLM_CI_BASE_IMAGE: "rocm/vllm-dev:ci_base",
            VLLM_CI_FALLBACK_IMAGE: "rocm/vllm-ci:build-$BUILDKITE_BUILD_ID",
            VLLM_CI_USE_ARTIFACTS: "1",
            VLLM_CI_ARTIFACT_GLOB: "artifacts/vllm-rocm-install/vllm-rocm-install.tar.gz",
            VLLM_CI_RESULTS_ROOT: "/home/buildkite-agent/huggingface/amd-ci-results",
            VLLM_TEST_COMMANDS: "{{commands}}",
        },
        nativeRemoveEnv: ["DOCKER_IMAGE_NAME", "DOCKER_BUILDKIT", "VLLM_CI_FALLBACK_IMAGE"],
        nativeDefaultEnv: {
            VLLM_CI_ARTIFACT_STEP: "image-build-amd",
            VLLM_CI_ARTIFACT_CHECKSUM_GLOB: "artifacts/vllm-rocm-install/vllm-rocm-install.tar.gz.sha256",
            VLLM_CI_REQUIRE_PERSISTENT_HF_CACHE: "1",
            HF_HOME: "/home/buildkite-agent/huggingface",
            HF_HUB_DOWNLOAD_TIMEOUT: "300",
            HF_HUB_ETAG_TIMEOUT: "60",
        },
        nativeEnv: {
            VLLM_CI_BASE_IMAGE: "rocm/vllm-dev:ci_base-build-$BUILDKITE_BUILD_ID",
            VLLM_CI_USE_ARTIFACTS: "1",
            VLLM_CI_ARTIFACT_GLOB: "artifacts/vllm-rocm-install/vllm-rocm-install.tar.gz",
            VLLM_CI_RESULTS_ROOT: "/home/buildkite-agent/huggingface/amd-ci-results",
            VLLM_CI_WORKSPACE: "/vllm-workspace",
            VLLM_CI_REQUIRE_WORKSPACE_MOUNT: "1",
            VLLM_TEST_COMMANDS: "{{commands}}",
            AMD_CI_RUNTIME: "native",
            NATIVE_CI: "true",
            VLLM_CI_DOCKER_DISABLED: "1",
            PYTORCH_ROCM_ARCH: "",
        },
        nativePodSpecPatch: {
            automountServiceAccountToken: false,
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            imagePullSecrets: [{ name: "docker-config" }],
            containers: [
                {
                    name: "container-0",
                    image: "rocm/vllm-dev:ci_base-build-$BUILDKITE_BUILD_ID",
                    imagePullPolicy: "Always",
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["IPC_LOCK"] } },
                    resources: { limits: { "amd.com/gpu": "{{gpu_count}}" }, requests: { "amd.com/gpu": "{{gpu_count}}" } },
                    volumeMounts: [
                        { name: "devshm", mountPath: "/dev/shm" },
                        { name: "vllm-workspace", mountPath: "/vllm-workspace" },
                    ],
                    env: [
                        { name: "AMD_CI_RUNTIME", value: "native" },
                        { name: "NATIVE_CI", value: "true" },
                        { name: "VLLM_CI_DOCKER_DISABLED", value: "1" },
                        { name: "VLLM_CI_EXPECTED_GPU_COUNT", value: "{{gpu_count}}" },
                        { name: "VLLM_CI_WORKSPACE", value: "/vllm-workspace" },
                        { name: "VLLM_CI_REQUIRE_WORKSPACE_MOUNT", value: "1" },
                        { name: "PYTORCH_ROCM_ARCH", value: "" },
                        { name: "VLLM_CI_K8S_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                        { name: "VLLM_CI_K8S_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                        { name: "VLLM_CI_K8S_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    ],
                },
            ],
            volumes: [
                { name: "devshm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } },
                { name: "vllm-workspace", emptyDir: {} },
            ],
        },
    },
};


/** Maps whose entries are named by the user (new names allowed); each entry given replaces the built-in one whole. */
const NAMED_ENTRIES = new Set(["docker.templates", "kubernetes.templates", "amd.commonEnv", "amd.dindEnv", "amd.nativeDefaultEnv", "amd.nativeEnv"]);
/** Values replaced whole even though they are mappings. */
const WHOLE_VALUES = new Set(["amd.nativePodSpecPatch"]);

/**
 * Overlay `override` on `base`. Settings mappings merge key by key; lists, strings and numbers
 * replace the base value; a template (or env map entry) given replaces the built-in one whole, so
 * a settings file never inherits half of a vLLM pod spec. Unknown keys are errors, so a typo is
 * not silently ignored.
 */
export function mergeSettings(base: GeneratorSettings, override: unknown, file = "settings"): GeneratorSettings {
    const merge = (baseValue: unknown, value: unknown, at: string): unknown => {
        if (WHOLE_VALUES.has(at) || !isPlainObject(baseValue)) {
            if (Array.isArray(baseValue) && !Array.isArray(value)) throw new SettingsError(`${file}: field ${at}: expected a list`);
            if (isPlainObject(baseValue) && !isPlainObject(value)) throw new SettingsError(`${file}: field ${at}: expected a mapping`);
            if (!Array.isArray(baseValue) && !isPlainObject(baseValue) && typeof baseValue !== typeof value) {
                throw new SettingsError(`${file}: field ${at}: expected a ${typeof baseValue}`);
            }
            return value;
        }
        if (!isPlainObject(value)) throw new SettingsError(`${file}: field ${at}: expected a mapping`);
        const result: Record<string, unknown> = { ...baseValue };
        for (const [key, child] of Object.entries(value)) {
            const path = at ? `${at}.${key}` : key;
            if (NAMED_ENTRIES.has(at)) {
                if (!isPlainObject(child) && typeof child !== "string") throw new SettingsError(`${file}: field ${path}: expected a mapping or a string`);
                result[key] = child;
            } else if (!(key in baseValue)) {
                throw new SettingsError(`${file}: unknown field ${path}`);
            } else {
                result[key] = merge(baseValue[key], child, path);
            }
        }
        return result;
    };
    if (!isPlainObject(override)) throw new SettingsError(`${file}: settings must be a mapping`);
    return merge(base, override, "") as GeneratorSettings;
}

/** A settings file that cannot be used. */
export class SettingsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SettingsError";
    }
}
