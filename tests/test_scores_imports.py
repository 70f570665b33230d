"""The import of inspection scores (``import-inspections``)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.blueprints.scores.models import Inspection, ScoreEvent
from portal.extensions import db
from portal.models import AuditEvent, ImportedFile, unit_by_code
from portal.periods import quarter_of

from .scores_helpers import QUARTER, checks

D = Decimal
HEADER = "outlet_code,quarter,mystery,offsite,onsite\n"
Q = QUARTER.label
PREVIOUS = quarter_of(QUARTER.start - timedelta(days=1)).label
LATER = quarter_of(QUARTER.end + timedelta(days=1)).label


def write(tmp_path, name: str, text: str, bom: bool = False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def run(runner, path):
    return runner.invoke(args=["import-inspections", str(path)])


def stored() -> dict:
    return {(db.session.get(type(unit_by_code("HQ")), r.outlet_id).code, r.quarter):
            (r.mystery, r.offsite, r.onsite) for r in db.session.scalars(select(Inspection))}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


GOOD = (HEADER
        + f"ZJK-001,{Q},92.5,88,\n"
        + f"zjk-002,{Q},,,90\n"
        + f"ZJK-001,{PREVIOUS},80,81,82\n"
        + f"ZJK-002,{PREVIOUS},,,\n")


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
def test_a_good_file_is_imported_with_empty_scores_as_not_done(runner, tmp_path, bom):
    result = run(runner, write(tmp_path, "inspections.csv", GOOD, bom))
    assert result.exit_code == 0, result.output
    assert "imported 4 row(s)" in result.output
    assert stored() == {
        ("ZJK-001", Q): (D("92.5"), D(88), None),
        ("ZJK-002", Q): (None, None, D(90)),
        ("ZJK-001", PREVIOUS): (D(80), D(81), D(82)),
    }  # the all-empty row records nothing over nothing
    assert count(ScoreEvent) == 3
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "scores.inspection_imported")) == 3
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "import.inspections")) == 1


def test_a_row_for_a_quarter_already_recorded_replaces_all_three_scores(runner, tmp_path):
    checks("ZJK-001", Q, 70, 71, 72)
    result = run(runner, write(tmp_path, "again.csv", HEADER + f"ZJK-001,{Q},75,,\n"))
    assert result.exit_code == 0, result.output
    assert stored() == {("ZJK-001", Q): (D(75), None, None)}
    events = db.session.scalars(select(ScoreEvent).order_by(ScoreEvent.id)).all()
    assert [e.action for e in events] == ["recorded", "imported"]
    assert '"before": {"mystery": "70.0", "offsite": "71.0", "onsite": "72.0"}' in events[1].details


def test_the_imported_scores_show_in_the_ranking(runner, tmp_path, office):
    run(runner, write(tmp_path, "inspections.csv", GOOD))
    body = office.get(f"/scores/?quarter={Q}").get_data(as_text=True)
    # ZJK-001: 50 % × 92.5 + 50 % × 88 = 90.25 (on-site not done); ZJK-002: on-site alone, 90
    assert body.index('id="outlet-ZJK-001"') < body.index('id="outlet-ZJK-002"')
    assert "90.25" in body


@pytest.mark.parametrize("line, reason", [
    ("ZJK-999,{Q},80,80,80", "unknown outlet_code"),
    ("ZJK-YYB,{Q},80,80,80", "is not an outlet"),
    ("ZJK,{Q},80,80,80", "is not an outlet"),
    ("ZJK-001,2026Q5,80,80,80", "bad quarter"),
    ("ZJK-001,2026-07,80,80,80", "bad quarter"),
    ("ZJK-001,,80,80,80", "bad quarter"),
    ("ZJK-001,1999Q4,80,80,80", "quarter too early"),
    ("ZJK-001,{LATER},80,80,80", "quarter in the future"),
    ("ZJK-001,{Q},100.5,80,80", "must be 0–100"),
    ("ZJK-001,{Q},80,-1,80", "must be 0–100"),
    ("ZJK-001,{Q},80,80,八十", "not a number"),
    ("ZJK-001,{Q},80,80,good", "not a number"),
    ("ZJK-001,{Q},80.25,80,80", "one decimal at most"),
    ("ZJK-001,{Q},80,80", "wrong number of columns"),
])
def test_a_bad_row_refuses_the_whole_file_naming_its_line(runner, tmp_path, line, reason):
    text = HEADER + f"ZJK-002,{Q},90,90,90\n" + line.format(Q=Q, LATER=LATER) + "\n"
    result = run(runner, write(tmp_path, "bad.csv", text))
    assert result.exit_code == 1
    assert "line 3:" in result.output and reason in result.output
    assert "nothing was imported" in result.output
    assert count(Inspection) == 0 and count(ScoreEvent) == 0 and count(ImportedFile) == 0


def test_the_same_outlet_and_quarter_twice_in_one_file_is_refused_on_both_lines(runner,
                                                                              tmp_path):
    text = (HEADER + f"ZJK-001,{Q},80,80,80\n" + f"ZJK-002,{Q},80,80,80\n"
            + f"zjk-001,{Q.lower()},85,80,80\n")
    result = run(runner, write(tmp_path, "twice.csv", text))
    assert result.exit_code == 1
    assert "line 2:" in result.output and "line 4:" in result.output
    assert "line 3:" not in result.output
    assert "more than once" in result.output
    assert count(Inspection) == 0


def test_every_bad_line_is_reported_and_nothing_is_left_behind(runner, tmp_path):
    checks("ZJK-001", PREVIOUS, 60)
    text = (HEADER + f"ZJK-001,{PREVIOUS},99,99,99\n" + f"ZJK-002,{Q},101,,\n"
            + f"NOPE,{Q},1,1,1\n")
    result = run(runner, write(tmp_path, "bad.csv", text))
    assert result.exit_code == 1
    assert "line 3:" in result.output and "line 4:" in result.output
    assert stored() == {("ZJK-001", PREVIOUS): (D(60), None, None)}  # not replaced


def test_a_wrong_header_is_refused(runner, tmp_path):
    result = run(runner, write(tmp_path, "h.csv", "outlet,quarter,a,b,c\nZJK-001,2026Q1,1,1,1\n"))
    assert result.exit_code == 1
    assert "line 1:" in result.output and "outlet_code,quarter,mystery,offsite,onsite" in \
        result.output


def test_a_file_that_is_not_utf8_is_refused(runner, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + f"ZJK-001,{Q},80,,\n").encode() + "网点".encode("gbk") + b"\n")
    result = run(runner, path)
    assert result.exit_code == 1 and "UTF-8" in result.output
    assert count(Inspection) == 0


def test_an_identical_file_is_refused_naming_when(runner, tmp_path):
    assert run(runner, write(tmp_path, "a.csv", GOOD)).exit_code == 0
    result = run(runner, write(tmp_path, "b.csv", GOOD))
    assert result.exit_code == 1
    assert "already imported at" in result.output and "a.csv" in result.output
    assert count(ScoreEvent) == 3
