"""The outlet's ratings for its managers and the service office: teller table, alerts, appeals,
quarterly levels, the monthly R15 check, proposals and the star-level table."""
import io
import json
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.blueprints.admin import services as admin_services
from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import RatingReview, StarLevel, StarThreshold
from portal.extensions import db
from portal.models import AuditEvent, OrgUnit
from portal.periods import month_of, previous_month, quarter_of
from portal.proposals import PointsProposal
from portal.timeutil import local_today

from .conftest import person, sign_in_as
from .ratings_helpers import make_rating, make_ratings, set_transactions


LEVEL_DEFAULTS = {  # the default table as the form shows it, top level first
    "min_ratings": (100, 60, 30, 10), "min_average": ("4.8", "4.6", "4.3", "4"),
    "min_satisfaction": ("99.5", "99", "98", "95"), "min_evaluation": ("95", "90", "85", "70"),
    "min_on": ("100", "100", "95", "90"), "max_upheld": (0, 0, 1, 2),
    "min_net_points": ("0", "-1", "-3", ""),
}


@pytest.fixture
def today():
    return local_today()


@pytest.fixture
def roles(app):
    """Signed-in clients by work number, each loading its person afresh on every request."""
    return lambda work_no: sign_in_as(app.test_client(), work_no)


def _cells(row_html: str) -> list[str]:
    found = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row_html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def _row(html: str, work_no: str) -> list[str]:
    """The cells of the table row of ``work_no`` (the first cell names the teller)."""
    return _cells(next(row for row in html.split("<tr>") if f">{work_no}<" in row))


def _sheet(response, index: int = 0) -> list[list]:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    return [list(row) for row in book.worksheets[index].iter_rows(values_only=True)]


def _outlet_data(today):
    """T1001 ★★★ material, T1002 a low evaluation rate, T1003 nothing, T1004 no ratings."""
    t1001, t1002, t1004 = person("T1001"), person("T1002"), person("T1004")
    make_ratings(t1001, 5, today, 40)
    make_ratings(t1001, 4, today, 10)
    set_transactions(t1001, today, 50)
    make_ratings(t1002, 5, today, 19)
    make_rating(t1002, 1, today, comment="太慢了")
    set_transactions(t1002, today, 40)
    set_transactions(t1004, today, 10)


# --- the teller table -------------------------------------------------------------------------

def test_the_outlet_table_shows_each_tellers_month_and_quarter_figures(manager, today):
    _outlet_data(today)

    html = manager.get("/ratings/outlet").text

    assert _row(html, "T1001") == (["王芳 T1001"] + ["50", "4.8", "100 %", "100 %", "100 %", "0"] * 2
                                   + ["★★★☆☆ 三星柜员", "未评定"])
    assert _row(html, "T1002") == (["李娜 T1002"] + ["20", "4.8", "95 %", "50 %", "100 %", "0"] * 2
                                   + ["★☆☆☆☆ 一星柜员", "未评定"])
    assert _row(html, "T1003")[1:13] == ["0", "—", "—", "—", "—", "0"] * 2
    assert _row(html, "T1004")[1:7] == ["0", "—", "—", "0 %", "0 %", "0"]
    assert "T2001" not in html and "L0001" not in html


def test_the_month_chooser_shows_an_earlier_month(manager, today):
    _outlet_data(today)
    earlier = previous_month(today)

    html = manager.get(f"/ratings/outlet?month={earlier.label}").text

    assert f"{earlier.label} 月" in html
    assert _row(html, "T1001")[1:7] == ["0", "—", "—", "—", "—", "0"]


@pytest.mark.parametrize("value", ["2026-13", "abc", "2026Q1", "2026-1", "2026-10-01"])
def test_a_bad_month_is_answered_400_with_a_message(manager, value):
    response = manager.get(f"/ratings/outlet?month={value}")

    assert response.status_code == 400
    assert "请按 YYYY-MM 格式填写月份" in response.text
    assert manager.get(f"/ratings/outlet.xlsx?month={value}").status_code == 400


