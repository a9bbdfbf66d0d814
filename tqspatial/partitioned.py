"""The dask engine from a path: partitions read, validated and written on the workers.

:func:`process_parcels_path` runs the parcel stages of
:func:`tqspatial.inventory.process_parcels` on a parcel file that the client
never reads: GeoParquet (a file or a folder of files, e.g. one written by
:func:`partition_layer` / ``tqspatial partition``), GeoPackage, shapefile or
any GDAL vector file.

1. **Read** - the client lists chunks of rows from the file's metadata
   (:func:`tqspatial.stream.parcel_chunks`: GeoParquet row groups, or runs of
   GDAL features); each worker task reads one chunk
   (:func:`tqspatial.stream.read_chunk`), numbering rows across the layer
   (or by the ``input_row`` column of a folder written by
   :func:`partition_layer`, so rules keep the original file's order), and
   spools it to ``out/_spool``, keeping only its box centres.
2. **Spatial shuffle** - each chunk computes the Hilbert distance of its
   parcels' box centres (``dask_geopandas``, level 16, over the layer's
   total bounds reduced from chunk bounds) and a histogram of it; the client
   turns the summed histogram into ``npartitions`` cut points of about equal
   counts; each chunk writes its rows for each partition to
   ``out/_shuffle/part-K/`` (a shuffle through files, so no worker holds
   more than a chunk for it), and each spatial partition is assembled from
   its pieces, rows in input order.
3. **Validation without gathering** (:mod:`tqspatial.halo`) - per-row
   rules per partition; ids through a global id index (entries shuffled on
   the normalised id, so an id's rows and its ``<id>#<n>`` renames meet in
   one shard); overlaps and the rejects' uncounted area from a halo of the
   rows of spatially adjacent partitions (partitions whose boxes meet).
   Between stages each partition lives in the spool, not in worker memory:
   a task reads its partition, writes the next state and returns only small
   results (boxes, halo rows, id outcomes), so a worker's memory follows the
   partition size, not the layer's (the scratch folders are removed at the
   end).
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
import pickle
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
    DEFAULT_PARCELS_PER_PARTITION,
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

__all__ = [
    "INPUT_ROW",
    "PartitionedLayer",
    "PathResult",
    "partition_layer",
    "process_parcels_path",
    "read_parts",
]

logger = logging.getLogger(__name__)

#: The Hilbert distance (2 * level bits) is binned on its top 16 bits for the cut points.
_HIST_BITS = 16
_PARTS = ("parcels", "rejects", "overlaps")
#: Scratch folders under ``out``: the partitions' intermediate states, the shuffle's pieces.
_SCRATCH = ("_spool", "_shuffle")
_SCRATCH_MARK = ".tqspatial-scratch"
#: Column of :func:`partition_layer`'s parts: the row's number in the file it was cut from.
INPUT_ROW = "input_row"

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


@dataclasses.dataclass(frozen=True)
class PartitionedLayer:
    """A layer cut into spatial partitions by :func:`partition_layer`.

    Attributes
    ----------
    folder : pathlib.Path
        The folder of ``part-NNNNN.parquet`` GeoParquet files, one per spatial
        partition, rows in input order within a part; column ``input_row``
        is each row's number in the file it was cut from.
    rows : list of int
        Rows per part.
    bounds : list of tuple of float
        ``(xmin, ymin, xmax, ymax)`` of each part (working CRS).
    read_log : QualityLog
        What reading the file found (CRS, field names, closed rings ...).
    seconds : float
        Wall time.
    """

    folder: Path
    rows: list[int]
    bounds: list[tuple[float, float, float, float]]
    read_log: QualityLog
    seconds: float


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


@dataclasses.dataclass(frozen=True)
class _Encoded:
    """Rows on their way through the shuffle: geometries as WKB, decoded once at the end."""

    rows: pd.DataFrame
    geometry: str
    crs: Any

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> _Encoded:
        name = frame.geometry.name
        rows = pd.DataFrame(frame, copy=False)
        rows[name] = shapely.to_wkb(np.asarray(frame.geometry.array, dtype=object))
        return cls(rows, name, frame.crs)

    def take(self, positions: npt.NDArray[np.intp]) -> _Encoded:
        return _Encoded(self.rows.iloc[positions], self.geometry, self.crs)

    @classmethod
    def join(cls, pieces: list[_Encoded]) -> _Encoded:
        rows = [p.rows for p in pieces if len(p.rows)] or [pieces[0].rows]
        joined = pd.concat(rows) if len(rows) > 1 else rows[0]
        return cls(joined.sort_index(kind="stable"), pieces[0].geometry, pieces[0].crs)

    def decode(self) -> gpd.GeoDataFrame:
        rows = self.rows.copy()
        rows[self.geometry] = shapely.from_wkb(rows[self.geometry].to_numpy(dtype=object))
        return gpd.GeoDataFrame(rows, geometry=self.geometry, crs=self.crs)


def _put(obj: object, path: Path) -> str:
    """Write a task's intermediate result to the spool folder; return its path."""
    part = path.with_name(path.name + ".tmp")
    with part.open("wb") as handle:
        pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
    part.replace(path)
    return str(path)


