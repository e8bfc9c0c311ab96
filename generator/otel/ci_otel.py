"""Exports CI command spans over OTLP/HTTP (JSON), with the Python standard library only.

  python3 ci_otel.py export INDEX NAME_BASE64 START_NS END_NS EXIT_STATUS [SPAN_ID]

Called by ci_otel.sh after each command. The trace is the build's (from TRACEPARENT, else derived
from BUILDKITE_BUILD_ID, so every job of a build shares it). The endpoint is
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; headers come
from OTEL_EXPORTER_OTLP_HEADERS. The export is bounded by OTEL_EXPORTER_OTLP_TIMEOUT (ms, default
2000 here: a CI step must not wait for a collector) and fails with one warning line and exit 1.
"""
import base64
import hashlib
import json
import os
import signal
import sys
import time
import urllib.parse
import urllib.request

RESOURCE_VARIABLES = {
    "BUILDKITE_PIPELINE_SLUG": "buildkite.pipeline",
    "BUILDKITE_BUILD_NUMBER": "buildkite.build.number",
    "BUILDKITE_BUILD_ID": "buildkite.build.id",
    "BUILDKITE_JOB_ID": "buildkite.job.id",
    "BUILDKITE_STEP_KEY": "buildkite.step.key",
    "BUILDKITE_LABEL": "buildkite.step.label",
    "BUILDKITE_BRANCH": "vcs.branch",
    "BUILDKITE_COMMIT": "vcs.commit",
    "BUILDKITE_AGENT_NAME": "buildkite.agent.name",
}


def endpoint():
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def _traceparent():
    parts = os.environ.get("TRACEPARENT", "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
        return parts[1], parts[2]
    return None, None


def trace_id():
    traced, _ = _traceparent()
    if traced:
        return traced
    build = os.environ.get("BUILDKITE_BUILD_ID")
    if build:
        return hashlib.sha256(build.encode()).hexdigest()[:32]
    return os.urandom(16).hex()


def _value(value):
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": str(value)}


def attributes(values):
    return [{"key": key, "value": _value(value)} for key, value in values.items()]


def span(name, start_ns, end_ns, exit_status, span_id=None, parent_id=None, extra=None):
    """One OTLP span; a non-zero exit status is an error status."""
    record = {
        "traceId": trace_id(),
        "spanId": span_id if span_id and len(span_id) == 16 else os.urandom(8).hex(),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(max(end_ns, start_ns)),
        "attributes": attributes(dict(extra or {}, **{"ci.command.exit_status": exit_status})),
        "status": {"code": 1} if exit_status == 0 else {"code": 2, "message": "exit status %d" % exit_status},
    }
    parent = parent_id or _traceparent()[1]
    if parent:
        record["parentSpanId"] = parent
    return record


def _headers():
    headers = {"Content-Type": "application/json"}
    for item in os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() and value:
            headers[urllib.parse.unquote(key.strip())] = urllib.parse.unquote(value.strip())
    return headers


def _where(url):
    """The collector's address without credentials or query, for messages."""
    parts = urllib.parse.urlsplit(url)
    return "%s://%s%s" % (parts.scheme, parts.hostname or "", ":%d" % parts.port if parts.port else "")


def _timeout_seconds():
    value = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT") or "2000"
    try:
        return min(max(float(value) / 1000.0, 0.1), 10.0)
    except ValueError:
        return 2.0


class _Timeout(Exception):
    pass


def export(spans, scope="ci_otel"):
    """POST the spans; True when the collector accepted them. Never raises, never exceeds the timeout."""
    url = endpoint()
    if not url or not spans:
        return False
    resource = {"service.name": os.environ.get("OTEL_SERVICE_NAME") or "buildkite-ci"}
    for variable, key in RESOURCE_VARIABLES.items():
        if os.environ.get(variable):
            resource[key] = os.environ[variable]
    body = json.dumps(
        {"resourceSpans": [{"resource": {"attributes": attributes(resource)}, "scopeSpans": [{"scope": {"name": scope}, "spans": spans}]}]}
    ).encode()
    timeout = _timeout_seconds()

    def expired(*_):
        raise _Timeout()

    previous = None
    try:
        # A hard bound on the whole request (a collector that accepts and never answers included).
        if hasattr(signal, "setitimer"):
            previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        request = urllib.request.Request(url, data=body, headers=_headers(), method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return True
    except _Timeout:
        problem = "no answer within %gs" % timeout
    except Exception as error:  # noqa: BLE001 - any failure only turns tracing off
        problem = str(getattr(error, "reason", None) or error)
    finally:
        if previous is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    sys.stderr.write("ci_otel: span export to %s failed (%s); command tracing is off for the rest of this step\n" % (_where(url), problem))
    return False


def main(argv):
    if len(argv) >= 7 and argv[1] == "export":
        index, name64, start_ns, end_ns, status = argv[2:7]
        try:
            name = base64.b64decode(name64).decode("utf-8", "replace").strip()
        except ValueError:
            name = ""
        record = span(
            name or "command %s" % index,
            int(start_ns),
            int(end_ns),
            int(status),
            span_id=argv[7] if len(argv) > 7 else None,
            extra={"ci.command.index": int(index)},
        )
        return 0 if export([record]) else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as error:  # noqa: BLE001 - tracing must never fail a build
        sys.stderr.write("ci_otel: %s; command tracing is off for the rest of this step\n" % error)
        sys.exit(1)
