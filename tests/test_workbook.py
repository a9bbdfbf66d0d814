"""The XLSX workbooks (issue 22 item 4): Chinese throughout, number formats, a 说明 sheet.

Checked on real refreshes: the embedded Tianqiao dataset (maps off, accessibility on) and the
second district (历下区, ``tests/district_builder.py``) refreshed twice, the second time on
edited parcels (removed, recoded, a duplicate and a sliver), so that the change and reject
sheets have rows.  The workbook is read back with openpyxl (formats, frozen panes, widths)
and pandas (values), and compared with the CSV tables of the same refresh.
"""

from __future__ import annotations

import json
import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from shapely.geometry import box

from tests.district_builder import build_district
from tqspatial import cli, io, vocabulary
from tqspatial.config import parse_config
from tqspatial.datasets import tianqiao_profile
from tqspatial.pipeline import constraint_names, refresh
from tqspatial.profile import parse_profile

KEY = re.compile(r"^[a-z_]+$")
CJK = re.compile(r"[\u3400-\u9fff]")
BOOK = "tqspatial_inventory.xlsx"

#: Workbook sheet -> the CSV of the same refresh holding the same table.
SAME_TABLE = {
    "组团汇总": "cluster_summary.csv",
    "更新用地供给": "cluster_supply.csv",
    "更新用地台账": "renewal_ledger.csv",
    "约束条件": "constraints_summary.csv",
    "剔除记录": "rejects.csv",
    "可达性": "accessibility_clusters.csv",
    "组团联系": "cluster_linkage.csv",
    "变化": "changes.csv",
    "组团变化": "changes_clusters.csv",
}

# Number formats expected from the header's unit, written out here (not taken from the code).
HA, M2, COUNT, PERCENT, MINUTES = "#,##0.00", "#,##0", "#,##0", "0.0%", "0.0"


@pytest.fixture(scope="module")
def tianqiao_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("workbook") / "tianqiao"
    refresh(parse_config({"maps": {"enabled": False}}), out_dir=out)
    return out


@pytest.fixture(scope="module")
def lixia(tmp_path_factory):
    district = build_district(tmp_path_factory.mktemp("workbook_lixia"), maps=False)
    assert cli.main(["-q", "refresh", "--config", str(district.config)]) == 0
    parcels = district.parcels
    ids = parcels["parcel_id"].to_numpy()
    edited = parcels[~parcels["parcel_id"].isin(ids[:3])].copy()  # 3 removed
    housing = edited.index[edited["landuse_code"] == "070102"][:4]
    edited.loc[housing, "landuse_code"] = "090101"  # 4 recoded
    duplicate = edited.iloc[[10]]
    sliver = edited.iloc[[11]].assign(parcel_id="SLIVER", geometry=[box(0, 0, 0.1, 0.1)])
    sliver.geometry = sliver.geometry.translate(*edited.geometry.iloc[11].centroid.coords[0])
    edited = gpd.GeoDataFrame(
        pd.concat([edited, duplicate, sliver], ignore_index=True), crs=parcels.crs
    )
    io.write_layers(district.folder / "parcels.gpkg", {"parcels": edited})
    assert cli.main(["-q", "refresh", "--config", str(district.config)]) == 0
    return district


@pytest.fixture(scope="module")
def lixia_out(lixia):
    return lixia.folder / "processed"


@pytest.fixture(params=["tianqiao", "lixia"])
def out(request):
    return request.getfixturevalue(f"{request.param}_out")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _rows(sheet):
    return list(sheet.iter_rows())


def test_every_header_and_categorical_cell_is_chinese(out):
    book = load_workbook(out / BOOK)
    keys = vocabulary.internal_keys()
    for sheet in book.worksheets:
        rows = _rows(sheet)
        for cell in rows[0]:
            assert isinstance(cell.value, str), (sheet.title, cell.coordinate)
            assert CJK.search(cell.value), (sheet.title, cell.value)
            assert not KEY.match(cell.value), (sheet.title, cell.value)
        for row in rows[1:]:
            for cell in row:
                if isinstance(cell.value, str):
                    assert not KEY.match(cell.value), (sheet.title, cell.coordinate, cell.value)
                    assert cell.value not in keys, (sheet.title, cell.coordinate, cell.value)
                assert not isinstance(cell.value, bool), (sheet.title, cell.coordinate)


