"""A district profile: everything about one district that is data, not code.

A profile is one TOML file.  It names the district and its layers (paths relative to the
profile file) and holds the district's planning policy: which layers are hard constraints and
by what rule, how the urban area is defined, the anchors used for linkage, the barriers that
snapping may not cross, default capacity targets by cluster kind or lead industry, the mapping
of the district's facility kinds to the GB 50180-2018 vocabulary, and the map's focus, measure
and credits.  The generic modules take these as arguments; the embedded Tianqiao profile
(``tqspatial/datasets/data/tianqiao_profile.toml``) is the default, not an assumption.

Sections (every key is checked; unknown keys are errors listing the valid ones, and every
problem of a file is reported in one :class:`~tqspatial.errors.ConfigError`):

``[district]``
    ``name_zh``, ``name_en``, ``adcode`` (GB/T 2260 code), ``city_zh``, ``city_en``.
``[layers]``
    ``<name> = "path"`` or ``<name> = {path = "...", provenance = "real" | "indicative" |
    "synthetic", name_zh = "...", name_en = "...", attribution = "..."}``.  The names
    ``boundary``, ``districts``, ``structure``, ``parcels``, ``facilities``, ``roads``,
    ``anchors`` and ``rivers`` have fixed roles (:data:`ROLE_LAYERS`); any other name is a
    vector or raster layer (by extension) that constraints, the urban area and the barriers
    refer to.  A layer that is not listed is not used: nothing is borrowed from another
    district.
``[[constraints]]``
    ``name``, ``layer``, ``where`` (a row filter, see :class:`RowFilter`), ``buffer_m``,
    ``threshold`` and ``inclusive`` (raster layers: cells above the threshold), ``source``,
    ``name_zh`` / ``name_en`` (how tables name it; default: the layer's name).
``[urban_area]``
    ``rule`` = ``"side_of_barrier"`` (the part of the district on the side of ``layer`` /
    ``where`` that holds the anchor ``reference_anchor``), ``"layer"`` (the union of the
    selected polygons), ``"whole_district"`` or ``"none"`` (urban villages stay
    undetermined, with the reason); ``source``.
``[linkage]``
    ``anchors``: anchor ids the drive-time linkage table measures to; ``bridges``: also to
    every named bridge of the road network.
``[snapping]``
    ``barriers``: a list of ``{layer, where}`` whose polygons a parcel's connector to the
    road network may not cross.
``[[capacity]]``
    Default target FAR and floor-use mix: ``landuse_category`` (or ``"*"``), ``target_far``,
    ``shares`` (``{residential, commercial, office, industry}``, summing to 1), and which
    clusters the row applies to: ``element_id``, or ``lead_industry`` (clusters whose
    ``lead_industries`` list it; the first listed industry with a row wins), or ``kind``
    (``"*"`` for every cluster and unassigned land).
``[facilities]``
    ``kind_map``: the district's facility ``kind`` values -> the standard vocabulary
    (GB 50180-2018 names, e.g. ``clinic = "community_health_station"``).
``[maps]``
    ``focus_adcode`` / ``focus_name`` (the district in the districts layer), ``measure`` (the
    per-parcel accessibility column on maps and in the atlas) with ``measure_zh`` /
    ``measure_en``, ``measure_facility_kind``, ``credits`` (extra credit lines, e.g. data
    licences).

Examples
--------
>>> p = parse_profile({"district": {"name_zh": "示例区", "name_en": "Example"},
...                    "layers": {"boundary": "b.geojson", "water": "w.gpkg"},
...                    "constraints": [{"name": "river", "layer": "water",
...                                     "where": {"kind": "river"}, "buffer_m": 30}]})
>>> p.name_en, sorted(p.layers), p.constraints[0].where.describe()
('Example', ['boundary', 'water'], "kind == 'river'")
>>> parse_profile({"layers": {"boundary": 3}, "urban_area": {"rule": "city"}})
Traceback (most recent call last):
...
tqspatial.errors.ConfigError: profile: 2 problems: [layers] boundary must be a path ...
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from tqspatial.errors import ConfigError

__all__ = [
    "PROVENANCE_LABELS",
    "ROLE_LAYERS",
    "URBAN_AREA_RULES",
    "Condition",
    "ConstraintSpec",
    "DistrictProfile",
    "LayerSpec",
    "LinkageSpec",
    "MapsSpec",
    "RowFilter",
    "TargetSpec",
    "UrbanAreaSpec",
    "load_profile",
    "parse_profile",
    "profile_template",
    "read_toml",
]

#: Layer names with a fixed role (and a fixed reader); any other name is a plain vector/raster.
ROLE_LAYERS = (
    "boundary",
    "districts",
    "structure",
    "parcels",
    "facilities",
    "roads",
    "anchors",
    "rivers",
)

#: What a layer may say about where it comes from.
PROVENANCE_LABELS = ("real", "indicative", "synthetic")

#: How the urban area (for the 城中村 rule) may be defined.
URBAN_AREA_RULES = ("side_of_barrier", "layer", "whole_district", "none")

#: Row-filter operators: ``{column = value}`` is ``equals``; a table picks the operator.
FILTER_OPERATORS = ("equals", "in", "not_in", "contains")

#: File extensions read as rasters (everything else is a vector file).
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt")

#: Floor uses of the capacity targets (the keys of ``shares``).
TARGET_USES = ("residential", "commercial", "office", "industry")

UrbanRule = Literal["side_of_barrier", "layer", "whole_district", "none"]


@dataclasses.dataclass(frozen=True)
class Condition:
    """One test on one column of a layer.

    Attributes
    ----------
    column : str
        Column name.
    op : {"equals", "in", "not_in", "contains"}
        ``contains`` is a substring test on the text of the column.
    args : tuple of str
        The value(s) compared, as text.
    """

    column: str
    op: str
    args: tuple[str, ...]

    def describe(self) -> str:
        """Return the condition as short readable text.

        Returns
        -------
        str
            E.g. ``name_zh contains '河'``.
        """
        if self.op == "equals":
            return f"{self.column} == {self.args[0]!r}"
        if self.op == "contains":
            return f"{self.column} contains {self.args[0]!r}"
        return f"{self.column} {self.op.replace('_', ' ')} {list(self.args)!r}"


@dataclasses.dataclass(frozen=True)
class RowFilter:
    """A conjunction of :class:`Condition` (every condition must hold); empty keeps all rows.

    Attributes
    ----------
    conditions : tuple of Condition
        The tests.

    Examples
    --------
    >>> f = RowFilter.parse({"feature": {"in": ["channel", "floodplain"]},
    ...                      "name_zh": {"contains": "河"}}, where="x")
    >>> frame = pd.DataFrame({"feature": ["channel", "lake"], "name_zh": ["大河", "湖"]})
    >>> f.select(frame).index.tolist(), f.describe()
    ([0], "feature in ['channel', 'floodplain'] and name_zh contains '河'")
    """

    conditions: tuple[Condition, ...] = ()

    @classmethod
    def parse(cls, value: object, *, where: str, problems: list[str] | None = None) -> RowFilter:
        """Build a filter from its TOML form (``{column = value}`` or ``{column = {op = v}}``).

        Parameters
        ----------
        value : object
            The parsed ``where`` table (or None for no filter).
        where : str
            Where the filter sits in the profile, for messages.
        problems : list of str, optional
            Problems are appended here; without a list the first one raises.

        Returns
        -------
        RowFilter
            The filter (empty when ``value`` is None or malformed).

        Raises
        ------
        ConfigError
            If ``problems`` is None and the filter is malformed.
        """
        found: list[str] = [] if problems is None else problems
        before = len(found)
        conditions: list[Condition] = []
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            found.append(f"{where} where must be a table of column = value, got {value!r}")
        else:
            for column, test in value.items():
                cond = _condition(str(column), test, where=where, problems=found)
                if cond is not None:
                    conditions.append(cond)
        if problems is None and len(found) > before:
            raise ConfigError("profile: " + "; ".join(found))
        return cls(tuple(conditions))

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Return a boolean array: the rows of ``frame`` that pass every condition.

        Parameters
        ----------
        frame : pandas.DataFrame
            The layer; a missing column matches no row.

        Returns
        -------
        numpy.ndarray
            Boolean, one entry per row.
        """
        keep = np.ones(len(frame), dtype=bool)
        for cond in self.conditions:
            if cond.column not in frame.columns:
                return np.zeros(len(frame), dtype=bool)
            text = frame[cond.column].astype("string").fillna("")
            if cond.op == "equals":
                hit = text == cond.args[0]
            elif cond.op == "in":
                hit = text.isin(cond.args)
            elif cond.op == "not_in":
                hit = ~text.isin(cond.args)
            else:
                hit = text.str.contains(cond.args[0], regex=False)
            keep &= hit.to_numpy(dtype=bool)
        return keep

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of ``frame`` that pass the filter.

        Parameters
        ----------
        frame : pandas.DataFrame
            The layer.

        Returns
        -------
        pandas.DataFrame
            Same type as ``frame``.
        """
        return frame[self.mask(frame)]

    def missing_columns(self, frame: pd.DataFrame) -> list[str]:
        """Return the filter's columns that ``frame`` lacks.

        Parameters
        ----------
        frame : pandas.DataFrame
            The layer.

        Returns
        -------
        list of str
            Column names, in filter order.
        """
        return [c.column for c in self.conditions if c.column not in frame.columns]

    def describe(self) -> str:
        """Return the filter as short readable text (``all rows`` when empty).

        Returns
        -------
        str
            The conditions joined with ``and``.
        """
        return " and ".join(c.describe() for c in self.conditions) or "all rows"


def _condition(column: str, test: object, *, where: str, problems: list[str]) -> Condition | None:
    if isinstance(test, str | int | float | bool):
        return Condition(column, "equals", (str(test),))
    if isinstance(test, list):
        return Condition(column, "in", tuple(str(v) for v in test))
    if isinstance(test, Mapping) and len(test) == 1:
        op, value = next(iter(test.items()))
        if op in ("in", "not_in") and isinstance(value, list):
            return Condition(column, str(op), tuple(str(v) for v in value))
        if op in ("equals", "contains") and isinstance(value, str | int | float):
            return Condition(column, str(op), (str(value),))
    problems.append(
        f"{where} where.{column} = {test!r} is not a filter; use a value, a list, or a table "
        f'with one of {list(FILTER_OPERATORS)} (e.g. {{contains = "河"}})'
    )
    return None


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer of a profile.

    Attributes
    ----------
    name : str
        Layer name (a role of :data:`ROLE_LAYERS` or a free name).
    path : pathlib.Path
        The file.
    provenance : str or None
        ``real``, ``indicative`` or ``synthetic``; None when the profile does not say (maps
        then infer it from the layer's columns).
    name_zh, name_en : str
        How maps and reports name the layer ("" = the role's default name).
    attribution : str
        Licence / attribution text for the credit line and the manifest.
    """

    name: str
    path: Path
    provenance: str | None = None
    name_zh: str = ""
    name_en: str = ""
    attribution: str = ""

    @property
    def is_raster(self) -> bool:  # numpydoc ignore=RT01
        """Whether the file is read as a raster (by extension)."""
        return self.path.suffix.lower() in RASTER_SUFFIXES


