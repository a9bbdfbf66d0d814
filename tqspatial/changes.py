"""What changed between two land inventories: parcels and per-cluster supply.

:func:`compare_inventories` takes two inventories (the parcels a refresh
writes to ``parcels.parquet``, with their supply ledgers and accessibility
summaries when there are any) and returns an :class:`InventoryChanges`:

* ``parcels``: the **change table**, one row per parcel that changed, with a
  boolean column per change kind (:data:`CHANGE_KINDS`) and ``change``, the
  kinds joined by ``", "``.  A parcel can have several kinds (renamed *and*
  land-use code changed); parcels without a change have no row.
* ``clusters``: per cluster (and ``unassigned`` and the ``district`` total),
  old, new and delta of renewal parcels, gross area, net supply, new floor
  area, new residents and new jobs (:data:`CLUSTER_QUANTITIES`), from the
  ledgers: the deltas are the difference of the two ledgers' cluster sums.
* ``access``: old, new and delta of the accessibility medians per cluster
  and measure, when both inventories have them.
* ``summary``: a short Chinese/English Markdown section for the quality report.

**Matching parcels.**  A parcel id present in both inventories is the same
parcel (its geometry may have changed).  Among the rest (ids only in the old
inventory, ids only in the new one) a pair whose geometries overlap with an
intersection over union (IoU) of at least ``iou_min`` (default 0.95) is the
same parcel *renamed*; the others are *removed* and *added*.  Candidate pairs
come from an STRtree query (bounding boxes, then ``intersects``), pairs whose
area ratio alone rules the IoU out are skipped, and each remaining pair's
IoU is computed exactly.  Pairs are taken one-to-one, best IoU first, ties
broken by old id then new id.  With ``iou_min`` above 0.5 and parcels that do
not overlap within an inventory (as :func:`tqspatial.validate.validate_parcels`
guarantees), a parcel has at most one partner, so the greedy choice is the
only one; a parcel split in two (each half IoU about 0.5) or two merged are
removed + added.  Overlapping parcels can compete for one partner: the losers
are added / removed, and the number of such ties is a note.  Id matching comes
first, so two parcels that swapped ids show as two geometry changes.

**Compared attributes** are declared in :data:`PARCEL_COMPARED` (name in the
change table, change kind, the inventory columns holding it).  An attribute
absent from either inventory is not compared, and the notes say so: the
comparison works across inventories written before and after a column rename.
Projected people and jobs are ``new_residents`` / ``new_jobs``; inventories
written before that rename held them in ``residents`` / ``jobs``, which
newer inventories use for the *input* counts.  Those legacy names are read
only from an inventory that has the supply stage's outputs
(``new_floor_area_m2``) but not the new names.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> old = gpd.GeoDataFrame({"parcel_id": ["a", "b", "c"], "landuse_code": ["0701", "0901", "1001"]},
...                        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
...                        crs="EPSG:4548")
>>> new = old.copy()
>>> new.loc[0, "landuse_code"] = "0902"              # a: land-use code changed
>>> new.loc[1, "parcel_id"] = "b2"                   # b: renamed, same geometry
>>> new = new.drop(index=2)                          # c: removed
>>> changes = compare_inventories(old, new)
>>> changes.parcels[["parcel_id", "change"]].values.tolist()
[['a', 'landuse_changed'], ['b2', 'renamed'], ['c', 'removed']]
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from tqspatial.assign import UNASSIGNED
from tqspatial.errors import ConfigError, CRSError, SchemaError

__all__ = [
    "CHANGE_KINDS",
    "CLUSTER_QUANTITIES",
    "DISTRICT",
    "GEOMETRY_TOL_M2",
    "PARCEL_COMPARED",
    "RENAME_IOU_MIN",
    "ClusterQuantity",
    "Compared",
    "InventoryChanges",
    "InventorySnapshot",
    "compare_inventories",
]

logger = logging.getLogger(__name__)

#: Smallest intersection over union for a parcel whose id changed to count as renamed.
RENAME_IOU_MIN = 0.95

#: A parcel's geometry counts as changed when old and new differ by more than this area
#: (symmetric difference, m²): rewriting or reprojecting a layer moves vertices by far less.
GEOMETRY_TOL_M2 = 1.0

#: Row of the district total in the per-cluster table.
DISTRICT = "district"

#: Change kinds, in the order of the change table's columns and of the summary, with their
#: Chinese and English names in the summary.
CHANGE_KINDS: Mapping[str, tuple[str, str]] = {
    "added": ("新增", "added"),
    "removed": ("删除", "removed"),
    "renamed": ("编号变更", "renamed (new id, same land)"),
    "geometry_changed": ("形状变化", "geometry changed"),
    "cluster_changed": ("所属组团变化", "cluster changed"),
    "landuse_changed": ("用地代码变化", "land-use code changed"),
    "renewal_changed": ("更新类型或时序变化", "renewal type or phase changed"),
    "supply_changed": ("供给变化", "supply changed"),
}

#: Columns whose presence shows that an inventory went through the supply stage.
SUPPLY_MARKER = "new_floor_area_m2"


@dataclasses.dataclass(frozen=True)
class Compared:
    """A parcel attribute compared between two inventories.

    Attributes
    ----------
    name : str
        Name in the change table: ``<name>_old``, ``<name>_new`` and, for
        numbers, ``<name>_delta``.
    kind : str
        The change kind (a key of :data:`CHANGE_KINDS`) a difference flags.
    columns : tuple of str
        Inventory columns holding it, preferred first.
    legacy : tuple of str
        Names in inventories written before a rename; read only from an
        inventory that has none of ``columns`` but has the supply outputs
        (:data:`SUPPLY_MARKER`).
    tolerance : float, optional
        Numbers: the absolute difference that counts as a change.  None
        compares the values as text (missing equals missing).
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    legacy: tuple[str, ...] = ()
    tolerance: float | None = None

    def column_in(self, columns: Sequence[object]) -> str | None:
        """Return the column holding this attribute in a frame with ``columns``, or None.

        Parameters
        ----------
        columns : sequence
            The frame's column names.

        Returns
        -------
        str or None
            The first of :attr:`columns` present, else a legacy name when the
            frame has the supply outputs, else None.

        Examples
        --------
        >>> c = Compared("new_residents", "supply_changed", ("new_residents",), ("residents",))
        >>> c.column_in(["residents", "new_floor_area_m2"]), c.column_in(["residents"])
        ('residents', None)
        """
        present = {str(c) for c in columns}
        for name in self.columns:
            if name in present:
                return name
        if SUPPLY_MARKER in present:
            for name in self.legacy:
                if name in present:
                    return name
        return None


