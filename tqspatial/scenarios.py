"""Plan scenarios side by side: named overrides of a config and its profile, on the same inputs.

A *scenario* changes what a planner would argue about and nothing else: capacity targets
(rows like the profile's ``[[capacity]]``, e.g. a denser target for one cluster), the phase
years, constraint layers switched off, an alternative plan-structure file, facilities added
(a new school, a metro station).  :func:`compare_scenarios` reads the inputs once, validates
the parcels once, loads the road network once, assigns once per distinct structure and runs
the accessibility stage once per distinct (structure, facilities); only supply is computed
per scenario.  The result is one long table, cluster x indicator x scenario, with the
district total, and each scenario's :class:`~tqspatial.results.Inventory`.

A scenarios file (``tqspatial scenarios run scenarios.toml``)::

    config = "tqspatial.toml"           # the base run (optional; default: the embedded district)

    [[scenario]]
    name = "plan"                       # the base itself: no overrides

    [[scenario]]
    name = "dense_luokou"
    title = "特色商贸组团提高开发强度"
    [[scenario.capacity]]               # same keys as the profile's [[capacity]]
    element_id = "commerce"             # a cluster of the plan structure
    landuse_category = "*"
    target_far = 4.0
    shares = { commercial = 0.6, office = 0.4 }

    [[scenario]]
    name = "new_school"
    facilities_add = "new_school.gpkg"  # appended to the facilities (profile kind_map applies)
    constraints_off = ["flood_depth"]   # by constraint name
    phase_years = [2029, 2034, 2040]

Paths are relative to the scenarios file.

Examples
--------
>>> s = parse_scenarios({"scenario": [{"name": "a"}, {"name": "b", "constraints_off": ["x"]}]})
>>> [x.name for x in s.scenarios], s.scenarios[1].constraints_off
(['a', 'b'], ('x',))
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from tqspatial import io
from tqspatial.access_stage import AccessResult
from tqspatial.config import Config, load_config
from tqspatial.district import standard_facility_kinds
from tqspatial.errors import ConfigError
from tqspatial.inventory import (
    ParcelResult,
    assign_stage,
    summary_stage,
    supply_stage,
    validate_stage,
)
from tqspatial.network import CompiledNetwork
from tqspatial.pipeline import (
    DistrictInputs,
    accessibility_stage,
    constraint_names,
    district_networks,
    parcel_context,
    read_inputs,
)
from tqspatial.profile import DistrictProfile, TargetSpec, parse_profile, read_toml
from tqspatial.quality import QualityLog, recording
from tqspatial.results import Inventory, build_inventory
from tqspatial.structure import PlanStructure
from tqspatial.vocabulary import NOTE_SECTION_NAMES, SCENARIO_DELTA_HEADER, SHEET_NAMES, SHEET_NOTES

__all__ = [
    "INDICATORS",
    "Scenario",
    "ScenarioComparison",
    "ScenarioSet",
    "compare_scenarios",
    "load_scenarios",
    "parse_scenarios",
    "run_scenarios",
    "scenario_sheets",
]

logger = logging.getLogger(__name__)

#: Indicators of the comparison: name -> (Chinese label, unit).
INDICATORS: dict[str, tuple[str, str]] = {
    "net_supply_ha": ("净供给面积", "ha"),
    "constrained_area_ha": ("受限面积", "ha"),
    "new_floor_area_m2": ("新增建筑面积", "m2"),
    "new_residents": ("新增人口", "persons"),
    "new_jobs": ("新增就业岗位", "jobs"),
    "lc_15min_covered": ("十五分钟生活圈覆盖率（按人口）", "share"),
    "lc_10min_covered": ("十分钟生活圈覆盖率（按人口）", "share"),
    "lc_5min_covered": ("五分钟生活圈覆盖率（按人口）", "share"),
}

_KEYS = ("name", "title", "capacity", "constraints_off", "first_year", "phase_years",
         "structure", "facilities_add")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One named set of overrides.

    Attributes
    ----------
    name : str
        Short snake-case name (a column of the comparison).
    title : str
        Readable title.
    capacity : tuple of TargetSpec
        Capacity rows that take precedence over the profile's.
    constraints_off : tuple of str
        Names of the profile's constraints left out.
    first_year : int or None
        First year of the near-term phase.
    phase_years : tuple of int or None
        Last year of the near, mid and long phases.
    structure : pathlib.Path or None
        An alternative plan-structure file.
    facilities_add : pathlib.Path or None
        Facilities added to the district's.
    """

    name: str
    title: str = ""
    capacity: tuple[TargetSpec, ...] = ()
    constraints_off: tuple[str, ...] = ()
    first_year: int | None = None
    phase_years: tuple[int, ...] | None = None
    structure: Path | None = None
    facilities_add: Path | None = None


