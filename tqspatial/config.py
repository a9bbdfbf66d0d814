"""The refresh job's configuration: a TOML file, validated before any work starts.

A config has one table per section (``[inputs]``, ``[parcels]``, ``[assign]``
...).  Every key has a default, so an empty file is a valid config that runs
the embedded Tianqiao dataset; ``tqspatial init-config`` writes the defaults
with their documentation as a file to edit.  Unknown sections or keys, and
values of the wrong type, are errors that list the valid choices: a typo
never silently falls back to a default.

``[inputs] profile`` names the district profile (:mod:`tqspatial.profile`): the
district's layers and planning policy.  The other ``[inputs]`` keys replace
single layers of the profile for this run (e.g. this month's parcels); empty
means "the profile's".  Paths are either ``embedded:<name>`` (a file of the
embedded dataset, shipped in the package as ``tqspatial/datasets/data/``) or a
path, relative to the config file's folder.

Examples
--------
>>> cfg = parse_config({"assign": {"min_cluster_share": 0.6}})
>>> cfg.assign.min_cluster_share, cfg.inputs.profile
(0.6, 'embedded:tianqiao_profile.toml')
>>> parse_config({"asign": {}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tqspatial.errors.ConfigError: config: unknown section [asign]; valid sections are ...
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tqspatial.errors import ConfigError
from tqspatial.profile import (
    PROVENANCE_LABELS,
    DistrictProfile,
    LayerSpec,
    load_profile,
    read_toml,
)

__all__ = [
    "Config",
    "config_digest",
    "default_config_text",
    "load_config",
    "parse_config",
]

EMBEDDED_PREFIX = "embedded:"

#: The embedded Tianqiao profile: the default district.
DEFAULT_PROFILE = "embedded:tianqiao_profile.toml"

#: ``[inputs]`` keys that replace a layer of the profile.
LAYER_INPUTS = ("boundary", "districts", "structure", "parcels", "facilities", "roads", "anchors")

#: Keys that moved into the district profile, with where they live now.
MOVED_KEYS = {
    ("inputs", "water"): "the profile's [layers] water",
    ("inputs", "yellow_river"): "the profile's [layers] rivers",
    ("inputs", "flood_depth"): "the profile's [layers] flood_depth and [[constraints]]",
    ("inputs", "population"): "nowhere: it was never used",
    ("supply", "flood_depth_threshold_m"): "the profile's [[constraints]] threshold",
    ("accessibility", "modes"): "nowhere: walk and drive are always both computed",
}


def _field(doc: str, *, default: object) -> Any:  # noqa: ANN401 - a dataclass field
    return dataclasses.field(default=default, metadata={"doc": doc})


@dataclasses.dataclass(frozen=True)
class InputsSection:
    """The district profile, and single layers of it replaced for this run ("" = the profile's)."""

    profile: str = _field(
        "district profile TOML: layers and policy (see tqspatial init-profile)",
        default=DEFAULT_PROFILE,
    )
    boundary: str = _field("district boundary (polygon)", default="")
    districts: str = _field("neighbouring districts (maps only)", default="")
    structure: str = _field("plan structure: axes, belts, clusters", default="")
    parcels: str = _field("land parcels", default="")
    facilities: str = _field("facilities (points with kind, capacity)", default="")
    roads: str = _field("road network: .osm(.bz2|.gz), .osm.pbf or .graphml", default="")
    anchors: str = _field("named places (CSV with lon/lat)", default="")


@dataclasses.dataclass(frozen=True)
class ParcelsSection:
    """How to read the parcel file."""

    layer: str = _field('layer in a multi-layer file; "" = the first layer', default="")
    source_crs: str = _field(
        'CRS of the coordinates when not declared: e.g. "EPSG:4527", "gcj02"; "" = infer',
        default="",
    )
    encoding: str = _field('attribute table encoding, e.g. "gbk"; "" = detect', default="")
    landuse_scheme: str = _field('"2023", "gb50137" or "sandiao"; "" = detect', default="")
    outside_district: str = _field(
        '"clip" parcels to the district boundary or only "flag" them', default="clip"
    )


@dataclasses.dataclass(frozen=True)
class AssignSection:
    """Parcel-to-cluster assignment."""

    min_cluster_share: float = _field(
        "a parcel belongs to its largest cluster only if that holds this share of it", default=0.5
    )


@dataclasses.dataclass(frozen=True)
class QualitySection:
    """When the input is too broken to publish."""

    max_reject_share: float = _field(
        "more rejected parcels than this share is bad input (exit code 2)", default=0.05
    )


@dataclasses.dataclass(frozen=True)
class SupplySection:
    """Urban-renewal land supply."""

    first_year: int = _field("first year of the near-term phase", default=2026)
    phase_years: tuple[int, ...] = _field(
        "last year of the near, mid and long term phases", default=(2030, 2035, 2040)
    )


@dataclasses.dataclass(frozen=True)
class AccessibilitySection:
    """Travel-time accessibility."""

    enabled: bool = _field("compute accessibility (the slowest stage)", default=True)
    max_snap_m: float = _field(
        "parcels farther than this from any road are reported", default=500.0
    )
    cumulative_minutes: float = _field(
        "window for cumulative opportunities (minutes)", default=15.0
    )


@dataclasses.dataclass(frozen=True)
class MapsSection:
    """Maps written by the refresh job."""

    enabled: bool = _field("write the overview map and the cluster atlas", default=True)
    lang: str = _field('label language: "zh", "en" or "both"', default="zh")
    dpi: int = _field("PNG resolution", default=300)
    web: bool = _field(
        "also write the offline web map maps/cluster_map.html (needs tqspatial[web])", default=True
    )


@dataclasses.dataclass(frozen=True)
class OutputSection:
    """Where and what to write."""

    dir: str = _field('output folder relative to the config; "" = data/processed', default="")
    xlsx: bool = _field("write the XLSX workbook with Chinese headers", default=True)


@dataclasses.dataclass(frozen=True)
class ChangesSection:
    """The change report against the inventory already in the output folder."""

    enabled: bool = _field(
        "compare with the previous inventory in the output folder (changes.*)", default=True
    )
    keep_previous: bool = _field(
        "keep the previous inventory as previous/ (hard links where possible)", default=True
    )
    iou_min: float = _field(
        "a parcel whose id changed counts as renamed at this overlap (IoU, 0-1]", default=0.95
    )


@dataclasses.dataclass(frozen=True)
class Config:
    """A validated refresh configuration.

    Attributes
    ----------
    inputs, parcels, assign, quality, supply, accessibility, maps, output, changes
        One frozen dataclass per TOML section; see :func:`default_config_text`
        for every key with its default and meaning.
    base_dir : pathlib.Path or None
        Folder that relative paths are resolved against (the config file's
        folder), or None for the current folder.
    """

    inputs: InputsSection = dataclasses.field(default_factory=InputsSection)
    parcels: ParcelsSection = dataclasses.field(default_factory=ParcelsSection)
    assign: AssignSection = dataclasses.field(default_factory=AssignSection)
    quality: QualitySection = dataclasses.field(default_factory=QualitySection)
    supply: SupplySection = dataclasses.field(default_factory=SupplySection)
    accessibility: AccessibilitySection = dataclasses.field(default_factory=AccessibilitySection)
    maps: MapsSection = dataclasses.field(default_factory=MapsSection)
    output: OutputSection = dataclasses.field(default_factory=OutputSection)
    changes: ChangesSection = dataclasses.field(default_factory=ChangesSection)
    base_dir: Path | None = None

    def input_path(self, name: str) -> Path | None:
        """Resolve an ``[inputs]`` entry to a file path.

        Parameters
        ----------
        name : str
            A key of ``[inputs]``, e.g. ``"profile"`` or ``"parcels"``.

        Returns
        -------
        pathlib.Path or None
            The file (``embedded:`` names resolve into the embedded dataset);
            None when the entry is empty (the profile's layer is used).

        Examples
        --------
        >>> Config().input_path("profile").name, Config().input_path("parcels")
        ('tianqiao_profile.toml', None)
        """
        value = getattr(self.inputs, name)
        if not value:
            return None
        if value.startswith(EMBEDDED_PREFIX):
            from tqspatial import datasets  # noqa: PLC0415 - datasets sits above config

            return datasets.raw_path(value.removeprefix(EMBEDDED_PREFIX))
        path = Path(value).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path

    def district_profile(self) -> DistrictProfile:
        """Load the profile named by ``[inputs] profile``.

        Returns
        -------
        DistrictProfile
            The validated profile.

        Examples
        --------
        >>> Config().district_profile().adcode
        '370105'
        """
        path = self.input_path("profile")
        if path is None:
            msg = "config: [inputs] profile is empty; name a district profile TOML"
            raise ConfigError(msg)
        return load_profile(path)

    def layers(self, profile: DistrictProfile) -> dict[str, LayerSpec]:
        """Return the profile's layers with this config's ``[inputs]`` replacements.

        Parameters
        ----------
        profile : DistrictProfile
            The district profile.

        Returns
        -------
        dict of str to LayerSpec
            Layer name -> spec; a replaced layer keeps the profile's names, and its
            provenance is the embedded file's label or, for the user's file, unknown.

        Examples
        --------
        >>> cfg = parse_config({"inputs": {"parcels": "/data/地块.gpkg"}})
        >>> cfg.layers(cfg.district_profile())["parcels"].path.name
        '地块.gpkg'
        """
        out = dict(profile.layers)
        for name in LAYER_INPUTS:
            path = self.input_path(name)
            if path is None:
                continue
            value = getattr(self.inputs, name)
            provenance = None
            if value.startswith(EMBEDDED_PREFIX):
                from tqspatial import datasets  # noqa: PLC0415 - datasets sits above config

                label = datasets.RAW_FILES.get(value.removeprefix(EMBEDDED_PREFIX))
                provenance = label if label in PROVENANCE_LABELS else None
            old = out.get(name)
            out[name] = LayerSpec(
                name=name,
                path=path,
                provenance=provenance,
                name_zh=old.name_zh if old else "",
                name_en=old.name_en if old else "",
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """Return the config as plain TOML-able data (without ``base_dir``).

        Returns
        -------
        dict
            ``{section: {key: value}}``.
        """
        out = dataclasses.asdict(self)
        out.pop("base_dir")
        return out


def _sections() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "base_dir"}


def _check_type(section: str, key: str, value: object, expected: object) -> object:
    where = f"[{section}] {key}"
    if typing.get_origin(expected) is tuple:
        item_type = typing.get_args(expected)[0]
        if not isinstance(value, list | tuple):
            msg = f"config: {where} must be a list, got {value!r}"
            raise ConfigError(msg)
        return tuple(_check_type(section, key, v, item_type) for v in value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(expected, type) and (
        not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))
    ):
        msg = f"config: {where} must be {expected.__name__}, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    return value


