"""The folium web map: standalone offline HTML, embedded CJK font, legend, labels, clipping,
metric scale, the refresh writing it, and real headless-Chromium renders."""

from __future__ import annotations

import base64
import html as html_text
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pytest
import shapely
from fontTools.ttLib import TTFont
from PIL import Image
from pyproj import Transformer
from shapely.geometry import LineString, box

import tqspatial as tq
from tests.district_builder import NAME_ZH, build_district
from tqspatial import maps
from tqspatial.config import load_config, parse_config
from tqspatial.maps import layers as map_layers_module
from tqspatial.maps import style, webfont, webmap
from tqspatial.pipeline import map_layers, read_inputs
from tqspatial.structure import PlanStructure
from tqspatial.vocabulary import zh_headers

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FILL_OPACITY = 0.55  # cluster fill opacity in make_webmap
BACKGROUND = (0xF4, 0xF4, 0xF4)  # .leaflet-container background set by make_webmap
WINDOW = (1000, 800)
#: Han characters, CJK symbols and punctuation, full-width forms: what needs a CJK font.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
#: Tolerance of "inside the district" (degrees; 1e-5 is about 1 m).
INSIDE_TOLERANCE_DEG = 1e-5


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is needed for the web-map screenshot test and was not found; "
        "install it with `apt-get update && apt-get install -y chromium` (Debian package)"
    )


@pytest.fixture(scope="module")
def latin_only_fonts(tmp_path_factory) -> dict[str, str]:
    """Environment for Chromium whose fontconfig sees one Latin font and no CJK font.

    Machines with CJK system fonts would draw Chinese without the embedded font; this
    fontconfig (matplotlib's bundled DejaVu Sans only) makes the test mean the same everywhere.
    """
    folder = tmp_path_factory.mktemp("fontconfig")
    fonts = folder / "fonts"
    fonts.mkdir()
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    shutil.copy(dejavu, fonts / dejavu.name)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CACHE_HOME": str(folder / "cache"),
        "FONTCONFIG_FILE": str(conf),
    }
    fc_list = shutil.which("fc-list")
    if fc_list:  # the isolation holds: no font for Chinese
        found = subprocess.run(
            [fc_list, ":lang=zh"], env=env, capture_output=True, text=True, check=False
        )
        assert found.stdout.strip() == "", found.stdout
    return env


def _chromium_run(page: Path, env: dict[str, str], profile: Path, *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            _chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--virtual-time-budget=4000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
    return done.stdout if "--dump-dom" in args else done.stderr, time.perf_counter() - started


def _screenshot(page: Path, env: dict[str, str], tmp_path: Path) -> np.ndarray:
    shot = tmp_path / f"{page.stem}.png"
    log, _ = _chromium_run(page, env, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.exists(), log[-2000:]
    with Image.open(shot) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def _geojson_layers(html: str) -> list[dict]:
    """Pull the inlined GeoJSON FeatureCollections out of folium's script."""
    pattern = r"geo_json_\w+_add\((\{.*?\})\);\n"
    return [json.loads(m.group(1)) for m in re.finditer(pattern, html)]


def _overlays(html: str) -> dict[str, str]:
    """Layer-control name -> feature group variable."""
    pairs = re.findall(r'"([^"]+)" : (feature_group_\w+)', html)
    return {json.loads(f'"{name}"'): group for name, group in pairs}


def _layer_collections(html: str) -> dict[str, list[dict]]:
    """Layer-control name -> the GeoJSON collections drawn in that layer."""
    data = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r"(geo_json_\w+)_add\((\{.*?\})\);\n", html)
    }
    parent = dict(re.findall(r"(geo_json_\w+)\.addTo\((feature_group_\w+)\)", html))
    out: dict[str, list[dict]] = {}
    for name, group in _overlays(html).items():
        out[name] = [data[g] for g, p in parent.items() if p == group and g in data]
    return out


def _labels(html: str) -> dict[str, list[list]]:
    """Feature group variable -> its text labels [candidates, html, class, rank]."""
    out: dict[str, list[list]] = {}
    for m in re.finditer(r"tqLabels\((feature_group_\w+), (\[.*?\])\);\n", html):
        out.setdefault(m.group(1), []).extend(json.loads(m.group(2)))
    return out


