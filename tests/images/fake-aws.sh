#!/usr/bin/env bash
# A fake `aws` CLI for the rebuild pipeline's scripts, in plain bash (fast: no process per call
# beyond itself). It logs every call's arguments to FAKE_AWS_LOG (one line, \x1f between them) and
# answers from the files of FAKE_AWS_DIR, which the test prepares:
#   parameters/<name with / as %>  a parameter's value (put-parameter writes it)
#   images.json                    what describe-images returns for the owner and name filter
#   image-<id>.json                what describe-images returns for one id
#   stacks                         the stacks that exist, one a line
#   template-<id>                  the AMI of a launch template's latest version (2)
#   fail-on                        arguments that make a call fail, one a line
# Only the calls the scripts make are known; any other fails.
set -euo pipefail
(IFS=$'\x1f'; printf '%s\n' "$*") >>"${FAKE_AWS_LOG}"
dir="${FAKE_AWS_DIR}"
declare -A flags=()
words=()
while (($# > 0)); do
  if [[ "$1" == --* ]]; then flags["$1"]="${2:-}"; shift 2 || shift; else words+=("$1"); shift; fi
done
fail() { echo "An error occurred: $*" >&2; exit 254; }
if [[ -f "${dir}/fail-on" ]]; then
  while read -r bad; do
    for value in "${flags[@]}"; do [[ "${value}" != "${bad}" ]] || fail "injected failure on ${bad}"; done
  done <"${dir}/fail-on"
fi
parameter_file() { printf '%s/parameters/%s' "${dir}" "${1//\//%}"; }
case "${words[0]:-} ${words[1]:-}" in
  "ssm get-parameter")
    file="$(parameter_file "${flags[--name]}")"
    [[ -f "${file}" ]] || fail ParameterNotFound
    printf '{"Parameter":{"Name":"%s","Value":"%s"}}\n' "${flags[--name]}" "$(cat "${file}")" ;;
  "ssm put-parameter")
    printf '%s' "${flags[--value]}" >"$(parameter_file "${flags[--name]}")"
    echo '{"Version":2}' ;;
  "ec2 describe-images")
    if [[ -n "${flags[--image-ids]:-}" ]]; then
      cat "${dir}/image-${flags[--image-ids]}.json" 2>/dev/null || echo '{"Images":[]}'
    else
      cat "${dir}/images.json"
    fi ;;
  "ec2 enable-image-deprecation") echo '{"Return":true}' ;;
  "ec2 deregister-image" | "ec2 delete-snapshot" | "autoscaling update-auto-scaling-group") echo '{}' ;;
  "cloudformation describe-stack-resource")
    grep -qx -- "${flags[--stack-name]}" "${dir}/stacks" || fail "Stack ${flags[--stack-name]} does not exist"
    case "${flags[--logical-resource-id]}" in
      AgentLaunchTemplate) kind=lt ;;
      AgentAutoScaleGroup) kind=asg ;;
      *) fail "no resource ${flags[--logical-resource-id]}" ;;
    esac
    printf '{"StackResourceDetail":{"PhysicalResourceId":"%s-%s"}}\n' "${kind}" "${flags[--stack-name]}" ;;
  "ec2 describe-launch-templates") echo '{"LaunchTemplates":[{"LatestVersionNumber":2}]}' ;;
  "ec2 describe-launch-template-versions")
    [[ "${flags[--versions]}" == 2 ]] || fail "only version 2 is known"
    printf '{"LaunchTemplateVersions":[{"LaunchTemplateData":{"ImageId":"%s"}}]}\n' "$(cat "${dir}/template-${flags[--launch-template-id]}")" ;;
  "ec2 create-launch-template-version") echo '{"LaunchTemplateVersion":{"VersionNumber":3}}' ;;
  *) fail "the fake aws does not know ${words[*]}" ;;
esac
