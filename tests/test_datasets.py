"""The embedded dataset, checked against independent computations (pyproj, STRtree, networkx)."""

import networkx as nx
import numpy as np
import osmnx as ox
import pyogrio
import pyproj
import pytest
import shapely
from pyproj import Geod

from tqspatial import datasets, io

#: Parcels closer than this (m²) share only floating-point noise.
OVERLAP_TOLERANCE_M2 = 1e-6


def test_boundary_area_in_working_crs_and_on_the_ellipsoid(tianqiao):
    area_km2 = tianqiao.boundary.area.sum() / 1e6
    assert area_km2 == pytest.approx(259.2, abs=0.5)
    # Independent: geodesic area on the CGCS2000 ellipsoid from the original lon/lat file.
    raw = pyogrio.read_dataframe(datasets.raw_path("tianqiao_boundary.geojson"))
    geod = Geod(ellps="GRS80")
    geodesic = abs(geod.geometry_area_perimeter(raw.geometry.iloc[0])[0]) / 1e6
    # A Gauss-Krueger zone 0.1 deg from its central meridian inflates areas by < 0.01 %.
    assert area_km2 == pytest.approx(geodesic, rel=1e-4)


def test_parcels_many_inside_and_disjoint(tianqiao):
    parcels = tianqiao.parcels
    assert len(parcels) >= 10_000
    assert parcels["parcel_id"].is_unique
    assert parcels["synthetic"].all()
    district = tianqiao.boundary.geometry.union_all()
    geoms = parcels.geometry.to_numpy()
    # Coordinates are on a 1 cm grid: nothing lies more than 1 cm outside the district.
    assert shapely.within(geoms, district.buffer(0.01)).all()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    shared = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert shared.max() < OVERLAP_TOLERANCE_M2
    assert shapely.coverage_is_valid(geoms)


def test_parcels_cover_the_land_apart_from_roads_and_water(tianqiao):
    district = tianqiao.boundary.area.sum()
    land = tianqiao.parcels.area.sum()
    water = tianqiao.water[tianqiao.water["feature"] == "channel"].geometry.union_all()
    water_in = water.intersection(tianqiao.boundary.geometry.union_all()).area
    roads_and_slivers = district - land - water_in
    # Roads take 5-15 % of a district's land.
    assert 0.05 * district < roads_and_slivers < 0.15 * district


def test_parcels_look_like_a_land_inventory(tianqiao):
    p = tianqiao.parcels
    major = p["landuse_code"].str[:2]
    legacy = p["landuse_code"].str.match(r"^[A-Z]")
    assert 0.01 < legacy.mean() < 0.06  # some GB 50137 letter codes left in
    assert p["build_year"].isna().sum() > 0  # some missing build years
    built = p["far"] > 0
    assert (
        p.loc[built, "floor_area_m2"] == np.round(p.loc[built, "far"] * p.loc[built].area)
    ).mean() > 0.99
    # Old dense housing in the south, farmland in the north: compare mean northings.
    y = p.geometry.centroid.y
    assert y[major == "07"].median() < y[major == "01"].median()
    assert (
        p.loc[p["residents"] > 0, "landuse_code"].str[:2].isin(["07", "R1", "R2", "R3", "H1"])
    ).all()


def test_structure_has_one_axis_two_belts_five_disjoint_clusters(tianqiao):
    s = tianqiao.structure
    kinds = s.elements["kind"].value_counts().to_dict()
    assert kinds == {"cluster": 5, "belt": 2, "axis": 1}
    assert s.cluster_ids == [
        "smart_manufacturing",
        "hitech_innovation",
        "specialty_commerce",
        "high_end_services",
        "modern_agriculture",
    ]
    district = tianqiao.boundary.geometry.union_all()
    clusters = s.elements.loc[s.cluster_ids].geometry
    outside = clusters.difference(district).area
    # Vertices are rounded to 1 cm and stored in lon/lat: a millimetre-wide seam at most.
    assert (outside < 1e-6 * clusters.area).all()
    assert (s.elements["status"] == "indicative").all()


