"""The rejects table: every row a validation step drops, with a reason.

A rejects table has one row per dropped input feature and the columns in
:data:`REJECT_COLUMNS`; the original attributes are kept after them, so a
planner can find and fix the feature in the source file.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["REJECT_COLUMNS", "empty_rejects", "make_rejects"]

#: Columns that lead every rejects table.
REJECT_COLUMNS = ["layer", "source_row", "reason", "detail"]


def make_rejects(
    rows: gpd.GeoDataFrame,
    *,
    layer: str,
    reason: str | pd.Series,
    detail: str | pd.Series = "",
) -> gpd.GeoDataFrame:
    """Label ``rows`` as rejected with a reason.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        The rejected rows, with their original attributes and geometry.  The
        index is taken as the row number in the source (``source_row``).
    layer : str
        Name of the input layer, e.g. ``"parcels"``.
    reason : str or pandas.Series
        Short machine-readable reason (e.g. ``"empty_geometry"``), one for all
        rows or one per row.
    detail : str or pandas.Series, default ""
        Human-readable detail.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rows`` with :data:`REJECT_COLUMNS` in front.

    Examples
    --------
    >>> import geopandas as gpd
    >>> rows = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[None], crs="EPSG:4548")
    >>> make_rejects(rows, layer="parcels", reason="null_geometry").columns.tolist()
    ['layer', 'source_row', 'reason', 'detail', 'parcel_id', 'geometry']
    """
    out = rows.copy()
    front = pd.DataFrame(
        {"layer": layer, "source_row": rows.index, "reason": reason, "detail": detail},
        index=rows.index,
    )
    for position, column in enumerate(REJECT_COLUMNS):
        out.insert(position, column, front[column])
    return out


def empty_rejects(template: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a rejects table with no rows but the columns of ``template``.

    Parameters
    ----------
    template : geopandas.GeoDataFrame
        Layer whose columns the rejects table carries.

    Returns
    -------
    geopandas.GeoDataFrame
        Zero rows.

    Examples
    --------
    >>> import geopandas as gpd
    >>> len(empty_rejects(gpd.GeoDataFrame(geometry=[], crs="EPSG:4548")))
    0
    """
    return make_rejects(template.iloc[0:0], layer="", reason="")
