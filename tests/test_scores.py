"""The score pages: the office's ranking and forms, the outlet manager's own page, downloads,
conflicts, the history, and bounded queries."""
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text as sql
from sqlalchemy.exc import DatabaseError

from portal.blueprints.admin import services as admin_services
from portal.blueprints.scores import services
from portal.blueprints.scores.models import Inspection, ScoreEvent, ScoreSettings, SubbranchScore
from portal.extensions import db
from portal.models import AuditEvent, unit_by_code
from portal.periods import quarter_of

from .conftest import sign_in_as
from .scores_helpers import QUARTER, checks, complaint, management, middle_of

D = Decimal
Q = QUARTER.label
PREVIOUS = quarter_of(QUARTER.start - timedelta(days=1))


def page(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    """The page's text without tags and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(response)))


def row_text(response, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page(response), re.S)
    assert found, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[1])).strip()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def unit_id(code: str) -> int:
    return unit_by_code(code).id


# --- the ranking ------------------------------------------------------------------------------

def test_the_office_sees_outlets_ranked_by_score_with_unscored_ones_last(office):
    checks("ZJK-002", Q, 90, 80, 70)  # 82
    checks("ZJK-001", Q, None, None, None)  # recorded, nothing done: no score
    response = office.get(f"/scores/?quarter={Q}")
    assert response.status_code == 200
    body = page(response)
    assert body.index('id="outlet-ZJK-002"') < body.index('id="outlet-ZJK-001"')
    assert row_text(response, "outlet-ZJK-002").startswith("1 桥东网点 ZJK-002 90 80 70 0 0 82")
    assert row_text(response, "outlet-ZJK-001").startswith("— 营业部网点")
    assert "无得分" in row_text(response, "outlet-ZJK-001")
    # the sub-branch: the one outlet with a score is its average, no management score
    assert row_text(response, "subbranch-ZJK-YYB") == "1 营业部 ZJK-YYB 1 / 2 82 — 0 0 82"


def test_the_better_score_ranks_first(office):
    checks("ZJK-001", Q, 95, None, None)
    checks("ZJK-002", Q, 90, 80, 70)
    response = office.get(f"/scores/?quarter={Q}")
    body = page(response)
    assert body.index('id="outlet-ZJK-001"') < body.index('id="outlet-ZJK-002"')
    assert row_text(response, "outlet-ZJK-002").startswith("2 ")


def test_the_default_quarter_is_the_current_one(office):
    checks("ZJK-001", Q, 88)
    response = office.get("/scores/")
    assert response.status_code == 200
    assert f'<option value="{Q}" selected>' in page(response)
    assert row_text(response, "outlet-ZJK-001").startswith("1 营业部网点 ZJK-001 88")


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-10", "x" * 200, "1999Q1", "２０２６Q1"])
def test_a_malformed_quarter_answers_400_with_the_message_next_to_the_choice(office, quarter):
    response = office.get(f"/scores/?quarter={quarter}")
    assert response.status_code == 400
    assert 'id="score-quarter-error"' in page(response)
    assert office.get(f"/scores/?quarter={quarter}&format=xlsx").status_code == 400
    assert office.get(f"/scores/outlets/ZJK-001?quarter={quarter}").status_code == 400


def test_an_earlier_quarter_shows_its_own_scores(office):
    checks("ZJK-001", PREVIOUS.label, 70)
    checks("ZJK-001", Q, 90)
    response = office.get(f"/scores/?quarter={PREVIOUS.label}")
    assert row_text(response, "outlet-ZJK-001").startswith("1 营业部网点 ZJK-001 70")


# --- the complaint deduction ------------------------------------------------------------------

def test_the_deduction_counts_upheld_and_partly_upheld_complaints_of_the_quarter(office):
    checks("ZJK-001", Q, 90)
    start = datetime.combine(QUARTER.start, datetime.min.time())
    complaint("ZJK-001", start)  # 00:00 local on the first day: counts (2)
    complaint("ZJK-001", middle_of(QUARTER), "partly")  # counts (2)
    complaint("ZJK-001", middle_of(QUARTER), "partly", level="branch")  # counts (5)
    complaint("ZJK-001", middle_of(QUARTER), "upheld", level="media")  # counts (5)
    complaint("ZJK-001", start - timedelta(minutes=1))  # 23:59 the quarter before: not
    complaint("ZJK-001", middle_of(QUARTER), "not_upheld", level="media")  # not upheld: not
    complaint("ZJK-001", middle_of(QUARTER), None)  # not decided yet: not
    complaint("ZJK-002", middle_of(QUARTER))  # another outlet: not
    response = office.get(f"/scores/?quarter={Q}")
    assert row_text(response, "outlet-ZJK-001") == (
        "1 营业部网点 ZJK-001 90 — — 4 (其中分行/媒体 2) 14 76")
    assert row_text(response, "outlet-ZJK-002").startswith("— 桥东网点 ZJK-002 — — — 1 2 ")


def test_no_check_done_is_no_score_even_with_a_deduction(office):
    complaint("ZJK-001", middle_of(QUARTER))
    response = office.get(f"/scores/?quarter={Q}")
    assert "无得分" in row_text(response, "outlet-ZJK-001")


def test_the_office_changes_the_deduction_amounts_and_the_scores_follow(office):
    checks("ZJK-001", Q, 90)
    complaint("ZJK-001", middle_of(QUARTER))
    complaint("ZJK-001", middle_of(QUARTER), level="branch")
    assert "83" in row_text(office.get(f"/scores/?quarter={Q}"), "outlet-ZJK-001")  # 90 − 7
    form = office.get("/scores/settings")
    assert form.status_code == 200 and 'value="2"' in page(form) and 'value="5"' in page(form)
    response = office.post("/scores/settings", data={
        "per_complaint": "1.5", "per_escalated": "4", "version": "0"})
    assert response.status_code == 303
    assert row_text(office.get(f"/scores/?quarter={Q}"), "outlet-ZJK-001").endswith("5.5 84.5")
    assert services.deduction_settings().per_complaint == D("1.5")
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "scores.settings_changed")) == 1
    assert db.session.scalar(select(func.count()).where(ScoreEvent.kind == "settings")) == 1


@pytest.mark.parametrize("data, field", [
    ({"per_complaint": "", "per_escalated": "5"}, "per_complaint"),
    ({"per_complaint": "2", "per_escalated": "abc"}, "per_escalated"),
    ({"per_complaint": "-1", "per_escalated": "5"}, "per_complaint"),
    ({"per_complaint": "2", "per_escalated": "100.1"}, "per_escalated"),
])
def test_bad_deduction_amounts_are_refused_next_to_the_field(office, data, field):
    response = office.post("/scores/settings", data={**data, "version": "0"})
    assert response.status_code == 422
    assert f'id="{field}-error"' in page(response)
    assert count(ScoreSettings) == 0


def test_a_stale_settings_page_gets_409_and_changes_nothing(office):
    office.post("/scores/settings", data={"per_complaint": "3", "per_escalated": "6",
                                          "version": "0"})
    response = office.post("/scores/settings", data={"per_complaint": "1", "per_escalated": "2",
                                                     "version": "0"})
    assert response.status_code == 409
    assert services.deduction_settings().per_complaint == D(3)


# --- recording the check scores ---------------------------------------------------------------

def _record_data(**rows) -> dict:
    """Form data for /scores/record: code → (mystery, offsite, onsite, version)."""
    data = {}
    for code, (mystery, offsite, onsite, version) in rows.items():
        prefix = f"u{unit_id(code.replace('_', '-'))}"
        data.update({f"{prefix}-mystery": mystery, f"{prefix}-offsite": offsite,
                     f"{prefix}-onsite": onsite, f"{prefix}-version": version})
    return data


def test_the_office_records_a_quarter_for_all_its_outlets_in_one_form(office):
    form = office.get(f"/scores/record?quarter={Q}")
    assert form.status_code == 200
    assert f'name="u{unit_id("ZJK-001")}-mystery"' in page(form)
    assert f'name="u{unit_id("ZJK-002")}-onsite"' in page(form)
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("92.5", "", "88", "0"), ZJK_002=("", "", "", "0")))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/scores/?quarter={Q}")
    rows = db.session.scalars(select(Inspection)).all()
    assert [(r.outlet_id, r.quarter, r.mystery, r.offsite, r.onsite) for r in rows] == [
        (unit_id("ZJK-001"), Q, D("92.5"), None, D(88))]  # the empty row stored nothing
    event = db.session.scalars(select(ScoreEvent)).one()
    assert (event.kind, event.action, event.quarter) == ("inspection", "recorded", Q)
    assert '"mystery": "92.5"' in event.details
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "scores.inspection_recorded")).one()
    assert audit.actor.work_no == "S0001" and audit.org_unit_id == unit_id("ZJK-001")
    shown = office.get(f"/scores/record?quarter={Q}")
    assert 'value="92.5"' in page(shown) and 'value="88"' in page(shown)


def test_a_changed_score_replaces_the_stored_one_and_keeps_the_history(office):
    checks("ZJK-001", Q, 80, 80, 80)
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("80", "", "85", "1"), ZJK_002=("", "", "", "0")))
    assert response.status_code == 303
    row = db.session.scalars(select(Inspection)).one()
    assert (row.mystery, row.offsite, row.onsite, row.version) == (D(80), None, D(85), 2)
    assert db.session.scalar(select(func.count()).select_from(ScoreEvent)) == 2


def test_saving_an_unchanged_form_writes_nothing(office):
    checks("ZJK-001", Q, 80)
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("80", "", "", "1"), ZJK_002=("", "", "", "0")))
    assert response.status_code == 303
    assert db.session.scalars(select(Inspection)).one().version == 1
    assert count(ScoreEvent) == 1


@pytest.mark.parametrize("bad, message", [
    ("100.1", "请填写 0 到 100 之间的数"), ("-1", "请填写 0 到 100 之间的数"),
    ("八十", "请填写数字"), ("87.55", "最多 1 位小数")])
def test_a_bad_score_is_refused_next_to_its_cell_and_nothing_is_saved(office, bad, message):
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("90", "90", "90", "0"), ZJK_002=("80", bad, "", "0")))
    assert response.status_code == 422
    field = f"u{unit_id('ZJK-002')}-offsite"
    body = page(response)
    assert re.search(rf'id="{field}-error">[^<]*{message}', body)
    assert re.search(rf'aria-describedby="{field}-error"[^>]*aria-invalid="true"|'
                     rf'aria-invalid="true"[^>]*aria-describedby="{field}-error"', body)
    assert f'value="{bad}"' in body  # what was typed is kept
    assert 'value="90"' in body
    assert count(Inspection) == 0 and count(ScoreEvent) == 0  # not even the good row


def test_0_and_100_are_accepted(office):
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("0", "100", "100.0", "0"), ZJK_002=("", "", "", "0")))
    assert response.status_code == 303
    row = db.session.scalars(select(Inspection)).one()
    assert (row.mystery, row.offsite, row.onsite) == (D(0), D(100), D(100))


def test_a_row_changed_by_someone_else_meanwhile_gets_409_and_nothing_is_saved(office):
    checks("ZJK-001", Q, 80)  # version 1, while the page still shows version 0 (empty)
    response = office.post(f"/scores/record?quarter={Q}", data=_record_data(
        ZJK_001=("70", "", "", "0"), ZJK_002=("75", "", "", "0")))
    assert response.status_code == 409
    assert "刚被其他人修改" in page(response)
    assert 'value="80"' in page(response)  # the stored values are shown again
    assert db.session.scalars(select(Inspection)).one().mystery == D(80)
    assert count(Inspection) == 1  # ZJK-002's row was not written either


def test_rows_the_page_did_not_send_are_left_alone(office):
    checks("ZJK-002", Q, 80)
    data = _record_data(ZJK_001=("70", "", "", "0"))
    assert office.post(f"/scores/record?quarter={Q}", data=data).status_code == 303
    stored = {r.outlet_id: r.mystery for r in db.session.scalars(select(Inspection))}
    assert stored == {unit_id("ZJK-001"): D(70), unit_id("ZJK-002"): D(80)}


def test_scores_of_a_quarter_still_to_come_are_not_recorded(office):
    later = quarter_of(QUARTER.end + timedelta(days=1)).label
    assert office.get(f"/scores/record?quarter={later}").status_code == 400
    response = office.post(f"/scores/record?quarter={later}", data=_record_data(
        ZJK_001=("70", "", "", "0")))
    assert response.status_code == 400
    assert count(Inspection) == 0


def test_the_score_history_is_append_only(office):
    checks("ZJK-001", Q, 80)
    for statement in ("UPDATE score_event SET details = ''", "DELETE FROM score_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(sql(statement))
            db.session.flush()
        db.session.rollback()
    assert count(ScoreEvent) == 1


def test_the_database_refuses_a_score_over_100(app):
    with pytest.raises(DatabaseError):
        db.session.add(Inspection(outlet_id=unit_id("ZJK-001"), quarter=Q, mystery=D("100.5")))
        db.session.flush()
    db.session.rollback()


def test_recording_needs_the_page_s_csrf_token(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = sign_in_as(app.test_client(), "S0001")
        data = _record_data(ZJK_001=("70", "", "", "0"))
        assert client.post(f"/scores/record?quarter={Q}", data=data).status_code == 400
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          page(client.get(f"/scores/record?quarter={Q}")))[1]
        response = client.post(f"/scores/record?quarter={Q}", data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert count(Inspection) == 1


# --- the sub-branches -------------------------------------------------------------------------

def _subbranch_data(management_score, innovation, award, version="0") -> dict:
    prefix = f"u{unit_id('ZJK-YYB')}"
    return {f"{prefix}-management": management_score, f"{prefix}-innovation": innovation,
            f"{prefix}-award": award, f"{prefix}-version": version}


def test_the_office_records_a_subbranch_management_score_and_bonuses(office):
    checks("ZJK-001", Q, 80)
    checks("ZJK-002", Q, 90)
    assert office.get(f"/scores/subbranches?quarter={Q}").status_code == 200
    response = office.post(f"/scores/subbranches?quarter={Q}",
                           data=_subbranch_data("70", "2", ""))
    assert response.status_code == 303
    row = db.session.scalars(select(SubbranchScore)).one()
    assert (row.management, row.innovation, row.award) == (D(70), D(2), D(0))
    # 40 % × 85 + 60 % × 70 + 2 = 78
    assert row_text(office.get(f"/scores/?quarter={Q}"), "subbranch-ZJK-YYB") == (
        "1 营业部 ZJK-YYB 2 / 2 85 70 2 0 78")
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "scores.subbranch_recorded")) == 1


def test_a_subbranch_without_any_outlet_score_takes_its_management_score(office):
    management("ZJK-YYB", Q, 70, innovation=1)
    assert row_text(office.get(f"/scores/?quarter={Q}"), "subbranch-ZJK-YYB") == (
        "1 营业部 ZJK-YYB 0 / 2 — 70 1 0 71")


@pytest.mark.parametrize("values, field", [
    (("100.1", "", ""), "management"), (("-1", "", ""), "management"),
    (("80", "10.5", ""), "innovation"), (("80", "", "-0.5"), "award"),
    (("80", "", "x"), "award")])
def test_bad_subbranch_values_are_refused_next_to_the_field(office, values, field):
    response = office.post(f"/scores/subbranches?quarter={Q}", data=_subbranch_data(*values))
    assert response.status_code == 422
    assert f'id="u{unit_id("ZJK-YYB")}-{field}-error"' in page(response)
    assert count(SubbranchScore) == 0


def test_bonuses_of_10_are_accepted(office):
    response = office.post(f"/scores/subbranches?quarter={Q}",
                           data=_subbranch_data("", "10", "10"))
    assert response.status_code == 303
    assert db.session.scalars(select(SubbranchScore)).one().award == D(10)


def test_a_stale_subbranch_form_gets_409(office):
    management("ZJK-YYB", Q, 70)
    response = office.post(f"/scores/subbranches?quarter={Q}",
                           data=_subbranch_data("60", "", "", version="0"))
    assert response.status_code == 409
    assert db.session.scalars(select(SubbranchScore)).one().management == D(70)


# --- the outlet manager's own page ------------------------------------------------------------

def test_the_manager_is_sent_to_the_own_outlet_s_page(manager):
    response = manager.get(f"/scores/?quarter={Q}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/scores/outlets/ZJK-001?quarter={Q}")


def test_the_manager_sees_the_components_the_complaints_counted_and_the_rank(manager):
    checks("ZJK-001", Q, 90, None, 70)  # 80
    checks("ZJK-002", Q, 95, 95, 95)  # 95: ZJK-001 is second of two
    counted = complaint("ZJK-001", middle_of(QUARTER), level="branch")
    complaint("ZJK-002", middle_of(QUARTER))
    response = manager.get(f"/scores/outlets/ZJK-001?quarter={Q}")
    assert response.status_code == 200
    text = plain(response)
    assert "神秘人暗访 90 非现场监控检查 未检查 现场明查 70" in text
    assert "投诉扣分 5" in text and "季度得分 75" in text
    assert "第 2 名,共 2 个网点" in text
    assert counted.ticket in text and "分行及以上" in text
    # nothing of the other outlet: its name, scores or complaints
    assert "桥东" not in text and "95" not in text and "ZJK-002" not in text


def test_the_manager_never_opens_another_outlet_s_page(manager):
    checks("ZJK-002", Q, 95)
    for url in ("/scores/outlets/ZJK-002", "/scores/outlets/ZJK-002?format=xlsx",
                "/scores/outlets/ZJK-YYB", "/scores/outlets/NOPE"):
        assert manager.get(url).status_code == 404, url


def test_the_office_opens_any_outlet_of_its_subtree_but_not_other_units(office):
    assert office.get("/scores/outlets/ZJK-002").status_code == 200
    assert office.get("/scores/outlets/zjk-002").status_code == 200
    assert office.get("/scores/outlets/ZJK-YYB").status_code == 404
    assert office.get("/scores/outlets/" + "X" * 300).status_code == 404


@pytest.mark.parametrize("work_no", ["T1001", "L0001", "A0001"])
def test_tellers_lobby_managers_and_admins_get_403(app, work_no):
    client = sign_in_as(app.test_client(), work_no)
    for url in ("/scores/", "/scores/outlets/ZJK-001", "/scores/record", "/scores/settings"):
        assert client.get(url).status_code == 403, url


def test_the_nav_shows_the_entry_to_office_and_managers_only(office, manager, teller):
    assert "网点考核" in page(office.get("/"))
    assert "网点考核" in page(manager.get("/"))
    assert "网点考核" not in page(teller.get("/"))


# --- downloads --------------------------------------------------------------------------------

def _sheets(response) -> dict:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def test_the_ranking_downloads_as_xlsx(office):
    checks("ZJK-002", Q, 90, 80, 70)
    complaint("ZJK-002", middle_of(QUARTER))
    management("ZJK-YYB", Q, 70, award=1)
    sheets = _sheets(office.get(f"/scores/?quarter={Q}&format=xlsx"))
    ranking, subbranches = sheets["网点排名"], sheets["支行得分"]
    assert ranking[0][0] == "排名" and ranking[0][-1] == "得分"
    assert ranking[1] == [1, "ZJK-002", "桥东网点", 90, 80, 70, 1, 0, 2, 80]
    assert ranking[2][:3] == [None, "ZJK-001", "营业部网点"] and ranking[2][-1] is None
    assert subbranches[1] == [1, "ZJK-YYB", "营业部", 2, 1, 80, 70, 0, 1, 75]  # 32 + 42 + 1


def test_the_manager_downloads_the_own_outlet_s_page(manager):
    checks("ZJK-001", Q, 90)
    made = complaint("ZJK-001", middle_of(QUARTER), "partly")
    sheets = _sheets(manager.get(f"/scores/outlets/ZJK-001?quarter={Q}&format=xlsx"))
    assert sheets["得分"][1] == [1, "ZJK-001", "营业部网点", 90, None, None, 1, 0, 2, 88]
    assert sheets["计入的投诉"][1][0] == made.ticket
    assert sheets["计入的投诉"][1][2:] == ["部分属实", "网点", 2]


# --- bounded queries --------------------------------------------------------------------------

def _add_outlets(numbers) -> None:
    subbranch = unit_by_code("ZJK-YYB")
    for n in numbers:
        code = f"ZJK-9{n:02d}"
        admin_services.build_unit(code, f"测试网点{n}", "outlet", subbranch, 2)
        db.session.commit()
        checks(code, Q, 80 + n, None, 70)
        complaint(code, middle_of(QUARTER))
        complaint(code, middle_of(QUARTER), level="media")


def _queries(clients, count_queries) -> dict:
    found = {}
    for name, client, url in clients:
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        found[url] = len(statements)
    return found


def test_the_pages_take_the_same_queries_whatever_the_number_of_outlets_and_complaints(
        office, manager, count_queries):
    urls = [("office", office, f"/scores/?quarter={Q}"),
            ("office", office, f"/scores/?quarter={Q}&format=xlsx"),
            ("office", office, f"/scores/record?quarter={Q}"),
            ("office", office, f"/scores/subbranches?quarter={Q}"),
            ("office", office, f"/scores/outlets/ZJK-001?quarter={Q}"),
            ("manager", manager, f"/scores/outlets/ZJK-001?quarter={Q}")]
    _add_outlets(range(1))
    complaint("ZJK-001", middle_of(QUARTER))
    few = _queries(urls, count_queries)
    _add_outlets(range(1, 6))
    for _ in range(4):
        complaint("ZJK-001", middle_of(QUARTER), level="branch")
    assert _queries(urls, count_queries) == few
    assert max(few.values()) <= 12, few
