#!/usr/bin/env bash
# Builds a vLLM CI image with `docker buildx bake`: vLLM's bake file plus the fleet's docker/ci.hcl.
# Run from the root of the vLLM checkout, on an image-build agent:
#
#   ci-bake.sh [TARGET]          TARGET: a target of ci.hcl, default test-ci
#
# Builds get this script and ci.hcl through ci-helper.sh, which fetches both from the bundle bucket
# and checks their sha256 against the manifest before running anything (README.md, Build helpers).
#
#   VLLM_CI_HCL       ci.hcl to use (ci-helper.sh sets it); else the one beside this script, else
#                     docker/ci.hcl of the ci-infra checkout this script is in
#   VLLM_BAKE_FILE    vLLM's bake file (default docker/docker-bake.hcl)
#   BUILDER_NAME      buildx builder when no local buildkitd runs (default vllm-builder)
#   IMAGE_TAG         when this image already exists, nothing is built
#   PARENT_COMMIT     cache fallback (default: HEAD~1 of the checkout)
#   IMAGE_TAG_LATEST, CACHE_FROM, CACHE_FROM_BASE, CACHE_FROM_MAIN, CACHE_TO, VLLM_USE_PRECOMPILED,
#   VLLM_MERGE_BASE_COMMIT, BUILDKITE_*   read by ci.hcl from the environment
#   VLLM_CI_PROBE_TIMEOUT_S   bound of each optional probe (registry, instance metadata; default 20)
#
# What is optional (the registry check, instance metadata, the bake config artifact) warns and goes
# on within its time bound; what the build needs (the bake files, buildx, the build) fails it.
set -euo pipefail

readonly TARGET="${1:-test-ci}"
readonly VLLM_BAKE_FILE="${VLLM_BAKE_FILE:-docker/docker-bake.hcl}"
readonly BUILDER_NAME="${BUILDER_NAME:-vllm-builder}"
readonly PROBE_TIMEOUT_S="${VLLM_CI_PROBE_TIMEOUT_S:-20}"
# Made by the CPU AMI (images/): a standalone buildkitd holding a warm cache, and a marker file.
readonly BUILDKIT_SOCKET="${VLLM_CI_BUILDKIT_SOCKET:-/run/buildkit/buildkitd.sock}"
readonly BAKED_BUILDER="baked-vllm-builder"
readonly AMI_MARKER="/etc/vllm-ami-info"
readonly IMDS="http://169.254.169.254/latest"

warn() {
  echo "warning: $1" >&2
}

die() {
  echo "error: $1" >&2
  exit 1
}

# Runs an optional command within the probe bound; its failure or a timeout is the caller's to handle.
bounded() {
  timeout --kill-after=5 "$PROBE_TIMEOUT_S" "$@"
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ci_hcl="${VLLM_CI_HCL:-}"
if [[ -z "$ci_hcl" ]]; then
  for candidate in "$script_dir/ci.hcl" "$(cd "$script_dir/../.." && pwd)/docker/ci.hcl"; do
    if [[ -f "$candidate" ]]; then
      ci_hcl="$candidate"
      break
    fi
  done
fi
[[ -n "$ci_hcl" && -f "$ci_hcl" ]] || die "no ci.hcl (VLLM_CI_HCL='${VLLM_CI_HCL:-}'); run this script through ci-helper.sh, which fetches it beside the script"

if [[ -n "${IMAGE_TAG:-}" ]]; then
  echo "--- :mag: Does ${IMAGE_TAG} exist?"
  # 0: it exists. Anything else (absent, no registry access, timeout) builds: a build too many costs
  # time, a build skipped wrongly breaks every test after it.
  if bounded docker manifest inspect "$IMAGE_TAG" >/dev/null 2>&1; then
    echo "Image already exists: ${IMAGE_TAG}; nothing to build"
    exit 0
  fi
  echo "Not found (or the registry did not answer within ${PROBE_TIMEOUT_S}s): building"
fi

[[ -f "$VLLM_BAKE_FILE" ]] || die "vLLM's bake file ${VLLM_BAKE_FILE} is not here ($(pwd)); run from the root of the vLLM checkout or set VLLM_BAKE_FILE"

echo "--- :docker: bake ${TARGET} (${VLLM_BAKE_FILE} + ${ci_hcl})"
# Instance facts, for reading a slow build's log. The metadata service may be absent (not EC2) or
# blocked: two seconds per request at most.
if imds_token="$(curl --silent --fail --max-time 2 -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300" 2>/dev/null)"; then
  for field in ami-id instance-type instance-id placement/availability-zone; do
    value="$(curl --silent --fail --max-time 2 -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/meta-data/$field" 2>/dev/null || echo unknown)"
    printf '%-26s %s\n' "$field" "$value"
  done
else
  echo "instance metadata: not available (not on EC2, or blocked)"
fi
if [[ -f "$AMI_MARKER" ]]; then
  echo "cache: warm (vLLM CPU AMI)"
  cat "$AMI_MARKER"
else
  echo "cache: cold (stock AMI)"
fi

echo "--- :buildkite: buildx builder"
if [[ -S "$BUILDKIT_SOCKET" ]]; then
  echo "Local buildkitd at ${BUILDKIT_SOCKET}: its warm cache is used (remote driver)"
  if docker buildx inspect "$BAKED_BUILDER" >/dev/null 2>&1; then
    docker buildx use "$BAKED_BUILDER"
  else
    docker buildx create --name "$BAKED_BUILDER" --driver remote --use "unix://${BUILDKIT_SOCKET}"
  fi
elif docker buildx inspect "$BUILDER_NAME" >/dev/null 2>&1; then
  echo "Existing builder ${BUILDER_NAME}"
  docker buildx use "$BUILDER_NAME"
else
  echo "No local buildkitd: a docker-container builder ${BUILDER_NAME}"
  docker buildx create --name "$BUILDER_NAME" --driver docker-container --use
fi
docker buildx inspect --bootstrap

if [[ -z "${PARENT_COMMIT:-}" ]]; then
  if PARENT_COMMIT="$(git rev-parse --verify --quiet 'HEAD~1' 2>/dev/null)"; then
    export PARENT_COMMIT
    echo "Parent commit for the cache fallback: ${PARENT_COMMIT}"
  else
    unset PARENT_COMMIT
    echo "No parent commit (shallow clone or first commit): no parent cache"
  fi
fi

# The resolved configuration: in the log, and as an artifact the AMI rebuild pipeline downloads by
# this name from the image-build step (.buildkite/pipelines/rebuild-cpu-ami.yml).
echo "--- :page_facing_up: resolved bake configuration"
bake_config="bake-config-build-${BUILDKITE_BUILD_NUMBER:-local}.json"
if docker buildx bake -f "$VLLM_BAKE_FILE" -f "$ci_hcl" --print "$TARGET" >"$bake_config"; then
  cat "$bake_config"
  if command -v buildkite-agent >/dev/null 2>&1 && [[ -n "${BUILDKITE_JOB_ID:-}" ]]; then
    bounded buildkite-agent artifact upload "$bake_config" || warn "could not upload ${bake_config} (the AMI rebuild will not find this build's configuration)"
  fi
else
  warn "docker buildx bake --print ${TARGET} failed; the build below will say why"
fi

echo "--- :docker: build ${TARGET}"
docker buildx bake -f "$VLLM_BAKE_FILE" -f "$ci_hcl" --progress plain "$TARGET"
echo "--- :white_check_mark: ${TARGET} built"
