"""Interactive web map (folium / Leaflet) of clusters, corridors and parcels, usable offline.

The HTML is standalone: Leaflet's JavaScript and CSS (BSD-2-Clause, shipped
in ``tqspatial/maps/_static``) and every feature are inlined, and no external
resource is linked, so the map works with no network.  Background tiles are
optional (``tiles=`` any folium tile name or URL); without them the vector
layers are drawn on a plain background.

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
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from tqspatial._optional import require
from tqspatial.maps.layers import as_layers
from tqspatial.maps.style import CORRIDOR_STYLES, bilingual, cluster_styles
from tqspatial.structure import CLUSTER_KIND

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


def _to_web(frame: gpd.GeoDataFrame, columns: Sequence[str], simplify_m: float = 0.0) -> Any:  # noqa: ANN401
    keep = frame[[c for c in columns if c in frame.columns]].copy()
    for column in keep.columns:
        keep[column] = keep[column].astype(object).where(keep[column].notna(), None)
        keep[column] = keep[column].map(lambda v: v if v is None else str(v))
    geoms = frame.geometry.simplify(simplify_m) if simplify_m > 0 else frame.geometry
    out = gpd.GeoDataFrame(keep, geometry=geoms.to_numpy(), crs=frame.crs).to_crs(_WEB_CRS)
    out = out.set_geometry(
        shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, COORD_DECIMALS)),
        crs=_WEB_CRS,
    )
    return out.to_json(drop_id=True, to_wgs84=False, na="null")


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
    if layers.boundary is not None:
        web.GeoJson(
            _to_web(layers.boundary, ["name"]),
            name=bilingual("区界", "District boundary", lang, sep=" / "),  # type: ignore[arg-type]
            style_function=lambda _: {"color": "#222222", "weight": 2, "fill": False},
        ).add_to(fmap)
    parcel_frame = parcels if parcels is not None else layers.parcels
    if parcel_frame is not None and not parcel_frame.empty:
        fields = [c for c in parcel_fields if c in parcel_frame.columns]
        web.GeoJson(
            _to_web(parcel_frame, fields, PARCEL_SIMPLIFY_M),
            name=bilingual("地块", "Parcels", lang, sep=" / "),  # type: ignore[arg-type]
            style_function=lambda _: {"color": "#888888", "weight": 0.3, "fillOpacity": 0.0},
            tooltip=web.GeoJsonTooltip(fields=fields) if fields else None,
        ).add_to(fmap)
    styles = cluster_styles(layers.structure.cluster_ids)
    clusters = frame[frame["kind"] == CLUSTER_KIND]
    columns = ["element_id", "name", "kind", "lead_industries"]
    web.GeoJson(
        _to_web(clusters, columns),
        name=bilingual("组团", "Clusters", lang, sep=" / "),  # type: ignore[arg-type]
        style_function=lambda f: {
            "color": styles[f["properties"]["element_id"]].color,
            "fillColor": styles[f["properties"]["element_id"]].color,
            "weight": 1.5,
            "fillOpacity": 0.55,
        },
        tooltip=web.GeoJsonTooltip(fields=[c for c in columns if c in clusters.columns]),
    ).add_to(fmap)
    corridors = frame[frame["kind"] != CLUSTER_KIND]
    if not corridors.empty:
        web.GeoJson(
            _to_web(corridors, columns),
            name=bilingual("轴带", "Axis and belts", lang, sep=" / "),  # type: ignore[arg-type]
            style_function=lambda f: {
                "color": CORRIDOR_STYLES.get(
                    f["properties"]["kind"], CORRIDOR_STYLES["other"]
                ).color,
                "weight": 1.5,
                "dashArray": "6 4",
                "fillOpacity": 0.12,
            },
            tooltip=web.GeoJsonTooltip(fields=[c for c in columns if c in corridors.columns]),
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
