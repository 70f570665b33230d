"""The teller's own ratings: the home panel (levels, measures, trend, comments) and 我的评价."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import RatingReview, StarLevel
from portal.extensions import db
from portal.models import AuditEvent
from portal.periods import last_months, quarter_of
from portal.timeutil import local_today

from .conftest import person, sign_in_as
from .ratings_helpers import evaluator_on, make_rating, make_ratings, set_transactions



def _between(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def _measure_row(html: str, label: str) -> list[str]:
    """The six figures of the panel's row labelled 本月 or 本季度."""
    table = _between(html, '<table class="measures">', "</table>")
    row = next(r for r in table.split("<tr>") if f'<th scope="row">{label}' in r)
    return _cells(row)


@pytest.fixture
def today():
    return local_today()


# --- the home panel ---------------------------------------------------------------------------

def test_the_teller_home_shows_the_projected_level_and_exactly_what_is_missing(teller, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 88)
    set_transactions(t1001, today, 95)

    html = teller.get("/").text

    projected = _between(html, "本季度预计星级", "晋级还需")
    assert "★★★★☆" in projected and "四星柜员" in projected
    assert "距五星柜员:还差 12 条评价,评价率需达到 95 %" in html
    assert _measure_row(html, "本月") == ["88", "5", "100 %", "92.6 %", "100 %", "0"]
    assert _measure_row(html, "本季度") == ["88", "5", "100 %", "92.6 %", "100 %", "0"]


def test_the_missing_conditions_name_every_unmet_one_for_the_next_level(teller, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 20)
    make_ratings(t1001, 3, today, 2)
    set_transactions(t1001, today, 40)

    html = teller.get("/").text

    assert "★☆☆☆☆" in _between(html, "本季度预计星级", "晋级还需")
    assert "距二星柜员:满意率需达到 95 %,评价率需达到 70 %" in html


def test_the_teller_home_shows_the_latest_confirmed_level_apart_from_the_projection(teller, today):
    t1001 = person("T1001")
    last_quarter = quarter_of(quarter_of(today).start - timedelta(days=1))
    db.session.add(StarLevel(person_id=t1001.id, quarter=last_quarter.label, proposed=4,
                             confirmed=4, confirmed_by_id=person("M0001").id,
                             confirmed_at=datetime(2026, 1, 5)))
    db.session.commit()

    html = teller.get("/").text

    confirmed = _between(html, "已评定星级", "本季度预计星级")
    assert "★★★★☆" in confirmed and "四星柜员" in confirmed and last_quarter.label in confirmed
    assert "★☆☆☆☆" in _between(html, "本季度预计星级", "晋级还需")


def test_a_teller_without_a_confirmed_level_is_told_so(teller):
    assert "尚未评定" in _between(teller.get("/").text, "已评定星级", "本季度预计星级")


def test_rates_show_a_dash_when_there_were_no_transactions(teller, today):
    make_ratings(person("T1001"), 5, today, 3)

    html = teller.get("/").text

    assert _measure_row(html, "本月") == ["3", "5", "100 %", "—", "—", "0"]


def test_a_teller_without_any_data_sees_dashes_and_no_error(teller):
    html = teller.get("/").text

    assert _measure_row(html, "本季度") == ["0", "—", "—", "—", "—", "0"]
    assert "还差 10 条评价" in html


def test_the_evaluator_on_rate_counts_days_with_the_window_open(teller, today):
    t1001 = person("T1001")
    yesterday = today - timedelta(days=1)
    if yesterday.month != today.month:
        pytest.skip("needs two days of the same month")
    set_transactions(t1001, today, 10)
    set_transactions(t1001, yesterday, 10)
    evaluator_on(t1001, yesterday)

    assert _measure_row(teller.get("/").text, "本月")[4] == "50 %"


def test_the_trend_chart_is_inline_svg_with_twelve_months_and_a_data_table(teller, today):
    t1001 = person("T1001")
    make_ratings(t1001, 5, today, 3)
    make_ratings(t1001, 3, today, 1)

    html = teller.get("/").text

    chart = _between(html, '<figure class="trend-chart">', "</figure>")
    svg = _between(chart, "<svg", "</svg>")
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('class="x-label"') == 12
    assert "<polyline" in svg or "<circle" in svg
    assert "<script" not in chart
    for month in last_months(today, 12):
        assert f'<th scope="row">{month.label}</th>' in chart
    last_row = _between(chart, f'<th scope="row">{today:%Y-%m}</th>', "</tr>")
    assert _cells(last_row) == ["4", "4.5", "75 %"]


