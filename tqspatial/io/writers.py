"""Writers of tables and layers: GeoPackage, GeoParquet, GeoJSON, CSV, JSON, text and XLSX.

Every writer replaces an existing file and gives byte-identical files for
identical data (GeoPackage timestamps and XLSX zip times are pinned), so a
refresh on unchanged inputs publishes unchanged bytes.  Publishing a whole
output folder safely (staging, swap, ownership) is :mod:`tqspatial.publish`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from tqspatial.structure import PlanStructure
from tqspatial.vocabulary import value_kind, zh_table

__all__ = [
    "GPKG_TIMESTAMP",
    "MAX_COLUMN_WIDTH",
    "NUMBER_FORMATS",
    "Sheet",
    "text_width",
    "write_csv",
    "write_geojson",
    "write_geoparquet",
    "write_json",
    "write_layers",
    "write_structure",
    "write_text",
    "write_xlsx",
    "zh_sheet",
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


#: Excel number format of each kind of value (:data:`tqspatial.vocabulary.VALUE_KINDS`).
NUMBER_FORMATS: dict[str, str] = {
    "ha": "#,##0.00",
    "m2": "#,##0",
    "count": "#,##0",
    "share": "0.0%",
    "minutes": "0.0",
    "ratio": "0.00",
    "year": "0",
    "number": "#,##0.00",
}

#: Widest column (in half-width characters); longer text wraps.
MAX_COLUMN_WIDTH = 60
_MIN_COLUMN_WIDTH = 6
_WIDTH_SAMPLE = 2000  # rows measured for the column width


@dataclasses.dataclass(frozen=True)
class Sheet:
    """A table with the kind of number of each column, for :func:`write_xlsx`.

    Attributes
    ----------
    table : pandas.DataFrame
        The rows, with the headers shown.
    formats : mapping of str to str or sequence of str
        Column -> kind of value (a key of :data:`NUMBER_FORMATS`), or one kind
        per row for columns whose unit varies by row (e.g. a measure column of
        minutes and shares).  Numeric columns not listed get the kind
        :func:`tqspatial.vocabulary.value_kind` gives their name, else ``count``
        (integers) or ``number``.
    """

    table: pd.DataFrame
    formats: Mapping[str, str | Sequence[str]] = dataclasses.field(default_factory=dict)


def zh_sheet(
    table: pd.DataFrame,
    *,
    element_names: Mapping[str, str] | None = None,
    value_names: Mapping[str, Mapping[str, str]] | None = None,
    by_row: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
) -> Sheet:
    """Return a sheet for Chinese readers: translated by :func:`~tqspatial.vocabulary.zh_table`.

    The kind of number of each column comes from its internal name
    (:func:`~tqspatial.vocabulary.value_kind`) before the headers are translated.

    Parameters
    ----------
    table : pandas.DataFrame
        A table with internal column names.
    element_names : mapping of str to str, optional
        Plan element id to Chinese name.
    value_names : mapping of str to mapping, optional
        Column -> (value -> Chinese name) for values only the caller can name.
    by_row : mapping of str to str, optional
        Column -> column whose values (measure names) give each row's kind,
        e.g. ``{"mean": "measure"}`` where a measure is minutes on one row and
        a share on another.
    formats : mapping of str to str, optional
        Column -> kind, for columns whose names do not say it.

    Returns
    -------
    Sheet
        The translated table and the kind of each numeric column (by header).

    Examples
    --------
    >>> t = pd.DataFrame({"measure": ["walk_park_min", "lc_5min_covered"], "mean": [7.5, 0.4]})
    >>> sheet = zh_sheet(t, by_row={"mean": "measure"})
    >>> sheet.table.columns.tolist(), sheet.formats["平均值"]
    (['指标', '平均值'], ['minutes', 'share'])
    """
    translated = zh_table(table, element_names=element_names, value_names=value_names)
    kept = [c for c in table.columns if str(c) != "name_zh" or "cluster_id" not in table.columns]
    if len(kept) != len(translated.columns):  # pragma: no cover - zh_table keeps the rest
        msg = f"zh_table changed the columns {kept} -> {list(translated.columns)}"
        raise ValueError(msg)
    header = dict(zip(kept, translated.columns, strict=True))
    kinds: dict[str, str | Sequence[str]] = {}
    for column in kept:
        given = (formats or {}).get(str(column)) or value_kind(str(column))
        if given is not None:
            kinds[str(header[column])] = given
    for column, key in (by_row or {}).items():
        if column in header:
            per_row = [value_kind(str(v)) or "number" for v in table[key].astype(str)]
            kinds[str(header[column])] = per_row
    return Sheet(translated, kinds)


def text_width(text: str) -> int:
    """Return the width of a text in half-width characters (CJK characters count 2).

    Parameters
    ----------
    text : str
        The text.

    Returns
    -------
    int
        Its width as a spreadsheet column would need it.

    Examples
    --------
    >>> text_width("净供给面积（公顷）"), text_width("ha 2.5")
    (18, 6)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _shown(value: float, kind: str) -> str:
    """Return the number as Excel shows it in ``kind``'s format (for the column width)."""
    if kind == "share":
        return f"{value * 100:.1f}%"
    digits = {"ha": 2, "minutes": 1, "ratio": 2, "number": 2}.get(kind, 0)
    separator = "" if kind in ("year", "minutes", "ratio") else ","
    return f"{value:{separator}.{digits}f}"


