"""Clock helpers: store naive UTC, reason in Asia/Shanghai local time."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (the form stored in the database)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """Convert a stored naive-UTC datetime to aware local time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)


def local_today(now: datetime | None = None) -> date:
    """Return the local calendar date of a naive-UTC moment (default: now)."""
    return to_local(now or utcnow()).date()


def stored(local: datetime) -> datetime:
    """A naive local moment as stored (naive UTC)."""
    return local.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def utc_span(first: date, last: date) -> tuple[datetime, datetime]:
    """The stored (naive UTC) moments from local ``first`` 00:00 up to, not including, the
    local midnight after ``last``."""
    return (stored(datetime.combine(first, time())),
            stored(datetime.combine(last + timedelta(days=1), time())))
