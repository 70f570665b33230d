"""No statement of a hot path or a main page reads a growing table without an index.

Every statement of the customer's rating (GET and POST), a checklist tick, a complaint taken
in on the public form and at the desk, and each role's main pages is captured on a database
holding the demo's history, then planned by the database itself (tests/query_plans.py says
how). A finding names the table, the plan step and the statement.
"""
import re

import pytest
from flask import current_app, url_for
from sqlalchemy import text

from portal.blueprints.checklist import demo as checklist_demo
from portal.blueprints.complaints import demo as complaints_demo
from portal.blueprints.honours import demo as honours_demo
from portal.blueprints.ledger import demo as ledger_demo
from portal.blueprints.ratings import demo as ratings_demo
from portal.blueprints.ratings import services as rating_services
from portal.blueprints.scores import demo as scores_demo
from portal.database import refresh_statistics
from portal.extensions import db
from portal.nav import nav_for
from portal.timeutil import local_today, utcnow

from .conftest import person, sign_in_as
from .query_plans import captured, unindexed_reads

#: pages beyond the navigation's entries that a role opens every day (the navigation's own
#: entries are taken from portal.nav, so a new entry is checked without being listed here)
EXTRA_PAGES = {
    "T1001": ["/complaints/desk"],
    "L0001": ["/complaints/intake", "/ratings/mine"],
    "M0001": ["/ratings/alerts", "/ratings/alerts/badge", "/ratings/appeals", "/ratings/levels",
              "/ratings/proposals", "/ledger/proposals", "/honours/nominate",
              "/scores/outlets/ZJK-001", "/reports/notice?month={month}"],
    "S0001": ["/ratings/outlet?outlet=ZJK-001", "/ledger/outlet?outlet=ZJK-001",
              "/ledger/proposals", "/honours/nominations", "/scores/outlets/ZJK-001",
              "/checklist/history?outlet=ZJK-001",
              "/reports/notice?month={month}&outlet=ZJK-001"],
    "A0001": ["/admin/audit?page=2", "/admin/people/{teller}"],
}


def _pages(work_no: str, today) -> list[str]:
    with current_app.test_request_context():
        entries = [url_for(item.endpoint) for item in nav_for(person(work_no))]
    extra = [path.format(month=today.strftime("%Y-%m"), teller=person("T1001").id)
             for path in EXTRA_PAGES[work_no]]
    return list(dict.fromkeys(["/", *entries, *extra]))


@pytest.fixture
def history(app):
    """The demo's history (ratings, complaints, checklists, ledger, honours, scores)."""
    today = local_today()
    for feature in (ratings_demo, complaints_demo, checklist_demo, ledger_demo, honours_demo,
                    scores_demo):
        feature.seed_history(today)
    db.session.commit()
    return today


def _assert_indexed(statements):
    findings = unindexed_reads(db.engine, statements)
    assert not findings, "reads of growing tables without an index:\n" + "\n".join(
        str(finding) for finding in findings)


@pytest.mark.parametrize("work_no", list(EXTRA_PAGES))
def test_every_main_page_reads_growing_tables_through_an_index(app, history, work_no):
    client = sign_in_as(app.test_client(), work_no)
    pages = _pages(work_no, history)
    with captured(db.engine) as statements:
        for path in pages:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, (path, response.status_code)
    assert len(statements) >= 2 * len(pages)  # the pages really read something
    _assert_indexed(statements)


def test_the_customers_rating_reads_through_indexes(app, history):
    teller = person("T1001")
    window = rating_services.outlet_windows(teller.org_unit)[0]
    rating_services.open_window(teller, window, utcnow())
    customer = app.test_client()
    with captured(db.engine) as statements:
        page = customer.get(f"/r/{window.token}").get_data(as_text=True)
        token = re.search(r'name="view_token"[^>]*value="([^"]*)"', page).group(1)
        response = customer.post(f"/r/{window.token}", data={
            "stars": "5", "view_token": token, "comment": "办理很快"})
    assert response.status_code == 303
    assert any("INSERT INTO rating " in statement for statement, _ in statements)
    _assert_indexed(statements)


def test_a_checklist_tick_reads_through_indexes(app, history):
    lobby = sign_in_as(app.test_client(), "L0001")
    with captured(db.engine) as statements:
        response = lobby.post(f"/checklist/day/{history.isoformat()}/items/5",
                              data={"state": "pass"})
    assert response.status_code in (200, 303)
    assert any("checklist_mark" in statement for statement, _ in statements)
    _assert_indexed(statements)


