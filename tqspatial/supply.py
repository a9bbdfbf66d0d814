"""Renewal land supply per cluster: net land, floor area, people, jobs and phasing.

:func:`renewal_supply` chains the steps for assigned parcels:

1. land use: ``landuse_*`` columns from :func:`tqspatial.landuse.classify_landuse`
   (computed from ``landuse_code`` unless the columns are already there);
2. renewal candidates: ``renewal_type`` / ``renewal_rule``
   (:func:`tqspatial.renewal.renewal_candidates`);
3. constraints: exact constrained and net areas
   (:func:`tqspatial.constraints.constrained_areas`);
4. capacity (:class:`Capacity`): target FAR by (cluster, land-use category),
   the limits of 建科〔2021〕63号 (:class:`RenewalLimits`), demolished,
   rebuilt and added floor area, and the projected *new* households,
   residents and jobs (the input ``residents`` and ``jobs`` are never
   overwritten: they are what is there today);
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
the redevelopment share of its renewal type (below, after the limits), and
only that part yields new floor area.  An old compound retrofitted in place
(综合整治) is supply in the first sense, not in the second.

**Undetermined parcels** (missing data, unknown code) keep their gross and
constrained area in the ledger but supply nothing: their net area is shown
as ``pending_net_ha``, their floor area, people and jobs are zero.

**Floor area.**  On the rebuilt part of a candidate (redevelopment share x
net area) the existing buildings are demolished (``demolished_floor_m2`` =
share x existing floor area x net / parcel area) and new ones built at the
target FAR (``rebuilt_floor_m2``).  ``new_floor_area_m2`` is the increment,
rebuilt minus demolished, floored at 0 (``subtract_existing=False``: the
rebuilt floor area).  Existing floor area is ``floor_area_m2``, else
``far`` x area; when both are missing nothing can be computed and the
parcel's ``capacity_issue`` says so (floor area 0, counted in the ledger's
``capacity_issues``).

**The limits of 建科〔2021〕63号** (住房和城乡建设部关于在实施城市更新行动中
防止大拆大建问题的通知, 2021), each applied per parcel (the parcel is taken
as the 项目) and reported per ledger row and cluster:

* (一) in principle the floor area demolished in a renewal unit (片区) or
  project not above 20 % of its existing floor area;
* (二) in principle the 拆建比 -- floor area built over floor area
  demolished -- of a unit or project not above 2;
* (三) the share of residents rehoused on site or nearby (就地就近安置率)
  not below 50 %.

(Paraphrased: the notice's own text was not available to quote; the three
numbers agree with public secondary summaries, "拆≤20%·拆建比≤2·
就地就近安置≥50%".)

For the renewal types in :attr:`RenewalLimits.enforce` (old residential
compounds and specialty markets: the urban fabric the notice is about) the
first two are *enforced*: demolition beyond 20 % shrinks the rebuilt land in
proportion, and new construction beyond twice the demolished floor area is
cut to it (``demolition_check`` / ``rebuild_ratio_check`` = ``capped``,
``renewal_limit`` names the limit that set the new floor area).  Other types
are checked and *flagged* (``over``), not cut -- our judgement, configurable:
industrial sites are redeveloped under the 低效用地再开发 policy and urban
villages under the 2023 城中村改造 guidance, where clearance is the usual mode.  Rehousing cannot be
enforced by a land model and is flagged: a parcel's ``displaced_households``
are its residents (input ``residents``) times the share of its floor area
demolished, divided by the household size; ``new_dwellings`` are the
rebuilt residential floor area over the dwelling size; ``rehousing_rate`` =
min(1, new dwellings / displaced households) is the share of displaced
households the new dwellings *could* house -- on site for a parcel
(就地), within the cluster in :func:`cluster_totals` (就近).  A rate below
50 % means the plan cannot meet the notice there, whatever the residents
choose; a rate above it is necessary, not sufficient.

Coefficients (all overridable; assumptions are labelled so):

* average new dwelling 100 m² gross floor area per household — assumption
  (typical new housing in Jinan is 90-120 m²);
* 2.70 persons per household — Shandong, 7th national census (2020):
  平均每个家庭户的人口为2.70人 (the national figure is 2.62);
* floor area per job: office 30 m², commercial 40 m², industry 100 m² —
  assumptions within the usual planning ranges (office 25-40, commercial
  30-50, industry 80-120 m² per job);
* redevelopment share per renewal type: the part of a candidate's net area
  that is demolished and rebuilt.  Old residential compounds 0.2 (so the
  demolition stays within the 20 % of 建科〔2021〕63号), specialty markets 0.5
  (assumption: half rebuilt, half upgraded in place; the 20 % limit then cuts
  it), inefficient industry, urban villages, idle and vacant land 1.0.
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

from tqspatial._frozen import ProxyPickling
from tqspatial.assign import UNASSIGNED
from tqspatial.constraints import Constraint, constrained_areas
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.landuse import classify_landuse
from tqspatial.quality import note
from tqspatial.renewal import (
    RENEWAL_TYPES,
    UNDETERMINED,
    RenewalRules,
    renewal_candidates,
)
from tqspatial.structure import PlanStructure
from tqspatial.vocabulary import CLUSTER_SPECIAL_NAMES, zh_table

__all__ = [
    "LEDGER_COLUMNS",
    "USES",
    "Capacity",
    "Phasing",
    "RenewalLimits",
    "cluster_totals",
    "combine_ledgers",
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
    "existing_floor_area_m2",
    "demolished_floor_m2",
    "rebuilt_floor_m2",
    "new_floor_area_m2",
    "demolition_share",
    "rebuild_ratio",
    "bound_demolition",
    "bound_rebuild_ratio",
    "over_limit",
    "new_dwellings",
    "new_households",
    "new_residents",
    "new_jobs",
    "displaced_households",
    "rehousing_rate",
    "rehousing_check",
    "capacity_issues",
]

#: Ledger columns that are ratios or checks of a row, not sums over its parcels.
LEDGER_RATIOS = ("demolition_share", "rebuild_ratio", "rehousing_rate", "rehousing_check")

#: Ledger columns of people, households and jobs (rounded to whole numbers for planners).
_PEOPLE_COLUMNS = (
    "new_dwellings",
    "new_households",
    "new_residents",
    "new_jobs",
    "displaced_households",
)

#: Ledger columns that count parcels.
LEDGER_COUNTS = (
    "parcel_count",
    "bound_demolition",
    "bound_rebuild_ratio",
    "over_limit",
    "capacity_issues",
)

_TARGET_COLUMNS = ["cluster_id", "landuse_category", "target_far", *[f"share_{u}" for u in USES]]


def _row(cluster: str, category: str, far: float, **shares: float) -> dict[str, object]:
    return {
        "cluster_id": cluster,
        "landuse_category": category,
        "target_far": far,
        **{f"share_{u}": shares.get(u, 0.0) for u in USES},
    }


def default_targets() -> pd.DataFrame:
    """Return the generic target FAR and floor-use mix by land-use category.

    These rows apply to any cluster (``cluster_id == "*"``) and to unassigned
    land.  A district's own targets, by cluster kind or lead industry, come from
    its profile (:func:`tqspatial.district.build_capacity`) and take precedence.
    The FAR values are planning assumptions in the usual ranges of Chinese
    regulatory plans (housing 2.0-3.0, commerce and offices 3.0-4.0, ordinary
    industry 1.2-2.0).

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
class RenewalLimits:
    """The limits of 建科〔2021〕63号 on demolition, rebuilding and rehousing.

    Attributes
    ----------
    max_demolition_share : float
        Demolished floor area over existing floor area, at most (第(一)条: 20 %).
    max_rebuild_ratio : float
        拆建比 -- floor area built over floor area demolished -- at most (第(二)条: 2).
    min_rehousing_rate : float
        就地就近安置率 at least (第(三)条: 50 %); checked, never enforced.
    enforce : tuple of str
        Renewal types whose demolition and new construction are cut to the
        limits; the others are checked and flagged.

    Examples
    --------
    >>> RenewalLimits().max_rebuild_ratio, RenewalLimits().enforce
    (2.0, ('old_residential', 'specialty_market'))
    >>> RenewalLimits(enforce=("parks",))
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: RenewalLimits: enforce lists unknown renewal types ['parks']; ...
    """

    max_demolition_share: float = 0.20
    max_rebuild_ratio: float = 2.0
    min_rehousing_rate: float = 0.50
    enforce: tuple[str, ...] = ("old_residential", "specialty_market")

    def __post_init__(self) -> None:
        problems = []
        for name in ("max_demolition_share", "min_rehousing_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name}={value}; expected a share from 0 to 1")
        if not self.max_rebuild_ratio > 0:
            problems.append(f"max_rebuild_ratio={self.max_rebuild_ratio}; expected > 0")
        unknown = sorted(set(self.enforce) - set(RENEWAL_TYPES))
        if unknown:
            problems.append(
                f"enforce lists unknown renewal types {unknown}; valid are {list(RENEWAL_TYPES)}"
            )
        if problems:
            raise ConfigError("RenewalLimits: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class Capacity(ProxyPickling):
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
        Share of a candidate's net area rebuilt, per renewal type (before the
        limits).
    subtract_existing : bool
        Count only the increment over the existing floor area.
    limits : RenewalLimits
        The demolition, 拆建比 and rehousing limits (建科〔2021〕63号).

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
                "vacant_land": 1.0,
            }
        )
    )
    subtract_existing: bool = True
    limits: RenewalLimits = dataclasses.field(default_factory=RenewalLimits)

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
        >>> c = Capacity.with_targets([{"cluster_id": "north",
        ...     "landuse_category": "industrial", "target_far": 3.0, "share_industry": 1.0}])
        >>> c.target_for("north", "industrial")["target_far"]
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
        >>> Capacity().target_for("north", "industrial")["share_office"]
        0.2
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
class Phasing(ProxyPickling):
    """A transparent phasing rule (近期 / 中期 / 远期).

    1. Each renewal type starts in a base phase (``base_phase``, index into
       ``phases``): old residential compounds, specialty markets, idle and
       vacant land near term (国办发〔2020〕23号 set the end of the 14th
       Five-Year Plan for the 2000-era compounds; idle land has statutory
       disposal deadlines; vacant land has nothing to clear; the strategy gives
       the Luokou markets priority), inefficient industry and urban villages
       mid term (leases, relocation and compensation take longer).
    2. Parcels flagged ``is_idle`` are near term whatever their type.
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
                "vacant_land": 0,
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


#: Relative tolerance of the limit tests (a parcel exactly at a limit is within it).
_LIMIT_TOLERANCE = 1e-9


def _targets(
    out: pd.DataFrame, capacity: Capacity, determined: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    n = len(out)
    target = np.full(n, np.nan)
    shares = {u: np.zeros(n) for u in USES}
    rows = np.flatnonzero(determined)
    # one look-up per distinct (cluster, category), spread to its rows
    clusters, cluster_names = pd.factorize(out["cluster_id"].astype(str))
    categories, category_names = pd.factorize(
        out["landuse_category"].astype("string").fillna("unknown")
    )
    pair = clusters[rows].astype(np.int64) * (len(category_names) + 1) + categories[rows]
    _, first, group = np.unique(pair, return_index=True, return_inverse=True)
    found = [
        capacity.target_for(str(cluster_names[clusters[i]]), str(category_names[categories[i]]))
        for i in rows[first].tolist()
    ]
    target[rows] = np.array([f["target_far"] for f in found], dtype=float)[group]
    for u in USES:
        shares[u][rows] = np.array([f[f"share_{u}"] for f in found], dtype=float)[group]
    return target, shares


def _labelled(codes: np.ndarray, labels: Sequence[str]) -> pd.api.extensions.ExtensionArray:
    """Text column (``string`` dtype) of ``labels[code]``, missing where the code is -1.

    As ``pd.array(texts, dtype="string")`` of the per-row texts, without a text object
    per row.
    """
    return pd.array(np.array(labels, dtype=object), dtype="string").take(
        np.asarray(codes, dtype=np.intp), allow_fill=True
    )


def _lookup(column: pd.Series, mapping: Mapping[str, float]) -> np.ndarray:
    """``mapping[value]`` per row of a text column, NaN for missing or unmapped values."""
    codes, uniques = pd.factorize(column)
    values = np.array([mapping.get(str(u), np.nan) for u in uniques] + [np.nan], dtype=float)
    found: np.ndarray = values[codes]  # code -1 (missing) takes the trailing NaN
    return found


def _check(
    applies: np.ndarray, unknown: np.ndarray, over: np.ndarray, enforced: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """Outcome of one limit test per row (see vocabulary.CHECK_NAMES)."""
    result = np.full(len(applies), -1, dtype=np.intp)
    result[applies] = 0
    result[applies & over & enforced] = 1
    result[applies & over & ~enforced] = 2
    result[applies & unknown] = 3
    return _labelled(result, ("ok", "capped", "over", "unknown"))


@dataclasses.dataclass
class _Floors:
    """Floor areas of the rebuilt part of each parcel, after the limits."""

    works: np.ndarray  # a determined candidate with land to rebuild
    known: np.ndarray  # existing floor area known
    cleared: np.ndarray  # something is demolished
    issue: np.ndarray  # existing floor area unknown: nothing can be computed
    over_demolition: np.ndarray
    over_ratio: np.ndarray
    rebuilt_land: np.ndarray
    demolished: np.ndarray
    rebuilt: np.ndarray
    new_floor: np.ndarray


def _floors(
    capacity: Capacity,
    *,
    target: np.ndarray,
    redevelop: np.ndarray,
    works: np.ndarray,
    enforced: np.ndarray,
    area: np.ndarray,
    net: np.ndarray,
    existing: np.ndarray,
) -> _Floors:
    limits = capacity.limits
    known = ~np.isnan(existing)
    with np.errstate(invalid="ignore", divide="ignore"):
        net_share = np.where(area > 0, net / area, 0.0)
        # (一) demolition: floor area on the rebuilt part, at most a share of the existing
        asked_demolition = redevelop * existing * net_share
        demolition_cap = limits.max_demolition_share * existing
        over_demolition = works & known & (existing > 0)
        over_demolition &= asked_demolition > demolition_cap * (1 + _LIMIT_TOLERANCE)
        scale = np.where(over_demolition & enforced, demolition_cap / asked_demolition, 1.0)
        demolished = np.where(works, asked_demolition * scale, 0.0)
        rebuilt_land = np.where(works, redevelop * net * scale, 0.0)
        # (二) 拆建比: floor area built over floor area demolished
        asked_rebuilt = rebuilt_land * np.nan_to_num(target)
        cleared = works & known & (demolished > 0)
        rebuild_cap = limits.max_rebuild_ratio * demolished
        over_ratio = cleared & (asked_rebuilt > rebuild_cap * (1 + _LIMIT_TOLERANCE))
        rebuilt = np.where(over_ratio & enforced, rebuild_cap, asked_rebuilt)
    issue = works & capacity.subtract_existing & ~known
    rebuilt = np.where(issue, 0.0, rebuilt)
    demolished = np.where(issue, np.nan, demolished)
    if capacity.subtract_existing:
        new_floor = np.maximum(rebuilt - np.nan_to_num(demolished), 0.0)
    else:
        new_floor = rebuilt
    return _Floors(
        works=works,
        known=known,
        cleared=cleared,
        issue=issue,
        over_demolition=over_demolition,
        over_ratio=over_ratio,
        rebuilt_land=rebuilt_land,
        demolished=demolished,
        rebuilt=rebuilt,
        new_floor=np.where(issue, 0.0, new_floor),
    )


def _capacity(out: gpd.GeoDataFrame, capacity: Capacity) -> None:
    """Add floor areas, the 建科〔2021〕63号 checks and the projected newcomers (in place)."""
    n = len(out)
    rtype = out["renewal_type"]
    determined = rtype.isin(RENEWAL_TYPES).to_numpy(dtype=bool, na_value=False)
    enforced = determined & rtype.isin(capacity.limits.enforce).to_numpy(dtype=bool, na_value=False)
    target, shares = _targets(out, capacity, determined)
    area = out["area_m2"].to_numpy(dtype=float)
    net = out["supply_net_m2"].to_numpy(dtype=float)
    existing = _existing_floor(out, area)
    share_of = _lookup(rtype, capacity.redevelopment_share)
    redevelop = np.where(determined & ~np.isnan(share_of), share_of, 0.0)
    works = determined & (redevelop > 0) & (net > 0)
    f = _floors(
        capacity,
        target=target,
        redevelop=redevelop,
        works=works,
        enforced=enforced,
        area=area,
        net=net,
        existing=existing,
    )
    out["target_far"] = target
    out["redevelopment_share"] = redevelop
    out["redeveloped_m2"] = f.rebuilt_land
    out["existing_floor_area_m2"] = existing
    out["demolished_floor_m2"] = f.demolished
    out["rebuilt_floor_m2"] = f.rebuilt
    out["new_floor_area_m2"] = f.new_floor
    with np.errstate(invalid="ignore", divide="ignore"):
        out["demolition_share"] = np.where(
            works & f.known & (existing > 0), f.demolished / existing, np.nan
        )
        out["rebuild_ratio"] = np.where(f.cleared & ~f.issue, f.rebuilt / f.demolished, np.nan)
    unknown = works & ~f.known
    out["demolition_check"] = _check(works & (existing != 0), unknown, f.over_demolition, enforced)
    out["rebuild_ratio_check"] = _check(f.cleared | unknown, unknown, f.over_ratio, enforced)
    limit = np.full(n, -1, dtype=np.intp)
    done = works & ~f.issue
    limit[done] = 0
    if capacity.subtract_existing:
        limit[done & (f.rebuilt <= np.nan_to_num(f.demolished))] = 1
    limit[done & f.over_demolition & enforced] = 2
    limit[done & f.over_ratio & enforced] = 3
    out["renewal_limit"] = _labelled(
        limit, ("target_far", "existing_denser", "demolition_share", "rebuild_ratio")
    )
    _rehousing(out, capacity, f.rebuilt * shares["residential"], works, f.known)

    # projected newcomers go to new columns: the parcel's own residents and jobs stay as read
    out["new_households"] = f.new_floor * shares["residential"] / capacity.dwelling_m2
    out["new_residents"] = out["new_households"] * capacity.persons_per_household
    jobs = np.zeros(n)
    for use in ("office", "commercial", "industry"):
        jobs += f.new_floor * shares[use] / capacity.m2_per_job[use]
    out["new_jobs"] = jobs
    out["capacity_issue"] = _labelled(
        np.where(f.issue, 0, -1), ("existing floor area unknown (floor_area_m2 and far missing)",)
    )


def _rehousing(
    out: gpd.GeoDataFrame,
    capacity: Capacity,
    rebuilt_residential: np.ndarray,
    works: np.ndarray,
    known: np.ndarray,
) -> None:
    """Add displaced households, new dwellings and the on-site rehousing check (in place)."""
    n = len(out)
    residential = (out["landuse_category"].astype("string") == "residential").to_numpy(
        dtype=bool, na_value=False
    )
    residents = (
        pd.to_numeric(out["residents"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if "residents" in out.columns
        else np.full(n, np.nan)
    )
    existing = out["existing_floor_area_m2"].to_numpy(dtype=float)
    demolished = out["demolished_floor_m2"].to_numpy(dtype=float)
    clears_housing = works & known & residential & (np.nan_to_num(demolished) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        displaced = np.where(
            clears_housing,
            residents * demolished / existing / capacity.persons_per_household,
            0.0,
        )
    dwellings = rebuilt_residential / capacity.dwelling_m2
    out["new_dwellings"] = dwellings
    out["displaced_households"] = displaced
    has_displaced = clears_housing & (np.nan_to_num(displaced) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(has_displaced, np.minimum(1.0, dwellings / displaced), np.nan)
    out["rehousing_rate"] = rate
    check = np.full(n, -1, dtype=np.intp)
    check[has_displaced] = 0
    check[has_displaced & (rate < capacity.limits.min_rehousing_rate)] = 1
    check[clears_housing & np.isnan(residents)] = 2
    out["rehousing_check"] = _labelled(check, ("ok", "below", "unknown"))


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
    # the core of each row's cluster, looked up once per distinct cluster id
    codes, uniques = pd.factorize(out["cluster_id"].astype(str))
    known = np.array([cores.get(str(c)) for c in uniques] + [None], dtype=object)
    core = known[codes]  # code -1 (missing) takes the trailing None
    has_core = np.flatnonzero(~pd.isna(core))
    points = shapely.point_on_surface(out.geometry.to_numpy()[has_core])
    distance = np.full(n, np.nan)
    distance[has_core] = shapely.distance(points, core[has_core])
    if "is_idle" not in out.columns:
        idle = np.zeros(n, dtype=bool)
    elif pd.api.types.is_bool_dtype(out["is_idle"].dtype) and not out["is_idle"].hasnans:
        idle = out["is_idle"].to_numpy(dtype=bool)
    else:
        idle = (
            out["is_idle"]
            .astype(object)
            .where(out["is_idle"].notna(), other=False)
            .astype(bool)
            .to_numpy()
        )
    last = len(phasing.phases) - 1
    base = _lookup(out["renewal_type"], phasing.base_phase)
    has_base = ~np.isnan(base)
    k = np.where(has_base, base, 0).astype(int)
    with np.errstate(invalid="ignore"):
        near = distance <= phasing.core_radius_m
        outer = distance > phasing.outer_radius_m
    k = np.where(near, np.maximum(0, k - 1), np.where(outer, np.minimum(last, k + 1), k))
    k = np.where(idle, 0, k)
    index = np.where(has_base, k, -1)
    names = [p[0] for p in phasing.phases]
    starts = np.array([p[1] for p in phasing.phases], dtype=float)
    ends = np.array([p[2] for p in phasing.phases], dtype=float)
    ok = index >= 0
    phase = index.copy()  # a phase name, -1 none, len(names) undetermined
    phase[(out["renewal_type"] == UNDETERMINED).to_numpy(dtype=bool, na_value=False)] = len(names)
    out["core_distance_m"] = distance
    out["phase"] = _labelled(phase, [*names, PHASE_UNDETERMINED])
    out["phase_start_year"] = pd.array(np.where(ok, starts[np.maximum(index, 0)], np.nan)).astype(
        "Int64"
    )
    out["phase_end_year"] = pd.array(np.where(ok, ends[np.maximum(index, 0)], np.nan)).astype(
        "Int64"
    )


def _text_or_values(values: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Text objects as the text array assigning them to a column would infer, else as given.

    Assigning an object array makes pandas infer its dtype and convert it; converting
    it once here gives the same column at about half the cost.
    """
    if values.dtype != object or pd.api.types.infer_dtype(values) != "string":
        return values
    dtype = pd.Series(["text"]).dtype  # what this pandas infers for text
    if pd.api.types.is_object_dtype(dtype):
        return values
    text: pd.api.extensions.ExtensionArray = pd.Series(values, dtype=dtype, copy=False).array
    return text


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
        Urban area for the 城中村 rule (a district profile's ``[urban_area]``,
        see :func:`tqspatial.district.build_urban_area`).
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
        ``redevelopment_share`` (asked), ``redeveloped_m2`` (net area rebuilt,
        after the limits), ``existing_floor_area_m2``, ``demolished_floor_m2``,
        ``rebuilt_floor_m2``, ``new_floor_area_m2`` (rebuilt minus demolished),
        ``demolition_share``, ``rebuild_ratio`` (拆建比), ``demolition_check``
        and ``rebuild_ratio_check`` (``ok``, ``capped``, ``over``, ``unknown``;
        missing where the limit does not apply), ``renewal_limit`` (what set
        the new floor area: ``target_far``, ``demolition_share``,
        ``rebuild_ratio`` or ``existing_denser``), ``new_dwellings``,
        ``displaced_households``, ``rehousing_rate``, ``rehousing_check``
        (``ok``, ``below``, ``unknown``), ``new_households``,
        ``new_residents``, ``new_jobs`` (projected newcomers; the input
        ``residents`` and ``jobs`` are kept as read), ``capacity_issue``,
        ``core_distance_m``, ``phase``, ``phase_start_year``,
        ``phase_end_year``.  Unknown codes, undetermined parcels and
        limits that bound or were exceeded are recorded in the quality log.
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
    # a shallow copy: only whole columns are set below, the caller's frame is not changed
    out = parcels.copy(deep=False)
    if not {"landuse_canonical", "landuse_category"} <= set(out.columns):
        if "landuse_code" not in out.columns:
            msg = (
                "renewal_supply: parcels need landuse_code (or landuse_canonical and "
                f"landuse_category); columns are {list(out.columns)}"
            )
            raise SchemaError(msg)
        classes = classify_landuse(out["landuse_code"], scheme=landuse_scheme)
        for column in classes.columns:
            out[column] = _text_or_values(classes[column].to_numpy())
    out = renewal_candidates(out, rules=rules, urban_area=urban_area, facilities=facilities)
    if "area_m2" not in out.columns:
        out["area_m2"] = shapely.area(out.geometry.to_numpy())
    areas = constrained_areas(out, list(constraints))
    for column in areas.columns:
        out[column] = areas[column].to_numpy()
    rtype = out["renewal_type"]
    determined = rtype.isin(RENEWAL_TYPES).to_numpy(dtype=bool, na_value=False)
    undetermined = (rtype == UNDETERMINED).to_numpy(dtype=bool, na_value=False)
    out["supply_net_m2"] = np.where(determined, out["net_area_m2"], 0.0)
    out["pending_net_m2"] = np.where(undetermined, out["net_area_m2"], 0.0)
    capacity = capacity or Capacity()
    _capacity(out, capacity)
    _phasing(out, structure, phasing or Phasing())
    ledger = supply_ledger(out, structure, phasing=phasing or Phasing(), limits=capacity.limits)
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
    _note_limits(out, capacity.limits)
    logger.info(
        "renewal supply: %d candidates, %.1f ha net supply, %.0f m² new floor area",
        int(determined.sum()),
        out["supply_net_m2"].sum() / 1e4,
        out["new_floor_area_m2"].sum(),
    )
    return out, ledger


