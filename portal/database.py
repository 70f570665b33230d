"""Engine set-up: SQLite pragmas and write transactions that start with BEGIN IMMEDIATE."""
import time

from flask import has_request_context, request
from sqlalchemy import Date, DateTime, event
from sqlalchemy.engine import Engine

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
# How long a statement waits for a lock another connection holds before giving up (answered
# 503 with Retry-After); well inside gunicorn's 30-second worker timeout on both backends.
LOCK_WAIT_MS = 10000
# SQLite's planner statistics: ANALYZE reads at most this many rows of each index (the
# figures stay good enough for the planner and the pass takes milliseconds on any size)…
ANALYSIS_LIMIT = 1000
# … and each pooled connection runs PRAGMA optimize, which analyses the tables its own
# statements used whose size changed much since, at most once in this many seconds.
OPTIMIZE_EVERY_S = 3600


def configure_engine(engine: Engine) -> None:
    """Apply per-connection settings for the engine's dialect."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_on_connect)
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "checkin", _sqlite_on_checkin)


def _postgresql_on_connect(dbapi_connection, _record) -> None:
    """Bound lock waits as SQLite's busy_timeout does: without it a request waiting on a lock
    held elsewhere waits until gunicorn kills the worker, and the customer gets a 500."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(LOCK_WAIT_MS)}")
    dbapi_connection.commit()  # a session setting, kept for the connection's life


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        f"busy_timeout={int(LOCK_WAIT_MS)}",
        "foreign_keys=ON",
        f"analysis_limit={ANALYSIS_LIMIT}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_checkin(dbapi_connection, record) -> None:
    """Keep the planner's statistics in step with the tables' growth, now and then."""
    now = time.monotonic()
    if now - record.info.setdefault("optimized", now) < OPTIMIZE_EVERY_S:
        return
    record.info["optimized"] = now
    try:
        dbapi_connection.execute("PRAGMA optimize")
    except Exception:  # noqa: BLE001 - statistics can wait for the next time (a held lock)
        pass


def refresh_statistics(connection) -> None:
    """Gather SQLite's planner statistics afresh after a change of many rows (a migration, an
    import), from a bounded sample of each index. PostgreSQL's autovacuum does this itself
    once a tenth of a table has changed."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("ANALYZE")


def _sqlite_on_begin(conn) -> None:
    """Take the write lock up front for anything but a read-only request.

    A deferred transaction that reads and then writes cannot wait for the lock and fails
    with "database is locked" under concurrent writers; BEGIN IMMEDIATE waits instead.
    """
    if has_request_context() and request.method in READ_METHODS:
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_transient(exc: Exception) -> bool:
    """True for lock and serialization errors that a retry may cure."""
    text = str(getattr(exc, "orig", exc)).lower()
    return (
        "database is locked" in text
        or "could not serialize" in text
        or "lock timeout" in text  # PostgreSQL's lock_timeout (LockNotAvailable)
        or "deadlock detected" in text
    )


def read(statement, **params):
    """Run a read-only Core ``statement`` on the session's connection with ``params``.

    Hot pages build their statements once, at import, from table columns and bind
    parameters: SQLAlchemy then neither builds nor keys them again on each call, and the rows
    come back as plain named tuples, without the ORM's work per statement and per row.
    """
    from .extensions import db

    return db.session.connection().execute(statement, params)


def dialect_insert(model, dialect: str | None = None):
    """An INSERT for ``model`` that supports ``on_conflict_do_update`` on SQLite and PostgreSQL
    (``dialect``: the name of one, else the session's)."""
    from .extensions import db

    if (dialect or db.engine.dialect.name) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _sqlite_converter(column_type):
    """How SQLAlchemy's SQLite types store a value of ``column_type`` (dates and times as ISO
    text), or None when the driver takes the value as it is."""
    if isinstance(column_type, DateTime):
        return lambda value: value if value is None else value.isoformat(" ", "microseconds")
    if isinstance(column_type, Date):
        return lambda value: value if value is None else value.isoformat()
    return None


def bulk_insert(table, rows: list, columns: tuple[str, ...] | None = None) -> None:
    """Insert many rows of ``table`` in the current transaction, fast on every backend.

    ``rows`` are dicts, or tuples in the order of ``columns``. On SQLite they go straight to
    the driver's executemany, with only the date and time columns converted the way
    SQLAlchemy's types store them; on PostgreSQL through COPY, which takes the values as they
    are. Either way a column left out gets no Python-side default: name every column that has
    one.
    """
    from .extensions import db

    if not rows:
        return
    if columns is None:
        columns = tuple(rows[0])
        rows = [tuple(row[key] for key in columns) for row in rows]
    if db.engine.dialect.name == "postgresql":
        _copy(db.session.connection(), table, columns, rows)
        return
    compiled = table.insert().compile(dialect=db.engine.dialect, column_keys=list(columns))
    order = [columns.index(key) for key in compiled.positiontup]  # every column with a default too
    converters = [(place, _sqlite_converter(table.c[columns[source]].type))
                  for place, source in enumerate(order)]
    converters = [(place, convert) for place, convert in converters if convert is not None]
    if order != list(range(len(columns))):
        rows = [tuple(row[i] for i in order) for row in rows]
    if converters:
        rows = [_converted(row, converters) for row in rows]
    db.session.connection().exec_driver_sql(str(compiled), rows)


def _copy(connection, table, columns: tuple[str, ...], rows: list) -> None:
    """COPY ``rows`` into ``table`` on the connection's own psycopg connection (and so in its
    transaction)."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def _converted(row: tuple, converters) -> tuple:
    values = list(row)
    for place, convert in converters:
        values[place] = convert(values[place])
    return tuple(values)
