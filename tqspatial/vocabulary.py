"""One vocabulary: the Chinese and English names of every internal key the package shows.

Land-use categories, renewal types, phases, the limits and checks of the
renewal rules, facility kinds, layer names and column headers live here and
nowhere else.  Tables, the XLSX workbook, legends, the web map and database
comments take their words from this module, so one column has one header in
every sheet, and no Chinese-language output shows an internal key such as
``inefficient_industrial`` or ``near``.

Each table maps a key to a :class:`Term` ``(zh, en)``.  Headers carry units in
full-width brackets (``用地面积（公顷）``).

Examples
--------
>>> headers = zh_headers(["cluster_id", "class_industrial_ha", "road_belt_ha", "x"],
...                      element_names={"road_belt": "中路带"})
>>> list(headers.values())
['组团', '工矿用地（公顷）', '中路带内面积（公顷）', 'x']
>>> term("renewal_type", "inefficient_industrial")
Term(zh='低效工业用地', en='Inefficient industrial land')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import pandas as pd

__all__ = [
    "CATEGORY_NAMES",
    "CHECK_NAMES",
    "CLUSTER_SPECIAL_NAMES",
    "COLUMN_NAMES",
    "ELEMENT_KIND_NAMES",
    "FACILITY_KIND_NAMES",
    "LAYER_NAMES",
    "LIMIT_NAMES",
    "PHASE_NAMES",
    "RENEWAL_TYPE_NAMES",
    "STRUCTURE_COLUMN_NAMES",
    "VALUE_VOCABULARIES",
    "Term",
    "column_comment",
    "internal_keys",
    "term",
    "zh_headers",
    "zh_table",
]


class Term(NamedTuple):
    """The Chinese and English name of one key.

    Attributes
    ----------
    zh : str
        Chinese name.
    en : str
        English name.
    """

    zh: str
    en: str


#: Planning categories of :mod:`tqspatial.landuse`, in legend order.  The names are the
#: first-level classes of the 2023 用地用海分类 (自然资发〔2023〕234号) they group.
CATEGORY_NAMES: dict[str, Term] = {
    "residential": Term("居住用地", "Residential"),
    "public_service": Term("公共管理与公共服务用地", "Public services"),
    "commercial": Term("商业服务业用地", "Commercial"),
    "industrial": Term("工矿用地", "Industrial and mining"),
    "warehouse": Term("仓储用地", "Warehousing"),
    "transport": Term("交通运输用地", "Transport"),
    "utilities": Term("公用设施用地", "Utilities"),
    "green_open": Term("绿地与开敞空间用地", "Green and open space"),
    "special": Term("特殊用地", "Special use"),
    "reserve": Term("留白用地", "Reserved land"),
    "agricultural": Term("农业用地", "Agricultural"),
    "ecological": Term("林地、草地与湿地", "Forest, grassland and wetland"),
    "water": Term("陆地水域", "Inland water"),
    "marine": Term("海域", "Sea"),
    "other": Term("其他土地", "Other land"),
    "unknown": Term("未识别", "Unknown"),
}

#: Renewal types of :mod:`tqspatial.renewal` (``undetermined``: the data cannot decide).
RENEWAL_TYPE_NAMES: dict[str, Term] = {
    "specialty_market": Term("专业市场提质", "Specialty market upgrade"),
    "inefficient_industrial": Term("低效工业用地", "Inefficient industrial land"),
    "old_residential": Term("老旧小区", "Old residential compound"),
    "urban_village": Term("城中村", "Urban village"),
    "idle_land": Term("闲置土地", "Idle land (statutory)"),
    "vacant_land": Term("空闲地", "Vacant land"),
    "undetermined": Term("待定（数据缺失）", "Undetermined (data missing)"),
}

#: Phases of :class:`tqspatial.supply.Phasing` (default names).
PHASE_NAMES: dict[str, Term] = {
    "near": Term("近期", "Near term"),
    "mid": Term("中期", "Mid term"),
    "long": Term("远期", "Long term"),
    "undetermined": Term("待定", "Undetermined"),
}

#: Limits that can bind a parcel's new floor area (``renewal_limit``).
LIMIT_NAMES: dict[str, Term] = {
    "target_far": Term("目标容积率", "Target FAR"),
    "demolition_share": Term("拆除比例≤20%", "Demolition share limit"),
    "rebuild_ratio": Term("拆建比≤2", "Rebuild ratio limit"),
    "existing_denser": Term("现状已达目标容积率", "Existing floor area at or above target"),
}

#: Outcomes of the 建科〔2021〕63号 checks (``*_check`` columns).
CHECK_NAMES: dict[str, Term] = {
    "ok": Term("符合", "Within the limit"),
    "capped": Term("已按上限核减", "Capped at the limit"),
    "over": Term("超限（该类型未强制）", "Over the limit (not enforced for this type)"),
    "below": Term("低于下限", "Below the minimum"),
    "unknown": Term("数据缺失", "Data missing"),
}

#: Facility kinds (the ``kind`` column), aligned with GB 50180-2018 配套设施.
FACILITY_KIND_NAMES: dict[str, Term] = {
    "kindergarten": Term("幼儿园", "Kindergarten"),
    "community_health_station": Term("社区卫生服务站", "Community health station"),
    "community_service_station": Term("社区服务站", "Community service station"),
    "primary_school": Term("小学", "Primary school"),
    "fresh_market": Term("菜市场或生鲜超市", "Fresh market"),
    "middle_school": Term("初中", "Middle school"),
    "community_health_center": Term("社区卫生服务中心（社区医院）", "Community health centre"),
    "elderly_care_home": Term("养老院", "Elderly care home"),
    "culture_center": Term("文化活动中心", "Culture centre"),
    "general_hospital": Term("综合医院", "General hospital"),
    "park": Term("公园", "Park"),
    "metro_station": Term("地铁站", "Metro station"),
    "rail_station": Term("铁路客运站", "Railway station"),
}

#: Cluster ids that are not clusters: parcels in no cluster, and the district total row.
CLUSTER_SPECIAL_NAMES: dict[str, Term] = {
    "unassigned": Term("未纳入组团", "Not in a cluster"),
    "district": Term("全区合计", "District total"),
}

#: Kinds of plan-structure elements (``kind`` of the structure layer).
ELEMENT_KIND_NAMES: dict[str, Term] = {
    "core": Term("核", "Core"),
    "axis": Term("轴", "Axis"),
    "belt": Term("带", "Belt"),
    "cluster": Term("组团", "Cluster"),
    "node": Term("节点", "Node"),
}

#: Columns of the plan-structure layer (``kind`` there is an element kind, not a facility kind).
STRUCTURE_COLUMN_NAMES: dict[str, Term] = {
    "element_id": Term("编号", "Id"),
    "name": Term("名称", "Name"),
    "name_zh": Term("名称", "Chinese name"),
    "name_en": Term("英文名称", "English name"),
    "kind": Term("类型", "Kind"),
    "lead_industries": Term("主导产业", "Lead industries"),
}

#: Layers of the outputs (GeoPackage layers, web-map and map legend layers).
LAYER_NAMES: dict[str, Term] = {
    "parcels": Term("地块", "Parcels"),
    "structure": Term("规划结构", "Plan structure"),
    "rejects": Term("剔除记录", "Rejected rows"),
    "overlaps": Term("地块与规划结构叠加", "Parcel and structure overlaps"),
    "isochrones": Term("等时圈", "Isochrones"),
    "boundary": Term("区界", "District boundary"),
    "clusters": Term("组团", "Clusters"),
    "corridors": Term("轴带", "Axis and belts"),
    "facilities": Term("设施", "Facilities"),
}

#: Column -> header (units in brackets).  Columns not listed keep their names.
COLUMN_NAMES: dict[str, Term] = {
    "cluster_id": Term("组团", "Cluster"),
    "name_zh": Term("名称", "Chinese name"),
    "name_en": Term("英文名称", "English name"),
    "parcel_id": Term("地块编号", "Parcel id"),
    "subdistrict": Term("街道", "Subdistrict (jiedao)"),
    "parcel_count": Term("地块数", "Parcels"),
    "land_area_ha": Term("用地面积（公顷）", "Land area (ha)"),
    "share_of_land": Term("占地块总面积比例", "Share of parcel land"),
    "cluster_area_ha": Term("组团面积（公顷）", "Cluster area (ha)"),
    "share_of_district": Term("占全区面积比例", "Share of the district"),
    "landuse_code": Term("用地代码", "Land-use code"),
    "landuse_category": Term("用地大类", "Land-use category"),
    "landuse_canonical": Term("用地用海分类代码", "2023 land-use code"),
    "industry_code": Term("行业代码", "Industry code (GB/T 4754-2017)"),
    "build_year": Term("建成年代", "Year built"),
    "far": Term("容积率", "Floor-area ratio"),
    "coverage": Term("建筑密度", "Building coverage"),
    "floor_area_m2": Term("建筑面积（平方米）", "Floor area (m²)"),
    "is_idle": Term("是否闲置", "Idle"),
    "residents": Term("现状人口", "Residents"),
    "households": Term("现状户数", "Households"),
    "dwellings": Term("现状住房（套）", "Dwellings"),
    "jobs": Term("现状就业岗位", "Jobs"),
    "synthetic": Term("合成数据", "Synthetic"),
    "renewal_type": Term("更新类型", "Renewal type"),
    "renewal_rule": Term("认定依据", "Renewal rule"),
    "phase": Term("实施时序", "Phase"),
    "phase_years": Term("实施年份", "Phase years"),
    "gross_area_ha": Term("更新用地面积（公顷）", "Renewal land (ha)"),
    "constrained_area_ha": Term("受限面积（公顷）", "Constrained land (ha)"),
    "net_supply_ha": Term("净供给面积（公顷）", "Net supply (ha)"),
    "pending_net_ha": Term("待定净面积（公顷）", "Pending net land (ha)"),
    "redeveloped_ha": Term("拆除重建用地面积（公顷）", "Redeveloped land (ha)"),
    "existing_floor_area_m2": Term("现状建筑面积（平方米）", "Existing floor area (m²)"),
    "demolished_floor_m2": Term("拆除建筑面积（平方米）", "Demolished floor area (m²)"),
    "rebuilt_floor_m2": Term("新建建筑面积（平方米）", "Rebuilt floor area (m²)"),
    "new_floor_area_m2": Term("新增建筑面积（平方米）", "Added floor area (m²)"),
    "demolition_share": Term("拆除比例", "Demolition share"),
    "rebuild_ratio": Term("拆建比", "Rebuild ratio"),
    "demolition_check": Term("拆除比例核查", "Demolition share check"),
    "rebuild_ratio_check": Term("拆建比核查", "Rebuild ratio check"),
    "renewal_limit": Term("起约束作用的上限", "Binding limit"),
    "bound_demolition": Term("按拆除比例核减地块数", "Parcels capped by the demolition limit"),
    "bound_rebuild_ratio": Term("按拆建比核减地块数", "Parcels capped by the rebuild-ratio limit"),
    "over_limit": Term("超限未核减地块数", "Parcels over a limit not enforced"),
    "new_dwellings": Term("新建住房（套）", "New dwellings"),
    "new_households": Term("新增户数", "Added households"),
    "new_residents": Term("新增人口", "Added residents"),
    "new_jobs": Term("新增就业岗位", "Added jobs"),
    "displaced_households": Term("拆迁居民户数", "Displaced households"),
    "rehousing_rate": Term("就地就近安置能力", "Local rehousing capacity"),
    "rehousing_check": Term("安置率核查", "Rehousing check"),
    "capacity_issues": Term("容量数据缺失地块数", "Parcels without capacity data"),
    "layer": Term("图层", "Layer"),
    "source_row": Term("原始行号", "Source row"),
    "reason": Term("剔除原因", "Reason"),
    "detail": Term("说明", "Detail"),
    "parse_note": Term("字段解析说明", "Parsing note"),
    "repair": Term("修复说明", "Repair"),
    "constraint": Term("约束条件", "Constraint"),
    "area_ha": Term("面积（公顷）", "Area (ha)"),
    "uncounted_area_m2": Term("未计入面积（平方米）", "Uncounted area (m²)"),
    "kind": Term("设施类型", "Facility kind"),
    # change reports (tqspatial.changes)
    "change": Term("变化类型", "Change"),
    "added": Term("新增", "Added"),
    "removed": Term("删除", "Removed"),
    "renamed": Term("编号变更", "Renamed"),
    "geometry_changed": Term("形状变化", "Geometry changed"),
    "cluster_changed": Term("所属组团变化", "Cluster changed"),
    "landuse_changed": Term("用地代码变化", "Land-use code changed"),
    "renewal_changed": Term("更新类型或时序变化", "Renewal type or phase changed"),
    "supply_changed": Term("供给变化", "Supply changed"),
    "iou": Term("重叠度（IoU）", "Intersection over union"),
    "area_m2": Term("面积（平方米）", "Area (m²)"),
    "net_supply_m2": Term("净供给面积（平方米）", "Net supply (m²)"),
    "measure": Term("指标", "Measure"),
    "median": Term("中位数", "Median"),
}

#: Suffixes of the columns of a comparison (``<column>_old`` ...), with the words they add.
COMPARISON_SUFFIXES: dict[str, Term] = {
    "old": Term("上期", "previous"),
    "new": Term("本期", "current"),
    "delta": Term("变化", "change"),
}

#: Columns whose values are keys of a vocabulary table (translated by :func:`zh_table`).
VALUE_VOCABULARIES: dict[str, dict[str, Term]] = {
    "landuse_category": CATEGORY_NAMES,
    "renewal_type": RENEWAL_TYPE_NAMES,
    "phase": PHASE_NAMES,
    "renewal_limit": LIMIT_NAMES,
    "demolition_check": CHECK_NAMES,
    "rebuild_ratio_check": CHECK_NAMES,
    "rehousing_check": CHECK_NAMES,
    "kind": FACILITY_KIND_NAMES,
    "layer": LAYER_NAMES,
}

_TABLES: dict[str, dict[str, Term]] = {
    "category": CATEGORY_NAMES,
    "renewal_type": RENEWAL_TYPE_NAMES,
    "phase": PHASE_NAMES,
    "limit": LIMIT_NAMES,
    "check": CHECK_NAMES,
    "facility_kind": FACILITY_KIND_NAMES,
    "cluster": CLUSTER_SPECIAL_NAMES,
    "element_kind": ELEMENT_KIND_NAMES,
    "layer": LAYER_NAMES,
    "column": COLUMN_NAMES,
    "structure_column": STRUCTURE_COLUMN_NAMES,
}

_CLASS_PREFIX = "class_"
_HA_SUFFIX = "_ha"


def term(table: str, key: str) -> Term:
    """Return the names of one key.

    Parameters
    ----------
    table : str
        One of ``category``, ``renewal_type``, ``phase``, ``limit``, ``check``,
        ``facility_kind``, ``cluster``, ``element_kind``, ``layer``, ``column``
        or ``structure_column``, or a column
        name listed in :data:`VALUE_VOCABULARIES` (e.g. ``landuse_category``).
    key : str
        The internal key.

    Returns
    -------
    Term
        ``(zh, en)``; a key the table lacks is returned as ``Term(key, key)``.

    Raises
    ------
    KeyError
        If ``table`` is not a known table (the message lists them).

    Examples
    --------
    >>> term("phase", "near").zh, term("landuse_category", "warehouse").en
    ('近期', 'Warehousing')
    >>> term("phase", "2030")
    Term(zh='2030', en='2030')
    """
    names = _TABLES.get(table) or VALUE_VOCABULARIES.get(table)
    if names is None:
        valid = sorted({*_TABLES, *VALUE_VOCABULARIES})
        msg = f"vocabulary table {table!r} is unknown; valid tables are {valid}"
        raise KeyError(msg)
    return names.get(key, Term(key, key))


def internal_keys() -> set[str]:
    """Return every internal key the vocabulary translates (to check outputs for leaks).

    Returns
    -------
    set of str
        Keys of all tables (categories, renewal types, phases, limits, checks,
        facility kinds, special cluster ids, layers, column names).

    Examples
    --------
    >>> {"near", "inefficient_industrial", "net_supply_ha"} <= internal_keys()
    True
    """
    return {key for names in _TABLES.values() for key in names}


def _header(column: str, names: Mapping[str, str], lang: str) -> str | None:
    pick = 0 if lang == "zh" else 1
    if column in COLUMN_NAMES:
        return COLUMN_NAMES[column][pick]
    stem = column.removesuffix(_HA_SUFFIX)
    unit = "（公顷）" if lang == "zh" else " (ha)"
    if column.startswith(_CLASS_PREFIX) and column.endswith(_HA_SUFFIX):
        category = stem.removeprefix(_CLASS_PREFIX)
        if category in CATEGORY_NAMES:
            return CATEGORY_NAMES[category][pick] + unit
    if column.endswith(_HA_SUFFIX) and stem in names:
        return f"{names[stem]}内面积（公顷）" if lang == "zh" else f"In {names[stem]} (ha)"
    if column in names:  # a column per plan element (e.g. the linkage matrix)
        return names[column]
    return _compared_header(column, names, lang)


def _compared_header(column: str, names: Mapping[str, str], lang: str) -> str | None:
    """``<stem>_old`` / ``_new`` / ``_delta`` (or ``<stem>_old_m2``): 上期/本期/变化 + the stem."""
    for suffix, word in COMPARISON_SUFFIXES.items():
        for unit in ("", "_m2", "_ha"):
            tail = f"_{suffix}{unit}"
            if column.endswith(tail):
                stem = column.removesuffix(tail) + unit
                base = _header(stem, names, lang) if stem != column else None
                if base is None:
                    continue
                if lang == "en":
                    return f"{base}, {word.en}"
                if suffix == "delta":  # 净供给面积变化（平方米）
                    head, paren, unit_text = base.partition("（")
                    return f"{head}{word.zh}{paren}{unit_text}"
                return f"{word.zh}{base}"
    return None


def zh_headers(
    columns: Iterable[str],
    *,
    element_names: Mapping[str, str] | None = None,
    lang: str = "zh",
) -> dict[str, str]:
    """Return the header of each column.

    Parameters
    ----------
    columns : iterable of str
        Column names of a table.
    element_names : mapping of str to str, optional
        Plan element id to its name, for ``<element_id>_ha`` columns and
        columns named by an element id.
    lang : {"zh", "en"}, default "zh"
        Language.

    Returns
    -------
    dict of str to str
        Column name to header; ``class_<category>_ha`` columns get the category's
        name, unknown columns map to themselves.

    Examples
    --------
    >>> zh_headers(["net_supply_ha", "rebuild_ratio"])
    {'net_supply_ha': '净供给面积（公顷）', 'rebuild_ratio': '拆建比'}
    >>> zh_headers(["net_supply_ha"], lang="en")
    {'net_supply_ha': 'Net supply (ha)'}
    """
    names = dict(element_names or {})
    out: dict[str, str] = {}
    for column in columns:
        label = _header(str(column), names, lang)
        out[column] = label if label is not None else str(column)
    return out


def zh_table(
    frame: pd.DataFrame,
    *,
    element_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return a table for Chinese readers: key values translated, headers in Chinese.

    ``cluster_id`` values become cluster names (``element_names``, then
    未纳入组团 / 全区合计); a ``name_zh`` column beside them is then redundant
    and dropped.  Columns listed in :data:`VALUE_VOCABULARIES` get their
    values translated.  Geometry columns are kept unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with internal column names.
    element_names : mapping of str to str, optional
        Plan element id to Chinese name.

    Returns
    -------
    pandas.DataFrame
        Same rows and order.

    Examples
    --------
    >>> t = pd.DataFrame({"cluster_id": ["c1", "unassigned"], "phase": ["near", "long"],
    ...                   "net_supply_ha": [1.0, 2.0]})
    >>> zh = zh_table(t, element_names={"c1": "北组团"})
    >>> zh.columns.tolist(), zh["组团"].tolist(), zh["实施时序"].tolist()
    (['组团', '实施时序', '净供给面积（公顷）'], ['北组团', '未纳入组团'], ['近期', '远期'])
    """
    out = frame.copy()
    names = dict(element_names or {})
    compared = [
        f"{c}_{suffix}" for c in ("cluster_id", *VALUE_VOCABULARIES) for suffix in ("old", "new")
    ]
    if "cluster_id" in out.columns:
        out = out.drop(columns="name_zh", errors="ignore")
    lookup = {**{k: t.zh for k, t in CLUSTER_SPECIAL_NAMES.items()}, **names}
    for column in ("cluster_id", *VALUE_VOCABULARIES, *compared):
        if column not in out.columns:
            continue
        stem = column.removesuffix("_old").removesuffix("_new")
        if stem == "cluster_id":
            out[column] = [v if pd.isna(v) else lookup.get(str(v), str(v)) for v in out[column]]
            continue
        vocabulary = VALUE_VOCABULARIES[stem]
        out[column] = [
            v if pd.isna(v) else vocabulary.get(str(v), Term(str(v), str(v))).zh
            for v in out[column].astype(object)
        ]
    if "change" in out.columns:  # change kinds joined by ", " (tqspatial.changes)
        out["change"] = [
            v
            if pd.isna(v)
            else "、".join(
                COLUMN_NAMES[k].zh if k in COLUMN_NAMES else k for k in str(v).split(", ")
            )
            for v in out["change"].astype(object)
        ]
    headers = zh_headers([str(c) for c in out.columns], element_names=names)
    return out.rename(columns=headers)