def test_the_outlet_download_holds_the_same_rows_as_the_page(manager, today):
    _outlet_data(today)
    html = manager.get("/ratings/outlet").text

    rows = _sheet(manager.get("/ratings/outlet.xlsx"))

    assert rows[0][:4] == ["工号", "姓名", "本月评价数", "本月平均星级"]
    assert [row[0] for row in rows[1:]] == ["T1001", "T1002", "T1003", "T1004", "T1005", "T1006"]
    for row in rows[1:]:
        shown = _row(html, row[0])
        cells = ["" if value is None else str(value) for value in row[2:16]]
        assert cells == shown[1:14] + ["" if shown[14] == "未评定" else shown[14]]


def test_the_service_office_sees_an_outlet_of_its_subtree_by_code(office, today):
    _outlet_data(today)

    first = office.get("/ratings/outlet?outlet=ZJK-001")
    second = office.get("/ratings/outlet?outlet=zjk-002")
    default = office.get("/ratings/outlet")

    assert first.status_code == 200 and _row(first.text, "T1001")[1] == "50"
    assert second.status_code == 200 and "T2001" in second.text and "T1001" not in second.text
    assert default.status_code == 200 and "T1001" in default.text
    assert 'href="/ratings/levels?outlet=ZJK-002"' in second.text
    assert _sheet(office.get("/ratings/outlet.xlsx?outlet=ZJK-002"))[1][0] == "T2001"


def test_the_service_office_gets_not_found_outside_its_subtree(office):
    bank = admin_services.create_unit("XB", "另一家银行", "bank", None, 0)
    branch = admin_services.create_unit("XB-BR", "另一分行", "branch", bank, 0)
    sub = admin_services.create_unit("XB-SUB", "另一支行", "subbranch", branch, 0)
    admin_services.create_unit("XB-001", "另一网点", "outlet", sub, 3)

    for page in ("outlet", "outlet.xlsx", "alerts", "appeals", "levels", "levels.xlsx",
                 "proposals", "proposals.xlsx"):
        assert office.get(f"/ratings/{page}?outlet=XB-001").status_code == 404, page
        assert office.get(f"/ratings/{page}?outlet=NOPE").status_code == 404, page


def test_a_manager_of_another_outlet_gets_not_found(roles, today):
    rating = make_rating(person("T1001"), 1, today)
    other = roles("M0002")

    assert other.get("/ratings/outlet?outlet=ZJK-001").status_code == 404
    assert other.get("/ratings/levels?outlet=ZJK-001").status_code == 404
    assert other.post(f"/ratings/{rating.id}/seen").status_code == 404
    assert other.post(f"/ratings/{rating.id}/decide",
                      data={"decision": "exclude", "reason": "恶意评价"}).status_code == 404
    assert other.post(f"/ratings/levels/{person('T1001').id}/confirm",
                      data={"quarter": quarter_of(today).label}).status_code == 404
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0
    assert "T1001" not in other.get("/ratings/outlet").text


def test_the_lobby_manager_may_look_but_not_decide(lobby, today):
    rating = make_rating(person("T1001"), 1, today, comment="差评")
    services.appeal(person("T1001"), rating, "客户误会了业务规定")

    for page in ("outlet", "alerts", "appeals", "levels", "proposals", "outlet.xlsx"):
        assert lobby.get(f"/ratings/{page}").status_code == 200, page
    alerts = lobby.get("/ratings/alerts").text
    assert "差评" in alerts and "已知悉" not in alerts and "排除恶意评价" not in alerts
    assert "执行月度检查" not in lobby.get("/ratings/proposals").text

    assert lobby.post(f"/ratings/{rating.id}/seen").status_code == 403
    assert lobby.post(f"/ratings/{rating.id}/decide",
                      data={"decision": "exclude", "reason": "恶意评价"}).status_code == 403
    assert lobby.post(f"/ratings/levels/{person('T1001').id}/confirm",
                      data={"quarter": quarter_of(today).label}).status_code == 403
    assert lobby.post("/ratings/monthly-check", data={}).status_code == 403
    assert lobby.get("/ratings/alerts/badge").status_code == 403
    assert db.session.scalar(select(func.count(RatingReview.id))) == 1


# --- low-rating alerts ------------------------------------------------------------------------

