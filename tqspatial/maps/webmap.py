"""Interactive web map (folium / Leaflet) of clusters, corridors and parcels, usable offline.

The HTML is one standalone file: Leaflet's JavaScript and CSS (BSD-2-Clause,
shipped in ``tqspatial/maps/_static``), every feature and a subset of the CJK
map font (:mod:`tqspatial.maps.webfont`, an ``@font-face`` data URL holding only
the glyphs the page shows) are inlined, and nothing is linked, so the map works
with no network and shows Chinese text on machines without a CJK font.

Like the static cluster map (:func:`~tqspatial.maps.cluster.plot_cluster_map`)
it has a title (the district and its plan structure), a legend (clusters,
corridors, anchors, land outside clusters, neighbours), cluster and corridor
labels, the key anchors, the neighbouring districts in grey and a metric scale
bar; every layer of the district is clipped to the district boundary.
Background tiles are optional (``tiles=`` any folium tile name or URL); without
them the layers are drawn on a plain background.  Parcels (a layer switched off
at first, so the clusters read clearly) are filled in the land-use colours of the
national drawing standard (:func:`tqspatial.landuse.colour_table`) when they carry
land-use columns; layer names, tooltip headers and key values (land-use category,
renewal type, phase ...) come from :mod:`tqspatial.vocabulary` in the chosen language.

Examples
--------
>>> from tqspatial.maps.layers import toy_layers
>>> html = make_webmap(toy_layers()).get_root().render()
>>> "<script src=" in html, html.count("L.geoJson(")  # boundary, clusters, corridors
(False, 3)
"""

from __future__ import annotations

import dataclasses
import functools
import html as html_text
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from tqspatial._optional import require
from tqspatial.landuse import LANDUSE_COLOURS, colour_classes, colour_table
from tqspatial.maps.cluster import (
    _RIVER_COLOR,
    CLUSTER_ALPHA,
    EXTENT_MARGIN,
    OUTSIDE_COLOR,
    _corridor_label_points,
    _interior_points,
    _key_anchors,
    _long_axis_angle,
    _parts,
    _title,
)
from tqspatial.maps.layers import LAYER_NAMES as MAP_LAYER_NAMES
from tqspatial.maps.layers import MapLayers, as_layers, credit_line, infer_provenance
from tqspatial.maps.style import CORRIDOR_STYLES, Lang, bilingual, cluster_styles
from tqspatial.maps.webfont import WEB_FONT_FAMILY, font_face_css
from tqspatial.structure import CLUSTER_KIND, PlanStructure
from tqspatial.vocabulary import (
    CLUSTER_SPECIAL_NAMES,
    ELEMENT_KIND_NAMES,
    LAYER_NAMES,
    STRUCTURE_COLUMN_NAMES,
    VALUE_VOCABULARIES,
    Term,
    zh_headers,
)

if TYPE_CHECKING:
    import folium

__all__ = [
    "DEFAULT_PARCEL_FIELDS",
    "WEBMAP_FILE",
    "make_webmap",
    "save_webmap",
    "write_webmap",
]

logger = logging.getLogger(__name__)

#: File name of the web map the refresh writes (beside ``cluster_map.png``).
WEBMAP_FILE = "cluster_map.html"

#: Parcel columns shown in tooltips when present.
DEFAULT_PARCEL_FIELDS = ("parcel_id", "cluster_id", "landuse_category", "landuse_code", "area_m2")

#: Coordinate precision of the inlined GeoJSON (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6

#: Simplification tolerance (metres) of parcel outlines in the web map.
PARCEL_SIMPLIFY_M = 1.0

#: A piece of a cluster gets its own label when it covers this share of the district.
LABEL_MIN_PIECE_SHARE = 0.01

#: A neighbouring district is labelled when this share of the view shows it.
NEIGHBOUR_LABEL_MIN_SHARE = 0.02

#: Page background (outside the city's districts) and the fill of district land in no cluster.
BACKGROUND = "#F4F4F4"
DISTRICT_FILL = "#FFFFFF"

#: Width of the legend (left side); the district is fitted into the rest of the window.
LEGEND_WIDTH_PX = 220

#: Height kept free for the title above the district.
TITLE_HEIGHT_PX = 50

_WATER_FILL = "#A9D3F5"

#: Anchor marker of the static map (matplotlib marker) -> symbol drawn on the web map.
_ANCHOR_SYMBOLS = {"s": "■", "^": "▲", "*": "★", "o": "●"}

_WEB_CRS = "EPSG:4326"

