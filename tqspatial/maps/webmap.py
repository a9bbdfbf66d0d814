"""Interactive web map (folium / Leaflet) of clusters, corridors and parcels, usable offline.

The HTML is standalone: Leaflet's JavaScript and CSS (BSD-2-Clause, shipped
in ``tqspatial/maps/_static``) and every feature are inlined, and no external
resource is linked, so the map works with no network.  Background tiles are
optional (``tiles=`` any folium tile name or URL); without them the vector
layers are drawn on a plain background.  Parcels are filled in the land-use
colours of the national drawing standard (:func:`tqspatial.landuse.colour_table`)
when they carry land-use columns; layer names, tooltip headers and key values
(land-use category, renewal type, phase ...) come from
:mod:`tqspatial.vocabulary` in the chosen language.

Examples
--------
>>> from tqspatial.maps.layers import toy_layers
>>> html = make_webmap(toy_layers()).get_root().render()
>>> "<script src=" in html, html.count("L.geoJson(")  # boundary, clusters, corridors
(False, 3)
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tqspatial._optional import require
from tqspatial.landuse import LANDUSE_COLOURS, colour_classes, colour_table
from tqspatial.maps.layers import as_layers
from tqspatial.maps.style import CORRIDOR_STYLES, Lang, bilingual, cluster_styles
from tqspatial.structure import CLUSTER_KIND
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

__all__ = ["DEFAULT_PARCEL_FIELDS", "make_webmap", "save_webmap"]

logger = logging.getLogger(__name__)

#: Parcel columns shown in tooltips when present.
DEFAULT_PARCEL_FIELDS = ("parcel_id", "cluster_id", "landuse_category", "landuse_code", "area_m2")

#: Coordinate precision of the inlined GeoJSON (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6

#: Simplification tolerance (metres) of parcel outlines in the web map.
PARCEL_SIMPLIFY_M = 1.0

_WEB_CRS = "EPSG:4326"


@functools.cache
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


def _to_web(
    frame: gpd.GeoDataFrame,
    columns: Sequence[str],
    simplify_m: float = 0.0,
    *,
    lang: Lang = "en",
    extra: Mapping[str, pd.Series] | None = None,
    vocabularies: Mapping[str, Mapping[str, Term]] = VALUE_VOCABULARIES,
) -> Any:  # noqa: ANN401
    keep = frame[[c for c in columns if c in frame.columns]].copy()
    for column in keep.columns:
        keep[column] = keep[column].astype(object).where(keep[column].notna(), None)
        keep[column] = keep[column].map(lambda v: v if v is None else str(v))
        keep[column] = _translate(str(column), keep[column], lang, vocabularies)
    for column, values in (extra or {}).items():
        keep[column] = values.to_numpy()
    geoms = frame.geometry.simplify(simplify_m) if simplify_m > 0 else frame.geometry
    out = gpd.GeoDataFrame(keep, geometry=geoms.to_numpy(), crs=frame.crs).to_crs(_WEB_CRS)
    out = out.set_geometry(
        shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, COORD_DECIMALS)),
        crs=_WEB_CRS,
    )
    return out.to_json(drop_id=True, to_wgs84=False, na="null")


def _aliases(fields: Sequence[str], lang: Lang) -> list[str]:
    """Tooltip headers of parcel fields in the map's language."""
    zh = zh_headers(fields, lang="zh")
    en = zh_headers(fields, lang="en")
    return [bilingual(zh[f], en[f], lang, sep=" / ") for f in fields]


