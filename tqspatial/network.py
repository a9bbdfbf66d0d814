"""Road networks as compact arrays: OSM roads -> CSR, with a checksum-keyed cache.

A :class:`CompiledNetwork` holds what shortest-path searches need and nothing
else: node ids and coordinates, and a CSR adjacency (``indptr``/``indices``)
with two weights per directed edge, length in metres and travel time in
seconds.  Parallel edges keep the smallest weight; self-loops are dropped;
only the largest strongly connected component is kept (what was dropped is
logged and recorded in ``meta``).

**Which ways are roads.** OSM XML (``.osm``/``.xml``, also ``.bz2``/``.gz``
compressed) and PBF files are read once for both modes (pyosmium for PBF,
no XML round trip), and every way is sorted with osmnx's ``walk``/``drive``
network-type filters (:data:`ROAD_FILTERS`): ways without ``highway``
(buildings, power lines, landuse outlines, barriers, railways) and ways the
mode may not use (``area=yes``, ``access=private``, ``highway=footway`` for
cars, ``highway=motorway`` for walkers, ``foot=no``, ``motor_vehicle=no``,
``service=parking_aisle`` ...) never become edges.  The counts of dropped ways
by reason are logged and kept in ``meta["dropped_ways"]``.  A GraphML file
(an osmnx graph) is filtered edge by edge on the tags it carries.  Ways are
split at every node, segment lengths are great-circle metres (as osmnx
computes them), and chains of nodes that only continue a road are contracted
with osmnx's simplification rule (summing lengths and times), so costs equal
those on osmnx's own graph of the same roads.

**Travel speeds.** Drive mode: a ``maxspeed`` tag is honoured when it parses (``"50"``,
``"30 mph"``, lists take the lowest); otherwise the highway class gets the
default of :data:`DRIVE_SPEED_KMH`.  Urban classes are set against the design
speeds of the Chinese urban road code CJJ 37-2012 城市道路工程设计规范
(快速路 60-100 km/h, 主干路 40-60, 次干路 30-50, 支路 20-40; the ranges agree
across secondary sources, the table number, 表3.1.2, is *unconfirmed*):
primary (主干路), secondary (次干路) and tertiary/unclassified (支路) take the
**midpoint** of their range; trunk (urban 快速路 or arterial 国道) takes the
快速路 **lower bound**, 60; residential (街坊路) takes the 支路 lower bound, 20.
OSM ``motorway`` is 高速公路 in China, a highway (公路) class outside
CJJ 37-2012: its 80 km/h is the lowest 高速公路 design speed of JTG B01-2014
公路工程技术标准 (120/100/80 km/h; *unconfirmed* here, as is the table number).
Link, ``service`` and ``living_street`` speeds are our assumptions
(*unconfirmed*).  Design speeds are upper bounds, not peak travel speeds;
pass ``speeds_kmh`` to override any class.

Walk mode: every edge is walkable in both directions at
:data:`WALK_SPEED_MPS` (1.0 m/s, 3.6 km/h).  Source: GB 50180-2018 表3.0.4
pairs its 5/10/15-minute life circles with 300/500/800-1,000 m walking
distances, i.e. 1.0, 0.83 and 0.89-1.11 m/s including waits at crossings
(:func:`tqspatial.lifecircle.implied_walk_speeds`); 1.0 m/s is the 5-minute
level exactly and the middle of the 15-minute range, so a parcel 300 m from
a kindergarten is also 5 walking minutes from it.  (The 1.2 m/s used before
is a free-walking speed on level pavement without crossings and had no
source.)  Life-circle coverage is measured in metres of network distance,
the standard's own terms; pass ``walk_speed_mps`` for another speed.

**Cache.** :func:`load_network` writes ``<source name>-<path digest>.tqnet-<mode>.npz``
into a per-user cache folder (:func:`default_cache_dir`: ``$TQSPATIAL_CACHE_DIR``
or ``platformdirs.user_cache_dir("tqspatial")/networks``; ``cache_dir=``
overrides both), never beside the source.  The cache is keyed by the SHA-256
of the source file and the compile parameters; a second load reads only the
``.npz`` (no parsing), and a changed source or changed parameters recompile.
A partially written cache file is removed whatever stops the write
(including ``KeyboardInterrupt``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import platformdirs
import pyproj
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tqspatial._osm import ROAD_FILTERS, OsmWays, drop_reason, read_pbf, read_xml
from tqspatial.errors import DataFileError, DataQualityWarning, SchemaError
from tqspatial.quality import note
from tqspatial.settings import WORKING_CRS, get_settings

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DRIVE_SPEED_KMH",
    "ROAD_FILTERS",
    "WALK_SPEED_MPS",
    "CompiledNetwork",
    "check_zone",
    "compile_graph",
    "compile_ways",
    "default_cache_dir",
    "drop_reason",
    "load_network",
    "load_networks",
    "read_ways",
    "road_filter_counts",
]

logger = logging.getLogger(__name__)

Mode = Literal["drive", "walk"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default driving speed (km/h) per OSM highway class (see the module docstring for sources).
#: CJJ 37-2012 design-speed ranges (table 表3.1.2, number unconfirmed); JTG B01-2014 for 高速公路.
DRIVE_SPEED_KMH: dict[str, float] = {
    "motorway": 80.0,  # 高速公路: lowest JTG B01-2014 design speed (120/100/80), unconfirmed
    "trunk": 60.0,  # 快速路 (CJJ 37-2012: 60-100): lower bound
    "primary": 50.0,  # 主干路 (CJJ 37-2012: 40-60): midpoint
    "secondary": 40.0,  # 次干路 (CJJ 37-2012: 30-50): midpoint
    "tertiary": 30.0,  # 支路 (CJJ 37-2012: 20-40): midpoint
    "unclassified": 30.0,  # 支路 (CJJ 37-2012: 20-40): midpoint
    "residential": 20.0,  # 街坊路: 支路 lower bound
    "living_street": 10.0,  # assumption, unconfirmed
    "service": 15.0,  # assumption, unconfirmed
    "motorway_link": 40.0,  # assumption, unconfirmed
    "trunk_link": 40.0,  # assumption, unconfirmed
    "primary_link": 30.0,  # assumption, unconfirmed
    "secondary_link": 30.0,  # assumption, unconfirmed
    "tertiary_link": 20.0,  # assumption, unconfirmed
}
#: Speed for a highway class missing from the table (km/h): the 支路 lower bound.
FALLBACK_SPEED_KMH = 20.0

#: Walking speed (m/s) used for walk-mode edges and for parcel/facility connectors.
WALK_SPEED_MPS = 1.0

#: Bump when the cache layout or the compile logic changes (invalidates old caches).
CACHE_VERSION = 2
MPH_TO_KMH = 1.609344
#: File name endings read as OSM XML (compressed or not), GraphML and PBF.
XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")
NETWORK_SUFFIXES = (*XML_SUFFIXES, ".graphml", ".osm.pbf", ".pbf")
#: Environment variable naming the folder of compiled-network caches.
CACHE_DIR_ENV = "TQSPATIAL_CACHE_DIR"
#: osmnx's one-way tag values, and those meaning "against the node order" (osmnx ``_add_paths``).
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """A directed road network as CSR arrays (the largest strongly connected component).

    Attributes
    ----------
    mode : str
        ``"drive"`` or ``"walk"``.
    crs : str
        CRS of ``x``/``y`` (metres).
    node_id : numpy.ndarray
        OSM node id per node (int64).
    x, y : numpy.ndarray
        Node coordinates in ``crs``.
    indptr, indices : numpy.ndarray
        CSR adjacency: the out-edges of node ``i`` go to
        ``indices[indptr[i]:indptr[i + 1]]``.
    length_m, time_s : numpy.ndarray
        Edge length (metres) and travel time (seconds), one per CSR entry.
    bridge_name : numpy.ndarray
        Name of each bridge edge (``bridge`` tag set), as str.
    bridge_node : numpy.ndarray
        One node (index) per bridge edge: the edge's start node.
    meta : dict
        Source, checksum, compile parameters, and dropped nodes/edges.
    """

    mode: str
    crs: str
    node_id: IntArray
    x: FloatArray
    y: FloatArray
    indptr: IntArray
    indices: IntArray
    length_m: FloatArray
    time_s: FloatArray
    bridge_name: npt.NDArray[np.str_]
    bridge_node: IntArray
    meta: dict[str, Any]

    @property
    def n_nodes(self) -> int:
        """Number of nodes.

        Returns
        -------
        int
            Node count.
        """
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (parallel edges merged).

        Returns
        -------
        int
            Edge count.
        """
        return len(self.indices)

    def matrix(self, weight: Literal["time_s", "length_m"] = "time_s") -> sp.csr_matrix:
        """Return the adjacency as a SciPy CSR matrix (explicit zeros are edges).

        Parameters
        ----------
        weight : {"time_s", "length_m"}, default "time_s"
            Edge weight.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``n_nodes`` x ``n_nodes``; entry (i, j) is the weight of edge i -> j.

        Examples
        --------
        >>> net = toy_network()
        >>> net.matrix("length_m").shape
        (3, 3)
        """
        data = self.length_m if weight == "length_m" else self.time_s
        if weight not in {"time_s", "length_m"}:
            msg = f"weight must be 'time_s' or 'length_m', got {weight!r}"
            raise ValueError(msg)
        return sp.csr_matrix(
            (data, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes), copy=False
        )

    def bounds(self) -> tuple[float, float, float, float]:
        """Return (minx, miny, maxx, maxy) of the nodes.

        Returns
        -------
        tuple of float
            Bounding box in ``crs``.

        Examples
        --------
        >>> toy_network().bounds()
        (0.0, 0.0, 200.0, 0.0)
        """
        return (
            float(self.x.min()),
            float(self.y.min()),
            float(self.x.max()),
            float(self.y.max()),
        )


