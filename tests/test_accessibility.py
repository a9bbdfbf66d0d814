"""Accessibility: costs vs networkx, 2SFCA vs the `access` package, barriers, bad inputs."""

from __future__ import annotations

import shutil
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import tqspatial as tq
from tqspatial import accessibility as acc
from tqspatial import lifecircle, network
from tqspatial.errors import DataQualityWarning, SchemaError

SPEED = network.WALK_SPEED_MPS


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, tianqiao):
    folder = tmp_path_factory.mktemp("roads")
    src = shutil.copy(tianqiao.road_network_path, folder)
    drive = network.load_network(src, mode="drive")
    walk = network.load_network(src, mode="walk")
    river = tianqiao.water[tianqiao.water["name_en"] == "Yellow River indicative channel"]
    assert len(river) == 1
    kept, _ = tq.validate_parcels(tianqiao.parcels)
    parcels, _ = tq.assign_parcels(kept, tianqiao.structure)
    return {"drive": drive, "walk": walk, "river": river, "parcels": parcels}


def _nx_reversed(net: network.CompiledNetwork, weight: str = "time_s") -> nx.DiGraph:
    """An independent networkx graph (edges reversed) from the arrays."""
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    w = getattr(net, weight)
    g.add_weighted_edges_from(zip(net.indices.tolist(), src.tolist(), w.tolist(), strict=True))
    return g


def _snapped(embedded, tianqiao, n_parcels=600, seed=3):
    net = embedded["drive"]
    rng = np.random.default_rng(seed)
    parcels = embedded["parcels"].iloc[rng.choice(len(embedded["parcels"]), n_parcels, False)]
    ps = acc.snap_points(parcels, net, barriers=embedded["river"]).join(parcels[["residents"]])
    fac = tianqiao.facilities
    fs = acc.snap_points(fac, net, barriers=embedded["river"]).join(
        fac[["facility_id", "kind", "capacity"]]
    )
    return net, ps, fs


def test_nearest_facility_equals_networkx(embedded, tianqiao):
    net, ps, fs = _snapped(embedded, tianqiao)
    near = acc.nearest_facility(net, ps, fs)
    rev = _nx_reversed(net)
    ok = ps["node"].to_numpy() >= 0
    for kind in ("general_hospital", "metro_station"):
        group = fs[(fs["kind"] == kind) & (fs["node"] >= 0)]
        best = np.full(len(ps), np.inf)
        for _, f in group.iterrows():
            d = nx.single_source_dijkstra_path_length(rev, int(f["node"]))
            fconn = f["connector_m"] / SPEED
            nd = np.array([d.get(int(n), np.inf) for n in ps["node"]])
            best = np.minimum(best, nd + fconn)
        expected = (best + ps["connector_m"].to_numpy() / SPEED) / 60
        got = near[f"{kind}_min"].to_numpy()
        assert np.all(np.isnan(got[~ok]))
        assert np.max(np.abs(got[ok] - expected[ok]) * 60) < 1e-9  # seconds
        # the reported facility gives that cost
        ids = near.loc[ok, f"{kind}_id"].to_numpy()
        assert set(ids) <= set(group["facility_id"])


def test_cost_table_equals_networkx(embedded, tianqiao):
    net, ps, fs = _snapped(embedded, tianqiao, n_parcels=50)
    dest = fs[fs["kind"] == "general_hospital"].set_index("facility_id")
    table = acc.cost_table(net, ps, dest)
    rev = _nx_reversed(net)
    for fid, f in dest.iterrows():
        if f["node"] < 0:
            assert table.loc[table["destination_id"] == fid, "cost_min"].isna().all()
            continue
        d = nx.single_source_dijkstra_path_length(rev, int(f["node"]))
        sub = table[table["destination_id"] == fid].set_index("origin_id")["cost_min"]
        for pid, p in ps.iterrows():
            if p["node"] < 0:
                assert np.isnan(sub[pid])
            else:
                exp = d[int(p["node"])] + p["connector_m"] / SPEED + f["connector_m"] / SPEED
                assert abs(sub[pid] * 60 - exp) < 1e-9