#: The page's own CSS: background, fonts, title, legend and label boxes.
_PAGE_CSS = """
.leaflet-container{background:%(background)s}
html,body,.leaflet-container,.tq-title,.tq-legend{font-family:%(fonts)s}
.tq-title{position:fixed;top:8px;left:56px;max-width:calc(100%% - 420px);z-index:1000;
 background:rgba(255,255,255,.88);padding:4px 12px;border-radius:4px;font-size:18px;
 font-weight:bold;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.tq-title small{display:block;font-size:13px;font-weight:normal}
.tq-legend{position:fixed;bottom:34px;left:10px;z-index:1000;background:rgba(255,255,255,.92);
 padding:6px 10px;border-radius:4px;font-size:12px;line-height:18px;width:%(legend_px)dpx;
 max-height:calc(100%% - 130px);overflow-y:auto;box-sizing:border-box;
 box-shadow:0 1px 4px rgba(0,0,0,.3)}
.tq-legend summary{font-weight:bold;font-size:13px;cursor:pointer}
.tq-legend .tq-key{display:inline-block;width:18px;height:11px;margin-right:6px;
 vertical-align:middle;box-sizing:border-box}
.tq-legend .tq-sym{display:inline-block;width:18px;margin-right:6px;text-align:center}
.tq-legend .tq-credit{margin-top:4px;font-size:10px;color:#555;white-space:normal}
.tq-label,.tq-anchor,.tq-neighbour{pointer-events:none}
.tq-label span,.tq-neighbour span{position:absolute;transform:translate(-50%%,-50%%);
 white-space:nowrap;text-align:center;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
.tq-label span{font-size:13px;font-weight:bold;color:#000}
.tq-label span.tq-corridor{font-size:12px;font-style:italic;font-weight:normal}
.tq-neighbour span{font-size:12px;color:#7A7A7A}
.tq-anchor .tq-sym{position:absolute;transform:translate(-50%%,-55%%);font-size:13px;
 color:#000;text-shadow:0 0 2px #fff}
.tq-anchor .tq-name{position:absolute;left:7px;top:-17px;font-size:11px;white-space:nowrap;
 text-shadow:0 0 3px #fff,0 0 3px #fff}
"""

#: Metric scale bar only; Leaflet's credit without its link (the page links nothing).
_SCALE_JS = (
    'L.control.scale({"imperial": false, "metric": true, "position": "bottomleft"})'
    ".addTo({{ this._parent.get_name() }});\n"
    '{{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");'
)

#: Page-level script: draw text labels as Leaflet div icons (no marker images to load).
_LABEL_JS = """
var tqMarkers = [];
// Labels as Leaflet div icons (no marker images to load): [candidates, html, class, rank].
function tqLabels(group, labels) {
  labels.forEach(function (l) {
    var m = L.marker(l[0][0], {
      icon: L.divIcon({className: l[2], html: l[1], iconSize: [0, 0]}),
      interactive: false, keyboard: false
    });
    m.tqCandidates = l[0];
    m.tqRank = l[3];
    m.addTo(group);
    tqMarkers.push(m);
  });
}
// Place labels by rank (cluster names first) at the first candidate position where they overlap
// no label placed before them, nor the title, legend or controls; hide those that fit nowhere.
function tqDeclutter(map) {
  function boxes(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  function run() {
    var kept = [];
    document.querySelectorAll(".tq-title, .tq-legend, .leaflet-control").forEach(function (el) {
      kept.push(el.getBoundingClientRect());
    });
    var shown = tqMarkers.filter(function (m) { return m._map; });
    shown.sort(function (a, b) { return a.tqRank - b.tqRank; });
    shown.forEach(function (m) {
      var text = m.getElement().querySelector(".tq-name") || m.getElement().firstChild;
      var placed = m.tqCandidates.some(function (c) {
        m.setLatLng(c);
        var r = text.getBoundingClientRect();
        var free = !kept.some(function (k) { return boxes(r, k); });
        if (free) { kept.push(r); }
        return free;
      });
      if (!placed) { m.setLatLng(m.tqCandidates[0]); }
      text.style.visibility = placed ? "visible" : "hidden";
    });
  }
  map.on("zoomend overlayadd overlayremove", function () { setTimeout(run, 0); });
  map.whenReady(run);
  if (document.fonts) { document.fonts.ready.then(run); }
}
"""


@functools.cache
def _label_point(geom: Any) -> tuple[float, float]:  # noqa: ANN401 - shapely geometry
    """Label position: the static map's most interior point of the biggest piece."""
    biggest = max(_parts(geom), key=lambda g: g.area)
    return _interior_points(biggest, n=1)[0]


