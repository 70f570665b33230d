"""The honours journey of SPEC 6: the outlet manager opens the nomination page, sees the
candidates and nominates T1001 as 月度服务明星 with a citation; the service office approves;
T1001's ledger shows the A01 award; the hall's TV, signed out, shows T1001 with the citation."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.timeutil import local_today

from .conftest import _page, live_db, sign_in

CITATION = "本月评价满意率 100%,主动为行动不便的老人上门办理业务。"
TV = {"width": 1920, "height": 1080}


@pytest.fixture
def tv(browser, request):
    """The hall display: a full-HD screen nobody signs in on."""
    yield from _page(browser, TV, request)


def _last_month() -> date:
    return local_today().replace(day=1) - timedelta(days=1)


def test_a_monthly_star_goes_from_nomination_to_the_hall_screen(live_server, page, tv, tmp_path):
    sign_in(page, live_server, "M0001")
    page.get_by_role("link", name="荣誉推荐").first.click()
    page.get_by_role("link", name="推荐", exact=True).first.click()
    expect(page.get_by_role("heading", name="推荐荣誉")).to_be_visible()
    candidates = page.locator("#monthly-candidates")
    expect(candidates).to_contain_text("T1001")
    expect(candidates).not_to_contain_text("T2001")
    page.get_by_label("人员").select_option("T1001")
    page.get_by_label("荣誉称号").select_option(label="月度服务明星")
    expect(page.locator("#period")).to_have_value(_last_month().strftime("%Y-%m"))
    page.get_by_label("事迹").fill(CITATION)
    page.get_by_role("button", name="提交推荐").click()
    expect(page.get_by_text("等待文优办审批")).to_be_visible()
    expect(page.locator(".problem-list")).to_contain_text("待审批")
    page.get_by_role("button", name="退出").click()

    sign_in(page, live_server, "S0001")
    page.goto(f"{live_server}/honours/nominations")
    card = page.locator(".problem-list li").filter(has_text="T1001")
    expect(card).to_contain_text(CITATION)
    card.get_by_text("批准", exact=True).click()
    card.get_by_role("button", name="批准上榜").click()
    expect(page.get_by_text("已批准,荣誉已上榜。")).to_be_visible()

    page.goto(f"{live_server}/ledger/people/T1001?year={_last_month().year}")
    expect(page.locator("main")).to_contain_text("A01")
    expect(page.locator("main")).to_contain_text("月度服务明星")
    with live_db(tmp_path) as conn:
        rows = conn.execute(
            "SELECT e.rule_code, e.status, e.points, h.status FROM honour h "
            "JOIN ledger_entry e ON e.id = h.ledger_entry_id "
            "JOIN person p ON p.id = h.person_id WHERE p.work_no = 'T1001'").fetchall()
    assert rows == [("A01", "confirmed", 1, "approved")]

    tv.goto(f"{live_server}/honours/screen?outlet=ZJK-001")
    board = tv.locator(".screen-board")
    expect(board).to_contain_text("王芳")
    expect(board).to_contain_text(CITATION)
    expect(board).to_contain_text("月度服务明星")
    assert tv.locator("meta[http-equiv=refresh]").count() == 1
    assert "/login" not in tv.url
