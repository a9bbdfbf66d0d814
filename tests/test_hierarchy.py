"""Contraction hierarchy: exact against scipy's plain Dijkstra; cache beside the network's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from tqspatial import hierarchy, network
from tqspatial.network import _from_edges

TOL_S = 1e-9


def _net(u, v, w, n, *, x=None, y=None, length=None):
    rng = np.random.default_rng(0)
    return _from_edges(
        node_id=np.arange(n),
        x=rng.uniform(0, 1000, n) if x is None else x,
        y=rng.uniform(0, 1000, n) if y is None else y,
        u=np.asarray(u, dtype=np.int64),
        v=np.asarray(v, dtype=np.int64),
        length_m=np.asarray(w if length is None else length, dtype=float),
        time_s=np.asarray(w, dtype=float),
        mode="drive",
        crs="EPSG:4548",
        bridge_name=np.array([], dtype=str),
        bridge_u=np.array([], dtype=np.int64),
        meta={},
    )


def random_net(n, m, seed):
    """Directed random graph: one-way edges, parallel edges, self-loops, zero-length edges."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    w = rng.uniform(0, 120, m).round(rng.integers(0, 3))
    w[rng.random(m) < 0.15] = 0.0
    u = np.concatenate([u, u[:5]])  # parallel edges with other costs
    v = np.concatenate([v, v[:5]])
    w = np.concatenate([w, w[:5] + 1.0])
    return _net(u, v, w, n)


def grid_net(side, seed=0):
    """Jittered grid, every 4th line one-way (alternating), faster every 5th line."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (jj * 110.0 + rng.uniform(-20, 20, (side, side))).ravel()
    y = (ii * 110.0 + rng.uniform(-20, 20, (side, side))).ravel()
    us, vs, lines = [], [], []
    for a, step, line in (
        ((ii[:, :-1] * side + jj[:, :-1]).ravel(), 1, ii[:, :-1].ravel()),
        ((ii[:-1] * side + jj[:-1]).ravel(), side, jj[:-1].ravel()),
    ):
        b = a + step
        one = line % 4 == 1
        fwd = line % 8 == 1
        us += [a[~one], b[~one], np.where(fwd, a, b)[one]]
        vs += [b[~one], a[~one], np.where(fwd, b, a)[one]]
        lines += [line[~one], line[~one], line[one]]
    u, v, line = np.concatenate(us), np.concatenate(vs), np.concatenate(lines)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    speed = np.where(line % 5 == 0, 13.9, 8.3)
    return _net(u, v, length / speed, side * side, x=x, y=y, length=length)


def _check(net, weight="time_s", n_sources=25):
    h = hierarchy.build_hierarchy(net, weight)
    matrix = net.matrix(weight)
    sources = np.linspace(0, net.n_nodes - 1, min(n_sources, net.n_nodes)).astype(int)
    ref = dijkstra(matrix, indices=sources)
    ref_back = dijkstra(matrix.T.tocsr(), indices=sources)
    for got, want in (
        (h.one_to_all(sources), ref),
        (h.one_to_all(sources, reverse=True), ref_back),
        (h.many_to_many(sources, np.arange(net.n_nodes)), ref),
    ):
        assert (np.isfinite(got) == np.isfinite(want)).all()
        both = np.isfinite(want)
        assert np.abs(got[both] - want[both]).max(initial=0.0) <= TOL_S
    # nearest of several sources with start costs = Dijkstra from a virtual source
    start = np.linspace(0, 50, len(sources))
    cost, which = h.nearest(sources, start, reverse=False)
    want = np.min(ref + start[:, None], axis=0)
    assert (np.isfinite(cost) == np.isfinite(want)).all()
    ok = np.isfinite(want)
    assert np.abs(cost[ok] - want[ok]).max(initial=0.0) <= TOL_S
    chosen = (ref + start[:, None])[which[ok], np.flatnonzero(ok)]
    assert np.abs(chosen - want[ok]).max(initial=0.0) <= TOL_S
    assert (which[~ok] == -1).all()
    return h


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 0, 0), (2, 1, 1), (40, 120, 2), (400, 1100, 3)])
def test_random_graphs_equal_dijkstra(n, m, seed):
    _check(random_net(n, m, seed))


def test_grid_with_one_way_streets_equals_dijkstra():
    net = grid_net(40)
    assert (np.diff(net.indptr) > 0).all()
    h = _check(net, n_sources=40)
    _check(net, "length_m", n_sources=10)
    assert h.n_edges < 4 * net.n_edges  # a hierarchy, not a dense graph


def test_zero_length_edges_and_ties():
    # a zero-cost cycle and equal-cost alternatives
    u = [0, 1, 2, 2, 3, 4, 0, 5, 5]
    v = [1, 2, 0, 3, 4, 2, 5, 3, 1]
    w = [0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 2.5, 2.5, 0.0]
    _check(_net(u, v, w, 6))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_embedded_networks_equal_dijkstra(tianqiao, mode):
    net = network.load_network(tianqiao.road_network_path, mode=mode, cache=False)
    _check(net, "time_s", n_sources=30)
    _check(net, "length_m", n_sources=10)


def test_cached_beside_the_network_cache(tmp_path, tianqiao, monkeypatch):
    src = shutil.copy(tianqiao.road_network_path, tmp_path)
    first = network.load_network(src, mode="drive")
    built = hierarchy.hierarchy_of(first)
    assert hierarchy.hierarchy_of(first) is built
    # beside the compiled network, in the network cache folder
    cache_file = Path(first.meta["cache_file"])
    files = sorted(p.name for p in cache_file.parent.glob("*.ch-time_s.npz"))
    assert f"{cache_file.name}.ch-time_s.npz" in files

    def refuse(*args, **kwargs):
        msg = "the hierarchy should come from the cache"
        raise AssertionError(msg)

    monkeypatch.setattr(hierarchy, "build_hierarchy", refuse)
    again = network.load_network(src, mode="drive")
    assert again.meta["from_cache"]
    loaded = hierarchy.hierarchy_of(again)
    assert loaded is not built
    for name in ("rank", "up_idx", "up_w", "down_idx", "down_w"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(built, name))
    monkeypatch.undo()
    # another weight or a changed network is built anew, never read from a stale file
    other = _net(first.indices[:10], np.roll(first.indices[:10], 1), np.ones(10), first.n_nodes)
    other.meta["cache_file"] = first.meta["cache_file"]
    assert hierarchy.hierarchy_of(other).checksum != built.checksum


def test_bad_weights_are_refused():
    net = _net([0], [1], [np.nan], 2)
    with pytest.raises(ValueError, match="non-finite"):
        hierarchy.build_hierarchy(net)
    with pytest.raises(ValueError, match="weight must be"):
        hierarchy.build_hierarchy(net, "speed")  # type: ignore[arg-type]
