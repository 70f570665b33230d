"""The import of historical complaints (``import-complaints``) and ``complaints-sweep``."""
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.blueprints.api.services import create_token
from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import Complaint, ComplaintEvent, complaint_responsible
from portal.blueprints.complaints.services import NewComplaint
from portal.timeutil import stored
from portal.extensions import db
from portal.models import AuditEvent, ImportedFile, OrgUnit
from portal.periods import month
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import person

HEADER = "received_at,outlet_code,channel,category,responsible_work_no,finding,level\n"
TODAY = local_today()
DAY = TODAY - timedelta(days=3)
OTHER = TODAY - timedelta(days=40)


def write(tmp_path, name: str, text: str, bom: bool = False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(runner, path):
    return runner.invoke(args=["import-complaints", str(path)])


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M:%S").time())


def by_ticket(ticket: str) -> Complaint:
    return db.session.scalar(select(Complaint).where(Complaint.ticket == ticket))


def tickets(day: date) -> str:
    return f"TS{day:%Y%m%d}-"


# --- a good file ------------------------------------------------------------------------------

GOOD = (HEADER
        + f"{DAY} 10:15:00,ZJK-001,walk_in,attitude,T1001,upheld,outlet\n"
        + f"{DAY} 16:30:00,zjk-001,web,waiting,,partly,outlet\n"
        + f"{DAY} 09:00:00,ZJK-002,referral,fees,T2001,not_upheld,branch\n"
        + f"{OTHER} 07:30:00,ZJK-002,media,error,t2002,partly,media\n")


def test_a_good_file_imports_closed_historical_complaints(runner, tmp_path):
    proposals = count(PointsProposal)
    result = run(runner, write(tmp_path, "c.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert "imported 4 row(s)" in result.output
    assert count(Complaint) == 4 and count(ComplaintEvent) == 4
    # tickets per local day, in the order the complaints came in
    early, walk_in, web = (by_ticket(f"{tickets(DAY)}{n:04d}") for n in (1, 2, 3))
    media = by_ticket(f"{tickets(OTHER)}0001")
    assert early.channel == "referral" and early.level == "branch" and early.category == "fees"
    assert walk_in.channel == "walk_in" and web.channel == "web" and media.channel == "media"
    for complaint in (early, walk_in, web, media):
        assert complaint.historical and complaint.status == "closed"
        assert complaint.description == "历史投诉(导入)"
        assert complaint.responded_at == complaint.decided_at == complaint.closed_at \
            == complaint.received_at
        assert complaint.decided_by_id is None and complaint.first_owner_id is None
        assert complaint.handler_id is None and complaint.recorded_by_id is None
        assert complaint.callback is None and complaint.transfers == 0
        assert complaint.decision_due == complaint.received_at + timedelta(days=15)
    assert walk_in.received_at == stored(local(DAY, "10:15:00"))
    assert walk_in.response_due == stored(local(DAY, "11:15:00"))
    assert web.response_due == stored(local(DAY + timedelta(days=1), "09:30:00"))
    # 07:30 in Shanghai is the evening before in UTC; the ticket follows the local day
    assert media.received_at == stored(local(OTHER, "07:30:00"))
    assert media.received_at.date() == OTHER - timedelta(days=1)
    assert media.response_due == stored(local(OTHER, "10:00:00"))
    assert (walk_in.finding, web.finding, early.finding, media.finding) == (
        "upheld", "partly", "not_upheld", "partly")
    assert walk_in.outlet.code == "ZJK-001" and media.outlet.code == "ZJK-002"
    # the responsible person is linked for upheld and partly upheld findings only
    assert [p.work_no for p in walk_in.responsible] == ["T1001"]
    assert [p.work_no for p in media.responsible] == ["T2002"]
    assert web.responsible == [] and early.responsible == []
    assert count(complaint_responsible) == 2
    # one import event each, and no deduction proposed
    events = db.session.scalars(select(ComplaintEvent).order_by(ComplaintEvent.id)).all()
    assert {e.complaint_id for e in events} == {c.id for c in (early, walk_in, web, media)}
    assert {e.action for e in events} == {"import"} and not any(e.public for e in events)
    imported = next(e for e in events if e.complaint_id == walk_in.id)
    assert json.loads(imported.details)["responsible"] == ["T1001"]
    assert count(PointsProposal) == proposals
    assert db.session.scalar(
        select(ImportedFile.rows).where(ImportedFile.kind == "complaints")) == 4
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "import.complaints")) == 1


def test_ticket_numbers_continue_after_the_days_existing_ones(runner, tmp_path):
    outlet = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZJK-001"))
    first = services.create(NewComplaint(channel="walk_in", outlet=outlet, category="waiting",
                                         description="排队太久", customer_phone="13800138000"),
                            person("L0001"), stored(local(DAY, "11:00:00")))
    db.session.commit()
    assert first.ticket == f"{tickets(DAY)}0001"
    path = write(tmp_path, "c.csv", HEADER
                 + f"{DAY} 15:00:00,ZJK-001,phone,other,,not_upheld,outlet\n"
                 + f"{DAY} 08:00:00,ZJK-002,web,waiting,,not_upheld,outlet\n")
    assert run(runner, path).exit_code == 0
    assert by_ticket(f"{tickets(DAY)}0002").received_at == stored(local(DAY, "08:00:00"))
    assert by_ticket(f"{tickets(DAY)}0003").received_at == stored(local(DAY, "15:00:00"))
    later = services.create(NewComplaint(channel="phone", outlet=outlet, category="fees",
                                         description="收费", customer_phone="13800138001"),
                            person("L0001"), stored(local(DAY, "16:00:00")))
    db.session.commit()
    assert later.ticket == f"{tickets(DAY)}0004"


def test_a_large_file_takes_a_bounded_number_of_queries(runner, tmp_path, count_queries):
    lines = [f"{TODAY - timedelta(days=10 + n % 30)} {9 + n % 8:02d}:{n % 60:02d}:00,"
             f"ZJK-00{1 + n % 2},walk_in,attitude,{'T1001' if n % 2 == 0 else 'T2001'},"
             f"{('upheld', 'partly', 'not_upheld')[n % 3]},outlet" for n in range(600)]
    path = write(tmp_path, "big.csv", HEADER + "\n".join(lines) + "\n")
    with count_queries() as statements:
        result = run(runner, path)
    assert result.exit_code == 0, result.output
    assert count(Complaint) == 600 and count(ComplaintEvent) == 600
    assert len(statements) < 40, statements
    per_day = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.ticket.startswith(tickets(TODAY - timedelta(days=10)))))
    assert per_day == 20
    assert db.session.scalar(select(func.count(func.distinct(Complaint.ticket)))) == 600


