"""Optimistic concurrency: guarded rows carry a version column (SQLAlchemy's version_id_col),
pages send the version they showed, and a change made on an older page is refused with 409."""
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict
from .extensions import db


def check_version(row, version: int | None, stale) -> None:
    """Refuse an action taken on a page older than ``row``'s last change."""
    if version is not None and version != row.version:
        raise Conflict(stale)


@contextmanager
def guarded(stale, *also: type[Exception]):
    """Turn a concurrent change of the same row (caught at flush or commit) into a conflict,
    with nothing of this attempt kept; ``also`` names further errors that mean the same."""
    try:
        yield
    except (StaleDataError, *also):
        db.session.rollback()
        raise Conflict(stale) from None
