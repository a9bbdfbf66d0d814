"""Coordinate reference systems: recognise, resolve and reproject into the working CRS.

Areas and distances are computed in the working CRS,
``tqspatial.settings.get_settings().working_crs``: by default EPSG:4548 (CGCS2000
3-degree Gauss-Krueger, central meridian 117E, metres), Tianqiao's zone.  For
Tianqiao it is not EPSG:4527 (the same zone with ``39`` prefixed to eastings)
and not EPSG:4547 (central meridian 114E, a common mix-up that moves Tianqiao
data about 270 km).  Every function here that takes ``working_crs`` reads the
setting when it is not given.  ``WORKING_CRS`` is :data:`tqspatial.settings.WORKING_CRS`
(the default, and the CRS the embedded Tianqiao files are built in), re-exported for the
dataset builders; generic code never uses it as a default.

:func:`resolve_crs` is what the readers call.  It decides the source CRS in
this order and always records what it decided (a note, see
:mod:`tqspatial.quality`, and the log):

1. ``source_crs="gcj02"`` or ``"bd09"``: web-map lon/lat, converted to WGS84
   with :mod:`tqspatial.gcj02` (cannot be detected from a file, so only when
   declared; :func:`check_webmap_offset` warns when a layer looks like it).
2. Any other ``source_crs``: taken as given, overriding a declared CRS (with
   a warning note when they differ).
3. The CRS declared by the file.
4. No CRS: :func:`infer_crs` from the coordinates, only when unambiguous:

   - lon/lat inside China: WGS84 (EPSG:4326; CGCS2000 lon/lat, EPSG:4490,
     differs by less than a metre);
   - the same with latitude first (x in 18-54, y in 73-135): axes swapped;
   - eastings with a zone prefix (``39xxxxxx``): CGCS2000 3-degree zones
     25-45 (EPSG:4513-4533) or 6-degree zones 13-23 (EPSG:4491-4501);
   - eastings without a prefix (``3xxxxx``-``6xxxxx``): the zone cannot be
     read from the numbers, so the working CRS is assumed only when it is
     itself a CGCS2000 Gauss-Krueger CRS without zone prefix (the working
     area says which central meridian); otherwise :class:`CRSError`.

   **Datum rule.**  CGCS2000, Xian 1980 and Beijing 1954 Gauss-Krueger
   coordinates look alike.  A layer without a CRS is assumed to be CGCS2000,
   the national standard since 2008, with a warning-level note that Xian 1980
   or Beijing 1954 data would be misplaced by tens of metres to about 100 m,
   and that ``source_crs`` fixes it.

Latitude/longitude given in swapped order is fixed for any geographic
source CRS.  Converting Xian 1980 or Beijing 1954 to CGCS2000 uses PROJ's
"ballpark" transformation (no published grid or parameters), so it raises a
:class:`~tqspatial.errors.DataQualityWarning` stating the uncertainty.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import pyproj.database
import pyproj.enums
import shapely
from pyproj.transformer import TransformerGroup

from tqspatial import gcj02
from tqspatial.errors import CRSError, DataQualityWarning
from tqspatial.quality import note
from tqspatial.settings import WORKING_CRS, get_settings

__all__ = [
    "WEBMAP_CRS",
    "WORKING_CRS",
    "CRSGuess",
    "check_crs_fit",
    "check_webmap_offset",
    "gk_crs",
    "gk_equivalent",
    "infer_crs",
    "resolve_crs",
    "to_working_crs",
]

logger = logging.getLogger(__name__)

#: Names accepted for web-map coordinates in ``source_crs`` (case, ``-`` and ``_`` ignored).
WEBMAP_CRS = ("gcj02", "bd09")
_WEBMAP_LABEL = {"gcj02": "GCJ-02", "bd09": "BD-09"}

#: Plausible longitudes / latitudes (degrees) for data in China.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
#: Ranges that reveal latitude given first: x in SWAPPED_X and y in SWAPPED_Y.
SWAPPED_X = (18.0, 54.0)
SWAPPED_Y = (73.0, 135.0)
#: Gauss-Krueger eastings without zone prefix (m): a 6-degree zone at 18N spans about +-320 km.
GK_EASTING = (150_000.0, 850_000.0)
#: Gauss-Krueger northings plausible for China (m), about 3N to 54N.
GK_NORTHING = (300_000.0, 6_100_000.0)

#: Displacement left by PROJ's ballpark shift from these datums to CGCS2000.
DATUM_UNCERTAINTY = {
    "Xian 1980": "tens of metres (up to about 100 m)",
    "Beijing 1954": "tens of metres to about 100 m or more",
}

#: Fraction of features that must lie outside the boundary before a web-map offset is suspected.
WEBMAP_MIN_OUTSIDE = 0.02
#: Undoing the offset must cut the outside fraction by at least this factor.
WEBMAP_IMPROVEMENT = 2.0
#: Fewest features for :func:`check_webmap_offset` to judge (and parcels crossed by lines).
WEBMAP_MIN_FEATURES = 10
#: Features sampled (evenly, deterministically) by the spill test of :func:`check_webmap_offset`.
WEBMAP_SAMPLE = 20_000
#: Parcels near the reference lines sampled by the line test of :func:`check_webmap_offset`.
WEBMAP_LINE_SAMPLE = 5_000
#: Parcels within this distance (m) of the reference lines are tested (BD-09 moves ~1.3 km).
WEBMAP_NEAR_M = 2_000.0
#: A line within this distance (m) of a parcel's edge runs along it, not through it.
WEBMAP_EDGE_TOLERANCE_M = 5.0

#: :func:`check_crs_fit` looks for another CRS when at most this share of features is inside.
CRS_FIT_MAX_INSIDE = 0.05
#: ... and names the CRS that puts at least this share inside.
CRS_FIT_MIN_INSIDE = 0.5
#: Features sampled (evenly, deterministically) by :func:`check_crs_fit`.
CRS_FIT_SAMPLE = 2_000

Bounds = tuple[float, float, float, float]

#: Multiplier of the zone number prefixed to Gauss-Krueger eastings (m).
ZONE_FACTOR_M = 1_000_000.0
#: CGCS2000 3-degree zones 25-45 with zone number: EPSG:4513-4533.
ZONES_3DEG = (25, 45, 4513)
#: CGCS2000 6-degree zones 13-23 with zone number: EPSG:4491-4501.
ZONES_6DEG = (13, 23, 4491)
#: EPSG ranges of CGCS2000 Gauss-Krueger CRSs without zone number (6-degree, 3-degree).
CGCS2000_GK_CM_EPSG = ((4502, 4512), (4534, 4554))
#: Datums of the Gauss-Krueger CRSs used in China, current first.
GK_DATUMS = ("CGCS2000", "Xian 1980", "Beijing 1954")


@dataclasses.dataclass(frozen=True)
class CRSGuess:
    """A CRS inferred from coordinates.

    Attributes
    ----------
    crs : pyproj.CRS
        The CRS assumed.
    reason : str
        One sentence saying why, for the note and the log.
    swap_axes : bool
        True when x holds latitudes and y longitudes (fix by swapping).
    severity : str
        ``"warning"`` when the guess involves an unverifiable assumption
        (datum, central meridian, axis order), else ``"info"``.
    """

    crs: pyproj.CRS
    reason: str
    swap_axes: bool = False
    severity: str = "info"


def _in(value_min: float, value_max: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value_min and value_max <= bounds[1]


def _fmt(bounds: Bounds) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ")"


def _zone_epsg(zone: int) -> int | None:
    """Return the CGCS2000 EPSG code of Gauss-Krueger zone ``zone`` (with zone number), or None."""
    for first, last, epsg0 in (ZONES_3DEG, ZONES_6DEG):
        if first <= zone <= last:
            return epsg0 + zone - first
    return None


@functools.cache
def _epsg_by_name() -> dict[str, int]:
    """EPSG codes of the Chinese Gauss-Krueger CRSs in the PROJ database, by name."""
    infos = pyproj.database.query_crs_info(
        auth_name="EPSG", pj_types=pyproj.enums.PJType.PROJECTED_CRS
    )
    return {
        info.name: int(info.code)
        for info in infos
        if not info.deprecated and info.name.startswith(GK_DATUMS) and "Gauss-Kruger" in info.name
    }


def gk_crs(longitude: float) -> str:
    """Return the CGCS2000 3-degree Gauss-Krueger CRS (no zone prefix) whose zone holds a longitude.

    Parameters
    ----------
    longitude : float
        Degrees east (CGCS2000/WGS84).

    Returns
    -------
    str
        ``"EPSG:<code>"`` of ``CGCS2000 / 3-degree Gauss-Kruger CM <meridian>E``,
        the meridian being the multiple of 3 degrees nearest to ``longitude``.

    Raises
    ------
    CRSError
        If no such CRS exists (the longitude is outside China's zones, 75-135E).

    Examples
    --------
    >>> gk_crs(117.02), gk_crs(114.3)
    ('EPSG:4548', 'EPSG:4547')
    """
    meridian = 3 * round(longitude / 3)
    code = _epsg_by_name().get(f"CGCS2000 / 3-degree Gauss-Kruger CM {meridian}E")
    if code is None:
        msg = (
            f"longitude {longitude:.3f} has no CGCS2000 3-degree Gauss-Krueger zone (zones cover "
            "75-135E); reproject the layer to a metric CRS yourself"
        )
        raise CRSError(msg)
    return f"EPSG:{code}"


def gk_equivalent(epsg: int, datum: str) -> int | None:
    """Return the EPSG code of the same Gauss-Krueger zone (or central meridian) in another datum.

    Parameters
    ----------
    epsg : int
        A CGCS2000, Xian 1980 or Beijing 1954 Gauss-Krueger CRS.
    datum : {"CGCS2000", "Xian 1980", "Beijing 1954"}
        The datum wanted.

    Returns
    -------
    int or None
        The code of the CRS with the same projection in ``datum`` (zone number
        in the easting or not, as ``epsg``), or None if PROJ has none.

    Examples
    --------
    >>> gk_equivalent(4548, "Xian 1980"), gk_equivalent(4548, "Beijing 1954")
    (2384, 2436)
    >>> gk_equivalent(4527, "Xian 1980"), gk_equivalent(4527, "Beijing 1954")
    (2363, 2415)
    """
    names = {code: name for name, code in _epsg_by_name().items()}
    name = names.get(epsg)
    if name is None:
        return None
    _, _, tail = name.partition(" / ")
    return _epsg_by_name().get(f"{datum} / {tail}")


def _datum_caveat(epsg: int) -> str:
    older = [
        f"{datum} is EPSG:{code}"
        for datum in GK_DATUMS[1:]
        if (code := gk_equivalent(epsg, datum)) is not None
    ]
    example = f" (for this zone {' and '.join(older)})" if older else ""
    return (
        f"assumed datum CGCS2000 (EPSG:{epsg}), the national standard since 2008; "
        "Xian 1980 or Beijing 1954 coordinates look the same but would be misplaced by tens of "
        f"metres to about 100 m: pass source_crs='EPSG:...'{example} if the data are older"
    )


def _cgcs2000_gk_cm(crs: pyproj.CRS) -> bool:
    """Return True for a CGCS2000 Gauss-Krueger CRS without zone number in the easting."""
    epsg = crs.to_epsg()
    return epsg is not None and any(lo <= epsg <= hi for lo, hi in CGCS2000_GK_CM_EPSG)


def infer_crs(bounds: Bounds | npt.ArrayLike, *, hint_crs: str | None = None) -> CRSGuess:
    """Infer a CRS from coordinate bounds, only when they make it unambiguous.

    Parameters
    ----------
    bounds : tuple of float or array_like
        ``(minx, miny, maxx, maxy)`` of the layer as stored (x first), or an
        ``(n, 2)`` array of its x, y coordinates.
    hint_crs : str, optional
        The working CRS.  Used only for Gauss-Krueger eastings without zone
        prefix, whose central meridian cannot be read from the numbers: when
        it is a CGCS2000 Gauss-Krueger CRS without prefix (e.g. EPSG:4548)
        the data are assumed to be in it.

    Returns
    -------
    CRSGuess
        The CRS, the reason, whether the axes are swapped and the note level.

    Raises
    ------
    CRSError
        When the coordinates fit no rule or more than one CRS; the message
        says to pass ``source_crs=...``.

    Examples
    --------
    >>> infer_crs((39_500_000, 4_060_000, 39_510_000, 4_070_000)).crs.to_epsg()
    4527
    >>> guess = infer_crs((36.6, 116.9, 36.8, 117.1))
    >>> guess.crs.to_epsg(), guess.swap_axes
    (4326, True)
    >>> infer_crs((500_000, 4_060_000, 510_000, 4_070_000), hint_crs="EPSG:4548").crs.to_epsg()
    4548
    >>> infer_crs([[117.0, 36.6], [117.1, 36.7], [116.9, 36.8]]).crs.to_epsg()
    4326
    """
    values = np.asarray(bounds, dtype=float)
    if values.ndim == 2 and values.shape[1] == 2:  # noqa: PLR2004  (an (n, 2) array of x, y)
        values = np.concatenate([np.nanmin(values, axis=0), np.nanmax(values, axis=0)])
    minx, miny, maxx, maxy = (float(v) for v in values.ravel())
    box = (minx, miny, maxx, maxy)
    if not all(math.isfinite(v) for v in box):
        msg = (
            f"cannot infer a CRS from bounds {_fmt(box)} (no finite coordinates); "
            "pass source_crs='EPSG:...'."
        )
        raise CRSError(msg)
    if _in(minx, maxx, CHINA_LON) and _in(miny, maxy, CHINA_LAT):
        return CRSGuess(
            pyproj.CRS.from_epsg(4326),
            f"coordinates {_fmt(box)} are longitudes/latitudes in China; assumed WGS84 "
            "(EPSG:4326; CGCS2000 lon/lat, EPSG:4490, differs by less than 1 m)",
        )
    if _in(minx, maxx, SWAPPED_X) and _in(miny, maxy, SWAPPED_Y):
        return CRSGuess(
            pyproj.CRS.from_epsg(4326),
            f"coordinates {_fmt(box)} are latitudes/longitudes in swapped order (x holds "
            "latitudes 18-54, y longitudes 73-135); swapped them and assumed WGS84 (EPSG:4326)",
            swap_axes=True,
            severity="warning",
        )
    zone_min = math.floor(minx / ZONE_FACTOR_M)
    zone_max = math.floor(maxx / ZONE_FACTOR_M)
    inner = (minx - zone_min * ZONE_FACTOR_M, maxx - zone_max * ZONE_FACTOR_M)
    if (
        zone_min == zone_max
        and _zone_epsg(zone_min) is not None
        and _in(inner[0], inner[1], GK_EASTING)
        and _in(miny, maxy, GK_NORTHING)
    ):
        three_degree = zone_min >= ZONES_3DEG[0]
        epsg = int(_zone_epsg(zone_min) or 0)
        width = "3-degree" if three_degree else "6-degree"
        return CRSGuess(
            pyproj.CRS.from_epsg(epsg),
            f"eastings {minx:.0f}-{maxx:.0f} carry the {width} Gauss-Krueger zone number "
            f"{zone_min} and northings fit China; {_datum_caveat(epsg)}",
            severity="warning",
        )
    if _in(minx, maxx, GK_EASTING) and _in(miny, maxy, GK_NORTHING):
        hint = pyproj.CRS.from_user_input(hint_crs) if hint_crs is not None else None
        if hint is not None and _cgcs2000_gk_cm(hint):
            epsg = int(hint.to_epsg() or 0)
            return CRSGuess(
                hint,
                f"eastings {minx:.0f}-{maxx:.0f} are Gauss-Krueger without zone number, whose "
                f"central meridian cannot be read from the numbers; assumed the working CRS "
                f"EPSG:{epsg} ({hint.name}) because the working area lies in that zone; "
                f"{_datum_caveat(epsg)}",
                severity="warning",
            )
        msg = (
            f"coordinates {_fmt(box)} look like Gauss-Krueger metres without a zone number, "
            "whose central meridian cannot be read from the numbers; expected a declared CRS. "
            "Pass source_crs='EPSG:4548' (CGCS2000, CM 117E) or the EPSG code of the zone the "
            "data were made in."
        )
        raise CRSError(msg)
    msg = (
        f"coordinates {_fmt(box)} match no CRS tqspatial can recognise (lon/lat in China, "
        "Gauss-Krueger eastings with or without zone number); pass source_crs='EPSG:...'."
    )
    raise CRSError(msg)


def _webmap_kind(source_crs: str | None) -> str | None:
    if source_crs is None:
        return None
    key = str(source_crs).lower().replace("-", "").replace("_", "")
    return key if key in WEBMAP_CRS else None


def _who(layer: str, source: str | None) -> str:
    """Name a layer and its file in messages: ``"parcels (宗地.shp)"``."""
    return f"{layer} ({source})" if source else layer


def _swap_xy(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    out.geometry = shapely.transform(frame.geometry.array, lambda xy: xy[:, ::-1])
    return out


def _bounds(frame: gpd.GeoDataFrame) -> Bounds:
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    return minx, miny, maxx, maxy


def _looks_swapped(bounds: Bounds) -> bool:
    minx, miny, maxx, maxy = bounds
    return _in(minx, maxx, SWAPPED_X) and _in(miny, maxy, SWAPPED_Y)


def _datum_name(crs: pyproj.CRS) -> str:
    datum = crs.datum
    return datum.name if datum is not None else ""


def _warn_datum_shift(source: pyproj.CRS, target: pyproj.CRS, layer: str, who: str) -> None:
    """Warn when going from ``source`` to ``target`` needs PROJ's ballpark datum shift."""
    src_datum, dst_datum = _datum_name(source), _datum_name(target)
    old = next((name for name in DATUM_UNCERTAINTY if name in src_datum), None)
    if old is None or old in dst_datum:
        return
    group = TransformerGroup(source, target, always_xy=True)
    best = group.transformers[0] if group.transformers else None
    description = best.description if best is not None else "no transformation found"
    accuracy = best.accuracy if best is not None else -1.0
    accuracy_text = f"{accuracy:g} m" if accuracy is not None and accuracy > 0 else "unknown"
    message = (
        f"{who}: converting {source.name} ({src_datum}) to {target.name} ({dst_datum}) uses "
        f"'{description}', a ballpark datum shift with no published parameters (PROJ accuracy: "
        f"{accuracy_text}); positions may be off by {DATUM_UNCERTAINTY[old]}. Use surveyed "
        "CGCS2000 data or local transformation parameters where this matters."
    )
    _warn(layer, "ballpark_datum_shift", message, stacklevel=3)


def _warn(layer: str, kind: str, message: str, stacklevel: int, count: int | None = None) -> None:
    """Record a warning-level note and raise a DataQualityWarning with ``message``."""
    note(layer=layer, stage="crs", kind=kind, severity="warning", message=message, count=count)
    warnings.warn(message, DataQualityWarning, stacklevel=stacklevel + 1)


Coordinates = npt.NDArray[np.float64]
CoordinateFunction = Callable[[Coordinates], Coordinates]


def _webmap_to_wgs84(kind: str) -> CoordinateFunction:
    inverse = gcj02.gcj02_to_wgs84 if kind == "gcj02" else gcj02.bd09_to_wgs84

    def to_wgs84(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = inverse(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return to_wgs84


def _from_webmap(frame: gpd.GeoDataFrame, kind: str, layer: str, who: str) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.is_geographic:
        msg = (
            f"{who}: source_crs={kind!r} declares web-map longitudes/latitudes, but the layer "
            f"declares the projected CRS {frame.crs.to_string()}; expected lon/lat. Pass the "
            "layer's real CRS as source_crs, or re-export it as lon/lat."
        )
        raise CRSError(msg)
    bounds = _bounds(frame)
    if _looks_swapped(bounds):
        frame = _swap_xy(frame)
        note(
            layer=layer,
            stage="crs",
            kind="swapped_axes",
            severity="warning",
            message=f"{who}: coordinates {_fmt(bounds)} had latitude first; swapped them",
        )
        bounds = _bounds(frame)
    if not (_in(bounds[0], bounds[2], CHINA_LON) and _in(bounds[1], bounds[3], CHINA_LAT)):
        msg = (
            f"{who}: source_crs={kind!r} needs longitudes/latitudes in China, got bounds "
            f"{_fmt(bounds)}; expected lon in {CHINA_LON} and lat in {CHINA_LAT}. Check the "
            "columns used for x and y, or pass the real CRS as source_crs."
        )
        raise CRSError(msg)
    to_wgs84 = _webmap_to_wgs84(kind)
    out = frame.copy()
    out.geometry = shapely.transform(frame.geometry.array, to_wgs84)
    out = out.set_crs(4326, allow_override=True)
    centre = shapely.points(
        [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2]
    )  # for the size of the correction
    moved = shapely.transform(centre, to_wgs84)
    geod = pyproj.Geod(ellps="WGS84")
    _, _, shift_m = geod.inv(
        shapely.get_x(centre), shapely.get_y(centre), shapely.get_x(moved), shapely.get_y(moved)
    )
    note(
        layer=layer,
        stage="crs",
        kind="webmap_converted",
        message=(
            f"{who}: converted declared {_WEBMAP_LABEL[kind]} web-map coordinates to WGS84 by "
            "iterative inverse of the published transform (shift about "
            f"{float(shift_m):.0f} m at the layer centre)"
        ),
        count=len(frame),
    )
    return out


def _declared_source(
    work: gpd.GeoDataFrame, source_crs: str, layer: str, who: str
) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """Label ``work`` with the CRS the caller declared, noting a replaced declaration."""
    try:
        source = pyproj.CRS.from_user_input(source_crs)
    except pyproj.exceptions.CRSError as exc:
        msg = (
            f"{who}: source_crs={source_crs!r} is not a CRS pyproj knows; expected e.g. "
            f"'EPSG:4548', 'EPSG:4527', 'gcj02' or 'bd09'. Fix the source_crs option."
        )
        raise CRSError(msg) from exc
    if work.crs is not None and pyproj.CRS.from_user_input(work.crs) != source:
        note(
            layer=layer,
            stage="crs",
            kind="declared_crs_overridden",
            severity="warning",
            message=(
                f"{who}: declared CRS {work.crs.name} replaced by source_crs={source_crs!r} "
                f"({source.name}) as requested"
            ),
        )
    work = work.set_crs(source, allow_override=True)
    return work, source


def _inferred_source(
    work: gpd.GeoDataFrame, layer: str, who: str, working_crs: str
) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """Label a layer without CRS with the CRS its coordinates show, or raise."""
    try:
        guess = infer_crs(_bounds(work), hint_crs=working_crs)
    except CRSError as exc:
        msg = f"{who} has no CRS and {exc}"
        raise CRSError(msg) from None
    if guess.swap_axes:
        work = _swap_xy(work)
    source = guess.crs
    work = work.set_crs(source)
    note(
        layer=layer,
        stage="crs",
        kind="inferred_crs",
        severity=guess.severity,
        message=f"{who} has no CRS: {guess.reason}",
    )
    if guess.severity == "warning":
        warnings.warn(f"{who} has no CRS: {guess.reason}", DataQualityWarning, stacklevel=3)
    return work, source


def resolve_crs(
    frame: gpd.GeoDataFrame,
    *,
    source_crs: str | None = None,
    layer: str = "layer",
    source: str | None = None,
    working_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Return ``frame`` in the working CRS, deciding its source CRS and saying how.

    See the module docstring for the order of decisions and the datum rule.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any layer; ``frame.crs`` may be None (a shapefile without ``.prj``).
    source_crs : str, optional
        The CRS the coordinates are really in: any pyproj input
        (``"EPSG:4527"``) or ``"gcj02"`` / ``"bd09"`` for web-map lon/lat.
        Overrides the declared CRS.
    layer : str, default "layer"
        Layer name for the quality log (``"parcels"``).
    source : str, optional
        File name; every message names it next to the layer.
    working_crs : str, optional
        Target CRS (default: ``get_settings().working_crs``); also the hint
        for Gauss-Krueger eastings without zone.

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows in ``working_crs``.  What was assumed or converted is
        recorded (stage ``"crs"``) with :func:`tqspatial.quality.note`.

    Raises
    ------
    CRSError
        When the CRS cannot be decided or ``source_crs`` is invalid; the
        message names the file and says which ``source_crs`` to pass.

    Warns
    -----
    DataQualityWarning
        When lat/lon were swapped, a datum was assumed for a layer without
        CRS, or a ballpark datum shift (Xian 1980 / Beijing 1954) was applied.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from tqspatial.quality import recording
    >>> raw = gpd.GeoDataFrame(geometry=[Point(117.0, 36.7)])
    >>> with recording() as log:
    ...     out = resolve_crs(raw, layer="points", source="pts.csv")
    >>> out.crs.to_epsg(), round(out.geometry.x.iloc[0])
    (4548, 500000)
    >>> log.table()[["kind", "message"]].values.tolist()[0][0]
    'inferred_crs'
    """
    who = _who(layer, source)
    working_crs = working_crs or get_settings().working_crs
    target = pyproj.CRS.from_user_input(working_crs)
    work = frame
    has_coords = bool((~shapely.is_missing(work.geometry.array) & ~work.geometry.is_empty).any())
    kind = _webmap_kind(source_crs)
    if kind is not None:
        work = _from_webmap(work, kind, layer, who)
        used = pyproj.CRS.from_user_input(work.crs)
    elif source_crs is not None:
        work, used = _declared_source(work, source_crs, layer, who)
    elif work.crs is not None:
        used = pyproj.CRS.from_user_input(work.crs)
    elif not has_coords:
        note(
            layer=layer,
            stage="crs",
            kind="empty_layer_crs",
            message=f"{who}: no CRS and no coordinates; labelled {working_crs}",
        )
        return work.set_crs(target)
    else:
        work, used = _inferred_source(work, layer, who, working_crs)

    if kind is None and used.is_geographic and has_coords and _looks_swapped(_bounds(work)):
        bounds = _bounds(work)
        work = _swap_xy(work)
        message = (
            f"{who}: coordinates {_fmt(bounds)} in {used.name} had latitude first "
            "(x in 18-54, y in 73-135); swapped them"
        )
        _warn(layer, "swapped_axes", message, stacklevel=2)
    if used.is_projected and has_coords:
        _check_metres(work, used, who)
        _check_zone_prefix(work, used, who)
    if used.is_geographic and has_coords:
        _check_degrees(work, used, who, working_crs)
    _warn_datum_shift(used, target, layer, who)
    if used == target:
        return work if work is not frame else frame.copy()
    logger.info("%s: reprojecting from %s to %s", who, used.to_string(), target.to_string())
    return work.to_crs(target)


def _check_degrees(frame: gpd.GeoDataFrame, source: pyproj.CRS, who: str, working_crs: str) -> None:
    """Raise when a geographic CRS is declared for coordinates that cannot be degrees."""
    minx, miny, maxx, maxy = _bounds(frame)
    if -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0:  # noqa: PLR2004
        return
    try:
        hint = f"source_crs='EPSG:{infer_crs(_bounds(frame), hint_crs=working_crs).crs.to_epsg()}'"
    except CRSError:
        hint = "source_crs='EPSG:...' naming the projected CRS of the data"
    msg = (
        f"{who}: declared CRS {source.name} is in degrees, but the coordinates "
        f"{_fmt(_bounds(frame))} are not longitudes/latitudes. Pass {hint}."
    )
    raise CRSError(msg)


def _check_metres(frame: gpd.GeoDataFrame, source: pyproj.CRS, who: str) -> None:
    """Raise when a projected CRS is declared for coordinates that look like lon/lat degrees."""
    minx, miny, maxx, maxy = _bounds(frame)
    if not (_in(minx, maxx, CHINA_LON) and _in(miny, maxy, CHINA_LAT)):
        return
    msg = (
        f"{who}: declared CRS {source.name} is in metres, but the coordinates "
        f"{_fmt((minx, miny, maxx, maxy))} look like longitudes/latitudes in China. "
        "Pass source_crs='EPSG:4326' (or 'gcj02' / 'bd09' for web-map coordinates)."
    )
    raise CRSError(msg)


def _central_meridian(crs: pyproj.CRS) -> float | None:
    if crs.coordinate_operation is None:
        return None
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    value = params.get("Longitude of natural origin")
    return float(value) if value is not None else None


def _prefix_free(crs: pyproj.CRS) -> str:
    """Return the Gauss-Krueger CRS of the same datum and central meridian, without zone."""
    cm = _central_meridian(crs)
    family = next((d for d in GK_DATUMS if crs.name.startswith(d)), None)
    if cm is not None and family is not None:
        width = "3-degree " if "3-degree" in crs.name else ""
        code = _epsg_by_name().get(f"{family} / {width}Gauss-Kruger CM {cm:g}E")
        if code is not None:
            return f"EPSG:{code}"
    return get_settings().working_crs


def _check_zone_prefix(frame: gpd.GeoDataFrame, source: pyproj.CRS, who: str) -> None:
    """Raise when eastings carry a zone number the declared CRS does not expect, or vice versa."""
    minx, _, maxx, _ = _bounds(frame)
    params: dict[str, Any] = {}
    if source.coordinate_operation is not None:
        params = {p.name: p.value for p in source.coordinate_operation.params}
    false_easting = params.get("False easting")
    if false_easting is None or source.coordinate_operation is None:
        return
    if "Transverse Mercator" not in source.coordinate_operation.method_name:
        return
    prefixed_crs = false_easting >= ZONE_FACTOR_M
    prefixed_data = minx >= ZONE_FACTOR_M * ZONES_6DEG[0]
    if prefixed_crs == prefixed_data:
        return
    if prefixed_data:
        zone = math.floor(minx / ZONE_FACTOR_M)
        hint = f"EPSG:{_zone_epsg(zone) or '...'}"
        what = f"carry the zone number {zone} but {source.name} expects none"
    else:
        hint = _prefix_free(source)
        what = f"have no zone number but {source.name} expects one"
    msg = (
        f"{who}: eastings {minx:.0f}-{maxx:.0f} {what}, so the declared CRS does not match "
        f"the numbers. Pass source_crs='{hint}' (or the EPSG code of the data's real zone)."
    )
    raise CRSError(msg)


def to_working_crs(
    frame: gpd.GeoDataFrame,
    *,
    working_crs: str | None = None,
    source: str = "layer",
) -> gpd.GeoDataFrame:
    """Return ``frame`` in the working CRS, reprojecting when needed.

    Unlike :func:`resolve_crs`, this never infers anything: a frame without
    CRS raises.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any layer with a declared CRS.
    working_crs : str, optional
        Target CRS (default: ``get_settings().working_crs``).
    source : str, default "layer"
        Name used in messages (usually the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows, in ``working_crs`` (``frame`` itself when already there).

    Raises
    ------
    CRSError
        If ``frame`` has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pt = gpd.GeoDataFrame(geometry=[Point(117.0, 36.7)], crs="EPSG:4326")
    >>> out = to_working_crs(pt)
    >>> out.crs.to_epsg(), round(out.geometry.x.iloc[0])
    (4548, 500000)
    """
    working_crs = working_crs or get_settings().working_crs
    if frame.crs is None:
        msg = (
            f"{source} has no coordinate reference system; expected a declared CRS such as "
            f"{working_crs}. Pass crs=... to the reader (e.g. crs='EPSG:4548' for CGCS2000 "
            "3-degree zone 39 without the zone prefix)."
        )
        raise CRSError(msg)
    target = pyproj.CRS.from_user_input(working_crs)
    if pyproj.CRS.from_user_input(frame.crs) == target:
        return frame
    logger.info("%s: reprojecting from %s to %s", source, frame.crs.to_string(), working_crs)
    return frame.to_crs(target)


# ----------------------------------------------------------------------------- checks against
# the district: a layer in the wrong CRS lands outside it, or shifted against its lines.


def _area(boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry) -> shapely.Geometry:
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        merged: shapely.Geometry = shapely.union_all(np.asarray(boundary.geometry.array))
        return merged
    return boundary


def _sample(n: int, size: int) -> npt.NDArray[np.intp]:
    """Evenly spaced positions (deterministic): all when ``n <= size``."""
    if n <= size:
        return np.arange(n, dtype=np.intp)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.intp))


def _centres(geoms: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.float64], ...]:
    bounds = shapely.bounds(geoms)
    return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2


def _present(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    return np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))


@dataclasses.dataclass(frozen=True)
class _Reading:
    """One way of reading raw coordinates: a label, what to pass, and how to convert."""

    label: str
    option: str
    crs: pyproj.CRS | None = None
    webmap: str | None = None
    swap: bool = False


def _readings(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> list[_Reading]:
    """List the common CRSs that raw coordinates in these ranges could be in."""
    out: list[_Reading] = []
    bounds = (float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y)))
    minx, miny, maxx, maxy = bounds
    if minx >= -180.0 and maxx <= 180.0 and miny >= -180.0 and maxy <= 180.0:  # noqa: PLR2004
        wgs = pyproj.CRS.from_epsg(4326)
        out += [
            _Reading("EPSG:4326 (WGS84 longitude/latitude)", "EPSG:4326", wgs),
            _Reading(
                "EPSG:4326 with latitude first",
                "EPSG:4326 (and swap the x/y columns)",
                wgs,
                swap=True,
            ),
            _Reading("GCJ-02 web-map longitude/latitude", "gcj02", webmap="gcj02"),
            _Reading("BD-09 web-map longitude/latitude", "bd09", webmap="bd09"),
        ]
        return out
    for swap, (east_lo, east_hi) in ((False, (minx, maxx)), (True, (miny, maxy))):
        north = (miny, maxy) if not swap else (minx, maxx)
        if not _in(*north, GK_NORTHING):
            continue
        zone = math.floor(east_lo / ZONE_FACTOR_M)
        epsgs: list[int] = []
        if zone == math.floor(east_hi / ZONE_FACTOR_M) and _zone_epsg(zone) is not None:
            epsgs = [int(_zone_epsg(zone) or 0)]
        elif _in(east_lo, east_hi, GK_EASTING):
            epsgs = [e for lo, hi in CGCS2000_GK_CM_EPSG[::-1] for e in range(lo, hi + 1)]
        for epsg in epsgs:
            crs = pyproj.CRS.from_epsg(epsg)
            label = f"EPSG:{epsg} ({crs.name})" + (" with x and y swapped" if swap else "")
            out.append(_Reading(label, f"EPSG:{epsg}", crs, swap=swap))
    return out


def _inside_share(
    reading: _Reading,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area: shapely.Geometry,
    target: pyproj.CRS,
) -> float:
    if reading.swap:
        x, y = y, x
    crs = reading.crs or pyproj.CRS.from_epsg(4326)
    if reading.webmap is not None:
        x, y = _webmap_to_wgs84(reading.webmap)(np.column_stack([x, y])).T
    tx, ty = pyproj.Transformer.from_crs(crs, target, always_xy=True).transform(x, y)
    finite = np.isfinite(tx) & np.isfinite(ty)
    if not finite.any():
        return 0.0
    inside = shapely.contains_xy(area, np.where(finite, tx, 0.0), np.where(finite, ty, 0.0))
    return float(np.mean(inside & finite))


def _how_read(raw: gpd.GeoDataFrame, source_crs: str | None) -> str:
    if source_crs is not None:
        return f"source_crs={source_crs!r}"
    if raw.crs is not None:
        crs = pyproj.CRS.from_user_input(raw.crs)
        code = crs.to_epsg()
        return f"the CRS the file declares ({'EPSG:' + str(code) + ', ' if code else ''}{crs.name})"
    return "the CRS inferred from the coordinates"


def check_crs_fit(
    raw: gpd.GeoDataFrame,
    resolved: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    source_crs: str | None = None,
    layer: str = "layer",
    source: str | None = None,
) -> None:
    """Stop when a layer lies (nearly) all outside the district, naming the CRS it fits.

    A ``.prj`` naming the wrong Gauss-Krueger zone (data made in CM 117E
    labelled EPSG:4547, CM 114E) moves every feature about 270 km; every
    parcel would then be rejected as outside the district.  When at most
    :data:`CRS_FIT_MAX_INSIDE` of the features (a sample of up to
    :data:`CRS_FIT_SAMPLE`, by bounding-box centre) lie inside ``boundary``,
    the raw coordinates are read in the common alternatives: every CGCS2000
    3- and 6-degree zone (with the zone number in the easting or without,
    as the numbers show), x and y swapped, longitude/latitude in either
    order, GCJ-02 and BD-09.  Xian 1980 and Beijing 1954 zones fit within
    about 100 m of the CGCS2000 zone, which a boundary cannot tell apart, so
    the message names their codes too.

    Parameters
    ----------
    raw : geopandas.GeoDataFrame
        The layer as read, in its source coordinates (``raw.crs`` as declared, or None).
    resolved : geopandas.GeoDataFrame
        The same rows in the working CRS, as :func:`resolve_crs` returned them.
    boundary : GeoDataFrame, GeoSeries or shapely geometry
        The district in the working CRS.
    source_crs : str, optional
        What the caller passed to :func:`resolve_crs`, for the message.
    layer : str, default "layer"
        Layer name for the quality log.
    source : str, optional
        File name, named in the message.

    Raises
    ------
    CRSError
        When (nearly) all features lie outside the district and another
        reading puts at least :data:`CRS_FIT_MIN_INSIDE` of them inside; the
        message names the file, the CRS they fit and the ``source_crs`` to pass.

    Notes
    -----
    When (nearly) all features lie outside the district and no common CRS
    puts them inside, the finding goes to the quality log (kind
    ``outside_district_crs``) and the logger, not to a warning.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> district = box(495_000, 4_055_000, 505_000, 4_065_000)
    >>> raw = gpd.GeoDataFrame(geometry=[Point(500_000 + i, 4_060_000) for i in range(20)],
    ...                        crs="EPSG:4547")  # made in CM 117E, labelled CM 114E
    >>> try:
    ...     check_crs_fit(raw, resolve_crs(raw), district, layer="parcels", source="p.shp")
    ... except CRSError as exc:
    ...     print(str(exc)[str(exc).index("The data fit") :].split(" (or")[0])
    The data fit EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E): pass source_crs='EPSG:4548'
    """
    who = _who(layer, source)
    area = _area(boundary)
    geoms = np.asarray(resolved.geometry.array, dtype=object)
    present = _present(geoms)
    if len(present) < WEBMAP_MIN_FEATURES or area is None or shapely.is_empty(area):
        return
    pick = present[_sample(len(present), CRS_FIT_SAMPLE)]
    shapely.prepare(area)
    x, y = _centres(geoms[pick])
    inside = float(np.mean(shapely.contains_xy(area, x, y)))
    if inside > CRS_FIT_MAX_INSIDE:
        return
    rx, ry = _centres(np.asarray(raw.geometry.array, dtype=object)[pick])
    target = pyproj.CRS.from_user_input(resolved.crs)
    scored = [(r, _inside_share(r, rx, ry, area, target)) for r in _readings(rx, ry)]
    best = max(scored, key=lambda item: item[1], default=None)
    read_as = _how_read(raw, source_crs)
    if best is None or best[1] < CRS_FIT_MIN_INSIDE:
        tried = ", ".join(r.option for r, _ in scored[:6]) + (" ..." if len(scored) > 6 else "")  # noqa: PLR2004
        message = (
            f"{who}: {1 - inside:.0%} of the features lie outside the district boundary when "
            f"read in {read_as}, and no common CRS ({tried or 'none applies'}) puts them inside; "
            "check that the file covers this district and that the boundary is the right one."
        )
        # In the quality log only: the caller decides (the refresh rejects parcels outside
        # the district and stops on a layer that misses it), a warning would say it twice.
        note(
            layer=layer,
            stage="crs",
            kind="outside_district_crs",
            severity="warning",
            message=message,
            count=len(resolved),
        )
        logger.warning("%s", message)
        return
    reading, share = best
    older = ""
    if reading.crs is not None and reading.crs.to_epsg() is not None:
        codes = [
            f"EPSG:{code}"
            for datum in GK_DATUMS[1:]
            if (code := gk_equivalent(int(reading.crs.to_epsg() or 0), datum)) is not None
        ]
        if codes:
            older = f"; if the data are Xian 1980 or Beijing 1954, pass {' or '.join(codes)}"
    msg = (
        f"{who}: {1 - inside:.0%} of the features lie outside the district boundary when read "
        f"in {read_as}, but {share:.0%} lie inside when read as {reading.label}, so that CRS is "
        f"wrong. The data fit {reading.label}: pass source_crs='{reading.option}' (or fix the "
        f".prj){older}."
    )
    raise CRSError(msg)


def _webmap_undo(frame_crs: pyproj.CRS, kind: str) -> CoordinateFunction:
    """Return a coordinate function undoing a web-map offset on working-CRS coordinates."""
    to_geo = pyproj.Transformer.from_crs(frame_crs, 4326, always_xy=True)
    inverse = _webmap_to_wgs84(kind)

    def undo(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = to_geo.transform(xy[:, 0], xy[:, 1])
        fixed = inverse(np.column_stack([lon, lat]))
        return np.column_stack(to_geo.transform(fixed[:, 0], fixed[:, 1], direction="INVERSE"))

    return undo


def _segments(lines: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Every straight segment of some lines (or polygon boundaries), as 2-point lines."""
    parts = shapely.get_parts(lines)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    same = index[1:] == index[:-1]
    starts, ends = coords[:-1][same], coords[1:][same]
    if not len(starts):
        return np.empty(0, dtype=object)
    return np.asarray(shapely.linestrings(np.stack([starts, ends], axis=1)), dtype=object)


def _crossing(
    polys: npt.NDArray[np.object_], segments: npt.NDArray[np.object_], tree: shapely.STRtree
) -> tuple[float, int]:
    """Length (m) of reference lines running through the interiors of ``polys``, and how many."""
    interiors = shapely.buffer(polys, -WEBMAP_EDGE_TOLERANCE_M)
    left, right = tree.query(interiors, predicate="intersects")
    if not len(left):
        return 0.0, 0
    lengths = shapely.length(shapely.intersection(interiors[left], segments[right]))
    crossed = np.unique(left[lengths > WEBMAP_EDGE_TOLERANCE_M])
    return float(lengths.sum()), len(crossed)


def _reference_lines(
    area: shapely.Geometry, roads: gpd.GeoDataFrame | gpd.GeoSeries | None
) -> npt.NDArray[np.object_]:
    lines = [shapely.boundary(area)]
    if roads is not None:
        road_geoms = np.asarray(roads.geometry.array, dtype=object)
        road_geoms = road_geoms[_present(road_geoms)]
        lines.extend(shapely.boundary(road_geoms[shapely.get_dimensions(road_geoms) == 2]))  # noqa: PLR2004
        lines.extend(road_geoms[shapely.get_dimensions(road_geoms) == 1])
    return _segments(np.asarray(lines, dtype=object))


def check_webmap_offset(
    frame: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    layer: str = "layer",
    source: str | None = None,
    roads: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> str | None:
    """Warn when a layer sits against the district as if it were in GCJ-02 or BD-09.

    A web-map layer read as WGS84 is displaced by the web-map offset (about
    0.5 km for GCJ-02, 1.3 km for BD-09 at Tianqiao).  Two tests compare the
    layer as given with the layer after undoing each offset:

    * **spill**: the share of features (by bounding-box centre, a sample of
      up to :data:`WEBMAP_SAMPLE`) outside ``boundary``; suspicious when at
      least :data:`WEBMAP_MIN_OUTSIDE` are outside and undoing an offset cuts
      the share by :data:`WEBMAP_IMPROVEMENT` times;
    * **lines** (polygon layers): the length of reference lines -- the
      boundary's edges and, when given, the road centrelines -- running
      through the parcels' interiors (shrunk by
      :data:`WEBMAP_EDGE_TOLERANCE_M`).  Parcels lie between roads and
      along the district edge, so a shifted layer has roads and edges
      cutting through it even when every parcel stays inside the district;
      suspicious when at least :data:`WEBMAP_MIN_FEATURES` parcels are
      crossed and undoing an offset cuts the length by
      :data:`WEBMAP_IMPROVEMENT` times.  (Parcels that contain their roads,
      such as road-land parcels, weaken this test but do not trigger it.)

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer in a projected CRS (the working CRS).
    boundary : geopandas.GeoDataFrame, GeoSeries or shapely geometry
        District boundary in the same CRS.
    layer : str, default "layer"
        Layer name for the quality log.
    source : str, optional
        File name, named in the message.
    roads : geopandas.GeoDataFrame or GeoSeries, optional
        Road centrelines (or road polygons) in the same CRS.

    Returns
    -------
    str or None
        The warning message, or None when nothing suspicious was found.

    Warns
    -----
    DataQualityWarning
        With the same message (also recorded in the quality log).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> district = box(495_000, 4_055_000, 505_000, 4_065_000)
    >>> pts = gpd.GeoDataFrame(geometry=[Point(500_000, 4_060_000)] * 20, crs="EPSG:4548")
    >>> check_webmap_offset(pts, district) is None
    True
    """
    who = _who(layer, source)
    if frame.crs is None or not frame.crs.is_projected:
        msg = (
            f"{who}: check_webmap_offset needs a projected CRS; got {frame.crs}. "
            "Call resolve_crs first."
        )
        raise CRSError(msg)
    area = _area(boundary)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    geoms = geoms[_present(geoms)]
    if len(geoms) < WEBMAP_MIN_FEATURES or area is None or shapely.is_empty(area):
        return None
    geoms = geoms[_sample(len(geoms), WEBMAP_SAMPLE)]
    crs = pyproj.CRS.from_user_input(frame.crs)
    undo = {kind: _webmap_undo(crs, kind) for kind in WEBMAP_CRS}
    shapely.prepare(area)
    x, y = _centres(geoms)
    found: list[tuple[float, str, str]] = []  # (improvement, kind, evidence)
    outside = 1.0 - float(np.mean(shapely.contains_xy(area, x, y)))
    if outside >= WEBMAP_MIN_OUTSIDE:
        for kind, func in undo.items():
            fx, fy = func(np.column_stack([x, y])).T
            fixed = 1.0 - float(np.mean(shapely.contains_xy(area, fx, fy)))
            if outside >= WEBMAP_IMPROVEMENT * fixed:
                found.append(
                    (
                        outside / max(fixed, 1e-9),
                        kind,
                        f"{outside:.0%} of features lie outside the district boundary but only "
                        f"{fixed:.0%} after undoing it",
                    )
                )
    polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
    segments = _reference_lines(area, roads)
    if len(polys) >= WEBMAP_MIN_FEATURES and len(segments):
        tree = shapely.STRtree(segments)
        near = np.unique(tree.query(polys, predicate="dwithin", distance=WEBMAP_NEAR_M)[0])
        polys = polys[near[_sample(len(near), WEBMAP_LINE_SAMPLE)]]
        length, crossed = _crossing(polys, segments, tree)
        if crossed >= WEBMAP_MIN_FEATURES:
            for kind, func in undo.items():
                fixed, _ = _crossing(shapely.transform(polys, func), segments, tree)
                if length >= WEBMAP_IMPROVEMENT * fixed:
                    lines = "the boundary's edges" + (" and the roads" if roads is not None else "")
                    found.append(
                        (
                            length / max(fixed, 1e-9),
                            kind,
                            f"{lines} run {length:,.0f} m through {crossed} of {len(polys)} "
                            f"parcels near them but only {fixed:,.0f} m after undoing it",
                        )
                    )
    if not found:
        return None
    _, kind, evidence = max(found)
    label = _WEBMAP_LABEL[kind]
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2  # the size of the offset at the layer
    fx, fy = undo[kind](np.array([[cx, cy]]))[0]
    shift = float(np.hypot(fx - cx, fy - cy))
    message = (
        f"{who}: the layer sits about {shift:.0f} m off as if it held {label} web-map "
        f"coordinates read as WGS84 ({evidence}). Re-read it with source_crs='{kind}'."
    )
    _warn(layer, "suspected_webmap_offset", message, stacklevel=2)
    return message