def _legend_text(html: str) -> str:
    block = re.search(r'<div class="tq-legend">(.*?)</details></div>', html, re.S)
    assert block, "no legend"
    return html_text.unescape(re.sub(r"<[^>]+>", "\n", block.group(1)))


def _page_text(html: str) -> str:
    """What the page can show: HTML and scripts with JSON escapes decoded, minus Leaflet and
    the font itself."""
    for name in ("leaflet.js", "leaflet.css"):
        html = html.replace(webmap._static(name), "")
    html = re.sub(r'<style id="tq-font">.*?</style>', "", html, flags=re.S)
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _flatten(coords):
    if isinstance(coords[0], (int, float)):
        yield coords[:2]
        return
    for c in coords:
        yield from _flatten(c)


def _district_lonlat(boundary: gpd.GeoDataFrame) -> shapely.Geometry:
    """The district in lon/lat, reprojected vertex by vertex with pyproj (not geopandas)."""
    to_ll = Transformer.from_crs(boundary.crs, "EPSG:4326", always_xy=True)
    return shapely.transform(
        boundary.union_all(), lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1]))
    )


@pytest.fixture(scope="module")
def tianqiao_page(tianqiao, tmp_path_factory) -> Path:
    """Tianqiao's web map without parcels (the screenshot tests)."""
    folder = tmp_path_factory.mktemp("tianqiao_page")
    fmap = webmap.make_webmap(tianqiao, parcels=tianqiao.parcels.iloc[:0])
    return webmap.save_webmap(fmap, folder / "map.html")


def test_html_is_standalone_and_offline(tianqiao_page):
    html = tianqiao_page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "L.geoJson(" in html
    assert "Leaflet" in html  # the inlined library
    own = html.replace(webmap._static("leaflet.js"), "").replace(webmap._static("leaflet.css"), "")
    # nothing of ours loads or links anything: no URL but data: URLs
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", own)
    assert re.findall(r"url\(([^)]{0,14})", own) == ["data:font/woff"]
    assert "tile.openstreetmap" not in html


def test_the_same_map_gives_the_same_bytes(tianqiao):
    structure = tianqiao.structure
    first = webmap.make_webmap(structure).get_root().render()
    second = webmap.make_webmap(structure).get_root().render()
    assert first == second
    assert "map_0002" in first  # numbered ids, not folium's random ones


def test_features_and_tooltips(tianqiao, grid9, tmp_path):
    parcels = grid9.assign(cluster_id="c1", landuse_code="070102")
    fmap = webmap.make_webmap(tianqiao, parcels=parcels, lang="both")
    html = webmap.save_webmap(fmap, tmp_path / "m.html").read_text(encoding="utf-8")
    layers = _layer_collections(html)
    sizes = {name: [len(c["features"]) for c in found] for name, found in layers.items()}
    n_clusters = len(tianqiao.structure.cluster_ids)
    n_corridors = len(tianqiao.structure.corridor_ids)
    assert sizes["区界 / District boundary"] == [1]
    assert sizes["地块 / Parcels"] == [len(parcels)]
    assert sizes["组团 / Clusters"] == [n_clusters]
    assert sizes["轴带 / Axis and belts"] == [n_corridors]
    assert sizes["相邻区县界 / neighbouring districts"] == [len(tianqiao.districts) - 1]
    clusters = layers["组团 / Clusters"][0]
    names = {f["properties"]["name"] for f in clusters["features"]}
    assert "新型智造组团 / New Smart Manufacturing Cluster" in names
    parcel_layer = layers["地块 / Parcels"][0]
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
    assert html.count("bindTooltip") >= 4  # neighbours, parcels, clusters, corridors


def test_unknown_language_is_refused(tianqiao):
    with pytest.raises(ValueError, match="'zh', 'en' or 'both'"):
        webmap.make_webmap(tianqiao.structure, lang="de")


def test_headless_chromium_shows_the_clusters(tianqiao, tmp_path, latin_only_fonts):
    # the clusters alone: the corridors are drawn over parts of them (the Jiluo Road belt
    # crosses Luokou), which would blend their colours
    frame = tianqiao.structure.to_frame()
    clusters = PlanStructure.from_frame(frame[frame["kind"] == "cluster"])
    page = webmap.save_webmap(
        webmap.make_webmap(clusters, parcels=tianqiao.parcels.iloc[:0]), tmp_path / "map.html"
    )
    pixels = _screenshot(page, latin_only_fonts, tmp_path).reshape(-1, 3)
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


