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
import functools
import hashlib
import importlib.util
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial import io
from tqspatial._optional import require
from tqspatial.access_stage import AccessResult, cluster_access
from tqspatial.changes import RENAME_IOU_MIN, InventoryChanges, compare_inventories
from tqspatial.config import Config, config_digest, load_config
from tqspatial.district import (
    Layer,
    build_barriers,
    build_capacity,
    build_constraints,
    build_urban_area,
    capacity_gaps,
    layer_coverage,
    standard_facility_kinds,
)
from tqspatial.errors import ConfigError, SchemaError, TqspatialError
from tqspatial.inventory import ParcelContext, ParcelResult, process_parcels
from tqspatial.network import CompiledNetwork, file_sha256, load_networks, road_filter_counts
from tqspatial.preflight import OutputPlan, check_output
from tqspatial.profile import DistrictProfile, LayerSpec
from tqspatial.publish import (
    FAILURE_REPORT,
    link_or_copy,
    output_lock,
    publish,
    read_owner,
    staged,
    write_beside,
)
from tqspatial.quality import QualityLog, logged_by_kind, quality_report, recording
from tqspatial.results import Inventory, build_inventory, no_access_counts
from tqspatial.settings import get_settings
from tqspatial.structure import CLUSTER_KIND, PlanStructure, StructureError
from tqspatial.supply import Capacity, Phasing
from tqspatial.vocabulary import (
    CLUSTER_SPECIAL_NAMES,
    COLUMN_NAMES,
    CONSTRAINT_SPECIAL_NAMES,
    LINKAGE_HEADER,
    NOTE_SECTION_NAMES,
    PHASE_NAMES,
    PROVENANCE_NAMES,
    SHEET_NAMES,
    SHEET_NOTES,
    term,
)

__all__ = [
    "DistrictInputs",
    "InputQualityError",
    "RefreshResult",
    "accessibility_stage",
    "constraint_names",
    "diff_inventories",
    "district_networks",
    "draw_maps",
    "init_profile",
    "map_layers",
    "parcel_context",
    "progress_default",
    "read_inputs",
    "refresh",
    "workbook_sheets",
]

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
    """Times stages and logs each; with ``progress``, shows a bar (see :func:`_progress_bar`).

    While the bar is shown, console log lines go through ``tqdm.write`` so they
    do not break it, and :meth:`tick` counts the items of a stage (the maps
    drawn) on a second bar.  Findings noted in a stage are logged once per
    kind at its end (:func:`tqspatial.quality.logged_by_kind`).
    """

    def __init__(self, stages: int, *, progress: bool) -> None:
        self.timings: dict[str, float] = {}
        self.bar: Any = None
        self.items: Any = None
        self.current = ""
        self._tqdm: Any = None
        self._redirect = contextlib.ExitStack()
        if progress:
            self._tqdm = _progress_class()
            self.bar = self._tqdm(total=stages, unit="stage", desc="refresh", leave=False)
            self._redirect.enter_context(_log_through(self._tqdm))

    def close(self) -> None:
        self._close_items()
        if self.bar is not None:
            self.bar.close()
        self._redirect.close()

    def _close_items(self) -> None:
        if self.items is not None:
            self.items.close()
            self.items = None

    def tick(self, name: str) -> None:
        """Count one item of the current stage as done (e.g. a map written), named ``name``."""
        if self.bar is None:
            return
        if self.items is None:
            self.items = self._tqdm(
                total=None, unit="map", desc=f"  {self.current}", leave=False, position=1
            )
        self.items.set_postfix_str(name, refresh=False)
        self.items.update(1)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self.current = name
        if self.bar is not None:
            self.bar.set_description(f"refresh: {name}")
        logger.info("stage %s: start", name)
        with logged_by_kind():
            yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        self._close_items()
        if self.bar is not None:
            self.bar.update(1)
        logger.info("stage %s: done in %.2f s", name, self.timings[name])


def progress_default() -> bool:
    """Whether a refresh shows progress when not told: in a terminal or a Jupyter notebook.

    Returns
    -------
    bool
        True when standard error is a terminal or the code runs in a Jupyter
        kernel; False in batch runs (cron, CI, output redirected to a file).

    Examples
    --------
    >>> progress_default()  # the doctests run with standard error captured
    False
    """
    return sys.stderr.isatty() or _in_jupyter()


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _progress_class() -> Any:  # noqa: ANN401 - a tqdm class
    """Return ``tqdm.auto``'s bar: a widget in Jupyter (ipywidgets: ``[notebook]``), else text."""
    if _in_jupyter() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm  # noqa: PLC0415 - only when a bar is shown

        return tqdm
    from tqdm.std import tqdm as text_bar  # noqa: PLC0415 - without ipywidgets: no warning

    return text_bar


def _is_console(handler: logging.Handler) -> bool:
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and handler.stream in {sys.stdout, sys.stderr}
    )


@contextlib.contextmanager
def _log_through(bar_class: Any) -> Iterator[None]:  # noqa: ANN401 - a tqdm class
    """Route console log lines of tqspatial's and the root logger through ``tqdm.write``."""
    from tqdm.contrib.logging import logging_redirect_tqdm  # noqa: PLC0415 - with a bar only

    loggers = [
        log
        for log in (logging.getLogger("tqspatial"), logging.getLogger())
        if any(_is_console(h) for h in log.handlers)
    ]
    if not loggers:  # nothing is printed: do not add a console handler
        yield
        return
    with logging_redirect_tqdm(loggers=loggers, tqdm_class=bar_class):
        yield


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


#: Layers a refresh cannot run without.
REQUIRED_LAYERS = ("boundary", "structure", "parcels")

#: Layers drawn by the maps only.
MAP_LAYERS = ("districts", "rivers", "water")

#: Share of the district a layer's extent must cover before the report warns.
COVERAGE_WARNING = 0.95

#: Share of the district the road network must cover for accessibility to run at all.
MIN_NETWORK_COVERAGE = 0.5


@dataclasses.dataclass(frozen=True)
class DistrictInputs:
    """Every input of a refresh, read once (working CRS), with its file and checksum.

    Attributes
    ----------
    profile : DistrictProfile
        The district profile.
    boundary, parcels : geopandas.GeoDataFrame
        The district and its parcels.
    structure : PlanStructure
        The plan, validated against the boundary.
    facilities, anchors, districts, rivers : geopandas.GeoDataFrame or None
        Optional layers (None when the profile does not list them).
    others : dict of str to layer
        The profile's other layers (constraint, urban-area, barrier and map layers).
    layers : dict of str to LayerSpec
        Every layer read (and the road network), with its file.
    sha256 : dict of str to str
        SHA-256 of each of those files (and of the profile, key ``profile``), computed once.
    log : QualityLog
        What reading and the inputs' checks found (encodings, CRS, repairs, coverage
        of the district, layers not given).
    """

    profile: DistrictProfile
    boundary: gpd.GeoDataFrame
    structure: PlanStructure
    parcels: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame | None
    anchors: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    rivers: gpd.GeoDataFrame | None
    others: dict[str, Layer]
    layers: dict[str, LayerSpec]
    sha256: dict[str, str]
    log: QualityLog


def _note(
    log: QualityLog,
    kind: str,
    message: str,
    *,
    layer: str,
    level: str = "warning",
    count: int | None = None,
) -> None:
    """Record a finding about the inputs (stage ``inputs``) in ``log``."""
    log.add(layer=layer, stage="inputs", kind=kind, message=message, severity=level, count=count)


def _wanted_layers(config: Config, profile: DistrictProfile, *, maps: bool) -> list[str]:
    names = [*REQUIRED_LAYERS, "facilities", "anchors", *profile.referenced_layers()]
    if config.accessibility.enabled:
        names.append("roads")
    if maps:
        names += list(MAP_LAYERS)
    return list(dict.fromkeys(names))


