"""The overview map of a plan structure: clusters, corridors, river, anchors, furniture.

Examples
--------
>>> from tqspatial.maps.layers import toy_layers
>>> fig, ax = plot_cluster_map(toy_layers(), lang="en")
>>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
['West cluster', 'East cluster', 'Not in a cluster']
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox
from shapely.ops import polylabel

from tqspatial.maps.fonts import FontWarning, cjk_font, font_rc
from tqspatial.maps.furniture import (
    add_credit,
    add_locator_inset,
    add_north_arrow,
    add_scale_bar,
    figure_renderer,
    halo,
)
from tqspatial.maps.layers import (
    LAYER_NAMES,
    MapLayers,
    as_layers,
    credit_line,
    infer_provenance,
)
from tqspatial.maps.style import (
    CORRIDOR_STYLES,
    Lang,
    bilingual,
    cluster_styles,
    structure_phrase,
)
from tqspatial.structure import CLUSTER_KIND

__all__ = [
    "KEY_ANCHOR_PATTERNS",
    "labelled_pieces",
    "place_labels",
    "plot_cluster_map",
    "resolve_lang",
    "scale_phrase",
]

logger = logging.getLogger(__name__)

#: Anchor kinds drawn by default: regex on ``role_in_plan`` / ``name_en`` -> (marker, zh, en).
KEY_ANCHOR_PATTERNS: dict[str, tuple[str, str, str]] = {
    r"railway station|\bstation\b": ("s", "火车站", "Railway station"),
    r"bridge|crossing": ("^", "桥梁", "Bridge"),
    r"district (centre|center|government)": ("*", "区政府（区中心）", "District centre"),
}

#: Margin around the district, as a share of its larger side.
EXTENT_MARGIN = 0.04

#: Blank border (share of the figure width) kept right of the legend and left of the map.
FIGURE_MARGIN = 0.01

#: Opacity of cluster fills (the highlighted cluster in atlas pages uses 1.3x).
CLUSTER_ALPHA = 0.55

#: Fill of everything outside the district (neighbours and beyond); land inside the
#: district but in no cluster stays white.
OUTSIDE_COLOR = "#DCDCDC"

#: Colour of neighbouring districts' names.
NEIGHBOUR_TEXT_COLOR = "#7A7A7A"

#: A neighbour is named when its visible part is at least this share of the view.
NEIGHBOUR_LABEL_MIN_SHARE = 0.02

#: A part of a multi-part cluster gets its own label from this share of the largest part's area.
PIECE_LABEL_MIN_SHARE = 0.1

#: An enclosed patch of land in no plan element is named from this share of the district.
POCKET_LABEL_MIN_SHARE = 0.005

#: A label may stick out of its cluster or corridor by this share of its box.
LABEL_OUTSIDE_OK = 0.35

#: Beyond this share outside its area a label goes beside it, with a leader line.
LABEL_OUTSIDE_MAX = 0.6

_RIVER_COLOR = "#3A8FD9"
_WATER_COLOR = "#A9D3F5"
_FLOODPLAIN_COLOR = "#E3F1FB"


def resolve_lang(lang: str) -> Lang:
    """Check ``lang`` and fall back to English when no CJK font is installed.

    Parameters
    ----------
    lang : {"zh", "en", "both"}
        Wanted language.

    Returns
    -------
    {"zh", "en", "both"}
        ``lang``, or ``"en"`` (with a :class:`FontWarning`) when Chinese is
        wanted but cannot be drawn.

    Raises
    ------
    ValueError
        If ``lang`` is not one of the three choices.

    Examples
    --------
    >>> resolve_lang("both")
    'both'
    """
    if lang not in ("zh", "en", "both"):
        msg = f"lang={lang!r} is not supported; use 'zh', 'en' or 'both'"
        raise ValueError(msg)
    if lang != "en" and cjk_font() is None:
        warnings.warn(
            "no CJK font installed: drawing English labels instead of Chinese; "
            "install one with `pip install noto-cjk-sans-otc`",
            FontWarning,
            stacklevel=3,
        )
        return "en"
    return lang  # type: ignore[return-value]


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=figsize, layout=None)
    ax = fig.add_axes((0.01, 0.06, 0.70, 0.86))
    ax.set_anchor("E")
    return fig, ax


def _fit_legend(ax: Axes, leg: Legend) -> None:
    """Move the map left (into the margin its anchor leaves) until the legend fits the page."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    ax.apply_aspect()
    renderer = figure_renderer(fig)
    over = leg.get_window_extent(renderer).x1 - fig.bbox.x1 * (1 - FIGURE_MARGIN)
    if over <= 0:
        return
    shown = ax.get_position()
    room = shown.x0 - FIGURE_MARGIN
    shift = min(over / fig.bbox.width, max(room, 0.0))
    box = ax.get_position(original=True)
    ax.set_position((box.x0 - shift, box.y0, box.width, box.height))
    ax.apply_aspect()


def _view_extent(
    layers: MapLayers, extent: tuple[float, float, float, float] | None
) -> tuple[float, float, float, float]:
    if extent is not None:
        return extent
    frame = layers.boundary if layers.boundary is not None else layers.structure.elements
    x0, y0, x1, y1 = (float(v) for v in frame.total_bounds)
    pad = EXTENT_MARGIN * max(x1 - x0, y1 - y0)
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def _view_box(ax: Axes) -> Any:  # noqa: ANN401 - shapely polygon
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return shapely.box(x0, y0, x1, y1)


