import re
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point

from tqspatial import gcj02
from tqspatial.crs import check_webmap_offset, infer_crs, resolve_crs, to_working_crs
from tqspatial.errors import CRSError, DataQualityWarning
from tqspatial.quality import recording

JINAN_STATION = (116.985, 36.670)  # lon, lat
TO_4548 = pyproj.Transformer.from_crs(4326, 4548, always_xy=True)


def points(xy, crs=None):
    return gpd.GeoDataFrame({"n": range(len(xy))}, geometry=[Point(p) for p in xy], crs=crs)


def xy_of(frame):
    return np.column_stack([frame.geometry.x, frame.geometry.y])


def resolved(raw, **options):
    """resolve_crs and the rows of its quality log."""
    with recording() as log:
        out = resolve_crs(raw, **options)
    return out, log.table().to_dict("records")


def test_reprojection_matches_pyproj_directly():
    lon, lat = JINAN_STATION
    frame = gpd.GeoDataFrame(geometry=[Point(lon, lat)], crs="EPSG:4326")
    out = to_working_crs(frame)
    x, y = TO_4548.transform(lon, lat)
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


def test_4527_and_4548_give_the_same_point():
    # Zone 39 with and without the zone number: eastings differ by exactly 39,000,000 m.
    base = [(498_765.4321, 4_061_234.5678), (512_000.0, 4_075_500.0)]
    with_zone = points([(x + 39_000_000, y) for x, y in base], crs="EPSG:4527")
    out = resolve_crs(with_zone, layer="z39")
    np.testing.assert_allclose(xy_of(out), np.array(base), atol=1e-3)
    assert out.crs.to_epsg() == 4548


def test_zone_number_in_eastings_is_inferred_with_a_datum_warning():
    base = [(498_765.0, 4_061_234.0), (512_000.0, 4_075_500.0)]
    raw = points([(x + 39_000_000, y) for x, y in base])
    with pytest.warns(DataQualityWarning, match="EPSG:4527.*Xian 1980"):
        out, (note,) = resolved(raw, layer="parcels", source="dk.shp")
    np.testing.assert_allclose(xy_of(out), np.array(base), atol=1e-3)
    assert (note["stage"], note["kind"], note["severity"]) == ("crs", "inferred_crs", "warning")
    assert "zone number 39" in note["message"]
    assert note["message"].startswith("parcels (dk.shp) has no CRS")
    # zone-numbered eastings: the zone-numbered Xian 1980 / Beijing 1954 codes (pyproj names)
    assert "Xian 1980 is EPSG:2363 and Beijing 1954 is EPSG:2415" in note["message"]
    assert pyproj.CRS.from_epsg(2363).name == "Xian 1980 / 3-degree Gauss-Kruger zone 39"
    assert pyproj.CRS.from_epsg(2415).name == "Beijing 1954 / 3-degree Gauss-Kruger zone 39"


@pytest.mark.parametrize(
    ("zone", "epsg"), [(25, 4513), (38, 4526), (40, 4528), (45, 4533), (20, 4498)]
)
def test_other_zone_numbers_map_to_their_epsg_codes(zone, epsg):
    guess = infer_crs((zone * 1e6 + 400_000, 3_000_000, zone * 1e6 + 600_000, 3_100_000))
    assert guess.crs.to_epsg() == epsg
    # The code really is that zone (independent: the CRS name from the EPSG database).
    assert f"zone {zone}" in pyproj.CRS.from_epsg(epsg).name


def test_eastings_without_zone_use_the_working_crs_only_as_a_hint():
    raw = points([(500_100.0, 4_060_100.0)])
    with pytest.warns(DataQualityWarning, match="central meridian cannot be read"):
        out, (note,) = resolved(raw, layer="p.shp")
    np.testing.assert_allclose(xy_of(out), [[500_100.0, 4_060_100.0]])
    # eastings without zone number: the prefix-less codes of CM 117E (pyproj names)
    assert "Xian 1980 is EPSG:2384 and Beijing 1954 is EPSG:2436" in note["message"]
    assert pyproj.CRS.from_epsg(2384).name == "Xian 1980 / 3-degree Gauss-Kruger CM 117E"
    assert pyproj.CRS.from_epsg(2436).name == "Beijing 1954 / 3-degree Gauss-Kruger CM 117E"
    assert "2363" not in note["message"]
    with pytest.raises(CRSError, match=r"p\.shp.*Pass source_crs='EPSG:4548'"):
        resolve_crs(raw, layer="p.shp", working_crs="EPSG:4527")