def _access_reference(table, demand, supply, max_cost, weight_fn):
    import access

    demand_df = pd.DataFrame({"geoid": demand.index, "demand": demand.to_numpy()})
    supply_df = pd.DataFrame({"geoid": supply.index, "supply": supply.to_numpy()})
    cost_df = table.rename(
        columns={"origin_id": "origin", "destination_id": "dest", "cost_min": "cost"}
    )
    with warnings.catch_warnings():
        # access 1.1.10 uses set_index(inplace=True), deprecated in pandas 3.1 (not our code)
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        acc_obj = access.Access(
            demand_df=demand_df,
            demand_index="geoid",
            demand_value="demand",
            supply_df=supply_df,
            supply_index="geoid",
            supply_value="supply",
            cost_df=cost_df,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        out = acc_obj.two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn)
    return out.iloc[:, 0]


@pytest.mark.parametrize(
    ("decay", "kwargs"),
    [("none", {}), ("step", {}), ("gaussian", {"sigma_min": 8.0})],
)
def test_2sfca_equals_access_package(embedded, tianqiao, decay, kwargs):
    import access

    net, ps, fs = _snapped(embedded, tianqiao, n_parcels=800, seed=5)
    ps = ps[ps["node"] >= 0]
    ps = ps.assign(residents=ps["residents"] + 1.0)  # positive demand everywhere
    clinics = fs[(fs["kind"] == "community_health_station") & (fs["node"] >= 0)].set_index(
        "facility_id"
    )
    max_cost = 30.0 if decay == "step" else 12.0
    table = acc.cost_table(net, ps, clinics, max_cost_min=max_cost)
    if decay == "none":
        weight_fn = None
    elif decay == "step":
        weight_fn = access.weights.step_fn(acc.E2SFCA_STEPS)
    else:
        weight_fn = access.weights.gaussian(kwargs["sigma_min"])
    reference = _access_reference(table, ps["residents"], clinics["capacity"], max_cost, weight_fn)
    # the fused engine
    po, fo = acc.floating_catchment(
        net, ps, clinics, max_cost_min=max_cost, decay=decay, n_jobs=2, **kwargs
    )
    # the table-based path
    tab = acc.two_step_fca(
        table, ps["residents"], clinics["capacity"], max_cost_min=max_cost, decay=decay, **kwargs
    )
    # access returns every demand row; rows with no pair in the cost table are NaN there
    in_table = pd.Index(table["origin_id"].unique())
    assert reference.drop(in_table).isna().all()
    reached = in_table
    assert len(reached) > 100
    ref = reference.loc[reached].to_numpy()
    for got in (po.loc[reached, "access_ratio"].to_numpy(), tab.loc[reached].to_numpy()):
        assert np.allclose(got, ref, rtol=1e-9, atol=0)
    # parcels with no clinic in reach get 0 access (not NaN: they are snapped)
    others = po.index.difference(reached)
    assert (po.loc[others, "access_ratio"] == 0).all()
    # counts = pairs within reach in the cost table
    counts = table.groupby("origin_id").size().reindex(po.index, fill_value=0)
    assert (po["count_within"].to_numpy() == counts.to_numpy()).all()
    assert fo["reason"].isna().sum() + (fo["reason"] == "no_demand_in_catchment").sum() == len(fo)


