"""Clock helpers: store naive UTC, reason in Asia/Shanghai local time."""
from datetime import date, datetime, timezone
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
