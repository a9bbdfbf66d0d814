"""Benchmark: tqspatial accessibility against naive osmnx+networkx, plain csgraph, pandana.

Same process, same synthetic city (``synth_network.py``: a jittered-grid road network,
parcels as points, facilities in 4 kinds), drive and walk modes.  Measured per mode:

ours (tqspatial)
    warm load (``network.load_network`` from the ``.npz`` cache; the cold compile is
    timed once and printed), snapping of parcels and facilities, nearest facility of
    each of the 4 kinds (``nearest_facility``), 15-minute counts + 2SFCA in one call
    (``floating_catchment``: one numba bounded Dijkstra per facility, 2 threads).
straightforward csgraph
    the same counts and 2SFCA computed separately with ``scipy.sparse.csgraph.dijkstra``
    (``limit=``, batches of facilities, dense rows, numpy): counts in one pass, 2SFCA
    in a second pass that stores the pairs within reach as sparse arrays.  Results are
    checked equal to ours (counts exactly, ratios to 1e-9 relative).
naive osmnx + networkx
    ``osmnx.load_graphml`` + projection + travel times on every edge, snapping with
    ``osmnx.distance.nearest_nodes``, ``networkx.multi_source_dijkstra_path_length`` per
    kind, and one ``single_source_dijkstra_path_length(cutoff=)`` per facility with
    pandas aggregation for counts and 2SFCA.  The per-facility part runs on a sample
    of facilities and is extrapolated linearly to all of them (printed as such).
pandana (with ``--pandana``, if importable)
    network built from the same arrays, ``precompute``, ``nearest_pois`` for 4 kinds
    and ``aggregate(type="count")`` within 15 minutes; its nearest-facility times are
    compared with ours at network nodes (pandana is approximate).

Times are medians of ``--repeats`` runs (wall clock).  Peak memory of our pipeline is
``tracemalloc``'s peak over one extra, untimed run (numpy arrays and Python objects;
the numba search's own buffers, about 30 bytes per edge and thread, are not traced),
printed with the process's peak RSS so far (``VmHWM``, which includes osmnx).

Usage::

    python benchmarks/bench_access.py --quick    # 10k nodes, 20k parcels, 100 facilities, < 1 min
    python benchmarks/bench_access.py                # 100k nodes, 200k parcels, 1000 facilities
    python benchmarks/bench_access.py --nodes 50000 --parcels 100000 --facilities 500
    python benchmarks/bench_access.py --nodes 20000 --parcels 40000 --facilities 200 --pandana
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth_network import KINDS, synth_city

from tqspatial import accessibility as acc
from tqspatial import network

T_MIN = 15.0
SPEED = network.WALK_SPEED_MPS


# ----------------------------------------------------------------------------- helpers


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def peak_memory(result: dict[str, Any]) -> Iterator[None]:
    """tracemalloc peak (numpy and Python allocations; numba/SciPy C buffers excluded)."""
    gc.collect()
    tracemalloc.start()
    try:
        yield
    finally:
        result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        result["peak_how"] = "tracemalloc peak of one untimed run"
        result["peak_abs_mb"] = _status("VmHWM") / 1e6
        tracemalloc.stop()


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


# ----------------------------------------------------------------------------- ours


def ours(path: Path, mode: str, parcels, facilities, repeats: int) -> dict[str, Any]:
    r: dict[str, Any] = {}
    r["load"], net = median_time(lambda: network.load_network(path, mode=mode), repeats)
    assert net.meta["from_cache"]

    def snap():
        ps = acc.snap_points(parcels, net).join(parcels[["residents"]])
        fs = acc.snap_points(facilities, net).join(facilities[["facility_id", "kind", "capacity"]])
        return ps, fs

    r["snap"], (ps, fs) = median_time(snap, repeats)
    r["nearest"], near = median_time(lambda: acc.nearest_facility(net, ps, fs), repeats)
    r["catch"], (po, fo) = median_time(
        lambda: acc.floating_catchment(net, ps, fs, max_cost_min=T_MIN, n_jobs=2), repeats
    )
    r["total"] = r["load"] + r["snap"] + r["nearest"] + r["catch"]
    r.update(net=net, ps=ps, fs=fs, near=near, po=po, fo=fo)
    return r


# ----------------------------------------------------------------------------- csgraph


def csgraph_separate(net, ps, fs, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Counts and 2SFCA the straightforward way: dense bounded Dijkstra rows, two passes."""
    reverse = sp.csr_matrix(net.matrix("time_s").T)
    pnode = ps["node"].to_numpy()
    ok = pnode >= 0
    pn, pc = pnode[ok], ps["connector_m"].to_numpy()[ok] / SPEED
    demand = ps["residents"].to_numpy()[ok]
    fnode = fs["node"].to_numpy()
    fok = np.flatnonzero(fnode >= 0)
    fconn = fs["connector_m"].to_numpy() / SPEED
    supply = fs["capacity"].to_numpy()
    limit = T_MIN * 60
    # pass 1: counts
    counts = np.zeros(ok.sum())
    for i in range(0, len(fok), batch):
        rows = fok[i : i + batch]
        dist = dijkstra(reverse, indices=fnode[rows], limit=limit)
        cost = (dist[:, pn] + pc[None, :] + fconn[rows][:, None]) / 60
        counts += (cost <= T_MIN).sum(axis=0)
    # pass 2: 2SFCA (pairs within reach kept as sparse arrays)
    pr, pf, pcost = [], [], []
    for i in range(0, len(fok), batch):
        rows = fok[i : i + batch]
        dist = dijkstra(reverse, indices=fnode[rows], limit=limit)
        cost = (dist[:, pn] + pc[None, :] + fconn[rows][:, None]) / 60
        fi, pi = np.nonzero(cost <= T_MIN)
        pr.append(pi)
        pf.append(rows[fi])
        pcost.append(cost[fi, pi])
    p_idx, f_idx = np.concatenate(pr), np.concatenate(pf)
    total = np.bincount(f_idx, weights=demand[p_idx], minlength=len(fnode))
    ratio = np.divide(supply, total, out=np.zeros(len(fnode)), where=total > 0)
    access = np.bincount(p_idx, weights=ratio[f_idx], minlength=len(pn))
    full_counts = np.full(len(pnode), np.nan)
    full_access = np.full(len(pnode), np.nan)
    full_counts[ok] = counts
    full_access[ok] = access
    return full_counts, full_access


