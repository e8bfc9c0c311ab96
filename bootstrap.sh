#!/usr/bin/env bash
# The first step of a vLLM pipeline: fetch the bootstrap bundle of the chosen ci-infra branch from
# the managed bundle bucket, check it against the manifest published with it, and run it from the
# root of the checkout. Arguments are passed on (`--entry cuda|intel|amd`, see README.md).
#
#   VLLM_CI_BRANCH       ci-infra branch whose bundle runs (default main: the production bundle)
#   VLLM_CI_BUNDLE_URL   may only name the managed bucket (kept for old pipeline settings)
#
# Exit codes: the bundle's own (0 done, 2 bad input, 3 agent problem), or 3 when the bundle cannot
# be had safely (no Node.js, unmanaged URL, branch never published, fetch failed, sha256 mismatch).
set -euo pipefail

# One owner: lib/bundle-delivery.ts (tests/bootstrap/delivery.test.ts ties these to it).
readonly BUNDLE_BUCKET_URL="https://vllm-ci-bootstrap-bundles.s3.us-west-2.amazonaws.com"
readonly PRODUCTION_PREFIX="production"
readonly BRANCH_PREFIX="branches"
readonly MIN_NODE_MAJOR=20

fail() {
  echo "error: $1" >&2
  if command -v buildkite-agent >/dev/null 2>&1; then
    buildkite-agent annotate --style error --context bootstrap-error ":rotating_light: **Bootstrap failed**: $1" >/dev/null 2>&1 || true
  fi
  exit 3
}

ref="${VLLM_CI_BRANCH:-main}"
if ! [[ "$ref" =~ ^[A-Za-z0-9_][A-Za-z0-9._/-]*$ ]] || ((${#ref} > 200)) ||
  [[ "$ref" == *..* || "$ref" == *//* || "$ref" == */ || "$ref" == *.lock || "$ref" == */.* ]]; then
  fail "VLLM_CI_BRANCH='${ref}' is not a branch name bundles are published under"
fi

base_url="${VLLM_CI_BUNDLE_URL:-$BUNDLE_BUCKET_URL}"
base_url="${base_url%/}"
if [[ "$base_url" != "$BUNDLE_BUCKET_URL" ]]; then
  fail "VLLM_CI_BUNDLE_URL='${base_url}' is not the managed bundle bucket ${BUNDLE_BUCKET_URL}; bundles are fetched from nowhere else"
fi

if [[ "$ref" == "main" ]]; then prefix="$PRODUCTION_PREFIX"; else prefix="${BRANCH_PREFIX}/${ref}"; fi

# Node.js: `node`, or a namespaced binary of the distribution's package (Amazon Linux: node-20).
node_bin=""
found=""
for candidate in node node-24 node-22 node-20; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  version="$("$candidate" --version 2>/dev/null || true)"
  major="${version#v}"
  major="${major%%.*}"
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major >= MIN_NODE_MAJOR)); then
    node_bin="$candidate"
    break
  fi
  found="${found:+$found, }${candidate} ${version:-(does not run)}"
done
if [[ -z "$node_bin" ]]; then
  fail "Node.js >= ${MIN_NODE_MAJOR} is needed to run the bootstrap (found: ${found:-no node on PATH}); the bootstrap queue's agents install the distribution's Node.js ${MIN_NODE_MAJOR} package at boot (README.md, Bootstrap)"
fi

command -v curl >/dev/null 2>&1 || fail "curl is not installed on this agent; the bootstrap fetches its bundle with it"

work="$(mktemp -d "${TMPDIR:-/tmp}/vllm-ci-bootstrap.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch() { # URL FILE: prints the HTTP status (000 when there was no answer)
  curl --silent --show-error --location --retry 3 --retry-delay 2 --connect-timeout 10 --max-time 60 \
    --output "$2" --write-out '%{http_code}' "$1" || true
}

manifest_url="${base_url}/${prefix}/manifest.json"
status="$(fetch "$manifest_url" "$work/manifest.json")"
case "$status" in
  200) ;;
  403 | 404)
    fail "ci-infra branch '${ref}' has no published bootstrap bundle (${manifest_url} answered HTTP ${status}); bundles are published when a branch is pushed to ci-infra (bundles workflow): push it, or unset VLLM_CI_BRANCH" ;;
  *) fail "could not fetch ${manifest_url} (HTTP ${status})" ;;
esac

# The manifest names the commit and the sha256 of each file of the same publish.
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
read_manifest='
const [file, ref, prefix] = process.argv.slice(1);
const m = JSON.parse(require("fs").readFileSync(file, "utf8"));
const entry = m && m.files && m.files["bootstrap.js"];
const problems = [];
if (m.schema !== 1) problems.push("schema is not 1");
if (m.ref !== ref) problems.push(`ref is ${JSON.stringify(m.ref)}, not ${JSON.stringify(ref)}`);
if (!/^[0-9a-f]{40}$/.test(m.commit)) problems.push("commit is not a 40-digit hex id");
if (!entry || !/^[0-9a-f]{64}$/.test(entry.sha256)) problems.push("no sha256 for bootstrap.js");
else if (entry.key !== `${prefix}/${m.commit}/bootstrap.js`) problems.push(`bootstrap.js key ${JSON.stringify(entry.key)} is outside ${prefix}/${m.commit}/`);
if (problems.length) { process.stderr.write(problems.join("; ")); process.exit(1); }
process.stdout.write(`${m.commit} ${entry.sha256} ${entry.key}`);'
if ! fields="$("$node_bin" -e "$read_manifest" "$work/manifest.json" "$ref" "$prefix" 2>"$work/manifest.err")"; then
  fail "the manifest ${manifest_url} is not valid: $(head -c 300 "$work/manifest.err")"
fi
read -r commit expected key <<<"$fields"

bundle_url="${base_url}/${key}"
status="$(fetch "$bundle_url" "$work/bootstrap.js")"
[[ "$status" == "200" ]] || fail "could not fetch ${bundle_url} (HTTP ${status})"
actual="$("$node_bin" -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$work/bootstrap.js")"
if [[ "$actual" != "$expected" ]]; then
  fail "bootstrap.js of ci-infra ${ref} at ${commit} does not match its manifest (sha256 ${actual}, expected ${expected}); refusing to run it"
fi

echo "--- :pipeline: bootstrap (ci-infra ${ref} at ${commit}, bootstrap.js sha256 ${actual}, $("$node_bin" --version))"
"$node_bin" "$work/bootstrap.js" "$@"