def column_comment(column: str) -> str | None:
    """Return a database comment for a column: ``中文 / English``.

    For ``COMMENT ON COLUMN`` in PostGIS (:mod:`tqspatial.postgis`).

    Parameters
    ----------
    column : str
        Column name.

    Returns
    -------
    str or None
        The comment, or None for a column the vocabulary does not know.

    Examples
    --------
    >>> column_comment("rebuild_ratio")
    '拆建比 / Rebuild ratio'
    >>> column_comment("geometry") is None
    True
    """
    zh = _header(column, {}, "zh")
    if zh is None:
        return None
    return f"{zh} / {_header(column, {}, 'en')}"


# ---------------------------------------------------------------------------------------------
# Thematic maps and atlas pages (issue 22, parts 2 and 3).  Kept in one block to ease merging.
# Texts with ``{placeholders}`` are filled with ``str.format`` by :mod:`tqspatial.maps`.
# These keys are not column or value keys: they are not part of :func:`internal_keys`.
# ---------------------------------------------------------------------------------------------

#: Themes of the thematic maps (the title is the district's name followed by the theme).
MAP_THEME_NAMES: dict[str, Term] = {
    "landuse": Term("土地利用现状", "land use"),
    "renewal_supply": Term("城市更新用地供给", "renewal land supply"),
    "accessibility": Term("可达性", "accessibility"),
    "life_circle": Term("{level}配套设施覆盖", "facilities of the {level}"),
    "choropleth": Term("分级统计", "classified map"),
}