# --- bad files --------------------------------------------------------------------------------

FUTURE = datetime.combine(TODAY + timedelta(days=2), datetime.min.time())


@pytest.mark.parametrize("row, reason", [
    (f"{DAY} 9:30:00,ZJK-001,walk_in,attitude,,upheld,outlet", "received_at"),
    (f"{DAY}T09:30:00,ZJK-001,walk_in,attitude,,upheld,outlet", "received_at"),
    (f"{DAY} 09:30,ZJK-001,walk_in,attitude,,upheld,outlet", "received_at"),
    ("2026-02-30 09:30:00,ZJK-001,walk_in,attitude,,upheld,outlet", "received_at"),
    ("yesterday,ZJK-001,walk_in,attitude,,upheld,outlet", "received_at"),
    (f"{FUTURE:%Y-%m-%d %H:%M:%S},ZJK-001,walk_in,attitude,,upheld,outlet", "future"),
    ("0001-01-01 00:00:00,ZJK-001,walk_in,attitude,,upheld,outlet", "too early"),
    (f"{DAY} 09:30:00,ZJK-999,walk_in,attitude,,upheld,outlet", "outlet_code"),
    (f"{DAY} 09:30:00,ZJK,walk_in,attitude,,upheld,outlet", "outlet_code"),
    (f"{DAY} 09:30:00,,walk_in,attitude,,upheld,outlet", "outlet_code"),
    (f"{DAY} 09:30:00,ZJK-001,email,attitude,,upheld,outlet", "channel"),
    (f"{DAY} 09:30:00,ZJK-001,WALK_IN,attitude,,upheld,outlet", "channel"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,rude,,upheld,outlet", "category"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,,yes,outlet", "finding"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,,,outlet", "finding"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,,upheld,province", "level"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,T2001,upheld,outlet", "responsible_work_no"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,T9999,upheld,outlet", "responsible_work_no"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,S0001,upheld,outlet", "responsible_work_no"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,A0001,not_upheld,outlet", "responsible_work_no"),
    (f"{DAY} 09:30:00,ZJK-001,walk_in,attitude,,upheld", "columns"),
])
def test_a_bad_row_imports_nothing(runner, tmp_path, row, reason):
    path = write(tmp_path, "c.csv", HEADER
                 + f"{DAY} 09:00:00,ZJK-002,web,waiting,T2001,upheld,outlet\n" + f"{row}\n")
    result = run(runner, path)
    assert result.exit_code == 1
    assert "line 3:" in result.stderr and reason in result.stderr
    assert "line 2:" not in result.stderr and "nothing was imported" in result.stderr
    assert count(Complaint) == 0 and count(ComplaintEvent) == 0
    assert count(complaint_responsible) == 0 and count(ImportedFile) == 0


def test_every_bad_row_is_reported_with_its_line_number(runner, tmp_path):
    path = write(tmp_path, "c.csv", HEADER
                 + f"{DAY} 09:00:00,ZJK-001,fax,waiting,,upheld,outlet\n"
                 + f"{DAY} 10:00:00,ZJK-001,web,waiting,,upheld,outlet\n"
                 + "\n"
                 + f"{DAY} 11:00:00,ZJK-002,web,waiting,T1001,upheld,outlet\n")
    result = run(runner, path)
    assert result.exit_code == 1
    assert "line 2:" in result.stderr and "line 5:" in result.stderr
    assert "line 3:" not in result.stderr
    assert count(Complaint) == 0


