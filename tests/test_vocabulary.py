"""One vocabulary: complete tables, one header per column, no internal key in Chinese outputs."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from tqspatial import vocabulary
from tqspatial.config import parse_config
from tqspatial.landuse import CATEGORIES
from tqspatial.maps import thematic
from tqspatial.pipeline import refresh
from tqspatial.renewal import RENEWAL_TYPES, UNDETERMINED
from tqspatial.supply import LEDGER_COLUMNS, Phasing, ledger_zh, supply_ledger

CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# The facility kinds agreed for this round (team notes), typed here independently.
FACILITY_KINDS = {
    "kindergarten": "幼儿园",
    "community_health_station": "社区卫生服务站",
    "community_service_station": "社区服务站",
    "primary_school": "小学",
    "fresh_market": "菜市场或生鲜超市",
    "middle_school": "初中",
    "community_health_center": "社区卫生服务中心（社区医院）",
    "elderly_care_home": "养老院",
    "culture_center": "文化活动中心",
    "general_hospital": "综合医院",
    "park": "公园",
    "metro_station": "地铁站",
    "rail_station": "铁路客运站",
}


def leaked_keys(text: object) -> set[str]:
    """Internal keys appearing as whole words in a text meant for Chinese readers."""
    return set(WORD.findall(str(text))) & vocabulary.internal_keys()


def test_tables_cover_every_key_of_the_package():
    assert list(vocabulary.CATEGORY_NAMES) == list(CATEGORIES)
    assert set(vocabulary.RENEWAL_TYPE_NAMES) == {*RENEWAL_TYPES, UNDETERMINED}
    assert {p[0] for p in Phasing().phases} | {"undetermined"} == set(vocabulary.PHASE_NAMES)
    assert {k: t.zh for k, t in vocabulary.FACILITY_KIND_NAMES.items()} == FACILITY_KINDS
    missing = [c for c in LEDGER_COLUMNS if c not in vocabulary.COLUMN_NAMES]
    assert not missing
    tables = [
        vocabulary.CATEGORY_NAMES,
        vocabulary.RENEWAL_TYPE_NAMES,
        vocabulary.PHASE_NAMES,
        vocabulary.LIMIT_NAMES,
        vocabulary.CHECK_NAMES,
        vocabulary.FACILITY_KIND_NAMES,
        vocabulary.CLUSTER_SPECIAL_NAMES,
        vocabulary.ELEMENT_KIND_NAMES,
        vocabulary.LAYER_NAMES,
        vocabulary.COLUMN_NAMES,
        vocabulary.STRUCTURE_COLUMN_NAMES,
    ]
    for table in tables:
        for key, term in table.items():
            assert CJK.search(term.zh), (key, term)
            assert not CJK.search(term.en), (key, term)
            assert not leaked_keys(term.zh), (key, term)


def test_one_header_per_column_in_every_table():
    # The ledger for planners and the generic headers agree column by column.
    ledger = pd.DataFrame(columns=LEDGER_COLUMNS)
    structure_free = ledger_zh(ledger, _one_cluster())
    generic = vocabulary.zh_headers(LEDGER_COLUMNS)
    assert structure_free.columns.tolist() == [generic[c] for c in LEDGER_COLUMNS]
    # No two columns share a Chinese header (a header names one thing).
    headers = [t.zh for t in vocabulary.COLUMN_NAMES.values()]
    assert len(headers) == len(set(headers))
    assert vocabulary.zh_headers(["land_area_ha"])["land_area_ha"] == "用地面积（公顷）"
    assert vocabulary.column_comment("new_residents") == "新增人口 / Added residents"


def test_unknown_table_is_refused():
    with pytest.raises(KeyError, match="valid tables"):
        vocabulary.term("colours", "red")


def _one_cluster():
    from shapely.geometry import box

    from tqspatial.structure import PlanStructure

    return PlanStructure.from_frame(
        gpd.GeoDataFrame(
            {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
            geometry=[box(0, 0, 1, 1)],
            crs="EPSG:4548",
        )
    )


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    quick = parse_config({"maps": {"enabled": False}, "accessibility": {"enabled": False}})
    return refresh(quick, out_dir=tmp_path_factory.mktemp("vocabulary") / "out")


def test_chinese_workbook_shows_no_internal_key(refreshed):
    book = load_workbook(refreshed.out_dir / "tqspatial_inventory.xlsx", read_only=True)
    key_headers = {
        vocabulary.COLUMN_NAMES[c].zh
        for c in ("cluster_id", "renewal_type", "phase", "rehousing_check", "layer", "kind")
    }
    seen_headers = set()
    for sheet in book.worksheets:
        assert CJK.search(sheet.title), sheet.title
        assert not leaked_keys(sheet.title), sheet.title
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        for cell in header:
            assert CJK.search(str(cell)), (sheet.title, cell)
            assert not leaked_keys(cell), (sheet.title, cell)
        seen_headers |= set(header)
        for i, name in enumerate(header):
            if name not in key_headers:
                continue
            for row in rows[1:]:
                assert not leaked_keys(row[i]), (sheet.title, name, row[i])
    # The sheets show the renewal ledger's checks in Chinese.
    assert {"拆建比", "安置率核查", "按拆建比核减地块数"} <= seen_headers
    ledger = pd.read_excel(
        refreshed.out_dir / "tqspatial_inventory.xlsx", sheet_name="更新用地台账"
    )
    assert set(ledger["更新类型"]) <= {t.zh for t in vocabulary.RENEWAL_TYPE_NAMES.values()}
    assert set(ledger["实施时序"]) <= {t.zh for t in vocabulary.PHASE_NAMES.values()}
    assert "未纳入组团" in set(ledger["组团"])


def test_chinese_maps_show_no_internal_key(refreshed):
    parcels = gpd.read_parquet(refreshed.out_dir / "parcels.parquet")
    for plot in (thematic.plot_landuse, thematic.plot_renewal_supply):
        _fig, ax = plot(parcels, furniture=False)
        legend = ax.get_legend()
        texts = [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
        for text in texts:
            assert CJK.search(text), (plot.__name__, text)
            assert not leaked_keys(text), (plot.__name__, text)
    # every renewal type and phase present is named
    _fig, ax = thematic.plot_renewal_supply(parcels, furniture=False)
    entries = {t.get_text() for t in ax.get_legend().get_texts()}
    for key in parcels["renewal_type"].dropna().unique():
        assert vocabulary.RENEWAL_TYPE_NAMES[key].zh in entries
    for key in parcels["phase"].dropna().unique():
        assert vocabulary.PHASE_NAMES[key].zh in entries


def test_ledger_from_parcels_matches_the_workbook(refreshed):
    # The workbook's ledger is the ledger recomputed from the published parcels, translated.
    parcels = gpd.read_parquet(refreshed.out_dir / "parcels.parquet")
    structure = _structure_of(refreshed)
    ledger = supply_ledger(parcels, structure)
    book = pd.read_excel(refreshed.out_dir / "tqspatial_inventory.xlsx", sheet_name="更新用地台账")
    zh = ledger_zh(ledger, structure)
    assert len(book) == len(zh)
    # the workbook stores unrounded values (its number formats round for display only)
    assert book["净供给面积（公顷）"].sum() == pytest.approx(ledger["net_supply_ha"].sum())
    assert book["净供给面积（公顷）"].round(2).tolist() == zh["净供给面积（公顷）"].tolist()
    assert book["按拆建比核减地块数"].sum() == (parcels["rebuild_ratio_check"] == "capped").sum()


def _structure_of(refreshed):
    from tqspatial import io

    frame = io.read_vector(
        refreshed.out_dir / "inventory.gpkg", layer="structure", what="structure"
    )
    from tqspatial.structure import PlanStructure

    return PlanStructure.from_frame(frame)
