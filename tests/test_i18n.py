"""The English interface: every UI string has a translation and the pages show it.

Chinese is the default; choosing "English" (POST /lang) switches the session to the English
catalogue. Names of people and outlets come from the (Chinese) demo data and stay as they are,
so the "no Chinese left" checks look only at the navigation, the headings and the page title,
with those names taken out first.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import OrgUnit, Person, unit_by_code
from portal.timeutil import utcnow

from .conftest import person

TRANSLATIONS = Path(__file__).resolve().parent.parent / "portal" / "translations"
CATALOGUE = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
COMPILED = CATALOGUE.with_suffix(".mo")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _read_catalogue():
    with CATALOGUE.open("rb") as f:
        return read_po(f, locale="en")


def _compile_if_stale() -> None:
    """Compile the catalogue as ``make test`` does, when the git-ignored .mo is missing or old.

    Done at import, before any app of the run has loaded (and cached) the translations.
    """
    if COMPILED.exists() and COMPILED.stat().st_mtime >= CATALOGUE.stat().st_mtime:
        return
    with COMPILED.open("wb") as f:
        write_mo(f, _read_catalogue(), use_fuzzy=False)


_compile_if_stale()


# --- helpers ----------------------------------------------------------------------------

class _Parts(HTMLParser):
    """Collect the text inside <nav>, <h1>–<h6> and <title>, one string per element."""

    WATCHED = {"nav", "h1", "h2", "h3", "h4", "h5", "h6", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[list] = []  # [tag, pieces] of the watched elements we are inside
        self.found: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag in self.WATCHED:
            self.open.append([tag, []])

    def handle_endtag(self, tag):
        if tag in self.WATCHED and self.open and self.open[-1][0] == tag:
            name, pieces = self.open.pop()
            text = " ".join("".join(pieces).split())
            self.found.setdefault(name, []).append(text)
            if self.open:  # a heading inside a <nav> counts for the <nav> too
                self.open[-1][1].append(text)

    def handle_data(self, data):
        if self.open:
            self.open[-1][1].append(data)


def parts(page: str) -> dict[str, list[str]]:
    parser = _Parts()
    parser.feed(page)
    parser.close()
    return parser.found


def demo_names() -> list[str]:
    """Names of people and units, longest first (so that 营业部网点 goes before 营业部)."""
    names = set(db.session.scalars(select(Person.name))) | set(db.session.scalars(select(OrgUnit.name)))
    return sorted(names, key=len, reverse=True)


def leftover_chinese(page: str) -> dict[str, list[str]]:
    """The nav, heading and title texts of ``page`` that still hold CJK once names are removed."""
    names = demo_names()
    left = {}
    for tag, texts in parts(page).items():
        for text in texts:
            for name in names:
                text = text.replace(name, "")
            if CJK.search(text):
                left.setdefault(tag, []).append(text)
    return left


def in_english(client):
    response = client.post("/lang", data={"lang": "en", "next": "/"})
    assert response.status_code == 302
    return client


def english_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert leftover_chinese(page) == {}, path
    return page


def window_of(outlet: str = "ZJK-001", number: int = 1) -> Window:
    return db.session.scalar(select(Window).where(Window.outlet_id == unit_by_code(outlet).id,
                                                  Window.number == number))


# --- the catalogue ------------------------------------------------------------------------

def test_every_message_in_the_catalogue_is_translated():
    catalogue = _read_catalogue()
    messages = [m for m in catalogue if m.id]
    assert messages, "the English catalogue is empty; run `make messages`"
    untranslated = [m.id for m in messages
                    if not (all(m.string) if m.pluralizable else m.string)]
    assert untranslated == []
    assert [m.id for m in messages if m.fuzzy] == []


def test_translations_keep_their_placeholders_and_have_no_chinese_left():
    catalogue = _read_catalogue()
    placeholder = re.compile(r"%(?:\([a-z_]+\))?[sdf%]")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        for string in strings:
            assert sorted(placeholder.findall(string)) == sorted(placeholder.findall(ids[0])), \
                message.id
            assert not CJK.search(string), message.id
    assert list(catalogue.check()) == []


def test_the_catalogue_holds_every_string_the_code_marks():
    """Strings marked in templates or Python since the last `make messages` are caught here."""
    root = TRANSLATIONS.parent.parent
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    marked = {message for _, _, message, _, _ in
              extract_from_dir(str(root), method_map, options_map, keywords=keywords)}
    marked = {m[0] if isinstance(m, tuple) else m for m in marked}
    translated = {m.id if isinstance(m.id, str) else m.id[0]
                  for m in _read_catalogue() if m.id and m.string}
    assert marked, "nothing extracted: is babel.cfg still at the project root?"
    assert sorted(marked - translated) == []


# --- pages in English -------------------------------------------------------------------

def test_the_login_page_is_in_english(client):
    page = english_page(in_english(client), "/login")
    for words in ("Sign in", "Work number", "Password", "Civilised Quality Service"):
        assert words in page
    assert "请使用工号和密码登录" not in page


@pytest.mark.parametrize("role, words", [
    ("teller", ("Hello,", "My star level", "My rating measures", "Satisfaction rate",
                "Evaluator-on rate", "Rating trend", "My ratings", "Change password",
                "Sign out")),
    ("lobby", ("Hello,", "My details", "Sign out")),
    ("manager", ("Outlet manager home", "Outlet staff", "Rating alerts", "Outlet ratings",
                 "R15 deduction proposals")),
    ("office", ("Service office home", "Outlets in your area", "Outlet code", "Active staff")),
    ("admin", ("Administration", "units", "active staff", "Recent activity",
               "View the full audit log", "Audit log", "API tokens")),
])
def test_each_role_s_home_page_is_in_english(app, request, role, words):
    page = english_page(in_english(request.getfixturevalue(role)), "/")
    for word in words:
        assert word in page, word


def test_the_people_page_is_in_english(admin):
    page = english_page(in_english(admin), "/admin/people")
    for words in ("People", "New person", "Search", "Work number or name", "All roles",
                  "Status", "Teller", "Outlet manager", "Active"):
        assert words in page, words


def test_my_ratings_page_is_in_english(teller):
    page = english_page(in_english(teller), "/ratings/mine")
    for words in ("My ratings", "malicious", "appeal"):
        assert words in page, words


def test_the_outlet_ratings_page_is_in_english(manager):
    page = english_page(in_english(manager), "/ratings/outlet")
    for words in ("Teller rating measures", "Teller measures", "Projected level",
                  "Assessed level", "Satisfaction rate", "Evaluation rate", "Upheld complaints"):
        assert words in page, words


def test_my_window_page_is_in_english(app, teller):
    page = english_page(in_english(teller), "/ratings/window")
    for words in ("My window", "On-duty rating", "You are not open for rating",
                  "Open for rating (go on duty)", "Outlet windows", "Window 1", "Not open"):
        assert words in page, words
    services.open_window(person("T1001"), window_of(), utcnow())
    db.session.commit()
    page = english_page(teller, "/ratings/window")
    for words in ("You have been open for rating at window 1", "Please rate", "Go off duty",
                  "Dynamic rating code"):
        assert words in page, words


def test_the_customer_rating_page_is_in_english(app, client):
    window = window_of()
    services.open_window(person("T1001"), window, utcnow())
    db.session.commit()
    page = english_page(in_english(client), f"/r/{window.token}")
    for words in ("Rate our service", "Window 1", "Work number", "Your rating of this service",
                  "What went well", "What could be better", "Submit rating",
                  "Ratings are anonymous"):
        assert words in page, words
    assert person("T1001").name in page


def test_a_closed_window_says_so_in_english(client):
    page = english_page(in_english(client), f"/r/{window_of().token}")
    assert "This window is not open for rating at the moment" in page


def test_an_error_page_is_in_english(teller):
    response = in_english(teller).get("/admin/people")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Access denied" in page and leftover_chinese(page) == {}


# --- Chinese stays the default ------------------------------------------------------------

def test_pages_are_in_chinese_by_default(client, teller):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "登录" in page and "工号" in page and "Sign in" not in page
    page = teller.get("/").get_data(as_text=True)
    assert "我的星级" in page and "修改密码" in page
    assert "My star level" not in page and "Change password" not in page


def test_switching_back_to_chinese(teller):
    in_english(teller)
    assert "My star level" in teller.get("/").get_data(as_text=True)
    teller.post("/lang", data={"lang": "zh_CN", "next": "/"})
    page = teller.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "我的星级" in page and "My star level" not in page


# --- complaints in English ----------------------------------------------------------------

def walk_in_complaint():
    """A complaint the lobby manager recorded at the counter; she is its first-contact owner."""
    from portal.blueprints.complaints import services as complaints

    complaint = complaints.create(complaints.NewComplaint(
        channel="walk_in", outlet=person("L0001").org_unit, category="attitude", description="x",
        customer_phone="13800001234"), person("L0001"), utcnow())
    db.session.commit()
    return complaint


def flat(page: str) -> str:
    """The page with its runs of white space made single spaces (the clock spans lines)."""
    return " ".join(page.split())


def test_the_complaint_form_is_in_english(client):
    page = english_page(in_english(client), "/complaints/new")
    for words in ("Make a complaint", "Please tell us what happened", "Outlet", "Window number",
                  "Complaint category", "Staff attitude", "Waiting time", "What happened",
                  "Your name (optional)", "Phone number", "Complain anonymously",
                  "Submit complaint", "Check complaint progress"):
        assert words in page, words
    assert "提交投诉" not in page and "投诉类别" not in page


def test_a_refused_complaint_explains_why_in_english(client):
    response = in_english(client).post("/complaints/new", data={"outlet": "ZJK-001"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert leftover_chinese(page) == {}
    for words in ("Your complaint was not submitted", "Please choose a complaint category.",
                  "Please describe what happened.",
                  "Please enter a phone number, or choose to complain anonymously."):
        assert words in page, words


def test_the_complaint_status_page_is_in_english(client):
    page = english_page(in_english(client), "/complaints/status")
    for words in ("Check complaint progress", "Ticket number",
                  "Last four digits of your phone number", "Check", "Make a complaint"):
        assert words in page, words
    assert "查询投诉进度" not in page
    complaint = walk_in_complaint()
    response = client.post("/complaints/status",
                           data={"ticket": complaint.ticket, "last_four": "1234"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert leftover_chinese(page) == {}
    for words in (f"Ticket number {complaint.ticket}", "Awaiting response", "Received at",
                  "Staff attitude", "Replies", "No reply yet"):
        assert words in page, words


def test_the_complaint_list_is_in_english(lobby):
    complaint = walk_in_complaint()
    page = flat(english_page(in_english(lobby), "/complaints/"))
    for words in ("Complaints", "Open", "Awaiting response", "Record a complaint",
                  "Ticket number", "Received at", "First-contact owner", "Time left",
                  complaint.ticket, "In person", "Staff attitude", "Response due in"):
        assert words in page, words
    page = english_page(lobby, "/")
    for words in ("Complaints to handle", "All complaints", complaint.ticket):
        assert words in page, words


def test_a_complaint_s_page_is_in_english(lobby):
    complaint = walk_in_complaint()
    page = flat(english_page(in_english(lobby), f"/complaints/{complaint.id}"))
    for words in (f"Complaint {complaint.ticket}", "Awaiting response", "Response due in",
                  "Complaint details", "Channel", "In person", "Complaint level",
                  "First-contact owner", "Current handler", "Response due", "Decision due",
                  "Transfers", "What happened", "Actions", "First response",
                  "Response note (how you contacted the customer)", "Record response",
                  "Transfer to", "buck-passing risk", "Extend to 30 days", "Add note",
                  "Handling history", "Received", "Back to complaints"):
        assert words in page, words
    assert "首问责任人" not in page and "推诿风险" not in page


def test_the_teller_s_level_gap_and_trend_months_are_in_english(teller):
    page = english_page(in_english(teller), "/")
    assert "more ratings needed" in page and "还差" not in page
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    assert sum(f">{name}</text>" in page for name in months) == 12
    assert "月</text>" not in page


# --- the hall checklist in English ----------------------------------------------------------

def test_the_hall_checklist_is_in_english(lobby):
    from portal.timeutil import local_today

    today = local_today().isoformat()
    page = flat(english_page(in_english(lobby), f"/checklist/day/{today}"))
    for words in ("Hall checklist", "Checked 0/20", "Pass", "Problem", "N/A", "Not checked",
                  "Submit checklist",
                  "The checklist can be submitted once all 20 items are checked",
                  "Template version", "Problem ledger"):
        assert words in page, words
    assert "厅堂服务检查" not in page and "提交清单" not in page and "不适用" not in page
    page = flat(english_page(lobby, f"/checklist/day/{today}?problem=3"))
    for words in ("Problem description", "People responsible (optional",
                  "Rectification deadline", "Defaults to the next day", "Save problem"):
        assert words in page, words
    page = english_page(lobby, "/")
    for words in ("Today's hall checklist", "Checked 0/20", "Open today's checklist"):
        assert words in page, words


def test_the_problem_ledger_is_in_english(lobby):
    from portal.timeutil import local_today

    page = english_page(in_english(lobby), "/checklist/problems")
    assert "Problem ledger" in page and "No problems awaiting rectification." in page
    today = local_today().isoformat()
    lobby.get(f"/checklist/day/{today}")
    response = lobby.post(f"/checklist/day/{today}/items/6",
                          data={"state": "problem", "item6-note": "意见簿缺失"},
                          content_type="multipart/form-data")
    assert response.status_code in (200, 302, 303)
    page = flat(english_page(lobby, "/checklist/problems"))
    for words in ("Problem ledger", "Problems not yet rectified, oldest first", "Item 6",
                  "Rectification deadline:", "Rectification note", "Record rectification"):
        assert words in page, words
    assert "整改期限" not in page and "记录整改" not in page


def test_the_checklist_history_is_in_english(lobby):
    page = flat(english_page(in_english(lobby), "/checklist/history"))
    for words in ("Checklist history", "Month", "Previous month", "Download Excel",
                  "Checklist calendar for", "Days submitted:", "partly done:", "missed:",
                  "Pass rate this month", "Legend", "Submitted", "Partly done", "Missed",
                  "Mon", "Sun", "Pass rate = passed items", "Items with the most problems in",
                  "No problems this month."):
        assert words in page, words
    assert "检查日历" not in page and "周一" not in page and "漏检" not in page


def test_the_checklist_template_is_in_english(office):
    page = flat(english_page(in_english(office), "/checklist/template"))
    for words in ("Checklist template", "Version in force: 1", "Saved by", "Edit checklist",
                  "Current no.", "Order", "Category", "Item", "Deduction rule", "No deduction",
                  "Change note", "Save as new version", "Version history", "Version 1",
                  "In force"):
        assert words in page, words
    assert "清单模板" not in page and "保存为新版本" not in page
    page = english_page(office, "/checklist/template/1")
    for words in ("Checklist template version 1", "Saved at", "The 20 items of version 1",
                  "Back to checklist template"):
        assert words in page, words


def test_the_points_ledger_pages_are_in_english(teller, manager, office):
    response = in_english(teller).get("/ledger/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ledger/people/T1001")
    page = flat(english_page(teller, response.headers["Location"]))
    for words in ("Points ledger", "Points balance",
                  "(base of 12 + confirmed deductions and awards)", "Deductions / awards",
                  "Warning status", "Year-end grade cap", "Points entries", "Training record",
                  "Download Excel", "Points rules"):
        assert words in page, words
    assert "积分余额" not in page and "积分明细" not in page
    page = flat(english_page(in_english(manager), "/ledger/outlet"))
    for words in ("Points ledger", "New entry", "Points proposals awaiting confirmation",
                  "Points rules", "Points balance", "Deductions", "Awards", "Proposed",
                  "Warning status", "Year-end grade cap", "Points balance = base of 12"):
        assert words in page, words
    assert "记一笔" not in page and "戒勉状态" not in page
    page = flat(english_page(in_english(office), "/ledger/rules"))
    for words in ("Points rules", "Civilised Quality Service points rules", "Rule", "Category",
                  "Points", "Amount (¥)", "Outlet manager charge", "Edit amounts",
                  "Deductions are negative and awards positive", "Download Excel"):
        assert words in page, words
    assert "积分条款" not in page and "修改金额" not in page