def make_webmap(
    data: Any,  # noqa: ANN401 - MapLayers, PlanStructure or dataset
    *,
    parcels: gpd.GeoDataFrame | None = None,
    parcel_fields: Sequence[str] = DEFAULT_PARCEL_FIELDS,
    lang: str = "zh",
    tiles: str | None = None,
) -> folium.Map:
    """Build an offline-capable folium map with tooltips for clusters, corridors and parcels.

    Parameters
    ----------
    data : MapLayers, PlanStructure or dataset
        Layers (as for :func:`~tqspatial.maps.cluster.plot_cluster_map`).
    parcels : geopandas.GeoDataFrame, optional
        Parcels to draw (e.g. the output of ``assign_parcels``); defaults to
        ``data.parcels`` when it has them.  Pass an empty frame for none.
    parcel_fields : sequence of str
        Parcel columns shown in the tooltip (missing ones are skipped).
    lang : {"zh", "en", "both"}, default "zh"
        Language of names (the browser has its own fonts; no check needed).
    tiles : str, optional
        Folium tile layer (name or URL template); none by default, so the
        file needs no network.

    Returns
    -------
    folium.Map
        The map; save it with :func:`save_webmap`.

    Examples
    --------
    >>> from tqspatial.maps.layers import toy_layers
    >>> m = make_webmap(toy_layers().structure, lang="en")
    >>> m.get_root().render().count("L.geoJson(")  # clusters and corridors
    2
    """
    layers = as_layers(data)
    if lang not in ("zh", "en", "both"):
        msg = f"lang={lang!r} is not supported; use 'zh', 'en' or 'both'"
        raise ValueError(msg)
    elements = layers.structure.elements
    web = elements.to_crs(_WEB_CRS)
    x0, y0, x1, y1 = web.total_bounds
    web = require("folium", feature="the web map")
    fmap: folium.Map = web.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        tiles=tiles,
        prefer_canvas=False,
        control_scale=True,
    )
    fmap.default_js = []  # Leaflet is inlined below; no CDN links
    fmap.default_css = []
    header = fmap.get_root().header  # type: ignore[attr-defined]
    header.add_child(web.Element(f"<style>{_static('leaflet.css')}</style>"), name="tq_leaflet_css")
    header.add_child(web.Element(f"<script>{_static('leaflet.js')}</script>"), name="tq_leaflet_js")
    header.add_child(
        web.Element("<style>.leaflet-container{background:#f4f4f4}</style>"),
        name="tq_background",
    )

    frame = elements.reset_index()
    frame["name"] = [
        bilingual(str(zh), str(en), lang, sep=" / ")  # type: ignore[arg-type]
        for zh, en in zip(frame["name_zh"], frame["name_en"], strict=True)
    ]
    language: Lang = lang  # type: ignore[assignment]  # checked above
    if layers.boundary is not None:
        web.GeoJson(
            _to_web(layers.boundary, ["name"]),
            name=_say(LAYER_NAMES["boundary"], language),
            style_function=lambda _: {"color": "#222222", "weight": 2, "fill": False},
        ).add_to(fmap)
    parcel_frame = parcels if parcels is not None else layers.parcels
    if parcel_frame is not None and not parcel_frame.empty:
        fields = [c for c in parcel_fields if c in parcel_frame.columns]
        fills = _fill_colours(parcel_frame)
        web.GeoJson(
            _to_web(
                parcel_frame,
                fields,
                PARCEL_SIMPLIFY_M,
                lang=language,
                extra={"_fill": fills} if fills is not None else None,
            ),
            name=_say(LAYER_NAMES["parcels"], language),
            style_function=lambda f: {
                "color": "#888888",
                "weight": 0.3,
                "fillColor": f["properties"].get("_fill") or "#FFFFFF",
                "fillOpacity": 0.6 if f["properties"].get("_fill") else 0.0,
            },
            tooltip=web.GeoJsonTooltip(fields=fields, aliases=_aliases(fields, language))
            if fields
            else None,
        ).add_to(fmap)
    styles = cluster_styles(layers.structure.cluster_ids)
    clusters = frame[frame["kind"] == CLUSTER_KIND]
    columns = ["element_id", "name", "kind", "lead_industries"]
    kinds = {"kind": ELEMENT_KIND_NAMES}

    def structure_tooltip(frame: pd.DataFrame) -> folium.GeoJsonTooltip:
        shown = [c for c in columns if c in frame.columns]
        aliases = [_say(STRUCTURE_COLUMN_NAMES[c], language) for c in shown]
        tooltip: folium.GeoJsonTooltip = web.GeoJsonTooltip(fields=shown, aliases=aliases)
        return tooltip

    web.GeoJson(
        _to_web(clusters, columns, lang=language, vocabularies=kinds),
        name=_say(LAYER_NAMES["clusters"], language),
        style_function=lambda f: {
            "color": styles[f["properties"]["element_id"]].color,
            "fillColor": styles[f["properties"]["element_id"]].color,
            "weight": 1.5,
            "fillOpacity": 0.55,
        },
        tooltip=structure_tooltip(clusters),
    ).add_to(fmap)
    corridors = frame[frame["kind"] != CLUSTER_KIND]
    if not corridors.empty:
        web.GeoJson(
            _to_web(
                corridors,
                columns,
                lang=language,
                vocabularies=kinds,
                extra={"_kind": corridors["kind"].astype(str)},
            ),
            name=_say(LAYER_NAMES["corridors"], language),
            style_function=lambda f: {
                "color": CORRIDOR_STYLES.get(
                    f["properties"]["_kind"], CORRIDOR_STYLES["other"]
                ).color,
                "weight": 1.5,
                "dashArray": "6 4",
                "fillOpacity": 0.12,
            },
            tooltip=structure_tooltip(corridors),
        ).add_to(fmap)
    web.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[y0, x0], [y1, x1]])
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
