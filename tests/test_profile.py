"""District profiles: parsing, validation, the Tianqiao profile, and applying a profile."""

import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import Point, box

import tqspatial as tq
from tqspatial.district import (
    build_barriers,
    build_capacity,
    build_constraints,
    build_urban_area,
    layer_coverage,
    standard_facility_kinds,
)
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.profile import RowFilter, load_profile, parse_profile, profile_template
from tqspatial.structure import PlanStructure
from tqspatial.supply import USES

TIANQIAO_CLUSTERS = {
    # element id -> the lead industry its old hard-coded target rows were keyed by
    "smart_manufacturing": "新型功能材料",
    "hitech_innovation": "未来消费",
    "specialty_commerce": "特色商贸",
    "high_end_services": "高端服务",
    "modern_agriculture": "都市农业观光",
}


def test_every_problem_of_a_profile_is_reported_at_once(tmp_path):
    bad = {
        "district": {"name_zh": "甲区", "adcod": "1"},
        "layers": {"boundary": 3, "water": {"path": "w.gpkg", "provenance": "made up"}},
        "constraints": [{"name": "River", "layer": "lakes", "buffer_m": -5}],
        "urban_area": {"rule": "side_of_barrier"},
        "capacity": [{"landuse_category": "*", "target_far": 2, "shares": {"office": 0.5}}],
        "mapz": {},
    }
    path = tmp_path / "p.toml"
    with pytest.raises(ConfigError) as err:
        parse_profile(bad, path=path)
    text = str(err.value)
    for fragment in (
        str(path),
        "unknown section(s) ['mapz']",
        "[district]: unknown key(s) ['adcod']",
        "[layers] boundary must be a path",
        "provenance = 'made up'",
        "name = 'River'; expected a snake_case name",
        "buffer_m = -5; expected >= 0",
        "layer 'lakes' is not in [layers]",
        "rule = 'side_of_barrier' needs layer",
        "needs reference_anchor",
        "needs exactly one of element_id, lead_industry or kind",
        "must be >= 0 and sum to 1",
    ):
        assert fragment in text, fragment
    assert text.count(";") >= 11  # one message, every problem


def test_row_filters_select_like_pandas():
    frame = pd.DataFrame(
        {"name": ["大河", "小河", "湖", None], "kind": ["river", "river", "lake", "river"]}
    )
    f = RowFilter.parse({"name": {"contains": "河"}, "kind": "river"}, where="t")
    assert f.select(frame).index.tolist() == [0, 1]
    g = RowFilter.parse({"kind": {"not_in": ["lake"]}}, where="t")
    assert g.select(frame).index.tolist() == frame.index[frame["kind"] != "lake"].tolist()
    assert RowFilter().select(frame).index.tolist() == [0, 1, 2, 3]
    assert RowFilter.parse({"missing": "x"}, where="t").mask(frame).sum() == 0
    with pytest.raises(ConfigError, match="is not a filter"):
        RowFilter.parse({"kind": {"like": "r%"}}, where="t")


def test_the_embedded_profile_matches_the_embedded_files():
    profile = tq.datasets.tianqiao_profile()
    assert profile.adcode == "370105"
    for name, spec in profile.layers.items():
        assert spec.path.is_file(), name
        assert spec.provenance == tq.datasets.RAW_FILES[spec.path.name], name
    assert profile.referenced_layers() == ["water", "flood_depth"]


def test_template_is_a_valid_profile_for_any_district():
    text = profile_template(
        name_zh="市中区", name_en="Shizhong", adcode="370103", layers={"boundary": "b.geojson"}
    )
    profile = parse_profile(tomllib.loads(text))
    assert (profile.name_zh, profile.adcode, profile.maps.focus_adcode) == (
        "市中区",
        "370103",
        "370103",
    )
    assert sorted(profile.layers) == ["boundary"]
    for section in ("[layers]", "[urban_area]", "[linkage]", "[snapping]", "[facilities]"):
        assert section in text


def test_profile_capacity_reproduces_the_old_per_cluster_targets(tianqiao):
    """Keyed by lead industry, the profile gives every Tianqiao cluster the FAR and use mix
    the library used to hard-code for that cluster id (transcribed from the 0.1 table)."""
    old = {
        ("smart_manufacturing", "industrial"): (1.6, {"industry": 0.9, "office": 0.1}),
        ("hitech_innovation", "industrial"): (2.5, {"industry": 0.5, "office": 0.5}),
        ("specialty_commerce", "commercial"): (3.0, {"commercial": 0.7, "office": 0.3}),
        ("high_end_services", "commercial"): (4.0, {"office": 0.7, "commercial": 0.3}),
        ("modern_agriculture", "residential"): (1.2, {"residential": 1.0}),
        ("modern_agriculture", "industrial"): (0.8, {"commercial": 0.5, "residential": 0.5}),
        ("unassigned", "industrial"): (1.5, {"industry": 0.8, "office": 0.2}),
    }
    capacity = build_capacity(tianqiao.profile, tianqiao.structure)
    for (cluster, category), (far, shares) in old.items():
        row = capacity.target_for(cluster, category)
        assert row["target_far"] == far, (cluster, category)
        for use in USES:
            assert row[f"share_{use}"] == shares.get(use, 0.0), (cluster, category, use)
    industries = tianqiao.structure.list_attribute("lead_industries")
    for cluster, industry in TIANQIAO_CLUSTERS.items():
        assert industries[cluster][0] == industry


