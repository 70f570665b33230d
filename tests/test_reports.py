"""The monthly notice (月度通报): each section shows the month's data, month boundaries, bad
months, scope and roles, the printable page, the .xlsx download and bounded queries."""
import re
from datetime import date, timedelta

import pytest

from portal.blueprints.honours import services as honours
from portal.blueprints.reports import services
from portal.extensions import db
from portal.periods import month, previous_month
from portal.timeutil import local_today

from .conftest import ROLE_ACCOUNTS, person, sign_in_as
from .ratings_helpers import make_ratings, set_transactions
from .reports_helpers import at, complaint, entry, office_elsewhere, sheet, sheet_rows, workbook

TODAY = local_today()
LAST = previous_month(TODAY)  # the default month of a notice, wholly past
NEXT_DAY = LAST.end + timedelta(days=1)  # the first day of the following month
URL = "/reports/notice"


def text(response) -> str:
    return response.get_data(as_text=True)


def table(page: str, key: str) -> str:
    """The HTML of one table of the notice."""
    found = re.search(rf'<table class="notice-table" id="table-{key}">.*?</table>', page, re.S)
    assert found, key
    return found[0]


def rows(page: str, key: str) -> list[str]:
    """The rows of a table's body, as text with the cells separated by |."""
    body = re.search(r"<tbody>(.*?)</tbody>", table(page, key), re.S)[1]
    return ["|".join(c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture
def the_month(app):
    """ZJK-001's month LAST with something in every section, and the same kinds of data just
    outside the month (the first day of the next one) and in ZJK-002."""
    entry("T1001", "R04", LAST.end, reason="月末最后一天")  # −1, charges M0001 −0.5 (MGR)
    entry("T1002", "A03", LAST.start, reason="客户表扬信")
    entry("T1003", "R12", NEXT_DAY, reason="下月第一天")
    entry("T2001", "R04", LAST.end, reason="桥东的记录")
    make_ratings(person("T1001"), 5, LAST.end, 3)
    set_transactions(person("T1001"), LAST.end, 4)
    make_ratings(person("T1001"), 1, NEXT_DAY, 1)
    make_ratings(person("T2001"), 4, LAST.end, 2)
    inside = complaint("ZJK-001", at(LAST.end, 16), "upheld", ["T1001"])
    outside = complaint("ZJK-001", at(NEXT_DAY, 10))
    elsewhere = complaint("ZJK-002", at(LAST.end, 10))
    sheet("ZJK-001", LAST.end, problems=(12,))
    sheet("ZJK-001", LAST.start, problems=(12,), sign=False)
    sheet("ZJK-001", NEXT_DAY, problems=(5,))
    sheet("ZJK-002", LAST.end, problems=(9,))
    return {"inside": inside.ticket, "outside": outside.ticket, "elsewhere": elsewhere.ticket}


# --- the pure rule -------------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("", "2026-09"), (None, "2026-09"), ("2026-10", "2026-10"), ("2026-03", "2026-03"),
    (" 2025-12 ", "2025-12")])
def test_the_notice_month_defaults_to_the_previous_one(given, expected):
    assert services.notice_month(given, date(2026, 10, 15)).label == expected


def test_january_s_default_is_last_december():
    assert services.notice_month("", date(2027, 1, 3)).label == "2026-12"


@pytest.mark.parametrize("given", ["2026-13", "2026-1", "2026Q3", "2026", "x", "2026-00",
                                   "1999-12", "2026-11", "9999-12", "２０２６-01"])
def test_bad_or_future_months_are_refused(given):
    with pytest.raises(services.BadMonth):
        services.notice_month(given, date(2026, 10, 15))


def test_balances_are_read_at_the_month_s_end_or_today_while_it_runs():
    october = month(2026, 10)
    assert services.balance_day(october, date(2026, 11, 2)) == date(2026, 10, 31)
    assert services.balance_day(october, date(2026, 10, 15)) == date(2026, 10, 15)


# --- the page --------------------------------------------------------------------------------

