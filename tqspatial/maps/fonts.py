"""Find a CJK font, register it with matplotlib and check glyph coverage.

Chinese labels need a font that has the Han glyphs; matplotlib's bundled
DejaVu Sans has none and draws empty boxes ("tofu").  The project installs
the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, OFL-1.1), whose
collection holds a Simplified-Chinese face.  When that package is missing we
look for a CJK font among the fonts matplotlib already knows (e.g. Debian's
``fonts-noto-cjk`` or ``fonts-wqy-microhei``).  When there is none, maps
warn with :class:`FontWarning` and fall back to English labels.

Examples
--------
>>> font = cjk_font()
>>> font is not None and missing_glyphs("天桥区 Tianqiao 5 km", font) == []
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.table import Table
from matplotlib.text import Text
from matplotlib.typing import RcKeyType

__all__ = [
    "PREFERRED_FAMILIES",
    "CJKFont",
    "FontWarning",
    "cjk_font",
    "export_rc",
    "figure_missing_glyphs",
    "font_rc",
    "missing_glyphs",
    "register_cjk_font",
    "truetype_copy",
    "truetype_text",
]

logger = logging.getLogger(__name__)

#: CJK families tried in this order among the fonts matplotlib knows.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
)

#: Characters a usable Chinese map font must have (district, cluster and map words).
PROBE_TEXT = "区组团河轴带图例比例尺北"

#: PyPI package that ships Noto Sans CJK and the family we use from its collection.
_PYPI_FONT_PACKAGE = "noto_cjk_sans_otc"
_PYPI_FONT_FILE = "NotoSansCJK-Regular.ttc"
_PYPI_FONT_FAMILY = "Noto Sans CJK SC"

#: Latin fallback after the CJK family (matplotlib's bundled font, always present).
_LATIN_FALLBACK = "DejaVu Sans"

_WHITESPACE = re.compile(r"\s")


class FontWarning(UserWarning):
    """No CJK font was found: Chinese labels fall back to English."""


@dataclasses.dataclass(frozen=True)
class CJKFont:
    """A CJK font face known to matplotlib.

    Attributes
    ----------
    family : str
        Family name to put in ``font.family``.
    path : pathlib.Path
        Font file (``.ttf``, ``.otf`` or a ``.ttc`` collection).
    face_index : int
        Face inside a collection (0 for single fonts).
    source : str
        Where it came from: ``"pypi:<package>"`` or ``"system"``.
    """

    family: str
    path: Path
    face_index: int
    source: str


@functools.cache
def _cmap(path: str, face_index: int) -> frozenset[int]:
    """Return the code points a font face maps to glyphs (read once per face)."""
    kwargs = {"fontNumber": face_index} if path.lower().endswith((".ttc", ".otc")) else {}
    with TTFont(path, lazy=True, **kwargs) as font:
        return frozenset(font.getBestCmap() or {})


def missing_glyphs(text: str, font: CJKFont | Iterable[tuple[str, int]]) -> list[str]:
    """List the characters of ``text`` that no given font face can draw.

    Parameters
    ----------
    text : str
        Label text; whitespace is ignored.
    font : CJKFont or iterable of (path, face_index)
        One CJK font, or a fallback chain of faces (a character counts as
        drawn when any face has it, as in matplotlib's font fallback).

    Returns
    -------
    list of str
        Missing characters, each once, in order of first appearance.

    Examples
    --------
    >>> f = cjk_font()
    >>> missing_glyphs("北 N 🗺", f)
    ['🗺']
    """
    faces = [(str(font.path), font.face_index)] if isinstance(font, CJKFont) else list(font)
    maps = [_cmap(str(p), int(i)) for p, i in faces]
    out: list[str] = []
    for char in text:
        if _WHITESPACE.match(char) or char in out:
            continue
        if not any(ord(char) in m for m in maps):
            out.append(char)
    return out


def _pypi_font() -> CJKFont | None:
    spec = importlib.util.find_spec(_PYPI_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _PYPI_FONT_FILE
    if not path.is_file():
        return None
    return CJKFont(_PYPI_FONT_FAMILY, path, 2, f"pypi:{_PYPI_FONT_PACKAGE.replace('_', '-')}")


def _system_font() -> CJKFont | None:
    known = {entry.name: entry for entry in font_manager.fontManager.ttflist}
    for family in PREFERRED_FAMILIES:
        entry = known.get(family)
        if entry is None:
            continue
        index = int(getattr(entry, "face_index", 0) or 0)
        font = CJKFont(family, Path(entry.fname), index, "system")
        if not missing_glyphs(PROBE_TEXT, font):
            return font
    return None


@functools.cache
def cjk_font() -> CJKFont | None:
    """Return the CJK font maps use, registering it with matplotlib.

    Returns
    -------
    CJKFont or None
        The PyPI package's Noto Sans CJK SC when installed, else the first
        installed family of :data:`PREFERRED_FAMILIES` that covers
        :data:`PROBE_TEXT`; ``None`` when there is none.

    Examples
    --------
    >>> cjk_font().family
    'Noto Sans CJK SC'
    """
    font = _pypi_font()
    if font is not None:
        known = {entry.fname for entry in font_manager.fontManager.ttflist}
        if str(font.path) not in known:
            font_manager.fontManager.addfont(str(font.path))
        logger.info("CJK font: %s from %s (face %d)", font.family, font.path, font.face_index)
        return font
    font = _system_font()
    if font is not None:
        logger.info("CJK font: system %s at %s", font.family, font.path)
    return font


def register_cjk_font() -> CJKFont | None:
    """Register the CJK font with matplotlib's font manager (idempotent).

    Called when :mod:`tqspatial.maps` is imported.

    Returns
    -------
    CJKFont or None
        The font, or ``None`` when no CJK font is installed (a
        :class:`FontWarning` is emitted saying how to install one).

    Warns
    -----
    FontWarning
        When no CJK font is found.

    Examples
    --------
    >>> register_cjk_font().source
    'pypi:noto-cjk-sans-otc'
    """
    font = cjk_font()
    if font is None:
        import warnings  # noqa: PLC0415 - only needed on machines without a CJK font

        warnings.warn(
            "no CJK font found: Chinese map labels fall back to English. Install one with "
            "`pip install noto-cjk-sans-otc` (or Debian's fonts-noto-cjk)",
            FontWarning,
            stacklevel=2,
        )
    return font


def font_rc() -> dict[RcKeyType, Any]:
    """Return matplotlib rc settings that put the CJK font first.

    Returns
    -------
    dict
        ``font.family`` as a fallback chain (CJK family, then DejaVu Sans),
        PDF/PS Type 3 embedding and SVG glyph paths (outlines, valid with a
        CFF-flavoured CJK font without any conversion) and a fixed SVG id salt so
        exports are byte-reproducible.  :func:`~tqspatial.maps.atlas.save_figure`
        overrides the three font types with :func:`export_rc` (editable text).

    Examples
    --------
    >>> font_rc()["font.family"]
    ['Noto Sans CJK SC', 'DejaVu Sans']
    """
    font = cjk_font()
    families = [font.family, _LATIN_FALLBACK] if font is not None else [_LATIN_FALLBACK]
    return {
        "font.family": families,
        "pdf.fonttype": 3,
        "ps.fonttype": 3,
        "svg.fonttype": "path",
        "svg.hashsalt": "tqspatial",  # stable SVG ids: same map, same bytes
    }


def _faces_for(text: Text) -> list[tuple[str, int]]:
    props = text.get_fontproperties()
    faces: list[tuple[str, int]] = []
    for family in props.get_family():
        single = props.copy()
        single.set_family(family)
        try:
            found = font_manager.findfont(single, fallback_to_default=False)
        except ValueError:
            continue
        faces.append((str(found), int(getattr(found, "face_index", 0) or 0)))
    return faces


def figure_missing_glyphs(fig: Figure) -> dict[str, list[str]]:
    """Check every visible text (table cells too) of a figure against the fonts it uses.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A finished figure.

    Returns
    -------
    dict of str to list of str
        Label text -> characters none of its fonts can draw; empty when
        every glyph is present.

    Examples
    --------
    >>> import matplotlib
    >>> with matplotlib.rc_context(font_rc()):
    ...     fig = Figure()
    ...     _ = fig.text(0.1, 0.1, "天桥区 5 km")
    >>> figure_missing_glyphs(fig)
    {}
    """
    out: dict[str, list[str]] = {}
    for text in _figure_texts(fig):  # table cells too: findobj does not reach them
        label = text.get_text()
        if not label or not text.get_visible():
            continue
        missing = missing_glyphs(label, _faces_for(text))
        if missing:
            out[label] = missing
    return out


#: Largest deviation (font units) allowed when cubic CFF curves become quadratic TrueType ones.
_CU2QU_MAX_ERR = 1.0

#: Suffix of the family name of a TrueType copy made for PDF/PS embedding.
_TRUETYPE_SUFFIX = " TT"


def _to_quadratic(font: Any) -> None:  # noqa: ANN401 - fontTools TTFont
    """Turn a CFF-flavoured OpenType font into a TrueType (glyf) one, in place."""
    from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]  # noqa: PLC0415
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]  # noqa: PLC0415
    from fontTools.ttLib import newTable  # noqa: PLC0415

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, _CU2QU_MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for glyph in glyphs.values():
        glyph.recalcBounds(glyf)
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    glyf.compile(font)
    metrics = font["hmtx"].metrics
    for name, glyph in glyf.glyphs.items():
        metrics[name] = (metrics[name][0], getattr(glyph, "xMin", 0))
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    maxp.numGlyphs = len(order)
    font.recalcBBoxes = True  # maxp's point and contour counts, glyph boxes, on save
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\000\001\000\000"


@functools.cache
def _truetype_dir() -> Path:
    import atexit  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="tqspatial-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def truetype_copy(font: CJKFont, chars: str) -> CJKFont:
    """Return a TrueType-outline subset of ``font`` holding ``chars``, registered with matplotlib.

    PDF and PostScript can embed a font as editable text (Type 42, ``/FontFile2``) only when
    its outlines are TrueType (``glyf``).  Noto Sans CJK has CFF outlines; matplotlib would put
    them into ``/FontFile2`` anyway, which is not valid PDF and which Illustrator cannot read.
    This converts the glyphs a figure uses (cubic to quadratic curves, error at most one font
    unit) into a small TrueType font with the same PostScript name and metrics.

    Parameters
    ----------
    font : CJKFont
        The CJK face (a TrueType face is returned unchanged).
    chars : str
        The characters to keep (sorted, each once, for caching).

    Returns
    -------
    CJKFont
        The copy: family ``<family> TT <hash of chars>``, a file in a temporary folder of
        this process (removed at exit).

    Examples
    --------
    >>> copy = truetype_copy(cjk_font(), "天桥区 5km")
    >>> copy.family.startswith("Noto Sans CJK SC TT "), copy.path.suffix
    (True, '.ttf')
    """
    from fontTools import subset  # type: ignore[import-untyped]  # noqa: PLC0415

    options = subset.Options()
    options.font_number = font.face_index
    # matplotlib lays text out itself: no shaping, no vertical metrics in the copy
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG"]
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.recalc_timestamp = False
    digest = hashlib.sha1(chars.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
    # one family name per copy: matplotlib finds fonts by family, and copies hold different glyphs
    family = f"{font.family}{_TRUETYPE_SUFFIX} {digest}"
    path = _truetype_dir() / f"{font.path.stem}-{font.face_index}-{digest}.ttf"
    with subset.load_font(str(font.path), options) as source:
        if "glyf" in source:
            return font
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(text=chars)
        subsetter.subset(source)
        _to_quadratic(source)
        for record in source["name"].names:
            if record.nameID in (1, 4, 16):  # family, full name, typographic family
                record.string = family
        source.save(str(path), reorderTables=False)
    font_manager.fontManager.addfont(str(path))
    return CJKFont(family, path, 0, f"truetype copy of {font.path.name}")


def export_rc(*, editable_text: bool = True) -> dict[RcKeyType, Any]:
    """Return the rc settings that decide how PDF, PS and SVG exports hold their text.

    Parameters
    ----------
    editable_text : bool, default True
        True: fonts embedded as TrueType (Type 42) in PDF/PS and text kept as ``<text>``
        in SVG (``svg.fonttype = 'none'``, the CSS ``font-family`` names the CJK font), so
        labels can be edited in Illustrator, Inkscape or QGIS.  False: glyphs drawn as
        outlines (Type 3 in PDF/PS, paths in SVG), which look the same everywhere but
        cannot be edited.

    Returns
    -------
    dict
        ``pdf.fonttype``, ``ps.fonttype`` and ``svg.fonttype``.

    Examples
    --------
    >>> export_rc()["pdf.fonttype"], export_rc(editable_text=False)["svg.fonttype"]
    (42, 'path')
    """
    if editable_text:
        return {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}
    return {"pdf.fonttype": 3, "ps.fonttype": 3, "svg.fonttype": "path"}


def _figure_texts(fig: Figure) -> list[Text]:
    texts = [t for t in fig.findobj(Text) if isinstance(t, Text)]
    for table in fig.findobj(Table):
        if isinstance(table, Table):
            texts += [cell.get_text() for cell in table.get_celld().values()]
    return texts


@contextlib.contextmanager
def truetype_text(fig: Figure) -> Iterator[None]:
    """Draw the figure's CJK text with a TrueType copy of the CJK font for the block.

    Inside the block every text whose font family list names the CJK family uses
    :func:`truetype_copy` instead (same glyphs, same metrics, TrueType outlines), so a
    Type 42 PDF/PS export embeds a valid ``/FontFile2``.  The texts get their fonts back
    on exit; nothing global changes but the registered copy.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure about to be saved.

    Yields
    ------
    None
        Nothing; save the figure inside the block.

    Examples
    --------
    >>> import matplotlib
    >>> with matplotlib.rc_context(font_rc()):
    ...     fig = Figure()
    ...     label = fig.text(0.1, 0.1, "天桥区")
    >>> with truetype_text(fig):
    ...     label.get_fontproperties().get_family()[0].startswith("Noto Sans CJK SC TT ")
    True
    >>> label.get_fontproperties().get_family()[0]
    'Noto Sans CJK SC'
    """
    font = cjk_font()
    texts = [t for t in _figure_texts(fig) if t.get_text()]
    users = [
        t for t in texts if font is not None and font.family in t.get_fontproperties().get_family()
    ]
    if font is None or not users:
        yield
        return
    chars = "".join(sorted({c for t in users for c in t.get_text()} | {" "}))
    copy = truetype_copy(font, chars)
    # texts may share one FontProperties (a legend's do): swap in copies, put originals back
    saved = [(t, t.get_fontproperties()) for t in users]
    try:
        for text, props in saved:
            swapped = props.copy()
            swapped.set_family([copy.family if f == font.family else f for f in props.get_family()])
            text.set_fontproperties(swapped)
        yield
    finally:
        for text, props in saved:
            text.set_fontproperties(props)
