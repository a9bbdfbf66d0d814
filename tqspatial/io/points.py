"""Points from CSV files with coordinate columns (UTF-8 or GBK, with or without BOM)."""

from __future__ import annotations

import logging
import os
import unicodedata
from io import StringIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from tqspatial import encoding as _enc
from tqspatial.crs import resolve_crs
from tqspatial.errors import ConfigError, DataFileError
from tqspatial.io.checks import _check_exists
from tqspatial.quality import note
from tqspatial.settings import get_settings
from tqspatial.validate import fold_key

__all__ = [
    "COORDINATE_COLUMNS",
    "read_points_csv",
]

logger = logging.getLogger(__name__)

#: Column pairs recognised as point coordinates in a CSV, best first (case-insensitive).
COORDINATE_COLUMNS = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("longitude", "latitude"),
    ("经度", "纬度"),
    ("x", "y"),
    ("x坐标", "y坐标"),
    ("东坐标", "北坐标"),
    ("point_x", "point_y"),
)


def _coordinate_columns(columns: list[str]) -> tuple[str, str] | None:
    folded = {fold_key(c): c for c in columns}
    for x, y in COORDINATE_COLUMNS:
        if x in folded and y in folded:
            return folded[x], folded[y]
    return None


def _coordinates(table: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Numeric coordinates; unparseable values become NaN (one log entry with their rows)."""
    raw = table[column]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    text = raw.astype("string").map(
        lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v
    )
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()).to_numpy()
    if bad.any():
        note(
            layer=what,
            stage="read",
            kind="value_missing",
            severity="warning",
            column=column,
            rows=np.flatnonzero(bad),
            values=raw.to_numpy(dtype=object)[bad],
            message=f"{column}: {{count}} values are not coordinates ({{values}}); those points "
            "have no geometry",
        )
    return values


def read_points_csv(
    path: str | os.PathLike[str],
    *,
    x: str | None = None,
    y: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    what: str = "points CSV",
) -> gpd.GeoDataFrame:
    """Read a CSV of points with coordinate columns (UTF-8 or GBK, with or without BOM).

    Parameters
    ----------
    path : str or os.PathLike
        CSV file.
    x, y : str, optional
        Coordinate columns; when None the first pair found of
        :data:`COORDINATE_COLUMNS` (``lon``/``lat``, ``经度``/``纬度``, ``x``/``y``
        ...), case-insensitive.
    source_crs : str, optional
        CRS of the coordinates (``"EPSG:4326"``, ``"gcj02"``, ``"bd09"``,
        ``"EPSG:4527"`` ...); inferred from the coordinates when None and
        unambiguous (see :func:`tqspatial.crs.resolve_crs`).
    encoding : str, optional
        Text encoding; detected when None (BOM, UTF-8, then GBK/GB18030).
    what : str, default "points CSV"
        What the file is, for messages and notes.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the working CRS, all columns kept; a row whose coordinates
        are not numbers keeps its attributes with no geometry (and a note).

    Raises
    ------
    DataFileError
        If the file is missing, empty, not parseable, or has no coordinate columns.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> anchors = read_points_csv(datasets.raw_path("tianqiao_anchors.csv"))
    >>> len(anchors) > 10, anchors.crs.to_epsg()
    (True, 4548)
    """
    path = Path(path)
    _check_exists(path, what)
    raw = path.read_bytes()
    guess = _enc.sniff_text_encoding(raw, encoding=encoding, source=f"{what}: {path}")
    try:
        table = pd.read_csv(StringIO(raw.decode(guess.encoding)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{what}: cannot read {path}: {exc}; check that it is a comma-separated text file"
        raise DataFileError(msg) from exc
    if x is None and y is None:
        found = _coordinate_columns([str(c) for c in table.columns])
        if found is None:
            msg = (
                f"{what}: {path} has no coordinate columns; columns are {list(table.columns)}, "
                f"expected a pair such as {COORDINATE_COLUMNS[:4]}. Pass x=... and y=..."
            )
            raise DataFileError(msg)
        x, y = found
    missing = [c for c in (x, y) if c is None or c not in table.columns]
    if missing:
        msg = (
            f"{what}: {path} has no column(s) {missing}; columns are {list(table.columns)}. "
            "Pass x=... and y=..."
        )
        raise DataFileError(msg)
    if x is None or y is None:  # both given by the caller or both found
        msg = f"{what}: pass both x=... and y=... for {path}"
        raise ConfigError(msg)
    note(
        layer=what,
        stage="read",
        kind="encoding",
        message=f"{path.name}: read as {guess.encoding} because {guess.reason}",
    )
    xs, ys = _coordinates(table, x, what), _coordinates(table, y, what)
    points = gpd.points_from_xy(xs, ys)
    points[(xs.isna() | ys.isna()).to_numpy()] = None
    frame = gpd.GeoDataFrame(table, geometry=points)
    logger.info("%s: read %d points from %s (x=%s, y=%s)", what, len(frame), path, x, y)
    return resolve_crs(
        frame,
        source_crs=source_crs,
        layer=what,
        source=path.name,
        working_crs=get_settings().working_crs,
    )
