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
