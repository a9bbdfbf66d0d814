"""Export maps: PNG (300 dpi), PDF and SVG, a multi-page PDF atlas, and ``render_maps``.

Examples
--------
>>> import tempfile
>>> from tqspatial.maps.layers import toy_layers
>>> with tempfile.TemporaryDirectory() as d:
...     paths = render_maps(d, toy_layers(), dpi=30, formats=("png",), atlas=False)
...     [p.name for p in paths]
['cluster_map.png']
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from tqspatial.maps.cluster import plot_cluster_map, resolve_lang
from tqspatial.maps.fonts import export_rc, figure_missing_glyphs, font_rc, truetype_text
from tqspatial.maps.furniture import format_distance
from tqspatial.maps.layers import as_layers
from tqspatial.maps.style import Lang, bilingual
from tqspatial.maps.webmap import make_webmap, save_webmap
from tqspatial.structure import CLUSTER_KIND
from tqspatial.vocabulary import ATLAS_NAMES

__all__ = [
    "EXPORT_DPI",
    "KEY_FIGURES",
    "MissingGlyphError",
    "atlas_figures",
    "render_maps",
    "save_figure",
    "write_atlas",
]

logger = logging.getLogger(__name__)

#: Resolution of PNG exports (print quality).
EXPORT_DPI = 300

#: Key figures of an atlas page: column of ``cluster_stats`` -> (Chinese, English, unit).
#: ``cluster_area_ha`` is always the cluster polygon's area; ``land_area_ha`` the land in
#: the cluster's parcels (``area_ha``, as the refresh names it, is read as that).
KEY_FIGURES: dict[str, tuple[str, str, str]] = {
    key: (ATLAS_NAMES[key].zh, ATLAS_NAMES[key].en, unit)
    for key, unit in (
        ("cluster_area_ha", "ha"),
        ("land_area_ha", "ha"),
        ("net_supply_ha", "ha"),
        ("access_min", "min"),
    )
}

#: Column suffixes that qualify a key figure instead of being one: how the value was
#: computed (``<figure>_basis``: ``area`` or ``nearby_area``) and the search distance of a
#: ``nearby_area`` value (``<figure>_within_m``).
BASIS_SUFFIX, WITHIN_SUFFIX = "_basis", "_within_m"

#: Margin around a cluster on its atlas page, as a share of its larger side.
CLUSTER_PAGE_MARGIN = 0.25

#: Height of a key-figure row as a share of the page (two-line rows in both languages).
ROW_HEIGHT, ROW_HEIGHT_BOTH = 0.03, 0.052

#: Footnote marks, in order of use.
_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"


class MissingGlyphError(RuntimeError):
    """A label contains characters the map font cannot draw (they would show as boxes)."""


def _check_glyphs(fig: Figure, what: str) -> None:
    missing = figure_missing_glyphs(fig)
    if missing:
        msg = (
            f"{what}: characters missing from the map font: {missing}; install a CJK font "
            "(`pip install noto-cjk-sans-otc`) or use lang='en'"
        )
        raise MissingGlyphError(msg)


def save_figure(
    fig: Figure,
    stem: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("png", "pdf", "svg"),
    dpi: int = EXPORT_DPI,
    editable_text: bool = True,
) -> list[Path]:
    """Write a figure as PNG, PDF and/or SVG after checking every glyph exists.

    Text stays editable by default: PDF (and PS) embed the fonts as TrueType (Type 42;
    a CFF-outline CJK font is converted to TrueType for the glyphs used, see
    :func:`~tqspatial.maps.fonts.truetype_text`) and SVG keeps labels as ``<text>``
    elements whose ``font-family`` names the CJK font first.  GIS staff can then edit
    labels in Illustrator, Inkscape or QGIS; the SVG needs that font installed to show
    the labels as drawn.  ``editable_text=False`` draws glyphs as outlines instead
    (Type 3 / SVG paths): identical everywhere, not editable.  Settings apply to this
    call only (``matplotlib.rc_context``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to write.
    stem : str or os.PathLike
        Output path without suffix; folders are created.
    formats : sequence of str, default ("png", "pdf", "svg")
        Formats to write.
    dpi : int, default 300
        Resolution of raster output.
    editable_text : bool, default True
        Keep text editable (TrueType fonts in PDF/PS, ``<text>`` in SVG); False for
        outlines (see :func:`~tqspatial.maps.fonts.export_rc`).

    Returns
    -------
    list of pathlib.Path
        Written files, in ``formats`` order.

    Raises
    ------
    MissingGlyphError
        If a label would render as empty boxes.

    Examples
    --------
    >>> import tempfile
    >>> fig = Figure(figsize=(1, 1))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in save_figure(fig, f"{d}/x", formats=("png",), dpi=50)]
    ['x.png']
    """
    _check_glyphs(fig, str(stem))
    base = Path(stem)
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with mpl.rc_context({**font_rc(), **export_rc(editable_text=editable_text)}):
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            # no timestamps: the same map gives the same bytes on every run
            metadata: dict[str, str | None] | None = None
            if fmt == "svg":
                metadata = {"Creator": "tqspatial", "Date": None}
            elif fmt == "pdf":
                metadata = {"Creator": "tqspatial", "CreationDate": None}
            swap = editable_text and fmt in ("pdf", "ps", "eps")
            with truetype_text(fig) if swap else contextlib.nullcontext():
                fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
            out.append(path)
    logger.info("wrote %s", ", ".join(str(p) for p in out))
    return out


def _say(key: str, lang: Lang, **fields: Any) -> str:  # noqa: ANN401
    names = ATLAS_NAMES[key]
    return bilingual(names.zh.format(**fields), names.en.format(**fields), lang, sep=" / ")


def _basis_note(stats: pd.DataFrame, cid: str, col: str, lang: Lang) -> str | None:
    """Return the footnote saying how a figure was computed, if not the default way."""
    column = f"{col}{BASIS_SUFFIX}"
    if column not in stats.columns:
        return None
    basis = stats.loc[cid, column]
    if basis == "area":
        return _say("basis_area", lang)
    if basis == "nearby_area":
        within: Any = (
            stats.loc[cid, f"{col}{WITHIN_SUFFIX}"] if f"{col}{WITHIN_SUFFIX}" in stats else None
        )
        distance = format_distance(float(within)) if within is not None and pd.notna(within) else ""
        return _say("basis_nearby_area", lang, distance=distance)
    return None


def _figure_rows(
    cid: str,
    area_ha: float,
    stats: pd.DataFrame | None,
    lang: Lang,
    labels: Mapping[str, tuple[str, str, str]],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Return the key-figure rows of a cluster page and their footnotes.

    ``area_ha`` is the cluster polygon's area.  A figure the stats do not hold prints
    未计算 / not computed (with a note), a figure they hold as NaN 无可计算数据 (no parcel
    anywhere has a value); a figure computed another way than the default carries a mark
    and a footnote saying how.
    """
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    figures = {**KEY_FIGURES, **labels}
    table = stats
    if table is not None and "area_ha" in table.columns and "land_area_ha" not in table.columns:
        table = table.rename(columns={"area_ha": "land_area_ha"})
    known = table.index if table is not None else pd.Index([])
    qualifiers = [c for c in (table.columns if table is not None else []) if c.endswith(
        (BASIS_SUFFIX, WITHIN_SUFFIX)) and c.removesuffix(BASIS_SUFFIX).removesuffix(
        WITHIN_SUFFIX) in figures]  # fmt: skip
    not_given = False
    for col, (zh, en, unit) in figures.items():
        name = bilingual(zh, en, lang, sep="\n")  # both: two lines, the cell is narrow
        if col == "cluster_area_ha":
            rows.append((name, f"{area_ha:,.1f} {unit}"))
            continue
        if table is None or col not in table.columns or cid not in known:
            rows.append((name, _say("not_given", lang)))
            not_given = True
            continue
        value: Any = table.loc[cid, col]
        if value is None or pd.isna(value):
            rows.append((name, _say("no_value", lang)))
            continue
        shown = f"{float(value):,.1f} {unit}"
        note = _basis_note(table, cid, col, lang)
        if note is not None:
            mark = _MARKS[len(notes) % len(_MARKS)]
            shown = f"{shown} {mark}"
            note = f"{mark} {note}"
            notes.append(note)
        rows.append((name, shown))
    extra = [
        c for c in (table.columns if table is not None else [])
        if c not in figures and c not in qualifiers
    ]  # fmt: skip
    for col in extra:
        cell: Any = table.loc[cid, col] if table is not None and cid in known else None
        if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
            shown = _say("no_value", lang)
        elif isinstance(cell, (int, float, np.number)):
            shown = f"{float(cell):,.1f}"
        else:
            shown = str(cell)
        rows.append((str(col), shown))
    notes.append(_say("area_note", lang))
    if not_given:
        notes.append(_say("not_given_note", lang))
    return rows, notes