def test_embedded_font_draws_the_chinese_text_not_tofu(tianqiao_page, tmp_path, latin_only_fonts):
    html = tianqiao_page.read_text(encoding="utf-8")
    without = re.sub(r'<style id="tq-font">.*?</style>', "", html, flags=re.S)
    assert without != html, "the page embeds a font"
    bare = tmp_path / "no_font.html"
    bare.write_text(without, encoding="utf-8")
    with_font = _screenshot(tianqiao_page, latin_only_fonts, tmp_path)
    no_font = _screenshot(bare, latin_only_fonts, tmp_path)
    again = _screenshot(tianqiao_page, latin_only_fonts, tmp_path / "again")

    def text_regions(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
        changed = (np.abs(a - b).sum(axis=2) > 60).astype(int)
        height, width = changed.shape
        title = changed[:60, : width // 2]  # the title box, top left
        legend = changed[height // 3 :, : webmap.LEGEND_WIDTH_PX + 20]  # the legend, bottom left
        return int(title.sum()), int(legend.sum())

    # hundreds of pixels change where the text is (glyphs vs tofu boxes) ...
    title, legend = text_regions(with_font, no_font)
    assert title > 400, title
    assert legend > 1500, legend
    # ... while the same page renders the same: the difference is the font, not noise
    assert text_regions(with_font, again) == (0, 0)


def test_font_subset_covers_every_chinese_character_of_the_page(tianqiao_page):
    html = tianqiao_page.read_text(encoding="utf-8")
    data = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html)
    assert data
    font = TTFont(io.BytesIO(base64.b64decode(data.group(1))))
    covered = set(map(chr, font.getBestCmap()))
    chinese = set(CJK.findall(_page_text(html)))
    assert len(chinese) > 50  # the title, legend, labels, tooltips and layer names
    assert chinese <= covered, sorted(chinese - covered)
    original = maps.cjk_font()
    with TTFont(str(original.path), fontNumber=original.face_index, lazy=True) as full:
        assert len(font.getGlyphOrder()) < len(full.getGlyphOrder()) / 50  # a subset
        assert font["name"].getDebugName(1) == full["name"].getDebugName(1)


def test_font_face_subset_is_deterministic():
    text = "区界 组团 5 km"
    assert webfont.font_face_css(text) == webfont.font_face_css(text + "组")  # same glyphs
    assert webfont.font_face_css(text) != webfont.font_face_css(text + "河")


def test_legend_lists_every_cluster_corridor_and_anchor_kind(tianqiao_page, tianqiao):
    legend = _legend_text(tianqiao_page.read_text(encoding="utf-8"))
    elements = tianqiao.structure.elements
    for name in elements["name_zh"]:
        assert name in legend
    assert "未纳入组团" in legend
    assert "相邻区县" in legend
    assert {"火车站", "桥梁"} <= set(legend.split("\n"))
    # the legend colours are the map's colours
    html = tianqiao_page.read_text(encoding="utf-8")
    for cid, cluster_style in style.cluster_styles(tianqiao.structure.cluster_ids).items():
        rgb = ",".join(str(int(cluster_style.color[i : i + 2], 16)) for i in (1, 3, 5))
        name = elements.loc[cid, "name_zh"]
        assert re.search(rf"rgba\({rgb},0\.55\)[^>]*></span>{name}<", html), name


def test_cluster_labels_sit_in_their_cluster_and_every_big_piece_is_labelled(
    tianqiao_page, tianqiao
):
    html = tianqiao_page.read_text(encoding="utf-8")
    groups = _overlays(html)
    labels = _labels(html)[groups["组团"]]
    elements = tianqiao.structure.elements
    to_ll = Transformer.from_crs(elements.crs, "EPSG:4326", always_xy=True)
    district_area = tianqiao.boundary.union_all().area
    for cid, row in elements[elements["kind"] == "cluster"].iterrows():
        pieces = [
            p
            for p in shapely.get_parts(row.geometry)
            if p.area >= webmap.LABEL_MIN_PIECE_SHARE * district_area
        ]
        mine = [lab for lab in labels if f">{row['name_zh']}<" in lab[1]]
        assert len(mine) == len(pieces), cid
        for piece in pieces:
            piece_ll = shapely.transform(
                piece, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1]))
            )
            assert any(
                piece_ll.contains(shapely.Point(lab[0][0][1], lab[0][0][0])) for lab in mine
            ), cid
    assert len(labels) > len(tianqiao.structure.cluster_ids)  # a multi-part cluster