#: Parcel attributes compared for parcels present in both inventories (same id or renamed).
#: Tolerances: 1 m² of land or floor area, half a person or job (the projections are
#: unrounded expectations).
PARCEL_COMPARED: tuple[Compared, ...] = (
    Compared("cluster_id", "cluster_changed", ("cluster_id",)),
    Compared("landuse_code", "landuse_changed", ("landuse_code",)),
    Compared("renewal_type", "renewal_changed", ("renewal_type",)),
    Compared("phase", "renewal_changed", ("phase",)),
    Compared("net_supply_m2", "supply_changed", ("supply_net_m2",), tolerance=1.0),
    Compared("new_floor_area_m2", "supply_changed", ("new_floor_area_m2",), tolerance=1.0),
    Compared("new_residents", "supply_changed", ("new_residents",), ("residents",), 0.5),
    Compared("new_jobs", "supply_changed", ("new_jobs",), ("jobs",), 0.5),
)


@dataclasses.dataclass(frozen=True)
class ClusterQuantity:
    """A per-cluster quantity compared between two inventories.

    Attributes
    ----------
    name : str
        Stem of the cluster table's ``<name>_old``, ``<name>_new``,
        ``<name>_delta`` columns.
    ledger : tuple of str
        Ledger columns holding it, preferred first (a ledger holds only
        projections, so older names are safe to read).
    parcels : str, optional
        Where to sum it from when an inventory has no ledger: a
        :data:`PARCEL_COMPARED` name or a parcel column (``area_m2`` falls
        back to the geometry's area); None counts parcels.
    scale : float
        Parcel value times ``scale`` is the ledger's unit (m² to ha: 1e-4).
    tolerance : float
        Smallest delta the summary reports as a change.
    label : tuple of (str, str)
        Chinese and English name in the summary, with the unit.
    digits : int
        Decimals shown in the summary.
    """

    name: str
    ledger: tuple[str, ...]
    parcels: str | None
    scale: float = 1.0
    tolerance: float = 0.0
    label: tuple[str, str] = ("", "")
    digits: int = 0


#: Per-cluster quantities: sums over a cluster's renewal parcels (candidates and undetermined),
#: as in the supply ledger.
CLUSTER_QUANTITIES: tuple[ClusterQuantity, ...] = (
    ClusterQuantity(
        "parcel_count", ("parcel_count",), None, tolerance=0.5, label=("更新地块", "parcels")
    ),
    ClusterQuantity(
        "gross_area_ha",
        ("gross_area_ha",),
        "area_m2",
        scale=1e-4,
        tolerance=1e-4,
        label=("更新用地", "gross area (ha)"),
        digits=2,
    ),
    ClusterQuantity(
        "net_supply_ha",
        ("net_supply_ha",),
        "net_supply_m2",
        scale=1e-4,
        tolerance=1e-4,
        label=("净供给", "net supply (ha)"),
        digits=2,
    ),
    ClusterQuantity(
        "new_floor_area_m2",
        ("new_floor_area_m2",),
        "new_floor_area_m2",
        tolerance=1.0,
        label=("新增建筑面积", "new floor area (m²)"),
    ),
    ClusterQuantity(
        "new_residents",
        ("new_residents", "residents"),
        "new_residents",
        tolerance=0.5,
        label=("新增人口", "new residents"),
    ),
    ClusterQuantity(
        "new_jobs",
        ("new_jobs", "jobs"),
        "new_jobs",
        tolerance=0.5,
        label=("新增就业", "new jobs"),
    ),
)

#: Accessibility medians whose delta is below this (minutes) count as unchanged in the summary.
ACCESS_TOL_MIN = 0.05


@dataclasses.dataclass(frozen=True)
class InventorySnapshot:
    """One published land inventory: the tables of a refresh that a comparison reads.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        The parcels with every derived column (``parcels.parquet``).
    ledger : pandas.DataFrame, optional
        Supply per cluster x renewal type x phase (``renewal_ledger.csv``);
        None sums the parcels instead.
    cluster_supply : pandas.DataFrame, optional
        The ledger per cluster (``cluster_supply.csv``): cluster order and
        Chinese names for the summary.
    access_clusters : pandas.DataFrame, optional
        Accessibility per cluster and measure (``accessibility_clusters.csv``).
    manifest : Mapping
        The run's ``manifest.json`` (empty when unknown).
    label : str
        How the summary names it (e.g. the folder).
    """

    parcels: gpd.GeoDataFrame
    ledger: pd.DataFrame | None = None
    cluster_supply: pd.DataFrame | None = None
    access_clusters: pd.DataFrame | None = None
    manifest: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    label: str = ""


