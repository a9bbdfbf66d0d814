"""Assign parcels to the elements of a plan structure by area share.

Every parcel gets a primary cluster (or ``"unassigned"``), its share of area
in that cluster, and its share in every corridor element (axis, belt ...).
A long table keeps every parcel-element overlap so nothing is hidden by the
primary-cluster choice.

The computation uses the fact that most parcels lie wholly inside one
element: an STR-tree finds candidate pairs, a prepared ``contains_properly``
test settles the interior ones at once, and exact polygon intersection is
computed only for parcels that cross an element's edge.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.structure import CLUSTER_KIND, PlanStructure

__all__ = ["MIN_CLUSTER_SHARE", "UNASSIGNED", "assign_parcels", "overlap_table"]

logger = logging.getLogger(__name__)

#: ``cluster_id`` of parcels in no cluster (未纳入组团).
UNASSIGNED = "unassigned"

#: A parcel belongs to its largest cluster only if at least this share of its area lies in it.
#: Half means "most of the parcel": a parcel mostly outside every cluster stays unassigned.
MIN_CLUSTER_SHARE = 0.5

OVERLAP_COLUMNS = ["parcel_id", "element_id", "kind", "overlap_m2", "share"]


def overlap_table(
    parcels: gpd.GeoDataFrame,
    zones: gpd.GeoSeries,
    *,
    id_column: str = "parcel_id",
) -> pd.DataFrame:
    """Return every (parcel, zone) pair that shares area, with the area.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS.
    zones : geopandas.GeoSeries
        Polygons indexed by zone id, in the same CRS.
    id_column : str, default "parcel_id"
        Parcel identifier column.

    Returns
    -------
    pandas.DataFrame
        Columns ``parcel_id``, ``element_id``, ``overlap_m2`` and ``share``
        (overlap / parcel area), one row per pair with positive overlap,
        ordered by parcel row then zone order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["p"]}, geometry=[box(0, 0, 100, 100)],
    ...                            crs="EPSG:4548")
    >>> zones = gpd.GeoSeries([box(0, 0, 25, 100), box(25, 0, 60, 100)], index=["a", "b"],
    ...                       crs="EPSG:4548")
    >>> overlap_table(parcels, zones)["share"].round(2).tolist()
    [0.25, 0.35]
    """
    pgeoms = parcels.geometry.to_numpy()
    zgeoms = zones.to_numpy()
    shapely.prepare(zgeoms)
    tree = shapely.STRtree(pgeoms)
    zone_idx, parcel_idx = tree.query(zgeoms, predicate="intersects")
    parcel_area = shapely.area(pgeoms)
    overlap = np.empty(len(zone_idx), dtype=float)
    inside = shapely.contains_properly(zgeoms[zone_idx], pgeoms[parcel_idx])
    overlap[inside] = parcel_area[parcel_idx[inside]]
    edge = ~inside
    overlap[edge] = shapely.area(
        shapely.intersection(pgeoms[parcel_idx[edge]], zgeoms[zone_idx[edge]])
    )
    logger.debug(
        "overlap_table: %d candidate pairs, %d interior, %d on an edge",
        len(zone_idx),
        int(inside.sum()),
        int(edge.sum()),
    )
    keep = overlap > 0
    order = np.lexsort((zone_idx[keep], parcel_idx[keep]))
    p = parcel_idx[keep][order]
    return pd.DataFrame(
        {
            "parcel_id": parcels[id_column].to_numpy()[p],
            "element_id": zones.index.to_numpy()[zone_idx[keep][order]],
            "overlap_m2": overlap[keep][order],
            "share": overlap[keep][order] / parcel_area[p],
        }
    )


def assign_parcels(
    parcels: gpd.GeoDataFrame,
    structure: PlanStructure,
    *,
    id_column: str = "parcel_id",
    min_cluster_share: float = MIN_CLUSTER_SHARE,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give each parcel its primary cluster and its shares in every corridor.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Validated parcels (see :func:`tqspatial.schema.validate_parcels`) in
        the structure's CRS.
    structure : PlanStructure
        Axes, belts, clusters ...
    id_column : str, default "parcel_id"
        Parcel identifier column (unique).
    min_cluster_share : float, default 0.5
        A parcel's largest cluster becomes its ``cluster_id`` only if at least
        this share of the parcel's area lies in it; otherwise the parcel is
        ``"unassigned"``.

    Returns
    -------
    assigned : geopandas.GeoDataFrame
        The same rows, in the same order, plus ``cluster_id``,
        ``cluster_share`` (share of area in ``cluster_id``; for unassigned
        parcels the largest cluster share, possibly 0), ``unassigned_share``
        (1 minus the sum of all cluster shares) and one ``share_<element_id>``
        column per non-cluster element.
    overlaps : pandas.DataFrame
        Long table: ``parcel_id``, ``element_id``, ``kind``, ``overlap_m2``,
        ``share`` for every parcel-element pair sharing area.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from tqspatial.structure import PlanStructure
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[box(0, 0, 150, 100)], crs="EPSG:4548"))
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["p1", "p2"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> out, _ = assign_parcels(parcels, s)
    >>> out["cluster_id"].tolist(), out["cluster_share"].round(2).tolist()
    (['c', 'c'], [1.0, 0.5])
    """
    elements = structure.elements
    overlaps = overlap_table(parcels, elements.geometry, id_column=id_column)
    overlaps.insert(2, "kind", elements["kind"].reindex(overlaps["element_id"]).to_numpy())
    out = parcels.copy()
    ids = out[id_column]

    clusters = overlaps[overlaps["kind"] == CLUSTER_KIND]
    wide = clusters.pivot_table(
        index="parcel_id", columns="element_id", values="share", aggfunc="sum", fill_value=0.0
    ).reindex(index=ids.to_numpy(), columns=structure.cluster_ids, fill_value=0.0)
    shares = wide.to_numpy()
    if shares.shape[1]:
        best = shares.argmax(axis=1)
        best_share = shares[np.arange(len(shares)), best]
        cluster = np.asarray(structure.cluster_ids, dtype=object)[best]
    else:
        best_share = np.zeros(len(out))
        cluster = np.full(len(out), UNASSIGNED, dtype=object)
    cluster = np.where(best_share >= min_cluster_share, cluster, UNASSIGNED)
    out["cluster_id"] = pd.array(cluster, dtype="string")
    out["cluster_share"] = best_share
    out["unassigned_share"] = np.clip(1.0 - shares.sum(axis=1), 0.0, 1.0)

    corridors = overlaps[overlaps["kind"] != CLUSTER_KIND]
    cwide = corridors.pivot_table(
        index="parcel_id", columns="element_id", values="share", aggfunc="sum", fill_value=0.0
    ).reindex(index=ids.to_numpy(), columns=structure.corridor_ids, fill_value=0.0)
    for element_id in structure.corridor_ids:
        out[f"share_{element_id}"] = cwide[element_id].to_numpy()
    logger.info(
        "assigned %d parcels: %s",
        len(out),
        out["cluster_id"].value_counts().to_dict(),
    )
    return out, overlaps.reset_index(drop=True)