def _corridor_label_candidates(
    geom: Any,  # noqa: ANN401 - shapely geometry
    avoid: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Return the static map's corridor label points, farthest from ``avoid`` first."""
    biggest = max(_parts(geom), key=lambda g: g.area)
    points = _corridor_label_points(biggest)
    if not avoid:
        return points
    xy, others = np.asarray(points), np.asarray(avoid)
    gaps = np.hypot(xy[:, None, 0] - others[None, :, 0], xy[:, None, 1] - others[None, :, 1])
    order = np.argsort(-gaps.min(axis=1), kind="stable")
    return [points[i] for i in order]


def _static(name: str) -> str:
    return resources.files("tqspatial.maps").joinpath("_static", name).read_text(encoding="utf-8")


def _say(term: Term, lang: Lang) -> str:
    return bilingual(term.zh, term.en, lang, sep=" / ")


def _translate(
    column: str, values: pd.Series, lang: Lang, vocabularies: Mapping[str, Mapping[str, Term]]
) -> pd.Series:
    """Show key values (categories, renewal types ...) in the map's language."""
    names = dict(vocabularies.get(column, {}))
    if column == "cluster_id":
        names.update(CLUSTER_SPECIAL_NAMES)
    if not names:
        return values
    return values.map(lambda v: v if v is None or v not in names else _say(names[v], lang))


def _fill_colours(frame: gpd.GeoDataFrame) -> pd.Series | None:
    """Land-use fill of each parcel: its colour class, else its category (None: no columns)."""
    table = colour_table()["colour"]
    by_category = None
    if "landuse_category" in frame.columns:
        by_category = frame["landuse_category"].map(LANDUSE_COLOURS).astype(object)
    if "landuse_canonical" in frame.columns:
        by_class = colour_classes(frame["landuse_canonical"]).map(table).astype(object)
        return (
            by_class.where(by_class.notna(), by_category) if by_category is not None else by_class
        )
    return by_category


def _as_text(column: str, values: pd.Series) -> pd.Series:
    """Tooltip text of a column: areas in m² as whole numbers, other floats to 2 decimals."""
    if pd.api.types.is_float_dtype(values):
        digits = 0 if column.endswith("_m2") else 2
        return values.map(lambda v: None if pd.isna(v) else f"{v:.{digits}f}")
    kept = values.astype(object).where(values.notna(), None)
    return kept.map(lambda v: v if v is None else str(v))


def _to_web(
    frame: gpd.GeoDataFrame,
    columns: Sequence[str],
    simplify_m: float = 0.0,
    *,
    lang: Lang = "en",
    extra: Mapping[str, pd.Series] | None = None,
    vocabularies: Mapping[str, Mapping[str, Term]] = VALUE_VOCABULARIES,
) -> str:
    keep = pd.DataFrame(index=frame.index)
    for column in [c for c in columns if c in frame.columns]:
        keep[column] = _translate(str(column), _as_text(column, frame[column]), lang, vocabularies)
    for column, values in (extra or {}).items():
        keep[column] = values.to_numpy()
    geoms = frame.geometry.simplify(simplify_m) if simplify_m > 0 else frame.geometry
    out = gpd.GeoDataFrame(keep, geometry=geoms.to_numpy(), crs=frame.crs).to_crs(_WEB_CRS)
    out = out.set_geometry(
        shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, COORD_DECIMALS)),
        crs=_WEB_CRS,
    )
    text: str = out.to_json(drop_id=True, to_wgs84=False, na="null")
    return text


def _aliases(fields: Sequence[str], lang: Lang) -> list[str]:
    """Tooltip headers of parcel fields in the map's language."""
    zh = zh_headers(fields, lang="zh")
    en = zh_headers(fields, lang="en")
    return [bilingual(zh[f], en[f], lang, sep=" / ") for f in fields]


