"""Deterministic generator of the synthetic layers of the embedded Tianqiao dataset.

Run ``python -m tqspatial.datasets build``.  The real layers (district
boundaries, the 1:4M Yellow River, locality anchors) are read from
``data/raw``; everything written here is synthetic and says so in its
attributes (``synthetic = True``) or tags.  The same seed gives the same
files.

How the district is laid out (all positions indicative):

* An *indicative Yellow River channel* (500 m wide) follows the 1:4M river
  but is placed so that it passes under the Luokou railway bridge and keeps
  Que Hill on the north bank; the 1:4M polygon lies ~0.5-1 km south of the
  real channel there.  A floodplain band (滩区) lies between the levees.
* Roads form a jittered grid: arterials every ~1 km, tertiary roads every
  ~500 m, residential streets every ~250 m on the urban south bank; a coarse
  rural grid on the north bank; the Yellow River is crossed only at four
  named bridges/tunnels.
* Parcels are the land between roads and water, cut into plots whose size
  and land use depend on the locality: dense old housing in the south,
  specialty markets at Luokou, industry at Yaoshan/Huanggang and around the
  New Materials Industrial Park, villages and farmland north of the river.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from affine import Affine
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from tqspatial import io
from tqspatial.crs import WORKING_CRS
from tqspatial.datasets._osm import write_osm_xml

logger = logging.getLogger(__name__)

SEED = 20261124
GENERATOR = f"tqspatial synthetic generator v1 (seed {SEED})"

# ----------------------------------------------------------------------------- geography

#: Indicative Yellow River centre line, EPSG:4548 metres, west to east then north-east.
#: Derived from the 1:4M water polygon, moved north near Luokou so that the channel passes
#: the Luokou railway bridge (117.0006E 36.7261N) with Que Hill on the north bank.
RIVER_CENTRELINE = [
    (482000, 4065200),
    (486000, 4066300),
    (488000, 4067300),
    (490000, 4067900),
    (492000, 4067800),
    (493300, 4067500),
    (494800, 4067500),
    (496300, 4067500),
    (498300, 4066900),
    (500000, 4066150),
    (501200, 4066250),
    (501900, 4067000),
    (502300, 4068400),
    (503600, 4069300),
    (505300, 4070000),
    (506600, 4071000),
    (507500, 4072000),
    (509400, 4073000),
    (510500, 4074500),
    (512000, 4077500),
]
CHANNEL_WIDTH_M = 500.0
#: Floodplain (滩区) between the levees: narrow on the urban south bank, wide on the north.
FLOODPLAIN_SOUTH_M = 550.0
FLOODPLAIN_NORTH_M = 1750.0

#: Indicative Xiaoqing River centre line (lon, lat): the 1:4M data has no Xiaoqing River here.
XIAOQING_LONLAT = [
    (116.900, 36.6950),
    (116.930, 36.6970),
    (116.950, 36.6950),
    (116.970, 36.6980),
    (116.989, 36.7000),
    (117.010, 36.6990),
    (117.030, 36.6970),
    (117.060, 36.7000),
]
XIAOQING_WIDTH_M = 45.0

ROAD_WIDTH_M = {
    "trunk": 50.0,
    "primary": 40.0,
    "secondary": 30.0,
    "tertiary": 20.0,
    "unclassified": 10.0,
    "residential": 12.0,
}
#: Parcels are cut with fixed-precision overlays on this grid (m), so that neighbours share
#: exactly the same vertices and the layer is a valid coverage (no overlaps, no gaps).
GRID_M = 0.01
#: Two parcels sharing less than this area (m²) do not overlap (floating-point noise).
OVERLAP_TOLERANCE_M2 = 1e-6

MAXSPEED = {"trunk": "60", "primary": "50", "secondary": "40", "tertiary": "30"}


@dataclasses.dataclass(frozen=True)
class Road:
    """A straight synthetic road: orientation, position, class, optional name and region."""

    orient: str  # "v" (north-south, fixed x) or "h" (east-west, fixed y)
    pos: float
    highway: str
    region: str  # key into the region polygons
    name_zh: str = ""
    name_en: str = ""
    oneway: str = ""  # "", "yes" or "-1"
    crossing: str = ""  # "" or "bridge"/"tunnel": may cross the channel


def _lonlat_to_xy(lon: float, lat: float) -> tuple[float, float]:
    tr = pyproj.Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True)
    x, y = tr.transform(lon, lat)
    return float(x), float(y)


# ----------------------------------------------------------------------------- context


@dataclasses.dataclass
class Context:
    """Real inputs and derived regions shared by the generators."""

    district: BaseGeometry
    anchors: dict[str, Point]
    centreline: LineString
    channel: BaseGeometry
    floodplain: BaseGeometry
    xiaoqing: BaseGeometry
    xiaoqing_line: LineString
    south_bank: BaseGeometry
    north_bank: BaseGeometry
    rng: np.random.Generator

    def anchor_xy(self, name: str) -> tuple[float, float]:
        """Return the (x, y) of an anchor."""
        p = self.anchors[name]
        return float(p.x), float(p.y)


def make_context(raw: Path) -> Context:
    """Read the real layers and derive the channel, floodplain and the two banks."""
    boundary = io.read_vector(raw / "tianqiao_boundary.geojson", what="boundary")
    district = shapely.union_all(boundary.geometry.to_numpy())
    anchors_frame = io.read_points_csv(raw / "tianqiao_anchors.csv")
    anchors = dict(zip(anchors_frame["anchor_id"], anchors_frame.geometry, strict=True))
    centreline = LineString(RIVER_CENTRELINE)
    channel = centreline.buffer(CHANNEL_WIDTH_M / 2, cap_style="flat")
    north = centreline.buffer(FLOODPLAIN_NORTH_M, single_sided=True, cap_style="flat")
    south = centreline.buffer(-FLOODPLAIN_SOUTH_M, single_sided=True, cap_style="flat")
    floodplain = shapely.union_all([north, south, channel])
    xiaoqing_line = LineString([_lonlat_to_xy(lon, lat) for lon, lat in XIAOQING_LONLAT])
    xiaoqing = xiaoqing_line.buffer(XIAOQING_WIDTH_M / 2, cap_style="flat")
    # The banks: the two large pieces of (district's surroundings - channel).
    frame = district.buffer(3000)
    pieces = list(shapely.get_parts(frame.difference(channel)))
    south_bank = next(p for p in pieces if p.contains(anchors["jinan_station"]))
    north_bank = next(p for p in pieces if p.contains(anchors["sangzidian"]))
    return Context(
        district=district,
        anchors=anchors,
        centreline=centreline,
        channel=channel,
        floodplain=floodplain,
        xiaoqing=xiaoqing,
        xiaoqing_line=xiaoqing_line,
        south_bank=south_bank,
        north_bank=north_bank,
        rng=np.random.default_rng(SEED),
    )


# ----------------------------------------------------------------------------- structure


def plan_structure(ctx: Context) -> gpd.GeoDataFrame:
    """Build the indicative 一轴两带五组团 layer: centre lines with widths, cluster polygons."""
    a = ctx.anchor_xy
    district = ctx.district
    south = district.intersection(ctx.south_bank)
    north = district.intersection(ctx.north_bank)

    # South-bank clusters: discs around their cores, split between cores by Voronoi cells,
    # so clusters never overlap.
    cores = {
        "specialty_commerce": [("luokou", 1500.0)],
        "high_end_services": [("gongshanghe", 1300.0), ("beihu", 1300.0)],
        "hitech_innovation": [("yaoshan", 1900.0)],
    }
    core_points = [(cid, name, r) for cid, lst in cores.items() for name, r in lst]
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint([Point(a(n)) for _, n, _ in core_points]), extend_to=district
    )
    cell_list = list(shapely.get_parts(cells))
    south_clusters: dict[str, Any] = {}
    for cid, name, radius in core_points:
        pt = Point(a(name))
        cell = next(c for c in cell_list if c.contains(pt))
        piece = pt.buffer(radius, quad_segs=32).intersection(cell)
        south_clusters[cid] = shapely.union_all([south_clusters.get(cid, Polygon()), piece])
    # Keep the floodplain out of the urban clusters except at Luokou, which sits on the levee.
    levee = ctx.floodplain
    geoms: dict[str, Any] = {
        cid: g.intersection(south).difference(levee) for cid, g in south_clusters.items()
    }
    smart = Point(a("new_materials_park")).buffer(3000, quad_segs=32).intersection(north)
    pilot = Point(a("pilot_zone_centre")).buffer(2200, quad_segs=32)
    agri = north.difference(smart).difference(levee).difference(pilot)
    geoms["smart_manufacturing"] = smart.difference(levee)
    geoms["modern_agriculture"] = agri

    axis_line = ctx.centreline.intersection(district.buffer(1500))
    jiluo = LineString([a("jinan_station"), a("jiluo_south"), a("jiluo_mid"), a("jiluo_north")])
    xiaoqing = ctx.xiaoqing_line.intersection(district.buffer(500))

    rows = [
        (
            "yellow_river_axis",
            "axis",
            "黄河城市联动轴",
            "Yellow River City Linkage Axis",
            axis_line,
            3000.0,
            "拥河发展;两岸融合;城市功能联动",
            "黄河两岸",
        ),
        (
            "jiluo_road_belt",
            "belt",
            "济泺路黄金经济带",
            "Jiluo Road Golden Economic Belt",
            jiluo,
            1600.0,
            "特色商贸;高端服务",
            "泺口国际商贸区;特色专业市场;工商河科技城;陆港商务区",
        ),
        (
            "xiaoqing_river_belt",
            "belt",
            "小清河创新产业带",
            "Xiaoqing River Innovation Belt",
            xiaoqing,
            2000.0,
            "创新经济;总部经济",
            "药山工业园;北湖片区",
        ),
        (
            "smart_manufacturing",
            "cluster",
            "新型智造组团",
            "New Smart Manufacturing Cluster",
            geoms["smart_manufacturing"],
            np.nan,
            "新型功能材料;智能制造装备",
            "济南新材料产业园区",
        ),
        (
            "hitech_innovation",
            "cluster",
            "高科创新组团",
            "High-tech Innovation Cluster",
            geoms["hitech_innovation"],
            np.nan,
            "未来消费;未来健康;未来数智",
            "药山工业园区",
        ),
        (
            "specialty_commerce",
            "cluster",
            "特色商贸组团",
            "Specialty Commerce Cluster",
            geoms["specialty_commerce"],
            np.nan,
            "特色商贸;特色文旅;国际商贸",
            "泺口片区",
        ),
        (
            "high_end_services",
            "cluster",
            "高端服务组团",
            "High-end Services Cluster",
            geoms["high_end_services"],
            np.nan,
            "高端服务;总部经济;电子商务;文商旅",
            "工商河科技城;北湖片区",
        ),
        (
            "modern_agriculture",
            "cluster",
            "现代农业组团",
            "Modern Agriculture Cluster",
            geoms["modern_agriculture"],
            np.nan,
            "都市农业观光;生态康养;农文旅融合",
            "黄河北农林生态区",
        ),
    ]
    frame = gpd.GeoDataFrame(
        rows,
        columns=[
            "element_id",
            "kind",
            "name_zh",
            "name_en",
            "geometry",
            "width_m",
            "lead_industries",
            "carriers",
        ],
        geometry="geometry",
        crs=WORKING_CRS,
    )
    frame["geometry"] = shapely.set_precision(frame.geometry.array, 0.01)
    frame["status"] = "indicative"
    frame["basis"] = (
        "placed schematically from the locality anchors in tianqiao_anchors.csv "
        "(uncertainty 100-1000 m); not an official plan layer"
    )
    frame["synthetic"] = True
    return frame


# ----------------------------------------------------------------------------- roads


def _road_plan(ctx: Context) -> list[Road]:
    """Lines of the synthetic road grid, with names on the main roads."""
    rng = ctx.rng
    minx, miny, maxx, maxy = ctx.district.buffer(400).bounds
    jiluo_x = _lonlat_to_xy(116.989, 36.700)[0]
    beiyuan_y = _lonlat_to_xy(116.989, 36.684)[1]
    ring2_y = _lonlat_to_xy(116.991, 36.7215)[1]
    dikou_y = _lonlat_to_xy(116.989, 36.6755)[1]
    wuying_x = _lonlat_to_xy(116.9705, 36.690)[0]
    xq_north_y = _lonlat_to_xy(116.989, 36.7025)[1]
    g220_x = _lonlat_to_xy(116.912, 36.780)[0]
    sang_y = _lonlat_to_xy(116.905, 36.795)[1]
    named_v = {
        jiluo_x: Road("v", jiluo_x, "trunk", "all", "济泺路", "Jiluo Road", crossing="tunnel"),
        wuying_x: Road("v", wuying_x, "primary", "south", "无影山路", "Wuyingshan Road"),
        g220_x: Road("v", g220_x, "trunk", "north", "国道220", "G220 National Road"),
    }
    named_h = {
        beiyuan_y: Road("h", beiyuan_y, "trunk", "south", "北园大街", "Beiyuan Street"),
        ring2_y: Road("h", ring2_y, "primary", "south", "二环北路", "North 2nd Ring Road"),
        dikou_y: Road("h", dikou_y, "secondary", "south", "堤口路", "Dikou Road"),
        xq_north_y: Road(
            "h", xq_north_y, "secondary", "south", "小清河北路", "Xiaoqing River North Road"
        ),
        sang_y: Road("h", sang_y, "primary", "north", "桑梓店大街", "Sangzidian Street"),
    }
    roads: list[Road] = [*named_v.values(), *named_h.values()]

    def grid(lo: float, hi: float, step: float) -> np.ndarray:
        start = np.ceil(lo / step) * step
        return np.arange(start, hi, step)

    def near_named(value: float, named: dict[float, Road], gap: float) -> bool:
        return any(abs(value - v) < gap for v in named)

    # South bank: 250 m streets, every 2nd tertiary, every 4th secondary/primary.
    for orient, lo, hi, named in (("v", minx, maxx, named_v), ("h", miny, maxy, named_h)):
        for k, value in enumerate(grid(lo, hi, 250.0)):
            pos = float(value + rng.uniform(-35, 35))
            if near_named(pos, named, 150.0):
                continue
            level = "secondary" if k % 4 == 0 else "tertiary" if k % 2 == 0 else "residential"
            oneway = ""
            if level == "residential" and orient == "h" and k % 8 in (1, 5):
                oneway = "yes" if k % 8 == 1 else "-1"
            roads.append(Road(orient, pos, level, "south", oneway=oneway))
    # North bank: rural grid at 1 km; a 500 m grid inside the industrial park.
    for orient, lo, hi, named in (("v", minx, maxx, named_v), ("h", miny, maxy, named_h)):
        for k, value in enumerate(grid(lo, hi, 1000.0)):
            pos = float(value + rng.uniform(-80, 80))
            if near_named(pos, named, 300.0):
                continue
            level = "secondary" if k % 3 == 0 else "unclassified"
            roads.append(Road(orient, pos, level, "north"))
        for value in grid(lo, hi, 1000.0):
            pos = float(value + 500 + rng.uniform(-40, 40))
            roads.append(Road(orient, pos, "tertiary", "park"))
    # River crossings: only these cross the channel.
    for lon, name_zh, name_en, level, kind in (
        (116.9350, "建邦黄河大桥", "Jianbang Yellow River Bridge", "primary", "bridge"),
        (117.0050, "泺口浮桥", "Luokou Pontoon Bridge", "tertiary", "bridge"),
        (116.9000, "齐鲁黄河大桥", "Qilu Yellow River Bridge", "trunk", "bridge"),
    ):
        x = _lonlat_to_xy(lon, 36.73)[0]
        roads.append(Road("v", x, level, "all", name_zh, name_en, crossing=kind))
    return roads


def _regions(ctx: Context) -> dict[str, Any]:
    domain = ctx.district.buffer(400)
    south = domain.intersection(ctx.south_bank)
    north = domain.intersection(ctx.north_bank)
    park = Point(ctx.anchor_xy("new_materials_park")).buffer(2600).intersection(north)
    return {"south": south, "north": north, "park": park, "all": shapely.union_all([south, north])}


def _road_geometries(ctx: Context, roads: list[Road]) -> list[tuple[Road, LineString]]:
    """Clip each road line to its region (crossings keep their part over the channel)."""
    regions = _regions(ctx)
    minx, miny, maxx, maxy = ctx.district.buffer(3000).bounds
    out: list[tuple[Road, LineString]] = []
    for road in roads:
        if road.orient == "v":
            line = LineString([(road.pos, miny), (road.pos, maxy)])
        else:
            line = LineString([(minx, road.pos), (maxx, road.pos)])
        region = regions[road.region]
        if road.crossing:
            # Region on both banks plus the channel strip where this road crosses it.
            region = shapely.union_all([region, ctx.channel.intersection(line.buffer(5))])
        clipped = line.intersection(region)
        parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "LineString"]
        if road.crossing:
            # Keep only the continuous run that contains a channel crossing, plus land parts.
            merged = shapely.line_merge(shapely.union_all(parts))
            parts = [p for p in shapely.get_parts(merged) if p.length > 1]
        out.extend((road, p) for p in parts if p.length >= 50)
    return out


def road_network(
    ctx: Context,
) -> tuple[pd.DataFrame, list[tuple[int, list[int], dict[str, str]]], gpd.GeoDataFrame]:
    """Noded synthetic road network: OSM nodes, OSM ways and the road centre lines."""
    pieces = _road_geometries(ctx, _road_plan(ctx))
    geoms = np.array([g for _, g in pieces], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    cuts: dict[int, list[float]] = {i: [0.0, float(g.length)] for i, g in enumerate(geoms)}
    for i, j in zip(left, right, strict=True):
        if i == j:
            continue
        road_i, road_j = pieces[i][0], pieces[j][0]
        if road_i.orient == road_j.orient:
            continue
        # A crossing (bridge/tunnel) meets other roads only on land.
        hit = geoms[i].intersection(geoms[j])
        for pt in shapely.get_parts(hit):
            if pt.geom_type != "Point":
                continue
            if (road_i.crossing or road_j.crossing) and ctx.channel.buffer(1).contains(pt):
                continue
            cuts[i].append(float(geoms[i].project(pt)))
    # Crossings are also cut where they meet the channel banks, so bridge tags cover the water.
    for i, (road, geom) in enumerate(pieces):
        if road.crossing:
            banks = geom.intersection(ctx.channel.boundary)
            cuts[i].extend(
                float(geom.project(pt))
                for pt in shapely.get_parts(banks)
                if pt.geom_type == "Point"
            )
    node_ids: dict[tuple[int, int], int] = {}
    node_xy: list[tuple[float, float]] = []

    def node_for(pt: tuple[float, float]) -> int:
        key = (round(pt[0] * 10), round(pt[1] * 10))
        if key not in node_ids:
            node_ids[key] = len(node_xy) + 1
            node_xy.append(pt)
        return node_ids[key]

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    lines = []
    channel = ctx.channel
    way_id = 1
    for i, (road, geom) in enumerate(pieces):
        stops = sorted(set(np.round(cuts[i], 3)))
        pts = [geom.interpolate(d) for d in stops]
        refs = [node_for((p.x, p.y)) for p in pts]
        for a_idx in range(len(refs) - 1):
            seg = LineString([pts[a_idx], pts[a_idx + 1]])
            if seg.length < 1:
                continue
            tags = {"highway": road.highway}
            if road.name_zh:
                tags.update(
                    {"name": road.name_zh, "name:zh": road.name_zh, "name:en": road.name_en}
                )
            if road.highway in MAXSPEED:
                tags["maxspeed"] = MAXSPEED[road.highway]
            if road.oneway:
                tags["oneway"] = road.oneway
            over_water = channel.contains(seg.interpolate(0.5, normalized=True))
            if over_water:
                if road.crossing == "tunnel":
                    tags.update(
                        {
                            "tunnel": "yes",
                            "layer": "-1",
                            "name": "济泺路穿黄隧道",
                            "name:en": "Jiluo Road Yellow River Tunnel",
                        }
                    )
                else:
                    tags.update({"bridge": "yes", "layer": "1"})
            tags["source"] = "synthetic (tqspatial)"
            ways.append((way_id, [refs[a_idx], refs[a_idx + 1]], tags))
            lines.append({"way_id": way_id, **tags, "geometry": seg})
            way_id += 1
    xy = np.array(node_xy)
    to_ll = pyproj.Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    nodes = pd.DataFrame({"id": np.arange(1, len(xy) + 1), "lon": lon, "lat": lat})
    centre_lines = gpd.GeoDataFrame(lines, geometry="geometry", crs=WORKING_CRS)
    return nodes, ways, centre_lines


# ----------------------------------------------------------------------------- land use

#: Land-use mix by locality: 2023 用地用海分类 codes and their probability.
LANDUSE_MIX: dict[str, dict[str, float]] = {
    "old_core": {
        "070102": 0.58,
        "070103": 0.04,
        "090101": 0.08,
        "0902": 0.04,
        "080403": 0.04,
        "080404": 0.02,
        "0806": 0.015,
        "0801": 0.02,
        "1401": 0.05,
        "070301": 0.04,
        "100101": 0.03,
        "1101": 0.02,
        "1208": 0.01,
        "1303": 0.005,
        "2301": 0.02,
    },
    "luokou_market": {
        "090102": 0.34,
        "1101": 0.15,
        "070102": 0.24,
        "090101": 0.10,
        "070301": 0.05,
        "1401": 0.04,
        "100101": 0.04,
        "080403": 0.02,
        "2301": 0.02,
    },
    "new_urban": {
        "070102": 0.44,
        "070101": 0.02,
        "0902": 0.12,
        "090101": 0.08,
        "0802": 0.04,
        "080403": 0.05,
        "080404": 0.02,
        "0806": 0.02,
        "1401": 0.08,
        "1402": 0.03,
        "100101": 0.03,
        "070301": 0.03,
        "1208": 0.01,
        "1303": 0.01,
        "2301": 0.02,
    },
    "industry_west": {
        "100102": 0.44,
        "100101": 0.15,
        "100103": 0.03,
        "1101": 0.15,
        "0902": 0.03,
        "070102": 0.08,
        "1402": 0.05,
        "1303": 0.02,
        "2301": 0.05,
    },
    "north_industry": {
        "100102": 0.48,
        "100101": 0.15,
        "1101": 0.10,
        "0102": 0.10,
        "1402": 0.05,
        "2301": 0.05,
        "0802": 0.02,
        "070301": 0.03,
        "1303": 0.02,
    },
    "north_town": {
        "070102": 0.40,
        "070301": 0.25,
        "090101": 0.10,
        "080403": 0.05,
        "080404": 0.02,
        "0806": 0.03,
        "0801": 0.03,
        "1401": 0.04,
        "100101": 0.05,
        "2301": 0.03,
    },
    "village": {"070301": 0.86, "0704": 0.05, "0602": 0.03, "080403": 0.02, "2301": 0.04},
    "north_rural": {
        "0102": 0.60,
        "0103": 0.10,
        "0101": 0.03,
        "0201": 0.06,
        "0301": 0.07,
        "0602": 0.05,
        "060203": 0.02,  # 水产养殖设施建设用地 (aquaculture ponds)
        "1704": 0.04,
        "1705": 0.03,
    },
    "floodplain": {
        "0102": 0.35,
        "0301": 0.20,
        "0506": 0.20,
        "0403": 0.10,
        "1401": 0.05,
        "1704": 0.05,
        "0103": 0.05,
    },
    "scenic": {"1401": 0.60, "0301": 0.20, "0506": 0.10, "0403": 0.10},
}

#: Typical parcel size (m²) by locality; plots are cut until smaller than this.
PARCEL_SIZE_M2 = {
    "old_core": 4500.0,
    "luokou_market": 6000.0,
    "new_urban": 11000.0,
    "industry_west": 20000.0,
    "north_industry": 32000.0,
    "north_town": 6000.0,
    "village": 2500.0,
    "north_rural": 45000.0,
    "floodplain": 70000.0,
    "scenic": 40000.0,
}

#: 2023 code -> legacy GB 50137-2011 code, for the share of records still coded the old way.
LEGACY_CODE = {
    "070101": "R1",
    "070102": "R2",
    "070103": "R3",
    "090101": "B1",
    "090102": "B1",
    "0902": "B2",
    "100101": "M1",
    "100102": "M2",
    "100103": "M3",
    "1101": "W1",
    "080403": "A33",
    "0806": "A5",
    "0801": "A1",
    "1401": "G1",
    "1402": "G2",
    "0802": "A35",
    "1208": "S4",
    "1303": "U12",
    "070301": "H14",
}
LEGACY_SHARE = 0.03
MISSING_BUILD_YEAR_SHARE = 0.05
MISSING_FAR_SHARE = 0.02


def _zone_polygons(ctx: Context) -> list[tuple[str, Any]]:
    """Locality zones in precedence order (earlier wins)."""
    a = ctx.anchor_xy
    south = ctx.district.intersection(ctx.south_bank)
    north = ctx.district.intersection(ctx.north_bank)
    scenic = Point(a("yellow_river_scenic")).buffer(1300).intersection(ctx.floodplain)
    industry_west = shapely.union_all(
        [Point(a("yaoshan")).buffer(1900), Point(a("huanggang")).buffer(1100)]
    ).intersection(south)
    luokou = Point(a("luokou")).buffer(1300).intersection(south)
    split_y = _lonlat_to_xy(116.98, 36.692)[1]
    minx, miny, maxx, _ = ctx.district.bounds
    old_core = Polygon(
        [
            (minx - 5000, miny - 5000),
            (maxx + 5000, miny - 5000),
            (maxx + 5000, split_y),
            (minx - 5000, split_y),
        ]
    ).intersection(south)
    north_industry = shapely.union_all(
        [Point(a("new_materials_park")).buffer(2600), Point(a("sangzidian")).buffer(1200)]
    ).intersection(north)
    north_town = Point(a("daqiao")).buffer(900).intersection(north)
    # Villages: a jittered 1.6 km lattice of 230 m discs on rural north-bank land.
    rng = np.random.default_rng(SEED + 1)
    bx0, by0, bx1, by1 = north.bounds
    centres = [
        Point(x + rng.uniform(-450, 450), y + rng.uniform(-450, 450))
        for x in np.arange(bx0, bx1, 1600.0)
        for y in np.arange(by0, by1, 1600.0)
    ]
    villages = shapely.union_all([c.buffer(rng.uniform(170, 280)) for c in centres])
    villages = villages.intersection(north).difference(north_industry).difference(ctx.floodplain)
    return [
        ("scenic", scenic),
        ("floodplain", ctx.floodplain),
        ("industry_west", industry_west),
        ("luokou_market", luokou),
        ("old_core", old_core),
        ("new_urban", south),
        ("north_industry", north_industry),
        ("north_town", north_town),
        ("village", villages),
        ("north_rural", ctx.district),
    ]


def _split(poly: Any, target: float, rng: np.random.Generator) -> Iterator[Any]:
    """Cut a polygon across its long axis, recursively, until pieces are below ``target``."""
    stack = [poly]
    while stack:
        p = stack.pop()
        if p.area <= target * rng.uniform(1.0, 1.6):
            yield p
            continue
        rect = np.asarray(shapely.oriented_envelope(p).exterior.coords)[:4]
        e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
        long_axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        length = float(np.hypot(*long_axis))
        u = long_axis / length
        n = np.array([-u[1], u[0]])
        c = rect.mean(axis=0) + u * length * rng.uniform(-0.15, 0.15)
        big = length * 4 + 1000
        half = Polygon([c + n * big, c + n * big + u * big, c - n * big + u * big, c - n * big])
        a_part = shapely.intersection(p, half, grid_size=GRID_M)
        b_part = shapely.difference(p, half, grid_size=GRID_M)
        parts = [_polygonal(a_part), _polygonal(b_part)]
        if any(q is None or q.area < 1.0 for q in parts):
            yield p
            continue
        stack.extend(parts)


def _polygonal(geom: Any) -> Any:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _as_coverage(geoms: np.ndarray) -> np.ndarray:
    """Rebuild parcels from one globally noded set of boundaries, so neighbours share edges.

    Cuts are rounded to :data:`GRID_M`; where a cut ends on a neighbour's edge the rounded
    vertex can sit a few millimetres inside the neighbour (a T-junction), leaving sliver
    overlaps.  Noding every boundary together and polygonizing gives faces that tile the
    land exactly; each face goes to the parcel holding its representative point (faces in
    no parcel are roads or water) and each parcel is the coverage union of its faces.
    """
    lines = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(geoms)
    face_idx, owner = tree.query(points, predicate="within")
    first = np.unique(face_idx, return_index=True)[1]  # a point on a shared edge: first owner
    face_idx, owner = face_idx[first], owner[first]
    members: dict[int, list[int]] = {}
    for face, parcel in zip(face_idx.tolist(), owner.tolist(), strict=True):
        members.setdefault(parcel, []).append(face)
    out = np.empty(len(geoms), dtype=object)
    for parcel, own in members.items():
        out[parcel] = _polygonal(shapely.coverage_union_all(faces[own]))
    return out


def parcels(ctx: Context, roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut the district's land (minus roads and water) into attributed parcels."""
    rng = np.random.default_rng(SEED + 2)
    widths = roads["highway"].map(ROAD_WIDTH_M).fillna(10.0).to_numpy()
    on_land = ~(
        roads.get("bridge", pd.Series(index=roads.index)).eq("yes")
        | roads.get("tunnel", pd.Series(index=roads.index)).eq("yes")
    ).to_numpy()
    road_area = shapely.union_all(
        shapely.buffer(roads.geometry.to_numpy()[on_land], widths[on_land] / 2, cap_style="flat")
    )
    water = shapely.union_all([ctx.channel, ctx.xiaoqing])
    district = shapely.set_precision(ctx.district, GRID_M)
    land = shapely.difference(district, shapely.union_all([road_area, water]), grid_size=GRID_M)
    blocks = [b for b in shapely.get_parts(land) if b.area >= 50]
    zones = _zone_polygons(ctx)
    records: list[tuple[str, Any]] = []
    for block in blocks:
        remaining = block
        pieces: list[tuple[str, Any]] = []
        for zone, zpoly in zones:
            if remaining.is_empty:
                break
            if not remaining.intersects(zpoly):
                continue
            piece = _polygonal(shapely.intersection(remaining, zpoly, grid_size=GRID_M))
            if piece is None:
                continue
            pieces.append((zone, piece))
            remaining = shapely.difference(remaining, zpoly, grid_size=GRID_M)
        # Fold slivers (< 400 m²) into the largest piece of the block so no land is lost.
        pieces.sort(key=lambda zp: -zp[1].area)
        main_zone, main = pieces[0]
        small = [p for _, p in pieces[1:] if p.area < 400]
        if small:
            main = _polygonal(shapely.union_all([main, *small], grid_size=GRID_M))
        pieces = [(main_zone, main)] + [(z, p) for z, p in pieces[1:] if p.area >= 400]
        for zone, piece in pieces:
            records.extend((zone, part) for part in _split(piece, PARCEL_SIZE_M2[zone], rng))
    zone_arr = np.array([z for z, _ in records], dtype=object)
    geoms = _as_coverage(np.array([g for _, g in records], dtype=object))
    frame = gpd.GeoDataFrame({"zone": zone_arr}, geometry=geoms, crs=WORKING_CRS)
    frame = frame[frame.geometry.notna()]
    frame = frame[~frame.geometry.is_empty & (frame.geometry.area > 1.0)]
    frame = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    return _attributes(frame, rng)


