"""How long `import tqspatial` takes, against `import geopandas` (its floor), via -X importtime.

Each import runs in a fresh interpreter (warm file cache, cold module cache); the figure is the
cumulative microseconds `-X importtime` reports for the top-level module.  Prints the median of
`--runs` runs, the ratio to geopandas, and the slowest of tqspatial's own modules.

    .venv/bin/python benchmarks/bench_import.py --runs 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TARGET_S = 0.8


def import_time(module: str) -> tuple[float, list[tuple[int, str]]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        head, cumulative_us, name = line.split("|")
        self_us = head.removeprefix("import time:")
        rows.append((int(self_us.strip()), int(cumulative_us.strip()), name.strip()))
    total = next(c for _, c, n in reversed(rows) if n == module)
    own = sorted(((s, n) for s, _, n in rows if n.startswith("tqspatial")), reverse=True)
    return total / 1e6, own[:5]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    tq = [import_time("tqspatial") for _ in range(args.runs)]
    gp = [import_time("geopandas")[0] for _ in range(args.runs)]
    tq_s = statistics.median(t for t, _ in tq)
    gp_s = statistics.median(gp)
    print(f"import tqspatial: median {tq_s:.3f} s over {args.runs} runs (target <= {TARGET_S} s)")
    print(f"import geopandas: median {gp_s:.3f} s  -> tqspatial / geopandas = {tq_s / gp_s:.2f}x")
    print("slowest own modules (self time):")
    for us, name in tq[-1][1]:
        print(f"  {us / 1e3:7.1f} ms  {name}")
    print("target met" if tq_s <= TARGET_S else f"target missed by {tq_s - TARGET_S:.3f} s")


if __name__ == "__main__":
    main()
