"""The hall checklist journey of SPEC 2: on the hall PC the lobby manager ticks the 20 items with
the keyboard alone (each mark swapped in place by htmx, no page reload), records a problem with a
note, a responsible teller and a photo (one refused save first), signs the sheet off and finds
the problem in the 问题台账 and on the home panel; the database holds the sheet, the marks, the
history and the R02 deduction proposed for the teller."""
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from .conftest import HALL_PC, _page, live_db, sign_in

NOTE = "柜台上放有私人物品和杂物,办公用具摆放凌乱。"
ITEMS = 20
PROBLEM_ITEM, NA_ITEM = 12, 19
NOTE_ID = f"item{PROBLEM_ITEM}-note"  # the problem form's fields carry the item number
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def hall_pc(browser, request):
    """The conftest's ``page``, letting through the problem form's one refusal (422)."""
    yield from _page(browser, HALL_PC, request,
                     refusal=(422, rf"/checklist/day/[\d-]+/items/{PROBLEM_ITEM}$"))


# --- the live server's database --------------------------------------------------------------

def sheet_row(tmp_path, outlet: str, day: str) -> tuple:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT s.id, s.signed_at IS NOT NULL, signer.work_no, opener.work_no "
            "FROM checklist_sheet s JOIN org_unit o ON o.id = s.outlet_id "
            "LEFT JOIN person signer ON signer.id = s.signed_by_id "
            "LEFT JOIN person opener ON opener.id = s.opened_by_id "
            "WHERE o.code = ? AND s.day = ?", (outlet, day)).fetchone()


def marks_of(tmp_path, sheet_id: int) -> dict[int, tuple]:
    with live_db(tmp_path) as conn:
        rows = conn.execute(
            "SELECT m.number, m.state, m.note, m.photo, m.deadline, p.work_no "
            "FROM checklist_mark m LEFT JOIN person p ON p.id = m.marked_by_id "
            "WHERE m.sheet_id = ? ORDER BY m.number", (sheet_id,)).fetchall()
    return {number: rest for number, *rest in rows}


def mark_id(tmp_path, sheet_id: int, number: int) -> int:
    with live_db(tmp_path) as conn:
        return conn.execute("SELECT id FROM checklist_mark WHERE sheet_id = ? AND number = ?",
                            (sheet_id, number)).fetchone()[0]


def people_of_mark(tmp_path, sheet_id: int, number: int) -> list[str]:
    with live_db(tmp_path) as conn:
        return [row[0] for row in conn.execute(
            "SELECT p.work_no FROM checklist_mark_person mp "
            "JOIN checklist_mark m ON m.id = mp.mark_id JOIN person p ON p.id = mp.person_id "
            "WHERE m.sheet_id = ? AND m.number = ? ORDER BY p.work_no", (sheet_id, number))]


def checklist_proposals(tmp_path) -> list[tuple]:
    with live_db(tmp_path) as conn:
        return conn.execute(
            "SELECT p.work_no, pp.rule_code, pp.points, pp.evidence_ref, pp.status "
            "FROM points_proposal pp JOIN person p ON p.id = pp.person_id "
            "WHERE pp.evidence_kind = 'checklist' ORDER BY pp.id").fetchall()


def event_counts(tmp_path, sheet_id: int) -> dict[str, int]:
    with live_db(tmp_path) as conn:
        return dict(conn.execute(
            "SELECT action, count(*) FROM checklist_event WHERE sheet_id = ? GROUP BY action",
            (sheet_id,)).fetchall())


# --- the page --------------------------------------------------------------------------------

def focused(page) -> str:
    """The id of the focused element (else its tag name, e.g. BODY when focus was lost)."""
    return page.evaluate("document.activeElement ? (document.activeElement.id"
                         " || document.activeElement.tagName) : ''")


def tab_to(page, target: str, key: str = "Tab", limit: int = 30) -> list[str]:
    """Press ``key`` until ``target`` has focus; returns the ids passed on the way."""
    passed = []
    for _ in range(limit):
        page.keyboard.press(key)
        passed.append(focused(page))
        if passed[-1] == target:
            return passed
    raise AssertionError(f"{key} never reached #{target}: {passed}")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth"
                         " <= document.documentElement.clientWidth")