def _note_limits(out: gpd.GeoDataFrame, limits: RenewalLimits) -> None:
    """Record which 建科〔2021〕63号 limits bound parcels, and which were exceeded.

    Messages hold no counts of their own (``{count}`` and ``{values}``, the renewal types, are
    filled from the rows), so the logs of partitions merge into the single engine's log.
    """
    rtype = out["renewal_type"].astype(object).to_numpy()
    checks = {
        "demolition": (
            out["demolition_check"],
            f"demolition above {limits.max_demolition_share:.0%} of the existing floor area",
        ),
        "rebuild_ratio": (
            out["rebuild_ratio_check"],
            f"拆建比 above {limits.max_rebuild_ratio:g}",
        ),
    }
    for name, (column, what) in checks.items():
        capped = (column == "capped").to_numpy(dtype=bool, na_value=False)
        over = (column == "over").to_numpy(dtype=bool, na_value=False)
        if capped.any():
            note(
                layer="parcels",
                stage="supply",
                kind=f"limit_{name}_capped",
                rows=out.index[capped],
                values=rtype[capped],
                column=f"{name}_check",
                # per-type counts through {values}: the same text when partitions merge
                message=(
                    f"{{count}} renewal parcels asked for {what} and were cut to the limit "
                    "(建科〔2021〕63号; types: {values})."
                ),
            )
        if over.any():
            note(
                layer="parcels",
                stage="supply",
                kind=f"limit_{name}_over",
                severity="warning",
                rows=out.index[over],
                values=rtype[over],
                column=f"{name}_check",
                message=(
                    f"{{count}} renewal parcels have {what} (建科〔2021〕63号) and are not cut "
                    "because the limit is not enforced for their type ({values}); see "
                    "RenewalLimits.enforce."
                ),
            )
    check = out["rehousing_check"]
    flagged = check.isin(["below", "unknown"]).to_numpy(dtype=bool, na_value=False)
    if flagged.any():
        note(
            layer="parcels",
            stage="supply",
            kind="limit_rehousing",
            severity="warning",
            rows=out.index[flagged],
            values=check.to_numpy(dtype=object)[flagged],
            column="rehousing_check",
            message=(
                "{count} renewal parcels rebuild fewer dwellings on site than "
                f"{limits.min_rehousing_rate:.0%} of the households their demolition displaces "
                "(below) or have unknown residents (unknown): {values} (就地就近安置率, "
                "建科〔2021〕63号); cluster_totals checks the cluster as a whole."
            ),
        )


