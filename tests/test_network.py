"""Network compilation, speeds, components and the cache, checked against networkx."""

from __future__ import annotations

import math
import shutil

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from tqspatial import network
from tqspatial.errors import DataFileError, SchemaError


def _graph() -> nx.MultiDiGraph:
    """Square 1-2-3-4 with a diagonal, parallel edges, a one-way spur and a self-loop."""
    g = nx.MultiDiGraph(crs="EPSG:4548")
    for node, (x, y) in {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (200, 0)}.items():
        g.add_node(node, x=float(x), y=float(y))
    both = [(1, 2, 100.0, "primary"), (2, 3, 100.0, "secondary"), (3, 4, 100.0, "residential")]
    for a, b, length, hw in both:
        g.add_edge(a, b, length=length, highway=hw)
        g.add_edge(b, a, length=length, highway=hw)
    g.add_edge(4, 1, length=100.0, highway="tertiary", maxspeed="60")  # one way, maxspeed
    g.add_edge(1, 3, length=141.0, highway="footway")  # not for cars
    g.add_edge(1, 2, length=90.0, highway="residential")  # parallel: shorter but slower
    g.add_edge(2, 5, length=100.0, highway="primary")  # one-way spur: 5 is a dead end
    g.add_edge(3, 3, length=10.0, highway="residential")  # self-loop
    return g


def _expected_time(data: dict) -> float:
    speed = network.parse_maxspeed(data.get("maxspeed"))
    if math.isnan(speed):
        speed = network.DRIVE_SPEED_KMH[data["highway"]]
    return data["length"] / (speed / 3.6)


def test_parse_maxspeed():
    assert network.parse_maxspeed("50") == 50.0
    assert network.parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert network.parse_maxspeed(["60", "40"]) == 40.0
    assert math.isnan(network.parse_maxspeed("CN:urban"))
    assert math.isnan(network.parse_maxspeed(None))
    assert math.isnan(network.parse_maxspeed("0"))


def test_hand_graph_drive_matches_networkx():
    g = _graph()
    net = network.compile_graph(g, mode="drive")
    # node 5 is reachable but cannot return: dropped with its edge
    assert net.meta["dropped_nodes"] == 1
    assert net.meta["dropped_edges"] == 1
    assert net.meta["excluded_edges"] == 1
    assert net.meta["dropped_ways"] == {"highway=footway": 1}
    assert 5 not in set(net.node_id.tolist())
    # independent: networkx on the drive edges, weight = min time over parallel edges
    ref = nx.DiGraph()
    for a, b, data in g.edges(data=True):
        if data["highway"] == "footway" or a == b or 5 in (a, b):
            continue
        t = _expected_time(data)
        if not ref.has_edge(a, b) or ref[a][b]["t"] > t:
            ref.add_edge(a, b, t=t)
    dist = dijkstra(net.matrix("time_s"))
    for i, a in enumerate(net.node_id):
        lengths = nx.single_source_dijkstra_path_length(ref, int(a), weight="t")
        for j, b in enumerate(net.node_id):
            assert dist[i, j] == pytest.approx(lengths[int(b)], abs=1e-9)
    # parallel 1->2: shortest length is 90 m (residential), fastest time is the primary
    i1, i2 = (int(np.flatnonzero(net.node_id == k)[0]) for k in (1, 2))
    assert net.matrix("length_m")[i1, i2] == 90.0
    assert net.matrix("time_s")[i1, i2] == pytest.approx(100 / (50 / 3.6))


def test_walk_is_bidirectional_and_uses_walk_speed():
    net = network.compile_graph(_graph(), mode="walk", walk_speed_mps=1.5)
    assert net.meta["dropped_nodes"] == 0  # both directions: spur 5 is kept
    m = net.matrix("time_s")
    assert np.allclose((m - m.T).toarray(), 0.0)
    assert np.allclose(net.time_s, net.length_m / 1.5)


def test_speed_override():
    base = network.compile_graph(_graph(), mode="drive")
    slow = network.compile_graph(_graph(), mode="drive", speeds_kmh={"secondary": 20.0})
    i2, i3 = (int(np.flatnonzero(base.node_id == k)[0]) for k in (2, 3))
    assert slow.matrix()[i2, i3] == pytest.approx(100 / (20 / 3.6))
    assert base.matrix()[i2, i3] == pytest.approx(100 / (40 / 3.6))
    with pytest.raises(ValueError, match="positive"):
        network.compile_graph(_graph(), speeds_kmh={"primary": 0.0})


def test_empty_and_unprojected_graphs():
    with pytest.raises(SchemaError, match="empty"):
        network.compile_graph(nx.MultiDiGraph(crs="EPSG:4548"))
    with pytest.raises(SchemaError, match="project"):
        network.compile_graph(nx.MultiDiGraph())
    g = nx.MultiDiGraph(crs="EPSG:4548")
    g.add_node(1, x=0.0, y=0.0)
    g.add_node(2, x=1.0, y=0.0)
    g.add_edge(1, 2, length=1.0, highway="footway")
    with pytest.raises(SchemaError, match="no drive edges"):
        network.compile_graph(g, mode="drive")


@pytest.fixture(scope="module")
def roads_copy(tmp_path_factory, tianqiao):
    folder = tmp_path_factory.mktemp("roads")
    return shutil.copy(tianqiao.road_network_path, folder)