def _cluster_page(
    layers: Any,  # noqa: ANN401
    cid: str,
    stats: pd.DataFrame | None,
    lang: Lang,
    figsize: tuple[float, float],
    *,
    labels: Mapping[str, tuple[str, str, str]],
) -> Figure:
    """One cluster's page: its map with the legend, the key figures and their notes."""
    elements = layers.structure.elements
    row = elements.loc[cid]
    x0, y0, x1, y1 = row.geometry.bounds
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = side * (0.5 + CLUSTER_PAGE_MARGIN)
    with mpl.rc_context(font_rc()):
        fig = Figure(figsize=figsize)
        ax = fig.add_axes((0.02, 0.08, 0.60, 0.82))
        plot_cluster_map(
            layers,
            ax=ax,
            lang=lang,
            extent=(cx - half, cy - half, cx + half, cy + half),
            highlight=cid,
            legend=True,
            title=bilingual(str(row["name_zh"]), str(row["name_en"]), lang, sep=" / "),
            credit="",
        )
        legend = ax.get_legend()
        if legend is not None:  # beside the key figures, not over the map
            legend.set_bbox_to_anchor((0.64, 0.03), transform=fig.transFigure)
            legend.set_loc("lower left")
        rows, notes = _figure_rows(cid, float(row.geometry.area) / 1e4, stats, lang, labels)
        panel = fig.add_axes((0.64, 0.2, 0.34, 0.7))
        panel.set_axis_off()
        panel.set_title(_say("key_figures", lang), fontsize=11, loc="left")
        table = panel.table(
            cellText=[[k, v] for k, v in rows],
            loc="upper left",
            cellLoc="left",
            colWidths=[0.62, 0.38],
        )
        table.auto_set_font_size(value=False)
        table.set_fontsize(8)
        row_height = ROW_HEIGHT_BOTH if lang == "both" else ROW_HEIGHT
        table.scale(1.0, row_height / ROW_HEIGHT * 1.5)
        lines = list(notes)
        industries = row.get("lead_industries")
        if isinstance(industries, str) and industries:
            lines.append(_say("lead_industries", lang) + industries.replace(";", "、"))
        note = fig.text(
            0.64, 0.88 - row_height * (len(rows) + 1), "\n".join(lines), fontsize=7,
            va="top", ha="left", wrap=True, color="#333333",
        )  # fmt: skip
        note.set_gid("tq-atlas-notes")
    return fig


