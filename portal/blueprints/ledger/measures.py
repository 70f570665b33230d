"""What the ledger adds to other features' measures: the star levels' 季度积分净变动."""
from sqlalchemy import func, select

from ...extensions import db
from ...periods import Period
from .models import CONFIRMED, LedgerEntry


def net_points(person_ids, period: Period) -> dict[int, float]:
    """The net change of each person's confirmed ledger points dated inside ``period`` (awards,
    deductions and manager charges alike, as they move the balance), in one query; people with
    no entry there are left out (they count as 0)."""
    ids = list(person_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.person_id, func.sum(LedgerEntry.points))
        .where(LedgerEntry.person_id.in_(ids), LedgerEntry.status == CONFIRMED,
               LedgerEntry.day.between(period.start, period.end))
        .group_by(LedgerEntry.person_id))
    return {pid: float(total) for pid, total in rows if total is not None}
