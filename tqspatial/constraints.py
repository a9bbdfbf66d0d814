"""Constraints that remove land from renewal supply, with exact areas per parcel.

A *constraint* is land on which nothing new may be built: a flood-control
band, a river setback, an ecological or heritage zone, an infrastructure
corridor, or raster cells above a hazard threshold.  Every constraint is
turned into polygons first, so vector and raster constraints are handled the
same way and the areas are exact:

* a :class:`VectorConstraint` is the union of its geometries, optionally
  buffered by ``buffer_m`` metres;
* a :class:`RasterConstraint` is the union of the raster cells whose value
  is above a threshold, polygonised with :func:`rasterio.features.shapes`
  (cell edges are kept exactly, so the parcel-cell intersection areas are the
  exact polygon ∩ cell areas, not centroid samples).

:func:`constrained_areas` then intersects every parcel with each constraint
and with the **union** of all constraints: where constraints overlap, a
square metre is removed once.  Net developable area is parcel area minus the
area of that union inside the parcel.

Areas come from the exact overlay kernel shared with assignment
(:mod:`tqspatial.overlay`).

Which layers are constraints, and by what rule, is a district's policy: it lives in the
district profile (``[[constraints]]``, see :mod:`tqspatial.profile`), and
:func:`tqspatial.district.build_constraints` turns it into these objects.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from tqspatial.errors import ConfigError, CRSError, SchemaError
from tqspatial.overlay import overlap_area

__all__ = [
    "Constraint",
    "RasterConstraint",
    "VectorConstraint",
    "constrained_areas",
    "constraint_polygons",
    "summarise_constraints",
]

logger = logging.getLogger(__name__)

#: Segments per quarter circle of round buffers (the default of ``GeoSeries.buffer``).
BUFFER_QUAD_SEGS = 16


class RasterLike(Protocol):
    """Anything with masked ``values`` and an affine ``transform`` (e.g. ``io.Raster``)."""

    @property
    def values(self) -> np.ma.MaskedArray[Any, Any]:
        """Cell values, nodata masked."""

    @property
    def transform(self) -> Affine:
        """Cell-to-CRS transform."""


@dataclasses.dataclass(frozen=True)
class VectorConstraint:
    """Land inside (buffered) vector geometries.

    Attributes
    ----------
    name : str
        Short snake_case name, used in column names (``constrained_<name>_m2``).
    geometry : geopandas.GeoSeries
        Polygons or lines in the parcels' CRS (metres).
    buffer_m : float, default 0.0
        Distance added around every geometry (lines need a positive buffer).
    source : str, default ""
        Where the layer and the buffer come from (shown in reports).
    """

    name: str
    geometry: gpd.GeoSeries
    buffer_m: float = 0.0
    source: str = ""


@dataclasses.dataclass(frozen=True)
class RasterConstraint:
    """Raster cells whose value is above a threshold.

    Attributes
    ----------
    name : str
        Short snake_case name, used in column names.
    values : numpy.ma.MaskedArray
        Cell values; masked (nodata) cells are never constrained.
    transform : affine.Affine
        Cell-to-CRS transform (north-up or not; cells are polygonised exactly).
    threshold : float
        Cells with value ``> threshold`` (or ``>=`` when ``inclusive``) are constrained.
    inclusive : bool, default False
        Use ``>=`` instead of ``>``.
    source : str, default ""
        Where the raster and the threshold come from.
    """

    name: str
    values: np.ma.MaskedArray[Any, Any]
    transform: Affine
    threshold: float
    inclusive: bool = False
    source: str = ""

    @classmethod
    def from_raster(
        cls,
        raster: RasterLike,
        *,
        name: str,
        threshold: float,
        inclusive: bool = False,
        source: str = "",
    ) -> RasterConstraint:
        """Build a constraint from a raster read with :func:`tqspatial.io.read_raster`.

        Parameters
        ----------
        raster : RasterLike
            Object with ``values`` (masked array) and ``transform``.
        name : str
            Constraint name.
        threshold : float
            Value above which a cell is constrained.
        inclusive : bool, default False
            Use ``>=``.
        source : str, default ""
            Provenance text.

        Returns
        -------
        RasterConstraint
            The constraint.

        Examples
        --------
        >>> from tqspatial import datasets, io
        >>> r = io.read_raster(datasets.raw_path("flood_depth.tif"))
        >>> RasterConstraint.from_raster(r, name="flood", threshold=0.5).threshold
        0.5
        """
        return cls(
            name=name,
            values=raster.values,
            transform=raster.transform,
            threshold=threshold,
            inclusive=inclusive,
            source=source,
        )

    def cell_mask(self) -> np.ndarray:
        """Return the boolean array of constrained cells (nodata cells are False).

        Returns
        -------
        numpy.ndarray
            Bool, same shape as ``values``.

        Examples
        --------
        >>> import numpy as np
        >>> from affine import Affine
        >>> c = RasterConstraint("x", np.ma.masked_array([[0.2, 0.9]], mask=[[False, True]]),
        ...                      Affine.identity(), threshold=0.1)
        >>> c.cell_mask().tolist()
        [[True, False]]
        """
        data = np.ma.getdata(self.values).astype(float)
        valid = ~np.ma.getmaskarray(self.values) & np.isfinite(data)
        above = data >= self.threshold if self.inclusive else data > self.threshold
        return np.asarray(above & valid, dtype=bool)


Constraint = VectorConstraint | RasterConstraint


def constraint_polygons(constraint: Constraint) -> shapely.Geometry:
    """Return a constraint as one (multi)polygon in the parcels' CRS.

    Parameters
    ----------
    constraint : VectorConstraint or RasterConstraint
        The constraint.

    Returns
    -------
    shapely.Geometry
        Union of the buffered vector geometries, or of the raster cells above
        the threshold (exact cell edges).  May be empty.

    Raises
    ------
    ConfigError
        If a vector constraint has lines or points but no positive buffer
        (they would remove no area).

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> values = np.ma.masked_array([[0.0, 1.0], [1.0, 1.0]])
    >>> c = RasterConstraint("flood", values, Affine(10, 0, 0, 0, -10, 20), threshold=0.5)
    >>> constraint_polygons(c).area
    300.0
    """
    if isinstance(constraint, RasterConstraint):
        from rasterio import features  # noqa: PLC0415 - heavy import only for raster constraints

        mask = constraint.cell_mask()
        if not mask.any():
            return shapely.Polygon()
        shapes = features.shapes(
            mask.astype(np.uint8), mask=mask, transform=constraint.transform, connectivity=4
        )
        polys = [shapely.geometry.shape(geom) for geom, _ in shapes]
        return shapely.union_all(polys)
    geoms = constraint.geometry.geometry.to_numpy() if len(constraint.geometry) else np.array([])
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    types = shapely.get_type_id(geoms)
    areal = np.isin(types, [3, 6])
    if (~areal).any() and not constraint.buffer_m > 0:
        msg = (
            f"constraint {constraint.name!r}: {int((~areal).sum())} line/point geometries but "
            f"buffer_m={constraint.buffer_m}; lines and points remove no area. "
            "Give a positive buffer_m (e.g. a setback in metres)."
        )
        raise ConfigError(msg)
    geoms = shapely.make_valid(geoms)
    if constraint.buffer_m > 0:
        geoms = shapely.buffer(geoms, constraint.buffer_m, quad_segs=BUFFER_QUAD_SEGS)
    elif constraint.buffer_m < 0:
        msg = f"constraint {constraint.name!r}: buffer_m={constraint.buffer_m}; expected >= 0"
        raise ConfigError(msg)
    return _polygonal(shapely.make_valid(shapely.union_all(geoms)))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts of a geometry (drops slivers of lower dimension)."""
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    return shapely.union_all(polys) if len(polys) else shapely.Polygon()


