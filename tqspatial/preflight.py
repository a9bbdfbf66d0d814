"""Checks a batch job runs before any heavy work: whether it can publish where it was told.

:func:`check_output` looks at the output location once, in well under a second, and raises an
:class:`~tqspatial.errors.OutputError` (exit code 2, one line, no traceback) for everything a
user or the machine can get wrong there, so that a long run never ends in a failure it could
have known about at the start:

* ``--out`` is a file, or a folder holding files tqspatial did not write (they are listed;
  ``--force`` takes the folder over), or another job's folder;
* the place the staging folder goes is not writable (read-only file system, no permission);
* the target is a mount point (it cannot be renamed): the job then swaps the folder's
  *contents* instead, and says so;
* the file system has less free space than the last run's outputs took (the new set is
  written beside the old one before the swap).

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     plan = check_output(Path(d) / "out", job="refresh")
...     plan.take_over, plan.swap_contents
(False, False)
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path

from tqspatial.errors import OutputError
from tqspatial.publish import check_target, outputs_size

__all__ = ["SPACE_MARGIN", "OutputPlan", "check_output"]

logger = logging.getLogger(__name__)

#: Free space wanted, as a multiple of the last run's output size.
SPACE_MARGIN = 1.2

_WRITE_ERRORS = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}


@dataclasses.dataclass(frozen=True)
class OutputPlan:
    """How a job will publish into its output folder.

    Attributes
    ----------
    target : pathlib.Path
        The output folder.
    take_over : bool
        ``--force`` on a folder tqspatial did not write: its contents are replaced.
    swap_contents : bool
        The target is a mount point: entries are swapped inside it, not the folder itself.
    expected_bytes : int
        Size of the last run's outputs (0 when there was none).
    """

    target: Path
    take_over: bool
    swap_contents: bool
    expected_bytes: int


def _staging_parent(target: Path) -> Path:
    return target if target.is_dir() and os.path.ismount(target) else target.parent


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def _check_writable(folder: Path, *, dry_run: bool) -> None:
    probe_dir = _existing_ancestor(folder)
    if dry_run:  # look, do not touch
        statvfs = getattr(os, "statvfs", None)  # POSIX only
        read_only = bool(statvfs and getattr(os, "ST_RDONLY", 0) & statvfs(probe_dir).f_flag)
        if read_only or not os.access(probe_dir, os.W_OK):
            why = "read-only file system" if read_only else "permission denied"
            msg = f"cannot write in {probe_dir} ({why}); the refresh would stop here"
            raise OutputError(msg)
        return
    try:
        fd, name = tempfile.mkstemp(prefix=".tqspatial-probe-", dir=probe_dir)
    except OSError as exc:
        why = _WRITE_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        msg = (
            f"cannot write in {probe_dir} ({why}); the outputs of {folder} need a writable "
            "folder: choose another --out or fix the permissions/mount"
        )
        raise OutputError(msg) from None
    os.close(fd)
    Path(name).unlink()


def check_output(
    target: Path, *, job: str, force: bool = False, dry_run: bool = False
) -> OutputPlan:
    """Check that a job can publish into ``target``, before it reads anything.

    Parameters
    ----------
    target : pathlib.Path
        The output folder.
    job : str
        The job (``"refresh"``, ``"maps"``).
    force : bool, default False
        Take over a folder that holds files tqspatial did not write.
    dry_run : bool, default False
        Check without writing anything (no probe file): ownership, read-only flags,
        permissions, free space.

    Returns
    -------
    OutputPlan
        How the job will publish.

    Raises
    ------
    OutputError
        If the target is a file, a foreign or another job's folder (without ``force``), not
        writable, or on a file system without room for the outputs.
    """
    taken = check_target(target, job=job, force=force)
    parent = _staging_parent(target)
    _check_writable(parent, dry_run=dry_run)
    swap_contents = target.is_dir() and os.path.ismount(target)
    if swap_contents:
        logger.info(
            "%s is a mount point: the outputs are swapped inside it, entry by entry", target
        )
    expected = outputs_size(target) if not taken else 0
    free = shutil.disk_usage(_existing_ancestor(parent)).free
    if expected and free < SPACE_MARGIN * expected:
        msg = (
            f"not enough free space for the outputs of {target}: the last run wrote "
            f"{expected / 1e6:.1f} MB and the new set is written beside it before the swap, "
            f"but only {free / 1e6:.1f} MB are free; free some space or choose another --out"
        )
        raise OutputError(msg)
    return OutputPlan(
        target=target,
        take_over=bool(taken),
        swap_contents=swap_contents,
        expected_bytes=expected,
    )