def test_embedded_drive_matches_networkx(roads_copy):
    import osmnx as ox

    # every component: tqspatial counts the nodes of small components as dropped too
    graph = ox.graph_from_xml(roads_copy, bidirectional=False, simplify=True, retain_all=True)
    graph.remove_nodes_from(list(nx.isolates(graph)))  # nodes in no way are no road nodes
    net = network.load_network(roads_copy, mode="drive", cache=False)
    # largest strongly connected component, by networkx
    ref = nx.DiGraph()
    for a, b, data in graph.edges(data=True):
        if a == b:
            continue
        t = _expected_time(data)
        if not ref.has_edge(a, b) or ref[a][b]["t"] > t:
            ref.add_edge(a, b, t=t)
    largest = max(nx.strongly_connected_components(ref), key=len)
    assert set(net.node_id.tolist()) == set(largest)
    assert net.meta["dropped_nodes"] == graph.number_of_nodes() - len(largest)
    ref = ref.subgraph(largest)
    rng = np.random.default_rng(9)
    sources = rng.choice(net.n_nodes, 15, replace=False)
    dist = dijkstra(net.matrix("time_s"), indices=sources)
    for row, s in enumerate(sources):
        lengths = nx.single_source_dijkstra_path_length(ref, int(net.node_id[s]), weight="t")
        got = dict(zip(net.node_id.tolist(), dist[row], strict=True))
        assert len(lengths) == net.n_nodes
        assert max(abs(got[k] - v) for k, v in lengths.items()) < 1e-9
    assert {"齐鲁黄河大桥", "泺口浮桥", "建邦黄河大桥"} <= set(net.bridge_name.tolist())


def test_cache_second_load_does_not_parse(tmp_path, roads_copy, monkeypatch):
    src = shutil.copy(roads_copy, tmp_path / "roads.osm")
    first = network.load_network(src, mode="walk")
    assert not first.meta["from_cache"]
    target = network.cache_path(src, "walk")
    assert target.is_file()

    def refuse(*args, **kwargs):
        msg = "the XML was parsed again"
        raise AssertionError(msg)

    monkeypatch.setattr(network, "read_ways", refuse)
    second = network.load_network(src, mode="walk")
    assert second.meta["from_cache"]
    for name in ("node_id", "x", "y", "indptr", "indices", "length_m", "time_s"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert second.meta["dropped_nodes"] == first.meta["dropped_nodes"]
    # other parameters: the cache does not apply
    with pytest.raises(AssertionError, match="parsed again"):
        network.load_network(src, mode="walk", walk_speed_mps=1.3)


def test_cache_invalidated_by_changed_source(tmp_path, roads_copy):
    src = shutil.copy(roads_copy, tmp_path / "roads.osm")
    first = network.load_network(src, mode="drive")
    text = (tmp_path / "roads.osm").read_text(encoding="utf-8")
    # slow the whole network down: every maxspeed halves
    changed = text.replace('k="maxspeed" v="60"', 'k="maxspeed" v="30"')
    assert changed != text
    (tmp_path / "roads.osm").write_text(changed, encoding="utf-8")
    second = network.load_network(src, mode="drive")
    assert not second.meta["from_cache"]
    assert second.time_s.sum() > first.time_s.sum()
    assert network.load_network(src, mode="drive").meta["from_cache"]


def test_graphml_and_pbf_give_the_same_network(tmp_path, roads_copy):
    import osmium
    import osmnx as ox

    osm = network.load_network(roads_copy, mode="drive", cache=False)
    raw = ox.graph_from_xml(roads_copy, bidirectional=False, simplify=True)
    graphml = tmp_path / "roads.graphml"
    ox.save_graphml(raw, graphml)
    from_graphml = network.load_network(graphml, mode="drive", cache=False)
    pbf = tmp_path / "roads.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(roads_copy)):
            writer.add(obj)
    from_pbf = network.load_network(pbf, mode="drive", cache=False)
    for other in (from_graphml, from_pbf):
        assert other.n_nodes == osm.n_nodes
        assert other.n_edges == osm.n_edges
    assert from_pbf.time_s.sum() == pytest.approx(osm.time_s.sum(), rel=1e-9)
    # A GraphML saved simplified has merged chains whose ways had different speed limits
    # into one edge with one (averaged) speed: times agree to 1e-4, lengths exactly.
    assert from_graphml.time_s.sum() == pytest.approx(osm.time_s.sum(), rel=1e-4)
    assert from_graphml.length_m.sum() == pytest.approx(osm.length_m.sum(), rel=1e-9)


def test_bad_files(tmp_path):
    with pytest.raises(DataFileError, match="not found"):
        network.load_network(tmp_path / "nope.osm")
    bad = tmp_path / "roads.shp"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(DataFileError, match="unsupported"):
        network.load_network(bad, cache=False)
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'></osm>", encoding="utf-8")
    with pytest.raises((DataFileError, SchemaError), match="road network"):
        network.load_network(empty)
    assert not network.cache_path(empty, "drive").exists()


def test_cache_dir_keeps_the_source_folder_clean(tmp_path, roads_copy):
    src_dir = tmp_path / "raw"
    src_dir.mkdir()
    src = shutil.copy(roads_copy, src_dir / "roads.osm")
    cache_dir = tmp_path / "cache"
    first = network.load_network(src, mode="walk", cache_dir=cache_dir)
    assert sorted(p.name for p in src_dir.iterdir()) == ["roads.osm"]
    assert network.cache_path(src, "walk", cache_dir).parent == cache_dir
    assert network.cache_path(src, "walk", cache_dir).is_file()
    second = network.load_network(src, mode="walk", cache_dir=cache_dir)
    assert not first.meta["from_cache"]
    assert second.meta["from_cache"]