def constrained_areas(
    parcels: gpd.GeoDataFrame,
    constraints: list[Constraint] | tuple[Constraint, ...],
) -> pd.DataFrame:
    """Return, per parcel, the area under each constraint and under their union.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS in metres (the constraints' CRS).
    constraints : list of VectorConstraint or RasterConstraint
        Constraints with unique names.  An empty list gives zero constrained
        area everywhere.

    Returns
    -------
    pandas.DataFrame
        Same index as ``parcels``; columns ``constrained_<name>_m2`` per
        constraint (overlapping constraints each count their full area here),
        ``constrained_m2`` (area of the union of all constraints inside the
        parcel: no square metre counted twice), ``net_area_m2`` (parcel area
        minus ``constrained_m2``, never negative) and ``constrained_share``.

    Raises
    ------
    ConfigError
        If two constraints share a name.
    SchemaError
        If the parcels' CRS is geographic.
    CRSError
        If a vector constraint is in another CRS than the parcels.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> a = VectorConstraint("a", gpd.GeoSeries([box(0, 0, 50, 100)], crs="EPSG:4548"))
    >>> b = VectorConstraint("b", gpd.GeoSeries([box(25, 0, 75, 100)], crs="EPSG:4548"))
    >>> out = constrained_areas(parcels, [a, b])
    >>> cols = ["constrained_a_m2", "constrained_b_m2", "constrained_m2", "net_area_m2"]
    >>> out[cols].iloc[0].tolist()
    [5000.0, 5000.0, 7500.0, 2500.0]
    """
    names = [c.name for c in constraints]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        msg = f"constraint names must be unique; repeated: {dups}. Rename one of them."
        raise ConfigError(msg)
    if parcels.crs is not None and not parcels.crs.is_projected:
        msg = (
            f"constrained_areas: parcels CRS {parcels.crs.to_string()} is geographic; "
            "reproject to the working CRS first"
        )
        raise SchemaError(msg)
    wrong = [
        f"{c.name} ({c.geometry.crs.to_string()})"
        for c in constraints
        if isinstance(c, VectorConstraint)
        and c.geometry.crs is not None
        and parcels.crs is not None
        and c.geometry.crs != parcels.crs
    ]
    if wrong:
        msg = (
            f"constrained_areas: constraints {wrong} are not in the parcels' CRS "
            f"{parcels.crs.to_string()}; reproject them with .to_crs(parcels.crs) first"
        )
        raise CRSError(msg)
    geoms = parcels.geometry.to_numpy()
    area = shapely.area(geoms)
    out = pd.DataFrame(index=parcels.index)
    polys = []
    for constraint in constraints:
        poly = constraint_polygons(constraint)
        polys.append(poly)
        out[f"constrained_{constraint.name}_m2"] = overlap_area(geoms, poly)
        logger.info(
            "constraint %s: %.1f ha of constraint, %.1f ha inside parcels",
            constraint.name,
            shapely.area(poly) / 1e4,
            out[f"constrained_{constraint.name}_m2"].sum() / 1e4,
        )
    union = shapely.union_all(polys) if polys else shapely.Polygon()
    constrained = np.minimum(overlap_area(geoms, union), area)
    out["constrained_m2"] = constrained
    out["net_area_m2"] = np.maximum(area - constrained, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["constrained_share"] = np.where(area > 0, constrained / area, 0.0)
    return out


def summarise_constraints(
    frame: pd.DataFrame,
    *,
    by: str | None = None,
    rows: pd.Series | None = None,
) -> pd.DataFrame:
    """Total the per-parcel constraint areas, per constraint and for their union.

    Parameters
    ----------
    frame : pandas.DataFrame
        Parcels with the columns of :func:`constrained_areas`.
    by : str, optional
        Column to group by (e.g. ``"cluster_id"``); one total when None.
    rows : pandas.Series of bool, optional
        Restrict to these parcels (e.g. renewal candidates).

    Returns
    -------
    pandas.DataFrame
        Long table: ``constraint`` (each name, then ``"all (union)"``),
        ``area_ha`` (constrained parcel area) and the ``by`` column if given.
        Per-constraint areas may add up to more than the union where
        constraints overlap; the union is what supply removes.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"constrained_a_m2": [5e3], "constrained_b_m2": [5e3],
    ...                   "constrained_m2": [7.5e3]})
    >>> summarise_constraints(f)[["constraint", "area_ha"]].values.tolist()
    [['a', 0.5], ['b', 0.5], ['all (union)', 0.75]]
    """
    data = frame if rows is None else frame[rows.to_numpy(dtype=bool)]
    columns = [
        c
        for c in data.columns
        if c.startswith("constrained_") and c.endswith("_m2") and c != "constrained_m2"
    ]
    names = [c.removeprefix("constrained_").removesuffix("_m2") for c in columns]
    columns.append("constrained_m2")
    names.append("all (union)")
    if by is None:
        sums = data[columns].sum()
        return pd.DataFrame({"constraint": names, "area_ha": sums.to_numpy() / 1e4})
    grouped = data.groupby(by, sort=False)[columns].sum() / 1e4
    grouped.columns = pd.Index(names)
    long = grouped.reset_index().melt(id_vars=by, var_name="constraint", value_name="area_ha")
    return long[[by, "constraint", "area_ha"]]
