"""Reading and writing data files: the only module that touches files.

Every reader returns data in the working CRS (EPSG:4548 unless changed in
:mod:`tqspatial.settings`, via :func:`tqspatial.crs.resolve_crs`) and turns
low-level failures (GDAL, XML, zip) into a
:class:`~tqspatial.errors.DataFileError` that names the file and the problem.
Vector files are checked before GDAL opens them (truncated or mismatched
shapefile parts, truncated GeoPackages and zips, empty or HTML "GeoJSON"),
because GDAL silently loads some of them partially.  Text encodings of
``.dbf`` and CSV files are detected (:mod:`tqspatial.encoding`), and
:func:`read_parcels` maps Chinese and pinyin field names
(:mod:`tqspatial.fields`).  What a reader assumed is recorded in the quality
log (:func:`tqspatial.quality.note`, stages ``"read"``, ``"crs"``,
``"fields"``); what it changed in a row (a ring closed while reading) is said
in that row's ``repair`` column too.  Given the district ``boundary``, the
vector readers also check that the layer lies in it (a wrong ``.prj`` stops
with a :class:`~tqspatial.errors.CRSError` naming the CRS the data fit) and
is not shifted like web-map coordinates (:mod:`tqspatial.crs`).

Supported formats: GeoPackage, Shapefile (also zipped), GeoJSON, GeoParquet
(vectors); GeoTIFF (rasters); OSM XML and GraphML (road networks); CSV with
coordinate columns (points).
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import glob
import json
import logging
import os
import struct
import unicodedata
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyogrio.raw
import pyproj
import shapely

from tqspatial import encoding as _enc
from tqspatial import fields as _fields
from tqspatial.crs import check_crs_fit, check_webmap_offset, resolve_crs
from tqspatial.errors import ConfigError, DataFileError
from tqspatial.quality import note
from tqspatial.settings import get_settings
from tqspatial.structure import PlanStructure

if TYPE_CHECKING:
    import networkx as nx
    from affine import Affine

__all__ = [
    "COORDINATE_COLUMNS",
    "Raster",
    "VectorSource",
    "check_vector_file",
    "mark_rings_closed",
    "read_districts",
    "read_facilities",
    "read_parcels",
    "read_points_csv",
    "read_raster",
    "read_road_network",
    "read_structure",
    "read_vector",
    "recode_text",
    "wkb_to_geometries",
    "write_csv",
    "write_geoparquet",
    "write_json",
    "write_layers",
    "write_raster",
    "write_structure",
    "write_text",
    "write_xlsx",
]

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".zip"}

#: At most this many bytes of a ``.dbf`` are read to detect its encoding.
DBF_SNIFF_BYTES = 64 * 1024 * 1024

#: Shapefile and .shx headers are 100 bytes; each .shx record is 8.
_SHP_HEADER = 100
_SHX_RECORD = 8
_SHP_FILE_CODE = 9994
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_HEADER = 100

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


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        msg = (
            f"{what} file not found: {path} (check the path, or the [inputs] section of the config)"
        )
        raise DataFileError(msg)
    if path.is_dir():
        msg = f"{what}: {path} is a folder; expected a file"
        raise DataFileError(msg)


def _broken(what: str, path: Path, problem: str, fix: str) -> DataFileError:
    return DataFileError(f"{what}: {path} {problem}; {fix}")


@dataclasses.dataclass(frozen=True)
class _ShapefileParts:
    """The bytes of a shapefile's parts needed to check it, from a folder or a zip."""

    shp_size: int
    shp_head: bytes
    shx: bytes
    dbf: bytes
    dbf_size: int
    cpg: str | None


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.glob(glob.escape(shp.stem) + ".*"):
        if candidate.suffix.lower() == suffix and candidate.stem == shp.stem:
            return candidate
    return None


