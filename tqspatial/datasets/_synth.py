"""Deterministic generator of the synthetic layers of the embedded Tianqiao dataset.

Run ``python -m tqspatial.datasets build``.  The real layers (district
boundaries, the 1:4M Yellow River, locality anchors, OpenStreetMap stations) are
read from ``tqspatial/datasets/data``; everything written here is synthetic or indicative and
says so in its attributes (``synthetic``, ``provenance``) or tags.  The same
seed gives byte-identical files.

How the district is laid out (positions indicative; see ``tqspatial/datasets/data/README.md``):

* An *indicative Yellow River channel* (500 m wide) follows the 1:4M river but
  passes under the Luokou railway bridge with Que Hill on the north bank; a
  floodplain (滩区) lies between the levees.  The Xiaoqing River is an indicative
  line (the 1:4M data has none here), with riverside green strips and river roads.
* Roads: real main-road names on approximate lines (济泺路, 北园大街, 二环北路 ...),
  a gently curving street grid of varying density on the urban south bank with
  dead ends and superblocks, levee roads, rural roads, village and park streets on
  the north bank; the Yellow River is crossed only at three bridges and the Jiluo
  Road tunnel.
* Parcels: road blocks are given to localities (their edges follow the roads),
  natural features (floodplain, villages, parks, the reservoir) cut through them;
  blocks are cut into plots.  Attributes and population are calibrated to public
  figures (``tqspatial/datasets/data/calibration.csv``); facilities follow GB 50180-2018 life
  circles (:mod:`tqspatial.datasets._services`).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops
from affine import Affine
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from tqspatial import io
from tqspatial.crs import WORKING_CRS
from tqspatial.datasets import _layout, _services
from tqspatial.datasets._layout import blob, lonlat_to_xy, wavy_line
from tqspatial.datasets._osm import write_osm_xml

logger = logging.getLogger(__name__)

SEED = 20261124
GENERATOR = f"tqspatial synthetic generator v2 (seed {SEED})"

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
#: The river roads (小清河北路/南路) run this far from the river's centre line; the land
#: between them and the water is riverside green.
XIAOQING_ROAD_OFFSET_M = 80.0
#: 鹊山水库 (Queshan regulating reservoir, north bank): indicative position and size.
RESERVOIR_LONLAT = (116.990, 36.7555)
RESERVOIR_RADII_M = (950.0, 600.0)

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
#: Slivers of a block smaller than this (m²) are folded into the block's main piece.
SLIVER_M2 = 400.0

MAXSPEED = {"trunk": "60", "primary": "50", "secondary": "40", "tertiary": "30"}


@dataclasses.dataclass(frozen=True)
class Road:
    """A synthetic road: its line, class, optional name, one-way flag and crossing kind."""

    geometry: BaseGeometry
    highway: str
    name_zh: str = ""
    name_en: str = ""
    oneway: str = ""  # "", "yes" or "-1"
    crossing: str = ""  # "" or "bridge"/"tunnel": may cross the Yellow River channel


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
    xiaoqing_green: BaseGeometry
    south_bank: BaseGeometry
    north_bank: BaseGeometry
    reservoir: BaseGeometry
    industrial_park: BaseGeometry
    pilot_area: BaseGeometry
    villages: BaseGeometry
    stations: gpd.GeoDataFrame
    raw: Path

    def anchor_xy(self, name: str) -> tuple[float, float]:
        """Return the (x, y) of an anchor."""
        p = self.anchors[name]
        return float(p.x), float(p.y)


def make_context(raw: Path) -> Context:
    """Read the real layers and derive the channel, floodplain, banks and localities."""
    boundary = io.read_vector(raw / "tianqiao_boundary.geojson", what="boundary")
    district = shapely.union_all(boundary.geometry.to_numpy())
    anchors_frame = io.read_points_csv(raw / "tianqiao_anchors.csv")
    anchors = dict(zip(anchors_frame["anchor_id"], anchors_frame.geometry, strict=True))
    centreline = LineString(RIVER_CENTRELINE)
    channel = centreline.buffer(CHANNEL_WIDTH_M / 2, cap_style="flat")
    north = centreline.buffer(FLOODPLAIN_NORTH_M, single_sided=True, cap_style="flat")
    south = centreline.buffer(-FLOODPLAIN_SOUTH_M, single_sided=True, cap_style="flat")
    floodplain = shapely.union_all([north, south, channel])
    xiaoqing_line = LineString([lonlat_to_xy(lon, lat) for lon, lat in XIAOQING_LONLAT])
    xiaoqing = xiaoqing_line.buffer(XIAOQING_WIDTH_M / 2, cap_style="flat")
    road_half = ROAD_WIDTH_M["secondary"] / 2
    xiaoqing_green = xiaoqing_line.buffer(
        XIAOQING_ROAD_OFFSET_M - road_half, cap_style="flat"
    ).difference(xiaoqing)
    frame = district.buffer(3000)
    pieces = list(shapely.get_parts(frame.difference(channel)))
    south_bank = next(p for p in pieces if p.contains(anchors["jinan_station"]))
    north_bank = next(p for p in pieces if p.contains(anchors["sangzidian"]))
    rng = np.random.default_rng(SEED + 20)
    reservoir = blob(
        lonlat_to_xy(*RESERVOIR_LONLAT), *RESERVOIR_RADII_M, rng, angle_deg=10
    ).difference(floodplain.buffer(120))
    nm = anchors["new_materials_park"]
    industrial_park = shapely.union_all(
        [
            blob((nm.x + 300, nm.y - 200), 2300, 1600, rng, angle_deg=-20),
            blob((nm.x - 1200, nm.y - 1600), 1100, 800, rng, angle_deg=30),
        ]
    ).difference(floodplain.buffer(200))
    pz = anchors["pilot_zone_centre"]
    pilot_area = blob((pz.x, pz.y), 1300, 950, rng, angle_deg=25)
    stations = io.read_vector(raw / "jinan_rail_metro_stations_osm.geojson", what="stations")
    ctx = Context(
        district=district,
        anchors=anchors,
        centreline=centreline,
        channel=channel,
        floodplain=floodplain,
        xiaoqing=xiaoqing,
        xiaoqing_line=xiaoqing_line,
        xiaoqing_green=xiaoqing_green,
        south_bank=south_bank,
        north_bank=north_bank,
        reservoir=reservoir,
        industrial_park=industrial_park,
        pilot_area=pilot_area,
        villages=Polygon(),
        stations=stations,
        raw=raw,
    )
    ctx.villages = _layout.villages(ctx, np.random.default_rng(SEED + 1))
    return ctx


# ----------------------------------------------------------------------------- roads


def _ll(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [lonlat_to_xy(lon, lat) for lon, lat in coords]


def _named_roads(ctx: Context, rng: np.random.Generator) -> list[Road]:
    """Return the main roads with their real names on approximate (±300 m) lines."""
    a = ctx.anchor_xy
    levee_s = ctx.centreline.offset_curve(-(FLOODPLAIN_SOUTH_M + 15.0))
    levee_n = ctx.centreline.offset_curve(FLOODPLAIN_NORTH_M + 15.0)
    xq_n = ctx.xiaoqing_line.offset_curve(XIAOQING_ROAD_OFFSET_M)
    xq_s = ctx.xiaoqing_line.offset_curve(-XIAOQING_ROAD_OFFSET_M)

    def wavy(coords: list[tuple[float, float]], amp: float = 25.0) -> LineString:
        return wavy_line(coords, rng, amplitude=amp, wavelength=2600.0)

    jiluo = LineString(
        [
            lonlat_to_xy(116.984, 36.671),
            a("jiluo_south"),
            a("jiluo_mid"),
            a("jiluo_north"),
            lonlat_to_xy(116.9935, 36.735),
            lonlat_to_xy(116.996, 36.765),
        ]
    )
    return [
        Road(jiluo, "trunk", "济泺路", "Jiluo Road", crossing="tunnel"),
        Road(
            wavy(_ll([(116.90, 36.684), (117.06, 36.6845)])), "trunk", "北园大街", "Beiyuan Street"
        ),
        Road(
            wavy(
                _ll(
                    [
                        (116.905, 36.7205),
                        (116.95, 36.7212),
                        (116.99, 36.7215),
                        (117.02, 36.7190),
                        (117.06, 36.716),
                    ]
                )
            ),
            "primary",
            "二环北路",
            "North 2nd Ring Road",
        ),
        Road(
            wavy(_ll([(116.925, 36.6755), (117.03, 36.6758)])), "secondary", "堤口路", "Dikou Road"
        ),
        Road(
            wavy(_ll([(116.9705, 36.668), (116.9702, 36.7205)])),
            "primary",
            "无影山路",
            "Wuyingshan Road",
        ),
        Road(xq_n, "secondary", "小清河北路", "Xiaoqing River North Road"),
        Road(xq_s, "secondary", "小清河南路", "Xiaoqing River South Road"),
        Road(levee_s, "secondary", "黄河大堤路", "Yellow River Levee Road"),
        Road(levee_n, "secondary", "黄河大堤路", "Yellow River Levee Road"),
        Road(
            wavy(_ll([(116.912, 36.745), (116.914, 36.790), (116.910, 36.835)]), 60.0),
            "trunk",
            "国道220",
            "G220 National Road",
        ),
        Road(
            wavy(_ll([(116.86, 36.795), (116.99, 36.793)]), 40.0),
            "primary",
            "桑梓店大街",
            "Sangzidian Street",
        ),
        Road(
            LineString(_ll([(116.935, 36.716), (116.935, 36.770)])),
            "primary",
            "建邦黄河大桥",
            "Jianbang Yellow River Bridge",
            crossing="bridge",
        ),
        Road(
            LineString(_ll([(117.005, 36.712), (117.0075, 36.765)])),
            "tertiary",
            "泺口浮桥",
            "Luokou Pontoon Bridge",
            crossing="bridge",
        ),
        Road(
            LineString(_ll([(116.900, 36.714), (116.900, 36.770)])),
            "trunk",
            "齐鲁黄河大桥",
            "Qilu Yellow River Bridge",
            crossing="bridge",
        ),
    ]


def _grid_lines(
    region: BaseGeometry,
    spacing: float,
    rng: np.random.Generator,
    *,
    jitter: float,
    amplitude: float,
    skip_near: list[BaseGeometry] | None = None,
) -> Iterator[tuple[str, int, LineString]]:
    """Gently curving grid lines over ``region``: (orientation, index, line)."""
    minx, miny, maxx, maxy = region.bounds
    for orient in ("v", "h"):
        lo, hi = (minx, maxx) if orient == "v" else (miny, maxy)
        start = np.ceil(lo / spacing) * spacing
        for k, value in enumerate(np.arange(start, hi, spacing)):
            pos = float(value + rng.uniform(-jitter, jitter))
            if orient == "v":
                coords = [(pos, miny - 200), (pos, maxy + 200)]
            else:
                coords = [(minx - 200, pos), (maxx + 200, pos)]
            line = wavy_line(coords, rng, amplitude=amplitude, wavelength=rng.uniform(1400, 3200))
            if _runs_along(line, skip_near or [], spacing * 0.55):
                continue
            yield orient, k, line


def _runs_along(line: LineString, others: list[BaseGeometry], gap: float) -> bool:
    """Whether ``line`` stays within ``gap`` of one of ``others`` along its length."""
    for other in others:
        samples = [other.interpolate(f, normalized=True) for f in (0.2, 0.4, 0.6, 0.8)]
        if max(line.distance(p) for p in samples) < gap:
            return True
    return False


def _road_plan(ctx: Context) -> list[Road]:
    """Every synthetic road, before clipping to where it may run."""
    rng = np.random.default_rng(SEED + 10)
    roads = _named_roads(ctx, rng)
    named_v = [r.geometry for r in roads if r.name_zh in {"济泺路", "无影山路"}]
    named_h = [r.geometry for r in roads if r.name_zh in {"北园大街", "二环北路", "堤口路"}]
    domain = ctx.district.buffer(300)
    urban = domain.intersection(ctx.south_bank).difference(ctx.floodplain)
    river_strip = ctx.xiaoqing_line.buffer(XIAOQING_ROAD_OFFSET_M + 5)
    oneways = {"yes": 0, "-1": 0}
    # Urban south bank: ~210 m streets; every 4th a secondary, every other a tertiary road.
    for orient, k, line in _grid_lines(
        urban, 210.0, rng, jitter=30.0, amplitude=22.0, skip_near=named_v + named_h
    ):
        if k % 4 == 0:
            roads.append(Road(_clip(line, urban), "secondary"))
            continue
        if k % 2 == 0:
            oneway = ""
            if (
                orient == "h"
                and oneways["yes"] < 2
                and line.centroid.y < ctx.anchor_xy("beiyuan")[1]
            ):
                oneway = "yes" if oneways["yes"] <= oneways["-1"] else "-1"
                oneways[oneway] += 1
            roads.append(Road(_clip(line, urban), "tertiary", oneway=oneway))
            continue
        # Residential streets stop short of the Xiaoqing River and break into pieces:
        # superblocks and dead ends instead of a perfect grid.
        local = _clip(line, urban.difference(river_strip))
        for part in shapely.get_parts(local):
            for chunk in _chunks(part, rng):
                if rng.random() > 0.22:
                    roads.append(Road(chunk, "residential"))
    rural = domain.intersection(ctx.north_bank).difference(ctx.floodplain)
    rural = rural.difference(ctx.reservoir.buffer(30))
    for _, k, line in _grid_lines(rural, 950.0, rng, jitter=90.0, amplitude=60.0):
        roads.append(Road(_clip(line, rural), "secondary" if k % 3 == 0 else "unclassified"))
    park = ctx.industrial_park.buffer(150).intersection(rural)
    for _, _, line in _grid_lines(park, 340.0, rng, jitter=30.0, amplitude=15.0):
        roads.append(Road(_clip(line, park), "tertiary"))
    towns = shapely.union_all(
        [
            Point(ctx.anchor_xy("daqiao")).buffer(900),
            Point(ctx.anchor_xy("sangzidian")).buffer(900),
            ctx.pilot_area.buffer(100),
        ]
    ).intersection(rural)
    for _, _, line in _grid_lines(towns, 230.0, rng, jitter=25.0, amplitude=15.0):
        roads.append(Road(_clip(line, towns), "residential"))
    # Village streets: two crossing lanes through each village, long enough to meet the
    # rural grid.
    for village in shapely.get_parts(ctx.villages):
        if village.area < 5000:
            continue
        c = village.centroid
        reach = np.sqrt(village.area / np.pi) + 600.0
        ang = np.deg2rad(rng.uniform(-12, 12))
        for theta in (ang, ang + np.pi / 2):
            dx, dy = np.cos(theta) * reach, np.sin(theta) * reach
            lane = LineString([(c.x - dx, c.y - dy), (c.x + dx, c.y + dy)])
            roads.append(Road(_clip(lane, rural), "residential"))
    # Floodplain access roads down from the levees (farm tracks), denser at the scenic area
    # and Que Hill.
    scenic = Point(ctx.anchor_xy("yellow_river_scenic")).buffer(1600)
    que = Point(ctx.anchor_xy("que_hill")).buffer(1200)
    s = 300.0
    while s < ctx.centreline.length:
        p = ctx.centreline.interpolate(s)
        q = ctx.centreline.interpolate(min(s + 1.0, ctx.centreline.length))
        t = np.array([q.x - p.x, q.y - p.y])
        t /= np.hypot(*t)
        n = np.array([-t[1], t[0]])
        base = np.array([p.x, p.y])
        south_track = LineString([base - n * (FLOODPLAIN_SOUTH_M + 20), base - n * 320])
        north_track = LineString([base + n * (FLOODPLAIN_NORTH_M + 20), base + n * 320])
        for track in (south_track, north_track):
            clipped = _clip(track, domain.difference(ctx.channel.buffer(50)))
            roads.append(Road(clipped, "unclassified"))
        near = scenic.contains(p) or que.contains(p)
        s += 550.0 if near else 1300.0
    return [r for r in roads if not r.geometry.is_empty]


def _clip(line: BaseGeometry, region: BaseGeometry) -> BaseGeometry:
    return line.intersection(region)


def _chunks(line: Any, rng: np.random.Generator) -> Iterator[LineString]:
    """Cut a line into pieces 350-900 m long."""
    if line.geom_type != "LineString":
        return
    start = 0.0
    while start < line.length - 1.0:
        end = min(start + rng.uniform(350.0, 900.0), line.length)
        piece = shapely.ops.substring(line, start, end)
        if isinstance(piece, LineString) and piece.length > 1.0:
            yield piece
        start = end


def _road_pieces(ctx: Context, roads: list[Road]) -> list[tuple[Road, LineString]]:
    """Split multi-part roads into lines; crossings keep only their part over the channel."""
    out: list[tuple[Road, LineString]] = []
    domain = ctx.district.buffer(300)
    land = domain.difference(ctx.channel.buffer(5.0))
    for road in roads:
        geom = road.geometry.intersection(domain if road.crossing else land)
        parts = [
            p for p in shapely.get_parts(shapely.line_merge(geom)) if p.geom_type == "LineString"
        ]
        out.extend((road, p) for p in parts if p.length >= 40)
    return out


def road_network(
    ctx: Context,
) -> tuple[pd.DataFrame, list[tuple[int, list[int], dict[str, str]]], gpd.GeoDataFrame]:
    """Noded synthetic road network: OSM nodes, OSM ways and the road centre lines."""
    pieces = _road_pieces(ctx, _road_plan(ctx))
    geoms = np.array([g for _, g in pieces], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    cuts: dict[int, list[float]] = {i: [0.0, float(g.length)] for i, g in enumerate(geoms)}
    channel_edge = ctx.channel.buffer(1)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i == j:
            continue
        road_i, road_j = pieces[i][0], pieces[j][0]
        hit = geoms[i].intersection(geoms[j])
        for pt in shapely.get_parts(hit):
            if pt.geom_type != "Point":
                continue
            # A crossing (bridge/tunnel) meets other roads only on land.
            if (road_i.crossing or road_j.crossing) and channel_edge.contains(pt):
                continue
            cuts[i].append(float(geoms[i].project(pt)))
    # Roads are also cut where they meet a river bank, so bridge tags cover the water.
    banks = shapely.union_all([ctx.channel.boundary, ctx.xiaoqing.boundary])
    for i, geom in enumerate(geoms):
        if geom.intersects(banks):
            hit = geom.intersection(banks)
            cuts[i].extend(
                float(geom.project(pt)) for pt in shapely.get_parts(hit) if pt.geom_type == "Point"
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
    way_id = 1
    for i, (road, geom) in enumerate(pieces):
        stops = sorted(set(np.round(cuts[i], 3).tolist()))
        for d0, d1 in itertools.pairwise(stops):
            seg = shapely.ops.substring(geom, d0, d1)
            if seg.length < 1 or seg.geom_type != "LineString":
                continue
            coords = [(float(c[0]), float(c[1])) for c in seg.coords]
            refs = [node_for(coords[0])]
            # Keep the bends of curved streets as intermediate nodes of the way.
            refs.extend(node_for(c) for c in coords[1:-1])
            refs.append(node_for(coords[-1]))
            refs = [r for k, r in enumerate(refs) if k == 0 or r != refs[k - 1]]
            if len(refs) < 2:
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
            mid = seg.interpolate(0.5, normalized=True)
            if ctx.channel.contains(mid):
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
            elif ctx.xiaoqing.contains(mid):
                tags.update({"bridge": "yes", "layer": "1"})
            tags["source"] = "synthetic (tqspatial)"
            ways.append((way_id, refs, tags))
            lines.append({"way_id": way_id, **tags, "geometry": seg})
            way_id += 1
    xy = np.array(node_xy)
    to_ll = pyproj.Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    nodes = pd.DataFrame({"id": np.arange(1, len(xy) + 1), "lon": lon, "lat": lat})
    centre_lines = gpd.GeoDataFrame(lines, geometry="geometry", crs=WORKING_CRS)
    return nodes, ways, centre_lines


# ----------------------------------------------------------------------------- land use

#: Land-use mix by locality: 2023 用地用海分类 codes and their probability (assumptions:
#: plausible shares for each kind of place, not survey figures).  Schools, clinics, markets,
#: care homes and most parks are not drawn here: they are placed per GB 50180-2018 life
#: circle by :mod:`tqspatial.datasets._services`.
LANDUSE_MIX: dict[str, dict[str, float]] = {
    "old_core": {
        "070102": 0.46,
        "070103": 0.03,
        "090101": 0.11,
        "0902": 0.08,
        "0801": 0.04,
        "0805": 0.01,
        "1201": 0.03,
        "1208": 0.02,
        "1303": 0.02,
        "1403": 0.01,
        "100101": 0.03,
        "1101": 0.04,
        "070302": 0.02,
        "1503": 0.01,
        "2301": 0.05,
        "16": 0.04,
    },
    "new_urban": {
        "070102": 0.34,
        "070101": 0.02,
        "0902": 0.13,
        "090101": 0.09,
        "0801": 0.03,
        "0802": 0.04,
        "0805": 0.02,
        "1402": 0.05,
        "100101": 0.05,
        "1101": 0.05,
        "1208": 0.02,
        "1303": 0.02,
        "2301": 0.07,
        "16": 0.07,
    },
    "hq_mixed": {
        "0902": 0.32,
        "090101": 0.13,
        "070102": 0.22,
        "0802": 0.07,
        "100101": 0.06,
        "1101": 0.04,
        "1402": 0.04,
        "1303": 0.01,
        "0801": 0.03,
        "2301": 0.05,
        "16": 0.03,
    },
    "luokou_market": {
        "090102": 0.40,
        "1101": 0.18,
        "070102": 0.18,
        "090101": 0.10,
        "070302": 0.04,
        "100101": 0.03,
        "1208": 0.02,
        "2301": 0.05,
    },
    "urban_village": {
        "070302": 0.80,
        "070301": 0.04,
        "090101": 0.06,
        "1101": 0.04,
        "2301": 0.06,
    },
    "industry_yaoshan": {
        "100102": 0.36,
        "100101": 0.20,
        "100103": 0.04,
        "1101": 0.12,
        "0802": 0.06,
        "0902": 0.03,
        "070102": 0.05,
        "1402": 0.05,
        "1303": 0.02,
        "2301": 0.07,
    },
    "industry_huanggang": {
        "100102": 0.35,
        "100101": 0.20,
        "1101": 0.18,
        "070102": 0.10,
        "0902": 0.04,
        "1402": 0.04,
        "1303": 0.02,
        "2301": 0.07,
    },
    "north_industry": {
        "100102": 0.42,
        "100101": 0.18,
        "100103": 0.06,
        "1101": 0.10,
        "0802": 0.03,
        "1402": 0.06,
        "1303": 0.03,
        "0102": 0.05,
        "2301": 0.07,
    },
    "north_town": {
        "070102": 0.30,
        "070301": 0.25,
        "090101": 0.12,
        "0801": 0.04,
        "100101": 0.08,
        "1101": 0.08,
        "2301": 0.13,
    },
    "pilot_new_town": {
        "070102": 0.15,
        "0902": 0.12,
        "090101": 0.08,
        "2301": 0.43,
        "1402": 0.06,
        "0102": 0.12,
        "1303": 0.02,
        "1208": 0.02,
    },
    "village": {"070301": 0.86, "0704": 0.04, "060202": 0.03, "060201": 0.02, "2301": 0.05},
    "north_rural": {
        "0102": 0.62,
        "0103": 0.10,
        "0101": 0.03,
        "0201": 0.06,
        "0301": 0.07,
        "060201": 0.03,
        "060203": 0.02,
        "1704": 0.04,
        "1705": 0.03,
    },
    "floodplain": {
        "0102": 0.35,
        "0301": 0.20,
        "0506": 0.20,
        "0403": 0.10,
        "1704": 0.05,
        "0103": 0.10,
    },
    "scenic": {"1401": 0.75, "0301": 0.15, "1704": 0.10},
    "que_hill": {"1401": 1.0},
    "reservoir": {"1703": 1.0},
    "riverside_green": {"1401": 1.0},
}
#: Named parks are whole localities of park land.
PARK_PREFIX = "park:"

#: Typical parcel size (m²) by locality; plots are cut until smaller than this.
PARCEL_SIZE_M2 = {
    "old_core": 3800.0,
    "new_urban": 9000.0,
    "hq_mixed": 8000.0,
    "luokou_market": 5000.0,
    "urban_village": 2600.0,
    "industry_yaoshan": 18000.0,
    "industry_huanggang": 15000.0,
    "north_industry": 28000.0,
    "north_town": 6000.0,
    "pilot_new_town": 16000.0,
    "village": 2600.0,
    "north_rural": 42000.0,
    "floodplain": 60000.0,
    "scenic": 45000.0,
    "que_hill": 1e12,
    "reservoir": 1e12,
    "riverside_green": 16000.0,
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
    "080601": "A51",
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

#: GB/T 4754-2017 two-digit manufacturing divisions (大类) drawn for industrial parcels, by
#: locality, from the lead industries of the Tianqiao strategy (seed/: 新型功能材料 and
#: 智能制造装备 at the New Materials Industrial Park; 未来消费/健康/数智 at Yaoshan) and the
#: district's existing industry (汽车制造、化工、纺织、造纸, 天桥区政府网 "天桥概况").
#: Weights are assumptions.
INDUSTRY_MIX: dict[str, dict[str, float]] = {
    # 新型功能材料: 26 化学原料和化学制品, 29 橡胶和塑料制品, 30 非金属矿物制品,
    # 32 有色金属冶炼和压延加工; 智能制造装备: 34 通用设备, 35 专用设备, 38 电气机械和器材,
    # 39 计算机、通信和其他电子设备.
    "north_industry": {
        "26": 0.22,
        "29": 0.08,
        "30": 0.12,
        "32": 0.10,
        "34": 0.15,
        "35": 0.15,
        "38": 0.12,
        "39": 0.06,
    },
    # 未来消费 (预制菜, 营养保健食品): 13 农副食品加工, 14 食品制造; 未来健康: 27 医药制造,
    # 35 专用设备 (医疗装备); 未来数智: 39, 40 仪器仪表; plus the older 26 化工 and 36 汽车.
    "industry_yaoshan": {
        "13": 0.05,
        "14": 0.15,
        "27": 0.15,
        "35": 0.10,
        "39": 0.10,
        "40": 0.05,
        "26": 0.20,
        "36": 0.10,
        "33": 0.10,
    },
    # Older mixed industry: 36 汽车, 33 金属制品, 34 通用设备, 22 造纸, 17 纺织, 26 化工.
    "industry_huanggang": {
        "36": 0.18,
        "33": 0.20,
        "34": 0.18,
        "22": 0.10,
        "17": 0.10,
        "26": 0.10,
        "30": 0.04,
        "13": 0.10,
    },
    "*": {"13": 0.25, "14": 0.15, "30": 0.20, "33": 0.25, "34": 0.15},
}


def _zone_blocks(blocks: list[Any], locs: list[_layout.Locality]) -> list[tuple[str, Any]]:
    """Give each road block to localities: cutting ones first, the rest to one claimant."""
    for loc in locs:
        shapely.prepare(loc.geometry)
    cutters = [loc for loc in locs if loc.cuts]
    claimants = [loc for loc in locs if not loc.cuts]
    out: list[tuple[str, Any]] = []
    for block in blocks:
        remaining = block
        pieces: list[tuple[str, Any]] = []
        for loc in cutters:
            if remaining.is_empty:
                break
            if not loc.geometry.intersects(remaining):
                continue
            piece = _polygonal(shapely.intersection(remaining, loc.geometry, grid_size=GRID_M))
            if piece is None:
                continue
            pieces.append((loc.name, piece))
            remaining = shapely.difference(remaining, loc.geometry, grid_size=GRID_M)
        rest = None if remaining.is_empty else _polygonal(remaining)
        if rest is not None:
            pieces.append((_claimant(rest, claimants), rest))
        if not pieces:
            continue
        # Fold slivers into the largest piece of the block so no land is lost.
        pieces.sort(key=lambda zp: -zp[1].area)
        main_zone, main = pieces[0]
        small = [p for _, p in pieces[1:] if p.area < SLIVER_M2]
        if small:
            main = _polygonal(shapely.union_all([main, *small], grid_size=GRID_M))
        out.append((main_zone, main))
        out.extend((z, p) for z, p in pieces[1:] if p.area >= SLIVER_M2)
    return out


def _claimant(piece: Any, claimants: list[_layout.Locality]) -> str:
    best, best_share = claimants[-1].name, -1.0
    for loc in claimants:
        if loc.geometry.contains(piece):
            return loc.name
        if not loc.geometry.intersects(piece):
            continue
        share = shapely.intersection(piece, loc.geometry).area / piece.area
        if share >= 0.5:
            return loc.name
        if share > best_share:
            best, best_share = loc.name, share
    return best


def parcel_geometries(ctx: Context, roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut the district's land (minus roads and river channels) into plots with a locality."""
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
    # 2 cm inside the boundary, so rounding to the 1 cm grid never puts land outside it.
    district = shapely.set_precision(ctx.district.buffer(-0.02), GRID_M)
    land = shapely.difference(district, shapely.union_all([road_area, water]), grid_size=GRID_M)
    blocks = [b for b in shapely.get_parts(land) if b.area >= 50]
    locs = _layout.localities(ctx, np.random.default_rng(SEED + 5))
    records: list[tuple[str, Any]] = []
    for zone, piece in _zone_blocks(blocks, locs):
        size = 1e12 if zone.startswith(PARK_PREFIX) else PARCEL_SIZE_M2[zone]
        records.extend((zone, part) for part in _split(piece, size, rng))
    zone_arr = np.array([z for z, _ in records], dtype=object)
    geoms = _as_coverage(np.array([g for _, g in records], dtype=object))
    frame = gpd.GeoDataFrame({"zone": zone_arr}, geometry=geoms, crs=WORKING_CRS)
    frame = frame[frame.geometry.notna()]
    frame = frame[~frame.geometry.is_empty & (frame.geometry.area > 1.0)]
    frame = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    # Order parcels south-to-north, west-to-east so ids read like a survey sheet.
    cx = frame.geometry.centroid.x.to_numpy()
    cy = frame.geometry.centroid.y.to_numpy()
    order = np.lexsort((np.round(cx, -2), np.round(cy, -2)))
    frame = frame.iloc[order].reset_index(drop=True)
    logger.info("parcel geometries: %d plots from %d blocks", len(frame), len(blocks))
    return frame


