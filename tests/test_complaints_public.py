"""The customer's complaint form and status look-up (/complaints/new, /complaints/status)."""
import re

import pytest
from sqlalchemy import func, select

from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import Complaint, ComplaintEvent
from portal.extensions import db
from portal.models import AuditEvent
from portal.timeutil import utcnow

from .conftest import person

GOOD = {"outlet": "ZJK-001", "category": "attitude", "description": "柜员态度冷淡,不回答问题。",
        "customer_name": "王先生", "customer_phone": "13800001234"}


def complaints() -> int:
    return db.session.scalar(select(func.count(Complaint.id)))


def submit(client, **changes):
    return client.post("/complaints/new", data={**GOOD, **changes})


def ticket_of(client) -> str:
    page = client.get("/complaints/thanks").get_data(as_text=True)
    return re.search(r"TS\d{8}-\d{4}", page).group(0)


def test_the_form_works_without_javascript_and_is_light(client):
    response = client.get("/complaints/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in page
    for label in ("投诉网点", "投诉类别", "投诉内容", "联系电话", "匿名投诉", "提交投诉"):
        assert label in page
    assert len(response.data) < 12_000


def test_a_complaint_gets_a_ticket_owner_and_clocks(client):
    response = submit(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/complaints/thanks")
    ticket = ticket_of(client)
    complaint = db.session.scalar(select(Complaint).where(Complaint.ticket == ticket))
    assert complaint.channel == "web" and complaint.status == "new"
    assert complaint.first_owner.work_no == "L0001" == complaint.handler.work_no  # lobby manager
    assert complaint.recorded_by_id is None
    assert complaint.response_due == services.business_deadline(complaint.received_at, 1)
    assert complaint.decision_due == services.decision_due(complaint.received_at)
    assert [e.action for e in services.history(complaint)] == ["create"]
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action == "complaint.created")) == 1


def test_the_outlet_manager_owns_it_when_there_is_no_lobby_manager(client):
    lobby = person("L0001")
    lobby.active = False
    db.session.commit()
    submit(client)
    complaint = db.session.scalar(select(Complaint))
    assert complaint.first_owner.work_no == "M0001"


def test_the_form_is_prefilled_from_a_rating(client):
    page = client.get("/complaints/new?outlet=ZJK-001&window=3&teller=T1001").get_data(as_text=True)
    assert 'value="ZJK-001" selected' in page or 'selected value="ZJK-001"' in page
    assert 'value="3"' in page and "T1001" in page
    submit(client, window_number="3", teller="T1001")
    complaint = db.session.scalar(select(Complaint))
    assert complaint.window_number == 3 and complaint.subject.work_no == "T1001"


def test_a_teller_of_another_outlet_is_not_taken_from_the_link(client):
    submit(client, teller="T2001")
    assert db.session.scalar(select(Complaint)).subject is None


def test_an_anonymous_complaint_needs_no_phone(client):
    assert submit(client, customer_phone="", anonymous="y").status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert complaint.anonymous and complaint.customer_phone == ""


