"""Write the committed test fixtures byte by byte, without GDAL.

Run from the repository root::

    python tests/data/make_fixtures.py

``gbk_noprj/宗地.shp`` (+ ``.shx``, ``.dbf``): three polygons in EPSG:4548
coordinates, **no .prj, no .cpg, language-driver byte 0**, Chinese field
names and values in GBK, written with :mod:`struct` following the ESRI
Shapefile Technical Description (1998) and the dBASE III table layout, so the
reader is tested on a file no GDAL code wrote.  Values are invented.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDER = HERE / "gbk_noprj"
STEM = "宗地"


def rectangle(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Corners of a rectangle, clockwise (the ring order shapefiles use for outer rings)."""
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


#: (宗地编号, 用地性质, 面积 as text, ring).
PARCELS = [
    ("TQ-001", "070102", "10,000", rectangle(500000, 4060000, 500100, 4060100)),
    ("TQ-002", "1001", "约5000㎡", rectangle(500100, 4060000, 500200, 4060050)),
    ("TQ-003", "090101", "不详", rectangle(500200, 4060000, 500250, 4060100)),
]
#: Chinese values for the 备注 field, to exercise GBK text beyond field names.
REMARKS = ["泺口片区老旧小区", "药山工业园区厂房", "北园大街商业"]
FIELDS = [("宗地编号", 10), ("用地性质", 8), ("面积", 12), ("备注", 24)]


def polygon_record(ring: list[tuple[int, int]]) -> bytes:
    """Content of one polygon record (shape type 5), the ring closed."""
    points = [*ring, ring[0]]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    content = struct.pack("<i4d", 5, min(xs), min(ys), max(xs), max(ys))
    content += struct.pack("<2i", 1, len(points)) + struct.pack("<i", 0)
    for x, y in points:
        content += struct.pack("<2d", x, y)
    return content


def main_header(length_bytes: int, bbox: tuple[float, float, float, float]) -> bytes:
    head = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_bytes // 2)
    return head + struct.pack("<2i", 1000, 5) + struct.pack("<4d", *bbox) + bytes(32)


def write() -> None:
    """Write the .shp, .shx and .dbf."""
    FOLDER.mkdir(exist_ok=True)
    xs = [x for *_, ring in PARCELS for x, _ in ring]
    ys = [y for *_, ring in PARCELS for _, y in ring]
    bbox = (min(xs), min(ys), max(xs), max(ys))
    records = [polygon_record(ring) for *_, ring in PARCELS]
    shp_body, shx_body, offset = b"", b"", 100
    for number, content in enumerate(records, start=1):
        shp_body += struct.pack(">2i", number, len(content) // 2) + content
        shx_body += struct.pack(">2i", offset // 2, len(content) // 2)
        offset += 8 + len(content)
    (FOLDER / f"{STEM}.shp").write_bytes(main_header(100 + len(shp_body), bbox) + shp_body)
    (FOLDER / f"{STEM}.shx").write_bytes(main_header(100 + len(shx_body), bbox) + shx_body)

    record_size = 1 + sum(width for _, width in FIELDS)
    header_size = 32 + 32 * len(FIELDS) + 1
    dbf = struct.pack("<B3BIHH", 3, 126, 1, 1, len(PARCELS), header_size, record_size)
    dbf += bytes(20)  # reserved; byte 29 (language driver) stays 0
    for name, width in FIELDS:
        dbf += name.encode("gbk").ljust(11, b"\0") + b"C" + bytes(4) + bytes([width, 0]) + bytes(14)
    dbf += b"\r"
    for (pid, code, area, _), remark in zip(PARCELS, REMARKS, strict=True):
        values = [pid, code, area, remark]
        dbf += b" " + b"".join(
            v.encode("gbk").ljust(width) for v, (_, width) in zip(values, FIELDS, strict=True)
        )
    dbf += b"\x1a"
    (FOLDER / f"{STEM}.dbf").write_bytes(dbf)


if __name__ == "__main__":
    write()
