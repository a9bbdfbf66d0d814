"""Field-name mapping and value parsing, checked against hand-computed values."""

import datetime
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from tqspatial.errors import ConfigError
from tqspatial.fields import AREA_UNITS, map_fields, match_fields, parse_value
from tqspatial.io import read_parcels
from tqspatial.quality import recording

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


def mapped(raw, **options):
    """map_fields with its quality log."""
    with recording() as log:
        out = map_fields(raw, **options)
    return out, log


def rows_of(log, kind):
    """(column, source row) of every row a kind of finding concerns."""
    details = log.details()
    details = details[details["kind"] == kind]
    return set(zip(details["column"], details["row"], strict=True))


def entries(log, kind):
    table = log.table()
    return table[table["kind"] == kind].to_dict("records")


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
        ("1750", "year", "before 1800"),
        ("2999", "year", "in the future"),
        (1750.0, "year", "before 1800"),
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
    out, log = mapped(raw)
    assert len(out) == len(raw)
    pd.testing.assert_frame_equal(out[list(before.columns)], before)  # originals untouched
    assert out["parcel_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert plain(out["build_year"]) == [1985, None, None, 2001]
    assert out["far"].tolist()[0] == 1234.5
    assert np.isnan(out["far"].tolist()[1:3]).all()
    assert out["floor_area_m2"].tolist()[:2] == [3456.7, 100.0]
    parsed = rows_of(log, "value_parsed")
    assert parsed == {("建成年代", 0), ("容积率", 0), ("建筑面积", 0), ("建筑面积", 3)}
    assert rows_of(log, "value_missing") == {
        ("建成年代", 1),
        ("建成年代", 2),
        ("容积率", 1),
        ("容积率", 2),
        ("建筑面积", 2),
    }
    assert "建成年代: '1990年代' treated as missing: a decade, not a year" in out["parse_note"][1]
    assert out["parse_note"][0].startswith("建成年代: '约1985' read as 1985 (approximate")
    assert log.table()["stage"].eq("fields").all()
    # one entry per column and reason, not one per row
    decade = [e for e in entries(log, "value_missing") if "a decade" in e["message"]]
    assert len(decade) == 1
    assert decade[0]["count"] == 1


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
    out, log = mapped(frame_of({"面积(亩)": [1.0]}), area_unit="ha")
    assert out["area_attr_m2"].tolist() == [10_000.0]
    assert len(entries(log, "area_unit_conflict")) == 1


def test_unknown_area_unit_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown area unit 'acre'.*'mu'"):
        map_fields(frame_of({"MJ": [1.0]}), area_unit="acre")
    assert set(AREA_UNITS) >= {"m2", "mu", "ha", "亩", "公顷"}


def test_unusable_area_recomputed_from_geometry_and_said():
    out, log = mapped(frame_of({"面积": ["10,000", "不详", "", "-"]}))  # 100 m squares: 10,000 m²
    assert out["area_attr_m2"].tolist() == [10_000.0] * 4
    assert out["area_attr_source"].tolist() == ["attribute", "geometry", "geometry", "geometry"]
    assert rows_of(log, "area_from_geometry") == {("面积", 1), ("面积", 2), ("面积", 3)}


def test_area_in_mu_undeclared_is_flagged_with_a_hint():
    geometry_m2 = 100.0 * 100.0
    out, log = mapped(frame_of({"面积": [geometry_m2 / MU_M2] * 3}))
    (note,) = entries(log, "area_mismatch")
    assert note["count"] == 3
    assert "area_unit='亩'" in note["message"]
    assert out["area_attr_m2"].tolist() == pytest.approx([geometry_m2 / MU_M2] * 3)  # not changed


def test_coverage_in_percent_becomes_a_share():
    out, log = mapped(frame_of({"建筑密度": ["35", "40.5", "0", "不详"]}))
    assert out["coverage"].tolist()[:3] == pytest.approx([0.35, 0.405, 0.0])
    assert len(entries(log, "unit_converted")) == 1


def test_coverage_mixing_shares_and_percent_is_not_guessed():
    out, log = mapped(frame_of({"建筑密度": ["0.35", "40", "50%"]}))
    cov = out["coverage"].tolist()
    assert cov[0] == pytest.approx(0.35)
    assert np.isnan(cov[1])
    assert cov[2] == pytest.approx(0.5)
    (note,) = entries(log, "value_missing")
    assert note["examples"] == "1: 40"
    assert "coverage above 1" in note["message"]


def test_existing_typed_canonical_columns_pass_untouched(tianqiao):
    parcels = tianqiao.parcels
    out, log = mapped(parcels)
    assert out["parse_note"].isna().all()
    pd.testing.assert_frame_equal(out, parcels)  # read_parcels already mapped them
    assert len(log) == 0


def test_canonical_text_column_with_dirty_numbers_is_cleaned_in_place():
    out, log = mapped(frame_of({"far": ["1.2", "约2", "n/a"]}))
    assert out["far"].tolist()[:2] == [1.2, 2.0]
    assert np.isnan(out["far"].iloc[2])
    assert rows_of(log, "value_missing") == {("far", 2)}


def test_is_idle_and_counts():
    out = map_fields(frame_of({"是否闲置": ["是", "否", "?"], "就业人数": ["12", "约30", "3.5"]}))
    assert plain(out["is_idle"]) == [True, False, None]
    assert out["jobs"].tolist() == [12.0, 30.0, 3.5]
    whole = map_fields(frame_of({"人口": ["12", "30人"]}))
    assert str(whole["residents"].dtype) == "Int64"


# --------------------------------------------------------------------------- input cases (issue 14)

FIXTURES = Path(__file__).parent / "data"


def test_declared_area_zero_or_less_and_implausible_years_are_flagged_per_row():
    from tqspatial import io

    with recording() as log:
        parcels = io.read_parcels(FIXTURES / "dirty_values.geojson")
    notes = dict(zip(parcels["parcel_id"], parcels["parse_note"], strict=True))
    assert (
        "用地面积: '0' treated as missing: a parcel's declared area must be above 0 m²"
        in notes["DV-1"]
    )
    assert "用地面积: '-25' treated as missing: negative value" in notes["DV-2"]
    assert (
        "'0.0平方米' treated as missing: a parcel's declared area must be above 0 m²"
        in notes["DV-3"]
    )
    year = datetime.datetime.now(tz=datetime.UTC).year
    assert (
        f"建成年代: '2035' treated as missing: year 2035 is in the future (after {year})"
        in notes["DV-2"]
    )
    assert "建成年代: '1750' treated as missing: year 1750 is before 1800" in notes["DV-3"]
    # missing areas come from the geometry (independent: the 80 x 70 m rectangles written)
    np.testing.assert_allclose(parcels["area_attr_m2"], 5600.0, rtol=1e-5)
    assert parcels["area_attr_source"].tolist()[:3] == ["geometry"] * 3
    assert plain(parcels["build_year"]) == [1985, None, None, None, 1998]
    rows = rows_of(log, "value_missing")
    assert ("建成年代", 1) in rows
    assert ("建成年代", 2) in rows
    assert {("用地面积", 0), ("用地面积", 1), ("用地面积", 2)} <= rows


def test_numeric_years_out_of_range_are_missing_with_a_reason():
    year = datetime.datetime.now(tz=datetime.UTC).year
    out, log = mapped(frame_of({"建成年代": [1985, year + 1, 1799, 1800]}))
    assert plain(out["build_year"]) == [1985, None, None, 1800]
    assert rows_of(log, "value_missing") == {("建成年代", 1), ("建成年代", 2)}


def test_gb50137_names_and_english_field_names():
    from tqspatial import io
    from tqspatial.landuse import classify_landuse, landuse_table

    with recording() as log:
        parcels = io.read_parcels(FIXTURES / "names_english.geojson")
    assert parcels["parcel_id"].tolist() == ["EN-1", "EN-2", "EN-3", "EN-4", "EN-5"]
    # names -> codes, checked against the GB 50137 table's own names
    table = landuse_table("gb50137")
    for name, code in zip(parcels["landuse"], parcels["landuse_code"], strict=True):
        assert code == name or table.loc[code, "name_zh"] == name
    assert parcels["landuse_code"].tolist() == ["R2", "B1", "M1", "R2", "G1"]
    classes = classify_landuse(parcels["landuse_code"])
    assert set(classes["landuse_scheme"]) == {"gb50137"}
    assert classes["landuse_category"].tolist() == [
        "residential",
        "commercial",
        "industrial",
        "residential",
        "green_open",
    ]
    assert plain(parcels["build_year"]) == [1988, 2012, 2001, 1995, None]
    assert parcels["far"].tolist()[:4] == [1.8, 3.5, 0.9, 2.0]
    assert parcels["area_attr_m2"].tolist() == [7200.0] * 5
    mapped_from = {e["column"] for e in entries(log, "field_mapped")}
    assert mapped_from == {"parcel_no", "landuse", "built_year", "FAR", "area_m2"}
    (missing,) = entries(log, "columns_missing")
    assert missing["message"].startswith(
        "no field found for coverage, floor_area_m2, is_idle, residents, jobs"
    )
    (names,) = entries(log, "landuse_name")
    assert names["count"] == 4


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["lu_code", "built_year", "far", "area_m2"],
         ["landuse_code", "build_year", "far", "area_attr_m2"]),
        (["LANDUSE", "year_built", "plot_ratio", "gfa", "population"],
         ["landuse_code", "build_year", "far", "floor_area_m2", "residents"]),
    ],
)  # fmt: skip
def test_english_field_names_match(columns, expected):
    assert sorted(match_fields(columns)) == sorted(expected)


