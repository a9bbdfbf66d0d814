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
from tqspatial.maps.layers import as_layers
from tqspatial.maps.style import Lang, bilingual
from tqspatial.maps.webmap import make_webmap, save_webmap
from tqspatial.structure import CLUSTER_KIND

__all__ = [
    "EXPORT_DPI",
    "KEY_FIGURES",
    "MissingGlyphError",
    "render_maps",
    "save_figure",
    "write_atlas",
]

logger = logging.getLogger(__name__)

#: Resolution of PNG exports (print quality).
EXPORT_DPI = 300

#: Key figures of an atlas page: column of ``cluster_stats`` -> (Chinese, English, unit).
KEY_FIGURES: dict[str, tuple[str, str, str]] = {
    "area_ha": ("组团面积", "Cluster area", "ha"),
    "net_supply_ha": ("可更新净用地", "Net renewal land supply", "ha"),
    "access_min": ("出行时间（中位数）", "Median travel time", "min"),
}

#: Margin around a cluster on its atlas page, as a share of its larger side.
CLUSTER_PAGE_MARGIN = 0.25


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


def _figure_rows(
    cid: str,
    area_ha: float,
    stats: pd.DataFrame | None,
    lang: Lang,
    labels: Mapping[str, tuple[str, str, str]],
) -> list[tuple[str, str]]:
    rows = []
    figures = {**KEY_FIGURES, **labels}
    extra = [c for c in (stats.columns if stats is not None else []) if c not in figures]
    for col, (zh, en, unit) in figures.items():
        value: Any = None
        if stats is not None and cid in stats.index and col in stats.columns:
            value = stats.loc[cid, col]
        if col == "area_ha" and (value is None or pd.isna(value)):
            value = area_ha
        shown = "n/a" if value is None or pd.isna(value) else f"{float(value):,.1f} {unit}"
        rows.append((bilingual(zh, en, lang, sep=" / "), shown))
    for col in extra:
        value = stats.loc[cid, col] if stats is not None and cid in stats.index else None
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            shown = "n/a"
        elif isinstance(value, (int, float, np.number)):
            shown = f"{float(value):,.1f}"
        else:
            shown = str(value)
        rows.append((str(col), shown))
    return rows


def _cluster_page(
    layers: Any,  # noqa: ANN401
    cid: str,
    stats: pd.DataFrame | None,
    lang: Lang,
    figsize: tuple[float, float],
    *,
    labels: Mapping[str, tuple[str, str, str]],
) -> Figure:
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
            legend=False,
            title=bilingual(str(row["name_zh"]), str(row["name_en"]), lang, sep=" / "),
            credit="",
        )
        rows = _figure_rows(cid, float(row.geometry.area) / 1e4, stats, lang, labels)
        panel = fig.add_axes((0.64, 0.2, 0.34, 0.6))
        panel.set_axis_off()
        panel.set_title(
            bilingual("关键指标", "Key figures", lang, sep=" / "), fontsize=11, loc="left"
        )
        table = panel.table(
            cellText=[[k, v] for k, v in rows],
            loc="upper left",
            cellLoc="left",
            colWidths=[0.68, 0.32],
        )
        table.auto_set_font_size(value=False)
        table.set_fontsize(8)
        table.scale(1.0, 1.6)
        industries = row.get("lead_industries")
        if isinstance(industries, str) and industries:
            panel.text(
                0.0,
                0.05,
                bilingual("主导产业：", "Lead industries: ", lang, sep="")
                + industries.replace(";", "、"),
                fontsize=8,
                transform=panel.transAxes,
                wrap=True,
            )
    return fig


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
        One row per cluster id (index) with any of the :data:`KEY_FIGURES`
        columns (``area_ha``, ``net_supply_ha``, ``access_min``) and extra
        columns shown as they are; missing figures print "n/a".  The area
        defaults to the cluster polygon's area.
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
    layers = as_layers(data)
    language = resolve_lang(lang)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    elements = layers.structure.elements
    with (
        mpl.rc_context(font_rc()),
        PdfPages(out, metadata={"Creator": "tqspatial", "CreationDate": None}) as pdf,
    ):
        overview, _ = plot_cluster_map(layers, lang=language, figsize=figsize)
        _check_glyphs(overview, f"{out} page 1")
        pdf.savefig(overview)
        for cid in elements.index[elements["kind"] == CLUSTER_KIND]:
            page = _cluster_page(
                layers, str(cid), cluster_stats, language, figsize, labels=figure_labels or {}
            )
            _check_glyphs(page, f"{out} page {cid}")
            pdf.savefig(page)
    logger.info("atlas: %s (%d pages)", out, 1 + len(layers.structure.cluster_ids))
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