def obscured_by_progress(page) -> bool:
    """Whether the focused element sits (partly) under the sticky progress bar."""
    return page.evaluate("""() => {
        const bar = document.getElementById('sheet-progress').getBoundingClientRect();
        const box = document.activeElement.getBoundingClientRect();
        return box.top < bar.bottom && box.bottom > bar.top;
    }""")


def every_button_is_named(page) -> None:
    buttons = page.get_by_role("button")
    for index in range(buttons.count()):
        expect(buttons.nth(index)).to_have_accessible_name(re.compile(r"\S"))


def progress(page):
    return page.locator("#sheet-progress")


class Journey:
    """The ticking itself, with focus checked after every swap."""

    def __init__(self, page):
        self.page = page

    def expect_focus(self, target: str, after: str) -> None:
        """``target`` has the keyboard focus after the step ``after`` (once its swap settled:
        on a busy machine the fragment may land a moment after the key press)."""
        try:
            expect(self.page.locator(f"#{target}")).to_be_focused()
        except AssertionError:
            pass  # reported below with where the focus is instead
        now = focused(self.page)
        assert now == target, f"after {after}: focus on {now!r}, not #{target}"

    def mark(self, number: int, state: str, key: str, checked: int) -> None:
        """With focus on the item's 合格 button: reach the ``state`` button, press ``key``, and
        check the swap (state, pressed button, progress) and that focus stayed on the button."""
        button = f"item-{number}-{state}"
        if state == "na":
            assert tab_to(self.page, button) == [button]
        expect(self.page.locator(f"#{button}")).to_be_focused()
        self.page.keyboard.press(key)
        item = self.page.locator(f"#item-{number}")
        expect(item).to_have_class(re.compile(rf"\bstate-{state}\b"))
        expect(item.locator(".check-state")).to_have_text("合格" if state == "pass" else "不适用")
        expect(self.page.locator(f"#{button}")).to_have_attribute("aria-pressed", "true")
        expect(progress(self.page)).to_contain_text(f"已检查 {checked}/{ITEMS}")
        self.expect_focus(button, f"{key} on #{button}")

    def walk_to_next(self, number: int) -> None:
        """Tab on from item ``number``'s buttons to the next item's 合格 button."""
        here = focused(self.page)
        rest = [f"item-{number}-{s}" for s in ("pass", "na", "problem")]
        expected = rest[rest.index(here) + 1:] + [f"item-{number + 1}-pass"]
        assert tab_to(self.page, f"item-{number + 1}-pass") == expected


