import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

from tqspatial.errors import SchemaError
from tqspatial.quality import recording
from tqspatial.validate import fold_key, id_keys, validate_parcels, validate_points

X0, Y0 = 500_000.0, 4_060_000.0


def frame_of(ids, geoms, **columns):
    return gpd.GeoDataFrame({"parcel_id": ids, **columns}, geometry=geoms, crs="EPSG:4548")


def conserved(frame, kept, rejects):
    """Every input index is in exactly one of kept / rejects."""
    assert len(kept) + len(rejects) == len(frame)
    assert sorted([*kept.index, *rejects.index]) == sorted(frame.index)


def test_clean_layer_is_kept_whole_with_areas(grid9):
    kept, rejects = validate_parcels(grid9)
    assert len(kept) == 9
    assert len(rejects) == 0
    np.testing.assert_allclose(kept["area_m2"], 100.0 * 100.0)
    assert kept["repair"].isna().all()


def test_every_row_is_kept_or_rejected_with_its_reason(grid9):
    # Deliberate change from the first version: invalid rings are now repaired, and a later
    # parcel sharing an id with a *different* geometry is kept under a suffixed id.
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    extra = frame_of(
        ["n", "e", "l", "b", "s", None, "p00", " p01 ", "p02"],
        [
            None,
            Polygon(),
            LineString([(0, 0), (1, 1)]),
            bowtie,
            box(50, 50, 50.5, 50.5),
            box(100, 100, 110, 110),
            box(200, 0, 210, 10),
            box(300, 0, 310, 10),
            box(X0 + 200, Y0, X0 + 300, Y0 + 100),  # exact copy of grid cell p02
        ],
    )
    frame = gpd.GeoDataFrame(pd.concat([grid9, extra], ignore_index=True), crs="EPSG:4548")
    kept, rejects = validate_parcels(frame)
    conserved(frame, kept, rejects)
    ids = rejects["parcel_id"].astype(object).where(rejects["parcel_id"].notna(), "<missing>")
    assert dict(zip(ids, rejects["reason"], strict=True)) == {
        "n": "null_geometry",
        "e": "empty_geometry",
        "l": "not_polygonal",
        "s": "sliver",
        "<missing>": "missing_id",
        "p02": "duplicate_feature",
    }
    by_id = kept.set_index("parcel_id")
    # The bow-tie is two 10x10/4 triangles: 2 * (10 * 5 / 2) = 50 m².
    assert by_id.loc["b", "area_m2"] == pytest.approx(50.0, rel=1e-9)
    assert by_id.loc["b", "repair"].startswith("made_valid: Self-intersection")
    assert by_id.loc["p00", "area_m2"] == pytest.approx(1e4)
    assert by_id.loc["p00#2", "area_m2"] == pytest.approx(100.0)
    assert "id_conflict" in by_id.loc["p00#2", "repair"]
    assert by_id.loc["p01#2", "area_m2"] == pytest.approx(100.0)
    assert "stripped" in by_id.loc["p01#2", "repair"]


@pytest.mark.parametrize(
    ("wkt", "expected_area"),
    [
        # self-touching ring: a 10x10 square with a triangular notch pinched at (5, 10):
        # 100 - triangle (3,5)-(7,5)-(5,10) = 100 - 10 = 90
        ("POLYGON((0 0,10 0,10 10,5 10,7 5,3 5,5 10,0 10,0 0))", 90.0),
        # zero-width spike along y=5 adds no area
        ("POLYGON((0 0,10 0,10 5,15 5,10 5,10 10,0 10,0 0))", 100.0),
        # a hole lying outside its shell removes nothing: the shell's 100 m² stay
        ("POLYGON((0 0,10 0,10 10,0 10,0 0),(20 20,30 20,30 30,20 30,20 20))", 100.0),
        # a hole crossing the shell removes only the part inside: 100 - 25
        ("POLYGON((0 0,10 0,10 10,0 10,0 0),(5 5,15 5,15 15,5 15,5 5))", 75.0),
        # overlapping parts of a multipolygon count once: 100 + 100 - 25
        ("MULTIPOLYGON(((0 0,10 0,10 10,0 10,0 0)),((5 5,15 5,15 15,5 15,5 5)))", 175.0),
    ],
)
def test_invalid_rings_are_repaired_with_area_conserved(wkt, expected_area):
    geom = shapely.affinity.translate(shapely.from_wkt(wkt), X0, Y0)
    assert not geom.is_valid
    frame = frame_of(["x"], [geom])
    with recording() as log:
        kept, rejects = validate_parcels(frame)
    assert len(rejects) == 0
    assert kept.geometry.iloc[0].is_valid
    assert kept["area_m2"].iloc[0] == pytest.approx(expected_area, rel=1e-6)
    assert kept["repair"].iloc[0].startswith("made_valid: ")
    assert log.counts() == {"made_valid": 1}


