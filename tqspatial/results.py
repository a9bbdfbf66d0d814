"""The refresh's result as one object: every table, layer and figure the outputs render.

:func:`build_inventory` joins the parcel stages (:mod:`tqspatial.inventory`) and the
accessibility stage (:mod:`tqspatial.access_stage`) into an :class:`Inventory`, and derives the
summary tables from it: supply per cluster, the constraint summary, the per-cluster key figures
of the maps.  The batch job then only renders this object (CSV, GeoPackage, GeoParquet, XLSX,
maps, manifest, PostGIS); nothing is computed while writing.

Examples
--------
>>> import tqspatial as tq
>>> d = tq.datasets.tianqiao()
>>> out = tq.process_parcels(d.parcels.head(300), tq.ParcelContext(structure=d.structure,
...                                                                 boundary=d.boundary))
>>> inv = build_inventory(out, d.structure)
>>> inv.totals["cluster_id"].tolist()[-1], len(inv.parcels) + len(inv.rejects)
('district', 300)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from tqspatial.access_stage import AccessResult
from tqspatial.changes import InventorySnapshot
from tqspatial.constraints import summarise_constraints
from tqspatial.inventory import ParcelResult
from tqspatial.quality import QualityLog
from tqspatial.structure import PlanStructure
from tqspatial.supply import cluster_totals

__all__ = ["Inventory", "build_inventory", "no_access_counts"]

#: Parcels without a measure whose reason is not a snapping failure.
NO_ROUTE = "no_route"


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Everything one refresh found, ready to be written.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        Kept parcels with every derived column (accessibility measures joined when computed).
    rejects : geopandas.GeoDataFrame
        Dropped input rows with reasons.
    overlaps : pandas.DataFrame
        Every parcel x plan element overlap.
    ledger : pandas.DataFrame
        Supply per cluster x renewal type x phase.
    summary : pandas.DataFrame
        Land per cluster by land-use category.
    totals : pandas.DataFrame
        Supply per cluster, unassigned and the district.
    constraints : pandas.DataFrame
        Constrained area of the renewal parcels per constraint and for their union.
    structure : PlanStructure
        The plan the parcels were assigned to.
    access : AccessResult or None
        Accessibility tables (None when the stage is off).
    cluster_stats : pandas.DataFrame
        Key figures per cluster id for the maps: ``area_ha``, ``net_supply_ha`` and, with
        accessibility, ``access_min`` (the median of the profile's map measure over residents).
    log : QualityLog
        The quality log of the inputs and of every stage.
    counts : dict of str to int
        Rows per stage (``parcels_in``, ``parcels_kept`` ...).
    """

    parcels: gpd.GeoDataFrame
    rejects: gpd.GeoDataFrame
    overlaps: pd.DataFrame
    ledger: pd.DataFrame
    summary: pd.DataFrame
    totals: pd.DataFrame
    constraints: pd.DataFrame
    structure: PlanStructure
    access: AccessResult | None
    cluster_stats: pd.DataFrame
    log: QualityLog
    counts: dict[str, int]

    def snapshot(self, label: str = "this run") -> InventorySnapshot:
        """Return the tables a change report compares, as if read back from the outputs.

        Parameters
        ----------
        label : str, default "this run"
            Name of the inventory in the report.

        Returns
        -------
        tqspatial.changes.InventorySnapshot
            Parcels, ledger, cluster supply and accessibility per cluster.
        """
        return InventorySnapshot(
            parcels=self.parcels,
            ledger=self.ledger,
            cluster_supply=self.totals,
            access_clusters=self.access.clusters if self.access is not None else None,
            label=label,
        )


def no_access_counts(access: AccessResult) -> dict[str, int]:
    """Count the parcels without accessibility measures, by reason.

    Parameters
    ----------
    access : AccessResult
        The accessibility stage's result.

    Returns
    -------
    dict of str to int
        ``snap_reason`` (``beyond_max_snap``, ``barrier``, ``no_geometry``) -> parcels; empty
        when every parcel was snapped.

    Examples
    --------
    >>> table = pd.DataFrame({"snap_reason": [None, "barrier", "barrier"]})
    >>> empty = gpd.GeoDataFrame(geometry=[])
    >>> no_access_counts(AccessResult(table, pd.DataFrame(), pd.DataFrame(), empty))
    {'barrier': 2}
    """
    reasons = access.parcels["snap_reason"].dropna().astype(str)
    return {str(k): int(v) for k, v in reasons.value_counts().sort_index().items()}


def _cluster_stats(
    summary: pd.DataFrame,
    totals: pd.DataFrame,
    structure: PlanStructure,
    access: AccessResult | None,
    measure: str | None,
) -> pd.DataFrame:
    by_cluster = summary.set_index("cluster_id")
    stats = pd.DataFrame(
        {
            "area_ha": by_cluster["land_area_ha"],
            "net_supply_ha": totals.set_index("cluster_id")["net_supply_ha"],
        }
    )
    if access is not None and measure:
        clusters = access.clusters
        rows = clusters[(clusters["weighted_by"] == "residents") & (clusters["measure"] == measure)]
        stats["access_min"] = rows.set_index("cluster_id")["median"]
    return stats.reindex(structure.cluster_ids)


def build_inventory(
    result: ParcelResult,
    structure: PlanStructure,
    *,
    access: AccessResult | None = None,
    access_measure: str | None = None,
    log: QualityLog | None = None,
    counts: Mapping[str, int] | None = None,
) -> Inventory:
    """Join the stages' results and derive the summary tables.

    Parameters
    ----------
    result : ParcelResult
        Output of :func:`tqspatial.inventory.process_parcels` (or the dask engine).
    structure : PlanStructure
        The plan.
    access : AccessResult, optional
        Output of :func:`tqspatial.access_stage.cluster_access`; its per-parcel measures are
        joined to the parcels (same index).
    access_measure : str, optional
        Per-parcel measure summarised in ``cluster_stats["access_min"]``.
    log : QualityLog, optional
        Findings from reading the inputs, put before the stages' findings.
    counts : mapping of str to int, optional
        Counts known before the stages (``parcels_in``).

    Returns
    -------
    Inventory
        The result.
    """
    parcels = result.parcels
    if access is not None:
        # one block per dtype: the accessibility table is built column by column
        parcels = parcels.join(access.parcels.drop(columns=["parcel_id"])).copy()
    totals = cluster_totals(result.ledger, structure)
    renewal = parcels["renewal_type"].notna() if "renewal_type" in parcels else None
    constraints = summarise_constraints(parcels, rows=renewal)
    all_counts = {
        **dict(counts or {}),
        "parcels_kept": len(result.parcels),
        "parcels_rejected": len(result.rejects),
        "overlaps": len(result.overlaps),
    }
    if access is not None:
        all_counts["parcels_not_snapped"] = int(access.parcels["snap_reason"].notna().sum())
    return Inventory(
        parcels=parcels,
        rejects=result.rejects,
        overlaps=result.overlaps,
        ledger=result.ledger,
        summary=result.summary,
        totals=totals,
        constraints=constraints,
        structure=structure,
        access=access,
        cluster_stats=_cluster_stats(result.summary, totals, structure, access, access_measure),
        log=QualityLog().extend(log or QualityLog()).extend(result.log),
        counts=all_counts,
    )
