"""Write the committed test fixtures: real file formats, shaped as planners receive them.

Run from the repository root::

    python tests/data/make_fixtures.py

Shapefiles are written byte by byte with :mod:`struct` following the ESRI
Shapefile Technical Description (1998) and the dBASE III table layout, so the
readers are tested on files no GDAL code wrote (an unclosed ring, field names
cut mid-character, a ``.prj`` naming the wrong zone are things GDAL would not
write).  GeoJSON files are written with :mod:`json`.  Coordinates are built in
EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E) around a point about
3 km inside the Tianqiao boundary; longitudes/latitudes come from pyproj.  All
values are invented.  See ``README.md`` in this folder for what each file is.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pyproj

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tqspatial import gcj02  # noqa: E402 - the repository's own published transform

#: A point about 3.4 km inside the Tianqiao boundary, EPSG:4548 metres.
X0, Y0 = 498_000.0, 4_064_000.0

TO_LONLAT = pyproj.Transformer.from_crs(4548, 4326, always_xy=True)

Ring = list[tuple[float, float]]


def rectangle(x0: float, y0: float, x1: float, y1: float) -> Ring:
    """Corners of a rectangle, clockwise (the ring order shapefiles use for outer rings)."""
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


# --------------------------------------------------------------------------- shapefiles


def polygon_record(ring: Ring, *, close: bool = True) -> bytes:
    """Content of one polygon record (shape type 5); ``close=False`` leaves the ring open."""
    points = [*ring, ring[0]] if close else list(ring)
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


def write_shapefile(
    folder: Path,
    stem: str,
    rings: list[Ring],
    fields: list[tuple[bytes, int]],
    rows: list[list[bytes]],
    *,
    open_rings: frozenset[int] = frozenset(),
    prj: str | None = None,
    cpg: str | None = None,
) -> None:
    """Write ``stem``.shp/.shx/.dbf (and .prj/.cpg when given); names and values as raw bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    bbox = (min(xs), min(ys), max(xs), max(ys))
    records = [polygon_record(r, close=i not in open_rings) for i, r in enumerate(rings)]
    shp_body, shx_body, offset = b"", b"", 100
    for number, content in enumerate(records, start=1):
        shp_body += struct.pack(">2i", number, len(content) // 2) + content
        shx_body += struct.pack(">2i", offset // 2, len(content) // 2)
        offset += 8 + len(content)
    (folder / f"{stem}.shp").write_bytes(main_header(100 + len(shp_body), bbox) + shp_body)
    (folder / f"{stem}.shx").write_bytes(main_header(100 + len(shx_body), bbox) + shx_body)
    record_size = 1 + sum(width for _, width in fields)
    header_size = 32 + 32 * len(fields) + 1
    dbf = struct.pack("<B3BIHH", 3, 126, 1, 1, len(rows), header_size, record_size)
    dbf += bytes(20)  # reserved; byte 29 (language driver) stays 0
    for name, width in fields:
        dbf += name.ljust(11, b"\0") + b"C" + bytes(4) + bytes([width, 0]) + bytes(14)
    dbf += b"\r"
    for values in rows:
        dbf += b" " + b"".join(v.ljust(w) for v, (_, w) in zip(values, fields, strict=True))
    dbf += b"\x1a"
    (folder / f"{stem}.dbf").write_bytes(dbf)
    if prj is not None:
        (folder / f"{stem}.prj").write_text(prj, encoding="ascii")
    if cpg is not None:
        (folder / f"{stem}.cpg").write_text(cpg, encoding="ascii")


def esri_wkt(epsg: int) -> str:
    """The .prj text ArcGIS writes for an EPSG code (ESRI WKT1)."""
    return pyproj.CRS.from_epsg(epsg).to_wkt(pyproj.enums.WktVersion.WKT1_ESRI)


def write_gbk_noprj() -> None:
    """``gbk_noprj/宗地``: GBK text and names, no .prj, no .cpg, LDID 0, dirty areas."""
    parcels = [
        ("TQ-001", "070102", "10,000", rectangle(500000, 4060000, 500100, 4060100)),
        ("TQ-002", "1001", "约5000㎡", rectangle(500100, 4060000, 500200, 4060050)),
        ("TQ-003", "090101", "不详", rectangle(500200, 4060000, 500250, 4060100)),
    ]
    remarks = ["泺口片区老旧小区", "药山工业园区厂房", "北园大街商业"]
    fields = [("宗地编号", 10), ("用地性质", 8), ("面积", 12), ("备注", 24)]
    write_shapefile(
        HERE / "gbk_noprj",
        "宗地",
        [ring for *_, ring in parcels],
        [(name.encode("gbk"), width) for name, width in fields],
        [
            [v.encode("gbk") for v in (pid, code, area, remark)]
            for (pid, code, area, _), remark in zip(parcels, remarks, strict=True)
        ],
    )


def write_unclosed_ring() -> None:
    """``unclosed_ring/地块``: the second of three rings is stored without its closing point."""
    rings = [rectangle(X0 + 100 * i, Y0, X0 + 100 * i + 90, Y0 + 60) for i in range(3)]
    write_shapefile(
        HERE / "unclosed_ring",
        "地块",
        rings,
        [(b"DKBH", 10), (b"YDDM", 8)],
        [[f"UR-{i}".encode(), b"070102"] for i in range(3)],
        open_rings=frozenset({1}),
        prj=esri_wkt(4548),
        cpg="UTF-8",
    )


def write_wrong_zone() -> None:
    """``wrong_zone/宗地``: CM 117E coordinates with a .prj naming EPSG:4547 (CM 114E)."""
    rings = [
        rectangle(X0 + 120 * col, Y0 + 80 * row, X0 + 120 * col + 100, Y0 + 80 * row + 70)
        for row in range(3)
        for col in range(4)
    ]
    write_shapefile(
        HERE / "wrong_zone",
        "宗地",
        rings,
        [(b"DKBH", 10), (b"YDDM", 8)],
        [[f"WZ-{i:02d}".encode(), b"070102"] for i in range(len(rings))],
        prj=esri_wkt(4547),
        cpg="UTF-8",
    )


#: Chinese field names longer than a .dbf name's 10 bytes in UTF-8 (3 bytes a character).
CUT_NAMES = ["地块编号", "用地性质", "建成年代", "用地面积"]


def write_utf8_cut_names() -> None:
    """``utf8_cut_names/地块``: UTF-8 names cut at 10 bytes (mid-character), .cpg says UTF-8."""
    rings = [rectangle(X0 + 100 * i, Y0 + 200, X0 + 100 * i + 80, Y0 + 280) for i in range(3)]
    values = [
        ["CN-1", "二类居住用地", "约1990", "6400"],
        ["CN-2", "商业用地", "2005年", "6,400"],
        ["CN-3", "一类工业用地", "不详", "0.64公顷"],
    ]
    write_shapefile(
        HERE / "utf8_cut_names",
        "地块",
        rings,
        [(name.encode("utf-8")[:10], 24) for name in CUT_NAMES],
        [[v.encode("utf-8") for v in row] for row in values],
        prj=esri_wkt(4548),
        cpg="UTF-8",
    )


# --------------------------------------------------------------------------- GeoJSON


def lonlat_ring(ring: Ring, *, forward: object = None) -> list[list[float]]:
    """A closed ring in WGS84 lon/lat (through ``forward`` when given, e.g. to GCJ-02)."""
    xs, ys = np.array([*ring, ring[0]], dtype=float).T
    lon, lat = TO_LONLAT.transform(xs, ys)
    if forward is not None:
        lon, lat = forward(lon, lat)  # type: ignore[operator]
    return [[round(float(a), 9), round(float(b), 9)] for a, b in zip(lon, lat, strict=True)]


def feature(properties: dict[str, object], geometry: dict[str, object]) -> dict[str, object]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path: Path, features: list[dict[str, object]]) -> None:
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def polygon(ring: Ring, **options: object) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [lonlat_ring(ring, **options)]}


