#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: ruff lint + format check, mypy --strict, numpydoc
# docstring lint, then pytest
# (unit tests, doctests, the import-layer check and the embedded-data checks).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
install_tqspatial "[test]"
# System packages for the PostGIS round trip (tests start their own throwaway server, never a
# default cluster) and the headless-browser test of the HTML map. Installed once, then offline.
prepare_postgresql_common
install_postgis
install_debian_packages chromium
cd "$ROOT"
"$VENV/bin/ruff" check tqspatial tests
"$VENV/bin/ruff" format --check tqspatial tests
"$VENV/bin/mypy"
# Docstrings of the public modules (numpydoc; private modules and names are skipped).
find tqspatial -name '*.py' ! -path '*/_*' -print0 | xargs -0 "$VENV/bin/numpydoc" lint
exec "$VENV/bin/python" -m pytest "$@"
