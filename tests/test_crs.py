import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point

from tqspatial.crs import to_working_crs
from tqspatial.errors import CRSError


def test_reprojection_matches_pyproj_directly():
    lon, lat = 116.985, 36.670  # Jinan railway station
    frame = gpd.GeoDataFrame(geometry=[Point(lon, lat)], crs="EPSG:4326")
    out = to_working_crs(frame)
    x, y = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(lon, lat)
    assert out.crs.to_epsg() == 4548
    assert out.geometry.x.iloc[0] == pytest.approx(x, abs=1e-6)
    assert out.geometry.y.iloc[0] == pytest.approx(y, abs=1e-6)


def test_frame_already_in_working_crs_is_returned_unchanged():
    frame = gpd.GeoDataFrame(geometry=[Point(500_000, 4_060_000)], crs="EPSG:4548")
    assert to_working_crs(frame) is frame


def test_missing_crs_says_which_option_to_pass():
    frame = gpd.GeoDataFrame(geometry=[Point(500_000, 4_060_000)])
    with pytest.raises(CRSError, match=r"parcels.shp has no coordinate reference system.*crs="):
        to_working_crs(frame, source="parcels.shp")