def _badge_count(client) -> int:
    response = client.get("/ratings/alerts/badge", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text and 'hx-trigger="every 30s"' in response.text
    return int(re.search(r'<span class="alert-count">(\d+)</span>', response.text)[1])


def test_the_alert_badge_counts_new_low_ratings_and_drops_acknowledged_ones(manager, today):
    assert _badge_count(manager) == 0
    low = make_rating(person("T1001"), 1, today, comment="很不满意")
    make_rating(person("T1002"), 3, today)
    make_rating(person("T1003"), 2, today - timedelta(days=45))
    make_rating(person("T2001"), 1, today)
    assert _badge_count(manager) == 1

    response = manager.post(f"/ratings/{low.id}/seen")

    assert response.status_code == 303
    assert _badge_count(manager) == 0
    review = db.session.scalar(select(RatingReview).where(RatingReview.action == "seen"))
    assert (review.rating_id, review.actor_id) == (low.id, person("M0001").id)
    assert "很不满意" not in manager.get("/ratings/alerts").text


def test_the_manager_home_polls_the_badge_and_counts_waiting_appeals(manager, today):
    rating = make_rating(person("T1001"), 2, today)
    services.appeal(person("T1001"), rating, "客户对收费政策不满")

    html = manager.get("/").text

    badge = html[html.index('id="rating-alert-badge"'):]
    badge = badge[:badge.index("</a>")]
    assert 'hx-get="/ratings/alerts/badge"' in badge and 'hx-trigger="every 30s"' in badge
    assert 'hx-swap="outerHTML"' in badge and 'hx-target="this"' in badge
    assert '<span class="alert-count">1</span>' in badge
    assert '<span class="appeal-count">1</span>' in html


def test_the_alerts_page_lists_low_ratings_with_their_comment_as_text(manager, today):
    make_rating(person("T1002"), 1, today, comment="<b>差</b>", tags=("态度冷漠",))

    html = manager.get("/ratings/alerts").text

    assert "&lt;b&gt;差&lt;/b&gt;" in html and "态度冷漠" in html and "李娜" in html
    assert "已知悉" in html and "排除恶意评价" in html


def test_the_manager_may_turn_an_alert_into_a_complaint(manager, office, today):
    rating = make_rating(person("T1001"), 1, today)

    html = manager.get("/ratings/alerts").text

    assert "转为投诉" in html and f'action="/complaints/from-rating/{rating.id}"' in html
    assert "转为投诉" not in office.get("/ratings/alerts?outlet=ZJK-001").text


def test_alerts_and_appeals_downloads_hold_their_rows(manager, today):
    low = make_rating(person("T1001"), 1, today, comment="排队太久")
    services.appeal(person("T1001"), low, "客户排队时间长并非柜员原因")

    alerts = _sheet(manager.get("/ratings/alerts.xlsx"))
    appeals = _sheet(manager.get("/ratings/appeals.xlsx"))

    assert alerts[0][:4] == ["评价时间", "工号", "姓名", "星级"]
    assert alerts[1][1:4] == ["T1001", "王芳", 1] and alerts[1][5:7] == ["排队太久", "扫码评价"]
    assert appeals[1][1] == "T1001" and appeals[1][-1] == "客户排队时间长并非柜员原因"


# --- appeals and decisions --------------------------------------------------------------------

def _average_of(client, work_no: str) -> str:
    return _row(client.get("/ratings/outlet").text, work_no)[2]


def test_excluding_a_rating_removes_it_from_the_measures_and_records_who_decided(manager, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 9)
    low = make_rating(t1001, 1, today, comment="恶意刷评")
    services.appeal(t1001, low, "同一客户连续恶意差评")
    assert _average_of(manager, "T1001") == "4.6"

    response = manager.post(f"/ratings/{low.id}/decide",
                            data={"decision": "exclude", "reason": "核实为恶意评价", "back": "appeals"})

    assert response.status_code == 303 and response.headers["Location"].endswith("/ratings/appeals")
    assert _average_of(manager, "T1001") == "5"
    assert _row(manager.get("/ratings/outlet").text, "T1001")[1] == "9"
    decision = db.session.scalar(select(RatingReview).where(RatingReview.action == "exclude"))
    assert (decision.rating_id, decision.actor_id, decision.reason) == (
        low.id, person("M0001").id, "核实为恶意评价")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rating.excluded"))
    page = manager.get("/ratings/appeals").text
    decided = page[page.index("已处理"):]
    assert "已排除(恶意评价)" in decided and "高建国" in decided and "核实为恶意评价" in decided
    assert "没有待处理的申诉" in page
    assert "恶意刷评" not in manager.get("/ratings/alerts").text


def test_keeping_a_rating_leaves_it_counted_and_the_teller_sees_it_kept(roles, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 9)
    low = make_rating(t1001, 1, today, comment="服务一般")
    services.appeal(t1001, low, "客户打分时误触一星")
    manager = roles("M0001")

    response = manager.post(f"/ratings/{low.id}/decide",
                            data={"decision": "keep", "reason": "无法证实", "back": "appeals"})

    assert response.status_code == 303
    assert _average_of(manager, "T1001") == "4.6"
    kept = db.session.scalar(select(RatingReview).where(RatingReview.action == "keep"))
    assert kept.actor_id == person("M0001").id
    mine = roles("T1001").get("/ratings/mine").text
    assert "维持" in mine[mine.index("服务一般"):]


def test_excluding_without_a_reason_shows_the_message_next_to_the_field(manager, today):
    low = make_rating(person("T1001"), 1, today)

    response = manager.post(f"/ratings/{low.id}/decide", data={"decision": "exclude", "reason": ""})

    assert response.status_code == 400
    error = response.text[response.text.index(f'id="alerts-reason-{low.id}-error"'):]
    assert error.index("排除评价须写明理由") < error.index("</p>")
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0


def test_the_decide_and_seen_forms_carry_the_csrf_token(app_factory, today):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        low = make_rating(person("T1001"), 1, today)
        other = make_rating(person("T1002"), 2, today)
        client = sign_in_as(app.test_client(), "M0001")
        page = client.get("/ratings/alerts").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]

        forged = client.post(f"/ratings/{low.id}/decide", data={"decision": "keep"})
        decided = client.post(f"/ratings/{low.id}/decide",
                              data={"decision": "exclude", "reason": "恶意评价", "csrf_token": token})
        seen = client.post(f"/ratings/{other.id}/seen", data={"csrf_token": token})

        assert (forged.status_code, decided.status_code, seen.status_code) == (400, 303, 303)
        actions = db.session.scalars(select(RatingReview.action).order_by(RatingReview.id)).all()
        assert actions == ["exclude", "seen"]