def test_the_manager_s_notice_shows_every_section_of_the_month(manager, the_month):
    page = text(manager.get(URL))  # the previous month by default
    assert f"{LAST.label} 月" in page and "营业部网点(ZJK-001)" in page
    assert "生成时间:" in page and "生成人:" in page
    entries = rows(page, "entries")
    assert any(f"{LAST.end.isoformat()}|T1001|" in r and "|R04|" in r and "|−1|100|扣分|月末最后一天" in r
               for r in entries)
    assert any("|T1002|" in r and "|A03|" in r and "|2|0|奖励|" in r for r in entries)
    charge = [r for r in entries if "|MGR|" in r]
    assert len(charge) == 1 and "|M0001|" in charge[0] and "|−0.5|50|管理连带|" in charge[0]
    assert 'class="notice-marked"' in table(page, "entries")
    assert not any("下月第一天" in r or "桥东" in r for r in entries)
    balances = {r.split("|")[0]: r for r in rows(page, "balances")}
    assert balances["T1001"].endswith("|−1|11|正常")
    assert balances["T1002"].endswith("|2|14|正常")
    assert balances["T1003"].endswith("|0|12|正常")  # the next month's entry not counted
    assert balances["M0001"].endswith("|−0.5|11.5|正常")
    assert "T2001" not in balances
    assert f"积分余额(截至 {LAST.end.isoformat()})" in table(page, "balances")
    ratings = {r.split("|")[0]: r for r in rows(page, "ratings")}
    assert ratings["T1001"] == "T1001|" + ratings["T1001"].split("|")[1] + (
        "|3|5|100 %|75 %|100 %|1|" + ratings["T1001"].split("|")[-1])
    assert "T2001" not in ratings and set(ratings) == {f"T100{n}" for n in range(1, 7)}
    listed = rows(page, "complaints")
    assert len(listed) == 1 and the_month["inside"] in listed[0] and "|属实|" in listed[0]
    measures = rows(page, "complaint_measures")
    assert measures[0].startswith("ZJK-001|营业部网点|1|4|2500|") and "|100 %|" in measures[0]
    assert rows(page, "checklist") == [f"1|1|{LAST.days - 2}|0|0|95 %"]
    failed = rows(page, "failed_items")
    assert len(failed) == 1 and failed[0].startswith("1|12|") and failed[0].endswith("|2")
    assert the_month["elsewhere"] not in page and the_month["outside"] not in page


def test_the_month_s_honours_are_on_the_notice(manager, office):
    for work_no, manager_no in (("T1004", "M0001"), ("T2002", "M0002")):
        honour = honours.nominate(person(manager_no), person(work_no), "monthly_star",
                                  LAST.label, f"{work_no} 服务热情周到", at(TODAY))
        honours.approve(honour, person("S0001"), at(TODAY, 11))
    rejected = honours.nominate(person("M0001"), person("T1005"), "post_expert", LAST.label,
                                "未获批准的推荐", at(TODAY))
    honours.reject(rejected, person("S0001"), "材料不足", at(TODAY, 11))
    db.session.commit()
    page = text(manager.get(URL))
    listed = rows(page, "honours")
    assert len(listed) == 1
    assert listed[0].startswith("月度服务明星|") and "|T1004|T1004 服务热情周到|" + LAST.label in listed[0]
    assert "T2002" not in page and "未获批准的推荐" not in page
    assert "T2002" in "".join(rows(text(office.get(f"{URL}?outlet=ZJK-002")), "honours"))
    book = workbook(manager.get(URL + ".xlsx"))
    assert [r[2] for r in sheet_rows(book, "光荣榜")[1:]] == ["T1004"]
    earlier = text(manager.get(f"{URL}?month=2020-01"))
    assert "本月没有获得荣誉的人员。" in earlier


def test_the_projected_level_is_the_one_the_api_gives_for_the_month(app, manager, the_month):
    from portal.blueprints.api.services import create_token

    _, token = create_token("reports")
    api = app.test_client().get(f"/api/v1/people/T1001/ratings?period={LAST.label}",
                                headers={"Authorization": f"Bearer {token}"}).get_json()
    row = next(r for r in rows(text(manager.get(URL)), "ratings") if r.startswith("T1001|"))
    level = int(api["projected_level"])
    assert row.split("|")[-1].startswith("★" * level + "☆" * (5 - level))
    assert row.split("|")[2] == str(api["ratings"])