def _attributes(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Land use, build year, FAR, coverage, floor area, idle flag, residents and jobs."""
    n = len(frame)
    # Order parcels south-to-north, west-to-east so ids read like a survey sheet.
    cx = frame.geometry.centroid.x.to_numpy()
    cy = frame.geometry.centroid.y.to_numpy()
    order = np.lexsort((np.round(cx, -2), np.round(cy, -2)))
    frame = frame.iloc[order].reset_index(drop=True)
    zone = frame["zone"].to_numpy()
    area = frame.geometry.area.to_numpy()
    code = np.empty(n, dtype=object)
    for z, mix in LANDUSE_MIX.items():
        idx = np.flatnonzero(zone == z)
        codes = list(mix)
        p = np.array([mix[c] for c in codes])
        code[idx] = rng.choice(codes, size=len(idx), p=p / p.sum())
    major = np.array([c[:2] for c in code])
    built = (
        ~np.isin(major, ["01", "02", "03", "04", "05", "17", "23"])
        & (code != "1401")
        & (code != "1402")
    )

    def draw(mean: float, sd: float, lo: float, hi: float, size: int) -> np.ndarray:
        return np.clip(rng.normal(mean, sd, size), lo, hi)

    year = np.full(n, np.nan)
    far = np.zeros(n)
    cov = np.zeros(n)
    rules: list[tuple[Callable[[np.ndarray], np.ndarray], tuple[float, ...]]] = [
        # (selector, (year mean, sd, FAR mean, sd, coverage mean, sd))
        (
            lambda m: (zone == "old_core") & np.isin(code, ["070102", "070103"]),
            (1987, 9, 1.8, 0.4, 0.30, 0.05),
        ),
        (
            lambda m: np.isin(code, ["070101", "070102", "070103"]) & (zone != "old_core"),
            (2008, 8, 2.6, 0.5, 0.25, 0.04),
        ),
        (lambda m: np.isin(code, ["070301", "0704"]), (1992, 12, 0.8, 0.2, 0.50, 0.08)),
        (lambda m: np.isin(code, ["090101", "0902"]), (2003, 10, 2.8, 0.8, 0.40, 0.08)),
        (lambda m: code == "090102", (1996, 7, 1.4, 0.4, 0.55, 0.08)),
        (lambda m: m == "10", (1997, 11, 0.9, 0.35, 0.40, 0.10)),
        (lambda m: m == "11", (1999, 10, 0.8, 0.3, 0.45, 0.10)),
        (lambda m: m == "08", (1998, 12, 1.2, 0.4, 0.28, 0.06)),
        (lambda m: np.isin(m, ["06", "12", "13"]), (2000, 10, 0.4, 0.2, 0.25, 0.08)),
    ]
    for select, (ym, ys, fm, fs, cm, cs) in rules:
        idx = np.flatnonzero(select(major) & built)
        year[idx] = np.round(draw(ym, ys, 1950, 2024, len(idx)))
        far[idx] = np.round(draw(fm, fs, 0.1, 8.0, len(idx)), 2)
        cov[idx] = np.round(draw(cm, cs, 0.05, 0.9, len(idx)), 2)
    floor = np.round(far * area)
    idle = np.zeros(n, dtype=bool)
    idle[(major == "10") | (major == "11")] = (
        rng.random(int(((major == "10") | (major == "11")).sum())) < 0.07
    )
    idle[np.isin(code, ["090101", "090102", "0902"])] = (
        rng.random(int(np.isin(code, ["090101", "090102", "0902"]).sum())) < 0.04
    )
    idle[code == "2301"] = True

    residential = np.isin(code, ["070101", "070102", "070103"])
    rural_home = code == "070301"
    residents = np.zeros(n)
    residents[residential] = floor[residential] / 35.0 * 0.92  # 35 m² per person, 92 % occupied
    residents[rural_home] = floor[rural_home] / 45.0
    jobs_per_m2 = {
        "10": 1 / 100,
        "11": 1 / 150,
        "0902": 1 / 25,
        "090101": 1 / 40,
        "090102": 1 / 30,
        "08": 1 / 60,
        "0806": 1 / 50,
        "0801": 1 / 30,
    }
    jobs = np.zeros(n)
    for key, rate in jobs_per_m2.items():
        sel = (major == key) if len(key) == 2 else (code == key)
        jobs[sel] = floor[sel] * rate
    jobs[idle] = 0.0
    residents = np.round(residents)
    jobs = np.round(jobs)

    # Untidiness real inventories have.
    missing_year = built & (rng.random(n) < MISSING_BUILD_YEAR_SHARE)
    year[missing_year] = np.nan
    missing_far = built & (rng.random(n) < MISSING_FAR_SHARE)
    far_out = far.astype(float)
    far_out[missing_far] = np.nan
    source_code = code.copy()
    legacy = np.array([c in LEGACY_CODE for c in code]) & (rng.random(n) < LEGACY_SHARE)
    source_code[legacy] = [LEGACY_CODE[c] for c in code[legacy]]

    out = gpd.GeoDataFrame(
        {
            "parcel_id": [f"TQ{i + 1:06d}" for i in range(n)],
            "landuse_code": source_code.astype(str),
            "build_year": pd.array(year, dtype="Int64"),
            "far": far_out,
            "coverage": cov,
            "floor_area_m2": floor,
            "is_idle": idle,
            "residents": pd.array(residents.astype(int), dtype="Int64"),
            "jobs": pd.array(jobs.astype(int), dtype="Int64"),
            "synthetic": True,
        },
        geometry=frame.geometry.to_numpy(),
        crs=WORKING_CRS,
    )
    logger.info(
        "parcels: %d (legacy codes %d, missing build year %d, missing FAR %d)",
        n,
        int(legacy.sum()),
        int(missing_year.sum()),
        int(missing_far.sum()),
    )
    return out


# ----------------------------------------------------------------------------- facilities


def facilities(parcel_frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Schools, kindergartens, clinics, hospitals, markets, parks and metro stations."""
    rng = np.random.default_rng(SEED + 3)
    code = parcel_frame["landuse_code"].to_numpy()
    points = parcel_frame.geometry.representative_point().to_numpy()
    area = parcel_frame.geometry.area.to_numpy()
    rows: list[dict[str, Any]] = []

    def add(kind: str, name_zh: str, pt: Any, capacity: Any, unit: str, pid: str = "") -> None:
        rows.append(
            {
                "kind": kind,
                "name_zh": name_zh,
                "capacity": float(round(capacity)),
                "capacity_unit": unit,
                "parcel_id": pid,
                "geometry": pt,
            }
        )

    ids = parcel_frame["parcel_id"].to_numpy()
    for i in np.flatnonzero(np.isin(code, ["080403", "A33"])):
        if rng.random() < 0.65:
            add("primary_school", "小学", points[i], rng.integers(24, 37) * 45, "pupils", ids[i])
        else:
            add("middle_school", "中学", points[i], rng.integers(30, 49) * 50, "pupils", ids[i])
    for i in np.flatnonzero(code == "080404"):
        add("kindergarten", "幼儿园", points[i], rng.integers(9, 13) * 30, "children", ids[i])
    for i in np.flatnonzero(np.isin(code, ["0806", "A5"])):
        if rng.random() < 0.25:
            add("hospital", "医院", points[i], rng.integers(200, 1001), "beds", ids[i])
        else:
            add(
                "clinic",
                "社区卫生服务中心",
                points[i],
                rng.integers(100, 301),
                "visits_per_day",
                ids[i],
            )
    shops = np.flatnonzero(np.isin(code, ["090101", "B1"]))
    for i in shops[rng.random(len(shops)) < 0.35]:
        add("market", "菜市场", points[i], rng.integers(80, 201), "stalls", ids[i])
    for i in np.flatnonzero(np.isin(code, ["1401", "G1"]) & (area >= 10_000)):
        add("park", "公园", points[i], area[i], "m2", ids[i])
    # Jinan Metro Line 2 stations in Tianqiao (names real; positions placed on Beiyuan Street).
    for lon, name in (
        (116.956, "八里桥站"),
        (116.968, "益康路站"),
        (116.979, "济南站北站"),
        (116.989, "济泺路站"),
    ):
        add(
            "metro_station",
            name,
            Point(_lonlat_to_xy(lon, 36.684)),
            rng.integers(20_000, 40_001),
            "boardings_per_day",
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORKING_CRS)
    frame.insert(0, "facility_id", [f"F{i + 1:05d}" for i in range(len(frame))])
    frame["synthetic"] = True
    return frame


# ----------------------------------------------------------------------------- rasters


def flood_depth(ctx: Context, *, cell: float = 50.0) -> tuple[np.ndarray, Affine]:
    """Return inundation depth (m) for a rare flood and its transform.

    Deep in the channel, shallow on the floodplain, ponding along the Xiaoqing River and
    in a few low spots; nodata beyond 1 km outside the district.
    """
    minx, miny, maxx, maxy = ctx.district.buffer(1000).bounds
    minx, miny = np.floor(minx / cell) * cell, np.floor(miny / cell) * cell
    maxx, maxy = np.ceil(maxx / cell) * cell, np.ceil(maxy / cell) * cell
    cols, rows = int((maxx - minx) / cell), int((maxy - miny) / cell)
    transform = Affine(cell, 0, minx, 0, -cell, maxy)
    xs = minx + (np.arange(cols) + 0.5) * cell
    ys = maxy - (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(xs, ys)
    pts = shapely.points(gx.ravel(), gy.ravel())
    d_channel = shapely.distance(ctx.channel, pts).reshape(rows, cols)
    in_fp = shapely.contains_xy(ctx.floodplain, gx.ravel(), gy.ravel()).reshape(rows, cols)
    d_xq = shapely.distance(ctx.xiaoqing_line, pts).reshape(rows, cols)
    depth = np.where(d_channel == 0, 5.0, 0.0)
    depth = np.where(in_fp & (d_channel > 0), np.maximum(0.3, 2.6 - d_channel / 700.0), depth)
    depth = np.maximum(depth, 0.9 * np.exp(-((d_xq / 250.0) ** 2)))
    rng = np.random.default_rng(SEED + 4)
    for _ in range(12):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        r = rng.uniform(300, 900)
        depth = np.maximum(
            depth, rng.uniform(0.2, 0.6) * np.exp(-(((gx - cx) ** 2 + (gy - cy) ** 2) / r**2))
        )
    depth = np.round(depth, 2)
    depth[depth < 0.05] = 0.0
    inside = shapely.contains_xy(ctx.district.buffer(1000), gx.ravel(), gy.ravel()).reshape(
        rows, cols
    )
    depth = np.where(inside, depth, -9999.0).astype("float32")
    return depth, transform


def population_grid(
    ctx: Context, parcel_frame: gpd.GeoDataFrame, *, cell: float = 100.0, fine: float = 10.0
) -> tuple[np.ndarray, Affine]:
    """Residents per 100 m cell, spread evenly over each residential parcel's area.

    Each parcel's residents are shared among the 10 m sub-cells whose centres it
    contains; parcels too small to hold a sub-cell centre put everyone in the cell of
    their representative point.  The grid total equals the parcel total.
    """
    from rasterio import features  # noqa: PLC0415

    minx, miny, maxx, maxy = ctx.district.bounds
    minx, miny = np.floor(minx / cell) * cell, np.floor(miny / cell) * cell
    maxx, maxy = np.ceil(maxx / cell) * cell, np.ceil(maxy / cell) * cell
    cols, rows = int((maxx - minx) / cell), int((maxy - miny) / cell)
    k = int(cell / fine)
    people = parcel_frame["residents"].fillna(0).to_numpy(dtype=float)
    has = np.flatnonzero(people > 0)
    fine_transform = Affine(fine, 0, minx, 0, -fine, maxy)
    labels = features.rasterize(
        ((parcel_frame.geometry.iloc[i], i + 1) for i in has),
        out_shape=(rows * k, cols * k),
        transform=fine_transform,
        fill=0,
        dtype="int32",
    )
    counts = np.bincount(labels.ravel(), minlength=len(parcel_frame) + 1)
    per_cell = np.zeros(len(parcel_frame) + 1)
    covered = counts[1:] > 0
    per_cell[1:][covered] = people[covered] / counts[1:][covered]
    fine_values = per_cell[labels]
    grid = fine_values.reshape(rows, k, cols, k).sum(axis=(1, 3))
    transform = Affine(cell, 0, minx, 0, -cell, maxy)
    for i in has[~covered[has]]:
        p = parcel_frame.geometry.iloc[i].representative_point()
        col, row = ~transform @ (p.x, p.y)
        grid[int(row), int(col)] += people[i]
    return grid.astype("float64"), transform


# ----------------------------------------------------------------------------- build


SYNTHETIC_TAGS = {
    "synthetic": "true",
    "generator": GENERATOR,
}


def build(raw: Path) -> dict[str, Path]:
    """Generate every synthetic layer into ``raw`` and return the written paths."""
    ctx = make_context(raw)
    written: dict[str, Path] = {}
    structure = plan_structure(ctx)
    written["plan_structure"] = io.write_geojson(
        raw / "plan_structure.geojson", structure.to_crs("EPSG:4326")
    )
    logger.info("plan structure written")
    nodes, ways, centre_lines = road_network(ctx)
    written["roads"] = write_osm_xml(
        raw / "roads.osm", nodes=nodes, ways=ways, generator=GENERATOR + " - SYNTHETIC road network"
    )
    logger.info("roads: %d nodes, %d ways", len(nodes), len(ways))
    parcel_frame = parcels(ctx, centre_lines)
    written["parcels"] = io.write_layers(raw / "parcels.gpkg", {"parcels": parcel_frame})
    fac = facilities(parcel_frame)
    written["facilities"] = io.write_layers(raw / "facilities.gpkg", {"facilities": fac})
    water = gpd.GeoDataFrame(
        {
            "name_zh": ["黄河（示意河道）", "黄河滩区（示意）", "小清河（示意）"],
            "name_en": [
                "Yellow River indicative channel",
                "Yellow River floodplain (indicative)",
                "Xiaoqing River (indicative)",
            ],
            "feature": ["channel", "floodplain", "channel"],
            "synthetic": True,
        },
        geometry=[ctx.channel, ctx.floodplain, ctx.xiaoqing],
        crs=WORKING_CRS,
    )
    written["water"] = io.write_layers(raw / "water.gpkg", {"water": water})
    depth, transform = flood_depth(ctx)
    written["flood_depth"] = io.write_raster(
        raw / "flood_depth.tif",
        depth,
        transform=transform,
        crs=WORKING_CRS,
        nodata=-9999.0,
        tags={
            **SYNTHETIC_TAGS,
            "units": "m",
            "quantity": "inundation depth, rare flood (synthetic)",
        },
    )
    pop, ptransform = population_grid(ctx, parcel_frame)
    written["population"] = io.write_raster(
        raw / "population_100m.tif",
        pop.astype("float32"),
        transform=ptransform,
        crs=WORKING_CRS,
        nodata=-1.0,
        tags={
            **SYNTHETIC_TAGS,
            "units": "persons per cell",
            "quantity": "residents from synthetic residential parcels",
        },
    )
    return written