def atlas_figures(
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    *,
    cluster_stats: pd.DataFrame | None = None,
    lang: str = "zh",
    figsize: tuple[float, float] = (11.69, 8.27),
    figure_labels: Mapping[str, tuple[str, str, str]] | None = None,
) -> list[tuple[str, Figure]]:
    """Draw the atlas pages: the overview map, then one page per cluster.

    Every page has a legend: the overview's beside the map, a cluster page's under its
    key figures (the cluster's area, the land in its parcels, the net renewal supply and
    the travel-time measure, with notes saying how a figure was computed when it is not
    the default way).

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        Layers (as for :func:`~tqspatial.maps.cluster.plot_cluster_map`).
    cluster_stats : pandas.DataFrame, optional
        Key figures per cluster id (see :func:`write_atlas`).
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    figsize : tuple of float, default A4 landscape
        Page size in inches.
    figure_labels : mapping of str to (str, str, str), optional
        Labels of key figures, overriding :data:`KEY_FIGURES`.

    Returns
    -------
    list of (str, matplotlib.figure.Figure)
        ``("overview", page)``, then ``(cluster id, page)`` in plan order.

    Examples
    --------
    >>> from tqspatial.maps.layers import toy_layers
    >>> pages = atlas_figures(toy_layers(), lang="en")
    >>> [(name, fig.axes[0].get_legend() is not None) for name, fig in pages]
    [('overview', True), ('west', True), ('east', True)]
    """
    layers = as_layers(data)
    language = resolve_lang(lang)
    elements = layers.structure.elements
    with mpl.rc_context(font_rc()):
        overview, _ = plot_cluster_map(layers, lang=language, figsize=figsize)
        pages = [("overview", overview)]
        for cid in elements.index[elements["kind"] == CLUSTER_KIND]:
            page = _cluster_page(
                layers, str(cid), cluster_stats, language, figsize, labels=figure_labels or {}
            )
            pages.append((str(cid), page))
    return pages