@dataclasses.dataclass(frozen=True)
class ScenarioSet:
    """Scenarios and the base config they modify.

    Attributes
    ----------
    config : Config
        The base run.
    scenarios : tuple of Scenario
        In file order.
    """

    config: Config
    scenarios: tuple[Scenario, ...]


@dataclasses.dataclass(frozen=True)
class ScenarioComparison:
    """What :func:`compare_scenarios` found.

    Attributes
    ----------
    table : pandas.DataFrame
        Long: ``cluster_id``, ``name_zh``, ``indicator``, ``scenario``, ``value`` (clusters in
        structure order, then ``unassigned`` and ``district``).
    inventories : dict of str to Inventory
        Each scenario's full result.
    scenarios : tuple of Scenario
        The scenarios, in order.
    """

    table: pd.DataFrame
    inventories: dict[str, Inventory]
    scenarios: tuple[Scenario, ...]

    def wide(self) -> pd.DataFrame:
        """Return the table with one column per scenario and a delta to the first.

        Returns
        -------
        pandas.DataFrame
            Rows (cluster, indicator); columns the scenario names and ``<name>_minus_<first>``.
        """
        keys = ["cluster_id", "name_zh", "indicator"]
        order = pd.MultiIndex.from_frame(self.table[keys].drop_duplicates())
        wide = self.table.pivot_table(
            index=keys, columns="scenario", values="value", aggfunc="first", sort=False
        )
        wide = wide.reindex(index=order, columns=[s.name for s in self.scenarios])
        first = self.scenarios[0].name
        for s in self.scenarios[1:]:
            wide[f"{s.name}_minus_{first}"] = wide[s.name] - wide[first]
        wide.columns.name = None
        return wide.reset_index()


# --------------------------------------------------------------------------- parsing


def _path(value: object, base: Path | None, where: str, problems: list[str]) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{where} must be a path, got {value!r}")
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() or base is None else base / path


