"""The dask engine from a path equals the single path, on a cluster of worker processes.

The reference is the single path (``read_parcels_batched`` + ``process_parcels``)
on the same file; independent checks: kept parcels of different partitions
never overlap (their areas add up to the area of their union, by GEOS), and the
id rules' outcomes equal ``validate_parcels`` on ids dealt to partitions at random.
"""

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import tqspatial as tq
from tests.test_distributed import _tricky
from tqspatial import halo
from tqspatial.cli import main
from tqspatial.errors import DataFileError, OutputError, SchemaError
from tqspatial.inventory import ParcelResult, process_parcels
from tqspatial.partitioned import (
    INPUT_ROW,
    PathResult,
    partition_layer,
    process_parcels_path,
    read_parts,
)
from tqspatial.stream import read_parcels_batched
from tqspatial.validate import validate_parcels


@pytest.fixture(scope="module")
def context(tianqiao):
    return tq.datasets.tianqiao_context(tianqiao)


@pytest.fixture(scope="module")
def cluster_client(tmp_path_factory):
    """A scheduler and two worker processes on loopback."""
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        # a warning about the machine's speed, not about our code
        warnings.filterwarnings("ignore", "Creating scratch directories", UserWarning)
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                # its own scratch folder: the shared one may be slow to lock on a busy machine
                local_directory=tmp_path_factory.mktemp("dask"),
                dashboard_address=":0",  # None still binds 8787 for the metrics server
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client


def _round_trip(frame: pd.DataFrame, path) -> pd.DataFrame:
    """The single path's frame as written to and read from GeoParquet, like the parts."""
    frame.to_parquet(path)
    return gpd.read_parquet(path)


