"""A second district (历下区) end to end from files and a TOML, and no Tianqiao in the code."""

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tests.district_builder import ADCODE, CLUSTER_IDS, NAME_ZH, build_district
from tqspatial import cli, datasets, maps
from tqspatial.config import load_config
from tqspatial.pipeline import map_layers, read_inputs

ROOT = Path(__file__).resolve().parent.parent

#: Words only the Tianqiao profile may name: its rivers, anchor ids and plan element ids.
TIANQIAO_WORDS = (
    "黄河",
    "小清河",
    "district_gov",
    "jinan_station",
    "smart_manufacturing",
    "hitech_innovation",
    "specialty_commerce",
    "high_end_services",
    "modern_agriculture",
    "yellow_river_axis",
    "jiluo_road_belt",
    "xiaoqing_river_belt",
)


@pytest.fixture(scope="module")
def lixia(tmp_path_factory):
    district = build_district(tmp_path_factory.mktemp("lixia"))
    code = cli.main(["-q", "refresh", "--config", str(district.config)])
    assert code == 0
    return district


@pytest.fixture(scope="module")
def manifest(lixia):
    return json.loads((lixia.folder / "processed" / "manifest.json").read_text(encoding="utf-8"))


def test_no_tianqiao_layer_is_used(lixia, manifest):
    raw = datasets.raw_dir().resolve()
    paths = [Path(entry["path"]).resolve() for entry in manifest["inputs"].values()]
    assert paths, "the manifest lists the inputs"
    for path in paths:
        assert path.is_relative_to(lixia.folder.resolve()), path
        assert not path.is_relative_to(raw), path
    assert manifest["district"] == {"name_zh": NAME_ZH, "adcode": ADCODE}
    assert set(manifest["inputs"]) == {
        "anchors", "boundary", "districts", "facilities", "parcels", "profile", "roads",
        "structure", "water",
    }  # fmt: skip
    # what this profile declared synthetic or indicative, by file, nothing else
    assert manifest["synthetic_inputs"] == sorted(
        ["anchors.csv", "facilities.gpkg", "parcels.gpkg", "roads.osm", "water.gpkg"]
    )
    assert manifest["indicative_inputs"] == ["plan_structure.gpkg"]


def test_every_parcel_is_kept_and_assigned_as_an_overlay_says(lixia):
    out = lixia.folder / "processed"
    summary = pd.read_csv(out / "cluster_summary.csv", encoding="utf-8-sig")
    parcels = lixia.parcels
    clusters = lixia.structure[lixia.structure["类型"] == "组团"][["element_id", "geometry"]]
    pieces = gpd.overlay(parcels[["parcel_id", "geometry"]], clusters, how="intersection")
    pieces["share"] = pieces.area / pieces["parcel_id"].map(parcels.set_index("parcel_id").area)
    best = pieces.sort_values("share").groupby("parcel_id").tail(1)
    best = best[best["share"] >= 0.5]
    area_by_parcel = parcels.set_index("parcel_id").area
    expected = best.groupby("element_id")["parcel_id"].apply(
        lambda ids: area_by_parcel.loc[ids].sum() / 1e4
    )
    got = summary.set_index("cluster_id")["land_area_ha"]
    for cid in CLUSTER_IDS:
        assert got[cid] == pytest.approx(expected.get(cid, 0.0), rel=1e-9), cid
    assert got.sum() == pytest.approx(area_by_parcel.sum() / 1e4, rel=1e-9)


def test_supply_ledger_sums_to_the_parcels(lixia):
    out = lixia.folder / "processed"
    ledger = pd.read_csv(out / "renewal_ledger.csv", encoding="utf-8-sig")
    parcels = gpd.read_parquet(out / "parcels.parquet")
    assert set(ledger["cluster_id"]) <= {*CLUSTER_IDS, "unassigned"}
    assert ledger["net_supply_ha"].sum() == pytest.approx(parcels["supply_net_m2"].sum() / 1e4)
    # the river setback of the profile removed land from the parcels next to it
    assert parcels["constrained_demo_river_m2"].sum() > 0
    # the finance cluster got its profile target (lead industry 金融: FAR 4.5)
    finance = parcels[(parcels["cluster_id"] == "finance_hub") & parcels["target_far"].notna()]
    assert len(finance)
    assert (finance["target_far"] == 4.5).all()


