"""Benchmark: compiling a road network from OSM XML / PBF, against the osmnx route.

Baseline (run in the same process): ``osmnx.graph_from_xml`` (simplified) +
``osmnx.project_graph`` + :func:`tqspatial.network.compile_graph` per mode, i.e.
what tqspatial did before it read OSM ways itself.  Ours: one streaming parse of
the file for both modes (:func:`tqspatial.network.load_networks`, ``cache=False``),
from OSM XML and from PBF (pyosmium, no XML), then the warm load from the cache.
Our costs must equal those on osmnx's unsimplified graph (checked on the common
nodes from 20 sources) before a ratio is printed.  Timings are medians of ``--repeats``;
the machine is shared, so they are noisy: the load average is printed with them.

Usage: ``python benchmarks/bench_network.py [--quick] [--nodes 100000]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_network import synth_graph, write_osm_xml

from tqspatial import network

MODES = ("walk", "drive")


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def osmnx_route(path: Path, *, simplify: bool = True) -> dict[str, network.CompiledNetwork]:
    import osmnx as ox  # noqa: PLC0415 - baseline only

    graph = ox.graph_from_xml(path, bidirectional=False, simplify=simplify, retain_all=True)
    graph = ox.project_graph(graph, to_crs="EPSG:4548")
    return {mode: network.compile_graph(graph, mode=mode) for mode in MODES}


def max_cost_difference(a: network.CompiledNetwork, b: network.CompiledNetwork) -> float:
    """Largest cost difference between the nodes both networks have, from 20 sources.

    The osmnx route simplifies the graph of all modes at once, so a node where only
    a footway meets a road stays a node of its drive network; ours contracts it.
    """
    common = np.intersect1d(a.node_id, b.node_id)
    if len(common) < 0.9 * min(a.n_nodes, b.n_nodes):
        return float("inf")
    pos_a = {k: i for i, k in enumerate(a.node_id.tolist())}
    pos_b = {k: i for i, k in enumerate(b.node_id.tolist())}
    ia = np.array([pos_a[k] for k in common.tolist()])
    ib = np.array([pos_b[k] for k in common.tolist()])
    rows = np.random.default_rng(0).choice(len(common), 20, replace=False)
    da = dijkstra(a.matrix(), indices=ia[rows])[:, ia]
    db = dijkstra(b.matrix(), indices=ib[rows])[:, ib]
    return float(np.max(np.abs(da - db)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k nodes, 1 repeat")
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.repeats = 10_000, 1
    import osmium  # noqa: PLC0415 - the [pbf] extra

    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores (shared machine)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        xml = folder / f"city_{args.nodes}.osm"
        write_osm_xml(synth_graph(args.nodes), xml)
        pbf = folder / f"city_{args.nodes}.osm.pbf"
        with osmium.SimpleWriter(str(pbf)) as writer:
            for obj in osmium.FileProcessor(str(xml)):
                writer.add(obj)
        print(
            f"network: {xml.stat().st_size / 1e6:.1f} MB XML, {pbf.stat().st_size / 1e6:.1f} MB PBF"
        )
        t_base, _ = median_time(lambda: osmnx_route(xml), args.repeats)
        # the check: osmnx unsimplified (a simplified osmnx edge merging road classes gets
        # one averaged speed in compile_graph, so only the unsimplified graph is exact)
        base = osmnx_route(xml, simplify=False)
        t_xml, ours = median_time(
            lambda: network.load_networks(xml, MODES, cache=False), args.repeats
        )
        t_pbf, ours_pbf = median_time(
            lambda: network.load_networks(pbf, MODES, cache=False), args.repeats
        )
        cache = folder / "cache"
        network.load_networks(xml, MODES, cache_dir=cache)
        t_warm, _ = median_time(
            lambda: network.load_networks(xml, MODES, cache_dir=cache), args.repeats
        )
        for mode in MODES:
            diff = max(
                max_cost_difference(ours[mode], base[mode]),
                max_cost_difference(ours_pbf[mode], base[mode]),
            )
            print(
                f"{mode}: ours {ours[mode].n_nodes} nodes, {ours[mode].n_edges} edges "
                f"(osmnx route {base[mode].n_nodes}, {base[mode].n_edges}); max |cost "
                f"difference| on the common nodes from 20 sources: {diff:.1e} s"
            )
            if not diff <= 1e-6:
                msg = "results differ: no ratios printed"
                raise SystemExit(msg)
    print(f"osmnx route (graph_from_xml + project + compile, 2 modes): {t_base:.2f} s")
    print(f"ours, OSM XML, one parse for 2 modes: {t_xml:.2f} s  ({t_base / t_xml:.1f}x faster)")
    print(f"ours, PBF via pyosmium, 2 modes:      {t_pbf:.2f} s  ({t_base / t_pbf:.1f}x faster)")
    print(f"ours, warm load from the cache:       {t_warm:.3f} s  ({t_base / t_warm:.0f}x faster)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
