"""A throwaway PostgreSQL + PostGIS server for the tests (no mocks, no shared state).

:func:`start` runs ``initdb`` into a fresh temporary folder, starts ``postgres`` on a free
loopback port with trust authentication, creates a database with the ``postgis`` extension and
returns a :class:`PgServer`; :meth:`PgServer.stop` shuts it down and deletes the folder.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged account (``postgres`` from the Debian package, else ``nobody``) through
``subprocess``'s ``user=`` / ``group=`` arguments; as a normal user it runs as that user.
The data folder lives under the system temporary folder (not pytest's ``tmp_path``, whose
parents are private to the test user) and doubles as the Unix-socket folder.

When the binaries or the PostGIS extension are missing, :class:`PgServerError` says
which command installs them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

#: Debian packages that provide the server and the extension (bookworm: PostgreSQL 15, PostGIS 3.3).
INSTALL_COMMAND = (
    "apt-get update && apt-get install -y --no-install-recommends $(apt-cache pkgnames "
    "postgresql- | python3 scripts/debian_packages.py)"
)
SUPERUSER = "tqtest"
DATABASE = "tqtest"
#: Settings for a disposable server: no durability, tiny footprint, loopback only.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "20",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}
START_ATTEMPTS = 3
START_TIMEOUT_S = 30


class PgServerError(RuntimeError):
    """The PostgreSQL/PostGIS binaries are missing or the server would not start."""


@dataclasses.dataclass
class PgServer:
    """A running throwaway server.

    Attributes
    ----------
    url : str
        ``postgresql://tqtest@127.0.0.1:<port>/tqtest`` (trust authentication, no password).
    port : int
        The loopback TCP port.
    datadir : pathlib.Path
        Cluster folder (also holds the socket and ``server.log``); deleted by :meth:`stop`.
    bindir : pathlib.Path
        Folder of ``pg_ctl`` / ``initdb``.
    startup_s : float
        Seconds from ``initdb`` to PostGIS ready.
    """

    url: str
    port: int
    datadir: Path
    bindir: Path
    startup_s: float
    _run_as: tuple[int, int] | None

    def kill(self) -> None:
        """Crash the server (immediate shutdown, as a power cut would), keeping its data."""
        _check(self._ctl("-m", "immediate", "-w", "stop"), "pg_ctl stop")

    def restart(self) -> None:
        """Start the server again on the same port after :meth:`kill` (crash recovery)."""
        log = self.datadir / "server.log"
        args = ("-l", str(log), "-w", "-t", str(START_TIMEOUT_S), "-o", f"-p {self.port}", "start")
        _check(self._ctl(*args), "pg_ctl start")

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir / "data"), *args]
        return _run(cmd, self._run_as, cwd=self.datadir)

    def stop(self) -> None:
        """Stop the server (immediate shutdown: nothing to keep) and delete its folder."""
        try:
            _run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                self._run_as,
                cwd=self.datadir,
            )
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)


def find_bindir(
    search_root: Path = Path("/usr/lib/postgresql"),
    extension_root: Path = Path("/usr/share/postgresql"),
) -> Path:
    """Folder with ``initdb`` and ``pg_ctl``: ``$PATH`` first, else the newest Debian install
    that has PostGIS (several major versions may be installed side by side).

    Raises
    ------
    PgServerError
        When neither is found; the message gives the install command.
    """
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent

    def rank(p: Path) -> tuple[bool, int]:  # a version with PostGIS first, then the newest
        version = p.parent.parent.name
        has_postgis = (extension_root / version / "extension" / "postgis.control").is_file()
        return has_postgis, int(version) if version.isdigit() else 0

    candidates = sorted(search_root.glob("*/bin/pg_ctl"), key=rank)
    if candidates and (candidates[-1].parent / "initdb").exists():
        return candidates[-1].parent
    msg = (
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        f"{search_root}/*/bin. Install them (Debian, as root): {INSTALL_COMMAND}"
    )
    raise PgServerError(msg)


def _unprivileged_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    msg = "running as root and no unprivileged account (postgres, nobody) to run PostgreSQL as"
    raise PgServerError(msg)


def _run(
    cmd: list[str], run_as: tuple[int, int] | None, *, cwd: Path
) -> subprocess.CompletedProcess[str]:
    kwargs: dict[str, object] = {}
    if run_as is not None:
        kwargs = {"user": run_as[0], "group": run_as[1], "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return subprocess.run(  # noqa: PLW1510 - the caller decides what a failure means
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S, **kwargs
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        msg = f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        raise PgServerError(msg)


def start() -> PgServer:
    """Create and start a throwaway server with PostGIS; see the module docstring.

    Returns
    -------
    PgServer
        The running server; call :meth:`PgServer.stop` when done.

    Raises
    ------
    PgServerError
        Binaries or PostGIS missing (message gives the install command), or start-up failed
        (message includes the server log).
    """
    t0 = time.perf_counter()
    bindir = find_bindir()
    run_as = _unprivileged_account()
    # as root, /tmp: $TMPDIR may sit below folders the server account cannot enter
    parent = "/tmp" if run_as is not None else None
    root = Path(tempfile.mkdtemp(prefix="tqspatial-pg-", dir=parent))
    try:
        if run_as is not None:
            os.chown(root, *run_as)
        data = root / "data"
        _check(
            _run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                run_as,
                cwd=root,
            ),
            "initdb",
        )
        conf = data / "postgresql.conf"
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{root}'"}
        with conf.open("a", encoding="utf-8") as handle:
            handle.writelines(f"{key} = {value}\n" for key, value in settings.items())
        port = _start_onfree_port(bindir, data, root, run_as)
        url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
        _create_database(port)
        server = PgServer(url, port, root, bindir, 0.0, run_as)
        try:
            _create_postgis(url)
        except BaseException:
            server.stop()
            raise
        server.startup_s = time.perf_counter() - t0
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def _start_onfree_port(bindir: Path, data: Path, root: Path, run_as: tuple[int, int] | None) -> int:
    log = root / "server.log"
    failure = ""
    for _ in range(START_ATTEMPTS):  # another process may grab the port between probe and bind
        port = free_port()
        proc = _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-o",
                f"-p {port}",
                "start",
            ],
            run_as,
            cwd=root,
        )
        if proc.returncode == 0:
            return port
        failure = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if not re.search(r"could not bind|already in use", failure):
            break
    msg = f"pg_ctl start failed:\n{failure}"
    raise PgServerError(msg)


def _create_database(port: int) -> None:
    with psycopg.connect(
        f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")


def _create_postgis(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION postgis")
        except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported) as exc:
            msg = f"PostGIS extension not available ({exc}). Install it (Debian): {INSTALL_COMMAND}"
            raise PgServerError(msg) from exc
