"""The quality log: aggregated entries, deterministic merging, the report rendered from it."""

import logging
import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from tqspatial.quality import (
    DETAIL_COLUMNS,
    LOG_COLUMNS,
    QualityLog,
    active_log,
    logged_by_kind,
    note,
    quality_report,
    recording,
)
from tqspatial.validate import validate_parcels


def test_entries_aggregate_rows_and_log_once_per_call(caplog):
    log = QualityLog()
    with caplog.at_level("INFO", logger="tqspatial"):
        log.add(layer="p", stage="fields", kind="value_parsed", column="年代", rows=[9, 4],
                message="{count} years read: {values}", values=["约1985", "约1985"])  # fmt: skip
        log.add(layer="p", stage="crs", kind="guess", severity="warning", message="careful")
    table = log.table()
    assert table.columns.tolist() == list(LOG_COLUMNS)
    parsed = table.set_index("kind").loc["value_parsed"]
    assert parsed["count"] == 2
    assert parsed["examples"] == "4: 约1985; 9: 约1985"
    assert parsed["message"] == "2 years read: 约1985 ×2"
    assert pd.isna(table.set_index("kind").loc["guess", "count"])
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING"]


def test_values_and_rows_must_agree_and_severity_is_checked():
    log = QualityLog()
    with pytest.raises(ValueError, match="2 values for 1 rows"):
        log.add(layer="p", stage="s", kind="k", message="m", rows=[1], values=["a", "b"])
    with pytest.raises(ValueError, match="count=3 but 1 rows"):
        log.add(layer="p", stage="s", kind="k", message="m", rows=[1], count=3)
    with pytest.raises(ValueError, match=r"severity='fatal'.*'info', 'warning', 'error'"):
        log.add(layer="p", stage="s", kind="k", message="m", severity="fatal")


def test_non_integer_labels_are_counted_not_listed():
    log = QualityLog()
    log.add(layer="p", stage="s", kind="k", message="m", rows=pd.Index(["r", "s"]))
    row = log.table().iloc[0]
    assert row["count"] == 2
    assert pd.isna(row["examples"])


def split_log(parts):
    """One log per part, each holding the same finding for its rows."""
    logs = []
    for rows in parts:
        log = QualityLog()
        log.add(layer="parcels", stage="validate", kind="made_valid", message="{count} repaired",
                rows=rows, values=[f"detail {r}" for r in rows])  # fmt: skip
        log.add(layer="parcels", stage="crs", kind="inferred_crs", message="assumed EPSG:4548")
        logs.append(log)
    return logs


def test_merging_is_exact_and_independent_of_order():
    whole = split_log([[8, 1, 30, 4, 17, 2, 5]])[0]
    a, b, c = split_log([[30, 4], [8, 17, 2], [1, 5]])
    forward = QualityLog().extend(a).extend(b).extend(c)
    backward = QualityLog().extend(c).extend(b).extend(a)
    expected = whole.table()
    pd.testing.assert_frame_equal(forward.table(), expected)
    pd.testing.assert_frame_equal(backward.table(), expected)
    pd.testing.assert_frame_equal(forward.details(), whole.details())
    made = expected.set_index("kind").loc["made_valid"]
    assert made["count"] == 7
    assert made["examples"].startswith("1: detail 1; 2: detail 2; 4: detail 4; 5: detail 5")
    assert made["examples"].endswith("(+2)")


def test_table_is_sorted_by_stage_order():
    log = QualityLog()
    for stage in ("supply", "validate", "read", "fields", "crs"):
        log.add(layer="p", stage=stage, kind=f"k_{stage}", message="m")
    assert log.table()["stage"].tolist() == ["read", "crs", "fields", "validate", "supply"]


def test_details_long_table():
    log = QualityLog()
    log.add(layer="p", stage="fields", kind="value_missing", column="面积", severity="warning",
            message="m", rows=np.array([5, 3]), values=["不详", None])  # fmt: skip
    log.add(layer="p", stage="crs", kind="inferred_crs", message="no rows")
    details = log.details()
    assert details.columns.tolist() == list(DETAIL_COLUMNS)
    assert details["row"].tolist() == [3, 5]
    assert details["value"].tolist()[0] is pd.NA
    assert details["value"].tolist()[1] == "不详"
    assert set(details["column"]) == {"面积"}


def test_recording_nests_and_note_without_log_only_logs(caplog):
    assert active_log() is None
    with caplog.at_level("INFO", logger="tqspatial"):
        note(layer="p", stage="s", kind="lonely", message="nobody records me")
    assert "nobody records me" in caplog.text
    with recording() as outer:
        note(layer="p", stage="s", kind="outer", message="m")
        with recording() as inner:
            note(layer="p", stage="s", kind="inner", message="m")
        assert active_log() is outer
    assert outer.counts() == {}
    assert len(outer) == 1
    assert len(inner) == 1
    assert inner.table()["kind"].tolist() == ["inner"]


