"""Build a second district from files and a TOML only: 历下区 (Lixia, adcode 370102).

Everything here is synthetic except the boundary, which ``tqspatial init-profile`` extracts from
the embedded (real) districts layer.  The plan differs from Tianqiao's on purpose: one axis, one
belt, three clusters and a node; one river (示范河, invented) with a single bridge; a road grid
written as OSM XML; schools, clinics and parks on parcels.  The tests feed these files to
``tqspatial refresh --config`` exactly as a planner in Lixia would.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, Point, box

from tqspatial import io
from tqspatial.datasets._osm import write_osm_xml
from tqspatial.pipeline import init_profile

ADCODE = "370102"
NAME_ZH = "历下区"
#: Parcel grid cell (m) and road spacing (m).
CELL_M = 250.0
ROAD_SPACING_M = 500.0
RIVER_WIDTH_M = 60.0
CLUSTER_IDS = ("finance_hub", "tech_valley", "old_town")
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)


@dataclasses.dataclass(frozen=True)
class District:
    """Where the built files are."""

    folder: Path
    config: Path
    profile: Path
    boundary: gpd.GeoDataFrame
    structure: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    river: shapely.Geometry


def _boundary(folder: Path) -> gpd.GeoDataFrame:
    return io.read_districts(folder / "boundary.geojson")


def _structure(district: shapely.Geometry) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = district.bounds
    w, h = x1 - x0, y1 - y0
    cy = y0 + 0.5 * h
    core = district.buffer(-300.0)
    cells = [
        box(x0, y0, x0 + 0.35 * w, y1),
        box(x0 + 0.35 * w, y0, x0 + 0.65 * w, y1),
        box(x0 + 0.65 * w, y0, x1, y1),
    ]
    clusters = [shapely.intersection(core, c).buffer(-150.0) for c in cells]
    clusters = [max(getattr(c, "geoms", [c]), key=lambda g: g.area) for c in clusters]
    axis = LineString([(x0 + 0.05 * w, cy), (x1 - 0.05 * w, cy)])
    belt = LineString([(x0 + 0.5 * w, y0 + 0.1 * h), (x0 + 0.5 * w, y1 - 0.1 * h)])
    node = shapely.point_on_surface(clusters[1])
    return gpd.GeoDataFrame(
        {
            "element_id": ["river_axis", "culture_belt", *CLUSTER_IDS, "east_node"],
            # the kind column under one of its aliases, with Chinese values
            "类型": ["轴", "带", "组团", "组团", "组团", "节点"],
            "name_zh": [
                "示范河发展轴",
                "文化走廊带",
                "金融组团",
                "科创组团",
                "老城组团",
                "东部节点",
            ],
            "name_en": [
                "River axis",
                "Culture belt",
                "Finance hub",
                "Tech valley",
                "Old town",
                "East node",
            ],
            "width_m": [800.0, 600.0, None, None, None, 400.0],
            "lead_industries": ["", "", "金融;总部经济", "软件信息", "文旅;商贸", ""],
            "indicative": [True] * 6,
        },
        geometry=[axis, belt, *clusters, node],
        crs="EPSG:4548",
    )


def _river(district: shapely.Geometry) -> shapely.Geometry:
    x0, y0, x1, y1 = district.bounds
    y = y0 + 0.42 * (y1 - y0)
    line = LineString([(x0 - 1000, y - 300), (x1 + 1000, y + 300)])
    return line.buffer(RIVER_WIDTH_M / 2, cap_style="flat")


def _parcels(district: shapely.Geometry, river: shapely.Geometry, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = district.bounds
    xs = np.arange(x0, x1, CELL_M)
    ys = np.arange(y0, y1, CELL_M)
    cells = [box(x, y, x + CELL_M - 12, y + CELL_M - 12) for x in xs for y in ys]
    land = shapely.difference(district.buffer(-5.0), river.buffer(10.0))
    geoms = [shapely.intersection(c, land) for c in cells]
    geoms = [g for g in geoms if not g.is_empty and g.area > 2000]
    n = len(geoms)
    codes = rng.choice(
        ["070102", "090101", "1001", "0703", "2301", "080301"],
        size=n,
        p=[0.45, 0.2, 0.12, 0.08, 0.05, 0.10],
    )
    built = rng.integers(1965, 2022, size=n)
    far = np.round(rng.uniform(0.4, 3.5, size=n), 2)
    area = np.array([g.area for g in geoms])
    residents = np.where(codes == "070102", np.round(area * far / 100 * 2.7 * 0.9), 0)
    return gpd.GeoDataFrame(
        {
            "parcel_id": [f"LX{i:05d}" for i in range(n)],
            "landuse_code": codes,
            "build_year": built,
            "far": far,
            "coverage": np.round(rng.uniform(0.15, 0.5, size=n), 2),
            "floor_area_m2": np.round(area * far),
            "is_idle": codes == "2301",
            "residents": residents.astype(int),
            "jobs": np.where(codes == "070102", 0, np.round(area * far / 60)).astype(int),
            "synthetic": True,
        },
        geometry=geoms,
        crs="EPSG:4548",
    )


def _roads(folder: Path, district: shapely.Geometry, river: shapely.Geometry) -> Path:
    """A grid of streets; the river is crossed by one bridge only (the other ways stop)."""
    x0, y0, x1, y1 = district.buffer(600).bounds
    xs = np.arange(x0, x1 + 1, ROAD_SPACING_M)
    ys = np.arange(y0, y1 + 1, ROAD_SPACING_M)
    ids = {}
    rows = []
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            node_id = 1 + i * len(ys) + j
            lon, lat = TO_LONLAT.transform(x, y)
            ids[(i, j)] = node_id
            rows.append({"id": node_id, "lon": lon, "lat": lat, "x": x, "y": y})
    nodes = pd.DataFrame(rows)
    bridge_i = len(xs) // 2
    ways = []
    way_id = 1

    def crosses(a: tuple[int, int], b: tuple[int, int]) -> bool:
        seg = LineString([(xs[a[0]], ys[a[1]]), (xs[b[0]], ys[b[1]])])
        return bool(seg.intersects(river))

    for j in range(len(ys)):  # east-west streets
        for i in range(len(xs) - 1):
            a, b = (i, j), (i + 1, j)
            if crosses(a, b):
                continue
            tags = {"highway": "secondary" if j % 4 == 0 else "residential", "maxspeed": "40"}
            ways.append((way_id, [ids[a], ids[b]], tags))
            way_id += 1
    for i in range(len(xs)):  # north-south streets
        for j in range(len(ys) - 1):
            a, b = (i, j), (i, j + 1)
            tags = {"highway": "primary" if i == bridge_i else "residential", "maxspeed": "50"}
            if crosses(a, b):
                if i != bridge_i:
                    continue
                tags = {**tags, "bridge": "yes", "name": "示范河大桥", "layer": "1"}
            ways.append((way_id, [ids[a], ids[b]], tags))
            way_id += 1
    return write_osm_xml(
        folder / "roads.osm",
        nodes=nodes[["id", "lon", "lat"]],
        ways=ways,
        generator="tqspatial tests (synthetic Lixia grid)",
    )


def _facilities(parcels: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed + 1)
    pick = {
        "primary_school": 25,
        "kindergarten": 30,
        "卫生服务站": 20,  # the district's own kind name, mapped by the profile's kind_map
        "middle_school": 10,
        "park": 12,
    }
    rows = []
    for kind, count in pick.items():
        for k, i in enumerate(rng.choice(len(parcels), size=count, replace=False)):
            rows.append(
                {
                    "facility_id": f"{kind[:3]}{k:03d}",
                    "kind": kind,
                    "capacity": 60000.0 if kind == "park" else float(rng.integers(200, 1500)),
                    "parcel_id": parcels["parcel_id"].iloc[i],
                    "synthetic": True,
                    "geometry": shapely.point_on_surface(parcels.geometry.iloc[i]),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4548")


def _anchors(folder: Path, district: shapely.Geometry, river: shapely.Geometry) -> Path:
    centre = shapely.point_on_surface(shapely.difference(district, river.buffer(500)))
    hub = Point(centre.x + 1500, centre.y)
    rows = []
    for anchor_id, name_zh, name_en, role, p in (
        (
            "lixia_gov",
            "历下区政府（示意）",
            "Lixia government (indicative)",
            "district centre",
            centre,
        ),
        ("east_hub", "东部枢纽（示意）", "East hub (indicative)", "railway station", hub),
    ):
        lon, lat = TO_LONLAT.transform(p.x, p.y)
        rows.append(
            {
                "anchor_id": anchor_id,
                "name_zh": name_zh,
                "name_en": name_en,
                "role_in_plan": role,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "basis": "synthetic test anchor",
            }
        )
    path = folder / "anchors.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


PROFILE_BODY = """
[layers]
boundary = { path = "boundary.geojson", provenance = "real" }
districts = { path = "districts.geojson", provenance = "real" }
structure = { path = "plan_structure.gpkg", provenance = "indicative" }
parcels = { path = "parcels.gpkg", provenance = "synthetic" }
facilities = { path = "facilities.gpkg", provenance = "synthetic" }
roads = { path = "roads.osm", provenance = "synthetic" }
anchors = { path = "anchors.csv", provenance = "synthetic" }
water = { path = "water.gpkg", provenance = "synthetic", name_zh = "示范河", name_en = "Demo" }

