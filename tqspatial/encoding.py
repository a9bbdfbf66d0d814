"""Text-encoding detection for attribute tables and CSV files (pure functions on bytes).

Chinese land data is usually GBK/GB18030 (code page 936) with no ``.cpg``
file and a zero language-driver byte in the ``.dbf`` header, so GDAL falls
back to ISO-8859-1 and returns mojibake.  The functions here look at the
raw bytes and decide, in this order:

1. an encoding the caller passes (checked: the text must decode with it);
2. the ``.cpg`` file, then the ``.dbf`` language-driver id (LDID, byte 29),
   when the text really decodes with what they declare;
3. strict UTF-8;
4. GB18030 (a superset of GBK and GB2312), accepted only when most decoded
   characters are common Chinese characters (those in GB2312), so Latin-1
   text is not mistaken for Chinese.

Anything else raises :class:`~tqspatial.errors.DataFileError` asking for
``encoding=``.  Reading files is left to :mod:`tqspatial.io`.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import struct
from collections import Counter

import numpy as np

from tqspatial.errors import DataFileError

__all__ = [
    "DbfHeader",
    "EncodingGuess",
    "dbf_deleted",
    "dbf_header",
    "dbf_text",
    "gdal_encoding_name",
    "sniff_dbf_encoding",
    "sniff_text_encoding",
]

#: Language-driver ids (``.dbf`` byte 29) of the code pages seen in practice
#: (ESRI's table).  0x57 means "the writer's ANSI code page", which on a
#: Chinese Windows is GBK, so it is not trusted and the text is sniffed.
LDID_CODEPAGES = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x4D: "gbk",
    0x4E: "cp949",
    0x4F: "big5",
    0x50: "cp874",
    0x58: "cp1252",
    0x59: "cp1252",
    0x64: "cp852",
    0x65: "cp866",
    0x7A: "gbk",
    0x7B: "cp932",
    0x7D: "cp1255",
    0x7E: "cp1256",
    0xC8: "cp1250",
    0xC9: "cp1251",
    0xCA: "cp1254",
    0xCB: "cp1253",
}

#: Share of non-ASCII characters that must be common Chinese (GB2312) characters
#: before bytes are accepted as GB18030 text.
MIN_COMMON_CHINESE_SHARE = 0.8

#: Largest share of non-ASCII characters that may stand alone between two ASCII
#: letters, as misread accented Latin letters do.
MAX_ISOLATED_SHARE = 0.2

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ISOLATED = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f](?=[A-Za-z])")

#: Encodings whose characters use more than one byte: a strict decode is a real test.
_MULTIBYTE = {"utf-8", "gbk", "gb18030", "gb2312", "big5", "cp932", "cp949", "cp950", "shift_jis"}

#: Byte that ends the field descriptors of a dBASE header.
_DBF_HEADER_END = 0x0D

#: Code pages written as bare numbers in ``.cpg`` files.
_CPG_NUMBERS = {"65001": "utf-8", "88591": "latin-1", "936": "gbk", "950": "big5"}


@dataclasses.dataclass(frozen=True)
class EncodingGuess:
    """The encoding chosen for a file's text and why.

    Attributes
    ----------
    encoding : str
        Python codec name (``"utf-8"``, ``"gb18030"`` ...).
    reason : str
        One sentence saying how it was chosen, for notes and logs.
    ascii_only : bool
        True when the text has no non-ASCII byte (any encoding reads it).
    damaged_names : tuple of str
        Field names cut mid-character (a ``.dbf`` name holds at most 10 bytes),
        decoded with a replacement character for the broken end; their raw
        bytes are not valid in ``encoding``, so a reader must decode them itself.
    """

    encoding: str
    reason: str
    ascii_only: bool = False
    damaged_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class DbfHeader:
    """The fixed part of a dBASE header.

    Attributes
    ----------
    n_records : int
        Record count declared in the header.
    header_size : int
        Bytes before the first record.
    record_size : int
        Bytes per record (including the deletion flag).
    ldid : int
        Language-driver id (byte 29); 0 when the writer did not set it.
    fields : tuple of (bytes, str, int, int)
        Raw name, type letter, offset in the record and width of each field.
    """

    n_records: int
    header_size: int
    record_size: int
    ldid: int
    fields: tuple[tuple[bytes, str, int, int], ...]


def dbf_header(raw: bytes, *, source: str = "table.dbf") -> DbfHeader:
    r"""Parse the header of a ``.dbf`` file.

    Parameters
    ----------
    raw : bytes
        The file's bytes (at least the whole header).
    source : str, default "table.dbf"
        File name used in messages.

    Returns
    -------
    DbfHeader
        Record count, sizes, language-driver id and field descriptors.

    Raises
    ------
    DataFileError
        If the bytes are too short or inconsistent to be a dBASE header.

    Examples
    --------
    >>> head = bytes([3, 126, 1, 1]) + (2).to_bytes(4, "little") + (65).to_bytes(2, "little")
    >>> head += (5).to_bytes(2, "little") + bytes(17) + b"\x4d" + bytes(2)
    >>> head += b"NAME".ljust(11, b"\0") + b"C" + bytes(4) + bytes([4, 0]) + bytes(14) + b"\r"
    >>> h = dbf_header(head)
    >>> h.n_records, h.ldid, h.fields[0][:2]
    (2, 77, (b'NAME', 'C'))
    """
    if len(raw) < 32:  # noqa: PLR2004 - fixed dBASE header size
        msg = f"{source}: only {len(raw)} bytes; a .dbf header needs 32. The file is truncated."
        raise DataFileError(msg)
    n_records, header_size, record_size = struct.unpack("<IHH", raw[4:12])
    fields: list[tuple[bytes, str, int, int]] = []
    offset = 1  # byte 0 of each record is the deletion flag
    position = 32
    while position + 32 <= min(len(raw), header_size) and raw[position] != _DBF_HEADER_END:
        descriptor = raw[position : position + 32]
        name = descriptor[:11].split(b"\0", 1)[0]
        kind = chr(descriptor[11])
        width = descriptor[16]
        fields.append((name, kind, offset, width))
        offset += width
        position += 32
    if header_size < 33 or record_size < 1 or offset > record_size:  # noqa: PLR2004
        msg = (
            f"{source}: the dBASE header is inconsistent (header {header_size} bytes, record "
            f"{record_size} bytes, fields {offset} bytes); the .dbf is damaged."
        )
        raise DataFileError(msg)
    return DbfHeader(n_records, header_size, record_size, raw[29], tuple(fields))


def dbf_text(raw: bytes, header: DbfHeader) -> bytes:
    r"""Return the field names and text values of a ``.dbf``, one per line.

    Parameters
    ----------
    raw : bytes
        The file's bytes (records beyond the end of ``raw`` are skipped).
    header : DbfHeader
        Its parsed header.

    Returns
    -------
    bytes
        Every field name, then every value of each character field (blank
        padding kept; it is ASCII), separated by ``b"\n"``: the bytes whose
        encoding matters.

    Examples
    --------
    >>> h = DbfHeader(1, 33, 5, 0, ((b"NAME", "C", 1, 4),))
    >>> dbf_text(bytes(32) + b"\r" + b" ab  ", h)
    b'NAME\nab  \n'
    """
    names = b"\n".join(name for name, _, _, _ in header.fields)
    values = _dbf_values(raw, header)
    return names + b"\n" + values if values else names


def _dbf_values(raw: bytes, header: DbfHeader) -> bytes:
    """Return the text values of a ``.dbf``, one per line (b"" when there are none)."""
    text_fields = [(start, width) for _, kind, start, width in header.fields if kind == "C"]
    available = max(0, len(raw) - header.header_size) // header.record_size
    n = min(header.n_records, available)
    if not text_fields or n == 0:
        return b""
    body = np.frombuffer(
        raw, dtype=np.uint8, count=n * header.record_size, offset=header.header_size
    )
    records = body.reshape(n, header.record_size)
    newline = np.full((n, 1), ord("\n"), dtype=np.uint8)
    columns = [
        np.hstack([records[:, start : start + width], newline]).tobytes()
        for start, width in text_fields
    ]
    return b"".join(columns)


def dbf_deleted(raw: bytes, header: DbfHeader) -> int:
    r"""Count the records flagged as deleted (``*``) in a ``.dbf``.

    GDAL, like desktop GIS, skips such records and their shapes.

    Parameters
    ----------
    raw : bytes
        The file's bytes (records beyond the end of ``raw`` are not counted).
    header : DbfHeader
        Its parsed header.

    Returns
    -------
    int
        Number of deleted records.

    Examples
    --------
    >>> h = DbfHeader(2, 33, 2, 0, ((b"A", "C", 1, 1),))
    >>> dbf_deleted(bytes(32) + b"\r" + b" a*b", h)
    1
    """
    available = max(0, len(raw) - header.header_size) // header.record_size
    n = min(header.n_records, available)
    flags = np.frombuffer(
        raw, dtype=np.uint8, count=n * header.record_size, offset=header.header_size
    )
    return int((flags[:: header.record_size] == ord("*")).sum())


def _codec(name: str) -> str | None:
    """Return the Python codec name for an encoding label, or None if unknown."""
    label = name.strip().lower()
    for prefix in ("ansi ", "oem ", "cp ", "windows-"):
        if label.startswith(prefix) and label[len(prefix) :].isdigit():
            label = label[len(prefix) :]
    if label.isdigit():
        label = _CPG_NUMBERS.get(
            label, "iso8859_" + label[4:] if label.startswith("8859") else "cp" + label
        )
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def gdal_encoding_name(encoding: str) -> str:
    """Return the name GDAL (iconv) understands for a Python codec name.

    Parameters
    ----------
    encoding : str
        Any Python codec label.

    Returns
    -------
    str
        Upper-case iconv name, e.g. ``"GB18030"`` or ``"CP1252"``.

    Examples
    --------
    >>> gdal_encoding_name("gbk"), gdal_encoding_name("utf_8"), gdal_encoding_name("latin1")
    ('GBK', 'UTF-8', 'ISO-8859-1')
    """
    name = (_codec(encoding) or encoding).upper().replace("_", "-")
    return {"ISO8859-1": "ISO-8859-1", "LATIN-1": "ISO-8859-1"}.get(name, name)


def _decodes(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _looks_chinese(text: str) -> bool:
    """Whether the non-ASCII characters of ``text`` read as Chinese rather than misread Latin-1.

    Most must be common characters (in GB2312), and few may sit alone between
    two ASCII letters (``"Gr鲞e"`` is ``"Größe"`` misread; Chinese words come
    in runs of characters).
    """
    wide = Counter(_NON_ASCII.findall(text))
    total = sum(wide.values())
    if total == 0:
        return True
    common = sum(count for ch, count in wide.items() if _in_gb2312(ch))
    isolated = len(_ISOLATED.findall(text))
    return common / total >= MIN_COMMON_CHINESE_SHARE and isolated / total <= MAX_ISOLATED_SHARE


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _sniff(raw: bytes, tried: str) -> EncodingGuess:
    if _decodes(raw, "utf-8") is not None:
        return EncodingGuess("utf-8", f"{tried}the text is valid UTF-8")
    text = _decodes(raw, "gb18030")
    if text is not None and _looks_chinese(text):
        return EncodingGuess(
            "gb18030",
            f"{tried}the text is not valid UTF-8 but decodes as GB18030/GBK into common Chinese "
            "characters",
        )
    raise _NoFitError


class _NoFitError(Exception):
    """No encoding rule fits the bytes (the caller decides what to do)."""


def _undecidable(source: str, encoding: str | None = None) -> DataFileError:
    if encoding is not None:
        msg = (
            f"{source}: the text is not valid {encoding} (as passed with encoding=); "
            "pass the right encoding, or leave encoding=None to detect it."
        )
    else:
        msg = (
            f"{source}: cannot tell the text encoding: it is neither UTF-8 nor Chinese "
            "GBK/GB18030. Pass encoding=... (e.g. encoding='big5' or encoding='cp1252') to the "
            "reader."
        )
    return DataFileError(msg)


def _check_explicit(raw: bytes, encoding: str, source: str) -> EncodingGuess:
    codec = _codec(encoding)
    if codec is None:
        msg = f"{source}: unknown encoding {encoding!r}; pass a name such as 'gbk' or 'utf-8'."
        raise DataFileError(msg)
    if _decodes(raw, codec) is None:
        raise _NoFitError
    return EncodingGuess(codec, f"encoding={encoding!r} as passed by the caller")


def _declared(raw: bytes, codec: str, why: str) -> EncodingGuess:
    """Use a declared encoding when the text agrees with it; otherwise sniff."""
    if codec in _MULTIBYTE:
        if _decodes(raw, codec) is not None:
            return EncodingGuess(codec, f"{why} and the text decodes with it")
        return _sniff(raw, f"{why} but the text is not valid {codec}; ")
    # Any byte decodes in a single-byte code page, so check UTF-8 and GBK first.
    try:
        return _sniff(raw, f"{why} but ")
    except _NoFitError:
        return EncodingGuess(codec, why)


def sniff_dbf_encoding(
    raw: bytes,
    *,
    cpg: str | None = None,
    encoding: str | None = None,
    source: str = "table.dbf",
) -> EncodingGuess:
    r"""Decide the text encoding of a ``.dbf`` attribute table.

    Parameters
    ----------
    raw : bytes
        The ``.dbf`` bytes (possibly only the first part of a large file).
    cpg : str, optional
        Content of the ``.cpg`` file, if there is one.
    encoding : str, optional
        Encoding passed by the caller; checked, never overridden.
    source : str, default "table.dbf"
        File name used in messages.

    Returns
    -------
    EncodingGuess
        Codec name and the reason it was chosen.

    Raises
    ------
    DataFileError
        If the header is damaged, ``encoding`` does not decode the text, or
        the encoding cannot be determined.

    Examples
    --------
    >>> desc = b"NAME".ljust(11, b"\0") + b"C" + bytes(4) + bytes([8, 0]) + bytes(14)
    >>> sizes = (1).to_bytes(4, "little") + (65).to_bytes(2, "little") + (9).to_bytes(2, "little")
    >>> raw = bytes(4) + sizes + bytes(20) + desc + b"\r" + b" " + "天桥".encode("gbk").ljust(8)
    >>> guess = sniff_dbf_encoding(raw)
    >>> guess.encoding, raw[65:].decode(guess.encoding).strip()
    ('gb18030', '天桥')
    """
    header = dbf_header(raw, source=source)
    text = dbf_text(raw, header)
    guess = _sniff_table(text, header, cpg=cpg, encoding=encoding, source=source)
    if guess is not None:
        return guess
    # The names may be what fails: cut mid-character at the 10-byte limit of a field name.
    names = [name for name, _, _, _ in header.fields]
    trimmed = DbfHeader(
        header.n_records,
        header.header_size,
        header.record_size,
        header.ldid,
        tuple((_trim(name), kind, start, width) for name, kind, start, width in header.fields),
    )
    repaired = b"\n".join(f[0] for f in trimmed.fields) + b"\n" + _dbf_values(raw, header)
    retry = _sniff_table(repaired, trimmed, cpg=cpg, encoding=encoding, source=source)
    if retry is None:
        raise _undecidable(source, encoding)
    damaged = tuple(
        name.decode(retry.encoding, errors="replace")
        for name in names
        if _decodes(name, retry.encoding) is None
    )
    if not damaged:
        return retry
    return dataclasses.replace(
        retry,
        reason=f"{retry.reason} (after setting aside field names cut mid-character)",
        damaged_names=damaged,
    )


#: A multi-byte character cut at the end of a field name leaves at most this many bytes.
_MAX_CUT_BYTES = 3


def _trim(name: bytes) -> bytes:
    """Drop a trailing incomplete multi-byte character (up to 3 bytes) from a field name."""
    for cut in range(1, _MAX_CUT_BYTES + 1):
        if len(name) > cut and all(b >= 0x80 for b in name[-cut:]):  # noqa: PLR2004
            for codec in ("utf-8", "gb18030"):
                if _decodes(name, codec) is None and _decodes(name[:-cut], codec) is not None:
                    return name[:-cut]
    return name


def _sniff_table(
    text: bytes, header: DbfHeader, *, cpg: str | None, encoding: str | None, source: str
) -> EncodingGuess | None:
    """Decide the encoding of a table's text, or None when no rule fits."""
    try:
        if encoding is not None:
            return _check_explicit(text, encoding, source)
        if text.isascii():
            return EncodingGuess("utf-8", "the table has only ASCII text", ascii_only=True)
        if cpg is not None and cpg.strip():
            codec = _codec(cpg)
            if codec is not None:
                return _declared(text, codec, f"the .cpg file declares {cpg.strip()!r}")
        if header.ldid in LDID_CODEPAGES:
            codec = LDID_CODEPAGES[header.ldid]
            why = f"the .dbf language-driver byte is 0x{header.ldid:02X} ({codec})"
            return _declared(text, codec, why)
        why = (
            "no .cpg file and no usable language-driver byte; "
            if cpg is None
            else "the .cpg is unusable; "
        )
        return _sniff(text, why)
    except _NoFitError:
        return None


