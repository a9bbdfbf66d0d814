"""Numba kernels for validation (plumbing; see :func:`tqspatial.validate.validate_parcels`).

:func:`disjoint_convex` certifies that two convex polygons have disjoint
interiors by the separating-axis theorem: some edge of one has the whole
other polygon on its outer side (touching allowed).  Side tests are measured
from the edge's first vertex, so a vertex shared by both polygons (the usual
case in a parcel coverage) gives exactly zero, whatever the rounding.  The
certificate is one-sided: pairs it does not certify are tested exactly with
GEOS by the caller.

The loops are compiled by numba when it is installed (the ``[fast]`` extra);
without it :func:`disjoint_convex` runs the same arithmetic vectorised in
numpy (:func:`_signs_numpy`, :func:`_certify_numpy`), with the same result.

:func:`box_pairs` finds the pairs of polygons whose bounding boxes meet (the
candidates of the overlap rule) on a uniform grid: each box is entered in the
cells it covers, and a pair is reported only by the cell holding the lower-left
corner of the two boxes' intersection, so once.  At a million parcels it is
several times faster than a bulk STRtree query; without numba, or when boxes
are too unequal for one grid, the caller uses the STRtree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from tqspatial._jit import HAVE_NUMBA, njit

#: Polygons with more vertices than this are left to GEOS (their pairs are rarely many).
MAX_VERTICES = 64

_POLYGON = 3


@njit(cache=True, nogil=True)
def _orientation(xy: Any, start: int, n: int) -> float:  # noqa: ANN401
    """+1 for a counter-clockwise ring, -1 for clockwise, 0 for a ring without area."""
    twice = 0.0
    for i in range(n):
        j = start + (i + 1) % n
        twice += xy[start + i, 0] * xy[j, 1] - xy[j, 0] * xy[start + i, 1]
    if twice > 0.0:
        return 1.0
    if twice < 0.0:
        return -1.0
    return 0.0


@njit(cache=True, nogil=True)
def _convex_signs(xy: Any, starts: Any, sizes: Any, out: Any) -> None:  # noqa: ANN401
    """``out[k]`` = orientation of ring ``k`` if it is convex, else 0."""
    for k in range(starts.shape[0]):
        n = sizes[k]
        start = starts[k]
        sign = _orientation(xy, start, n) if n >= 3 else 0.0  # noqa: PLR2004
        for i in range(n):
            if sign == 0.0:
                break
            a = start + i
            b = start + (i + 1) % n
            c = start + (i + 2) % n
            cross = (xy[b, 0] - xy[a, 0]) * (xy[c, 1] - xy[b, 1]) - (xy[b, 1] - xy[a, 1]) * (
                xy[c, 0] - xy[b, 0]
            )
            if cross * sign < 0.0:
                sign = 0.0
        out[k] = sign


@njit(cache=True, nogil=True)
def _outside_an_edge(xy: Any, starts: Any, sizes: Any, signs: Any, a: int, b: int) -> bool:  # noqa: ANN401, PLR0917
    """Whether every vertex of ring ``b`` lies on the closed outer side of an edge of ring ``a``."""
    sa, na = starts[a], sizes[a]
    sb, nb = starts[b], sizes[b]
    sign = signs[a]
    for i in range(na):
        px, py = xy[sa + i, 0], xy[sa + i, 1]
        j = sa + (i + 1) % na
        nx = (xy[j, 1] - py) * sign
        ny = -(xy[j, 0] - px) * sign
        if nx == 0.0 and ny == 0.0:
            continue
        outside = True
        for v in range(sb, sb + nb):
            if nx * (xy[v, 0] - px) + ny * (xy[v, 1] - py) < 0.0:
                outside = False
                break
        if outside:
            return True
    return False


@njit(cache=True, nogil=True)
def _certify(xy: Any, starts: Any, sizes: Any, signs: Any, left: Any, right: Any, out: Any) -> None:  # noqa: ANN401, PLR0917
    for p in range(left.shape[0]):
        a, b = left[p], right[p]
        if signs[a] == 0.0 or signs[b] == 0.0:
            out[p] = False
        else:
            out[p] = _outside_an_edge(xy, starts, sizes, signs, a, b) or _outside_an_edge(
                xy, starts, sizes, signs, b, a
            )


def _padded(xy: Any, starts: Any, sizes: Any, rings: Any) -> tuple[Any, Any, Any]:  # noqa: ANN401
    """Ring vertices as (rings, width) x and y arrays; slots past a ring's size repeat vertex 0."""
    width = max(int(sizes[rings].max()) if len(rings) else 0, 1)
    offset = np.arange(width)
    valid = offset[None, :] < sizes[rings][:, None]
    pos = starts[rings][:, None] + np.where(valid, offset[None, :], 0)
    return xy[pos, 0], xy[pos, 1], valid


