"""Static maps: glyphs, cluster-map furniture, thematic maps, exports, visual regression."""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from matplotlib.text import Text
from PIL import Image
from shapely.geometry import LineString, Point, box

import tqspatial as tq
from tqspatial import maps
from tqspatial.landuse import CATEGORIES, LANDUSE_COLOURS, classify_landuse, colour_table
from tqspatial.maps import atlas, cluster, fonts, furniture, layers, style, thematic
from tqspatial.vocabulary import CATEGORY_NAMES, internal_keys

matplotlib.use("Agg")

BASELINE = Path(__file__).parent / "baseline" / "cluster_map_zh_45dpi.png"
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _render(fig: Figure, dpi: int = 40) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _font_cmap() -> set[int]:
    font = fonts.cjk_font()
    assert font is not None
    with TTFont(str(font.path), fontNumber=font.face_index, lazy=True) as f:
        return set(f.getBestCmap())


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


@pytest.fixture(scope="module")
def zh_map(tianqiao):
    fig, ax = maps.plot_cluster_map(tianqiao, lang="zh")
    _render(fig)  # a full draw: missing-glyph warnings would fail here (filterwarnings=error)
    return fig, ax


# ---------------------------------------------------------------- fonts and glyphs


def test_cjk_font_is_found_and_registered():
    font = maps.cjk_font()
    assert font is not None, "install noto-cjk-sans-otc (pip) so Chinese labels render"
    assert font.family in {e.name for e in matplotlib.font_manager.fontManager.ttflist}
    found = matplotlib.font_manager.findfont(font.family, fallback_to_default=False)
    assert Path(found).resolve() == font.path.resolve()


def test_every_drawn_glyph_exists_in_the_font(zh_map, tianqiao):
    fig, _ = zh_map
    cmap = _font_cmap()
    texts = _texts(fig)
    # independent check with fontTools: every character of every label is in the CJK face
    missing = {t: [c for c in t if not c.isspace() and ord(c) not in cmap] for t in texts}
    assert {t: m for t, m in missing.items() if m} == {}
    assert maps.figure_missing_glyphs(fig) == {}
    names = set(tianqiao.structure.elements["name_zh"])
    assert names <= {line for t in texts for line in t.split("\n")}


def test_missing_glyph_check_can_fail():
    with matplotlib.rc_context(fonts.font_rc()):
        fig = Figure()
        fig.text(0.1, 0.1, "黄河 \U0001f5fa")
        fig.add_subplot().table(cellText=[["面积", "\u2603\U0001f30a"]])
    assert maps.figure_missing_glyphs(fig) == {
        "黄河 \U0001f5fa": ["\U0001f5fa"],
        "\u2603\U0001f30a": ["\U0001f30a"],
    }
    with pytest.raises(atlas.MissingGlyphError, match="missing from the map font"):
        atlas.save_figure(fig, "/nonexistent/never", formats=("png",))


