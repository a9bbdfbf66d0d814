"""Change reports between inventories: tqspatial.changes, io.read_inventory/write_changes, diff.

The main fixture runs the real parcel stages (tq.process_parcels) on a window of the embedded
parcels, edits the *input* parcels in code (10 added, 5 removed, 7 land-use codes changed,
3 reshaped, 2 renamed), runs the stages again and compares the two results.  Expectations come
from the edits themselves and from independent computations (pandas merges of the two parcel
tables, group-bys of the two ledgers, geopandas overlays of candidate pairs), never from our
own output.
"""

from __future__ import annotations

import json
import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import affinity
from shapely.geometry import box

import tqspatial as tq
from tqspatial import cli, io, publish
from tqspatial.changes import (
    CHANGE_KINDS,
    DISTRICT,
    PARCEL_COMPARED,
    InventorySnapshot,
    compare_inventories,
)
from tqspatial.errors import ConfigError, CRSError, DataFileError, SchemaError
from tqspatial.supply import cluster_totals

WINDOW = (497_000.0, 4_061_000.0, 500_500.0, 4_065_000.0)  # Luokou / Gongshanghe, EPSG:4548
N_ADDED, N_REMOVED, N_CODES, N_RESHAPED, N_RENAMED = 10, 5, 7, 3, 2
RESHAPE_FACTOR = 0.8  # reshaped parcels shrink about their centroid


def _projected(frame: pd.DataFrame, name: str) -> pd.Series:
    """Projected people/jobs under either vintage of the column names (TEAM.md rename)."""
    new = f"new_{name}"
    return frame[new] if new in frame.columns else frame[name]


def _inventory(result: tq.inventory.ParcelResult, structure: tq.PlanStructure) -> InventorySnapshot:
    return InventorySnapshot(
        parcels=result.parcels,
        ledger=result.ledger,
        cluster_supply=cluster_totals(result.ledger, structure),
    )


@pytest.fixture(scope="module")
def window(tianqiao):
    parcels = tianqiao.parcels
    inside = parcels[parcels.within(box(*WINDOW))].sort_values("parcel_id")
    context = tq.ParcelContext(
        structure=tianqiao.structure, boundary=tianqiao.boundary, facilities=tianqiao.facilities
    )
    return inside.reset_index(drop=True), context


@pytest.fixture(scope="module")
def edited(tianqiao, window):
    """Old and new inventories through the real parcel stages, and the edits made."""
    raw, context = window
    old = tq.process_parcels(raw, context)
    assert len(old.rejects) == 0
    assert len(old.parcels) == len(raw)
    rng = np.random.default_rng(20)
    ids = old.parcels["parcel_id"].to_numpy(dtype=str)
    share = old.parcels["cluster_share"].to_numpy(dtype=float)
    # reshaped parcels lie wholly inside one cluster or wholly outside all: their cluster stays
    whole = np.flatnonzero(np.isclose(share, 1.0) | (share == 0))
    reshaped = sorted(rng.choice(ids[whole], N_RESHAPED, replace=False))
    residential = set(ids[old.parcels["landuse_code"].to_numpy(dtype=str) == "070102"])
    codes = sorted(rng.choice(sorted(residential - set(reshaped)), N_CODES, replace=False))
    rest = sorted(set(ids) - set(reshaped) - set(codes))
    picked = rng.choice(rest, N_REMOVED + N_RENAMED, replace=False)
    removed, renamed = sorted(picked[:N_REMOVED]), sorted(picked[N_REMOVED:])
    outside = tianqiao.parcels[
        tianqiao.parcels.intersects(box(*WINDOW).buffer(300))
        & ~tianqiao.parcels["parcel_id"].isin(ids)
    ]
    added = sorted(rng.choice(outside["parcel_id"].to_numpy(dtype=str), N_ADDED, replace=False))

    new_raw = raw[~raw["parcel_id"].isin(removed)].copy()
    new_raw.loc[new_raw["parcel_id"].isin(codes), "landuse_code"] = "090101"  # 商业用地
    moved = new_raw["parcel_id"].isin(reshaped)
    new_raw.loc[moved, "geometry"] = [
        affinity.scale(g, RESHAPE_FACTOR, RESHAPE_FACTOR, origin="centroid")
        for g in new_raw.loc[moved, "geometry"]
    ]
    new_raw.loc[new_raw["parcel_id"].isin(renamed), "parcel_id"] = "RN-" + new_raw.loc[
        new_raw["parcel_id"].isin(renamed), "parcel_id"
    ].astype(str)
    extra = tianqiao.parcels[tianqiao.parcels["parcel_id"].isin(added)]
    new_raw = pd.concat([new_raw, extra], ignore_index=True)
    new = tq.process_parcels(gpd.GeoDataFrame(new_raw, crs=raw.crs), context)
    assert len(new.rejects) == 0
    edits = {
        "added": set(added),
        "removed": set(removed),
        "landuse": set(codes),
        "reshaped": set(reshaped),
        "renamed": {r: f"RN-{r}" for r in renamed},
    }
    structure = tianqiao.structure
    return old, new, _inventory(old, structure), _inventory(new, structure), edits