#: Columns of :func:`renewal_supply`'s output that :func:`supply_ledger` reads.
_LEDGER_INPUTS = (
    "cluster_id",
    "renewal_type",
    "phase",
    "area_m2",
    "constrained_m2",
    "supply_net_m2",
    "pending_net_m2",
    "redeveloped_m2",
    "existing_floor_area_m2",
    "demolished_floor_m2",
    "rebuilt_floor_m2",
    "new_floor_area_m2",
    "demolition_share",
    "rebuild_ratio",
    "demolition_check",
    "rebuild_ratio_check",
    "new_dwellings",
    "new_households",
    "new_residents",
    "new_jobs",
    "displaced_households",
    "capacity_issue",
)


def supply_ledger(
    parcels_out: pd.DataFrame,
    structure: PlanStructure,
    *,
    phasing: Phasing | None = None,
    limits: RenewalLimits | None = None,
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
    limits : RenewalLimits, optional
        For the rehousing minimum of ``rehousing_check``; default
        ``RenewalLimits()``.

    Returns
    -------
    pandas.DataFrame
        :data:`LEDGER_COLUMNS`; one row per combination present among parcels
        with a renewal type (candidates and undetermined), ordered by cluster
        (structure order, then ``unassigned``), type and phase.  Areas in ha,
        floor area in m², dwellings, households, residents and jobs as
        unrounded expectations; ``existing_floor_area_m2`` is that of the
        parcels where demolition applies.  ``bound_demolition`` and
        ``bound_rebuild_ratio`` count parcels cut to a limit, ``over_limit``
        parcels over a limit not enforced for their type.  Sums over rows
        equal the sums over the parcels; :data:`LEDGER_RATIOS` are ratios of
        the row's sums (``rebuild_ratio`` over the parcels with demolition).

    Examples
    --------
    >>> supply_ledger(pd.DataFrame(columns=["cluster_id", "renewal_type", "phase"]),
    ...               PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))).columns.tolist()[:3]
    ['cluster_id', 'renewal_type', 'phase']
    """
    phasing = phasing or Phasing()
    # only the rows with a renewal type and the columns summed (not a copy of the whole layer)
    rows = parcels_out["renewal_type"].notna().to_numpy(dtype=bool)
    inputs = [c for c in _LEDGER_INPUTS if c in parcels_out.columns]
    frame = pd.DataFrame(parcels_out[inputs])[rows]
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

    def column(name: str) -> np.ndarray:
        values: np.ndarray = np.nan_to_num(frame[name].to_numpy(dtype=float, na_value=np.nan))
        return values

    def flagged(name: str, *values: str) -> np.ndarray:
        return frame[name].isin(values).to_numpy(dtype=int)

    demolition_applies = frame["demolition_share"].notna().to_numpy()
    values = pd.DataFrame(
        {
            "parcel_count": 1,
            "gross_area_ha": column("area_m2") / 1e4,
            "constrained_area_ha": column("constrained_m2") / 1e4,
            "net_supply_ha": column("supply_net_m2") / 1e4,
            "pending_net_ha": column("pending_net_m2") / 1e4,
            "redeveloped_ha": column("redeveloped_m2") / 1e4,
            "existing_floor_area_m2": np.where(
                demolition_applies, column("existing_floor_area_m2"), 0.0
            ),
            "demolished_floor_m2": column("demolished_floor_m2"),
            "rebuilt_floor_m2": column("rebuilt_floor_m2"),
            "new_floor_area_m2": column("new_floor_area_m2"),
            "bound_demolition": flagged("demolition_check", "capped"),
            "bound_rebuild_ratio": flagged("rebuild_ratio_check", "capped"),
            "over_limit": (
                flagged("demolition_check", "over") | flagged("rebuild_ratio_check", "over")
            ),
            "new_dwellings": column("new_dwellings"),
            "new_households": column("new_households"),
            "new_residents": column("new_residents"),
            "new_jobs": column("new_jobs"),
            "displaced_households": column("displaced_households"),
            "capacity_issues": frame["capacity_issue"].notna().to_numpy(dtype=int),
            "_rebuilt_cleared": np.where(
                frame["rebuild_ratio"].notna().to_numpy(), column("rebuilt_floor_m2"), 0.0
            ),
        }
    )
    table = (
        pd.concat([keys, values], axis=1)
        .groupby(["cluster_id", "renewal_type", "phase"], sort=False, as_index=False)
        .sum()
    )
    table = _ledger_order(table, structure, phasing)
    table.insert(3, "phase_years", table["phase"].map(years).fillna(""))
    for count in LEDGER_COUNTS:
        table[count] = table[count].astype(int)
    _add_ratios(
        table, table.pop("_rebuilt_cleared").to_numpy(dtype=float), limits or RenewalLimits()
    )
    return table[LEDGER_COLUMNS]


def _ledger_order(table: pd.DataFrame, structure: PlanStructure, phasing: Phasing) -> pd.DataFrame:
    """Rows ordered by cluster (structure order, then ``unassigned``), type and phase."""
    cluster_order = {c: i for i, c in enumerate([*structure.cluster_ids, UNASSIGNED])}
    type_order = {t: i for i, t in enumerate([*RENEWAL_TYPES, UNDETERMINED])}
    phase_order = {p[0]: i for i, p in enumerate(phasing.phases)}
    phase_order[PHASE_UNDETERMINED] = len(phase_order)
    return table.sort_values(
        ["cluster_id", "renewal_type", "phase"],
        key=lambda s: s.map({**cluster_order, **type_order, **phase_order}).fillna(99),
    ).reset_index(drop=True)


def combine_ledgers(
    ledgers: Sequence[pd.DataFrame],
    structure: PlanStructure,
    *,
    phasing: Phasing | None = None,
    limits: RenewalLimits | None = None,
) -> pd.DataFrame:
    """Add up ledgers of disjoint sets of parcels into the ledger of all of them.

    Sums are summed per cluster x type x phase; the ratios are recomputed
    from the sums (the 拆建比's rebuilt floor area recovered as ratio x
    demolished floor area, as in :func:`cluster_totals`).  The dask engine
    reduces its partitions' ledgers with it.

    Parameters
    ----------
    ledgers : sequence of pandas.DataFrame
        Outputs of :func:`supply_ledger`.
    structure : PlanStructure
        For the cluster order.
    phasing : Phasing, optional
        For the phase order; default ``Phasing()``.
    limits : RenewalLimits, optional
        For the rehousing minimum; default ``RenewalLimits()``.

    Returns
    -------
    pandas.DataFrame
        :data:`LEDGER_COLUMNS`, as :func:`supply_ledger` of all the parcels.

    Examples
    --------
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))
    >>> empty = supply_ledger(pd.DataFrame(columns=["renewal_type"]), s)
    >>> len(combine_ledgers([empty, empty], s))
    0
    """
    keys = ["cluster_id", "renewal_type", "phase", "phase_years"]
    additive = [c for c in LEDGER_COLUMNS if c not in keys and c not in LEDGER_RATIOS]
    present = [t for t in ledgers if len(t)]
    if not present:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    frame = pd.concat(present, ignore_index=True)
    frame["_rebuilt_cleared"] = pd.to_numeric(frame["rebuild_ratio"], errors="coerce").fillna(
        0.0
    ) * pd.to_numeric(frame["demolished_floor_m2"], errors="coerce").fillna(0.0)
    table = frame.groupby(keys, sort=False, as_index=False)[[*additive, "_rebuilt_cleared"]].sum()
    table = _ledger_order(table, structure, phasing or Phasing())
    for count in LEDGER_COUNTS:
        table[count] = table[count].astype(int)
    _add_ratios(
        table, table.pop("_rebuilt_cleared").to_numpy(dtype=float), limits or RenewalLimits()
    )
    return table[LEDGER_COLUMNS]


def _add_ratios(table: pd.DataFrame, rebuilt_cleared: np.ndarray, limits: RenewalLimits) -> None:
    """Add the row ratios (demolition share, 拆建比, rehousing capacity and check) in place."""
    existing = table["existing_floor_area_m2"].to_numpy(dtype=float)
    demolished = table["demolished_floor_m2"].to_numpy(dtype=float)
    displaced = table["displaced_households"].to_numpy(dtype=float)
    dwellings = table["new_dwellings"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["demolition_share"] = np.where(existing > 0, demolished / existing, np.nan)
        table["rebuild_ratio"] = np.where(demolished > 0, rebuilt_cleared / demolished, np.nan)
        rate = np.where(displaced > 0, np.minimum(1.0, dwellings / displaced), np.nan)
    table["rehousing_rate"] = rate
    check = np.full(len(table), None, dtype=object)
    check[displaced > 0] = "ok"
    check[(displaced > 0) & (rate < limits.min_rehousing_rate)] = "below"
    table["rehousing_check"] = pd.array(check, dtype="string")


def cluster_totals(
    ledger: pd.DataFrame, structure: PlanStructure, *, limits: RenewalLimits | None = None
) -> pd.DataFrame:
    """Sum the ledger per cluster and add a district row.

    Sums are summed; the ratios (demolition share, 拆建比, rehousing capacity)
    are recomputed from the sums, so the cluster's ``rehousing_check`` tests the
    就地就近 rehousing of the whole cluster: dwellings rebuilt anywhere in the
    cluster against the households displaced in it.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Output of :func:`supply_ledger`.
    structure : PlanStructure
        For cluster order and names.
    limits : RenewalLimits, optional
        For the rehousing minimum; default ``RenewalLimits()``.

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
    keys = ("cluster_id", "renewal_type", "phase", "phase_years")
    additive = [c for c in LEDGER_COLUMNS if c not in keys and c not in LEDGER_RATIOS]
    order = [*structure.cluster_ids, UNASSIGNED]
    frame = ledger.assign(
        _rebuilt_cleared=pd.to_numeric(ledger["rebuild_ratio"], errors="coerce").fillna(0.0)
        * pd.to_numeric(ledger["demolished_floor_m2"], errors="coerce").fillna(0.0)
    )
    sums = (
        frame.groupby("cluster_id")[[*additive, "_rebuilt_cleared"]].sum()
        if len(frame)
        else pd.DataFrame(columns=[*additive, "_rebuilt_cleared"], dtype=float)
    )
    sums = sums.reindex(order).fillna(0)
    sums.loc["district"] = sums.sum()
    for count in LEDGER_COUNTS:
        sums[count] = sums[count].astype(int)
    _add_ratios(sums, sums.pop("_rebuilt_cleared").to_numpy(dtype=float), limits or RenewalLimits())
    names = structure.elements["name_zh"].reindex(order).astype(object).to_dict()
    names.update({key: t.zh for key, t in CLUSTER_SPECIAL_NAMES.items()})
    sums.insert(0, "name_zh", [names[i] for i in sums.index])
    sums.index.name = "cluster_id"
    columns = ["cluster_id", "name_zh", *[c for c in LEDGER_COLUMNS if c not in keys]]
    result: pd.DataFrame = sums.reset_index()[columns]
    return result


