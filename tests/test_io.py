from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import box

from tqspatial import datasets, io
from tqspatial.errors import (
    ConfigError,
    CRSError,
    DataFileError,
    DataQualityWarning,
    TqspatialError,
)
from tqspatial.quality import recording
from tqspatial.validate import validate_parcels


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


def test_shapefile_without_prj_uses_source_crs(tmp_path, grid9):
    pyogrio.write_dataframe(grid9, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    same = io.read_parcels(tmp_path / "noprj.shp", source_crs="EPSG:4548")
    assert same.geometry.geom_equals(grid9.geometry).all()  # shapefiles reorient rings
    with pytest.raises(TypeError, match="crs"):  # the crs= alias is gone (issue 18)
        io.read_parcels(tmp_path / "noprj.shp", crs="EPSG:4548")


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet"])
def test_bbox_columns_and_where_read_part_of_a_layer(tmp_path, grid9, suffix):
    frame = grid9.assign(far=np.arange(9, dtype=float), kind=[f"k{i % 3}" for i in range(9)])
    path = tmp_path / f"p{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        pyogrio.write_dataframe(frame, path)
    window = (500_050.0, 4_060_050.0, 500_150.0, 4_060_150.0)
    got = io.read_parcels(path, bbox=window, columns=["parcel_id", "far"], map_fields=False)
    # Independent: shapely says which squares touch the window.
    expected = frame[shapely.intersects(frame.geometry.array, shapely.box(*window))]
    assert sorted(got["parcel_id"]) == sorted(expected["parcel_id"])
    assert list(got.columns) == ["parcel_id", "far", "geometry"]
    if suffix != ".parquet":
        where = io.read_parcels(path, where="far >= 6", map_fields=False)
        assert sorted(where["parcel_id"]) == sorted(frame.loc[frame["far"] >= 6, "parcel_id"])
        with pytest.raises(ConfigError, match="where='no_such > 1'"):
            io.read_parcels(path, where="no_such > 1")
    else:
        with pytest.raises(ConfigError, match="where= needs GDAL"):
            io.read_parcels(path, where="far >= 6")
    with pytest.raises(ConfigError, match=r"no field\(s\) \['nope'\]"):
        io.read_parcels(path, columns=["parcel_id", "nope"])
    with pytest.raises(ConfigError, match="bbox="):
        io.read_parcels(path, bbox=(1, 1, 0, 0))


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


EXAMPLE = Path(__file__).resolve().parents[1] / "data/examples/天桥区地块示例/天桥区地块示例.shp"
FIXTURES = Path(__file__).resolve().parent / "data"


def test_real_shaped_example_just_works(tianqiao):
    with recording() as log:
        parcels = io.read_parcels(EXAMPLE)
    # Independent decoding: GDAL told the encoding explicitly.
    truth = pyogrio.read_dataframe(EXAMPLE, encoding="GBK")
    assert len(parcels) == len(truth) >= 50
    for column in ["地块编号", "用地代码", "面积", "建成年代", "备注"]:
        assert parcels[column].tolist() == truth[column].tolist()
    assert set(parcels["备注"]) == {"泺口片区合成数据，仅供演示"}
    assert {"parcel_id", "landuse_code", "build_year", "far", "coverage", "area_attr_m2"} <= set(
        parcels.columns
    )
    assert parcels.crs.to_epsg() == 4548
    # Same parcels as the embedded dataset, same place and area after EPSG:4527 -> 4548.
    source = tianqiao.parcels.set_index("parcel_id").loc[parcels["parcel_id"]]
    np.testing.assert_allclose(parcels.area.to_numpy(), source.area.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        parcels.geometry.centroid.x.to_numpy(), source.geometry.centroid.x.to_numpy(), atol=0.01
    )
    np.testing.assert_allclose(
        parcels["area_attr_m2"].to_numpy(), source.area.to_numpy(), rtol=1e-3, atol=0.1
    )
    kinds = set(log.table()["kind"])
    assert {"encoding", "field_mapped", "value_parsed", "value_missing"} <= kinds
    # per-row detail on the rows: the notes' rows are exactly the rows with a parse_note
    noted = set(log.details().query("stage == 'fields'")["row"])
    assert noted == set(np.flatnonzero(parcels["parse_note"].notna().to_numpy()))


def test_hand_written_gbk_shapefile_without_prj():
    shp = FIXTURES / "gbk_noprj" / "宗地.shp"
    with (
        pytest.warns(DataQualityWarning, match="Gauss-Krueger without zone number"),
        recording() as log,
    ):
        parcels = io.read_parcels(shp)
    assert parcels["宗地编号"].tolist() == ["TQ-001", "TQ-002", "TQ-003"]
    assert parcels["用地性质"].tolist() == ["070102", "1001", "090101"]
    assert parcels["备注"].tolist() == ["泺口片区老旧小区", "药山工业园区厂房", "北园大街商业"]
    assert parcels["面积"].tolist() == ["10,000", "约5000㎡", "不详"]
    assert parcels["parcel_id"].tolist() == ["TQ-001", "TQ-002", "TQ-003"]
    assert parcels.area.tolist() == [10_000.0, 5_000.0, 5_000.0]  # 100x100, 100x50, 50x100 m
    assert parcels["area_attr_m2"].tolist() == [10_000.0, 5_000.0, 5_000.0]
    assert parcels["area_attr_source"].tolist() == ["attribute", "attribute", "geometry"]
    kinds = log.table()["kind"].tolist()
    assert kinds.count("encoding") == 1
    assert "inferred_crs" in kinds


def test_map_fields_can_be_turned_off():
    parcels = io.read_parcels(EXAMPLE, map_fields=False)
    assert "parcel_id" not in parcels.columns
    assert "地块编号" in parcels.columns


# --------------------------------------------------------------------------- input cases (issue 14)


def test_unclosed_ring_is_said_in_the_rows_repair_column():
    shp = FIXTURES / "unclosed_ring" / "地块.shp"
    with recording() as log:
        parcels = io.read_parcels(shp)
        kept, rejects = validate_parcels(parcels)
    # only the second feature's ring was stored open (make_fixtures.py): its row says so
    assert parcels["repair"].fillna("").tolist() == ["", io.RING_CLOSED, ""]
    assert (
        kept.set_index("parcel_id").loc["UR-1", "repair"] == io.RING_CLOSED
    )  # validation keeps it
    assert len(rejects) == 0
    # independent check: the closed ring is the 90 x 60 m rectangle the file describes
    assert parcels.area.round(6).tolist() == [5400.0, 5400.0, 5400.0]
    entry = log.table().set_index("kind").loc["ring_closed"]
    assert (entry["count"], entry["examples"]) == (1, "1")
    assert entry["message"].startswith("地块.shp: 1 features had a ring that was not closed")


def test_wrong_zone_prj_stops_with_the_crs_the_data_fit(tianqiao):
    shp = FIXTURES / "wrong_zone" / "宗地.shp"
    # independently: as declared (CM 114E) the parcels land ~270 km west of the district
    declared = io.read_parcels(shp)
    offset = tianqiao.boundary.union_all().centroid.distance(declared.union_all().centroid)
    assert 250_000 < offset < 300_000
    with pytest.raises(CRSError) as caught:
        io.read_parcels(shp, boundary=tianqiao.boundary)
    message = str(caught.value)
    assert message.startswith("parcels (宗地.shp): 100% of the features lie outside")
    assert "EPSG:4547, CGCS2000 / 3-degree Gauss-Kruger CM 114E" in message
    assert "The data fit EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E)" in message
    assert "pass source_crs='EPSG:4548'" in message
    # the prefix-less Xian 1980 / Beijing 1954 codes of CM 117E, not the zone-numbered ones
    assert "EPSG:2384 or EPSG:2436" in message
    assert "2363" not in message
    # following the advice reads them into the district
    fixed = io.read_parcels(shp, source_crs="EPSG:4548", boundary=tianqiao.boundary)
    assert tianqiao.boundary.union_all().contains(fixed.union_all())


def test_refresh_on_a_wrong_zone_file_is_bad_input_not_an_internal_error(tmp_path, fast):
    import dataclasses

    from tqspatial.pipeline import refresh

    bad = dataclasses.replace(
        fast,
        inputs=dataclasses.replace(fast.inputs, parcels=str(FIXTURES / "wrong_zone" / "宗地.shp")),
    )
    with pytest.raises(CRSError, match=r"宗地\.shp.*source_crs='EPSG:4548'"):
        refresh(bad, out_dir=tmp_path / "out")


def test_crs_messages_name_the_file():
    path = FIXTURES / "metres_no_crs.geojson"
    with pytest.raises(
        CRSError, match=r"^parcels \(metres_no_crs\.geojson\): declared CRS WGS 84 is in degrees"
    ):
        io.read_parcels(path)


def test_prefix_less_zone_hint_names_the_prefix_less_old_datum_codes():
    shp = FIXTURES / "gbk_noprj" / "宗地.shp"
    with pytest.warns(DataQualityWarning) as caught, recording() as log:
        io.read_parcels(shp)
    (message,) = [str(w.message) for w in caught if "no CRS" in str(w.message)]
    assert message.startswith("parcels (宗地.shp) has no CRS")
    assert "Xian 1980 is EPSG:2384 and Beijing 1954 is EPSG:2436" in message
    assert "2363" not in message
    assert message in log.table()["message"].tolist()