def test_without_the_cjk_font_matplotlib_would_draw_tofu():
    fig = Figure()
    fig.text(0.1, 0.1, "天桥区", family="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        _render(fig)


def test_no_cjk_font_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(cluster, "cjk_font", lambda: None)
    with pytest.warns(fonts.FontWarning, match="noto-cjk-sans-otc"):
        assert cluster.resolve_lang("zh") == "en"
    with pytest.raises(ValueError, match="'zh', 'en' or 'both'"):
        cluster.resolve_lang("fr")


# ---------------------------------------------------------------- cluster map


def test_image_size_follows_figsize_and_dpi(tianqiao):
    fig, _ = maps.plot_cluster_map(tianqiao, lang="en", figsize=(6.0, 5.0), inset=False)
    with Image.open(io.BytesIO(_render(fig, dpi=50))) as image:
        assert image.size == (300, 250)


def test_extent_is_district_plus_margin(zh_map, tianqiao):
    _, ax = zh_map
    x0, y0, x1, y1 = tianqiao.boundary.total_bounds
    pad = 0.04 * max(x1 - x0, y1 - y0)
    assert ax.get_xlim() == pytest.approx((x0 - pad, x1 + pad))
    assert ax.get_ylim() == pytest.approx((y0 - pad, y1 + pad))
    assert ax.get_aspect() == 1.0


def test_legend_lists_every_element_and_layer(zh_map, tianqiao):
    _, ax = zh_map
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    elements = tianqiao.structure.elements
    clusters = elements[elements["kind"] == "cluster"]["name_zh"].tolist()
    assert entries[: len(clusters)] == clusters  # clusters first, in plan order
    for name in elements["name_zh"]:
        assert name in entries
    for fixed in [
        "区外（相邻区县）",
        "未纳入组团",
        "河道水系（分析用）",
        "黄河（1:400万示意）",
        "区界",
        "火车站",
        "桥梁",
        "区政府（区中心）",
    ]:
        assert fixed in entries
    assert ax.get_legend().get_title().get_text() == "图例"


def test_cluster_colours_are_the_fixed_palette(zh_map, tianqiao):
    _, ax = zh_map
    handles = ax.get_legend().legend_handles[: len(tianqiao.structure.cluster_ids)]
    colours = [matplotlib.colors.to_hex(h.get_facecolor(), keep_alpha=False) for h in handles]
    assert [c.upper() for c in colours] == [c.upper() for c in style.OKABE_ITO[:5]]
    assert len(set(colours)) == 5


def test_scale_bar_length_matches_map_scale(tianqiao):
    fig, ax = maps.plot_cluster_map(tianqiao, lang="en", inset=False)
    _render(fig, dpi=60)
    bar = [a for a in ax.artists if a.get_gid() == "tq-scalebar"]
    assert len(bar) == 1
    segments = [
        p for p in fig.findobj() if getattr(p, "get_gid", lambda: None)() == "tq-scalebar-segment"
    ]
    left = min(s.get_window_extent().x0 for s in segments)
    right = max(s.get_window_extent().x1 for s in segments)
    # independent scale: axes width in pixels over its x range in metres
    bbox = ax.get_window_extent()
    x0, x1 = ax.get_xlim()
    px_per_m = bbox.width / (x1 - x0)
    labels = [t.get_text() for t in bar[0].findobj(Text) if t.get_text()]
    km = float(labels[-1].split()[0])
    assert labels[-1].endswith(" km")
    assert (right - left) == pytest.approx(km * 1000 * px_per_m, rel=0.01)
    lead = km / 10 ** math.floor(math.log10(km))
    assert lead in (1, 2, 5)
    assert 0.1 <= km * 1000 / (x1 - x0) <= 0.25


@pytest.mark.parametrize(
    ("span", "expected"), [(21_000, 5000), (9_000, 2000), (3_900, 500), (120, 20)]
)
def test_nice_scale_length(span, expected):
    assert furniture.nice_scale_length(span) == expected


def test_furniture_and_credit_present(zh_map, tianqiao):
    fig, ax = zh_map
    gids = {a.get_gid() for a in ax.artists} | {c.get_gid() for c in ax.child_axes}
    assert {"tq-scalebar", "tq-north-arrow", "tq-locator"} <= gids
    credit = next(t for t in fig.texts if t.get_gid() == "tq-credit").get_text()
    for word in ("合成数据", "示意", "真实数据"):
        assert word in credit
    assert "天桥区" in ax.get_title()
    assert "一轴两带五组团" in ax.get_title()


def test_provenance_agrees_with_the_dataset_catalogue(tianqiao):
    inferred = layers.infer_provenance(layers.as_layers(tianqiao))
    files = {
        "boundary": "tianqiao_boundary.geojson",
        "districts": "jinan_districts.geojson",
        "rivers": "yellow_river_1to4m.geojson",
        "anchors": "tianqiao_anchors.csv",
        "structure": "plan_structure.geojson",
        "parcels": "parcels.gpkg",
        "water": "water.gpkg",
    }
    assert inferred == {k: tq.datasets.RAW_FILES[v] for k, v in files.items()}


def test_english_map_has_no_chinese(tianqiao):
    fig, ax = maps.plot_cluster_map(tianqiao, lang="en")
    texts = _texts(fig)
    assert [t for t in texts if CJK.search(t)] == []
    assert "New Smart Manufacturing Cluster" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_any_number_of_clusters_and_kinds():
    cells = [
        box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000) for i in range(3) for j in range(3)
    ]
    frame = gpd.GeoDataFrame(
        {
            "element_id": [f"c{k}" for k in range(9)] + ["ring", "core"],
            "kind": ["cluster"] * 9 + ["belt", "core"],
            "name_zh": [f"第{k}组团" for k in range(9)] + ["环带", "核心"],
            "name_en": [f"Cluster {k}" for k in range(9)] + ["Ring belt", "Core"],
            "width_m": [None] * 9 + [200.0, None],
        },
        geometry=[*cells, LineString([(0, 1500), (3000, 1500)]), Point(1500, 1500).buffer(300)],
        crs="EPSG:4548",
    )
    structure = tq.PlanStructure.from_frame(frame)
    fig, ax = maps.plot_cluster_map(structure, lang="both")
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries[:9] == [f"第{k}组团 / Cluster {k}" for k in range(9)]
    assert "核心 / Core" in entries
    handles = ax.get_legend().legend_handles[:9]
    looks = {(matplotlib.colors.to_hex(h.get_facecolor()), h.get_hatch()) for h in handles}
    assert len(looks) == 9  # colours repeat after seven, hatches keep fills apart
    assert (
        ax.get_title()
        == "“一核一带九组团”产业空间布局\nspatial structure (1 core, 1 belt, 9 clusters)"
    )
    assert maps.figure_missing_glyphs(fig) == {}


