"""Sessions and rate limits (RELIABILITY 1, 3, 4, 15): what tests/test_auth.py, test_admin.py and
test_security.py do not already prove.

Already covered elsewhere (not repeated here): a planted session value is dropped at sign-in
(test_auth::test_sign_in_starts_a_fresh_session), a cookie copied before sign-out stops working
(test_auth::test_signed_out_cookie_no_longer_works), password change and admin reset end other
sessions (test_auth::test_password_change_ends_other_sessions,
test_admin::test_password_reset_lets_them_sign_in_with_the_new_password), deactivation
(test_admin::test_deactivation_ends_the_persons_sessions), the idle and absolute lifetimes
(test_security / test_auth).
"""
import pytest
from limits import parse_many
from sqlalchemy import select

from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import OrgUnit

from .conftest import person, sign_in_as

PASSWORD = "demo-pass-2026"
COOKIE = "portal_session"


def _signed_out(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


# --- session fixation --------------------------------------------------------------------------

def test_a_cookie_captured_before_sign_in_is_not_signed_in_afterwards(app, client):
    """Session fixation: the victim's pre-sign-in cookie (here carrying the language choice, so
    it exists) is captured; after the victim signs in with it, the captured cookie is still
    anonymous and the signed-in cookie is a different one."""
    client.post("/lang", data={"lang": "zh_CN", "next": "/login"})
    captured = client.get_cookie(COOKIE).value
    response = client.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    assert response.status_code == 302
    signed_in = client.get_cookie(COOKIE).value
    assert signed_in != captured
    assert client.get("/").status_code == 200
    assert _signed_out(_with_cookie(app, captured))


def test_a_session_planted_with_another_persons_identity_is_replaced_at_sign_in(app, client):
    """A pre-sign-in session that already names someone (a stale or forged ``_user_id``) does not
    survive: after T1001 signs in, the session is T1001's only."""
    with client.session_transaction() as session:
        session["_user_id"] = "not-a-real-token"
        session["_fresh"] = False
    client.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    with client.session_transaction() as session:
        assert session["_user_id"] == person("T1001").session_token
        assert session["_fresh"] is True and session["signed_in_at"]


# --- sign-out ends every session of the person ---------------------------------------------------

def test_sign_out_in_one_browser_ends_the_persons_other_sessions(app, client):
    """RELIABILITY 3: not only the copied cookie: a second browser signed in separately (its own
    cookie) is signed out too, and a new sign-in works afterwards."""
    client.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    other = app.test_client()
    other.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    assert other.get("/").status_code == 200
    client.post("/logout")
    assert _signed_out(other)
    assert _signed_out(client)
    again = app.test_client()
    assert again.post("/login", data={"work_no": "T1001", "password": PASSWORD}).status_code == 302
    assert again.get("/").status_code == 200


def test_sign_out_of_one_person_leaves_other_people_signed_in(app, client):
    client.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    colleague = sign_in_as(app.test_client(), "T1002")
    client.post("/logout")
    assert colleague.get("/").status_code == 200


def test_a_password_change_ends_a_cookie_copied_before_it(app, client):
    """The copied cookie of the very session that changed the password stops working too."""
    client.post("/login", data={"work_no": "T1001", "password": PASSWORD})
    copied = client.get_cookie(COOKIE).value
    client.post("/account/password", data={"current": PASSWORD, "new": "new-secret-2026",
                                           "confirm": "new-secret-2026"})
    assert _signed_out(_with_cookie(app, copied))


# --- rate limits (read from the configuration, limiter switched on) -----------------------------

def _first_limit(app, key: str) -> int:
    """The smallest window's allowance of the configured limit ``key``."""
    return parse_many(app.config[key])[0].amount


@pytest.fixture
def limited_app(app_factory):
    """An app with the limiter on (the test settings switch it off) and the shipped limits."""
    app = app_factory(RATELIMIT_ENABLED=True)
    assert app.config["TRUSTED_PROXIES"] == 0
    with app.app_context():
        yield app


def _spoofed(n: int) -> dict:
    """A different forged client address on every request."""
    return {"X-Forwarded-For": f"203.0.113.{n % 250 + 1}", "X-Real-IP": f"198.51.100.{n % 250 + 1}"}


def _burst(client, path: str, data, count: int) -> list[int]:
    return [client.post(path, data=data(n), headers=_spoofed(n)).status_code for n in range(count)]


def _assert_refused_kindly(response, text: str):
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert text in page and 'lang="zh-CN"' in page
    assert "Traceback" not in page and "Too Many Requests" not in page


def test_sign_in_per_address_uses_the_configured_limit_and_ignores_forwarded_for(limited_app):
    limit = _first_limit(limited_app, "LOGIN_RATE_LIMIT")
    client = limited_app.test_client()
    # a different unknown work number each time, so only the per-address limit can apply (no
    # password: the limiter counts every attempt, and the test needs no scrypt hashing)
    codes = _burst(client, "/login", lambda n: {"work_no": f"NOBODY{n}"}, limit)
    assert 429 not in codes
    refused = client.post("/login", data={"work_no": "NOBODY-LAST"},
                          headers=_spoofed(999))
    _assert_refused_kindly(refused, "操作过于频繁")
    # another real address is not affected: the limit is per address, not global
    elsewhere = limited_app.test_client()
    answer = elsewhere.post("/login", data={"work_no": "T1001", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert answer.status_code == 302


def test_sign_in_per_account_uses_the_configured_limit_across_addresses(limited_app):
    """The same work number tried from many addresses is refused with 429 after its limit; an
    unknown work number gets exactly the same answer (no hint which accounts exist)."""
    limit = _first_limit(limited_app, "LOGIN_ACCOUNT_RATE_LIMIT")
    assert limit < _first_limit(limited_app, "LOGIN_RATE_LIMIT")
    for work_no in ("T2001", "NOBODY"):
        answers = []
        for n in range(limit + 1):
            client = limited_app.test_client()
            answers.append(client.post("/login", data={"work_no": work_no},
                                       environ_base={"REMOTE_ADDR": f"10.0.{n}.{len(work_no)}"}))
        assert 429 not in [a.status_code for a in answers[:-1]]
        _assert_refused_kindly(answers[-1], "操作过于频繁")
    # the limit is per account: another person signs in from the same address meanwhile
    client = limited_app.test_client()
    assert client.post("/login", data={"work_no": "T2002", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 302


def _window_token(code: str = "ZJK-001") -> str:
    outlet = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
    return db.session.scalar(select(Window.token).where(Window.outlet_id == outlet,
                                                        Window.number == 1))


def test_rating_bursts_are_refused_after_the_configured_limit(limited_app):
    limit = _first_limit(limited_app, "RATING_RATE_LIMIT")
    client, path = limited_app.test_client(), f"/r/{_window_token()}"
    codes = _burst(client, path, lambda n: {"stars": "5"}, limit)
    assert 429 not in codes
    refused = client.post(path, data={"stars": "5"}, headers=_spoofed(77))
    _assert_refused_kindly(refused, "提交过于频繁")
    assert client.get(path).status_code == 200  # reading the page is not limited


def test_complaint_submission_is_refused_after_the_configured_limit(limited_app):
    limit = _first_limit(limited_app, "PUBLIC_RATE_LIMIT")
    client = limited_app.test_client()
    codes = _burst(client, "/complaints/new", lambda n: {"outlet": "ZJK-001"}, limit)
    assert 429 not in codes
    _assert_refused_kindly(client.post("/complaints/new", data={}, headers=_spoofed(5)),
                           "提交过于频繁")


def test_complaint_status_lookups_are_refused_after_the_configured_limit(limited_app):
    """Guessing tickets and phone digits is throttled per address, forged headers or not."""
    limit = _first_limit(limited_app, "PUBLIC_RATE_LIMIT")
    client = limited_app.test_client()
    codes = _burst(client, "/complaints/status",
                   lambda n: {"ticket": f"TS20260101{n:04d}", "last_four": f"{n:04d}"}, limit)
    assert 429 not in codes
    _assert_refused_kindly(client.post("/complaints/status", data={"ticket": "X"},
                                       headers=_spoofed(6)), "提交过于频繁")
