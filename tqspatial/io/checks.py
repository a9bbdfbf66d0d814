"""Checks of vector files before GDAL opens them, and the choice of a shapefile's encoding.

GDAL silently loads some broken files partially; these checks raise one
:class:`~tqspatial.errors.DataFileError` naming the file and the problem
instead: a missing file, an unsupported suffix, truncated or mismatched
shapefile parts (``.shp``/``.shx``/``.dbf``, also inside a zip), a truncated
GeoPackage or zip, an empty or HTML "GeoJSON".  The text encoding of a
``.dbf`` is detected with :mod:`tqspatial.encoding`.  The readers in
:mod:`tqspatial.io.vectors` call :func:`check_vector_file`; streaming readers
(:mod:`tqspatial.stream`) call it themselves.
"""

from __future__ import annotations

import codecs
import dataclasses
import glob
import logging
import os
import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from tqspatial import encoding as _enc
from tqspatial.errors import ConfigError, DataFileError
from tqspatial.quality import note

__all__ = [
    "DBF_SNIFF_BYTES",
    "VECTOR_SUFFIXES",
    "VectorSource",
    "check_vector_file",
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
        When set, GDAL reads the text as Latin-1 bytes and :func:`tqspatial.io.recode_text`
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
    same guarantees as :func:`tqspatial.io.read_vector`: one clear error for a broken file
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
