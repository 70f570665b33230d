"""The demo honours that ``seed-demo`` loads: made through nominations and approvals, their
awards reaching the ledger through the approval."""
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.blueprints.honours import services
from portal.blueprints.honours.models import Honour, HonourEvent
from portal.blueprints.ledger.models import LedgerEntry
from portal.extensions import db
from portal.models import unit_by_code
from portal.periods import month_of
from portal.timeutil import local_today, to_local, utcnow

from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)


def test_the_demo_has_honours_in_every_state_with_their_awards_in_the_ledger(empty_app):
    from portal.demo import seed_demo

    today = local_today()
    seed_demo()
    honours = db.session.scalars(select(Honour)).all()
    states = Counter(h.status for h in honours)
    assert states["approved"] >= 15 and states["proposed"] == 2 and states["rejected"] == 1
    stars = [h for h in honours if h.title == "monthly_star"]
    # a monthly star per outlet for each of the last six months, each with its A01 entry
    assert Counter(h.person.org_unit.code for h in stars) == {"ZJK-001": 6, "ZJK-002": 6}
    assert len({h.period for h in stars}) == 6
    assert month_of(today.replace(day=1) - timedelta(days=1)).label in {h.period for h in stars}
    a01 = db.session.scalars(select(LedgerEntry).where(LedgerEntry.rule_code == "A01")).all()
    assert len(a01) == 12 and all(e.status == "confirmed" for e in a01)
    assert sorted(h.ledger_entry_id for h in stars) == sorted(e.id for e in a01)
    for honour in stars:
        entry = db.session.get(LedgerEntry, honour.ledger_entry_id)
        assert entry.day.strftime("%Y-%m") == honour.period
        assert (entry.evidence_kind, entry.evidence_ref) == ("honour", str(honour.id))
        assert to_local(entry.recorded_at).date() == entry.day <= today
    (grievance,) = [h for h in honours if h.title == "grievance"]
    entry = db.session.get(LedgerEntry, grievance.ledger_entry_id)
    assert (entry.rule_code, entry.points, entry.money) == ("A06", Decimal("2.0"),
                                                            Decimal("100.00"))
    yearly = [h for h in honours if h.title == "yearly_model"]
    assert {h.period for h in yearly} == {str(today.year - 1)} and len(yearly) == 2
    assert {h.title for h in honours} >= {"post_expert", "rising_star"}
    assert all(h.decided_at is None or h.decided_at <= utcnow() for h in honours)
    # every honour has its history; the rejection its note
    events = Counter(e.honour_id for e in db.session.scalars(select(HonourEvent)))
    assert all(events[h.id] == (1 if h.status == "proposed" else 2) for h in honours)
    assert all(h.decision_note for h in honours if h.status == "rejected")
    # the monthly notice's helper finds last month's stars of each outlet
    last = month_of(today.replace(day=1) - timedelta(days=1))
    items = services.month_honours(unit_by_code("ZJK-001"), last)
    assert "月度服务明星" in {i.title for i in items}
    # the board shows something now
    assert services.current_board(unit_by_code("ZJK-YYB"), today)
