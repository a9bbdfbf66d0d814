"""Text encodings: GBK shapefiles without .cpg, .cpg/LDID disagreeing with the text, CSV inputs."""

import codecs
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from tqspatial import io
from tqspatial.encoding import gdal_encoding_name, sniff_dbf_encoding, sniff_text_encoding
from tqspatial.errors import DataFileError
from tqspatial.quality import recording

#: The field names of tests/data/utf8_cut_names (make_fixtures.CUT_NAMES), before the cut.
CUT_NAMES = ["地块编号", "用地性质", "建成年代", "用地面积"]

NAMES = ["泺口服装城", "工商河科技城", "药山街道·北园", "鹊山㎡测试", "济南新材料产业园区"]
LDID = 29


def write_shapefile(
    folder: Path,
    name: str,
    texts: list[str],
    *,
    encoding="GBK",
    cpg=None,
    ldid=0,
    field="名称",
    id_field="编号",
):
    """A shapefile with .dbf text in ``encoding``, the given .cpg (None: none) and LDID."""
    frame = gpd.GeoDataFrame(
        {field: texts, id_field: [f"A{i}" for i in range(len(texts))]},
        geometry=[
            box(500_000 + 10 * i, 4_060_000, 500_010 + 10 * i, 4_060_010) for i in range(len(texts))
        ],
        crs="EPSG:4548",
    )
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / f"{name}.shp"
    pyogrio.write_dataframe(frame, shp, encoding=encoding)
    cpg_path = shp.with_suffix(".cpg")
    if cpg_path.exists():
        cpg_path.unlink()
    if cpg is not None:
        cpg_path.write_text(cpg, encoding="ascii")
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[LDID] = ldid
    dbf.write_bytes(bytes(raw))
    return shp


def logged(read, *args, **kwargs):
    """Call a reader; return what it read and its quality-log rows."""
    with recording() as log:
        frame = read(*args, **kwargs)
    return frame, log.table().to_dict("records")


def encoding_note(notes):
    found = [n for n in notes if n["kind"] == "encoding"]
    assert len(found) == 1
    assert found[0]["stage"] == "read"
    return found[0]


def test_gbk_shapefile_without_cpg_decodes_and_says_so(tmp_path):
    shp = write_shapefile(tmp_path / "数据", "天桥区地块", NAMES)
    # The problem being solved: plain GDAL falls back to ISO-8859-1 and returns mojibake.
    plain = pyogrio.read_dataframe(shp)
    assert "名称" not in plain.columns
    frame, notes = logged(io.read_vector, shp)
    assert frame["名称"].tolist() == NAMES
    assert frame["编号"].tolist() == [f"A{i}" for i in range(len(NAMES))]
    note = encoding_note(notes)
    assert "read as gb18030" in note["message"]
    assert "no .cpg" in note["message"]


def test_utf8_shapefile_without_cpg(tmp_path):
    shp = write_shapefile(tmp_path, "utf8", NAMES, encoding="UTF-8")
    frame, notes = logged(io.read_vector, shp)
    assert frame["名称"].tolist() == NAMES
    assert "read as utf-8" in encoding_note(notes)["message"]


def test_cpg_that_lies_is_overruled_by_the_bytes(tmp_path):
    shp = write_shapefile(tmp_path, "lying", NAMES, cpg="UTF-8")
    frame, notes = logged(io.read_vector, shp)
    assert frame["名称"].tolist() == NAMES
    note = encoding_note(notes)
    assert "read as gb18030" in note["message"]
    assert "'UTF-8'" in note["message"]
    assert "not valid utf-8" in note["message"]


@pytest.mark.parametrize(("cpg", "ldid"), [("936", 0), ("GBK", 0), (None, 0x4D), (None, 0x57)])
def test_declared_gbk_by_cpg_or_ldid(tmp_path, cpg, ldid):
    shp = write_shapefile(tmp_path, "declared", NAMES, cpg=cpg, ldid=ldid)
    frame = io.read_vector(shp)
    assert frame["名称"].tolist() == NAMES


def test_ascii_only_table_needs_no_guess(tmp_path):
    shp = write_shapefile(
        tmp_path, "ascii", ["Luokou", "Beiyuan"], encoding="UTF-8", field="name", id_field="code"
    )
    frame, notes = logged(io.read_vector, shp)
    assert frame["name"].tolist() == ["Luokou", "Beiyuan"]
    assert "only ASCII" in encoding_note(notes)["message"]


def test_explicit_encoding_is_checked(tmp_path):
    shp = write_shapefile(tmp_path, "explicit", NAMES)
    assert io.read_parcels(shp, encoding="gbk", map_fields=False)["名称"].tolist() == NAMES
    with pytest.raises(DataFileError, match=r"explicit\.dbf: the text is not valid utf-8"):
        io.read_parcels(shp, encoding="utf-8")
    with pytest.raises(DataFileError, match="unknown encoding 'klingon'"):
        io.read_parcels(shp, encoding="klingon")


