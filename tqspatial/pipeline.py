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
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from tqspatial import datasets, io
from tqspatial.access_stage import AccessResult, cluster_access, river_barriers
from tqspatial.config import Config, config_digest, load_config
from tqspatial.constraints import summarise_constraints, tianqiao_constraints
from tqspatial.errors import ConfigError, SchemaError, TqspatialError
from tqspatial.inventory import ParcelContext, ParcelResult, process_parcels
from tqspatial.labels import zh_headers
from tqspatial.network import load_network
from tqspatial.publish import output_lock, publish, staging_dir
from tqspatial.quality import QualityLog, quality_report, recording
from tqspatial.renewal import tianqiao_urban_area
from tqspatial.settings import get_settings
from tqspatial.structure import PlanStructure
from tqspatial.supply import Phasing, cluster_totals, ledger_zh

__all__ = ["InputQualityError", "RefreshResult", "draw_maps", "refresh"]

logger = logging.getLogger(__name__)

#: Written beside the previous outputs when a run stops on bad input.
FAILURE_REPORT = "quality_report.failed.md"

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
    facilities: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    anchors: gpd.GeoDataFrame
    flood_depth: io.Raster
    paths: dict[str, Path]
    districts: gpd.GeoDataFrame | None = None
    yellow_river: gpd.GeoDataFrame | None = None


#: Inputs the refresh reads; maps also read :data:`_MAP_INPUTS`.
_READ_INPUTS = (
    "boundary",
    "structure",
    "parcels",
    "facilities",
    "water",
    "anchors",
    "flood_depth",
    "roads",
)
_MAP_INPUTS = ("districts", "yellow_river")

#: Per-parcel measure on the accessibility map and in the atlas (median per cluster).
ACCESS_MAP_MEASURE = "walk_primary_school_min"


def _read_inputs(config: Config) -> _Inputs:
    names = _READ_INPUTS + (_MAP_INPUTS if config.maps.enabled else ())
    paths = {name: config.input_path(name) for name in names}
    opts = config.parcels
    boundary = io.read_districts(paths["boundary"])
    parcels = io.read_parcels(  # checked against the boundary: CRS fit, web-map offset
        paths["parcels"],
        layer=opts.layer or None,
        source_crs=opts.source_crs or None,
        encoding=opts.encoding or None,
        boundary=boundary,
    )
    facilities = io.read_facilities(paths["facilities"], boundary=boundary)
    return _Inputs(
        boundary=boundary,
        structure=io.read_structure(paths["structure"]).validate(boundary),
        parcels=parcels,
        facilities=facilities,
        water=io.read_vector(paths["water"], what="water"),
        anchors=io.read_points_csv(paths["anchors"]),
        flood_depth=io.read_raster(paths["flood_depth"]),
        paths=paths,
        districts=io.read_districts(paths["districts"]) if "districts" in paths else None,
        yellow_river=(
            io.read_vector(paths["yellow_river"], what="yellow river")
            if "yellow_river" in paths
            else None
        ),
    )


