"""Calendar periods in local time: months ``2026-10``, quarters ``2026Q3``, years ``2026``."""
import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class BadPeriod(ValueError):
    """The text is not a month (YYYY-MM) or a quarter (YYYYQn)."""


@dataclass(frozen=True)
class Period:
    """A closed range of local calendar days with its label."""

    label: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def month(year: int, number: int) -> Period:
    """The calendar month ``number`` of ``year``."""
    start = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(f"{year}-{number:02d}", start, following - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    """Quarter ``number`` (1–4) of ``year``."""
    first, last = month(year, 3 * number - 2), month(year, 3 * number)
    return Period(f"{year}Q{number}", first.start, last.end)


def year(number: int) -> Period:
    """The calendar year ``number``."""
    return Period(str(number), date(number, 1, 1), date(number, 12, 31))


def parse(text: str) -> Period:
    """Parse ``YYYY-MM`` or ``YYYYQn``; raise BadPeriod otherwise."""
    text = (text or "").strip()
    try:
        if found := _MONTH.match(text):
            return month(int(found[1]), int(found[2]))
        if found := _QUARTER.match(text):
            return quarter(int(found[1]), int(found[2]))
    except ValueError:  # a year the calendar can't hold: 0000, or 9999's last month
        raise BadPeriod(text) from None
    raise BadPeriod(text)


def parse_quarter(text: str) -> Period:
    """Parse ``YYYYQn`` only; raise BadPeriod otherwise."""
    period = parse(text)
    if "Q" not in period.label:
        raise BadPeriod(text)
    return period


def month_of(day: date) -> Period:
    return month(day.year, day.month)


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def previous_month(day: date) -> Period:
    return month_of(day.replace(day=1) - timedelta(days=1))


def last_months(day: date, count: int) -> list[Period]:
    """The ``count`` months up to and including the month of ``day``, oldest first."""
    months, current = [], month_of(day)
    for _ in range(count):
        months.append(current)
        current = month_of(current.start - timedelta(days=1))
    return months[::-1]
