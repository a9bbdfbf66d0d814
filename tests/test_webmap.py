"""The folium web map: standalone offline HTML, tooltips, a real headless-Chromium screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer

from tqspatial.maps import style, webmap
from tqspatial.structure import PlanStructure

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FILL_OPACITY = 0.55  # cluster fill opacity in make_webmap
BACKGROUND = (0xF4, 0xF4, 0xF4)  # .leaflet-container background set by make_webmap


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is needed for the web-map screenshot test and was not found; "
        "install it with `apt-get update && apt-get install -y chromium` (Debian package)"
    )


def _geojson_layers(html: str) -> list[dict]:
    """Pull the inlined GeoJSON FeatureCollections out of folium's script."""
    pattern = r"geo_json_\w+_add\((\{.*?\})\);\n"
    return [json.loads(m.group(1)) for m in re.finditer(pattern, html)]


def test_html_is_standalone_and_offline(tianqiao, tmp_path):
    path = webmap.save_webmap(webmap.make_webmap(tianqiao.structure), tmp_path / "m.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "L.geoJson(" in html
    assert "Leaflet" in html  # the inlined library
    assert "tile.openstreetmap" not in html


def test_features_and_tooltips(tianqiao, grid9, tmp_path):
    parcels = grid9.assign(cluster_id="c1", landuse_code="070102")
    fmap = webmap.make_webmap(tianqiao, parcels=parcels, lang="both")
    html = webmap.save_webmap(fmap, tmp_path / "m.html").read_text(encoding="utf-8")
    collections = _geojson_layers(html)
    sizes = sorted(len(c["features"]) for c in collections)
    n_clusters = len(tianqiao.structure.cluster_ids)
    n_corridors = len(tianqiao.structure.corridor_ids)
    assert sizes == sorted([1, len(parcels), n_clusters, n_corridors])
    clusters = next(c for c in collections if len(c["features"]) == n_clusters)
    names = {f["properties"]["name"] for f in clusters["features"]}
    assert "新型智造组团 / New Smart Manufacturing Cluster" in names
    parcel_layer = next(c for c in collections if len(c["features"]) == len(parcels))
    assert {f["properties"]["parcel_id"] for f in parcel_layer["features"]} == set(
        parcels["parcel_id"]
    )
    first = parcel_layer["features"][0]
    lon, lat = first["geometry"]["coordinates"][0][0]
    # independent reprojection of the same vertex with pyproj
    row = parcels.set_index("parcel_id").loc[first["properties"]["parcel_id"]]
    x, y = row.geometry.exterior.coords[0]
    exp_lon, exp_lat = Transformer.from_crs(parcels.crs, "EPSG:4326", always_xy=True).transform(
        x, y
    )
    assert (lon, lat) == pytest.approx((exp_lon, exp_lat), abs=2e-6)
    assert html.count("bindTooltip") >= 3  # parcels, clusters, corridors


def test_unknown_language_is_refused(tianqiao):
    with pytest.raises(ValueError, match="'zh', 'en' or 'both'"):
        webmap.make_webmap(tianqiao.structure, lang="de")


def test_headless_chromium_shows_the_clusters(tianqiao, tmp_path):
    exe = _chromium()
    # the clusters alone: the corridors are drawn over parts of them (the Jiluo Road belt
    # crosses Luokou), which would blend their colours
    frame = tianqiao.structure.to_frame()
    clusters = PlanStructure.from_frame(frame[frame["kind"] == "cluster"])
    page = webmap.save_webmap(
        webmap.make_webmap(clusters, parcels=tianqiao.parcels.iloc[:0]), tmp_path / "map.html"
    )
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=900,800",
            "--virtual-time-budget=4000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    styles = style.cluster_styles(tianqiao.structure.cluster_ids)

    def count_near(rgb: tuple[float, float, float], tol: int = 14) -> int:
        return int((np.abs(pixels - np.asarray(rgb)) <= tol).all(axis=1).sum())

    def blended(hex_colour: str) -> tuple[float, ...]:
        fill = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        return tuple(FILL_OPACITY * fill + (1 - FILL_OPACITY) * np.asarray(BACKGROUND))

    counts = {cid: count_near(blended(s.color)) for cid, s in styles.items()}
    assert all(n >= 200 for n in counts.values()), counts
    # a colour that is not on the map must not be found: the check can fail
    assert count_near(blended("#FF00FF")) < 20


def test_parcels_in_standard_colours_with_chinese_tooltips(tianqiao, grid9, tmp_path):
    parcels = grid9.assign(
        cluster_id=["c1", "unassigned", "c1"] * 3,
        landuse_category=["residential", "warehouse", "unknown"] * 3,
        landuse_canonical=["070301", "1101", None] * 3,
        landuse_code=["070301", "1101", "XX"] * 3,
    )
    fmap = webmap.make_webmap(tianqiao, parcels=parcels, lang="zh")
    html = webmap.save_webmap(fmap, tmp_path / "m.html").read_text(encoding="utf-8")
    layer = next(c for c in _geojson_layers(html) if len(c["features"]) == len(parcels))
    props = [f["properties"] for f in layer["features"]]
    # 农村宅基地 (255, 211, 128) and 仓储用地 (135, 97, 211) of 附录B; unknown in its own grey
    assert [p["_fill"] for p in props[:3]] == ["#FFD380", "#8761D3", "#404040"]
    assert [p["landuse_category"] for p in props[:3]] == ["居住用地", "仓储用地", "未识别"]
    assert props[1]["cluster_id"] == "未纳入组团"
    aliases = [json.loads(m) for m in re.findall(r"let aliases = (\[.*?\]);", html)]
    assert ["地块编号", "组团", "用地大类", "用地代码"] in aliases
    assert ["编号", "名称", "类型", "主导产业"] in aliases  # clusters and corridors
    overlays = {json.loads(f'"{n}"') for n in re.findall(r'"([^"]+)" : geo_json_', html)}
    assert overlays == {"区界", "地块", "组团", "轴带"}
