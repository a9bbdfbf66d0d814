"""Write a road network as an OSM XML file: plumbing of the synthetic-data generator.

The embedded dataset ships its synthetic road network as an ``.osm`` file so
that it is read exactly like a real OpenStreetMap extract
(``osmnx.graph_from_xml``).  Readers live in :mod:`tqspatial.io` and
:mod:`tqspatial.network`; this writer is only for building test and demo data.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

__all__ = ["write_osm_xml"]


def write_osm_xml(
    path: str | os.PathLike[str],
    *,
    nodes: pd.DataFrame,
    ways: Iterable[tuple[int, list[int], Mapping[str, str]]],
    generator: str,
) -> Path:
    """Write nodes and ways as an OSM XML (API 0.6) file (an existing file is replaced).

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.osm``.
    nodes : pandas.DataFrame
        Columns ``id``, ``lon``, ``lat`` (WGS84, as OSM requires).
    ways : iterable of (way id, node ids, tags)
        Each way as its id, its node references in order and its tags.
    generator : str
        Value of the ``generator`` attribute (say where the data came from).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> import osmnx as ox
    >>> nodes = pd.DataFrame({"id": [1, 2], "lon": [117.0, 117.001], "lat": [36.7, 36.7]})
    >>> ways = [(1, [1, 2], {"highway": "residential"})]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_osm_xml(Path(tmp) / "r.osm", nodes=nodes, ways=ways, generator="doc")
    ...     ox.graph_from_xml(path, simplify=False).number_of_edges()
    2
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    root = ET.Element("osm", version="0.6", generator=generator)
    ET.SubElement(
        root,
        "bounds",
        minlat=f"{nodes['lat'].min():.7f}",
        minlon=f"{nodes['lon'].min():.7f}",
        maxlat=f"{nodes['lat'].max():.7f}",
        maxlon=f"{nodes['lon'].max():.7f}",
    )
    for node_id, lon, lat in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True):
        ET.SubElement(
            root, "node", id=str(int(node_id)), lat=f"{lat:.7f}", lon=f"{lon:.7f}", version="1"
        )
    for way_id, refs, tags in ways:
        way = ET.SubElement(root, "way", id=str(int(way_id)), version="1")
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(int(ref)))
        for key, value in tags.items():
            ET.SubElement(way, "tag", k=key, v=value)
    ET.indent(root, space=" ")
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path
