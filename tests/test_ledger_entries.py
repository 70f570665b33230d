"""Stored ledger entries: recording, confirming with doubling, manager charges, pile-up,
revoking, balances, the warning state, fines, and the standing API."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.blueprints.api.services import create_token
from portal.blueprints.ledger import services
from portal.blueprints.ledger.models import LedgerEntry, LedgerEvent
from portal.errors import DomainError
from portal.extensions import db
from portal.timeutil import local_today

from .conftest import person

D = Decimal
NOW = datetime(2026, 6, 30, 2, 0)


def entry(work_no, code, day, responsibility=False, **amounts) -> LedgerEntry:
    """Record and confirm an entry as of ``day``."""
    made = services.record(person(work_no), code, day, NOW, responsibility=responsibility,
                           **amounts)
    services.confirm(made, None, NOW)
    db.session.commit()
    return made


def charges(work_no="M0001") -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.person_id == person(work_no).id, LedgerEntry.rule_code == "MGR",
        LedgerEntry.status == "confirmed").order_by(LedgerEntry.id)))


def test_an_entry_takes_the_rule_s_mildest_amounts_and_refuses_values_outside_the_range(app):
    made = services.record(person("T1001"), "R19", date(2026, 6, 1), NOW)
    assert (made.base_points, made.base_money, made.status) == (D(-2), D(200), "proposed")
    for points, money, field in ((D(-6), D(200), "points"), (D(-2), D(900), "money"),
                                 (D(-1), D(200), "points")):
        with pytest.raises(DomainError) as refused:
            services.record(person("T1001"), "R19", date(2026, 6, 1), NOW, points=points,
                            money=money)
        assert refused.value.field == field
    with pytest.raises(DomainError):
        services.record(person("T1001"), "X99", date(2026, 6, 1), NOW)


@pytest.mark.parametrize("gap, doubled", [(30, True), (31, False)])
def test_a_repeat_within_thirty_days_doubles_points_and_fine(app, gap, doubled):
    first = date(2026, 5, 1)
    entry("T1001", "R04", first)
    second = entry("T1001", "R04", first + timedelta(days=gap))
    assert second.doubled is doubled
    assert (second.points, second.money) == ((D(-2), D(200)) if doubled else (D(-1), D(100)))


def test_doubling_reaches_across_the_new_year(app):
    entry("T1001", "R04", date(2025, 12, 20))
    later = entry("T1001", "R04", date(2026, 1, 5))
    assert later.doubled and later.points == D(-2)


def test_a_revoked_or_other_rule_s_entry_does_not_double(app):
    first = entry("T1001", "R04", date(2026, 5, 1))
    services.revoke(first, None, "录入错误", NOW)
    assert not entry("T1001", "R04", date(2026, 5, 10)).doubled
    assert not entry("T1001", "R05", date(2026, 5, 11)).doubled


def test_the_manager_is_charged_fully_with_management_responsibility(app):
    entry("T1001", "R04", date(2026, 5, 1))
    source = entry("T1001", "R04", date(2026, 5, 2), responsibility=True)  # doubled: −2, ¥200
    charge = charges()[-1]
    assert (charge.points, charge.money, charge.parent_id) == (D(-2), D(200), source.id)
    assert not charge.doubled


def test_half_without_management_responsibility_gives_half_points(app):
    entry("T1001", "R04", date(2026, 5, 1))
    assert [(c.points, c.money) for c in charges()] == [(D("-0.5"), D("50.00"))]


def test_a_rule_s_own_manager_charge_applies_instead(app):
    entry("T1001", "R07", date(2026, 5, 1), responsibility=True)
    assert [(c.points, c.money) for c in charges()] == [(D(-1), D(100))]


def test_manager_charges_are_not_the_manager_s_own_offences(app):
    for offset in range(3):
        entry(f"T100{offset + 1}", "R04", date(2026, 5, 1 + offset))
    own = entry("M0001", "R04", date(2026, 5, 5))
    assert not own.doubled  # the three MGR charges are no R04 offence of the manager
    assert not services.in_warning(person("M0001"), date(2026, 5, 5))
    assert len(charges()) == 3  # and the manager's own deduction charges nobody above


def test_an_outlet_without_a_manager_charges_nobody(app):
    person("M0001").active = False
    db.session.commit()
    entry("T1001", "R04", date(2026, 5, 1))
    assert charges() == []


@pytest.mark.parametrize("people, pileups", [(2, 0), (3, 1), (4, 1)])
def test_the_same_day_pile_up_charges_the_manager_once_at_three(app, people, pileups):
    day = date(2026, 5, 6)
    codes = ("R01a", "R01b", "R01a", "R01b")
    for n in range(people):
        entry(f"T100{n + 1}", codes[n], day)
    found = [c for c in charges() if c.evidence_kind == "pileup"]
    assert len(found) == pileups
    assert all((c.points, c.money) == (D(-1), D(50)) for c in found)
    assert all(c.evidence_kind == "pileup" for c in charges())  # no per-entry charge for R01


def test_r02_piles_up_apart_from_r01(app):
    day = date(2026, 5, 6)
    entry("T1001", "R01a", day)
    entry("T1002", "R01b", day)
    entry("T1003", "R02", day)
    assert charges() == []


def test_revoking_an_entry_revokes_its_manager_charge(app):
    source = entry("T1001", "R04", date(2026, 5, 1))
    before = services.balance(person("M0001"), 2026)
    services.revoke(source, None, "申诉成立", NOW)
    db.session.commit()
    assert charges() == [] and services.balance(person("M0001"), 2026) == before + D("0.5")
    assert services.balance(person("T1001"), 2026) == D(12)
    actions = [e.action for e in db.session.scalars(select(LedgerEvent).order_by(LedgerEvent.id))]
    assert actions.count("revoke") == 2
    with pytest.raises(DomainError):
        services.revoke(source, None, "再撤", NOW)


def test_a_revocation_needs_a_reason(app):
    source = entry("T1001", "R04", date(2026, 5, 1))
    with pytest.raises(DomainError):
        services.revoke(source, None, " ", NOW)


def test_the_balance_counts_confirmed_entries_of_the_year_only(app):
    entry("T1001", "R10", date(2026, 3, 1))  # −3
    entry("T1001", "A05", date(2026, 4, 1))  # +2
    entry("T1001", "R10", date(2025, 12, 1))  # last year
    services.record(person("T1001"), "R04", date(2026, 4, 2), NOW)  # proposed only
    db.session.commit()
    assert services.balance(person("T1001"), 2026) == D(11)


def test_three_deductions_within_thirty_days_mean_warning_until_training(app):
    for day in (1, 10, 29):
        entry("T1001", "R04" if day != 10 else "R05", date(2026, 5, day))
    assert services.in_warning(person("T1001"), date(2026, 5, 29))
    services.record_training(person("T1001"), date(2026, 6, 2), "已培训", None, NOW)
    db.session.commit()
    assert not services.in_warning(person("T1001"), date(2026, 6, 3))


def test_two_deductions_within_thirty_days_are_no_warning(app):
    entry("T1001", "R04", date(2026, 5, 1))
    entry("T1001", "R05", date(2026, 5, 29))
    entry("T1001", "R09", date(2026, 6, 1))  # 31 days after the first
    assert not services.in_warning(person("T1001"), date(2026, 6, 1))


def test_a_balance_at_or_below_zero_means_warning(app):
    entry("T1001", "R19c", date(2026, 2, 1), points=D(-10), money=D(500))
    entry("T1001", "R20", date(2026, 4, 1))  # 12 − 10 − 2 = 0
    assert services.balance(person("T1001"), 2026) == D(0)
    assert services.in_warning(person("T1001"), date(2026, 4, 1))


def test_an_unpaid_fine_proposes_r22_two_days_after_it_fell_due(app):
    fined = entry("T1001", "R04", date(2026, 6, 1))  # and the manager's half, ¥50
    confirmed_on = local_today(fined.confirmed_at)
    assert services.fines_check(confirmed_on + timedelta(days=4), NOW) == 0
    assert services.fines_check(confirmed_on + timedelta(days=5), NOW) == 2
    assert services.fines_check(confirmed_on + timedelta(days=6), NOW) == 0  # once
    r22 = db.session.scalars(select(LedgerEntry).where(LedgerEntry.rule_code == "R22")
                             .order_by(LedgerEntry.id)).all()
    assert [(e.person.work_no, e.status, e.base_points) for e in r22] == [
        ("T1001", "proposed", D(-1)), ("M0001", "proposed", D(-1))]
    assert r22[0].evidence_ref == str(fined.id)


def test_a_paid_fine_proposes_nothing(app):
    fined = entry("T1001", "R04", date(2026, 6, 1))
    fined.fine_paid_on = date(2026, 6, 2)
    db.session.commit()
    assert services.fines_check(date(2026, 7, 1), NOW) == 0


def test_the_standing_api_answers_the_contract(app, client):
    _, token = create_token("hr")
    entry("T1001", "R10", date(2026, 3, 1))
    entry("T1001", "A05", date(2026, 4, 1))
    response = client.get("/api/v1/people/t1001/standing?year=2026",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {
        "work_no": "T1001", "name": person("T1001").name, "outlet": "ZJK-001", "year": 2026,
        "points": 11.0, "deductions": 1, "awards": 1, "complaints_upheld": 0, "grade_cap": None,
        "warning": False}
    manager = client.get("/api/v1/people/M0001/standing?year=2026",
                         headers={"Authorization": f"Bearer {token}"}).get_json()
    assert manager["deductions"] == 0 and manager["points"] == 11.0  # MGR −1 not counted
    for bad in ("26", "abcd", "1999", "2026-01"):
        assert client.get(f"/api/v1/people/T1001/standing?year={bad}",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 400
    assert client.get("/api/v1/people/T9999/standing",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert client.get("/api/v1/people/T1001/standing").status_code == 401
