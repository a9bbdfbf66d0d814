"""Map furniture: scale bar, north arrow, locator inset, credit line, label halos.

All functions draw on an existing axes in a projected CRS in metres with an
equal aspect ratio, and return what they drew so tests can measure it.

Examples
--------
>>> nice_scale_length(21_000.0)
5000.0
>>> format_distance(2500.0), format_distance(500.0)
('2.5 km', '500 m')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import matplotlib.patheffects as pe
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox, DrawingArea, TextArea, VPacker
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from pyproj import CRS, Transformer

__all__ = [
    "NICE_STEPS",
    "ScaleBar",
    "add_credit",
    "add_locator_inset",
    "add_north_arrow",
    "add_scale_bar",
    "figure_renderer",
    "format_distance",
    "halo",
    "locator_bounds",
    "nice_scale_length",
    "true_north_angle",
]

#: Leading digits a scale-bar length may have (times a power of ten).
NICE_STEPS = (1.0, 2.0, 5.0)

#: Target scale-bar length as a share of the map width.
SCALE_BAR_FRACTION = 0.25

#: Metres from which a length is written in kilometres.
KM_FROM_M = 1000.0

#: Drawing order of a locator inset: above every layer and label of the map.
INSET_ZORDER = 20


def nice_scale_length(span_m: float, *, fraction: float = SCALE_BAR_FRACTION) -> float:
    """Return a round scale-bar length close to ``fraction`` of the map width.

    Parameters
    ----------
    span_m : float
        Width of the map in metres (> 0).
    fraction : float, default 0.25
        Wanted share of the width; the result is the largest round length
        (1, 2 or 5 times a power of ten) not longer than that.

    Returns
    -------
    float
        Length in metres.

    Raises
    ------
    ValueError
        If ``span_m`` or ``fraction`` is not positive and finite.

    Examples
    --------
    >>> [nice_scale_length(s) for s in (900.0, 5_000.0, 160_000.0)]
    [200.0, 1000.0, 20000.0]
    """
    if not (math.isfinite(span_m) and span_m > 0 and 0 < fraction <= 1):
        msg = f"scale bar: map width {span_m!r} m and fraction {fraction!r} must be positive"
        raise ValueError(msg)
    target = span_m * fraction
    power = 10.0 ** math.floor(math.log10(target))
    return max(step * power for step in NICE_STEPS if step * power <= target * (1 + 1e-9))


def format_distance(metres: float) -> str:
    """Write a distance in m below 1 km and in km from 1 km.

    Parameters
    ----------
    metres : float
        Distance.

    Returns
    -------
    str
        E.g. ``'250 m'``, ``'1 km'``, ``'2.5 km'``.

    Examples
    --------
    >>> format_distance(1000.0)
    '1 km'
    """
    if metres >= KM_FROM_M:
        return f"{metres / KM_FROM_M:g} km"
    return f"{metres:g} m"


@dataclasses.dataclass(frozen=True)
class ScaleBar:
    """A scale bar drawn on a map.

    Attributes
    ----------
    length_m : float
        Total length in metres (data units of the axes).
    segments : list of matplotlib.patches.Rectangle
        The alternating black and white blocks, in data units.
    artist : matplotlib.offsetbox.AnchoredOffsetbox
        The anchored box holding them.
    label : str
        Length label, e.g. ``'4 km'``.
    """

    length_m: float
    segments: list[Rectangle]
    artist: AnchoredOffsetbox
    label: str


def halo(width: float = 2.5) -> list[pe.AbstractPathEffect]:
    """Return a white outline path effect that keeps labels readable on fills.

    Parameters
    ----------
    width : float, default 2.5
        Outline width in points.

    Returns
    -------
    list
        Path effects for ``Text.set_path_effects``.

    Examples
    --------
    >>> len(halo())
    1
    """
    return [pe.withStroke(linewidth=width, foreground="white", alpha=0.85)]


def add_scale_bar(
    ax: Axes,
    *,
    length_m: float | None = None,
    segments: int | None = None,
    loc: str = "lower left",
    fontsize: float = 7.0,
) -> ScaleBar:
    """Draw a segmented scale bar whose length is in the axes' data units (metres).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axes in a metric CRS, equal aspect, limits already set.
    length_m : float, optional
        Bar length; by default :func:`nice_scale_length` of the x extent.
    segments : int, optional
        Number of alternating blocks; by default 5 for lengths starting
        with 5 and 4 otherwise, so every tick is a round number.
    loc : str, default "lower left"
        Anchor position (matplotlib legend locations).
    fontsize : float, default 7
        Label size in points.

    Returns
    -------
    ScaleBar
        What was drawn.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> _ = ax.set_xlim(0, 20_000), ax.set_ylim(0, 20_000), ax.set_aspect("equal")
    >>> add_scale_bar(ax).label
    '5 km'
    """
    x0, x1 = ax.get_xlim()
    length = float(length_m) if length_m is not None else nice_scale_length(abs(x1 - x0))
    lead = round(length / 10.0 ** math.floor(math.log10(length)), 6)
    n = segments if segments is not None else (5 if lead == 5.0 else 4)  # noqa: PLR2004
    height = length / 30.0
    box = AuxTransformBox(ax.transData)
    blocks = []
    for i in range(n):
        rect = Rectangle(
            (i * length / n, 0.0),
            length / n,
            height,
            facecolor="black" if i % 2 == 0 else "white",
            edgecolor="black",
            linewidth=0.6,
        )
        rect.set_gid("tq-scalebar-segment")
        box.add_artist(rect)
        blocks.append(rect)
    ticks = [i * length / n for i in range(n + 1)] if n == 5 else [0.0, length / 2, length]  # noqa: PLR2004
    unit_km = length >= KM_FROM_M
    for value in ticks:
        shown = value / KM_FROM_M if unit_km else value
        text = f"{shown:g}" + ((" km" if unit_km else " m") if value == length else "")
        box.add_artist(Text(value, -height * 0.5, text, ha="center", va="top", fontsize=fontsize))
    anchored = AnchoredOffsetbox(
        loc=loc, child=box, pad=0.6, borderpad=0.8, frameon=True, prop=FontProperties(size=fontsize)
    )
    anchored.patch.set(facecolor="white", alpha=0.8, edgecolor="none")
    anchored.set_gid("tq-scalebar")
    ax.add_artist(anchored)
    return ScaleBar(length, blocks, anchored, format_distance(length))


def true_north_angle(crs: CRS | str, x: float, y: float) -> float:
    """Return the angle (degrees, counter-clockwise from grid north) of true north.

    Parameters
    ----------
    crs : pyproj.CRS or str
        Projected CRS of the map.
    x, y : float
        Map position (usually the centre).

    Returns
    -------
    float
        Near 0 close to the central meridian of a Gauss–Krüger zone.

    Examples
    --------
    >>> abs(true_north_angle("EPSG:4548", 500_000.0, 4_070_000.0)) < 0.01
    True
    """
    proj = CRS.from_user_input(crs)
    to_geo = Transformer.from_crs(proj, proj.geodetic_crs, always_xy=True)
    to_map = Transformer.from_crs(proj.geodetic_crs, proj, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    x2, y2 = to_map.transform(lon, lat + 0.01)
    return float(-math.degrees(math.atan2(x2 - x, y2 - y)))


def add_north_arrow(
    ax: Axes, *, crs: CRS | str | None = None, loc: str = "upper right", size: float = 28.0
) -> AnchoredOffsetbox:
    """Draw a north arrow pointing to true north (grid north without a CRS).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axes.
    crs : pyproj.CRS or str, optional
        Map CRS; with it the arrow is turned by the meridian convergence at the
        centre of the map.
    loc : str, default "upper right"
        Anchor position.
    size : float, default 28
        Arrow height in points.

    Returns
    -------
    matplotlib.offsetbox.AnchoredOffsetbox
        The anchored arrow (gid ``tq-north-arrow``).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> add_north_arrow(ax).get_gid()
    'tq-north-arrow'
    """
    angle = 0.0
    if crs is not None:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        angle = true_north_angle(crs, (x0 + x1) / 2, (y0 + y1) / 2)
    area = DrawingArea(size * 0.7, size, 0, 0)
    rot = math.radians(angle)
    cx, cy = size * 0.35, size * 0.5

    def turn(points: list[tuple[float, float]]) -> np.ndarray:
        xy = np.asarray(points) - (cx, cy)
        c, s = math.cos(rot), math.sin(rot)
        turned = np.column_stack([c * xy[:, 0] - s * xy[:, 1], s * xy[:, 0] + c * xy[:, 1]])
        return np.asarray(turned + np.array([cx, cy]), dtype=float)

    tip, w = (cx, size), size * 0.3
    left = turn([tip, (cx - w, 0.0), (cx, size * 0.25)])
    right = turn([tip, (cx + w, 0.0), (cx, size * 0.25)])
    area.add_artist(Polygon(left, closed=True, facecolor="black", edgecolor="black", lw=0.6))
    area.add_artist(Polygon(right, closed=True, facecolor="white", edgecolor="black", lw=0.6))
    label = TextArea("N", textprops={"fontsize": 10, "ha": "center"})
    pack = VPacker(children=[label, area], align="center", pad=0, sep=1)
    anchored = AnchoredOffsetbox(loc=loc, child=pack, pad=0.3, borderpad=0.8, frameon=False)
    anchored.set_gid("tq-north-arrow")
    ax.add_artist(anchored)
    return anchored


#: Inset sizes tried, as a share of the map's height, largest first.
INSET_SIZES = (0.24, 0.2, 0.16, 0.13)

#: Inset positions tried, as (x, y) anchors in axes fractions, in order of preference.
INSET_POSITIONS = (
    (0.0, 1.0),  # upper left
    (1.0, 0.0),  # lower right
    (1.0, 1.0),  # upper right
    (0.0, 0.0),  # lower left
    (0.0, 0.5),
    (1.0, 0.5),
    (0.5, 1.0),
    (0.5, 0.0),
)

#: Gap between an inset and the map frame, in axes fractions.
INSET_MARGIN = 0.01


def figure_renderer(fig: Figure) -> RendererBase:
    """Return a renderer to measure a figure's artists (text extents) before it is saved.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    matplotlib.backend_bases.RendererBase
        The canvas' renderer (Agg and friends), else one matplotlib makes for measuring.

    Examples
    --------
    >>> figure_renderer(Figure()).points_to_pixels(72.0)
    100.0
    """
    get = getattr(fig.canvas, "get_renderer", None)
    if callable(get):
        return get()  # type: ignore[no-any-return]
    return fig._get_renderer()  # type: ignore[attr-defined,no-any-return]


def _box_in_data(ax: Axes, bounds: tuple[float, float, float, float]) -> Any:  # noqa: ANN401
    x, y, w, h = bounds
    to_data = ax.transAxes + ax.transData.inverted()
    (x0, y0), (x1, y1) = to_data.transform([[x, y], [x + w, y + h]])
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def locator_bounds(
    ax: Axes,
    avoid: Any,  # noqa: ANN401 - shapely geometry in data units
    *,
    aspect: float = 1.0,
    sizes: Sequence[float] = INSET_SIZES,
) -> tuple[float, float, float, float]:
    """Choose where a locator inset goes: the largest box, in the first corner, that covers no land.

    Every size of ``sizes`` is tried at every position of :data:`INSET_POSITIONS`; a box is
    skipped when it overlaps furniture already on the axes (scale bar, north arrow).  The first
    box whose area over ``avoid`` is zero wins; if none is free, the box covering least.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axes, limits and aspect set.
    avoid : shapely geometry
        What the inset must not hide, in data units (e.g. the district).
    aspect : float, default 1
        Width over height of the inset box, on screen.
    sizes : sequence of float
        Inset heights to try, as shares of the axes height.

    Returns
    -------
    tuple of float
        ``(x, y, width, height)`` in axes fractions.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from shapely.geometry import box
    >>> ax = Figure().add_subplot()
    >>> _ = ax.set_xlim(0, 100), ax.set_ylim(0, 100), ax.set_aspect("equal")
    >>> [round(v, 2) for v in locator_bounds(ax, box(0, 50, 50, 100))]  # upper left is taken
    [0.75, 0.01, 0.24, 0.24]
    """
    ax.apply_aspect()
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    renderer = figure_renderer(fig)
    frame = ax.get_window_extent(renderer)
    furniture = [a.get_window_extent(renderer) for a in ax.artists]
    best: tuple[float, tuple[float, float, float, float]] | None = None
    for size in sizes:
        h = size
        w = float(size * aspect * frame.height / frame.width)
        for px, py in INSET_POSITIONS:
            x = min(max(px * (1 - w), INSET_MARGIN), 1 - w - INSET_MARGIN)
            y = min(max(py * (1 - h), INSET_MARGIN), 1 - h - INSET_MARGIN)
            bounds = (x, y, w, h)
            screen = Bbox.from_bounds(x, y, w, h).transformed(ax.transAxes)
            if any(screen.overlaps(b) for b in furniture):
                continue
            covered = float(_box_in_data(ax, bounds).intersection(avoid).area) if avoid else 0.0
            if covered <= 0:
                return bounds
            if best is None or covered < best[0]:
                best = (covered, bounds)
    if best is None:
        size = sizes[-1]
        return (
            INSET_MARGIN,
            1 - size - INSET_MARGIN,
            size * aspect * frame.height / frame.width,
            size,
        )
    return best[1]


def add_locator_inset(
    ax: Axes,
    context: gpd.GeoDataFrame,
    focus: gpd.GeoDataFrame,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    label: str | None = None,
    avoid: Any = None,  # noqa: ANN401 - shapely geometry
) -> Axes:
    """Add a small, opaque locator map: the wider area, the focus area and the map frame.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Main map axes (limits already set; furniture such as the scale bar and north
        arrow already drawn, so the inset keeps clear of it).
    context : geopandas.GeoDataFrame
        Wider area, e.g. every district of the city.
    focus : geopandas.GeoDataFrame
        Area to highlight, e.g. the district.
    bounds : tuple of float, optional
        Inset position and size in axes fractions (x, y, width, height); by default
        :func:`locator_bounds` picks a corner where the inset hides none of ``avoid``.
    label : str, optional
        Small caption, e.g. the city's name.
    avoid : shapely geometry, optional
        What the inset must not hide (data units); default the focus area's land.

    Returns
    -------
    matplotlib.axes.Axes
        The inset axes (gid ``tq-locator``), white and drawn above the map's data.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> _ = ax.set_xlim(0, 100), ax.set_ylim(0, 100)
    >>> city = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> add_locator_inset(ax, city, city.iloc[:1]).get_gid()
    'tq-locator'
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    cx0, cy0, cx1, cy1 = context.total_bounds
    pad = 0.04 * max(cx1 - cx0, cy1 - cy0)
    lx0, lx1 = min(cx0, x0) - pad, max(cx1, x1) + pad
    ly0, ly1 = min(cy0, y0) - pad, max(cy1, y1) + pad
    if bounds is None:
        if avoid is None and not focus.empty:
            avoid = focus.union_all()
        bounds = locator_bounds(ax, avoid, aspect=(lx1 - lx0) / (ly1 - ly0))
    inset = ax.inset_axes(bounds)
    inset.set_gid("tq-locator")
    inset.set_zorder(INSET_ZORDER)
    context.plot(ax=inset, facecolor="#E6E6E6", edgecolor="white", linewidth=0.4)
    focus.plot(ax=inset, facecolor="#555555", edgecolor="#333333", linewidth=0.4)
    inset.add_patch(
        Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#D55E00", linewidth=0.9)
    )
    inset.set_xlim(lx0, lx1)
    inset.set_ylim(ly0, ly1)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.patch.set(facecolor="white", alpha=1.0)
    for spine in inset.spines.values():
        spine.set(linewidth=0.6, edgecolor="#666666")
    if label:
        inset.text(0.04, 0.96, label, transform=inset.transAxes, ha="left", va="top", fontsize=6)
    return inset


def add_credit(fig: Figure, text: str, *, fontsize: float = 6.0) -> Text:
    """Write the source / credit line at the bottom left of the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure.
    text : str
        Credit text (may hold line breaks).
    fontsize : float, default 6
        Size in points.

    Returns
    -------
    matplotlib.text.Text
        The text (gid ``tq-credit``).

    Examples
    --------
    >>> add_credit(Figure(), "Source: test").get_gid()
    'tq-credit'
    """
    out = fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=fontsize, color="#333333")
    out.set_gid("tq-credit")
    return out
