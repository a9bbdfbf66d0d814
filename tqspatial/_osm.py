"""OpenStreetMap ways from OSM XML (plain, ``.bz2``, ``.gz``) or PBF, sorted into roads per mode.

Plumbing for :mod:`tqspatial.network`: one pass over the file keeps the node
coordinates and, for every way, whether it is a road for walking and for
driving.  The road test mirrors the Overpass filters osmnx sends for its
``walk`` and ``drive`` network types (``osmnx._overpass._get_network_filter``,
osmnx 2.1): a way must carry ``highway``, and no tag may match the exclusion
pattern of its key.  Overpass ``[key!~"a|b"]`` is an unanchored regular
expression search that a missing key passes, so ``highway=motorway_link`` is
excluded from walking by ``motor`` and ``motor_vehicle=unknown`` from driving
by ``no``, exactly as osmnx would do when it downloads the network.

A dropped way is counted under its reason: ``no_highway:<key>`` for ways that
are not roads at all (``building``, ``power``, ``railway``, ``landuse``,
``barrier`` ... or ``other``), else the first failing ``key=value``.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import re
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import groupby
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tqspatial.errors import DataFileError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["MODES", "ROAD_FILTERS", "OsmWays", "drop_reason", "read_pbf", "read_xml"]

MODES = ("walk", "drive")

#: osmnx's ``settings.default_access``: private ways are no roads in either mode.
_ACCESS = ("access", "private")
#: Tag exclusions per mode: (key, Overpass ``!~`` pattern), as in osmnx 2.1 ``_get_network_filter``.
ROAD_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "drive": (
        ("area", "yes"),
        _ACCESS,
        (
            "highway",
            "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|"
            "escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|"
            "rest_area|service|services|steps|track",
        ),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ),
    "walk": (
        ("area", "yes"),
        _ACCESS,
        (
            "highway",
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
            "raceway|razed|rest_area|services",
        ),
        ("foot", "no"),
        ("service", "private"),
        ("sidewalk", "separate"),
        ("sidewalk:both", "separate"),
        ("sidewalk:left", "separate"),
        ("sidewalk:right", "separate"),
    ),
}
_COMPILED = {
    mode: tuple((key, re.compile(pattern)) for key, pattern in rules)
    for mode, rules in ROAD_FILTERS.items()
}
#: Every key a road filter looks at (the memo key of :meth:`OsmWays.add`).
_FILTER_KEYS = tuple(sorted({key for rules in ROAD_FILTERS.values() for key, _ in rules}))
#: Keys that name what a non-road way is, checked in this order for the drop reason.
NON_ROAD_KEYS = (
    "building",
    "power",
    "railway",
    "landuse",
    "barrier",
    "natural",
    "waterway",
    "amenity",
    "leisure",
    "boundary",
    "man_made",
)
#: A way needs two distinct nodes to make an edge.
MIN_WAY_NODES = 2
#: Way tags kept for compiling (direction, speed, bridges).
KEPT_TAGS = ("highway", "maxspeed", "oneway", "junction", "bridge", "name")


def drop_reason(tags: Mapping[str, str | Sequence[str]], mode: str) -> str | None:
    """Return why a way is not a road for ``mode`` (None when it is one).

    Parameters
    ----------
    tags : mapping of str to str or list of str
        The way's OSM tags.  A list (the merged tags of a simplified osmnx
        edge) fails a rule only when every value in it does.
    mode : {"walk", "drive"}
        Travel mode.

    Returns
    -------
    str or None
        ``"no_highway:<key>"``, the first failing ``"key=value"``, or None.

    Examples
    --------
    >>> drop_reason({"highway": "footway"}, "drive"), drop_reason({"highway": "footway"}, "walk")
    ('highway=footway', None)
    >>> drop_reason({"building": "yes"}, "walk"), drop_reason({"highway": "motorway"}, "walk")
    ('no_highway:building', 'highway=motorway')
    """
    if "highway" not in tags:
        key = next((k for k in NON_ROAD_KEYS if k in tags), "other")
        return f"no_highway:{key}"
    for key, pattern in _COMPILED[mode]:
        value = tags.get(key)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        if values and all(pattern.search(v) for v in values):
            return f"{key}={';'.join(values)}"
    return None


@dataclasses.dataclass
class OsmWays:
    """The road ways of one OSM file and the coordinates of their nodes.

    Attributes
    ----------
    way_id : list of int
        OSM way id per kept way (a road in at least one mode).
    refs : list of list of int
        Node ids per kept way (consecutive repeats removed).
    tags : list of dict
        :data:`KEPT_TAGS` per kept way.
    keep : dict of str to list of bool
        Mode -> whether each kept way is a road in that mode.
    dropped : dict of str to collections.Counter
        Mode -> reason -> number of ways that are no road in that mode.
    lon, lat : dict of int to float
        Coordinates (EPSG:4326) of the nodes of kept ways.
    """

    way_id: list[int] = dataclasses.field(default_factory=list)
    refs: list[list[int]] = dataclasses.field(default_factory=list)
    tags: list[dict[str, str]] = dataclasses.field(default_factory=list)
    keep: dict[str, list[bool]] = dataclasses.field(
        default_factory=lambda: {mode: [] for mode in MODES}
    )
    dropped: dict[str, Counter[str]] = dataclasses.field(
        default_factory=lambda: {mode: Counter() for mode in MODES}
    )
    lon: dict[int, float] = dataclasses.field(default_factory=dict)
    lat: dict[int, float] = dataclasses.field(default_factory=dict)
    _memo: dict[tuple[str | None, ...], tuple[str | None, ...]] = dataclasses.field(
        default_factory=dict, repr=False
    )

    def add(self, way_id: int, refs: Iterable[int], tags: Mapping[str, str]) -> bool:
        """Sort one way into roads per mode; return True when it is a road in some mode.

        Parameters
        ----------
        way_id : int
            OSM id.
        refs : iterable of int
            Node ids in way order.
        tags : mapping of str to str
            All of the way's tags.

        Returns
        -------
        bool
            Whether the way was kept.

        Examples
        --------
        >>> ways = OsmWays()
        >>> ways.add(1, [1, 1, 2], {"highway": "footway"}), ways.add(2, [3, 4], {"power": "line"})
        (True, False)
        >>> ways.refs, ways.keep
        ([[1, 2]], {'walk': [True], 'drive': [False]})
        >>> dict(ways.dropped["drive"])
        {'highway=footway': 1, 'no_highway:power': 1}
        """
        nodes = [key for key, _ in groupby(refs)]
        flags = {}
        for mode, found in zip(MODES, self._reasons(tags), strict=True):
            reason = "too_few_nodes" if found is None and len(nodes) < MIN_WAY_NODES else found
            if reason is not None:
                self.dropped[mode][reason] += 1
            flags[mode] = reason is None
        if not any(flags.values()):
            return False
        self.way_id.append(int(way_id))
        self.refs.append(nodes)
        self.tags.append({k: tags[k] for k in KEPT_TAGS if k in tags})
        for mode in MODES:
            self.keep[mode].append(flags[mode])
        return True

    def _reasons(self, tags: Mapping[str, str]) -> tuple[str | None, ...]:
        """:func:`drop_reason` per mode, memoised on the values of the filtered keys."""
        if "highway" not in tags:
            reason = drop_reason(tags, MODES[0])
            return (reason,) * len(MODES)
        signature = tuple(tags.get(key) for key in _FILTER_KEYS)
        found = self._memo.get(signature)
        if found is None:
            found = self._memo[signature] = tuple(drop_reason(tags, mode) for mode in MODES)
        return found

    def kept(self, mode: str) -> npt.NDArray[np.bool_]:
        """Return the mask of the ways that are roads in ``mode``.

        Parameters
        ----------
        mode : {"walk", "drive"}
            Travel mode.

        Returns
        -------
        numpy.ndarray of bool
            One flag per kept way.

        Examples
        --------
        >>> ways = OsmWays()
        >>> _ = ways.add(1, [1, 2], {"highway": "steps"})
        >>> ways.kept("drive").tolist()
        [False]
        """
        return np.asarray(self.keep[mode], dtype=bool)


def _open(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_xml(path: Path) -> OsmWays:
    """Read an OSM XML file (plain, ``.bz2`` or ``.gz``) into :class:`OsmWays`, streaming.

    Parameters
    ----------
    path : pathlib.Path
        ``.osm``/``.xml``, optionally compressed.

    Returns
    -------
    OsmWays
        Roads per mode and their node coordinates.

    Raises
    ------
    DataFileError
        If the file is not well-formed (compressed) OSM XML, or a way uses a
        node the file does not hold.

    Examples
    --------
    >>> from tqspatial import datasets
    >>> ways = read_xml(datasets.raw_path("roads.osm"))
    >>> len(ways.way_id) > 1000, sum(ways.dropped["walk"].values())  # roads only, none dropped
    (True, 0)
    """
    ways = OsmWays()
    lon: dict[int, float] = {}
    lat: dict[int, float] = {}
    try:
        with _open(path) as handle:
            for _, elem in ET.iterparse(handle, events=("end",)):
                if elem.tag == "node":
                    node = int(elem.attrib["id"])
                    lon[node] = float(elem.attrib["lon"])
                    lat[node] = float(elem.attrib["lat"])
                    elem.clear()
                elif elem.tag == "way":
                    refs = [int(nd.attrib["ref"]) for nd in elem.iter("nd")]
                    tags = {t.attrib["k"]: t.attrib["v"] for t in elem.iter("tag")}
                    ways.add(int(elem.attrib["id"]), refs, tags)
                    elem.clear()
                elif elem.tag == "relation":
                    elem.clear()
    except (ET.ParseError, OSError, EOFError, KeyError, ValueError) as exc:
        msg = (
            f"road network: cannot read {path} as OSM XML ({type(exc).__name__}: {exc}); "
            "expected an .osm/.xml file, optionally .bz2 or .gz compressed"
        )
        raise DataFileError(msg) from exc
    _attach_coordinates(ways, lon, lat, path)
    return ways


def _attach_coordinates(
    ways: OsmWays, lon: Mapping[int, float], lat: Mapping[int, float], path: Path
) -> None:
    used = {node for refs in ways.refs for node in refs}
    missing = sorted(used - lon.keys())
    if missing:
        msg = (
            f"road network: {path} has ways that use {len(missing)} nodes it does not hold "
            f"(e.g. {missing[:5]}); export the extract with complete ways (osmium extract "
            "--strategy complete_ways, or osmosis completeWays=yes)"
        )
        raise DataFileError(msg)
    ways.lon = {node: lon[node] for node in used}
    ways.lat = {node: lat[node] for node in used}


def read_pbf(path: Path) -> OsmWays:
    """Read an OSM PBF file into :class:`OsmWays` with pyosmium in one pass (no XML).

    Parameters
    ----------
    path : pathlib.Path
        ``.osm.pbf`` file.

    Returns
    -------
    OsmWays
        Roads per mode and their node coordinates.

    Raises
    ------
    DataFileError
        If pyosmium is missing, or the file is not readable OSM data, or a
        way uses a node the file does not hold.

    Examples
    --------
    >>> import osmium, tempfile
    >>> from pathlib import Path
    >>> from tqspatial import datasets
    >>> with tempfile.TemporaryDirectory() as d:
    ...     pbf = str(Path(d) / "roads.osm.pbf")
    ...     with osmium.SimpleWriter(pbf) as writer:
    ...         for obj in osmium.FileProcessor(str(datasets.raw_path("roads.osm"))):
    ...             writer.add(obj)
    ...     from_pbf = len(read_pbf(Path(pbf)).way_id)
    >>> from_pbf == len(read_xml(datasets.raw_path("roads.osm")).way_id)
    True
    """
    try:
        import osmium  # noqa: PLC0415 - optional dependency, only for .pbf
    except ImportError as exc:
        msg = f"road network: reading {path} needs pyosmium (`pip install tqspatial[pbf]`)"
        raise DataFileError(msg) from exc
    ways = OsmWays()
    lon: dict[int, float] = {}
    lat: dict[int, float] = {}
    try:
        # nodes feed the location index in C++; only ways reach Python
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        )
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = obj.tags
            if "highway" not in tags:  # most ways (buildings ...): counted, nodes not touched
                ways.add(obj.id, (), {k: tags[k] for k in NON_ROAD_KEYS if k in tags})
                continue
            nodes = [(nd.ref, nd.location) for nd in obj.nodes]
            if ways.add(obj.id, [ref for ref, _ in nodes], dict(tags)):
                for ref, location in nodes:
                    if location.valid():
                        lon[ref] = location.lon
                        lat[ref] = location.lat
    except RuntimeError as exc:
        msg = f"road network: cannot read {path} as OSM PBF ({exc}); expected an .osm.pbf file"
        raise DataFileError(msg) from exc
    _attach_coordinates(ways, lon, lat, path)
    return ways
