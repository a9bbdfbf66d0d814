"""Map Chinese and pinyin field names to the canonical parcel schema and clean their values.

Chinese land data names its fields in Chinese (``地块编号``, ``用地性质`` ...)
or with pinyin initials (``DKBH``, ``YDXZ`` ...), and stores numbers as text
with thousands separators, units and words (``"1,234.5"``, ``"3456.7㎡"``,
``"约1985"``, ``"不详"``).  :func:`map_fields` adds the canonical columns of
:data:`tqspatial.validate.PARCEL_COLUMNS` (plus ``area_attr_m2`` for a declared
area attribute) next to the original ones, parses every value that has one
clear meaning and treats every other value as missing.  What was read, or
why a value is missing, is said per row in the ``parse_note`` column and
once per kind of finding in the quality log (:func:`tqspatial.quality.note`,
stage ``"fields"``, kinds ``"value_parsed"`` and ``"value_missing"``, with the
row ids and raw values as arrays).  Each distinct dirty value is parsed once,
so a million rows reading ``"约1985"`` cost one parse.

Land-use **names** of GB 50137-2011 (``二类居住用地``, ``商业用地`` ...) in the
land-use column are replaced by their codes (``R2``, ``B1``), so the column is
read as the GB 50137 scheme; English field names (``lu_code``, ``landuse``,
``built_year``, ``far``, ``area_m2`` ...) are recognised, and so are field names
cut mid-character at the ``.dbf`` 10-byte limit (``建成年�``).
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from tqspatial.errors import ConfigError
from tqspatial.landuse import landuse_table
from tqspatial.quality import logged_by_kind, note
from tqspatial.validate import PARCEL_COLUMNS, fold_key

__all__ = [
    "AREA_UNITS",
    "FIELD_ALIASES",
    "YEAR_MIN",
    "map_fields",
    "match_fields",
    "parse_value",
]

#: Field names recognised for each canonical column, best first (matched
#: case-insensitively, full-width characters folded, a unit in brackets ignored).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "parcel_id": (
        "parcel_id", "地块编号", "地块编码", "地块代码", "地块号", "宗地编号", "宗地代码",
        "宗地号", "DKBH", "DKBM", "DKDM", "ZDBH", "ZDDM", "parcelid", "parcel_no",
        "parcel_code", "plot_id", "lot_id",
    ),
    "landuse_code": (
        "landuse_code", "用地代码", "用地分类代码", "用地性质代码", "地类编码", "地类代码",
        "YDDM", "DLBM", "lu_code", "lucode", "landuse_cd", "land_use_code", "use_code",
        "用地性质", "用地类型", "用地分类", "地类", "YDXZ", "YDLX", "landuse", "land_use",
        "lu",
    ),
    "build_year": (
        "build_year", "建成年代", "建成年份", "建成时间", "建设年代", "建造年代", "建筑年代",
        "竣工年份", "竣工时间", "JCND", "JCNF", "JZND", "year_built", "built_year",
        "build_yr", "yr_built", "construction_year",
    ),
    "far": ("far", "容积率", "RJL", "plot_ratio", "floor_area_ratio"),
    "coverage": (
        "coverage", "建筑密度", "JZMD", "building_coverage", "site_coverage", "bcr",
    ),
    "floor_area_m2": (
        "floor_area_m2", "建筑面积", "总建筑面积", "JZMJ", "ZJZMJ", "floor_area", "gfa",
        "gross_floor_area",
    ),
    "area_attr_m2": (
        "area_attr_m2", "面积", "地块面积", "用地面积", "宗地面积", "占地面积", "图斑面积",
        "MJ", "DKMJ", "YDMJ", "ZDMJ", "TBMJ", "area_m2", "area", "parcel_area", "land_area",
        "site_area",
    ),
    "is_idle": ("is_idle", "是否闲置", "闲置", "闲置土地", "SFXZ", "idle", "vacant", "is_vacant"),
    "residents": (
        "residents", "人口", "常住人口", "居住人口", "人口数", "RK", "CZRK", "population", "pop",
    ),
    "jobs": (
        "jobs", "就业", "就业人数", "就业岗位", "岗位数", "JYRS", "JYGW", "employment",
        "employees",
    ),
}  # fmt: skip

#: Square metres per unit of area, by the names found in field names, values or ``area_unit=``.
AREA_UNITS: dict[str, float] = {
    "m2": 1.0,
    "平方米": 1.0,
    "平米": 1.0,
    "亩": 10_000.0 / 15.0,
    "mu": 10_000.0 / 15.0,
    "公顷": 10_000.0,
    "ha": 10_000.0,
    "hm2": 10_000.0,
    "万平方米": 10_000.0,
    "万m2": 10_000.0,
    "平方公里": 1_000_000.0,
    "km2": 1_000_000.0,
}

#: Values that mean "unknown" in Chinese and English tables.
PLACEHOLDERS = frozenset(
    {"不详", "未知", "无", "暂无", "待定", "空", "-", "--", "—", "——", "/", "?", "？", "na",
     "n/a", "#n/a", "null", "none", "nan", "unknown"}
)  # fmt: skip

#: Words before a number meaning "about": the number is kept, the note says so.
APPROX_PREFIXES = ("大约", "约为", "约", "≈", "~", "about ", "ca.")

#: Earliest plausible building year; the latest is the current year (later is the future).
YEAR_MIN = 1800

#: Relative difference between attribute and geometry area counted as a mismatch.
AREA_MISMATCH = 0.05

_PLAIN_ASCII_NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_UNIT_IN_NAME = re.compile(r"^(.*?)[(\[](.+?)[)\]]$")
_DECADE = re.compile(r"^\d{2,4}(年代|s)$")
_FLOAT_YEAR = re.compile(r"^(\d{4})\.0+$")
_SHORT_YEAR = re.compile(r"^\d{2}年?$")
_YEAR_RANGE = re.compile(r"^\d{4}\s*[-~至到]\s*\d{4}")
_YEAR = re.compile(r"^(\d{4})(?:年|[-/.]\d{1,2}(?:[-/.]\d{1,2})?|年\d{1,2}月(?:\d{1,2}日)?)?$")
_TRUE = frozenset({"是", "y", "yes", "true", "t", "1", "闲置"})
_FALSE = frozenset({"否", "n", "no", "false", "f", "0", "非闲置", "在用"})

_KINDS = {
    "parcel_id": "text",
    "landuse_code": "text",
    "build_year": "year",
    "far": "ratio",
    "coverage": "share",
    "floor_area_m2": "area",
    "area_attr_m2": "area",
    "is_idle": "flag",
    "residents": "count",
    "jobs": "count",
}
_COUNT_SUFFIXES = ("人", "个", "岗")

Parsed = tuple[Any, str, str]  # value, status ("ok" | "parsed" | "missing"), explanation


def _split_unit(name: str) -> tuple[str, str | None]:
    """Split ``"面积(亩)"`` into ``("面积", "亩")`` (after NFKC folding)."""
    folded = fold_key(name)
    found = _UNIT_IN_NAME.match(folded)
    if found:
        return found.group(1).strip(), found.group(2).strip().replace(" ", "")
    return folded, None


#: Bytes a dBASE field name may hold.
DBF_NAME_BYTES = 10


@functools.cache
def _alias_forms(alias: str) -> frozenset[str]:
    """Return the alias, and the alias cut mid-character at the ``.dbf`` name limit."""
    forms = {fold_key(alias)}
    for codec in ("utf-8", "gb18030"):
        raw = alias.encode(codec)
        if len(raw) > DBF_NAME_BYTES:
            cut = raw[:DBF_NAME_BYTES].decode(codec, errors="replace")
            if "\ufffd" in cut:
                forms.add(fold_key(cut))
    return frozenset(forms)


def match_fields(columns: list[str]) -> dict[str, str]:
    """Return ``{canonical: original}`` for the columns that have a canonical meaning.

    A name cut mid-character at the 10-byte ``.dbf`` limit and decoded with a
    replacement character (``"建成年\ufffd"``) matches the alias it is the
    start of.

    Parameters
    ----------
    columns : list of str
        Column names as read from a file.

    Returns
    -------
    dict
        For each canonical column, the first matching original column
        (aliases are tried in :data:`FIELD_ALIASES` order, best first).

    Examples
    --------
    >>> match_fields(["dkbh", "用地性质", "面积（亩）", "备注"])
    {'parcel_id': 'dkbh', 'landuse_code': '用地性质', 'area_attr_m2': '面积（亩）'}
    >>> match_fields(["建成年\ufffd"])
    {'build_year': '建成年\ufffd'}
    """
    bases = {column: _split_unit(column)[0] for column in columns}
    found: dict[str, str] = {}
    for canonical, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            forms = _alias_forms(alias)
            hits = [c for c in columns if bases[c] in forms and c not in found.values()]
            if hits:
                found[canonical] = hits[0]
                break
    return found


def _strip_unit(text: str, units: tuple[str, ...]) -> tuple[str, str | None]:
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit) and len(text) > len(unit):
            return text[: -len(unit)].strip(), unit
    return text, None


def _number(text: str) -> tuple[float | None, list[str]]:
    """Parse a plain or thousands-separated number; return (value, what was cleaned)."""
    if _NUMBER.match(text):
        return float(text), []
    if _THOUSANDS.match(text):
        return float(text.replace(",", "")), ["thousands separators removed"]
    return None, []


def parse_value(raw: object, kind: str, *, unit_m2: float = 1.0) -> Parsed:  # noqa: PLR0911
    """Parse one attribute value of a given kind.

    Parameters
    ----------
    raw : object
        The value as read (text, number, None).
    kind : {"year", "ratio", "share", "area", "count", "flag", "text"}
        What the value means.
    unit_m2 : float, default 1.0
        Square metres per unit for ``kind="area"`` when the value has no unit.

    Returns
    -------
    tuple
        ``(value, status, explanation)``; status is ``"ok"`` (clean),
        ``"parsed"`` (cleaned, explanation says how) or ``"missing"``
        (value is None, explanation says why).

    Examples
    --------
    >>> parse_value("1,234.5", "area")
    (1234.5, 'parsed', 'thousands separators removed')
    >>> parse_value("约1985", "year")[:2]
    (1985, 'parsed')
    >>> parse_value("1990年代", "year")
    (None, 'missing', 'a decade, not a year')
    >>> round(parse_value("3亩", "area")[0], 1)
    2000.0
    """
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or raw is pd.NA:
        return None, "missing", "no value"
    if kind == "flag":
        return _parse_flag(raw)
    if kind == "text":
        if isinstance(raw, float) and raw.is_integer():
            return str(int(raw)), "ok", ""
        return str(raw), "ok", ""
    how: list[str] = []
    if isinstance(raw, int | float | np.integer | np.floating) and not isinstance(raw, bool):
        value = float(raw) * (unit_m2 if kind == "area" else 1.0)
    else:
        parsed = _parse_text_number(str(raw), kind, unit_m2, how)
        if isinstance(parsed, str):
            return None, "missing", parsed
        value = parsed
    if value < 0:
        return None, "missing", "negative value"
    if kind == "year":
        why = _implausible_year(value)
        if why:
            return None, "missing", why
        return int(value), ("parsed" if how else "ok"), ", ".join(how)
    return value, ("parsed" if how else "ok"), ", ".join(how)


def _current_year() -> int:
    return datetime.datetime.now(tz=datetime.UTC).year


def _implausible_year(value: float) -> str:
    """Why ``value`` cannot be a building year, or "" when it can."""
    if not float(value).is_integer():
        return f"year {value:g} is not a whole year"
    if value < YEAR_MIN:
        return f"year {value:g} is before {YEAR_MIN}"
    if value > _current_year():
        return f"year {value:g} is in the future (after {_current_year()})"
    return ""


def _year_text(text: str, how: list[str]) -> str | None:
    """Reduce a year written as text to four digits, or return None with the reason in ``how``."""
    if _DECADE.match(text):
        how.append("a decade, not a year")
        return None
    if _YEAR_RANGE.match(text):
        how.append("a range of years, not one year")
        return None
    if _SHORT_YEAR.match(text):
        how.append("a two-digit year is ambiguous (19xx or 20xx?)")
        return None
    found = _YEAR.match(text)
    if found is None:
        how.append("not a year")
        return None
    if found.group(0) == found.group(1) + "年":
        how.append("unit '年' dropped")
    elif found.group(0) != found.group(1):
        how.append("date reduced to its year")
    return found.group(1)


def _drop_approx(text: str, how: list[str]) -> str:
    for prefix in APPROX_PREFIXES:
        if text.casefold().startswith(prefix):
            how.append(f"approximate value ({prefix.strip()!r} dropped)")
            return text[len(prefix) :].strip()
    return text


def _parse_text_number(raw: str, kind: str, unit_m2: float, how: list[str]) -> float | str:
    """Parse a number written as text; return the value, or the reason it is missing."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if text != raw.strip():
        how.append("full-width characters folded")
    if text == "":
        return "empty value"
    if text.casefold() in PLACEHOLDERS:
        return "a placeholder that means unknown"
    text = _drop_approx(text, how)
    factor = unit_m2 if kind == "area" else 1.0
    unit = None
    if kind == "year":
        text = _FLOAT_YEAR.sub(r"\1", text)  # "1985.0": a year stored as a float
        year = _year_text(text, how)
        if year is None:
            return how[-1]
        text = year
    elif kind == "area":
        text, unit = _strip_unit(text, tuple(AREA_UNITS))
        if unit:
            factor = AREA_UNITS[unit]
            how.append(f"unit {unit!r} dropped" if factor == unit_m2 else f"converted from {unit}")
    elif kind == "share":
        text, unit = _strip_unit(text, ("%",))
        if unit:
            factor = 0.01
            how.append("percent converted to a share")
    elif kind == "count":
        text, unit = _strip_unit(text, _COUNT_SUFFIXES)
        if unit:
            how.append(f"unit {unit!r} dropped")
    value, cleaned = _number(text)
    if value is None:
        return "the text is not a number"
    how.extend(cleaned)
    return value * factor