def test_a_wrong_header_is_refused(runner, tmp_path):
    header = "received_at,outlet,channel,category,responsible,finding,level\n"
    path = write(tmp_path, "c.csv", header
                 + f"{DAY} 09:00:00,ZJK-001,web,waiting,,upheld,outlet\n")
    result = run(runner, path)
    assert result.exit_code == 1 and "line 1:" in result.stderr
    assert count(Complaint) == 0


def test_the_same_file_is_refused_the_second_time(runner, tmp_path):
    path = write(tmp_path, "c.csv", GOOD)
    assert run(runner, path).exit_code == 0
    again = run(runner, path)
    assert again.exit_code == 1 and "already imported" in again.stderr
    assert count(Complaint) == 4


def test_a_file_with_a_bom_is_accepted(runner, tmp_path):
    result = run(runner, write(tmp_path, "c.csv", GOOD, bom=True))
    assert result.exit_code == 0, result.output
    assert count(Complaint) == 4


# --- what imported complaints count for ---------------------------------------------------------

def test_imported_upheld_and_partly_upheld_complaints_count_for_the_person(runner, tmp_path,
                                                                           client):
    path = write(tmp_path, "c.csv", HEADER
                 + "2026-10-03 10:00:00,ZJK-001,walk_in,attitude,T1001,upheld,outlet\n"
                 + "2026-10-31 23:30:00,ZJK-001,phone,error,T1001,partly,outlet\n"
                 + "2026-10-12 10:00:00,ZJK-001,walk_in,attitude,T1001,not_upheld,outlet\n"
                 + "2026-11-01 07:00:00,ZJK-001,walk_in,attitude,T1001,upheld,outlet\n"
                 + "2026-09-30 16:00:00,ZJK-001,walk_in,attitude,T1001,upheld,outlet\n"
                 + "2026-10-20 10:00:00,ZJK-001,walk_in,waiting,T1002,upheld,branch\n"
                 + "2026-10-21 10:00:00,ZJK-001,walk_in,waiting,,upheld,outlet\n")
    assert run(runner, path).exit_code == 0
    first, second, third = person("T1001"), person("T1002"), person("T1003")
    counts = services.upheld_counts([first.id, second.id, third.id], month(2026, 10))
    # 2026-10-31 23:30 local is in October; 2026-11-01 07:00 local (still October in UTC) is not
    assert counts == {first.id: 2, second.id: 1}
    assert services.upheld_counts([first.id], month(2026, 11)) == {first.id: 1}
    assert services.upheld_counts([first.id], month(2026, 9)) == {first.id: 1}
    _, token = create_token("HR")
    body = client.get("/api/v1/people/T1001/ratings?period=2026-10",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["complaints_upheld"] == 2
    assert count(PointsProposal) == 0


def test_imported_complaints_count_as_on_time_and_first_contact_resolved(runner, tmp_path):
    path = write(tmp_path, "c.csv", HEADER
                 + "2026-10-03 16:59:00,ZJK-002,web,waiting,,not_upheld,outlet\n"
                 + "2026-10-04 10:00:00,ZJK-002,walk_in,attitude,T2001,partly,outlet\n")
    assert run(runner, path).exit_code == 0
    outlet = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZJK-002"))
    measures = services.outlet_measures([outlet], month(2026, 10), utcnow())[outlet.id]
    assert measures.complaints == 2
    assert (measures.response_on_time, measures.responses_due) == (2, 2)
    assert (measures.decision_on_time, measures.decisions_due) == (2, 2)
    assert (measures.first_contact_resolved, measures.decided, measures.upheld) == (2, 2, 1)
    assert measures.callbacks == 0 and measures.satisfaction_rate is None


# --- complaints-sweep -------------------------------------------------------------------------

def test_the_sweep_escalates_a_complaint_left_without_response(runner):
    outlet = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZJK-001"))
    services.create(NewComplaint(channel="phone", outlet=outlet, category="attitude",
                                 description="态度差", customer_phone="13800138000"),
                    person("L0001"), utcnow() - timedelta(days=2))
    services.create(NewComplaint(channel="phone", outlet=outlet, category="waiting",
                                 description="排队", customer_phone="13800138001"),
                    person("L0001"), utcnow())
    db.session.commit()
    result = runner.invoke(args=["complaints-sweep"])
    assert result.exit_code == 0, result.output
    assert "1 complaint(s) settled" in result.output
    db.session.expire_all()
    late = db.session.scalar(select(Complaint).where(Complaint.response_escalated))
    assert late.description == "态度差"
    proposal = db.session.scalar(select(PointsProposal).where(PointsProposal.rule_code == "R11b"))
    assert proposal.person.work_no == "L0001" and proposal.evidence_ref == f"{late.ticket}:response"
    again = runner.invoke(args=["complaints-sweep"])
    assert again.exit_code == 0 and "0 complaint(s) settled" in again.output
