"""Renewal land supply per cluster: net land, floor area, people, jobs and phasing.

:func:`renewal_supply` chains the steps for assigned parcels:

1. land use: ``landuse_*`` columns from :func:`tqspatial.landuse.classify_landuse`
   (computed from ``landuse_code`` unless the columns are already there);
2. renewal candidates: ``renewal_type`` / ``renewal_rule``
   (:func:`tqspatial.renewal.renewal_candidates`);
3. constraints: exact constrained and net areas
   (:func:`tqspatial.constraints.constrained_areas`);
4. capacity (:class:`Capacity`): target FAR by (cluster, land-use category),
   new floor area, households, residents and jobs;
5. phasing (:class:`Phasing`): near / mid / long term by renewal type,
   vacancy and distance to the cluster core;
6. the ledger per cluster x renewal type x phase (:func:`supply_ledger`).

**Split parcels.**  A parcel counts wholly in its primary ``cluster_id``
from :func:`tqspatial.assign.assign_parcels` (the cluster holding at least
half of it, else ``"unassigned"``), as in
:func:`tqspatial.assign.summarise_clusters`.  Land is never apportioned, so
a parcel's supply is in exactly one ledger row and the ledger sums to the
district.

**Net supply vs. rebuilt land.**  ``net_supply_ha`` is the land of the
renewal candidates net of constraints: the land the renewal programme
works on.  Not all of it is rebuilt: ``redeveloped_ha`` is net supply times
the redevelopment share of its renewal type (below), and only that part
yields new floor area.  An old compound retrofitted in place (综合整治) is
supply in the first sense, not in the second.

**Undetermined parcels** (missing data, unknown code) keep their gross and
constrained area in the ledger but supply nothing: their net area is shown
as ``pending_net_ha``, their floor area, people and jobs are zero.

Coefficients (all overridable; assumptions are labelled so):

* average new dwelling 100 m² gross floor area per household — assumption
  (typical new housing in Jinan is 90-120 m²);
* 2.70 persons per household — Shandong, 7th national census (2020):
  平均每个家庭户的人口为2.70人 (the national figure is 2.62);
* floor area per job: office 30 m², commercial 40 m², industry 100 m² —
  assumptions within the usual planning ranges (office 25-40, commercial
  30-50, industry 80-120 m² per job);
* redevelopment share per renewal type: the part of a candidate's net area
  that is demolished and rebuilt.  Old residential compounds 0.2 and
  specialty markets 0.5 follow 住房和城乡建设部关于在实施城市更新行动中防止
  大拆大建问题的通知 (建科〔2021〕63号: demolition in a renewal project should
  in principle not exceed 20 % of the existing floor area; markets are
  assumed half rebuilt, half upgraded in place); inefficient industry, urban
  villages and idle land are rebuilt whole (1.0).

New floor area of a candidate = redevelopment share x (net area x target FAR
- existing floor area x net area / parcel area), floored at 0: the existing
buildings on the rebuilt part are replaced, so only the increment counts
(set ``subtract_existing=False`` for gross new floor area).  Existing floor
area is ``floor_area_m2``, else ``far`` x area; when both are missing the
increment cannot be computed and the parcel's ``capacity_issue`` says so
(floor area 0, counted in the ledger's ``capacity_issues``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.assign import UNASSIGNED
from tqspatial.constraints import Constraint, constrained_areas
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.landuse import classify_landuse
from tqspatial.quality import note
from tqspatial.renewal import (
    RENEWAL_TYPE_ZH,
    RENEWAL_TYPES,
    UNDETERMINED,
    RenewalRules,
    renewal_candidates,
)
from tqspatial.structure import PlanStructure

__all__ = [
    "LEDGER_COLUMNS",
    "USES",
    "Capacity",
    "Phasing",
    "cluster_totals",
    "default_targets",
    "ledger_zh",
    "renewal_supply",
    "supply_ledger",
]

logger = logging.getLogger(__name__)

#: Floor uses new floor area is split into.
USES = ("residential", "office", "commercial", "industry")

#: Wildcard in the target table: any cluster or any land-use category.
ANY = "*"

#: Phase label of undetermined parcels.
PHASE_UNDETERMINED = "undetermined"

#: Ledger columns, in order.
LEDGER_COLUMNS = [
    "cluster_id",
    "renewal_type",
    "phase",
    "phase_years",
    "parcel_count",
    "gross_area_ha",
    "constrained_area_ha",
    "net_supply_ha",
    "pending_net_ha",
    "redeveloped_ha",
    "new_floor_area_m2",
    "households",
    "residents",
    "jobs",
    "capacity_issues",
]

#: Chinese names of the default phases.
PHASE_ZH = {"near": "近期", "mid": "中期", "long": "远期", PHASE_UNDETERMINED: "待定"}

#: Chinese headers of the ledger (for planners' workbooks).
LEDGER_HEADERS_ZH = {
    "cluster_id": "组团",
    "renewal_type": "更新类型",
    "phase": "时序",
    "phase_years": "年份",
    "parcel_count": "地块数",
    "gross_area_ha": "更新用地面积（公顷）",
    "constrained_area_ha": "受限面积（公顷）",
    "net_supply_ha": "净供给面积（公顷）",
    "pending_net_ha": "待定净面积（公顷）",
    "redeveloped_ha": "拆除重建面积（公顷）",
    "new_floor_area_m2": "新增建筑面积（平方米）",
    "households": "户数",
    "residents": "人口",
    "jobs": "就业岗位",
    "capacity_issues": "容量数据缺失地块数",
}

_TARGET_COLUMNS = ["cluster_id", "landuse_category", "target_far", *[f"share_{u}" for u in USES]]


def _row(cluster: str, category: str, far: float, **shares: float) -> dict[str, object]:
    return {
        "cluster_id": cluster,
        "landuse_category": category,
        "target_far": far,
        **{f"share_{u}": shares.get(u, 0.0) for u in USES},
    }


def default_targets() -> pd.DataFrame:
    """Return the default target FAR and floor-use mix by (cluster, land-use category).

    Derived from each cluster's lead industries in the Tianqiao strategy;
    the FAR values are planning assumptions in the usual ranges of Jinan
    regulatory plans (housing 2.0-3.0, commerce and offices 3.0-4.0,
    new-type industry 2.0-3.0, ordinary industry 1.2-2.0):

    * ``smart_manufacturing`` (新型功能材料、智能制造装备): industry-led, FAR 1.6;
    * ``hitech_innovation`` (未来消费/健康/数智 at Yaoshan): R&D and
      new-type industrial space, FAR 2.5, half industry, half offices;
    * ``specialty_commerce`` (专业市场、电商、文旅 at Luokou): commercial-led, FAR 3.0;
    * ``high_end_services`` (总部经济、电商 at Gongshanghe / Beihu): office-led,
      FAR 3.5-4.0; industrial land converts to offices (腾笼换鸟);
    * ``modern_agriculture`` (都市农业、康养、农旅): low density, FAR 0.8-1.2;
    * ``*`` rows apply to any other cluster and to unassigned parcels.

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster_id``, ``landuse_category``, ``target_far`` and
        ``share_<use>`` for each of :data:`USES` (shares sum to 1).  ``*``
        is a wildcard.

    Examples
    --------
    >>> t = default_targets()
    >>> t.set_index(["cluster_id", "landuse_category"]).loc[("*", "*"), "target_far"]
    np.float64(2.0)
    """
    rows = [
        _row("smart_manufacturing", "industrial", 1.6, industry=0.9, office=0.1),
        _row("smart_manufacturing", "warehouse", 1.2, industry=1.0),
        _row("smart_manufacturing", "residential", 2.0, residential=0.9, commercial=0.1),
        _row("smart_manufacturing", ANY, 1.5, industry=0.7, office=0.2, commercial=0.1),
        _row("hitech_innovation", "industrial", 2.5, industry=0.5, office=0.5),
        _row("hitech_innovation", "residential", 2.5, residential=0.9, commercial=0.1),
        _row("hitech_innovation", ANY, 2.5, industry=0.4, office=0.5, commercial=0.1),
        _row("specialty_commerce", "commercial", 3.0, commercial=0.7, office=0.3),
        _row("specialty_commerce", "industrial", 2.5, commercial=0.6, office=0.4),
        _row("specialty_commerce", "warehouse", 2.5, commercial=0.6, office=0.4),
        _row("specialty_commerce", "residential", 2.8, residential=0.85, commercial=0.15),
        _row("specialty_commerce", ANY, 2.8, commercial=0.5, office=0.3, residential=0.2),
        _row("high_end_services", "commercial", 4.0, office=0.7, commercial=0.3),
        _row("high_end_services", "industrial", 3.5, office=0.7, commercial=0.2, residential=0.1),
        _row("high_end_services", "warehouse", 3.5, office=0.7, commercial=0.2, residential=0.1),
        _row("high_end_services", "residential", 2.8, residential=0.85, commercial=0.15),
        _row("high_end_services", ANY, 3.5, office=0.6, commercial=0.2, residential=0.2),
        _row("modern_agriculture", "residential", 1.2, residential=1.0),
        _row("modern_agriculture", ANY, 0.8, commercial=0.5, residential=0.5),
        _row(ANY, "residential", 2.5, residential=0.9, commercial=0.1),
        _row(ANY, "commercial", 3.0, commercial=0.6, office=0.4),
        _row(ANY, "industrial", 1.5, industry=0.8, office=0.2),
        _row(ANY, "warehouse", 1.5, industry=0.8, office=0.2),
        _row(ANY, ANY, 2.0, residential=0.5, commercial=0.3, office=0.2),
    ]
    return pd.DataFrame(rows, columns=_TARGET_COLUMNS)


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclasses.dataclass(frozen=True)
class Capacity:
    """Coefficients turning net land into floor area, households, residents and jobs.

    Attributes
    ----------
    targets : pandas.DataFrame
        Target FAR and floor-use mix by ``cluster_id`` and ``landuse_category``
        (see :func:`default_targets`; ``*`` is a wildcard).  Lookup order:
        (cluster, category), (cluster, ``*``), (``*``, category), (``*``, ``*``).
    dwelling_m2 : float
        Gross floor area per new dwelling (assumption: 100 m²).
    persons_per_household : float
        Persons per household (Shandong, 2020 census: 2.70).
    m2_per_job : Mapping[str, float]
        Floor area per job for ``office``, ``commercial`` and ``industry``.
    redevelopment_share : Mapping[str, float]
        Share of a candidate's net area rebuilt, per renewal type.
    subtract_existing : bool
        Count only the increment over the existing floor area.

    Examples
    --------
    >>> Capacity().persons_per_household
    2.7
    >>> c = Capacity.with_targets([{"cluster_id": "*", "landuse_category": "residential",
    ...                             "target_far": 3.0, "share_residential": 1.0}])
    >>> c.target_for("any", "residential")["target_far"]
    3.0
    """

    targets: pd.DataFrame = dataclasses.field(default_factory=default_targets)
    dwelling_m2: float = 100.0
    persons_per_household: float = 2.70
    m2_per_job: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: _frozen({"office": 30.0, "commercial": 40.0, "industry": 100.0})
    )
    redevelopment_share: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: _frozen(
            {
                "specialty_market": 0.5,
                "inefficient_industrial": 1.0,
                "old_residential": 0.2,
                "urban_village": 1.0,
                "idle_land": 1.0,
            }
        )
    )
    subtract_existing: bool = True

    def __post_init__(self) -> None:
        problems = []
        missing = [c for c in _TARGET_COLUMNS if c not in self.targets.columns]
        if missing:
            problems.append(f"targets lack columns {missing} (expected {_TARGET_COLUMNS})")
        else:
            shares = self.targets[[f"share_{u}" for u in USES]].to_numpy(dtype=float)
            bad = ~np.isclose(shares.sum(axis=1), 1.0) | (shares < 0).any(axis=1)
            if bad.any():
                keys = self.targets.loc[bad, ["cluster_id", "landuse_category"]]
                problems.append(
                    f"use shares must be >= 0 and sum to 1 in rows {keys.to_numpy().tolist()}"
                )
            if (self.targets["target_far"].to_numpy(dtype=float) < 0).any():
                problems.append("target_far must be >= 0")
            keys = self.targets[["cluster_id", "landuse_category"]].astype(str)
            if keys.duplicated().any():
                dups = keys[keys.duplicated()].to_numpy().tolist()
                problems.append(f"duplicate target keys {dups}")
            if not ((keys["cluster_id"] == ANY) & (keys["landuse_category"] == ANY)).any():
                problems.append("targets need a ('*', '*') fallback row")
        problems.extend(
            f"m2_per_job[{name!r}] must be > 0"
            for name in ("office", "commercial", "industry")
            if not self.m2_per_job.get(name, 0) > 0
        )
        if not self.dwelling_m2 > 0 or not self.persons_per_household > 0:
            problems.append("dwelling_m2 and persons_per_household must be > 0")
        unknown = sorted(set(self.redevelopment_share) - set(RENEWAL_TYPES))
        absent = sorted(set(RENEWAL_TYPES) - set(self.redevelopment_share))
        if unknown or absent:
            problems.append(
                f"redevelopment_share keys must be {list(RENEWAL_TYPES)}; unknown {unknown}, "
                f"missing {absent}"
            )
        elif any(not 0 <= v <= 1 for v in self.redevelopment_share.values()):
            problems.append("redevelopment_share values must be between 0 and 1")
        if problems:
            raise ConfigError("Capacity: " + "; ".join(problems))

    @classmethod
    def with_targets(cls, rows: Sequence[Mapping[str, object]] | pd.DataFrame) -> Capacity:
        """Return the default capacity with some target rows replaced or added.

        Parameters
        ----------
        rows : sequence of mappings or pandas.DataFrame
            Rows with ``cluster_id``, ``landuse_category``, ``target_far`` and
            any ``share_<use>`` (missing shares are 0).  A row replaces the
            default with the same key.

        Returns
        -------
        Capacity
            The new coefficients.

        Examples
        --------
        >>> c = Capacity.with_targets([{"cluster_id": "hitech_innovation",
        ...     "landuse_category": "industrial", "target_far": 3.0, "share_industry": 1.0}])
        >>> c.target_for("hitech_innovation", "industrial")["target_far"]
        3.0
        """
        new = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
        for use in USES:
            if f"share_{use}" not in new.columns:
                new[f"share_{use}"] = 0.0
        new[[f"share_{u}" for u in USES]] = new[[f"share_{u}" for u in USES]].fillna(0.0)
        base = default_targets()
        key = ["cluster_id", "landuse_category"]
        merged = pd.concat([new[_TARGET_COLUMNS], base], ignore_index=True)
        merged = merged.drop_duplicates(subset=key, keep="first").reset_index(drop=True)
        return cls(targets=merged)

    def target_for(self, cluster_id: str, category: str) -> dict[str, float]:
        """Return the target FAR and use shares for one cluster and category.

        Parameters
        ----------
        cluster_id : str
            Cluster (or ``"unassigned"``).
        category : str
            Land-use planning category.

        Returns
        -------
        dict
            ``target_far`` and ``share_<use>``.

        Examples
        --------
        >>> Capacity().target_for("high_end_services", "industrial")["share_office"]
        0.7
        """
        value_columns = ["target_far", *[f"share_{u}" for u in USES]]
        table = {
            (str(rec["cluster_id"]), str(rec["landuse_category"])): {
                c: float(rec[c]) for c in value_columns
            }
            for rec in self.targets.to_dict("records")
        }
        for key in ((cluster_id, category), (cluster_id, ANY), (ANY, category), (ANY, ANY)):
            if key in table:
                return table[key]
        msg = "unreachable: the ('*', '*') row is checked on construction"
        raise AssertionError(msg)


@dataclasses.dataclass(frozen=True)
class Phasing:
    """A transparent phasing rule (近期 / 中期 / 远期).

    1. Each renewal type starts in a base phase (``base_phase``, index into
       ``phases``): old residential compounds, specialty markets and idle land
       near term (国办发〔2020〕23号 set the end of the 14th Five-Year Plan for
       the 2000-era compounds; idle land has statutory disposal deadlines; the
       strategy gives the Luokou markets priority), inefficient industry and
       urban villages mid term (leases, relocation and compensation take
       longer).
    2. Vacant parcels (``is_idle``) are near term whatever their type.
    3. Otherwise a parcel within ``core_radius_m`` of its cluster core (the
       representative point of the cluster polygon) moves one phase earlier,
       beyond ``outer_radius_m`` one phase later.  Unassigned parcels have no
       core and keep their base phase.

    Attributes
    ----------
    phases : tuple of (name, first year, last year)
        Phases in time order.
    base_phase : Mapping[str, int]
        Base phase index per renewal type.
    core_radius_m, outer_radius_m : float
        Distance thresholds (m): 1000 m is about a 15-minute walk from the
        core; 2500 m is about the half-width of the larger clusters (3-6 km
        across), so only their outer fringes move later.

    Examples
    --------
    >>> [p[0] for p in Phasing().phases]
    ['near', 'mid', 'long']
    """

    phases: tuple[tuple[str, int, int], ...] = (
        ("near", 2026, 2030),
        ("mid", 2031, 2035),
        ("long", 2036, 2040),
    )
    base_phase: Mapping[str, int] = dataclasses.field(
        default_factory=lambda: MappingProxyType(
            {
                "specialty_market": 0,
                "inefficient_industrial": 1,
                "old_residential": 0,
                "urban_village": 1,
                "idle_land": 0,
            }
        )
    )
    core_radius_m: float = 1000.0
    outer_radius_m: float = 2500.0

    def __post_init__(self) -> None:
        problems = []
        if not self.phases:
            problems.append("phases is empty")
        for (_, a0, a1), (_, b0, _) in zip(self.phases, self.phases[1:], strict=False):
            if not a0 <= a1 < b0:
                problems.append(f"phase years must increase without overlap: {self.phases}")
                break
        if sorted(self.base_phase) != sorted(RENEWAL_TYPES):
            problems.append(f"base_phase keys must be {list(RENEWAL_TYPES)}")
        elif any(not 0 <= v < len(self.phases) for v in self.base_phase.values()):
            problems.append(f"base_phase values must be phase indices 0..{len(self.phases) - 1}")
        if not 0 <= self.core_radius_m <= self.outer_radius_m:
            problems.append("need 0 <= core_radius_m <= outer_radius_m")
        if problems:
            raise ConfigError("Phasing: " + "; ".join(problems))


def _existing_floor(parcels: pd.DataFrame, area: np.ndarray) -> np.ndarray:
    floor = np.full(len(parcels), np.nan)
    if "floor_area_m2" in parcels.columns:
        floor = pd.to_numeric(parcels["floor_area_m2"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    if "far" in parcels.columns:
        far = pd.to_numeric(parcels["far"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        floor = np.where(np.isnan(floor), far * area, floor)
    return floor


def _capacity(out: gpd.GeoDataFrame, capacity: Capacity) -> None:
    """Add target FAR, floor area, households, residents and jobs (in place)."""
    n = len(out)
    rtype = out["renewal_type"].astype(object).where(out["renewal_type"].notna(), None)
    determined = rtype.isin(RENEWAL_TYPES).to_numpy()
    clusters = out["cluster_id"].astype(str).to_numpy()
    categories = out["landuse_category"].astype("string").fillna("unknown").to_numpy(dtype=str)
    target = np.full(n, np.nan)
    shares = {u: np.zeros(n) for u in USES}
    cache: dict[tuple[str, str], dict[str, float]] = {}
    for i in np.flatnonzero(determined):
        key = (clusters[i], categories[i])
        if key not in cache:
            cache[key] = capacity.target_for(*key)
        row = cache[key]
        target[i] = row["target_far"]
        for u in USES:
            shares[u][i] = row[f"share_{u}"]
    area = out["area_m2"].to_numpy(dtype=float)
    net = out["supply_net_m2"].to_numpy(dtype=float)
    existing = _existing_floor(out, area)
    redevelop = np.array(
        [
            capacity.redevelopment_share.get(str(t), 0.0) if d else 0.0
            for t, d in zip(rtype, determined, strict=True)
        ]
    )
    built = redevelop * net * np.nan_to_num(target)
    with np.errstate(invalid="ignore", divide="ignore"):
        replaced = redevelop * existing * np.where(area > 0, net / area, 0.0)
    issue = determined & capacity.subtract_existing & np.isnan(existing) & (redevelop > 0)
    new_floor = built - np.nan_to_num(replaced) if capacity.subtract_existing else built
    new_floor = np.where(issue, 0.0, np.maximum(new_floor, 0.0))
    out["target_far"] = target
    out["redevelopment_share"] = redevelop
    out["redeveloped_m2"] = redevelop * net
    out["existing_floor_area_m2"] = existing
    out["new_floor_area_m2"] = new_floor
    res_floor = new_floor * shares["residential"]
    out["households"] = res_floor / capacity.dwelling_m2
    out["residents"] = out["households"] * capacity.persons_per_household
    jobs = np.zeros(n)
    for use in ("office", "commercial", "industry"):
        jobs += new_floor * shares[use] / capacity.m2_per_job[use]
    out["jobs"] = jobs
    text = np.full(n, None, dtype=object)
    text[issue] = "existing floor area unknown (floor_area_m2 and far missing)"
    out["capacity_issue"] = pd.array(text, dtype="string")


def _cores(structure: PlanStructure) -> dict[str, shapely.Geometry]:
    clusters = structure.elements.loc[structure.cluster_ids]
    return {
        str(cid): shapely.point_on_surface(geom)
        for cid, geom in zip(clusters.index, clusters.geometry, strict=True)
    }


def _phasing(out: gpd.GeoDataFrame, structure: PlanStructure, phasing: Phasing) -> None:
    """Add ``core_distance_m``, ``phase``, ``phase_start_year``, ``phase_end_year`` (in place)."""
    n = len(out)
    cores = _cores(structure)
    points = shapely.point_on_surface(out.geometry.to_numpy())
    clusters = out["cluster_id"].astype(str).to_numpy()
    core = np.array([cores.get(c) for c in clusters], dtype=object)
    has_core = np.array([c is not None for c in core], dtype=bool)
    distance = np.full(n, np.nan)
    distance[has_core] = shapely.distance(points[has_core], core[has_core])
    rtype = out["renewal_type"].astype(object).where(out["renewal_type"].notna(), None).to_numpy()
    idle = (
        out["is_idle"]
        .astype(object)
        .where(out["is_idle"].notna(), other=False)
        .astype(bool)
        .to_numpy()
        if "is_idle" in out.columns
        else np.zeros(n, dtype=bool)
    )
    last = len(phasing.phases) - 1
    index = np.full(n, -1)
    for i in range(n):
        t = rtype[i]
        if t not in phasing.base_phase:
            continue
        k = phasing.base_phase[t]
        if idle[i]:
            k = 0
        elif not np.isnan(distance[i]):
            if distance[i] <= phasing.core_radius_m:
                k = max(0, k - 1)
            elif distance[i] > phasing.outer_radius_m:
                k = min(last, k + 1)
        index[i] = k
    names = np.array([p[0] for p in phasing.phases], dtype=object)
    starts = np.array([p[1] for p in phasing.phases], dtype=float)
    ends = np.array([p[2] for p in phasing.phases], dtype=float)
    ok = index >= 0
    phase = np.full(n, None, dtype=object)
    phase[ok] = names[index[ok]]
    phase[rtype == UNDETERMINED] = PHASE_UNDETERMINED
    out["core_distance_m"] = distance
    out["phase"] = pd.array(phase, dtype="string")
    out["phase_start_year"] = pd.array(np.where(ok, starts[np.maximum(index, 0)], np.nan)).astype(
        "Int64"
    )
    out["phase_end_year"] = pd.array(np.where(ok, ends[np.maximum(index, 0)], np.nan)).astype(
        "Int64"
    )


def renewal_supply(
    parcels: gpd.GeoDataFrame,
    structure: PlanStructure,
    *,
    constraints: Sequence[Constraint] = (),
    rules: RenewalRules | None = None,
    capacity: Capacity | None = None,
    phasing: Phasing | None = None,
    urban_area: shapely.Geometry | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    landuse_scheme: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Compute renewal land supply per parcel and the ledger per cluster, type and phase.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Output of :func:`tqspatial.assign.assign_parcels` (needs
        ``cluster_id``), with ``landuse_code`` or already classified
        ``landuse_canonical`` / ``landuse_category`` columns, and the
        attributes the rules use (``build_year``, ``far``, ``coverage``,
        ``floor_area_m2``, ``is_idle``).  Working CRS (metres).
    structure : PlanStructure
        The structure the parcels were assigned to (cluster cores, order).
    constraints : sequence of constraints, default ()
        Vector / raster constraints (see :mod:`tqspatial.constraints`).
    rules : RenewalRules, optional
        Renewal rules; default ``RenewalRules()``.
    capacity : Capacity, optional
        Capacity coefficients; default ``Capacity()``.
    phasing : Phasing, optional
        Phasing rule; default ``Phasing()``.
    urban_area : shapely.Geometry, optional
        Urban area for the 城中村 rule (see
        :func:`tqspatial.renewal.tianqiao_urban_area`).
    facilities : geopandas.GeoDataFrame, optional
        Facilities for the market rule (only with ``market_facility_kinds``).
    landuse_scheme : str, optional
        Passed to :func:`tqspatial.landuse.classify_landuse` when the
        parcels are not classified yet.

    Returns
    -------
    parcels_out : geopandas.GeoDataFrame
        Every input row, same order, plus ``landuse_*`` (if computed),
        ``renewal_type``, ``renewal_rule``, ``constrained_<name>_m2``,
        ``constrained_m2``, ``net_area_m2``, ``constrained_share``,
        ``supply_net_m2`` (net area of determined candidates, else 0),
        ``pending_net_m2`` (net area of undetermined parcels), ``target_far``,
        ``redevelopment_share``, ``redeveloped_m2`` (net area rebuilt),
        ``existing_floor_area_m2``,
        ``new_floor_area_m2``, ``households``, ``residents``, ``jobs``,
        ``capacity_issue``, ``core_distance_m``, ``phase``,
        ``phase_start_year``, ``phase_end_year``.  Unknown codes and
        undetermined parcels are recorded in the quality log.
    ledger : pandas.DataFrame
        :func:`supply_ledger` of ``parcels_out``.

    Raises
    ------
    SchemaError
        If ``cluster_id`` is missing (assign the parcels first) or neither
        ``landuse_code`` nor the ``landuse_*`` columns are present.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from tqspatial.assign import assign_parcels
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[box(0, 0, 200, 100)], crs="EPSG:4548"))
    >>> parcels = gpd.GeoDataFrame(
    ...     {"parcel_id": ["a", "b"], "landuse_code": ["2301", "0902"], "build_year": [None, 2010],
    ...      "far": [0.0, 3.0], "coverage": [0.0, 0.4], "floor_area_m2": [0.0, 30000.0],
    ...      "is_idle": [True, False]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> assigned, _ = assign_parcels(parcels, s)
    >>> out, ledger = renewal_supply(assigned, s)
    >>> ledger[["cluster_id", "renewal_type", "phase", "net_supply_ha"]].values.tolist()
    [['c', 'idle_land', 'near', 1.0]]
    """
    if "cluster_id" not in parcels.columns:
        msg = (
            "renewal_supply: parcels have no cluster_id column; assign them first with "
            "tqspatial.assign_parcels(parcels, structure)"
        )
        raise SchemaError(msg)
    out = parcels.copy()
    if not {"landuse_canonical", "landuse_category"} <= set(out.columns):
        if "landuse_code" not in out.columns:
            msg = (
                "renewal_supply: parcels need landuse_code (or landuse_canonical and "
                f"landuse_category); columns are {list(out.columns)}"
            )
            raise SchemaError(msg)
        classes = classify_landuse(out["landuse_code"], scheme=landuse_scheme)
        for column in classes.columns:
            out[column] = classes[column].to_numpy()
    out = renewal_candidates(out, rules=rules, urban_area=urban_area, facilities=facilities)
    if "area_m2" not in out.columns:
        out["area_m2"] = shapely.area(out.geometry.to_numpy())
    areas = constrained_areas(out, list(constraints))
    for column in areas.columns:
        out[column] = areas[column].to_numpy()
    rtype = out["renewal_type"].astype(object)
    determined = rtype.isin(RENEWAL_TYPES).to_numpy()
    undetermined = (rtype == UNDETERMINED).to_numpy()
    out["supply_net_m2"] = np.where(determined, out["net_area_m2"], 0.0)
    out["pending_net_m2"] = np.where(undetermined, out["net_area_m2"], 0.0)
    _capacity(out, capacity or Capacity())
    _phasing(out, structure, phasing or Phasing())
    ledger = supply_ledger(out, structure, phasing=phasing or Phasing())
    issues = out["capacity_issue"].notna().to_numpy()
    if issues.any():
        note(
            layer="parcels",
            stage="supply",
            kind="capacity_unknown",
            severity="warning",
            rows=out.index[issues],
            message=(
                "{count} renewal parcels have no existing floor area (floor_area_m2 and far "
                "missing); their new floor area is not counted."
            ),
        )
    logger.info(
        "renewal supply: %d candidates, %.1f ha net supply, %.0f m² new floor area",
        int(determined.sum()),
        out["supply_net_m2"].sum() / 1e4,
        out["new_floor_area_m2"].sum(),
    )
    return out, ledger


