"""Coordinate reference systems: the working CRS and reprojection into it.

Areas and distances are computed in the working CRS, EPSG:4548 (CGCS2000
3-degree Gauss-Krueger, central meridian 117E, metres).  Not EPSG:4527 (the
same zone with ``39`` prefixed to eastings) and not EPSG:4547 (central
meridian 114E, a common mix-up that moves Tianqiao data about 270 km).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pyproj

from tqspatial.errors import CRSError

__all__ = ["WORKING_CRS", "to_working_crs"]

logger = logging.getLogger(__name__)

#: CGCS2000 / 3-degree Gauss-Krueger CM 117E.
WORKING_CRS = "EPSG:4548"


def to_working_crs(
    frame: gpd.GeoDataFrame,
    *,
    working_crs: str = WORKING_CRS,
    source: str = "layer",
) -> gpd.GeoDataFrame:
    """Return ``frame`` in the working CRS, reprojecting when needed.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any layer with a declared CRS.
    working_crs : str, default "EPSG:4548"
        Target CRS.
    source : str, default "layer"
        Name used in messages (usually the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows, in ``working_crs``.

    Raises
    ------
    CRSError
        If ``frame`` has no CRS.  Inferring a missing CRS is done by the
        readers in :mod:`tqspatial.io`, which can report why they chose one.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pt = gpd.GeoDataFrame(geometry=[Point(117.0, 36.7)], crs="EPSG:4326")
    >>> out = to_working_crs(pt)
    >>> out.crs.to_epsg(), round(out.geometry.x.iloc[0])
    (4548, 500000)
    """
    if frame.crs is None:
        msg = (
            f"{source} has no coordinate reference system; expected a declared CRS such as "
            f"{working_crs}. Pass crs=... to the reader (e.g. crs='EPSG:4548' for CGCS2000 "
            "3-degree zone 39 without the zone prefix)."
        )
        raise CRSError(msg)
    target = pyproj.CRS.from_user_input(working_crs)
    if pyproj.CRS.from_user_input(frame.crs) == target:
        return frame
    logger.info("%s: reprojecting from %s to %s", source, frame.crs.to_string(), working_crs)
    return frame.to_crs(target)