def _long_axis_angle(geom: Any) -> float:  # noqa: ANN401 - shapely geometry
    """Angle (degrees, text-readable) of the long side of the oriented envelope."""
    ring = np.asarray(shapely.oriented_envelope(geom).exterior.coords)
    sides = np.diff(ring, axis=0)
    dx, dy = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    angle = float(np.degrees(np.arctan2(dy, dx)))
    if angle > 90:  # noqa: PLR2004 - keep text upright
        angle -= 180
    elif angle < -90:  # noqa: PLR2004
        angle += 180
    return angle


@dataclasses.dataclass
class _LabelJob:
    """A label waiting for a place: where it may go and how it looks."""

    text: str
    points: list[tuple[float, float]]
    fontsizes: tuple[float, ...]
    style: dict[str, Any]
    gid: str
    region: Any = None  # shapely geometry the label should sit in (share outside is penalised)
    rotations: tuple[float, ...] = (0.0,)
    anchor: tuple[float, float] | None = None  # a point label: offsets around this point
    leader: bool = False  # may move outside its region with a leader line
    optional: bool = False  # dropped when it fits nowhere


def _parts(geom: Any) -> list[Any]:  # noqa: ANN401 - shapely geometry
    return [g for g in getattr(geom, "geoms", [geom]) if not g.is_empty and g.area > 0]


def _interior_points(piece: Any, n: int = 7) -> list[tuple[float, float]]:  # noqa: ANN401
    """Return the pole of inaccessibility, then interior grid points, most interior first."""
    pole = polylabel(piece, tolerance=max(piece.length / 400.0, 1.0))
    x0, y0, x1, y1 = piece.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n + 2)[1:-1], np.linspace(y0, y1, n + 2)[1:-1])
    xs, ys = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(piece, xs, ys)
    xs, ys = xs[inside], ys[inside]
    depth = shapely.distance(shapely.points(xs, ys), piece.exterior) if len(xs) else np.array([])
    order = np.argsort(-depth, kind="stable")
    return [(float(pole.x), float(pole.y))] + [(float(xs[i]), float(ys[i])) for i in order]


def _draw_base(ax: Axes, layers: MapLayers, lang: Lang, handles: list[Artist]) -> list[_LabelJob]:
    """Mask outside the district grey, draw the neighbours' outlines; return their name labels."""
    jobs: list[_LabelJob] = []
    view = _view_box(ax)
    others = layers.neighbours()
    if layers.boundary is not None:
        outside = view.difference(layers.boundary.union_all())
        if not outside.is_empty:
            gpd.GeoSeries([outside], crs=layers.boundary.crs).plot(
                ax=ax, facecolor=OUTSIDE_COLOR, edgecolor="none", zorder=1
            )
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#999999",
                label=bilingual("未纳入组团", "Not in a cluster", lang, sep=" / "),
            )
        )
        handles.append(
            Patch(
                facecolor=OUTSIDE_COLOR,
                edgecolor="white",
                label=bilingual(
                    "区外（相邻区县）" if others is not None else "区外",
                    "Outside the district" + (" (neighbours)" if others is not None else ""),
                    lang,
                    sep=" / ",
                ),
            )
        )
    elif others is not None:
        others.plot(ax=ax, facecolor=OUTSIDE_COLOR, edgecolor="none", zorder=1)
    if others is None:
        return jobs
    others.boundary.plot(ax=ax, color="white", linewidth=0.9, zorder=1.2)
    if "name" not in others.columns:
        return jobs
    for _, row in others.iterrows():
        part = row.geometry.intersection(view)
        if part.is_empty or part.area < NEIGHBOUR_LABEL_MIN_SHARE * view.area:
            continue
        name = bilingual(str(row["name"]), str(row.get("name_en", row["name"])), lang)
        biggest = max(_parts(part), key=lambda g: g.area)
        jobs.append(
            _LabelJob(
                name,
                _interior_points(biggest, n=9),
                (7.0, 6.0),
                {"color": NEIGHBOUR_TEXT_COLOR, "ha": "center", "va": "center"},
                f"tq-label-neighbour-{row.get('adcode', row['name'])}",
                region=biggest,
                optional=True,
            )
        )
    return jobs


def scale_phrase(scale: str, lang: Lang) -> str:
    """Write a map scale such as ``1:4000000`` the way Chinese maps do (1:400万).

    Parameters
    ----------
    scale : str
        ``1:N`` (other text is returned as it is).
    lang : {"zh", "en", "both"}
        Language.

    Returns
    -------
    str
        E.g. ``1:400万`` (zh), ``1:4,000,000`` (en).

    Examples
    --------
    >>> scale_phrase("1:4000000", "zh"), scale_phrase("1:4000000", "en")
    ('1:400万', '1:4,000,000')
    """
    found = re.fullmatch(r"\s*1\s*:\s*([\d,]+)\s*", scale)
    if not found:
        return scale
    n = int(found.group(1).replace(",", ""))
    zh = f"1:{n // 10_000:g}万" if n % 10_000 == 0 else f"1:{n}"
    return bilingual(zh, f"1:{n:,}", lang, sep=" / ")


