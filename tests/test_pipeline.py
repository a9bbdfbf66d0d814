import dataclasses
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import tqspatial as tq
from tqspatial import cli, datasets
from tqspatial.config import Config, parse_config
from tqspatial.pipeline import InputQualityError
from tqspatial.publish import output_lock


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return tq.refresh(out_dir=tmp_path_factory.mktemp("processed"))


def test_outputs_written_and_no_staging_left(result):
    names = sorted(p.name for p in result.out_dir.iterdir())
    listed = {p.relative_to(result.out_dir).parts[0] for p in result.files}
    assert names == sorted(listed | {".tqspatial-output"})  # the owner marker, nothing else
    assert {
        "inventory.gpkg",
        "parcels.parquet",
        "cluster_summary.csv",
        "renewal_ledger.csv",
        "cluster_supply.csv",
        "quality_report.md",
        "tqspatial_inventory.xlsx",
        "manifest.json",
        "maps",
    } <= set(names)
    maps = {p.name for p in (result.out_dir / "maps").iterdir()}
    assert {"cluster_map.png", "cluster_map.pdf", "cluster_map.svg", "atlas.pdf"} <= maps
    assert {"landuse.png", "renewal_supply.png", "access_primary_school.png"} <= maps
    assert not [p for p in result.out_dir.parent.iterdir() if ".staging-" in p.name]


def test_every_parcel_is_kept_or_rejected_and_area_is_conserved(result, tianqiao):
    counts = result.counts
    assert counts["parcels_in"] == len(tianqiao.parcels)
    assert counts["parcels_kept"] + counts["parcels_rejected"] == counts["parcels_in"]
    layers = dict(pyogrio.list_layers(result.out_dir / "inventory.gpkg").tolist())
    assert {"parcels", "structure", "rejects", "overlaps"} <= set(layers)
    written = pyogrio.read_dataframe(result.out_dir / "inventory.gpkg", layer="parcels")
    assert len(written) == counts["parcels_kept"]
    summary = pd.read_csv(result.out_dir / "cluster_summary.csv", encoding="utf-8-sig")
    # Independent: area recomputed from the written geometries.
    assert summary["land_area_ha"].sum() == pytest.approx(written.area.sum() / 1e4, rel=1e-9)
    assert summary["parcel_count"].sum() == len(written)
    by_cluster = written.groupby("cluster_id").size()
    assert summary.set_index("cluster_id")["parcel_count"].to_dict() == by_cluster.to_dict()


def test_parquet_matches_geopackage(result):
    pq = tq.io.read_parcels(result.out_dir / "parcels.parquet")
    gp = tq.io.read_parcels(result.out_dir / "inventory.gpkg", layer="parcels")
    assert pq["parcel_id"].tolist() == gp["parcel_id"].tolist()
    assert pq["cluster_id"].tolist() == gp["cluster_id"].tolist()