def _ids(table: pd.DataFrame, kind: str) -> set[str]:
    return set(table.loc[table[kind], "parcel_id"].astype(str))


def _independent_attribute_changes(old: pd.DataFrame, new: pd.DataFrame, renamed: dict) -> dict:
    """Renewal and supply changes per new id, by a pandas merge of the two parcel tables."""
    left = pd.DataFrame(old.drop(columns="geometry")).copy()
    left["key"] = left["parcel_id"].astype(str).map(lambda i: renamed.get(i, i))
    right = pd.DataFrame(new.drop(columns="geometry")).copy()
    right["key"] = right["parcel_id"].astype(str)
    for frame in (left, right):
        frame["proj_residents"] = _projected(frame, "residents")
        frame["proj_jobs"] = _projected(frame, "jobs")
    both = left.merge(right, on="key", suffixes=("_o", "_n"))
    renewal = pd.Series(False, index=both.index)
    for column in ("renewal_type", "phase"):
        o = both[f"{column}_o"].astype(object).where(both[f"{column}_o"].notna(), "<na>")
        n = both[f"{column}_n"].astype(object).where(both[f"{column}_n"].notna(), "<na>")
        renewal |= o != n
    supply = pd.Series(False, index=both.index)
    for column, tol in (
        ("supply_net_m2", 1.0),
        ("new_floor_area_m2", 1.0),
        ("proj_residents", 0.5),
        ("proj_jobs", 0.5),
    ):
        supply |= (both[f"{column}_n"] - both[f"{column}_o"]).abs() > tol
    return {
        "renewal_changed": set(both.loc[renewal, "key"]),
        "supply_changed": set(both.loc[supply, "key"]),
    }


def test_known_edits_are_reported_exactly(edited):
    old, new, inv_old, inv_new, edits = edited
    changes = compare_inventories(inv_old, inv_new)
    table = changes.parcels
    assert _ids(table, "added") == edits["added"]
    assert set(table.loc[table["removed"], "parcel_id_old"]) == edits["removed"]
    renamed = table[table["renamed"]]
    assert (
        dict(zip(renamed["parcel_id_old"], renamed["parcel_id_new"], strict=True))
        == (edits["renamed"])
    )
    assert _ids(table, "geometry_changed") == edits["reshaped"]
    assert _ids(table, "landuse_changed") == edits["landuse"]
    assert _ids(table, "cluster_changed") == set()
    # renewal and supply follow from the edits: the same sets as an independent merge gives
    expected = _independent_attribute_changes(old.parcels, new.parcels, edits["renamed"])
    for kind in ("renewal_changed", "supply_changed"):
        assert _ids(table, kind) == expected[kind], kind
        assert _ids(table, kind) <= edits["landuse"] | edits["reshaped"], kind
    assert expected["supply_changed"]  # the edits do move supply
    # nothing else is reported, and each kind is counted
    assert set(table["parcel_id"]) == (
        edits["added"]
        | edits["removed"]
        | set(edits["renamed"].values())
        | edits["reshaped"]
        | edits["landuse"]
    )
    for kind in CHANGE_KINDS:
        assert changes.counts[kind] == int(table[kind].sum())
    assert changes.counts["added"] == N_ADDED
    assert changes.counts["removed"] == N_REMOVED
    assert changes.counts["renamed"] == N_RENAMED
    assert changes.counts["unchanged"] == len(old.parcels) - N_REMOVED - (
        N_RENAMED + N_RESHAPED + N_CODES
    )
    assert table["parcel_id"].is_unique
    # the change column lists the flags that are set, in the declared order
    for rec in table.to_dict("records"):
        assert rec["change"] == ", ".join(k for k in CHANGE_KINDS if rec[k])


