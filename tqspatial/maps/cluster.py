"""The overview map of a plan structure: clusters, corridors, river, anchors, furniture.

Examples
--------
>>> from tqspatial.maps.layers import toy_layers
>>> fig, ax = plot_cluster_map(toy_layers(), lang="en")
>>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
['West cluster', 'East cluster', 'Not in a cluster']
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from shapely.ops import polylabel

from tqspatial.maps.fonts import FontWarning, cjk_font, font_rc
from tqspatial.maps.furniture import (
    add_credit,
    add_locator_inset,
    add_north_arrow,
    add_scale_bar,
    halo,
)
from tqspatial.maps.layers import MapLayers, as_layers, credit_line, infer_provenance
from tqspatial.maps.style import (
    CORRIDOR_STYLES,
    Lang,
    bilingual,
    cluster_styles,
    structure_phrase,
)
from tqspatial.structure import CLUSTER_KIND

__all__ = ["KEY_ANCHOR_PATTERNS", "plot_cluster_map", "resolve_lang"]

logger = logging.getLogger(__name__)

#: Anchor kinds drawn by default: regex on ``role_in_plan`` / ``name_en`` -> (marker, zh, en).
KEY_ANCHOR_PATTERNS: dict[str, tuple[str, str, str]] = {
    r"railway station|\bstation\b": ("s", "火车站", "Railway station"),
    r"bridge|crossing": ("^", "桥梁", "Bridge"),
    r"district (centre|center|government)": ("*", "区政府（区中心）", "District centre"),
}

#: Margin around the district, as a share of its larger side.
EXTENT_MARGIN = 0.04

#: Opacity of cluster fills (the highlighted cluster in atlas pages uses 1.3x).
CLUSTER_ALPHA = 0.55

#: Axes-fraction boxes kept free of corridor labels: locator inset, scale bar, north arrow.
_RESERVED_AXES_AREAS = ((0.0, 0.76, 0.19, 1.0), (0.0, 0.0, 0.32, 0.1), (0.9, 0.85, 1.0, 1.0))

_RIVER_COLOR = "#3A8FD9"
_NEIGHBOUR_COLOR = "#D9D9D9"


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


def _label_point(geom: Any) -> tuple[float, float]:  # noqa: ANN401 - shapely geometry
    parts = list(getattr(geom, "geoms", [geom]))
    biggest = max(parts, key=lambda g: g.area)
    point = polylabel(biggest, tolerance=max(biggest.length / 400.0, 1.0))
    return float(point.x), float(point.y)


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


def _draw_base(ax: Axes, layers: MapLayers, lang: Lang, handles: list[Artist]) -> None:
    others = layers.neighbours()
    if others is not None:
        others.plot(ax=ax, facecolor=_NEIGHBOUR_COLOR, edgecolor="white", linewidth=0.8, zorder=1)
        if "name" in others.columns:
            x0, x1 = ax.get_xlim()
            y0, y1 = ax.get_ylim()
            view = shapely.box(x0, y0, x1, y1)
            for _, row in others.iterrows():
                part = row.geometry.intersection(view)
                if part.is_empty or part.area < 0.02 * view.area:
                    continue
                x, y = _label_point(part)
                name = bilingual(str(row["name"]), str(row.get("name_en", row["name"])), lang)
                ax.text(
                    x, y, name, ha="center", va="center", fontsize=7, color="#7A7A7A", clip_on=True
                )
        handles.append(
            Patch(
                facecolor=_NEIGHBOUR_COLOR,
                edgecolor="white",
                label=bilingual("相邻区县", "Neighbouring districts", lang, sep=" / "),
            )
        )
    if layers.boundary is not None:
        layers.boundary.plot(ax=ax, facecolor="white", edgecolor="none", zorder=1.5)
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#999999",
                label=bilingual("未纳入组团", "Not in a cluster", lang, sep=" / "),
            )
        )


def _draw_water(ax: Axes, layers: MapLayers, lang: Lang, handles: list[Artist]) -> None:
    drawn = False
    river_names: list[str] = []
    if layers.rivers is not None and "name" in layers.rivers.columns:
        river_names = sorted({str(n) for n in layers.rivers["name"].dropna()})
    for frame in (layers.water, layers.rivers):
        if frame is None or frame.empty:
            continue
        polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
        lines = frame[frame.geom_type.isin(["LineString", "MultiLineString"])]
        if "feature" in polys.columns:
            polys = polys[polys["feature"].astype(object) != "floodplain"]
        if frame is layers.water and river_names and "name_zh" in polys.columns:
            # an indicative copy of the main river gives way to the real river layer
            names = polys["name_zh"].astype(str)
            polys = polys[~names.apply(lambda n: any(r in n for r in river_names))]
        if not polys.empty:
            polys.plot(ax=ax, facecolor="#A9D3F5", edgecolor=_RIVER_COLOR, linewidth=0.4, zorder=3)
        if not lines.empty:
            lines.plot(ax=ax, color=_RIVER_COLOR, linewidth=0.8, zorder=3)
        drawn = True
    if drawn:
        handles.append(
            Patch(
                facecolor="#A9D3F5",
                edgecolor=_RIVER_COLOR,
                label=bilingual("河流水系", "Rivers", lang, sep=" / "),
            )
        )


def _draw_clusters(
    ax: Axes,
    layers: MapLayers,
    lang: Lang,
    handles: list[Artist],
    highlight: str | None,
) -> list[tuple[float, float]]:
    elements = layers.structure.elements
    label_points = []
    clusters = elements[elements["kind"] == CLUSTER_KIND]
    styles = cluster_styles([str(i) for i in clusters.index])
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
        name = bilingual(str(row["name_zh"]), str(row["name_en"]), lang)
        visible = row.geometry.intersection(_view_box(ax))
        if visible.is_empty or visible.area <= 0:
            continue
        x, y = _label_point(visible)
        label_points.append((x, y))
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=9 if lang == "zh" else 7.5,
            color="black" if not faded else "#555555",
            path_effects=halo(),
            zorder=9,
            clip_on=True,
        ).set_gid(f"tq-label-{cid}")
        handles.append(
            Patch(
                facecolor=mpl.colors.to_rgba(style.color, CLUSTER_ALPHA),
                edgecolor=style.color,
                hatch=style.hatch or None,
                label=bilingual(str(row["name_zh"]), str(row["name_en"]), lang, sep=" / "),
            )
        )
    return label_points


def _draw_corridors(
    ax: Axes,
    layers: MapLayers,
    lang: Lang,
    handles: list[Artist],
    avoid: list[tuple[float, float]],
) -> None:
    elements = layers.structure.elements
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
        if shown.is_empty or shown.area <= 0:
            continue
        candidates = _corridor_label_candidates(shown, avoid)
        on_map = bilingual(str(row["name_zh"]), str(row["name_en"]), lang)
        label = ax.text(
            *candidates[0],
            on_map,
            rotation=_long_axis_angle(row.geometry),
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=7.5,
            color=style.color,
            fontstyle="italic",
            path_effects=halo(2.0),
            zorder=9,
            clip_on=True,
        )
        label.set_gid(f"tq-label-{eid}")
        _place_without_overlap(ax, label, candidates)
        avoid.append(label.get_position())


def _occupied(ax: Axes, skip: Text) -> list[Bbox]:
    """Display boxes of the labels already drawn, plus the inset and scale-bar corners."""
    boxes = [t.get_window_extent() for t in ax.texts if t is not skip and t.get_text()]
    for x0, y0, x1, y1 in _RESERVED_AXES_AREAS:
        boxes.append(Bbox([[x0, y0], [x1, y1]]).transformed(ax.transAxes))
    return boxes


def _place_without_overlap(ax: Axes, label: Text, candidates: list[tuple[float, float]]) -> None:
    """Move ``label`` to the candidate where it overlaps other labels least."""
    ax.apply_aspect()
    frame = ax.get_window_extent()
    occupied = _occupied(ax, label)
    best: tuple[float, int] | None = None
    for rank, xy in enumerate(candidates):
        label.set_position(xy)
        box = label.get_window_extent()
        clash = sum(
            max(0.0, min(box.x1, o.x1) - max(box.x0, o.x0))
            * max(0.0, min(box.y1, o.y1) - max(box.y0, o.y0))
            for o in occupied
        )
        outside = box.width * box.height - max(
            0.0, min(box.x1, frame.x1) - max(box.x0, frame.x0)
        ) * max(0.0, min(box.y1, frame.y1) - max(box.y0, frame.y0))
        score = clash + outside
        if best is None or score < best[0] - 1e-9:
            best = (score, rank)
    label.set_position(candidates[best[1] if best else 0])


def _corridor_label_candidates(
    clipped: Any,  # noqa: ANN401 - shapely geometry
    avoid: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Points on the corridor's long axis, farthest from the other labels first."""
    parts = list(getattr(clipped, "geoms", [clipped]))
    biggest = max(parts, key=lambda g: g.area)
    env = np.asarray(shapely.oriented_envelope(biggest).exterior.coords)[:4]
    sides = np.diff(np.vstack([env, env[:1]]), axis=0)
    k = int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))
    start = (env[k] + env[(k + 3) % 4]) / 2
    end = (env[(k + 1) % 4] + env[(k + 2) % 4]) / 2
    shares = np.linspace(0.2, 0.8, 13)
    points = start + np.outer(shares, end - start)
    inside = shapely.contains_xy(biggest, points[:, 0], points[:, 1])
    if not inside.any():
        rep_point = biggest.representative_point()
        return [(float(rep_point.x), float(rep_point.y))]
    points = points[inside]
    if avoid:
        dist = np.min(np.hypot(*(points[:, None, :] - np.asarray(avoid)[None, :, :]).T), axis=0)
    else:
        dist = -np.abs(np.arange(len(points)) - len(points) / 2)
    order = np.argsort(-dist, kind="stable")
    return [(float(points[i][0]), float(points[i][1])) for i in order]


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
) -> None:
    if layers.anchors is None or layers.anchors.empty:
        return
    seen: set[str] = set()
    view = _view_box(ax)
    for row, (marker, kind_zh, kind_en) in _key_anchors(layers.anchors, anchor_ids):
        x, y = row.geometry.x, row.geometry.y
        if not view.contains(row.geometry):
            continue
        ax.plot(
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
        name = bilingual(str(row.get("name_zh", "")), str(row.get("name_en", "")), lang, sep=" ")
        ax.annotate(
            name,
            (x, y),
            xytext=(5, 3),
            textcoords="offset points",
            fontsize=6.5,
            ha="left",
            va="bottom",
            path_effects=halo(2.0),
            zorder=10,
            annotation_clip=True,
            clip_on=True,
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
        add_locator_inset(ax, layers.districts, focus, bounds=(0.0, 0.76, 0.19, 0.24), label=city)


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
        _draw_base(ax, layers, language, handles)
        label_points = _draw_clusters(ax, layers, language, cluster_handles, highlight)
        width, height = x1 - x0, y1 - y0
        label_points += [
            (x0 + 0.1 * width, y0 + 0.1 * height),
            (x0 + 0.1 * width, y0 + 0.88 * height),
        ]
        if layers.anchors is not None:
            label_points += [(float(p.x), float(p.y)) for p in layers.anchors.geometry]
        _draw_water(ax, layers, language, handles)
        anchor_handles: list[Artist] = []
        _draw_anchors(ax, layers, language, anchor_handles, anchor_ids)
        _draw_corridors(ax, layers, language, handles, label_points)
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
    logger.info("cluster map drawn: %d elements, lang=%s", len(layers.structure.elements), language)
    return fig, ax
