import numpy as np
import pyproj
import pytest

from tqspatial import gcj02

GEOD = pyproj.Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# Published values from other implementations (found with the search tool):
# wandergis/coordtransform-derived tests (coordtransform_rs), a geotool CLI test, gcoord's test.
KNOWN_FORWARD = [
    # (wgs lon, wgs lat, gcj lon, gcj lat)
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.0917077, 30.6107779, 121.09626935575027, 30.608604331756705),
]
KNOWN_BD09 = [
    # (gcj lon, gcj lat, bd lon, bd lat)
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
]


@pytest.mark.parametrize(("lon", "lat", "glon", "glat"), KNOWN_FORWARD)
def test_forward_matches_published_values(lon, lat, glon, glat):
    out_lon, out_lat = gcj02.wgs84_to_gcj02(lon, lat)
    assert metres(out_lon, out_lat, glon, glat) < 0.05
    # and the inverse lands on the WGS84 point
    back = gcj02.gcj02_to_wgs84(glon, glat)
    assert metres(*back, lon, lat) < 0.05


@pytest.mark.parametrize(("lon", "lat", "blon", "blat"), KNOWN_BD09)
def test_bd09_matches_published_values(lon, lat, blon, blat):
    assert metres(*gcj02.gcj02_to_bd09(lon, lat), blon, blat) < 0.05
    assert metres(*gcj02.bd09_to_gcj02(blon, blat), lon, lat) < 0.05


def test_geotool_bd09_value_through_both_steps():
    lon, lat = gcj02.wgs84_to_bd09(121.0917077, 30.6107779)
    assert metres(lon, lat, 121.10271732371203, 30.61484572185035) < 0.05


def test_gcoord_inverse_value():
    # gcoord's test: GCJ-02 (123, 45) -> WGS84 (122.99395597, 44.99804071), checked to 1e-5 deg
    lon, lat = gcj02.gcj02_to_wgs84(123.0, 45.0)
    assert metres(lon, lat, 122.99395597, 44.99804071) < 2.0


def test_round_trip_over_jinan_grid_is_below_5_cm():
    lon, lat = np.meshgrid(np.linspace(116.2, 117.8, 41), np.linspace(36.0, 37.6, 41))
    for forward, inverse in (
        (gcj02.wgs84_to_gcj02, gcj02.gcj02_to_wgs84),
        (gcj02.wgs84_to_bd09, gcj02.bd09_to_wgs84),
    ):
        fwd = forward(lon, lat)
        back = inverse(*fwd)
        err = metres(back[0].ravel(), back[1].ravel(), lon.ravel(), lat.ravel())
        assert np.max(err) < 0.05
        # the offset itself is real: hundreds of metres
        shift = metres(fwd[0].ravel(), fwd[1].ravel(), lon.ravel(), lat.ravel())
        assert np.min(shift) > 300
        assert np.max(shift) < 2000


def test_outside_china_is_unchanged():
    lon, lat = gcj02.wgs84_to_gcj02([2.35, -70.0], [48.85, 40.0])
    np.testing.assert_array_equal(lon, [2.35, -70.0])
    np.testing.assert_array_equal(lat, [48.85, 40.0])


def test_offset_at_tianqiao_is_about_half_a_kilometre():
    lon, lat = 116.99, 36.70
    assert metres(*gcj02.wgs84_to_gcj02(lon, lat), lon, lat) == pytest.approx(500, abs=100)
    assert metres(*gcj02.wgs84_to_bd09(lon, lat), lon, lat) == pytest.approx(1300, abs=200)
