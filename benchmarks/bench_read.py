"""Reading the embedded parcels: tqspatial.io.read_parcels against pyogrio's Arrow read (its floor).

Times, in one process with a warm file cache, the median of ``--runs`` runs of:

- ``io.read_parcels(path)`` (checks, GDAL read, CRS resolution, field mapping),
- ``io.read_vector(path, what="parcels")`` (the same without field mapping),
- ``pyogrio.read_dataframe(path, use_arrow=True)`` (the fastest plain read: the floor),
- ``pyogrio.read_dataframe(path)`` (GDAL's feature-by-feature path, the old default),
- ``io.read_parcels(path, bbox=..., columns=[...])`` (a window and two columns pushed to GDAL).

and prints each with its ratio to the floor.

    .venv/bin/python benchmarks/bench_read.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import pyogrio

from tqspatial import datasets, io
from tqspatial.quality import recording


def median_s(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with recording():
            run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = datasets.raw_path("parcels.gpkg")
    window = (495_000.0, 4_066_000.0, 499_000.0, 4_069_000.0)
    cases: dict[str, Callable[[], object]] = {
        "io.read_parcels": lambda: io.read_parcels(path),
        "io.read_vector": lambda: io.read_vector(path, what="parcels"),
        "pyogrio arrow (floor)": lambda: pyogrio.read_dataframe(path, use_arrow=True),
        "pyogrio features": lambda: pyogrio.read_dataframe(path),
    }
    try:
        io.read_parcels(path, bbox=window, columns=["parcel_id", "landuse_code"])
        cases["io.read_parcels window+2 cols"] = lambda: io.read_parcels(
            path, bbox=window, columns=["parcel_id", "landuse_code"]
        )
    except TypeError:  # before bbox/columns were passed through
        pass
    for run in cases.values():  # warm the file cache and imports
        with recording():
            run()
    timed = {name: median_s(run, args.runs) for name, run in cases.items()}
    floor = timed["pyogrio arrow (floor)"]
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared); median of {args.runs} runs")
    for name, seconds in timed.items():
        print(f"{name:32s} {seconds:7.3f} s  {seconds / floor:5.2f}x the floor")


if __name__ == "__main__":
    main()