def _check_layers(config: Config, specs: Mapping[str, LayerSpec], wanted: list[str]) -> None:
    """Raise one ConfigError for every layer the run needs but nobody gave."""
    where = config.input_path("profile")
    problems = [
        f'no {name} layer: add `{name} = "<file>"` to [layers] in {where} '
        f"or to [inputs] in the config"
        for name in REQUIRED_LAYERS
        if name not in specs
    ]
    if config.accessibility.enabled:
        problems += [
            f"[accessibility] enabled needs a {name} layer: add it to [layers] in {where} "
            "or set [accessibility] enabled = false"
            for name in ("roads", "facilities")
            if name not in specs
        ]
    missing = [name for name in wanted if name in specs and not specs[name].path.is_file()]
    problems += [f"{name} layer file not found: {specs[name].path}" for name in missing]
    if problems:
        raise ConfigError("refresh inputs: " + "; ".join(problems))


def _read_layer(config: Config, spec: LayerSpec, boundary: gpd.GeoDataFrame) -> Layer:
    """Read one layer; parcels and facilities are checked against the district boundary."""
    if spec.is_raster:
        return io.read_raster(spec.path)
    if spec.name == "parcels":
        opts = config.parcels
        return io.read_parcels(
            spec.path,
            layer=opts.layer or None,
            source_crs=opts.source_crs or None,
            encoding=opts.encoding or None,
            boundary=boundary,  # CRS fit and web-map offset
        )
    if spec.name == "districts":
        return io.read_districts(spec.path)
    if spec.name == "facilities":
        return io.read_facilities(spec.path, boundary=boundary)
    if spec.name == "anchors":
        return io.read_points_csv(spec.path)
    return io.read_vector(spec.path, what=spec.name)


