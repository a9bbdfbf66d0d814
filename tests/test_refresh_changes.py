"""The change report of every refresh (issue 20): previous/, changes.*, the 变化 sheet.

Three refreshes into one folder: a first run, a run on parcels with known edits (10 added,
5 removed, 7 land-use codes changed, 3 reshaped, 2 renamed) and an unchanged re-run.  The
edits are made here, so the expected report is known without tqspatial; the per-cluster
deltas are checked against the difference of the two published cluster_supply.csv files.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely import affinity
from shapely.geometry import box

from tqspatial import cli, io, publish

WINDOW = (497_000.0, 4_061_000.0, 500_000.0, 4_064_000.0)  # Luokou / Gongshanghe, EPSG:4548
N_ADDED, N_REMOVED, N_CODES, N_RESHAPED, N_RENAMED = 10, 5, 7, 3, 2


def _config(folder, parcels_file: str) -> str:
    path = folder / f"{parcels_file}.toml"
    path.write_text(
        f'[inputs]\nparcels = "{parcels_file}"\n\n[maps]\nenabled = false\n\n'
        "[accessibility]\nenabled = false\n",
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture(scope="module")
def runs(tianqiao, tmp_path_factory):
    """Refresh the window's parcels, then an edited copy, then the copy again, into one folder."""
    tmp = tmp_path_factory.mktemp("refresh_changes")
    parcels = tianqiao.parcels
    old = parcels[parcels.within(box(*WINDOW))].sort_values("parcel_id").reset_index(drop=True)
    rng = np.random.default_rng(7)
    ids = old["parcel_id"].to_numpy(dtype=str)
    housing = old["landuse_code"].to_numpy(dtype=str) == "070102"
    codes = sorted(rng.choice(ids[housing], N_CODES, replace=False))
    rest = np.setdiff1d(ids, codes)
    picked = rng.choice(rest, N_RESHAPED + N_REMOVED + N_RENAMED, replace=False)
    reshaped = sorted(picked[:N_RESHAPED])
    removed = sorted(picked[N_RESHAPED : N_RESHAPED + N_REMOVED])
    renamed = sorted(picked[N_RESHAPED + N_REMOVED :])
    around = parcels[parcels.intersects(box(*WINDOW).buffer(400)) & ~parcels["parcel_id"].isin(ids)]
    added = sorted(rng.choice(around["parcel_id"].to_numpy(dtype=str), N_ADDED, replace=False))

    new = old[~old["parcel_id"].isin(removed)].copy()
    new.loc[new["parcel_id"].isin(codes), "landuse_code"] = "090101"  # 商业用地
    shrink = new["parcel_id"].isin(reshaped)
    new.loc[shrink, "geometry"] = [
        affinity.scale(g, 0.8, 0.8, origin="centroid") for g in new.loc[shrink, "geometry"]
    ]
    rename = new["parcel_id"].isin(renamed)
    new.loc[rename, "parcel_id"] = "RN-" + new.loc[rename, "parcel_id"].astype(str)
    new = gpd.GeoDataFrame(
        pd.concat([new, parcels[parcels["parcel_id"].isin(added)]], ignore_index=True),
        crs=old.crs,
    )
    io.write_layers(tmp / "old.gpkg", {"parcels": old})
    io.write_layers(tmp / "new.gpkg", {"parcels": new})
    out = tmp / "inventory"
    reports = []
    for name in ("old.gpkg", "new.gpkg", "new.gpkg"):
        assert cli.main(["-q", "refresh", "--config", _config(tmp, name), "--out", str(out)]) == 0
        reports.append(
            {
                "quality": (out / "quality_report.md").read_text(encoding="utf-8"),
                "changes": pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
                if (out / "changes.csv").is_file()
                else None,
                "clusters": pd.read_csv(out / "changes_clusters.csv", encoding="utf-8-sig")
                if (out / "changes_clusters.csv").is_file()
                else None,
                "supply": pd.read_csv(out / "cluster_supply.csv", encoding="utf-8-sig"),
                "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8")),
            }
        )
        if name == "new.gpkg" and len(reports) == 2:  # keep the second run's folder for diff
            second = tmp / "second"
            second.mkdir()
            for path in out.rglob("*"):
                if path.is_file():
                    (second / path.relative_to(out)).parent.mkdir(parents=True, exist_ok=True)
                    (second / path.relative_to(out)).write_bytes(path.read_bytes())
    edits = {
        "added": set(added),
        "removed": set(removed),
        "codes": set(codes),
        "reshaped": set(reshaped),
        "renamed": {r: f"RN-{r}" for r in renamed},
    }
    return reports, edits, out, tmp / "second"