def _draw_water(ax: Axes, layers: MapLayers, lang: Lang, handles: list[Artist]) -> list[Any]:
    """Draw the water the analysis uses in front, a small-scale river layer as a thin trace.

    Returns the drawn river geometries (water polygons, else river lines/polygons).
    """
    drawn: list[Any] = []
    water = layers.water
    if water is not None and not water.empty:
        polys = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
        feature = (
            polys["feature"].astype(object).astype(str)
            if "feature" in polys.columns
            else pd.Series("", index=polys.index)
        )
        plain = polys[feature != "floodplain"]
        flood = polys[feature == "floodplain"]
        if not flood.empty:
            flood.plot(
                ax=ax, facecolor=_FLOODPLAIN_COLOR, edgecolor=_RIVER_COLOR, linewidth=0.3,
                linestyle=":", zorder=2,
            )  # fmt: skip
            handles.append(
                Patch(
                    facecolor=_FLOODPLAIN_COLOR,
                    edgecolor=_RIVER_COLOR,
                    linestyle=":",
                    label=bilingual("滩区", "Floodplain", lang, sep=" / "),
                )
            )
        if not plain.empty:
            plain.plot(
                ax=ax, facecolor=_WATER_COLOR, edgecolor=_RIVER_COLOR, linewidth=0.4, zorder=3
            )
            drawn += list(plain.geometry)
        lines = water[water.geom_type.isin(["LineString", "MultiLineString"])]
        if not lines.empty:
            lines.plot(ax=ax, color=_RIVER_COLOR, linewidth=0.8, zorder=3)
            drawn += list(lines.geometry)
        if not plain.empty or not lines.empty:
            handles.append(
                Patch(
                    facecolor=_WATER_COLOR,
                    edgecolor=_RIVER_COLOR,
                    label=bilingual("河道水系（分析用）", "Water (as analysed)", lang, sep=" / "),
                )
            )
    rivers = layers.rivers
    if rivers is None or rivers.empty:
        return drawn
    scale_zh = scale_en = ""
    if "scale" in rivers.columns and rivers["scale"].notna().any():
        scale_zh = scale_phrase(str(rivers["scale"].dropna().iloc[0]), "zh")
        scale_en = scale_phrase(str(rivers["scale"].dropna().iloc[0]), "en")
    scale = bilingual(scale_zh, scale_en, lang, sep=" / ")
    if drawn:
        # the analysis draws its own channels: the small-scale layer is only a trace
        traced = rivers[rivers.geom_type.isin(["LineString", "MultiLineString"])]
        if traced.empty:
            traced = rivers.boundary
        traced.plot(ax=ax, color=_RIVER_COLOR, linewidth=0.5, linestyle="--", zorder=3.5)
        name = layers.layer_names.get("rivers", LAYER_NAMES["rivers"])
        label = bilingual(
            f"{name[0]}（{scale_zh}示意）" if scale_zh else f"{name[0]}（小比例尺示意）",
            f"{name[1]} ({scale_en} sketch)" if scale_en else f"{name[1]} (small-scale sketch)",
            lang,
            sep=" / ",
        )
        handles.append(
            Line2D([], [], color=_RIVER_COLOR, linewidth=0.8, linestyle="--", label=label)
        )
        return drawn
    polys = rivers[rivers.geom_type.isin(["Polygon", "MultiPolygon"])]
    lines = rivers[rivers.geom_type.isin(["LineString", "MultiLineString"])]
    if not polys.empty:
        polys.plot(ax=ax, facecolor=_WATER_COLOR, edgecolor=_RIVER_COLOR, linewidth=0.4, zorder=3)
    if not lines.empty:
        lines.plot(ax=ax, color=_RIVER_COLOR, linewidth=0.8, zorder=3)
    handles.append(
        Patch(
            facecolor=_WATER_COLOR,
            edgecolor=_RIVER_COLOR,
            label=bilingual("河流水系", "Rivers", lang, sep=" / ")
            + (f" ({scale})" if scale else ""),
        )
    )
    return list(rivers.geometry)


def _draw_clusters(
    ax: Axes,
    layers: MapLayers,
    lang: Lang,
    handles: list[Artist],
    highlight: str | None,
) -> list[_LabelJob]:
    elements = layers.structure.elements
    jobs: list[_LabelJob] = []
    clusters = elements[elements["kind"] == CLUSTER_KIND]
    styles = cluster_styles([str(i) for i in clusters.index])
    view = _view_box(ax)
    for cid, row in clusters.iterrows():
        style = styles[str(cid)]
        faded = highlight is not None and cid != highlight
        alpha = 0.18 if faded else min(1.0, CLUSTER_ALPHA * (1.3 if highlight else 1.0))
        gpd.GeoSeries([row.geometry], crs=elements.crs).plot(
            ax=ax,
            facecolor=mpl.colors.to_rgba(style.color, alpha),
            edgecolor=style.color,
            hatch=style.hatch or None,
            linewidth=1.6 if cid == highlight else 0.9,
            zorder=4,
        )
        handles.append(
            Patch(
                facecolor=mpl.colors.to_rgba(style.color, CLUSTER_ALPHA),
                edgecolor=style.color,
                hatch=style.hatch or None,
                label=bilingual(str(row["name_zh"]), str(row["name_en"]), lang, sep=" / "),
            )
        )
        name = bilingual(str(row["name_zh"]), str(row["name_en"]), lang)
        for k, piece in enumerate(labelled_pieces(row.geometry.intersection(view))):
            jobs.append(
                _LabelJob(
                    name,
                    _interior_points(piece),
                    (9.0, 8.0, 7.0) if lang == "zh" else (7.5, 6.5, 6.0),
                    {
                        "color": "black" if not faded else "#555555",
                        "ha": "center",
                        "va": "center",
                        "path_effects": halo(),
                        "zorder": 9,
                    },
                    f"tq-label-{cid}" if k == 0 else f"tq-label-{cid}-{k}",
                    region=piece,
                    leader=True,
                )
            )
    return jobs