def test_reshaped_parcels_carry_area_delta_and_iou(edited):
    old, new, inv_old, inv_new, edits = edited
    table = compare_inventories(inv_old, inv_new).parcels.set_index("parcel_id")
    before = old.parcels.set_index("parcel_id").geometry
    after = new.parcels.set_index("parcel_id").geometry
    for pid in edits["reshaped"]:
        a, b = before[pid], after[pid]
        assert table.loc[pid, "area_delta_m2"] == pytest.approx(b.area - a.area, rel=1e-9)
        # IoU by a geopandas overlay of the two shapes (a shrunk non-convex parcel need not
        # lie inside the old one, so the area ratio alone would not do)
        inter = gpd.overlay(
            gpd.GeoDataFrame(geometry=[a], crs=old.parcels.crs),
            gpd.GeoDataFrame(geometry=[b], crs=old.parcels.crs),
            how="intersection",
        ).area.sum()
        assert table.loc[pid, "iou"] == pytest.approx(inter / (a.area + b.area - inter), rel=1e-9)
    assert table.loc[list(edits["landuse"]), "landuse_code_new"].eq("090101").all()
    assert table.loc[list(edits["landuse"]), "landuse_code_old"].eq("070102").all()


def test_unchanged_rerun_gives_an_empty_report(window, tianqiao, tmp_path):
    raw, context = window
    first, second = tq.process_parcels(raw, context), tq.process_parcels(raw, context)
    structure = tianqiao.structure
    changes = compare_inventories(_inventory(first, structure), _inventory(second, structure))
    assert changes.empty
    assert len(changes.parcels) == 0
    assert changes.counts["unchanged"] == len(raw)
    delta = changes.clusters[[c for c in changes.clusters.columns if c.endswith("_delta")]]
    assert (delta.to_numpy() == 0).all()
    assert "无变化" in changes.summary
    assert "No changes" in changes.summary
    # through the files a refresh writes: GeoParquet and CSV round trips change nothing
    folder = tmp_path / "inv"
    io.write_geoparquet(folder / "parcels.parquet", first.parcels)
    io.write_csv(folder / "renewal_ledger.csv", first.ledger)
    io.write_csv(folder / "cluster_supply.csv", cluster_totals(first.ledger, structure))
    again = compare_inventories(io.read_inventory(folder), _inventory(second, structure))
    assert again.empty, again.summary
    written = io.write_changes(tmp_path / "out", again)
    assert [p.name for p in written] == [
        "changes.parquet",
        "changes.csv",
        "changes_clusters.csv",
        "changes_access.csv",
        "changes.md",
    ]
    assert len(gpd.read_parquet(tmp_path / "out" / "changes.parquet")) == 0


def _ledger_sums(ledger: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cluster_id": ledger["cluster_id"].astype(str),
            "parcel_count": ledger["parcel_count"],
            "gross_area_ha": ledger["gross_area_ha"],
            "net_supply_ha": ledger["net_supply_ha"],
            "new_floor_area_m2": ledger["new_floor_area_m2"],
            "new_residents": _projected(ledger, "residents"),
            "new_jobs": _projected(ledger, "jobs"),
        }
    )
    return frame.groupby("cluster_id").sum()


def test_cluster_deltas_equal_the_difference_of_the_ledgers(edited):
    old, new, inv_old, inv_new, _ = edited
    clusters = compare_inventories(inv_old, inv_new).clusters.set_index("cluster_id")
    a, b = _ledger_sums(old.ledger), _ledger_sums(new.ledger)
    keys = a.index.union(b.index)
    expected = b.reindex(keys, fill_value=0) - a.reindex(keys, fill_value=0)
    # every cluster of the published cluster tables, those without supply with zeros
    listed = set(inv_old.cluster_supply["cluster_id"]) | set(inv_new.cluster_supply["cluster_id"])
    assert set(clusters.index) == listed | set(keys)
    idle = sorted(listed - set(keys) - {DISTRICT})
    assert idle  # the window holds only some clusters
    assert (clusters.loc[idle, [c for c in clusters.columns if c != "name_zh"]] == 0).all().all()
    for column in expected.columns:
        got = clusters.loc[expected.index, f"{column}_delta"].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected[column].to_numpy(dtype=float), atol=1e-9)
        assert clusters.loc[DISTRICT, f"{column}_delta"] == pytest.approx(
            b[column].sum() - a[column].sum(), abs=1e-6
        )
        assert clusters.loc[DISTRICT, f"{column}_new"] == pytest.approx(b[column].sum())
    assert (clusters["net_supply_ha_delta"] != 0).any()
    # the Chinese names come from the cluster table; the summary names the changed clusters
    assert clusters.loc["specialty_commerce", "name_zh"] == "特色商贸组团"


