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
def catchment_batch(  # noqa: PLR0917
    dist: Any,  # noqa: ANN401
    fac_rows: Any,  # noqa: ANN401
    fac_conn_s: Any,  # noqa: ANN401
    fac_supply: Any,  # noqa: ANN401
    parcel_node: Any,  # noqa: ANN401
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
    """One batch of facilities: 2SFCA step 1 and 2, counts and supply within the catchment.

    ``dist[j, node]`` is the network time (s) from ``node`` to facility ``fac_rows[j]``.
    """
    n_parcels = parcel_node.shape[0]
    for j in range(dist.shape[0]):
        f = fac_rows[j]
        total = 0.0
        for p in range(n_parcels):
            node = parcel_node[p]
            if node < 0:
                continue
            c = (dist[j, node] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
            if c <= max_cost_min:
                total += parcel_demand[p] * weight(c, kind, params, steps_weight)
        fac_demand[f] = total
        ratio = fac_supply[f] / total if total > 0.0 else 0.0
        for p in range(n_parcels):
            node = parcel_node[p]
            if node < 0:
                continue
            c = (dist[j, node] + parcel_conn_s[p] + fac_conn_s[f]) / 60.0
            if c <= max_cost_min:
                counts[p] += 1
                supply_within[p] += fac_supply[f]
                access[p] += weight(c, kind, params, steps_weight) * ratio


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
