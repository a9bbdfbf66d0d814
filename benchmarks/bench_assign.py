"""Benchmark: tqspatial.assign_parcels against sjoin + intersection and geopandas.overlay.

Three routes produce the same thing from the same synthetic parcels laid over the
Tianqiao plan structure (1 axis, 2 belts, 5 clusters, with the district boundary):
the long overlap table, each parcel's primary cluster, its share in every corridor and
its share inside the district.  The baseline that matters is the field's fast route:
candidate pairs from ``geopandas.sjoin`` (an STRtree) and vectorised ``shapely.intersection``
areas of those pairs.  The textbook ``geopandas.overlay(how="intersection")`` route is kept as
a second, slower baseline.  Results are checked to agree (shares to 1e-9 relative, identical
cluster ids) before any time is printed.

Times are medians of repeats (wall clock, ``time.perf_counter``).  Peak memory is the
process's peak resident set size (``VmHWM`` in ``/proc/self/status``) during the run,
reset before each run by writing ``5`` to ``/proc/self/clear_refs``; printed as the rise
above the resident size before the run.  It includes GEOS allocations, which
``tracemalloc`` would miss.  Where ``/proc`` does not allow the reset, ``tracemalloc``'s
peak (Python/numpy allocations only) is printed instead, and labelled so.

Usage::

    python benchmarks/bench_assign.py --quick            # 10k and 100k, < 1 minute
    python benchmarks/bench_assign.py                    # 10k and 100k, more repeats
    python benchmarks/bench_assign.py --million          # adds 1M (overlay run too, ~3 min)
    python benchmarks/bench_assign.py --million --extrapolate   # overlay at 1M extrapolated
    python benchmarks/bench_assign.py --sizes 50000 --repeats 5
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth_parcels import synth_parcels

from tqspatial.assign import UNASSIGNED, assign_parcels
from tqspatial.datasets import tianqiao_structure
from tqspatial.structure import PlanStructure

MIN_CLUSTER_SHARE = 0.5


def _finish(
    parcels: gpd.GeoDataFrame,
    structure: PlanStructure,
    overlaps: pd.DataFrame,
    inside_area: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shares, primary cluster and district share from a long (parcel, element, m²) table."""
    area = parcels.set_index("parcel_id").area
    overlaps = overlaps.groupby(["parcel_id", "element_id", "kind"], as_index=False, sort=False)[
        "overlap_m2"
    ].sum()
    overlaps["share"] = overlaps["overlap_m2"] / area.reindex(overlaps["parcel_id"]).to_numpy()
    overlaps = overlaps[overlaps["overlap_m2"] > 0]
    wide = overlaps.pivot_table(
        index="parcel_id", columns="element_id", values="share", aggfunc="sum", fill_value=0.0
    ).reindex(index=parcels["parcel_id"], columns=list(structure.elements.index), fill_value=0.0)
    clusters = wide[structure.cluster_ids]
    best = clusters.max(axis=1)
    out = pd.DataFrame(index=parcels["parcel_id"])
    out["cluster_id"] = clusters.idxmax(axis=1).where(best >= MIN_CLUSTER_SHARE, UNASSIGNED)
    out["cluster_share"] = best
    out["unassigned_share"] = (1 - clusters.sum(axis=1)).clip(0, 1)
    for element_id in structure.corridor_ids:
        out[f"share_{element_id}"] = wide[element_id]
    out["district_share"] = (inside_area.reindex(area.index).fillna(0.0) / area).to_numpy()
    return out, overlaps


