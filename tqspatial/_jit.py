"""numba's ``njit`` when the ``[fast]`` extra is installed, else a stand-in (plumbing).

Kernel modules decorate their loops with :data:`njit` and choose, through
:data:`HAVE_NUMBA`, between the compiled loops and their numpy/scipy
equivalents; without numba the decorated functions stay plain Python and are
not used for real work.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HAVE_NUMBA", "njit"]


def _plain(*_args: Any, **_kwargs: Any) -> Any:  # noqa: ANN401
    """Stand-in for ``numba.njit``: leaves a function as plain Python."""
    return lambda function: function


try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # the [fast] extra is not installed
    HAVE_NUMBA = False
    njit = _plain
