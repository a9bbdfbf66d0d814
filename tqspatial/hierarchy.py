"""A contraction hierarchy over a compiled road network: exact shortest paths, fast.

**What it is.** Nodes are *contracted* one by one, the node whose removal
adds the fewest shortcuts first (edge difference, plus terms for contracted
neighbours and for depth, after Geisberger et al. 2008, "Contraction
Hierarchies: Faster and Simpler Hierarchical Routing in Road Networks");
priorities are re-evaluated lazily when a node reaches the top of the queue,
and a contracted node's neighbours are only bumped (re-simulating them is
much slower on uniform walking grids for little gain).  Contracting ``v``
adds a shortcut ``u -> x`` of cost ``w(u, v) + w(v, x)`` unless a local
search from ``u`` that avoids ``v`` finds a path at most as cheap (a
*witness*).  The witness search is bounded (``WITNESS_SETTLE_LIMIT`` nodes): a
missed witness only adds a needless shortcut, so every distance stays exact.
Every shortest path then has an equivalent path that first climbs in rank
and then descends.

**Queries.**

* *one-to-all* (PHAST, Delling et al. 2011): an upward search from the source,
  then one sweep over all nodes in descending rank relaxing downward edges;
  the sweep reads memory in order (nodes are renumbered by rank), so a full
  tree costs a few milliseconds on 100,000 nodes.  Used for catchments
  (counts within T, 2SFCA, opportunities) and for the nearest facility (many
  sources in one sweep, each node labelled with its nearest source).
* *many-to-many* (bucket algorithm, Knopp et al. 2007): upward searches from
  every target store ``(target, cost)`` in buckets at the nodes they reach;
  upward searches from every origin scan those buckets.  Used for OD matrices.

**Exactness.** Costs equal plain Dijkstra up to floating-point summation
order (a shortcut sums its two halves first): tests require differences
<= 1e-9 s against :func:`scipy.sparse.csgraph.dijkstra` on graphs with
one-way streets, parallel and zero-length edges.  A catchment threshold that a
cost meets *exactly* could flip by that rounding (never seen on real data).

**Cache.** :func:`hierarchy_of` builds the hierarchy once per network and
weight and keeps it with the network: in memory for the network object, and
on disk in ``<network cache>.ch-<weight>.npz`` beside the network's ``.npz``
cache (``meta["cache_file"]``, set by :func:`tqspatial.network.load_networks`),
keyed by a checksum of the CSR arrays and :data:`HIERARCHY_VERSION`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
import weakref
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from tqspatial import _hierarchy_kernels as kern
from tqspatial.network import CompiledNetwork

__all__ = ["HIERARCHY_VERSION", "Hierarchy", "build_hierarchy", "hierarchy_of"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Weight = Literal["time_s", "length_m"]

#: Bump when the hierarchy layout or its construction changes (invalidates caches).
HIERARCHY_VERSION = 1
#: Nodes settled by one witness search before giving up (more: fewer shortcuts, slower build).
WITNESS_SETTLE_LIMIT = 100

_ARRAYS = ("rank", "order", "up_ptr", "up_idx", "up_w", "down_ptr", "down_idx", "down_w")


@dataclasses.dataclass(frozen=True, eq=False)
class Hierarchy:
    """Contraction hierarchy of one network and weight, in rank space.

    Attributes
    ----------
    rank : numpy.ndarray
        Rank of each network node (0 = contracted first).
    order : numpy.ndarray
        Network node at each rank (inverse of ``rank``).
    up_ptr, up_idx, up_w : numpy.ndarray
        For rank ``r``: edges ``r -> s`` with ``s > r`` (CSR by ``r``).
    down_ptr, down_idx, down_w : numpy.ndarray
        For rank ``r``: edges ``s -> r`` with ``s > r`` (CSR by ``r``, ``idx`` = ``s``).
    checksum : str
        SHA-256 of the network arrays and weight the hierarchy was built from.
    """

    rank: IntArray
    order: IntArray
    up_ptr: IntArray
    up_idx: IntArray
    up_w: FloatArray
    down_ptr: IntArray
    down_idx: IntArray
    down_w: FloatArray
    checksum: str

    @property
    def n_nodes(self) -> int:
        """Number of nodes.

        Returns
        -------
        int
            Node count.
        """
        return len(self.rank)

    @property
    def n_edges(self) -> int:
        """Number of hierarchy edges (original edges and shortcuts).

        Returns
        -------
        int
            Edge count.
        """
        return len(self.up_idx) + len(self.down_idx)

    def _search(self, *, reverse: bool) -> tuple[IntArray, IntArray, FloatArray]:
        return (
            (self.down_ptr, self.down_idx, self.down_w)
            if reverse
            else (self.up_ptr, self.up_idx, self.up_w)
        )

    def _sweep(self, *, reverse: bool) -> tuple[IntArray, IntArray, FloatArray]:
        return self._search(reverse=not reverse)

    def one_to_all(
        self,
        sources: npt.ArrayLike,
        *,
        start_cost: npt.ArrayLike | None = None,
        reverse: bool = False,
        limit: float = np.inf,
    ) -> FloatArray:
        """Cost from each source to every node (or from every node to it: ``reverse``).

        Parameters
        ----------
        sources : array-like of int
            Network nodes.
        start_cost : array-like of float, optional
            Cost already spent at each source (default 0).
        reverse : bool, default False
            Costs *to* the sources (searches follow edges backwards).
        limit : float, default inf
            Prune the upward search beyond this cost (the sweep still fills
            every node; nodes beyond may be inf or exact).

        Returns
        -------
        numpy.ndarray
            ``(len(sources), n_nodes)`` costs in network node order, inf when
            unreachable.

        Examples
        --------
        >>> from tqspatial.network import toy_network
        >>> build_hierarchy(toy_network(), "length_m").one_to_all([0]).tolist()
        [[0.0, 100.0, 200.0]]
        """
        src = np.asarray(sources, dtype=np.int64).reshape(-1)
        start = (
            np.zeros(len(src))
            if start_cost is None
            else np.asarray(start_cost, dtype=np.float64).reshape(-1)
        )
        out = np.full((len(src), self.n_nodes), np.inf)
        kern._one_to_all(
            *self._search(reverse=reverse), *self._sweep(reverse=reverse), self.rank[src], start,
            float(limit), out,
        )  # fmt: skip
        return out[:, self.rank]

    def many_to_many(self, origins: npt.ArrayLike, targets: npt.ArrayLike) -> FloatArray:
        """Cost matrix from origins to targets (bucket many-to-many).

        Parameters
        ----------
        origins, targets : array-like of int
            Network nodes.

        Returns
        -------
        numpy.ndarray
            ``(len(origins), len(targets))`` costs, inf when unreachable.

        Examples
        --------
        >>> from tqspatial.network import toy_network
        >>> build_hierarchy(toy_network(), "length_m").many_to_many([0, 2], [1]).tolist()
        [[100.0], [100.0]]
        """
        o = np.asarray(origins, dtype=np.int64).reshape(-1)
        t = np.asarray(targets, dtype=np.int64).reshape(-1)
        out = np.full((len(o), len(t)), np.inf)
        kern._many_to_many(
            self.up_ptr, self.up_idx, self.up_w, self.down_ptr, self.down_idx, self.down_w,
            self.rank[o], self.rank[t], out,
        )  # fmt: skip
        return out

    def nearest(
        self,
        sources: npt.ArrayLike,
        start_cost: npt.ArrayLike,
        *,
        reverse: bool = True,
    ) -> tuple[FloatArray, IntArray]:
        """Cost from every node to its nearest source, and which source (one sweep).

        Parameters
        ----------
        sources : array-like of int
            Network nodes of the sources (e.g. facilities).
        start_cost : array-like of float
            Cost at each source (e.g. its connector).
        reverse : bool, default True
            ``True``: cost from the node *to* the source; ``False``: from the source.

        Returns
        -------
        cost : numpy.ndarray
            Per network node, inf when no source is reachable.
        source : numpy.ndarray
            Position in ``sources`` of the nearest source, -1 when none.

        Examples
        --------
        >>> from tqspatial.network import toy_network
        >>> h = build_hierarchy(toy_network(), "length_m")
        >>> cost, which = h.nearest([0, 2], [50.0, 0.0])
        >>> cost.tolist(), which.tolist()
        ([50.0, 100.0, 0.0], [0, 1, 1])
        """
        src = np.asarray(sources, dtype=np.int64).reshape(-1)
        start = np.asarray(start_cost, dtype=np.float64).reshape(-1)
        dist, label = kern._nearest(
            *self._search(reverse=reverse), *self._sweep(reverse=reverse), self.rank[src], start,
            np.arange(len(src), dtype=np.int64),
        )  # fmt: skip
        return dist[self.rank], label[self.rank]


def _checksum(net: CompiledNetwork, weight: Weight) -> str:
    digest = hashlib.sha256()
    for array in (net.indptr, net.indices, getattr(net, weight)):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(f"{weight}:{HIERARCHY_VERSION}:{WITNESS_SETTLE_LIMIT}".encode())
    return digest.hexdigest()


def _csr(
    row: IntArray, col: IntArray, w: FloatArray, n: int
) -> tuple[IntArray, IntArray, FloatArray]:
    order = np.lexsort((col, row))
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=ptr[1:])
    return ptr, col[order].astype(np.int64), w[order].astype(np.float64)


def build_hierarchy(net: CompiledNetwork, weight: Weight = "time_s") -> Hierarchy:
    """Contract a network (no cache; see :func:`hierarchy_of`).

    Parameters
    ----------
    net : CompiledNetwork
        The network.
    weight : {"time_s", "length_m"}, default "time_s"
        Edge cost.

    Returns
    -------
    Hierarchy
        The hierarchy in rank space.

    Raises
    ------
    ValueError
        If ``weight`` is not a network weight or has negative or non-finite values.

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> build_hierarchy(toy_network()).n_nodes
    3
    """
    if weight not in {"time_s", "length_m"}:
        msg = f"weight must be 'time_s' or 'length_m', got {weight!r}"
        raise ValueError(msg)
    w = np.asarray(getattr(net, weight), dtype=np.float64)
    if len(w) and not (np.isfinite(w).all() and (w >= 0).all()):
        msg = f"network {weight} has negative or non-finite edge costs; recompile the network"
        raise ValueError(msg)
    started = time.perf_counter()
    rank, eu, ev, ew = kern._contract(
        net.indptr.astype(np.int64),
        net.indices.astype(np.int64),
        w,
        WITNESS_SETTLE_LIMIT,
        recompute=False,  # neighbours bumped, not re-simulated: robust on uniform grids
    )
    ru, rv = rank[eu], rank[ev]
    up = ru < rv
    n = net.n_nodes
    up_ptr, up_idx, up_w = _csr(ru[up], rv[up], ew[up], n)
    down_ptr, down_idx, down_w = _csr(rv[~up], ru[~up], ew[~up], n)
    order = np.empty(n, dtype=np.int64)
    order[rank] = np.arange(n)
    hier = Hierarchy(
        rank=rank, order=order, up_ptr=up_ptr, up_idx=up_idx, up_w=up_w, down_ptr=down_ptr,
        down_idx=down_idx, down_w=down_w, checksum=_checksum(net, weight),
    )  # fmt: skip
    logger.info(
        "contraction hierarchy (%s): %d nodes, %d edges (%d in the network) in %.2f s",
        weight,
        n,
        hier.n_edges,
        net.n_edges,
        time.perf_counter() - started,
    )
    return hier


_MEMORY: weakref.WeakKeyDictionary[CompiledNetwork, dict[str, Hierarchy]] = (
    weakref.WeakKeyDictionary()
)


def _cache_file(net: CompiledNetwork, weight: Weight) -> Path | None:
    source = net.meta.get("cache_file")
    if not source:
        return None
    path = Path(str(source))
    return path.with_name(f"{path.name}.ch-{weight}.npz")


def _read(path: Path, checksum: str) -> Hierarchy | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["checksum"]) != checksum:
                logger.info("hierarchy cache %s is stale (network changed); rebuilding", path)
                return None
            return Hierarchy(checksum=checksum, **{name: data[name] for name in _ARRAYS})
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("hierarchy cache %s unreadable (%s); rebuilding", path, exc)
        return None


def _write(path: Path, hier: Hierarchy) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                checksum=np.array(hier.checksum),
                **{name: getattr(hier, name) for name in _ARRAYS},
            )
        tmp.replace(path)  # atomic, like the network cache
    except OSError as exc:
        logger.warning("could not write hierarchy cache %s (%s); continuing without", path, exc)
        tmp.unlink(missing_ok=True)


def hierarchy_of(net: CompiledNetwork, weight: Weight = "time_s") -> Hierarchy:
    """Return the network's hierarchy: from memory, from the disk cache, or built once.

    Parameters
    ----------
    net : CompiledNetwork
        The network (loaded through :func:`tqspatial.network.load_networks` to
        get the disk cache).
    weight : {"time_s", "length_m"}, default "time_s"
        Edge cost.

    Returns
    -------
    Hierarchy
        The same object on every call for the same network object and weight.

    Examples
    --------
    >>> from tqspatial.network import toy_network
    >>> net = toy_network()
    >>> hierarchy_of(net) is hierarchy_of(net)
    True
    """
    known = _MEMORY.setdefault(net, {})
    if weight in known:
        return known[weight]
    checksum = _checksum(net, weight)
    path = _cache_file(net, weight)
    hier = _read(path, checksum) if path is not None else None
    if hier is None:
        hier = build_hierarchy(net, weight)
        if path is not None:
            _write(path, hier)
    known[weight] = hier
    return hier