def _same_dimension(geom: Any, dim: int) -> Any:  # noqa: ANN401 - shapely geometry
    """Drop the lower-dimension leftovers (points, lines) of a clipped polygon."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dim]
    if len(parts) == 1:
        return parts[0]
    return shapely.union_all(parts) if parts else shapely.Point()


def _clip_to(frame: gpd.GeoDataFrame, area: Any) -> gpd.GeoDataFrame:  # noqa: ANN401
    """Clip features to an area (the district), dropping those left empty.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in the CRS of ``area``.
    area : shapely geometry or None
        The clip polygon; ``None`` returns ``frame`` unchanged.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows that reach into ``area``, with geometries cut to it (a polygon
        keeps only its polygonal part, a line its linear part).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 1), box(5, 5, 6, 6)])
    >>> _clip_to(f, box(0, 0, 1, 1)).area.tolist()
    [1.0]
    """
    if area is None or frame.empty:
        return frame
    geoms = frame.geometry.to_numpy()
    shapely.prepare(area)
    inside = shapely.within(geoms, area)
    out = geoms.copy()
    cut = shapely.intersection(geoms[~inside], area)
    dims = shapely.get_dimensions(geoms[~inside])
    out[~inside] = [_same_dimension(g, int(d)) for g, d in zip(cut, dims, strict=True)]
    keep = ~shapely.is_empty(out)
    return frame[keep].set_geometry(out[keep], crs=frame.crs)


@functools.cache
def _to_lonlat(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), _WEB_CRS, always_xy=True)


def _lonlat(points: Iterable[tuple[float, float]], crs: Any) -> list[tuple[float, float]]:  # noqa: ANN401
    """(lat, lon) of projected points, rounded like the GeoJSON."""
    xy = np.asarray(list(points), dtype=float).reshape(-1, 2)
    lon, lat = _to_lonlat(CRS.from_user_input(crs).to_wkt()).transform(xy[:, 0], xy[:, 1])
    return [
        (round(float(a), COORD_DECIMALS), round(float(o), COORD_DECIMALS))
        for a, o in zip(np.atleast_1d(lat), np.atleast_1d(lon), strict=True)
    ]


def _lines(text: str) -> str:
    """HTML of a label, one line per language."""
    return "<br>".join(html_text.escape(t) for t in text.split("\n"))


def _in_crs(layers: MapLayers) -> MapLayers:
    """Put every layer in the structure's CRS (where the clipping and labelling is done)."""
    crs = layers.structure.elements.crs
    changes = {
        name: frame.to_crs(crs)
        for name in ("boundary", "districts", "rivers", "water", "anchors", "parcels")
        if (frame := getattr(layers, name)) is not None and crs is not None and frame.crs != crs
    }
    return dataclasses.replace(layers, **changes) if changes else layers


def _layer_name(layers: MapLayers, key: str, lang: Lang) -> str:
    """Name of a map layer: the profile's name, else the map layer names (maps.layers)."""
    zh, en = {**MAP_LAYER_NAMES, **layers.layer_names}[key]
    return bilingual(zh, en, lang, sep=" / ")


@dataclasses.dataclass(frozen=True)
class _Label:
    """A text label: candidate positions (best first), inner HTML, CSS class, rank (0 first)."""

    candidates: list[tuple[float, float]]
    html: str
    css_class: str
    rank: int


#: Label ranks: who keeps its place when labels collide.
_RANK_CLUSTER, _RANK_ANCHOR, _RANK_CORRIDOR, _RANK_NEIGHBOUR = range(4)

#: Positions tried for a corridor label (along its long axis).
_CORRIDOR_CANDIDATES = 8


class _Page:
    """What the page shows besides the GeoJSON layers: labels, legend rows, text for the font."""

    def __init__(self, web: Any, fmap: folium.Map, lang: Lang) -> None:  # noqa: ANN401
        self.web = web
        self.fmap = fmap
        self.lang = lang
        self.texts: list[str] = []
        self.legend: list[str] = []
        self.drawn: set[str] = {"structure"}  # layers drawn, as named in the credit line

    def group(self, name: str, *, layer: str, show: bool = True) -> folium.FeatureGroup:
        """Add a layer to the layer control; ``layer`` names it in the credit line."""
        self.texts.append(name)
        self.drawn.add(layer)
        group: folium.FeatureGroup = self.web.FeatureGroup(name=name, show=show)
        group.add_to(self.fmap)
        return group

    def geojson(self, group: folium.FeatureGroup, data: str, **kwargs: Any) -> None:  # noqa: ANN401
        self.texts.append(data)
        self.web.GeoJson(data, control=False, **kwargs).add_to(group)

    def labels(
        self,
        group: folium.FeatureGroup,
        rows: Sequence[_Label],
        crs: Any,  # noqa: ANN401 - pyproj CRS or anything it takes
    ) -> None:
        """Add text labels (positions in ``crs``) to a layer."""
        if not rows:
            return
        data = [
            [[list(p) for p in _lonlat(r.candidates, crs)], r.html, r.css_class, r.rank]
            for r in rows
        ]
        self.texts += [r.html for r in rows]
        group.add_child(
            _script(f"tqLabels({{{{ this._parent.get_name() }}}}, {json.dumps(data)});")
        )

    def key(self, swatch: str, label: str) -> None:
        self.texts.append(label)
        self.legend.append(f"<div>{swatch}{html_text.escape(label)}</div>")


def _swatch(fill: str, edge: str, *, opacity: float = 1.0, dashed: bool = False) -> str:
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    border = f"{'2px dashed' if dashed else '1px solid'} {edge}"
    style = f"background:rgba({r},{g},{b},{opacity});border:{border}"
    return f'<span class="tq-key" style="{style}"></span>'


