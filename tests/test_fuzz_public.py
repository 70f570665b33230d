"""Fuzzing the public forms (issue 7): the rating page, the complaint form and look-up, sign-in.

Whatever arrives (hostile text, forged or replayed tokens, bodies a browser's form never sends,
no CSRF token) the answer is a clear 4xx or the designed 200/303 re-render, never a 500, and a
refused request leaves the row count of every table as it was.
"""
import itertools
import re
from io import BytesIO
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.blueprints.complaints.models import Complaint
from portal.blueprints.ratings import services as ratings
from portal.blueprints.ratings.models import Rating, Window
from portal.extensions import db
from portal.models import unit_by_code
from portal.timeutil import utcnow

from .conftest import person
from .fuzz_helpers import (FUZZ, bodies, changed, mutated, nasty, path_part, send, table_counts,
                           with_valid)

REFUSED = {400, 404, 409, 413, 415, 422, 429}


def window_of(outlet: str, number: int) -> Window:
    return db.session.scalar(select(Window).where(Window.outlet_id == unit_by_code(outlet).id,
                                                  Window.number == number))


def view_token_of(response) -> str:
    return re.search(r'name="view_token"[^>]*value="([^"]*)"',
                     response.get_data(as_text=True)).group(1)


@pytest.fixture
def windows(app):
    """Window 1 of ZJK-001 open for T1001, window 2 for T1002, window 3 closed."""
    now = utcnow()
    first, second = window_of("ZJK-001", 1), window_of("ZJK-001", 2)
    ratings.open_window(person("T1001"), first, now)
    ratings.open_window(person("T1002"), second, now)
    return {"open": first.token, "other": second.token, "closed": window_of("ZJK-001", 3).token,
            "ids": (first.id, first.duty_id)}


# --- the rating page (/r/<window token>) --------------------------------------------------

TOKEN_KINDS = ("fresh", "fresh", "replayed", "other window", "forged", "nasty", "missing")

rating_fields = mutated({"stars": ("5", "4", "1"), "tags": ((), ("态度热情",), ratings.TAGS[:3]),
                         "comment": ("", "很好", "<b>好</b>\r\n谢谢"),
                         "ticket_no": ("", "A-012", "B7")})


@settings(FUZZ, max_examples=60)
@given(fields=rating_fields, kind=st.sampled_from(TOKEN_KINDS), body=bodies,
       target=st.sampled_from(("open", "open", "open", "closed", "nasty")),
       code=st.one_of(st.none(), nasty), cookie=st.one_of(st.none(), st.text(
           st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters=";,\\\""),
           max_size=40)),
       data=st.data())
def test_the_rating_page_refuses_bad_input_cleanly_and_stores_nothing(app, windows, fields, kind,
                                                                      body, target, code, cookie,
                                                                      data):
    client = app.test_client()  # a new phone each time: no "rated recently" refusal
    if cookie is not None:
        client.set_cookie("rid", cookie)
    query = f"?{urlencode({'code': code})}" if code is not None else ""
    shown = client.get(f"/r/{windows['open']}{query}")
    assert shown.status_code == 200
    token = view_token_of(shown)
    may_store = kind == "fresh"
    if kind == "replayed":
        first = client.post(f"/r/{windows['open']}", data={"stars": "5", "view_token": token})
        # 400: the code in the query is no real one; 429: this phone (cookie) rated just now
        assert first.status_code in {303, 400, 429}
        may_store = first.status_code != 303  # a token refused once is not spent
        client = app.test_client()  # replayed from another phone: past the "rated just now" check
    elif kind == "other window":
        token = view_token_of(app.test_client().get(f"/r/{windows['other']}"))
    elif kind == "forged":
        window_id, duty_id = windows["ids"]
        token = URLSafeTimedSerializer("not-the-secret-key-0123456789", salt="rating-view").dumps(
            {"w": window_id, "d": duty_id, "n": "0" * 32, "i": None})
    elif kind == "nasty":
        token = data.draw(nasty, label="token")
    url = f"/r/{path_part(data.draw(nasty, label='path'))}" if target == "nasty" \
        else f"/r/{windows[target]}"
    sent = {**fields, "view_token": None if kind == "missing" else token}
    before = table_counts()
    response = send(client, url, sent, body, data)
    after = table_counts()
    assert response.status_code in REFUSED | {303}, response.status_code
    if response.status_code == 303:
        assert may_store and target == "open" and after["rating"] == before["rating"] + 1
    else:
        assert changed(before, after) == {}


