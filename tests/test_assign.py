import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from tests.conftest import make_grid9
from tqspatial.assign import UNASSIGNED, assign_parcels, overlap_table, summarise_clusters
from tqspatial.errors import CRSError
from tqspatial.quality import recording
from tqspatial.structure import PlanStructure
from tqspatial.validate import validate_parcels


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


# --------------------------------------------------------------------------- added for issue 4


def _reference_assignment(parcels, structure, district=None, min_share=0.5):
    """Independent route for the per-parcel columns: overlay shares, then pandas pivots."""
    ref = _overlay_shares(parcels, structure)
    kinds = structure.elements["kind"]
    ref["kind"] = kinds.reindex(ref["element_id"]).to_numpy()
    wide = ref.pivot_table(
        index="parcel_id", columns="element_id", values="share", aggfunc="sum"
    ).reindex(index=parcels["parcel_id"], columns=list(structure.elements.index))
    wide = wide.fillna(0.0)
    clusters = wide[structure.cluster_ids]
    out = pd.DataFrame(index=parcels["parcel_id"])
    if structure.cluster_ids:
        best = clusters.max(axis=1)
        out["cluster_id"] = clusters.idxmax(axis=1).where(best >= min_share, UNASSIGNED)
        out["unassigned_share"] = 1 - clusters.sum(axis=1)
    for element_id in structure.corridor_ids:
        out[f"share_{element_id}"] = wide[element_id]
    if district is not None:
        d = gpd.overlay(
            parcels[["parcel_id", "geometry"]],
            gpd.GeoDataFrame(geometry=[district], crs=parcels.crs),
            how="intersection",
            keep_geom_type=True,
        )
        inside = d.assign(a=d.area).groupby("parcel_id")["a"].sum()
        area = parcels.set_index("parcel_id").area
        out["district_share"] = (inside.reindex(area.index).fillna(0) / area).to_numpy()
    return ref, out


def test_embedded_dataset_every_column_matches_overlay(tianqiao):
    from tqspatial.datasets import tianqiao_structure

    structure = tianqiao_structure()
    # The embedded parcels lie inside the district; five copies of the parcels nearest its edge,
    # grown by 300 m, cross it (as parcels of a survey often do).
    edge = shapely.boundary(tianqiao.boundary.union_all())
    near = tianqiao.parcels.loc[tianqiao.parcels.distance(edge).nsmallest(5).index].copy()
    near["parcel_id"] = "EDGE-" + near["parcel_id"].astype(str)
    near["geometry"] = near.buffer(300.0)
    parcels = gpd.GeoDataFrame(pd.concat([tianqiao.parcels, near], ignore_index=True))
    ours, overlaps = assign_parcels(parcels, structure)
    _, ref = _reference_assignment(parcels, structure, structure.district)
    ours = ours.set_index("parcel_id")
    assert (ours["cluster_id"].astype(object) == ref["cluster_id"].astype(object)).all()
    for column in [*(f"share_{e}" for e in structure.corridor_ids), "district_share"]:
        np.testing.assert_allclose(ours[column], ref[column], rtol=1e-9, atol=1e-12)
        if column != "district_share":
            on = column.replace("share_", "on_")
            assert (ours[on] == (ref[column] >= 0.5)).all()
    np.testing.assert_allclose(ours["unassigned_share"], ref["unassigned_share"], atol=1e-9)
    # Parcels crossing the district boundary exist and are reported as such.
    crossing = (ours["district_share"] > 0) & (ours["district_share"] < 1 - 1e-9)
    assert set(crossing[crossing].index) >= set(near["parcel_id"])
    assert list(overlaps.columns) == ["parcel_id", "element_id", "kind", "overlap_m2", "share"]


def test_conservation_on_the_embedded_dataset(tianqiao):
    structure = tianqiao.structure
    parcels = tianqiao.parcels
    out, overlaps = assign_parcels(parcels, structure)
    # Per parcel: cluster shares + unassigned share = 1.
    cluster_rows = overlaps[overlaps["kind"] == "cluster"]
    sums = cluster_rows.groupby("parcel_id")["share"].sum().reindex(out["parcel_id"]).fillna(0)
    np.testing.assert_allclose(sums.to_numpy() + out["unassigned_share"].to_numpy(), 1, atol=1e-9)
    # Per element: sum of overlaps = element area inside the union of all parcels (computed
    # independently: one union, then one intersection per element).
    land = shapely.coverage_union_all(parcels.geometry.to_numpy())
    inside = shapely.area(shapely.intersection(structure.elements.geometry.to_numpy(), land))
    totals = overlaps.groupby("element_id")["overlap_m2"].sum().reindex(structure.elements.index)
    np.testing.assert_allclose(totals.to_numpy(), inside, rtol=1e-9)


