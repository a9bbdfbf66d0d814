"""The layers a map draws, where they come from, and the credit line that says so.

Maps take a :class:`MapLayers` (only the plan structure is required), a
:class:`~tqspatial.structure.PlanStructure`, or any object with the same
attributes, such as ``tq.datasets.tianqiao()``.

Examples
--------
>>> infer_provenance(toy_layers())
{'boundary': 'synthetic', 'anchors': 'synthetic', 'structure': 'synthetic'}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

from tqspatial.maps.style import Lang, bilingual
from tqspatial.structure import PlanStructure

__all__ = [
    "LAYER_NAMES",
    "PROVENANCE_LABELS",
    "MapLayers",
    "as_layers",
    "credit_line",
    "infer_provenance",
    "toy_layers",
]

#: Chinese and English names of the layers, in credit-line order.
LAYER_NAMES: dict[str, tuple[str, str]] = {
    "boundary": ("区界", "district boundary"),
    "districts": ("相邻区县界", "neighbouring districts"),
    "yellow_river": ("黄河", "Yellow River"),
    "anchors": ("地名点", "place anchors"),
    "structure": ("规划结构（轴、带、组团）", "plan structure (axis, belts, clusters)"),
    "water": ("水系", "water"),
    "parcels": ("地块", "parcels"),
}

#: Labels a layer may carry, with their Chinese and English wording.
PROVENANCE_LABELS: dict[str, tuple[str, str]] = {
    "real": ("真实数据", "Real"),
    "indicative": ("示意（非官方GIS）", "Indicative (not official GIS)"),
    "synthetic": ("合成数据", "Synthetic"),
    "unlabelled": ("未标注来源", "Source not labelled"),
}

#: Columns that name a layer's source (a layer with one counts as real data).
_SOURCE_COLUMNS = ("source", "basis")


@dataclasses.dataclass(frozen=True)
class MapLayers:
    """The vector layers of a cluster map, all in one projected CRS (metres).

    Attributes
    ----------
    structure : PlanStructure
        Axis, belts, clusters (any number of each).
    boundary : geopandas.GeoDataFrame, optional
        The district.
    districts : geopandas.GeoDataFrame, optional
        Every district of the city; those not in ``boundary`` are drawn grey.
    yellow_river : geopandas.GeoDataFrame, optional
        Main river (lines and/or polygons).
    water : geopandas.GeoDataFrame, optional
        Other water (channels, floodplain).
    anchors : geopandas.GeoDataFrame, optional
        Named points with ``name_zh``, ``name_en`` and ``role_in_plan``.
    parcels : geopandas.GeoDataFrame, optional
        Parcels (used by the atlas and the web map).
    """

    structure: PlanStructure
    boundary: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    yellow_river: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    anchors: gpd.GeoDataFrame | None = None
    parcels: gpd.GeoDataFrame | None = None


def as_layers(data: Any) -> MapLayers:  # noqa: ANN401 - duck-typed on purpose
    """Turn a dataset, a structure or a MapLayers into :class:`MapLayers`.

    Parameters
    ----------
    data : MapLayers, PlanStructure or object
        An object with a ``structure`` attribute and optionally ``boundary``,
        ``districts``, ``yellow_river``, ``water``, ``anchors``, ``parcels``.

    Returns
    -------
    MapLayers
        The layers.

    Raises
    ------
    TypeError
        If ``data`` has no plan structure.

    Examples
    --------
    >>> as_layers(42)
    Traceback (most recent call last):
    ...
    TypeError: maps need a plan structure: got int; pass a PlanStructure, ...
    """
    if isinstance(data, MapLayers):
        return data
    if isinstance(data, PlanStructure):
        return MapLayers(structure=data)
    structure = getattr(data, "structure", None)
    if not isinstance(structure, PlanStructure):
        msg = (
            f"maps need a plan structure: got {type(data).__name__}; pass a PlanStructure, a "
            "MapLayers or a dataset with a `structure` attribute (e.g. tq.datasets.tianqiao())"
        )
        raise TypeError(msg)
    return MapLayers(
        structure=structure,
        boundary=getattr(data, "boundary", None),
        districts=getattr(data, "districts", None),
        yellow_river=getattr(data, "yellow_river", None),
        water=getattr(data, "water", None),
        anchors=getattr(data, "anchors", None),
        parcels=getattr(data, "parcels", None),
    )


def _label_of(frame: pd.DataFrame) -> str:
    if "status" in frame.columns and (frame["status"].astype(object) == "indicative").all():
        return "indicative"
    if "synthetic" in frame.columns and frame["synthetic"].astype(bool).all():
        return "synthetic"
    if any(c in frame.columns for c in _SOURCE_COLUMNS):
        return "real"
    return "unlabelled"


def infer_provenance(layers: MapLayers) -> dict[str, str]:
    """Label each present layer real, indicative, synthetic or unlabelled from its columns.

    Parameters
    ----------
    layers : MapLayers
        The layers.

    Returns
    -------
    dict of str to str
        Layer name -> label.  ``status == "indicative"`` on every row makes
        a layer indicative, a true ``synthetic`` column synthetic, and a
        ``source`` or ``basis`` column real; anything else is unlabelled.

    Examples
    --------
    >>> infer_provenance(as_layers(toy_layers().structure))
    {'structure': 'synthetic'}
    """
    out: dict[str, str] = {}
    for name in LAYER_NAMES:
        if name == "structure":
            out[name] = _label_of(layers.structure.elements)
            continue
        frame = getattr(layers, name)
        if frame is not None:
            out[name] = _label_of(frame)
    return out


def credit_line(
    provenance: Mapping[str, str], lang: Lang, *, crs: str | None = None, extra: str = ""
) -> str:
    """Write the source line: which layers are real, indicative or synthetic.

    Parameters
    ----------
    provenance : mapping of str to str
        Layer name -> label (keys of :data:`LAYER_NAMES`, values of
        :data:`PROVENANCE_LABELS`).
    lang : {"zh", "en", "both"}
        Language.
    crs : str, optional
        CRS to name.
    extra : str, default ""
        Text appended at the end.

    Returns
    -------
    str
        One line per language.

    Examples
    --------
    >>> credit_line({"boundary": "real", "water": "synthetic"}, "en")
    'Real: district boundary. Synthetic: water.'
    """
    parts_zh, parts_en = [], []
    for label, (label_zh, label_en) in PROVENANCE_LABELS.items():
        names = [n for n in LAYER_NAMES if provenance.get(n) == label]
        if names:
            parts_zh.append(f"{label_zh}：" + "、".join(LAYER_NAMES[n][0] for n in names))
            parts_en.append(f"{label_en}: " + ", ".join(LAYER_NAMES[n][1] for n in names))
    zh = "；".join(parts_zh) + "。" if parts_zh else ""
    en = ". ".join(parts_en) + "." if parts_en else ""
    if crs:
        zh += f"坐标系 {crs}。"
        en += f" CRS {crs}."
    if extra:
        zh += extra
        en += f" {extra}"
    return bilingual(zh, en.strip(), lang)


def toy_layers() -> MapLayers:
    """Return a tiny plan (two clusters, one belt, a 4 km district) for quick examples.

    Returns
    -------
    MapLayers
        Structure, boundary, one anchor; EPSG:4548, marked synthetic.

    Examples
    --------
    >>> toy_layers().structure.cluster_ids
    ['west', 'east']
    """
    x0, y0 = 500_000.0, 4_060_000.0
    frame = gpd.GeoDataFrame(
        {
            "element_id": ["west", "east", "road"],
            "kind": ["cluster", "cluster", "belt"],
            "name_zh": ["西组团", "东组团", "中路带"],
            "name_en": ["West cluster", "East cluster", "Middle road belt"],
            "width_m": [None, None, 400.0],
            "synthetic": [True, True, True],
        },
        geometry=[
            box(x0 + 200, y0 + 200, x0 + 1900, y0 + 3800),
            box(x0 + 2100, y0 + 200, x0 + 3800, y0 + 3800),
            LineString([(x0, y0 + 2000), (x0 + 4000, y0 + 2000)]),
        ],
        crs="EPSG:4548",
    )
    boundary = gpd.GeoDataFrame(
        {"name": ["示例区"], "name_en": ["Toy District"], "synthetic": [True]},
        geometry=[box(x0, y0, x0 + 4000, y0 + 4000)],
        crs="EPSG:4548",
    )
    anchors = gpd.GeoDataFrame(
        {
            "anchor_id": ["station"],
            "name_zh": ["示例站"],
            "name_en": ["Toy station"],
            "role_in_plan": ["railway station"],
            "synthetic": [True],
        },
        geometry=[Point(x0 + 2000, y0 + 500)],
        crs="EPSG:4548",
    )
    return MapLayers(structure=PlanStructure.from_frame(frame), boundary=boundary, anchors=anchors)
