"""Residents, households and facilities of the synthetic Tianqiao, calibrated to public figures.

Generator plumbing for :mod:`tqspatial.datasets._synth`.  The public figures come
from ``tqspatial/datasets/data/calibration.csv`` (the same table the tests and the data README
read):

* residents: housing floor area / floor area per person x occupancy, then scaled so
  that the district total equals the 2020 census resident population;
* households: residents / persons per household (Shandong, 2020 census); dwellings:
  households / an occupancy share (assumption);
* facilities: the residential area is partitioned into GB 50180-2018 life circles of
  the standard's population sizes (15-minute, 10-minute, 5-minute) and each circle gets
  its level's facilities on a parcel near its residents' centre; parks of the sizes the
  circles need are placed for part of the circles, as in a real district;
* stations: the real railway and metro stations of OpenStreetMap (ODbL).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from tqspatial.crs import WORKING_CRS

logger = logging.getLogger(__name__)

#: Floor area per resident in urban housing and occupied share of dwellings.  Assumptions
#: (Jinan-like values), made irrelevant for the total by the census calibration; they set
#: only how residents are spread over the housing stock.
URBAN_M2_PER_PERSON = 36.0
RURAL_M2_PER_PERSON = 45.0
OCCUPANCY = 0.92

#: Attribution every OpenStreetMap-derived row carries (ODbL 1.0).
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
OSM_SOURCE = "OpenStreetMap via OpenQGIS/OMap-GeoDB railway-station extract (OSM data 2025-01-24)"
SYNTHETIC_SOURCE = "tqspatial synthetic generator (GB 50180-2018 life circles)"


@dataclasses.dataclass(frozen=True)
class Calibration:
    """The public figures the generator is calibrated to (from ``calibration.csv``)."""

    residents: int
    persons_per_household: float
    circle_population: dict[str, tuple[float, float]]
    park_min_area_m2: dict[str, float]

    @classmethod
    def read(cls, path: Path) -> Calibration:
        """Read the calibration table."""
        with path.open(encoding="utf-8", newline="") as fh:
            rows = {r["key"]: r for r in csv.DictReader(fh)}
        circles = {
            level: (
                float(rows[f"service_population_{level}"]["public_min"]),
                float(rows[f"service_population_{level}"]["public_max"]),
            )
            for level in ("15min", "10min", "5min")
        }
        parks = {
            level: float(rows[f"park_min_area_{level}"]["public_value"])
            for level in ("15min", "10min", "5min")
        }
        return cls(
            residents=int(float(rows["residents_total"]["public_value"])),
            persons_per_household=float(rows["persons_per_household"]["public_value"]),
            circle_population=circles,
            park_min_area_m2=parks,
        )


#: Facilities of each life-circle level (TEAM vocabulary) and the 2023 land-use code of
#: their parcel.  Levels as in GB 50180-2018 附录B (see the data README): one entry per
#: circle; the 5-minute health station and community service station share one parcel.
LEVEL_FACILITIES: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "15min": [
        (("middle_school",), "080403"),
        (("community_health_center",), "080602"),
        (("elderly_care_home",), "080701"),
        (("culture_center",), "080302"),
    ],
    "10min": [(("primary_school",), "080403"), (("fresh_market",), "090101")],
    "5min": [
        (("kindergarten",), "080404"),
        (("community_health_station", "community_service_station"), "0702"),
    ],
}
#: Preferred parcel size (m²) per facility and how far from the circle's centre to look (m).
FACILITY_SITE = {
    "middle_school": (12_000.0, 700.0),
    "community_health_center": (2_000.0, 700.0),
    "elderly_care_home": (3_000.0, 900.0),
    "culture_center": (3_000.0, 700.0),
    "primary_school": (7_000.0, 400.0),
    "fresh_market": (1_500.0, 400.0),
    "kindergarten": (2_500.0, 250.0),
    "community_health_station": (800.0, 250.0),
}
#: Codes a facility may take over (vacant land, green buffers, shops, offices, housing).
CONVERTIBLE = ("2301", "1402", "090101", "0902", "070102", "070101", "070103", "070302", "070301")
HOUSING = ("070101", "070102", "070103", "070301", "070302")
#: Share of circles that get a park of the size their level needs when none is within the
#: level's walk of their hub (assumption: real districts have gaps, so coverage < 100 %).
PARK_SHARE = {"15min": 0.5, "10min": 0.55, "5min": 0.5}
#: Walking distance of each level (GB 50180-2018 表3.0.4: 800-1,000 m, 500 m, 300 m).
PARK_WALK_M = {"15min": 1000.0, "10min": 500.0, "5min": 300.0}
#: Most parcels one new park may take.
PARK_MAX_PARCELS = 30
#: Capacity of each facility, as (unit, per resident of the circle served, min, max).
#: Per-resident rates are assumptions (千人指标-like), not from a cited table.
CAPACITY_RULE: dict[str, tuple[str, float, float, float]] = {
    "middle_school": ("pupils", 0.035, 900.0, 3000.0),
    "primary_school": ("pupils", 0.075, 540.0, 2160.0),
    "kindergarten": ("children", 0.03, 90.0, 360.0),
    "community_health_center": ("residents_served", 1.0, 0.0, 1e9),
    "community_health_station": ("residents_served", 1.0, 0.0, 1e9),
    "community_service_station": ("residents_served", 1.0, 0.0, 1e9),
    "elderly_care_home": ("beds", 0.004, 100.0, 500.0),
    "culture_center": ("residents_served", 1.0, 0.0, 1e9),
    "fresh_market": ("stalls", 0.005, 40.0, 160.0),
}
#: Large hospitals named in the 天桥区政府网 description of 工人新村北村街道 (市立四院,
#: 济南军区总院); positions synthetic, beds an assumption.
GENERAL_HOSPITALS = [
    ("济南市第四人民医院（市立四院，位置示意）", 1200.0),
    ("解放军第九六〇医院（原济南军区总医院，位置示意）", 1500.0),
]
HOSPITAL_SUBDISTRICT = "工人新村北村街道"


def housing_capacity(code: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Uncalibrated residents: floor area x occupancy / floor area per person."""
    out = np.zeros(len(code))
    urban = np.isin(code, ["070101", "070102", "070103", "070302"])
    rural = code == "070301"
    out[urban] = floor[urban] * OCCUPANCY / URBAN_M2_PER_PERSON
    out[rural] = floor[rural] * OCCUPANCY / RURAL_M2_PER_PERSON
    return out