def overlay_route(
    parcels: gpd.GeoDataFrame, structure: PlanStructure
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The textbook route: geopandas.overlay with the elements and with the district."""
    zones = structure.elements.reset_index()[["element_id", "kind", "geometry"]]
    inter = gpd.overlay(
        parcels[["parcel_id", "geometry"]], zones, how="intersection", keep_geom_type=True
    )
    inter["overlap_m2"] = inter.area
    district = gpd.GeoDataFrame(geometry=[structure.district], crs=parcels.crs)
    inside = gpd.overlay(
        parcels[["parcel_id", "geometry"]], district, how="intersection", keep_geom_type=True
    )
    inside_area = inside.assign(a=inside.area).groupby("parcel_id")["a"].sum()
    return _finish(parcels, structure, inter[["parcel_id", "element_id", "kind", "overlap_m2"]],
                   inside_area)  # fmt: skip


def sjoin_route(
    parcels: gpd.GeoDataFrame, structure: PlanStructure
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The field's fast route: STRtree candidates (sjoin) + vectorised shapely.intersection."""
    zones = structure.elements.reset_index()[["element_id", "kind", "geometry"]]
    left = parcels[["parcel_id", "geometry"]]
    pairs = gpd.sjoin(left, zones, how="inner", predicate="intersects")
    pgeoms = left.geometry.to_numpy()[left.index.get_indexer(pairs.index)]
    zgeoms = zones.geometry.to_numpy()[pairs["index_right"].to_numpy()]
    overlaps = pd.DataFrame(
        {
            "parcel_id": pairs["parcel_id"].to_numpy(),
            "element_id": pairs["element_id"].to_numpy(),
            "kind": pairs["kind"].to_numpy(),
            "overlap_m2": shapely.area(shapely.intersection(pgeoms, zgeoms)),
        }
    )
    district = gpd.GeoDataFrame(geometry=[structure.district], crs=parcels.crs)
    hits = gpd.sjoin(left, district, how="inner", predicate="intersects")
    inside = shapely.area(
        shapely.intersection(
            left.geometry.to_numpy()[left.index.get_indexer(hits.index)], structure.district
        )
    )
    inside_area = pd.Series(inside, index=hits["parcel_id"].to_numpy()).groupby(level=0).sum()
    return _finish(parcels, structure, overlaps, inside_area)


def tq_route(
    parcels: gpd.GeoDataFrame, structure: PlanStructure
) -> tuple[pd.DataFrame, pd.DataFrame]:
    assigned, overlaps = assign_parcels(parcels, structure)
    return assigned, overlaps


def compare(ours: tuple[Any, Any], ref: tuple[Any, Any], structure: PlanStructure) -> str:
    """Raise if the two routes disagree; return a one-line summary of the largest difference."""
    assigned, overlaps = ours
    ref_out, ref_overlaps = ref
    merged = overlaps.merge(
        ref_overlaps, on=["parcel_id", "element_id"], how="outer", suffixes=("", "_ref")
    )
    merged = merged[
        (merged["overlap_m2"].fillna(0) > 1e-6) | (merged["overlap_m2_ref"].fillna(0) > 1e-6)
    ]
    np.testing.assert_allclose(merged["share"], merged["share_ref"], rtol=1e-9, atol=1e-12)
    worst = float(
        np.max(
            np.abs(merged["share"].to_numpy() - merged["share_ref"].to_numpy())
            / merged["share_ref"].to_numpy(),
            initial=0.0,
        )
    )
    mine = assigned.set_index("parcel_id")
    if not (mine["cluster_id"].astype(object) == ref_out["cluster_id"].astype(object)).all():
        msg = "cluster_id differs between the routes"
        raise AssertionError(msg)
    columns = [f"share_{e}" for e in structure.corridor_ids] + ["district_share"]
    for column in [*columns, "cluster_share", "unassigned_share"]:
        np.testing.assert_allclose(mine[column], ref_out[column], rtol=1e-9, atol=1e-12)
        diff = np.abs(mine[column].to_numpy() - ref_out[column].to_numpy())
        worst = max(worst, float(np.max(diff, initial=0.0)))
    return f"identical (overlaps {len(overlaps):,}; max share difference {worst:.1e})"


def _clear_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(func: Callable[[], Any], repeats: int) -> tuple[float, list[float], float, str, Any]:
    """Return median seconds, all times, peak memory (MiB), the memory method, last result."""
    times: list[float] = []
    peaks: list[float] = []
    result: Any = None
    method = "peak RSS rise"
    for _ in range(repeats):
        result = None
        gc.collect()
        if _clear_peak():
            before = _status_kb("VmRSS")
            start = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - start)
            peaks.append((_status_kb("VmHWM") - before) / 1024)
        else:
            method = "tracemalloc peak"
            tracemalloc.start()
            start = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - start)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
    return statistics.median(times), times, max(peaks), method, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="add 1,000,000 parcels")
    parser.add_argument(
        "--extrapolate",
        action="store_true",
        help="do not run the overlay route above 100k parcels; extrapolate it linearly",
    )
    parser.add_argument("--repeats", type=int, default=None, help="repeats per route")
    parser.add_argument("--quick", action="store_true", help="few repeats; under a minute")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes + ([1_000_000] if args.million else [])))

    structure = tianqiao_structure()
    print(
        f"structure: {len(structure.elements)} elements "
        f"({', '.join(f'{k}={len(structure.ids_of_kind(k))}' for k in structure.kinds)}), "
        f"district {structure.district.area / 1e6:.1f} km²; parcels: jittered grid "
        "(benchmarks/synth_parcels.py) over the district's bounding box"
    )
    print(
        "memory: peak RSS during the run above RSS before it (VmHWM reset via "
        "/proc/self/clear_refs); times: median wall clock"
    )
    header = (
        f"{'parcels':>9} | {'tqspatial s':>11} | {'sjoin+isect s':>13} | {'ratio':>6} | "
        f"{'overlay s':>10} | {'ratio':>6} | {'tq MiB':>7} | {'sjoin MiB':>9} | check"
    )
    print(header)
    print("-" * len(header))
    last_overlay: tuple[int, float] | None = None
    for n in sizes:
        parcels = synth_parcels(n, structure.district.bounds)
        big = n > 100_000
        if args.repeats is not None:
            tq_repeats = overlay_repeats = args.repeats
        elif args.quick:
            tq_repeats, overlay_repeats = (3, 1) if n <= 100_000 else (1, 1)
        else:
            tq_repeats, overlay_repeats = (7, 3) if n <= 100_000 else (1, 1)
        tq_s, _, tq_mib, method, ours = measure(
            lambda p=parcels: tq_route(p, structure), tq_repeats
        )
        sj_s, _, sj_mib, _, fast = measure(lambda p=parcels: sjoin_route(p, structure), tq_repeats)
        check = compare(ours, fast, structure)
        if big and args.extrapolate and last_overlay is not None:
            base_n, base_s = last_overlay
            ov_s = base_s * n / base_n
            print(
                f"{n:>9,} | {tq_s:>11.3f} | {sj_s:>13.3f} | {sj_s / tq_s:>5.1f}x | "
                f"{ov_s:>9.1f}* | {ov_s / tq_s:>5.1f}* | {tq_mib:>7.0f} | {sj_mib:>9.0f} | "
                f"{check}; overlay NOT RUN: *extrapolated linearly from {base_n:,} parcels"
            )
            continue
        ov_s, _, _, _, ref = measure(lambda p=parcels: overlay_route(p, structure), overlay_repeats)
        last_overlay = (n, ov_s)
        compare(ours, ref, structure)
        print(
            f"{n:>9,} | {tq_s:>11.3f} | {sj_s:>13.3f} | {sj_s / tq_s:>5.1f}x | "
            f"{ov_s:>10.3f} | {ov_s / tq_s:>5.1f}x | {tq_mib:>7.0f} | {sj_mib:>9.0f} | {check}"
        )
        print(
            f"{'':>9}   repeats: tqspatial and sjoin {tq_repeats}, overlay {overlay_repeats}; "
            f"{method}; all three routes agree"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
