"""The demo complaints that ``seed-demo`` loads."""
from datetime import timedelta

from sqlalchemy import func, select

from portal.blueprints.complaints.models import Complaint, ComplaintEvent
from portal.blueprints.complaints.services import local_naive
from portal.extensions import db
from portal.models import OrgUnit
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)


def test_the_demo_has_complaints_in_both_outlets_in_every_state(empty_app):
    from portal.demo import seed_demo

    today = local_today()
    seed_demo()
    now = utcnow()
    complaints = db.session.scalars(select(Complaint)).all()
    codes = {unit.id: unit.code for unit in db.session.scalars(select(OrgUnit))}
    by_outlet = {code: [c for c in complaints if codes[c.outlet_id] == code]
                 for code in ("ZJK-001", "ZJK-002")}
    for code, found in by_outlet.items():
        closed = [c for c in found if c.status == "closed"]
        assert len(closed) >= 15, code
        assert {c.status for c in found} - {"closed"}, f"{code} has no open complaint"
        months = {local_naive(c.received_at).strftime("%Y-%m") for c in found}
        assert len(months) >= 5, code
        assert {c.finding for c in closed} == {"upheld", "partly", "not_upheld"}
    assert {c.status for c in complaints} == {"new", "handling", "decided", "called_back", "closed"}
    assert all(c.received_at.date() >= today - timedelta(days=185) for c in complaints)
    assert not any(c.historical for c in complaints)
    # the open ones: waiting for acceptance, buck-passing, overdue and escalated, fresh
    assert any(c.transfer_to_id is not None and c.transfer_due > now for c in complaints)
    assert any(c.buck_passing and c.is_open for c in complaints)
    assert any(c.status == "new" and c.response_escalated for c in complaints)
    assert any(c.status == "new" and c.response_due > now for c in complaints)
    assert any(c.extended for c in complaints)
    assert any(c.callback in ("satisfied", "basic") for c in complaints)
    assert any(c.reopened for c in complaints)
    # every complaint has its history, none of it in the future
    without = db.session.scalar(select(func.count()).select_from(Complaint).where(
        ~select(ComplaintEvent.id).where(ComplaintEvent.complaint_id == Complaint.id).exists()))
    assert without == 0
    assert db.session.scalar(select(func.max(ComplaintEvent.at))) <= now
    actions = set(db.session.scalars(select(ComplaintEvent.action).distinct()))
    assert {"create", "respond", "transfer", "accept", "decide", "callback", "close"} <= actions
    # upheld findings proposed R19 deductions, late steps R11b
    rules = set(db.session.scalars(select(PointsProposal.rule_code).where(
        PointsProposal.evidence_kind == "complaint")))
    assert {"R19", "R11b"} <= rules