def test_highlight_must_be_a_cluster(tianqiao):
    with pytest.raises(ValueError, match="not a cluster id"):
        maps.plot_cluster_map(tianqiao.structure, highlight="jiluo_road_belt")


def test_draws_into_a_given_axes(tianqiao):
    fig = Figure()
    ax = fig.add_subplot()
    out_fig, out_ax = maps.plot_cluster_map(tianqiao.structure, ax=ax, lang="en")
    assert out_fig is fig
    assert out_ax is ax


def test_visual_regression_against_baseline(tianqiao, tmp_path):
    fig, _ = maps.plot_cluster_map(tianqiao, lang="zh", figsize=(7.0, 5.5))
    actual = tmp_path / "actual.png"
    fig.savefig(actual, dpi=45, metadata={"Software": None})
    if os.environ.get("TQ_UPDATE_BASELINE") == "1":
        BASELINE.parent.mkdir(exist_ok=True)
        BASELINE.write_bytes(actual.read_bytes())
    assert BASELINE.exists(), f"baseline missing; create it with TQ_UPDATE_BASELINE=1 ({BASELINE})"
    # RMS tolerance (0-255 scale): matplotlib's wheel bundles its FreeType, so the same pinned
    # version renders identically; 2 still catches one moved label (RMS about 3 at this size)
    result = compare_images(str(BASELINE), str(actual), tol=2)
    assert result is None, result


# ---------------------------------------------------------------- thematic maps


def _fills(ax) -> set[str]:
    return {
        matplotlib.colors.to_hex(c)
        for coll in ax.collections
        for c in np.atleast_2d(coll.get_facecolor())
        if len(c)
    }


def test_landuse_map_by_category_names_and_colours_every_category(grid9):
    # Every planning category, including those the old palette dropped (warehouse, special,
    # reserve, marine), gets its standard colour and its Chinese name.
    categories = list(CATEGORIES)
    frame = gpd.GeoDataFrame(
        {"landuse_category": categories},
        geometry=[box(i * 100, 0, i * 100 + 90, 90) for i in range(len(categories))],
        crs=grid9.crs,
    )
    fig, ax = thematic.plot_landuse(frame, furniture=False)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries == [CATEGORY_NAMES[c].zh for c in categories]
    assert "工矿用地" in entries  # not 工矿与仓储用地: 仓储用地 is its own category
    assert "仓储用地" in entries
    assert {LANDUSE_COLOURS[c].lower() for c in categories} <= _fills(ax)
    assert not set(entries) & internal_keys()
    _render(fig)
    assert maps.figure_missing_glyphs(fig) == {}