def test_lonlat_without_crs_is_wgs84_with_an_info_note(caplog):
    raw = points([JINAN_STATION])
    with caplog.at_level("INFO", logger="tqspatial"):
        out, (note,) = resolved(raw, layer="pts.csv")
    x, y = TO_4548.transform(*JINAN_STATION)
    np.testing.assert_allclose(xy_of(out), [[x, y]], atol=1e-6)
    assert note["severity"] == "info"
    assert "assumed WGS84" in caplog.text


@pytest.mark.parametrize("crs", [None, "EPSG:4326", "EPSG:4490"])
def test_swapped_lat_lon_is_fixed(crs):
    lon, lat = JINAN_STATION
    raw = points([(lat, lon), (lat + 0.01, lon + 0.02)], crs=crs)
    with pytest.warns(DataQualityWarning, match="swapped"):
        out = resolve_crs(raw, layer="swapped.csv")
    truth = np.column_stack(TO_4548.transform([lon, lon + 0.02], [lat, lat + 0.01]))
    np.testing.assert_allclose(xy_of(out), truth, atol=1.0)  # 4490 vs 4326: ballpark, < 1 m


def test_unrecognisable_coordinates_raise_naming_the_option():
    with pytest.raises(CRSError, match=r"match no CRS.*source_crs="):
        resolve_crs(points([(1_234.0, 5_678.0)]), layer="odd.shp")


def test_source_crs_overrides_declared_crs_with_a_note():
    raw = points([(39_500_000.0, 4_060_000.0)], crs="EPSG:4548")
    out, (note,) = resolved(raw, source_crs="EPSG:4527", layer="mislabelled")
    np.testing.assert_allclose(xy_of(out), [[500_000.0, 4_060_000.0]], atol=1e-3)
    assert note["kind"] == "declared_crs_overridden"


def test_declared_crs_contradicted_by_zone_number_raises():
    raw = points([(39_500_000.0, 4_060_000.0)], crs="EPSG:4548")
    with pytest.raises(CRSError, match=r"zone number 39.*source_crs='EPSG:4527'"):
        resolve_crs(raw, layer="mislabelled")


def test_invalid_source_crs_raises():
    with pytest.raises(CRSError, match="source_crs='EPSG:999999' is not a CRS"):
        resolve_crs(points([(500_000.0, 4_060_000.0)]), source_crs="EPSG:999999")


@pytest.mark.parametrize(("epsg", "datum"), [(2363, "Xian 1980"), (2415, "Beijing 1954")])
def test_old_datums_warn_about_ballpark_shift(epsg, datum):
    assert "zone 39" in pyproj.CRS.from_epsg(epsg).name
    raw = points([(39_500_000.0, 4_060_000.0)])
    with pytest.warns(DataQualityWarning, match=rf"{datum}.*ballpark.*metres"):
        out, notes = resolved(raw, source_crs=f"EPSG:{epsg}", layer="old")
    assert [n["kind"] for n in notes] == ["ballpark_datum_shift"]
    # Same numbers, different ellipsoid: the point moves by metres to tens of metres, not km.
    moved = np.hypot(*(xy_of(out)[0] - [500_000.0, 4_060_000.0]))
    assert 0.0 < moved < 200.0


def test_web_map_layers_are_converted_to_within_centimetres():
    lon, lat = np.meshgrid(np.linspace(116.8, 117.3, 6), np.linspace(36.5, 36.9, 5))
    lon, lat = lon.ravel(), lat.ravel()
    truth = np.column_stack(TO_4548.transform(lon, lat))
    for kind, forward in (("gcj02", gcj02.wgs84_to_gcj02), ("bd09", gcj02.wgs84_to_bd09)):
        wlon, wlat = forward(lon, lat)
        raw = points(list(zip(wlon, wlat, strict=True)))
        out, notes = resolved(raw, source_crs=kind.upper(), layer=f"{kind}.csv")
        err = np.hypot(*(xy_of(out) - truth).T)
        assert err.max() < 0.05
        assert notes[-1]["kind"] == "webmap_converted"


