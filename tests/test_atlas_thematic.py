"""Atlas indicators and thematic maps as the refresh draws them, on Tianqiao and on 历下区.

The refresh's own map code (``pipeline._render_maps``) runs on the stages' results; its
figures are captured instead of written, then checked: titles name the district and the
theme, the foot note names the CRS, isochrones nest and match an independent networkx and
shapely construction, isochrone labels do not overlap, the life-circle map names every
requirement, the renewal map has its phase panel, and every atlas page has a legend and no
"n/a" among its key figures.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from pyproj import CRS
from shapely.geometry import LineString, Point, Polygon, box

import tqspatial as tq
from tests.district_builder import NAME_ZH, build_district
from tqspatial import accessibility as acc
from tqspatial import maps, pipeline
from tqspatial.access_stage import ISOCHRONE_MINUTES, cluster_measure
from tqspatial.config import load_config
from tqspatial.lifecircle import LIFE_CIRCLE_DISTANCE_M, requirement_names
from tqspatial.maps import atlas, thematic
from tqspatial.network import WALK_SPEED_MPS
from tqspatial.results import build_inventory
from tqspatial.vocabulary import PHASE_NAMES

LEVEL = "15min"


def _run(config):
    """The refresh's stages up to the inventory, then its map code with figures captured."""
    data = pipeline.read_inputs(config, maps=True)
    result = pipeline.process_parcels(data.parcels, pipeline.parcel_context(config, data))
    nets = pipeline.district_networks(config, data)
    access = pipeline.accessibility_stage(config, data, result.parcels, networks=nets)
    inventory = build_inventory(
        result, data.structure, access=access, access_measure=data.profile.maps.measure or None
    )
    captured: dict[str, object] = {}

    def save_figure(fig, stem, **_kwargs):
        captured[stem.name] = fig
        return []

    def render_maps(_out, layers, *, cluster_stats, lang, figure_labels, **_kwargs):
        captured["atlas"] = atlas.atlas_figures(
            layers, cluster_stats=cluster_stats, lang=lang, figure_labels=figure_labels
        )
        captured["cluster_stats"] = cluster_stats
        return []

    patch = pytest.MonkeyPatch()
    patch.setattr(maps, "save_figure", save_figure)
    patch.setattr(maps, "render_maps", render_maps)
    patch.setattr(maps.webmap, "write_webmap", lambda *_a, **_k: [])  # tested in test_webmap
    try:
        pipeline._render_maps(config, data, inventory, out=Path("not-written"))
    finally:
        patch.undo()
    return {"data": data, "inventory": inventory, "walk": nets["walk"], "figures": captured}


@pytest.fixture(scope="module")
def tianqiao_run():
    return _run(load_config(None))


@pytest.fixture(scope="module")
def lixia_run(tmp_path_factory):
    district = build_district(tmp_path_factory.mktemp("lixia-maps"))
    return _run(load_config(district.config))


@pytest.fixture(params=["tianqiao", "lixia"])
def run(request):
    return request.getfixturevalue(f"{request.param}_run")


def _titles(fig):
    return [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]


def _fills(ax):
    return {
        to_hex(c)
        for coll in ax.collections
        for c in np.atleast_2d(coll.get_facecolor())
        if len(c) and c[3] > 0
    }


def _thematic(run):
    return {k: v for k, v in run["figures"].items() if k not in {"atlas", "cluster_stats"}}


# ---------------------------------------------------------------------------- titles and notes


def test_titles_name_the_district_and_the_theme(run):
    profile = run["data"].profile
    figures = _thematic(run)
    measure = profile.maps
    themes = {
        "landuse": "土地利用现状",
        "renewal_supply": "城市更新用地供给",
        f"access_{measure.measure_facility_kind}": measure.measure_zh,
        f"life_circle_{LEVEL}": "生活圈配套设施覆盖",
    }
    assert set(themes) == set(figures)
    for stem, theme in themes.items():
        titles = _titles(figures[stem])
        assert any(t.startswith(profile.name_zh) and theme in t for t in titles), (stem, titles)
        if profile.name_zh == NAME_ZH:
            assert not any("天桥" in t for t in titles), (stem, titles)


