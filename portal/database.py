"""Engine set-up: SQLite pragmas and write transactions that start with BEGIN IMMEDIATE."""
from datetime import date, datetime

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def configure_engine(engine: Engine) -> None:
    """Apply per-connection settings for the engine's dialect."""
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "busy_timeout=10000",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


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
        or "deadlock detected" in text
    )


def dialect_insert(model):
    """An INSERT for ``model`` that supports ``on_conflict_do_update`` on SQLite and PostgreSQL."""
    from .extensions import db

    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _sqlite_value(value):
    """A value as SQLAlchemy's SQLite types store it (dates and times as ISO text)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert many rows of ``table`` in the current transaction, fast on every backend.

    On SQLite the rows go straight to the driver's executemany, with values already in the
    form SQLAlchemy's types would store; elsewhere SQLAlchemy batches them itself.
    """
    from .extensions import db

    if not rows:
        return
    if db.engine.dialect.name != "sqlite":
        db.session.execute(table.insert(), rows)
        return
    compiled = table.insert().compile(dialect=db.engine.dialect, column_keys=list(rows[0]))
    order = compiled.positiontup  # the rows must give every column that has a default too
    db.session.connection().exec_driver_sql(
        str(compiled), [tuple(_sqlite_value(row[key]) for key in order) for row in rows])