def test_manifest_records_inputs_counts_and_versions(result):
    manifest = json.loads((result.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) >= {"parcels", "structure", "boundary"}
    for entry in manifest["inputs"].values():
        digest = hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest()
        assert entry["sha256"] == digest
    assert manifest["inputs"]["parcels"]["path"] == str(datasets.raw_path("parcels.gpkg"))
    assert parse_config(manifest["config"]) == Config()
    assert manifest["counts"] == result.counts
    # The manifest is the last file written, so it times every stage before the write.
    assert set(manifest["timings_s"]) == {
        "read",
        "validate",
        "assign",
        "supply",
        "accessibility",
        "changes",
        "maps",
    }
    assert manifest["versions"]["tqspatial"] == tq.__version__
    # the road filter counts per mode: the embedded extract holds roads only (independent count)
    n_ways = len(ET.parse(datasets.raw_path("roads.osm")).getroot().findall("way"))
    assert manifest["road_filter"] == {
        mode: {"kept_ways": n_ways, "dropped_ways": {}} for mode in ("walk", "drive")
    }


_TQ = [sys.executable, "-m", "tqspatial"]


def _digests(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_rerun_gives_byte_identical_tables_and_if_changed_skips(result, tmp_path):
    again = tq.refresh(out_dir=tmp_path)
    first, second = _digests(result.out_dir), _digests(again.out_dir)
    tables = set(first) - {"manifest.json"}  # the manifest records timings
    assert tables
    assert {k: first[k] for k in tables} == {k: second[k] for k in tables}
    skipped = tq.refresh(out_dir=tmp_path, if_changed=True)
    assert skipped.skipped
    assert _digests(tmp_path) == second
    changed = tq.refresh(
        Config(assign=dataclasses.replace(Config().assign, min_cluster_share=0.9)),
        out_dir=tmp_path,
        if_changed=True,
    )
    assert not changed.skipped
    assert _digests(tmp_path)["cluster_summary.csv"] != second["cluster_summary.csv"]


def test_dry_run_validates_and_writes_nothing(tmp_path, fast_config):
    out = tmp_path / "out"
    res = tq.refresh(out_dir=out, dry_run=True)
    assert res.files == []
    assert res.counts["parcels_kept"] > 0
    assert not out.exists() or not any(out.iterdir())
    args = ["-q", "refresh", "--dry-run", "--config", str(fast_config), "--out", str(out)]
    assert cli.main(args) == cli.EXIT_OK


def test_locked_output_folder_exits_with_its_own_code(tmp_path, fast_config):
    with output_lock(tmp_path / "out"):
        args = ["-q", "refresh", "--config", str(fast_config), "--out", str(tmp_path / "out")]
        code = cli.main(args)
    assert code == cli.EXIT_LOCKED


def test_run_killed_mid_write_leaves_previous_outputs_intact(result, tmp_path, fast, fast_config):
    out = tmp_path / "out"
    tq.refresh(fast, out_dir=out)
    before = _digests(out)
    proc = subprocess.Popen(
        [*_TQ, "-q", "refresh", "--config", str(fast_config), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = tmp_path / f".out.staging-{proc.pid}"
    deadline = time.monotonic() + 120
    while not any(staging.glob("*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any(staging.glob("*")), "the subprocess never reached the write stage"
    assert _digests(out) == before  # nothing of the killed run is visible
    tq.refresh(fast, out_dir=out)  # the next run cleans up after the killed one
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "fast.toml", "out"]


def test_ledger_csv_is_reproduced_by_the_written_parcels(result):
    parcels = pd.read_parquet(result.out_dir / "parcels.parquet")
    ledger = pd.read_csv(result.out_dir / "renewal_ledger.csv", encoding="utf-8-sig")
    from_parcels = (
        parcels[parcels["renewal_type"].notna()]
        .groupby("cluster_id")["supply_net_m2"]
        .sum()
        .div(1e4)
    )
    from_ledger = ledger.groupby("cluster_id")["net_supply_ha"].sum()
    pd.testing.assert_series_equal(
        from_ledger.loc[from_parcels.index], from_parcels, check_names=False, rtol=1e-9
    )
    totals = pd.read_csv(result.out_dir / "cluster_supply.csv", encoding="utf-8-sig")
    district = totals[~totals["cluster_id"].isin(from_ledger.index)]
    assert district["net_supply_ha"].iloc[-1] == pytest.approx(ledger["net_supply_ha"].sum())


def test_workbook_has_chinese_sheets_and_headers(result):
    sheets = pd.read_excel(result.out_dir / "tqspatial_inventory.xlsx", sheet_name=None)
    assert list(sheets)[:4] == ["说明", "组团汇总", "更新用地供给", "更新用地台账"]
    assert "用地面积（公顷）" in sheets["组团汇总"].columns
    summary = pd.read_csv(result.out_dir / "cluster_summary.csv", encoding="utf-8-sig")
    assert sheets["组团汇总"]["用地面积（公顷）"].sum() == pytest.approx(
        summary["land_area_ha"].sum()
    )


def test_failed_run_writes_its_report_and_keeps_outputs(result, fast):
    before = _digests(result.out_dir)
    strict = dataclasses.replace(
        fast, quality=dataclasses.replace(fast.quality, max_reject_share=-1.0)
    )
    with pytest.raises(InputQualityError):
        tq.refresh(strict, out_dir=result.out_dir)
    report = result.out_dir / "quality_report.failed.md"
    assert "nothing published" in report.read_text(encoding="utf-8")
    assert "max_reject_share" in report.read_text(encoding="utf-8")
    after = _digests(result.out_dir)
    assert {k: after[k] for k in before} == before
    report.unlink()


def test_accessibility_tables_agree_with_the_parcels(result):
    parcels = pd.read_parquet(result.out_dir / "parcels.parquet")
    clusters = pd.read_csv(result.out_dir / "accessibility_clusters.csv", encoding="utf-8-sig")
    measure = "walk_primary_school_min"
    rows = clusters[clusters["measure"] == measure].set_index(["weighted_by", "cluster_id"])
    geo = gpd.read_parquet(result.out_dir / "parcels.parquet")
    for cluster_id, group in parcels.groupby("cluster_id"):
        ok = group[measure].notna()
        area = geo.loc[group.index[ok]].area
        expected_by_area = np.average(group.loc[ok, measure], weights=area)
        assert rows.loc[("area", cluster_id), "mean"] == pytest.approx(expected_by_area, rel=1e-9)
        assert rows.loc[("area", cluster_id), "n_missing"] == (~ok).sum()
        weights = group.loc[ok, "residents"].astype(float)
        if weights.sum() == 0:  # industrial clusters: only the area-weighted row has a value
            assert np.isnan(rows.loc[("residents", cluster_id), "mean"])
            continue
        expected = np.average(group.loc[ok, measure], weights=weights)
        assert rows.loc[("residents", cluster_id), "mean"] == pytest.approx(expected, rel=1e-9)
    # unsnapped parcels carry a reason and no measure: never a silent zero
    unsnapped = parcels["snap_reason"].notna()
    assert unsnapped.sum() == result.counts["parcels_not_snapped"]
    assert parcels.loc[unsnapped, measure].isna().all()
    linkage = pd.read_csv(result.out_dir / "cluster_linkage.csv", encoding="utf-8-sig")
    assert set(linkage["cluster_id"]) == set(tq.datasets.tianqiao().structure.cluster_ids)
    layers = dict(pyogrio.list_layers(result.out_dir / "inventory.gpkg").tolist())
    assert "isochrones" in layers


def test_undeclared_gcj02_parcels_are_flagged_and_declared_ones_converted(tmp_path, fast):
    import shapely

    from tqspatial.errors import DataQualityWarning
    from tqspatial.gcj02 import wgs84_to_gcj02

    wgs = tq.datasets.tianqiao().parcels.head(3000).to_crs("EPSG:4326")

    def shift(xy):
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    web = wgs.set_geometry(shapely.transform(wgs.geometry.values, shift))
    path = tmp_path / "web_parcels.geojson"
    web.to_file(path, driver="GeoJSON")
    inputs = dataclasses.replace(fast.inputs, parcels=str(path))
    # read as WGS84, 10 % of the parcels fall outside the district: warned, then refused
    with pytest.warns(DataQualityWarning, match="GCJ-02"), pytest.raises(InputQualityError):
        tq.refresh(dataclasses.replace(fast, inputs=inputs), out_dir=tmp_path / "a")
    report = (tmp_path / "a" / "quality_report.failed.md").read_text(encoding="utf-8")
    assert "source_crs='gcj02'" in report
    declared = dataclasses.replace(fast.parcels, source_crs="gcj02")
    res = tq.refresh(
        dataclasses.replace(fast, inputs=inputs, parcels=declared),
        out_dir=tmp_path / "b",
        dry_run=True,
    )
    assert res.counts["parcels_in"] == 3000
    assert res.counts["parcels_rejected"] == 0  # converted back onto the district


def test_dask_engine_publishes_the_same_tables(tmp_path, fast):
    single = tq.refresh(fast, out_dir=tmp_path / "single")
    parted = tq.refresh(fast, out_dir=tmp_path / "dask", engine="dask")
    assert parted.counts == single.counts
    a = pd.read_parquet(single.out_dir / "parcels.parquet")
    b = pd.read_parquet(parted.out_dir / "parcels.parquet")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    for name in ("renewal_ledger.csv", "cluster_summary.csv", "cluster_supply.csv"):
        left = pd.read_csv(single.out_dir / name, encoding="utf-8-sig")
        right = pd.read_csv(parted.out_dir / name, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(left, right, rtol=1e-9)
    assert "parcels (dask)" in parted.timings_s


def _segments(text):
    """What a terminal would show line by line: tqdm redraws its bar after a carriage return."""
    return [s for line in text.split("\n") for s in line.split("\r") if s.strip()]


def test_progress_counts_stages_and_maps_and_log_lines_pass_over_the_bar(tmp_path, capsys):
    config = parse_config({"maps": {"dpi": 30}, "accessibility": {"enabled": False}})
    handler = tq.enable_logging("INFO")  # a console handler on (captured) standard error
    try:
        res = tq.refresh(config, out_dir=tmp_path / "out", progress=True)
    finally:
        logging.getLogger("tqspatial").removeHandler(handler)
        logging.getLogger("tqspatial").setLevel(logging.NOTSET)
    err = _segments(capsys.readouterr().err)
    stages = len(res.timings_s)
    assert any("refresh: write: 100%" in s and f"{stages}/{stages}" in s for s in err)
    # the maps stage counts each map it writes (one per file stem: cluster_map, atlas ...)
    stems = sorted({p.stem for p in res.files if p.parent.name == "maps"})
    assert len(stems) >= 4
    ticks = [s for s in err if s.lstrip().startswith("maps:")]
    for i in range(1, len(stems) + 1):
        assert any(f"{i}map " in s for s in ticks), (i, ticks)
    for stem in stems:
        assert any(stem in s for s in ticks), stem
    # log lines are written through the bar (tqdm.write): never on the same line as a bar
    logged = [s for s in err if " INFO " in s]
    assert any("stage maps: done" in s for s in logged)
    assert all("%|" not in s and "map [" not in s for s in logged)  # no bar on a log line


def test_progress_is_off_by_default_outside_terminals_and_notebooks(tmp_path, fast, capsys):
    assert not sys.stderr.isatty()
    assert not tq.pipeline.progress_default()
    tq.refresh(fast, out_dir=tmp_path)
    assert capsys.readouterr().err == ""


def test_progress_default_follows_the_terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert tq.pipeline.progress_default()
