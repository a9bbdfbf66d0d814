"""Renewal supply: hand-checked capacity, split parcels, phasing, ledger conservation."""

from __future__ import annotations

import math
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import tqspatial as tq
from tqspatial.assign import assign_parcels
from tqspatial.constraints import VectorConstraint
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.quality import recording
from tqspatial.structure import PlanStructure
from tqspatial.supply import (
    LEDGER_COLUMNS,
    Capacity,
    Phasing,
    RenewalLimits,
    cluster_totals,
    ledger_zh,
    renewal_supply,
    supply_ledger,
)

CRS = "EPSG:4548"


def two_clusters() -> PlanStructure:
    # West cluster x 0-1000, east cluster x 1000-2000, both y 0-1000; nothing beyond x 2000.
    return PlanStructure.from_frame(
        gpd.GeoDataFrame(
            {
                "element_id": ["west", "east"],
                "kind": ["cluster", "cluster"],
                "name_zh": ["西", "东"],
                "name_en": ["W", "E"],
            },
            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
            crs=CRS,
        )
    )


def parcels_frame(rows) -> gpd.GeoDataFrame:
    cols = [
        "parcel_id",
        "landuse_code",
        "build_year",
        "far",
        "coverage",
        "floor_area_m2",
        "is_idle",
        "geometry",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


def run(rows, structure=None, **kwargs):
    structure = structure or two_clusters()
    assigned, _ = assign_parcels(parcels_frame(rows), structure)
    return renewal_supply(assigned, structure, **kwargs)


# Only the ('*', '*') row: FAR 2.0, half housing, half offices, for every parcel.
FLAT = Capacity(
    targets=pd.DataFrame(
        [
            {
                "cluster_id": "*",
                "landuse_category": "*",
                "target_far": 2.0,
                "share_residential": 0.5,
                "share_office": 0.5,
                "share_commercial": 0.0,
                "share_industry": 0.0,
            },
        ]
    )
)


def test_capacity_by_hand():
    # Old housing 100x100 m, FAR 1.0 (10 000 m² built), half of it under a constraint strip.
    rows = [("a", "070102", 1990, 1.0, 0.3, 10_000.0, False, box(100, 100, 200, 200))]
    strip = VectorConstraint("strip", gpd.GeoSeries([box(100, 100, 150, 200)], crs=CRS))
    capacity = Capacity(
        targets=FLAT.targets,
        dwelling_m2=100.0,
        persons_per_household=2.5,
        m2_per_job={"office": 25.0, "commercial": 40.0, "industry": 100.0},
        redevelopment_share={
            "specialty_market": 1.0,
            "inefficient_industrial": 1.0,
            "old_residential": 0.2,
            "urban_village": 1.0,
            "idle_land": 1.0,
            "vacant_land": 1.0,
        },
    )
    out, ledger = run(rows, constraints=[strip], capacity=capacity)
    row = out.iloc[0]
    assert row["renewal_type"] == "old_residential"
    assert row["constrained_m2"] == pytest.approx(5000)
    assert row["supply_net_m2"] == pytest.approx(5000)
    # 0.2 x (5000 m² x FAR 2.0 - 10 000 m² existing x 5000/10 000) = 0.2 x (10 000 - 5000) = 1000.
    assert row["new_floor_area_m2"] == pytest.approx(1000)
    assert row["new_households"] == pytest.approx(5)  # 500 m² residential / 100
    assert row["new_residents"] == pytest.approx(12.5)
    assert row["new_jobs"] == pytest.approx(20)  # 500 m² offices / 25
    # 0.2 x 10 000 m² x 5000/10 000 = 1000 m² demolished (10 % of the existing floor area,
    # within 20 %), 0.2 x 5000 m² x 2.0 = 2000 m² built: 拆建比 2.0, at the limit.
    assert row["demolished_floor_m2"] == pytest.approx(1000)
    assert row["rebuilt_floor_m2"] == pytest.approx(2000)
    assert row["rebuild_ratio"] == pytest.approx(2.0)
    assert (row["demolition_check"], row["rebuild_ratio_check"]) == ("ok", "ok")
    assert row["renewal_limit"] == "target_far"
    assert ledger.iloc[0]["net_supply_ha"] == pytest.approx(0.5)
    assert ledger.iloc[0]["constrained_area_ha"] == pytest.approx(0.5)
    assert ledger.iloc[0]["redeveloped_ha"] == pytest.approx(0.1)  # 0.2 x 0.5 ha
    # Gross new floor area without subtracting the existing buildings.
    gross = Capacity(
        targets=FLAT.targets,
        subtract_existing=False,
        redevelopment_share=capacity.redevelopment_share,
    )
    out2, _ = run(rows, constraints=[strip], capacity=gross)
    assert out2.iloc[0]["new_floor_area_m2"] == pytest.approx(0.2 * 5000 * 2.0)


# Targets for the limit tests: housing FAR 2.5, markets FAR 3.0, industry converted to housing
# at FAR 1.5; all floor area of one use, so dwellings and jobs are easy to count.
LIMIT_TARGETS = Capacity.with_targets(
    [
        {"cluster_id": "*", "landuse_category": "residential", "target_far": 2.5,
         "share_residential": 1.0},
        {"cluster_id": "*", "landuse_category": "commercial", "target_far": 3.0,
         "share_commercial": 1.0},
        {"cluster_id": "*", "landuse_category": "industrial", "target_far": 1.5,
         "share_residential": 1.0},
    ]
).targets  # fmt: skip


def limit_rows(residents):
    # All parcels 100 m x 100 m (1 ha), no constraints, in the west cluster.
    return [
        # old housing, FAR 1.0: 0.2 x 10 000 m² = 2000 m² demolished (at the 20 % limit);
        # 0.2 x 10 000 m² x 2.5 = 5000 m² asked: 拆建比 2.5 > 2, cut to 4000 m².
        ("old", "070102", 1990, 1.0, 0.3, 10_000.0, False, box(0, 0, 100, 100)),
        # wholesale market, FAR 1.5: 0.5 x 15 000 = 7500 m² asked, 3000 m² allowed (20 %):
        # the rebuilt land shrinks to 0.5 x 10 000 x 0.4 = 2000 m², built at FAR 3.0 = 6000 m²
        # (拆建比 exactly 2: within the limit).
        ("market", "090102", 2005, 1.5, 0.5, 15_000.0, False, box(100, 0, 200, 100)),
        # industry, FAR 0.5 < 0.7: all 5000 m² demolished (100 % > 20 %), 15 000 m² built
        # (拆建比 3): both over, flagged only (industry is not in RenewalLimits.enforce).
        ("factory", "100101", 2000, 0.5, 0.45, 5000.0, False, box(200, 0, 300, 100)),
        # vacant land: nothing to demolish, no ratio.
        ("vacant", "2301", None, 0.0, 0.0, 0.0, False, box(300, 0, 400, 100)),
    ], residents


def run_limits(residents, **capacity):
    rows, people = limit_rows(residents)
    structure = two_clusters()
    frame = parcels_frame(rows)
    frame["residents"] = people
    assigned, _ = assign_parcels(frame, structure)
    with recording() as log:
        out, ledger = renewal_supply(
            assigned, structure, capacity=Capacity(targets=LIMIT_TARGETS, **capacity)
        )
    return out, ledger, log


def test_limits_of_jianke_2021_63_by_hand():
    out, ledger, log = run_limits([270.0, 0.0, 0.0, 0.0])
    out = out.set_index("parcel_id")
    assert out["renewal_type"].tolist() == [
        "old_residential", "specialty_market", "inefficient_industrial", "vacant_land"
    ]  # fmt: skip
    # demolition (第(一)条)
    assert out["demolished_floor_m2"].tolist() == pytest.approx([2000, 3000, 5000, 0])
    assert out["demolition_share"].tolist()[:3] == pytest.approx([0.2, 0.2, 1.0])
    assert out["demolition_check"].tolist()[:3] == ["ok", "capped", "over"]
    assert pd.isna(out.loc["vacant", "demolition_check"])
    assert out["redeveloped_m2"].tolist() == pytest.approx([2000, 2000, 10_000, 10_000])
    # 拆建比 (第(二)条)
    # (the vacant land falls to the generic ('*', '*') row: FAR 2.0, half housing)
    assert out["rebuilt_floor_m2"].tolist() == pytest.approx([4000, 6000, 15_000, 20_000])
    assert out["rebuild_ratio"].tolist()[:3] == pytest.approx([2.0, 2.0, 3.0])
    assert np.isnan(out.loc["vacant", "rebuild_ratio"])
    assert out["rebuild_ratio_check"].tolist()[:3] == ["capped", "ok", "over"]
    assert out["new_floor_area_m2"].tolist() == pytest.approx([2000, 3000, 10_000, 20_000])
    assert out["renewal_limit"].tolist() == [
        "rebuild_ratio", "demolition_share", "target_far", "target_far"
    ]  # fmt: skip
    # rehousing (第(三)条): 270 residents x 2000/10 000 demolished / 2.7 = 20 households;
    # 4000 m² of housing rebuilt / 100 m² = 40 dwellings on site: rate 1 (capped at 1).
    assert out.loc["old", "displaced_households"] == pytest.approx(20)
    assert out.loc["old", "new_dwellings"] == pytest.approx(40)
    assert out.loc["old", "rehousing_rate"] == pytest.approx(1.0)
    assert out.loc["old", "rehousing_check"] == "ok"
    # The ledger: one row per type here, counts of parcels bound and over.
    rows = ledger.set_index("renewal_type")
    assert rows["bound_rebuild_ratio"].to_dict() == {
        "specialty_market": 0, "inefficient_industrial": 0, "old_residential": 1,
        "vacant_land": 0,
    }  # fmt: skip
    assert rows.loc["specialty_market", "bound_demolition"] == 1
    assert rows.loc["inefficient_industrial", "over_limit"] == 1
    assert rows.loc["inefficient_industrial", "rebuild_ratio"] == pytest.approx(3.0)
    assert np.isnan(rows.loc["vacant_land", "rebuild_ratio"])
    notes = log.table().set_index("kind")
    assert notes.loc["limit_rebuild_ratio_capped", "count"] == 1
    assert notes.loc["limit_demolition_capped", "count"] == 1
    assert notes.loc["limit_demolition_over", "count"] == 1
    assert "inefficient_industrial" in notes.loc["limit_rebuild_ratio_over", "message"]


def test_rehousing_on_site_and_in_the_cluster():
    # 2700 residents: 200 households displaced, 40 dwellings on site (20 %: below 50 %).
    out, ledger, log = run_limits([2700.0, 0.0, 0.0, 0.0])
    old = out.set_index("parcel_id").loc["old"]
    assert old["displaced_households"] == pytest.approx(200)
    assert old["rehousing_rate"] == pytest.approx(0.2)
    assert old["rehousing_check"] == "below"
    assert "limit_rehousing" in set(log.table()["kind"])
    # In the cluster the converted factory (15 000 m² of housing: 150 dwellings) and the vacant
    # land (20 000 m² at the fallback mix, half housing: 100) add dwellings: (40 + 150 + 100) /
    # 200 = 1.45, capped at 1: the cluster meets 就近 rehousing.
    totals = cluster_totals(ledger, two_clusters()).set_index("cluster_id")
    assert totals.loc["west", "new_dwellings"] == pytest.approx(40 + 150 + 100)
    assert totals.loc["west", "displaced_households"] == pytest.approx(200)
    assert totals.loc["west", "rehousing_rate"] == pytest.approx(1.0)
    assert totals.loc["west", "rehousing_check"] == "ok"
    # Cluster ratios are recomputed from sums: 拆建比 over the parcels with demolition
    # (4000 + 6000 + 15 000) / (2000 + 3000 + 5000) = 2.5; the vacant land does not count.
    assert totals.loc["west", "rebuild_ratio"] == pytest.approx(2.5)
    assert totals.loc["district", "rebuild_ratio"] == pytest.approx(2.5)
    assert totals.loc["west", "bound_rebuild_ratio"] == 1
    assert totals.loc["east", "rehousing_check"] is pd.NA or pd.isna(
        totals.loc["east", "rehousing_check"]
    )
    # Unknown residents: the check says so instead of passing.
    out, _, _ = run_limits([np.nan, 0.0, 0.0, 0.0])
    assert out.set_index("parcel_id").loc["old", "rehousing_check"] == "unknown"


def test_enforcing_the_limits_for_industry_too():
    limits = RenewalLimits(
        enforce=("old_residential", "specialty_market", "inefficient_industrial")
    )
    out, ledger, _ = run_limits([270.0, 0.0, 0.0, 0.0], limits=limits)
    factory = out.set_index("parcel_id").loc["factory"]
    # 20 % of 5000 m² = 1000 m² demolished on 2000 m² of land; 2000 x 1.5 = 3000 m² asked,
    # within 2 x 1000 = 2000? no: cut to 2000 m² (拆建比 2); 1000 m² added.
    assert factory["demolished_floor_m2"] == pytest.approx(1000)
    assert factory["redeveloped_m2"] == pytest.approx(2000)
    assert factory["rebuilt_floor_m2"] == pytest.approx(2000)
    assert factory["new_floor_area_m2"] == pytest.approx(1000)
    assert (factory["demolition_check"], factory["rebuild_ratio_check"]) == ("capped", "capped")
    assert factory["renewal_limit"] == "rebuild_ratio"
    assert ledger["over_limit"].sum() == 0
    with pytest.raises(ConfigError, match="unknown renewal types"):
        RenewalLimits(enforce=("factories",))
    with pytest.raises(ConfigError, match="max_rebuild_ratio"):
        RenewalLimits(max_rebuild_ratio=0)


def test_no_parcel_exceeds_the_rebuild_ratio_silently(tianqiao):
    assigned, _ = assign_parcels(tianqiao.parcels, tianqiao.structure)
    ctx = tq.datasets.tianqiao_context(tianqiao)  # the profile's target FARs
    out, ledger = renewal_supply(
        assigned, tianqiao.structure, capacity=ctx.capacity, urban_area=ctx.urban_area
    )
    cand = out[out["renewal_type"].notna()]
    over = cand["rebuild_ratio"] > 2 * (1 + 1e-9)
    assert (cand.loc[over, "rebuild_ratio_check"] == "over").all()
    old = cand[cand["renewal_type"] == "old_residential"]
    assert (old["rebuild_ratio"].dropna() <= 2 * (1 + 1e-9)).all()
    # Independently: an old compound's asked 拆建比 is its target FAR over its existing FAR
    # (the 0.2 share cancels); those above 2 are exactly the ones cut.
    existing_far = old["floor_area_m2"].fillna(old["far"] * old["area_m2"]) / old["area_m2"]
    asked = old["target_far"] / existing_far
    capped = old["rebuild_ratio_check"] == "capped"
    assert capped.sum() > 0
    assert (capped == (asked > 2 * (1 + 1e-9))).all()
    assert ledger["bound_rebuild_ratio"].sum() == (cand["rebuild_ratio_check"] == "capped").sum()


def test_denser_than_target_supplies_no_floor_area():
    rows = [("a", "100101", 2005, 0.5, 0.2, 30_000.0, False, box(0, 0, 100, 100))]
    out, _ = run(rows, capacity=FLAT)  # existing 30 000 m² > 10 000 x 2.0
    assert out.iloc[0]["renewal_type"] == "inefficient_industrial"
    assert out.iloc[0]["new_floor_area_m2"] == 0.0
    assert out.iloc[0]["supply_net_m2"] == pytest.approx(10_000)


def test_split_parcel_counts_wholly_in_primary_cluster():
    # 60 % in west, 40 % in east; vacant land.
    rows = [("s", "2301", None, 0.0, 0.0, 0.0, True, box(940, 0, 1040, 100))]
    out, ledger = run(rows)
    assert out.iloc[0]["cluster_id"] == "west"
    assert ledger["cluster_id"].tolist() == ["west"]
    assert ledger.iloc[0]["gross_area_ha"] == pytest.approx(1.0)
    # A parcel mostly outside both clusters is unassigned, not missing.
    rows = [("u", "2301", None, 0.0, 0.0, 0.0, True, box(1960, 0, 2060, 100))]
    _, ledger = run(rows)
    assert ledger["cluster_id"].tolist() == ["unassigned"]


def test_undetermined_is_pending_not_supply():
    rows = [
        ("a", "070102", None, 2.0, 0.3, 20_000.0, False, box(0, 0, 100, 100)),
        ("b", "0603", None, 0.4, 0.2, 4000.0, False, box(200, 0, 300, 100)),
    ]
    out, ledger = run(rows, landuse_scheme="2023")
    assert out["renewal_type"].tolist() == ["undetermined", "undetermined"]
    assert "0603" in out["renewal_rule"].iloc[1]
    assert out["supply_net_m2"].sum() == 0
    assert out["new_floor_area_m2"].sum() == 0
    assert ledger.iloc[0]["pending_net_ha"] == pytest.approx(2.0)
    assert ledger.iloc[0]["phase"] == "undetermined"
    assert ledger.iloc[0]["net_supply_ha"] == 0


def test_capacity_issue_when_existing_floor_unknown():
    rows = [("a", "070102", 1980, None, 0.3, None, False, box(0, 0, 100, 100))]
    with recording() as log:
        out, ledger = run(rows)
    assert out.iloc[0]["renewal_type"] == "old_residential"
    assert "existing floor area unknown" in out.iloc[0]["capacity_issue"]
    assert out.iloc[0]["new_floor_area_m2"] == 0
    assert ledger.iloc[0]["capacity_issues"] == 1
    assert log.counts()["capacity_unknown"] == 1


def test_phasing_rule():
    # West core is the representative point of box(0, 0, 1000, 1000) = (500, 500).
    rows = [
        ("near_core", "100101", 2005, 0.5, 0.2, 5000.0, False, box(450, 450, 550, 550)),
        ("far_away", "100101", 2005, 0.5, 0.2, 5000.0, False, box(0, 0, 10, 10)),
        ("idle", "100101", 2005, 0.5, 0.2, 5000.0, True, box(0, 900, 10, 910)),
        ("vacant", "2301", None, 0.0, 0.0, 0.0, False, box(900, 0, 910, 10)),
    ]
    phasing = Phasing(core_radius_m=100.0, outer_radius_m=600.0)
    out, _ = run(rows, phasing=phasing)
    # Industry starts mid; near the core one earlier, beyond 600 m one later; idle is near.
    assert out["phase"].tolist() == ["near", "long", "near", "mid"]
    assert out["core_distance_m"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert out["phase_start_year"].tolist() == [2026, 2036, 2026, 2031]
    # Vacant land starts near but is about 640 m from the core: one phase later.
    custom = Phasing(phases=(("first", 2025, 2027), ("second", 2028, 2035), ("third", 2036, 2050)))
    out, ledger = run(rows, phasing=custom)
    assert set(ledger["phase_years"]) <= {"2025-2027", "2028-2035", "2036-2050"}


def test_ledger_reproduced_by_parcels_and_sums_to_district(tianqiao):
    kept = tianqiao.parcels
    assigned, _ = assign_parcels(kept, tianqiao.structure)
    ctx = tq.datasets.tianqiao_context(tianqiao)
    out, ledger = renewal_supply(
        assigned,
        tianqiao.structure,
        constraints=ctx.constraints,
        urban_area=ctx.urban_area,
        capacity=ctx.capacity,
    )
    assert len(out) == len(kept)
    assert out["parcel_id"].tolist() == kept["parcel_id"].tolist()
    assert list(ledger.columns) == LEDGER_COLUMNS

    # Independent aggregation with plain dictionaries and exact summation.
    measures = {
        "gross_area_ha": ("area_m2", 1e4),
        "constrained_area_ha": ("constrained_m2", 1e4),
        "net_supply_ha": ("supply_net_m2", 1e4),
        "pending_net_ha": ("pending_net_m2", 1e4),
        "redeveloped_ha": ("redeveloped_m2", 1e4),
        "new_floor_area_m2": ("new_floor_area_m2", 1.0),
        "demolished_floor_m2": ("demolished_floor_m2", 1.0),
        "rebuilt_floor_m2": ("rebuilt_floor_m2", 1.0),
        "new_dwellings": ("new_dwellings", 1.0),
        "new_households": ("new_households", 1.0),
        "new_residents": ("new_residents", 1.0),
        "new_jobs": ("new_jobs", 1.0),
        "displaced_households": ("displaced_households", 1.0),
    }
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rec in out.drop(columns="geometry").to_dict("records"):
        if pd.isna(rec["renewal_type"]):
            continue
        key = (rec["cluster_id"], rec["renewal_type"], rec["phase"])
        groups[key]["count"].append(1.0)
        for name, (column, div) in measures.items():
            value = rec[column] / div
            groups[key][name].append(0.0 if math.isnan(value) else value)
    assert len(groups) == len(ledger)
    for rec in ledger.to_dict("records"):
        g = groups[(rec["cluster_id"], rec["renewal_type"], rec["phase"])]
        assert rec["parcel_count"] == len(g["count"])
        for name in measures:
            assert rec[name] == pytest.approx(math.fsum(g[name]), rel=1e-12, abs=1e-9), name

    # Totals: ledger = parcels = cluster_totals district row; clusters + unassigned = district.
    candidates = out[out["renewal_type"].notna()]
    totals = cluster_totals(ledger, tianqiao.structure).set_index("cluster_id")
    for name, (column, div) in measures.items():
        parcel_sum = math.fsum((candidates[column] / div).fillna(0.0))
        assert ledger[name].sum() == pytest.approx(parcel_sum, rel=1e-12)
        assert totals.loc["district", name] == pytest.approx(parcel_sum, rel=1e-12)
        assert totals.drop(index="district")[name].sum() == pytest.approx(parcel_sum, rel=1e-12)
    assert totals.loc["district", "parcel_count"] == len(candidates)
    # Areas add up: gross = constrained + net supply + pending, everywhere.
    np.testing.assert_allclose(
        ledger["gross_area_ha"],
        ledger["constrained_area_ha"] + ledger["net_supply_ha"] + ledger["pending_net_ha"],
        rtol=1e-9,
    )
    # Something of every renewal type is found on the embedded data.
    assert set(ledger["renewal_type"]) >= {
        "old_residential",
        "urban_village",
        "inefficient_industrial",
        "idle_land",
        "specialty_market",
        "undetermined",
    }
    # The ledger recomputed from the parcel table is identical.
    pd.testing.assert_frame_equal(supply_ledger(out, tianqiao.structure), ledger)
    # The planners' version keeps every row and translates names.
    zh = ledger_zh(ledger, tianqiao.structure)
    assert len(zh) == len(ledger)
    assert set(zh["组团"]) <= {*tianqiao.structure.elements["name_zh"], "未纳入组团"}
    assert "老旧小区" in set(zh["更新类型"])
    assert zh["净供给面积（公顷）"].sum() == pytest.approx(ledger["net_supply_ha"].sum(), abs=0.5)
    assert zh["拆建比"].dropna().gt(0).all()


def test_precomputed_landuse_columns_are_used():
    rows = [("a", "ignored", 1990, 1.0, 0.3, 10_000.0, False, box(0, 0, 100, 100))]
    structure = two_clusters()
    assigned, _ = assign_parcels(parcels_frame(rows), structure)
    assigned["landuse_canonical"] = ["070102"]
    assigned["landuse_category"] = ["residential"]
    out, _ = renewal_supply(assigned, structure)
    assert out.iloc[0]["renewal_type"] == "old_residential"


def test_bad_inputs():
    structure = two_clusters()
    frame = parcels_frame([("a", "2301", None, 0.0, 0.0, 0.0, True, box(0, 0, 10, 10))])
    with pytest.raises(SchemaError, match="assign"):
        renewal_supply(frame, structure)
    with pytest.raises(ConfigError, match="sum to 1"):
        Capacity.with_targets(
            [{"cluster_id": "*", "landuse_category": "*", "target_far": 1.0, "share_office": 0.4}]
        )
    with pytest.raises(ConfigError, match="redevelopment_share"):
        Capacity(redevelopment_share={"idle_land": 1.0})
    with pytest.raises(ConfigError, match="overlap"):
        Phasing(phases=(("a", 2026, 2032), ("b", 2031, 2035)))


def test_target_lookup_order():
    c = Capacity.with_targets(
        [
            {
                "cluster_id": "west",
                "landuse_category": "*",
                "target_far": 1.1,
                "share_industry": 1.0,
            },
            {
                "cluster_id": "west",
                "landuse_category": "residential",
                "target_far": 1.2,
                "share_residential": 1.0,
            },
        ]
    )
    assert c.target_for("west", "residential")["target_far"] == 1.2
    assert c.target_for("west", "commercial")["target_far"] == 1.1
    assert c.target_for("east", "commercial")["target_far"] == 3.0  # ('*', 'commercial')
    assert c.target_for("east", "nothing")["target_far"] == 2.0  # ('*', '*')


def test_refresh_keeps_every_input_column_as_read(tmp_path):
    """Issue 21: projected newcomers go to new_* columns; the input columns are untouched."""
    import pyogrio

    from tqspatial.config import parse_config
    from tqspatial.pipeline import refresh

    quick = parse_config({"maps": {"enabled": False}, "accessibility": {"enabled": False}})
    result = refresh(quick, out_dir=tmp_path / "out")
    source = pyogrio.read_dataframe(tq.datasets.raw_path("parcels.gpkg"))  # read independently
    columns = [c for c in source.columns if c != "geometry"]
    assert {"residents", "jobs"} <= set(columns)
    expected = source.set_index("parcel_id")
    outputs = {
        "parcels.parquet": gpd.read_parquet(result.out_dir / "parcels.parquet"),
        "inventory.gpkg": pyogrio.read_dataframe(
            result.out_dir / "inventory.gpkg", layer="parcels"
        ),
    }
    for name, frame in outputs.items():
        assert len(frame) == len(source) - result.counts["parcels_rejected"], name
        got = frame.set_index("parcel_id").loc[:, [c for c in columns if c != "parcel_id"]]
        want = expected.loc[got.index, got.columns]
        for column in got.columns:
            a = got[column].astype(object).where(got[column].notna(), None).tolist()
            b = want[column].astype(object).where(want[column].notna(), None).tolist()
            assert a == b, f"{name}: input column {column} changed"
        assert {"new_residents", "new_jobs", "new_households", "new_dwellings"} <= set(frame)
    # The totals planners read: today's residents as in the input, newcomers apart.
    parcels = outputs["parcels.parquet"]
    assert parcels["residents"].sum() == source["residents"].sum()
    ledger = pd.read_csv(result.out_dir / "renewal_ledger.csv")
    assert ledger["new_residents"].sum() == pytest.approx(parcels["new_residents"].sum())
    assert "residents" not in ledger.columns
