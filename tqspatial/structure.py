"""The plan's spatial structure (e.g. 一轴两带五组团) as data.

A plan structure is a table of *elements*.  Each element has a stable
``element_id``, a ``kind`` (``axis``, ``belt``, ``cluster`` or any other word
such as ``core`` or ``node``), Chinese and English names, and a geometry:
either a polygon, a centre line with a corridor width in metres
(``width_m``) that is turned into a corridor polygon, or a point with a
diameter in ``width_m`` (a node) that is turned into a disc.  Clusters
partition part of the district and may not overlap each other; the other
kinds are corridors or zones that may overlap clusters.

Attributes such as the lead industries of the 4+N system
(``lead_industries``) and their carriers (``carriers``) are lists; in a file
and in :attr:`PlanStructure.elements` they are text joined with
:data:`LIST_SEPARATOR` (``;``), and :meth:`PlanStructure.list_attribute`
gives them back as lists.

Nothing here knows about Tianqiao: any number of elements of any kinds
loads the same way.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from tqspatial.crs import gk_crs
from tqspatial.errors import SchemaError

__all__ = [
    "CLUSTER_KIND",
    "KIND_COLUMN_ALIASES",
    "KIND_VALUE_ALIASES",
    "LIST_ATTRIBUTES",
    "LIST_SEPARATOR",
    "MAX_CLUSTER_OVERLAP_M2",
    "MIN_CORRIDOR_INSIDE_SHARE",
    "MIN_INSIDE_SHARE",
    "REQUIRED_COLUMNS",
    "BoundaryLike",
    "PlanStructure",
    "StructureError",
    "district_geometry",
]

logger = logging.getLogger(__name__)

#: The kind whose elements partition land (a parcel has one primary cluster).
CLUSTER_KIND = "cluster"

#: Columns every structure layer must have.
REQUIRED_COLUMNS = ("element_id", "kind", "name_zh", "name_en")

#: Other names of the ``kind`` column accepted on reading (the first one present is used).
KIND_COLUMN_ALIASES = ("element_type", "type", "类型", "要素类型")

#: Chinese (and other) names of element kinds accepted on reading.
KIND_VALUE_ALIASES = {
    "轴": "axis",
    "发展轴": "axis",
    "带": "belt",
    "产业带": "belt",
    "组团": "cluster",
    "片区": "cluster",
    "核心": "core",
    "节点": "node",
    "corridor": "belt",
}

#: Attribute columns holding lists (lead industries of the 4+N system, their carriers).
LIST_ATTRIBUTES = ("lead_industries", "carriers")

#: How list attributes are joined in files and in ``elements``.  On reading, ``;``, ``；``,
#: ``、``, new lines and JSON arrays (``["a", "b"]``) are all accepted.
LIST_SEPARATOR = ";"

#: Two clusters may share at most this much area (m²) before it counts as an overlap;
#: absorbs floating-point noise along shared edges.
MAX_CLUSTER_OVERLAP_M2 = 1.0

#: A polygon element must have at least this share of its area inside the district.  The 1 %
#: slack absorbs boundaries digitised from different sources (web-map vs. survey).
MIN_INSIDE_SHARE = 0.99

#: Corridors (elements built from a centre line or a point) may spill further: a river axis on
#: the district edge covers both banks.  At least half of a corridor must lie in the district.
MIN_CORRIDOR_INSIDE_SHARE = 0.5

_SPLIT = re.compile(r"\s*[;；、\n]\s*")
_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_POINT_TYPES = (0, 4)  # Point, MultiPoint
_POLYGON_TYPES = (3, 6)  # Polygon, MultiPolygon


#: What a district boundary may be given as (frames are reprojected; a bare geometry is not).
BoundaryLike: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry

#: A CRS as pyproj accepts it.
CRSLike: TypeAlias = pyproj.CRS | str


class StructureError(SchemaError):
    """A plan structure is inconsistent (duplicate ids, overlapping clusters ...)."""


def district_geometry(
    boundary: BoundaryLike,
    crs: CRSLike,
) -> shapely.Geometry:
    """Return a district boundary as one (multi)polygon in ``crs``.

    Parameters
    ----------
    boundary : geopandas.GeoDataFrame, geopandas.GeoSeries or shapely geometry
        The district.  Frames and series are reprojected to ``crs`` and their
        rows merged; a bare shapely geometry is taken to be in ``crs`` already.
    crs : pyproj.CRS or str
        Target CRS (the structure's).

    Returns
    -------
    shapely.Geometry
        The merged boundary.

    Raises
    ------
    StructureError
        If the boundary is empty or a frame has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parts = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4548")
    >>> district_geometry(parts, "EPSG:4548").area
    2.0
    """
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            msg = "district boundary has no CRS; set it (e.g. boundary.set_crs('EPSG:4548'))"
            raise StructureError(msg)
        geom = boundary.to_crs(crs).union_all()
    else:
        geom = boundary
    if geom is None or shapely.is_empty(geom) or shapely.area(geom) <= 0:
        msg = "district boundary is empty; pass the district polygon(s)"
        raise StructureError(msg)
    result: shapely.Geometry = geom
    return result


def _parse_list(value: object) -> list[str]:
    """Split a list attribute given as a list, a JSON array or separated text."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    if isinstance(value, list | tuple | np.ndarray):
        items = [str(v).strip() for v in value]
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = [str(v).strip() for v in json.loads(text)]
            except (json.JSONDecodeError, TypeError):
                items = _SPLIT.split(text)
        else:
            items = _SPLIT.split(text)
    return [item for item in items if item]


def _join_list(value: object) -> str | None:
    items = _parse_list(value)
    return LIST_SEPARATOR.join(items) if items else None


@dataclasses.dataclass(frozen=True, eq=False)
class PlanStructure:
    """Axes, belts, clusters and any other elements of a spatial plan.

    Build one with :meth:`from_frame` or :meth:`from_records`; read one with
    :func:`tqspatial.io.read_structure`; write one with :meth:`to_frame`.

    Attributes
    ----------
    elements : geopandas.GeoDataFrame
        One row per element, indexed by ``element_id``, with ``kind``,
        ``name_zh``, ``name_en``, ``width_m`` (corridor width for line
        elements, diameter for point elements, else NaN), the original
        ``source_geometry`` type (``polygon``, ``centre_line`` or ``point``),
        any further attributes (list attributes joined with
        :data:`LIST_SEPARATOR`) and a polygonal ``geometry`` in a projected
        CRS.
    sources : geopandas.GeoSeries or None
        The geometries as given (centre lines, points, polygons), indexed by
        ``element_id``; :meth:`to_frame` writes these back.
    district : shapely.Geometry or None
        The district boundary the structure was checked against, if any;
        :func:`tqspatial.assign.assign_parcels` then reports each parcel's
        share inside it.
    """

    elements: gpd.GeoDataFrame
    sources: gpd.GeoSeries | None = None
    district: shapely.Geometry | None = None

    @classmethod
    def from_frame(
        cls,
        frame: gpd.GeoDataFrame,
        *,
        boundary: BoundaryLike | None = None,
        working_crs: CRSLike | None = None,
        min_inside_share: float = MIN_INSIDE_SHARE,
        min_corridor_inside_share: float = MIN_CORRIDOR_INSIDE_SHARE,
    ) -> PlanStructure:
        """Check a structure layer and build corridor polygons from centre lines.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            One row per element with the columns in :data:`REQUIRED_COLUMNS`,
            optionally ``width_m`` and attributes.  The kind column may be
            called by one of :data:`KIND_COLUMN_ALIASES` and its values may be
            Chinese (:data:`KIND_VALUE_ALIASES`: 轴, 带, 组团 ...).  A geographic CRS is
            reprojected first, since widths are in metres (see ``working_crs``).
            Line geometries need a positive ``width_m``; they are
            buffered by half of it on each side with flat ends.  Points need a
            positive ``width_m`` too (the diameter of the node's disc).
        boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
            The district.  When given, every element must lie inside it: at
            least ``min_inside_share`` of a polygon element's area and
            ``min_corridor_inside_share`` of a corridor's (line or point
            element).  The structure keeps it as :attr:`district`.
        working_crs : pyproj.CRS or str, optional
            Metric CRS for a layer in a geographic CRS (the pipeline passes
            ``get_settings().working_crs``); when None, the boundary's CRS if it
            is projected, else the CGCS2000 3-degree Gauss-Krueger zone of the
            layer's centre (:func:`tqspatial.crs.gk_crs`).  A projected layer
            is kept in its CRS.
        min_inside_share : float, default 0.99
            See :data:`MIN_INSIDE_SHARE`.
        min_corridor_inside_share : float, default 0.5
            See :data:`MIN_CORRIDOR_INSIDE_SHARE`.

        Returns
        -------
        PlanStructure
            The validated structure.

        Raises
        ------
        StructureError
            Listing every problem found at once: missing or duplicate ids,
            missing kinds, lines or points without a width, empty, invalid or
            unsupported geometries, overlapping clusters, elements outside the
            district, missing columns.  A layer without rows or without a CRS
            raises at once (with the other column problems).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import LineString, box
        >>> frame = gpd.GeoDataFrame(
        ...     {
        ...         "element_id": ["west", "east", "road"],
        ...         "kind": ["cluster", "cluster", "belt"],
        ...         "name_zh": ["西组团", "东组团", "路带"],
        ...         "name_en": ["West", "East", "Road belt"],
        ...         "width_m": [None, None, 100.0],
        ...     },
        ...     geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500),
        ...               LineString([(0, 250), (1000, 250)])],
        ...     crs="EPSG:4548",
        ... )
        >>> s = PlanStructure.from_frame(frame)
        >>> s.cluster_ids, round(s.elements.loc["road"].geometry.area)
        (['west', 'east'], 100000)
        """
        frame = _with_kind_column(frame)
        problems = _layer_problems(frame)
        if frame.crs is None or len(frame) == 0:
            raise StructureError("plan structure is invalid: " + "; ".join(problems))
        if not frame.crs.is_projected:
            target = _metric_crs(frame, working_crs, boundary)
            logger.info(
                "plan structure: reprojecting from %s to %s (widths are in metres)",
                frame.crs.to_string(),
                target,
            )
            frame = frame.to_crs(target)

        out = frame.copy()
        for column in REQUIRED_COLUMNS:
            if column not in out.columns:
                out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
        out["element_id"] = out["element_id"].astype("string").str.strip()
        kinds_raw = out["kind"].astype("string").str.strip().str.lower()
        out["kind"] = kinds_raw.map(lambda k: KIND_VALUE_ALIASES.get(k, k) if pd.notna(k) else k)
        if "width_m" not in out.columns:
            out["width_m"] = np.nan
        out["width_m"] = pd.to_numeric(out["width_m"], errors="coerce").astype(float)
        for column in LIST_ATTRIBUTES:
            if column in out.columns:
                out[column] = pd.Series(
                    [_join_list(v) for v in out[column].astype(object)],
                    index=out.index,
                    dtype="string",
                )

        label = out["element_id"].fillna("<no id>").astype(object).to_numpy()
        problems.extend(_row_problems(out, label))
        geoms = out.geometry.array
        is_line, is_point, is_polygon = _geometry_classes(geoms)
        widths = out["width_m"].to_numpy()
        kinds = out["kind"]
        invalid = is_polygon & ~shapely.is_valid(geoms)
        built = np.asarray(geoms, dtype=object).copy()
        corridor = (is_line | is_point) & (widths > 0)
        built[is_line & corridor] = shapely.buffer(
            geoms[is_line & corridor],
            widths[is_line & corridor] / 2.0,
            cap_style="flat",
            join_style="round",
        )
        built[is_point & corridor] = shapely.buffer(
            geoms[is_point & corridor], widths[is_point & corridor] / 2.0
        )
        usable = (is_polygon & ~invalid) | corridor
        is_cluster = (kinds == CLUSTER_KIND).fillna(value=False).to_numpy(dtype=bool)
        problems.extend(
            f"clusters overlap: {a} and {b} share {area:,.0f} m²"
            for a, b, area in _overlaps(built, label, usable & is_cluster)
        )
        district = None
        if boundary is not None:
            district = district_geometry(boundary, out.crs)
            problems.extend(
                _outside(
                    built,
                    label,
                    usable,
                    corridor,
                    district,
                    min_inside_share=min_inside_share,
                    min_corridor_inside_share=min_corridor_inside_share,
                )
            )
        if problems:
            raise StructureError("plan structure is invalid: " + "; ".join(problems))

        index = pd.Index(
            out["element_id"].astype(str).to_numpy(dtype=object), name="element_id", dtype="str"
        )
        sources = gpd.GeoSeries(np.asarray(geoms, dtype=object), index=index, crs=out.crs)
        out["element_id"] = out["element_id"].astype(str)
        out["kind"] = out["kind"].astype(str)
        out["source_geometry"] = np.where(
            is_line, "centre_line", np.where(is_point, "point", "polygon")
        )
        out = out.set_geometry(gpd.GeoSeries(built, index=out.index, crs=out.crs))
        out = out.set_index("element_id")
        logger.info(
            "plan structure: %d elements (%s)",
            len(out),
            out["kind"].value_counts().to_dict(),
        )
        return cls(elements=out, sources=sources, district=district)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        crs: CRSLike | None = None,
        boundary: BoundaryLike | None = None,
    ) -> PlanStructure:
        """Build a structure in code from one mapping per element.

        Parameters
        ----------
        records : iterable of mappings
            Each with ``element_id``, ``kind``, ``name_zh``, ``name_en``,
            ``geometry`` (a shapely polygon, centre line or point) and
            optionally ``width_m``, ``lead_industries`` / ``carriers`` (lists
            or separated text) and any other attributes.
        crs : pyproj.CRS or str, optional
            CRS of the geometries; when None, the CRS of ``boundary``
            (required then).
        boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
            The district to check the elements against (see :meth:`from_frame`).

        Returns
        -------
        PlanStructure
            The validated structure.

        Raises
        ------
        StructureError
            As :meth:`from_frame`; also when a record has no ``geometry``.

        Examples
        --------
        >>> from shapely.geometry import Point, box
        >>> s = PlanStructure.from_records([
        ...     {"element_id": "c", "kind": "cluster", "name_zh": "组团", "name_en": "C",
        ...      "geometry": box(0, 0, 100, 100), "lead_industries": ["特色商贸", "高端服务"]},
        ...     {"element_id": "n", "kind": "node", "name_zh": "节点", "name_en": "N",
        ...      "geometry": Point(50, 50), "width_m": 20},
        ... ], crs="EPSG:4548")
        >>> s.list_attribute("lead_industries")["c"], s.ids_of_kind("node")
        (['特色商贸', '高端服务'], ['n'])
        """
        rows = [dict(r) for r in records]
        lacking = [str(r.get("element_id")) for r in rows if "geometry" not in r]
        if lacking:
            msg = f"plan structure: records without a geometry: {lacking}"
            raise StructureError(msg)
        geometry = [r.pop("geometry") for r in rows]
        for row in rows:
            for column in LIST_ATTRIBUTES:
                if column in row:
                    row[column] = _join_list(row[column])
        if crs is None:
            crs = getattr(boundary, "crs", None)
        if crs is None:
            msg = (
                "plan structure: the records' CRS is unknown; pass crs=... (e.g. "
                "tqspatial.get_settings().working_crs) or a boundary with a CRS"
            )
            raise StructureError(msg)
        table = pd.DataFrame(rows, columns=list(dict.fromkeys(k for r in rows for k in r)))
        frame = gpd.GeoDataFrame(table, geometry=geometry, crs=crs)
        return cls.from_frame(frame, boundary=boundary)

    def validate(
        self,
        boundary: BoundaryLike,
        *,
        min_inside_share: float = MIN_INSIDE_SHARE,
        min_corridor_inside_share: float = MIN_CORRIDOR_INSIDE_SHARE,
    ) -> PlanStructure:
        """Check that every element lies in the district; return the structure with it.

        Parameters
        ----------
        boundary : GeoDataFrame, GeoSeries or shapely geometry
            The district (frames are reprojected to the structure's CRS).
        min_inside_share : float, default 0.99
            Least share of a polygon element's area inside the district.
        min_corridor_inside_share : float, default 0.5
            Least share of a corridor's (line or point element) area inside.

        Returns
        -------
        PlanStructure
            The same elements with :attr:`district` set.

        Raises
        ------
        StructureError
            Naming every element with too little of its area in the district,
            and that share.

        Examples
        --------
        >>> from shapely.geometry import box
        >>> s = PlanStructure.from_records([
        ...     {"element_id": "c", "kind": "cluster", "name_zh": "组团", "name_en": "C",
        ...      "geometry": box(0, 0, 100, 100)}], crs="EPSG:4548")
        >>> s.validate(box(-10, -10, 100, 100)).district.area
        12100.0
        >>> s.validate(box(50, 0, 100, 100))
        Traceback (most recent call last):
        ...
        tqspatial.structure.StructureError: ... c (50.0 % inside, expected at least 99 %)...
        """
        district = district_geometry(boundary, self.elements.crs)
        label = self.elements.index.to_numpy(dtype=object)
        source = self.elements.get("source_geometry")
        corridor = (
            np.zeros(len(label), dtype=bool)
            if source is None
            else (source != "polygon").to_numpy(dtype=bool)
        )
        problems = _outside(
            self.elements.geometry.to_numpy(),
            label,
            np.ones(len(label), dtype=bool),
            corridor,
            district,
            min_inside_share=min_inside_share,
            min_corridor_inside_share=min_corridor_inside_share,
        )
        if problems:
            raise StructureError("plan structure is invalid: " + "; ".join(problems))
        return dataclasses.replace(self, district=district)

    def to_frame(self) -> gpd.GeoDataFrame:
        """Return the structure as a layer ready to write, readable by :meth:`from_frame`.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per element with an ``element_id`` column, the source
            geometries (centre lines, points, polygons; not the built
            corridors), ``width_m``, and every attribute, list attributes
            joined with :data:`LIST_SEPARATOR`.  The derived
            ``source_geometry`` column is left out.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = PlanStructure.from_records([
        ...     {"element_id": "r", "kind": "axis", "name_zh": "轴", "name_en": "R",
        ...      "geometry": LineString([(0, 0), (100, 0)]), "width_m": 10,
        ...      "carriers": ["甲", "乙"]}], crs="EPSG:4548")
        >>> frame = s.to_frame()
        >>> frame.geometry.iloc[0].geom_type, frame["carriers"].iloc[0]
        ('LineString', '甲;乙')
        >>> PlanStructure.from_frame(frame).elements.geometry.area.round().tolist()
        [1000.0]
        """
        frame = self.elements.drop(columns=["source_geometry"]).reset_index()
        if self.sources is not None:
            frame = frame.set_geometry(
                gpd.GeoSeries(
                    self.sources.reindex(self.elements.index).to_numpy(),
                    index=frame.index,
                    crs=self.elements.crs,
                )
            )
        return frame

    @property
    def crs(self) -> pyproj.CRS:  # numpydoc ignore=RT01
        """CRS of the elements (projected, metres)."""
        crs: pyproj.CRS = self.elements.crs
        return crs

    @property
    def kinds(self) -> list[str]:  # numpydoc ignore=RT01
        """Distinct kinds, in file order."""
        return list(dict.fromkeys(str(k) for k in self.elements["kind"]))

    def ids_of_kind(self, kind: str) -> list[str]:
        """Return the ids of the elements of one kind, in file order.

        Parameters
        ----------
        kind : str
            ``axis``, ``belt``, ``cluster``, ``node`` ...

        Returns
        -------
        list of str
            Element ids (empty when there is none of that kind).

        Examples
        --------
        >>> from tqspatial.maps.layers import toy_layers
        >>> toy_layers().structure.ids_of_kind("belt")
        ['road']
        """
        return [str(i) for i in self.elements.index[self.elements["kind"] == kind]]

    @property
    def cluster_ids(self) -> list[str]:  # numpydoc ignore=RT01,SS05
        """Ids of the elements of kind ``cluster``, in file order."""
        return self.ids_of_kind(CLUSTER_KIND)

    @property
    def corridor_ids(self) -> list[str]:  # numpydoc ignore=RT01,SS05
        """Ids of all non-cluster elements (axes, belts, nodes ...), in file order."""
        return [str(i) for i in self.elements.index[self.elements["kind"] != CLUSTER_KIND]]

    def list_attribute(self, column: str) -> dict[str, list[str]]:
        """Return a list attribute (e.g. ``lead_industries``) per element.

        Parameters
        ----------
        column : str
            Attribute column, e.g. ``lead_industries`` or ``carriers``.

        Returns
        -------
        dict of str to list of str
            Element id to its items (an empty list when missing).

        Raises
        ------
        KeyError
            If the structure has no such column; the message lists the columns.

        Examples
        --------
        >>> from shapely.geometry import box
        >>> s = PlanStructure.from_records([{"element_id": "c", "kind": "cluster",
        ...     "name_zh": "组团", "name_en": "C", "geometry": box(0, 0, 1, 1),
        ...     "lead_industries": "新型功能材料；智能制造装备"}], crs="EPSG:4548")
        >>> s.list_attribute("lead_industries")["c"]
        ['新型功能材料', '智能制造装备']
        """
        if column not in self.elements.columns:
            msg = f"plan structure has no column {column!r}; columns are {list(self.elements)}"
            raise KeyError(msg)
        return {
            str(i): _parse_list(v)
            for i, v in zip(self.elements.index, self.elements[column].astype(object), strict=True)
        }


