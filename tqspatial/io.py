"""Reading and writing data files: the only module that touches files.

Every reader returns data in the working CRS (EPSG:4548 unless changed in
:mod:`tqspatial.settings`) and turns low-level failures (GDAL, XML, zip)
into a :class:`~tqspatial.errors.DataFileError` that names the file.

Supported formats: GeoPackage, Shapefile, GeoJSON, GeoParquet (vectors);
GeoTIFF (rasters); OSM XML and GraphML (road networks); CSV with coordinate
columns (points).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from tqspatial.crs import to_working_crs
from tqspatial.errors import CRSError, DataFileError
from tqspatial.settings import get_settings
from tqspatial.structure import PlanStructure

if TYPE_CHECKING:
    import networkx as nx
    from affine import Affine

__all__ = [
    "Raster",
    "read_districts",
    "read_facilities",
    "read_parcels",
    "read_points_csv",
    "read_raster",
    "read_road_network",
    "read_structure",
    "read_vector",
    "write_csv",
    "write_geoparquet",
    "write_json",
    "write_layers",
    "write_osm_xml",
    "write_raster",
]

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".zip"}


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        msg = (
            f"{what} file not found: {path} (check the path, or the [inputs] section of the config)"
        )
        raise DataFileError(msg)
    if path.is_dir():
        msg = f"{what}: {path} is a folder; expected a file"
        raise DataFileError(msg)


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | None = None,
    what: str = "vector",
) -> gpd.GeoDataFrame:
    """Read a vector file into the working CRS.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile, GeoJSON or GeoParquet file.
    layer : str, optional
        Layer name in a multi-layer file (GeoPackage).
    crs : str, optional
        CRS to assume when the file declares none.  A CRS the file declares
        is never overridden.
    what : str, default "vector"
        What the file is, for messages ("parcels", "facilities" ...).

    Returns
    -------
    geopandas.GeoDataFrame
        All features, in the working CRS.

    Raises
    ------
    DataFileError
        If the file is missing or cannot be read; the message names the file.
    CRSError
        If the file declares no CRS and ``crs`` is not given.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> read_vector(datasets.raw_path("tianqiao_boundary.geojson")).crs.to_epsg()
    4548
    """
    path = Path(path)
    _check_exists(path, what)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        msg = (
            f"{what}: unsupported file type {suffix!r} for {path}; "
            f"expected one of {sorted(VECTOR_SUFFIXES)}"
        )
        raise DataFileError(msg)
    try:
        if suffix in {".parquet", ".geoparquet"}:
            frame = gpd.read_parquet(path)
        else:
            frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = f"{what}: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    except (OSError, ValueError) as exc:  # pyarrow and GDAL format errors
        msg = f"{what}: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    if frame.crs is None:
        if crs is None:
            msg = (
                f"{what}: {path} declares no coordinate reference system; pass crs=... "
                "(e.g. crs='EPSG:4548' for CGCS2000 3-degree Gauss-Krueger 117E)"
            )
            raise CRSError(msg)
        logger.warning("%s: %s declares no CRS; using %s as passed by the caller", what, path, crs)
        frame = frame.set_crs(crs)
    logger.info("%s: read %d features from %s", what, len(frame), path)
    return to_working_crs(frame, working_crs=get_settings().working_crs, source=str(path))


def read_districts(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read administrative district boundaries.

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of district polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        Districts in the working CRS.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> len(read_districts(datasets.raw_path("jinan_districts.geojson")))
    12
    """
    return read_vector(path, what="districts")


