"""Demo scores: the last four quarters' checks of both demo outlets (some not done), and the
management score and bonuses of 营业部 ZJK-YYB for the two quarters before the current one,
recorded by the service office S0001 through ``services`` (with their history), each at the end
of its quarter (today for the running one)."""
from datetime import date, datetime, time, timezone

from sqlalchemy import select

from ...extensions import db
from ...models import Person, unit_by_code
from ...timeutil import LOCAL_TZ, utcnow
from . import services

D = services.D
# quarters before the current one (0: current) -> outlet -> (mystery, offsite, onsite)
CHECKS = {
    3: {"ZJK-001": ("88", "91.5", "85"), "ZJK-002": ("82", "79.5", None)},
    2: {"ZJK-001": ("90", None, "87"), "ZJK-002": ("85.5", "84", "90")},
    1: {"ZJK-001": ("92.5", "89", "94"), "ZJK-002": (None, "86", None)},
    0: {"ZJK-001": ("93", None, None), "ZJK-002": ("87", "83.5", None)},
}
# quarters before the current one -> (management, innovation bonus, external-award bonus)
SUBBRANCH = {2: ("85", "0", "1.5"), 1: ("88", "2", "1")}


def _moment(day: date) -> datetime:
    """17:00 local time of ``day`` as stored, or now if that is still to come."""
    local = datetime.combine(day, time(17, 0), tzinfo=LOCAL_TZ)
    return min(local.astimezone(timezone.utc).replace(tzinfo=None), utcnow())


def _value(text):
    return None if text is None else D(text)


def seed_history(today: date) -> None:
    """Four quarters of inspection scores and two of the sub-branch's management score."""
    office = db.session.scalar(select(Person).where(Person.work_no == "S0001"))
    quarters = services.recent_quarters(today, 4)
    for back, outlets in sorted(CHECKS.items(), reverse=True):
        period = quarters[back]
        changes = {unit_by_code(code): (dict(zip(services.CHECKS, map(_value, values))), 0)
                   for code, values in outlets.items()}
        services.save_inspections(changes, period.label, office, _moment(min(period.end, today)))
    subbranch = unit_by_code("ZJK-YYB")
    for back, values in sorted(SUBBRANCH.items(), reverse=True):
        period = quarters[back]
        row = dict(zip(services.SUBBRANCH_FIELDS, map(_value, values)))
        services.save_subbranches({subbranch: (row, 0)}, period.label, office,
                                  _moment(period.end))
