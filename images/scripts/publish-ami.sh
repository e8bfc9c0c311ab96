#!/usr/bin/env bash
# Publishes the AMI the build step made: writes its id to the SSM parameter the queues boot from,
# and schedules its deprecation (it stays launchable by this account; it only drops out of listings).
#
# Environment: AWS_REGION, AMI_PARAMETER, DEPRECATE_AFTER_DAYS, and AMI_ID or AMI_META_DATA_KEY
# (the Buildkite meta-data the build step set).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${AMI_PARAMETER:?the SSM parameter the queues read}"
: "${DEPRECATE_AFTER_DAYS:?days until the AMI is deprecated}"

ami="${AMI_ID:-}"
if [[ -z "${ami}" ]]; then
  ami="$(timeout 60 buildkite-agent meta-data get "${AMI_META_DATA_KEY:?the meta-data key of the build step}")"
fi
require_match "the new AMI id" "${ami}" "${AMI_ID_PATTERN}"

state="$(aws_json ec2 describe-images --image-ids "${ami}" | jq -r '.Images[0].State // "missing"')"
[[ "${state}" == available ]] || { echo "error: ${ami} is ${state}, not available" >&2; exit 1; }

echo "--- ${AMI_PARAMETER} -> ${ami}"
aws_json ssm put-parameter --name "${AMI_PARAMETER}" --value "${ami}" --type String --overwrite >/dev/null
deprecate_at="$(date -u -d "+${DEPRECATE_AFTER_DAYS} days" +%Y-%m-%dT%H:%M:%SZ)"
aws_json ec2 enable-image-deprecation --image-id "${ami}" --deprecate-at "${deprecate_at}" >/dev/null
echo "published ${ami} (deprecated from ${deprecate_at})"
