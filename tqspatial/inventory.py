"""The parcel stages of a refresh as one pure function: validate -> assign -> supply.

:func:`process_parcels` is what the batch job runs on a parcel layer, and what
the partitioned (dask) engine runs per partition; both must give the same
result.  It reads no files: the caller passes the layers in a
:class:`ParcelContext`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely

from tqspatial.assign import MIN_CLUSTER_SHARE, assign_parcels, summarise_clusters
from tqspatial.constraints import Constraint
from tqspatial.quality import QualityLog, recording
from tqspatial.renewal import RenewalRules
from tqspatial.structure import PlanStructure
from tqspatial.supply import Capacity, Phasing, renewal_supply
from tqspatial.validate import validate_parcels

__all__ = [
    "ParcelContext",
    "ParcelResult",
    "assign_stage",
    "process_parcels",
    "summary_stage",
    "supply_stage",
    "validate_stage",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ParcelContext:
    """Everything the parcel stages need besides the parcels.

    Attributes
    ----------
    structure : PlanStructure
        Axis, belts and clusters.
    boundary : geopandas.GeoDataFrame
        District boundary; parcels are clipped (or flagged) to it.
    constraints : sequence of constraints
        Vector and raster constraints on supply (:mod:`tqspatial.constraints`).
    urban_area : shapely.Geometry, optional
        Urban area for the 城中村 (urban village) rule.
    facilities : geopandas.GeoDataFrame, optional
        Facilities, for the specialty-market rule.
    outside : {"clip", "flag"}
        What to do with parcels crossing the district boundary.
    min_cluster_share : float
        Threshold for a parcel's primary cluster.
    landuse_scheme : str, optional
        Land-use code scheme; None detects it.
    rules, capacity, phasing
        Renewal rules, capacity coefficients and phasing (defaults when None).
    """

    structure: PlanStructure
    boundary: gpd.GeoDataFrame
    constraints: Sequence[Constraint] = ()
    urban_area: shapely.Geometry | None = None
    facilities: gpd.GeoDataFrame | None = None
    outside: Literal["clip", "flag"] = "clip"
    min_cluster_share: float = MIN_CLUSTER_SHARE
    landuse_scheme: str | None = None
    rules: RenewalRules | None = None
    capacity: Capacity | None = None
    phasing: Phasing | None = None


@dataclasses.dataclass(frozen=True)
class ParcelResult:
    """Outputs of the parcel stages.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        Kept parcels with every derived column (validation, land use,
        assignment, renewal, constraints, capacity, phase).
    rejects : geopandas.GeoDataFrame
        Dropped input rows with reasons.
    overlaps : pandas.DataFrame
        Every parcel x element overlap.
    ledger : pandas.DataFrame
        Supply per cluster x renewal type x phase.
    summary : pandas.DataFrame
        Land per cluster (with land-use categories).
    log : QualityLog
        What the parcel stages repaired, rejected, assumed or could not
        determine, aggregated (see :mod:`tqspatial.quality`); the reader's
        findings are in the log that was active while reading.
    """

    parcels: gpd.GeoDataFrame
    rejects: gpd.GeoDataFrame
    overlaps: pd.DataFrame
    ledger: pd.DataFrame
    summary: pd.DataFrame
    log: QualityLog


def _no_timer(_name: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


def process_parcels(
    parcels: gpd.GeoDataFrame,
    context: ParcelContext,
    *,
    stage: Callable[[str], contextlib.AbstractContextManager[None]] = _no_timer,
) -> ParcelResult:
    """Validate, assign and compute renewal supply for a parcel layer.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in the working CRS (as read by :func:`tqspatial.io.read_parcels`).
    context : ParcelContext
        Structure, boundary, constraints and options.
    stage : callable, optional
        ``stage(name)`` returns a context manager entered around each stage
        (``validate``, ``assign``, ``supply``): the batch job times them.

    Returns
    -------
    ParcelResult
        Kept parcels with all derived columns, rejects, overlaps, the supply
        ledger, the cluster summary and the quality log of the stages (they
        record into a log of their own, whatever log the caller has active).

    Examples
    --------
    >>> import tqspatial as tq
    >>> d = tq.datasets.tianqiao()
    >>> ctx = ParcelContext(structure=d.structure, boundary=d.boundary)
    >>> out = process_parcels(d.parcels.head(200), ctx)
    >>> len(out.parcels) + len(out.rejects) == 200
    True
    """
    with recording() as log:
        with stage("validate"):
            kept, rejects = validate_stage(parcels, context)
        with stage("assign"):
            assigned, overlaps = assign_stage(kept, context)
        with stage("supply"):
            supplied, ledger = supply_stage(assigned, context)
            summary = summary_stage(supplied, context)
    logger.info(
        "parcels: %d in, %d kept, %d rejected, %d overlaps",
        len(parcels),
        len(supplied),
        len(rejects),
        len(overlaps),
    )
    return ParcelResult(
        parcels=supplied,
        rejects=rejects,
        overlaps=overlaps,
        ledger=ledger,
        summary=summary,
        log=log,
    )


def validate_stage(
    parcels: gpd.GeoDataFrame, context: ParcelContext
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Validate parcels against the context's boundary (one stage of :func:`process_parcels`).

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in the working CRS.
    context : ParcelContext
        Boundary and the ``outside`` rule.

    Returns
    -------
    kept, rejects : geopandas.GeoDataFrame
        As :func:`tqspatial.validate.validate_parcels`.
    """
    return validate_parcels(parcels, boundary=context.boundary, outside=context.outside)


