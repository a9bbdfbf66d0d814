import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, box

from tqspatial import datasets, io
from tqspatial.structure import MIN_CORRIDOR_INSIDE_SHARE, PlanStructure, StructureError


def _frame(ids, kinds, geoms, widths=None):
    return gpd.GeoDataFrame(
        {
            "element_id": ids,
            "kind": kinds,
            "name_zh": [f"元素{i}" for i in range(len(ids))],
            "name_en": [f"Element {i}" for i in range(len(ids))],
            "width_m": widths if widths is not None else [None] * len(ids),
        },
        geometry=geoms,
        crs="EPSG:4548",
    )


def test_centre_line_becomes_a_corridor_of_length_times_width():
    line = LineString([(0, 0), (1000, 0), (1000, 800)])
    s = PlanStructure.from_frame(_frame(["axis"], ["axis"], [line], [200.0]))
    corridor = s.elements.loc["axis"].geometry
    # Flat ends; the outer corner is rounded, the inner one mitred: area within a few m²
    # of length x width (independent closed form).
    assert corridor.area == pytest.approx(1800 * 200, rel=0.01)
    assert s.elements.loc["axis", "source_geometry"] == "centre_line"


def test_a_plan_with_any_number_of_elements_loads():
    geoms = [box(i * 100, 0, (i + 1) * 100, 100) for i in range(7)]
    s = PlanStructure.from_frame(_frame([f"c{i}" for i in range(7)], ["cluster"] * 7, geoms))
    assert s.cluster_ids == [f"c{i}" for i in range(7)]
    assert s.corridor_ids == []


def test_every_problem_is_reported_at_once():
    frame = _frame(
        ["a", "a", "line"],
        ["cluster", "cluster", "belt"],
        [box(0, 0, 10, 10), box(5, 5, 15, 15), LineString([(0, 0), (1, 1)])],
    )
    with pytest.raises(
        StructureError,
        match=r"duplicate element ids \['a'\].*without a positive width_m: \['line'\]",
    ):
        PlanStructure.from_frame(frame)


def test_overlapping_clusters_are_named():
    frame = _frame(
        ["west", "east"], ["cluster", "cluster"], [box(0, 0, 60, 10), box(50, 0, 100, 10)]
    )
    with pytest.raises(StructureError, match=r"west and east share 100 m²"):
        PlanStructure.from_frame(frame)


def test_missing_columns_are_listed():
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    with pytest.raises(StructureError, match=r"missing column\(s\) \['element_id', 'kind'"):
        PlanStructure.from_frame(frame)


# --------------------------------------------------------------------------- added for issue 4


def huaiyin_structure():
    """A made-up plan for Huaiyin District (槐荫区): 3 clusters, 1 axis, 1 core, 1 node.

    Clusters are the district cut into three vertical strips (no overlaps by construction);
    the axis runs west-east through the centroid; the core is a disc in the middle strip.
    """
    districts = datasets.tianqiao().districts
    boundary = districts[districts["name"] == "槐荫区"]
    shape = boundary.union_all()
    xmin, ymin, xmax, ymax = shape.bounds
    cuts = np.linspace(xmin, xmax, 4)
    strips = [
        shapely.intersection(shape, box(a, ymin - 1, b, ymax + 1))
        for a, b in itertools.pairwise(cuts)
    ]
    c = shape.centroid
    records = [
        {
            "element_id": f"hy_cluster_{i}",
            "kind": "cluster",
            "name_zh": f"槐荫组团{i}",
            "name_en": f"Huaiyin cluster {i}",
            "geometry": g,
            "lead_industries": ["现代物流", "医养健康"],
        }
        for i, g in enumerate(strips)
    ]
    records += [
        {
            "element_id": "hy_axis",
            "kind": "axis",
            "name_zh": "经十路发展轴",
            "name_en": "Jingshi axis",
            "geometry": LineString([(xmin + 500, c.y), (xmax - 500, c.y)]),
            "width_m": 1200.0,
        },
        {
            "element_id": "hy_core",
            "kind": "core",
            "name_zh": "西客站核心",
            "name_en": "West station core",
            "geometry": c.buffer(800),
        },
        {
            "element_id": "hy_node",
            "kind": "node",
            "name_zh": "节点",
            "name_en": "Node",
            "geometry": Point(c.x + 1500, c.y),
            "width_m": 600.0,
        },
    ]
    return PlanStructure.from_records(records, boundary=boundary), boundary


