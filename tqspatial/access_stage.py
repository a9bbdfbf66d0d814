"""The accessibility stage of a refresh: per-parcel measures, cluster summaries, linkage.

Pure functions on compiled networks (:mod:`tqspatial.network`) and frames;
the batch job loads the networks and writes the tables.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from tqspatial import accessibility as acc
from tqspatial.network import CompiledNetwork
from tqspatial.structure import PlanStructure

__all__ = ["ISOCHRONE_MINUTES", "AccessResult", "cluster_access"]

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
        Per cluster, measure and ``weighted_by`` (``residents``: the parcels'
        existing residents as read, never the supply step's projected
        newcomers; or parcel ``area`` for clusters with few residents, e.g.
        industrial ones): mean,
        median, 85th percentile, parcel counts.
    linkage : pandas.DataFrame
        Drive minutes between cluster cores, to the linkage anchors (a
        district profile's ``[linkage] anchors``) and to each named bridge.
    isochrones : geopandas.GeoDataFrame
        Walking isochrones around each cluster core.
    """

    parcels: pd.DataFrame
    clusters: pd.DataFrame
    linkage: pd.DataFrame
    isochrones: gpd.GeoDataFrame


def cluster_access(
    walk: CompiledNetwork,
    drive: CompiledNetwork,
    parcels: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    structure: PlanStructure,
    anchors: gpd.GeoDataFrame | None = None,
    linkage_anchors: Sequence[str] = (),
    bridges: bool | Sequence[str] = True,
    barriers: gpd.GeoDataFrame | None = None,
    max_snap_m: float = acc.DEFAULT_MAX_SNAP_M,
    catchment_min: float = 15.0,
    snap: acc.SnapTo = "node",
    engine: acc.Engine = acc.DEFAULT_ENGINE,
    opportunities: Sequence[str] = (),
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
    anchors : geopandas.GeoDataFrame, optional
        Named places with ``anchor_id``; needed when ``linkage_anchors`` is not empty.
    linkage_anchors : sequence of str, default ()
        Anchor ids the linkage table measures drive times to.
    bridges : bool or sequence of str, default True
        Also measure drive times to every bridge of the network, or to the
        bridges of these names.
    barriers : geopandas.GeoDataFrame, optional
        Features connectors may not cross (a profile's ``[snapping] barriers``).
    max_snap_m : float, default 500.0
        Parcels farther from a road are reported, with NaN measures.
    catchment_min : float, default 15.0
        Walking catchment for cumulative counts, 2SFCA and opportunities (minutes).
    snap : {"node", "edge"}, default "node"
        Attach parcels and facilities to the nearest node or edge.
    engine : {"hierarchy", "dijkstra"}, default DEFAULT_ENGINE
        Shortest-path engine; both give the same results (to 1e-9 s).
    opportunities : sequence of str, default ()
        Parcel columns (e.g. ``"jobs"``) summed over the parcels reachable on
        foot within ``catchment_min`` (``opp<T>_<column>`` per parcel; per
        cluster the residents- and area-weighted summaries like every measure).

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
        snap=snap,
        engine=engine,
        opportunities=opportunities,
    )
    measures = [c for c in table.columns if c.endswith(("_min", "_covered")) or c.startswith("opp")]
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
    if anchors is None:
        anchors = gpd.GeoDataFrame({"anchor_id": []}, geometry=[], crs=parcels.crs)
    linkage = acc.linkage_table(
        drive,
        cores,
        anchors,
        anchor_ids=linkage_anchors,
        include_bridges=bridges,
        barriers=barriers,
        engine=engine,
    )
    core_points = gpd.GeoSeries(cores.geometry.representative_point(), crs=cores.crs)
    snapped = acc.snap_points(core_points, walk, barriers=barriers, max_snap_m=2000.0)
    iso = acc.isochrones(walk, snapped, ISOCHRONE_MINUTES)
    logger.info(
        "accessibility: %d parcels measured, %d not snapped",
        int(table["snap_reason"].isna().sum()),
        int(table["snap_reason"].notna().sum()),
    )
    return AccessResult(parcels=table, clusters=clusters, linkage=linkage, isochrones=iso)
