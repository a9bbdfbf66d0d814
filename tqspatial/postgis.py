"""The land inventory in PostgreSQL + PostGIS: one transaction per refresh, and read-back.

:func:`write_inventory_postgis` replaces the inventory in a database schema (default
``tqspatial``) with the layers of one refresh, all or nothing:

- every layer is first loaded (``COPY``) into a staging table, keyed, indexed and analysed;
  then, still inside the same transaction, the previous inventory tables are dropped and the
  staging tables renamed. Readers see the old inventory until the commit and the new one
  after it; a failure at any point rolls everything back and leaves the previous inventory
  exactly as it was. Two refreshes of the same schema wait for each other (advisory lock).
- geometry columns are ``geometry(<type>, <srid>)`` in the working CRS (EPSG:4548 unless
  :mod:`tqspatial.settings` says otherwise) with a GiST
  index; a layer gets a primary key on its id column(s) when those are unique and non-null.
- ``<schema>.inventory_layers`` lists the current layers; ``<schema>.refresh_history`` gets
  one row per attempt (run id, start and finish times, status, rows per layer, input
  checksums, package version, the run information given, and the error of a failed run).
- inventory tables are replaced, not updated: views or foreign keys that other people build
  on them make the refresh fail (cleanly, nothing changed); build those on copies instead.

Only ``psycopg`` (version 3) is needed: geometries travel as EWKB through shapely, so neither
SQLAlchemy nor GeoAlchemy2 is involved. Messages never contain the password of the URL.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyproj
import shapely
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tqspatial.errors import ConfigError, CRSError, DataFileError, SchemaError
from tqspatial.settings import get_settings

__all__ = [
    "HISTORY_TABLE",
    "LAYERS_TABLE",
    "PostGISWrite",
    "check_database",
    "read_inventory_postgis",
    "safe_url",
    "working_srid",
    "write_inventory_postgis",
]

logger = logging.getLogger(__name__)


def working_srid() -> int:
    """Return the SRID of every geometry column written: the working CRS's EPSG code.

    Returns
    -------
    int
        EPSG code of ``get_settings().working_crs`` (4548 by default).

    Raises
    ------
    CRSError
        If the working CRS has no EPSG code (PostGIS needs one).

    Examples
    --------
    >>> from tqspatial.settings import override
    >>> with override(working_crs="EPSG:4527"):
    ...     working_srid()
    4527
    """
    working = get_settings().working_crs
    code = pyproj.CRS.from_user_input(working).to_epsg()
    if code is None:
        msg = f"the working CRS {working!r} has no EPSG code, which PostGIS needs; use an EPSG CRS"
        raise CRSError(msg)
    return int(code)


#: Table (in the inventory schema) with one row per refresh attempt.
HISTORY_TABLE = "refresh_history"
#: Table (in the inventory schema) listing the layers of the current inventory.
LAYERS_TABLE = "inventory_layers"
#: Seconds to wait for the server before giving up (unless the URL sets ``connect_timeout``).
CONNECT_TIMEOUT_S = 10
#: Longest identifier PostgreSQL keeps (bytes); longer names would be silently truncated.
MAX_IDENTIFIER_BYTES = 63
#: Layer and schema names: lower-case SQL identifiers that never need quoting.
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
_RESERVED = frozenset({HISTORY_TABLE, LAYERS_TABLE})
_STAGE = "_tq_new_"
_URL_SCHEMES = ("postgresql", "postgres")


@dataclasses.dataclass(frozen=True)
class PostGISWrite:
    """What :func:`write_inventory_postgis` committed.

    Attributes
    ----------
    run_id : str
        Identifier of the run, as stored in the refresh-history table.
    target : str
        The database URL without its password.
    schema : str
        Schema holding the inventory.
    rows : dict of str to int
        Rows written per layer (table name).
    started_at, finished_at : datetime.datetime
        Start of the run (from ``run_info`` or the call) and commit time, in UTC.
    """

    run_id: str
    target: str
    schema: str
    rows: dict[str, int]
    started_at: datetime
    finished_at: datetime


@dataclasses.dataclass(frozen=True)
class _Column:
    name: str
    pg_type: str  # geometry types lack the PostGIS schema, added when the table is created
    geometry: bool


@dataclasses.dataclass(frozen=True)
class _Layer:
    name: str
    columns: tuple[_Column, ...]
    cells: tuple[list[Any], ...]  # one Python list per column, None for missing
    primary_key: tuple[str, ...]
    rows: int


# --------------------------------------------------------------------------- URLs and connections


def safe_url(url: str) -> str:
    """Return a PostgreSQL URL with the password removed, for messages and logs.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (``postgres://`` and
        ``postgresql+driver://`` are accepted too).

    Returns
    -------
    str
        The same URL without the password (and without query parameters).

    Examples
    --------
    >>> safe_url("postgresql://planner:s3cret@db.example:5433/gis?sslmode=require")
    'postgresql://planner@db.example:5433/gis'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    user = f"{parts.username}@" if parts.username else ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _conninfo(url: str) -> tuple[str, str | None]:
    """Libpq connection string for ``url`` and its password (to scrub from messages)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    base = scheme.split("+", 1)[0].lower()
    if base not in _URL_SCHEMES:
        msg = (
            f"PostgreSQL target {safe_url(url)!r} is not a postgresql:// URL (scheme "
            f"{scheme!r}). Expected postgresql://user:password@host:port/database."
        )
        raise ConfigError(msg)
    plain = "postgresql" + url[len(scheme) :]
    try:
        params = conninfo_to_dict(plain)
    except psycopg.ProgrammingError as exc:
        reason = _scrub(str(exc), _url_password(plain))
        msg = (
            f"PostgreSQL target {safe_url(url)!r} cannot be parsed: {reason} Expected "
            "postgresql://user:password@host:port/database with valid libpq options."
        )
        raise ConfigError(msg) from None
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    params.setdefault("application_name", "tqspatial")
    password = params.get("password")
    return make_conninfo("", **params), (str(password) if password else None)


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _scrub(text: str, password: str | None) -> str:
    """One sentence of server text on one line, without the password."""
    text = " ".join(text.split())
    if not text.endswith((".", "?", "!")):
        text += "."
    return text.replace(password, "***") if password else text


def _connect(url: str) -> tuple[psycopg.Connection[Any], str | None]:
    conninfo, password = _conninfo(url)
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        msg = (
            f"cannot connect to PostgreSQL at {safe_url(url)}: {_scrub(str(exc), password)} "
            "Check that the server is running and that host, port, database, user and "
            "password in the URL are right."
        )
        raise DataFileError(msg) from None
    return conn, password


def _postgis_schema(conn: psycopg.Connection[Any], url: str) -> str:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'postgis'"
    ).fetchone()
    if row is None:
        msg = (
            f"the database at {safe_url(url)} has no PostGIS extension. Run "
            "'CREATE EXTENSION postgis;' in it as its owner (the server needs the PostGIS "
            "package, e.g. Debian postgresql-15-postgis-3)."
        )
        raise DataFileError(msg)
    return str(row[0])


def check_database(url: str, *, schema: str = "tqspatial") -> str:
    """Check, before a refresh starts, that the inventory can be written to ``url``.

    Connects (with the usual timeout), checks the PostGIS extension and that the user may
    create the schema (CREATE on the database) or, when it exists, create tables in it.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database``.
    schema : str, default "tqspatial"
        The schema the inventory goes to.

    Returns
    -------
    str
        A one-line description (server version, PostGIS version, schema), for the log.

    Raises
    ------
    ConfigError
        If the URL is not a PostgreSQL URL.
    DataFileError
        If the server cannot be reached, PostGIS is missing or the user lacks the privilege;
        the message says which and what to do.

    Examples
    --------
    >>> check_database("mysql://planner@db/gis")
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: PostgreSQL target 'mysql://planner@db/gis' is not a postgresql:// URL (scheme 'mysql'). Expected postgresql://user:password@host:port/database.
    """  # noqa: E501
    _check_name(schema, "schema")
    conn, _ = _connect(url)
    with conn:
        _postgis_schema(conn, url)
        row = conn.execute(
            "SELECT current_user, current_setting('server_version'),"
            " (SELECT extversion FROM pg_extension WHERE extname = 'postgis'),"
            " EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s),"
            " has_database_privilege(current_database(), 'CREATE'),"
            " CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)"
            "  THEN has_schema_privilege(%s, 'CREATE') ELSE false END",
            (schema, schema, schema),
        ).fetchone()
        foreign = [
            str(r[0])
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s"
                " AND NOT pg_has_role(current_user, tableowner, 'USAGE') ORDER BY 1",
                (schema,),
            )
        ]
    if row is None:  # pragma: no cover - a SELECT without FROM returns one row
        msg = f"PostgreSQL at {safe_url(url)} returned nothing for the privilege check"
        raise DataFileError(msg)
    user, version, postgis, exists, db_create, schema_create = row
    if foreign:
        msg = (
            f"PostgreSQL user {user!r} at {safe_url(url)} does not own the inventory tables "
            f"{foreign} in schema {schema}, so it cannot replace them; run the refresh as their "
            f"owner, or have them re-owned (ALTER TABLE {schema}.<table> OWNER TO {user})"
        )
        raise DataFileError(msg)
    if not (schema_create if exists else db_create):
        where = f"schema {schema}" if exists else f"the database (to create schema {schema})"
        msg = (
            f"PostgreSQL user {user!r} at {safe_url(url)} may not create tables in {where}; "
            f"grant it (GRANT CREATE ON {'SCHEMA ' + schema if exists else 'DATABASE ...'} "
            f"TO {user}) or use another --to"
        )
        raise DataFileError(msg)
    return f"PostgreSQL {version} with PostGIS {postgis} at {safe_url(url)}, schema {schema}"


# --------------------------------------------------------------------------- preparing frames


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        msg = (
            f"{what} name {name!r} is not usable as a table/schema name: expected lower-case "
            "letters, digits and '_', starting with a letter or '_', at most 40 characters."
        )
        raise ConfigError(msg)


def _geometry_type(series: gpd.GeoSeries, layer: str) -> str:
    present = series[series.notna() & ~series.is_empty]
    kinds = {("LineString" if k == "LinearRing" else str(k)) for k in present.geom_type}
    dims = set(shapely.has_z(present.to_numpy()).tolist())
    if len(dims) > 1:
        msg = (
            f"layer {layer!r}, column {series.name!r} mixes 2D and 3D geometries; PostGIS needs "
            "one dimension per column. Drop or add Z values (shapely.force_2d / force_3d)."
        )
        raise SchemaError(msg)
    base = kinds.pop() if len(kinds) == 1 else "Geometry"
    return f"{base}Z" if dims == {True} else base


#: Non-geometry dtypes and their PostgreSQL types, checked in this order.
_PLAIN_TYPES: tuple[tuple[Callable[[pd.Series], bool], str], ...] = (
    (pd.api.types.is_bool_dtype, "boolean"),
    (pd.api.types.is_integer_dtype, "bigint"),
    (pd.api.types.is_float_dtype, "double precision"),
    (lambda s: isinstance(s.dtype, pd.DatetimeTZDtype), "timestamptz"),
    (pd.api.types.is_datetime64_dtype, "timestamp"),
    (lambda s: isinstance(s.dtype, pd.CategoricalDtype), "text"),
    (lambda s: pd.api.types.is_string_dtype(s.dtype), "text"),  # the dtype: objects included
)


def _plain_type(series: pd.Series) -> str | None:
    """PostgreSQL type for a non-geometry column, or None when there is no mapping."""
    return next((pg for test, pg in _PLAIN_TYPES if test(series)), None)


def _column_values(series: pd.Series, pg_type: str) -> list[Any]:
    missing = series.isna().tolist()
    objects = series.astype(object).tolist()
    if pg_type != "text":
        return [None if gone else v for v, gone in zip(objects, missing, strict=True)]
    odd = {type(v).__name__ for v, gone in zip(objects, missing, strict=True)} - {"str"}
    if odd - {"NoneType", "float", "NAType"}:  # object columns: anything else becomes its text
        logger.warning("column %s: %s values written as their text", series.name, sorted(odd))
    return [None if gone else str(v) for v, gone in zip(objects, missing, strict=True)]


def _geometry_values(series: gpd.GeoSeries, srid: int) -> list[Any]:
    arr = shapely.set_srid(series.to_numpy(), srid)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def _default_key(frame: pd.DataFrame) -> tuple[str, ...]:
    """First unique non-null ``id`` / ``*_id`` column, else all of them together if unique."""
    ids = [
        c
        for c in frame.columns
        if (c == "id" or str(c).endswith("_id"))
        and not isinstance(frame[c].dtype, gpd.array.GeometryDtype)
    ]
    for column in ids:
        values = frame[column]
        if values.notna().all() and values.is_unique:
            return (str(column),)
    if len(ids) > 1:
        both = frame[ids]
        if both.notna().all().all() and not both.duplicated().any():
            return tuple(str(c) for c in ids)
    return ()


def _convert(layer: str, column: str, series: pd.Series) -> tuple[_Column, list[Any]] | str:
    """Column definition and cell values, or the problem (text) preventing them."""
    if isinstance(series.dtype, gpd.array.GeometryDtype):
        geo = gpd.GeoSeries(series)
        srid = working_srid()
        if geo.crs is None:
            msg = f"layer {layer!r}, column {column!r} has no CRS; set EPSG:{srid} first."
            raise CRSError(msg)
        if geo.crs.to_epsg() != srid:
            logger.info("layer %s: %s reprojected to EPSG:%d", layer, column, srid)
            geo = geo.to_crs(srid)
        kind = _geometry_type(geo, layer)
        column_type = f"geometry({kind}, {srid})"
        return _Column(column, column_type, geometry=True), _geometry_values(geo, srid)
    plain = _plain_type(series)
    if plain is None:
        return f"{column!r} has dtype {series.dtype}, which has no PostgreSQL type"
    return _Column(column, plain, geometry=False), _column_values(series, plain)


def _prepare(
    name: str,
    frame: pd.DataFrame,
    key: str | Sequence[str] | None,
) -> _Layer:
    _check_name(name, "layer")
    if name in _RESERVED:
        msg = f"layer name {name!r} is reserved for tqspatial's bookkeeping; rename the layer."
        raise ConfigError(msg)
    if frame.index.name is not None or isinstance(frame.index, pd.MultiIndex):
        frame = frame.reset_index()  # a named index (e.g. element_id) is data
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None:
        msg = (
            f"layer {name!r} has no CRS; set it (EPSG:{working_srid()}) before writing to PostGIS."
        )
        raise CRSError(msg)
    columns: list[_Column] = []
    values: list[list[Any]] = []
    problems: list[str] = []
    for label in frame.columns:
        column = str(label)
        if len(column.encode()) > MAX_IDENTIFIER_BYTES:
            problems.append(f"name {column!r} is longer than {MAX_IDENTIFIER_BYTES} bytes")
        elif column in {c.name for c in columns}:
            problems.append(f"name {column!r} appears twice")
        else:
            converted = _convert(name, column, frame[label])
            if isinstance(converted, str):
                problems.append(converted)
            else:
                columns.append(converted[0])
                values.append(converted[1])
    if problems:
        msg = (
            f"layer {name!r} cannot be stored in PostgreSQL: {'; '.join(problems)}. Rename the "
            "columns (at most 63 bytes, unique) and convert them to text, number, bool or "
            "datetime."
        )
        raise SchemaError(msg)
    return _Layer(name, tuple(columns), tuple(values), _primary_key(name, frame, key), len(frame))


def _primary_key(
    name: str, frame: pd.DataFrame, key: str | Sequence[str] | None
) -> tuple[str, ...]:
    if key is None:
        return _default_key(frame)
    primary_key = (key,) if isinstance(key, str) else tuple(key)
    have = [str(c) for c in frame.columns]
    missing = [c for c in primary_key if c not in have]
    if missing:
        msg = f"layer {name!r}: primary key column(s) {missing} not among its columns {have}."
        raise SchemaError(msg)
    return primary_key


# --------------------------------------------------------------------------- run information


def _as_utc(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        msg = f"run_info['started_at'] must be a datetime or ISO string, got {value!r}."
        raise ConfigError(msg)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _package_version() -> str | None:
    try:
        return importlib.metadata.version("tqspatial")
    except importlib.metadata.PackageNotFoundError:
        return None


def _checksums(run_info: Mapping[str, Any]) -> dict[str, str] | None:
    """``input_checksums``, or the sha256 of each entry of a manifest-style ``inputs``."""
    if "input_checksums" in run_info:
        return {str(k): str(v) for k, v in dict(run_info["input_checksums"]).items()}
    inputs = run_info.get("inputs")
    if isinstance(inputs, Mapping):
        return {
            str(k): str(v["sha256"])
            for k, v in inputs.items()
            if isinstance(v, Mapping) and "sha256" in v
        }
    return None


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# --------------------------------------------------------------------------- SQL


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _ensure_bookkeeping(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(schema)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " run_id text NOT NULL,"
            " status text NOT NULL CHECK (status IN ('succeeded', 'failed')),"
            " started_at timestamptz NOT NULL,"
            " finished_at timestamptz NOT NULL,"
            " package_version text,"
            " layer_rows jsonb NOT NULL,"
            " counts jsonb,"
            " input_checksums jsonb,"
            " run_info jsonb NOT NULL,"
            " error text)"
        ).format(_ident(schema, HISTORY_TABLE))
    )
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " layer text PRIMARY KEY, rows bigint NOT NULL, geometry_columns text[] NOT NULL,"
            " primary_key text[] NOT NULL, run_id text NOT NULL)"
        ).format(_ident(schema, LAYERS_TABLE))
    )


def _load_stage(
    conn: psycopg.Connection[Any], schema: str, postgis: str, layer: _Layer, tag: str
) -> None:
    stage = _STAGE + layer.name
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, stage)))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}.{}").format(_ident(c.name), _ident(postgis), sql.SQL(c.pg_type))
        if c.geometry
        else sql.SQL("{} {}").format(_ident(c.name), sql.SQL(c.pg_type))
        for c in layer.columns
    )
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(schema, stage), columns))
    names = sql.SQL(", ").join(_ident(c.name) for c in layer.columns)
    with (
        conn.cursor() as cur,
        cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(_ident(schema, stage), names)) as copy,
    ):
        for row in zip(*layer.cells, strict=True):
            copy.write_row(row)
    if layer.primary_key:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                _ident(schema, stage),
                _ident(f"_tq_{tag}_{layer.name}_pk"[:MAX_IDENTIFIER_BYTES]),
                sql.SQL(", ").join(_ident(c) for c in layer.primary_key),
            )
        )
    for i, column in enumerate(c for c in layer.columns if c.geometry):
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING GIST ({})").format(
                _ident(f"_tq_{tag}_{layer.name}_g{i}"[:MAX_IDENTIFIER_BYTES]),
                _ident(schema, stage),
                _ident(column.name),
            )
        )
    conn.execute(sql.SQL("ANALYZE {}").format(_ident(schema, stage)))


def _publish(conn: psycopg.Connection[Any], schema: str, layer: _Layer, tag: str) -> None:
    """Rename a loaded staging table, its key and its indexes to their final names."""
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            _ident(schema, _STAGE + layer.name), _ident(layer.name)
        )
    )
    if layer.primary_key:
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                _ident(schema, layer.name),
                _ident(f"_tq_{tag}_{layer.name}_pk"[:MAX_IDENTIFIER_BYTES]),
                _ident(f"{layer.name}_pkey"),
            )
        )
    for i, column in enumerate(c for c in layer.columns if c.geometry):
        final = f"{layer.name}_{column.name}_gist"
        if len(final.encode()) > MAX_IDENTIFIER_BYTES:
            final = f"{layer.name}_geom{i}_gist"
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                _ident(schema, f"_tq_{tag}_{layer.name}_g{i}"[:MAX_IDENTIFIER_BYTES]),
                _ident(final),
            )
        )


def _record(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    run_id: str,
    status: str,
    started_at: datetime,
    rows: Mapping[str, int],
    run_info: Mapping[str, Any],
    error: str | None,
) -> datetime:
    finished_at = datetime.now(UTC)
    counts = run_info.get("counts")
    checksums = _checksums(run_info)
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (run_id, status, started_at, finished_at, package_version,"
            " layer_rows, counts, input_checksums, run_info, error)"
            " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s::jsonb, %s)"
        ).format(_ident(schema, HISTORY_TABLE)),
        (
            run_id,
            status,
            started_at,
            finished_at,
            run_info.get("package_version") or _package_version(),
            _json(dict(rows)),
            None if counts is None else _json(counts),
            None if checksums is None else _json(checksums),
            _json(dict(run_info)),
            error,
        ),
    )
    return finished_at


# --------------------------------------------------------------------------- public API


def write_inventory_postgis(
    url: str,
    layers: Mapping[str, pd.DataFrame | gpd.GeoDataFrame],
    *,
    schema: str = "tqspatial",
    run_info: Mapping[str, Any],
    primary_keys: Mapping[str, str | Sequence[str]] | None = None,
) -> PostGISWrite:
    """Replace the inventory in a PostGIS database with ``layers``, in one transaction.

    Each layer becomes the table ``<schema>.<name>``: geometry columns as
    ``geometry(<type>, 4548)`` with a GiST index (a layer in another CRS is reprojected to
    EPSG:4548; mixed Polygon/MultiPolygon layers get the generic ``Geometry`` type so no
    geometry is altered), a named index (e.g. ``element_id``) as a column, and a primary key.
    Tables of the previous inventory that are not in ``layers`` are dropped, so the schema
    holds exactly this run's layers. Nothing is visible to other sessions before the commit,
    and a failure leaves the previous inventory untouched; the failed attempt is then
    recorded in the refresh history (status ``failed``) when the database still accepts it.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (``postgres://`` and
        ``postgresql+psycopg://`` work too; libpq query options such as ``sslmode`` pass
        through). The database needs the ``postgis`` extension; the user needs CREATE on it
        (to create the schema) or ownership of an existing schema.
    layers : mapping of str to DataFrame or GeoDataFrame
        Table name (lower-case identifier, at most 40 characters; ``refresh_history`` and
        ``inventory_layers`` are reserved) to frame. Plain DataFrames become attribute tables.
        Columns: bool, integer, float, datetime and text (NaN/None become NULL).
    schema : str, default "tqspatial"
        Schema holding the inventory and its bookkeeping tables.
    run_info : mapping
        What the refresh knows about itself, stored as JSON in ``refresh_history.run_info``
        (values that are not JSON become text). Recognised keys: ``run_id`` (default: a new
        UUID), ``started_at`` (datetime or ISO string; default: now), ``package_version``
        (default: the installed tqspatial), ``counts`` (e.g. rows in/out by stage) and
        ``input_checksums`` (name to SHA-256; a manifest-style ``inputs`` mapping of name to
        ``{"sha256": ...}`` works too). Passing the refresh manifest is fine.
    primary_keys : mapping of str to str or sequence of str, optional
        Primary-key column(s) per layer. By default the first ``id`` / ``*_id`` column whose
        values are unique and non-null, else all ``*_id`` columns together when unique, else
        none. An explicit key that is not unique makes the write fail (and change nothing).

    Returns
    -------
    PostGISWrite
        Run id, target without password, schema, rows per table and the run's times.

    Raises
    ------
    ConfigError
        Bad URL, or a layer/schema name that is not a plain identifier.
    SchemaError
        A column that cannot be stored (unsupported dtype, name too long, mixed 2D/3D).
    CRSError
        A geometry column without a CRS.
    DataFileError
        Server unreachable or login refused, PostGIS missing, or the write failed (the
        message says that the previous inventory is unchanged).

    Examples
    --------
    >>> write_inventory_postgis("mysql://planner:s3cret@db/gis", {}, run_info={})
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: PostgreSQL target 'mysql://planner@db/gis' is not a postgresql:// URL (scheme 'mysql'). Expected postgresql://user:password@host:port/database.
    """  # noqa: E501
    _check_name(schema, "schema")
    run_id = str(run_info.get("run_id") or uuid.uuid4().hex)
    started_at = _as_utc(run_info.get("started_at") or datetime.now(UTC))
    keys = dict(primary_keys or {})
    prepared = [_prepare(name, frame, keys.get(name)) for name, frame in layers.items()]
    rows = {layer.name: layer.rows for layer in prepared}
    tag = uuid.uuid4().hex[:8]
    conn, password = _connect(url)
    with conn:
        postgis = _postgis_schema(conn, url)
        current = ""
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"tqspatial:{schema}",),
                )
                _ensure_bookkeeping(conn, schema)
                for layer in prepared:
                    current = layer.name
                    _load_stage(conn, schema, postgis, layer, tag)
                current = ""
                previous = [
                    str(r[0])
                    for r in conn.execute(
                        sql.SQL("SELECT layer FROM {}").format(_ident(schema, LAYERS_TABLE))
                    )
                ]
                for name in sorted(set(previous) | set(rows)):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, name)))
                for layer in prepared:
                    _publish(conn, schema, layer, tag)
                _register_layers(conn, schema, prepared, run_id)
                finished_at = _record(
                    conn,
                    schema,
                    run_id=run_id,
                    status="succeeded",
                    started_at=started_at,
                    rows=rows,
                    run_info=run_info,
                    error=None,
                )
        except psycopg.Error as exc:
            where = f" while loading layer {current!r}" if current else ""
            reason = _scrub(str(exc), password)
            _record_failure(
                conn,
                schema,
                run_id=run_id,
                started_at=started_at,
                rows=rows,
                run_info=run_info,
                reason=reason,
            )
            msg = (
                f"writing the inventory to {safe_url(url)} (schema {schema!r}) failed{where}: "
                f"{reason} Nothing was changed: the previous inventory is intact."
            )
            raise DataFileError(msg) from None
    logger.info(
        "PostGIS: wrote %d layers (%s rows) to %s schema %s, run %s",
        len(rows),
        sum(rows.values()),
        safe_url(url),
        schema,
        run_id,
    )
    return PostGISWrite(run_id, safe_url(url), schema, rows, started_at, finished_at)


def _register_layers(
    conn: psycopg.Connection[Any], schema: str, prepared: Iterable[_Layer], run_id: str
) -> None:
    conn.execute(sql.SQL("DELETE FROM {}").format(_ident(schema, LAYERS_TABLE)))
    for layer in prepared:
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(
                _ident(schema, LAYERS_TABLE)
            ),
            (
                layer.name,
                layer.rows,
                [c.name for c in layer.columns if c.geometry],
                list(layer.primary_key),
                run_id,
            ),
        )


def _record_failure(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    run_id: str,
    started_at: datetime,
    rows: Mapping[str, int],
    run_info: Mapping[str, Any],
    reason: str,
) -> None:
    try:
        with conn.transaction():
            _ensure_bookkeeping(conn, schema)
            _record(
                conn,
                schema,
                run_id=run_id,
                status="failed",
                started_at=started_at,
                rows=rows,
                run_info=run_info,
                error=reason,
            )
    except psycopg.Error as exc:  # the database refuses even that: say so, keep the real error
        logger.warning("PostGIS: could not record the failed run %s: %s", run_id, exc)


def read_inventory_postgis(
    url: str, layer: str, *, schema: str = "tqspatial"
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read one table of the PostGIS inventory back into a (Geo)DataFrame.

    Parameters
    ----------
    url : str
        Database URL, as for :func:`write_inventory_postgis`.
    layer : str
        Table name: a layer, or ``refresh_history`` / ``inventory_layers``.
    schema : str, default "tqspatial"
        Schema holding the inventory.

    Returns
    -------
    DataFrame or GeoDataFrame
        Rows in stored order (for tables written by :func:`write_inventory_postgis`, the
        order they were written in). A table with geometry gives a GeoDataFrame in the
        column's SRID (the column named ``geometry`` is the active one, else the first).
        ``bigint`` / ``boolean`` columns with NULLs become ``Int64`` / ``boolean``; text
        becomes the pandas string dtype; ``jsonb`` gives Python objects.

    Raises
    ------
    ConfigError
        Bad URL or names.
    DataFileError
        Server unreachable, or no such table (the message lists the layers there are).

    Examples
    --------
    >>> read_inventory_postgis("http://planner:s3cret@db/gis", "parcels")
    Traceback (most recent call last):
    ...
    tqspatial.errors.ConfigError: PostgreSQL target 'http://planner@db/gis' is not a postgresql:// URL (scheme 'http'). Expected postgresql://user:password@host:port/database.
    """  # noqa: E501
    _check_name(schema, "schema")
    _check_name(layer, "layer")
    conn, _ = _connect(url)
    with conn:
        columns = conn.execute(
            "SELECT column_name, data_type, udt_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, layer),
        ).fetchall()
        if not columns:
            msg = (
                f"no table {layer!r} in schema {schema!r} at {safe_url(url)}; tables there: "
                f"{_tables(conn, schema)}. Write the inventory first or check the names."
            )
            raise DataFileError(msg)
        postgis = _postgis_schema(conn, url) if any(c[2] == "geometry" for c in columns) else ""
        select = sql.SQL(", ").join(
            sql.SQL("{}.st_asewkb({})").format(_ident(postgis), _ident(name))
            if udt == "geometry"
            else _ident(name)
            for name, _, udt in columns
        )
        records = conn.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY ctid").format(select, _ident(schema, layer))
        ).fetchall()
    data = {
        name: (
            _geometry_series(name, [r[i] for r in records])
            if udt == "geometry"
            else _to_series(name, [r[i] for r in records], data_type)
        )
        for i, (name, data_type, udt) in enumerate(columns)
    }
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(records)))
    geometry = [name for name, _, udt in columns if udt == "geometry"]
    if not geometry:
        return frame
    active = "geometry" if "geometry" in geometry else geometry[0]
    return gpd.GeoDataFrame(frame, geometry=active)  # CRS from the column (its SRID)


