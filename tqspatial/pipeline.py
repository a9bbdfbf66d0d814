"""The refresh job: read -> validate -> assign -> write, driven by a :class:`Config`.

Every stage is a plain function call on (Geo)DataFrames; only :mod:`io`
touches files.  Outputs are written into a staging folder beside the target
and published in one atomic swap under a lock (:mod:`tqspatial.publish`): a
reader, or a job killed at any moment, sees the complete previous outputs or
the complete new ones.  Re-running on unchanged inputs gives byte-identical
tables; ``if_changed=True`` skips the run when the input fingerprint (input
checksums, config, package version) matches the published manifest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd

from tqspatial import io
from tqspatial.assign import assign_parcels, summarise_clusters
from tqspatial.config import Config, config_digest, load_config
from tqspatial.errors import SchemaError
from tqspatial.publish import output_lock, publish, staging_dir
from tqspatial.schema import validate_parcels
from tqspatial.settings import get_settings
from tqspatial.structure import PlanStructure

__all__ = ["InputQualityError", "RefreshResult", "refresh"]

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
    skipped: bool = False


class InputQualityError(SchemaError):
    """The inputs are too broken to publish (e.g. too many rejected parcels)."""


class _Stopwatch:
    """Times stages; logs each, and shows a progress bar when asked (a terminal)."""

    def __init__(self, stages: int, *, progress: bool) -> None:
        self.timings: dict[str, float] = {}
        self.bar: Any = None
        if progress:
            from tqdm import tqdm  # noqa: PLC0415 - only for terminals

            self.bar = tqdm(total=stages, unit="stage", desc="refresh", leave=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        if self.bar is not None:
            self.bar.set_description(f"refresh: {name}")
        logger.info("stage %s: start", name)
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.bar is not None:
            self.bar.update(1)
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


@dataclasses.dataclass(frozen=True)
class _Inputs:
    boundary: gpd.GeoDataFrame
    structure: PlanStructure
    parcels: gpd.GeoDataFrame
    paths: dict[str, Path]


#: Inputs read by the stages that exist so far (the others are for maps etc.).
_USED_INPUTS = ("boundary", "structure", "parcels")


def _read_inputs(config: Config) -> _Inputs:
    paths = {name: config.input_path(name) for name in _USED_INPUTS}
    opts = config.parcels
    parcels = io.read_parcels(paths["parcels"], layer=opts.layer or None)
    return _Inputs(
        boundary=io.read_districts(paths["boundary"]),
        structure=io.read_structure(paths["structure"]),
        parcels=parcels,
        paths=paths,
    )


def _fingerprint(config: Config, paths: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    digest.update(config_digest(config).encode())
    digest.update(_versions().get("tqspatial", "").encode())
    for name in sorted(paths):
        digest.update(f"{name}={_sha256(paths[name])}".encode())
    return digest.hexdigest()


def _published_fingerprint(target: Path) -> str | None:
    manifest = target / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        value = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _target(config: Config, out_dir: str | os.PathLike[str] | None) -> Path:
    if out_dir is not None:
        return Path(out_dir)
    if config.output.dir:
        base = config.base_dir or Path.cwd()
        return base / config.output.dir
    return get_settings().data_dir / "processed"


def refresh(
    config: Config | str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    if_changed: bool = False,
    progress: bool = False,
    to: str | None = None,
) -> RefreshResult:
    """Run the inventory refresh (by default on the embedded Tianqiao dataset).

    Parameters
    ----------
    config : Config, str or os.PathLike, optional
        A config or a TOML file (see ``tqspatial init-config``); None uses
        the defaults, which point at the embedded dataset.
    out_dir : str or os.PathLike, optional
        Output folder; overrides ``[output] dir``.  Default
        ``data/processed`` under the settings' ``data_dir``.
    dry_run : bool, default False
        Read and validate the inputs and the config, write nothing.
    if_changed : bool, default False
        Skip the run (``skipped=True``) when the published manifest has the
        same input fingerprint.
    progress : bool, default False
        Show a progress bar (the command line turns it on in a terminal).
    to : str, optional
        A ``postgresql://`` URL: also write the inventory into PostGIS (schema
        ``tqspatial``) in one transaction, after the files are published; see
        :func:`tqspatial.postgis.write_inventory_postgis`.

    Returns
    -------
    RefreshResult
        Paths, counts and timings.

    Raises
    ------
    InputQualityError
        If more parcels are rejected than ``[quality] max_reject_share``
        allows; nothing is published.
    OutputLockedError
        If another refresh is writing the same folder.

    Notes
    -----
    Outputs: ``inventory.gpkg`` (layers ``parcels`` with every derived column,
    ``structure``, ``rejects``, ``overlaps``), ``parcels.parquet``
    (GeoParquet), ``cluster_summary.csv`` and ``manifest.json`` (inputs with
    SHA-256, config, package versions, counts and timings).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     result = refresh(out_dir=d)
    ...     sorted(p.name for p in result.files)
    ['cluster_summary.csv', 'inventory.gpkg', 'manifest.json', 'parcels.parquet']
    """
    if not isinstance(config, Config):
        config = load_config(config)
    target = _target(config, out_dir)
    stages = ("read", "validate", "assign") if dry_run else ("read", "validate", "assign", "write")
    watch = _Stopwatch(len(stages), progress=progress)
    try:
        with output_lock(target):
            return _run(config, target, watch, dry_run=dry_run, if_changed=if_changed, to=to)
    finally:
        watch.close()


def _run(
    config: Config,
    target: Path,
    watch: _Stopwatch,
    *,
    dry_run: bool,
    if_changed: bool,
    to: str | None,
) -> RefreshResult:
    counts: dict[str, int] = {}
    with watch.stage("read"):
        data = _read_inputs(config)
        counts["parcels_in"] = len(data.parcels)
        fingerprint = _fingerprint(config, data.paths)
    if if_changed and not dry_run and _published_fingerprint(target) == fingerprint:
        logger.info("refresh: inputs and config unchanged since the last run; skipped")
        files = sorted(p for p in target.iterdir() if p.is_file())
        return RefreshResult(target, files, counts, watch.timings, skipped=True)
    with watch.stage("validate"):
        kept, rejects = validate_parcels(data.parcels)
        counts["parcels_kept"], counts["parcels_rejected"] = len(kept), len(rejects)
        _check_quality(config, counts)
    with watch.stage("assign"):
        assigned, overlaps = assign_parcels(
            kept, data.structure, min_cluster_share=config.assign.min_cluster_share
        )
        summary = summarise_clusters(assigned, data.structure)
        counts["overlaps"] = len(overlaps)
    if dry_run:
        logger.info("refresh --dry-run: inputs and config are valid; nothing written")
        return RefreshResult(target, [], counts, watch.timings)
    layers = {
        "parcels": assigned,
        "structure": data.structure.elements.reset_index(),
        "rejects": rejects,
        "overlaps": overlaps,
    }
    staging = staging_dir(target)
    try:
        with watch.stage("write"):
            tables: dict[str, Any] = {
                "inventory.gpkg": lambda p: io.write_layers(p, layers),
                "parcels.parquet": lambda p: io.write_geoparquet(p, assigned),
                "cluster_summary.csv": lambda p: io.write_csv(p, summary),
            }
            for name, write in tables.items():
                write(staging / name)
            manifest: dict[str, Any] = {
                "tqspatial_job": "refresh",
                "fingerprint": fingerprint,
                "config": config.as_dict(),
                "inputs": {
                    name: {"path": str(path), "sha256": _sha256(path)}
                    for name, path in sorted(data.paths.items())
                },
                "counts": counts,
                "timings_s": watch.timings,
                "versions": _versions(),
                "outputs": sorted([*tables, "manifest.json"]),
            }
            io.write_json(staging / "manifest.json", manifest)
        publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if to is not None:
        from tqspatial.postgis import write_inventory_postgis  # noqa: PLC0415 - optional

        with watch.stage("postgis"):
            write_inventory_postgis(to, layers, run_info=manifest)
    logger.info(
        "refresh: %d parcels in, %d kept, %d rejected; outputs in %s",
        counts["parcels_in"],
        counts["parcels_kept"],
        counts["parcels_rejected"],
        target,
    )
    files = [target / name for name in manifest["outputs"]]
    return RefreshResult(out_dir=target, files=files, counts=counts, timings_s=watch.timings)


def _check_quality(config: Config, counts: dict[str, int]) -> None:
    share = counts["parcels_rejected"] / max(counts["parcels_in"], 1)
    limit = config.quality.max_reject_share
    if share > limit:
        msg = (
            f"{counts['parcels_rejected']} of {counts['parcels_in']} parcels rejected "
            f"({share:.1%}), more than [quality] max_reject_share = {limit:.1%}; "
            "nothing published. See the rejects reasons in the log."
        )
        raise InputQualityError(msg)
