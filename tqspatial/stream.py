"""Read large parcel files in batches, in bounded memory.

:func:`iter_parcel_batches` yields a parcel layer as GeoDataFrames of at
most ``batch_size`` rows, each already in the working CRS with canonical
field names, so a million-parcel layer never sits in memory twice (as GDAL
or Arrow buffers and as a GeoDataFrame) the way a one-shot read does.
GeoParquet is read row group by row group with pyarrow; every format GDAL
reads (GeoPackage, FlatGeobuf, shapefile, GeoJSON ...) through pyogrio's
Arrow stream (``pyogrio.raw.open_arrow``).  :func:`read_parcels_batched`
joins the batches into one frame for the engines that need all parcels at
once (validation compares every parcel with its neighbours).

Rows are numbered across batches (the index runs 0 .. n-1 as in a plain
read), so rejects still name the source row.  Each batch is reprojected by
:func:`tqspatial.crs.resolve_crs` and its fields mapped by
:func:`tqspatial.fields.map_fields`, with the file's declared CRS (or
``source_crs``); a file declaring no CRS needs ``source_crs`` here, since
inferring it batch by batch could guess differently per batch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio.raw

from tqspatial import fields as _fields
from tqspatial.crs import resolve_crs
from tqspatial.errors import CRSError, DataFileError
from tqspatial.io import check_vector_file, mark_rings_closed, recode_text, wkb_to_geometries
from tqspatial.settings import get_settings

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Chunk",
    "iter_parcel_batches",
    "parcel_chunks",
    "read_chunk",
    "read_parcels_batched",
]

logger = logging.getLogger(__name__)

#: Rows per batch: about 100 MB of parcels with a dozen attributes.
DEFAULT_BATCH_SIZE = 100_000
_PARQUET = (".parquet", ".geoparquet")


def _parquet_batches(
    path: Path, batch_size: int, columns: list[str] | None
) -> tuple[str | None, str, Iterator[pa.RecordBatch]]:
    """Return the declared CRS, the geometry column and the batches of a GeoParquet file."""
    try:
        handle = pq.ParquetFile(path)
        geo = json.loads((handle.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    except (OSError, ValueError, pa.ArrowException) as exc:
        msg = f"parcels: cannot read {path}: {exc}; the file is damaged or not GeoParquet"
        raise DataFileError(msg) from exc
    geometry = geo.get("primary_column")
    if not geometry:
        msg = f"parcels: {path} has no GeoParquet 'geo' metadata; write it with geopandas"
        raise DataFileError(msg)
    crs = geo["columns"][geometry].get("crs", "OGC:CRS84")  # spec: missing means CRS84
    crs_text = None if crs is None else json.dumps(crs) if isinstance(crs, dict) else str(crs)
    wanted = None if columns is None else [*columns, geometry]
    return crs_text, geometry, handle.iter_batches(batch_size=batch_size, columns=wanted)


def _frame(
    batch: pa.RecordBatch | pa.Table, geometry: str, crs: str | None, start: int, path: Path
) -> gpd.GeoDataFrame:
    table = batch.drop_columns([geometry])
    attrs = table.to_pandas()
    attrs.index = pd.RangeIndex(start, start + batch.num_rows)
    geoms, fixed = wkb_to_geometries(batch.column(geometry).to_numpy(zero_copy_only=False))
    frame = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=crs)
    if len(fixed):
        mark_rings_closed(frame, fixed, layer="parcels", source=path.name)
    return frame


def iter_parcel_batches(
    path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    columns: list[str] | None = None,
    map_fields: bool = True,
) -> Iterator[gpd.GeoDataFrame]:
    """Yield a parcel file as GeoDataFrames of at most ``batch_size`` rows, in the working CRS.

    Parameters
    ----------
    path : str or os.PathLike
        GeoParquet (read by row groups / batches with pyarrow) or any vector
        file GDAL reads (GeoPackage, FlatGeobuf, shapefile ...).
    batch_size : int, default 100,000
        Most rows per batch.
    layer : str, optional
        Layer of a GeoPackage.
    source_crs : str, optional
        The CRS the coordinates are really in (see
        :func:`tqspatial.crs.resolve_crs`); required when the file declares
        none.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf`` (``"gbk"``); others are UTF-8.
    columns : list of str, optional
        Attribute columns to read (default all).
    map_fields : bool, default True
        Map Chinese / pinyin field names to canonical ones per batch
        (:func:`tqspatial.fields.map_fields`).

    Yields
    ------
    geopandas.GeoDataFrame
        Consecutive rows of the file (index = row number in the file), in
        the working CRS.  What was read, assumed or parsed is recorded with
        :func:`tqspatial.quality.note`: batch by batch, and merged into one
        entry per finding by the active :class:`~tqspatial.quality.QualityLog`.

    Raises
    ------
    DataFileError
        If the file is missing, damaged or of an unknown type.
    CRSError
        If the file declares no CRS and ``source_crs`` is not given.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> sizes = [len(b) for b in iter_parcel_batches(datasets.raw_path("parcels.gpkg"),
    ...                                              batch_size=5000)]
    >>> sizes[:3], sum(sizes) == len(datasets.tianqiao().parcels)
    ([5000, 5000, 5000], True)
    """
    path = Path(path)
    if not path.is_file():
        msg = f"parcels: no file at {path}; check the path"
        raise DataFileError(msg)
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    if path.suffix.lower() in _PARQUET:
        crs, geometry, batches = _parquet_batches(path, batch_size, columns)
        yield from _convert(path, batches, geometry, crs, source_crs=source_crs, mapped=map_fields)
        return
    # The same checks as io's readers: truncated or mismatched shapefiles, HTML saved as
    # GeoJSON, damaged GeoPackages and zips fail here, and a shapefile's encoding is sniffed.
    checked = check_vector_file(path, layer=layer, encoding=encoding, what="parcels")
    checked.record_notes("parcels")
    try:
        with pyogrio.raw.open_arrow(
            checked.source,
            layer=checked.layer,
            encoding=checked.encoding,
            columns=columns,
            batch_size=batch_size,
            use_pyarrow=True,
        ) as (meta, reader):
            geometry = meta["geometry_name"] or "wkb_geometry"
            yield from _convert(
                path,
                reader,
                geometry,
                meta["crs"],
                source_crs=source_crs,
                mapped=map_fields,
                recode=checked.recode,
            )
    except pyogrio.errors.DataSourceError as exc:
        msg = f"parcels: cannot read {path}: {exc}; the file is damaged or not a vector file"
        raise DataFileError(msg) from exc


def _convert(
    path: Path,
    batches: Iterable[pa.RecordBatch],
    geometry: str,
    crs: str | None,
    *,
    source_crs: str | None,
    mapped: bool,
    recode: str | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    if crs is None and source_crs is None:
        msg = (
            f"parcels: {path.name} declares no CRS; pass source_crs='EPSG:...' to read it in "
            "batches (tqspatial.io.read_parcels can infer a CRS from a whole file)"
        )
        raise CRSError(msg)
    working = get_settings().working_crs
    start = 0
    for number, batch in enumerate(batches):
        frame = _finish(
            _frame(batch, geometry, crs, start, path),
            path,
            source_crs=source_crs,
            working=working,
            mapped=mapped,
            recode=recode,
        )
        start += len(frame)
        logger.debug(
            "parcels: batch %d, rows %d..%d of %s", number, start - len(frame), start, path
        )
        yield frame
    logger.info("parcels: read %d features from %s in batches", start, path)


def _finish(
    frame: gpd.GeoDataFrame,
    path: Path,
    *,
    source_crs: str | None,
    working: str,
    mapped: bool,
    recode: str | None,
) -> gpd.GeoDataFrame:
    """Recode text, reproject to the working CRS and map field names (one batch)."""
    if recode is not None:
        frame = recode_text(frame, recode)
    frame = resolve_crs(
        frame, source_crs=source_crs, layer="parcels", source=path.name, working_crs=working
    )
    if mapped:
        frame = _fields.map_fields(frame, layer="parcels")
    return frame


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A run of rows of a parcel file that one task reads (see :func:`parcel_chunks`).

    Attributes
    ----------
    path : str
        The file (one GeoParquet file of a directory, or a GDAL file).
    start : int
        Row number of the chunk's first row in the whole layer.
    rows : int
        Number of rows.
    row_groups : tuple of int
        GeoParquet row groups read (empty for GDAL files).
    skip : int
        Features of a GDAL file skipped before the chunk.
    crs : str or None
        The CRS the file declares.
    geometry : str
        Geometry column of a GeoParquet file.
    layer, encoding, recode : str or None
        How to open a GDAL file (from :func:`tqspatial.io.check_vector_file`).
    """

    path: str
    start: int
    rows: int
    row_groups: tuple[int, ...] = ()
    skip: int = 0
    crs: str | None = None
    geometry: str = "geometry"
    layer: str | None = None
    encoding: str | None = None
    recode: str | None = None