EXAMPLE = Path(__file__).resolve().parents[1] / "data/examples/天桥区地块示例/天桥区地块示例.shp"


def test_reading_the_example_logs_each_kind_of_finding_once(caplog):
    with caplog.at_level(logging.INFO, logger="tqspatial"), recording() as log:
        read_parcels(EXAMPLE)
    table = log.table()
    findings = table.groupby(["layer", "stage", "kind", "severity"]).size()
    assert findings.max() > 1  # the example maps several fields and parses values several ways
    records = [r for r in caplog.records if r.name == "tqspatial.quality"]
    assert len(records) == len(findings)  # one record per kind, not per finding or value
    for (layer, stage, kind, severity), n in findings.items():
        (record,) = [r for r in records if f"{layer} [{stage}/{kind}]" in r.getMessage()]
        assert record.levelname == {"info": "INFO"}.get(severity, "WARNING")
        if n > 1:
            assert f"{n} findings" in record.getMessage()
    mapped = table[table["kind"] == "field_mapped"]["column"].tolist()
    (line,) = [r.getMessage() for r in records if "/field_mapped]" in r.getMessage()]
    quoted = sum(repr(column) in line for column in mapped)  # quoted up to a length, then counted
    assert quoted >= 1
    assert quoted == len(mapped) or f"and {len(mapped) - quoted} more" in line
    # besides the quality findings, the reader says what it read and how it reprojected
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) <= (findings.index.get_level_values("severity") == "info").sum() + 2
