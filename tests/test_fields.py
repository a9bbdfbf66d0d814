"""Field-name mapping and value parsing, checked against hand-computed values."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from tqspatial.errors import ConfigError
from tqspatial.fields import AREA_UNITS, map_fields, match_fields, parse_value

MU_M2 = 10_000 / 15


def squares(n, side=100.0):
    """n squares of side x side metres (area side**2 each) in EPSG:4548."""
    return [
        box(500_000 + i * side, 4_060_000, 500_000 + (i + 1) * side, 4_060_000 + side)
        for i in range(n)
    ]


def frame_of(columns, side=100.0):
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=squares(n, side), crs="EPSG:4548")


def plain(series):
    return [None if pd.isna(v) else v for v in series.tolist()]


def notes_of(frame, kind):
    return [n for n in frame.attrs["tq_notes"] if n["kind"] == kind]


# --------------------------------------------------------------------------- names


MATCH_CASES = [
    (
        ["地块编号", "用地性质", "面积"],
        {"parcel_id": "地块编号", "landuse_code": "用地性质", "area_attr_m2": "面积"},
    ),
    (
        ["DKBH", "YDXZ", "MJ", "JCND", "RJL", "JZMD", "JZMJ"],
        {
            "parcel_id": "DKBH",
            "landuse_code": "YDXZ",
            "area_attr_m2": "MJ",
            "build_year": "JCND",
            "far": "RJL",
            "coverage": "JZMD",
            "floor_area_m2": "JZMJ",
        },
    ),
    (
        ["dkbh", "yddm", "mj"],
        {"parcel_id": "dkbh", "landuse_code": "yddm", "area_attr_m2": "mj"},
    ),
    (
        ["建成年代", "容积率", "建筑密度", "建筑面积", "人口", "就业人数"],
        {
            "build_year": "建成年代",
            "far": "容积率",
            "coverage": "建筑密度",
            "floor_area_m2": "建筑面积",
            "residents": "人口",
            "jobs": "就业人数",
        },
    ),
    ([" 面积（亩） ", "备注", "Shape_Area"], {"area_attr_m2": " 面积（亩） "}),
    (["ＤＫＢＨ"], {"parcel_id": "ＤＫＢＨ"}),
]


@pytest.mark.parametrize(("columns", "expected"), MATCH_CASES)
def test_match_fields(columns, expected):
    assert match_fields(columns) == expected


def test_code_column_preferred_over_name_column():
    # 用地代码 holds codes, 用地性质 often holds names: the code wins, whatever the order.
    assert match_fields(["用地性质", "用地代码"])["landuse_code"] == "用地代码"


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("raw", "kind", "value", "status"),
    [
        ("1,234.5", "area", 1234.5, "parsed"),
        ("3456.7㎡", "area", 3456.7, "parsed"),
        ("3456.7平方米", "area", 3456.7, "parsed"),
        ("12,345,678", "area", 12345678.0, "parsed"),
        ("1.5亩", "area", 1.5 * MU_M2, "parsed"),
        ("2公顷", "area", 20000.0, "parsed"),
        ("１２３４.５", "area", 1234.5, "parsed"),
        ("987.6", "area", 987.6, "ok"),
        (987.6, "area", 987.6, "ok"),
        ("约1985", "year", 1985, "parsed"),
        ("1985年", "year", 1985, "parsed"),
        ("1985-06", "year", 1985, "parsed"),
        ("1985年6月", "year", 1985, "parsed"),
        ("１９８５", "year", 1985, "parsed"),
        ("1985", "year", 1985, "ok"),
        (1985.0, "year", 1985, "ok"),
        ("35%", "share", 0.35, "parsed"),
        ("0.35", "share", 0.35, "ok"),
        ("120人", "count", 120.0, "parsed"),
        ("是", "flag", True, "ok"),
        ("N", "flag", False, "ok"),
        (1.0, "flag", True, "ok"),
        (70102.0, "text", "70102", "ok"),
    ],
)
def test_parse_value_clean_and_dirty(raw, kind, value, status):
    got, got_status, _ = parse_value(raw, kind)
    assert got_status == status
    if isinstance(value, float):
        assert got == pytest.approx(value, rel=1e-12)
    else:
        assert got == value


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ("不详", "year", "means unknown"),
        ("-", "area", "means unknown"),
        ("", "far", "empty value"),
        ("   ", "far", "empty value"),
        ("1990年代", "year", "a decade"),
        ("80s", "year", "a decade"),
        ("1985-1990", "year", "a range of years"),
        ("85", "year", "two-digit year is ambiguous"),
        ("85年", "year", "two-digit year is ambiguous"),
        ("1750", "year", "outside 1800-2100"),
        ("1,5", "far", "is not a number"),
        ("abc", "area", "is not a number"),
        ("-3", "area", "negative"),
        ("maybe", "flag", "is not yes/no"),
    ],
)
def test_parse_value_missing_with_reason(raw, kind, reason):
    value, status, why = parse_value(raw, kind)
    assert value is None
    assert status == "missing"
    assert reason in why


fullwidth = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


@settings(max_examples=60, deadline=None)
@given(
    number=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    thousands=st.booleans(),
    wide=st.booleans(),
    approx=st.booleans(),
    unit=st.sampled_from(["", "㎡", "m²", "平方米"]),
)
def test_formatted_areas_parse_back_to_the_number(number, thousands, wide, approx, unit):
    text = f"{number:,.2f}" if thousands else f"{number:.2f}"
    text = ("约" if approx else "") + text + unit
    if wide:
        text = text.translate(fullwidth)
    value, status, _ = parse_value(text, "area")
    assert value == pytest.approx(float(number), rel=1e-12, abs=1e-9)
    clean = not (approx or wide or unit or (thousands and number >= 1000))
    assert status == ("ok" if clean else "parsed")


# --------------------------------------------------------------------------- frames


def test_map_fields_adds_canonical_columns_keeps_originals_and_notes_each_row():
    raw = frame_of(
        {
            "DKBH": ["A1", "A2", "A3", "A4"],
            "建成年代": ["约1985", "1990年代", "不详", "2001"],
            "容积率": ["1,234.5", "-", "", "2.5"],
            "建筑面积": ["3456.7㎡", "100", "x", "１０"],
        }
    )
    before = raw.copy()
    out = map_fields(raw)
    assert len(out) == len(raw)
    pd.testing.assert_frame_equal(out[list(before.columns)], before)  # originals untouched
    assert out["parcel_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert plain(out["build_year"]) == [1985, None, None, 2001]
    assert out["far"].tolist()[0] == 1234.5
    assert np.isnan(out["far"].tolist()[1:3]).all()
    assert out["floor_area_m2"].tolist()[:2] == [3456.7, 100.0]
    parsed = {(n["column"], n["row"]) for n in notes_of(out, "value_parsed")}
    assert parsed == {("建成年代", 0), ("容积率", 0), ("建筑面积", 0), ("建筑面积", 3)}
    missing = {(n["column"], n["row"]): n["message"] for n in notes_of(out, "value_missing")}
    assert set(missing) == {
        ("建成年代", 1),
        ("建成年代", 2),
        ("容积率", 1),
        ("容积率", 2),
        ("建筑面积", 2),
    }
    assert "a decade, not a year" in missing[("建成年代", 1)]
    assert all(n["stage"] == "fields" for n in out.attrs["tq_notes"])
    assert raw.attrs.get("tq_notes", []) == []  # the input is not modified


@pytest.mark.parametrize(
    ("column", "area_unit", "factor"),
    [
        ("面积(亩)", None, MU_M2),
        ("面积（公顷）", None, 10_000.0),
        ("MJ", "mu", MU_M2),
        ("MJ", "亩", MU_M2),
        ("MJ", "ha", 10_000.0),
        ("MJ", None, 1.0),
    ],
)
def test_declared_area_units(column, area_unit, factor):
    values = [1.5, 2.0, 0.25]
    out = map_fields(frame_of({column: values}, side=10.0), area_unit=area_unit)
    np.testing.assert_allclose(out["area_attr_m2"], np.array(values) * factor)
    assert out["area_attr_source"].tolist() == ["attribute"] * 3


def test_area_unit_argument_wins_over_the_name_with_a_note():
    out = map_fields(frame_of({"面积(亩)": [1.0]}), area_unit="ha")
    assert out["area_attr_m2"].tolist() == [10_000.0]
    assert len(notes_of(out, "area_unit_conflict")) == 1


def test_unknown_area_unit_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown area unit 'acre'.*'mu'"):
        map_fields(frame_of({"MJ": [1.0]}), area_unit="acre")
    assert set(AREA_UNITS) >= {"m2", "mu", "ha", "亩", "公顷"}


def test_unusable_area_recomputed_from_geometry_and_said():
    out = map_fields(frame_of({"面积": ["10,000", "不详", "", "-"]}))  # 100 m squares: 10,000 m²
    assert out["area_attr_m2"].tolist() == [10_000.0] * 4
    assert out["area_attr_source"].tolist() == ["attribute", "geometry", "geometry", "geometry"]
    rows = [n["row"] for n in notes_of(out, "area_from_geometry")]
    assert rows == [1, 2, 3]


def test_area_in_mu_undeclared_is_flagged_with_a_hint():
    geometry_m2 = 100.0 * 100.0
    out = map_fields(frame_of({"面积": [geometry_m2 / MU_M2] * 3}))
    (note,) = notes_of(out, "area_mismatch")
    assert note["count"] == 3
    assert "area_unit='亩'" in note["message"]
    assert out["area_attr_m2"].tolist() == pytest.approx([geometry_m2 / MU_M2] * 3)  # not changed


def test_coverage_in_percent_becomes_a_share():
    out = map_fields(frame_of({"建筑密度": ["35", "40.5", "0", "不详"]}))
    assert out["coverage"].tolist()[:3] == pytest.approx([0.35, 0.405, 0.0])
    assert len(notes_of(out, "unit_converted")) == 1


def test_coverage_mixing_shares_and_percent_is_not_guessed():
    out = map_fields(frame_of({"建筑密度": ["0.35", "40", "50%"]}))
    cov = out["coverage"].tolist()
    assert cov[0] == pytest.approx(0.35)
    assert np.isnan(cov[1])
    assert cov[2] == pytest.approx(0.5)
    (note,) = notes_of(out, "value_missing")
    assert note["row"] == 1
    assert "coverage above 1" in note["message"]


def test_existing_typed_canonical_columns_pass_untouched(tianqiao):
    parcels = tianqiao.parcels
    out = map_fields(parcels)
    pd.testing.assert_frame_equal(out.drop(columns=[]), parcels)
    kinds = {n["kind"] for n in out.attrs["tq_notes"]} - {
        n["kind"] for n in parcels.attrs.get("tq_notes", [])
    }
    assert kinds == set()


def test_canonical_text_column_with_dirty_numbers_is_cleaned_in_place():
    out = map_fields(frame_of({"far": ["1.2", "约2", "n/a"]}))
    assert out["far"].tolist()[:2] == [1.2, 2.0]
    assert np.isnan(out["far"].iloc[2])
    assert [n["row"] for n in notes_of(out, "value_missing")] == [2]


def test_is_idle_and_counts():
    out = map_fields(frame_of({"是否闲置": ["是", "否", "?"], "就业人数": ["12", "约30", "3.5"]}))
    assert plain(out["is_idle"]) == [True, False, None]
    assert out["jobs"].tolist() == [12.0, 30.0, 3.5]
    whole = map_fields(frame_of({"人口": ["12", "30人"]}))
    assert str(whole["residents"].dtype) == "Int64"