def supply_ledger(
    parcels_out: pd.DataFrame,
    structure: PlanStructure,
    *,
    phasing: Phasing | None = None,
) -> pd.DataFrame:
    """Sum renewal parcels per cluster x renewal type x phase.

    Parameters
    ----------
    parcels_out : pandas.DataFrame
        First output of :func:`renewal_supply`.
    structure : PlanStructure
        For the cluster order.
    phasing : Phasing, optional
        For the phase order and years; default ``Phasing()``.

    Returns
    -------
    pandas.DataFrame
        :data:`LEDGER_COLUMNS`; one row per combination present among parcels
        with a renewal type (candidates and undetermined), ordered by cluster
        (structure order, then ``unassigned``), type and phase.  Areas in ha,
        floor area in m², households / residents / jobs as unrounded
        expectations.  Sums over rows equal the sums over the parcels.

    Examples
    --------
    >>> supply_ledger(pd.DataFrame(columns=["cluster_id", "renewal_type", "phase"]),
    ...               PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))).columns.tolist()[:3]
    ['cluster_id', 'renewal_type', 'phase']
    """
    phasing = phasing or Phasing()
    frame = pd.DataFrame(parcels_out.drop(columns="geometry", errors="ignore"))
    frame = frame[frame["renewal_type"].notna()]
    years = {name: f"{a}-{b}" for name, a, b in phasing.phases}
    years[PHASE_UNDETERMINED] = ""
    if frame.empty:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    keys = pd.DataFrame(
        {
            "cluster_id": frame["cluster_id"].astype(str).to_numpy(),
            "renewal_type": frame["renewal_type"].astype(str).to_numpy(),
            "phase": frame["phase"].astype(str).to_numpy(),
        }
    )
    values = pd.DataFrame(
        {
            "parcel_count": 1,
            "gross_area_ha": frame["area_m2"].to_numpy(dtype=float) / 1e4,
            "constrained_area_ha": frame["constrained_m2"].to_numpy(dtype=float) / 1e4,
            "net_supply_ha": frame["supply_net_m2"].to_numpy(dtype=float) / 1e4,
            "pending_net_ha": frame["pending_net_m2"].to_numpy(dtype=float) / 1e4,
            "redeveloped_ha": frame["redeveloped_m2"].to_numpy(dtype=float) / 1e4,
            "new_floor_area_m2": frame["new_floor_area_m2"].to_numpy(dtype=float),
            "households": frame["households"].to_numpy(dtype=float),
            "residents": frame["residents"].to_numpy(dtype=float),
            "jobs": frame["jobs"].to_numpy(dtype=float),
            "capacity_issues": frame["capacity_issue"].notna().to_numpy(dtype=int),
        }
    )
    table = (
        pd.concat([keys, values], axis=1)
        .groupby(["cluster_id", "renewal_type", "phase"], sort=False, as_index=False)
        .sum()
    )
    cluster_order = {c: i for i, c in enumerate([*structure.cluster_ids, UNASSIGNED])}
    type_order = {t: i for i, t in enumerate([*RENEWAL_TYPES, UNDETERMINED])}
    phase_order = {p[0]: i for i, p in enumerate(phasing.phases)}
    phase_order[PHASE_UNDETERMINED] = len(phase_order)
    table = table.sort_values(
        ["cluster_id", "renewal_type", "phase"],
        key=lambda s: s.map({**cluster_order, **type_order, **phase_order}).fillna(99),
    ).reset_index(drop=True)
    table.insert(3, "phase_years", table["phase"].map(years).fillna(""))
    table["parcel_count"] = table["parcel_count"].astype(int)
    table["capacity_issues"] = table["capacity_issues"].astype(int)
    return table[LEDGER_COLUMNS]


