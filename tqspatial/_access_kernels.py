"""Kernels of the accessibility engine (plumbing; see :mod:`tqspatial.accessibility`).

With numba installed (the ``[fast]`` extra) the searches are compiled loops
(:func:`_catchments_numba`, :func:`_propagate_labels_numba`); without it the
same results come from scipy's ``csgraph.dijkstra`` and numpy
(:func:`_catchments_scipy`, :func:`_propagate_labels_numpy`).  The names
:func:`_catchments` and :func:`_propagate_labels` are whichever is available;
the two paths agree to 1e-12 (tested on the embedded dataset).

Weights (decay) are coded as ``kind``: 0 = none (1 within the catchment),
1 = step (``steps_upper`` minutes, ``steps_weight``; first threshold >= cost),
2 = Gaussian ``exp(-c^2 / (2 sigma^2))`` with ``sigma = params[0]`` minutes.
Costs are ``(network + parcel connector + facility connector) / 60`` minutes,
summed in that order everywhere so that every path gives identical floats.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from tqspatial._jit import HAVE_NUMBA, njit

WEIGHT_NONE = 0
WEIGHT_STEP = 1
WEIGHT_GAUSSIAN = 2
#: Label of a node whose facility is not known yet (propagate_labels).
UNKNOWN = -2
#: ``pos`` of a node settled by a search.
SETTLED = -2


@njit(cache=True, nogil=True)
def _weight(cost_min: float, kind: int, params: Any, steps_weight: Any) -> float:  # noqa: ANN401
    """Decay weight of a cost in minutes."""
    if kind == WEIGHT_NONE:
        return 1.0
    if kind == WEIGHT_STEP:
        for i in range(params.shape[0]):
            if cost_min <= params[i]:
                return float(steps_weight[i])
        return 0.0
    sigma = params[0]
    return math.exp(-cost_min * cost_min / (2.0 * sigma * sigma))


@njit(cache=True, nogil=True)
def _sift_up(keys: Any, vals: Any, pos: Any, i: int) -> None:  # noqa: ANN401
    """Move heap entry ``i`` up to its place (``pos`` tracks each node's heap slot)."""
    key = keys[i]
    val = vals[i]
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        pos[vals[i]] = i
        i = parent
    keys[i] = key
    vals[i] = val
    pos[val] = i


@njit(cache=True, nogil=True)
def _sift_down(keys: Any, vals: Any, pos: Any, size: int) -> None:  # noqa: ANN401
    """Move the root down to its place."""
    _sift_down_from(keys, vals, pos, size, 0)


@njit(cache=True, nogil=True)
def _sift_down_from(keys: Any, vals: Any, pos: Any, size: int, i: int) -> None:  # noqa: ANN401
    """Move entry ``i`` down to its place."""
    key = keys[i]
    val = vals[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if key <= keys[child]:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        pos[vals[i]] = i
        i = child
    keys[i] = key
    vals[i] = val
    pos[val] = i


@njit(cache=True, nogil=True)
def _bounded_search(  # noqa: PLR0917
    source: int,
    limit: float,
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    dist: Any,  # noqa: ANN401
    pos: Any,  # noqa: ANN401
    touched: Any,  # noqa: ANN401
    keys: Any,  # noqa: ANN401
    vals: Any,  # noqa: ANN401
) -> int:
    """Dijkstra from ``source`` up to ``limit``; return how many nodes were settled.

    An indexed binary heap with decrease-key (``pos[v]`` = heap slot, -1 when
    not queued, -2 once settled).  ``dist`` must be all-inf and ``pos`` all -1
    on entry; the settled nodes are ``touched[:count]`` in settling order, with
    final ``dist``.  The caller restores both arrays for those nodes (see
    :func:`_reset`), so a search costs what it reaches, not the network size.
    """
    count = 0
    size = 1
    keys[0] = 0.0
    vals[0] = source
    pos[source] = 0
    dist[source] = 0.0
    while size > 0:
        u = vals[0]
        d = keys[0]
        size -= 1
        if size > 0:
            keys[0] = keys[size]
            vals[0] = vals[size]
            pos[vals[0]] = 0
            _sift_down(keys, vals, pos, size)
        pos[u] = SETTLED
        touched[count] = u
        count += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v] and nd <= limit:
                dist[v] = nd
                if pos[v] == -1:
                    keys[size] = nd
                    vals[size] = v
                    size += 1
                    _sift_up(keys, vals, pos, size - 1)
                else:  # queued (settled nodes never improve: weights are >= 0)
                    keys[pos[v]] = nd
                    _sift_up(keys, vals, pos, pos[v])
    return count


@njit(cache=True, nogil=True)
def _bucket_search(  # noqa: PLR0917
    source: int,
    limit: float,
    width: float,
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    dist: Any,  # noqa: ANN401
    pos: Any,  # noqa: ANN401
    touched: Any,  # noqa: ANN401
    head: Any,  # noqa: ANN401
    entry_node: Any,  # noqa: ANN401
    entry_next: Any,  # noqa: ANN401
) -> int:
    """Dijkstra with buckets of ``width`` <= the smallest edge weight (Dinitz).

    Every node in the lowest non-empty bucket is final: a path through another
    node of the same bucket adds at least ``width``.  Same contract as
    :func:`_bounded_search` (``pos`` marks settled nodes with -2); ``head``
    (one slot per bucket) must be all -1 on entry and is left so.
    """
    n_buckets = head.shape[0]
    count = 0
    n_entries = 1
    entry_node[0] = source
    entry_next[0] = -1
    head[0] = 0
    dist[source] = 0.0
    for b in range(n_buckets):
        e = head[b]
        head[b] = -1
        while e >= 0:
            u = entry_node[e]
            e = entry_next[e]
            if pos[u] == SETTLED:
                continue
            pos[u] = SETTLED
            touched[count] = u
            count += 1
            d = dist[u]
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                nd = d + weights[k]
                if nd < dist[v] and nd <= limit:
                    dist[v] = nd
                    nb = int(nd / width)
                    if nb <= b:  # rounding at a bucket edge: the next bucket is still exact
                        nb = b + 1
                    if nb >= n_buckets:
                        nb = n_buckets - 1
                    entry_node[n_entries] = v
                    entry_next[n_entries] = head[nb]
                    head[nb] = n_entries
                    n_entries += 1
    return count


@njit(cache=True, nogil=True)
def _reset(dist: Any, pos: Any, touched: Any, count: int) -> None:  # noqa: ANN401
    """Restore ``dist``/``pos`` after a :func:`_bounded_search` (the heap ends empty)."""
    for i in range(count):
        dist[touched[i]] = np.inf
        pos[touched[i]] = -1


@njit(cache=True, nogil=True)
def _catchments_numba(  # noqa: PLR0917
    facilities: Any,  # noqa: ANN401
    fac_node: Any,  # noqa: ANN401
    fac_conn_s: Any,  # noqa: ANN401
    fac_supply: Any,  # noqa: ANN401
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    node_ptr: Any,  # noqa: ANN401
    parcel_conn_s: Any,  # noqa: ANN401
    parcel_demand: Any,  # noqa: ANN401
    max_cost_min: float,
    kind: int,
    params: Any,  # noqa: ANN401
    steps_weight: Any,  # noqa: ANN401
    counts: Any,  # noqa: ANN401
    supply_within: Any,  # noqa: ANN401
    access: Any,  # noqa: ANN401
    fac_demand: Any,  # noqa: ANN401
    bucket_width: float,
) -> None:
    """One bounded search per facility (reversed graph): 2SFCA steps 1 and 2 and counts.

    Parcel arrays (connectors, demand and the outputs) are sorted by node: the
    parcels at node ``v`` are positions ``node_ptr[v]:node_ptr[v + 1]``, so the
    inner loops read memory in order.  With ``bucket_width > 0`` (at most the
    smallest edge weight) searches use :func:`_bucket_search`, else the heap.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(n)
    vals = np.empty(n, dtype=np.int64)
    n_buckets = int(max_cost_min * 60.0 / bucket_width) + 2 if bucket_width > 0 else 1
    head = np.full(n_buckets, -1, dtype=np.int64)
    entry_node = np.empty(indices.shape[0] + 1, dtype=np.int64)
    entry_next = np.empty(indices.shape[0] + 1, dtype=np.int64)
    for f in facilities:
        limit = max_cost_min * 60.0 - fac_conn_s[f]
        if limit < 0:
            fac_demand[f] = 0.0
            continue
        if bucket_width > 0:
            count = _bucket_search(
                fac_node[f], limit, bucket_width, indptr, indices, weights, dist, pos,
                touched, head, entry_node, entry_next,
            )  # fmt: skip
        else:
            count = _bounded_search(
                fac_node[f], limit, indptr, indices, weights, dist, pos, touched, keys, vals
            )
        total = 0.0
        for i in range(count):
            v = touched[i]
            for p in range(node_ptr[v], node_ptr[v + 1]):
                c = (dist[v] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
                if c <= max_cost_min:
                    total += parcel_demand[p] * _weight(c, kind, params, steps_weight)
        fac_demand[f] = total
        ratio = fac_supply[f] / total if total > 0.0 else 0.0
        for i in range(count):
            v = touched[i]
            for p in range(node_ptr[v], node_ptr[v + 1]):
                c = (dist[v] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
                if c <= max_cost_min:
                    counts[p] += 1
                    supply_within[p] += fac_supply[f]
                    access[p] += _weight(c, kind, params, steps_weight) * ratio
        _reset(dist, pos, touched, count)


@njit(cache=True, nogil=True)
def _propagate_labels_numba(pred: Any, seed_label: Any, source: int) -> Any:  # noqa: ANN401
    """Label every node with the seed (facility) at the root of its shortest-path tree branch."""
    n = seed_label.shape[0]
    label = np.full(n, UNKNOWN, dtype=np.int64)  # -1: unreachable
    path = np.empty(n, dtype=np.int64)
    for start in range(n):
        depth = 0
        v = start
        found = -1
        while True:
            if label[v] != UNKNOWN:
                found = label[v]
                break
            parent = pred[v]
            if parent == source:
                found = seed_label[v]
                path[depth] = v
                depth += 1
                break
            if parent < 0:
                found = -1
                path[depth] = v
                depth += 1
                break
            path[depth] = v
            depth += 1
            v = parent
        for i in range(depth):
            label[path[i]] = found
    return label


#: Facilities searched together by :func:`_catchments_scipy` (one dense row of distances each).
SCIPY_BATCH = 64


def _weights_of(cost_min: Any, kind: int, params: Any, steps_weight: Any) -> Any:  # noqa: ANN401
    """Vectorised :func:`_weight` (same operations, so the same floats)."""
    if kind == WEIGHT_NONE:
        return np.ones(len(cost_min))
    if kind == WEIGHT_STEP:
        slot = np.searchsorted(params, cost_min, side="left")
        inside = slot < params.shape[0]
        return np.where(inside, steps_weight[np.minimum(slot, params.shape[0] - 1)], 0.0)
    sigma = params[0]
    return np.exp(-cost_min * cost_min / (2.0 * sigma * sigma))


def _catchments_scipy(  # noqa: PLR0917
    facilities: Any,  # noqa: ANN401
    fac_node: Any,  # noqa: ANN401
    fac_conn_s: Any,  # noqa: ANN401
    fac_supply: Any,  # noqa: ANN401
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    node_ptr: Any,  # noqa: ANN401
    parcel_conn_s: Any,  # noqa: ANN401
    parcel_demand: Any,  # noqa: ANN401
    max_cost_min: float,
    kind: int,
    params: Any,  # noqa: ANN401
    steps_weight: Any,  # noqa: ANN401
    counts: Any,  # noqa: ANN401
    supply_within: Any,  # noqa: ANN401
    access: Any,  # noqa: ANN401
    fac_demand: Any,  # noqa: ANN401
    bucket_width: float,  # noqa: ARG001 - the numba kernel's search choice; same result
) -> None:
    """:func:`_catchments_numba` with scipy's Dijkstra: same arguments, same outputs.

    Facilities are searched :data:`SCIPY_BATCH` at a time up to the largest
    limit of the batch; each facility then keeps the nodes within its own
    limit, exactly the nodes the bounded search settles.  Outputs accumulate
    facility by facility in the given order, as in the numba kernel.
    """
    n = indptr.shape[0] - 1
    graph = sp.csr_matrix((weights, indices, indptr), shape=(n, n))
    facilities = np.asarray(facilities, dtype=np.int64)
    limits = max_cost_min * 60.0 - fac_conn_s[facilities]
    fac_demand[facilities[limits < 0]] = 0.0
    todo = facilities[limits >= 0]
    for start in range(0, len(todo), SCIPY_BATCH):
        batch = todo[start : start + SCIPY_BATCH]
        batch_limits = max_cost_min * 60.0 - fac_conn_s[batch]
        dist = dijkstra(graph, indices=fac_node[batch], limit=float(batch_limits.max()))
        for row, f in enumerate(batch):
            d = dist[row]
            nodes = np.flatnonzero(d <= batch_limits[row])
            lo, hi = node_ptr[nodes], node_ptr[nodes + 1]
            sizes = hi - lo
            parcels = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            cost = (np.repeat(d[nodes], sizes) + parcel_conn_s[parcels] + fac_conn_s[f]) / 60.0
            keep = cost <= max_cost_min
            parcels, cost = parcels[keep], cost[keep]
            w = _weights_of(cost, kind, params, steps_weight)
            total = float(np.sum(parcel_demand[parcels] * w))
            fac_demand[f] = total
            ratio = fac_supply[f] / total if total > 0.0 else 0.0
            counts[parcels] += 1
            supply_within[parcels] += fac_supply[f]
            access[parcels] += w * ratio


def _propagate_labels_numpy(pred: Any, seed_label: Any, source: int) -> Any:  # noqa: ANN401
    """:func:`_propagate_labels_numba` by pointer doubling (same labels)."""
    n = seed_label.shape[0]
    pred = np.asarray(pred, dtype=np.int64)
    stop = (pred == source) | (pred < 0)
    root = np.where(stop, np.arange(n), pred)
    while True:  # each pass halves the distance to the branch root
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.where(pred[root] == source, seed_label[root], -1).astype(np.int64)


_catchments = _catchments_numba if HAVE_NUMBA else _catchments_scipy
_propagate_labels = _propagate_labels_numba if HAVE_NUMBA else _propagate_labels_numpy