def _scenario(item: object, i: int, base: Path | None, problems: list[str]) -> Scenario | None:
    where = f"[[scenario]] #{i + 1}"
    if not isinstance(item, Mapping):
        problems.append(f"{where} must be a table, got {item!r}")
        return None
    unknown = [k for k in item if k not in _KEYS]
    if unknown:
        problems.append(f"{where}: unknown key(s) {unknown}; valid keys are {', '.join(_KEYS)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        problems.append(f"{where} name = {name!r}; expected a short identifier")
        name = f"scenario_{i + 1}"
    capacity: tuple[TargetSpec, ...] = ()
    if "capacity" in item:
        try:
            capacity = parse_profile({"capacity": item["capacity"]}).capacity
        except ConfigError as exc:
            problems.append(f"{where} ({name}): {exc}")
    off = item.get("constraints_off", [])
    if not isinstance(off, list) or not all(isinstance(v, str) for v in off):
        problems.append(f"{where} constraints_off must be a list of constraint names")
        off = []
    years = item.get("phase_years")
    if years is not None and (
        not isinstance(years, list) or len(years) != 3 or not all(isinstance(y, int) for y in years)  # noqa: PLR2004
    ):
        problems.append(f"{where} phase_years must be three years, got {years!r}")
        years = None
    first = item.get("first_year")
    if first is not None and not isinstance(first, int):
        problems.append(f"{where} first_year must be a year, got {first!r}")
        first = None
    return Scenario(
        name=name,
        title=str(item.get("title", "")),
        capacity=capacity,
        constraints_off=tuple(off),
        first_year=first,
        phase_years=tuple(years) if years else None,
        structure=_path(item.get("structure"), base, f"{where} structure", problems),
        facilities_add=_path(item.get("facilities_add"), base, f"{where} facilities_add", problems),
    )


def parse_scenarios(
    data: Mapping[str, Any], *, base_dir: Path | None = None, config: Config | None = None
) -> ScenarioSet:
    """Validate a scenarios mapping (parsed TOML).

    Parameters
    ----------
    data : mapping
        ``{"config": path (optional), "scenario": [ {...}, ... ]}``.
    base_dir : pathlib.Path, optional
        Folder for relative paths.
    config : Config, optional
        The base config when ``data`` names none (default: the embedded district).

    Returns
    -------
    ScenarioSet
        The base config and the scenarios.

    Raises
    ------
    ConfigError
        Listing every problem: unknown keys, bad values, duplicate or no scenario names.
    """
    problems: list[str] = []
    unknown = [k for k in data if k not in ("config", "scenario")]
    if unknown:
        problems.append(f"unknown key(s) {unknown}; valid keys are config, scenario")
    items = data.get("scenario", [])
    if not isinstance(items, list) or not items:
        problems.append("no [[scenario]] tables; give at least one (the first is the reference)")
        items = []
    scenarios = [s for i, item in enumerate(items) if (s := _scenario(item, i, base_dir, problems))]
    names = [s.name for s in scenarios]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        problems.append(f"scenario names must be unique; repeated {dups}")
    base = config or Config()
    if "config" in data:
        path = _path(data["config"], base_dir, "config", problems)
        if path is not None:
            try:
                base = load_config(path)
            except ConfigError as exc:
                problems.append(str(exc))
    if problems:
        raise ConfigError("scenarios: " + "; ".join(problems))
    return ScenarioSet(config=base, scenarios=tuple(scenarios))


def load_scenarios(path: str | os.PathLike[str]) -> ScenarioSet:
    """Read and validate a scenarios TOML file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; relative paths in it resolve against its folder.

    Returns
    -------
    ScenarioSet
        The base config and the scenarios.

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or invalid (the message names the file).
    """
    path = Path(path)
    data = read_toml(path, what="scenarios")
    try:
        return parse_scenarios(data, base_dir=path.resolve().parent)
    except ConfigError as exc:
        msg = f"{exc} (in {path})"
        raise ConfigError(msg) from exc


# --------------------------------------------------------------------------- running


def _scenario_inputs(data: DistrictInputs, scenario: Scenario) -> DistrictInputs:
    profile = data.profile
    names = {c.name for c in profile.constraints}
    unknown = sorted(set(scenario.constraints_off) - names)
    if unknown:
        msg = (
            f"scenario {scenario.name!r}: constraints_off {unknown} are not constraints of the "
            f"profile; they are {sorted(names)}"
        )
        raise ConfigError(msg)
    profile = dataclasses.replace(
        profile,
        capacity=(*scenario.capacity, *profile.capacity),
        constraints=tuple(c for c in profile.constraints if c.name not in scenario.constraints_off),
    )
    structure = data.structure
    if scenario.structure is not None:
        structure = PlanStructure.from_frame(
            io.read_vector(scenario.structure, what="plan structure"), boundary=data.boundary
        )
    facilities = data.facilities
    if scenario.facilities_add is not None:
        added = standard_facility_kinds(
            io.read_facilities(scenario.facilities_add), profile.facility_kinds
        )
        frames = [f for f in (facilities, added) if f is not None]
        facilities = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=added.crs)
    return dataclasses.replace(
        data, profile=profile, structure=structure, facilities=facilities, log=QualityLog()
    )


def _scenario_config(config: Config, scenario: Scenario) -> Config:
    supply = config.supply
    if scenario.first_year is not None:
        supply = dataclasses.replace(supply, first_year=scenario.first_year)
    if scenario.phase_years is not None:
        supply = dataclasses.replace(supply, phase_years=scenario.phase_years)
    return dataclasses.replace(config, supply=supply)


