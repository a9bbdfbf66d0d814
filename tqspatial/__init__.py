"""tqspatial: planning analysis for Tianqiao District's 一轴两带五组团 industrial layout.

Load district boundaries and land parcels, assign parcels to the plan's axis,
belts and clusters, and summarise land per cluster.

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

from tqspatial import datasets, io
from tqspatial.assign import assign_parcels, summarise_clusters
from tqspatial.errors import DataQualityWarning, TqspatialError
from tqspatial.log import enable_logging
from tqspatial.pipeline import refresh
from tqspatial.schema import validate_parcels
from tqspatial.settings import get_settings, override
from tqspatial.structure import PlanStructure

__all__ = [
    "DataQualityWarning",
    "PlanStructure",
    "TqspatialError",
    "assign_parcels",
    "datasets",
    "enable_logging",
    "get_settings",
    "io",
    "override",
    "refresh",
    "summarise_clusters",
    "validate_parcels",
]

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
