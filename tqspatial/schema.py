"""Validation of input layers: the only place rows are dropped.

Each ``validate_*`` function returns ``(kept, rejects)``.  Every input row
is in exactly one of the two; each rejected row carries a reason (see
:mod:`tqspatial.rejects`).  A layer that is broken as a whole (a required
column missing) raises :class:`~tqspatial.errors.SchemaError` instead.

The checks here are those every layer needs.  Repairs of invalid rings,
overlap resolution and dirty attribute values are separate steps that run
before these checks and report what they changed.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.errors import SchemaError
from tqspatial.rejects import empty_rejects, make_rejects

__all__ = ["PARCEL_COLUMNS", "validate_parcels"]

logger = logging.getLogger(__name__)

#: Canonical parcel attributes.  Only ``parcel_id`` and a geometry are required.
PARCEL_COLUMNS = {
    "parcel_id": "unique parcel identifier (text)",
    "landuse_code": "land-use code as found in the source (2023 用地用海分类 or GB 50137)",
    "build_year": "year the main buildings were completed (may be missing)",
    "far": "floor-area ratio (容积率), floor area / parcel area",
    "coverage": "building coverage (建筑密度), 0-1",
    "floor_area_m2": "gross floor area, m²",
    "is_idle": "vacant or idle land (闲置/低效), bool",
    "residents": "resident population",
    "jobs": "jobs on the parcel",
}

#: Parcels smaller than this (m²) are slivers, not land.
MIN_PARCEL_AREA_M2 = 1.0


def validate_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    id_column: str = "parcel_id",
    layer: str = "parcels",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split a parcel layer into usable parcels and rejects with reasons.

    A parcel is rejected, with the first reason that applies, when its
    geometry is missing (``null_geometry``) or empty (``empty_geometry``),
    not a polygon or multipolygon (``not_polygonal``), invalid
    (``invalid_geometry``), smaller than :data:`MIN_PARCEL_AREA_M2`
    (``sliver``), its id is missing (``missing_id``), or its id repeats an
    earlier parcel's id (``duplicate_id``; the first occurrence is kept, so no
    land is counted twice).

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS in metres (the working CRS).
    id_column : str, default "parcel_id"
        Column holding the parcel identifier.
    layer : str, default "parcels"
        Layer name written into the rejects table.

    Returns
    -------
    kept : geopandas.GeoDataFrame
        Usable parcels, same columns plus ``area_m2`` (from the geometry).
    rejects : geopandas.GeoDataFrame
        Rejected rows with ``layer``, ``source_row``, ``reason``, ``detail``
        and their original attributes.

    Raises
    ------
    SchemaError
        If ``id_column`` is missing or the CRS is geographic (areas would be
        in square degrees).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"parcel_id": ["a", "b", "a"]},
    ...     geometry=[box(0, 0, 100, 100), None, box(100, 0, 200, 100)],
    ...     crs="EPSG:4548",
    ... )
    >>> kept, rejects = validate_parcels(frame)
    >>> kept["parcel_id"].tolist(), rejects["reason"].tolist()
    (['a'], ['null_geometry', 'duplicate_id'])
    """
    if id_column not in parcels.columns:
        msg = (
            f"{layer}: no id column {id_column!r}; columns are {list(parcels.columns)}. "
            "Pass id_column=... naming the parcel identifier."
        )
        raise SchemaError(msg)
    if parcels.crs is not None and not parcels.crs.is_projected:
        msg = (
            f"{layer}: CRS {parcels.crs.to_string()} is geographic; expected a projected CRS in "
            "metres. Reproject with tqspatial.crs.to_working_crs first."
        )
        raise SchemaError(msg)

    geoms = parcels.geometry.array
    reason = pd.Series(pd.NA, index=parcels.index, dtype="string")

    def flag(mask: np.ndarray, why: str) -> None:
        reason[np.asarray(mask) & reason.isna().to_numpy()] = why

    missing = shapely.is_missing(geoms)
    flag(missing, "null_geometry")
    flag(shapely.is_empty(geoms) & ~missing, "empty_geometry")
    types = shapely.get_type_id(geoms)
    flag(~np.isin(types, [3, 6]) & ~missing, "not_polygonal")
    flag(~shapely.is_valid(geoms) & ~missing, "invalid_geometry")
    flag(shapely.area(geoms) < MIN_PARCEL_AREA_M2, "sliver")
    ids = parcels[id_column].astype("string").str.strip()
    flag((ids.isna() | (ids == "")).to_numpy(), "missing_id")
    # Only rows still usable compete for an id, so a broken first copy does not hide a good one.
    usable = reason.isna()
    dup = ids.where(usable).duplicated(keep="first") & usable & ids.notna()
    flag(dup.to_numpy(), "duplicate_id")

    bad = reason.notna().to_numpy()
    kept = parcels.loc[~bad].copy()
    kept["area_m2"] = shapely.area(kept.geometry.array)
    if bad.any():
        rejects = make_rejects(parcels.loc[bad], layer=layer, reason=reason[bad].astype(str))
        logger.info(
            "%s: kept %d of %d rows; rejected %s",
            layer,
            len(kept),
            len(parcels),
            rejects["reason"].value_counts().to_dict(),
        )
    else:
        rejects = empty_rejects(parcels)
        logger.info("%s: kept all %d rows", layer, len(kept))
    return kept, rejects