def test_every_feature_lies_in_the_district(tianqiao, tmp_path):
    fmap = webmap.make_webmap(tianqiao)  # with all parcels
    page = webmap.save_webmap(fmap, tmp_path / "full.html")
    html = page.read_text(encoding="utf-8")
    district = _district_lonlat(tianqiao.boundary).buffer(INSIDE_TOLERANCE_DEG)
    shapely.prepare(district)
    layers = _layer_collections(html)
    outside_layers = {"相邻区县界"}
    checked = 0
    for name, collections in layers.items():
        if name in outside_layers:
            continue
        for collection in collections:
            for feature in collection["features"]:
                xy = np.asarray(list(_flatten(feature["geometry"]["coordinates"])))
                assert shapely.contains_xy(district, xy[:, 0], xy[:, 1]).all(), name
                checked += len(xy)
    for group, labels in _labels(html).items():
        if group == _overlays(html)["相邻区县界"]:
            continue
        for label in labels:
            for lat, lon in label[0]:
                assert shapely.contains_xy(district, lon, lat), label[1]
    assert checked > 100_000
    assert len(layers["地块"][0]["features"]) == len(tianqiao.parcels)


def test_layers_are_clipped_to_the_district(tmp_path):
    toy = map_layers_module.toy_layers()
    x0, y0 = 500_000.0, 4_060_000.0
    frame = toy.structure.to_frame()
    # the belt runs 2 km past the district on both sides; a cluster sticks out north
    frame.loc[frame["element_id"] == "road", "geometry"] = LineString(
        [(x0 - 2000, y0 + 2000), (x0 + 6000, y0 + 2000)]
    ).buffer(200)
    frame.loc[frame["element_id"] == "west", "geometry"] = box(
        x0 + 200, y0 + 200, x0 + 1900, y0 + 5000
    )
    layers = map_layers_module.MapLayers(
        structure=PlanStructure.from_frame(frame), boundary=toy.boundary
    )
    html = webmap.make_webmap(layers, embed_font=False).get_root().render()
    district = _district_lonlat(toy.boundary)
    unclipped = _district_lonlat(gpd.GeoDataFrame(geometry=frame.geometry, crs=frame.crs))
    assert not district.buffer(INSIDE_TOLERANCE_DEG).contains(unclipped)  # the check can fail
    for name in ("组团", "轴带"):
        (collection,) = _layer_collections(html)[name]
        assert collection["features"]
        for feature in collection["features"]:
            xy = np.asarray(list(_flatten(feature["geometry"]["coordinates"])))
            inside = shapely.contains_xy(district.buffer(INSIDE_TOLERANCE_DEG), xy[:, 0], xy[:, 1])
            assert inside.all(), name
            # clipped, not dropped: the belt reaches both edges of the district
            if name == "轴带":
                assert xy[:, 0].max() - xy[:, 0].min() == pytest.approx(
                    district.bounds[2] - district.bounds[0], abs=INSIDE_TOLERANCE_DEG
                )


def test_scale_is_metric_only(tianqiao_page, tmp_path, latin_only_fonts):
    html = tianqiao_page.read_text(encoding="utf-8")
    assert re.findall(r"L\.control\.scale\((\{.*?\})\)", html) == [
        '{"imperial": false, "metric": true, "position": "bottomleft"}'
    ]
    dom, seconds = _chromium_run(tianqiao_page, latin_only_fonts, tmp_path / "p", "--dump-dom")
    lines = re.findall(r'<div class="leaflet-control-scale-line"[^>]*>([^<]*)</div>', dom)
    assert len(lines) == 1, lines
    assert re.fullmatch(r"\d+ (m|km)", lines[0]), lines
    # the live page (after Leaflet ran) has the title and every cluster in its legend
    assert "天桥区" in re.search(r'<div class="tq-title">([^<]*)</div>', dom).group(1)
    print(f"chromium --dump-dom of the Tianqiao page: {seconds:.1f} s")  # noqa: T201


