"""Accessibility on a compiled road network: snapping, exact fast engines, and measures.

**Snapping.** Parcels (their representative point) and facilities attach to the
network in one of two ways (:func:`snap_points`, ``to=``):

* ``"node"`` (the default, as before): the *nearest network node they can
  reach*: the ``k`` nearest nodes within ``max_snap_m`` are candidates, and a
  candidate whose straight connector crosses a barrier (the edge of a water
  polygon such as a river channel, or a barrier line) is skipped.  Snapping to
  nodes overstates connectors by up to half an edge.
* ``"edge"``: the *nearest admissible edge* (edges drawn straight between
  their nodes, either direction); the point attaches at its projection, at
  position ``edge_t`` from ``edge_u``, and reaches the edge's ends at the
  split costs ``t * w`` and ``(1 - t) * w`` of each direction the edge has
  (a one-way edge is left only forwards).  Two points on one edge also
  travel straight along it.  The barrier rule is the same: when the nearest
  edge's connector crosses a barrier, every edge within ``max_snap_m`` is
  tried, nearest first.

The connector length is walked at ``connector_speed_mps`` (walking speed by
default, in both modes: one walks to the car) and added to every cost.  A
point with no admissible node or edge gets ``node = -1``, a ``snap_reason``
and ``NaN`` costs, never zero.

**Engines** (``engine=``, default :data:`DEFAULT_ENGINE`).  ``"hierarchy"``: the
network's contraction hierarchy (:mod:`tqspatial.hierarchy`, built once and
cached): nearest facility by one multi-source PHAST sweep per kind, catchment
measures (cumulative counts, 2SFCA, E2SFCA, opportunities within T) by PHAST
trees, :data:`TREES_PER_SWEEP` facilities per sweep, cost tables by bucket
many-to-many.  ``"dijkstra"`` (node snapping only): ``scipy.sparse.csgraph.dijkstra``
from a virtual source per kind, and one bounded numba Dijkstra per facility
whose queue is a bucket queue with buckets no wider than the shortest edge
(every node of the lowest bucket is final, so the result is exact), or a
binary heap when edges of zero length would break that.  Both engines give
the same costs to 1e-9 s and the same counts (tested on the embedded
district's whole accessibility stage), do 2SFCA steps 1 and 2 and the
counts in the same pass, and spread facilities over threads (the kernels
release the GIL).  Tests check them against networkx and the ratios against
the PySAL ``access`` package.  Costs go from parcel to facility (searches run
backwards), so one-way streets are honoured in drive mode.

**Life circles (GB 50180-2018).** The 15-, 10- and 5-minute life circles
are measured as walking network distance (with connectors) to the nearest
facility of each required kind, against 1000 m, 500 m and 300 m (表3.0.4).
The levels, distances, required facilities (配套设施, 附录B) and minimum park
sizes (表4.0.4) are the cited table of :mod:`tqspatial.lifecircle`; pass
``requirements`` to change any of it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from tqspatial import _access_kernels as kern
from tqspatial import _hierarchy_kernels as hkern
from tqspatial._jit import HAVE_NUMBA
from tqspatial.errors import DataQualityWarning, SchemaError
from tqspatial.hierarchy import Hierarchy, hierarchy_of
from tqspatial.lifecircle import LIFE_CIRCLE_DISTANCE_M, LIFE_CIRCLE_REQUIREMENTS
from tqspatial.network import WALK_SPEED_MPS, CompiledNetwork

__all__ = [
    "DEFAULT_ENGINE",
    "DEFAULT_MAX_SNAP_M",
    "ISOCHRONE_ACCESS_M",
    "cost_table",
    "floating_catchment",
    "isochrones",
    "life_circle_coverage",
    "linkage_table",
    "nearest_facility",
    "opportunities_within",
    "parcel_access_table",
    "snap_points",
    "summarise_by_cluster",
    "two_step_fca",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Decay = Literal["none", "step", "gaussian"]
Engine = Literal["hierarchy", "dijkstra"]
SnapTo = Literal["node", "edge"]

#: Shortest-path engine of the measures: ``"hierarchy"`` (contraction hierarchy,
#: :mod:`tqspatial.hierarchy`) or ``"dijkstra"`` (scipy / bounded numba Dijkstra, node
#: snapping only).  Both give the same costs (to 1e-9 s).  Without numba (the ``[fast]``
#: extra) the hierarchy's kernels would run as plain Python: the default is then Dijkstra.
DEFAULT_ENGINE: Engine = "hierarchy" if HAVE_NUMBA else "dijkstra"
#: PHAST trees computed per sweep in the catchment kernel.
TREES_PER_SWEEP = 16

#: Farthest a parcel or facility may be from its network node (metres).
DEFAULT_MAX_SNAP_M = 500.0
#: Nearest nodes tried per point before giving up because of barriers.
SNAP_CANDIDATES = 8
#: Enhanced 2SFCA step weights of Luo and Qi (2009), the `access` package default.
E2SFCA_STEPS: dict[float, float] = {10.0: 1.0, 20.0: 0.68, 30.0: 0.22}

SNAP_COLUMNS = ["node", "connector_m", "snap_reason"]
#: Extra columns of edge snapping: the edge's end nodes (``edge_u < edge_v``) and the
#: position of the attachment point along the straight edge from ``edge_u`` (0..1).
EDGE_COLUMNS = ["edge_u", "edge_v", "edge_t"]


# --------------------------------------------------------------------------- snapping


def _points(geoms: gpd.GeoSeries) -> npt.NDArray[np.float64]:
    values = geoms.to_numpy()
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    pts = np.full((len(values), 2), np.nan)
    present = values[~missing]
    if len(present):
        is_point = shapely.get_type_id(present) == shapely.GeometryType.POINT
        rep = present.copy()
        rep[~is_point] = shapely.point_on_surface(present[~is_point])
        pts[~missing] = shapely.get_coordinates(rep)
    return pts


def _barrier_lines(barriers: gpd.GeoSeries | gpd.GeoDataFrame | None) -> npt.NDArray[Any]:
    if barriers is None or len(barriers) == 0:
        return np.array([], dtype=object)
    geoms = barriers.geometry.to_numpy() if hasattr(barriers, "geometry") else barriers
    geoms = np.asarray(geoms)
    geoms = geoms[~shapely.is_missing(geoms)]
    polygonal = shapely.get_type_id(geoms) >= shapely.GeometryType.POLYGON
    lines = np.where(polygonal, shapely.boundary(geoms), geoms)
    parts = shapely.get_parts(lines)
    return np.asarray(parts[~shapely.is_empty(parts)])


def snap_points(
    geoms: gpd.GeoSeries | gpd.GeoDataFrame,
    net: CompiledNetwork,
    *,
    barriers: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    candidates: int = SNAP_CANDIDATES,
    to: SnapTo = "node",
) -> pd.DataFrame:
    """Attach points or polygons to their nearest admissible network node or edge.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or GeoDataFrame
        Parcels or facilities in the network's CRS; polygons use a point on
        their surface.
    net : CompiledNetwork
        The network.
    barriers : GeoSeries or GeoDataFrame, optional
        Polygons (their edges are barriers) or lines a connector may not cross,
        e.g. the Yellow River channel.
    max_snap_m : float, default DEFAULT_MAX_SNAP_M
        Longest admissible connector (metres).
    candidates : int, default SNAP_CANDIDATES
        Nearest nodes tried per point (node snapping).
    to : {"node", "edge"}, default "node"
        ``"node"``: the nearest admissible node.  ``"edge"``: the nearest
        admissible edge (drawn straight between its nodes, either direction);
        the point attaches at its projection on the edge and the edge's cost
        is split by the position (one-way edges only carry their direction).
        Every edge within ``max_snap_m`` is a candidate when the nearest one's
        connector crosses a barrier.

    Returns
    -------
    pandas.DataFrame
        Same index as ``geoms``; ``node`` (int, -1 when not snapped; with
        ``to="edge"`` the edge's nearer end), ``connector_m`` (NaN when not
        snapped) and ``snap_reason`` (None, ``"no_geometry"``,
        ``"beyond_max_snap"`` or ``"barrier"``); with ``to="edge"`` also
        :data:`EDGE_COLUMNS` (``edge_u``/``edge_v`` -1 when not snapped).

    Raises
    ------
    SchemaError
        If no point lies within ``max_snap_m`` of the network (the network
        does not cover the study area).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> from tqspatial.network import toy_network
    >>> pts = gpd.GeoSeries([Point(90, 30), Point(5000, 0)], crs="EPSG:4548")
    >>> snap_points(pts, toy_network())[["node", "snap_reason"]].values.tolist()
    [[1, None], [-1, 'beyond_max_snap']]
    >>> snap_points(pts, toy_network(), to="edge")[["edge_u", "edge_v", "edge_t"]].values.tolist()
    [[0.0, 1.0, 0.9], [-1.0, -1.0, nan]]
    """
    if to not in {"node", "edge"}:
        msg = f"snap to must be 'node' or 'edge', got {to!r}"
        raise ValueError(msg)
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    if to == "edge":
        return _snap_to_edges(series, net, barriers=barriers, max_snap_m=max_snap_m)
    n = len(series)
    out = pd.DataFrame(
        {
            "node": np.full(n, -1, dtype=np.int64),
            "connector_m": np.full(n, np.nan),
            "snap_reason": pd.Series([None] * n, dtype=object),
        },
        index=series.index,
    )
    if n == 0:
        return out
    pts = _points(series)
    has_geom = ~np.isnan(pts[:, 0])
    reason = np.where(has_geom, "beyond_max_snap", "no_geometry").astype(object)
    lines = _barrier_lines(barriers)
    # without barriers the nearest node is always admissible: one candidate suffices
    k = max(1, min(candidates if len(lines) else 1, net.n_nodes))
    tree = cKDTree(np.column_stack([net.x, net.y]))
    dist = np.full((n, k), np.inf)
    idx = np.full((n, k), net.n_nodes, dtype=np.int64)
    if has_geom.any():
        d, i = tree.query(pts[has_geom], k=k, distance_upper_bound=max_snap_m, workers=-1)
        dist[has_geom] = np.asarray(d).reshape(-1, k)
        idx[has_geom] = np.asarray(i).reshape(-1, k)
    admissible = np.isfinite(dist)
    if has_geom.any() and not admissible[:, 0].any():
        raise _not_covering(net, max_snap_m)
    if len(lines) and admissible.any():
        rows, cols = np.nonzero(admissible)
        nodes = idx[rows, cols]
        coords = np.stack(
            [pts[rows], np.column_stack([net.x[nodes], net.y[nodes]])], axis=1
        )  # (m, 2, 2)
        segments = shapely.linestrings(coords)
        seg_hit, _ = shapely.STRtree(lines).query(segments, predicate="intersects")
        crossing = np.zeros(len(rows), dtype=bool)
        crossing[seg_hit] = True
        blocked_any = admissible.any(axis=1)
        admissible[rows[crossing], cols[crossing]] = False
        reason[blocked_any & ~admissible.any(axis=1)] = "barrier"
    ok = admissible.any(axis=1)
    first = np.argmax(admissible, axis=1)
    rows_ok = np.flatnonzero(ok)
    out.loc[ok, "node"] = idx[rows_ok, first[rows_ok]]
    out.loc[ok, "connector_m"] = dist[rows_ok, first[rows_ok]]
    reason[ok] = None
    out["snap_reason"] = pd.Series(reason, index=out.index, dtype=object)
    _not_snapped(reason, n, net.mode)
    return out


def _segments(net: CompiledNetwork) -> tuple[IntArray, IntArray]:
    """Undirected edges ``(u, v)``, ``u < v``, of the network (one per node pair)."""
    src = np.repeat(np.arange(net.n_nodes, dtype=np.int64), np.diff(net.indptr))
    dst = net.indices.astype(np.int64)
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique(lo * net.n_nodes + hi)
    return key // net.n_nodes, key % net.n_nodes


def _not_snapped(reason: npt.NDArray[Any], n_total: int, mode: str) -> None:
    """Warn once per call, naming the network's mode (walk, drive ...) and the reasons."""
    failed = pd.Series(reason).dropna().value_counts()
    if len(failed):
        logger.warning(
            "snapping to the %s network: %d of %d points not snapped (%s)",
            mode,
            int(failed.sum()),
            n_total,
            ", ".join(f"{why}: {count}" for why, count in failed.items()),
        )