def test_a_decision_outside_the_two_choices_is_refused(manager, today):
    low = make_rating(person("T1001"), 1, today)

    response = manager.post(f"/ratings/{low.id}/decide", data={"decision": "delete", "reason": "x"})

    assert response.status_code == 400 and "请选择处理结果" in response.text
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0


def test_a_rating_is_decided_only_once(manager, today):
    low = make_rating(person("T1001"), 1, today)
    manager.post(f"/ratings/{low.id}/decide", data={"decision": "keep", "reason": ""})

    again = manager.post(f"/ratings/{low.id}/decide",
                         data={"decision": "exclude", "reason": "改为排除", "back": "appeals"})

    assert again.status_code == 409 and "这条评价已经处理过" in again.text
    assert db.session.scalar(select(func.count(RatingReview.id))) == 1


# --- quarterly levels -------------------------------------------------------------------------

@pytest.fixture
def last_quarter(today):
    return quarter_of(quarter_of(today).start - timedelta(days=1))


def test_confirming_a_level_stores_it_with_its_evidence_and_the_teller_sees_it(
        roles, today, last_quarter):
    t1001 = person("T1001")
    make_ratings(t1001, 5, last_quarter.end, 60)
    set_transactions(t1001, last_quarter.end, 60)
    manager = roles("M0001")
    page = manager.get("/ratings/levels").text
    assert _row(page, "T1001")[7:9] == ["0", "★★★★☆ 四星柜员"]
    assert "距五星柜员:还差 40 条评价" in page

    response = manager.post(f"/ratings/levels/{t1001.id}/confirm",
                            data={"quarter": last_quarter.label})

    assert response.status_code == 303
    level = db.session.scalar(select(StarLevel).where(StarLevel.person_id == t1001.id))
    assert (level.quarter, level.proposed, level.confirmed) == (last_quarter.label, 4, 4)
    assert level.confirmed_by_id == person("M0001").id
    assert json.loads(level.evidence)["ratings"] == 60
    confirmed = _row(manager.get("/ratings/levels").text, "T1001")[10]
    assert "★★★★☆ 四星柜员" in confirmed and "高建国" in confirmed
    home = roles("T1001").get("/").text
    assert "★★★★☆" in home[home.index("已评定星级"):home.index("本季度预计星级")]