def write_case_ids() -> None:
    """``case_ids.geojson``: ids differing only in letter case, as other ids, and a twin."""
    cells = [rectangle(X0 + 100 * i, Y0 - 300, X0 + 100 * i + 90, Y0 - 220) for i in range(4)]
    rows = [
        ("370105-A-033", cells[0]),
        ("370105-a-033", cells[1]),  # same id by case, different parcel: kept as #2
        ("370105-A-034", cells[2]),
        ("370105-a-034", cells[2]),  # same id by case, same geometry: a duplicate
        ("370105-A-035", cells[3]),
    ]
    write_geojson(
        HERE / "case_ids.geojson", [feature({"地块编号": i}, polygon(r)) for i, r in rows]
    )


def write_dirty_values() -> None:
    """``dirty_values.geojson``: declared areas of 0 or less, build years out of range."""
    rows = [
        ("DV-1", "0", "约1985"),
        ("DV-2", "-25", "2035"),  # a year in the future
        ("DV-3", "0.0平方米", "1750"),  # before 1800
        ("DV-4", "5600", "1990年代"),
        ("DV-5", "5,600", "1998"),
    ]
    cells = [rectangle(X0 + 100 * i, Y0 - 600, X0 + 100 * i + 80, Y0 - 530) for i in range(5)]
    write_geojson(
        HERE / "dirty_values.geojson",
        [
            feature({"宗地编号": pid, "用地面积": area, "建成年代": year}, polygon(cell))
            for (pid, area, year), cell in zip(rows, cells, strict=True)
        ],
    )