def read_parcels(
    path: str | os.PathLike[str], *, layer: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Read a land-parcel layer (no rows are dropped here; see ``validate_parcels``).

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of parcel polygons.
    layer : str, optional
        Layer name in a GeoPackage.
    crs : str, optional
        CRS to assume when the file declares none.

    Returns
    -------
    geopandas.GeoDataFrame
        Parcels in the working CRS, every feature of the file.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> len(read_parcels(datasets.raw_path("parcels.gpkg"))) >= 10_000
    True
    """
    return read_vector(path, layer=layer, crs=crs, what="parcels")


def read_facilities(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read facility points (schools, clinics, markets ...).

    Parameters
    ----------
    path : str or os.PathLike
        Vector file of points with ``kind`` and ``capacity`` columns.

    Returns
    -------
    geopandas.GeoDataFrame
        Facilities in the working CRS.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> "metro_station" in set(read_facilities(datasets.raw_path("facilities.gpkg"))["kind"])
    True
    """
    return read_vector(path, what="facilities")


def read_structure(path: str | os.PathLike[str], *, layer: str | None = None) -> PlanStructure:
    """Read and validate a plan structure (axes, belts, clusters ...).

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON or GeoPackage with ``element_id``, ``kind``, ``name_zh``,
        ``name_en`` and, for centre lines, ``width_m``.
    layer : str, optional
        Layer name in a GeoPackage.

    Returns
    -------
    PlanStructure
        The validated structure with corridor polygons built.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> s = read_structure(datasets.raw_path("plan_structure.geojson"))
    >>> len(s.cluster_ids)
    5
    """
    return PlanStructure.from_frame(read_vector(path, layer=layer, what="plan structure"))


def read_points_csv(
    path: str | os.PathLike[str],
    *,
    x: str = "lon",
    y: str = "lat",
    crs: str = "EPSG:4326",
    encoding: str = "utf-8",
) -> gpd.GeoDataFrame:
    """Read a CSV of points with coordinate columns.

    Parameters
    ----------
    path : str or os.PathLike
        CSV file.
    x, y : str, default "lon", "lat"
        Coordinate columns.
    crs : str, default "EPSG:4326"
        CRS of the coordinates.
    encoding : str, default "utf-8"
        Text encoding of the file.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the working CRS, all columns kept.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> anchors = read_points_csv(datasets.raw_path("tianqiao_anchors.csv"))
    >>> "jinan_station" in set(anchors["anchor_id"])
    True
    """
    path = Path(path)
    _check_exists(path, "points CSV")
    try:
        table = pd.read_csv(path, encoding=encoding)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        msg = f"points CSV: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    missing = [c for c in (x, y) if c not in table.columns]
    if missing:
        msg = (
            f"points CSV: {path} has no column(s) {missing}; columns are {list(table.columns)}. "
            "Pass x=... and y=..."
        )
        raise DataFileError(msg)
    frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table[x], table[y]), crs=crs)
    return to_working_crs(frame, working_crs=get_settings().working_crs, source=str(path))


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
        """Area of one cell in CRS units squared."""
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


def read_road_network(
    path: str | os.PathLike[str], *, mode: Literal["drive", "walk"] = "drive"
) -> nx.MultiDiGraph:
    """Build a road graph with osmnx from a local OSM XML or GraphML file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``/``.xml`` (read with ``osmnx.graph_from_xml``) or ``.graphml``.
    mode : {"drive", "walk"}, default "drive"
        ``walk`` ignores one-way restrictions (every edge in both directions).

    Returns
    -------
    networkx.MultiDiGraph
        Graph projected to the working CRS (node ``x``/``y`` in metres, edge
        ``length`` in metres).

    Examples
    --------
    >>> from tqspatial import datasets
    >>> g = read_road_network(datasets.raw_path("roads.osm"))
    >>> g.graph["crs"].to_epsg() == 4548 and g.number_of_nodes() > 1000
    True
    """
    import osmnx as ox  # noqa: PLC0415 - heavy import only when a network is read

    path = Path(path)
    _check_exists(path, "road network")
    suffix = path.suffix.lower()
    try:
        if suffix in {".osm", ".xml"}:
            graph = ox.graph_from_xml(path, bidirectional=(mode == "walk"), simplify=True)
        elif suffix == ".graphml":
            graph = ox.io.load_graphml(path)
        else:
            msg = (
                f"road network: unsupported file type {suffix!r} for {path}; "
                "expected .osm, .xml or .graphml"
            )
            raise DataFileError(msg)
    except (ET.ParseError, OSError, KeyError, ValueError) as exc:
        msg = f"road network: cannot read {path}: {exc}"
        raise DataFileError(msg) from exc
    projected = ox.project_graph(graph, to_crs=get_settings().working_crs)
    projected.graph["crs"] = pyproj.CRS.from_user_input(projected.graph["crs"])
    logger.info(
        "road network: %s (%s): %d nodes, %d edges",
        path,
        mode,
        projected.number_of_nodes(),
        projected.number_of_edges(),
    )
    return projected


