"""Optional dependencies: import them when a feature needs them, or say which extra to install.

The core (reading, validation, assignment, supply, accessibility, static maps) needs only the
packages in ``install_requires``.  Features with heavier or platform-specific packages live in
extras: ``[fast]`` (numba kernels), ``[dask]`` (the partitioned engine), ``[postgis]``
(``refresh --to``), ``[web]`` (the HTML map), ``[pbf]`` (OSM PBF road networks), ``[fonts]``
(a CJK font from PyPI), ``[all]`` (everything).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from tqspatial.errors import MissingDependencyError

__all__ = ["EXTRAS", "require"]

#: Import name -> (extra, PyPI name).
EXTRAS: dict[str, tuple[str, str]] = {
    "numba": ("fast", "numba"),
    "distributed": ("dask", "distributed"),
    "dask_geopandas": ("dask", "dask-geopandas"),
    "psycopg": ("postgis", "psycopg[binary]"),
    "folium": ("web", "folium"),
    "osmium": ("pbf", "osmium"),
    "noto_cjk_sans_otc": ("fonts", "noto-cjk-sans-otc"),
}


def require(module: str, *, feature: str) -> ModuleType:
    """Import an optional module, or raise an error that names the extra to install.

    Parameters
    ----------
    module : str
        Import name, a key of :data:`EXTRAS`.
    feature : str
        What needs it, for the message (e.g. ``"refresh --to"``).

    Returns
    -------
    types.ModuleType
        The module.

    Raises
    ------
    MissingDependencyError
        If it is not installed: ``pip install 'tqspatial[<extra>]'``.

    Examples
    --------
    >>> require("numba", feature="the fast kernels").__name__
    'numba'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, package = EXTRAS.get(module, ("all", module))
        msg = (
            f"{feature} needs the optional package {package!r}, which is not installed; "
            f"install it with: pip install 'tqspatial[{extra}]' (or 'tqspatial[all]')"
        )
        raise MissingDependencyError(msg) from exc
