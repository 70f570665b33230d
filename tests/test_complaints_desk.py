"""Staff pages of complaints: intake, the lifecycle of actions, transfers, clocks, scope,
proposals for the points ledger, a low rating turned into a complaint, measures."""
import io
import re
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import Complaint, ComplaintEvent
from portal.blueprints.ratings import services as ratings_services
from portal.extensions import db
from portal.periods import month_of
from portal.proposals import PointsProposal
from portal.timeutil import local_today, stored, utcnow

from .conftest import person, sign_in_as
from .ratings_helpers import make_rating


@pytest.fixture
def as_(app):
    """Signed-in clients by work number."""
    return lambda work_no: sign_in_as(app.test_client(), work_no)


def make(recorder="L0001", phone="13800001234", **extra) -> Complaint:
    data = {"channel": "walk_in", "outlet": person(recorder).org_unit, "category": "attitude",
            "description": "柜员态度冷淡", "customer_phone": phone, **extra}
    complaint = services.create(services.NewComplaint(**data), person(recorder), utcnow())
    db.session.commit()
    return complaint


def act(client, complaint, action, **data):
    db.session.refresh(complaint)
    return client.post(f"/complaints/{complaint.id}/{action}",
                       data={"version": str(complaint.version), **data})


def actions(complaint) -> list[str]:
    return [event.action for event in services.history(complaint)]


def proposals(rule=None) -> list[PointsProposal]:
    query = select(PointsProposal).order_by(PointsProposal.id)
    if rule:
        query = query.where(PointsProposal.rule_code == rule)
    return list(db.session.scalars(query))


# --- intake ---------------------------------------------------------------------------------

def test_staff_intake_makes_the_recorder_the_first_contact_owner(lobby):
    page = lobby.get("/complaints/intake").get_data(as_text=True)
    assert "登记人即为首问责任人" in page and "ZJK-002" not in page  # own outlet only
    response = lobby.post("/complaints/intake", data={
        "channel": "phone", "level": "outlet", "outlet": "ZJK-001", "subject": "T1002",
        "category": "waiting", "description": "电话反映排队一小时", "customer_phone": "0313-1234567"})
    assert response.status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert complaint.first_owner.work_no == "L0001" == complaint.handler.work_no
    assert complaint.recorded_by_id == person("L0001").id
    assert complaint.channel == "phone" and complaint.subject.work_no == "T1002"


@pytest.mark.parametrize("changes, message", [
    ({"subject": "T2001"}, "请选择该网点的人员。"),
    ({"outlet": "ZJK-002"}, "不是有效的选择"),
    ({"channel": "web"}, "不是有效的选择"),
    ({"description": ""}, "请写明投诉的事情经过。"),
    ({"customer_phone": "", "anonymous": ""}, "请填写联系电话,或选择匿名投诉。"),
])
def test_bad_intake_is_refused_next_to_the_field(lobby, changes, message):
    data = {"channel": "walk_in", "level": "outlet", "outlet": "ZJK-001", "subject": "",
            "category": "waiting", "description": "排队", "customer_phone": "13800001234", **changes}
    response = lobby.post("/complaints/intake", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Complaint.id))) == 0


def test_the_service_office_records_referrals_for_any_outlet_of_its_branch(office):
    response = office.post("/complaints/intake", data={
        "channel": "referral", "level": "branch", "outlet": "ZJK-002", "category": "fees",
        "description": "分行转来:收费争议", "customer_phone": "13900001111"})
    assert response.status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert complaint.outlet.code == "ZJK-002" and complaint.level == "branch"
    assert complaint.first_owner.work_no == "S0001"


def test_tellers_cannot_record_complaints(teller):
    assert teller.get("/complaints/intake").status_code == 403


# --- the lifecycle --------------------------------------------------------------------------