[[constraints]]
name = "demo_river"
layer = "water"
where = { name_zh = { contains = "示范河" } }
buffer_m = 20.0
source = "water layer (示范河, synthetic) + 20 m setback (test assumption)"

[urban_area]
rule = "whole_district"
source = "the whole district lies in the central city (test assumption)"

[linkage]
anchors = ["lixia_gov", "east_hub"]
bridges = true

[snapping]
barriers = [{ layer = "water", where = { feature = "channel" } }]

[[capacity]]
lead_industry = "金融"
landuse_category = "*"
target_far = 4.5
shares = { office = 0.8, commercial = 0.2 }

[[capacity]]
lead_industry = "软件信息"
landuse_category = "*"
target_far = 3.0
shares = { office = 0.6, industry = 0.4 }

[facilities]
kind_map = { "卫生服务站" = "community_health_station" }

[maps]
focus_adcode = "370102"
measure = "walk_primary_school_min"
measure_zh = "步行至最近小学的时间"
measure_en = "Walking time to primary school"
measure_facility_kind = "primary_school"
credits = ["测试数据（合成）"]
"""

CONFIG_BODY = """
[inputs]
profile = "profile.toml"

[maps]
enabled = {maps}
dpi = 50

[output]
dir = "processed"

[changes]
enabled = {changes}
"""


def build_district(
    folder: Path, *, maps: bool = True, changes: bool = True, seed: int = 20261204
) -> District:
    """Write the second district's files, profile and config into ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        Target folder (created).
    maps : bool, default True
        Whether the config draws maps.
    changes : bool, default True
        Whether the refresh writes a change report against the previous inventory.
    seed : int
        Random seed of the synthetic attributes.

    Returns
    -------
    District
        Paths and the frames written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    init_profile(folder, ADCODE)
    boundary = _boundary(folder)
    district = shapely.union_all(boundary.geometry.to_numpy())
    river = _river(district)
    structure = _structure(district)
    io.write_layers(folder / "plan_structure.gpkg", {"structure": structure})
    water = gpd.GeoDataFrame(
        {"name_zh": ["示范河"], "feature": ["channel"], "synthetic": [True]},
        geometry=[shapely.intersection(river, district.buffer(1500))],
        crs="EPSG:4548",
    )
    io.write_layers(folder / "water.gpkg", {"water": water})
    parcels = _parcels(district, river, seed)
    io.write_layers(folder / "parcels.gpkg", {"parcels": parcels})
    io.write_layers(folder / "facilities.gpkg", {"facilities": _facilities(parcels, seed)})
    _roads(folder, district, river)
    _anchors(folder, district, river)
    profile = folder / "profile.toml"
    text = profile.read_text(encoding="utf-8")
    head = text.split("[layers]")[0]  # keep init-profile's [district] section
    profile.write_text(head + PROFILE_BODY, encoding="utf-8")
    tomllib.loads(profile.read_text(encoding="utf-8"))
    config = folder / "tqspatial.toml"
    body = CONFIG_BODY.replace("{maps}", "true" if maps else "false")
    body = body.replace("{changes}", "true" if changes else "false")
    config.write_text(body, encoding="utf-8")
    return District(
        folder=folder,
        config=config,
        profile=profile,
        boundary=boundary,
        structure=structure,
        parcels=parcels,
        river=river,
    )