def parse_config(data: Mapping[str, Any], *, base_dir: Path | None = None) -> Config:
    """Validate a config mapping (parsed TOML) into a :class:`Config`.

    Parameters
    ----------
    data : mapping
        ``{section: {key: value}}``; missing sections and keys take defaults.
    base_dir : pathlib.Path, optional
        Folder for relative input paths.

    Returns
    -------
    Config
        The validated config.

    Raises
    ------
    ConfigError
        For an unknown section or key (the message lists the valid ones), a
        value of the wrong type, or an invalid choice.
    """
    sections = _sections()
    unknown = sorted(set(data) - set(sections))
    if unknown:
        valid = ", ".join(f"[{s}]" for s in sorted(sections))
        msg = f"config: unknown section [{unknown[0]}]; valid sections are {valid}"
        raise ConfigError(msg)
    built: dict[str, Any] = {}
    for name, cls in sections.items():
        table = data.get(name, {})
        if not isinstance(table, Mapping):
            msg = f"config: [{name}] must be a table of keys, got {table!r}"
            raise ConfigError(msg)
        hints = typing.get_type_hints(cls)
        bad = sorted(set(table) - set(hints))
        if bad:
            moved = MOVED_KEYS.get((name, bad[0]))
            hint = f" ({bad[0]} moved to {moved})" if moved else ""
            msg = (
                f"config: unknown key {bad[0]!r} in [{name}]; valid keys are "
                f"{', '.join(hints)}{hint}"
            )
            raise ConfigError(msg)
        values = {k: _check_type(name, k, v, hints[k]) for k, v in table.items()}
        built[name] = cls(**values)
    config = Config(**built, base_dir=base_dir)
    _check_choices(config)
    if not 0.0 < config.changes.iou_min <= 1.0:
        msg = f"config: [changes] iou_min must be in (0, 1], got {config.changes.iou_min}"
        raise ConfigError(msg)
    return config