def _layer_problems(frame: gpd.GeoDataFrame) -> list[str]:
    """Describe missing columns, a missing CRS and an empty layer."""
    problems: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        problems.append(
            f"missing column(s) {missing}; columns are {list(frame.columns)}; expected "
            f"{list(REQUIRED_COLUMNS)} (the kind may also be called "
            f"{', '.join(KIND_COLUMN_ALIASES)}) plus a geometry and, for centre lines, width_m"
        )
    if frame.crs is None:
        problems.append(
            "no CRS; corridor widths are in metres, so declare the CRS "
            "(e.g. frame.set_crs('EPSG:4548'))"
        )
    if len(frame) == 0:
        problems.append("the layer has no elements; expected at least one row")
    return problems


def _metric_crs(
    frame: gpd.GeoDataFrame, working_crs: CRSLike | None, boundary: BoundaryLike | None
) -> CRSLike:
    """Metric CRS for a geographic structure layer: the one given, the boundary's, or its zone."""
    if working_crs is not None:
        return working_crs
    boundary_crs = getattr(boundary, "crs", None)
    if boundary_crs is not None and pyproj.CRS.from_user_input(boundary_crs).is_projected:
        return pyproj.CRS.from_user_input(boundary_crs)
    minx, _, maxx, _ = frame.to_crs("EPSG:4326").total_bounds
    return gk_crs((minx + maxx) / 2)