def test_the_whole_lifecycle_with_a_transfer_and_a_reopen(as_):
    lobby, teller, manager = as_("L0001"), as_("T1001"), as_("M0001")
    complaint = make()
    assert act(lobby, complaint, "respond", text="已电话致歉").status_code == 303
    assert complaint.status == "handling" and complaint.responded_at is not None
    assert act(lobby, complaint, "transfer", receiver="T1001", reason="由当事柜员说明").status_code == 303
    assert complaint.transfer_to.work_no == "T1001" and complaint.handler.work_no == "L0001"
    home = teller.get("/").get_data(as_text=True)
    assert complaint.ticket in home and "待我接收" in home
    assert act(teller, complaint, "accept").status_code == 303
    assert complaint.handler.work_no == "T1001" and complaint.transfers == 1
    # the first-contact owner still sees it and may add notes, but no longer decides
    assert complaint.ticket in lobby.get("/").get_data(as_text=True)
    assert act(lobby, complaint, "note", text="我仍在跟进").status_code == 303
    assert act(lobby, complaint, "decide", finding="upheld", responsible="T1001",
               reply="属实").status_code == 403
    assert act(teller, complaint, "decide", finding="upheld", responsible="T1001",
               reply="经查属实,已批评教育").status_code == 303
    assert complaint.status == "decided" and [p.work_no for p in complaint.responsible] == ["T1001"]
    assert [(p.person.work_no, p.rule_code, p.points) for p in proposals()] == [("T1001", "R19", -2)]
    assert act(manager, complaint, "callback", result="unsatisfied", text="客户仍不满意").status_code == 303
    assert complaint.status == "handling" and complaint.reopened == 1 and complaint.finding is None
    assert act(manager, complaint, "decide", finding="partly", responsible="T1001",
               reply="部分属实,已调整").status_code == 303
    assert len(proposals("R19")) == 1  # once per person and complaint
    assert act(manager, complaint, "callback", result="basic").status_code == 303
    assert complaint.status == "called_back"
    assert act(manager, complaint, "close").status_code == 303
    assert complaint.status == "closed" and complaint.closed_at is not None
    assert actions(complaint) == ["create", "respond", "transfer", "accept", "note", "decide",
                                  "callback", "reopen", "decide", "callback", "close"]
    page = manager.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "已关闭" in page and "我仍在跟进" in page and "客户可见" in page


def test_a_decision_needs_a_response_first_and_people_when_upheld(as_):
    lobby = as_("L0001")
    complaint = make()
    assert act(lobby, complaint, "decide", finding="upheld", reply="x").status_code == 403
    act(lobby, complaint, "respond", text="已联系")
    response = act(lobby, complaint, "decide", finding="upheld", reply="属实")
    assert response.status_code == 400 and "属实或部分属实须写明责任人。" in response.get_data(as_text=True)
    response = act(lobby, complaint, "decide", finding="upheld", responsible="T2001", reply="属实")
    assert response.status_code == 400 and "责任人须为本网点人员。" in response.get_data(as_text=True)
    assert complaint.status == "handling" and proposals() == []


@pytest.mark.parametrize("level, rule, points", [("outlet", "R19", -2), ("branch", "R19b", -3),
                                                 ("media", "R19c", -5)])
def test_an_upheld_complaint_proposes_the_deduction_of_its_level(as_, level, rule, points):
    manager = as_("M0001")
    complaint = make(recorder="M0001", level=level)
    act(manager, complaint, "respond", text="已联系")
    act(manager, complaint, "decide", finding="upheld", responsible=["T1001", "T1002"], reply="属实")
    assert sorted((p.person.work_no, p.rule_code, int(p.points)) for p in proposals()) == [
        ("T1001", rule, points), ("T1002", rule, points)]
    assert all(p.evidence_kind == "complaint" and p.evidence_ref == complaint.ticket
               for p in proposals())


def test_not_upheld_proposes_nothing_and_can_nominate_the_grievance_award(as_):
    manager = as_("M0001")
    complaint = make(recorder="M0001")
    act(manager, complaint, "respond", text="已联系")
    act(manager, complaint, "decide", finding="not_upheld", responsible="T1001", reply="经查不属实")
    assert complaint.responsible == [] and proposals() == []
    assert act(manager, complaint, "nominate", person="T1001",
               citation="客户无理取闹,柜员耐心解释").status_code == 303
    assert [(p.person.work_no, p.rule_code, int(p.points)) for p in proposals()] == [("T1001", "A06", 1)]
    again = act(manager, complaint, "nominate", person="T1001", citation="再次")
    assert again.status_code == 400 and "已因此投诉被推荐过" in again.get_data(as_text=True)


def test_an_anonymous_complaint_closes_without_a_callback(as_):
    lobby = as_("L0001")
    complaint = make(phone="")
    act(lobby, complaint, "respond", text="现场已处理")
    act(lobby, complaint, "decide", finding="not_upheld", reply="说明情况")
    assert act(lobby, complaint, "close").status_code == 303 and complaint.status == "closed"


def test_a_complaint_with_a_phone_needs_its_callback_before_closing(as_):
    lobby = as_("L0001")
    complaint = make()
    act(lobby, complaint, "respond", text="已联系")
    act(lobby, complaint, "decide", finding="not_upheld", reply="说明")
    assert act(lobby, complaint, "close").status_code == 403
    assert complaint.status == "decided"