def round_to_total(values: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``values`` summing exactly to ``total`` (largest remainder)."""
    if values.sum() <= 0:
        return np.zeros(len(values), dtype=np.int64)
    exact = values / values.sum() * total
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return np.asarray(base, dtype=np.int64)


def _partition(xy: np.ndarray, weight: np.ndarray, idx: np.ndarray, k: int) -> list[np.ndarray]:
    """Split ``idx`` into ``k`` compact groups of near-equal weight (recursive bisection)."""
    if k <= 1 or len(idx) <= 1:
        return [idx]
    pts = xy[idx]
    span = pts.max(axis=0) - pts.min(axis=0)
    axis = int(np.argmax(span))
    order = idx[np.argsort(pts[:, axis], kind="stable")]
    k_left = k // 2
    cum = np.cumsum(weight[order])
    cut = int(np.searchsorted(cum, cum[-1] * k_left / k)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    return _partition(xy, weight, order[:cut], k_left) + _partition(
        xy, weight, order[cut:], k - k_left
    )


@dataclasses.dataclass
class Circle:
    """One life circle: its level, member parcels, residents and residents' centre."""

    level: str
    members: np.ndarray
    residents: float
    centre: tuple[float, float]


def life_circles(
    xy: np.ndarray, people: np.ndarray, bank: np.ndarray, cal: Calibration
) -> dict[str, list[Circle]]:
    """Nested 15/10/5-minute circles of the standard's population sizes, per river bank."""
    out: dict[str, list[Circle]] = {"15min": [], "10min": [], "5min": []}

    def circle(level: str, members: np.ndarray) -> Circle:
        w = people[members]
        centre = (
            float(np.average(xy[members, 0], weights=w)),
            float(np.average(xy[members, 1], weights=w)),
        )
        return Circle(level, members, float(w.sum()), centre)

    def k_for(total: float, level: str) -> int:
        lo, hi = cal.circle_population[level]
        return max(1, round(total / ((lo + hi) / 2)))

    for b in np.unique(bank):
        homes = np.flatnonzero((bank == b) & (people > 0))
        for big in _partition(xy, people, homes, k_for(people[homes].sum(), "15min")):
            out["15min"].append(circle("15min", big))
            for mid in _partition(xy, people, big, k_for(people[big].sum(), "10min")):
                out["10min"].append(circle("10min", mid))
                for small in _partition(xy, people, mid, k_for(people[mid].sum(), "5min")):
                    out["5min"].append(circle("5min", small))
    return out


class _Sites:
    """Parcels available for facilities, taken one by one."""

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        pts = frame.geometry.representative_point()
        self.x = pts.x.to_numpy()
        self.y = pts.y.to_numpy()
        self.area = frame.geometry.area.to_numpy()
        self.code = frame["code"].to_numpy().astype(str).copy()
        self.zone = frame["zone"].to_numpy().astype(str)
        self.taken = np.zeros(len(frame), dtype=bool)

    def pick(
        self,
        centre: tuple[float, float],
        *,
        radius: float,
        min_area: float,
        codes: tuple[str, ...] = CONVERTIBLE,
        within: np.ndarray | None = None,
    ) -> int | None:
        d = np.hypot(self.x - centre[0], self.y - centre[1])
        ok = ~self.taken & np.isin(self.code, codes)
        if within is not None:
            ok &= within
        for r in (radius, radius * 2, radius * 8):
            cand = np.flatnonzero(ok & (d <= r))
            if len(cand) == 0:
                continue
            small = self.area[cand] < min_area
            housing = np.isin(self.code[cand], HOUSING)
            score = d[cand] + 200.0 * housing + 10_000.0 * small
            best = int(cand[np.argmin(score)])
            self.taken[best] = True
            return best
        return None

    def pick_group(
        self, centre: tuple[float, float], *, radius: float, need: float
    ) -> np.ndarray | None:
        """Take the nearest free parcels (within ``radius``) whose area adds up to ``need``."""
        d = np.hypot(self.x - centre[0], self.y - centre[1])
        cand = np.flatnonzero(~self.taken & np.isin(self.code, CONVERTIBLE) & (d <= radius))
        cand = cand[np.argsort(d[cand], kind="stable")][:PARK_MAX_PARCELS]
        total = np.cumsum(self.area[cand])
        if len(cand) == 0 or total[-1] < need:
            return None
        group = cand[: int(np.searchsorted(total, need)) + 1]
        self.taken[group] = True
        return group


def place_facilities(  # noqa: PLR0912, PLR0915 - one pass over circles and parks
    frame: gpd.GeoDataFrame, people: np.ndarray, cal: Calibration, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]], dict[str, list[Circle]]]:
    """Put each circle's facilities and the parks on parcels; return parcels, rows, circles.

    A circle's facilities are grouped around a hub (its school) near the residents'
    centre, as GB 50180-2018 asks for facilities of one level (集中布局).  Parks: the
    named parks and green localities first; then, for part of the circles with no park
    of their level's size near the hub, a park made of the nearest parcels.
    """
    out = frame.copy()
    pts = out.geometry.representative_point()
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    circles = life_circles(xy, people, out["bank"].to_numpy(), cal)
    sites = _Sites(out)
    sites.taken[~np.isin(sites.code, CONVERTIBLE)] = True
    rows: list[dict[str, Any]] = []
    new_code = out["code"].to_numpy().astype(object).copy()
    subdistrict = out["subdistrict"].to_numpy().astype(str)
    area = sites.area

    def add(kind: str, name: str, i: int, capacity: float, unit: str) -> None:
        rows.append(
            {
                "kind": kind,
                "name_zh": name,
                "capacity": float(round(capacity)),
                "capacity_unit": unit,
                "parcel_id_index": i,
                "geometry": pts.iloc[i],
            }
        )

    # Named parks, scenic areas and riverside green.
    zone = out["zone"].to_numpy().astype(str)
    code_now = new_code.astype(str)
    for z in sorted({z for z in zone if z.startswith("park:")} | {"scenic", "que_hill"}):
        members = np.flatnonzero((zone == z) & (code_now == "1401"))
        if len(members) == 0:
            continue
        i = int(members[np.argmax(area[members])])
        add("park", _park_name(z), i, float(area[members].sum()), "m2")
    for g in np.flatnonzero((zone == "riverside_green") & (code_now == "1401")).tolist():
        if area[g] >= cal.park_min_area_m2["5min"]:
            add("park", "小清河滨河绿地", g, float(area[g]), "m2")

    def park_near(hub: tuple[float, float], need: float, radius: float) -> bool:
        return any(
            r["kind"] == "park"
            and r["capacity"] >= need
            and np.hypot(r["geometry"].x - hub[0], r["geometry"].y - hub[1]) <= radius
            for r in rows
        )

    for level in ("15min", "10min", "5min"):
        need = cal.park_min_area_m2[level]
        walk = PARK_WALK_M[level]
        for n, c in enumerate(circles[level]):
            hub = c.centre
            for k, (kinds, code) in enumerate(LEVEL_FACILITIES[level]):
                min_area, radius = FACILITY_SITE[kinds[0]]
                site = sites.pick(hub if k else c.centre, radius=radius, min_area=min_area)
                if site is None:
                    logger.warning("no site for %s in %s circle %d", kinds, level, n)
                    continue
                i = site
                if k == 0:
                    hub = (float(xy[i, 0]), float(xy[i, 1]))
                new_code[i] = code
                for kind in kinds:
                    unit, rate, lo, hi = CAPACITY_RULE[kind]
                    capacity = float(np.clip(c.residents * rate, lo, hi))
                    add(kind, _facility_name(kind, subdistrict[i]), i, capacity, unit)
            if park_near(hub, need, walk) or rng.random() > PARK_SHARE[level]:
                continue
            group = sites.pick_group(hub, radius=walk * 0.6, need=need)
            if group is None:
                continue
            new_code[group] = "1401"
            i = int(group[np.argmax(area[group])])
            label = {"15min": "居住区公园", "10min": "社区公园", "5min": "口袋公园"}[level]
            add("park", f"{label}（{subdistrict[i]}，示意）", i, float(area[group].sum()), "m2")
    # General hospitals on the largest free sites of their 街道.
    in_sub = subdistrict == HOSPITAL_SUBDISTRICT
    for name, beds in GENERAL_HOSPITALS:
        cand = np.flatnonzero(in_sub & ~sites.taken)
        if len(cand) == 0:
            continue
        i = int(cand[np.argmax(area[cand])])
        sites.taken[i] = True
        new_code[i] = "080601"
        add("general_hospital", name, i, beds, "beds")
    out["code"] = new_code
    return out, rows, circles