def test_the_lobby_manager_ticks_the_hall_checklist_with_the_keyboard(hall_pc, live_server,
                                                                        tmp_path):
    page, base = hall_pc, live_server
    journey = Journey(page)

    # 1. the lobby manager opens today's sheet from the navigation: nothing checked yet
    sign_in(page, base, "L0001")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="厅堂检查").click()
    page.wait_for_url(re.compile(r".*/checklist/day/\d{4}-\d{2}-\d{2}$"))
    day = page.url.rsplit("/", 1)[1]
    sheet_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("厅堂服务检查")
    expect(page.get_by_role("heading", level=1)).to_contain_text(day)
    expect(progress(page)).to_contain_text(f"已检查 0/{ITEMS}")
    expect(page.locator(".check-list > li")).to_have_count(ITEMS)
    sign_button = page.locator("#sign-button")
    expect(sign_button).to_have_accessible_name("提交清单")
    expect(sign_button).to_be_disabled()
    expect(sign_button).to_have_accessible_description("全部 20 项检查后才能提交。")
    for number in (1, PROBLEM_ITEM, ITEMS):
        group = page.get_by_role("group", name=f"第 {number} 项检查结果")
        for name in ("合格", "不适用", "不合格"):
            expect(group.get_by_role("button", name=name, exact=True)).to_be_visible()
    every_button_is_named(page)
    assert no_horizontal_scroll(page)
    page.evaluate("window.__marker = 1")  # gone if the page were ever reloaded

    # 2. keyboard only: 合格 with Space on 1–20, 不适用 with Enter on 19, item 12 left for later
    page.locator("#item-1-pass").focus()
    checked = 0
    for number in range(1, ITEMS + 1):
        if number == PROBLEM_ITEM:
            assert focused(page) == f"item-{number}-pass"
        elif number == NA_ITEM:
            checked += 1
            journey.mark(number, "na", "Enter", checked)
        else:
            checked += 1
            journey.mark(number, "pass", "Space", checked)
        if number < ITEMS:
            journey.walk_to_next(number)
        # the focused button is in view, not under the sticky progress bar
        expect(page.locator(f"#{focused(page)}")).to_be_in_viewport()
        assert not obscured_by_progress(page), focused(page)
    expect(progress(page)).to_contain_text(f"已检查 19/{ITEMS}")
    expect(sign_button).to_be_disabled()
    assert page.evaluate("window.__marker") == 1 and page.url == sheet_url

    # back up to item 12 with Shift+Tab, every stop in view and clear of the progress bar
    expected = [f"item-{n}-{s}" for n in range(ITEMS, PROBLEM_ITEM - 1, -1)
                for s in ("problem", "na", "pass")][3:-2]
    walked = []
    for _ in expected:
        page.keyboard.press("Shift+Tab")
        walked.append(focused(page))
        expect(page.locator(f"#{walked[-1]}")).to_be_in_viewport()
        assert not obscured_by_progress(page), f"#{walked[-1]} hidden under the sticky progress"
    assert walked == expected

    # 3. item 12: 不合格 opens the problem form in place
    problem_button = page.locator(f"#item-{PROBLEM_ITEM}-problem")
    expect(problem_button).to_be_focused()
    expect(problem_button).to_have_accessible_name("不合格")
    page.keyboard.press("Enter")
    item = page.locator(f"#item-{PROBLEM_ITEM}")
    form = item.get_by_role("form", name=f"第 {PROBLEM_ITEM} 项问题记录")
    expect(form).to_be_visible()
    note = form.get_by_label("问题说明")
    expect(note).to_be_visible()
    expect(form.get_by_label("整改期限")).to_have_value(
        (date.fromisoformat(day) + timedelta(days=1)).isoformat())  # the next day by default
    expect(form.get_by_role("checkbox", name="T1001 王芳")).not_to_be_checked()
    assert page.evaluate("window.__marker") == 1 and page.url == sheet_url
    journey.expect_focus(NOTE_ID, "Enter on 不合格 (the form swapped in)")
    every_button_is_named(page)
    page.set_viewport_size(DESKTOP)
    assert no_horizontal_scroll(page)
    page.set_viewport_size(HALL_PC)

    # saving without a note is refused in place (422), the message next to the field
    save = f"item-{PROBLEM_ITEM}-save"
    tab_to(page, save)
    expect(page.locator(f"#{save}")).to_have_accessible_name("保存问题")
    page.keyboard.press("Enter")
    error = item.locator(f"#{NOTE_ID}-error")
    expect(error).to_have_text("不合格须填写问题说明。")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_have_accessible_description(re.compile("不合格须填写问题说明。"))
    expect(item).to_have_class(re.compile(r"\bstate-unchecked\b"))
    expect(progress(page)).to_contain_text(f"已检查 19/{ITEMS}")
    # the form comes back with the keyboard on the note that needs filling in
    journey.expect_focus(NOTE_ID, "Enter on 保存问题 (refused, the form swapped in again)")

    # type the note, name T1001 with Space, add the photo, save
    page.keyboard.type(NOTE)
    expect(note).to_have_value(NOTE)
    teller = form.get_by_role("checkbox", name="T1001 王芳")
    assert tab_to(page, teller.get_attribute("id")) == [f"item{PROBLEM_ITEM}-people-{n}" for n in range(3)]
    page.keyboard.press("Space")
    expect(teller).to_be_checked()
    photo = tmp_path / "desk.png"
    Image.new("RGB", (320, 240), (200, 60, 40)).save(photo)
    form.get_by_label(re.compile("^照片")).set_input_files(photo)
    tab_to(page, save)
    page.keyboard.press("Enter")

    expect(item).to_have_class(re.compile(r"\bstate-problem\b"))
    expect(item.locator(".check-state")).to_have_text("不合格")
    expect(item.locator(".problem-facts")).to_contain_text(NOTE)
    expect(item.locator(".problem-facts")).to_contain_text("责任人:王芳")
    photo_link = item.get_by_role("link", name="查看照片")
    expect(photo_link).to_be_visible()
    sheet_photo = photo_link.get_attribute("href")
    expect(page.locator(f"#item-{PROBLEM_ITEM}-problem")).to_have_attribute("aria-pressed", "true")
    expect(progress(page)).to_contain_text(f"已检查 {ITEMS}/{ITEMS}")
    expect(sign_button).to_be_enabled()
    expect(page.locator("#sign-hint")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1 and page.url == sheet_url  # never reloaded
    journey.expect_focus(f"item-{PROBLEM_ITEM}-problem", "Enter on 保存问题 (saved)")
    every_button_is_named(page)

    # 4. sign off with the keyboard: the sheet turns read-only
    sign_button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == sheet_url
    expect(page.get_by_text("清单已提交。")).to_be_visible()
    expect(progress(page)).to_contain_text(re.compile(r"已于 .+ 由 马丽 提交"))
    expect(progress(page)).to_contain_text(f"已检查 {ITEMS}/{ITEMS}")
    expect(page.locator("#sign-button")).to_have_count(0)
    expect(page.locator(".check-list button")).to_have_count(0)
    expect(page.locator(".check-list form")).to_have_count(0)
    expect(page.locator(".check-list > li")).to_have_count(ITEMS)
    expect(item.locator(".problem-facts")).to_contain_text(NOTE)
    expect(page.locator(f"#item-{NA_ITEM} .check-state")).to_have_text("不适用")
    every_button_is_named(page)
    page.set_viewport_size(DESKTOP)
    assert no_horizontal_scroll(page)
    page.set_viewport_size(HALL_PC)

    # 5. the problem ledger: item 12 with its note, people, deadline and photo
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="问题台账").click()
    page.wait_for_url(f"{base}/checklist/problems")
    expect(page.get_by_role("heading", level=1)).to_have_text("问题台账")
    entry = page.locator(".problem-list > li").filter(has_text=f"第 {PROBLEM_ITEM} 项")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(day)
    expect(entry).to_contain_text(NOTE)
    expect(entry).to_contain_text("责任人:王芳")
    deadline = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    expect(entry).to_contain_text(f"整改期限:{deadline}")
    expect(entry).not_to_contain_text("已逾期")
    expect(entry.get_by_label("整改说明")).to_be_visible()
    expect(entry.get_by_role("button", name="记录整改")).to_be_visible()
    href = entry.get_by_role("link", name="查看照片").get_attribute("href")
    assert href == sheet_photo  # the same mark's photo as on the sheet
    answer = page.request.get(f"{base}{href}")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.body()[:3] == b"\xff\xd8\xff"  # re-encoded as JPEG
    every_button_is_named(page)
    page.set_viewport_size(DESKTOP)
    assert no_horizontal_scroll(page)
    page.set_viewport_size(HALL_PC)

    # the home panel agrees: today's sheet signed, one problem open
    page.get_by_role("link", name="文明优质服务").click()
    page.wait_for_url(f"{base}/")
    panel = page.get_by_role("region", name="今日厅堂检查")
    expect(panel).to_contain_text("今日清单已提交。")
    expect(panel).to_contain_text("未整改问题 1 项")

    # 6. the database: signed by L0001, the marks, the R02 proposal, the history
    sheet_id, signed, signer, opener = sheet_row(tmp_path, "ZJK-001", day)
    assert (signed, signer, opener) == (1, "L0001", "L0001")
    marks = marks_of(tmp_path, sheet_id)
    assert len(marks) == ITEMS
    states = {number: row[0] for number, row in marks.items()}
    assert states == {n: "problem" if n == PROBLEM_ITEM else "na" if n == NA_ITEM else "pass"
                      for n in range(1, ITEMS + 1)}
    assert {row[4] for row in marks.values()} == {"L0001"}
    state, note_text, photo_name, deadline_saved, _ = marks[PROBLEM_ITEM]
    assert (state, note_text, deadline_saved) == ("problem", NOTE, deadline)
    assert re.fullmatch(rf"{sheet_id}-{PROBLEM_ITEM}-[0-9a-f]{{16}}\.jpg", photo_name or "")
    assert (tmp_path / "instance" / "checklist" / photo_name).is_file()
    assert href.endswith(f"/checklist/photos/{mark_id(tmp_path, sheet_id, PROBLEM_ITEM)}")
    assert all(row[2] is None for n, row in marks.items() if n != PROBLEM_ITEM)
    assert people_of_mark(tmp_path, sheet_id, PROBLEM_ITEM) == ["T1001"]
    assert checklist_proposals(tmp_path) == [
        ("T1001", "R02", -1, f"ZJK-001:{day}:{PROBLEM_ITEM}", "proposed")]
    events = event_counts(tmp_path, sheet_id)
    assert events == {"open": 1, "mark": ITEMS, "sign": 1}  # the refused save left no trace

