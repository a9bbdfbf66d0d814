"""Road networks as compact arrays: osmnx graph -> CSR, with a checksum-keyed cache.

A :class:`CompiledNetwork` holds what shortest-path searches need and nothing
else: node ids and coordinates, and a CSR adjacency (``indptr``/``indices``)
with two weights per directed edge, length in metres and travel time in
seconds.  Parallel edges keep the smallest weight; self-loops are dropped;
only the largest strongly connected component is kept (what was dropped is
logged and recorded in ``meta``).

**Travel speeds.** Drive mode: a ``maxspeed`` tag is honoured when it parses (``"50"``,
``"30 mph"``, lists take the lowest); otherwise the highway class gets the
default of :data:`DRIVE_SPEED_KMH`.  The defaults sit inside the design-speed
ranges of the Chinese urban road code (CJJ 37-2012, 城市道路工程设计规范):
快速路 60-100 km/h, 主干路 40-60, 次干路 30-50, 支路 20-40.  We take a value in
the lower half of each range because design speeds are upper bounds, not
travel speeds at peak.  OSM classes map as motorway/trunk -> 快速路,
primary -> 主干路, secondary -> 次干路, tertiary/unclassified -> 支路,
residential/service -> 街坊路.  Pass ``speeds_kmh`` to override any class.

Walk mode: every edge is walkable in both directions at
:data:`WALK_SPEED_MPS` (1.2 m/s, about 4.3 km/h, a common planning value for
adults on level pavement).  GB 50180-2018 pairs its 5/10/15-minute life
circles with 300/500/800-1000 m walking distances, i.e. about 1.0-1.1 m/s
with waits at crossings; life-circle coverage is therefore measured in
metres of network distance (the standard's own terms), and walking *times*
use the 1.2 m/s movement speed.

**Cache.** :func:`load_network` writes ``<source>.tqnet-<mode>.npz`` next to the source,
keyed by the SHA-256 of the source file and the compile parameters; a second
load reads only the ``.npz`` (no XML parsing) and a changed source or changed
parameters recompile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tqspatial.crs import WORKING_CRS
from tqspatial.errors import DataFileError, SchemaError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DRIVE_EXCLUDED",
    "DRIVE_SPEED_KMH",
    "WALK_EXCLUDED",
    "WALK_SPEED_MPS",
    "CompiledNetwork",
    "compile_graph",
    "load_network",
    "load_networks",
    "read_graph",
]

logger = logging.getLogger(__name__)

Mode = Literal["drive", "walk"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default driving speed (km/h) per OSM highway class, inside the CJJ 37-2012 design ranges.
DRIVE_SPEED_KMH: dict[str, float] = {
    "motorway": 80.0,  # 快速路 (60-100)
    "trunk": 60.0,  # 快速路 (60-100), urban expressways and arterial 快速路
    "primary": 50.0,  # 主干路 (40-60)
    "secondary": 40.0,  # 次干路 (30-50)
    "tertiary": 30.0,  # 支路 / lower 次干路 (20-40)
    "unclassified": 30.0,  # 支路 (20-40)
    "residential": 20.0,  # 街坊路, lower end of 支路
    "living_street": 10.0,
    "service": 15.0,
    "motorway_link": 40.0,
    "trunk_link": 40.0,
    "primary_link": 30.0,
    "secondary_link": 30.0,
    "tertiary_link": 20.0,
}
#: Speed for a highway class missing from the table (km/h): the 支路 lower bound.
FALLBACK_SPEED_KMH = 20.0

#: Walking speed (m/s) used for walk-mode edges and for parcel/facility connectors.
WALK_SPEED_MPS = 1.2

#: Highway classes a car may not use.
DRIVE_EXCLUDED = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "cycleway",
        "bridleway",
        "corridor",
        "elevator",
        "platform",
        "track",
        "proposed",
        "construction",
        "abandoned",
        "raceway",
    }
)
#: Highway classes a pedestrian may not use (grade-separated expressways).
WALK_EXCLUDED = frozenset({"motorway", "motorway_link", "proposed", "construction", "abandoned"})

#: Bump when the cache layout or the compile logic changes (invalidates old caches).
CACHE_VERSION = 1
MPH_TO_KMH = 1.609344
NETWORK_SUFFIXES = (".osm", ".xml", ".graphml", ".pbf")


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
        Nodes at x = 0, 100, 200 (y = 0), edges both ways, 1.2 m/s.

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
    excluded: frozenset[str],
    speeds: Mapping[str, float],
) -> tuple[list[int], list[int], list[float], list[float], list[tuple[str, int]], int]:
    """Edges as lists (start, end, length, km/h), bridge edges, and the excluded count."""
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    kmh: list[float] = []
    bridges: list[tuple[str, int]] = []
    n_excluded = 0
    for a, b, data in graph.edges(data=True):
        classes = _classes(data.get("highway"))
        if classes and all(c in excluded for c in classes):
            n_excluded += 1
            continue
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
    return us, vs, lengths, kmh, bridges, n_excluded


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
        ``drive`` keeps one-way edges as they are and drops
        :data:`DRIVE_EXCLUDED` classes; ``walk`` adds every reverse edge and
        drops :data:`WALK_EXCLUDED` classes.
    speeds_kmh : mapping of str to float, optional
        Overrides of :data:`DRIVE_SPEED_KMH` by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed (m/s) in walk mode.

    Returns
    -------
    CompiledNetwork
        ``meta`` has ``dropped_nodes``, ``dropped_edges`` (outside the largest
        strongly connected component) and ``excluded_edges`` (by class).

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
    (2, 83.33)
    >>> compile_graph(g, mode="drive").meta["dropped_nodes"]  # one-way: no cycle
    1
    """
    if mode not in {"drive", "walk"}:
        msg = f"mode must be 'drive' or 'walk', got {mode!r}"
        raise ValueError(msg)
    if walk_speed_mps <= 0:
        msg = f"walk_speed_mps must be positive, got {walk_speed_mps}"
        raise ValueError(msg)
    crs = graph.graph.get("crs")
    if crs is None:
        msg = "road graph has no 'crs' in graph.graph; project it with osmnx.project_graph first"
        raise SchemaError(msg)
    speeds = {**DRIVE_SPEED_KMH, **dict(speeds_kmh or {})}
    bad = {k: s for k, s in speeds.items() if not s > 0}
    if bad:
        msg = f"speeds_kmh must be positive km/h; got {bad}"
        raise ValueError(msg)
    nodes = list(graph.nodes)
    if not nodes or graph.number_of_edges() == 0:
        msg = "road network is empty (no nodes or no edges); check the file and the mode"
        raise SchemaError(msg)
    position = {node: i for i, node in enumerate(nodes)}
    x = np.array([graph.nodes[n]["x"] for n in nodes], dtype=np.float64)
    y = np.array([graph.nodes[n]["y"] for n in nodes], dtype=np.float64)
    excluded = DRIVE_EXCLUDED if mode == "drive" else WALK_EXCLUDED
    us, vs, lengths, kmh, bridges, n_excluded = _edge_list(
        graph, position=position, x=x, y=y, excluded=excluded, speeds=speeds
    )
    if not us:
        msg = f"road network has no {mode} edges (all {n_excluded} edges are of excluded classes)"
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