def test_web_map_option_refuses_projected_layers():
    with pytest.raises(CRSError, match="declares web-map longitudes/latitudes"):
        resolve_crs(points([(500_000.0, 4_060_000.0)], crs="EPSG:4548"), source_crs="gcj02")


def test_empty_layer_without_crs_gets_the_working_crs():
    out = resolve_crs(gpd.GeoDataFrame(geometry=[]), layer="empty")
    assert out.crs.to_epsg() == 4548


def test_notes_go_to_the_log_never_to_attrs():
    raw = points([(500_000.0, 4_060_000.0)], crs="EPSG:4527")
    out, notes = resolved(raw, source_crs="EPSG:4548")
    assert [n["kind"] for n in notes] == ["declared_crs_overridden"]
    assert out.attrs == {}
    assert raw.attrs == {}


def shifted(frame, forward):
    ll = frame.to_crs(4326)
    moved = ll.copy()
    moved.geometry = shapely.transform(
        ll.geometry.array, lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1]))
    )
    return moved.to_crs(frame.crs)


def test_gcj02_layer_read_as_wgs84_is_detected_against_the_boundary(tianqiao):
    facilities = tianqiao.facilities
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_webmap_offset(facilities, tianqiao.boundary, layer="fac") is None
    for kind, forward in (("gcj02", gcj02.wgs84_to_gcj02), ("bd09", gcj02.wgs84_to_bd09)):
        suspect = shifted(facilities, forward)
        with (
            pytest.warns(DataQualityWarning, match=f"source_crs='{kind}'"),
            recording() as log,
        ):
            message = check_webmap_offset(suspect, tianqiao.boundary, layer="fac")
        assert message is not None
        assert log.table()["kind"].tolist() == ["suspected_webmap_offset"]


def test_layer_far_off_for_other_reasons_is_not_blamed_on_web_maps(tianqiao):
    far = tianqiao.facilities.copy()
    far.geometry = far.geometry.translate(5_000, -3_000)
    assert check_webmap_offset(far, tianqiao.boundary) is None


def test_degrees_declared_for_metres_raises_with_a_suggestion():
    raw = points([(39_500_000.0, 4_060_000.0)], crs="EPSG:4326")
    with pytest.raises(
        CRSError, match=r"^parcels \(wrong\.shp\): .*in degrees.*not longitudes/latitudes.*4527"
    ):
        resolve_crs(raw, layer="parcels", source="wrong.shp")


def test_metres_declared_for_degrees_raises():
    raw = points([JINAN_STATION], crs="EPSG:4548")
    with pytest.raises(CRSError, match=r"in metres.*look like longitudes.*EPSG:4326"):
        resolve_crs(raw, layer="wrong.prj")


def test_gcj02_parcels_inside_the_district_are_flagged_against_the_roads(tianqiao):
    from pathlib import Path

    from tqspatial import io

    folder = Path(__file__).parent / "data" / "gcj02_shift"
    roads = io.read_vector(folder / "roads_wgs84.geojson", what="roads")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read as WGS84: nothing spills over the boundary
        parcels = io.read_parcels(folder / "parcels_gcj02.geojson", boundary=tianqiao.boundary)
    assert tianqiao.boundary.union_all().contains(parcels.union_all())
    with (
        pytest.warns(DataQualityWarning, match="source_crs='gcj02'") as caught,
        recording() as log,
    ):
        message = check_webmap_offset(
            parcels, tianqiao.boundary, layer="parcels", source="parcels_gcj02.geojson", roads=roads
        )
    assert message == str(caught[0].message)
    assert message.startswith("parcels (parcels_gcj02.geojson): the layer sits about")
    # independent size of the shift: the published GCJ-02 offset at the layer's centre
    lon, lat = pyproj.Transformer.from_crs(4548, 4326, always_xy=True).transform(
        *parcels.union_all().centroid.coords[0]
    )
    glon, glat = gcj02.wgs84_to_gcj02(lon, lat)
    shift = pyproj.Geod(ellps="WGS84").inv(lon, lat, float(glon), float(glat))[2]
    said = float(re.search(r"sits about (\d+) m off", message).group(1))
    assert said == pytest.approx(shift, abs=2.0)
    assert log.table()["kind"].tolist() == ["suspected_webmap_offset"]
    # read as what it is, the same layer fits the roads: no warning
    fixed = io.read_parcels(folder / "parcels_gcj02.geojson", source_crs="gcj02")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_webmap_offset(fixed, tianqiao.boundary, roads=roads) is None


