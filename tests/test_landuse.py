"""Land-use code tables, scheme detection and classification.

Expected codes and names below are typed from the published standards
(2023 用地用海分类指南 appendix table, GB 50137-2011, 三调 working classification),
independently of the package's CSV files.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tqspatial.errors import ConfigError, SchemaError
from tqspatial.landuse import (
    CATEGORIES,
    CATEGORY_COLOUR_CODES,
    LANDUSE_COLOURS,
    RESULT_COLUMNS,
    UNKNOWN_COLOUR,
    SchemeError,
    category_colour,
    classify_landuse,
    colour_classes,
    colour_table,
    detect_scheme,
    landuse_table,
)
from tqspatial.quality import recording
from tqspatial.vocabulary import CATEGORY_NAMES

# --- 2023 用地用海分类: all 24 first-level classes and a sample in each -------------

FIRST_LEVEL_2023 = {
    "01": "耕地",
    "02": "园地",
    "03": "林地",
    "04": "草地",
    "05": "湿地",
    "06": "农业设施建设用地",
    "07": "居住用地",
    "08": "公共管理与公共服务用地",
    "09": "商业服务业用地",
    "10": "工矿用地",
    "11": "仓储用地",
    "12": "交通运输用地",
    "13": "公用设施用地",
    "14": "绿地与开敞空间用地",
    "15": "特殊用地",
    "16": "留白用地",
    "17": "陆地水域",
    "18": "渔业用海",
    "19": "工矿通信用海",
    "20": "交通运输用海",
    "21": "游憩用海",
    "22": "特殊用海",
    "23": "其他土地",
    "24": "其他海域",
}

SAMPLE_2023 = {
    "0101": "水田",
    "0103": "旱地",
    "0201": "果园",
    "0204": "油料园地",
    "0301": "乔木林地",
    "0303": "灌木林地",
    "0403": "其他草地",
    "0506": "内陆滩涂",
    "0507": "红树林地",
    "0601": "农村道路",
    "060102": "田间道",
    "0602": "设施农用地",
    "060203": "水产养殖设施建设用地",
    "0701": "城镇住宅用地",
    "070101": "一类城镇住宅用地",
    "070102": "二类城镇住宅用地",
    "070103": "三类城镇住宅用地",
    "0702": "城镇社区服务设施用地",
    "0703": "农村宅基地",
    "070301": "一类农村宅基地",
    "0704": "农村社区服务设施用地",
    "0801": "机关团体用地",
    "0802": "科研用地",
    "080403": "中小学用地",
    "080404": "幼儿园用地",
    "080601": "医院用地",
    "0807": "社会福利用地",
    "0901": "商业用地",
    "090101": "零售商业用地",
    "090102": "批发市场用地",
    "090105": "公用设施营业网点用地",
    "0902": "商务金融用地",
    "0903": "娱乐用地",
    "0904": "其他商业服务业用地",
    "1001": "工业用地",
    "100101": "一类工业用地",
    "100102": "二类工业用地",
    "100103": "三类工业用地",
    "1002": "采矿用地",
    "1003": "盐田",
    "1101": "物流仓储用地",
    "110102": "二类物流仓储用地",
    "1102": "储备库用地",
    "1201": "铁路用地",
    "1206": "城市轨道交通用地",
    "1207": "城镇村道路用地",
    "1208": "交通场站用地",
    "120803": "社会停车场用地",
    "1301": "供水用地",
    "1303": "供电用地",
    "1309": "环卫用地",
    "1312": "其他公用设施用地",
    "1401": "公园绿地",
    "1402": "防护绿地",
    "1403": "广场用地",
    "1501": "军事设施用地",
    "1504": "文物古迹用地",
    "1506": "殡葬用地",
    "1701": "河流水面",
    "1704": "坑塘水面",
    "1705": "沟渠",
    "1802": "增养殖用海",
    "1905": "可再生能源用海",
    "2001": "港口用海",
    "2101": "风景旅游用海",
    "2201": "军事用海",
    "2301": "空闲地",
    "2302": "后备耕地",
    "2307": "裸岩石砾地",
}

# Codes that do not exist in the 2023 guide (trial-version or invented).
NOT_2023 = ["0603", "0905", "1004", "1103", "1313", "1404", "1601", "2308", "070104", "25"]


def test_2023_first_level_classes_are_the_24_of_the_guide():
    table = landuse_table("2023")
    first = table[table["level"] == "1"]
    assert dict(zip(first["code"], first["name_zh"], strict=True)) == FIRST_LEVEL_2023


@pytest.mark.parametrize(("code", "name"), sorted(SAMPLE_2023.items()))
def test_2023_sample_codes_match_the_guide(code, name):
    table = landuse_table("2023")
    assert table.loc[code, "name_zh"] == name
    assert table.loc[code, "name_en"]  # every code has an English name


def test_2023_sample_covers_every_first_level_class_with_subclasses():
    with_children = {c[:2] for c in landuse_table("2023")["code"] if len(c) > 2}
    assert with_children <= {c[:2] for c in SAMPLE_2023}


@pytest.mark.parametrize("code", NOT_2023)
def test_codes_absent_from_the_guide_are_absent(code):
    assert code not in landuse_table("2023").index


def test_2023_table_is_consistent():
    table = landuse_table("2023")
    assert table["code"].is_unique
    lengths = table["code"].str.len()
    assert (lengths.map({2: "1", 4: "2", 6: "3"}) == table["level"]).all()
    children = table[table["level"] != "1"]
    assert (children["parent"] == children["code"].str[:-2]).all()
    assert children["parent"].isin(table["code"]).all()
    assert set(table["category"]) <= set(CATEGORIES) - {"unknown"}


# --- GB 50137-2011 ----------------------------------------------------------------------

SAMPLE_GB50137 = {
    # code: (name in the standard, expected 2023 code)
    "R1": ("一类居住用地", "070101"),
    "R2": ("二类居住用地", "070102"),
    "R3": ("三类居住用地", "070103"),
    "R22": ("服务设施用地", "0702"),
    "A1": ("行政办公用地", "0801"),
    "A33": ("中小学用地", "080403"),
    "A35": ("科研用地", "0802"),
    "A5": ("医疗卫生用地", "0806"),
    "A7": ("文物古迹用地", "1504"),
    "B1": ("商业用地", "0901"),
    "B12": ("批发市场用地", "090102"),
    "B2": ("商务用地", "0902"),
    "B41": ("加油加气站用地", "090105"),
    "M1": ("一类工业用地", "100101"),
    "M2": ("二类工业用地", "100102"),
    "M3": ("三类工业用地", "100103"),
    "W1": ("一类物流仓储用地", "110101"),
    "W3": ("三类物流仓储用地", "110103"),
    "S1": ("城市道路用地", "1207"),
    "S2": ("城市轨道交通用地", "1206"),
    "S4": ("交通场站用地", "1208"),
    "S42": ("社会停车场用地", "120803"),
    "U12": ("供电用地", "1303"),
    "U21": ("排水用地", "1302"),
    "U23": ("环保用地", "1312"),
    "U31": ("消防用地", "1310"),
    "G1": ("公园绿地", "1401"),
    "G2": ("防护绿地", "1402"),
    "G3": ("广场用地", "1403"),
    "H14": ("村庄建设用地", "0703"),
    "H21": ("铁路用地", "1201"),
    "H41": ("军事用地", "1501"),
    "H5": ("采矿用地", "1002"),
    "E12": ("水库", "1703"),
}


@pytest.mark.parametrize(("code", "expected"), sorted(SAMPLE_GB50137.items()))
def test_gb50137_names_and_mapping(code, expected):
    name, canonical = expected
    table = landuse_table("gb50137")
    assert table.loc[code, "name_zh"] == name
    assert table.loc[code, "canonical"] == canonical


def test_gb50137_aggregates_have_no_canonical_code():
    table = landuse_table("gb50137")
    for code in ["H", "H1", "H11", "E", "E2"]:
        assert table.loc[code, "canonical"] == ""
        assert table.loc[code, "match"] == "aggregate"


# --- 三调 ---------------------------------------------------------------------------------

SAMPLE_SANDIAO = {
    "0101": ("水田", "0101"),
    "0102": ("水浇地", "0102"),
    "0201": ("果园", "0201"),
    "0305": ("灌木林地", "0303"),
    "0404": ("其他草地", "0403"),
    "05H1": ("商业服务业设施用地", "09"),
    "0508": ("物流仓储用地", "1101"),
    "0601": ("工业用地", "1001"),
    "0602": ("采矿用地", "1002"),
    "0701": ("城镇住宅用地", "0701"),
    "0702": ("农村宅基地", "0703"),
    "08H1": ("机关团体新闻出版用地", "08"),
    "08H2": ("科教文卫用地", "08"),
    "09": ("特殊用地", "15"),
    "1001": ("铁路用地", "1201"),
    "1003": ("公路用地", "1202"),
    "1004": ("城镇村道路用地", "1207"),
    "1006": ("农村道路", "0601"),
    "1101": ("河流水面", "1701"),
    "1104": ("坑塘水面", "1704"),
    "1106": ("内陆滩涂", "0506"),
    "1201": ("空闲地", "2301"),
    "1202": ("设施农用地", "0602"),
    "1203": ("田坎", "2303"),
}


@pytest.mark.parametrize(("code", "expected"), sorted(SAMPLE_SANDIAO.items()))
def test_sandiao_names_and_mapping(code, expected):
    name, canonical = expected
    table = landuse_table("sandiao")
    assert table.loc[code, "name_zh"] == name
    assert table.loc[code, "canonical"] == canonical


def test_settlement_attribute_codes_are_not_land_uses():
    out = classify_landuse(pd.Series(["201", "202", "203", "0101"]), scheme="sandiao")
    assert out["landuse_category"].tolist()[:3] == ["unknown"] * 3
    assert all(issue.startswith("aggregate_code") for issue in out["landuse_issue"][:3])


@pytest.mark.parametrize("scheme", ["gb50137", "sandiao"])
def test_mapping_tables_point_at_real_2023_codes_with_matching_categories(scheme):
    table = landuse_table(scheme)
    t2023 = landuse_table("2023")
    assert table["code"].is_unique
    mapped = table[table["canonical"] != ""]
    assert mapped["canonical"].isin(t2023["code"]).all()
    assert (mapped["category"].to_numpy() == t2023.loc[mapped["canonical"], "category"]).all()
    assert set(table["match"]) <= {"exact", "broader", "approximate", "aggregate"}
    assert (table.loc[table["canonical"] == "", "match"] == "aggregate").all()


def test_unknown_scheme_name_lists_the_choices():
    with pytest.raises(ConfigError, match="2023, gb50137, sandiao"):
        landuse_table("gb2011")


# --- collisions ---------------------------------------------------------------------------

COLLISIONS = {
    # code: (meaning in 2023, meaning in 三调)
    "1001": ("工业用地", "铁路用地"),
    "0702": ("城镇社区服务设施用地", "农村宅基地"),
    "1101": ("物流仓储用地", "河流水面"),
    "1201": ("铁路用地", "空闲地"),
    "05": ("湿地", "商业服务业用地"),
    "0602": ("设施农用地", "采矿用地"),
}


@pytest.mark.parametrize(("code", "meanings"), sorted(COLLISIONS.items()))
def test_colliding_codes_are_read_in_the_scheme_given(code, meanings):
    codes = pd.Series([code])
    as_2023 = classify_landuse(codes, scheme="2023")
    as_sandiao = classify_landuse(codes, scheme="sandiao")
    assert as_2023.loc[0, "landuse_name_zh"] == meanings[0]
    assert landuse_table("sandiao").loc[code, "name_zh"] == meanings[1]
    assert as_2023.loc[0, "landuse_scheme"] == "2023"
    assert as_sandiao.loc[0, "landuse_scheme"] == "sandiao"
    assert as_2023.loc[0, "landuse_canonical"] != as_sandiao.loc[0, "landuse_canonical"]


def test_1001_is_industry_in_2023_and_railway_in_sandiao():
    codes = pd.Series(["1001"])
    assert classify_landuse(codes, scheme="2023").loc[0, "landuse_category"] == "industrial"
    railway = classify_landuse(codes, scheme="sandiao")
    assert railway.loc[0, "landuse_category"] == "transport"
    assert railway.loc[0, "landuse_canonical"] == "1201"


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["070102", "1001", "0702"], "2023"),  # 070102 exists only in 2023
        (["1301", "1001", "1101"], "2023"),  # 13xx only in 2023
        (["05H1", "1001", "0702"], "sandiao"),  # 05H1 only in 三调
        (["1004", "1001", "1101"], "sandiao"),  # 1004 only in 三调
        (["201", "0702"], "sandiao"),  # settlement attribute codes only in 三调
        (["R2", "M1", "G1"], "gb50137"),
        (["070102", "R2", "H14"], "2023+gb50137"),
        (["05H1", "R2"], "sandiao+gb50137"),
        (["0101", "0102", "0701"], "2023"),  # valid in both with the same meaning
    ],
)
def test_detect_scheme_on_whole_columns(codes, expected):
    assert detect_scheme(codes) == expected


@pytest.mark.parametrize(
    "codes",
    [
        ["1001", "0702", "1101"],  # every code valid in both, meanings differ
        ["05", "0101"],
        ["070102"] * 3 + ["05H1"] * 3,  # half 2023-only, half 三调-only
    ],
)
def test_ambiguous_columns_are_refused(codes):
    with pytest.raises(SchemeError, match="scheme=") as info:
        classify_landuse(pd.Series(codes))
    message = str(info.value)
    assert "2023" in message
    assert "sandiao" in message
    assert isinstance(info.value, SchemaError)
    assert isinstance(info.value, ValueError)


def test_ambiguity_message_names_the_colliding_codes():
    with pytest.raises(SchemeError) as info:
        detect_scheme(["1001", "0702"])
    assert "1001 = 工业用地" in str(info.value)
    assert "1001 = 铁路用地" in str(info.value)


def test_detected_label_can_be_passed_back():
    codes = pd.Series(["070102", "R2"])
    label = detect_scheme(codes)
    out = classify_landuse(codes, scheme=label)
    assert label == "2023+gb50137"
    assert out["landuse_scheme"].tolist() == ["2023", "gb50137"]


def test_passing_scheme_resolves_ambiguity():
    out = classify_landuse(pd.Series(["1001", "0702", "1101"]), scheme="sandiao")
    assert out["landuse_canonical"].tolist() == ["1201", "0703", "1701"]
    assert out.attrs["landuse_scheme"] == "sandiao"


def test_a_few_stray_codes_of_the_other_scheme_become_unknown():
    codes = pd.Series(["070102"] * 99 + ["05H1"])
    assert detect_scheme(codes) == "2023"
    out = classify_landuse(codes)
    assert out["landuse_category"].iloc[-1] == "unknown"
    assert "05H1 = 商业服务业设施用地 (三调)" in out["landuse_issue"].iloc[-1]
    assert (out["landuse_category"].iloc[:-1] == "residential").all()


# --- classification -----------------------------------------------------------------------


def test_result_shape_and_index():
    codes = pd.Series(["070102", "R2", None], index=[10, 20, 30], name="landuse_code")
    out = classify_landuse(codes)
    assert list(out.columns) == list(RESULT_COLUMNS)
    assert out.index.tolist() == [10, 20, 30]
    assert out.loc[20, "landuse_scheme"] == "gb50137"
    assert out.loc[30, "landuse_scheme"] is None
    assert out.loc[30, "landuse_category"] == "unknown"
    assert out.loc[30, "landuse_issue"].startswith("missing_code")


def test_string_dtype_with_missing_values():
    codes = pd.Series(["070102", None, "R2"], dtype="string")
    with recording() as log:
        out = classify_landuse(codes)
    assert out["landuse_category"].tolist() == ["residential", "unknown", "residential"]
    assert log.counts()["missing_codes"] == 1


def test_mixed_2023_and_letters_keep_both_and_report_the_mix():
    codes = pd.Series(["070102", "R2", "H14", "100101", "M1"])
    with recording() as log:
        out = classify_landuse(codes)
    assert out["landuse_scheme"].tolist() == ["2023", "gb50137", "gb50137", "2023", "gb50137"]
    assert out["landuse_canonical"].tolist() == ["070102", "070102", "0703", "100101", "100101"]
    assert log.counts()["mixed_schemes"] == 3


def test_approximate_mappings_are_flagged():
    out = classify_landuse(pd.Series(["H14", "M1"]))
    assert out.loc[0, "landuse_issue"].startswith("approximate_mapping")
    assert out.loc[1, "landuse_issue"] is None


def test_unknown_codes_are_reported_with_count_and_examples(caplog):
    codes = pd.Series(["070102"] * 5 + ["9901", "9902", "9903", "9904", "9905", "9906", "9906"])
    with caplog.at_level(logging.WARNING, logger="tqspatial"), recording() as log:
        out = classify_landuse(codes)
    unknown = out["landuse_category"] == "unknown"
    assert unknown.sum() == 7
    assert out.loc[unknown, "landuse_issue"].str.startswith("unknown_code").all()
    note = log.table().set_index("kind").loc["unknown_codes"]
    assert note["count"] == 7
    assert note["severity"] == "warning"
    # at most five examples, the most frequent first
    assert "(examples: 9906 ×2, 9901, 9902, 9903, 9904 and 1 more)" in note["message"]
    assert "7 parcels" in caplog.text
    assert "9901" in caplog.text


def test_unknown_letter_code_is_unknown_not_dropped():
    out = classify_landuse(pd.Series(["070102", "R9", "X"]))
    assert out["landuse_category"].tolist() == ["residential", "unknown", "unknown"]


def test_nothing_is_printed(capsys):
    classify_landuse(pd.Series(["070102", "9999"]))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 070102 ", "070102"),
        ("０７０１０２", "070102"),  # full-width digits
        ("07-01-02", "070102"),
        ("07.01", "0701"),
        ("r2", "070102"),
        ("Ｍ１", "100101"),
        ("701", "0701"),  # leading zero lost as text
    ],
)
def test_codes_are_cleaned_where_unambiguous(raw, expected):
    with recording() as log:
        out = classify_landuse(pd.Series([raw, "070101"]))
    assert out.loc[0, "landuse_canonical"] == expected
    assert "codes_cleaned" in log.counts()


def test_number_column_regains_leading_zeros():
    out = classify_landuse(pd.Series([70102, 100101, 1401]))
    assert out["landuse_canonical"].tolist() == ["070102", "100101", "1401"]


def test_float_column_regains_leading_zeros():
    out = classify_landuse(pd.Series([70102.0, 1401.0, float("nan")]))
    assert out["landuse_canonical"].tolist()[:2] == ["070102", "1401"]
    assert out.loc[2, "landuse_issue"].startswith("missing_code")


def test_settlement_codes_are_not_padded():
    out = classify_landuse(pd.Series([201, 1001]), scheme="sandiao")
    assert out.loc[0, "landuse_issue"].startswith("aggregate_code: 三调 201 城市")


# --- overrides ----------------------------------------------------------------------------


def test_override_mapping_replaces_a_table_row():
    codes = pd.Series(["H14", "070102"])
    with recording() as log:
        out = classify_landuse(codes, overrides={"H14": "0704"})
    assert out.loc[0, "landuse_canonical"] == "0704"
    assert out.loc[0, "landuse_name_zh"] == "农村社区服务设施用地"
    assert out.loc[0, "landuse_issue"] is None
    assert log.counts()["landuse_overrides"] == 1


def test_override_table_maps_local_codes():
    table = pd.DataFrame({"code": ["0603", "RB"], "canonical": ["060203", "0901"]})
    out = classify_landuse(pd.Series(["0603", "RB", "070102"]), overrides=table)
    assert out["landuse_canonical"].tolist() == ["060203", "0901", "070102"]
    assert out["landuse_category"].tolist() == ["agricultural", "commercial", "residential"]


def test_invalid_overrides_are_refused():
    with pytest.raises(ConfigError, match="'H14' -> '9999'"):
        classify_landuse(pd.Series(["H14"]), overrides={"H14": "9999"})
    with pytest.raises(ConfigError, match="canonical"):
        classify_landuse(pd.Series(["H14"]), overrides=pd.DataFrame({"code": ["H14"]}))


def test_non_series_input_is_refused():
    with pytest.raises(SchemaError, match="Series"):
        classify_landuse(["070102"])  # type: ignore[arg-type]


# --- colours ------------------------------------------------------------------------------


# 《市级国土空间总体规划制图规范（试行）》(自然资源部, 2021) 附录B 用地用海分类配色指引表,
# typed from the appendix as two public reproductions give it (see tqspatial/data/README.md):
# class name -> RGB.  All 39 classes.
APPENDIX_B = {
    "耕地": (245, 248, 220),
    "园地": (191, 233, 170),
    "林地": (104, 177, 103),
    "草地": (205, 245, 122),
    "湿地": (101, 205, 170),
    "农业设施建设用地": (216, 215, 159),
    "城镇住宅用地": (255, 255, 45),
    "农村宅基地": (255, 211, 128),
    "机关团体用地": (255, 0, 255),
    "文化用地": (255, 127, 0),
    "教育用地": (255, 133, 201),
    "科研用地": (230, 0, 92),
    "体育用地": (0, 165, 124),
    "医疗卫生用地": (255, 127, 126),
    "社会福利用地": (255, 159, 127),
    "商业服务业用地": (255, 0, 0),
    "工业用地": (187, 150, 116),
    "采矿用地": (158, 108, 84),
    "盐田用地": (0, 0, 255),
    "仓储用地": (135, 97, 211),
    "储备库用地": (153, 153, 255),
    "交通运输用地": (183, 183, 183),
    "公路用地": (173, 173, 173),
    "城镇道路用地": (163, 163, 163),
    "管道运输用地": (153, 153, 153),
    "公用设施用地": (0, 99, 128),
    "公园绿地": (0, 255, 0),
    "防护绿地": (20, 141, 74),
    "广场用地": (172, 255, 207),
    "特殊用地": (133, 145, 86),
    "留白用地": (255, 255, 255),
    "陆地水域": (51, 142, 192),
    "渔业用海": (148, 213, 235),
    "工矿通信用海": (86, 166, 211),
    "交通运输用海": (108, 139, 209),
    "游憩用海": (26, 170, 230),
    "特殊用海": (131, 188, 214),
    "其他土地": (238, 238, 238),
    "其他海域": (214, 234, 243),
}


def _hex(rgb):
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def test_colour_table_is_appendix_b():
    table = colour_table()
    listed = table[table["basis"] == "appendix_b"]
    assert len(APPENDIX_B) == 39
    assert dict(zip(listed["appendix_b_name"], listed["colour"], strict=True)) == {
        name: _hex(rgb) for name, rgb in APPENDIX_B.items()
    }
    # Each appendix class sits on the 2023 code of the same name (the appendix predates the
    # 2023 guide's renaming of 1003 盐田 and 1207 城镇村道路用地).
    renamed = {"1003": "盐田用地", "1207": "城镇道路用地"}
    for code, row in listed.iterrows():
        assert row["appendix_b_name"] == renamed.get(code, row["name_zh"]), code
    # Derived rows take the colour of the code they name, and only where the appendix is silent.
    for code, row in table[table["basis"] != "appendix_b"].iterrows():
        source = row["basis"].removeprefix("derived:")
        assert row["colour"] == table.loc[source, "colour"], code
        assert source.startswith(code) or code.startswith(source[:2]), code


def test_every_2023_code_has_a_colour_class():
    codes = landuse_table("2023")["code"]
    classes = colour_classes(codes)
    assert classes.notna().all()
    # The class is the longest prefix in the table: independent re-implementation.
    table = set(colour_table().index)
    for code, klass in zip(codes, classes, strict=True):
        prefixes = [code[:n] for n in range(2, len(code) + 1) if code[:n] in table]
        assert klass == max(prefixes, key=len), code
    assert colour_classes(pd.Series(["070301", "120803", "0702"])).tolist() == [
        "0703",
        "12",
        "0702",
    ]


def test_every_category_has_a_colour_and_names():
    assert set(LANDUSE_COLOURS) == set(CATEGORIES)
    assert set(CATEGORY_NAMES) == set(CATEGORIES)
    assert set(CATEGORY_COLOUR_CODES) == set(CATEGORIES) - {"unknown"}
    assert CATEGORY_NAMES["warehouse"][0] == landuse_table("2023").loc["11", "name_zh"]
    assert CATEGORY_NAMES["industrial"][0] == landuse_table("2023").loc["10", "name_zh"]
    assert category_colour("residential") == _hex(APPENDIX_B["城镇住宅用地"])
    assert category_colour("industrial") == _hex(APPENDIX_B["工业用地"])
    assert category_colour("warehouse") == _hex(APPENDIX_B["仓储用地"])
    assert category_colour("transport") == _hex(APPENDIX_B["交通运输用地"])
    assert category_colour("utilities") == _hex(APPENDIX_B["公用设施用地"])
    assert category_colour("water") == _hex(APPENDIX_B["陆地水域"])
    assert category_colour("agricultural") == _hex(APPENDIX_B["耕地"])
    assert category_colour("unknown") == UNKNOWN_COLOUR
    # Each representative code belongs to its category.
    codes = landuse_table("2023")
    for category, code in CATEGORY_COLOUR_CODES.items():
        assert codes.loc[code, "category"] == category
    with pytest.raises(ConfigError, match="residential"):
        category_colour("housing")


def test_adjustable_garden_codes_of_the_third_survey():
    out = classify_landuse(
        pd.Series(["0201K", "0202K", "0203K", "0204K", "0101"]), scheme="sandiao"
    )
    assert out["landuse_canonical"].tolist() == ["0201", "0202", "0203", "0205", "0101"]
    assert out["landuse_category"].eq("agricultural").all()
    assert out["landuse_issue"].isna().all()
    # 0202K alone marks a column as 三调 (it exists in no other scheme).
    assert detect_scheme(["0202K", "0101"]) == "sandiao"


# --- embedded dataset ---------------------------------------------------------------------


def test_embedded_parcels_classify(tianqiao):
    codes = tianqiao.parcels["landuse_code"]
    out = classify_landuse(codes)
    assert out.attrs["landuse_scheme"] == "2023+gb50137"
    assert len(out) == len(codes)
    assert out.index.equals(codes.index)
    # Every code of the embedded dataset is in the guide (or GB 50137).
    unknown = set(codes[out["landuse_category"] == "unknown"])
    assert unknown == set()
    letters = codes.str.fullmatch(r"[A-Z][0-9]*")
    assert (out.loc[letters, "landuse_scheme"] == "gb50137").all()
    assert (out.loc[~letters, "landuse_scheme"] == "2023").all()
    # legacy letters land in the category their 2023 twin has
    legacy = {"R2": "residential", "M2": "industrial", "B1": "commercial", "G1": "green_open"}
    for code, category in legacy.items():
        assert set(out.loc[codes == code, "landuse_category"]) == {category}


# --- properties ---------------------------------------------------------------------------

_known = sorted(set(landuse_table("2023")["code"]) | set(landuse_table("gb50137")["code"]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(_known), st.text(max_size=6), st.none()),
        min_size=1,
        max_size=30,
    )
)
def test_every_row_comes_back_with_a_category(values):
    codes = pd.Series(values, dtype=object)
    try:
        out = classify_landuse(codes)
    except SchemeError:
        out = classify_landuse(codes, scheme="2023")
    assert len(out) == len(codes)
    assert out.index.equals(codes.index)
    assert set(out["landuse_category"]) <= set(CATEGORIES)
    unknown = out["landuse_category"] == "unknown"
    assert out.loc[unknown, "landuse_issue"].notna().all()
