"""Reading and writing data files, one module per role.

=========================  ==============================================================
module                     role
=========================  ==============================================================
:mod:`~.checks`            vector files checked before GDAL opens them; ``.dbf`` encoding
:mod:`~.vectors`           vector readers: any layer, districts, parcels, facilities,
                           plan structures
:mod:`~.points`            points from CSV coordinate columns
:mod:`~.rasters`           GeoTIFF rasters, read and written
:mod:`~.writers`           GeoPackage, GeoParquet, GeoJSON, CSV, JSON, text, XLSX
:mod:`~.inventory`         published inventories read back; change reports written
=========================  ==============================================================

Every reader returns data in the working CRS (``get_settings().working_crs``,
EPSG:4548 by default, via :func:`tqspatial.crs.resolve_crs`) and turns
low-level failures (GDAL, XML, zip) into a
:class:`~tqspatial.errors.DataFileError` that names the file and the problem.
This package reads and writes the data layers and tables; other modules touch
files for their own formats: :mod:`tqspatial.network` (OSM XML/GraphML and its
compiled cache), :mod:`tqspatial.publish` (output folders), :mod:`tqspatial.maps`
(images and web pages), :mod:`tqspatial.profile`/:mod:`tqspatial.config` (TOML)
and :mod:`tqspatial.postgis` (a database).

Supported formats: GeoPackage, Shapefile (also zipped), GeoJSON, GeoParquet
(vectors); GeoTIFF (rasters); CSV with coordinate columns (points).

Examples
--------
>>> from tqspatial import datasets, io
>>> io.read_parcels(datasets.raw_path("parcels.gpkg")).crs.to_epsg()
4548
"""

from __future__ import annotations

from tqspatial.io.checks import DBF_SNIFF_BYTES, VECTOR_SUFFIXES, VectorSource, check_vector_file
from tqspatial.io.inventory import CHANGE_FILES, INVENTORY_FILES, read_inventory, write_changes
from tqspatial.io.points import COORDINATE_COLUMNS, read_points_csv
from tqspatial.io.rasters import Raster, read_raster, write_raster
from tqspatial.io.vectors import (
    RING_CLOSED,
    mark_rings_closed,
    read_districts,
    read_facilities,
    read_parcels,
    read_structure,
    read_vector,
    recode_text,
    wkb_to_geometries,
)
from tqspatial.io.writers import (
    GPKG_TIMESTAMP,
    Sheet,
    write_csv,
    write_geojson,
    write_geoparquet,
    write_json,
    write_layers,
    write_structure,
    write_text,
    write_xlsx,
    zh_sheet,
)

__all__ = [
    "CHANGE_FILES",
    "COORDINATE_COLUMNS",
    "DBF_SNIFF_BYTES",
    "GPKG_TIMESTAMP",
    "INVENTORY_FILES",
    "RING_CLOSED",
    "VECTOR_SUFFIXES",
    "Raster",
    "Sheet",
    "VectorSource",
    "check_vector_file",
    "mark_rings_closed",
    "read_districts",
    "read_facilities",
    "read_inventory",
    "read_parcels",
    "read_points_csv",
    "read_raster",
    "read_structure",
    "read_vector",
    "recode_text",
    "wkb_to_geometries",
    "write_changes",
    "write_csv",
    "write_geojson",
    "write_geoparquet",
    "write_json",
    "write_layers",
    "write_raster",
    "write_structure",
    "write_text",
    "write_xlsx",
    "zh_sheet",
]
