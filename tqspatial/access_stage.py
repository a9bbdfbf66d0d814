"""The accessibility stage of a refresh: per-parcel measures, cluster summaries, linkage.

Pure functions on compiled networks (:mod:`tqspatial.network`) and frames;
the batch job loads the networks and writes the tables.
"""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import pandas as pd

from tqspatial import accessibility as acc
from tqspatial.network import CompiledNetwork
from tqspatial.structure import PlanStructure

__all__ = ["ISOCHRONE_MINUTES", "AccessResult", "cluster_access", "river_barriers"]

logger = logging.getLogger(__name__)

#: Walking isochrones drawn around each cluster core (minutes; GB 50180-2018 life circles).
ISOCHRONE_MINUTES = (5.0, 10.0, 15.0)


@dataclasses.dataclass(frozen=True)
class AccessResult:
    """Accessibility outputs of one refresh.

    Attributes
    ----------
    parcels : pandas.DataFrame
        Per-parcel measures (same index as the parcels), see
        :func:`tqspatial.accessibility.parcel_access_table`.
    clusters : pandas.DataFrame
        Per cluster, measure and ``weighted_by`` (``residents``, or parcel
        ``area`` for clusters with few residents, e.g. industrial ones): mean,
        median, 85th percentile, parcel counts.
    linkage : pandas.DataFrame
        Drive minutes between cluster cores, to the district centre, the
        railway station and each Yellow River crossing.
    isochrones : geopandas.GeoDataFrame
        Walking isochrones around each cluster core.
    """

    parcels: pd.DataFrame
    clusters: pd.DataFrame
    linkage: pd.DataFrame
    isochrones: gpd.GeoDataFrame


def river_barriers(water: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the water features that snapping may not cross (river channels).

    Parameters
    ----------
    water : geopandas.GeoDataFrame
        Water layer; when it has a ``feature`` column only ``channel`` rows
        are barriers (a floodplain is land), otherwise every feature is.

    Returns
    -------
    geopandas.GeoDataFrame
        The barrier polygons.

    Examples
    --------
    >>> import tqspatial as tq
    >>> sorted(river_barriers(tq.datasets.tianqiao().water)["feature"].unique())
    ['channel']
    """
    if "feature" in water.columns:
        return water[water["feature"] == "channel"]
    return water


def cluster_access(
    walk: CompiledNetwork,
    drive: CompiledNetwork,
    parcels: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    structure: PlanStructure,
    anchors: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    max_snap_m: float = acc.DEFAULT_MAX_SNAP_M,
    catchment_min: float = 15.0,
) -> AccessResult:
    """Compute every accessibility output of the refresh.

    Parameters
    ----------
    walk, drive : CompiledNetwork
        Walking and driving networks.
    parcels : geopandas.GeoDataFrame
        Assigned parcels (``parcel_id``, ``cluster_id``, ``residents``).
    facilities : geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``capacity`` points.
    structure : PlanStructure
        For cluster cores.
    anchors : geopandas.GeoDataFrame
        Named places with ``anchor_id`` (``district_gov``, ``jinan_station``).
    barriers : geopandas.GeoDataFrame, optional
        Features connectors may not cross (:func:`river_barriers`).
    max_snap_m : float, default 500.0
        Parcels farther from a road are reported, with NaN measures.
    catchment_min : float, default 15.0
        Walking catchment for cumulative counts and 2SFCA (minutes).

    Returns
    -------
    AccessResult
        Per-parcel table, cluster summary, linkage matrix and isochrones.
    """
    table = acc.parcel_access_table(
        walk,
        drive,
        parcels,
        facilities,
        barriers=barriers,
        max_snap_m=max_snap_m,
        catchment_min=catchment_min,
    )
    measures = [c for c in table.columns if c.endswith(("_min", "_covered"))]
    residents = pd.to_numeric(parcels["residents"], errors="coerce").fillna(0.0).astype(float)
    weights = {"residents": residents, "area": parcels.geometry.area.astype(float)}
    clusters = pd.concat(
        [
            acc.summarise_by_cluster(
                table, measures, cluster=parcels["cluster_id"], weight=weight
            ).assign(weighted_by=name)
            for name, weight in weights.items()
        ],
        ignore_index=True,
    )
    cores = structure.elements.loc[structure.cluster_ids, ["geometry"]]
    linkage = acc.linkage_table(drive, cores, anchors, barriers=barriers)
    core_points = gpd.GeoSeries(cores.geometry.representative_point(), crs=cores.crs)
    snapped = acc.snap_points(core_points, walk, barriers=barriers, max_snap_m=2000.0)
    iso = acc.isochrones(walk, snapped, ISOCHRONE_MINUTES)
    logger.info(
        "accessibility: %d parcels measured, %d not snapped",
        int(table["snap_reason"].isna().sum()),
        int(table["snap_reason"].notna().sum()),
    )
    return AccessResult(parcels=table, clusters=clusters, linkage=linkage, isochrones=iso)