def test_web_map_shift_against_the_boundary_edge_when_few_features_spill():
    # 10,000 parcels of 50 m; only 5 rows are flush with the east edge of the district.
    x0, y0, size = 500_000.0, 4_060_000.0, 50.0
    district = shapely.box(x0 - 5_000, y0 - 5_000, x0 + 100 * size, y0 + 100 * size + 5_000)
    cells = [
        shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
        for r in range(100)
        for c in range(100 if r < 5 else 90)
    ]
    layer = gpd.GeoDataFrame(geometry=cells, crs="EPSG:4548")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_webmap_offset(layer, district) is None  # as made: flush, nothing crosses
    suspect = shifted(layer, gcj02.wgs84_to_gcj02)
    spill = (
        1
        - shapely.contains_xy(
            district, *np.array([g.centroid.coords[0] for g in suspect.geometry]).T
        ).mean()
    )
    assert spill < 0.02  # below the spill test's threshold: the edge test must find it
    with pytest.warns(DataQualityWarning, match=r"boundary's edges run .* source_crs='gcj02'"):
        assert check_webmap_offset(suspect, district) is not None


def test_a_layer_in_the_right_crs_is_left_alone_by_the_fit_check(tianqiao):
    from tqspatial.crs import check_crs_fit

    parcels = tianqiao.parcels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_crs_fit(parcels, parcels, tianqiao.boundary, layer="parcels")
    far = parcels.head(200).copy()
    far.geometry = far.geometry.translate(40_000, 0)  # in the right CRS, but another district
    with recording() as log:
        check_crs_fit(far, far, tianqiao.boundary, layer="parcels", source="other.gpkg")
    found = log.table().set_index("kind").loc["outside_district_crs"]
    assert "no common CRS" in found["message"]
    assert found["count"] == len(far)


@pytest.mark.parametrize(
    ("raw_crs", "swap", "expected"),
    [
        ("EPSG:4547", False, "EPSG:4548"),  # wrong 3-degree zone
        ("EPSG:4326", True, "EPSG:4326 (and swap the x/y columns)"),  # lat/lon in a 4326 file
        ("EPSG:4549", False, "EPSG:4548"),  # the zone east (CM 120E)
    ],
)
def test_crs_fit_names_the_reading_that_fits(tianqiao, raw_crs, swap, expected):
    from tqspatial.crs import check_crs_fit

    truth = tianqiao.parcels.head(300)
    if raw_crs == "EPSG:4326":
        raw = truth.to_crs(4326)
        raw.geometry = shapely.transform(raw.geometry.array, lambda xy: xy[:, ::-1])
        raw = raw.set_crs(raw_crs, allow_override=True)
    else:
        raw = truth.set_crs(raw_crs, allow_override=True)
    resolved = raw.to_crs(4548) if not swap else raw.set_crs(None, allow_override=True)
    if swap:  # what a reader makes of lat/lon when nothing swaps it: far outside
        resolved = raw.copy()
        resolved.geometry = resolved.geometry.translate(3_000_000, 0)
        resolved = resolved.set_crs(4548, allow_override=True)
    with pytest.raises(CRSError, match=rf"The data fit .*source_crs='{re.escape(expected)}'"):
        check_crs_fit(raw, resolved, tianqiao.boundary, layer="parcels", source="p.shp")