#: Notes, panel titles and legend entries of the thematic maps.
MAP_TEXT_NAMES: dict[str, Term] = {
    "crs": Term("坐标系：{name}（EPSG:{epsg}）", "CRS: {name} (EPSG:{epsg})"),
    "crs_unknown": Term("坐标系：未声明", "CRS: not declared"),
    "neighbours": Term("相邻区县", "Neighbouring districts"),
    "not_renewal": Term("非更新用地", "Not renewal land"),
    "by_type": Term("按更新类型", "By renewal type"),
    "by_phase": Term("按实施时序", "By phase"),
    "no_phase": Term("更新用地（未定时序）", "Renewal land, no phase"),
    "unreachable": Term("不可达", "unreachable"),
    "travel_time": Term("出行时间", "Travel time"),
    "isochrone": Term("{minutes:g} 分钟步行等时圈", "{minutes:g}-minute walk"),
    "isochrone_label": Term("{minutes:g} 分钟", "{minutes:g} min"),
    "facility": Term("设施", "Facility"),
    "no_data": Term("无数据", "n/a"),
    "not_assessed": Term("未评估", "Not assessed"),
}

#: Legend entries of the life-circle map (which required facility is missing where).
LIFE_CIRCLE_MAP_NAMES: dict[str, Term] = {
    "level": Term("{minutes:g}分钟生活圈", "{minutes:g}-minute life circle"),
    "covered": Term(
        "已覆盖：{n} 类设施均在步行 {distance} 内", "Covered: all {n} within {distance}"
    ),
    "missing_one": Term("仅缺少{name}", "Missing only: {name}"),
    "missing_some": Term("缺少 {low} 类", "Missing {low} kinds"),
    "missing_range": Term("缺少 {low}–{high} 类", "Missing {low}–{high} kinds"),
    "missing_all": Term("缺少全部 {n} 类", "Missing all {n} kinds"),
    "unassessed": Term(
        "未评估：距步行道路超过 {distance}", "Not assessed: over {distance} from a footpath"
    ),
    "unassessed_plain": Term("未评估：未接入步行网络", "Not assessed: off the walk network"),
    "within": Term("步行 {distance} 内有该设施", "Within {distance} on foot"),
    "missing": Term("缺少该设施（步行超过 {distance}）", "Missing (over {distance} on foot)"),
    "legend": Term("生活圈缺项", "What is missing"),
    "panels": Term("分项：各类设施", "By facility"),
    "overall": Term("缺项汇总", "What is missing"),
}

