# vllm-ci job guard: the agent `environment` hook of postmerge, release and AMI-build agents.
#
# Installed at boot by agent-boot.sh in front of the Elastic CI Stack's own environment hook, it
# runs before anything of the job does (plugins, secrets, checkout) and refuses a job of a pull
# request, of a branch or repository the stage does not trust, or of a pipeline it does not list.
# Premerge and postmerge queues share Buildkite clusters: without it, a pull request could upload
# a step onto a postmerge queue and run with its credentials.
#
# The agent sources this file; `exit 1` fails the job. Settings come from the header above:
# VLLM_CI_QUEUE, VLLM_CI_STAGE, and newline-separated lists VLLM_CI_TRUSTED_BRANCHES (glob
# patterns), VLLM_CI_TRUSTED_REPOSITORIES (host/owner/name) and VLLM_CI_TRUSTED_PIPELINES
# (empty: any pipeline of a trusted repository).
# shellcheck shell=bash

vllm_ci_refuse() {
  echo "^^^ +++"
  echo ":no_entry: vllm-ci job guard: the ${VLLM_CI_STAGE} queue ${VLLM_CI_QUEUE} refuses this job: $1" >&2
  exit 1
}

# github.com/owner/name for https://github.com/owner/name.git, git@github.com:owner/name.git, ...
vllm_ci_repository_of() {
  local url="$1"
  url="${url#*://}"
  url="${url#*@}"
  url="${url/://}"
  url="${url%/}"
  url="${url%.git}"
  printf '%s' "$url"
}

vllm_ci_in_list() {
  local value="$1" list="$2" pattern
  while IFS= read -r pattern; do
    [[ -n "$pattern" ]] || continue
    # shellcheck disable=SC2053 # the patterns are globs on purpose
    [[ "$value" == $pattern ]] && return 0
  done <<< "$list"
  return 1
}

vllm_ci_guard() {
  local pull_request="${BUILDKITE_PULL_REQUEST-}"
  [[ -n "${BUILDKITE_PULL_REQUEST+set}" ]] || vllm_ci_refuse "BUILDKITE_PULL_REQUEST is not set"
  [[ "$pull_request" == "false" ]] || vllm_ci_refuse "it belongs to pull request ${pull_request:-(empty)}"
  [[ -z "${BUILDKITE_PULL_REQUEST_REPO:-}" ]] || vllm_ci_refuse "it comes from pull request repository ${BUILDKITE_PULL_REQUEST_REPO}"
  local repository
  repository="$(vllm_ci_repository_of "${BUILDKITE_REPO:-}")"
  vllm_ci_in_list "$repository" "$VLLM_CI_TRUSTED_REPOSITORIES" || vllm_ci_refuse "repository ${BUILDKITE_REPO:-(none)} is not trusted"
  local branch="${BUILDKITE_BRANCH:-}"
  [[ -n "$branch" ]] || vllm_ci_refuse "BUILDKITE_BRANCH is not set"
  vllm_ci_in_list "$branch" "$VLLM_CI_TRUSTED_BRANCHES" || vllm_ci_refuse "branch ${branch} is not trusted here"
  if [[ -n "$VLLM_CI_TRUSTED_PIPELINES" ]]; then
    vllm_ci_in_list "${BUILDKITE_PIPELINE_SLUG:-}" "$VLLM_CI_TRUSTED_PIPELINES" || vllm_ci_refuse "pipeline ${BUILDKITE_PIPELINE_SLUG:-(none)} is not trusted here"
  fi
}

vllm_ci_guard
unset -f vllm_ci_refuse vllm_ci_repository_of vllm_ci_in_list vllm_ci_guard

# The Elastic CI Stack's own environment hook (secrets, ECR login...), moved aside at boot.
if [[ -f "${BASH_SOURCE[0]%/*}/environment.elastic-stack" ]]; then
  # shellcheck source=/dev/null
  source "${BASH_SOURCE[0]%/*}/environment.elastic-stack"
fi
