"""Broken files raise one DataFileError naming the file and the problem; never a partial load.

Every case starts from a good file written in tmp_path and damages it in code.
"""

import shutil
import struct
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import Polygon, box

from tqspatial import io
from tqspatial.errors import DataFileError, TqspatialError
from tqspatial.quality import recording

N = 40


@pytest.fixture
def parcels():
    cells = [box(500_000 + 50 * i, 4_060_000, 500_050 + 50 * i, 4_060_050) for i in range(N)]
    return gpd.GeoDataFrame(
        {"parcel_id": [f"P{i:03d}" for i in range(N)], "名称": [f"地块{i}" for i in range(N)]},
        geometry=cells,
        crs="EPSG:4548",
    )


@pytest.fixture
def shapefile(tmp_path, parcels):
    folder = tmp_path / "good"
    folder.mkdir()
    pyogrio.write_dataframe(parcels, folder / "地块.shp", encoding="UTF-8")
    return folder / "地块.shp"


def copy_shapefile(shp, folder, *, skip=()):
    folder.mkdir()
    for part in shp.parent.iterdir():
        if part.suffix.lower() not in skip:
            shutil.copy(part, folder / part.name)
    return folder / shp.name


def truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def raises_naming(path, match, **kwargs):
    """Reading ``path`` raises a DataFileError (a TqspatialError) naming the file."""
    with pytest.raises(DataFileError, match=match) as info:
        io.read_parcels(path, **kwargs)
    assert isinstance(info.value, TqspatialError)
    assert str(path) in str(info.value)
    return str(info.value)


def test_good_shapefile_reads_fully(shapefile, parcels):
    frame = io.read_parcels(shapefile)
    assert frame["parcel_id"].tolist() == parcels["parcel_id"].tolist()
    assert frame["名称"].tolist() == parcels["名称"].tolist()


# --------------------------------------------------------------------------- GeoJSON


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated_geojson(tmp_path, parcels, fraction):
    path = io.write_geojson(tmp_path / "地块.geojson", parcels.to_crs(4326))
    truncate(path, fraction)
    raises_naming(path, "cannot read")


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_empty_geojson(tmp_path, content):
    path = tmp_path / "empty.geojson"
    path.write_bytes(content)
    raises_naming(path, r"is empty")


def test_html_page_saved_as_geojson(tmp_path):
    path = tmp_path / "download.geojson"
    path.write_text("<!DOCTYPE html>\n<html><title>404 Not Found</title></html>", encoding="utf-8")
    message = raises_naming(path, "not GeoJSON but an HTML/XML page")
    assert "download it again" in message


# --------------------------------------------------------------------------- shapefile


def test_truncated_shp(tmp_path, shapefile):
    shp = copy_shapefile(shapefile, tmp_path / "t")
    truncate(shp, 0.5)
    # The failure being prevented: GDAL reads it without complaint.
    assert len(pyogrio.read_dataframe(shp)) == N
    message = raises_naming(shp, r"\.shp is truncated")
    assert "shapes lie beyond the end of the .shp" in message


def test_truncated_dbf(tmp_path, shapefile):
    shp = copy_shapefile(shapefile, tmp_path / "t")
    truncate(shp.with_suffix(".dbf"), 0.6)
    raises_naming(shp, r"\.dbf is truncated")


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_missing_sidecar(tmp_path, shapefile, missing):
    shp = copy_shapefile(shapefile, tmp_path / "m", skip=(missing,))
    raises_naming(shp, rf"has no \{missing} file next to it")


def test_missing_shx_and_dbf_listed_together(tmp_path, shapefile):
    shp = copy_shapefile(shapefile, tmp_path / "m", skip=(".shx", ".dbf"))
    raises_naming(shp, r"has no \.shx and no \.dbf")


@pytest.mark.parametrize("n_dbf", [N - 5, N + 5])
def test_dbf_record_count_differs_from_shapes(tmp_path, shapefile, parcels, n_dbf):
    other = tmp_path / "other"
    other.mkdir()
    extra = parcels.iloc[np.arange(n_dbf) % N]
    pyogrio.write_dataframe(extra, other / "地块.shp", encoding="UTF-8")
    shp = copy_shapefile(shapefile, tmp_path / "mixed")
    shutil.copy(other / "地块.dbf", shp.with_suffix(".dbf"))
    # GDAL silently returns min(shapes, records) rows.
    assert len(pyogrio.read_dataframe(shp)) == min(N, n_dbf)
    raises_naming(shp, rf"\.dbf has {n_dbf} records but the \.shp/\.shx has {N} shapes")


def test_dbf_header_count_edited(tmp_path, shapefile):
    shp = copy_shapefile(shapefile, tmp_path / "edited")
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[4:8] = struct.pack("<I", N - 1)
    dbf.write_bytes(bytes(raw))
    raises_naming(shp, rf"\.dbf has {N - 1} records")


