"""Publishing a set of output files into a folder tqspatial owns: lock, staging, atomic swap.

A job writes every output into a staging folder next to the target (``.<name>.staging-<pid>``),
flushes it to disk (``fsync`` of every file and folder) and then *exchanges* the two folders
in one ``renameat2(RENAME_EXCHANGE)`` system call, so a reader -- or a job killed at any
moment -- sees either the complete previous outputs or the complete new ones.  Where the
exchange is not supported (not Linux, or a file system without it) the swap falls back to two
renames; a run killed between them leaves the previous outputs in ``.<name>.previous-<pid>``,
which the next run restores before doing anything else.  Where the target is a mount point
(it cannot be renamed), the staging folder lives inside it and the *contents* are swapped
entry by entry, with the same recovery.

The folder is **owned**: every publish writes the marker file :data:`OWNER_MARKER` (which job
wrote the folder).  :func:`check_target` refuses, before a job starts, to publish into a
folder that holds files tqspatial did not write, into a file, or into another job's folder.
Files a user adds to an owned folder later are kept across every swap (they are linked into
the new set), so nothing the user put there is lost.

A lock file beside the target (``.<name>.lock``) stops two jobs from writing the same folder
at once; the second fails at once with :class:`OutputLockedError` naming the holder's process
id.  The lock uses ``fcntl.flock`` on POSIX and ``msvcrt.locking`` on Windows, both imported
only when a lock is taken, and an exclusive-create lock file where neither exists; nothing
POSIX-only is imported with the package.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from tqspatial.errors import OutputError, TqspatialError

__all__ = [
    "FAILURE_REPORT",
    "OWNER_MARKER",
    "OutputError",
    "OutputLockedError",
    "check_target",
    "lock_file",
    "output_lock",
    "outputs_size",
    "publish",
    "published_outputs",
    "read_owner",
    "recover",
    "staged",
    "staging_dir",
    "write_beside",
]

logger = logging.getLogger(__name__)

#: Written into every folder tqspatial publishes; says which job owns it.
OWNER_MARKER = ".tqspatial-output"

#: The job's own bookkeeping files in a published folder (besides its listed outputs).
MANIFEST = "manifest.json"

#: Written beside the previous outputs when a run stops on bad input.
FAILURE_REPORT = "quality_report.failed.md"

#: Entries of a foreign folder listed in a refusal message.
MAX_LISTED = 10

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputLockedError(TqspatialError, RuntimeError):
    """Another job is writing the same output folder."""


def _sibling(target: Path, tag: str) -> Path:
    return target.parent / f".{target.name}.{tag}"


def lock_file(target: Path) -> Path:
    """Return the lock file of an output folder: beside it, or inside a mount point.

    Parameters
    ----------
    target : pathlib.Path
        The output folder.

    Returns
    -------
    pathlib.Path
        ``.<name>.lock`` next to ``target``; ``.tqspatial-lock`` inside it when ``target``
        is a mount point (its parent may be read-only, e.g. a container's root).
    """
    if target.is_dir() and os.path.ismount(target):
        return target / ".tqspatial-lock"
    return _sibling(target, "lock")


def _marker_text(job: str) -> str:
    return json.dumps({"tool": "tqspatial", "job": job}, sort_keys=True) + "\n"


def read_owner(folder: Path) -> str | None:
    """Return the job that owns ``folder`` (from its marker or a legacy manifest), or None.

    Parameters
    ----------
    folder : pathlib.Path
        An output folder.

    Returns
    -------
    str or None
        ``"refresh"``, ``"maps"`` ...; None when tqspatial did not write the folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / OWNER_MARKER).write_text(_marker_text("maps"))
    ...     read_owner(Path(d))
    'maps'
    """
    for name, key in ((OWNER_MARKER, "job"), (MANIFEST, "tqspatial_job")):
        path = folder / name
        if path.is_file():
            try:
                value = json.loads(path.read_text(encoding="utf-8")).get(key)
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(value, str):
                return value
    return None


def published_outputs(folder: Path) -> set[str]:
    """Return the relative paths a job wrote into ``folder`` (its manifest's ``outputs``).

    Parameters
    ----------
    folder : pathlib.Path
        A published folder.

    Returns
    -------
    set of str
        POSIX-style relative paths (empty without a readable manifest).
    """
    try:
        outputs = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("outputs", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(o) for o in outputs} | {MANIFEST, OWNER_MARKER, FAILURE_REPORT}


def _user_entries(folder: Path) -> list[Path]:
    """Files (and empty folders) in an owned folder that the job did not write."""
    ours = published_outputs(folder) | {MANIFEST, OWNER_MARKER, FAILURE_REPORT}
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith((_INSIDE_STAGING, _INSIDE_PREVIOUS)):
            continue  # a job's own staging inside a mount point
        if rel.split("/")[0] in _IN_PLACE:
            continue
        if (path.is_file() and rel not in ours) or (path.is_dir() and not any(path.iterdir())):
            found.append(path)
    return found


def _entries(folder: Path) -> list[Path]:
    """Entries of a folder that count for ownership (not the file system's, not our lock)."""
    return sorted(e for e in folder.iterdir() if e.name not in _IN_PLACE)


def check_target(target: Path, *, job: str, force: bool = False) -> list[Path]:
    """Check, before a job starts, that it may publish into ``target``.

    Parameters
    ----------
    target : pathlib.Path
        The output folder.
    job : str
        The job that will publish (``"refresh"``, ``"maps"``).
    force : bool, default False
        Take over a folder that holds files tqspatial did not write (they will be deleted).

    Returns
    -------
    list of pathlib.Path
        What ``force`` will delete (empty when nothing is taken over).

    Raises
    ------
    OutputError
        If ``target`` is a file, belongs to another job, or holds foreign files and ``force``
        is False; the message lists them and says how to proceed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "field_notes.docx").write_text("mine")
    ...     check_target(Path(d), job="refresh")
    Traceback (most recent call last):
    ...
    tqspatial.errors.OutputError: output folder ... holds files tqspatial did not write ...
    """
    if target.exists() and not target.is_dir():
        msg = (
            f"output {target} is a file, not a folder; give --out a folder (a new one is "
            "created) and keep the file"
        )
        raise OutputError(msg)
    if not target.is_dir() or not _entries(target):
        return []
    owner = read_owner(target)
    if owner == job:
        return []
    if owner is not None:
        msg = (
            f"output folder {target} holds the outputs of tqspatial {owner}, not of {job}; "
            f"give {job} its own folder (--out)"
        )
        raise OutputError(msg)
    entries = _entries(target)
    if force:
        logger.warning(
            "--force: taking over %s; deleting %s",
            target,
            ", ".join(e.name for e in entries),
        )
        return entries
    listed = ", ".join(e.name + ("/" if e.is_dir() else "") for e in entries[:MAX_LISTED])
    more = f" and {len(entries) - MAX_LISTED} more" if len(entries) > MAX_LISTED else ""
    msg = (
        f"output folder {target} holds files tqspatial did not write ({listed}{more}); "
        f"nothing was changed. Give --out a new or empty folder, or pass --force to replace "
        f"the folder's contents (this deletes: {listed}{more})"
    )
    raise OutputError(msg)


# --------------------------------------------------------------------------- locking


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False if another holder has it."""
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt  # noqa: PLC0415 - Windows only

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415 - POSIX only, imported when a lock is taken

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there; assume the holder is alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


@contextlib.contextmanager
def _soft_lock(lock_path: Path) -> Iterator[bool]:
    """Lock by exclusive creation, for platforms with neither flock nor msvcrt."""
    soft = lock_path.with_name(lock_path.name + ".held")
    for _ in range(2):
        try:
            fd = os.open(soft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                holder = int(soft.read_text(encoding="ascii").strip() or "0")
            except (OSError, ValueError):
                holder = 0
            if holder and _pid_alive(holder):
                yield False
                return
            soft.unlink(missing_ok=True)  # left by a killed job
            continue
        os.write(fd, str(os.getpid()).encode("ascii"))
        os.close(fd)
        try:
            yield True
        finally:
            soft.unlink(missing_ok=True)
        return
    yield False


def _holder(lock_path: Path) -> str:
    for path in (lock_path, lock_path.with_name(lock_path.name + ".held")):
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="ascii", errors="replace").strip()
            if text:
                return text
    return "unknown"


@contextlib.contextmanager
def output_lock(target: Path) -> Iterator[Path]:
    """Hold the lock for an output folder; recover from a killed run.

    Parameters
    ----------
    target : pathlib.Path
        The output folder (it need not exist yet; its parent is created).

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    OutputLockedError
        If another process holds the lock.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, output_lock(Path(d) / "out") as lock:
    ...     lock.name
    '.out.lock'
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = lock_file(target)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        soft: contextlib.AbstractContextManager[bool]
        try:
            soft = contextlib.nullcontext(enter_result=_try_lock(fd))
        except ImportError:  # neither fcntl nor msvcrt
            soft = _soft_lock(lock_path)
        with soft as held:
            if not held:
                msg = (
                    f"another tqspatial job (process {_holder(lock_path)}) is writing {target}; "
                    "wait for it to finish or choose another --out folder"
                )
                raise OutputLockedError(msg)
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode("ascii"))
            recover(target)
            yield lock_path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def recover(target: Path) -> None:
    """Restore outputs left aside by a run killed mid-swap; drop stale staging folders.

    Parameters
    ----------
    target : pathlib.Path
        The output folder (call with its lock held).
    """
    if target.is_dir() and os.path.ismount(target):
        _recover_contents(target)
        return
    for leftover in sorted(target.parent.glob(f".{target.name}.previous-*")):
        if not target.exists():
            logger.warning("restoring previous outputs from %s (a run was interrupted)", leftover)
            leftover.rename(target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}.staging-*"):
        logger.info("removing staging folder of an interrupted run: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)


# --------------------------------------------------------------------------- staging and swap


def staging_dir(target: Path) -> Path:
    """Create an empty staging folder on the target's file system.

    Parameters
    ----------
    target : pathlib.Path
        The output folder.

    Returns
    -------
    pathlib.Path
        ``.<name>.staging-<pid>`` next to ``target`` -- or inside it when ``target`` is a
        mount point (which cannot be renamed).
    """
    if target.is_dir() and os.path.ismount(target):
        staging = target / f"{_INSIDE_STAGING}{os.getpid()}"
    else:
        staging = _sibling(target, f"staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


_INSIDE_STAGING = ".tqspatial-staging-"
_INSIDE_PREVIOUS = ".tqspatial-previous-"


def _fsync_path(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. folders on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk (then ``root`` itself)."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


def link_or_copy(source: Path, dest: Path) -> None:
    """Hard-link ``source`` to ``dest`` (a copy across file systems); folders are created.

    Parameters
    ----------
    source : pathlib.Path
        A file or folder.
    dest : pathlib.Path
        Where it goes (parents are created).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        dest.mkdir(exist_ok=True)
        return
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _carry_user_files(target: Path, staging: Path) -> None:
    """Bring the files a user added to an owned folder into the new set."""
    for path in _user_entries(target):
        rel = path.relative_to(target)
        dest = staging / rel
        if dest.exists():
            keep = dest.with_name(f"{dest.stem}.user{dest.suffix}")
            logger.warning(
                "%s: a new output has the name of your file %s; yours is kept as %s",
                target,
                rel,
                keep.name,
            )
            dest = keep
        link_or_copy(path, dest)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}:
        return False
    raise OSError(err, os.strerror(err), str(b))


#: Entries of a mount point a contents swap leaves alone (the file system's own).
_FS_ENTRIES = frozenset({"lost+found"})

#: Entries a contents swap never moves: the file system's and the held lock.
_IN_PLACE = _FS_ENTRIES | {".tqspatial-lock"}

#: Journal files inside the aside folder of a contents swap.
_MOVING, _MOVED = ".moving-old-out", ".moved-new-in"


def _swap_contents(staging: Path, target: Path) -> None:
    """Replace the entries of a mount point with those of ``staging`` (inside it).

    Two phases, each recorded in the aside folder so that :func:`_recover_contents` can undo
    a swap killed at any step without deleting anything it has not accounted for: first the
    old entries move aside (journal ``.moving-old-out``), then the new ones move in
    (journal ``.moved-new-in`` listing them).
    """
    aside = target / f"{_INSIDE_PREVIOUS}{os.getpid()}"
    aside.mkdir()
    (aside / _MOVING).write_text("", encoding="utf-8")
    _fsync_path(aside)
    for entry in list(target.iterdir()):
        if entry.name.startswith((_INSIDE_STAGING, _INSIDE_PREVIOUS)) or entry.name in _IN_PLACE:
            continue
        entry.rename(aside / entry.name)
    _fsync_path(target)
    new = sorted(e.name for e in staging.iterdir())
    (aside / _MOVED).write_text("\n".join(new), encoding="utf-8")
    (aside / _MOVING).unlink()
    _fsync_path(aside)
    for name in new:
        (staging / name).rename(target / name)
    _fsync_path(target)
    _remove_quietly(aside)
    _remove_quietly(staging)


def _recover_contents(target: Path) -> None:
    """Undo a contents swap killed half-way: the old entries go back, nothing else is lost."""
    for aside in sorted(target.glob(f"{_INSIDE_PREVIOUS}*")):
        logger.warning("restoring previous outputs from %s (a run was interrupted)", aside)
        moved = aside / _MOVED
        if moved.exists():  # phase 2: every old entry is aside; remove the new ones moved in
            for name in moved.read_text(encoding="utf-8").splitlines():
                entry = target / name
                if name and entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                elif name and entry.exists():
                    entry.unlink()
            moved.unlink()
        (aside / _MOVING).unlink(missing_ok=True)
        for entry in list(aside.iterdir()):  # phase 1 or 2: put the old entries back
            if not (target / entry.name).exists():
                entry.rename(target / entry.name)
        _remove_quietly(aside)
    for stale in target.glob(f"{_INSIDE_STAGING}*"):
        shutil.rmtree(stale, ignore_errors=True)


def _remove_quietly(path: Path) -> None:
    """Remove a folder the job no longer needs; a failure is a warning, never a failed job."""
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        logger.warning("could not remove %s; delete it by hand (the outputs are complete)", path)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while a swap runs (POSIX); they arrive right after it."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = block(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


#: Folders this process published into (the command line says so when interrupted later).
PUBLISHED: list[Path] = []


def publish(staging: Path, target: Path, *, job: str = "refresh", take_over: bool = False) -> None:
    """Replace the outputs in ``target`` with ``staging`` in one step.

    Parameters
    ----------
    staging : pathlib.Path
        A complete set of outputs (from :func:`staging_dir`).
    target : pathlib.Path
        The published folder; created if missing.
    job : str, default "refresh"
        The job publishing; written into the owner marker.
    take_over : bool, default False
        The folder was not ours and the user passed ``--force``: its contents are replaced,
        not carried.

    Notes
    -----
    Call it while holding :func:`output_lock`, after :func:`check_target`.  Files a user
    added to an owned folder are carried into the new set.  On return ``staging`` no
    longer exists.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = Path(d) / "out"
    ...     for run in ("first", "second"):
    ...         staging = staging_dir(target)
    ...         _ = (staging / "result.txt").write_text(run)
    ...         publish(staging, target)
    ...     (target / "result.txt").read_text(), staging.exists(), read_owner(target)
    ('second', False, 'refresh')
    """
    (staging / OWNER_MARKER).write_text(_marker_text(job), encoding="utf-8")
    if target.is_dir() and not take_over:
        _carry_user_files(target, staging)
    _fsync_tree(staging)
    with _signals_held():
        _swap(staging, target)
        PUBLISHED.append(target)


def _swap(staging: Path, target: Path) -> None:
    if target.is_dir() and os.path.ismount(target):
        _swap_contents(staging, target)
        return
    if not target.exists():
        staging.rename(target)
        _fsync_path(target.parent)
        return
    if _exchange(staging, target):
        _fsync_path(target.parent)
        _remove_quietly(staging)
        return
    aside = _sibling(target, f"previous-{os.getpid()}")
    target.rename(aside)
    try:
        staging.rename(target)
    except OSError:
        aside.rename(target)  # put the previous set straight back
        raise
    _fsync_path(target.parent)
    _remove_quietly(aside)


#: OS errors that mean "the disk, not tqspatial": full, read-only, no permission, quota.
DISK_ERRORS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}
)


#: Less free space than this on the staging file system after a failed write means "disk full".
NEARLY_FULL_BYTES = 4 * 2**20


def _disk_problem(exc: BaseException, where: Path) -> str | None:
    """Say why a write failed when the disk is the cause (full, read-only ...), else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in DISK_ERRORS:
            return f"{seen.strerror} ({seen.filename or where})"
        seen = seen.__cause__ or seen.__context__
    probe = where if where.exists() else where.parent
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(probe).free
        if free < NEARLY_FULL_BYTES:
            return (
                f"No space left on device ({free / 2**20:.1f} MB free; {type(exc).__name__}: {exc})"
            )
    return None


@contextlib.contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder for ``target``; always remove it; name a full disk.

    Parameters
    ----------
    target : pathlib.Path
        The output folder (call with its lock held).

    Yields
    ------
    pathlib.Path
        The staging folder; write the outputs into it, then :func:`publish` it.

    Raises
    ------
    OutputError
        If writing fails because the disk is full, read-only or forbidden (the previous
        outputs are unchanged).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with staged(Path(d) / "out") as staging:
    ...         _ = (staging / "a.txt").write_text("x")
    ...         publish(staging, Path(d) / "out")
    ...     sorted(p.name for p in Path(d).iterdir())
    ['out']
    """
    staging = None
    try:
        staging = staging_dir(target)
        yield staging
    except TqspatialError:
        raise
    except Exception as exc:  # GDAL and pyarrow wrap a full disk in their own errors
        why = _disk_problem(exc, staging or target)
        if why is None:
            raise
        msg = (
            f"cannot write the outputs of {target}: {why}; the previous outputs are "
            "unchanged. Free some space or choose another --out"
        )
        raise OutputError(msg) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def write_beside(target: Path, name: str, text: str, *, job: str) -> Path:
    """Write one file into an owned folder outside a publish (e.g. a failure report).

    The file appears whole (written to a temporary name, then renamed); a folder that did not
    exist is created and marked as the job's.

    Parameters
    ----------
    target : pathlib.Path
        The output folder (call with its lock held).
    name : str
        File name.
    text : str
        UTF-8 content.
    job : str
        The job, for the owner marker of a new folder.

    Returns
    -------
    pathlib.Path
        The file.
    """
    target.mkdir(parents=True, exist_ok=True)
    marker = target / OWNER_MARKER
    if not marker.exists():
        marker.write_text(_marker_text(job), encoding="utf-8")
    path = target / name
    tmp = path.with_name(f".{name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)
    return path


def outputs_size(folder: Path) -> int:
    """Return the bytes of the outputs the last job listed in ``folder`` (not the user's files).

    Parameters
    ----------
    folder : pathlib.Path
        A published folder.

    Returns
    -------
    int
        Total size of the files its manifest lists (0 without a manifest).
    """
    total = 0
    for rel in published_outputs(folder):
        with contextlib.suppress(OSError):
            total += (folder / rel).stat().st_size
    return total
