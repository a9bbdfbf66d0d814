"""Packaging (issue 18): the wheel carries code and data, the core runs without the extras.

* The wheel is built offline from a copy of the source, installed with ``--no-deps`` into a
  fresh virtual environment whose dependencies come from this environment's site-packages
  through a ``.pth`` line (a ``.pth`` inside that folder, such as the editable install's, is
  not processed there), and run from another folder: ``tqspatial.__file__`` must be inside the
  new environment and the repository must not be on ``sys.path``.
* The core runs in a subprocess where numba, dask, distributed, psycopg, folium and osmium
  cannot be imported (a meta-path blocker loaded by ``sitecustomize``), and gives the same
  results as this process, where numba is used.
* The numba kernels and their scipy/numpy fallbacks agree to 1e-12 on the embedded data.
"""

from __future__ import annotations

import copyreg
import json
import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import tqspatial as tq
from tqspatial import _access_kernels, _geometry_kernels, datasets
from tqspatial import accessibility as acc
from tqspatial.inventory import process_parcels

REPO = Path(__file__).resolve().parents[1]
#: Optional packages (the extras) made unimportable for the core run.
BLOCKED = ("numba", "dask", "distributed", "dask_geopandas", "psycopg", "folium", "osmium")
FAST_TOML = "[maps]\nenabled = false\n"


def _source_copy(target: Path) -> Path:
    """The files a wheel is built from (no .git, venv, caches or build folders)."""
    for name in ("setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, target / name)
    shutil.copytree(REPO / "requirements", target / "requirements")
    shutil.copytree(
        REPO / "tqspatial",
        target / "tqspatial",
        ignore=shutil.ignore_patterns("__pycache__", "*.tqnet-*", "*.nbi", "*.nbc"),
    )
    return target


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600):
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.mark.slow
def test_wheel_carries_code_and_data_and_runs_outside_the_repository(tmp_path):
    (tmp_path / "src").mkdir()
    src = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(dist), str(src)],
        cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("tqspatial-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {n.rsplit("/", 1)[1] for n in names if n.startswith("tqspatial/datasets/data/")}
    assert set(datasets.RAW_FILES) | {"README.md"} <= data
    assert not any(".tqnet-" in n or "__pycache__" in n for n in names)
    assert not any(n.startswith(("tests/", "data/")) for n in names)
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB")  # noqa: T201

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).stdout.strip()
    )
    # dependencies from this environment, appended after the new site-packages
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--disable-pip-version-check", str(wheel)],
        cwd=tmp_path,
    )  # fmt: skip

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env()
    probe = textwrap.dedent(
        f"""
        import json, sys
        import tqspatial as tq
        d = tq.datasets.tianqiao()
        print(json.dumps({{
            "file": tq.__file__, "raw": str(tq.datasets.raw_dir()),
            "repo_on_path": any(p.rstrip("/") == {str(REPO)!r} for p in sys.path),
            "parcels": len(d.parcels), "facilities": len(d.facilities),
        }}))
        """
    )
    seen = json.loads(_run([str(python), "-c", probe], cwd=elsewhere, env=env).stdout)
    assert Path(seen["file"]).is_relative_to(venv), seen
    assert Path(seen["raw"]).is_relative_to(site), seen
    assert not seen["repo_on_path"]
    assert seen["parcels"] == len(tq.io.read_parcels(datasets.raw_path("parcels.gpkg")))
    assert seen["facilities"] > 0

    config = elsewhere / "fast.toml"
    config.write_text(FAST_TOML, encoding="utf-8")
    out = tmp_path / "out"
    _run(
        [str(venv / "bin" / "tqspatial"), "-q", "refresh", "--config", "fast.toml", "--out",
         str(out)],
        cwd=elsewhere,
        env=env,
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert Path(manifest["inputs"]["parcels"]["path"]).is_relative_to(site)
    ledger = pd.read_csv(out / "renewal_ledger.csv")
    assert len(ledger) > 0
    assert (out / "accessibility_parcels.csv").exists()
    assert not (elsewhere / "data").exists()  # --out given: nothing written in the folder


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = {blocked!r}

    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, _Blocker())
    """
)

CORE_RUN = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np
    import tqspatial as tq
    from tqspatial import accessibility as acc, network
    from tqspatial import _access_kernels, _geometry_kernels
    from tqspatial.inventory import process_parcels

    assert not _access_kernels.HAVE_NUMBA and not _geometry_kernels.HAVE_NUMBA
    d = tq.datasets.tianqiao()
    parcels = d.parcels.iloc[::{step}]
    result = process_parcels(parcels, tq.datasets.tianqiao_context(d))
    walk = network.load_network(d.road_network_path, mode="walk")
    ps = acc.snap_points(result.parcels, walk).join(result.parcels[["residents"]])
    fs = acc.snap_points(d.facilities, walk).join(d.facilities[["facility_id", "kind", "capacity"]])
    po, fo = acc.floating_catchment(walk, ps, fs, max_cost_min=15, decay="gaussian", sigma_min=5)
    near = acc.nearest_facility(walk, ps, fs)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})
    with open(sys.argv[1], "wb") as fh:
        pickle.dump((result.parcels.drop(columns="geometry"), po, fo, near, loaded), fh)
    """
)