def assert_same_as_single(single: ParcelResult, res: PathResult, tmp_path) -> None:
    out = res.out
    parcels, rejects = read_parts(out / "parcels"), read_parts(out / "rejects")
    overlaps = read_parts(out / "overlaps")
    expected = _round_trip(single.parcels.rename_axis("source_row"), tmp_path / "single.parquet")
    expected.index.name = None
    assert parcels["parcel_id"].tolist() == single.parcels["parcel_id"].tolist()
    assert parcels.index.equals(single.parcels.index)
    assert parcels.columns.tolist() == single.parcels.columns.tolist()
    pd.testing.assert_frame_equal(
        expected.drop(columns="geometry"),
        parcels.drop(columns="geometry"),
        rtol=1e-9,
        check_exact=False,
    )
    assert shapely.equals(expected.geometry.array, parcels.geometry.array).all()
    wanted = _round_trip(single.rejects, tmp_path / "single_rejects.parquet")
    assert rejects["source_row"].tolist() == single.rejects["source_row"].tolist()
    pd.testing.assert_frame_equal(
        wanted.drop(columns=["geometry", "uncounted_area_m2"]).reset_index(drop=True),
        rejects.drop(columns=["geometry", "uncounted_area_m2"]).reset_index(drop=True),
    )
    np.testing.assert_allclose(
        wanted["uncounted_area_m2"], rejects["uncounted_area_m2"], rtol=1e-9, atol=1e-6
    )
    # overlaps: same rows, in the single path's order (parcel input order, then element)
    rank = pd.Series(np.arange(len(parcels)), index=parcels["parcel_id"].to_numpy())
    overlaps = overlaps.iloc[np.argsort(rank[overlaps["parcel_id"]].to_numpy(), kind="stable")]
    pd.testing.assert_frame_equal(
        single.overlaps.reset_index(drop=True),
        overlaps.reset_index(drop=True),
        rtol=1e-9,
        check_exact=False,
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(single.ledger, res.ledger, rtol=1e-9, check_exact=False)
    pd.testing.assert_frame_equal(single.summary, res.summary, rtol=1e-9, check_exact=False)
    pd.testing.assert_frame_equal(single.log.table(), res.log.table())
    pd.testing.assert_frame_equal(single.log.details(), res.log.details())
    assert res.counts["kept"] + res.counts["rejected"] == res.counts["rows"]


def _part_of(out, folder: str) -> pd.Series:
    """Partition number of each row (by source row), from the part file it was written to."""
    numbers = {}
    for file in sorted((out / folder).glob("part-*.parquet")):
        frame = gpd.read_parquet(file)
        rows = frame.index if folder == "parcels" else frame["source_row"]
        numbers.update(dict.fromkeys(rows.tolist(), int(file.stem.split("-")[1])))
    return pd.Series(numbers)


def _wide(text: str) -> str:
    """The full-width spelling of an ASCII id (NFKC folds it back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_tricky_layer_on_worker_processes(tianqiao, context, cluster_client, tmp_path):
    parcels = _tricky(tianqiao)
    # and a full-width spelling of a parcel's id far away, on a shifted copy of another parcel
    far = parcels.iloc[len(parcels) - 40]
    variant = {**far.to_dict(), "parcel_id": _wide(parcels.iloc[30]["parcel_id"])}
    variant["geometry"] = shapely.transform(far.geometry, lambda xy: xy + np.array([25.0, 0.0]))
    parcels = gpd.GeoDataFrame(
        [*parcels.to_dict("records"), variant], geometry="geometry", crs=parcels.crs
    )
    source = tmp_path / "tricky.parquet"
    parcels.to_parquet(source, row_group_size=400)
    single = process_parcels(read_parcels_batched(source), context)
    # the case is not trivial: each cross-row rule fires in the single path
    reasons = set(single.rejects["reason"])
    assert {"duplicate_feature", "overlap_covered"} <= reasons
    repairs = single.parcels["repair"].dropna().str.cat(sep=" ")
    assert {"id_conflict", "id_case_variant", "overlap_removed"} <= set(single.log.table()["kind"])
    assert "overlap_removed" in repairs
    res = process_parcels_path(
        source,
        context,
        out=tmp_path / "out",
        npartitions=5,
        rows_per_chunk=400,
        client=cluster_client,
    )
    assert cluster_client.status == "running"
    assert res.counts["partitions"] == 5
    assert_same_as_single(single, res, tmp_path)

    # the rules really crossed partitions: rows they relate were written by different ones
    kept_in, rejected_in = _part_of(res.out, "parcels"), _part_of(res.out, "rejects")
    where = pd.concat([kept_in, rejected_in])
    strip = int(np.flatnonzero(parcels["parcel_id"] == "STRIP-LAST")[0])
    touched = np.flatnonzero(shapely.intersects(parcels.geometry.array, parcels.geometry[strip]))
    assert where.reindex(touched).nunique() > 1
    renamed = single.parcels["repair"].str.extract(
        r"id_(?:conflict|case_variant): .*?source row (\d+)"
    )
    pairs = renamed[0].dropna().astype(int)
    assert len(pairs) >= 2
    assert all(where[r] != where[f] for r, f in pairs.items())  # each rename crossed partitions

    # independent: kept parcels of all partitions never overlap (areas add up to the union)
    kept = read_parts(res.out / "parcels")
    union = shapely.union_all(kept.geometry.array)
    assert kept.area.sum() == pytest.approx(union.area, rel=1e-9)


def test_id_index_equals_validate_on_ids_dealt_at_random():
    """Ids shuffled over partitions: duplicates, case variants and taken #n names."""
    rng = np.random.default_rng(7)
    n = 600
    base = [f"A-{k:03d}" for k in rng.integers(0, 150, n)]
    ids = [
        b.lower() if k % 7 == 0 else (f"{b}#2" if k % 11 == 0 else b) for k, b in enumerate(base)
    ]
    squares = [box(i * 10, 0, i * 10 + 8, 8) for i in range(n)]
    # every 5th row repeats the geometry of the previous row with its id: exact duplicates
    for k in range(5, n, 5):
        ids[k], squares[k] = ids[k - 1], squares[k - 1]
    frame = gpd.GeoDataFrame({"parcel_id": ids}, geometry=squares, crs="EPSG:4548")
    kept, rejects = validate_parcels(frame)
    assert (rejects["reason"] == "duplicate_feature").sum() > 50
    assert kept["repair"].str.contains("id_conflict").sum() > 50
    assert kept["repair"].str.contains("id_case_variant").sum() > 10
    assert kept["parcel_id"].str.contains("#3").any()

    labels = rng.integers(0, 4, n)  # partitions with no spatial order at all
    parts = [halo.prepare(frame[labels == k]) for k in range(4)]
    shards = [halo.id_shard(halo.id_entries(p), 3) for p in parts]
    chosen = [halo.repeated_ids(*[s[k] for s in shards]) for k in range(3)]
    needed = np.concatenate([c["row"].to_numpy() for c in chosen])
    geoms = [halo.geometries_of(p, needed) for p in parts]
    outcomes = [halo.settle_ids(c, *geoms) for c in chosen]
    done = [
        halo.finish(
            halo.settle_overlaps(halo.apply_ids(p, *outcomes, area=None, clip=True)), boundary=False
        )
        for p in parts
    ]
    got_kept = pd.concat([d[0] for d in done]).sort_index()
    got_rejects = pd.concat([d[1] for d in done]).sort_values("source_row")
    assert got_kept["parcel_id"].tolist() == kept["parcel_id"].tolist()
    assert got_kept["repair"].tolist() == kept["repair"].tolist()
    assert got_rejects["detail"].tolist() == rejects["detail"].tolist()


def test_geopackage_input_and_errors(tianqiao, context, tmp_path):
    parcels = tianqiao.parcels.iloc[:900]
    source = tmp_path / "parcels.gpkg"
    parcels.to_file(source, layer="parcels")
    single = process_parcels(read_parcels_batched(source), context)
    res = process_parcels_path(
        source,
        context,
        out=tmp_path / "out",
        npartitions=3,
        rows_per_chunk=250,
        scheduler="sync",
    )
    assert_same_as_single(single, res, tmp_path)
    with pytest.raises(OutputError, match="not empty"):
        process_parcels_path(source, context, out=tmp_path / "out", scheduler="sync")
    parcels.drop(columns="parcel_id").to_parquet(tmp_path / "noid.parquet")
    with pytest.raises(SchemaError, match="no id column"):
        process_parcels_path(
            tmp_path / "noid.parquet", context, out=tmp_path / "o2", scheduler="sync"
        )
    with pytest.raises(DataFileError, match="nothing at"):
        process_parcels_path(tmp_path / "absent.parquet", context, out=tmp_path / "o3")


def test_partition_then_process_equals_single_on_the_original(
    tianqiao, context, cluster_client, tmp_path
):
    """``partition_layer`` cuts along the Hilbert curve; the engine restores the input order."""
    parcels = _tricky(tianqiao)
    source = tmp_path / "tricky.parquet"
    parcels.to_parquet(source, row_group_size=400)
    cut = partition_layer(
        source, tmp_path / "parts", rows_per_part=len(parcels) // 4, rows_per_chunk=400,
        client=cluster_client,
    )  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        f"part-{k:05d}.parquet" for k in range(len(cut.rows))
    ]  # no scratch or staging folder left
    assert not list(tmp_path.glob(".parts.partial-*"))
    parts = [gpd.read_parquet(f) for f in sorted((tmp_path / "parts").glob("part-*.parquet"))]
    assert [len(p) for p in parts] == cut.rows
    assert 4 <= len(parts) <= 5
    # every input row exactly once, in input order within a part, with its own attributes
    rows = np.concatenate([p[INPUT_ROW].to_numpy() for p in parts])
    assert np.array_equal(np.sort(rows), np.arange(len(parcels)))
    assert all(np.all(np.diff(p[INPUT_ROW].to_numpy()) > 0) for p in parts)
    joined = pd.concat(parts).set_index(INPUT_ROW).sort_index()
    assert joined["parcel_id"].tolist() == parcels["parcel_id"].tolist()
    assert shapely.equals(joined.geometry.array, parcels.geometry.array).all()
    # independent: the parts are consecutive runs of geopandas' Hilbert distance of box centres
    geoms = parcels.geometry.array
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    box_ = shapely.bounds(geoms[present])
    centres = gpd.GeoSeries(
        gpd.points_from_xy((box_[:, 0] + box_[:, 2]) / 2, (box_[:, 1] + box_[:, 3]) / 2)
    )
    total = (box_[:, 0].min(), box_[:, 1].min(), box_[:, 2].max(), box_[:, 3].max())
    curve = pd.Series(
        centres.hilbert_distance(total_bounds=total, level=16).to_numpy() >> 16,
        index=np.flatnonzero(present),
    )
    ranges = [curve.reindex(p[INPUT_ROW]).dropna() for p in parts]
    assert all(a.max() <= b.min() for a, b in itertools.pairwise(ranges))
    # the engine on the parts settles ids and overlaps in the original order: equal to the
    # single path on the original file, source rows included
    single = process_parcels(read_parcels_batched(source), context)
    res = process_parcels_path(
        tmp_path / "parts", context, out=tmp_path / "out", client=cluster_client
    )
    assert sorted(p.name for p in res.out.iterdir()) == ["overlaps", "parcels", "rejects"]
    assert_same_as_single(single, res, tmp_path)