def test_second_district_with_other_element_counts_loads_and_validates():
    s, boundary = huaiyin_structure()
    assert len(s.cluster_ids) == 3
    assert s.kinds == ["cluster", "axis", "core", "node"]
    assert s.district.area == pytest.approx(boundary.area.sum(), rel=1e-12)
    # The node is a disc of diameter width_m.
    assert s.elements.loc["hy_node"].geometry.area == pytest.approx(np.pi * 300**2, rel=0.01)
    assert s.elements.loc["hy_node", "source_geometry"] == "point"


def test_tianqiao_structure_has_attributes_as_lists_and_a_district():
    s = datasets.tianqiao_structure()
    assert s.cluster_ids == [
        "smart_manufacturing",
        "hitech_innovation",
        "specialty_commerce",
        "high_end_services",
        "modern_agriculture",
    ]
    assert s.ids_of_kind("axis") == ["yellow_river_axis"]
    raw = json.loads(datasets.raw_path("plan_structure.geojson").read_text(encoding="utf-8"))
    by_id = {f["properties"]["element_id"]: f["properties"] for f in raw["features"]}
    carriers = s.list_attribute("carriers")
    for element_id, props in by_id.items():
        assert carriers[element_id] == props["carriers"].split(";")
    with pytest.raises(KeyError, match="no column 'nope'"):
        s.list_attribute("nope")


def test_round_trip_through_a_file_keeps_elements_and_attributes(tmp_path):
    s = datasets.tianqiao_structure()
    frame = s.to_frame()
    assert "source_geometry" not in frame.columns
    # the elements as drawn in the source file (independent read), not their buffers
    source = pyogrio.read_dataframe(datasets.raw_path("plan_structure.geojson"))
    assert set(frame.geom_type) == set(source.geom_type)
    path = tmp_path / "structure.gpkg"
    frame.to_file(path, driver="GPKG")
    again = io.read_structure(path)
    # A GeoPackage layer of polygons and multipolygons stores them all as multipolygons:
    # the same shapes, one more level of nesting.
    assert shapely.equals(again.elements.geometry.array, s.elements.geometry.array).all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.elements.drop(columns=["geometry", "source_geometry"], errors="ignore")),
        pd.DataFrame(s.elements.drop(columns=["geometry", "source_geometry"], errors="ignore")),
    )
    assert again.list_attribute("lead_industries") == s.list_attribute("lead_industries")
    # In memory the round trip is exact.
    assert_geodataframe_equal(PlanStructure.from_frame(frame).elements, s.elements)


def test_list_attributes_accept_several_separators():
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1)]
    frame = _frame(["a", "b", "c", "d"], ["cluster"] * 4, geoms)
    frame["lead_industries"] = ["甲、乙", '["甲", "乙"]', "甲；乙", None]
    s = PlanStructure.from_frame(frame)
    lists = s.list_attribute("lead_industries")
    assert lists == {"a": ["甲", "乙"], "b": ["甲", "乙"], "c": ["甲", "乙"], "d": []}
    assert s.elements["lead_industries"].astype(object).tolist()[:3] == ["甲;乙"] * 3


def test_geographic_layer_is_reprojected_and_widths_stay_metres():
    line = LineString([(500_000, 4_060_000), (501_000, 4_060_000)])
    frame = _frame(["axis"], ["axis"], [line], [100.0]).to_crs("EPSG:4326")
    s = PlanStructure.from_frame(frame)
    assert s.crs.to_epsg() == 4548
    assert s.elements.geometry.iloc[0].area == pytest.approx(100_000, rel=1e-3)


