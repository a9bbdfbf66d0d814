"""The public surface and the architecture rules."""

import shutil
import subprocess
import sys
from pathlib import Path

import tqspatial as tq


def test_public_api_is_pinned():
    assert sorted(tq.__all__) == [
        "DataQualityWarning",
        "ParcelContext",
        "PlanStructure",
        "TqspatialError",
        "assign_parcels",
        "classify_landuse",
        "compare_inventories",
        "compare_scenarios",
        "datasets",
        "enable_logging",
        "get_settings",
        "io",
        "landuse",
        "override",
        "process_parcels",
        "quality",
        "refresh",
        "renewal_supply",
        "summarise_clusters",
        "validate_parcels",
    ]


def test_import_layers_hold():
    root = Path(__file__).resolve().parent.parent
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a test dependency"
    done = subprocess.run(
        [exe, str(root / "setup.cfg")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower() or "0 broken" in done.stdout.lower()


def test_package_adds_only_a_null_handler():
    import logging

    handlers = logging.getLogger("tqspatial").handlers
    assert all(
        isinstance(h, logging.NullHandler) or getattr(h, "_tqspatial", False) for h in handlers
    )


#: Heavy or optional packages `import tqspatial` must not load (they load with the feature).
LAZY = (
    "numba",
    "matplotlib",
    "osmnx",
    "networkx",
    "scipy.sparse.csgraph",
    "rasterio",
    "folium",
    "psycopg",
    "dask",
    "tqspatial.pipeline",
)


def test_import_is_lean_and_refresh_still_reachable():
    code = (
        "import sys, tqspatial as tq; "
        f"print([m for m in {list(LAZY)!r} if m in sys.modules]); "
        "tq.refresh; print('tqspatial.pipeline' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    loaded, after = done.stdout.splitlines()
    assert loaded == "[]"
    assert after == "True"  # the lazy attribute imports the batch job on first use


def test_a_missing_extra_is_named():
    code = (
        "import sys; sys.modules['folium'] = None; "
        "import tqspatial.maps as m\n"
        "try:\n    m.make_webmap(m.layers.toy_layers())\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("MissingDependencyError the web map needs the optional package")
    assert "pip install 'tqspatial[web]'" in done.stdout


def test_every_module_is_in_the_layer_contract():
    import configparser
    import pkgutil

    root = Path(__file__).resolve().parent.parent
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg", encoding="utf-8")
    listed = {
        name.strip()
        for line in config["importlinter:contract:layers"]["layers"].splitlines()
        for name in line.split("|")
        if name.strip()
    }
    modules = {
        f"tqspatial.{info.name}"
        for info in pkgutil.iter_modules(tq.__path__)
        if info.name not in {"__main__"}
    }
    assert sorted(modules - listed) == []
