"""Accessibility engines: edge and node snapping and opportunities against networkx on a graph
with the points inserted as nodes; the hierarchy and Dijkstra engines give the same results."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import tqspatial as tq
from tqspatial import access_stage, network
from tqspatial import accessibility as acc

from .test_hierarchy import grid_net

SPEED = network.WALK_SPEED_MPS
T_MIN = 2.0
TOL_MIN = 1e-9 / 60.0  # 1e-9 s


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def town():
    """A 12 x 12 one-way grid (not Tianqiao), parcels and facilities as points around it."""
    net = grid_net(12, seed=5)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = net.bounds()

    def points(n):
        return gpd.GeoSeries(
            gpd.points_from_xy(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
            crs=net.crs,
        )

    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": [f"p{i}" for i in range(160)],
            "residents": rng.integers(0, 300, 160).astype(float),
            "jobs": np.where(rng.random(160) < 0.5, rng.integers(1, 500, 160), 0).astype(float),
        },
        geometry=points(160),
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(24)],
            "kind": np.where(np.arange(24) % 2 == 0, "kindergarten", "primary_school"),
            "capacity": rng.integers(20, 400, 24).astype(float),
        },
        geometry=points(24),
    )
    # two facilities on the same spot as a parcel's foot: same-edge travel
    facilities.loc[22, "geometry"] = parcels.geometry.iloc[0]
    return net, parcels, facilities


def reference_graph(net, snapped, weight="time_s"):
    """networkx graph: the network with every snapped point inserted as a node (independent).

    Edge snapping splits each edge at its points (in both directions where the edge has
    them); node snapping joins the point to its node.  Connectors are walked at SPEED.
    """
    g = nx.DiGraph()
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    cost = getattr(net, weight)
    edges = {(int(a), int(b)): float(c) for a, b, c in zip(src, net.indices, cost, strict=True)}
    on_edge: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for name, row in snapped.items():
        for i, r in enumerate(row.itertuples()):
            if r.node < 0:
                continue
            point, foot = f"{name}{i}", f"{name}{i}@"
            conn = r.connector_m / (SPEED if weight == "time_s" else 1.0)
            g.add_edge(point, foot, weight=conn)
            g.add_edge(foot, point, weight=conn)
            if getattr(r, "edge_u", -1) >= 0:
                on_edge.setdefault((int(r.edge_u), int(r.edge_v)), []).append((r.edge_t, foot))
            else:
                g.add_edge(foot, int(r.node), weight=0.0)
                g.add_edge(int(r.node), foot, weight=0.0)
    for (u, v), c in edges.items():
        key = (min(u, v), max(u, v))
        if key not in on_edge:
            g.add_edge(u, v, weight=c)
    for (u, v), stops in on_edge.items():
        chain = [(0.0, u), *sorted(stops), (1.0, v)]
        for (t0, a), (t1, b) in itertools.pairwise(chain):
            if (u, v) in edges:
                g.add_edge(a, b, weight=(t1 - t0) * edges[(u, v)])
            if (v, u) in edges:
                g.add_edge(b, a, weight=(t1 - t0) * edges[(v, u)])
    return g


def nx_costs(g, origins, destinations, scale=60.0):
    """Cost (minutes) from every origin node to every destination node (reversed searches)."""
    rev = g.reverse(copy=False)
    out = np.full((len(origins), len(destinations)), np.nan)
    for j, d in enumerate(destinations):
        if d not in rev:
            continue
        dist = nx.single_source_dijkstra_path_length(rev, d)
        out[:, j] = [dist.get(o, np.nan) / scale for o in origins]
    return out


def snapped_town(town, to):
    net, parcels, facilities = town
    ps = acc.snap_points(parcels, net, to=to).join(parcels[["residents", "jobs"]])
    fs = acc.snap_points(facilities, net, to=to).join(
        facilities[["facility_id", "kind", "capacity"]]
    )
    g = reference_graph(net, {"p": ps, "f": fs})
    ref = nx_costs(g, [f"p{i}" for i in range(len(ps))], [f"f{j}" for j in range(len(fs))])
    return net, ps, fs, g, ref


# ----------------------------------------------------------------------------- snapping


def test_edge_snapping_geometry(town):
    net, parcels, _ = town
    snap = acc.snap_points(parcels, net, to="edge")
    assert (snap["edge_u"] < snap["edge_v"]).all()
    a = np.column_stack([net.x[snap["edge_u"]], net.y[snap["edge_u"]]])
    b = np.column_stack([net.x[snap["edge_v"]], net.y[snap["edge_v"]]])
    foot = a + snap["edge_t"].to_numpy()[:, None] * (b - a)
    xy = np.column_stack([parcels.geometry.x, parcels.geometry.y])
    np.testing.assert_allclose(np.hypot(*(xy - foot).T), snap["connector_m"], atol=1e-6)
    # nearest edge: no straight segment of the network is closer than the chosen one
    segs = gpd.GeoSeries(
        [
            LineString([(net.x[u], net.y[u]), (net.x[v], net.y[v])])
            for u, v in zip(*acc._segments(net), strict=True)
        ],
        crs=net.crs,
    )
    nearest = np.array([segs.distance(p).min() for p in parcels.geometry])
    np.testing.assert_allclose(snap["connector_m"], nearest, atol=1e-6)
    node = acc.snap_points(parcels, net)
    assert (snap["connector_m"] <= node["connector_m"] + 1e-9).all()
    assert (snap["connector_m"] < node["connector_m"] - 1.0).mean() > 0.5


def test_edge_snapping_keeps_the_barrier_rule():
    net = network.toy_network()  # 0 - 1 - 2 along y = 0
    # a second line y = 100 from a fourth and fifth node
    extra = network._from_edges(
        node_id=np.arange(5),
        x=np.array([0.0, 100.0, 200.0, 0.0, 200.0]),
        y=np.array([0.0, 0.0, 0.0, 100.0, 100.0]),
        u=np.array([0, 1, 1, 2, 3, 4, 0, 3]),
        v=np.array([1, 0, 2, 1, 4, 3, 3, 0]),
        length_m=np.array([100.0, 100, 100, 100, 200, 200, 100, 100]),
        time_s=np.array([100.0, 100, 100, 100, 200, 200, 100, 100]) / SPEED,
        mode="walk",
        crs=net.crs,
        bridge_name=np.array([], dtype=str),
        bridge_u=np.array([], dtype=np.int64),
        meta={},
    )
    pts = gpd.GeoSeries([Point(100, 40), Point(100, 40)], crs=net.crs)
    river = gpd.GeoSeries([LineString([(-10, 30), (210, 30)])], crs=net.crs)
    free = acc.snap_points(pts, extra, to="edge")
    barred = acc.snap_points(pts, extra, to="edge", barriers=river)
    assert free[["edge_u", "edge_v"]].values.tolist()[0] == [0, 1]
    assert barred[["edge_u", "edge_v"]].values.tolist()[0] == [3, 4]
    assert barred["connector_m"].tolist() == [60.0, 60.0]
    walled = gpd.GeoSeries([box(50, 20, 150, 60)], crs=net.crs)  # its outline encloses them
    out = acc.snap_points(pts, extra, to="edge", barriers=walled)
    assert out["snap_reason"].tolist() == ["barrier", "barrier"]
    assert (out["edge_u"] == -1).all()


# ----------------------------------------------------------------------------- costs vs networkx


@pytest.mark.parametrize("to", ["edge", "node"])
def test_cost_table_equals_networkx(town, to):
    net, ps, fs, _, ref = snapped_town(town, to)
    table = acc.cost_table(net, ps, fs)
    got = table["cost_min"].to_numpy().reshape(len(ps), len(fs))
    assert (np.isnan(got) == np.isnan(ref)).all()
    if to == "edge":  # some points sit on one-way edges
        ends = acc._ends(net, ps, "time_s", SPEED)
        assert (np.isinf(ends.wf) | np.isinf(ends.wb)).sum() >= 10
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL_MIN)


@pytest.mark.parametrize("to", ["edge", "node"])
def test_nearest_facility_equals_networkx(town, to):
    net, ps, fs, _, ref = snapped_town(town, to)
    near = acc.nearest_facility(net, ps, fs)
    for kind in ("kindergarten", "primary_school"):
        cols = (fs["kind"] == kind).to_numpy()
        want = np.nanmin(np.where(np.isnan(ref[:, cols]), np.inf, ref[:, cols]), axis=1)
        np.testing.assert_allclose(near[f"{kind}_min"], want, rtol=0, atol=TOL_MIN)
        chosen = fs.index.get_indexer(
            fs.index[fs["facility_id"].isin(near[f"{kind}_id"])]
        )  # every id names a facility of the kind
        assert set(fs.loc[fs.index[chosen], "kind"]) == {kind}
        pick = fs.reset_index().set_index("facility_id").loc[near[f"{kind}_id"], "index"]
        np.testing.assert_allclose(
            ref[np.arange(len(ps)), fs.index.get_indexer(pick)], want, rtol=0, atol=TOL_MIN
        )


@pytest.mark.parametrize(
    ("to", "kernel"), [("edge", "phast"), ("node", "phast"), ("node", "dijkstra")]
)
def test_catchments_equal_networkx(town, to, kernel, monkeypatch):
    net, ps, fs, _, ref = snapped_town(town, to)
    chosen = []
    real = acc._catchment_engine
    monkeypatch.setattr(acc, "_catchment_engine", lambda *a: chosen.append(real(*a)) or chosen[-1])
    if kernel == "dijkstra":  # the bounded searches a short catchment would choose
        monkeypatch.setattr(acc, "SEARCH_COST_PER_NODE", 0.0)
    po, fo = acc.floating_catchment(net, ps, fs, max_cost_min=T_MIN)
    assert chosen == ([] if to == "edge" else ["hierarchy" if kernel == "phast" else "dijkstra"])
    within = np.nan_to_num(ref, nan=np.inf) <= T_MIN
    assert 0 < within.sum(axis=1).mean() < len(fs)
    np.testing.assert_array_equal(po["count_within"], within.sum(axis=1))
    np.testing.assert_allclose(po["supply_within"], within @ fs["capacity"].to_numpy())
    costs = pd.DataFrame(
        {
            "origin_id": np.repeat(ps.index, len(fs)),
            "destination_id": np.tile(fs.index, len(ps)),
            "cost_min": ref.ravel(),
        }
    )
    want = acc.two_step_fca(costs, ps["residents"], fs["capacity"], max_cost_min=T_MIN)
    np.testing.assert_allclose(po["access_ratio"], want.reindex(ps.index), rtol=1e-9, atol=1e-12)
    demand = within.T @ ps["residents"].to_numpy()
    np.testing.assert_allclose(fo["demand_weighted"], demand, rtol=1e-12)


@pytest.mark.parametrize("to", ["edge", "node"])
def test_opportunities_equal_networkx(town, to):
    net, ps, _, g, _ = snapped_town(town, to)
    names = [f"p{i}" for i in range(len(ps))]
    ref = nx_costs(g, names, names)
    jobs = ps["jobs"].to_numpy()
    want = (np.nan_to_num(ref, nan=np.inf) <= T_MIN) @ jobs
    got = acc.opportunities_within(net, ps, ps, max_cost_min=T_MIN, column="jobs")
    assert got.name == "opp2_jobs"
    assert 0 < want.mean() < jobs.sum()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    other = acc.opportunities_within(net, ps, ps, max_cost_min=T_MIN, column="residents")
    want = (np.nan_to_num(ref, nan=np.inf) <= T_MIN) @ ps["residents"].to_numpy()
    np.testing.assert_allclose(other, want, rtol=1e-12)


def test_opportunities_refuse_bad_values(town):
    net, ps, *_ = snapped_town(town, "node")
    bad = ps.assign(jobs=ps["jobs"].where(ps.index != 3))
    with pytest.raises(tq.errors.SchemaError, match="missing or negative 'jobs'"):
        acc.opportunities_within(net, ps, bad, max_cost_min=T_MIN)
    with pytest.raises(tq.errors.SchemaError, match="no column 'floor'"):
        acc.opportunities_within(net, ps, ps, max_cost_min=T_MIN, column="floor")


def test_dijkstra_engine_takes_node_snapping_only(town):
    net, ps, fs, *_ = snapped_town(town, "edge")
    with pytest.raises(ValueError, match="node-snapped points only"):
        acc.cost_table(net, ps, fs, engine="dijkstra")
    with pytest.raises(ValueError, match="engine must be"):
        acc.cost_table(net, ps, fs, engine="fast")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- engines agree


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        x, y = a[column], b[column]
        exact = column.startswith("count") or column.endswith(("_within", "_covered"))
        if x.dtype.kind == "f" and not exact:  # minutes to 1e-9 s, metres and ratios to 1e-9
            atol = TOL_MIN if column.endswith("_min") else 1e-9
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=atol, err_msg=column)
        else:
            pd.testing.assert_series_equal(x, y, check_exact=True)


def test_engines_agree_on_the_embedded_refresh(tianqiao, tmp_path):
    walk = network.load_network(tianqiao.road_network_path, mode="walk", cache=False)
    drive = network.load_network(tianqiao.road_network_path, mode="drive", cache=False)
    kept, _ = tq.validate_parcels(tianqiao.parcels)
    parcels, _ = tq.assign_parcels(kept, tianqiao.structure)
    river = tianqiao.water[tianqiao.water["name_en"] == "Yellow River indicative channel"]
    results = {
        engine: access_stage.cluster_access(
            walk,
            drive,
            parcels,
            tianqiao.facilities,
            structure=tianqiao.structure,
            barriers=river,
            engine=engine,
        )
        for engine in ("dijkstra", "hierarchy")
    }
    old, new = results["dijkstra"], results["hierarchy"]
    _assert_same(old.parcels, new.parcels)
    assert np.nansum(old.parcels.filter(like="count").to_numpy()) > 0
    _assert_same(old.clusters, new.clusters)
    np.testing.assert_allclose(old.linkage, new.linkage, rtol=0, atol=TOL_MIN)
    # cost tables of the same snapped points
    ps = acc.snap_points(parcels.iloc[:300], drive, barriers=river)
    fs = acc.snap_points(tianqiao.facilities, drive, barriers=river)
    a = acc.cost_table(drive, ps, fs, engine="dijkstra")
    b = acc.cost_table(drive, ps, fs, engine="hierarchy")
    np.testing.assert_allclose(a["cost_min"], b["cost_min"], rtol=0, atol=TOL_MIN)
    assert a["cost_min"].notna().mean() > 0.9


def test_opportunities_in_the_stage(tianqiao):
    walk = network.load_network(tianqiao.road_network_path, mode="walk", cache=False)
    drive = network.load_network(tianqiao.road_network_path, mode="drive", cache=False)
    kept, _ = tq.validate_parcels(tianqiao.parcels)
    parcels, _ = tq.assign_parcels(kept.iloc[::7], tianqiao.structure)
    parcels["jobs"] = pd.to_numeric(parcels["jobs"], errors="coerce").fillna(0.0)
    out = access_stage.cluster_access(
        walk,
        drive,
        parcels,
        tianqiao.facilities,
        structure=tianqiao.structure,
        opportunities=["jobs"],
        catchment_min=10.0,
        snap="edge",
    )
    ps = acc.snap_points(parcels, walk, to="edge").join(parcels[["jobs"]])
    want = acc.opportunities_within(walk, ps, ps, max_cost_min=10.0, engine="hierarchy")
    np.testing.assert_allclose(out.parcels["opp10_jobs"], want)
    summary = out.clusters[out.clusters["measure"] == "opp10_jobs"]
    assert set(summary["weighted_by"]) == {"residents", "area"}
    assert (summary["mean"] > 0).any()