@dataclasses.dataclass(frozen=True)
class InventoryChanges:
    """What changed between two inventories (see :func:`compare_inventories`).

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        The change table: one row per changed parcel, ordered by
        ``parcel_id``; geometry is the new one (the old one for removed
        parcels).
    clusters : pandas.DataFrame
        Per cluster, ``unassigned`` and ``district``: old, new and delta of
        each of :data:`CLUSTER_QUANTITIES` both inventories have.
    access : pandas.DataFrame
        Per cluster and measure: ``median_old``, ``median_new``,
        ``median_delta`` (empty unless both inventories have accessibility).
    counts : Mapping[str, int]
        Parcels per change kind, plus ``old_parcels``, ``new_parcels`` and
        ``unchanged``.
    notes : tuple of str
        What was not compared and why, ties in the rename matching.
    summary : str
        Chinese/English Markdown section for the quality report.
    """

    parcels: gpd.GeoDataFrame
    clusters: pd.DataFrame
    access: pd.DataFrame
    counts: Mapping[str, int]
    notes: tuple[str, ...]
    summary: str

    @property
    def empty(self) -> bool:
        """True when nothing changed: no parcel, cluster total or accessibility median.

        Returns
        -------
        bool
            Whether the report is empty.
        """
        return (
            len(self.parcels) == 0
            and not _changed_clusters(self.clusters).any()
            and not _changed_access(self.access).any()
        )


# --------------------------------------------------------------------------- checks


def _as_inventory(value: InventorySnapshot | gpd.GeoDataFrame, which: str) -> InventorySnapshot:
    if isinstance(value, InventorySnapshot):
        return value
    if isinstance(value, gpd.GeoDataFrame):
        return InventorySnapshot(parcels=value)
    msg = (
        f"compare_inventories: the {which} inventory is a {type(value).__name__}; expected a "
        "tqspatial.changes.InventorySnapshot or a GeoDataFrame of parcels (read a folder with "
        "tqspatial.io.read_inventory)"
    )
    raise SchemaError(msg)


def _check_options(
    iou_min: float, geometry_tol_m2: float, tolerances: Mapping[str, float] | None
) -> dict[str, float]:
    problems = []
    if not 0 < iou_min <= 1:
        problems.append(f"iou_min must be in (0, 1], got {iou_min!r}")
    if not geometry_tol_m2 >= 0:
        problems.append(f"geometry_tol_m2 must be >= 0, got {geometry_tol_m2!r}")
    valid = {c.name for c in PARCEL_COMPARED if c.tolerance is not None}
    given = dict(tolerances or {})
    unknown = sorted(set(given) - valid)
    if unknown:
        problems.append(f"unknown tolerance names {unknown}; valid names are {sorted(valid)}")
    problems.extend(
        f"tolerance {name!r} must be >= 0, got {value!r}"
        for name, value in given.items()
        if name in valid and not value >= 0
    )
    if problems:
        raise ConfigError("compare_inventories: " + "; ".join(problems))
    return given


def _parcel_frame(inventory: InventorySnapshot, which: str, id_column: str) -> gpd.GeoDataFrame:
    frame = inventory.parcels
    problems = []
    if id_column not in frame.columns:
        problems.append(f"no {id_column!r} column (columns: {list(frame.columns)[:12]})")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        problems.append("no geometry column")
    if problems:
        msg = (
            f"compare_inventories: the {which} parcels are not an inventory: "
            + "; ".join(problems)
            + ". Pass the parcels a refresh writes (parcels.parquet)."
        )
        raise SchemaError(msg)
    frame = frame.reset_index(drop=True)
    geoms = frame.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        examples = frame.loc[bad, id_column].head(5).astype(str).tolist()
        msg = (
            f"compare_inventories: the {which} parcels cannot be compared: {int(bad.sum())} "
            f"parcels without geometry, e.g. {examples}. {_NEED}"
        )
        raise SchemaError(msg)
    return frame


_NEED = "Parcels need a unique id and a geometry, as after tqspatial.validate_parcels."


@dataclasses.dataclass(frozen=True)
class _Codes:
    """Text values of both inventories as integer codes into one shared list of labels.

    Codes are -1 for missing values.  Comparing codes compares the texts, and only the
    few rows of the change table are turned back into text.
    """

    old: npt.NDArray[np.intp]
    new: npt.NDArray[np.intp]
    labels: Any  # a pandas string array

    def text(self, codes: npt.NDArray[np.intp]) -> Any:  # noqa: ANN401 - a pandas string array
        return self.labels.take(codes, allow_fill=True)


def _encode(old: pd.Series, new: pd.Series) -> _Codes:
    both = pd.concat([old.astype("string"), new.astype("string")], ignore_index=True)
    codes, uniques = pd.factorize(both)
    codes = np.asarray(codes, dtype=np.intp)
    labels = pd.array(np.asarray(uniques, dtype=object), dtype="string")
    return _Codes(codes[: len(old)], codes[len(old) :], labels)


def _check_ids(ids: _Codes, id_column: str) -> None:
    problems = []
    for which, codes in (("old", ids.old), ("new", ids.new)):
        missing = int((codes < 0).sum())
        if missing:
            problems.append(f"the {which} inventory has {missing} parcels without {id_column}")
        counts = np.bincount(codes[codes >= 0], minlength=len(ids.labels))
        repeated = np.flatnonzero(counts > 1)
        if len(repeated):
            examples = sorted(str(v) for v in ids.text(repeated[:5]))
            problems.append(
                f"the {which} inventory has {len(repeated)} repeated ids, e.g. {examples}"
            )
    if problems:
        msg = (
            "compare_inventories: cannot compare: "
            + "; ".join(problems)
            + f". Parcels need a unique {id_column} and a geometry, as after "
            "tqspatial.validate_parcels."
        )
        raise SchemaError(msg)


