"""PostGIS inventory against a real throwaway PostgreSQL + PostGIS server (no mocks).

The server (tests/pg_server.py) is started once for this module; each test writes into its own
schema. Expected values come from the input frames, from shapely/geopandas, or from PostGIS
itself (ST_Area, ST_SRID, pg_indexes), never from the code under test.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from shapely.geometry import Point

import tqspatial as tq
from tests.conftest import make_grid9
from tests.pg_server import PgServer, PgServerError, find_bindir, free_port, start
from tqspatial.errors import ConfigError, CRSError, DataFileError, SchemaError
from tqspatial.postgis import read_inventory_postgis, write_inventory_postgis

_schemas = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    try:
        server = start()
    except PgServerError as exc:  # fail, never skip: the test command installs the server
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def schema() -> str:
    return f"inv_{next(_schemas)}"


def _sql(pg: PgServer, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(pg.url) as conn:
        return conn.execute(query, params).fetchall()


def _parcels(n: int) -> gpd.GeoDataFrame:
    """The first n embedded parcels plus a Chinese text column with a missing value."""
    parcels = tq.datasets.tianqiao().parcels.head(n).copy()
    names = ["天桥区 泺口", "药山街道", "北园·工商河", None]
    parcels["name_zh"] = pd.Series([names[i % 4] for i in range(n)], index=parcels.index)
    return parcels


def _facilities_with_nul() -> gpd.GeoDataFrame:
    """Five valid rows, then a name PostgreSQL cannot store (NUL byte): COPY fails midway."""
    names = ["小学", "社区卫生服务中心", "农贸市场", "地铁站", "幼儿园", "bad\x00name"]
    return gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(6)], "name_zh": names},
        geometry=[Point(500_000 + 10 * i, 4_060_000) for i in range(6)],
        crs="EPSG:4548",
    )


def test_round_trip_parcels(pg: PgServer, schema: str) -> None:
    parcels = _parcels(2000)
    written = write_inventory_postgis(pg.url, {"parcels": parcels}, schema=schema, run_info={})
    assert written.rows == {"parcels": 2000}
    assert "@127.0.0.1" in written.target

    back = read_inventory_postgis(pg.url, "parcels", schema=schema)
    assert isinstance(back, gpd.GeoDataFrame)
    assert back.crs.to_epsg() == 4548
    assert list(back.columns) == list(parcels.columns)
    assert len(back) == len(parcels)
    # geometry: vertex-by-vertex within 1e-6 m, and the same area as computed by PostGIS itself
    assert shapely.equals_exact(back.geometry.values, parcels.geometry.values, tolerance=1e-6).all()
    areas = dict(_sql(pg, f"SELECT parcel_id, ST_Area(geometry) FROM {schema}.parcels"))
    expected = parcels.set_index("parcel_id").area
    np.testing.assert_allclose([areas[k] for k in expected.index], expected.to_numpy(), rtol=1e-9)
    # attributes, Chinese text and missing values included
    attrs = [c for c in parcels.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        back[attrs].astype(object).where(back[attrs].notna(), None),
        parcels[attrs].reset_index(drop=True).astype(object).where(parcels[attrs].notna(), None),
    )
    names = back["name_zh"].head(4).tolist()
    assert names[:3] == ["天桥区 泺口", "药山街道", "北园·工商河"]
    assert pd.isna(names[3])
    assert back["residents"].dtype == np.int64
    assert back["is_idle"].dtype == bool


def test_srid_geometry_type_and_indexes(pg: PgServer, schema: str) -> None:
    grid = make_grid9()
    overlaps = pd.DataFrame(  # no unique single id: composite key on both id columns
        {"parcel_id": ["p00", "p00", "p01"], "element_id": ["a", "b", "a"], "share": [0.5] * 3}
    )
    write_inventory_postgis(
        pg.url, {"parcels": grid, "overlaps": overlaps}, schema=schema, run_info={}
    )
    assert _sql(
        pg,
        "SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s",
        (schema,),
    ) == [(4548, "POLYGON")]
    assert _sql(pg, f"SELECT DISTINCT ST_SRID(geometry) FROM {schema}.parcels") == [(4548,)]
    indexes = dict(
        _sql(pg, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))
    )
    assert "USING gist (geometry)" in indexes["parcels_geometry_gist"]
    assert "(parcel_id)" in indexes["parcels_pkey"]
    assert "(parcel_id, element_id)" in indexes["overlaps_pkey"]
    assert not any(name.startswith("_tq_") for name in indexes)
    # the planner can use the spatial index for a bounding-box query
    with psycopg.connect(pg.url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            f"EXPLAIN SELECT parcel_id FROM {schema}.parcels"
            " WHERE geometry && ST_MakeEnvelope(500000, 4060000, 500050, 4060050, 4548)"
        ).fetchall()
    assert "parcels_geometry_gist" in " ".join(str(r[0]) for r in plan)


def test_second_write_replaces_first_and_history_has_two_rows(pg: PgServer, schema: str) -> None:
    first = make_grid9()
    extra = pd.DataFrame({"cluster_id": ["a", "b"], "land_area_ha": [1.5, 2.5]})
    info = {
        "run_id": "run-1",
        "started_at": "2026-01-02T03:04:05+08:00",
        "counts": {"parcels_in": 9},
        "inputs": {"parcels.gpkg": {"sha256": "ab" * 32, "kind": "vector"}},
    }
    write_inventory_postgis(
        pg.url, {"parcels": first, "clusters": extra}, schema=schema, run_info=info
    )
    second = make_grid9().iloc[[8, 0, 4]].reset_index(drop=True)
    second["parcel_id"] = ["q8", "q0", "q4"]
    result = write_inventory_postgis(
        pg.url,
        {"parcels": second},
        schema=schema,
        run_info={"run_id": "run-2", "input_checksums": {"parcels.gpkg": "cd" * 32}},
    )

    back = read_inventory_postgis(pg.url, "parcels", schema=schema)
    assert back["parcel_id"].tolist() == ["q8", "q0", "q4"]  # the order they were written in
    assert shapely.equals_exact(back.geometry.values, second.geometry.values, 1e-6).all()
    tables = {
        r[0]
        for r in _sql(
            pg,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
    }
    assert tables == {"parcels", "refresh_history", "inventory_layers"}  # 'clusters' dropped
    layers = read_inventory_postgis(pg.url, "inventory_layers", schema=schema)
    assert layers["layer"].tolist() == ["parcels"]
    assert layers["rows"].tolist() == [3]

    history = read_inventory_postgis(pg.url, "refresh_history", schema=schema)
    assert history["run_id"].tolist() == ["run-1", "run-2"]
    assert history["status"].tolist() == ["succeeded", "succeeded"]
    assert history["layer_rows"].tolist() == [{"parcels": 9, "clusters": 2}, {"parcels": 3}]
    assert history["counts"].tolist() == [{"parcels_in": 9}, None]
    assert history["input_checksums"].tolist() == [
        {"parcels.gpkg": "ab" * 32},
        {"parcels.gpkg": "cd" * 32},
    ]
    assert history["started_at"][0] == pd.Timestamp("2026-01-01T19:04:05Z")
    assert (history["finished_at"] >= history["started_at"]).all()
    assert history["finished_at"][1] == pd.Timestamp(result.finished_at)
    assert history["package_version"].tolist() == [tq.__version__] * 2
    assert history["error"].isna().all()


def test_failed_write_leaves_previous_inventory(pg: PgServer, schema: str) -> None:
    good = {"parcels": make_grid9(), "facilities": _facilities_with_nul().head(5)}
    write_inventory_postgis(pg.url, good, schema=schema, run_info={"run_id": "good"})

    replacement = make_grid9().head(2)
    replacement["parcel_id"] = ["new0", "new1"]
    bad = {"parcels": replacement, "facilities": _facilities_with_nul()}
    with pytest.raises(DataFileError, match=r"failed while loading layer 'facilities'.*intact"):
        write_inventory_postgis(pg.url, bad, schema=schema, run_info={"run_id": "bad"})

    # parcels of the failed run were loaded before facilities failed: they must not show
    back = read_inventory_postgis(pg.url, "parcels", schema=schema)
    assert back["parcel_id"].tolist() == make_grid9()["parcel_id"].tolist()
    facilities = read_inventory_postgis(pg.url, "facilities", schema=schema)
    assert facilities["name_zh"].tolist() == [
        "小学",
        "社区卫生服务中心",
        "农贸市场",
        "地铁站",
        "幼儿园",
    ]
    leftovers = _sql(
        pg,
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = %s AND table_name LIKE '\\_tq%%'",
        (schema,),
    )
    assert leftovers == []
    history = read_inventory_postgis(pg.url, "refresh_history", schema=schema)
    assert history["run_id"].tolist() == ["good", "bad"]
    assert history["status"].tolist() == ["succeeded", "failed"]
    assert "0x00" in history["error"][1]


def test_duplicate_key_fails_and_changes_nothing(pg: PgServer, schema: str) -> None:
    write_inventory_postgis(pg.url, {"parcels": make_grid9()}, schema=schema, run_info={})
    dup = make_grid9()
    dup.loc[8, "parcel_id"] = "p00"  # the last row repeats the first id
    with pytest.raises(DataFileError, match=r"parcels.*p00.*previous inventory is intact"):
        write_inventory_postgis(
            pg.url,
            {"parcels": dup},
            schema=schema,
            run_info={},
            primary_keys={"parcels": "parcel_id"},
        )
    back = read_inventory_postgis(pg.url, "parcels", schema=schema)
    assert back["parcel_id"].tolist() == make_grid9()["parcel_id"].tolist()


def test_other_crs_is_stored_in_4548(pg: PgServer, schema: str) -> None:
    lonlat = gpd.GeoDataFrame(
        {"facility_id": ["a"]}, geometry=[Point(117.0, 36.7)], crs="EPSG:4490"
    )
    write_inventory_postgis(pg.url, {"facilities": lonlat}, schema=schema, run_info={})
    xy = _sql(
        pg, f"SELECT ST_X(geometry), ST_Y(geometry), ST_SRID(geometry) FROM {schema}.facilities"
    )
    expected = lonlat.to_crs(4548).geometry.iloc[0]
    assert xy[0][2] == 4548
    assert xy[0][0] == pytest.approx(expected.x, abs=1e-6)
    assert xy[0][1] == pytest.approx(expected.y, abs=1e-6)


def test_concurrent_refreshes_wait_for_each_other(pg: PgServer, schema: str) -> None:
    write_inventory_postgis(pg.url, {"parcels": make_grid9()}, schema=schema, run_info={})
    done = threading.Event()
    with psycopg.connect(pg.url) as holder:  # plays a refresh that holds the schema's lock
        holder.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"tqspatial:{schema}",)
        )
        worker = threading.Thread(
            target=lambda: (
                write_inventory_postgis(
                    pg.url, {"parcels": make_grid9().head(1)}, schema=schema, run_info={}
                ),
                done.set(),
            )
        )
        worker.start()
        time.sleep(0.5)
        assert not done.is_set()  # still waiting for the lock
        assert len(read_inventory_postgis(pg.url, "parcels", schema=schema)) == 9
        holder.rollback()
    worker.join(timeout=20)
    assert done.is_set()
    assert len(read_inventory_postgis(pg.url, "parcels", schema=schema)) == 1


def test_bad_url_is_a_config_error_without_password() -> None:
    with pytest.raises(ConfigError, match="not a postgresql:// URL") as info:
        write_inventory_postgis("mysql://u:hunter2@db/x", {}, run_info={})
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError, match="cannot be parsed") as info:
        read_inventory_postgis("postgresql://u:hunter2@db/x?nosuchoption=1", "parcels")
    assert "hunter2" not in str(info.value)


def test_unreachable_server_and_missing_database(pg: PgServer) -> None:
    closed = free_port()  # nothing listens there
    url = f"postgresql://tqtest:hunter2@127.0.0.1:{closed}/tqtest"
    with pytest.raises(DataFileError, match="cannot connect to PostgreSQL at") as info:
        write_inventory_postgis(url, {"parcels": make_grid9()}, run_info={})
    assert "hunter2" not in str(info.value)
    assert f"postgresql://tqtest@127.0.0.1:{closed}/tqtest" in str(info.value)
    missing_db = pg.url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(DataFileError, match="no_such_db"):
        read_inventory_postgis(missing_db, "parcels")


def test_database_without_postgis(pg: PgServer) -> None:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS plain_pg")
        conn.execute("CREATE DATABASE plain_pg")
    url = pg.url.rsplit("/", 1)[0] + "/plain_pg"
    with pytest.raises(DataFileError, match=r"no PostGIS extension.*CREATE EXTENSION postgis"):
        write_inventory_postgis(url, {"parcels": make_grid9()}, run_info={})


def test_missing_layer_lists_the_tables(pg: PgServer, schema: str) -> None:
    write_inventory_postgis(pg.url, {"parcels": make_grid9()}, schema=schema, run_info={})
    with pytest.raises(DataFileError, match=r"no table 'roads'.*'parcels'"):
        read_inventory_postgis(pg.url, "roads", schema=schema)


def test_layer_names_are_checked_before_connecting() -> None:
    # nothing listens on this URL: the name check must come first
    url = "postgresql://u@127.0.0.1:9/x"
    with pytest.raises(ConfigError, match="'Parcels'"):
        write_inventory_postgis(url, {"Parcels": make_grid9()}, run_info={})
    with pytest.raises(ConfigError, match="reserved"):
        write_inventory_postgis(url, {"refresh_history": make_grid9()}, run_info={})


def test_missing_server_binaries_name_the_install_command(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        PgServerError,
        match=r"apt-get install -y .*apt-cache pkgnames postgresql- .*debian_packages\.py",
    ):
        find_bindir(tmp_path)


def test_column_types_round_trip(pg: PgServer, schema: str) -> None:
    frame = pd.DataFrame(
        {
            "row_id": [1, 2, 3],
            "flag": [True, False, True],
            "maybe_count": pd.array([1, None, 3], dtype="Int64"),
            "ratio": [0.1, np.nan, 1 / 3],
            "when": pd.to_datetime(["2026-01-01 08:00", "2026-06-30 23:59", None], utc=True),
            "kind": pd.Categorical(["学校", "医院", "学校"]),
            "note": ["a", None, "丙"],
        }
    )
    write_inventory_postgis(pg.url, {"mixed": frame}, schema=schema, run_info={})
    types = dict(
        _sql(
            pg,
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'mixed'",
            (schema,),
        )
    )
    assert types == {
        "row_id": "bigint",
        "flag": "boolean",
        "maybe_count": "bigint",
        "ratio": "double precision",
        "when": "timestamp with time zone",
        "kind": "text",
        "note": "text",
    }
    back = read_inventory_postgis(pg.url, "mixed", schema=schema)
    assert not isinstance(back, gpd.GeoDataFrame)
    assert back["row_id"].tolist() == [1, 2, 3]
    assert back["flag"].tolist() == [True, False, True]
    assert back["maybe_count"].dtype == "Int64"
    assert back["maybe_count"].isna().tolist() == [False, True, False]
    assert back["ratio"][2] == 1 / 3  # doubles survive exactly
    assert np.isnan(back["ratio"][1])
    pd.testing.assert_series_equal(back["when"], frame["when"], check_dtype=False)
    assert back["kind"].tolist() == ["学校", "医院", "学校"]
    assert back["note"].astype(object).where(back["note"].notna(), None).tolist() == [
        "a",
        None,
        "丙",
    ]


_KILL_SCRIPT = """
import sys
import geopandas as gpd, numpy as np
from tqspatial.postgis import write_inventory_postgis
n = 400_000
x = np.arange(n, dtype=float)
big = gpd.GeoDataFrame({"parcel_id": [f"k{i}" for i in range(n)]},
                       geometry=gpd.points_from_xy(500_000 + x % 1000, 4_060_000 + x // 1000),
                       crs="EPSG:4548")
write_inventory_postgis(sys.argv[1], {"parcels": big}, schema=sys.argv[2], run_info={})
"""


def test_killed_writer_leaves_previous_inventory(pg: PgServer, schema: str) -> None:
    write_inventory_postgis(pg.url, {"parcels": make_grid9()}, schema=schema, run_info={})
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, pg.url, schema])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until its COPY is running, then kill it
            busy = _sql(
                pg,
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'tqspatial' AND query LIKE 'COPY%%'",
            )
            if busy[0][0] or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the writer finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    back = read_inventory_postgis(pg.url, "parcels", schema=schema)
    assert back["parcel_id"].tolist() == make_grid9()["parcel_id"].tolist()
    # the server drops the dead session (and its lock): the next refresh goes through
    result = write_inventory_postgis(
        pg.url, {"parcels": make_grid9().head(2)}, schema=schema, run_info={}
    )
    assert result.rows == {"parcels": 2}
    history = read_inventory_postgis(pg.url, "refresh_history", schema=schema)
    assert history["status"].tolist() == ["succeeded", "succeeded"]


def test_column_problems_are_listed_together_before_connecting() -> None:
    url = "postgresql://u@127.0.0.1:9/x"  # nothing listens: the checks must come first
    frame = pd.DataFrame(
        {"parcel_id": ["a"], "wait": pd.to_timedelta([5], unit="min"), "长" * 22: [1.0]}
    )
    with pytest.raises(SchemaError, match=r"'wait' has dtype timedelta64.*longer than 63 bytes"):
        write_inventory_postgis(url, {"parcels": frame}, run_info={})
    with pytest.raises(SchemaError, match=r"primary key column\(s\) \['pid'\]"):
        write_inventory_postgis(
            url, {"parcels": make_grid9()}, run_info={}, primary_keys={"parcels": "pid"}
        )
    with pytest.raises(CRSError, match="no CRS"):
        write_inventory_postgis(
            url, {"parcels": make_grid9().set_crs(None, allow_override=True)}, run_info={}
        )


def test_refresh_to_postgis_end_to_end(pg: PgServer, tmp_path, fast_config) -> None:
    from tqspatial import cli

    url = f"{pg.url}"
    out = tmp_path / "out"
    args = ["-q", "refresh", "--config", str(fast_config), "--out", str(out)]
    assert cli.main([*args, "--to", url]) == cli.EXIT_OK
    files = gpd.read_parquet(out / "parcels.parquet")
    db = read_inventory_postgis(url, "parcels")
    assert db["parcel_id"].tolist() == files["parcel_id"].tolist()
    assert db.area.sum() == pytest.approx(files.area.sum(), rel=1e-12)
    history = read_inventory_postgis(url, "refresh_history")
    assert history["status"].tolist() == ["succeeded"]
    # a bad URL is bad input, refused before the run: exit 2, files and database untouched
    bad = url.rsplit("/", 1)[0] + "/no_such_db"
    assert cli.main([*args, "--to", bad]) == cli.EXIT_BAD_INPUT
    assert len(read_inventory_postgis(url, "refresh_history")) == 1


def test_preflight_refuses_tables_owned_by_someone_else(pg: PgServer, schema: str) -> None:
    from tqspatial.postgis import check_database

    write_inventory_postgis(pg.url, {"parcels": make_grid9()}, schema=schema, run_info={})
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS planner")
        conn.execute("CREATE ROLE planner LOGIN")
        conn.execute(f"GRANT CREATE, USAGE ON SCHEMA {schema} TO planner")
        conn.execute("GRANT CREATE ON DATABASE tqtest TO planner")
    planner = pg.url.replace("tqtest@", "planner@", 1)
    with pytest.raises(
        DataFileError, match=r"does not own the inventory tables \['inventory_layers'"
    ):
        check_database(planner, schema=schema)
    assert "PostGIS" in check_database(pg.url, schema=schema)