def _add_base(page: _Page, layers: MapLayers, view: Any) -> Any:  # noqa: ANN401
    """Neighbours (grey, labelled), the district (white) and its water; return the clip area."""
    lang = page.lang
    others = layers.neighbours()
    if others is not None and not others.empty:
        group = page.group(_layer_name(layers, "districts", lang), layer="districts")
        names = [
            bilingual(str(r.get("name", "")), str(r.get("name_en", r.get("name", ""))), lang)
            for _, r in others.iterrows()
        ]
        frame = others.assign(name=[n.replace("\n", " / ") for n in names])
        page.geojson(
            group,
            _to_web(frame, ["name"]),
            style_function=lambda _: {
                "color": "#FFFFFF",
                "weight": 1,
                "fillColor": OUTSIDE_COLOR,
                "fillOpacity": 1.0,
            },
            tooltip=page.web.GeoJsonTooltip(fields=["name"], labels=False),
        )
        labels = []
        for name, geom in zip(names, others.geometry, strict=True):
            part = geom.intersection(view)
            if part.is_empty or part.area < NEIGHBOUR_LABEL_MIN_SHARE * view.area:
                continue
            inner = f"<span>{_lines(name)}</span>"
            labels.append(_Label([_label_point(part)], inner, "tq-neighbour", _RANK_NEIGHBOUR))
        page.labels(group, labels, others.crs)
        page.key(
            _swatch(OUTSIDE_COLOR, "#FFFFFF"),
            bilingual("相邻区县", "Neighbouring districts", lang, sep=" / "),
        )
    if layers.boundary is None or layers.boundary.empty:
        return None
    clip = layers.boundary.union_all()
    group = page.group(_say(LAYER_NAMES["boundary"], lang), layer="boundary")
    page.geojson(
        group,
        _to_web(layers.boundary, ["name"]),
        style_function=lambda _: {
            "color": "#222222",
            "weight": 2,
            "fillColor": DISTRICT_FILL,
            "fillOpacity": 1.0,
        },
    )
    page.key(
        _swatch(DISTRICT_FILL, "#999999"),
        bilingual("未纳入组团", "Not in a cluster", lang, sep=" / "),
    )
    water = layers.water
    if water is not None and not water.empty:
        polys = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
        if "feature" in polys.columns:
            polys = polys[polys["feature"].astype(object) != "floodplain"]
        polys = _clip_to(polys, clip)
        if not polys.empty:
            columns = ["name_zh"] if lang == "zh" else ["name_en"] if lang == "en" else []
            if lang == "both" and {"name_zh", "name_en"} <= set(polys.columns):
                polys = polys.assign(
                    name=polys["name_zh"].astype(str) + " / " + polys["name_en"].astype(str)
                )
                columns = ["name"]
            group = page.group(_layer_name(layers, "water", lang), layer="water")
            shown = [c for c in columns if c in polys.columns]
            page.geojson(
                group,
                _to_web(polys, shown),
                style_function=lambda _: {
                    "color": _RIVER_COLOR,
                    "weight": 0.8,
                    "fillColor": _WATER_FILL,
                    "fillOpacity": 1.0,
                },
                tooltip=page.web.GeoJsonTooltip(fields=shown, labels=False) if shown else None,
            )
            page.key(
                _swatch(_WATER_FILL, _RIVER_COLOR),
                bilingual("河流水系", "Rivers", lang, sep=" / "),
            )
    return clip


def _add_parcels(
    page: _Page,
    structure: PlanStructure,
    parcels: gpd.GeoDataFrame,
    parcel_fields: Sequence[str],
    clip: Any,  # noqa: ANN401
) -> None:
    lang = page.lang
    frame = _clip_to(parcels, clip)
    if frame.empty:
        return
    fields = [c for c in parcel_fields if c in frame.columns]
    fills = _fill_colours(frame)
    aliases = _aliases(fields, lang)
    page.texts += aliases
    elements = structure.elements
    clusters = {
        str(eid): Term(str(row["name_zh"]), str(row["name_en"])) for eid, row in elements.iterrows()
    }
    page.geojson(
        # off at first: the land-use fills would hide the clusters; one click shows them
        page.group(_say(LAYER_NAMES["parcels"], lang), layer="parcels", show=False),
        _to_web(
            frame,
            fields,
            PARCEL_SIMPLIFY_M,
            lang=lang,
            extra={"_fill": fills} if fills is not None else None,
            vocabularies={**VALUE_VOCABULARIES, "cluster_id": clusters},
        ),
        style_function=lambda f: {
            "color": "#888888",
            "weight": 0.3,
            "fillColor": f["properties"].get("_fill") or "#FFFFFF",
            "fillOpacity": 0.6 if f["properties"].get("_fill") else 0.0,
        },
        tooltip=page.web.GeoJsonTooltip(fields=fields, aliases=aliases) if fields else None,
    )


