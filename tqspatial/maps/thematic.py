"""Thematic maps of analysis results: land use, renewal supply, choropleths, accessibility.

Each function takes a GeoDataFrame and column names (defaults match the
other stages' outputs), draws into ``ax`` (or a new figure) and returns
``(fig, ax)``.  Nothing here imports the analysis modules; land-use colours come
from the code tables (:mod:`tqspatial.landuse`) and every name from
:mod:`tqspatial.vocabulary`.

Every map can carry the frame a planning bureau publishes: a title naming the
district and the theme (``district_name=``, e.g. ``("天桥区", "Tianqiao District")``),
the neighbouring districts in grey (``neighbours=``), the district outline
(``boundary=``) and, with ``furniture=True``, a scale bar, a north arrow and a note
at the foot naming the sources (``source=``) and the coordinate reference system
(read from the frame's CRS, e.g. 坐标系：CGCS2000 / 3-degree Gauss-Kruger CM 117E
（EPSG:4548）).  Polygons are drawn as one path collection per class, which is
several times faster than one patch per polygon.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> g = gpd.GeoDataFrame({"landuse_category": ["residential", "industrial"]},
...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
>>> fig, ax = plot_landuse(g, lang="en", district_name=("甲区", "District A"))
>>> [t.get_text() for t in ax.get_legend().get_texts()], ax.get_title()
(['Residential', 'Industrial and mining'], 'District A: land use')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from pyproj import CRS

from tqspatial.errors import SchemaError
from tqspatial.landuse import CATEGORIES, LANDUSE_COLOURS, colour_classes, colour_table
from tqspatial.maps.cluster import resolve_lang
from tqspatial.maps.fonts import font_rc
from tqspatial.maps.furniture import (
    add_credit,
    add_north_arrow,
    add_scale_bar,
    format_distance,
    halo,
)
from tqspatial.maps.style import OKABE_ITO, RENEWAL_COLORS, Lang, bilingual
from tqspatial.vocabulary import (
    CATEGORY_NAMES,
    LIFE_CIRCLE_MAP_NAMES,
    MAP_TEXT_NAMES,
    MAP_THEME_NAMES,
    PHASE_NAMES,
    RENEWAL_TYPE_NAMES,
    Term,
)

__all__ = [
    "ACCESS_BREAKS_MIN",
    "PHASE_COLORS",
    "class_breaks",
    "crs_note",
    "map_title",
    "plot_accessibility",
    "plot_categories",
    "plot_choropleth",
    "plot_coverage",
    "plot_landuse",
    "plot_life_circle",
    "plot_renewal_supply",
]

#: Travel-time classes (minutes) of accessibility maps; the 5/10/15-minute life circles.
ACCESS_BREAKS_MIN = (5.0, 10.0, 15.0, 30.0, 60.0)

#: Colours of the renewal phases (dark = soon), on the phase panel of the renewal map.
PHASE_COLORS: dict[str, str] = {
    "near": "#3F007D",
    "mid": "#807DBA",
    "long": "#CBC9E2",
    "undetermined": "#969696",
}

_HATCHES = ("", "....", "////", "xxxx", "\\\\\\\\", "oo")
_MISSING_COLOR = "#EFEFEF"
_NEIGHBOUR_COLOR = "#E3E3E3"
_NEIGHBOUR_TEXT = "#7A7A7A"
#: A neighbour is named when it fills at least this share of the view.
_NEIGHBOUR_LABEL_SHARE = 0.01
#: Life-circle colours: covered, one kind missing (per kind), several, all, not assessed.
_COVERED_COLOR = "#009E73"
_MISSING_ONE_COLORS = ("#E69F00", "#56B4E9", "#CC79A7", "#0072B2", "#F0E442", "#D55E00")
_MISSING_SOME_COLOR = "#F4B6A6"
_MISSING_ALL_COLOR = "#B2432F"
_ISOCHRONE_STYLES: tuple[Literal["-", "--", ":", "-."], ...] = ("-", "--", ":", "-.")


def _require(frame: gpd.GeoDataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what}: column(s) {missing} not found; columns are {list(frame.columns)}; "
            "pass the column name as an argument"
        )
        raise SchemaError(msg)


def _text(key: str, lang: Lang, table: Mapping[str, Term] = MAP_TEXT_NAMES, **fields: Any) -> str:  # noqa: ANN401
    names = table[key]
    return bilingual(names.zh.format(**fields), names.en.format(**fields), lang, sep=" / ")


def map_title(
    theme: tuple[str, str] | Term, district_name: tuple[str, str] | None, lang: Lang
) -> str:
    """Write a map title: the district's name, then the theme.

    Parameters
    ----------
    theme : (str, str)
        Chinese and English theme, e.g. ``("土地利用现状", "land use")``.
    district_name : (str, str), optional
        Chinese and English name of the district; without it the title is the theme.
    lang : {"zh", "en", "both"}
        Language (``both``: Chinese above English).

    Returns
    -------
    str
        E.g. ``天桥区土地利用现状`` or ``Tianqiao District: land use``.

    Examples
    --------
    >>> print(map_title(("土地利用现状", "land use"), ("天桥区", "Tianqiao District"), "both"))
    天桥区土地利用现状
    Tianqiao District: land use
    >>> map_title(("土地利用现状", "land use"), None, "en")
    'Land use'
    """
    zh, en = theme
    if district_name is None:
        return bilingual(zh, en[:1].upper() + en[1:], lang)
    name_zh, name_en = district_name
    return bilingual(f"{name_zh}{zh}", f"{name_en or name_zh}: {en}", lang)


def crs_note(crs: Any, lang: Lang) -> str:  # noqa: ANN401 - anything pyproj reads
    """Name the coordinate reference system for a map's foot note.

    Parameters
    ----------
    crs : pyproj.CRS, str or None
        The frame's CRS.
    lang : {"zh", "en", "both"}
        Language.

    Returns
    -------
    str
        E.g. ``坐标系：CGCS2000 / 3-degree Gauss-Kruger CM 117E（EPSG:4548）``.

    Examples
    --------
    >>> crs_note("EPSG:4548", "en")
    'CRS: CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548)'
    >>> crs_note(None, "zh")
    '坐标系：未声明'
    """
    if crs is None:
        return _text("crs_unknown", lang)
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    if epsg is None:
        names = MAP_TEXT_NAMES["crs"]
        zh = names.zh.split("（", 1)[0].format(name=parsed.name)
        en = names.en.split(" (", 1)[0].format(name=parsed.name)
        return bilingual(zh, en, lang, sep=" / ")
    return _text("crs", lang, name=parsed.name, epsg=epsg)


def _polygon_paths(geoms: Any, *, merge: bool) -> tuple[list[MplPath], np.ndarray]:  # noqa: ANN401
    """Compound paths of the polygons (holes included) and the row each path belongs to.

    With ``merge`` one path holds every polygon (one colour, drawn fast); else one path
    per polygon part.  Rings are oriented (shells counter-clockwise, holes clockwise), so
    holes stay open under the non-zero fill rule.
    """
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    polygonal = shapely.get_type_id(parts) == 3  # noqa: PLR2004 - shapely's Polygon type id
    parts, owner = shapely.orient_polygons(parts[polygonal]), owner[polygonal]
    if not len(parts):
        return [], owner
    rings_per_part = shapely.get_num_interior_rings(parts) + 1
    rings = shapely.get_rings(parts)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    ring_sizes = np.bincount(ring_of, minlength=len(rings))
    ring_starts = np.concatenate([[0], np.cumsum(ring_sizes)[:-1]])
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[ring_starts] = MplPath.MOVETO
    codes[ring_starts + ring_sizes - 1] = MplPath.CLOSEPOLY
    if merge:
        return [MplPath(coords, codes)], owner[:1]
    first_ring = np.concatenate([[0], np.cumsum(rings_per_part)[:-1]])
    part_sizes = np.add.reduceat(ring_sizes, first_ring)
    cuts = np.cumsum(part_sizes)[:-1]
    paths = [
        MplPath(v, c) for v, c in zip(np.split(coords, cuts), np.split(codes, cuts), strict=True)
    ]
    return paths, owner


def _fill(
    ax: Axes,
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    facecolor: Any,  # noqa: ANN401 - a colour or one colour per row
    edgecolor: str = "none",
    linewidth: float = 0.0,
    hatch: str | None = None,
    zorder: float = 1.0,
    gid: str | None = None,
) -> PathCollection | None:
    """Draw polygons as a path collection (geopandas draws one patch per polygon).

    Polygons of one colour become one compound path; a colour per row gives one path per
    polygon.
    """
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    per_row = not isinstance(facecolor, str) and len(np.shape(facecolor)) == 2  # noqa: PLR2004
    paths, owner = _polygon_paths(geoms.to_numpy(), merge=not per_row)
    if not paths:
        return None
    faces = np.asarray(facecolor)[owner] if per_row else facecolor
    coll = PathCollection(
        paths,
        facecolors=faces,
        edgecolors=edgecolor,
        linewidths=linewidth,
        zorder=zorder,
    )
    if hatch:
        coll.set_hatch(hatch)
    if gid:
        coll.set_gid(gid)
    ax.add_collection(coll, autolim=False)
    return coll


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, layout=None)
    fig.set_facecolor("white")
    return fig


def _frame_view(ax: Axes, frame: gpd.GeoDataFrame) -> None:
    x0, y0, x1, y1 = (float(v) for v in frame.total_bounds)
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()


def _setup(
    frame: gpd.GeoDataFrame, ax: Axes | None, figsize: tuple[float, float]
) -> tuple[Figure, Axes]:
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_axes((0.02, 0.07, 0.72, 0.85))
        ax.set_anchor("E")
    else:
        parent = ax.get_figure()
        assert isinstance(parent, Figure)
        fig = parent
    _frame_view(ax, frame)
    return fig, ax


def _draw_neighbours(ax: Axes, neighbours: gpd.GeoDataFrame | None, lang: Lang) -> bool:
    """Fill the neighbouring districts grey under everything and name the larger ones."""
    if neighbours is None or neighbours.empty:
        return False
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    shown = neighbours[neighbours.intersects(view)]
    if shown.empty:
        return False
    _fill(ax, shown, facecolor=_NEIGHBOUR_COLOR, edgecolor="white", linewidth=0.8, zorder=0.5)
    if "name" in shown.columns:
        for _, row in shown.iterrows():
            part = row.geometry.intersection(view)
            if part.is_empty or part.area < _NEIGHBOUR_LABEL_SHARE * view.area:
                continue
            point = part.representative_point()
            name_en = row.get("name_en", row["name"])
            name = bilingual(str(row["name"]), str(name_en), lang, sep="\n")
            ax.text(
                point.x, point.y, name, ha="center", va="center", fontsize=7,
                color=_NEIGHBOUR_TEXT, clip_on=True, zorder=0.6,
            )  # fmt: skip
    return True


def _notes(fig: Figure, crs: Any, source: str | None, lang: Lang) -> None:  # noqa: ANN401
    lines = [source] if source else []
    lines.append(crs_note(crs, lang))
    add_credit(fig, "\n".join(lines))


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
    lang: Lang = "zh",
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
) -> None:
    if boundary is not None:
        boundary.boundary.plot(ax=ax, color="#222222", linewidth=1.2, zorder=8)
    if _draw_neighbours(ax, neighbours, lang):
        handles = [
            *handles,
            Patch(facecolor=_NEIGHBOUR_COLOR, edgecolor="white", label=_text("neighbours", lang)),
        ]
    if handles:
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
        _notes(fig, frame.crs, source, lang)
    if title:
        ax.set_title(title, fontsize=12)
    fig.set_facecolor("white")


def _title(
    title: str | None,
    theme: tuple[str, str] | str,
    district_name: tuple[str, str] | None,
    lang: Lang,
    **fields: Any,  # noqa: ANN401
) -> str:
    """Return ``title`` when given (``""``: none), else the district and the theme."""
    if title is not None:
        return title
    names = MAP_THEME_NAMES[theme] if isinstance(theme, str) else Term(*theme)
    return map_title((names.zh.format(**fields), names.en.format(**fields)), district_name, lang)


def _draw_categories(
    ax: Axes,
    frame: gpd.GeoDataFrame,
    column: str,
    *,
    colors: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
    missing_label: str,
    hatch_column: str | None = None,
    hatch_labels: Mapping[str, str] | None = None,
) -> list[Any]:
    """Fill the polygons by category (hatched by a second one); return the legend handles."""
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
        part = frame[(values == cat).to_numpy()]
        if hatch_column:
            level = part[hatch_column].astype(object)
            for lv, hatch in hatches.items():
                sub = part[(level == lv).to_numpy()]
                _fill(ax, sub, facecolor=color_of[cat], edgecolor="#555555", linewidth=0.1,
                      hatch=hatch or None)  # fmt: skip
            _fill(ax, part[level.isna().to_numpy()], facecolor=color_of[cat],
                  edgecolor="#555555", linewidth=0.1)  # fmt: skip
        else:
            _fill(ax, part, facecolor=color_of[cat], edgecolor="#777777", linewidth=0.1)
        text = (labels or {}).get(cat, str(cat))
        handles.append(Patch(facecolor=color_of[cat], edgecolor="#777777", label=text))
    missing = frame[values.isna().to_numpy()]
    if not missing.empty:
        _fill(ax, missing, facecolor=_MISSING_COLOR, edgecolor="#CCCCCC", linewidth=0.1)
        handles.append(Patch(facecolor=_MISSING_COLOR, edgecolor="#CCCCCC", label=missing_label))
    for lv, hatch in hatches.items():
        text = (hatch_labels or {}).get(lv, str(lv))
        handles.append(Patch(facecolor="white", edgecolor="#333333", hatch=hatch, label=text))
    return handles


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
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    furniture: bool = True,
    figsize: tuple[float, float] = (10.0, 8.0),
) -> tuple[Figure, Axes]:
    """Map polygons coloured by a category column (optionally hatched by a second one).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygons in a metric CRS.
    column : str
        Category column; missing values are drawn light grey as "no data".
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
        Legend text of rows without a category (default 无数据 / n/a).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language of built-in texts.
    legend_title, title : str, optional
        Texts.
    boundary : geopandas.GeoDataFrame, optional
        Outline drawn on top.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey under the map and named (``name`` column).
    source : str, optional
        Source note written at the foot with the CRS (with ``furniture``).
    furniture : bool, default True
        Draw scale bar, north arrow and the source and CRS note.
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
        handles = _draw_categories(
            ax,
            frame,
            column,
            colors=colors,
            labels=labels,
            missing_label=missing_label
            if missing_label is not None
            else _text("no_data", language),
            hatch_column=hatch_column,
            hatch_labels=hatch_labels,
        )
        _finish(
            fig,
            ax,
            frame,
            handles=handles,
            legend_title=legend_title or column,
            title=title,
            boundary=boundary,
            furniture=furniture,
            lang=language,
            neighbours=neighbours,
            source=source,
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
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
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
        Title; default the district's name and 土地利用现状 / land use.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

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
        title=_title(title, "landuse", district_name, language),
        boundary=boundary,
        neighbours=neighbours,
        source=source,
        furniture=furniture,
    )