@dataclasses.dataclass(frozen=True)
class ConstraintSpec:
    """A hard constraint on renewal supply, built from a profile layer.

    Attributes
    ----------
    name : str
        Snake-case name (used in column names ``constrained_<name>_m2``).
    layer : str
        Profile layer the constraint comes from.
    where : RowFilter
        Rows of a vector layer that form the constraint.
    buffer_m : float
        Setback added around the selected geometries (metres).
    threshold : float or None
        Raster layers: cells with a value above it are constrained.
    inclusive : bool
        Raster layers: ``>=`` instead of ``>``.
    source : str
        Basis of the rule (law, plan, assumption), shown in reports.
    name_zh, name_en : str
        How tables and reports name the constraint ("" = the layer's name).
    """

    name: str
    layer: str
    where: RowFilter = RowFilter()
    buffer_m: float = 0.0
    threshold: float | None = None
    inclusive: bool = False
    source: str = ""
    name_zh: str = ""
    name_en: str = ""


@dataclasses.dataclass(frozen=True)
class UrbanAreaSpec:
    """How the urban area of the 城中村 rule is defined (see :data:`URBAN_AREA_RULES`).

    Attributes
    ----------
    rule : str
        One of :data:`URBAN_AREA_RULES`.
    layer : str
        Layer of the barrier (``side_of_barrier``) or of the urban polygons (``layer``).
    where : RowFilter
        Rows of that layer.
    reference_anchor : str
        Anchor id on the urban side (``side_of_barrier``).
    source : str
        Basis of the definition.
    """

    rule: UrbanRule = "none"
    layer: str = ""
    where: RowFilter = RowFilter()
    reference_anchor: str = ""
    source: str = ""


