"""Validation of input layers: the only place rows are dropped.

Each ``validate_*`` function returns ``(kept, rejects)``.  Every input row
is in exactly one of the two; each rejected row carries a reason and its
original attributes and geometry (see :mod:`tqspatial.rejects`); each kept
row that was changed says what was done in its ``repair`` column.  A layer
that is broken as a whole (a required column missing) raises
:class:`~tqspatial.errors.SchemaError` instead.

Parcel rules, applied in this order (the first reject reason wins):

1. **Missing geometry**: ``null_geometry`` / ``empty_geometry``.
2. **Geometry type**: points and lines are ``not_polygonal`` and are never
   buffered into fake parcels; the polygonal parts of a GeometryCollection
   are kept (repair ``polygonal_parts``).
3. **Invalid rings** are repaired (repair ``made_valid``): each polygon's
   shell is made valid with ``shapely.make_valid(method="structure")`` (a
   bow-tie becomes its two lobes, a self-touching ring a polygon with a
   hole), its holes likewise, and the holes are subtracted from the shell.
   A hole lying outside its shell removes nothing, so the shell's area is
   kept (GEOS alone would add the hole as land).  Parts of a multipolygon
   are unioned, so an area covered twice counts once.  A geometry that
   collapses to nothing is ``invalid_geometry``.
4. **Slivers**: area below ``min_area_m2`` (default
   :data:`MIN_PARCEL_AREA_M2`) is ``sliver``, never land.
5. **Ids** are returned as text.  A missing id is ``missing_id``.  Ids are
   compared after Unicode
   NFKC normalisation, stripping and case folding (``" a-01 "`` is
   ``"A-01"``); surrounding whitespace is removed from kept ids (repair
   ``id_stripped``).  A later row with the same id and the same geometry is
   ``duplicate_feature``.  A later row with the same id but a different
   geometry is a different parcel: it is kept, renamed ``<id>#2``,
   ``<id>#3`` ... (repair ``id_conflict``).
6. **District boundary** (when ``boundary`` is given): a parcel with less
   than ``min_area_m2`` inside is ``outside_district``.  Straddling parcels
   are clipped (``outside="clip"``, repair ``clipped``, or ``clipped_edge``
   -- an info note, not a warning -- when less than ``min_area_m2`` lay
   outside) or kept whole (``outside="flag"``); either way
   ``outside_area_m2`` says how much lay outside.
7. **Overlaps**: where parcels overlap, the earlier row (in input order)
   keeps the shared area and later rows lose it (repair ``overlap_removed``
   with the area and the ids of the earlier parcels).  A parcel left with
   less than ``min_area_m2`` is ``overlap_covered``.  So the kept parcels
   never overlap, and their total area is the area of the union of the
   usable input parcels (clipped to the boundary in ``"clip"`` mode), less
   only the remainders reported as ``uncounted_area_m2`` in the rejects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from tqspatial.errors import SchemaError
from tqspatial.quality import add_note
from tqspatial.rejects import empty_rejects, make_rejects

__all__ = ["MIN_PARCEL_AREA_M2", "PARCEL_COLUMNS", "validate_parcels", "validate_points"]

logger = logging.getLogger(__name__)

#: Canonical parcel attributes.  Only ``parcel_id`` and a geometry are required.
PARCEL_COLUMNS = {
    "parcel_id": "unique parcel identifier (text)",
    "landuse_code": "land-use code as found in the source (2023 用地用海分类 or GB 50137)",
    "build_year": "year the main buildings were completed (may be missing)",
    "far": "floor-area ratio (容积率), floor area / parcel area",
    "coverage": "building coverage (建筑密度), 0-1",
    "floor_area_m2": "gross floor area, m²",
    "is_idle": "vacant or idle land (闲置/低效), bool",
    "residents": "resident population",
    "jobs": "jobs on the parcel",
}

#: Parcels (or what is left of them) smaller than this (m²) are slivers, not land.
MIN_PARCEL_AREA_M2 = 1.0
#: Ids of later parcels sharing an id with a different geometry get this separator and a number.
ID_CONFLICT_SEPARATOR = "#"
#: Examples of ids listed in a note.
NOTE_EXAMPLES = 5

_POLYGON, _MULTIPOLYGON, _COLLECTION, _POINT, _MULTIPOINT = 3, 6, 7, 0, 4

ObjArray = npt.NDArray[np.object_]


class _Ledger:
    """Per-row reasons, details and repairs, by position."""

    def __init__(self, n: int) -> None:
        self.reason: list[str | None] = [None] * n
        self.detail: list[str] = [""] * n
        self.repairs: dict[int, list[str]] = {}
        self.kinds: dict[str, list[int]] = {}

    def usable(self) -> npt.NDArray[np.bool_]:
        return np.array([r is None for r in self.reason], dtype=bool)

    def reject(self, positions: npt.ArrayLike, why: str, detail: str | list[str] = "") -> None:
        pos = np.atleast_1d(np.asarray(positions, dtype=np.intp))
        texts = detail if isinstance(detail, list) else [detail] * len(pos)
        for p, text in zip(pos.tolist(), texts, strict=True):
            if self.reason[p] is None:
                self.reason[p] = why
                self.detail[p] = text

    def repair(self, position: int, kind: str, text: str) -> None:
        self.repairs.setdefault(position, []).append(f"{kind}: {text}")
        self.kinds.setdefault(kind, []).append(position)


def _check_layer(
    frame: gpd.GeoDataFrame, id_column: str, layer: str, outside: str, modes: tuple[str, ...]
) -> None:
    if id_column not in frame.columns:
        msg = (
            f"{layer}: no id column {id_column!r}; columns are {list(frame.columns)}. "
            "Pass id_column=... naming the identifier."
        )
        raise SchemaError(msg)
    if frame.crs is not None and not frame.crs.is_projected:
        msg = (
            f"{layer}: CRS {frame.crs.to_string()} is geographic; expected a projected CRS in "
            "metres. Reproject with tqspatial.crs.resolve_crs first."
        )
        raise SchemaError(msg)
    if outside not in modes:
        msg = f"{layer}: outside={outside!r} is not valid; expected one of {list(modes)}."
        raise SchemaError(msg)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygonal part of ``geom`` (parts unioned), or an empty polygon."""
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in (_POLYGON, _MULTIPOLYGON)]
    subparts = [q for p in polys for q in shapely.get_parts(p)]
    if not subparts:
        return Polygon()
    merged: BaseGeometry = subparts[0] if len(subparts) == 1 else shapely.union_all(subparts)
    return merged