# --------------------------------------------------------------------------- writers


def _prepare_target(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()


#: Timestamp GDAL writes into GeoPackage metadata: fixed, so that unchanged data gives
#: byte-identical files (the refresh manifest records when a run happened).
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"


def write_layers(path: str | os.PathLike[str], layers: Mapping[str, pd.DataFrame]) -> Path:
    """Write several layers into one new GeoPackage (an existing file is replaced).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.gpkg``.
    layers : mapping of str to DataFrame
        Layer name to (Geo)DataFrame; plain DataFrames become attribute tables.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_layers(Path(d) / "x.gpkg", {"pts": pts})
    ...     pyogrio.list_layers(out).tolist()
    [['pts', 'Point']]
    """
    path = Path(path)
    _prepare_target(path)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, frame in layers.items():
            table = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
            pyogrio.write_dataframe(table, path, layer=name, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def write_geojson(path: str | os.PathLike[str], frame: gpd.GeoDataFrame) -> Path:
    """Write a GeoJSON file (RFC 7946 readers assume lon/lat; the CRS is declared anyway).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    frame : geopandas.GeoDataFrame
        Layer to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options={"WRITE_NAME": "NO"})
    return path


def write_geoparquet(path: str | os.PathLike[str], frame: gpd.GeoDataFrame) -> Path:
    """Write a GeoParquet file.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.parquet``.
    frame : geopandas.GeoDataFrame
        Layer to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    frame.to_parquet(path, index=False)
    return path


def write_csv(path: str | os.PathLike[str], table: pd.DataFrame) -> Path:
    """Write a table as UTF-8 CSV with a byte-order mark (so Excel shows Chinese text).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.csv``.
    table : pandas.DataFrame
        Table to write; a geometry column is dropped.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    if isinstance(table, gpd.GeoDataFrame):
        table = pd.DataFrame(table.drop(columns=table.geometry.name))
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def write_json(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write a JSON document (UTF-8, sorted keys, Chinese text unescaped).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    payload : mapping
        JSON-serialisable content.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


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


def write_osm_xml(
    path: str | os.PathLike[str],
    *,
    nodes: pd.DataFrame,
    ways: Iterable[tuple[int, list[int], Mapping[str, str]]],
    generator: str,
) -> Path:
    """Write nodes and ways as an OSM XML (API 0.6) file.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.osm``.
    nodes : pandas.DataFrame
        Columns ``id``, ``lon``, ``lat`` (WGS84, as OSM requires).
    ways : iterable of (way id, node ids, tags)
        Each way as its id, its node references in order and its tags.
    generator : str
        Value of the ``generator`` attribute (say where the data came from).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    _prepare_target(path)
    root = ET.Element("osm", version="0.6", generator=generator)
    ET.SubElement(
        root,
        "bounds",
        minlat=f"{nodes['lat'].min():.7f}",
        minlon=f"{nodes['lon'].min():.7f}",
        maxlat=f"{nodes['lat'].max():.7f}",
        maxlon=f"{nodes['lon'].max():.7f}",
    )
    for node_id, lon, lat in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True):
        ET.SubElement(
            root, "node", id=str(int(node_id)), lat=f"{lat:.7f}", lon=f"{lon:.7f}", version="1"
        )
    for way_id, refs, tags in ways:
        way = ET.SubElement(root, "way", id=str(int(way_id)), version="1")
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(int(ref)))
        for key, value in tags.items():
            ET.SubElement(way, "tag", k=key, v=value)
    ET.indent(root, space=" ")
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path
