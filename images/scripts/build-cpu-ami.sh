#!/usr/bin/env bash
# Bakes the warm-cache CPU AMI with Packer (images/cpu) and records its id as Buildkite meta-data.
#
# The base is the Elastic CI Stack AMI of the stack version the queues run; the warm-up builds
# the CI image at the commit of the latest postmerge image, reading that build's registry cache,
# with that build's bake file (its `image-build` step's artifact).
#
# Environment (the generated pipeline sets it from the catalog and the AWS stack's settings):
# AWS_REGION, STACK_TEMPLATE_URL, STACK_AMI_MAPPING, SOURCE_AMI_OWNER,
# BUILDER_SECURITY_GROUP_PARAMETER, BUILDER_SUBNET_PARAMETER, AMI_NAME_PREFIX, POSTMERGE_IMAGE,
# CACHE_REGISTRY, CACHE_REPOSITORY, VLLM_REPOSITORY, BAKE_CONFIG_STEP, AMI_META_DATA_KEY,
# PACKER_VERSION, YQ_VERSION.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "${here}/lib.sh"
for name in STACK_TEMPLATE_URL STACK_AMI_MAPPING SOURCE_AMI_OWNER BUILDER_SECURITY_GROUP_PARAMETER BUILDER_SUBNET_PARAMETER \
  AMI_NAME_PREFIX POSTMERGE_IMAGE CACHE_REGISTRY CACHE_REPOSITORY VLLM_REPOSITORY BAKE_CONFIG_STEP AMI_META_DATA_KEY PACKER_VERSION YQ_VERSION; do
  [[ -n "${!name:-}" ]] || { echo "error: ${name} is not set (the rebuild pipeline sets it)" >&2; exit 2; }
done

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
tools="${HOME}/.local/bin"
mkdir -p "${tools}"
export PATH="${tools}:${PATH}"

# download URL FILE: bounded, retried, fails on HTTP errors.
download() {
  curl --fail --silent --show-error --location --retry 5 --retry-delay 5 --connect-timeout 20 --max-time 600 -o "$2" "$1"
}

echo "--- Tools: packer ${PACKER_VERSION}, yq ${YQ_VERSION}"
if [[ "$(packer version 2>/dev/null | head -n 1)" != "Packer v${PACKER_VERSION}" ]]; then
  download "https://releases.hashicorp.com/packer/${PACKER_VERSION}/packer_${PACKER_VERSION}_linux_amd64.zip" "${work}/packer.zip"
  unzip -o -q "${work}/packer.zip" -d "${tools}"
fi
if [[ "$(yq --version 2>/dev/null)" != *"${YQ_VERSION}"* ]]; then
  download "https://github.com/mikefarah/yq/releases/download/${YQ_VERSION}/yq_linux_amd64" "${tools}/yq"
  chmod 0755 "${tools}/yq"
fi

echo "--- Base: the Elastic CI Stack AMI of ${STACK_TEMPLATE_URL}"
download "${STACK_TEMPLATE_URL}" "${work}/aws-stack.yml"
source_ami="$(yq -r ".Mappings.AWSRegion2AMI[\"${AWS_REGION}\"].${STACK_AMI_MAPPING}" "${work}/aws-stack.yml")"
require_match "the template's ${AWS_REGION} ${STACK_AMI_MAPPING} AMI" "${source_ami}" "${AMI_ID_PATTERN}"

echo "--- Builder network"
parameter() { aws_json ssm get-parameter --name "$1" | jq -r '.Parameter.Value'; }
security_group="$(parameter "${BUILDER_SECURITY_GROUP_PARAMETER}")"
subnet="$(parameter "${BUILDER_SUBNET_PARAMETER}")"
require_match "${BUILDER_SECURITY_GROUP_PARAMETER}" "${security_group}" '^sg-[0-9a-f]+$'
require_match "${BUILDER_SUBNET_PARAMETER}" "${subnet}" '^subnet-[0-9a-f]+$'

echo "--- The latest postmerge image: ${POSTMERGE_IMAGE}"
# annotation KEY: from the image index, else from its linux/amd64 manifest (where vLLM's CI images
# carry them, prefixed as docker-bake.hcl writes them).
inspect() { timeout 120 docker buildx imagetools inspect --raw "$1"; }
index="$(inspect "${POSTMERGE_IMAGE}")"
amd64="$(jq -r '.manifests[]? | select(.platform.os == "linux" and .platform.architecture == "amd64") | .digest' <<<"${index}" | head -n 1)"
manifest="{}"
if [[ -n "${amd64}" ]]; then manifest="$(inspect "${POSTMERGE_IMAGE%:*}@${amd64}")"; fi
annotation() {
  jq -rn --arg key "$1" --argjson index "${index}" --argjson manifest "${manifest}" \
    '$index.annotations[$key] // $manifest.annotations["index,manifest:" + $key] // $manifest.annotations[$key] // ""'
}
build_number="$(annotation vllm.buildkite.build_number)"
build_id="$(annotation vllm.buildkite.build_id)"
commit="$(annotation org.opencontainers.image.revision)"
require_match "the image's build id" "${build_id}" '^[0-9a-f-]{36}$'
require_match "the image's build number" "${build_number}" '^[0-9]+$'
require_match "the image's commit" "${commit}" '^[0-9a-f]{40}$'
echo "build #${build_number} (${build_id}) of ${commit}"

echo "--- Its bake file and sources"
context="${work}/warm-cache"
mkdir -p "${context}"
(cd "${work}" && timeout 600 buildkite-agent artifact download "bake-config-build-${build_number}.json" . --build "${build_id}" --step "${BAKE_CONFIG_STEP}")
mv "${work}/bake-config-build-${build_number}.json" "${context}/bake-config.json"
git init -q "${context}/vllm"
timeout 900 git -C "${context}/vllm" fetch -q --depth 1 "${VLLM_REPOSITORY}" "${commit}"
git -C "${context}/vllm" checkout -q FETCH_HEAD

echo "--- Packer"
PKR_VAR_ecr_token="$(aws_json ecr get-login-password)"
export PKR_VAR_ecr_token
template="${here}/../cpu"
timeout 600 packer init "${template}"
timeout 7200 packer build -color=false \
  -var "region=${AWS_REGION}" \
  -var "source_ami=${source_ami}" \
  -var "source_ami_owner=${SOURCE_AMI_OWNER}" \
  -var "security_group_id=${security_group}" \
  -var "subnet_id=${subnet}" \
  -var "ami_name_prefix=${AMI_NAME_PREFIX}" \
  -var "warm_cache_context=${context}" \
  -var "cache_registry=${CACHE_REGISTRY}" \
  -var "cache_ref=${CACHE_REGISTRY}/${CACHE_REPOSITORY}:${commit}" \
  -var "manifest_path=${work}/manifest.json" \
  "${template}"

ami="$(jq -r '.builds[-1].artifact_id // "" | split(":")[1] // ""' "${work}/manifest.json")"
require_match "the AMI in Packer's manifest" "${ami}" "${AMI_ID_PATTERN}"
timeout 60 buildkite-agent meta-data set "${AMI_META_DATA_KEY}" "${ami}"
echo "built ${ami}"
