"""The complaints journey of SPEC 4: a customer complains from a phone, the lobby manager (the
first-contact owner) responds and hands it to the teller, who accepts and decides; the outlet
manager calls back and closes; the customer looks the ticket up and sees only public replies."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, _page, live_db, sign_in

TICKET = re.compile(r"TS\d{8}-\d{4}")
DESCRIPTION = "柜员办理业务时态度冷淡,多次询问也不回应。"
RESPONSE = "已致电客户 13800001234,致歉并说明将在 15 日内给出处理结果。"
TRANSFER_REASON = "请当班柜员核实当时经过并处理。"
INTERNAL_NOTE = "内部:调取 2 号窗口录像,待核实。"
REPLY = "经核实,柜员服务态度确有不当,已批评教育并扣减服务积分,向您致歉。"


@pytest.fixture
def customer(browser, request):
    """The conftest's ``phone`` page, letting through the complaint form's one refusal (400)."""
    yield from _page(browser, PHONE, request, refusal=(400, r"/complaints/new$"))


def complaint_row(tmp_path, ticket: str) -> tuple:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT c.id, c.status, c.channel, c.category, c.window_number, c.customer_phone, "
            "c.finding, c.callback, c.transfers, owner.work_no, handler.work_no, "
            "subject.work_no FROM complaint c "
            "LEFT JOIN person owner ON owner.id = c.first_owner_id "
            "LEFT JOIN person handler ON handler.id = c.handler_id "
            "LEFT JOIN person subject ON subject.id = c.subject_id "
            "WHERE c.ticket = ?", (ticket,)).fetchone()


def event_actions(tmp_path, complaint_id: int) -> list[tuple]:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT e.action, p.work_no, e.public FROM complaint_event e "
            "LEFT JOIN person p ON p.id = e.actor_id "
            "WHERE e.complaint_id = ? ORDER BY e.id", (complaint_id,)).fetchall()


def proposals_for(tmp_path, ticket: str) -> list[tuple]:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT p.work_no, pp.rule_code, pp.points FROM points_proposal pp "
            "JOIN person p ON p.id = pp.person_id "
            "WHERE pp.evidence_kind = 'complaint' AND pp.evidence_ref LIKE ? ORDER BY pp.id",
            (f"{ticket}%",)).fetchall()


def fits_the_phone(phone) -> bool:
    return phone.evaluate("document.documentElement.scrollWidth") <= 360


def sign_out(page, base_url: str) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{base_url}/login")


def open_from_home(page, ticket: str):
    """Follow the ticket's link in the home page's 待办投诉 panel; returns that row."""
    desk = page.locator("#complaint-desk")
    expect(page.get_by_role("heading", name="待办投诉")).to_be_visible()
    row = desk.get_by_role("row").filter(has=page.get_by_role("link", name=ticket))
    expect(row).to_have_count(1)
    text = row.inner_text()
    row.get_by_role("link", name=ticket).click()
    page.wait_for_url(re.compile(r".*/complaints/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket)
    return text


def customer_complains(phone, base: str) -> str:
    """Step 1: the phone form, one refused submit, then the ticket on the thank-you page."""
    phone.goto(f"{base}/complaints/new?outlet=ZJK-001&window=2&teller=T1001")
    expect(phone.get_by_role("heading", level=1)).to_have_text("我要投诉")
    assert phone.get_by_label("投诉网点").input_value() == "ZJK-001"
    assert "ZJK-001" in phone.get_by_label("投诉网点").locator("option:checked").inner_text()
    assert phone.get_by_label("窗口号(选填)").input_value() == "2"
    assert "被投诉柜员:工号 T1001" in phone.get_by_role("main").inner_text()
    assert fits_the_phone(phone)

    phone.get_by_role("radio", name="服务态度").check()
    phone.get_by_label("投诉内容").fill(DESCRIPTION)
    phone.get_by_role("button", name="提交投诉").click()
    phone.wait_for_load_state()

    # refused: the message sits next to the phone field, and nothing typed is lost
    phone_field = phone.get_by_label("联系电话")
    expect(phone.get_by_role("alert")).to_contain_text("投诉未提交")
    expect(phone_field).to_have_attribute("aria-invalid", "true")
    expect(phone_field).to_have_accessible_description(re.compile("请填写联系电话,或选择匿名投诉。"))
    error = phone.locator("#customer_phone-error")
    expect(error).to_have_text("请填写联系电话,或选择匿名投诉。")
    assert error.evaluate("(e) => e.parentElement.contains(document.getElementById('customer_phone'))")
    assert phone.get_by_label("投诉内容").input_value() == DESCRIPTION
    assert phone.get_by_role("radio", name="服务态度").is_checked()
    assert phone.get_by_label("投诉网点").input_value() == "ZJK-001"
    assert phone.get_by_label("窗口号(选填)").input_value() == "2"
    assert "被投诉柜员:工号 T1001" in phone.get_by_role("main").inner_text()
    assert fits_the_phone(phone)

    phone_field.fill("13800001234")
    phone.get_by_role("button", name="提交投诉").click()
    phone.wait_for_url(f"{base}/complaints/thanks")
    expect(phone.get_by_role("heading", level=1)).to_have_text("投诉已提交")
    found = TICKET.search(phone.get_by_role("main").inner_text())
    assert found, phone.get_by_role("main").inner_text()
    assert fits_the_phone(phone)
    return found.group(0)


def test_a_phone_complaint_goes_from_first_contact_to_closed(page, customer, live_server, tmp_path):
    base, phone = live_server, customer
    ticket = customer_complains(phone, base)
    complaint_id, status, *rest = complaint_row(tmp_path, ticket)
    assert status == "new"
    assert rest == ["web", "attitude", 2, "13800001234", None, None, 0, "L0001", "L0001", "T1001"]

    # 2. the lobby manager, first-contact owner of a web complaint, responds and hands it over
    sign_in(page, base, "L0001")
    assert "待响应" in open_from_home(page, ticket)
    facts = page.get_by_role("region", name="投诉信息").inner_text()
    assert DESCRIPTION in facts and "2 号窗口" in facts and "T1001" in facts

    respond = page.locator("#form-respond")
    respond.get_by_label("响应记录(如何联系了客户)").fill(RESPONSE)
    respond.get_by_role("button", name="记录响应").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已记录首次响应。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("处理中")
    expect(page.locator("#form-respond")).to_have_count(0)

    transfer = page.locator("#form-transfer")
    receiver = transfer.get_by_label("转给")
    teller = receiver.locator("option", has_text="T1001").get_attribute("value")
    receiver.select_option(teller)
    transfer.get_by_label("转办原因").fill(TRANSFER_REASON)
    transfer.get_by_role("button", name="转办").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已转办,等待对方接收。")).to_be_visible()
    expect(page.get_by_role("region", name="投诉信息")).to_contain_text("等待接收")
    expect(page.locator("#form-transfer")).to_have_count(0)

    # still accountable after handing over: the first-contact owner keeps internal notes
    note = page.locator("#form-note")
    note.get_by_label("内容").fill(INTERNAL_NOTE)
    note.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已添加记录。")).to_be_visible()
    expect(page.get_by_role("region", name="处理记录")).to_contain_text(INTERNAL_NOTE)
    sign_out(page, base)

    # 3. the teller accepts with the keyboard alone, then decides
    sign_in(page, base, "T1001")
    assert "待我接收" in open_from_home(page, ticket)
    accept = page.locator("#form-accept").get_by_role("button", name="接收", exact=True)
    accept.focus()
    expect(accept).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已接收该投诉。")).to_be_visible()
    expect(page.locator("#form-accept")).to_have_count(0)
    expect(page.get_by_role("region", name="投诉信息")).not_to_contain_text("等待接收")

    decide = page.locator("#form-decide")
    decide.get_by_role("radio", name="属实", exact=True).check()
    decide.get_by_role("group", name="责任人(属实或部分属实时必填)") \
        .get_by_role("checkbox", name=re.compile("T1001")).check()
    decide.get_by_label("处理结果(将答复客户)").fill(REPLY)
    decide.get_by_role("button", name="确认办结").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已办结。", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    expect(page.get_by_role("region", name="投诉信息")).to_contain_text("属实")
    sign_out(page, base)

    # 4. the outlet manager records the callback and closes
    sign_in(page, base, "M0001")
    assert "已办结" in open_from_home(page, ticket)
    callback = page.locator("#form-callback")
    callback.get_by_role("radio", name="满意", exact=True).check()
    callback.get_by_role("button", name="记录回访").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("已记录回访结果。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已回访")
    page.locator("#form-close").get_by_role("button", name="关闭").click()
    page.wait_for_url(f"{base}/complaints/{complaint_id}")
    expect(page.get_by_text("投诉已关闭。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已关闭")
    expect(page.get_by_role("region", name="处理", exact=True)).to_have_count(0)  # no actions left
    page.goto(f"{base}/")
    expect(page.get_by_role("link", name=ticket)).to_have_count(0)  # no longer on the desk

    # 5. the customer looks it up on the phone: status and the reply, nothing internal
    phone.goto(f"{base}/complaints/status")
    phone.get_by_label("投诉单号").fill(ticket)
    phone.get_by_label("联系电话后四位").fill("1234")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_load_state()
    result = phone.get_by_role("region", name=f"投诉单号 {ticket}")
    expect(result).to_be_visible()
    shown = phone.get_by_role("main").inner_text()
    assert "已关闭" in shown and REPLY in shown
    for private in (INTERNAL_NOTE, RESPONSE, TRANSFER_REASON):
        assert private not in shown
    assert fits_the_phone(phone)

    # the database: closed, R19 proposed for the teller found responsible, the history in order
    assert complaint_row(tmp_path, ticket)[1:] == (
        "closed", "web", "attitude", 2, "13800001234", "upheld", "satisfied", 1,
        "L0001", "T1001", "T1001")
    assert proposals_for(tmp_path, ticket) == [("T1001", "R19", -2)]
    assert event_actions(tmp_path, complaint_id) == [
        ("create", None, 0), ("respond", "L0001", 0), ("transfer", "L0001", 0),
        ("note", "L0001", 0), ("accept", "T1001", 0), ("decide", "T1001", 1),
        ("callback", "M0001", 0), ("close", "M0001", 0)]
