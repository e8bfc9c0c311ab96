#!/usr/bin/env bash
# Rolls the AMI in the SSM parameter into the queues that boot it: for each Elastic CI Stack, a new
# version of its launch template with that image, made the autoscaling group's. Running instances
# finish their job and are replaced by instances of the new version. Every stack is tried; the step
# fails at the end if any failed. Rerun it after pointing the parameter at an older AMI to roll back.
#
# Environment: AWS_REGION, AMI_PARAMETER, TARGET_STACKS (space-separated stack names).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${AMI_PARAMETER:?the SSM parameter the queues read}"
read -r -a stacks <<<"${TARGET_STACKS:-}"

ami="$(aws_json ssm get-parameter --name "${AMI_PARAMETER}" | jq -r '.Parameter.Value')"
require_match "${AMI_PARAMETER}" "${ami}" "${AMI_ID_PATTERN}"

# stack_resource STACK LOGICAL-ID: the physical id of one resource of the stack.
stack_resource() {
  aws_json cloudformation describe-stack-resource --stack-name "$1" --logical-resource-id "$2" | jq -er '.StackResourceDetail.PhysicalResourceId'
}

# roll STACK: every command checked explicitly (`set -e` does not apply inside `if roll ...`).
roll() {
  local stack="$1" template group latest current version
  template="$(stack_resource "${stack}" AgentLaunchTemplate)" || return 1
  group="$(stack_resource "${stack}" AgentAutoScaleGroup)" || return 1
  latest="$(aws_json ec2 describe-launch-templates --launch-template-ids "${template}" | jq -er '.LaunchTemplates[0].LatestVersionNumber')" || return 1
  current="$(aws_json ec2 describe-launch-template-versions --launch-template-id "${template}" --versions "${latest}" |
    jq -r '.LaunchTemplateVersions[0].LaunchTemplateData.ImageId // ""')" || return 1
  if [[ "${current}" == "${ami}" ]]; then
    version="${latest}"
    echo "${stack}: ${template} v${version} already boots ${ami}"
  else
    version="$(aws_json ec2 create-launch-template-version --launch-template-id "${template}" --source-version "${latest}" \
      --launch-template-data "{\"ImageId\":\"${ami}\"}" | jq -er '.LaunchTemplateVersion.VersionNumber')" || return 1
    echo "${stack}: ${template} v${version} boots ${ami} (was ${current:-unset})"
  fi
  # The stacks' groups launch through a mixed-instances policy; pointing it at the version is idempotent.
  aws_json autoscaling update-auto-scaling-group --auto-scaling-group-name "${group}" \
    --mixed-instances-policy "LaunchTemplate={LaunchTemplateSpecification={LaunchTemplateId=${template},Version=${version}}}" >/dev/null || return 1
  echo "${stack}: ${group} launches v${version}"
}

failed=()
if ((${#stacks[@]} == 0)); then
  echo "no stack boots from ${AMI_PARAMETER}: nothing to roll"
fi
for stack in "${stacks[@]}"; do
  echo "--- ${stack}"
  if ! roll "${stack}"; then
    echo "error: ${stack}: the rollout failed" >&2
    failed+=("${stack}")
  fi
done
if ((${#failed[@]} > 0)); then
  echo "error: not rolled: ${failed[*]}" >&2
  exit 1
fi
echo "rolled ${ami} into ${#stacks[@]} stack(s)"
