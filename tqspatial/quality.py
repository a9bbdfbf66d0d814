"""The data-quality log: what readers and validators assumed, repaired, parsed or rejected.

A :class:`QualityLog` is one columnar record per run.  Each entry is an
*aggregate*: one finding (``layer``, ``stage``, ``kind``, ``severity``,
``column``, ``message``) with the number of rows it concerns, the source row
ids of those rows as one integer array and, optionally, one value per row
(the raw text, the repair done).  A million dirty rows make a handful of
entries holding a few arrays, never a million Python objects.  Per-row
detail stays on the rows themselves (``repair``, ``parse_note`` columns) and
in :meth:`QualityLog.details`, the long table a batch job writes to
``quality_notes.parquet``.

Stages do not pass the log around.  They call :func:`note`, which adds to the
log made active by :func:`recording` (a ``with`` block, per thread), and only
logs the finding when no log is active (nothing is silent either way)::

    with tq.quality.recording() as log:
        parcels = tq.io.read_parcels("parcels.shp")
        kept, rejects = tq.validate_parcels(parcels)
    log.table()

Entries with the same ``layer``, ``stage``, ``kind``, ``severity``,
``column`` and ``message`` are one entry: their rows and counts add up.  So
the logs of partitions (or batches) merge exactly (:meth:`QualityLog.extend`),
and the table is the same whatever order they arrive in: it is sorted by
stage, layer, kind, column and message, and its examples are the smallest
row ids.  A message therefore never quotes its own count or examples; it
may hold the placeholders ``{count}`` (rows in the entry) and ``{values}``
(the most frequent values with their counts), filled in when the table is
made.

Severities: ``"info"`` (a value parsed, a harmless repair), ``"warning"``
(an assumption or repair a planner should check) and ``"error"`` (the rows
were rejected: dropped from the analysis, kept in the rejects table).

:func:`quality_report` renders a log as the Markdown report of a refresh.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DETAIL_COLUMNS",
    "LOG_COLUMNS",
    "SEVERITIES",
    "QualityLog",
    "active_log",
    "logged_by_kind",
    "note",
    "quality_report",
    "recording",
]

logger = logging.getLogger(__name__)

#: Severities, mildest first; ``"error"`` means the rows were rejected.
SEVERITIES = ("info", "warning", "error")

#: Columns of :meth:`QualityLog.table` (one row per entry).
LOG_COLUMNS = ("layer", "stage", "kind", "severity", "column", "count", "examples", "message")

#: Columns of :meth:`QualityLog.details` (one row per entry and source row).
DETAIL_COLUMNS = ("layer", "stage", "kind", "severity", "column", "row", "value")

#: Stages in the order a refresh runs them; the table lists entries in this order.
STAGES = (
    "read",
    "crs",
    "fields",
    "validate",
    "assign",
    "landuse",
    "renewal",
    "constraints",
    "supply",
    "network",
    "accessibility",
)

#: Examples (smallest source row ids, or most frequent values) shown per entry.
MAX_EXAMPLES = 5

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.WARNING}

#: Characters of findings quoted in one aggregated log line (see :func:`logged_by_kind`).
SUMMARY_CHARS = 500

#: Example values quoted per finding in an aggregated log line.
SUMMARY_EXAMPLES = 3

#: layer, stage, kind, severity, column ("" for none), message.
_Key = tuple[str, str, str, str, str, str]

IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass
class _Entry:
    """Rows and counts gathered under one key (one object per finding, not per row)."""

    count: int | None
    rows: list[IntArray]
    vals: list[npt.NDArray[np.object_] | None]

    def merged(self) -> tuple[IntArray, npt.NDArray[np.object_] | None]:
        """Return the rows sorted by id (stable) and their values (None without values)."""
        if not self.rows:
            return np.empty(0, np.int64), None
        rows = np.concatenate(self.rows) if len(self.rows) > 1 else self.rows[0]
        values = None
        if any(v is not None for v in self.vals):
            values = np.concatenate(
                [
                    v if v is not None else np.full(len(r), None, dtype=object)
                    for r, v in zip(self.rows, self.vals, strict=True)
                ]
            )
        order = np.argsort(rows, kind="stable")
        return rows[order], (values[order] if values is not None else None)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _row_ids(rows: object) -> tuple[IntArray, int]:
    """Return integer row ids (and their number); non-integer labels are counted only."""
    array = np.asarray(rows)
    if array.dtype == bool:
        array = np.flatnonzero(array)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False).ravel(), int(array.size)
    if array.dtype.kind == "f" and np.all(np.mod(array, 1) == 0):
        return array.astype(np.int64).ravel(), int(array.size)
    return np.empty(0, np.int64), int(array.size)


def _fill(
    message: str,
    count: int | None,
    values: npt.NDArray[np.object_] | None,
    *,
    limit: int = MAX_EXAMPLES,
) -> str:
    """Fill the ``{count}`` and ``{values}`` placeholders of a message."""
    if "{count}" in message:
        message = message.replace("{count}", "?" if count is None else f"{count:,}")
    if "{values}" in message:
        message = message.replace("{values}", _frequent(values, limit))
    return message


def _frequent(values: npt.NDArray[np.object_] | None, limit: int = MAX_EXAMPLES) -> str:
    """Format the most frequent values with their counts, ties by text (deterministic)."""
    if values is None or not len(values):
        return "–"
    text = pd.Series(values, dtype=object).map(_text)
    counts = text.value_counts(sort=False)
    ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    shown = ", ".join(f"{value} ×{n}" if n > 1 else str(value) for value, n in ranked[:limit])
    more = len(ranked) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _examples(
    rows: IntArray, values: npt.NDArray[np.object_] | None, limit: int = MAX_EXAMPLES
) -> str:
    """Format the smallest source row ids (with their values): ``"3: 约1985; 17: 不详"``."""
    if not len(rows):
        return ""
    head = rows[:limit]
    if values is None:
        shown = ", ".join(str(int(r)) for r in head)
    else:
        shown = "; ".join(
            f"{int(r)}: {_text(v)}" for r, v in zip(head, values[:limit], strict=True)
        )
    return shown + (f" … (+{len(rows) - limit:,})" if len(rows) > limit else "")


def _log_entry(key: _Key, count: int | None, values: npt.NDArray[np.object_] | None) -> None:
    layer, stage, kind, severity, _, message = key
    logger.log(
        _LEVELS[severity],
        "%s [%s/%s]%s: %s",
        layer,
        stage,
        kind,
        "" if count is None or "{count}" in message else f" {count:,} rows",
        _fill(message, count, values),
    )


def _stage_rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


class QualityLog:
    """A run's data-quality findings, aggregated (see the module docstring).

    Examples
    --------
    >>> log = QualityLog()
    >>> found = "{count} values read as approximate years"
    >>> log.add(layer="parcels", stage="fields", kind="value_parsed", column="build_year",
    ...         message=found, rows=[7, 3], values=["约1985", "约1990"])
    >>> log.add(layer="parcels", stage="fields", kind="value_parsed", column="build_year",
    ...         message=found, rows=[1], values=["约2001"])
    >>> row = log.table().iloc[0]
    >>> int(row["count"]), row["examples"], row["message"]
    (3, '1: 约2001; 3: 约1990; 7: 约1985', '3 values read as approximate years')
    """

    def __init__(self) -> None:
        self._entries: dict[_Key, _Entry] = {}

    def __len__(self) -> int:
        """Return the number of entries (findings), not of rows.

        Returns
        -------
        int
            Entries in the log.
        """
        return len(self._entries)

    def __repr__(self) -> str:
        """Return a short summary.

        Returns
        -------
        str
            Number of entries and of rows concerned.
        """
        rows = sum(e.count or 0 for e in self._entries.values())
        return f"<QualityLog: {len(self)} entries, {rows:,} rows concerned>"

    def add(
        self,
        *,
        layer: str,
        stage: str,
        kind: str,
        message: str,
        severity: str = "info",
        column: str | None = None,
        rows: npt.ArrayLike | None = None,
        values: npt.ArrayLike | None = None,
        count: int | None = None,
    ) -> None:
        """Add one finding (merged into an existing entry with the same key) and log it.

        Parameters
        ----------
        layer : str
            Layer name (``"parcels"``, ``"facilities"`` ...).
        stage : str
            Stage that found it (``"read"``, ``"crs"``, ``"fields"``, ``"validate"`` ...).
        kind : str
            Short snake_case name (``"value_parsed"``, ``"made_valid"``, a reject reason ...).
        message : str
            One sentence saying what was found and done, without its own count or
            examples (placeholders ``{count}`` and ``{values}`` are filled in later).
        severity : {"info", "warning", "error"}, default "info"
            ``"error"`` means the rows were rejected.
        column : str, optional
            The source column concerned.
        rows : array_like of int, optional
            Source row ids (index labels) of the rows concerned; a boolean mask is
            taken as positions.  Non-integer labels are counted but not listed.
        values : array_like, optional
            One value per row (raw text, repair detail), shown in examples.
        count : int, optional
            Number of rows concerned when ``rows`` is not given (e.g. records
            skipped in a file); default ``len(rows)``.

        Raises
        ------
        ValueError
            If ``severity`` is unknown, or ``values`` / ``count`` do not match ``rows``.
        """
        if severity not in SEVERITIES:
            msg = f"severity={severity!r} is not valid; expected one of {list(SEVERITIES)}"
            raise ValueError(msg)
        ids: IntArray | None = None
        vals: npt.NDArray[np.object_] | None = None
        if rows is not None:
            ids, n = _row_ids(rows)
            if count is not None and count != n:
                msg = f"{layer}/{kind}: count={count} but {n} rows were given; pass one of them"
                raise ValueError(msg)
            count = n
            if values is not None:
                vals = np.asarray(values, dtype=object).ravel()
                if len(vals) != n:
                    msg = f"{layer}/{kind}: {len(vals)} values for {n} rows; give one per row"
                    raise ValueError(msg)
                if len(ids) != n:  # rows were not integers: nothing to align values with
                    vals = None
        key: _Key = (layer, stage, kind, severity, _text(column), message)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(count=None, rows=[], vals=[])
        if count is not None:
            entry.count = (entry.count or 0) + int(count)
        if ids is not None and len(ids):
            entry.rows.append(ids)
            entry.vals.append(vals)
        pending = _PENDING.get()
        if pending is not None and pending is not self:  # logged at the end of the block
            pending.extend(_one(key, count, ids, vals))
            return
        _log_entry(key, count, vals)

    def extend(self, other: QualityLog) -> QualityLog:
        """Add every entry of ``other`` (same keys merge, rows and counts add up).

        Parameters
        ----------
        other : QualityLog
            Another log, e.g. of a partition or a batch.

        Returns
        -------
        QualityLog
            This log.
        """
        for key, theirs in other._entries.items():
            entry = self._entries.setdefault(key, _Entry(count=None, rows=[], vals=[]))
            if theirs.count is not None:
                entry.count = (entry.count or 0) + theirs.count
            entry.rows.extend(theirs.rows)
            entry.vals.extend(theirs.vals)
        return self

    def replace_message(self, *, kind: str, old: str, new: str) -> None:
        """Reword the entries of ``kind`` whose message is ``old`` (merging like entries).

        Parameters
        ----------
        kind : str
            Kind of the entries.
        old, new : str
            The message as recorded, and as it should read.
        """
        for key in [k for k in self._entries if k[2] == kind and k[5] == old]:
            entry = self._entries.pop(key)
            merged = QualityLog()
            merged._entries[(*key[:5], new)] = entry
            self.extend(merged)

    def relabel_rows(self, labels: npt.ArrayLike) -> QualityLog:
        """Return a copy whose row ids, taken as positions, become ``labels[position]``.

        Parameters
        ----------
        labels : array_like of int
            The labels of the rows by position (e.g. a frame's original index).

        Returns
        -------
        QualityLog
            A new log; this one is unchanged.
        """
        table = np.asarray(labels, dtype=np.int64)
        out = QualityLog()
        for key, entry in self._entries.items():
            out._entries[key] = _Entry(
                count=entry.count,
                rows=[table[r] for r in entry.rows],
                vals=list(entry.vals),
            )
        return out

    def _sorted(self) -> list[tuple[_Key, _Entry]]:
        return sorted(
            self._entries.items(),
            key=lambda item: (_stage_rank(item[0][1]), item[0][1], item[0][0], *item[0][2:]),
        )

    def table(self, *, max_examples: int = MAX_EXAMPLES) -> pd.DataFrame:
        """Return the log as a table, one row per entry.

        Parameters
        ----------
        max_examples : int, default 5
            Source rows quoted in ``examples`` (the smallest ids).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`LOG_COLUMNS`; ``count`` is nullable (a finding about a
            whole file has none), ``examples`` lists the smallest source row ids
            with their values, ``message`` has its placeholders filled.  Sorted by
            stage (:data:`STAGES` order), layer, kind, severity, column, message.
        """
        records = []
        for (layer, stage, kind, severity, column, message), entry in self._sorted():
            rows, values = entry.merged()
            records.append(
                {
                    "layer": layer,
                    "stage": stage,
                    "kind": kind,
                    "severity": severity,
                    "column": column or None,
                    "count": entry.count,
                    "examples": _examples(rows, values, max_examples) or None,
                    "message": _fill(message, entry.count, values),
                }
            )
        table = pd.DataFrame(records, columns=list(LOG_COLUMNS))
        table["count"] = table["count"].astype("Int64")
        return table

    def details(self) -> pd.DataFrame:
        """Return every listed source row of every entry (the long table).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`DETAIL_COLUMNS`, one row per entry and source row,
            in the order of :meth:`table` and by row id; ``value`` is the row's
            value as text (or missing).

        Examples
        --------
        >>> log = QualityLog()
        >>> log.add(layer="p", stage="validate", kind="sliver", severity="error",
        ...         message="slivers", rows=[4, 2])
        >>> log.details()[["kind", "row"]].values.tolist()
        [['sliver', 2], ['sliver', 4]]
        """
        keys, rows, values = [], [], []
        for key, entry in self._sorted():
            ids, vals = entry.merged()
            if not len(ids):
                continue
            keys.append((key, len(ids)))
            rows.append(ids)
            values.append(
                pd.Series(vals, dtype=object).map(_text, na_action="ignore").to_numpy(dtype=object)
                if vals is not None
                else np.full(len(ids), None, dtype=object)
            )
        columns: dict[str, Any] = {}
        for position, name in enumerate(DETAIL_COLUMNS[:5]):
            columns[name] = pd.array(
                np.repeat(
                    np.array([k[position] or None for k, _ in keys], dtype=object),
                    [n for _, n in keys],
                ),
                dtype="string",
            )
        columns["row"] = np.concatenate(rows) if rows else np.empty(0, np.int64)
        columns["value"] = pd.array(
            np.concatenate(values) if values else np.empty(0, dtype=object), dtype="string"
        )
        return pd.DataFrame(columns, columns=list(DETAIL_COLUMNS))

    def counts(self, *, stage: str | None = None, severity: str | None = None) -> dict[str, int]:
        """Return rows per kind (summed over layers and columns), optionally filtered.

        Parameters
        ----------
        stage : str, optional
            Only entries of this stage.
        severity : str, optional
            Only entries of this severity (``"error"``: rows rejected, by reason).

        Returns
        -------
        dict
            ``{kind: rows}`` for the entries that have a count.

        Examples
        --------
        >>> log = QualityLog()
        >>> log.add(layer="p", stage="validate", kind="sliver", severity="error",
        ...         message="slivers", rows=[4, 2])
        >>> log.counts(severity="error")
        {'sliver': 2}
        """
        out: dict[str, int] = {}
        for (_, entry_stage, kind, entry_severity, _, _), entry in self._entries.items():
            if stage is not None and entry_stage != stage:
                continue
            if severity is not None and entry_severity != severity:
                continue
            if entry.count is not None:
                out[kind] = out.get(kind, 0) + entry.count
        return out


_ACTIVE: contextvars.ContextVar[QualityLog | None] = contextvars.ContextVar(
    "tqspatial_quality_log", default=None
)


def active_log() -> QualityLog | None:
    """Return the log :func:`note` adds to in this thread, or None.

    Returns
    -------
    QualityLog or None
        The log of the innermost :func:`recording` block.

    Examples
    --------
    >>> active_log() is None
    True
    """
    return _ACTIVE.get()


@contextlib.contextmanager
def recording(log: QualityLog | None = None) -> Iterator[QualityLog]:
    """Make a log active: :func:`note` calls in this ``with`` block (and thread) add to it.

    Blocks nest; an inner block captures its findings alone (merge them into
    an outer log with :meth:`QualityLog.extend` if wanted).

    Parameters
    ----------
    log : QualityLog, optional
        The log to add to; a new one when None.

    Yields
    ------
    QualityLog
        The active log.

    Examples
    --------
    >>> with recording() as log:
    ...     note(layer="parcels", stage="crs", kind="inferred_crs", message="assumed EPSG:4548")
    >>> log.table()["kind"].tolist()
    ['inferred_crs']
    """
    target = log if log is not None else QualityLog()
    token = _ACTIVE.set(target)
    try:
        yield target
    finally:
        _ACTIVE.reset(token)


_PENDING: contextvars.ContextVar[QualityLog | None] = contextvars.ContextVar(
    "tqspatial_quality_pending", default=None
)


def _one(
    key: _Key, count: int | None, ids: IntArray | None, vals: npt.NDArray[np.object_] | None
) -> QualityLog:
    """Return a log holding one finding (merged into another without logging it again)."""
    one = QualityLog()
    one._entries[key] = _Entry(
        count=count,
        rows=[ids] if ids is not None and len(ids) else [],
        vals=[vals] if ids is not None and len(ids) else [],
    )
    return one


def _log_by_kind(pending: QualityLog) -> None:
    """Log ``pending``: one record per layer, stage, kind and severity, in order of arrival."""
    groups: dict[tuple[str, str, str, str], list[tuple[_Key, _Entry]]] = {}
    for key, entry in pending._entries.items():
        groups.setdefault(key[:4], []).append((key, entry))
    for (layer, stage, kind, severity), entries in groups.items():
        if len(entries) == 1:
            key, entry = entries[0]
            _log_entry(key, entry.count, entry.merged()[1])
            continue
        texts = [
            _fill(key[5], entry.count, entry.merged()[1], limit=SUMMARY_EXAMPLES)
            for key, entry in entries
        ]
        shown: list[str] = []
        for text in texts:
            if shown and sum(len(t) + 2 for t in [*shown, text]) > SUMMARY_CHARS:
                break
            shown.append(text)
        rest = len(texts) - len(shown)
        logger.log(
            _LEVELS[severity],
            "%s [%s/%s] %d findings: %s%s",
            layer,
            stage,
            kind,
            len(texts),
            "; ".join(shown),
            f"; and {rest} more (see the quality log)" if rest else "",
        )


@contextlib.contextmanager
def logged_by_kind() -> Iterator[None]:
    """Log the findings of this block once per kind, when the block ends.

    Inside the block, findings are recorded as usual (:func:`note`, :meth:`QualityLog.add`)
    but not logged one by one: at the end of the outermost block, each layer, stage, kind
    and severity gets one log record, quoting its findings (with up to
    :data:`SUMMARY_EXAMPLES` example values each, and up to :data:`SUMMARY_CHARS`
    characters in all, then counting the rest; the quality log keeps everything).  So
    reading a file with seven mapped fields and values parsed in three ways logs one
    ``field_mapped`` and one ``value_parsed`` line, not ten.  Blocks nest; the findings
    are logged even when the block raises.

    Yields
    ------
    None
        Nothing; the findings go to the active log as usual.

    Examples
    --------
    >>> import logging
    >>> seen = []
    >>> handler = logging.Handler()
    >>> handler.emit = lambda record: seen.append(record.getMessage())
    >>> logger.addHandler(handler)
    >>> with logged_by_kind():
    ...     for column in ("年代", "面积"):
    ...         note(layer="p", stage="fields", kind="guessed", column=column,
    ...              severity="warning", message=f"{column}: unit guessed")
    >>> logger.removeHandler(handler)
    >>> seen
    ['p [fields/guessed] 2 findings: 年代: unit guessed; 面积: unit guessed']
    """
    if _PENDING.get() is not None:
        yield
        return
    pending = QualityLog()
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
        _log_by_kind(pending)


def note(
    *,
    layer: str,
    stage: str,
    kind: str,
    message: str,
    severity: str = "info",
    column: str | None = None,
    rows: npt.ArrayLike | None = None,
    values: npt.ArrayLike | None = None,
    count: int | None = None,
) -> None:
    """Record a finding in the active log (see :func:`recording`), or only log it.

    Parameters
    ----------
    layer : str
        Layer name.
    stage : str
        Stage that found it.
    kind : str
        Short snake_case name of the finding.
    message : str
        What was found and done (placeholders ``{count}``, ``{values}``).
    severity : {"info", "warning", "error"}, default "info"
        ``"error"`` means the rows were rejected.
    column : str, optional
        The source column concerned.
    rows : array_like of int, optional
        Source row ids of the rows concerned.
    values : array_like, optional
        One value per row.
    count : int, optional
        Rows concerned when ``rows`` is not given.

    See Also
    --------
    QualityLog.add : The same fields, for a given log.

    Examples
    --------
    >>> with recording() as log:
    ...     note(layer="parcels", stage="fields", kind="value_missing", column="面积",
    ...          severity="warning", message="{count} areas unreadable: {values}",
    ...          rows=[0, 5], values=["不详", "不详"])
    >>> log.table().loc[0, "message"]
    '2 areas unreadable: 不详 ×2'
    """
    target = _ACTIVE.get()
    if target is None:
        target = QualityLog()  # validates and logs; nothing is kept
    target.add(
        layer=layer,
        stage=stage,
        kind=kind,
        message=message,
        severity=severity,
        column=column,
        rows=rows,
        values=values,
        count=count,
    )


def _cell(value: object) -> str:
    """Format one table cell for Markdown (pipes escaped, missing as a dash)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "–"
    text = str(value)
    return "–" if text == "" else text.replace("|", "\\|").replace("\n", " ")


def quality_report(
    log: QualityLog,
    *,
    counts: Mapping[str, Mapping[str, int]] | None = None,
    title: str = "Data-quality report",
    max_examples: int = MAX_EXAMPLES,
) -> str:
    """Render a log as a Markdown data-quality report a planner can read.

    Sections: rows read / kept / rejected per layer, rejected rows by reason
    (entries of severity ``"error"``), assumptions and warnings, and repairs,
    parsed values and other notes; each finding with its count, message and
    the smallest source row ids as examples.

    Parameters
    ----------
    log : QualityLog
        The run's findings.
    counts : mapping of str to mapping, optional
        Per layer, e.g. ``{"parcels": {"input": 10, "kept": 9, "rejected": 1}}``.
    title : str, default "Data-quality report"
        First heading.
    max_examples : int, default 5
        Source rows quoted per finding.

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> log = QualityLog()
    >>> log.add(layer="parcels", stage="crs", kind="inferred_crs", severity="warning",
    ...         message="assumed EPSG:4548")
    >>> log.add(layer="parcels", stage="validate", kind="sliver", severity="error",
    ...         message="area below 1 m²", rows=[2])
    >>> text = quality_report(log, counts={"parcels": {"input": 3, "kept": 2, "rejected": 1}})
    >>> "assumed EPSG:4548" in text, "| parcels | 3 | 2 | 1 |" in text
    (True, True)
    >>> "| parcels | sliver | 1 | area below 1 m² | 2 |" in text
    True
    """
    table = log.table(max_examples=max_examples)
    lines = [f"# {title}", "", "## Rows per layer", ""]
    if counts:
        keys = sorted({key for layer_counts in counts.values() for key in layer_counts})
        first = ("input", "kept", "rejected")
        order = [k for k in first if k in keys] + [k for k in keys if k not in first]
        lines.append("| layer | " + " | ".join(order) + " |")
        lines.append("|---" * (len(order) + 1) + "|")
        for layer, layer_counts in counts.items():
            cells = [_cell(layer_counts.get(key)) for key in order]
            lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    else:
        lines.append("No counts given.")
    lines.append("")

    lines += ["## Rejected rows by reason", ""]
    rejected = table[table["severity"] == "error"]
    if len(rejected):
        lines.append("| layer | reason | rows | what | examples (source rows) |")
        lines.append("|---|---|---|---|---|")
        lines.extend(
            f"| {_cell(r['layer'])} | {_cell(r['kind'])} | {_cell(r['count'])} | "
            f"{_cell(r['message'])} | {_cell(r['examples'])} |"
            for r in rejected.to_dict("records")
        )
    else:
        lines.append("No rows were rejected.")
    lines.append("")

    for heading, severity in (
        ("Assumptions and warnings", "warning"),
        ("Repairs, parsed values and other notes", "info"),
    ):
        lines.extend([f"## {heading}", ""])
        part = table[table["severity"] == severity]
        if not len(part):
            lines.extend(["None.", ""])
            continue
        for r in part.to_dict("records"):
            where = f" `{r['column']}`" if isinstance(r["column"], str) else ""
            rows = "" if pd.isna(r["count"]) else f" — {int(r['count']):,} rows"
            lines.append(
                f"- **{r['layer']}** ({r['stage']}) `{r['kind']}`{where}{rows}: "
                f"{_cell(r['message'])}"
            )
            if isinstance(r["examples"], str):
                lines.append(f"  - e.g. source rows {_cell(r['examples'])}")
        lines.append("")
    return "\n".join(lines)
