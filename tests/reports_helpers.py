"""Test data for the reports: ledger entries, complaints and checklist sheets on chosen days,
made through each feature's own services (ratings come from tests/ratings_helpers.py)."""
import io
from datetime import date, datetime, time, timezone

from openpyxl import load_workbook

from portal.blueprints.admin import services as admin
from portal.blueprints.checklist import services as checklist
from portal.blueprints.complaints import services as complaints
from portal.blueprints.ledger import services as ledger
from portal.extensions import db
from portal.models import OFFICE, unit_by_code
from portal.timeutil import LOCAL_TZ

from .conftest import person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOBBY_OF = {"ZJK-001": "L0001", "ZJK-002": "L0002"}
MANAGER_OF = {"ZJK-001": "M0001", "ZJK-002": "M0002"}


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """``hour:minute`` local time of ``day``, as stored (naive UTC)."""
    local = datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def entry(work_no: str, code: str, day: date, reason: str = "", **amounts):
    """A confirmed ledger entry of ``work_no`` on ``day`` (manager charges follow the rules)."""
    who = person(work_no)
    made = ledger.record(who, code, day, at(day), reason=reason, **amounts)
    ledger.confirm(made, person(MANAGER_OF.get(who.org_unit.code, "S0001")), at(day, 11))
    db.session.commit()
    return made


def complaint(code: str, when: datetime, finding: str | None = None, responsible=(),
              description: str = "等候时间过长"):
    """A walk-in complaint of outlet ``code`` received at ``when``; decided when ``finding``."""
    lobby = person(LOBBY_OF[code])
    made = complaints.create(complaints.NewComplaint(
        channel="walk_in", outlet=unit_by_code(code), category="waiting",
        description=description, customer_phone="13800001234"), lobby, when)
    db.session.flush()
    if finding:
        complaints.respond(made, lobby, "已联系客户", when)
        complaints.decide(made, lobby, finding, [person(n) for n in responsible], "经查", when)
    db.session.commit()
    return made


def sheet(code: str, day: date, problems: tuple[int, ...] = (), sign: bool = True):
    """A checklist sheet of ``day``: every item 合格 but ``problems``, signed if asked."""
    lobby = person(LOBBY_OF[code])
    made = checklist.open_sheet(unit_by_code(code), day, lobby, at(day, 8, 5))
    for number in range(1, 21):
        state = "problem" if number in problems else "pass"
        problem = checklist.Problem(f"第 {number} 项有问题", [], None) if number in problems else None
        checklist.mark(made, number, state, lobby, at(day, 8, 10), problem=problem)
    if sign:
        checklist.sign(made, person(MANAGER_OF[code]), at(day, 8, 30))
    db.session.commit()
    return made


def office_elsewhere() -> str:
    """A service office at another branch (outside ZJK's subtree); returns its work number."""
    branch = admin.create_unit("BJ", "北京分行", "branch", unit_by_code("HQ"), 0)
    admin.create_unit("BJ-001", "北京网点", "outlet", branch, 2)
    admin.create_person("S0099", "外行文优办", OFFICE, branch, date(2020, 1, 1), "demo-pass-2026")
    return "S0099"


def workbook(response):
    """The .xlsx of a download response, opened with openpyxl."""
    assert response.status_code == 200
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def sheet_rows(book, title: str) -> list[tuple]:
    return list(book[title].iter_rows(values_only=True))