def test_foot_note_names_the_sources_and_the_crs(run):
    crs = CRS.from_user_input(run["inventory"].parcels.crs)
    expected = f"坐标系：{crs.name}（EPSG:{crs.to_epsg()}）"  # independent: pyproj's own name
    assert "CGCS2000" in expected
    for stem, fig in _thematic(run).items():
        notes = [t.get_text() for t in fig.texts if t.get_gid() == "tq-credit"]
        assert len(notes) == 1, stem
        assert expected in notes[0], (stem, notes[0])
        assert "合成数据" in notes[0], (stem, notes[0])
        assert "地块" in notes[0], (stem, notes[0])


def test_neighbours_are_drawn_grey_and_named(run):
    data = run["data"]
    layers = pipeline.map_layers(data)
    neighbours = layers.neighbours()
    view = shapely.box(*data.boundary.total_bounds).buffer(500)
    near = neighbours[neighbours.intersects(view)]
    assert len(near) > 0
    fig = _thematic(run)["landuse"]
    ax = fig.axes[0]
    assert thematic._NEIGHBOUR_COLOR.lower() in _fills(ax)
    texts = {t.get_text() for t in ax.texts}
    assert texts & set(near["name"])
    assert data.profile.name_zh not in texts  # the district itself is not a neighbour
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "相邻区县" in legend


# ---------------------------------------------------------------------------- renewal phases


def test_renewal_map_has_a_phase_panel_coloured_by_phase(tianqiao_run):
    fig = tianqiao_run["figures"]["renewal_supply"]
    parcels = tianqiao_run["inventory"].parcels
    panel = next(ax for ax in fig.axes if ax.get_gid() == "tq-phase-panel")
    assert panel.get_title() == "按实施时序"
    phases = parcels.loc[parcels["renewal_type"].notna(), "phase"].dropna().unique()
    assert len(phases) >= 2  # the embedded district phases its candidates
    fills = _fills(panel)
    for phase in phases:
        assert thematic.PHASE_COLORS[phase].lower() in fills, phase
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for phase in phases:
        assert PHASE_NAMES[phase].zh in legend
    # the type panel is coloured by type, not hatched
    assert not any(c.get_hatch() for c in fig.axes[0].collections)


# ---------------------------------------------------------------------------- isochrones


def _isochrones(run):
    return run["inventory"].access.isochrones


def test_isochrones_nest_and_grow(run):
    iso = _isochrones(run)
    assert set(iso["minutes"]) == set(ISOCHRONE_MINUTES)
    for origin, group in iso.groupby("origin_id"):
        rings = group.sort_values("minutes")
        areas = rings.geometry.area.to_numpy()
        assert np.all(np.diff(areas) > 0), (origin, areas)
        geoms = list(rings.geometry)
        for inner, outer in itertools.pairwise(geoms):
            assert inner.difference(outer).area < 1e-6 * inner.area, origin
        assert all(g.geom_type in {"Polygon", "MultiPolygon"} for g in geoms)


def _nx_walk(net):
    graph = nx.DiGraph()
    matrix = net.matrix("time_s").tocoo()
    for u, v, t in zip(matrix.row, matrix.col, matrix.data, strict=True):
        graph.add_edge(int(u), int(v), time_s=float(t))
    return graph