def _parse_flag(raw: object) -> Parsed:
    if isinstance(raw, bool | np.bool_):
        return bool(raw), "ok", ""
    text = fold_key(raw)
    if text.endswith(".0"):
        text = text[:-2]
    if text in _TRUE:
        return True, "ok", ""
    if text in _FALSE:
        return False, "ok", ""
    if text == "":
        return None, "missing", "empty value"
    return None, "missing", "the value is not yes/no (expected 是/否, Y/N, 1/0, true/false)"


def _area_unit_factor(name: str | None, *, source: str) -> float | None:
    if name is None:
        return None
    key = fold_key(name).replace(" ", "")
    key = {"m²": "m2", "sqm": "m2", "hectare": "ha", "hectares": "ha"}.get(key, key)
    if key not in AREA_UNITS:
        msg = f"{source}: unknown area unit {name!r}; expected one of {sorted(AREA_UNITS)}"
        raise ConfigError(msg)
    return AREA_UNITS[key]


def _show(value: object) -> str:
    return f"{value:.10g}" if isinstance(value, float) else repr(value)


def _row_ids(index: pd.Index) -> npt.NDArray[np.int64]:
    """Source row ids: the index labels when they are integers, else positions."""
    if pd.api.types.is_integer_dtype(index.dtype):
        return np.asarray(index, dtype=np.int64)
    return np.arange(len(index), dtype=np.int64)