def _not_covering(net: CompiledNetwork, max_snap_m: float) -> SchemaError:
    minx, miny, maxx, maxy = net.bounds()
    msg = (
        f"no point lies within {max_snap_m} m of the road network (network bounds "
        f"{minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f} in {net.crs}); the network does not "
        "cover the study area: check its extent and CRS"
    )
    return SchemaError(msg)


#: ``chosen`` edge of a point whose every candidate connector crosses a barrier.
_BARRED = -2


def _foot(segs: npt.NDArray[Any], points: npt.NDArray[Any]) -> FloatArray:
    """Coordinates of the points' projections on the segments."""
    at = shapely.line_interpolate_point(segs, shapely.line_locate_point(segs, points))
    return np.asarray(shapely.get_coordinates(at), dtype=np.float64)


def _edges_past_barriers(
    chosen: IntArray,
    segs: npt.NDArray[Any],
    points: npt.NDArray[Any],
    lines: npt.NDArray[Any],
    max_snap_m: float,
) -> None:
    """Replace in ``chosen`` the edges whose connector crosses a barrier (nearest admissible)."""
    btree = shapely.STRtree(lines)
    tree = shapely.STRtree(segs)
    near = np.flatnonzero(chosen >= 0)
    xy = shapely.get_coordinates(points)
    connectors = shapely.linestrings(
        np.stack([xy[near], _foot(segs[chosen[near]], points[near])], axis=1)
    )
    hit, _ = btree.query(connectors, predicate="intersects")
    for i in near[np.unique(hit)]:  # few points: every edge within reach, nearest first
        cand = np.asarray(tree.query(points[i], predicate="dwithin", distance=max_snap_m))
        order = np.argsort(shapely.distance(segs[cand], points[i]), kind="stable")
        chosen[i] = _BARRED
        for c in cand[order]:
            foot = _foot(segs[c : c + 1], points[i : i + 1])[0]
            connector = shapely.linestrings([xy[i], foot])
            if not len(btree.query(connector, predicate="intersects")):
                chosen[i] = c
                break


def _snap_to_edges(
    series: gpd.GeoSeries,
    net: CompiledNetwork,
    *,
    barriers: gpd.GeoSeries | gpd.GeoDataFrame | None,
    max_snap_m: float,
) -> pd.DataFrame:
    """Edge snapping of :func:`snap_points` (``to="edge"``)."""
    n = len(series)
    u_all, v_all = _segments(net)
    node = np.full(n, -1, dtype=np.int64)
    eu = np.full(n, -1, dtype=np.int64)
    ev = np.full(n, -1, dtype=np.int64)
    et = np.full(n, np.nan)
    conn = np.full(n, np.nan)
    pts = _points(series) if n else np.empty((0, 2))
    has_geom = ~np.isnan(pts[:, 0])
    reason = np.where(has_geom, "beyond_max_snap", "no_geometry").astype(object)
    if has_geom.any() and len(u_all):
        ends = np.stack(
            [np.column_stack([net.x[u_all], net.y[u_all]]),
             np.column_stack([net.x[v_all], net.y[v_all]])], axis=1,
        )  # fmt: skip
        segs: npt.NDArray[Any] = np.asarray(shapely.linestrings(ends), dtype=object)
        rows = np.flatnonzero(has_geom)
        points: npt.NDArray[Any] = np.asarray(shapely.points(pts[rows]), dtype=object)
        (pi, si), _ = shapely.STRtree(segs).query_nearest(
            points, max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        chosen = np.full(len(rows), -1, dtype=np.int64)
        chosen[pi] = si
        if not (chosen >= 0).any():
            raise _not_covering(net, max_snap_m)
        lines = _barrier_lines(barriers)
        if len(lines):
            _edges_past_barriers(chosen, segs, points, lines, max_snap_m)
            reason[rows[chosen == _BARRED]] = "barrier"
        ok = chosen >= 0
        good = rows[ok]
        seg = segs[chosen[ok]]
        t = shapely.line_locate_point(seg, points[ok], normalized=True)
        t = np.nan_to_num(np.clip(t, 0.0, 1.0), nan=0.0)  # zero-length edge: at its start
        eu[good] = u_all[chosen[ok]]
        ev[good] = v_all[chosen[ok]]
        et[good] = t
        conn[good] = shapely.distance(seg, points[ok])
        node[good] = np.where(t <= 0.5, eu[good], ev[good])  # noqa: PLR2004 - the nearer end
        reason[good] = None
    _not_snapped(reason, n, net.mode)
    out = pd.DataFrame({"node": node, "connector_m": conn}, index=series.index)
    out["snap_reason"] = pd.Series(reason, index=series.index, dtype=object)
    out["edge_u"], out["edge_v"], out["edge_t"] = eu, ev, et
    return out


# --------------------------------------------------------------------------- engines


@dataclasses.dataclass(frozen=True)
class _Ends:
    """Where snapped points attach: up to two nodes each, at a network cost (plumbing).

    ``out_part``: cost from the point to ``node`` along its edge; ``in_part``:
    from ``node`` to the point (0 for node snapping; inf when the edge has no
    such direction).  ``edge`` is ``edge_u * n_nodes + edge_v`` (-1: node
    snapping), ``t`` the position from ``edge_u``, ``wf``/``wb`` the edge's cost
    from ``edge_u`` to ``edge_v`` and back (inf when one-way).
    """

    node: IntArray
    out_part: FloatArray
    in_part: FloatArray
    conn: FloatArray
    edge: IntArray
    t: FloatArray
    wf: FloatArray
    wb: FloatArray

    def direct(self, i: IntArray, other: _Ends, j: IntArray) -> FloatArray:
        """Cost from points ``i`` straight along their edge to ``other``'s points ``j``."""
        ahead = other.t[j] > self.t[i]
        with np.errstate(invalid="ignore"):  # 0 * inf where both sit at one spot: 0 below
            cost = np.where(
                ahead, (other.t[j] - self.t[i]) * self.wf[i], (self.t[i] - other.t[j]) * self.wb[i]
            )
        cost = np.where(other.t[j] == self.t[i], 0.0, cost)
        return np.where((self.edge[i] >= 0) & (self.edge[i] == other.edge[j]), cost, np.inf).astype(
            np.float64
        )


def _edge_cost(net: CompiledNetwork, u: IntArray, v: IntArray, weight: str) -> FloatArray:
    """Cost of the directed edges ``u -> v`` (inf where absent)."""
    src = np.repeat(np.arange(net.n_nodes, dtype=np.int64), np.diff(net.indptr))
    keys = src * net.n_nodes + net.indices.astype(np.int64)
    values = np.asarray(getattr(net, weight), dtype=np.float64)
    want = u.astype(np.int64) * net.n_nodes + v.astype(np.int64)
    if not len(keys):
        return np.full(len(want), np.inf)
    if (np.diff(keys) < 0).any():
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
    pos = np.clip(np.searchsorted(keys, want), 0, len(keys) - 1)
    return np.where(keys[pos] == want, values[pos], np.inf)


def _edge_snapped(snap: pd.DataFrame) -> bool:
    return "edge_u" in snap.columns and bool((snap["edge_u"].to_numpy() >= 0).any())


def _ends(net: CompiledNetwork, snap: pd.DataFrame, weight: str, speed: float) -> _Ends:
    n = len(snap)
    node = np.full((n, 2), -1, dtype=np.int64)
    node[:, 0] = snap["node"].to_numpy(dtype=np.int64)
    out_part = np.where(node >= 0, 0.0, np.inf)
    in_part = out_part.copy()
    edge = np.full(n, -1, dtype=np.int64)
    t = np.zeros(n)
    wf = np.full(n, np.inf)
    wb = np.full(n, np.inf)
    if _edge_snapped(snap):
        on = np.flatnonzero(snap["edge_u"].to_numpy() >= 0)
        u = snap["edge_u"].to_numpy(dtype=np.int64)[on]
        v = snap["edge_v"].to_numpy(dtype=np.int64)[on]
        t[on] = snap["edge_t"].to_numpy(dtype=float)[on]
        wf[on] = _edge_cost(net, u, v, weight)
        wb[on] = _edge_cost(net, v, u, weight)
        edge[on] = u * net.n_nodes + v
        to_u, to_v = t[on] * wb[on], (1.0 - t[on]) * wf[on]
        from_u, from_v = t[on] * wf[on], (1.0 - t[on]) * wb[on]
        node[on, 0], node[on, 1] = u, v
        out_part[on, 0], out_part[on, 1] = to_u, to_v
        in_part[on, 0], in_part[on, 1] = from_u, from_v
    conn = _conn_s(snap, speed)
    return _Ends(node, out_part, in_part, conn, edge, t, wf, wb)


def _check_engine(engine: str, *snaps: pd.DataFrame) -> None:
    if engine not in {"hierarchy", "dijkstra"}:
        msg = f"engine must be 'hierarchy' or 'dijkstra', got {engine!r}"
        raise ValueError(msg)
    if engine == "dijkstra" and any(_edge_snapped(s) for s in snaps):
        msg = "engine='dijkstra' takes node-snapped points only; use engine='hierarchy'"
        raise ValueError(msg)


def _to_ranks(hier: Hierarchy, node: IntArray) -> IntArray:
    return np.where(node >= 0, hier.rank[np.maximum(node, 0)], -1).astype(np.int64)


def _conn_s(snap: pd.DataFrame, speed_mps: float) -> FloatArray:
    return np.nan_to_num(snap["connector_m"].to_numpy(dtype=float) / speed_mps, nan=0.0)


def _reversed(net: CompiledNetwork, weight: str) -> sp.csr_matrix:
    matrix = net.matrix(weight)  # type: ignore[arg-type]
    return sp.csr_matrix(matrix.T)


def _with_virtual_source(
    reverse: sp.csr_matrix, nodes: npt.NDArray[np.int64], cost: FloatArray
) -> sp.csr_matrix:
    """Append node ``n`` with edges to ``nodes`` (smallest cost per node)."""
    n = reverse.shape[0]
    order = np.lexsort((cost, nodes))
    nodes, cost = nodes[order], cost[order]
    first = np.ones(len(nodes), dtype=bool)
    first[1:] = nodes[1:] != nodes[:-1]
    nodes, cost = nodes[first], cost[first]
    indptr = np.concatenate([reverse.indptr, [reverse.indptr[-1] + len(nodes)]])
    indices = np.concatenate([reverse.indices, nodes.astype(reverse.indices.dtype)])
    data = np.concatenate([reverse.data, cost])
    return sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))