def land_use(frame: gpd.GeoDataFrame, ctx: Context) -> gpd.GeoDataFrame:
    """Draw the 2023 land-use code, the 街道 and, for industry, the GB/T 4754 division."""
    rng = np.random.default_rng(SEED + 6)
    zone = frame["zone"].to_numpy()
    code = np.empty(len(frame), dtype=object)
    for z in np.unique(zone):
        idx = np.flatnonzero(zone == z)
        mix = {"1401": 1.0} if str(z).startswith(PARK_PREFIX) else LANDUSE_MIX[str(z)]
        codes = list(mix)
        p = np.array([mix[c] for c in codes])
        code[idx] = rng.choice(codes, size=len(idx), p=p / p.sum())
    out = frame.copy()
    out["code"] = code
    points = out.geometry.representative_point()
    banks = {
        "south": ctx.south_bank.difference(ctx.channel),
        "north": ctx.north_bank.difference(ctx.channel),
    }
    cells = _layout.subdistrict_cells(ctx.district.buffer(1), banks)
    sub = np.full(len(out), "", dtype=object)
    for name, cell in cells.items():
        sub[shapely.contains(cell, points.to_numpy())] = name
    # Points on a cell edge or in the channel: nearest cell.
    missing = np.flatnonzero(sub == "")
    if len(missing):
        names = list(cells)
        geoms = np.array([cells[n] for n in names], dtype=object)
        for i in missing:
            sub[i] = names[int(np.argmin(shapely.distance(geoms, points.iloc[i])))]
    out["subdistrict"] = sub
    industry = np.full(len(out), None, dtype=object)
    is_industry = np.array([str(c).startswith("10") for c in code])
    for z in np.unique(zone[is_industry]):
        idx = np.flatnonzero(is_industry & (zone == z))
        mix = INDUSTRY_MIX.get(str(z), INDUSTRY_MIX["*"])
        codes = list(mix)
        p = np.array([mix[c] for c in codes])
        industry[idx] = rng.choice(codes, size=len(idx), p=p / p.sum())
    out["industry_code"] = industry
    return out


