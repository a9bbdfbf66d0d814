import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from tqspatial.errors import SchemaError
from tqspatial.schema import validate_parcels


def test_clean_layer_is_kept_whole_with_areas(grid9):
    kept, rejects = validate_parcels(grid9)
    assert len(kept) == 9
    assert len(rejects) == 0
    np.testing.assert_allclose(kept["area_m2"], 100.0 * 100.0)


def test_every_row_is_kept_or_rejected_with_its_reason(grid9):
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    extra = gpd.GeoDataFrame(
        {"parcel_id": ["n", "e", "l", "b", "s", None, "p00", " p01 "]},
        geometry=[
            None,
            Polygon(),
            LineString([(0, 0), (1, 1)]),
            bowtie,
            box(0, 0, 0.5, 0.5),
            box(0, 0, 10, 10),
            box(0, 0, 10, 10),
            box(20, 0, 30, 10),
        ],
        crs="EPSG:4548",
    )
    frame = gpd.GeoDataFrame(gpd.pd.concat([grid9, extra], ignore_index=True), crs="EPSG:4548")
    kept, rejects = validate_parcels(frame)
    assert len(kept) + len(rejects) == len(frame)
    assert set(kept.index).isdisjoint(rejects.index)
    ids = rejects["parcel_id"].astype(object).where(rejects["parcel_id"].notna(), "<missing>")
    reasons = dict(zip(ids, rejects["reason"], strict=True))
    assert reasons == {
        "n": "null_geometry",
        "e": "empty_geometry",
        "l": "not_polygonal",
        "b": "invalid_geometry",
        "s": "sliver",
        "<missing>": "missing_id",
        "p00": "duplicate_id",
        " p01 ": "duplicate_id",
    }
    # The first occurrence of each id is the one kept: its area is a whole grid cell.
    assert kept.set_index("parcel_id").loc["p00", "area_m2"] == pytest.approx(1e4)


def test_missing_id_column_raises_and_lists_columns(grid9):
    with pytest.raises(SchemaError, match=r"no id column 'DKBH'; columns are \['parcel_id'"):
        validate_parcels(grid9, id_column="DKBH")


def test_geographic_crs_is_refused():
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["a"]}, geometry=[Point(117, 36.7).buffer(0.01)], crs="EPSG:4326"
    )
    with pytest.raises(SchemaError, match="geographic"):
        validate_parcels(frame)