def _parquet_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _PARQUET)
        if not files:
            msg = f"parcels: no GeoParquet files (*.parquet) in the folder {path}"
            raise DataFileError(msg)
        return files
    return [path]


def parcel_chunks(
    path: str | os.PathLike[str],
    *,
    rows_per_chunk: int = DEFAULT_BATCH_SIZE,
    layer: str | None = None,
    encoding: str | None = None,
) -> list[Chunk]:
    """Cut a parcel file into chunks of rows for tasks to read, from its metadata only.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoParquet file, a folder of GeoParquet files (read in sorted path
        order; chunks are whole row groups, so a file written with row groups
        of ``rows_per_chunk`` gives even chunks) or any GDAL vector file
        (chunks of ``rows_per_chunk`` features).
    rows_per_chunk : int, default 100,000
        Rows per chunk (GeoParquet: row groups are joined up to this).
    layer : str, optional
        Layer of a GeoPackage.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``.

    Returns
    -------
    list of Chunk
        In file order; ``start`` numbers the rows of the whole layer.

    Raises
    ------
    DataFileError
        If the file is missing, damaged or of an unknown type.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> [(c.start, c.rows) for c in parcel_chunks(datasets.raw_path("parcels.gpkg"),
    ...                                           rows_per_chunk=7000)][:2]
    [(0, 7000), (7000, 7000)]
    """
    path = Path(path)
    if not path.exists():
        msg = f"parcels: nothing at {path}; check the path"
        raise DataFileError(msg)
    if path.is_dir() or path.suffix.lower() in _PARQUET:
        return _parquet_chunks(_parquet_files(path), rows_per_chunk)
    checked = check_vector_file(path, layer=layer, encoding=encoding, what="parcels")
    checked.record_notes("parcels")
    try:
        info = pyogrio.read_info(checked.source, layer=checked.layer, encoding=checked.encoding)
    except pyogrio.errors.DataSourceError as exc:
        msg = f"parcels: cannot read {path}: {exc}; the file is damaged or not a vector file"
        raise DataFileError(msg) from exc
    total = int(info["features"])
    return [
        Chunk(
            path=str(checked.source),
            start=start,
            rows=min(rows_per_chunk, total - start),
            skip=start,
            crs=info["crs"],
            layer=checked.layer,
            encoding=checked.encoding,
            recode=checked.recode,
        )
        for start in range(0, total, rows_per_chunk)
    ]