def _signs_numpy(xy: Any, starts: Any, sizes: Any) -> Any:  # noqa: ANN401
    """:func:`_convex_signs` vectorised: orientation of each convex ring, else 0."""
    signs = np.zeros(starts.shape[0])
    rings = np.flatnonzero(sizes >= 3)  # noqa: PLR2004
    if len(rings) == 0:
        return signs
    x, y, valid = _padded(xy, starts, sizes, rings)
    n = sizes[rings][:, None]
    k = np.arange(x.shape[1])[None, :]
    row = np.arange(len(rings))[:, None]
    nxt = (k + 1) % n
    after = (k + 2) % n
    twice = np.zeros(len(rings))
    for i in range(x.shape[1]):  # summed in vertex order, as the loop does
        term = x[:, i] * y[row[:, 0], nxt[:, i]] - x[row[:, 0], nxt[:, i]] * y[:, i]
        twice = twice + np.where(valid[:, i], term, 0.0)
    sign = np.where(twice > 0.0, 1.0, np.where(twice < 0.0, -1.0, 0.0))
    bx, by = x[row, nxt], y[row, nxt]
    cx, cy = x[row, after], y[row, after]
    cross = (bx - x) * (cy - by) - (by - y) * (cx - bx)
    concave = ((cross * sign[:, None] < 0.0) & valid).any(axis=1)
    signs[rings] = np.where(concave, 0.0, sign)
    return signs


def _outside_numpy(xy: Any, starts: Any, sizes: Any, signs: Any, a: Any, b: Any) -> Any:  # noqa: ANN401, PLR0917
    """:func:`_outside_an_edge` for arrays of ring pairs."""
    ax, ay, a_valid = _padded(xy, starts, sizes, a)
    bx, by, b_valid = _padded(xy, starts, sizes, b)
    row = np.arange(len(a))[:, None]
    nxt = (np.arange(ax.shape[1])[None, :] + 1) % np.maximum(sizes[a], 1)[:, None]
    sign = signs[a][:, None]
    nx = (ay[row, nxt] - ay) * sign
    ny = -(ax[row, nxt] - ax) * sign
    edge = a_valid & ~((nx == 0.0) & (ny == 0.0))
    side = nx[:, :, None] * (bx[:, None, :] - ax[:, :, None]) + ny[:, :, None] * (
        by[:, None, :] - ay[:, :, None]
    )
    inside = (side < 0.0) & b_valid[:, None, :]
    outside: npt.NDArray[np.bool_] = (edge & ~inside.any(axis=2)).any(axis=1)
    return outside


#: Pairs certified together by :func:`_certify_numpy` (bounds its temporary arrays).
PAIR_BATCH = 1024


