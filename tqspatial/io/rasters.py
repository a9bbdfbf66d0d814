"""Single-band GeoTIFF rasters: read in the working CRS (never resampled), written tiled."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj

from tqspatial.errors import DataFileError
from tqspatial.io.checks import _check_exists
from tqspatial.io.writers import _prepare_target
from tqspatial.settings import get_settings

if TYPE_CHECKING:
    from affine import Affine

__all__ = [
    "Raster",
    "read_raster",
    "write_raster",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Raster:
    """A single-band raster in memory.

    Attributes
    ----------
    values : numpy.ma.MaskedArray
        Cell values, nodata masked, shape (rows, cols).
    transform : affine.Affine
        Cell-to-CRS transform.
    crs : pyproj.CRS
        Coordinate reference system.
    tags : dict
        GeoTIFF metadata tags (e.g. ``synthetic``, ``units``).
    """

    values: np.ma.MaskedArray[Any, Any]
    transform: Affine
    crs: pyproj.CRS
    tags: dict[str, str]

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in CRS units squared.

        Returns
        -------
        float
            ``|a * e|`` of the transform (m² in the working CRS).
        """
        return float(abs(self.transform.a * self.transform.e))


def read_raster(path: str | os.PathLike[str]) -> Raster:
    """Read band 1 of a GeoTIFF in the working CRS.

    Parameters
    ----------
    path : str or os.PathLike
        GeoTIFF file.

    Returns
    -------
    Raster
        Values (nodata masked), transform, CRS and tags.

    Raises
    ------
    DataFileError
        If the file cannot be read, or is not in the working CRS (rasters are
        not resampled silently; warp it with ``gdalwarp -t_srs EPSG:4548``).

    Examples
    --------
    >>> from tqspatial import datasets
    >>> r = read_raster(datasets.raw_path("flood_depth.tif"))
    >>> r.crs.to_epsg(), r.tags["synthetic"]
    (4548, 'true')
    """
    import rasterio  # noqa: PLC0415 - heavy import only when a raster is read

    path = Path(path)
    _check_exists(path, "raster")
    try:
        with rasterio.open(path) as src:
            values = src.read(1, masked=True)
            transform, crs, tags = src.transform, src.crs, src.tags()
    except rasterio.errors.RasterioIOError as exc:
        msg = f"raster: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    working = pyproj.CRS.from_user_input(get_settings().working_crs)
    if crs is None or pyproj.CRS.from_user_input(crs.to_wkt()) != working:
        msg = (
            f"raster: {path} is in {crs}, expected {working.to_string()}; "
            f"warp it first (gdalwarp -t_srs {working.to_string()})"
        )
        raise DataFileError(msg)
    return Raster(values=values, transform=transform, crs=working, tags=dict(tags))


def write_raster(
    path: str | os.PathLike[str],
    values: np.ndarray[Any, Any],
    *,
    transform: Affine,
    crs: str,
    nodata: float,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write a single-band, deflate-compressed, tiled GeoTIFF.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.tif``.
    values : numpy.ndarray
        2-D array (rows, cols).
    transform : affine.Affine
        Cell-to-CRS transform.
    crs : str
        CRS of the transform.
    nodata : float
        Value marking cells with no data.
    tags : mapping, optional
        Metadata tags stored in the file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import rasterio  # noqa: PLC0415

    path = Path(path)
    _prepare_target(path)
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        if tags:
            dst.update_tags(**tags)
    return path
