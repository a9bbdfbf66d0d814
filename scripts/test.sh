#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: ruff lint + format check, mypy --strict, then pytest
# (unit tests, doctests, the import-layer check and the embedded-data checks).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
install_tqspatial "[test]"
cd "$ROOT"
"$VENV/bin/ruff" check tqspatial tests
"$VENV/bin/ruff" format --check tqspatial tests
"$VENV/bin/mypy"
exec "$VENV/bin/python" -m pytest "$@"
