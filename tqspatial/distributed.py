"""The parcel stages on a Dask cluster: spatial partitions, exact combination.

:func:`process_parcels_partitioned` gives the same result as
:func:`tqspatial.inventory.process_parcels` (same kept ids and rows, same
shares, same rejects, same ledger and summary to rounding) while running
validation, assignment and supply per spatial partition on a
``dask.distributed`` cluster: a ``LocalCluster`` started for the call, or any
running scheduler.

Notes
-----
Most parcel rules look at one row at a time.  Three do not, and the
partitioning respects them (see :func:`partition_parcels`):

* **ids** - a later row with the same (normalised) id as an earlier one is a
  duplicate or gets renamed ``<id>#2``; the rename skips ids already taken.
  Rows sharing an id, and rows whose id is such a rename of a repeated id,
  are kept in one partition.
* **overlaps** - the earlier row keeps shared area, later rows lose it, in
  chains.  Rows whose areas overlap (and, near the district boundary, rows
  that only touch, since clipping may make them overlap by a hair) are kept
  in one partition; a rejected row's uncovered area is measured against the
  kept parcels it overlaps, which are therefore in its partition too.
* **land-use scheme** - detected from all kept codes at once (one column)
  between validation and supply, then passed to every partition.

Parcels are ordered along a Hilbert curve (geopandas'
``hilbert_distance`` of their bounding-box centres) and cut into
``npartitions`` runs of equal size; then every group of rows interacting by
the rules above (the connected components of the interaction graph, found
from an STRtree of bounding boxes and exact tests of the candidate pairs)
is moved whole into the partition of its first row.  Inside a partition rows
keep their input order and their index labels, so each partition is
validated exactly as the single path would validate those rows.  Results are
put back in input order; the ledger and the cluster summary are recomputed
from all parcels, so totals are exact.

The quality logs of the partitions are merged
(:meth:`tqspatial.quality.QualityLog.extend`): a finding's row ids and counts
add up over all partitions, and its examples are the smallest row ids of all,
so the log equals the single path's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import pickle
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from tqspatial.inventory import (
    ParcelContext,
    ParcelResult,
    assign_stage,
    summary_stage,
    supply_stage,
    validate_stage,
)
from tqspatial.landuse import detect_scheme
from tqspatial.quality import QualityLog, recording
from tqspatial.supply import Phasing, supply_ledger
from tqspatial.validate import ID_CONFLICT_SEPARATOR, id_keys, validate_parcels

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "DEFAULT_PARCELS_PER_PARTITION",
    "partition_parcels",
    "process_parcels_partitioned",
]

logger = logging.getLogger(__name__)

#: Target partition size when ``npartitions`` is not given.
DEFAULT_PARCELS_PER_PARTITION = 100_000
#: Hilbert curve level (grid of 2**level cells per axis) used to order parcels.
HILBERT_LEVEL = 16
#: Polygon type ids in shapely.
_POLYGONAL = (3, 6)
#: Names of the in-process schedulers accepted by ``scheduler=``.
_SYNC = ("sync", "synchronous")

IntArray = npt.NDArray[np.intp]


# ----------------------------------------------------------------------------- partitioning


def _id_edges(ids: pd.Series) -> tuple[IntArray, IntArray]:
    """Pairs of rows that the id rules relate: same key, or key = rename of a repeated key."""
    keys = id_keys(ids)[1].tolist()  # as validation compares ids (tqspatial.validate.fold_key)
    frame = pd.DataFrame({"key": keys, "pos": np.arange(len(keys))}).dropna(subset=["key"])
    repeated = frame[frame["key"].duplicated(keep=False)]
    if repeated.empty:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    first = repeated.groupby("key", sort=False)["pos"].transform("min").to_numpy()
    left = [first]
    right = [repeated["pos"].to_numpy()]
    # rows whose id looks like "<repeated id>#<n>" decide which renames are free
    anchor = dict(zip(repeated["key"], first, strict=False))
    sep = ID_CONFLICT_SEPARATOR
    tagged = [
        (key.rpartition(sep)[0], pos)
        for key, pos in zip(frame["key"], frame["pos"], strict=True)
        if sep in key and key.rpartition(sep)[2].isdigit()
    ]
    hits = [(anchor[b], p) for b, p in tagged if b in anchor]
    if hits:
        left.append(np.array([h[0] for h in hits], dtype=np.intp))
        right.append(np.array([h[1] for h in hits], dtype=np.intp))
    return np.concatenate(left).astype(np.intp), np.concatenate(right).astype(np.intp)


def _hilbert_order(geoms: npt.NDArray[np.object_], present: npt.NDArray[np.bool_]) -> IntArray:
    """Positions sorted along a Hilbert curve through the bounding-box centres."""
    bounds = shapely.bounds(geoms)
    centre_x = (bounds[:, 0] + bounds[:, 2]) / 2
    centre_y = (bounds[:, 1] + bounds[:, 3]) / 2
    if not present.any():
        return np.arange(len(geoms), dtype=np.intp)
    total = np.array(
        [
            np.min(bounds[present, 0]),
            np.min(bounds[present, 1]),
            np.max(bounds[present, 2]),
            np.max(bounds[present, 3]),
        ]
    )
    centre_x[~present], centre_y[~present] = total[0], total[1]
    points = gpd.GeoSeries(gpd.points_from_xy(centre_x, centre_y))
    distance = points.hilbert_distance(total_bounds=total, level=HILBERT_LEVEL).to_numpy()
    return np.argsort(distance, kind="stable").astype(np.intp)


def _interacting(
    geoms: npt.NDArray[np.object_],
    left: IntArray,
    right: IntArray,
    exact: npt.NDArray[np.bool_],
    crossing: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Tell which candidate pairs (bounding boxes intersect) can interact in validation.

    Two well-formed polygons interact when their interiors intersect; when
    either crosses the district boundary, touching is enough (clipping both
    may leave a hair of overlap).  Rows that validation may repair (invalid,
    collections, points ...) interact with every box they meet.
    """
    out = ~(exact[left] & exact[right])
    test = np.flatnonzero(~out)
    if len(test):
        a, b = geoms[left[test]], geoms[right[test]]
        hit = shapely.intersects(a, b)
        loose = crossing[left[test]] | crossing[right[test]]
        strict = hit & ~loose
        hit[strict] = ~shapely.touches(a[strict], b[strict])
        out[test] = hit
    return out