def compare_scenarios(
    scenarios: ScenarioSet | Sequence[Scenario] | str | os.PathLike[str],
    *,
    config: Config | None = None,
) -> ScenarioComparison:
    """Run scenarios on the same inputs and compare them cluster by cluster.

    Parameters
    ----------
    scenarios : ScenarioSet, sequence of Scenario, or path
        The scenarios (a path is read with :func:`load_scenarios`).  The first one is the
        reference of the deltas in :meth:`ScenarioComparison.wide`.
    config : Config, optional
        The base run for a sequence of scenarios (default: the embedded district).

    Returns
    -------
    ScenarioComparison
        The long comparison table and each scenario's inventory.

    Raises
    ------
    ConfigError
        For an invalid scenario (unknown constraint, bad years ...).

    Examples
    --------
    >>> from tqspatial.config import parse_config
    >>> quick = parse_config({"accessibility": {"enabled": False}})
    >>> dense = Scenario("dense", capacity=parse_profile({"capacity": [{"kind": "*",
    ...     "landuse_category": "*", "target_far": 5.0, "shares": {"office": 1.0}}]}).capacity)
    >>> out = compare_scenarios([Scenario("plan"), dense], config=quick)
    >>> t = out.wide().set_index(["cluster_id", "indicator"])
    >>> bool(t.loc[("district", "new_floor_area_m2"), "dense_minus_plan"] > 0)
    True
    """
    if isinstance(scenarios, str | os.PathLike):
        scenarios = load_scenarios(scenarios)
    if isinstance(scenarios, ScenarioSet):
        base, chosen = scenarios.config, scenarios.scenarios
    else:
        base, chosen = config or Config(), tuple(scenarios)
    if not chosen:
        msg = "compare_scenarios: no scenarios given"
        raise ConfigError(msg)
    data = read_inputs(base)
    with recording() as validate_log:
        kept, rejects = validate_stage(data.parcels, parcel_context(base, data))
    networks: Mapping[str, CompiledNetwork] | None = None
    if base.accessibility.enabled:
        networks = district_networks(base, data)
    assigned: dict[str, tuple[gpd.GeoDataFrame, pd.DataFrame, QualityLog]] = {}
    access: dict[tuple[str, str], AccessResult] = {}
    inventories: dict[str, Inventory] = {}
    for scenario in chosen:
        sdata = _scenario_inputs(data, scenario)
        sconfig = _scenario_config(base, scenario)
        context = parcel_context(sconfig, sdata)
        skey = str(scenario.structure or "")
        if skey not in assigned:
            with recording() as assign_log:
                assigned[skey] = (*assign_stage(kept, context), assign_log)
        parcels, overlaps, assign_log = assigned[skey]
        with recording() as supply_log:
            supplied, ledger = supply_stage(parcels, context)
            summary = summary_stage(supplied, context)
        result = ParcelResult(
            parcels=supplied,
            rejects=rejects,
            overlaps=overlaps,
            ledger=ledger,
            summary=summary,
            log=QualityLog().extend(validate_log).extend(assign_log).extend(supply_log),
        )
        scenario_access = None
        if networks is not None:
            akey = (skey, str(scenario.facilities_add or ""))
            if akey not in access:
                access[akey] = accessibility_stage(sconfig, sdata, supplied, networks=networks)
            scenario_access = access[akey]
        inventories[scenario.name] = build_inventory(
            result,
            sdata.structure,
            access=scenario_access,
            access_measure=sdata.profile.maps.measure or None,
            log=QualityLog().extend(data.log).extend(sdata.log),
            counts={"parcels_in": len(data.parcels)},
        )
        logger.info("scenario %s: done", scenario.name)
    logger.info(
        "scenarios: %d run on one read and validation; %d assignments, %d accessibility runs",
        len(chosen),
        len(assigned),
        len(access),
    )
    return ScenarioComparison(
        table=_table(inventories, chosen), inventories=inventories, scenarios=chosen
    )


def _coverage(inv: Inventory, measure: str) -> pd.Series:
    """Resident-weighted share of parcels covered by a life circle, per cluster and district."""
    if inv.access is None or measure not in inv.parcels.columns:
        return pd.Series(dtype=float)
    frame = pd.DataFrame(
        {
            "cluster_id": inv.parcels["cluster_id"].astype(str),
            "covered": pd.to_numeric(inv.parcels[measure], errors="coerce"),
            "w": pd.to_numeric(inv.parcels["residents"], errors="coerce").fillna(0.0),
        }
    ).dropna(subset=["covered"])
    frame["cw"] = frame["covered"] * frame["w"]
    sums = frame.groupby("cluster_id")[["cw", "w"]].sum()
    sums.loc["district"] = sums.sum()
    return (sums["cw"] / sums["w"].where(sums["w"] > 0)).astype(float)