#: Build year, FAR and coverage by land use and locality: (year mean, sd, FAR mean, sd,
#: coverage mean, sd).  Assumptions for Jinan, not survey figures: walk-up housing of the
#: 1980s-90s at FAR 1.3-1.9, post-2000 estates at 1.9-2.7, urban villages of 3-4 storey
#: self-built houses at 1.0-1.5, rural courtyard homesteads 0.4-0.7, industry 0.8-1.2.
BUILT_FORM: dict[str, tuple[float, float, float, float, float, float]] = {
    "housing_old_core": (1988, 7, 1.6, 0.3, 0.30, 0.05),
    "housing_pre2000": (1994, 4, 1.6, 0.3, 0.28, 0.05),
    "housing_post2000": (2010, 6, 2.3, 0.35, 0.24, 0.04),
    "housing_pilot": (2021, 2, 2.6, 0.3, 0.22, 0.03),
    "housing_town": (2007, 8, 1.8, 0.35, 0.28, 0.05),
    "urban_village": (1993, 9, 1.25, 0.25, 0.55, 0.07),
    "rural_home": (1996, 11, 0.55, 0.12, 0.45, 0.08),
    "market": (1998, 7, 1.3, 0.35, 0.55, 0.08),
    "commerce": (2005, 9, 2.6, 0.7, 0.40, 0.08),
    "industry_south": (1996, 10, 0.9, 0.3, 0.42, 0.10),
    "industry_north": (2011, 6, 1.0, 0.3, 0.45, 0.10),
    "warehouse": (2000, 9, 0.8, 0.3, 0.45, 0.10),
    "public": (1997, 12, 1.2, 0.4, 0.28, 0.06),
    "utility": (2001, 10, 0.4, 0.2, 0.25, 0.08),
}
#: Share of post-2000 estates among urban housing outside the old core (assumption).
NEW_HOUSING_SHARE = 0.55


