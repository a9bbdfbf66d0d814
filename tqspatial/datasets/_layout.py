"""Where things are in the synthetic Tianqiao: localities, subdistricts, the indicative plan.

Generator plumbing for :mod:`tqspatial.datasets._synth`.  Every outline here is
*indicative*: drawn from the locality anchors (``tianqiao_anchors.csv``, 100-1000 m
uncertainty), the 1:4M Yellow River and the indicative Xiaoqing River line, with
irregular shapes (smooth random outlines, corridors of varying width, unions of
road blocks) instead of circles.  Nothing here is an official plan or survey layer.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from tqspatial.crs import WORKING_CRS

if TYPE_CHECKING:
    from tqspatial.datasets._synth import Context

_TO_XY = pyproj.Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True)


def lonlat_to_xy(lon: float, lat: float) -> tuple[float, float]:
    """Project a WGS84 lon/lat pair to the working CRS (metres)."""
    x, y = _TO_XY.transform(lon, lat)
    return float(x), float(y)


# ----------------------------------------------------------------------------- shapes


def blob(
    centre: tuple[float, float],
    rx: float,
    ry: float,
    rng: np.random.Generator,
    *,
    angle_deg: float = 0.0,
    roughness: float = 0.22,
    vertices: int = 96,
) -> Polygon:
    """Return an irregular, smooth closed outline around ``centre``.

    The radius is an ellipse (``rx``, ``ry``, rotated by ``angle_deg``) modulated
    by a few random low harmonics, so outlines look drawn, not geometric.
    """
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    wobble = np.ones_like(theta)
    for k in range(2, 6):
        wobble += (
            roughness / k * rng.uniform(0.5, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        )
    x = rx * wobble * np.cos(theta)
    y = ry * wobble * np.sin(theta)
    a = np.deg2rad(angle_deg)
    xr = centre[0] + x * np.cos(a) - y * np.sin(a)
    yr = centre[1] + x * np.sin(a) + y * np.cos(a)
    return Polygon(np.column_stack([xr, yr])).buffer(0)


def wavy_line(
    coords: list[tuple[float, float]],
    rng: np.random.Generator,
    *,
    amplitude: float,
    wavelength: float,
    step: float = 100.0,
) -> LineString:
    """Densify a polyline and displace it sideways by a smooth random wave (metres)."""
    base = LineString(coords)
    n = max(int(base.length / step), 2)
    dist = np.linspace(0.0, base.length, n + 1)
    pts = np.array([base.interpolate(d).coords[0] for d in dist])
    ahead = np.array([base.interpolate(min(d + 1.0, base.length)).coords[0] for d in dist])
    behind = np.array([base.interpolate(max(d - 1.0, 0.0)).coords[0] for d in dist])
    tangent = ahead - behind
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    phase1, phase2 = rng.uniform(0, 2 * np.pi, 2)
    offset = amplitude * (
        np.sin(2 * np.pi * dist / wavelength + phase1)
        + 0.4 * np.sin(2 * np.pi * dist / (wavelength * 0.37) + phase2)
    )
    return LineString(pts + normal * offset[:, None])


def corridor(
    line: BaseGeometry,
    rng: np.random.Generator,
    *,
    min_half_width: float,
    max_half_width: float,
    wavelength: float = 4000.0,
    step: float = 150.0,
) -> BaseGeometry:
    """Return a corridor along ``line`` whose half-width varies smoothly between two bounds."""
    n = max(int(line.length / step), 2)
    dist = np.linspace(0.0, line.length, n + 1)
    phase1, phase2 = rng.uniform(0, 2 * np.pi, 2)
    wave = 0.5 + 0.35 * np.sin(2 * np.pi * dist / wavelength + phase1)
    wave += 0.15 * np.sin(2 * np.pi * dist / (wavelength * 0.41) + phase2)
    radius = min_half_width + (max_half_width - min_half_width) * np.clip(wave, 0.0, 1.0)
    discs = [line.interpolate(d).buffer(r, quad_segs=12) for d, r in zip(dist, radius, strict=True)]
    hull_pieces = [shapely.convex_hull(shapely.union(a, b)) for a, b in itertools.pairwise(discs)]
    return shapely.union_all(hull_pieces)


# ----------------------------------------------------------------------------- subdistricts

#: Tianqiao's 15 街道 (no 镇 since 2016: 桑梓店镇 and 大桥镇 became 街道 under
#: 鲁政函民字〔2016〕8号) with an *approximate* seat (lon, lat) used as the seed of a
#: synthetic Voronoi cell.  The real 街道 boundaries are not in the shared data; cells
#: are indicative (south-bank 街道 on the south bank, 桑梓店 and 大桥 on the north bank).
SUBDISTRICTS: list[tuple[str, str, float, float, str]] = [
    ("制锦市街道", "Zhijinshi", 117.004, 36.671, "south"),
    ("天桥东街街道", "Tianqiao Dongjie", 116.995, 36.673, "south"),
    ("北坦街道", "Beitan", 116.986, 36.676, "south"),
    ("官扎营街道", "Guanzhaying", 116.990, 36.682, "south"),
    ("宝华街街道", "Baohuajie", 117.002, 36.681, "south"),
    ("纬北路街道", "Weibeilu", 116.975, 36.673, "south"),
    ("堤口路街道", "Dikoulu", 116.962, 36.680, "south"),
    ("无影山街道", "Wuyingshan", 116.973, 36.689, "south"),
    ("工人新村南村街道", "Gongren Xincun Nancun", 116.952, 36.688, "south"),
    ("工人新村北村街道", "Gongren Xincun Beicun", 116.955, 36.697, "south"),
    ("北园街道", "Beiyuan", 117.022, 36.691, "south"),
    ("药山街道", "Yaoshan", 116.930, 36.712, "south"),
    ("泺口街道", "Luokou", 116.995, 36.712, "south"),
    ("桑梓店街道", "Sangzidian", 116.905, 36.790, "north"),
    ("大桥街道", "Daqiao", 117.020, 36.775, "north"),
]


def subdistrict_cells(district: BaseGeometry, banks: dict[str, BaseGeometry]) -> dict[str, Any]:
    """Return indicative 街道 cells: Voronoi cells of the seats, each bank split among its seats."""
    cells: dict[str, Any] = {}
    for bank, land in banks.items():
        seeds = [
            (name, lonlat_to_xy(lon, lat)) for name, _, lon, lat, b in SUBDISTRICTS if b == bank
        ]
        area = district.intersection(land)
        if len(seeds) == 1:
            cells[seeds[0][0]] = area
            continue
        vor = shapely.voronoi_polygons(
            MultiPoint([xy for _, xy in seeds]), extend_to=area.buffer(5000)
        )
        parts = list(shapely.get_parts(vor))
        for name, xy in seeds:
            cell = next(c for c in parts if c.contains(Point(xy)))
            cells[name] = cell.intersection(area)
    return cells


# ----------------------------------------------------------------------------- localities


@dataclasses.dataclass(frozen=True)
class Locality:
    """An intended land-use locality: a name and its outline.

    ``cuts`` localities (water, floodplain, parks, villages) cut through road blocks;
    the others claim whole blocks whose larger part they cover, so their edges follow
    the roads.
    """

    name: str
    geometry: BaseGeometry
    cuts: bool


def named_parks(
    a: Callable[[str], tuple[float, float]], rng: np.random.Generator
) -> list[tuple[str, BaseGeometry]]:
    """Real parks and hills of Tianqiao at *indicative* positions and sizes."""
    return [
        # 药山: hill park near the Yaoshan locality (position indicative).
        ("药山公园（位置示意）", blob(_off(a("yaoshan"), 1300, -900), 190, 150, rng)),
        # 标山 and 金牛公园 (with 济南动物园) lie north of Beiyuan Street on the west and
        # east side of Jiluo Road; positions indicative.
        ("标山公园（位置示意）", blob(_off(a("jiluo_south"), -1100, 900), 150, 130, rng)),
        ("金牛公园（济南动物园，位置示意）", blob(_off(a("jiluo_south"), 650, 700), 230, 200, rng)),
        ("北湖公园（位置示意）", blob(_off(a("beihu"), -200, 300), 170, 140, rng)),
    ]


def _off(xy: tuple[float, float], dx: float, dy: float) -> tuple[float, float]:
    return (xy[0] + dx, xy[1] + dy)


def localities(ctx: Context, rng: np.random.Generator) -> list[Locality]:
    """Land-use localities in precedence order (earlier wins where outlines overlap)."""
    a = ctx.anchor_xy
    south = ctx.district.intersection(ctx.south_bank)
    north = ctx.district.intersection(ctx.north_bank)
    fp = ctx.floodplain
    out: list[Locality] = []
    # Natural features and parks cut through blocks.
    out.append(Locality("reservoir", ctx.reservoir, cuts=True))
    out.append(
        Locality(
            "scenic",
            blob(a("yellow_river_scenic"), 1400, 700, rng, angle_deg=-8).intersection(fp),
            cuts=True,
        )
    )
    out.append(
        Locality("que_hill", blob(a("que_hill"), 420, 330, rng).intersection(north), cuts=True)
    )
    out.append(Locality("floodplain", fp, cuts=True))
    out.extend(Locality(f"park:{name}", geom, cuts=True) for name, geom in named_parks(a, rng))
    out.append(Locality("riverside_green", ctx.xiaoqing_green, cuts=True))
    # South bank: industry, markets, urban villages, offices, housing.
    yaoshan = shapely.union_all(
        [
            blob(_off(a("yaoshan"), 300, -300), 1900, 1000, rng, angle_deg=-10),
            blob(_off(a("yaoshan"), -900, -1500), 900, 700, rng),
        ]
    )
    out.append(Locality("industry_yaoshan", yaoshan.intersection(south), cuts=False))
    out.append(
        Locality(
            "industry_huanggang",
            blob(a("huanggang"), 1150, 650, rng, angle_deg=15).intersection(south),
            cuts=False,
        )
    )
    out.append(
        Locality(
            "luokou_market",
            blob(_off(a("luokou"), 150, 0), 900, 1150, rng, angle_deg=5).intersection(south),
            cuts=False,
        )
    )
    villages = [
        blob(lonlat_to_xy(lon, lat), r, r * 0.75, rng, angle_deg=ang)
        for lon, lat, r, ang in (
            (116.965, 36.712, 380, 20),
            (117.016, 36.707, 420, -15),
            (117.031, 36.716, 330, 40),
            (116.944, 36.699, 300, 0),
            (116.978, 36.717, 260, 60),
        )
    ]
    out.append(
        Locality("urban_village", shapely.union_all(villages).intersection(south), cuts=False)
    )
    hq = shapely.union_all(
        [
            blob(a("gongshanghe"), 850, 650, rng, angle_deg=20),
            blob(_off(a("beihu"), 100, 200), 950, 600, rng, angle_deg=-10),
        ]
    )
    out.append(Locality("hq_mixed", hq.intersection(south), cuts=False))
    old_core = _south_of_wavy_line(ctx, lonlat_to_xy(116.99, 36.6875)[1], rng)
    out.append(Locality("old_core", old_core.intersection(south), cuts=False))
    out.append(Locality("new_urban", south, cuts=False))
    # North bank: the two 街道 seats, the Pilot Zone's new town, the industrial park;
    # villages cut through the rural blocks around them.
    towns = shapely.union_all(
        [
            blob(_off(a("sangzidian"), 400, -500), 650, 520, rng),
            blob(a("daqiao"), 700, 560, rng, angle_deg=30),
        ]
    ).intersection(north)
    pilot = ctx.pilot_area.intersection(north)
    out.append(Locality("north_town", towns, cuts=False))
    out.append(Locality("pilot_new_town", pilot.difference(towns), cuts=False))
    out.append(Locality("north_industry", ctx.industrial_park.intersection(north), cuts=False))
    out.append(
        Locality("village", ctx.villages.difference(towns.buffer(300)).difference(pilot), cuts=True)
    )
    out.append(Locality("north_rural", ctx.district, cuts=False))
    return out


def _south_of_wavy_line(ctx: Context, y0: float, rng: np.random.Generator) -> BaseGeometry:
    minx, miny, maxx, _ = ctx.district.bounds
    xs = np.linspace(minx - 3000, maxx + 3000, 60)
    ys = y0 + 350 * np.sin(xs / 2300.0 + rng.uniform(0, 6.28)) + 150 * np.sin(xs / 700.0)
    ring = [(minx - 3000, miny - 5000), *zip(xs, ys, strict=True), (maxx + 3000, miny - 5000)]
    return Polygon(ring)


def villages(ctx: Context, rng: np.random.Generator) -> BaseGeometry:
    """North-bank villages: irregular blobs on a jittered 1.5 km lattice of rural land."""
    north = ctx.district.intersection(ctx.north_bank)
    bx0, by0, bx1, by1 = north.bounds
    shapes = []
    for x in np.arange(bx0, bx1, 1500.0):
        for y in np.arange(by0, by1, 1500.0):
            c = (x + rng.uniform(-450, 450), y + rng.uniform(-450, 450))
            r = rng.uniform(160, 280)
            shapes.append(
                blob(c, r, r * rng.uniform(0.6, 0.95), rng, angle_deg=rng.uniform(0, 180))
            )
    keep_out = shapely.union_all(
        [ctx.floodplain.buffer(150), ctx.industrial_park, ctx.reservoir.buffer(200)]
    )
    return shapely.union_all(shapes).intersection(north).difference(keep_out)