def _nearest_by_hierarchy(hier: Hierarchy, pe: _Ends, fe: _Ends) -> tuple[FloatArray, IntArray]:
    """Cost (network + facility connector) from each ``pe`` point to its nearest ``fe`` point.

    Returns the cost and which point of ``fe`` (-1: none).
    """
    n_f = len(fe.conn)
    src = fe.node.T.reshape(-1)
    start = (fe.in_part + fe.conn[:, None]).T.reshape(-1)
    which = np.tile(np.arange(n_f, dtype=np.int64), 2)
    keep = (src >= 0) & np.isfinite(start)
    node_cost, node_label = hier.nearest(src[keep], start[keep], reverse=True)
    node_label = np.where(node_label >= 0, which[keep][np.maximum(node_label, 0)], -1)
    cost = np.full(len(pe.conn), np.inf)
    label = np.full(len(pe.conn), -1, dtype=np.int64)
    for a in range(2):
        at = pe.node[:, a]
        ok = at >= 0
        c = np.full(len(at), np.inf)
        c[ok] = node_cost[at[ok]] + pe.out_part[ok, a]
        better = c < cost
        cost[better] = c[better]
        label[better] = node_label[at[better]]
    if (pe.edge >= 0).any() and (fe.edge >= 0).any():  # straight along a shared edge
        pairs = pd.DataFrame({"e": pe.edge, "i": np.arange(len(pe.edge))}).merge(
            pd.DataFrame({"e": fe.edge, "j": np.arange(n_f)}), on="e"
        )
        pairs = pairs[pairs["e"] >= 0]
        i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
        c = pe.direct(i, fe, j) + fe.conn[j]
        for k in np.argsort(c, kind="stable")[::-1]:  # cheapest last wins
            if c[k] < cost[i[k]]:
                cost[i[k]] = c[k]
                label[i[k]] = j[k]
    label[~np.isfinite(cost)] = -1
    return cost, label


# --------------------------------------------------------------------------- nearest facility


def nearest_facility(
    net: CompiledNetwork,
    origins: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    kind_column: str = "kind",
    id_column: str = "facility_id",
    weight: Literal["time_s", "length_m"] = "time_s",
    connector_speed_mps: float = WALK_SPEED_MPS,
    engine: Engine = DEFAULT_ENGINE,
) -> pd.DataFrame:
    """Cost from every origin to the nearest facility of each kind (one search per kind).

    Parameters
    ----------
    net : CompiledNetwork
        The network.
    origins : pandas.DataFrame
        Snapped origins (output of :func:`snap_points`).
    facilities : pandas.DataFrame
        Snapped facilities (``node``, ``connector_m``) with ``kind_column`` and
        ``id_column``.
    kind_column, id_column : str
        Facility kind and identifier columns.
    weight : {"time_s", "length_m"}, default "time_s"
        Cost in minutes (``time_s``; connectors at ``connector_speed_mps``) or
        metres (``length_m``; connectors by length).
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on connectors when ``weight="time_s"``.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        ``hierarchy``: one multi-source PHAST sweep per kind (node or edge
        snapping); ``dijkstra``: one scipy search per kind from a virtual
        source (node snapping only).  Ties between equally near facilities
        may be broken differently.

    Returns
    -------
    pandas.DataFrame
        Index of ``origins``; per kind ``<kind>_min`` (or ``<kind>_m``) and
        ``<kind>_id``.  NaN / None where the origin is not snapped or no
        facility of the kind is reachable (``access_reason`` says which).

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> net = toy_network()
    >>> o = pd.DataFrame({"node": [0], "connector_m": [0.0], "snap_reason": [None]})
    >>> f = pd.DataFrame({"node": [2], "connector_m": [12.0], "kind": ["school"],
    ...                   "facility_id": ["s1"]})
    >>> nearest_facility(net, o, f, weight="length_m")[["school_m", "school_id"]].values.tolist()
    [[212.0, 's1']]
    """
    per_time = weight == "time_s"
    suffix = "_min" if per_time else "_m"
    scale = 60.0 if per_time else 1.0
    speed = connector_speed_mps if per_time else 1.0
    _check_engine(engine, origins, facilities)
    n = net.n_nodes
    onode = origins["node"].to_numpy(dtype=np.int64)
    oconn = _conn_s(origins, speed)
    snapped = onode >= 0
    out = pd.DataFrame(index=origins.index)
    reasons = pd.Series(origins["snap_reason"].astype(object), index=origins.index)
    usable = facilities[facilities["node"].to_numpy() >= 0]
    reverse = _reversed(net, weight) if engine == "dijkstra" else None
    hier = hierarchy_of(net, weight) if engine == "hierarchy" else None
    pe = _ends(net, origins, weight, speed) if hier is not None else None
    for kind, group in usable.groupby(kind_column, sort=True):
        lab = np.full(len(onode), -1, dtype=np.int64)
        cost = np.full(len(onode), np.nan)
        if hier is not None and pe is not None:
            fe = _ends(net, group, weight, speed)
            net_cost, lab = _nearest_by_hierarchy(hier, pe, fe)
            cost = (net_cost + oconn) / scale
        elif reverse is not None:
            fnode = group["node"].to_numpy(dtype=np.int64)
            fconn = _conn_s(group, speed)
            graph = _with_virtual_source(reverse, fnode, fconn)
            dist, pred = dijkstra(graph, indices=n, return_predecessors=True)
            seed = np.full(n, -1, dtype=np.int64)
            # the virtual edge to a node goes to its cheapest facility
            order = np.lexsort((fconn, fnode))
            seed[fnode[order][::-1]] = np.arange(len(group))[order][::-1]
            label = kern._propagate_labels(pred[:n].astype(np.int64), seed, n)
            cost[snapped] = (dist[onode[snapped]] + oconn[snapped]) / scale
            lab[snapped] = label[onode[snapped]]
        lab[~snapped] = -1
        cost[lab < 0] = np.nan
        ids = np.full(len(onode), None, dtype=object)
        ids[lab >= 0] = group[id_column].to_numpy(dtype=object)[lab[lab >= 0]]
        out[f"{kind}{suffix}"] = cost
        out[f"{kind}_id"] = ids
        unreached = snapped & (lab < 0)
        reasons[unreached & reasons.isna().to_numpy()] = f"unreachable_{kind}"
    out["access_reason"] = reasons
    return out