def _get(path: str) -> Any:  # noqa: ANN401 - whatever _put wrote
    with Path(path).open("rb") as handle:
        return pickle.load(handle)


def _read(
    chunk: Chunk, source_crs: str | None, working: str, spool: str, number: int
) -> dict[str, Any]:
    """Read one chunk, spool its rows to disk; return only what the client and Hilbert step need."""
    with recording() as log:
        frame = _input_order(read_chunk(chunk, source_crs=source_crs, working_crs=working))
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
    return {
        "path": _put(_Encoded.of(frame), Path(spool, f"read-{number:05d}.pkl")),
        "log": log,
        "bounds": bounds,
        "centres": centres,
        "empty": frame.iloc[:0],
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
    small: dict[str, Any],
    bins: npt.NDArray[np.int64],
    cuts: npt.NDArray[np.int64],
    folder: str,
    number: int,
) -> list[int]:
    """Write a chunk's rows for each spatial partition to ``folder/part-K/chunk-N.pkl``.

    The shuffle goes through files, not worker memory: a partition later reads
    only its own pieces.  Chunk 0 writes its empty pieces too, so every
    partition has the layer's columns.  Returns the rows per partition.
    """
    label = np.searchsorted(cuts, bins, side="right")
    source = Path(small["path"])
    encoded: _Encoded = _get(str(source))
    source.unlink()
    counts = []
    for k in range(len(cuts) + 1):
        piece = encoded.take(np.flatnonzero(label == k))
        counts.append(len(piece.rows))
        if len(piece.rows) or number == 0:
            target = Path(folder, f"part-{k:05d}")
            target.mkdir(parents=True, exist_ok=True)
            _put(piece, target / f"chunk-{number:05d}.pkl")
    return counts


def _join_pieces(folder: str) -> gpd.GeoDataFrame:
    """Join a partition's pieces (written by every chunk) in input order; remove them."""
    pieces: list[_Encoded] = [_get(str(f)) for f in sorted(Path(folder).glob("chunk-*.pkl"))]
    shutil.rmtree(folder)
    return _Encoded.join(pieces).decode()


def _assemble(
    folder: str,
    *_written: list[int],
    spool: str,
    number: int,
    nshards: int,
    id_column: str,
    min_area_m2: float,
) -> dict[str, Any]:
    """Assemble one spatial partition from its pieces, run the per-row rules, spool it.

    Its id entries, cut into ``nshards`` pieces for the global id index, are
    written to ``spool/ids/shard-K/`` (a shuffle through files too).  Returns
    the spooled partition's path.
    """
    frame = _join_pieces(folder)
    part = halo.prepare(frame, id_column=id_column, min_area_m2=min_area_m2)
    shards = halo.id_shard(halo.id_entries(part, id_column=id_column), nshards)
    for shard, entries in enumerate(shards):
        target = Path(spool, "ids", f"shard-{shard:05d}")
        target.mkdir(parents=True, exist_ok=True)
        _put(entries, target / f"from-{number:05d}.pkl")
    return {"path": _put(part, Path(spool, f"p0-{number:05d}.pkl"))}


