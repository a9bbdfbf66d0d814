"""The GB 50180-2018 life circles (生活圈居住区): levels, distances and required facilities.

One home for the standard's figures, read from two package tables in ``tqspatial/data/``:

* ``life_circles_gb50180.csv`` -- per level the walking time and distance and the resident
  population of 表3.0.4 (居住区分级控制规模): 15 minutes, 800-1,000 m, 50,000-100,000;
  10 minutes, 500 m, 15,000-25,000; 5 minutes, 300 m, 5,000-12,000;
* ``life_circle_facilities_gb50180.csv`` -- per level the facilities a parcel must reach
  (配套设施 of 附录B) in the facility vocabulary of :mod:`tqspatial.vocabulary`, and the
  minimum park sizes of 表4.0.4 (居住区公园: 5 ha, 1 ha, 0.4 ha).

Every row carries its source and a ``status``: ``confirmed`` where a public source quoting
the standard was found, ``unconfirmed`` where the figure is as quoted by the issue that asked
for it (the standard's text itself was not available).  A district can pass other
requirements to :func:`tqspatial.accessibility.life_circle_coverage`.

Coverage is measured by walking *distance* on the network (the standard defines the levels by
distance), so it does not depend on a walking speed.  The speeds the table implies are
300 m / 5 min = 1.0 m/s, 500 m / 10 min = 0.83 m/s and 800-1,000 m / 15 min = 0.89-1.11 m/s
(:func:`implied_walk_speeds`).

Examples
--------
>>> LIFE_CIRCLE_DISTANCE_M
{'15min': 1000.0, '10min': 500.0, '5min': 300.0}
>>> [label for label, _, _ in LIFE_CIRCLE_REQUIREMENTS["10min"]]
['primary_school', 'fresh_market', 'park_1ha']
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io

__all__ = [
    "LIFE_CIRCLE_DISTANCE_M",
    "LIFE_CIRCLE_REQUIREMENTS",
    "implied_walk_speeds",
    "life_circle_facilities",
    "life_circle_levels",
    "requirement_names",
]

_LEVELS_FILE = "life_circles_gb50180.csv"
_FACILITIES_FILE = "life_circle_facilities_gb50180.csv"


def _read(name: str) -> tuple[dict[str, str], ...]:
    text = importlib.resources.files("tqspatial").joinpath("data", name).read_text("utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


@functools.cache
def life_circle_levels() -> tuple[dict[str, str], ...]:
    """Return the life-circle levels of GB 50180-2018 表3.0.4, one row per level.

    Returns
    -------
    tuple of dict
        Rows with ``level``, ``name_zh``, ``walk_minutes``, ``distance_min_m``,
        ``distance_m`` (the upper distance, used for coverage), ``population_min``,
        ``population_max``, ``source`` and ``status`` (all text, as in the CSV).

    Examples
    --------
    >>> [(r["level"], r["population_min"], r["population_max"]) for r in life_circle_levels()]
    [('15min', '50000', '100000'), ('10min', '15000', '25000'), ('5min', '5000', '12000')]
    """
    return _read(_LEVELS_FILE)


@functools.cache
def life_circle_facilities() -> tuple[dict[str, str], ...]:
    """Return the facilities each level requires, with their source and status.

    Returns
    -------
    tuple of dict
        Rows with ``level``, ``label`` (column stem of the coverage table), ``kind``
        (facility kind), ``name_zh``, ``name_en``, ``min_capacity`` (empty, or the minimum park area
        in m²), ``capacity_unit``, ``source`` and ``status``.

    Examples
    --------
    >>> [r["kind"] for r in life_circle_facilities() if r["level"] == "5min"]
    ['kindergarten', 'community_health_station', 'community_service_station', 'park']
    """
    return _read(_FACILITIES_FILE)


def implied_walk_speeds() -> dict[str, tuple[float, float]]:
    """Return the walking speeds (m/s) the levels' distances and times imply.

    Returns
    -------
    dict of str to (float, float)
        Level -> (speed at the lower distance, speed at the upper distance).

    Examples
    --------
    >>> {k: (round(a, 2), round(b, 2)) for k, (a, b) in implied_walk_speeds().items()}
    {'15min': (0.89, 1.11), '10min': (0.83, 0.83), '5min': (1.0, 1.0)}
    """
    speeds = {}
    for row in life_circle_levels():
        seconds = float(row["walk_minutes"]) * 60.0
        speeds[row["level"]] = (
            float(row["distance_min_m"]) / seconds,
            float(row["distance_m"]) / seconds,
        )
    return speeds


def requirement_names(level: str) -> dict[str, tuple[str, str]]:
    """Return the Chinese and English names of a level's required facilities, by label.

    Parameters
    ----------
    level : str
        A level of :func:`life_circle_levels` (``"15min"``, ``"10min"``, ``"5min"``).

    Returns
    -------
    dict of str to (str, str)
        Label (as in the ``lc_<label>_within`` columns) -> (Chinese, English) name, in
        the table's order; empty for an unknown level.

    Examples
    --------
    >>> requirement_names("10min")["park_1ha"]
    ('居住区公园（≥1 ha）', 'Residential park (≥ 1 ha)')
    """
    return {
        r["label"]: (r["name_zh"], r["name_en"])
        for r in life_circle_facilities()
        if r["level"] == level
    }


#: GB 50180-2018 walking distance (m) per life-circle level (表3.0.4; 15 minutes: the upper
#: end of 800-1,000 m).
LIFE_CIRCLE_DISTANCE_M: dict[str, float] = {
    row["level"]: float(row["distance_m"]) for row in life_circle_levels()
}
#: Required facilities per level: (label, kind, minimum capacity or None); park capacity is
#: its area in m² (表4.0.4).  From ``life_circle_facilities_gb50180.csv``.
LIFE_CIRCLE_REQUIREMENTS: dict[str, list[tuple[str, str, float | None]]] = {
    level: [
        (r["label"], r["kind"], float(r["min_capacity"]) if r["min_capacity"] else None)
        for r in life_circle_facilities()
        if r["level"] == level
    ]
    for level in LIFE_CIRCLE_DISTANCE_M
}
