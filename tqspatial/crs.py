"""Coordinate reference systems: recognise, resolve and reproject into the working CRS.

Areas and distances are computed in the working CRS, EPSG:4548 (CGCS2000
3-degree Gauss-Krueger, central meridian 117E, metres).  Not EPSG:4527 (the
same zone with ``39`` prefixed to eastings) and not EPSG:4547 (central
meridian 114E, a common mix-up that moves Tianqiao data about 270 km).

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
import logging
import math
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pyproj.transformer import TransformerGroup

from tqspatial import gcj02
from tqspatial.errors import CRSError, DataQualityWarning
from tqspatial.quality import add_note

__all__ = [
    "WEBMAP_CRS",
    "WORKING_CRS",
    "CRSGuess",
    "check_webmap_offset",
    "infer_crs",
    "resolve_crs",
    "to_working_crs",
]

logger = logging.getLogger(__name__)

#: CGCS2000 / 3-degree Gauss-Krueger CM 117E.
WORKING_CRS = "EPSG:4548"

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
#: Fewest features for :func:`check_webmap_offset` to judge.
WEBMAP_MIN_FEATURES = 10

Bounds = tuple[float, float, float, float]

#: Multiplier of the zone number prefixed to Gauss-Krueger eastings (m).
ZONE_FACTOR_M = 1_000_000.0
#: CGCS2000 3-degree zones 25-45 with zone number: EPSG:4513-4533.
ZONES_3DEG = (25, 45, 4513)
#: CGCS2000 6-degree zones 13-23 with zone number: EPSG:4491-4501.
ZONES_6DEG = (13, 23, 4491)
#: EPSG ranges of CGCS2000 Gauss-Krueger CRSs without zone number (6-degree, 3-degree).
CGCS2000_GK_CM_EPSG = ((4502, 4512), (4534, 4554))


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
    level : str
        ``"warning"`` when the guess involves an unverifiable assumption
        (datum, central meridian, axis order), else ``"info"``.
    """

    crs: pyproj.CRS
    reason: str
    swap_axes: bool = False
    level: str = "info"


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


def _datum_caveat(epsg: int) -> str:
    return (
        f"assumed datum CGCS2000 (EPSG:{epsg}), the national standard since 2008; "
        "Xian 1980 or Beijing 1954 coordinates look the same but would be misplaced by tens of "
        "metres to about 100 m: pass source_crs='EPSG:...' (e.g. Xian 1980 zone 39 is EPSG:2363, "
        "Beijing 1954 zone 39 is EPSG:2415) if the data are older"
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
            level="warning",
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
            level="warning",
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
                level="warning",
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


def _warn_datum_shift(
    frame: gpd.GeoDataFrame, source: pyproj.CRS, target: pyproj.CRS, layer: str
) -> None:
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
        f"{layer}: converting {source.name} ({src_datum}) to {target.name} ({dst_datum}) uses "
        f"'{description}', a ballpark datum shift with no published parameters (PROJ accuracy: "
        f"{accuracy_text}); positions may be off by {DATUM_UNCERTAINTY[old]}. Use surveyed "
        "CGCS2000 data or local transformation parameters where this matters."
    )
    _warn(frame, layer, "ballpark_datum_shift", message, stacklevel=3)


def _warn(frame: gpd.GeoDataFrame, layer: str, kind: str, message: str, stacklevel: int) -> None:
    """Add a warning-level note to ``frame`` and raise a DataQualityWarning with ``message``."""
    add_note(frame, layer=layer, stage="crs", kind=kind, level="warning", message=message)
    warnings.warn(message, DataQualityWarning, stacklevel=stacklevel + 1)