def _repeated_ids(folder: str, *_assembled: dict[str, Any]) -> pd.DataFrame:
    """Settle which entries of one id shard the rules compare (after every partition wrote)."""
    pieces = [_get(str(f)) for f in sorted(Path(folder).glob("from-*.pkl"))]
    shutil.rmtree(folder)
    return halo.repeated_ids(*pieces)


def _write_partition(
    folder: str, *_written: list[int], target: str, row_group: int
) -> tuple[int, Box]:
    """Join one spatial partition's pieces in input order and write it as GeoParquet."""
    frame = _join_pieces(folder).rename_axis(INPUT_ROW).reset_index()
    frame.to_parquet(target, row_group_size=row_group)
    box = tuple(float(v) for v in frame.total_bounds) if len(frame) else (0.0, 0.0, 0.0, 0.0)
    return len(frame), (box[0], box[1], box[2], box[3])


def _geometries_of(assembled: dict[str, Any], rows: npt.NDArray[np.int64]) -> dict[int, Any]:
    if not len(rows):
        return {}
    return halo.geometries_of(_get(assembled["path"]), rows)


def _apply_ids(
    assembled: dict[str, Any],
    *outcomes: pd.DataFrame,
    area: shapely.Geometry | None,
    clip: bool,
    min_area_m2: float,
) -> dict[str, Any]:
    """Apply the id outcomes and clip; spool the partition; return its path, box and row boxes."""
    source = Path(assembled["path"])
    part = halo.apply_ids(
        _get(str(source)), *outcomes, area=area, clip=clip, min_area_m2=min_area_m2
    )
    source.unlink()
    return _spool_part(part, source.with_name(source.name.replace("p0-", "p1-")), kept=True)


def _spool_part(part: halo.Partition, target: Path, *, kept: bool) -> dict[str, Any]:
    """Spool a partition; return its path and the box and spooled row boxes of its rows.

    ``kept`` picks the usable or the rejected rows: what its neighbours' tasks reach for.
    """
    boxes = target.with_suffix(".boxes.npy")
    np.save(boxes, halo.boxes(part, kept=kept))
    return {"path": _put(part, target), "bounds": halo.bounds(part, kept=kept), "boxes": str(boxes)}


def _reach(path: str) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.load(path)
    return out


def _for_neighbours(
    spooled: dict[str, Any],
    *reaches: str,
    targets: tuple[int, ...],
    give: Callable[[halo.Partition, npt.NDArray[np.float64]], Any],
) -> dict[int, Any]:
    """Return what one partition gives each adjacent partition, reading it once.

    ``give`` is :func:`halo.halo` (rows for the overlaps) or :func:`halo.kept_near`
    (kept geometries for the rejects' uncounted area).
    """
    part: halo.Partition = _get(spooled["path"])
    return {t: give(part, _reach(r)) for t, r in zip(targets, reaches, strict=True)}


def _settle(
    spooled: dict[str, Any], *halos: dict[int, dict[str, Any]], number: int, min_area_m2: float
) -> dict[str, Any]:
    """Settle a partition's overlaps against its halo; spool it; return its rejects' boxes."""
    source = Path(spooled["path"])
    part = halo.settle_overlaps(
        _get(str(source)), *[h[number] for h in halos], min_area_m2=min_area_m2
    )
    return _spool_part(part, source.with_name(source.name.replace("p1-", "p2-")), kept=False)