def test_the_office_reads_any_outlet_of_its_subtree(office, the_month):
    page = text(office.get(f"{URL}?outlet=ZJK-002&month={LAST.label}"))
    assert "桥东网点(ZJK-002)" in page
    assert any("桥东的记录" in r for r in rows(page, "entries"))
    assert the_month["elsewhere"] in page and the_month["inside"] not in page
    assert [r.split("|")[0] for r in rows(page, "ratings")] == ["T2001", "T2002", "T2003",
                                                                 "T2004"]
    assert 'name="outlet"' in page  # the office chooses the outlet
    default = text(office.get(URL))
    assert "营业部网点(ZJK-001)" in default  # its first outlet when none is named


def test_an_entry_on_the_month_s_last_day_counts_and_the_next_day_does_not(manager, the_month):
    page = text(manager.get(f"{URL}?month={LAST.label}"))
    assert any(LAST.end.isoformat() in r for r in rows(page, "entries"))
    assert not any(NEXT_DAY.isoformat() in r for r in rows(page, "entries"))
    following = text(manager.get(f"{URL}?month={NEXT_DAY.strftime('%Y-%m')}"))
    assert any("下月第一天" in r for r in rows(following, "entries"))
    assert not any("月末最后一天" in r for r in rows(following, "entries"))
    assert the_month["outside"] in following and the_month["inside"] not in following
    assert "本月尚未结束,数据截至今天。" in following


def test_an_empty_month_says_so_in_every_table(manager):
    page = text(manager.get(f"{URL}?month=2020-02"))
    for message in ("本月没有已生效的积分记录。", "本月没有受理投诉。", "本月没有不合格项。"):
        assert message in page
    assert rows(page, "checklist") == ["0|0|29|0|0|—"]  # 2020-02 had 29 days, all missed


@pytest.mark.parametrize("month_text, message", [
    ("2026-13", "请按 YYYY-MM 格式填写月份"), ("abc", "请按 YYYY-MM 格式填写月份"),
    ("2026Q1", "请按 YYYY-MM 格式填写月份"), ("1999-01", "月份不能早于 2000 年"),
    ("2999-01", "2999-01 尚未开始"), ("9999-12", "请按 YYYY-MM 格式填写月份")])
def test_a_bad_month_gets_a_clear_message_next_to_the_field(manager, month_text, message):
    response = manager.get(f"{URL}?month={month_text}")
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'aria-invalid="true"' in page and 'class="error"' in page
    assert f'value="{month_text}"' in page
    download = manager.get(f"{URL}.xlsx?month={month_text}")
    assert download.status_code == 400 and message in text(download)


def test_the_page_is_printable(manager, the_month):
    page = text(manager.get(URL))
    assert "reports.css" in page and "reports.js" in page and "data-print" in page
    assert "下载 Excel" in page and f"/reports/notice.xlsx?month={LAST.label}" in page
    assert "onclick" not in page  # the CSP allows no inline script
    css = text(manager.get("/static/reports.css"))
    assert "@media print" in css and ".topbar" in css and "break-inside: avoid" in css
    assert "thead { display: table-header-group; }" in css


def test_the_notice_and_its_download_work_in_english(manager, the_month):
    manager.post("/lang", data={"lang": "en", "next": "/"})
    page = manager.get(URL)
    assert page.status_code == 200 and '<html lang="en">' in text(page)
    book = workbook(manager.get(URL + ".xlsx"))
    assert len(book.sheetnames) == 8 and len(set(book.sheetnames)) == 8


# --- scope and roles -------------------------------------------------------------------------

def test_a_manager_sees_only_their_own_outlet(app, the_month):
    other = sign_in_as(app.test_client(), "M0002")
    assert other.get(f"{URL}?outlet=ZJK-001").status_code == 404
    assert other.get(f"{URL}.xlsx?outlet=ZJK-001").status_code == 404
    page = text(other.get(URL))
    assert "桥东网点(ZJK-002)" in page and the_month["inside"] not in page
    assert 'name="outlet"' not in page


