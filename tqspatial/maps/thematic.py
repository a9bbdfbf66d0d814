"""Thematic maps of analysis results: land use, renewal supply, choropleths, accessibility.

Each function takes a GeoDataFrame and column names (defaults match the
other stages' outputs), draws into ``ax`` (or a new figure) and returns
``(fig, ax)``.  Nothing here imports the analysis modules; land-use colours come
from the code tables (:mod:`tqspatial.landuse`) and every name from
:mod:`tqspatial.vocabulary`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> g = gpd.GeoDataFrame({"landuse_category": ["residential", "industrial"]},
...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
>>> fig, ax = plot_landuse(g, lang="en")
>>> [t.get_text() for t in ax.get_legend().get_texts()]
['Residential', 'Industrial and mining']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from tqspatial.errors import SchemaError
from tqspatial.landuse import CATEGORIES, LANDUSE_COLOURS, colour_classes, colour_table
from tqspatial.maps.cluster import resolve_lang
from tqspatial.maps.fonts import font_rc
from tqspatial.maps.furniture import add_north_arrow, add_scale_bar, halo
from tqspatial.maps.style import OKABE_ITO, RENEWAL_COLORS, Lang, bilingual
from tqspatial.vocabulary import CATEGORY_NAMES, PHASE_NAMES, RENEWAL_TYPE_NAMES, Term

__all__ = [
    "ACCESS_BREAKS_MIN",
    "class_breaks",
    "plot_accessibility",
    "plot_categories",
    "plot_choropleth",
    "plot_coverage",
    "plot_landuse",
    "plot_renewal_supply",
]

#: Travel-time classes (minutes) of accessibility maps; the 5/10/15-minute life circles.
ACCESS_BREAKS_MIN = (5.0, 10.0, 15.0, 30.0, 60.0)

_HATCHES = ("", "....", "////", "xxxx", "\\\\\\\\", "oo")
_MISSING_COLOR = "#EFEFEF"


def _require(frame: gpd.GeoDataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what}: column(s) {missing} not found; columns are {list(frame.columns)}; "
            "pass the column name as an argument"
        )
        raise SchemaError(msg)


def _setup(
    frame: gpd.GeoDataFrame, ax: Axes | None, figsize: tuple[float, float]
) -> tuple[Figure, Axes]:
    if ax is None:
        fig = Figure(figsize=figsize)
        ax = fig.add_axes((0.02, 0.04, 0.72, 0.88))
        ax.set_anchor("E")
    else:
        parent = ax.get_figure()
        assert isinstance(parent, Figure)
        fig = parent
    x0, y0, x1, y1 = (float(v) for v in frame.total_bounds)
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    return fig, ax


def _finish(
    fig: Figure,
    ax: Axes,
    frame: gpd.GeoDataFrame,
    *,
    handles: list[Any],
    legend_title: str,
    title: str | None,
    boundary: gpd.GeoDataFrame | None,
    furniture: bool,
) -> None:
    if boundary is not None:
        boundary.boundary.plot(ax=ax, color="#222222", linewidth=1.2, zorder=8)
    ax.legend(
        handles=handles,
        title=legend_title,
        loc="lower left",
        bbox_to_anchor=(1.01, 0.0),
        fontsize=7.5,
        title_fontsize=8,
        frameon=True,
    )
    if furniture:
        add_scale_bar(ax)
        add_north_arrow(ax, crs=frame.crs)
    if title:
        ax.set_title(title, fontsize=12)
    fig.set_facecolor("white")


def plot_categories(
    frame: gpd.GeoDataFrame,
    column: str,
    *,
    colors: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    hatch_column: str | None = None,
    hatch_labels: Mapping[str, str] | None = None,
    missing_label: str | None = None,
    ax: Axes | None = None,
    lang: str = "zh",
    legend_title: str | None = None,
    title: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    furniture: bool = True,
    figsize: tuple[float, float] = (10.0, 8.0),
) -> tuple[Figure, Axes]:
    """Map polygons coloured by a category column (optionally hatched by a second one).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygons in a metric CRS.
    column : str
        Category column; missing values are drawn light grey as "n/a".
    colors : mapping of str to str, optional
        Category -> colour; others get the Okabe–Ito palette in order.
    labels : mapping of str to str, optional
        Category -> legend text (default: the category itself).
    hatch_column : str, optional
        Second category (e.g. phase) shown as hatching.
    hatch_labels : mapping of str to str, optional
        Hatch level -> legend text; its key order is the legend order (other
        levels follow, sorted).
    missing_label : str, optional
        Legend text of rows without a category (default 无 / n/a).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language of built-in texts.
    legend_title, title : str, optional
        Texts.
    boundary : geopandas.GeoDataFrame, optional
        Outline drawn on top.
    furniture : bool, default True
        Draw scale bar and north arrow.
    figsize : tuple of float, default (10, 8)
        Size of a new figure.

    Returns
    -------
    (Figure, Axes)
        The map.

    Raises
    ------
    SchemaError
        If a column is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"k": ["a", None]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
    ...                      crs="EPSG:4548")
    >>> fig, ax = plot_categories(g, "k", lang="en", furniture=False)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['a', 'n/a']
    """
    _require(frame, [column] + ([hatch_column] if hatch_column else []), "thematic map")
    language = resolve_lang(lang)
    with mpl.rc_context(font_rc()):
        fig, ax = _setup(frame, ax, figsize)
        values = frame[column].astype(object)
        present = [v for v in pd.unique(values.dropna()) if v is not None]
        order = [c for c in (colors or {}) if c in present] + [
            c for c in present if c not in (colors or {})
        ]
        palette = iter(OKABE_ITO * (len(order) // len(OKABE_ITO) + 1))
        color_of = {c: (colors or {}).get(c) or next(palette) for c in order}
        hatches: dict[Any, str] = {}
        if hatch_column:
            present_levels = set(pd.unique(frame[hatch_column].astype(object).dropna()))
            levels = [lv for lv in (hatch_labels or {}) if lv in present_levels]
            levels += sorted(lv for lv in present_levels if lv not in levels)
            hatches = {lv: _HATCHES[i % len(_HATCHES)] for i, lv in enumerate(levels)}
        handles: list[Any] = []
        for cat in order:
            part = frame[values == cat]
            if hatch_column:
                for lv, hatch in hatches.items():
                    sub = part[part[hatch_column].astype(object) == lv]
                    if not sub.empty:
                        sub.plot(
                            ax=ax,
                            facecolor=color_of[cat],
                            edgecolor="#555555",
                            linewidth=0.1,
                            hatch=hatch or None,
                        )
                rest = part[part[hatch_column].isna()]
                if not rest.empty:
                    rest.plot(ax=ax, facecolor=color_of[cat], edgecolor="#555555", linewidth=0.1)
            else:
                part.plot(ax=ax, facecolor=color_of[cat], edgecolor="#777777", linewidth=0.1)
            text = (labels or {}).get(cat, str(cat))
            handles.append(Patch(facecolor=color_of[cat], edgecolor="#777777", label=text))
        missing = frame[values.isna()]
        if not missing.empty:
            missing.plot(ax=ax, facecolor=_MISSING_COLOR, edgecolor="#CCCCCC", linewidth=0.1)
            handles.append(
                Patch(
                    facecolor=_MISSING_COLOR,
                    edgecolor="#CCCCCC",
                    label=missing_label
                    if missing_label is not None
                    else bilingual("无", "n/a", language, sep=" / "),
                )
            )
        for lv, hatch in hatches.items():
            text = (hatch_labels or {}).get(lv, str(lv))
            handles.append(Patch(facecolor="white", edgecolor="#333333", hatch=hatch, label=text))
        _finish(
            fig,
            ax,
            frame,
            handles=handles,
            legend_title=legend_title or column,
            title=title,
            boundary=boundary,
            furniture=furniture,
        )
    return fig, ax


def _name(term: Term, lang: Lang) -> str:
    return bilingual(term.zh, term.en, lang, sep=" / ")


def _landuse_classes(
    parcels: gpd.GeoDataFrame, code_column: str, category_column: str, lang: Lang
) -> tuple[pd.Series, dict[str, str], dict[str, str]]:
    """Legend key per parcel (a colour-table code, else its category), colours and labels."""
    table = colour_table()
    classes = colour_classes(parcels[code_column])
    categories = (
        parcels[category_column].astype(object)
        if category_column in parcels.columns
        else pd.Series(None, index=parcels.index, dtype=object)
    )
    keys = classes.where(classes.notna(), categories)
    colors: dict[str, str] = {}
    labels: dict[str, str] = {}
    for code, row in table.iterrows():
        colors[str(code)] = str(row["colour"])
        labels[str(code)] = _name(Term(str(row["name_zh"]), str(row["name_en"])), lang)
    for category in CATEGORIES:
        colors[category] = LANDUSE_COLOURS[category]
        labels[category] = _name(CATEGORY_NAMES[category], lang)
    return keys, colors, labels


def plot_landuse(
    parcels: gpd.GeoDataFrame,
    *,
    column: str = "landuse_category",
    code_column: str = "landuse_canonical",
    detail: str = "auto",
    colors: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map parcels by land use in the colours of the national drawing standard.

    Colours are those of 《市级国土空间总体规划制图规范（试行）》附录B
    (:func:`tqspatial.landuse.colour_table`).  With ``detail="class"`` each
    parcel is drawn in the colour of its 2023 code's class (城镇住宅用地 and
    农村宅基地 apart, 教育用地 and 医疗卫生用地 apart ...), named as in the
    2023 classification; with ``detail="category"`` in the colour of its
    planning category.  Every class or category present gets a legend entry
    in the chosen language.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with a category column (``tqspatial.landuse`` output).
    column : str, default "landuse_category"
        Planning-category column (keys of :data:`tqspatial.landuse.LANDUSE_COLOURS`).
    code_column : str, default "landuse_canonical"
        Canonical 2023 code column (for ``detail="class"``).
    detail : {"auto", "class", "category"}, default "auto"
        ``"auto"``: by class when ``code_column`` is present, else by category.
    colors : mapping of str to str, optional
        Override colours (keys: class codes or categories).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Legend language.
    title : str, optional
        Title; default 土地利用 / Land use.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    furniture : bool, default True
        Scale bar and north arrow.

    Returns
    -------
    (Figure, Axes)
        The map.

    Raises
    ------
    SchemaError
        If the column to draw is missing or ``detail`` is not one of the choices.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"landuse_category": ["water", "residential", "residential"],
    ...                       "landuse_canonical": ["1701", "070102", "070301"]},
    ...                      geometry=[box(i * 9, 0, i * 9 + 9, 9) for i in range(3)],
    ...                      crs="EPSG:4548")
    >>> fig, ax = plot_landuse(g)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['城镇住宅用地', '农村宅基地', '陆地水域']
    >>> fig, ax = plot_landuse(g, detail="category", lang="en")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Residential', 'Inland water']
    """
    language = resolve_lang(lang)
    if detail not in ("auto", "class", "category"):
        msg = f"plot_landuse: detail={detail!r}; expected 'auto', 'class' or 'category'"
        raise SchemaError(msg)
    by_class = detail == "class" or (detail == "auto" and code_column in parcels.columns)
    if by_class:
        _require(parcels, [code_column], "land-use map")
        keys, table, names = _landuse_classes(parcels, code_column, column, language)
        frame = parcels.copy().assign(_landuse_class=keys)  # one block: no fragmentation warning
        draw = "_landuse_class"
    else:
        _require(parcels, [column], "land-use map")
        table = dict(LANDUSE_COLOURS)
        names = {k: _name(t, language) for k, t in CATEGORY_NAMES.items()}
        frame, draw = parcels, column
    return plot_categories(
        frame,
        draw,
        colors={**table, **(colors or {})},
        labels=names,
        ax=ax,
        lang=language,
        legend_title=bilingual("用地用海分类", "Land-use class", language, sep=" / "),
        title=title
        if title is not None
        else bilingual("土地利用", "Land use", language, sep=" / "),
        boundary=boundary,
        furniture=furniture,
    )