def _vector(layer: Layer, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Return a layer that must be vector data, or say that the profile named a raster."""
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = f"the {spec.name} layer must be a vector file, got a raster: {spec.path}"
        raise ConfigError(msg)
    return layer


def _is_surface(layer: Layer) -> bool:
    """Return whether a layer should cover the district (rasters, points), not only touch it."""
    if not isinstance(layer, gpd.GeoDataFrame):
        return True
    return bool(len(layer)) and bool(layer.geom_type.isin(["Point", "MultiPoint"]).all())


def _check_coverage(inputs: DistrictInputs) -> None:
    """Check each layer's coverage of the district; raise where a layer misses it entirely."""
    district = shapely.union_all(inputs.boundary.geometry.to_numpy())
    problems: list[str] = []
    checked: dict[str, Layer] = dict(inputs.others)
    if inputs.facilities is not None:
        checked["facilities"] = inputs.facilities
    for name, layer in checked.items():
        share = layer_coverage(district, layer)
        path = inputs.layers[name].path
        if share == 0.0:
            problems.append(
                f"{name} layer {path} does not overlap the district at all (check its CRS, "
                "or that it is this district's file)"
            )
        elif share < COVERAGE_WARNING and _is_surface(layer):
            _note(
                inputs.log,
                "partial_coverage",
                f"{name} layer {path} covers only {share:.1%} of the district; "
                "results there are incomplete",
                layer=name,
            )
    if problems:
        raise SchemaError("refresh inputs: " + "; ".join(problems))


def read_inputs(config: Config, *, maps: bool = False) -> DistrictInputs:
    """Read every layer a run needs once, hash each file once, and check the layers.

    Parameters
    ----------
    config : Config
        The run's config; its ``[inputs] profile`` names the district profile.
    maps : bool, default False
        Also read the layers only maps draw (districts, rivers, water).

    Returns
    -------
    DistrictInputs
        The layers in the working CRS, their files and checksums, and the
        quality log of the reading.

    Raises
    ------
    ConfigError
        If a layer the run needs is not given (listing every one and where to add it).
    SchemaError
        If a layer does not overlap the district at all, or the structure has no cluster.

    Examples
    --------
    >>> data = read_inputs(Config())
    >>> data.profile.name_zh, sorted(data.others)
    ('天桥区', ['flood_depth', 'water'])
    """
    profile = config.district_profile()
    specs = config.layers(profile)
    wanted = _wanted_layers(config, profile, maps=maps)
    _check_layers(config, specs, wanted)
    used = {name: specs[name] for name in wanted if name in specs}
    with recording() as log:
        boundary = io.read_districts(used["boundary"].path)
        read = {
            name: _read_layer(config, spec, boundary)
            for name, spec in used.items()
            if name not in ("roads", "boundary")
        }
    parcels = _vector(read.pop("parcels"), used["parcels"])
    structure_frame = _vector(read.pop("structure"), used["structure"])
    structure = PlanStructure.from_frame(structure_frame, boundary=boundary)
    if not structure.cluster_ids:
        msg = (
            f"plan structure {used['structure'].path} has no element of kind "
            f"{CLUSTER_KIND!r} (kinds: {structure.kinds}); a refresh assigns parcels to "
            "clusters: add at least one (kind = cluster or 组团)"
        )
        raise StructureError(msg)
    facilities = read.pop("facilities", None)
    if isinstance(facilities, gpd.GeoDataFrame):
        facilities = standard_facility_kinds(facilities, profile.facility_kinds)
    anchors = read.pop("anchors", None)
    districts = read.pop("districts", None)
    rivers = read.pop("rivers", None)
    for name in wanted:
        if name in specs or name in REQUIRED_LAYERS:
            continue
        _note(
            log,
            "layer_not_given",
            f"the profile lists no {name} layer; "
            + ("maps draw without it" if name in MAP_LAYERS else "it is not used"),
            layer=name,
            level="info",
        )
    inputs = DistrictInputs(
        profile=profile,
        boundary=boundary,
        structure=structure,
        parcels=parcels,
        facilities=facilities if isinstance(facilities, gpd.GeoDataFrame) else None,
        anchors=anchors if isinstance(anchors, gpd.GeoDataFrame) else None,
        districts=districts if isinstance(districts, gpd.GeoDataFrame) else None,
        rivers=rivers if isinstance(rivers, gpd.GeoDataFrame) else None,
        others=read,
        layers=used,
        sha256={
            **{name: file_sha256(spec.path) for name, spec in used.items()},
            **({"profile": file_sha256(profile.path)} if profile.path is not None else {}),
        },
        log=log,
    )
    _check_coverage(inputs)
    return inputs


def parcel_context(config: Config, data: DistrictInputs) -> ParcelContext:
    """Build the parcel stages' context from what :func:`read_inputs` read and the profile.

    Parameters
    ----------
    config : Config
        The run's options (outside rule, cluster share, land-use scheme, phase years).
    data : DistrictInputs
        The district's layers and profile; findings on the urban area and the
        capacity targets are added to ``data.log``.

    Returns
    -------
    ParcelContext
        Structure, boundary, constraints, urban area, facilities, capacity and phasing.

    Examples
    --------
    >>> ctx = parcel_context(Config(), read_inputs(Config()))
    >>> [c.name for c in ctx.constraints]
    ['yellow_river', 'xiaoqing_river', 'flood_depth']
    """
    profile = data.profile
    layers = {**data.others, "boundary": data.boundary}
    urban = build_urban_area(profile, data.boundary, layers, data.anchors)
    _note(
        data.log,
        "urban_area",
        f"urban area for the 城中村 rule: {urban.description}",
        layer="profile",
        level="info",
    )
    years = config.supply.phase_years
    return ParcelContext(
        structure=data.structure,
        boundary=data.boundary,
        constraints=build_constraints(profile, layers),
        urban_area=urban.geometry,
        facilities=data.facilities,
        outside="flag" if config.parcels.outside_district == "flag" else "clip",
        min_cluster_share=config.assign.min_cluster_share,
        landuse_scheme=config.parcels.landuse_scheme or None,
        capacity=_capacity(data),
        phasing=Phasing(
            phases=(
                ("near", config.supply.first_year, years[0]),
                ("mid", years[0] + 1, years[1]),
                ("long", years[1] + 1, years[2]),
            )
        ),
    )


def _capacity(data: DistrictInputs) -> Capacity:
    """Return the profile's capacity targets for this plan; note clusters on generic ones."""
    capacity = build_capacity(data.profile, data.structure)
    for gap in capacity_gaps(data.profile, data.structure):
        _note(data.log, "capacity_targets", gap, layer="profile")
    return capacity


def _fingerprint(config: Config, data: DistrictInputs) -> str:
    digest = hashlib.sha256()
    digest.update(config_digest(config).encode())
    digest.update(_versions().get("tqspatial", "").encode())
    for name in sorted(data.sha256):
        digest.update(f"{name}={data.sha256[name]}".encode())
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
    """Return the output folder, resolved: a symlinked folder is published into, not replaced."""
    if out_dir is not None:
        return Path(out_dir).expanduser().resolve()
    if config.output.dir:
        base = config.base_dir or Path.cwd()
        return (base / config.output.dir).resolve()
    return (get_settings().data_dir / "processed").resolve()


def refresh(
    config: Config | str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    if_changed: bool = False,
    progress: bool | None = None,
    to: str | None = None,
    engine: str = "single",
    scheduler: str | None = None,
    force: bool = False,
) -> RefreshResult:
    """Run the inventory refresh (by default on the embedded Tianqiao dataset).

    Parameters
    ----------
    config : Config, str or os.PathLike, optional
        A config or a TOML file (see ``tqspatial init-config``); None uses
        the defaults, which point at the embedded dataset.
    out_dir : str or os.PathLike, optional
        Output folder; overrides ``[output] dir``.  Default
        ``data/processed`` under the settings' ``data_dir`` (``./data`` in the working directory).
    dry_run : bool, default False
        Read and validate the inputs and the config, write nothing.
    if_changed : bool, default False
        Skip the run (``skipped=True``) when the published manifest has the
        same input fingerprint.
    progress : bool, optional
        Show progress: a bar of the stages, and of the maps drawn in the maps
        stage (``tqdm.auto``: a widget in Jupyter with the ``[notebook]`` extra,
        text on standard error otherwise); log lines printed to the console
        then go through the bar.  Default (None): on in a terminal or a
        notebook, off in batch runs (:func:`progress_default`).
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
    force : bool, default False
        Publish into a folder that holds files tqspatial did not write,
        replacing them (without it such a folder is refused before the run).

    Returns
    -------
    RefreshResult
        Paths, counts and timings.

    Raises
    ------
    InputQualityError
        If more parcels are rejected than ``[quality] max_reject_share``
        allows; nothing is published.
    OutputError
        Before anything is read, if the output folder is a file, holds files
        tqspatial did not write (without ``force``), is not writable or has
        no room; or, at the end, if the disk fills up (the previous outputs
        stay).
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
    row), ``tqspatial_inventory.xlsx`` (the tables in Chinese, with
    number formats by unit and a first sheet 说明 on contents, sources,
    assumptions and synthetic data; see :func:`workbook_sheets`) and ``manifest.json`` (inputs with
    SHA-256, config, package versions, counts, timings and warnings).  A run
    that stops on bad input writes only ``quality_report.failed.md``.

    The output folder is owned by tqspatial (marker ``.tqspatial-output``):
    files a user adds to it are kept across refreshes; a folder holding
    foreign files is refused before the run.  A dry run reads and checks
    everything but writes nothing and takes no lock.

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
    if engine == "dask":  # before any work: say which extra is missing
        require("distributed", feature="refresh --engine dask")
    if not isinstance(config, Config):
        config = load_config(config)
    target = _target(config, out_dir)
    stages: tuple[str, ...] = ("read", "validate", "assign", "supply")
    if engine == "dask":
        stages = ("read", "parcels (dask)")
    if config.accessibility.enabled:
        stages += ("accessibility",)
    if not dry_run:
        stages += ("changes",) + (("maps",) if config.maps.enabled else ()) + ("write",)
        stages += ("postgis",) if to is not None else ()
    # a dry run checks the output folder too (without writing) but takes no lock
    checked = check_output(target, job="refresh", force=force, dry_run=dry_run)
    plan = None if dry_run else checked
    if to is not None:
        require("psycopg", feature="refresh --to (PostGIS)")
        from tqspatial.postgis import check_database  # noqa: PLC0415 - optional dependency

        logger.info("refresh --to: %s", check_database(to))
    watch = _Stopwatch(len(stages), progress=progress_default() if progress is None else progress)
    run = functools.partial(
        _run,
        config,
        target,
        watch,
        plan=plan,
        if_changed=if_changed,
        to=to,
        engine=(engine, scheduler),
    )
    try:
        if plan is None:
            return run()
        with output_lock(target):
            return run()
    finally:
        watch.close()


def _run(
    config: Config,
    target: Path,
    watch: _Stopwatch,
    *,
    plan: OutputPlan | None,
    if_changed: bool,
    to: str | None,
    engine: tuple[str, str | None],
) -> RefreshResult:
    counts: dict[str, int] = {}
    dry_run = plan is None
    with watch.stage("read"):
        data = read_inputs(config, maps=config.maps.enabled and not dry_run)
        counts["parcels_in"] = len(data.parcels)
        fingerprint = _fingerprint(config, data)
    if if_changed and not dry_run and _published_fingerprint(target) == fingerprint:
        logger.info("refresh: inputs and config unchanged since the last run; skipped")
        files = sorted(p for p in target.iterdir() if p.is_file())
        return RefreshResult(target, files, counts, watch.timings, skipped=True)
    try:
        result = _parcel_stages(data, parcel_context(config, data), watch, engine)
        _check_quality(config, {**counts, "parcels_rejected": len(result.rejects)})
    except TqspatialError as exc:
        failed = locals().get("result")
        log = QualityLog().extend(data.log)
        if failed is not None:
            log.extend(failed.log)
        if not dry_run:
            _write_failure_report(target, log, counts, exc)
        raise
    access = None
    nets: dict[str, CompiledNetwork] = {}
    if config.accessibility.enabled:
        with watch.stage("accessibility"):
            nets = district_networks(config, data)
            access = accessibility_stage(config, data, result.parcels, networks=nets)
    inventory = build_inventory(
        result,
        data.structure,
        access=access,
        access_measure=data.profile.maps.measure or None,
        log=data.log,
        counts=counts,
    )
    if dry_run:
        logger.info("refresh --dry-run: inputs and config are valid; nothing written")
        return RefreshResult(target, [], inventory.counts, watch.timings)
    if plan is None:  # unreachable: only a dry run has no plan
        msg = "refresh: no output plan"
        raise RuntimeError(msg)
    manifest = _publish_outputs(
        config,
        data,
        inventory,
        target=target,
        plan=plan,
        watch=watch,
        fingerprint=fingerprint,
        roads=road_filter_counts(nets),
    )
    if to is not None:
        from tqspatial.postgis import write_inventory_postgis  # noqa: PLC0415 - optional

        with watch.stage("postgis"):
            write_inventory_postgis(to, _gpkg_layers(inventory), run_info=manifest)
    counts = inventory.counts
    logger.info(
        "refresh: %d parcels in, %d kept, %d rejected; outputs in %s",
        counts["parcels_in"],
        counts["parcels_kept"],
        counts["parcels_rejected"],
        target,
    )
    files = [target / name for name in manifest["outputs"]]
    return RefreshResult(out_dir=target, files=files, counts=counts, timings_s=watch.timings)


def _publish_outputs(
    config: Config,
    data: DistrictInputs,
    inventory: Inventory,
    *,
    target: Path,
    plan: OutputPlan,
    watch: _Stopwatch,
    fingerprint: str,
    roads: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Compare with the previous inventory, write every output into staging, publish it.

    Returns
    -------
    dict
        The manifest written.
    """
    with watch.stage("changes"):
        changes, changes_text = _changes(config, target, inventory)
    report = _report(inventory) + changes_text
    tables = _table_writers(config, data, inventory, report=report, changes=changes)
    with staged(target) as staging:
        maps_written: list[Path] = []
        if config.maps.enabled:
            with watch.stage("maps"):
                maps_written = _render_maps(
                    config, data, inventory, out=staging / "maps", on_map=watch.tick
                )
        with watch.stage("write"):
            for name, write in tables.items():
                write(staging / name)
            kept: list[str] = []
            if changes is not None:
                kept += [p.name for p in io.write_changes(staging, changes)]
                kept += _keep_previous(config, target, staging)
            manifest = _manifest(
                config,
                data,
                inventory,
                fingerprint=fingerprint,
                timings=watch.timings,
                roads=roads,
                outputs=sorted(
                    [
                        *tables,
                        *(f"maps/{p.name}" for p in maps_written),
                        *kept,
                        "manifest.json",
                    ]
                ),
            )
            if changes is not None:
                manifest["changes"] = dict(changes.counts)
            io.write_json(staging / "manifest.json", manifest)
            publish(staging, target, job="refresh", take_over=plan.take_over)
    return manifest


def _note_access(log: QualityLog, access: AccessResult) -> None:
    missing = no_access_counts(access)
    if not missing:
        return
    total = sum(missing.values())
    reasons = ", ".join(f"{reason}: {count}" for reason, count in missing.items())
    _note(
        log,
        "no_accessibility",
        f"{total} parcels have no accessibility measures ({reasons}); beyond_max_snap: farther "
        "than [accessibility] max_snap_m from any road; barrier: the nearest roads lie across a "
        "[snapping] barrier; no_geometry: empty geometry",
        layer="parcels",
        count=total,
    )


def _report(inventory: Inventory) -> str:
    return quality_report(
        inventory.log,
        counts={"parcels": _layer_counts(inventory.counts)},
        title="Data-quality report: tqspatial refresh",
    )


def _provenance(data: DistrictInputs) -> dict[str, str]:
    """Layer name -> real / indicative / synthetic, as declared by the profile."""
    return {
        name: spec.provenance for name, spec in data.layers.items() if spec.provenance is not None
    }


def _manifest(
    config: Config,
    data: DistrictInputs,
    inventory: Inventory,
    *,
    fingerprint: str,
    timings: dict[str, float],
    roads: dict[str, dict[str, Any]],
    outputs: list[str],
) -> dict[str, Any]:
    inputs = {
        name: {"path": str(spec.path), "sha256": data.sha256[name]}
        for name, spec in sorted(data.layers.items())
    }
    if data.profile.path is not None:
        inputs["profile"] = {
            "path": str(data.profile.path),
            "sha256": data.sha256["profile"],
        }
    provenance = _provenance(data)
    return {
        "tqspatial_job": "refresh",
        "fingerprint": fingerprint,
        "config": config.as_dict(),
        "district": {"name_zh": data.profile.name_zh, "adcode": data.profile.adcode},
        "inputs": inputs,
        "counts": inventory.counts,
        "road_filter": roads,
        "timings_s": timings,
        "warnings": inventory.log.table().query("severity == 'warning'")["message"].tolist(),
        "versions": _versions(),
        "outputs": outputs,
        "provenance": provenance,
        "synthetic_inputs": sorted(
            data.layers[name].path.name
            for name, label in provenance.items()
            if label == "synthetic"
        ),
        "indicative_inputs": sorted(
            data.layers[name].path.name
            for name, label in provenance.items()
            if label == "indicative"
        ),
        "attribution": sorted(
            {spec.attribution for spec in data.layers.values() if spec.attribution}
        ),
    }


def _gpkg_layers(inventory: Inventory) -> dict[str, pd.DataFrame]:
    layers: dict[str, pd.DataFrame] = {
        "parcels": inventory.parcels,
        "structure": inventory.structure.to_frame(),
        "rejects": inventory.rejects,
        "overlaps": inventory.overlaps,
    }
    if inventory.access is not None:
        layers["isochrones"] = inventory.access.isochrones
    return layers


#: Subfolder of a refresh's outputs holding the previous run's inventory.
PREVIOUS_DIR = "previous"


def _changes(
    config: Config, target: Path, inventory: Inventory
) -> tuple[InventoryChanges | None, str]:
    """Compare this run with the inventory published in ``target``; return it and its report.

    A first run, a folder of another job and a previous inventory that cannot be compared
    (damaged, another CRS ...) give no comparison and a line saying why: the change report
    never stops a refresh.
    """
    heading = "\n## 清单变化 / Inventory changes\n\n"
    if not config.changes.enabled:
        return None, ""
    if read_owner(target) != "refresh" or not (target / io.INVENTORY_FILES["parcels"]).is_file():
        # no path in the text: the report of a first run is the same in any folder
        return None, f"{heading}首次运行 / first run: no previous inventory in the output folder.\n"
    try:
        previous = io.read_inventory(target)
        label = f"previous run {str(previous.manifest.get('fingerprint', ''))[:8]}".strip()
        changes = compare_inventories(
            dataclasses.replace(previous, label=label),
            inventory.snapshot(),
            iou_min=config.changes.iou_min,
        )
    except TqspatialError as exc:
        logger.warning("refresh: no change report: %s", exc)
        return None, f"{heading}变化报告未生成 / no change report: {exc}\n"
    logger.info("refresh: changes since the previous run: %s", dict(changes.counts))
    return changes, "\n" + changes.summary.strip() + "\n"


def _keep_previous(config: Config, target: Path, staging: Path) -> list[str]:
    """Link the previous inventory's files into ``staging/previous/``; return their paths."""
    if not config.changes.keep_previous:
        return []
    kept = []
    for name in io.INVENTORY_FILES.values():
        source = target / name
        if source.is_file():
            link_or_copy(source, staging / PREVIOUS_DIR / name)
            kept.append(f"{PREVIOUS_DIR}/{name}")
    return kept


def _table_writers(
    config: Config,
    data: DistrictInputs,
    inventory: Inventory,
    *,
    report: str,
    changes: InventoryChanges | None = None,
) -> dict[str, Callable[[Path], Path]]:
    """Return output file name -> function writing it (into a given path)."""
    layers = _gpkg_layers(inventory)
    tables: dict[str, Callable[[Path], Path]] = {
        "inventory.gpkg": lambda p: io.write_layers(p, layers),
        "parcels.parquet": lambda p: io.write_geoparquet(p, inventory.parcels),
        "cluster_summary.csv": lambda p: io.write_csv(p, inventory.summary),
        "renewal_ledger.csv": lambda p: io.write_csv(p, inventory.ledger),
        "cluster_supply.csv": lambda p: io.write_csv(p, inventory.totals),
        "constraints_summary.csv": lambda p: io.write_csv(p, inventory.constraints),
        "rejects.csv": lambda p: io.write_csv(p, inventory.rejects),
        "quality_report.md": lambda p: io.write_text(p, report),
        "quality_notes.csv": lambda p: io.write_csv(p, inventory.log.table()),
        "quality_notes.parquet": lambda p: io.write_geoparquet(p, inventory.log.details()),
    }
    access = inventory.access
    if access is not None:
        linkage = access.linkage.rename_axis("cluster_id").reset_index()
        tables["accessibility_parcels.csv"] = lambda p: io.write_csv(p, access.parcels)
        tables["accessibility_clusters.csv"] = lambda p: io.write_csv(p, access.clusters)
        tables["cluster_linkage.csv"] = lambda p: io.write_csv(p, linkage)
    if config.output.xlsx:
        sheets = workbook_sheets(config, data, inventory, changes=changes)
        tables["tqspatial_inventory.xlsx"] = lambda p: io.write_xlsx(p, sheets)
    return tables


# --------------------------------------------------------------------------- workbook

#: Prefix of the linkage table's bridge columns (:func:`tqspatial.accessibility.linkage_table`).
_BRIDGE_PREFIX = "bridge:"


def workbook_sheets(
    config: Config,
    data: DistrictInputs,
    inventory: Inventory,
    *,
    changes: InventoryChanges | None = None,
) -> dict[str, io.Sheet]:
    """Return the sheets of ``tqspatial_inventory.xlsx``: Chinese names, headers and values.

    Every header and categorical value comes from :mod:`tqspatial.vocabulary` or, for
    what only the district knows (plan elements, anchors, constraints), from its
    structure, anchors layer and profile.  The first sheet, 说明, says what each sheet
    holds, where the inputs come from, the assumptions and what is synthetic.

    Parameters
    ----------
    config : Config
        The refresh configuration (phases, assignment share, accessibility settings).
    data : DistrictInputs
        The inputs (profile, layers, structure, anchors).
    inventory : Inventory
        The results.
    changes : InventoryChanges, optional
        The comparison with the previous inventory (sheets 变化 and 组团变化).

    Returns
    -------
    dict of str to Sheet
        Sheet name -> sheet, in workbook order.
    """
    names = data.structure.elements["name_zh"].astype(str).to_dict()
    sheets: dict[str, io.Sheet] = {
        "summary": io.zh_sheet(inventory.summary, element_names=names),
        "supply": io.zh_sheet(inventory.totals, element_names=names),
        "ledger": io.zh_sheet(inventory.ledger, element_names=names),
        "constraints": io.zh_sheet(
            # the inventory totals constraints over renewal candidates only: the header says so
            inventory.constraints.rename(columns={"area_ha": "candidate_constrained_ha"}),
            value_names={"constraint": constraint_names(data.profile)},
        ),
        "rejects": io.zh_sheet(inventory.rejects),
    }
    access = inventory.access
    if access is not None:
        sheets["access"] = io.zh_sheet(
            access.clusters,
            element_names=names,
            by_row=dict.fromkeys(("mean", "median", "p85"), "measure"),
        )
        sheets["linkage"] = _linkage_sheet(access.linkage, data, names)
    if changes is not None:
        sheets["changes"] = io.zh_sheet(
            changes.parcels.drop(columns="geometry"), element_names=names
        )
        sheets["cluster_changes"] = io.zh_sheet(changes.clusters, element_names=names)
    notes = _notes_sheet(config, data, inventory, list(sheets))
    return {SHEET_NAMES[key].zh: sheet for key, sheet in {"notes": notes, **sheets}.items()}


def constraint_names(profile: DistrictProfile) -> dict[str, str]:
    """Return the Chinese name of each constraint of a profile.

    Parameters
    ----------
    profile : DistrictProfile
        The profile.

    Returns
    -------
    dict of str to str
        Constraint name -> its ``name_zh``; else the name of its layer (numbered when
        several constraints share the layer); else the constraint's name.

    Examples
    --------
    >>> from tqspatial.profile import parse_profile
    >>> p = parse_profile({"layers": {"w": {"path": "w.gpkg", "name_zh": "水系"}},
    ...                    "constraints": [{"name": "river", "layer": "w"}]})
    >>> constraint_names(p)
    {'river': '水系'}
    """
    per_layer = {spec.layer: 0 for spec in profile.constraints}
    for spec in profile.constraints:
        per_layer[spec.layer] += 1
    out: dict[str, str] = {}
    seen = dict.fromkeys(per_layer, 0)
    for spec in profile.constraints:
        seen[spec.layer] += 1
        layer = profile.layers.get(spec.layer)
        label = layer.name_zh if layer is not None and layer.name_zh else ""
        label = label or term("layer", spec.layer).zh
        if spec.name_zh:
            out[spec.name] = spec.name_zh
        elif per_layer[spec.layer] > 1:
            out[spec.name] = f"{label}（{seen[spec.layer]}）"
        else:
            out[spec.name] = label
    return out


def _linkage_sheet(linkage: pd.DataFrame, data: DistrictInputs, names: dict[str, str]) -> io.Sheet:
    """Return the linkage matrix with one "车行至<destination>（分钟）" header per destination."""
    anchors: dict[str, str] = {}
    if data.anchors is not None and {"anchor_id", "name_zh"} <= set(data.anchors.columns):
        anchors = {
            str(a): str(n)
            for a, n in zip(data.anchors["anchor_id"], data.anchors["name_zh"], strict=True)
            if isinstance(n, str) and n.strip()
        }

    def destination(column: str) -> str:
        return names.get(column) or anchors.get(column) or column.removeprefix(_BRIDGE_PREFIX)

    headers = {c: LINKAGE_HEADER.zh.format(destination(str(c))) for c in linkage.columns}
    table = linkage.rename(columns=headers).rename_axis("cluster_id").reset_index()
    return io.zh_sheet(
        table, element_names=names, formats=dict.fromkeys(headers.values(), "minutes")
    )


def _layer_label(name: str, spec: LayerSpec) -> str:
    return spec.name_zh or term("layer", name).zh


#: A row of the 说明 sheet: section key, item, text.
_NoteRow = tuple[str, str, str]


def _notes_sheet(
    config: Config, data: DistrictInputs, inventory: Inventory, sheets: list[str]
) -> io.Sheet:
    """Return the 说明 sheet: contents, sources, synthetic data, constraints, assumptions, log."""
    rows = [
        *_notes_district(data, inventory),
        *(("sheets", SHEET_NAMES[key].zh, SHEET_NOTES[key].zh) for key in ["notes", *sheets]),
        *_notes_sources(data, inventory),
        *_notes_constraints(data.profile),
        *_notes_assumptions(config, data.profile, inventory),
        *(
            ("quality", term("severity", str(r.severity)).zh, str(r.message))
            for r in inventory.log.table().itertuples(index=False)
        ),
    ]
    table = pd.DataFrame(
        [(NOTE_SECTION_NAMES[section].zh, item, text) for section, item, text in rows],
        columns=["section", "item", "note"],
    )
    return io.zh_sheet(table)


def _notes_district(data: DistrictInputs, inventory: Inventory) -> list[_NoteRow]:
    profile = data.profile
    district = f"{profile.city_zh}{profile.name_zh}"
    if profile.name_en:
        district += f"（{profile.name_en}）"
    if profile.adcode:
        district += f"，行政区划代码 {profile.adcode}"
    rows = [("district", "区域", district)]
    crs = inventory.parcels.crs
    if crs is not None:
        code = crs.to_epsg()
        rows.append(("district", "坐标系", f"{crs.name}（EPSG:{code}）" if code else str(crs.name)))
    rows.append(
        (
            "district",
            "数值与格式",
            "单元格保存未经舍入的数值（与同名 CSV 文件一致），仅显示格式不同：面积（公顷）两位"
            "小数，面积（平方米）、人数、户数、套数、地块数取整并加千位分隔符，比例以小数保存、"
            "按百分比显示，时间（分钟）一位小数",
        )
    )
    return rows


def _notes_sources(data: DistrictInputs, inventory: Inventory) -> list[_NoteRow]:
    rows: list[_NoteRow] = []
    for name, spec in data.layers.items():
        provenance = PROVENANCE_NAMES.get(spec.provenance or "")
        parts = [
            provenance.zh if provenance else "区配置文件未说明数据性质",
            f"文件 {spec.path.name}",
            spec.attribution,
        ]
        rows.append(("sources", _layer_label(name, spec), "；".join(p for p in parts if p)))
    if data.profile.path is not None:
        text = f"文件 {data.profile.path.name}：图层、约束条件、城镇范围及开发容量目标"
        rows.append(("sources", "区配置文件", text))
    for kind in ("synthetic", "indicative"):
        layers = [_layer_label(n, s) for n, s in data.layers.items() if s.provenance == kind]
        if layers:
            rows.append(("synthetic", PROVENANCE_NAMES[kind].zh, "、".join(layers)))
    if "synthetic" in inventory.parcels.columns:
        flagged = int(inventory.parcels["synthetic"].astype("boolean").fillna(value=False).sum())
        rows.append(
            (
                "synthetic",
                COLUMN_NAMES["synthetic"].zh,
                f"{flagged} / {len(inventory.parcels)} 个地块标记为合成数据（列“合成数据”）",
            )
        )
    return rows


def _notes_constraints(profile: DistrictProfile) -> list[_NoteRow]:
    labels = constraint_names(profile)
    rows: list[_NoteRow] = []
    for spec in profile.constraints:
        rule = []
        if spec.buffer_m:
            rule.append(f"外扩 {spec.buffer_m:g} 米")
        if spec.threshold is not None:
            rule.append(f"栅格值{'≥' if spec.inclusive else '>'}{spec.threshold:g}")
        text = "；".join([*rule, spec.source] if spec.source else rule)
        rows.append(("constraints", labels[spec.name], text))
    union = CONSTRAINT_SPECIAL_NAMES["all (union)"].zh
    rows.append(
        (
            "constraints",
            SHEET_NAMES["constraints"].zh,
            "仅统计更新候选地块（有更新类型的地块）的受限面积；各约束可能重叠，"
            f"“{union}”按并集计算，即供给中扣除的面积",
        )
    )
    return rows


def _notes_assumptions(
    config: Config, profile: DistrictProfile, inventory: Inventory
) -> list[_NoteRow]:
    rows: list[_NoteRow] = []
    if profile.urban_area.source:
        rows.append(("assumptions", "城镇范围（城中村认定）", profile.urban_area.source))
    years = config.supply.phase_years
    phases = (
        ("near", config.supply.first_year, years[0]),
        ("mid", years[0] + 1, years[1]),
        ("long", years[1] + 1, years[2]),
    )
    rows.append(
        (
            "assumptions",
            COLUMN_NAMES["phase"].zh,
            "，".join(f"{PHASE_NAMES[k].zh} {a}–{b} 年" for k, a, b in phases),
        )
    )
    rows.append(
        (
            "assumptions",
            COLUMN_NAMES["cluster_id"].zh,
            f"地块在某组团内的面积占比不低于 {config.assign.min_cluster_share:.0%} 时归入该组团，"
            f"否则为“{CLUSTER_SPECIAL_NAMES['unassigned'].zh}”",
        )
    )
    if profile.capacity:
        text = f"区配置文件中 {len(profile.capacity)} 条目标容积率与用途构成（规划假设）"
        rows.append(("assumptions", "开发容量目标", text))
    if inventory.access is not None:
        text = (
            "沿路网计算的步行、车行时间；距道路超过 "
            f"{config.accessibility.max_snap_m:g} 米的地块不计（计入“无数值地块数”）"
        )
        rows.append(("assumptions", SHEET_NAMES["access"].zh, text))
    return rows


def district_networks(config: Config, data: DistrictInputs) -> dict[str, CompiledNetwork]:
    """Load the walk and drive networks from one parse; refuse one that misses the district.

    Parameters
    ----------
    config : Config
        For ``[accessibility] max_snap_m``.
    data : DistrictInputs
        The district (its ``roads`` layer and the boundary); a partial coverage is noted.

    Returns
    -------
    dict of str to CompiledNetwork
        ``{"walk": ..., "drive": ...}``.

    Raises
    ------
    SchemaError
        If the network covers less than half of the district.
    """
    spec = data.layers["roads"]
    with recording() as log:  # the zone check notes into the refresh's quality log
        nets = load_networks(spec.path, ("walk", "drive"), sha256=data.sha256["roads"])
    data.log.extend(log)
    district = shapely.union_all(data.boundary.geometry.to_numpy())
    walk = nets["walk"]
    hull = shapely.buffer(
        shapely.convex_hull(shapely.multipoints(np.column_stack([walk.x, walk.y]))),
        config.accessibility.max_snap_m,
    )
    share = float(shapely.area(shapely.intersection(district, hull)) / district.area)
    if share < MIN_NETWORK_COVERAGE:
        msg = (
            f"road network {spec.path} covers {share:.1%} of the district (within "
            f"{config.accessibility.max_snap_m:g} m of its extent); expected at least "
            f"{MIN_NETWORK_COVERAGE:.0%}. Give this district's network in the profile's [layers] "
            "roads, or set [accessibility] enabled = false"
        )
        raise SchemaError(msg)
    if share < COVERAGE_WARNING:
        _note(
            data.log,
            "partial_coverage",
            f"road network {spec.path} covers only {share:.1%} of the district; parcels "
            "beyond it get no accessibility",
            layer="roads",
        )
    return nets


def accessibility_stage(
    config: Config,
    data: DistrictInputs,
    parcels: gpd.GeoDataFrame,
    *,
    networks: Mapping[str, CompiledNetwork] | None = None,
) -> AccessResult:
    """Run the accessibility stage on assigned parcels (per-parcel, per-cluster, linkage).

    Parameters
    ----------
    config : Config
        ``[accessibility]`` options.
    data : DistrictInputs
        Facilities, anchors, barrier layers and the profile's linkage; notes on parcels
        without accessibility go to ``data.log``.
    parcels : geopandas.GeoDataFrame
        Assigned parcels.
    networks : mapping of str to CompiledNetwork, optional
        Walk and drive networks already loaded (:func:`district_networks`).

    Returns
    -------
    AccessResult
        The stage's tables.
    """
    nets = networks if networks is not None else district_networks(config, data)
    if data.facilities is None:  # _check_layers refuses this before reading; kept for -O runs
        msg = "[accessibility] enabled needs a facilities layer in the profile"
        raise ConfigError(msg)
    profile = data.profile
    layers = {**data.others, "boundary": data.boundary}
    missing = [a for a in profile.linkage.anchors if data.anchors is None
               or a not in set(data.anchors["anchor_id"].astype(str))]  # fmt: skip
    if missing:
        known = [] if data.anchors is None else sorted(data.anchors["anchor_id"].astype(str))
        msg = (
            f"profile {profile.path}: [linkage] anchors {missing} are not in the anchors layer "
            f"(anchor ids: {known}); fix [linkage] anchors or the anchors file"
        )
        raise SchemaError(msg)
    access = cluster_access(
        nets["walk"],
        nets["drive"],
        parcels,
        data.facilities,
        structure=data.structure,
        anchors=data.anchors,
        linkage_anchors=profile.linkage.anchors,
        bridges=profile.linkage.bridges,
        barriers=build_barriers(profile, layers),
        max_snap_m=config.accessibility.max_snap_m,
        catchment_min=config.accessibility.cumulative_minutes,
    )
    _note_access(data.log, access)
    measure = profile.maps.measure
    if config.maps.enabled and measure and measure not in access.parcels.columns:
        examples = sorted(c for c in access.parcels.columns if c.endswith("_min"))[:3]
        _note(
            data.log,
            "map_skipped",
            f"no accessibility map: the profile's [maps] measure {measure!r} is not a column "
            f"of the accessibility table (walk_<facility kind>_min, e.g. {examples})",
            layer="maps",
        )
    return access


def map_layers(data: DistrictInputs, parcels: gpd.GeoDataFrame | None = None) -> Any:  # noqa: ANN401
    """Return the map layers of a district, named and credited by its profile.

    Parameters
    ----------
    data : DistrictInputs
        What :func:`read_inputs` read (with ``maps=True``).
    parcels : geopandas.GeoDataFrame, optional
        Parcels for the atlas and the web map.

    Returns
    -------
    tqspatial.maps.MapLayers
        Layers with the focus district, names, provenance and credits of the profile.
    """
    from tqspatial import maps  # noqa: PLC0415 - matplotlib only when maps are drawn

    water = data.others.get("water")
    layers = maps.MapLayers(
        structure=data.structure,
        boundary=data.boundary,
        districts=data.districts,
        rivers=data.rivers,
        water=water if isinstance(water, gpd.GeoDataFrame) else None,
        anchors=data.anchors,
        parcels=parcels,
    )
    return layers.with_profile(data.profile, data.layers)


#: Layers under the thematic maps, named in their source note.
THEMATIC_LAYERS = frozenset({"boundary", "districts", "parcels"})
#: The life-circle level the refresh maps (which required facility is missing where).
LIFE_CIRCLE_LEVEL = "15min"


def _figure_labels(profile: DistrictProfile) -> dict[str, tuple[str, str, str]]:
    maps_spec = profile.maps
    if not maps_spec.measure_zh:
        return {}
    return {
        "access_min": (
            f"{maps_spec.measure_zh}（中位数）",
            f"{maps_spec.measure_en or maps_spec.measure} (median)",
            "min",
        )
    }


def _render_maps(
    config: Config,
    data: DistrictInputs,
    inventory: Inventory,
    *,
    out: Path,
    on_map: Callable[[str], None] | None = None,
) -> list[Path]:
    # matplotlib only when maps are drawn; the other imports keep this change in one place
    from tqspatial import maps  # noqa: PLC0415
    from tqspatial.access_stage import cluster_measure  # noqa: PLC0415
    from tqspatial.lifecircle import (  # noqa: PLC0415
        LIFE_CIRCLE_DISTANCE_M,
        life_circle_levels,
        requirement_names,
    )
    from tqspatial.maps.layers import credit_line, infer_provenance  # noqa: PLC0415

    layers = map_layers(data, inventory.parcels)
    parcels = inventory.parcels
    lang, dpi = config.maps.lang, config.maps.dpi
    drawn = {k: v for k, v in infer_provenance(layers).items() if k in THEMATIC_LAYERS}
    frame: dict[str, Any] = {
        "district_name": layers.district_name,
        "boundary": data.boundary,
        "neighbours": layers.neighbours(),
        "source": credit_line(
            drawn, maps.cluster.resolve_lang(lang), names=layers.layer_names,
            extra=" ".join(layers.credits),
        ),
    }  # fmt: skip
    # drawn one by one as they are saved, so the progress bar moves per map
    figures: list[tuple[str, Callable[[], tuple[Any, ...]]]] = [
        ("landuse", functools.partial(maps.plot_landuse, parcels, lang=lang, **frame)),
        (
            "renewal_supply",
            functools.partial(maps.plot_renewal_supply, parcels, lang=lang, **frame),
        ),
    ]
    access = inventory.access
    measure = data.profile.maps
    stats = inventory.cluster_stats
    if access is not None and measure.measure in parcels.columns:
        kind = measure.measure_facility_kind
        facilities = data.facilities
        if facilities is not None and kind:
            facilities = facilities[facilities["kind"] == kind]
        theme = (measure.measure_zh or measure.measure, measure.measure_en or measure.measure)
        figures.append(
            (
                f"access_{kind or 'measure'}",
                functools.partial(
                    maps.plot_accessibility,
                    parcels, column=measure.measure, isochrones=access.isochrones,
                    facilities=facilities, lang=lang, theme=theme, **frame,
                ),
            )
        )  # fmt: skip
        # the atlas' travel time: never n/a while a parcel near the cluster has a value
        by_cluster = cluster_measure(parcels, measure.measure, structure=data.structure)
        stats = stats.assign(
            access_min=by_cluster["value"],
            access_min_basis=by_cluster["basis"],
            access_min_within_m=by_cluster["within_m"],
        )
    level = LIFE_CIRCLE_LEVEL
    if access is not None and f"lc_{level}_covered" in parcels.columns:
        minutes = next(
            float(r["walk_minutes"]) for r in life_circle_levels() if r["level"] == level
        )
        figures.append(
            (
                f"life_circle_{level}",
                functools.partial(
                    maps.plot_life_circle,
                    parcels, requirement_names(level), distance_m=LIFE_CIRCLE_DISTANCE_M[level],
                    level_minutes=minutes, max_snap_m=config.accessibility.max_snap_m,
                    lang=lang, **frame,
                ),
            )
        )  # fmt: skip
    written = maps.render_maps(
        out,
        layers,
        cluster_stats=stats,
        lang=lang,
        dpi=dpi,
        figure_labels=_figure_labels(data.profile),
        on_map=on_map,
    )
    for stem, draw in figures:
        written += maps.save_figure(draw()[0], out / stem, formats=("png",), dpi=dpi)
        if on_map is not None:  # progress: one tick per map
            on_map(f"{stem}.png")
    if config.maps.web:
        written += maps.webmap.write_webmap(layers, out, lang=lang)
        if on_map is not None:
            on_map("cluster_map.html")
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
    path = write_beside(target, FAILURE_REPORT, text, job="refresh")
    logger.error("refresh failed on bad input; report written to %s", path)


def _parcel_stages(
    data: DistrictInputs,
    context: ParcelContext,
    watch: _Stopwatch,
    engine: tuple[str, str | None],
) -> ParcelResult:
    """Run the parcel stages; the result's log holds the reading's findings too."""
    name, scheduler = engine
    if name == "single":
        result = process_parcels(data.parcels, context, stage=watch.stage)
    else:
        from tqspatial.distributed import process_parcels_partitioned  # noqa: PLC0415 - dask only

        with watch.stage("parcels (dask)"):
            result = process_parcels_partitioned(data.parcels, context, scheduler=scheduler)
    return result


def _check_quality(config: Config, counts: dict[str, int]) -> None:
    if counts["parcels_in"] == 0:
        msg = "the parcels layer has no rows; nothing to refresh (check the file or its layer=)"
        raise InputQualityError(msg)
    if counts["parcels_rejected"] == counts["parcels_in"]:
        msg = (
            f"all {counts['parcels_in']} parcels were rejected; nothing published. The rejects "
            "by reason are in the log and quality_report.failed.md (a wrong CRS, or another "
            "district's file?)"
        )
        raise InputQualityError(msg)
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
    force: bool = False,
) -> list[Path]:
    """Draw the cluster map (and atlas, web map) from the config's inputs, without a refresh.

    The maps are published into their own folder, owned by tqspatial like the refresh's
    (lock, staging folder, atomic swap); the refresh's ``maps/`` is never touched, and a
    refresh never deletes these maps.

    Parameters
    ----------
    config : Config, str or os.PathLike, optional
        A config or TOML file; None uses the embedded dataset.
    out_dir : str or os.PathLike, optional
        Folder; default ``maps/`` beside the refresh's output folder
        (``data/maps`` for the embedded dataset).
    lang : {"zh", "en", "both"}, optional
        Label language; default ``[maps] lang``.
    formats : tuple of str, default ("png", "pdf", "svg")
        Formats of the overview map.
    dpi : int, optional
        PNG resolution (> 0); default ``[maps] dpi``.
    atlas : bool, default True
        Also write the multi-page PDF atlas.
    html : bool, default False
        Also write the standalone HTML web map with parcels.
    force : bool, default False
        Publish into a folder holding files tqspatial did not write, replacing them.

    Returns
    -------
    list of pathlib.Path
        Files written (in the published folder).

    Raises
    ------
    ConfigError
        If ``dpi`` is not positive or a format is unknown.
    OutputError
        If the folder is a file, another job's folder, or holds foreign files (without
        ``force``), or cannot be written.
    """
    from tqspatial import maps  # noqa: PLC0415 - matplotlib only when maps are drawn

    if not isinstance(config, Config):
        config = load_config(config)
    if dpi is not None and dpi <= 0:
        msg = f"dpi must be a positive number of dots per inch, got {dpi}"
        raise ConfigError(msg)
    unknown = sorted(set(formats) - {"png", "pdf", "svg"})
    if unknown or not formats:
        msg = f"map formats must be some of png, pdf, svg; got {list(formats)}"
        raise ConfigError(msg)
    target = (
        Path(out_dir).expanduser().resolve()
        if out_dir is not None
        else _target(config, None).parent / "maps"
    )
    plan = check_output(target, job="maps", force=force)
    quiet = dataclasses.replace(
        config, accessibility=dataclasses.replace(config.accessibility, enabled=False)
    )
    data = read_inputs(quiet, maps=True)
    layers = map_layers(data, data.parcels if (html or atlas) else None)
    with output_lock(target), staged(target) as staging:
        written = maps.render_maps(
            staging,
            layers,
            lang=lang or config.maps.lang,
            formats=formats,
            dpi=dpi if dpi is not None else config.maps.dpi,
            atlas=atlas,
            html=html,
            figure_labels=_figure_labels(data.profile),
        )
        outputs = sorted(p.relative_to(staging).as_posix() for p in written)
        io.write_json(
            staging / "manifest.json",
            {
                "tqspatial_job": "maps",
                "district": {"name_zh": data.profile.name_zh, "adcode": data.profile.adcode},
                "inputs": {
                    name: {"path": str(spec.path), "sha256": data.sha256[name]}
                    for name, spec in sorted(data.layers.items())
                },
                "versions": _versions(),
                "outputs": [*outputs, "manifest.json"],
            },
        )
        publish(staging, target, job="maps", take_over=plan.take_over)
    return [target / name for name in outputs]


