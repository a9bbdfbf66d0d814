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

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORY_NAMES",
    "CHECK_NAMES",
    "CLUSTER_SPECIAL_NAMES",
    "COLUMN_NAMES",
    "CONSTRAINT_SPECIAL_NAMES",
    "ELEMENT_KIND_NAMES",
    "FACILITY_KIND_NAMES",
    "LAYER_NAMES",
    "LIMIT_NAMES",
    "LINKAGE_HEADER",
    "NOTE_SECTION_NAMES",
    "PHASE_NAMES",
    "PROVENANCE_NAMES",
    "REJECT_REASON_NAMES",
    "RENEWAL_TYPE_NAMES",
    "SCENARIO_DELTA_HEADER",
    "SEVERITY_NAMES",
    "SHEET_NAMES",
    "SHEET_NOTES",
    "STRUCTURE_COLUMN_NAMES",
    "VALUE_KINDS",
    "VALUE_VOCABULARIES",
    "WEIGHT_NAMES",
    "YES_NO",
    "Term",
    "column_comment",
    "internal_keys",
    "measure_term",
    "term",
    "value_kind",
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
        ``facility_kind``, ``cluster``, ``element_kind``, ``layer``, ``column``,
        ``structure_column``, ``weighted_by``, ``reason``, ``provenance``,
        ``severity``, ``constraint``, ``sheet`` or ``note_section``, or a column
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
    value_names: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Return a table for Chinese readers: key values translated, headers in Chinese.

    ``cluster_id`` values become cluster names (``element_names``, then
    未纳入组团 / 全区合计); a ``name_zh`` column beside them is then redundant
    and dropped.  Columns listed in :data:`VALUE_VOCABULARIES` get their
    values translated, accessibility measures (``measure``, ``indicator``)
    their names (:func:`measure_term`), boolean columns 是 / 否.  Geometry
    columns are kept unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with internal column names.
    element_names : mapping of str to str, optional
        Plan element id to Chinese name.
    value_names : mapping of str to mapping, optional
        Column -> (value -> Chinese name) for values only the caller can name,
        e.g. ``{"constraint": {...}}`` from a district profile.

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
    out = _zh_values(out, value_names or {})
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


# =========================================================================== workbook (issue 22)
# Terms and helpers of the XLSX workbooks (refresh inventory, scenarios): headers of the
# accessibility, linkage, constraint and scenario sheets, their categorical values, the names
# and descriptions of the sheets, the 说明 (notes) sheet, and the kind of number in each
# column (the workbook writer picks the number format from it).

COLUMN_NAMES.update(
    {
        "mean": Term("平均值", "Mean"),
        "p85": Term("第85百分位数", "85th percentile"),
        "n": Term("有效地块数", "Parcels with a value"),
        "n_missing": Term("无数值地块数", "Parcels without a value"),
        "weight": Term("权重合计", "Total weight"),
        "weighted_by": Term("加权方式", "Weighted by"),
        "indicator": Term("比较指标", "Indicator"),
        "scenario": Term("方案", "Scenario"),
        "value": Term("数值", "Value"),
        "candidate_constrained_ha": Term(
            "更新候选地块受限面积（公顷）", "Constrained renewal-candidate land (ha)"
        ),
        "section": Term("类别", "Section"),
        "item": Term("项目", "Item"),
        "note": Term("内容", "Content"),
        "severity": Term("级别", "Severity"),
        "provenance": Term("数据性质", "Provenance"),
    }
)

#: Weights of the per-cluster accessibility summaries (``weighted_by``).
WEIGHT_NAMES: dict[str, Term] = {
    "residents": Term("按现状人口加权", "Weighted by residents"),
    "area": Term("按用地面积加权", "Weighted by parcel area"),
}

#: Reasons of the rejects table (``reason``; :mod:`tqspatial.validate`).
REJECT_REASON_NAMES: dict[str, Term] = {
    "null_geometry": Term("无几何图形", "No geometry"),
    "empty_geometry": Term("几何图形为空", "Empty geometry"),
    "not_polygonal": Term("非面状要素", "Not an area"),
    "not_point": Term("非点状要素", "Not a point"),
    "invalid_geometry": Term("几何无效且无法修复", "Invalid geometry, nothing left after repair"),
    "sliver": Term("面积过小（碎片）", "Sliver below the area threshold"),
    "missing_id": Term("编号缺失", "Id missing"),
    "duplicate_feature": Term("重复要素", "Duplicate feature"),
    "outside_district": Term("位于区界外", "Outside the district"),
    "overlap_covered": Term("被其他地块完全覆盖", "Covered by other parcels"),
}

