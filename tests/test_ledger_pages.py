"""The ledger pages: a person's ledger, the outlet overview and training, recording, confirming
and revoking entries, proposals from other features, the rule catalogue, the home panel, scope,
downloads and query bounds."""
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.blueprints.ledger import services
from portal.blueprints.ledger.models import LedgerEntry, LedgerRuleAmounts, Training
from portal.extensions import db
from portal.models import AuditEvent, Person
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import person, sign_in_as
from .honours_helpers import approved_star

D = Decimal
TODAY = local_today()


@pytest.fixture
def as_(app):
    """Signed-in clients by work number."""
    return lambda work_no: sign_in_as(app.test_client(), work_no)


def entry(work_no, code, day=TODAY, confirm=True, recorder=None, **extra) -> LedgerEntry:
    """An entry recorded (and by default confirmed) directly through the services."""
    made = services.record(person(work_no), code, day, utcnow(),
                           actor=person(recorder) if recorder else None, **extra)
    if confirm:
        services.confirm(made, None, utcnow())
    db.session.commit()
    return made


def proposal(work_no, code="R15", points=-1, money=100, days_ago=0, kind="rating_month",
             ref=None) -> PointsProposal:
    who = person(work_no)
    made = PointsProposal(person_id=who.id, org_unit_id=who.org_unit_id, rule_code=code,
                          points=D(points), money=D(money), reason=f"{code} 建议",
                          evidence_kind=kind, evidence_ref=ref or f"ref-{code}-{days_ago}",
                          created_at=utcnow() - timedelta(days=days_ago))
    db.session.add(made)
    db.session.commit()
    return made


def errors(response) -> list[str]:
    """The messages shown next to fields."""
    return re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)


def text(response) -> str:
    return response.get_data(as_text=True)


def rows(response, sheet=None) -> list[list]:
    book = load_workbook(io.BytesIO(response.data))
    return [list(r) for r in (book[sheet] if sheet else book.active).iter_rows(values_only=True)]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- a person's ledger -------------------------------------------------------------------------

def test_a_teller_sees_own_balance_entries_training_and_grade_cap(as_):
    entry("T1001", "R04", TODAY - timedelta(days=5), reason="使用禁语")
    entry("T1001", "R04", TODAY, reason="再次使用禁语")  # doubled: −2, ¥200
    entry("T1001", "A03", TODAY, reason="表扬信")
    entry("T1001", "R05", TODAY, confirm=False, reason="待确认的")
    services.record_training(person("T1001"), TODAY, "培训合格", None, utcnow())
    db.session.commit()
    page = text(as_("T1001").get(f"/ledger/people/T1001?year={TODAY.year}"))
    assert "王芳(T1001)" in page
    assert '<dd class="ledger-balance">11.0' in page  # 12 − 1 − 2 + 2; the proposed one left out
    assert "再次使用禁语" in page and "30天内重犯,加倍" in page and "表扬信" in page
    assert "使用服务禁语或禁用手势" in page and "待确认" in page and "已生效" in page
    assert "扣分 2 次,奖励 1 次" in page and "培训合格" in page
    assert "年终绩效等级上限" in page and "<dd>无</dd>" in page
    assert "entry_confirm" not in page and "/confirm" not in page  # nothing to decide for a teller


def test_evidence_links_where_the_viewer_may_follow_them(as_):
    entry("T1001", "R11b", TODAY, evidence=("complaint", "TS20260101-0001:response"))
    entry("T1001", "R02", TODAY, evidence=("checklist", f"ZJK-001:{TODAY.isoformat()}:3"))
    entry("T1001", "R15", TODAY, evidence=("rating_month", "2026-01"))
    entry("T1001", "R03", TODAY, evidence=("text", "检查组记录 12 号"))
    url = f"/ledger/people/T1001?year={TODAY.year}"
    teller, manager, office = (text(as_(n).get(url)) for n in ("T1001", "M0001", "S0001"))
    for page in (teller, manager, office):
        assert re.search(r'href="/complaints/\?[^"]*q=TS20260101-0001', page)
        assert "检查组记录 12 号" in page
    assert 'href="/ratings/mine"' in teller and "/checklist/day/" not in teller
    assert f'href="/checklist/day/{TODAY.isoformat()}#item-3"' in manager
    assert 'href="/ratings/outlet?month=2026-01"' in manager
    assert f"/checklist/day/{TODAY.isoformat()}?outlet=ZJK-001#item-3" in office
    assert "month=2026-01" in office and "outlet=ZJK-001" in office


