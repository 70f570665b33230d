"""The service office's checklist template: editing texts and order into new versions, the
checks next to each row, earlier versions, and sheets keeping the version they were opened on."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.blueprints.checklist import services
from portal.blueprints.checklist.models import ChecklistTemplate
from portal.extensions import db
from portal.models import AuditEvent, unit_by_code
from portal.timeutil import local_today, utcnow

from .conftest import ROLE_ACCOUNTS, person, sign_in_as

URL = "/checklist/template"


def versions() -> int:
    return db.session.scalar(select(func.count(ChecklistTemplate.id)))


def form_data(template=None, **changes) -> dict:
    """The editor's form as it is shown for ``template`` (default: the one in force)."""
    template = template or services.current_template()
    data = {"base": str(template.version), "note": "调整第 12、14 项顺序"}
    for index, item in enumerate(template.items):
        data.update({f"rows-{index}-order": str(item.number),
                     f"rows-{index}-category": item.category,
                     f"rows-{index}-text": item.text, f"rows-{index}-rule": item.rule_code})
    data.update(changes)
    return data


def row_error(page: str, number: int) -> str:
    """The message shown under row ``number`` of the editor ('' when there is none)."""
    found = re.search(rf'<p class="error" id="row-{number}-error">(.*?)</p>', page, re.S)
    return found[1] if found else ""


# --- a new version -----------------------------------------------------------------------------

def test_the_office_sees_the_version_in_force_as_a_form_of_twenty_rows(office):
    page = office.get(URL).get_data(as_text=True)
    assert "现行版本:第 1 版" in page
    assert page.count('name="rows-') == 20 * 4 and 'name="rows-20-' not in page
    assert 'value="营业厅地面、墙面、玻璃整洁,无杂物、无异味"' in page
    assert '<option selected value="R02">' in page  # item 12's deduction rule
    assert '<label class="sr-only" for="rows-11-order">第 12 项 顺序</label>' in page


def test_the_office_edits_a_text_and_swaps_two_items_into_version_two(office):
    old = [(i.category, i.text, i.rule_code) for i in services.current_template().items]
    response = office.post(URL, data=form_data(**{
        "rows-2-text": "  宣传折页、海报内容合规  ", "rows-11-order": "14", "rows-13-order": "12"}))
    assert response.status_code == 303 and response.headers["Location"] == URL
    db.session.expire_all()
    new = services.current_template()
    assert new.version == 2 and new.note == "调整第 12、14 项顺序"
    assert new.created_by.work_no == "S0001"
    rows = [(i.category, i.text, i.rule_code) for i in new.items]
    assert [i.number for i in new.items] == list(range(1, 21))
    assert rows[2] == ("宣传物品", "宣传折页、海报内容合规", "")  # trimmed
    assert rows[11] == old[13] and rows[13] == old[11]  # 12 and 14 swapped, with their rules
    untouched = [n for n in range(20) if n not in (2, 11, 13)]
    assert [rows[n] for n in untouched] == [old[n] for n in untouched]
    page = office.get(URL).get_data(as_text=True)
    assert "已保存为第 2 版清单模板" in page and "现行版本:第 2 版" in page


def test_a_whole_new_order_and_new_rules_are_saved_as_typed(office):
    data = form_data()
    for index in range(20):
        data[f"rows-{index}-order"] = str(20 - index)  # reverse everything
    data["rows-0-rule"] = "R07"
    data["rows-0-category"] = "环境"
    assert office.post(URL, data=data).status_code == 303
    db.session.expire_all()
    new = services.current_template()
    assert new.items[19].category == "环境" and new.items[19].rule_code == "R07"
    assert new.items[0].text == "首问负责制、投诉处理流程及应急预案公示在位"