class _RowNotes:
    """Per-row ``parse_note`` texts and their aggregated quality-log entries."""

    def __init__(self, frame: gpd.GeoDataFrame, layer: str) -> None:
        self.layer = layer
        self.rows = _row_ids(frame.index)
        self.texts = np.full(len(frame), None, dtype=object)

    def add(
        self,
        positions: npt.NDArray[np.intp],
        texts: npt.NDArray[np.object_],
        *,
        kind: str,
        column: str,
        message: str,
        severity: str = "info",
        values: npt.NDArray[np.object_] | None = None,
    ) -> None:
        if not len(positions):
            return
        current = self.texts[positions]
        empty = pd.isna(current)
        joined = np.asarray(texts, dtype=object).copy()
        joined[~empty] = current[~empty] + "; " + joined[~empty]
        self.texts[positions] = joined
        note(
            layer=self.layer,
            stage="fields",
            kind=kind,
            column=column,
            severity=severity,
            message=message,
            rows=self.rows[positions],
            values=values,
        )


def _as_text(column: pd.Series) -> pd.Series:
    """Return identifiers and codes as text (whole floats without ``.0``)."""
    if pd.api.types.is_float_dtype(column):
        whole = column.notna() & (column % 1 == 0)
        text = column.astype("str").where(
            ~whole, column.where(whole, 0).astype("int64").astype("str")
        )
        return text.where(column.notna())
    return column.astype("str").where(column.notna())


