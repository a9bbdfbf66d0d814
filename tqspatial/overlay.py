"""Exact area of polygons inside zones: the one overlay kernel of assignment and constraints.

Most parcels lie wholly inside a zone (a cluster, a river setback, flooded cells), or wholly
outside it.  Each zone is laid over a coarse grid whose cells are tested once; summed-area
tables then settle every parcel whose bounding box touches only interior cells (overlap =
parcel area) or only disjoint cells (no overlap).  The few parcels left get a prepared
``contains_properly`` test, and exact polygon intersection only when they cross the zone's
edge.  The screen is exact, not approximate: the result equals intersecting every pair
(tested against ``geopandas.overlay`` and exactextract).

Measured against the tiling kernel the constraints used before (zones cut into 500 m tiles,
STRtree, intersection per tile) on the embedded 16,779 parcels: 0.14 s vs 0.49 s for the eight
plan elements, 0.05 s vs 0.08 s for the union of the three constraints (2 cores, shared).

Thread safety: zones are prepared on a private copy, so threads sharing a structure or a
constraint never prepare the same geometry at once.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

__all__ = ["MAX_SCREEN_CELLS", "SCREEN_CELL_PARCELS", "overlap_area", "overlap_pairs"]

logger = logging.getLogger(__name__)

#: Screening cells are this many typical parcel widths across (see :func:`_screen`).
SCREEN_CELL_PARCELS = 3.0

#: At most this many screening cells per element (bounds the set-up cost for tiny parcels).
MAX_SCREEN_CELLS = 65_536


def _screen(
    bounds: np.ndarray, zone: shapely.Geometry, cell: float
) -> tuple[np.ndarray, np.ndarray, shapely.Geometry]:
    """Classify parcels as surely inside or surely outside one zone, from a coarse grid.

    The zone's bounding box is cut into square cells; each cell is tested once
    (``contains_properly`` / ``intersects``).  A parcel whose bounding box
    touches only cells lying in the zone's interior is inside it; one touching
    only cells disjoint from the zone (or lying off the grid) is outside.  The
    cell range is widened by a rounding margin, so both answers are certain;
    the remaining parcels are left to exact tests.  Only parcels whose
    bounding box comes within a cell of the zone's are classified on the grid
    (the others are off it, hence outside), so a small zone costs little
    however many parcels there are.

    Returns the inside and outside masks and the zone, prepared (a private
    copy) for the exact tests of the parcels left.
    """
    zx0, zy0, zx1, zy1 = shapely.bounds(zone)
    size = max(cell, (zx1 - zx0) / 256, (zy1 - zy0) / 256)
    nx = max(1, int(np.ceil((zx1 - zx0) / size)))
    ny = max(1, int(np.ceil((zy1 - zy0) / size)))
    xs = zx0 + size * np.arange(nx + 1)
    ys = zy0 + size * np.arange(ny + 1)
    gx0, gy0 = np.meshgrid(xs[:-1], ys[:-1])
    gx1, gy1 = np.meshgrid(xs[1:], ys[1:])
    cells = shapely.box(gx0.ravel(), gy0.ravel(), gx1.ravel(), gy1.ravel())
    # Prepare a private copy: preparing mutates the geometry, and a structure shared by
    # threads (the dask engine's worker threads) must never be prepared by two at once.
    zone = shapely.from_wkb(shapely.to_wkb(zone))
    shapely.prepare(zone)
    cell_in = shapely.contains_properly(zone, cells).reshape(ny, nx)
    cell_out = ~shapely.intersects(zone, cells).reshape(ny, nx)
    # Summed-area tables: cells of a kind inside any index rectangle in O(1).
    sum_in = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    sum_in[1:, 1:] = cell_in.cumsum(0).cumsum(1)
    sum_out = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    sum_out[1:, 1:] = cell_out.cumsum(0).cumsum(1)

    margin = 1e-9
    n = len(bounds)
    inside = np.zeros(n, dtype=bool)
    outside = np.ones(n, dtype=bool)
    # Parcels whose box is more than a cell away from the zone's are off the grid: outside.
    # (The exact off-grid test below is elementwise, so testing a superset of the parcels
    # near the zone gives the same answer as testing all of them.)
    with np.errstate(invalid="ignore"):
        near = np.flatnonzero(
            (bounds[:, 2] >= zx0 - size)
            & (bounds[:, 0] <= zx1 + size)
            & (bounds[:, 3] >= zy0 - size)
            & (bounds[:, 1] <= zy1 + size)
        )
    # boxes with NaN (empty geometries) fail the comparisons above and are not in ``near``;
    # they are neither inside nor outside, as before
    outside[~np.isfinite(bounds).all(axis=1)] = False
    b = bounds[near]
    i0 = np.floor((b[:, 0] - zx0) / size - margin)
    i1 = np.floor((b[:, 2] - zx0) / size + margin)
    j0 = np.floor((b[:, 1] - zy0) / size - margin)
    j1 = np.floor((b[:, 3] - zy0) / size + margin)
    off_grid = (i1 < 0) | (j1 < 0) | (i0 >= nx) | (j0 >= ny)
    a0 = np.clip(i0, 0, nx - 1).astype(np.intp)
    a1 = np.clip(i1, 0, nx - 1).astype(np.intp) + 1
    b0 = np.clip(j0, 0, ny - 1).astype(np.intp)
    b1 = np.clip(j1, 0, ny - 1).astype(np.intp) + 1
    count = (a1 - a0) * (b1 - b0)
    within = (i0 >= 0) & (j0 >= 0) & (i1 < nx) & (j1 < ny)

    def in_rect(table: np.ndarray) -> np.ndarray:
        rect: np.ndarray = table[b1, a1] - table[b0, a1] - table[b1, a0] + table[b0, a0]
        return rect

    on_grid = ~off_grid
    inside[near] = on_grid & within & (in_rect(sum_in) == count)
    outside[near] = off_grid | (on_grid & (in_rect(sum_out) == count))
    return inside, outside, zone


def overlap_pairs(
    pgeoms: np.ndarray, zgeoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return parcel positions, zone positions and overlap areas (> 0), by parcel then zone.

    Each zone first screens the parcels on a coarse grid (:func:`_screen`):
    parcels surely inside get their own area, parcels surely outside are
    dropped.  The rest get a prepared ``contains_properly`` test, then a
    prepared ``intersects`` test, and exact intersection only if they cross
    the zone's edge.

    Parameters
    ----------
    pgeoms : numpy.ndarray
        Parcel polygons (shapely geometries), in a metric CRS.
    zgeoms : numpy.ndarray
        Zone polygons in the same CRS (they may overlap each other).

    Returns
    -------
    parcel_idx, zone_idx : numpy.ndarray
        Positions into ``pgeoms`` and ``zgeoms`` of every pair with positive overlap.
    overlap : numpy.ndarray
        Overlap area of each pair (CRS units squared).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> p, z, a = overlap_pairs(np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)]),
    ...                         np.array([box(5, 0, 15, 10)]))
    >>> p.tolist(), z.tolist(), a.tolist()
    ([0, 1], [0, 0], [50.0, 50.0])
    """
    if not len(pgeoms) or not len(zgeoms):
        empty = np.empty(0, dtype=np.intp)
        return empty, empty.copy(), np.empty(0, dtype=float)
    bounds = shapely.bounds(pgeoms)
    widths = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    typical = float(np.nanmedian(widths)) if np.isfinite(widths).any() else 1.0
    area = shapely.area(pgeoms)
    parts_p, parts_z, parts_a = [], [], []
    counts = {"inside": 0, "outside": 0, "interior": 0, "edge": 0}
    for z, zone in enumerate(zgeoms):
        zx0, zy0, zx1, zy1 = shapely.bounds(zone)
        floor = np.sqrt((zx1 - zx0) * (zy1 - zy0) / MAX_SCREEN_CELLS)
        inside, outside, prepared = _screen(bounds, zone, max(SCREEN_CELL_PARCELS * typical, floor))
        doubt = np.flatnonzero(~inside & ~outside)
        interior = shapely.contains_properly(prepared, pgeoms[doubt])
        rest = doubt[~interior]
        edge = rest[shapely.intersects(prepared, pgeoms[rest])]
        edge_area = shapely.area(shapely.intersection(pgeoms[edge], zone))
        sure = np.flatnonzero(inside)
        parts_p += [sure, doubt[interior], edge]
        parts_a += [area[sure], area[doubt[interior]], edge_area]
        parts_z.append(np.full(len(sure) + int(interior.sum()) + len(edge), z, dtype=np.intp))
        counts["inside"] += len(sure)
        counts["outside"] += int(outside.sum())
        counts["interior"] += int(interior.sum())
        counts["edge"] += len(edge)
    logger.debug(
        "overlaps: screened %(inside)d pairs inside and %(outside)d outside; exact tests found "
        "%(interior)d more inside and %(edge)d on an edge",
        counts,
    )
    parcel_idx = np.concatenate(parts_p)
    zone_idx = np.concatenate(parts_z)
    overlap = np.concatenate(parts_a)
    keep = overlap > 0
    order = np.lexsort((zone_idx[keep], parcel_idx[keep]))
    return parcel_idx[keep][order], zone_idx[keep][order], overlap[keep][order]


def overlap_area(pgeoms: np.ndarray, zone: shapely.Geometry) -> np.ndarray:
    """Return the area of each polygon inside one zone (0 where they do not meet).

    Parameters
    ----------
    pgeoms : numpy.ndarray
        Polygons (shapely geometries), in a metric CRS.
    zone : shapely.Geometry
        One (multi)polygon in the same CRS; may be empty.

    Returns
    -------
    numpy.ndarray
        Float areas, one per polygon.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> overlap_area(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), box(5, 0, 25, 10)).tolist()
    [50.0, 50.0]
    """
    out = np.zeros(len(pgeoms), dtype=float)
    if zone is None or shapely.is_empty(zone) or not len(pgeoms):
        return out
    p, _, area = overlap_pairs(pgeoms, np.array([zone], dtype=object))
    out[p] = area
    return out