def test_repaired_area_matches_independent_shoelace():
    # A bow-tie with unequal lobes: crossing point of (0,0)-(20,10) and (20,0)-(0,10) at (10,5).
    coords = [(0, 0), (20, 10), (20, 0), (0, 10), (0, 0)]
    lobes = [[(0, 0), (10, 5), (0, 10)], [(10, 5), (20, 10), (20, 0)]]

    def shoelace(pts):
        xs, ys = np.array(pts).T
        return abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) / 2

    kept, _ = validate_parcels(frame_of(["bt"], [Polygon(coords)]))
    assert kept["area_m2"].iloc[0] == pytest.approx(sum(map(shoelace, lobes)), rel=1e-9)


def test_zero_area_slivers_are_rejected_not_counted():
    collapsed = Polygon([(0, 0), (10, 0), (20, 0), (0, 0)])  # a ring with no area
    thin = box(0, 20, 100, 20 + 1e-9)  # valid, 1e-7 m²
    frame = frame_of(["z", "t", "ok"], [collapsed, thin, box(0, 10, 10, 20)])
    kept, rejects = validate_parcels(frame)
    assert kept["parcel_id"].tolist() == ["ok"]
    assert rejects["reason"].tolist() == ["invalid_geometry", "sliver"]
    assert "nothing of area" in rejects["detail"].iloc[0]
    assert kept["area_m2"].sum() == pytest.approx(100.0)


def test_rejects_keep_attributes_of_null_geometries():
    frame = frame_of(
        ["a", "b"], [None, box(0, 0, 10, 10)], landuse_code=["0701", "1001"], far=[1.5, 0.8]
    )
    _, rejects = validate_parcels(frame)
    row = rejects.iloc[0]
    assert (row["parcel_id"], row["landuse_code"], row["far"], row["reason"]) == (
        "a",
        "0701",
        1.5,
        "null_geometry",
    )
    assert row["source_row"] == 0


def test_duplicate_ids_exact_case_whitespace_and_conflicts():
    square = box(0, 0, 10, 10)
    frame = frame_of(
        ["A-01", " a-01 ", "Ａ－０１", "A-01", "B-02"],
        [square, square, box(20, 0, 30, 10), box(40, 0, 50, 10), box(60, 0, 70, 10)],
    )
    with recording() as log:
        kept, rejects = validate_parcels(frame)
    conserved(frame, kept, rejects)
    assert rejects["reason"].tolist() == ["duplicate_feature"]
    assert "only in letter case or character width" in rejects["detail"].iloc[0]
    assert kept["parcel_id"].tolist() == ["A-01", "A-01#2", "A-01#3", "B-02"]
    # "Ａ－０１" is a width variant of "A-01": its own kind; the second "A-01" a plain conflict.
    by_id = kept.set_index("parcel_id")
    assert by_id.loc["A-01#2", "repair"].startswith("id_case_variant: id 'Ａ－０１' differs from")
    assert by_id.loc["A-01#3", "repair"].startswith("id_conflict: id 'A-01' is also used")
    assert log.counts() == {"duplicate_feature": 1, "id_case_variant": 1, "id_conflict": 1}
    assert kept["parcel_id"].is_unique
    # 4 distinct 10x10 squares: the exact duplicate is not counted twice.
    assert kept["area_m2"].sum() == pytest.approx(400.0)