#: Provenance of an input layer (a profile's ``[layers]`` ``provenance``).
PROVENANCE_NAMES: dict[str, Term] = {
    "real": Term("真实数据", "Real data"),
    "indicative": Term("示意数据（非官方图层）", "Indicative (not an official layer)"),
    "synthetic": Term("合成数据（虚构，仅供演示）", "Synthetic (invented, for demonstration)"),
}

#: Severities of the quality log.
SEVERITY_NAMES: dict[str, Term] = {
    "info": Term("提示", "Info"),
    "warning": Term("警告", "Warning"),
    "error": Term("错误", "Error"),
}

#: Rows of a constraints table that are not a profile's constraints.
CONSTRAINT_SPECIAL_NAMES: dict[str, Term] = {
    "all (union)": Term("全部约束合计（并集）", "All constraints (union)"),
}

#: Role layers of a district profile that :data:`LAYER_NAMES` does not name.
LAYER_NAMES.update(
    {
        "districts": Term("周边区县", "Neighbouring districts"),
        "roads": Term("路网", "Road network"),
        "anchors": Term("锚点", "Anchors"),
        "rivers": Term("河流", "Rivers"),
    }
)

#: Yes / no for boolean cells of a table for Chinese readers.
YES_NO: dict[bool, Term] = {True: Term("是", "Yes"), False: Term("否", "No")}

#: Sheets of the workbooks: key -> (sheet name, what it holds).
SHEET_NAMES: dict[str, Term] = {
    "notes": Term("说明", "Notes"),
    "summary": Term("组团汇总", "Cluster summary"),
    "supply": Term("更新用地供给", "Renewal supply"),
    "ledger": Term("更新用地台账", "Renewal ledger"),
    "constraints": Term("约束条件", "Constraints"),
    "rejects": Term("剔除记录", "Rejected rows"),
    "access": Term("可达性", "Accessibility"),
    "linkage": Term("组团联系", "Cluster linkage"),
    "changes": Term("变化", "Changes"),
    "cluster_changes": Term("组团变化", "Cluster changes"),
    "scenarios": Term("方案比较", "Scenario comparison"),
}

#: What each sheet holds (the 说明 sheet lists these).
SHEET_NOTES: dict[str, Term] = {
    "notes": Term(
        "本表：各工作表内容、数据来源、假设条件及合成数据说明",
        "This sheet: contents, sources, assumptions and what is synthetic",
    ),
    "summary": Term(
        "各组团及未纳入组团用地的地块数、用地面积（地块内）、组团面积、轴带内面积及各用地大类面积",
        "Per cluster: parcels, land in parcels, cluster area, land in axes and belts, land by "
        "category",
    ),
    "supply": Term(
        "各组团更新用地供给合计（含全区合计）：更新用地、受限面积、净供给、新增建筑面积、人口、"
        "就业及建科〔2021〕63号核查",
        "Renewal supply per cluster and for the district, with the 2021 No. 63 checks",
    ),
    "ledger": Term(
        "更新用地台账：组团 × 更新类型 × 实施时序",
        "Renewal ledger: cluster x renewal type x phase",
    ),
    "constraints": Term(
        "各硬约束条件覆盖的面积，仅统计更新候选地块（各约束可能重叠，合计按并集计）",
        "Land under each hard constraint, renewal candidates only (union in the total row)",
    ),
    "rejects": Term(
        "校验时剔除的输入行及剔除原因",
        "Input rows dropped by validation, with the reason",
    ),
    "access": Term(
        "各组团可达性指标的平均值、中位数和第85百分位数（分别按现状人口和用地面积加权）",
        "Per cluster and measure: weighted mean, median and 85th percentile",
    ),
    "linkage": Term(
        "组团核心之间、至联系锚点及桥梁的车行时间（分钟）",
        "Drive minutes between cluster cores, to the linkage anchors and bridges",
    ),
    "changes": Term(
        "与上期清单相比发生变化的地块",
        "Parcels changed since the previous inventory",
    ),
    "cluster_changes": Term(
        "各组团指标的上期、本期及变化",
        "Per cluster: previous, current and change",
    ),
    "scenarios": Term(
        "各方案的组团指标及与第一个方案的差值",
        "Per cluster and indicator: each scenario and its difference to the first",
    ),
}