def _with_kind_column(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` with its kind column named ``kind`` (from the first alias present)."""
    if "kind" in frame.columns:
        return frame
    for alias in KIND_COLUMN_ALIASES:
        if alias in frame.columns:
            logger.info("plan structure: using column %r as the element kind", alias)
            return frame.rename(columns={alias: "kind"})
    return frame


def _geometry_classes(geoms: gpd.array.GeometryArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return masks of non-empty line, point and polygon geometries."""
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    return (
        np.isin(types, _LINE_TYPES) & ~empty,
        np.isin(types, _POINT_TYPES) & ~empty,
        np.isin(types, _POLYGON_TYPES) & ~empty,
    )


def _row_problems(out: gpd.GeoDataFrame, label: np.ndarray) -> list[str]:
    """Describe missing and duplicate ids, missing kinds, and unusable geometries."""
    ids = out["element_id"]
    problems: list[str] = []
    no_id = (ids.isna() | (ids == "")).to_numpy()
    if no_id.any():
        rows = np.flatnonzero(no_id).tolist()
        problems.append(f"{int(no_id.sum())} element(s) without an id (rows {rows})")
    dups = sorted(set(ids[ids.duplicated(keep=False) & ids.notna()]))
    if dups:
        problems.append(f"duplicate element ids {dups}")
    kinds = out["kind"]
    no_kind = (kinds.isna() | (kinds == "")).to_numpy()
    if no_kind.any():
        problems.append(f"elements without a kind: {label[no_kind].tolist()}")
    geoms = out.geometry.array
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        problems.append(f"elements with no geometry: {label[empty].tolist()}")
    is_line, is_point, is_polygon = _geometry_classes(geoms)
    no_width = (is_line | is_point) & ~(out["width_m"].to_numpy() > 0)
    if no_width.any():
        problems.append(
            "corridors (centre lines or points) without a positive width_m: "
            f"{label[no_width].tolist()}; give the corridor width in metres"
        )
    other = ~(is_line | is_point | is_polygon) & ~empty
    if other.any():
        problems.append(
            f"elements that are neither lines, points nor polygons: {label[other].tolist()}"
        )
    invalid = is_polygon & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        problems.append(
            "invalid polygons: "
            + ", ".join(f"{i} ({r})" for i, r in zip(label[invalid], reasons, strict=True))
            + "; repair them (e.g. shapely.make_valid) in the source file"
        )
    return problems


def _overlaps(
    geoms: np.ndarray, label: np.ndarray, mask: np.ndarray
) -> list[tuple[str, str, float]]:
    """Return (id, id, area) for every pair of masked polygons sharing more than a sliver."""
    pos = np.flatnonzero(mask)
    if len(pos) < 2:  # noqa: PLR2004 - a pair needs two
        return []
    sub = geoms[pos]
    tree = shapely.STRtree(sub)
    left, right = tree.query(sub, predicate="intersects")
    pairs = left < right
    found = []
    for i, j in zip(left[pairs], right[pairs], strict=True):
        area = float(shapely.area(shapely.intersection(sub[i], sub[j])))
        if area > MAX_CLUSTER_OVERLAP_M2:
            found.append((str(label[pos[i]]), str(label[pos[j]]), area))
    return found


def _outside(
    geoms: np.ndarray,
    label: np.ndarray,
    mask: np.ndarray,
    corridor: np.ndarray,
    district: shapely.Geometry,
    *,
    min_inside_share: float,
    min_corridor_inside_share: float,
) -> list[str]:
    """Describe the masked elements with too small a share of their area in the district."""
    pos = np.flatnonzero(mask)
    if not len(pos):
        return []
    area = shapely.area(geoms[pos])
    inside = shapely.area(shapely.intersection(geoms[pos], district))
    share = np.divide(inside, area, out=np.zeros_like(area), where=area > 0)
    need = np.where(corridor[pos], min_corridor_inside_share, min_inside_share)
    bad = share < need
    if not bad.any():
        return []
    details = ", ".join(
        f"{label[p]} ({s:.1%} inside, expected at least {n:.0%})".replace("%", " %")
        for p, s, n in zip(pos[bad], share[bad], need[bad], strict=True)
    )
    return [
        f"elements outside the district: {details}; check the CRS of both layers or fix the element"
    ]
