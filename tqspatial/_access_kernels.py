"""Numba kernels for the accessibility engine (plumbing; see :mod:`tqspatial.accessibility`).

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
from numba import njit

WEIGHT_NONE = 0
WEIGHT_STEP = 1
WEIGHT_GAUSSIAN = 2
#: Label of a node whose facility is not known yet (propagate_labels).
UNKNOWN = -2


@njit(cache=True, nogil=True)
def weight(cost_min: float, kind: int, params: Any, steps_weight: Any) -> float:  # noqa: ANN401
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
def _push(keys: Any, vals: Any, size: int, key: float, val: int) -> int:  # noqa: ANN401
    """Push onto a binary min-heap stored in two arrays; return the new size."""
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        vals[parent], vals[i] = vals[i], vals[parent]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _pop(keys: Any, vals: Any, size: int) -> Any:  # noqa: ANN401
    """Pop the smallest key; return (key, value, new size)."""
    key = keys[0]
    val = vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        vals[child], vals[i] = vals[i], vals[child]
        i = child
    return key, val, size


@njit(cache=True, nogil=True)
def bounded_search(  # noqa: PLR0917
    source: int,
    limit: float,
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    dist: Any,  # noqa: ANN401
    settled: Any,  # noqa: ANN401
    touched: Any,  # noqa: ANN401
    keys: Any,  # noqa: ANN401
    vals: Any,  # noqa: ANN401
) -> int:
    """Dijkstra from ``source`` up to ``limit``; return how many nodes were settled.

    ``dist`` must be all-inf and ``settled`` all-False on entry; the settled
    nodes are listed in ``touched[:count]`` (their ``dist`` is final).  The
    caller resets both arrays for the touched nodes afterwards (see
    :func:`reset`), so each search costs what it reaches, not the network size.
    """
    count = 0
    size = _push(keys, vals, 0, 0.0, source)
    dist[source] = 0.0
    while size > 0:
        d, u, size = _pop(keys, vals, size)
        if settled[u] or d > dist[u]:
            continue
        if d > limit:  # cannot happen (pushes are bounded); kept as a guard
            dist[u] = np.inf
            break
        settled[u] = True
        touched[count] = u
        count += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v] and nd <= limit:
                dist[v] = nd
                size = _push(keys, vals, size, nd, v)
    # nodes pushed but not settled keep a finite dist: clear them too
    for i in range(size):
        v = vals[i]
        if not settled[v]:
            dist[v] = np.inf
    return count


@njit(cache=True, nogil=True)
def reset(dist: Any, settled: Any, touched: Any, count: int) -> None:  # noqa: ANN401
    """Restore ``dist``/``settled`` after a :func:`bounded_search`."""
    for i in range(count):
        dist[touched[i]] = np.inf
        settled[touched[i]] = False


@njit(cache=True, nogil=True)
def catchments(  # noqa: PLR0917
    facilities: Any,  # noqa: ANN401
    fac_node: Any,  # noqa: ANN401
    fac_conn_s: Any,  # noqa: ANN401
    fac_supply: Any,  # noqa: ANN401
    indptr: Any,  # noqa: ANN401
    indices: Any,  # noqa: ANN401
    weights: Any,  # noqa: ANN401
    node_ptr: Any,  # noqa: ANN401
    node_parcels: Any,  # noqa: ANN401
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
) -> None:
    """One bounded search per facility (reversed graph): 2SFCA steps 1 and 2 and counts.

    Parcels at node ``v`` are ``node_parcels[node_ptr[v]:node_ptr[v + 1]]``.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    settled = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(indices.shape[0] + 1)
    vals = np.empty(indices.shape[0] + 1, dtype=np.int64)
    for f in facilities:
        limit = max_cost_min * 60.0 - fac_conn_s[f]
        if limit < 0:
            fac_demand[f] = 0.0
            continue
        count = bounded_search(
            fac_node[f], limit, indptr, indices, weights, dist, settled, touched, keys, vals
        )
        total = 0.0
        for i in range(count):
            v = touched[i]
            for k in range(node_ptr[v], node_ptr[v + 1]):
                p = node_parcels[k]
                c = (dist[v] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
                if c <= max_cost_min:
                    total += parcel_demand[p] * weight(c, kind, params, steps_weight)
        fac_demand[f] = total
        ratio = fac_supply[f] / total if total > 0.0 else 0.0
        for i in range(count):
            v = touched[i]
            for k in range(node_ptr[v], node_ptr[v + 1]):
                p = node_parcels[k]
                c = (dist[v] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
                if c <= max_cost_min:
                    counts[p] += 1
                    supply_within[p] += fac_supply[f]
                    access[p] += weight(c, kind, params, steps_weight) * ratio
        reset(dist, settled, touched, count)


@njit(cache=True, nogil=True)
def propagate_labels(pred: Any, seed_label: Any, source: int) -> Any:  # noqa: ANN401
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
