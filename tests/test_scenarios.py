"""Plan scenarios: overrides change exactly what they should, checked independently."""

import dataclasses

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from tests.district_builder import build_district
from tqspatial import accessibility as acc
from tqspatial import cli, io, lifecircle
from tqspatial.config import Config, parse_config
from tqspatial.errors import ConfigError
from tqspatial.pipeline import district_networks, read_inputs
from tqspatial.profile import parse_profile
from tqspatial.scenarios import Scenario, compare_scenarios, load_scenarios, parse_scenarios

CAPACITY = ("new_floor_area_m2", "new_residents", "new_jobs")


def _denser(element_id: str) -> Scenario:
    rows = [
        {"element_id": element_id, "landuse_category": "*", "target_far": 4.0,
         "shares": {"commercial": 0.6, "office": 0.4}}
    ]  # fmt: skip
    return Scenario("dense", capacity=parse_profile({"capacity": rows}).capacity)


@pytest.fixture(scope="module")
def far_comparison():
    quick = parse_config({"accessibility": {"enabled": False}})
    return compare_scenarios([Scenario("plan"), _denser("specialty_commerce")], config=quick)


def test_a_target_far_changes_only_that_clusters_capacity(far_comparison):
    wide = far_comparison.wide().set_index(["cluster_id", "indicator"])
    delta = wide["dense_minus_plan"]
    changed = {cid for (cid, ind), d in delta.items() if d != 0}
    assert changed == {"specialty_commerce", "district"}
    for (cid, indicator), d in delta.items():
        if indicator not in CAPACITY:
            assert d == 0, (cid, indicator)  # land, constraints: untouched
    # the district delta is the cluster's delta (nothing else moved)
    for indicator in CAPACITY:
        assert delta[("district", indicator)] == pytest.approx(
            delta[("specialty_commerce", indicator)], rel=1e-12
        )


def test_the_new_floor_area_follows_the_capacity_formula(far_comparison):
    """Recompute the dense scenario's new floor area per parcel from its own columns."""
    plan = far_comparison.inventories["plan"].parcels
    dense = far_comparison.inventories["dense"].parcels
    inside = (dense["cluster_id"] == "specialty_commerce") & dense["renewal_type"].isin(
        ["specialty_market", "inefficient_industrial", "old_residential", "urban_village",
         "idle_land", "vacant_land"]
    )  # fmt: skip
    rows = dense[inside]
    assert len(rows) > 20
    assert (rows["target_far"] == 4.0).all()
    share = rows["redevelopment_share"].to_numpy()
    net, area = rows["supply_net_m2"].to_numpy(), rows["area_m2"].to_numpy()
    existing = rows["existing_floor_area_m2"].to_numpy()
    # 建科〔2021〕63号 for old compounds and markets: demolition at most 20 % of the existing
    # floor area (the rebuilt land shrinks with it), new construction at most twice it
    enforced = rows["renewal_type"].isin(["old_residential", "specialty_market"]).to_numpy()
    asked = share * existing * net / area
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(enforced & (asked > 0.2 * existing), 0.2 * existing / asked, 1.0)
    demolished = asked * scale
    built = share * net * scale * 4.0
    built = np.where(enforced & (demolished > 0), np.minimum(built, 2 * demolished), built)
    expected = np.maximum(built - demolished, 0.0)
    ok = ~np.isnan(existing)
    np.testing.assert_allclose(rows["new_floor_area_m2"].to_numpy()[ok], expected[ok], rtol=1e-9)
    others = ~(dense["cluster_id"] == "specialty_commerce")
    np.testing.assert_array_equal(
        dense.loc[others, "new_floor_area_m2"].to_numpy(),
        plan.loc[others, "new_floor_area_m2"].to_numpy(),
    )