#: Sections of the 说明 (notes) sheet.
NOTE_SECTION_NAMES: dict[str, Term] = {
    "district": Term("区域", "District"),
    "sheets": Term("工作表", "Sheets"),
    "sources": Term("数据来源", "Sources"),
    "synthetic": Term("合成与示意数据", "Synthetic and indicative data"),
    "constraints": Term("约束条件", "Constraints"),
    "assumptions": Term("假设条件", "Assumptions"),
    "quality": Term("数据质量记录", "Quality log"),
    "scenarios": Term("方案", "Scenarios"),
}

#: Header of a linkage column: drive time to a destination (``{}``: its name).
LINKAGE_HEADER = Term("车行至{}（分钟）", "Drive to {} (min)")

#: Header of a scenario-difference column (``{}``: the scenario, then the reference).
SCENARIO_DELTA_HEADER = Term("{}较{}变化", "{} minus {}")

_TABLES.update(
    {
        "weighted_by": WEIGHT_NAMES,
        "reason": REJECT_REASON_NAMES,
        "provenance": PROVENANCE_NAMES,
        "severity": SEVERITY_NAMES,
        "constraint": CONSTRAINT_SPECIAL_NAMES,
        "sheet": SHEET_NAMES,
        "note_section": NOTE_SECTION_NAMES,
    }
)
VALUE_VOCABULARIES.update(
    {
        "weighted_by": WEIGHT_NAMES,
        "reason": REJECT_REASON_NAMES,
        "provenance": PROVENANCE_NAMES,
        "severity": SEVERITY_NAMES,
    }
)

#: Kinds of number a column holds; the workbook writer gives each its number format.
VALUE_KINDS = ("ha", "m2", "count", "share", "minutes", "ratio", "year", "number")

_SHARE_COLUMNS = frozenset(
    {"share_of_land", "share_of_district", "demolition_share", "coverage", "rehousing_rate"}
)
_RATIO_COLUMNS = frozenset({"far", "rebuild_ratio", "iou"})
_COUNT_COLUMNS = frozenset(
    {
        "parcel_count", "n", "n_missing", "weight", "residents", "households", "dwellings",
        "jobs", "new_dwellings", "new_households", "new_residents", "new_jobs",
        "displaced_households", "bound_demolition", "bound_rebuild_ratio", "over_limit",
        "capacity_issues", "source_row",
    }
)  # fmt: skip
_YEAR_COLUMNS = frozenset({"build_year"})
_LIFE_CIRCLE = re.compile(r"^lc_(?P<minutes>\d+)min_covered$")
_OPPORTUNITIES = re.compile(r"^opp(?P<minutes>[\d.]+)_(?P<column>.+)$")
_COUNT_WITHIN = re.compile(r"^count(?P<minutes>[\d.]+)_(?P<kind>.+)$")
_ACCESS_RATIO = re.compile(r"^access_(?P<kind>.+)$")
_MEASURE_TERMS: tuple[tuple[re.Pattern[str], Term], ...] = (
    (
        re.compile(r"^walk_(?P<kind>.+)_min$"),
        Term("步行至最近{kind_zh}（分钟）", "Walk to nearest {kind_en} (min)"),
    ),
    (
        re.compile(r"^drive_(?P<kind>.+)_min$"),
        Term("车行至最近{kind_zh}（分钟）", "Drive to nearest {kind_en} (min)"),
    ),
    (_LIFE_CIRCLE, Term("{minutes}分钟生活圈覆盖率", "{minutes}-minute life circle coverage")),
    (
        _OPPORTUNITIES,
        Term("步行{minutes}分钟可达{column_zh}", "{column_en} within {minutes} min walk"),
    ),
    (
        _COUNT_WITHIN,
        Term("步行{minutes}分钟内{kind_zh}数量", "{kind_en} within {minutes} min walk"),
    ),
    (
        _ACCESS_RATIO,
        Term("{kind_zh}供需比（两步移动搜索法）", "{kind_en} supply per demand (2SFCA)"),
    ),
)