def _pocket_jobs(ax: Axes, layers: MapLayers, lang: Lang) -> list[_LabelJob]:
    """Name the enclosed holes of land in no plan element (so a white patch is explained).

    A pocket is district land outside every cluster, axis and belt that does not reach the
    district boundary and covers at least :data:`POCKET_LABEL_MIN_SHARE` of the district.
    It is labelled "not in a cluster", with the name of an anchor inside it when there is one.
    """
    if layers.boundary is None:
        return []
    district = layers.boundary.union_all()
    rest = district.difference(layers.structure.elements.union_all()).intersection(_view_box(ax))
    edge = district.boundary
    jobs = []
    for k, pocket in enumerate(sorted(_parts(rest), key=lambda g: -g.area)):
        if pocket.area < POCKET_LABEL_MIN_SHARE * district.area or pocket.intersects(edge):
            continue
        zh, en = "未纳入组团", "not in a cluster"
        if layers.anchors is not None and not layers.anchors.empty:
            inside = layers.anchors[layers.anchors.within(pocket)]
            if not inside.empty:
                first = inside.iloc[0]
                zh = f"{first.get('name_zh', '')}\n（{zh}）"
                en = f"{first.get('name_en', '')}\n({en})"
        jobs.append(
            _LabelJob(
                bilingual(zh, en[0].upper() + en[1:], lang),
                _interior_points(pocket),
                (6.5, 6.0),
                {
                    "color": NEIGHBOUR_TEXT_COLOR,
                    "fontstyle": "italic",
                    "ha": "center",
                    "va": "center",
                    "path_effects": halo(2.0),
                    "zorder": 9,
                },
                f"tq-label-pocket-{k}",
                region=pocket,
                optional=True,
            )
        )
    return jobs


def labelled_pieces(geom: Any) -> list[Any]:  # noqa: ANN401 - shapely geometry
    """Return the parts of a cluster that get a label of their own, largest first.

    Parameters
    ----------
    geom : shapely geometry
        A cluster (its visible part).

    Returns
    -------
    list of shapely.Polygon
        Every part at least :data:`PIECE_LABEL_MIN_SHARE` of the largest part's area; smaller
        slivers are told by their fill and the legend.

    Examples
    --------
    >>> from shapely.geometry import MultiPolygon, box
    >>> [p.area for p in labelled_pieces(MultiPolygon([box(0, 0, 1, 1), box(2, 0, 4, 1),
    ...                                                  box(5, 0, 5.1, 0.1)]))]
    [2.0, 1.0]
    """
    parts = sorted(_parts(geom), key=lambda g: -g.area)
    if not parts:
        return []
    return [p for p in parts if p.area >= PIECE_LABEL_MIN_SHARE * parts[0].area]


def _draw_corridors(
    ax: Axes,
    layers: MapLayers,
    lang: Lang,
    handles: list[Artist],
) -> list[_LabelJob]:
    elements = layers.structure.elements
    jobs: list[_LabelJob] = []
    corridors = elements[elements["kind"] != CLUSTER_KIND]
    clip = layers.boundary.union_all() if layers.boundary is not None else None
    view = _view_box(ax)
    for eid, row in corridors.iterrows():
        style = CORRIDOR_STYLES.get(str(row["kind"]), CORRIDOR_STYLES["other"])
        geom = row.geometry if clip is None else row.geometry.intersection(clip)
        if geom.is_empty:
            continue
        handles.append(
            Patch(
                facecolor=mpl.colors.to_rgba(style.color, style.alpha),
                edgecolor=style.color,
                hatch=style.hatch or None,
                linestyle=style.linestyle,
                label=bilingual(str(row["name_zh"]), str(row["name_en"]), lang, sep=" / "),
            )
        )
        gpd.GeoSeries([geom], crs=elements.crs).plot(
            ax=ax,
            facecolor=mpl.colors.to_rgba(style.color, style.alpha),
            edgecolor=mpl.colors.to_rgba(style.color, 0.9),
            hatch=style.hatch or None,
            linestyle=style.linestyle,
            linewidth=1.1,
            zorder=6,
        )
        shown = geom.intersection(view)
        parts = _parts(shown)
        if not parts:
            continue
        biggest = max(parts, key=lambda g: g.area)
        angle = _long_axis_angle(biggest)
        jobs.append(
            _LabelJob(
                bilingual(str(row["name_zh"]), str(row["name_en"]), lang),
                _corridor_label_points(biggest),
                (7.5, 7.0, 6.5) if lang == "zh" else (7.0, 6.5, 6.0),
                {
                    "color": style.color,
                    "fontstyle": "italic",
                    "ha": "center",
                    "va": "center",
                    "rotation_mode": "anchor",
                    "path_effects": halo(2.0),
                    "zorder": 9,
                },
                f"tq-label-{eid}",
                region=biggest,
                leader=True,
                rotations=(angle, 0.0) if abs(angle) > 1 else (0.0,),
            )
        )
    return jobs