def test_parcels_crossing_the_district_boundary_get_their_share(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure([("c", box(x0, y0, x0 + 300, y0 + 100))])
    # The district ends 40 m into the middle column and covers the bottom two rows.
    district = box(x0 - 50, y0 - 50, x0 + 140, y0 + 200)
    out, _ = assign_parcels(grid9, s, boundary=district)
    by_id = out.set_index("parcel_id")["district_share"]
    assert by_id["p00"] == pytest.approx(1.0)
    assert by_id["p01"] == pytest.approx(0.4)
    assert by_id["p02"] == pytest.approx(0.0)
    assert by_id["p21"] == pytest.approx(0.0)
    # A structure validated against its district carries it: no boundary argument needed.
    carried, _ = assign_parcels(grid9, s.validate(box(x0, y0, x0 + 300, y0 + 300)))
    np.testing.assert_allclose(carried["district_share"], 1.0)


def test_membership_threshold_for_corridors(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    # A belt 60 m wide centred on y0 + 200: covers 30 m of rows 1 and 2 -> share 0.3 each.
    belt = LineString([(x0, y0 + 200), (x0 + 300, y0 + 200)])
    s = _structure([], [("b", "belt", belt, 60.0)])
    out, _ = assign_parcels(grid9, s)
    assert out["share_b"].round(9).tolist() == [0.0] * 3 + [0.3] * 6
    assert not out["on_b"].any()
    low, _ = assign_parcels(grid9, s, min_element_share=0.3)
    assert low["on_b"].tolist() == [False] * 3 + [True] * 6


def test_zero_clusters_or_zero_corridors(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    only_belt = _structure([], [("b", "axis", LineString([(x0, y0), (x0 + 300, y0)]), 100.0)])
    out, overlaps = assign_parcels(grid9, only_belt)
    assert (out["cluster_id"] == UNASSIGNED).all()
    np.testing.assert_allclose(out["unassigned_share"], 1.0)
    assert set(overlaps["kind"]) == {"axis"}
    only_cluster = _structure([("c", box(x0, y0, x0 + 300, y0 + 300))])
    out, _ = assign_parcels(grid9, only_cluster)
    assert not [c for c in out.columns if c.startswith(("share_", "on_"))]
    assert (out["cluster_id"] == "c").all()


def test_empty_parcels_give_empty_outputs_with_the_columns(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure(
        [("c", box(x0, y0, x0 + 300, y0 + 300))],
        [("b", "belt", LineString([(x0, y0), (x0 + 300, y0)]), 50.0)],
    )
    out, overlaps = assign_parcels(grid9.iloc[:0], s, boundary=box(x0, y0, x0 + 1, y0 + 1))
    assert len(out) == 0
    assert len(overlaps) == 0
    for column in ["cluster_id", "cluster_share", "unassigned_share", "share_b", "on_b"]:
        assert column in out.columns
    assert "district_share" in out.columns
    assert list(overlaps.columns) == ["parcel_id", "element_id", "kind", "overlap_m2", "share"]
    summary = summarise_clusters(out, s)
    assert summary["parcel_count"].tolist() == [0, 0]
    assert summary["land_area_ha"].tolist() == [0.0, 0.0]


def test_parcels_outside_every_element(grid9):
    s = _structure([("far", box(0, 0, 100, 100))])
    out, overlaps = assign_parcels(grid9, s)
    assert (out["cluster_id"] == UNASSIGNED).all()
    assert out["cluster_share"].tolist() == [0.0] * 9
    assert out["unassigned_share"].tolist() == [1.0] * 9
    assert len(overlaps) == 0


def test_parcels_in_another_crs_are_reprojected_not_rejected(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure([("c", box(x0, y0, x0 + 150, y0 + 300))])
    expected, _ = assign_parcels(grid9, s)
    lonlat = grid9.to_crs("EPSG:4490")
    with recording() as log:
        out, _ = assign_parcels(lonlat, s)
    assert out.crs == s.crs
    assert out["cluster_id"].tolist() == expected["cluster_id"].tolist()
    np.testing.assert_allclose(out["cluster_share"], expected["cluster_share"], atol=1e-6)
    (note,) = log.table().to_dict("records")
    assert note["kind"] == "reprojected"
    assert "EPSG:4490" in note["message"]
    with pytest.raises(CRSError, match="parcels have no CRS"):
        assign_parcels(grid9.set_crs(None, allow_override=True), s)


def test_ties_go_to_the_first_cluster(grid9):
    x0, y0 = 500_000.0, 4_060_000.0
    s = _structure(
        [("west", box(x0, y0, x0 + 150, y0 + 300)), ("east", box(x0 + 150, y0, x0 + 300, y0 + 300))]
    )
    out, _ = assign_parcels(grid9, s)
    assert out.set_index("parcel_id").loc["p01", "cluster_id"] == "west"


def test_summary_breaks_land_down_by_class_and_conserves_totals(tianqiao):
    from tqspatial.datasets import tianqiao_structure

    structure = tianqiao_structure()
    kept, _ = validate_parcels(tianqiao.parcels)
    kept["use_class"] = kept["landuse_code"].astype(object).str[:2]
    out, overlaps = assign_parcels(kept, structure)
    table = summarise_clusters(out, structure, class_column="use_class")
    assert table["cluster_id"].tolist() == [*structure.cluster_ids, UNASSIGNED]
    assert table["parcel_count"].sum() == len(kept)
    total_ha = kept.area.sum() / 1e4
    assert table["land_area_ha"].sum() == pytest.approx(total_ha, rel=1e-12)
    class_columns = [c for c in table.columns if c.startswith("class_")]
    # Each row's classes add up to its land; each class column to that class's total.
    np.testing.assert_allclose(table[class_columns].sum(axis=1), table["land_area_ha"], rtol=1e-12)
    by_class = kept.assign(a=kept.area / 1e4).groupby(
        kept["use_class"].fillna("missing").astype(str)
    )["a"]
    for column in class_columns:
        value = column.removeprefix("class_").removesuffix("_ha")
        assert table[column].sum() == pytest.approx(by_class.sum()[value], rel=1e-9)
    # Corridor areas: the sum over rows equals the corridor's overlap with the parcels.
    for element_id in structure.corridor_ids:
        overlap = overlaps.loc[overlaps["element_id"] == element_id, "overlap_m2"].sum() / 1e4
        assert table[f"{element_id}_ha"].sum() == pytest.approx(overlap, rel=1e-9)
    # Cluster areas inside the district, and the rest, make up the district.
    assert table["share_of_district"].sum() == pytest.approx(1.0, rel=1e-12)
    district_ha = tianqiao.boundary.area.sum() / 1e4
    assert table["cluster_area_ha"].sum() == pytest.approx(district_ha, rel=1e-9)
    commerce = structure.elements.loc["specialty_commerce"].geometry
    row = table.set_index("cluster_id").loc["specialty_commerce"]
    assert row["cluster_area_ha"] == pytest.approx(commerce.area / 1e4, rel=1e-9)
    # Without a district the district columns are NaN, the rest unchanged.
    no_district = dataclasses.replace(tianqiao.structure, district=None)
    plain = summarise_clusters(out, no_district, class_column="use_class")
    assert plain["share_of_district"].isna().all()
    pd.testing.assert_series_equal(plain["land_area_ha"], table["land_area_ha"])


def test_second_district_plan_assigns_and_conserves():
    from benchmarks.synth_parcels import synth_parcels
    from tests.test_structure import huaiyin_structure

    structure, _boundary = huaiyin_structure()
    parcels = synth_parcels(3000, structure.district.bounds)
    out, _overlaps = assign_parcels(parcels, structure)
    assert len(out) == len(parcels)
    assert set(out["cluster_id"]) <= {*structure.cluster_ids, UNASSIGNED}
    assert {"share_hy_axis", "on_hy_core", "share_hy_node", "district_share"} <= set(out.columns)
    _, ref = _reference_assignment(parcels, structure, structure.district)
    ours = out.set_index("parcel_id")
    assert (ours["cluster_id"].astype(object) == ref["cluster_id"].astype(object)).all()
    for column in ["share_hy_axis", "share_hy_core", "share_hy_node", "district_share"]:
        np.testing.assert_allclose(ours[column], ref[column], rtol=1e-9, atol=1e-12)
    # Clusters tile the district, so within it unassigned land is only the part outside.
    np.testing.assert_allclose(out["unassigned_share"], 1 - out["district_share"], atol=1e-9)
    table = summarise_clusters(out, structure)
    assert table["parcel_count"].sum() == len(parcels)
    assert table.iloc[-1]["cluster_area_ha"] == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.floats(10, 290), min_size=0, max_size=3, unique=True),
    y_top=st.floats(20, 300),
    belt_y=st.floats(-20, 320),
    belt_width=st.floats(1, 150),
    district=st.tuples(st.floats(-50, 290), st.floats(-50, 290), st.floats(10, 350)),
)
def test_random_layouts_every_column_matches_overlay(cuts, y_top, belt_y, belt_width, district):
    grid9 = make_grid9()
    x0, y0 = 500_000.0, 4_060_000.0
    edges = [0.0, *sorted(cuts), 300.0]
    clusters = [
        (f"c{i}", box(x0 + a, y0, x0 + b, y0 + y_top))
        for i, (a, b) in enumerate(itertools.pairwise(edges))
        if b - a > 1e-6
    ]
    belt = LineString([(x0 - 30, y0 + belt_y), (x0 + 180, y0 + belt_y + 40), (x0 + 330, y0)])
    s = _structure(clusters, [("belt", "belt", belt, belt_width)])
    dx, dy, size = district
    boundary = box(x0 + dx, y0 + dy, x0 + dx + size, y0 + dy + size)
    out, _ = assign_parcels(grid9, s, boundary=boundary)
    _, ref = _reference_assignment(grid9, s, boundary)
    ours = out.set_index("parcel_id")
    for column in ["share_belt", "district_share"]:
        np.testing.assert_allclose(ours[column], ref[column], rtol=1e-9, atol=1e-12)
    # Cluster ids agree except where the share sits within rounding of the threshold.
    clear = np.abs(out["cluster_share"].to_numpy() - 0.5) > 1e-9
    agree = ours["cluster_id"].astype(object) == ref["cluster_id"].astype(object)
    assert agree.to_numpy()[clear].all()
    np.testing.assert_allclose(ours["unassigned_share"], ref["unassigned_share"], atol=1e-9)


def test_grid_screen_gives_the_overlaps_of_every_pair_intersected():
    """Brute force: intersect every parcel with every zone; the screened result must match."""
    from benchmarks.synth_parcels import synth_parcels

    x0, y0 = 500_000.0, 4_060_000.0
    parcels = synth_parcels(900, (x0, y0, x0 + 3000, y0 + 3000), seed=7)
    extra = gpd.GeoDataFrame(
        {"parcel_id": ["huge", "tiny", "none"]},
        geometry=[
            box(x0 - 100, y0 - 100, x0 + 3100, y0 + 1000),
            box(x0 + 1500, y0 + 1500, x0 + 1500.01, y0 + 1500.01),
            None,
        ],
        crs="EPSG:4548",
    )
    parcels = pd.concat([parcels[["parcel_id", "geometry"]], extra], ignore_index=True)
    angles = np.linspace(0, 2 * np.pi, 41)[:-1]
    radius = np.where(np.arange(40) % 2 == 0, 1200.0, 500.0)
    star = shapely.Polygon(
        np.c_[x0 + 1500 + radius * np.cos(angles), y0 + 1500 + radius * np.sin(angles)]
    )
    ring = box(x0 + 100, y0 + 100, x0 + 900, y0 + 900).difference(
        box(x0 + 300, y0 + 300, x0 + 700, y0 + 700)
    )
    parts = shapely.MultiPolygon(
        [box(x0 + 2000, y0, x0 + 3000, y0 + 400), box(x0 + 2600, y0 + 2600, x0 + 3000, y0 + 3000)]
    )
    aligned = box(x0, y0, x0 + 1000, y0 + 1000)  # edges along parcel rows in places
    zones = gpd.GeoSeries([star, ring, parts, aligned], index=list("srpa"), crs="EPSG:4548")
    ours = overlap_table(parcels, zones).set_index(["parcel_id", "element_id"])["overlap_m2"]
    rows = []
    for pid, geom in zip(parcels["parcel_id"], parcels.geometry, strict=True):
        for zid, zone in zones.items():
            area = 0.0 if geom is None else shapely.intersection(geom, zone).area
            if area > 0:
                rows.append((pid, zid, area))
    brute = pd.DataFrame(rows, columns=["parcel_id", "element_id", "overlap_m2"])
    brute = brute.set_index(["parcel_id", "element_id"])["overlap_m2"]
    assert set(ours.index) == set(brute.index)
    np.testing.assert_allclose(ours.reindex(brute.index), brute, rtol=1e-12)
    # Inside parcels of the ring's hole have no row; the huge parcel overlaps all four zones.
    assert sorted(ours.loc["huge"].index) == ["a", "p", "r", "s"]