def test_an_award_from_the_honours_board_links_to_its_nomination(as_):
    honour = approved_star("T1001", with_photo=False)
    award = db.session.get(LedgerEntry, honour.ledger_entry_id)
    url = f"/ledger/people/T1001?year={award.day.year}"
    teller, manager = (text(as_(n).get(url)) for n in ("T1001", "M0001"))
    assert f'href="/honours/nominations/{honour.id}"' in manager
    assert 'href="/honours/"' in teller and "/honours/nominations/" not in teller


@pytest.mark.parametrize("complaints, cap", [(0, "<dd>无</dd>"), (2, "不高于 B"), (3, "不高于 C")])
def test_the_grade_cap_follows_balance_and_upheld_complaints(as_, monkeypatch, complaints, cap):
    from portal.blueprints.complaints import services as complaint_services

    for code in ("R18", "R19", "R20"):
        entry("T1001", code, TODAY, points=-2)  # 6 points left
    monkeypatch.setattr(complaint_services, "upheld_counts",
                        lambda ids, period: {person("T1001").id: complaints})
    page = text(as_("M0001").get(f"/ledger/people/T1001?year={TODAY.year}"))
    assert '<dd class="ledger-balance">6.0' in page and cap in page
    row = re.search(r'<tr id="person-T1001">.*?</tr>', text(as_("M0001").get("/ledger/outlet")),
                    re.S)[0]
    assert f"<td>{cap[-1] if complaints else '—'}</td>" in row


def test_nav_leads_tellers_to_their_own_ledger(as_):
    teller = as_("T1001")
    assert 'href="/ledger/">我的积分' in text(teller.get("/"))
    response = teller.get("/ledger/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ledger/people/T1001")
    assert "我的积分" not in text(as_("S0001").get("/"))


@pytest.mark.parametrize("viewer, work_no, code", [
    ("T1001", "T1002", 404), ("T1001", "M0001", 404), ("L0001", "T1001", 404),
    ("M0002", "T1001", 404), ("M0002", "L0001", 404), ("M0001", "T2001", 404),
    ("M0001", "NOSUCH", 404), ("M0001", "X" * 300, 404), ("A0001", "T1001", 403),
    ("T1001", "T1001", 200), ("L0001", "L0001", 200), ("M0001", "T1001", 200),
    ("S0001", "T2001", 200), ("S0001", "M0001", 200),
])
def test_a_person_s_ledger_is_seen_only_inside_scope(as_, viewer, work_no, code):
    entry("T1001", "R04", TODAY, reason="机密事由")
    response = as_(viewer).get(f"/ledger/people/{work_no}")
    assert response.status_code == code
    if code != 200:
        assert "机密事由" not in text(response)
        assert as_(viewer).get(f"/ledger/people/{work_no}?format=xlsx").status_code == code


@pytest.mark.parametrize("year", ["abc", "1999", str(TODAY.year + 1), "20261", "２０２６"])
def test_a_bad_year_gets_a_message_next_to_the_year(as_, year):
    entry("T1001", "R04", TODAY, reason="不应显示")
    teller = as_("T1001")
    response = teller.get("/ledger/people/T1001", query_string={"year": year})
    assert response.status_code == 400
    assert errors(response) == ["请选择 2000 年至今年之间的年份。"]
    assert "不应显示" not in text(response)
    assert teller.get("/ledger/people/T1001", query_string={"year": year,
                                                            "format": "xlsx"}).status_code == 400


def test_a_past_year_shows_its_own_entries(as_):
    entry("T1001", "R04", TODAY.replace(year=TODAY.year - 1, day=1), reason="去年的")
    page = text(as_("T1001").get(f"/ledger/people/T1001?year={TODAY.year - 1}"))
    assert "去年的" in page and '<dd class="ledger-balance">11.0' in page
    assert "去年的" not in text(as_("T1001").get("/ledger/people/T1001"))


def test_the_person_ledger_downloads_as_xlsx(as_):
    entry("T1001", "R04", TODAY, reason="禁语", evidence=("complaint", "TS20260101-0002"))
    entry("T1001", "A01", TODAY, reason="服务明星")
    response = as_("M0001").get(f"/ledger/people/T1001?year={TODAY.year}&format=xlsx")
    assert response.status_code == 200
    assert f"T1001-{TODAY.year}.xlsx" in response.headers["Content-Disposition"]
    found = rows(response, "积分明细")
    assert found[0][:5] == ["日期", "条款", "条款内容", "分值", "金额(元)"]
    by_code = {row[1]: row for row in found[1:]}
    assert by_code["R04"][3] == -1 and by_code["R04"][4] == 100 and by_code["R04"][8] == "禁语"
    assert by_code["R04"][9] == "投诉 TS20260101-0002" and by_code["A01"][7] == "已生效"
    summary = rows(response, "汇总")
    assert summary[1][:5] == ["T1001", "王芳", "营业部网点", TODAY.year, 12.0]


