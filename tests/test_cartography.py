"""Cartography of the cluster map, measured on the drawn figure: labels, inset, fills, fonts."""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET
import zlib

import matplotlib
import numpy as np
import pytest
import shapely
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

from tests.district_builder import build_district
from tqspatial import maps
from tqspatial.config import load_config
from tqspatial.maps import atlas, cluster, fonts
from tqspatial.pipeline import map_layers, read_inputs

matplotlib.use("Agg")

#: Overlap (pixels) below which two boxes only touch (rounding of text extents).
TOUCH_PX = 0.5


@pytest.fixture(scope="module")
def lixia_layers(tmp_path_factory):
    district = build_district(tmp_path_factory.mktemp("lixia-carto"))
    return map_layers(read_inputs(load_config(district.config), maps=True))


@pytest.fixture(scope="module")
def drawn(tianqiao, lixia_layers):
    """Cluster maps of both districts at zh and both, drawn on an Agg canvas."""
    out = {}
    for name, data in (("tianqiao", tianqiao), ("lixia", lixia_layers)):
        for lang in ("zh", "both"):
            fig, ax = maps.plot_cluster_map(data, lang=lang)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            out[name, lang] = (fig, ax, canvas.get_renderer(), data)
    return out


CASES = [("tianqiao", "zh"), ("tianqiao", "both"), ("lixia", "zh"), ("lixia", "both")]


def _texts(fig: Figure) -> list[Text]:
    """Every text drawn: not the axis labels and ticks of axes whose axis is off."""
    hidden = {
        id(t)
        for a in fig.findobj(matplotlib.axes.Axes)
        if not a.axison
        for axis in (a.xaxis, a.yaxis)
        for t in axis.findobj(Text)
    }
    return [
        t
        for t in fig.findobj(Text)
        if t.get_text().strip() and t.get_visible() and id(t) not in hidden
    ]


def _box(text: Text, renderer):
    return Text.get_window_extent(text, renderer)  # the text alone, not a leader line


def _overlap(a, b) -> bool:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w > TOUCH_PX and h > TOUCH_PX


def _data_point(text: Text) -> tuple[float, float]:
    """Where a map label points: its own position, or the target of its leader line."""
    if isinstance(text, Annotation):
        return text.xy
    return text.get_position()


@pytest.mark.parametrize(("district", "lang"), CASES)
def test_no_two_text_boxes_overlap(drawn, district, lang):
    fig, ax, renderer, _ = drawn[district, lang]
    texts = _texts(fig)
    assert len(texts) > 20
    boxes = [(t.get_text(), _box(t, renderer)) for t in texts]
    clashes = [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if _overlap(ba, bb)]
    assert clashes == []
    # map labels also keep off the furniture: legend, scale bar, north arrow, inset, title
    furniture = [ax.get_legend().get_window_extent(renderer), ax.title.get_window_extent(renderer)]
    furniture += [a.get_window_extent(renderer) for a in ax.artists]
    furniture += [c.get_window_extent(renderer) for c in ax.child_axes]
    labels = [t for t in ax.texts if t.get_text()]
    assert [
        t.get_text() for t in labels if any(_overlap(_box(t, renderer), f) for f in furniture)
    ] == []


@pytest.mark.parametrize(("district", "lang"), CASES)
def test_every_text_lies_inside_the_figure_and_map_labels_inside_the_frame(drawn, district, lang):
    fig, ax, renderer, _ = drawn[district, lang]
    page = fig.bbox
    outside = [
        t.get_text()
        for t in _texts(fig)
        if not (
            _box(t, renderer).x0 >= page.x0 - TOUCH_PX
            and _box(t, renderer).x1 <= page.x1 + TOUCH_PX
            and _box(t, renderer).y0 >= page.y0 - TOUCH_PX
            and _box(t, renderer).y1 <= page.y1 + TOUCH_PX
        )
    ]
    assert outside == []
    frame = ax.get_window_extent(renderer)
    beyond = [
        t.get_text()
        for t in ax.texts
        if t.get_text()
        and not (
            frame.x0 - TOUCH_PX <= _box(t, renderer).x0
            and _box(t, renderer).x1 <= frame.x1 + TOUCH_PX
            and frame.y0 - TOUCH_PX <= _box(t, renderer).y0
            and _box(t, renderer).y1 <= frame.y1 + TOUCH_PX
        )
    ]
    assert beyond == []  # rotated corridor labels too


