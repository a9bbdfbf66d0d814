"""The dask engine from a path: partitions read, validated and written on the workers.

:func:`process_parcels_path` runs the parcel stages of
:func:`tqspatial.inventory.process_parcels` on a parcel file that the client
never reads: GeoParquet (a file or a folder of files, e.g. one written by
``tqspatial partition``), GeoPackage, shapefile or any GDAL vector file.

1. **Read** - the client lists chunks of rows from the file's metadata
   (:func:`tqspatial.stream.parcel_chunks`: GeoParquet row groups, or runs of
   GDAL features); each worker task reads one chunk
   (:func:`tqspatial.stream.read_chunk`), numbering rows across the layer.
2. **Spatial shuffle** - each chunk computes the Hilbert distance of its
   parcels' box centres (``dask_geopandas``, level 16, over the layer's
   total bounds reduced from chunk bounds) and a histogram of it; the client
   turns the summed histogram into ``npartitions`` cut points of about equal
   counts; each chunk writes its rows for each partition to
   ``out/_shuffle/part-K/`` (a shuffle through files, so no worker holds
   more than a chunk for it), and each spatial partition is assembled from
   its pieces, rows in input order (the folder is removed at the end).
3. **Validation without gathering** (:mod:`tqspatial.halo`) - per-row
   rules per partition; ids through a global id index (entries shuffled on
   the normalised id, so an id's rows and its ``<id>#<n>`` renames meet in
   one shard); overlaps and the rejects' uncounted area from a halo of the
   rows of spatially adjacent partitions (partitions whose boxes meet).
4. **Land-use scheme** detected once from the code counts of all partitions.
5. **Assign, supply, write** per partition: ``parcels/``, ``rejects/`` and
   ``overlaps/`` folders of GeoParquet / Parquet parts under ``out``; each
   task returns only its counts, ledger, cluster summary and quality log,
   which the client reduces (sums; ratios recomputed from sums).

The result equals the single path's: the same kept rows, ids, columns and
values, rejects, overlaps, ledger, summary and quality log (read the parts
back with :func:`read_parts`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import operator
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from dask.sizeof import sizeof

from tqspatial import halo
from tqspatial._optional import require
from tqspatial.distributed import (
    HILBERT_LEVEL,
    _client,
    _codes,
    _default_partitions,
    _in_input_order,
    _merge_logs,
    _supply_part,
)
from tqspatial.errors import OutputError
from tqspatial.inventory import ParcelContext, summary_stage
from tqspatial.landuse import detect_scheme
from tqspatial.quality import QualityLog, recording
from tqspatial.settings import get_settings
from tqspatial.stream import DEFAULT_BATCH_SIZE, Chunk, parcel_chunks, read_chunk
from tqspatial.supply import Phasing, combine_ledgers, supply_ledger
from tqspatial.validate import MIN_PARCEL_AREA_M2, _union, validate_parcels

dask_geopandas = require("dask_geopandas", feature="the partitioned (dask) engine")

__all__ = ["PathResult", "process_parcels_path", "read_parts"]

logger = logging.getLogger(__name__)

#: The Hilbert distance (2 * level bits) is binned on its top 16 bits for the cut points.
_HIST_BITS = 16
_PARTS = ("parcels", "rejects", "overlaps")

if TYPE_CHECKING:
    from distributed import Client

Box = tuple[float, float, float, float]


class _Dask(Protocol):
    """What the engine uses of a ``distributed.Client`` (or the in-process stand-in)."""

    def submit(self, func: Callable[..., object], /, *args: object, **kwargs: object) -> object:
        """Run ``func`` on a worker; return its future."""

    def gather(self, futures: list[object]) -> list[Any]:
        """Return the futures' results."""

    def scatter(self, data: object, **options: object) -> object:
        """Put ``data`` on the workers; return its future."""


