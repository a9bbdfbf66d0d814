"""Reading and writing data files (moved into a package; split by role next)."""

from tqspatial.io.vectors import *  # noqa: F403
from tqspatial.io.vectors import __all__ as __all__
from tqspatial.io.vectors import RING_CLOSED as RING_CLOSED
from tqspatial.io.vectors import write_geojson as write_geojson