def test_rasters_are_synthetic_gtiffs_in_working_crs(tianqiao):
    flood = io.read_raster(tianqiao.flood_depth_path)
    pop = io.read_raster(tianqiao.population_path)
    for r in (flood, pop):
        assert r.crs == pyproj.CRS.from_epsg(4548)
        assert r.tags["synthetic"] == "true"
    assert pop.cell_area_m2 == 100 * 100
    # Population grid holds exactly the residents of the parcels.
    total = float(pop.values.sum())
    assert total == pytest.approx(float(tianqiao.parcels["residents"].sum()), rel=1e-4)
    # Deepest water is in the river channel, not in town.
    assert float(flood.values.max()) >= 4.0


def test_facilities_have_kinds_and_capacities(tianqiao):
    f = tianqiao.facilities
    assert {
        "primary_school",
        "middle_school",
        "kindergarten",
        "clinic",
        "hospital",
        "market",
        "park",
        "metro_station",
    } <= set(f["kind"])
    assert (f["capacity"] > 0).all()
    assert f["synthetic"].all()


@pytest.fixture(scope="module")
def road_graph(tianqiao):
    return ox.graph_from_xml(tianqiao.road_network_path, simplify=False, retain_all=True)


def test_osm_file_reads_with_osmnx_and_is_strongly_connected(road_graph):
    sizes = sorted((len(c) for c in nx.strongly_connected_components(road_graph)), reverse=True)
    assert sizes[0] / road_graph.number_of_nodes() > 0.97
    highway = {d["highway"] for _, _, d in road_graph.edges(data=True)}
    assert {"trunk", "primary", "secondary", "tertiary", "residential"} <= highway
    names = {d.get("name") for _, _, d in road_graph.edges(data=True)}
    assert {"济泺路", "北园大街", "二环北路"} <= names
    assert any(d.get("oneway") for _, _, d in road_graph.edges(data=True))


def test_yellow_river_is_crossed_only_at_bridges(tianqiao, road_graph):
    graph = ox.project_graph(road_graph, to_crs="EPSG:4548")
    channel = tianqiao.water.loc[tianqiao.water["name_en"].str.contains("Yellow River indicative")]
    water = channel.geometry.iloc[0].buffer(-1.0)
    crossing = [
        (u, v, d)
        for u, v, d in graph.edges(data=True)
        if shapely.LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
        ).intersects(water)
    ]
    assert crossing
    assert all(d.get("bridge") == "yes" or d.get("tunnel") == "yes" for _, _, d in crossing)
    # Independent check: without bridges and tunnels, no path joins the two banks.
    station = tianqiao.anchors.set_index("anchor_id").geometry
    south = ox.distance.nearest_nodes(graph, station["jinan_station"].x, station["jinan_station"].y)
    north = ox.distance.nearest_nodes(graph, station["sangzidian"].x, station["sangzidian"].y)
    assert nx.has_path(graph, south, north)
    cut = graph.copy()
    cut.remove_edges_from(
        [
            (u, v)
            for u, v, d in graph.edges(data=True)
            if d.get("bridge") == "yes" or d.get("tunnel") == "yes"
        ]
    )
    assert not nx.has_path(cut.to_undirected(as_view=True), south, north)


@pytest.mark.slow
def test_generator_is_deterministic_and_matches_committed_files(tmp_path):
    generated = ("synthetic", "indicative")
    for name, kind in datasets.RAW_FILES.items():
        if kind not in generated:
            (tmp_path / name).write_bytes(datasets.raw_path(name).read_bytes())
    written = datasets.build(tmp_path)
    fresh = io.read_parcels(written["parcels"])
    committed = io.read_parcels(datasets.raw_path("parcels.gpkg"))
    assert fresh.drop(columns="geometry").equals(committed.drop(columns="geometry"))
    assert shapely.equals_exact(fresh.geometry.to_numpy(), committed.geometry.to_numpy(), 0).all()
    for name, kind in datasets.RAW_FILES.items():
        if kind in generated:
            assert (tmp_path / name).read_bytes() == datasets.raw_path(name).read_bytes(), name