def _incidence(left: IntArray, right: IntArray, n: int) -> Callable[[IntArray], IntArray]:
    """Return a function giving the pairs (positions in left/right) that touch given rows."""
    ends = np.concatenate([left, right])
    pair = np.concatenate([np.arange(len(left)), np.arange(len(right))])
    order = np.argsort(ends, kind="stable")
    pair = pair[order]
    indptr = np.searchsorted(ends[order], np.arange(n + 1))

    def incident(rows: IntArray) -> IntArray:
        starts, stops = indptr[rows], indptr[rows + 1]
        lengths = stops - starts
        if not lengths.sum():
            return np.empty(0, np.intp)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        return np.unique(pair[offsets + np.arange(lengths.sum())]).astype(np.intp)

    return incident


def _related_pairs(
    parcels: gpd.GeoDataFrame,
    geoms: npt.NDArray[np.object_],
    labels: IntArray,
    *,
    present: npt.NDArray[np.bool_],
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None,
    id_column: str,
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Pairs of rows related by the id or area rules, found from the partition edges inward.

    Starts from the candidate pairs (bounding boxes meet) that straddle two
    partitions and from the rows sharing ids, and follows related pairs
    until no new row is reached.  Returns the pairs and the rows reached.
    """
    n = len(geoms)
    types = shapely.get_type_id(geoms)
    exact = present & np.isin(types, _POLYGONAL) & shapely.is_valid(geoms)
    crossing = np.zeros(n, dtype=bool)
    if boundary is not None:
        area = (
            shapely.union_all(np.asarray(boundary.geometry.array))
            if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries)
            else boundary
        )
        shapely.prepare(area)
        crossing[present] = ~shapely.contains_properly(area, geoms[present])
    where = np.flatnonzero(present)
    tree = shapely.STRtree(geoms[where])
    qi, ti = tree.query(geoms[where])
    left, right = where[qi], where[ti]
    keep = left < right
    left, right = left[keep], right[keep]
    done = np.zeros(len(left), dtype=bool)
    linked = np.zeros(len(left), dtype=bool)
    id_left, id_right = (
        _id_edges(parcels[id_column])
        if id_column in parcels.columns
        else (np.empty(0, np.intp), np.empty(0, np.intp))
    )

    # Grow the set of rows that must move, from the straddling pairs and shared ids inward.
    incident = _incidence(left, right, n)
    involved = np.zeros(n, dtype=bool)
    involved[id_left] = involved[id_right] = True
    todo = np.union1d(
        np.flatnonzero(labels[left] != labels[right]), incident(np.flatnonzero(involved))
    )
    while len(todo):
        done[todo] = True
        linked[todo] = _interacting(geoms, left[todo], right[todo], exact, crossing)
        hits = todo[linked[todo]]
        reached = np.unique(np.concatenate([left[hits], right[hits]]))
        reached = reached[~involved[reached]]
        involved[reached] = True
        todo = incident(reached)
        todo = todo[~done[todo]]
    pairs_left = np.concatenate([left[linked], id_left]).astype(np.intp)
    pairs_right = np.concatenate([right[linked], id_right]).astype(np.intp)
    return pairs_left, pairs_right, involved


def partition_parcels(
    parcels: gpd.GeoDataFrame,
    npartitions: int,
    *,
    id_column: str = "parcel_id",
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
) -> npt.NDArray[np.intp]:
    """Give each parcel a partition number so that partitions validate independently.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in the working CRS (any geometries, including missing or
        invalid ones).
    npartitions : int
        Number of partitions (at least 1).
    id_column : str, default "parcel_id"
        Identifier column.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        District boundary the parcels will be clipped to.

    Returns
    -------
    numpy.ndarray
        Partition number (``0 .. npartitions - 1``) per row, in row order.
        Runs along a Hilbert curve have (almost) equal sizes; rows that the
        id and overlap rules of :func:`tqspatial.validate.validate_parcels`
        relate are always in the same partition.

    Raises
    ------
    ValueError
        If ``npartitions`` is below 1.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"parcel_id": ["a", "b", "c", "a"]},
    ...     geometry=[box(0, 0, 1, 1), box(5, 0, 6, 1), box(5.5, 0, 7, 1), box(9, 0, 10, 1)],
    ...     crs="EPSG:4548",
    ... )
    >>> labels = partition_parcels(frame, 4)
    >>> bool(labels[0] == labels[3]), bool(labels[1] == labels[2])
    (True, True)
    """
    if npartitions < 1:
        msg = f"npartitions must be at least 1, got {npartitions}"
        raise ValueError(msg)
    n = len(parcels)
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    labels = np.zeros(n, dtype=np.intp)
    if n == 0 or npartitions == 1:
        return labels
    labels[_hilbert_order(geoms, present)] = np.arange(n) * npartitions // n

    pairs_left, pairs_right, involved = _related_pairs(
        parcels, geoms, labels, present=present, boundary=boundary, id_column=id_column
    )
    rows = np.flatnonzero(involved)
    if not len(rows):
        return labels
    local = np.full(n, -1, dtype=np.intp)
    local[rows] = np.arange(len(rows))
    graph = sp.coo_matrix(
        (np.ones(len(pairs_left)), (local[pairs_left], local[pairs_right])),
        shape=(len(rows), len(rows)),
    )
    _, component = connected_components(graph, directed=False)
    first = pd.Series(rows).groupby(component).transform("min").to_numpy()
    moved = int(np.sum(labels[rows] != labels[first]))
    labels[rows] = labels[first]
    logger.info(
        "partitions: %d rows interact with others (ids or shared area); %d moved to keep "
        "them with their first row",
        len(rows),
        moved,
    )
    return labels


# ----------------------------------------------------------------------------- per partition


def _own_copy(context: ParcelContext) -> ParcelContext:
    """Return a copy of the context whose geometries are new objects.

    Workers may be threads of one process, and shapely prepares geometries in
    place, which is not thread-safe: two threads preparing one shared
    structure geometry crash the process.  ``copy.deepcopy`` is not enough
    (pandas copies object arrays by reference); a pickle round trip rebuilds
    every geometry.
    """
    copied: ParcelContext = pickle.loads(pickle.dumps(context))
    return copied


def _validate_part(part: gpd.GeoDataFrame, context: ParcelContext) -> dict[str, Any]:
    started = time.perf_counter()
    with recording() as log:
        kept, rejects = validate_stage(part, _own_copy(context))
    return {"kept": kept, "rejects": rejects, "log": log, "seconds": time.perf_counter() - started}


def _codes(validated: dict[str, Any]) -> pd.Series | None:
    kept: gpd.GeoDataFrame = validated["kept"]
    if "landuse_code" not in kept.columns or {"landuse_canonical", "landuse_category"} <= set(
        kept.columns
    ):
        return None
    codes: pd.Series = kept["landuse_code"]
    return codes


def _supply_part(
    validated: dict[str, Any], context: ParcelContext, scheme: str | None
) -> dict[str, Any]:
    started = time.perf_counter()
    # Every partition uses the scheme detected once from all parcels.
    context = dataclasses.replace(_own_copy(context), landuse_scheme=scheme)
    with recording() as log:
        assigned, overlaps = assign_stage(validated["kept"], context)
        # A partition with nothing kept adds nothing (if all are empty, _combine runs supply).
        supplied = supply_stage(assigned, context)[0] if len(assigned) else assigned
    return {
        "parcels": supplied,
        "rejects": validated["rejects"],
        "overlaps": overlaps,
        "log": QualityLog().extend(validated["log"]).extend(log),
        "seconds": validated["seconds"] + time.perf_counter() - started,
    }


# ----------------------------------------------------------------------------- combining


def _merge_logs(results: list[dict[str, Any]], detected: str | None) -> QualityLog:
    """Merge the partitions' logs; the scheme detected once is reported as detected."""
    merged = QualityLog()
    for result in results:
        merged.extend(result["log"])
    if detected is not None:
        # Partitions were given the scheme detected from all parcels; say it as the single
        # path does, which detects it itself.
        merged.replace_message(
            kind="landuse_scheme",
            old=f"Land-use code scheme given: {detected}.",
            new=f"Land-use code scheme detected: {detected}.",
        )
    return merged


