"""Benchmark: N plan scenarios in one run against N separate runs, on the embedded district.

One `compare_scenarios` call shares the read, the validation, the road network and (per
distinct structure and facilities) the assignment and the accessibility stage; N separate
calls of one scenario each repeat all of it.  Both compute the same tables (checked).

    .venv/bin/python benchmarks/bench_scenarios.py            # 4 scenarios, accessibility on
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqspatial.config import Config, parse_config
from tqspatial.profile import parse_profile
from tqspatial.scenarios import Scenario, compare_scenarios


def scenarios() -> list[Scenario]:
    def far(value: float) -> tuple:
        rows = [{"kind": "*", "landuse_category": "*", "target_far": value,
                 "shares": {"office": 0.5, "commercial": 0.5}}]  # fmt: skip
        return parse_profile({"capacity": rows}).capacity

    return [
        Scenario("plan"),
        Scenario("dense_fallback", capacity=far(3.5)),
        Scenario("later", phase_years=(2032, 2037, 2045)),
        Scenario("no_flood", constraints_off=("flood_depth",)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-access", action="store_true", help="accessibility off")
    args = parser.parse_args()
    config = parse_config({"accessibility": {"enabled": False}}) if args.no_access else Config()
    chosen = scenarios()
    compare_scenarios(chosen[:1], config=config)  # warm caches (network, numba)
    start = time.perf_counter()
    together = compare_scenarios(chosen, config=config)
    shared_s = time.perf_counter() - start
    start = time.perf_counter()
    separate = [compare_scenarios([s], config=config) for s in chosen]
    separate_s = time.perf_counter() - start
    for s, one in zip(chosen, separate, strict=True):
        a = together.table[together.table["scenario"] == s.name]["value"].to_numpy()
        b = one.table["value"].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
    n = len(chosen)
    print(f"{n} scenarios, accessibility {'off' if args.no_access else 'on'}, embedded district")
    print(f"  one run, shared work: {shared_s:7.2f} s ({shared_s / n:.2f} s per scenario)")
    print(f"  {n} separate runs:     {separate_s:7.2f} s ({separate_s / n:.2f} s per scenario)")
    print(f"  ratio separate / shared: {separate_s / shared_s:.2f}x (identical tables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