def _valid_area(ring_polygon: Polygon) -> BaseGeometry:
    return _polygonal(shapely.make_valid(ring_polygon, method="structure", keep_collapsed=False))


def _make_valid_polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Repair ``geom`` by the shell-minus-holes rule described in the module docstring."""
    pieces = []
    for part in shapely.get_parts(geom):
        shell = _valid_area(Polygon(part.exterior.coords))
        holes = [_valid_area(Polygon(ring.coords)) for ring in part.interiors]
        if holes:
            shell = shapely.difference(shell, shapely.union_all(holes))
        pieces.append(shell)
    return _polygonal(shapely.union_all(pieces)) if len(pieces) > 1 else _polygonal(pieces[0])


def _id_keys(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (stripped ids, comparison keys) as object Series; missing ids are None."""
    text = ids.astype("string")
    stripped = text.str.strip()
    keys = stripped.str.normalize("NFKC").str.strip().str.casefold()
    missing = stripped.isna() | (stripped == "")
    return (
        stripped.astype(object).where(~missing, None),
        keys.astype(object).where(~missing, None),
    )


def _resolve_ids(
    frame: gpd.GeoDataFrame,
    id_column: str,
    geoms: ObjArray,
    ledger: _Ledger,
    same: Callable[[Any, Any], bool],
) -> pd.Series:
    """Flag missing ids, exact duplicates and id conflicts; return the ids to keep (as text)."""
    stripped, keys = _id_keys(frame[id_column])
    stripped_list: list[Any] = stripped.tolist()
    original = frame[id_column].astype(object).tolist()
    usable = ledger.usable()
    missing = np.array([k is None for k in keys.tolist()], dtype=bool)
    ledger.reject(np.flatnonzero(missing & usable), "missing_id", "the id is missing or blank")
    new_ids: list[Any] = list(original)
    for pos in np.flatnonzero(~missing & usable).tolist():
        new_ids[pos] = stripped_list[pos]  # ids are text
        if isinstance(original[pos], str) and stripped_list[pos] != original[pos]:
            ledger.repair(
                pos, "id_stripped", f"id {original[pos]!r} stripped to {stripped_list[pos]!r}"
            )
    usable = ledger.usable()
    key_series = pd.Series(keys.to_numpy(), index=np.arange(len(frame)))[usable]
    repeated = key_series[key_series.duplicated(keep=False)]
    taken = set(key_series.tolist())
    for _key, group in repeated.groupby(repeated, sort=False):
        positions = group.index.tolist()
        first = positions[0]
        distinct = [first]
        for pos in positions[1:]:
            twin = next((d for d in distinct if same(geoms[d], geoms[pos])), None)
            variant = (
                f" (id {original[pos]!r} matches {original[twin if twin is not None else first]!r} "
                "after normalising case and whitespace)"
                if stripped_list[pos] != stripped_list[first]
                else ""
            )
            if twin is not None:
                ledger.reject(
                    pos,
                    "duplicate_feature",
                    f"same id and geometry as source row {frame.index[twin]}{variant}",
                )
                continue
            distinct.append(pos)
            number = len(distinct)
            candidate = f"{stripped_list[first]}{ID_CONFLICT_SEPARATOR}{number}"
            while candidate.casefold() in taken:
                number += 1
                candidate = f"{stripped_list[first]}{ID_CONFLICT_SEPARATOR}{number}"
            taken.add(candidate.casefold())
            new_ids[pos] = candidate
            ledger.repair(
                pos,
                "id_conflict",
                f"id {original[pos]!r} is also used by source row {frame.index[first]} for a "
                f"different geometry{variant}; renamed to {candidate!r}",
            )
    return pd.Series(new_ids, index=frame.index, dtype=object)


