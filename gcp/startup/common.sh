# --- Shared by every GCP agent kind (included by the renderer) -------------------------------------
# The script runs at every boot. It waits (bounded) for what it needs, the secrets in Secret
# Manager and the data disk, says why it waits, and configures and starts the agent only once
# everything is there. Secrets are read at boot with the VM's own service account; they never
# travel through instance metadata or this script, and never appear on a command line.
#
# CI_STARTUP_ROOT prefixes every path the script writes (a sandbox in the tests; empty on a VM).
readonly ROOT="${CI_STARTUP_ROOT:-}"
# How long to wait for secrets and the disk before giving up until the retry, and the longest pause.
readonly WAIT_SECONDS="${CI_STARTUP_WAIT_SECONDS:-1800}"
readonly MAX_PAUSE_SECONDS=60
readonly AGENT_DIR="$ROOT/etc/buildkite-agent"
readonly SECRETS_DIR="$AGENT_DIR/secrets"

log() {
    echo "ci-startup: $*"
    if command -v systemd-cat >/dev/null 2>&1; then echo "ci-startup: $*" | systemd-cat -t ci-startup -p info || true; fi
}

metadata() {
    curl -fsS --retry 5 --retry-connrefused --max-time 10 -H "Metadata-Flavor: Google" "http://metadata.google.internal/computeMetadata/v1/$1"
}

# Calls `check` (in a subshell: it keeps no variable) until it succeeds, pausing 5 s, then twice as long each time (at most a minute),
# for at most WAIT_SECONDS in all; logs `what` and the last reason every time it waits.
wait_for() {
    local what="$1" check="$2" waited=0 pause=5 reason
    while true; do
        if reason="$("$check" 2>&1)"; then
            [[ "$waited" == 0 ]] || log "${what}: ready after ${waited}s"
            return 0
        fi
        if ((waited >= WAIT_SECONDS)); then
            log "${what}: still not ready after ${waited}s (${reason:-no reason given}); giving up until the next try"
            return 1
        fi
        log "${what}: waiting ${pause}s (${reason:-not there yet})"
        sleep "$pause"
        waited=$((waited + pause))
        pause=$((pause * 2 > MAX_PAUSE_SECONDS ? MAX_PAUSE_SECONDS : pause * 2))
    done
}

# Fetches the latest version of secret $SECRET_ID into $SECRET_FILE (root only); on failure
# prints gcloud's first line (it names the secret, never a value).
SECRET_ID=""
SECRET_FILE=""
fetch_secret() {
    local error
    if ! error="$( (umask 077 && gcloud secrets versions access latest --project "$SECRETS_PROJECT" --secret "$SECRET_ID" --quiet > "$SECRET_FILE.tmp") 2>&1)"; then
        rm -f "$SECRET_FILE.tmp"
        echo "${error%%$'\n'*}"
        return 1
    fi
    if [[ ! -s "$SECRET_FILE.tmp" ]]; then
        rm -f "$SECRET_FILE.tmp"
        echo "secret ${SECRET_ID} has an empty version"
        return 1
    fi
    mv "$SECRET_FILE.tmp" "$SECRET_FILE"
}

# Waits for secret $1 and stores it in $SECRETS_DIR/$2, readable by root only.
wait_for_secret() {
    SECRET_ID="$1"
    SECRET_FILE="$SECRETS_DIR/$2"
    install -d -m 0700 "$SECRETS_DIR"
    wait_for "secret ${SECRET_ID} (project ${SECRETS_PROJECT})" fetch_secret
}

# The data disk's stable path: /dev/disk/by-id/google-<device name>. GCE names a disk attached
# without a device name after the disk; the metadata server's own device name is tried too.
DATA_DISK_PATH=""
find_data_disk() {
    local candidate device
    candidate="$ROOT/dev/disk/by-id/google-${DATA_DISK_NAME}"
    if [[ -e "$candidate" ]]; then
        DATA_DISK_PATH="$candidate"
        return 0
    fi
    device="$(metadata instance/disks/1/device-name 2>/dev/null || true)"
    if [[ -n "$device" && -e "$ROOT/dev/disk/by-id/google-${device}" ]]; then
        DATA_DISK_PATH="$ROOT/dev/disk/by-id/google-${device}"
        return 0
    fi
    echo "neither ${candidate} nor a metadata device name${device:+ ($device)} is attached yet"
    return 1
}

bound_system_logs() {
    mkdir -p "$ROOT/etc/systemd/journald.conf.d"
    cat > "$ROOT/etc/systemd/journald.conf.d/ci.conf" <<'CONF'
[Journal]
SystemMaxUse=1G
SystemMaxFileSize=128M
MaxRetentionSec=7day
CONF
    systemctl restart systemd-journald || log "journald did not restart; its limits apply at the next boot"
}