def built_form(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build year, FAR, coverage and floor area (0 on unbuilt land)."""
    rng = np.random.default_rng(SEED + 7)
    code = frame["code"].to_numpy().astype(str)
    zone = frame["zone"].to_numpy().astype(str)
    n = len(frame)
    form = np.full(n, "", dtype=object)
    major = np.array([c[:2] for c in code])
    urban_housing = np.isin(code, ["070101", "070102", "070103"])
    form[urban_housing & (zone == "old_core")] = "housing_old_core"
    rest = urban_housing & (form == "")
    form[rest & np.isin(zone, ["north_town"])] = "housing_town"
    form[rest & (zone == "pilot_new_town")] = "housing_pilot"
    rest = urban_housing & (form == "")
    new = rng.random(n) < NEW_HOUSING_SHARE
    form[rest & new] = "housing_post2000"
    form[rest & ~new] = "housing_pre2000"
    form[code == "070302"] = "urban_village"
    form[np.isin(code, ["070301", "0704"])] = "rural_home"
    form[code == "090102"] = "market"
    form[np.isin(code, ["090101", "0902"])] = "commerce"
    north = np.isin(zone, ["north_industry", "north_town", "village", "north_rural"])
    form[(major == "10") & ~north] = "industry_south"
    form[(major == "10") & north] = "industry_north"
    form[major == "11"] = "warehouse"
    form[(major == "08") | (code == "0702")] = "public"
    form[np.isin(major, ["12", "13"]) | np.isin(code, ["060201", "060202", "060203"])] = "utility"
    year = np.full(n, np.nan)
    far = np.zeros(n)
    cov = np.zeros(n)
    for key, (ym, ys, fm, fs, cm, cs) in BUILT_FORM.items():
        idx = np.flatnonzero(form == key)
        year[idx] = np.round(np.clip(rng.normal(ym, ys, len(idx)), 1950, 2024))
        far[idx] = np.round(np.clip(rng.normal(fm, fs, len(idx)), 0.1, 6.0), 2)
        cov[idx] = np.round(np.clip(rng.normal(cm, cs, len(idx)), 0.05, 0.9), 2)
    # Pre-2000 and post-2000 estates keep to their side of 2000.
    pre = form == "housing_pre2000"
    year[pre] = np.minimum(year[pre], 1999)
    post = form == "housing_post2000"
    year[post] = np.maximum(year[post], 2000)
    out = frame.copy()
    out["form"] = form
    out["year"] = year
    out["far"] = far
    out["cov"] = cov
    return out


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


# ----------------------------------------------------------------------------- parcels

#: Jobs per m² of floor area by land use (assumptions: no public employment figure for the
#: district was found, so jobs are not calibrated).
JOBS_PER_M2 = {
    "10": 1 / 150,
    "11": 1 / 300,
    "08": 1 / 100,
    "0902": 1 / 50,
    "090101": 1 / 60,
    "090102": 1 / 50,
    "0702": 1 / 100,
}
#: Share of industrial/warehouse and of commercial parcels standing idle (assumption).
IDLE_SHARE = {"industry": 0.07, "commerce": 0.04}


def parcels_and_facilities(
    ctx: Context, roads: gpd.GeoDataFrame, cal: _services.Calibration
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, list[_services.Circle]]]:
    """Parcels with calibrated attributes, and the facilities placed on them."""
    frame = land_use(parcel_geometries(ctx, roads), ctx)
    points = frame.geometry.representative_point().to_numpy()
    north = shapely.contains(ctx.north_bank, points)
    frame["bank"] = np.where(north, "north", "south")
    frame = built_form(frame)
    area = frame.geometry.area.to_numpy()
    code0 = frame["code"].to_numpy().astype(str)
    people0 = _services.housing_capacity(code0, np.round(frame["far"].to_numpy() * area))
    provisional = people0 * cal.residents / people0.sum()
    rng = np.random.default_rng(SEED + 3)
    frame, rows, circles = _services.place_facilities(frame, provisional, cal, rng)
    # Parcels taken by a facility or a park get that use's built form.
    code = frame["code"].to_numpy().astype(str)
    changed = code != code0
    form_rng = np.random.default_rng(SEED + 8)
    year = frame["year"].to_numpy().copy()
    far = frame["far"].to_numpy().copy()
    cov = frame["cov"].to_numpy().copy()
    park = changed & (code == "1401")
    built = changed & ~park
    far[park], cov[park], year[park] = 0.0, 0.0, np.nan
    ym, ys, fm, fs, cm, cs = BUILT_FORM["public"]
    nb = int(built.sum())
    year[built] = np.round(np.clip(form_rng.normal(ym, ys, nb), 1950, 2024))
    far[built] = np.round(np.clip(form_rng.normal(fm, fs, nb), 0.3, 3.0), 2)
    cov[built] = np.round(np.clip(form_rng.normal(cm, cs, nb), 0.1, 0.6), 2)
    floor = np.round(far * area)
    capacity = _services.housing_capacity(code, floor)
    residents = _services.round_to_total(capacity, cal.residents)
    logger.info(
        "residents: housing stock holds %.0f at the assumed floor area per person; scaled by "
        "%.3f to the census total %d",
        capacity.sum(),
        cal.residents / capacity.sum(),
        cal.residents,
    )
    households_total = round(cal.residents / cal.persons_per_household)
    occupied = (residents > 0).astype(np.int64)  # every occupied parcel has a household
    households = occupied + _services.round_to_total(
        np.maximum(residents / cal.persons_per_household - occupied, 0.0),
        households_total - int(occupied.sum()),
    )
    dwellings = np.round(households / _services.OCCUPANCY).astype(np.int64)
    major = np.array([c[:2] for c in code])
    jobs = np.zeros(len(frame))
    for key, rate in JOBS_PER_M2.items():
        sel = (major == key) if len(key) == 2 else (code == key)
        jobs[sel] = floor[sel] * rate
    idle = np.zeros(len(frame), dtype=bool)
    industry = np.isin(major, ["10", "11"])
    idle[industry] = rng.random(int(industry.sum())) < IDLE_SHARE["industry"]
    commerce = np.isin(code, ["090101", "090102", "0902"])
    idle[commerce] = rng.random(int(commerce.sum())) < IDLE_SHARE["commerce"]
    idle[code == "2301"] = True
    jobs[idle] = 0.0
    # Untidiness real inventories have.
    has_form = far > 0
    missing_year = has_form & (rng.random(len(frame)) < MISSING_BUILD_YEAR_SHARE)
    year[missing_year] = np.nan
    far_out = far.astype(float)
    missing_far = has_form & (rng.random(len(frame)) < MISSING_FAR_SHARE)
    far_out[missing_far] = np.nan
    source_code = code.astype(object).copy()
    legacy = np.array([c in LEGACY_CODE for c in code]) & (rng.random(len(frame)) < LEGACY_SHARE)
    source_code[legacy] = [LEGACY_CODE[c] for c in code[legacy]]
    ids = np.array([f"TQ{i + 1:06d}" for i in range(len(frame))], dtype=object)
    industry_code = frame["industry_code"].to_numpy().astype(object)
    industry_code[~np.array([c.startswith("10") for c in code])] = None
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ids,
            "landuse_code": source_code.astype(str),
            "subdistrict": frame["subdistrict"].to_numpy().astype(str),
            "build_year": pd.array(year, dtype="Int64"),
            "far": far_out,
            "coverage": cov,
            "floor_area_m2": floor,
            "is_idle": idle,
            "residents": pd.array(residents, dtype="Int64"),
            "households": pd.array(households, dtype="Int64"),
            "dwellings": pd.array(dwellings, dtype="Int64"),
            "jobs": pd.array(np.round(jobs).astype(np.int64), dtype="Int64"),
            "industry_code": pd.array(industry_code, dtype="string"),
            "synthetic": True,
        },
        geometry=frame.geometry.to_numpy(),
        crs=WORKING_CRS,
    )
    rows.extend(_services.station_rows(ctx.stations, ctx.district))
    fac = _services.facilities_frame(rows, ids)
    logger.info(
        "parcels: %d (residents %d, households %d, legacy codes %d, missing build year %d, "
        "missing FAR %d); facilities: %d",
        len(parcels),
        int(residents.sum()),
        int(households.sum()),
        int(legacy.sum()),
        int(missing_year.sum()),
        int(missing_far.sum()),
        len(fac),
    )
    return parcels, fac, circles


# ----------------------------------------------------------------------------- structure


#: Radius (m) of the rounding applied to cluster outlines built from road blocks.
CLUSTER_PEN_M = 220.0


def plan_structure(ctx: Context, roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Draw the indicative 一轴两带五组团 layer with feature-following, irregular outlines.

    Clusters are unions of road blocks (faces of the road centre lines) whose centre lies
    in the cluster's intended area, so their edges follow roads, the river and the
    district boundary; the axis and the belts are corridors of varying width along the
    Yellow River (indicative channel and the 1:4M river), Jiluo Road's approximate line
    and the indicative Xiaoqing River.
    """
    rng = np.random.default_rng(SEED + 30)
    a = ctx.anchor_xy
    district = ctx.district
    linework = shapely.union_all(
        [
            *roads.geometry.to_numpy(),
            district.boundary,
            ctx.channel.boundary,
            ctx.floodplain.boundary,
        ]
    )
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    centres = shapely.point_on_surface(faces)
    on_land = shapely.contains(district, centres) & ~shapely.contains(ctx.floodplain, centres)
    south = on_land & shapely.contains(ctx.south_bank, centres)
    north = on_land & shapely.contains(ctx.north_bank, centres)
    intents: list[tuple[str, Any, np.ndarray]] = [
        (
            "hitech_innovation",
            shapely.union_all(
                [
                    blob(
                        (a("yaoshan")[0] + 400, a("yaoshan")[1] - 400),
                        2500,
                        1400,
                        rng,
                        angle_deg=-10,
                    ),
                    blob((a("yaoshan")[0] - 900, a("yaoshan")[1] - 1500), 950, 750, rng),
                ]
            ),
            south,
        ),
        (
            "specialty_commerce",
            blob((a("luokou")[0] + 150, a("luokou")[1] + 100), 1300, 1550, rng, angle_deg=5),
            south,
        ),
        (
            "high_end_services",
            shapely.union_all(
                [
                    blob(a("gongshanghe"), 1300, 950, rng, angle_deg=20),
                    blob((a("beihu")[0] + 200, a("beihu")[1] + 200), 1400, 900, rng, angle_deg=-10),
                ]
            ),
            south,
        ),
        ("smart_manufacturing", ctx.industrial_park.buffer(350), north),
        ("modern_agriculture", district.difference(ctx.pilot_area.buffer(400)), north),
    ]
    taken = np.zeros(len(faces), dtype=bool)
    geoms: dict[str, Any] = {}
    claimed: Any = Polygon()
    banks = {"south": ctx.south_bank, "north": ctx.north_bank}
    for cid, intent, allowed in intents:
        sel = allowed & ~taken & shapely.contains(intent, centres)
        taken |= sel
        blocks = shapely.coverage_union_all(faces[sel])
        # Round the block outline as a planner's pen would (close, then open), then keep
        # it on its bank, out of the floodplain and off the clusters drawn before it.
        drawn = blocks.buffer(CLUSTER_PEN_M).buffer(-2 * CLUSTER_PEN_M).buffer(CLUSTER_PEN_M)
        bank = banks["north" if allowed is north else "south"]
        geom = drawn.intersection(district).intersection(bank).difference(ctx.floodplain)
        geom = shapely.difference(shapely.set_precision(geom, GRID_M), claimed, grid_size=GRID_M)
        claimed = shapely.union(claimed, geom, grid_size=GRID_M)
        geoms[cid] = geom
    # Rebuild the clusters from one noded set of outlines so neighbours share vertices
    # exactly (no slivers of overlap once written in lon/lat).
    ids = list(geoms)
    rebuilt = _as_coverage(np.array([geoms[c] for c in ids], dtype=object))
    geoms = dict(zip(ids, rebuilt, strict=True))
    river = io.read_vector(ctx.raw / "yellow_river_1to4m.geojson", what="rivers")
    real_water = shapely.union_all(
        river.loc[river["feature"] == "water_polygon"].geometry.to_numpy()
    )
    axis_line = ctx.centreline.intersection(district.buffer(3000))
    axis = shapely.union_all(
        [
            _layout.corridor(axis_line, rng, min_half_width=1300.0, max_half_width=2300.0),
            real_water.buffer(600.0),
        ]
    ).intersection(district)
    jiluo_line = LineString(
        [
            lonlat_to_xy(116.984, 36.671),
            a("jiluo_south"),
            a("jiluo_mid"),
            a("jiluo_north"),
            lonlat_to_xy(116.9925, 36.7275),
        ]
    )
    jiluo = _layout.corridor(
        jiluo_line, rng, min_half_width=450.0, max_half_width=950.0, wavelength=3000.0
    ).intersection(district.intersection(ctx.south_bank))
    xiaoqing_line = ctx.xiaoqing_line.intersection(district.buffer(500))
    xiaoqing = _layout.corridor(
        xiaoqing_line, rng, min_half_width=650.0, max_half_width=1350.0, wavelength=5000.0
    ).intersection(district)
    rows = [
        (
            "yellow_river_axis",
            "axis",
            "黄河城市联动轴",
            "Yellow River City Linkage Axis",
            axis,
            "拥河发展;两岸融合;城市功能联动",
            "黄河两岸",
        ),
        (
            "jiluo_road_belt",
            "belt",
            "济泺路黄金经济带",
            "Jiluo Road Golden Economic Belt",
            jiluo,
            "特色商贸;高端服务",
            "泺口国际商贸区;特色专业市场;工商河科技城;陆港商务区",
        ),
        (
            "xiaoqing_river_belt",
            "belt",
            "小清河创新产业带",
            "Xiaoqing River Innovation Belt",
            xiaoqing,
            "创新经济;总部经济",
            "药山工业园;北湖片区",
        ),
        (
            "smart_manufacturing",
            "cluster",
            "新型智造组团",
            "New Smart Manufacturing Cluster",
            geoms["smart_manufacturing"],
            "新型功能材料;智能制造装备",
            "济南新材料产业园区",
        ),
        (
            "hitech_innovation",
            "cluster",
            "高科创新组团",
            "High-tech Innovation Cluster",
            geoms["hitech_innovation"],
            "未来消费;未来健康;未来数智",
            "药山工业园区",
        ),
        (
            "specialty_commerce",
            "cluster",
            "特色商贸组团",
            "Specialty Commerce Cluster",
            geoms["specialty_commerce"],
            "特色商贸;特色文旅;国际商贸",
            "泺口片区",
        ),
        (
            "high_end_services",
            "cluster",
            "高端服务组团",
            "High-end Services Cluster",
            geoms["high_end_services"],
            "高端服务;总部经济;电子商务;文商旅",
            "工商河科技城;北湖片区",
        ),
        (
            "modern_agriculture",
            "cluster",
            "现代农业组团",
            "Modern Agriculture Cluster",
            geoms["modern_agriculture"],
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
            "lead_industries",
            "carriers",
        ],
        geometry="geometry",
        crs=WORKING_CRS,
    )
    frame["geometry"] = shapely.set_precision(frame.geometry.array, GRID_M)
    frame.insert(5, "width_m", np.nan)
    frame["status"] = "indicative"
    frame["indicative"] = True
    frame["basis"] = (
        "indicative outlines drawn by tqspatial.datasets from the locality anchors "
        "(tianqiao_anchors.csv, 100-1000 m uncertainty), the Yellow River (1:4M and the "
        "indicative channel), an approximate Jiluo Road line and the indicative Xiaoqing "
        "River; clusters follow the synthetic road blocks; not an official plan layer"
    )
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
    cal = _services.Calibration.read(raw / "calibration.csv")
    ctx = make_context(raw)
    written: dict[str, Path] = {}
    nodes, ways, centre_lines = road_network(ctx)
    written["roads"] = write_osm_xml(
        raw / "roads.osm", nodes=nodes, ways=ways, generator=GENERATOR + " - SYNTHETIC road network"
    )
    logger.info("roads: %d nodes, %d ways", len(nodes), len(ways))
    structure = plan_structure(ctx, centre_lines)
    written["plan_structure"] = io.write_geojson(
        raw / "plan_structure.geojson", structure.to_crs("EPSG:4326")
    )
    parcel_frame, fac, circles = parcels_and_facilities(ctx, centre_lines, cal)
    logger.info("life circles: %s", {level: len(c) for level, c in circles.items()})
    written["parcels"] = io.write_layers(raw / "parcels.gpkg", {"parcels": parcel_frame})
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
            "quantity": "residents of the synthetic parcels (calibrated to the 2020 census total)",
        },
    )
    return written
