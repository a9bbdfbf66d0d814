"""Constraint areas: overlap rule, raster fractions against independent computations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Polygon, box

import tqspatial as tq
from tqspatial import io
from tqspatial.constraints import (
    RasterConstraint,
    VectorConstraint,
    constrained_areas,
    constraint_polygons,
    summarise_constraints,
)
from tqspatial.district import build_constraints
from tqspatial.errors import ConfigError, CRSError, SchemaError

CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 4_060_000.0


def gs(*geoms):
    return gpd.GeoSeries(list(geoms), crs=CRS)


def test_overlapping_constraints_count_union_once(grid9):
    # Two overlapping discs and a strip; the union is checked against geopandas.overlay.
    a = VectorConstraint("a", gs(shapely.Point(X0 + 120, Y0 + 150)), buffer_m=90)
    b = VectorConstraint("b", gs(box(X0 + 100, Y0, X0 + 180, Y0 + 300)))
    c = VectorConstraint("c", gs(LineString([(X0, Y0 + 250), (X0 + 300, Y0 + 250)])), buffer_m=20)
    out = constrained_areas(grid9, [a, b, c])

    cons = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(X0 + 120, Y0 + 150).buffer(90),
            box(X0 + 100, Y0, X0 + 180, Y0 + 300),
            LineString([(X0, Y0 + 250), (X0 + 300, Y0 + 250)]).buffer(20),
        ],
        crs=CRS,
    )
    dissolved = cons.dissolve()
    inter = gpd.overlay(grid9, dissolved, how="intersection", keep_geom_type=True)
    expected = inter.set_index("parcel_id").area.reindex(grid9["parcel_id"]).fillna(0.0)
    np.testing.assert_allclose(out["constrained_m2"].to_numpy(), expected.to_numpy(), atol=1e-6)
    # Each constraint alone, also via overlay.
    for name, row in zip("abc", range(3), strict=True):
        single = gpd.overlay(grid9, cons.iloc[[row]], how="intersection", keep_geom_type=True)
        exp = single.set_index("parcel_id").area.reindex(grid9["parcel_id"]).fillna(0.0)
        np.testing.assert_allclose(
            out[f"constrained_{name}_m2"].to_numpy(), exp.to_numpy(), atol=1e-6
        )
    # Overlaps exist, so the per-constraint sum exceeds the union somewhere; never below it.
    per = out[["constrained_a_m2", "constrained_b_m2", "constrained_c_m2"]].sum(axis=1)
    assert (per >= out["constrained_m2"] - 1e-6).all()
    assert (per > out["constrained_m2"] + 1.0).any()
    np.testing.assert_allclose(out["net_area_m2"] + out["constrained_m2"], grid9.area)


def test_identical_constraints_do_not_double_count(grid9):
    strip = gs(box(X0, Y0, X0 + 50, Y0 + 300))
    out = constrained_areas(grid9, [VectorConstraint("a", strip), VectorConstraint("b", strip)])
    assert out["constrained_m2"].sum() == pytest.approx(50 * 300)
    assert out["constrained_a_m2"].sum() + out["constrained_b_m2"].sum() == pytest.approx(30_000)


def test_vector_and_raster_union(grid9):
    # Raster of 50 m cells over the grid; two cells above threshold, one masked (nodata).
    values = np.zeros((6, 6))
    values[5, 0] = 2.0  # bottom-left cell: x 0-50, y 0-50
    values[5, 1] = 2.0  # x 50-100, y 0-50
    values[0, 0] = 9.0  # top-left but masked
    mask = np.zeros_like(values, dtype=bool)
    mask[0, 0] = True
    transform = Affine(50, 0, X0, 0, -50, Y0 + 300)
    raster = RasterConstraint("flood", np.ma.masked_array(values, mask=mask), transform, 1.0)
    # A vector covering the first of those cells and more.
    vec = VectorConstraint("v", gs(box(X0, Y0, X0 + 30, Y0 + 100)))
    out = constrained_areas(grid9, [raster, vec]).set_index(grid9["parcel_id"])
    # p00 = x 0-100, y 0-100: raster 2 cells (5000) ∪ vector 30x100 (3000), overlap 30x50 = 1500.
    assert out.loc["p00", "constrained_flood_m2"] == pytest.approx(5000)
    assert out.loc["p00", "constrained_v_m2"] == pytest.approx(3000)
    assert out.loc["p00", "constrained_m2"] == pytest.approx(6500)
    # The masked cell at the top-left (p20) is not constrained.
    assert out.loc["p20", "constrained_m2"] == 0.0


def test_raster_fractions_against_fine_rasterisation():
    # 10 m cells, random depths; a triangle parcel cutting cells diagonally.
    rng = np.random.default_rng(5)
    values = np.ma.masked_array(rng.uniform(0, 2, size=(8, 8)))
    transform = Affine(10, 0, X0, 0, -10, Y0 + 80)
    parcel = Polygon([(X0 + 3, Y0 + 2), (X0 + 77, Y0 + 11), (X0 + 31, Y0 + 74)])
    frame = gpd.GeoDataFrame(geometry=[parcel], crs=CRS)
    got = constrained_areas(frame, [RasterConstraint("d", values, transform, 1.0)])
    # Independent: sample the parcel at 0.1 m and look up each sample's cell value.
    res = 0.1
    xs = np.arange(X0 + res / 2, X0 + 80, res)
    ys = np.arange(Y0 + res / 2, Y0 + 80, res)
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(parcel, gx, gy)
    col = ((gx - X0) // 10).astype(int)
    row = ((Y0 + 80 - gy) // 10).astype(int)
    deep = np.asarray(values)[row, col] > 1.0
    fine = float((inside & deep).sum()) * res * res
    # Error of the fine count is about perimeter * res / 2 at most.
    assert got["constrained_m2"].iloc[0] == pytest.approx(fine, abs=parcel.length * res / 2)
    assert 0 < fine < parcel.area


def test_raster_fractions_against_exactextract(tianqiao):
    raster = io.read_raster(tianqiao.flood_depth_path)
    threshold = 0.5
    cons = RasterConstraint.from_raster(raster, name="flood", threshold=threshold)
    parcels = tianqiao.parcels
    sample = parcels.iloc[::40].reset_index(drop=True)
    got = constrained_areas(sample, [cons])["constrained_m2"].to_numpy()

    # Independent: exactextract coverage-weighted sum of the 0/1 "deeper than threshold" raster.
    t = raster.transform
    rows, cols = raster.values.shape
    binary = cons.cell_mask().astype(np.float64)
    src = NumPyRasterSource(binary, t.c, t.f + rows * t.e, t.c + cols * t.a, t.f)
    table = exact_extract(src, sample[["geometry"]], "sum", output="pandas")
    expected = table["sum"].to_numpy() * raster.cell_area_m2
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0.05)
    assert (expected > 0).sum() >= 10  # the sample really crosses flooded cells
    # Partial cells matter: the exact result differs from counting cell centres inside parcels.
    assert ((expected > 0) & (expected < sample.area.to_numpy() - 1)).any()


def test_constraint_areas_equal_a_geopandas_overlay(tianqiao):
    cons = [
        c for c in tq.datasets.tianqiao_context(tianqiao).constraints if c.name != "flood_depth"
    ]
    sample = tianqiao.parcels.iloc[::25]
    got = constrained_areas(sample, cons)
    union = gpd.GeoDataFrame(
        geometry=[shapely.union_all([constraint_polygons(c) for c in cons])], crs=sample.crs
    )
    pieces = gpd.overlay(sample.reset_index()[["index", "geometry"]], union, how="intersection")
    expected = pieces.assign(a=pieces.area).groupby("index")["a"].sum()
    expected = expected.reindex(sample.index, fill_value=0.0)
    np.testing.assert_allclose(got["constrained_m2"], expected, atol=1e-6)
    assert (got["constrained_m2"] > 0).sum() >= 10  # the sample really meets the rivers


def test_no_constraints_gives_zero(grid9):
    out = constrained_areas(grid9, [])
    assert out["constrained_m2"].eq(0).all()
    np.testing.assert_allclose(out["net_area_m2"], 10_000)


def test_lines_without_buffer_raise():
    c = VectorConstraint("road", gs(LineString([(X0, Y0), (X0 + 10, Y0)])))
    with pytest.raises(ConfigError, match="positive buffer_m"):
        constraint_polygons(c)


def test_duplicate_names_raise(grid9):
    c = VectorConstraint("x", gs(box(X0, Y0, X0 + 1, Y0 + 1)))
    with pytest.raises(ConfigError, match="repeated"):
        constrained_areas(grid9, [c, c])


def test_constraint_in_other_crs_raises(grid9):
    c = VectorConstraint("x", gs(box(X0, Y0, X0 + 1, Y0 + 1)).to_crs("EPSG:4527"))
    with pytest.raises(CRSError, match="to_crs"):
        constrained_areas(grid9, [c])


def test_geographic_parcels_raise(grid9):
    with pytest.raises(SchemaError, match="geographic"):
        constrained_areas(grid9.to_crs("EPSG:4490"), [])


def test_profile_constraints_are_built_from_the_named_rows(tianqiao):
    layers = {"water": tianqiao.water, "flood_depth": object_with_raster(tianqiao)}
    cons = build_constraints(tianqiao.profile, layers)
    assert [c.name for c in cons] == ["yellow_river", "xiaoqing_river", "flood_depth"]
    water = tianqiao.water
    expected = water[water["name_zh"].str.contains("小清河")]
    assert cons[1].geometry.index.tolist() == expected.index.tolist()
    assert cons[1].buffer_m == 30.0
    with pytest.raises(
        SchemaError, match=r"xiaoqing_river: layer 'water' rows where .* select nothing"
    ):
        build_constraints(tianqiao.profile, {**layers, "water": water.iloc[:1]})
    with pytest.raises(SchemaError, match="flood_depth: layer 'flood_depth' was not read"):
        build_constraints(tianqiao.profile, {"water": water})


def object_with_raster(tianqiao):
    return io.read_raster(tianqiao.flood_depth_path)


def test_summarise_constraints_per_group(grid9):
    a = VectorConstraint("a", gs(box(X0, Y0, X0 + 150, Y0 + 300)))
    b = VectorConstraint("b", gs(box(X0 + 100, Y0, X0 + 200, Y0 + 300)))
    frame = grid9.join(constrained_areas(grid9, [a, b]))
    frame["group"] = ["left" if pid.endswith("0") else "rest" for pid in frame["parcel_id"]]
    table = summarise_constraints(frame, by="group").set_index(["group", "constraint"])
    # Left column (x 0-100): a covers all 3 ha, b none.
    assert table.loc[("left", "a"), "area_ha"] == pytest.approx(3.0)
    assert table.loc[("left", "b"), "area_ha"] == pytest.approx(0.0)
    # Rest (x 100-300): a 50 m x 300 m, b 100 m x 300 m, union 100 m x 300 m.
    assert table.loc[("rest", "a"), "area_ha"] == pytest.approx(1.5)
    assert table.loc[("rest", "all (union)"), "area_ha"] == pytest.approx(3.0)
    only_left = summarise_constraints(frame, rows=frame["group"] == "left")
    assert only_left.set_index("constraint").loc["all (union)", "area_ha"] == pytest.approx(3.0)


boxes = st.tuples(
    st.floats(-50, 250), st.floats(-50, 250), st.floats(1, 200), st.floats(1, 200)
).map(lambda t: box(X0 + t[0], Y0 + t[1], X0 + t[0] + t[2], Y0 + t[1] + t[3]))


@settings(max_examples=30, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=4))
def test_union_bounds_property(rects):
    parcels = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 200, Y0 + 200)], crs=CRS)
    cons = [VectorConstraint(f"c{i}", gs(r)) for i, r in enumerate(rects)]
    out = constrained_areas(parcels, cons).iloc[0]
    singles = [out[f"constrained_c{i}_m2"] for i in range(len(rects))]
    expected = shapely.union_all(rects).intersection(parcels.geometry.iloc[0]).area
    assert out["constrained_m2"] == pytest.approx(expected, abs=1e-6)
    assert max(singles) - 1e-6 <= out["constrained_m2"] <= sum(singles) + 1e-6
    assert out["net_area_m2"] == pytest.approx(40_000 - expected, abs=1e-6)