@pytest.mark.parametrize(("district", "lang"), CASES)
def test_every_cluster_piece_is_labelled(drawn, district, lang):
    _, ax, _, data = drawn[district, lang]
    layers = maps.as_layers(data)
    elements = layers.structure.elements
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    labels = [t for t in ax.texts if t.get_gid() and t.get_gid().startswith("tq-label-")]
    checked = 0
    for cid, row in elements[elements["kind"] == "cluster"].iterrows():
        name = row["name_zh"] if lang == "zh" else f"{row['name_zh']}\n{row['name_en']}"
        mine = [t for t in labels if t.get_text() == name]
        parts = list(getattr(row.geometry, "geoms", [row.geometry]))
        parts = [p.intersection(view) for p in parts]
        parts = [p for p in parts if p.area > 0]
        biggest = max(p.area for p in parts)
        pieces = [p for p in parts if p.area >= 0.1 * biggest]  # slivers: fill and legend only
        assert len(mine) == len(pieces), cid
        for piece in pieces:
            points = [shapely.Point(_data_point(t)) for t in mine]
            # the label inside the piece, or (leader line) pointing into it; and the
            # nearest label of this cluster to the piece is the one inside it
            assert any(piece.contains(p) for p in points), (cid, piece.bounds)
            nearest = min(points, key=piece.distance)
            assert piece.distance(nearest) == 0
            checked += 1
    assert checked >= len(layers.structure.cluster_ids)


def test_both_pieces_of_a_two_part_cluster_are_labelled(drawn, tianqiao):
    # 高端服务组团 has two pieces of similar size (工商河 and 北湖); each carries the name
    _, ax, _, _ = drawn["tianqiao", "zh"]
    geom = tianqiao.structure.elements.loc["high_end_services"].geometry
    assert len(geom.geoms) == 2
    labels = [t for t in ax.texts if t.get_text() == "高端服务组团"]
    assert len(labels) == 2
    for piece in geom.geoms:
        assert sum(piece.contains(shapely.Point(_data_point(t))) for t in labels) == 1


