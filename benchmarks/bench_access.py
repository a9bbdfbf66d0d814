"""Benchmark: tqspatial accessibility against naive osmnx+networkx, plain csgraph, pandana.

Same process, same synthetic city (``synth_network.py``: a jittered-grid road network,
parcels as points, facilities in 4 kinds), drive and walk modes.  Measured per mode:

ours (tqspatial, ``engine="hierarchy"``)
    cold: network build and contraction hierarchy from empty caches; warm load (network
    and hierarchy from their ``.npz`` caches, a new network object); snapping; nearest
    facility of each of the 4 kinds (one PHAST sweep per kind); 15-minute counts + 2SFCA
    for each kind (``floating_catchment`` per kind: PHAST trees, 16 per sweep, or bounded
    searches when catchments are small, 2 threads); an OD matrix of 100 x 100 parcels
    (``cost_table``: bucket many-to-many).
previous engine (``engine="dijkstra"``)
    the same calls on scipy's virtual-source Dijkstra and the bounded numba Dijkstra;
    results checked equal (counts exactly, ratios to 1e-9 relative).
plain scipy csgraph
    counts and 2SFCA per kind with ``scipy.sparse.csgraph.dijkstra`` (``limit=``, batches
    of facilities, dense rows, numpy), and the OD matrix as 100 searches.
naive osmnx + networkx (with ``--naive``)
    ``osmnx.load_graphml``, ``nearest_nodes``, ``multi_source_dijkstra_path_length`` per
    kind, one ``single_source_dijkstra_path_length(cutoff=)`` per facility on a sample,
    extrapolated linearly (printed as such).
pandana (unless ``--no-pandana``)
    network from the same arrays, ``precompute``, ``shortest_path_lengths`` for the same
    10,000 OD pairs, ``nearest_pois`` for 4 kinds and ``aggregate`` counts within 15
    minutes; its answers are compared with the exact ones.

Targets of issue 16 are printed with MET / MISSED.  Times are medians of ``--repeats``
runs (wall clock) on a shared machine: the load average is printed with each mode.

Usage::

    python benchmarks/bench_access.py --quick    # 10k nodes, 20k parcels, 100 facilities, < 1 min
    python benchmarks/bench_access.py                # 100k nodes, 200k parcels, 1000 facilities
    python benchmarks/bench_access.py --nodes 50000 --parcels 100000 --facilities 500
    python benchmarks/bench_access.py --nodes 20000 --parcels 40000 --facilities 200 --naive
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
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
from tqspatial import hierarchy, network

T_MIN = 15.0
OD_SIZE = 100
TARGETS = {  # issue 16 (seconds)
    "drive catch": 2.0,
    "nearest": 0.1,
    "walk catch": 0.1,
    "load": 0.5,
}
SPEED = network.WALK_SPEED_MPS


# ----------------------------------------------------------------------------- helpers


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


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


def warm_load(path: Path, mode: str):
    net = network.load_network(path, mode=mode)
    hierarchy.hierarchy_of(net)  # a new network object: the hierarchy comes from its disk cache
    return net


def by_kind(fn, fs):
    return {kind: fn(group) for kind, group in fs.groupby("kind", sort=True)}


def ours(  # noqa: PLR0917
    path: Path, mode: str, parcels, facilities, repeats: int, engine: str
) -> dict[str, Any]:
    r: dict[str, Any] = {}
    r["load"], net = median_time(lambda: warm_load(path, mode), repeats)
    assert net.meta["from_cache"]

    def snap():
        ps = acc.snap_points(parcels, net).join(parcels[["residents"]])
        fs = acc.snap_points(facilities, net).join(facilities[["facility_id", "kind", "capacity"]])
        return ps, fs

    r["snap"], (ps, fs) = median_time(snap, repeats)
    r["nearest"], near = median_time(
        lambda: acc.nearest_facility(net, ps, fs, engine=engine), repeats
    )

    def catchments():  # counts and 2SFCA, each kind on its own (4 calls)
        return by_kind(
            lambda g: acc.floating_catchment(
                net, ps, g, max_cost_min=T_MIN, n_jobs=2, engine=engine
            ),
            fs,
        )

    r["catch"], per_kind = median_time(catchments, repeats)
    r["total"] = r["load"] + r["snap"] + r["nearest"] + r["catch"]
    r.update(net=net, ps=ps, fs=fs, near=near, per_kind=per_kind)
    return r


def od_pairs(ps, n: int = OD_SIZE):
    rng = np.random.default_rng(7)
    snapped = ps[ps["node"] >= 0]
    o = snapped.iloc[rng.choice(len(snapped), n, replace=False)]
    d = snapped.iloc[rng.choice(len(snapped), n, replace=False)]
    return o, d


# ----------------------------------------------------------------------------- csgraph


def csgraph_by_kind(net, ps, fs):
    return by_kind(lambda g: csgraph_separate(net, ps, g), fs)


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


def pandana_route(net, fs, repeats: int, od=None) -> dict[str, Any] | None:
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
        if od is not None:
            o, d = od
            r["od"], r["od_cost"] = median_time(
                lambda: pnet.shortest_path_lengths(
                    np.repeat(o, len(d)).tolist(), np.tile(d, len(o)).tolist(), imp_name="t"
                ),
                repeats,
            )
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


def _verdict(value: float, target: float) -> str:
    if value <= target:
        return f"target <= {target:g} s: MET"
    return f"target <= {target:g} s: MISSED by {value - target:.3f} s ({value / target:.1f}x)"


def _arrays(v) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(v[0], "columns"):
        return v[0]["count_within"].to_numpy(), v[0]["access_ratio"].to_numpy()
    return v


def _same(a: dict, b: dict) -> tuple[bool, float]:
    """Counts equal and largest relative difference of the 2SFCA ratios, over kinds."""
    counts, rel = True, 0.0
    for kind, value in a.items():
        (xc, xa), (yc, ya) = _arrays(value), _arrays(b[kind])
        counts &= bool(np.array_equal(np.nan_to_num(xc, nan=-1), np.nan_to_num(yc, nan=-1)))
        fin = np.isfinite(xa) & (np.abs(xa) > 0)
        if fin.any():
            rel = max(rel, float(np.max(np.abs(xa[fin] - ya[fin]) / np.abs(xa[fin]))))
    return counts, rel


def run_mode(mode, path, parcels, facilities, args) -> None:  # noqa: PLR0915
    print(f"\n=== mode: {mode} === (load: {Path('/proc/loadavg').read_text().split()[:3]})")
    cache = network.cache_path(path, mode)
    cache.unlink(missing_ok=True)
    for old in cache.parent.glob(cache.name + ".ch-*"):
        old.unlink()
    start = time.perf_counter()
    net = network.load_network(path, mode=mode)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    hier = hierarchy.hierarchy_of(net)
    built = time.perf_counter() - start
    print(
        f"cold: network build (osmnx load + arrays + cache write) {compiled:.2f} s + hierarchy "
        f"{built:.2f} s = {compiled + built:.2f} s; {net.n_nodes} nodes, {net.n_edges} edges, "
        f"hierarchy {hier.n_edges} edges ({hier.n_edges / net.n_edges:.2f}x)"
    )
    # warm-up numba (compile cache) outside the timings
    for engine in ("hierarchy", "dijkstra"):
        tiny_p, tiny_f = _tiny()
        acc.floating_catchment(net, tiny_p, tiny_f, max_cost_min=1.0, engine=engine)
        tiny_f = tiny_f.assign(kind="k", facility_id="f")
        acc.nearest_facility(net, tiny_p, tiny_f, engine=engine)
        acc.cost_table(net, tiny_p, tiny_f, engine=engine)
    mine = ours(path, mode, parcels, facilities, args.repeats, "hierarchy")
    prev = ours(path, mode, parcels, facilities, args.repeats, "dijkstra")
    catch_key = f"{mode} catch"
    print(
        f"warm load (network + hierarchy from their caches): {mine['load']:.3f} s | "
        f"{_verdict(mine['load'], TARGETS['load'])}"
    )
    print(f"snap {len(parcels)} parcels + {len(facilities)} facilities: {mine['snap']:.3f} s")
    print(
        f"nearest facility, 4 kinds: ours {mine['nearest']:.3f} s | scipy csgraph virtual source "
        f"(engine='dijkstra') {prev['nearest']:.3f} s ({prev['nearest'] / mine['nearest']:.1f}x) | "
        f"{_verdict(mine['nearest'], TARGETS['nearest'])}"
    )
    same, rel = _same(mine["per_kind"], prev["per_kind"])
    print(
        f"15-min counts + 2SFCA, 4 kinds: ours {mine['catch']:.3f} s | bounded numba Dijkstra "
        f"(engine='dijkstra') {prev['catch']:.3f} s ({prev['catch'] / mine['catch']:.1f}x) | "
        f"same counts {same}, max rel diff of 2SFCA {rel:.1e} | "
        f"{_verdict(mine['catch'], TARGETS.get(catch_key, np.inf))}"
    )
    po = pd.concat([v[0]["count_within"] for v in mine["per_kind"].values()], axis=1).sum(axis=1)
    print(
        f"     mean facilities within 15 min per parcel: {po.mean():.1f}; "
        f"unsnapped parcels: {(mine['ps']['node'] < 0).sum()}"
    )
    if not args.no_csgraph:
        cs_time, cs = median_time(lambda: csgraph_by_kind(mine["net"], mine["ps"], mine["fs"]), 1)
        same, rel = _same(mine["per_kind"], cs)
        print(
            f"plain scipy csgraph (dense bounded rows; counts, then 2SFCA): {cs_time:.3f} s "
            f"(1 run) | same counts {same} | max rel diff {rel:.1e} | ours "
            f"{cs_time / mine['catch']:.1f}x faster"
        )
    o, d = od_pairs(mine["ps"])
    od_t, table = median_time(lambda: acc.cost_table(mine["net"], o, d), args.repeats)
    reverse = sp.csr_matrix(mine["net"].matrix("time_s").T)
    onode, dnode = o["node"].to_numpy(), d["node"].to_numpy()
    sc_t, dist = median_time(lambda: dijkstra(reverse, indices=dnode), args.repeats)
    net_ours = table["cost_min"].to_numpy().reshape(len(o), len(d)) * 60
    net_ours -= (
        o["connector_m"].to_numpy()[:, None] + d["connector_m"].to_numpy()[None, :]
    ) / SPEED
    od_diff = np.nanmax(np.abs(net_ours - dist[:, onode].T))
    print(
        f"OD matrix {OD_SIZE}x{OD_SIZE} (cost_table): ours {od_t:.4f} s | plain scipy "
        f"{sc_t:.4f} s ({sc_t / od_t:.1f}x) | max diff vs scipy {od_diff:.1e} s"
    )

    if args.naive:
        nv = naive(path, mode, parcels, facilities, args.naive_sample)
        print(
            f"naive osmnx+networkx: load {nv['load']:.2f} s | snap {nv['snap']:.2f} s | "
            f"nearest 4 kinds {nv['nearest']:.2f} s | per-facility Dijkstra "
            f"{nv['catch']:.1f} s (EXTRAPOLATED from {nv['sample']} of {len(facilities)} "
            f"facilities) | total {nv['total']:.1f} s | ours is "
            f"{nv['total'] / mine['total']:.0f}x faster end to end"
        )
    if args.no_pandana:
        print("pandana: not run (--no-pandana)")
        return
    pdn = pandana_route(mine["net"], mine["fs"], args.repeats, od=(onode, dnode))
    if pdn is None or "error" in pdn:
        print(f"pandana: {pdn['error'] if pdn else 'not run'}")
        return
    exact = exact_node_nearest(mine["net"], mine["fs"])
    diffs = []
    for k in KINDS:
        e, p = exact[k], pdn["near"][k]
        both = np.isfinite(e) & (e < T_MIN * 60 * 3)
        diffs.append(np.max(np.abs(e[both] - p[both])))
    exact_counts = exact_node_counts(mine["net"], mine["fs"])
    count_diff = int(np.sum(exact_counts != pdn["cnt"]))
    pod = np.asarray(pdn["od_cost"], dtype=float).reshape(len(onode), len(dnode))
    pod_diff = np.nanmax(np.abs(pod - dist[:, onode].T))
    print(
        f"pandana: build+precompute {pdn['build']:.2f} s (ours cold hierarchy {built:.2f} s) | "
        f"OD {OD_SIZE}x{OD_SIZE} {pdn['od']:.4f} s (ours {od_t:.4f} s: "
        f"{pdn['od'] / od_t:.1f}x; pandana off by up to {pod_diff:.1e} s; OD target <= pandana: "
        f"{'MET' if od_t <= pdn['od'] else 'MISSED'}) | nearest 4 kinds {pdn['nearest']:.3f} s "
        f"(ours {mine['nearest']:.3f} s: {pdn['nearest'] / mine['nearest']:.1f}x; pandana off by "
        f"up to {max(diffs):.3f} s) | 15-min counts only, all facilities {pdn['counts']:.3f} s "
        f"(ours counts+2SFCA by kind {mine['catch']:.3f} s; pandana counts differ from the "
        f"exact ones at {count_diff} of {mine['net'].n_nodes} nodes)"
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
    parser.add_argument("--naive", action="store_true", help="also run osmnx + networkx (slow)")
    parser.add_argument("--no-pandana", action="store_true", help="skip pandana (slow build)")
    parser.add_argument("--no-csgraph", action="store_true", help="skip the plain csgraph route")
    parser.add_argument("--modes", nargs="+", default=["drive", "walk"])
    parser.add_argument("--out", default="/tmp/tq_bench_access")
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.parcels, args.facilities = 10_000, 20_000, 100
        args.repeats, args.naive_sample = 2, 10
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    print(f"uptime: {uptime.stdout.strip()}")
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
