"""Numba kernels for validation (plumbing; see :func:`tqspatial.validate.validate_parcels`).

:func:`disjoint_convex` certifies that two convex polygons have disjoint
interiors by the separating-axis theorem: some edge of one has the whole
other polygon on its outer side (touching allowed).  Side tests are measured
from the edge's first vertex, so a vertex shared by both polygons (the usual
case in a parcel coverage) gives exactly zero, whatever the rounding.  The
certificate is one-sided: pairs it does not certify are tested exactly with
GEOS by the caller.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from numba import njit

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


def disjoint_convex(
    geoms: npt.NDArray[np.object_], left: npt.NDArray[np.intp], right: npt.NDArray[np.intp]
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
    signs = np.zeros(len(geoms), dtype=np.float64)
    _convex_signs(np.ascontiguousarray(xy), starts, sizes, signs)
    out = np.zeros(len(left), dtype=np.bool_)
    _certify(
        np.ascontiguousarray(xy),
        starts,
        sizes,
        signs,
        np.asarray(left, dtype=np.int64),
        np.asarray(right, dtype=np.int64),
        out,
    )
    return out
