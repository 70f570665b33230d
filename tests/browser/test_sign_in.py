"""Journeys through the real browser: signing in and finding one's home page."""
from .conftest import sign_in


def test_outlet_manager_signs_in_with_the_keyboard_and_sees_the_outlet_home(page, live_server):
    sign_in(page, live_server, "M0001")
    assert page.get_by_role("heading", level=1).inner_text().endswith("网点负责人首页")
    staff = page.get_by_role("table")
    assert "T1001" in staff.inner_text() and "王芳" in staff.inner_text()
    assert page.get_by_role("navigation", name="主导航").is_visible()


def test_wrong_password_shows_the_message_and_keeps_the_work_number(page, live_server):
    page.goto(f"{live_server}/login")
    page.get_by_label("工号").fill("M0001")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "工号或密码不正确" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("工号").input_value() == "M0001"


def test_sign_out_returns_to_the_login_page(page, live_server):
    sign_in(page, live_server, "T1001")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