def test_a_note_of_what_changed_is_required(office):
    response = office.post(URL, data=form_data(note="   ", **{"rows-0-text": "新文字"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请写明本次修改了什么。" in page
    assert 'value="新文字"' in page  # what was typed is kept
    assert versions() == 1


@pytest.mark.parametrize("field, value, message", [
    ("category", "", "类别须为 1–20 个字。"),
    ("category", "类" * 21, "类别须为 1–20 个字。"),
    ("text", "   ", "检查内容须为 1–200 个字。"),
    ("text", "字" * 201, "检查内容须为 1–200 个字。"),
])
def test_a_bad_row_is_refused_next_to_that_row_and_nothing_is_saved(office, field, value, message):
    response = office.post(URL, data=form_data(**{f"rows-4-{field}": value,
                                                  "rows-9-text": "这一行改得没问题"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in row_error(page, 5) and row_error(page, 4) == row_error(page, 6) == ""
    assert 'aria-describedby="row-5-error"' in page and 'aria-invalid="true"' in page
    assert 'value="这一行改得没问题"' in page
    assert versions() == 1


def test_an_unknown_deduction_rule_is_refused_on_its_row(office):
    response = office.post(URL, data=form_data(**{"rows-7-rule": "R99"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "扣分条款只能是" in row_error(page, 8)
    assert "请从列表中选择。" in page
    assert versions() == 1


@pytest.mark.parametrize("orders, messages", [
    ({"rows-0-order": "2"}, ["顺序 2 重复,每个顺序号只能用一次。", "缺少:1"]),
    ({"rows-3-order": "7", "rows-4-order": "7"}, ["顺序 7 重复", "缺少:4、5"]),
    ({"rows-0-order": "21"}, ["顺序须为 1–20 的整数。"]),
    ({"rows-0-order": "0"}, ["顺序须为 1–20 的整数。"]),
    ({"rows-0-order": "第一"}, ["顺序须为 1–20 的整数。"]),
    ({"rows-0-order": ""}, ["顺序须为 1–20 的整数。"]),
])
def test_order_numbers_must_use_each_of_one_to_twenty_once(office, orders, messages):
    response = office.post(URL, data=form_data(**orders))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in messages:
        assert message in page
    assert 'id="rows-0-order-error"' in page or 'id="rows-3-order-error"' in page
    assert versions() == 1


def test_a_save_without_any_change_is_refused(office):
    response = office.post(URL, data=form_data())
    assert response.status_code == 400 and "无需保存" in response.get_data(as_text=True)
    assert versions() == 1


def test_an_edit_of_a_version_no_longer_in_force_is_refused(office):
    stale = form_data(**{"rows-0-text": "我的修改"})
    services.save_template([tuple(r) for r in services.DEFAULT_ITEMS][::-1], person("S0001"),
                           "别人先改了", utcnow())
    db.session.commit()
    response = office.post(URL, data=stale)
    assert response.status_code == 400 and "清单模板刚被他人修改(现为第 2 版)" in response.get_data(
        as_text=True)
    assert versions() == 2


def test_control_characters_and_odd_input_never_break_the_page(office):
    data = form_data(**{"rows-0-category": "环境\x00", "rows-1-text": "\x07", "note": "说明\x00"})
    data["rows-25-order"] = "3"  # an extra row is ignored
    response = office.post(URL, data=data)
    assert response.status_code == 400 and "控制字符" in response.get_data(as_text=True)
    assert office.post(URL, data={}).status_code == 400
    assert versions() == 1


def test_the_edit_is_recorded_in_the_audit_history(office):
    office.post(URL, data=form_data(**{"rows-0-text": "地面整洁"}))
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "checklist.template_saved").order_by(AuditEvent.id.desc()))
    assert event.actor.work_no == "S0001" and json.loads(event.details)["version"] == 2


def test_with_csrf_on_a_post_without_the_token_saves_nothing(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = sign_in_as(app.test_client(), "S0001")
        response = client.post(URL, data=form_data(**{"rows-0-text": "地面整洁"}))
        assert response.status_code == 400 and versions() == 1
        db.session.remove()


# --- who may --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["teller", "lobby", "manager", "admin"])
def test_only_the_service_office_edits_the_template(app, role):
    client = sign_in_as(app.test_client(), ROLE_ACCOUNTS[role])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/1").status_code == 403
    assert client.post(URL, data=form_data(**{"rows-0-text": "改"})).status_code == 403
    assert "清单模板" not in client.get("/").get_data(as_text=True)
    assert versions() == 1


def test_the_office_finds_the_editor_in_its_navigation(office):
    assert f'href="{URL}"' in office.get("/").get_data(as_text=True)


# --- earlier versions ---------------------------------------------------------------------------

def test_earlier_versions_are_listed_and_shown_read_only(office):
    office.post(URL, data=form_data(note="第一项改字", **{"rows-0-text": "大厅地面干净"}))
    page = office.get(URL).get_data(as_text=True)
    assert re.search(r'href="/checklist/template/2">第 2 版</a> <span class="badge ok">现行', page)
    assert 'href="/checklist/template/1">第 1 版</a></th>' in page
    assert "第一项改字" in page and "郑文华" in page and "默认模板" in page
    old = office.get(f"{URL}/1").get_data(as_text=True)
    assert "清单模板第 1 版" in old and "营业厅地面、墙面、玻璃整洁,无杂物、无异味" in old
    assert "大厅地面干净" not in old and "<form method=\"post\"" not in old.split("<main")[1]
    assert "现行" not in old.split("<main")[1]
    new = office.get(f"{URL}/2").get_data(as_text=True)
    assert "大厅地面干净" in new and "现行" in new
    assert "R02(−1 分,罚 50 元)" in new


@pytest.mark.parametrize("version", ["3", "0", "99999999999999999999"])
def test_an_unknown_version_is_not_found(office, version):
    assert office.get(f"{URL}/{version}").status_code == 404


# --- sheets keep their version ------------------------------------------------------------------

def test_a_sheet_keeps_the_version_it_was_opened_with(app, office):
    outlet, lobby = unit_by_code("ZJK-001"), person("L0001")
    today = local_today()
    yesterday = today - timedelta(days=1)
    before = services.open_sheet(outlet, yesterday, lobby, utcnow() - timedelta(days=1))
    db.session.commit()
    assert office.post(URL, data=form_data(**{
        "rows-0-text": "大厅地面干净无杂物", "rows-11-order": "14",
        "rows-13-order": "12"})).status_code == 303
    after = services.open_sheet(outlet, today, lobby, utcnow())
    db.session.commit()
    db.session.expire_all()
    assert before.template.version == 1 and after.template.version == 2
    assert before.marks[0].item.text == "营业厅地面、墙面、玻璃整洁,无杂物、无异味"
    assert after.marks[0].item.text == "大厅地面干净无杂物"
    assert after.marks[11].item.text == "个人工作区(桌面、键盘、柜台、柜台玻璃)清洁"
    if "checklist.day" not in app.view_functions:
        pytest.skip("the day's sheet page is not there yet")
    manager = sign_in_as(app.test_client(), "M0001")
    old_page = manager.get(f"/checklist/day/{yesterday.isoformat()}").get_data(as_text=True)
    new_page = manager.get(f"/checklist/day/{today.isoformat()}").get_data(as_text=True)
    assert "营业厅地面、墙面、玻璃整洁,无杂物、无异味" in old_page
    assert "大厅地面干净无杂物" not in old_page
    assert "大厅地面干净无杂物" in new_page
    assert "营业厅地面、墙面、玻璃整洁,无杂物、无异味" not in new_page
    # item 12 of the new version is what was item 14
    assert new_page.index("个人工作区(桌面、键盘") < new_page.index("电脑终端已激活")


def test_the_editor_takes_the_same_queries_whatever_the_versions(office, count_queries):
    rows = [tuple(row) for row in services.DEFAULT_ITEMS]
    counted = []
    for _ in range(2):
        with count_queries() as queries:
            assert office.get(URL).status_code == 200
        counted.append(len([q for q in queries if not q.startswith("BEGIN")]))
        for number in range(8):
            rows[0] = (rows[0][0], f"第 {number} 次修改", "")
            services.save_template(list(rows), person("S0001"), f"修改 {number}", utcnow())
        db.session.commit()
    assert counted[0] == counted[1] <= 8
