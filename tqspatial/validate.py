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
   ``<id>#3`` ... (repair ``id_conflict``).  Ids that differ only in letter
   case or character width (``370105-a-033`` and ``370105-A-033``) are the
   same id by this rule: the later parcel is renamed the same way, with the
   repair kind ``id_case_variant`` naming both spellings, so the case variance
   stands out in the quality log instead of hiding among plain conflicts.
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
import unicodedata
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from tqspatial.errors import SchemaError
from tqspatial.quality import note
from tqspatial.rejects import empty_rejects, make_rejects

__all__ = [
    "MIN_PARCEL_AREA_M2",
    "PARCEL_COLUMNS",
    "fold_key",
    "id_keys",
    "validate_parcels",
    "validate_points",
]

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
    """Per-row reasons and details (arrays), and repairs as chunks per kind, by position."""

    def __init__(self, n: int) -> None:
        self.ok = np.ones(n, dtype=bool)
        self.reason = np.full(n, None, dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self.repairs: list[tuple[str, npt.NDArray[np.intp], ObjArray]] = []

    def usable(self) -> npt.NDArray[np.bool_]:
        return self.ok.copy()

    def reject(
        self, positions: npt.ArrayLike, why: str, detail: str | ObjArray | list[str] = ""
    ) -> None:
        """Reject rows (the first reason a row gets wins)."""
        pos = np.atleast_1d(np.asarray(positions, dtype=np.intp))
        texts = (
            np.full(len(pos), detail, dtype=object)
            if isinstance(detail, str)
            else np.asarray(detail, dtype=object)
        )
        first = self.ok[pos]
        pos, texts = pos[first], texts[first]
        self.reason[pos] = why
        self.detail[pos] = texts
        self.ok[pos] = False

    def repair(
        self, positions: npt.ArrayLike, kind: str, texts: str | ObjArray | list[str]
    ) -> None:
        """Record a repair of some rows (texts say what was done, per row)."""
        pos = np.atleast_1d(np.asarray(positions, dtype=np.intp))
        if not len(pos):
            return
        detail = (
            np.full(len(pos), texts, dtype=object)
            if isinstance(texts, str)
            else np.asarray(texts, dtype=object)
        )
        self.repairs.append((kind, pos, detail))

    def repair_column(self, existing: ObjArray | None = None) -> ObjArray:
        """``"<kind>: <what>"`` joined by ``"; "`` per row, in the order the repairs were made."""
        out = (
            np.full(len(self.ok), None, dtype=object)
            if existing is None
            else np.asarray(existing, dtype=object).copy()
        )
        for kind, pos, detail in self.repairs:
            out[pos] = _append(out[pos], kind + ": " + detail)
        return out

    def repaired(self) -> npt.NDArray[np.bool_]:
        mask = np.zeros(len(self.ok), dtype=bool)
        for _, pos, _ in self.repairs:
            mask[pos] = True
        return mask


def _append(current: ObjArray, texts: ObjArray) -> ObjArray:
    """Join ``current + "; " + texts`` elementwise; ``current`` may be missing (None / NaN)."""
    empty = pd.isna(current)
    out = texts.copy()
    out[~empty] = current[~empty] + "; " + texts[~empty]
    return out


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


def _polygonal_each(geoms: ObjArray) -> ObjArray:
    """:func:`_polygonal` of each geometry; non-empty polygons are already their own."""
    out = np.asarray(geoms, dtype=object).copy()
    other = np.flatnonzero(
        (shapely.get_type_id(out) != _POLYGON) | shapely.is_empty(out) | shapely.is_missing(out)
    )
    out[other] = [_polygonal(g) for g in out[other]]
    return out


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


#: What :meth:`str.strip` removes from ASCII text (the fast path of :func:`id_keys` trims the same).
_ASCII_SPACE = " \t\n\v\f\r\x1c\x1d\x1e\x1f"


def fold_key(value: object) -> str:
    """Return the key a name or id is compared by: NFKC-normalised, stripped, case-folded.

    The one normaliser of identifiers and names: parcel ids (vectorised in
    :func:`id_keys`), field names (:mod:`tqspatial.fields`), coordinate
    columns (:func:`tqspatial.io.read_points_csv`) and yes/no values are
    compared by it, so ``" a-01 "``, ``"A-01"`` and ``"Ａ－01"`` are one id.

    Parameters
    ----------
    value : object
        Text (anything else is compared by its ``str``).

    Returns
    -------
    str
        The key (empty for blank text).

    Examples
    --------
    >>> fold_key(" Ａ－01 "), fold_key("Straße"), fold_key(12)
    ('a-01', 'strasse', '12')
    """
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def id_keys(ids: pd.Series) -> tuple[ObjArray, ObjArray]:
    """Return the ids as stripped text and as the keys they are compared by.

    Keys are :func:`fold_key` of each id (NFKC-normalised, stripped and
    case-folded), computed with Arrow for ASCII ids and by :func:`fold_key`
    itself for the others.

    Parameters
    ----------
    ids : pandas.Series
        Identifiers (text or numbers).

    Returns
    -------
    stripped, keys : numpy.ndarray of object
        Per row; None where the id is missing or blank.

    Examples
    --------
    >>> import pandas as pd
    >>> stripped, keys = id_keys(pd.Series([" a-01 ", "Ａ-01", None]))
    >>> stripped.tolist(), keys.tolist()
    (['a-01', 'Ａ-01', None], ['a-01', 'a-01', None])
    """
    text = pa.array(ids.astype("string[pyarrow]").array)
    trimmed = pc.utf8_trim(text, characters=_ASCII_SPACE)
    stripped = trimmed.to_numpy(zero_copy_only=False).astype(object)
    keys = pc.ascii_lower(trimmed).to_numpy(zero_copy_only=False).astype(object)
    ascii_only = pc.fill_null(pc.string_is_ascii(text), fill_value=True)
    other = np.flatnonzero(~ascii_only.to_numpy(zero_copy_only=False))
    if len(other):  # NFKC, Unicode spaces and str.casefold (ß -> ss ...) need Python
        raw = text.to_numpy(zero_copy_only=False)[other]
        stripped[other] = [str(v).strip() for v in raw]
        keys[other] = [fold_key(v) for v in raw]
    missing = pd.isna(stripped) | (stripped == "") | (keys == "")
    stripped[missing] = None
    keys[missing] = None
    return stripped, keys


def _resolve_ids(
    frame: gpd.GeoDataFrame,
    id_column: str,
    geoms: ObjArray,
    ledger: _Ledger,
    same: Callable[[Any, Any], bool],
) -> pd.Series:
    """Flag missing ids, exact duplicates and id conflicts; return the ids to keep (as text)."""
    stripped, keys = id_keys(frame[id_column])
    original = frame[id_column].to_numpy(dtype=object)
    missing = pd.isna(keys)
    ledger.reject(np.flatnonzero(missing & ledger.ok), "missing_id", "the id is missing or blank")
    new_ids = original.copy()
    new_ids[~missing] = stripped[~missing]  # ids are text
    if isinstance(frame[id_column].dtype, pd.StringDtype):  # text or missing, nothing else
        is_text = ~pd.isna(original)
    else:
        is_text = np.array([isinstance(v, str) for v in original], dtype=bool)
    changed = np.flatnonzero(ledger.ok & is_text & (new_ids != original))
    ledger.repair(
        changed,
        "id_stripped",
        np.array([f"id {original[p]!r} stripped to {new_ids[p]!r}" for p in changed], dtype=object),
    )
    usable = np.flatnonzero(ledger.ok)
    codes, uniques = pd.factorize(pd.Series(keys[usable], dtype=object))
    repeated = np.bincount(codes, minlength=len(uniques))[codes] > 1
    if not repeated.any():
        return pd.Series(new_ids, index=frame.index, dtype=object)
    taken = set(uniques.tolist())
    rows = usable[repeated]
    groups = pd.Series(rows).groupby(codes[repeated], sort=False)
    dup_pos: list[int] = []
    dup_text: list[str] = []
    renamed: dict[str, tuple[list[int], list[str]]] = {
        "id_conflict": ([], []),
        "id_case_variant": ([], []),
    }
    for positions in groups.indices.values():
        members = rows[positions].tolist()  # input order
        first = members[0]
        distinct = [first]
        for pos in members[1:]:
            twin = next((d for d in distinct if same(geoms[d], geoms[pos])), None)
            variant = stripped[pos] != stripped[first]
            if twin is not None:
                dup_pos.append(pos)
                dup_text.append(
                    f"same id and geometry as source row {frame.index[twin]}"
                    + (
                        f" (id {original[pos]!r} differs from {original[twin]!r} only in letter "
                        "case or character width)"
                        if stripped[pos] != stripped[twin]
                        else ""
                    )
                )
                continue
            distinct.append(pos)
            number = len(distinct)
            candidate = f"{stripped[first]}{ID_CONFLICT_SEPARATOR}{number}"
            while fold_key(candidate) in taken:  # free under the id rules, not just as text
                number += 1
                candidate = f"{stripped[first]}{ID_CONFLICT_SEPARATOR}{number}"
            taken.add(fold_key(candidate))
            new_ids[pos] = candidate
            kind = "id_case_variant" if variant else "id_conflict"
            renamed[kind][0].append(pos)
            renamed[kind][1].append(
                f"id {original[pos]!r} "
                + (
                    f"differs from {original[first]!r} (source row {frame.index[first]}) only in "
                    "letter case or character width, so it is the same id, used for a different "
                    "geometry"
                    if variant
                    else f"is also used by source row {frame.index[first]} for a different geometry"
                )
                + f", renamed to {candidate!r}"
            )
    ledger.reject(np.array(dup_pos, dtype=np.intp), "duplicate_feature", dup_text)
    for kind, (positions_list, texts) in renamed.items():
        ledger.repair(np.array(positions_list, dtype=np.intp), kind, texts)
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
    """Return pairs (earlier, later) of positions whose interiors intersect.

    Candidate pairs are those whose bounding boxes meet (found on a grid by a
    numba kernel, else by an STRtree).  Pairs of convex
    polygons that an edge of one separates from the other (neighbours in a
    parcel coverage, sharing edges or corners) are certified disjoint by a
    numba kernel; GEOS tests the rest exactly (``relate`` pattern
    ``T********``: the interiors meet).  At a million parcels this is about
    ten times faster than testing every touching pair with GEOS.
    """
    from tqspatial._geometry_kernels import (  # noqa: PLC0415 - numba on demand
        box_pairs,
        disjoint_convex,
    )

    subset = geoms[positions]
    pairs = box_pairs(shapely.bounds(subset))
    if pairs is None:
        tree = shapely.STRtree(subset)
        left, right = tree.query(subset)
        keep = left < right
        left, right = left[keep], right[keep]
    else:
        left, right = pairs
    unsure = ~disjoint_convex(subset, left, right)
    left, right = left[unsure], right[unsure]
    interior = shapely.relate_pattern(subset[left], subset[right], "T********")
    return positions[left[interior]], positions[right[interior]]


#: Repairs a planner should check (logged as warnings); the rest are info.
WARNING_REPAIRS = frozenset({"id_conflict", "id_case_variant", "overlap_removed", "clipped"})

_REPAIR_MESSAGES = {
    "polygonal_parts": "kept the polygons of a GeometryCollection, dropped its points and lines",
    "made_valid": "invalid rings repaired (shell minus holes; a bow-tie becomes its two lobes)",
    "id_stripped": "blanks around the id removed",
    "id_conflict": "id also used by an earlier parcel with a different geometry, renamed <id>#2",
    "id_case_variant": (
        "id differs from an earlier parcel's id only in letter case or character width (the "
        "same id once normalised) and the geometry differs, renamed <id>#2"
    ),
    "clipped": "the part outside the district boundary removed",
    "clipped_edge": "a sliver (under the sliver area) outside the district boundary removed",
    "overlap_removed": "area shared with earlier parcels left to them",
    "single_point": "a multipoint with one point taken as that point",
}

_REJECT_MESSAGES = {
    "null_geometry": "no geometry",
    "empty_geometry": "empty geometry",
    "not_polygonal": "not an area (point or line)",
    "not_point": "not a point",
    "invalid_geometry": "invalid geometry with nothing left after repair",
    "sliver": "area below the sliver threshold",
    "missing_id": "the id is missing or blank",
    "duplicate_feature": "same id and same geometry as an earlier row",
    "outside_district": "outside the district boundary",
    "overlap_covered": "covered by earlier parcels (nothing usable left)",
}


def _record(ledger: _Ledger, index: pd.Index, layer: str) -> None:
    """Record rejects (by reason) and repairs of kept rows (by kind) in the quality log."""
    row_ids = (
        np.asarray(index, dtype=np.int64)
        if pd.api.types.is_integer_dtype(index.dtype)
        else np.arange(len(index), dtype=np.int64)
    )
    reasons = pd.Series(ledger.reason, dtype=object)
    bad = np.flatnonzero(~ledger.ok)
    if len(bad):
        for reason, positions in pd.Series(bad).groupby(reasons.iloc[bad].to_numpy(), sort=True):
            pos = positions.to_numpy()
            note(
                layer=layer,
                stage="validate",
                kind=str(reason),
                severity="error",
                message=f"{{count}} rows rejected: {_REJECT_MESSAGES.get(str(reason), reason)}",
                rows=row_ids[pos],
                values=ledger.detail[pos],
            )
    by_kind: dict[str, tuple[list[npt.NDArray[np.intp]], list[ObjArray]]] = {}
    for kind, pos, detail in ledger.repairs:
        alive = ledger.ok[pos]
        chunks = by_kind.setdefault(kind, ([], []))
        chunks[0].append(pos[alive])
        chunks[1].append(detail[alive])
    for kind, (positions_list, details) in by_kind.items():
        pos = np.concatenate(positions_list)
        if not len(pos):
            continue
        note(
            layer=layer,
            stage="validate",
            kind=kind,
            severity="warning" if kind in WARNING_REPAIRS else "info",
            message=f"{{count}} rows repaired: {_REPAIR_MESSAGES.get(kind, kind)}",
            rows=row_ids[pos],
            values=np.concatenate(details),
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
    usable = ledger.ok
    kept = frame.loc[usable].copy()
    kept[id_column] = ids.to_numpy()[usable]
    geom_name = frame.geometry.name
    kept[geom_name] = gpd.GeoSeries(geoms[usable], index=kept.index, crs=frame.crs)
    # a reader's repairs (e.g. rings closed while reading) come first
    existing = frame["repair"].to_numpy(dtype=object) if "repair" in frame.columns else None
    kept["repair"] = pd.Series(
        ledger.repair_column(existing)[usable], index=kept.index, dtype=object
    )
    for column, values in extra.items():
        kept[column] = values[usable]
    bad = ~usable
    if bad.any():
        reasons = pd.Series(ledger.reason[bad], index=frame.index[bad], dtype=object)
        details = pd.Series(ledger.detail[bad], index=frame.index[bad], dtype=object)
        rejects = make_rejects(frame.loc[bad], layer=layer, reason=reasons, detail=details)
    else:
        rejects = empty_rejects(frame)
    counts = {
        str(k): int(v)
        for k, v in pd.Series(ledger.reason[bad], dtype=object).value_counts().items()
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
    other = np.flatnonzero(usable & ~np.isin(types, [_POLYGON, _MULTIPOLYGON, _COLLECTION]))
    ledger.reject(
        other,
        "not_polygonal",
        np.array([f"{geoms[p].geom_type} is not an area" for p in other], dtype=object),
    )
    fixed, texts = [], []
    for pos in np.flatnonzero(usable & (types == _COLLECTION)).tolist():
        parts = shapely.get_parts(geoms[pos])
        poly = _polygonal(geoms[pos])
        if shapely.is_empty(poly):
            ledger.reject(pos, "not_polygonal", "GeometryCollection without polygons")
            continue
        dropped = sum(shapely.get_type_id(p) not in (_POLYGON, _MULTIPOLYGON) for p in parts)
        geoms[pos] = poly
        fixed.append(pos)
        texts.append(
            f"kept the polygons of a GeometryCollection, dropped {dropped} point/line parts"
        )
    ledger.repair(np.array(fixed, dtype=np.intp), "polygonal_parts", texts)


def _repair_invalid(geoms: ObjArray, ledger: _Ledger, min_area_m2: float) -> None:
    invalid = np.flatnonzero(ledger.ok & ~shapely.is_valid(geoms))
    if not len(invalid):
        return
    why = shapely.is_valid_reason(geoms[invalid])
    fixed = np.empty(len(invalid), dtype=object)
    # Single polygons without holes (bow-ties, spikes ...): one vectorised make_valid.
    simple = (shapely.get_type_id(geoms[invalid]) == _POLYGON) & (
        shapely.get_num_interior_rings(geoms[invalid]) == 0
    )
    if simple.any():
        shells = shapely.polygons(shapely.get_exterior_ring(geoms[invalid[simple]]))
        made = shapely.make_valid(shells, method="structure", keep_collapsed=False)
        polygonal = np.isin(
            shapely.get_type_id(made), (_POLYGON, _MULTIPOLYGON)
        ) | shapely.is_empty(made)
        made[~polygonal] = [_polygonal(g) for g in made[~polygonal]]
        fixed[simple] = made
    for i in np.flatnonzero(~simple).tolist():
        fixed[i] = _make_valid_polygonal(geoms[invalid[i]])
    areas = shapely.area(fixed)
    lost = shapely.is_empty(fixed) | (areas < min_area_m2)
    ledger.reject(
        invalid[lost],
        "invalid_geometry",
        np.array(
            [f"{w}; nothing of area >= {min_area_m2} m² left after repair" for w in why[lost]],
            dtype=object,
        ),
    )
    good = ~lost
    geoms[invalid[good]] = fixed[good]
    ledger.repair(
        invalid[good],
        "made_valid",
        np.array(
            [f"{w}, repaired area {a:.2f} m²" for w, a in zip(why[good], areas[good], strict=True)],
            dtype=object,
        ),
    )


def _clip(
    geoms: ObjArray, ledger: _Ledger, area: BaseGeometry, *, clip: bool, min_area_m2: float
) -> npt.NDArray[np.float64]:
    """Reject parcels outside ``area``, clip (or only measure) straddling ones.

    Returns the area (m²) of each parcel outside ``area``.
    """
    outside_area = np.zeros(len(geoms))
    shapely.prepare(area)
    usable = np.flatnonzero(ledger.ok)
    check = usable[~shapely.contains_properly(area, geoms[usable])]
    if not len(check):
        return outside_area
    inside = _polygonal_each(shapely.intersection(geoms[check], area))
    inside_area = shapely.area(inside)
    lost = shapely.area(geoms[check]) - inside_area
    outside_area[check] = lost
    gone = inside_area < min_area_m2
    ledger.reject(
        check[gone],
        "outside_district",
        np.array(
            [
                f"{a_out:.1f} m² outside, {a_in:.3g} m² inside the boundary"
                for a_in, a_out in zip(inside_area[gone], lost[gone], strict=True)
            ],
            dtype=object,
        ),
    )
    geoms[check[gone]] = inside[gone]
    if clip:
        cut = ~gone & (lost > 0)
        geoms[check[cut]] = inside[cut]
        # Under a sliver's area it is digitising noise along the boundary: still reported,
        # as its own (info) kind, so real clipping stands out as a warning.
        for kind, mask in (
            ("clipped", cut & (lost >= min_area_m2)),
            ("clipped_edge", cut & (lost < min_area_m2)),
        ):
            ledger.repair(
                check[mask],
                kind,
                np.array(
                    [f"{a:.2f} m² outside the district boundary removed" for a in lost[mask]],
                    dtype=object,
                ),
            )
    return outside_area


def _resolve_overlaps(geoms: ObjArray, ledger: _Ledger, ids: pd.Series, min_area_m2: float) -> None:
    """Give each overlap to the earliest parcel; later ones lose it (or are rejected)."""
    earlier, later = _overlaps(geoms, np.flatnonzero(ledger.ok))
    if not len(later):
        return
    overlap_area = shapely.area(shapely.intersection(geoms[earlier], geoms[later]))
    order = np.lexsort((earlier, later))
    earlier, later, overlap_area = earlier[order], later[order], overlap_area[order]
    starts = np.flatnonzero(np.r_[True, later[1:] != later[:-1]])
    stops = np.r_[starts[1:], len(later)]
    id_values = ids.to_numpy(dtype=object)
    losers = later[starts]
    before = geoms[losers]
    single = (stops - starts) == 1
    winners_geom = np.empty(len(losers), dtype=object)
    winners_geom[single] = geoms[earlier[starts[single]]]
    for i in np.flatnonzero(~single).tolist():
        winners_geom[i] = shapely.union_all(geoms[earlier[starts[i] : stops[i]]])
    after = _polygonal_each(shapely.difference(before, winners_geom))
    after_area = shapely.area(after)
    lost_area = shapely.area(before) - after_area
    shared = np.add.reduceat(overlap_area, starts)
    names = [
        ", ".join(repr(id_values[w]) for w in earlier[a:b][:NOTE_EXAMPLES])
        for a, b in zip(starts, stops, strict=True)
    ]
    geoms[losers] = after
    gone = after_area < min_area_m2
    ledger.reject(
        losers[gone],
        "overlap_covered",
        np.array(
            [
                f"covered by earlier parcel(s) {n}; {a:.3g} m² left"
                for n, a in zip(
                    np.asarray(names, dtype=object)[gone], after_area[gone], strict=True
                )
            ],
            dtype=object,
        ),
    )
    keep = ~gone
    ledger.repair(
        losers[keep],
        "overlap_removed",
        np.array(
            [
                f"{lo:.2f} m² shared with earlier parcel(s) {n} (overlap {sh:.2f} m²) left to them"
                for lo, n, sh in zip(
                    lost_area[keep],
                    np.asarray(names, dtype=object)[keep],
                    shared[keep],
                    strict=True,
                )
            ],
            dtype=object,
        ),
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
        Layer name written into the rejects table and the quality log.
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
        ``repair`` (``"<kind>: <what was done>"`` joined by ``"; "`` -- a text
        never holds ``"; "`` itself -- after
        any repair the reader made, or None) and, with a boundary,
        ``outside_area_m2``.
    rejects : geopandas.GeoDataFrame
        Rejected rows with ``layer``, ``source_row``, ``reason``, ``detail``,
        their original attributes and geometry, and ``uncounted_area_m2``
        (area of the row's usable land not covered by any kept parcel).

    Raises
    ------
    SchemaError
        If ``id_column`` is missing, the CRS is geographic (areas would be in
        square degrees) or ``outside`` is not a valid choice.

    Notes
    -----
    The quality log (:func:`tqspatial.quality.note`, stage ``"validate"``)
    gets one entry per reject reason (severity ``"error"``) and per kind of
    repair of the kept rows, each with the source row ids and the per-row
    detail, so its counts equal the rejects table's and the ``repair``
    column's.

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
    _row_rules(geoms, ledger, min_area_m2)
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
    _record(ledger, parcels.index, layer)
    elapsed = time.perf_counter() - started
    logger.info(
        "%s: kept %d of %d rows (%d repaired); rejected %s; %.2f s",
        layer,
        len(kept),
        n,
        int((ledger.repaired() & ledger.ok).sum()),
        counts,
        elapsed,
    )
    return kept, rejects


def _row_rules(geoms: ObjArray, ledger: _Ledger, min_area_m2: float) -> None:
    """Rules 1-4 (missing, non-polygonal, invalid geometry, slivers): each row on its own."""
    _check_missing(geoms, ledger)
    _check_polygonal(geoms, ledger)
    _repair_invalid(geoms, ledger, min_area_m2)
    areas = shapely.area(geoms)
    slivers = ledger.ok & (areas < min_area_m2)
    ledger.reject(
        np.flatnonzero(slivers),
        "sliver",
        np.array([f"area {a:.3g} m² < {min_area_m2} m²" for a in areas[slivers]], dtype=object),
    )


def _uncounted(geoms: ObjArray, ledger: _Ledger, kept: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    """Area of each rejected row's polygonal geometry not covered by any kept parcel."""
    bad = np.flatnonzero(~ledger.ok)
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
    renamed ``<id>#2``, repair ``id_conflict`` or ``id_case_variant``); with a
    ``boundary``, points outside it are flagged (column ``outside_district``)
    or rejected (``outside="reject"``, reason ``outside_district``).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Point layer in a projected CRS (the working CRS).
    id_column : str
        Column holding the identifier.
    layer : str, default "points"
        Layer name for rejects and the quality log.
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
    _check_missing(geoms, ledger)
    types = shapely.get_type_id(geoms)
    singles = np.flatnonzero(
        ledger.ok & (types == _MULTIPOINT) & (shapely.get_num_geometries(geoms) == 1)
    )
    geoms[singles] = shapely.get_geometry(geoms[singles], 0)
    ledger.repair(singles, "single_point", "multipoint with one point taken as that point")
    types = shapely.get_type_id(geoms)
    others = np.flatnonzero(ledger.ok & (types != _POINT))
    ledger.reject(
        others,
        "not_point",
        np.array([f"{geoms[p].geom_type} is not a point" for p in others], dtype=object),
    )
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
    _record(ledger, points.index, layer)
    logger.info("%s: kept %d of %d rows; rejected %s", layer, len(kept), n, counts)
    return kept, rejects