def test_latin1_text_is_not_mistaken_for_chinese(tmp_path):
    texts = ["Müllerstraße", "Café Größe", "Dürerplatz"]
    latin = {"encoding": "ISO-8859-1", "field": "name", "id_field": "code"}
    shp = write_shapefile(tmp_path, "latin", texts, **latin)
    with pytest.raises(
        DataFileError, match=r"latin\.dbf: cannot tell the text encoding.*encoding="
    ):
        io.read_vector(shp)
    assert io.read_vector(shp, encoding="latin-1")["name"].tolist() == texts
    # A single-byte code page declared in the LDID (0x03 = cp1252) is used when nothing else fits.
    shp = write_shapefile(tmp_path, "latin_ldid", texts, ldid=0x03, **latin)
    assert io.read_vector(shp)["name"].tolist() == texts


def test_zipped_gbk_shapefile(tmp_path):
    shp = write_shapefile(tmp_path / "src", "天桥区地块", NAMES)
    archive = tmp_path / "天桥区地块.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, f"天桥区地块/{part.name}")
    frame, notes = logged(io.read_parcels, archive, map_fields=False)
    assert frame["名称"].tolist() == NAMES
    assert "read as gb18030" in encoding_note(notes)["message"]
    np.testing.assert_allclose(frame.area.to_numpy(), 100.0)


common_chinese = st.text(
    alphabet=st.characters(codec="gb2312", min_codepoint=0x4E00, max_codepoint=0x9FFF),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(common_chinese, min_size=1, max_size=6))