def test_elements_outside_the_district_are_named_with_their_share():
    district = box(0, 0, 1000, 1000)
    frame = _frame(
        ["inside", "half_out", "road_ok", "road_out"],
        ["cluster", "cluster", "belt", "belt"],
        [
            box(0, 0, 500, 500),
            box(500, 800, 700, 1200),
            LineString([(400, 900), (1300, 900)]),  # 600 of 900 m inside
            LineString([(700, 600), (1700, 600)]),  # 300 of 1000 m inside
        ],
        [None, None, 50.0, 50.0],
    )
    with pytest.raises(StructureError) as info:
        PlanStructure.from_frame(frame, boundary=district)
    message = str(info.value)
    assert "half_out (50.0 % inside" in message
    assert "road_out (30.0 % inside, expected at least 50 %)" in message
    assert "road_ok" not in message
    assert "inside (" not in message.replace("half_out (", "")
    # A corridor spilling out within the tolerance is accepted.
    ok = PlanStructure.from_frame(frame.iloc[[0, 2]], boundary=district)
    assert MIN_CORRIDOR_INSIDE_SHARE <= 2 / 3
    assert ok.district.equals(district)


def test_boundary_frame_in_another_crs_is_reprojected():
    district = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs="EPSG:4548")
    frame = _frame(["c"], ["cluster"], [box(10, 10, 990, 990)])
    s = PlanStructure.from_frame(frame).validate(district.to_crs("EPSG:4326"))
    assert s.district.area == pytest.approx(1e6, rel=1e-6)


def test_all_kinds_of_problem_in_one_error():
    frame = _frame(
        ["a", "a", "c", "line", "pt", None, "bad"],
        ["cluster", "belt", "cluster", "belt", "node", "cluster", ""],
        [
            box(0, 0, 10, 10),
            box(100, 100, 110, 110),
            box(5, 0, 15, 10),
            LineString([(0, 0), (1, 1)]),
            Point(3, 3),
            box(50, 50, 60, 60),
            shapely.Polygon([(20, 20), (30, 30), (30, 20), (20, 30)]),  # bow-tie
        ],
    )
    with pytest.raises(StructureError) as info:
        PlanStructure.from_frame(frame, boundary=box(0, 0, 20, 20))
    message = str(info.value)
    for expected in [
        "1 element(s) without an id (rows [5])",
        "duplicate element ids ['a']",
        "elements without a kind: ['bad']",
        "without a positive width_m: ['line', 'pt']",
        "invalid polygons: bad (Self-intersection",
        "clusters overlap: a and c share 50 m²",
        "elements outside the district: a (",
    ]:
        assert expected in message


def test_empty_layer_and_missing_crs_raise():
    with pytest.raises(StructureError, match="no elements"):
        PlanStructure.from_frame(_frame([], [], []))
    frame = _frame(["a"], ["cluster"], [box(0, 0, 1, 1)]).set_crs(None, allow_override=True)
    with pytest.raises(StructureError, match="no CRS"):
        PlanStructure.from_frame(frame)


def test_from_records_requires_geometry():
    with pytest.raises(StructureError, match=r"records without a geometry: \['x'\]"):
        PlanStructure.from_records([{"element_id": "x", "kind": "cluster"}])


def test_elements_frame_is_writable_as_is(tmp_path):
    # The pipeline writes structure.elements to a GeoPackage: every column must be writable.
    s = datasets.tianqiao_structure()
    s.elements.reset_index().to_file(tmp_path / "e.gpkg", driver="GPKG")
    back = gpd.read_file(tmp_path / "e.gpkg")  # noqa: TID251 - test reads what it wrote
    assert back["element_id"].tolist() == list(s.elements.index)
    assert isinstance(pd.Series(back["lead_industries"]).iloc[0], str)
