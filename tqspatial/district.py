"""A district's profile applied to its layers: the arguments the parcel and access stages take.

Pure functions: the batch job reads the layers (:mod:`tqspatial.io`) and the profile
(:mod:`tqspatial.profile`) and passes them here.  Nothing in this module knows a district: the
constraint layers, the urban-area rule, the barriers, the linkage anchors, the capacity targets
and the facility-kind mapping all come from the profile.  A rule that cannot be applied (a layer
that is not listed, a filter that selects nothing, an anchor that is missing) raises one error
that lists every such problem and names the profile key to fix.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from tqspatial.profile import parse_profile
>>> water = gpd.GeoDataFrame({"kind": ["river", "lake"]},
...                          geometry=[box(0, 40, 100, 60), box(0, 0, 5, 5)], crs="EPSG:4548")
>>> profile = parse_profile({"layers": {"water": "w.gpkg"}, "constraints": [
...     {"name": "river", "layer": "water", "where": {"kind": "river"}, "buffer_m": 10}]})
>>> [c.name for c in build_constraints(profile, {"water": water})]
['river']
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.constraints import Constraint, RasterConstraint, RasterLike, VectorConstraint
from tqspatial.errors import SchemaError
from tqspatial.profile import DistrictProfile, RowFilter
from tqspatial.renewal import urban_area_from_river
from tqspatial.structure import PlanStructure
from tqspatial.supply import ANY, USES, Capacity, default_targets

__all__ = [
    "Layer",
    "UrbanArea",
    "build_barriers",
    "build_capacity",
    "build_constraints",
    "build_urban_area",
    "capacity_gaps",
    "layer_coverage",
    "standard_facility_kinds",
]

logger = logging.getLogger(__name__)

#: A read layer: a vector frame or a raster (``values`` + ``transform``).
Layer: TypeAlias = gpd.GeoDataFrame | RasterLike


@dataclasses.dataclass(frozen=True)
class UrbanArea:
    """The urban area of the 城中村 rule and how it was made.

    Attributes
    ----------
    geometry : shapely.Geometry or None
        The area (working CRS); None when the profile's rule is ``"none"``.
    description : str
        The rule in words, for the quality report.
    """

    geometry: shapely.Geometry | None
    description: str


def _problem_where(name: str, where: RowFilter) -> str:
    return f"layer {name!r} rows where {where.describe()}"


def _vector(
    layers: Mapping[str, Layer], name: str, where: RowFilter, key: str, problems: list[str]
) -> gpd.GeoDataFrame | None:
    """Return the selected rows of a vector layer, or None with a problem appended."""
    layer = layers.get(name)
    if layer is None:
        problems.append(f"{key}: layer {name!r} was not read (list it in the profile's [layers])")
        return None
    if not isinstance(layer, gpd.GeoDataFrame):
        problems.append(f"{key}: layer {name!r} is a raster; a vector layer is needed here")
        return None
    missing = where.missing_columns(layer)
    if missing:
        problems.append(
            f"{key}: layer {name!r} has no column(s) {missing} used by its where filter; "
            f"columns are {[c for c in layer.columns if c != layer.geometry.name]}"
        )
        return None
    selected = where.select(layer)
    if selected.empty:
        problems.append(
            f"{key}: {_problem_where(name, where)} select nothing; fix the filter or the layer"
        )
        return None
    return selected


def build_constraints(
    profile: DistrictProfile,
    layers: Mapping[str, Layer],
    *,
    enabled: Sequence[str] | None = None,
) -> list[Constraint]:
    """Build the profile's hard constraints from the read layers.

    Parameters
    ----------
    profile : DistrictProfile
        Its ``constraints`` (layer, row filter, buffer or raster threshold, source).
    layers : mapping of str to GeoDataFrame or raster
        Layers by profile name, in the working CRS.
    enabled : sequence of str, optional
        Only these constraint names (all when None).

    Returns
    -------
    list of VectorConstraint or RasterConstraint
        In profile order.

    Raises
    ------
    SchemaError
        Listing every constraint that cannot be built (layer not read, filter columns
        missing, nothing selected, raster without a threshold), with the profile key.

    Examples
    --------
    >>> from tqspatial.profile import parse_profile
    >>> build_constraints(parse_profile({"layers": {"w": "w.gpkg"}, "constraints": [
    ...     {"name": "r", "layer": "w", "where": {"kind": "river"}}]}), {})
    Traceback (most recent call last):
    ...
    tqspatial.errors.SchemaError: profile constraints cannot be built: [[constraints]] r: ...
    """
    problems: list[str] = []
    out: list[Constraint] = []
    for spec in profile.constraints:
        if enabled is not None and spec.name not in enabled:
            continue
        key = f"[[constraints]] {spec.name}"
        layer = layers.get(spec.layer)
        if layer is not None and not isinstance(layer, gpd.GeoDataFrame):
            if spec.threshold is None:
                problems.append(f"{key}: raster layer {spec.layer!r} needs threshold = ...")
                continue
            out.append(
                RasterConstraint.from_raster(
                    layer,
                    name=spec.name,
                    threshold=spec.threshold,
                    inclusive=spec.inclusive,
                    source=spec.source,
                )
            )
            continue
        selected = _vector(layers, spec.layer, spec.where, key, problems)
        if selected is not None:
            out.append(
                VectorConstraint(
                    spec.name, selected.geometry, buffer_m=spec.buffer_m, source=spec.source
                )
            )
    if problems:
        raise SchemaError("profile constraints cannot be built: " + "; ".join(problems))
    return out


def build_urban_area(
    profile: DistrictProfile,
    boundary: gpd.GeoDataFrame,
    layers: Mapping[str, Layer],
    anchors: gpd.GeoDataFrame | None,
) -> UrbanArea:
    """Apply the profile's urban-area rule.

    Parameters
    ----------
    profile : DistrictProfile
        Its ``urban_area`` rule.
    boundary : geopandas.GeoDataFrame
        The district.
    layers : mapping of str to GeoDataFrame or raster
        Layers by profile name.
    anchors : geopandas.GeoDataFrame, optional
        Anchors with ``anchor_id`` (rule ``side_of_barrier``).

    Returns
    -------
    UrbanArea
        The geometry (None for rule ``none``) and a description.

    Raises
    ------
    SchemaError
        If the layer, the selected rows or the reference anchor are missing, or no part of
        the district lies on the anchor's side; the message names the ``[urban_area]`` key.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> from tqspatial.profile import parse_profile
    >>> b = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> river = gpd.GeoDataFrame({"name": ["R"]}, geometry=[box(0, 40, 100, 60)], crs="EPSG:4548")
    >>> a = gpd.GeoDataFrame({"anchor_id": ["hall"]}, geometry=[Point(50, 10)], crs="EPSG:4548")
    >>> p = parse_profile({"layers": {"water": "w.gpkg", "anchors": "a.csv"}, "urban_area": {
    ...     "rule": "side_of_barrier", "layer": "water", "reference_anchor": "hall"}})
    >>> build_urban_area(p, b, {"water": river}, a).geometry.bounds
    (0.0, 0.0, 100.0, 40.0)
    """
    spec = profile.urban_area
    district = shapely.union_all(boundary.geometry.to_numpy())
    if spec.rule == "none":
        return UrbanArea(None, "no urban area defined (profile [urban_area] rule = 'none')")
    if spec.rule == "whole_district":
        return UrbanArea(district, spec.source or "the whole district is urban")
    problems: list[str] = []
    selected = _vector(layers, spec.layer, spec.where, "[urban_area]", problems)
    if spec.rule == "layer":
        if selected is None:
            raise SchemaError("profile urban area cannot be built: " + "; ".join(problems))
        polygons = shapely.intersection(district, shapely.union_all(selected.geometry.to_numpy()))
        return UrbanArea(polygons, spec.source or f"{_problem_where(spec.layer, spec.where)}")
    anchor = None
    if anchors is None or "anchor_id" not in anchors.columns:
        problems.append("[urban_area] reference_anchor needs an anchors layer with anchor_id")
    else:
        anchor = anchors[anchors["anchor_id"].astype(str) == spec.reference_anchor]
        if anchor.empty:
            problems.append(
                f"[urban_area] reference_anchor = {spec.reference_anchor!r} is not an anchor; "
                f"anchor ids are {sorted(anchors['anchor_id'].astype(str))}"
            )
    if problems or selected is None or anchor is None:
        raise SchemaError("profile urban area cannot be built: " + "; ".join(problems))
    area = urban_area_from_river(
        district,
        shapely.union_all(selected.geometry.to_numpy()),
        shapely.union_all(anchor.geometry.to_numpy()),
    )
    if shapely.is_empty(area):
        msg = (
            f"profile urban area is empty: no part of the district on the side of "
            f"{_problem_where(spec.layer, spec.where)} touches anchor "
            f"{spec.reference_anchor!r}; check [urban_area] or use rule = 'whole_district'"
        )
        raise SchemaError(msg)
    return UrbanArea(
        area,
        spec.source
        or f"the side of {_problem_where(spec.layer, spec.where)} holding {spec.reference_anchor}",
    )


def build_barriers(
    profile: DistrictProfile, layers: Mapping[str, Layer]
) -> gpd.GeoDataFrame | None:
    """Return the polygons snapping connectors may not cross (profile ``[snapping] barriers``).

    Parameters
    ----------
    profile : DistrictProfile
        Its ``barriers``.
    layers : mapping of str to GeoDataFrame or raster
        Layers by profile name.

    Returns
    -------
    geopandas.GeoDataFrame or None
        The selected rows of every barrier layer, or None when there are none.

    Raises
    ------
    SchemaError
        If a barrier layer was not read or its filter selects nothing.

    Examples
    --------
    >>> from tqspatial.profile import parse_profile
    >>> build_barriers(parse_profile({}), {}) is None
    True
    """
    problems: list[str] = []
    parts = [
        _vector(layers, layer, where, "[snapping] barriers", problems)
        for layer, where in profile.barriers
    ]
    if problems:
        raise SchemaError("profile barriers cannot be built: " + "; ".join(problems))
    frames = [p for p in parts if p is not None]
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def build_capacity(profile: DistrictProfile, structure: PlanStructure) -> Capacity:
    """Expand the profile's capacity targets to the structure's clusters.

    A profile row applies to clusters by ``element_id``, by ``lead_industry`` (clusters
    whose ``lead_industries`` list it; for a cluster listing several, the first industry
    with a row for the category wins) or by ``kind`` (``"*"``: every cluster and unassigned
    land).  Per cluster the most specific selector wins (element, then lead industry, in the
    cluster's order, then kind) and, within it, the category's own row before its ``"*"``
    row; the library's generic rows (:func:`tqspatial.supply.default_targets`) fill what
    the profile leaves open, unless the profile has its own ``kind = "*"``,
    ``landuse_category = "*"`` fallback (then only the profile's rows apply).

    Parameters
    ----------
    profile : DistrictProfile
        Its ``capacity`` rows.
    structure : PlanStructure
        The plan (cluster ids and ``lead_industries``).

    Returns
    -------
    Capacity
        Targets keyed by this structure's cluster ids, plus ``*`` fallbacks.

    Examples
    --------
    >>> from tqspatial.profile import parse_profile
    >>> s = PlanStructure.from_records([{"element_id": "c", "kind": "cluster", "name_zh": "组团",
    ...     "name_en": "C", "lead_industries": ["金融", "物流"],
    ...     "geometry": shapely.box(0, 0, 1, 1)}], crs="EPSG:4548")
    >>> p = parse_profile({"capacity": [{"lead_industry": "物流", "landuse_category": "*",
    ...                                  "target_far": 1.2, "shares": {"industry": 1.0}}]})
    >>> build_capacity(p, s).target_for("c", "residential")["target_far"]
    1.2
    """
    industries = _lead_industries(structure)
    unknown = sorted(
        {s.element_id for s in profile.capacity if s.element_id} - set(structure.cluster_ids)
    )
    if unknown:
        msg = (
            f"profile [[capacity]] element_id {unknown} are not clusters of the plan structure; "
            f"cluster ids are {structure.cluster_ids}"
        )
        raise SchemaError(msg)
    rows: list[dict[str, object]] = []

    def add(cluster: str, spec: Any) -> None:  # noqa: ANN401 - a TargetSpec
        rows.append(
            {
                "cluster_id": cluster,
                "landuse_category": spec.landuse_category,
                "target_far": spec.target_far,
                **{f"share_{u}": float(spec.shares.get(u, 0.0)) for u in USES},
            }
        )

    for cluster in structure.cluster_ids:
        # selector precedence first (element, then each lead industry in order), then the
        # category: a level's "*" row beats a less specific level's category rows
        levels = [[s for s in profile.capacity if s.element_id == cluster]] + [
            [s for s in profile.capacity if s.lead_industry and s.lead_industry == industry]
            for industry in industries.get(cluster, [])
        ]
        levels = [level for level in levels if level]
        categories = list(dict.fromkeys(s.landuse_category for lv in levels for s in lv))
        for category in categories:
            for level in levels:
                exact = [s for s in level if s.landuse_category == category]
                wild = [s for s in level if s.landuse_category == ANY]
                if exact or wild:
                    add(cluster, dataclasses.replace((exact or wild)[0], landuse_category=category))
                    break
    for spec in profile.capacity:
        if spec.kind:
            add(ANY if spec.kind in (ANY, "cluster") else spec.kind, spec)
    table = pd.DataFrame(rows, columns=default_targets().columns)
    own_fallback = ((table["cluster_id"] == ANY) & (table["landuse_category"] == ANY)).any()
    generic = default_targets().iloc[:0] if own_fallback else default_targets()
    merged = pd.concat([table, generic], ignore_index=True)
    merged = merged.drop_duplicates(subset=["cluster_id", "landuse_category"], keep="first")
    return Capacity(targets=merged.reset_index(drop=True))


def _lead_industries(structure: PlanStructure) -> dict[str, list[str]]:
    if "lead_industries" not in structure.elements.columns:
        return {}
    return structure.list_attribute("lead_industries")


def capacity_gaps(profile: DistrictProfile, structure: PlanStructure) -> list[str]:
    """Describe what the profile's capacity targets miss.

    Rows that apply to no cluster, and clusters that get only the generic targets.

    Parameters
    ----------
    profile : DistrictProfile
        Its ``capacity`` rows.
    structure : PlanStructure
        The plan.

    Returns
    -------
    list of str
        One sentence per gap (empty when every cluster has its own targets and every row
        applies to one); the refresh puts them in the quality report as warnings.

    Examples
    --------
    >>> from tqspatial.profile import parse_profile
    >>> s = PlanStructure.from_records([{"element_id": "c", "kind": "cluster", "name_zh": "组团",
    ...     "name_en": "C", "lead_industries": ["金融"], "geometry": shapely.box(0, 0, 1, 1)}],
    ...     crs="EPSG:4548")
    >>> p = parse_profile({"capacity": [{"lead_industry": "金融业", "landuse_category": "*",
    ...                                  "target_far": 4, "shares": {"office": 1}}]})
    >>> for gap in capacity_gaps(p, s):
    ...     print(gap.split(" (")[0])
    profile [[capacity]] lead_industry '金融业' is no cluster's lead industry
    cluster 'c' has no targets of its own in the profile
    """
    industries = _lead_industries(structure)
    known = sorted({i for items in industries.values() for i in items})
    used = {i for c in structure.cluster_ids for i in industries.get(c, [])}
    gaps = [
        f"profile [[capacity]] lead_industry {spec.lead_industry!r} is no cluster's lead "
        f"industry (lead industries in the plan: {known}); the row is not used"
        for spec in profile.capacity
        if spec.lead_industry and spec.lead_industry not in used
    ]
    if not profile.capacity:
        return gaps
    matched = {s.element_id for s in profile.capacity if s.element_id}
    by_industry = {s.lead_industry for s in profile.capacity if s.lead_industry}
    gaps += [
        f"cluster {cid!r} has no targets of its own in the profile (lead industries "
        f"{industries.get(cid, [])}); it gets the profile's or the library's generic targets"
        for cid in structure.cluster_ids
        if cid not in matched and not by_industry & set(industries.get(cid, []))
    ]
    return gaps


def standard_facility_kinds(
    facilities: gpd.GeoDataFrame, kind_map: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """Rename the district's facility kinds to the standard vocabulary (profile ``kind_map``).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Facilities with ``kind``.
    kind_map : mapping of str to str
        District kind -> standard kind; kinds not listed are kept as they are.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows; ``kind`` mapped, the original kept as ``kind_source`` when any changed.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = gpd.GeoDataFrame({"kind": ["卫生站", "小学"]}, geometry=[Point(0, 0)] * 2)
    >>> standard_facility_kinds(f, {"卫生站": "community_health_station"})["kind"].tolist()
    ['community_health_station', '小学']
    """
    if not kind_map or "kind" not in facilities.columns:
        return facilities
    out = facilities.copy()
    source = out["kind"].astype(str)
    out["kind"] = source.map(lambda k: kind_map.get(k, k))
    if (out["kind"] != source).any():
        out["kind_source"] = source
    return out


def _extent(layer: Layer) -> shapely.Geometry:
    if isinstance(layer, gpd.GeoDataFrame):
        if layer.empty:
            return shapely.Polygon()
        x0, y0, x1, y1 = (float(v) for v in layer.total_bounds)
        return shapely.box(x0, y0, x1, y1)
    raster: RasterLike = layer
    rows, cols = np.ma.getdata(raster.values).shape
    t = raster.transform
    corners = [t @ (0, 0), t @ (cols, 0), t @ (cols, rows), t @ (0, rows)]
    return shapely.Polygon(corners)


def layer_coverage(district: shapely.Geometry, layer: Layer) -> float:
    """Return the share of the district's area inside a layer's extent (bounding box).

    Vector points count by share of points inside the district instead: a facility layer of
    another district covers 0 % of this one.

    Parameters
    ----------
    district : shapely.Geometry
        The district polygon.
    layer : GeoDataFrame or raster
        The layer.

    Returns
    -------
    float
        Between 0 and 1.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pts = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(50, 50)], crs="EPSG:4548")
    >>> layer_coverage(box(0, 0, 10, 10), pts)
    0.5
    """
    total = float(shapely.area(district))
    if shapely.is_empty(district) or total <= 0:
        return 0.0
    if isinstance(layer, gpd.GeoDataFrame) and len(layer):
        types = set(shapely.get_type_id(layer.geometry.to_numpy()).tolist())
        if types <= {0, 4}:  # points and multipoints
            inside = shapely.intersects(district, layer.geometry.to_numpy())
            return float(np.mean(inside))
    extent = _extent(layer)
    return float(shapely.area(shapely.intersection(district, extent))) / total