def _certify_numpy(xy: Any, starts: Any, sizes: Any, signs: Any, left: Any, right: Any) -> Any:  # noqa: ANN401, PLR0917
    """:func:`_certify` vectorised over pairs."""
    out = np.zeros(len(left), dtype=np.bool_)
    both = np.flatnonzero((signs[left] != 0.0) & (signs[right] != 0.0))
    for start in range(0, len(both), PAIR_BATCH):
        pick = both[start : start + PAIR_BATCH]
        a, b = left[pick], right[pick]
        out[pick] = _outside_numpy(xy, starts, sizes, signs, a, b) | _outside_numpy(
            xy, starts, sizes, signs, b, a
        )
    return out


def disjoint_convex(
    geoms: npt.NDArray[np.object_],
    left: npt.NDArray[np.intp],
    right: npt.NDArray[np.intp],
    *,
    use_numba: bool | None = None,
) -> npt.NDArray[np.bool_]:
    """Tell which pairs of polygons certainly have disjoint interiors (convex ones only).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid geometries.
    left, right : numpy.ndarray of int
        Pairs of positions into ``geoms``.

    Returns
    -------
    numpy.ndarray of bool
        True where both are convex polygons without holes and an edge of one
        separates them; False means "not certified" (test it exactly).
    """
    simple = (
        (shapely.get_type_id(geoms) == _POLYGON)
        & (shapely.get_num_interior_rings(geoms) == 0)
        & (shapely.get_num_coordinates(geoms) <= MAX_VERTICES + 1)
    )
    xy = shapely.get_coordinates(geoms[simple])  # no holes: the exterior ring, closed
    counts = shapely.get_num_coordinates(geoms[simple])
    starts = np.zeros(len(geoms), dtype=np.int64)
    sizes = np.zeros(len(geoms), dtype=np.int64)
    starts[simple] = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else []
    sizes[simple] = np.maximum(counts - 1, 0)  # the closing vertex repeats the first
    xy = np.ascontiguousarray(xy) if len(xy) else np.zeros((1, 2))
    pairs_left = np.asarray(left, dtype=np.int64)
    pairs_right = np.asarray(right, dtype=np.int64)
    if not (HAVE_NUMBA if use_numba is None else use_numba):
        signs = _signs_numpy(xy, starts, sizes)
        certified: npt.NDArray[np.bool_] = _certify_numpy(
            xy, starts, sizes, signs, pairs_left, pairs_right
        )
        return certified
    signs = np.zeros(len(geoms), dtype=np.float64)
    _convex_signs(xy, starts, sizes, signs)
    out = np.zeros(len(left), dtype=np.bool_)
    _certify(xy, starts, sizes, signs, pairs_left, pairs_right, out)
    return out


#: Grid cells are this many median box sizes across (see :func:`box_pairs`).
GRID_CELL_BOXES = 2.0

#: :func:`box_pairs` gives up (returns None) when the boxes would fill more grid cells than
#: this many per box: a few huge boxes among small ones are the STRtree's case.
MAX_CELLS_PER_BOX = 8.0


@njit(cache=True, nogil=True)
def _cell_entries(i0: Any, i1: Any, j0: Any, j1: Any, nx: int, total: int) -> tuple[Any, Any]:  # noqa: ANN401, PLR0917
    """Cell id and box of every (cell, box) entry, boxes in input order."""
    cells = np.empty(total, dtype=np.int64)
    boxes = np.empty(total, dtype=np.int64)
    k = 0
    for b in range(i0.shape[0]):
        for j in range(j0[b], j1[b] + 1):
            for i in range(i0[b], i1[b] + 1):
                cells[k] = j * nx + i
                boxes[k] = b
                k += 1
    return cells, boxes