def assign_stage(
    kept: gpd.GeoDataFrame, context: ParcelContext
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Assign validated parcels to the plan structure (one stage of :func:`process_parcels`).

    Parameters
    ----------
    kept : geopandas.GeoDataFrame
        Validated parcels.
    context : ParcelContext
        Structure, boundary and the cluster-share threshold.

    Returns
    -------
    assigned : geopandas.GeoDataFrame
        As :func:`tqspatial.assign.assign_parcels`.
    overlaps : pandas.DataFrame
        Every parcel x element overlap.
    """
    return assign_parcels(
        kept,
        context.structure,
        min_cluster_share=context.min_cluster_share,
        boundary=context.boundary,
    )


def supply_stage(
    assigned: gpd.GeoDataFrame, context: ParcelContext
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Compute renewal supply for assigned parcels (one stage of :func:`process_parcels`).

    Parameters
    ----------
    assigned : geopandas.GeoDataFrame
        Output of :func:`assign_stage`.
    context : ParcelContext
        Constraints, rules, capacity, phasing, urban area, facilities and
        the land-use scheme.

    Returns
    -------
    parcels : geopandas.GeoDataFrame
        As :func:`tqspatial.supply.renewal_supply`.
    ledger : pandas.DataFrame
        Supply per cluster x renewal type x phase.
    """
    return renewal_supply(
        assigned,
        context.structure,
        constraints=context.constraints,
        rules=context.rules,
        capacity=context.capacity,
        phasing=context.phasing,
        urban_area=context.urban_area,
        facilities=context.facilities,
        landuse_scheme=context.landuse_scheme,
    )


def summary_stage(supplied: gpd.GeoDataFrame, context: ParcelContext) -> pd.DataFrame:
    """Summarise land per cluster, by land-use category (the end of :func:`process_parcels`).

    Parameters
    ----------
    supplied : geopandas.GeoDataFrame
        Output of :func:`supply_stage`.
    context : ParcelContext
        Structure and boundary.

    Returns
    -------
    pandas.DataFrame
        As :func:`tqspatial.assign.summarise_clusters`.
    """
    return summarise_clusters(
        supplied, context.structure, class_column="landuse_category", boundary=context.boundary
    )