def _key(value):
    """Independent of tqspatial: what Unicode says makes two ids one (NFKC, strip, casefold)."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
            st.text(alphabet=" \t\x1cAaßẞﬁＡ－０１\u3000\u00a0#-2", max_size=8),
            st.integers(-5, 5),
        ),
        max_size=20,
    )
)
def test_id_keys_is_fold_key_per_id(values):
    ids = pd.Series(values, dtype=object)
    stripped, keys = id_keys(ids)
    for value, got_text, got_key in zip(values, stripped, keys, strict=True):
        text = None if value is None else str(value)
        blank = text is None or text.strip() == "" or _key(text) == ""
        assert got_key == (None if blank else _key(text)) == (None if blank else fold_key(value))
        assert got_text == (None if blank else text.strip())


def test_renamed_id_is_free_under_the_id_rules_not_only_as_text():
    # "Ａ-01" and "a-01" are one id used twice; "A-01#2" exists, and "Ａ-01#2" is the same id as it.
    frame = frame_of(
        ["Ａ-01", "a-01", "A-01#2"], [box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)]
    )
    kept, rejects = validate_parcels(frame)
    conserved(frame, kept, rejects)
    assert rejects.empty
    keys = [_key(v) for v in kept["parcel_id"]]
    assert len(set(keys)) == 3, kept["parcel_id"].tolist()
    assert kept["parcel_id"].tolist() == ["Ａ-01", "Ａ-01#3", "A-01#2"]


def test_overlaps_go_to_the_earlier_parcel_and_are_never_double_counted():
    frame = frame_of(
        ["a", "b", "c", "d"],
        [box(0, 0, 100, 100), box(50, 0, 150, 100), box(10, 10, 20, 20), box(0, 0, 100, 100.005)],
    )
    kept, rejects = validate_parcels(frame)
    conserved(frame, kept, rejects)
    by_id = kept.set_index("parcel_id")
    assert by_id.loc["a", "area_m2"] == pytest.approx(1e4)
    assert by_id.loc["b", "area_m2"] == pytest.approx(5e3)
    assert "5000.00 m² shared" in by_id.loc["b", "repair"]
    assert dict(zip(rejects["parcel_id"], rejects["reason"], strict=True)) == {
        "c": "overlap_covered",
        "d": "overlap_covered",
    }
    # d keeps a 100 x 0.005 m strip (0.5 m²): below the sliver threshold, reported as uncounted.
    assert rejects.set_index("parcel_id").loc["d", "uncounted_area_m2"] == pytest.approx(0.5)
    union = shapely.union_all(frame.geometry.array)
    uncounted = rejects["uncounted_area_m2"].sum()
    assert kept["area_m2"].sum() + uncounted == pytest.approx(union.area, rel=1e-9)
    # No two kept parcels overlap (independent check with a geopandas overlay).
    inter = gpd.overlay(
        kept[["parcel_id", "geometry"]], kept[["parcel_id", "geometry"]], keep_geom_type=True
    )
    inter = inter[inter["parcel_id_1"] != inter["parcel_id_2"]]
    assert inter.area.sum() == pytest.approx(0.0, abs=1e-6)


def test_geometry_collections_keep_polygons_and_points_lines_are_never_buffered():
    gc = GeometryCollection([box(0, 0, 10, 10), Point(50, 50), LineString([(0, 0), (30, 30)])])
    only_lines = GeometryCollection([LineString([(0, 0), (1, 1)]), Point(3, 3)])
    frame = frame_of(["gc", "gl", "pt"], [gc, only_lines, Point(100, 100)])
    kept, rejects = validate_parcels(frame)
    assert kept["parcel_id"].tolist() == ["gc"]
    assert kept.geometry.iloc[0].geom_type == "Polygon"
    assert kept["area_m2"].iloc[0] == pytest.approx(100.0)
    assert "dropped 2 point/line parts" in kept["repair"].iloc[0]
    assert rejects["reason"].tolist() == ["not_polygonal", "not_polygonal"]


@pytest.fixture
def district():
    return gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs="EPSG:4548")


def test_straddling_parcels_are_clipped_and_outside_ones_rejected(district):
    frame = frame_of(
        ["in", "straddle", "out", "touch"],
        [
            box(10, 10, 20, 20),
            box(900, 0, 1100, 100),
            box(2000, 0, 2100, 100),
            box(1000, 0, 1100, 100),
        ],
    )
    kept, rejects = validate_parcels(frame, boundary=district)
    conserved(frame, kept, rejects)
    by_id = kept.set_index("parcel_id")
    assert by_id.loc["straddle", "area_m2"] == pytest.approx(100 * 100)
    assert by_id.loc["straddle", "outside_area_m2"] == pytest.approx(100 * 100)
    assert by_id.loc["in", "outside_area_m2"] == 0.0
    assert "clipped: 10000.00 m²" in by_id.loc["straddle", "repair"]
    assert dict(zip(rejects["parcel_id"], rejects["reason"], strict=True)) == {
        "out": "outside_district",
        "touch": "outside_district",
    }
    # Independent check: geopandas overlay with the district gives the same kept areas.
    clipped = gpd.overlay(frame.iloc[[0, 1]], district, how="intersection")
    assert kept["area_m2"].sum() == pytest.approx(clipped.area.sum(), rel=1e-9)


def test_flag_mode_keeps_geometry_and_reports_outside_area(district):
    frame = frame_of(["straddle"], [box(900, 0, 1100, 100)])
    kept, rejects = validate_parcels(frame, boundary=district, outside="flag")
    assert len(rejects) == 0
    assert kept["area_m2"].iloc[0] == pytest.approx(2e4)
    assert kept["outside_area_m2"].iloc[0] == pytest.approx(1e4)
    assert kept["repair"].isna().all()


def test_bad_outside_choice_lists_valid_ones(grid9):
    with pytest.raises(SchemaError, match=r"outside='cut'.*\['clip', 'flag'\]"):
        validate_parcels(grid9, outside="cut")


def test_missing_id_column_raises_and_lists_columns(grid9):
    with pytest.raises(SchemaError, match=r"no id column 'DKBH'; columns are \['parcel_id'"):
        validate_parcels(grid9, id_column="DKBH")


def test_geographic_crs_is_refused():
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["a"]}, geometry=[Point(117, 36.7).buffer(0.01)], crs="EPSG:4326"
    )
    with pytest.raises(SchemaError, match="geographic"):
        validate_parcels(frame)


def test_quality_log_reports_repairs_and_rejects(caplog):
    frame = frame_of(["a", "a", "b"], [box(0, 0, 10, 10), box(5, 0, 15, 10), None])
    with caplog.at_level("INFO", logger="tqspatial"), recording() as log:
        _kept, _rejects = validate_parcels(frame)
    assert log.counts(severity="error") == {"null_geometry": 1}
    assert log.counts(severity="warning") == {"id_conflict": 1, "overlap_removed": 1}
    table = log.table().set_index("kind")
    assert table.loc["id_conflict", "examples"].startswith("1: id 'a' is also used")
    assert "renamed to 'a#2'" in table.loc["id_conflict", "examples"]
    assert table.loc["null_geometry", "examples"] == "2: no geometry"
    assert "kept 2 of 3 rows (1 repaired); rejected {'null_geometry': 1}" in caplog.text


def test_validate_points_rules(district):
    pts = gpd.GeoDataFrame(
        {"facility_id": ["s1", " S1", "s1", None, "s2", "s3", "s4"]},
        geometry=[
            Point(10, 10),
            Point(10, 10),
            Point(20, 20),
            Point(30, 30),
            Point(5000, 5000),
            LineString([(0, 0), (1, 1)]),
            shapely.MultiPoint([(40, 40)]),
        ],
        crs="EPSG:4548",
    )
    kept, rejects = validate_points(pts, id_column="facility_id", boundary=district)
    conserved(pts, kept, rejects)
    assert kept["facility_id"].tolist() == ["s1", "s1#2", "s2", "s4"]
    assert kept["outside_district"].tolist() == [False, False, True, False]
    assert kept.geometry.iloc[-1].geom_type == "Point"
    assert rejects["reason"].tolist() == ["duplicate_feature", "missing_id", "not_point"]
    kept2, rejects2 = validate_points(
        pts, id_column="facility_id", boundary=district, outside="reject"
    )
    assert "outside_district" in rejects2["reason"].tolist()
    assert len(kept2) == 3


def test_embedded_parcels_validate_whole_and_fast(tianqiao):
    import time

    started = time.perf_counter()
    kept, rejects = validate_parcels(tianqiao.parcels, boundary=tianqiao.boundary)
    elapsed = time.perf_counter() - started
    conserved(tianqiao.parcels, kept, rejects)
    assert len(rejects) == 0
    assert kept["parcel_id"].is_unique
    # Clipping only trims numerical slivers at the boundary: total area within 1e-6 relative.
    before = tianqiao.parcels.area.sum()
    assert kept["area_m2"].sum() + kept["outside_area_m2"].sum() == pytest.approx(before, rel=1e-9)
    assert elapsed < 5.0  # generous for a shared 2-core machine; typically ~0.3 s


def test_numeric_ids_become_text_without_a_repair_and_odd_indexes_work():
    frame = gpd.GeoDataFrame(
        {"parcel_id": [1, 2, 1]},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)],
        crs="EPSG:4548",
        index=["r", "r", "s"],
    )
    kept, rejects = validate_parcels(frame)
    assert kept["parcel_id"].tolist() == ["1", "2", "1#2"]
    assert kept["repair"].isna().tolist() == [True, True, False]
    assert kept.index.tolist() == ["r", "r", "s"]
    assert len(rejects) == 0


def test_empty_layer_gives_empty_tables_with_the_columns(grid9, district):
    kept, rejects = validate_parcels(grid9.iloc[:0], boundary=district)
    assert (len(kept), len(rejects)) == (0, 0)
    assert {"area_m2", "repair", "outside_area_m2"} <= set(kept.columns)
    assert {"reason", "uncounted_area_m2"} <= set(rejects.columns)


def test_boundary_in_another_crs_is_refused(grid9, district):
    with pytest.raises(SchemaError, match="boundary CRS EPSG:4326 differs"):
        validate_parcels(grid9, boundary=district.to_crs(4326))


def test_ids_differing_only_in_case_are_reported_as_case_variants():
    from pathlib import Path

    from tqspatial import io

    path = Path(__file__).parent / "data" / "case_ids.geojson"
    with recording() as log:
        parcels = io.read_parcels(path)
        kept, rejects = validate_parcels(parcels)
    conserved(parcels, kept, rejects)
    # a different parcel under a case variant keeps its place, renamed like any id conflict
    assert kept["parcel_id"].tolist() == [
        "370105-A-033",
        "370105-A-033#2",
        "370105-A-034",
        "370105-A-035",
    ]
    renamed = kept.set_index("parcel_id").loc["370105-A-033#2", "repair"]
    assert renamed == (
        "id_case_variant: id '370105-a-033' differs from '370105-A-033' (source row 0) only in "
        "letter case or character width, so it is the same id, used for a different geometry, "
        "renamed to '370105-A-033#2'"
    )
    # the same parcel under a case variant is a duplicate, and the detail says why
    assert rejects["reason"].tolist() == ["duplicate_feature"]
    assert rejects["detail"].iloc[0] == (
        "same id and geometry as source row 2 (id '370105-a-034' differs from '370105-A-034' "
        "only in letter case or character width)"
    )
    counts = log.counts(stage="validate")
    assert counts == {"id_case_variant": 1, "duplicate_feature": 1}


def _strtree_pairs(geoms):
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    return set(zip(left[keep].tolist(), right[keep].tolist(), strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_grid_box_pairs_are_the_strtree_pairs(seed):
    """The overlap rule's candidates from the grid kernel equal an STRtree's, each pair once."""
    from tqspatial._geometry_kernels import HAVE_NUMBA, box_pairs

    rng = np.random.default_rng(seed)
    n = 500
    corner = rng.uniform(0, 100, (n, 2)).round(seed % 2)  # rounded: many boxes touch exactly
    size = rng.exponential(rng.uniform(1, 10), (n, 2)).round(seed % 2)
    geoms = shapely.box(*corner.T, *(corner + size).T)
    geoms[rng.random(n) < 0.05] = None  # missing geometries meet nothing
    geoms[rng.random(n) < 0.02] = Polygon()
    pairs = box_pairs(shapely.bounds(geoms))
    if not HAVE_NUMBA:
        assert pairs is None
        return
    assert pairs is not None
    found = list(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    assert len(found) == len(set(found))
    assert set(found) == _strtree_pairs(geoms)
    assert len(found) > n / 10  # the test has pairs to find


def test_grid_box_pairs_leave_very_unequal_boxes_to_the_strtree():
    from tqspatial._geometry_kernels import box_pairs

    small = [box(i, 0, i + 1, 1) for i in range(50)]
    huge = box(-1e6, -1e6, 1e6, 1e6)  # would fill millions of cells
    assert box_pairs(shapely.bounds(np.array([*small, huge], dtype=object))) is None
    # and the overlap rule still finds every overlap with it: the huge parcel, last, loses them
    frame = frame_of([f"p{i}" for i in range(51)], [*small, huge])
    kept, rejects = validate_parcels(frame)
    assert rejects.empty
    assert kept["area_m2"].iloc[-1] == pytest.approx(huge.area - 50)
    assert kept["repair"].iloc[-1].startswith("overlap_removed")
