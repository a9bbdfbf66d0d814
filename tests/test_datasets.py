"""The embedded dataset, checked against public figures and independent computations.

The public figures are read from ``tqspatial/datasets/data/calibration.csv`` (the table the
data README renders, checked below), so a figure cannot differ between the tests and the README.
Independent tools: pyproj geodesic areas, STRtree overlaps, networkx path lengths,
osmnx + scipy KD-tree node distances, a geopandas point-in-polygon join of the real
OpenStreetMap stations.
"""

import csv

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

from tqspatial import accessibility as acc
from tqspatial import datasets, io, lifecircle, network

#: Parcels closer than this (m²) share only floating-point noise.
OVERLAP_TOLERANCE_M2 = 1e-6
#: GB/T 4754-2017 manufacturing divisions (门类 C: 大类 13-43).
MANUFACTURING = {f"{d}" for d in range(13, 44)}
#: 2023 land-use majors of land that really has no roads: cropland, orchards, agricultural
#: facilities, forest, grassland, wetland, water.
ROADLESS_MAJORS = ("01", "02", "03", "04", "05", "06", "17")
#: Land-use code of each facility kind's parcel (2023 code, GB 50137 letter code).
FACILITY_PARCEL_CODES = {
    "primary_school": {"080403", "A33"},
    "middle_school": {"080403", "A33"},
    "kindergarten": {"080404"},
    "community_health_center": {"080602"},
    "community_health_station": {"0702"},
    "community_service_station": {"0702"},
    "elderly_care_home": {"080701"},
    "culture_center": {"080302"},
    "fresh_market": {"090101", "B1"},
    "general_hospital": {"080601", "A51"},
    "park": {"1401", "G1"},
}
TEAM_KINDS = set(FACILITY_PARCEL_CODES) | {"metro_station", "rail_station"}


@pytest.fixture(scope="module")
def calibration():
    with datasets.raw_path("calibration.csv").open(encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh)}


