"""The rating journey of SPEC 3: the teller opens a window, a customer rates from a phone."""

from .conftest import live_db, sign_in


def window_token(tmp_path, outlet: str, number: int) -> str:
    with live_db(tmp_path) as conn:
        return conn.execute(
            'SELECT w.token FROM "window" w JOIN org_unit o ON o.id = w.outlet_id '
            "WHERE o.code = ? AND w.number = ?", (outlet, number)).fetchone()[0]


def ratings_of(tmp_path, work_no: str) -> list[tuple]:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT r.stars, r.tags, r.comment, r.channel FROM rating r "
            "JOIN person p ON p.id = r.person_id WHERE p.work_no = ? ORDER BY r.id",
            (work_no,)).fetchall()


def test_a_customer_rates_the_teller_on_duty_from_a_phone(page, phone, live_server, tmp_path):
    sign_in(page, live_server, "T1001")
    page.goto(f"{live_server}/ratings/window")
    page.get_by_label("窗口", exact=True).select_option(label="1 号窗口")
    page.get_by_role("button", name="开启评价(上岗)").click()
    page.wait_for_url(f"{live_server}/ratings/window")
    assert "您正在 1 号窗口接受评价" in page.get_by_role("main").inner_text()
    assert page.get_by_role("img", name="动态评价二维码").first.is_visible()

    phone.goto(f"{live_server}/r/{window_token(tmp_path, 'ZJK-001', 1)}")
    assert phone.get_by_role("heading", level=1).inner_text() == "王芳"
    assert "T1001" in phone.get_by_role("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    five = phone.get_by_role("radio", name="5 非常满意")
    five.focus()
    phone.keyboard.press("Space")
    assert five.is_checked()
    phone.get_by_label("态度热情").click()
    phone.get_by_label("意见或建议(选填)").fill("办理很快,讲解耐心。")
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_url("**/thanks")
    assert phone.get_by_role("heading", level=1).inner_text() == "感谢您的评价"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    assert ratings_of(tmp_path, "T1001") == [(5, "态度热情", "办理很快,讲解耐心。", "qr")]


    page.goto(f"{live_server}/ratings/mine")
    mine = page.get_by_role("main").inner_text()
    assert "办理很快,讲解耐心。" in mine and "态度热情" in mine
    page.goto(f"{live_server}/")
    assert "办理很快,讲解耐心。" in page.get_by_role("main").inner_text()  # latest comments
