"""Real OSM extracts: only roads become edges, filtered as osmnx filters them.

The reference is independent of tqspatial's reader: osmnx's own ``graph_from_xml`` on the
same file (every way, unsimplified), cut to roads with the Overpass filter that the installed
osmnx publishes for its ``walk`` and ``drive`` network types (parsed here from
``osmnx._overpass._get_network_filter``), then networkx Dijkstra.
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from tqspatial import network
from tqspatial.errors import DataQualityWarning, SchemaError

FIXTURE = Path(__file__).parent / "data" / "osm" / "West-Oakland.osm.bz2"
#: The fixture's own zone (UTM 10N): no zone warning.
UTM10 = "EPSG:32610"


def _osmnx_rules(network_type: str) -> tuple[list[str], list[tuple[str, re.Pattern[str]]]]:
    """Keys that must exist and (key, pattern) exclusions, parsed from osmnx's Overpass filter."""
    import osmnx as ox

    text = ox._overpass._get_network_filter(network_type)
    clauses = re.findall(r'\["([^"]+)"(?:!~"([^"]*)")?\]', text)
    assert "".join(f'["{k}"' + (f'!~"{p}"' if p else "") + "]" for k, p in clauses) == text
    required = [k for k, p in clauses if not p]
    return required, [(k, re.compile(p)) for k, p in clauses if p]


def _osmnx_is_road(tags: dict, network_type: str) -> bool:
    """Overpass: ``[k]`` needs the key; ``[k!~p]`` passes when k is absent or p is not found."""
    required, excluded = _osmnx_rules(network_type)
    if any(k not in tags for k in required):
        return False
    return not any(k in tags and p.search(str(tags[k])) for k, p in excluded)


def _fixture_ways() -> list[tuple[int, dict]]:
    with bz2.open(FIXTURE, "rb") as handle:
        root = ET.parse(handle).getroot()
    return [
        (int(w.get("id")), {t.get("k"): t.get("v") for t in w.iter("tag")})
        for w in root.iter("way")
    ]