def summarise_clusters(
    assigned: gpd.GeoDataFrame,
    structure: PlanStructure,
    *,
    area_column: str = "area_m2",
) -> pd.DataFrame:
    """Summarise assigned parcels per cluster (plus one ``unassigned`` row).

    Parameters
    ----------
    assigned : geopandas.GeoDataFrame
        Output of :func:`assign_parcels` with an area column.
    structure : PlanStructure
        The structure the parcels were assigned to.
    area_column : str, default "area_m2"
        Parcel area in m².

    Returns
    -------
    pandas.DataFrame
        One row per cluster in structure order, then ``unassigned``:
        ``cluster_id``, ``name_zh``, ``name_en``, ``parcel_count``,
        ``land_area_ha`` (whole parcels by primary cluster),
        ``share_of_land`` and, per corridor element, ``<element_id>_ha``: the
        part of those parcels' area lying in the corridor.  Counts and areas
        sum to the totals of ``assigned``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4548"))
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["p1", "p2"], "area_m2": [1e4, 1e4]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> out, _ = assign_parcels(parcels, s)
    >>> summarise_clusters(out, s)[["cluster_id", "parcel_count", "land_area_ha"]].values.tolist()
    [['c', 1, 1.0], ['unassigned', 1, 1.0]]
    """
    order = [*structure.cluster_ids, UNASSIGNED]
    frame = pd.DataFrame(
        {
            "cluster_id": assigned["cluster_id"].astype(str).to_numpy(),
            "area_m2": assigned[area_column].to_numpy(dtype=float),
        }
    )
    for element_id in structure.corridor_ids:
        frame[f"{element_id}_ha"] = (
            assigned[f"share_{element_id}"].to_numpy() * frame["area_m2"] / 1e4
        )
    grouped = frame.groupby("cluster_id", sort=False)
    table = pd.DataFrame(
        {
            "parcel_count": grouped.size(),
            "land_area_ha": grouped["area_m2"].sum() / 1e4,
        }
    )
    for element_id in structure.corridor_ids:
        table[f"{element_id}_ha"] = grouped[f"{element_id}_ha"].sum()
    table = table.reindex(order).fillna(0.0)
    table["parcel_count"] = table["parcel_count"].astype(int)
    total = table["land_area_ha"].sum()
    table.insert(2, "share_of_land", table["land_area_ha"] / total if total > 0 else 0.0)
    names = structure.elements[["name_zh", "name_en"]].reindex(order)
    names.loc[UNASSIGNED] = ["未纳入组团", "Not in a cluster"]
    table = names.join(table)
    table.index.name = "cluster_id"
    result: pd.DataFrame = table.reset_index()
    return result
