"""The set-up scripts pick the right packages on any Debian."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

from tests.pg_server import find_bindir

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location(
        "debian_packages", ROOT / "scripts" / "debian_packages.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Excerpts of `apt-cache pkgnames postgresql-` on real releases (package names as Debian has them).
BOOKWORM = """postgresql-15
postgresql-15-postgis-3
postgresql-15-postgis-3-scripts
postgresql-client-15
postgresql-doc-15
postgresql-15-pgrouting
postgresql-common
postgresql-postgis
postgresql-postgis-scripts"""
TRIXIE = """postgresql-17
postgresql-17-postgis-3
postgresql-17-postgis-3-scripts
postgresql-client-17
postgresql-17-pgvector
postgresql-common
postgresql-postgis"""
#: PGDG apt repository on bookworm: several servers; PostGIS only for some.
PGDG = """postgresql-13
postgresql-16
postgresql-16-postgis-3
postgresql-17
postgresql-17-postgis-3
postgresql-18
postgresql-18-postgis-3-scripts
postgresql-15"""


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        (BOOKWORM, ("postgresql-15", "postgresql-15-postgis-3")),
        (TRIXIE, ("postgresql-17", "postgresql-17-postgis-3")),
        (PGDG, ("postgresql-17", "postgresql-17-postgis-3")),  # 18 has no postgis-3 package
        ("postgresql-16\npostgresql-common", None),
    ],
)
def test_package_choice_per_debian(listing, expected):
    assert _module().pick_postgis(listing.splitlines()) == expected


def test_script_runs_on_the_package_list_of_this_machine():
    listing = subprocess.run(
        ["apt-cache", "pkgnames", "postgresql-"], capture_output=True, text=True, check=True
    ).stdout
    done = subprocess.run(
        ["python3", str(ROOT / "scripts" / "debian_packages.py")],
        input=listing,
        capture_output=True,
        text=True,
        check=True,
    )
    server, postgis = done.stdout.split()
    assert postgis == f"{server}-postgis-3"
    assert server in listing.split()


def test_bindir_prefers_the_version_with_postgis(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no pg_ctl on PATH
    lib, share = tmp_path / "lib", tmp_path / "share"
    for version in ("15", "17"):
        (lib / version / "bin").mkdir(parents=True)
        for tool in ("pg_ctl", "initdb"):
            (lib / version / "bin" / tool).write_text("")
    (share / "15" / "extension").mkdir(parents=True)
    (share / "15" / "extension" / "postgis.control").write_text("")
    assert find_bindir(lib, share) == lib / "15" / "bin"  # 17 is newer but lacks PostGIS
    (share / "17" / "extension").mkdir(parents=True)
    (share / "17" / "extension" / "postgis.control").write_text("")
    assert find_bindir(lib, share) == lib / "17" / "bin"


FAKE_PYTHON = """#!/usr/bin/env bash
# stands in for .venv/bin/python: tqspatial imports once pip "installed" it
venv="$(dirname "$(dirname "$0")")"
if [[ "$1" == "-m" && "$2" == "pip" ]]; then
  echo "$@" >> "$venv/pip.log"; touch "$venv/installed"; exit 0
fi
if [[ "$1" == "-c" ]]; then [[ -f "$venv/installed" ]]; exit $?; fi
exit 1
"""


def _install(venv):
    return subprocess.run(
        ["bash", "-c", f'source "{ROOT}/scripts/_env.sh"; install_tqspatial "[all]"'],
        env={"PATH": "/usr/bin:/bin", "TQSPATIAL_VENV": str(venv)},
        capture_output=True,
        text=True,
        check=True,
    )


def test_the_first_install_says_what_it_is_doing(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    first = _install(venv)
    assert "first run: installing tqspatial[all] and its dependencies" in first.stderr
    assert str(venv) in first.stderr
    again = _install(venv)  # reused: pip still checks, quietly
    assert "first run" not in again.stderr
    pip_calls = (venv / "pip.log").read_text().splitlines()
    assert len(pip_calls) == 2
    assert all("requirements/runtime.txt" in call and "[all]" in call for call in pip_calls)
