"""Publishing a set of output files: a lock, a staging folder and an atomic swap.

A refresh writes every output into a staging folder next to the target
(``.processed.staging-<pid>``) and then *exchanges* the two folders in one
``renameat2(RENAME_EXCHANGE)`` system call, so a reader -- or a job killed at
any moment -- sees either the complete previous set of outputs or the
complete new one, never a mix and never a half-written file.  Where the
exchange is not supported (not Linux, or a file system without it) the swap
falls back to two renames; a run killed between them leaves the previous
outputs in ``.processed.previous-<pid>``, which the next run restores before
doing anything else.

A lock file beside the target (``.processed.lock``, held with ``flock``)
stops two refreshes from writing the same folder at once; the second fails
at once with :class:`OutputLockedError` naming the holder's process id.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqspatial.errors import TqspatialError

__all__ = ["OutputLockedError", "output_lock", "publish", "staging_dir"]

logger = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputLockedError(TqspatialError, RuntimeError):
    """Another refresh is writing the same output folder."""


def _sibling(target: Path, tag: str) -> Path:
    return target.parent / f".{target.name}.{tag}"


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
    lock_path = _sibling(target, "lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            msg = (
                f"another refresh (process {holder}) is writing {target}; "
                "wait for it to finish or choose another --out folder"
            )
            raise OutputLockedError(msg) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        _recover(target)
        yield lock_path
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _recover(target: Path) -> None:
    """Restore outputs left aside by a run killed mid-swap; drop stale staging folders."""
    for leftover in sorted(target.parent.glob(f".{target.name}.previous-*")):
        if not target.exists():
            logger.warning("restoring previous outputs from %s (a run was interrupted)", leftover)
            leftover.rename(target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}.staging-*"):
        logger.info("removing staging folder of an interrupted run: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)


def staging_dir(target: Path) -> Path:
    """Create an empty staging folder beside ``target`` (same file system).

    Parameters
    ----------
    target : pathlib.Path
        The output folder.

    Returns
    -------
    pathlib.Path
        ``.<name>.staging-<pid>`` next to ``target``.
    """
    staging = _sibling(target, f"staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}:
        return False
    raise OSError(err, os.strerror(err), str(b))


def publish(staging: Path, target: Path, *, carry: Iterable[str] = ("README.md",)) -> None:
    """Replace the contents of ``target`` with ``staging`` in one step.

    Parameters
    ----------
    staging : pathlib.Path
        A complete set of outputs (from :func:`staging_dir`).
    target : pathlib.Path
        The published folder; created if missing.
    carry : iterable of str, default ("README.md",)
        Files of the old folder that are not outputs and are kept.

    Notes
    -----
    Call it while holding :func:`output_lock`.  On return ``staging`` no
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
    ...     (target / "result.txt").read_text(), staging.exists()
    ('second', False)
    """
    for name in carry:
        old = target / name
        if old.is_file() and not (staging / name).exists():
            shutil.copy2(old, staging / name)
    if not target.exists():
        staging.rename(target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging)
        return
    aside = _sibling(target, f"previous-{os.getpid()}")
    target.rename(aside)
    staging.rename(target)
    shutil.rmtree(aside)