def test_garbage_shp_header(tmp_path, shapefile):
    shp = copy_shapefile(shapefile, tmp_path / "g")
    shp.write_bytes(b"not a shapefile" * 10)
    raises_naming(shp, r"\.shp header is missing or damaged")


def test_uppercase_sidecars_are_found(tmp_path, shapefile, parcels):
    shp = copy_shapefile(shapefile, tmp_path / "upper")
    for suffix in (".shx", ".dbf"):
        shp.with_suffix(suffix).rename(shp.with_suffix(suffix.upper()))
    assert io.read_parcels(shp)["名称"].tolist() == parcels["名称"].tolist()


# --------------------------------------------------------------------------- GeoPackage


@pytest.mark.parametrize("fraction", [0.0005, 0.3, 0.7, 0.97])
def test_truncated_geopackage(tmp_path, parcels, fraction):
    path = io.write_layers(tmp_path / "地块.gpkg", {"parcels": parcels})
    truncate(path, fraction)
    raises_naming(path, r"truncated")


def test_not_a_geopackage(tmp_path):
    path = tmp_path / "fake.gpkg"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    raises_naming(path, "not a GeoPackage")


# --------------------------------------------------------------------------- zip


def zip_shapefile(shp, target, *, skip=()):
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in shp.parent.iterdir():
            if part.suffix.lower() not in skip:
                zf.write(part, part.name)
    return target


def test_zipped_shapefile_reads(tmp_path, shapefile, parcels):
    path = zip_shapefile(shapefile, tmp_path / "地块.zip")
    frame = io.read_parcels(path)
    assert frame["名称"].tolist() == parcels["名称"].tolist()
    np.testing.assert_allclose(frame.area.sum(), parcels.area.sum(), rtol=1e-9)


@pytest.mark.parametrize("fraction", [0.2, 0.6, 0.95])
def test_truncated_zip(tmp_path, shapefile, fraction):
    path = zip_shapefile(shapefile, tmp_path / "地块.zip")
    truncate(path, fraction)
    raises_naming(path, r"not a readable zip archive|damaged zip")


def test_zip_missing_dbf(tmp_path, shapefile):
    path = zip_shapefile(shapefile, tmp_path / "partial.zip", skip=(".dbf",))
    raises_naming(path, r"has 地块\.shp but no \.dbf")


def test_zip_with_two_layers_needs_layer(tmp_path, shapefile, parcels):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in shapefile.parent.iterdir():
            zf.write(part, part.name)
            zf.write(part, "copy" + part.suffix)
    raises_naming(path, "holds 2 vector layers.*pass layer=")
    assert len(io.read_parcels(path, layer="copy")) == N


def test_zip_without_vector_data(tmp_path):
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no data here")
    raises_naming(path, "holds 0 vector layers")


# --------------------------------------------------------------------------- others


def test_truncated_geoparquet(tmp_path, parcels):
    path = io.write_geoparquet(tmp_path / "地块.parquet", parcels)
    truncate(path, 0.5)
    raises_naming(path, "cannot read")


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_csv(tmp_path, content):
    path = tmp_path / "点.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=r"点\.csv"):
        io.read_points_csv(path)


def test_deleted_dbf_records_are_reported(tmp_path, shapefile, parcels):
    shp = copy_shapefile(shapefile, tmp_path / "deleted")
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    header_size, record_size = struct.unpack("<HH", raw[8:12])
    for row in (3, 7):
        raw[header_size + row * record_size] = ord("*")
    dbf.write_bytes(bytes(raw))
    with recording() as log:
        frame = io.read_parcels(shp)
    expected = parcels["parcel_id"].drop(index=[3, 7]).tolist()
    assert frame["parcel_id"].tolist() == expected
    (note,) = log.table().query("kind == 'deleted_records'").to_dict("records")
    assert note["count"] == 2
    assert note["message"].startswith(f"{shp.name}: 2 records are marked deleted")


def test_unclosed_ring_is_closed_on_read_and_reported(tmp_path):
    path = tmp_path / "unclosed.geojson"
    ring = [[117.0, 36.7], [117.01, 36.7], [117.01, 36.71], [117.0, 36.71]]  # not closed
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"parcel_id": "a"}, "geometry": {"type": "Polygon", "coordinates": ['
        + str(ring)
        + "]}}]}",
        encoding="utf-8",
    )
    with recording() as log:
        frame = io.read_parcels(path)
    assert len(frame) == 1
    assert frame.geometry.iloc[0].is_valid
    closed = Polygon(ring)  # shapely closes the ring itself: the independent reference
    expected = gpd.GeoSeries([closed], crs="EPSG:4326").to_crs("EPSG:4548").area.iloc[0]
    assert frame.area.iloc[0] == pytest.approx(expected, rel=1e-9)
    assert frame["repair"].tolist() == [io.RING_CLOSED]
    assert log.table().query("kind == 'ring_closed'")["examples"].tolist() == ["0"]