def test_the_change_and_reject_sheets_have_translated_rows(lixia_out):
    sheets = pd.read_excel(lixia_out / BOOK, sheet_name=None)
    changes = sheets["变化"]
    assert len(changes) >= 7  # 3 removed + 4 recoded (renames/reshapes may add)
    assert set(changes["删除"]) <= {"是", "否"}
    assert (changes["删除"] == "是").sum() == 3
    rejects = sheets["剔除记录"]
    reasons = set(rejects["剔除原因"])
    assert reasons == {
        vocabulary.REJECT_REASON_NAMES["duplicate_feature"].zh,
        vocabulary.REJECT_REASON_NAMES["sliver"].zh,
    }
    assert set(rejects["图层"]) == {"地块"}


#: Header pattern -> number format, first match wins (written out here, not taken from the code).
HEADER_FORMATS = (
    (re.compile(r"（公顷"), HA),
    (re.compile(r"（平方米）"), M2),
    (re.compile(r"（分钟）"), MINUTES),
    (re.compile(r"比例$|^就地就近安置能力$"), PERCENT),
    (re.compile(r"(数|（套）|人口|岗位)$|^(原始行号|权重合计)$"), COUNT),
)


def _expected_format(sheet_title: str, header: str, row: dict[str, object]) -> str | None:
    """The number format a planner expects from the header (and the row's measure)."""
    if sheet_title == "可达性" and header in ("平均值", "中位数", "第85百分位数"):
        header = str(row["指标"]).replace("覆盖率", "比例")
    return next((fmt for pattern, fmt in HEADER_FORMATS if pattern.search(header)), None)


def test_numbers_carry_the_format_of_their_unit(out):
    book = load_workbook(out / BOOK)
    checked = {HA: 0, M2: 0, COUNT: 0, PERCENT: 0, MINUTES: 0}
    for sheet in book.worksheets:
        rows = _rows(sheet)
        header = [c.value for c in rows[0]]
        for row in rows[1:]:
            values = dict(zip(header, (c.value for c in row), strict=True))
            for name, cell in zip(header, row, strict=True):
                if isinstance(cell.value, bool) or not isinstance(cell.value, int | float):
                    continue
                assert cell.number_format != "General", (sheet.title, name, cell.coordinate)
                expected = _expected_format(sheet.title, name, values)
                if expected is not None:
                    assert cell.number_format == expected, (sheet.title, name, cell.number_format)
                    checked[expected] += 1
    # every kind of unit occurs (the Tianqiao and the Lixia workbook hold them all)
    assert all(checked.values()), checked