def _plain_numbers(column: pd.Series, kind: str, unit_m2: float, canonical: str) -> pd.Series:
    """Values that are plain ASCII numbers needing no note (NaN elsewhere): the fast path."""
    if kind == "flag":
        return pd.Series(np.nan, index=column.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = column.astype("float64")
    else:
        text = column.astype("string").str.strip()
        plain = text.str.fullmatch(_PLAIN_ASCII_NUMBER).fillna(value=False).astype(bool)
        numbers = pd.to_numeric(text.where(plain), errors="coerce").astype("float64")
    if kind == "area":
        numbers = numbers * unit_m2
    good = numbers > 0 if canonical == "area_attr_m2" else numbers >= 0
    if kind == "year":
        good &= (numbers % 1 == 0) & numbers.between(YEAR_MIN, _current_year())
    return numbers.where(good)


def _parse_unique(raw: object, kind: str, unit_m2: float, canonical: str) -> Parsed:
    value, status, why = parse_value(raw, kind, unit_m2=unit_m2)
    if canonical == "area_attr_m2" and value is not None and value <= 0:
        return None, "missing", "a parcel's declared area must be above 0 m²"
    return value, status, why


def _parse_column(
    out: gpd.GeoDataFrame,
    source: str,
    canonical: str,
    *,
    unit_m2: float,
    notes: _RowNotes,
) -> pd.Series:
    """Parse one column; each distinct dirty value once, findings aggregated per reason."""
    kind = _KINDS[canonical]
    column = out[source]
    if kind == "text":
        return _as_text(column)
    fast = _plain_numbers(column, kind, unit_m2, canonical)
    slow = np.flatnonzero((fast.isna() & column.notna()).to_numpy())
    parsed: npt.NDArray[Any] = (
        np.full(len(column), None, dtype=object)
        if kind == "flag"
        else fast.to_numpy(float, copy=True)
    )
    if len(slow):
        raw = column.to_numpy(dtype=object)[slow]
        codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=False)
        results = [_parse_unique(u, kind, unit_m2, canonical) for u in uniques]
        values = np.array([r[0] for r in results], dtype=object)
        parsed[slow] = values[codes] if kind == "flag" else values[codes].astype(float)
        outcomes: dict[tuple[str, str], list[int]] = {}
        texts = np.empty(len(uniques), dtype=object)
        for number, (unique, (value, status, why)) in enumerate(zip(uniques, results, strict=True)):
            if status == "ok" or (status == "missing" and why == "no value"):
                continue
            outcomes.setdefault((status, why), []).append(number)
            texts[number] = (
                f"{source}: {unique!r} read as {_show(value)} ({why})"
                if status == "parsed"
                else f"{source}: {unique!r} treated as missing: {why}"
            )
        for (status, why), members in outcomes.items():
            take = np.flatnonzero(np.isin(codes, members))
            missing = status == "missing"
            notes.add(
                slow[take],
                texts[codes[take]],
                kind="value_missing" if missing else "value_parsed",
                column=source,
                severity="warning" if missing else "info",
                message=(
                    f"{source}: {{count}} values treated as missing ({why}): {{values}}"
                    if missing
                    else f"{source}: {{count}} values read after cleaning ({why}): {{values}}"
                ),
                values=raw[take],
            )
    if kind == "flag":
        return pd.Series(parsed, index=out.index, dtype="boolean")
    numbers = pd.Series(parsed, index=out.index, dtype="float64")
    whole = bool(((numbers % 1) == 0).where(numbers.notna(), other=True).all())
    if kind == "year" or (kind == "count" and whole):
        return numbers.astype("Int64")
    return numbers


