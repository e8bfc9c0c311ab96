# --- Shared by every GCP agent kind (included by the renderer) -------------------------------------
# Secrets are read here, at boot, from Secret Manager with the VM's own service account; they
# never travel through instance metadata or this script.

log() { echo "ci-startup: $*" | systemd-cat -t ci-startup -p info; echo "ci-startup: $*"; }

metadata() {
    curl -fsS --retry 5 -H "Metadata-Flavor: Google" "http://metadata.google.internal/computeMetadata/v1/$1"
}

# Prints the latest version of a Secret Manager secret.
read_secret() {
    local secret_id="$1" token
    token="$(metadata instance/service-accounts/default/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
    curl -fsS --retry 5 -H "Authorization: Bearer ${token}" \
        "https://secretmanager.googleapis.com/v1/projects/${SECRETS_PROJECT}/secrets/${secret_id}/versions/latest:access" |
        python3 -c 'import base64,json,sys; sys.stdout.write(base64.b64decode(json.load(sys.stdin)["payload"]["data"]).decode())'
}

# Writes a secret to a file only `owner` can read, without it ever being an argument.
store_secret() {
    local secret_id="$1" file="$2" owner="$3"
    [[ -d "$(dirname "$file")" ]] || install -d -m 0750 -g buildkite-agent "$(dirname "$file")"
    (umask 077 && read_secret "$secret_id" > "$file")
    chown "$owner" "$file"
    chmod 0400 "$file"
}

bound_system_logs() {
    mkdir -p /etc/systemd/journald.conf.d
    cat > /etc/systemd/journald.conf.d/ci.conf <<'CONF'
[Journal]
SystemMaxUse=1G
SystemMaxFileSize=128M
MaxRetentionSec=7day
CONF
    systemctl restart systemd-journald
}

install_packages() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -yq curl gnupg python3 ca-certificates
    if ! command -v docker >/dev/null; then
        apt-get install -yq docker.io
    fi
    if ! command -v buildkite-agent >/dev/null; then
        curl -fsSL "https://keys.openpgp.org/vks/v1/by-fingerprint/32A37959C2FA5C3C99EFBC32A79206696452D198" |
            gpg --dearmor --yes -o /usr/share/keyrings/buildkite-agent-archive-keyring.gpg
        echo "deb [signed-by=/usr/share/keyrings/buildkite-agent-archive-keyring.gpg] https://apt.buildkite.com/buildkite-agent stable main" \
            > /etc/apt/sources.list.d/buildkite-agent.list
        apt-get update -q
        apt-get install -yq buildkite-agent
    fi
    usermod -aG docker buildkite-agent
}

# Docker keeps images and layers on the data disk when there is one (formatted on first boot only).
configure_docker() {
    local data_root=/var/lib/docker
    if [[ -n "$DATA_DISK_DEVICE" ]]; then
        local mount_point=/mnt/disks/docker-data
        for _ in $(seq 60); do [[ -e "$DATA_DISK_DEVICE" ]] && break; sleep 2; done
        if ! blkid "$DATA_DISK_DEVICE" >/dev/null 2>&1; then
            mkfs.ext4 -q -m 0 -E lazy_itable_init=0,lazy_journal_init=0,discard "$DATA_DISK_DEVICE"
        fi
        mkdir -p "$mount_point"
        if ! grep -q " $mount_point " /etc/fstab; then
            echo "UUID=$(blkid -s UUID -o value "$DATA_DISK_DEVICE") $mount_point ext4 discard,defaults,nofail 0 2" >> /etc/fstab
        fi
        mountpoint -q "$mount_point" || mount "$mount_point"
        data_root="$mount_point/docker"
    fi
    mkdir -p /etc/docker
    cat > /etc/docker/daemon.json <<JSON
{
  "data-root": "${data_root}",
  "log-driver": "json-file",
  "log-opts": { "max-size": "100m", "max-file": "3" }
}
JSON
    systemctl restart docker
}

schedule_daily_cleanup() {
    cat > /etc/systemd/system/ci-cache-cleanup.service <<'UNIT'
[Unit]
Description=Remove Docker images, build cache and agent caches unused for two days

[Service]
Type=oneshot
ExecStart=/usr/bin/docker system prune --all --force --filter until=48h
ExecStart=/usr/bin/docker builder prune --all --force --filter until=48h
ExecStart=/usr/bin/find /var/lib/buildkite-agent/.cache -xdev -type f -atime +2 -delete
UNIT
    cat > /etc/systemd/system/ci-cache-cleanup.timer <<'UNIT'
[Unit]
Description=Daily CI cache cleanup

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
UNIT
    systemctl daemon-reload
    systemctl enable --now ci-cache-cleanup.timer
}

# The agent reads its token from a root-only environment file, and jobs get the HF and analytics
# tokens from files only the agent user can read.
configure_agent() {
    local agent_name="$1" tags="$2"
    store_secret "$AGENT_TOKEN_SECRET" /etc/buildkite-agent/secrets/agent-token root
    store_secret "$HF_TOKEN_SECRET" /etc/buildkite-agent/secrets/hf-token buildkite-agent
    store_secret "$ANALYTICS_TOKEN_SECRET" /etc/buildkite-agent/secrets/analytics-token buildkite-agent
    (umask 077 && printf 'BUILDKITE_AGENT_TOKEN=%s\n' "$(cat /etc/buildkite-agent/secrets/agent-token)" > /etc/buildkite-agent/agent.env)
    rm -f /etc/buildkite-agent/secrets/agent-token
    cat > /etc/buildkite-agent/buildkite-agent.cfg <<CFG
name="${agent_name}"
tags="${tags}"
build-path="/var/lib/buildkite-agent/builds"
hooks-path="/etc/buildkite-agent/hooks"
plugins-path="/etc/buildkite-agent/plugins"
CFG
    mkdir -p /etc/buildkite-agent/hooks
    cat > /etc/buildkite-agent/hooks/environment <<'HOOK'
#!/bin/bash
set -euo pipefail
HF_TOKEN="$(cat /etc/buildkite-agent/secrets/hf-token)"
BUILDKITE_ANALYTICS_TOKEN="$(cat /etc/buildkite-agent/secrets/analytics-token)"
export HF_TOKEN BUILDKITE_ANALYTICS_TOKEN
HOOK
    chmod 0755 /etc/buildkite-agent/hooks/environment
    mkdir -p /etc/systemd/system/buildkite-agent.service.d
    cat > /etc/systemd/system/buildkite-agent.service.d/token.conf <<'UNIT'
[Service]
EnvironmentFile=/etc/buildkite-agent/agent.env
UNIT
    systemctl daemon-reload
    systemctl enable buildkite-agent
    systemctl restart buildkite-agent
}