def cluster_totals(ledger: pd.DataFrame, structure: PlanStructure) -> pd.DataFrame:
    """Sum the ledger per cluster and add a district row.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Output of :func:`supply_ledger`.
    structure : PlanStructure
        For cluster order and names.

    Returns
    -------
    pandas.DataFrame
        One row per cluster (structure order), ``unassigned`` and
        ``district`` (the sum of all the others), with ``name_zh`` and the
        numeric ledger columns.

    Examples
    --------
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))
    >>> empty = supply_ledger(pd.DataFrame(columns=["renewal_type"]), s)
    >>> cluster_totals(empty, s)["cluster_id"].tolist()
    ['c', 'unassigned', 'district']
    """
    numeric = [
        c for c in LEDGER_COLUMNS if c not in ("cluster_id", "renewal_type", "phase", "phase_years")
    ]
    order = [*structure.cluster_ids, UNASSIGNED]
    sums = (
        ledger.groupby("cluster_id")[numeric].sum()
        if len(ledger)
        else pd.DataFrame(columns=numeric)
    )
    sums = sums.reindex(order).fillna(0)
    sums.loc["district"] = sums.sum()
    for column in ("parcel_count", "capacity_issues"):
        sums[column] = sums[column].astype(int)
    names = structure.elements["name_zh"].reindex(order).astype(object).to_dict()
    names.update({UNASSIGNED: "未纳入组团", "district": "全区合计"})
    sums.insert(0, "name_zh", [names[i] for i in sums.index])
    sums.index.name = "cluster_id"
    result: pd.DataFrame = sums.reset_index()
    return result


