#!/usr/bin/env bash
# The first step of a vLLM pipeline: fetch the bootstrap bundle of the chosen ci-infra ref and run
# it from the root of the checkout. VLLM_CI_BRANCH picks the ref (default main), as upstream does;
# the bundle is plain JavaScript: node is all it needs.
set -euo pipefail
ref="${VLLM_CI_BRANCH:-main}"
bundle_url="${VLLM_CI_BUNDLE_URL:-https://vllm-ci-infra.s3.amazonaws.com/bundles}/${ref}/bootstrap.js"
bundle="$(mktemp "${TMPDIR:-/tmp}/vllm-ci-bootstrap.XXXXXX")"
trap 'rm -f "$bundle"' EXIT
echo "--- :pipeline: bootstrap (ci-infra ${ref})"
curl --fail --silent --show-error --location --retry 3 --retry-delay 2 --max-time 60 -o "$bundle" "$bundle_url"
node "$bundle" "$@"
