"""The customer's rating page: no sign-in, no JavaScript, strict input, one rating per visit."""
import html
import re
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import DutySession, Invitation, Rating, Window
from portal.extensions import db
from portal.models import AuditEvent, unit_by_code
from portal.timeutil import utcnow

from .conftest import person, sign_in_as

HX_COMMENT = '<div hx-get="/x" hx-trigger="load">点我</div>'


# --- helpers ----------------------------------------------------------------------------

def window_of(outlet: str = "ZJK-001", number: int = 1) -> Window:
    return db.session.scalar(select(Window).where(Window.outlet_id == unit_by_code(outlet).id,
                                                  Window.number == number))


def open_for(work_no: str, outlet: str = "ZJK-001", number: int = 1) -> Window:
    """Put ``work_no`` on duty at a window through the service, as the teller's page does."""
    window = window_of(outlet, number)
    services.open_window(person(work_no), window, utcnow())
    return window


def change_teller(window: Window, work_no: str) -> None:
    services.close_window(window.duty.person, utcnow())
    services.open_window(person(work_no), window, utcnow())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def page_token(page: str) -> str:
    return re.search(r'name="view_token"[^>]*value="([^"]*)"', page).group(1)


def error_of(page: str, field: str) -> str:
    """The error message shown next to ``field`` (its ``<field>-error`` element), or ''."""
    found = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def rate(client, window: Window, query: str = "", **fields):
    """Open the rating page like a customer, then submit it with ``fields`` (5 stars by default)."""
    page = client.get(f"/r/{window.token}{query}").get_data(as_text=True)
    data = {"stars": "5", "view_token": page_token(page), **fields}
    return client.post(f"/r/{window.token}", data=data)


def ratings() -> list[Rating]:
    return list(db.session.scalars(select(Rating).order_by(Rating.id)))


# --- a window that is not open ------------------------------------------------------------