def _pbf_to_xml(path: Path, target: Path) -> None:
    """Write the highway ways of a PBF (and the nodes they use) to OSM XML with pyosmium."""
    try:
        import osmium  # noqa: PLC0415 - optional dependency, only for .pbf
    except ImportError as exc:
        msg = f"road network: reading {path} needs pyosmium (`pip install osmium`)"
        raise DataFileError(msg) from exc
    try:
        with osmium.BackReferenceWriter(str(target), ref_src=str(path), overwrite=True) as writer:
            for obj in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
                osmium.filter.KeyFilter("highway")
            ):
                writer.add(obj)
    except RuntimeError as exc:
        msg = f"road network: cannot read {path} as OSM PBF: {exc}"
        raise DataFileError(msg) from exc


def read_graph(path: str | os.PathLike[str], *, to_crs: str = WORKING_CRS) -> nx.MultiDiGraph:
    """Build an osmnx graph from a local OSM XML, GraphML or OSM PBF file and project it.

    No network access: ``.osm``/``.xml`` go through ``osmnx.graph_from_xml``,
    ``.graphml`` through ``osmnx.load_graphml``, and ``.pbf`` is first cut to
    its highway ways with pyosmium and then read as OSM XML.  One-way tags are
    kept (walk mode adds reverse edges in :func:`compile_graph`).

    Parameters
    ----------
    path : str or os.PathLike
        The network file.
    to_crs : str, default "EPSG:4548"
        Metric CRS to project to.

    Returns
    -------
    networkx.MultiDiGraph
        Projected graph.

    Raises
    ------
    DataFileError
        If the file is missing, of an unknown type or unreadable.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> g = read_graph(datasets.raw_path("roads.osm"))
    >>> g.number_of_nodes() > 1000
    True
    """
    import osmnx as ox  # noqa: PLC0415 - heavy import only when a network is parsed

    path = Path(path)
    if not path.is_file():
        msg = f"road network file not found: {path}"
        raise DataFileError(msg)
    suffix = path.suffix.lower()
    try:
        if suffix in {".osm", ".xml"}:
            graph = ox.graph_from_xml(path, bidirectional=False, simplify=True)
        elif suffix == ".graphml":
            graph = ox.io.load_graphml(path)
        elif suffix == ".pbf":
            with tempfile.TemporaryDirectory() as tmp:
                xml = Path(tmp) / "highways.osm"
                _pbf_to_xml(path, xml)
                graph = ox.graph_from_xml(xml, bidirectional=False, simplify=True)
        else:
            msg = (
                f"road network: unsupported file type {suffix!r} for {path}; "
                f"expected one of {list(NETWORK_SUFFIXES)}"
            )
            raise DataFileError(msg)
    except DataFileError:
        raise
    except Exception as exc:  # ElementTree, osmnx and networkx raise many kinds
        msg = f"road network: cannot read {path}: {type(exc).__name__}: {exc}"
        raise DataFileError(msg) from exc
    if graph.number_of_nodes() == 0:
        msg = f"road network: {path} has no highway nodes; check that it is a road extract"
        raise SchemaError(msg)
    return ox.project_graph(graph, to_crs=to_crs)


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


