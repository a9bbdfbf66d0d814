"""Maps of the plan structure and the analysis results: static (matplotlib) and web (folium).

Importing this package registers a CJK font with matplotlib (see
:mod:`tqspatial.maps.fonts`) so Chinese labels render; every plotting
function takes ``ax=None`` and returns ``(fig, ax)`` and never shows a window.

Examples
--------
>>> from tqspatial import maps
>>> maps.cjk_font().family
'Noto Sans CJK SC'
"""

from __future__ import annotations

from tqspatial.maps.cluster import plot_cluster_map
from tqspatial.maps.fonts import (
    CJKFont,
    FontWarning,
    cjk_font,
    figure_missing_glyphs,
    register_cjk_font,
)
from tqspatial.maps.layers import MapLayers, as_layers

__all__ = [
    "CJKFont",
    "FontWarning",
    "MapLayers",
    "as_layers",
    "cjk_font",
    "figure_missing_glyphs",
    "plot_cluster_map",
]

CJK_FONT = register_cjk_font()
