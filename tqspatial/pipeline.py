"""The refresh job: read -> validate -> assign -> summarise -> write.

Every stage is a plain function call on (Geo)DataFrames; only :mod:`io`
touches files.  Outputs are written into a staging folder next to the target
and each file is then moved into place with an atomic rename, the manifest
last, so readers never see a half-written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import platform
import shutil
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from tqspatial import datasets, io
from tqspatial.assign import assign_parcels, summarise_clusters
from tqspatial.schema import validate_parcels
from tqspatial.settings import get_settings

__all__ = ["RefreshResult", "refresh"]

logger = logging.getLogger(__name__)

#: Packages whose versions are recorded in the manifest.
RECORDED_PACKAGES = ("tqspatial", "geopandas", "shapely", "pyogrio", "pyproj", "numpy", "pandas")


@dataclasses.dataclass(frozen=True)
class RefreshResult:
    """What a refresh wrote and counted.

    Attributes
    ----------
    out_dir : pathlib.Path
        Folder holding the outputs.
    files : list of pathlib.Path
        Files written.
    counts : dict
        Row counts by stage.
    timings_s : dict
        Seconds per stage.
    """

    out_dir: Path
    files: list[Path]
    counts: dict[str, int]
    timings_s: dict[str, float]


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        logger.info("stage %s: start", name)
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        logger.info("stage %s: done in %.2f s", name, self.timings[name])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def refresh(*, out_dir: str | os.PathLike[str] | None = None) -> RefreshResult:
    """Run the inventory refresh on the embedded Tianqiao dataset.

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Output folder; defaults to ``data/processed`` under the settings'
        ``data_dir``.

    Returns
    -------
    RefreshResult
        Paths, counts and timings.

    Notes
    -----
    Outputs: ``inventory.gpkg`` (layers ``parcels`` with every derived column,
    ``structure``, ``rejects``, ``overlaps``), ``parcels.parquet``
    (GeoParquet), ``cluster_summary.csv`` and ``manifest.json`` (inputs with
    SHA-256, package versions, counts and timings).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     result = refresh(out_dir=d)
    ...     sorted(p.name for p in result.files)
    ['cluster_summary.csv', 'inventory.gpkg', 'manifest.json', 'parcels.parquet']
    """
    target = Path(out_dir) if out_dir is not None else get_settings().data_dir / "processed"
    watch = _Stopwatch()
    counts: dict[str, int] = {}
    with watch.stage("read"):
        data = datasets.tianqiao()
        counts["parcels_in"] = len(data.parcels)
    with watch.stage("validate"):
        kept, rejects = validate_parcels(data.parcels)
        counts["parcels_kept"], counts["parcels_rejected"] = len(kept), len(rejects)
    with watch.stage("assign"):
        assigned, overlaps = assign_parcels(kept, data.structure)
        summary = summarise_clusters(assigned, data.structure)
        counts["overlaps"] = len(overlaps)
    structure = data.structure.elements.reset_index()
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    with watch.stage("write"):
        try:
            staged = [
                io.write_layers(
                    staging / "inventory.gpkg",
                    {
                        "parcels": assigned,
                        "structure": structure,
                        "rejects": rejects,
                        "overlaps": overlaps,
                    },
                ),
                io.write_geoparquet(staging / "parcels.parquet", assigned),
                io.write_csv(staging / "cluster_summary.csv", summary),
            ]
            inputs = {
                name: {"sha256": _sha256(datasets.raw_path(name)), "kind": kind}
                for name, kind in datasets.RAW_FILES.items()
            }
            manifest: dict[str, Any] = {
                "tqspatial_job": "refresh",
                "inputs": inputs,
                "counts": counts,
                "timings_s": watch.timings,
                "versions": _versions(),
                "outputs": sorted(p.name for p in staged),
                "cluster_land_ha": {
                    str(k): round(float(v), 4)
                    for k, v in zip(summary["cluster_id"], summary["land_area_ha"], strict=True)
                },
            }
            staged.append(io.write_json(staging / "manifest.json", manifest))
            files = []
            for path in staged:  # manifest last: its presence marks a complete refresh
                final = target / path.name
                path.replace(final)
                files.append(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    logger.info(
        "refresh: %d parcels in, %d kept, %d rejected; outputs in %s",
        counts["parcels_in"],
        counts["parcels_kept"],
        counts["parcels_rejected"],
        target,
    )
    return RefreshResult(out_dir=target, files=files, counts=counts, timings_s=watch.timings)
