"""Planning analysis for Tianqiao District's 一轴两带五组团 industrial layout.

Load district boundaries and land parcels, assign parcels to the plan's axis,
belts and clusters, summarise land per cluster, and compute urban-renewal
supply (:func:`renewal_supply`) and accessibility (:mod:`tqspatial.accessibility`).
Maps live in :mod:`tqspatial.maps` (imported on demand: it loads matplotlib).

Examples
--------
>>> import tqspatial as tq
>>> d = tq.datasets.tianqiao()
>>> kept, rejects = tq.validate_parcels(d.parcels)
>>> assigned, overlaps = tq.assign_parcels(kept, d.structure)
>>> len(assigned) + len(rejects) == len(d.parcels)
True
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tqspatial import datasets, io, landuse, quality
from tqspatial.assign import assign_parcels, summarise_clusters
from tqspatial.changes import compare_inventories
from tqspatial.errors import DataQualityWarning, TqspatialError
from tqspatial.inventory import ParcelContext, process_parcels
from tqspatial.landuse import classify_landuse
from tqspatial.log import enable_logging
from tqspatial.settings import get_settings, override
from tqspatial.structure import PlanStructure
from tqspatial.supply import renewal_supply
from tqspatial.validate import validate_parcels

if TYPE_CHECKING:
    from tqspatial.pipeline import refresh
    from tqspatial.scenarios import compare_scenarios

__all__ = [
    "DataQualityWarning",
    "ParcelContext",
    "PlanStructure",
    "TqspatialError",
    "assign_parcels",
    "classify_landuse",
    "compare_inventories",
    "compare_scenarios",
    "datasets",
    "enable_logging",
    "get_settings",
    "io",
    "landuse",
    "override",
    "process_parcels",
    "quality",
    "refresh",
    "renewal_supply",
    "summarise_clusters",
    "validate_parcels",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:  # noqa: ANN401 - PEP 562 lazy attribute
    """Import the batch job (:func:`refresh`, :func:`compare_scenarios`) only when used."""
    if name == "refresh":
        from tqspatial.pipeline import refresh  # noqa: PLC0415 - lazy on purpose

        return refresh
    if name == "compare_scenarios":
        from tqspatial.scenarios import compare_scenarios  # noqa: PLC0415 - lazy on purpose

        return compare_scenarios
    msg = f"module 'tqspatial' has no attribute {name!r}"
    raise AttributeError(msg)


logging.getLogger(__name__).addHandler(logging.NullHandler())
