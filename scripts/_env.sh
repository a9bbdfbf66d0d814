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
install_tqspatial() {  # $1: extras, e.g. "[all]" or "[test]"; versions pinned by requirements/
  if ! "$VENV/bin/python" -c "import tqspatial" 2>/dev/null; then  # pip is quiet: say why we wait
    echo "first run: installing tqspatial$1 and its dependencies into $VENV" \
      "(1–3 minutes; later runs reuse it)…" >&2
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/requirements/runtime.txt" -c "$ROOT/requirements/test.txt" -e "$ROOT$1" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  "$VENV/bin/python" -c "import tqspatial" || { echo "installing tqspatial failed" >&2; exit 1; }
}
install_debian_packages() {  # system packages the tests need (browser, PostGIS ...); skipped when present
  local missing=() pkg sudo=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
postgis_installed() {  # a server version with initdb and the PostGIS extension beside it
  local control version
  for control in /usr/share/postgresql/*/extension/postgis.control; do
    [[ -f "$control" ]] || continue
    version=$(basename "$(dirname "$(dirname "$control")")")
    [[ -x "/usr/lib/postgresql/$version/bin/initdb" ]] && return 0
  done
  return 1
}
install_postgis() {  # the newest PostgreSQL + PostGIS 3 pair this Debian offers (12: 15, 13: 17 ...)
  postgis_installed && return 0
  local sudo="" pair
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq >&2
  pair=$(apt-cache pkgnames postgresql- | python3 "$ROOT/scripts/debian_packages.py") || {
    echo "no PostgreSQL/PostGIS packages in this machine's apt sources" >&2; exit 1; }
  echo "installing Debian packages: $pair" >&2
  # shellcheck disable=SC2086  # two package names
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pair >&2
}
prepare_postgresql_common() {  # Debian: do not create and start a default cluster on port 5432
  local sudo="" conf=/etc/postgresql-common/createcluster.d/tqspatial.conf
  [[ -f "$conf" ]] && return 0
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo mkdir -p "$(dirname "$conf")"
  echo "create_main_cluster = false" | $sudo tee "$conf" >/dev/null
}