def test_barrier_snapping_hand_built():
    # nodes south (y=0) and north (y=300) of a river polygon between y=100 and y=200
    g = nx.MultiDiGraph(crs="EPSG:4548")
    for n, (x, y) in {1: (0, 0), 2: (0, 300), 3: (1000, 0), 4: (1000, 300)}.items():
        g.add_node(n, x=float(x), y=float(y))
    for a, b in [(1, 3), (2, 4), (3, 4)]:  # the bridge is at x=1000
        g.add_edge(
            a,
            b,
            length=float(
                np.hypot(*np.subtract(*[[g.nodes[k]["x"], g.nodes[k]["y"]] for k in (a, b)]))
            ),
            highway="primary",
        )
    net = network.compile_graph(g, mode="walk")
    river = gpd.GeoSeries([box(-500, 100, 800, 200)], crs="EPSG:4548")
    pts = gpd.GeoSeries([Point(0, 210), Point(0, 90)], crs="EPSG:4548")
    free = acc.snap_points(pts, net, max_snap_m=1000)
    held = acc.snap_points(pts, net, barriers=river, max_snap_m=1000)
    node_y = net.y
    assert node_y[free["node"].iloc[0]] == 300.0  # 90 m north, already the right side
    assert node_y[held["node"].iloc[0]] == 300.0
    assert node_y[held["node"].iloc[1]] == 0.0
    # a point 10 m north of the river whose nearest node is on the south bank
    pts2 = gpd.GeoSeries([Point(0, 205)], crs="EPSG:4548")
    far = acc.snap_points(pts2, net, barriers=river, max_snap_m=1000, candidates=1)
    assert far["snap_reason"].iloc[0] is None  # (0,300) is nearer anyway
    pts3 = gpd.GeoSeries([Point(0, 190)], crs="EPSG:4548")  # inside the channel
    blocked = acc.snap_points(pts3, net, barriers=river, max_snap_m=150)
    assert blocked["snap_reason"].iloc[0] == "barrier"
    assert np.isnan(blocked["connector_m"].iloc[0])


def test_embedded_river_never_crossed(embedded):
    net, river = embedded["walk"], embedded["river"]
    # Points every 25 m along both banks, 3 m outside the water: where a street runs along the
    # far bank of the narrow Xiaoqing River, the nearest node lies across it.
    banks = shapely.boundary(river.geometry.buffer(3.0).union_all())
    steps = np.arange(0.0, banks.length, 25.0)
    on_bank = gpd.GeoDataFrame(geometry=shapely.line_interpolate_point(banks, steps), crs=river.crs)
    free = acc.snap_points(on_bank, net)
    held = acc.snap_points(on_bank, net, barriers=river)
    pts = on_bank.geometry.to_numpy()
    edges = shapely.boundary(river.geometry.to_numpy())
    ok_free = free["node"].to_numpy() >= 0
    seg_free = [
        LineString([(p.x, p.y), (net.x[n], net.y[n])])
        for p, n in zip(pts[ok_free], free["node"].to_numpy()[ok_free], strict=True)
    ]
    crossing = shapely.intersects(np.array(seg_free)[:, None], edges[None, :]).any(axis=1)
    assert crossing.sum() > 0  # without the barrier some parcels would snap across the river
    ok = held["node"].to_numpy() >= 0
    seg = shapely.linestrings(
        np.stack(
            [
                shapely.get_coordinates(pts[ok]),
                np.column_stack([net.x[held["node"][ok]], net.y[held["node"][ok]]]),
            ],
            axis=1,
        )
    )
    assert not shapely.intersects(seg[:, None], edges[None, :]).any()
    moved = np.flatnonzero(ok_free)[crossing]
    assert (held["node"].to_numpy()[moved] != free["node"].to_numpy()[moved]).all()


def test_snap_limits_and_not_overlapping(embedded):
    net = embedded["walk"]
    x0, y0 = net.x[0], net.y[0]
    far = Point(net.x.max() + 5000, net.y.max() + 5000)
    pts = gpd.GeoSeries([Point(x0 + 5, y0), far, None], crs="EPSG:4548")
    out = acc.snap_points(pts, net, max_snap_m=300)
    assert out["snap_reason"].tolist()[1:] == ["beyond_max_snap", "no_geometry"]
    assert out["node"].tolist()[1:] == [-1, -1]
    assert out["connector_m"].iloc[0] == pytest.approx(5.0)
    elsewhere = gpd.GeoSeries([Point(0, 0), Point(10, 10)], crs="EPSG:4548")
    with pytest.raises(SchemaError, match="does not cover the study area"):
        acc.snap_points(elsewhere, net)