def _union(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry, frame: gpd.GeoDataFrame, layer: str
) -> BaseGeometry:
    """Return the boundary as one geometry, refusing one in another CRS than ``frame``."""
    if not isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        return boundary
    if boundary.crs is not None and frame.crs is not None and boundary.crs != frame.crs:
        msg = (
            f"{layer}: boundary CRS {boundary.crs.to_string()} differs from the layer's "
            f"{frame.crs.to_string()}; expected both in the working CRS. Reproject the boundary."
        )
        raise SchemaError(msg)
    merged: BaseGeometry = shapely.union_all(np.asarray(boundary.geometry.array))
    return merged


def _overlaps(
    geoms: ObjArray, positions: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Return pairs (earlier, later) of positions whose interiors intersect."""
    subset = geoms[positions]
    tree = shapely.STRtree(subset)
    left, right = tree.query(subset, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    interior = ~shapely.touches(subset[left], subset[right])
    return positions[left[interior]], positions[right[interior]]


def _finish_notes(
    kept: gpd.GeoDataFrame, ledger: _Ledger, ids: list[Any], index: pd.Index, layer: str
) -> None:
    """Add one note per kind of repair, with the first few rows' details.

    Rejects are not repeated as notes: the rejects table holds them.
    """
    for kind, positions in ledger.kinds.items():
        examples = "; ".join(
            f"{ids[p]!r} (row {index[p]}): "
            + next(t for t in ledger.repairs[p] if t.startswith(f"{kind}:"))[len(kind) + 2 :]
            for p in positions[:NOTE_EXAMPLES]
        )
        more = (
            f"; and {len(positions) - NOTE_EXAMPLES} more" if len(positions) > NOTE_EXAMPLES else ""
        )
        add_note(
            kept,
            layer=layer,
            stage="validate",
            kind=kind,
            level="warning" if kind in ("id_conflict", "overlap_removed", "clipped") else "info",
            message=f"{layer}: {len(positions)} rows repaired ({kind}): {examples}{more}",
            count=len(positions),
        )


def _split(
    frame: gpd.GeoDataFrame,
    ledger: _Ledger,
    *,
    geoms: ObjArray,
    ids: pd.Series,
    id_column: str,
    layer: str,
    extra: dict[str, npt.NDArray[Any]],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, int]]:
    usable = ledger.usable()
    kept = frame.loc[usable].copy()
    kept[id_column] = ids.to_numpy()[usable]
    geom_name = frame.geometry.name
    kept[geom_name] = gpd.GeoSeries(geoms[usable], index=kept.index, crs=frame.crs)
    repairs: list[str | None] = [
        "; ".join(ledger.repairs[p]) if p in ledger.repairs else None
        for p in np.flatnonzero(usable).tolist()
    ]
    kept["repair"] = pd.Series(repairs, index=kept.index, dtype=object)
    for column, values in extra.items():
        kept[column] = values[usable]
    kept.attrs["tq_notes"] = list(frame.attrs.get("tq_notes", []))
    bad = ~usable
    if bad.any():
        reasons = pd.Series(np.array(ledger.reason, dtype=object)[bad], index=frame.index[bad])
        details = pd.Series(np.array(ledger.detail, dtype=object)[bad], index=frame.index[bad])
        rejects = make_rejects(frame.loc[bad], layer=layer, reason=reasons, detail=details)
    else:
        rejects = empty_rejects(frame)
    rejects.attrs = {}
    counts = {
        str(k): int(v)
        for k, v in pd.Series(ledger.reason, dtype=object).dropna().value_counts().items()
    }
    return kept, rejects, counts


def _same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(shapely.equals(a, b))


def _check_missing(geoms: ObjArray, ledger: _Ledger) -> None:
    missing = shapely.is_missing(geoms)
    ledger.reject(np.flatnonzero(missing), "null_geometry", "no geometry")
    empty = ~missing & shapely.is_empty(geoms)
    ledger.reject(np.flatnonzero(empty), "empty_geometry", "empty geometry")


def _check_polygonal(geoms: ObjArray, ledger: _Ledger) -> None:
    """Reject points and lines; keep the polygons of geometry collections."""
    types = shapely.get_type_id(geoms)
    usable = ledger.usable()
    for pos in np.flatnonzero(
        usable & ~np.isin(types, [_POLYGON, _MULTIPOLYGON, _COLLECTION])
    ).tolist():
        ledger.reject(pos, "not_polygonal", f"{geoms[pos].geom_type} is not an area")
    for pos in np.flatnonzero(usable & (types == _COLLECTION)).tolist():
        parts = shapely.get_parts(geoms[pos])
        poly = _polygonal(geoms[pos])
        if shapely.is_empty(poly):
            ledger.reject(pos, "not_polygonal", "GeometryCollection without polygons")
            continue
        dropped = sum(shapely.get_type_id(p) not in (_POLYGON, _MULTIPOLYGON) for p in parts)
        geoms[pos] = poly
        ledger.repair(
            pos,
            "polygonal_parts",
            f"kept the polygons of a GeometryCollection, dropped {dropped} point/line parts",
        )


def _repair_invalid(geoms: ObjArray, ledger: _Ledger, min_area_m2: float) -> None:
    invalid = ledger.usable() & ~shapely.is_valid(geoms)
    for pos in np.flatnonzero(invalid).tolist():
        why = shapely.is_valid_reason(geoms[pos])
        fixed = _make_valid_polygonal(geoms[pos])
        if shapely.is_empty(fixed) or fixed.area < min_area_m2:
            ledger.reject(
                pos,
                "invalid_geometry",
                f"{why}; nothing of area >= {min_area_m2} m² left after repair",
            )
            continue
        geoms[pos] = fixed
        ledger.repair(pos, "made_valid", f"{why}; repaired area {fixed.area:.2f} m²")


def _clip(
    geoms: ObjArray, ledger: _Ledger, area: BaseGeometry, *, clip: bool, min_area_m2: float
) -> npt.NDArray[np.float64]:
    """Reject parcels outside ``area``, clip (or only measure) straddling ones.

    Returns the area (m²) of each parcel outside ``area``.
    """
    outside_area = np.zeros(len(geoms))
    shapely.prepare(area)
    check = np.flatnonzero(ledger.usable() & ~shapely.contains_properly(area, geoms))
    if not len(check):
        return outside_area
    inside = np.array(
        [_polygonal(g) for g in shapely.intersection(geoms[check], area)], dtype=object
    )
    inside_area = shapely.area(inside)
    lost = shapely.area(geoms[check]) - inside_area
    outside_area[check] = lost
    for pos, piece, a_in, a_out in zip(check.tolist(), inside, inside_area, lost, strict=True):
        if a_in < min_area_m2:
            ledger.reject(
                pos,
                "outside_district",
                f"{a_out:.1f} m² outside, {a_in:.3g} m² inside the boundary",
            )
            geoms[pos] = piece
        elif a_out > 0 and clip:
            geoms[pos] = piece
            # Under a sliver's area it is digitising noise along the boundary: still reported,
            # as its own (info) kind, so real clipping stands out as a warning.
            kind = "clipped" if a_out >= min_area_m2 else "clipped_edge"
            ledger.repair(pos, kind, f"{a_out:.2f} m² outside the district boundary removed")
    return outside_area


def _resolve_overlaps(geoms: ObjArray, ledger: _Ledger, ids: pd.Series, min_area_m2: float) -> None:
    """Give each overlap to the earliest parcel; later ones lose it (or are rejected)."""
    earlier, later = _overlaps(geoms, np.flatnonzero(ledger.usable()))
    if not len(later):
        return
    overlap_area = shapely.area(shapely.intersection(geoms[earlier], geoms[later]))
    pairs = pd.DataFrame({"earlier": earlier, "later": later, "area": overlap_area})
    for later_pos, group in pairs.groupby("later", sort=True):
        pos = int(str(later_pos))
        winners = group["earlier"].to_numpy()
        before = geoms[pos]
        after = _polygonal(shapely.difference(before, shapely.union_all(geoms[winners])))
        names = ", ".join(repr(ids.iloc[w]) for w in winners[:NOTE_EXAMPLES])
        shared = float(group["area"].sum())
        geoms[pos] = after
        if after.area < min_area_m2:
            ledger.reject(
                pos,
                "overlap_covered",
                f"covered by earlier parcel(s) {names}; {after.area:.3g} m² left",
            )
        else:
            ledger.repair(
                pos,
                "overlap_removed",
                f"{before.area - after.area:.2f} m² shared with earlier parcel(s) {names} "
                f"(overlap {shared:.2f} m²) left to them",
            )


def validate_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    id_column: str = "parcel_id",
    layer: str = "parcels",
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    outside: Literal["clip", "flag"] = "clip",
    min_area_m2: float = MIN_PARCEL_AREA_M2,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split a parcel layer into usable parcels and rejects with reasons.

    The rules and their order are in the module docstring; in short, every
    input row is kept (possibly repaired) or rejected, and the kept parcels
    never overlap, so no square metre is counted twice.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS in metres (the working CRS).
    id_column : str, default "parcel_id"
        Column holding the parcel identifier.
    layer : str, default "parcels"
        Layer name written into the rejects table and the notes.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        District boundary in the same CRS; when given, parcels outside it are
        rejected and straddling ones clipped or flagged.
    outside : {"clip", "flag"}, default "clip"
        What to do with parcels straddling ``boundary``.
    min_area_m2 : float, default 1.0
        Parcels or remainders smaller than this are slivers, not land.

    Returns
    -------
    kept : geopandas.GeoDataFrame
        Usable parcels: the input columns (ids stripped or renamed, geometry
        repaired / clipped / trimmed), plus ``area_m2`` (from the geometry),
        ``repair`` (``"<kind>: <what was done>"`` joined by ``"; "``, or None)
        and, with a boundary, ``outside_area_m2``.  Notes (stage
        ``"validate"``) are in ``kept.attrs["tq_notes"]``.
    rejects : geopandas.GeoDataFrame
        Rejected rows with ``layer``, ``source_row``, ``reason``, ``detail``,
        their original attributes and geometry, and ``uncounted_area_m2``
        (area of the row's usable land not covered by any kept parcel).

    Raises
    ------
    SchemaError
        If ``id_column`` is missing, the CRS is geographic (areas would be in
        square degrees) or ``outside`` is not a valid choice.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"parcel_id": ["a", "b", "a", "c"]},
    ...     geometry=[box(0, 0, 100, 100), None, box(0, 0, 100, 100), box(50, 0, 150, 100)],
    ...     crs="EPSG:4548",
    ... )
    >>> kept, rejects = validate_parcels(frame)
    >>> kept["parcel_id"].tolist(), kept["area_m2"].tolist()
    (['a', 'c'], [10000.0, 5000.0])
    >>> rejects["reason"].tolist()
    ['null_geometry', 'duplicate_feature']
    """
    started = time.perf_counter()
    _check_layer(parcels, id_column, layer, outside, ("clip", "flag"))
    n = len(parcels)
    ledger = _Ledger(n)
    geoms: ObjArray = np.asarray(parcels.geometry.array, dtype=object).copy()
    _check_missing(geoms, ledger)
    _check_polygonal(geoms, ledger)
    _repair_invalid(geoms, ledger, min_area_m2)
    areas = shapely.area(geoms)
    slivers = ledger.usable() & (areas < min_area_m2)
    ledger.reject(
        np.flatnonzero(slivers),
        "sliver",
        [f"area {a:.3g} m² < {min_area_m2} m²" for a in areas[slivers]],
    )
    ids = _resolve_ids(parcels, id_column, geoms, ledger, _same_geometry)
    outside_area = np.zeros(n)
    if boundary is not None:
        outside_area = _clip(
            geoms,
            ledger,
            _union(boundary, parcels, layer),
            clip=outside == "clip",
            min_area_m2=min_area_m2,
        )
    _resolve_overlaps(geoms, ledger, ids, min_area_m2)

    extra: dict[str, npt.NDArray[Any]] = {"area_m2": shapely.area(geoms)}
    if boundary is not None:
        extra["outside_area_m2"] = outside_area
    kept, rejects, counts = _split(
        parcels, ledger, geoms=geoms, ids=ids, id_column=id_column, layer=layer, extra=extra
    )
    kept["area_m2"] = kept["area_m2"].astype(float)
    rejects["uncounted_area_m2"] = _uncounted(geoms, ledger, kept)
    _finish_notes(kept, ledger, ids.tolist(), parcels.index, layer)
    elapsed = time.perf_counter() - started
    logger.info(
        "%s: kept %d of %d rows (%d repaired); rejected %s; %.2f s",
        layer,
        len(kept),
        n,
        len(ledger.repairs),
        counts,
        elapsed,
    )
    return kept, rejects


def _uncounted(geoms: ObjArray, ledger: _Ledger, kept: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    """Area of each rejected row's polygonal geometry not covered by any kept parcel."""
    bad = np.flatnonzero(~ledger.usable())
    out = np.zeros(len(bad))
    polys = [(i, _polygonal(geoms[p])) for i, p in enumerate(bad.tolist()) if geoms[p] is not None]
    polys = [(i, g) for i, g in polys if not shapely.is_empty(g)]
    if not polys:
        return out
    finals = np.asarray(kept.geometry.array, dtype=object)
    tree = shapely.STRtree(finals)
    for i, geom in polys:
        hits = tree.query(geom, predicate="intersects")
        rest = shapely.difference(geom, shapely.union_all(finals[hits])) if len(hits) else geom
        out[i] = float(shapely.area(rest))
    return out


def validate_points(
    points: gpd.GeoDataFrame,
    *,
    id_column: str,
    layer: str = "points",
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    outside: Literal["flag", "reject"] = "flag",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split a point layer (facilities, stations ...) into usable points and rejects.

    Rules, first reject reason wins: ``null_geometry``, ``empty_geometry``;
    ``not_point`` for anything but a point (a multipoint with one point is
    kept as that point, repair ``single_point``); ids as in
    :func:`validate_parcels` (``missing_id``; ``duplicate_feature`` for the
    same id at the same location; a different location with the same id is
    renamed ``<id>#2``, repair ``id_conflict``); with a ``boundary``, points
    outside it are flagged (column ``outside_district``) or rejected
    (``outside="reject"``, reason ``outside_district``).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Point layer in a projected CRS (the working CRS).
    id_column : str
        Column holding the identifier.
    layer : str, default "points"
        Layer name for rejects and notes.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        District boundary in the same CRS.
    outside : {"flag", "reject"}, default "flag"
        What to do with points outside ``boundary`` (a facility just outside
        the district may still serve it, hence flag by default).

    Returns
    -------
    kept : geopandas.GeoDataFrame
        Usable points with ``repair`` and, with a boundary,
        ``outside_district`` (bool).
    rejects : geopandas.GeoDataFrame
        Rejected rows with reasons and original attributes.

    Raises
    ------
    SchemaError
        If ``id_column`` is missing, the CRS is geographic or ``outside`` is
        not a valid choice.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(
    ...     {"facility_id": ["s1", "S1 ", "s2"]},
    ...     geometry=[Point(0, 0), Point(0, 0), None],
    ...     crs="EPSG:4548",
    ... )
    >>> kept, rejects = validate_points(pts, id_column="facility_id")
    >>> kept["facility_id"].tolist(), rejects["reason"].tolist()
    (['s1'], ['duplicate_feature', 'null_geometry'])
    """
    _check_layer(points, id_column, layer, outside, ("flag", "reject"))
    n = len(points)
    ledger = _Ledger(n)
    geoms: ObjArray = np.asarray(points.geometry.array, dtype=object).copy()
    missing = shapely.is_missing(geoms)
    ledger.reject(np.flatnonzero(missing), "null_geometry", "no geometry")
    ledger.reject(
        np.flatnonzero(~missing & shapely.is_empty(geoms)), "empty_geometry", "empty geometry"
    )
    types = shapely.get_type_id(geoms)
    singles = ledger.usable() & (types == _MULTIPOINT) & (shapely.get_num_geometries(geoms) == 1)
    for pos in np.flatnonzero(singles).tolist():
        geoms[pos] = shapely.get_geometry(geoms[pos], 0)
        ledger.repair(pos, "single_point", "multipoint with one point taken as that point")
    types = shapely.get_type_id(geoms)
    for pos in np.flatnonzero(ledger.usable() & (types != _POINT)).tolist():
        ledger.reject(pos, "not_point", f"{geoms[pos].geom_type} is not a point")
    ids = _resolve_ids(points, id_column, geoms, ledger, _same_geometry)
    extra: dict[str, npt.NDArray[Any]] = {}
    if boundary is not None:
        area = _union(boundary, points, layer)
        shapely.prepare(area)
        usable = ledger.usable()
        out_mask = np.zeros(n, dtype=bool)
        out_mask[usable] = ~shapely.covers(area, geoms[usable])
        if outside == "reject":
            ledger.reject(
                np.flatnonzero(out_mask), "outside_district", "outside the district boundary"
            )
        extra["outside_district"] = out_mask
    kept, rejects, counts = _split(
        points, ledger, geoms=geoms, ids=ids, id_column=id_column, layer=layer, extra=extra
    )
    _finish_notes(kept, ledger, ids.tolist(), points.index, layer)
    logger.info("%s: kept %d of %d rows; rejected %s", layer, len(kept), n, counts)
    return kept, rejects