def value_kind(column: str) -> str | None:
    """Return the kind of number a column (or an accessibility measure) holds.

    Parameters
    ----------
    column : str
        Internal column name, or a measure name (``walk_<kind>_min``,
        ``lc_15min_covered`` ...), or a comparison column (``<column>_old`` ...).

    Returns
    -------
    str or None
        One of :data:`VALUE_KINDS` (``ha``: hectares, ``m2``: square metres,
        ``count``: whole numbers, ``share``: a fraction shown as a percentage,
        ``minutes``, ``ratio``, ``year``, ``number``); None for a column the
        vocabulary cannot place (text, or unknown).

    Examples
    --------
    >>> [value_kind(c) for c in ("net_supply_ha", "share_of_land", "walk_park_min",
    ...                          "new_residents_delta", "lc_5min_covered", "name_zh")]
    ['ha', 'share', 'minutes', 'count', 'share', None]
    """
    for suffix in COMPARISON_SUFFIXES:
        for unit in ("", "_m2", "_ha"):
            tail = f"_{suffix}{unit}"
            if column.endswith(tail) and column != tail:
                return value_kind(column.removesuffix(tail) + unit)
    simple = (
        (column.endswith("_ha"), "ha"),
        (column.endswith("_m2"), "m2"),
        (column.endswith("_min"), "minutes"),
        (column in _SHARE_COLUMNS or bool(_LIFE_CIRCLE.match(column)), "share"),
        (column in _RATIO_COLUMNS or bool(_ACCESS_RATIO.match(column)), "ratio"),
        (column in _YEAR_COLUMNS, "year"),
        (
            column in _COUNT_COLUMNS
            or bool(_OPPORTUNITIES.match(column) or _COUNT_WITHIN.match(column)),
            "count",
        ),
    )
    return next((kind for hit, kind in simple if hit), None)


def measure_term(measure: str) -> Term:
    """Return the names of an accessibility measure or a compared indicator.

    Parameters
    ----------
    measure : str
        A column of the per-parcel accessibility table (``walk_<kind>_min``,
        ``drive_<kind>_min``, ``lc_<n>min_covered``, ``opp<t>_<column>``,
        ``count<t>_<kind>``, ``access_<kind>``) or any column the vocabulary
        names (e.g. ``net_supply_ha``).

    Returns
    -------
    Term
        ``(zh, en)`` with the unit; an unknown measure as ``Term(measure, measure)``.

    Examples
    --------
    >>> measure_term("walk_primary_school_min").zh
    '步行至最近小学（分钟）'
    >>> measure_term("lc_15min_covered").en
    '15-minute life circle coverage'
    """
    if measure in COLUMN_NAMES:
        return COLUMN_NAMES[measure]
    for pattern, template in _MEASURE_TERMS:
        found = pattern.match(measure)
        if found is None:
            continue
        groups = found.groupdict()
        kind = groups.get("kind") or ""
        column = groups.get("column") or ""
        names = FACILITY_KIND_NAMES.get(kind, Term(kind, kind))
        fields = {
            "minutes": groups.get("minutes") or "",
            "kind_zh": names.zh,
            "kind_en": names.en,
            "column_zh": _header(column, {}, "zh") or column,
            "column_en": _header(column, {}, "en") or column,
        }
        return Term(template.zh.format(**fields), template.en.format(**fields))
    return Term(measure, measure)


def _zh_values(out: pd.DataFrame, value_names: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """Translate measures, constraint rows, booleans and caller-given names (in place)."""
    for column in ("measure", "indicator"):
        if column in out.columns:
            out[column] = [
                v if pd.isna(v) else measure_term(str(v)).zh for v in out[column].astype(object)
            ]
    names = {"constraint": {k: t.zh for k, t in CONSTRAINT_SPECIAL_NAMES.items()}}
    for column, given in value_names.items():
        names[column] = {**names.get(column, {}), **given}
    for column, lookup in names.items():
        if column in out.columns:
            out[column] = [
                v if pd.isna(v) else lookup.get(str(v), str(v)) for v in out[column].astype(object)
            ]
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values.dtype) or (
            values.dtype == object
            and values.notna().any()
            and all(isinstance(v, bool | np.bool_) for v in values.dropna())
        ):
            out[column] = [v if pd.isna(v) else YES_NO[bool(v)].zh for v in values.astype(object)]
    return out


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