def test_unreachable_parcels_get_nan_with_reason(embedded, tianqiao):
    net, ps, fs = _snapped(embedded, tianqiao, n_parcels=200)
    ps.loc[ps.index[0], ["node", "connector_m", "snap_reason"]] = [-1, np.nan, "beyond_max_snap"]
    near = acc.nearest_facility(net, ps, fs)
    assert np.isnan(near.iloc[0]["community_health_station_min"])
    assert near.iloc[0]["access_reason"] == "beyond_max_snap"
    po, _ = acc.floating_catchment(
        net, ps, fs[fs["kind"] == "community_health_station"], max_cost_min=10
    )
    assert np.isnan(po.iloc[0]["access_ratio"])
    assert (np.isnan(po["access_ratio"]).to_numpy() == (ps["node"] < 0).to_numpy()).all()
    assert (
        np.isnan(near["community_health_station_min"]).to_numpy() == near["access_reason"].notna()
    ).all()


def test_facilities_without_capacity(embedded, tianqiao):
    net, ps, fs = _snapped(embedded, tianqiao, n_parcels=100)
    clinics = fs[fs["kind"] == "community_health_station"].copy()
    clinics.loc[clinics.index[:3], "capacity"] = np.nan
    with pytest.warns(DataQualityWarning, match="no positive 'capacity'"):
        _, fo = acc.floating_catchment(net, ps, clinics, max_cost_min=10)
    assert (fo["reason"].iloc[:3] == "no_capacity").all()
    assert fo["supply_ratio"].iloc[:3].isna().all()
    clinics["capacity"] = 0.0
    with pytest.raises(SchemaError, match="no row has a positive 'capacity'"):
        acc.floating_catchment(net, ps, clinics, max_cost_min=10)


def test_life_circle_coverage_against_networkx(embedded, tianqiao):
    net = embedded["walk"]
    rng = np.random.default_rng(11)
    parcels = embedded["parcels"].iloc[rng.choice(len(embedded["parcels"]), 150, False)]
    ps = acc.snap_points(parcels, net, barriers=embedded["river"])
    fac = tianqiao.facilities
    fs = acc.snap_points(fac, net, barriers=embedded["river"]).join(fac[["kind", "capacity"]])
    cov = acc.life_circle_coverage(net, ps, fs)
    rev = _nx_reversed(net, "length_m")
    for level, reqs in lifecircle.LIFE_CIRCLE_REQUIREMENTS.items():
        covered = np.ones(len(ps), dtype=bool)
        for label, kind, min_cap in reqs:
            sel = fs[(fs["kind"] == kind) & (fs["node"] >= 0)]
            if min_cap is not None:
                sel = sel[sel["capacity"] >= min_cap]
            sources = {}
            for _, f in sel.iterrows():
                sources[int(f["node"])] = min(sources.get(int(f["node"]), np.inf), f["connector_m"])
            rev2 = rev.copy()
            rev2.add_weighted_edges_from((-1, n, c) for n, c in sources.items())
            d = nx.single_source_dijkstra_path_length(rev2, -1)
            exp = np.array(
                [
                    d.get(int(n), np.inf) + c if n >= 0 else np.nan
                    for n, c in zip(ps["node"], ps["connector_m"], strict=True)
                ]
            )
            got = cov[f"lc_{label}_m"].to_numpy()
            both = np.isfinite(exp)
            assert np.allclose(got[both], exp[both], rtol=0, atol=1e-9)
            covered &= np.nan_to_num(exp, nan=np.inf) <= lifecircle.LIFE_CIRCLE_DISTANCE_M[level]
        snapped = ps["node"].to_numpy() >= 0
        assert (cov[f"lc_{level}_covered"].to_numpy()[snapped] == covered[snapped]).all()
        assert cov[f"lc_{level}_covered"][~snapped].isna().all()