def test_refresh_writes_the_web_map_for_each_district(tmp_path, monkeypatch, tianqiao):
    # only the web map is drawn: the static maps (timed elsewhere) are replaced by no-ops
    monkeypatch.setattr(maps, "render_maps", lambda *a, **k: [])
    monkeypatch.setattr(maps, "save_figure", lambda *a, **k: [])
    monkeypatch.setattr(maps, "plot_landuse", lambda *a, **k: (None, None))
    monkeypatch.setattr(maps, "plot_renewal_supply", lambda *a, **k: (None, None))
    config = parse_config({"accessibility": {"enabled": False}})
    result = tq.refresh(config, out_dir=tmp_path / "out")
    page = result.out_dir / "maps" / webmap.WEBMAP_FILE
    assert page in result.files
    html = page.read_text(encoding="utf-8")
    title = re.search(r'<div class="tq-title">([^<]*)</div>', html).group(1)
    assert title.startswith(tianqiao.profile.name_zh)
    # the inventory's parcels, in Chinese, clipped and simplified: a size a browser opens
    parcels = _layer_collections(html)["地块"][0]["features"]
    assert len(parcels) == result.counts["parcels_kept"]
    assert {p["properties"]["cluster_id"] for p in parcels} >= {"未纳入组团", "特色商贸组团"}
    assert page.stat().st_size < 15_000_000
    print(f"refresh web map: {page.stat().st_size / 1e6:.1f} MB")  # noqa: T201

    off = parse_config({"accessibility": {"enabled": False}, "maps": {"web": False}})
    quiet = tq.refresh(off, out_dir=tmp_path / "off")
    assert not (quiet.out_dir / "maps" / webmap.WEBMAP_FILE).exists()

    lixia = build_district(tmp_path / "lixia", changes=False)
    data = read_inputs(load_config(lixia.config), maps=True)
    second = webmap.write_webmap(map_layers(data), tmp_path / "lixia_maps")[0]
    html = second.read_text(encoding="utf-8")
    title = re.search(r'<div class="tq-title">([^<]*)</div>', html).group(1)
    assert title.startswith(NAME_ZH)
    assert "天桥" not in title
    legend = _legend_text(html)
    for name in data.structure.elements["name_zh"]:
        assert name in legend


def test_parcels_in_standard_colours_with_chinese_tooltips(tianqiao, grid9, tmp_path):
    parcels = grid9.assign(
        cluster_id=["c1", "unassigned", "c1"] * 3,
        landuse_category=["residential", "warehouse", "unknown"] * 3,
        landuse_canonical=["070301", "1101", None] * 3,
        landuse_code=["070301", "1101", "XX"] * 3,
        area_m2=[10_000.4] * 9,
    )
    fmap = webmap.make_webmap(tianqiao, parcels=parcels, lang="zh")
    html = webmap.save_webmap(fmap, tmp_path / "m.html").read_text(encoding="utf-8")
    layer = _layer_collections(html)["地块"][0]
    props = [f["properties"] for f in layer["features"]]
    # 农村宅基地 (255, 211, 128) and 仓储用地 (135, 97, 211) of 附录B; unknown in its own grey
    assert [p["_fill"] for p in props[:3]] == ["#FFD380", "#8761D3", "#404040"]
    assert [p["landuse_category"] for p in props[:3]] == ["居住用地", "仓储用地", "未识别"]
    assert props[1]["cluster_id"] == "未纳入组团"
    assert props[0]["area_m2"] == "10000"  # m² as whole numbers
    aliases = [json.loads(m) for m in re.findall(r"let aliases = (\[.*?\]);", html)]
    area = zh_headers(["area_m2"], lang="zh")["area_m2"]
    assert ["地块编号", "组团", "用地大类", "用地代码", area] in aliases
    assert ["编号", "名称", "类型", "主导产业"] in aliases  # clusters and corridors
    assert set(_overlays(html)) == {"相邻区县界", "区界", "水系", "地块", "组团", "轴带", "地名点"}