def test_a_closed_window_says_it_is_not_open_and_stores_nothing(client):
    window = window_of()
    response = client.get(f"/r/{window.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "该窗口暂未开放评价" in page and "<form" not in page.split("</header>")[1]
    posted = client.post(f"/r/{window.token}", data={"stars": "5", "view_token": "x"})
    assert posted.status_code == 400 and "该窗口暂未开放评价" in posted.get_data(as_text=True)
    assert count(Rating) == 0


def test_an_unknown_token_answers_a_friendly_404_page(client):
    for path in ("/r/not-a-window-token", "/r/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert "该二维码无效或已更换" in response.get_data(as_text=True)
    assert client.post("/r/not-a-window-token", data={"stars": "5"}).status_code == 404
    assert client.get("/r/not-a-window-token/thanks").status_code == 404


# --- the rating page ----------------------------------------------------------------------

def test_an_open_window_shows_the_teller_stars_tags_and_the_optional_fields(client):
    window = open_for("T1001")
    page = client.get(f"/r/{window.token}").get_data(as_text=True)
    assert "营业部网点" in page and "1 号窗口" in page and "王芳" in page and "T1001" in page
    assert "<fieldset" in page and "<legend>您对本次服务的评价" in page
    for value, label in ((5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意")):
        assert re.search(rf'<input id="stars-\d" name="stars" type="radio" value="{value}">', page)
        assert f"<span>{value} {label}</span>" in page
    for tag in services.TAGS:
        assert f'type="checkbox" name="tags" value="{tag}"' in page
    assert 'name="comment"' in page and 'maxlength="500"' in page and "最多 500 字" in page
    assert "叫号单号" in page and 'name="ticket_no"' in page
    assert page_token(page)


def test_the_rating_page_is_kept_out_of_caches(client):
    window = open_for("T1001")
    assert client.get(f"/r/{window.token}").headers["Cache-Control"] == "no-store"


def test_viewing_the_page_writes_nothing_to_the_database(client):
    window = open_for("T1001")
    tables = (Rating, Invitation, DutySession, AuditEvent)
    before = [count(table) for table in tables]
    for query in ("", "?code=anything"):
        assert client.get(f"/r/{window.token}{query}").status_code == 200
    assert [count(table) for table in tables] == before


def test_the_phone_gets_a_long_lived_private_cookie_once(client):
    window = open_for("T1001")
    first = client.get(f"/r/{window.token}").headers.getlist("Set-Cookie")
    rid = next(c for c in first if c.startswith("rid="))
    assert "Max-Age=31536000" in rid and "HttpOnly" in rid and "SameSite=Lax" in rid
    assert "Secure" not in rid and len(rid.split(";")[0].removeprefix("rid=")) >= 22
    again = client.get(f"/r/{window.token}").headers.getlist("Set-Cookie")
    assert not any(c.startswith("rid=") for c in again)


def test_the_phone_cookie_is_secure_when_the_site_is(app_factory):
    secure = app_factory(SESSION_COOKIE_SECURE=True)
    with secure.app_context():
        window = open_for("T1001")
        response = secure.test_client().get(f"/r/{window.token}")
        rid = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("rid="))
        assert "Secure" in rid


def test_the_page_works_without_javascript_and_weighs_under_20_kb(client):
    window = open_for("T1001")
    page = client.get(f"/r/{window.token}").get_data()
    text = page.decode()
    assert "<script" not in text and "<img" not in text
    # no htmx attribute (a random token in the page may itself contain the letters "hx-")
    assert not re.search(r"\shx-[a-z-]+=", text)
    form = re.search(r'<form method="post" action="([^"]+)" class="rate-form"', text)
    assert form and form.group(1) == f"/r/{window.token}"
    assert '<button type="submit" class="primary rate-submit">提交评价</button>' in text
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', text)
    assert sheets == ["/static/portal.css"]
    css = sum(len(client.get(href).get_data()) for href in sheets)
    assert len(page) + css < 20 * 1024, f"{len(page)} + {css} bytes"


def test_the_teller_photo_is_shown_and_served_only_while_on_duty(app, client):
    window = open_for("T1001")
    assert client.get(f"/r/{window.token}/photo").status_code == 404  # no photo yet
    folder = Path(app.instance_path) / "photos"
    folder.mkdir(exist_ok=True)
    (folder / "t1001.jpg").write_bytes(b"\xff\xd8\xff\xe0 a stand-in for a photo")
    person("T1001").photo = "t1001.jpg"
    db.session.commit()
    page = client.get(f"/r/{window.token}").get_data(as_text=True)
    assert f'<img src="/r/{window.token}/photo" alt="柜员王芳的照片"' in page
    photo = client.get(f"/r/{window.token}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    services.close_window(person("T1001"), utcnow())
    assert client.get(f"/r/{window.token}/photo").status_code == 404
    assert client.get("/r/unknown-token/photo").status_code == 404


# --- submitting -------------------------------------------------------------------------

def test_a_valid_rating_is_stored_for_the_teller_on_duty_not_an_injected_one(client):
    window = open_for("T1001")
    other = window_of("ZJK-002", 1)
    response = rate(client, window, stars="4", tags=["态度热情", "办理高效"], comment=" 很好 ",
                    ticket_no="A-023", person_id=str(person("T2001").id),
                    teller=str(person("T1002").id), teller_id="T1002", window_id=str(other.id))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/{window.token}/thanks")
    [rating] = ratings()
    assert rating.person_id == person("T1001").id and rating.window_id == window.id
    assert rating.outlet_id == window.outlet_id and rating.duty_id == window.duty_id
    assert (rating.stars, rating.tag_list, rating.comment, rating.ticket_no) == (
        4, ["态度热情", "办理高效"], "很好", "A-023")
    assert rating.channel == "qr" and rating.client_key and rating.ip == "127.0.0.1"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价" in thanks


def test_replaying_the_same_page_token_adds_no_row(client, app):
    window = open_for("T1001")
    page = client.get(f"/r/{window.token}").get_data(as_text=True)
    data = {"stars": "5", "view_token": page_token(page)}
    assert client.post(f"/r/{window.token}", data=data).status_code == 303
    replay = app.test_client().post(f"/r/{window.token}", data=data)  # another phone, same token
    assert replay.status_code == 409
    assert "这次评价已经提交过了" in replay.get_data(as_text=True)
    assert count(Rating) == 1


def test_the_same_phone_cannot_rate_the_same_teller_again_within_ten_minutes(client):
    window = open_for("T1001")
    assert rate(client, window).status_code == 303
    again = rate(client, window, stars="1")
    assert again.status_code == 429 and again.headers["Retry-After"] == "600"
    assert "您刚刚已评价过这位柜员,请稍后再评价" in again.get_data(as_text=True)
    assert [r.stars for r in ratings()] == [5]
    change_teller(window, "T1002")
    assert rate(client, window, stars="3").status_code == 303
    assert [(r.person.work_no, r.stars) for r in ratings()] == [("T1001", 5), ("T1002", 3)]


@pytest.mark.parametrize("stars", ["0", "6", "5.5", "５", "1e9", "-1", " 5", "", ["5", "5"],
                                   ["4", "5"], None])
def test_a_bad_star_value_is_refused_next_to_the_field_keeping_the_input(client, stars):
    window = open_for("T1001")
    page = client.get(f"/r/{window.token}").get_data(as_text=True)
    data = {"view_token": page_token(page), "comment": "窗口很干净", "ticket_no": "B7",
            "tags": ["耐心解答"]}
    if stars is not None:
        data["stars"] = stars
    response = client.post(f"/r/{window.token}", data=data)
    again = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_of(again, "stars") == "请选择 1–5 颗星中的一项。"
    assert re.search(r">\s*窗口很干净</textarea>", again) and 'value="B7"' in again
    assert 'value="耐心解答" id="tag-1-4" checked' in again
    assert page_token(again) == page_token(page)
    assert count(Rating) == 0


def test_a_comment_of_500_characters_is_accepted_and_501_refused(client, app):
    window = open_for("T1001")
    refused = rate(client, window, comment="好" * 501)
    assert refused.status_code == 400
    assert error_of(refused.get_data(as_text=True), "comment") == "评价内容不能超过 500 字。"
    assert count(Rating) == 0
    assert rate(client, window, comment="好" * 500).status_code == 303
    assert len(ratings()[0].comment) == 500


def test_a_comment_is_normalised_and_control_characters_are_refused(client, app):
    window = open_for("T1001")
    for bad in ("好\x00", "坏\x1b[31m", "\x07响铃", "退格\x08"):
        response = rate(app.test_client(), window, comment=bad)
        assert response.status_code == 400
        assert "控制字符" in error_of(response.get_data(as_text=True), "comment")
    assert count(Rating) == 0
    decomposed = "Cafe\u0301\r\n第二行\t!"
    assert rate(client, window, comment=decomposed).status_code == 303
    assert ratings()[0].comment == "Caf\u00e9\n第二行\t!"


@pytest.mark.parametrize("tags", [["好评"], ["态度热情", "态度热情"], ["态度热情", "<b>"]])
def test_an_unknown_or_repeated_tag_is_refused(client, tags):
    window = open_for("T1001")
    response = rate(client, window, tags=tags)
    assert response.status_code == 400
    assert error_of(response.get_data(as_text=True), "tags") == "请只从列出的标签中选择。"
    assert count(Rating) == 0


@pytest.mark.parametrize("ticket", ["A 12", "票号", "1" * 21, "A<1>", "Ａ12"])
def test_a_bad_queue_ticket_number_is_refused(client, ticket):
    window = open_for("T1001")
    response = rate(client, window, ticket_no=ticket)
    assert response.status_code == 400
    assert "叫号单号只能包含字母、数字" in error_of(response.get_data(as_text=True), "ticket_no")
    assert count(Rating) == 0


def test_markup_typed_in_a_comment_is_kept_as_text_and_shown_escaped(client, app):
    window = open_for("T1001")
    refused = rate(client, window, stars="9", comment=HX_COMMENT).get_data(as_text=True)
    assert HX_COMMENT not in refused
    assert "&lt;div hx-get=&#34;/x&#34; hx-trigger=&#34;load&#34;&gt;点我&lt;/div&gt;" in refused
    response = rate(client, window, comment=HX_COMMENT)
    assert response.status_code == 303
    assert ratings()[0].comment == HX_COMMENT
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert HX_COMMENT not in thanks and 'hx-trigger="load"' not in thanks
    assert [r.comment for r in services.latest_comments(person("T1001"))] == [HX_COMMENT]
    if "ratings.mine" in app.view_functions:  # the teller's own page, where comments are read
        mine = sign_in_as(app.test_client(), "T1001").get("/ratings/mine").get_data(as_text=True)
        assert HX_COMMENT not in mine and "&lt;div hx-get=" in mine


def test_a_forged_or_garbled_page_token_is_refused(client, app):
    window = open_for("T1001")
    other = open_for("T1002", number=2)
    client.get(f"/r/{window.token}")
    forged = URLSafeTimedSerializer("another-secret", salt="rating-view").dumps(
        {"w": window.id, "d": window.duty_id, "n": "f" * 32, "i": None})
    with app.test_request_context():
        for_other_window = services.view_token(other)
    for token in ("garbled", "", forged, page_token(client.get(f"/r/{window.token}").get_data(
            as_text=True))[:-3] + "abc", for_other_window):
        response = client.post(f"/r/{window.token}", data={"stars": "5", "view_token": token})
        assert response.status_code == 400, token
        assert count(Rating) == 0


def test_a_page_opened_before_the_teller_changed_is_refused(client):
    window = open_for("T1001")
    old_page = client.get(f"/r/{window.token}").get_data(as_text=True)
    change_teller(window, "T1002")
    response = client.post(f"/r/{window.token}",
                           data={"stars": "5", "view_token": page_token(old_page)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "窗口的柜员已更换,请重新扫码评价" in page and "重新打开评价页" in page
    assert count(Rating) == 0


def test_a_dynamic_code_is_single_use_and_renewed_after_a_rating(client, app):
    window = open_for("T1001")
    first = services.current_invitation(window.duty)
    response = rate(client, window, query=f"?code={first.code}")
    assert response.status_code == 303
    [rating] = ratings()
    db.session.refresh(first)
    assert rating.invitation_id == first.id and first.used_at is not None
    renewed = services.current_invitation(window.duty)
    assert renewed is not None and renewed.id != first.id
    again = rate(app.test_client(), window, query=f"?code={first.code}")
    assert again.status_code == 409 and "此评价码已使用过" in again.get_data(as_text=True)
    unknown = rate(app.test_client(), window, query="?code=made-up")
    assert unknown.status_code == 400 and "评价码已失效" in unknown.get_data(as_text=True)
    assert count(Rating) == 1


def test_a_burst_of_submissions_gets_a_friendly_429_page(app_factory):
    limited = app_factory(RATELIMIT_ENABLED=True, RATING_RATE_LIMIT="2 per minute")
    with limited.app_context():
        window = open_for("T1001")
        answers = [rate(limited.test_client(), window) for _ in range(3)]
        assert [a.status_code for a in answers] == [303, 303, 429]
        page = answers[2].get_data(as_text=True)
        assert "提交过于频繁,请稍后再试" in page and 'class="public"' in page
        assert int(answers[2].headers["Retry-After"]) > 0
        assert count(Rating) == 2


def test_with_csrf_on_a_post_without_the_token_is_refused(app_factory):
    guarded = app_factory(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        window = open_for("T1001")
        client = guarded.test_client()
        page = client.get(f"/r/{window.token}").get_data(as_text=True)
        refused = client.post(f"/r/{window.token}",
                              data={"stars": "5", "view_token": page_token(page)})
        assert refused.status_code == 400
        assert "页面已过期" in refused.get_data(as_text=True)
        assert count(Rating) == 0
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        accepted = client.post(f"/r/{window.token}", data={
            "stars": "5", "view_token": page_token(page), "csrf_token": csrf})
        assert accepted.status_code == 303 and count(Rating) == 1


# --- thanks -------------------------------------------------------------------------------

def test_the_thanks_page_offers_a_complaint_with_outlet_window_and_teller(app, client):
    window = open_for("T1001", number=3)
    page = client.get(f"/r/{window.token}/thanks").get_data(as_text=True)
    assert "感谢您的评价" in page
    link = re.search(r'<a class="button" href="([^"]+)">我要投诉</a>', page)
    assert link, page
    target = html.unescape(link.group(1))
    assert target.startswith("/complaints/new?")
    for part in ("outlet=ZJK-001", "window=3", "teller=T1001"):
        assert part in target