def test_taking_in_a_complaint_reads_through_indexes(app, history):
    customer = app.test_client()
    lobby = sign_in_as(app.test_client(), "L0001")
    with captured(db.engine) as statements:
        public = customer.post("/complaints/new", data={
            "outlet": "ZJK-001", "category": "attitude", "description": "柜员态度冷淡。",
            "customer_name": "王先生", "customer_phone": "13800001234"})
        desk = lobby.post("/complaints/intake", data={
            "channel": "phone", "level": "outlet", "outlet": "ZJK-001", "subject": "T1002",
            "category": "waiting", "description": "电话反映排队一小时",
            "customer_phone": "0313-1234567"})
    assert public.status_code in (302, 303) and desk.status_code == 303
    assert sum("INSERT INTO complaint " in statement for statement, _ in statements) == 2
    _assert_indexed(statements)


def test_the_check_names_a_read_that_no_index_serves(app):
    """The guard itself: a filter on a column no index leads with is found, an indexed one not."""
    statements = [("SELECT count(*) FROM rating WHERE stars = 5", {}),
                  ("SELECT count(*) FROM rating_day WHERE person_id = 1 AND local_date > '2026-01-01'", {})]
    findings = unindexed_reads(db.engine, statements)
    assert [finding.table for finding in findings] == ["rating"]


REPEAT_RULE = ("SELECT 1 FROM rating WHERE client_key = 'k' AND person_id = 1"
               " AND rated_at > '2026-12-01 00:00:00'")
BURST = "SELECT count(id) FROM rating WHERE ip = '10.0.0.1' AND rated_at > '2026-12-01 00:00:00'"


def test_the_customers_checks_keep_their_indexes_once_statistics_exist(app, history):
    """With the statistics an import gathers from a few rows, SQLite still reads only the last
    minutes: of the teller's ratings for the repeat rule, of the address's for the burst flag."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("statistics steer SQLite's planner; PostgreSQL's is checked above")
    refresh_statistics(db.session.connection())
    db.session.commit()
    assert db.session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0
    plans = {sql: " ".join(row[-1] for row in db.session.execute(
        text(f"EXPLAIN QUERY PLAN {sql}"))) for sql in (REPEAT_RULE, BURST)}
    assert "ix_rating_person_time (person_id=? AND rated_at>?)" in plans[REPEAT_RULE]
    assert "ix_rating_ip_time (ip=? AND rated_at>?)" in plans[BURST]


#: statements of each role's home page, the signed-in person's included, on the demo's history
#: (the test's transaction is open already: a server adds a BEGIN): every figure is read once
#: for all the periods a page shows
HOME_STATEMENTS = {"T1001": 16, "L0001": 20, "M0001": 16, "S0001": 5, "A0001": 4}


@pytest.mark.parametrize("work_no", list(HOME_STATEMENTS))
def test_each_home_page_keeps_to_its_statements(app, history, work_no, count_queries):
    client = sign_in_as(app.test_client(), work_no)
    with count_queries() as counted:
        assert client.get("/").status_code == 200
    assert 4 <= len(counted) <= HOME_STATEMENTS[work_no]


def test_the_customers_rating_keeps_to_its_statements(app, count_queries):
    """The page: the window with its teller. The rating: the window, the repeat rule, the burst
    count, the insert and the day's counts, each once."""
    teller = person("T1001")
    window = rating_services.outlet_windows(teller.org_unit)[0]
    rating_services.open_window(teller, window, utcnow())
    customer = app.test_client()
    customer.set_cookie("rid", "phone-1")
    with count_queries() as page:
        text = customer.get(f"/r/{window.token}").get_data(as_text=True)
    token = re.search(r'name="view_token"[^>]*value="([^"]*)"', text).group(1)
    with count_queries() as rating:
        response = customer.post(f"/r/{window.token}", data={"stars": "4", "view_token": token})
    assert response.status_code == 303
    assert len(page) == 1 and len(rating) == 5, (page, rating)


def test_the_nonces_of_rating_pages_grow_with_time(app):
    """Stored nonces are unique: issued in time order, each new rating's entry goes at the end
    of that index rather than on a random page of it."""
    teller = person("T1001")
    window = rating_services.outlet_windows(teller.org_unit)[0]
    rating_services.open_window(teller, window, utcnow())
    nonces = [rating_services.read_view_token(rating_services.view_token(window))["n"]
              for _ in range(50)]
    times = [nonce[:14] for nonce in nonces]  # microseconds; the rest is random
    assert times == sorted(times) and len(set(nonces)) == 50
    assert all(len(nonce) == 32 for nonce in nonces)
