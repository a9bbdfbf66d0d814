"""Deterministic synthetic parcel layers of any size, for benchmarks.

``synth_parcels(n, bounds)`` tiles a rectangle with ``n`` jittered quadrilaterals
(a grid whose shared vertices are moved at random, so neighbours still meet
edge to edge: no gaps, no overlaps).  Everything is vectorised (one
``shapely.polygons`` call), so a million parcels take a few seconds.  The same
``n``, ``bounds`` and ``seed`` always give the same layer.

Run ``python benchmarks/synth_parcels.py 100000 out.parquet`` to write one.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import shapely

#: Land-use categories drawn for the ``landuse_category`` column (names as in tqspatial.landuse).
CATEGORIES = ("residential", "industrial", "commercial", "public_service", "green_open", "other")

#: Vertices move at most this fraction of the cell size along each axis; below 0.25 every
#: quadrilateral stays simple (no self-intersection).
JITTER = 0.2


def synth_parcels(
    n: int,
    bounds: tuple[float, float, float, float] = (482_000.0, 4_054_000.0, 500_000.0, 4_073_000.0),
    *,
    seed: int = 20261124,
    jitter: float = JITTER,
    crs: str = "EPSG:4548",
) -> gpd.GeoDataFrame:
    """Return ``n`` jittered-grid parcels covering (about) ``bounds``.

    The cell size is ``sqrt(width * height / n)``; rows are filled from the
    south, so the last row may be partial and reach a little past the top.
    Columns: ``parcel_id`` (``S0000000`` ...), ``landuse_category`` (random
    from :data:`CATEGORIES`), ``area_m2``.  The default bounds are roughly the
    Tianqiao District in EPSG:4548.
    """
    if n < 0:
        msg = f"n must be >= 0, got {n}"
        raise ValueError(msg)
    if not 0 <= jitter < 0.25:
        msg = f"jitter must be in [0, 0.25), got {jitter}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = bounds
    size = math.sqrt((xmax - xmin) * (ymax - ymin) / max(n, 1))
    nx = max(1, math.ceil((xmax - xmin) / size))
    ny = max(1, math.ceil(n / nx))
    gx, gy = np.meshgrid(xmin + size * np.arange(nx + 1), ymin + size * np.arange(ny + 1))
    gx = gx + rng.uniform(-jitter, jitter, gx.shape) * size
    gy = gy + rng.uniform(-jitter, jitter, gy.shape) * size
    row, col = np.divmod(np.arange(n), nx)
    corners = [(row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col), (row, col)]
    coords = np.stack([np.stack([gx[r, c], gy[r, c]], axis=-1) for r, c in corners], axis=1)
    geoms = shapely.polygons(coords)
    return gpd.GeoDataFrame(
        {
            "parcel_id": np.char.add("S", np.char.zfill(np.arange(n).astype(str), 7)),
            "landuse_category": np.asarray(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
            "area_m2": shapely.area(geoms),
        },
        geometry=geoms,
        crs=crs,
    )


def synth_bands(
    n: int,
    bounds: tuple[float, float, float, float] = (482_000.0, 4_054_000.0, 500_000.0, 4_073_000.0),
    *,
    seed: int = 20261124,
    jitter: float = JITTER,
    band_rows: int = 200,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield the same kind of tiling as :func:`synth_parcels`, band of grid rows by band.

    Memory is one band, whatever ``n``: each row of grid vertices draws its jitter from
    its own generator (``seed``, row number), so two bands share their border exactly.
    Yields ``(first global cell number, polygons)``; cells are numbered row by row.
    """
    if not 0 <= jitter < 0.25:
        msg = f"jitter must be in [0, 0.25), got {jitter}"
        raise ValueError(msg)
    xmin, ymin, xmax, ymax = bounds
    size = math.sqrt((xmax - xmin) * (ymax - ymin) / max(n, 1))
    nx = max(1, math.ceil((xmax - xmin) / size))
    ny = max(1, math.ceil(n / nx))

    def vertices(row: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, row])
        jx = rng.uniform(-jitter, jitter, nx + 1) * size
        jy = rng.uniform(-jitter, jitter, nx + 1) * size
        return xmin + size * np.arange(nx + 1) + jx, ymin + size * row + jy

    for r0 in range(0, ny, band_rows):
        r1 = min(r0 + band_rows, ny)
        rows = [vertices(v) for v in range(r0, r1 + 1)]
        gx = np.stack([x for x, _ in rows])
        gy = np.stack([y for _, y in rows])
        first = r0 * nx
        count = min(n, r1 * nx) - first
        row, col = np.divmod(np.arange(count), nx)
        corners = [(row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col), (row, col)]
        coords = np.stack([np.stack([gx[r, c], gy[r, c]], axis=-1) for r, c in corners], axis=1)
        yield first, shapely.polygons(coords)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    layer = synth_parcels(count)
    if len(sys.argv) > 2:
        layer.to_parquet(sys.argv[2])
    print(f"{len(layer)} parcels, {layer.area.sum() / 1e6:.1f} km², valid: {layer.is_valid.all()}")