def _cell_kinds(frame: pd.DataFrame, column: str, given: str | Sequence[str] | None) -> list[str]:
    n = len(frame)
    if isinstance(given, str):
        return [given] * n
    if given is not None:
        kinds = list(given)
        if len(kinds) != n:
            msg = f"formats[{column!r}] has {len(kinds)} kinds for {n} rows; give one per row"
            raise ValueError(msg)
        return kinds
    values = frame[column]
    kind = value_kind(column)
    if kind is None:
        if pd.api.types.is_bool_dtype(values.dtype):
            kind = ""
        elif pd.api.types.is_integer_dtype(values.dtype):
            kind = "count"
        else:
            kind = "number"
    return [kind] * n


def _write_numbers(
    ws: Any,  # noqa: ANN401 - xlsxwriter worksheet
    col: int,
    series: pd.Series,
    kinds: list[str],
    style: Callable[[str], Any],
) -> int:
    """Write a numeric column (NaN left blank, infinities as ∞); return its width."""
    numbers = series.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(numbers)
    for row in np.flatnonzero(finite).tolist():
        ws.write_number(row + 1, col, float(numbers[row]), style(kinds[row]))
    for row in np.flatnonzero(np.isinf(numbers)).tolist():
        ws.write_string(row + 1, col, "∞" if numbers[row] > 0 else "-∞")
    if not finite.any():
        return 0
    # the widest numbers shown are the extremes (and the longest decimals of each kind)
    sample = np.flatnonzero(finite)
    ends = {int(sample[np.argmax(numbers[sample])]), int(sample[np.argmin(numbers[sample])])}
    return max(len(_shown(float(numbers[i]), k)) for i in ends for k in set(kinds))


def _write_objects(
    ws: Any,  # noqa: ANN401 - xlsxwriter worksheet
    col: int,
    series: pd.Series,
    kinds: list[str],
    style: Callable[..., Any],
) -> int:
    """Write a column of text, booleans and mixed values; return its width."""
    values = series.astype(object).to_numpy()
    texts = [v for v in values[:_WIDTH_SAMPLE] if isinstance(v, str)]
    wrap = bool(texts) and max(text_width(t) for t in texts) > MAX_COLUMN_WIDTH
    width = 0
    for row, (value, kind) in enumerate(zip(values, kinds, strict=True), start=1):
        if value is None or value is pd.NA or value is pd.NaT:
            continue
        if isinstance(value, bool | np.bool_):
            ws.write_boolean(row, col, bool(value))
            width = max(width, 5)
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            if math.isnan(number):
                continue
            if math.isinf(number):
                ws.write_string(row, col, "∞" if number > 0 else "-∞")
                continue
            ws.write_number(row, col, number, style(kind))
            if row <= _WIDTH_SAMPLE:
                width = max(width, len(_shown(number, kind)))
        else:
            text = str(value)
            ws.write_string(row, col, text, style("", wrap=wrap))
            if row <= _WIDTH_SAMPLE:
                width = max(width, text_width(text))
    return width


def _write_sheet(book: Any, name: str, sheet: Sheet) -> None:  # noqa: ANN401 - xlsxwriter
    """Write one table cell by cell: number formats, frozen header, filter, fitted widths."""
    frame = sheet.table
    ws = book.add_worksheet(name)
    header = book.add_format({"bold": True, "valign": "top", "bottom": 1, "bg_color": "#F2F2F2"})
    styles: dict[tuple[str, bool], Any] = {}

    def style(kind: str, *, wrap: bool = False) -> Any:  # noqa: ANN401 - xlsxwriter format
        key = (kind, wrap)
        if key not in styles:
            spec: dict[str, object] = {"valign": "top"}
            if kind in NUMBER_FORMATS:
                spec["num_format"] = NUMBER_FORMATS[kind]
            if wrap:
                spec["text_wrap"] = True
            styles[key] = book.add_format(spec)
        return styles[key]

    for col, column in enumerate(frame.columns):
        label = str(column)
        ws.write_string(0, col, label, header)
        kinds = _cell_kinds(frame, column, sheet.formats.get(label))
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype
        ):
            width = max(text_width(label), _write_numbers(ws, col, series, kinds, style))
        else:
            width = max(text_width(label), _write_objects(ws, col, series, kinds, style))
        ws.set_column(col, col, min(max(width + 2, _MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH))
    ws.freeze_panes(1, 0)
    if len(frame.columns):
        ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame | Sheet],
    *,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Write tables as one XLSX workbook, byte-identical for identical tables.

    Every number carries a number format for its kind (:data:`NUMBER_FORMATS`:
    hectares to 0.01, square metres and counts as integers with thousands
    separators, shares as percentages, minutes to 0.1); the stored values are
    not rounded.  The header row is frozen and filtered, column widths fit the
    text (CJK characters count two), and longer text wraps.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.xlsx``.
    sheets : mapping of str to pandas.DataFrame or Sheet
        Sheet name (Excel allows at most 31 characters) to table; geometry
        columns are dropped.  A :class:`Sheet` gives the kind of number of
        columns whose names do not say it (e.g. Chinese headers).
    headers : mapping of str to str, optional
        Column name to the header shown (e.g. Chinese labels for planners);
        columns not in it keep their names.  ``Sheet.formats`` may name a
        column by its name or by its header.

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
            sheet = table if isinstance(table, Sheet) else Sheet(table)
            frame = sheet.table
            if isinstance(frame, gpd.GeoDataFrame):
                frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            kinds = {labels.get(str(c), str(c)): k for c, k in sheet.formats.items()}
            for column in frame.columns:  # named columns keep the kind their name says
                kind = value_kind(str(column))
                if kind is not None and str(column) in labels:
                    kinds.setdefault(labels[str(column)], kind)
            frame = pd.DataFrame(frame).rename(columns=lambda c: labels.get(str(c), str(c)))
            _write_sheet(writer.book, name[:31], Sheet(frame, kinds))
    return path


#: The document date written into every workbook (reproducible bytes).
_FIXED_CREATED = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
