"""Today's hall checklist on the hall PC: marking in place (htmx and plain forms), problems
with note, people, photo and deadline, sign-off, re-opening, the problem ledger, scope."""
import io
import os
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.blueprints.checklist import services
from portal.blueprints.checklist.models import ChecklistEvent, ChecklistMark, ChecklistSheet
from portal.extensions import db
from portal.models import AuditEvent
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import person, sign_in_as

HX = {"HX-Request": "true"}


@pytest.fixture
def today():
    return local_today().isoformat()


@pytest.fixture
def as_(app):
    return lambda work_no: sign_in_as(app.test_client(), work_no)


def picture(kind="PNG", size=(40, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, kind)
    buffer.seek(0)
    return buffer


def sheet_of(outlet="ZJK-001") -> ChecklistSheet:
    return db.session.scalar(select(ChecklistSheet).join(ChecklistSheet.outlet)
                             .where(ChecklistSheet.outlet.has(code=outlet)))


def state(number: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(ChecklistMark.state).where(ChecklistMark.number == number))


def mark(client, day, number, value="pass", **extra):
    return client.post(f"/checklist/day/{day}/items/{number}", data={"state": value, **extra},
                       headers=HX)


def problem(client, day, number=12, **extra):
    """Save item ``number`` as a problem; the form's fields carry the item number."""
    fields = {"note": "桌面摆放杂乱", **extra}
    data = {"state": "problem", **{f"item{number}-{name}": value for name, value in fields.items()}}
    return client.post(f"/checklist/day/{day}/items/{number}", data=data, headers=HX,
                       content_type="multipart/form-data")


def tick_all(client, day, but=()):
    for number in range(1, 21):
        if number not in but:
            assert mark(client, day, number).status_code == 200


# --- opening and marking --------------------------------------------------------------------

def test_today_s_sheet_is_created_when_first_opened_on_the_template_in_force(lobby, today):
    response = lobby.get("/checklist/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/day/{today}")
    page = lobby.get(f"/checklist/day/{today}").get_data(as_text=True)
    assert "已检查 0/20" in page and page.count('class="check-item') == 20
    assert "营业厅地面、墙面、玻璃整洁" in page and "首问负责制、投诉处理流程及应急预案公示在位" in page
    sheet = sheet_of()
    assert sheet.template.version == services.current_template().version
    assert [e.action for e in db.session.scalars(select(ChecklistEvent))] == ["open"]
    lobby.get(f"/checklist/day/{today}")
    assert db.session.scalar(select(func.count(ChecklistSheet.id))) == 1


def test_marking_answers_the_item_and_the_progress_out_of_band(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    response = mark(lobby, today, 3)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<li id="item-3"')
    assert 'id="sheet-progress"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "已检查 1/20" in fragment and 'aria-pressed="true"' in fragment
    assert state(3) == "pass"
    mark(lobby, today, 3, "na")
    assert state(3) == "na"
    assert db.session.scalar(select(func.count(ChecklistEvent.id))
                             .where(ChecklistEvent.action == "mark")) == 2


def test_without_javascript_marking_posts_and_comes_back(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    response = lobby.post(f"/checklist/day/{today}/items/5", data={"state": "pass"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#item-5")
    page = lobby.get(f"/checklist/day/{today}?problem=7").get_data(as_text=True)
    assert "问题说明" in page and 'enctype="multipart/form-data"' in page
    assert 'name="item7-note"' in page and "autofocus" in page


def test_a_problem_needs_a_note_and_keeps_what_was_typed(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    response = problem(lobby, today, note="", people=["T1001"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "不合格须填写问题说明。" in page
    assert re.search(r'<input checked[^>]*value="T1001"', page)
    assert not re.search(r'<input checked[^>]*value="T1002"', page)
    assert state(12) == "unchecked"


def test_a_problem_with_people_photo_and_deadline_proposes_the_item_s_deduction(lobby, today, app):
    lobby.get(f"/checklist/day/{today}")
    deadline = (local_today() + timedelta(days=3)).isoformat()
    response = problem(lobby, today, people=["T1001", "T1002"], deadline=deadline,
                       photo=(picture(), "desk.png"))
    assert response.status_code == 200 and "查看照片" in response.get_data(as_text=True)
    item = db.session.scalar(select(ChecklistMark).where(ChecklistMark.number == 12))
    assert item.state == "problem" and item.note == "桌面摆放杂乱"
    assert item.deadline.isoformat() == deadline
    assert [p.work_no for p in item.people] == ["T1001", "T1002"]
    proposals = db.session.scalars(select(PointsProposal).order_by(PointsProposal.id)).all()
    assert [(p.person.work_no, p.rule_code, int(p.points), int(p.money)) for p in proposals] == [
        ("T1001", "R02", -1, 50), ("T1002", "R02", -1, 50)]
    assert all(p.evidence_kind == "checklist" and p.evidence_ref == f"ZJK-001:{today}:12"
               for p in proposals)
    photo = lobby.get(f"/checklist/photos/{item.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"  # stored re-encoded
    problem(lobby, today, people=["T1001"])  # saved again: proposed once
    assert db.session.scalar(select(func.count(PointsProposal.id))) == 2


def test_the_default_deadline_is_the_next_day(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    problem(lobby, today, number=1)
    item = db.session.scalar(select(ChecklistMark).where(ChecklistMark.number == 1))
    assert item.deadline == local_today() + timedelta(days=1)
    assert db.session.scalar(select(func.count(PointsProposal.id))) == 0  # no rule, no people


@pytest.mark.parametrize("upload, message", [
    (lambda: (io.BytesIO(b"%PDF-1.4 not a picture"), "photo.jpg"), "不是有效的图片"),
    (lambda: (picture("GIF"), "photo.png"), "只能上传 JPEG 或 PNG"),
    (lambda: (io.BytesIO(b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)), "big.jpg"), "不能超过 5 MB"),
])
def test_bad_photos_are_refused_by_content_and_nothing_is_saved(lobby, today, app, upload, message):
    lobby.get(f"/checklist/day/{today}")
    response = problem(lobby, today, photo=upload())
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert state(12) == "unchecked"
    folder = app.instance_path + "/checklist"
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_a_photo_of_a_refused_change_is_not_kept(lobby, today, app):
    lobby.get(f"/checklist/day/{today}")
    response = problem(lobby, today, people=["T2001"], photo=(picture(), "p.png"))
    assert response.status_code == 422 and "责任人须为本网点人员。" in response.get_data(as_text=True)
    folder = app.instance_path + "/checklist"
    assert not os.path.isdir(folder) or os.listdir(folder) == []
    assert state(12) == "unchecked"


def test_a_deadline_before_the_day_is_refused(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    response = problem(lobby, today, deadline=(local_today() - timedelta(days=1)).isoformat())
    assert response.status_code == 422 and "整改期限不能早于检查日期。" in response.get_data(as_text=True)


# --- sign-off and re-opening ------------------------------------------------------------------

def test_sign_off_only_when_all_twenty_are_checked_then_read_only(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    tick_all(lobby, today, but=(20,))
    lobby.post(f"/checklist/day/{today}/sign")
    assert not sheet_of().signed
    assert "还有 1 项未检查" in lobby.get(f"/checklist/day/{today}").get_data(as_text=True)
    mark(lobby, today, 20, "na")
    assert lobby.post(f"/checklist/day/{today}/sign").status_code == 303
    sheet = sheet_of()
    assert sheet.signed and sheet.signed_by_id == person("L0001").id
    page = lobby.get(f"/checklist/day/{today}").get_data(as_text=True)
    assert "已于" in page and 'value="pass"' not in page
    refused = mark(lobby, today, 3, "problem")
    assert refused.status_code == 422 and "已提交" in refused.get_data(as_text=True)
    assert state(3) == "pass"
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action == "checklist.signed")) == 1


def test_the_service_office_reopens_a_signed_sheet_with_a_reason(as_, today):
    lobby, office = as_("L0001"), as_("S0001")
    lobby.get(f"/checklist/day/{today}")
    tick_all(lobby, today)
    lobby.post(f"/checklist/day/{today}/sign")
    office.post(f"/checklist/day/{today}/reopen?outlet=ZJK-001", data={"reason": ""})
    assert sheet_of().signed
    response = office.post(f"/checklist/day/{today}/reopen?outlet=ZJK-001",
                           data={"reason": "第7项自助设备实际故障"})
    assert response.status_code == 303
    sheet = sheet_of()
    assert not sheet.signed and sheet.reopened == 1
    assert mark(lobby, today, 7, "na").status_code == 200
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checklist.reopened"))
    assert "第7项自助设备实际故障" in audit.details
    assert as_("M0001").post(f"/checklist/day/{today}/reopen", data={"reason": "x"}).status_code == 403


def test_a_past_day_can_be_looked_at_but_not_changed(lobby, app):
    yesterday = local_today() - timedelta(days=1)
    services.open_sheet(person("L0001").org_unit, yesterday, person("L0001"), utcnow())
    db.session.commit()
    page = lobby.get(f"/checklist/day/{yesterday.isoformat()}").get_data(as_text=True)
    assert "已检查 0/20" in page and 'value="pass"' not in page
    refused = mark(lobby, yesterday.isoformat(), 1)
    assert refused.status_code == 422 and "只能填写当天的清单" in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/checklist/day/2020-02-30", "/checklist/day/tomorrow",
                                  "/checklist/day/2020-01-01"])
def test_bad_or_missing_days_are_not_found(lobby, path):
    assert lobby.get(path).status_code == 404


def test_a_future_day_is_not_found(lobby):
    assert lobby.get(f"/checklist/day/{local_today() + timedelta(days=1)}").status_code == 404


# --- the problem ledger ---------------------------------------------------------------------

def test_the_ledger_lists_open_problems_oldest_first_and_marks_overdue(lobby, app):
    outlet, who = person("L0001").org_unit, person("L0001")
    old_day = local_today() - timedelta(days=5)
    old = services.open_sheet(outlet, old_day, who, utcnow())
    db.session.commit()
    item = services.mark_of(old, 4)
    item.state, item.note, item.deadline = "problem", "利率表过期", old_day + timedelta(days=1)
    db.session.commit()
    lobby.get(f"/checklist/day/{local_today()}")
    problem(lobby, local_today().isoformat(), number=6, note="意见簿缺失")
    page = lobby.get("/checklist/problems").get_data(as_text=True)
    assert page.index("利率表过期") < page.index("意见簿缺失")
    assert page.count('class="tag warn">已逾期') == 1


def test_rectifying_needs_a_note_and_records_who_and_when(lobby, today):
    lobby.get(f"/checklist/day/{today}")
    problem(lobby, today, number=6, note="意见簿缺失")
    item = db.session.scalar(select(ChecklistMark).where(ChecklistMark.number == 6))
    response = lobby.post(f"/checklist/problems/{item.id}/rectify", data={"note": ""})
    assert response.status_code == 400 and "请填写整改说明。" in response.get_data(as_text=True)
    response = lobby.post(f"/checklist/problems/{item.id}/rectify", data={"note": "已补放意见簿"})
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.get(ChecklistMark, item.id)
    assert item.rectified_at is not None and item.rectified_by_id == person("L0001").id
    assert "意见簿缺失" not in lobby.get("/checklist/problems").get_data(as_text=True)
    again = lobby.post(f"/checklist/problems/{item.id}/rectify", data={"note": "再次"})
    assert again.status_code == 400 and "已整改" in again.get_data(as_text=True)


# --- scope and roles ------------------------------------------------------------------------

def test_no_outlet_sees_or_changes_another_s_sheet(as_, today):
    lobby = as_("L0001")
    lobby.get(f"/checklist/day/{today}")
    problem(lobby, today, number=6, note="意见簿缺失", photo=(picture(), "p.png"))
    item = db.session.scalar(select(ChecklistMark).where(ChecklistMark.number == 6))
    other = as_("L0002")
    assert other.get(f"/checklist/day/{today}?outlet=ZJK-001").status_code == 404
    assert other.get(f"/checklist/photos/{item.id}").status_code == 404
    assert other.post(f"/checklist/problems/{item.id}/rectify", data={"note": "x"}).status_code == 404
    assert "意见簿缺失" not in other.get("/checklist/problems").get_data(as_text=True)
    office = as_("S0001")
    assert office.get(f"/checklist/day/{today}?outlet=ZJK-001").status_code == 200
    assert "意见簿缺失" in office.get("/checklist/problems").get_data(as_text=True)
    assert office.get("/checklist/problems?outlet=NOPE").status_code == 404
    assert office.post(f"/checklist/day/{today}/items/1?outlet=ZJK-001", data={"state": "pass"},
                       headers=HX).status_code == 403


def test_tellers_and_administrators_have_no_checklist(teller, admin, today):
    for client in (teller, admin):
        assert client.get("/checklist/").status_code == 403
        assert client.get(f"/checklist/day/{today}").status_code == 403
        assert client.get("/checklist/problems").status_code == 403


def test_the_home_panel_shows_progress_and_open_problems(lobby, today):
    page = lobby.get("/").get_data(as_text=True)
    assert "今日厅堂检查" in page and "已检查 0/20" in page
    lobby.get(f"/checklist/day/{today}")
    mark(lobby, today, 1)
    problem(lobby, today, number=2, note="标识缺失")
    page = lobby.get("/").get_data(as_text=True)
    assert "已检查 2/20" in page and "未整改问题 1 项" in page


def test_htmx_marks_need_the_csrf_token(app_factory):
    guarded = app_factory(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = sign_in_as(guarded.test_client(), "L0001")
        day = local_today().isoformat()
        page = client.get(f"/checklist/day/{day}").get_data(as_text=True)
        refused = client.post(f"/checklist/day/{day}/items/1", data={"state": "pass"}, headers=HX)
        assert refused.status_code == 400
        token = page.split('"X-CSRFToken": "')[1].split('"')[0]
        accepted = client.post(f"/checklist/day/{day}/items/1", data={"state": "pass"},
                               headers={**HX, "X-CSRFToken": token})
        assert accepted.status_code == 200


def test_the_sheet_runs_a_bounded_number_of_queries(lobby, today, count_queries):
    lobby.get(f"/checklist/day/{today}")
    with count_queries() as few:
        lobby.get(f"/checklist/day/{today}")
    for number in range(1, 21):
        problem(lobby, today, number=number, note=f"问题 {number}", people=["T1001", "T1002"])
    with count_queries() as more:
        assert lobby.get(f"/checklist/day/{today}").status_code == 200
    assert len(more) <= len(few) + 3, (len(few), len(more))
    with count_queries() as ledger:
        lobby.get("/checklist/problems")
    assert len(ledger) <= 12