def test_the_levels_download_holds_the_same_rows(manager, last_quarter):
    make_ratings(person("T1002"), 5, last_quarter.end, 12)
    set_transactions(person("T1002"), last_quarter.end, 12)

    rows = _sheet(manager.get(f"/ratings/levels.xlsx?quarter={last_quarter.label}"))

    assert rows[0][:3] == ["工号", "姓名", "评价数"]
    t1002 = next(row for row in rows if row[0] == "T1002")
    assert t1002[2:10] == [12, "5", "100 %", "100 %", "100 %", 0, "0", "★★☆☆☆ 二星柜员"]
    assert t1002[10] == "距三星柜员:还差 18 条评价"


def test_confirming_refuses_a_bad_or_future_quarter(manager, today):
    t1001 = person("T1001")
    next_quarter = quarter_of(quarter_of(today).end + timedelta(days=1))

    bad = manager.post(f"/ratings/levels/{t1001.id}/confirm", data={"quarter": "2026Q5"},
                       follow_redirects=True)
    future = manager.post(f"/ratings/levels/{t1001.id}/confirm",
                          data={"quarter": next_quarter.label}, follow_redirects=True)

    assert "请按 YYYYQn 格式填写季度" in bad.text
    assert "季度尚未开始,不能评定" in future.text
    assert db.session.scalar(select(func.count(StarLevel.id))) == 0
    page = manager.get("/ratings/levels?quarter=2026Q9")
    assert page.status_code == 400 and "请按 YYYYQn 格式填写季度" in page.text
    assert manager.get("/ratings/levels.xlsx?quarter=Q3").status_code == 400


def test_confirming_someone_who_is_not_a_teller_of_the_outlet_is_not_found(manager, today):
    quarter = {"quarter": quarter_of(today).label}

    for work_no in ("T2001", "L0001"):
        answer = manager.post(f"/ratings/levels/{person(work_no).id}/confirm", data=quarter)
        assert answer.status_code == 404, work_no
    assert manager.post("/ratings/levels/999999/confirm", data=quarter).status_code == 404
    assert db.session.scalar(select(func.count(StarLevel.id))) == 0


# --- the monthly R15 check --------------------------------------------------------------------

def test_the_monthly_check_proposes_r15_for_a_low_evaluation_rate_and_only_once(manager, today):
    month = previous_month(today)
    low, fine = person("T1001"), person("T1002")
    make_ratings(low, 5, month.start, 80)
    set_transactions(low, month.start, 100)
    make_ratings(fine, 5, month.start, 90)
    set_transactions(fine, month.start, 100)

    first = manager.post("/ratings/monthly-check", data={"month": month.label},
                         follow_redirects=True)
    second = manager.post("/ratings/monthly-check", data={}, follow_redirects=True)

    assert "新生成 1 条 R15 扣分建议" in first.text
    assert "新生成 0 条 R15 扣分建议" in second.text
    proposals = db.session.scalars(select(PointsProposal)).all()
    assert [(p.person_id, p.rule_code, p.evidence_ref) for p in proposals] == [
        (low.id, "R15", month.label)]
    assert "评价率 80 % < 85 %" in proposals[0].reason
    page = manager.get("/ratings/proposals").text
    assert "待确认" in page and "评价率 80 % &lt; 85 %" in page and "积分台账" in page
    sheet = _sheet(manager.get("/ratings/proposals.xlsx"))
    assert sheet[1][1:6] == ["T1001", "王芳", month.label, "R15", -1]


def test_the_monthly_check_refuses_a_month_not_yet_over_or_badly_written(manager, today):
    current = month_of(today).label

    running = manager.post("/ratings/monthly-check", data={"month": current})
    bad = manager.post("/ratings/monthly-check", data={"month": "2026/10"})

    assert running.status_code == 400 and "只能检查已经结束的月份" in running.text
    assert bad.status_code == 400 and "请按 YYYY-MM 格式填写月份" in bad.text
    assert 'value="2026/10"' in bad.text
    assert db.session.scalar(select(func.count(PointsProposal.id))) == 0


# --- the star-level table ---------------------------------------------------------------------

def _threshold_form(**changes) -> dict:
    data = {f"rows-{index}-{name}": values[index]
            for name, values in LEVEL_DEFAULTS.items() for index in range(4)}
    data.update(changes)
    return data