# --- transfers and clocks ---------------------------------------------------------------------

def test_two_transfers_mark_buck_passing(as_):
    lobby, teller = as_("L0001"), as_("T1001")
    complaint = make()
    act(lobby, complaint, "transfer", receiver="T1001", reason="请说明")
    act(teller, complaint, "accept")
    assert not complaint.buck_passing
    act(teller, complaint, "transfer", receiver="T1002", reason="不是我")
    assert complaint.transfers == 2 and complaint.buck_passing
    assert "推诿风险" in as_("M0001").get("/complaints/").get_data(as_text=True)


def test_a_transfer_needs_a_reason_and_a_colleague(as_):
    lobby = as_("L0001")
    complaint = make()
    response = act(lobby, complaint, "transfer", receiver="T1001", reason="")
    assert response.status_code == 400 and "请填写内容。" in response.get_data(as_text=True)
    response = act(lobby, complaint, "transfer", receiver="T2001", reason="跨网点")
    assert response.status_code == 400 and "请选择本网点或上级文优办的在岗人员。" in response.get_data(as_text=True)
    assert complaint.transfers == 0 and complaint.transfer_to_id is None


def test_a_transfer_not_accepted_within_the_hour_returns_to_the_sender(as_):
    lobby, teller = as_("L0001"), as_("T1001")
    complaint = make()
    act(lobby, complaint, "transfer", receiver="T1001", reason="请说明")
    complaint.transfer_due = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = act(teller, complaint, "accept")
    assert response.status_code == 403  # the accept form is gone once the hour ran out
    assert services.sweep(utcnow()) == 1
    assert complaint.transfer_to_id is None and complaint.handler.work_no == "L0001"
    assert actions(complaint)[-1] == "return"
    assert complaint.transfers == 1


def test_the_receiver_may_decline(as_):
    lobby, teller = as_("L0001"), as_("T1001")
    complaint = make()
    act(lobby, complaint, "transfer", receiver="T1001", reason="请说明")
    assert act(teller, complaint, "decline", reason="不是我的窗口").status_code == 303
    assert complaint.transfer_to_id is None and complaint.handler.work_no == "L0001"
    assert actions(complaint)[-1] == "decline"
    assert complaint.ticket not in teller.get("/complaints/").get_data(as_text=True)
    assert teller.get(f"/complaints/{complaint.id}").status_code == 404


def test_a_late_response_is_escalated_and_proposes_r11b_for_the_first_contact_owner(as_):
    lobby = as_("L0001")
    complaint = make()
    complaint.response_due = utcnow() - timedelta(minutes=5)
    db.session.commit()
    clock = as_("M0001").get("/").get_data(as_text=True)
    assert complaint.ticket in clock and "已超时" in clock
    act(lobby, complaint, "respond", text="迟到的响应")
    assert [(p.person.work_no, p.rule_code, p.evidence_ref) for p in proposals()] == [
        ("L0001", "R11b", f"{complaint.ticket}:response")]
    assert complaint.response_escalated
    assert services.sweep(utcnow()) == 0  # nothing proposed twice


def test_the_sweep_escalates_a_late_decision_to_the_service_office(as_):
    complaint = make()
    act(as_("L0001"), complaint, "respond", text="已联系")
    complaint.decision_due = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert services.sweep(utcnow()) == 1
    assert complaint.decision_escalated and actions(complaint)[-1] == "escalate_decision"
    assert [(p.rule_code, p.evidence_ref) for p in proposals()] == [
        ("R11b", f"{complaint.ticket}:decision")]
    assert complaint.ticket in as_("S0001").get("/").get_data(as_text=True)


def test_the_decision_limit_extends_once_with_a_reason(as_):
    lobby = as_("L0001")
    complaint = make()
    response = act(lobby, complaint, "extend", reason="")
    assert response.status_code == 400 and complaint.decision_due == services.decision_due(
        complaint.received_at)
    assert act(lobby, complaint, "extend", reason="需调取监控").status_code == 303
    assert complaint.decision_due == complaint.received_at + timedelta(days=30)
    assert act(lobby, complaint, "extend", reason="再延").status_code == 403


# --- concurrency ---------------------------------------------------------------------------