def _flagged(table: pd.DataFrame, kind: str, id_column: str = "parcel_id") -> set[str]:
    return set(table.loc[table[kind].astype(bool), id_column].astype(str))


def test_first_run_says_so_and_has_no_change_files(runs):
    reports, _, _, _ = runs
    first = reports[0]
    assert "首次运行 / first run" in first["quality"]
    assert first["changes"] is None
    assert not any(o.startswith("previous/") for o in first["manifest"]["outputs"])


def test_known_edits_are_reported_exactly(runs):
    reports, edits, _, _ = runs
    table = reports[1]["changes"]
    assert _flagged(table, "added") == edits["added"]
    assert _flagged(table, "removed", "parcel_id_old") == edits["removed"]
    renamed = table[table["renamed"].astype(bool)]
    assert (
        dict(zip(renamed["parcel_id_old"], renamed["parcel_id_new"], strict=True))
        == (edits["renamed"])
    )
    assert _flagged(table, "landuse_changed") == edits["codes"]
    assert _flagged(table, "geometry_changed") == edits["reshaped"]
    # Nothing else changed: every row of the report is one of the edited parcels.
    touched = (
        edits["added"] | edits["removed"] | edits["codes"] | edits["reshaped"]
        | set(edits["renamed"]) | set(edits["renamed"].values())
    )  # fmt: skip
    listed = set(table["parcel_id_old"].dropna().astype(str)) | set(
        table["parcel_id_new"].dropna().astype(str)
    )
    assert listed <= touched
    counts = reports[1]["manifest"]["changes"]
    assert (counts["added"], counts["removed"], counts["renamed"]) == (10, 5, 2)
    assert "## 清单变化 / Inventory changes" in reports[1]["quality"]


def test_cluster_deltas_are_the_difference_of_the_published_supply_tables(runs):
    reports, _, _, _ = runs
    before = reports[0]["supply"].set_index("cluster_id")
    after = reports[1]["supply"].set_index("cluster_id")
    deltas = reports[1]["clusters"].set_index("cluster_id")
    for column in ("net_supply_ha", "new_floor_area_m2", "parcel_count"):
        expected = after[column] - before[column]
        got = deltas.loc[expected.index, f"{column}_delta"].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected.to_numpy(dtype=float), atol=1e-9)


def test_unchanged_rerun_reports_no_change(runs):
    reports, _, _, _ = runs
    third = reports[2]
    assert len(third["changes"]) == 0
    assert "无变化" in third["quality"]
    counts = third["manifest"]["changes"]
    assert counts["unchanged"] == counts["new_parcels"] == counts["old_parcels"]


def test_previous_is_kept_and_diff_remakes_the_report(runs, tmp_path):
    _, _, _, second = runs
    assert publish.read_owner(second) == "refresh"
    previous = second / "previous"
    assert (previous / "parcels.parquet").is_file()
    out = tmp_path / "diff"
    assert cli.main(["-q", "diff", str(previous), str(second), "--out", str(out)]) == 0
    ours = pd.read_csv(second / "changes.csv", encoding="utf-8-sig")
    again = pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(ours, again)


def test_workbook_has_the_change_sheets_in_chinese(runs):
    _, _, _, second = runs
    book = load_workbook(second / "tqspatial_inventory.xlsx", read_only=True)
    assert {"变化", "组团变化"} <= set(book.sheetnames)
    header = next(book["变化"].iter_rows(values_only=True))
    assert {"地块编号", "变化类型", "新增", "上期用地代码", "本期用地代码"} <= set(header)
    kinds = [
        row[header.index("变化类型")] for row in book["变化"].iter_rows(min_row=2, values_only=True)
    ]
    assert all(k and not any(c.isascii() and c.isalpha() for c in k) for k in kinds)