def _in_input_order(frames: list[pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """Concatenate partition frames and sort their rows back into input order."""
    frames = [f for f in frames if len(f)] or frames[:1]  # an empty one has untyped columns
    combined = pd.concat(frames) if len(frames) > 1 else frames[0].copy()
    if not len(combined):
        return combined
    for column in combined.columns:
        # a partition where a text column is all missing holds it as object
        kinds = {str(f[column].dtype): f[column].dtype for f in frames if len(f)}
        typed = [dtype for name, dtype in kinds.items() if name != "object"]
        if len(kinds) > 1 and len(typed) == 1 and combined[column].dtype != typed[0]:
            combined[column] = combined[column].astype(typed[0])
    position = index.get_indexer(combined.index)
    return combined.iloc[np.argsort(position, kind="stable")]


def _combine(
    results: list[dict[str, Any]],
    parcels: gpd.GeoDataFrame,
    context: ParcelContext,
    detected: str | None,
) -> ParcelResult:
    supplied = _in_input_order([r["parcels"] for r in results], parcels.index)
    rejects = _in_input_order([r["rejects"] for r in results], parcels.index)
    order = pd.Series(np.arange(len(supplied)), index=supplied["parcel_id"].astype(object))
    overlaps = pd.concat(
        [r["overlaps"] for r in results if len(r["overlaps"])] or [results[0]["overlaps"]],
        ignore_index=True,
    )
    if len(overlaps):
        rank = order.reindex(overlaps["parcel_id"].astype(object)).to_numpy()
        overlaps = overlaps.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    log = _merge_logs(results, detected)
    if not len(supplied):  # nothing kept anywhere: the supply columns, as the single path
        with recording() as empty:
            supplied, _ = supply_stage(supplied, context)
        log.extend(empty)
    ledger = supply_ledger(supplied, context.structure, phasing=context.phasing or Phasing())
    summary = summary_stage(supplied, context)
    return ParcelResult(
        parcels=supplied,
        rejects=rejects,
        overlaps=overlaps,
        ledger=ledger,
        summary=summary,
        log=log,
    )


# ----------------------------------------------------------------------------- scheduling


@dataclasses.dataclass
class _SyncFuture:
    value: object


class _SyncClient:
    """Runs tasks at once in this process (``scheduler="sync"``): for debugging."""

    def submit(self, func: Callable[..., object], *args: object, **kwargs: object) -> _SyncFuture:
        values = [a.value if isinstance(a, _SyncFuture) else a for a in args]
        named = {k: v.value if isinstance(v, _SyncFuture) else v for k, v in kwargs.items()}
        return _SyncFuture(func(*values, **named))

    def scatter(self, data: object, **_options: object) -> object:
        if isinstance(data, list):
            return [_SyncFuture(d) for d in data]
        return _SyncFuture(data)

    def gather(self, futures: list[_SyncFuture]) -> list[object]:
        return [f.value for f in futures]


@contextlib.contextmanager
def _client(scheduler: str | None, client: Client | None) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    if scheduler in _SYNC:
        yield _SyncClient()
        return
    from distributed import Client, LocalCluster  # noqa: PLC0415 - heavy, only when used

    if scheduler is None or scheduler == "local":
        workers = max(1, os.cpu_count() or 1)
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=False,
                dashboard_address=":0",  # None still binds 8787 (metrics server)
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as local,  # type: ignore[no-untyped-call]
        ):
            logger.info("dask: local cluster with %d worker threads", workers)
            yield local
        return
    with Client(scheduler) as remote:  # type: ignore[no-untyped-call]
        logger.info("dask: connected to scheduler %s", scheduler)
        yield remote


def _default_partitions(n: int, client: object) -> int:
    workers = 1
    info = getattr(client, "scheduler_info", None)
    if callable(info):
        workers = max(1, len(info().get("workers", {})))
    return max(workers, -(-n // DEFAULT_PARCELS_PER_PARTITION))


def process_parcels_partitioned(
    parcels: gpd.GeoDataFrame,
    context: ParcelContext,
    *,
    npartitions: int | None = None,
    scheduler: str | None = None,
    client: Client | None = None,
) -> ParcelResult:
    """Run the parcel stages per spatial partition on Dask; same result as the single path.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in the working CRS (as read by :func:`tqspatial.io.read_parcels`
        or :func:`tqspatial.stream.read_parcels_batched`).
    context : ParcelContext
        Structure, boundary, constraints and options, as for
        :func:`tqspatial.inventory.process_parcels`.
    npartitions : int, optional
        Number of spatial partitions; default one per 100,000 parcels and at
        least one per worker.
    scheduler : str, optional
        None or ``"local"`` starts a ``LocalCluster`` of worker threads in
        this process (one per core; measured faster and leaner than worker
        processes on one machine, since shapely releases the GIL and no data
        is copied between processes) for this call and closes it afterwards; a
        scheduler address (``"tcp://host:8786"``) uses that cluster;
        ``"sync"`` runs the partitions one after the other in this process
        (for debugging).
    client : distributed.Client, optional
        An open client to use (takes precedence over ``scheduler``); left open.

    Returns
    -------
    ParcelResult
        As :func:`tqspatial.inventory.process_parcels`: kept parcels and
        rejects in input order with the same ids, columns and values;
        overlaps ordered by parcel then element; the ledger and summary
        computed from all parcels.  The partitions' quality logs are merged
        into one that equals the single path's.

    Raises
    ------
    SchemaError
        As :func:`tqspatial.validate.validate_parcels` (no id column, geographic
        CRS, bad ``outside``), before any partition runs.
    ValueError
        If ``npartitions`` is below 1.

    Examples
    --------
    >>> import tqspatial as tq
    >>> d = tq.datasets.tianqiao()
    >>> ctx = ParcelContext(structure=d.structure, boundary=d.boundary)
    >>> out = process_parcels_partitioned(d.parcels.head(300), ctx, npartitions=3,
    ...                                   scheduler="sync")
    >>> len(out.parcels) + len(out.rejects) == 300
    True
    """
    started = time.perf_counter()
    validate_parcels(parcels.iloc[:0], outside=context.outside)  # layer-level checks first
    work = parcels
    relabel = not parcels.index.is_unique
    if relabel:
        work = parcels.set_axis(pd.RangeIndex(len(parcels)))
    with _client(scheduler, client) as dask:
        parts_n = npartitions or _default_partitions(len(work), dask)
        labels = partition_parcels(work, parts_n, boundary=context.boundary)
        grouped = [work.iloc[np.flatnonzero(labels == k)] for k in range(parts_n)]
        grouped = [g for g in grouped if len(g)] or [work]
        logger.info(
            "dask: %d parcels in %d partitions (%d to %d rows) in %.1f s",
            len(work),
            len(grouped),
            min(len(g) for g in grouped),
            max(len(g) for g in grouped),
            time.perf_counter() - started,
        )
        # hash=False: keys without tokenizing (dask cannot tokenize a raster's masked array
        # unless dask.array is imported; hashing whole partitions is wasted work anyway)
        shared = dask.scatter(context, broadcast=True, hash=False)
        parts = dask.scatter(grouped, hash=False)
        validated = [dask.submit(_validate_part, p, shared) for p in parts]
        scheme = context.landuse_scheme
        detected = None
        if scheme is None:
            codes = [
                c for c in dask.gather([dask.submit(_codes, v) for v in validated]) if c is not None
            ]
            if codes:
                scheme = detected = detect_scheme(pd.concat(codes))
        supplied = [dask.submit(_supply_part, v, shared, scheme) for v in validated]
        results = dask.gather(supplied)
    out = _combine(results, work, context, detected)
    if relabel:
        out = _restore_labels(out, parcels.index)
    logger.info(
        "dask: %d partitions done in %.1f s (%.1f s of partition work)",
        len(results),
        time.perf_counter() - started,
        sum(r["seconds"] for r in results),
    )
    return out


def _restore_labels(out: ParcelResult, index: pd.Index) -> ParcelResult:
    parcels = out.parcels.set_axis(index[out.parcels.index.to_numpy()])
    rejects = out.rejects.set_axis(index[out.rejects.index.to_numpy()])
    if "source_row" in rejects.columns:
        rejects["source_row"] = rejects.index.to_numpy()
    log = out.log
    if pd.api.types.is_integer_dtype(index.dtype):  # the single path logs integer labels
        log = log.relabel_rows(index.to_numpy())
    return dataclasses.replace(out, parcels=parcels, rejects=rejects, log=log)