def _add_structure(page: _Page, layers: MapLayers, clip: Any, district_area: float) -> None:  # noqa: ANN401
    lang = page.lang
    elements = layers.structure.elements
    frame = _clip_to(elements, clip).reset_index()
    frame["name"] = [
        bilingual(str(zh), str(en), lang, sep=" / ")
        for zh, en in zip(frame["name_zh"], frame["name_en"], strict=True)
    ]
    styles = cluster_styles(layers.structure.cluster_ids)
    columns = ["element_id", "name", "kind", "lead_industries"]
    kinds = {"kind": ELEMENT_KIND_NAMES}

    def tooltip(part: pd.DataFrame) -> folium.GeoJsonTooltip:
        shown = [c for c in columns if c in part.columns]
        aliases = [_say(STRUCTURE_COLUMN_NAMES[c], lang) for c in shown]
        page.texts.extend(aliases)
        made: folium.GeoJsonTooltip = page.web.GeoJsonTooltip(fields=shown, aliases=aliases)
        return made

    clusters = frame[frame["kind"] == CLUSTER_KIND]
    group = page.group(_say(LAYER_NAMES["clusters"], lang), layer="structure")
    page.geojson(
        group,
        _to_web(clusters, columns, lang=lang, vocabularies=kinds),
        style_function=lambda f: {
            "color": styles[f["properties"]["element_id"]].color,
            "fillColor": styles[f["properties"]["element_id"]].color,
            "weight": 1.5,
            "fillOpacity": CLUSTER_ALPHA,
        },
        tooltip=tooltip(clusters),
    )
    labels: list[_Label] = []
    for row in clusters.itertuples():
        name = bilingual(str(row.name_zh), str(row.name_en), lang)
        for piece in shapely.get_parts(row.geometry):
            if piece.area >= LABEL_MIN_PIECE_SHARE * district_area:
                inner = f"<span>{_lines(name)}</span>"
                labels.append(_Label([_label_point(piece)], inner, "tq-label", _RANK_CLUSTER))
        page.key(
            _swatch(
                styles[str(row.element_id)].color,
                styles[str(row.element_id)].color,
                opacity=CLUSTER_ALPHA,
            ),
            bilingual(str(row.name_zh), str(row.name_en), lang, sep=" / "),
        )
    page.labels(group, labels, elements.crs)
    corridors = frame[frame["kind"] != CLUSTER_KIND]
    if corridors.empty:
        return
    group = page.group(_say(LAYER_NAMES["corridors"], lang), layer="structure")
    page.geojson(
        group,
        _to_web(
            corridors,
            columns,
            lang=lang,
            vocabularies=kinds,
            extra={"_kind": corridors["kind"].astype(str)},
        ),
        style_function=lambda f: {
            "color": CORRIDOR_STYLES.get(f["properties"]["_kind"], CORRIDOR_STYLES["other"]).color,
            "weight": 1.5,
            "dashArray": "6 4",
            "fillOpacity": 0.12,
        },
        tooltip=tooltip(corridors),
    )
    avoid = [label.candidates[0] for label in labels]
    labels = []
    for row in corridors.itertuples():
        style = CORRIDOR_STYLES.get(str(row.kind), CORRIDOR_STYLES["other"])
        candidates = _corridor_label_candidates(row.geometry, avoid)[:_CORRIDOR_CANDIDATES]
        avoid.append(candidates[0])
        full = elements.geometry.loc[row.element_id]
        angle = -_long_axis_angle(full)  # CSS turns clockwise
        inner = (
            f'<span class="tq-corridor" style="color:{style.color};'
            f'transform:translate(-50%,-50%) rotate({angle:.1f}deg)">'
            f"{_lines(bilingual(str(row.name_zh), str(row.name_en), lang))}</span>"
        )
        labels.append(_Label(candidates, inner, "tq-label", _RANK_CORRIDOR))
        page.key(
            _swatch(style.color, style.color, opacity=style.alpha, dashed=True),
            bilingual(str(row.name_zh), str(row.name_en), lang, sep=" / "),
        )
    page.labels(group, labels, elements.crs)


def _add_anchors(page: _Page, layers: MapLayers, clip: Any) -> None:  # noqa: ANN401
    anchors = layers.anchors
    if anchors is None or anchors.empty:
        return
    crs = layers.structure.elements.crs
    anchors = _clip_to(anchors, clip)
    lang = page.lang
    labels: list[_Label] = []
    seen: dict[str, str] = {}
    for row, (marker, kind_zh, kind_en) in _key_anchors(anchors, None):
        symbol = _ANCHOR_SYMBOLS.get(marker, _ANCHOR_SYMBOLS["o"])
        name = bilingual(str(row.get("name_zh", "")), str(row.get("name_en", "")), lang, sep=" ")
        inner = (
            f'<span class="tq-sym">{symbol}</span>'
            f'<span class="tq-name">{html_text.escape(name)}</span>'
        )
        point = (float(row.geometry.x), float(row.geometry.y))
        labels.append(_Label([point], inner, "tq-anchor", _RANK_ANCHOR))
        seen.setdefault(symbol, bilingual(kind_zh, kind_en, lang, sep=" / "))
    if not labels:
        return
    group = page.group(_layer_name(layers, "anchors", lang), layer="anchors")
    page.labels(group, labels, crs)
    for symbol, label in seen.items():
        page.key(f'<span class="tq-sym">{symbol}</span>', label)