def _context(config: Config, data: _Inputs) -> ParcelContext:
    constraints = tianqiao_constraints(
        data.water, data.flood_depth, flood_threshold_m=config.supply.flood_depth_threshold_m
    )
    years = config.supply.phase_years
    return ParcelContext(
        structure=data.structure,
        boundary=data.boundary,
        constraints=constraints,
        urban_area=tianqiao_urban_area(data.boundary, data.water, data.anchors),
        facilities=data.facilities,
        outside="flag" if config.parcels.outside_district == "flag" else "clip",
        min_cluster_share=config.assign.min_cluster_share,
        landuse_scheme=config.parcels.landuse_scheme or None,
        phasing=Phasing(
            phases=(
                ("near", config.supply.first_year, years[0]),
                ("mid", years[0] + 1, years[1]),
                ("long", years[1] + 1, years[2]),
            )
        ),
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
    engine: str = "single",
    scheduler: str | None = None,
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
    engine : {"single", "dask"}, default "single"
        ``"dask"`` runs the parcel stages per spatial partition on a
        dask.distributed cluster (:mod:`tqspatial.distributed`); the results
        are identical.
    scheduler : str, optional
        With ``engine="dask"``: a scheduler address (``tcp://host:8786``);
        None starts a local cluster for the run.

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
    (GeoParquet), ``cluster_summary.csv`` (land per cluster),
    ``renewal_ledger.csv`` (supply per cluster x renewal type x phase),
    ``cluster_supply.csv`` (supply per cluster and district total),
    ``constraints_summary.csv``, ``rejects.csv``, ``quality_report.md``,
    ``quality_notes.csv`` (the quality log, one row per finding) and
    ``quality_notes.parquet`` (its source rows, one row per finding and
    row), ``tqspatial_inventory.xlsx`` (the tables with
    Chinese sheet names and headers) and ``manifest.json`` (inputs with
    SHA-256, config, package versions, counts, timings and warnings).  A run
    that stops on bad input writes only ``quality_report.failed.md``.

    Examples
    --------
    Without its two slowest stages:

    >>> import tempfile
    >>> from tqspatial.config import parse_config
    >>> quick = parse_config({"maps": {"enabled": False}, "accessibility": {"enabled": False}})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     result = refresh(quick, out_dir=d)
    ...     names = sorted(p.name for p in result.files)
    >>> names[:4]
    ['cluster_summary.csv', 'cluster_supply.csv', 'constraints_summary.csv', 'inventory.gpkg']
    """
    if engine not in {"single", "dask"}:
        msg = f"engine must be 'single' or 'dask', got {engine!r}"
        raise ConfigError(msg)
    if not isinstance(config, Config):
        config = load_config(config)
    target = _target(config, out_dir)
    stages: tuple[str, ...] = ("read", "validate", "assign", "supply")
    if config.accessibility.enabled:
        stages += ("accessibility",)
    if not dry_run:
        stages += (("maps",) if config.maps.enabled else ()) + ("write",)
    watch = _Stopwatch(len(stages), progress=progress)
    try:
        with output_lock(target):
            return _run(
                config,
                target,
                watch,
                dry_run=dry_run,
                if_changed=if_changed,
                to=to,
                engine=(engine, scheduler),
            )
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
    engine: tuple[str, str | None],
) -> RefreshResult:
    counts: dict[str, int] = {}
    with watch.stage("read"), recording() as read_log:
        data = _read_inputs(config)
        counts["parcels_in"] = len(data.parcels)
        fingerprint = _fingerprint(config, data.paths)
    if if_changed and not dry_run and _published_fingerprint(target) == fingerprint:
        logger.info("refresh: inputs and config unchanged since the last run; skipped")
        files = sorted(p for p in target.iterdir() if p.is_file())
        return RefreshResult(target, files, counts, watch.timings, skipped=True)
    try:
        result = _parcel_stages(data, _context(config, data), watch, engine, read_log)
    except TqspatialError as exc:
        _write_failure_report(target, read_log, counts, exc)
        raise
    counts["parcels_kept"], counts["parcels_rejected"] = len(result.parcels), len(result.rejects)
    counts["overlaps"] = len(result.overlaps)
    access = None
    if config.accessibility.enabled:
        with watch.stage("accessibility"):
            access = _accessibility(config, data, result.parcels)
            measures = access.parcels.drop(columns=["parcel_id"])
            result = dataclasses.replace(result, parcels=result.parcels.join(measures))
            counts["parcels_not_snapped"] = int(access.parcels["snap_reason"].notna().sum())
    report = _quality(config, result, counts, target)
    if dry_run:
        logger.info("refresh --dry-run: inputs and config are valid; nothing written")
        return RefreshResult(target, [], counts, watch.timings)
    layers = {
        "parcels": result.parcels,
        "structure": data.structure.to_frame(),
        "rejects": result.rejects,
        "overlaps": result.overlaps,
    }
    totals = cluster_totals(result.ledger, data.structure)
    if access is not None:
        layers["isochrones"] = access.isochrones
    tables = _table_writers(
        config, data, result=result, report=report, layers=layers, totals=totals, access=access
    )
    staging = staging_dir(target)
    try:
        maps_written: list[Path] = []
        if config.maps.enabled:
            with watch.stage("maps"):
                maps_written = _render_maps(
                    config, data, result, totals, access=access, out=staging / "maps"
                )
        with watch.stage("write"):
            for name, write in tables.items():
                write(staging / name)
            manifest = _manifest(
                config,
                data,
                log=result.log,
                fingerprint=fingerprint,
                counts=counts,
                timings=watch.timings,
                outputs=sorted(
                    [*tables, *(f"maps/{p.name}" for p in maps_written), "manifest.json"]
                ),
            )
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


def _manifest(
    config: Config,
    data: _Inputs,
    *,
    log: QualityLog,
    fingerprint: str,
    counts: dict[str, int],
    timings: dict[str, float],
    outputs: list[str],
) -> dict[str, Any]:
    return {
        "tqspatial_job": "refresh",
        "fingerprint": fingerprint,
        "config": config.as_dict(),
        "inputs": {
            name: {"path": str(path), "sha256": _sha256(path)}
            for name, path in sorted(data.paths.items())
        },
        "counts": counts,
        "timings_s": timings,
        "warnings": log.table().query("severity == 'warning'")["message"].tolist(),
        "versions": _versions(),
        "outputs": outputs,
        "synthetic_inputs": sorted(
            name for name, kind in datasets.RAW_FILES.items() if kind != "real"
        ),
    }


def _table_writers(
    config: Config,
    data: _Inputs,
    *,
    result: ParcelResult,
    report: str,
    layers: Mapping[str, pd.DataFrame],
    totals: pd.DataFrame,
    access: AccessResult | None,
) -> dict[str, Callable[[Path], Path]]:
    """Return output file name -> function writing it (into a given path)."""
    constraints = summarise_constraints(result.parcels, rows=result.parcels["renewal_type"].notna())
    tables: dict[str, Callable[[Path], Path]] = {
        "inventory.gpkg": lambda p: io.write_layers(p, layers),
        "parcels.parquet": lambda p: io.write_geoparquet(p, result.parcels),
        "cluster_summary.csv": lambda p: io.write_csv(p, result.summary),
        "renewal_ledger.csv": lambda p: io.write_csv(p, result.ledger),
        "cluster_supply.csv": lambda p: io.write_csv(p, totals),
        "constraints_summary.csv": lambda p: io.write_csv(p, constraints),
        "rejects.csv": lambda p: io.write_csv(p, result.rejects),
        "quality_report.md": lambda p: io.write_text(p, report),
        "quality_notes.csv": lambda p: io.write_csv(p, result.log.table()),
        "quality_notes.parquet": lambda p: io.write_geoparquet(p, result.log.details()),
    }
    sheets = {
        "组团汇总": result.summary,
        "更新用地供给": ledger_zh(totals, data.structure),
        "更新用地台账": ledger_zh(result.ledger, data.structure),
        "约束条件": constraints,
        "剔除记录": result.rejects,
    }
    if access is not None:
        linkage = access.linkage.rename_axis("cluster_id").reset_index()
        tables["accessibility_parcels.csv"] = lambda p: io.write_csv(p, access.parcels)
        tables["accessibility_clusters.csv"] = lambda p: io.write_csv(p, access.clusters)
        tables["cluster_linkage.csv"] = lambda p: io.write_csv(p, linkage)
        sheets["可达性"] = access.clusters
        sheets["组团联系"] = linkage
    if config.output.xlsx:
        headers = zh_headers(
            {str(c) for table in sheets.values() for c in table.columns},
            element_names=data.structure.elements["name_zh"].to_dict(),
        )
        tables["tqspatial_inventory.xlsx"] = lambda p: io.write_xlsx(p, sheets, headers=headers)
    return tables


def _accessibility(config: Config, data: _Inputs, parcels: gpd.GeoDataFrame) -> AccessResult:
    roads = data.paths["roads"]
    walk = load_network(roads, mode="walk")
    drive = load_network(roads, mode="drive")
    return cluster_access(
        walk,
        drive,
        parcels,
        data.facilities,
        structure=data.structure,
        anchors=data.anchors,
        barriers=river_barriers(data.water),
        max_snap_m=config.accessibility.max_snap_m,
        catchment_min=config.accessibility.cumulative_minutes,
    )


def _render_maps(
    config: Config,
    data: _Inputs,
    result: ParcelResult,
    totals: pd.DataFrame,
    *,
    access: AccessResult | None,
    out: Path,
) -> list[Path]:
    from tqspatial import maps  # noqa: PLC0415 - matplotlib only when maps are drawn

    layers = maps.MapLayers(
        structure=data.structure,
        boundary=data.boundary,
        districts=data.districts,
        yellow_river=data.yellow_river,
        water=data.water,
        anchors=data.anchors,
        parcels=result.parcels,
    )
    summary = result.summary.set_index("cluster_id")
    stats = pd.DataFrame(
        {
            "area_ha": summary["land_area_ha"],
            "net_supply_ha": totals.set_index("cluster_id")["net_supply_ha"],
        }
    )
    lang, dpi = config.maps.lang, config.maps.dpi
    figures = [
        ("landuse", maps.plot_landuse(result.parcels, lang=lang, boundary=data.boundary)[0]),
        (
            "renewal_supply",
            maps.plot_renewal_supply(result.parcels, lang=lang, boundary=data.boundary)[0],
        ),
    ]
    if access is not None:
        by_residents = access.clusters["weighted_by"] == "residents"
        school = access.clusters[by_residents & (access.clusters["measure"] == ACCESS_MAP_MEASURE)]
        stats["access_min"] = school.set_index("cluster_id")["median"]
        figures.append(
            (
                "access_primary_school",
                maps.plot_accessibility(
                    result.parcels,
                    column=ACCESS_MAP_MEASURE,
                    isochrones=access.isochrones,
                    facilities=data.facilities[data.facilities["kind"] == "primary_school"],
                    lang=lang,
                    title="步行至最近小学的时间"
                    if lang == "zh"
                    else "Walking time to primary school",
                    boundary=data.boundary,
                )[0],
            )
        )
        figures.append(
            (
                "life_circle_15min",
                maps.plot_coverage(
                    result.parcels, column="lc_15min_covered", lang=lang, boundary=data.boundary
                )[0],
            )
        )
    written = maps.render_maps(
        out, layers, cluster_stats=stats.reindex(data.structure.cluster_ids), lang=lang, dpi=dpi
    )
    for stem, fig in figures:
        written += maps.save_figure(fig, out / stem, formats=("png",), dpi=dpi)
    return written


def _layer_counts(counts: Mapping[str, int]) -> dict[str, int]:
    return {
        "input": counts.get("parcels_in", 0),
        "kept": counts.get("parcels_kept", 0),
        "rejected": counts.get("parcels_rejected", 0),
    }


def _write_failure_report(
    target: Path, log: QualityLog, counts: Mapping[str, int], error: Exception
) -> None:
    """Write the quality report of a failed run beside the (untouched) previous outputs."""
    text = quality_report(
        log,
        counts={"parcels": _layer_counts(counts)},
        title="Data-quality report: refresh FAILED, nothing published",
    )
    text += f"\n## Why the refresh stopped\n\n{error}\n"
    path = io.write_text(target / FAILURE_REPORT, text)
    logger.error("refresh failed on bad input; report written to %s", path)


def _parcel_stages(
    data: _Inputs,
    context: ParcelContext,
    watch: _Stopwatch,
    engine: tuple[str, str | None],
    read_log: QualityLog,
) -> ParcelResult:
    """Run the parcel stages; the result's log holds the reading's findings too."""
    name, scheduler = engine
    if name == "single":
        result = process_parcels(data.parcels, context, stage=watch.stage)
    else:
        from tqspatial.distributed import process_parcels_partitioned  # noqa: PLC0415 - dask only

        with watch.stage("parcels (dask)"):
            result = process_parcels_partitioned(data.parcels, context, scheduler=scheduler)
    return dataclasses.replace(result, log=QualityLog().extend(read_log).extend(result.log))


def _quality(config: Config, result: ParcelResult, counts: dict[str, int], target: Path) -> str:
    """Return the quality report; on too many rejects write it as a failure report and raise."""
    report = quality_report(
        result.log,
        counts={"parcels": _layer_counts(counts)},
        title="Data-quality report: tqspatial refresh",
    )
    try:
        _check_quality(config, counts)
    except InputQualityError as exc:
        _write_failure_report(target, result.log, counts, exc)
        raise
    return report


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


def draw_maps(
    config: Config | str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    lang: str | None = None,
    formats: tuple[str, ...] = ("png", "pdf", "svg"),
    dpi: int | None = None,
    atlas: bool = True,
    html: bool = False,
) -> list[Path]:
    """Draw the cluster map (and atlas, web map) from the config's inputs, without a refresh.

    Parameters
    ----------
    config : Config, str or os.PathLike, optional
        A config or TOML file; None uses the embedded dataset.
    out_dir : str or os.PathLike, optional
        Folder; default ``maps/`` in the refresh's output folder.
    lang : {"zh", "en", "both"}, optional
        Label language; default ``[maps] lang``.
    formats : tuple of str, default ("png", "pdf", "svg")
        Formats of the overview map.
    dpi : int, optional
        PNG resolution; default ``[maps] dpi``.
    atlas : bool, default True
        Also write the multi-page PDF atlas.
    html : bool, default False
        Also write the standalone HTML web map with parcels.

    Returns
    -------
    list of pathlib.Path
        Files written.
    """
    from tqspatial import maps  # noqa: PLC0415 - matplotlib only when maps are drawn

    if not isinstance(config, Config):
        config = load_config(config)
    target = Path(out_dir) if out_dir is not None else _target(config, None) / "maps"
    boundary = io.read_districts(config.input_path("boundary"))
    layers = maps.MapLayers(
        structure=io.read_structure(config.input_path("structure")).validate(boundary),
        boundary=boundary,
        districts=io.read_districts(config.input_path("districts")),
        yellow_river=io.read_vector(config.input_path("yellow_river"), what="yellow river"),
        water=io.read_vector(config.input_path("water"), what="water"),
        anchors=io.read_points_csv(config.input_path("anchors")),
        parcels=io.read_parcels(config.input_path("parcels")) if (html or atlas) else None,
    )
    return maps.render_maps(
        target,
        layers,
        lang=lang or config.maps.lang,
        formats=formats,
        dpi=dpi or config.maps.dpi,
        atlas=atlas,
        html=html,
    )