# ----------------------------------------------------------------------------- naive


def naive(path: Path, mode: str, parcels, facilities, sample: int) -> dict[str, Any]:
    import networkx as nx  # noqa: PLC0415 - baseline only
    import osmnx as ox  # noqa: PLC0415 - baseline only

    r: dict[str, Any] = {}
    start = time.perf_counter()
    g = ox.load_graphml(path)
    g = ox.project_graph(g, to_crs="EPSG:4548")
    speeds = network.DRIVE_SPEED_KMH
    for u, v, k, d in list(g.edges(keys=True, data=True)):
        if mode == "walk":
            d["tt"] = d["length"] / SPEED
            if not g.has_edge(v, u):
                g.add_edge(v, u, **d)
        elif d["highway"] == "footway":
            g.remove_edge(u, v, k)
        else:
            kmh = float(d["maxspeed"]) if "maxspeed" in d else speeds.get(d["highway"], 20.0)
            d["tt"] = d["length"] / (kmh / 3.6)
    r["load"] = time.perf_counter() - start
    start = time.perf_counter()
    pn = ox.distance.nearest_nodes(g, parcels.geometry.x.to_numpy(), parcels.geometry.y.to_numpy())
    fn = ox.distance.nearest_nodes(
        g, facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()
    )
    r["snap"] = time.perf_counter() - start
    rev = g.reverse(copy=False)
    start = time.perf_counter()
    for kind in KINDS:
        sources = set(np.asarray(fn)[(facilities["kind"] == kind).to_numpy()].tolist())
        nx.multi_source_dijkstra_path_length(rev, sources, weight="tt")
    r["nearest"] = time.perf_counter() - start
    parcel_frame = pd.DataFrame({"node": pn, "residents": parcels["residents"].to_numpy()})
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(facilities), min(sample, len(facilities)), replace=False)
    reached = {}
    for f in chosen:
        d = nx.single_source_dijkstra_path_length(rev, fn[f], cutoff=T_MIN * 60, weight="tt")
        within = parcel_frame[parcel_frame["node"].isin(d.keys())]
        reached[f] = (len(within), within["residents"].sum())
    per_facility = (time.perf_counter() - start) / len(chosen)
    r["catch"] = per_facility * len(facilities)
    r["sample"] = len(chosen)
    r["total"] = r["load"] + r["snap"] + r["nearest"] + r["catch"]
    return r