def test_landuse_map_by_class_follows_appendix_b(tianqiao):
    parcels = tianqiao.parcels.iloc[:3000]
    parcels = parcels.join(classify_landuse(parcels["landuse_code"]))
    fig, ax = thematic.plot_landuse(parcels, boundary=tianqiao.boundary)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    # Independent: the classes of the parcels by longest code prefix in the colour table.
    table = colour_table()
    expected = []
    for code in table.index:
        longest = {
            c: max((c[:n] for n in range(2, len(c) + 1) if c[:n] in table.index), key=len)
            for c in parcels["landuse_canonical"].dropna().unique()
        }
        if code in longest.values():
            expected.append(table.loc[code, "name_zh"])
    if (parcels["landuse_category"] == "unknown").any():
        expected.append("未识别")
    assert entries == expected
    assert "城镇住宅用地" in entries
    assert "农村宅基地" in entries
    assert {table.loc[c, "colour"].lower() for c in ("0701", "0703", "1001")} <= _fills(ax)
    assert not set(entries) & internal_keys()
    _render(fig)
    assert maps.figure_missing_glyphs(fig) == {}


def test_renewal_map_names_types_and_phases(grid9):
    g = grid9.assign(
        renewal_type=["inefficient_industrial", "old_residential", None] * 3,
        phase=["long", "near", None] * 3,
    )
    fig, ax = thematic.plot_renewal_supply(g)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries == ["低效工业用地", "老旧小区", "非更新用地", "近期", "远期"]
    assert not set(entries) & internal_keys()
    # phases are coloured on their own panel (hatching cannot be read at parcel scale)
    phase_faces = [tuple(h.get_facecolor()) for h in ax.get_legend().legend_handles[-2:]]
    assert phase_faces[0] != phase_faces[1]
    assert maps.figure_missing_glyphs(fig) == {}
    # drawn into a given axes: one map, phases hatched
    _fig, ax = thematic.plot_renewal_supply(g, ax=Figure().add_subplot(), furniture=False)
    hatches = [h.get_hatch() for h in ax.get_legend().legend_handles[-2:]]
    assert hatches[0] != hatches[1]
    # Values the vocabulary does not know are shown as they are (English map).
    g = grid9.assign(renewal_type=["redevelop", None, None] * 3, phase=["2030", None, None] * 3)
    _fig, ax = thematic.plot_renewal_supply(g, lang="en")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "redevelop",
        "Not renewal land",
        "2030",
    ]


def test_choropleth_classes_cover_the_values(tianqiao):
    clusters = tianqiao.structure.elements.query("kind == 'cluster'").reset_index()
    clusters["net_supply_ha"] = clusters.geometry.area / 1e4 * 0.1
    clusters.loc[0, "net_supply_ha"] = np.nan
    _fig, ax = thematic.plot_choropleth(
        clusters,
        "net_supply_ha",
        scheme="EqualInterval",
        k=2,
        unit="ha",
        label_column="name_zh",
        lang="en",
    )
    values = clusters["net_supply_ha"].dropna()
    lo, hi = values.min(), values.max()
    mid = (lo + hi) / 2  # equal intervals by hand
    entries = [t.get_text() for t in ax.get_legend().get_texts()]

    def shown(v):  # legend spec: thousands separators from 100 up, three significant digits below
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    assert entries == [f"{shown(lo)} – {shown(mid)}", f"{shown(mid)} – {shown(hi)}", "n/a"]
    assert ax.get_legend().get_title().get_text() == "net_supply_ha (ha)"


