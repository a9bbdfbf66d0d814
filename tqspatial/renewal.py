"""Urban-renewal candidates (城市更新对象) by documented, configurable rules.

Every parcel gets a ``renewal_type`` (one of :data:`RENEWAL_TYPES`,
``"undetermined"``, or missing when no rule applies) and a ``renewal_rule``
saying in words which rule fired, or why the type cannot be determined.

The rules work on the *canonical* 2023 用地用海分类 code of each parcel
(``landuse_canonical``) and its planning category (``landuse_category``), as
produced by :func:`tqspatial.landuse.classify_landuse`; codes are matched by
prefix, so ``"0701"`` matches 070101-070103.  The thresholds live in the
frozen dataclass :class:`RenewalRules`; each field's policy basis is given
there.

Rules, checked in the order of :attr:`RenewalRules.order` (the first that
fires wins; by default specialty markets, statutory idle land, the industrial
screening, old compounds, urban villages, vacant land):

``specialty_market`` (专业市场提质)
    Wholesale-market land (批发市场用地, 090102), or a commercial parcel that
    hosts a facility of a kind listed in ``market_facility_kinds``.  Basis:
    district industrial strategies that ask for 专业市场提质升级 /
    落后市场功能转变 (the embedded Tianqiao strategy does, for its wholesale
    markets).  Every such market is a candidate; no age or FAR test is applied.
``inefficient_industrial`` (低效工业用地, a screening judgement)
    Industrial land (1001) whose floor-area ratio is below the minimum of its
    sector, or whose building coverage (建筑系数) is below
    ``industrial_min_coverage``.  The minimums are those of 工业项目建设用地控制
    指标 (自然资源部, 2023 revision, which replaced 国土资发〔2008〕24号): a
    FAR minimum per manufacturing sector (GB/T 4754-2017 大类, the parcel's
    ``industry_code``; e.g. 26 化学原料和化学制品制造业 0.6, 39 计算机、通信和
    其他电子设备制造业 1.0) and a building coverage of at least 40 %.  The
    table is package data (``tqspatial/data/industrial_land_2023.csv``; which
    values are confirmed for 2023 is said there and in ``data/README.md``).  A
    parcel without ``industry_code``, or with a code the table has no value
    for, is tested against ``industrial_min_far`` (0.7, an assumption: the
    value of most equipment and metal sectors); the rule text and a note say
    so.  These minimums are *new-project* land-supply standards, not the legal
    definition of 低效用地, which local governments determine in their
    低效用地再开发 work (自然资源部's 2023 低效用地再开发试点; its notice was not
    available to check, so no criterion of it is used here).  Falling below
    the minimums is this library's screening signal that a site deserves a
    look, nothing more.  An
    idle industrial site is statutory 闲置土地 (``idle_land``), not this rule.
``old_residential`` (老旧小区)
    Urban housing (城镇住宅用地 0701) completed in or before
    ``old_residential_built_by`` (2000).  Basis: 国务院办公厅关于全面推进城镇
    老旧小区改造工作的指导意见 (国办发〔2020〕23号): old compounds are those in
    cities and county towns built long ago, poorly maintained and lacking
    services, with the focus on compounds completed before the end of 2000.
``urban_village`` (城中村)
    Rural homesteads (农村宅基地 0703) whose representative point lies inside
    the *urban area* passed as ``urban_area`` (the town development boundary /
    中心城区).  A district profile defines it (``[urban_area]``: a polygon
    layer, the side of a river holding the centre -- see
    :func:`urban_area_from_river` -- or the whole district); outside it
    villages are rural settlements, not villages engulfed by the city.
    Basis: 城中村 are villages inside the urban built-up area on collective
    land; in a 超大特大城市 the 2023 State Council guidance on
    超大特大城市城中村改造 applies.
``idle_land`` (闲置土地, statutory)
    Parcels flagged ``is_idle`` (except agricultural, water and ecological
    land).  ``is_idle`` must mean the land authority's finding under
    闲置土地处置办法 (国土资源部令第53号, 2012) 第二条: state construction land
    not started one year after the start date agreed in the land-use contract
    or allocation decision, or started but with less than one third of the
    area developed or less than 25 % of the investment made and stopped for a
    year; after two years the land can be recovered without compensation
    (第十四条).  The parcel data carry no dates, so the rule takes the flag as
    given.
``vacant_land`` (空闲地)
    Land coded 空闲地: 2301 in the 2023 用地用海分类 (1201 in 三调 / GB/T
    21010-2017), land inside towns, villages and industrial areas not yet put
    to use.  A survey class, not a legal finding: kept apart from
    ``idle_land``.

Rows the rules cannot decide get ``"undetermined"`` and the reason: a rule
needs ``build_year``, ``far``, ``coverage`` or ``is_idle`` and the value is
missing, the urban area is not given, or the land-use code is unknown to the
classification.  Nothing is silently treated as non-renewable; unknown codes
are also reported as a note (count and examples) on the output frame.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import io
import logging
from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial._frozen import ProxyPickling
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.quality import note

__all__ = [
    "DEFAULT_ORDER",
    "RENEWAL_TYPES",
    "UNDETERMINED",
    "RenewalRules",
    "industrial_far_table",
    "renewal_candidates",
    "urban_area_from_river",
]

logger = logging.getLogger(__name__)

#: Renewal types, in the order of ledgers and legends (precedence: :data:`DEFAULT_ORDER`).
RENEWAL_TYPES = (
    "specialty_market",
    "inefficient_industrial",
    "old_residential",
    "urban_village",
    "idle_land",
    "vacant_land",
)

#: Default precedence of the rules: statutory idle land (a legal finding) comes before
#: the industrial screening, which is only this library's judgement.
DEFAULT_ORDER = (
    "specialty_market",
    "idle_land",
    "inefficient_industrial",
    "old_residential",
    "urban_village",
    "vacant_land",
)

#: ``renewal_type`` of parcels whose type cannot be decided from the data.
UNDETERMINED = "undetermined"

#: Land-use categories whose idle flag does not make them renewal land.
IDLE_EXEMPT_CATEGORIES = ("agricultural", "water", "ecological")

REQUIRED_COLUMNS = ("landuse_canonical", "landuse_category")

#: Package data: FAR minimums of 工业项目建设用地控制指标 by GB/T 4754-2017 大类.
INDUSTRIAL_TABLE_FILE = "industrial_land_2023.csv"

#: Title of the standard the industrial minimums come from (for rule texts).
INDUSTRIAL_STANDARD = "工业项目建设用地控制指标 (2023)"


@functools.cache
def _read_industrial_table() -> pd.DataFrame:
    resource = importlib.resources.files("tqspatial").joinpath("data", INDUSTRIAL_TABLE_FILE)
    text = resource.read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    table["min_far"] = pd.to_numeric(table["min_far"].replace("", None), errors="coerce")
    return table.set_index("industry_code", drop=False)


def industrial_far_table() -> pd.DataFrame:
    """Return the FAR minimums of industrial land by manufacturing sector.

    One row per GB/T 4754-2017 manufacturing 大类 (``"13"`` ... ``"43"``) with
    the minimum floor-area ratio of 工业项目建设用地控制指标.  ``status`` says
    how sure the value is: ``value_2023_secondary`` (the 2023 value, from a
    secondary source), ``value_2008`` (the value of the 2008 edition for the
    same sector; the 2023 table was not available to check), ``value_2008_merged``
    (two 2008 sectors merged in 2017: the lower value) or ``no_value``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``industry_code``; columns ``industry_code``, ``name_zh``,
        ``min_far`` (NaN for ``no_value``), ``status``, ``min_far_2008`` and
        ``code_2002`` (the GB/T 4754-2002 code(s) of the 2008 edition).

    Examples
    --------
    >>> t = industrial_far_table()
    >>> t.loc["26", "name_zh"], float(t.loc["26", "min_far"])
    ('化学原料和化学制品制造业', 0.6)
    >>> len(t)
    31
    """
    table = _read_industrial_table().copy()
    table.index.name = None
    return table


def _default_sector_minimums() -> Mapping[str, float]:
    table = _read_industrial_table()
    known = table[table["min_far"].notna()]
    return MappingProxyType(
        {str(k): float(v) for k, v in zip(known["industry_code"], known["min_far"], strict=True)}
    )


@dataclasses.dataclass(frozen=True)
class RenewalRules(ProxyPickling):
    """Thresholds and code lists of the renewal rules (see the module docstring).

    Attributes
    ----------
    old_residential_codes : tuple of str
        2023 code prefixes of urban housing (城镇住宅用地 0701).
    old_residential_built_by : int
        Housing completed in or before this year is an old compound (国办发〔2020〕23号:
        2000年底前建成).
    urban_village_codes : tuple of str
        Code prefixes of rural homesteads (农村宅基地 0703).
    industrial_codes : tuple of str
        Code prefixes of industrial land (工业用地 1001).
    industrial_min_far_by_sector : Mapping[str, float]
        FAR minimum per GB/T 4754-2017 大类 code (default: the ``min_far`` of
        :func:`industrial_far_table`).
    industrial_min_far : float
        FAR minimum of industrial parcels without a known sector (an assumption:
        0.7, the value of the metal-product and equipment sectors).
    industrial_min_coverage : float
        Building coverage (建筑系数) minimum of industrial land (2023 edition: 40 %).
    industry_code_column : str
        Parcel column holding the sector code (two digits, e.g. ``"26"``; a
        four-digit 小类 or a ``C`` prefix is accepted).
    vacant_codes : tuple of str
        Code prefixes of vacant land (空闲地 2301).
    idle_exempt_categories : tuple of str
        Planning categories whose ``is_idle`` flag is ignored (idle farmland is not
        urban-renewal land).
    market_codes : tuple of str
        Code prefixes of specialty / wholesale markets (批发市场用地 090102).
    market_facility_kinds : tuple of str
        Facility kinds that make a commercial (``landuse_category == "commercial"``)
        parcel a market.  Empty by default: neighbourhood fresh markets (菜市场) are
        a life-circle service, not specialty markets.
    order : tuple of str
        Precedence of the rules; a permutation of :data:`RENEWAL_TYPES`
        (default :data:`DEFAULT_ORDER`).

    Examples
    --------
    >>> RenewalRules(old_residential_built_by=2005).old_residential_built_by
    2005
    >>> RenewalRules().industrial_min_far_by_sector["39"]
    1.0
    >>> RenewalRules(order=("old_residential",))
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: RenewalRules.order must list each of ...
    """

    old_residential_codes: tuple[str, ...] = ("0701",)
    old_residential_built_by: int = 2000
    urban_village_codes: tuple[str, ...] = ("0703",)
    industrial_codes: tuple[str, ...] = ("1001",)
    industrial_min_far_by_sector: Mapping[str, float] = dataclasses.field(
        default_factory=_default_sector_minimums
    )
    industrial_min_far: float = 0.7
    industrial_min_coverage: float = 0.40
    industry_code_column: str = "industry_code"
    vacant_codes: tuple[str, ...] = ("2301",)
    idle_exempt_categories: tuple[str, ...] = IDLE_EXEMPT_CATEGORIES
    market_codes: tuple[str, ...] = ("090102",)
    market_facility_kinds: tuple[str, ...] = ()
    order: tuple[str, ...] = DEFAULT_ORDER

    def __post_init__(self) -> None:
        problems = []
        if sorted(self.order) != sorted(RENEWAL_TYPES):
            problems.append(
                f"RenewalRules.order must list each of {list(RENEWAL_TYPES)} once; "
                f"got {list(self.order)}"
            )
        if not 0 <= self.industrial_min_coverage <= 1:
            problems.append(
                f"industrial_min_coverage={self.industrial_min_coverage}; expected a share 0-1"
            )
        if self.industrial_min_far < 0:
            problems.append(f"industrial_min_far={self.industrial_min_far}; expected >= 0")
        bad = {k: v for k, v in self.industrial_min_far_by_sector.items() if not v >= 0}
        if bad:
            problems.append(f"industrial_min_far_by_sector has values below 0 or NaN: {bad}")
        for name in (
            "old_residential_codes",
            "urban_village_codes",
            "industrial_codes",
            "vacant_codes",
            "market_codes",
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                problems.append(
                    f"{name} must be a tuple of code prefixes, got the string {value!r}"
                )
        if problems:
            raise ConfigError("; ".join(problems))


def urban_area_from_river(
    area: shapely.Geometry,
    river: shapely.Geometry,
    reference: shapely.Geometry,
) -> shapely.Geometry:
    """Return the part of ``area`` on the same side of a river as ``reference``.

    ``area`` minus the river polygon falls apart into pieces; the pieces that
    intersect ``reference`` (e.g. the district government) are the urban side.

    Parameters
    ----------
    area : shapely.Geometry
        District polygon.
    river : shapely.Geometry
        River polygon (channel plus floodplain) cutting the district.
    reference : shapely.Geometry
        A point or polygon on the urban side.

    Returns
    -------
    shapely.Geometry
        Polygon or multipolygon (empty if no piece touches ``reference``).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> urban = urban_area_from_river(box(0, 0, 100, 100), box(0, 40, 100, 60), Point(50, 10))
    >>> urban.bounds
    (0.0, 0.0, 100.0, 40.0)
    """
    pieces = shapely.get_parts(shapely.difference(area, river))
    keep = pieces[shapely.intersects(pieces, reference)]
    return shapely.union_all(keep) if len(keep) else shapely.Polygon()


def _matches(codes: pd.Series, prefixes: tuple[str, ...]) -> np.ndarray:
    text = codes.astype("string")
    hit = np.zeros(len(codes), dtype=bool)
    for prefix in prefixes:
        hit |= text.str.startswith(prefix).fillna(value=False).to_numpy(dtype=bool)
    return hit


def _numeric(parcels: pd.DataFrame, column: str) -> np.ndarray:
    if column not in parcels.columns:
        return np.full(len(parcels), np.nan)
    return pd.to_numeric(parcels[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _idle(parcels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (idle, unknown) boolean arrays from ``is_idle`` (missing -> unknown)."""
    if "is_idle" not in parcels.columns:
        return np.zeros(len(parcels), dtype=bool), np.ones(len(parcels), dtype=bool)
    raw = parcels["is_idle"].astype(object)
    unknown = raw.isna().to_numpy()
    idle = raw.where(~raw.isna(), other=False).astype(bool).to_numpy()
    return idle, unknown


