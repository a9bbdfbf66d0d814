# Shared by scripts/refresh.sh and scripts/test.sh: create .venv and install tqspatial into it.
# Idempotent: a second run reuses the venv and only installs what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TQSPATIAL_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "creating virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
install_tqspatial() {  # $1: extras, e.g. "" or "[test]"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/requirements/constraints.txt" -e "$ROOT$1" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  "$VENV/bin/python" -c "import tqspatial" || { echo "installing tqspatial failed" >&2; exit 1; }
}