def plot_renewal_supply(
    parcels: gpd.GeoDataFrame,
    *,
    type_column: str = "renewal_type",
    phase_column: str = "phase",
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map renewal candidates coloured by renewal type and hatched by phase.

    Types and phases are named from :mod:`tqspatial.vocabulary` (低效工业用地,
    近期 ...); values it does not know are shown as they are.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels; those with no type are not candidates (grey).
    type_column, phase_column : str
        Columns of the supply stage.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title; default 城市更新用地供给 / Renewal land supply.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    furniture : bool, default True
        Scale bar and north arrow.

    Returns
    -------
    (Figure, Axes)
        The map; the legend lists types, then phases (hatches).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"renewal_type": ["inefficient_industrial", None],
    ...                       "phase": ["near", None]},
    ...                      geometry=[box(0, 0, 9, 9), box(9, 0, 18, 9)], crs="EPSG:4548")
    >>> fig, ax = plot_renewal_supply(g)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['低效工业用地', '非更新用地', '近期']
    """
    language = resolve_lang(lang)
    return plot_categories(
        parcels,
        type_column,
        colors=RENEWAL_COLORS,
        labels={k: _name(t, language) for k, t in RENEWAL_TYPE_NAMES.items()},
        hatch_column=phase_column,
        hatch_labels={k: _name(t, language) for k, t in PHASE_NAMES.items()},
        missing_label=bilingual("非更新用地", "Not renewal land", language, sep=" / "),
        ax=ax,
        lang=language,
        legend_title=bilingual("更新类型 / 实施时序", "Renewal type / phase", language, sep=" / "),
        title=title
        if title is not None
        else bilingual("城市更新用地供给", "Renewal land supply", language, sep=" / "),
        boundary=boundary,
        furniture=furniture,
    )


def plot_choropleth(
    frame: gpd.GeoDataFrame,
    column: str,
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    cmap: str = "YlGnBu",
    unit: str = "",
    label_column: str | None = None,
    ax: Axes | None = None,
    lang: str = "zh",
    legend_title: str | None = None,
    title: str | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Classified choropleth with a class legend, e.g. net supply per cluster.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygons with a numeric column (e.g. clusters joined to a ledger).
    column : str
        Value column.
    scheme : {"NaturalBreaks", "Quantiles", "EqualInterval"}
        Classification (see :func:`class_breaks`).  With fewer distinct
        values than ``k`` the classes shrink to fit.
    k : int, default 5
        Number of classes.
    cmap : str, default "YlGnBu"
        Colour map (colour-blind-safe sequential).
    unit : str, default ""
        Unit shown in the legend title.
    label_column : str, optional
        Column whose text is written on each polygon with its value.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    legend_title, title : str, optional
        Texts.
    furniture : bool, default True
        Scale bar and north arrow.

    Returns
    -------
    (Figure, Axes)
        The map; legend entries are class ranges and "n/a" for missing values.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"v": [1.0, 2.0, 10.0]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:4548")
    >>> fig, ax = plot_choropleth(g, "v", scheme="EqualInterval", k=3, lang="en", furniture=False)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['1 – 4', '4 – 7', '7 – 10']
    """
    _require(frame, [column] + ([label_column] if label_column else []), "choropleth")
    language = resolve_lang(lang)
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    valid = values.notna().to_numpy()
    n_distinct = int(values[valid].nunique())
    classes = max(1, min(k, n_distinct))
    with mpl.rc_context(font_rc()):
        fig, ax = _setup(frame, ax, (10.0, 8.0))
        handles: list[Any] = []
        if valid.any():
            bins = class_breaks(values[valid].to_numpy(), scheme=scheme, k=classes)
            lower = float(values[valid].min())
            edges = np.concatenate([[lower], bins])
            colours = mpl.colormaps[cmap](np.linspace(0.15, 0.9, len(bins)))
            classes_of = np.minimum(
                np.searchsorted(bins, values[valid].to_numpy(), side="left"), len(bins) - 1
            )
            part = frame[valid]
            part.plot(ax=ax, color=colours[classes_of], edgecolor="#555555", linewidth=0.5)
            for i in range(len(bins)):
                label = f"{_fmt(edges[i])} – {_fmt(edges[i + 1])}"
                handles.append(Patch(facecolor=colours[i], edgecolor="#555555", label=label))
        if (~valid).any():
            frame[~valid].plot(ax=ax, facecolor=_MISSING_COLOR, edgecolor="#AAAAAA", hatch="//")
            handles.append(
                Patch(
                    facecolor=_MISSING_COLOR,
                    edgecolor="#AAAAAA",
                    hatch="//",
                    label=bilingual("无数据", "n/a", language, sep=" / "),
                )
            )
        if label_column:
            for (_, row), value in zip(frame.iterrows(), values, strict=True):
                point = row.geometry.representative_point()
                shown = "n/a" if np.isnan(value) else _fmt(value)
                ax.text(
                    point.x,
                    point.y,
                    f"{row[label_column]}\n{shown}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    path_effects=halo(),
                )
        head = legend_title or column
        _finish(
            fig,
            ax,
            frame,
            handles=handles,
            legend_title=f"{head} ({unit})" if unit else head,
            title=title,
            boundary=None,
            furniture=furniture,
        )
    return fig, ax


