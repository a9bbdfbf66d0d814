"""Build the small real-shaped example: a GBK shapefile with Chinese field names and no .cpg.

Run from the repository root::

    python data/examples/make_example.py

It cuts the parcels around the Luokou area (泺口片区) out of the embedded synthetic
parcels (``tqspatial/datasets/data/parcels.gpkg``), gives them the Chinese field names and the dirty
values Chinese land data usually has, and writes them the way many Chinese GIS
desktops do: EPSG:4527 (CGCS2000 3-degree zone 39 *with* the zone number in the
easting), attribute text in GBK, no ``.cpg`` file and a zero code-page byte (LDID)
in the ``.dbf`` header.  The data are synthetic; the script is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[2]
NAME = "天桥区地块示例"
OUT = Path(__file__).resolve().parent / NAME
#: Luokou area centre (tianqiao_anchors.csv, row "luokou"), WGS84 lon/lat.
LUOKOU = (116.990, 36.715)
#: Half-width of the square cut around it, metres.
HALF_WIDTH_M = 420.0
#: Byte 29 of a dBASE header: the language driver id (0 = not set).
LDID_OFFSET = 29


def build() -> Path:
    """Write the example shapefile and return the path of its ``.shp``."""
    parcels = pyogrio.read_dataframe(ROOT / "tqspatial" / "datasets" / "data" / "parcels.gpkg")
    x, y = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(*LUOKOU)
    window = box(x - HALF_WIDTH_M, y - HALF_WIDTH_M, x + HALF_WIDTH_M, y + HALF_WIDTH_M)
    cut = parcels[parcels.geometry.centroid.within(window)].sort_values("parcel_id")
    cut = cut.reset_index(drop=True)
    area = cut.geometry.area.round(1)
    # Dirty values as found in real tables, at fixed rows so the example is reproducible.
    area_text = [f"{a:.1f}" for a in area]
    for row in range(0, len(cut), 9):
        area_text[row] = f"{area[row]:,.1f}"
    for row in range(4, len(cut), 13):
        area_text[row] = f"{area[row]:.1f}㎡"
    area_text[len(cut) // 2] = "不详"
    years = ["" if pd.isna(y) else str(int(y)) for y in cut["build_year"]]
    for row in range(3, len(cut), 11):
        years[row] = f"约{years[row]}" if years[row] else "不详"
    years[1] = "1990年代"
    out = gpd.GeoDataFrame(
        {
            "地块编号": cut["parcel_id"],
            "用地代码": cut["landuse_code"],
            "面积": area_text,
            "建成年代": years,
            "容积率": cut["far"],
            "建筑密度": cut["coverage"],
            "人口": cut["residents"],
            "备注": ["泺口片区合成数据，仅供演示"] * len(cut),
        },
        geometry=cut.geometry.values,
        crs=parcels.crs,
    ).to_crs("EPSG:4527")
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob(NAME + ".*"):
        old.unlink()
    shp = OUT / f"{NAME}.shp"
    pyogrio.write_dataframe(out, shp, encoding="GBK")
    (OUT / f"{NAME}.cpg").unlink()
    dbf = OUT / f"{NAME}.dbf"
    raw = bytearray(dbf.read_bytes())
    raw[LDID_OFFSET] = 0
    raw[1:4] = bytes([126, 1, 1])  # fixed "last update" date (2026-01-01): byte-identical reruns
    dbf.write_bytes(bytes(raw))
    return shp


if __name__ == "__main__":
    build()