@dataclasses.dataclass(frozen=True)
class LinkageSpec:
    """What the linkage table measures drive times to, besides the cluster cores.

    Attributes
    ----------
    anchors : tuple of str
        Anchor ids (``anchor_id`` of the anchors layer).
    bridges : bool or tuple of str
        Also every bridge of the road network (``True``), none (``False``) or
        the bridges of these names (e.g. a river's crossings).
    """

    anchors: tuple[str, ...] = ()
    bridges: bool | tuple[str, ...] = True


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """One default capacity target (target FAR and floor-use mix).

    Attributes
    ----------
    landuse_category : str
        Planning category the row applies to, or ``"*"``.
    target_far : float
        Target floor-area ratio of redeveloped land.
    shares : Mapping[str, float]
        Floor-use mix over :data:`TARGET_USES` (sums to 1).
    element_id, lead_industry, kind : str
        Which clusters the row is for: one element, the clusters listing a lead industry, or
        a kind (``"*"`` for every cluster and unassigned land).  Exactly one is set.
    """

    landuse_category: str
    target_far: float
    shares: Mapping[str, float]
    element_id: str = ""
    lead_industry: str = ""
    kind: str = ""


@dataclasses.dataclass(frozen=True)
class MapsSpec:
    """What the maps focus on and say.

    Attributes
    ----------
    focus_adcode, focus_name : str
        The district in the districts layer (by ``adcode``, else by ``name``).
    measure : str
        Per-parcel accessibility column on the thematic map and in the atlas.
    measure_zh, measure_en : str
        Its title.
    measure_facility_kind : str
        Facilities drawn on that map (a kind of the standard vocabulary).
    credits : tuple of str
        Extra credit lines (data licences, attribution).
    """

    focus_adcode: str = ""
    focus_name: str = ""
    measure: str = ""
    measure_zh: str = ""
    measure_en: str = ""
    measure_facility_kind: str = ""
    credits: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class DistrictProfile:
    """A validated district profile (see the module docstring for the TOML form).

    Attributes
    ----------
    name_zh, name_en, adcode, city_zh, city_en : str
        The district.
    layers : Mapping[str, LayerSpec]
        Layers by name.
    constraints : tuple of ConstraintSpec
        Hard constraints on supply, in report order.
    urban_area : UrbanAreaSpec
        Urban-area rule.
    linkage : LinkageSpec
        Linkage destinations.
    barriers : tuple of (str, RowFilter)
        Layers (and rows) snapping connectors may not cross.
    capacity : tuple of TargetSpec
        Default capacity targets.
    facility_kinds : Mapping[str, str]
        District kind -> standard kind.
    maps : MapsSpec
        Map focus, measure and credits.
    path : pathlib.Path or None
        The profile file.
    """

    name_zh: str = ""
    name_en: str = ""
    adcode: str = ""
    city_zh: str = ""
    city_en: str = ""
    layers: Mapping[str, LayerSpec] = dataclasses.field(default_factory=dict)
    constraints: tuple[ConstraintSpec, ...] = ()
    urban_area: UrbanAreaSpec = UrbanAreaSpec()
    linkage: LinkageSpec = LinkageSpec()
    barriers: tuple[tuple[str, RowFilter], ...] = ()
    capacity: tuple[TargetSpec, ...] = ()
    facility_kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)
    maps: MapsSpec = MapsSpec()
    path: Path | None = None

    def layer_path(self, name: str) -> Path | None:
        """Return the file of a layer, or None when the profile does not list it.

        Parameters
        ----------
        name : str
            Layer name.

        Returns
        -------
        pathlib.Path or None
            The file.

        Examples
        --------
        >>> DistrictProfile().layer_path("roads") is None
        True
        """
        spec = self.layers.get(name)
        return None if spec is None else spec.path

    def referenced_layers(self) -> list[str]:
        """Return the non-role layers the rules refer to (constraints, urban area, barriers).

        Returns
        -------
        list of str
            Layer names, in first-use order.
        """
        names = [c.layer for c in self.constraints]
        if self.urban_area.rule in ("side_of_barrier", "layer"):
            names.append(self.urban_area.layer)
        names += [layer for layer, _ in self.barriers]
        return [n for n in dict.fromkeys(names) if n not in ROLE_LAYERS]


