"""Colours, hatches and label text shared by every map.

Clusters get the Okabe–Ito palette (distinguishable with the common forms of
colour-vision deficiency) in the order the plan lists them; beyond seven
clusters colours repeat with a hatch so fills still differ.  Renewal types get
fixed Okabe–Ito colours too.  Land use is coloured by the national standard,
not here: :func:`tqspatial.landuse.colour_table` (《市级国土空间总体规划制图规范
（试行）》附录B), with the names of :mod:`tqspatial.vocabulary`.

Examples
--------
>>> cluster_styles(["a", "b"])["b"].color
'#CC79A7'
>>> chinese_count(5), structure_phrase({"axis": 1, "belt": 2, "cluster": 5}, "zh")
('五', '一轴两带五组团')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

from matplotlib.typing import LineStyleType

from tqspatial.vocabulary import ELEMENT_KIND_NAMES

__all__ = [
    "CORRIDOR_STYLES",
    "OKABE_ITO",
    "RENEWAL_COLORS",
    "ClusterStyle",
    "Lang",
    "bilingual",
    "chinese_count",
    "cluster_styles",
    "structure_phrase",
]

Lang = Literal["zh", "en", "both"]

#: Okabe & Ito (2008) colour-blind-safe palette, black left out (used for text and lines).
OKABE_ITO = ("#E69F00", "#CC79A7", "#D55E00", "#0072B2", "#009E73", "#56B4E9", "#F0E442")

#: Hatches added when the palette repeats (cluster 8 onwards).
_REPEAT_HATCHES = ("", "//", "\\\\", "..", "xx", "oo")

#: Colour of each renewal type on renewal maps (Okabe–Ito; undetermined parcels grey).
RENEWAL_COLORS: dict[str, str] = {
    "specialty_market": "#E69F00",
    "inefficient_industrial": "#D55E00",
    "old_residential": "#CC79A7",
    "urban_village": "#0072B2",
    "idle_land": "#009E73",
    "vacant_land": "#56B4E9",
    "undetermined": "#999999",
}


@dataclasses.dataclass(frozen=True)
class ClusterStyle:
    """Fill colour and hatch of one cluster.

    Attributes
    ----------
    color : str
        Hex colour.
    hatch : str
        Matplotlib hatch pattern ('' for none).
    """

    color: str
    hatch: str


@dataclasses.dataclass(frozen=True)
class CorridorStyle:
    """How a corridor kind (axis, belt ...) is drawn over the clusters.

    Attributes
    ----------
    color : str
        Edge and hatch colour.
    alpha : float
        Fill opacity.
    hatch : str
        Hatch pattern.
    linestyle : str
        Outline style.
    """

    color: str
    alpha: float
    hatch: str
    linestyle: LineStyleType


#: Styles by element kind; unknown kinds use the "other" entry.
CORRIDOR_STYLES: dict[str, CorridorStyle] = {
    "axis": CorridorStyle("#1F4E79", 0.16, "", "--"),
    "belt": CorridorStyle("#6B2C5F", 0.12, "///", "-."),
    "other": CorridorStyle("#444444", 0.12, "...", ":"),
}


def cluster_styles(cluster_ids: Sequence[str]) -> dict[str, ClusterStyle]:
    """Give each cluster a fixed colour (and a hatch once colours repeat).

    Parameters
    ----------
    cluster_ids : sequence of str
        Cluster ids in plan order; any number.

    Returns
    -------
    dict of str to ClusterStyle
        Same order as ``cluster_ids``.

    Examples
    --------
    >>> s = cluster_styles([f"c{i}" for i in range(9)])
    >>> s["c0"].color == s["c7"].color, s["c0"].hatch, s["c7"].hatch
    (True, '', '//')
    """
    n = len(OKABE_ITO)
    return {
        cid: ClusterStyle(OKABE_ITO[i % n], _REPEAT_HATCHES[(i // n) % len(_REPEAT_HATCHES)])
        for i, cid in enumerate(cluster_ids)
    }


_CN_DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """Write a count in Chinese numerals as used in plan slogans (两 for 2).

    Parameters
    ----------
    n : int
        Count from 0 to 99; larger counts are returned as Arabic digits.

    Returns
    -------
    str
        E.g. ``一``, ``两``, ``十二``.

    Examples
    --------
    >>> [chinese_count(i) for i in (1, 2, 10, 12, 20, 100)]
    ['一', '两', '十', '十二', '二十', '100']
    """
    if n == 2:  # noqa: PLR2004 - 两轴 / 两带, not 二轴
        return "两"
    if 0 <= n < 10:  # noqa: PLR2004
        return _CN_DIGITS[n]
    if n < 100:  # noqa: PLR2004
        tens, ones = divmod(n, 10)
        head = "" if tens == 1 else _CN_DIGITS[tens]
        return head + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(n)


def structure_phrase(kind_counts: Mapping[str, int], lang: Lang) -> str:
    """Summarise a plan structure, e.g. 一轴两带五组团 / 1 axis, 2 belts, 5 clusters.

    Parameters
    ----------
    kind_counts : mapping of str to int
        Number of elements per kind, in display order.
    lang : {"zh", "en", "both"}
        Language.

    Returns
    -------
    str
        The phrase; kinds other than axis/belt/cluster are named as given.

    Examples
    --------
    >>> structure_phrase({"axis": 1, "belt": 2, "cluster": 5}, "en")
    '1 axis, 2 belts, 5 clusters'
    """
    zh = "".join(
        f"{chinese_count(n)}{ELEMENT_KIND_NAMES[k].zh if k in ELEMENT_KIND_NAMES else k}"
        for k, n in kind_counts.items()
        if n
    )
    en = ", ".join(
        f"{n} {k if n == 1 else ('axes' if k == 'axis' else k + 's')}"
        for k, n in kind_counts.items()
        if n
    )
    return bilingual(zh, en, lang)


def bilingual(zh: str, en: str, lang: Lang, *, sep: str = "\n") -> str:
    r"""Pick the Chinese text, the English text or both.

    Parameters
    ----------
    zh, en : str
        The two versions.
    lang : {"zh", "en", "both"}
        Language wanted.
    sep : str, default "\\n"
        Separator for ``"both"``.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> bilingual("图例", "Legend", "both", sep=" / ")
    '图例 / Legend'
    """
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return f"{zh}{sep}{en}" if zh != en else zh