def render_calibration(rows) -> str:
    """The Markdown table of ``calibration.csv`` that the dataset's README.md must contain."""
    lines = [
        "| figure | public value | unit | check | year | source | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows.values():
        value = r["public_value"] or f"{r['public_min']}–{r['public_max']}"
        check = r["check"] + (f" {r['tolerance']}" if r["tolerance"] else "")
        if r["kinds"]:
            check += f" ({r['kinds'].replace(';', ', ')})"
        source = r["source"] + (f" <{r['url']}>" if r["url"] else "")
        lines.append(
            f"| {r['figure']} | {value} | {r['unit']} | {check} | {r['year']} | {source} "
            f"| {r['status']} |"
        )
    return "\n".join(lines) + "\n"


def test_readme_renders_the_calibration_table(calibration):
    readme = (datasets.raw_dir() / "README.md").read_text(encoding="utf-8")
    assert render_calibration(calibration) in readme


def _value(row) -> float:
    return float(row["public_value"])


def test_boundary_area_in_working_crs_and_on_the_ellipsoid(tianqiao, calibration):
    area_km2 = tianqiao.boundary.area.sum() / 1e6
    row = calibration["district_area_km2"]
    assert area_km2 == pytest.approx(_value(row), rel=float(row["tolerance"]))
    # Independent: geodesic area on the CGCS2000 ellipsoid from the original lon/lat file.
    raw = pyogrio.read_dataframe(datasets.raw_path("tianqiao_boundary.geojson"))
    geod = Geod(ellps="GRS80")
    geodesic = abs(geod.geometry_area_perimeter(raw.geometry.iloc[0])[0]) / 1e6
    # A Gauss-Krueger zone 0.1 deg from its central meridian inflates areas by < 0.01 %.
    assert area_km2 == pytest.approx(geodesic, rel=1e-4)


def test_residents_match_the_2020_census(tianqiao, calibration):
    row = calibration["residents_total"]
    residents = int(tianqiao.parcels["residents"].sum())
    assert residents == pytest.approx(_value(row), rel=float(row["tolerance"]))
    # Residents live on housing land only (2023 07xx or legacy R/H codes).
    homes = tianqiao.parcels.loc[tianqiao.parcels["residents"] > 0, "landuse_code"]
    assert homes.str.match(r"^(07|R[123]|H1)").all()


def test_households_and_dwellings_match_persons_per_household(tianqiao, calibration):
    row = calibration["persons_per_household"]
    p = tianqiao.parcels
    ratio = p["residents"].sum() / p["households"].sum()
    assert ratio == pytest.approx(_value(row), abs=float(row["tolerance"]))
    # Per parcel too (rounding aside), and never more households than dwellings.
    housed = p[p["residents"] >= 100]
    per_parcel = housed["residents"] / housed["households"]
    assert per_parcel.between(_value(row) - 0.1, _value(row) + 0.1).all()
    assert (p["dwellings"] >= p["households"]).all()
    assert ((p["households"] > 0) == (p["residents"] > 0)).all()


def test_fifteen_subdistricts_named_and_covering_every_parcel(tianqiao, calibration):
    names = tianqiao.parcels["subdistrict"]
    assert names.nunique() == int(_value(calibration["subdistricts"]))
    assert names.str.endswith("街道").all()
    assert not names.str.endswith("镇").any()
    # The north-bank 街道 hold the farmland, the south-bank ones the dense housing.
    y = tianqiao.parcels.geometry.centroid.y
    north = y.groupby(names).median().nlargest(2).index
    assert set(north) == {"桑梓店街道", "大桥街道"}


@pytest.mark.parametrize("level", ["15min", "10min", "5min"])
def test_facility_counts_follow_the_standard_service_populations(tianqiao, calibration, level):
    row = calibration[f"service_population_{level}"]
    residents = float(tianqiao.parcels["residents"].sum())
    lo, hi = float(row["public_min"]), float(row["public_max"])
    kinds = tianqiao.facilities["kind"].value_counts()
    for kind in row["kinds"].split(";"):
        # One per circle of lo..hi residents: between residents/hi and residents/lo of them.
        assert residents / hi <= kinds.get(kind, 0) <= residents / lo, kind


def test_schools_recomputed_from_the_files(tianqiao, calibration):
    f = tianqiao.facilities
    schools = f[f["kind"].isin(["primary_school", "middle_school"])]
    residents = float(tianqiao.parcels["residents"].sum())
    primary = calibration["service_population_10min"]
    middle = calibration["service_population_15min"]
    expected_min = residents / float(primary["public_max"]) + residents / float(
        middle["public_max"]
    )
    expected_max = residents / float(primary["public_min"]) + residents / float(
        middle["public_min"]
    )
    assert expected_min <= len(schools) <= expected_max
    # Pupils per 1,000 residents in a plausible range (planning rates are 50-120).
    assert 40 <= schools["capacity"].sum() / residents * 1000 <= 150


@pytest.mark.parametrize("level", ["15min", "10min", "5min"])
def test_parks_of_the_sizes_the_life_circles_need(tianqiao, calibration, level):
    need = _value(calibration[f"park_min_area_{level}"])
    parks = tianqiao.facilities[tianqiao.facilities["kind"] == "park"]
    assert (parks["capacity"] >= need).sum() >= 2
    # A park's capacity is the area of the parcels it stands on (one or several).
    parcels = tianqiao.parcels.set_index("parcel_id")
    biggest = parks.loc[parks["capacity"].idxmax()]
    assert parcels.loc[biggest["parcel_id"]].geometry.area <= biggest["capacity"] + 1e-6


def test_every_facility_stands_on_a_parcel_of_its_use(tianqiao):
    f = tianqiao.facilities
    assert set(f["kind"]) == TEAM_KINDS
    assert (f["capacity"] > 0).all()
    synthetic = f[f["synthetic"]]
    codes = tianqiao.parcels.set_index("parcel_id")["landuse_code"]
    on = codes.reindex(synthetic["parcel_id"]).to_numpy()
    ok = [c in FACILITY_PARCEL_CODES[k] for k, c in zip(synthetic["kind"], on, strict=True)]
    assert all(ok)
    pts = gpd.GeoSeries(synthetic.geometry.to_numpy(), crs=f.crs)
    under = tianqiao.parcels.set_index("parcel_id").geometry.reindex(synthetic["parcel_id"])
    assert shapely.covers(under.to_numpy(), pts.to_numpy()).all()


def test_stations_are_the_real_osm_stations_with_attribution(tianqiao, calibration):
    f = tianqiao.facilities
    real = f[~f["synthetic"]]
    assert set(real["kind"]) == {"metro_station", "rail_station"}
    assert (real["provenance"] == "real").all()
    assert real["attribution"].str.contains("© OpenStreetMap contributors").all()
    assert real["attribution"].str.contains("ODbL").all()
    assert (f.loc[f["synthetic"], "provenance"] == "synthetic").all()
    assert len(real) == int(_value(calibration["rail_metro_stations"]))
    # Independent: a point-in-polygon join of the OSM file against the boundary.
    osm = pyogrio.read_dataframe(datasets.raw_path("jinan_rail_metro_stations_osm.geojson"))
    inside = gpd.sjoin(osm.to_crs(4548), tianqiao.boundary[["geometry"]], predicate="within")
    assert len(inside) == len(real)
    assert sorted(inside["station"].map({"subway": "metro_station", "train": "rail_station"})) == (
        sorted(real["kind"])
    )
    d = shapely.distance(
        real.geometry.to_numpy()[:, None], inside.geometry.to_numpy()[None, :]
    ).min(axis=1)
    assert (d < 0.01).all()


def test_parcels_within_reach_of_the_road_network(tianqiao, calibration):
    graph = ox.graph_from_xml(tianqiao.road_network_path, simplify=True, retain_all=True)
    nodes = ox.graph_to_gdfs(graph, edges=False).to_crs(4548)
    tree = cKDTree(np.column_stack([nodes.geometry.x, nodes.geometry.y]))
    p = tianqiao.parcels
    pts = p.geometry.representative_point()
    dist, _ = tree.query(np.column_stack([pts.x, pts.y]))
    roadless = p["landuse_code"].str[:2].isin(ROADLESS_MAJORS).to_numpy()
    far = (dist > acc.DEFAULT_MAX_SNAP_M) & ~roadless
    assert far.mean() <= _value(calibration["parcels_beyond_road_reach"])
    assert (dist[~roadless] <= 100).mean() >= _value(calibration["parcels_within_100m"])


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
    y = p.geometry.centroid.y
    river_y = tianqiao.anchors.set_index("anchor_id").geometry["luokou_bridge"].y
    # Farmland north of the river, urban villages (0703) on the south bank too, markets
    # (090102) at Luokou.
    assert y[major == "07"].median() < y[major == "01"].median()
    assert (y[major == "01"] > river_y).mean() > 0.8
    villages_south = p["landuse_code"].str.startswith("0703") & (y < river_y)
    assert villages_south.sum() >= 20
    luokou = tianqiao.anchors.set_index("anchor_id").geometry["luokou"]
    markets = p[p["landuse_code"] == "090102"]
    assert markets.geometry.centroid.distance(luokou).median() < 2000


def test_built_form_plausible_for_jinan(tianqiao):
    p = tianqiao.parcels
    housing = p[p["landuse_code"].isin(["070101", "070102", "070103"]) & p["far"].notna()]
    # Walk-ups at FAR ~1.5-2, post-2000 estates ~2.5-3: the README's assumptions.
    assert 1.4 <= housing["far"].median() <= 2.6
    assert housing["far"].max() <= 6.0
    floor = housing["floor_area_m2"]
    old = floor[housing["build_year"] < 2000].sum() / floor[housing["build_year"].notna()].sum()
    assert 0.3 <= old <= 0.7
    assert p["build_year"].dropna().between(1950, 2024).all()


def test_industry_codes_follow_the_lead_industries(tianqiao):
    p = tianqiao.parcels
    code = p["industry_code"]
    industrial = p["landuse_code"].str.match(r"^(10|M[123])")
    assert code[industrial].notna().all()
    assert code[~industrial].isna().all()
    assert set(code.dropna()) <= MANUFACTURING
    # The New Materials park (新型智造组团): new functional materials and equipment divisions.
    cluster = tianqiao.structure.elements.loc["smart_manufacturing"].geometry
    inside = industrial & p.geometry.representative_point().within(cluster)
    lead = {"26", "29", "30", "32", "34", "35", "38", "39"}
    assert inside.sum() >= 20
    assert code[inside].isin(lead).mean() >= 0.8


def test_structure_has_one_axis_two_belts_five_disjoint_irregular_clusters(tianqiao):
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
    elements = s.elements
    clusters = elements.loc[s.cluster_ids].geometry
    outside = clusters.difference(district).area
    # Vertices are rounded to 1 cm and stored in lon/lat: a millimetre-wide seam at most.
    assert (outside < 1e-6 * clusters.area).all()
    assert (elements["status"] == "indicative").all()
    assert elements["indicative"].astype(bool).all()
    # Not circles: a disc has isoperimetric quotient 1 (the old disc-shaped Luokou cluster had
    # 0.92, a regular hexagon has 0.91, a square 0.785); drawn outlines are below 0.85.
    geoms = elements.geometry
    quotient = 4 * np.pi * geoms.area / geoms.length**2
    assert (quotient < 0.85).all()


def test_corridors_follow_their_features(tianqiao):
    e = tianqiao.structure.elements.geometry
    district = tianqiao.boundary.geometry.union_all()
    river = tianqiao.rivers[tianqiao.rivers["feature"] == "water_polygon"].geometry.union_all()
    river_in = river.intersection(district)
    assert e["yellow_river_axis"].intersection(river_in).area > 0.9 * river_in.area
    anchors = tianqiao.anchors.set_index("anchor_id").geometry
    for name in ("jinan_station", "jiluo_south", "jiluo_mid", "jiluo_north", "luokou"):
        assert e["jiluo_road_belt"].contains(anchors[name]), name
    water = tianqiao.water.set_index("name_en").geometry
    xiaoqing = water["Xiaoqing River (indicative)"].intersection(district)
    assert e["xiaoqing_river_belt"].intersection(xiaoqing).area > 0.95 * xiaoqing.area


def test_rasters_are_synthetic_gtiffs_in_working_crs(tianqiao, calibration):
    flood = io.read_raster(tianqiao.flood_depth_path)
    pop = io.read_raster(tianqiao.population_path)
    for r in (flood, pop):
        assert r.crs == pyproj.CRS.from_epsg(4548)
        assert r.tags["synthetic"] == "true"
    assert pop.cell_area_m2 == 100 * 100
    # Population grid holds exactly the residents of the parcels: the census total.
    total = float(pop.values.sum())
    assert total == pytest.approx(float(tianqiao.parcels["residents"].sum()), rel=1e-4)
    row = calibration["residents_total"]
    assert total == pytest.approx(_value(row), rel=float(row["tolerance"]))
    # Deepest water is in the river channel, not in town.
    assert float(flood.values.max()) >= 4.0


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


def test_life_circle_coverage_is_partial_and_matches_networkx(tianqiao, tmp_path):
    walk = network.load_network(tianqiao.road_network_path, mode="walk", cache=False)
    barriers = datasets.tianqiao_barriers(tianqiao)
    homes = tianqiao.parcels[tianqiao.parcels["residents"] > 0]
    ps = acc.snap_points(homes, walk, barriers=barriers)
    fs = acc.snap_points(tianqiao.facilities, walk, barriers=barriers).join(
        tianqiao.facilities[["kind", "capacity"]]
    )
    cov = acc.life_circle_coverage(walk, ps, fs)
    # Independent: networkx Dijkstra on the reversed network from a super-source joined to
    # every qualifying facility by its connector.
    rev = nx.DiGraph()
    src = np.repeat(np.arange(walk.n_nodes), np.diff(walk.indptr))
    rev.add_weighted_edges_from(
        zip(walk.indices.tolist(), src.tolist(), walk.length_m.tolist(), strict=True)
    )
    snapped = (ps["node"] >= 0).to_numpy()
    weights = homes["residents"].to_numpy(dtype=float)
    for level, reqs in lifecircle.LIFE_CIRCLE_REQUIREMENTS.items():
        covered = snapped.copy()
        for _, kind, min_cap in reqs:
            ok = (fs["kind"] == kind) & (fs["node"] >= 0)
            if min_cap is not None:
                ok &= fs["capacity"] >= min_cap
            g = rev.copy()
            for node, conn in zip(fs.loc[ok, "node"], fs.loc[ok, "connector_m"], strict=True):
                g.add_edge("source", int(node), weight=float(conn))
            d = nx.single_source_dijkstra_path_length(g, "source")
            dist = np.array([d.get(int(n), np.inf) for n in ps["node"]]) + ps["connector_m"]
            covered &= (
                np.nan_to_num(dist.to_numpy(), nan=np.inf)
                <= lifecircle.LIFE_CIRCLE_DISTANCE_M[level]
            )
        ours = cov[f"lc_{level}_covered"].to_numpy()
        assert np.array_equal(ours[snapped] == 1.0, covered[snapped]), level
        share = np.average(covered, weights=weights)
        assert 0.0 < share < 1.0, (level, share)


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


def test_calibration_table_is_what_the_generator_reads(calibration):
    from tqspatial.datasets import _services

    cal = _services.Calibration.read(datasets.raw_path("calibration.csv"))
    assert cal.residents == int(_value(calibration["residents_total"]))
    assert cal.persons_per_household == _value(calibration["persons_per_household"])
    frame = pd.DataFrame(calibration.values())
    assert frame["status"].str.len().gt(0).all()
    assert frame["source"].str.len().gt(10).all()
