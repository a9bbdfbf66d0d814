"""Web-map coordinates: GCJ-02 (Amap, Tencent, Google China) and BD-09 (Baidu).

Chinese web maps publish lon/lat obfuscated by the GCJ-02 forward transform,
an offset of a few hundred metres (about 0.5 km at Tianqiao) that varies
smoothly with position.  BD-09 adds Baidu's own offset on top of GCJ-02
(about 1.3 km in total at Tianqiao).  Neither is a datum; no EPSG code or
PROJ pipeline exists, so the inverse is computed here by fixed-point
iteration of the published forward formulas until the forward image matches
the input to 1e-10 degrees (about 0.01 mm).

The forward transform is only defined inside China's rough bounding box
(:data:`CHINA_BOUNDS`); outside it, coordinates are returned unchanged, as the
web maps do.

All functions take and return NumPy arrays of longitudes and latitudes in
degrees.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "CHINA_BOUNDS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Array = npt.NDArray[np.float64]

#: (min lon, min lat, max lon, max lat) inside which GCJ-02 offsets apply.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

#: Krasovsky 1940 semi-major axis (m) and first eccentricity squared used by GCJ-02.
_A = 6378245.0
_EE = 0.00669342162296594323
#: Baidu's angular constant (radians per degree times 3000).
_X_PI = np.pi * 3000.0 / 180.0
#: Stop iterating when the forward image is this close to the target (degrees).
_TOLERANCE_DEG = 1e-10
#: Baidu's constant shift (degrees) applied after its rotation/scaling.
_BD_DLON, _BD_DLAT = 0.0065, 0.006
_MAX_ITERATIONS = 30


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _in_china(lon: Array, lat: Array) -> npt.NDArray[np.bool_]:
    west, south, east, north = CHINA_BOUNDS
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _offset_deg(lon: Array, lat: Array) -> tuple[Array, Array]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 ``lon``, ``lat``."""
    x = lon - 105.0
    y = lat - 35.0
    root = np.sqrt(np.abs(x))
    wave = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + wave
    dlat += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + wave
    dlon += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    # The offsets above are in metres-like units on the Krasovsky ellipsoid; turn them into degrees.
    phi = np.radians(lat)
    w = 1.0 - _EE * np.sin(phi) ** 2
    meridian_radius = _A * (1.0 - _EE) / (w * np.sqrt(w))
    parallel_radius = _A / np.sqrt(w) * np.cos(phi)
    inside = _in_china(lon, lat)
    dlat_deg = np.where(inside, np.degrees(dlat / meridian_radius), 0.0)
    dlon_deg = np.where(inside, np.degrees(dlon / parallel_radius), 0.0)
    return dlon_deg, dlat_deg


def _invert(
    forward: Callable[[npt.ArrayLike, npt.ArrayLike], tuple[Array, Array]],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    shift: tuple[float, float],
) -> tuple[Array, Array]:
    """Solve ``forward(x) == (lon, lat)`` by fixed-point iteration from ``(lon, lat) - shift``.

    The forward transforms are close to a translation (Jacobian near the
    identity), so subtracting the residual converges in a few steps.
    """
    target_lon, target_lat = _as_arrays(lon, lat)
    out_lon, out_lat = target_lon - shift[0], target_lat - shift[1]
    for _ in range(_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(out_lon, out_lat)
        err_lon, err_lat = fwd_lon - target_lon, fwd_lat - target_lat
        out_lon = out_lon - err_lon
        out_lat = out_lat - err_lat
        worst = max(
            np.nanmax(np.abs(err_lon), initial=0.0), np.nanmax(np.abs(err_lat), initial=0.0)
        )
        if not worst > _TOLERANCE_DEG:
            break
    return out_lon, out_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Apply the published GCJ-02 forward transform.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, degrees (unchanged outside China).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410244, 39.916404)
    """
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _offset_deg(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Invert GCJ-02 by fixed-point iteration of the forward transform.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude, degrees; the forward transform of the
        result reproduces the input to 1e-10 degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(117.0, 36.7))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.0, 36.7)
    """
    return _invert(wgs84_to_gcj02, lon, lat, shift=(0.0, 0.0))


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Apply Baidu's published BD-09 offset to GCJ-02 coordinates.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410369, 39.921337)
    """
    x, y = _as_arrays(lon, lat)
    radius = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    angle = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return radius * np.cos(angle) + _BD_DLON, radius * np.sin(angle) + _BD_DLAT


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Invert the BD-09 offset by fixed-point iteration.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(117.0, 36.7))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.0, 36.7)
    """
    return _invert(gcj02_to_bd09, lon, lat, shift=(_BD_DLON, _BD_DLAT))


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Apply GCJ-02 then BD-09 to WGS84 coordinates.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(117.0, 36.7)
    >>> bool(lon > 117.0 and lat > 36.7)
    True
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Invert BD-09 then GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(117.0, 36.7))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.0, 36.7)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
