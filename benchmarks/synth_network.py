"""Deterministic city-scale synthetic inputs for the accessibility benchmark.

``synth_city(n_nodes, n_parcels, n_facilities, folder, fmt="graphml", seed=0)`` writes

- a road network of about ``n_nodes`` nodes: a jittered square grid (~110 m blocks)
  with a road hierarchy (every 10th line primary, every 5th secondary, every 3rd
  tertiary, the rest residential; maxspeed on a third of the primaries), one-way
  pairs on some residential lines, a few footways (walk only), in EPSG:4548 around
  Jinan, as GraphML (osmnx's own format; fast to write) or OSM XML (lon/lat, for
  ``osmnx.graph_from_xml``);
- parcels: points (representative points of parcels) denser towards the centre, with
  ``residents``, as a GeoDataFrame;
- facilities in 4 kinds (school, clinic, market, park) with capacities.

Usage: ``python benchmarks/synth_network.py --nodes 100000 --out /tmp/city``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj

X0, Y0 = 480_000.0, 4_040_000.0  # EPSG:4548, south-west of Jinan
BLOCK_M = 110.0
KINDS = ("school", "clinic", "market", "park")


def _classes(line: np.ndarray) -> np.ndarray:
    out = np.full(line.shape, "residential", dtype=object)
    out[line % 3 == 0] = "tertiary"
    out[line % 5 == 0] = "secondary"
    out[line % 10 == 0] = "primary"
    return out


def synth_graph(n_nodes: int, seed: int = 0) -> nx.MultiDiGraph:
    """Jittered grid road graph in EPSG:4548 (osmnx conventions: x, y, length, highway)."""
    rng = np.random.default_rng(seed)
    side = round(float(np.sqrt(n_nodes)))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = X0 + jj.ravel() * BLOCK_M + rng.uniform(-20, 20, side * side)
    y = Y0 + ii.ravel() * BLOCK_M + rng.uniform(-20, 20, side * side)
    node = (ii * side + jj).ravel()
    g = nx.MultiDiGraph(crs="EPSG:4548")
    for k in range(side * side):
        g.add_node(int(node[k]) + 1, x=float(x[k]), y=float(y[k]))
    edges = []
    # east-west edges along row i (class by row), north-south along column j (class by column)
    for horizontal in (True, False):
        if horizontal:
            a = (ii[:, :-1] * side + jj[:, :-1]).ravel()
            b = a + 1
            line = ii[:, :-1].ravel()
        else:
            a = (ii[:-1, :] * side + jj[:-1, :]).ravel()
            b = a + side
            line = jj[:-1, :].ravel()
        cls = _classes(line)
        footway = (cls == "residential") & (rng.random(len(a)) < 0.04)
        cls[footway] = "footway"
        oneway = (cls == "residential") & (line % 4 == 1)
        forward = line % 8 == 1  # alternate directions on one-way lines
        maxspeed = np.where((cls == "primary") & (line % 30 == 0), "60", "")
        length = np.hypot(x[b] - x[a], y[b] - y[a])
        edges.append((a, b, cls, oneway, forward, maxspeed, length))
    osmid = 1
    for a, b, cls, oneway, forward, maxspeed, length in edges:
        for k in range(len(a)):
            attrs = {"osmid": osmid, "highway": str(cls[k]), "length": float(length[k])}
            if maxspeed[k]:
                attrs["maxspeed"] = str(maxspeed[k])
            u, v = int(a[k]) + 1, int(b[k]) + 1
            if oneway[k]:
                if not forward[k]:
                    u, v = v, u
                g.add_edge(u, v, oneway=True, reversed=False, **attrs)
            else:
                g.add_edge(u, v, oneway=False, reversed=False, **attrs)
                g.add_edge(v, u, oneway=False, reversed=True, **attrs)
            osmid += 1
    return g


def write_osm_xml(g: nx.MultiDiGraph, path: Path) -> None:
    """Write the graph as OSM XML (lon/lat), one way per directed edge pair."""
    to_ll = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
    ids = np.array(list(g.nodes))
    xs = np.array([g.nodes[n]["x"] for n in ids])
    ys = np.array([g.nodes[n]["y"] for n in ids])
    lon, lat = to_ll.transform(xs, ys)
    seen = set()
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='synth'>\n")
        for n, lo, la in zip(ids, lon, lat, strict=True):
            out.write(f" <node id='{n}' lat='{la:.7f}' lon='{lo:.7f}' version='1'/>\n")
        for u, v, d in g.edges(data=True):
            if d["osmid"] in seen:
                continue
            seen.add(d["osmid"])
            tags = [("highway", d["highway"])]
            if d.get("oneway"):
                tags.append(("oneway", "yes"))
            if "maxspeed" in d:
                tags.append(("maxspeed", d["maxspeed"]))
            a, b = (v, u) if d.get("reversed") else (u, v)
            out.write(f" <way id='{d['osmid']}' version='1'><nd ref='{a}'/><nd ref='{b}'/>")
            out.write("".join(f"<tag k='{k}' v='{t}'/>" for k, t in tags))
            out.write("</way>\n")
        out.write("</osm>\n")


def synth_points(n: int, bounds: tuple[float, float, float, float], seed: int) -> gpd.GeoDataFrame:
    """Points denser towards the centre (mixture of uniform and Gaussian)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    central = rng.random(n) < 0.6
    x = np.where(central, rng.normal(cx, (maxx - minx) / 6, n), rng.uniform(minx, maxx, n))
    y = np.where(central, rng.normal(cy, (maxy - miny) / 6, n), rng.uniform(miny, maxy, n))
    x = np.clip(x, minx, maxx)
    y = np.clip(y, miny, maxy)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4548")


def synth_city(
    n_nodes: int,
    n_parcels: int,
    n_facilities: int,
    folder: str | Path,
    *,
    fmt: str = "graphml",
    seed: int = 0,
) -> tuple[Path, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Write the network file and return (path, parcels, facilities)."""
    import osmnx as ox  # noqa: PLC0415 - heavy, only when writing GraphML

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"city_{n_nodes}.{'graphml' if fmt == 'graphml' else 'osm'}"
    g = synth_graph(n_nodes, seed)
    if not path.exists():
        if fmt == "graphml":
            ox.save_graphml(g, path)
        else:
            write_osm_xml(g, path)
    xs = [d["x"] for _, d in g.nodes(data=True)]
    ys = [d["y"] for _, d in g.nodes(data=True)]
    bounds = (min(xs), min(ys), max(xs), max(ys))
    rng = np.random.default_rng(seed + 1)
    parcels = synth_points(n_parcels, bounds, seed + 2)
    parcels["parcel_id"] = [f"P{i:07d}" for i in range(n_parcels)]
    parcels["residents"] = rng.integers(0, 400, n_parcels).astype(float)
    facilities = synth_points(n_facilities, bounds, seed + 3)
    facilities["facility_id"] = [f"F{i:05d}" for i in range(n_facilities)]
    facilities["kind"] = pd.Series(np.array(KINDS)[np.arange(n_facilities) % len(KINDS)])
    facilities["capacity"] = rng.integers(50, 2000, n_facilities).astype(float)
    return path, parcels, facilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--facilities", type=int, default=1_000)
    parser.add_argument("--format", choices=["graphml", "osm"], default="graphml")
    parser.add_argument("--out", default="/tmp/tq_city")
    args = parser.parse_args()
    path, parcels, facilities = synth_city(
        args.nodes, args.parcels, args.facilities, args.out, fmt=args.format
    )
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); {len(parcels)} parcels, "
        f"{len(facilities)} facilities"
    )


if __name__ == "__main__":
    main()
