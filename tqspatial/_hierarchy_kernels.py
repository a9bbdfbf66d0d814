# mypy: allow-untyped-defs
"""Numba kernels of the contraction hierarchy (plumbing; see :mod:`tqspatial.hierarchy`).

Contraction works on an edge pool with per-node linked lists of out- and
in-edges (``eu``, ``ev``, ``ew``; ``out_head``/``out_next``, ``in_head``/``in_next``);
an edge to or from a contracted node stays in the pool (it is an edge of the
hierarchy) and is skipped by later contractions.  Queries work on the graph
renumbered by rank (rank 0 contracted first): ``up`` holds, for rank ``r``,
the edges ``r -> s`` with ``s > r``; ``down`` holds, for rank ``r``, the edges
``s -> r`` with ``s > r``.
"""

from __future__ import annotations

import numpy as np

from tqspatial._access_kernels import SETTLED, _sift_down, _sift_down_from, _sift_up, _weight
from tqspatial._jit import njit

# ruff: noqa: ANN001, ANN202, PLR0917, PLR0912, PLR0915


@njit(cache=True, nogil=True)
def _heap_update(keys, vals, pos, size, v, key):
    """Set the key of ``v`` (queued at ``pos[v]``, or appended when -1); return the heap size."""
    i = pos[v]
    if i < 0:
        keys[size] = key
        vals[size] = v
        pos[v] = size
        _sift_up(keys, vals, pos, size)
        return size + 1
    old = keys[i]
    keys[i] = key
    if key < old:
        _sift_up(keys, vals, pos, i)
    else:
        _sift_down_from(keys, vals, pos, size, i)
    return size


@njit(cache=True, nogil=True)
def _find_edge(out_head, out_next, ev, u, v):
    """Pool index of the edge ``u -> v`` in ``u``'s out-list, -1 when absent."""
    e = out_head[u]
    while e >= 0:
        if ev[e] == v:
            return e
        e = out_next[e]
    return -1


@njit(cache=True, nogil=True)
def _heap_pop(keys, vals, pos, size):
    """Remove the root; return the new size (the caller read ``vals[0]`` before)."""
    size -= 1
    if size > 0:
        keys[0] = keys[size]
        vals[0] = vals[size]
        pos[vals[0]] = 0
        _sift_down(keys, vals, pos, size)
    return size


class _Pool:  # documentation only: the pool is a tuple of arrays in the kernels
    """Edge pool layout (see the module docstring)."""