def _tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name NOT LIKE %s ORDER BY 1",
            (schema, _STAGE + "%"),
        )
    ]


def _geometry_series(name: str, values: list[Any]) -> gpd.GeoSeries:
    """GeoSeries from EWKB values; the CRS is the SRID when all geometries share one."""
    geoms = shapely.from_wkb(np.array(values, dtype=object))
    srids = {int(s) for s in shapely.get_srid(geoms[pd.notna(geoms)])}
    crs = f"EPSG:{srids.pop()}" if len(srids) == 1 and 0 not in srids else None
    return gpd.GeoSeries(geoms, crs=crs, name=name)


def _to_series(name: str, values: list[Any], data_type: str) -> pd.Series:
    has_null = any(v is None for v in values)
    if data_type in {"bigint", "integer", "smallint"}:
        return pd.Series(values, name=name, dtype="Int64" if has_null else "int64")
    if data_type == "boolean":
        return pd.Series(values, name=name, dtype="boolean" if has_null else "bool")
    if data_type in {"double precision", "real", "numeric"}:
        return pd.Series([np.nan if v is None else float(v) for v in values], name=name)
    if data_type in {"text", "character varying", "character"}:
        return pd.Series(values, name=name, dtype="str")
    if data_type.startswith("timestamp"):
        return pd.Series(pd.to_datetime(values), name=name)
    return pd.Series(values, name=name, dtype=object)
