#!/usr/bin/env bash
# Installs the pinned NVIDIA driver and container toolkit, and makes nvidia Docker's default
# runtime (runs as ec2-user on the builder instance, an L4 machine).
set -euo pipefail
: "${NVIDIA_DRIVER_VERSION:?the NVIDIA driver version}"
: "${NVIDIA_CONTAINER_TOOLKIT_VERSION:?the NVIDIA container toolkit version}"

# download URL FILE: bounded, retried, fails on HTTP errors.
download() {
  curl --fail --silent --show-error --location --retry 5 --retry-delay 5 --connect-timeout 20 --max-time 1200 -o "$2" "$1"
}

echo "--- Kernel headers and DKMS, for the driver's module"
kernel="$(uname -r)"
sudo dnf install -y -q "kernel-devel-${kernel}" "kernel-headers-${kernel}" kernel-modules-extra dkms pkgconfig libglvnd-devel

echo "--- NVIDIA driver ${NVIDIA_DRIVER_VERSION}"
runfile="$(mktemp --suffix .run)"
trap 'rm -f "${runfile}"' EXIT
download "https://us.download.nvidia.com/tesla/${NVIDIA_DRIVER_VERSION}/NVIDIA-Linux-x86_64-${NVIDIA_DRIVER_VERSION}.run" "${runfile}"
sudo sh "${runfile}" --silent --dkms
installed="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)"
[[ "${installed}" == "${NVIDIA_DRIVER_VERSION}" ]] || { echo "error: nvidia-smi reports driver ${installed}, not ${NVIDIA_DRIVER_VERSION}" >&2; exit 1; }

echo "--- NVIDIA container toolkit ${NVIDIA_CONTAINER_TOOLKIT_VERSION}"
repo="$(mktemp)"
download https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo "${repo}"
sudo install -m 0644 "${repo}" /etc/yum.repos.d/nvidia-container-toolkit.repo
rm -f "${repo}"
v="${NVIDIA_CONTAINER_TOOLKIT_VERSION}"
sudo dnf install -y -q "nvidia-container-toolkit-${v}" "nvidia-container-toolkit-base-${v}" "libnvidia-container-tools-${v}" "libnvidia-container1-${v}"

echo "--- Docker: nvidia as the default runtime"
sudo nvidia-ctk runtime configure --runtime=docker
sudo install -m 0644 /tmp/image-files/docker-daemon.json /etc/docker/daemon.json
sudo systemctl restart docker
sudo docker info --format '{{.DefaultRuntime}}' | grep -qx nvidia