def sniff_text_encoding(
    raw: bytes, *, encoding: str | None = None, source: str = "file.csv"
) -> EncodingGuess:
    r"""Decide the encoding of a text file such as a CSV.

    A byte-order mark wins (``utf-8-sig``, ``utf-16``); then strict UTF-8,
    then GB18030 when the text reads as common Chinese.

    Parameters
    ----------
    raw : bytes
        The file's bytes.
    encoding : str, optional
        Encoding passed by the caller; checked, never overridden.
    source : str, default "file.csv"
        File name used in messages.

    Returns
    -------
    EncodingGuess
        Codec name (pass it to :func:`pandas.read_csv`) and why.

    Raises
    ------
    DataFileError
        If ``encoding`` does not decode the text or no encoding fits.

    Examples
    --------
    >>> sniff_text_encoding("经度,纬度\n".encode("gbk")).encoding
    'gb18030'
    >>> sniff_text_encoding(codecs.BOM_UTF8 + "经度".encode()).encoding
    'utf-8-sig'
    """
    try:
        return _sniff_text(raw, encoding=encoding, source=source)
    except _NoFitError:
        raise _undecidable(source, encoding) from None


def _sniff_text(raw: bytes, *, encoding: str | None, source: str) -> EncodingGuess:
    if encoding is not None:
        return _check_explicit(raw, encoding, source)
    if raw.startswith(codecs.BOM_UTF8):
        return EncodingGuess("utf-8-sig", "the file starts with a UTF-8 byte-order mark")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingGuess("utf-16", "the file starts with a UTF-16 byte-order mark")
    if raw.isascii():
        return EncodingGuess("utf-8", "the file has only ASCII text", ascii_only=True)
    return _sniff(raw, "")