# ----------------------------------------------------------------------------- pandana


def pandana_route(net, fs, repeats: int) -> dict[str, Any] | None:
    try:
        import pandana  # noqa: PLC0415 - optional baseline
    except ImportError as exc:
        return {"error": f"pandana not importable: {exc}"}
    r: dict[str, Any] = {}
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    ok = fs["node"].to_numpy() >= 0
    fnodes = fs["node"].to_numpy()[ok]
    kinds = fs["kind"].to_numpy()[ok]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        pnet = pandana.Network(
            pd.Series(net.x),
            pd.Series(net.y),
            pd.Series(src),
            pd.Series(net.indices.astype(np.int64)),
            pd.DataFrame({"t": net.time_s}),
            twoway=False,
        )
        pnet.precompute(T_MIN * 60 + 1)
        r["build"] = time.perf_counter() - start

        def nearest():
            out = {}
            for kind in KINDS:
                sel = kinds == kind
                pnet.set_pois(
                    kind,
                    T_MIN * 60 * 4,
                    1,
                    pd.Series(net.x[fnodes[sel]]),
                    pd.Series(net.y[fnodes[sel]]),
                )
                out[kind] = pnet.nearest_pois(T_MIN * 60 * 4, kind, num_pois=1)[1].to_numpy()
            return out

        r["nearest"], near = median_time(nearest, repeats)

        def counts():
            pnet.set(pd.Series(fnodes), variable=pd.Series(np.ones(len(fnodes))), name="fac")
            return pnet.aggregate(T_MIN * 60, type="sum", decay="flat", name="fac").to_numpy()

        r["counts"], cnt = median_time(counts, repeats)
    r["near"], r["cnt"] = near, cnt
    return r


def exact_node_nearest(net, fs) -> dict[str, np.ndarray]:
    """Our engine at node level (zero connectors), to compare with pandana."""
    ok = fs["node"].to_numpy() >= 0
    f0 = fs[ok].assign(connector_m=0.0)
    origins = pd.DataFrame(
        {"node": np.arange(net.n_nodes), "connector_m": 0.0, "snap_reason": None}
    )
    near = acc.nearest_facility(net, origins, f0)
    return {k: near[f"{k}_min"].to_numpy() * 60 for k in KINDS}


def exact_node_counts(net, fs) -> np.ndarray:
    ok = fs["node"].to_numpy() >= 0
    f0 = fs[ok].assign(connector_m=0.0, capacity=1.0)
    origins = pd.DataFrame(
        {"node": np.arange(net.n_nodes), "connector_m": 0.0, "snap_reason": None, "residents": 1.0}
    )
    po, _ = acc.floating_catchment(net, origins, f0, max_cost_min=T_MIN)
    return po["count_within"].to_numpy()


# ----------------------------------------------------------------------------- main