def ledger_zh(ledger: pd.DataFrame, structure: PlanStructure) -> pd.DataFrame:
    """Return the ledger for planners: Chinese headers, cluster / type / phase names in Chinese.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Output of :func:`supply_ledger` or :func:`cluster_totals` (whose
        ``name_zh`` column is dropped: ``cluster_id`` carries the name).
    structure : PlanStructure
        For the Chinese cluster names.

    Returns
    -------
    pandas.DataFrame
        Same rows, through :func:`tqspatial.vocabulary.zh_table`:
        ``cluster_id`` becomes the Chinese cluster name (未纳入组团 for
        ``unassigned``), renewal types, phases and checks are translated,
        headers come from the one vocabulary; areas are rounded to 0.01 ha,
        floor areas, dwellings, people and jobs to whole numbers and ratios
        to 0.001.

    Examples
    --------
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4548"))
    >>> ledger_zh(pd.DataFrame(columns=LEDGER_COLUMNS), s).columns.tolist()[:4]
    ['组团', '更新类型', '实施时序', '实施年份']
    """
    out = ledger.copy()
    for column in out.columns:
        if column.endswith("_ha"):
            out[column] = out[column].astype(float).round(2)
        elif column.endswith("_m2") or column in _PEOPLE_COLUMNS:
            out[column] = out[column].astype(float).round(0)
        elif column in ("demolition_share", "rebuild_ratio", "rehousing_rate"):
            out[column] = out[column].astype(float).round(3)
    return zh_table(out, element_names=structure.elements["name_zh"].astype(str).to_dict())
