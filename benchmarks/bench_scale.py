"""Province scale: the dask engine from a partitioned GeoParquet folder, bounded memory.

``bench_refresh.py --parcels N --engine dask`` lands here.  Steps:

inputs (cached, generated once in a subprocess, never in the repository)
    ``N`` parcels of the jittered-grid tiling (``synth_parcels.synth_bands``) over the
    Tianqiao plan structure's box, kept where they meet the district, with the attributes
    and the dirt of ``bench_refresh.city_parcels`` (every 1000th row reuses the previous
    row's id, every 997th is grown by 2 m into its neighbours), written band by band as a
    folder of GeoParquet parts of 500,000 rows (row groups of 100,000) under ``--cache``.
dask run (this process is the client; it never reads the layer)
    ``process_parcels_path`` on the folder with a ``LocalCluster`` of ``--workers`` worker
    processes (1 thread each, ``--memory-limit`` each); prints the wall time per phase,
    the peak RSS (``VmHWM``) of every worker and of the client, and the counts.
identity on a subset
    the same on the first ``--subset`` rows (whole parts), and the single engine
    (``read_parcels_batched`` + ``process_parcels``) on the same rows, with the single
    engine's stage times: same ids, columns and values, rejects, ledger, summary and
    quality log.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth_parcels import synth_bands

import tqspatial as tq
from tqspatial.inventory import process_parcels
from tqspatial.partitioned import process_parcels_path, read_parts
from tqspatial.stream import read_parcels_batched

SEED = 20261124
PART_ROWS = 500_000
ROW_GROUP = 100_000
ATTRIBUTES = ("landuse_code", "build_year", "far", "coverage", "is_idle", "residents", "jobs")


def _status_kb(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _worker_peak() -> dict[str, float]:
    return {"pid": os.getpid(), "vmhwm_mib": _status_kb("VmHWM") / 1024}


# ----------------------------------------------------------------------------- inputs


def generate(n: int, folder: Path) -> None:
    """Write ``n`` city parcels as GeoParquet parts, band by band (bounded memory)."""
    d = tq.datasets.tianqiao()
    district = d.structure.district
    shapely.prepare(district)
    x0, y0, x1, y1 = bounds = district.bounds
    over = int(n * (x1 - x0) * (y1 - y0) / district.area * 1.03) + 100
    source = d.parcels.reset_index(drop=True)
    src_area = source.area.to_numpy()
    folder.mkdir(parents=True, exist_ok=True)
    done, part, pending = 0, 0, []
    for band, (_, polygons) in enumerate(synth_bands(over, bounds, seed=SEED)):
        if done >= n:
            break
        keep = polygons[shapely.intersects(district, polygons)][: n - done]
        rows = np.arange(done, done + len(keep))
        rng = np.random.default_rng([SEED + 1, band])
        pick = rng.integers(0, len(source), len(keep))
        area = shapely.area(keep)
        scale = area / src_area[pick]
        ids = np.char.add("S", np.char.zfill(rows.astype(str), 7)).astype(object)
        dup = (rows % 1000 == 0) & (rows > 0)
        ids[dup] = np.char.add("S", np.char.zfill((rows[dup] - 1).astype(str), 7))
        grown = (rows % 997 == 0) & (rows > 0)
        keep[grown] = shapely.buffer(keep[grown], 2.0, join_style="mitre")
        frame = gpd.GeoDataFrame({"parcel_id": ids}, geometry=keep, crs=d.parcels.crs)
        for column in ATTRIBUTES:
            frame[column] = source[column].to_numpy()[pick]
        frame["floor_area_m2"] = frame["far"].to_numpy() * area
        frame["residents"] = np.round(source["residents"].to_numpy()[pick] * scale)
        frame["jobs"] = np.round(source["jobs"].to_numpy()[pick] * scale)
        pending.append(frame)
        done += len(keep)
        while sum(len(f) for f in pending) >= PART_ROWS or (done >= n and pending):
            joined = pd.concat(pending, ignore_index=True)
            head, rest = joined.iloc[:PART_ROWS], joined.iloc[PART_ROWS:]
            head.to_parquet(folder / f"part-{part:05d}.parquet", row_group_size=ROW_GROUP)
            part += 1
            pending = [rest] if len(rest) else []
        print(f"generate: {done:,} / {n:,} parcels", file=sys.stderr, flush=True)
    (folder / "_COMPLETE").write_text(str(done))


def inputs(n: int, cache: Path) -> Path:
    folder = cache / f"city_parcels_{n}"
    if not (folder / "_COMPLETE").exists():
        start = time.perf_counter()
        command = [sys.executable, __file__, "--generate", str(n), str(folder)]
        subprocess.run(command, check=True)
        print(f"inputs: generated {n:,} parcels in {time.perf_counter() - start:.0f} s")
    files = sorted(folder.glob("part-*.parquet"))
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"inputs: {folder} ({len(files)} parts, {size:,.0f} MB GeoParquet), cached")
    return folder


def subset(folder: Path, rows: int) -> Path:
    """A folder of links to the first parts holding ``rows`` rows."""
    target = folder.parent / f"{folder.name}_first_{rows}"
    target.mkdir(exist_ok=True)
    total = 0
    for file in sorted(folder.glob("part-*.parquet")):
        if total >= rows:
            break
        link = target / file.name
        if not link.exists():
            link.symlink_to(file)
        total += pq.ParquetFile(file).metadata.num_rows
    return target


# ----------------------------------------------------------------------------- runs


def _worker_rss() -> float:
    return _status_kb("VmRSS") / 1024


def _sample(client: Any, samples: list[tuple[float, float]], stop: Any, start: float) -> None:
    """Every 2 s: the largest resident size among the workers (MiB), with the time."""
    while not stop.wait(2.0):
        try:
            rss = client.run(_worker_rss)
        except Exception:
            return
        samples.append((time.perf_counter() - start, max(rss.values())))


def _by_phase(samples: list[tuple[float, float]], seconds: dict[str, float]) -> dict[str, float]:
    """Largest sampled worker RSS in each phase (phases in the order the engine ran them)."""
    out, begin = {}, 0.0
    for phase in ("read+shuffle", "validate", "supply+write"):
        end = begin + seconds.get(phase, 0.0)
        inside = [rss for t, rss in samples if begin <= t < end]
        out[phase] = round(max(inside)) if inside else float("nan")
        begin = end
    return out


def dask_run(source: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import shutil  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from distributed import Client, LocalCluster  # noqa: PLC0415

    shutil.rmtree(out, ignore_errors=True)
    context = tq.datasets.tianqiao_context(tq.datasets.tianqiao())
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=":0",  # None still binds 8787 for the metrics server
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as client,
    ):
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(
            target=_sample, args=(client, samples, stop, time.perf_counter()), daemon=True
        )
        sampler.start()
        res = process_parcels_path(source, context, out=out, client=client)
        stop.set()
        sampler.join()
        peaks = client.run(_worker_peak)
    total = time.perf_counter() - start
    return {
        "result": res,
        "total_s": total,
        "workers_mib": {w.rsplit(":", 1)[-1]: round(p["vmhwm_mib"]) for w, p in peaks.items()},
        "rss_by_phase": _by_phase(samples, res.seconds),
    }


def identity(single: Any, res: Any) -> list[str]:
    """What differs between the single engine's result and the parts written (empty = same)."""
    problems = []
    parcels, rejects = read_parts(res.out / "parcels"), read_parts(res.out / "rejects")
    if parcels["parcel_id"].tolist() != single.parcels["parcel_id"].tolist():
        problems.append("kept ids")
    if not parcels.index.equals(single.parcels.index):
        problems.append("kept rows")
    if parcels.columns.tolist() != single.parcels.columns.tolist():
        problems.append("columns")
    numeric = single.parcels.select_dtypes("number").columns
    try:
        np.testing.assert_allclose(
            parcels[numeric].to_numpy(float), single.parcels[numeric].to_numpy(float), rtol=1e-9
        )
    except AssertionError:
        problems.append("numeric values")
    text = [c for c in single.parcels.columns if c not in numeric and c != "geometry"]
    for column in text:
        a = single.parcels[column].astype(object).where(single.parcels[column].notna())
        b = parcels[column].astype(object).where(parcels[column].notna())
        if not a.fillna("<NA>").astype(str).equals(b.fillna("<NA>").astype(str)):
            problems.append(f"column {column}")
    if not shapely.equals(parcels.geometry.array, single.parcels.geometry.array).all():
        problems.append("geometries")
    if rejects["source_row"].tolist() != single.rejects["source_row"].tolist():
        problems.append("reject rows")
    if rejects["reason"].tolist() != single.rejects["reason"].tolist():
        problems.append("reject reasons")
    for name, a, b in (("ledger", single.ledger, res.ledger), ("summary", single.summary,
                                                                res.summary)):  # fmt: skip
        try:
            pd.testing.assert_frame_equal(a, b, rtol=1e-9, check_exact=False)
        except AssertionError:
            problems.append(name)
    try:
        pd.testing.assert_frame_equal(single.log.table(), res.log.table())
    except AssertionError:
        problems.append("quality log")
    return problems