def _table(inventories: Mapping[str, Inventory], scenarios: Sequence[Scenario]) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for scenario in scenarios:
        inv = inventories[scenario.name]
        totals = inv.totals.set_index("cluster_id")
        order = list(totals.index)
        for indicator in INDICATORS:
            if indicator in totals.columns:
                values = totals[indicator].astype(float)
            else:
                values = _coverage(inv, indicator).reindex(order)
                if values.isna().all() and inv.access is None:
                    continue
            rows.extend(
                {
                    "cluster_id": cid,
                    "name_zh": totals.loc[cid, "name_zh"],
                    "indicator": indicator,
                    "scenario": scenario.name,
                    "value": float(values.get(cid, np.nan)),
                }
                for cid in order
            )
    return pd.DataFrame(rows, columns=["cluster_id", "name_zh", "indicator", "scenario", "value"])


def _scenario_headers(scenarios: Sequence[Scenario]) -> dict[str, str]:
    """Column -> header: each scenario by its title, each difference to the first."""
    titles: dict[str, str] = {}
    for scenario in scenarios:
        title = scenario.title or f"方案 {scenario.name}"
        titles[scenario.name] = (
            title if title not in titles.values() else f"{title}（{scenario.name}）"
        )
    first = scenarios[0].name
    headers = dict(titles)
    for scenario in scenarios[1:]:
        headers[f"{scenario.name}_minus_{first}"] = SCENARIO_DELTA_HEADER.zh.format(
            titles[scenario.name], titles[first]
        )
    return headers


def _describe(scenario: Scenario, constraints: Mapping[str, str]) -> str:
    """Return what a scenario changes, in words (for the 说明 sheet)."""
    parts = []
    if scenario.capacity:
        parts.append(f"{len(scenario.capacity)} 条开发容量目标优先于区配置文件")
    if scenario.constraints_off:
        off = "、".join(constraints.get(c, c) for c in scenario.constraints_off)
        parts.append(f"不计约束条件：{off}")
    if scenario.first_year is not None:
        parts.append(f"近期自 {scenario.first_year} 年起")
    if scenario.phase_years is not None:
        parts.append("各期末年：" + "、".join(str(y) for y in scenario.phase_years))
    if scenario.structure is not None:
        parts.append(f"规划结构文件 {scenario.structure.name}")
    if scenario.facilities_add is not None:
        parts.append(f"新增设施文件 {scenario.facilities_add.name}")
    return "；".join(parts) or "无调整（基准）"


def scenario_sheets(
    comparison: ScenarioComparison, profile: DistrictProfile
) -> dict[str, io.Sheet]:
    """Return the sheets of ``scenarios.xlsx``: 说明 and 方案比较, in Chinese.

    Parameters
    ----------
    comparison : ScenarioComparison
        The comparison.
    profile : DistrictProfile
        The base run's profile (names of the constraints a scenario leaves out).

    Returns
    -------
    dict of str to Sheet
        Sheet name -> sheet.  Clusters and indicators carry their Chinese names, each
        scenario column its title, and every value the number format of its indicator.

    Examples
    --------
    >>> from tqspatial.config import parse_config
    >>> from tqspatial.datasets import tianqiao_profile
    >>> quick = parse_config({"accessibility": {"enabled": False}})
    >>> out = compare_scenarios([Scenario("plan", title="规划")], config=quick)
    >>> sheets = scenario_sheets(out, tianqiao_profile())
    >>> list(sheets), sheets["方案比较"].table.columns.tolist()[:3]
    (['说明', '方案比较'], ['组团', '比较指标', '规划'])
    """
    scenarios = comparison.scenarios
    headers = _scenario_headers(scenarios)
    wide = comparison.wide().rename(columns=headers)
    first = comparison.inventories[scenarios[0].name]
    names = first.structure.elements["name_zh"].astype(str).to_dict()
    table = io.zh_sheet(
        wide, element_names=names, by_row=dict.fromkeys(headers.values(), "indicator")
    )
    constraints = constraint_names(profile)
    rows = [
        (NOTE_SECTION_NAMES["sheets"].zh, SHEET_NAMES[key].zh, SHEET_NOTES[key].zh)
        for key in ("notes", "scenarios")
    ]
    rows.extend(
        (NOTE_SECTION_NAMES["scenarios"].zh, headers[s.name], _describe(s, constraints))
        for s in scenarios
    )
    rows.append(
        (
            NOTE_SECTION_NAMES["assumptions"].zh,
            SHEET_NAMES["scenarios"].zh,
            "各方案使用相同的输入数据；生活圈覆盖率按现状人口加权；"
            f"差值为各方案减去“{headers[scenarios[0].name]}”",
        )
    )
    notes = io.zh_sheet(pd.DataFrame(rows, columns=["section", "item", "note"]))
    return {SHEET_NAMES["notes"].zh: notes, SHEET_NAMES["scenarios"].zh: table}


