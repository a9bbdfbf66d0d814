"""Benchmark: tqspatial.compare_inventories against the geopandas route, same process.

Two synthetic inventories: a jittered-grid parcel layer (benchmarks/synth_parcels.py) with
inventory columns (cluster, land-use code, renewal type, phase, net supply, new floor area,
new residents, new jobs), and a copy with about 1 % of the parcels edited, in five equal
groups: split in two (removed + 2 added), renamed and shrunk slightly (IoU about 0.97),
reshaped (shrunk to 0.9 of their width), land-use code changed, jobs changed.

The geopandas route is what a GIS analyst fluent in geopandas writes for the same report:
a pandas merge on the id, ``GeoSeries.geom_equals_exact`` and ``intersection`` on the
aligned pairs, ``geopandas.sjoin`` to find rename candidates among the unmatched parcels and
``geopandas.overlay`` for their intersection areas, then pandas comparisons of the
attributes.  Both routes must report the same parcels for every change kind, and both must
equal the edits made, before any time is printed.

Times are medians of repeats (wall clock); memory is the peak RSS rise during a run
(``measure`` from bench_assign.py).  The machine is shared: read ratios, not seconds.

Usage::

    python benchmarks/bench_changes.py --quick           # 100k parcels, under a minute
    python benchmarks/bench_changes.py                   # 100k and 1M parcels
    python benchmarks/bench_changes.py --sizes 200000 --repeats 5 --edit-share 0.05
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_assign import measure
from synth_parcels import synth_parcels

from tqspatial.changes import CHANGE_KINDS, InventoryChanges, compare_inventories

IOU_MIN = 0.95
GEOMETRY_TOL_M2 = 1.0
CODES = {
    "residential": "070102",
    "industrial": "100101",
    "commercial": "090101",
    "public_service": "0801",
    "green_open": "1401",
    "other": "2301",
}
RENEWAL = np.array(["old_residential", "inefficient_industrial", "specialty_market", None])
PHASES = np.array(["near", "mid", "long"])
TEXT = ("cluster_id", "landuse_code", "renewal_type", "phase")
NUMBERS = {
    "supply_net_m2": 1.0,
    "new_floor_area_m2": 1.0,
    "new_residents": 0.5,
    "new_jobs": 0.5,
}


def synth_inventory(n: int, seed: int = 20) -> gpd.GeoDataFrame:
    """Parcels with the columns a refresh writes that the comparison reads."""
    parcels = synth_parcels(n)
    rng = np.random.default_rng(seed)
    x = shapely.get_x(shapely.centroid(parcels.geometry.to_numpy()))
    band = np.floor((x - x.min()) / (np.ptp(x) + 1e-9) * 6).astype(int)
    parcels["cluster_id"] = np.where(
        band < 5, np.char.add("cluster_", band.astype(str)), "unassigned"
    )
    parcels["landuse_code"] = parcels["landuse_category"].map(CODES)
    renewal = RENEWAL[rng.integers(0, len(RENEWAL), n)]
    parcels["renewal_type"] = pd.array(renewal, dtype="string")
    parcels["phase"] = pd.array(
        np.where(renewal == None, None, PHASES[rng.integers(0, 3, n)]),  # noqa: E711
        dtype="string",
    )
    is_renewal = renewal != None  # noqa: E711
    parcels["supply_net_m2"] = np.where(is_renewal, parcels["area_m2"], 0.0)
    parcels["new_floor_area_m2"] = parcels["supply_net_m2"] * rng.uniform(0.5, 3.0, n)
    parcels["new_residents"] = parcels["new_floor_area_m2"] / 100 * 2.7 * rng.uniform(0, 1, n)
    parcels["new_jobs"] = parcels["new_floor_area_m2"] / 40 * rng.uniform(0, 1, n)
    return parcels


def edit(old: gpd.GeoDataFrame, share: float, seed: int = 21) -> tuple[gpd.GeoDataFrame, dict]:
    """Edit ``share`` of the parcels in five equal groups; return the new layer and the truth."""
    rng = np.random.default_rng(seed)
    k = max(1, round(len(old) * share / 5))
    picks = rng.permutation(len(old))[: 5 * k].reshape(5, k)
    split, renamed, reshaped, coded, jobs = (np.sort(p) for p in picks)
    new = old.copy()
    ids = old["parcel_id"].to_numpy(dtype=object)
    geoms = new.geometry.to_numpy().copy()
    geoms[renamed] = [affinity.scale(g, 0.985, 0.985, origin="centroid") for g in geoms[renamed]]
    geoms[reshaped] = [affinity.scale(g, 0.9, 1.0, origin="centroid") for g in geoms[reshaped]]
    new["geometry"] = geoms
    new_ids = ids.copy()
    new_ids[renamed] = ["R-" + str(i) for i in ids[renamed]]
    new["parcel_id"] = new_ids
    new.loc[new.index[coded], "landuse_code"] = "0901"
    new.loc[new.index[jobs], "new_jobs"] = new["new_jobs"].to_numpy()[jobs] + 5.0
    halves = []
    for i in split:
        g = old.geometry.iloc[i]
        xmin, ymin, xmax, ymax = g.bounds
        cx = shapely.centroid(g).x
        for suffix, rect in (("a", (xmin, ymin, cx, ymax)), ("b", (cx, ymin, xmax, ymax))):
            row = old.iloc[i].to_dict()
            row["parcel_id"] = f"SPLIT-{ids[i]}-{suffix}"
            row["geometry"] = shapely.clip_by_rect(g, *rect)
            halves.append(row)
    kept = new.drop(index=new.index[split])
    new = gpd.GeoDataFrame(
        pd.concat([kept, gpd.GeoDataFrame(halves, crs=old.crs)], ignore_index=True),
        crs=old.crs,
    )
    truth = {
        "added": {r["parcel_id"] for r in halves},
        "removed": set(ids[split]),
        "renamed": {str(a): "R-" + str(a) for a in ids[renamed]},
        "geometry_changed": set(ids[reshaped]) | {"R-" + str(a) for a in ids[renamed]},
        "landuse_changed": set(ids[coded]),
        "supply_changed": set(ids[jobs]),
    }
    return new, truth


def geopandas_route(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> dict:
    """The same report with geopandas and pandas: merge, sjoin, overlay, comparisons."""
    a = old.set_index("parcel_id")
    b = new.set_index("parcel_id")
    common = a.index.intersection(b.index)
    gone = a.drop(index=common)
    came = b.drop(index=common)
    # rename candidates: spatial join of the unmatched parcels, IoU from an overlay
    left = gone.reset_index()[["parcel_id", "geometry"]]
    right = came.reset_index()[["parcel_id", "geometry"]]
    cand = gpd.sjoin(left, right, predicate="intersects", how="inner")
    left_c = left[left["parcel_id"].isin(cand["parcel_id_left"])]
    right_c = right[right["parcel_id"].isin(cand["parcel_id_right"])]
    inter = gpd.overlay(left_c, right_c, how="intersection", keep_geom_type=True)
    inter["inter_m2"] = inter.area
    pairs = inter.groupby(["parcel_id_1", "parcel_id_2"], as_index=False)["inter_m2"].sum()
    area_l = left_c.set_index("parcel_id").area
    area_r = right_c.set_index("parcel_id").area
    pairs["union_m2"] = (
        area_l.reindex(pairs["parcel_id_1"]).to_numpy()
        + area_r.reindex(pairs["parcel_id_2"]).to_numpy()
        - pairs["inter_m2"].to_numpy()
    )
    pairs["iou"] = pairs["inter_m2"] / pairs["union_m2"]
    pairs = pairs[pairs["iou"] >= IOU_MIN].sort_values(
        ["iou", "parcel_id_1", "parcel_id_2"], ascending=[False, True, True]
    )
    pairs = pairs.drop_duplicates("parcel_id_1").drop_duplicates("parcel_id_2")
    renamed = dict(zip(pairs["parcel_id_1"], pairs["parcel_id_2"], strict=True))
    # matched pairs: same id, then renamed
    old_ids = common.append(pd.Index(pairs["parcel_id_1"]))
    new_ids = common.append(pd.Index(pairs["parcel_id_2"]))
    pa, pb = a.loc[old_ids], b.loc[new_ids]
    ga = gpd.GeoSeries(pa.geometry.to_numpy(), crs=old.crs)
    gb = gpd.GeoSeries(pb.geometry.to_numpy(), crs=old.crs)
    unequal = ~ga.geom_equals_exact(gb, tolerance=0.0, align=False).to_numpy()
    sym = np.zeros(len(ga))
    inter_m2 = ga[unequal].intersection(gb[unequal], align=False).area.to_numpy()
    sym[unequal] = ga[unequal].area.to_numpy() + gb[unequal].area.to_numpy() - 2 * inter_m2
    report = {
        "added": set(came.index) - set(renamed.values()),
        "removed": set(gone.index) - set(renamed),
        "renamed": renamed,
        "geometry_changed": set(new_ids[sym > GEOMETRY_TOL_M2]),
    }
    kinds = {
        "cluster_id": "cluster_changed",
        "landuse_code": "landuse_changed",
        "renewal_type": "renewal_changed",
        "phase": "renewal_changed",
    }
    flagged: dict[str, np.ndarray] = {}
    for column in TEXT:
        x = pa[column].astype("string").fillna("<NA>").to_numpy()
        y = pb[column].astype("string").fillna("<NA>").to_numpy()
        kind = kinds[column]
        flagged[kind] = flagged.get(kind, np.zeros(len(pa), bool)) | (x != y)
    supply = np.zeros(len(pa), bool)
    for column, tol in NUMBERS.items():
        x, y = pa[column].to_numpy(dtype=float), pb[column].to_numpy(dtype=float)
        supply |= (np.abs(y - x) > tol) | (np.isnan(x) != np.isnan(y))
    flagged["supply_changed"] = supply
    for kind, flag in flagged.items():
        report[kind] = set(new_ids[flag])
    return report


def ours_as_sets(changes: InventoryChanges) -> dict:
    table = changes.parcels
    out: dict = {
        kind: set(table.loc[table[kind], "parcel_id"].astype(str))
        for kind in CHANGE_KINDS
        if kind not in {"removed", "renamed"}
    }
    out["removed"] = set(table.loc[table["removed"], "parcel_id_old"].astype(str))
    renamed = table[table["renamed"]]
    out["renamed"] = dict(
        zip(renamed["parcel_id_old"].astype(str), renamed["parcel_id_new"].astype(str), strict=True)
    )
    return out


def check(ours: dict, ref: dict, truth: dict) -> str:
    for kind in CHANGE_KINDS:
        if ours[kind] != ref[kind]:
            msg = (
                f"{kind}: tqspatial and geopandas disagree ({len(ours[kind])} vs {len(ref[kind])})"
            )
            raise AssertionError(msg)
    for kind, expected in truth.items():
        if ours[kind] != expected:
            msg = f"{kind}: {len(ours[kind])} reported, {len(expected)} edited"
            raise AssertionError(msg)
    counts = ", ".join(f"{kind} {len(ours[kind])}" for kind in CHANGE_KINDS if ours[kind])
    return f"same as geopandas and as the edits ({counts})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--edit-share", type=float, default=0.01, help="share of parcels edited")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per route")
    parser.add_argument("--quick", action="store_true", help="100k parcels, few repeats")
    args = parser.parse_args(argv)
    sizes = [100_000] if args.quick else sorted(args.sizes)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (2 cores)")
    print(
        f"edits: {args.edit_share:.1%} of the parcels in five equal groups (split, renamed + "
        "shrunk, reshaped, land-use code, jobs); memory: peak RSS rise; times: median wall clock"
    )
    header = (
        f"{'parcels':>9} | {'tqspatial s':>11} | {'geopandas s':>11} | {'ratio':>6} | "
        f"{'tq MiB':>7} | {'gpd MiB':>7} | check"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        old = synth_inventory(n)
        new, truth = edit(old, args.edit_share)
        repeats = args.repeats or (1 if args.quick or n > 100_000 else 5)
        tq_s, _, tq_mib, method, ours = measure(
            lambda o=old, w=new: compare_inventories(o, w, iou_min=IOU_MIN), repeats
        )
        gp_s, _, gp_mib, _, ref = measure(lambda o=old, w=new: geopandas_route(o, w), repeats)
        result = check(ours_as_sets(ours), ref, truth)
        print(
            f"{n:>9,} | {tq_s:>11.3f} | {gp_s:>11.3f} | {gp_s / tq_s:>5.2f}x | "
            f"{tq_mib:>7.0f} | {gp_mib:>7.0f} | {result}"
        )
        print(f"{'':>9}   repeats: {repeats} each; {method}")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
