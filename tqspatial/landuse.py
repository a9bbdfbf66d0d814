"""Land-use codes: three code schemes, one canonical table, one planning category.

Chinese parcel data arrive coded in one of three schemes that reuse the same
strings for different things:

``"2023"``
    《国土空间调查、规划、用途管制用地用海分类指南》(自然资发〔2023〕234号):
    24 first-level classes (``01`` 耕地 … ``24`` 其他海域), second-level codes
    such as ``0701`` 城镇住宅用地 and third-level codes such as ``070102``
    二类城镇住宅用地 or ``100101`` 一类工业用地.  This is the canonical scheme.
``"gb50137"``
    The older urban-planning letters of GB 50137-2011 《城市用地分类与规划建设用地标准》
    (``R2`` 二类居住用地, ``M1`` 一类工业用地, ``H14`` 村庄建设用地 …).
``"sandiao"``
    The Third National Land Survey (三调) working classification
    (``0101`` 水田, ``05H1`` 商业服务业设施用地, ``1001`` 铁路用地 …).

``1001`` is 工业用地 in 2023 but 铁路用地 in 三调; ``0702``, ``1101``,
``1201``, ``05`` and many more collide the same way.  :func:`detect_scheme`
therefore looks at a whole column, and :func:`classify_landuse` refuses to
guess (:class:`SchemeError`) when the column could be read either way with
different meanings.  Letter codes are always GB 50137: no other scheme uses
them, so a column that mixes 2023 numbers with a few legacy letters is
unambiguous.

The code tables are package data (``tqspatial/data/landuse_*.csv``, sources in
``tqspatial/data/README.md``); GB 50137 and 三调 codes reach the 2023 table
through mapping tables whose rows say whether the match is ``exact``,
``broader`` (a coarser 2023 class), ``approximate`` or ``aggregate`` (no single
2023 class).  Callers can override any row (``overrides=``).
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from tqspatial.errors import ConfigError, SchemaError
from tqspatial.quality import note

__all__ = [
    "CATEGORIES",
    "CATEGORY_COLOUR_CODES",
    "LANDUSE_COLOURS",
    "SCHEMES",
    "UNKNOWN_COLOUR",
    "SchemeError",
    "category_colour",
    "classify_landuse",
    "colour_classes",
    "colour_table",
    "detect_scheme",
    "landuse_table",
]

logger = logging.getLogger(__name__)

Scheme = Literal["2023", "gb50137", "sandiao"]

#: Code schemes understood by :func:`classify_landuse`.
SCHEMES: tuple[str, ...] = ("2023", "gb50137", "sandiao")

#: Planning categories, in legend order.  ``"unknown"`` marks codes that could
#: not be classified (unknown, missing or too coarse): never treat it as
#: "not renewable".
CATEGORIES: tuple[str, ...] = (
    "residential",
    "public_service",
    "commercial",
    "industrial",
    "warehouse",
    "transport",
    "utilities",
    "green_open",
    "special",
    "reserve",
    "agricultural",
    "ecological",
    "water",
    "marine",
    "other",
    "unknown",
)

#: The 2023 code whose map colour stands for each planning category (legends by
#: category).  ``public_service`` has no first-level colour in the standard; 0801
#: 机关团体用地 is used (our choice, as common GIS templates do); ``marine`` uses
#: 24 其他海域 (our choice).  ``unknown`` has no code: :data:`UNKNOWN_COLOUR`.
CATEGORY_COLOUR_CODES: dict[str, str] = {
    "residential": "0701",
    "public_service": "0801",
    "commercial": "09",
    "industrial": "1001",
    "warehouse": "11",
    "transport": "12",
    "utilities": "13",
    "green_open": "1401",
    "special": "15",
    "reserve": "16",
    "agricultural": "01",
    "ecological": "03",
    "water": "17",
    "marine": "24",
    "other": "23",
}

#: Colour of land whose code is unknown (not in the standard; our choice, a dark grey
#: no standard colour comes close to).
UNKNOWN_COLOUR = "#404040"

#: Columns returned by :func:`classify_landuse`.
RESULT_COLUMNS: tuple[str, ...] = (
    "landuse_scheme",
    "landuse_canonical",
    "landuse_name_zh",
    "landuse_name_en",
    "landuse_category",
    "landuse_issue",
)

#: Share of the rows carrying scheme-specific codes that the winning scheme
#: must hold for :func:`detect_scheme` to decide; below it the column is
#: ambiguous and :class:`SchemeError` is raised.
MIN_EVIDENCE_SHARE = 0.95

#: Number of example codes quoted in notes and error messages.
MAX_EXAMPLES = 5

_COLOUR_FILE = "landuse_colours.csv"
_TABLE_FILES = {
    "2023": "landuse_2023.csv",
    "gb50137": "landuse_gb50137.csv",
    "sandiao": "landuse_sandiao.csv",
}
_SCHEME_LABEL = {"2023": "2023 用地用海分类", "gb50137": "GB 50137-2011", "sandiao": "三调"}
_NUMERIC_SCHEMES = ("2023", "sandiao")
_LETTER_LED = re.compile(r"[A-Z]")
_GROUPED_DIGITS = re.compile(r"[0-9]{2}(?:[-._/ ][0-9]{2})+")
_FLOAT_TEXT = re.compile(r"([0-9]+)\.0+")
_PAD_LENGTHS = (1, 3, 5)


class SchemeError(SchemaError):
    """The code scheme of a land-use column cannot be decided from its values.

    The message lists the candidate schemes and colliding codes; pass
    ``scheme=`` to :func:`classify_landuse` to decide.
    """


# ---------------------------------------------------------------------------
# tables


@functools.cache
def _read_table(scheme: str) -> pd.DataFrame:
    """Read one packaged code table (cached; callers must copy before changing)."""
    resource = importlib.resources.files("tqspatial").joinpath("data", _TABLE_FILES[scheme])
    text = resource.read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return table.set_index("code", drop=False)


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        msg = f"Unknown land-use scheme {scheme!r}; expected one of {', '.join(SCHEMES)}."
        raise ConfigError(msg)


def landuse_table(scheme: str = "2023") -> pd.DataFrame:
    """Return the code list of a scheme.

    Parameters
    ----------
    scheme : {"2023", "gb50137", "sandiao"}, default "2023"
        Which table.

    Returns
    -------
    pandas.DataFrame
        One row per code (all as text), indexed by the code.  The 2023 table has ``code``,
        ``level`` (1-3), ``parent``, ``name_zh``, ``name_en`` and
        ``category``.  The GB 50137 and 三调 tables have ``code``,
        ``name_zh``, ``name_en``, ``canonical`` (the 2023 code, empty when
        there is none), ``match`` (``exact``, ``broader``, ``approximate`` or
        ``aggregate``), ``category`` and ``note``.

    Raises
    ------
    ConfigError
        If ``scheme`` is not one of :data:`SCHEMES`.

    Examples
    --------
    >>> t = landuse_table()
    >>> t.loc["070102", "name_zh"], t.loc["100101", "category"]
    ('二类城镇住宅用地', 'industrial')
    >>> int((t["level"] == "1").sum())
    24
    >>> landuse_table("sandiao").loc["1001", ["name_zh", "canonical"]].tolist()
    ['铁路用地', '1201']
    """
    _check_scheme(scheme)
    table = _read_table(scheme).copy()
    table.index.name = None
    return table


@functools.cache
def _read_colours() -> pd.DataFrame:
    """Read the packaged colour table and resolve it against the 2023 code table."""
    resource = importlib.resources.files("tqspatial").joinpath("data", _COLOUR_FILE)
    text = resource.read_text(encoding="utf-8")
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    codes = _read_table("2023")
    rgb = raw[["r", "g", "b"]].astype(int).to_numpy()
    table = pd.DataFrame(
        {
            "code": raw["code"].to_numpy(),
            "colour": [f"#{r:02X}{g:02X}{b:02X}" for r, g, b in rgb],
            "name_zh": codes.loc[raw["code"], "name_zh"].to_numpy(),
            "name_en": codes.loc[raw["code"], "name_en"].to_numpy(),
            "category": codes.loc[raw["code"], "category"].to_numpy(),
            "appendix_b_name": raw["appendix_b_name"].to_numpy(),
            "basis": raw["basis"].to_numpy(),
        }
    )
    return table.set_index("code", drop=False)


def colour_table() -> pd.DataFrame:
    """Return the map colours of the 2023 用地用海 codes.

    The colours are those of 《市级国土空间总体规划制图规范（试行）》 (自然资源部,
    2021) 附录B 用地用海分类配色指引表: 39 classes, from 耕地 (245,248,220)
    to 其他海域 (214,234,243).  Six rows are derived for codes the appendix
    gives no colour (``basis`` ``derived:<code>``: 07, 0702 and 0704 take the
    colour of the housing class they belong with, 08 that of 0801, 10 that of
    1001, 14 that of 1401).  Sources: ``tqspatial/data/README.md``.

    Returns
    -------
    pandas.DataFrame
        Indexed by 2023 code (a prefix: ``"12"`` colours every 12xx code the
        table does not list itself), with ``code``, ``colour`` (``#RRGGBB``),
        ``name_zh`` / ``name_en`` (of the 2023 code), ``category``,
        ``appendix_b_name`` (the name in 附录B, empty for derived rows) and
        ``basis`` (``appendix_b`` or ``derived:<code>``).

    Examples
    --------
    >>> t = colour_table()
    >>> t.loc["0701", ["colour", "name_zh"]].tolist(), int((t["basis"] == "appendix_b").sum())
    (['#FFFF2D', '城镇住宅用地'], 39)
    """
    table = _read_colours().copy()
    table.index.name = None
    return table


def colour_classes(canonical: pd.Series) -> pd.Series:
    """Return the colour-table code of each canonical 2023 code (longest matching prefix).

    Parameters
    ----------
    canonical : pandas.Series
        2023 codes (``landuse_canonical`` of :func:`classify_landuse`); missing
        values stay missing.

    Returns
    -------
    pandas.Series
        Same index; the row of :func:`colour_table` colouring each code, or
        missing where the code is missing or unknown.

    Examples
    --------
    >>> colour_classes(pd.Series(["070102", "070301", "1208", "1207", None])).tolist()
    ['0701', '0703', '12', '1207', None]
    """
    table = _read_colours()
    distinct = pd.unique(canonical.dropna().astype(str))
    lookup: dict[str, str | None] = {}
    for code in distinct:
        lookup[code] = next(
            (code[:n] for n in range(len(code), 1, -1) if code[:n] in table.index), None
        )
    values = [None if pd.isna(v) else lookup.get(str(v)) for v in canonical.astype(object)]
    return pd.Series(values, index=canonical.index, dtype=object)


def category_colour(category: str) -> str:
    """Return the map colour (hex RGB) of a planning category.

    The colour of the category's representative 2023 class
    (:data:`CATEGORY_COLOUR_CODES`) in :func:`colour_table`.

    Parameters
    ----------
    category : str
        One of :data:`CATEGORIES`.

    Returns
    -------
    str
        ``"#RRGGBB"``.

    Raises
    ------
    ConfigError
        If the category is not known.

    Examples
    --------
    >>> category_colour("residential"), category_colour("warehouse")
    ('#FFFF2D', '#8761D3')
    """
    try:
        return LANDUSE_COLOURS[category]
    except KeyError:
        msg = f"Unknown land-use category {category!r}; expected one of {', '.join(CATEGORIES)}."
        raise ConfigError(msg) from None


#: Map colour (``#RRGGBB``) of each planning category, from :func:`colour_table`.
LANDUSE_COLOURS: dict[str, str] = {
    **{
        cat: str(_read_colours().loc[code, "colour"]) for cat, code in CATEGORY_COLOUR_CODES.items()
    },
    "unknown": UNKNOWN_COLOUR,
}


# ---------------------------------------------------------------------------
# normalisation


def _normalise_one(value: object, *, numeric_input: bool) -> str | None:
    """Return the cleaned code text, or None when the value is missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    if not text:
        return None
    float_text = _FLOAT_TEXT.fullmatch(text)
    if float_text:
        text = float_text.group(1)
    if _GROUPED_DIGITS.fullmatch(text):
        text = re.sub(r"[-._/ ]", "", text)
    text = re.sub(r"\s+", "", text)
    # A number column lost the leading zero (0701 -> 701); restore it unless
    # the short form is itself a code (三调 201-205).
    if (
        numeric_input
        and text.isdigit()
        and len(text) in _PAD_LENGTHS
        and text not in _read_table("sandiao").index
    ):
        text = "0" + text
    return text


def _known_anywhere(code: str) -> bool:
    return any(code in _read_table(s).index for s in SCHEMES)


def _normalise(codes: pd.Series) -> tuple[pd.Series, int]:
    """Clean codes; return them (object dtype, None for missing) and how many changed.

    Works on the distinct values only, so a million parcels cost what their
    few dozen codes cost.
    """
    numeric_input = pd.api.types.is_numeric_dtype(codes.dtype)
    labels, uniques = pd.factorize(codes.astype(object), use_na_sentinel=True)
    cleaned_uniques: list[str | None] = []
    changed_uniques: list[bool] = []
    for value in uniques:
        text = _normalise_one(value, numeric_input=numeric_input)
        if (
            text is not None
            and not numeric_input
            and text.isdigit()
            and len(text) in _PAD_LENGTHS
            and not _known_anywhere(text)
            and _known_anywhere("0" + text)
        ):
            text = "0" + text  # "701" typed as text: the zero was lost on the way
        cleaned_uniques.append(text)
        changed_uniques.append(text is not None and text != str(value))
    lookup = np.array([*cleaned_uniques, None], dtype=object)  # label -1 -> None
    cleaned = pd.Series(lookup[labels], index=codes.index, dtype=object)
    counts = np.bincount(labels[labels >= 0], minlength=len(uniques))
    changed = int(counts[np.array(changed_uniques, dtype=bool)].sum()) if len(uniques) else 0
    return cleaned, changed


# ---------------------------------------------------------------------------
# detection


def _is_letter_code(code: str) -> bool:
    """Tell whether a code is letter-led, hence GB 50137 (or a local letter code)."""
    return _LETTER_LED.match(code) is not None


def _same_meaning(code: str) -> bool:
    """Tell whether a code valid in both numeric schemes means the same in both."""
    row = _read_table("sandiao").loc[code]
    return bool(row["canonical"] == code and row["match"] == "exact")


def _examples(codes: Iterable[str]) -> str:
    shown = sorted(set(codes))[:MAX_EXAMPLES]
    return ", ".join(shown)


def _describe(code: str, scheme: str) -> str:
    name = str(_read_table(scheme).loc[code, "name_zh"])
    return f"{code} = {name} ({_SCHEME_LABEL[scheme]})"


def _detect_numeric(counts: pd.Series) -> tuple[str, list[str]]:
    """Scheme of the digit-led codes (rows per code) and the codes against it."""
    in_2023 = {c for c in counts.index if c in _read_table("2023").index}
    in_sandiao = {c for c in counts.index if c in _read_table("sandiao").index}
    only = {"2023": in_2023 - in_sandiao, "sandiao": in_sandiao - in_2023}
    weight = {s: int(counts[list(only[s])].sum()) for s in _NUMERIC_SCHEMES}
    total = sum(weight.values())
    if total:
        best = max(_NUMERIC_SCHEMES, key=lambda s: weight[s])
        other = "sandiao" if best == "2023" else "2023"
        if weight[best] / total >= MIN_EVIDENCE_SHARE:
            return best, sorted(only[other])
        msg = (
            "Land-use codes mix two numeric schemes: "
            f"{weight['2023']} rows have codes found only in the 2023 classification "
            f"(e.g. {_examples(only['2023'])}) and {weight['sandiao']} rows codes found only "
            f"in 三调 (e.g. {_examples(only['sandiao'])}). Candidate schemes: 2023, sandiao. "
            "Pass scheme='2023' or scheme='sandiao' to classify_landuse; codes that are not "
            "in the chosen scheme are then reported as unknown."
        )
        raise SchemeError(msg)
    both = in_2023 & in_sandiao
    colliding = sorted(c for c in both if not _same_meaning(c))
    if colliding:
        examples = "; ".join(
            f"{_describe(c, '2023')} but {_describe(c, 'sandiao')}"
            for c in colliding[:MAX_EXAMPLES]
        )
        msg = (
            "Cannot tell the land-use code scheme: every code is valid both in the 2023 "
            f"classification and in 三调, and {len(colliding)} mean different things "
            f"({examples}). Candidate schemes: 2023, sandiao. Pass scheme='2023' or "
            "scheme='sandiao' to classify_landuse."
        )
        raise SchemeError(msg)
    return "2023", []


def _detect(
    cleaned: pd.Series, scheme: str | None, ignore: Iterable[str] = ()
) -> tuple[str, str, list[str]]:
    """Return (label, numeric scheme, codes contradicting the numeric scheme).

    Codes in ``ignore`` (those the caller overrides) are no evidence either way.
    """
    counts = cleaned.value_counts()  # distinct codes and their rows; missing dropped
    counts = counts[~counts.index.isin(list(ignore))]
    letters = pd.Series([_is_letter_code(str(c)) for c in counts.index], dtype=bool)
    numeric = counts[~letters.to_numpy()]
    against: list[str]
    if scheme is not None:
        scheme = scheme.removesuffix("+gb50137")  # accept detect_scheme's labels
        _check_scheme(scheme)
        numeric_scheme, against = scheme, []
    elif numeric.empty:
        numeric_scheme, against = ("gb50137" if letters.any() else "2023"), []
    else:
        numeric_scheme, against = _detect_numeric(numeric)
    label = numeric_scheme
    if letters.any() and not numeric.empty and numeric_scheme != "gb50137":
        label = f"{numeric_scheme}+gb50137"
    elif letters.any() and numeric.empty:
        label = "gb50137"
    return label, numeric_scheme, against


def detect_scheme(codes: Iterable[object]) -> str:
    """Decide which code scheme a land-use column uses, from all its values.

    Letter-led codes (``R2``, ``H14``) are GB 50137.  Digit-led codes are 2023 or
    三调: codes valid in only one of them (``070102``, ``1301`` for 2023;
    ``05H1``, ``1004``, ``201`` for 三调) decide, provided the winning scheme
    holds at least :data:`MIN_EVIDENCE_SHARE` of the rows carrying such codes
    (a few stray codes of the other scheme are then reported as unknown by
    :func:`classify_landuse`).  When only codes valid in both remain, the
    column is read as 2023 if they mean the same in both (``0101`` 水田),
    and refused otherwise.

    Parameters
    ----------
    codes : iterable
        The land-use codes of one column (text or numbers; missing values
        are ignored).

    Returns
    -------
    str
        ``"2023"``, ``"sandiao"`` or ``"gb50137"``, or ``"2023+gb50137"`` /
        ``"sandiao+gb50137"`` for a column mixing numeric codes with GB 50137
        letters.

    Raises
    ------
    SchemeError
        If the column could be read in more than one scheme with different
        meanings; the message lists the candidates and colliding codes.

    Examples
    --------
    >>> detect_scheme(["070102", "1001", "0101"])
    '2023'
    >>> detect_scheme(["05H1", "1001", "0101"])
    'sandiao'
    >>> detect_scheme(["070102", "R2", "H14"])
    '2023+gb50137'
    >>> detect_scheme(["1001", "0702"])
    Traceback (most recent call last):
    ...
    tqspatial.landuse.SchemeError: Cannot tell the land-use code scheme: ...
    """
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    cleaned, _ = _normalise(series)
    return _detect(cleaned, None)[0]


# ---------------------------------------------------------------------------
# overrides


def _override_table(overrides: Mapping[str, str] | pd.DataFrame | None) -> dict[str, str]:
    """Validate overrides; return {normalised source code: 2023 code}."""
    if overrides is None:
        return {}
    if isinstance(overrides, pd.DataFrame):
        missing = {"code", "canonical"} - set(overrides.columns)
        if missing:
            msg = (
                f"Land-use override table lacks column(s) {sorted(missing)}; expected columns "
                "'code' (source code) and 'canonical' (2023 code)."
            )
            raise ConfigError(msg)
        pairs = list(zip(overrides["code"], overrides["canonical"], strict=True))
    else:
        pairs = list(overrides.items())
    table = _read_table("2023")
    result: dict[str, str] = {}
    bad: list[str] = []
    for source, target in pairs:
        key = _normalise_one(source, numeric_input=False)
        value = _normalise_one(target, numeric_input=False)
        if key is None or value is None or value not in table.index:
            bad.append(f"{source!r} -> {target!r}")
            continue
        result[key] = value
    if bad:
        msg = (
            f"Land-use overrides must map a code to a 2023 code; invalid: {', '.join(bad[:10])}. "
            "See tqspatial.landuse.landuse_table('2023') for valid targets."
        )
        raise ConfigError(msg)
    return result


# ---------------------------------------------------------------------------
# classification


def _lookup(code: str, scheme: str) -> tuple[str | None, str, str, str, str | None]:
    """Return (canonical, name_zh, name_en, category, issue) for a code known in scheme."""
    row = _read_table(scheme).loc[code]
    if scheme == "2023":
        return code, str(row["name_zh"]), str(row["name_en"]), str(row["category"]), None
    canonical = str(row["canonical"]) or None
    match = str(row["match"])
    issue: str | None = None
    label = f"{_SCHEME_LABEL[scheme]} {code} {row['name_zh']}"
    if canonical is None:
        issue = f"aggregate_code: {label} has no single 2023 class ({row['note']})"
        return None, str(row["name_zh"]), str(row["name_en"]), str(row["category"]), issue
    target = _read_table("2023").loc[canonical]
    if match == "approximate":
        issue = f"approximate_mapping: {label} -> {canonical} {target['name_zh']}" + (
            f" ({row['note']})" if row["note"] else ""
        )
    return canonical, str(target["name_zh"]), str(target["name_en"]), str(target["category"]), issue


_Row = tuple[str | None, str | None, str | None, str | None, str, str | None]


def _classify_code(code: str, numeric_scheme: str, override_map: Mapping[str, str]) -> _Row:
    """Return the result row (see RESULT_COLUMNS) of one cleaned, present code."""
    row_scheme = "gb50137" if _is_letter_code(code) else numeric_scheme
    if code in override_map:
        target = _read_table("2023").loc[override_map[code]]
        return (
            row_scheme,
            override_map[code],
            str(target["name_zh"]),
            str(target["name_en"]),
            str(target["category"]),
            None,
        )
    if code in _read_table(row_scheme).index:
        return (row_scheme, *_lookup(code, row_scheme))
    return (row_scheme, None, None, None, "unknown", _unknown_reason(code, row_scheme))


def _unknown_reason(code: str, scheme: str) -> str:
    elsewhere = [s for s in SCHEMES if s != scheme and code in _read_table(s).index]
    reason = f"unknown_code: {code!r} is not a {_SCHEME_LABEL[scheme]} code"
    if elsewhere:
        meanings = "; ".join(_describe(code, s) for s in elsewhere)
        reason += f" (it is {meanings}; pass scheme= or overrides= if that is meant)"
    return reason


def _note(
    frame: pd.DataFrame,
    *,
    kind: str,
    message: str,
    level: str = "info",
    rows: pd.Series | None = None,
    values: pd.Series | None = None,
    count: int | None = None,
) -> None:
    """Record a finding in the quality log (``rows``: a mask of ``frame``'s rows)."""
    note(
        layer="landuse",
        stage="landuse",
        kind=kind,
        severity=level,
        message=message,
        rows=None if rows is None else frame.index[rows.to_numpy(dtype=bool)],
        values=None if values is None else values.to_numpy(dtype=object),
        count=count,
    )


def classify_landuse(
    codes: pd.Series,
    *,
    scheme: str | None = None,
    overrides: Mapping[str, str] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Classify land-use codes into canonical 2023 codes and planning categories.

    The scheme of the column is detected from all its values
    (:func:`detect_scheme`) unless ``scheme`` is given; letter codes are
    always read as GB 50137 (letter-led codes such as ``RB`` that the table lacks
    are reported as unknown GB 50137 codes).  Codes are cleaned first where that is
    unambiguous: surrounding and inner blanks, full-width characters
    (``０７０１``), lower case (``r2``), ``07-01`` / ``07.01`` separators,
    ``701.0`` from spreadsheets, and a leading zero lost by a number column
    (``701`` -> ``0701``; 三调 ``201``-``205`` stay as they are).

    Nothing is dropped or guessed silently: a code that is not in the scheme
    gets category ``"unknown"`` and a ``landuse_issue`` saying why (and what
    it would mean in another scheme); missing codes get ``"unknown"`` too.
    Their count and examples are logged as a warning and recorded in the
    quality log (:func:`tqspatial.quality.note`).
    ``"unknown"`` means *undetermined*, never "not renewable".

    Parameters
    ----------
    codes : pandas.Series
        Land-use codes as found in the source (text or numbers).
    scheme : {"2023", "gb50137", "sandiao"}, optional
        Scheme of the digit-led codes; detected when None.  A label returned
        by :func:`detect_scheme` such as ``"2023+gb50137"`` is accepted too.
    overrides : mapping or pandas.DataFrame, optional
        Replacements for the mapping tables: source code -> 2023 code, as a
        dict or a frame with columns ``code`` and ``canonical`` (e.g. a CSV a
        caller read with :mod:`tqspatial.io`).  Applied to every row whose
        cleaned code matches, in any scheme; local codes absent from every
        table can be mapped this way too.

    Returns
    -------
    pandas.DataFrame
        Same index as ``codes``, columns :data:`RESULT_COLUMNS`:
        ``landuse_scheme`` (``"2023"``, ``"gb50137"``, ``"sandiao"``; None for
        a missing code), ``landuse_canonical`` (2023 code, None when there is
        none), ``landuse_name_zh`` / ``landuse_name_en`` (of the canonical
        code, else of the source code), ``landuse_category`` (one of
        :data:`CATEGORIES`) and ``landuse_issue`` (None, or a reason starting
        with ``unknown_code``, ``missing_code``, ``aggregate_code`` or
        ``approximate_mapping``).  Detection, cleaning, overrides and unknown
        codes are recorded in the quality log; ``attrs["landuse_scheme"]``
        holds the detected label.

    Raises
    ------
    SchemeError
        If ``scheme`` is None and the column is ambiguous.
    ConfigError
        If ``scheme`` or ``overrides`` are invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> out = classify_landuse(pd.Series(["070102", "1001", "R2", "9999"]))
    >>> out["landuse_canonical"].tolist()
    ['070102', '1001', '070102', None]
    >>> out["landuse_category"].tolist()
    ['residential', 'industrial', 'residential', 'unknown']
    >>> classify_landuse(pd.Series(["1001"]), scheme="sandiao")["landuse_name_zh"].tolist()
    ['铁路用地']
    """
    if not isinstance(codes, pd.Series):
        msg = f"classify_landuse expects a pandas Series of codes, got {type(codes).__name__}."
        raise SchemaError(msg)
    override_map = _override_table(overrides)
    cleaned, n_changed = _normalise(codes)
    label, numeric_scheme, against = _detect(cleaned, scheme, override_map)

    labels, uniques = pd.factorize(cleaned, use_na_sentinel=True)
    rows = [_classify_code(str(code), numeric_scheme, override_map) for code in uniques]
    rows.append((None, None, None, None, "unknown", "missing_code: no land-use code"))
    table = np.array(rows, dtype=object).reshape(len(rows), len(RESULT_COLUMNS))
    taken = table[labels]  # label -1 (missing) takes the last row
    result = pd.DataFrame(
        {name: pd.Series(taken[:, i], dtype=object) for i, name in enumerate(RESULT_COLUMNS)}
    )
    result.index = codes.index
    result.attrs["landuse_scheme"] = label
    _report(
        result,
        cleaned,
        label=label,
        given=scheme,
        n_changed=n_changed,
        against=against,
        override_map=override_map,
    )
    return result


def _report(
    result: pd.DataFrame,
    cleaned: pd.Series,
    *,
    label: str,
    given: str | None,
    n_changed: int,
    against: list[str],
    override_map: dict[str, str],
) -> None:
    """Attach notes on what classify_landuse decided and found."""
    how = "given" if given is not None else "detected"
    _note(result, kind="landuse_scheme", message=f"Land-use code scheme {how}: {label}.")
    if "+" in label:
        _note(
            result,
            kind="mixed_schemes",
            message=(
                f"{{count}} land-use codes are GB 50137 letters among {label.partition('+')[0]} "
                "codes; they were mapped to 2023 codes through the GB 50137 table."
            ),
            rows=result["landuse_scheme"] == "gb50137",
        )
    if n_changed:
        _note(
            result,
            kind="codes_cleaned",
            message="{count} land-use codes were cleaned (blanks, full-width, separators, "
            "lost leading zeros).",
            count=n_changed,
        )
    if override_map:
        _note(
            result,
            kind="landuse_overrides",
            message=f"Land-use overrides applied to {{count}} rows ({len(override_map)} codes).",
            rows=cleaned.isin(list(override_map)),
        )
    if against:
        foreign = cleaned.isin(against)
        _note(
            result,
            kind="foreign_codes",
            message=(
                f"Codes valid only in another scheme were found in a {label} column: "
                "{values}; they are classified as unknown."
            ),
            rows=foreign,
            values=cleaned[foreign],
            level="warning",
        )
    unknown = result["landuse_issue"].str.startswith("unknown_code", na=False).astype(bool)
    if unknown.any():
        _note(
            result,
            kind="unknown_codes",
            message=(
                "{count} parcels have land-use codes unknown in their scheme "
                "(examples: {values}); their category is 'unknown' (undetermined)."
            ),
            rows=unknown,
            values=cleaned[unknown].astype(str),
            level="warning",
        )
    missing = cleaned.isna()
    if missing.any():
        _note(
            result,
            kind="missing_codes",
            message="{count} parcels have no land-use code; their category is 'unknown'.",
            rows=missing,
            level="warning",
        )