def _parquet_chunks(files: list[Path], rows_per_chunk: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    start = 0
    for file in files:
        try:
            handle = pq.ParquetFile(file)
        except (OSError, ValueError, pa.ArrowException) as exc:
            msg = f"parcels: cannot read {file}: {exc}; the file is damaged or not GeoParquet"
            raise DataFileError(msg) from exc
        crs, geometry, _ = _parquet_batches(file, 1, None)
        groups: list[int] = []
        rows = 0
        for group in range(handle.num_row_groups):
            size = handle.metadata.row_group(group).num_rows
            if groups and rows + size > rows_per_chunk:
                chunks.append(Chunk(str(file), start, rows, tuple(groups), 0, crs, geometry))
                start, groups, rows = start + rows, [], 0
            groups.append(group)
            rows += size
        if groups:
            chunks.append(Chunk(str(file), start, rows, tuple(groups), 0, crs, geometry))
            start += rows
    return chunks


def read_chunk(
    chunk: Chunk,
    *,
    source_crs: str | None = None,
    map_fields: bool = True,
    working_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one chunk of a parcel file, in the working CRS with canonical field names.

    Parameters
    ----------
    chunk : Chunk
        From :func:`parcel_chunks`.
    source_crs : str, optional
        The CRS the coordinates are really in; required when the file declares none.
    map_fields : bool, default True
        Map Chinese / pinyin field names to canonical ones.
    working_crs : str, optional
        The working CRS (default: the settings' in this process; a worker
        process does not see the client's ``settings.override``).

    Returns
    -------
    geopandas.GeoDataFrame
        The chunk's rows, indexed by their row number in the whole layer.
        Findings go to the active quality log, as for :func:`iter_parcel_batches`.

    Raises
    ------
    CRSError
        If the file declares no CRS and ``source_crs`` is not given.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> chunks = parcel_chunks(datasets.raw_path("parcels.gpkg"), rows_per_chunk=7000)
    >>> read_chunk(chunks[1]).index[[0, -1]].tolist()
    [7000, 13999]
    """
    path = Path(chunk.path)
    if chunk.crs is None and source_crs is None:
        msg = (
            f"parcels: {path.name} declares no CRS; pass source_crs='EPSG:...' to read it in "
            "chunks (tqspatial.io.read_parcels can infer a CRS from a whole file)"
        )
        raise CRSError(msg)
    if chunk.row_groups:
        batch: pa.Table | pa.RecordBatch = pq.ParquetFile(path).read_row_groups(
            list(chunk.row_groups)
        )
        geometry = chunk.geometry
    else:
        meta, batch = pyogrio.raw.read_arrow(
            chunk.path,
            layer=chunk.layer,
            encoding=chunk.encoding,
            skip_features=chunk.skip,
            max_features=chunk.rows,
        )
        geometry = meta["geometry_name"] or "wkb_geometry"
    return _finish(
        _frame(batch, geometry, chunk.crs, chunk.start, path),
        path,
        source_crs=source_crs,
        working=working_crs or get_settings().working_crs,
        mapped=map_fields,
        recode=chunk.recode,
    )


def read_parcels_batched(
    path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    columns: list[str] | None = None,
    map_fields: bool = True,
) -> gpd.GeoDataFrame:
    """Read a whole parcel file batch by batch into one GeoDataFrame.

    Peak memory is the final frame plus one batch, instead of the final
    frame plus the whole file's Arrow / GDAL buffers.  Findings of every
    batch go to the active quality log, where the same finding in several
    batches adds up to one entry.

    Parameters
    ----------
    path : str or os.PathLike
        Parcel file (see :func:`iter_parcel_batches`).
    batch_size : int, default 100,000
        Most rows per batch.
    layer : str, optional
        Layer of a GeoPackage.
    source_crs : str, optional
        The CRS the coordinates are really in; required when the file declares none.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``.
    columns : list of str, optional
        Attribute columns to read (default all).
    map_fields : bool, default True
        Map Chinese / pinyin field names to canonical ones.

    Returns
    -------
    geopandas.GeoDataFrame
        Every feature, index 0 .. n-1, in the working CRS.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> whole = read_parcels_batched(datasets.raw_path("parcels.gpkg"), batch_size=7000)
    >>> whole.index.equals(datasets.tianqiao().parcels.index)
    True
    """
    batches = list(
        iter_parcel_batches(
            path,
            batch_size=batch_size,
            layer=layer,
            source_crs=source_crs,
            encoding=encoding,
            columns=columns,
            map_fields=map_fields,
        )
    )
    if not batches:
        msg = f"parcels: {path} holds no features"
        raise DataFileError(msg)
    frame: gpd.GeoDataFrame = pd.concat(batches) if len(batches) > 1 else batches[0]
    return frame