install_packages() {
    if command -v docker >/dev/null && command -v buildkite-agent >/dev/null; then
        log "docker and buildkite-agent are installed"
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -yq curl gnupg ca-certificates jq openssl
    command -v docker >/dev/null || apt-get install -yq docker.io
    if ! command -v buildkite-agent >/dev/null; then
        curl -fsSL "https://keys.openpgp.org/vks/v1/by-fingerprint/32A37959C2FA5C3C99EFBC32A79206696452D198" |
            gpg --dearmor --yes -o "$ROOT/usr/share/keyrings/buildkite-agent-archive-keyring.gpg"
        echo "deb [signed-by=/usr/share/keyrings/buildkite-agent-archive-keyring.gpg] https://apt.buildkite.com/buildkite-agent stable main" \
            > "$ROOT/etc/apt/sources.list.d/buildkite-agent.list"
        apt-get update -q
        apt-get install -yq buildkite-agent
    fi
}

# Docker keeps images and layers on the data disk (formatted on first use only), or on the boot disk.
configure_docker() {
    local data_root=/var/lib/docker
    if [[ -n "$DATA_DISK_NAME" ]]; then
        local mount_point="$ROOT/mnt/disks/persist" uuid
        if ! blkid "$DATA_DISK_PATH" >/dev/null 2>&1; then
            log "formatting the new data disk ${DATA_DISK_PATH}"
            mkfs.ext4 -q -m 0 -E lazy_itable_init=0,lazy_journal_init=0,discard "$DATA_DISK_PATH"
        fi
        mkdir -p "$mount_point"
        uuid="$(blkid -s UUID -o value "$DATA_DISK_PATH")"
        if ! grep -q " /mnt/disks/persist " "$ROOT/etc/fstab" 2>/dev/null; then
            echo "UUID=${uuid} /mnt/disks/persist ext4 discard,defaults,nofail 0 2" >> "$ROOT/etc/fstab"
        fi
        mountpoint -q "$mount_point" || mount "$mount_point"
        chmod 0777 "$mount_point"
        data_root=/mnt/disks/persist/docker
    fi
    mkdir -p "$ROOT/etc/docker"
    cat > "$ROOT/etc/docker/daemon.json" <<JSON
{
  "data-root": "${data_root}",
  "log-driver": "json-file",
  "log-opts": { "max-size": "100m", "max-file": "3" }
}
JSON
    systemctl restart docker
    usermod -aG docker buildkite-agent
    local host
    for host in $REGISTRY_HOSTS; do
        sudo -u buildkite-agent gcloud auth configure-docker "$host" --quiet >/dev/null 2>&1 || log "docker login helper for ${host} not configured"
    done
}

schedule_daily_cleanup() {
    mkdir -p "$ROOT/etc/systemd/system"
    cat > "$ROOT/etc/systemd/system/ci-cache-cleanup.service" <<'UNIT'
[Unit]
Description=Remove Docker images, build cache and agent caches unused for two days

[Service]
Type=oneshot
ExecStart=/usr/bin/docker system prune --all --force --filter until=48h
ExecStart=/usr/bin/docker builder prune --all --force --filter until=48h
ExecStart=/usr/bin/find /var/lib/buildkite-agent/.cache -xdev -type f -atime +2 -delete
UNIT
    cat > "$ROOT/etc/systemd/system/ci-cache-cleanup.timer" <<'UNIT'
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

# A git credential helper that mints a GitHub App installation token per request, from the app's
# key in the Buildkite secret store: nothing long-lived on the VM.
configure_github_app() {
    [[ -n "$GITHUB_APP_ID" ]] || return 0
    local helper="$AGENT_DIR/git-credential-github-app"
    cat > "$helper" <<HELPER
#!/bin/bash
# git credential helper: a GitHub App installation token for github.com (written by the startup script).
set -euo pipefail
[[ "\${1:-}" == "get" ]] || exit 0
app_id='${GITHUB_APP_ID}'
installation='${GITHUB_APP_INSTALLATION_ID}'
key="\$(mktemp)"
trap 'rm -f "\$key"' EXIT
buildkite-agent secret get '${GITHUB_APP_PEM_SECRET}' > "\$key" || exit 0
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now="\$(date +%s)"
header="\$(printf '{"alg":"RS256","typ":"JWT"}' | b64)"
payload="\$(printf '{"iat":%s,"exp":%s,"iss":"%s"}' "\$((now - 60))" "\$((now + 540))" "\$app_id" | b64)"
signature="\$(printf '%s.%s' "\$header" "\$payload" | openssl dgst -sha256 -sign "\$key" -binary | b64)"
token="\$(curl -fsS --max-time 20 -X POST -H "Authorization: Bearer \$header.\$payload.\$signature" -H "Accept: application/vnd.github+json" \\
    "https://api.github.com/app/installations/\$installation/access_tokens" | jq -r .token)" || exit 0
[[ -n "\$token" && "\$token" != null ]] || exit 0
echo "username=x-access-token"
echo "password=\$token"
HELPER
    chmod 0755 "$helper"
    mkdir -p "$ROOT/etc"
    cat > "$ROOT/etc/gitconfig" <<GITCONFIG
[credential "https://github.com"]
	helper = /etc/buildkite-agent/git-credential-github-app
[url "https://github.com/"]
	insteadOf = git@github.com:
	insteadOf = ssh://git@github.com/
GITCONFIG
}

