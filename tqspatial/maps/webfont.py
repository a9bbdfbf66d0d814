"""Embed the CJK map font in a web page: a subset of the glyphs the page shows, as ``@font-face``.

A browser draws Chinese text only with a font that has the Han glyphs; a machine
without one shows empty boxes ("tofu").  The web map therefore carries its own
font: the CJK font the static maps use (:func:`tqspatial.maps.fonts.cjk_font`,
Noto Sans CJK SC from the PyPI package ``noto-cjk-sans-otc``, OFL-1.1, which
allows embedding subsets) cut down by fontTools to the characters of the page
and inlined as a base64 WOFF data URL, so the page stays one offline file.

Examples
--------
>>> css = font_face_css("天桥区 Tianqiao")
>>> css.startswith("@font-face{font-family:"), "data:font/woff;base64," in css
(True, True)
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import re
import unicodedata

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from tqspatial.maps.fonts import CJKFont, cjk_font

__all__ = ["WEB_FONT_FAMILY", "font_face_css", "page_characters", "subset_font"]

logger = logging.getLogger(__name__)

#: CSS family name of the embedded subset (distinct from any installed family).
WEB_FONT_FAMILY = "tqspatial CJK"

#: ``\uXXXX`` escapes of JSON text (GeoJSON embedded in the page).
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")

#: Unicode categories never drawn as glyphs (controls, surrogates, unassigned ...).
_NOT_DRAWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def page_characters(*texts: str) -> str:
    r"""Return the distinct drawable characters of some page text, sorted.

    Parameters
    ----------
    *texts : str
        Text of the page: labels, HTML snippets, JSON (whose ``\uXXXX``
        escapes are decoded first, as the browser will).

    Returns
    -------
    str
        Each character once, in code-point order; controls and whitespace
        other than the plain space are left out.

    Examples
    --------
    >>> page_characters("区界", '{"n": "\\u533a"}', "\t")
    ' ":n{}区界'
    """
    chars: set[str] = set()
    for text in texts:
        decoded = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        chars.update(decoded)
    drawn = {
        c
        for c in chars
        if c == " " or (not c.isspace() and unicodedata.category(c) not in _NOT_DRAWN)
    }
    return "".join(sorted(drawn))


@functools.cache
def _subset_woff(path: str, face_index: int, chars: str) -> bytes:
    kwargs = {"fontNumber": face_index} if path.lower().endswith((".ttc", ".otc")) else {}
    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli
    options.hinting = False  # browsers hint CJK outlines poorly anyway
    options.desubroutinize = True  # compresses better
    options.layout_features = []  # kerning and CJK alternates: a third of the size, not needed
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and OFL licence
    with TTFont(path, recalcTimestamp=False, lazy=True, **kwargs) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        font.flavor = "woff"
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def subset_font(chars: str, font: CJKFont) -> bytes:
    """Cut a font down to some characters, as WOFF bytes (deterministic).

    Parameters
    ----------
    chars : str
        Characters to keep (characters the font lacks are left out).
    font : CJKFont
        The font face (a face of a ``.ttc`` collection is picked by its index).

    Returns
    -------
    bytes
        A WOFF font; the same input gives the same bytes (the font's
        timestamps are not renewed).

    Examples
    --------
    >>> data = subset_font("区界", cjk_font())
    >>> data[:4], len(data) < 20_000
    (b'wOFF', True)
    """
    return _subset_woff(str(font.path), font.face_index, "".join(sorted(set(chars))))


def font_face_css(text: str, *, family: str = WEB_FONT_FAMILY, font: CJKFont | None = None) -> str:
    """Write an ``@font-face`` rule embedding the glyphs of ``text`` as a data URL.

    Parameters
    ----------
    text : str
        The page's text (every character that should be drawn with the font).
    family : str, default :data:`WEB_FONT_FAMILY`
        CSS family name to declare.
    font : CJKFont, optional
        The font to embed; default :func:`~tqspatial.maps.fonts.cjk_font`.

    Returns
    -------
    str
        One CSS rule, or ``""`` when no CJK font is installed (a warning is
        logged: the page then depends on the viewer's fonts).

    Examples
    --------
    >>> font_face_css("北", family="x").split(";")[0]
    '@font-face{font-family:"x"'
    """
    font = font or cjk_font()
    if font is None:
        logger.warning(
            "no CJK font to embed in the web map: Chinese text depends on the viewer's fonts; "
            "install one with `pip install noto-cjk-sans-otc`"
        )
        return ""
    data = subset_font(page_characters(text), font)
    encoded = base64.b64encode(data).decode("ascii")
    logger.info("web font: %s subset to %d bytes", font.family, len(data))
    return (
        f'@font-face{{font-family:"{family}";'
        f'src:url(data:font/woff;base64,{encoded}) format("woff");font-display:block}}'
    )
