# shellcheck shell=sh
# Command tracing of a CI step, sourced by the line the pipeline generator writes before the
# step's commands (CI_OTEL_HELPERS_DIR is this folder). Each command is wrapped in
#   ci_otel_start INDEX NAME_BASE64 ... command ... ci_otel_finish STATUS
# and becomes one span (name, start, end, exit status) that ci_otel.py exports over OTLP/HTTP
# (JSON) to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
# Without an endpoint, without python3 or with OTEL_SDK_DISABLED=true, CI_INFRA_OTEL_READY is 0
# and the wrappers do nothing. Nothing here changes a command's exit status; a collector that is
# down or slow costs one bounded export, then tracing is off for the rest of the step.

CI_INFRA_OTEL_READY=0
_ci_otel_endpoint=${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-${OTEL_EXPORTER_OTLP_ENDPOINT:+${OTEL_EXPORTER_OTLP_ENDPOINT%/}/v1/traces}}
if [ -n "$_ci_otel_endpoint" ] && [ "${OTEL_SDK_DISABLED:-false}" != true ] && command -v python3 >/dev/null 2>&1; then
    CI_INFRA_OTEL_READY=1
fi
export CI_INFRA_OTEL_READY CI_OTEL_HELPERS_DIR

_ci_otel_now() {
    _ci_otel_t=$(date +%s%N 2>/dev/null) || _ci_otel_t=
    case $_ci_otel_t in
        '' | *[!0-9]*) _ci_otel_t="$(date +%s)000000000" ;;
    esac
    echo "$_ci_otel_t"
}

# Under `set -e` a failing command ends the shell before ci_otel_finish runs: the EXIT trap
# finishes its span, unless the step has an EXIT trap of its own (which is left alone).
_ci_otel_on_exit() {
    _ci_otel_exit=$?
    if [ "${_ci_otel_pending:-0}" = 1 ]; then ci_otel_finish "$_ci_otel_exit" || :; fi
    exit "$_ci_otel_exit"
}

ci_otel_start() {
    [ "${CI_INFRA_OTEL_READY:-0}" = 1 ] || return 0
    _ci_otel_index=$1
    _ci_otel_name=${2-}
    _ci_otel_span=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n') || _ci_otel_span=
    CI_OTEL_PARENT_SPAN_ID=$_ci_otel_span
    export CI_OTEL_PARENT_SPAN_ID
    if [ "${_ci_otel_trapped:-0}" = 0 ]; then
        _ci_otel_trapped=1
        case $- in
            *e*)
                if trap >"$CI_OTEL_HELPERS_DIR/.traps" 2>/dev/null && ! grep -q EXIT "$CI_OTEL_HELPERS_DIR/.traps"; then
                    trap _ci_otel_on_exit EXIT
                fi
                ;;
        esac
    fi
    _ci_otel_pending=1
    _ci_otel_start_ns=$(_ci_otel_now)
    return 0
}

ci_otel_finish() {
    _ci_otel_end_ns=$(_ci_otel_now)
    [ "${_ci_otel_pending:-0}" = 1 ] || return 0
    _ci_otel_pending=0
    unset CI_OTEL_PARENT_SPAN_ID
    [ "${CI_INFRA_OTEL_READY:-0}" = 1 ] || return 0
    python3 "$CI_OTEL_HELPERS_DIR/ci_otel.py" export "$_ci_otel_index" "$_ci_otel_name" \
        "$_ci_otel_start_ns" "$_ci_otel_end_ns" "${1:-0}" "$_ci_otel_span" || CI_INFRA_OTEL_READY=0
    return 0
}
