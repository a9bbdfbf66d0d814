from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import box

from tqspatial import datasets, io
from tqspatial.errors import ConfigError, DataFileError, TqspatialError


def test_vector_formats_round_trip_in_working_crs(tmp_path, grid9):
    wgs = grid9.to_crs("EPSG:4326")
    paths = {
        "gpkg": io.write_layers(tmp_path / "p.gpkg", {"parcels": wgs}),
        "geojson": io.write_geojson(tmp_path / "p.geojson", wgs),
        "parquet": io.write_geoparquet(tmp_path / "p.parquet", wgs),
    }
    pyogrio.write_dataframe(wgs, tmp_path / "p.shp")
    paths["shp"] = tmp_path / "p.shp"
    for fmt, path in paths.items():
        back = io.read_parcels(path)
        assert back.crs.to_epsg() == 4548, fmt
        np.testing.assert_allclose(back.area.to_numpy(), grid9.area.to_numpy(), rtol=1e-6)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"parcels file not found: .*nope\.gpkg"):
        io.read_parcels(tmp_path / "nope.gpkg")


def test_html_error_page_saved_as_geojson_is_a_clear_error(tmp_path):
    bad = tmp_path / "parcels.geojson"
    bad.write_text("<html><body>502 Bad Gateway</body></html>", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"parcels\.geojson is not GeoJSON but an HTML"):
        io.read_parcels(bad)


def test_unsupported_suffix_lists_the_supported_ones(tmp_path):
    bad = tmp_path / "parcels.dwg"
    bad.write_bytes(b"AC1032")
    with pytest.raises(DataFileError, match=r"unsupported file type '\.dwg'.*\.gpkg"):
        io.read_parcels(bad)


def test_shapefile_without_prj_uses_crs_or_source_crs(tmp_path, grid9):
    pyogrio.write_dataframe(grid9, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    back = io.read_parcels(tmp_path / "noprj.shp", crs="EPSG:4548")
    assert back.geometry.geom_equals(grid9.geometry).all()  # shapefiles reorient rings
    assert "crs_from_caller" in [n["kind"] for n in back.attrs["tq_notes"]]
    same = io.read_parcels(tmp_path / "noprj.shp", source_crs="EPSG:4548")
    assert same.geometry.geom_equals(grid9.geometry).all()


def test_crs_fallback_never_overrides_a_declared_crs(tmp_path, grid9):
    wgs = grid9.to_crs("EPSG:4326")
    path = io.write_geojson(tmp_path / "p.geojson", wgs)
    back = io.read_parcels(path, crs="EPSG:4548")  # ignored: the file declares EPSG:4326
    np.testing.assert_allclose(back.area.to_numpy(), grid9.area.to_numpy(), rtol=1e-6)


def test_source_crs_and_crs_must_agree(tmp_path, grid9):
    path = io.write_layers(tmp_path / "p.gpkg", {"parcels": grid9})
    with pytest.raises(ConfigError, match="pass only one"):
        io.read_parcels(path, source_crs="EPSG:4548", crs="EPSG:4527")


def test_encoding_option_is_refused_for_utf8_formats(tmp_path, grid9):
    path = io.write_layers(tmp_path / "p.gpkg", {"parcels": grid9})
    with pytest.raises(ConfigError, match=r"encoding='gbk' applies to shapefiles"):
        io.read_parcels(path, encoding="gbk")


def test_raster_round_trip_and_wrong_crs(tmp_path):
    from affine import Affine

    values = np.arange(12, dtype="float32").reshape(3, 4)
    t = Affine(50, 0, 500_000, 0, -50, 4_060_000)
    path = io.write_raster(
        tmp_path / "r.tif",
        values,
        transform=t,
        crs="EPSG:4548",
        nodata=-1.0,
        tags={"synthetic": "true"},
    )
    r = io.read_raster(path)
    np.testing.assert_array_equal(r.values.filled(-1), values)
    assert r.cell_area_m2 == 2500.0
    other = io.write_raster(tmp_path / "o.tif", values, transform=t, crs="EPSG:4547", nodata=-1.0)
    with pytest.raises(DataFileError, match=r"o\.tif is in EPSG:4547, expected EPSG:4548"):
        io.read_raster(other)


def test_errors_are_tqspatial_errors():
    assert issubclass(DataFileError, TqspatialError)
    assert issubclass(DataFileError, OSError)


def test_points_csv_reports_missing_columns(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("name,a,b\na,1,2\n", encoding="utf-8")
    with pytest.raises(
        DataFileError, match=r"pts\.csv has no coordinate columns.*Pass x=\.\.\. and y="
    ):
        io.read_points_csv(path)


def test_written_gpkg_keeps_chinese_text(tmp_path):
    frame = gpd.GeoDataFrame({"name_zh": ["泺口片区"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    path = io.write_layers(tmp_path / "中文.gpkg", {"layer": frame})
    assert io.read_vector(Path(path))["name_zh"].tolist() == ["泺口片区"]


def test_road_network_unsupported_type(tmp_path):
    bad = tmp_path / "roads.shp"
    bad.write_bytes(b"")
    with pytest.raises(DataFileError, match="unsupported file type"):
        io.read_road_network(bad)


def test_embedded_paths_exist():
    for name in datasets.RAW_FILES:
        assert datasets.raw_path(name).stat().st_size > 0
    with pytest.raises(DataFileError, match="valid names are"):
        datasets.raw_path("cadastre.gpkg")


def test_points_csv_names_a_missing_explicit_column(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("name,lon,lat\na,117.0,36.7\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"pts\.csv has no column\(s\) \['east'\]"):
        io.read_points_csv(path, x="east", y="lat")