def _brute_force_jenks(x, k):
    best = None
    for cuts in itertools.combinations(range(1, len(x)), k - 1):
        groups = np.split(x, cuts)
        sse = sum(((g - g.mean()) ** 2).sum() for g in groups)
        if best is None or sse < best[0] - 1e-12:
            best = (sse, [g.max() for g in groups])
    return best[1]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=3, max_size=9).map(
        lambda v: np.sort(np.asarray(v, dtype=float))
    ),
    st.integers(2, 3),
)
def test_natural_breaks_match_brute_force(x, k):
    k = min(k, len(np.unique(x)))
    assume(k >= 2)
    expected = _brute_force_jenks(x, k)
    got = thematic.class_breaks(x, scheme="NaturalBreaks", k=k)

    def sse(bins):
        groups = np.split(x, np.searchsorted(x, bins[:-1], side="right"))
        return sum(((g - g.mean()) ** 2).sum() for g in groups if len(g))

    assert sse(got) == pytest.approx(sse(np.asarray(expected)), abs=1e-6)
    assert got[-1] == x.max()


def test_class_breaks_schemes():
    x = np.arange(1.0, 101.0)
    assert thematic.class_breaks(x, scheme="Quantiles", k=4).tolist() == [
        np.quantile(x, q) for q in (0.25, 0.5, 0.75, 1.0)
    ]
    with pytest.raises(ValueError, match="unknown"):
        thematic.class_breaks(x, scheme="NoSuchScheme")


def test_accessibility_classes_and_isochrones(grid9):
    school = Point(500_050, 4_060_050)
    g = grid9.copy()
    walk_m_per_min = 4.0  # tiny grid: slow walker so classes spread over 0-60 min
    g["primary_school_min"] = g.geometry.centroid.distance(school) / walk_m_per_min
    g.loc[8, "primary_school_min"] = np.nan
    iso = gpd.GeoDataFrame(
        {"minutes": [15, 30]}, geometry=[school.buffer(60), school.buffer(120)], crs=g.crs
    )
    fig, ax = thematic.plot_accessibility(g, isochrones=iso, lang="en", furniture=False)
    minutes = g["primary_school_min"].dropna()
    edges = [0, 5, 10, 15, 30, 60, np.inf]
    present = sorted(set(np.digitize(minutes, edges[1:-1], right=True)))
    names = ["≤ 5 min", "5–10 min", "10–15 min", "15–30 min", "30–60 min", "> 60 min"]
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries == [names[i] for i in present] + ["unreachable", "15-minute walk",
                                                     "30-minute walk"]  # fmt: skip
    assert {"15 min", "30 min"} <= set(_texts(fig))


def test_coverage_map(grid9):
    g = grid9.assign(covered=[True, False, None] * 3)
    _fig, ax = thematic.plot_coverage(g)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries == ["已覆盖", "未覆盖", "未评估"]  # missing: not assessed, said so


def test_thematic_maps_name_missing_columns(grid9):
    with pytest.raises(tq.TqspatialError, match=r"\['landuse_category'\] not found"):
        thematic.plot_landuse(grid9)


# ---------------------------------------------------------------- exports and atlas


def test_exports_png_pdf_svg(tianqiao, tmp_path):
    fig, _ = maps.plot_cluster_map(tianqiao, lang="zh", figsize=(4.0, 3.5))
    paths = atlas.save_figure(fig, tmp_path / "m", dpi=atlas.EXPORT_DPI)
    assert [p.suffix for p in paths] == [".png", ".pdf", ".svg"]
    with Image.open(paths[0]) as image:
        assert image.size == (1200, 1050)
        assert round(image.info["dpi"][0]) == 300
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert ET.parse(paths[2]).getroot().tag.endswith("svg")


def test_atlas_has_overview_and_one_page_per_cluster(tianqiao, tmp_path):
    stats = pd.DataFrame({"net_supply_ha": [12.5]}, index=["specialty_commerce"])
    path = atlas.write_atlas(tmp_path / "atlas.pdf", tianqiao, cluster_stats=stats, lang="en")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes())
    assert len(pages) == 1 + len(tianqiao.structure.cluster_ids)


