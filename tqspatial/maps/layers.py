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
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

from tqspatial.maps.style import Lang, bilingual
from tqspatial.profile import DistrictProfile, LayerSpec
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

#: Chinese and English names of the layers, in credit-line order (a district profile may
#: rename a layer, e.g. its main river, through :attr:`MapLayers.layer_names`).
LAYER_NAMES: dict[str, tuple[str, str]] = {
    "boundary": ("区界", "district boundary"),
    "districts": ("相邻区县界", "neighbouring districts"),
    "rivers": ("主要河流", "main rivers"),
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
        Every district of the city; all but the focus district are drawn grey.
    rivers : geopandas.GeoDataFrame, optional
        Main rivers (lines and/or polygons).
    water : geopandas.GeoDataFrame, optional
        Other water (channels, floodplain).
    anchors : geopandas.GeoDataFrame, optional
        Named points with ``name_zh``, ``name_en`` and ``role_in_plan``.
    parcels : geopandas.GeoDataFrame, optional
        Parcels (used by the atlas and the web map).
    focus : str, optional
        The focus district in ``districts``: its ``adcode`` or ``name``.  Without it, the
        districts whose representative point lies in ``boundary`` are the focus.
    district_name : tuple of (str, str), optional
        Chinese and English name of the district for titles (default: the boundary's
        ``name`` / ``name_en`` columns).
    city_name : tuple of (str, str), optional
        Chinese and English name of the city for the locator inset (default: the districts'
        ``city`` column, untranslated).
    layer_names : mapping of str to (str, str), optional
        Names of layers in the credit line, overriding :data:`LAYER_NAMES`.
    credits : tuple of str
        Extra credit text (data licences, attribution), appended to the credit line.
    provenance : mapping of str to str
        Declared labels (``real`` / ``indicative`` / ``synthetic``) of layers; layers not
        listed are labelled from their columns (:func:`infer_provenance`).
    """

    structure: PlanStructure
    boundary: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    rivers: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    anchors: gpd.GeoDataFrame | None = None
    parcels: gpd.GeoDataFrame | None = None
    focus: str | None = None
    district_name: tuple[str, str] | None = None
    city_name: tuple[str, str] | None = None
    layer_names: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    credits: tuple[str, ...] = ()
    provenance: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def with_profile(
        self, profile: DistrictProfile, specs: Mapping[str, LayerSpec] | None = None
    ) -> MapLayers:
        """Return these layers named, focused and credited as a district profile says.

        Parameters
        ----------
        profile : DistrictProfile
            The district: its names, ``[maps]`` focus and credits, its layers' names,
            provenance and attribution.
        specs : mapping of str to LayerSpec, optional
            The layers actually used (e.g. the profile's with a config's replacements);
            default the profile's.

        Returns
        -------
        MapLayers
            A copy with :attr:`focus`, :attr:`district_name`, :attr:`city_name`,
            :attr:`layer_names`, :attr:`credits` and :attr:`provenance` set.

        Examples
        --------
        >>> from tqspatial.profile import parse_profile
        >>> p = parse_profile({"district": {"name_zh": "甲区", "name_en": "A", "adcode": "1"}})
        >>> toy_layers().with_profile(p).focus
        '1'
        """
        used = dict(profile.layers if specs is None else specs)
        attributions = sorted({s.attribution for s in used.values() if s.attribution})
        return dataclasses.replace(
            self,
            focus=profile.maps.focus_adcode or profile.maps.focus_name or profile.adcode or None,
            district_name=(profile.name_zh, profile.name_en or profile.name_zh)
            if profile.name_zh
            else None,
            city_name=(profile.city_zh, profile.city_en) if profile.city_zh else None,
            layer_names={
                name: (s.name_zh, s.name_en or s.name_zh) for name, s in used.items() if s.name_zh
            },
            credits=(*profile.maps.credits, *attributions),
            provenance={name: s.provenance for name, s in used.items() if s.provenance},
        )

    def neighbours(self) -> gpd.GeoDataFrame | None:
        """Return the districts drawn grey: every one but the focus district.

        Returns
        -------
        geopandas.GeoDataFrame or None
            Rows of :attr:`districts` (None without districts).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import box
        >>> d = gpd.GeoDataFrame({"adcode": ["1", "2"], "name": ["甲区", "乙区"]},
        ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
        >>> MapLayers(structure=toy_layers().structure, districts=d, focus="2").neighbours()[
        ...     "name"].tolist()
        ['甲区']
        """
        if self.districts is None:
            return None
        others = self.districts
        if self.focus:
            hit = np.zeros(len(others), dtype=bool)
            for column in ("adcode", "name", "name_en"):
                if column in others.columns:
                    hit |= (others[column].astype(str) == str(self.focus)).to_numpy()
            return others[~hit]
        if self.boundary is not None:
            inside = others.representative_point().within(self.boundary.union_all())
            return others[~inside.to_numpy()]
        return others


def as_layers(data: Any) -> MapLayers:  # noqa: ANN401 - duck-typed on purpose
    """Turn a dataset, a structure or a MapLayers into :class:`MapLayers`.

    Parameters
    ----------
    data : MapLayers, PlanStructure or object
        An object with a ``structure`` attribute and optionally ``boundary``,
        ``districts``, ``rivers``, ``water``, ``anchors``, ``parcels`` and a
        district ``profile`` (which names, focuses and credits the map).

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
    profile = getattr(data, "profile", None)
    structure = getattr(data, "structure", None)
    if not isinstance(structure, PlanStructure):
        msg = (
            f"maps need a plan structure: got {type(data).__name__}; pass a PlanStructure, a "
            "MapLayers or a dataset with a `structure` attribute (e.g. tq.datasets.tianqiao())"
        )
        raise TypeError(msg)
    layers = MapLayers(
        structure=structure,
        boundary=getattr(data, "boundary", None),
        districts=getattr(data, "districts", None),
        rivers=getattr(data, "rivers", None),
        water=getattr(data, "water", None),
        anchors=getattr(data, "anchors", None),
        parcels=getattr(data, "parcels", None),
    )
    return layers.with_profile(profile) if isinstance(profile, DistrictProfile) else layers


#: Text that means "yes" in an attribute table (as GIS tools write booleans).
_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1", "是", "真"})


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in _TRUE_TEXT
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124 - NaN
        return False
    return bool(value)


def _label_of(frame: pd.DataFrame) -> str:
    if "status" in frame.columns and (frame["status"].astype(object) == "indicative").all():
        return "indicative"
    if "indicative" in frame.columns and frame["indicative"].map(_truthy).all():
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
        Layer name -> label: the declared :attr:`MapLayers.provenance`, else
        ``status == "indicative"`` or a true ``indicative``
        column on every row makes a layer indicative, a true ``synthetic`` column
        synthetic, and a
        ``source`` or ``basis`` column real; anything else is unlabelled.

    Examples
    --------
    >>> infer_provenance(as_layers(toy_layers().structure))
    {'structure': 'synthetic'}
    """
    out: dict[str, str] = {}
    for name in LAYER_NAMES:
        if name == "structure":
            out[name] = layers.provenance.get(name) or _label_of(layers.structure.elements)
            continue
        frame = getattr(layers, name)
        if frame is not None:
            out[name] = layers.provenance.get(name) or _label_of(frame)
    return out


def credit_line(
    provenance: Mapping[str, str],
    lang: Lang,
    *,
    crs: str | None = None,
    extra: str = "",
    names: Mapping[str, tuple[str, str]] | None = None,
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
    names : mapping of str to (str, str), optional
        Layer names overriding :data:`LAYER_NAMES` (e.g. a district's main river).

    Returns
    -------
    str
        One line per language.

    Examples
    --------
    >>> credit_line({"boundary": "real", "water": "synthetic"}, "en")
    'Real: district boundary. Synthetic: water.'
    """
    named = {**LAYER_NAMES, **(names or {})}
    parts_zh, parts_en = [], []
    for label, (label_zh, label_en) in PROVENANCE_LABELS.items():
        layers = [n for n in named if provenance.get(n) == label]
        if layers:
            parts_zh.append(f"{label_zh}：" + "、".join(named[n][0] for n in layers))
            parts_en.append(f"{label_en}: " + ", ".join(named[n][1] for n in layers))
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