def toy_network(mode: Mode = "walk") -> CompiledNetwork:
    """Return a three-node line network 0 - 1 - 2 (100 m edges) for examples and tests.

    Parameters
    ----------
    mode : {"drive", "walk"}, default "walk"
        Recorded mode; both directions exist either way.

    Returns
    -------
    CompiledNetwork
        Nodes at x = 0, 100, 200 (y = 0), edges both ways, at :data:`WALK_SPEED_MPS`.

    Examples
    --------
    >>> toy_network().n_edges
    4
    """
    u = np.array([0, 1, 1, 2])
    v = np.array([1, 0, 2, 1])
    length = np.full(4, 100.0)
    return _from_edges(
        node_id=np.array([10, 11, 12]),
        x=np.array([0.0, 100.0, 200.0]),
        y=np.zeros(3),
        u=u,
        v=v,
        length_m=length,
        time_s=length / WALK_SPEED_MPS,
        mode=mode,
        crs=WORKING_CRS,
        bridge_name=np.array([], dtype=str),
        bridge_u=np.array([], dtype=np.int64),
        meta={},
    )


# --------------------------------------------------------------------------- speeds


def parse_maxspeed(value: object) -> float:
    """Parse an OSM ``maxspeed`` value to km/h (NaN when absent or unparsable).

    Parameters
    ----------
    value : object
        ``"50"``, ``"30 mph"``, ``"CN:urban"``, a list of those, or None.

    Returns
    -------
    float
        Speed in km/h; the lowest of a list; NaN when nothing parses.

    Examples
    --------
    >>> parse_maxspeed("50"), parse_maxspeed(["60", "40"]), round(parse_maxspeed("30 mph"), 1)
    (50.0, 40.0, 48.3)
    >>> math.isnan(parse_maxspeed("none"))
    True
    """
    if isinstance(value, list | tuple):
        parsed = [parse_maxspeed(v) for v in value]
        good = [p for p in parsed if not math.isnan(p)]
        return min(good) if good else math.nan
    if value is None:
        return math.nan
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", str(value))
    if match is None:
        return math.nan
    speed = float(match.group(1))
    if match.group(2) == "mph":
        speed *= MPH_TO_KMH
    return speed if speed > 0 else math.nan


