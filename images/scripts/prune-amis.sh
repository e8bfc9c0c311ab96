#!/usr/bin/env bash
# Keeps the newest KEEP_AMIS images of the AMI prefix (the rollback window) and deletes the older
# ones with their snapshots. The image the SSM parameter names is never deleted, however old.
#
# Environment: AWS_REGION, AMI_NAME_PREFIX, AMI_PARAMETER, KEEP_AMIS.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${AMI_NAME_PREFIX:?the AMI name prefix}"
: "${AMI_PARAMETER:?the SSM parameter the queues read}"
require_match KEEP_AMIS "${KEEP_AMIS:-}" '^[1-9][0-9]*$'

images="$(aws_json ec2 describe-images --owners self --filters "Name=name,Values=${AMI_NAME_PREFIX}-*")"
in_use="$(aws_json ssm get-parameter --name "${AMI_PARAMETER}" | jq -r '.Parameter.Value')"
# Without the id of the image in use, nothing can be kept safely: delete nothing.
require_match "${AMI_PARAMETER}" "${in_use}" "${AMI_ID_PATTERN}"
mapfile -t stale < <(jq -r --argjson keep "${KEEP_AMIS}" '.Images | sort_by(.CreationDate) | reverse | .[$keep:] | .[].ImageId' <<<"${images}")
total="$(jq '.Images | length' <<<"${images}")"
echo "${total} image(s) named ${AMI_NAME_PREFIX}-*: keeping the newest ${KEEP_AMIS}, deleting ${#stale[@]}"

deleted=0
for ami in "${stale[@]}"; do
  if [[ "${ami}" == "${in_use}" ]]; then
    echo "${ami}: kept, ${AMI_PARAMETER} names it"
    continue
  fi
  mapfile -t snapshots < <(jq -r --arg id "${ami}" '.Images[] | select(.ImageId == $id) | .BlockDeviceMappings[]? | .Ebs.SnapshotId // empty' <<<"${images}")
  aws_json ec2 deregister-image --image-id "${ami}" >/dev/null
  for snapshot in "${snapshots[@]}"; do
    aws_json ec2 delete-snapshot --snapshot-id "${snapshot}" >/dev/null
  done
  echo "${ami}: deleted, with ${#snapshots[@]} snapshot(s) ${snapshots[*]}"
  deleted=$((deleted + 1))
done
echo "pruned ${deleted} image(s)"