@pytest.fixture(scope="module")
def osmnx_graphs():
    """osmnx's graphs of every way in the fixture, one edge per segment, with the filter tags."""
    import osmnx as ox

    keys = {k for mode in ("walk", "drive") for k, _ in _osmnx_rules(mode)[1]}
    previous = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = sorted(set(previous) | keys | {"railway", "building", "power"})
    try:
        drive = ox.graph_from_xml(FIXTURE, bidirectional=False, simplify=False, retain_all=True)
        walk = ox.graph_from_xml(FIXTURE, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = previous
    return {"walk": walk, "drive": drive}


@pytest.fixture(scope="module")
def nets():
    return network.load_networks(FIXTURE, ("walk", "drive"), to_crs=UTM10, cache=False)


def _seconds(data: dict, mode: str) -> float:
    if mode == "walk":
        return data["length"] / network.WALK_SPEED_MPS
    speed = network.parse_maxspeed(data.get("maxspeed"))
    if np.isnan(speed):
        speed = network.DRIVE_SPEED_KMH.get(data.get("highway"), network.FALLBACK_SPEED_KMH)
    return data["length"] / (speed / 3.6)


def _reference(graph: nx.MultiDiGraph, mode: str, *, roads_only: bool = True) -> nx.DiGraph:
    """Roads-only DiGraph (min time over parallel edges), largest strongly connected component."""
    ref = nx.DiGraph()
    for a, b, data in graph.edges(data=True):
        if a == b or (roads_only and not _osmnx_is_road(data, mode)):
            continue
        t = _seconds(data, mode)
        if not ref.has_edge(a, b) or ref[a][b]["t"] > t:
            ref.add_edge(a, b, t=t, length=data["length"])
    return ref.subgraph(max(nx.strongly_connected_components(ref), key=len)).copy()


def _max_error(net: network.CompiledNetwork, ref: nx.DiGraph, n_sources: int = 25) -> float:
    rng = np.random.default_rng(16)
    sources = rng.choice(net.n_nodes, min(n_sources, net.n_nodes), replace=False)
    dist = dijkstra(net.matrix("time_s"), indices=sources)
    worst = 0.0
    for row, s in enumerate(sources):
        expected = nx.single_source_dijkstra_path_length(ref, int(net.node_id[s]), weight="t")
        got = dict(zip(net.node_id.tolist(), dist[row].tolist(), strict=True))
        assert set(got) <= set(expected)  # every tqspatial node is a road node of the reference
        worst = max([worst, *(abs(got[k] - expected[k]) for k in got)])
    return worst


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_costs_equal_networkx_on_osmnx_roads_only_graph(nets, osmnx_graphs, mode):
    net = nets[mode]
    ref = _reference(osmnx_graphs[mode], mode)
    # junctions and dead ends of the roads-only graph are all kept (chains are contracted)
    ends = {n for n in ref if len(set(ref.predecessors(n)) | set(ref.successors(n))) != 2}
    assert ends <= set(net.node_id.tolist()) <= set(ref)
    assert net.n_nodes >= 10
    assert _max_error(net, ref) <= 1e-9
    # with the non-road ways the same file gives other costs: the filter matters on this extract
    unfiltered = _reference(osmnx_graphs[mode], mode, roads_only=False)
    assert set(unfiltered) - set(ref)  # buildings, landuse outlines ... would become "roads"
    if mode == "drive":  # footways and the like give cars shortcuts: > 1 % off somewhere
        worst = 0.0
        for source in net.node_id.tolist():
            good = nx.single_source_dijkstra_path_length(ref, source, weight="t")
            bad = nx.single_source_dijkstra_path_length(unfiltered, source, weight="t")
            worst = max([worst, *(good[k] / bad[k] - 1 for k in good if k != source)])
        assert worst > 0.01


def test_non_road_ways_of_the_fixture_are_no_edges(nets, osmnx_graphs):
    ways = dict(_fixture_ways())
    non_road = {w for w, tags in ways.items() if "highway" not in tags}
    building = {w for w in non_road if "building" in ways[w]}
    railway = {w for w in non_road if "railway" in ways[w]}
    assert len(building) >= 10
    assert railway
    # nodes used only by non-road ways never become network nodes
    only_non_road: set[int] = set()
    road_nodes: set[int] = set()
    for a, b, data in osmnx_graphs["walk"].edges(data=True):
        (road_nodes if "highway" in data else only_non_road).update((a, b))
    only_non_road -= road_nodes
    assert len(only_non_road) > 50
    for net in nets.values():
        assert not only_non_road & set(net.node_id.tolist())


def test_dropped_way_counts_on_the_fixture(nets):
    ways = _fixture_ways()
    for mode, net in nets.items():
        dropped = net.meta["dropped_ways"]
        expected_total = sum(not _osmnx_is_road(tags, mode) for _, tags in ways)
        assert sum(dropped.values()) == expected_total
        assert net.meta["kept_ways"] == len(ways) - expected_total
        no_highway = sum("highway" not in tags for _, tags in ways)
        assert sum(c for r, c in dropped.items() if r.startswith("no_highway:")) == no_highway
        assert dropped["no_highway:building"] == sum(
            "highway" not in t and "building" in t for _, t in ways
        )
        assert dropped["no_highway:railway"] == sum(
            "highway" not in t and "building" not in t and "power" not in t and "railway" in t
            for _, t in ways
        )
    assert nets["drive"].meta["dropped_ways"]["highway=footway"] == sum(
        t.get("highway") == "footway" for _, t in _fixture_ways()
    )
    assert (
        network.road_filter_counts(nets)["walk"]["dropped_ways"]
        == nets["walk"].meta["dropped_ways"]
    )


def test_drop_reason_agrees_with_osmnx_filter():
    values = {
        "highway": [None, "residential", "service", "footway", "motorway_link", "steps", "track"],
        "access": [None, "private", "destination"],
        "service": [None, "parking_aisle", "driveway", "private"],
        "foot": [None, "no", "yes"],
        "motor_vehicle": [None, "no", "unknown"],
        "area": [None, "yes"],
        "sidewalk": [None, "separate", "both"],
    }
    checked = 0
    for combo in itertools.product(*values.values()):
        tags = {k: v for k, v in zip(values, combo, strict=True) if v is not None}
        for mode in ("walk", "drive"):
            reason = network.drop_reason(tags, mode)
            assert (reason is None) == _osmnx_is_road(tags, mode), (tags, mode, reason)
            checked += 1
    assert checked == 2 * np.prod([len(v) for v in values.values()])


def _same(a: network.CompiledNetwork, b: network.CompiledNetwork) -> None:
    for name in ("node_id", "x", "y", "indptr", "indices", "length_m", "time_s"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.meta["dropped_ways"] == b.meta["dropped_ways"]


def test_plain_gzip_and_pbf_give_the_same_network(tmp_path, nets):
    import osmium

    plain = tmp_path / "oakland.osm"
    plain.write_bytes(bz2.decompress(FIXTURE.read_bytes()))
    gz = tmp_path / "oakland.osm.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    pbf = tmp_path / "oakland.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(plain)):
            writer.add(obj)
    for path in (plain, gz, pbf):
        other = network.load_networks(path, to_crs=UTM10, cache=False)
        for mode in ("walk", "drive"):
            _same(nets[mode], other[mode])


def test_graphml_is_filtered_on_its_edge_tags(tmp_path, nets, osmnx_graphs):
    import osmnx as ox

    graphml = tmp_path / "oakland.graphml"
    ox.save_graphml(osmnx_graphs["drive"], graphml)
    drive = network.load_network(graphml, mode="drive", to_crs=UTM10, cache=False)
    assert set(drive.node_id.tolist()) >= set(nets["drive"].node_id.tolist())
    assert _max_error(drive, _reference(osmnx_graphs["drive"], "drive")) <= 1e-9
    assert drive.meta["kept_ways"] == nets["drive"].meta["kept_ways"]
    reasons = {r for r in drive.meta["dropped_ways"] if not r.startswith("no_highway")}
    assert reasons == {r for r in nets["drive"].meta["dropped_ways"] if not r.startswith("no_")}


ROADS_AND_OTHERS = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="36.7000" lon="117.0000"/>
 <node id="2" lat="36.7000" lon="117.0010"/>
 <node id="3" lat="36.7000" lon="117.0020"/>
 <node id="4" lat="36.7010" lon="117.0020"/>
 <node id="5" lat="36.7010" lon="117.0000"/>
 <node id="6" lat="36.6990" lon="117.0010"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="1"/>
  <tag k="highway" v="residential"/></way>
 <way id="20"><nd ref="2"/><nd ref="4"/><nd ref="5"/><nd ref="2"/><tag k="building" v="yes"/></way>
 <way id="21"><nd ref="6"/><nd ref="2"/><nd ref="5"/><tag k="power" v="line"/></way>
 <way id="22"><nd ref="6"/><nd ref="4"/><tag k="railway" v="rail"/></way>
 <way id="23"><nd ref="6"/><nd ref="3"/><tag k="barrier" v="fence"/></way>
</osm>
"""


def test_building_power_line_railway_never_become_edges(tmp_path):
    path = tmp_path / "roads.osm"
    path.write_text(ROADS_AND_OTHERS, encoding="utf-8")
    nets = network.load_networks(path, cache=False)
    for net in nets.values():
        # the road ring 1-2-3-4-5-1 only: node 6 (on no road) is absent, and no edge
        # joins two nodes that only a building, power line or railway joins
        assert 6 not in net.node_id.tolist()
        src = np.repeat(net.node_id, np.diff(net.indptr))
        ends = net.node_id[net.indices].tolist()
        pairs = {frozenset(p) for p in zip(src.tolist(), ends, strict=True)}
        assert not pairs & {frozenset({2, 4}), frozenset({2, 5}), frozenset({6, 4})}
        assert net.meta["dropped_ways"] == {
            "no_highway:barrier": 1,
            "no_highway:building": 1,
            "no_highway:power": 1,
            "no_highway:railway": 1,
        }
    # independent: the ring's length from osmnx's great circle, around both roads
    from osmnx.distance import great_circle

    lat = {1: 36.7, 2: 36.7, 3: 36.7, 4: 36.701, 5: 36.701}
    lon = {1: 117.0, 2: 117.001, 3: 117.002, 4: 117.002, 5: 117.0}
    ring = [1, 2, 3, 4, 5, 1]
    total = sum(great_circle(lat[a], lon[a], lat[b], lon[b]) for a, b in itertools.pairwise(ring))
    assert nets["walk"].length_m.sum() == pytest.approx(2 * total, abs=1e-9)


def test_network_outside_the_working_zone_warns_naming_the_file(caplog):
    caplog.set_level("INFO", logger="tqspatial.network")
    with pytest.warns(DataQualityWarning, match=r"West-Oakland\.osm\.bz2 spans lon -122\.30"):
        network.load_networks(FIXTURE, ("walk",), cache=False)
    assert "EPSG:4548" in caplog.text
    # the dropped ways are logged by reason, the largest count first (buildings here)
    ways = _fixture_ways()
    roads = sum(_osmnx_is_road(tags, "walk") for _, tags in ways)
    buildings = sum("highway" not in t and "building" in t for _, t in ways)
    expected = f"{roads} ways are walk roads, {len(ways) - roads} ways dropped: "
    assert f"{expected}no_highway:building {buildings}," in caplog.text


def test_cache_goes_to_the_user_cache_folder(tmp_path, monkeypatch):
    import platformdirs

    src_dir = tmp_path / "data"
    src_dir.mkdir()
    src = shutil.copy(FIXTURE, src_dir)
    folder = tmp_path / "my-cache"
    monkeypatch.setenv(network.CACHE_DIR_ENV, str(folder))
    first = network.load_network(src, mode="walk", to_crs=UTM10)
    second = network.load_network(src, mode="walk", to_crs=UTM10)
    assert (first.meta["from_cache"], second.meta["from_cache"]) == (False, True)
    assert sorted(p.name for p in src_dir.iterdir()) == [FIXTURE.name]
    assert [p.name for p in folder.iterdir()] == [network.cache_path(src, "walk").name]
    # two sources with the same name in different folders keep separate caches
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = shutil.copy(FIXTURE, other_dir)
    assert network.cache_path(other, "walk") != network.cache_path(src, "walk")
    monkeypatch.delenv(network.CACHE_DIR_ENV)
    assert network.default_cache_dir() == (
        Path(platformdirs.user_cache_dir("tqspatial", appauthor=False)) / "networks"
    )


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, OSError])
def test_partial_cache_file_is_removed(tmp_path, monkeypatch, stop):
    def savez_then_stop(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")
        msg = "stopped while writing"
        raise stop(msg)

    monkeypatch.setattr(network.np, "savez", savez_then_stop)
    folder = tmp_path / "cache"
    if stop is OSError:  # a full disk: warned, the run goes on without a cache
        net = network.load_network(FIXTURE, mode="walk", to_crs=UTM10, cache_dir=folder)
        assert net.n_nodes > 0
    else:
        with pytest.raises(stop):
            network.load_network(FIXTURE, mode="walk", to_crs=UTM10, cache_dir=folder)
    assert list(folder.iterdir()) == []


def test_counts_for_the_refresh_manifest(nets):
    counts = network.road_filter_counts(nets)
    assert set(counts) == {"walk", "drive"}
    for entry in counts.values():
        assert entry["kept_ways"] + sum(entry["dropped_ways"].values()) == len(_fixture_ways())


def test_a_file_without_roads_for_a_mode_names_the_file_and_the_reasons(tmp_path):
    path = tmp_path / "paths.osm.gz"
    text = ROADS_AND_OTHERS.replace('v="residential"', 'v="footway"')
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    walk = network.load_network(path, mode="walk", cache=False)
    # a ring without a junction is kept as it is (osmnx does not simplify it either)
    assert walk.node_id.tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(
        SchemaError,
        match=r"road network .*paths\.osm\.gz has no drive roads "
        r"\(ways dropped by reason: highway=footway 2, no_highway:barrier 1",
    ):
        network.load_network(path, mode="drive", cache=False)
