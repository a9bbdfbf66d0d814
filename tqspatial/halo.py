"""Parcel validation of one spatial partition, with a halo and a global id index.

:func:`tqspatial.validate.validate_parcels` compares rows in two rules: ids
(a later row with an earlier row's normalised id is a duplicate or renamed
``<id>#2``, skipping ids already taken) and overlaps (the earlier row keeps
shared area).  Here the same rules run on a layer cut into spatial
partitions that never meet in one process:

1. :func:`prepare` runs the per-row rules on a partition (missing and
   non-polygonal geometry, repair, slivers, missing and padded ids) and
   :func:`id_entries` lists its usable ids.
2. The id entries are shuffled on their normalised id (:func:`id_shard`),
   so each id and its ``<id>#<n>`` renames meet in one shard; a shard
   settles only its repeated ids (:func:`settle_ids`), with the geometries
   of just those rows, by the single path's own rule.
3. :func:`apply_ids` gives each partition its rows' outcomes, then clips to
   the boundary (per row).
4. Overlaps: each partition receives the usable rows of spatially adjacent
   partitions whose boxes reach it (:func:`halo`) and settles its own rows'
   overlaps against them in input order (:func:`settle_overlaps`); the
   earlier row keeps shared area whatever partition it is in.
5. A reject's uncounted area is measured against the final kept parcels of
   its own and of adjacent partitions (:func:`kept_near`, :func:`finish`).

Every rule sees exactly the rows it sees in the single path, so kept rows,
rejects, repairs and the quality log are the same; a partition holds its own
rows plus a boundary strip of its neighbours.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from tqspatial.validate import (
    ID_CONFLICT_SEPARATOR,
    MIN_PARCEL_AREA_M2,
    _clip,
    _Ledger,
    _record,
    _resolve_ids,
    _resolve_overlaps,
    _row_rules,
    _same_geometry,
    _split,
    _uncounted,
    id_keys,
)

__all__ = [
    "Partition",
    "apply_ids",
    "bounds",
    "boxes",
    "finish",
    "halo",
    "id_entries",
    "id_shard",
    "kept_near",
    "prepare",
    "settle_ids",
    "settle_overlaps",
]

ObjArray = npt.NDArray[np.object_]
#: Columns of the id outcomes a shard sends back to the partitions.
OUTCOME_COLUMNS = ("row", "new_id", "reason", "kind", "detail")


@dataclasses.dataclass
class Partition:
    """One spatial partition part-way through validation.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The partition's input rows in input order; the index is the row
        number in the whole layer.
    geoms : numpy.ndarray
        Working geometries (repaired, clipped, trimmed as the rules go).
    ledger : object
        Reject reasons and repairs per row (:mod:`tqspatial.validate`'s ledger).
    ids : numpy.ndarray
        Kept ids (stripped, renamed) per row.
    outside_area : numpy.ndarray
        Area (m²) outside the boundary per row.
    """

    frame: gpd.GeoDataFrame
    geoms: ObjArray
    ledger: _Ledger
    ids: ObjArray
    outside_area: npt.NDArray[np.float64]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the working geometries as one WKB array (about 4x faster than one by one).

        Returns
        -------
        dict
            The attributes; of ``geoms`` only the rows that differ from the input
            geometry, as WKB (exact: WKB keeps every coordinate bit).
        """
        state = dict(self.__dict__)
        # most working geometries are still the input's own objects: keep only the others
        given = np.asarray(self.frame.geometry.array, dtype=object)
        changed = np.flatnonzero(
            np.fromiter(map(id, self.geoms), np.int64, len(self.geoms))
            != np.fromiter(map(id, given), np.int64, len(given))
        )
        state["geoms"] = (changed, shapely.to_wkb(self.geoms[changed]))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`__getstate__`.

        Parameters
        ----------
        state : dict
            The attributes, ``geoms`` as WKB.
        """
        state = dict(state)
        changed, wkb = state["geoms"]
        geoms: ObjArray = np.asarray(state["frame"].geometry.array, dtype=object).copy()
        geoms[changed] = shapely.from_wkb(wkb)
        state["geoms"] = geoms
        self.__dict__.update(state)

    def copy(self) -> Partition:
        """Return a copy whose arrays and ledger can change without touching this one.

        Returns
        -------
        Partition
            The copy (the input frame is shared: it is never changed).
        """
        ledger = copy.copy(self.ledger)  # arrays copied; their texts shared (immutable)
        ledger.ok, ledger.reason = self.ledger.ok.copy(), self.ledger.reason.copy()
        ledger.detail, ledger.repairs = self.ledger.detail.copy(), list(self.ledger.repairs)
        return Partition(
            frame=self.frame,
            geoms=self.geoms.copy(),
            ledger=ledger,
            ids=self.ids.copy(),
            outside_area=self.outside_area.copy(),
        )


def prepare(
    frame: gpd.GeoDataFrame,
    *,
    id_column: str = "parcel_id",
    min_area_m2: float = MIN_PARCEL_AREA_M2,
) -> Partition:
    """Run the per-row rules (geometry, slivers, missing and padded ids) on one partition.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The partition's rows in input order, indexed by their row number in
        the layer.
    id_column : str, default "parcel_id"
        Identifier column.
    min_area_m2 : float, default 1.0
        Sliver threshold.

    Returns
    -------
    Partition
        The partition with its per-row rejects and repairs.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"parcel_id": [" a ", ""]}, geometry=[box(0, 0, 9, 9)] * 2,
    ...                      crs="EPSG:4548")
    >>> part = prepare(f)
    >>> part.ids[0], part.ledger.reason.tolist()
    ('a', [None, 'missing_id'])
    """
    ledger = _Ledger(len(frame))
    geoms: ObjArray = np.asarray(frame.geometry.array, dtype=object).copy()
    _row_rules(geoms, ledger, min_area_m2)
    ids = _local_ids(frame, id_column, ledger)
    return Partition(frame, geoms, ledger, ids, np.zeros(len(frame)))


def _local_ids(frame: gpd.GeoDataFrame, id_column: str, ledger: _Ledger) -> ObjArray:
    """Apply the per-row part of the id rule: missing ids rejected, padded ids stripped."""
    # As tqspatial.validate._resolve_ids before it compares rows.
    stripped, keys = id_keys(frame[id_column])
    original = frame[id_column].to_numpy(dtype=object)
    missing = pd.isna(keys)
    ledger.reject(np.flatnonzero(missing & ledger.ok), "missing_id", "the id is missing or blank")
    new_ids = original.copy()
    new_ids[~missing] = stripped[~missing]
    is_text = np.array([isinstance(v, str) for v in original], dtype=bool)
    changed = np.flatnonzero(ledger.ok & is_text & (new_ids != original))
    ledger.repair(
        changed,
        "id_stripped",
        np.array([f"id {original[p]!r} stripped to {new_ids[p]!r}" for p in changed], dtype=object),
    )
    out: ObjArray = new_ids
    return out


# ----------------------------------------------------------------------------- id index


def _base(key: str) -> str | None:
    """``"a-01"`` for a key ``"a-01#3"`` (a possible rename), else None."""
    head, sep, tail = key.rpartition(ID_CONFLICT_SEPARATOR)
    return head if sep and tail.isdigit() else None


def id_entries(part: Partition, *, id_column: str = "parcel_id") -> pd.DataFrame:
    """List the usable rows' ids for the id index.

    Parameters
    ----------
    part : Partition
        After :func:`prepare`.
    id_column : str, default "parcel_id"
        Identifier column.

    Returns
    -------
    pandas.DataFrame
        ``row`` (row number in the layer), ``key`` (normalised id),
        ``original`` (the id as read) and ``base`` (for a key
        ``<id>#<n>``, the ``<id>`` it may be a rename of; else None).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"parcel_id": ["A#2", "b"]}, geometry=[box(0, 0, 9, 9)] * 2,
    ...                      crs="EPSG:4548")
    >>> e = id_entries(prepare(f))
    >>> e["key"].tolist(), e["base"].notna().tolist()
    (['a#2', 'b'], [True, False])
    """
    usable = np.flatnonzero(part.ledger.ok)
    keys = id_keys(part.frame[id_column].iloc[usable])[1]
    return pd.DataFrame(
        {
            "row": part.frame.index.to_numpy()[usable].astype(np.int64),
            "key": keys,
            "original": part.frame[id_column].to_numpy(dtype=object)[usable],
            "base": np.array([_base(k) for k in keys.tolist()], dtype=object),
        }
    )


def _shard_of(keys: pd.Series, nshards: int) -> npt.NDArray[np.intp]:
    hashed = pd.util.hash_array(keys.to_numpy(dtype=object))  # the same in every process
    return (hashed % np.uint64(nshards)).astype(np.intp)


def id_shard(entries: pd.DataFrame, nshards: int) -> list[pd.DataFrame]:
    """Split id entries by shard: each by its key, and a possible rename also by its base.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`id_entries`.
    nshards : int
        Number of shards.

    Returns
    -------
    list of pandas.DataFrame
        Entries per shard, with a bool column ``tagged``: True for a
        ``<id>#<n>`` entry sent to the shard of ``<id>`` (it decides which
        rename numbers are taken there).

    Examples
    --------
    >>> e = pd.DataFrame({"row": [0, 1], "key": ["a", "a#2"], "original": ["a", "a#2"],
    ...                   "base": [None, "a"]})
    >>> shards = id_shard(e, 3)
    >>> sum(len(s) for s in shards)
    3
    """
    own = entries.assign(tagged=False)
    renames = entries[entries["base"].notna()].assign(tagged=True)
    target = np.concatenate([_shard_of(own["key"], nshards), _shard_of(renames["base"], nshards)])
    both = pd.concat([own, renames], ignore_index=True)
    return [both[target == k].reset_index(drop=True) for k in range(nshards)]


def repeated_ids(*pieces: pd.DataFrame) -> pd.DataFrame:
    """Select the entries of one shard that the id rules compare: repeated ids, their renames.

    Parameters
    ----------
    *pieces : pandas.DataFrame
        This shard's entries from every partition (:func:`id_shard`).

    Returns
    -------
    pandas.DataFrame
        Entries in input order (``row``), one per row, with ``owned`` True
        for the rows of ids repeated in this shard (whose outcome this shard
        decides) and False for rows only there to mark rename numbers taken.

    Examples
    --------
    >>> e = pd.DataFrame({"row": [0, 1, 2], "key": ["a", "a#2", "a"],
    ...                   "original": ["a", "a#2", "A"], "base": [None, "a", None]})
    >>> repeated_ids(*id_shard(e, 1))[["row", "owned"]].values.tolist()
    [[0, True], [1, False], [2, True]]
    """
    shard = pd.concat(pieces, ignore_index=True)
    own = shard[~shard["tagged"].astype(bool)]
    repeated = set(own["key"][own["key"].duplicated(keep=False)].tolist())
    owned = own[own["key"].isin(repeated)].assign(owned=True)
    marks = shard[shard["tagged"].astype(bool) & shard["base"].isin(repeated)].assign(owned=False)
    chosen = pd.concat([owned, marks]).drop(columns="tagged")
    chosen = chosen.sort_values(["row", "owned"], ascending=[True, False], kind="stable")
    return chosen.drop_duplicates("row").reset_index(drop=True)


def geometries_of(part: Partition, rows: npt.ArrayLike) -> dict[int, Any]:
    """Return the working geometries of the given rows that this partition holds.

    Parameters
    ----------
    part : Partition
        After :func:`prepare`.
    rows : array_like
        Row numbers in the layer.

    Returns
    -------
    dict
        Row number -> geometry, for the rows held here.
    """
    where = np.flatnonzero(np.isin(part.frame.index.to_numpy(), np.asarray(rows)))
    return dict(zip(part.frame.index[where].tolist(), part.geoms[where].tolist(), strict=True))


def settle_ids(
    chosen: pd.DataFrame, *geometries: dict[int, Any], id_column: str = "parcel_id"
) -> pd.DataFrame:
    """Settle one shard's repeated ids by the single path's rule.

    Parameters
    ----------
    chosen : pandas.DataFrame
        From :func:`repeated_ids`.
    *geometries : dict
        Row -> working geometry (:func:`geometries_of` of every partition).
    id_column : str, default "parcel_id"
        Identifier column.

    Returns
    -------
    pandas.DataFrame
        Per owned row: ``row``, ``new_id``, ``reason`` (``"duplicate_feature"``
        or None), ``kind`` (``"id_conflict"``, ``"id_case_variant"`` or None)
        and ``detail``.
    """
    found: dict[int, Any] = {}
    for piece in geometries:
        found.update(piece)
    rows = chosen["row"].to_numpy(dtype=np.int64)
    geoms = np.array([found[r] for r in rows.tolist()], dtype=object)
    mini = gpd.GeoDataFrame(
        {id_column: chosen["original"].to_numpy(dtype=object)},
        geometry=list(geoms),
        index=pd.Index(rows),
    )
    ledger = _Ledger(len(mini))
    ids = _resolve_ids(mini, id_column, geoms, ledger, _same_geometry).to_numpy(dtype=object)
    detail = ledger.detail.copy()
    kind = np.full(len(mini), None, dtype=object)
    for name, pos, texts in ledger.repairs:
        if name in ("id_conflict", "id_case_variant"):
            kind[pos] = name
            detail[pos] = texts
    out = pd.DataFrame(
        {"row": rows, "new_id": ids, "reason": ledger.reason, "kind": kind, "detail": detail}
    )
    owned = chosen["owned"].to_numpy(dtype=bool)
    return out[owned & (pd.notna(out["reason"]) | pd.notna(out["kind"]))].reset_index(drop=True)


def apply_ids(
    part: Partition,
    *outcomes: pd.DataFrame,
    area: shapely.Geometry | None,
    clip: bool,
    min_area_m2: float = MIN_PARCEL_AREA_M2,
) -> Partition:
    """Apply the id index's outcomes to a partition, then clip it to the district.

    Parameters
    ----------
    part : Partition
        After :func:`prepare`.
    *outcomes : pandas.DataFrame
        :func:`settle_ids` of every shard.
    area : shapely.Geometry, optional
        The district (boundary union); None skips the boundary rule.
    clip : bool
        Clip straddling parcels (``outside="clip"``) or only measure them.
    min_area_m2 : float, default 1.0
        Sliver threshold.

    Returns
    -------
    Partition
        A new partition; ``part`` is unchanged.
    """
    part = part.copy()
    table = pd.concat(
        [pd.DataFrame({c: [] for c in OUTCOME_COLUMNS}), *outcomes], ignore_index=True
    )
    position = part.frame.index.get_indexer(table["row"].to_numpy(dtype=np.int64))
    table = table[position >= 0].assign(pos=position[position >= 0]).sort_values("pos")
    dup = table[table["reason"] == "duplicate_feature"]
    part.ledger.reject(
        dup["pos"].to_numpy(np.intp), "duplicate_feature", dup["detail"].to_numpy(object)
    )
    for kind in ("id_conflict", "id_case_variant"):
        hit = table[table["kind"] == kind]
        pos = hit["pos"].to_numpy(np.intp)
        part.ids[pos] = hit["new_id"].to_numpy(object)
        part.ledger.repair(pos, kind, hit["detail"].to_numpy(object))
    if area is not None:
        own = shapely.from_wkb(shapely.to_wkb(area))  # prepared in place: one per task
        part.outside_area = _clip(part.geoms, part.ledger, own, clip=clip, min_area_m2=min_area_m2)
    return part


# ----------------------------------------------------------------------------- halo


def bounds(part: Partition, *, kept: bool = True) -> tuple[float, float, float, float] | None:
    """Bounding box of a partition's usable (``kept=True``) or rejected rows; None if none.

    Parameters
    ----------
    part : Partition
        A partition.
    kept : bool, default True
        Box of the usable rows, or of the rejected rows with a geometry.

    Returns
    -------
    tuple of float or None
        ``(xmin, ymin, xmax, ymax)``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"parcel_id": ["a", "b"]}, geometry=[box(0, 0, 9, 9), None],
    ...                      crs="EPSG:4548")
    >>> bounds(prepare(f)), bounds(prepare(f), kept=False)
    ((0.0, 0.0, 9.0, 9.0), None)
    """
    mask = part.ledger.ok if kept else ~part.ledger.ok
    geoms = part.geoms[mask]
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(geoms):
        return None
    box = shapely.bounds(geoms)
    return (
        float(box[:, 0].min()),
        float(box[:, 1].min()),
        float(box[:, 2].max()),
        float(box[:, 3].max()),
    )


def boxes(part: Partition, *, kept: bool = True) -> npt.NDArray[np.float64]:
    """Return the boxes of a partition's usable (``kept=True``) or rejected rows.

    Parameters
    ----------
    part : Partition
        A partition.
    kept : bool, default True
        Boxes of the usable rows, or of the rejected rows with a geometry.

    Returns
    -------
    numpy.ndarray
        ``(n, 4)`` array of ``xmin, ymin, xmax, ymax``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 9, 9)], crs="EPSG:4548")
    >>> boxes(prepare(f)).tolist()
    [[0.0, 0.0, 9.0, 9.0]]
    """
    mask = part.ledger.ok if kept else ~part.ledger.ok
    geoms = part.geoms[mask]
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    out: npt.NDArray[np.float64] = shapely.bounds(geoms).reshape(-1, 4)
    return out


def _near(geoms: ObjArray, reach: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Tell which geometries have boxes meeting any of the boxes ``reach``."""
    out = np.zeros(len(geoms), dtype=bool)
    if not len(geoms) or not len(reach):
        return out
    own = shapely.bounds(geoms).reshape(-1, 4)
    # first by the boxes around all of each side, then box by box
    total = (reach[:, 0].min(), reach[:, 1].min(), reach[:, 2].max(), reach[:, 3].max())
    near = np.flatnonzero(
        (own[:, 0] <= total[2])
        & (own[:, 2] >= total[0])
        & (own[:, 1] <= total[3])
        & (own[:, 3] >= total[1])
    )
    if not len(near):
        return out
    lo, hi = own[near, :2].min(axis=0), own[near, 2:].max(axis=0)
    reach = reach[
        (reach[:, 0] <= hi[0])
        & (reach[:, 2] >= lo[0])
        & (reach[:, 1] <= hi[1])
        & (reach[:, 3] >= lo[1])
    ]
    tree = shapely.STRtree(geoms[near])  # on the geometries' envelopes
    out[near[tree.query(shapely.box(*reach.T))[1]]] = True
    return out


