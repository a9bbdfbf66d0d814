import geopandas as gpd
import pytest
from shapely.geometry import LineString, box

from tqspatial.structure import PlanStructure, StructureError


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