def _independent_isochrone(graph, net, node, origin_xy, *, connector_s, budget_s, buffer_m):
    """Walked network by networkx, geometry by shapely: reached edges (partly walked ones
    cut at the distance walked), the connector, buffered, each part's holes filled."""
    left = budget_s - connector_s
    lines = []
    ox, oy = origin_xy
    nx_, ny_ = net.x[node], net.y[node]
    share = min(1.0, budget_s / connector_s) if connector_s > 0 else 1.0
    lines.append(LineString([(ox, oy), (ox + share * (nx_ - ox), oy + share * (ny_ - oy))]))
    if left >= 0:
        lines.append(Point(nx_, ny_))
        reach = nx.ego_graph(graph, node, radius=left, distance="time_s")
        dist = nx.single_source_dijkstra_path_length(graph, node, cutoff=left, weight="time_s")
        assert set(reach.nodes) == set(dist)
        for u in reach.nodes:
            for v, data in graph[u].items():
                edge = LineString([(net.x[u], net.y[u]), (net.x[v], net.y[v])])
                walked = left - dist[u]
                frac = 1.0 if data["time_s"] <= 0 else min(1.0, walked / data["time_s"])
                lines.append(shapely.ops.substring(edge, 0.0, frac, normalized=True))
    shape = shapely.ops.unary_union([g.buffer(buffer_m) for g in lines])
    parts = getattr(shape, "geoms", [shape])
    return shapely.ops.unary_union([Polygon(p.exterior) for p in parts])


def test_isochrones_match_networkx_and_shapely(tianqiao_run):
    run = tianqiao_run
    net = run["walk"]
    graph = _nx_walk(net)
    structure = run["data"].structure
    cores = structure.elements.loc[structure.cluster_ids].geometry.representative_point()
    iso = _isochrones(run)
    snapped = acc.snap_points(gpd.GeoSeries(cores), net, max_snap_m=2000.0)
    checked = 0
    for cid in structure.cluster_ids[:3]:
        node = int(snapped.loc[cid, "node"])
        connector_s = float(snapped.loc[cid, "connector_m"]) / WALK_SPEED_MPS
        for minutes in ISOCHRONE_MINUTES:
            ours = iso[(iso["origin_id"] == cid) & (iso["minutes"] == minutes)].geometry.iloc[0]
            theirs = _independent_isochrone(
                graph, net, node, (cores[cid].x, cores[cid].y), connector_s=connector_s,
                budget_s=minutes * 60.0, buffer_m=acc.ISOCHRONE_ACCESS_M,
            )  # fmt: skip
            assert ours.area == pytest.approx(theirs.area, rel=0.03), (cid, minutes)
            assert ours.symmetric_difference(theirs).area < 0.03 * theirs.area, (cid, minutes)
            checked += 1
    assert checked == 9


def test_isochrones_are_not_the_old_crosses(tianqiao_run):
    # the 5-minute isochrone (300 m at 1 m/s) reaches along every street from the core:
    # far larger than a 50 m disc, and no two nested rings are equal
    iso = _isochrones(tianqiao_run)
    disc = np.pi * acc.ISOCHRONE_ACCESS_M**2
    five = iso[iso["minutes"] == min(ISOCHRONE_MINUTES)]
    assert (five["area_m2"] > 3 * disc).all(), five[["origin_id", "area_m2"]]