def _page_css() -> str:
    fonts = (
        f'"{WEB_FONT_FAMILY}","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif'
    )
    return _PAGE_CSS % {"background": BACKGROUND, "fonts": fonts, "legend_px": LEGEND_WIDTH_PX}


def _add_title_and_legend(page: _Page, layers: MapLayers, title: str | None) -> None:
    """Title on top; legend (the keys collected while drawing, then the credit line) at left."""
    web, language = page.web, page.lang
    root = page.fmap.get_root()
    if title is None:
        title = _title(layers, language)
    if title:
        page.texts.append(title)
        first, *rest = (html_text.escape(line) for line in title.split("\n"))
        inner = first + "".join(f"<small>{line}</small>" for line in rest)
        root.html.add_child(  # type: ignore[attr-defined]
            web.Element(f'<div class="tq-title">{inner}</div>'), name="tq_title"
        )
    drawn = {k: v for k, v in infer_provenance(layers).items() if k in page.drawn}
    credit = credit_line(drawn, language, extra=" ".join(layers.credits), names=layers.layer_names)
    legend_title = bilingual("图例", "Legend", language, sep=" / ")
    page.texts += [legend_title, credit]
    credit_html = "<br>".join(html_text.escape(line) for line in credit.split("\n") if line)
    legend = (
        f'<div class="tq-legend"><details open><summary>{html_text.escape(legend_title)}</summary>'
        + "".join(page.legend)
        + (f'<div class="tq-credit">{credit_html}</div>' if credit_html else "")
        + "</details></div>"
    )
    root.html.add_child(web.Element(legend), name="tq_legend")  # type: ignore[attr-defined]


def _script(code: str) -> Any:  # noqa: ANN401 - a folium MacroElement
    """Make a folium element adding JavaScript (a Jinja template; ``this._parent``: its layer)."""
    web = require("folium", feature="the web map")
    template = require("folium.template", feature="the web map").Template
    element = web.MacroElement()
    element._template = template("{% macro script(this, kwargs) %}" + code + "\n{% endmacro %}")
    return element


def _number_elements(root: Any) -> None:  # noqa: ANN401 - branca element tree
    """Give every element a sequential id: the same map gives the same HTML bytes."""
    counter = 0

    def visit(element: Any) -> None:  # noqa: ANN401
        nonlocal counter
        counter += 1
        element._id = f"{counter:04d}"
        children = list(element._children.values())
        element._children.clear()
        for child in children:
            visit(child)
            element._children[child.get_name()] = child

    visit(root)


