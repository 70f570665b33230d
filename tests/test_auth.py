"""Sign-in, sign-out, password change, lockout and session handling."""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent
from portal.timeutil import utcnow
from sqlalchemy import select

from .conftest import person, sign_in_as

GENERIC = "工号或密码不正确"


def test_login_page_is_in_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "工号" in page and "密码" in page and 'lang="zh-CN"' in page


def test_demo_account_signs_in_and_reaches_home(auth, client):
    response = auth.login("M0001")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "网点负责人首页" in home and "高建国" in home


def test_work_number_is_case_insensitive(auth):
    assert auth.login("t1001").status_code == 302


@pytest.mark.parametrize("work_no, password", [("T1001", "wrong-password"), ("NOBODY", "demo-pass-2026")])
def test_unknown_user_and_wrong_password_get_the_same_answer(auth, work_no, password):
    response = auth.login(work_no, password)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)


def test_fifth_failure_locks_the_account_for_fifteen_minutes(auth, app):
    for _ in range(5):
        auth.login("T1001", "wrong-password")
    locked = person("T1001")
    assert locked.locked_until is not None
    minutes = (locked.locked_until - utcnow()).total_seconds() / 60
    assert 14 < minutes <= 15
    response = auth.login("T1001", "demo-pass-2026")
    assert response.status_code == 200 and GENERIC in response.get_data(as_text=True)


def test_four_failures_do_not_lock(auth):
    for _ in range(4):
        auth.login("T1001", "wrong-password")
    assert person("T1001").locked_until is None
    assert auth.login("T1001").status_code == 302


def test_lock_expires(auth, app):
    locked = person("T1001")
    locked.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login("T1001").status_code == 302


def test_inactive_person_cannot_sign_in(auth):
    gone = person("T1002")
    gone.active = False
    db.session.commit()
    assert GENERIC in auth.login("T1002").get_data(as_text=True)


def test_sign_in_and_failure_are_audited(auth):
    auth.login("T1001", "wrong-password")
    auth.login("T1001")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["auth.sign_in_failed", "auth.sign_in"]


@pytest.mark.parametrize("target, expected", [
    ("/account/password", "/account/password"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_goes_to_a_relative_path(auth, target, expected):
    response = auth.login("T1001", next=target)
    assert response.headers["Location"] == expected


def test_signed_out_cookie_no_longer_works(auth, client, app):
    auth.login("T1001")
    copied = client.get_cookie("portal_session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_needs_post(auth, client):
    auth.login("T1001")
    assert client.get("/logout").status_code == 405


def test_password_change_ends_other_sessions(app, auth, client):
    auth.login("T1001")
    other = sign_in_as(app.test_client(), "T1001")
    response = client.post("/account/password", data={
        "current": "demo-pass-2026", "new": "new-secret-2026", "confirm": "new-secret-2026"})
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert person("T1001").check_password("new-secret-2026")


@pytest.mark.parametrize("data, message", [
    ({"current": "wrong", "new": "new-secret-2026", "confirm": "new-secret-2026"}, "当前密码不正确"),
    ({"current": "demo-pass-2026", "new": "short", "confirm": "short"}, "8–64"),
    ({"current": "demo-pass-2026", "new": "x" * 65, "confirm": "x" * 65}, "8–64"),
    ({"current": "demo-pass-2026", "new": "new-secret-2026", "confirm": "other-2026"}, "不一致"),
])
def test_password_change_rejects_bad_input_next_to_the_field(teller, data, message):
    response = teller.post("/account/password", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page and 'class="error"' in page
    assert person("T1001").check_password("demo-pass-2026")


def test_passwords_are_hashed_with_scrypt(app):
    assert person("T1001").password_hash.startswith("scrypt:")


def test_sign_in_starts_a_fresh_session(auth, client):
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    auth.login("T1001")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_session_ends_twelve_hours_after_sign_in(app, teller):
    with teller.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1
    assert teller.get("/").status_code == 302


def test_language_switch_to_english_and_back(client):
    client.post("/lang", data={"lang": "en", "next": "/login"})
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    client.post("/lang", data={"lang": "zh_CN", "next": "/login"})
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/lang", data={"lang": "xx"})
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)
