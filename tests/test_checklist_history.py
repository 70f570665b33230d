"""The checklist history: a month calendar of signed, partly done and missed days with pass
rates, the month's most failed items, the .xlsx download, scope and query bounds."""
import io
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook

from portal.blueprints.checklist import services
from portal.extensions import db
from portal.models import unit_by_code
from portal.periods import month_of, previous_month
from portal.timeutil import LOCAL_TZ, local_today

from .conftest import ROLE_ACCOUNTS, person, sign_in_as

URL = "/checklist/history"
LAST = previous_month(local_today())  # a month that is wholly past
TICKER = {"ZJK-001": "L0001", "ZJK-002": "L0002"}
SIGNER = {"ZJK-001": "M0001", "ZJK-002": "M0002"}


def morning(day: date, minute: int = 10) -> datetime:
    """08:xx local time of ``day``, as stored (naive UTC)."""
    local = datetime.combine(day, time(8, minute), tzinfo=LOCAL_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def fill(day: date, states: dict[int, str] | None = None, sign: bool = False,
         code: str = "ZJK-001"):
    """A sheet of ``day`` with ``states`` (default: all 20 合格), signed if asked."""
    states = {n: "pass" for n in range(1, 21)} if states is None else states
    lobby = person(TICKER[code])
    sheet = services.open_sheet(unit_by_code(code), day, lobby, morning(day, 5))
    for number, state in states.items():
        problem = services.Problem(f"第 {number} 项有问题", [], None) if state == "problem" else None
        services.mark(sheet, number, state, lobby, morning(day), problem=problem)
    if sign:
        services.sign(sheet, person(SIGNER[code]), morning(day, 30))
    db.session.commit()
    return sheet


def all_pass(**changes) -> dict[int, str]:
    states = {n: "pass" for n in range(1, 21)}
    states.update({int(number[1:]): state for number, state in changes.items()})
    return states


def cells(page: str) -> dict[str, str]:
    """Each calendar day's cell by ISO date."""
    found = {}
    for cell in re.findall(r'<td class="cal-day.*?</td>', page, re.S):
        found[re.search(r'<span class="sr-only">(\d{4}-\d\d-\d\d)</span>', cell)[1]] = cell
    return found


@pytest.fixture
def month_with_three_kinds():
    """LAST month: day 3 signed (18 合格, 1 不合格, 1 不适用), day 4 partly done, day 5 missed."""
    start = LAST.start
    fill(start + timedelta(days=2), all_pass(n12="problem", n7="na"), sign=True)
    fill(start + timedelta(days=3), {n: "pass" for n in range(1, 6)})
    return start


# --- the calendar ------------------------------------------------------------------------------

def test_the_calendar_shows_signed_partly_done_and_missed_days(manager, month_with_three_kinds):
    start = month_with_three_kinds
    page = manager.get(f"{URL}?month={LAST.label}").get_data(as_text=True)
    days = cells(page)
    assert len(days) == LAST.days
    signed, partial, missed = (days[(start + timedelta(days=n)).isoformat()] for n in (2, 3, 4))
    assert "cal-signed" in signed and "已提交" in signed
    assert "已检查 20/20" in signed and "合格率 94.7 %" in signed  # 18 of 19, n/a left out
    assert "cal-partial" in partial and "部分完成" in partial
    assert "已检查 5/20" in partial and "合格率 100 %" in partial
    assert "cal-missed" in missed and "漏检" in missed and "合格率" not in missed
    for cell, status in ((signed, "已提交"), (partial, "部分完成"), (missed, "漏检")):
        assert status in re.sub(r"<[^>]+>", "", cell)  # the status is text, not colour alone
    assert "已提交 1 天,部分完成 1 天,漏检 %d 天" % (LAST.days - 2) in page
    assert "本月合格率 95.8 %" in page  # 23 of 24 judged items
    assert '<th scope="col">周一</th>' in page and "<caption" in page


def test_days_with_a_sheet_link_to_that_days_sheet(app, manager, month_with_three_kinds):
    start = month_with_three_kinds
    days = cells(manager.get(f"{URL}?month={LAST.label}").get_data(as_text=True))
    linked = {day for day, cell in days.items() if "<a href=" in cell}
    if "checklist.day" not in app.view_functions:
        assert linked == set()
        return
    assert linked == {(start + timedelta(days=n)).isoformat() for n in (2, 3)}
    day = (start + timedelta(days=2)).isoformat()
    assert f'href="/checklist/day/{day}"' in days[day]
    assert manager.get(f"/checklist/day/{day}").status_code == 200


def test_a_sheet_opened_but_never_ticked_is_missed(manager):
    sheet = fill(LAST.start, {})
    cell = cells(manager.get(f"{URL}?month={LAST.label}").get_data(as_text=True))[
        sheet.day.isoformat()]
    assert "cal-missed" in cell and "漏检" in cell


def test_the_current_month_shows_today_and_days_still_to_come(app, lobby):
    today = local_today()
    page = lobby.get(URL).get_data(as_text=True)
    assert f"{month_of(today).label} 检查日历" in page
    days = cells(page)
    assert 'aria-current="date"' in days[today.isoformat()] and "未开始" in days[today.isoformat()]
    if "checklist.day" in app.view_functions:  # the lobby manager opens today's sheet from here
        assert f'href="/checklist/day/{today.isoformat()}"' in days[today.isoformat()]
    fill(today, {1: "pass", 2: "pass"})
    cell = cells(lobby.get(URL).get_data(as_text=True))[today.isoformat()]
    assert "进行中" in cell and "已检查 2/20" in cell
    if month_of(today).end > today:
        later = cells(page)[month_of(today).end.isoformat()]
        assert "cal-future" in later and "未开始" not in later


def test_previous_and_next_month_links_keep_the_outlet(office):
    page = office.get(f"{URL}?month=2026-01&outlet=ZJK-002").get_data(as_text=True)
    assert 'href="/checklist/history?month=2025-12&amp;outlet=ZJK-002" rel="prev"' in page
    assert 'href="/checklist/history?month=2026-02&amp;outlet=ZJK-002" rel="next"' in page
    edge = office.get(f"{URL}?month=2099-12").get_data(as_text=True)
    assert 'rel="next"' not in edge and 'rel="prev"' in edge


# --- most failed items --------------------------------------------------------------------------

def test_the_months_most_failed_items_come_first(manager):
    start = LAST.start
    fill(start, all_pass(n12="problem", n5="problem"), sign=True)
    fill(start + timedelta(days=1), all_pass(n12="problem", n3="problem"), sign=True)
    fill(start + timedelta(days=2), all_pass(n14="problem", n5="problem", n1="problem"))
    fill(start + timedelta(days=3), all_pass(n12="problem"), code="ZJK-002")  # other outlet
    page = manager.get(f"{URL}?month={LAST.label}").get_data(as_text=True)
    table = page[page.index("不合格最多的项目"):]
    rows = re.findall(r'<tr><th scope="row">(\d)</th><td>(\d+)</td><td>(.*?)</td>'
                      r'<td class="num">(\d+)</td></tr>', table)
    assert [(n, count) for _, n, _, count in rows] == [
        ("5", "2"), ("12", "2"), ("1", "1"), ("3", "1"), ("14", "1")]  # ties by number
    assert rows[1][2] == "办公用具准备齐全、摆放有序,无其他杂物"
    empty = manager.get(f"{URL}?month={previous_month(LAST.start).label}")
    assert "本月没有不合格项。" in empty.get_data(as_text=True)


def test_after_a_reordered_version_failures_are_counted_per_item(manager):
    start = LAST.start
    fill(start, all_pass(n12="problem"), sign=True)
    rows = [tuple(row) for row in services.DEFAULT_ITEMS]
    rows[11], rows[13] = rows[13], rows[11]
    services.save_template(rows, person("S0001"), "对调 12、14", morning(start))
    db.session.commit()
    fill(start + timedelta(days=1), all_pass(n12="problem"), sign=True)
    page = manager.get(f"{URL}?month={LAST.label}").get_data(as_text=True)
    assert "办公用具准备齐全、摆放有序,无其他杂物" in page
    assert "个人工作区(桌面、键盘、柜台、柜台玻璃)清洁" in page


# --- the download ----------------------------------------------------------------------------

def test_the_month_downloads_as_xlsx(manager, month_with_three_kinds):
    start = month_with_three_kinds
    response = manager.get(f"{URL}?month={LAST.label}&format=xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert f"ZJK-001-{LAST.label}.xlsx" in response.headers["Content-Disposition"].replace(
        "%2D", "-")
    book = load_workbook(io.BytesIO(response.data))
    days, failed = book.worksheets
    lines = list(days.values)
    assert lines[0] == ("日期", "状态", "已检查", "合格", "不合格", "合格率")
    assert len(lines) == 1 + LAST.days
    by_day = {line[0].date(): line[1:] for line in lines[1:]}
    assert by_day[start + timedelta(days=2)] == ("已提交", 20, 18, 1, "94.7 %")
    assert by_day[start + timedelta(days=3)] == ("部分完成", 5, 5, 0, "100 %")
    assert by_day[start + timedelta(days=4)] == ("漏检", 0, 0, 0, "—")
    assert list(failed.values) == [("排名", "序号", "检查内容", "不合格次数"),
                                   (1, 12, "办公用具准备齐全、摆放有序,无其他杂物", 1)]


# --- scope ---------------------------------------------------------------------------------------

def test_the_office_chooses_an_outlet_of_its_subtree(office):
    fill(LAST.start, all_pass(n9="problem"), sign=True, code="ZJK-002")
    page = office.get(f"{URL}?month={LAST.label}&outlet=ZJK-002").get_data(as_text=True)
    assert "桥东网点" in page and '<option value="ZJK-002" selected>' in page
    assert "已提交" in cells(page)[LAST.start.isoformat()]
    assert "员工统一着装、佩戴工号牌" in page
    first = office.get(f"{URL}?month={LAST.label}").get_data(as_text=True)  # default: first outlet
    assert "营业部网点(ZJK-001)" in first and "漏检" in cells(first)[LAST.start.isoformat()]
    assert office.get(f"{URL}?outlet=zjk-002").status_code == 200
    for code in ("ZJK", "HQ", "NOPE", "ZJK-00%"):
        assert office.get(f"{URL}?outlet={code}").status_code == 404


def test_outlet_staff_see_only_their_own_outlet(app, manager, lobby):
    fill(LAST.start, sign=True, code="ZJK-002")
    other = sign_in_as(app.test_client(), "M0002")
    page = other.get(f"{URL}?month={LAST.label}").get_data(as_text=True)
    assert "桥东网点" in page and "已提交" in cells(page)[LAST.start.isoformat()]
    assert 'name="outlet"' not in page
    assert other.get(f"{URL}?outlet=ZJK-001").status_code == 404
    assert manager.get(f"{URL}?outlet=ZJK-002").status_code == 404
    assert manager.get(f"{URL}?outlet=ZJK-002&format=xlsx").status_code == 404
    assert lobby.get(f"{URL}?outlet=ZJK-002").status_code == 404
    assert lobby.get(f"{URL}?outlet=ZJK-001").status_code == 200


@pytest.mark.parametrize("role", ["teller", "admin"])
def test_tellers_and_admins_may_not_see_the_history(app, role):
    client = sign_in_as(app.test_client(), ROLE_ACCOUNTS[role])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}?format=xlsx").status_code == 403
    assert "检查记录" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["lobby", "manager", "office"])