def _first_class(value: object) -> str:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _classes(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


# --------------------------------------------------------------------------- compile


def _from_edges(
    *,
    node_id: IntArray,
    x: FloatArray,
    y: FloatArray,
    u: IntArray,
    v: IntArray,
    length_m: FloatArray,
    time_s: FloatArray,
    mode: str,
    crs: str,
    bridge_name: npt.NDArray[np.str_],
    bridge_u: IntArray,
    meta: dict[str, Any],
) -> CompiledNetwork:
    """Build CSR arrays from an edge list: merge parallel edges (min), drop loops."""
    n = len(node_id)
    keep = u != v
    u, v, length_m, time_s = u[keep], v[keep], length_m[keep], time_s[keep]
    # One CSR entry per (u, v): smallest length and smallest time among parallel edges.
    key = u.astype(np.int64) * n + v
    order = np.lexsort((time_s, key))
    key_sorted = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    starts = np.flatnonzero(first)
    time_min = time_s[order][starts]
    length_min = np.minimum.reduceat(length_m[order], starts) if len(starts) else length_m[:0]
    uu = u[order][starts]
    vv = v[order][starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, uu + 1, 1)
    indptr = np.cumsum(indptr)
    return CompiledNetwork(
        mode=mode,
        crs=crs,
        node_id=np.asarray(node_id, dtype=np.int64),
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        indptr=indptr,
        indices=vv.astype(np.int32),
        length_m=length_min.astype(np.float64),
        time_s=time_min.astype(np.float64),
        bridge_name=np.asarray(bridge_name, dtype=str),
        bridge_node=np.asarray(bridge_u, dtype=np.int64),
        meta=meta,
    )


def _edge_list(
    graph: nx.MultiDiGraph,
    *,
    position: Mapping[Any, int],
    x: FloatArray,
    y: FloatArray,
    mode: str,
    speeds: Mapping[str, float],
) -> tuple[
    list[int], list[int], list[float], list[float], list[tuple[str, int]], Counter[str], int
]:
    """Edges as lists (start, end, length, km/h), bridges, dropped ways by reason, kept ways."""
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    kmh: list[float] = []
    bridges: list[tuple[str, int]] = []
    dropped: dict[str, set[str]] = {}
    kept: set[str] = set()
    for n_edge, (a, b, data) in enumerate(graph.edges(data=True)):
        classes = _classes(data.get("highway"))
        reason = drop_reason(data, mode)
        way = str(data.get("osmid", f"edge {n_edge}"))
        if reason is not None:
            dropped.setdefault(reason, set()).add(way)
            continue
        kept.add(way)
        i, j = position[a], position[b]
        length = float(data.get("length", math.hypot(x[j] - x[i], y[j] - y[i])))
        speed = parse_maxspeed(data.get("maxspeed"))
        if math.isnan(speed):
            known = [speeds[c] for c in classes if c in speeds]
            speed = float(np.mean(known)) if known else FALLBACK_SPEED_KMH
        us.append(i)
        vs.append(j)
        lengths.append(length)
        kmh.append(speed)
        if data.get("bridge") not in {None, "no"}:
            name = data.get("name") or f"bridge {_first_class(data.get('osmid'))}"
            bridges.append((_first_class(name), i))
    counts = Counter({r: len(w) for r, w in dropped.items()})
    return us, vs, lengths, kmh, bridges, counts, len(kept)


def _check_args(mode: str, walk_speed_mps: float) -> None:
    if mode not in {"drive", "walk"}:
        msg = f"mode must be 'drive' or 'walk', got {mode!r}"
        raise ValueError(msg)
    if walk_speed_mps <= 0:
        msg = f"walk_speed_mps must be positive, got {walk_speed_mps}"
        raise ValueError(msg)


def _speeds(speeds_kmh: Mapping[str, float] | None) -> dict[str, float]:
    speeds = {**DRIVE_SPEED_KMH, **dict(speeds_kmh or {})}
    bad = {k: s for k, s in speeds.items() if not s > 0}
    if bad:
        msg = f"speeds_kmh must be positive km/h; got {bad}"
        raise ValueError(msg)
    return speeds


def _reasons(dropped: Mapping[str, int]) -> str:
    ranked = sorted(dropped.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason} {count}" for reason, count in ranked) or "none"


def _way_kmh(tags: Mapping[str, str], speeds: Mapping[str, float]) -> float:
    speed = parse_maxspeed(tags.get("maxspeed"))
    if math.isnan(speed):
        speed = speeds.get(tags.get("highway", ""), FALLBACK_SPEED_KMH)
    return speed


def _oneway(tags: Mapping[str, str]) -> tuple[bool, bool]:
    """(one-way, against the node order) for driving, by osmnx's rules."""
    oneway = tags.get("oneway") in ONEWAY_VALUES or tags.get("junction") == "roundabout"
    return oneway, oneway and tags.get("oneway") in REVERSED_VALUES


def _segments(
    ways: OsmWays, mode: str, speeds: Mapping[str, float], walk_speed_mps: float
) -> tuple[IntArray, IntArray, IntArray, FloatArray, list[str]]:
    """Directed segments of the mode's roads: start id, end id, way index, m/s, bridge names."""
    starts: list[int] = []
    ends: list[int] = []
    owner: list[int] = []
    mps: list[float] = []
    for w in np.flatnonzero(ways.kept(mode)).tolist():
        refs = ways.refs[w]
        tags = ways.tags[w]
        oneway, backwards = _oneway(tags) if mode == "drive" else (False, False)
        if backwards:
            refs = refs[::-1]
        pairs = (
            [(refs[:-1], refs[1:])] if oneway else [(refs[:-1], refs[1:]), (refs[1:], refs[:-1])]
        )
        speed = walk_speed_mps if mode == "walk" else _way_kmh(tags, speeds) / 3.6
        for a, b in pairs:
            starts.extend(a)
            ends.extend(b)
            owner.extend([w] * len(a))
            mps.extend([speed] * len(a))
    names = [
        str(tags.get("name") or f"bridge {ways.way_id[w]}")
        if tags.get("bridge") not in {None, "no"}
        else ""
        for w, tags in enumerate(ways.tags)
    ]
    return (
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        np.array(owner, dtype=np.int64),
        np.array(mps, dtype=np.float64),
        names,
    )


def _interstitial(n: int, u: IntArray, v: IntArray) -> npt.NDArray[np.bool_]:
    """Nodes osmnx's simplification would remove (``simplification._is_endpoint`` is False).

    A node is interstitial when it has exactly two neighbours, degree 2 or 4,
    in- and out-edges and no self-loop.  Nodes with parallel edges stay
    endpoints here, so every chain is unambiguous and costs stay exact.
    """
    in_deg = np.bincount(v, minlength=n)
    out_deg = np.bincount(u, minlength=n)
    # pairs as single int64 keys (a * n + b): np.unique on 1-d keys is fast
    both = np.unique(np.concatenate([u * n + v, v * n + u]))
    neighbours = np.bincount(both // n, minlength=n)
    directed = np.unique(u * n + v)
    distinct_out = np.bincount(directed // n, minlength=n)
    distinct_in = np.bincount(directed % n, minlength=n)
    loop = np.zeros(n, dtype=bool)
    loop[u[u == v]] = True
    degree = in_deg + out_deg
    inner: npt.NDArray[np.bool_] = (
        (neighbours == 2)  # noqa: PLR2004 - osmnx's rule: two neighbours
        & np.isin(degree, (2, 4))
        & (in_deg > 0)
        & (out_deg > 0)
        & ~loop
        & (distinct_out == out_deg)
        & (distinct_in == in_deg)
    )
    return inner


def _contract(
    n: int, u: IntArray, v: IntArray, *, length: FloatArray, time_s: FloatArray, bridge: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Merge chains through interstitial nodes into single edges (sums of lengths and times)."""
    inner = _interstitial(n, u, v)
    order = np.argsort(u, kind="stable")
    first = np.searchsorted(u[order], np.arange(n + 1))
    used = np.zeros(len(u), dtype=bool)
    out_u: list[int] = []
    out_v: list[int] = []
    out_len: list[float] = []
    out_time: list[float] = []
    out_bridge: list[int] = []
    uu, vv = u.tolist(), v.tolist()
    ll, tt, bb = length.tolist(), time_s.tolist(), bridge.tolist()

    def follow(edge: int) -> None:
        start = uu[edge]
        total_len = total_time = 0.0
        found = -1
        while True:
            used[edge] = True
            total_len += ll[edge]
            total_time += tt[edge]
            found = bb[edge] if found < 0 else found
            node = vv[edge]
            if not inner[node] or node == start:
                break
            nxt = [int(e) for e in order[first[node] : first[node + 1]] if vv[int(e)] != uu[edge]]
            if len(nxt) != 1 or used[nxt[0]]:
                break
            edge = nxt[0]
        out_u.append(start)
        out_v.append(node)
        out_len.append(total_len)
        out_time.append(total_time)
        out_bridge.append(found)

    for edge in range(len(uu)):
        if not used[edge] and not inner[uu[edge]]:
            follow(edge)
    for edge in np.flatnonzero(~used).tolist():  # rings with no endpoint: kept as they are
        out_u.append(uu[edge])
        out_v.append(vv[edge])
        out_len.append(ll[edge])
        out_time.append(tt[edge])
        out_bridge.append(bb[edge])
    return (
        np.array(out_u, dtype=np.int64),
        np.array(out_v, dtype=np.int64),
        np.array(out_len, dtype=np.float64),
        np.array(out_time, dtype=np.float64),
        np.array(out_bridge, dtype=np.int64),
    )


def compile_ways(
    ways: OsmWays,
    *,
    mode: Mode = "drive",
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
    to_crs: str | None = None,
) -> CompiledNetwork:
    """Compile the roads of an OSM file for one mode into CSR arrays (largest SCC).

    Parameters
    ----------
    ways : OsmWays
        From :func:`read_ways`: every way sorted into roads per mode.
    mode : {"drive", "walk"}, default "drive"
        ``drive`` follows one-way tags as osmnx does (``oneway=yes/-1/...``,
        roundabouts); ``walk`` uses every road both ways.
    speeds_kmh : mapping of str to float, optional
        Overrides of :data:`DRIVE_SPEED_KMH` by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed (m/s) in walk mode.
    to_crs : str, optional
        Metric CRS of the node coordinates.

    Returns
    -------
    CompiledNetwork
        Edge lengths are great-circle metres summed along each contracted
        chain; ``meta`` has ``dropped_ways`` (reason -> ways that are no road
        for the mode), ``kept_ways``, ``lonlat_bounds`` and the component counts.

    Raises
    ------
    SchemaError
        If no way is a road for the mode.

    Examples
    --------
    >>> from tqspatial._osm import OsmWays
    >>> ways = OsmWays(lon={1: 117.0, 2: 117.001, 3: 117.002, 4: 117.003},
    ...                lat={1: 36.7, 2: 36.7, 3: 36.7, 4: 36.7})
    >>> ways.add(7, [1, 2, 3], {"highway": "primary"}), ways.add(8, [3, 4], {"highway": "footway"})
    (True, True)
    >>> walk, drive = compile_ways(ways, mode="walk"), compile_ways(ways, mode="drive")
    >>> walk.node_id.tolist(), drive.node_id.tolist(), drive.meta["dropped_ways"]
    ([1, 4], [1, 3], {'highway=footway': 1})
    >>> round(float(walk.length_m[0]), 1), round(float(drive.time_s[0]), 2)
    (267.5, 12.84)
    """
    to_crs = to_crs or get_settings().working_crs
    _check_args(mode, walk_speed_mps)
    speeds = _speeds(speeds_kmh)
    dropped = dict(sorted(ways.dropped[mode].items()))
    kept_ways = int(ways.kept(mode).sum())
    starts, ends, owner, mps, names = _segments(ways, mode, speeds, walk_speed_mps)
    if not len(starts):
        msg = (
            f"road network has no {mode} roads (ways dropped by reason: {_reasons(dropped)}); "
            "check that the file is a road extract covering the study area"
        )
        raise SchemaError(msg)
    node_id, inverse = np.unique(np.concatenate([starts, ends]), return_inverse=True)
    u, v = inverse[: len(starts)], inverse[len(starts) :]
    lon = np.array([ways.lon[k] for k in node_id.tolist()], dtype=np.float64)
    lat = np.array([ways.lat[k] for k in node_id.tolist()], dtype=np.float64)
    from osmnx.distance import great_circle  # noqa: PLC0415 - heavy import only when compiling

    length = np.asarray(great_circle(lat[u], lon[u], lat[v], lon[v]), dtype=np.float64)
    bridge_of_way = np.array([i if name else -1 for i, name in enumerate(names)], dtype=np.int64)
    u, v, length, time_s, bridge = _contract(
        len(node_id), u, v, length=length, time_s=length / mps, bridge=bridge_of_way[owner]
    )
    # nodes merged into chains are gone: renumber the remaining ones
    remaining, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    u, v = inverse[: len(u)], inverse[len(u) :]
    node_id, lon, lat = node_id[remaining], lon[remaining], lat[remaining]
    x, y = pyproj.Transformer.from_crs("EPSG:4326", to_crs, always_xy=True).transform(lon, lat)
    is_bridge = bridge >= 0
    full = _from_edges(
        node_id=node_id,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        u=u,
        v=v,
        length_m=length,
        time_s=time_s,
        mode=mode,
        crs=str(pyproj.CRS.from_user_input(to_crs).to_string()),
        bridge_name=np.array([names[b] for b in bridge[is_bridge].tolist()], dtype=str),
        bridge_u=u[is_bridge],
        meta={},
    )
    net = largest_component(full)
    kept = np.isin(node_id, net.node_id)
    net.meta.update(
        {
            "mode": mode,
            "speeds_kmh": speeds,
            "walk_speed_mps": walk_speed_mps,
            "kept_ways": kept_ways,
            "dropped_ways": dropped,
            "lonlat_bounds": [
                float(lon[kept].min()),
                float(lat[kept].min()),
                float(lon[kept].max()),
                float(lat[kept].max()),
            ],
        }
    )
    return net


def compile_graph(
    graph: nx.MultiDiGraph,
    *,
    mode: Mode = "drive",
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
) -> CompiledNetwork:
    """Compile a projected osmnx graph into CSR arrays (largest strongly connected component).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        An osmnx graph projected to a metric CRS (``graph.graph["crs"]``), edges
        with ``length`` (m) and ``highway``; ``maxspeed`` and ``bridge`` are used
        when present.
    mode : {"drive", "walk"}, default "drive"
        ``drive`` keeps one-way edges as they are; ``walk`` adds every
        reverse edge.  Edges whose tags fail the mode's :data:`ROAD_FILTERS`
        (or that have no ``highway``) are dropped.
    speeds_kmh : mapping of str to float, optional
        Overrides of :data:`DRIVE_SPEED_KMH` by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed (m/s) in walk mode.

    Returns
    -------
    CompiledNetwork
        ``meta`` has ``dropped_nodes``, ``dropped_edges`` (outside the largest
        strongly connected component), ``dropped_ways`` (reason -> number of
        distinct ``osmid`` values that are no road for the mode), ``kept_ways``
        and ``excluded_edges`` (directed edges dropped by the filters).

    Raises
    ------
    SchemaError
        If the graph has no usable edges, or no CRS.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiDiGraph(crs="EPSG:4548")
    >>> g.add_node(1, x=0.0, y=0.0); g.add_node(2, x=100.0, y=0.0)
    >>> g.add_edge(1, 2, length=100.0, highway="primary")
    0
    >>> net = compile_graph(g, mode="walk")
    >>> net.n_nodes, round(float(net.time_s[0]), 2)
    (2, 100.0)
    >>> compile_graph(g, mode="drive").meta["dropped_nodes"]  # one-way: no cycle
    1
    """
    _check_args(mode, walk_speed_mps)
    crs = graph.graph.get("crs")
    if crs is None:
        msg = "road graph has no 'crs' in graph.graph; project it with osmnx.project_graph first"
        raise SchemaError(msg)
    speeds = _speeds(speeds_kmh)
    nodes = list(graph.nodes)
    if not nodes or graph.number_of_edges() == 0:
        msg = "road network is empty (no nodes or no edges); check the file and the mode"
        raise SchemaError(msg)
    position = {node: i for i, node in enumerate(nodes)}
    x = np.array([graph.nodes[n]["x"] for n in nodes], dtype=np.float64)
    y = np.array([graph.nodes[n]["y"] for n in nodes], dtype=np.float64)
    us, vs, lengths, kmh, bridges, dropped, kept_ways = _edge_list(
        graph, position=position, x=x, y=y, mode=mode, speeds=speeds
    )
    n_excluded = graph.number_of_edges() - len(us)
    if not us:
        msg = (
            f"road network has no {mode} edges (all {n_excluded} edges are no {mode} roads: "
            f"{_reasons(dropped)})"
        )
        raise SchemaError(msg)
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    length_m = np.array(lengths, dtype=np.float64)
    if mode == "walk":
        time_s = length_m / walk_speed_mps
        u, v = np.concatenate([u, v]), np.concatenate([v, u])
        length_m = np.concatenate([length_m, length_m])
        time_s = np.concatenate([time_s, time_s])
    else:
        time_s = length_m / (np.array(kmh) / 3.6)
    full = _from_edges(
        node_id=np.array([int(n) for n in nodes], dtype=np.int64),
        x=x,
        y=y,
        u=u,
        v=v,
        length_m=length_m,
        time_s=time_s,
        mode=mode,
        crs=str(crs),
        bridge_name=np.array([b[0] for b in bridges], dtype=str),
        bridge_u=np.array([b[1] for b in bridges], dtype=np.int64),
        meta={},
    )
    net = largest_component(full)
    net.meta.update(
        {
            "mode": mode,
            "speeds_kmh": speeds,
            "walk_speed_mps": walk_speed_mps,
            "excluded_edges": n_excluded,
            "kept_ways": kept_ways,
            "dropped_ways": dict(sorted(dropped.items())),
        }
    )
    return net


def largest_component(net: CompiledNetwork) -> CompiledNetwork:
    """Keep the largest strongly connected component; record what was dropped.

    Parameters
    ----------
    net : CompiledNetwork
        Any compiled network.

    Returns
    -------
    CompiledNetwork
        Sub-network; ``meta["dropped_nodes"]``, ``meta["dropped_edges"]`` and
        ``meta["n_components"]`` say what was removed (also logged).

    Examples
    --------
    >>> largest_component(toy_network()).meta["dropped_nodes"]
    0
    """
    n_comp, labels = connected_components(net.matrix(), directed=True, connection="strong")
    counts = np.bincount(labels)
    keep = labels == int(np.argmax(counts))
    dropped_nodes = int((~keep).sum())
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    keep_edge = keep[src] & keep[net.indices]
    dropped_edges = int((~keep_edge).sum())
    meta = {
        **net.meta,
        "n_components": int(n_comp),
        "dropped_nodes": dropped_nodes,
        "dropped_edges": dropped_edges,
    }
    if dropped_nodes:
        logger.warning(
            "road network (%s): kept the largest strongly connected component; dropped %d of %d "
            "nodes and %d edges in %d smaller components",
            net.mode,
            dropped_nodes,
            net.n_nodes,
            dropped_edges,
            n_comp - 1,
        )
    new_index = np.cumsum(keep) - 1
    keep_bridge = keep[net.bridge_node] if len(net.bridge_node) else np.zeros(0, dtype=bool)
    return _from_edges(
        node_id=net.node_id[keep],
        x=net.x[keep],
        y=net.y[keep],
        u=new_index[src[keep_edge]],
        v=new_index[net.indices[keep_edge]],
        length_m=net.length_m[keep_edge],
        time_s=net.time_s[keep_edge],
        mode=net.mode,
        crs=net.crs,
        bridge_name=net.bridge_name[keep_bridge],
        bridge_u=new_index[net.bridge_node[keep_bridge]],
        meta=meta,
    )


# --------------------------------------------------------------------------- reading


def _kind(path: Path) -> str:
    """Return "xml", "pbf" or "graphml" from the file name, or raise naming the choices."""
    name = path.name.lower()
    if name.endswith(XML_SUFFIXES):
        return "xml"
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".graphml"):
        return "graphml"
    msg = (
        f"road network: unsupported file type {''.join(path.suffixes[-2:]) or path.name!r} "
        f"for {path}; expected one of {list(NETWORK_SUFFIXES)}"
    )
    raise DataFileError(msg)


def read_ways(path: str | os.PathLike[str]) -> OsmWays:
    """Read the ways of an OSM XML (plain, ``.bz2``, ``.gz``) or PBF file, sorted into roads.

    One streaming pass; every way is tested against :data:`ROAD_FILTERS` for
    both modes, and only the nodes of road ways are kept.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml`` (optionally ``.bz2``/``.gz``) or ``.osm.pbf`` (needs pyosmium).

    Returns
    -------
    OsmWays
        ``dropped[mode]`` counts the ways that are no road per reason.

    Raises
    ------
    DataFileError
        If the file is missing, of an unknown type or unreadable.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> ways = read_ways(datasets.raw_path("roads.osm"))
    >>> len(ways.way_id) == int(ways.kept("drive").sum())  # the generator writes roads only
    True
    """
    path = Path(path)
    if not path.is_file():
        msg = f"road network file not found: {path}"
        raise DataFileError(msg)
    kind = _kind(path)
    if kind == "graphml":
        msg = f"road network: {path} is GraphML (an osmnx graph), not OSM ways; use load_networks"
        raise DataFileError(msg)
    return read_pbf(path) if kind == "pbf" else read_xml(path)


def _read_graphml(path: Path, to_crs: str) -> nx.MultiDiGraph:
    import osmnx as ox  # noqa: PLC0415 - heavy import only when a GraphML file is read

    try:
        graph = ox.io.load_graphml(path)
    except Exception as exc:  # ElementTree, osmnx and networkx raise many kinds
        msg = f"road network: cannot read {path} as GraphML: {type(exc).__name__}: {exc}"
        raise DataFileError(msg) from exc
    if graph.number_of_nodes() == 0:
        msg = f"road network: {path} has no nodes; check that it is a road graph"
        raise SchemaError(msg)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=np.float64)
    to_lonlat = pyproj.Transformer.from_crs(graph.graph["crs"], "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    projected = ox.project_graph(graph, to_crs=to_crs)
    projected.graph["lonlat_bounds"] = [
        float(np.min(lon)),
        float(np.min(lat)),
        float(np.max(lon)),
        float(np.max(lat)),
    ]
    return projected


def check_zone(
    bounds: Sequence[float], *, to_crs: str | None = None, source: str = "road network"
) -> bool:
    """Warn when a network's lon/lat extent leaves the area of use of the working CRS.

    A Gauss-Krueger zone (EPSG:4548: 115.5-118.5 E) distorts lengths fast
    beyond its edges, and a network far outside it usually means the wrong
    file or the wrong working CRS.

    Parameters
    ----------
    bounds : sequence of float
        (min lon, min lat, max lon, max lat) in degrees.
    to_crs : str, optional
        The working CRS.
    source : str, default "road network"
        The file, for the message.

    Returns
    -------
    bool
        True when the extent lies inside (no warning).

    Warns
    -----
    DataQualityWarning
        When any part of the extent lies outside; also a quality-log note.

    Examples
    --------
    >>> check_zone([116.9, 36.6, 117.1, 36.8])
    True
    """
    to_crs = to_crs or get_settings().working_crs
    crs = pyproj.CRS.from_user_input(to_crs)
    area = crs.area_of_use
    if area is None:
        return True
    west, south, east, north = (float(b) for b in bounds)
    if area.west <= west and east <= area.east and area.south <= south and north <= area.north:
        return True
    message = (
        f"{source} spans lon {west:.3f}-{east:.3f}, lat {south:.3f}-{north:.3f}, beyond the "
        f"area of use of the working CRS {crs.to_string()} ({crs.name}: lon {area.west:g}-"
        f"{area.east:g}, lat {area.south:g}-{area.north:g}); lengths there are distorted. "
        "Check the file, or set the working CRS of the network's zone"
    )
    note(
        layer="roads", stage="network", kind="outside_crs_zone", severity="warning", message=message
    )
    warnings.warn(message, DataQualityWarning, stacklevel=3)
    return False


def road_filter_counts(nets: Mapping[str, CompiledNetwork]) -> dict[str, dict[str, Any]]:
    """Return, per mode, the ways kept as roads and the ways dropped by reason.

    Parameters
    ----------
    nets : mapping of str to CompiledNetwork
        From :func:`load_networks`.

    Returns
    -------
    dict
        Mode -> ``{"kept_ways": int, "dropped_ways": {reason: count}}`` (for a
        refresh manifest).

    Examples
    --------
    >>> road_filter_counts({"walk": toy_network()})
    {'walk': {'kept_ways': None, 'dropped_ways': {}}}
    """
    return {
        mode: {
            "kept_ways": net.meta.get("kept_ways"),
            "dropped_ways": dict(net.meta.get("dropped_ways", {})),
        }
        for mode, net in nets.items()
    }


# --------------------------------------------------------------------------- cache


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file (read in 1 MiB blocks).

    Parameters
    ----------
    path : str or os.PathLike
        Any file.

    Returns
    -------
    str
        64 hex characters.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> len(file_sha256(datasets.raw_path("roads.osm")))
    64
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """Return the folder of compiled-network caches.

    ``$TQSPATIAL_CACHE_DIR`` when set, else ``networks`` in the per-user
    cache folder of tqspatial (``platformdirs.user_cache_dir``, e.g.
    ``~/.cache/tqspatial/networks`` on Linux).  Never the source's folder, so
    read-only and shared data folders stay clean.

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> import os
    >>> os.environ["TQSPATIAL_CACHE_DIR"] = "/tmp/tq-cache"
    >>> default_cache_dir().as_posix()
    '/tmp/tq-cache'
    >>> del os.environ["TQSPATIAL_CACHE_DIR"]
    >>> default_cache_dir().parts[-2:]
    ('tqspatial', 'networks')
    """
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("tqspatial", appauthor=False)) / "networks"


def cache_path(
    path: str | os.PathLike[str], mode: str, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Return where the compiled arrays of ``path`` in ``mode`` are cached.

    The name holds the source's file name and a digest of its absolute path,
    so two sources named ``roads.osm`` in different folders do not evict each
    other; the content key (SHA-256 and parameters) is stored inside.

    Parameters
    ----------
    path : str or os.PathLike
        Source network file.
    mode : str
        ``"drive"`` or ``"walk"``.
    cache_dir : str or os.PathLike, optional
        Folder for the cache; default :func:`default_cache_dir`.

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/<name>-<digest>.tqnet-<mode>.npz``.

    Examples
    --------
    >>> target = cache_path("/data/roads.osm", "walk", "/tmp/cache")
    >>> target.parent.as_posix(), target.name.startswith("roads.osm-"), target.suffixes[-2:]
    ('/tmp/cache', True, ['.tqnet-walk', '.npz'])
    """
    path = Path(path)
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:12]
    return folder / f"{path.name}-{digest}.tqnet-{mode}.npz"


_ARRAYS = ("node_id", "x", "y", "indptr", "indices", "length_m", "time_s")


def _cache_key(sha: str, params: Mapping[str, Any]) -> str:
    return json.dumps({"version": CACHE_VERSION, "sha256": sha, **params}, sort_keys=True)


def _read_cache(target: Path, key: str) -> CompiledNetwork | None:
    if not target.is_file():
        return None
    try:
        with np.load(target, allow_pickle=False) as data:
            if str(data["key"]) != key:
                logger.info("network cache %s is stale (source or parameters changed)", target)
                return None
            arrays = {name: data[name] for name in _ARRAYS}
            meta = json.loads(str(data["meta"]))
            return CompiledNetwork(
                mode=str(data["mode"]),
                crs=str(data["crs"]),
                bridge_name=data["bridge_name"],
                bridge_node=data["bridge_node"],
                meta=meta,
                **arrays,
            )
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("network cache %s unreadable (%s); recompiling", target, exc)
        return None


def _write_cache(target: Path, key: str, net: CompiledNetwork) -> None:
    payload = {name: getattr(net, name) for name in _ARRAYS}
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                key=np.array(key),
                meta=np.array(json.dumps(net.meta, sort_keys=True)),
                mode=np.array(net.mode),
                crs=np.array(net.crs),
                bridge_name=net.bridge_name,
                bridge_node=net.bridge_node,
                **payload,
            )
        tmp.replace(target)  # atomic: a killed run never leaves half a cache
    except OSError as exc:
        logger.warning("could not write network cache %s (%s); continuing without", target, exc)
        tmp.unlink(missing_ok=True)
    except BaseException:  # KeyboardInterrupt, SystemExit ...: no half-written file stays
        tmp.unlink(missing_ok=True)
        raise


def load_networks(
    path: str | os.PathLike[str],
    modes: Sequence[Mode] = ("walk", "drive"),
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
    to_crs: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
) -> dict[str, CompiledNetwork]:
    """Load a road network file for several modes, parsing the file at most once.

    Each mode goes through its ``.npz`` cache first; the file is parsed once for
    all the modes whose cache is missing or stale.  Ways that are no road for
    a mode never become edges (:data:`ROAD_FILTERS`); their counts by reason
    are logged and kept in ``meta["dropped_ways"]`` (see
    :func:`road_filter_counts`).  A network whose extent leaves the area of
    use of ``to_crs`` gets a :class:`~tqspatial.errors.DataQualityWarning`.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml`` (also ``.bz2``/``.gz`` compressed), ``.graphml`` or
        ``.osm.pbf``.
    modes : sequence of {"walk", "drive"}, default ("walk", "drive")
        Travel modes (see :func:`compile_graph`).
    speeds_kmh : mapping of str to float, optional
        Overrides of the default driving speeds by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed.
    to_crs : str, optional
        Metric CRS.
    cache : bool, default True
        Read and write the compiled arrays (:func:`cache_path`); the cache is
        used only when the source's SHA-256 and all parameters match.
    cache_dir : str or os.PathLike, optional
        Cache folder instead of :func:`default_cache_dir`; created if missing.
    sha256 : str, optional
        The file's SHA-256 when the caller has it already (a refresh hashes
        every input once); computed when None.

    Returns
    -------
    dict of str to CompiledNetwork
        Mode -> network; ``meta["from_cache"]`` says whether the cache was used.

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.
    SchemaError
        If it holds no usable roads for a mode.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from tqspatial import datasets
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src = shutil.copy(datasets.raw_path("roads.osm"), d)
    ...     first = load_networks(src, cache_dir=d)
    ...     second = load_networks(src, ["walk"], cache_dir=d)
    >>> sorted(first), second["walk"].meta["from_cache"], first["walk"].meta["from_cache"]
    (['drive', 'walk'], True, False)
    >>> first["drive"].meta["dropped_ways"]  # the embedded extract holds roads only
    {}
    """
    to_crs = to_crs or get_settings().working_crs
    path = Path(path)
    if not path.is_file():
        msg = f"road network file not found: {path}"
        raise DataFileError(msg)
    kind = _kind(path)
    sha = sha256 or file_sha256(path)
    out: dict[str, CompiledNetwork] = {}
    source: OsmWays | nx.MultiDiGraph | None = None
    for mode in modes:
        started = time.perf_counter()
        params = {
            "mode": mode,
            "speeds_kmh": dict(sorted((speeds_kmh or {}).items())),
            "walk_speed_mps": walk_speed_mps,
            "to_crs": to_crs,
        }
        key = _cache_key(sha, params)
        target = cache_path(path, mode, cache_dir)
        cached = _read_cache(target, key) if cache else None
        if cached is not None:
            cached.meta["from_cache"] = True
            cached.meta["cache_file"] = str(target)  # hook: tqspatial.hierarchy caches beside it
            logger.info(
                "road network %s (%s): %d nodes from cache %s in %.2f s",
                path,
                mode,
                cached.n_nodes,
                target,
                time.perf_counter() - started,
            )
            out[mode] = cached
            continue
        if source is None:
            source = _read_graphml(path, to_crs) if kind == "graphml" else read_ways(path)
        try:
            if isinstance(source, OsmWays):
                net = compile_ways(
                    source,
                    mode=mode,
                    speeds_kmh=speeds_kmh,
                    walk_speed_mps=walk_speed_mps,
                    to_crs=to_crs,
                )
            else:
                net = compile_graph(
                    source, mode=mode, speeds_kmh=speeds_kmh, walk_speed_mps=walk_speed_mps
                )
                net.meta["lonlat_bounds"] = source.graph["lonlat_bounds"]
        except SchemaError as exc:
            msg = str(exc).replace("road network", f"road network {path}", 1)
            raise SchemaError(msg) from exc
        net.meta.update({"source": str(path), "sha256": sha, "to_crs": to_crs})
        if cache:
            _write_cache(target, key, net)
        net.meta["from_cache"] = False
        net.meta["cache_file"] = str(target) if cache else None  # hook for tqspatial.hierarchy
        logger.info(
            "road network %s (%s): compiled %d nodes, %d edges in %.2f s; %s ways are %s "
            "roads, %d ways dropped: %s",
            path,
            mode,
            net.n_nodes,
            net.n_edges,
            time.perf_counter() - started,
            net.meta["kept_ways"],
            mode,
            sum(net.meta["dropped_ways"].values()),
            _reasons(net.meta["dropped_ways"]),
        )
        out[mode] = net
    for net in out.values():
        check_zone(net.meta["lonlat_bounds"], to_crs=to_crs, source=f"road network {path}")
        break
    return out


def load_network(
    path: str | os.PathLike[str],
    *,
    mode: Mode = "drive",
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
    to_crs: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CompiledNetwork:
    """Load a road network file as a :class:`CompiledNetwork`, through the ``.npz`` cache.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml`` (also ``.bz2``/``.gz``), ``.graphml`` or ``.osm.pbf``.
    mode : {"drive", "walk"}, default "drive"
        Travel mode (see :func:`compile_graph`).
    speeds_kmh : mapping of str to float, optional
        Overrides of the default driving speeds by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed.
    to_crs : str, optional
        Metric CRS.
    cache : bool, default True
        Read and write the compiled arrays (:func:`cache_path`); the cache is
        used only when the source's SHA-256 and all parameters match.
    cache_dir : str or os.PathLike, optional
        Cache folder instead of :func:`default_cache_dir`; created if missing.

    Returns
    -------
    CompiledNetwork
        ``meta["from_cache"]`` says whether the cache was used.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from tqspatial import datasets
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src = shutil.copy(datasets.raw_path("roads.osm"), d)
    ...     first = load_network(src, mode="walk", cache_dir=d)
    ...     second = load_network(src, mode="walk", cache_dir=d)
    >>> first.meta["from_cache"], second.meta["from_cache"], second.n_nodes == first.n_nodes
    (False, True, True)
    """
    to_crs = to_crs or get_settings().working_crs
    return load_networks(
        path,
        [mode],
        speeds_kmh=speeds_kmh,
        walk_speed_mps=walk_speed_mps,
        to_crs=to_crs,
        cache=cache,
        cache_dir=cache_dir,
    )[mode]
