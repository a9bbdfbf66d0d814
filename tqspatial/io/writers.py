"""Writers of tables and layers: GeoPackage, GeoParquet, GeoJSON, CSV, JSON, text and XLSX.

Every writer replaces an existing file and gives byte-identical files for
identical data (GeoPackage timestamps and XLSX zip times are pinned), so a
refresh on unchanged inputs publishes unchanged bytes.  Publishing a whole
output folder safely (staging, swap, ownership) is :mod:`tqspatial.publish`.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from tqspatial.structure import PlanStructure

__all__ = [
    "GPKG_TIMESTAMP",
    "write_csv",
    "write_geojson",
    "write_geoparquet",
    "write_json",
    "write_layers",
    "write_structure",
    "write_text",
    "write_xlsx",
]

logger = logging.getLogger(__name__)


def _prepare_target(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()


#: Timestamp GDAL writes into GeoPackage metadata: fixed, so that unchanged data gives
#: byte-identical files (the refresh manifest records when a run happened).
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"


def write_layers(path: str | os.PathLike[str], layers: Mapping[str, pd.DataFrame]) -> Path:
    """Write several layers into one new GeoPackage (an existing file is replaced).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.gpkg``.
    layers : mapping of str to DataFrame
        Layer name to (Geo)DataFrame; plain DataFrames become attribute tables.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_layers(Path(d) / "x.gpkg", {"pts": pts})
    ...     pyogrio.list_layers(out).tolist()
    [['pts', 'Point']]
    """
    path = Path(path)
    _prepare_target(path)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, frame in layers.items():
            table = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
            pyogrio.write_dataframe(table, path, layer=name, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def write_geojson(path: str | os.PathLike[str], frame: gpd.GeoDataFrame) -> Path:
    """Write a GeoJSON file (RFC 7946 readers assume lon/lat; the CRS is declared anyway).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    frame : geopandas.GeoDataFrame
        Layer to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options={"WRITE_NAME": "NO"})
    return path


def write_geoparquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a GeoParquet file (plain Parquet for a table without geometry).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.parquet``.
    frame : geopandas.GeoDataFrame or pandas.DataFrame
        Layer or table to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    frame.to_parquet(path, index=False)
    return path


def write_csv(path: str | os.PathLike[str], table: pd.DataFrame) -> Path:
    """Write a table as UTF-8 CSV with a byte-order mark (so Excel shows Chinese text).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.csv``.
    table : pandas.DataFrame
        Table to write; a geometry column is dropped.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    if isinstance(table, gpd.GeoDataFrame):
        table = pd.DataFrame(table.drop(columns=table.geometry.name))
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def write_json(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write a JSON document (UTF-8, sorted keys, Chinese text unescaped).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    payload : mapping
        JSON-serialisable content.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text (reports, Markdown) with Unix line endings.

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    text : str
        Content.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_structure(
    path: str | os.PathLike[str], structure: PlanStructure, *, layer: str = "structure"
) -> Path:
    """Write a plan structure so that :func:`tqspatial.io.read_structure` gives it back.

    Parameters
    ----------
    path : str or os.PathLike
        ``.gpkg`` or ``.geojson``.
    structure : PlanStructure
        The structure.
    layer : str, default "structure"
        Layer name in a GeoPackage.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from tqspatial import datasets
    >>> from tqspatial.io import read_structure
    >>> s = read_structure(datasets.raw_path("plan_structure.geojson"))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = read_structure(write_structure(Path(d) / "plan.gpkg", s))
    >>> back.elements.index.tolist() == s.elements.index.tolist()
    True
    """
    path = Path(path)
    frame = structure.to_frame()
    if path.suffix.lower() == ".gpkg":
        return write_layers(path, {layer: frame})
    return write_geojson(path, frame)


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame],
    *,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Write tables as one XLSX workbook, byte-identical for identical tables.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.xlsx``.
    sheets : mapping of str to pandas.DataFrame
        Sheet name (Excel allows at most 31 characters) to table; geometry
        columns are dropped.
    headers : mapping of str to str, optional
        Column name to the header shown (e.g. Chinese labels for planners);
        columns not in it keep their names.

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    Written with XlsxWriter, whose zip entries carry a fixed date (in-memory
    mode); the document's creation date is pinned too, so a re-run on
    unchanged inputs gives the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> table = pd.DataFrame({"cluster_id": ["a"], "land_area_ha": [1.5]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     headers = {"land_area_ha": "用地面积(公顷)"}
    ...     p = write_xlsx(Path(d) / "t.xlsx", {"汇总": table}, headers=headers)
    ...     pd.read_excel(p, sheet_name="汇总").columns.tolist()
    ['cluster_id', '用地面积(公顷)']
    """
    path = Path(path)
    _prepare_target(path)
    labels = dict(headers or {})
    with pd.ExcelWriter(
        path, engine="xlsxwriter", engine_kwargs={"options": {"in_memory": True}}
    ) as writer:
        writer.book.set_properties({"created": _FIXED_CREATED})
        for name, table in sheets.items():
            frame = pd.DataFrame(table)
            if isinstance(table, gpd.GeoDataFrame):
                frame = pd.DataFrame(table.drop(columns=table.geometry.name))
            frame = frame.rename(columns=lambda c: labels.get(str(c), str(c)))
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for idx, column in enumerate(frame.columns):
                width = max([len(str(column)) * 2, *(len(str(v)) for v in frame[column].head(200))])
                sheet.set_column(idx, idx, min(max(width + 2, 8), 60))
            sheet.freeze_panes(1, 0)
    return path


#: The document date written into every workbook (reproducible bytes).
_FIXED_CREATED = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