def cache_path(
    path: str | os.PathLike[str], mode: str, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Return where the compiled arrays of ``path`` in ``mode`` are cached.

    Parameters
    ----------
    path : str or os.PathLike
        Source network file.
    mode : str
        ``"drive"`` or ``"walk"``.
    cache_dir : str or os.PathLike, optional
        Folder for the cache; default: beside the source.

    Returns
    -------
    pathlib.Path
        ``<path>.tqnet-<mode>.npz`` beside the source (or in ``cache_dir``).

    Examples
    --------
    >>> cache_path("roads.osm", "walk").name
    'roads.osm.tqnet-walk.npz'
    """
    path = Path(path)
    folder = path.parent if cache_dir is None else Path(cache_dir)
    return folder / f"{path.name}.tqnet-{mode}.npz"


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


def load_networks(
    path: str | os.PathLike[str],
    modes: Sequence[Mode] = ("walk", "drive"),
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
    to_crs: str = WORKING_CRS,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
) -> dict[str, CompiledNetwork]:
    """Load a road network file for several modes, parsing the file at most once.

    Each mode goes through its ``.npz`` cache first; the file is parsed once for
    all the modes whose cache is missing or stale.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml``, ``.graphml`` or ``.osm.pbf``.
    modes : sequence of {"walk", "drive"}, default ("walk", "drive")
        Travel modes (see :func:`compile_graph`).
    speeds_kmh : mapping of str to float, optional
        Overrides of the default driving speeds by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed.
    to_crs : str, default "EPSG:4548"
        Metric CRS.
    cache : bool, default True
        Read and write ``<path>.tqnet-<mode>.npz``; the cache is used only
        when the source's SHA-256 and all parameters match.
    cache_dir : str or os.PathLike, optional
        Keep the cache in this folder instead of beside the source (for a
        read-only data folder); created if missing.
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
    ...     first = load_networks(src)
    ...     second = load_networks(src, ["walk"])
    >>> sorted(first), second["walk"].meta["from_cache"], first["walk"].meta["from_cache"]
    (['drive', 'walk'], True, False)
    """
    path = Path(path)
    if not path.is_file():
        msg = f"road network file not found: {path}"
        raise DataFileError(msg)
    sha = sha256 or file_sha256(path)
    out: dict[str, CompiledNetwork] = {}
    graph: nx.MultiDiGraph | None = None
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
                target.name,
                time.perf_counter() - started,
            )
            out[mode] = cached
            continue
        if graph is None:
            graph = read_graph(path, to_crs=to_crs)
        net = compile_graph(graph, mode=mode, speeds_kmh=speeds_kmh, walk_speed_mps=walk_speed_mps)
        net.meta.update({"source": str(path), "sha256": sha, "to_crs": to_crs})
        if cache:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_cache(target, key, net)
        net.meta["from_cache"] = False
        net.meta["cache_file"] = str(target) if cache else None  # hook for tqspatial.hierarchy
        logger.info(
            "road network %s (%s): compiled %d nodes, %d edges in %.2f s",
            path,
            mode,
            net.n_nodes,
            net.n_edges,
            time.perf_counter() - started,
        )
        out[mode] = net
    return out


def load_network(
    path: str | os.PathLike[str],
    *,
    mode: Mode = "drive",
    speeds_kmh: Mapping[str, float] | None = None,
    walk_speed_mps: float = WALK_SPEED_MPS,
    to_crs: str = WORKING_CRS,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CompiledNetwork:
    """Load a road network file as a :class:`CompiledNetwork`, through the ``.npz`` cache.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml``, ``.graphml`` or ``.osm.pbf``.
    mode : {"drive", "walk"}, default "drive"
        Travel mode (see :func:`compile_graph`).
    speeds_kmh : mapping of str to float, optional
        Overrides of the default driving speeds by highway class.
    walk_speed_mps : float, default WALK_SPEED_MPS
        Walking speed.
    to_crs : str, default "EPSG:4548"
        Metric CRS.
    cache : bool, default True
        Read and write ``<path>.tqnet-<mode>.npz``; the cache is used only
        when the source's SHA-256 and all parameters match.
    cache_dir : str or os.PathLike, optional
        Keep the cache in this folder instead of beside the source (for a
        read-only data folder); created if missing.

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
    ...     first = load_network(src, mode="walk")
    ...     second = load_network(src, mode="walk")
    >>> first.meta["from_cache"], second.meta["from_cache"], second.n_nodes == first.n_nodes
    (False, True, True)
    """
    return load_networks(
        path,
        [mode],
        speeds_kmh=speeds_kmh,
        walk_speed_mps=walk_speed_mps,
        to_crs=to_crs,
        cache=cache,
        cache_dir=cache_dir,
    )[mode]