def _check_choices(config: Config) -> None:
    choices: list[tuple[str, str, str | tuple[str, ...], set[str]]] = [
        ("parcels", "outside_district", config.parcels.outside_district, {"clip", "flag"}),
        (
            "parcels",
            "landuse_scheme",
            config.parcels.landuse_scheme,
            {"", "2023", "gb50137", "sandiao"},
        ),
        ("maps", "lang", config.maps.lang, {"zh", "en", "both"}),
    ]
    for section, key, value, valid in choices:
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if v not in valid:
                msg = (
                    f"config: [{section}] {key} = {v!r} is not valid; "
                    f"choose from {', '.join(repr(c) for c in sorted(valid))}"
                )
                raise ConfigError(msg)
    share = config.assign.min_cluster_share
    if not 0.0 < share <= 1.0:
        msg = f"config: [assign] min_cluster_share must be in (0, 1], got {share}"
        raise ConfigError(msg)
    positive = [
        ("maps", "dpi", float(config.maps.dpi), "a positive number of dots per inch"),
        ("accessibility", "max_snap_m", config.accessibility.max_snap_m, "metres > 0"),
        ("accessibility", "cumulative_minutes", config.accessibility.cumulative_minutes, "> 0"),
    ]
    for section, key, number, expected in positive:
        if not number > 0:  # also refuses NaN
            msg = f"config: [{section}] {key} = {number:g} is out of range; expected {expected}"
            raise ConfigError(msg)
    reject = config.quality.max_reject_share
    if not 0.0 <= reject <= 1.0:
        msg = f"config: [quality] max_reject_share = {reject:g} is out of range; expected 0-1"
        raise ConfigError(msg)
    years = config.supply.phase_years
    if len(years) != 3 or list(years) != sorted(set(years)) or years[0] < config.supply.first_year:  # noqa: PLR2004
        msg = (
            f"config: [supply] phase_years must be 3 increasing years from first_year "
            f"{config.supply.first_year}, got {list(years)}"
        )
        raise ConfigError(msg)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The file; None gives the defaults (the embedded dataset).

    Returns
    -------
    Config
        The validated config; relative paths resolve against the file's folder.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or fails validation; the
        message names the file.
    """
    if path is None:
        return Config()
    path = Path(path)
    hint = f" (write one with `tqspatial init-config {path}`)"
    data = read_toml(path, what="config", hint=hint)
    try:
        return parse_config(data, base_dir=path.resolve().parent)
    except ConfigError as exc:
        msg = f"{exc} (in {path})"
        raise ConfigError(msg) from exc


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def default_config_text() -> str:
    """Return the default config as commented TOML (what ``init-config`` writes).

    Returns
    -------
    str
        TOML text; parsing it gives the defaults.

    Examples
    --------
    >>> import tomllib
    >>> parse_config(tomllib.loads(default_config_text())) == Config()
    True
    """
    lines = [
        "# tqspatial refresh configuration.  Every key is optional; these are the defaults.",
        '# Input paths: "embedded:<name>" (the embedded Tianqiao dataset in the package) or a path',
        "# relative to this file's folder.  [inputs] profile names the district profile (its",
        "# layers and policy; write one with tqspatial init-profile); the other [inputs] keys",
        '# replace single layers of it ("" = the profile\'s).',
        "# Run: tqspatial refresh --config <this file>",
    ]
    for name, cls in _sections().items():
        lines += ["", f"[{name}]  # {(cls.__doc__ or '').strip()}"]
        for f in dataclasses.fields(cls):
            default = f.default
            lines.append(f"{f.name} = {_toml_value(default)}  # {f.metadata['doc']}")
    return "\n".join(lines) + "\n"


def config_digest(config: Config) -> str:
    """Return a SHA-256 of the config's values (for ``--if-changed``).

    Parameters
    ----------
    config : Config
        A validated config.

    Returns
    -------
    str
        Hex digest; equal configs give equal digests.
    """
    text = json.dumps(config.as_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