def test_an_action_on_an_old_page_gets_a_clear_conflict(as_):
    lobby, manager = as_("L0001"), as_("M0001")
    complaint = make()
    old = str(complaint.version)
    act(manager, complaint, "respond", text="经理先响应了")
    response = lobby.post(f"/complaints/{complaint.id}/extend", data={"version": old, "reason": "延期"})
    assert response.status_code == 409
    assert "该投诉刚被他人处理" in response.get_data(as_text=True)
    assert not complaint.extended and actions(complaint) == ["create", "respond"]


def test_notes_do_not_get_in_each_other_s_way(as_):
    lobby, manager = as_("L0001"), as_("M0001")
    complaint = make()
    old = str(complaint.version)
    act(manager, complaint, "note", text="经理记录")
    response = lobby.post(f"/complaints/{complaint.id}/note", data={"version": old, "text": "大堂记录"})
    assert response.status_code == 303 and actions(complaint) == ["create", "note", "note"]


def test_two_people_acting_at_once_exactly_one_wins(app, as_):
    complaint = make()
    version, path = str(complaint.version), f"/complaints/{complaint.id}/respond"
    clients = [as_("L0001"), as_("M0001")]
    db.session.commit()  # the test's own session lets go of the database
    barrier, codes = threading.Barrier(2), []

    def respond(client):
        barrier.wait()
        codes.append(client.post(path, data={"version": version, "text": "我来响应"}).status_code)

    threads = [threading.Thread(target=respond, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assert sorted(codes) == [303, 409]
    assert actions(complaint).count("respond") == 1


# --- scope ----------------------------------------------------------------------------------

def test_no_outlet_sees_another_s_complaints(as_):
    complaint = make()
    other_manager, other_teller, bystander = as_("M0002"), as_("T2001"), as_("T1002")
    for client in (other_manager, other_teller, bystander):
        assert client.get(f"/complaints/{complaint.id}").status_code == 404
        assert act(client, complaint, "note", text="x").status_code == 404
        assert complaint.ticket not in client.get("/complaints/?status=all").get_data(as_text=True)
    assert complaint.ticket in as_("S0001").get("/complaints/").get_data(as_text=True)
    assert complaint.ticket in as_("M0001").get("/complaints/").get_data(as_text=True)


def test_administrators_have_no_complaint_pages(admin):
    assert admin.get("/complaints/").status_code == 403


def test_an_unknown_action_or_complaint_is_not_found(as_):
    complaint = make()
    lobby = as_("L0001")
    assert lobby.post(f"/complaints/{complaint.id}/delete", data={}).status_code == 404
    assert lobby.get("/complaints/999999").status_code == 404


# --- a low rating becomes a complaint -----------------------------------------------------------

def test_a_low_rating_turns_into_a_complaint_in_one_step(as_):
    rating = make_rating(person("T1001"), 1, local_today(), comment="态度很差")
    manager = as_("M0001")
    response = manager.post(f"/complaints/from-rating/{rating.id}")
    assert response.status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert complaint.subject.work_no == "T1001" and complaint.source_rating_id == rating.id
    assert "态度很差" in complaint.description and complaint.first_owner.work_no == "M0001"
    again = manager.post(f"/complaints/from-rating/{rating.id}")
    assert again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(select(func.count(Complaint.id))) == 1
    assert as_("M0002").post(f"/complaints/from-rating/{rating.id}").status_code == 404


def test_the_alerts_page_offers_turning_into_a_complaint(as_):
    make_rating(person("T1001"), 1, local_today(), comment="差")
    page = as_("M0001").get("/ratings/alerts").get_data(as_text=True)
    assert "/complaints/from-rating/" in page


def test_upheld_complaints_count_in_the_rating_measures(as_):
    manager = as_("M0001")
    complaint = make(recorder="M0001")
    act(manager, complaint, "respond", text="已联系")
    act(manager, complaint, "decide", finding="partly", responsible="T1001", reply="部分属实")
    month = month_of(local_today())
    measures = ratings_services.measures_for([person("T1001").id, person("T1002").id], month)
    assert measures[person("T1001").id].complaints_upheld == 1
    assert measures[person("T1002").id].complaints_upheld == 0


# --- measures -------------------------------------------------------------------------------

def _sheet(response):
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]


def test_measures_per_outlet_and_period_with_xlsx(as_):
    manager = as_("M0001")
    complaint = make(recorder="M0001")
    act(manager, complaint, "respond", text="已联系")
    act(manager, complaint, "decide", finding="upheld", responsible="T1001", reply="属实")
    make()
    period = month_of(local_today()).label
    page = manager.get(f"/complaints/measures?period={period}").get_data(as_text=True)
    assert "ZJK-001" in page and "ZJK-002" not in page
    rows = _sheet(manager.get(f"/complaints/measures?period={period}&format=xlsx"))
    assert rows[0][:3] == ["网点代码", "网点", "投诉量"]
    assert rows[1][0] == "ZJK-001" and rows[1][2] == 2
    assert rows[1][7] == "100 %" and rows[1][8] == "100 %"  # first contact; upheld of decided
    office = as_("S0001").get(f"/complaints/measures?period={period}").get_data(as_text=True)
    assert "ZJK-001" in office and "ZJK-002" in office


@pytest.mark.parametrize("period", ["2026-13", "abc", "2026Q5"])
def test_a_bad_period_is_a_bad_request(manager, period):
    assert manager.get(f"/complaints/measures?period={period}").status_code == 400


def test_tellers_have_no_measures_page(teller):
    assert teller.get("/complaints/measures").status_code == 403


# --- the home panel and its refresh -----------------------------------------------------------

def test_the_desk_fragment_refreshes_for_htmx_only(as_):
    complaint = make()
    lobby = as_("L0001")
    fragment = lobby.get("/complaints/desk", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and complaint.ticket in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'hx-trigger="every 60s"' in fragment.get_data(as_text=True)
    assert lobby.get("/complaints/desk").status_code == 302


# --- bounded queries ------------------------------------------------------------------------

def test_pages_run_a_bounded_number_of_queries(as_, count_queries):
    manager = as_("M0001")
    for _ in range(3):
        make(recorder="M0001")
    complaint = make(recorder="M0001")
    for n in range(5):
        act(manager, complaint, "note", text=f"记录 {n}")
    counts = {}
    for path in ("/", "/complaints/", f"/complaints/{complaint.id}", "/complaints/measures"):
        with count_queries() as few:
            assert manager.get(path).status_code == 200
        counts[path] = len(few)
    tellers = [person(f"T100{n}") for n in range(1, 7)]
    for n in range(20):  # many first-contact owners and handlers
        extra = make(recorder=("L0001", "M0001")[n % 2])
        extra.handler = tellers[n % 6]
    db.session.commit()
    for n in range(20):
        act(manager, complaint, "note", text=f"更多 {n}")
    for path, before in counts.items():
        with count_queries() as more:
            manager.get(path)
        assert len(more) <= before, (path, before, len(more))


def test_the_service_office_desk_shows_only_what_reached_it(as_):
    fresh, late = make(), make()
    late.decision_due = utcnow() - timedelta(minutes=1)
    db.session.commit()
    home = as_("S0001").get("/").get_data(as_text=True)
    assert late.ticket in home and fresh.ticket not in home
    assert fresh.ticket in as_("M0001").get("/").get_data(as_text=True)


def test_the_clocks_count_in_the_configured_business_hours(app_factory):
    from datetime import datetime, time

    from portal.config import business_hours

    assert business_hours("08:30-18:00") == (time(8, 30), time(18))
    for bad in ("9-5", "18:00-08:00", ""):
        with pytest.raises(ValueError, match="COMPLAINT_BUSINESS_HOURS"):
            business_hours(bad)
    late_day = app_factory(COMPLAINT_BUSINESS_HOURS=(time(8), time(20)))
    with late_day.app_context():
        received = stored(datetime(2026, 11, 23, 19, 30))
        assert services.local_naive(services.business_deadline(received, 1)) == \
            datetime(2026, 11, 24, 8, 30)


def test_a_complaint_can_go_up_to_the_service_office_of_its_branch(as_):
    complaint = make()
    page = as_("L0001").get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "S0001" in page and "T2001" not in page and "M0002" not in page
    assert act(as_("L0001"), complaint, "transfer", receiver="S0001", reason="需文优办协调").status_code == 303
    office = as_("S0001")
    assert "待我接收" in office.get("/").get_data(as_text=True)
    assert act(office, complaint, "accept").status_code == 303
    assert complaint.handler.work_no == "S0001"


def test_the_list_downloads_as_xlsx_within_scope(as_):
    mine, theirs = make(), make(recorder="L0002")
    rows = _sheet(as_("M0001").get("/complaints/?status=all&format=xlsx"))
    assert rows[0][:3] == ["单号", "受理时间", "网点"]
    assert [row[0] for row in rows[1:]] == [mine.ticket]
    assert theirs.ticket not in str(rows)


@pytest.mark.parametrize("period", ["0000-01", "9999-12"])
def test_a_period_outside_the_calendar_is_a_bad_request(manager, period):
    assert manager.get(f"/complaints/measures?period={period}").status_code == 400
