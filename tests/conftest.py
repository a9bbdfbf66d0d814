"""Shared fixtures: tiny frames built in code (EPSG:4548) and the embedded dataset, loaded once."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

import tqspatial as tq
import tqspatial.config


def make_grid9() -> gpd.GeoDataFrame:
    """A 3x3 grid of 100 m parcels starting at (500000, 4060000): areas checkable by hand."""
    x0, y0 = 500_000.0, 4_060_000.0
    cells = [
        (f"p{r}{c}", box(x0 + c * 100, y0 + r * 100, x0 + (c + 1) * 100, y0 + (r + 1) * 100))
        for r in range(3)
        for c in range(3)
    ]
    return gpd.GeoDataFrame(
        {"parcel_id": [pid for pid, _ in cells]},
        geometry=[g for _, g in cells],
        crs="EPSG:4548",
    )


@pytest.fixture(scope="session", autouse=True)
def network_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """Compiled road networks go to a per-session folder, not the user's cache."""
    folder = tmp_path_factory.mktemp("tqnet-cache")
    previous = os.environ.get("TQSPATIAL_CACHE_DIR")
    os.environ["TQSPATIAL_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("TQSPATIAL_CACHE_DIR", None)
    else:
        os.environ["TQSPATIAL_CACHE_DIR"] = previous


@pytest.fixture
def grid9() -> gpd.GeoDataFrame:
    return make_grid9()


@pytest.fixture(scope="session")
def tianqiao() -> tq.datasets.TianqiaoData:
    return tq.datasets.tianqiao()


#: The refresh without its two slowest stages, for tests of the job's behaviour.
FAST_TOML = "[maps]\nenabled = false\n\n[accessibility]\nenabled = false\n"


@pytest.fixture
def fast_config(tmp_path) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text(FAST_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fast() -> tq.config.Config:
    return tq.config.parse_config(tomllib.loads(FAST_TOML))