# --------------------------------------------------------------------------- parsing

_SECTIONS = (
    "district",
    "layers",
    "constraints",
    "urban_area",
    "linkage",
    "snapping",
    "capacity",
    "facilities",
    "maps",
)
_DISTRICT_KEYS = ("name_zh", "name_en", "adcode", "city_zh", "city_en")
_LAYER_KEYS = ("path", "provenance", "name_zh", "name_en", "attribution")
_CONSTRAINT_KEYS = (
    "name", "layer", "where", "buffer_m", "threshold", "inclusive", "source", "name_zh", "name_en"
)  # fmt: skip
_URBAN_KEYS = ("rule", "layer", "where", "reference_anchor", "source")
_LINKAGE_KEYS = ("anchors", "bridges")
_SNAPPING_KEYS = ("barriers",)
_BARRIER_KEYS = ("layer", "where")
_TARGET_KEYS = ("element_id", "lead_industry", "kind", "landuse_category", "target_far", "shares")
_FACILITY_KEYS = ("kind_map",)
_MAPS_KEYS = (
    "focus_adcode",
    "focus_name",
    "measure",
    "measure_zh",
    "measure_en",
    "measure_facility_kind",
    "credits",
)


class _Reader:
    """Collects every problem of a profile while reading it."""

    def __init__(self, base: Path | None) -> None:
        self.base = base
        self.problems: list[str] = []

    def table(self, value: object, where: str, keys: Sequence[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problems.append(f"{where} must be a table, got {value!r}")
            return {}
        unknown = [k for k in value if k not in keys]
        if unknown:
            self.problems.append(
                f"{where}: unknown key(s) {unknown}; valid keys are {', '.join(keys)}"
            )
        return value

    def free_table(self, value: object, where: str) -> Mapping[str, Any]:
        """Return a table whose keys are names chosen by the user."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problems.append(f"{where} must be a table, got {value!r}")
            return {}
        return value

    def text(self, table: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
        value = table.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.problems.append(f"{where} {key} must be text, got {value!r}")
            return default
        return value

    def number(
        self, table: Mapping[str, Any], key: str, where: str, default: float | None
    ) -> float | None:
        value = table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.append(f"{where} {key} must be a number, got {value!r}")
            return default
        return float(value)

    def flag(self, table: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{where} {key} must be true or false, got {value!r}")
            return default
        return value

    def texts(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where} {key} must be a list of text, got {value!r}")
            return ()
        return tuple(value)

    def flag_or_texts(
        self, table: Mapping[str, Any], key: str, where: str, *, default: bool
    ) -> bool | tuple[str, ...]:
        value = table.get(key, default)
        if isinstance(value, list):
            return self.texts(table, key, where)
        return self.flag(table, key, where, default=default)

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute() and self.base is not None:
            path = self.base / path
        return path


def _bridges(reader: _Reader, linkage: Mapping[str, Any]) -> bool | tuple[str, ...]:
    """``[linkage] bridges``: true, false or a list of bridge names."""
    return reader.flag_or_texts(linkage, "bridges", "[linkage]", default=True)


def _layers(reader: _Reader, raw: object) -> dict[str, LayerSpec]:
    table = reader.free_table(raw, "[layers]")
    out: dict[str, LayerSpec] = {}
    for name, value in table.items():
        where = f"[layers] {name}"
        if isinstance(value, str):
            out[name] = LayerSpec(name=name, path=reader.path(value))
            continue
        if not isinstance(value, Mapping):
            reader.problems.append(
                f"{where} must be a path or a table with path = ..., got {value!r}"
            )
            continue
        entry = reader.table(value, where, _LAYER_KEYS)
        path = reader.text(entry, "path", where)
        if not path:
            reader.problems.append(f"{where} has no path")
            continue
        provenance = entry.get("provenance")
        if provenance is not None and provenance not in PROVENANCE_LABELS:
            reader.problems.append(
                f"{where} provenance = {provenance!r}; choose from {list(PROVENANCE_LABELS)}"
            )
            provenance = None
        out[name] = LayerSpec(
            name=name,
            path=reader.path(path),
            provenance=provenance,
            name_zh=reader.text(entry, "name_zh", where),
            name_en=reader.text(entry, "name_en", where),
            attribution=reader.text(entry, "attribution", where),
        )
    return out


def _array(reader: _Reader, raw: object, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.problems.append(f"{where} must be an array of tables ([[...]]), got {raw!r}")
        return []
    return raw


def _constraints(reader: _Reader, raw: object) -> tuple[ConstraintSpec, ...]:
    out = []
    for i, item in enumerate(_array(reader, raw, "[[constraints]]")):
        where = f"[[constraints]] #{i + 1}"
        entry = reader.table(item, where, _CONSTRAINT_KEYS)
        name = reader.text(entry, "name", where)
        layer = reader.text(entry, "layer", where)
        if not name.isidentifier() or name != name.lower():
            reader.problems.append(f"{where} name = {name!r}; expected a snake_case name")
        if not layer:
            reader.problems.append(f"{where} ({name}) has no layer")
        buffer_m = reader.number(entry, "buffer_m", where, 0.0) or 0.0
        if buffer_m < 0:
            reader.problems.append(f"{where} ({name}) buffer_m = {buffer_m:g}; expected >= 0")
        out.append(
            ConstraintSpec(
                name=name,
                layer=layer,
                where=RowFilter.parse(entry.get("where"), where=where, problems=reader.problems),
                buffer_m=buffer_m,
                threshold=reader.number(entry, "threshold", where, None),
                inclusive=reader.flag(entry, "inclusive", where, default=False),
                source=reader.text(entry, "source", where),
                name_zh=reader.text(entry, "name_zh", where),
                name_en=reader.text(entry, "name_en", where),
            )
        )
    names = [c.name for c in out]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        reader.problems.append(f"[[constraints]] names must be unique; repeated {dups}")
    return tuple(out)


def _urban_area(reader: _Reader, raw: object) -> UrbanAreaSpec:
    where = "[urban_area]"
    entry = reader.table(raw, where, _URBAN_KEYS)
    rule = reader.text(entry, "rule", where, "none")
    if rule not in URBAN_AREA_RULES:
        reader.problems.append(f"{where} rule = {rule!r}; choose from {list(URBAN_AREA_RULES)}")
        rule = "none"
    spec = UrbanAreaSpec(
        rule=rule,  # type: ignore[arg-type]
        layer=reader.text(entry, "layer", where),
        where=RowFilter.parse(entry.get("where"), where=where, problems=reader.problems),
        reference_anchor=reader.text(entry, "reference_anchor", where),
        source=reader.text(entry, "source", where),
    )
    if rule in ("side_of_barrier", "layer") and not spec.layer:
        reader.problems.append(f"{where} rule = {rule!r} needs layer = ...")
    if rule == "side_of_barrier" and not spec.reference_anchor:
        reader.problems.append(f"{where} rule = 'side_of_barrier' needs reference_anchor = ...")
    return spec


def _targets(reader: _Reader, raw: object) -> tuple[TargetSpec, ...]:
    out = []
    for i, item in enumerate(_array(reader, raw, "[[capacity]]")):
        where = f"[[capacity]] #{i + 1}"
        entry = reader.table(item, where, _TARGET_KEYS)
        selectors = [k for k in ("element_id", "lead_industry", "kind") if entry.get(k)]
        if len(selectors) != 1:
            reader.problems.append(
                f"{where} needs exactly one of element_id, lead_industry or kind; got {selectors}"
            )
        if entry.get("kind") not in (None, "", "*", "cluster"):
            reader.problems.append(
                f"{where} kind = {entry.get('kind')!r}; expected '*' (every cluster and unassigned "
                "land) or 'cluster'"
            )
        shares_raw = reader.table(entry.get("shares", {}), f"{where} shares", TARGET_USES)
        shares = {
            use: reader.number(shares_raw, use, f"{where} shares", 0.0) or 0.0
            for use in TARGET_USES
        }
        if abs(sum(shares.values()) - 1.0) > 1e-9 or min(shares.values()) < 0:  # noqa: PLR2004
            reader.problems.append(f"{where} shares {shares} must be >= 0 and sum to 1")
        far = reader.number(entry, "target_far", where, None)
        if far is None or far < 0:
            reader.problems.append(f"{where} target_far must be a number >= 0, got {far!r}")
        out.append(
            TargetSpec(
                landuse_category=reader.text(entry, "landuse_category", where, "*"),
                target_far=far or 0.0,
                shares=shares,
                element_id=reader.text(entry, "element_id", where),
                lead_industry=reader.text(entry, "lead_industry", where),
                kind=reader.text(entry, "kind", where),
            )
        )
    return tuple(out)


def _barriers(reader: _Reader, raw: object) -> tuple[tuple[str, RowFilter], ...]:
    entry = reader.table(raw, "[snapping]", _SNAPPING_KEYS)
    out = []
    for i, item in enumerate(_array(reader, entry.get("barriers"), "[snapping] barriers")):
        where = f"[snapping] barriers #{i + 1}"
        barrier = reader.table(item, where, _BARRIER_KEYS)
        layer = reader.text(barrier, "layer", where)
        if not layer:
            reader.problems.append(f"{where} has no layer")
        out.append(
            (layer, RowFilter.parse(barrier.get("where"), where=where, problems=reader.problems))
        )
    return tuple(out)


def _check_references(reader: _Reader, profile: DistrictProfile) -> None:
    layers = profile.layers
    for spec in profile.constraints:
        if spec.layer and spec.layer not in layers:
            reader.problems.append(
                f"[[constraints]] {spec.name}: layer {spec.layer!r} is not in [layers] "
                f"(listed: {sorted(layers)})"
            )
        elif spec.layer and layers[spec.layer].is_raster and spec.threshold is None:
            reader.problems.append(
                f"[[constraints]] {spec.name}: layer {spec.layer!r} is a raster; give threshold"
            )
    urban = profile.urban_area
    if urban.rule in ("side_of_barrier", "layer") and urban.layer and urban.layer not in layers:
        reader.problems.append(
            f"[urban_area] layer {urban.layer!r} is not in [layers] (listed: {sorted(layers)})"
        )
    needs_anchors = urban.rule == "side_of_barrier" or profile.linkage.anchors
    if needs_anchors and "anchors" not in layers:
        reader.problems.append(
            "[urban_area] reference_anchor / [linkage] anchors need an anchors layer in [layers]"
        )
    for layer, _ in profile.barriers:
        if layer and layer not in layers:
            reader.problems.append(
                f"[snapping] barrier layer {layer!r} is not in [layers] (listed: {sorted(layers)})"
            )


def parse_profile(data: Mapping[str, Any], *, path: Path | None = None) -> DistrictProfile:
    """Validate a profile mapping (parsed TOML) into a :class:`DistrictProfile`.

    Parameters
    ----------
    data : mapping
        ``{section: ...}`` as in the module docstring; every section is optional.
    path : pathlib.Path, optional
        The profile file: layer paths are relative to its folder, and messages name it.

    Returns
    -------
    DistrictProfile
        The validated profile.

    Raises
    ------
    ConfigError
        Listing every problem at once: unknown sections or keys (with the valid ones),
        values of the wrong type, unknown rules, references to layers that are not listed.
    """
    reader = _Reader(None if path is None else path.resolve().parent)
    unknown = [s for s in data if s not in _SECTIONS]
    if unknown:
        reader.problems.append(
            f"unknown section(s) {unknown}; valid sections are {', '.join(_SECTIONS)}"
        )
    district = reader.table(data.get("district"), "[district]", _DISTRICT_KEYS)
    linkage = reader.table(data.get("linkage"), "[linkage]", _LINKAGE_KEYS)
    facilities = reader.table(data.get("facilities"), "[facilities]", _FACILITY_KEYS)
    kind_map = reader.free_table(facilities.get("kind_map"), "[facilities] kind_map")
    bad_kinds = {k: v for k, v in kind_map.items() if not isinstance(v, str)}
    if bad_kinds:
        reader.problems.append(f"[facilities] kind_map values must be text, got {bad_kinds}")
    maps = reader.table(data.get("maps"), "[maps]", _MAPS_KEYS)
    profile = DistrictProfile(
        name_zh=reader.text(district, "name_zh", "[district]"),
        name_en=reader.text(district, "name_en", "[district]"),
        adcode=reader.text(district, "adcode", "[district]"),
        city_zh=reader.text(district, "city_zh", "[district]"),
        city_en=reader.text(district, "city_en", "[district]"),
        layers=_layers(reader, data.get("layers")),
        constraints=_constraints(reader, data.get("constraints")),
        urban_area=_urban_area(reader, data.get("urban_area")),
        linkage=LinkageSpec(
            anchors=reader.texts(linkage, "anchors", "[linkage]"),
            bridges=_bridges(reader, linkage),
        ),
        barriers=_barriers(reader, data.get("snapping")),
        capacity=_targets(reader, data.get("capacity")),
        facility_kinds={str(k): str(v) for k, v in kind_map.items()},
        maps=MapsSpec(
            focus_adcode=reader.text(maps, "focus_adcode", "[maps]"),
            focus_name=reader.text(maps, "focus_name", "[maps]"),
            measure=reader.text(maps, "measure", "[maps]"),
            measure_zh=reader.text(maps, "measure_zh", "[maps]"),
            measure_en=reader.text(maps, "measure_en", "[maps]"),
            measure_facility_kind=reader.text(maps, "measure_facility_kind", "[maps]"),
            credits=reader.texts(maps, "credits", "[maps]"),
        ),
        path=path,
    )
    _check_references(reader, profile)
    if reader.problems:
        where = f" {path}" if path is not None else ""
        count = len(reader.problems)
        head = f"profile{where}: " + (f"{count} problems: " if count > 1 else "")
        raise ConfigError(head + "; ".join(reader.problems))
    return profile


def load_profile(path: str | Path) -> DistrictProfile:
    """Read and validate a profile TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (``tqspatial init-profile`` writes a starting one).

    Returns
    -------
    DistrictProfile
        The validated profile; layer paths are resolved against the file's folder.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or fails validation; the message names
        the file and lists every problem.
    """
    path = Path(path)
    hint = (
        " (write a starting one with `tqspatial init-profile --district <name or adcode> <folder>`)"
    )
    return parse_profile(read_toml(path, what="profile", hint=hint), path=path)


def read_toml(path: Path, *, what: str, hint: str = "") -> dict[str, Any]:
    """Read a TOML file (a profile, config or scenarios file); name the file in every error.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    what : str
        What the file is, for the messages (``"profile"``, ``"config"`` ...).
    hint : str, optional
        Appended to the "not found" message (how to make one).

    Returns
    -------
    dict
        The parsed tables.

    Raises
    ------
    ConfigError
        If the file is missing or is not valid UTF-8 TOML.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{what} file not found: {path}{hint}"
        raise ConfigError(msg) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{what}: {path} is not valid TOML: {exc}"
        raise ConfigError(msg) from exc


def profile_template(
    *,
    name_zh: str,
    name_en: str,
    adcode: str,
    city_zh: str = "",
    city_en: str = "",
    layers: Mapping[str, str] | None = None,
) -> str:
    """Return a starting profile for a district: every section, documented, mostly commented.

    Parameters
    ----------
    name_zh, name_en, adcode, city_zh, city_en : str
        The district.
    layers : mapping of str to str, optional
        Layers already available (name -> path relative to the profile), e.g. the
        extracted boundary; the other layers are listed as comments to fill in.

    Returns
    -------
    str
        TOML text that :func:`parse_profile` accepts.

    Examples
    --------
    >>> text = profile_template(name_zh="历下区", name_en="Lixia District", adcode="370102",
    ...                         layers={"boundary": "boundary.geojson"})
    >>> p = parse_profile(tomllib.loads(text))
    >>> p.name_zh, sorted(p.layers), p.urban_area.rule
    ('历下区', ['boundary'], 'none')
    """
    given = dict(layers or {})

    def layer_line(name: str, example: str, doc: str) -> str:
        if name in given:
            return f'{name} = "{given[name]}"  # {doc}'
        return f'# {name} = "{example}"  # {doc}'

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"# District profile of {name_zh} ({name_en}): its layers and planning policy.",
        "# Written by `tqspatial init-profile`; edit it, then run",
        "#   tqspatial refresh --config tqspatial.toml",
        "# Paths are relative to this file.  A layer that is not listed is not used: nothing",
        "# is borrowed from another district.  Every key is checked; typos are errors.",
        "",
        "[district]",
        f"name_zh = {q(name_zh)}",
        f"name_en = {q(name_en)}",
        f"adcode = {q(adcode)}  # GB/T 2260 code",
        f"city_zh = {q(city_zh)}",
        f"city_en = {q(city_en)}",
        "",
        "# A layer is a path, or a table {path, provenance = real | indicative | synthetic,",
        "# name_zh, name_en, attribution} (provenance and attribution go on the maps' credit",
        "# line and into manifest.json).",
        "[layers]",
        layer_line("boundary", "boundary.geojson", "district polygon (required)"),
        layer_line("districts", "districts.geojson", "neighbouring districts (maps)"),
        layer_line(
            "structure",
            "plan_structure.geojson",
            "axes, belts, clusters (required; kind = 轴/带/组团)",
        ),
        layer_line("parcels", "parcels.gpkg", "land parcels (required)"),
        layer_line("facilities", "facilities.gpkg", "points with kind and capacity"),
        layer_line("roads", "roads.osm", "road network: .osm(.bz2|.gz), .osm.pbf or .graphml"),
        layer_line("anchors", "anchors.csv", "named places: anchor_id, name_zh, lon, lat"),
        layer_line("rivers", "rivers.geojson", "main rivers drawn on the maps"),
        layer_line("water", "water.gpkg", "water polygons (constraints, barriers, maps)"),
        '# flood_depth = "flood_depth.tif"  # any other layer: vector or GeoTIFF, by extension',
        "",
        "# Hard constraints on renewal supply: a layer, the rows that count (where), and a",
        "# setback (buffer_m) or, for a raster, a threshold.  Cite the rule in source.",
        "# [[constraints]]",
        '# name = "river"',
        '# name_zh = "河道及退让带"  # how tables name it (default: the layer\'s name)',
        '# layer = "water"',
        '# where = { name_zh = { contains = "河" }, feature = { in = ["channel"] } }',
        "# buffer_m = 30.0",
        '# source = "river setback (cite the local river management regulation)"',
        "",
        "# The urban area of the 城中村 rule: side_of_barrier (the side of a river holding an",
        "# anchor), layer (polygons), whole_district, or none (urban villages stay undetermined).",
        "[urban_area]",
        'rule = "none"',
        '# layer = "water"',
        '# where = { name_zh = { contains = "河" } }',
        '# reference_anchor = "<anchor_id of the district government>"',
        '# source = "working definition (the 城镇开发边界 is not public)"',
        "",
        "# Drive-time linkage from each cluster core to these anchors and to named bridges.",
        "[linkage]",
        "anchors = []",
        "bridges = true",
        "",
        "# Polygons a parcel's connector to the road network may not cross (river channels).",
        "[snapping]",
        'barriers = []  # e.g. [{ layer = "water", where = { feature = "channel" } }]',
        "",
        "# Default target FAR and floor-use mix of redeveloped land, by cluster lead industry",
        '# (lead_industry), by element (element_id) or for every cluster (kind = "*");',
        "# the library's generic rows fill the rest.",
        "# [[capacity]]",
        '# lead_industry = "高端服务"',
        '# landuse_category = "commercial"',
        "# target_far = 3.5",
        "# shares = { office = 0.7, commercial = 0.3 }",
        "",
        "# The district's facility kinds -> the GB 50180-2018 vocabulary of tqspatial.",
        "[facilities]",
        'kind_map = {}  # e.g. { "卫生服务站" = "community_health_station" }',
        "",
        "[maps]",
        f"focus_adcode = {q(adcode)}",
        'measure = "walk_primary_school_min"',
        'measure_zh = "步行至最近小学的时间"',
        'measure_en = "Walking time to primary school"',
        'measure_facility_kind = "primary_school"',
        "credits = []",
        "",
    ]
    return "\n".join(lines)