def _facility_name(kind: str, subdistrict: str) -> str:
    zh = {
        "middle_school": "初中",
        "primary_school": "小学",
        "kindergarten": "幼儿园",
        "community_health_center": "社区卫生服务中心",
        "community_health_station": "社区卫生服务站",
        "community_service_station": "社区服务站",
        "elderly_care_home": "养老院",
        "culture_center": "文化活动中心",
        "fresh_market": "菜市场",
    }[kind]
    return f"{subdistrict.removesuffix('街道')}{zh}（示意）"


def _park_name(zone: str) -> str:
    if zone.startswith("park:"):
        return zone.removeprefix("park:")
    return {"scenic": "百里黄河风景区（范围示意）", "que_hill": "鹊山（范围示意）"}[zone]


def station_rows(stations: gpd.GeoDataFrame, district: BaseGeometry) -> list[dict[str, Any]]:
    """Return the real OpenStreetMap railway and metro stations inside the district."""
    s = stations.to_crs(WORKING_CRS)
    inside = s[shapely.contains(district, s.geometry.to_numpy())]
    inside = inside.sort_values(["station", "lon", "lat"], kind="stable")
    rows = []
    for _, r in inside.iterrows():
        named = isinstance(r["name"], str) and bool(r["name"])
        kind = "metro_station" if r["station"] == "subway" else "rail_station"
        rows.append(
            {
                "kind": kind,
                "name_zh": f"{r['name']}站" if named else "（OSM未命名）",
                "capacity": 1.0,
                "capacity_unit": "station",
                "parcel_id_index": -1,
                "geometry": r.geometry,
                "osm_station": r["station"],
            }
        )
    return rows


def facilities_frame(rows: list[dict[str, Any]], parcel_ids: np.ndarray) -> gpd.GeoDataFrame:
    """Facilities with ids, the parcel they stand on and their provenance per row."""
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=WORKING_CRS)
    idx = frame.pop("parcel_id_index").to_numpy()
    frame["parcel_id"] = np.where(idx >= 0, parcel_ids[np.maximum(idx, 0)], "")
    real = frame["capacity_unit"].eq("station").to_numpy()
    frame["synthetic"] = ~real
    frame["provenance"] = np.where(real, "real", "synthetic")
    frame["source"] = np.where(real, OSM_SOURCE, SYNTHETIC_SOURCE)
    frame["attribution"] = np.where(real, OSM_ATTRIBUTION, "")
    if "osm_station" not in frame.columns:
        frame["osm_station"] = None
    frame.insert(0, "facility_id", [f"F{i + 1:05d}" for i in range(len(frame))])
    cols = [
        "facility_id",
        "kind",
        "name_zh",
        "capacity",
        "capacity_unit",
        "parcel_id",
        "synthetic",
        "provenance",
        "source",
        "attribution",
        "osm_station",
        "geometry",
    ]
    return frame[cols]
