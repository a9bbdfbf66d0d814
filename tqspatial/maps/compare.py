"""A comparison page: one small map per scenario, clusters coloured by one indicator.

Every panel shares one colour scale, so a cluster that is darker in one panel really has more
of the indicator there; each cluster is labelled with its value.  The page is titled with the
district and the indicator and notes the CRS at its foot.

Examples
--------
>>> import pandas as pd
>>> from tqspatial.maps.layers import toy_layers
>>> values = pd.DataFrame({"plan": [10.0, 20.0], "dense": [10.0, 35.0]}, index=["west", "east"])
>>> fig = plot_scenario_comparison(toy_layers(), values, label=("净供给", "Net supply", "ha"))
>>> len(fig.axes), fig.axes[0].get_title()
(3, 'plan')
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tqspatial.maps.cluster import resolve_lang
from tqspatial.maps.fonts import font_rc
from tqspatial.maps.furniture import add_credit, halo
from tqspatial.maps.layers import as_layers
from tqspatial.maps.style import bilingual
from tqspatial.maps.thematic import crs_note, map_title
from tqspatial.structure import CLUSTER_KIND

__all__ = ["plot_scenario_comparison"]


def plot_scenario_comparison(
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    values: pd.DataFrame,
    *,
    label: tuple[str, str, str],
    titles: dict[str, str] | None = None,
    lang: str = "zh",
    cmap: str = "YlOrRd",
    title: str | None = None,
) -> Figure:
    """Draw one panel per scenario (column of ``values``) with clusters coloured by value.

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        The plan (and boundary) to draw.
    values : pandas.DataFrame
        Index cluster ids, one column per scenario.
    label : tuple of (str, str, str)
        Chinese and English name of the indicator and its unit.
    titles : dict of str to str, optional
        Panel titles per scenario (default: the column names).
    lang : {"zh", "en", "both"}, default "zh"
        Label language.
    cmap : str, default "YlOrRd"
        Matplotlib colour map of the shared scale.
    title : str, optional
        Page title; default the district's name (from the layers' profile) and the
        indicator, e.g. 天桥区净供给：情景比较.  ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        The page: the panels and a colour bar.
    """
    layers = as_layers(data)
    language = resolve_lang(lang)
    elements = layers.structure.elements
    clusters = elements[elements["kind"] == CLUSTER_KIND]
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    norm = mpl.colors.Normalize(vmin=vmin, vmax=vmax)
    colours = mpl.colormaps[cmap]
    n = len(values.columns)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    with mpl.rc_context(font_rc()):
        fig = Figure(figsize=(4.2 * ncols, 4.0 * nrows + 0.8))
        for k, scenario in enumerate(values.columns):
            ax = fig.add_subplot(nrows, ncols, k + 1)
            ax.set_axis_off()
            ax.set_aspect("equal")
            if layers.boundary is not None:
                layers.boundary.plot(ax=ax, facecolor="#F4F4F4", edgecolor="#555555", lw=0.6)
            for cid, row in clusters.iterrows():
                value = values[scenario].get(cid, np.nan)
                face = colours(norm(value)) if np.isfinite(value) else "#DDDDDD"
                gpd.GeoSeries([row.geometry], crs=elements.crs).plot(
                    ax=ax, facecolor=face, edgecolor="#333333", lw=0.5
                )
                point = row.geometry.representative_point()
                text = "–" if not np.isfinite(value) else f"{value:,.0f}"
                ax.text(point.x, point.y, text, ha="center", va="center", fontsize=7,
                        path_effects=halo(2.0))  # fmt: skip
            ax.set_title((titles or {}).get(str(scenario), str(scenario)), fontsize=10)
        bar = fig.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=colours),
            ax=fig.axes,
            orientation="horizontal",
            fraction=0.04,
            pad=0.04,
        )
        zh, en, unit = label
        bar.set_label(bilingual(f"{zh}（{unit}）", f"{en} ({unit})", language, sep=" / "))
        if title is None:
            title = map_title(
                (f"{zh}：情景比较", f"{en} by scenario"), layers.district_name, language
            )
        if title:
            fig.suptitle(title, fontsize=12)
        add_credit(fig, crs_note(elements.crs, language))
    return fig