@njit(cache=True)
def _grow(arr, size):
    out = np.empty(size, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def _witness(
    source, avoid, limit, settle_limit, out_head, out_next, ev, ew, contracted, dist, pos,
    reached, keys, vals,
):  # fmt: skip
    """Dijkstra from ``source`` avoiding ``avoid`` and contracted nodes, up to ``limit``.

    Stops after ``settle_limit`` settled nodes (a witness missed only adds a
    needless shortcut).  Returns how many nodes were reached (``reached``);
    the caller resets ``dist``/``pos`` for them.
    """
    n_reached = 1
    reached[0] = source
    dist[source] = 0.0
    size = _heap_update(keys, vals, pos, 0, source, 0.0)
    settled = 0
    while size > 0:
        u = vals[0]
        d = keys[0]
        if d > limit:
            break
        size = _heap_pop(keys, vals, pos, size)
        pos[u] = SETTLED
        settled += 1
        if settled > settle_limit:
            break
        prev = -1
        e = out_head[u]
        while e >= 0:
            v = ev[e]
            if contracted[v]:  # unlink: the edge stays in the pool (it is in the hierarchy)
                if prev < 0:
                    out_head[u] = out_next[e]
                else:
                    out_next[prev] = out_next[e]
                e = out_next[e]
                continue
            if v != avoid and pos[v] != SETTLED:
                nd = d + ew[e]
                if nd < dist[v] and nd <= limit:
                    if dist[v] == np.inf:
                        reached[n_reached] = v
                        n_reached += 1
                    dist[v] = nd
                    size = _heap_update(keys, vals, pos, size, v, nd)
            prev = e
            e = out_next[e]
    return n_reached


@njit(cache=True, nogil=True)
def _priority(n_sc, degree, deleted, level):
    """Contraction priority: edge difference, contracted neighbours and depth."""
    return 2.0 * float(n_sc - degree) + deleted + level


@njit(cache=True)
def _simulate(
    v, settle_limit, eu, ev, ew, out_head, out_next, in_head, in_next, contracted, dist, wpos,
    reached, wkeys, wvals, sc,
):  # fmt: skip
    """Shortcuts contracting ``v`` needs now: ``(count, degree, buffers)``; shortcuts in ``sc``."""
    sc_u, sc_v, sc_w = sc
    n_sc = 0
    degree = 0
    e1 = in_head[v]
    prev = -1
    while e1 >= 0:
        u = eu[e1]
        if contracted[u]:  # unlink (the edge stays in the pool)
            if prev < 0:
                in_head[v] = in_next[e1]
            else:
                in_next[prev] = in_next[e1]
            e1 = in_next[e1]
            continue
        prev = e1
        degree += 1
        w1 = ew[e1]
        limit = -1.0
        e2 = out_head[v]
        while e2 >= 0:
            x = ev[e2]
            if x != u and not contracted[x]:
                limit = max(limit, w1 + ew[e2])
            e2 = out_next[e2]
        if limit >= 0:
            cnt = _witness(
                u, v, limit, settle_limit, out_head, out_next, ev, ew, contracted,
                dist, wpos, reached, wkeys, wvals,
            )  # fmt: skip
            e2 = out_head[v]
            while e2 >= 0:
                x = ev[e2]
                c = w1 + ew[e2]
                if x != u and not contracted[x] and dist[x] > c:
                    if n_sc >= sc_u.shape[0]:
                        sc_u = _grow(sc_u, 2 * sc_u.shape[0])
                        sc_v = _grow(sc_v, 2 * sc_v.shape[0])
                        sc_w = _grow(sc_w, 2 * sc_w.shape[0])
                    sc_u[n_sc] = u
                    sc_v[n_sc] = x
                    sc_w[n_sc] = c
                    n_sc += 1
                e2 = out_next[e2]
            for i in range(cnt):
                dist[reached[i]] = np.inf
                wpos[reached[i]] = -1
        e1 = in_next[e1]
    e2 = out_head[v]
    while e2 >= 0:
        if not contracted[ev[e2]]:
            degree += 1
        e2 = out_next[e2]
    return n_sc, degree, (sc_u, sc_v, sc_w)


@njit(cache=True)
def _contract(indptr, indices, weights, settle_limit, recompute):
    """Order and contract every node; return ``rank`` and the edges ``(u, v, w)`` of the hierarchy.

    ``recompute``: recompute the priorities of a contracted node's neighbours
    (better order, slower build) instead of bumping them by one.
    """
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    cap = max(2 * m + 16, 64)
    eu = np.empty(cap, dtype=np.int64)
    ev = np.empty(cap, dtype=np.int64)
    ew = np.empty(cap, dtype=np.float64)
    out_next = np.empty(cap, dtype=np.int64)
    in_next = np.empty(cap, dtype=np.int64)
    out_head = np.full(n, -1, dtype=np.int64)
    in_head = np.full(n, -1, dtype=np.int64)
    n_edges = 0
    for u in range(n):
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if v == u:
                continue
            w = weights[k]
            found = _find_edge(out_head, out_next, ev, u, v)
            if found >= 0:
                ew[found] = min(ew[found], w)
                continue
            eu[n_edges] = u
            ev[n_edges] = v
            ew[n_edges] = w
            out_next[n_edges] = out_head[u]
            out_head[u] = n_edges
            in_next[n_edges] = in_head[v]
            in_head[v] = n_edges
            n_edges += 1

    contracted = np.zeros(n, dtype=np.bool_)
    deleted = np.zeros(n, dtype=np.float64)
    level = np.zeros(n, dtype=np.float64)
    rank = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    wpos = np.full(n, -1, dtype=np.int64)
    reached = np.empty(n, dtype=np.int64)
    wkeys = np.empty(n)
    wvals = np.empty(n, dtype=np.int64)
    # shortcut buffer of one contraction
    sc_u = np.empty(64, dtype=np.int64)
    sc_v = np.empty(64, dtype=np.int64)
    sc_w = np.empty(64, dtype=np.float64)

    pkeys = np.empty(n)
    pvals = np.empty(n, dtype=np.int64)
    ppos = np.full(n, -1, dtype=np.int64)
    psize = 0

    sc = (sc_u, sc_v, sc_w)
    for v in range(n):  # initial priorities
        n_sc, degree, sc = _simulate(
            v, settle_limit, eu, ev, ew, out_head, out_next, in_head, in_next, contracted,
            dist, wpos, reached, wkeys, wvals, sc,
        )  # fmt: skip
        psize = _heap_update(pkeys, pvals, ppos, psize, v, _priority(n_sc, degree, 0.0, 0.0))

    next_rank = 0
    while psize > 0:
        v = pvals[0]
        # recompute the priority (lazy update); contract when v is still the smallest
        n_sc, degree, sc = _simulate(
            v, settle_limit, eu, ev, ew, out_head, out_next, in_head, in_next, contracted,
            dist, wpos, reached, wkeys, wvals, sc,
        )  # fmt: skip
        psize = _heap_update(
            pkeys, pvals, ppos, psize, v, _priority(n_sc, degree, deleted[v], level[v])
        )
        if pvals[0] != v:
            continue  # another node is now cheaper: contract that one first
        sc_u, sc_v, sc_w = sc
        # contract v: pop it, add its shortcuts, update its neighbours
        psize = _heap_pop(pkeys, pvals, ppos, psize)
        ppos[v] = SETTLED
        contracted[v] = True
        rank[v] = next_rank
        next_rank += 1
        for i in range(n_sc):
            a = sc_u[i]
            b = sc_v[i]
            found = _find_edge(out_head, out_next, ev, a, b)
            if found >= 0:
                ew[found] = min(ew[found], sc_w[i])
                continue
            if n_edges >= cap:
                cap *= 2
                eu = _grow(eu, cap)
                ev = _grow(ev, cap)
                ew = _grow(ew, cap)
                out_next = _grow(out_next, cap)
                in_next = _grow(in_next, cap)
            eu[n_edges] = a
            ev[n_edges] = b
            ew[n_edges] = sc_w[i]
            out_next[n_edges] = out_head[a]
            out_head[a] = n_edges
            in_next[n_edges] = in_head[b]
            in_head[b] = n_edges
            n_edges += 1
        # neighbours: one more contracted neighbour, a level above v; priority recomputed lazily
        for side in range(2):
            e = in_head[v] if side == 0 else out_head[v]
            while e >= 0:
                x = eu[e] if side == 0 else ev[e]
                if not contracted[x]:
                    deleted[x] += 1.0
                    level[x] = max(level[x], level[v] + 1.0)
                    if recompute:
                        n_sc, degree, sc = _simulate(
                            x, settle_limit, eu, ev, ew, out_head, out_next, in_head, in_next,
                            contracted, dist, wpos, reached, wkeys, wvals, sc,
                        )  # fmt: skip
                        key = _priority(n_sc, degree, deleted[x], level[x])
                    else:
                        key = pkeys[ppos[x]] + 1.0
                    psize = _heap_update(pkeys, pvals, ppos, psize, x, key)
                e = in_next[e] if side == 0 else out_next[e]
    return rank, eu[:n_edges].copy(), ev[:n_edges].copy(), ew[:n_edges].copy()


@njit(cache=True, nogil=True)
def _upward(ptr, idx, w, sources, source_dist, source_label, limit, dist, label, pos, touched,
            keys, vals):  # fmt: skip
    """Dijkstra from several ranks (start costs ``source_dist``; -1: none) over one upward graph.

    ``dist`` all-inf and ``pos`` all -1 on entry; the settled ranks are
    ``touched[:count]``; ``label`` takes the source label along the best path.
    """
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if s < 0:
            continue
        d = source_dist[i]
        if d < dist[s] and d <= limit:
            dist[s] = d
            label[s] = source_label[i]
            size = _heap_update(keys, vals, pos, size, s, d)
    count = 0
    while size > 0:
        u = vals[0]
        d = keys[0]
        size = _heap_pop(keys, vals, pos, size)
        pos[u] = SETTLED
        touched[count] = u
        count += 1
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            nd = d + w[e]
            if nd < dist[v] and nd <= limit:
                dist[v] = nd
                label[v] = label[u]
                size = _heap_update(keys, vals, pos, size, v, nd)
    return count


@njit(cache=True, nogil=True)
def _sweep(ptr, idx, w, dist, label):
    """PHAST downward sweep in descending rank: ``dist[r] = min(dist[r], dist[s] + w)``."""
    n = ptr.shape[0] - 1
    for r in range(n - 1, -1, -1):
        d = dist[r]
        lab = label[r]
        for k in range(ptr[r], ptr[r + 1]):
            nd = dist[idx[k]] + w[k]
            if nd < d:
                d = nd
                lab = label[idx[k]]
        dist[r] = d
        label[r] = lab


@njit(cache=True, nogil=True)
def _sweep_plain(ptr, idx, w, dist):
    """:func:`_sweep` without labels."""
    n = ptr.shape[0] - 1
    for r in range(n - 1, -1, -1):
        d = dist[r]
        for k in range(ptr[r], ptr[r + 1]):
            nd = dist[idx[k]] + w[k]
            d = min(d, nd)
        dist[r] = d


@njit(cache=True, nogil=True)
def _one_to_all(search_ptr, search_idx, search_w, sweep_ptr, sweep_idx, sweep_w, sources,
                source_dist, limit, out):  # fmt: skip
    """Distances from each source (rows of ``out``, rank space), upward search + sweep."""
    n = search_ptr.shape[0] - 1
    label = np.zeros(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(n)
    vals = np.empty(n, dtype=np.int64)
    one = np.zeros(1, dtype=np.int64)
    for i in range(sources.shape[0]):
        dist = out[i]
        count = _upward(
            search_ptr, search_idx, search_w, sources[i : i + 1], source_dist[i : i + 1], one,
            limit, dist, label, pos, touched, keys, vals,
        )  # fmt: skip
        for j in range(count):
            pos[touched[j]] = -1
        _sweep_plain(sweep_ptr, sweep_idx, sweep_w, dist)


@njit(cache=True, nogil=True)
def _many_to_many(up_ptr, up_idx, up_w, down_ptr, down_idx, down_w, sources, targets, out):
    """Shortest distances ``out[i, j]`` from source rank ``i`` to target rank ``j`` (buckets)."""
    n = up_ptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.zeros(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(n)
    vals = np.empty(n, dtype=np.int64)
    zero = np.zeros(1)
    one = np.zeros(1, dtype=np.int64)
    # backward upward spaces of the targets, as buckets by rank
    b_node = np.empty(0, dtype=np.int64)
    b_target = np.empty(0, dtype=np.int64)
    b_dist = np.empty(0)
    used = 0
    for j in range(targets.shape[0]):
        count = _upward(
            down_ptr, down_idx, down_w, targets[j : j + 1], zero, one, np.inf, dist, label, pos,
            touched, keys, vals,
        )  # fmt: skip
        if used + count > b_node.shape[0]:
            size = max(2 * b_node.shape[0], used + count)
            b_node = _grow(b_node, size)
            b_target = _grow(b_target, size)
            b_dist = _grow(b_dist, size)
        for k in range(count):
            r = touched[k]
            b_node[used] = r
            b_target[used] = j
            b_dist[used] = dist[r]
            used += 1
            dist[r] = np.inf
            pos[r] = -1
    order = np.argsort(b_node[:used], kind="mergesort")
    bptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(used):
        bptr[b_node[k] + 1] += 1
    for r in range(n):
        bptr[r + 1] += bptr[r]
    bt = b_target[:used][order]
    bd = b_dist[:used][order]
    for i in range(sources.shape[0]):
        row = out[i]
        count = _upward(
            up_ptr, up_idx, up_w, sources[i : i + 1], zero, one, np.inf, dist, label, pos,
            touched, keys, vals,
        )  # fmt: skip
        for k in range(count):
            r = touched[k]
            d = dist[r]
            for b in range(bptr[r], bptr[r + 1]):
                c = d + bd[b]
                row[bt[b]] = min(row[bt[b]], c)
            dist[r] = np.inf
            pos[r] = -1


@njit(cache=True, nogil=True)
def _nearest(search_ptr, search_idx, search_w, sweep_ptr, sweep_idx, sweep_w, sources,
             source_dist, source_label):  # fmt: skip
    """Cost to the nearest source and its label for every rank (multi-source PHAST)."""
    n = search_ptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(n)
    vals = np.empty(n, dtype=np.int64)
    _upward(
        search_ptr, search_idx, search_w, sources, source_dist, source_label, np.inf, dist, label,
        pos, touched, keys, vals,
    )  # fmt: skip
    _sweep(sweep_ptr, sweep_idx, sweep_w, dist, label)
    return dist, label


@njit(cache=True, nogil=True)
def _point_cost(dist, k, j, p_rank, p_part, p, f_edge, f_t, p_edge, p_t, p_wf, p_wb, f):
    """Network cost from parcel ``p`` to the facility in batch column ``j`` (inf if none).

    Via either end of the parcel's edge (``dist`` holds the batch's costs to
    the facility by rank), or straight along the edge when both lie on it.
    """
    d = np.inf
    for a in range(2):
        r = p_rank[p, a]
        if r >= 0:
            c = dist[r * k + j] + p_part[p, a]
            d = min(d, c)
    if p_edge[p] >= 0 and p_edge[p] == f_edge[f]:
        if f_t[f] == p_t[p]:
            d = 0.0
        elif f_t[f] > p_t[p]:
            d = min(d, (f_t[f] - p_t[p]) * p_wf[p])
        else:
            d = min(d, (p_t[p] - f_t[f]) * p_wb[p])
    return d


@njit(cache=True, nogil=True)
def _batch_trees(facilities, start, stop, k, f_rank, f_part, limits, s_ptr, s_idx, s_w, w_ptr,
                 w_idx, w_w, dist, scratch, label, pos, touched, keys, vals):  # fmt: skip
    """Costs to the facilities ``facilities[start:stop]`` for every rank, ``k`` columns at once."""
    n = s_ptr.shape[0] - 1
    dist[:] = np.inf
    for j in range(stop - start):
        f = facilities[start + j]
        if limits[j] < 0:
            continue
        count = _upward(
            s_ptr, s_idx, s_w, f_rank[f], f_part[f], label[:2], limits[j], scratch, label, pos,
            touched, keys, vals,
        )  # fmt: skip
        for i in range(count):
            r = touched[i]
            dist[r * k + j] = scratch[r]
            scratch[r] = np.inf
            pos[r] = -1
    for r in range(n - 1, -1, -1):
        base = r * k
        for e in range(w_ptr[r], w_ptr[r + 1]):
            other = w_idx[e] * k
            we = w_w[e]
            for j in range(k):
                nd = dist[other + j] + we
                dist[base + j] = min(dist[base + j], nd)


@njit(cache=True, nogil=True)
def _catchments_batched(
    facilities, k, f_rank, f_part, f_conn, f_supply, f_edge, f_t, s_ptr, s_idx, s_w, w_ptr,
    w_idx, w_w, parcels, p_rank, p_part, p_conn, p_demand, p_edge, p_t, p_wf, p_wb,
    max_cost_min, kind, params, steps_weight, counts, supply_within, access, fac_demand,
):  # fmt: skip
    """Count, sum supply within reach and do 2SFCA for ``facilities``, ``k`` PHAST trees a sweep.

    Same rules as :func:`tqspatial._access_kernels._catchments`: a pair counts
    when the network cost is within ``max_cost_min * 60 - facility connector``
    and ``(network + parcel connector + facility connector) / 60 <= max_cost_min``.
    Facilities and parcels are attached to up to two ranks (``*_rank``, -1 for
    none) at a network cost (``*_part``); see :func:`_point_cost`.
    """
    n = s_ptr.shape[0] - 1
    dist = np.full(n * k, np.inf)
    scratch = np.full(n, np.inf)
    label = np.zeros(max(n, 2), dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(n)
    vals = np.empty(n, dtype=np.int64)
    limits = np.empty(k)
    totals = np.empty(k)
    ratios = np.empty(k)
    for start in range(0, facilities.shape[0], k):
        stop = min(start + k, facilities.shape[0])
        for j in range(stop - start):
            f = facilities[start + j]
            limits[j] = max_cost_min * 60.0 - f_conn[f]
            totals[j] = 0.0
        _batch_trees(
            facilities, start, stop, k, f_rank, f_part, limits, s_ptr, s_idx, s_w, w_ptr, w_idx,
            w_w, dist, scratch, label, pos, touched, keys, vals,
        )  # fmt: skip
        for i in range(parcels.shape[0]):
            p = parcels[i]
            for j in range(stop - start):
                f = facilities[start + j]
                d = _point_cost(dist, k, j, p_rank, p_part, p, f_edge, f_t, p_edge, p_t, p_wf,
                                p_wb, f)  # fmt: skip
                if d <= limits[j]:
                    c = (d + p_conn[p] + f_conn[f]) / 60.0
                    if c <= max_cost_min:
                        totals[j] += p_demand[p] * _weight(c, kind, params, steps_weight)
        for j in range(stop - start):
            f = facilities[start + j]
            fac_demand[f] = totals[j]
            ratios[j] = f_supply[f] / totals[j] if totals[j] > 0.0 else 0.0
        for i in range(parcels.shape[0]):
            p = parcels[i]
            for j in range(stop - start):
                f = facilities[start + j]
                d = _point_cost(dist, k, j, p_rank, p_part, p, f_edge, f_t, p_edge, p_t, p_wf,
                                p_wb, f)  # fmt: skip
                if d <= limits[j]:
                    c = (d + p_conn[p] + f_conn[f]) / 60.0
                    if c <= max_cost_min:
                        counts[p] += 1
                        supply_within[p] += f_supply[f]
                        access[p] += _weight(c, kind, params, steps_weight) * ratios[j]