def _corridor_label_points(piece: Any) -> list[tuple[float, float]]:  # noqa: ANN401
    """Points on the corridor's long axis, middle first, then the interior points."""
    env = np.asarray(shapely.oriented_envelope(piece).exterior.coords)[:4]
    sides = np.diff(np.vstack([env, env[:1]]), axis=0)
    k = int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))
    start = (env[k] + env[(k + 3) % 4]) / 2
    end = (env[(k + 1) % 4] + env[(k + 2) % 4]) / 2
    shares = np.linspace(0.1, 0.9, 17)
    shares = shares[np.argsort(np.abs(shares - 0.5), kind="stable")]
    points = start + np.outer(shares, end - start)
    inside = shapely.contains_xy(piece, points[:, 0], points[:, 1])
    axis_points = [(float(x), float(y)) for x, y in points[inside]]
    return axis_points + _interior_points(piece)


def _key_anchors(
    anchors: gpd.GeoDataFrame, anchor_ids: Sequence[str] | None
) -> list[tuple[Any, tuple[str, str, str]]]:
    out = []
    texts = (
        anchors.get("role_in_plan", "").astype(str) + " " + anchors.get("name_en", "").astype(str)
    ).str.lower()
    for idx, row in anchors.iterrows():
        kind = next(
            (v for pat, v in KEY_ANCHOR_PATTERNS.items() if re.search(pat, texts.loc[idx])),
            None,
        )
        if anchor_ids is not None:
            if str(row.get("anchor_id", idx)) not in anchor_ids:
                continue
            kind = kind or ("o", "地名点", "Place")
        if kind is not None:
            out.append((row, kind))
    return out


def _draw_anchors(
    ax: Axes,
    layers: MapLayers,
    lang: Lang,
    handles: list[Artist],
    anchor_ids: Sequence[str] | None,
) -> tuple[list[_LabelJob], list[Line2D]]:
    jobs: list[_LabelJob] = []
    markers: list[Line2D] = []
    if layers.anchors is None or layers.anchors.empty:
        return jobs, markers
    seen: set[str] = set()
    view = _view_box(ax)
    for row, (marker, kind_zh, kind_en) in _key_anchors(layers.anchors, anchor_ids):
        x, y = row.geometry.x, row.geometry.y
        if not view.contains(row.geometry):
            continue
        (line,) = ax.plot(
            x,
            y,
            marker=marker,
            color="black",
            markersize=7 if marker == "*" else 5.5,
            markeredgecolor="white",
            markeredgewidth=0.6,
            zorder=10,
            linestyle="none",
        )
        line.set_gid(f"tq-anchor-{row.get('anchor_id', row.name)}")
        markers.append(line)
        name = bilingual(str(row.get("name_zh", "")), str(row.get("name_en", "")), lang, sep=" ")
        jobs.append(
            _LabelJob(
                name,
                [],
                (6.5, 6.0),
                {"path_effects": halo(2.0), "zorder": 10},
                f"tq-label-anchor-{row.get('anchor_id', row.name)}",
                anchor=(float(x), float(y)),
            )
        )
        if marker not in seen:
            seen.add(marker)
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    color="black",
                    linestyle="none",
                    markersize=6,
                    label=bilingual(kind_zh, kind_en, lang, sep=" / "),
                )
            )
    return jobs, markers


# ---------------------------------------------------------------- label placement

#: Offsets (points) of a point label from its marker, with the alignment that goes with each.
_POINT_OFFSETS: tuple[tuple[float, float, str, str], ...] = (
    (5, 3, "left", "bottom"),
    (5, -3, "left", "top"),
    (-5, 3, "right", "bottom"),
    (-5, -3, "right", "top"),
    (6, 0, "left", "center"),
    (-6, 0, "right", "center"),
    (0, 6, "center", "bottom"),
    (0, -6, "center", "top"),
    (10, 8, "left", "bottom"),
    (10, -8, "left", "top"),
    (-10, 8, "right", "bottom"),
    (-10, -8, "right", "top"),
)

#: Gap (points) kept between label boxes.
LABEL_GAP_PT = 1.5


def _overlap_area(box: Bbox, others: list[Bbox]) -> float:
    if not others:
        return 0.0
    arr = np.array([[o.x0, o.y0, o.x1, o.y1] for o in others])
    w = np.clip(np.minimum(box.x1, arr[:, 2]) - np.maximum(box.x0, arr[:, 0]), 0, None)
    h = np.clip(np.minimum(box.y1, arr[:, 3]) - np.maximum(box.y0, arr[:, 1]), 0, None)
    return float((w * h).sum())


def _outside_area(box: Bbox, frame: Bbox) -> float:
    w = max(0.0, min(box.x1, frame.x1) - max(box.x0, frame.x0))
    h = max(0.0, min(box.y1, frame.y1) - max(box.y0, frame.y0))
    return float(box.width * box.height - w * h)


