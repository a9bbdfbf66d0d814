"""Maps of the plan structure and the analysis results: static (matplotlib) and web (folium).

Importing this package registers a CJK font with matplotlib (see
:mod:`tqspatial.maps.fonts`) so Chinese labels render; every plotting
function takes ``ax=None`` and returns ``(fig, ax)`` and never shows a window.
Figures are made outside pyplot, so batch runs keep none of them alive; in
Jupyter (an IPython shell) importing this package registers a PNG display for
figures, so a cell ending in ``fig`` shows the map.

- :func:`plot_cluster_map`: the 一轴两带五组团 overview with legend, scale bar,
  north arrow, locator inset and a credit line saying which layers are
  real, indicative or synthetic.
- :mod:`~tqspatial.maps.thematic`: land use, renewal supply (by type and by phase),
  classified choropleths, accessibility with isochrones, life-circle coverage and which
  required facility is missing where; titled with the district, neighbours grey, source
  and CRS noted.
- :func:`render_maps`, :func:`write_atlas`, :func:`atlas_figures`, :func:`save_figure`:
  PNG (300 dpi), PDF, SVG and the multi-page PDF atlas (a legend on every page).
- :func:`make_webmap`, :func:`save_webmap`: a standalone offline HTML map.

Examples
--------
>>> from tqspatial import maps
>>> maps.cjk_font().family
'Noto Sans CJK SC'
"""

from __future__ import annotations

from tqspatial.maps._display import show_figures_in_ipython
from tqspatial.maps.atlas import (
    MissingGlyphError,
    atlas_figures,
    render_maps,
    save_figure,
    write_atlas,
)
from tqspatial.maps.cluster import plot_cluster_map
from tqspatial.maps.compare import plot_scenario_comparison
from tqspatial.maps.fonts import (
    CJKFont,
    FontWarning,
    cjk_font,
    figure_missing_glyphs,
    register_cjk_font,
)
from tqspatial.maps.layers import MapLayers, as_layers
from tqspatial.maps.thematic import (
    plot_accessibility,
    plot_categories,
    plot_choropleth,
    plot_coverage,
    plot_landuse,
    plot_life_circle,
    plot_renewal_supply,
)
from tqspatial.maps.webmap import make_webmap, save_webmap

__all__ = [
    "CJKFont",
    "FontWarning",
    "MapLayers",
    "MissingGlyphError",
    "as_layers",
    "atlas_figures",
    "cjk_font",
    "figure_missing_glyphs",
    "make_webmap",
    "plot_accessibility",
    "plot_categories",
    "plot_choropleth",
    "plot_cluster_map",
    "plot_coverage",
    "plot_landuse",
    "plot_life_circle",
    "plot_renewal_supply",
    "plot_scenario_comparison",
    "render_maps",
    "save_figure",
    "save_webmap",
    "write_atlas",
]

#: The CJK font registered at import (None, with a FontWarning, when there is none).
CJK_FONT = register_cjk_font()

# in Jupyter: figures display as PNG (nothing happens outside IPython)
show_figures_in_ipython()
