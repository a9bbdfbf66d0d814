"""Data-quality notes and the human-readable data-quality report.

Readers and validators record what they assumed or changed in
``frame.attrs["tq_notes"]``: a list of plain dicts whose values are only
``str``, ``int``, ``float`` or ``None`` (pandas compares ``attrs`` when
concatenating, so never store frames there).  Each note has the keys
``layer``, ``stage`` (``"read"``, ``"crs"``, ``"fields"``, ``"validate"`` ...),
``kind`` (short snake_case), ``message`` (one human sentence) and optionally
``count``, ``row``, ``column``, ``raw`` and ``level`` (``"info"`` or
``"warning"``).  Every note is also logged.

:func:`quality_report` turns the notes and the rejects tables of a run into a
Markdown report that the batch job writes next to its outputs;
:func:`quality_table` gives the same content as one flat table for CSV.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["NOTE_KEYS", "add_note", "notes", "quality_report", "quality_table"]

logger = logging.getLogger(__name__)

#: Keys a note may carry, in the order the report table shows them.
NOTE_KEYS = ("layer", "stage", "kind", "level", "message", "count", "row", "column", "raw")

#: Examples shown per kind of note in the Markdown report.
MAX_EXAMPLES = 5

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING}

Note = dict[str, str | int | float | None]


def _missing(value: object) -> bool:
    """Return True for None, pandas NA/NaT and float NaN."""
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _plain(value: object) -> str | int | float | None:
    """Return ``value`` as a plain ``str``, ``int``, ``float`` or ``None``."""
    if value is None or isinstance(value, str | int | float):
        if isinstance(value, bool):
            return int(value)
        return value
    if hasattr(value, "item"):  # numpy scalars
        item = value.item()
        if isinstance(item, str | int | float):
            return item
    if _missing(value):
        return None
    return str(value)


def add_note(frame: pd.DataFrame, **fields: object) -> Note:
    """Append a note to ``frame.attrs["tq_notes"]`` and log it.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The frame the note travels with (modified in place: only ``attrs``).
    **fields
        Note keys (see :data:`NOTE_KEYS`).  ``message`` is required;
        ``level="warning"`` logs at warning level (default ``"info"``).
        Values are converted to plain ``str``/``int``/``float``/``None``.

    Returns
    -------
    dict
        The note as stored.

    Raises
    ------
    ValueError
        If ``message`` is missing or a key is not in :data:`NOTE_KEYS`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1]})
    >>> _ = add_note(frame, layer="parcels", stage="crs", kind="assumed_crs",
    ...              message="assumed EPSG:4548")
    >>> frame.attrs["tq_notes"][0]["kind"]
    'assumed_crs'
    """
    unknown = sorted(set(fields) - set(NOTE_KEYS))
    if unknown or "message" not in fields:
        msg = (
            f"add_note: got keys {sorted(fields)}; expected 'message' and only keys from "
            f"{list(NOTE_KEYS)}. Remove {unknown or 'nothing'} and pass message=..."
        )
        raise ValueError(msg)
    note: Note = {key: _plain(value) for key, value in fields.items()}
    note.setdefault("level", "info")
    frame.attrs.setdefault("tq_notes", []).append(note)
    level = _LEVELS.get(str(note["level"]), logging.INFO)
    logger.log(
        level,
        "%s [%s/%s]: %s",
        note.get("layer"),
        note.get("stage"),
        note.get("kind"),
        note["message"],
    )
    return note


def notes(frame: pd.DataFrame) -> list[Note]:
    """Return the notes travelling with ``frame`` (a copy of the list).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Any frame; one without notes gives an empty list.

    Returns
    -------
    list of dict
        Notes in the order they were added.

    Examples
    --------
    >>> import pandas as pd
    >>> notes(pd.DataFrame())
    []
    """
    return [dict(note) for note in frame.attrs.get("tq_notes", [])]


def quality_table(
    *,
    notes: Iterable[Mapping[str, Any]] = (),
    rejects: Iterable[pd.DataFrame] = (),
) -> pd.DataFrame:
    """Return notes and rejects as one flat table (one row per note or reject).

    Parameters
    ----------
    notes : iterable of dict, default ()
        Notes as returned by :func:`notes`.
    rejects : iterable of pandas.DataFrame, default ()
        Rejects tables (columns ``layer``, ``source_row``, ``reason``,
        ``detail``; see :mod:`tqspatial.rejects`).

    Returns
    -------
    pandas.DataFrame
        Columns ``source`` (``"note"`` or ``"reject"``), then
        :data:`NOTE_KEYS`; rejects fill ``kind`` with the reason, ``row`` with
        the source row and ``message`` with the detail.

    Examples
    --------
    >>> table = quality_table(notes=[{"layer": "p", "kind": "k", "message": "m"}])
    >>> table[["source", "kind"]].values.tolist()
    [['note', 'k']]
    """
    rows: list[dict[str, Any]] = [
        {"source": "note", **{key: _plain(note.get(key)) for key in NOTE_KEYS}} for note in notes
    ]
    for table in rejects:
        rows.extend(
            {
                "source": "reject",
                "layer": _plain(record.layer),
                "stage": "validate",
                "kind": _plain(record.reason),
                "level": "warning",
                "message": _plain(record.detail),
                "count": 1,
                "row": _plain(record.source_row),
                "column": None,
                "raw": None,
            }
            for record in table[["layer", "source_row", "reason", "detail"]].itertuples(index=False)
        )
    return pd.DataFrame(rows, columns=["source", *NOTE_KEYS]).astype(object)


def _cell(value: object) -> str:
    """Format one table cell for Markdown (pipes escaped, missing as a dash)."""
    if _missing(value) or value == "":
        return "–"
    return str(value).replace("|", "\\|").replace("\n", " ")


def quality_report(
    *,
    notes: Iterable[Mapping[str, Any]] = (),
    rejects: Iterable[pd.DataFrame] = (),
    counts: Mapping[str, Mapping[str, int]] | None = None,
    title: str = "Data-quality report",
    max_examples: int = MAX_EXAMPLES,
) -> str:
    """Write a Markdown data-quality report a planner can read.

    Sections: rows read / kept / rejected per layer, rejects by reason (with
    examples), assumptions and warnings (CRS guessed, datum shifts,
    encodings), and repairs and parsed values (by kind, with up to
    ``max_examples`` examples each).

    Parameters
    ----------
    notes : iterable of dict, default ()
        Notes from every layer (see :func:`notes`).
    rejects : iterable of pandas.DataFrame, default ()
        Rejects tables from :mod:`tqspatial.schema`.
    counts : mapping of str to mapping, optional
        Per layer, e.g. ``{"parcels": {"input": 10, "kept": 9, "rejected": 1}}``.
    title : str, default "Data-quality report"
        First heading.
    max_examples : int, default 5
        Examples listed per kind of note or reject reason.

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> text = quality_report(
    ...     notes=[{"layer": "parcels", "stage": "crs", "kind": "assumed_crs",
    ...             "level": "warning", "message": "assumed EPSG:4548"}],
    ...     counts={"parcels": {"input": 3, "kept": 2, "rejected": 1}},
    ... )
    >>> "assumed EPSG:4548" in text, "| parcels | 3 | 2 | 1 |" in text
    (True, True)
    """
    note_list = [dict(note) for note in notes]
    reject_list = [table for table in rejects if len(table)]
    lines = [f"# {title}", ""]

    lines += ["## Rows per layer", ""]
    if counts:
        keys = sorted({key for layer_counts in counts.values() for key in layer_counts})
        order = [k for k in ("input", "kept", "rejected") if k in keys] + [
            k for k in keys if k not in ("input", "kept", "rejected")
        ]
        lines.append("| layer | " + " | ".join(order) + " |")
        lines.append("|---" * (len(order) + 1) + "|")
        for layer, layer_counts in counts.items():
            cells = [_cell(layer_counts.get(key)) for key in order]
            lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    else:
        lines.append("No counts given.")
    lines.append("")

    lines += ["## Rejected rows by reason", ""]
    if reject_list:
        allrej = pd.concat(
            [pd.DataFrame(t[["layer", "source_row", "reason", "detail"]]) for t in reject_list],
            ignore_index=True,
        ).astype(object)
        lines.append("| layer | reason | rows | examples (source row: detail) |")
        lines.append("|---|---|---|---|")
        for (rej_layer, reason), group in allrej.groupby(["layer", "reason"], sort=True):
            examples = "; ".join(
                f"{row}: {detail}" if detail else f"{row}"
                for row, detail in zip(
                    group["source_row"].head(max_examples),
                    group["detail"].head(max_examples),
                    strict=True,
                )
            )
            lines.append(
                f"| {_cell(rej_layer)} | {_cell(reason)} | {len(group)} | {_cell(examples)} |"
            )
    else:
        lines.append("No rows were rejected.")
    lines.append("")

    def section(heading: str, selected: list[dict[str, Any]]) -> None:
        lines.extend([f"## {heading}", ""])
        if not selected:
            lines.extend(["None.", ""])
            return
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for note in selected:
            key = (str(note.get("layer")), str(note.get("stage")), str(note.get("kind")))
            groups.setdefault(key, []).append(note)
        for (layer, stage, kind), group in groups.items():
            total = sum(int(n["count"]) if n.get("count") is not None else 1 for n in group)
            lines.append(f"- **{layer}** ({stage}) `{kind}` — {total} affected")
            lines.extend(f"  - {_cell(n.get('message'))}" for n in group[:max_examples])
            if len(group) > max_examples:
                lines.append(f"  - … and {len(group) - max_examples} more")
        lines.append("")

    warnings = [n for n in note_list if n.get("level") == "warning"]
    others = [n for n in note_list if n.get("level") != "warning"]
    section("Assumptions and warnings", warnings)
    section("Repairs, parsed values and other notes", others)
    return "\n".join(lines)