def test_the_office_edits_thresholds_and_the_projected_level_follows(roles, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 8)
    set_transactions(t1001, today, 8)
    teller, office = roles("T1001"), roles("S0001")
    assert "★☆☆☆☆" in teller.get("/").text

    response = office.post("/ratings/thresholds", data=_threshold_form(**{"rows-3-min_ratings": 5}))

    assert response.status_code == 303
    assert db.session.get(StarThreshold, 2).min_ratings == 5
    assert float(db.session.get(StarThreshold, 5).min_satisfaction) == 0.995
    home = teller.get("/").text
    assert "★★☆☆☆" in home[home.index("本季度预计星级"):home.index("晋级还需")]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "star_thresholds.changed"))
    assert event.actor_id == person("S0001").id
    form = office.get("/ratings/thresholds").text
    assert 'name="rows-3-min_ratings"' in form and 'value="5"' in form and 'value="99.5"' in form


def test_bad_threshold_cells_get_their_own_messages_and_nothing_is_saved(office):
    response = office.post("/ratings/thresholds", data=_threshold_form(**{
        "rows-0-min_average": "6", "rows-0-min_satisfaction": "101", "rows-1-min_ratings": "很多",
        "rows-2-min_on": "NaN", "rows-3-min_net_points": "1.25"}))

    assert response.status_code == 400
    html = response.text
    for field_id, message in (("rows-0-min_average", "平均星级须在 1–5 之间"),
                              ("rows-0-min_satisfaction", "满意率须在 0–100 % 之间"),
                              ("rows-1-min_ratings", "评价数须为 0–100000 的整数"),
                              ("rows-2-min_on", "开机率须在 0–100 % 之间"),
                              ("rows-3-min_net_points", "积分净变动须在")):
        error = html[html.index(f'id="{field_id}-error"'):]
        assert error.index(message) < error.index("</p>"), field_id
    assert 'value="6"' in html and 'value="很多"' in html
    assert db.session.scalar(select(func.count()).select_from(StarThreshold)) == 0


def test_a_higher_level_may_not_ask_less_than_the_one_below(office):
    response = office.post("/ratings/thresholds", data=_threshold_form(**{"rows-0-min_ratings": 5}))

    assert response.status_code == 400 and "较高星级的条件不能低于较低星级" in response.text
    assert db.session.scalar(select(func.count()).select_from(StarThreshold)) == 0


@pytest.mark.parametrize("work_no", ["T1001", "L0001", "M0001", "A0001"])
def test_only_the_service_office_edits_thresholds(roles, work_no):
    client = roles(work_no)

    assert client.get("/ratings/thresholds").status_code == 403
    assert client.post("/ratings/thresholds", data=_threshold_form()).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(StarThreshold)) == 0


# --- bounded queries --------------------------------------------------------------------------

def _more_tellers(count: int) -> None:
    outlet = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZJK-001"))
    for number in range(count):
        admin_services.create_person(f"T19{number:02d}", f"新柜员{number}", "teller", outlet,
                                     date(2024, 1, 1), "demo-pass-2026")


def _busy_day(work_nos: list[str], today) -> None:
    """Give each teller a low rating under appeal, older good ratings and transactions."""
    for work_no in work_nos:
        teller = person(work_no)
        low = make_rating(teller, 1, today, comment=f"{work_no} 差评")
        make_ratings(teller, 5, today - timedelta(days=100), 3)
        set_transactions(teller, today, 5)
        services.appeal(teller, low, "客户对规定有误解")


@pytest.mark.parametrize("page", ["/ratings/outlet", "/ratings/levels", "/ratings/alerts",
                                  "/ratings/appeals", "/"])
def test_the_outlet_pages_use_the_same_number_of_queries_for_6_and_12_tellers(
        manager, count_queries, today, page):
    _busy_day([f"T100{i}" for i in range(1, 7)], today)
    manager.get(page)
    db.session.commit()  # both measurements start from a fresh transaction
    with count_queries() as six:
        assert manager.get(page).status_code == 200
    _more_tellers(6)
    _busy_day([f"T19{i:02d}" for i in range(6)], today)
    db.session.commit()
    with count_queries() as twelve:
        assert manager.get(page).status_code == 200

    assert len(twelve) == len(six)
