"""The working CRS comes from the settings everywhere: a run under another CGCS2000 CRS.

Readers, validation, assignment, the road network and PostGIS's SRID follow
``override(working_crs=...)``; areas are checked against geopandas computing them in
that CRS from the files themselves (an independent route: ``geopandas.read_file``,
``to_crs``, ``overlay``).
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from tqspatial import datasets, io
from tqspatial.assign import assign_parcels, overlap_table
from tqspatial.network import load_networks
from tqspatial.settings import override
from tqspatial.validate import validate_parcels

#: A window of 4 x 3 km of Tianqiao (EPSG:4548 metres) crossing four plan elements; a small run.
WINDOW_4548 = shapely.box(495_000, 4_066_000, 499_000, 4_069_000)


def _run(working: str):
    """Read, validate and assign the parcels of the window with ``working`` as working CRS."""
    with override(working_crs=working):
        boundary = io.read_vector(datasets.raw_path("tianqiao_boundary.geojson"), what="boundary")
        window = gpd.GeoSeries([WINDOW_4548], crs="EPSG:4548").to_crs(working).iloc[0]
        parcels = io.read_parcels(datasets.raw_path("parcels.gpkg"), boundary=boundary)
        parcels = parcels[parcels.intersects(window)]
        structure = io.read_structure(datasets.raw_path("plan_structure.geojson"))
        kept, _ = validate_parcels(parcels, boundary=boundary)
        assigned, _ = assign_parcels(kept, structure)
        overlaps = overlap_table(kept, structure.elements.geometry)
    return boundary, kept, assigned, structure, overlaps


@pytest.mark.parametrize("working", ["EPSG:4527", "EPSG:4549"])
def test_parcel_stages_follow_the_working_crs(working):
    boundary, kept, assigned, structure, overlaps = _run(working)
    target = pyproj.CRS.from_user_input(working)
    for layer in (boundary, kept, assigned, structure.elements):
        assert pyproj.CRS.from_user_input(layer.crs) == target
    assert len(kept) > 100
    # Independent: geopandas reads the same file and reprojects it; unrepaired parcels keep
    # exactly the area geopandas computes in the working CRS.
    raw = gpd.read_file(datasets.raw_path("parcels.gpkg")).to_crs(working)  # noqa: TID251
    raw_area = raw.set_index("parcel_id").area
    plain = kept[kept["repair"].fillna("") == ""]
    assert len(plain) > 100
    np.testing.assert_allclose(
        plain["area_m2"].to_numpy(), raw_area.reindex(plain["parcel_id"]).to_numpy(), rtol=1e-9
    )
    # Parcel x element areas equal a geopandas overlay in the working CRS.
    zones = structure.elements.reset_index()[["element_id", "geometry"]]
    ref = gpd.overlay(kept[["parcel_id", "geometry"]], zones, keep_geom_type=True)
    ref = ref.assign(overlap_m2=ref.area).groupby(["parcel_id", "element_id"])["overlap_m2"].sum()
    ours = overlaps.set_index(["parcel_id", "element_id"])["overlap_m2"]
    both = pd.concat([ours.rename("ours"), ref.rename("ref")], axis=1).fillna(0.0)
    both = both[(both["ours"] > 1e-6) | (both["ref"] > 1e-6)]
    assert len(both) > 50
    np.testing.assert_allclose(both["ours"], both["ref"], rtol=1e-9, atol=1e-6)


def test_zone_prefixed_crs_gives_the_same_areas_as_the_default():
    # EPSG:4527 is the default's zone (CM 117E) with 39 prefixed to eastings: same projection,
    # so every area agrees with the EPSG:4548 run to 1e-6 while every coordinate differs.
    _, kept_a, assigned_a, _, overlaps_a = _run("EPSG:4548")
    _, kept_b, assigned_b, _, overlaps_b = _run("EPSG:4527")
    assert kept_a["parcel_id"].tolist() == kept_b["parcel_id"].tolist()
    np.testing.assert_allclose(kept_a["area_m2"], kept_b["area_m2"], rtol=1e-6)
    assert assigned_a["cluster_id"].tolist() == assigned_b["cluster_id"].tolist()
    pairs = ["parcel_id", "element_id"]
    both = pd.concat(
        [overlaps_a.set_index(pairs)["overlap_m2"], overlaps_b.set_index(pairs)["overlap_m2"]],
        axis=1,
    ).fillna(0.0)  # a pair of sub-mm² contact may exist in one run only (floating point)
    assert len(both) > 400
    np.testing.assert_allclose(both.iloc[:, 0], both.iloc[:, 1], rtol=1e-6, atol=1e-6)
    shift = kept_b.geometry.centroid.x.to_numpy() - kept_a.geometry.centroid.x.to_numpy()
    np.testing.assert_allclose(shift, 39_000_000, atol=1e-3)


def test_road_network_is_projected_to_the_working_crs(tmp_path):
    # The bug of issue 15: under another working CRS the network stayed in EPSG:4548.
    with override(working_crs="EPSG:4527"):
        nets = load_networks(datasets.raw_path("roads.osm"), ("walk",), cache_dir=tmp_path)
    net = nets["walk"]
    assert pyproj.CRS.from_user_input(net.crs) == pyproj.CRS.from_user_input("EPSG:4527")
    # Independent: pyproj puts a node's 4548 easting into zone 39 (39,xxx,xxx m).
    assert 39_400_000 < float(np.median(net.x)) < 39_600_000
