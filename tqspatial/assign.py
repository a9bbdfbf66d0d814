"""Assign parcels to the elements of a plan structure by area share.

Every parcel gets a primary cluster (or ``"unassigned"``), its share of area
in that cluster, its share in and membership of every other element (axis,
belt, node ...) and, when the district is known, its share inside the
district.  A long table keeps every parcel-element overlap so nothing is
hidden by the primary-cluster choice.

Areas come from the exact overlay kernel shared with the constraints
(:mod:`tqspatial.overlay`): results are the same as intersecting every pair.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from tqspatial.errors import CRSError
from tqspatial.overlay import overlap_pairs
from tqspatial.quality import note
from tqspatial.structure import CLUSTER_KIND, BoundaryLike, PlanStructure, district_geometry

__all__ = [
    "MIN_CLUSTER_SHARE",
    "MIN_ELEMENT_SHARE",
    "OVERLAP_COLUMNS",
    "UNASSIGNED",
    "assign_parcels",
    "overlap_table",
    "summarise_clusters",
]

logger = logging.getLogger(__name__)

#: ``cluster_id`` of parcels in no cluster (未纳入组团).
UNASSIGNED = "unassigned"

#: A parcel belongs to its largest cluster only if at least this share of its area lies in it.
#: Half means "most of the parcel": a parcel mostly outside every cluster stays unassigned.
MIN_CLUSTER_SHARE = 0.5

#: A parcel is ``on_<element_id>`` (on the axis, in a belt ...) when at least this share of its
#: area lies in that element; the exact share is in ``share_<element_id>``.
MIN_ELEMENT_SHARE = 0.5

#: Columns of the long overlap table.
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
    p, z, overlap = overlap_pairs(pgeoms, zones.to_numpy())
    return pd.DataFrame(
        {
            "parcel_id": parcels[id_column].to_numpy()[p],
            "element_id": zones.index.to_numpy()[z],
            "overlap_m2": overlap,
            "share": overlap / shapely.area(pgeoms[p]),
        }
    )


def _in_structure_crs(parcels: gpd.GeoDataFrame, structure: PlanStructure) -> gpd.GeoDataFrame:
    """Return ``parcels`` in the structure's CRS, reprojecting (with a note) when needed."""
    if parcels.crs is None:
        msg = (
            "parcels have no CRS; expected one to match the plan structure's "
            f"({structure.crs.to_string()}). Declare it, e.g. parcels.set_crs('EPSG:4548'), "
            "or read the layer with tqspatial.io.read_parcels"
        )
        raise CRSError(msg)
    if pyproj.CRS.from_user_input(parcels.crs) == structure.crs:
        return parcels.copy(deep=False)  # only whole columns are added: the input stays as it was
    message = (
        f"parcels reprojected from {parcels.crs.to_string()} to the plan structure's CRS "
        f"{structure.crs.to_string()} for assignment"
    )
    logger.info(message)
    note(layer="parcels", stage="assign", kind="reprojected", message=message, count=len(parcels))
    return parcels.to_crs(structure.crs)


def _column_sum(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows, weights=values, minlength=n)[:n].astype(float)


