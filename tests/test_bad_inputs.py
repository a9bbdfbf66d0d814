"""Whatever a user's data or config can get wrong ends in exit 2 with a message that names the
file or the profile key and the fix -- never in "internal error"."""

import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine

from tests.district_builder import build_district
from tqspatial import cli, datasets, io

BAD = cli.EXIT_BAD_INPUT


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("base"), maps=False).folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def drop_layers(*names: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        profile = folder / "profile.toml"
        lines = profile.read_text(encoding="utf-8").splitlines()
        keep = [ln for ln in lines if not any(ln.startswith(f"{n} = ") for n in names)]
        profile.write_text("\n".join(keep) + "\n", encoding="utf-8")

    return change


def tianqiao_layer(name: str, file: str) -> Callable[[Path], None]:
    """Point one layer of the second district at Tianqiao's embedded file."""

    def change(folder: Path) -> None:
        profile = folder / "profile.toml"
        lines = profile.read_text(encoding="utf-8").splitlines()
        out = [
            f'{name} = "{datasets.raw_path(file).as_posix()}"'
            if ln.startswith(f"{name} = ")
            else ln
            for ln in lines
        ]
        profile.write_text("\n".join(out) + "\n", encoding="utf-8")

    return change


def flood_raster_elsewhere(folder: Path) -> None:
    """A flood raster 60 km east of the district (e.g. a neighbour's file, or a wrong CRS)."""
    _, _, x1, y1 = io.read_districts(folder / "boundary.geojson").total_bounds
    io.write_raster(
        folder / "flood.tif",
        np.full((20, 20), 2.0, dtype="float32"),
        transform=Affine(100.0, 0.0, x1 + 60_000, 0.0, -100.0, y1),
        crs="EPSG:4548",
        nodata=-9999.0,
    )
    edit(
        folder / "profile.toml",
        "[[constraints]]",
        '[[constraints]]\nname = "flood"\nlayer = "flood"\nthreshold = 0.5\n\n[[constraints]]',
    )
    edit(folder / "profile.toml", "[layers]\n", '[layers]\nflood = "flood.tif"\n')


def structure_without_clusters(folder: Path) -> None:
    frame = io.read_vector(folder / "plan_structure.gpkg")
    frame = frame[frame["类型"] != "组团"]
    io.write_layers(folder / "plan_structure.gpkg", {"structure": frame})


def structure_with_two_problems(folder: Path) -> None:
    frame = io.read_vector(folder / "plan_structure.gpkg")
    frame = frame.drop(columns="name_en")
    frame.loc[frame["element_id"] == "river_axis", "width_m"] = None
    io.write_layers(folder / "plan_structure.gpkg", {"structure": frame})


def parcels_far_away(folder: Path) -> None:
    parcels = io.read_vector(folder / "parcels.gpkg")
    moved = parcels.set_geometry(parcels.geometry.translate(xoff=90_000))
    io.write_layers(folder / "parcels.gpkg", {"parcels": gpd.GeoDataFrame(moved)})


def allow_all_rejects(folder: Path) -> None:
    with (folder / "tqspatial.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[quality]\nmax_reject_share = 1.0\n")


def empty_parcels(folder: Path) -> None:
    parcels = io.read_vector(folder / "parcels.gpkg")
    io.write_layers(folder / "parcels.gpkg", {"parcels": gpd.GeoDataFrame(parcels.iloc[:0])})


def parcels_file_missing(folder: Path) -> None:
    (folder / "parcels.gpkg").unlink()


#: situation -> (change to the good district, patterns the error must show)
SITUATIONS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "required layers missing": (
        drop_layers("parcels", "structure"),
        [r"no structure layer: add `structure = .*profile\.toml", r"no parcels layer"],
    ),
    "unknown profile key": (
        lambda f: edit(f / "profile.toml", "[maps]\n", '[maps]\nfocus = "370102"\n'),
        [r"profile .*profile\.toml: \[maps\]: unknown key\(s\) \['focus'\]; valid keys are"],
    ),
    "constraint selects nothing": (
        lambda f: edit(f / "profile.toml", 'contains = "示范河" }', 'contains = "黄浦江" }'),
        [r"\[\[constraints\]\] demo_river: layer 'water' rows where name_zh contains '黄浦江' "
         r"select nothing; fix the filter or the layer"],
    ),
    "urban-area anchor missing": (
        lambda f: edit(
            f / "profile.toml",
            'rule = "whole_district"',
            'rule = "side_of_barrier"\nlayer = "water"\nreference_anchor = "city_hall"',
        ),
        [r"\[urban_area\] reference_anchor = 'city_hall' is not an anchor; anchor ids are"],
    ),
    "linkage anchor missing": (
        lambda f: edit(f / "profile.toml", '"east_hub"]', '"east_hub", "airport"]'),
        [r"\[linkage\] anchors \['airport'\] are not in the anchors layer"],
    ),
    "network of another district": (
        tianqiao_layer("roads", "roads.osm"),
        [r"road network .*roads\.osm covers \d+\.\d% of the district .* expected at least 50%",
         r"\[layers\] roads"],
    ),
    "facilities of another district": (
        tianqiao_layer("facilities", "facilities.gpkg"),
        [r"facilities layer .*facilities\.gpkg does not overlap the district at all"],
    ),
    "raster off the district": (
        flood_raster_elsewhere,
        [r"flood layer .*flood\.tif does not overlap the district at all \(check its CRS"],
    ),
    "structure without clusters": (
        structure_without_clusters,
        [r"plan structure .*plan_structure\.gpkg has no element of kind 'cluster'"],
    ),
    "structure with several problems": (
        structure_with_two_problems,
        [r"missing column\(s\) \['name_en'\]", r"without a positive width_m: \['river_axis'\]"],
    ),
    "every parcel rejected": (
        parcels_far_away,
        [r"all 1720 parcels were rejected; nothing published"],
    ),
    "every parcel rejected, even where rejects are allowed": (
        lambda f: (parcels_far_away(f), allow_all_rejects(f)),
        [r"all 1720 parcels were rejected"],
    ),
    "an empty parcels file": (
        empty_parcels,
        [r"the parcels layer has no rows"],
    ),
    "capacity target for an element that is no cluster": (
        lambda f: edit(f / "profile.toml", 'lead_industry = "金融"', 'element_id = "finance"'),
        [r"\[\[capacity\]\] element_id \['finance'\] are not clusters of the plan structure; "
         r"cluster ids are \['finance_hub', 'tech_valley', 'old_town'\]"],
    ),
    "accessibility without roads": (
        drop_layers("roads"),
        [r"\[accessibility\] enabled needs a roads layer: add it to \[layers\] in .*profile\.toml "
         r"or set \[accessibility\] enabled = false"],
    ),
    "layer file missing": (
        parcels_file_missing,
        [r"parcels layer file not found: .*parcels\.gpkg"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_bad_input_exits_2_with_a_message_naming_the_fix(situation, base, tmp_path, caplog):
    change, patterns = SITUATIONS[situation]
    folder = tmp_path / "district"
    shutil.copytree(base, folder)
    change(folder)
    caplog.set_level(logging.INFO)
    code = cli.main(["refresh", "--config", str(folder / "tqspatial.toml")])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert code == BAD, errors
    text = "\n".join(errors)
    for pattern in patterns:
        assert re.search(pattern, text), (pattern, text)
    assert "internal error" not in caplog.text
    assert not (folder / "processed" / "manifest.json").exists()  # nothing published


def test_at_least_eight_distinct_situations():
    assert len(SITUATIONS) >= 8


def test_a_failed_run_writes_the_quality_report_and_keeps_the_parcels(base, tmp_path):
    folder = tmp_path / "district"
    shutil.copytree(base, folder)
    parcels_far_away(folder)
    assert cli.main(["-q", "refresh", "--config", str(folder / "tqspatial.toml")]) == BAD
    report = (folder / "processed" / "quality_report.failed.md").read_text(encoding="utf-8")
    assert "refresh FAILED" in report
    assert "| parcels | outside_district | 1720 |" in report


def test_capacity_rows_that_match_nothing_are_reported(base, tmp_path):
    folder = tmp_path / "district"
    shutil.copytree(base, folder)
    edit(folder / "profile.toml", 'lead_industry = "金融"', 'lead_industry = "金融业"')
    assert cli.main(["-q", "refresh", "--config", str(folder / "tqspatial.toml")]) == 0
    report = (folder / "processed" / "quality_report.md").read_text(encoding="utf-8")
    assert "lead_industry '金融业' is no cluster's lead industry" in report
    assert "cluster 'finance_hub' has no targets of its own in the profile" in report
    assert "cluster 'old_town' has no targets of its own in the profile" in report
    assert "cluster 'tech_valley' has no targets" not in report  # 软件信息 has its row


def test_map_with_nothing_to_draw_is_skipped_and_said(base, tmp_path):
    folder = tmp_path / "district"
    shutil.copytree(base, folder)
    edit(folder / "tqspatial.toml", "enabled = false", "enabled = true")
    edit(folder / "profile.toml", 'measure = "walk_primary_school_min"', 'measure = "walk_zoo_min"')
    assert cli.main(["-q", "refresh", "--config", str(folder / "tqspatial.toml")]) == 0
    report = (folder / "processed" / "quality_report.md").read_text(encoding="utf-8")
    assert "no accessibility map: the profile's [maps] measure 'walk_zoo_min'" in report
    assert (folder / "processed" / "maps" / "cluster_map.png").is_file()