def test_any_gbk_text_round_trips(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("gbk")
    shp = write_shapefile(folder, "random", texts)
    assert io.read_vector(shp)["名称"].tolist() == texts


def test_gdal_names():
    assert gdal_encoding_name("gb18030") == "GB18030"
    assert gdal_encoding_name("cp936") == "GBK"
    assert gdal_encoding_name("ISO-8859-1") == "ISO-8859-1"


def test_sniff_dbf_rejects_a_damaged_header():
    with pytest.raises(DataFileError, match=r"t\.dbf: only 5 bytes"):
        sniff_dbf_encoding(b"\x03abcd", source="t.dbf")


# --------------------------------------------------------------------------- CSV

ROWS = [("济南站", 116.985, 36.670), ("泺口片区", 116.990, 36.715), ("鹊山", 117.001, 36.739)]


def expected_xy(rows):
    to_gk = pyproj.Transformer.from_crs(4326, 4548, always_xy=True)
    return np.array([to_gk.transform(lon, lat) for _, lon, lat in rows])


@pytest.mark.parametrize(
    ("header", "encoding", "bom"),
    [
        ("名称,经度,纬度", "gbk", b""),
        ("名称,经度,纬度", "utf-8", b""),
        ("名称,经度,纬度", "utf-8", codecs.BOM_UTF8),
        ("name,LON,Lat", "gb18030", b""),
        ("名称,Longitude,Latitude", "utf-8", codecs.BOM_UTF8),
    ],
)
def test_csv_encodings_and_coordinate_columns(tmp_path, header, encoding, bom):
    path = tmp_path / "点位.csv"
    body = header + "\n" + "".join(f"{n},{x},{y}\n" for n, x, y in ROWS)
    path.write_bytes(bom + body.encode(encoding))
    frame, notes = logged(io.read_points_csv, path)
    assert frame.iloc[:, 0].tolist() == [n for n, _, _ in ROWS]
    assert frame.crs.to_epsg() == 4548
    got = np.column_stack([frame.geometry.x, frame.geometry.y])
    np.testing.assert_allclose(got, expected_xy(ROWS), atol=0.01)
    kinds = [n["kind"] for n in notes]
    assert "encoding" in kinds
    assert "inferred_crs" in kinds  # lon/lat inferred from the values, and said so


def test_csv_projected_xy_with_declared_crs(tmp_path):
    xy = expected_xy(ROWS)
    path = tmp_path / "gk.csv"
    lines = ["id,X,Y"] + [f"{i},{x + 39_000_000:.3f},{y:.3f}" for i, (x, y) in enumerate(xy)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = io.read_points_csv(path, source_crs="EPSG:4527")
    np.testing.assert_allclose(np.column_stack([frame.geometry.x, frame.geometry.y]), xy, atol=0.01)


def test_csv_dirty_coordinate_keeps_the_row(tmp_path):
    path = tmp_path / "dirty.csv"
    path.write_text(
        "名称,经度,纬度\n甲,116.985,36.670\n乙,不详,36.7\n丙,１１７.００１,36.739\n",
        encoding="utf-8",
    )
    frame, notes = logged(io.read_points_csv, path)
    assert len(frame) == 3
    assert frame.geometry.isna().tolist() == [False, True, False]
    np.testing.assert_allclose(frame.geometry.x.iloc[2], expected_xy(ROWS)[2, 0], atol=0.01)
    missing = [n for n in notes if n["kind"] == "value_missing"]
    assert [(n["count"], n["column"], n["examples"]) for n in missing] == [(1, "经度", "1: 不详")]
    assert "(dirty.csv)" in next(n for n in notes if n["kind"] == "inferred_crs")["message"]


def test_csv_explicit_columns_and_encoding(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_bytes("站点,东经,北纬\n济南站,116.985,36.670\n".encode("gbk"))
    frame = io.read_points_csv(path, x="东经", y="北纬", encoding="gbk", source_crs="EPSG:4326")
    assert frame["站点"].tolist() == ["济南站"]
    with pytest.raises(DataFileError, match=r"pts\.csv: the text is not valid utf-8"):
        io.read_points_csv(path, x="东经", y="北纬", encoding="utf-8")


def test_sniff_text_encoding_utf16_and_undecidable():
    assert (
        sniff_text_encoding(codecs.BOM_UTF16_LE + "经度".encode("utf-16-le")).encoding == "utf-16"
    )
    with pytest.raises(DataFileError, match=r"x\.csv: cannot tell the text encoding"):
        sniff_text_encoding("Größe,Straße\n".encode("latin-1"), source="x.csv")


class GbkNamedZipInfo(zipfile.ZipInfo):
    """A zip entry named in GBK without the UTF-8 flag, as Chinese Windows zips are."""

    def _encodeFilenameFlags(self):  # noqa: N802 - overrides the zipfile method
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def test_zip_with_gbk_member_names(tmp_path):
    shp = write_shapefile(tmp_path / "src", "天桥区地块", NAMES)
    archive = tmp_path / "windows.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.writestr(GbkNamedZipInfo(part.name), part.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        assert "天桥区地块.shp" not in zf.namelist()  # really GBK-named
    assert io.read_vector(archive)["名称"].tolist() == NAMES


def test_check_vector_file_gives_what_a_streaming_reader_needs(tmp_path):
    shp = write_shapefile(tmp_path / "src", "天桥区地块", NAMES)
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    for path in (shp, archive):
        checked = io.check_vector_file(path)
        assert checked.encoding == "GB18030"
        frame = pyogrio.read_dataframe(
            checked.source, layer=checked.layer, encoding=checked.encoding
        )
        assert frame["名称"].tolist() == NAMES
        assert [n["kind"] for n in checked.notes] == ["encoding"]


def test_utf8_dbf_with_names_cut_mid_character_honours_the_cpg():
    shp = Path(__file__).parent / "data" / "utf8_cut_names" / "地块.shp"
    # The problem: GDAL cannot read it at all, whatever encoding it is told.
    with pytest.raises(UnicodeDecodeError):
        pyogrio.read_dataframe(shp, encoding="UTF-8")
    frame, notes = logged(io.read_parcels, shp)
    cut = [name.encode("utf-8")[:10].decode("utf-8", errors="replace") for name in CUT_NAMES]
    assert cut == ["地块编\ufffd", "用地性\ufffd", "建成年\ufffd", "用地面\ufffd"]
    assert [c for c in frame.columns if "\ufffd" in c] == cut
    # values are whole UTF-8 text
    assert frame["用地性\ufffd"].tolist() == ["二类居住用地", "商业用地", "一类工业用地"]
    assert frame["建成年\ufffd"].tolist() == ["约1990", "2005年", "不详"]
    # the cut names still map to their canonical columns
    assert frame["parcel_id"].tolist() == ["CN-1", "CN-2", "CN-3"]
    assert frame["landuse_code"].tolist() == ["R2", "B1", "M1"]
    assert frame["build_year"].astype(object).tolist()[:2] == [1990, 2005]
    assert frame["area_attr_m2"].tolist() == [6400.0, 6400.0, 6400.0]
    assert "the .cpg file declares 'UTF-8'" in encoding_note(notes)["message"]
    (damaged,) = [n for n in notes if n["kind"] == "field_names_damaged"]
    assert damaged["severity"] == "warning"
    assert damaged["message"].startswith(
        "地块.shp: field names '地块编\ufffd', '用地性\ufffd', '建成年\ufffd', '用地面\ufffd' "
        "were cut mid-character at the 10-byte limit"
    )


def test_sniffing_sets_aside_cut_names_only_when_the_rest_decodes():
    dbf = (Path(__file__).parent / "data" / "utf8_cut_names" / "地块.dbf").read_bytes()
    guess = sniff_dbf_encoding(dbf, cpg="UTF-8")
    assert (guess.encoding, len(guess.damaged_names)) == ("utf-8", 4)
    # a value cut mid-character is not a name: the table is not valid UTF-8 then
    broken = dbf.replace("二类居住用地".encode(), "二类居住用地".encode()[:-1] + b" ")
    with pytest.raises(DataFileError, match="neither UTF-8 nor"):
        sniff_dbf_encoding(broken, cpg="UTF-8")