def test_the_history_is_in_the_navigation(app, role):
    client = sign_in_as(app.test_client(), ROLE_ACCOUNTS[role])
    assert f'href="{URL}"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "abcd", "2026Q1", "0000-01",
                                   "9999-12", "1999-12", "2100-01", "2026-1", "2026-01-01"])
def test_a_bad_month_is_answered_400_with_a_message(manager, month):
    response = manager.get(URL, query_string={"month": month})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请按 YYYY-MM 格式填写" in page
    assert 'aria-invalid="true"' in page
    assert manager.get(URL, query_string={"month": month, "format": "xlsx"}).status_code == 400


# --- bounded queries -------------------------------------------------------------------------

def test_the_page_and_download_take_the_same_queries_whatever_the_sheets(office, count_queries):
    fill(LAST.start, {1: "problem", 2: "pass"})
    counted = {}
    for label in ("few", "many"):
        with count_queries() as few:
            assert office.get(f"{URL}?month={LAST.label}").status_code == 200
        with count_queries() as download:
            assert office.get(f"{URL}?month={LAST.label}&format=xlsx").status_code == 200
        counted[label] = tuple(len([q for q in found if not q.startswith("BEGIN")])
                               for found in (few, download))
        for offset in range(1, 12):
            fill(LAST.start + timedelta(days=offset), {1: "problem", 2: "na", 3: "pass"},
                 sign=False)
    assert counted["few"] == counted["many"]
    assert counted["many"][0] <= 8
