"""What the ledger adds to other features' measures: the star levels' 季度积分净变动."""
from sqlalchemy import bindparam, func, select

from ...database import read
from ...periods import Period
from .models import CONFIRMED, LedgerEntry


_ENTRY = LedgerEntry.__table__.c
_NET_BY_DAY = (
    select(_ENTRY.person_id, _ENTRY.day, func.sum(_ENTRY.points))
    .where(_ENTRY.person_id.in_(bindparam("ids", expanding=True)), _ENTRY.status == CONFIRMED,
           _ENTRY.day.between(bindparam("start"), bindparam("end")))
    .group_by(_ENTRY.person_id, _ENTRY.day)
)


def net_points(person_ids, period: Period) -> dict[int, float]:
    """The net change of each person's confirmed ledger points dated inside ``period`` (awards,
    deductions and manager charges alike, as they move the balance); people with no entry
    there are left out (they count as 0)."""
    return net_points_over(person_ids, [period])[period.label]


def net_points_over(person_ids, periods: list[Period]) -> dict[str, dict[int, float]]:
    """``net_points`` for each of ``periods`` (by label), in one query over their span."""
    ids = list(person_ids)
    found: dict[str, dict[int, float]] = {period.label: {} for period in periods}
    if not ids or not periods:
        return found
    rows = read(_NET_BY_DAY, ids=ids, start=min(p.start for p in periods),
                end=max(p.end for p in periods))
    for pid, day, total in rows:
        for period in periods:
            if day in period and total is not None:
                found[period.label][pid] = found[period.label].get(pid, 0.0) + float(total)
    return found