def test_comments_are_shown_as_text_never_as_markup(teller, today):
    t1001 = person("T1001")
    make_rating(t1001, 2, today, comment="<script>alert(1)</script>", tags=("态度冷漠",))
    make_rating(t1001, 4, today, comment='<div hx-get="/logout" hx-trigger="load">x</div>')

    for page in ("/", "/ratings/mine"):
        html = teller.get(page).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html
        assert '<div hx-get="/logout"' not in html
        assert "态度冷漠" in html


def test_the_home_panel_shows_comments_anonymously(teller, today):
    make_rating(person("T1001"), 5, today, comment="办理很快")

    comments = _between(teller.get("/").text, "最新客户留言", "</section>")

    assert "办理很快" in comments and today.isoformat() in comments
    assert "T1001" not in comments and "扫码评价" not in comments


def test_a_teller_never_sees_another_tellers_comments(app, today):
    make_rating(person("T1002"), 5, today, comment="李娜的专属留言")
    own = sign_in_as(app.test_client(), "T1001")
    other = sign_in_as(app.test_client(), "T1002")

    assert "李娜的专属留言" not in own.get("/").text
    assert "李娜的专属留言" not in own.get("/ratings/mine").text
    assert "李娜的专属留言" in other.get("/").text


# --- 我的评价 ---------------------------------------------------------------------------------

def test_mine_lists_own_ratings_newest_first_with_channel_time_and_state(teller, today):
    t1001, manager = person("T1001"), person("M0001")
    older = make_rating(t1001, 1, today - timedelta(days=2), comment="较早的评价")
    newer = make_rating(t1001, 2, today - timedelta(days=1), comment="较新的评价")
    kept = make_rating(t1001, 3, today, comment="保留的评价")
    services.appeal(t1001, older, "客户因排队迁怒,办理无差错")
    services.appeal(t1001, kept, "客户并未办理业务")
    services.decide(manager, kept, False, "")
    services.decide(manager, newer, True, "同一号码连续差评")

    html = teller.get("/ratings/mine").text

    assert html.index("保留的评价") < html.index("较新的评价") < html.index("较早的评价")
    assert "扫码评价" in html and f"{today - timedelta(days=2):%Y-%m-%d} 10:00" in html
    rows = {text: _between(html, text, "</tr>") for text in ("较早的评价", "较新的评价", "保留的评价")}
    assert "申诉中" in rows["较早的评价"]
    assert "已排除" in rows["较新的评价"]
    assert "维持" in rows["保留的评价"]
    assert f"/ratings/{older.id}/appeal" not in html


def test_mine_is_paginated(teller, today):
    make_ratings(person("T1001"), 4, today, 30)

    first, second = teller.get("/ratings/mine"), teller.get("/ratings/mine?page=2")

    assert first.text.count('<td class="nowrap">') == 25
    assert second.text.count('<td class="nowrap">') == 5
    assert "第 2 / 2 页,共 30 条" in second.text
    assert teller.get("/ratings/mine?page=999").status_code == 200
    assert teller.get("/ratings/mine?page=abc").status_code == 200