# The agent reads its token from a root-only environment file; jobs get the HF and analytics tokens
# from the agent's environment hook, which reads files only root and the agent can read.
configure_agent() {
    local agent_name="$1" tags="$2"
    install -d -m 0750 "$AGENT_DIR/hooks"
    (umask 077 && printf 'BUILDKITE_AGENT_TOKEN=%s\n' "$(cat "$SECRETS_DIR/agent-token")" > "$AGENT_DIR/agent.env")
    rm -f "$SECRETS_DIR/agent-token"
    chown -R root:buildkite-agent "$SECRETS_DIR"
    chmod 0750 "$SECRETS_DIR"
    chmod 0440 "$SECRETS_DIR"/*
    cat > "$AGENT_DIR/buildkite-agent.cfg" <<CFG
name="${agent_name}"
tags="${tags}"
build-path="/var/lib/buildkite-agent/builds"
hooks-path="/etc/buildkite-agent/hooks"
plugins-path="/etc/buildkite-agent/plugins"
CFG
    # The hook expands these when a job starts, not this script:
    # shellcheck disable=SC2016
    {
        echo '#!/bin/bash'
        echo 'set -euo pipefail'
        echo 'HF_TOKEN="$(cat /etc/buildkite-agent/secrets/hf-token)"'
        echo 'export HF_TOKEN'
        if [[ -e "$SECRETS_DIR/analytics-token" ]]; then
            echo 'BUILDKITE_ANALYTICS_TOKEN="$(cat /etc/buildkite-agent/secrets/analytics-token)"'
            echo 'export BUILDKITE_ANALYTICS_TOKEN'
        fi
        [[ -z "$AGENT_ENVIRONMENT" ]] || printf 'export %s\n' "$AGENT_ENVIRONMENT"
    } > "$AGENT_DIR/hooks/environment"
    chmod 0750 "$AGENT_DIR/hooks/environment"
    chown -R root:buildkite-agent "$AGENT_DIR/hooks"
    mkdir -p "$ROOT/etc/systemd/system/buildkite-agent.service.d"
    cat > "$ROOT/etc/systemd/system/buildkite-agent.service.d/token.conf" <<'UNIT'
[Service]
EnvironmentFile=/etc/buildkite-agent/agent.env
UNIT
}

start_agent() {
    systemctl daemon-reload
    systemctl enable buildkite-agent
    systemctl restart buildkite-agent
    log "buildkite-agent started"
}

# Gathers every secret and the disk, or gives up for now: the script runs again at the next boot,
# and a retry is armed in ten minutes, so a secret added later still brings the agent up.
gather_or_retry() {
    local ready=true
    wait_for_secret "$AGENT_TOKEN_SECRET" agent-token || ready=false
    $ready && { wait_for_secret "$HF_TOKEN_SECRET" hf-token || ready=false; }
    if $ready && [[ -n "$ANALYTICS_TOKEN_SECRET" ]]; then wait_for_secret "$ANALYTICS_TOKEN_SECRET" analytics-token || ready=false; fi
    if $ready && [[ -n "$DATA_DISK_NAME" ]]; then
        # wait_for checks in a subshell: find the path again here, where it is kept.
        if wait_for "data disk ${DATA_DISK_NAME}" find_data_disk; then find_data_disk >/dev/null; else ready=false; fi
    fi
    if ! $ready; then
        log "the agent is not configured: retrying in 10 minutes"
        systemd-run --on-active=600 --unit="ci-startup-retry-$(date +%s)" google_metadata_script_runner startup >/dev/null 2>&1 || true
        return 1
    fi
}