def test_isochrone_labels_do_not_overlap(run):
    profile = run["data"].profile
    fig = _thematic(run)[f"access_{profile.maps.measure_facility_kind}"]
    FigureCanvasAgg(fig).draw()
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "tq-isochrone-label"]
    iso = _isochrones(run)
    assert len(labels) == int((~iso.geometry.is_empty).sum())
    boxes = [t.get_window_extent() for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [e for e in legend if "等时圈" in e] == [
        f"{m:g} 分钟步行等时圈" for m in sorted(ISOCHRONE_MINUTES)
    ]


# ---------------------------------------------------------------------------- life circle


def test_life_circle_map_names_what_is_missing(run):
    fig = _thematic(run)[f"life_circle_{LEVEL}"]
    main = fig.axes[0]
    names = requirement_names(LEVEL)
    assert len(names) == 5  # GB 50180-2018's 15-minute requirements
    entries = [t.get_text() for t in main.get_legend().get_texts()]
    km = f"{LIFE_CIRCLE_DISTANCE_M[LEVEL] / 1000:g} km"
    explained = {
        f"已覆盖：5 类设施均在步行 {km} 内",
        *(f"仅缺少{zh}" for zh, _ in names.values()),
        "缺少 2–4 类",
        "缺少全部 5 类",
        "未评估：距步行道路超过 500 m",
        "相邻区县",
    }
    assert set(entries) <= explained, set(entries) - explained
    assert "无" not in entries
    assert "缺少全部 5 类" in entries
    panels = {ax.get_gid(): ax.get_title() for ax in fig.axes if ax.get_gid()}
    assert panels == {f"tq-requirement-{k}": zh for k, (zh, _) in names.items()}
    # the classes agree with a count of the requirement columns
    parcels = run["inventory"].parcels
    within = parcels[[f"lc_{k}_within" for k in names]]
    missing = (within == 0).sum(axis=1)
    assessed = within.notna().all(axis=1)
    gaps = thematic.life_circle_gaps(parcels, list(names))
    assert (gaps == "covered").sum() == ((missing == 0) & assessed).sum()
    assert (gaps == "all").sum() == ((missing == 5) & assessed).sum()
    assert gaps.str.startswith("only:").sum() == ((missing == 1) & assessed).sum()
    assert gaps.isna().sum() == (~assessed).sum()
    covered = parcels[f"lc_{LEVEL}_covered"]
    assert ((gaps == "covered") == (covered == 1)).all()


# ---------------------------------------------------------------------------- atlas


def test_every_atlas_page_has_a_legend_and_no_na(run):
    pages = run["figures"]["atlas"]
    structure = run["data"].structure
    assert [name for name, _ in pages] == ["overview", *structure.cluster_ids]
    for name, page in pages:
        has_legend = any(ax.get_legend() is not None for ax in page.axes) or page.legends
        assert has_legend, name
    for name, page in pages[1:]:
        cells = {
            c.get_text().get_text()
            for table in page.findobj(lambda a: a.__class__.__name__ == "Table")
            for c in table.get_celld().values()
        }
        assert cells
        for bad in ("n/a", "无可计算数据", "未计算", "nan"):
            assert not any(bad in c for c in cells), (name, bad, cells)
        assert any(c.endswith("min") or "min " in c for c in cells), (name, cells)


def test_atlas_cluster_area_is_the_polygon_area(run):
    pages = dict(run["figures"]["atlas"])
    elements = run["data"].structure.elements
    stats = run["figures"]["cluster_stats"]
    for cid in run["data"].structure.cluster_ids:
        table = pages[cid].findobj(lambda a: a.__class__.__name__ == "Table")[0]
        rows = {}
        for (r, c), cell in table.get_celld().items():
            rows.setdefault(r, {})[c] = cell.get_text().get_text()
        by_name = {row[0]: row[1] for row in rows.values()}
        area = float(re.sub(r"[^\d.]", "", by_name["组团面积"]))
        assert area == pytest.approx(elements.loc[cid].geometry.area / 1e4, abs=0.05)
        land = float(re.sub(r"[^\d.]", "", by_name["地块用地面积"]))
        assert land == pytest.approx(stats.loc[cid, "area_ha"], abs=0.05)


def test_cluster_measure_falls_back_and_says_how():
    # three clusters: residents (a), no residents (b), no parcel with a value (c)
    structure = tq.PlanStructure.from_frame(
        gpd.GeoDataFrame(
            {"element_id": ["a", "b", "c"], "kind": ["cluster"] * 3, "name_zh": ["甲", "乙", "丙"],
             "name_en": ["A", "B", "C"]},
            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(3000, 0, 4000, 1000)],
            crs="EPSG:4548",
        )
    )  # fmt: skip
    rng = np.random.default_rng(7)
    cells = [box(x, y, x + 100, y + 100) for x in range(0, 4000, 100) for y in range(0, 1000, 100)]
    parcels = gpd.GeoDataFrame(geometry=cells, crs="EPSG:4548")
    x = parcels.geometry.centroid.x
    parcels["cluster_id"] = np.where(x < 1000, "a", np.where(x < 2000, "b", np.where(
        x > 3000, "c", "unassigned")))  # fmt: skip
    parcels["residents"] = np.where(parcels["cluster_id"] == "a", rng.integers(0, 50, len(x)), 0)
    parcels["t_min"] = rng.uniform(2, 40, len(x))
    parcels.loc[parcels["cluster_id"] == "c", "t_min"] = np.nan
    out = cluster_measure(parcels, "t_min", structure=structure)
    assert out["basis"].tolist() == ["residents", "area", "nearby_area"]

    def weighted_median(values, weights):  # independent: sort and walk the cumulative weight
        order = np.argsort(values)
        cum = np.cumsum(weights[order])
        return values[order][np.searchsorted(cum, 0.5 * cum[-1])]

    a = parcels[(parcels["cluster_id"] == "a") & (parcels["residents"] > 0)]
    assert out.loc["a", "value"] == weighted_median(
        a["t_min"].to_numpy(), a["residents"].to_numpy(float)
    )
    b = parcels[parcels["cluster_id"] == "b"]
    assert out.loc["b", "value"] == weighted_median(
        b["t_min"].to_numpy(), b.geometry.area.to_numpy()
    )
    # c: the nearest search distance holding parcels with a value: the ring of parcels
    # between 2900 and 3000 m touches it (distance 0 < 250 m)
    near = parcels[parcels["t_min"].notna() & (parcels.distance(box(3000, 0, 4000, 1000)) <= 250)]
    assert out.loc["c", "within_m"] == 250.0
    assert out.loc["c", "value"] == weighted_median(
        near["t_min"].to_numpy(), near.geometry.area.to_numpy()
    )
    # the atlas says so, with the distance
    stats = pd.DataFrame(
        {"access_min": out["value"], "access_min_basis": out["basis"],
         "access_min_within_m": out["within_m"]}
    )  # fmt: skip
    rows, notes = atlas._figure_rows("c", 100.0, stats, "zh", {})
    shown = dict(rows)["出行时间（中位数）"]
    assert shown.endswith("¹")
    assert any(n.startswith("¹") and "250 m" in n for n in notes)
    rows, notes = atlas._figure_rows("b", 100.0, stats, "zh", {})
    assert any("按地块面积加权" in n for n in notes)
    rows, notes = atlas._figure_rows("a", 100.0, stats, "zh", {})
    assert not any("加权" in n for n in notes)


def test_scenario_comparison_names_district_indicator_and_crs(tianqiao):
    ids = tianqiao.structure.cluster_ids
    values = pd.DataFrame({"plan": np.arange(len(ids), dtype=float)}, index=ids)
    fig = maps.plot_scenario_comparison(tianqiao, values, label=("净供给", "Net supply", "ha"))
    assert fig.get_suptitle() == "天桥区净供给：情景比较"
    notes = [t.get_text() for t in fig.texts if t.get_gid() == "tq-credit"]
    assert notes == [f"坐标系：{CRS.from_epsg(4548).name}（EPSG:4548）"]


def test_atlas_pdf_keeps_its_text_editable(tmp_path):
    """TrueType (CIDFontType2 with a glyf table) instead of Type 3 outlines, on every page."""
    from tests.test_cartography import _pdf_fonts

    path = atlas.write_atlas(tmp_path / "atlas.pdf", tq.datasets.tianqiao())
    data = path.read_bytes()
    assert not re.search(rb"/Subtype\s*/Type3", data)
    assert re.search(rb"/Subtype\s*/CIDFontType2", data)
    fonts = _pdf_fonts(data)
    assert fonts
    for font in fonts:
        assert "glyf" in font
        assert "CFF " not in font