def single_run(source: Path) -> dict[str, Any]:
    context = tq.datasets.tianqiao_context(tq.datasets.tianqiao())
    times: dict[str, float] = {}
    start = time.perf_counter()
    frames = [read_parcels_batched(f) for f in sorted(source.glob("part-*.parquet"))]
    parcels = pd.concat(frames, ignore_index=True)
    times["read"] = time.perf_counter() - start

    import contextlib  # noqa: PLC0415

    @contextlib.contextmanager
    def stage(name: str) -> Any:
        tick = time.perf_counter()
        yield
        times[name] = time.perf_counter() - tick

    result = process_parcels(parcels, context, stage=stage)
    times["total"] = time.perf_counter() - start
    return {"result": result, "times": times}


def main(args: argparse.Namespace) -> int:
    import logging  # noqa: PLC0415

    import dask  # noqa: PLC0415

    logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tqspatial.partitioned").setLevel(logging.INFO)
    # a loaded 2-core machine: slow heartbeats are not lost workers or clients
    dask.config.set({"distributed.comm.timeouts.connect": "120s",
                     "distributed.comm.timeouts.tcp": "600s"})  # fmt: skip
    cache = Path(args.cache).expanduser()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()} (shared: noisy); "
        f"cluster: {args.workers} worker processes x 1 thread, memory limit {args.memory_limit}"
    )
    folder = inputs(args.parcels, cache)
    out = cache / "out"
    run = dask_run(folder, out / "all", args)
    res = run["result"]
    print(
        f"dask {args.parcels:,}: {run['total_s']:.1f} s wall with cluster start and stop "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in res.seconds.items())}); "
        f"{res.counts}; peak RSS per worker (MiB): {run['workers_mib']}; largest worker RSS "
        f"sampled every 2 s, by phase (MiB): {run['rss_by_phase']}; "
        f"client peak RSS {_status_kb('VmHWM') / 1024:.0f} MiB; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if args.subset:
        part = subset(folder, args.subset)
        whole = len(list(part.glob("part-*.parquet"))) == len(list(folder.glob("part-*.parquet")))
        sub = run if whole else dask_run(part, out / "subset", args)
        single = single_run(part)
        problems = identity(single["result"], sub["result"])
        print(
            f"subset {sub['result'].counts['rows']:,}: dask {sub['total_s']:.1f} s with cluster "
            f"({', '.join(f'{k} {v:.1f}' for k, v in sub['result'].seconds.items())}), "
            f"workers {sub['workers_mib']} MiB; single {single['times']['total']:.1f} s "
            f"({', '.join(f'{k} {v:.1f}' for k, v in single['times'].items())}); "
            f"dask/single {sub['result'].seconds['total'] / single['times']['total']:.2f}x "
            "(engine time, cluster start excluded); "
            f"identity: {'same' if not problems else 'DIFFERENT: ' + ', '.join(problems)}; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print(json.dumps({"client_peak_mib": _status_kb("VmHWM") / 1024}))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", default="~/.cache/tqspatial-bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--subset", type=int, default=1_000_000, help="0: no identity check")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--generate"]:
        generate(int(sys.argv[2]), Path(sys.argv[3]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    add_arguments(parser)
    raise SystemExit(main(parser.parse_args()))