def _coverage_as_share(
    out: gpd.GeoDataFrame, parsed: pd.Series, source: str, notes: _RowNotes
) -> pd.Series:
    """Convert a coverage column given in percent (values up to 100) to a 0-1 share."""
    raw = out[source]
    percent_marked = raw.astype("string").str.contains("%", regex=False).fillna(value=False)
    plain = parsed.where(~percent_marked.to_numpy())
    above = plain > 1
    if above.any() and ((above | (plain == 0)) | plain.isna()).all() and plain.max() <= 100:  # noqa: PLR2004
        converted = np.flatnonzero(plain.notna().to_numpy())
        note(
            layer=notes.layer, stage="fields", kind="unit_converted", column=source,
            rows=notes.rows[converted],
            message=f"{source}: values up to {plain.max():g} are percentages; divided by 100",
        )  # fmt: skip
        return parsed.where(percent_marked.to_numpy(), parsed / 100.0)
    too_big = (parsed > 1).fillna(value=False).to_numpy()
    positions = np.flatnonzero(too_big)
    values = raw.to_numpy(dtype=object)[positions]
    notes.add(
        positions,
        np.array([f"{source}: {v!r} treated as missing: coverage above 1" for v in values], object),
        kind="value_missing",
        column=source,
        severity="warning",
        message=f"{source}: {{count}} values treated as missing: coverage above 1 in a column "
        "that also has shares of 0-1 (percent or share?): {values}",
        values=values,
    )
    return parsed.where(~too_big)