@dataclasses.dataclass(frozen=True)
class PathResult:
    """What :func:`process_parcels_path` wrote and reduced.

    Attributes
    ----------
    out : pathlib.Path
        The output folder: ``parcels/``, ``rejects/``, ``overlaps/`` hold one
        ``part-NNNNN.parquet`` per spatial partition.
    counts : dict
        ``rows`` read, ``kept``, ``rejected``, ``overlaps``, ``partitions``.
    ledger : pandas.DataFrame
        Supply per cluster x renewal type x phase, reduced from the partitions.
    summary : pandas.DataFrame
        Land per cluster, reduced from the partitions.
    log : QualityLog
        The parcel stages' findings, merged from the partitions (equal to the
        single path's); the reader's are in ``read_log``.
    read_log : QualityLog
        What reading the file found (CRS, field names, closed rings ...).
    seconds : dict
        Wall time per phase (``read+shuffle``, ``validate``, ``supply+write``, ``total``).
    """

    out: Path
    counts: dict[str, int]
    ledger: pd.DataFrame
    summary: pd.DataFrame
    log: QualityLog
    read_log: QualityLog
    seconds: dict[str, float]


# ----------------------------------------------------------------------------- memory

#: Bytes of one shapely geometry besides its coordinates (Python object, GEOS parts), and
#: per coordinate; dask counts only the 8-byte pointer, and so would never spill partitions.
GEOMETRY_BYTES = 250
COORDINATE_BYTES = 24


def _geometry_bytes(values: object) -> int:
    geoms = np.asarray(values, dtype=object)
    coordinates = int(shapely.get_num_coordinates(geoms).sum())
    return len(geoms) * (8 + GEOMETRY_BYTES) + coordinates * COORDINATE_BYTES


def _sizeof_geoframe(frame: gpd.GeoDataFrame) -> int:
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name, errors="ignore"))
    size = int(sizeof(plain))
    geometry = frame.select_dtypes("geometry")
    for column in geometry.columns:
        size += _geometry_bytes(frame[column].array)
    return size


def _sizeof_geoseries(series: gpd.GeoSeries) -> int:
    return 1200 + int(sizeof(series.index)) + _geometry_bytes(series.array)


def _sizeof_partition(part: halo.Partition) -> int:
    # the frame (shared by a partition's stages in one process, counted for each: spills early)
    # plus the working geometries, ids and the ledger's arrays
    return _sizeof_geoframe(part.frame) + 40 * len(part.frame)


# dask sizes results to decide what to spill: let it see geometries and partitions
for _kind, _size in (
    (gpd.GeoDataFrame, _sizeof_geoframe),
    (gpd.GeoSeries, _sizeof_geoseries),
    (halo.Partition, _sizeof_partition),
):
    sizeof.register(_kind)(_size)  # type: ignore[no-untyped-call]


# ----------------------------------------------------------------------------- tasks