def test_cluster_totals_from_parcels_match_the_ledgers(edited):
    _, _, inv_old, inv_new, _ = edited
    from_ledgers = compare_inventories(inv_old, inv_new).clusters.set_index("cluster_id")
    from_parcels = compare_inventories(inv_old.parcels, inv_new.parcels).clusters
    from_parcels = from_parcels.set_index("cluster_id")
    numeric = [c for c in from_ledgers.columns if c != "name_zh"]
    assert set(from_parcels.index) <= set(from_ledgers.index)
    np.testing.assert_allclose(
        from_parcels[numeric].to_numpy(dtype=float),
        from_ledgers.loc[from_parcels.index, numeric].to_numpy(dtype=float),
        rtol=1e-9,
        atol=1e-9,
    )
    # clusters the parcels do not reach are the ledger path's rows of zeros
    others = from_ledgers.drop(index=from_parcels.index)
    assert (others[numeric] == 0).all().all()


def test_summary_is_bilingual_and_names_the_changes(edited):
    _, _, inv_old, inv_new, _ = edited
    summary = compare_inventories(inv_old, inv_new).summary
    assert summary.startswith("## 清单变化 / Inventory changes")
    assert f"| 新增 / added | {N_ADDED} |" in summary
    assert f"| 删除 / removed | {N_REMOVED} |" in summary
    assert f"| 用地代码变化 / land-use code changed | {N_CODES} |" in summary
    assert "各组团变化 / Change per cluster" in summary
    assert "全区合计 / district" in summary


# --------------------------------------------------------------------------- IoU matching