# --------------------------------------------------------------------------- catchments


def _decay_arrays(
    decay: Decay, sigma_min: float | None, steps: Mapping[float, float] | None
) -> tuple[int, FloatArray, FloatArray]:
    if decay == "none":
        return kern.WEIGHT_NONE, np.zeros(1), np.zeros(1)
    if decay == "step":
        table = dict(sorted((steps or E2SFCA_STEPS).items()))
        return (
            kern.WEIGHT_STEP,
            np.array(list(table), dtype=float),
            np.array(list(table.values()), dtype=float),
        )
    if decay == "gaussian":
        if sigma_min is None or not sigma_min > 0:
            msg = f"decay='gaussian' needs a positive sigma_min (minutes), got {sigma_min}"
            raise ValueError(msg)
        return kern.WEIGHT_GAUSSIAN, np.array([float(sigma_min)]), np.zeros(1)
    msg = f"decay must be 'none', 'step' or 'gaussian', got {decay!r}"
    raise ValueError(msg)


def _valid_supply(facilities: pd.DataFrame, supply_column: str) -> npt.NDArray[np.bool_]:
    supply = pd.to_numeric(facilities[supply_column], errors="coerce").to_numpy(dtype=float)
    good = np.isfinite(supply) & (supply > 0)
    if not good.any():
        msg = (
            f"facilities: no row has a positive {supply_column!r} ({len(facilities)} rows); "
            "2SFCA needs capacities: fill the column or choose another"
        )
        raise SchemaError(msg)
    if not good.all():
        import warnings  # noqa: PLC0415

        warnings.warn(
            f"{(~good).sum()} facilities have no positive {supply_column!r}; they are left out of "
            "2SFCA (supply_ratio NaN, reason 'no_capacity')",
            DataQualityWarning,
            stacklevel=3,
        )
    return np.asarray(good, dtype=bool)