def _read(chunk: Chunk, source_crs: str | None, working: str) -> dict[str, Any]:
    with recording() as log:
        frame = read_chunk(chunk, source_crs=source_crs, working_crs=working)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    box = shapely.bounds(geoms)
    centres = np.column_stack([(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2])
    centres[~present] = np.nan
    bounds = (
        (
            float(np.min(box[present, 0])),
            float(np.min(box[present, 1])),
            float(np.max(box[present, 2])),
            float(np.max(box[present, 3])),
        )
        if present.any()
        else None
    )
    # what the client and the Hilbert step need, apart from the frame (which may be spilled)
    return {
        "frame": frame,
        "small": {"log": log, "bounds": bounds, "centres": centres, "empty": frame.iloc[:0]},
    }


def _bins(small: dict[str, Any], total: Box) -> npt.NDArray[np.int64]:
    """Hilbert distance of each row's box centre, top bits only; missing geometries get 0."""
    centres: npt.NDArray[np.float64] = small["centres"]
    missing = np.isnan(centres[:, 0])
    cx = np.where(missing, total[0], centres[:, 0])
    cy = np.where(missing, total[1], centres[:, 1])
    points = gpd.GeoSeries(gpd.points_from_xy(cx, cy))
    distance = (
        dask_geopandas.from_geopandas(points, npartitions=1)
        .hilbert_distance(total_bounds=total, level=HILBERT_LEVEL)
        .compute(scheduler="sync")
        .to_numpy(dtype=np.int64)
    )
    shift = 2 * HILBERT_LEVEL - _HIST_BITS
    out: npt.NDArray[np.int64] = distance >> shift
    return out


def _histogram(bins: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out: npt.NDArray[np.int64] = np.bincount(bins, minlength=1 << _HIST_BITS)
    return out


def _split_rows(
    read: dict[str, Any],
    bins: npt.NDArray[np.int64],
    cuts: npt.NDArray[np.int64],
    folder: str,
    number: int,
) -> list[int]:
    """Write a chunk's rows for each spatial partition to ``folder/part-K/chunk-N.parquet``.

    The shuffle goes through files, not worker memory: a partition later reads
    only its own pieces.  Chunk 0 writes its empty pieces too, so every
    partition has the layer's columns.  Returns the rows per partition.
    """
    label = np.searchsorted(cuts, bins, side="right")
    frame: gpd.GeoDataFrame = read["frame"]
    counts = []
    for k in range(len(cuts) + 1):
        piece = frame.iloc[np.flatnonzero(label == k)]
        counts.append(len(piece))
        if len(piece) or number == 0:
            target = Path(folder, f"part-{k:05d}")
            target.mkdir(parents=True, exist_ok=True)
            piece.to_parquet(target / f"chunk-{number:05d}.parquet")
    return counts


def _assemble(
    folder: str, *_written: list[int], id_column: str, min_area_m2: float
) -> halo.Partition:
    """Read one spatial partition's pieces (after every chunk wrote its own) and prepare it."""
    pieces = [gpd.read_parquet(f) for f in sorted(Path(folder).glob("chunk-*.parquet"))]
    frames = [p for p in pieces if len(p)] or pieces[:1]
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    frame = frame.sort_index(kind="stable")
    return halo.prepare(frame, id_column=id_column, min_area_m2=min_area_m2)


def _id_pieces(part: halo.Partition, nshards: int, id_column: str) -> list[pd.DataFrame]:
    return halo.id_shard(halo.id_entries(part, id_column=id_column), nshards)


def _finish(
    part: halo.Partition, *kept: npt.NDArray[np.object_], boundary: bool, started: float
) -> dict[str, Any]:
    with recording() as log:
        kept_rows, rejects = halo.finish(part, *kept, boundary=boundary)
    return {
        "kept": kept_rows,
        "rejects": rejects,
        "log": log,
        "seconds": time.perf_counter() - started,
    }


def _write(result: dict[str, Any], out: str, number: int, context: ParcelContext) -> dict[str, Any]:
    """Write one partition's outputs; return what the client reduces."""
    parcels: gpd.GeoDataFrame = result["parcels"]
    name = f"part-{number:05d}.parquet"
    parcels.rename_axis("source_row").to_parquet(Path(out, "parcels", name))
    result["rejects"].to_parquet(Path(out, "rejects", name))
    pd.DataFrame(result["overlaps"]).to_parquet(Path(out, "overlaps", name))
    ledger = supply_ledger(parcels, context.structure, phasing=context.phasing or Phasing())
    return {
        "kept": len(parcels),
        "rejected": len(result["rejects"]),
        "overlaps": len(result["overlaps"]),
        "ledger": ledger,
        "summary": summary_stage(parcels, context) if len(parcels) else None,
        "log": result["log"],
        "seconds": result["seconds"],
    }


def _code_counts(validated: dict[str, Any]) -> pd.Series | None:
    codes = _codes(validated)
    return None if codes is None else codes.astype(object).value_counts(dropna=True)


# ----------------------------------------------------------------------------- client side


def _cuts(histogram: npt.NDArray[np.int64], parts: int) -> npt.NDArray[np.int64]:
    """Bin numbers at which partitions 1 .. parts-1 start (about equal counts)."""
    cumulative = np.cumsum(histogram)
    targets = np.arange(1, parts) * cumulative[-1] / parts
    return np.unique(np.searchsorted(cumulative, targets, side="right")).astype(np.int64)


def _meet(a: Box | None, b: Box | None) -> bool:
    return (
        a is not None
        and b is not None
        and a[0] <= b[2]
        and b[0] <= a[2]
        and a[1] <= b[3]
        and b[1] <= a[3]
    )


def _reduce_summaries(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Add per-partition cluster summaries; shares recomputed from the sums."""
    base = tables[0]
    fixed = ["cluster_id", "name_zh", "name_en", "cluster_area_ha", "share_of_district"]
    classes = sorted(
        {c for t in tables for c in t.columns if c.startswith("class_") and c.endswith("_ha")},
        key=lambda c: c[len("class_") : -len("_ha")],
    )
    others = [c for c in base.columns if c not in fixed and c not in classes]
    summed = functools.reduce(
        operator.add,
        [
            t.set_index("cluster_id").reindex(columns=[*others, *classes]).fillna(0.0)
            for t in tables
        ],
    )
    out = base.set_index("cluster_id")[[c for c in fixed if c != "cluster_id"]].join(summed)
    total = float(out["land_area_ha"].sum())
    out["share_of_land"] = out["land_area_ha"] / total if total > 0 else 0.0
    out["parcel_count"] = out["parcel_count"].astype(int)
    order = [c for c in base.columns if c not in classes] + classes
    return out.reset_index()[order]


def read_parts(folder: str | os.PathLike[str]) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one output folder of :func:`process_parcels_path` back into one frame.

    Parameters
    ----------
    folder : str or os.PathLike
        ``<out>/parcels``, ``<out>/rejects`` or ``<out>/overlaps``.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The parts joined; parcels and rejects in input order (parcels are
        indexed by their row in the input, as the single path's).
    """
    folder = Path(folder)
    files = sorted(folder.glob("part-*.parquet"))
    frames: list[pd.DataFrame] = []
    for file in files:
        try:
            frames.append(gpd.read_parquet(file))
        except ValueError:  # no geometry: the overlaps table
            frames.append(pd.read_parquet(file))
    if folder.name == "overlaps":
        return pd.concat(frames, ignore_index=True)
    index = pd.Index(
        np.sort(
            np.concatenate(
                [
                    f.index.to_numpy() if folder.name == "parcels" else f["source_row"].to_numpy()
                    for f in frames
                ]
            )
        )
    )
    if folder.name == "parcels":
        joined = _in_input_order(frames, index)
        joined.index.name = None
        return joined
    joined = pd.concat(frames)
    return joined.iloc[np.argsort(joined["source_row"].to_numpy(), kind="stable")]


def _prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        msg = (
            f"output folder {out} is not empty; expected a new or empty folder for the "
            "partitioned results. Choose another folder or empty it."
        )
        raise OutputError(msg)
    for name in _PARTS:
        (out / name).mkdir(parents=True, exist_ok=True)


def process_parcels_path(
    path: str | os.PathLike[str],
    context: ParcelContext,
    *,
    out: str | os.PathLike[str],
    npartitions: int | None = None,
    rows_per_chunk: int = DEFAULT_BATCH_SIZE,
    scheduler: str | None = None,
    client: Client | None = None,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
) -> PathResult:
    """Run the parcel stages on a parcel file, partition by partition, on a Dask cluster.

    Parameters
    ----------
    path : str or os.PathLike
        GeoParquet file or folder, GeoPackage, shapefile or other GDAL vector file.
    context : ParcelContext
        As for :func:`tqspatial.inventory.process_parcels`.
    out : str or os.PathLike
        New or empty folder for the partitioned results.
    npartitions : int, optional
        Spatial partitions; default one per 100,000 parcels, at least one per worker.
    rows_per_chunk : int, default 100,000
        Rows each read task reads.
    scheduler : str, optional
        As :func:`tqspatial.distributed.process_parcels_partitioned`.
    client : distributed.Client, optional
        An open client (left open).
    layer : str, optional
        Layer of a GeoPackage.
    source_crs : str, optional
        The CRS the coordinates are really in, if the file declares none.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf``.

    Returns
    -------
    PathResult
        Paths, counts, reduced ledger and summary, and the quality logs.

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.
    SchemaError
        As :func:`tqspatial.validate.validate_parcels` (no id column ...).
    OutputError
        If ``out`` exists and is not empty.

    Examples
    --------
    >>> import tempfile
    >>> import tqspatial as tq
    >>> d = tq.datasets.tianqiao()
    >>> ctx = ParcelContext(structure=d.structure, boundary=d.boundary)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d.parcels.head(300).to_parquet(f"{tmp}/in.parquet")
    ...     res = process_parcels_path(f"{tmp}/in.parquet", ctx, out=f"{tmp}/out",
    ...                                npartitions=2, scheduler="sync")
    ...     kept = len(read_parts(f"{tmp}/out/parcels"))
    >>> kept + res.counts["rejected"] == 300
    True
    """
    started = time.perf_counter()
    out = Path(out)
    seconds: dict[str, float] = {}
    with recording() as read_log:
        chunks = parcel_chunks(path, rows_per_chunk=rows_per_chunk, layer=layer, encoding=encoding)
    with _client(scheduler, client) as dask:
        parts, first, district = _read_and_shuffle(
            dask,
            chunks,
            context=context,
            npartitions=npartitions,
            source_crs=source_crs,
            read_log=read_log,
            out=out,
        )
        seconds["read+shuffle"] = time.perf_counter() - started
        tick = time.perf_counter()
        validated = _validate(dask, parts, context, district, tick)
        del parts
        scheme, detected = _scheme(dask, validated, context)
        seconds["validate"] = time.perf_counter() - tick
        tick = time.perf_counter()
        shared = dask.scatter(context, broadcast=True)
        supplied = [dask.submit(_supply_part, v, shared, scheme) for v in validated]
        del validated
        written = dask.gather(
            [dask.submit(_write, s, str(out), k, shared) for k, s in enumerate(supplied)]
        )
    seconds["supply+write"] = time.perf_counter() - tick
    shutil.rmtree(out / "_shuffle", ignore_errors=True)
    ledger = combine_ledgers(
        [w["ledger"] for w in written], context.structure, phasing=context.phasing or Phasing()
    )
    summaries = [w["summary"] for w in written if w["summary"] is not None]
    summary = (
        _reduce_summaries(summaries)
        if summaries
        else summary_stage(gpd.GeoDataFrame(geometry=[], crs=first.crs), context)
    )
    seconds["total"] = time.perf_counter() - started
    counts = {
        "rows": sum(c.rows for c in chunks),
        "kept": sum(w["kept"] for w in written),
        "rejected": sum(w["rejected"] for w in written),
        "overlaps": sum(w["overlaps"] for w in written),
        "partitions": len(written),
    }
    logger.info("dask (path): %s in %s", counts, {k: round(v, 1) for k, v in seconds.items()})
    return PathResult(
        out=out,
        counts=counts,
        ledger=ledger,
        summary=summary,
        log=_merge_logs(written, detected),
        read_log=read_log,
        seconds=seconds,
    )


def _read_and_shuffle(
    dask: _Dask,
    chunks: list[Chunk],
    *,
    context: ParcelContext,
    npartitions: int | None,
    source_crs: str | None,
    read_log: QualityLog,
    out: Path,
) -> tuple[list[Any], gpd.GeoDataFrame, shapely.Geometry | None]:
    """Read the chunks on the workers and cut them into spatial partitions (futures)."""
    working = get_settings().working_crs
    reads, smalls = [], []
    for chunk in chunks:  # each chunk's small part is taken at once, while it is in memory
        reads.append(dask.submit(_read, chunk, source_crs, working))
        smalls.append(dask.submit(operator.getitem, reads[-1], "small"))
    first: gpd.GeoDataFrame = dask.gather([dask.submit(operator.getitem, smalls[0], "empty")])[0]
    validate_parcels(first, outside=context.outside)  # layer-level checks first
    district = None if context.boundary is None else _union(context.boundary, first, "parcels")
    _prepare_out(out)
    boxes = [b for b in dask.gather([dask.submit(_bounds_of, m) for m in smalls]) if b]
    total: Box = (
        (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        if boxes
        else (0.0, 0.0, 1.0, 1.0)
    )
    rows = sum(c.rows for c in chunks)
    bins = [dask.submit(_bins, m, total) for m in smalls]
    histogram = np.sum(dask.gather([dask.submit(_histogram, b) for b in bins]), axis=0)
    for log in dask.gather([dask.submit(_log_of, m) for m in smalls]):
        read_log.extend(log)
    cuts = _cuts(histogram, npartitions or _default_partitions(rows, dask))
    logger.info(
        "dask (path): %d rows read in %d chunks; %d partitions", rows, len(chunks), len(cuts) + 1
    )
    shuffle = out / "_shuffle"
    split = [
        dask.submit(_split_rows, r, b, cuts, str(shuffle), number)
        for number, (r, b) in enumerate(zip(reads, bins, strict=True))
    ]
    parts = [
        dask.submit(
            _assemble,
            str(shuffle / f"part-{k:05d}"),
            *split,
            id_column="parcel_id",
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for k in range(len(cuts) + 1)
    ]
    return parts, first, district


def _bounds_of(small: dict[str, Any]) -> Box | None:
    box: Box | None = small["bounds"]
    return box


def _log_of(small: dict[str, Any]) -> QualityLog:
    log: QualityLog = small["log"]
    return log


def _validate(
    dask: _Dask,
    parts: list[Any],
    context: ParcelContext,
    district: shapely.Geometry | None,
    started: float,
) -> list[Any]:
    """Validate the partitions: the id index, then the overlap halo, then the uncounted area."""
    count = len(parts)
    pieces = [dask.submit(_id_pieces, p, count, "parcel_id") for p in parts]
    chosen = [
        dask.submit(halo.repeated_ids, *[dask.submit(operator.getitem, p, k) for p in pieces])
        for k in range(count)
    ]
    needed = np.concatenate(
        [c["row"].to_numpy(np.int64) for c in dask.gather(chosen)] or [np.empty(0, np.int64)]
    )
    logger.info("dask (path): id index: %d rows share an id or take its <id>#<n>", len(needed))
    geoms = [dask.submit(halo.geometries_of, p, needed) for p in parts]
    outcomes = [dask.submit(halo.settle_ids, c, *geoms) for c in chosen]
    applied = [
        dask.submit(
            halo.apply_ids,
            p,
            *outcomes,
            area=district,
            clip=context.outside == "clip",
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for p in parts
    ]
    del pieces, chosen, geoms, outcomes
    parts.clear()  # the caller's futures too: each partition's first stage is freed when done
    # overlaps: a halo of the usable rows of adjacent partitions (boxes meet)
    kept_boxes = dask.gather([dask.submit(halo.bounds, a) for a in applied])
    logger.info("dask (path): ids settled and rows clipped in every partition")
    kept_reach = [dask.submit(halo.boxes, a) for a in applied]
    settled = [
        dask.submit(
            halo.settle_overlaps,
            applied[s],
            *[
                dask.submit(halo.halo, applied[t], kept_reach[s])
                for t in range(count)
                if t != s and _meet(kept_boxes[s], kept_boxes[t])
            ],
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for s in range(count)
    ]
    del applied, kept_reach
    reject_boxes = dask.gather([dask.submit(halo.bounds, p, kept=False) for p in settled])
    logger.info("dask (path): overlaps settled in every partition")
    reject_reach = [dask.submit(halo.boxes, p, kept=False) for p in settled]
    return [
        dask.submit(
            _finish,
            settled[s],
            *[
                dask.submit(halo.kept_near, settled[t], reject_reach[s])
                for t in range(count)
                if t != s and _meet(reject_boxes[s], kept_boxes[t])
            ],
            boundary=context.boundary is not None,
            started=started,
        )
        for s in range(count)
    ]


def _scheme(
    dask: _Dask, validated: list[Any], context: ParcelContext
) -> tuple[str | None, str | None]:
    """Return the land-use scheme given, or detected once from the code counts of all partitions."""
    if context.landuse_scheme is not None:
        return context.landuse_scheme, None
    counts = [
        c for c in dask.gather([dask.submit(_code_counts, v) for v in validated]) if c is not None
    ]
    if not counts:
        return None, None
    summed = pd.concat(counts).groupby(level=0, sort=False).sum()
    detected = detect_scheme(np.repeat(summed.index.to_numpy(dtype=object), summed.to_numpy()))
    return detected, detected
