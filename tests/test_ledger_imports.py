"""The import of ledger entries (``import-ledger``) and the daily ``ledger-fines-check``."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.blueprints.ledger import services
from portal.blueprints.ledger.imports import entered_at
from portal.blueprints.ledger.models import LedgerEntry, LedgerEvent
from portal.extensions import db
from portal.models import AuditEvent, ImportedFile
from portal.timeutil import local_today, to_local, utcnow

from .conftest import person

D = Decimal
HEADER = "date,work_no,rule_code,points,money,management_responsibility,note\n"
TODAY = local_today()
START = TODAY - timedelta(days=60)


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def write(tmp_path, name: str, text: str, bom: bool = False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def count(model=LedgerEntry) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(runner, path):
    return runner.invoke(args=["import-ledger", str(path)])


def entries(work_no: str, code: str | None = None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.person_id == person(work_no).id)
    if code:
        query = query.where(LedgerEntry.rule_code == code)
    return list(db.session.scalars(query.order_by(LedgerEntry.id)))


# --- a good file ------------------------------------------------------------------------------

GOOD = (HEADER
        # listed before the earlier R04: the import still confirms in date order
        + f"{day(10)},T1001,R04,,,0,再次使用服务禁语\n"
        + f"{day(0)},T1001,R04,-1,100,0,使用服务禁语\n"
        + f"{day(0)},t1002,R05,,,1,未使用文明用语(管理责任)\n"
        + f"{day(2)},T1001,R01a,,,0,\n"
        + f"{day(2)},T1002,r01A,,,0,\n"
        + f"{day(2)},T1003,R01b,-1,100,0,迟到\n"
        + f"{day(3)},T1004,A01,,,0,月度服务明星\n"
        + f"{day(4)},T1005,R19,-3,300,0,客户投诉属实\n"
        + f"{day(4)},T1006,R19,,,0,\n"
        + f"{day(5)},T1006,R10,,,0,与客户争执\n"
        + f"{day(6)},M0002,M01,,,0,未及时传达\n")


def test_a_good_file_is_recorded_and_confirmed_in_date_order_with_every_rule(runner, tmp_path):
    before = count()
    result = run(runner, write(tmp_path, "ledger.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert "imported 11 row(s)" in result.output
    # 11 entries, 7 per-entry manager charges (R01a/R01b and awards charge none per entry,
    # M0002's own M01 charges nobody) and one pile-up charge
    assert count() == before + 11 + 6 + 1
    own = [e for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.rule_code != "MGR").order_by(LedgerEntry.id))]
    assert [e.day for e in own] == sorted(e.day for e in own)  # confirmed in date order
    assert all(e.status == "confirmed" and e.recorded_by_id is None for e in own)
    assert all(e.recorded_at == e.confirmed_at == entered_at(e.day) for e in own)
    assert all(to_local(e.confirmed_at).hour == 9 for e in own)
    # the second R04, ten days after the first, is doubled although the file lists it first
    first, second = entries("T1001", "R04")
    assert (first.day, first.doubled, first.points, first.money) == (day(0), False, D(-1),
                                                                       D(100))
    assert (second.day, second.doubled, second.points, second.money) == (day(10), True, D(-2),
                                                                          D(200))
    assert (second.base_points, second.base_money) == (D(-1), D(100))
    assert second.reason == "再次使用服务禁语"
    # empty points and money take the rule's defaults (the mildest end of a range)
    (default,) = entries("T1006", "R19")
    assert (default.base_points, default.base_money) == (D(-2), D(200))
    (chosen,) = entries("T1005", "R19")
    assert (chosen.points, chosen.money) == (D(-3), D(300))
    (award,) = entries("T1004", "A01")
    assert (award.points, award.money) == (D(1), D(100))
    # manager charges: half, full with 管理责任, the rule's own, and the pile-up once
    charges = {(c.parent.person.work_no, c.parent.rule_code, c.parent.day): (c.points, c.money)
               for c in entries("M0001", "MGR") if c.parent_id}
    assert charges == {
        ("T1001", "R04", day(0)): (D("-0.5"), D(50)),
        ("T1001", "R04", day(10)): (D(-1), D(100)),
        ("T1002", "R05", day(0)): (D(-1), D(100)),
        ("T1005", "R19", day(4)): (D("-1.5"), D(150)),
        ("T1006", "R19", day(4)): (D(-1), D(100)),
        ("T1006", "R10", day(5)): (D(-1), D(100)),
    }
    assert len(entries("T1002", "R01a")) == 1  # rule codes are read in any case
    (pileup,) = [c for c in entries("M0001", "MGR") if c.parent_id is None]
    assert (pileup.day, pileup.points, pileup.money, pileup.evidence_kind) == (
        day(2), D(-1), D(50), "pileup")
    assert entries("M0002", "MGR") == [] and entries("M0002", "M01")[0].points == D(-2)
    assert sum(c.points for c in entries("M0001", "MGR")) == D(-7)
    # the history of each entry: recorded, then confirmed
    actions = db.session.scalars(select(LedgerEvent.action).where(
        LedgerEvent.entry_id == second.id).order_by(LedgerEvent.id)).all()
    assert actions == ["record", "confirm"]
    assert db.session.scalar(select(ImportedFile.rows).where(ImportedFile.kind == "ledger")) == 11
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "import.ledger")) == 1


def test_stored_entries_take_part_in_doubling_and_the_pile_up(runner, tmp_path):
    made = services.record(person("T1001"), "R04", day(0), entered_at(day(0)))
    services.confirm(made, None, entered_at(day(0)))
    for work_no in ("T1002", "T1003"):
        made = services.record(person(work_no), "R02", day(1), entered_at(day(1)))
        services.confirm(made, None, entered_at(day(1)))
    db.session.commit()
    path = write(tmp_path, "l.csv", HEADER + f"{day(20)},T1001,R04,,,0,\n"
                 + f"{day(1)},T1004,R02,,,0,\n" + f"{day(1)},T1005,R02,,,0,\n")
    assert run(runner, path).exit_code == 0
    assert entries("T1001", "R04")[-1].doubled
    pileups = [c for c in entries("M0001", "MGR") if c.evidence_kind == "pileup"]
    assert len(pileups) == 1 and pileups[0].day == day(1)


def test_imported_fines_count_as_paid_and_the_daily_check_proposes_nothing_for_them(
        runner, tmp_path):
    assert run(runner, write(tmp_path, "l.csv", GOOD)).exit_code == 0
    fined = db.session.scalars(select(LedgerEntry).where(LedgerEntry.money > 0,
                                                         LedgerEntry.points < 0)).all()
    assert fined and all(e.fine_paid_on == e.day for e in fined)
    result = runner.invoke(args=["ledger-fines-check"])
    assert result.exit_code == 0, result.output
    assert "0 R22 proposal(s)" in result.output


def test_the_daily_fines_check_proposes_r22_once_for_an_unpaid_fine(runner):
    confirmed = utcnow() - timedelta(days=6)
    made = services.record(person("T2001"), "R04", local_today(confirmed), confirmed)
    services.confirm(made, None, confirmed)
    db.session.commit()
    result = runner.invoke(args=["ledger-fines-check"])
    assert result.exit_code == 0, result.output
    assert "2 R22 proposal(s) created" in result.output  # T2001's fine and M0002's charge
    proposed = db.session.scalars(select(LedgerEntry).where(LedgerEntry.rule_code == "R22")).all()
    assert {e.person.work_no for e in proposed} == {"T2001", "M0002"}
    assert all(e.status == "proposed" for e in proposed)
    assert "0 R22 proposal(s)" in runner.invoke(args=["ledger-fines-check"]).output


def test_a_file_with_a_bom_and_crlf_line_ends_imports(runner, tmp_path):
    text = (HEADER + f"{day(0)},T1001,R04,,,0,禁语\n").replace("\n", "\r\n")
    result = run(runner, write(tmp_path, "bom.csv", text, bom=True))
    assert result.exit_code == 0, result.output
    assert entries("T1001", "R04")[0].reason == "禁语"


def test_an_identical_file_is_refused_naming_when(runner, tmp_path):
    path = write(tmp_path, "l.csv", GOOD)
    assert run(runner, path).exit_code == 0
    before = count()
    again = run(runner, write(tmp_path, "copy.csv", GOOD))
    assert again.exit_code == 1
    assert "already imported" in again.output and "l.csv" in again.output
    assert count() == before


def test_a_header_only_file_imports_nothing(runner, tmp_path):
    result = run(runner, write(tmp_path, "empty.csv", HEADER))
    assert result.exit_code == 0, result.output
    assert "imported 0 row(s)" in result.output


# --- bad rows ---------------------------------------------------------------------------------

GOOD_ROW = f"{day(0)},T1001,R04,,,0,好的一行\n"
FUTURE = TODAY + timedelta(days=1)


@pytest.mark.parametrize("row, reason", [
    (f"{day(1)},T1002,X99,,,0,", "unknown rule_code"),
    (f"{day(1)},T1002,MGR,-1,50,0,", "MGR"),
    (f"{day(1)},T1002,mgr,-1,50,0,", "MGR"),
    (f"{day(1)},T9999,R04,,,0,", "unknown work_no"),
    (f"{day(1)},S0001,R04,,,0,", "unknown work_no"),
    (f"{day(1)},,R04,,,0,", "unknown work_no"),
    ("2026/05/01,T1002,R04,,,0,", "bad date"),
    ("2026-02-30,T1002,R04,,,0,", "bad date"),
    ("2026-5-1,T1002,R04,,,0,", "bad date"),
    (",T1002,R04,,,0,", "bad date"),
    (f"{FUTURE},T1002,R04,,,0,", "in the future"),
    ("1999-12-31,T1002,R04,,,0,", "too early"),
    (f"{day(1)},T1002,R04,abc,,0,", "bad points"),
    (f"{day(1)},T1002,R04,-1.25,,0,", "bad points"),
    (f"{day(1)},T1002,R04,NaN,,0,", "bad points"),
    (f"{day(1)},T1002,R04,-1e0,,0,", "bad points"),
    (f"{day(1)},T1002,R04,,-100,0,", "bad money"),
    (f"{day(1)},T1002,R04,,1e2,0,", "bad money"),
    (f"{day(1)},T1002,R04,,100.001,0,", "bad money"),
    (f"{day(1)},T1002,R04,-2,,0,", "points outside"),
    (f"{day(1)},T1002,R04,1,,0,", "deductions are negative"),
    (f"{day(1)},T1002,R19,-6,,0,", "points outside"),
    (f"{day(1)},T1002,R19,-1.5,,0,", "points outside"),
    (f"{day(1)},T1002,R04,,150,0,", "money outside"),
    (f"{day(1)},T1002,A01,2,,0,", "points outside"),
    (f"{day(1)},T1002,A06,,400,0,", "money outside"),
    (f"{day(1)},T1002,R21,,,0,", "must be given"),
    (f"{day(1)},T1002,R21,-13,100,0,", "points outside"),
    (f"{day(1)},T1002,M01,,,0,", "only for the outlet manager"),
    (f"{day(1)},T1002,R04,,,yes,", "must be 1 or 0"),
    (f"{day(1)},T1002,R04,,,,", "must be 1 or 0"),
    (f"{day(1)},T1002,R04,,,2,", "must be 1 or 0"),
    (f"{day(1)},T1002,R04,,,0,{'长' * 501}", "note too long"),
    (f"{day(1)},T1002,R04,,,0", "wrong number of columns"),
])
def test_a_bad_row_fails_the_whole_file(runner, tmp_path, row, reason):
    before, files = count(), count(ImportedFile)
    result = run(runner, write(tmp_path, "bad.csv", HEADER + GOOD_ROW + row + "\n" + GOOD_ROW))
    assert result.exit_code == 1
    assert "line 3: " in result.output and reason in result.output, result.output
    assert "line 2" not in result.output and "line 4" not in result.output
    assert "nothing was imported" in result.output
    assert count() == before and count(ImportedFile) == files


def test_every_bad_row_is_reported_with_its_line_number(runner, tmp_path):
    path = write(tmp_path, "bad.csv", HEADER + GOOD_ROW + f"{day(1)},T9999,R04,,,0,\n"
                 + GOOD_ROW + f"{day(1)},T1002,MGR,,,0,\n" + f"{FUTURE},T1002,R04,,,0,\n")
    before = count()
    result = run(runner, path)
    assert result.exit_code == 1
    for line in (3, 5, 6):
        assert f"line {line}: " in result.output
    assert "line 2:" not in result.output and "line 4:" not in result.output
    assert count() == before


def test_a_wrong_header_is_refused(runner, tmp_path):
    path = write(tmp_path, "bad.csv", "date,work_no,rule_code,points,money,note\n" + GOOD_ROW)
    before = count()
    result = run(runner, path)
    assert result.exit_code == 1 and "line 1: " in result.output
    assert count() == before


def test_ranges_follow_the_amounts_the_service_office_set(runner, tmp_path):
    from portal.blueprints.ledger.models import LedgerRuleAmounts

    db.session.add(LedgerRuleAmounts(code="R04", points_low=D(-2), points_high=D(-1),
                                     money_low=D(100), money_high=D(200)))
    db.session.commit()
    result = run(runner, write(tmp_path, "l.csv", HEADER + f"{day(0)},T1001,R04,-2,200,0,\n"))
    assert result.exit_code == 0, result.output
    assert entries("T1001", "R04")[0].points == D(-2)
