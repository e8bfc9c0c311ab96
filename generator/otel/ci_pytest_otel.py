"""pytest plugin (loaded by ci_pytest.sh): one span per test, children of the command's span
(CI_OTEL_PARENT_SPAN_ID), exported together by ci_otel.py when the session ends. Any failure here
is swallowed: the plugin never changes a test's outcome or pytest's exit status."""
import os
import time

import ci_otel

_spans = []


def pytest_runtest_logreport(report):
    try:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            end_ns = time.time_ns()
            start_ns = end_ns - int(report.duration * 1e9)
            status = 0 if report.passed or report.skipped else 1
            parent = os.environ.get("CI_OTEL_PARENT_SPAN_ID") or None
            _spans.append(
                ci_otel.span(report.nodeid, start_ns, end_ns, status, parent_id=parent, extra={"ci.test.outcome": report.outcome})
            )
    except Exception:  # noqa: BLE001
        pass


def pytest_sessionfinish(session, exitstatus):
    try:
        if _spans:
            ci_otel.export(_spans, scope="ci_pytest_otel")
    except Exception:  # noqa: BLE001
        pass
