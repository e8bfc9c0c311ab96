#!/usr/bin/env bash
# Uploads a test step's Python coverage to Codecov. Run in the test container after the tests:
#
#   upload_codecov.sh "STEP LABEL"
#
# Coverage never fails a build: a disabled upload, no data, no Codecov CLI, no network, no token
# all end in a line saying why and exit 0, every network call bounded.
#
#   COV_ENABLED        0: upload nothing (the AMD pipeline's default; unset means enabled, as the
#                      pipelines that call this script expect)
#   VLLM_CI_WORKSPACE  where tests wrote .coverage.* files (default /vllm-workspace)
#   CODECOV_TOKEN      needed for uploads to vllm-project/vllm (fork PRs upload tokenless)
#   CODECOV_CLI        a Codecov CLI to use; else `codecov` on PATH; else downloaded
#                      (CODECOV_CLI_VERSION, default latest) and checked against Codecov's SHA256SUM
#   VLLM_CI_NETWORK_TIMEOUT_S   bound of each download and of the upload (default 120)
#   BUILDKITE_BRANCH, BUILDKITE_COMMIT, BUILDKITE_BUILD_NUMBER, BUILDKITE_PULL_REQUEST,
#   BUILDKITE_PULL_REQUEST_REPO   what the upload is attributed to
set -uo pipefail

readonly STEP_LABEL="${1:-unknown}"
readonly WORKSPACE="${VLLM_CI_WORKSPACE:-/vllm-workspace}"
readonly UPSTREAM_SLUG="vllm-project/vllm"
readonly NETWORK_TIMEOUT_S="${VLLM_CI_NETWORK_TIMEOUT_S:-120}"
readonly CODECOV_DOWNLOADS="https://cli.codecov.io"

# The one way out: coverage is optional, so every outcome is exit 0 with its reason.
skip() {
  echo "coverage: $1; nothing uploaded"
  exit 0
}

if [[ "${COV_ENABLED:-1}" == "0" ]]; then
  skip "COV_ENABLED=0"
fi

# The Codecov flag: the label lowercased, runs of `( ) % , + space` as one underscore, none at the ends.
flag="$(printf '%s' "$STEP_LABEL" | tr '[:upper:]' '[:lower:]' | sed -e 's/[() %,+]/_/g' -e 's/__*/_/g' -e 's/^_//' -e 's/_$//')"

# Its tests import from two trees, which the path mapping cannot merge (as upstream).
if [[ "$flag" == "multi-modal_models_test_standard" ]]; then
  skip "step ${STEP_LABEL} is skipped (its coverage spans two source trees)"
fi

[[ -d "$WORKSPACE" ]] || skip "no workspace ${WORKSPACE}"
mapfile -t coverage_files < <(find "$WORKSPACE" -name '.coverage.*' -type f 2>/dev/null)
((${#coverage_files[@]} > 0)) || skip "no .coverage.* files under ${WORKSPACE}"
echo "coverage: ${#coverage_files[@]} data file(s) under ${WORKSPACE}"

cd "$WORKSPACE" || skip "cannot enter ${WORKSPACE}"
# `coverage combine` reads the current directory only; files already here are kept as they are.
for file in "${coverage_files[@]}"; do
  [[ "$(dirname "$file")" == "$WORKSPACE" ]] || cp -n "$file" . 2>/dev/null || true
done

# .coveragerc's [paths] maps the installed package back to vllm/ while combining.
if ! combined="$(python3 -m coverage combine --keep 2>&1)"; then
  echo "$combined"
  skip "coverage combine failed"
fi
echo "$combined"
# coverage exits 0 on "No data to combine".
if grep -q "No data to combine" <<<"$combined" || [[ ! -f .coverage ]]; then
  skip "no coverage data to combine"
fi
python3 -m coverage xml -o coverage.xml || skip "coverage xml failed"
[[ -f coverage.xml ]] || skip "coverage xml wrote no coverage.xml"
echo "coverage: coverage.xml covers $(grep -c '<class.*filename=' coverage.xml || true) files"

# Fork PRs upload to the fork's slug (git@host:owner/repo.git or https://host/owner/repo.git).
slug="$UPSTREAM_SLUG"
pull_request="${BUILDKITE_PULL_REQUEST:-false}"
if [[ "$pull_request" != "false" && -n "${BUILDKITE_PULL_REQUEST_REPO:-}" ]]; then
  parsed="$(sed -E 's#^(git@|https?://)([^/:]+)[:/]([^/]+/[^/.]+)(\.git)?$#\3#' <<<"$BUILDKITE_PULL_REQUEST_REPO")"
  if [[ "$parsed" == */* && "$parsed" != *:* ]]; then slug="$parsed"; fi
fi
if [[ "$slug" == "$UPSTREAM_SLUG" && -z "${CODECOV_TOKEN:-}" ]]; then
  skip "CODECOV_TOKEN is not set (needed for ${UPSTREAM_SLUG})"
fi
# A fork's upload is tokenless: upstream's token never goes with a report attributed to another repository.
if [[ "$slug" != "$UPSTREAM_SLUG" ]]; then unset CODECOV_TOKEN; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/codecov.XXXXXX")"
trap 'rm -rf "$work"' EXIT

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

cli="${CODECOV_CLI:-}"
if [[ -z "$cli" ]] && command -v codecov >/dev/null 2>&1; then cli="$(command -v codecov)"; fi
if [[ -z "$cli" ]]; then
  base="${CODECOV_DOWNLOADS}/${CODECOV_CLI_VERSION:-latest}/linux"
  get() { curl --silent --show-error --fail --location --retry 2 --connect-timeout 10 --max-time "$NETWORK_TIMEOUT_S" -o "$2" "$1"; }
  get "$base/codecov" "$work/codecov" || skip "could not download the Codecov CLI from ${base}"
  get "$base/codecov.SHA256SUM" "$work/codecov.SHA256SUM" || skip "could not download the Codecov CLI's checksum from ${base}"
  expected="$(awk '{print $1; exit}' "$work/codecov.SHA256SUM")"
  actual="$(sha256_of "$work/codecov")"
  [[ "$actual" == "$expected" ]] || skip "the downloaded Codecov CLI does not match its SHA256SUM (sha256 ${actual}, expected ${expected:-none}); not run"
  chmod +x "$work/codecov"
  cli="$work/codecov"
fi

args=(upload-process -f coverage.xml --git-service github
  --build "${BUILDKITE_BUILD_NUMBER:-unknown}" --branch "${BUILDKITE_BRANCH:-unknown}" --sha "${BUILDKITE_COMMIT:-unknown}"
  --slug "$slug" --flag "$flag" --name "$STEP_LABEL" --dir "$WORKSPACE" --disable-search)
if [[ "$pull_request" != "false" ]]; then args+=(--pr "$pull_request"); fi

echo "coverage: uploading to ${slug} (sha ${BUILDKITE_COMMIT:-unknown}, branch ${BUILDKITE_BRANCH:-unknown}, pr ${pull_request}, flag ${flag})"
# The token reaches the CLI through its environment (CODECOV_TOKEN), never on a command line.
if ! timeout --kill-after=5 "$NETWORK_TIMEOUT_S" "$cli" "${args[@]}"; then
  skip "the Codecov upload failed or took more than ${NETWORK_TIMEOUT_S}s"
fi
echo "coverage: uploaded"