def test_accessibility_reaches_the_district_and_counts_what_it_misses(lixia):
    out = lixia.folder / "processed"
    access = pd.read_csv(out / "accessibility_parcels.csv", encoding="utf-8-sig")
    measured = access["walk_primary_school_min"].notna()
    assert measured.mean() > 0.95
    # the district's own kind name (卫生服务站) was mapped by the profile's kind_map
    assert "walk_community_health_station_min" in access.columns
    report = (out / "quality_report.md").read_text(encoding="utf-8")
    missing = int(access["snap_reason"].notna().sum())
    if missing:
        assert f"{missing} parcels have no accessibility measures" in report
    linkage = pd.read_csv(out / "cluster_linkage.csv", encoding="utf-8-sig")
    assert list(linkage.columns) == [
        "cluster_id", *CLUSTER_IDS, "lixia_gov", "east_hub", "bridge:示范河大桥"
    ]  # fmt: skip


def _map_texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_cluster_map_focus_title_neighbours_and_credits(lixia):
    data = read_inputs(load_config(lixia.config), maps=True)
    layers = map_layers(data)
    neighbours = layers.neighbours()
    assert NAME_ZH not in set(neighbours["name"])
    assert "天桥区" in set(neighbours["name"])  # Tianqiao is a neighbour here, nothing more
    fig, ax = maps.plot_cluster_map(layers, lang="zh")
    assert ax.get_title().startswith(NAME_ZH)
    assert "一轴一带三组团" in ax.get_title()
    texts = _map_texts(fig)
    credit = next(t for t in texts if "真实数据" in t)
    assert re.search(r"真实数据：区界、相邻区县界", credit)
    assert "示意（非官方GIS）：规划结构" in credit
    assert "示范河" in credit
    assert "测试数据（合成）" in credit
    gray_labels = [t.get_text() for t in ax.texts if t.get_color() == "#7A7A7A"]
    assert NAME_ZH not in gray_labels
    png = lixia.folder / "processed" / "maps" / "cluster_map.png"
    assert png.stat().st_size > 10_000


def test_render_maps_reports_each_map_it_writes(lixia, tmp_path):
    layers = map_layers(read_inputs(load_config(lixia.config), maps=True))
    reported = []
    written = maps.render_maps(
        tmp_path, layers, formats=("png", "svg"), dpi=30, on_map=reported.append
    )
    # one report per map (not per format), in the order written, naming a file that exists
    assert reported == ["cluster_map.png", "atlas.pdf"]
    assert [p.name for p in written] == ["cluster_map.png", "cluster_map.svg", "atlas.pdf"]
    assert all((tmp_path / name).is_file() for name in reported)


def test_generic_modules_name_no_tianqiao_river_anchor_or_element():
    package = ROOT / "tqspatial"
    found = []
    for path in package.rglob("*.py"):
        if path.is_relative_to(package / "datasets"):
            continue  # the embedded dataset and its generator are Tianqiao's by definition
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {w}" for w in TIANQIAO_WORDS if w in text]
    assert found == []
    # ... while the embedded profile does hold them (the check is not vacuous)
    profile_text = (datasets.raw_dir() / "tianqiao_profile.toml").read_text(encoding="utf-8")
    assert all(w in profile_text for w in ("黄河", "小清河", "district_gov", "jinan_station"))


def test_refresh_is_reproducible_for_the_second_district(lixia, tmp_path):
    first = lixia.folder / "processed"
    second = tmp_path / "again"
    assert cli.main(["-q", "refresh", "--config", str(lixia.config), "--out", str(second)]) == 0
    for name in ("cluster_summary.csv", "renewal_ledger.csv", "accessibility_clusters.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert np.isfinite(pd.read_csv(second / "cluster_supply.csv")["net_supply_ha"]).all()