@pytest.mark.parametrize("changes, message", [
    ({"customer_phone": ""}, "请填写联系电话,或选择匿名投诉。"),
    ({"customer_phone": "12345"}, "请填写 11 位手机号或带区号的固定电话。"),
    ({"category": ""}, "请选择投诉类别。"),
    ({"category": "bribery"}, "不是有效的选择"),
    ({"description": "  "}, "请写明投诉的事情经过。"),
    ({"description": "长" * 2001}, "投诉内容不能超过 2000 字。"),
    ({"description": "abc\x00def"}, "控制字符"),
    ({"outlet": "NOPE-1"}, "不是有效的选择"),
    ({"outlet": ""}, "请选择网点。"),
    ({"window_number": "0"}, "窗口号应为 1–99。"),
    ({"window_number": "abc"}, "不是有效的整数"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(client, changes, message):
    response = submit(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and 'class="error"' in page
    assert "投诉未提交" in page
    assert complaints() == 0
    if "description" not in changes:
        assert GOOD["description"] in page  # what was typed is kept


def test_a_burst_of_complaints_is_answered_429_in_chinese(app_factory):
    limited = app_factory(RATELIMIT_ENABLED=True, PUBLIC_RATE_LIMIT="2 per minute")
    with limited.app_context():
        client = limited.test_client()
        answers = [submit(client) for _ in range(3)]
        assert [a.status_code for a in answers] == [303, 303, 429]
        assert "提交过于频繁" in answers[-1].get_data(as_text=True)
        assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
        assert complaints() == 2


def test_a_stale_form_asks_the_customer_to_refill(app_factory):
    guarded = app_factory(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        response = guarded.test_client().post("/complaints/new", data=GOOD)
        assert response.status_code == 400
        assert "页面已过期" in response.get_data(as_text=True)
        assert complaints() == 0


# --- the status look-up ---------------------------------------------------------------------

def _complaint(phone="13800001234", outlet="L0001"):
    complaint = services.create(services.NewComplaint(
        channel="walk_in", outlet=person(outlet).org_unit, category="waiting",
        description="等了一个小时", customer_phone=phone), person(outlet), utcnow())
    db.session.commit()
    return complaint


def test_the_customer_sees_status_and_public_replies_only(client):
    complaint = _complaint()
    now = utcnow()
    services.respond(complaint, person("L0001"), "已电话联系客户,致歉", now)
    services.add_note(complaint, person("L0001"), "内部:柜员当天请假半天", False, now)
    services.add_note(complaint, person("L0001"), "我们已安排增开窗口", True, now)
    db.session.commit()
    response = client.post("/complaints/status",
                           data={"ticket": complaint.ticket.lower(), "last_four": "1234"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert complaint.ticket in page and "处理中" in page
    assert "我们已安排增开窗口" in page
    assert "内部" not in page and "已电话联系客户" not in page and "13800001234" not in page


@pytest.mark.parametrize("last_four", ["9999", "0000"])
def test_a_wrong_phone_never_shows_the_complaint(client, last_four):
    complaint = _complaint()
    page = client.post("/complaints/status", data={"ticket": complaint.ticket,
                                                   "last_four": last_four}).get_data(as_text=True)
    assert "未找到匹配的投诉" in page and "等了一个小时" not in page and "状态</dt>" not in page


def test_one_customer_s_digits_never_open_another_ticket(client):
    mine, theirs = _complaint("13800001234"), _complaint("13900005678")
    page = client.post("/complaints/status", data={"ticket": theirs.ticket,
                                                   "last_four": "1234"}).get_data(as_text=True)
    assert "未找到匹配的投诉" in page and theirs.ticket not in page.split("未找到")[0]
    assert mine.ticket not in page


def test_an_anonymous_complaint_cannot_be_looked_up(client):
    complaint = _complaint(phone="")
    page = client.post("/complaints/status", data={"ticket": complaint.ticket,
                                                   "last_four": "0000"}).get_data(as_text=True)
    assert "未找到匹配的投诉" in page


@pytest.mark.parametrize("data, message", [
    ({"ticket": "12345", "last_four": "1234"}, "投诉单号格式"),
    ({"ticket": "TS20261123-0007", "last_four": "12a4"}, "请填写 4 位数字。"),
    ({"ticket": "", "last_four": "1234"}, "请填写投诉单号。"),
    ({"ticket": "TS20261123-0007", "last_four": "１２３４"}, "请填写 4 位数字。"),
])
def test_bad_look_ups_get_a_message_next_to_the_field(client, data, message):
    response = client.post("/complaints/status", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_look_ups_are_rate_limited(app_factory):
    limited = app_factory(RATELIMIT_ENABLED=True, PUBLIC_RATE_LIMIT="3 per minute")
    with limited.app_context():
        client = limited.test_client()
        codes = [client.post("/complaints/status", data={"ticket": "TS20261123-0007",
                                                         "last_four": f"{n:04d}"}).status_code
                 for n in range(4)]
        assert codes == [200, 200, 200, 429]


def test_the_thanks_page_without_a_complaint_goes_back_to_the_form(client):
    response = client.get("/complaints/thanks")
    assert response.status_code == 302 and response.headers["Location"].endswith("/complaints/new")


def test_the_public_pages_record_history_append_only(client):
    submit(client)
    event = db.session.scalar(select(ComplaintEvent))
    event.text = "changed"
    with pytest.raises(Exception, match="append-only"):
        db.session.commit()
    db.session.rollback()