def test_atlas_key_figures_fill_na(tianqiao):
    elements = tianqiao.structure.elements
    area = elements.loc["specialty_commerce"].geometry.area / 1e4
    stats = pd.DataFrame({"net_supply_ha": [12.5], "note": ["pilot"]}, index=["specialty_commerce"])
    rows, notes = atlas._figure_rows("specialty_commerce", area, stats, "en", {})
    assert rows[0] == ("Cluster area", f"{area:,.1f} ha")
    assert rows[1] == ("Land in parcels", "not computed")
    assert rows[2] == ("Net renewal land supply", "12.5 ha")
    assert rows[3][1] == "not computed"
    assert rows[4] == ("note", "pilot")
    assert any("not computed" in n for n in notes)
    rows, _ = atlas._figure_rows("hitech_innovation", 1.0, None, "en", {})
    assert [r[1] for r in rows][1:] == ["not computed"] * 3


def test_render_maps_writes_everything_reproducibly(tmp_path):
    toy = layers.toy_layers()
    first = atlas.render_maps(tmp_path / "a", toy, dpi=40, html=True)
    assert [p.name for p in first] == [
        "cluster_map.png",
        "cluster_map.pdf",
        "cluster_map.svg",
        "atlas.pdf",
        "cluster_map.html",
    ]
    assert all(p.stat().st_size > 5_000 for p in first)
    second = atlas.render_maps(tmp_path / "b", toy, dpi=40, atlas=False)
    for a, b in zip(first[:3], second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name  # same inputs, same bytes


def test_maps_sit_below_datasets_and_io():
    # maps are drawn from frames handed in; they never read files or load the dataset (a
    # district profile, plain data, names and credits them)
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(maps.__file__).parent.glob("*.py")
    )
    imported = set(re.findall(r"^\s*(?:from|import) (tqspatial\.\w+)", source, flags=re.MULTILINE))
    # the code tables (colours) and the vocabulary (names) are package data, not files read
    assert imported <= {
        "tqspatial.maps",
        "tqspatial.structure",
        "tqspatial.errors",
        "tqspatial.profile",
        "tqspatial._optional",
        "tqspatial.landuse",
        "tqspatial.vocabulary",
    }


def test_atlas_cluster_page_zooms_to_the_cluster_and_shows_key_figures(tianqiao):
    stats = pd.DataFrame({"access_min": [7.25]}, index=["high_end_services"])
    page = atlas._cluster_page(tianqiao, "high_end_services", stats, "zh", (11.69, 8.27), labels={})
    _render(page)
    assert maps.figure_missing_glyphs(page) == {}
    map_ax = page.axes[0]
    x0, y0, x1, y1 = tianqiao.structure.elements.loc["high_end_services"].geometry.bounds
    (ax0, ax1), (ay0, ay1) = map_ax.get_xlim(), map_ax.get_ylim()
    assert ax0 < x0 < x1 < ax1
    assert ay0 < y0 < y1 < ay1
    assert (ax1 - ax0) < 2 * max(x1 - x0, y1 - y0)  # zoomed in, not the whole district
    assert map_ax.get_title() == "高端服务组团"
    table = next(t for t in page.findobj(matplotlib.table.Table))
    cells = [c.get_text().get_text() for c in table.get_celld().values()]
    area = tianqiao.structure.elements.loc["high_end_services"].geometry.area / 1e4
    assert f"{area:,.1f} ha" in cells
    assert "7.2 min" in cells or "7.3 min" in cells
    assert "未计算" in cells  # no supply figure given: not computed, never n/a
    assert "n/a" not in cells
    assert page.axes[0].get_legend() is not None  # every atlas page has a legend


@pytest.mark.parametrize(
    ("values", "label"),
    [(["true", "是"], "indicative"), ([True, True], "indicative"), (["false", "否"], "unlabelled")],
)
def test_indicative_column_read_as_gis_tools_write_it(values, label):
    toy = layers.toy_layers()
    frame = toy.structure.to_frame().head(2).drop(columns="synthetic")
    frame["indicative"] = values
    structure = tq.PlanStructure.from_frame(frame)
    assert layers.infer_provenance(layers.as_layers(structure))["structure"] == label
