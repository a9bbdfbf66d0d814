"""Show the maps in Jupyter: figures display as PNG images, without pyplot (plumbing).

The plotting functions build :class:`matplotlib.figure.Figure` objects outside
pyplot, so a batch job never accumulates figures in pyplot's registry (each
figure is freed once the caller drops it) and no window or backend is
involved.  IPython shows such a figure as ``<Figure size 1100x850 with 1
Axes>`` unless a formatter is registered for it; pyplot's inline backend
registers one only when pyplot is used.  :func:`show_figures_in_ipython`
registers a PNG formatter for figures in a running IPython shell (and does
nothing anywhere else), so a cell ending in ``fig`` (or ``display(fig)``)
shows the map.
"""

from __future__ import annotations

import io
import sys

import matplotlib as mpl
from matplotlib.figure import Figure

from tqspatial.maps.fonts import font_rc

__all__ = ["figure_png", "show_figures_in_ipython"]


def figure_png(fig: Figure) -> bytes:
    """Render a figure as PNG at its own resolution, cropped to its artists.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    bytes
        PNG data.

    Examples
    --------
    >>> figure_png(Figure(figsize=(1, 1)))[1:4]
    b'PNG'
    """
    buffer = io.BytesIO()
    with mpl.rc_context(font_rc()):
        fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def show_figures_in_ipython() -> bool:
    """In a running IPython shell, display matplotlib figures as PNG images.

    Nothing happens outside IPython, or when the shell already has a PNG
    formatter for figures (``%matplotlib inline`` registers its own).

    Returns
    -------
    bool
        True if the formatter was registered now.

    Examples
    --------
    >>> show_figures_in_ipython()  # not in IPython here
    False
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        formatter.lookup_by_type(Figure)
    except KeyError:
        formatter.for_type(Figure, figure_png)
        return True
    return False
