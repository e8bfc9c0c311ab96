#!/bin/sh
# pytest with one span per test (ci_pytest_otel.py, children of the command's span) when command
# tracing is on (ci_otel.sh); plain pytest otherwise. Usage: "$CI_OTEL_HELPERS_DIR/ci_pytest.sh" ARGS.
helpers=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
if [ "${CI_INFRA_OTEL_READY:-0}" = 1 ] && [ -n "$helpers" ]; then
    PYTHONPATH="$helpers${PYTHONPATH:+:$PYTHONPATH}" exec python3 -m pytest -p ci_pytest_otel "$@"
fi
exec python3 -m pytest "$@"