@njit(cache=True, nogil=True)
def _pairs_in_cells(  # noqa: PLR0917
    cells: Any,  # noqa: ANN401
    boxes: Any,  # noqa: ANN401
    bounds: Any,  # noqa: ANN401
    x0: float,
    y0: float,
    size: float,
    nx: int,
    ny: int,
    fill: bool,  # noqa: FBT001
    left: Any,  # noqa: ANN401
    right: Any,  # noqa: ANN401
) -> int:
    """Count (and with ``fill`` write) the pairs of boxes meeting, each in one cell."""
    found = 0
    start = 0
    n = cells.shape[0]
    while start < n:
        stop = start + 1
        while stop < n and cells[stop] == cells[start]:
            stop += 1
        cell = cells[start]
        for a in range(start, stop):
            p = boxes[a]
            for b in range(a + 1, stop):
                q = boxes[b]
                if (
                    bounds[p, 0] > bounds[q, 2]
                    or bounds[q, 0] > bounds[p, 2]
                    or bounds[p, 1] > bounds[q, 3]
                    or bounds[q, 1] > bounds[p, 3]
                ):
                    continue
                # the cell of the intersection's lower-left corner reports the pair
                ci = int(np.floor((max(bounds[p, 0], bounds[q, 0]) - x0) / size))
                cj = int(np.floor((max(bounds[p, 1], bounds[q, 1]) - y0) / size))
                ci = min(max(ci, 0), nx - 1)
                cj = min(max(cj, 0), ny - 1)
                if cj * nx + ci != cell:
                    continue
                if fill:
                    left[found] = min(p, q)
                    right[found] = max(p, q)
                found += 1
        start = stop
    return found


def box_pairs(bounds: npt.NDArray[np.float64]) -> tuple[Any, Any] | None:
    """Return every pair ``(i, j)``, ``i < j``, of boxes that meet (touching counts).

    Parameters
    ----------
    bounds : numpy.ndarray
        ``(n, 4)`` boxes ``xmin, ymin, xmax, ymax`` (``shapely.bounds``); rows
        with NaN (missing or empty geometries) meet nothing.

    Returns
    -------
    tuple of numpy.ndarray, or None
        Positions ``left < right`` of the pairs, in no particular order; None
        when numba is not installed or the boxes are too unequal in size for
        one grid (then query an STRtree instead).
    """
    if not HAVE_NUMBA:
        return None
    rows = np.flatnonzero(np.isfinite(bounds).all(axis=1))
    empty = np.empty(0, dtype=np.intp)
    if len(rows) < 2:  # noqa: PLR2004
        return empty, empty.copy()
    box = np.ascontiguousarray(bounds[rows])
    extent = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    size = GRID_CELL_BOXES * float(np.median(extent))
    x0, y0 = float(box[:, 0].min()), float(box[:, 1].min())
    x1, y1 = float(box[:, 2].max()), float(box[:, 3].max())
    if not size > 0 or (x1 - x0) / size > 2**30 or (y1 - y0) / size > 2**30:
        return None
    nx = int(np.floor((x1 - x0) / size)) + 1
    ny = int(np.floor((y1 - y0) / size)) + 1
    i0 = np.clip(np.floor((box[:, 0] - x0) / size), 0, nx - 1).astype(np.int64)
    i1 = np.clip(np.floor((box[:, 2] - x0) / size), 0, nx - 1).astype(np.int64)
    j0 = np.clip(np.floor((box[:, 1] - y0) / size), 0, ny - 1).astype(np.int64)
    j1 = np.clip(np.floor((box[:, 3] - y0) / size), 0, ny - 1).astype(np.int64)
    total = int(((i1 - i0 + 1) * (j1 - j0 + 1)).sum())
    if total > MAX_CELLS_PER_BOX * len(rows):
        return None
    cells, boxes = _cell_entries(i0, i1, j0, j1, nx, total)
    order = np.argsort(cells, kind="stable")
    cells, boxes = cells[order], boxes[order]
    scratch = np.empty(0, dtype=np.int64)
    found = _pairs_in_cells(cells, boxes, box, x0, y0, size, nx, ny, False, scratch, scratch)  # noqa: FBT003
    left = np.empty(found, dtype=np.int64)
    right = np.empty(found, dtype=np.int64)
    _pairs_in_cells(cells, boxes, box, x0, y0, size, nx, ny, True, left, right)  # noqa: FBT003
    return rows[left], rows[right]
