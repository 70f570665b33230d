"""Every table a manager sees can be downloaded as .xlsx (SPEC 8): the downloads added to the
ratings, complaints and checklist pages — content type, header row, the page's scope, roles."""
from datetime import timedelta

import pytest

from portal.blueprints.ratings import services as ratings
from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import unit_by_code
from portal.periods import previous_month
from portal.timeutil import local_today, utcnow

from .conftest import ROLE_ACCOUNTS, person, sign_in_as
from .ratings_helpers import make_rating
from .reports_helpers import XLSX, at, complaint, sheet, sheet_rows, workbook

TODAY = local_today()
DAY = previous_month(TODAY).end


def text(response) -> str:
    return response.get_data(as_text=True)


def as_(app, work_no: str):
    return sign_in_as(app.test_client(), work_no)


def refused_to(app, url: str, roles) -> None:
    for role in roles:
        assert as_(app, ROLE_ACCOUNTS[role]).get(url).status_code == 403, (url, role)


# --- checklist ---------------------------------------------------------------------------------

@pytest.fixture
def problems(app):
    sheet("ZJK-001", DAY, problems=(12,))
    sheet("ZJK-002", DAY, problems=(9,))


def test_the_problem_ledger_downloads_with_the_page_s_scope(app, manager, office, problems):
    assert 'href="/checklist/problems.xlsx"' in text(manager.get("/checklist/problems"))
    book = workbook(manager.get("/checklist/problems.xlsx"))
    found = sheet_rows(book, "问题台账")
    assert found[0][:4] == ("日期", "网点", "序号", "检查内容")
    assert [(r[1], r[2], r[4]) for r in found[1:]] == [("营业部网点", 12, "第 12 项有问题")]
    both = sheet_rows(workbook(office.get("/checklist/problems.xlsx")), "问题台账")
    assert sorted(r[1] for r in both[1:]) == ["桥东网点", "营业部网点"]
    chosen = sheet_rows(workbook(office.get("/checklist/problems.xlsx?outlet=ZJK-002")), "问题台账")
    assert [r[2] for r in chosen[1:]] == [9]
    assert 'href="/checklist/problems.xlsx?outlet=ZJK-002"' in text(
        office.get("/checklist/problems?outlet=ZJK-002"))
    # as on the page, outlet staff always get their own outlet, whatever ?outlet= says
    theirs = workbook(as_(app, "M0002").get("/checklist/problems.xlsx?outlet=ZJK-001"))
    assert [(r[1], r[2]) for r in sheet_rows(theirs, "问题台账")[1:]] == [("桥东网点", 9)]
    refused_to(app, "/checklist/problems.xlsx", ("teller", "admin"))


def test_a_day_s_sheet_downloads_with_every_item(app, manager, office, problems):
    url = f"/checklist/day/{DAY.isoformat()}/sheet.xlsx"
    assert f'href="{url}"' in text(manager.get(f"/checklist/day/{DAY.isoformat()}"))
    response = manager.get(url)
    assert response.mimetype == XLSX
    found = sheet_rows(workbook(response), DAY.isoformat())
    assert found[0][:4] == ("序号", "类别", "检查内容", "结果") and len(found) == 21
    assert found[12][3] == "不合格" and found[12][4] == "第 12 项有问题"
    assert all(row[3] == "合格" for n, row in enumerate(found[1:], 1) if n != 12)
    other = sheet_rows(workbook(office.get(f"{url}?outlet=ZJK-002")), DAY.isoformat())
    assert other[9][4] == "第 9 项有问题" and "第 12 项有问题" not in [r[4] for r in other]
    assert as_(app, "M0002").get(f"{url}?outlet=ZJK-001").status_code == 404
    assert manager.get(f"/checklist/day/{(DAY - timedelta(days=1)).isoformat()}/sheet.xlsx"
                       ).status_code == 404  # no sheet that day
    refused_to(app, url, ("teller", "admin"))