#: Key figures of the atlas pages and the notes that qualify them.
ATLAS_NAMES: dict[str, Term] = {
    "cluster_area_ha": Term("组团面积", "Cluster area"),
    "land_area_ha": Term("地块用地面积", "Land in parcels"),
    "net_supply_ha": Term("可更新净用地", "Net renewal land supply"),
    "access_min": Term("出行时间（中位数）", "Median travel time"),
    "key_figures": Term("关键指标", "Key figures"),
    "lead_industries": Term("主导产业：", "Lead industries: "),
    "area_note": Term(
        "组团面积为组团范围的面积；地块用地面积为组团内地块面积之和（不含道路、水域等）。",
        "Cluster area: the cluster polygon; land in parcels: the parcels in it (no roads, water).",
    ),
    "basis_area": Term(
        "组团内地块无现状人口，改按地块面积加权。",
        "No residents in the cluster's parcels: weighted by parcel area.",
    ),
    "basis_nearby_area": Term(
        "组团内无可计算的地块，取组团周边 {distance} 内地块按面积加权。",
        "No parcel of the cluster has a value: parcels within {distance} of it, by area.",
    ),
    "not_given": Term("未计算", "not computed"),
    "not_given_note": Term(
        "“未计算”：该指标由 tqspatial refresh 计算，本图集未提供。",
        "“not computed”: this figure comes from tqspatial refresh and was not given.",
    ),
    "no_value": Term("无可计算数据", "no data to compute"),
}