def write_atlas(
    path: str | os.PathLike[str],
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    *,
    cluster_stats: pd.DataFrame | None = None,
    lang: str = "zh",
    figsize: tuple[float, float] = (11.69, 8.27),
    figure_labels: Mapping[str, tuple[str, str, str]] | None = None,
) -> Path:
    """Write a multi-page PDF: the overview map, then one page per cluster with key figures.

    Parameters
    ----------
    path : str or os.PathLike
        Output PDF.
    data : MapLayers, PlanStructure or dataset
        Layers (as for :func:`~tqspatial.maps.cluster.plot_cluster_map`).
    cluster_stats : pandas.DataFrame, optional
        One row per cluster id (index) with any of the :data:`KEY_FIGURES` columns
        (``land_area_ha`` or, as the refresh names it, ``area_ha``: land in the
        cluster's parcels; ``net_supply_ha``; ``access_min``), optional qualifiers
        ``<figure>_basis`` (``area``: weighted by parcel area; ``nearby_area``: from the
        parcels within ``<figure>_within_m`` of the cluster) printed as footnotes, and
        extra columns shown as they are.  The cluster area is always the cluster
        polygon's.  A figure not given prints 未计算 / not computed, a NaN 无可计算数据.
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    figsize : tuple of float, default A4 landscape
        Page size in inches.
    figure_labels : mapping of str to (str, str, str), optional
        Chinese label, English label and unit of ``cluster_stats`` columns, overriding
        :data:`KEY_FIGURES` (e.g. what ``access_min`` measures).

    Returns
    -------
    pathlib.Path
        The PDF (1 + number of clusters pages).

    Raises
    ------
    MissingGlyphError
        If a label would render as empty boxes.

    Examples
    --------
    >>> import tempfile
    >>> from tqspatial.maps.layers import toy_layers
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_atlas(f"{d}/atlas.pdf", toy_layers(), lang="en").stat().st_size > 10_000
    True
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = atlas_figures(
        data, cluster_stats=cluster_stats, lang=lang, figsize=figsize, figure_labels=figure_labels
    )
    with (
        mpl.rc_context({**font_rc(), **export_rc()}),  # TrueType fonts: labels stay editable
        PdfPages(out, metadata={"Creator": "tqspatial", "CreationDate": None}) as pdf,
    ):
        for number, (name, page) in enumerate(pages, start=1):
            _check_glyphs(page, f"{out} page {number} ({name})")
            with truetype_text(page):
                pdf.savefig(page)
    logger.info("atlas: %s (%d pages)", out, len(pages))
    return out


def render_maps(
    out_dir: str | os.PathLike[str],
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    *,
    cluster_stats: pd.DataFrame | None = None,
    lang: str = "zh",
    formats: Sequence[str] = ("png", "pdf", "svg"),
    dpi: int = EXPORT_DPI,
    atlas: bool = True,
    html: bool = False,
    provenance: Mapping[str, str] | None = None,
    figure_labels: Mapping[str, tuple[str, str, str]] | None = None,
    on_map: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the overview cluster map (PNG/PDF/SVG) and the PDF atlas into ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder, e.g. ``data/processed/maps``; created if needed.
    data : MapLayers, PlanStructure or dataset
        Layers, e.g. ``tq.datasets.tianqiao()``.
    cluster_stats : pandas.DataFrame, optional
        Per-cluster key figures for the atlas (see :func:`write_atlas`).
    lang : {"zh", "en", "both"}, default "zh"
        Language.
    formats : sequence of str, default ("png", "pdf", "svg")
        Formats of the overview map.
    dpi : int, default 300
        PNG resolution.
    atlas : bool, default True
        Also write ``atlas.pdf``.
    html : bool, default False
        Also write ``cluster_map.html``, the offline web map with parcels
        (about 6 MB for 17 000 parcels).
    provenance : mapping of str to str, optional
        Layer labels for the credit line (inferred when omitted).
    figure_labels : mapping of str to (str, str, str), optional
        Labels of the atlas' key figures (see :func:`write_atlas`).
    on_map : callable, optional
        Called with the file name of each map once it is written
        (``"cluster_map.png"``, ``"atlas.pdf"`` ...), e.g. to advance a progress bar.

    Returns
    -------
    list of pathlib.Path
        ``cluster_map.<fmt>`` for each format, then ``atlas.pdf`` and
        ``cluster_map.html`` when asked for.

    Raises
    ------
    MissingGlyphError
        If a label would render as empty boxes.
    """
    target = Path(out_dir)
    fig, _ = plot_cluster_map(data, lang=lang, provenance=dict(provenance) if provenance else None)
    paths = save_figure(fig, target / "cluster_map", formats=formats, dpi=dpi)
    done = on_map or (lambda _name: None)
    done(paths[0].name)
    if atlas:
        paths.append(
            write_atlas(
                target / "atlas.pdf",
                data,
                cluster_stats=cluster_stats,
                lang=lang,
                figure_labels=figure_labels,
            )
        )
        done(paths[-1].name)
    if html:
        paths.append(save_webmap(make_webmap(data, lang=lang), target / "cluster_map.html"))
        done(paths[-1].name)
    return paths