def _squares(ids, boxes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_id": ids}, geometry=list(boxes), crs="EPSG:4548")


def test_renamed_at_iou_096_but_removed_and_added_at_09(grid9):
    new = grid9.copy()
    for pid, new_id, iou in (("p11", "q11", 0.96), ("p12", "q12", 0.9)):
        row = new["parcel_id"] == pid
        factor = math.sqrt(iou)  # shrunk about its centre: inside the old square, IoU = factor²
        new.loc[row, "geometry"] = [
            affinity.scale(g, factor, factor, origin="center") for g in new.loc[row, "geometry"]
        ]
        new.loc[row, "parcel_id"] = new_id
    table = compare_inventories(grid9, new).parcels.set_index("parcel_id")
    assert table.loc["q11", "change"] == "renamed, geometry_changed"
    assert table.loc["q11", "parcel_id_old"] == "p11"
    assert table.loc["q11", "iou"] == pytest.approx(0.96, rel=1e-9)
    assert table.loc["q12", "change"] == "added"
    assert table.loc["p12", "change"] == "removed"
    assert sorted(table.index) == ["p12", "q11", "q12"]


def test_iou_matching_agrees_with_an_overlay_of_the_candidates(window):
    """Real, irregular parcels renamed and reshaped by random amounts: overlay decides."""
    raw, _ = window
    rng = np.random.default_rng(7)
    old = raw[["parcel_id", "geometry"]].head(400).copy()
    new = old.copy()
    chosen = rng.choice(len(new), 60, replace=False)
    factors = rng.uniform(0.93, 1.0, len(chosen))
    shifts = rng.uniform(-1.5, 1.5, (len(chosen), 2))
    for i, f, (dx, dy) in zip(chosen, factors, shifts, strict=True):
        g = affinity.scale(new.geometry.iloc[i], f, f, origin="centroid")
        new.iloc[i, new.columns.get_loc("geometry")] = affinity.translate(g, dx, dy)
        new.iloc[i, new.columns.get_loc("parcel_id")] = f"X{i}"
    new = gpd.GeoDataFrame(new, crs=old.crs)
    table = compare_inventories(old, new).parcels
    gone = old[~old["parcel_id"].isin(new["parcel_id"])]
    came = new[~new["parcel_id"].isin(old["parcel_id"])]
    inter = gpd.overlay(gone, came, how="intersection", keep_geom_type=True)
    inter["inter_m2"] = inter.area
    pairs = inter.groupby(["parcel_id_1", "parcel_id_2"], as_index=False)["inter_m2"].sum()
    area_old = gone.set_index("parcel_id").area
    area_new = came.set_index("parcel_id").area
    union = (
        area_old.reindex(pairs["parcel_id_1"]).to_numpy()
        + area_new.reindex(pairs["parcel_id_2"]).to_numpy()
        - pairs["inter_m2"].to_numpy()
    )
    pairs["iou"] = pairs["inter_m2"].to_numpy() / union
    good = pairs[pairs["iou"] >= 0.95]
    assert good["parcel_id_1"].is_unique
    assert good["parcel_id_2"].is_unique
    assert 0 < len(good) < len(chosen)  # both outcomes occur
    renamed = table[table["renamed"]].set_index("parcel_id_old")
    assert set(renamed.index) == set(good["parcel_id_1"])
    expected = good.set_index("parcel_id_1")
    assert (renamed["parcel_id_new"] == expected.loc[renamed.index, "parcel_id_2"]).all()
    np.testing.assert_allclose(
        renamed["iou"].to_numpy(dtype=float),
        expected.loc[renamed.index, "iou"].to_numpy(dtype=float),
        rtol=1e-9,
    )
    assert _ids(table, "added") == set(came["parcel_id"]) - set(good["parcel_id_2"])
    assert set(table.loc[table["removed"], "parcel_id_old"]) == set(gone["parcel_id"]) - set(
        good["parcel_id_1"]
    )


def test_ties_and_splits_and_merges():
    old = _squares(
        ["a", "b", "c", "d"],
        [box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10), box(50, 0, 60, 10)],
    )
    twin = box(0, 0, 10, 10)
    new = _squares(
        ["a2", "a1", "b-west", "b-east", "cd"],
        [twin, twin, box(20, 0, 25, 10), box(25, 0, 30, 10), box(40, 0, 60, 10)],
    )
    changes = compare_inventories(old, new)
    table = changes.parcels.set_index("parcel_id")
    # two identical new parcels compete for "a": the smaller id wins, the other is added
    assert table.loc["a1", "change"] == "renamed"
    assert table.loc["a1", "parcel_id_old"] == "a"
    assert table.loc["a2", "change"] == "added"
    assert any("tied" in note for note in changes.notes)
    # a split (IoU 0.5 each) and a merge are removed + added
    assert table.loc["b", "change"] == "removed"
    assert table.loc[["b-west", "b-east", "cd"], "change"].eq("added").all()
    assert table.loc[["c", "d"], "change"].eq("removed").all()


def test_geometry_noise_below_tolerance_and_reprojection_are_not_changes(grid9):
    projected = grid9.to_crs("EPSG:4527")  # same zone, eastings with the zone number
    changes = compare_inventories(grid9, projected)
    assert changes.empty
    assert any("reprojected" in note for note in changes.notes)
    nudged = grid9.copy()
    nudged["geometry"] = nudged.translate(0.001, 0.0)  # 1 mm: 0.2 m² of symmetric difference
    assert compare_inventories(grid9, nudged).empty
    assert compare_inventories(grid9, nudged, geometry_tol_m2=0.1).counts["geometry_changed"] == 9


# --------------------------------------------------------------------------- columns


def test_works_across_the_residents_rename(edited):
    """Old inventories held projections in residents/jobs; new ones in new_residents/new_jobs."""
    old, _, _, _, _ = edited
    parcels = old.parcels
    projected_residents, projected_jobs = (
        _projected(parcels, "residents"),
        _projected(parcels, "jobs"),
    )
    legacy = parcels.drop(columns=["new_residents", "new_jobs"], errors="ignore").assign(
        residents=projected_residents, jobs=projected_jobs
    )
    current = parcels.assign(
        new_residents=projected_residents,
        new_jobs=projected_jobs,
        residents=np.arange(len(parcels)),  # input counts: not projections, not compared
        jobs=np.arange(len(parcels)) * 2,
    )
    changes = compare_inventories(legacy, current)
    assert changes.empty, changes.summary
    more = current.assign(new_residents=projected_residents + 10.0)
    changes = compare_inventories(legacy, more)
    assert changes.counts["supply_changed"] == len(parcels)
    np.testing.assert_allclose(changes.parcels["new_residents_delta"], 10.0, rtol=1e-12)
    loose = compare_inventories(legacy, more, tolerances={"new_residents": 10.5})
    assert loose.counts["supply_changed"] == 0
    assert not loose.empty  # the cluster totals did change, by 10 per renewal parcel
    # an inventory without the supply stage has input residents only: nothing to compare there
    bare = parcels[["parcel_id", "landuse_code", "residents", "geometry"]]
    report = compare_inventories(bare, bare)
    assert report.empty
    assert any("`new_residents` not compared" in note for note in report.notes)