def test_capacity_precedence_element_then_industry_then_kind():
    s = PlanStructure.from_records(
        [
            {"element_id": "a", "kind": "cluster", "name_zh": "甲", "name_en": "A",
             "lead_industries": ["物流"], "geometry": box(0, 0, 10, 10)},
            {"element_id": "b", "kind": "cluster", "name_zh": "乙", "name_en": "B",
             "lead_industries": ["物流"], "geometry": box(10, 0, 20, 10)},
        ],
        crs="EPSG:4548",
    )  # fmt: skip
    rows = [
        {"kind": "*", "landuse_category": "*", "target_far": 1.0, "shares": {"office": 1.0}},
        {"lead_industry": "物流", "landuse_category": "*", "target_far": 2.0,
         "shares": {"industry": 1.0}},
        {"element_id": "b", "landuse_category": "*", "target_far": 3.0,
         "shares": {"commercial": 1.0}},
    ]  # fmt: skip
    capacity = build_capacity(parse_profile({"capacity": rows}), s)
    assert capacity.target_for("a", "residential")["target_far"] == 2.0
    assert capacity.target_for("b", "residential")["target_far"] == 3.0
    assert capacity.target_for("unassigned", "residential")["target_far"] == 1.0


def test_constraints_urban_area_and_barriers_from_a_profile():
    water = gpd.GeoDataFrame(
        {"name": ["甲河", "乙湖"], "feature": ["channel", "lake"]},
        geometry=[box(0, 40, 100, 60), box(70, 70, 80, 80)],
        crs="EPSG:4548",
    )
    anchors = gpd.GeoDataFrame({"anchor_id": ["hall"]}, geometry=[Point(50, 10)], crs="EPSG:4548")
    boundary = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    profile = parse_profile(
        {
            "layers": {"water": "w.gpkg", "anchors": "a.csv"},
            "constraints": [
                {"name": "river", "layer": "water", "where": {"name": {"contains": "河"}},
                 "buffer_m": 5.0}
            ],
            "urban_area": {"rule": "side_of_barrier", "layer": "water",
                           "where": {"feature": "channel"}, "reference_anchor": "hall"},
            "snapping": {"barriers": [{"layer": "water", "where": {"feature": "channel"}}]},
        }
    )  # fmt: skip
    (river,) = build_constraints(profile, {"water": water})
    assert river.geometry.index.tolist() == [0]
    assert river.buffer_m == 5.0
    urban = build_urban_area(profile, boundary, {"water": water}, anchors)
    assert urban.geometry.equals(box(0, 0, 100, 40))
    assert build_barriers(profile, {"water": water})["name"].tolist() == ["甲河"]
    with pytest.raises(SchemaError, match=r"\[urban_area\] reference_anchor = 'hall'"):
        build_urban_area(profile, boundary, {"water": water}, anchors.iloc[:0])


def test_facility_kinds_are_mapped_and_the_source_kept():
    f = gpd.GeoDataFrame({"kind": ["卫生站", "school"]}, geometry=[Point(0, 0), Point(1, 1)])
    out = standard_facility_kinds(f, {"卫生站": "community_health_station"})
    assert out["kind"].tolist() == ["community_health_station", "school"]
    assert out["kind_source"].tolist() == ["卫生站", "school"]
    assert "kind_source" not in standard_facility_kinds(f, {}).columns


def test_layer_coverage_of_points_rasters_and_extents():
    district = box(0, 0, 100, 100)
    pts = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(20, 20), Point(500, 500)])
    assert layer_coverage(district, pts) == pytest.approx(2 / 3)
    half = gpd.GeoDataFrame(geometry=[box(0, 0, 50, 100)])
    assert layer_coverage(district, half) == pytest.approx(0.5)

    # 10 x 10 cells of 5 m from (0, 50) down: covers the lower-left quarter
    raster = tq.io.Raster(
        np.ma.masked_array(np.zeros((10, 10))), Affine(5.0, 0.0, 0.0, 0.0, -5.0, 50.0), None, {}
    )
    assert layer_coverage(district, raster) == pytest.approx(0.25)


def test_profile_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="init-profile"):
        load_profile(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[layers\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML"):
        load_profile(bad)