def make_webmap(
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    *,
    parcels: gpd.GeoDataFrame | None = None,
    parcel_fields: Sequence[str] = DEFAULT_PARCEL_FIELDS,
    lang: str = "zh",
    tiles: str | None = None,
    title: str | None = None,
    embed_font: bool = True,
) -> folium.Map:
    """Build an offline web map with title, legend, labels and tooltips, clipped to the district.

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        Layers (as for :func:`~tqspatial.maps.cluster.plot_cluster_map`); a
        district profile names the district in the title.
    parcels : geopandas.GeoDataFrame, optional
        Parcels to draw (e.g. the output of ``assign_parcels``); defaults to
        ``data.parcels`` when it has them.  Pass an empty frame for none.
    parcel_fields : sequence of str
        Parcel columns shown in the tooltip (missing ones are skipped).
    lang : {"zh", "en", "both"}, default "zh"
        Language of names.
    tiles : str, optional
        Folium tile layer (name or URL template); none by default, so the
        file needs no network.
    title : str, optional
        Title (a second line, after a newline, is set smaller); default the
        district and its plan structure, as on the static map (``""``: none).
    embed_font : bool, default True
        Embed the CJK font subset (:func:`~tqspatial.maps.webfont.font_face_css`).

    Returns
    -------
    folium.Map
        The map; save it with :func:`save_webmap`.

    Raises
    ------
    ValueError
        If ``lang`` is not one of the three choices.

    Examples
    --------
    >>> from tqspatial.maps.layers import toy_layers
    >>> m = make_webmap(toy_layers().structure, lang="en", embed_font=False)
    >>> page = m.get_root().render()
    >>> page.count("L.geoJson("), '"imperial": false' in page  # clusters, corridors
    (2, True)
    """
    layers = _in_crs(as_layers(data))
    if lang not in ("zh", "en", "both"):
        msg = f"lang={lang!r} is not supported; use 'zh', 'en' or 'both'"
        raise ValueError(msg)
    language: Lang = lang  # type: ignore[assignment]  # checked above
    web = require("folium", feature="the web map")
    extent = layers.boundary if layers.boundary is not None else layers.structure.elements
    x0, y0, x1, y1 = (float(v) for v in extent.total_bounds)
    pad = EXTENT_MARGIN * max(x1 - x0, y1 - y0)
    view = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    (lat0, lon0), (lat1, lon1) = _lonlat([(x0, y0), (x1, y1)], extent.crs)
    fmap: folium.Map = web.Map(
        location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2],
        tiles=tiles,
        prefer_canvas=False,
        control_scale=False,
        zoomSnap=0.25,
    )
    fmap.default_js = []  # Leaflet is inlined below; no CDN links
    fmap.default_css = []
    root = fmap.get_root()
    header = root.header  # type: ignore[attr-defined]
    header.add_child(web.Element(f"<style>{_static('leaflet.css')}</style>"), name="tq_leaflet_css")
    header.add_child(web.Element(f"<script>{_static('leaflet.js')}</script>"), name="tq_leaflet_js")
    header.add_child(web.Element(f"<script>{_LABEL_JS}</script>"), name="tq_labels_js")
    header.add_child(web.Element(f"<style>{_page_css()}</style>"), name="tq_page_css")

    page = _Page(web, fmap, language)
    clip = _add_base(page, layers, view)
    parcel_frame = parcels if parcels is not None else layers.parcels
    if parcel_frame is not None and not parcel_frame.empty:
        _add_parcels(page, layers.structure, parcel_frame.to_crs(extent.crs), parcel_fields, clip)
    district_area = clip.area if clip is not None else float(extent.union_all().area)
    _add_structure(page, layers, clip, district_area)
    _add_anchors(page, layers, clip)
    web.LayerControl(collapsed=False).add_to(fmap)
    fmap.add_child(_script(_SCALE_JS), name="tq_scale")

    _add_title_and_legend(page, layers, title)
    if embed_font:
        css = font_face_css("".join(page.texts))
        if css:
            header.add_child(web.Element(f'<style id="tq-font">{css}</style>'), name="tq_font")
    # fit without animation, so labels are placed (and decluttered) at the final zoom
    fit = {
        "paddingTopLeft": [LEGEND_WIDTH_PX + 20, TITLE_HEIGHT_PX],
        "paddingBottomRight": [10, 10],
        "animate": False,
    }
    bounds = json.dumps([[lat0, lon0], [lat1, lon1]])
    fmap.add_child(
        _script(
            f"{{{{ this._parent.get_name() }}}}.fitBounds({bounds}, {json.dumps(fit)});\n"
            "tqDeclutter({{ this._parent.get_name() }});"
        ),
        name="tq_view",
    )
    _number_elements(root)
    return fmap


def save_webmap(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write a web map as one standalone HTML file.

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`make_webmap`.
    path : str or os.PathLike
        Output ``.html``; folders are created.

    Returns
    -------
    pathlib.Path
        The file.

    Examples
    --------
    >>> import tempfile
    >>> from tqspatial.maps.layers import toy_layers
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_webmap(make_webmap(toy_layers()), f"{d}/m.html")
    ...     p.stat().st_size > 100_000
    True
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(fmap.get_root().render(), encoding="utf-8")
    logger.info("web map: %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out


def write_webmap(data: Any, folder: str | os.PathLike[str], *, lang: str = "zh") -> list[Path]:  # noqa: ANN401
    """Write the district's web map (:data:`WEBMAP_FILE`) into a folder, as the refresh does.

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        The layers (with parcels when they should be drawn).
    folder : str or os.PathLike
        Output folder (the refresh's ``maps/``).
    lang : {"zh", "en", "both"}, default "zh"
        Language of names.

    Returns
    -------
    list of pathlib.Path
        The file written, or nothing when folium (``tqspatial[web]``) is not
        installed (a warning is logged saying how to get it).

    Examples
    --------
    >>> import tempfile
    >>> from tqspatial.maps.layers import toy_layers
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_webmap(toy_layers(), d)]
    ['cluster_map.html']
    """
    if find_spec("folium") is None:
        logger.warning(
            "no web map: it needs folium; install it with pip install 'tqspatial[web]' "
            "(or set [maps] web = false)"
        )
        return []
    return [save_webmap(make_webmap(data, lang=lang), Path(folder) / WEBMAP_FILE)]
