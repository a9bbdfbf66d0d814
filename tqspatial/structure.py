"""The plan's spatial structure (e.g. 一轴两带五组团) as data.

A plan structure is a table of *elements*.  Each element has a stable
``element_id``, a ``kind`` (``axis``, ``belt``, ``cluster`` or any other word
such as ``core`` or ``node``), Chinese and English names, and a geometry:
either a polygon, or a centre line with a corridor width in metres
(``width_m``) that is turned into a corridor polygon.  Clusters partition
part of the district and may not overlap each other; the other kinds are
corridors or zones that may overlap clusters.

Nothing here knows about Tianqiao: any number of elements of any kinds
loads the same way.
"""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial.errors import SchemaError

__all__ = ["CLUSTER_KIND", "REQUIRED_COLUMNS", "PlanStructure", "StructureError"]

logger = logging.getLogger(__name__)

#: The kind whose elements partition land (a parcel has one primary cluster).
CLUSTER_KIND = "cluster"

#: Columns every structure layer must have.
REQUIRED_COLUMNS = ("element_id", "kind", "name_zh", "name_en")

#: Two clusters may share at most this much area (m²) before it counts as an overlap;
#: absorbs floating-point noise along shared edges.
MAX_CLUSTER_OVERLAP_M2 = 1.0


class StructureError(SchemaError):
    """A plan structure is inconsistent (duplicate ids, overlapping clusters ...)."""


@dataclasses.dataclass(frozen=True)
class PlanStructure:
    """Axes, belts, clusters and any other elements of a spatial plan.

    Build one with :meth:`from_frame`; read one with
    :func:`tqspatial.io.read_structure`.

    Attributes
    ----------
    elements : geopandas.GeoDataFrame
        One row per element, indexed by ``element_id``, with ``kind``,
        ``name_zh``, ``name_en``, ``width_m`` (corridor width for line
        elements, else NaN), the original ``source_geometry`` type and a
        polygonal ``geometry`` in a projected CRS.
    """

    elements: gpd.GeoDataFrame

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> PlanStructure:
        """Check a structure layer and build corridor polygons from centre lines.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            One row per element with the columns in :data:`REQUIRED_COLUMNS`,
            optionally ``width_m``, in a projected CRS in metres.  Line
            geometries need a positive ``width_m``; they are buffered by half of
            it on each side with flat ends.

        Returns
        -------
        PlanStructure
            The validated structure.

        Raises
        ------
        StructureError
            Listing every problem found: missing columns, missing or duplicate
            ids, lines without a width, empty geometries, overlapping clusters.

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
        problems: list[str] = []
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            msg = (
                f"plan structure: missing column(s) {missing}; columns are {list(frame.columns)}; "
                f"expected {list(REQUIRED_COLUMNS)} plus a geometry and, for centre lines, width_m"
            )
            raise StructureError(msg)
        if frame.crs is None or not frame.crs.is_projected:
            msg = (
                f"plan structure: CRS {frame.crs} is not projected; corridor widths are in metres, "
                "so reproject to the working CRS (EPSG:4548) first"
            )
            raise StructureError(msg)
        out = frame.copy()
        out["element_id"] = out["element_id"].astype("string").str.strip()
        if "width_m" not in out.columns:
            out["width_m"] = np.nan
        out["width_m"] = pd.to_numeric(out["width_m"], errors="coerce").astype(float)

        ids = out["element_id"]
        if ids.isna().any() or (ids == "").any():
            problems.append(f"{int((ids.isna() | (ids == '')).sum())} element(s) without an id")
        dups = sorted(set(ids[ids.duplicated(keep=False) & ids.notna()]))
        if dups:
            problems.append(f"duplicate element ids {dups}")

        geoms = out.geometry.array
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if empty.any():
            problems.append(f"elements with no geometry: {ids[empty].tolist()}")
        types = shapely.get_type_id(geoms)
        is_line = np.isin(types, [1, 2, 5])  # LineString, LinearRing, MultiLineString
        no_width = is_line & ~(out["width_m"].to_numpy() > 0)
        if no_width.any():
            problems.append(
                f"centre-line elements without a positive width_m: {ids[no_width].tolist()}"
            )
        other = ~np.isin(types, [1, 2, 3, 5, 6]) & ~empty
        if other.any():
            problems.append(f"elements that are neither lines nor polygons: {ids[other].tolist()}")
        if problems:
            raise StructureError("plan structure is invalid: " + "; ".join(problems))

        out["element_id"] = out["element_id"].astype(str)
        out["source_geometry"] = np.where(is_line, "centre_line", "polygon")
        buffered = shapely.buffer(
            geoms[is_line],
            out["width_m"].to_numpy()[is_line] / 2.0,
            cap_style="flat",
            join_style="round",
        )
        new_geoms = np.asarray(geoms, dtype=object)
        new_geoms[is_line] = buffered
        out = out.set_geometry(gpd.GeoSeries(new_geoms, index=out.index, crs=frame.crs))
        out = out.set_index("element_id")

        overlaps = _cluster_overlaps(out)
        if overlaps:
            msg = "plan structure is invalid: clusters overlap: " + "; ".join(
                f"{a} and {b} share {area:,.0f} m²" for a, b, area in overlaps
            )
            raise StructureError(msg)
        logger.info(
            "plan structure: %d elements (%s)",
            len(out),
            out["kind"].value_counts().to_dict(),
        )
        return cls(elements=out)

    @property
    def cluster_ids(self) -> list[str]:
        """Ids of the elements of kind ``cluster``, in file order."""
        return [str(i) for i in self.elements.index[self.elements["kind"] == CLUSTER_KIND]]

    @property
    def corridor_ids(self) -> list[str]:
        """Ids of all non-cluster elements (axes, belts, ...), in file order."""
        return [str(i) for i in self.elements.index[self.elements["kind"] != CLUSTER_KIND]]


def _cluster_overlaps(elements: gpd.GeoDataFrame) -> list[tuple[str, str, float]]:
    """Return (id, id, area) for every pair of clusters sharing more than a sliver."""
    clusters = elements[elements["kind"] == CLUSTER_KIND]
    geoms = clusters.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    found = []
    for i, j in zip(left[pairs], right[pairs], strict=True):
        area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        if area > MAX_CLUSTER_OVERLAP_M2:
            found.append((str(clusters.index[i]), str(clusters.index[j]), float(area)))
    return found