@pytest.fixture(scope="module")
def school(tmp_path_factory, tianqiao):
    """A new primary school where homes lack one within the 10-minute distance."""
    base = compare_scenarios([Scenario("plan")], config=Config()).inventories["plan"]
    parcels = base.parcels
    others = [lab for lab, kind, _ in lifecircle.LIFE_CIRCLE_REQUIREMENTS["10min"]
              if kind != "primary_school"]  # fmt: skip
    rest_ok = np.all([parcels[f"lc_{lab}_within"] == 1 for lab in others], axis=0)
    lacking = parcels[
        (parcels["lc_primary_school_within"] == 0) & (parcels["residents"] > 0)
        & parcels["snap_reason"].isna() & rest_ok
    ]  # fmt: skip
    assert len(lacking) > 0
    spot = lacking.geometry.iloc[len(lacking) // 2].representative_point()
    folder = tmp_path_factory.mktemp("school")
    added = gpd.GeoDataFrame(
        {"facility_id": ["NEW1"], "kind": ["primary_school"], "capacity": [1200.0]},
        geometry=[Point(spot.x, spot.y)],
        crs="EPSG:4548",
    )
    path = io.write_layers(folder / "new_school.gpkg", {"facilities": added})
    comparison = compare_scenarios(
        [Scenario("plan"), Scenario("school", facilities_add=path)], config=Config()
    )
    return comparison, spot


def test_a_new_school_changes_coverage_exactly_where_networkx_says(school):
    comparison, spot = school
    plan = comparison.inventories["plan"].parcels
    new = comparison.inventories["school"].parcels
    data = read_inputs(Config())
    walk = district_networks(Config(), data)["walk"]
    # independent: nearest node by brute force, Dijkstra on a networkx copy of the arrays
    node = int(np.argmin((walk.x - spot.x) ** 2 + (walk.y - spot.y) ** 2))
    connector = float(np.hypot(walk.x[node] - spot.x, walk.y[node] - spot.y))
    graph = nx.DiGraph()
    src = np.repeat(np.arange(walk.n_nodes), np.diff(walk.indptr))
    graph.add_weighted_edges_from(zip(src.tolist(), walk.indices.tolist(),
                                      walk.length_m.tolist(), strict=True))  # fmt: skip
    reach = nx.single_source_dijkstra_path_length(graph, node)
    snapped = acc.snap_points(plan, walk, barriers=None, max_snap_m=500.0)
    limit = lifecircle.LIFE_CIRCLE_DISTANCE_M["10min"]
    dist = np.array(
        [
            reach.get(int(n), np.inf) + connector + c if n >= 0 else np.inf
            for n, c in zip(snapped["node"], snapped["connector_m"].fillna(0.0), strict=True)
        ]
    )
    others = [lab for lab, kind, _ in lifecircle.LIFE_CIRCLE_REQUIREMENTS["10min"]
              if kind != "primary_school"]  # fmt: skip
    rest_ok = np.all([plan[f"lc_{lab}_within"].to_numpy() == 1 for lab in others], axis=0)
    expected_flip = (plan["lc_10min_covered"].to_numpy() == 0) & rest_ok & (dist <= limit)
    got_flip = (plan["lc_10min_covered"].to_numpy() == 0) & (new["lc_10min_covered"] == 1)
    assert expected_flip.sum() > 0  # the school really serves someone
    np.testing.assert_array_equal(got_flip.to_numpy(), expected_flip)
    # and nothing lost coverage, and the land side of the two scenarios is identical
    assert not ((plan["lc_10min_covered"] == 1) & (new["lc_10min_covered"] == 0)).any()
    table = comparison.wide().set_index(["cluster_id", "indicator"])
    assert table.loc[("district", "lc_10min_covered"), "school_minus_plan"] > 0
    assert table.loc[("district", "net_supply_ha"), "school_minus_plan"] == 0


def test_scenarios_file_errors_are_listed_together(tmp_path):
    bad = {
        "scenario": [
            {"name": "a", "colour": "red"},
            {"name": "a", "phase_years": [2030]},
            {"name": "9x", "capacity": [{"target_far": 2}]},
        ],
        "extra": 1,
    }
    with pytest.raises(ConfigError) as err:
        parse_scenarios(bad)
    text = str(err.value)
    for fragment in (
        "unknown key(s) ['extra']",
        "unknown key(s) ['colour']",
        "phase_years must be three years",
        "name = '9x'; expected a short identifier",
        "needs exactly one of element_id, lead_industry or kind",
        "repeated ['a']",
    ):
        assert fragment in text, fragment
    with pytest.raises(ConfigError, match="constraints_off \\['lava'\\] are not constraints"):
        compare_scenarios([Scenario("x", constraints_off=("lava",))],
                          config=parse_config({"accessibility": {"enabled": False}}))  # fmt: skip


def test_scenarios_run_publishes_the_comparison_for_another_district(tmp_path):
    district = build_district(tmp_path / "lixia", maps=False)
    (district.folder / "scenarios.toml").write_text(
        'config = "tqspatial.toml"\n\n[[scenario]]\nname = "plan"\n\n'
        '[[scenario]]\nname = "no_river_setback"\ntitle = "不退让"\n'
        'constraints_off = ["demo_river"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    assert cli.main(["-q", "scenarios", "run", str(district.folder / "scenarios.toml"),
                     "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out / "scenario_comparison_wide.csv", encoding="utf-8-sig")
    rows = table.set_index(["cluster_id", "indicator"])
    assert rows.loc[("district", "constrained_area_ha"), "no_river_setback"] == 0
    assert rows.loc[("district", "net_supply_ha"), "no_river_setback_minus_plan"] > 0
    assert (out / "comparison.png").stat().st_size > 10_000
    assert (out / ".tqspatial-output").is_file()
    loaded = load_scenarios(district.folder / "scenarios.toml")
    assert [s.name for s in loaded.scenarios] == ["plan", "no_river_setback"]
    assert loaded.config.input_path("profile") == district.folder / "profile.toml"
    assert dataclasses.is_dataclass(loaded)