def _shapefile_parts_on_disk(shp: Path, what: str) -> _ShapefileParts:
    shx, dbf, cpg = _sidecar(shp, ".shx"), _sidecar(shp, ".dbf"), _sidecar(shp, ".cpg")
    if shx is None or dbf is None:
        missing = [s for s, found in ((".shx", shx), (".dbf", dbf)) if found is None]
        raise _broken(
            what,
            shp,
            f"has no {' and no '.join(missing)} file next to it",
            "a shapefile needs its .shp, .shx and .dbf (and .prj, .cpg) files with the same "
            "name in the same folder; copy the missing ones (or send the layer as a zip or "
            "GeoPackage)",
        )
    with shp.open("rb") as handle:
        shp_head = handle.read(_SHP_HEADER)
    with dbf.open("rb") as handle:
        dbf_bytes = handle.read(DBF_SNIFF_BYTES)
    return _ShapefileParts(
        shp_size=shp.stat().st_size,
        shp_head=shp_head,
        shx=shx.read_bytes(),
        dbf=dbf_bytes,
        dbf_size=dbf.stat().st_size,
        cpg=cpg.read_text(encoding="ascii", errors="replace") if cpg is not None else None,
    )


def _check_shapefile(parts: _ShapefileParts, path: Path, what: str) -> None:
    """Raise one DataFileError listing every inconsistency between .shp, .shx and .dbf."""
    problems: list[str] = []
    declared_shp = _declared_length(parts.shp_head)
    if declared_shp is None:
        problems.append(".shp header is missing or damaged (not a shapefile)")
    elif parts.shp_size < declared_shp:
        problems.append(
            f".shp is truncated: its header says {declared_shp} bytes, the file has "
            f"{parts.shp_size}"
        )
    declared_shx = _declared_length(parts.shx)
    n_shapes = max(0, (len(parts.shx) - _SHP_HEADER) // _SHX_RECORD)
    if declared_shx is None:
        problems.append(".shx header is missing or damaged")
    elif len(parts.shx) < declared_shx:
        problems.append(
            f".shx is truncated: its header says {declared_shx} bytes, the file has "
            f"{len(parts.shx)}"
        )
    if n_shapes:
        index = np.frombuffer(parts.shx[_SHP_HEADER : _SHP_HEADER + n_shapes * _SHX_RECORD], ">i4")
        ends = index[0::2].astype(np.int64) * 2 + 8 + index[1::2].astype(np.int64) * 2
        beyond = int((ends > parts.shp_size).sum())
        if beyond:
            problems.append(
                f"{beyond} of {n_shapes} shapes lie beyond the end of the .shp "
                f"({parts.shp_size} bytes): the .shp is truncated"
            )
    header = _enc.dbf_header(parts.dbf, source=str(path.with_suffix(".dbf")))
    if declared_shx is not None and header.n_records != n_shapes:
        problems.append(
            f".dbf has {header.n_records} records but the .shp/.shx has {n_shapes} shapes "
            "(GDAL would silently drop or misalign rows)"
        )
    needed = header.header_size + header.n_records * header.record_size
    if parts.dbf_size < needed:
        problems.append(
            f".dbf is truncated: {header.n_records} records need {needed} bytes, the file has "
            f"{parts.dbf_size}"
        )
    if problems:
        raise _broken(
            what,
            path,
            "is a damaged shapefile: " + "; ".join(problems),
            "export or copy the layer again (all of .shp, .shx and .dbf together)",
        )


def _declared_length(head: bytes) -> int | None:
    """File length in bytes declared by a .shp/.shx header, or None if the header is bad."""
    if len(head) < _SHP_HEADER or struct.unpack(">i", head[:4])[0] != _SHP_FILE_CODE:
        return None
    return int(struct.unpack(">i", head[24:28])[0]) * 2


#: GDAL reads text in this single-byte encoding when the field names are damaged, so that
#: every byte survives and the names and values can be decoded in Python.
_BYTES_AS_TEXT = "ISO-8859-1"


def _prepare_shapefile(
    parts: _ShapefileParts, path: Path, what: str, explicit: str | None
) -> tuple[str | None, str | None, list[dict[str, str | int]]]:
    """Check a shapefile and decide its text encoding.

    Returns the encoding to pass to GDAL, the codec to re-decode text with
    afterwards (when field names are cut mid-character, GDAL reads bytes as
    Latin-1 and Python decodes them), and the read notes.
    """
    _check_shapefile(parts, path, what)
    guess = _enc.sniff_dbf_encoding(
        parts.dbf, cpg=parts.cpg, encoding=explicit, source=f"{what}: {path.with_suffix('.dbf')}"
    )
    notes: list[dict[str, str | int]] = [
        {
            "kind": "encoding",
            "severity": "info",
            "message": f"{path.name}: attribute text read as {guess.encoding} "
            f"because {guess.reason}",
        }
    ]
    deleted = _enc.dbf_deleted(parts.dbf, _enc.dbf_header(parts.dbf))
    if deleted:
        notes.append(
            {
                "kind": "deleted_records",
                "severity": "warning",
                "count": deleted,
                "message": f"{path.name}: {{count}} records are marked deleted in the .dbf "
                "and were skipped with their shapes, as GIS software does; restore them in "
                "the GIS if they should count",
            }
        )
    recode = None
    if guess.damaged_names:
        recode = guess.encoding
        notes.append(
            {
                "kind": "field_names_damaged",
                "severity": "warning",
                "message": f"{path.name}: field names "
                + ", ".join(repr(n) for n in guess.damaged_names)
                + f" were cut mid-character at the 10-byte limit of .dbf field names; decoded "
                f"as {guess.encoding} with a replacement character (\ufffd) for the cut end. "
                "Rename the fields to shorter names in the GIS to keep them whole",
            }
        )
        return _BYTES_AS_TEXT, recode, notes
    gdal_name = None if guess.ascii_only else _enc.gdal_encoding_name(guess.encoding)
    return gdal_name, recode, notes


def _check_geojson(path: Path, what: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(512)
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        raise _broken(what, path, "is empty", "download or export it again")
    if text[:1] == b"<":
        start = text[:40].decode("utf-8", errors="replace")
        raise _broken(
            what,
            path,
            f"is not GeoJSON but an HTML/XML page (it starts with {start!r}), probably an error "
            "page saved by a failed download",
            "download it again and check that the file starts with '{'",
        )


def _check_geopackage(path: Path, what: str) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_SQLITE_HEADER)
    if not head.startswith(_SQLITE_MAGIC):
        if len(head) < len(_SQLITE_MAGIC):
            raise _broken(what, path, f"is empty or truncated ({size} bytes)", "copy it again")
        raise _broken(what, path, "is not a GeoPackage (no SQLite header)", "check the file type")
    if len(head) < _SQLITE_HEADER:
        raise _broken(what, path, f"is truncated ({size} bytes)", "copy it again")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The page count is valid when the "version-valid-for" number equals the change counter.
    if pages and head[24:28] == head[92:96] and size < page_size * pages:
        raise _broken(
            what,
            path,
            f"is truncated: its header says {page_size * pages} bytes, the file has {size}",
            "copy or download it again (a GeoPackage must be copied whole, not while open)",
        )


def _open_zip(path: Path, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
        damaged = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _broken(
            what,
            path,
            f"is not a readable zip archive ({exc})",
            "it is probably truncated; download or copy it again",
        ) from exc
    if damaged is not None:
        archive.close()
        raise _broken(
            what,
            path,
            f"is a damaged zip archive (member {damaged!r} fails its checksum)",
            "download or copy it again",
        )
    return archive


def _zip_member(path: Path, layer: str | None, what: str) -> tuple[str, _ShapefileParts | None]:
    """Choose the vector member of a zip; for a shapefile also return its parts."""
    with _open_zip(path, what) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/") and "__MACOSX" not in n]
        shps = [n for n in names if n.lower().endswith(".shp")]
        others = [n for n in names if Path(n).suffix.lower() in {".gpkg", ".geojson", ".json"}]
        candidates = shps or others
        if layer is not None:
            candidates = [n for n in candidates if Path(n).stem == layer] or candidates
        if len(candidates) != 1:
            found = ", ".join(shps + others) or "none"
            raise _broken(
                what,
                path,
                f"holds {len(candidates)} vector layers ({found})",
                "pass layer=<name without suffix> to pick one"
                if candidates
                else "zip a shapefile (.shp, .shx, .dbf ...), a GeoPackage or a GeoJSON",
            )
        member = candidates[0]
        if not member.lower().endswith(".shp"):
            return member, None
        stem = member[:-4]
        by_suffix = {n[len(stem) :].lower(): n for n in names if n.startswith(stem + ".")}
        missing = [s for s in (".shx", ".dbf") if s not in by_suffix]
        if missing:
            raise _broken(
                what,
                path,
                f"has {member} but no {' and no '.join(missing)} for it",
                "zip all the shapefile's files (.shp, .shx, .dbf, .prj, .cpg) together",
            )
        info = {s: archive.getinfo(by_suffix[s]) for s in (".shp", ".dbf")}
        with archive.open(by_suffix[".shp"]) as handle:
            shp_head = handle.read(_SHP_HEADER)
        with archive.open(by_suffix[".dbf"]) as handle:
            dbf_bytes = handle.read(DBF_SNIFF_BYTES)
        cpg = (
            archive.read(by_suffix[".cpg"]).decode("ascii", errors="replace")
            if ".cpg" in by_suffix
            else None
        )
        parts = _ShapefileParts(
            shp_size=info[".shp"].file_size,
            shp_head=shp_head,
            shx=archive.read(by_suffix[".shx"]),
            dbf=dbf_bytes,
            dbf_size=info[".dbf"].file_size,
            cpg=cpg,
        )
        return member, parts


def _gdal_read(
    source: str | Path, path: Path, *, layer: str | None, gdal_encoding: str | None, what: str
) -> tuple[gpd.GeoDataFrame, list[str], npt.NDArray[np.intp]]:
    """Read with pyogrio; GDAL errors become DataFileError.

    Returns the frame, GDAL's warnings and the positions of features whose
    rings GEOS could not build as stored (e.g. not closed) and that were
    fixed (closed) while reading.
    """
    fixed = np.empty(0, dtype=np.intp)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(source, layer=layer, encoding=gdal_encoding)
        except shapely.errors.GEOSException:
            # Rings GEOS cannot even build (e.g. unclosed): close them, say which, validate later.
            frame = pyogrio.read_dataframe(
                source, layer=layer, encoding=gdal_encoding, on_invalid="fix"
            )
            _, _, wkb, _ = pyogrio.raw.read(source, layer=layer, encoding=gdal_encoding, columns=[])
            _, fixed = wkb_to_geometries(wkb)
        except (RuntimeError, OSError, ValueError) as exc:
            msg = (
                f"{what}: cannot read {path}: {exc}. The file is damaged, truncated or not a "
                "vector format GDAL knows; export or download it again"
            )
            raise DataFileError(msg) from exc
    return frame, [str(w.message) for w in caught], fixed


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


def _source_crs(source_crs: str | None, crs: str | None, what: str) -> str | None:
    if source_crs is not None and crs is not None and source_crs != crs:
        msg = (
            f"{what}: got source_crs={source_crs!r} and crs={crs!r}; pass only one "
            "(source_crs overrides the file's CRS, crs is used only when the file has none)"
        )
        raise ConfigError(msg)
    return source_crs


@dataclasses.dataclass(frozen=True)
class VectorSource:
    """A vector file that passed :func:`check_vector_file`, ready for GDAL.

    Attributes
    ----------
    path : pathlib.Path
        The file as given.
    source : str
        What to pass to pyogrio (a ``/vsizip/`` path for a zipped layer).
    layer : str or None
        Layer to pass to pyogrio.
    encoding : str or None
        GDAL name of a shapefile's text encoding (None: GDAL's default is fine).
    notes : tuple of dict
        Read notes (encoding used, deleted records, damaged field names):
        keyword arguments of :func:`tqspatial.quality.note` without
        ``layer``/``stage``.
    recode : str or None
        When set, GDAL reads the text as Latin-1 bytes and :func:`recode_text`
        must decode it in this codec (field names cut mid-character).
    """

    path: Path
    source: str
    layer: str | None
    encoding: str | None
    notes: tuple[dict[str, str | int], ...]
    recode: str | None = None

    def record_notes(self, layer: str) -> None:
        """Record the read notes in the quality log (:func:`tqspatial.quality.note`).

        Parameters
        ----------
        layer : str
            Layer name for the log (``"parcels"``).
        """
        _record_notes(self.notes, layer)


def _record_notes(notes: Iterable[Mapping[str, str | int]], layer: str) -> None:
    for found in notes:
        count = found.get("count")
        note(
            layer=layer,
            stage="read",
            kind=str(found["kind"]),
            severity=str(found.get("severity", "info")),
            message=str(found["message"]),
            count=int(count) if count is not None else None,
        )


def check_vector_file(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    encoding: str | None = None,
    what: str = "vector",
) -> VectorSource:
    """Check a vector file before GDAL reads it, and decide a shapefile's text encoding.

    For readers that stream a file themselves (e.g. in batches) and need the
    same guarantees as :func:`read_vector`: one clear error for a broken file
    and correctly decoded Chinese text.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile (or zip holding one), GeoJSON or GeoParquet.
    layer : str, optional
        Layer name in a GeoPackage, or shapefile name in a zip.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``; detected when None.
    what : str, default "vector"
        What the file is, for messages.

    Returns
    -------
    VectorSource
        Source, layer and encoding to pass to pyogrio, and the read notes.

    Raises
    ------
    DataFileError
        If the file is missing, of an unsupported type, or damaged.
    ConfigError
        If ``encoding`` is given for a format that is always UTF-8.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> check_vector_file(datasets.raw_path("parcels.gpkg")).encoding is None
    True
    """
    path = Path(path)
    _check_exists(path, what)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        msg = (
            f"{what}: unsupported file type {suffix!r} for {path}; "
            f"expected one of {sorted(VECTOR_SUFFIXES)}"
        )
        raise DataFileError(msg)
    notes: list[dict[str, str | int]] = []
    gdal_encoding: str | None = None
    source = str(path)
    parts: _ShapefileParts | None = None
    if suffix == ".zip":
        member, parts = _zip_member(path, layer, what)
        source, layer = f"/vsizip/{path}/{member}", None
    elif suffix == ".shp":
        parts = _shapefile_parts_on_disk(path, what)
    elif suffix in {".geojson", ".json"}:
        _check_geojson(path, what)
    elif suffix == ".gpkg":
        _check_geopackage(path, what)
    recode = None
    if parts is not None:
        gdal_encoding, recode, notes = _prepare_shapefile(parts, path, what, encoding)
    elif encoding is not None and suffix != ".zip":
        msg = (
            f"{what}: encoding={encoding!r} applies to shapefiles (.dbf) and CSV files; "
            f"{path.name} is {suffix} whose text is always UTF-8. Drop encoding=."
        )
        raise ConfigError(msg)
    return VectorSource(path, source, layer, gdal_encoding, tuple(notes), recode)


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    what: str = "vector",
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
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
    crs : str, optional
        CRS to use only when the file declares none (kept from earlier
        versions; a declared CRS is never overridden by it).
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf`` (``"gbk"``, ``"utf-8"``);
        detected when None.  Other formats are always UTF-8.
    what : str, default "vector"
        What the file is, for messages and the quality log ("parcels" ...).
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district in the working CRS: when given, the layer is checked
        against it (:func:`tqspatial.crs.check_crs_fit`, and, unless
        ``source_crs`` is given, :func:`tqspatial.crs.check_webmap_offset`).

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
        If ``source_crs`` and ``crs`` are both given and differ.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> read_vector(datasets.raw_path("tianqiao_boundary.geojson")).crs.to_epsg()
    4548
    """
    path = Path(path)
    source_crs = _source_crs(source_crs, crs, what)
    checked = check_vector_file(path, layer=layer, encoding=encoding, what=what)
    read_notes = list(checked.notes)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".geoparquet"}:
        try:
            frame = gpd.read_parquet(path)
        except (OSError, ValueError) as exc:  # pyarrow format errors
            msg = f"{what}: cannot read {path}: {exc}; the file is damaged or not GeoParquet"
            raise DataFileError(msg) from exc
        gdal_warnings: list[str] = []
        fixed = np.empty(0, dtype=np.intp)
    else:
        frame, gdal_warnings, fixed = _gdal_read(
            checked.source, path, layer=checked.layer, gdal_encoding=checked.encoding, what=what
        )
    if checked.recode is not None:
        frame = recode_text(frame, checked.recode)
    read_notes.extend(
        {"kind": "gdal_warning", "severity": "warning", "message": f"{path.name}: GDAL: {text}"}
        for text in dict.fromkeys(gdal_warnings)
    )
    _record_notes(read_notes, what)
    if len(fixed):
        mark_rings_closed(frame, fixed, layer=what, source=path.name)
    logger.info("%s: read %d features from %s", what, len(frame), path)
    if frame.crs is None and source_crs is None and crs is not None:
        note(
            layer=what, stage="crs", kind="crs_from_caller",
            message=f"{path.name} declares no CRS; used crs={crs!r} as passed by the caller",
        )  # fmt: skip
        source_crs = crs
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
    crs: str | None = None,
    encoding: str | None = None,
    map_fields: bool = True,
    area_unit: str | None = None,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
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
    crs : str, optional
        CRS to use only when the file declares none.
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
        crs=crs,
        encoding=encoding,
        what="parcels",
        boundary=boundary,
    )
    if not map_fields:
        return frame
    return _fields.map_fields(frame, layer="parcels", area_unit=area_unit)


def read_facilities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
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
    crs : str, optional
        CRS to use only when the file declares none.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``; detected when None.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district: check that the facilities lie in it and are not shifted
        like web-map coordinates (see :func:`read_vector`).

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
        crs=crs,
        encoding=encoding,
        what="facilities",
        boundary=boundary,
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


def _coordinate_columns(columns: list[str]) -> tuple[str, str] | None:
    folded = {unicodedata.normalize("NFKC", str(c)).strip().casefold(): c for c in columns}
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
    crs: str | None = None,
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
    crs : str, optional
        Same as ``source_crs`` (a CSV declares no CRS); kept from earlier versions.
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
    source_crs = _source_crs(source_crs, crs, what) or crs
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


@dataclasses.dataclass(frozen=True)
class Raster:
    """A single-band raster in memory.

    Attributes
    ----------
    values : numpy.ma.MaskedArray
        Cell values, nodata masked, shape (rows, cols).
    transform : affine.Affine
        Cell-to-CRS transform.
    crs : pyproj.CRS
        Coordinate reference system.
    tags : dict
        GeoTIFF metadata tags (e.g. ``synthetic``, ``units``).
    """

    values: np.ma.MaskedArray[Any, Any]
    transform: Affine
    crs: pyproj.CRS
    tags: dict[str, str]

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in CRS units squared.

        Returns
        -------
        float
            ``|a * e|`` of the transform (m² in the working CRS).
        """
        return float(abs(self.transform.a * self.transform.e))


def read_raster(path: str | os.PathLike[str]) -> Raster:
    """Read band 1 of a GeoTIFF in the working CRS.

    Parameters
    ----------
    path : str or os.PathLike
        GeoTIFF file.

    Returns
    -------
    Raster
        Values (nodata masked), transform, CRS and tags.

    Raises
    ------
    DataFileError
        If the file cannot be read, or is not in the working CRS (rasters are
        not resampled silently; warp it with ``gdalwarp -t_srs EPSG:4548``).

    Examples
    --------
    >>> from tqspatial import datasets
    >>> r = read_raster(datasets.raw_path("flood_depth.tif"))
    >>> r.crs.to_epsg(), r.tags["synthetic"]
    (4548, 'true')
    """
    import rasterio  # noqa: PLC0415 - heavy import only when a raster is read

    path = Path(path)
    _check_exists(path, "raster")
    try:
        with rasterio.open(path) as src:
            values = src.read(1, masked=True)
            transform, crs, tags = src.transform, src.crs, src.tags()
    except rasterio.errors.RasterioIOError as exc:
        msg = f"raster: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    working = pyproj.CRS.from_user_input(get_settings().working_crs)
    if crs is None or pyproj.CRS.from_user_input(crs.to_wkt()) != working:
        msg = (
            f"raster: {path} is in {crs}, expected {working.to_string()}; "
            f"warp it first (gdalwarp -t_srs {working.to_string()})"
        )
        raise DataFileError(msg)
    return Raster(values=values, transform=transform, crs=working, tags=dict(tags))


def read_road_network(
    path: str | os.PathLike[str], *, mode: Literal["drive", "walk"] = "drive"
) -> nx.MultiDiGraph:
    """Build a road graph with osmnx from a local OSM XML or GraphML file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml`` (read with ``osmnx.graph_from_xml``) or ``.graphml``.
    mode : {"drive", "walk"}, default "drive"
        ``walk`` ignores one-way restrictions (every edge in both directions).

    Returns
    -------
    networkx.MultiDiGraph
        Graph projected to the working CRS (node ``x``/``y`` in metres, edge
        ``length`` in metres).

    Examples
    --------
    >>> from tqspatial import datasets
    >>> g = read_road_network(datasets.raw_path("roads.osm"))
    >>> g.graph["crs"].to_epsg() == 4548 and g.number_of_nodes() > 1000
    True
    """
    import osmnx as ox  # noqa: PLC0415 - heavy import only when a network is read

    path = Path(path)
    _check_exists(path, "road network")
    suffix = path.suffix.lower()
    try:
        if suffix in {".osm", ".xml"}:
            graph = ox.graph_from_xml(path, bidirectional=(mode == "walk"), simplify=True)
        elif suffix == ".graphml":
            graph = ox.io.load_graphml(path)
        else:
            msg = (
                f"road network: unsupported file type {suffix!r} for {path}; "
                "expected .osm, .xml or .graphml"
            )
            raise DataFileError(msg)
    except (ET.ParseError, OSError, KeyError, ValueError) as exc:
        msg = f"road network: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    projected = ox.project_graph(graph, to_crs=get_settings().working_crs)
    projected.graph["crs"] = pyproj.CRS.from_user_input(projected.graph["crs"])
    logger.info(
        "road network: %s (%s): %d nodes, %d edges",
        path,
        mode,
        projected.number_of_nodes(),
        projected.number_of_edges(),
    )
    return projected


# --------------------------------------------------------------------------- writers


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


def write_raster(
    path: str | os.PathLike[str],
    values: np.ndarray[Any, Any],
    *,
    transform: Affine,
    crs: str,
    nodata: float,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write a single-band, deflate-compressed, tiled GeoTIFF.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.tif``.
    values : numpy.ndarray
        2-D array (rows, cols).
    transform : affine.Affine
        Cell-to-CRS transform.
    crs : str
        CRS of the transform.
    nodata : float
        Value marking cells with no data.
    tags : mapping, optional
        Metadata tags stored in the file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import rasterio  # noqa: PLC0415

    path = Path(path)
    _prepare_target(path)
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        if tags:
            dst.update_tags(**tags)
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
    """Write a plan structure so that :func:`read_structure` gives it back.

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


# --- Published inventories and change reports (issue 20) -------------------------------------
# Appended as one block so that it merges beside concurrent edits of this module; its import
# and its names in __all__ can move up with the others later.
from tqspatial.changes import InventoryChanges, InventorySnapshot  # noqa: E402

__all__ += ["CHANGE_FILES", "INVENTORY_FILES", "read_inventory", "write_changes"]

#: Files of a published inventory read by :func:`read_inventory`; only the parcels are required.
INVENTORY_FILES = {
    "parcels": "parcels.parquet",
    "ledger": "renewal_ledger.csv",
    "cluster_supply": "cluster_supply.csv",
    "access_clusters": "accessibility_clusters.csv",
    "manifest": "manifest.json",
}

#: Files written by :func:`write_changes`.
CHANGE_FILES = {
    "parcels": "changes.parquet",
    "parcels_csv": "changes.csv",
    "clusters": "changes_clusters.csv",
    "access": "changes_access.csv",
    "summary": "changes.md",
}


#: Files named in the message about a folder that is not an inventory.
_LISTED = 8


def _not_an_inventory(path: Path, problem: str) -> DataFileError:
    return DataFileError(
        f"{path} is not a tqspatial inventory: {problem}. Expected a folder written by "
        f"`tqspatial refresh` (with {INVENTORY_FILES['parcels']}, and usually "
        f"{INVENTORY_FILES['ledger']} and {INVENTORY_FILES['manifest']}) or a GeoParquet parcel "
        "file; pass one of those."
    )


def _read_table_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        msg = f"cannot read {path}: {exc}; the table is damaged or not a UTF-8 CSV"
        raise DataFileError(msg) from exc


def read_inventory(path: str | os.PathLike[str]) -> InventorySnapshot:
    """Read a published inventory (a refresh's output folder, or a parcel GeoParquet file).

    Parameters
    ----------
    path : str or os.PathLike
        A folder holding ``parcels.parquet`` and, when present,
        ``renewal_ledger.csv``, ``cluster_supply.csv``,
        ``accessibility_clusters.csv`` and ``manifest.json``
        (:data:`INVENTORY_FILES`); or a ``.parquet`` / ``.geoparquet`` file
        of parcels (then only the parcels are known).

    Returns
    -------
    tqspatial.changes.InventorySnapshot
        Parcels in the working CRS, the tables found (None for the others),
        the manifest (empty when absent) and the path as label.

    Raises
    ------
    DataFileError
        If the path does not exist, is a folder without ``parcels.parquet``,
        a file of another kind, a damaged file, or parcels without a
        ``parcel_id`` column.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 1, 1)],
    ...                            crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_geoparquet(Path(d) / "parcels.parquet", parcels)
    ...     inventory = read_inventory(d)
    >>> len(inventory.parcels), inventory.ledger is None
    (1, True)
    """
    path = Path(path)
    if not path.exists():
        raise _not_an_inventory(path, "it does not exist")
    folder: Path | None = None
    if path.is_dir():
        folder = path
        parcels_path = path / INVENTORY_FILES["parcels"]
        if not parcels_path.is_file():
            found = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
            shown = ", ".join(found[:_LISTED]) + (" ..." if len(found) > _LISTED else "")
            raise _not_an_inventory(
                path, f"it has no {INVENTORY_FILES['parcels']} (it holds {shown or 'nothing'})"
            )
    elif path.suffix.lower() in {".parquet", ".geoparquet"}:
        parcels_path = path
    else:
        raise _not_an_inventory(path, f"a {path.suffix or 'suffix-less'} file")
    parcels = read_vector(parcels_path, what="inventory parcels")
    if "parcel_id" not in parcels.columns:
        columns = [str(c) for c in parcels.columns][:12]
        raise _not_an_inventory(parcels_path, f"its parcels have no parcel_id column ({columns})")
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("ledger", "cluster_supply", "access_clusters"):
        table = folder / INVENTORY_FILES[name] if folder is not None else None
        tables[name] = _read_table_csv(table) if table is not None and table.is_file() else None
    manifest: dict[str, Any] = {}
    if folder is not None and (folder / INVENTORY_FILES["manifest"]).is_file():
        manifest_path = folder / INVENTORY_FILES["manifest"]
        try:
            manifest = dict(json.loads(manifest_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            msg = f"cannot read {manifest_path}: {exc}; the manifest is damaged"
            raise DataFileError(msg) from exc
    logger.info(
        "inventory %s: %d parcels; %s",
        path,
        len(parcels),
        ", ".join(n for n, t in tables.items() if t is not None) or "no tables",
    )
    return InventorySnapshot(
        parcels=parcels,
        ledger=tables["ledger"],
        cluster_supply=tables["cluster_supply"],
        access_clusters=tables["access_clusters"],
        manifest=manifest,
        label=str(path),
    )


def write_changes(out_dir: str | os.PathLike[str], changes: InventoryChanges) -> list[Path]:
    """Write a change report: the change table (GeoParquet and CSV), cluster deltas, summary.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder (created if needed); files of an earlier report are replaced.
    changes : tqspatial.changes.InventoryChanges
        Output of :func:`tqspatial.changes.compare_inventories`.

    Returns
    -------
    list of pathlib.Path
        The files written (:data:`CHANGE_FILES`): ``changes.parquet``,
        ``changes.csv``, ``changes_clusters.csv``, ``changes_access.csv`` and
        ``changes.md`` (the Markdown summary).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> from tqspatial.changes import compare_inventories
    >>> old = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     written = write_changes(d, compare_inventories(old, old.iloc[:0]))
    ...     removed = gpd.read_parquet(Path(d) / "changes.parquet")["removed"].tolist()
    >>> [p.name for p in written][:2], removed
    (['changes.parquet', 'changes.csv'], [True])
    """
    out = Path(out_dir)
    names = CHANGE_FILES
    return [
        write_geoparquet(out / names["parcels"], changes.parcels),
        write_csv(out / names["parcels_csv"], changes.parcels),
        write_csv(out / names["clusters"], changes.clusters),
        write_csv(out / names["access"], changes.access),
        write_text(out / names["summary"], changes.summary),
    ]