@pytest.mark.parametrize(("district", "lang"), CASES)
def test_inset_holds_no_district_land(drawn, district, lang):
    _, ax, renderer, data = drawn[district, lang]
    layers = maps.as_layers(data)
    (inset,) = [c for c in ax.child_axes if c.get_gid() == "tq-locator"]
    box = inset.get_window_extent(renderer)
    (bx0, by0), (bx1, by1) = ax.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    footprint = shapely.box(bx0, by0, bx1, by1)
    district_land = shapely.union_all(layers.boundary.geometry.to_numpy())
    assert footprint.area > 0
    assert footprint.intersection(district_land).area == 0
    # opaque and above the data: a white face at full opacity, drawn after every map layer
    assert matplotlib.colors.to_rgba(inset.patch.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    assert inset.get_zorder() > max(a.get_zorder() for a in ax.collections + ax.texts)


def test_inset_moves_away_from_land_in_the_corner():
    fig = Figure(figsize=(4, 4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    land = shapely.box(0, 60, 40, 100)  # the upper-left corner is land
    x, y, w, h = maps.furniture.locator_bounds(ax, land)
    footprint = shapely.box(x * 100, y * 100, (x + w) * 100, (y + h) * 100)
    assert footprint.intersection(land).area == 0
    assert w > 0.1


def test_outside_the_district_and_not_in_a_cluster_are_told_apart(drawn):
    _, ax, _, _ = drawn["tianqiao", "zh"]
    legend = ax.get_legend()
    entries = {
        t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    inside = matplotlib.colors.to_hex(entries["未纳入组团"].get_facecolor())
    outside = matplotlib.colors.to_hex(entries["区外（相邻区县）"].get_facecolor())
    assert inside == "#ffffff"
    assert outside != inside
    # the map really paints the outside with that fill, and the district not
    fills = [
        c
        for c in ax.collections
        if len(c.get_facecolor()) and matplotlib.colors.to_hex(c.get_facecolor()[0]) == outside
    ]
    assert fills
    mask = shapely.union_all([_path_area(path) for c in fills for path in c.get_paths()])
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    district = maps.as_layers(drawn["tianqiao", "zh"][3]).boundary.union_all()
    assert mask.intersection(district).area < 1e-6 * district.area
    assert mask.area == pytest.approx(view.difference(district).area, rel=1e-3)


def _path_area(path) -> shapely.Geometry:
    """The area a filled path paints (even-odd: holes are rings inside rings)."""
    area = shapely.Polygon()
    for ring in path.to_polygons():
        if len(ring) >= 4:
            area = area.symmetric_difference(shapely.Polygon(ring).buffer(0))
    return area


def _water_drawn(ax) -> shapely.Geometry:
    colour = matplotlib.colors.to_hex(cluster._WATER_COLOR)
    return shapely.union_all(
        [
            _path_area(path)
            for c in ax.collections
            if len(c.get_facecolor()) and matplotlib.colors.to_hex(c.get_facecolor()[0]) == colour
            for path in c.get_paths()
        ]
    )


def test_the_drawn_river_is_the_one_the_analysis_uses(drawn, tianqiao):
    _, ax, _, _ = drawn["tianqiao", "zh"]
    water = _water_drawn(ax)
    # the analysis' channel: the profile's barrier layer (water, feature == channel)
    layer, rule = tianqiao.profile.barriers[0]
    frame = getattr(tianqiao, layer)
    (condition,) = rule.conditions
    kept = frame[frame[condition.column].astype(str) == condition.args[0]]
    channels = shapely.union_all(kept.geometry.to_numpy())
    assert water.symmetric_difference(channels).area < 1e-3 * channels.area
    # the bridge anchor sits on the drawn river (it was ~0.7 km off the 1:4M polygon)
    bridges = tianqiao.anchors[
        tianqiao.anchors["role_in_plan"].str.contains("crossing|bridge", case=False)
        | tianqiao.anchors["name_en"].str.contains("bridge", case=False)
    ]
    assert len(bridges)
    for point in bridges.geometry:
        assert point.distance(water) <= 30.0
    small_scale = tianqiao.rivers[tianqiao.rivers.geom_type == "Polygon"].union_all()
    assert max(p.distance(small_scale) for p in bridges.geometry) > 300.0  # the old drawing
    # ... and the small-scale line, still traced, says what it is
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "黄河（1:400万示意）" in entries
    assert "河道水系（分析用）" in entries


def test_scale_phrase():
    assert cluster.scale_phrase("1:4000000", "zh") == "1:400万"
    assert cluster.scale_phrase("1:250000", "en") == "1:250,000"
    assert cluster.scale_phrase("sketch", "zh") == "sketch"


# ---------------------------------------------------------------- editable text in exports


@pytest.fixture(scope="module")
def exported(tianqiao, tmp_path_factory):
    fig, _ = maps.plot_cluster_map(tianqiao, lang="zh", figsize=(8.0, 6.0))
    folder = tmp_path_factory.mktemp("export")
    return atlas.save_figure(fig, folder / "m", formats=("pdf", "svg"), dpi=72), fig


def test_svg_keeps_labels_as_text_in_the_cjk_font(exported, tianqiao):
    (_, svg), _ = exported
    root = ET.parse(svg).getroot()
    texts = [
        "".join(e.itertext()) for e in root.iter() if e.tag.endswith("}text") or e.tag == "text"
    ]
    names = tianqiao.structure.elements["name_zh"]
    clusters = names[tianqiao.structure.elements["kind"] == "cluster"]
    for name in clusters:
        assert any(name in t for t in texts), name
    styles = [e.get("style", "") for e in root.iter() if e.tag.endswith("text")]
    assert all(fonts.cjk_font().family in s for s in styles if "font-family" in s)
    assert any("font-family" in s for s in styles)


def _pdf_fonts(data: bytes) -> list[TTFont]:
    out = []
    for ref in re.finditer(rb"/FontFile2 (\d+) 0 R", data):
        obj = re.search(rb"\n" + ref.group(1) + rb" 0 obj(.*?)stream\r?\n", data, re.S)
        assert obj is not None
        length = int(re.search(rb"/Length (\d+)", obj.group(1)).group(1))
        stream = data[obj.end() : obj.end() + length]
        if b"FlateDecode" in obj.group(1):
            stream = zlib.decompress(stream)
        out.append(TTFont(io.BytesIO(stream)))
    return out


def test_pdf_embeds_truetype_fonts(exported):
    (pdf, _), _ = exported
    data = pdf.read_bytes()
    assert not re.search(rb"/Subtype\s*/Type3", data)
    assert re.search(rb"/Subtype\s*/CIDFontType2", data)
    embedded = _pdf_fonts(data)
    assert embedded
    # valid /FontFile2: TrueType outlines, not the CJK font's CFF ones
    assert all("glyf" in f and "CFF " not in f for f in embedded)
    # the text stays text: the ToUnicode maps of the fonts name the characters of the labels
    streams = []
    for obj in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(obj.group(1)))
        except zlib.error:
            streams.append(obj.group(1))
    unicode_maps = b"".join(s for s in streams if b"begincmap" in s).lower()
    for char in "高端服务组团":
        assert f"<{ord(char):04x}>".encode() in unicode_maps, char


def test_outlines_stay_available_and_global_settings_untouched(exported, tmp_path):
    _, fig = exported
    before = {k: matplotlib.rcParams[k] for k in ("pdf.fonttype", "svg.fonttype")}
    pdf, svg = atlas.save_figure(fig, tmp_path / "o", formats=("pdf", "svg"), editable_text=False)
    assert re.search(rb"/Subtype\s*/Type3", pdf.read_bytes())
    assert "<text" not in svg.read_text(encoding="utf-8")
    assert {k: matplotlib.rcParams[k] for k in before} == before
    # the figure's texts got their own font back after the TrueType swap
    families = {f for t in fig.findobj(Text) for f in t.get_fontproperties().get_family()}
    assert not any(" TT " in f for f in families)


def test_truetype_copy_keeps_glyph_shapes():
    font = fonts.cjk_font()
    copy = fonts.truetype_copy(font, "天桥区")
    with (
        TTFont(str(font.path), fontNumber=font.face_index, lazy=True) as original,
        TTFont(str(copy.path)) as converted,
    ):
        _compare_glyphs(original, converted, "天桥区")
    assert copy.path.parent.name.startswith("tqspatial-fonts-")  # a temporary folder


def _compare_glyphs(original, converted, chars):
    for char in chars:
        a = original.getBestCmap()[ord(char)]
        b = converted.getBestCmap()[ord(char)]
        assert original["hmtx"][a][0] == converted["hmtx"][b][0]  # same advance width
        pa, pb = BoundsPen(original.getGlyphSet()), BoundsPen(converted.getGlyphSet())
        original.getGlyphSet()[a].draw(pa)
        converted.getGlyphSet()[b].draw(pb)
        assert np.allclose(pa.bounds, pb.bounds, atol=2)  # cubic -> quadratic within 1-2 units
