# The body of the fleet's agent boot script (the header above it is rendered per queue by
# aws/agent-boot.ts). The Elastic CI Stack runs it as root at every boot, before the agent starts
# (BootstrapScriptUrl); it fails the boot rather than start an agent without its protections.
# shellcheck shell=bash

log() { echo "vllm-ci-boot: $*"; }

hooks_dir="${VLLM_CI_HOOKS_DIR:-/etc/buildkite-agent/hooks}"

# Job containers on Docker's bridge networks reach the instance metadata service through the host
# (the template sets the hop limit to 2), and with it the role's credentials and, through SSM,
# the agent token. Docker sends forwarded traffic through DOCKER-USER first and never flushes it.
block_container_metadata() {
  local tool address
  for tool in iptables ip6tables; do
    if ! command -v "$tool" > /dev/null 2>&1; then
      [[ "$tool" == ip6tables ]] && continue
      log "iptables is missing: cannot keep containers off the instance metadata service"
      return 1
    fi
    address="169.254.169.254/32"
    [[ "$tool" == ip6tables ]] && address="fd00:ec2::254/128"
    "$tool" -N DOCKER-USER 2> /dev/null || true
    if ! "$tool" -C DOCKER-USER -d "$address" -j REJECT 2> /dev/null; then
      "$tool" -I DOCKER-USER 1 -d "$address" -j REJECT
    fi
  done
  log "job containers cannot reach the instance metadata service"
}

# Puts the job guard in front of the Elastic CI Stack's environment hook (once: boots repeat).
install_job_guard() {
  local hook="$hooks_dir/environment"
  mkdir -p "$hooks_dir"
  if [[ -f "$hook" ]] && ! grep -q "vllm-ci job guard" "$hook"; then
    mv "$hook" "$hook.elastic-stack"
  fi
  cat > "$hook.tmp" << 'VLLM_CI_JOB_GUARD_HOOK'
__JOB_GUARD_HOOK__
VLLM_CI_JOB_GUARD_HOOK
  chmod 0755 "$hook.tmp"
  mv "$hook.tmp" "$hook"
  log "job guard installed: ${VLLM_CI_STAGE} jobs of trusted branches only"
}

node_major() {
  local binary="$1" version
  version="$("$binary" --version 2> /dev/null)" || return 1
  version="${version#v}"
  printf '%s' "${version%%.*}"
}

# bootstrap.sh runs the pipeline generator with Node.js 20 or later (`node-20` on Amazon Linux 2023).
install_node() {
  local binary major
  if ! command -v node-20 > /dev/null 2>&1 && ! command -v node > /dev/null 2>&1; then
    dnf install -y "$VLLM_CI_NODE_PACKAGE"
  fi
  for binary in node-20 node; do
    command -v "$binary" > /dev/null 2>&1 || continue
    major="$(node_major "$binary")" || continue
    if ((major >= 20)); then
      log "Node.js $("$binary" --version) ready ($binary)"
      return 0
    fi
  done
  log "no Node.js 20 or later after installing $VLLM_CI_NODE_PACKAGE"
  return 1
}

# The GPU queues' own boot script, fetched and checked against its pinned sha256 before it runs.
run_chained_script() {
  local script actual
  script="$(mktemp)"
  case "$VLLM_CI_CHAINED_SCRIPT_URL" in
    s3://*) aws s3 cp --only-show-errors "$VLLM_CI_CHAINED_SCRIPT_URL" "$script" ;;
    *) curl -fsSL --retry 3 --max-time 120 -o "$script" "$VLLM_CI_CHAINED_SCRIPT_URL" ;;
  esac
  actual="$(sha256sum "$script")"
  actual="${actual%% *}"
  if [[ "$actual" != "$VLLM_CI_CHAINED_SCRIPT_SHA256" ]]; then
    log "$VLLM_CI_CHAINED_SCRIPT_URL has sha256 $actual, not the pinned $VLLM_CI_CHAINED_SCRIPT_SHA256: not running it"
    rm -f "$script"
    return 1
  fi
  log "running $VLLM_CI_CHAINED_SCRIPT_URL (sha256 $actual)"
  bash "$script"
  rm -f "$script"
}

log "queue ${VLLM_CI_QUEUE} (${VLLM_CI_STAGE})"
block_container_metadata
if [[ "$VLLM_CI_JOB_GUARD" == 1 ]]; then install_job_guard; fi
if [[ -n "$VLLM_CI_NODE_PACKAGE" ]]; then install_node; fi
if [[ -n "$VLLM_CI_CHAINED_SCRIPT_URL" ]]; then run_chained_script; fi
log "done"