def test_absent_columns_are_noted_not_fatal(grid9):
    old = grid9.assign(landuse_code="0701", phase="near")
    new = grid9.assign(landuse_code="0701")
    changes = compare_inventories(old, new)
    assert changes.empty
    assert any("`phase` not compared: absent from the new inventory" in n for n in changes.notes)
    assert "### 说明 / Notes" in changes.summary
    assert {c.name for c in PARCEL_COMPARED} >= {"landuse_code", "new_residents", "new_jobs"}


def test_accessibility_medians_are_compared_when_both_have_them(grid9):
    def access(median):
        return pd.DataFrame(
            {
                "cluster_id": ["c1", "c1", "c2"],
                "measure": ["walk_primary_school_min", "walk_park_min", "walk_park_min"],
                "weighted_by": ["residents"] * 3,
                "median": median,
            }
        )

    old = InventorySnapshot(grid9, access_clusters=access([10.0, 5.0, 7.0]))
    new = InventorySnapshot(grid9, access_clusters=access([8.5, 5.0, 7.0]))
    changes = compare_inventories(old, new)
    got = changes.access.set_index(["cluster_id", "measure"])["median_delta"]
    assert got[("c1", "walk_primary_school_min")] == pytest.approx(-1.5)
    assert got[("c1", "walk_park_min")] == 0
    assert got[("c2", "walk_park_min")] == 0
    assert not changes.empty
    assert "10.00 → 8.50 min" in changes.summary
    one_sided = compare_inventories(InventorySnapshot(grid9), new)
    assert one_sided.access.empty
    assert any("Accessibility not compared: the old inventory" in n for n in one_sided.notes)


# --------------------------------------------------------------------------- errors


def test_bad_inputs_raise_with_what_to_do(grid9):
    twice = pd.concat([grid9, grid9.head(1)], ignore_index=True)
    with pytest.raises(SchemaError, match=r"1 repeated ids, e.g. \['p00'\].*unique parcel_id"):
        compare_inventories(twice, grid9)
    with pytest.raises(SchemaError, match="no 'parcel_id' column"):
        compare_inventories(grid9.rename(columns={"parcel_id": "id"}), grid9)
    with pytest.raises(CRSError, match=r"geographic CRS.*Reproject"):
        compare_inventories(grid9.to_crs("EPSG:4326"), grid9)
    with pytest.raises(ConfigError, match=r"iou_min must be in \(0, 1\], got 1.5"):
        compare_inventories(grid9, grid9, iou_min=1.5)
    with pytest.raises(ConfigError, match=r"unknown tolerance names \['jobs'\]; valid names"):
        compare_inventories(grid9, grid9, tolerances={"jobs": 1.0})
    with pytest.raises(ConfigError, match=r"unknown tolerance names \['parcel_count'\]"):
        compare_inventories(grid9, grid9, tolerances={"parcel_count": 1.0})
    with pytest.raises(SchemaError, match=r"expected a tqspatial\.changes\.InventorySnapshot"):
        compare_inventories(pd.DataFrame(grid9), grid9)  # type: ignore[arg-type]


def test_read_inventory_refuses_what_is_not_an_inventory(tmp_path, grid9):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"has no parcels.parquet \(it holds notes.txt\)"):
        io.read_inventory(tmp_path)
    with pytest.raises(DataFileError, match="does not exist"):
        io.read_inventory(tmp_path / "missing")
    with pytest.raises(DataFileError, match=r"a \.txt file"):
        io.read_inventory(tmp_path / "notes.txt")
    io.write_geoparquet(tmp_path / "x.parquet", grid9.rename(columns={"parcel_id": "fid"}))
    with pytest.raises(DataFileError, match="no parcel_id column"):
        io.read_inventory(tmp_path / "x.parquet")