def _same_crs(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    for which, frame in (("old", old), ("new", new)):
        if frame.crs is not None and not frame.crs.is_projected:
            msg = (
                f"compare_inventories: the {which} parcels are in {frame.crs.to_string()}, a "
                "geographic CRS; areas and overlaps need metres. Reproject both to the working "
                "CRS (EPSG:4548) first."
            )
            raise CRSError(msg)
    if old.crs is None or new.crs is None:
        if old.crs != new.crs:
            msg = (
                "compare_inventories: one inventory has a CRS and the other has none "
                f"(old: {old.crs}, new: {new.crs}); set the missing one with set_crs"
            )
            raise CRSError(msg)
        notes.append("Neither inventory declares a CRS; coordinates taken as metres.")
        return new
    if old.crs != new.crs:
        notes.append(
            f"The new parcels were reprojected from {new.crs.to_string()} to the old parcels' "
            f"{old.crs.to_string()} for the comparison."
        )
        return new.to_crs(old.crs)
    return new


# --------------------------------------------------------------------------- matching


@dataclasses.dataclass(frozen=True)
class _Match:
    left: npt.NDArray[np.intp]
    right: npt.NDArray[np.intp]
    iou: npt.NDArray[np.float64]
    ties: int


def _intersection_area(
    left: npt.NDArray[np.object_], right: npt.NDArray[np.object_]
) -> npt.NDArray[np.float64]:
    try:
        inter = shapely.intersection(left, right)
    except shapely.errors.GEOSException:  # a topology error on an invalid ring: repair and retry
        inter = shapely.intersection(shapely.make_valid(left), shapely.make_valid(right))
    return np.asarray(shapely.area(inter), dtype=float)


def _iou(
    left: npt.NDArray[np.object_],
    right: npt.NDArray[np.object_],
    area_l: npt.NDArray[np.float64],
    area_r: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return IoU and symmetric-difference area (m²) of aligned geometry pairs (and areas)."""
    equal = np.asarray(shapely.equals_exact(left, right, tolerance=0.0), dtype=bool)
    inter = np.where(equal, area_l, 0.0)
    todo = np.flatnonzero(~equal)
    if len(todo):
        inter[todo] = _intersection_area(left[todo], right[todo])
    union = area_l + area_r - inter
    iou = np.divide(inter, union, out=np.ones_like(union), where=union > 0)
    return iou, np.maximum(union - inter, 0.0)


def _match_renamed(
    old: npt.NDArray[np.object_],
    new: npt.NDArray[np.object_],
    old_ids: npt.NDArray[np.object_],
    new_ids: npt.NDArray[np.object_],
    *,
    areas: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    iou_min: float,
) -> _Match:
    """Pair old and new geometries one-to-one with IoU >= ``iou_min``, best first."""
    none = np.zeros(0, dtype=np.intp)
    if len(old) == 0 or len(new) == 0:
        return _Match(none, none, np.zeros(0), 0)
    tree = shapely.STRtree(old)
    right, left = tree.query(new, predicate="intersects")
    area_old, area_new = areas
    small = np.minimum(area_old[left], area_new[right])
    large = np.maximum(area_old[left], area_new[right])
    # IoU <= smaller area / larger area: pairs that cannot reach iou_min are never intersected
    keep = small >= iou_min * large
    left, right = left[keep], right[keep]
    iou, _ = _iou(old[left], new[right], area_old[left], area_new[right])
    ok = iou >= iou_min
    left, right, iou = left[ok], right[ok], iou[ok]
    order = np.lexsort((new_ids[right].astype(str), old_ids[left].astype(str), -iou))
    taken_old: dict[int, float] = {}
    taken_new: dict[int, float] = {}
    chosen = []
    ties = 0
    for k in order:
        i, j = int(left[k]), int(right[k])
        if i in taken_old or j in taken_new:
            best = taken_old.get(i, taken_new.get(j, -1.0))
            ties += bool(np.isclose(best, iou[k], rtol=0.0, atol=1e-9))
            continue
        taken_old[i] = taken_new[j] = float(iou[k])
        chosen.append(k)
    pick = np.asarray(chosen, dtype=np.intp)
    return _Match(left[pick], right[pick], iou[pick], ties)


@dataclasses.dataclass(frozen=True)
class _Pairs:
    """Row positions of the parcels in both inventories (same id, then renamed) and the rest."""

    old: npt.NDArray[np.intp]
    new: npt.NDArray[np.intp]
    renamed: npt.NDArray[np.bool_]
    removed: npt.NDArray[np.intp]
    added: npt.NDArray[np.intp]


def _pair_parcels(
    ids: _Codes,
    geoms: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]],
    areas: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    *,
    iou_min: float,
    notes: list[str],
) -> _Pairs:
    """Pair parcels by id, then the unpaired ones by geometry (renamed)."""
    position_in_new = np.full(len(ids.labels), -1, dtype=np.intp)
    position_in_new[ids.new] = np.arange(len(ids.new))
    where = position_in_new[ids.old]
    same_old = np.flatnonzero(where >= 0)
    same_new = where[same_old]
    only_old = np.flatnonzero(where < 0)
    in_new = np.zeros(len(ids.new), dtype=bool)
    in_new[same_new] = True
    only_new = np.flatnonzero(~in_new)
    match = _match_renamed(
        geoms[0][only_old],
        geoms[1][only_new],
        np.asarray(ids.text(ids.old[only_old]), dtype=object),
        np.asarray(ids.text(ids.new[only_new]), dtype=object),
        areas=(areas[0][only_old], areas[1][only_new]),
        iou_min=iou_min,
    )
    if match.ties:
        notes.append(
            f"{match.ties} rename candidates tied with an equally good pair for the same parcel "
            "(overlapping parcels); the pair with the smaller ids was kept, the others are "
            "added / removed."
        )
    renamed_old, renamed_new = only_old[match.left], only_new[match.right]
    return _Pairs(
        old=np.concatenate([same_old, renamed_old]).astype(np.intp),
        new=np.concatenate([same_new, renamed_new]).astype(np.intp),
        renamed=np.arange(len(same_old) + len(renamed_old)) >= len(same_old),
        removed=np.setdiff1d(only_old, renamed_old).astype(np.intp),
        added=np.setdiff1d(only_new, renamed_new).astype(np.intp),
    )


# --------------------------------------------------------------------------- attributes


def _codes_at(codes: npt.NDArray[np.intp], positions: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Codes at positions; -1 (no row) gives -1 (missing)."""
    if len(codes) == 0:
        return np.full(len(positions), -1, dtype=np.intp)
    return np.where(positions >= 0, codes[positions], -1).astype(np.intp)


def _take(values: npt.NDArray[Any], positions: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    """Values at positions; -1 gives a missing value (NaN for numbers, None for text)."""
    fill = np.nan if values.dtype.kind == "f" else None
    return np.asarray(
        pd.api.extensions.take(values, positions, allow_fill=True, fill_value=fill),
        dtype=values.dtype,
    )


def _numbers(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    return np.asarray(
        pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        dtype=float,
    )


def _differs(
    old: npt.NDArray[Any], new: npt.NDArray[Any], tolerance: float | None
) -> npt.NDArray[np.bool_]:
    if tolerance is None:  # text codes: missing (-1) equals missing
        return np.asarray(old != new, dtype=bool)
    old_nan, new_nan = np.isnan(old), np.isnan(new)
    with np.errstate(invalid="ignore"):
        apart = np.abs(new - old) > tolerance
    return np.asarray(np.where(old_nan | new_nan, old_nan != new_nan, apart), dtype=bool)


@dataclasses.dataclass(frozen=True)
class _Attribute:
    """A compared attribute's values per old and new row: numbers, or text codes."""

    spec: Compared
    old: npt.NDArray[Any]
    new: npt.NDArray[Any]
    codes: _Codes | None = None


def _attributes(
    old: pd.DataFrame, new: pd.DataFrame, tolerances: Mapping[str, float], notes: list[str]
) -> list[_Attribute]:
    found = []
    for spec in PARCEL_COMPARED:
        col_old, col_new = spec.column_in(list(old.columns)), spec.column_in(list(new.columns))
        if col_old is None or col_new is None:
            where = " and ".join(w for w, c in (("old", col_old), ("new", col_new)) if c is None)
            notes.append(
                f"`{spec.name}` not compared: absent from the {where} inventory "
                f"(looked for {', '.join(spec.columns + spec.legacy)})."
            )
            continue
        if spec.tolerance is None:
            codes = _encode(old[col_old], new[col_new])
            found.append(_Attribute(spec, codes.old, codes.new, codes))
            continue
        tuned = dataclasses.replace(spec, tolerance=tolerances.get(spec.name, spec.tolerance))
        found.append(_Attribute(tuned, _numbers(old, col_old), _numbers(new, col_new)))
    return found


# --------------------------------------------------------------------------- clusters


def _parcel_values(frame: gpd.GeoDataFrame, name: str) -> npt.NDArray[np.float64] | None:
    for spec in PARCEL_COMPARED:
        if spec.name == name:
            column = spec.column_in(list(frame.columns))
            return None if column is None else _numbers(frame, column)
    if name in frame.columns:
        return _numbers(frame, name)
    if name == "area_m2":
        return np.asarray(shapely.area(frame.geometry.to_numpy()), dtype=float)
    return None


def _cluster_sums(
    inventory: InventorySnapshot, parcels: gpd.GeoDataFrame, which: str, notes: list[str]
) -> pd.DataFrame | None:
    """Per-cluster sums of :data:`CLUSTER_QUANTITIES`, from the ledger or else the parcels."""
    ledger = inventory.ledger
    if ledger is not None and "cluster_id" in ledger.columns:
        columns: dict[str, npt.NDArray[np.float64]] = {}
        for q in CLUSTER_QUANTITIES:
            name = next((c for c in q.ledger if c in ledger.columns), None)
            if name is not None:
                columns[q.name] = _numbers(ledger, name)
        keys = pd.Index(ledger["cluster_id"].astype(str).to_numpy(), name="cluster_id")
        sums = pd.DataFrame(columns, index=keys).groupby(level=0, sort=False).sum()
        sums.attrs["source"] = "ledger"
        return sums
    if "renewal_type" not in parcels.columns or "cluster_id" not in parcels.columns:
        notes.append(
            f"Per-cluster supply not compared: the {which} inventory has neither a ledger "
            "nor renewal_type and cluster_id columns."
        )
        return None
    rows = parcels["renewal_type"].notna().to_numpy()  # the ledger's rows
    codes, uniques = pd.factorize(parcels["cluster_id"].astype("string").fillna("<NA>")[rows])
    columns = {}
    for q in CLUSTER_QUANTITIES:
        values = _parcel_values(parcels, q.parcels) if q.parcels else np.ones(len(parcels))
        if values is not None:  # as a group-by sum: missing values count as 0
            weights = np.nan_to_num(values[rows]) * q.scale
            sums_q = np.bincount(codes, weights=weights, minlength=len(uniques))
            columns[q.name] = np.asarray(sums_q, dtype=float)
    index = pd.Index(np.asarray(uniques, dtype=object), name="cluster_id")
    sums = pd.DataFrame(columns, index=index)
    sums.attrs["source"] = "parcels"
    return sums


def _cluster_order(
    old: InventorySnapshot, new: InventorySnapshot, found: Sequence[str]
) -> list[str]:
    # The new cluster table's order, then the old one's, then any others from the sums
    # (sorted); unassigned last.  Clusters without supply are kept (zeros) so that the rows
    # line up with cluster_supply.csv.
    order: list[str] = []
    for inventory in (new, old):
        for table in (inventory.cluster_supply, inventory.ledger):
            if table is not None and "cluster_id" in table.columns:
                order.extend(str(c) for c in table["cluster_id"])
    order.extend(sorted(found))
    listed = dict.fromkeys(c for c in order if c not in (UNASSIGNED, DISTRICT))
    tail = [UNASSIGNED] if UNASSIGNED in order else []
    return [*listed, *tail]


def _cluster_names(old: InventorySnapshot, new: InventorySnapshot) -> dict[str, str]:
    names: dict[str, str] = {}
    for inventory in (old, new):  # the new inventory's names win
        table = inventory.cluster_supply
        if table is not None and {"cluster_id", "name_zh"} <= set(table.columns):
            names.update(
                {str(c): str(n) for c, n in zip(table["cluster_id"], table["name_zh"], strict=True)}
            )
    return names


def _cluster_table(
    old: InventorySnapshot,
    new: InventorySnapshot,
    parcels: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    notes: list[str],
) -> pd.DataFrame:
    sums_old = _cluster_sums(old, parcels[0], "old", notes)
    sums_new = _cluster_sums(new, parcels[1], "new", notes)
    if sums_old is None or sums_new is None:
        return pd.DataFrame(columns=["cluster_id", "name_zh"])
    if sums_old.attrs["source"] != sums_new.attrs["source"]:
        notes.append(
            "Per-cluster totals come from the ledger of one inventory and from the parcels of "
            "the other (same sums when both are complete)."
        )
    quantities = [q.name for q in CLUSTER_QUANTITIES if q.name in sums_old and q.name in sums_new]
    notes.extend(
        f"Per-cluster `{q.name}` not compared: absent from one of the ledgers."
        for q in CLUSTER_QUANTITIES
        if q.name not in quantities
    )
    order = _cluster_order(old, new, [*sums_old.index, *sums_new.index])
    a = sums_old.reindex(index=order, columns=quantities).fillna(0.0)
    b = sums_new.reindex(index=order, columns=quantities).fillna(0.0)
    a.loc[DISTRICT] = a.sum()
    b.loc[DISTRICT] = b.sum()
    names = _cluster_names(old, new)
    out = pd.DataFrame({"cluster_id": a.index.to_numpy(dtype=object)})
    out["name_zh"] = [names.get(c, "") for c in out["cluster_id"]]
    for name in quantities:
        out[f"{name}_old"] = a[name].to_numpy()
        out[f"{name}_new"] = b[name].to_numpy()
        out[f"{name}_delta"] = b[name].to_numpy() - a[name].to_numpy()
    return out


def _changed_clusters(clusters: pd.DataFrame) -> npt.NDArray[np.bool_]:
    changed = np.zeros(len(clusters), dtype=bool)
    for q in CLUSTER_QUANTITIES:
        column = f"{q.name}_delta"
        if column in clusters.columns:
            changed |= np.abs(clusters[column].to_numpy(dtype=float)) > q.tolerance
    return changed


_ACCESS_KEYS = ("cluster_id", "measure", "weighted_by")
_ACCESS_COLUMNS = ["cluster_id", "measure", "median_old", "median_new", "median_delta"]


def _access_table(old: InventorySnapshot, new: InventorySnapshot, notes: list[str]) -> pd.DataFrame:
    a, b = old.access_clusters, new.access_clusters
    if a is None or b is None:
        if a is not None or b is not None:
            where = "old" if a is None else "new"
            notes.append(f"Accessibility not compared: the {where} inventory has none.")
        return pd.DataFrame(columns=_ACCESS_COLUMNS)
    keys = [k for k in _ACCESS_KEYS if k in a.columns and k in b.columns]
    if not {"cluster_id", "measure"} <= set(keys) or not {"median"} <= set(a.columns) & set(
        b.columns
    ):
        notes.append(
            "Accessibility not compared: the tables lack cluster_id, measure or median columns."
        )
        return pd.DataFrame(columns=_ACCESS_COLUMNS)
    left = a[keys].astype(str).assign(median=_numbers(a, "median"))
    right = b[keys].astype(str).assign(median=_numbers(b, "median"))
    merged = left.merge(right, on=keys, how="outer", suffixes=("_old", "_new"), sort=False)
    merged["median_delta"] = merged["median_new"] - merged["median_old"]
    return merged.reset_index(drop=True)


def _changed_access(access: pd.DataFrame) -> npt.NDArray[np.bool_]:
    if access.empty:
        return np.zeros(len(access), dtype=bool)
    old = access["median_old"].to_numpy(dtype=float)
    new = access["median_new"].to_numpy(dtype=float)
    return _differs(old, new, ACCESS_TOL_MIN)


# --------------------------------------------------------------------------- summary


def _signed(value: float, digits: int) -> str:
    text = f"{value:+,.{digits}f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def _summary(
    counts: Mapping[str, int],
    clusters: pd.DataFrame,
    access: pd.DataFrame,
    notes: Sequence[str],
    *,
    labels: tuple[str, str],
    area: Mapping[str, float],
) -> str:
    lines = ["## 清单变化 / Inventory changes", ""]
    old, new = (f" `{label}`" if label else "" for label in labels)
    lines.append(
        f"旧 / old{old}: {counts['old_parcels']:,} 地块 parcels → "
        f"新 / new{new}: {counts['new_parcels']:,} 地块 parcels"
    )
    lines.append("")
    changed_clusters = _changed_clusters(clusters)
    changed_access = _changed_access(access)
    if not any(counts[k] for k in CHANGE_KINDS) and not changed_clusters.any():
        lines.append(
            "无变化：两版清单的地块、编号、形状、用地代码、更新类型与供给均相同。 / "
            "No changes: the two inventories hold the same parcels, ids, shapes, land-use codes, "
            "renewal types and supply."
        )
        lines.append("")
    else:
        lines += ["| 变化 / change | 地块数 / parcels | 面积 / area (ha) |", "|---|---:|---:|"]
        for kind, (zh, en) in CHANGE_KINDS.items():
            if counts[kind]:
                ha = f"{_signed(area[kind] / 1e4, 2)}" if kind in area else ""
                lines.append(f"| {zh} / {en} | {counts[kind]:,} | {ha} |")
        lines.append("")
    if changed_clusters.any():
        shown = [q for q in CLUSTER_QUANTITIES if f"{q.name}_delta" in clusters.columns]
        lines += ["### 各组团变化 / Change per cluster", ""]
        lines.append(
            "| 组团 / cluster | " + " | ".join(f"{q.label[0]} / {q.label[1]}" for q in shown) + " |"
        )
        lines.append("|---|" + "---:|" * len(shown))
        rows = clusters[changed_clusters | (clusters["cluster_id"] == DISTRICT).to_numpy()]
        for rec in rows.to_dict("records"):
            name = rec["cluster_id"]
            if rec["name_zh"]:
                name = f"{rec['name_zh']} / {name}"
            cells = [_signed(float(rec[f"{q.name}_delta"]), q.digits) for q in shown]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if changed_access.any():
        moved = access[changed_access].assign(size=lambda t: t["median_delta"].abs())
        moved = moved.sort_values("size", ascending=False, na_position="first").head(5)
        lines.append(
            f"### 可达性 / Accessibility: {int(changed_access.sum())} 项中位数变化 / "
            f"medians changed (≥ {ACCESS_TOL_MIN} min)"
        )
        lines.append("")
        for rec in moved.to_dict("records"):
            by = f" ({rec['weighted_by']})" if "weighted_by" in rec else ""
            lines.append(
                f"- {rec['cluster_id']} `{rec['measure']}`{by}: {rec['median_old']:.2f} → "
                f"{rec['median_new']:.2f} min"
            )
        lines.append("")
    if notes:
        lines += ["### 说明 / Notes", ""]
        lines += [f"- {note}" for note in notes]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def compare_inventories(
    old: InventorySnapshot | gpd.GeoDataFrame,
    new: InventorySnapshot | gpd.GeoDataFrame,
    *,
    iou_min: float = RENAME_IOU_MIN,
    geometry_tol_m2: float = GEOMETRY_TOL_M2,
    tolerances: Mapping[str, float] | None = None,
    id_column: str = "parcel_id",
) -> InventoryChanges:
    """Compare two land inventories: parcels added, removed, renamed or changed; cluster deltas.

    Parameters
    ----------
    old, new : InventorySnapshot or geopandas.GeoDataFrame
        The previous and the current inventory (see
        :func:`tqspatial.io.read_inventory`), or just their parcels (then the
        per-cluster totals are summed from the parcels).  Projected CRS in
        metres; ``new`` is reprojected to ``old``'s CRS if they differ.
    iou_min : float, default 0.95
        Smallest intersection over union for a parcel whose id changed to be
        reported as renamed instead of removed + added.
    geometry_tol_m2 : float, default 1.0
        A parcel's geometry changed when old and new differ by more than this
        area (symmetric difference, m²).
    tolerances : mapping of str to float, optional
        Absolute tolerances by name, overriding those of the numeric
        :data:`PARCEL_COMPARED` attributes (what counts as a supply change:
        ``net_supply_m2``, ``new_floor_area_m2``, ``new_residents``,
        ``new_jobs``).  Per-cluster deltas are always exact; the summary
        lists the clusters whose deltas exceed :data:`CLUSTER_QUANTITIES`'
        tolerances.
    id_column : str, default "parcel_id"
        Parcel id column of both inventories.

    Returns
    -------
    InventoryChanges
        ``parcels`` (change table), ``clusters``, ``access``, ``counts``,
        ``notes`` and the Markdown ``summary``.

        Change table columns: ``parcel_id`` (the new id; the old one for
        removed parcels), ``parcel_id_old``, ``parcel_id_new``, ``change``,
        one boolean per :data:`CHANGE_KINDS` key, ``iou`` (NaN for added and
        removed), ``area_old_m2``, ``area_new_m2``, ``area_delta_m2``, and
        for each compared attribute ``<name>_old`` and ``<name>_new`` (numbers
        also ``<name>_delta``, counting a missing side as 0), then geometry.
        Added and removed parcels carry only the kind ``added`` /
        ``removed``; the attribute kinds compare parcels present in both.

    Raises
    ------
    SchemaError
        If a side lacks the id column or geometry, or has repeated or
        missing ids or missing geometries.
    CRSError
        If a side is in a geographic CRS, or only one side has a CRS.
    ConfigError
        If ``iou_min``, ``geometry_tol_m2`` or a tolerance is out of range or
        unknown.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import affinity
    >>> from shapely.geometry import box
    >>> old = gpd.GeoDataFrame({"parcel_id": ["a", "b"]},
    ...                        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                        crs="EPSG:4548")
    >>> new = old.copy()
    >>> new["parcel_id"] = ["a", "b-1"]
    >>> new.loc[1, "geometry"] = affinity.scale(old.geometry[1], 0.98, 1.0)  # IoU 0.98
    >>> new.loc[0, "geometry"] = box(0, 0, 100, 90)                          # 10 % smaller
    >>> c = compare_inventories(old, new)
    >>> c.parcels[["parcel_id", "parcel_id_old", "change", "area_delta_m2"]].values.tolist()
    [['a', 'a', 'geometry_changed', -1000.0], ['b-1', 'b', 'renamed, geometry_changed', -200.0]]
    >>> compare_inventories(old, old).empty
    True
    """
    given = _check_options(iou_min, geometry_tol_m2, tolerances)
    inv_old, inv_new = _as_inventory(old, "old"), _as_inventory(new, "new")
    notes: list[str] = []
    a = _parcel_frame(inv_old, "old", id_column)
    b = _same_crs(a, _parcel_frame(inv_new, "new", id_column), notes)
    ids = _encode(a[id_column], b[id_column])
    _check_ids(ids, id_column)
    geoms_a, geoms_b = a.geometry.to_numpy(), b.geometry.to_numpy()
    area_a = np.asarray(shapely.area(geoms_a), dtype=float)
    area_b = np.asarray(shapely.area(geoms_b), dtype=float)

    pairs = _pair_parcels(ids, (geoms_a, geoms_b), (area_a, area_b), iou_min=iou_min, notes=notes)
    pair_a, pair_b, removed, added = pairs.old, pairs.new, pairs.removed, pairs.added
    iou, sym_m2 = _iou(geoms_a[pair_a], geoms_b[pair_b], area_a[pair_a], area_b[pair_b])
    flags = {kind: np.zeros(len(pair_a), dtype=bool) for kind in CHANGE_KINDS}
    flags["renamed"] = pairs.renamed
    flags["geometry_changed"] = sym_m2 > geometry_tol_m2
    attributes = _attributes(a, b, given, notes)
    for attr in attributes:
        flags[attr.spec.kind] |= _differs(attr.old[pair_a], attr.new[pair_b], attr.spec.tolerance)
    changed = np.flatnonzero(np.logical_or.reduce(list(flags.values())))

    n_changed, n_removed, n_added = len(changed), len(removed), len(added)
    old_pos = np.concatenate([pair_a[changed], removed, np.full(n_added, -1)]).astype(np.intp)
    new_pos = np.concatenate([pair_b[changed], np.full(n_removed, -1), added]).astype(np.intp)
    pad = np.zeros(n_removed + n_added, dtype=bool)
    row_flags = {kind: np.concatenate([flags[kind][changed], pad]) for kind in CHANGE_KINDS}
    row_flags["removed"][n_changed : n_changed + n_removed] = True
    row_flags["added"][n_changed + n_removed :] = True
    table = _change_table(
        row_flags,
        old_pos,
        new_pos,
        ids=ids,
        geoms=(geoms_a, geoms_b),
        areas=(area_a, area_b),
        iou=np.concatenate([iou[changed], np.full(n_removed + n_added, np.nan)]),
        attributes=attributes,
        crs=a.crs,
    )

    counts = {kind: int(row_flags[kind].sum()) for kind in CHANGE_KINDS}
    counts.update(old_parcels=len(a), new_parcels=len(b), unchanged=len(pair_a) - n_changed)
    area = {
        "added": float(table.loc[table["added"], "area_new_m2"].sum()),
        "removed": -float(table.loc[table["removed"], "area_old_m2"].sum()),
        "geometry_changed": float(table.loc[table["geometry_changed"], "area_delta_m2"].sum()),
    }
    clusters = _cluster_table(inv_old, inv_new, (a, b), notes)
    access = _access_table(inv_old, inv_new, notes)
    labels = (inv_old.label, inv_new.label)
    summary = _summary(counts, clusters, access, notes, labels=labels, area=area)
    logger.info(
        "changes: %s",
        ", ".join(f"{counts[k]} {k}" for k in CHANGE_KINDS if counts[k]) or "none",
    )
    return InventoryChanges(
        parcels=table,
        clusters=clusters,
        access=access,
        counts=counts,
        notes=tuple(notes),
        summary=summary,
    )


def _change_table(
    flags: Mapping[str, npt.NDArray[np.bool_]],
    old_pos: npt.NDArray[np.intp],
    new_pos: npt.NDArray[np.intp],
    *,
    ids: _Codes,
    geoms: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]],
    areas: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    iou: npt.NDArray[np.float64],
    attributes: Sequence[_Attribute],
    crs: Any,  # noqa: ANN401 - whatever geopandas accepts as a CRS
) -> gpd.GeoDataFrame:
    code_old, code_new = _codes_at(ids.old, old_pos), _codes_at(ids.new, new_pos)
    id_old, id_new = ids.text(code_old), ids.text(code_new)
    area_old, area_new = _take(areas[0], old_pos), _take(areas[1], new_pos)
    change = np.full(len(old_pos), "", dtype=object)
    for kind in CHANGE_KINDS:
        change = np.where(flags[kind], change + ", " + kind, change)
    columns: dict[str, Any] = {
        "parcel_id": ids.text(np.where(new_pos >= 0, code_new, code_old)),
        "parcel_id_old": id_old,
        "parcel_id_new": id_new,
        "change": pd.array([c[2:] for c in change], dtype="string"),
        **{kind: flags[kind] for kind in CHANGE_KINDS},
        "iou": iou,
        "area_old_m2": area_old,
        "area_new_m2": area_new,
        "area_delta_m2": np.nan_to_num(area_new) - np.nan_to_num(area_old),
    }
    for attr in attributes:
        if attr.codes is not None:
            columns[f"{attr.spec.name}_old"] = attr.codes.text(_codes_at(attr.old, old_pos))
            columns[f"{attr.spec.name}_new"] = attr.codes.text(_codes_at(attr.new, new_pos))
        else:
            old, new = _take(attr.old, old_pos), _take(attr.new, new_pos)
            columns[f"{attr.spec.name}_old"] = old
            columns[f"{attr.spec.name}_new"] = new
            columns[f"{attr.spec.name}_delta"] = np.nan_to_num(new) - np.nan_to_num(old)
    geometry = np.where(new_pos >= 0, _take(geoms[1], new_pos), _take(geoms[0], old_pos))
    table = gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)
    order = np.lexsort(
        (
            table["parcel_id_old"].fillna("").to_numpy(dtype=str),
            table["parcel_id"].to_numpy(dtype=str),
        )
    )
    return table.iloc[order].reset_index(drop=True)
