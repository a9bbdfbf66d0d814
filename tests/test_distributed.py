"""The partitioned (dask) engine equals the single path, also when rules cross partitions."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import tqspatial as tq
from tqspatial.distributed import partition_parcels, process_parcels_partitioned
from tqspatial.errors import SchemaError
from tqspatial.inventory import ParcelResult, process_parcels


@pytest.fixture(scope="module")
def context(tianqiao):
    return tq.datasets.tianqiao_context(tianqiao)


def assert_same(single: ParcelResult, parted: ParcelResult) -> None:
    """Same ids, rows, shares, rejects, overlaps, ledger and summary (floats to 1e-9)."""
    a, b = single.parcels, parted.parcels
    assert a["parcel_id"].tolist() == b["parcel_id"].tolist()
    assert a.index.equals(b.index)
    pd.testing.assert_frame_equal(
        a.drop(columns="geometry"), b.drop(columns="geometry"), rtol=1e-9, check_exact=False
    )
    assert shapely.equals(a.geometry.array, b.geometry.array).all()
    np.testing.assert_allclose(a.area, b.area, rtol=1e-9)
    ra, rb = single.rejects, parted.rejects
    assert ra["source_row"].tolist() == rb["source_row"].tolist()
    assert ra["reason"].tolist() == rb["reason"].tolist()
    np.testing.assert_allclose(ra["uncounted_area_m2"], rb["uncounted_area_m2"], atol=1e-6)
    pd.testing.assert_frame_equal(single.overlaps, parted.overlaps, rtol=1e-9, check_exact=False)
    pd.testing.assert_frame_equal(single.ledger, parted.ledger, rtol=1e-9, check_exact=False)
    pd.testing.assert_frame_equal(single.summary, parted.summary, rtol=1e-9, check_exact=False)
    # the quality log is identical: same findings, counts, examples and messages, same rows
    pd.testing.assert_frame_equal(single.log.table(), parted.log.table())
    pd.testing.assert_frame_equal(single.log.details(), parted.log.details())


def test_embedded_dataset_same_as_single_path(tianqiao, context):
    single = process_parcels(tianqiao.parcels, context)
    parted = process_parcels_partitioned(tianqiao.parcels, context, npartitions=6, scheduler="sync")
    assert_same(single, parted)
    # independent totals: the ledger adds up to the parcels it came from
    assert parted.ledger["parcel_count"].sum() == parted.parcels["renewal_type"].notna().sum()
    np.testing.assert_allclose(
        parted.ledger["net_supply_ha"].sum(), parted.parcels["supply_net_m2"].sum() / 1e4
    )


def _shift(row: pd.Series) -> shapely.Geometry:
    """The row's parcel moved 40 m east: overlaps its old place, keeps most of its area."""
    return shapely.transform(row["geometry"], lambda xy: xy + np.array([40.0, 0.0]))


