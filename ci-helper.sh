#!/usr/bin/env bash
# Runs one of the fleet's build helpers in a vLLM job, fetched from the bundle bucket and checked
# before anything runs, as bootstrap.sh does for the bootstrap bundle:
#
#   curl -fsSL https://raw.githubusercontent.com/vllm-project/ci-infra/main/ci-helper.sh | bash -s -- ci-bake.sh test-ci
#   curl -fsSL https://raw.githubusercontent.com/vllm-project/ci-infra/main/ci-helper.sh | bash -s -- upload_codecov.sh "$BUILDKITE_LABEL"
#
# It reads `<prefix>/helpers.sha256` (one `<sha256>  <key>` line per helper of the last publish of
# the branch), fetches every helper of that publish into one folder, checks each sha256, and runs
# the named one with bash (ci-bake.sh finds ci.hcl beside it: VLLM_CI_HCL). Needs bash, curl and
# sha256sum (or shasum): no Node.js, so it runs on build hosts and in test containers alike.
#
#   VLLM_CI_BRANCH       ci-infra branch whose helpers run (default main: production)
#   VLLM_CI_BUNDLE_URL   may only name the managed bucket
#
# Exit codes: the helper's own, or 3 when it cannot be had safely (bad branch or URL, never
# published, fetch failed, sha256 mismatch, unknown helper).
set -euo pipefail

# One owner: lib/bundle-delivery.ts (tests/build-helpers/delivery.test.ts ties these to it).
readonly BUNDLE_BUCKET_URL="https://vllm-ci-bootstrap-bundles.s3.us-west-2.amazonaws.com"
readonly PRODUCTION_PREFIX="production"
readonly BRANCH_PREFIX="branches"
readonly HELPERS_LIST="helpers.sha256"

fail() {
  echo "error: ci-helper: $1" >&2
  exit 3
}

(($# >= 1)) || fail "name the helper to run (ci-bake.sh, upload_codecov.sh)"
helper="$1"
shift
[[ "$helper" =~ ^[A-Za-z0-9_.-]+$ && "$helper" != .* ]] || fail "'${helper}' is not a helper name"

ref="${VLLM_CI_BRANCH:-main}"
if ! [[ "$ref" =~ ^[A-Za-z0-9_][A-Za-z0-9._/-]*$ ]] || ((${#ref} > 200)) ||
  [[ "$ref" == *..* || "$ref" == *//* || "$ref" == */ || "$ref" == *.lock || "$ref" == */.* ]]; then
  fail "VLLM_CI_BRANCH='${ref}' is not a branch name helpers are published under"
fi
base_url="${VLLM_CI_BUNDLE_URL:-$BUNDLE_BUCKET_URL}"
base_url="${base_url%/}"
[[ "$base_url" == "$BUNDLE_BUCKET_URL" ]] || fail "VLLM_CI_BUNDLE_URL='${base_url}' is not the managed bundle bucket ${BUNDLE_BUCKET_URL}"
if [[ "$ref" == "main" ]]; then prefix="$PRODUCTION_PREFIX"; else prefix="${BRANCH_PREFIX}/${ref}"; fi

command -v curl >/dev/null 2>&1 || fail "curl is not installed here"
if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  fail "neither sha256sum nor shasum is installed here: the helpers cannot be checked"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/vllm-ci-helper.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch() { # URL FILE: prints the HTTP status (000 when there was no answer)
  curl --silent --show-error --location --retry 3 --retry-delay 2 --connect-timeout 10 --max-time 60 \
    --output "$2" --write-out '%{http_code}' "$1" || true
}

list_url="${base_url}/${prefix}/${HELPERS_LIST}"
status="$(fetch "$list_url" "$work/$HELPERS_LIST")"
case "$status" in
  200) ;;
  403 | 404) fail "ci-infra branch '${ref}' has no published build helpers (${list_url} answered HTTP ${status}); push the branch to ci-infra, or unset VLLM_CI_BRANCH" ;;
  *) fail "could not fetch ${list_url} (HTTP ${status})" ;;
esac

commit=""
found=""
while read -r sha256 key; do
  [[ -z "$sha256" ]] && continue
  # Every key in one commit folder of this prefix: `<prefix>/<40 hex>/<name>`.
  [[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || fail "${list_url}: '${sha256}' is not a sha256"
  name="${key##*/}"
  folder="${key%/*}"
  [[ "$folder" =~ ^${prefix}/[0-9a-f]{40}$ && "$name" =~ ^[A-Za-z0-9_.-]+$ && "$name" != .* ]] || fail "${list_url}: key '${key}' is outside ${prefix}/<commit>/"
  [[ -z "$commit" || "$commit" == "${folder##*/}" ]] || fail "${list_url}: keys of two commits"
  commit="${folder##*/}"
  status="$(fetch "${base_url}/${key}" "$work/$name")"
  [[ "$status" == "200" ]] || fail "could not fetch ${base_url}/${key} (HTTP ${status})"
  actual="$(sha256_of "$work/$name")"
  [[ "$actual" == "$sha256" ]] || fail "${name} of ci-infra ${ref} at ${commit} does not match its checksum (sha256 ${actual}, expected ${sha256}); refusing to run it"
  [[ "$name" == "$helper" ]] && found="$actual"
done <"$work/$HELPERS_LIST"
[[ -n "$found" ]] || fail "ci-infra ${ref} publishes no helper '${helper}' (it has: $(awk '{n=$2; sub(/.*\//, "", n); printf "%s ", n}' "$work/$HELPERS_LIST"))"

echo "--- :hammer_and_wrench: ${helper} (ci-infra ${ref} at ${commit}, sha256 ${found})"
status=0
VLLM_CI_HCL="$work/ci.hcl" bash "$work/$helper" "$@" || status=$?
exit "$status"