def test_a_teller_appeals_a_rating_of_their_own(teller, today):
    rating = make_rating(person("T1001"), 1, today)

    response = teller.post(f"/ratings/{rating.id}/appeal", data={"reason": "客户因排队时间长迁怒"})

    assert response.status_code == 303
    review = db.session.scalar(select(RatingReview).where(RatingReview.rating_id == rating.id))
    assert (review.action, review.reason, review.actor_id) == (
        "appeal", "客户因排队时间长迁怒", person("T1001").id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rating.appealed"))
    page = teller.get(response.headers["Location"]).text
    assert "已提交申诉" in page and "申诉中" in page


def test_a_short_appeal_reason_is_refused_next_to_the_field_and_nothing_is_stored(teller, today):
    rating = make_rating(person("T1001"), 1, today)

    response = teller.post(f"/ratings/{rating.id}/appeal", data={"reason": "不对"})

    assert response.status_code == 400
    error = _between(response.text, f'id="reason-{rating.id}-error"', "</p>")
    assert "请写明申诉理由(5–500 字)" in error
    assert ">不对</textarea>" in response.text
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0


def test_an_overlong_appeal_reason_is_refused(teller, today):
    rating = make_rating(person("T1001"), 1, today)

    response = teller.post(f"/ratings/{rating.id}/appeal", data={"reason": "长" * 501})

    assert response.status_code == 400
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0


def test_appealing_another_tellers_rating_is_not_found(app, teller, lobby, today):
    others = make_rating(person("T1002"), 1, today)
    mine = make_rating(person("T1001"), 1, today)

    answer = teller.post(f"/ratings/{others.id}/appeal", data={"reason": "不是我的评价哦"})
    assert answer.status_code == 404
    assert lobby.post(f"/ratings/{mine.id}/appeal", data={"reason": "同网点也不行"}).status_code == 404
    assert teller.post("/ratings/999999/appeal", data={"reason": "不存在的评价"}).status_code == 404
    assert db.session.scalar(select(func.count(RatingReview.id))) == 0


def test_a_rating_can_be_appealed_only_once(teller, today):
    rating = make_rating(person("T1001"), 1, today)
    teller.post(f"/ratings/{rating.id}/appeal", data={"reason": "第一次申诉理由"})

    again = teller.post(f"/ratings/{rating.id}/appeal", data={"reason": "第二次申诉理由"})

    assert again.status_code == 409
    assert "这条评价已经申诉或处理过" in again.text
    assert db.session.scalar(select(func.count(RatingReview.id))) == 1


def test_an_appeal_needs_the_pages_csrf_token(app_factory, today):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        rating = make_rating(person("T1001"), 1, today)
        client = sign_in_as(app.test_client(), "T1001")
        page = client.get("/ratings/mine").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]

        forged = client.post(f"/ratings/{rating.id}/appeal", data={"reason": "没有令牌的申诉"})
        genuine = client.post(f"/ratings/{rating.id}/appeal",
                              data={"reason": "带令牌的申诉理由", "csrf_token": token})

        assert forged.status_code == 400 and genuine.status_code == 303
        reasons = db.session.scalars(select(RatingReview.reason)).all()
        assert reasons == ["带令牌的申诉理由"]


def test_extra_form_fields_cannot_appeal_for_someone_else(teller, today):
    rating = make_rating(person("T1001"), 1, today)

    teller.post(f"/ratings/{rating.id}/appeal",
                data={"reason": "客户误操作打了一星", "actor_id": person("M0001").id,
                      "action": "exclude"})

    review = db.session.scalar(select(RatingReview))
    assert (review.action, review.actor_id) == ("appeal", person("T1001").id)


def test_my_ratings_is_in_the_navigation_of_tellers_lobby_and_managers(app):
    for work_no in ("T1001", "L0001", "M0001"):
        client = sign_in_as(app.test_client(), work_no)
        assert 'href="/ratings/mine"' in client.get("/").text
    office = sign_in_as(app.test_client(), "S0001")
    assert 'href="/ratings/mine"' not in office.get("/").text
    assert office.get("/ratings/mine").status_code == 403


# --- bounded queries ------------------------------------------------------------------------------

def _spread_ratings(teller_person, today, count):
    for index in range(count):
        day = today - timedelta(days=7 * index)
        make_rating(teller_person, 1 + index % 5, day, comment=f"留言{index}", tags=("业务熟练",))
        set_transactions(teller_person, day, 3)


@pytest.mark.parametrize("page", ["/", "/ratings/mine"])
def test_the_teller_pages_use_the_same_number_of_queries_for_5_and_50_ratings(
        teller, count_queries, today, page):
    t1001 = person("T1001")
    _spread_ratings(t1001, today, 5)
    teller.get(page)
    db.session.commit()  # both measurements start from a fresh transaction
    with count_queries() as few:
        assert teller.get(page).status_code == 200
    _spread_ratings(t1001, today - timedelta(days=1), 45)
    services.appeal(t1001, make_rating(t1001, 1, today), "客户情绪激动,已解释清楚")
    db.session.commit()
    with count_queries() as many:
        assert teller.get(page).status_code == 200

    assert len(many) == len(few)