def write_names_english() -> None:
    """``names_english.geojson``: English field names, GB 50137 land-use names."""
    rows = [
        ("EN-1", "二类居住用地", 1988, 1.8, 7200.0),
        ("EN-2", "商业用地", 2012, 3.5, 7200.0),
        ("EN-3", "一类工业用地", 2001, 0.9, 7200.0),
        ("EN-4", "R2", 1995, 2.0, 7200.0),
        ("EN-5", "公园绿地", None, None, 7200.0),
    ]
    cells = [rectangle(X0 + 100 * i, Y0 - 900, X0 + 100 * i + 90, Y0 - 820) for i in range(5)]
    write_geojson(
        HERE / "names_english.geojson",
        [
            feature(
                {"parcel_no": pid, "landuse": use, "built_year": year, "FAR": far, "area_m2": m2},
                polygon(cell),
            )
            for (pid, use, year, far, m2), cell in zip(rows, cells, strict=True)
        ],
    )


#: Blocks of the web-map fixture: 4 x 4 blocks of 140 m between 20 m wide roads, in a street
#: grid reaching 6 blocks further on every side (about 1 km: more than the web-map shift).
BLOCK_M, ROAD_M, BLOCKS, ROAD_BLOCKS = 140.0, 20.0, 4, 6


def write_gcj02_shift() -> None:
    """``gcj02_shift/``: parcels in GCJ-02 lon/lat saved as plain GeoJSON, and WGS84 roads.

    The parcels are the blocks between the roads, well inside the district, so none
    spills over the boundary; only the roads show the ~0.5 km web-map shift.
    """
    folder = HERE / "gcj02_shift"
    folder.mkdir(exist_ok=True)
    pitch = BLOCK_M + ROAD_M
    x0, y0 = X0 - 1000.0, Y0 + 600.0
    parcels = []
    for row in range(BLOCKS):
        for col in range(BLOCKS):
            bx, by = x0 + ROAD_M / 2 + col * pitch, y0 + ROAD_M / 2 + row * pitch
            # each block is two parcels side by side
            for half in range(2):
                left = bx + half * BLOCK_M / 2
                ring = rectangle(left, by, left + BLOCK_M / 2, by + BLOCK_M)
                pid = f"GJ-{row}{col}{half}"
                parcels.append(
                    feature({"地块编号": pid}, polygon(ring, forward=gcj02.wgs84_to_gcj02))
                )
    write_geojson(folder / "parcels_gcj02.geojson", parcels)
    roads = []  # the street grid goes on for ROAD_BLOCKS blocks around the parcels
    lo, hi = -ROAD_BLOCKS * pitch, (BLOCKS + ROAD_BLOCKS) * pitch
    for k in range(-ROAD_BLOCKS, BLOCKS + ROAD_BLOCKS + 1):
        for line in (
            [(x0 + k * pitch, y0 + lo), (x0 + k * pitch, y0 + hi)],
            [(x0 + lo, y0 + k * pitch), (x0 + hi, y0 + k * pitch)],
        ):
            xs, ys = np.array(line).T
            lon, lat = TO_LONLAT.transform(xs, ys)
            coords = [
                [round(float(a), 9), round(float(b), 9)] for a, b in zip(lon, lat, strict=True)
            ]
            roads.append(
                feature({"highway": "residential"}, {"type": "LineString", "coordinates": coords})
            )
    write_geojson(folder / "roads_wgs84.geojson", roads)


def write_metres_as_degrees() -> None:
    """``metres_no_crs.geojson``: Gauss-Kruger metres in a GeoJSON (which means lon/lat)."""
    ring = [[X0, Y0], [X0 + 50, Y0], [X0 + 50, Y0 + 50], [X0, Y0 + 50], [X0, Y0]]
    write_geojson(
        HERE / "metres_no_crs.geojson",
        [feature({"地块编号": "MD-1"}, {"type": "Polygon", "coordinates": [ring]})],
    )


def main() -> None:
    """Write every fixture."""
    write_gbk_noprj()
    write_unclosed_ring()
    write_wrong_zone()
    write_utf8_cut_names()
    write_case_ids()
    write_dirty_values()
    write_names_english()
    write_gcj02_shift()
    write_metres_as_degrees()


if __name__ == "__main__":
    main()