#: Above this many values natural breaks are computed on evenly spaced order statistics.
JENKS_MAX_VALUES = 1000

_BUILTIN_SCHEMES = ("NaturalBreaks", "Quantiles", "EqualInterval")


def _jenks(sorted_values: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher–Jenks breaks (minimum within-class squared deviation) by dynamic programming."""
    x = sorted_values
    n = len(x)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])

    def cost(i: np.ndarray, j: int) -> np.ndarray:  # values x[i:j]
        m = j - i
        out: np.ndarray = s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / m
        return out

    best = np.full((k + 1, n + 1), np.inf)
    cut = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            total = best[c - 1, i] + cost(i, j)
            pick = int(np.argmin(total))
            best[c, j], cut[c, j] = total[pick], i[pick]
    uppers, j = [], n
    for c in range(k, 0, -1):
        uppers.append(x[j - 1])
        j = cut[c, j]
    out: np.ndarray = np.asarray(uppers[::-1], dtype=float)
    return out


def class_breaks(values: np.ndarray, *, scheme: str = "NaturalBreaks", k: int = 5) -> np.ndarray:
    """Return the upper bounds of ``k`` classes (the last is the maximum).

    Parameters
    ----------
    values : numpy.ndarray
        Finite values.
    scheme : str, default "NaturalBreaks"
        ``NaturalBreaks`` (Fisher–Jenks, as mapclassify's ``FisherJenks``; on
        more than 1000 values, on 1000 evenly spaced order statistics),
        ``Quantiles`` or ``EqualInterval``.
    k : int, default 5
        Number of classes (reduced to the number of distinct values).

    Returns
    -------
    numpy.ndarray
        Increasing upper bounds; a value belongs to the first class whose bound
        is not below it.

    Raises
    ------
    ValueError
        If ``values`` is empty or ``scheme`` is unknown.

    Examples
    --------
    >>> class_breaks(np.array([1.0, 2, 3, 10, 11, 12]), k=2).tolist()
    [3.0, 12.0]
    >>> class_breaks(np.array([0.0, 2.5, 5.0, 10.0]), scheme="EqualInterval", k=4).tolist()
    [2.5, 5.0, 7.5, 10.0]
    """
    x = np.sort(np.asarray(values, dtype=float))
    if x.size == 0:
        msg = "class_breaks: no values to classify; pass at least one finite value"
        raise ValueError(msg)
    k = max(1, min(int(k), int(np.unique(x).size)))
    if scheme == "EqualInterval":
        bins = x[0] + (x[-1] - x[0]) * np.arange(1, k + 1) / k
        bins[-1] = x[-1]
        return np.asarray(bins, dtype=float)
    if scheme == "Quantiles":
        return np.asarray(np.quantile(x, np.arange(1, k + 1) / k), dtype=float)
    if scheme == "NaturalBreaks":
        if x.size > JENKS_MAX_VALUES:
            x = np.quantile(x, np.linspace(0, 1, JENKS_MAX_VALUES))
        return _jenks(x, k)
    msg = f"scheme={scheme!r} is unknown; use one of {list(_BUILTIN_SCHEMES)}"
    raise ValueError(msg)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"  # noqa: PLR2004


def plot_accessibility(
    parcels: gpd.GeoDataFrame,
    *,
    column: str = "primary_school_min",
    isochrones: gpd.GeoDataFrame | None = None,
    isochrone_column: str = "minutes",
    facilities: gpd.GeoDataFrame | None = None,
    breaks: Sequence[float] = ACCESS_BREAKS_MIN,
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map travel time per parcel in minute classes, with isochrone outlines and facilities.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with a travel-time column in minutes (NaN: unreachable).
    column : str, default "primary_school_min"
        Travel-time column.
    isochrones : geopandas.GeoDataFrame, optional
        Polygons with a minutes column, drawn as labelled outlines.
    isochrone_column : str, default "minutes"
        Threshold column of ``isochrones``.
    facilities : geopandas.GeoDataFrame, optional
        Destination points.
    breaks : sequence of float, default (5, 10, 15, 30, 60)
        Upper class limits in minutes; longer times form a last class.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    furniture : bool, default True
        Scale bar and north arrow.

    Returns
    -------
    (Figure, Axes)
        The map.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"primary_school_min": [3.0, 12.0, None]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:4548")
    >>> fig, ax = plot_accessibility(g, lang="en", furniture=False)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['≤ 5 min', '10–15 min', 'unreachable']
    """
    _require(parcels, [column], "accessibility map")
    language = resolve_lang(lang)
    minutes = pd.to_numeric(parcels[column], errors="coerce").astype(float)
    limits = [float(b) for b in breaks]
    edges = [0.0, *limits, np.inf]
    colours = mpl.colormaps["viridis_r"](np.linspace(0.05, 0.95, len(edges) - 1))
    with mpl.rc_context(font_rc()):
        fig, ax = _setup(parcels, ax, (10.0, 8.0))
        handles: list[Any] = []
        klass = np.searchsorted(limits, minutes.to_numpy(), side="left")
        for i in range(len(edges) - 1):
            mask = minutes.notna().to_numpy() & (klass == i)
            if not mask.any():
                continue
            parcels[mask].plot(ax=ax, facecolor=colours[i], edgecolor="none")
            if i == 0:
                label = f"≤ {edges[1]:g} min"
            elif np.isinf(edges[i + 1]):
                label = f"> {edges[i]:g} min"
            else:
                label = f"{edges[i]:g}–{edges[i + 1]:g} min"
            handles.append(Patch(facecolor=colours[i], label=label))
        unreachable = minutes.isna().to_numpy()
        if unreachable.any():
            parcels[unreachable].plot(ax=ax, facecolor=_MISSING_COLOR, edgecolor="none")
            handles.append(
                Patch(
                    facecolor=_MISSING_COLOR,
                    edgecolor="#CCCCCC",
                    label=bilingual("不可达", "unreachable", language, sep=" / "),
                )
            )
        if isochrones is not None and not isochrones.empty:
            _require(isochrones, [isochrone_column], "isochrones")
            isochrones.boundary.plot(ax=ax, color="black", linewidth=0.9, linestyle="--", zorder=6)
            for _, row in isochrones.iterrows():
                # label at the northernmost vertex, so nested isochrones stack
                xy = shapely.get_coordinates(row.geometry)
                if not len(xy):  # an origin off the network has an empty isochrone
                    continue
                x, y = xy[int(np.argmax(xy[:, 1]))]
                ax.text(
                    x,
                    y,
                    f"{row[isochrone_column]:g} min",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    path_effects=halo(),
                    zorder=7,
                    clip_on=True,
                )
            handles.append(
                Line2D(
                    [],
                    [],
                    color="black",
                    linestyle="--",
                    label=bilingual("等时圈", "Isochrone", language, sep=" / "),
                )
            )
        if facilities is not None and not facilities.empty:
            facilities.plot(ax=ax, color="#D55E00", markersize=8, marker="o", zorder=7)
            handles.append(
                Line2D(
                    [],
                    [],
                    color="#D55E00",
                    marker="o",
                    linestyle="none",
                    label=bilingual("设施", "Facility", language, sep=" / "),
                )
            )
        _finish(
            fig,
            ax,
            parcels,
            handles=handles,
            legend_title=bilingual("出行时间", "Travel time", language, sep=" / "),
            title=title
            if title is not None
            else bilingual("可达性", "Accessibility", language, sep=" / "),
            boundary=boundary,
            furniture=furniture,
        )
    return fig, ax


def plot_coverage(
    parcels: gpd.GeoDataFrame,
    *,
    column: str = "covered",
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map life-circle coverage: parcels covered or not (boolean column).

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with a boolean coverage column (missing: not assessed).
    column : str, default "covered"
        Coverage column, e.g. "within the 15-minute life circle of all
        required facilities".
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title; default 生活圈覆盖 / Life-circle coverage.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    furniture : bool, default True
        Scale bar and north arrow.

    Returns
    -------
    (Figure, Axes)
        The map.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"covered": [True, False]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4548")
    >>> fig, ax = plot_coverage(g, lang="en", furniture=False)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Covered', 'Not covered']
    """
    _require(parcels, [column], "coverage map")
    language = resolve_lang(lang)
    raw = parcels[column].astype(object)
    status = raw.map(lambda v: None if pd.isna(v) else ("yes" if bool(v) else "no"))
    frame = parcels.copy().assign(_coverage=status)  # one block: no fragmentation warning
    return plot_categories(
        frame,
        "_coverage",
        colors={"yes": "#009E73", "no": "#E69F00"},
        labels={
            "yes": bilingual("已覆盖", "Covered", language, sep=" / "),
            "no": bilingual("未覆盖", "Not covered", language, sep=" / "),
        },
        ax=ax,
        lang=language,
        legend_title=bilingual("生活圈覆盖", "Life-circle coverage", language, sep=" / "),
        title=title
        if title is not None
        else bilingual("生活圈覆盖", "Life-circle coverage", language, sep=" / "),
        boundary=boundary,
        furniture=furniture,
    )