def test_the_checklist_template_and_its_versions_download(app, office):
    assert 'href="/checklist/template.xlsx"' in text(office.get("/checklist/template"))
    book = workbook(office.get("/checklist/template.xlsx"))
    items = sheet_rows(book, book.sheetnames[0])
    assert items[0] == ("序号", "类别", "检查内容", "扣分条款") and len(items) == 21
    assert items[1][2].startswith("营业厅地面")
    assert sheet_rows(book, "历史版本")[1][0] == 1
    assert 'href="/checklist/template/1.xlsx"' in text(office.get("/checklist/template/1"))
    version = sheet_rows(workbook(office.get("/checklist/template/1.xlsx")), "第 1 版")
    assert version == items
    assert office.get("/checklist/template/999.xlsx").status_code == 404
    refused_to(app, "/checklist/template.xlsx", ("lobby", "manager", "teller", "admin"))
    refused_to(app, "/checklist/template/1.xlsx", ("manager",))


# --- ratings -----------------------------------------------------------------------------------

def test_my_ratings_download_holds_only_my_own(app, teller):
    make_rating(person("T1001"), 5, DAY, comment="办理很快")
    make_rating(person("T1002"), 2, DAY, comment="别人的评价")
    assert 'href="/ratings/mine.xlsx"' in text(teller.get("/ratings/mine"))
    found = sheet_rows(workbook(teller.get("/ratings/mine.xlsx")), "我的评价")
    assert found[0][:2] == ("时间", "星级")
    assert [(r[1], r[3]) for r in found[1:]] == [(5, "办理很快")]
    mine = sheet_rows(workbook(as_(app, "M0001").get("/ratings/mine.xlsx")), "我的评价")
    assert len(mine) == 1  # the manager has no ratings: a header only
    refused_to(app, "/ratings/mine.xlsx", ("office", "admin"))


def test_the_window_table_downloads_for_the_own_outlet(app, teller):
    first = db.session.scalar(db.select(Window).where(
        Window.outlet_id == unit_by_code("ZJK-001").id, Window.number == 2))
    ratings.open_window(person("T1001"), first, utcnow())
    other = db.session.scalar(db.select(Window).where(
        Window.outlet_id == unit_by_code("ZJK-002").id, Window.number == 1))
    ratings.open_window(person("T2001"), other, utcnow())
    assert 'href="/ratings/window.xlsx"' in text(teller.get("/ratings/window"))
    found = sheet_rows(workbook(teller.get("/ratings/window.xlsx")), "本网点窗口")
    assert found[0] == ("窗口", "在岗柜员", "工号", "开启时间") and len(found) == 7
    assert found[2][2] == "T1001" and found[1][1] == "未开启"
    assert "T2001" not in [r[2] for r in found]
    refused_to(app, "/ratings/window.xlsx", ("office", "admin"))


def test_the_star_level_table_downloads_for_the_office(app, office):
    assert 'href="/ratings/thresholds.xlsx"' in text(office.get("/ratings/thresholds"))
    found = sheet_rows(workbook(office.get("/ratings/thresholds.xlsx")), "星级评定标准")
    assert found[0][:3] == ("星级", "评价数 ≥", "平均星级 ≥")
    assert [r[1] for r in found[1:]] == [100, 60, 30, 10]
    assert found[1][3] == "99.5 %" and found[4][7] == "不限"
    refused_to(app, "/ratings/thresholds.xlsx", ("teller", "lobby", "manager", "admin"))


# --- complaints --------------------------------------------------------------------------------

def test_the_complaint_desk_downloads_what_is_on_the_desk(app, manager):
    mine = complaint("ZJK-001", at(TODAY, 9)).ticket
    other = complaint("ZJK-002", at(TODAY, 9)).ticket
    assert 'href="/complaints/desk.xlsx"' in text(manager.get("/"))
    found = sheet_rows(workbook(manager.get("/complaints/desk.xlsx")), "待办投诉")
    assert found[0][:3] == ("单号", "网点", "状态")
    assert [r[0] for r in found[1:]] == [mine] and found[1][1] == "营业部网点"
    assert found[1][4].startswith(("响应", "办结"))
    lobby = sheet_rows(workbook(as_(app, "L0002").get("/complaints/desk.xlsx")), "待办投诉")
    assert [r[0] for r in lobby[1:]] == [other]
    refused_to(app, "/complaints/desk.xlsx", ("admin",))
