#!/usr/bin/env bash
# Fills BuildKit's store with the layers of the latest postmerge image: builds the CI image's bake
# target at that image's commit, reading the registry cache its build wrote, into the cache only
# (nothing is pushed). Runs as buildkite-agent, whose buildx builder is the BuildKit daemon.
#
# Usage: warm-cache.sh CONTEXT, where CONTEXT holds vllm/ (the commit's checkout) and
# bake-config.json (that build's bake file). Environment: ECR_TOKEN, CACHE_REGISTRY, CACHE_REF.
set -euo pipefail
context="${1:?usage: warm-cache.sh CONTEXT}"
: "${ECR_TOKEN:?an ECR login token}"
: "${CACHE_REGISTRY:?the build cache registry}"
: "${CACHE_REF:?the cache reference}"
for needed in "${context}/vllm" "${context}/bake-config.json"; do
  [[ -e "${needed}" ]] || { echo "error: ${needed} is missing (the pipeline prepares it)" >&2; exit 1; }
done

# Whatever happens, no registry credential stays in the image.
trap 'docker logout "${CACHE_REGISTRY}" >/dev/null 2>&1 || true' EXIT
docker login --username AWS --password-stdin "${CACHE_REGISTRY}" <<<"${ECR_TOKEN}"

# The CI bake target, minus its outputs: cache only, nothing pushed, no tags.
cat >"${context}/cache-warm.hcl" <<'HCL'
target "cache-warm" {
  inherits = ["test-ci"]
  output   = ["type=cacheonly"]
  cache-to = []
  tags     = []
}
HCL

cd "${context}/vllm"
docker buildx use baked-vllm-builder
bake=(docker buildx bake -f "${context}/bake-config.json" -f "${context}/cache-warm.hcl" --set "cache-warm.cache-from=type=registry,ref=${CACHE_REF},mode=max")
"${bake[@]}" --print cache-warm
timeout 7200 "${bake[@]}" --progress plain cache-warm
echo "BuildKit store after the warm-up:"
sudo du -sh /var/lib/buildkit 2>/dev/null || true
