import hashlib
import json

import pandas as pd
import pyogrio
import pytest

import tqspatial as tq
from tqspatial import datasets


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return tq.refresh(out_dir=tmp_path_factory.mktemp("processed"))


def test_outputs_written_and_no_staging_left(result):
    names = sorted(p.name for p in result.out_dir.iterdir())
    assert names == ["cluster_summary.csv", "inventory.gpkg", "manifest.json", "parcels.parquet"]


def test_every_parcel_is_kept_or_rejected_and_area_is_conserved(result, tianqiao):
    counts = result.counts
    assert counts["parcels_in"] == len(tianqiao.parcels)
    assert counts["parcels_kept"] + counts["parcels_rejected"] == counts["parcels_in"]
    layers = dict(pyogrio.list_layers(result.out_dir / "inventory.gpkg").tolist())
    assert {"parcels", "structure", "rejects", "overlaps"} <= set(layers)
    written = pyogrio.read_dataframe(result.out_dir / "inventory.gpkg", layer="parcels")
    assert len(written) == counts["parcels_kept"]
    summary = pd.read_csv(result.out_dir / "cluster_summary.csv", encoding="utf-8-sig")
    # Independent: area recomputed from the written geometries.
    assert summary["land_area_ha"].sum() == pytest.approx(written.area.sum() / 1e4, rel=1e-9)
    assert summary["parcel_count"].sum() == len(written)
    by_cluster = written.groupby("cluster_id").size()
    assert summary.set_index("cluster_id")["parcel_count"].to_dict() == by_cluster.to_dict()


def test_parquet_matches_geopackage(result):
    pq = tq.io.read_parcels(result.out_dir / "parcels.parquet")
    gp = tq.io.read_parcels(result.out_dir / "inventory.gpkg", layer="parcels")
    assert pq["parcel_id"].tolist() == gp["parcel_id"].tolist()
    assert pq["cluster_id"].tolist() == gp["cluster_id"].tolist()


def test_manifest_records_inputs_counts_and_versions(result):
    manifest = json.loads((result.out_dir / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["inputs"].items():
        digest = hashlib.sha256(datasets.raw_path(name).read_bytes()).hexdigest()
        assert entry["sha256"] == digest
    assert manifest["counts"] == result.counts
    # The manifest is the last file written, so it times every stage before the write.
    assert set(manifest["timings_s"]) == {"read", "validate", "assign"}
    assert manifest["versions"]["tqspatial"] == tq.__version__
