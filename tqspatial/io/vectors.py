"""Vector readers: districts, parcels, facilities, plan structures and any vector layer.

Every reader returns its layer in the working CRS
(``tqspatial.settings.get_settings().working_crs``, via
:func:`tqspatial.crs.resolve_crs`), after :func:`tqspatial.io.checks.check_vector_file`
has checked the file.  pyogrio reads through Arrow; ``bbox``, ``columns`` and
``where`` are passed on to it.  :func:`read_parcels` maps Chinese and pinyin
field names (:mod:`tqspatial.fields`).  What a reader assumed is recorded in
the quality log (:func:`tqspatial.quality.note`, stages ``"read"``, ``"crs"``,
``"fields"``); what it changed in a row (a ring closed while reading) is said
in that row's ``repair`` column too.  Given the district ``boundary``, the
readers also check that the layer lies in it (a wrong ``.prj`` stops with a
:class:`~tqspatial.errors.CRSError` naming the CRS the data fit) and is not
shifted like web-map coordinates (:mod:`tqspatial.crs`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from tqspatial import fields as _fields
from tqspatial.crs import check_crs_fit, check_webmap_offset, resolve_crs
from tqspatial.errors import ConfigError, DataFileError
from tqspatial.io.checks import _BYTES_AS_TEXT, _record_notes, check_vector_file
from tqspatial.quality import note
from tqspatial.settings import get_settings
from tqspatial.structure import PlanStructure

__all__ = [
    "RING_CLOSED",
    "mark_rings_closed",
    "read_districts",
    "read_facilities",
    "read_parcels",
    "read_structure",
    "read_vector",
    "recode_text",
    "wkb_to_geometries",
]

logger = logging.getLogger(__name__)


#: Bounds ``(minx, miny, maxx, maxy)`` in the file's CRS.
Bounds: TypeAlias = tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True)
class _Subset:
    """What part of a layer to read: pushed down to GDAL (or pyarrow for GeoParquet)."""

    bbox: Bounds | None = None
    columns: tuple[str, ...] | None = None
    where: str | None = None

    def options(self) -> dict[str, Any]:
        return {
            "bbox": self.bbox,
            "columns": list(self.columns) if self.columns is not None else None,
            "where": self.where,
        }


def _subset(
    bbox: Bounds | None, columns: Sequence[str] | None, where: str | None, what: str
) -> _Subset:
    if bbox is not None:
        try:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
        except (TypeError, ValueError):
            minx, miny, maxx, maxy = (1.0, 1.0, 0.0, 0.0)  # refused below
        if not (minx <= maxx and miny <= maxy):
            msg = (
                f"{what}: bbox={bbox!r} is not (minx, miny, maxx, maxy) with min <= max; pass "
                "four numbers in the file's CRS"
            )
            raise ConfigError(msg)
        bbox = (minx, miny, maxx, maxy)
    if isinstance(columns, str):
        msg = f"{what}: columns={columns!r} must be a list of field names, not one string"
        raise ConfigError(msg)
    return _Subset(bbox, tuple(columns) if columns is not None else None, where)


def _check_columns(source: str, layer: str | None, subset: _Subset, path: Path, what: str) -> None:
    """Refuse requested columns the layer lacks (GDAL would silently leave them out)."""
    if subset.columns is None:
        return
    fields = [str(f) for f in pyogrio.read_info(source, layer=layer)["fields"]]
    _refuse_missing(subset.columns, fields, path, what)


def _refuse_missing(wanted: Sequence[str], fields: Sequence[str], path: Path, what: str) -> None:
    missing = [c for c in wanted if c not in fields]
    if missing:
        msg = f"{what}: {path.name} has no field(s) {missing}; its fields are {list(fields)}"
        raise ConfigError(msg)


def _keep_columns(
    frame: gpd.GeoDataFrame, subset: _Subset, path: Path, what: str
) -> gpd.GeoDataFrame:
    """Keep the requested columns and the geometry of a frame read whole."""
    if subset.columns is None:
        return frame
    _refuse_missing(subset.columns, [str(c) for c in frame.columns], path, what)
    return gpd.GeoDataFrame(frame[[*subset.columns, frame.geometry.name]])


def _gdal_read(
    source: str | Path,
    path: Path,
    *,
    layer: str | None,
    gdal_encoding: str | None,
    what: str,
    subset: _Subset,
) -> tuple[gpd.GeoDataFrame, list[str], npt.NDArray[np.intp]]:
    """Read with pyogrio through Arrow; GDAL errors become DataFileError.

    Returns the frame, GDAL's warnings and the positions of features whose
    rings GEOS could not build as stored (e.g. not closed) and that were
    fixed (closed) while reading.
    """
    fixed = np.empty(0, dtype=np.intp)
    options = subset.options()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(
                source, layer=layer, encoding=gdal_encoding, use_arrow=True, **options
            )
        except shapely.errors.GEOSException:
            # Rings GEOS cannot even build (e.g. unclosed): close them, say which, validate later.
            frame = pyogrio.read_dataframe(
                source,
                layer=layer,
                encoding=gdal_encoding,
                use_arrow=True,
                on_invalid="fix",
                **options,
            )
            _, _, wkb, _ = pyogrio.raw.read(
                source,
                layer=layer,
                encoding=gdal_encoding,
                **{**options, "columns": []},
            )
            _, fixed = wkb_to_geometries(wkb)
        except (RuntimeError, OSError, ValueError) as exc:
            if subset.where is not None:
                msg = (
                    f"{what}: cannot read {path} with where={subset.where!r}: {exc}. Check the "
                    "clause (an OGR SQL condition on the file's field names)"
                )
                raise ConfigError(msg) from exc
            msg = (
                f"{what}: cannot read {path}: {exc}. The file is damaged, truncated or not a "
                "vector format GDAL knows; export or download it again"
            )
            raise DataFileError(msg) from exc
    return frame, [str(w.message) for w in caught], fixed


def _read_geoparquet(path: Path, subset: _Subset, what: str) -> gpd.GeoDataFrame:
    """Read GeoParquet with pyarrow, then keep the columns and the features in the bbox."""
    if subset.where is not None:
        msg = (
            f"{what}: where= needs GDAL's SQL, but {path.name} is GeoParquet (read by pyarrow); "
            "drop where= and filter the frame after reading"
        )
        raise ConfigError(msg)
    try:
        frame = gpd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow format errors
        msg = f"{what}: cannot read {path}: {exc}; the file is damaged or not GeoParquet"
        raise DataFileError(msg) from exc
    frame = _keep_columns(frame, subset, path, what)
    if subset.bbox is not None:
        hits = np.sort(frame.sindex.query(shapely.box(*subset.bbox), predicate="intersects"))
        frame = frame.iloc[hits]
    return frame


def wkb_to_geometries(
    wkb: npt.ArrayLike,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.intp]]:
    """Build geometries from WKB, closing rings that GEOS cannot build as stored.

    Parameters
    ----------
    wkb : array_like of bytes
        Well-known binary per feature (None for no geometry).

    Returns
    -------
    geometries : numpy.ndarray of object
        Shapely geometries (None where there is none).
    fixed : numpy.ndarray of int
        Positions of the geometries that had to be fixed (rings closed).

    Examples
    --------
    >>> import struct
    >>> ring = [(0, 0), (1, 0), (1, 1), (0, 1)]  # not closed
    >>> wkb = struct.pack("<BIII", 1, 3, 1, 4) + b"".join(struct.pack("<2d", *p) for p in ring)
    >>> geoms, fixed = wkb_to_geometries([wkb, None])
    >>> float(geoms[0].area), fixed.tolist()
    (1.0, [0])
    """
    raw = np.asarray(wkb, dtype=object)
    try:
        return np.asarray(shapely.from_wkb(raw), dtype=object), np.empty(0, dtype=np.intp)
    except shapely.errors.GEOSException:
        strict = shapely.from_wkb(raw, on_invalid="ignore")
        fixed = np.flatnonzero(~pd.isna(raw) & shapely.is_missing(strict))
        return np.asarray(shapely.from_wkb(raw, on_invalid="fix"), dtype=object), fixed


def recode_text(frame: gpd.GeoDataFrame, codec: str) -> gpd.GeoDataFrame:
    """Decode field names and text values read as Latin-1 bytes in their real encoding.

    Used when GDAL cannot decode a ``.dbf`` itself (field names cut
    mid-character): it reads the bytes as Latin-1, which keeps every byte, and
    this decodes them; a cut character becomes the replacement character.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer read with ``encoding="ISO-8859-1"``.
    codec : str
        The real encoding (``"utf-8"``, ``"gb18030"`` ...).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows with names and text decoded.

    Examples
    --------
    >>> import geopandas as gpd
    >>> raw = "地块".encode("utf-8").decode("latin-1")
    >>> frame = gpd.GeoDataFrame({raw: [raw]}, geometry=[None])
    >>> recode_text(frame, "utf-8").columns.tolist()[0]
    '地块'
    """

    def decode(value: object) -> object:
        if isinstance(value, str):
            return value.encode(_BYTES_AS_TEXT).decode(codec, errors="replace")
        return value

    geometry = frame.geometry.name
    out = frame.copy()
    for column in out.columns:
        if column != geometry and (
            pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column])
        ):
            out[column] = out[column].map(decode).astype(out[column].dtype)
    names = {c: decode(c) for c in out.columns if c != geometry}
    return out.rename(columns=names)


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    what: str = "vector",
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    bbox: Bounds | None = None,
    columns: Sequence[str] | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file into the working CRS, checking it and saying what was assumed.

    Before GDAL reads anything the file is checked, so a broken file raises
    one :class:`~tqspatial.errors.DataFileError` naming it and the problem
    instead of a C-library traceback or a partial load: an empty or HTML
    "GeoJSON", a truncated GeoPackage or zip, a shapefile with a missing
    ``.shx``/``.dbf``, a truncated ``.shp``/``.dbf``, or a ``.dbf`` whose
    record count differs from the number of shapes (GDAL silently drops or
    misaligns rows then).  The text encoding of a shapefile's ``.dbf`` is
    detected (see :mod:`tqspatial.encoding`) so Chinese GBK tables without a
    ``.cpg`` decode correctly; a note says which encoding was used.  Rings
    stored unclosed are closed while reading; the ``repair`` column of those
    rows says so (``ring_closed``).

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile (or a ``.zip`` holding one), GeoJSON or GeoParquet.
        Non-ASCII names (``天桥区地块.shp``) are fine.
    layer : str, optional
        Layer name in a GeoPackage, or shapefile name (without suffix) in a
        zip holding several.
    source_crs : str, optional
        The CRS the coordinates are really in (``"EPSG:4527"``, ``"gcj02"``,
        ``"bd09"`` ...); overrides what the file declares.  See
        :func:`tqspatial.crs.resolve_crs`; when None the declared CRS is used,
        or one is inferred from the coordinates when unambiguous.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf`` (``"gbk"``, ``"utf-8"``);
        detected when None.  Other formats are always UTF-8.
    what : str, default "vector"
        What the file is, for messages and the quality log ("parcels" ...).
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district in the working CRS: when given, the layer is checked
        against it (:func:`tqspatial.crs.check_crs_fit`, and, unless
        ``source_crs`` is given, :func:`tqspatial.crs.check_webmap_offset`).
    bbox : tuple of 4 float, optional
        ``(minx, miny, maxx, maxy)`` in the file's CRS: read only the
        features that intersect it (GDAL's spatial filter).
    columns : sequence of str, optional
        Read only these attribute fields (names as in the file); the
        geometry is always read.
    where : str, optional
        OGR SQL condition on the file's fields (``"YDXZ LIKE '07%'"``); not
        for GeoParquet.

    Returns
    -------
    geopandas.GeoDataFrame
        All features, in the working CRS (encoding, CRS and repairs recorded
        with :func:`tqspatial.quality.note`).

    Raises
    ------
    DataFileError
        If the file is missing, damaged or cannot be read; the message names
        the file and the problem.
    CRSError
        If the file declares no CRS and none can be inferred or was passed,
        or (with ``boundary``) its features lie outside the district and fit
        another CRS; the message names the file and the ``source_crs`` to pass.
    ConfigError
        If ``bbox`` is malformed, ``columns`` names a field the file lacks,
        or ``where`` cannot be applied.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> read_vector(datasets.raw_path("tianqiao_boundary.geojson")).crs.to_epsg()
    4548
    """
    path = Path(path)
    subset = _subset(bbox, columns, where, what)
    checked = check_vector_file(path, layer=layer, encoding=encoding, what=what)
    read_notes = list(checked.notes)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".geoparquet"}:
        frame = _read_geoparquet(path, subset, what)
        gdal_warnings: list[str] = []
        fixed = np.empty(0, dtype=np.intp)
    else:
        if checked.recode is None:
            _check_columns(checked.source, checked.layer, subset, path, what)
        frame, gdal_warnings, fixed = _gdal_read(
            checked.source,
            path,
            layer=checked.layer,
            gdal_encoding=checked.encoding,
            what=what,
            subset=subset if checked.recode is None else dataclasses.replace(subset, columns=None),
        )
    if checked.recode is not None:
        frame = recode_text(frame, checked.recode)
        frame = _keep_columns(frame, subset, path, what)  # names are known once decoded
    read_notes.extend(
        {"kind": "gdal_warning", "severity": "warning", "message": f"{path.name}: GDAL: {text}"}
        for text in dict.fromkeys(gdal_warnings)
    )
    _record_notes(read_notes, what)
    if len(fixed):
        mark_rings_closed(frame, fixed, layer=what, source=path.name)
    logger.info("%s: read %d features from %s", what, len(frame), path)
    resolved = resolve_crs(
        frame,
        source_crs=source_crs,
        layer=what,
        source=path.name,
        working_crs=get_settings().working_crs,
    )
    if boundary is not None:
        check_crs_fit(
            frame, resolved, boundary, source_crs=source_crs, layer=what, source=path.name
        )
        if source_crs is None:
            check_webmap_offset(resolved, boundary, layer=what, source=path.name)
    return resolved