@FUZZ
@given(path=nasty, code=st.one_of(st.none(), nasty),
       page=st.sampled_from(("", "/thanks", "/photo")))
def test_public_rating_urls_with_any_token_answer_without_error(app, windows, path, code, page):
    query = f"?{urlencode({'code': code})}" if code is not None else ""
    for token in (path_part(path), windows["open"]):
        response = app.test_client().get(f"/r/{token}{page}{query}")
        assert response.status_code in {200, 308, 404}, response.status_code  # 308: "//"


def test_a_replayed_rating_token_is_refused_and_stores_nothing(app, windows):
    client = app.test_client()
    token = view_token_of(client.get(f"/r/{windows['open']}"))
    assert client.post(f"/r/{windows['open']}",
                       data={"stars": "5", "view_token": token}).status_code == 303
    before = table_counts()
    again = app.test_client().post(f"/r/{windows['open']}",
                                   data={"stars": "1", "view_token": token})
    assert again.status_code == 409 and changed(before, table_counts()) == {}


def test_a_window_token_with_a_nul_byte_is_a_404_not_a_database_error(app, windows):
    """PostgreSQL can't compare text holding NUL: /r/%00… used to answer 500 there."""
    for path in ("/r/%00", f"/r/{windows['open']}%00", "/r/%00/thanks", "/r/%00/photo"):
        assert app.test_client().get(path).status_code == 404, path
    for path in ("/r/%00", f"/r/{windows['open']}%00"):
        assert app.test_client().post(path, data={"stars": "5"}).status_code == 404, path


def test_a_dynamic_code_with_a_nul_byte_is_ignored_not_a_database_error(app, windows):
    """?code=%00 went into the view token and then into a query: 500 on PostgreSQL."""
    client = app.test_client()
    token = view_token_of(client.get(f"/r/{windows['open']}?code=a%00b"))
    before = table_counts()
    response = client.post(f"/r/{windows['open']}", data={"stars": "5", "view_token": token})
    after = table_counts()
    assert response.status_code == 303  # a code that can't be one is ignored, as an over-long one
    assert after["rating"] == before["rating"] + 1 and after["invitation"] == before["invitation"]


def test_a_rating_sent_as_json_is_refused_not_a_crash(app, windows):
    """Flask-WTF read a JSON body as the form's fields: {"stars": "5", "comment": 5} failed in
    the comment's check and a list, ``false`` or a number in building the fields: 500."""
    client = app.test_client()
    token = view_token_of(client.get(f"/r/{windows['open']}"))
    for body in ({"stars": "5", "comment": 5, "view_token": token}, ["stars", "5"], False, 7):
        before = table_counts()
        response = client.post(f"/r/{windows['open']}", json=body)
        assert response.status_code == 400 and changed(before, table_counts()) == {}, body