def _parcels_by_node(
    pnode: npt.NDArray[np.int64], n_nodes: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR of parcel rows by node: parcels at v are ``rows[ptr[v]:ptr[v + 1]]``."""
    snapped_rows = np.flatnonzero(pnode >= 0)
    rows = snapped_rows[np.argsort(pnode[snapped_rows], kind="stable")]
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(pnode[snapped_rows], minlength=n_nodes))
    return ptr, rows.astype(np.int64)


#: The bucket queue is used when it needs at most this many buckets per node, or at most
#: BUCKETS_ALWAYS_OK buckets (empty buckets cost a few nanoseconds each per search).
MAX_BUCKETS_PER_NODE = 4
BUCKETS_ALWAYS_OK = 100_000


def _bucket_width(weights: FloatArray, limit_s: float, n_nodes: int) -> float:
    """Bucket width for the bucketed search: the smallest edge weight, or 0 (use the heap).

    Zero-weight edges would let a node improve another in the same bucket, and
    very short edges would need too many buckets; both fall back to the heap.
    """
    if len(weights) == 0:
        return 0.0
    smallest = float(weights.min())
    allowed = max(MAX_BUCKETS_PER_NODE * n_nodes, BUCKETS_ALWAYS_OK)
    if smallest <= 0 or limit_s / smallest > allowed:
        return 0.0
    return smallest


def _merge(
    results: Sequence[tuple[Any, ...]], node_parcels: npt.NDArray[np.int64], n_p: int, n_f: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Sum per-thread results and put parcels back in input order."""
    counts = np.zeros(n_p)
    within = np.zeros(n_p)
    access = np.zeros(n_p)
    fac_demand = np.full(n_f, np.nan)
    for c, w, a, fd in results:
        counts[node_parcels] += c
        within[node_parcels] += w
        access[node_parcels] += a
        fac_demand = np.where(np.isnan(fac_demand), fd, fac_demand)
    return counts, within, access, fac_demand


def _catchments_by_dijkstra(  # noqa: PLR0917 - the kernel's arrays
    net: CompiledNetwork,
    pnode: IntArray,
    pconn: FloatArray,
    demand: FloatArray,
    fnode: IntArray,
    fconn: FloatArray,
    fsupply: FloatArray,
    rows: IntArray,
    *,
    max_cost_min: float,
    decay: tuple[int, FloatArray, FloatArray],
    n_jobs: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One bounded numba Dijkstra per facility (node snapping)."""
    kind, params, step_weight = decay
    reverse = _reversed(net, "time_s")
    rev_indptr = reverse.indptr.astype(np.int64)
    rev_indices = reverse.indices.astype(np.int64)
    rev_weights = reverse.data.astype(np.float64)
    node_ptr, node_parcels = _parcels_by_node(pnode, net.n_nodes)
    rows = rows.astype(np.int64)
    jobs = max(1, min(n_jobs, len(rows)))
    width = _bucket_width(rev_weights, max_cost_min * 60.0, net.n_nodes)

    # parcel arrays in node order (contiguous per node); results are scattered back below
    pconn_sorted = pconn[node_parcels]
    demand_sorted = demand[node_parcels]
    n_sorted = len(node_parcels)

    def run(chunk: npt.NDArray[np.int64]) -> tuple[Any, ...]:
        counts = np.zeros(n_sorted, dtype=np.int64)
        within = np.zeros(n_sorted)
        access = np.zeros(n_sorted)
        fac_demand = np.full(len(fnode), np.nan)
        kern._catchments(
            chunk, fnode, fconn, fsupply, rev_indptr, rev_indices, rev_weights,
            node_ptr, pconn_sorted, demand_sorted, float(max_cost_min),
            kind, params, step_weight, counts, within, access, fac_demand, width,
        )  # fmt: skip
        return counts, within, access, fac_demand

    chunks = [rows[i::jobs] for i in range(jobs)]  # interleaved: similar work per thread
    if jobs == 1:
        results = [run(chunks[0])]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(run, chunks))
    return _merge(results, node_parcels, len(pnode), len(fnode))


def _catchments_by_hierarchy(  # noqa: PLR0917 - the kernel's arrays
    net: CompiledNetwork,
    parcels: pd.DataFrame,
    facilities: pd.DataFrame,
    demand: FloatArray,
    fsupply: FloatArray,
    rows: IntArray,
    *,
    max_cost_min: float,
    decay: tuple[int, FloatArray, FloatArray],
    speed: float,
    n_jobs: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Batched PHAST sweeps (costs to the facilities), parcels in rank order."""
    kind, params, step_weight = decay
    hier = hierarchy_of(net, "time_s")
    pe = _ends(net, parcels, "time_s", speed)
    fe = _ends(net, facilities, "time_s", speed)
    p_rank = _to_ranks(hier, pe.node)
    f_rank = _to_ranks(hier, fe.node)
    live = np.flatnonzero((p_rank >= 0).any(axis=1))
    live = live[np.argsort(p_rank[live, 0], kind="stable")].astype(np.int64)  # memory order
    rows = rows.astype(np.int64)
    jobs = max(1, min(n_jobs, len(rows)))
    n_p, n_f = len(pe.conn), len(fe.conn)
    s_graph = (hier.down_ptr, hier.down_idx, hier.down_w)  # searches towards the facility
    w_graph = (hier.up_ptr, hier.up_idx, hier.up_w)

    def run(chunk: IntArray) -> tuple[FloatArray, ...]:
        counts = np.zeros(n_p)
        within = np.zeros(n_p)
        access = np.zeros(n_p)
        fac_demand = np.full(n_f, np.nan)
        hkern._catchments_batched(
            chunk, TREES_PER_SWEEP, f_rank, fe.in_part, fe.conn, fsupply, fe.edge, fe.t,
            *s_graph, *w_graph, live, p_rank, pe.out_part, pe.conn, demand, pe.edge, pe.t,
            pe.wf, pe.wb, float(max_cost_min), kind, params, step_weight, counts, within,
            access, fac_demand,
        )  # fmt: skip
        return counts, within, access, fac_demand

    chunks = [rows[i::jobs] for i in range(jobs)]
    if jobs == 1:
        results = [run(chunks[0])]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(run, chunks))
    counts = np.sum([r[0] for r in results], axis=0)
    within = np.sum([r[1] for r in results], axis=0)
    access = np.sum([r[2] for r in results], axis=0)
    fac_demand = np.full(n_f, np.nan)
    for r in results:
        fac_demand = np.where(np.isnan(fac_demand), r[3], fac_demand)
    return counts, within, access, fac_demand


def _non_negative(frame: pd.DataFrame, column: str, what: str, purpose: str) -> FloatArray:
    """Return the column as floats; raise SchemaError when a value is missing or negative."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        msg = (
            f"{what}: {bad.sum()} rows have a missing or negative {column!r}; fill them "
            f"(0 for none) before {purpose}"
        )
        raise SchemaError(msg)
    return values


#: Facilities whose reach is sampled to choose the catchment kernel.
REACH_SAMPLE = 8
#: A bounded search costs about this many PHAST edge relaxations per node it reaches.
SEARCH_COST_PER_NODE = 20.0


def _catchment_engine(
    net: CompiledNetwork, fnode: IntArray, limit_s: float, n_parcels: int
) -> Engine:
    """Pick the cheaper exact catchment kernel for node-snapped points.

    A PHAST tree costs a sweep over the whole hierarchy and the parcels,
    whatever the time budget; a bounded Dijkstra costs what it reaches.  The
    reach of a few facilities decides (walking catchments usually reach a
    small share of a city's network, driving ones most of it).
    """
    if not len(fnode):
        return "dijkstra"
    sample = np.unique(fnode)[:: max(1, len(np.unique(fnode)) // REACH_SAMPLE)][:REACH_SAMPLE]
    reach = np.isfinite(dijkstra(_reversed(net, "time_s"), indices=sample, limit=limit_s)).sum(1)
    phast = 2.0 * net.n_edges + 2.0 * n_parcels  # a hierarchy has about twice the edges
    return "dijkstra" if SEARCH_COST_PER_NODE * float(reach.mean()) < phast else "hierarchy"


def floating_catchment(
    net: CompiledNetwork,
    parcels: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    max_cost_min: float,
    demand_column: str = "residents",
    supply_column: str = "capacity",
    decay: Decay = "none",
    sigma_min: float | None = None,
    steps: Mapping[float, float] | None = None,
    connector_speed_mps: float = WALK_SPEED_MPS,
    n_jobs: int = 2,
    engine: Engine = DEFAULT_ENGINE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cumulative opportunities and (enhanced) 2SFCA in one bounded search per facility.

    Parameters
    ----------
    net : CompiledNetwork
        The network (travel time).
    parcels : pandas.DataFrame
        Snapped parcels (:func:`snap_points` columns) with ``demand_column``.
    facilities : pandas.DataFrame
        Snapped facilities with ``supply_column``.
    max_cost_min : float
        Catchment: pairs with cost <= this many minutes count.
    demand_column, supply_column : str
        Demand per parcel (e.g. residents) and supply per facility (capacity).
    decay : {"none", "step", "gaussian"}, default "none"
        ``none`` is the classic 2SFCA; ``step`` and ``gaussian`` the enhanced
        2SFCA weights of the `access` package (``steps`` upper bounds in
        minutes -> weight; ``exp(-c^2 / (2 sigma^2))``).
    sigma_min : float, optional
        Gaussian width in minutes.
    steps : mapping of float to float, optional
        Step weights; default :data:`E2SFCA_STEPS`.
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on connectors.
    n_jobs : int, default 2
        Threads; the numba kernel releases the GIL, so searches run in parallel.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        ``hierarchy``: PHAST sweeps of the contraction hierarchy,
        :data:`TREES_PER_SWEEP` facilities per sweep (node or edge snapping),
        or, for node-snapped points whose catchments reach a small share of
        the network (sampled), the bounded searches, which then cost less;
        ``dijkstra``: one bounded numba Dijkstra per facility (node snapping).

    Returns
    -------
    parcels_out : pandas.DataFrame
        Index of ``parcels``: ``count_within`` (facilities within the
        catchment), ``supply_within`` (their capacity), ``access_ratio``
        (2SFCA: supply per unit demand), NaN for unsnapped parcels.
    facilities_out : pandas.DataFrame
        Index of ``facilities``: ``demand_weighted`` and ``supply_ratio``
        (NaN with ``reason`` for facilities not snapped, without capacity or
        without demand in reach).

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> net = toy_network()
    >>> p = pd.DataFrame({"node": [0, 2], "connector_m": [0.0, 0.0], "snap_reason": [None, None],
    ...                   "residents": [10.0, 30.0]})
    >>> f = pd.DataFrame({"node": [1], "connector_m": [0.0], "capacity": [8.0]})
    >>> po, fo = floating_catchment(net, p, f, max_cost_min=5)
    >>> po["access_ratio"].tolist(), fo["supply_ratio"].tolist()
    ([0.2, 0.2], [0.2])
    """
    kind, params, step_weight = _decay_arrays(decay, sigma_min, steps)
    good_supply = _valid_supply(facilities, supply_column)
    fnode = facilities["node"].to_numpy(dtype=np.int64)
    usable = good_supply & (fnode >= 0)
    fconn = _conn_s(facilities, connector_speed_mps)
    fsupply = pd.to_numeric(facilities[supply_column], errors="coerce").to_numpy(dtype=float)
    pnode = parcels["node"].to_numpy(dtype=np.int64)
    pconn = _conn_s(parcels, connector_speed_mps)
    demand = _non_negative(parcels, demand_column, "parcels", "computing 2SFCA")
    _check_engine(engine, parcels, facilities)
    if engine == "hierarchy" and not (_edge_snapped(parcels) or _edge_snapped(facilities)):
        engine = _catchment_engine(net, fnode[usable], max_cost_min * 60.0, len(parcels))
    if engine == "hierarchy":
        counts, within, access, fac_demand = _catchments_by_hierarchy(
            net, parcels, facilities, demand, fsupply, np.flatnonzero(usable),
            max_cost_min=max_cost_min, decay=(kind, params, step_weight),
            speed=connector_speed_mps, n_jobs=n_jobs,
        )  # fmt: skip
    else:
        counts, within, access, fac_demand = _catchments_by_dijkstra(
            net, pnode, pconn, demand, fnode, fconn, fsupply, np.flatnonzero(usable),
            max_cost_min=max_cost_min, decay=(kind, params, step_weight), n_jobs=n_jobs,
        )  # fmt: skip
    unsnapped = pnode < 0
    parcels_out = pd.DataFrame(
        {
            "count_within": np.where(unsnapped, np.nan, counts),
            "supply_within": np.where(unsnapped, np.nan, within),
            "access_ratio": np.where(unsnapped, np.nan, access),
        },
        index=parcels.index,
    )
    ratio = np.where(fac_demand > 0, fsupply / np.where(fac_demand > 0, fac_demand, 1), np.nan)
    reason = np.full(len(fnode), None, dtype=object)
    reason[(fac_demand == 0)] = "no_demand_in_catchment"
    reason[~good_supply] = "no_capacity"
    reason[fnode < 0] = "not_snapped"
    facilities_out = pd.DataFrame(
        {"demand_weighted": fac_demand, "supply_ratio": ratio, "reason": reason},
        index=facilities.index,
    )
    return parcels_out, facilities_out


def opportunities_within(
    net: CompiledNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_cost_min: float,
    column: str = "jobs",
    connector_speed_mps: float = WALK_SPEED_MPS,
    n_jobs: int = 2,
    engine: Engine = DEFAULT_ENGINE,
) -> pd.Series:
    """Cumulative opportunities: per origin, the sum of ``column`` over destinations within T.

    A destination counts when the travel time from the origin to it
    (origin connector + network + destination connector, as everywhere in
    this module) is at most ``max_cost_min``; exact (every pair is decided
    on its own cost), computed as a catchment of each destination with a
    positive value (one PHAST tree per destination, :data:`TREES_PER_SWEEP`
    per sweep).  Destinations may be parcels (jobs, floor area) or
    facilities (capacity); an origin that is also a destination (same index
    label, same node) always reaches its own value (cost 0).  Per cluster, pass the result
    to :func:`summarise_by_cluster` weighted by residents: the mean is what
    the average resident of the cluster reaches (``access_stage`` does so).

    Parameters
    ----------
    net : CompiledNetwork
        The network (travel time).
    origins : pandas.DataFrame
        Snapped origins (:func:`snap_points`).
    destinations : pandas.DataFrame
        Snapped destinations with ``column``.
    max_cost_min : float
        Time budget T in minutes.
    column : str, default "jobs"
        Value summed (non-negative; NaN is an error: fill 0 for none).
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on connectors.
    n_jobs : int, default 2
        Threads.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine (``dijkstra``: node snapping only).

    Returns
    -------
    pandas.Series
        Index of ``origins``, named ``opp<T>_<column>``; NaN for unsnapped origins.

    Raises
    ------
    SchemaError
        If ``column`` is missing or has missing or negative values.

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> s = pd.DataFrame({"node": [0, 1, 2], "connector_m": [0.0, 0.0, 0.0],
    ...                   "snap_reason": [None] * 3, "jobs": [5.0, 7.0, 11.0]})
    >>> opportunities_within(toy_network(), s, s, max_cost_min=2.0).tolist()
    [12.0, 23.0, 18.0]
    """
    if column not in destinations.columns:
        msg = f"destinations have no column {column!r}; columns are {list(destinations.columns)}"
        raise SchemaError(msg)
    values = _non_negative(destinations, column, "destinations", "counting opportunities")
    _check_engine(engine, origins, destinations)
    dnode = destinations["node"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero((values > 0) & (dnode >= 0))
    onode = origins["node"].to_numpy(dtype=np.int64)
    zero = np.zeros(len(onode))
    decay = (kern.WEIGHT_NONE, np.zeros(1), np.zeros(1))
    if engine == "hierarchy" and not (_edge_snapped(origins) or _edge_snapped(destinations)):
        engine = _catchment_engine(net, dnode[rows], max_cost_min * 60.0, len(onode))
    if engine == "hierarchy":
        _, within, _, _ = _catchments_by_hierarchy(
            net, origins, destinations, zero, values, rows, max_cost_min=max_cost_min,
            decay=decay, speed=connector_speed_mps, n_jobs=n_jobs,
        )  # fmt: skip
    else:
        _, within, _, _ = _catchments_by_dijkstra(
            net, onode, _conn_s(origins, connector_speed_mps), zero, dnode,
            _conn_s(destinations, connector_speed_mps), values, rows,
            max_cost_min=max_cost_min, decay=decay, n_jobs=n_jobs,
        )  # fmt: skip
    # a parcel reaches what it holds (cost 0), even when its connector there and back is long
    pos = destinations.index.get_indexer(origins.index) if destinations.index.is_unique else None
    if pos is not None:
        mine = np.flatnonzero((pos >= 0) & (onode >= 0))
        same = mine[dnode[pos[mine]] == onode[mine]]
        oc = _conn_s(origins, connector_speed_mps)[same]
        dc = _conn_s(destinations, connector_speed_mps)[pos[same]]
        counted = ((0.0 + oc + dc) / 60.0 <= max_cost_min) & (max_cost_min * 60.0 - dc >= 0.0)
        within[same[~counted]] += values[pos[same[~counted]]]
    return pd.Series(
        np.where(onode < 0, np.nan, within), index=origins.index,
        name=f"opp{max_cost_min:g}_{column}",
    )  # fmt: skip


def two_step_fca(
    costs: pd.DataFrame,
    demand: pd.Series,
    supply: pd.Series,
    *,
    max_cost_min: float | None = None,
    decay: Decay = "none",
    sigma_min: float | None = None,
    steps: Mapping[float, float] | None = None,
) -> pd.Series:
    """2SFCA / enhanced 2SFCA from a cost table (the reference, table-based path).

    Parameters
    ----------
    costs : pandas.DataFrame
        Columns ``origin_id``, ``destination_id``, ``cost_min``.
    demand : pandas.Series
        Demand by origin id.
    supply : pandas.Series
        Supply by destination id.
    max_cost_min : float, optional
        Pairs with a larger cost are ignored.
    decay : {"none", "step", "gaussian"}, default "none"
        Weight of a pair by its cost (as in :func:`floating_catchment`).
    sigma_min : float, optional
        Gaussian width (minutes).
    steps : mapping of float to float, optional
        Step weights.

    Returns
    -------
    pandas.Series
        Access ratio by origin id (origins with no pair within reach: 0;
        origins absent from ``costs``: NaN).

    Examples
    --------
    >>> costs = pd.DataFrame({"origin_id": ["a", "b"], "destination_id": ["f", "f"],
    ...                       "cost_min": [3.0, 4.0]})
    >>> two_step_fca(costs, pd.Series({"a": 10.0, "b": 30.0}), pd.Series({"f": 8.0})).tolist()
    [0.2, 0.2]
    """
    kind, params, step_weight = _decay_arrays(decay, sigma_min, steps)
    cost = costs["cost_min"].to_numpy(dtype=float)
    keep = np.isfinite(cost)
    if max_cost_min is not None:
        keep &= cost <= max_cost_min
    table = costs.loc[keep, ["origin_id", "destination_id"]].copy()
    c = cost[keep]
    if kind == kern.WEIGHT_NONE:
        w = np.ones(len(c))
    elif kind == kern.WEIGHT_STEP:
        pos = np.searchsorted(params, c, side="left")
        w = np.where(pos < len(params), step_weight[np.minimum(pos, len(params) - 1)], 0.0)
    else:
        w = np.exp(-c * c / (2 * params[0] ** 2))
    table["w"] = w
    table["wd"] = w * table["origin_id"].map(demand).to_numpy(dtype=float)
    total = table.groupby("destination_id", sort=False)["wd"].sum()
    ratio = supply.reindex(total.index).fillna(0.0) / total
    ratio = ratio.where(total > 0, 0.0)
    table["wr"] = table["w"] * table["destination_id"].map(ratio).to_numpy(dtype=float)
    result = table.groupby("origin_id", sort=False)["wr"].sum()
    origins = pd.Index(costs["origin_id"].unique())
    out: pd.Series = result.reindex(origins).fillna(0.0)
    return out


#: Many-to-many by buckets when origin nodes are fewer than this share of the network's nodes.
BUCKET_SHARE = 1 / 200


def _matrix_by_hierarchy(net: CompiledNetwork, pe: _Ends, de: _Ends) -> FloatArray:
    """Network cost (connectors excluded) from every point of ``pe`` to every point of ``de``."""
    hier = hierarchy_of(net, "time_s")
    o_nodes = np.unique(pe.node[pe.node >= 0])
    d_nodes = np.unique(de.node[de.node >= 0])
    if len(o_nodes) <= max(BUCKET_SHARE * net.n_nodes, 1):
        between = hier.many_to_many(o_nodes, d_nodes)
    else:
        between = hier.one_to_all(d_nodes, reverse=True)[:, o_nodes].T
    oi = np.searchsorted(o_nodes, pe.node)
    dj = np.searchsorted(d_nodes, de.node)
    out = np.full((len(pe.conn), len(de.conn)), np.inf)
    for a in range(2):
        for b in range(2):
            ok_o = pe.node[:, a] >= 0
            ok_d = de.node[:, b] >= 0
            if not (ok_o.any() and ok_d.any()):
                continue
            part = np.full(out.shape, np.inf)
            sub = between[np.ix_(oi[ok_o, a], dj[ok_d, b])]
            part[np.ix_(ok_o, ok_d)] = (
                sub + pe.out_part[ok_o, a][:, None] + de.in_part[ok_d, b][None, :]
            )
            np.minimum(out, part, out=out)
    if (pe.edge >= 0).any() and (de.edge >= 0).any():
        i, j = np.nonzero((pe.edge[:, None] == de.edge[None, :]) & (pe.edge[:, None] >= 0))
        np.minimum.at(out, (i, j), pe.direct(i, de, j))
    return out


# --------------------------------------------------------------------------- tables


def cost_table(
    net: CompiledNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_cost_min: float | None = None,
    connector_speed_mps: float = WALK_SPEED_MPS,
    engine: Engine = DEFAULT_ENGINE,
) -> pd.DataFrame:
    """Long table of travel times (minutes) from snapped origins to snapped destinations.

    With the hierarchy engine: bucket many-to-many searches when there are
    few origin nodes, else one PHAST sweep per destination node; with
    ``engine="dijkstra"``: one scipy Dijkstra per destination on the reversed
    graph.  The table is dense (origins x destinations rows).

    Parameters
    ----------
    net : CompiledNetwork
        The network.
    origins, destinations : pandas.DataFrame
        Output of :func:`snap_points`; their index values become the ids.
    max_cost_min : float, optional
        Drop pairs costing more (and unreachable pairs).
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on connectors.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine (``dijkstra``: node snapping only).

    Returns
    -------
    pandas.DataFrame
        ``origin_id``, ``destination_id``, ``cost_min``; an unsnapped end or
        an unreachable pair gives NaN (kept unless ``max_cost_min`` is given).

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> s = pd.DataFrame({"node": [0, 2], "connector_m": [0.0, 0.0], "snap_reason": [None, None]},
    ...                  index=["a", "b"])
    >>> cost_table(toy_network(), s, s)["cost_min"].round(3).tolist()
    [0.0, 3.333, 3.333, 0.0]
    """
    _check_engine(engine, origins, destinations)
    onode = origins["node"].to_numpy(dtype=np.int64)
    oconn = _conn_s(origins, connector_speed_mps)
    dnode = destinations["node"].to_numpy(dtype=np.int64)
    dconn = _conn_s(destinations, connector_speed_mps)
    cost = np.full((len(onode), len(dnode)), np.nan)
    ok_d = np.flatnonzero(dnode >= 0)
    ok_o = onode >= 0
    if engine == "hierarchy" and len(ok_d) and ok_o.any():
        pe = _ends(net, origins, "time_s", connector_speed_mps)
        de = _ends(net, destinations, "time_s", connector_speed_mps)
        network = _matrix_by_hierarchy(net, pe, de)
        block = (network + oconn[:, None] + dconn[None, :]) / 60.0
        block[~np.isfinite(block)] = np.nan
        block[~ok_o] = np.nan
        block[:, dnode < 0] = np.nan
        cost = block
    elif len(ok_d) and ok_o.any():
        reverse = _reversed(net, "time_s")
        limit = np.inf if max_cost_min is None else max_cost_min * 60.0
        dist = dijkstra(reverse, indices=dnode[ok_d], limit=limit)
        block = (dist[:, onode[ok_o]] + oconn[ok_o][None, :] + dconn[ok_d][:, None]) / 60.0
        block[~np.isfinite(block)] = np.nan
        sub = cost[ok_o]
        sub[:, ok_d] = block.T
        cost[ok_o] = sub
    table = pd.DataFrame(
        {
            "origin_id": np.repeat(origins.index.to_numpy(), len(dnode)),
            "destination_id": np.tile(destinations.index.to_numpy(), len(onode)),
            "cost_min": cost.ravel(),
        }
    )
    if max_cost_min is not None:
        table = table[table["cost_min"] <= max_cost_min].reset_index(drop=True)
    return table


def linkage_table(
    net: CompiledNetwork,
    clusters: gpd.GeoDataFrame,
    anchors: gpd.GeoDataFrame,
    *,
    anchor_ids: Sequence[str] = (),
    anchor_id_column: str = "anchor_id",
    include_bridges: bool | Sequence[str] = True,
    barriers: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    max_snap_m: float = 2000.0,
    connector_speed_mps: float = WALK_SPEED_MPS,
    engine: Engine = DEFAULT_ENGINE,
) -> pd.DataFrame:
    """Travel time (minutes) between cluster cores, and to anchors and river crossings.

    Parameters
    ----------
    net : CompiledNetwork
        The network.
    clusters : geopandas.GeoDataFrame
        Cluster polygons indexed by cluster id; the core is a point on the
        polygon's surface.
    anchors : geopandas.GeoDataFrame
        Named points with ``anchor_id_column``.
    anchor_ids : sequence of str, default ()
        Anchors to include (e.g. the district centre and the railway station:
        a district profile's ``[linkage] anchors``).
    anchor_id_column : str, default "anchor_id"
        Identifier column of ``anchors``.
    include_bridges : bool or sequence of str, default True
        Add one column per bridge of the network (``bridge:<name>``), the time
        to the bridge's first node; or only for the bridges of these names.
    barriers : GeoSeries or GeoDataFrame, optional
        Passed to :func:`snap_points`.
    max_snap_m : float, default 2000.0
        Cores and anchors may lie farther from roads than parcels.
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on connectors.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine (see :func:`cost_table`).

    Returns
    -------
    pandas.DataFrame
        Rows: cluster ids; columns: cluster ids, anchors, bridges.

    Raises
    ------
    SchemaError
        If an anchor id is missing (the message lists the valid ones).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> from tqspatial.network import toy_network
    >>> cl = gpd.GeoDataFrame(geometry=[box(-10, -10, 10, 10), box(190, -10, 210, 10)],
    ...                       index=["a", "b"], crs="EPSG:4548")
    >>> an = gpd.GeoDataFrame({"anchor_id": ["c"]}, geometry=[Point(100, 0)], crs="EPSG:4548")
    >>> linkage_table(toy_network(), cl, an, anchor_ids=["c"]).round(2).values.tolist()
    [[0.0, 3.33, 1.67], [3.33, 0.0, 1.67]]
    """
    missing = [a for a in anchor_ids if a not in set(anchors[anchor_id_column])]
    if missing:
        msg = (
            f"linkage anchors {missing} not found in column {anchor_id_column!r}; "
            f"valid ids are {sorted(anchors[anchor_id_column])}; fix [linkage] anchors in the "
            "district profile or the anchors layer"
        )
        raise SchemaError(msg)
    cores = snap_points(clusters.geometry, net, barriers=barriers, max_snap_m=max_snap_m)
    chosen = anchors.set_index(anchor_id_column).loc[list(anchor_ids)]
    dest = pd.concat(
        [cores, snap_points(chosen.geometry, net, barriers=barriers, max_snap_m=max_snap_m)]
    )
    if include_bridges is not False and len(net.bridge_name):
        names, first = np.unique(net.bridge_name, return_index=True)
        if include_bridges is not True:
            wanted = set(include_bridges)
            unknown = sorted(wanted - set(names.tolist()))
            if unknown:
                msg = (
                    f"linkage bridges {unknown} are not bridges of the {net.mode} network "
                    f"(its bridges: {names.tolist()[:10]}); fix [linkage] bridges in the profile"
                )
                raise SchemaError(msg)
            keep = np.isin(names, list(wanted))
            names, first = names[keep], first[keep]
        bridges = pd.DataFrame(
            {
                "node": net.bridge_node[first],
                "connector_m": 0.0,
                "snap_reason": pd.Series([None] * len(names), dtype=object),
            },
            index=[f"bridge:{n}" for n in names],
        )
        dest = pd.concat([dest, bridges])
    table = cost_table(net, cores, dest, connector_speed_mps=connector_speed_mps, engine=engine)
    wide = pd.DataFrame(
        table["cost_min"].to_numpy().reshape(len(cores), len(dest)),
        index=cores.index,
        columns=dest.index,
    )
    for cid in cores.index:  # a core to itself is no trip (not twice its connector)
        wide.loc[cid, cid] = 0.0
    return wide


# --------------------------------------------------------------------------- life circles


def life_circle_coverage(
    net: CompiledNetwork,
    parcels: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    requirements: Mapping[str, Sequence[tuple[str, str, float | None]]] | None = None,
    distances_m: Mapping[str, float] | None = None,
    kind_column: str = "kind",
    capacity_column: str = "capacity",
    engine: Engine = DEFAULT_ENGINE,
) -> pd.DataFrame:
    """Compute walking distance to each required facility and GB 50180-2018 life-circle coverage.

    Parameters
    ----------
    net : CompiledNetwork
        A walk network (distances use ``length_m``).
    parcels : pandas.DataFrame
        Snapped parcels (:func:`snap_points`).
    facilities : pandas.DataFrame
        Snapped facilities with ``kind_column`` and ``capacity_column``.
    requirements : mapping, optional
        Level -> [(label, kind, minimum capacity)]; default
        :data:`tqspatial.lifecircle.LIFE_CIRCLE_REQUIREMENTS`.
    distances_m : mapping of str to float, optional
        Level -> walking distance; default
        :data:`tqspatial.lifecircle.LIFE_CIRCLE_DISTANCE_M` (GB 50180-2018 表3.0.4).
    kind_column, capacity_column : str
        Facility columns.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine (see :func:`nearest_facility`).

    Returns
    -------
    pandas.DataFrame
        Index of ``parcels``: ``lc_<label>_m`` (network + connector metres to
        the nearest qualifying facility, NaN when none or not snapped),
        ``lc_<label>_within`` (1/0: within the level's distance) and
        ``lc_<level>_covered`` (float 1/0; NaN for unsnapped parcels), where a
        parcel is covered when every requirement of the level is within the
        level's distance.

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> p = pd.DataFrame({"node": [0, 2], "connector_m": [0.0, 50.0], "snap_reason": [None, None]})
    >>> f = pd.DataFrame({"node": [1], "connector_m": [0.0], "kind": ["kindergarten"],
    ...                   "capacity": [100.0]})
    >>> req = {"5min": [("kindergarten", "kindergarten", None)]}
    >>> life_circle_coverage(toy_network(), p, f, requirements=req)["lc_5min_covered"].tolist()
    [1.0, 1.0]
    """
    reqs = requirements if requirements is not None else LIFE_CIRCLE_REQUIREMENTS
    limits = {**LIFE_CIRCLE_DISTANCE_M, **dict(distances_m or {})}
    snapped = parcels["node"].to_numpy() >= 0
    out = pd.DataFrame(index=parcels.index)
    capacity = pd.to_numeric(facilities[capacity_column], errors="coerce")
    labelled = []
    for level_reqs in reqs.values():
        for label, kind, min_cap in level_reqs:
            mask = facilities[kind_column] == kind
            if min_cap is not None:
                mask &= capacity >= min_cap
            chosen = facilities[mask].assign(_label=label, _fid=np.arange(mask.sum()))
            labelled.append(chosen)
    table = pd.concat(labelled) if labelled else facilities.iloc[0:0]
    near = nearest_facility(
        net, parcels, table, kind_column="_label", id_column="_fid", weight="length_m",
        engine=engine,
    )  # fmt: skip
    for level, level_reqs in reqs.items():
        if level not in limits:
            msg = f"life-circle level {level!r} has no distance; known levels: {sorted(limits)}"
            raise ValueError(msg)
        covered = np.ones(len(parcels), dtype=bool)
        for label, _, _ in level_reqs:
            column = f"{label}_m"
            dist = near[column].to_numpy() if column in near else np.full(len(parcels), np.nan)
            within = np.nan_to_num(dist, nan=np.inf) <= limits[level]
            out[f"lc_{label}_m"] = dist
            out[f"lc_{label}_within"] = np.where(snapped, within.astype(float), np.nan)
            covered &= within
        out[f"lc_{level}_covered"] = np.where(snapped, covered.astype(float), np.nan)
    return out


# --------------------------------------------------------------------------- summaries


def summarise_by_cluster(
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    cluster: pd.Series,
    weight: pd.Series | None = None,
) -> pd.DataFrame:
    """Weighted mean, median and 85th percentile of per-parcel measures by cluster.

    Percentiles use the inverted-CDF definition with weights (the smallest
    value whose cumulative weight reaches the share); NaN values (unsnapped or
    unreachable parcels) are left out and counted.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-parcel measures.
    columns : sequence of str
        Measures to summarise.
    cluster : pandas.Series
        Cluster id per parcel (same index as ``table``).
    weight : pandas.Series, optional
        Residents or area per parcel; unweighted when None.

    Returns
    -------
    pandas.DataFrame
        One row per (cluster_id, measure): ``mean``, ``median``, ``p85``,
        ``n``, ``n_missing``, ``weight``.

    Examples
    --------
    >>> t = pd.DataFrame({"m": [1.0, 2.0, 3.0, np.nan]})
    >>> s = summarise_by_cluster(t, ["m"], cluster=pd.Series(["a", "a", "a", "a"]),
    ...                          weight=pd.Series([1.0, 1.0, 2.0, 5.0]))
    >>> s[["mean", "median", "p85", "n_missing"]].values.tolist()
    [[2.25, 2.0, 3.0, 1.0]]
    """
    w_all = np.ones(len(table)) if weight is None else weight.to_numpy(dtype=float)
    rows = []
    for cid, idx in pd.Series(np.arange(len(table))).groupby(cluster.to_numpy(), sort=True):
        pos = idx.to_numpy()
        for column in columns:
            values = table[column].to_numpy(dtype=float)[pos]
            w = w_all[pos]
            ok = np.isfinite(values) & (w > 0)
            record: dict[str, Any] = {
                "cluster_id": cid,
                "measure": column,
                "n": int(ok.sum()),
                "n_missing": int((~np.isfinite(values)).sum()),
                "weight": float(w[ok].sum()),
            }
            if ok.any():
                record["mean"] = float(np.average(values[ok], weights=w[ok]))
                quant = np.quantile(values[ok], [0.5, 0.85], weights=w[ok], method="inverted_cdf")
                record["median"], record["p85"] = float(quant[0]), float(quant[1])
            else:
                record["mean"] = record["median"] = record["p85"] = math.nan
            rows.append(record)
    columns_out = ["cluster_id", "measure", "mean", "median", "p85", "n", "n_missing", "weight"]
    return pd.DataFrame(rows, columns=columns_out)


# --------------------------------------------------------------------------- pipeline


def parcel_access_table(
    walk: CompiledNetwork,
    drive: CompiledNetwork,
    parcels: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    barriers: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    catchment_min: float = 15.0,
    decay: Decay = "none",
    sigma_min: float | None = None,
    demand_column: str = "residents",
    id_column: str = "parcel_id",
    snap: SnapTo = "node",
    engine: Engine = DEFAULT_ENGINE,
    opportunities: Sequence[str] = (),
) -> pd.DataFrame:
    """Every per-parcel accessibility measure in one table (what the refresh job writes).

    Parameters
    ----------
    walk, drive : CompiledNetwork
        The walk and drive networks of the same area.
    parcels : geopandas.GeoDataFrame
        Parcels with ``id_column`` and ``demand_column`` (e.g. after
        :func:`tqspatial.assign.assign_parcels`); every row is kept.
    facilities : geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``capacity`` and point geometry.
    barriers : GeoSeries or GeoDataFrame, optional
        Connectors may not cross these (the Yellow River channel).
    max_snap_m : float, default DEFAULT_MAX_SNAP_M
        Longest connector.
    catchment_min : float, default 15.0
        Walking catchment for counts and 2SFCA (minutes).
    decay : {"none", "step", "gaussian"}, default "none"
        2SFCA weighting (see :func:`floating_catchment`).
    sigma_min : float, optional
        Gaussian width (minutes) when ``decay="gaussian"``.
    demand_column, id_column : str
        Parcel demand and identifier columns.
    snap : {"node", "edge"}, default "node"
        Attach parcels and facilities to the nearest node or edge (see
        :func:`snap_points`).
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine (``dijkstra``: node snapping only).
    opportunities : sequence of str, default ()
        Parcel columns (e.g. ``"jobs"``) to sum over the parcels reachable on
        foot within ``catchment_min`` (:func:`opportunities_within`): one
        column ``opp<T>_<column>`` each.

    Returns
    -------
    pandas.DataFrame
        Index of ``parcels``: ``parcel_id``, ``snap_reason`` and
        ``connector_m`` (walk snapping), ``walk_<kind>_min`` and
        ``drive_<kind>_min`` (nearest facility), ``count<T>_<kind>`` (facilities
        within the walking catchment), ``access_<kind>`` (2SFCA supply per
        unit of demand, walking catchment), ``opp<T>_<column>`` (when asked),
        ``lc_*`` (life circles).  Unsnapped parcels have NaN measures and a
        ``snap_reason``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> from tqspatial.network import toy_network
    >>> p = gpd.GeoDataFrame({"parcel_id": ["a"], "residents": [10.0]},
    ...                      geometry=[Point(0, 20)], crs="EPSG:4548")
    >>> f = gpd.GeoDataFrame({"facility_id": ["k"], "kind": ["clinic"], "capacity": [5.0]},
    ...                      geometry=[Point(200, 0)], crs="EPSG:4548")
    >>> t = parcel_access_table(toy_network(), toy_network("drive"), p, f)
    >>> t[["walk_clinic_min", "count15_clinic", "access_clinic"]].round(2).values.tolist()
    [[3.67, 1.0, 0.5]]
    """
    fac_cols = ["facility_id", "kind", "capacity"]
    out = pd.DataFrame({id_column: parcels[id_column]}, index=parcels.index)
    walk_p = snap_points(parcels, walk, barriers=barriers, max_snap_m=max_snap_m, to=snap)
    walk_f = snap_points(facilities, walk, barriers=barriers, max_snap_m=max_snap_m, to=snap).join(
        facilities[fac_cols]
    )
    out["snap_reason"] = walk_p["snap_reason"]
    out["connector_m"] = walk_p["connector_m"]
    near = nearest_facility(walk, walk_p, walk_f, engine=engine)
    for kind in sorted(facilities["kind"].unique()):
        if f"{kind}_min" in near:
            out[f"walk_{kind}_min"] = near[f"{kind}_min"]
    drive_p = snap_points(parcels, drive, barriers=barriers, max_snap_m=max_snap_m, to=snap)
    drive_f = snap_points(
        facilities, drive, barriers=barriers, max_snap_m=max_snap_m, to=snap
    ).join(facilities[fac_cols])
    near = nearest_facility(drive, drive_p, drive_f, engine=engine)
    for kind in sorted(facilities["kind"].unique()):
        if f"{kind}_min" in near:
            out[f"drive_{kind}_min"] = near[f"{kind}_min"]
    demand = walk_p.assign(**{demand_column: parcels[demand_column].fillna(0.0)})
    label = f"{catchment_min:g}"
    for kind_value, group in walk_f.groupby("kind", sort=True):
        kind = str(kind_value)
        po, _ = floating_catchment(
            walk, demand, group, max_cost_min=catchment_min, demand_column=demand_column,
            decay=decay, sigma_min=sigma_min, engine=engine,
        )  # fmt: skip
        out[f"count{label}_{kind}"] = po["count_within"]
        out[f"access_{kind}"] = po["access_ratio"]
    for column in opportunities:
        out[f"opp{label}_{column}"] = opportunities_within(
            walk, walk_p, walk_p.assign(**{column: parcels[column]}), max_cost_min=catchment_min,
            column=column, engine=engine,
        )  # fmt: skip
    coverage = life_circle_coverage(walk, walk_p, walk_f, engine=engine)
    return pd.concat([out, coverage], axis=1)


# --------------------------------------------------------------------------- isochrones


#: Walking access distance (m): how far off the reached streets an isochrone extends (a
#: building within this distance of a reached street counts as reached).
ISOCHRONE_ACCESS_M = 50.0


def _reached_segments(net: CompiledNetwork, remaining_s: FloatArray) -> npt.NDArray[np.float64]:
    """Segments of every directed edge walked from its start with the time left there.

    An edge ``u -> v`` of time ``t`` is covered from ``u`` over the share ``min(1, r_u / t)``
    of its straight line, where ``r_u`` is the time left at ``u``; the reverse edge covers
    the other end, so an edge reached from both ends but not through is left open in the
    middle.  Returns an ``(n, 2, 2)`` array of segment end points.
    """
    matrix = net.matrix("time_s")
    src = np.repeat(np.arange(net.n_nodes), np.diff(matrix.indptr))
    dst = matrix.indices
    time_s = np.asarray(matrix.data, dtype=float)
    left = remaining_s[src]
    use = np.isfinite(left) & (left >= 0)
    share = np.ones(int(use.sum()))
    positive = time_s[use] > 0
    share[positive] = np.minimum(1.0, left[use][positive] / time_s[use][positive])
    x0, y0 = net.x[src[use]], net.y[src[use]]
    x1 = x0 + share * (net.x[dst[use]] - x0)
    y1 = y0 + share * (net.y[dst[use]] - y0)
    return np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)


def _without_holes(geom: Any) -> Any:  # noqa: ANN401 - shapely geometry
    """Return the polygon(s) with every interior ring filled."""
    parts = shapely.get_parts(geom)
    if not len(parts):
        return geom
    shells = shapely.polygons(shapely.get_exterior_ring(parts))
    return shapely.union_all(shells)


def isochrones(
    net: CompiledNetwork,
    origins: pd.DataFrame,
    minutes: Sequence[float],
    *,
    buffer_m: float = ISOCHRONE_ACCESS_M,
    connector_speed_mps: float = WALK_SPEED_MPS,
) -> gpd.GeoDataFrame:
    """Isochrone polygons: the network walked within the time, buffered, holes filled.

    For each origin and time budget, every edge is walked from each reached end node with
    the time left there (an edge partly walked counts for the part walked; edges are
    straight between their nodes); the walked segments, the walked part of the origin's
    connector (when ``origins`` has point geometry) and the reached origin node are
    buffered by ``buffer_m``, the walking access distance off the street, and dissolved.
    Holes, which are blocks ringed by reached streets, are filled.  Each isochrone holds the
    shorter ones of its origin (the union is taken), so isochrones nest.

    Parameters
    ----------
    net : CompiledNetwork
        The network.
    origins : pandas.DataFrame
        Snapped origins (index = origin id, :func:`snap_points`); with a point ``geometry``
        column the connector from the point to its node is drawn too.
    minutes : sequence of float
        Time budgets.
    buffer_m : float, default ISOCHRONE_ACCESS_M
        Walking access distance: half-width of the polygon around reached streets.
    connector_speed_mps : float, default WALK_SPEED_MPS
        Speed on the origin's connector.

    Returns
    -------
    geopandas.GeoDataFrame
        ``origin_id``, ``minutes``, ``area_m2`` and polygon geometry (empty for
        unsnapped origins).

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> o = pd.DataFrame({"node": [0], "connector_m": [0.0], "snap_reason": [None]}, index=["a"])
    >>> iso = isochrones(toy_network(), o, [2.0, 4.0], buffer_m=10)
    >>> iso["area_m2"].round(-1).tolist()
    [2710.0, 4310.0]
    """
    matrix = net.matrix("time_s")
    records = []
    nodes = origins["node"].to_numpy(dtype=np.int64)
    conn = _conn_s(origins, connector_speed_mps)
    ok = nodes >= 0
    dist = np.full((len(nodes), net.n_nodes), np.inf)
    if ok.any():
        dist[ok] = dijkstra(matrix, indices=nodes[ok], limit=max(minutes) * 60.0)
    points = origins["geometry"] if "geometry" in origins.columns else None
    for row, origin_id in enumerate(origins.index):
        previous: Any = shapely.Polygon()
        for budget in sorted(float(m) for m in minutes):
            budget_s = budget * 60.0
            pieces: list[Any] = []
            if ok[row]:
                node_xy = (net.x[nodes[row]], net.y[nodes[row]])
                origin = points.iloc[row] if points is not None else None
                if origin is not None and not shapely.is_empty(origin):
                    share = 1.0 if conn[row] <= 0 else min(1.0, budget_s / conn[row])
                    ox, oy = origin.x, origin.y
                    end = (ox + share * (node_xy[0] - ox), oy + share * (node_xy[1] - oy))
                    pieces.append(shapely.linestrings([(ox, oy), end]))
                if conn[row] <= budget_s:
                    pieces.append(shapely.points(*node_xy))
                    segs = _reached_segments(net, budget_s - conn[row] - dist[row])
                    lines = cast("npt.NDArray[np.object_]", shapely.linestrings(segs))
                    pieces += list(lines)
            geom = (
                _without_holes(shapely.union_all(shapely.buffer(np.asarray(pieces), buffer_m)))
                if pieces
                else shapely.Polygon()
            )
            geom = shapely.union(geom, previous) if not previous.is_empty else geom
            previous = geom
            records.append({"origin_id": origin_id, "minutes": budget, "geometry": geom})
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=net.crs)
    frame.insert(2, "area_m2", frame.geometry.area)
    return frame