def test_an_office_outside_the_subtree_gets_not_found(app, the_month):
    elsewhere = sign_in_as(app.test_client(), office_elsewhere())
    for code in ("ZJK-001", "ZJK-002", "NOPE"):
        assert elsewhere.get(f"{URL}?outlet={code}").status_code == 404
        assert elsewhere.get(f"{URL}.xlsx?outlet={code}").status_code == 404
    assert "北京网点(BJ-001)" in text(elsewhere.get(URL))


@pytest.mark.parametrize("role", ["teller", "lobby", "admin"])
def test_other_roles_may_not_read_the_notice(app, role):
    client = sign_in_as(app.test_client(), ROLE_ACCOUNTS[role])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}.xlsx").status_code == 403


def test_the_nav_offers_the_notice_to_managers_and_the_office(manager, office, lobby):
    assert 'href="/reports/notice"' in text(manager.get("/"))
    assert 'href="/reports/notice"' in text(office.get("/"))
    assert 'href="/reports/notice"' not in text(lobby.get("/"))


# --- the download ------------------------------------------------------------------------------

def test_the_xlsx_has_one_sheet_per_table_with_the_page_s_rows(manager, the_month):
    response = manager.get(URL + ".xlsx")
    book = workbook(response)
    assert LAST.label in response.headers["Content-Disposition"]
    assert book.sheetnames == ["积分明细", "积分余额", "星级评价", "投诉明细", "投诉指标",
                               "厅堂检查完成情况", "不合格最多的项目", "光荣榜"]
    entries = sheet_rows(book, "积分明细")
    assert entries[0][:4] == ("日期", "工号", "姓名", "条款")
    assert {(r[1], r[3], r[5]) for r in entries[1:]} == {
        ("T1001", "R04", -1), ("T1002", "A03", 2), ("M0001", "MGR", -0.5)}
    assert next(r for r in entries[1:] if r[3] == "MGR")[7] == "管理连带"
    balances = {r[0]: r for r in sheet_rows(book, "积分余额")[1:]}
    assert balances["T1001"][4] == 11 and "T2001" not in balances
    complaints = sheet_rows(book, "投诉明细")
    assert [r[0] for r in complaints[1:]] == [the_month["inside"]]
    assert sheet_rows(book, "不合格最多的项目")[1][1:4:2] == (12, 2)


# --- bounded queries -----------------------------------------------------------------------------

def _more(rounds: range) -> None:
    """More of everything in ZJK-001's month LAST: entries, ratings, complaints, sheets."""
    for k in rounds:
        day = LAST.start + timedelta(days=k + 1)
        for work_no in ("T1004", "T1005", "T1006"):
            entry(work_no, "A02", day, reason=f"建议{k}")
            make_ratings(person(work_no), 4, day, 2)
            set_transactions(person(work_no), day, 3)
        entry("T1002", "R03", day, reason=f"仪容{k}")
        complaint("ZJK-001", at(day, 10), "partly", ["T1002"], description=f"第{k}件")
        sheet("ZJK-001", day, problems=(k % 20 + 1, 3))
        title = ("monthly_star", "post_expert", "rising_star")[k // 3]
        honour = honours.nominate(person("M0001"), person(f"T100{4 + k % 3}"), title, LAST.label,
                                  f"事迹{k}", at(TODAY))
        honours.approve(honour, person("S0001"), at(TODAY, 11))
        db.session.commit()


def _count(client, count_queries) -> dict[str, int]:
    found = {}
    for url in (f"{URL}?month={LAST.label}", f"{URL}.xlsx?month={LAST.label}",
                f"{URL}?outlet=ZJK-001&month={LAST.label}"):
        db.session.commit()  # each request starts its own transaction, as in production
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        found[url] = len(statements)
    return found


def test_the_notice_takes_the_same_queries_whatever_the_data(app, count_queries, the_month):
    manager, office = sign_in_as(app.test_client(), "M0001"), sign_in_as(app.test_client(),
                                                                           "S0001")
    _more(range(1))
    few = _count(manager, count_queries), _count(office, count_queries)
    _more(range(1, 6))
    assert len(rows(text(manager.get(f"{URL}?month={LAST.label}")), "honours")) == 6
    assert (_count(manager, count_queries), _count(office, count_queries)) == few