@pytest.mark.slow
def test_core_runs_without_the_optional_packages(tmp_path, tianqiao):
    """process_parcels and accessibility with numba, dask, psycopg, folium unimportable."""
    step = 8
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER.format(blocked=BLOCKED), encoding="utf-8")
    script = tmp_path / "core.py"
    script.write_text(CORE_RUN.format(step=step, blocked=BLOCKED), encoding="utf-8")
    env = _clean_env() | {"PYTHONPATH": str(blocker)}
    check = "import numba"
    refused = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "blocked" in refused.stderr
    result_file = tmp_path / "core.pkl"
    _run([sys.executable, str(script), str(result_file)], cwd=tmp_path, env=env)
    with result_file.open("rb") as fh:
        parcels, po, fo, near, loaded = pickle.load(fh)
    assert loaded == []

    # the same run here, with numba
    assert _access_kernels.HAVE_NUMBA
    ours = process_parcels(tianqiao.parcels.iloc[::step], tq.datasets.tianqiao_context(tianqiao))
    pd.testing.assert_frame_equal(parcels, ours.parcels.drop(columns="geometry"))
    walk = tq.network.load_network(tianqiao.road_network_path, mode="walk")
    ps = acc.snap_points(ours.parcels, walk).join(ours.parcels[["residents"]])
    fac = tianqiao.facilities
    fs = acc.snap_points(fac, walk).join(fac[["facility_id", "kind", "capacity"]])
    po2, fo2 = acc.floating_catchment(walk, ps, fs, max_cost_min=15, decay="gaussian", sigma_min=5)
    assert po["count_within"].equals(po2["count_within"])
    assert po2["count_within"].sum() > 0
    pd.testing.assert_frame_equal(po, po2, rtol=1e-12, atol=0)
    pd.testing.assert_frame_equal(fo, fo2, rtol=1e-12, atol=0)
    pd.testing.assert_frame_equal(near, acc.nearest_facility(walk, ps, fs))


@pytest.fixture(scope="module")
def snapped(tianqiao):
    walk = tq.network.load_network(tianqiao.road_network_path, mode="walk")
    kept, _ = tq.validate_parcels(tianqiao.parcels)
    ps = acc.snap_points(kept, walk).join(kept[["residents"]])
    fac = tianqiao.facilities
    fs = acc.snap_points(fac, walk).join(fac[["facility_id", "kind", "capacity"]])
    return walk, ps, fs


@pytest.mark.parametrize(
    ("decay", "kwargs"),
    [("none", {}), ("step", {}), ("gaussian", {"sigma_min": 5.0})],
)
def test_catchment_kernels_agree(snapped, monkeypatch, decay, kwargs):
    """numba and scipy catchments on every embedded parcel and facility: equal to 1e-12."""
    walk, ps, fs = snapped
    fast, fast_f = acc.floating_catchment(walk, ps, fs, max_cost_min=15, decay=decay, **kwargs)
    monkeypatch.setattr(_access_kernels, "_catchments", _access_kernels._catchments_scipy)
    slow, slow_f = acc.floating_catchment(walk, ps, fs, max_cost_min=15, decay=decay, **kwargs)
    assert fast["count_within"].equals(slow["count_within"])
    assert fast["count_within"].sum() > len(ps)  # most parcels reach several facilities
    for column in ("supply_within", "access_ratio"):
        np.testing.assert_allclose(slow[column], fast[column], rtol=1e-12, atol=0)
    np.testing.assert_allclose(slow_f["demand_weighted"], fast_f["demand_weighted"], rtol=1e-12)
    assert slow_f["reason"].equals(fast_f["reason"])


def test_label_kernels_agree(snapped, monkeypatch):
    walk, ps, fs = snapped
    fast = acc.nearest_facility(walk, ps, fs)
    monkeypatch.setattr(
        _access_kernels, "_propagate_labels", _access_kernels._propagate_labels_numpy
    )
    slow = acc.nearest_facility(walk, ps, fs)
    pd.testing.assert_frame_equal(fast, slow)
    assert slow.filter(like="_id").notna().to_numpy().mean() > 0.5


def test_geometry_kernels_agree(tianqiao):
    geoms = shapely.get_parts(tianqiao.parcels.geometry.to_numpy())
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    left, right = left[keep], right[keep]
    fast = _geometry_kernels.disjoint_convex(geoms, left, right, use_numba=True)
    slow = _geometry_kernels.disjoint_convex(geoms, left, right, use_numba=False)
    assert np.array_equal(fast, slow)
    assert 0 < fast.sum() < len(fast)
    # what is certified is true: interiors of certified pairs do not meet (GEOS)
    interior = shapely.relate_pattern(geoms[left[fast]], geoms[right[fast]], "T********")
    assert not interior.any()


def test_frozen_tables_pickle_without_a_global_copyreg_entry():
    from tqspatial import distributed, renewal, supply  # noqa: F401 - imported for their effect

    assert types.MappingProxyType not in copyreg.dispatch_table
    for obj in (supply.Capacity(), supply.Phasing(), renewal.RenewalRules()):
        copy = pickle.loads(pickle.dumps(obj))
        proxies = [k for k, v in vars(obj).items() if isinstance(v, types.MappingProxyType)]
        assert proxies, type(obj)
        for name in proxies:
            assert isinstance(getattr(copy, name), types.MappingProxyType)
            assert dict(getattr(copy, name)) == dict(getattr(obj, name))
    with pytest.raises(TypeError):
        pickle.dumps(types.MappingProxyType({}))  # pickling in general is unchanged