def _finish(
    spooled: dict[str, Any],
    *kept: dict[int, npt.NDArray[np.object_]],
    number: int,
    boundary: bool,
    started: float,
) -> dict[str, Any]:
    """Split a settled partition into kept rows and rejects; spool them; return the code counts."""
    source = Path(spooled["path"])
    with recording() as log:
        kept_rows, rejects = halo.finish(
            _get(str(source)), *[k[number] for k in kept], boundary=boundary
        )
    validated = {
        "kept": kept_rows,
        "rejects": rejects,
        "log": log,
        "seconds": time.perf_counter() - started,
    }
    return {
        "path": _put(validated, source.with_name(source.name.replace("p2-", "v-"))),
        "codes": _code_counts(validated),
    }


def _supply_write(
    finished: dict[str, Any], context: ParcelContext, scheme: str | None, out: str, number: int
) -> dict[str, Any]:
    """Assign, supply and write one partition read back from the spool; return its small results."""
    source = Path(finished["path"])
    result = _supply_part(_get(str(source)), context, scheme)
    source.unlink()
    return _write(result, out, number, context)


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


def partition_layer(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    rows_per_part: int = DEFAULT_PARCELS_PER_PARTITION,
    rows_per_chunk: int = DEFAULT_BATCH_SIZE,
    scheduler: str | None = None,
    client: Client | None = None,
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
) -> PartitionedLayer:
    """Cut a parcel file into spatially sorted GeoParquet parts, in one pass on the workers.

    The rows are read in chunks, ordered along a Hilbert curve of their box
    centres and cut into parts of about ``rows_per_part`` rows; no process
    holds more than a chunk or a part.  Reading the folder with
    :func:`process_parcels_path` then starts from compact partitions.  The
    folder is written beside ``out`` and renamed into place when complete, so
    an interrupted run leaves no half-written folder.

    Parameters
    ----------
    path : str or os.PathLike
        GeoParquet file or folder, GeoPackage, shapefile or other GDAL vector file.
    out : str or os.PathLike
        New (or empty) folder for the parts.
    rows_per_part : int, default 100,000
        Target rows per part.
    rows_per_chunk : int, default 100,000
        Rows each read task reads (also the parts' row-group size).
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
    PartitionedLayer
        The folder, rows and bounds per part, and the reader's findings.

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.
    OutputError
        If ``out`` exists and is not an empty folder.

    Examples
    --------
    >>> import tempfile
    >>> import tqspatial as tq
    >>> d = tq.datasets.tianqiao()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d.parcels.head(300).to_parquet(f"{tmp}/in.parquet")
    ...     cut = partition_layer(f"{tmp}/in.parquet", f"{tmp}/parts", rows_per_part=100,
    ...                           scheduler="sync")
    >>> sum(cut.rows), len(cut.rows)
    (300, 3)
    """
    started = time.perf_counter()
    if rows_per_part < 1 or rows_per_chunk < 1:
        msg = (
            f"rows_per_part and rows_per_chunk must be positive: {rows_per_part}, {rows_per_chunk}"
        )
        raise ValueError(msg)
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        msg = f"{target} exists and is not an empty folder; choose a new folder for the parts"
        raise OutputError(msg)
    with recording() as read_log:
        chunks = parcel_chunks(path, rows_per_chunk=rows_per_chunk, layer=layer, encoding=encoding)
    rows = sum(c.rows for c in chunks)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with _client(scheduler, client) as dask:
            parts = max(1, -(-rows // rows_per_part))
            count, split = _cut(
                dask,
                chunks,
                scratch=staging,
                npartitions=parts,
                source_crs=source_crs,
                read_log=read_log,
            )
            written = dask.gather(
                [
                    dask.submit(
                        _write_partition,
                        str(staging / _SCRATCH[1] / f"part-{k:05d}"),
                        *split,
                        target=str(staging / f"part-{k:05d}.parquet"),
                        row_group=rows_per_chunk,
                    )
                    for k in range(count)
                ]
            )
        for scratch in _SCRATCH:
            shutil.rmtree(staging / scratch)
        if target.exists():
            target.rmdir()  # empty (checked above)
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    logger.info("partition: %d rows into %d parts in %s (%.1f s)", rows, count, target, seconds)
    return PartitionedLayer(
        folder=target,
        rows=[w[0] for w in written],
        bounds=[w[1] for w in written],
        read_log=read_log,
        seconds=seconds,
    )


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
    try:
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
            finished = _validate(dask, parts, context, district, tick, spool=out / _SCRATCH[0])
            scheme, detected = _scheme(dask, finished, context)
            seconds["validate"] = time.perf_counter() - tick
            tick = time.perf_counter()
            shared = dask.scatter(context, broadcast=True)
            written = dask.gather(
                [
                    dask.submit(_supply_write, f, shared, scheme, str(out), k)
                    for k, f in enumerate(finished)
                ]
            )
            del finished
    finally:
        if (out / _SCRATCH[0] / _SCRATCH_MARK).exists():  # ours: the folder was new or empty
            for scratch in _SCRATCH:
                shutil.rmtree(out / scratch, ignore_errors=True)
    seconds["supply+write"] = time.perf_counter() - tick
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
    """Read the chunks on the workers and cut them into spatial partitions (futures).

    Each read task spools its rows to ``out/_spool`` and returns only their box
    centres, so no worker holds more than a few chunks or partitions at a time;
    each partition is spooled again after its per-row rules.
    """
    working = get_settings().working_crs
    first: gpd.GeoDataFrame = dask.gather(
        [dask.submit(_empty_frame, chunks[0], source_crs, working)]
    )[0]
    validate_parcels(first, outside=context.outside)  # layer-level checks first
    district = None if context.boundary is None else _union(context.boundary, first, "parcels")
    _prepare_out(out)
    count, split = _cut(
        dask, chunks, scratch=out, npartitions=npartitions, source_crs=source_crs, read_log=read_log
    )
    parts = [
        dask.submit(
            _assemble,
            str(out / _SCRATCH[1] / f"part-{k:05d}"),
            *split,
            spool=str(out / _SCRATCH[0]),
            number=k,
            nshards=count,
            id_column="parcel_id",
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for k in range(count)
    ]
    return parts, first, district


def _cut(
    dask: _Dask,
    chunks: list[Chunk],
    *,
    scratch: Path,
    npartitions: int | None,
    source_crs: str | None,
    read_log: QualityLog,
) -> tuple[int, list[Any]]:
    """Read the chunks and write each one's rows per spatial partition under ``scratch``.

    Returns the number of partitions and the split tasks (futures); partition
    ``k``'s pieces are in ``scratch/_shuffle/part-K`` once they are done.
    """
    working = get_settings().working_crs
    spool = scratch / _SCRATCH[0]
    spool.mkdir(parents=True)
    (spool / _SCRATCH_MARK).touch()
    smalls = [
        dask.submit(_read, chunk, source_crs, working, str(spool), number)
        for number, chunk in enumerate(chunks)
    ]
    boxes = [
        b for b in dask.gather([dask.submit(operator.getitem, m, "bounds") for m in smalls]) if b
    ]
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
    for log in dask.gather([dask.submit(operator.getitem, m, "log") for m in smalls]):
        read_log.extend(log)
    cuts = _cuts(histogram, npartitions or _default_partitions(rows, dask))
    count = len(cuts) + 1
    logger.info("dask (path): %d rows read in %d chunks; %d partitions", rows, len(chunks), count)
    split = [
        dask.submit(_split_rows, m, b, cuts, str(scratch / _SCRATCH[1]), number)
        for number, (m, b) in enumerate(zip(smalls, bins, strict=True))
    ]
    return count, split


def _empty_frame(chunk: Chunk, source_crs: str | None, working: str) -> gpd.GeoDataFrame:
    """Return the layer's columns and CRS (the first chunk read, no rows kept)."""
    with recording():
        frame = _input_order(read_chunk(chunk, source_crs=source_crs, working_crs=working))
    return frame.iloc[:0]


def _input_order(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give the rows of a :func:`partition_layer` part their numbers in its input."""
    if INPUT_ROW not in frame.columns:
        return frame
    frame = frame.set_index(INPUT_ROW)
    frame.index = pd.Index(frame.index.to_numpy(np.int64))
    return frame


def _neighbours(boxes: list[Box | None], reach: list[Box | None]) -> list[list[int]]:
    """For each partition t, the partitions s != t whose ``reach`` box meets t's box."""
    return [
        [s for s in range(len(reach)) if s != t and _meet(reach[s], boxes[t])]
        for t in range(len(boxes))
    ]


def _validate(
    dask: _Dask,
    parts: list[Any],
    context: ParcelContext,
    district: shapely.Geometry | None,
    started: float,
    *,
    spool: Path,
) -> list[Any]:
    """Validate the partitions: the id index, then the overlap halo, then the uncounted area.

    Every stage reads its partition from the spool and writes the next state
    there, returning only small results (boxes, halos, id outcomes), so a
    worker's memory follows the partition size, not the layer's.
    """
    count = len(parts)
    chosen = [
        dask.submit(_repeated_ids, str(spool / "ids" / f"shard-{k:05d}"), *parts)
        for k in range(count)
    ]
    needed = np.concatenate(
        [c["row"].to_numpy(np.int64) for c in dask.gather(chosen)] or [np.empty(0, np.int64)]
    )
    logger.info("dask (path): id index: %d rows share an id or take its <id>#<n>", len(needed))
    geoms = [dask.submit(_geometries_of, p, needed) for p in parts]
    outcomes = [dask.submit(halo.settle_ids, c, *geoms) for c in chosen]
    applied = [
        dask.submit(
            _apply_ids,
            p,
            *outcomes,
            area=district,
            clip=context.outside == "clip",
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for p in parts
    ]
    del chosen, geoms, outcomes
    parts.clear()  # the caller's futures too
    # overlaps: a halo of the usable rows of adjacent partitions (boxes meet)
    kept_boxes = dask.gather([dask.submit(operator.getitem, a, "bounds") for a in applied])
    logger.info("dask (path): ids settled and rows clipped in every partition")
    kept_reach = [dask.submit(operator.getitem, a, "boxes") for a in applied]
    # halo rows for s come from each t whose kept rows' box meets s's
    sources = _neighbours(kept_boxes, kept_boxes)
    halos = [
        dask.submit(
            _for_neighbours,
            applied[t],
            *[kept_reach[s] for s in sources[t]],
            targets=tuple(sources[t]),
            give=halo.halo,
        )
        for t in range(count)
    ]
    settled = [
        dask.submit(
            _settle,
            applied[s],
            *[halos[t] for t in range(count) if s in sources[t]],
            number=s,
            min_area_m2=MIN_PARCEL_AREA_M2,
        )
        for s in range(count)
    ]
    del applied, kept_reach, halos
    reject_boxes = dask.gather([dask.submit(operator.getitem, p, "bounds") for p in settled])
    logger.info("dask (path): overlaps settled in every partition")
    reject_reach = [dask.submit(operator.getitem, p, "boxes") for p in settled]
    # kept geometries for s's rejects come from each t whose kept box meets s's rejects' box
    givers = _neighbours(kept_boxes, reject_boxes)
    kept = [
        dask.submit(
            _for_neighbours,
            settled[t],
            *[reject_reach[s] for s in givers[t]],
            targets=tuple(givers[t]),
            give=halo.kept_near,
        )
        for t in range(count)
    ]
    return [
        dask.submit(
            _finish,
            settled[s],
            *[kept[t] for t in range(count) if s in givers[t]],
            number=s,
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
        c
        for c in dask.gather([dask.submit(operator.getitem, v, "codes") for v in validated])
        if c is not None
    ]
    if not counts:
        return None, None
    summed = pd.concat(counts).groupby(level=0, sort=False).sum()
    detected = detect_scheme(np.repeat(summed.index.to_numpy(dtype=object), summed.to_numpy()))
    return detected, detected