def _fill_area_from_geometry(out: gpd.GeoDataFrame, source: str, notes: _RowNotes) -> None:
    if out.crs is None or not out.crs.is_projected:
        note(
            layer=notes.layer, stage="fields", kind="area_not_checked", column=source,
            severity="warning",
            message=f"{source}: layer is not in a projected CRS, so areas were not checked "
            "against the geometry",
        )  # fmt: skip
        return
    geometry_area = pd.Series(out.geometry.area.to_numpy(), index=out.index)
    attr = out["area_attr_m2"]
    both = attr.notna() & (geometry_area > 0)
    if both.any():
        ratio = float((attr[both] / geometry_area[both]).median())
        off = ((attr - geometry_area).abs() > AREA_MISMATCH * geometry_area) & both
        if off.any():
            hint = ""
            for unit in ("亩", "公顷"):
                if abs(ratio * AREA_UNITS[unit] - 1) < AREA_MISMATCH * 2:
                    hint = f" The values look like {unit}: pass area_unit={unit!r}."
            note(
                layer=notes.layer, stage="fields", kind="area_mismatch", column=source,
                rows=notes.rows[np.flatnonzero(off.to_numpy())], severity="warning",
                message=f"{source}: {{count}} of {int(both.sum())} areas differ from the "
                f"geometry by more than {AREA_MISMATCH:.0%} (median ratio {ratio:.4g}).{hint}",
            )  # fmt: skip
    fill = (attr.isna() & geometry_area.notna() & (geometry_area > 0)).to_numpy()
    positions = np.flatnonzero(fill)
    notes.add(
        positions,
        np.full(len(positions), f"{source}: no usable area, the geometry area is used", object),
        kind="area_from_geometry",
        column=source,
        message=f"{source}: {{count}} rows have no usable area, the geometry area is used",
    )
    source_col = pd.Series("attribute", index=out.index, dtype="str").where(attr.notna())
    out["area_attr_m2"] = attr.where(~fill, geometry_area)
    out["area_attr_source"] = source_col.where(~fill, "geometry")


