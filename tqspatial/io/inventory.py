"""Published inventories and change reports: read a refresh's output, write a comparison."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from tqspatial.changes import InventoryChanges, InventorySnapshot
from tqspatial.errors import DataFileError
from tqspatial.io.vectors import read_vector
from tqspatial.io.writers import write_csv, write_geoparquet, write_text

__all__ = [
    "CHANGE_FILES",
    "INVENTORY_FILES",
    "read_inventory",
    "write_changes",
]

logger = logging.getLogger(__name__)

INVENTORY_FILES = {
    "parcels": "parcels.parquet",
    "ledger": "renewal_ledger.csv",
    "cluster_supply": "cluster_supply.csv",
    "access_clusters": "accessibility_clusters.csv",
    "manifest": "manifest.json",
}

#: Files written by :func:`write_changes`.
CHANGE_FILES = {
    "parcels": "changes.parquet",
    "parcels_csv": "changes.csv",
    "clusters": "changes_clusters.csv",
    "access": "changes_access.csv",
    "summary": "changes.md",
}


#: Files named in the message about a folder that is not an inventory.
_LISTED = 8


def _not_an_inventory(path: Path, problem: str) -> DataFileError:
    return DataFileError(
        f"{path} is not a tqspatial inventory: {problem}. Expected a folder written by "
        f"`tqspatial refresh` (with {INVENTORY_FILES['parcels']}, and usually "
        f"{INVENTORY_FILES['ledger']} and {INVENTORY_FILES['manifest']}) or a GeoParquet parcel "
        "file; pass one of those."
    )


def _read_table_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        msg = f"cannot read {path}: {exc}; the table is damaged or not a UTF-8 CSV"
        raise DataFileError(msg) from exc


def read_inventory(path: str | os.PathLike[str]) -> InventorySnapshot:
    """Read a published inventory (a refresh's output folder, or a parcel GeoParquet file).

    Parameters
    ----------
    path : str or os.PathLike
        A folder holding ``parcels.parquet`` and, when present,
        ``renewal_ledger.csv``, ``cluster_supply.csv``,
        ``accessibility_clusters.csv`` and ``manifest.json``
        (:data:`INVENTORY_FILES`); or a ``.parquet`` / ``.geoparquet`` file
        of parcels (then only the parcels are known).

    Returns
    -------
    tqspatial.changes.InventorySnapshot
        Parcels in the working CRS, the tables found (None for the others),
        the manifest (empty when absent) and the path as label.

    Raises
    ------
    DataFileError
        If the path does not exist, is a folder without ``parcels.parquet``,
        a file of another kind, a damaged file, or parcels without a
        ``parcel_id`` column.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 1, 1)],
    ...                            crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_geoparquet(Path(d) / "parcels.parquet", parcels)
    ...     inventory = read_inventory(d)
    >>> len(inventory.parcels), inventory.ledger is None
    (1, True)
    """
    path = Path(path)
    if not path.exists():
        raise _not_an_inventory(path, "it does not exist")
    folder: Path | None = None
    if path.is_dir():
        folder = path
        parcels_path = path / INVENTORY_FILES["parcels"]
        if not parcels_path.is_file():
            found = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
            shown = ", ".join(found[:_LISTED]) + (" ..." if len(found) > _LISTED else "")
            raise _not_an_inventory(
                path, f"it has no {INVENTORY_FILES['parcels']} (it holds {shown or 'nothing'})"
            )
    elif path.suffix.lower() in {".parquet", ".geoparquet"}:
        parcels_path = path
    else:
        raise _not_an_inventory(path, f"a {path.suffix or 'suffix-less'} file")
    parcels = read_vector(parcels_path, what="inventory parcels")
    if "parcel_id" not in parcels.columns:
        columns = [str(c) for c in parcels.columns][:12]
        raise _not_an_inventory(parcels_path, f"its parcels have no parcel_id column ({columns})")
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("ledger", "cluster_supply", "access_clusters"):
        table = folder / INVENTORY_FILES[name] if folder is not None else None
        tables[name] = _read_table_csv(table) if table is not None and table.is_file() else None
    manifest: dict[str, Any] = {}
    if folder is not None and (folder / INVENTORY_FILES["manifest"]).is_file():
        manifest_path = folder / INVENTORY_FILES["manifest"]
        try:
            manifest = dict(json.loads(manifest_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            msg = f"cannot read {manifest_path}: {exc}; the manifest is damaged"
            raise DataFileError(msg) from exc
    logger.info(
        "inventory %s: %d parcels; %s",
        path,
        len(parcels),
        ", ".join(n for n, t in tables.items() if t is not None) or "no tables",
    )
    return InventorySnapshot(
        parcels=parcels,
        ledger=tables["ledger"],
        cluster_supply=tables["cluster_supply"],
        access_clusters=tables["access_clusters"],
        manifest=manifest,
        label=str(path),
    )


def write_changes(out_dir: str | os.PathLike[str], changes: InventoryChanges) -> list[Path]:
    """Write a change report: the change table (GeoParquet and CSV), cluster deltas, summary.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder (created if needed); files of an earlier report are replaced.
    changes : tqspatial.changes.InventoryChanges
        Output of :func:`tqspatial.changes.compare_inventories`.

    Returns
    -------
    list of pathlib.Path
        The files written (:data:`CHANGE_FILES`): ``changes.parquet``,
        ``changes.csv``, ``changes_clusters.csv``, ``changes_access.csv`` and
        ``changes.md`` (the Markdown summary).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> from tqspatial.changes import compare_inventories
    >>> old = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     written = write_changes(d, compare_inventories(old, old.iloc[:0]))
    ...     removed = gpd.read_parquet(Path(d) / "changes.parquet")["removed"].tolist()
    >>> [p.name for p in written][:2], removed
    (['changes.parquet', 'changes.csv'], [True])
    """
    out = Path(out_dir)
    names = CHANGE_FILES
    return [
        write_geoparquet(out / names["parcels"], changes.parcels),
        write_csv(out / names["parcels_csv"], changes.parcels),
        write_csv(out / names["clusters"], changes.clusters),
        write_csv(out / names["access"], changes.access),
        write_text(out / names["summary"], changes.summary),
    ]