def _tricky(d: tq.datasets.TianqiaoData) -> gpd.GeoDataFrame:
    """Every 8th embedded parcel plus rows whose rules reach across the district."""
    base = d.parcels.iloc[::8].reset_index(drop=True)
    x0, y0, x1, y1 = d.boundary.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ids = base["parcel_id"].tolist()
    far_a, far_b = base.iloc[5], base.iloc[len(base) - 5]
    extra = [
        # first row: a large square over the centre wins its area from every later parcel
        {
            **base.iloc[0].to_dict(),
            "parcel_id": "BIG-FIRST",
            "geometry": box(cx - 1500, cy - 1500, cx + 1500, cy + 1500),
        },
    ]
    tail = [
        # same id as a parcel at the other end of the district, other geometry: renamed
        {**far_b.to_dict(), "parcel_id": far_a["parcel_id"], "geometry": _shift(far_b)},
        # a real parcel already named "<id>#2": the rename above must skip to #3
        {
            **(mid := base.iloc[len(base) // 2]).to_dict(),
            "parcel_id": f"{far_a['parcel_id']}#2",
            "geometry": _shift(mid),
        },
        # case / whitespace variant of an id, far away: same key, renamed
        {
            **(third := base.iloc[len(base) // 3]).to_dict(),
            "parcel_id": f" {ids[40].lower()} ",
            "geometry": _shift(third),
        },
        # exact duplicate (same id, same geometry) of a parcel: rejected
        base.iloc[100].to_dict(),
        # long strip across the district, later than all: loses shared area everywhere
        {
            **base.iloc[1].to_dict(),
            "parcel_id": "STRIP-LAST",
            "geometry": box(x0, cy - 300, x1, cy + 300),
        },
        # small square inside the first big one: covered, rejected
        {
            **base.iloc[2].to_dict(),
            "parcel_id": "COVERED",
            "geometry": box(cx - 100, cy - 100, cx + 100, cy + 100),
        },
    ]
    rows = extra + base.to_dict("records") + tail
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=d.parcels.crs)


def test_rules_crossing_partitions(tianqiao, context):
    parcels = _tricky(tianqiao)
    labels = partition_parcels(parcels, 5, boundary=tianqiao.boundary)
    assert len(np.unique(labels)) == 5
    single = process_parcels(parcels, context)
    # the case is not trivial: each cross-partition rule fires in the single path
    reasons = set(single.rejects["reason"])
    assert {"duplicate_feature", "overlap_covered"} <= reasons
    repairs = single.parcels["repair"].dropna().str.cat(sep=" ")
    assert "id_conflict" in repairs
    assert "overlap_removed" in repairs
    assert f"{parcels.iloc[6]['parcel_id']}#3" in set(single.parcels["parcel_id"])
    # related rows share a partition
    strip = int(np.flatnonzero(parcels["parcel_id"] == "STRIP-LAST")[0])
    touched = shapely.intersects(parcels.geometry.array, parcels.geometry.iloc[strip])
    assert len(np.unique(labels[touched])) == 1
    for scheduler in ("sync", None):
        parted = process_parcels_partitioned(parcels, context, npartitions=5, scheduler=scheduler)
        assert_same(single, parted)


def test_client_of_worker_processes(tianqiao, context):
    """The default local cluster uses threads; a cluster of processes gives the same result."""
    from distributed import Client, LocalCluster

    parcels = tianqiao.parcels.iloc[::4]
    single = process_parcels(parcels, context)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        parted = process_parcels_partitioned(parcels, context, client=client)
        assert client.status == "running"  # a client passed in is left open
    assert_same(single, parted)


def test_partition_sizes_balanced_on_a_tiling():
    cells = [box(i * 10, j * 10, i * 10 + 10, j * 10 + 10) for i in range(40) for j in range(40)]
    frame = gpd.GeoDataFrame(
        {"parcel_id": [f"p{k}" for k in range(len(cells))]}, geometry=cells, crs="EPSG:4548"
    )
    labels = partition_parcels(frame, 4)
    assert np.bincount(labels).tolist() == [400, 400, 400, 400]
    # Hilbert runs are compact: each partition's parcels cover a quarter of the square
    for k in range(4):
        hull = shapely.union_all(frame.geometry.array[labels == k])
        assert hull.area == pytest.approx(400 * 100)
        assert shapely.envelope(hull).area == pytest.approx(400 * 100)


def test_non_unique_index_and_errors(tianqiao, context):
    parcels = tianqiao.parcels.iloc[:400].copy()
    parcels.index = np.repeat(np.arange(200), 2)
    single = process_parcels(parcels, context)
    parted = process_parcels_partitioned(parcels, context, npartitions=3, scheduler="sync")
    assert parted.parcels.index.tolist() == single.parcels.index.tolist()
    assert parted.parcels["parcel_id"].tolist() == single.parcels["parcel_id"].tolist()
    with pytest.raises(SchemaError, match="no id column"):
        process_parcels_partitioned(
            parcels.drop(columns="parcel_id"), context, npartitions=2, scheduler="sync"
        )
    with pytest.raises(ValueError, match="npartitions must be at least 1"):
        partition_parcels(parcels, 0)


def test_partitions_with_nothing_kept_are_no_internal_error(tianqiao, context):
    # half of the parcels moved 270 km west (a wrong-zone file): every one of them is rejected
    parcels = tianqiao.parcels.iloc[:600].copy()
    moved = parcels.geometry.to_numpy().copy()
    moved[:300] = shapely.transform(moved[:300], lambda xy: xy - np.array([270_000.0, 0.0]))
    parcels = parcels.set_geometry(gpd.GeoSeries(moved, index=parcels.index, crs=parcels.crs))
    single = process_parcels(parcels, context)
    parted = process_parcels_partitioned(parcels, context, npartitions=4, scheduler="sync")
    assert_same(single, parted)
    assert single.rejects["reason"].value_counts().to_dict() == {"outside_district": 300}
    everything_out = process_parcels(parcels.iloc[:300], context)
    assert (len(everything_out.parcels), len(everything_out.rejects)) == (0, 300)
    assert everything_out.ledger["net_supply_ha"].sum() == 0
    assert_same(
        everything_out,
        process_parcels_partitioned(parcels.iloc[:300], context, npartitions=2, scheduler="sync"),
    )