def run_mode(mode, path, parcels, facilities, args) -> None:
    print(f"\n=== mode: {mode} ===")
    cache = network.cache_path(path, mode)
    cache.unlink(missing_ok=True)
    start = time.perf_counter()
    net = network.load_network(path, mode=mode)
    print(
        f"cold compile (osmnx load + arrays + cache write): {time.perf_counter() - start:.2f} s; "
        f"{net.n_nodes} nodes, {net.n_edges} edges, dropped {net.meta['dropped_nodes']} nodes "
        f"outside the largest strongly connected component"
    )
    # warm-up numba (compile cache) outside the timings
    acc.floating_catchment(net, *_tiny(), max_cost_min=1.0)
    mine = ours(path, mode, parcels, facilities, args.repeats)
    mem: dict[str, Any] = {}
    with peak_memory(mem):  # a separate, untimed run
        ours(path, mode, parcels, facilities, 1)
    print(
        f"ours: load {mine['load']:.3f} s | snap {mine['snap']:.3f} s | nearest 4 kinds "
        f"{mine['nearest']:.3f} s | 15-min counts + 2SFCA {mine['catch']:.3f} s | "
        f"total {mine['total']:.3f} s | peak memory {mem['peak_mb']:.0f} MB ({mem['peak_how']}"
        f", process peak RSS so far {mem['peak_abs_mb']:.0f} MB)"
    )
    po = mine["po"]
    reached = po["count_within"].mean()
    print(
        f"     mean facilities within 15 min per parcel: {reached:.1f}; "
        f"unsnapped parcels: {(mine['ps']['node'] < 0).sum()}"
    )

    cs_time, (cs_counts, cs_access) = median_time(
        lambda: csgraph_separate(mine["net"], mine["ps"], mine["fs"]), args.repeats
    )
    same_counts = np.array_equal(
        np.nan_to_num(cs_counts, nan=-1), np.nan_to_num(po["count_within"].to_numpy(), nan=-1)
    )
    a, b = cs_access, po["access_ratio"].to_numpy()
    fin = np.isfinite(a)
    rel = np.max(np.abs(a[fin] - b[fin]) / np.maximum(np.abs(a[fin]), 1e-300)) if fin.any() else 0
    print(
        f"straightforward csgraph (counts, then 2SFCA): {cs_time:.3f} s | same counts: "
        f"{same_counts} | max rel diff of 2SFCA: {rel:.1e} | ours is "
        f"{cs_time / mine['catch']:.1f}x faster"
    )

    if not args.no_naive:
        nv = naive(path, mode, parcels, facilities, args.naive_sample)
        print(
            f"naive osmnx+networkx: load {nv['load']:.2f} s | snap {nv['snap']:.2f} s | "
            f"nearest 4 kinds {nv['nearest']:.2f} s | per-facility Dijkstra "
            f"{nv['catch']:.1f} s (EXTRAPOLATED from {nv['sample']} of {len(facilities)} "
            f"facilities) | total {nv['total']:.1f} s | ours is "
            f"{nv['total'] / mine['total']:.0f}x faster end to end "
            f"(load alone: {nv['load'] / mine['load']:.0f}x)"
        )

    if not args.pandana:
        print(
            "pandana: not run (pass --pandana; its contraction-hierarchy precompute takes "
            "minutes at these sizes)"
        )
        return
    pdn = pandana_route(mine["net"], mine["fs"], args.repeats)
    if pdn is None or "error" in pdn:
        print(f"pandana: {pdn['error'] if pdn else 'not run'}")
    else:
        exact = exact_node_nearest(mine["net"], mine["fs"])
        diffs = []
        for k in KINDS:
            e, p = exact[k], pdn["near"][k]
            both = np.isfinite(e) & (e < T_MIN * 60 * 3)
            diffs.append(np.max(np.abs(e[both] - p[both])))
        exact_counts = exact_node_counts(mine["net"], mine["fs"])
        count_diff = int(np.sum(exact_counts != pdn["cnt"]))
        print(
            f"pandana: build+precompute {pdn['build']:.2f} s | nearest 4 kinds "
            f"{pdn['nearest']:.3f} s (ours {mine['nearest']:.3f} s: "
            f"{pdn['nearest'] / mine['nearest']:.1f}x) | 15-min counts {pdn['counts']:.3f} s "
            f"(ours counts+2SFCA {mine['catch']:.3f} s: {pdn['counts'] / mine['catch']:.1f}x) | "
            f"pandana nearest off by up to {max(diffs):.3f} s; counts differ at {count_diff} "
            f"of {mine['net'].n_nodes} nodes"
        )


def _tiny():
    p = pd.DataFrame({"node": [0], "connector_m": [0.0], "snap_reason": [None], "residents": [1.0]})
    f = pd.DataFrame({"node": [0], "connector_m": [0.0], "capacity": [1.0]})
    return p, f


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10k nodes, 20k parcels, 100 fac.")
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--facilities", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-sample", type=int, default=30)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--pandana", action="store_true", help="also run pandana (slow build)")
    parser.add_argument("--modes", nargs="+", default=["drive", "walk"])
    parser.add_argument("--out", default="/tmp/tq_bench_access")
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.parcels, args.facilities = 10_000, 20_000, 100
        args.repeats, args.naive_sample = 2, 10
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print(
        f"sizes: ~{args.nodes} nodes, {args.parcels} parcels, {args.facilities} facilities "
        f"in {len(KINDS)} kinds; {args.repeats} repeats (medians); catchment {T_MIN:.0f} min"
    )
    start = time.perf_counter()
    path, parcels, facilities = synth_city(args.nodes, args.parcels, args.facilities, args.out)
    print(
        f"synthetic city: {path} ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - start:.1f} s (not timed below)"
    )
    for mode in args.modes:
        run_mode(mode, path, parcels, facilities, args)


if __name__ == "__main__":
    main()