# --------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def refreshed(window, tmp_path_factory):
    """Two real refreshes (accessibility on, maps off) of a parcel file and of an edited copy."""
    raw, _ = window
    tmp = tmp_path_factory.mktemp("refreshed")
    old_raw = raw.head(800)
    ids = old_raw["parcel_id"].astype(str).tolist()
    edits = {
        "gone": ids[3],
        "renamed": ids[20],
        "recoded": str(old_raw.loc[old_raw["landuse_code"] == "070102", "parcel_id"].iloc[0]),
    }
    new_raw = old_raw[old_raw["parcel_id"] != edits["gone"]].copy()
    new_raw.loc[new_raw["parcel_id"] == edits["recoded"], "landuse_code"] = "090101"
    new_raw.loc[new_raw["parcel_id"] == edits["renamed"], "parcel_id"] = "RENAMED-1"
    folders = {}
    for name, parcels in (("old", old_raw), ("new", new_raw)):
        io.write_layers(tmp / f"{name}.gpkg", {"parcels": parcels})
        config = tmp / f"{name}.toml"
        config.write_text(
            f'[inputs]\nparcels = "{name}.gpkg"\n\n[maps]\nenabled = false\n', encoding="utf-8"
        )
        folders[name] = tmp / f"inv_{name}"
        args = ["-q", "refresh", "--config", str(config), "--out", str(folders[name])]
        assert cli.main(args) == cli.EXIT_OK
    return folders, edits


@pytest.mark.slow
def test_diff_command_end_to_end_on_two_refreshed_folders(refreshed, tmp_path, capsys):
    folders, edits = refreshed
    capsys.readouterr()
    out = tmp_path / "changes"
    code = cli.main(["-q", "diff", str(folders["old"]), str(folders["new"]), "--out", str(out)])
    assert code == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert printed == (out / "changes.md").read_text(encoding="utf-8")
    assert "| 删除 / removed | 1 |" in printed
    table = pd.read_csv(out / "changes.csv", encoding="utf-8-sig").set_index("parcel_id_old")
    assert sorted(table.index) == sorted(edits.values())
    assert table.loc[edits["gone"], "change"] == "removed"
    assert table.loc[edits["renamed"], "change"] == "renamed"
    assert table.loc[edits["renamed"], "parcel_id_new"] == "RENAMED-1"
    assert table.loc[edits["recoded"], "change"].startswith("landuse_changed")
    # per-cluster deltas = difference of the two published cluster_supply.csv files
    supply = {
        name: pd.read_csv(folder / "cluster_supply.csv", encoding="utf-8-sig").set_index(
            "cluster_id"
        )
        for name, folder in folders.items()
    }
    deltas = pd.read_csv(out / "changes_clusters.csv", encoding="utf-8-sig").set_index("cluster_id")
    for column in ("net_supply_ha", "new_floor_area_m2", "parcel_count"):
        expected = supply["new"][column] - supply["old"][column]
        got = deltas.loc[expected.index, f"{column}_delta"]
        np.testing.assert_allclose(got.to_numpy(dtype=float), expected.to_numpy(), atol=1e-9)
    access = pd.read_csv(out / "changes_access.csv", encoding="utf-8-sig")
    assert len(access) > 0
    assert {"median_old", "median_new", "median_delta"} <= set(access)
    # the folder is owned by the diff job: its manifest counts, a second diff replaces it
    assert publish.read_owner(out) == "diff"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["removed"] == 1
    again = ["-q", "diff", str(folders["new"]), str(folders["new"]), "--out", str(out)]
    assert cli.main(again) == cli.EXIT_OK
    assert "无变化" in (out / "changes.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_diff_command_refuses_with_exit_2(refreshed, tmp_path, capsys, caplog):
    folders, _ = refreshed
    old, new = str(folders["old"]), str(folders["new"])
    with caplog.at_level(logging.ERROR, logger="tqspatial"):
        assert cli.main(["-q", "diff", old, new, "--out", new]) == cli.EXIT_BAD_INPUT
    assert "holds the outputs of tqspatial refresh, not of diff" in caplog.text
    assert publish.read_owner(folders["new"]) == "refresh"
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tqspatial"):
        assert cli.main(["-q", "diff", old, str(tmp_path)]) == cli.EXIT_BAD_INPUT
    assert "is not a tqspatial inventory: it has no parcels.parquet (it holds notes.txt)" in (
        caplog.text
    )
    assert capsys.readouterr().out == ""