def _sectors(parcels: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (two-digit sector code or "", raw text) per row from the industry column."""
    n = len(parcels)
    if column not in parcels.columns:
        return np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    raw = parcels[column].astype(object)
    sector = np.full(n, "", dtype=object)
    text = np.full(n, "", dtype=object)
    for i, value in enumerate(raw):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        shown = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        cleaned = shown.strip().upper().removeprefix("C")
        text[i] = shown.strip()
        if len(cleaned) in (2, 3, 4) and cleaned.isdigit():
            sector[i] = cleaned[:2]
        else:
            sector[i] = "?"
    return sector, text


@dataclasses.dataclass
class _Evaluation:
    """What the rules found: where each fires, its text per row, and undecidable rows."""

    fires: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]
    unknown: list[tuple[np.ndarray, np.ndarray]]  # (mask, reason per row)
    unknown_code: np.ndarray
    raw_code: pd.Series
    industrial_min_far: np.ndarray
    sector_default: np.ndarray  # industrial rows tested against the default minimum
    sector_text: np.ndarray


def _industrial(
    parcels: pd.DataFrame,
    rules: RenewalRules,
    ev: _Evaluation,
    *,
    code: pd.Series,
    far: np.ndarray,
    coverage: np.ndarray,
) -> None:
    n = len(parcels)
    is_ind = _matches(code, rules.industrial_codes)
    sector, sector_text = _sectors(parcels, rules.industry_code_column)
    names = _read_industrial_table()["name_zh"].to_dict()
    by_sector = rules.industrial_min_far_by_sector
    sectors = pd.Series(sector, dtype=object)
    known = sectors.isin(list(by_sector)).to_numpy(dtype=bool)
    minimum = sectors.map(dict(by_sector)).to_numpy(dtype=float, na_value=np.nan)
    threshold = np.where(known, minimum, rules.industrial_min_far).astype(float)
    low_far = far < threshold
    low_cov = coverage < rules.industrial_min_coverage
    fired = is_ind & (low_far | low_cov)
    texts = np.full(n, None, dtype=object)
    rows = np.flatnonzero(fired)
    # One text per distinct (sector, values) combination: rows sharing them share the text.
    # Floats are compared by their bits, so the text of each row is the one it would get alone.
    combos = pd.DataFrame(
        {
            "known": known[rows],
            "sector": sector[rows],
            "text": sector_text[rows],
            "low_far": low_far[rows],
            "low_cov": low_cov[rows],
            "far": far[rows].view(np.int64),
            "threshold": threshold[rows].view(np.int64),
            "coverage": coverage[rows].view(np.int64),
        }
    )
    group = combos.groupby(list(combos.columns), sort=False, dropna=False).ngroup().to_numpy()
    firsts = rows[np.unique(group, return_index=True)[1]]
    distinct = np.empty(len(firsts), dtype=object)
    for g, i in enumerate(firsts.tolist()):
        if known[i]:
            basis = f"sector {sector[i]} {names.get(sector[i], '')} minimum".replace("  ", " ")
        elif sector[i]:
            basis = f"industry_code {sector_text[i]!r} has no minimum: default"
        else:
            basis = "no industry_code: default minimum"
        parts = []
        if low_far[i]:
            parts.append(f"FAR {far[i]:g} < {threshold[i]:g} ({basis})")
        if low_cov[i]:
            parts.append(f"建筑系数 {coverage[i]:g} < {rules.industrial_min_coverage:g}")
        distinct[g] = (
            "低效工业用地 (screening, not a legal finding): "
            + "; ".join(parts)
            + f"; minimums of {INDUSTRIAL_STANDARD}"
        )
    texts[rows] = distinct[group]
    ev.fires["inefficient_industrial"] = fired
    ev.texts["inefficient_industrial"] = texts
    ev.industrial_min_far = np.where(is_ind, threshold, np.nan)
    ev.sector_default = is_ind & ~known
    ev.sector_text = sector_text
    need = is_ind & ~fired
    ind_unknown = need & (np.isnan(far) | np.isnan(coverage))
    reason = np.empty(n, dtype=object)  # read only where ind_unknown
    missing = np.isnan(far[ind_unknown]), np.isnan(coverage[ind_unknown])
    reason[ind_unknown] = np.where(
        missing[0] & missing[1],
        "inefficient_industrial needs far and coverage missing",
        np.where(
            missing[0],
            "inefficient_industrial needs far missing",
            "inefficient_industrial needs coverage missing",
        ),
    )
    ev.unknown.append((ind_unknown, reason))


def _evaluate(
    parcels: gpd.GeoDataFrame,
    rules: RenewalRules,
    urban_area: shapely.Geometry | None,
    facilities: gpd.GeoDataFrame | None,
) -> _Evaluation:
    """Evaluate every rule: rows where it fires, its text, and (mask, reason) for missing data."""
    n = len(parcels)
    code = parcels["landuse_canonical"].astype("string")
    category = parcels["landuse_category"].astype("string").fillna("unknown")
    build_year = _numeric(parcels, "build_year")
    far = _numeric(parcels, "far")
    coverage = _numeric(parcels, "coverage")
    idle, idle_unknown = _idle(parcels)

    def same(text: str) -> np.ndarray:
        # not np.full(n, text, dtype=object): it makes a new str per row (0.8 s per 1M rows)
        out = np.empty(n, dtype=object)
        out[:] = text
        return out

    ev = _Evaluation(
        fires={},
        texts={},
        unknown=[],
        unknown_code=np.zeros(n, dtype=bool),
        raw_code=pd.Series(dtype="string"),
        industrial_min_far=np.full(n, np.nan),
        sector_default=np.zeros(n, dtype=bool),
        sector_text=np.full(n, "", dtype=object),
    )

    # specialty markets
    is_market = _matches(code, rules.market_codes)
    if rules.market_facility_kinds and facilities is not None and "parcel_id" in parcels.columns:
        kinds = facilities["kind"].astype(str).isin(rules.market_facility_kinds)
        hosts = set(facilities.loc[kinds, "parcel_id"].dropna().astype(str))
        on_parcel = parcels["parcel_id"].astype(str).isin(hosts).to_numpy()
        is_market |= on_parcel & (category == "commercial").to_numpy()
    ev.fires["specialty_market"] = is_market
    ev.texts["specialty_market"] = same(
        f"专业市场提质: market land (codes {'/'.join(rules.market_codes)}"
        + (
            f" or hosts {'/'.join(rules.market_facility_kinds)}"
            if rules.market_facility_kinds
            else ""
        )
        + ")"
    )

    _industrial(parcels, rules, ev, code=code, far=far, coverage=coverage)

    # old residential
    is_res = _matches(code, rules.old_residential_codes)
    ev.fires["old_residential"] = is_res & (build_year <= rules.old_residential_built_by)
    ev.texts["old_residential"] = same(
        f"老旧小区: urban housing built in or before {rules.old_residential_built_by} "
        "(国办发〔2020〕23号)"
    )
    ev.unknown.append(
        (is_res & np.isnan(build_year), same("old_residential needs build_year (missing)"))
    )

    # urban villages
    is_village = _matches(code, rules.urban_village_codes)
    if urban_area is not None and not shapely.is_empty(urban_area):
        shapely.prepare(urban_area)
        # only rural homesteads need their point tested
        points = shapely.point_on_surface(parcels.geometry.to_numpy()[is_village])
        inside = shapely.contains(urban_area, points) | shapely.touches(urban_area, points)
        fires = np.zeros(n, dtype=bool)
        fires[is_village] = inside
        ev.fires["urban_village"] = fires
    else:
        ev.fires["urban_village"] = np.zeros(n, dtype=bool)
        ev.unknown.append((is_village, same("urban_village needs an urban_area (none given)")))
    ev.texts["urban_village"] = same("城中村: rural homestead inside the urban area")

    # statutory idle land, and vacant land (a survey class): two rules
    exempt = category.isin(rules.idle_exempt_categories).to_numpy()
    vacant = _matches(code, rules.vacant_codes)
    ev.fires["idle_land"] = idle & ~exempt
    ev.texts["idle_land"] = same(
        "闲置土地: flagged is_idle (闲置土地处置办法, 国土资源部令第53号 第二条)"
    )
    ev.fires["vacant_land"] = vacant
    ev.texts["vacant_land"] = same(
        f"空闲地: land-use code {'/'.join(rules.vacant_codes)} "
        "(2023 用地用海分类 2301 空闲地; 三调 1201)"
    )
    ev.unknown.append((idle_unknown & ~exempt & ~vacant, same("idle_land needs is_idle (missing)")))

    # unknown land-use codes
    ev.unknown_code = (category == "unknown").to_numpy() | code.isna().to_numpy()
    ev.raw_code = (
        parcels["landuse_code"].astype("string").fillna("<missing>")
        if "landuse_code" in parcels.columns
        else code.fillna("<missing>")
    )
    unknown_reason = np.empty(n, dtype=object)  # read only where the code is unknown
    unknown_reason[ev.unknown_code] = [
        f"land-use code '{c}' unknown to the classification"
        for c in ev.raw_code.to_numpy(dtype=object)[ev.unknown_code]
    ]
    ev.unknown.append((ev.unknown_code, unknown_reason))
    return ev


def renewal_candidates(
    parcels: gpd.GeoDataFrame,
    *,
    rules: RenewalRules | None = None,
    urban_area: shapely.Geometry | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    layer: str = "parcels",
) -> gpd.GeoDataFrame:
    """Label every parcel with its renewal type and the rule that fired.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with ``landuse_canonical`` and ``landuse_category`` (see
        :func:`tqspatial.landuse.classify_landuse`), and where available
        ``landuse_code`` (reported for unknown codes), ``build_year``,
        ``far``, ``coverage``, ``is_idle``, ``industry_code`` (GB/T
        4754-2017 大类 of industrial parcels) and ``parcel_id``.  Missing
        attribute columns are treated as missing values (so the rules that
        need them give ``"undetermined"``; a missing ``industry_code`` only
        selects the default FAR minimum).
    rules : RenewalRules, optional
        Thresholds; defaults to ``RenewalRules()``.
    urban_area : shapely.Geometry, optional
        Urban area for the 城中村 rule (same CRS).  Without it, rural
        homesteads are ``"undetermined"``.
    facilities : geopandas.GeoDataFrame, optional
        Facilities with ``kind`` and ``parcel_id``; used only when
        ``rules.market_facility_kinds`` is not empty.
    layer : str, default "parcels"
        Layer name for notes.

    Returns
    -------
    geopandas.GeoDataFrame
        All rows, same order, plus ``renewal_type`` and ``renewal_rule``
        (string dtype; missing when no rule applies; the rule names the
        values and thresholds that fired) and ``industrial_min_far`` (the FAR
        minimum an industrial parcel was tested against, NaN for other land).
        Unknown land-use codes and industrial parcels tested against the
        default minimum are also recorded in the quality log
        (:func:`tqspatial.quality.note`, kinds ``unknown_landuse_code`` and
        ``industrial_default_minimum``, with the rows and values).

    Raises
    ------
    SchemaError
        If ``landuse_canonical`` or ``landuse_category`` is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(
    ...     {"landuse_canonical": ["070102", "070102", "100101", "0902"],
    ...      "landuse_category": ["residential", "residential", "industrial", "commercial"],
    ...      "build_year": [1990, None, 2010, 2015], "far": [2.0, 2.0, 0.5, 3.0],
    ...      "coverage": [0.3, 0.3, 0.45, 0.4], "is_idle": [False, False, False, False],
    ...      "industry_code": [None, None, "26", None]},
    ...     geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:4548")
    >>> out = renewal_candidates(parcels)
    >>> out["renewal_type"].fillna("-").tolist()
    ['old_residential', 'undetermined', 'inefficient_industrial', '-']
    >>> out["renewal_rule"].iloc[1]
    'undetermined: old_residential needs build_year (missing)'
    >>> float(out["industrial_min_far"].iloc[2]), "FAR 0.5 < 0.6" in out["renewal_rule"].iloc[2]
    (0.6, True)
    """
    rules = rules or RenewalRules()
    missing = [c for c in REQUIRED_COLUMNS if c not in parcels.columns]
    if missing:
        msg = (
            f"{layer}: renewal rules need columns {missing}; columns are {list(parcels.columns)}. "
            "Add them with tqspatial.landuse.classify_landuse(parcels['landuse_code'])."
        )
        raise SchemaError(msg)
    n = len(parcels)
    ev = _evaluate(parcels, rules, urban_area, facilities)
    unknown_code, raw = ev.unknown_code, ev.raw_code
    # renewal type as a position in ``labels`` (-1: none), the first rule in order that fires
    labels = [*rules.order, UNDETERMINED]
    rtype = np.full(n, -1, dtype=np.intp)
    rtext = np.full(n, None, dtype=object)
    for k, name in enumerate(rules.order):
        take = ev.fires[name] & (rtype < 0)
        rtype[take] = k
        rtext[take] = ev.texts[name][take]
    undecided = np.flatnonzero(rtype < 0)
    reasons = np.full(len(undecided), "", dtype=object)
    for mask, why in ev.unknown:
        add = mask[undecided]
        pick = undecided[add]
        reasons[add] = np.where(reasons[add] == "", why[pick], reasons[add] + "; " + why[pick])
    und_rows = undecided[reasons != ""]
    und = np.zeros(n, dtype=bool)
    und[und_rows] = True
    rtype[und_rows] = len(labels) - 1
    rtext[und_rows] = "undetermined: " + reasons[reasons != ""]

    # a shallow copy: only new columns are set, the caller's frame is not changed
    out = parcels.copy(deep=False)
    out["renewal_type"] = pd.array(np.array(labels, dtype=object), dtype="string").take(
        rtype, allow_fill=True
    )
    out["renewal_rule"] = pd.array(rtext, dtype="string")
    out["industrial_min_far"] = ev.industrial_min_far
    _note_default_minimum(ev, rules, out.index, layer)

    if unknown_code.any():
        note(
            layer=layer,
            stage="renewal",
            kind="unknown_landuse_code",
            severity="warning",
            column="landuse_code",
            rows=out.index[unknown_code],
            values=raw.to_numpy()[unknown_code],
            message=(
                "{count} parcels have land-use codes unknown to the classification (e.g. "
                "{values}); their renewal type is 'undetermined'. Add the codes to the land-use "
                "overrides."
            ),
        )
    if und.any():
        note(
            layer=layer,
            stage="renewal",
            kind="renewal_undetermined",
            severity="warning",
            rows=out.index[und],
            message=(
                "{count} parcels have an undetermined renewal type (missing data); "
                "see the renewal_rule column for the reason."
            ),
        )
    logger.info(
        "renewal candidates: %s",
        out["renewal_type"].value_counts(dropna=False).to_dict(),
    )
    return out


def _note_default_minimum(
    ev: _Evaluation, rules: RenewalRules, index: pd.Index, layer: str
) -> None:
    """Say how many industrial parcels were tested against the default FAR minimum, and why.

    The values are the codes the table has no minimum for (``(none)`` for no code), so the
    message holds no count of its own and partition logs merge.
    """
    if not ev.sector_default.any():
        return
    codes = np.where(ev.sector_text == "", "(none)", ev.sector_text).astype(object)
    note(
        layer=layer,
        stage="renewal",
        kind="industrial_default_minimum",
        severity="info",
        column=rules.industry_code_column,
        rows=index[ev.sector_default],
        values=codes[ev.sector_default],
        message=(
            f"{{count}} industrial parcels have no {rules.industry_code_column} (GB/T 4754-2017 "
            "大类) or one the table has no minimum for ({values}); they were screened against "
            f"the default FAR minimum {rules.industrial_min_far:g} (an assumption) instead of "
            f"their sector's minimum in {INDUSTRIAL_STANDARD}."
        ),
    )