#: Says what :func:`read_vector` did to a feature whose ring was stored unclosed.
RING_CLOSED = "ring_closed: a ring was not closed in the file (last point != first), closed it"


def mark_rings_closed(
    frame: gpd.GeoDataFrame, positions: npt.NDArray[np.intp], *, layer: str, source: str
) -> None:
    """Say in the ``repair`` column (and the quality log) which features had rings closed.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as read; its ``repair`` column is added or extended in place.
    positions : numpy.ndarray of int
        Positions of the features whose rings were closed.
    layer : str
        Layer name for the log.
    source : str
        File name, named in the log.
    """
    repair = (
        frame["repair"].astype(object).to_numpy().copy()
        if "repair" in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    repair[positions] = RING_CLOSED
    frame["repair"] = repair
    note(
        layer=layer,
        stage="read",
        kind="ring_closed",
        severity="warning",
        rows=frame.index[positions],
        message=f"{source}: {{count}} features had a ring that was not closed (last point "
        "differs from the first); closed while reading (see the repair column)",
    )


def read_districts(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read administrative district boundaries.

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of district polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        Districts in the working CRS.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> len(read_districts(datasets.raw_path("jinan_districts.geojson")))
    12
    """
    return read_vector(path, what="districts")


def read_parcels(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    map_fields: bool = True,
    area_unit: str | None = None,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    bbox: Bounds | None = None,
    columns: Sequence[str] | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a land-parcel layer (no rows are dropped here; see ``validate_parcels``).

    The file is checked and decoded as in :func:`read_vector`; then Chinese
    and pinyin field names (``地块编号``/``DKBH``, ``用地性质``/``YDXZ``,
    ``面积``/``MJ`` ...) are mapped to the canonical columns and their values
    cleaned by :func:`tqspatial.fields.map_fields` (original columns kept).

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of parcel polygons (shapefile, zipped shapefile,
        GeoPackage, GeoJSON, GeoParquet).
    layer : str, optional
        Layer name in a GeoPackage (or shapefile name in a zip).
    source_crs : str, optional
        The CRS the coordinates are really in; overrides the file's CRS
        (see :func:`tqspatial.crs.resolve_crs`).
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``; detected when None.
    map_fields : bool, default True
        Map field names and clean values; False returns the columns as read.
    area_unit : str, optional
        Unit of the declared area attribute when its name does not say
        (``"m2"``, ``"mu"``/``"亩"``, ``"ha"``/``"公顷"``).
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district: check that the parcels lie in it and are not shifted
        like web-map coordinates (see :func:`read_vector`).
    bbox, columns, where : optional
        Read part of the layer: see :func:`read_vector`.

    Returns
    -------
    geopandas.GeoDataFrame
        Every feature of the file in the working CRS, canonical columns and
        ``parse_note`` added (see :func:`tqspatial.fields.map_fields`); what
        was assumed is recorded with :func:`tqspatial.quality.note`.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> len(read_parcels(datasets.raw_path("parcels.gpkg"))) >= 10_000
    True
    """
    frame = read_vector(
        path,
        layer=layer,
        source_crs=source_crs,
        encoding=encoding,
        what="parcels",
        boundary=boundary,
        bbox=bbox,
        columns=columns,
        where=where,
    )
    if not map_fields:
        return frame
    return _fields.map_fields(frame, layer="parcels", area_unit=area_unit)


def read_facilities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    bbox: Bounds | None = None,
    columns: Sequence[str] | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read facility points (schools, clinics, markets ...).

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of points with ``kind`` and ``capacity`` columns.
    layer : str, optional
        Layer name in a GeoPackage (or shapefile name in a zip).
    source_crs : str, optional
        The CRS the coordinates are really in (``"gcj02"`` for web-map
        points); overrides the file's CRS.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``; detected when None.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district: check that the facilities lie in it and are not shifted
        like web-map coordinates (see :func:`read_vector`).
    bbox, columns, where : optional
        Read part of the layer: see :func:`read_vector`.

    Returns
    -------
    geopandas.GeoDataFrame
        Facilities in the working CRS.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> "metro_station" in set(read_facilities(datasets.raw_path("facilities.gpkg"))["kind"])
    True
    """
    return read_vector(
        path,
        layer=layer,
        source_crs=source_crs,
        encoding=encoding,
        what="facilities",
        boundary=boundary,
        bbox=bbox,
        columns=columns,
        where=where,
    )


def read_structure(path: str | os.PathLike[str], *, layer: str | None = None) -> PlanStructure:
    """Read and validate a plan structure (axes, belts, clusters ...).

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON or GeoPackage with ``element_id``, ``kind``, ``name_zh``,
        ``name_en`` and, for centre lines, ``width_m``.
    layer : str, optional
        Layer name in a GeoPackage.

    Returns
    -------
    PlanStructure
        The validated structure with corridor polygons built.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> s = read_structure(datasets.raw_path("plan_structure.geojson"))
    >>> len(s.cluster_ids)
    5
    """
    return PlanStructure.from_frame(read_vector(path, layer=layer, what="plan structure"))