def init_profile(
    folder: str | os.PathLike[str],
    district: str,
    *,
    districts: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Start a district profile: extract a district from a districts layer and write templates.

    Writes into ``folder``: ``boundary.geojson`` (the district), ``districts.geojson`` (every
    district of the layer, for the maps' neighbours), ``profile.toml`` (every section
    documented, the district's name and code filled in) and ``tqspatial.toml`` (a refresh
    config naming the profile and writing into ``folder/processed``).

    Parameters
    ----------
    folder : str or os.PathLike
        Target folder (created).
    district : str
        ``adcode``, ``name`` or ``name_en`` of the district in the layer.
    districts : str or os.PathLike, optional
        Districts layer; default the embedded Jinan districts.
    force : bool, default False
        Overwrite existing files.

    Returns
    -------
    list of pathlib.Path
        Files written.

    Raises
    ------
    ConfigError
        If the district is not in the layer (the message lists the choices) or a file exists
        and ``force`` is False.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in init_profile(d, "历下区")]
    ['boundary.geojson', 'districts.geojson', 'profile.toml', 'tqspatial.toml']
    """
    from tqspatial import datasets  # noqa: PLC0415 - only for the embedded default layer
    from tqspatial.profile import profile_template  # noqa: PLC0415

    target = Path(folder)
    source = (
        Path(districts) if districts is not None else datasets.raw_path("jinan_districts.geojson")
    )
    table = io.read_districts(source)
    hit = np.zeros(len(table), dtype=bool)
    for column in ("adcode", "name", "name_en"):
        if column in table.columns:
            hit |= (table[column].astype(str) == str(district)).to_numpy()
    if hit.sum() != 1:
        choices = [
            f"{row.get('adcode', '')} {row.get('name', '')}".strip()
            for _, row in table.drop(columns=table.geometry.name).iterrows()
        ]
        msg = (
            f"init-profile: {district!r} matches {int(hit.sum())} districts in {source}; "
            f"choose one adcode or name of: {', '.join(choices)}"
        )
        raise ConfigError(msg)
    names = ["boundary.geojson", "districts.geojson", "profile.toml", "tqspatial.toml"]
    existing = [n for n in names if (target / n).exists()]
    if existing and not force:
        msg = f"init-profile: {target} already holds {existing}; pass --force to overwrite them"
        raise ConfigError(msg)
    row = table[hit].iloc[0]
    text = profile_template(
        name_zh=str(row.get("name", district)),
        name_en=str(row.get("name_en", "")),
        adcode=str(row.get("adcode", "")),
        city_zh=str(row.get("city", "")),
        layers={"boundary": "boundary.geojson", "districts": "districts.geojson"},
    )
    config_text = (
        "# tqspatial refresh config for this district (see `tqspatial init-config` for every key)\n"
        '[inputs]\nprofile = "profile.toml"\n\n[output]\ndir = "processed"\n'
    )
    return [
        io.write_geojson(target / names[0], table[hit].to_crs("EPSG:4326")),
        io.write_geojson(target / names[1], table.to_crs("EPSG:4326")),
        io.write_text(target / names[2], text),
        io.write_text(target / names[3], config_text),
    ]


def diff_inventories(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    iou_min: float = RENAME_IOU_MIN,
    force: bool = False,
) -> InventoryChanges:
    """Compare two published inventories; optionally publish the change tables (``tqspatial diff``).

    Parameters
    ----------
    old, new : str or os.PathLike
        Refresh output folders, or parcel GeoParquet files (see
        :func:`tqspatial.io.read_inventory`).
    out_dir : str or os.PathLike, optional
        Folder to publish the change tables into (:data:`tqspatial.io.CHANGE_FILES` and a
        manifest), owned by tqspatial like the refresh's: checked before anything is read,
        written into a staging folder and swapped in at once.  None publishes nothing.
    iou_min : float, default 0.95
        Smallest intersection over union of a renamed parcel.
    force : bool, default False
        Publish into a folder holding files tqspatial did not write, replacing them.

    Returns
    -------
    InventoryChanges
        See :func:`tqspatial.changes.compare_inventories`.

    Raises
    ------
    DataFileError
        If ``old`` or ``new`` is not an inventory.
    OutputError
        If ``out_dir`` is a file, another job's folder, or holds foreign files (without
        ``force``), or cannot be written.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["a", "b"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     before = io.write_geoparquet(Path(d) / "before.parquet", parcels)
    ...     after = io.write_geoparquet(Path(d) / "after.parquet", parcels.head(1))
    ...     report = diff_inventories(before, after, out_dir=Path(d) / "changes")
    ...     written = sorted(p.name for p in (Path(d) / "changes").iterdir())
    >>> report.counts["removed"], written[:3]
    (1, ['.tqspatial-output', 'changes.csv', 'changes.md'])
    """
    target = Path(out_dir).resolve() if out_dir is not None else None
    plan = check_output(target, job="diff", force=force) if target is not None else None
    changes = compare_inventories(io.read_inventory(old), io.read_inventory(new), iou_min=iou_min)
    if target is None or plan is None:
        return changes
    with output_lock(target), staged(target) as staging:
        outputs = sorted(p.name for p in io.write_changes(staging, changes))
        io.write_json(
            staging / "manifest.json",
            {
                "tqspatial_job": "diff",
                "old": str(old),
                "new": str(new),
                "iou_min": iou_min,
                "counts": dict(changes.counts),
                "notes": list(changes.notes),
                "versions": _versions(),
                "outputs": [*outputs, "manifest.json"],
            },
        )
        publish(staging, target, job="diff", take_over=plan.take_over)
    logger.info("diff: change tables in %s", target)
    return changes
