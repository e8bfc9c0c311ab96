#!/usr/bin/env bash
# Installs BuildKit as a systemd service (runs as ec2-user, on the builder instance).
# A standalone buildkitd, not a docker-container builder: its store in /var/lib/buildkit is a plain
# folder that survives the snapshot, and systemd starts it on every boot.
set -euo pipefail
: "${BUILDKIT_IMAGE:?the image buildkitd is taken from}"
: "${BUILDKIT_MAX_PARALLELISM:?BuildKit max-parallelism}"
files=/tmp/image-files

# wait_until SECONDS WHAT COMMAND...: retries COMMAND once a second; fails after SECONDS.
wait_until() {
  local seconds="$1" what="$2" waited
  shift 2
  for ((waited = 0; waited < seconds; waited++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "error: ${what}: not ready after ${seconds}s" >&2
  return 1
}

echo "--- Diagnostic tools (ENA allowance counters, conntrack, sysstat)"
sudo dnf install -y -q ethtool conntrack-tools sysstat

echo "--- buildkitd from ${BUILDKIT_IMAGE}"
sudo timeout 600 docker pull -q "${BUILDKIT_IMAGE}"
container="$(sudo docker create "${BUILDKIT_IMAGE}")"
sudo docker cp "${container}:/usr/bin/buildkitd" /usr/local/bin/buildkitd
sudo docker rm "${container}" >/dev/null
sudo docker rmi "${BUILDKIT_IMAGE}" >/dev/null
sudo chmod 0755 /usr/local/bin/buildkitd
/usr/local/bin/buildkitd --version

# No garbage collection: instances are recycled after their job, the AMI is rebuilt daily, and the
# 512 GB root volume holds a build's layers many times over.
sudo mkdir -p /etc/buildkit /var/lib/buildkit
printf '[worker.oci]\n  max-parallelism = %d\n  gc = false\n' "${BUILDKIT_MAX_PARALLELISM}" | sudo tee /etc/buildkit/buildkitd.toml >/dev/null

sudo install -m 0644 "${files}/buildkitd.service" /etc/systemd/system/buildkitd.service
sudo install -m 0644 "${files}/buildx-builder.service" /etc/systemd/system/buildx-builder.service
sudo install -m 0755 "${files}/buildx-builder" /usr/local/bin/buildx-builder
sudo systemctl daemon-reload
sudo systemctl enable --now buildkitd.service
wait_until 60 "buildkitd's socket" sudo test -S /run/buildkit/buildkitd.sock
# Started here once, so a broken unit fails the bake instead of every job on the AMI.
sudo systemctl enable --now buildx-builder.service
wait_until 30 "the baked-vllm-builder buildx builder" sudo -u buildkite-agent -H docker buildx inspect baked-vllm-builder
sudo -u buildkite-agent -H docker buildx ls
