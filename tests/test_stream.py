"""Batch reading conserves every feature (count, ids, area) for GeoPackage and GeoParquet."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

import tqspatial as tq
from tqspatial.errors import CRSError, DataFileError
from tqspatial.stream import iter_parcel_batches, parcel_chunks, read_chunk, read_parcels_batched


@pytest.fixture(scope="module")
def files(tmp_path_factory, tianqiao):
    folder = tmp_path_factory.mktemp("stream")
    parcels = tianqiao.parcels.iloc[:3001].copy()
    # a few awkward rows: a missing geometry, a missing id, Chinese text
    parcels.loc[parcels.index[7], "geometry"] = None
    parcels.loc[parcels.index[8], "parcel_id"] = None
    parcels.loc[parcels.index[9], "landuse_code"] = "商业"
    gpkg = tq.io.write_layers(folder / "p.gpkg", {"parcels": parcels})
    parquet = tq.io.write_geoparquet(folder / "p.parquet", parcels)
    # lon/lat copy in small row groups: batches must be reprojected like a plain read
    lonlat = folder / "p4326.parquet"
    parcels.to_crs("EPSG:4326").to_parquet(lonlat, row_group_size=700)
    return {"gpkg": gpkg, "parquet": parquet, "lonlat": lonlat}


def _check_conserved(batches: list[gpd.GeoDataFrame], plain: gpd.GeoDataFrame) -> None:
    joined = gpd.GeoDataFrame(np.concatenate([b.index for b in batches]), columns=["i"])
    assert joined["i"].tolist() == list(range(len(plain)))  # rows numbered across batches
    ids = [i for b in batches for i in b["parcel_id"].astype(object).tolist()]
    assert len(ids) == len(plain)
    assert ids == plain["parcel_id"].astype(object).tolist()
    area = sum(float(np.nansum(shapely.area(b.geometry.array))) for b in batches)
    assert area > 0
    assert area == pytest.approx(float(np.nansum(shapely.area(plain.geometry.array))), rel=1e-12)
    assert all(b.crs.to_epsg() == 4548 for b in batches)


@pytest.mark.parametrize("kind", ["gpkg", "parquet", "lonlat"])
def test_batches_conserve_every_feature(files, kind):
    path = files[kind]
    plain = tq.io.read_parcels(path)
    batches = list(iter_parcel_batches(path, batch_size=1000))
    assert [len(b) for b in batches][:3] == [1000, 1000, 1000] or kind == "lonlat"
    assert max(len(b) for b in batches) <= 1000
    _check_conserved(batches, plain)
    assert sum(b.geometry.isna().sum() for b in batches) == 1
    joined = read_parcels_batched(path, batch_size=1000)
    assert joined.crs.to_epsg() == 4548
    assert joined["landuse_code"].astype(object).tolist() == (
        plain["landuse_code"].astype(object).tolist()
    )
    assert shapely.equals_exact(
        joined.geometry.array[~plain.geometry.isna()],
        plain.geometry.array[~plain.geometry.isna()],
        tolerance=1e-6,
    ).all()


def test_parquet_read_in_row_groups(files):
    groups = pq.ParquetFile(files["lonlat"]).metadata.num_row_groups
    assert groups == 5
    sizes = [len(b) for b in iter_parcel_batches(files["lonlat"], batch_size=10_000)]
    assert sum(sizes) == 3001
    assert max(sizes) <= 10_000


def test_columns_and_bad_inputs(files, tmp_path):
    batch = next(iter_parcel_batches(files["gpkg"], batch_size=50, columns=["parcel_id"]))
    assert list(batch.columns) == ["parcel_id", "geometry", "parse_note"]
    with pytest.raises(DataFileError, match="no file"):
        next(iter_parcel_batches(tmp_path / "missing.gpkg"))
    with pytest.raises(ValueError, match="batch_size"):
        next(iter_parcel_batches(files["gpkg"], batch_size=0))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(DataFileError, match=r"broken\.parquet"):
        next(iter_parcel_batches(broken))
    bare = tmp_path / "bare.gpkg"
    frame = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.warns(UserWarning, match="crs"):
        tq.io.write_layers(bare, {"parcels": frame})
    with pytest.raises(CRSError, match="source_crs"):
        next(iter_parcel_batches(bare))


def test_gbk_shapefile_batches_decode_like_the_plain_reader():
    from tqspatial import io
    from tqspatial.stream import read_parcels_batched

    path = Path(__file__).parents[1] / "data/examples/天桥区地块示例/天桥区地块示例.shp"
    whole = io.read_parcels(path)
    batched = read_parcels_batched(path, batch_size=40)
    assert batched["地块编号"].tolist() == whole["地块编号"].tolist()
    assert batched["备注"].astype(object).tolist() == whole["备注"].astype(object).tolist()
    assert batched.area.sum() == pytest.approx(whole.area.sum(), rel=1e-12)


def test_broken_shapefile_is_refused_before_gdal_reads_it(tmp_path):
    import shutil

    from tqspatial.errors import DataFileError
    from tqspatial.stream import read_parcels_batched

    src = Path(__file__).parents[1] / "data/examples/天桥区地块示例"
    for part in src.iterdir():
        if part.suffix in {".shp", ".shx", ".prj"}:  # no .dbf
            shutil.copy(part, tmp_path / part.name)
    with pytest.raises(DataFileError, match="dbf"):
        read_parcels_batched(tmp_path / "天桥区地块示例.shp")


def test_chunks_of_a_folder_and_a_geopackage_cover_every_row_once(files, tmp_path):
    """Chunks read by separate tasks give the rows of a plain read, numbered across files."""
    whole = read_parcels_batched(files["lonlat"])
    folder = tmp_path / "parts"
    folder.mkdir()
    source = gpd.read_parquet(files["lonlat"])
    source.iloc[:1200].to_parquet(folder / "part-0.parquet", row_group_size=500)
    source.iloc[1200:].to_parquet(folder / "part-1.parquet", row_group_size=500)
    for path, size in ((folder, 1000), (files["gpkg"], 700)):
        chunks = parcel_chunks(path, rows_per_chunk=size)
        assert all(c.rows <= size for c in chunks)
        assert [c.start for c in chunks] == list(np.cumsum([0] + [c.rows for c in chunks[:-1]]))
        frames = [read_chunk(c) for c in chunks]
        joined = gpd.GeoDataFrame(pd.concat(frames))
        assert joined.index.tolist() == list(range(len(whole)))
        assert joined["parcel_id"].tolist() == whole["parcel_id"].tolist()
        np.testing.assert_allclose(joined.area.sum(), whole.area.sum(), rtol=1e-9)
    # a file that declares no CRS needs source_crs, as for the batch reader
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(files["parquet"]).replace_schema_metadata({}), bare)
    with pytest.raises(DataFileError, match="no GeoParquet 'geo' metadata"):
        parcel_chunks(bare)
    with pytest.raises(DataFileError, match="nothing at"):
        parcel_chunks(tmp_path / "absent")
