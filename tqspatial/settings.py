"""Run-wide settings: a frozen dataclass changed only in a checked ``with`` block.

Analysis modules never read these settings; they take arguments.  The
pipeline, the readers and the command line read them and pass values down.

Examples
--------
>>> from tqspatial import settings
>>> settings.get_settings().working_crs
'EPSG:4548'
>>> with settings.override(working_crs="EPSG:4527"):
...     settings.get_settings().working_crs
'EPSG:4527'
>>> settings.get_settings().working_crs
'EPSG:4548'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqspatial.errors import ConfigError

__all__ = ["Settings", "get_settings", "override"]

#: CGCS2000 / 3-degree Gauss-Krueger CM 117E, metres, no zone prefix in the easting.
WORKING_CRS = "EPSG:4548"


def _default_data_dir() -> Path:
    """Return ``data`` relative to the working directory (resolved when outputs are written).

    The embedded input dataset is package data (:func:`tqspatial.datasets.raw_dir`),
    so nothing here depends on where or how the package is installed.
    """
    return Path("data")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Settings shared by the readers, the pipeline and the command line.

    Attributes
    ----------
    working_crs : str
        CRS every reader returns and every area is computed in.  The default
        ``EPSG:4548`` (CGCS2000 3-degree Gauss-Krueger, central meridian 117E)
        is the zone of Tianqiao; ``EPSG:4527`` is the same zone with the zone
        number ``39`` prefixed to eastings.
    data_dir : pathlib.Path
        Folder holding the default output folders ``processed/`` (refresh)
        and ``maps/``; default ``data`` in the working directory.
    """

    working_crs: str = WORKING_CRS
    data_dir: Path = dataclasses.field(default_factory=_default_data_dir)


_current = Settings()


def get_settings() -> Settings:
    """Return the settings in force.

    Returns
    -------
    Settings
        The current, immutable settings.

    Examples
    --------
    >>> get_settings().data_dir.name
    'data'
    """
    return _current


@contextmanager
def override(**changes: Any) -> Iterator[Settings]:  # noqa: ANN401 - values are checked below
    """Change settings inside a ``with`` block and restore them afterwards.

    Parameters
    ----------
    **changes
        Field names of :class:`Settings` and their new values.

    Yields
    ------
    Settings
        The settings in force inside the block.

    Raises
    ------
    ConfigError
        If a name is not a field of :class:`Settings`; the message lists the
        valid names.

    Examples
    --------
    >>> try:
    ...     with override(colour="red"):
    ...         pass
    ... except ValueError as exc:
    ...     print(exc)
    unknown setting(s) ['colour']; valid settings are ['data_dir', 'working_crs']
    """
    global _current  # noqa: PLW0603 - the module-level value is the point of this function
    valid = sorted(f.name for f in dataclasses.fields(Settings))
    unknown = sorted(set(changes) - set(valid))
    if unknown:
        msg = f"unknown setting(s) {unknown}; valid settings are {valid}"
        raise ConfigError(msg)
    if "data_dir" in changes:
        changes["data_dir"] = Path(changes["data_dir"])
    previous = _current
    _current = dataclasses.replace(previous, **changes)
    try:
        yield _current
    finally:
        _current = previous