class _Placer:
    """Greedy placement: each label takes its best free spot, in priority order."""

    def __init__(self, ax: Axes, obstacles: list[Bbox]) -> None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        self.ax = ax
        self.renderer = figure_renderer(fig)
        self.frame = ax.get_window_extent(self.renderer)
        self.gap = LABEL_GAP_PT * fig.dpi / 72.0
        self.taken: list[Bbox] = list(obstacles)
        self.to_data = ax.transData.inverted()

    def _box(self, text: Text) -> Bbox:
        # the text alone: an annotation's own extent would add its leader line
        if isinstance(text, Annotation):
            text.update_positions(self.renderer)
        return Text.get_window_extent(text, self.renderer).padded(self.gap)

    def _outside_region(self, box: Bbox, region: Any) -> float:  # noqa: ANN401
        if region is None:
            return 0.0
        (x0, y0), (x1, y1) = self.to_data.transform([[box.x0, box.y0], [box.x1, box.y1]])
        rect = shapely.box(x0, y0, x1, y1)
        return float(1.0 - rect.intersection(region).area / max(rect.area, 1e-9))

    def _boxes_at(self, text: Text, points: Sequence[tuple[float, float]]) -> list[Bbox]:
        """Boxes of ``text`` moved to each point (a text's box only shifts with its anchor)."""
        if not points:
            return []
        text.set_position(points[0])
        first = self._box(text)
        screen = self.ax.transData.transform(np.asarray(points, dtype=float))
        shifts = screen - screen[0]
        return [first.translated(float(dx), float(dy)) for dx, dy in shifts]

    def _score(self, box: Bbox, region: Any) -> tuple[float, float]:  # noqa: ANN401
        clash = _overlap_area(box, self.taken) + 4.0 * _outside_area(box, self.frame)
        if clash > 0:  # the share outside matters only among free spots
            return clash, 1.0
        return clash, self._outside_region(box, region)

    def place(self, job: _LabelJob) -> Text | None:
        if job.anchor is not None:
            return self._place_point(job)
        text = self.ax.text(0, 0, job.text, fontsize=job.fontsizes[0], **job.style)
        text.set_gid(job.gid)
        best: tuple[tuple[float, float, int], tuple[float, float, float, float]] | None = None
        for rank_rot, rotation in enumerate(job.rotations):
            text.set_rotation(rotation)
            for rank_size, size in enumerate(job.fontsizes):
                text.set_fontsize(size)
                for xy, box in zip(job.points, self._boxes_at(text, job.points), strict=True):
                    clash, outside = self._score(box, job.region)
                    # free spots first; then the spot most inside its region; bigger text first
                    key = (clash, round(outside, 1), rank_size + rank_rot)
                    if best is None or key < best[0]:
                        best = (key, (size, rotation, *xy))
                    if clash == 0 and outside < LABEL_OUTSIDE_OK:
                        return self._commit(text, size, rotation, xy)
        free = best is not None and best[0][0] == 0
        if free and best is not None and best[0][1] <= LABEL_OUTSIDE_MAX:
            return self._commit(text, best[1][0], best[1][1], best[1][2:])
        if job.leader and job.region is not None:
            placed = self._place_with_leader(text, job)
            if placed is not None:
                return placed
        if not free or best is None:
            text.remove()
            logger.debug("map label %r left out: no free place for it", job.text)
            return None
        return self._commit(text, best[1][0], best[1][1], best[1][2:])

    def _commit(self, text: Text, size: float, rotation: float, xy: tuple[float, ...]) -> Text:
        text.set_fontsize(size)
        text.set_rotation(rotation)
        text.set_position((xy[0], xy[1]))
        self.taken.append(self._box(text))
        return text

    def _place_with_leader(self, text: Text, job: _LabelJob) -> Text | None:
        """Put the label beside its region, joined to it by a thin line."""
        region = job.region
        target = job.points[0]
        x0, y0, x1, y1 = region.bounds
        radius = max(x1 - x0, y1 - y0) / 2
        size = job.fontsizes[-1]
        text.set_fontsize(size)
        text.set_rotation(0.0)
        for factor in (1.2, 1.6, 2.2, 3.0):
            for angle in np.radians(np.arange(0, 360, 30)):
                xy = (
                    target[0] + factor * radius * math.cos(angle),
                    target[1] + factor * radius * math.sin(angle),
                )
                text.set_position(xy)
                box = self._box(text)
                if _overlap_area(box, self.taken) + _outside_area(box, self.frame) == 0:
                    text.remove()
                    note = self.ax.annotate(
                        job.text,
                        target,
                        xytext=xy,
                        fontsize=size,
                        arrowprops={"arrowstyle": "-", "linewidth": 0.6, "color": "#333333"},
                        annotation_clip=False,
                        **job.style,
                    )
                    note.set_gid(job.gid)
                    self.taken.append(self._box(note))
                    return note
        return None

    def _place_point(self, job: _LabelJob) -> Text | None:
        assert job.anchor is not None
        note = self.ax.annotate(
            job.text,
            job.anchor,
            xytext=_POINT_OFFSETS[0][:2],
            textcoords="offset points",
            fontsize=job.fontsizes[0],
            ha=_POINT_OFFSETS[0][2],
            va=_POINT_OFFSETS[0][3],
            annotation_clip=True,
            **job.style,
        )
        note.set_gid(job.gid)
        best: tuple[float, float, int] | None = None
        choice: tuple[float, tuple[float, float, str, str]] = (job.fontsizes[0], _POINT_OFFSETS[0])
        for rank, size in enumerate(job.fontsizes):
            note.set_fontsize(size)
            for offset in _POINT_OFFSETS:
                note.xyann = offset[:2]
                note.set(ha=offset[2], va=offset[3])
                clash = _overlap_area(self._box(note), self.taken) + 4.0 * _outside_area(
                    self._box(note), self.frame
                )
                key = (clash, float(rank), 0)
                if best is None or key < best:
                    best, choice = key, (size, offset)
                if clash == 0:
                    break
            if best is not None and best[0] == 0:
                break
        if best is None or best[0] > 0:
            note.remove()
            logger.debug("map label %r left out: no free place for it", job.text)
            return None
        size, offset = choice
        note.set_fontsize(size)
        note.xyann = offset[:2]
        note.set(ha=offset[2], va=offset[3])
        self.taken.append(self._box(note))
        return note


