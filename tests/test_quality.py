import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from tqspatial.quality import add_note, notes, quality_report, quality_table
from tqspatial.schema import validate_parcels


def test_add_note_stores_plain_values_and_logs(caplog):
    frame = pd.DataFrame({"a": [1]})

    with caplog.at_level("INFO", logger="tqspatial"):
        add_note(
            frame,
            layer="p",
            stage="fields",
            kind="parsed",
            message="m",
            count=np.int64(3),
            raw=pd.NA,
        )
        add_note(frame, layer="p", stage="crs", kind="guess", level="warning", message="careful")
    stored = frame.attrs["tq_notes"]
    assert stored[0]["count"] == 3
    assert type(stored[0]["count"]) is int
    assert stored[0]["raw"] is None
    assert stored[0]["level"] == "info"
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING"]
    assert "careful" in caplog.records[1].getMessage()


def test_notes_survive_concat_and_are_copies():
    a, b = pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [2]})
    add_note(a, layer="p", message="one")
    add_note(b, layer="p", message="one")
    pd.concat([a, b])  # pandas compares attrs: plain dicts must not break it
    got = notes(a)
    got[0]["message"] = "changed"
    assert notes(a)[0]["message"] == "one"


def test_add_note_rejects_unknown_keys_and_missing_message():
    with pytest.raises(ValueError, match=r"'colour'"):
        add_note(pd.DataFrame(), message="x", colour="red")
    with pytest.raises(ValueError, match="message"):
        add_note(pd.DataFrame(), layer="p")


@pytest.fixture
def validated():
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["a", "a", "b", "c", "d"]},
        geometry=[box(0, 0, 10, 10), box(0, 0, 10, 10), None, box(5, 0, 15, 10), None],
        crs="EPSG:4548",
    )
    add_note(
        frame,
        layer="parcels",
        stage="crs",
        kind="inferred_crs",
        level="warning",
        message="parcels has no CRS: assumed EPSG:4548",
    )
    kept, rejects = validate_parcels(frame)
    return frame, kept, rejects


def test_report_lists_counts_reasons_assumptions_and_repairs(validated):
    frame, kept, rejects = validated
    text = quality_report(
        notes=notes(kept),
        rejects=[rejects],
        counts={"parcels": {"input": len(frame), "kept": len(kept), "rejected": len(rejects)}},
    )
    assert text.startswith("# Data-quality report")
    assert "| parcels | 5 | 2 | 3 |" in text
    # Counts by reason, computed independently from the rejects table.
    for reason, count in rejects["reason"].value_counts().items():
        assert f"| parcels | {reason} | {count} |" in text
    warnings_part = text.split("## Assumptions and warnings")[1].split("## Repairs")[0]
    assert "assumed EPSG:4548" in warnings_part
    assert "overlap_removed" in warnings_part


def test_report_limits_examples():
    many = [
        {"layer": "p", "stage": "fields", "kind": "parsed", "message": f"row {i}"}
        for i in range(12)
    ]
    text = quality_report(notes=many, max_examples=3)
    assert "row 2" in text
    assert "row 3" not in text
    assert "and 9 more" in text
    assert "No rows were rejected." in text


def test_quality_table_has_one_row_per_note_and_reject(validated):
    _, kept, rejects = validated
    table = quality_table(notes=notes(kept), rejects=[rejects])
    assert len(table) == len(notes(kept)) + len(rejects)
    assert table.loc[table["source"] == "reject", "kind"].tolist() == rejects["reason"].tolist()
    assert table.loc[table["source"] == "reject", "row"].tolist() == rejects["source_row"].tolist()