def test_summarise_by_cluster_matches_repeated_values():
    rng = np.random.default_rng(2)
    values = rng.uniform(0, 30, 200)
    values[::17] = np.nan
    weights = rng.integers(0, 6, 200)
    cluster = pd.Series(rng.choice(["a", "b"], 200))
    out = acc.summarise_by_cluster(
        pd.DataFrame({"t": values}), ["t"], cluster=cluster, weight=pd.Series(weights, dtype=float)
    ).set_index("cluster_id")
    for cid in ("a", "b"):
        sel = (cluster == cid).to_numpy() & np.isfinite(values)
        repeated = np.sort(np.repeat(values[sel], weights[sel]))
        assert out.loc[cid, "mean"] == pytest.approx(repeated.mean())
        # inverted CDF: the value at rank ceil(q * n)
        for q, col in ((0.5, "median"), (0.85, "p85")):
            assert out.loc[cid, col] == repeated[int(np.ceil(q * len(repeated))) - 1]
        assert out.loc[cid, "n_missing"] == np.isnan(values[(cluster == cid).to_numpy()]).sum()


def test_linkage_table_embedded(embedded, tianqiao):
    net = embedded["drive"]
    clusters = tianqiao.structure.elements
    clusters = clusters[clusters["kind"] == "cluster"]
    table = acc.linkage_table(
        net,
        clusters,
        tianqiao.anchors,
        anchor_ids=tianqiao.profile.linkage.anchors,
        include_bridges=tianqiao.profile.linkage.bridges,
        barriers=embedded["river"],
    )
    assert list(table.index) == list(clusters.index)
    assert {"district_gov", "jinan_station"} <= set(table.columns)
    # The profile names the three Yellow River bridges; every one is a bridge of the network.
    named = {f"bridge:{n}" for n in tianqiao.profile.linkage.bridges}
    assert {c for c in table.columns if c.startswith("bridge:")} == named
    assert len(named) == 3
    everything = acc.linkage_table(net, clusters, tianqiao.anchors, barriers=embedded["river"])
    assert set(np.unique(net.bridge_name)) == {
        c.removeprefix("bridge:") for c in everything.columns if c.startswith("bridge:")
    }
    with pytest.raises(SchemaError, match="not bridges of the drive network"):
        acc.linkage_table(net, clusters, tianqiao.anchors, include_bridges=["金门大桥"])
    square = table[list(clusters.index)].to_numpy()
    assert np.all(np.diag(square) == 0)
    assert np.all(square[~np.eye(len(square), dtype=bool)] > 0)
    with pytest.raises(SchemaError, match="valid ids are"):
        acc.linkage_table(net, clusters, tianqiao.anchors, anchor_ids=["nowhere"])


def test_isochrones_contain_reached_nodes(embedded):
    net = embedded["walk"]
    mid = int(np.argmin((net.x - net.x.mean()) ** 2 + (net.y - net.y.mean()) ** 2))
    origin = pd.DataFrame({"node": [mid], "connector_m": [0.0], "snap_reason": [None]}, index=["c"])
    iso = acc.isochrones(net, origin, [5, 10, 15])
    assert iso["area_m2"].is_monotonic_increasing
    d = nx.single_source_dijkstra_path_length(_nx_reversed(net).reverse(), mid)
    reached = [n for n, v in d.items() if v <= 15 * 60]
    pts = shapely.points(net.x[reached], net.y[reached])
    inside = shapely.covers(iso.geometry.iloc[2], pts)
    assert inside.mean() > 0.95  # nodes reached only through a partly reached edge may lie out


