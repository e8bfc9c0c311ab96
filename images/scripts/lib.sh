# shellcheck shell=bash
# Shared by the rebuild pipeline's steps (run on the AMI-build queue's agents).

# Every AWS call is retried by the CLI (standard mode) and bounded in time, so a step never hangs.
export AWS_RETRY_MODE="${AWS_RETRY_MODE:-standard}"
export AWS_MAX_ATTEMPTS="${AWS_MAX_ATTEMPTS:-5}"
export AWS_PAGER=""
AWS_CALL_TIMEOUT_SECONDS="${AWS_CALL_TIMEOUT_SECONDS:-300}"

# aws_json ARGS...: one AWS CLI call in the step's region, JSON out, at most AWS_CALL_TIMEOUT_SECONDS.
aws_json() {
  timeout "${AWS_CALL_TIMEOUT_SECONDS}" aws --region "${AWS_REGION:?the region of the AMI}" --output json "$@"
}

# require_match WHAT VALUE REGEX: fails with one line unless VALUE matches.
require_match() {
  if [[ ! "$2" =~ $3 ]]; then
    echo "error: $1: got \"$2\", expected ${3}" >&2
    return 1
  fi
}

# shellcheck disable=SC2034 # read by the scripts that source this file
readonly AMI_ID_PATTERN='^ami-[0-9a-f]{8,17}$'
