#!/usr/bin/env bash
# Last step before the snapshot: stop the daemons so the store is consistent on disk, and leave a
# marker saying when the image was made.
set -euo pipefail
sudo systemctl stop buildkitd.service
sudo systemctl stop docker.service docker.socket
sync
printf 'AMI_BUILD_TIME=%s\nBUILDKIT_ROOT=/var/lib/buildkit\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" | sudo tee /etc/vllm-ami-info
