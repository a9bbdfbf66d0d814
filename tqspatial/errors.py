"""Exceptions and warnings raised by tqspatial.

Every exception inherits from :class:`TqspatialError` *and* from the builtin
that best describes it, so ``except ValueError`` keeps working for callers
who do not know tqspatial.  Messages say what is wrong, the value we got,
what we expected and what to do.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "ConfigError",
    "DataFileError",
    "DataQualityWarning",
    "MissingDependencyError",
    "OutputError",
    "SchemaError",
    "TqspatialError",
]


class TqspatialError(Exception):
    """Base class of every error raised on purpose by tqspatial."""


class DataFileError(TqspatialError, OSError):
    """A data file is missing, unreadable, truncated or of an unsupported format.

    The message always names the file.
    """


class SchemaError(TqspatialError, ValueError):
    """A layer as a whole does not have the columns or geometry types required."""


class CRSError(TqspatialError, ValueError):
    """A layer has no usable coordinate reference system."""


class ConfigError(TqspatialError, ValueError):
    """A setting or configuration key is unknown or has an invalid value."""


class MissingDependencyError(TqspatialError, ImportError):
    """A feature needs an optional package that is not installed; the message names the extra."""


class OutputError(TqspatialError, OSError):
    """The output location cannot be used: a file, a foreign folder, not writable, full."""


class DataQualityWarning(UserWarning):
    """Something legal but odd in the data that a planner should look at."""