def test_log_pickles_for_dask_workers():
    (log,) = split_log([[3, 1]])
    back = pickle.loads(pickle.dumps(log))
    pd.testing.assert_frame_equal(back.table(), log.table())


def test_relabel_and_replace_message():
    log = QualityLog()
    log.add(layer="p", stage="landuse", kind="landuse_scheme", message="given: 2023")
    log.add(layer="p", stage="validate", kind="sliver", severity="error", message="m", rows=[0, 2])
    log.replace_message(kind="landuse_scheme", old="given: 2023", new="detected: 2023")
    relabelled = log.relabel_rows([10, 11, 12])
    assert relabelled.details()["row"].tolist() == [10, 12]
    assert log.details()["row"].tolist() == [0, 2]
    assert "detected: 2023" in log.table()["message"].tolist()


@pytest.fixture
def validated():
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["a", "a", "b", "c", "d"]},
        geometry=[box(0, 0, 10, 10), box(0, 0, 10, 10), None, box(5, 0, 15, 10), None],
        crs="EPSG:4548",
    )
    with recording() as log:
        note(layer="parcels", stage="crs", kind="inferred_crs", severity="warning",
             message="parcels has no CRS: assumed EPSG:4548")  # fmt: skip
        kept, rejects = validate_parcels(frame)
    return frame, kept, rejects, log


def test_report_lists_counts_reasons_assumptions_and_repairs(validated):
    frame, kept, rejects, log = validated
    text = quality_report(
        log, counts={"parcels": {"input": len(frame), "kept": len(kept), "rejected": len(rejects)}}
    )
    assert text.startswith("# Data-quality report")
    assert "| parcels | 5 | 2 | 3 |" in text
    # Counts by reason, computed independently from the rejects table.
    for reason, count in rejects["reason"].value_counts().items():
        assert f"| parcels | {reason} | {count} |" in text
    warnings_part = text.split("## Assumptions and warnings")[1].split("## Repairs")[0]
    assert "assumed EPSG:4548" in warnings_part
    assert "overlap_removed" in warnings_part
    assert "e.g. source rows 3:" in warnings_part


def test_report_stays_small_for_many_rows():
    log = QualityLog()
    rows = np.arange(1_000_000)
    log.add(layer="p", stage="fields", kind="value_parsed", message="{count} parsed", rows=rows)
    text = quality_report(log, max_examples=3)
    assert "1,000,000 parsed" in text
    assert "0, 1, 2 … (+999,997)" in text
    assert len(text) < 2000
    assert "No rows were rejected." in text


def test_log_counts_equal_the_tables(validated):
    _, kept, rejects, log = validated
    assert log.counts(severity="error") == rejects["reason"].value_counts().to_dict()
    repaired = kept["repair"].dropna().str.split(": ").str[0].value_counts().to_dict()
    assert log.counts(stage="validate", severity="warning") == repaired


def test_nothing_is_printed(capsys, caplog):
    with caplog.at_level(logging.WARNING), recording():
        note(layer="p", stage="s", kind="k", severity="warning", message="loud")
    assert capsys.readouterr().out == ""


def _noted_then_stopped(caplog):
    with logged_by_kind():
        with logged_by_kind():  # nested: the outer block logs
            for column in ("a", "b", "c"):
                note(layer="p", stage="fields", kind="mapped", column=column,
                     message=f"{column} mapped")  # fmt: skip
            note(layer="p", stage="fields", kind="odd", severity="warning", message="odd",
                 rows=[1, 2])  # fmt: skip
        assert caplog.records == []  # nothing yet: the outer block is still open
        msg = "stop"
        raise ValueError(msg)


def test_logged_by_kind_logs_one_record_per_kind_at_the_end_even_on_error(caplog):
    with (
        caplog.at_level("INFO", logger="tqspatial"),
        recording() as log,
        pytest.raises(ValueError, match="stop"),
    ):
        _noted_then_stopped(caplog)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [
        ("INFO", "p [fields/mapped] 3 findings: a mapped; b mapped; c mapped"),
        ("WARNING", "p [fields/odd] 2 rows: odd"),
    ]
    assert len(log) == 4  # the log itself keeps every finding
    caplog.clear()
    with caplog.at_level("INFO", logger="tqspatial"):
        note(layer="p", stage="fields", kind="mapped", message="outside a block")
    assert [r.getMessage() for r in caplog.records] == ["p [fields/mapped]: outside a block"]