def test_shares_are_stored_as_fractions_and_shown_as_percent(tianqiao_out):
    book = load_workbook(tianqiao_out / BOOK)
    sheet = book["组团汇总"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    column = header.index("占全区面积比例")
    shares = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert all(c.number_format == PERCENT for c in shares)
    assert all(0 <= c.value <= 1 for c in shares)
    summary = pd.read_csv(tianqiao_out / "cluster_summary.csv", encoding="utf-8-sig")
    assert sum(c.value for c in shares) == pytest.approx(summary["share_of_district"].sum())


def _column_widths(sheet) -> dict[int, float]:
    widths = {}
    for dim in sheet.column_dimensions.values():  # one <col> element may span columns
        if dim.width:
            for index in range(dim.min, dim.max + 1):
                widths[index] = dim.width
    return widths


def test_header_row_is_frozen_and_columns_fit_their_headers(out):
    book = load_workbook(out / BOOK)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        widths = _column_widths(sheet)
        for index, cell in enumerate(next(sheet.iter_rows(max_row=1)), start=1):
            width = widths.get(index)
            assert width is not None, (sheet.title, get_column_letter(index))
            # CJK characters count two; long text wraps at 60
            assert width >= min(_width(cell.value), 60), (sheet.title, cell.value, width)


def test_the_notes_sheet_comes_first_and_says_what_everything_is(out):
    book = load_workbook(out / BOOK)
    assert book.sheetnames[0] == "说明"
    notes = pd.read_excel(out / BOOK, sheet_name="说明")
    assert notes.columns.tolist() == ["类别", "项目", "内容"]
    items = set(notes["项目"])
    assert set(book.sheetnames) <= items
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    text = "\n".join(notes["内容"].astype(str))
    for entry in manifest["inputs"].values():  # every input file is named as a source
        assert entry["path"].rsplit("/", 1)[-1] in text
    synthetic = notes[notes["类别"] == "合成与示意数据"]
    assert len(synthetic) >= 1
    assert manifest["synthetic_inputs"], "both districts have synthetic layers"
    sources = notes[notes["类别"] == "数据来源"]
    for name in manifest["synthetic_inputs"]:
        row = sources[sources["内容"].str.contains(name, regex=False)]
        assert row["内容"].str.contains("合成数据").all(), name
    quality = notes[notes["类别"] == "数据质量记录"]
    assert (quality["项目"] == "警告").sum() == len(manifest["warnings"])
    constraints = notes[notes["类别"] == "约束条件"]
    assert constraints["内容"].str.contains("仅统计更新候选地块").any()


def test_the_constraint_sheet_names_the_profiles_constraints_and_says_candidates_only(
    tianqiao_out, lixia_out, lixia
):
    for out, names in (
        (tianqiao_out, ["黄河河道、滩区及堤防带", "小清河河道及退让带", "洪水淹没水深超过0.5米"]),
        (lixia_out, ["示范河"]),  # no name_zh in that profile: its layer's name
    ):
        sheet = pd.read_excel(out / BOOK, sheet_name="约束条件")
        assert sheet.columns.tolist() == ["约束条件", "更新候选地块受限面积（公顷）"]
        assert sheet["约束条件"].tolist() == [*names, "全部约束合计（并集）"]
        csv = pd.read_csv(out / "constraints_summary.csv", encoding="utf-8-sig")
        assert csv["constraint"].iloc[-1] == "all (union)"


def _csv_columns(csv: pd.DataFrame) -> list[str]:
    if "cluster_id" in csv.columns:
        return [c for c in csv.columns if c != "name_zh"]
    return list(csv.columns)


def test_workbook_values_equal_the_csv_tables(out):
    sheets = pd.read_excel(out / BOOK, sheet_name=None)
    compared = 0
    for name, csv_name in SAME_TABLE.items():
        if name not in sheets:
            continue
        sheet = sheets[name]
        csv = pd.read_csv(out / csv_name, encoding="utf-8-sig")
        columns = _csv_columns(csv)
        assert len(sheet) == len(csv), name
        assert len(sheet.columns) == len(columns), (name, sheet.columns, columns)
        for column, header in zip(columns, sheet.columns, strict=True):
            ours, theirs = sheet[header], csv[column]
            if pd.api.types.is_bool_dtype(theirs.dtype):
                assert (ours == theirs.map({True: "是", False: "否"})).all(), (name, column)
            elif pd.api.types.is_numeric_dtype(theirs.dtype) and len(theirs):
                assert pd.api.types.is_numeric_dtype(ours.dtype), (name, column)
                np.testing.assert_allclose(
                    ours.to_numpy(float), theirs.to_numpy(float), rtol=1e-9, atol=1e-9
                )
                compared += 1
            else:  # categorical: translated one to one (nothing merged, nothing lost)
                pairs = pd.DataFrame({"csv": theirs.astype(str), "book": ours.astype(str)})
                pairs = pairs[theirs.notna().to_numpy()]
                assert (pairs.groupby("csv")["book"].nunique() == 1).all(), (name, column)
                assert (pairs.groupby("book")["csv"].nunique() == 1).all(), (name, column)
    assert compared > 50


def test_scenarios_workbook_is_chinese_and_formatted(lixia, tmp_path):
    (lixia.folder / "scenarios.toml").write_text(
        'config = "tqspatial.toml"\n\n[[scenario]]\nname = "plan"\n\n'
        '[[scenario]]\nname = "no_river_setback"\nconstraints_off = ["demo_river"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    assert cli.main(["-q", "scenarios", "run", str(lixia.folder / "scenarios.toml"),
                     "--out", str(out)]) == 0  # fmt: skip
    book = load_workbook(out / "scenarios.xlsx")
    assert book.sheetnames == ["说明", "方案比较"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not KEY.match(cell.value), (sheet.title, cell.value)
    sheet = pd.read_excel(out / "scenarios.xlsx", sheet_name="方案比较")
    assert sheet.columns.tolist() == [
        "组团", "比较指标", "方案 plan", "方案 no_river_setback",
        "方案 no_river_setback较方案 plan变化",
    ]  # fmt: skip
    wide = pd.read_csv(out / "scenario_comparison_wide.csv", encoding="utf-8-sig")
    np.testing.assert_allclose(
        sheet.iloc[:, 2:].to_numpy(float), wide.iloc[:, 3:].to_numpy(float), rtol=1e-9
    )
    ws = book["方案比较"]
    for row in ws.iter_rows(min_row=2):
        indicator = str(row[1].value)
        expected = (
            HA if "（公顷）" in indicator
            else M2 if "（平方米）" in indicator
            else PERCENT if indicator.endswith("覆盖率")
            else COUNT
        )  # fmt: skip
        for cell in row[2:]:
            if isinstance(cell.value, int | float):
                assert cell.number_format == expected, (indicator, cell.number_format)
    notes = pd.read_excel(out / "scenarios.xlsx", sheet_name="说明")
    described = notes.set_index("项目")["内容"]
    assert "示范河" in described["方案 no_river_setback"]  # the constraint by its name
    assert described["方案 plan"] == "无调整（基准）"


def test_identical_sheets_give_identical_bytes(tmp_path):
    table = pd.DataFrame(
        {"measure": ["walk_park_min", "lc_5min_covered"], "mean": [7.25, 0.5], "n": [3, 4]}
    )
    sheet = io.zh_sheet(table, by_row={"mean": "measure"})
    first = io.write_xlsx(tmp_path / "a.xlsx", {"表": sheet}).read_bytes()
    second = io.write_xlsx(tmp_path / "b.xlsx", {"表": sheet}).read_bytes()
    assert first == second
    cells = list(load_workbook(tmp_path / "a.xlsx")["表"].iter_rows(min_row=2))
    assert [c[1].number_format for c in cells] == [MINUTES, PERCENT]
    assert [c[2].number_format for c in cells] == [COUNT, COUNT]
    with pytest.raises(ValueError, match="one per row"):
        io.write_xlsx(tmp_path / "c.xlsx", {"表": io.Sheet(table, {"mean": ["minutes"]})})


def test_constraint_names_fall_back_to_the_layer():
    profile = parse_profile(
        {
            "layers": {"w": {"path": "w.gpkg", "name_zh": "水系"}, "f": "f.tif"},
            "constraints": [
                {"name": "a", "layer": "w"},
                {"name": "b", "layer": "w"},
                {"name": "c", "layer": "f", "threshold": 1.0},
                {"name": "d", "layer": "w", "name_zh": "大河"},
            ],
        }
    )
    assert constraint_names(profile) == {"a": "水系（1）", "b": "水系（2）", "c": "f", "d": "大河"}
    assert constraint_names(tianqiao_profile())["flood_depth"] == "洪水淹没水深超过0.5米"


def test_measure_names_and_kinds():
    assert vocabulary.measure_term("drive_metro_station_min").zh == "车行至最近地铁站（分钟）"
    assert vocabulary.measure_term("walk_clinic_min").zh == "步行至最近clinic（分钟）"
    assert vocabulary.measure_term("opp15_jobs").zh == "步行15分钟可达现状就业岗位"
    assert vocabulary.measure_term("net_supply_ha").zh == "净供给面积（公顷）"
    kinds = {
        c: vocabulary.value_kind(c) for c in ("opp15_jobs", "far", "build_year", "area_old_m2")
    }
    assert kinds == {
        "opp15_jobs": "count",
        "far": "ratio",
        "build_year": "year",
        "area_old_m2": "m2",
    }


def test_new_tables_are_complete_and_bilingual():
    from tqspatial import validate

    assert set(vocabulary.REJECT_REASON_NAMES) == set(validate._REJECT_MESSAGES)
    assert set(vocabulary.SHEET_NAMES) == set(vocabulary.SHEET_NOTES)
    tables = [
        vocabulary.WEIGHT_NAMES,
        vocabulary.REJECT_REASON_NAMES,
        vocabulary.PROVENANCE_NAMES,
        vocabulary.SEVERITY_NAMES,
        vocabulary.CONSTRAINT_SPECIAL_NAMES,
        vocabulary.SHEET_NAMES,
        vocabulary.SHEET_NOTES,
        vocabulary.NOTE_SECTION_NAMES,
    ]
    for table in tables:
        for key, term in table.items():
            assert CJK.search(term.zh), (key, term)
            assert not CJK.search(term.en), (key, term)
    # sheet names fit Excel's 31 characters and are unique
    names = [t.zh for t in vocabulary.SHEET_NAMES.values()]
    assert len(set(names)) == len(names)
    assert max(map(len, names)) <= 31