def halo(part: Partition, reach: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Return the usable rows of a partition whose boxes meet another partition's rows.

    Parameters
    ----------
    part : Partition
        After :func:`apply_ids`.
    reach : numpy.ndarray
        The receiving partition's :func:`boxes` of usable rows.

    Returns
    -------
    dict
        ``rows``, ``geoms`` and ``ids`` arrays.
    """
    usable = np.flatnonzero(part.ledger.ok)
    near = usable[_near(part.geoms[usable], reach)]
    return {
        "rows": part.frame.index.to_numpy()[near].astype(np.int64),
        "geoms": part.geoms[near],
        "ids": part.ids[near],
    }


def settle_overlaps(
    part: Partition, *halos: dict[str, Any], min_area_m2: float = MIN_PARCEL_AREA_M2
) -> Partition:
    """Settle the overlaps of a partition's rows against earlier rows here and in its halo.

    Parameters
    ----------
    part : Partition
        After :func:`apply_ids`.
    *halos : dict
        :func:`halo` of every adjacent partition.
    min_area_m2 : float, default 1.0
        Sliver threshold.

    Returns
    -------
    Partition
        A new partition with its rows trimmed or rejected (``overlap_covered``).
    """
    part = part.copy()
    usable = np.flatnonzero(part.ledger.ok)
    rows = np.concatenate(
        [part.frame.index.to_numpy()[usable].astype(np.int64), *[h["rows"] for h in halos]]
    )
    geoms = np.concatenate([part.geoms[usable], *[h["geoms"] for h in halos]]).astype(object)
    ids = np.concatenate([part.ids[usable], *[h["ids"] for h in halos]]).astype(object)
    local = np.concatenate([usable, np.full(len(rows) - len(usable), -1, dtype=np.intp)])
    order = np.argsort(rows, kind="stable")  # input order: earlier rows keep shared area
    geoms, ids, local = geoms[order], ids[order], local[order]
    ledger = _Ledger(len(rows))
    _resolve_overlaps(geoms, ledger, pd.Series(ids, dtype=object), min_area_m2)
    mine = local >= 0
    covered = np.flatnonzero(mine & ~ledger.ok)
    part.ledger.reject(local[covered], "overlap_covered", ledger.detail[covered])
    for kind, pos, texts in ledger.repairs:
        hit = mine[pos]
        part.ledger.repair(local[pos[hit]], kind, texts[hit])
    part.geoms[local[mine]] = geoms[mine]
    return part


def kept_near(part: Partition, reach: npt.NDArray[np.float64]) -> ObjArray:
    """Return the final geometries of a partition's kept rows whose boxes meet ``reach``.

    Parameters
    ----------
    part : Partition
        After :func:`settle_overlaps`.
    reach : numpy.ndarray
        The receiving partition's :func:`boxes` of rejected rows.

    Returns
    -------
    numpy.ndarray
        Geometries.
    """
    usable = np.flatnonzero(part.ledger.ok)
    out: ObjArray = part.geoms[usable[_near(part.geoms[usable], reach)]]
    return out


def finish(
    part: Partition,
    *kept_halos: ObjArray,
    id_column: str = "parcel_id",
    layer: str = "parcels",
    boundary: bool,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split a settled partition into kept rows and rejects and record it in the quality log.

    Parameters
    ----------
    part : Partition
        After :func:`settle_overlaps`.
    *kept_halos : numpy.ndarray
        :func:`kept_near` of every adjacent partition (for the rejects'
        uncounted area).
    id_column : str, default "parcel_id"
        Identifier column.
    layer : str, default "parcels"
        Layer name.
    boundary : bool
        Whether a boundary was applied (adds ``outside_area_m2``).

    Returns
    -------
    kept, rejects : geopandas.GeoDataFrame
        As :func:`tqspatial.validate.validate_parcels` for these rows.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"parcel_id": ["a", "b"]},
    ...                      geometry=[box(0, 0, 9, 9), box(5, 0, 9, 9)], crs="EPSG:4548")
    >>> part = settle_overlaps(apply_ids(prepare(f), area=None, clip=True))
    >>> kept, rejects = finish(part, boundary=False)
    >>> kept["area_m2"].tolist(), rejects["reason"].tolist()
    ([81.0], ['overlap_covered'])
    """
    frame = part.frame
    extra: dict[str, npt.NDArray[Any]] = {"area_m2": shapely.area(part.geoms)}
    if boundary:
        extra["outside_area_m2"] = part.outside_area
    kept, rejects, _ = _split(
        frame,
        part.ledger,
        geoms=part.geoms,
        ids=pd.Series(part.ids, index=frame.index, dtype=object),
        id_column=id_column,
        layer=layer,
        extra=extra,
    )
    kept["area_m2"] = kept["area_m2"].astype(float)
    finals = np.concatenate([np.asarray(kept.geometry.array, dtype=object), *kept_halos])
    rejects["uncounted_area_m2"] = _uncounted(
        part.geoms, part.ledger, gpd.GeoDataFrame(geometry=list(finals))
    )
    _record(part.ledger, frame.index, layer)
    return kept, rejects