def test_a_file_sent_as_a_rating_field_counts_as_no_value_not_a_crash(app, windows):
    """A file uploaded as the comment reached the comment's check: 500. It is no comment now;
    a file as the stars is no choice of stars."""
    client = app.test_client()
    url = f"/r/{windows['open']}"
    token = view_token_of(client.get(url))
    before = table_counts()
    refused = client.post(url, data={"stars": (BytesIO(b"5"), "stars.txt"), "view_token": token},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and changed(before, table_counts()) == {}
    stored = client.post(url, data={"stars": "5", "view_token": token,
                                    "comment": (BytesIO(b"<script>"), "a.txt")},
                         content_type="multipart/form-data")
    assert stored.status_code == 303
    assert db.session.scalar(select(Rating).order_by(Rating.id.desc()).limit(1)).comment == ""


# --- the complaint form and the status look-up --------------------------------------------

complaint_fields = mutated({
    "outlet": ("ZJK-001", "ZJK-002"), "category": ("attitude", "waiting", "other"),
    "description": ("柜员态度冷淡,不回答问题。", "<script>alert(1)</script>\r\n=cmd|' /C calc'!A0"),
    "customer_name": ("", "王先生"), "customer_phone": ("13800001234", "0313-1234567"),
    "anonymous": ("", "", "y"), "window_number": ("", "1", "99"),
    "teller": ("", "T1001", "T2001", "M0001", "t1001"),
})


@settings(FUZZ, max_examples=60)
@given(fields=complaint_fields, body=bodies, data=st.data())
def test_the_complaint_form_refuses_bad_input_cleanly_and_stores_nothing(app, fields, body, data):
    client = app.test_client()
    before = table_counts()
    response = send(client, "/complaints/new", fields, body, data)
    after = table_counts()
    assert response.status_code in {303, 400}, response.status_code
    if response.status_code == 303:
        assert after["complaint"] == before["complaint"] + 1
        assert client.get("/complaints/thanks").status_code == 200
    else:
        assert changed(before, after) == {}


@FUZZ
@given(outlet=nasty, window=nasty, teller=nasty)
def test_the_complaint_form_prefilled_with_anything_shows_without_error(app, outlet, window,
                                                                        teller):
    query = urlencode({"outlet": outlet, "window": window, "teller": teller})
    response = app.test_client().get(f"/complaints/new?{query}")
    assert response.status_code == 200


def test_a_forged_teller_with_a_nul_byte_is_ignored_not_a_database_error(app):
    """?teller=T1%00 (and the hidden field) was looked up as given: 500 on PostgreSQL."""
    client = app.test_client()
    assert client.get("/complaints/new?outlet=ZJK-001&teller=T1%00").status_code == 200
    before = table_counts()
    response = client.post("/complaints/new", data={
        "outlet": "ZJK-001", "teller": "T1001\x00", "category": "attitude", "description": "x",
        "anonymous": "y"})
    assert response.status_code == 303
    complaint = db.session.scalar(select(Complaint).order_by(Complaint.id.desc()).limit(1))
    assert complaint.subject_id is None and table_counts()["complaint"] == before["complaint"] + 1


def test_a_phone_number_in_other_digits_is_refused_not_stored_unfindable(app):
    """PHONE matched with \\d, so "１３８００００１２３４" was stored; the status look-up takes ASCII
    last four digits only, so the customer could never find the complaint."""
    for phone in ("１３８００００１２３４", "1٣800001234", "0313-１２３４５６７"):
        before = table_counts()
        response = app.test_client().post("/complaints/new", data={
            "outlet": "ZJK-001", "category": "attitude", "description": "x",
            "customer_phone": phone})
        assert response.status_code == 400, phone
        assert "请填写 11 位手机号" in response.get_data(as_text=True)
        assert changed(before, table_counts()) == {}


@FUZZ
@given(ticket=with_valid("TS20260101-0001", " ts20260101-0001 "),
       last_four=st.one_of(st.none(), with_valid("1234")), body=bodies, data=st.data())
def test_the_status_look_up_refuses_bad_input_and_writes_nothing(app, ticket, last_four, body,
                                                                  data):
    before = table_counts()
    response = send(app.test_client(), "/complaints/status",
                    {"ticket": ticket, "last_four": last_four}, body, data)
    assert response.status_code in {200, 400}, response.status_code
    assert changed(before, table_counts()) == {}


# --- sign-in ------------------------------------------------------------------------------

@settings(FUZZ, max_examples=25)  # each example checks a password hash (scrypt, slow on purpose)
@given(fields=mutated({"work_no": ("T1001", " t1001 ", "A0001", "NOBODY"),
                       "password": ("demo-pass-2026", "wrong-pass"),
                       "next": ("", "/ledger/", "//evil.example/", "https://evil.example/")}),
       body=bodies, data=st.data())
def test_sign_in_refuses_bad_input_cleanly(app, fields, body, data):
    before = table_counts()
    response = send(app.test_client(), "/login", fields, body, data)
    assert response.status_code in {200, 302, 400}, response.status_code
    if response.status_code == 302:  # signed in: only ever to a page of the portal
        assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    # a failed sign-in may audit itself; nothing else is written
    assert set(changed(before, table_counts())) <= {"audit_event"}


@FUZZ
@given(next_url=nasty)
def test_the_sign_in_page_shows_with_any_next(app, next_url):
    response = app.test_client().get(f"/login?{urlencode({'next': next_url})}")
    assert response.status_code == 200


@settings(FUZZ, max_examples=25)
@given(next_url=st.one_of(nasty, nasty.map(lambda text: "/" + text),
                          nasty.map(lambda text: "/ledger/" + text)),
       url=st.sampled_from(("/lang", "/login")))
def test_a_next_of_any_text_is_followed_only_within_the_portal(app, next_url, url):
    fields = {"lang": "en"} if url == "/lang" else {"work_no": "T1001",
                                                    "password": "demo-pass-2026"}
    response = app.test_client().post(url, data={**fields, "next": next_url})
    assert response.status_code == 302, response.status_code
    target = urlsplit(response.headers["Location"])
    assert target.netloc in ("", "localhost") and not target.path.startswith("//")


def test_a_next_with_a_line_break_goes_home_not_a_500(app):
    """next=/\\r\\nX-Evil: 1 passed safe_next (urlsplit drops line ends before looking) and
    went into the Location header: 500 on /lang, and on /login after signing in."""
    for url, fields in (("/lang", {"lang": "en"}),
                        ("/login", {"work_no": "T1001", "password": "demo-pass-2026"})):
        response = app.test_client().post(url, data={**fields, "next": "/\r\nX-Evil: 1"})
        assert response.status_code == 302 and response.headers["Location"] == "/", url
        assert "X-Evil" not in response.headers


def test_a_work_number_with_a_nul_byte_fails_like_any_other_not_a_database_error(app):
    """work_no=T1001\\x00 reached the person look-up: 500 on PostgreSQL."""
    response = app.test_client().post("/login", data={"work_no": "T1001\x00",
                                                      "password": "demo-pass-2026"})
    assert response.status_code == 200 and "工号或密码不正确" in response.get_data(as_text=True)


# --- missing CSRF token, oversize bodies --------------------------------------------------

@pytest.fixture
def guarded(app_factory):
    """An app with CSRF protection on, as in production."""
    guarded = app_factory(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        yield guarded


def test_a_public_form_without_a_valid_csrf_token_is_refused_and_stores_nothing(guarded):
    window = window_of("ZJK-001", 1)
    ratings.open_window(person("T1001"), window, utcnow())
    forms = {
        f"/r/{window.token}": {"stars": "5"},
        "/complaints/new": {"outlet": "ZJK-001", "category": "attitude", "description": "x",
                            "anonymous": "y"},
        "/complaints/status": {"ticket": "TS20260101-0001", "last_four": "1234"},
        "/login": {"work_no": "T1001", "password": "demo-pass-2026"},
    }
    for (url, fields), csrf in itertools.product(forms.items(), ("missing", "wrong", "json")):
        client = guarded.test_client()
        shown = client.get(url)  # the session of a visitor who saw the form
        if url.startswith("/r/"):
            fields = {**fields, "view_token": view_token_of(shown)}
        if csrf == "wrong":
            fields = {**fields, "csrf_token": "IjAxMjM0NTY3ODki.forged.token"}
        before = table_counts()
        response = client.post(url, json=fields) if csrf == "json" else client.post(url,
                                                                                    data=fields)
        assert response.status_code == 400, (url, csrf)
        assert changed(before, table_counts()) == {}, (url, csrf)


def test_an_oversize_body_is_refused_with_413(app, windows):
    before = table_counts()
    for url in ("/complaints/new", "/complaints/status", "/login", f"/r/{windows['open']}"):
        huge = app.test_client().post(url, data={"description": "x" * (7 * 1024 * 1024)})
        field = app.test_client().post(url, data={"description": "x" * (600 * 1024)},
                                       content_type="multipart/form-data")
        assert huge.status_code == 413 and field.status_code == 413, url
    assert changed(before, table_counts()) == {}
