"""The demo ledger history that ``seed-demo`` loads."""
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.blueprints.ledger import demo, services
from portal.blueprints.ledger.models import LedgerEntry, Training
from portal.extensions import db
from portal.models import OUTLET_ROLES, Person
from portal.timeutil import local_today, to_local, utcnow

from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)


def _outlet_people() -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.role.in_(OUTLET_ROLES))
                                   .order_by(Person.work_no)))


def _by(entries, work_no, code=None):
    return [e for e in entries if e.person.work_no == work_no and code in (None, e.rule_code)]


def test_the_demo_has_a_year_of_ledger_history_in_every_state(empty_app):
    from portal.demo import seed_demo

    today = local_today()
    seed_demo()
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    states = Counter(e.status for e in entries)
    assert states["confirmed"] >= 80 and states["revoked"] == 2 and states["proposed"] == 3
    # a year of it, in both outlets, nothing in the future
    assert min(e.day for e in entries) >= today - timedelta(days=366)
    assert min(e.day for e in entries) <= today - timedelta(days=330)
    assert max(e.day for e in entries) <= today
    assert all(e.recorded_at <= utcnow() for e in entries)
    assert {e.person.org_unit.code for e in entries} == {"ZJK-001", "ZJK-002"}
    assert all(to_local(e.recorded_at).date() == e.day for e in entries)
    # deductions and awards under many rules, with their reasons
    codes = {e.rule_code for e in entries}
    assert {"R01a", "R01b", "R02", "R04", "R05", "R12", "R17", "M01"} <= codes
    assert {"A01", "A03", "A05", "A06"} <= codes
    assert all(e.reason for e in entries)
    # the repeat that doubles
    (doubled,) = [e for e in entries if e.doubled]
    assert (doubled.person.work_no, doubled.rule_code, doubled.points) == (
        "T1002", "R04", Decimal(-2))
    # manager charges, one of them for the pile-up day
    charges = [e for e in entries if e.rule_code == "MGR"]
    assert len(charges) >= 25 and {c.person.work_no for c in charges} == {"M0001", "M0002"}
    (pileup,) = [c for c in charges if c.evidence_kind == "pileup"]
    same_day = [e for e in entries if e.day == pileup.day and e.rule_code in ("R01a", "R01b")]
    assert len(same_day) == 3 and pileup.person.work_no == "M0001"
    # the revoked entry, with its reason, and its charge revoked with it
    revoked = [e for e in entries if e.status == "revoked"]
    (source,) = [e for e in revoked if e.rule_code != "MGR"]
    assert source.revoke_reason and source.person.work_no == "T1005"
    assert [e.parent_id for e in revoked if e.rule_code == "MGR"] == [source.id]
    # waiting for confirmation: two deductions and the R22 of an unpaid fine
    proposed = [e for e in entries if e.status == "proposed"]
    assert sorted(e.rule_code for e in proposed) == ["R05", "R12", "R22"]
    (r22,) = [e for e in proposed if e.rule_code == "R22"]
    unpaid = db.session.get(LedgerEntry, int(r22.evidence_ref))
    assert unpaid.person == r22.person and unpaid.fine_paid_on is None
    old_fines = [e for e in entries if e.status == "confirmed" and e.money > 0 and e.points < 0
                 and to_local(e.confirmed_at).date() <= today - timedelta(days=5)]
    assert [e for e in old_fines if e.fine_paid_on is None] == [unpaid]
    assert services.fines_check(today, utcnow()) == 0  # proposed once only
    # one person in warning; another was, and passed training
    assert [p.work_no for p in _outlet_people() if services.in_warning(p, today)] == ["T1004"]
    (training,) = db.session.scalars(select(Training)).all()
    trained = db.session.get(Person, training.person_id)
    assert trained.work_no == "T2003" and training.note
    before = [e.day for e in _by(entries, "T2003") if e.status == "confirmed"
              and e.day < training.passed_on]
    assert services.three_within(before) is not None  # three deductions within 30 days
    # proposals of the other features' demos are left waiting for the ledger pages
    from portal.proposals import PointsProposal

    assert {p.status for p in db.session.scalars(select(PointsProposal))} == {"proposed"}


@pytest.mark.parametrize("today", [date(2026, 1, 8), date(2026, 6, 30), date(2026, 12, 31)])
def test_the_demo_ledger_holds_wherever_the_year_turns(app, today):
    demo.seed_history(today)  # the test database holds the demo people without history
    db.session.commit()
    people = _outlet_people()
    assert [p.work_no for p in people if services.in_warning(p, today)] == ["T1004"]
    assert all(services.balance(p, today.year, today) > 0 for p in people)
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert all(e.day.weekday() != 6 for e in entries)  # the outlets are closed on Sundays
    doubled = [e for e in entries if e.doubled]
    assert len(doubled) == 1


def test_the_demo_ledger_is_the_same_every_time(app):
    today = date(2026, 9, 15)
    demo.seed_history(today)
    first = _fingerprint()
    db.session.rollback()
    demo.seed_history(today)
    assert _fingerprint() == first


def _fingerprint():
    return sorted((e.person.work_no, e.rule_code, e.day, e.points, e.money, e.status)
                  for e in db.session.scalars(select(LedgerEntry)))
