"""Pickling of frozen dataclasses whose fields hold read-only mappings (plumbing).

:class:`types.MappingProxyType` cannot be pickled, and the read-only tables of
:mod:`tqspatial.supply` and :mod:`tqspatial.renewal` use it.  Rather than change
how every program pickles mapping proxies (``copyreg``), the classes that hold
them inherit :class:`ProxyPickling`: their read-only mapping fields travel as
dicts and are wrapped again on load, and nothing else about pickling changes.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

__all__ = ["ProxyPickling"]


def _rebuild(cls: type[Any], state: dict[str, Any], proxied: tuple[str, ...]) -> Any:  # noqa: ANN401
    """Recreate an instance field by field (no ``__init__``: the values were valid)."""
    obj = object.__new__(cls)
    for name, value in state.items():
        object.__setattr__(obj, name, MappingProxyType(value) if name in proxied else value)
    return obj


class ProxyPickling:
    """Mixin for frozen dataclasses: read-only mapping fields pickle as dicts.

    Examples
    --------
    >>> import pickle
    >>> from tqspatial.supply import Phasing
    >>> copy = pickle.loads(pickle.dumps(Phasing()))
    >>> type(copy.base_phase).__name__, copy == Phasing()
    ('mappingproxy', True)
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state: dict[str, Any] = {}
        proxied: list[str] = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, MappingProxyType):
                proxied.append(field.name)
                value = dict(value)
            state[field.name] = value
        return _rebuild, (type(self), state, tuple(proxied))