def _already_clean(column: pd.Series, kind: str) -> bool:
    """Whether a column that already has its canonical name needs no parsing (typed values)."""
    if kind == "text":
        return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)
    if kind == "flag":
        return pd.api.types.is_bool_dtype(column)
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _name_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@functools.cache
def _gb50137_names() -> dict[str, str]:
    """GB 50137-2011 land-use name -> letter code, for the names that name one code only."""
    table = landuse_table("gb50137")
    keys = table["name_zh"].map(_name_key)
    unique = ~keys.duplicated(keep=False)
    return dict(zip(keys[unique], table["code"][unique], strict=True))


def _landuse_names_to_codes(codes: pd.Series, source: str, notes: _RowNotes) -> pd.Series | None:
    """Replace GB 50137 land-use names by their letter codes (other values kept); None if none."""
    text = codes.astype("string")
    names = _gb50137_names()
    uniques = text.dropna().unique()
    found = {u: names[_name_key(str(u))] for u in uniques if _name_key(str(u)) in names}
    if not found:
        return None
    mapped = text.map(found)
    hit = mapped.notna().to_numpy()
    positions = np.flatnonzero(hit)
    raw = text.to_numpy(dtype=object)[positions]
    code = mapped.to_numpy(dtype=object)[positions]
    notes.add(
        positions,
        np.array(
            [
                f"{source}: {r!r} read as GB 50137 code {c!r}"
                for r, c in zip(raw, code, strict=True)
            ],
            dtype=object,
        ),
        kind="landuse_name",
        column=source,
        message=f"{source}: {{count}} land-use names replaced by their GB 50137-2011 codes "
        "(so the column is read as GB 50137): {values}",
        values=np.array([f"{r}→{c}" for r, c in zip(raw, code, strict=True)], dtype=object),
    )
    return text.where(~hit, mapped).astype(object).where(codes.notna(), None)