def test_the_entries_are_paginated(as_, app):
    for n in range(app.config["PAGE_SIZE"] + 3):
        entry("T1001", "A02", TODAY, reason=f"建议{n:02d}")
    teller = as_("T1001")
    first = text(teller.get(f"/ledger/people/T1001?year={TODAY.year}"))
    assert "第 1 / 2 页" in first
    assert f'href="/ledger/people/T1001?year={TODAY.year}&amp;page=2"' in first
    second = teller.get(f"/ledger/people/T1001?year={TODAY.year}&page=2")
    assert second.status_code == 200 and "建议00" in text(second)


# --- recording an entry ------------------------------------------------------------------------

def new_entry(client, **changes):
    data = {"person": "T1001", "rule": "R08", "day": TODAY.isoformat(), "points": "",
            "money": "", "reason": "柜组无人接待引起抱怨", "evidence": "监控录像", **changes}
    return client.post("/ledger/new", data=data)


def test_a_manager_records_a_proposed_entry_with_the_rule_s_defaults(as_):
    manager = as_("M0001")
    form = text(manager.get("/ledger/new"))
    assert "R08 柜组无人接待等引起投诉或抱怨(−2.0 ~ −3.0, ¥200 ~ ¥300)" in form
    assert "T2001" not in form and "M0001 " not in form  # own outlet, not the manager
    response = new_entry(manager)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/ledger/people/T1001?year={TODAY.year}")
    made = db.session.scalar(select(LedgerEntry))
    assert (made.status, made.base_points, made.base_money) == ("proposed", D(-2), D(200))
    assert made.recorded_by_id == person("M0001").id and made.evidence_ref == "监控录像"
    assert services.balance(person("T1001"), TODAY.year) == D(12)  # not yet confirmed


def test_the_recorder_picks_inside_the_range_and_ticks_management_responsibility(as_):
    response = new_entry(as_("M0001"), points="-3", money="300", responsibility="y")
    assert response.status_code == 303
    made = db.session.scalar(select(LedgerEntry))
    assert (made.base_points, made.base_money, made.responsibility) == (D(-3), D(300), True)


