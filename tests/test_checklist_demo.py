"""The demo checklist history that ``seed-demo`` loads."""
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from portal.blueprints.checklist import services
from portal.blueprints.checklist.models import ChecklistEvent, ChecklistMark, ChecklistSheet
from portal.extensions import db
from portal.models import TELLER, OrgUnit
from portal.periods import month_of
from portal.proposals import PointsProposal
from portal.timeutil import local_today, to_local, utcnow

from .conftest import sign_in_as
from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)


def _statuses(outlet: OrgUnit, today) -> Counter:
    """Calendar statuses of the demo's two months up to yesterday."""
    first = today - timedelta(days=60)
    months = {month_of(first + timedelta(days=offset)) for offset in range(61)}
    days = [figures for month in months for figures in services.month_figures(outlet, month, today)
            if first <= figures.day < today]
    return Counter(figures.status for figures in days)


def test_the_demo_has_two_months_of_checklists_problems_and_proposals(empty_app):
    from portal.demo import seed_demo

    today = local_today()
    seed_demo()
    outlets = {unit.code: unit for unit in db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == "outlet"))}
    for code, outlet in outlets.items():
        statuses = _statuses(outlet, today)
        assert statuses["signed"] >= 45, code
        assert statuses["partial"] >= 2 and statuses["missed"] >= 2, code
        failed = services.failed_items(outlet, month_of(today - timedelta(days=30)))
        assert failed and failed[0][2] >= 2, code
    sheets = db.session.scalars(select(ChecklistSheet)).all()
    assert min(s.day for s in sheets) >= today - timedelta(days=61)
    for sheet in sheets:  # ticked in the morning, signed only when complete
        states = [mark.state for mark in sheet.marks]
        if sheet.signed:
            assert services.can_sign(states)
            assert to_local(sheet.signed_at).date() == sheet.day
            assert 8 <= to_local(sheet.signed_at).hour < 9
    states = Counter(db.session.scalars(select(ChecklistMark.state)))
    assert states["pass"] > 20 * states["problem"] > 0 and states["na"] >= 3
    # today's sheet of ZJK-001 is open and partly ticked, for the hall PC demo
    current = services.sheet_for(outlets["ZJK-001"], today)
    assert current is not None and not current.signed
    assert 0 < services.progress(m.state for m in current.marks) < 20
    assert db.session.scalar(select(func.max(ChecklistEvent.at))) <= utcnow()
    # problems: most put right the next day, a few left open past their deadline, and the
    # named ones proposed deductions
    problems = db.session.scalars(select(ChecklistMark).where(
        ChecklistMark.state == "problem")).all()
    rectified = [p for p in problems if p.rectified_at is not None]
    still_open = [p for p in problems if p.open_problem]
    assert len(rectified) >= 10 and all(p.rectify_note and p.rectified_by for p in rectified)
    assert all(to_local(p.rectified_at).date() == p.sheet.day + timedelta(days=1)
               for p in rectified)
    overdue = [p for p in still_open if services.is_overdue(p.deadline, today)]
    assert 2 <= len(overdue) <= 6
    proposals = db.session.scalars(select(PointsProposal).where(
        PointsProposal.evidence_kind == "checklist")).all()
    assert len(proposals) >= 5
    named = {(p.sheet.outlet.code, p.sheet.day.isoformat(), p.number, person.id)
             for p in problems for person in p.people}
    for proposal in proposals:
        code, day, number = proposal.evidence_ref.rsplit(":", 2)
        assert (code, day, int(number), proposal.person_id) in named
        assert proposal.status == "proposed" and proposal.points < 0
    assert {p.person.role for p in proposals} >= {TELLER}


def test_the_demo_history_pages_show_it(empty_app):
    from portal.demo import seed_demo

    seed_demo()
    client = sign_in_as(empty_app.test_client(), "M0001")
    page = client.get("/checklist/history").get_data(as_text=True)
    assert "已提交" in page and "不合格最多的项目" in page
    office = sign_in_as(empty_app.test_client(), "S0001")
    last = month_of(month_of(local_today()).start - timedelta(days=1))
    page = office.get(f"/checklist/history?outlet=ZJK-002&month={last.label}").get_data(
        as_text=True)
    assert "漏检" in page or "部分完成" in page