def run_scenarios(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    indicator: str = "net_supply_ha",
) -> list[Path]:
    """Run a scenarios file and publish the comparison (CSV, XLSX, a comparison map page).

    Parameters
    ----------
    path : str or os.PathLike
        The scenarios TOML.
    out_dir : str or os.PathLike, optional
        Output folder (owned by tqspatial like a refresh's); default ``scenarios/`` beside
        the scenarios file.
    force : bool, default False
        Take over a folder holding files tqspatial did not write.
    indicator : str, default "net_supply_ha"
        The indicator mapped on the comparison page.

    Returns
    -------
    list of pathlib.Path
        Files published.

    Raises
    ------
    ConfigError
        For an invalid scenarios file or indicator.
    OutputError
        If the output folder cannot be used.
    """
    from tqspatial import maps  # noqa: PLC0415 - matplotlib only when maps are drawn
    from tqspatial.pipeline import map_layers  # noqa: PLC0415
    from tqspatial.preflight import check_output  # noqa: PLC0415
    from tqspatial.publish import output_lock, publish, staged  # noqa: PLC0415

    if indicator not in INDICATORS:
        msg = f"indicator {indicator!r} is not one of {sorted(INDICATORS)}"
        raise ConfigError(msg)
    path = Path(path)
    chosen = load_scenarios(path)
    target = (Path(out_dir) if out_dir is not None else path.parent / "scenarios").resolve()
    plan = check_output(target, job="scenarios", force=force)
    comparison = compare_scenarios(chosen)
    table, wide = comparison.table, comparison.wide()
    first = comparison.inventories[chosen.scenarios[0].name]
    values = (
        table[table["indicator"] == indicator]
        .pivot_table(index="cluster_id", columns="scenario", values="value", sort=False)
        .reindex(index=first.structure.cluster_ids, columns=[s.name for s in chosen.scenarios])
    )
    inputs = read_inputs(chosen.config, maps=True)
    layers = map_layers(inputs)
    zh, unit = INDICATORS[indicator]
    figure = maps.plot_scenario_comparison(
        layers,
        values,
        label=(zh, indicator.replace("_", " "), unit),
        titles={s.name: s.title or s.name for s in chosen.scenarios},
    )
    with output_lock(target), staged(target) as staging:
        written = [
            io.write_csv(staging / "scenario_comparison.csv", table),
            io.write_csv(staging / "scenario_comparison_wide.csv", wide),
            io.write_xlsx(staging / "scenarios.xlsx", scenario_sheets(comparison, inputs.profile)),
            *maps.save_figure(figure, staging / "comparison", formats=("png", "pdf")),
        ]
        names = sorted(p.relative_to(staging).as_posix() for p in written)
        io.write_json(
            staging / "manifest.json",
            {
                "tqspatial_job": "scenarios",
                "scenarios": [{"name": s.name, "title": s.title} for s in chosen.scenarios],
                "outputs": [*names, "manifest.json"],
            },
        )
        publish(staging, target, job="scenarios", take_over=plan.take_over)
    return [target / n for n in names]
