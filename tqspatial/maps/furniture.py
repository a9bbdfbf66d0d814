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

import geopandas as gpd
import matplotlib.patheffects as pe
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox, DrawingArea, TextArea, VPacker
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Text
from pyproj import CRS, Transformer

__all__ = [
    "NICE_STEPS",
    "ScaleBar",
    "add_credit",
    "add_locator_inset",
    "add_north_arrow",
    "add_scale_bar",
    "format_distance",
    "halo",
    "nice_scale_length",
    "true_north_angle",
]

#: Leading digits a scale-bar length may have (times a power of ten).
NICE_STEPS = (1.0, 2.0, 5.0)

#: Target scale-bar length as a share of the map width.
SCALE_BAR_FRACTION = 0.25

#: Metres from which a length is written in kilometres.
KM_FROM_M = 1000.0


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


def add_locator_inset(
    ax: Axes,
    context: gpd.GeoDataFrame,
    focus: gpd.GeoDataFrame,
    *,
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.24, 0.26),
    label: str | None = None,
) -> Axes:
    """Add a small locator map: the wider area, the focus area and the map frame.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Main map axes (limits already set).
    context : geopandas.GeoDataFrame
        Wider area, e.g. every district of the city.
    focus : geopandas.GeoDataFrame
        Area to highlight, e.g. the district.
    bounds : tuple of float, default (0, 0, 0.24, 0.26)
        Inset position and size in axes fractions (x, y, width, height).
    label : str, optional
        Small caption, e.g. the city's name.

    Returns
    -------
    matplotlib.axes.Axes
        The inset axes (gid ``tq-locator``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> city = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> add_locator_inset(ax, city, city.iloc[:1]).get_gid()
    'tq-locator'
    """
    inset = ax.inset_axes(bounds)
    inset.set_gid("tq-locator")
    context.plot(ax=inset, facecolor="#E6E6E6", edgecolor="white", linewidth=0.4)
    focus.plot(ax=inset, facecolor="#555555", edgecolor="#333333", linewidth=0.4)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    inset.add_patch(
        Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#D55E00", linewidth=0.9)
    )
    cx0, cy0, cx1, cy1 = context.total_bounds
    pad = 0.04 * max(cx1 - cx0, cy1 - cy0)
    inset.set_xlim(min(cx0, x0) - pad, max(cx1, x1) + pad)
    inset.set_ylim(min(cy0, y0) - pad, max(cy1, y1) + pad)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.patch.set(facecolor="white", alpha=0.9)
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