def _furniture_boxes(ax: Axes, renderer: Any) -> list[Bbox]:  # noqa: ANN401 - a renderer
    """Display boxes of the title, legend, scale bar, north arrow, inset and credit."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    boxes = [a.get_window_extent(renderer) for a in ax.artists]
    boxes += [b for c in ax.child_axes if (b := c.get_tightbbox(renderer)) is not None]
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(legend.get_window_extent(renderer))
    for text in (ax.title, *fig.texts):
        if text.get_text():
            boxes.append(text.get_window_extent(renderer))
    return [b for b in boxes if b is not None and b.width > 0]


def _marker_boxes(ax: Axes, markers: list[Line2D], renderer: Any) -> list[Bbox]:  # noqa: ANN401
    out = []
    for line in markers:
        x, y = ax.transData.transform(np.column_stack(line.get_data())[0])
        half = line.get_markersize() / 2 * renderer.points_to_pixels(1.0)
        out.append(Bbox([[x - half, y - half], [x + half, y + half]]))
    return out


def place_labels(ax: Axes, jobs: Sequence[_LabelJob], markers: Sequence[Line2D] = ()) -> list[Text]:
    """Place map labels so that no two boxes overlap, nor touch the map furniture.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map, with its furniture (title, legend, scale bar, inset, credit) drawn.
    jobs : sequence of _LabelJob
        Labels in priority order (earlier ones get the better spots).
    markers : sequence of matplotlib.lines.Line2D
        Point markers labels must not cover.

    Returns
    -------
    list of matplotlib.text.Text
        The labels placed (optional ones that fit nowhere are left out).
    """
    ax.apply_aspect()
    placer = _Placer(ax, [])
    placer.taken = _furniture_boxes(ax, placer.renderer) + _marker_boxes(
        ax, list(markers), placer.renderer
    )
    out = []
    for job in jobs:
        text = placer.place(job)
        if text is not None:
            text.set_clip_on(False)
            out.append(text)
    return out


def _title(layers: MapLayers, lang: Lang) -> str:
    counts = layers.structure.elements["kind"].value_counts()
    first = ["core", "axis", "belt", CLUSTER_KIND]
    order = first + [str(k) for k in counts.index if k not in first]
    phrase = structure_phrase({k: int(counts.get(k, 0)) for k in order}, lang="zh")
    phrase_en = structure_phrase({k: int(counts.get(k, 0)) for k in order}, lang="en")
    name_zh, name_en = layers.district_name or ("", "")
    if layers.district_name is None and layers.boundary is not None and not layers.boundary.empty:
        first = layers.boundary.iloc[0]
        name_zh = str(first.get("name", ""))
        name_en = str(first.get("name_en", name_zh))
    zh = f"{name_zh}“{phrase}”产业空间布局"
    en = f"{name_en}: spatial structure ({phrase_en})".strip(": ")
    return bilingual(zh, en, lang)


def _add_furniture(
    ax: Axes, layers: MapLayers, lang: Lang, *, scale_bar: bool, north_arrow: bool, inset: bool
) -> None:
    if scale_bar:
        add_scale_bar(ax)
    if north_arrow:
        add_north_arrow(ax, crs=layers.structure.elements.crs)
    if inset and layers.districts is not None:
        focus = layers.boundary if layers.boundary is not None else layers.districts.iloc[:0]
        city = ""
        city_zh, city_en = layers.city_name or ("", "")
        if not city_zh and "city" in layers.districts.columns and not layers.districts.empty:
            city_zh = str(layers.districts["city"].iloc[0])
        if city_zh or city_en:  # no English name given: no city label on English maps
            city = bilingual(city_zh, city_en, lang, sep=" ").strip()
        add_locator_inset(ax, layers.districts, focus, label=city)


def _default_credit(layers: MapLayers, lang: Lang, provenance: dict[str, str] | None) -> str:
    crs = layers.structure.elements.crs
    epsg = crs.to_epsg() if crs is not None else None
    return credit_line(
        provenance or infer_provenance(layers),
        lang,
        crs=f"EPSG:{epsg}" if epsg else None,
        extra=" ".join(layers.credits),
        names=layers.layer_names,
    )


def plot_cluster_map(
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or a dataset (duck-typed)
    *,
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    credit: str | None = None,
    provenance: dict[str, str] | None = None,
    anchor_ids: Sequence[str] | None = None,
    extent: tuple[float, float, float, float] | None = None,
    highlight: str | None = None,
    legend: bool = True,
    inset: bool = True,
    scale_bar: bool = True,
    north_arrow: bool = True,
    figsize: tuple[float, float] = (11.0, 8.5),
) -> tuple[Figure, Axes]:
    """Draw the plan structure: clusters, axis and belts over the district, with map furniture.

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        Layers to draw (see :func:`tqspatial.maps.layers.as_layers`), e.g.
        ``tq.datasets.tianqiao()``.  All in one metric CRS.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    lang : {"zh", "en", "both"}, default "zh"
        Label language.  Chinese falls back to English with a
        :class:`~tqspatial.maps.fonts.FontWarning` if no CJK font exists.
    title : str, optional
        Title; by default built from the district name and the structure
        (e.g. 天桥区“一轴两带五组团”产业空间布局).  ``""`` for none.
    credit : str, optional
        Source line; by default it says which layers are real, indicative
        or synthetic (from ``provenance``).  ``""`` for none.
    provenance : dict of str to str, optional
        Layer name -> ``real`` / ``indicative`` / ``synthetic``; inferred from
        the layers' ``status`` / ``synthetic`` / ``source`` columns when omitted.
    anchor_ids : sequence of str, optional
        Anchors to mark; by default the railway station, bridges and the
        district centre (:data:`KEY_ANCHOR_PATTERNS`).
    extent : tuple of float, optional
        ``(xmin, ymin, xmax, ymax)`` of the view; default the district plus 4 %.
    highlight : str, optional
        A cluster id to emphasise (others are faded), used by the atlas.
    legend, inset, scale_bar, north_arrow : bool, default True
        Which furniture to draw.
    figsize : tuple of float, default (11, 8.5)
        Figure size in inches when ``ax`` is omitted.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The figure and the map axes (equal aspect, limits = ``extent``).

    Raises
    ------
    TypeError
        If ``data`` holds no plan structure.
    ValueError
        If ``lang`` is unknown or ``highlight`` is not a cluster id.

    Examples
    --------
    >>> from tqspatial.maps.layers import toy_layers
    >>> fig, ax = plot_cluster_map(toy_layers().structure, lang="en")
    >>> ax.get_aspect(), ax.get_title()
    (1.0, 'spatial structure (1 belt, 2 clusters)')
    """
    layers = as_layers(data)
    language = resolve_lang(lang)
    if highlight is not None and highlight not in layers.structure.cluster_ids:
        msg = (
            f"highlight={highlight!r} is not a cluster id; "
            f"choose one of {layers.structure.cluster_ids}"
        )
        raise ValueError(msg)
    made_here = ax is None
    with mpl.rc_context(font_rc()):
        fig, ax = _new_axes(ax, figsize)
        x0, y0, x1, y1 = _view_extent(layers, extent)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_axis_off()
        ax.patch.set_facecolor("white")
        handles: list[Artist] = []
        cluster_handles: list[Artist] = []
        jobs = _draw_base(ax, layers, language, handles)
        cluster_jobs = _draw_clusters(ax, layers, language, cluster_handles, highlight)
        _draw_water(ax, layers, language, handles)
        anchor_handles: list[Artist] = []
        anchor_jobs, markers = _draw_anchors(ax, layers, language, anchor_handles, anchor_ids)
        corridor_jobs = _draw_corridors(ax, layers, language, handles)
        if layers.boundary is not None:
            layers.boundary.boundary.plot(ax=ax, color="#222222", linewidth=1.4, zorder=8)
            handles.append(
                Line2D(
                    [],
                    [],
                    color="#222222",
                    linewidth=1.4,
                    label=bilingual("区界", "District boundary", language, sep=" / "),
                )
            )
        handles += anchor_handles
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        if legend:
            leg = ax.legend(
                handles=cluster_handles + handles,
                loc="lower left",
                bbox_to_anchor=(1.01, 0.0),
                fontsize=7.5 if language != "both" else 6.5,
                title=bilingual("图例", "Legend", language, sep=" / "),
                title_fontsize=7.5,
                frameon=True,
                framealpha=0.92,
                borderpad=0.6,
                handlelength=1.6,
            )
            leg.set_zorder(20)
            if made_here:
                _fit_legend(ax, leg)
        _add_furniture(
            ax, layers, language, scale_bar=scale_bar, north_arrow=north_arrow, inset=inset
        )
        if title is None:
            title = _title(layers, language)
        if title:
            ax.set_title(title, fontsize=13 if language == "zh" else 11, pad=8)
        if credit is None:
            credit = _default_credit(layers, language, provenance)
        if credit:
            add_credit(fig, credit)
        # clusters first (they name the plan), then corridors, places and neighbours
        pockets = _pocket_jobs(ax, layers, language)
        place_labels(ax, cluster_jobs + corridor_jobs + anchor_jobs + pockets + jobs, markers)
    logger.debug(
        "cluster map drawn: %d elements, lang=%s", len(layers.structure.elements), language
    )
    return fig, ax