@pytest.mark.parametrize("changes, field_message", [
    ({"points": "-4"}, "R08 的分值应在 -3 到 -2 之间。"),
    ({"points": "2"}, "R08 的分值应在 -3 到 -2 之间。"),
    ({"money": "900"}, "R08 的金额应在 200 到 300 元之间。"),
    ({"points": "abc"}, "请填写数字,如 -2 或 1.5。"),
    ({"points": "NaN"}, "请填写数字,如 -2 或 1.5。"),
    ({"points": "-Infinity"}, "请填写数字,如 -2 或 1.5。"),
    ({"points": "-2.25"}, "最多 1 位小数。"),
    ({"points": "-1e9"}, "请填写 -99.9 到 99.9 之间的数。"),
    ({"money": "-5"}, "请填写 0 到 99999.99 之间的数。"),
    ({"reason": "  "}, "请填写事由。"),
    ({"day": ""}, "请填写发生日期。"),
    ({"day": "2026-02-30"}, "请按 YYYY-MM-DD 填写日期。"),
    ({"day": (TODAY + timedelta(days=1)).isoformat()}, "日期不能晚于今天。"),
    ({"day": TODAY.replace(year=TODAY.year - 2).isoformat()}, "只能记录今年或去年的事项。"),
    ({"person": "T2001"}, "请从列表中选择。"),
    ({"person": ""}, "请选择人员。"),
    ({"rule": "MGR"}, "请从列表中选择。"),
    ({"rule": "M01"}, "该条款只适用于网点负责人。"),
    ({"evidence": "x" * 81}, "不能超过 80 字。"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(as_, changes, field_message):
    response = new_entry(as_("M0001"), **changes)
    assert response.status_code == 400
    assert field_message in errors(response)
    assert count(LedgerEntry) == 0
    for name, value in changes.items():
        if name not in ("person", "rule", "evidence") and value.strip():
            assert f'value="{value}"' in text(response) or value in text(response)  # kept


def test_the_recorder_sets_r21_within_sign_and_the_office_records_anywhere_in_its_subtree(as_):
    office = as_("S0001")
    response = new_entry(office, person="T2001", rule="R21", points="-4", money="150")
    assert response.status_code == 303
    made = db.session.scalar(select(LedgerEntry))
    assert (made.person.work_no, made.base_points, made.base_money) == ("T2001", D(-4), D(150))
    response = new_entry(office, person="T2001", rule="R21", points="3")
    assert response.status_code == 400 and "扣分须为负数,罚款不能为负。" in errors(response)
    assert new_entry(office, person="M0002", rule="M01").status_code == 303


def test_recording_is_for_managers_and_the_office(as_):
    for who in ("T1001", "L0001", "A0001"):
        assert new_entry(as_(who)).status_code == 403
    assert count(LedgerEntry) == 0


# --- confirming and revoking -------------------------------------------------------------------

def confirm(client, made, version=None):
    db.session.refresh(made)
    return client.post(f"/ledger/entries/{made.id}/confirm",
                       data={f"confirm-{made.id}-version": version or str(made.version)})


def revoke(client, made, reason="录入错误", version=None):
    db.session.refresh(made)
    prefix = f"revoke-{made.id}"
    return client.post(f"/ledger/entries/{made.id}/revoke",
                       data={f"{prefix}-version": version or str(made.version),
                             f"{prefix}-reason": reason})


def test_the_outlet_manager_confirms_and_a_repeat_is_doubled_with_the_manager_charged(as_):
    entry("T1001", "R04", TODAY - timedelta(days=3))
    made = entry("T1001", "R04", TODAY, confirm=False, responsibility=True)
    manager = as_("M0001")
    page = text(manager.get(f"/ledger/people/T1001?year={TODAY.year}"))
    assert f'action="/ledger/entries/{made.id}/confirm"' in page
    response = confirm(manager, made)
    assert response.status_code == 303
    db.session.refresh(made)
    assert (made.status, made.doubled) == ("confirmed", True)
    assert (made.points, made.money) == (D(-2), D(200))
    assert made.confirmed_by_id == person("M0001").id
    charge = db.session.scalar(select(LedgerEntry).where(LedgerEntry.parent_id == made.id))
    assert (charge.person.work_no, charge.points) == ("M0001", D(-2))
    assert "已确认,记录已生效。" in text(manager.get(response.headers["Location"]))


def test_nobody_confirms_an_entry_about_themselves(as_):
    own = entry("M0001", "R04", TODAY, confirm=False, recorder="S0001")
    manager = as_("M0001")
    assert f"/ledger/entries/{own.id}/confirm" not in text(manager.get("/ledger/people/M0001"))
    assert confirm(manager, own).status_code == 403
    db.session.refresh(own)
    assert own.status == "proposed"
    assert confirm(as_("S0001"), own).status_code == 303


@pytest.mark.parametrize("who, code", [("T1001", 403), ("L0001", 403), ("A0001", 403),
                                       ("M0002", 404)])
def test_only_the_outlet_manager_and_the_office_confirm(as_, who, code):
    made = entry("T1001", "R04", TODAY, confirm=False)
    assert confirm(as_(who), made).status_code == code
    db.session.refresh(made)
    assert made.status == "proposed"


def test_an_action_on_an_old_page_gets_a_clear_conflict(as_):
    made = entry("T1001", "R04", TODAY, confirm=False)
    old = str(made.version)
    assert confirm(as_("S0001"), made).status_code == 303
    response = revoke(as_("S0001"), made, version=old)
    assert response.status_code == 409
    assert "该记录刚被其他人修改,请刷新页面后重试。" in text(response)
    response = confirm(as_("M0001"), made, version=old)
    assert response.status_code == 409
    db.session.refresh(made)
    assert made.status == "confirmed" and made.version == int(old) + 1


def test_the_office_revokes_with_a_reason_and_the_manager_charge_goes_with_it(as_):
    made = entry("T1001", "R04", TODAY)
    office = as_("S0001")
    response = revoke(office, made, reason="  ")
    assert response.status_code == 400 and "请填写撤销原因。" in errors(response)
    assert "<details open>" in text(response)
    db.session.refresh(made)
    assert made.status == "confirmed"
    assert revoke(as_("M0001"), made).status_code == 403
    assert revoke(office, made, reason="核实后不属实").status_code == 303
    db.session.refresh(made)
    assert (made.status, made.revoke_reason) == ("revoked", "核实后不属实")
    assert count(LedgerEntry, LedgerEntry.parent_id == made.id,
                 LedgerEntry.status != "revoked") == 0
    assert services.balance(person("T1001"), TODAY.year) == D(12)
    page = text(office.get(f"/ledger/people/T1001?year={TODAY.year}"))
    assert "撤销原因:核实后不属实" in page and "已撤销" in page
    assert revoke(office, made).status_code == 403  # nothing left to revoke


def test_a_missing_entry_is_not_found(as_):
    assert as_("S0001").post("/ledger/entries/999999/confirm", data={}).status_code == 404


# --- the outlet overview and training ----------------------------------------------------------

def test_the_outlet_shows_each_person_s_balance_counts_warning_and_cap(as_):
    for n in range(3):
        entry("T1002", "R03", TODAY - timedelta(days=n))  # three within 30 days: warning
    entry("T1003", "A03", TODAY)
    entry("T1003", "R05", TODAY, confirm=False)
    page = text(as_("M0001").get("/ledger/outlet"))
    assert "营业部网点(ZJK-001)" in page and "T2001" not in page
    t1002 = re.search(r'<tr id="person-T1002">.*?</tr>', page, re.S)[0]
    t1003 = re.search(r'<tr id="person-T1003">.*?</tr>', page, re.S)[0]
    t1001 = re.search(r'<tr id="person-T1001">.*?</tr>', page, re.S)[0]
    assert "戒勉中" in t1002 and "<td class=\"num\">3</td>" in t1002
    assert "14.0" in t1003 and "正常" in t1003
    assert re.findall(r'<td class="num">(\d+)</td>', t1003)[:3] == ["0", "1", "1"]
    assert "12.0" in t1001 and "正常" in t1001
    assert "记录培训合格" in page and '<option value="T1002">' in page
    assert '<option value="T1001">' not in page  # only people in warning


@pytest.mark.parametrize("who, url, code", [
    ("M0002", "/ledger/outlet?outlet=ZJK-001", 404),
    ("M0001", "/ledger/outlet?outlet=ZJK-002", 404),
    ("S0001", "/ledger/outlet?outlet=NOPE", 404), ("T1001", "/ledger/outlet", 403),
    ("L0001", "/ledger/outlet", 403), ("A0001", "/ledger/outlet", 403),
    ("M0001", "/ledger/outlet?outlet=ZJK-001", 200),
])
def test_the_outlet_overview_stays_in_scope(as_, who, url, code):
    assert as_(who).get(url).status_code == code


def test_the_office_picks_an_outlet_in_its_subtree(as_):
    entry("T2001", "A01", TODAY)
    page = text(as_("S0001").get("/ledger/outlet?outlet=ZJK-002"))
    assert "桥东网点(ZJK-002)" in page and "T2001" in page and "T1001" not in page
    assert "13.0" in page and "记录培训合格" not in page  # training is the manager's


def test_the_outlet_overview_downloads_as_xlsx(as_):
    entry("T1002", "R04", TODAY)
    response = as_("S0001").get(f"/ledger/outlet?outlet=ZJK-001&year={TODAY.year}&format=xlsx")
    assert response.status_code == 200
    assert f"ZJK-001-{TODAY.year}.xlsx" in response.headers["Content-Disposition"]
    found = rows(response)
    assert found[0][:4] == ["工号", "姓名", "岗位", "积分余额"]
    by_no = {row[0]: row for row in found[1:]}
    assert by_no["T1002"][3] == 11.0 and by_no["T1002"][4] == 1 and by_no["T1002"][8] == "否"
    assert by_no["M0001"][3] == 11.5 and "T2001" not in by_no  # the half manager charge


def train(client, **changes):
    data = {"person": "T1002", "passed_on": TODAY.isoformat(), "note": "培训合格", **changes}
    return client.post("/ledger/outlet/training", data=data)


def test_the_manager_records_training_which_ends_the_warning(as_):
    for n in range(3):
        entry("T1002", "R03", TODAY - timedelta(days=n))
    manager = as_("M0001")
    response = train(manager)
    assert response.status_code == 303
    assert not services.in_warning(person("T1002"), TODAY)
    assert count(Training) == 1
    page = text(manager.get(response.headers["Location"]))
    assert "已记录 李娜 培训合格。" in page and "记录培训合格" not in page


@pytest.mark.parametrize("changes, message", [
    ({"person": "T1001"}, "请从列表中选择。"), ({"person": ""}, "请选择人员。"),
    ({"passed_on": (TODAY + timedelta(days=1)).isoformat()}, "日期不能晚于今天。"),
    ({"passed_on": "昨天"}, "请按 YYYY-MM-DD 填写日期。"),
])
def test_bad_training_input_is_refused_next_to_the_field(as_, changes, message):
    for n in range(3):
        entry("T1002", "R03", TODAY - timedelta(days=n))
    response = train(as_("M0001"), **changes)
    assert response.status_code == 400 and message in errors(response)
    assert count(Training) == 0


def test_training_is_the_manager_s_and_only_for_people_in_warning(as_):
    assert train(as_("S0001")).status_code == 403
    response = train(as_("M0001"))  # nobody in warning
    assert response.status_code == 303 and count(Training) == 0


# --- proposals from other features --------------------------------------------------------------

def decide(client, item, action, **data):
    prefix = f"{action}-{item.id}"
    return client.post(f"/ledger/proposals/{item.id}/{action}",
                       data={f"{prefix}-{k}": v for k, v in data.items()})


def test_proposals_wait_oldest_first_in_scope(as_):
    newer = proposal("T1001", days_ago=1)
    older = proposal("T1002", days_ago=3)
    other = proposal("T2001", days_ago=2)
    proposal("T1003", days_ago=4).status = "dismissed"
    db.session.commit()
    page = text(as_("M0001").get("/ledger/proposals"))
    assert page.index(f'id="proposal-{older.id}"') < page.index(f'id="proposal-{newer.id}"')
    assert f'id="proposal-{other.id}"' not in page and "T1003" not in page
    office = text(as_("S0001").get("/ledger/proposals"))
    assert all(f'id="proposal-{p.id}"' in office for p in (newer, older, other))


def test_confirming_a_proposal_makes_a_confirmed_entry_doubled_after_an_earlier_one(as_):
    entry("T1001", "R15", TODAY - timedelta(days=10), evidence=("rating_month", "earlier"))
    waiting = proposal("T1001", "R15", days_ago=0, ref="2026-05")
    manager = as_("M0001")
    response = decide(manager, waiting, "confirm")
    assert response.status_code == 303
    made = db.session.scalar(select(LedgerEntry).where(LedgerEntry.evidence_ref == "2026-05"))
    assert (made.status, made.doubled) == ("confirmed", True)
    assert (made.points, made.money) == (D(-2), D(200))
    assert (made.base_points, made.evidence_kind, made.day) == (D(-1), "rating_month", TODAY)
    assert made.reason == "R15 建议" and made.confirmed_by_id == person("M0001").id
    db.session.refresh(waiting)
    assert (waiting.status, waiting.decided_by_id) == ("confirmed", person("M0001").id)
    assert waiting.decided_at is not None
    assert "已确认,计入 王芳 的积分台账(−2.0 分)。" in text(manager.get("/ledger/proposals"))
    assert decide(manager, waiting, "confirm").status_code == 400  # decided already
    assert count(LedgerEntry, LedgerEntry.evidence_ref == "2026-05") == 1


def test_a_proposal_outside_the_rule_s_present_range_stays_with_a_clear_message(as_):
    waiting = proposal("T1001", "R19", points=-5, money=500, kind="complaint",
                       ref="TS20260101-0003")
    office = as_("S0001")
    response = office.post("/ledger/rules/R19", data={
        "points_low": "-4", "points_high": "-2", "money_low": "200", "money_high": "400"})
    assert response.status_code == 303
    response = decide(as_("M0001"), waiting, "confirm")
    assert response.status_code == 400
    assert "无法确认:R19 的分值应在 -4.0 到 -2.0 之间。" in text(response)
    db.session.refresh(waiting)
    assert waiting.status == "proposed" and count(LedgerEntry) == 0


def test_dismissing_needs_a_note(as_):
    waiting = proposal("T1001")
    manager = as_("M0001")
    response = decide(manager, waiting, "dismiss", note=" ")
    assert response.status_code == 400 and "请填写驳回理由。" in errors(response)
    db.session.refresh(waiting)
    assert waiting.status == "proposed"
    assert decide(manager, waiting, "dismiss", note="当月系统故障").status_code == 303
    db.session.refresh(waiting)
    assert (waiting.status, waiting.decision_note) == ("dismissed", "当月系统故障")
    assert count(LedgerEntry) == 0
    assert count(AuditEvent, AuditEvent.action == "proposal.dismissed") == 1


def test_proposals_about_oneself_or_outside_scope_are_not_one_s_to_decide(as_):
    own = proposal("M0001", "R11b", points=-2, money=200, kind="complaint", ref="TS20260101-0004")
    other = proposal("T2001")
    manager = as_("M0001")
    page = text(manager.get("/ledger/proposals"))
    assert "这是关于您本人的建议,须由文优办确认或驳回。" in page
    assert decide(manager, own, "confirm").status_code == 403
    assert decide(manager, other, "confirm").status_code == 404
    assert decide(manager, other, "dismiss", note="x").status_code == 404
    assert decide(as_("T1001"), other, "confirm").status_code == 403
    assert decide(as_("S0001"), own, "confirm").status_code == 303


def test_proposals_are_paginated_and_download_as_xlsx(as_, app):
    for n in range(app.config["PAGE_SIZE"] + 2):
        proposal("T1001", ref=f"2025-{n:02d}", days_ago=n)
    manager = as_("M0001")
    assert "第 1 / 2 页" in text(manager.get("/ledger/proposals"))
    assert manager.get("/ledger/proposals?page=2").status_code == 200
    found = rows(manager.get("/ledger/proposals?format=xlsx"))
    assert found[0][:3] == ["提出日期", "网点", "工号"] and len(found) == app.config["PAGE_SIZE"] + 3
    assert found[1][8] == f"星级评价月份 2025-{app.config['PAGE_SIZE'] + 1:02d}"  # oldest first


# --- the rule catalogue ------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["T1001", "L0001", "M0001", "S0001", "A0001"])
def test_everyone_with_a_role_reads_the_catalogue(as_, who):
    page = text(as_(who).get("/ledger/rules"))
    assert "R19c" in page and "被新闻媒体曝光" in page and "−5.0 ~ −10.0" in page
    assert ("/ledger/rules/R08" in page) is (who == "S0001")


def test_the_office_changes_a_rule_s_amounts_and_new_entries_follow(as_):
    office = as_("S0001")
    form = text(office.get("/ledger/rules/R16"))
    assert 'value="-1.0"' in form or 'value="-1"' in form
    response = office.post("/ledger/rules/R16", data={
        "points_low": "-2", "points_high": "-2", "money_low": "80", "money_high": "80"})
    assert response.status_code == 303
    row = db.session.get(LedgerRuleAmounts, "R16")
    assert (row.points_low, row.money_high, row.changed_by_id) == (D(-2), D(80), person("S0001").id)
    assert count(AuditEvent, AuditEvent.action == "ledger.rule_amounts") == 1
    assert "<td>−2.0</td><td>¥80</td>" in text(office.get("/ledger/rules"))
    assert new_entry(as_("M0001"), rule="R16").status_code == 303
    assert db.session.scalar(select(LedgerEntry.base_points)) == D(-2)


@pytest.mark.parametrize("code, data, field, message", [
    ("R08", {"points_low": "2"}, "points_low", "扣分条款的分值须为负数。"),
    ("R08", {"points_high": "0"}, "points_high", "扣分条款的分值须为负数。"),
    ("A06", {"points_low": "-1"}, "points_low", "奖励条款的分值须为正数。"),
    ("R08", {"points_low": "-2", "points_high": "-3"}, "points_high", "上限不能小于下限。"),
    ("R08", {"money_low": "300", "money_high": "200"}, "money_high", "上限不能小于下限。"),
    ("R08", {"money_low": "-1"}, "money_low", "请填写 0 到 99999.99 之间的数。"),
    ("R08", {"points_low": ""}, "points_low", "请填写分值。"),
    ("R08", {"points_low": "abc"}, "points_low", "请填写数字,如 -2 或 1.5。"),
    ("R08", {"points_low": "2", "points_high": "x"}, "points_low", "扣分条款的分值须为负数。"),
])
def test_amounts_keep_the_rule_s_sign_and_order(as_, code, data, field, message):
    base = {"points_low": "-3", "points_high": "-2", "money_low": "200", "money_high": "300"}
    if code == "A06":
        base = {"points_low": "1", "points_high": "3", "money_low": "50", "money_high": "300"}
    response = as_("S0001").post(f"/ledger/rules/{code}", data={**base, **data})
    assert response.status_code == 400
    page = text(response)
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page)
    assert db.session.get(LedgerRuleAmounts, code) is None


def test_rule_amounts_are_the_office_s_and_r21_is_set_by_the_recorder(as_):
    assert as_("M0001").get("/ledger/rules/R08").status_code == 403
    assert as_("S0001").get("/ledger/rules/R21").status_code == 404
    assert as_("S0001").get("/ledger/rules/NOPE").status_code == 404
    assert as_("S0001").get("/ledger/rules/MGR").status_code == 404


def test_the_catalogue_downloads_as_xlsx(as_):
    found = rows(as_("T1001").get("/ledger/rules?format=xlsx"))
    assert found[0][:3] == ["条款", "类别", "内容"]
    by_code = {row[0]: row for row in found[1:]}
    assert by_code["R07"][1] == "扣分" and by_code["R07"][7] == "−1.0, ¥100"
    assert by_code["R08"][3:7] == [-3, -2, 200, 300]
    assert by_code["R21"][3:7] == [None] * 4 and by_code["A06"][3:7] == [1, 3, 50, 300]


# --- the home panel ----------------------------------------------------------------------------

def test_the_home_panel_shows_my_points_and_for_managers_what_waits(as_):
    for n, code in enumerate(("R03", "R05", "R06")):
        entry("T1001", code, TODAY - timedelta(days=n))
    proposal("T1002")
    teller = text(as_("T1001").get("/"))
    assert "我的积分" in teller and '<dd class="ledger-balance">9.0' in teller
    assert "戒勉中,须参加下岗培训" in teller and "待确认的积分建议" not in teller
    manager = text(as_("M0001").get("/"))
    assert "待确认的积分建议" in manager and "1 条" in manager


# --- CSRF and query bounds ---------------------------------------------------------------------

def test_confirming_needs_the_page_s_csrf_token(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        made = entry("T1001", "R04", TODAY, confirm=False)
        client = sign_in_as(app.test_client(), "M0001")
        url = f"/ledger/entries/{made.id}/confirm"
        assert client.post(url, data={f"confirm-{made.id}-version": "1"}).status_code == 400
        page = text(client.get("/ledger/people/T1001"))
        token = re.search(rf'name="confirm-{made.id}-csrf_token" type="hidden" value="([^"]+)"',
                          page)[1]
        response = client.post(url, data={f"confirm-{made.id}-version": "1",
                                          f"confirm-{made.id}-csrf_token": token})
        assert response.status_code == 303
        db.session.refresh(made)
        assert made.status == "confirmed"


def _more_people(n: int, start: int = 0) -> None:
    outlet = person("T1001").org_unit
    for k in range(start, start + n):
        db.session.add(Person(work_no=f"T9{k:03d}", name=f"新人{k}", role="teller",
                              org_unit_id=outlet.id, joined_on=TODAY, password_hash="x"))
    db.session.commit()


def _shape(rounds: range) -> None:
    """Ledger data of one shape, once per round: more people, some in warning by three
    deductions, pending entries, awards and proposals."""
    for k in rounds:
        _more_people(3, start=3 * k)
        for work_no in ("T1001", "T1002", f"T9{3 * k:03d}"):
            for n, code in enumerate(("R03", "R05", "R06")):
                entry(work_no, code, TODAY - timedelta(days=n), reason=f"{work_no}-{k}-{n}")
            entry(work_no, "A02", TODAY, confirm=False)
            entry(work_no, "A03", TODAY, reason=f"表扬{k}")
        proposal("T1003", ref=f"shape-{k}", days_ago=k)


URLS = ["/ledger/people/T1001", f"/ledger/people/T1001?year={TODAY.year}&format=xlsx",
        "/ledger/outlet", "/ledger/outlet?format=xlsx", "/ledger/proposals"]


def _queries(client, count_queries) -> dict[str, int]:
    found = {}
    for url in URLS:
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        found[url] = len(statements)
    return found


def test_the_pages_take_the_same_queries_whatever_the_data(as_, count_queries):
    manager = as_("M0001")
    entry("T1006", "R21", TODAY, points=-12, money=0)  # a balance down to zero
    services.record_training(person("T1002"), TODAY, "", None, utcnow())
    _shape(range(1))
    few = _queries(manager, count_queries)
    _shape(range(1, 8))
    assert _queries(manager, count_queries) == few
    with count_queries() as statements:
        assert as_("S0001").get("/ledger/outlet?outlet=ZJK-001").status_code == 200
    assert len(statements) <= few["/ledger/outlet"] + 2  # the office also lists its outlets


def test_the_set_based_helpers_agree_with_the_one_person_rules(app):
    """warnings() and balances() give for a whole outlet what in_warning() and balance() give
    one person at a time."""
    for n, code in enumerate(("R03", "R05", "R06")):  # T1001: three within 30 days
        entry("T1001", code, TODAY - timedelta(days=n))
        entry("T1002", code, TODAY - timedelta(days=n))  # T1002: the same, trained after
    entry("T1003", "R21", TODAY - timedelta(days=5), points=-12, money=0)  # down to zero
    entry("T1004", "R21", TODAY - timedelta(days=5), points=-12, money=0)  # …trained after
    entry("T1005", "R21", TODAY - timedelta(days=3), points=-12, money=0)  # trained before
    for work_no, day in (("T1002", TODAY), ("T1004", TODAY - timedelta(days=2)),
                         ("T1005", TODAY - timedelta(days=10))):
        services.record_training(person(work_no), day, "", None, utcnow())
    db.session.commit()
    people = [person(f"T100{n}") for n in range(1, 7)] + [person("M0001")]
    ids = [p.id for p in people]
    expected = {p.id for p in people if services.in_warning(p, TODAY)}
    assert services.warnings(ids, TODAY) == expected
    in_warning = ("T1001", "T1003", "T1005", "M0001")  # the manager by the charges
    assert expected == {person(n).id for n in in_warning}
    assert services.balances(ids, TODAY.year) == {
        p.id: services.balance(p, TODAY.year) for p in people}
    assert services.warnings([], TODAY) == set() and services.balances([], TODAY.year) == {}
