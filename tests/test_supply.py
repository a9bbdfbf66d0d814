"""Renewal supply: hand-checked capacity, split parcels, phasing, ledger conservation."""

from __future__ import annotations

import math
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from tqspatial import io
from tqspatial.assign import assign_parcels
from tqspatial.constraints import VectorConstraint, tianqiao_constraints
from tqspatial.errors import ConfigError, SchemaError
from tqspatial.quality import recording
from tqspatial.renewal import tianqiao_urban_area
from tqspatial.structure import PlanStructure
from tqspatial.supply import (
    LEDGER_COLUMNS,
    Capacity,
    Phasing,
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
        },
    )
    out, ledger = run(rows, constraints=[strip], capacity=capacity)
    row = out.iloc[0]
    assert row["renewal_type"] == "old_residential"
    assert row["constrained_m2"] == pytest.approx(5000)
    assert row["supply_net_m2"] == pytest.approx(5000)
    # 0.2 x (5000 m² x FAR 2.0 - 10 000 m² existing x 5000/10 000) = 0.2 x (10 000 - 5000) = 1000.
    assert row["new_floor_area_m2"] == pytest.approx(1000)
    assert row["households"] == pytest.approx(5)  # 500 m² residential / 100
    assert row["residents"] == pytest.approx(12.5)
    assert row["jobs"] == pytest.approx(20)  # 500 m² offices / 25
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
    constraints = tianqiao_constraints(tianqiao.water, io.read_raster(tianqiao.flood_depth_path))
    urban = tianqiao_urban_area(tianqiao.boundary, tianqiao.water, tianqiao.anchors)
    out, ledger = renewal_supply(
        assigned, tianqiao.structure, constraints=constraints, urban_area=urban
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
        "residents": ("residents", 1.0),
        "jobs": ("jobs", 1.0),
    }
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rec in out.drop(columns="geometry").to_dict("records"):
        if pd.isna(rec["renewal_type"]):
            continue
        key = (rec["cluster_id"], rec["renewal_type"], rec["phase"])
        groups[key]["count"].append(1.0)
        for name, (column, div) in measures.items():
            groups[key][name].append(rec[column] / div)
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
        parcel_sum = math.fsum(candidates[column] / div)
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