def plot_renewal_supply(
    parcels: gpd.GeoDataFrame,
    *,
    type_column: str = "renewal_type",
    phase_column: str = "phase",
    phase_panel: bool = True,
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map renewal candidates by renewal type and, on a second panel, by phase.

    Phases are coloured (dark: near term) on their own panel beside the type map, so both
    can be read parcel by parcel; hatching inside small parcels cannot.  When ``ax`` is
    given, or ``phase_panel=False``, one map is drawn with the phases as hatching.  Types
    and phases are named from :mod:`tqspatial.vocabulary` (低效工业用地, 近期 ...); values it
    does not know are shown as they are.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels; those with no type are not candidates (grey).
    type_column, phase_column : str
        Columns of the supply stage.
    phase_panel : bool, default True
        Draw the phases on a second panel (new figures only).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (one map, phases hatched).
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title; default the district's name and 城市更新用地供给 / renewal land supply.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

    Returns
    -------
    (Figure, Axes)
        The map (the type panel); one legend lists types, then phases.  The phase panel
        has the gid ``tq-phase-panel``.

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
    >>> [a.get_title() for a in fig.axes]
    ['按更新类型', '按实施时序']
    """
    language = resolve_lang(lang)
    type_labels = {k: _name(t, language) for k, t in RENEWAL_TYPE_NAMES.items()}
    phase_labels = {k: _name(t, language) for k, t in PHASE_NAMES.items()}
    not_renewal = _text("not_renewal", language)
    legend_title = bilingual("更新类型 / 实施时序", "Renewal type / phase", language, sep=" / ")
    full_title = _title(title, "renewal_supply", district_name, language)
    if ax is not None or not phase_panel:
        return plot_categories(
            parcels,
            type_column,
            colors=RENEWAL_COLORS,
            labels=type_labels,
            hatch_column=phase_column,
            hatch_labels=phase_labels,
            missing_label=not_renewal,
            ax=ax,
            lang=language,
            legend_title=legend_title,
            title=full_title,
            boundary=boundary,
            neighbours=neighbours,
            source=source,
            furniture=furniture,
        )
    _require(parcels, [type_column, phase_column], "renewal map")
    with mpl.rc_context(font_rc()):
        fig = _new_figure((15.5, 8.3))
        by_type = fig.add_axes((0.01, 0.08, 0.41, 0.82))
        by_phase = fig.add_axes((0.43, 0.08, 0.41, 0.82))
        by_phase.set_gid("tq-phase-panel")
        for panel in (by_type, by_phase):
            _frame_view(panel, parcels)
        handles = _draw_categories(
            by_type, parcels, type_column, colors=RENEWAL_COLORS, labels=type_labels,
            missing_label=not_renewal,
        )  # fmt: skip
        is_candidate = parcels[type_column].notna().to_numpy()
        phase = parcels[phase_column].astype(object).where(is_candidate, None)
        phase = phase.where(~(is_candidate & phase.isna().to_numpy()), "_no_phase")
        frame = parcels.copy().assign(_phase=phase)  # one block: no fragmentation warning
        phase_handles = _draw_categories(
            by_phase, frame, "_phase",
            colors={**PHASE_COLORS, "_no_phase": PHASE_COLORS["undetermined"]},
            labels={**phase_labels, "_no_phase": _text("no_phase", language)},
            missing_label=not_renewal,
        )  # fmt: skip
        handles += [h for h in phase_handles if h.get_label() != not_renewal]
        if _draw_neighbours(by_type, neighbours, language):
            _draw_neighbours(by_phase, neighbours, language)
            handles.append(
                Patch(facecolor=_NEIGHBOUR_COLOR, edgecolor="white",
                      label=_text("neighbours", language))
            )  # fmt: skip
        for panel, key in ((by_type, "by_type"), (by_phase, "by_phase")):
            if boundary is not None:
                boundary.boundary.plot(ax=panel, color="#222222", linewidth=1.0, zorder=8)
            panel.set_title(_text(key, language), fontsize=11)
        by_type.legend(
            handles=handles,
            title=legend_title,
            loc="lower left",
            bbox_to_anchor=(0.85, 0.08),
            bbox_transform=fig.transFigure,
            fontsize=7.5,
            title_fontsize=8,
            frameon=True,
        )
        if furniture:
            for panel in (by_type, by_phase):
                add_scale_bar(panel)
            add_north_arrow(by_type, crs=parcels.crs)
            _notes(fig, parcels.crs, source, language)
        if full_title:
            fig.suptitle(full_title, fontsize=13, y=0.97)
    return fig, by_type


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
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
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
    legend_title : str, optional
        Legend title (default the column's name).
    title : str, optional
        Title; default, with ``district_name``, the district and the legend title.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

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
            _fill(ax, frame[valid], facecolor=colours[classes_of], edgecolor="#555555",
                  linewidth=0.5)  # fmt: skip
            for i in range(len(bins)):
                label = f"{_fmt(edges[i])} – {_fmt(edges[i + 1])}"
                handles.append(Patch(facecolor=colours[i], edgecolor="#555555", label=label))
        if (~valid).any():
            _fill(ax, frame[~valid], facecolor=_MISSING_COLOR, edgecolor="#AAAAAA", linewidth=0.5,
                  hatch="//")  # fmt: skip
            handles.append(
                Patch(
                    facecolor=_MISSING_COLOR,
                    edgecolor="#AAAAAA",
                    hatch="//",
                    label=_text("no_data", language),
                )
            )
        if label_column:
            for (_, row), value in zip(frame.iterrows(), values, strict=True):
                point = row.geometry.representative_point()
                shown = _text("no_data", language) if np.isnan(value) else _fmt(value)
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
        if title is None and district_name is not None:
            title = map_title((head, head), district_name, language)
        _finish(
            fig,
            ax,
            frame,
            handles=handles,
            legend_title=f"{head} ({unit})" if unit else head,
            title=title,
            boundary=boundary,
            furniture=furniture,
            lang=language,
            neighbours=neighbours,
            source=source,
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


def _overlap(a: Bbox, b: Bbox) -> float:
    width = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    return float(width * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0)))


#: Sides of an isochrone group its labels may stand on, in order of preference.
_LABEL_SIDES = ("east", "west", "north", "south")


def _column_at(
    ax: Axes,
    texts: list[Text],
    outer: Any,  # noqa: ANN401 - shapely polygon
    side: str,
) -> list[tuple[float, float]]:
    """Return where a column of labels stands on one side of ``outer`` (first on top)."""
    fig = ax.get_figure()
    assert fig is not None
    gap, step = 6.0 * fig.dpi / 72.0, 9.5 * fig.dpi / 72.0
    x0, y0, x1, y1 = outer.bounds
    (dx0, dy0), (dx1, dy1) = ax.transData.transform([(x0, y0), (x1, y1)])
    n = len(texts)
    if side in ("east", "west"):
        x = dx1 + gap if side == "east" else dx0 - gap
        top = (dy0 + dy1) / 2 + (n - 1) * step / 2
        display = [(x, top - i * step) for i in range(n)]
    elif side == "north":
        display = [((dx0 + dx1) / 2, dy1 + gap + (n - 1 - i) * step) for i in range(n)]
    else:
        display = [((dx0 + dx1) / 2, dy0 - gap - i * step) for i in range(n)]
    align: Literal["left", "center", "right"] = (
        "left" if side == "east" else "right" if side == "west" else "center"
    )
    for text in texts:
        text.set_horizontalalignment(align)
    inverse = ax.transData.inverted()
    return [tuple(float(v) for v in inverse.transform(xy)) for xy in display]  # type: ignore[misc]


def _label_isochrones(ax: Axes, groups: list[list[tuple[Any, Text]]]) -> None:
    """Stand each origin's labels in a column beside its isochrones, with leader lines.

    The column goes on the first side (east, west, north, south) where it overlaps no
    label placed before and stays inside the map; each label is joined to the nearest point
    of its isochrone's outline.
    """
    ax.apply_aspect()
    frame = ax.get_window_extent()
    placed: list[Any] = []
    for group in groups:
        texts = [text for _, text in group]
        outer = shapely.union_all([geom for geom, _ in group])
        best: tuple[float, str] | None = None
        for side in _LABEL_SIDES:
            for text, xy in zip(texts, _column_at(ax, texts, outer, side), strict=True):
                text.set_position(xy)
            boxes = [text.get_window_extent() for text in texts]
            clash = sum(_overlap(box, other) for box in boxes for other in placed)
            outside = sum(box.width * box.height - _overlap(box, frame) for box in boxes)
            score = clash + outside
            if best is None or score < best[0] - 1e-9:
                best = (score, side)
            if score <= 0:
                break
        side = best[1] if best else _LABEL_SIDES[0]
        for (geom, text), xy in zip(group, _column_at(ax, texts, outer, side), strict=True):
            text.set_position(xy)
            placed.append(text.get_window_extent())
            leader = shapely.get_coordinates(
                shapely.shortest_line(geom.boundary, shapely.Point(xy))
            )
            ax.plot(leader[:, 0], leader[:, 1], color="#333333", linewidth=0.5, zorder=6.5)


def _draw_isochrones(ax: Axes, isochrones: gpd.GeoDataFrame, column: str, lang: Lang) -> list[Any]:
    """Outline the isochrones (one line style per time), label them apart, return handles."""
    minutes = sorted({float(m) for m in isochrones[column]})
    style = {m: _ISOCHRONE_STYLES[i % len(_ISOCHRONE_STYLES)] for i, m in enumerate(minutes)}
    width = {m: 0.7 + 0.3 * i for i, m in enumerate(minutes)}
    handles: list[Any] = []
    shown = isochrones[~isochrones.geometry.is_empty & isochrones.geometry.notna()]
    for m in minutes:
        rings = shown[shown[column].astype(float) == m]
        if rings.empty:
            continue
        rings.boundary.plot(
            ax=ax, color="#111111", linewidth=width[m], linestyle=style[m], zorder=6,
            path_effects=halo(width[m] + 1.2),
        )  # fmt: skip
        handles.append(
            Line2D([], [], color="#111111", linewidth=width[m], linestyle=style[m],
                   label=_text("isochrone", lang, minutes=m))
        )  # fmt: skip
    origin = shown["origin_id"] if "origin_id" in shown.columns else pd.Series(shown.index)
    groups: list[list[tuple[Any, Text]]] = []
    for _, rings in shown.groupby(origin.to_numpy(), sort=False):
        group = []
        for geom, m in sorted(zip(rings.geometry, rings[column].astype(float), strict=True),
                              key=lambda pair: pair[1]):  # fmt: skip
            text = ax.text(
                0.0, 0.0, _text("isochrone_label", lang, minutes=m), va="center",
                fontsize=6.5, path_effects=halo(), zorder=7, clip_on=True,
            )  # fmt: skip
            text.set_gid("tq-isochrone-label")
            group.append((geom, text))
        groups.append(group)
    _label_isochrones(ax, groups)
    return handles


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
    theme: tuple[str, str] | None = None,
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map travel time per parcel in minute classes, with isochrones and facilities.

    Isochrones are outlined with one line style per time (legend: 5 分钟步行等时圈 ...),
    and each outline is labelled with its time at a point of its outline where the label
    overlaps no other isochrone label (nested isochrones of one origin are labelled on
    different sides).

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
        Whole title (overrides ``theme`` and ``district_name``).
    theme : (str, str), optional
        Chinese and English name of the measure, e.g. ``("步行至最近小学的时间",
        "walking time to the nearest primary school")``; default 可达性 / accessibility.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

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
            _fill(ax, parcels[mask], facecolor=mpl.colors.to_hex(colours[i]))
            if i == 0:
                label = f"≤ {edges[1]:g} min"
            elif np.isinf(edges[i + 1]):
                label = f"> {edges[i]:g} min"
            else:
                label = f"{edges[i]:g}–{edges[i + 1]:g} min"
            handles.append(Patch(facecolor=colours[i], label=label))
        unreachable = minutes.isna().to_numpy()
        if unreachable.any():
            _fill(ax, parcels[unreachable], facecolor=_MISSING_COLOR)
            handles.append(
                Patch(facecolor=_MISSING_COLOR, edgecolor="#CCCCCC",
                      label=_text("unreachable", language))
            )  # fmt: skip
        if isochrones is not None and not isochrones.empty:
            _require(isochrones, [isochrone_column], "isochrones")
            handles += _draw_isochrones(ax, isochrones, isochrone_column, language)
        if facilities is not None and not facilities.empty:
            xy = shapely.get_coordinates(facilities.geometry.representative_point().to_numpy())
            ax.scatter(xy[:, 0], xy[:, 1], s=8, color="#D55E00", marker="o", zorder=7,
                       edgecolors="white", linewidths=0.3)  # fmt: skip
            handles.append(
                Line2D([], [], color="#D55E00", marker="o", linestyle="none",
                       label=_text("facility", language))
            )  # fmt: skip
        _finish(
            fig,
            ax,
            parcels,
            handles=handles,
            legend_title=_text("travel_time", language),
            title=_title(title, theme or "accessibility", district_name, language),
            boundary=boundary,
            furniture=furniture,
            lang=language,
            neighbours=neighbours,
            source=source,
        )
    return fig, ax


def plot_coverage(
    parcels: gpd.GeoDataFrame,
    *,
    column: str = "covered",
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map life-circle coverage: parcels covered or not (boolean column).

    To show *which* required facility is missing where, use :func:`plot_life_circle`.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with a boolean coverage column (missing: not assessed, e.g. a parcel
        off the walk network).
    column : str, default "covered"
        Coverage column, e.g. "within the 15-minute life circle of all
        required facilities".
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title; default the district's name and 生活圈覆盖 / life-circle coverage.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

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
        missing_label=_text("not_assessed", language),
        ax=ax,
        lang=language,
        legend_title=bilingual("生活圈覆盖", "Life-circle coverage", language, sep=" / "),
        title=_title(title, ("生活圈覆盖", "life-circle coverage"), district_name, language),
        boundary=boundary,
        neighbours=neighbours,
        source=source,
        furniture=furniture,
    )


def life_circle_gaps(
    parcels: pd.DataFrame, labels: Sequence[str], *, pattern: str = "lc_{label}_within"
) -> pd.Series:
    """Classify parcels by what their life circle lacks.

    Parameters
    ----------
    parcels : pandas.DataFrame
        One column per requirement (``pattern`` filled with its label): 1 when the
        facility is within the level's distance, 0 when not, NaN when not assessed.
    labels : sequence of str
        Requirement labels (e.g. those of
        :data:`tqspatial.lifecircle.LIFE_CIRCLE_REQUIREMENTS` for a level).
    pattern : str, default "lc_{label}_within"
        Column name of a requirement.

    Returns
    -------
    pandas.Series
        Per parcel ``"covered"``, ``"only:<label>"`` (exactly that one missing),
        ``"some"`` (more than one, not all), ``"all"``, or None (not assessed: any
        requirement NaN).

    Raises
    ------
    SchemaError
        If a requirement's column is missing.

    Examples
    --------
    >>> t = pd.DataFrame({"lc_a_within": [1, 0, 0, 1, None], "lc_b_within": [1, 0, 0, 1, 1],
    ...                   "lc_c_within": [1, 1, 0, 0, 1]})
    >>> life_circle_gaps(t, ["a", "b", "c"]).tolist()
    ['covered', 'some', 'all', 'only:c', None]
    """
    columns = [pattern.format(label=label) for label in labels]
    _require(parcels, columns, "life-circle map")
    within = parcels[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    assessed = ~np.isnan(within).any(axis=1)
    missing = (within == 0) & assessed[:, None]
    count = missing.sum(axis=1)
    out = np.full(len(parcels), None, dtype=object)
    out[assessed & (count == 0)] = "covered"
    out[assessed & (count == len(columns))] = "all"
    out[assessed & (count > 1) & (count < len(columns))] = "some"
    one = assessed & (count == 1) & (len(columns) > 1)
    out[one] = [f"only:{labels[i]}" for i in np.argmax(missing[one], axis=1)]
    if len(columns) == 1:
        out[assessed & (count == 1)] = "all"
    return pd.Series(out, index=parcels.index, dtype=object)


def plot_life_circle(
    parcels: gpd.GeoDataFrame,
    requirements: Mapping[str, tuple[str, str]],
    *,
    distance_m: float,
    level_minutes: float,
    pattern: str = "lc_{label}_within",
    max_snap_m: float | None = None,
    panels: bool = True,
    ax: Axes | None = None,
    lang: str = "zh",
    title: str | None = None,
    district_name: tuple[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    furniture: bool = True,
) -> tuple[Figure, Axes]:
    """Map which required facility of a life circle each parcel lacks.

    The main map classes each parcel (:func:`life_circle_gaps`): covered (every required
    facility within ``distance_m`` on foot), missing only one named facility (one colour
    per facility), missing several, missing all, or not assessed (off the walk network).
    Beside it, one small map per requirement shows where that facility is missing.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels with a 1/0/NaN column per requirement (``pattern``).
    requirements : mapping of str to (str, str)
        Requirement label -> Chinese and English name, in legend order (e.g.
        :func:`tqspatial.lifecircle.requirement_names`).
    distance_m : float
        The level's walking distance (GB 50180-2018 表3.0.4: 1000 m for 15 minutes).
    level_minutes : float
        The level's walking time, for the title (15 -> 15分钟生活圈).
    pattern : str, default "lc_{label}_within"
        Column name of a requirement.
    max_snap_m : float, optional
        Longest connector to the walk network, to explain parcels not assessed.
    panels : bool, default True
        Draw the small map per requirement (new figures only).
    ax : matplotlib.axes.Axes, optional
        Axes to draw the main map into (no small maps).
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    title : str, optional
        Title; default the district's name and the level's facilities.
    district_name : (str, str), optional
        Chinese and English name of the district, for the title.
    boundary : geopandas.GeoDataFrame, optional
        District outline.
    neighbours : geopandas.GeoDataFrame, optional
        Neighbouring districts, drawn grey on the main map.
    source : str, optional
        Source note at the foot (with the CRS note).
    furniture : bool, default True
        Scale bar, north arrow, source and CRS note.

    Returns
    -------
    (Figure, Axes)
        The figure and the main map; each small map has the gid ``tq-requirement-<label>``
        and the requirement's name as title.

    Raises
    ------
    SchemaError
        If a requirement's column is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"lc_a_within": [1.0, 0.0, None], "lc_b_within": [1.0, 1.0, 1.0]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:4548")
    >>> req = {"a": ("小学", "Primary school"), "b": ("公园", "Park")}
    >>> fig, ax = plot_life_circle(g, req, distance_m=500, level_minutes=10, lang="en",
    ...                            furniture=False)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]  # doctest: +NORMALIZE_WHITESPACE
    ['Covered: all 2 within 500 m', 'Missing only: Primary school',
     'Not assessed: off the walk network']
    """
    language = resolve_lang(lang)
    labels = list(requirements)
    names = {k: bilingual(zh, en, language, sep=" / ") for k, (zh, en) in requirements.items()}
    colors, legend = _gap_legend(labels, names, distance_m, language)
    unassessed = (
        _say("unassessed", language, distance=format_distance(max_snap_m))
        if max_snap_m
        else _say("unassessed_plain", language)
    )
    level = LIFE_CIRCLE_MAP_NAMES["level"]
    level_names = (level.zh.format(minutes=level_minutes), level.en.format(minutes=level_minutes))
    theme = MAP_THEME_NAMES["life_circle"]
    full_title = _title(
        title,
        (theme.zh.format(level=level_names[0]), theme.en.format(level=level_names[1])),
        district_name,
        language,
    )
    frame = parcels.copy().assign(_gap=life_circle_gaps(parcels, labels, pattern=pattern))
    legend_title = _say("legend", language)
    if ax is not None or not panels:
        return plot_categories(
            frame, "_gap", colors=colors, labels=legend, missing_label=unassessed, ax=ax,
            lang=language, legend_title=legend_title, title=full_title, boundary=boundary,
            neighbours=neighbours, source=source, furniture=furniture,
        )  # fmt: skip
    with mpl.rc_context(font_rc()):
        fig = _new_figure((16.0, 9.0))
        main = fig.add_axes((0.01, 0.08, 0.46, 0.82))
        _frame_view(main, parcels)
        handles = _draw_categories(
            main, frame, "_gap", colors=colors, labels=legend, missing_label=unassessed
        )
        if _draw_neighbours(main, neighbours, language):
            handles.append(
                Patch(facecolor=_NEIGHBOUR_COLOR, edgecolor="white",
                      label=_text("neighbours", language))
            )  # fmt: skip
        if boundary is not None:
            boundary.boundary.plot(ax=main, color="#222222", linewidth=1.2, zorder=8)
        main.set_title(_say("overall", language), fontsize=11)
        main.legend(
            handles=handles, title=legend_title, loc="lower left", bbox_to_anchor=(0.49, 0.03),
            bbox_transform=fig.transFigure, fontsize=7.5, title_fontsize=8, frameon=True,
        )  # fmt: skip
        free = _requirement_panels(
            fig, parcels, names, pattern=pattern, unassessed=unassessed, boundary=boundary
        )
        distance = format_distance(distance_m)
        fig.legend(
            handles=[
                Patch(facecolor=_COVERED_COLOR, label=_say("within", language, distance=distance)),
                Patch(facecolor=_MISSING_ALL_COLOR,
                      label=_say("missing", language, distance=distance)),
                Patch(facecolor=_MISSING_COLOR, edgecolor="#CCCCCC", label=unassessed),
            ],
            title=_say("panels", language), loc="center left" if free else "lower left",
            bbox_to_anchor=free or (0.75, 0.03),
            fontsize=7.5, title_fontsize=8, frameon=True,
        )  # fmt: skip
        if furniture:
            add_scale_bar(main)
            add_north_arrow(main, crs=parcels.crs)
            _notes(fig, parcels.crs, source, language)
        if full_title:
            fig.suptitle(full_title, fontsize=13, y=0.97)
    return fig, main


def _say(key: str, lang: Lang, **fields: Any) -> str:  # noqa: ANN401
    return _text(key, lang, LIFE_CIRCLE_MAP_NAMES, **fields)


def _gap_legend(
    labels: Sequence[str], names: Mapping[str, str], distance_m: float, lang: Lang
) -> tuple[dict[str, str], dict[str, str]]:
    """Colour and legend text of each class of :func:`life_circle_gaps`, in legend order."""
    n = len(labels)
    colors = {"covered": _COVERED_COLOR}
    legend = {"covered": _say("covered", lang, n=n, distance=format_distance(distance_m))}
    for i, label in enumerate(labels if n > 1 else []):
        colors[f"only:{label}"] = _MISSING_ONE_COLORS[i % len(_MISSING_ONE_COLORS)]
        legend[f"only:{label}"] = _say("missing_one", lang, name=names[label])
    colors["some"] = _MISSING_SOME_COLOR
    legend["some"] = (
        _say("missing_some", lang, low=2)
        if n == 3  # noqa: PLR2004 - "2 to n - 1" is just 2
        else _say("missing_range", lang, low=2, high=n - 1)
    )
    colors["all"] = _MISSING_ALL_COLOR
    legend["all"] = _say("missing_all", lang, n=n)
    return colors, legend


def _requirement_panels(
    fig: Figure,
    parcels: gpd.GeoDataFrame,
    names: Mapping[str, str],
    *,
    pattern: str,
    unassessed: str,
    boundary: gpd.GeoDataFrame | None,
) -> tuple[float, float] | None:
    """Draw one small map per requirement: where its facility is within reach, where not.

    Returns the figure position (left, middle) of the first free cell of the grid, if any.
    """
    ncols = min(3, max(len(names), 1))
    nrows = max(1, math.ceil(len(names) / ncols))
    x0, y0, width, height = 0.49, 0.30, 0.50, 0.62
    cell_w, cell_h = width / ncols, height / nrows
    for i, (label, name) in enumerate(names.items()):
        row, col = divmod(i, ncols)
        panel = fig.add_axes(
            (x0 + col * cell_w, y0 + (nrows - 1 - row) * cell_h, cell_w * 0.96, cell_h * 0.86)
        )
        panel.set_gid(f"tq-requirement-{label}")
        _frame_view(panel, parcels)
        state = pd.to_numeric(parcels[pattern.format(label=label)], errors="coerce")
        frame = parcels.assign(_state=state.map({1.0: "within", 0.0: "missing"}).astype(object))
        _draw_categories(
            panel, frame, "_state",
            colors={"within": _COVERED_COLOR, "missing": _MISSING_ALL_COLOR},
            labels={}, missing_label=unassessed,
        )  # fmt: skip
        if boundary is not None:
            boundary.boundary.plot(ax=panel, color="#222222", linewidth=0.6, zorder=8)
        panel.set_title(name, fontsize=8.5)
    if len(names) % ncols:
        row, col = divmod(len(names), ncols)
        return (x0 + col * cell_w, y0 + (nrows - 1 - row) * cell_h + cell_h * 0.45)
    return None