def ledger_zh(ledger: pd.DataFrame, structure: PlanStructure) -> pd.DataFrame:
    """Return the ledger for planners: Chinese headers, cluster / type / phase names in Chinese.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Output of :func:`supply_ledger` (or :func:`cluster_totals`, whose
        ``name_zh`` column is kept as 组团名称).
    structure : PlanStructure
        For the Chinese cluster names.

    Returns
    -------
    pandas.DataFrame
        Same rows; ``cluster_id`` becomes the Chinese cluster name (未纳入组团
        for ``unassigned``), renewal types and phases are translated, areas
        rounded to 0.01 ha and counts of people and jobs to whole numbers.

    Examples
    --------
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))
    >>> ledger_zh(pd.DataFrame(columns=LEDGER_COLUMNS), s).columns.tolist()[:3]
    ['组团', '更新类型', '时序']
    """
    out = ledger.copy()
    names = structure.elements["name_zh"].astype(str).to_dict()
    names.update({UNASSIGNED: "未纳入组团", "district": "全区合计"})
    if "name_zh" in out.columns:
        out = out.drop(columns="name_zh")
    out["cluster_id"] = out["cluster_id"].map(lambda c: names.get(str(c), str(c)))
    if "renewal_type" in out.columns:
        out["renewal_type"] = out["renewal_type"].map(lambda t: RENEWAL_TYPE_ZH.get(str(t), str(t)))
    if "phase" in out.columns:
        out["phase"] = out["phase"].map(lambda p: PHASE_ZH.get(str(p), str(p)))
    for column in out.columns:
        if column.endswith("_ha"):
            out[column] = out[column].astype(float).round(2)
        elif column in ("new_floor_area_m2", "households", "residents", "jobs"):
            out[column] = out[column].astype(float).round(0)
    return out.rename(columns=LEDGER_HEADERS_ZH)