def test_partition_command(tianqiao, tmp_path, capsys):
    source = tmp_path / "in.parquet"
    tianqiao.parcels.iloc[:1200].to_parquet(source)
    argv = ["partition", str(source), str(tmp_path / "parts"), "--rows-per-part", "500"]
    assert main([*argv, "--rows-per-chunk", "300"]) == 0
    parts = sorted((tmp_path / "parts").glob("part-*.parquet"))
    assert len(parts) == 3
    assert sum(len(gpd.read_parquet(p)) for p in parts) == 1200
    # a folder with files, a missing input, a bad number: exit 2 with the reason, nothing lost
    assert main(argv) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert len(list((tmp_path / "parts").iterdir())) == 3
    assert main(["partition", str(tmp_path / "absent.parquet"), str(tmp_path / "p2")]) == 2
    assert "nothing at" in capsys.readouterr().err
    assert not (tmp_path / "p2").exists()
    with pytest.raises(SystemExit) as exc:
        main(["partition", str(source), str(tmp_path / "p3"), "--rows-per-part", "0"])
    assert exc.value.code == 2


def test_second_district_partitioned_and_path_engine_equal_single(tmp_path):
    """历下区's own files and profile: ``partition_layer`` then the path engine == single path."""
    from tests.district_builder import build_district
    from tqspatial.config import load_config
    from tqspatial.pipeline import parcel_context, read_inputs

    district = build_district(tmp_path / "lixia", maps=False, changes=False)
    config = load_config(district.config)
    data = read_inputs(config)
    context = parcel_context(config, data)
    source = tmp_path / "lixia_parcels.parquet"
    data.parcels.to_parquet(source, row_group_size=max(1, len(data.parcels) // 5))
    single = process_parcels(read_parcels_batched(source), context)
    cut = partition_layer(
        source, tmp_path / "parts", rows_per_part=len(data.parcels) // 3 + 1, scheduler="sync"
    )
    assert sum(cut.rows) == len(data.parcels)
    assert len(cut.rows) >= 3
    res = process_parcels_path(
        tmp_path / "parts", context, out=tmp_path / "out", npartitions=4, scheduler="sync"
    )
    assert res.counts["partitions"] == 4
    assert_same_as_single(single, res, tmp_path)
