import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from tests.conftest import make_grid9
from tqspatial.assign import UNASSIGNED, assign_parcels, overlap_table, summarise_clusters
from tqspatial.schema import validate_parcels
from tqspatial.structure import PlanStructure


def _structure(clusters, corridors=()):
    ids, kinds, geoms, widths = [], [], [], []
    for cid, geom in clusters:
        ids.append(cid), kinds.append("cluster"), geoms.append(geom), widths.append(None)
    for cid, kind, geom, width in corridors:
        ids.append(cid), kinds.append(kind), geoms.append(geom), widths.append(width)
    return PlanStructure.from_frame(
        gpd.GeoDataFrame(
            {"element_id": ids, "kind": kinds, "name_zh": ids, "name_en": ids, "width_m": widths},
            geometry=geoms,
            crs="EPSG:4548",
        )
    )


def _overlay_shares(parcels, structure):
    """Independent route: geopandas.overlay, then area / parcel area."""
    zones = structure.elements.reset_index()[["element_id", "geometry"]]
    inter = gpd.overlay(
        parcels[["parcel_id", "geometry"]], zones, how="intersection", keep_geom_type=True
    )
    inter["overlap_m2"] = inter.area
    inter = inter.groupby(["parcel_id", "element_id"], as_index=False)["overlap_m2"].sum()
    area = parcels.set_index("parcel_id").area
    inter["share"] = inter["overlap_m2"] / area.reindex(inter["parcel_id"]).to_numpy()
    return inter[inter["overlap_m2"] > 0].sort_values(["parcel_id", "element_id"])


def test_grid_split_by_a_cluster_edge(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    # Cluster covers columns 0-1 and half of column 2 in the bottom two rows.
    s = _structure(
        [("c", box(x0, y0, x0 + 250, y0 + 200))],
        [("belt", "belt", LineString([(x0 - 10, y0 + 150), (x0 + 310, y0 + 150)]), 100.0)],
    )
    out, overlaps = assign_parcels(grid9, s)
    by_id = out.set_index("parcel_id")
    assert by_id.loc["p00", "cluster_id"] == "c"
    assert by_id.loc["p02", "cluster_share"] == pytest.approx(0.5)
    assert by_id.loc["p02", "cluster_id"] == "c"  # exactly at the threshold: included
    assert by_id.loc["p20", "cluster_id"] == UNASSIGNED
    assert by_id.loc["p10", "share_belt"] == pytest.approx(1.0)
    assert by_id.loc["p00", "share_belt"] == pytest.approx(0.0)
    assert by_id.loc["p20", "share_belt"] == pytest.approx(0.0)
    assert by_id.loc["p00", "share_belt"] + by_id.loc["p20", "share_belt"] == 0
    # Rows and order are preserved.
    assert out["parcel_id"].tolist() == grid9["parcel_id"].tolist()
    assert set(overlaps["kind"]) == {"cluster", "belt"}


def test_threshold_moves_half_covered_parcels_out(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure([("c", box(x0, y0, x0 + 250, y0 + 300))])
    strict, _ = assign_parcels(grid9, s, min_cluster_share=0.6)
    assert (strict.loc[strict["cluster_share"] < 0.6, "cluster_id"] == UNASSIGNED).all()
    assert (strict["cluster_id"] == "c").sum() == 6


def test_shares_and_unassigned_sum_to_one(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure(
        [("a", box(x0, y0, x0 + 130, y0 + 300)), ("b", box(x0 + 130, y0, x0 + 220, y0 + 300))]
    )
    out, overlaps = assign_parcels(grid9, s)
    cluster_sum = overlaps.groupby("parcel_id")["share"].sum().reindex(out["parcel_id"]).fillna(0)
    np.testing.assert_allclose(cluster_sum.to_numpy() + out["unassigned_share"].to_numpy(), 1.0)


def test_summary_conserves_counts_and_area(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure([("a", box(x0, y0, x0 + 150, y0 + 300))])
    kept, _ = validate_parcels(grid9)
    out, _ = assign_parcels(kept, s)
    summary = summarise_clusters(out, s)
    assert summary["parcel_count"].sum() == len(grid9)
    assert summary["land_area_ha"].sum() == pytest.approx(grid9.area.sum() / 1e4)
    assert summary["cluster_id"].tolist() == ["a", UNASSIGNED]


def test_embedded_dataset_matches_overlay(tianqiao):
    parcels = tianqiao.parcels
    ours = overlap_table(parcels, tianqiao.structure.elements.geometry).sort_values(
        ["parcel_id", "element_id"]
    )
    ref = _overlay_shares(parcels, tianqiao.structure)
    merged = ours.merge(ref, on=["parcel_id", "element_id"], how="outer", suffixes=("", "_ref"))
    # Slivers below 1 mm² may be dropped by overlay's keep_geom_type; everything else matches.
    significant = merged[
        (merged["overlap_m2"].fillna(0) > 1e-6) | (merged["overlap_m2_ref"].fillna(0) > 1e-6)
    ]
    np.testing.assert_allclose(
        significant["share"], significant["share_ref"], rtol=1e-9, atol=1e-12
    )
    # Each element's overlap total equals its area inside the parcel layer (overlay route).
    totals = ours.groupby("element_id")["overlap_m2"].sum()
    ref_totals = ref.groupby("element_id")["overlap_m2"].sum()
    pd.testing.assert_series_equal(totals, ref_totals, rtol=1e-9, check_names=False)


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.floats(10, 290), min_size=1, max_size=4, unique=True),
    y_top=st.floats(20, 300),
)
def test_random_layouts_match_overlay(cuts, y_top):
    grid9 = make_grid9()
    x0, y0 = 500_000.0, 4_060_000.0
    edges = [0.0, *sorted(cuts), 300.0]
    clusters = [
        (f"c{i}", box(x0 + a, y0, x0 + b, y0 + y_top))
        for i, (a, b) in enumerate(itertools.pairwise(edges))
        if b - a > 1e-6
    ]
    s = _structure(clusters)
    ours = overlap_table(grid9, s.elements.geometry).sort_values(["parcel_id", "element_id"])
    ref = _overlay_shares(grid9, s)
    merged = ours.merge(ref, on=["parcel_id", "element_id"], how="outer", suffixes=("", "_ref"))
    merged = merged[
        (merged["overlap_m2"].fillna(0) > 1e-6) | (merged["overlap_m2_ref"].fillna(0) > 1e-6)
    ]
    np.testing.assert_allclose(merged["share"], merged["share_ref"], rtol=1e-9, atol=1e-12)
    out, _ = assign_parcels(grid9, s)
    total_share = (
        out["unassigned_share"]
        + ours.groupby("parcel_id")["share"].sum().reindex(out["parcel_id"]).fillna(0).to_numpy()
    )
    np.testing.assert_allclose(total_share, 1.0, atol=1e-9)
