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
fires wins):

``specialty_market`` (专业市场提质)
    Wholesale-market land (批发市场用地, 090102), or a commercial parcel that
    hosts a facility of a kind listed in ``market_facility_kinds``.  Basis:
    the Tianqiao industrial strategy (天桥区产业高质量发展战略规划) names the
    district's specialty markets as backward in management and formats and
    asks for 专业市场提质升级 / 落后市场功能转变, centred on the Luokou renewal
    area.  Every such market is a candidate; no age or FAR test is applied.
``inefficient_industrial`` (低效工业用地)
    Industrial land (1001) that is idle, or whose floor-area ratio is below
    ``industrial_min_far`` or building coverage below
    ``industrial_min_coverage``.  Basis: 工业项目建设用地控制指标
    (国土资发〔2008〕24号) sets minimum FAR 0.5-1.0 by sector (0.7 for metal
    products and the equipment sectors of Tianqiao's lead industries) and a
    building coverage (建筑系数) of at least 30 %; land below the minimum is
    treated as inefficient (低效用地再开发, 自然资源部 2023 低效用地再开发试点).
``old_residential`` (老旧小区)
    Urban housing (城镇住宅用地 0701) completed in or before
    ``old_residential_built_by`` (2000).  Basis: 国务院办公厅关于全面推进城镇
    老旧小区改造工作的指导意见 (国办发〔2020〕23号): old compounds are those in
    cities and county towns built long ago, poorly maintained and lacking
    services, with the focus on compounds completed before the end of 2000.
``urban_village`` (城中村)
    Rural homesteads (农村宅基地 0703) whose representative point lies inside
    the *urban area* passed as ``urban_area`` (the town development boundary /
    中心城区).  For Tianqiao the default urban area is the district south of
    the Yellow River (:func:`urban_area_from_river`): the north bank is
    farmland and the Pilot Zone, where villages are rural settlements, not
    villages engulfed by the city.  Basis: 城中村 are villages inside the
    urban built-up area on collective land; Jinan is a 特大城市, so the 2023
    State Council guidance on 超大特大城市城中村改造 applies.
``idle_land`` (闲置/空闲土地)
    Parcels flagged ``is_idle`` (except agricultural, water and ecological
    land) and vacant land (空闲地 2301).  Basis: 闲置土地处置办法
    (国土资源部令第53号) and the 批而未供和闲置土地 disposal work.

Rows the rules cannot decide get ``"undetermined"`` and the reason: a rule
needs ``build_year``, ``far``, ``coverage`` or ``is_idle`` and the value is
missing, the urban area is not given, or the land-use code is unknown to the
classification.  Nothing is silently treated as non-renewable; unknown codes
are also reported as a note (count and examples) on the output frame.
"""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.errors import ConfigError, SchemaError
from tqspatial.quality import note

__all__ = [
    "RENEWAL_TYPES",
    "UNDETERMINED",
    "RenewalRules",
    "renewal_candidates",
    "tianqiao_urban_area",
    "urban_area_from_river",
]

logger = logging.getLogger(__name__)

#: Renewal types in default precedence order.
RENEWAL_TYPES = (
    "specialty_market",
    "inefficient_industrial",
    "old_residential",
    "urban_village",
    "idle_land",
)

#: ``renewal_type`` of parcels whose type cannot be decided from the data.
UNDETERMINED = "undetermined"

#: Chinese names of the renewal types (for reports).
RENEWAL_TYPE_ZH = {
    "specialty_market": "专业市场提质",
    "inefficient_industrial": "低效工业用地",
    "old_residential": "老旧小区",
    "urban_village": "城中村",
    "idle_land": "闲置土地",
    UNDETERMINED: "待定（数据缺失）",
}

#: Land-use categories whose idle flag does not make them renewal land.
IDLE_EXEMPT_CATEGORIES = ("agricultural", "water", "ecological")

REQUIRED_COLUMNS = ("landuse_canonical", "landuse_category")


@dataclasses.dataclass(frozen=True)
class RenewalRules:
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
    industrial_min_far : float
        Industrial FAR below this is inefficient (国土资发〔2008〕24号: 0.7 for the
        equipment and metal-product sectors).
    industrial_min_coverage : float
        Industrial building coverage below this share is inefficient (same source: 30 %).
    vacant_codes : tuple of str
        Code prefixes of vacant land (空闲地 2301), idle whatever ``is_idle`` says.
    idle_exempt_categories : tuple of str
        Planning categories whose ``is_idle`` flag is ignored (idle farmland is not
        urban-renewal land).
    market_codes : tuple of str
        Code prefixes of specialty / wholesale markets (批发市场用地 090102).
    market_facility_kinds : tuple of str
        Facility kinds that make a commercial (``landuse_category == "commercial"``)
        parcel a market.  Empty by default: the embedded ``market`` facilities are
        neighbourhood wet markets (菜市场), a life-circle service, not specialty markets.
    order : tuple of str
        Precedence of the rules; a permutation of :data:`RENEWAL_TYPES`.

    Examples
    --------
    >>> RenewalRules(old_residential_built_by=2005).old_residential_built_by
    2005
    >>> RenewalRules(order=("old_residential",))
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: RenewalRules.order must list each of ...
    """

    old_residential_codes: tuple[str, ...] = ("0701",)
    old_residential_built_by: int = 2000
    urban_village_codes: tuple[str, ...] = ("0703",)
    industrial_codes: tuple[str, ...] = ("1001",)
    industrial_min_far: float = 0.7
    industrial_min_coverage: float = 0.30
    vacant_codes: tuple[str, ...] = ("2301",)
    idle_exempt_categories: tuple[str, ...] = IDLE_EXEMPT_CATEGORIES
    market_codes: tuple[str, ...] = ("090102",)
    market_facility_kinds: tuple[str, ...] = ()
    order: tuple[str, ...] = RENEWAL_TYPES

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


def tianqiao_urban_area(
    boundary: gpd.GeoDataFrame,
    water: gpd.GeoDataFrame,
    anchors: gpd.GeoDataFrame,
    *,
    reference_anchor: str = "district_gov",
) -> shapely.Geometry:
    """Return the indicative urban area of Tianqiao: the district south of the Yellow River.

    The official town development boundary (城镇开发边界) is not public.  South of
    the Yellow River Tianqiao is wholly inside Jinan's central city (中心城区);
    the north bank is farmland, the Pilot Zone and the new-materials park.  So
    the urban area is the side of the river (channel plus floodplain from the
    ``water`` layer) holding the district government anchor.

    Parameters
    ----------
    boundary : geopandas.GeoDataFrame
        District boundary.
    water : geopandas.GeoDataFrame
        Water layer with ``name_zh`` (features containing 黄河 are the river).
    anchors : geopandas.GeoDataFrame
        Locality anchors with ``anchor_id``.
    reference_anchor : str, default "district_gov"
        Anchor on the urban side.

    Returns
    -------
    shapely.Geometry
        The urban area (working CRS).

    Raises
    ------
    SchemaError
        If the water layer has no Yellow River or the anchor is missing.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> d = datasets.tianqiao()
    >>> round(tianqiao_urban_area(d.boundary, d.water, d.anchors).area / 1e6)
    58
    """
    river = water[water["name_zh"].astype(str).str.contains("黄河")]
    anchor = anchors[anchors["anchor_id"].astype(str) == reference_anchor]
    if river.empty or anchor.empty:
        msg = (
            f"tianqiao_urban_area: need water features named 黄河 ({len(river)} found) and the "
            f"anchor {reference_anchor!r} ({len(anchor)} found); pass urban_area= directly instead"
        )
        raise SchemaError(msg)
    return urban_area_from_river(
        shapely.union_all(boundary.geometry.to_numpy()),
        shapely.union_all(river.geometry.to_numpy()),
        shapely.union_all(anchor.geometry.to_numpy()),
    )


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


def _evaluate(
    parcels: gpd.GeoDataFrame,
    rules: RenewalRules,
    urban_area: shapely.Geometry | None,
    facilities: gpd.GeoDataFrame | None,
) -> tuple[
    dict[str, np.ndarray],
    dict[str, str],
    list[tuple[np.ndarray, np.ndarray]],
    np.ndarray,
    pd.Series,
]:
    """Evaluate every rule: rows where it fires, its text, and (mask, reason) for missing data."""
    n = len(parcels)
    code = parcels["landuse_canonical"].astype("string")
    category = parcels["landuse_category"].astype("string").fillna("unknown")
    build_year = _numeric(parcels, "build_year")
    far = _numeric(parcels, "far")
    coverage = _numeric(parcels, "coverage")
    idle, idle_unknown = _idle(parcels)

    fires: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    unknown: list[tuple[np.ndarray, np.ndarray]] = []  # (mask, reason per row)

    # specialty markets
    is_market = _matches(code, rules.market_codes)
    if rules.market_facility_kinds and facilities is not None and "parcel_id" in parcels.columns:
        kinds = facilities["kind"].astype(str).isin(rules.market_facility_kinds)
        hosts = set(facilities.loc[kinds, "parcel_id"].dropna().astype(str))
        on_parcel = parcels["parcel_id"].astype(str).isin(hosts).to_numpy()
        is_market |= on_parcel & (category == "commercial").to_numpy()
    fires["specialty_market"] = is_market
    texts["specialty_market"] = (
        f"专业市场提质: market land (codes {'/'.join(rules.market_codes)}"
        + (
            f" or hosts {'/'.join(rules.market_facility_kinds)}"
            if rules.market_facility_kinds
            else ""
        )
        + ")"
    )

    # inefficient industrial
    is_ind = _matches(code, rules.industrial_codes)
    low_far = far < rules.industrial_min_far
    low_cov = coverage < rules.industrial_min_coverage
    fires["inefficient_industrial"] = is_ind & (idle | low_far | low_cov)
    texts["inefficient_industrial"] = (
        f"低效工业用地: industrial land idle, FAR < {rules.industrial_min_far:g} or coverage < "
        f"{rules.industrial_min_coverage:g}"
    )
    need = is_ind & ~fires["inefficient_industrial"]
    ind_unknown = need & (np.isnan(far) | np.isnan(coverage) | idle_unknown)
    reason = np.where(
        np.isnan(far) & np.isnan(coverage),
        "far and coverage missing",
        np.where(
            np.isnan(far),
            "far missing",
            np.where(np.isnan(coverage), "coverage missing", "is_idle missing"),
        ),
    )
    unknown.append((ind_unknown, np.char.add("inefficient_industrial needs ", reason.astype(str))))

    # old residential
    is_res = _matches(code, rules.old_residential_codes)
    fires["old_residential"] = is_res & (build_year <= rules.old_residential_built_by)
    texts["old_residential"] = (
        f"老旧小区: urban housing built in or before {rules.old_residential_built_by}"
    )
    unknown.append(
        (is_res & np.isnan(build_year), np.full(n, "old_residential needs build_year (missing)"))
    )

    # urban villages
    is_village = _matches(code, rules.urban_village_codes)
    if urban_area is not None and not shapely.is_empty(urban_area):
        shapely.prepare(urban_area)
        points = shapely.point_on_surface(parcels.geometry.to_numpy())
        inside = shapely.contains(urban_area, points) | shapely.touches(urban_area, points)
        fires["urban_village"] = is_village & inside
    else:
        fires["urban_village"] = np.zeros(n, dtype=bool)
        unknown.append((is_village, np.full(n, "urban_village needs an urban_area (none given)")))
    texts["urban_village"] = "城中村: rural homestead inside the urban area"

    # idle land
    exempt = category.isin(rules.idle_exempt_categories).to_numpy()
    vacant = _matches(code, rules.vacant_codes)
    fires["idle_land"] = (idle & ~exempt) | vacant
    texts["idle_land"] = (
        f"闲置土地: flagged idle or vacant land (codes {'/'.join(rules.vacant_codes)})"
    )
    unknown.append(
        (idle_unknown & ~exempt & ~vacant, np.full(n, "idle_land needs is_idle (missing)"))
    )

    # unknown land-use codes
    unknown_code = (category == "unknown").to_numpy() | code.isna().to_numpy()
    raw = (
        parcels["landuse_code"].astype("string").fillna("<missing>")
        if "landuse_code" in parcels.columns
        else code.fillna("<missing>")
    )
    unknown.append(
        (
            unknown_code,
            np.char.add(
                np.char.add("land-use code '", raw.to_numpy(dtype=str)),
                "' unknown to the classification",
            ),
        )
    )

    return fires, texts, unknown, unknown_code, raw


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
        ``far``, ``coverage``, ``is_idle`` and ``parcel_id``.  Missing
        attribute columns are treated as missing values (so the rules that
        need them give ``"undetermined"``).
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
        (string dtype; missing when no rule applies).  Unknown land-use codes
        are also recorded in the quality log (:func:`tqspatial.quality.note`,
        kind ``unknown_landuse_code``, with the rows and codes).

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
    ...      "coverage": [0.3, 0.3, 0.4, 0.4], "is_idle": [False, False, False, False]},
    ...     geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:4548")
    >>> out = renewal_candidates(parcels)
    >>> out["renewal_type"].fillna("-").tolist()
    ['old_residential', 'undetermined', 'inefficient_industrial', '-']
    >>> out["renewal_rule"].iloc[1]
    'undetermined: old_residential needs build_year (missing)'
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
    fires, texts, unknown, unknown_code, raw = _evaluate(parcels, rules, urban_area, facilities)
    rtype = np.full(n, None, dtype=object)
    rtext = np.full(n, None, dtype=object)
    for name in rules.order:
        take = fires[name] & (rtype == None)  # noqa: E711 - elementwise on an object array
        rtype[take] = name
        rtext[take] = texts[name]
    undecided = rtype == None  # noqa: E711
    reasons = np.full(n, "", dtype=object)
    for mask, why in unknown:
        add = mask & undecided
        reasons[add] = np.where(reasons[add] == "", why[add], reasons[add] + "; " + why[add])
    und = undecided & (reasons != "")
    rtype[und] = UNDETERMINED
    rtext[und] = "undetermined: " + reasons[und]

    out = parcels.copy()
    out["renewal_type"] = pd.array(rtype, dtype="string")
    out["renewal_rule"] = pd.array(rtext, dtype="string")

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