def test_parcel_access_table_embedded(embedded, tianqiao):
    parcels = embedded["parcels"]
    fac = tianqiao.facilities
    table = acc.parcel_access_table(
        embedded["walk"], embedded["drive"], parcels, fac, barriers=embedded["river"]
    )
    assert len(table) == len(parcels)
    assert table.index.equals(parcels.index)
    unsnapped = table["snap_reason"].notna()
    assert unsnapped.any()
    measures = [c for c in table.columns if c not in {"parcel_id", "snap_reason"}]
    assert table.loc[unsnapped, measures].isna().all().all()
    # walking time and walking distance come from two different searches: they must agree
    walk_m = table["walk_kindergarten_min"] * 60 * SPEED
    ok = ~unsnapped & table["lc_kindergarten_m"].notna()
    assert np.allclose(walk_m[ok], table.loc[ok, "lc_kindergarten_m"], rtol=1e-9)
    # 2SFCA conserves supply: sum of access x demand = supply of facilities with demand in reach
    walk = embedded["walk"]
    fs = acc.snap_points(fac, walk, barriers=embedded["river"]).join(fac[["kind", "capacity"]])
    ps = acc.snap_points(parcels, walk, barriers=embedded["river"]).join(parcels[["residents"]])
    _, fo = acc.floating_catchment(
        walk, ps, fs[fs["kind"] == "community_health_station"], max_cost_min=15
    )
    served = fo["demand_weighted"] > 0
    total = (table["access_community_health_station"] * parcels["residents"]).sum()
    assert total == pytest.approx(fs.loc[fo.index[served], "capacity"].sum(), rel=1e-9)
    summary = acc.summarise_by_cluster(
        table,
        ["walk_community_health_station_min", "lc_15min_covered"],
        cluster=parcels["cluster_id"],
        weight=parcels["residents"],
    )
    shares = summary[summary["measure"] == "lc_15min_covered"]["mean"]
    assert shares.between(0, 1).all()
    assert set(summary["cluster_id"]) == set(parcels["cluster_id"])


def test_bucket_and_heap_searches_agree(embedded, tianqiao, monkeypatch):
    net, ps, fs = _snapped(embedded, tianqiao, n_parcels=1500, seed=8)
    clinics = fs[fs["kind"] == "community_health_station"]
    weights = net.time_s
    assert acc._bucket_width(weights, 900.0, net.n_nodes) == weights.min() > 0
    bucket, fb = acc.floating_catchment(net, ps, clinics, max_cost_min=15, decay="step")
    monkeypatch.setattr(acc, "MAX_BUCKETS_PER_NODE", 0)  # forces the binary heap
    monkeypatch.setattr(acc, "BUCKETS_ALWAYS_OK", 0)
    assert acc._bucket_width(weights, 900.0, net.n_nodes) == 0.0
    heap, fh = acc.floating_catchment(net, ps, clinics, max_cost_min=15, decay="step")
    assert heap["count_within"].equals(bucket["count_within"])
    assert np.allclose(heap["access_ratio"], bucket["access_ratio"], rtol=1e-12, equal_nan=True)
    assert np.allclose(fh["demand_weighted"], fb["demand_weighted"], rtol=1e-12, equal_nan=True)
    assert acc._bucket_width(np.array([0.0, 1.0]), 900.0, 10) == 0.0  # zero-length edge


def test_unsnapped_parcels_are_warned_once_per_mode_naming_it(caplog):
    far = [Point(0, 20), Point(0, 5_000), Point(200, 9_000)]  # two parcels beyond 500 m
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["a", "b", "c"], "residents": [10.0, 5.0, 1.0]},
        geometry=far,
        crs="EPSG:4548",
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["k"], "kind": ["clinic"], "capacity": [5.0]},
        geometry=[Point(200, 0)],
        crs="EPSG:4548",
    )
    with caplog.at_level("WARNING", logger="tqspatial"):
        table = acc.parcel_access_table(
            network.toy_network("walk"), network.toy_network("drive"), parcels, facilities
        )
    not_snapped = int(table["snap_reason"].notna().sum())
    assert not_snapped == 2
    snapping = [r.getMessage() for r in caplog.records if "not snapped" in r.getMessage()]
    assert len(snapping) == 2, snapping  # walk and drive, once each
    for mode, message in zip(("walk", "drive"), snapping, strict=True):
        assert f"the {mode} network" in message
        assert f"{not_snapped} of 3 points" in message
        assert "beyond_max_snap: 2" in message
