"""Renewal rules: each rule, thresholds, precedence, missing data, unknown codes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from tqspatial.district import build_urban_area
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.landuse import classify_landuse
from tqspatial.quality import recording
from tqspatial.renewal import (
    UNDETERMINED,
    RenewalRules,
    industrial_far_table,
    renewal_candidates,
    urban_area_from_river,
)

CRS = "EPSG:4548"

# canonical, category, build_year, far, coverage, is_idle, expected type, words in the rule.
# Industrial parcels carry no industry_code here: the default minimum FAR 0.7 and the 2023
# building-coverage minimum 0.40 apply.
CASES = [
    ("070102", "residential", 1995, 2.0, 0.3, False, "old_residential", "built in or before 2000"),
    ("070101", "residential", 2000, 2.0, 0.3, False, "old_residential", "老旧小区"),
    ("070103", "residential", 2001, 2.0, 0.3, False, None, None),
    ("070102", "residential", np.nan, 2.0, 0.3, False, UNDETERMINED, "needs build_year"),
    ("100101", "industrial", 2010, 0.69, 0.5, False, "inefficient_industrial", "FAR 0.69 < 0.7"),
    (
        "100102",
        "industrial",
        2010,
        1.2,
        0.39,
        False,
        "inefficient_industrial",
        "建筑系数 0.39 < 0.4",
    ),
    ("100102", "industrial", 2010, 0.7, 0.4, False, None, None),
    ("100103", "industrial", 2010, 2.0, 0.5, True, "idle_land", "国土资源部令第53号"),
    ("100101", "industrial", 2010, np.nan, 0.5, False, UNDETERMINED, "far missing"),
    ("100101", "industrial", 2010, np.nan, np.nan, True, "idle_land", "is_idle"),
    ("090102", "commercial", 2012, 1.4, 0.55, False, "specialty_market", "专业市场提质"),
    ("090101", "commercial", 2012, 1.4, 0.55, False, None, None),
    ("2301", "other", np.nan, 0.0, 0.0, False, "vacant_land", "空闲地"),
    ("0902", "commercial", 2015, 2.5, 0.4, True, "idle_land", "闲置土地"),
    ("0102", "agricultural", np.nan, 0.0, 0.0, True, None, None),
    ("1401", "green_open", np.nan, 0.0, 0.0, False, None, None),
    ("2301", "other", np.nan, 0.0, 0.0, True, "idle_land", "闲置土地"),
]


def case_frame(cases=CASES) -> gpd.GeoDataFrame:
    rows = list(cases)
    return gpd.GeoDataFrame(
        {
            "parcel_id": [f"p{i}" for i in range(len(rows))],
            "landuse_canonical": [r[0] for r in rows],
            "landuse_category": [r[1] for r in rows],
            "build_year": [r[2] for r in rows],
            "far": [r[3] for r in rows],
            "coverage": [r[4] for r in rows],
            "is_idle": [r[5] for r in rows],
        },
        geometry=[box(i * 100, 0, i * 100 + 90, 90) for i in range(len(rows))],
        crs=CRS,
    )


def types(out) -> list:
    return out["renewal_type"].astype(object).where(out["renewal_type"].notna(), None).tolist()


def test_each_rule_and_threshold():
    out = renewal_candidates(case_frame())
    assert types(out) == [c[6] for c in CASES]
    for (*_, expected, words), rule in zip(CASES, out["renewal_rule"].astype(object), strict=True):
        if expected is None:
            assert pd.isna(rule)
        else:
            assert words in rule


def test_thresholds_are_configurable():
    rules = RenewalRules(old_residential_built_by=2005, industrial_min_far=1.0)
    out = renewal_candidates(case_frame(), rules=rules)
    assert types(out)[2] == "old_residential"  # built 2001
    assert types(out)[6] == "inefficient_industrial"  # FAR 0.7 < 1.0
    out = renewal_candidates(case_frame(), rules=RenewalRules(industrial_min_coverage=0.3))
    assert types(out)[5] is None  # coverage 0.39 is enough against 0.3


def industrial_frame(far, coverage, sectors) -> gpd.GeoDataFrame:
    n = len(far)
    return gpd.GeoDataFrame(
        {
            "parcel_id": [f"i{i}" for i in range(n)],
            "landuse_canonical": ["100101"] * n,
            "landuse_category": ["industrial"] * n,
            "far": far,
            "coverage": coverage,
            "is_idle": [False] * n,
            "industry_code": sectors,
        },
        geometry=[box(i * 100, 0, i * 100 + 90, 90) for i in range(n)],
        crs=CRS,
    )


def test_industrial_minimum_follows_the_sector():
    # FAR 0.65 is below the electronics minimum (1.0) and the default (0.7), above chemicals
    # (0.6); FAR 0.95 is below electronics only.  Codes in the forms surveys use: two digits,
    # a four-digit 小类, a C (manufacturing) prefix, an integer.
    far = [0.65, 0.65, 0.65, 0.95, 0.95, 0.65, 0.65, 0.65]
    sectors = ["26", "2614", "C39", 39, "26", None, "43", "XX"]
    with recording() as log:
        out = renewal_candidates(industrial_frame(far, [0.5] * 8, sectors))
    minimum = out["industrial_min_far"].tolist()
    assert minimum == [0.6, 0.6, 1.0, 1.0, 0.6, 0.7, 0.7, 0.7]
    assert types(out) == [
        None,
        None,
        "inefficient_industrial",
        "inefficient_industrial",
        None,
        "inefficient_industrial",
        "inefficient_industrial",
        "inefficient_industrial",
    ]
    rules = out["renewal_rule"].astype(object).tolist()
    assert "FAR 0.65 < 1 (sector 39 计算机、通信和其他电子设备制造业 minimum)" in rules[2]
    assert "no industry_code: default minimum" in rules[5]
    assert "industry_code '43' has no minimum: default" in rules[6]
    assert all("screening, not a legal finding" in r for r in rules if isinstance(r, str))
    note = log.table().set_index("kind").loc["industrial_default_minimum"]
    assert note["count"] == 3  # None, "43" (no value in the table) and "XX"
    assert "(none), 43, XX" in note["message"]
    # Other land gets no minimum.
    assert renewal_candidates(case_frame(CASES[:1]))["industrial_min_far"].isna().all()


def test_industrial_table_is_complete_and_labelled():
    table = industrial_far_table()
    # GB/T 4754-2017 manufacturing 大类 are 13-43: every one has a row.
    assert table.index.tolist() == [str(c) for c in range(13, 44)]
    assert set(table["status"]) <= {
        "value_2023_secondary",
        "value_2008",
        "value_2008_merged",
        "no_value",
    }
    assert table["min_far"].isna().tolist() == (table["status"] == "no_value").tolist()
    assert table["min_far"].dropna().between(0.5, 1.0).all()
    # The sectors the issue cites.
    assert table.loc["26", "min_far"] == 0.6
    assert table.loc["39", "min_far"] == 1.0
    assert RenewalRules().industrial_min_far_by_sector == dict(table["min_far"].dropna())


def test_idle_and_vacant_land_are_two_rules():
    out = renewal_candidates(case_frame())
    rule = out["renewal_rule"].astype(object)
    vacant = out["renewal_type"] == "vacant_land"
    idle = out["renewal_type"] == "idle_land"
    assert vacant.sum() == 1
    assert idle.sum() == 4
    assert all("2301" in r and "53号" not in r for r in rule[vacant])
    assert all("国土资源部令第53号" in r and "2301" not in r for r in rule[idle])


def test_precedence_follows_order():
    idle_market = [("090102", "commercial", 2012, 1.4, 0.55, True, None, None)]
    assert types(renewal_candidates(case_frame(idle_market))) == ["specialty_market"]
    order = (
        "idle_land",
        "specialty_market",
        "inefficient_industrial",
        "old_residential",
        "urban_village",
        "vacant_land",
    )
    out = renewal_candidates(case_frame(idle_market), rules=RenewalRules(order=order))
    assert types(out) == ["idle_land"]


def test_urban_village_needs_urban_area():
    villages = [("070301", "residential", 1990, 0.8, 0.5, False, None, None)] * 2
    frame = case_frame(villages)  # parcels at x 0-90 and 100-190
    assert types(renewal_candidates(frame)) == [UNDETERMINED, UNDETERMINED]
    assert "urban_area" in renewal_candidates(frame)["renewal_rule"].iloc[0]
    out = renewal_candidates(frame, urban_area=box(-10, -10, 95, 100))
    assert types(out) == ["urban_village", None]


def test_unknown_codes_reported_not_dropped(caplog):
    frame = case_frame(CASES[:3])
    frame["landuse_code"] = ["070102", "XX9", "070103"]
    frame.loc[1, "landuse_canonical"] = None
    frame.loc[1, "landuse_category"] = "unknown"
    with recording() as log:
        out = renewal_candidates(frame)
    assert types(out) == ["old_residential", UNDETERMINED, None]
    assert "XX9" in out["renewal_rule"].iloc[1]
    note = log.table().set_index("kind").loc["unknown_landuse_code"]
    assert note["count"] == 1
    assert "XX9" in note["message"]
    assert "unknown" in caplog.text


def test_missing_is_idle_column_makes_building_land_undetermined():
    frame = case_frame().drop(columns="is_idle")
    out = renewal_candidates(frame)
    # Rules that fire without is_idle still fire; the rest of the building land is undetermined.
    assert types(out)[10] == "specialty_market"
    assert types(out)[0] == "old_residential"
    assert types(out)[11] == UNDETERMINED  # retail, no other rule: needs is_idle
    assert "is_idle" in out["renewal_rule"].iloc[11]
    assert types(out)[14] is None  # farmland is exempt from the idle rule


def test_market_facilities_rule():
    frame = case_frame([("090101", "commercial", 2012, 1.4, 0.55, False, None, None)] * 2)
    facilities = gpd.GeoDataFrame(
        {"kind": ["market"], "parcel_id": ["p1"]}, geometry=[Point(150, 40)], crs=CRS
    )
    assert types(renewal_candidates(frame, facilities=facilities)) == [None, None]
    rules = RenewalRules(market_facility_kinds=("market",))
    out = renewal_candidates(frame, rules=rules, facilities=facilities)
    assert types(out) == [None, "specialty_market"]
    assert "market" in out["renewal_rule"].iloc[1]


def test_rows_and_columns_kept():
    frame = case_frame()
    out = renewal_candidates(frame)
    assert out["parcel_id"].tolist() == frame["parcel_id"].tolist()
    assert list(out.columns[: len(frame.columns)]) == list(frame.columns)


def test_bad_inputs_raise():
    with pytest.raises(SchemaError, match="classify_landuse"):
        renewal_candidates(case_frame().drop(columns="landuse_category"))
    with pytest.raises(ConfigError, match="order"):
        RenewalRules(order=("idle_land",))
    with pytest.raises(ConfigError, match="tuple of code prefixes"):
        RenewalRules(market_codes="090102")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="share 0-1"):
        RenewalRules(industrial_min_coverage=30)


def test_urban_area_from_river():
    district = box(0, 0, 100, 100)
    river = shapely.Polygon([(0, 40), (100, 55), (100, 70), (0, 50)])
    south = urban_area_from_river(district, river, Point(10, 10))
    pieces = list(district.difference(river).geoms)
    expected = next(p for p in pieces if p.contains(Point(10, 10)))
    assert len(pieces) == 2
    assert south.symmetric_difference(expected).area == pytest.approx(0, abs=1e-9)
    assert south.contains(Point(50, 5))
    assert not south.contains(Point(50, 95))


def test_profile_urban_area_is_the_side_of_the_river_with_the_centre(tianqiao):
    layers = {"water": tianqiao.water}
    urban = build_urban_area(tianqiao.profile, tianqiao.boundary, layers, tianqiao.anchors).geometry
    anchors = tianqiao.anchors.set_index("anchor_id").geometry
    for south in ("district_gov", "luokou", "gongshanghe", "jinan_station"):
        assert urban.contains(anchors[south]), south
    for north in ("sangzidian", "daqiao", "que_hill"):
        assert not urban.contains(anchors[north]), north
    with pytest.raises(SchemaError, match=r"reference_anchor = 'district_gov' is not an anchor"):
        build_urban_area(tianqiao.profile, tianqiao.boundary, layers, tianqiao.anchors.iloc[:0])


def test_embedded_counts_match_direct_filters(tianqiao):
    parcels = tianqiao.parcels
    classes = classify_landuse(parcels["landuse_code"])
    frame = parcels.join(classes)
    out = renewal_candidates(frame)
    got = out["renewal_type"].astype(object)
    code = parcels["landuse_code"].astype(str)
    # Independent filters on the raw codes (2023 six-digit codes and GB 50137 letters).
    housing = code.isin(["070101", "070102", "070103", "R1", "R2", "R3"])
    old = housing & (parcels["build_year"] <= 2000)
    assert (got == "old_residential").sum() == old.sum()
    assert (got == "specialty_market").sum() == (code == "090102").sum()
    industrial = code.isin(["100101", "100102", "100103", "M1", "M2", "M3"])
    table = industrial_far_table()
    sector = (
        parcels["industry_code"].astype("string").str[:2]
        if "industry_code" in parcels.columns
        else pd.Series(pd.NA, index=parcels.index, dtype="string")
    )
    minimum = sector.map(table["min_far"].dropna().to_dict()).astype(float).fillna(0.7)
    low = (parcels["far"] < minimum) | (parcels["coverage"] < 0.4)
    ineff = industrial & low & ~parcels["is_idle"].astype(bool)
    assert (got == "inefficient_industrial").sum() == ineff.sum()
    assert (got == "vacant_land").sum() == (code.isin(["2301"]) & ~parcels["is_idle"]).sum()
    # Every parcel of a known code lacking build_year in housing is undetermined, none lost.
    assert ((got == UNDETERMINED) & housing).sum() == (housing & parcels["build_year"].isna()).sum()
    assert len(out) == len(parcels)
