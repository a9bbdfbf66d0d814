"""Logging helpers: the package itself only adds a ``NullHandler``.

Batch runs (``tqspatial`` on the command line) and notebooks call
:func:`enable_logging` to see what tqspatial decided: encodings, CRSs,
rejects by reason, time per stage.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["enable_logging"]

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def enable_logging(level: int | str = logging.INFO) -> logging.Handler:
    """Send tqspatial's log records to standard error.

    Parameters
    ----------
    level : int or str, default logging.INFO
        Lowest level shown.

    Returns
    -------
    logging.Handler
        The handler added (calling again replaces it, never duplicates).

    Examples
    --------
    >>> handler = enable_logging("WARNING")
    >>> logging.getLogger("tqspatial").level == logging.WARNING
    True
    """
    logger = logging.getLogger("tqspatial")
    for handler in list(logger.handlers):
        if getattr(handler, "_tqspatial", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
    handler._tqspatial = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