def assign_parcels(
    parcels: gpd.GeoDataFrame,
    structure: PlanStructure,
    *,
    id_column: str = "parcel_id",
    min_cluster_share: float = MIN_CLUSTER_SHARE,
    min_element_share: float = MIN_ELEMENT_SHARE,
    boundary: BoundaryLike | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give each parcel its primary cluster and its shares in every other element.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Validated parcels (see :func:`tqspatial.validate.validate_parcels`).  A
        layer in another CRS than the structure's is reprojected to it (and the
        quality log says so); a layer without a CRS raises.
    structure : PlanStructure
        Axes, belts, clusters ... (any number of each, including none).
    id_column : str, default "parcel_id"
        Parcel identifier column, used in the overlap table.
    min_cluster_share : float, default 0.5
        A parcel's largest cluster becomes its ``cluster_id`` only if at least
        this share of the parcel's area lies in it; otherwise the parcel is
        ``"unassigned"`` (see :data:`MIN_CLUSTER_SHARE`).  Ties between
        clusters go to the one listed first in the structure.
    min_element_share : float, default 0.5
        Least share for ``on_<element_id>`` to be true
        (see :data:`MIN_ELEMENT_SHARE`).
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district; defaults to ``structure.district``.  When either is
        known, ``district_share`` is added.

    Returns
    -------
    assigned : geopandas.GeoDataFrame
        The same rows, in the same order, in the structure's CRS, plus
        ``cluster_id`` (text), ``cluster_share`` (share of area in
        ``cluster_id``; for unassigned parcels the largest cluster share,
        possibly 0), ``unassigned_share`` (1 minus the sum of all cluster
        shares), per non-cluster element ``share_<element_id>`` (float) and
        ``on_<element_id>`` (bool), and ``district_share`` (share of the
        parcel's area inside the district) when the district is known.
    overlaps : pandas.DataFrame
        Long table with :data:`OVERLAP_COLUMNS`: ``parcel_id``,
        ``element_id``, ``kind``, ``overlap_m2`` and ``share`` (of the
        parcel's area) for every parcel-element pair sharing area, ordered by
        parcel row then element order.

    Raises
    ------
    CRSError
        If ``parcels`` has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> from tqspatial.structure import PlanStructure
    >>> s = PlanStructure.from_records([
    ...     {"element_id": "c", "kind": "cluster", "name_zh": "组团", "name_en": "C",
    ...      "geometry": box(0, 0, 150, 100)},
    ...     {"element_id": "b", "kind": "belt", "name_zh": "带", "name_en": "B",
    ...      "geometry": LineString([(0, 50), (200, 50)]), "width_m": 40}], crs="EPSG:4548")
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["p1", "p2"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> out, overlaps = assign_parcels(parcels, s)
    >>> out["cluster_id"].tolist(), out["cluster_share"].round(2).tolist()
    (['c', 'c'], [1.0, 0.5])
    >>> out["share_b"].round(2).tolist(), out["on_b"].tolist(), len(overlaps)
    ([0.4, 0.4], [False, False], 4)
    """
    out = _in_structure_crs(parcels, structure)
    elements = structure.elements
    n = len(out)
    pgeoms = out.geometry.to_numpy()
    district = structure.district if boundary is None else district_geometry(boundary, out.crs)
    zones = list(elements.geometry.to_numpy())
    # The district is screened and intersected in the same pass, as one more zone.
    zones += [] if district is None else [district]
    p, z, overlap = overlap_pairs(pgeoms, np.array(zones, dtype=object))
    area = shapely.area(pgeoms)
    in_district = z == len(elements)
    dp, dover = p[in_district], overlap[in_district]
    p, z, overlap = p[~in_district], z[~in_district], overlap[~in_district]
    share = overlap / area[p] if len(p) else np.empty(0, dtype=float)
    kinds = elements["kind"].to_numpy(dtype=object)
    # text columns taken from the few labels by position, not converted row by row
    labels = pd.array(elements.index.to_numpy(dtype=object), dtype="str")
    overlaps = pd.DataFrame(
        {
            "parcel_id": out[id_column].to_numpy()[p] if len(p) else out[id_column].iloc[:0],
            "element_id": labels.take(z),
            "kind": pd.array(kinds, dtype="str").take(z),
            "overlap_m2": overlap,
            "share": share,
        }
    )

    cluster_pos = np.flatnonzero(kinds == CLUSTER_KIND)
    is_cluster = np.isin(z, cluster_pos)
    cp, cz, cs = p[is_cluster], z[is_cluster], share[is_cluster]
    # Largest share per parcel; among equal shares the cluster listed first wins.
    order = np.lexsort((cz, -cs, cp))
    first = order[np.r_[True, cp[order][1:] != cp[order][:-1]]] if len(order) else order
    best_share = np.zeros(n)
    best_share[cp[first]] = cs[first]
    cluster = np.full(n, len(elements), dtype=np.intp)  # position in labels + [UNASSIGNED]
    cluster[cp[first]] = cz[first]
    cluster[best_share < min_cluster_share] = len(elements)
    out["cluster_id"] = pd.array(
        np.append(elements.index.to_numpy(dtype=object), UNASSIGNED), dtype="str"
    ).take(cluster)
    out["cluster_share"] = best_share
    out["unassigned_share"] = np.clip(1.0 - _column_sum(cp, cs, n), 0.0, 1.0)

    for pos in np.flatnonzero(kinds != CLUSTER_KIND):
        element_id = str(elements.index[pos])
        mine = z == pos
        values = _column_sum(p[mine], share[mine], n)
        out[f"share_{element_id}"] = values
        out[f"on_{element_id}"] = values >= min_element_share

    if district is not None:
        out["district_share"] = _column_sum(dp, dover / area[dp], n)
    logger.info(
        "assigned %d parcels (%d overlaps): %s",
        n,
        len(overlaps),
        out["cluster_id"].value_counts().to_dict(),
    )
    return out, overlaps


def summarise_clusters(
    assigned: gpd.GeoDataFrame,
    structure: PlanStructure,
    *,
    area_column: str = "area_m2",
    class_column: str | None = None,
    boundary: BoundaryLike | None = None,
) -> pd.DataFrame:
    """Summarise assigned parcels per cluster (plus one ``unassigned`` row).

    Parameters
    ----------
    assigned : geopandas.GeoDataFrame
        Output of :func:`assign_parcels`.
    structure : PlanStructure
        The structure the parcels were assigned to.
    area_column : str, default "area_m2"
        Parcel area in m²; when the column is absent the area is taken from
        the geometry (the structure's CRS is in metres).
    class_column : str, optional
        A land-use class column (e.g. ``landuse_category``) to break land
        area down by; missing values count as class ``missing``.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The district; defaults to ``structure.district``.

    Returns
    -------
    pandas.DataFrame
        One row per cluster in structure order, then ``unassigned``, with
        ``cluster_id``, ``name_zh``, ``name_en``, ``parcel_count``,
        ``land_area_ha`` (whole parcels by primary cluster),
        ``share_of_land`` (of all parcel land), ``cluster_area_ha`` (the
        cluster polygon's area, inside the district when it is known; for
        ``unassigned`` the district's area outside every cluster, NaN when
        the district is not known), ``share_of_district``
        (``cluster_area_ha`` / district area, NaN when not known), per
        non-cluster element ``<element_id>_ha`` (the part of the row's
        parcels' area lying in that element, e.g. on the axis or in a belt)
        and, with ``class_column``, one ``class_<value>_ha`` column per class
        in sorted order.  Counts and every area column sum over the rows to
        the totals of ``assigned``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> s = PlanStructure.from_frame(gpd.GeoDataFrame(
    ...     {"element_id": ["c"], "kind": ["cluster"], "name_zh": ["组团"], "name_en": ["C"]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4548"))
    >>> parcels = gpd.GeoDataFrame(
    ...     {"parcel_id": ["p1", "p2"], "area_m2": [1e4, 1e4], "use": ["farm", None]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> out, _ = assign_parcels(parcels, s)
    >>> table = summarise_clusters(out, s, class_column="use")
    >>> table[["cluster_id", "parcel_count", "land_area_ha", "class_farm_ha"]].values.tolist()
    [['c', 1, 1.0, 1.0], ['unassigned', 1, 1.0, 0.0]]
    """
    order = [*structure.cluster_ids, UNASSIGNED]
    if area_column in assigned.columns:
        area_m2 = assigned[area_column].to_numpy(dtype=float)
    else:
        area_m2 = shapely.area(assigned.geometry.to_numpy())
    # rows are grouped by the position of their cluster id (a group-by on integers, summing
    # each group's rows in the same order as one on the text would)
    cluster_code, cluster_names = pd.factorize(assigned["cluster_id"].astype(str))
    frame = pd.DataFrame({"cluster": cluster_code, "area_ha": area_m2 / 1e4})
    value_columns = ["area_ha"]
    for element_id in structure.corridor_ids:
        frame[f"{element_id}_ha"] = assigned[f"share_{element_id}"].to_numpy() * frame["area_ha"]
        value_columns.append(f"{element_id}_ha")
    class_columns: list[str] = []
    if class_column is not None:
        # class labels: the value as text, "missing" for missing values; one column per label
        class_code, class_values = pd.factorize(assigned[class_column])
        texts = [str(v) for v in class_values]
        labels = sorted(set(texts) | ({"missing"} if (class_code < 0).any() else set()))
        position = {label: k for k, label in enumerate(labels)}
        row_label = np.array([position[t] for t in texts] + [position.get("missing", -1)])[
            class_code
        ]
        for k, value in enumerate(labels):
            column = f"class_{value}_ha"
            frame[column] = np.where(row_label == k, frame["area_ha"], 0.0)
            class_columns.append(column)
    grouped = frame[frame["cluster"] >= 0].groupby("cluster", sort=False)
    cluster_index = pd.Index(np.asarray(cluster_names, dtype=object))
    sums = grouped[[*value_columns, *class_columns]].sum()
    sums.index = cluster_index[sums.index]
    sums = sums.reindex(order, fill_value=0.0)
    sizes = grouped.size()
    sizes.index = cluster_index[sizes.index]
    table = pd.DataFrame(index=pd.Index(order, name="cluster_id"))
    table["parcel_count"] = sizes.reindex(order, fill_value=0).astype(int)
    table["land_area_ha"] = sums["area_ha"]
    total = float(table["land_area_ha"].sum())
    table["share_of_land"] = table["land_area_ha"] / total if total > 0 else 0.0
    table["cluster_area_ha"], table["share_of_district"] = _cluster_areas(
        structure, order, boundary
    )
    for column in [*value_columns[1:], *class_columns]:
        table[column] = sums[column]
    names = structure.elements[["name_zh", "name_en"]].astype(object).reindex(order)
    names.loc[UNASSIGNED] = ["未纳入组团", "Not in a cluster"]
    names.index.name = "cluster_id"
    result: pd.DataFrame = names.join(table).reset_index()
    return result


def _cluster_areas(
    structure: PlanStructure, order: list[str], boundary: BoundaryLike | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return cluster areas (ha, inside the district) and their shares of the district."""
    district = (
        structure.district if boundary is None else district_geometry(boundary, structure.crs)
    )
    clusters = structure.elements.geometry.reindex(order[:-1]).to_numpy()
    if district is None:
        area = np.append(shapely.area(clusters), np.nan) / 1e4
        return area, np.full(len(order), np.nan)
    inside = shapely.area(shapely.intersection(clusters, district)) / 1e4
    district_ha = float(shapely.area(district)) / 1e4
    area = np.append(inside, district_ha - inside.sum())
    return area, area / district_ha