def _from_webmap(frame: gpd.GeoDataFrame, kind: str, layer: str) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.is_geographic:
        msg = (
            f"{layer}: source_crs={kind!r} declares web-map longitudes/latitudes, but the layer "
            f"declares the projected CRS {frame.crs.to_string()}; expected lon/lat. Pass the "
            "layer's real CRS as source_crs, or re-export it as lon/lat."
        )
        raise CRSError(msg)
    bounds = _bounds(frame)
    if _looks_swapped(bounds):
        frame = _swap_xy(frame)
        add_note(
            frame,
            layer=layer,
            stage="crs",
            kind="swapped_axes",
            level="warning",
            message=f"{layer}: coordinates {_fmt(bounds)} had latitude first; swapped them",
        )
        bounds = _bounds(frame)
    if not (_in(bounds[0], bounds[2], CHINA_LON) and _in(bounds[1], bounds[3], CHINA_LAT)):
        msg = (
            f"{layer}: source_crs={kind!r} needs longitudes/latitudes in China, got bounds "
            f"{_fmt(bounds)}; expected lon in {CHINA_LON} and lat in {CHINA_LAT}. Check the "
            "columns used for x and y, or pass the real CRS as source_crs."
        )
        raise CRSError(msg)
    inverse = gcj02.gcj02_to_wgs84 if kind == "gcj02" else gcj02.bd09_to_wgs84

    def to_wgs84(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = inverse(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

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
    add_note(
        out,
        layer=layer,
        stage="crs",
        kind="webmap_converted",
        message=(
            f"{layer}: converted declared {_WEBMAP_LABEL[kind]} web-map coordinates to WGS84 by "
            "iterative inverse of the published transform (shift about "
            f"{float(shift_m):.0f} m at the layer centre)"
        ),
        count=len(frame),
    )
    return out


def _declared_source(
    work: gpd.GeoDataFrame, source_crs: str, layer: str
) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """Label ``work`` with the CRS the caller declared, noting a replaced declaration."""
    try:
        source = pyproj.CRS.from_user_input(source_crs)
    except pyproj.exceptions.CRSError as exc:
        msg = (
            f"{layer}: source_crs={source_crs!r} is not a CRS pyproj knows; expected e.g. "
            f"'EPSG:4548', 'EPSG:4527', 'gcj02' or 'bd09'. Fix the source_crs option."
        )
        raise CRSError(msg) from exc
    if work.crs is not None and pyproj.CRS.from_user_input(work.crs) != source:
        add_note(
            work,
            layer=layer,
            stage="crs",
            kind="declared_crs_overridden",
            level="warning",
            message=(
                f"{layer}: declared CRS {work.crs.name} replaced by source_crs={source_crs!r} "
                f"({source.name}) as requested"
            ),
        )
    work = work.set_crs(source, allow_override=True)
    return work, source


def _inferred_source(
    work: gpd.GeoDataFrame, layer: str, working_crs: str
) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """Label a layer without CRS with the CRS its coordinates show, or raise."""
    try:
        guess = infer_crs(_bounds(work), hint_crs=working_crs)
    except CRSError as exc:
        msg = f"{layer} has no CRS and {exc}"
        raise CRSError(msg) from None
    if guess.swap_axes:
        work = _swap_xy(work)
    source = guess.crs
    work = work.set_crs(source)
    add_note(
        work,
        layer=layer,
        stage="crs",
        kind="inferred_crs",
        level=guess.level,
        message=f"{layer} has no CRS: {guess.reason}",
    )
    if guess.level == "warning":
        warnings.warn(f"{layer} has no CRS: {guess.reason}", DataQualityWarning, stacklevel=3)
    return work, source


def resolve_crs(
    frame: gpd.GeoDataFrame,
    *,
    source_crs: str | None = None,
    layer: str = "layer",
    working_crs: str = WORKING_CRS,
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
        Name used in notes and messages (usually the file name).
    working_crs : str, default "EPSG:4548"
        Target CRS; also the hint for Gauss-Krueger eastings without zone.

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows in ``working_crs``, with notes (stage ``"crs"``) in
        ``attrs["tq_notes"]`` saying what was assumed or converted.

    Raises
    ------
    CRSError
        When the CRS cannot be decided or ``source_crs`` is invalid; the
        message says which ``source_crs`` to pass.

    Warns
    -----
    DataQualityWarning
        When lat/lon were swapped, a datum was assumed for a layer without
        CRS, or a ballpark datum shift (Xian 1980 / Beijing 1954) was applied.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> raw = gpd.GeoDataFrame(geometry=[Point(117.0, 36.7)])
    >>> out = resolve_crs(raw, layer="pts.csv")
    >>> out.crs.to_epsg(), round(out.geometry.x.iloc[0])
    (4548, 500000)
    >>> out.attrs["tq_notes"][0]["kind"]
    'inferred_crs'
    """
    target = pyproj.CRS.from_user_input(working_crs)
    notes_before = list(frame.attrs.get("tq_notes", []))
    work = frame.copy()
    work.attrs["tq_notes"] = notes_before
    has_coords = bool((~shapely.is_missing(work.geometry.array) & ~work.geometry.is_empty).any())
    kind = _webmap_kind(source_crs)
    if kind is not None:
        work = _from_webmap(work, kind, layer)
        source = pyproj.CRS.from_user_input(work.crs)
    elif source_crs is not None:
        work, source = _declared_source(work, source_crs, layer)
    elif work.crs is not None:
        source = pyproj.CRS.from_user_input(work.crs)
    elif not has_coords:
        add_note(
            work,
            layer=layer,
            stage="crs",
            kind="empty_layer_crs",
            message=f"{layer}: no CRS and no coordinates; labelled {working_crs}",
        )
        return work.set_crs(target)
    else:
        work, source = _inferred_source(work, layer, working_crs)

    if kind is None and source.is_geographic and has_coords and _looks_swapped(_bounds(work)):
        bounds = _bounds(work)
        work = _swap_xy(work)
        message = (
            f"{layer}: coordinates {_fmt(bounds)} in {source.name} had latitude first "
            "(x in 18-54, y in 73-135); swapped them"
        )
        _warn(work, layer, "swapped_axes", message, stacklevel=2)
    if source.is_projected and has_coords:
        _check_metres(work, source, layer)
        _check_zone_prefix(work, source, layer)
    if source.is_geographic and has_coords:
        _check_degrees(work, source, layer, working_crs)
    _warn_datum_shift(work, source, target, layer)
    if source == target:
        return work
    logger.info("%s: reprojecting from %s to %s", layer, source.to_string(), target.to_string())
    out = work.to_crs(target)
    out.attrs["tq_notes"] = work.attrs["tq_notes"]
    return out


def _check_degrees(
    frame: gpd.GeoDataFrame, source: pyproj.CRS, layer: str, working_crs: str
) -> None:
    """Raise when a geographic CRS is declared for coordinates that cannot be degrees."""
    minx, miny, maxx, maxy = _bounds(frame)
    if -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0:  # noqa: PLR2004
        return
    try:
        hint = f"source_crs='EPSG:{infer_crs(_bounds(frame), hint_crs=working_crs).crs.to_epsg()}'"
    except CRSError:
        hint = "source_crs='EPSG:...' naming the projected CRS of the data"
    msg = (
        f"{layer}: declared CRS {source.name} is in degrees, but the coordinates "
        f"{_fmt(_bounds(frame))} are not longitudes/latitudes. Pass {hint}."
    )
    raise CRSError(msg)


def _check_metres(frame: gpd.GeoDataFrame, source: pyproj.CRS, layer: str) -> None:
    """Raise when a projected CRS is declared for coordinates that look like lon/lat degrees."""
    minx, miny, maxx, maxy = _bounds(frame)
    if not (_in(minx, maxx, CHINA_LON) and _in(miny, maxy, CHINA_LAT)):
        return
    msg = (
        f"{layer}: declared CRS {source.name} is in metres, but the coordinates "
        f"{_fmt((minx, miny, maxx, maxy))} look like longitudes/latitudes in China. "
        "Pass source_crs='EPSG:4326' (or 'gcj02' / 'bd09' for web-map coordinates)."
    )
    raise CRSError(msg)


def _check_zone_prefix(frame: gpd.GeoDataFrame, source: pyproj.CRS, layer: str) -> None:
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
        hint = "EPSG:4548"
        what = f"have no zone number but {source.name} expects one"
    msg = (
        f"{layer}: eastings {minx:.0f}-{maxx:.0f} {what}, so the declared CRS does not match "
        f"the numbers. Pass source_crs='{hint}' (or the EPSG code of the data's real zone)."
    )
    raise CRSError(msg)


def to_working_crs(
    frame: gpd.GeoDataFrame,
    *,
    working_crs: str = WORKING_CRS,
    source: str = "layer",
) -> gpd.GeoDataFrame:
    """Return ``frame`` in the working CRS, reprojecting when needed.

    Unlike :func:`resolve_crs`, this never infers anything: a frame without
    CRS raises.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any layer with a declared CRS.
    working_crs : str, default "EPSG:4548"
        Target CRS.
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


def check_webmap_offset(
    frame: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    layer: str = "layer",
) -> str | None:
    """Warn when a layer spills over the boundary as if it were in GCJ-02 or BD-09.

    A web-map layer read as WGS84 is displaced by the web-map offset (about
    0.5 km for GCJ-02, 1.3 km for BD-09 at Tianqiao).  This compares the
    share of features (representative points) outside ``boundary`` as given
    and after undoing each offset; if undoing one cuts the share outside by
    at least :data:`WEBMAP_IMPROVEMENT` times, and at least
    :data:`WEBMAP_MIN_OUTSIDE` were outside, it warns.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer in a projected CRS (the working CRS).
    boundary : geopandas.GeoDataFrame, GeoSeries or shapely geometry
        District boundary in the same CRS.
    layer : str, default "layer"
        Name used in the message.

    Returns
    -------
    str or None
        The warning message, or None when nothing suspicious was found.

    Warns
    -----
    DataQualityWarning
        With the same message (also added as a note to ``frame``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> district = box(495_000, 4_055_000, 505_000, 4_065_000)
    >>> pts = gpd.GeoDataFrame(geometry=[Point(500_000, 4_060_000)] * 20, crs="EPSG:4548")
    >>> check_webmap_offset(pts, district) is None
    True
    """
    if frame.crs is None or not frame.crs.is_projected:
        msg = (
            f"{layer}: check_webmap_offset needs a projected CRS; got {frame.crs}. "
            "Call resolve_crs first."
        )
        raise CRSError(msg)
    area: Any = (
        shapely.union_all(np.asarray(boundary.geometry.array))
        if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries)
        else boundary
    )
    geoms = frame.geometry.array
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) < WEBMAP_MIN_FEATURES or area is None or shapely.is_empty(area):
        return None
    points = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(points), shapely.get_y(points)
    shapely.prepare(area)
    outside = 1.0 - float(np.mean(shapely.contains_xy(area, x, y)))
    if outside < WEBMAP_MIN_OUTSIDE:
        return None
    centre = shapely.centroid(area)
    to_geo = pyproj.Transformer.from_crs(frame.crs, 4326, always_xy=True)
    lon, lat = to_geo.transform(shapely.get_x(centre), shapely.get_y(centre))
    best: tuple[float, str, float, float] | None = None
    for kind, forward in (("gcj02", gcj02.wgs84_to_gcj02), ("bd09", gcj02.wgs84_to_bd09)):
        wlon, wlat = forward(lon, lat)
        sx, sy = to_geo.transform(float(wlon), float(wlat), direction="INVERSE")
        dx, dy = sx - shapely.get_x(centre), sy - shapely.get_y(centre)
        fixed = 1.0 - float(np.mean(shapely.contains_xy(area, x - dx, y - dy)))
        if outside >= WEBMAP_IMPROVEMENT * fixed and (best is None or fixed < best[0]):
            best = (fixed, kind, float(np.hypot(dx, dy)), outside)
    if best is None:
        return None
    fixed, kind, shift, _ = best
    label = _WEBMAP_LABEL[kind]
    message = (
        f"{layer}: {outside:.0%} of features lie outside the district boundary but only "
        f"{fixed:.0%} after undoing a {label} offset of about {shift:.0f} m; the layer is "
        f"probably in {label} web-map coordinates read as WGS84. Re-read it with "
        f"source_crs='{kind}'."
    )
    _warn(frame, layer, "suspected_webmap_offset", message, stacklevel=2)
    return message