@logged_by_kind()  # one log line per kind of finding, not per column
def map_fields(
    frame: gpd.GeoDataFrame,
    *,
    layer: str = "parcels",
    area_unit: str | None = None,
) -> gpd.GeoDataFrame:
    """Add canonical columns for Chinese / pinyin / English fields and clean their values.

    Original columns are kept unchanged; canonical columns are added next to
    them (a column that already has its canonical name is cleaned in place).
    Field names match case-insensitively (``dkbh`` = ``DKBH``), full-width
    characters folded, and a unit in brackets (``面积(亩)``) is read as the
    unit of an area column.  Values are parsed with :func:`parse_value`:
    clean values pass, unambiguous dirty ones are parsed (``value_parsed``),
    the rest become missing with the reason (``value_missing``): among them a
    declared area of 0 or less and a build year before :data:`YEAR_MIN` or
    after the current year.  A coverage column in percent becomes a 0-1
    share.  GB 50137 land-use names become their codes (``landuse_name``).
    When a declared area attribute (``area_attr_m2``) is missing or unusable
    in a row, the geometry area is used (``area_from_geometry``);
    ``area_attr_source`` tells which rows came from where.  Canonical
    columns that no field maps to are named in one ``columns_missing`` note.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer as read (ideally already in the working CRS, for the area check).
    layer : str, default "parcels"
        Layer name for the quality log.
    area_unit : str, optional
        Unit of the declared area attribute when its field name does not say:
        a key of :data:`AREA_UNITS` (``"m2"``, ``"mu"``/``"亩"``, ``"ha"``/``"公顷"``).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the canonical columns added and ``parse_note`` (text per
        row saying what was read or why a value is missing, else None).  No
        row is dropped.  Findings are recorded (stage ``"fields"``) with
        :func:`tqspatial.quality.note`, one entry per column and reason, and
        logged once per kind (:func:`tqspatial.quality.logged_by_kind`).

    Raises
    ------
    ConfigError
        If ``area_unit`` is not a known unit.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame(
    ...     {"DKBH": ["A1", "A2"], "面积(亩)": ["1.5", "不详"], "建成年代": ["约1985", "1990年代"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
    >>> out = map_fields(raw)
    >>> out["parcel_id"].tolist(), out["build_year"].tolist()
    (['A1', 'A2'], [1985, <NA>])
    >>> out["area_attr_m2"].round(1).tolist(), out["area_attr_source"].tolist()
    ([1000.0, 10000.0], ['attribute', 'geometry'])
    >>> for text in out["parse_note"].iloc[1].split("; "):
    ...     print(text)
    建成年代: '1990年代' treated as missing: a decade, not a year
    面积(亩): '不详' treated as missing: a placeholder that means unknown
    面积(亩): no usable area, the geometry area is used
    """
    explicit = _area_unit_factor(area_unit, source=layer)
    out = frame.copy()
    notes = _RowNotes(out, layer)
    matches = match_fields([str(c) for c in out.columns if c != out.geometry.name])
    for canonical, source in matches.items():
        unit_m2 = 1.0
        if _KINDS[canonical] == "area":
            in_name = _area_unit_factor(_split_unit(source)[1], source=f"{layer}: field {source}")
            declared = explicit if canonical == "area_attr_m2" else None
            unit_m2 = declared or in_name or 1.0
            if declared is not None and in_name is not None and declared != in_name:
                note(
                    layer=layer, stage="fields", kind="area_unit_conflict", column=source,
                    severity="warning", message=f"{source}: the field name gives a unit but "
                    f"area_unit={area_unit!r} was passed; used {area_unit!r}",
                )  # fmt: skip
        named = (
            _landuse_names_to_codes(out[source], source, notes)
            if canonical == "landuse_code"
            else None
        )
        if named is not None:
            if source == canonical:
                out["landuse_code_raw"] = out[source]
            out[canonical] = named
        elif (
            source == canonical and _already_clean(out[source], _KINDS[canonical]) and unit_m2 == 1
        ):
            continue
        if named is None:
            parsed = _parse_column(out, source, canonical, unit_m2=unit_m2, notes=notes)
            if canonical == "coverage":
                parsed = _coverage_as_share(out, parsed, source, notes)
            out[canonical] = parsed
        if source != canonical:
            note(
                layer=layer, stage="fields", kind="field_mapped", column=source,
                message=f"field {source!r} read as {canonical} "
                f"({PARCEL_COLUMNS.get(canonical, 'declared area, m²')})"
                + (f", unit {unit_m2:g} m² per value" if unit_m2 != 1.0 else ""),
            )  # fmt: skip
    if "area_attr_m2" in matches:
        _fill_area_from_geometry(out, matches["area_attr_m2"], notes)
    absent = [c for c in PARCEL_COLUMNS if c not in out.columns]
    if absent:
        note(
            layer=layer, stage="fields", kind="columns_missing", severity="warning",
            message=f"no field found for {', '.join(absent)} (looked for e.g. "
            + "; ".join(f"{c}: {', '.join(FIELD_ALIASES[c][1:3])}" for c in absent)
            + "); rules that need them leave parcels undetermined. Rename the fields or map "
            "them before reading.",
        )  # fmt: skip
    previous = out["parse_note"] if "parse_note" in frame.columns else None
    texts = pd.Series(notes.texts, index=out.index, dtype=object)
    if previous is not None:
        texts = previous.astype(object).where(texts.isna(), texts)
    out["parse_note"] = texts
    return out
