"""The accessibility stage of a refresh: per-parcel measures, cluster summaries, linkage.

Pure functions on compiled networks (:mod:`tqspatial.network`) and frames;
the batch job loads the networks and writes the tables.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from tqspatial import accessibility as acc
from tqspatial.network import CompiledNetwork
from tqspatial.structure import PlanStructure

__all__ = [
    "ISOCHRONE_MINUTES",
    "NEARBY_SEARCH_M",
    "AccessResult",
    "cluster_access",
    "cluster_measure",
]

logger = logging.getLogger(__name__)

#: Walking isochrones drawn around each cluster core (minutes; GB 50180-2018 life circles).
ISOCHRONE_MINUTES = (5.0, 10.0, 15.0)
#: Distances (m) around a cluster searched, nearest first, for parcels with a value when
#: none of the cluster's own parcels has one (:func:`cluster_measure`).
NEARBY_SEARCH_M = (250.0, 500.0, 1000.0, 2000.0, 5000.0)
#: Longest connector (m) from a cluster core (its representative point) to the walk network.
CORE_SNAP_M = 2000.0


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
        Walking isochrones around each cluster core (its representative point), nested
        5 ⊂ 10 ⊂ 15 minutes: the network walked in the time plus the walk from the core
        to the network, buffered by the walking access distance
        (:func:`tqspatial.accessibility.isochrones`).
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
    snapped = acc.snap_points(core_points, walk, barriers=barriers, max_snap_m=CORE_SNAP_M)
    # with the core points, the isochrones include the walk from the core to the network
    iso = acc.isochrones(walk, snapped.assign(geometry=core_points), ISOCHRONE_MINUTES)
    logger.info(
        "accessibility: %d parcels measured, %d not snapped",
        int(table["snap_reason"].isna().sum()),
        int(table["snap_reason"].notna().sum()),
    )
    return AccessResult(parcels=table, clusters=clusters, linkage=linkage, isochrones=iso)


def cluster_measure(
    parcels: gpd.GeoDataFrame,
    measure: str,
    *,
    structure: PlanStructure,
    residents: str = "residents",
    nearby_m: Sequence[float] = NEARBY_SEARCH_M,
) -> pd.DataFrame:
    """Median of a per-parcel measure per cluster, with a stated fallback when it has none.

    The median is weighted by the residents of the cluster's parcels (as the refresh's
    cluster summary); a cluster whose parcels with a value have no residents (an industrial
    cluster) gets the median weighted by parcel area; a cluster none of whose parcels has a
    value (all off the network, or no parcel at all) gets the area-weighted median of the
    parcels with a value within the nearest of ``nearby_m`` of its polygon.  Only a district
    where no parcel has a value leaves NaN.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Assigned parcels with ``cluster_id``, ``residents`` and the measure (NaN: none).
    measure : str
        Measure column, e.g. ``walk_primary_school_min``.
    structure : PlanStructure
        The plan (cluster ids and polygons).
    residents : str, default "residents"
        Residents column (missing values count as 0).
    nearby_m : sequence of float, default NEARBY_SEARCH_M
        Search distances around a cluster without values, nearest first.

    Returns
    -------
    pandas.DataFrame
        Index the cluster ids: ``value`` (the median), ``basis`` (``residents``,
        ``area`` or ``nearby_area``; None without a value), ``within_m`` (the search
        distance of a ``nearby_area`` value, else NaN) and ``n`` (parcels used).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["a", "b", "c"], "kind": ["cluster"] * 3, "name_zh": ["甲", "乙", "丙"],
    ...      "name_en": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(400, 0, 500, 100)],
    ...     crs="EPSG:4548"))
    >>> p = gpd.GeoDataFrame(
    ...     {"cluster_id": ["a", "a", "b", "c"], "residents": [10, 30, 0, 5],
    ...      "t_min": [4.0, 8.0, 6.0, None]},
    ...     geometry=[box(0, 0, 50, 100), box(50, 0, 100, 100), box(100, 0, 200, 100),
    ...               box(400, 0, 500, 100)], crs="EPSG:4548")
    >>> cluster_measure(p, "t_min", structure=s)[["value", "basis", "within_m"]].values.tolist()
    [[8.0, 'residents', nan], [6.0, 'area', nan], [6.0, 'nearby_area', 250.0]]
    """
    ids = list(structure.cluster_ids)
    values = pd.to_numeric(parcels[measure], errors="coerce").astype(float)
    table = pd.DataFrame({measure: values}, index=parcels.index)
    weights = {
        "residents": pd.to_numeric(parcels[residents], errors="coerce").fillna(0.0).astype(float),
        "area": parcels.geometry.area.astype(float),
    }
    summaries = {
        basis: acc.summarise_by_cluster(
            table, [measure], cluster=parcels["cluster_id"].astype(str), weight=weight
        ).set_index("cluster_id")
        for basis, weight in weights.items()
    }
    medians = {basis: summary["median"].to_dict() for basis, summary in summaries.items()}
    counts = {basis: summary["n"].to_dict() for basis, summary in summaries.items()}
    has_value = values.notna().to_numpy()
    records: list[dict[str, Any]] = []
    for cid in ids:
        record: dict[str, Any] = {"value": math.nan, "basis": None, "within_m": math.nan, "n": 0}
        for basis, median in medians.items():
            value = float(median.get(cid, math.nan))
            if math.isfinite(value):
                record.update(value=value, basis=basis, n=int(counts[basis][cid]))
                break
        else:
            polygon = structure.elements.loc[cid].geometry
            for distance in nearby_m:
                near = has_value & parcels.geometry.dwithin(polygon, distance).to_numpy()
                if near.any():
                    nearby = acc.summarise_by_cluster(
                        table[near], [measure],
                        cluster=pd.Series(cid, index=table.index[near]),
                        weight=weights["area"][near],
                    ).to_dict("records")[0]  # fmt: skip
                    record.update(
                        value=float(nearby["median"]), basis="nearby_area",
                        within_m=float(distance), n=int(nearby["n"]),
                    )  # fmt: skip
                    break
        records.append(record)
    out = pd.DataFrame(records, index=pd.Index(ids))
    out["basis"] = out["basis"].astype(object)
    return out
