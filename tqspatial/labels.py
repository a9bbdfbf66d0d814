"""Chinese column headers for the tables planners open in Excel.

Examples
--------
>>> labels = zh_headers(["cluster_id", "class_industrial_ha", "road_belt_ha", "x"],
...                     element_names={"road_belt": "中路带"})
>>> list(labels.values())
['组团编号', '工矿用地(公顷)', '中路带内面积(公顷)', 'x']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tqspatial.landuse import CATEGORY_NAMES

__all__ = ["COLUMN_LABELS_ZH", "zh_headers"]

#: Column name -> Chinese header (units in brackets).  Columns not listed keep their names.
COLUMN_LABELS_ZH: dict[str, str] = {
    "cluster_id": "组团编号",
    "name_zh": "名称",
    "name_en": "英文名称",
    "parcel_id": "地块编号",
    "parcel_count": "地块数",
    "land_area_ha": "用地面积(公顷)",
    "share_of_land": "占地块总面积比例",
    "cluster_area_ha": "组团面积(公顷)",
    "share_of_district": "占全区面积比例",
    "renewal_type": "更新类型",
    "phase": "实施时序",
    "phase_years": "实施年份",
    "gross_area_ha": "更新用地面积(公顷)",
    "constrained_area_ha": "受限面积(公顷)",
    "net_supply_ha": "净供给面积(公顷)",
    "pending_net_ha": "待定净面积(公顷)",
    "redeveloped_ha": "拆除重建面积(公顷)",
    "new_floor_area_m2": "新增建筑面积(平方米)",
    "households": "户数",
    "residents": "现状人口",
    "jobs": "现状就业岗位",
    "new_households": "新增户数",
    "new_residents": "新增人口",
    "new_jobs": "新增就业岗位",
    "capacity_issues": "容量数据缺失地块数",
    "layer": "图层",
    "source_row": "原始行号",
    "reason": "剔除原因",
    "detail": "说明",
    "constraint": "约束条件",
    "area_ha": "面积(公顷)",
    "landuse_code": "用地代码",
    "build_year": "建成年代",
    "far": "容积率",
    "coverage": "建筑密度",
    "floor_area_m2": "建筑面积(平方米)",
    "is_idle": "是否闲置",
    "synthetic": "合成数据",
    "uncounted_area_m2": "未计入面积(平方米)",
}


def zh_headers(
    columns: Iterable[str], *, element_names: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return a Chinese header for each column.

    Parameters
    ----------
    columns : iterable of str
        Column names of a table.
    element_names : mapping of str to str, optional
        Plan element id to Chinese name, for ``<element_id>_ha`` columns.

    Returns
    -------
    dict of str to str
        Column name to header; unknown columns map to themselves.
    """
    names = dict(element_names or {})
    out: dict[str, str] = {}
    for column in columns:
        label = COLUMN_LABELS_ZH.get(column)
        if label is None and column.startswith("class_") and column.endswith("_ha"):
            category = column.removeprefix("class_").removesuffix("_ha")
            if category in CATEGORY_NAMES:
                label = f"{CATEGORY_NAMES[category][0]}(公顷)"
        if label is None and column.endswith("_ha") and column.removesuffix("_ha") in names:
            label = f"{names[column.removesuffix('_ha')]}内面积(公顷)"
        out[column] = label if label is not None else column
    return out
