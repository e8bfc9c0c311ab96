# The CI side of vLLM's image builds: layered over vLLM's own bake file, never used alone.
#
#   docker buildx bake -f docker/docker-bake.hcl -f ci.hcl test-ci
#
# vLLM's file (in the vLLM repository) defines the image (`_common`, `_labels`, the Dockerfile
# targets); this one adds what only the fleet knows: the registry and build caches, the compiler
# cache, the Buildkite build it came from. `buildkite/scripts/ci-bake.sh` runs it; builds get it
# from the bundle bucket, sha256-checked (README.md, Build helpers). Every variable can be set from
# the job's environment (bake reads variables from it), which is how ci-bake.sh and the bootstrap's
# top-level env (VLLM_USE_PRECOMPILED, VLLM_MERGE_BASE_COMMIT) reach it.
#
# Names the AWS stack owns (account, cache repositories, compiler cache bucket) are tied to it by
# tests/build-helpers/bake-file.test.ts.

# ---- Where images and caches live -------------------------------------------------------------

variable "REGISTRY" {
  default = "936637512419.dkr.ecr.us-east-1.amazonaws.com"
}

variable "PUBLIC_REGISTRY" {
  default = "public.ecr.aws/q9t5s3a7"
}

# Build cache of every CI build, keyed by commit (expires 14 days after push).
variable "PR_CACHE_REPOSITORY" {
  default = "vllm-ci-test-cache"
}

# Build cache of main, `latest` refreshed by postmerge builds.
variable "POSTMERGE_CACHE_REPOSITORY" {
  default = "vllm-ci-postmerge-cache"
}

# ---- Compiler cache (sccache in S3) -----------------------------------------------------------

variable "USE_SCCACHE" {
  default = 1
}

variable "SCCACHE_BUCKET_NAME" {
  default = "vllm-build-sccache"
}

variable "SCCACHE_REGION_NAME" {
  default = "us-west-2"
}

# 1: read the cache anonymously (agents whose role may not read the bucket).
variable "SCCACHE_S3_NO_CREDENTIALS" {
  default = 0
}

# ---- The build (Buildkite sets these in every job) ----------------------------------------------

variable "BUILDKITE_COMMIT" {
  default = ""
}

variable "BUILDKITE_BUILD_NUMBER" {
  default = ""
}

variable "BUILDKITE_BUILD_ID" {
  default = ""
}

# The commit before, a cache that is nearly always warm on a branch (ci-bake.sh computes it).
variable "PARENT_COMMIT" {
  default = ""
}

# vLLM's bake file labels the image with COMMIT (org.opencontainers.image.revision).
variable "COMMIT" {
  default = BUILDKITE_COMMIT
}

# Decided by the bootstrap: 1 when the merge base's wheels can stand in for a compile.
variable "VLLM_USE_PRECOMPILED" {
  default = "0"
}

variable "VLLM_MERGE_BASE_COMMIT" {
  default = ""
}

# ---- Tags and extra caches (set by the pipeline step) ------------------------------------------

variable "IMAGE_TAG" {
  default = ""
}

variable "IMAGE_TAG_LATEST" {
  default = ""
}

variable "CACHE_FROM" {
  default = ""
}

variable "CACHE_FROM_BASE" {
  default = ""
}

variable "CACHE_FROM_MAIN" {
  default = ""
}

variable "CACHE_TO" {
  default = ""
}

# ---- Functions --------------------------------------------------------------------------------
# Written out rather than composed from smaller functions: older buildx releases (the agents' AMIs
# pin theirs) cannot call a user-defined function from another.

# Caches read, warmest first: this commit (a retry), its parent, the merge base, then the step's own.
function "get_cache_from" {
  params = []
  result = compact([
    BUILDKITE_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${BUILDKITE_COMMIT},mode=max" : "",
    PARENT_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${PARENT_COMMIT},mode=max" : "",
    VLLM_MERGE_BASE_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${VLLM_MERGE_BASE_COMMIT},mode=max" : "",
    CACHE_FROM != "" ? "type=registry,ref=${CACHE_FROM},mode=max" : "",
    CACHE_FROM_BASE != "" ? "type=registry,ref=${CACHE_FROM_BASE},mode=max" : "",
    CACHE_FROM_MAIN != "" ? "type=registry,ref=${CACHE_FROM_MAIN},mode=max" : "",
  ])
}

# Caches written (zstd: smaller layers, faster pulls on the next build).
function "get_cache_to" {
  params = []
  result = compact([
    CACHE_TO != "" ? "type=registry,ref=${CACHE_TO},mode=max,compression=zstd" : "",
    BUILDKITE_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${BUILDKITE_COMMIT},mode=max,compression=zstd" : "",
  ])
}

# ---- Targets ----------------------------------------------------------------------------------

# What every CI image carries. The annotations are read back by the AMI rebuild pipeline
# (.buildkite/pipelines/rebuild-cpu-ami.yml) to find the build and its bake config artifact.
target "_ci" {
  annotations = [
    "index,manifest:vllm.buildkite.build_number=${BUILDKITE_BUILD_NUMBER}",
    "index,manifest:vllm.buildkite.build_id=${BUILDKITE_BUILD_ID}",
  ]
  args = {
    buildkite_commit          = BUILDKITE_COMMIT
    USE_SCCACHE               = USE_SCCACHE
    SCCACHE_BUCKET_NAME       = SCCACHE_BUCKET_NAME
    SCCACHE_REGION_NAME       = SCCACHE_REGION_NAME
    SCCACHE_S3_NO_CREDENTIALS = SCCACHE_S3_NO_CREDENTIALS
    VLLM_USE_PRECOMPILED      = VLLM_USE_PRECOMPILED
    VLLM_MERGE_BASE_COMMIT    = VLLM_MERGE_BASE_COMMIT
  }
}

# The CI test image, pushed under IMAGE_TAG (and IMAGE_TAG_LATEST on main).
target "test-ci" {
  inherits   = ["_common", "_ci", "_labels"]
  target     = "test"
  cache-from = get_cache_from()
  cache-to   = get_cache_to()
  tags       = compact([IMAGE_TAG, IMAGE_TAG_LATEST])
  output     = ["type=registry"]
}

# Warms a builder's local cache (the CPU AMI): builds the test image, pushes nothing.
target "cache-warm" {
  inherits = ["_common", "_ci", "_labels"]
  target   = "test"
  output   = ["type=cacheonly"]
  cache-from = compact([
    "type=registry,ref=${REGISTRY}/${POSTMERGE_CACHE_REPOSITORY}:latest,mode=max",
    BUILDKITE_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${BUILDKITE_COMMIT},mode=max" : "",
    VLLM_MERGE_BASE_COMMIT != "" ? "type=registry,ref=${REGISTRY}/${PR_CACHE_REPOSITORY}:${VLLM_MERGE_BASE_COMMIT},mode=max" : "",
  ])
}
