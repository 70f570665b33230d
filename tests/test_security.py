"""Security requirements that hold for every response: headers, CSRF, limits, errors, logs."""
import logging

import pytest
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.config import WeakSecretKey
from portal.security import clean

from .conftest import sign_in_as


def _csp_ok(response):
    csp = response.headers["Content-Security-Policy"]
    return ("default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            and "object-src 'none'" in csp and "base-uri 'none'" in csp
            and "form-action 'self'" in csp and "unsafe-inline" not in csp
            and "unsafe-eval" not in csp)


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page", "/api/v1/people/T1001"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert _csp_ok(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Request-ID"]


def test_signed_in_pages_are_not_cached(teller):
    assert teller.get("/").headers["Cache-Control"] == "no-store"


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_session_cookie_is_httponly_and_lax(auth, client):
    response = auth.login("T1001")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_behind_https(app_factory):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    response = app.test_client().post("/login", data={"work_no": "T1001", "password": "demo-pass-2026"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_no_remember_me_cookie_is_ever_set(auth):
    response = auth.login("T1001", remember="y")
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


def test_not_found_page_is_chinese_without_details(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)


def test_unexpected_error_answers_a_plain_500_page(app_factory):
    app = app_factory()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统出错" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_a_locked_database_answers_503_with_retry_after(app_factory):
    app = app_factory()

    @app.get("/locked")
    def locked():
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    response = app.test_client().get("/locked")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "系统正忙" in response.get_data(as_text=True)


def test_oversize_request_is_refused_with_413(client):
    response = client.post("/login", data={"work_no": "x" * (7 * 1024 * 1024)})
    assert response.status_code == 413


class TestWithCsrfOn:
    @pytest.fixture
    def csrf_app(self, app_factory):
        return app_factory(WTF_CSRF_ENABLED=True)

    def test_a_form_post_without_token_is_refused(self, csrf_app):
        response = csrf_app.test_client().post("/login", data={"work_no": "T1001", "password": "demo-pass-2026"})
        assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)

    def test_the_login_form_with_its_token_signs_in(self, csrf_app):
        client = csrf_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"work_no": "T1001", "password": "demo-pass-2026",
                                               "csrf_token": token})
        assert response.status_code == 302

    def test_htmx_requests_send_the_token_as_a_header(self, csrf_app):
        with csrf_app.app_context():
            client = sign_in_as(csrf_app.test_client(), "T1001")
        page = client.get("/").get_data(as_text=True)
        token = page.split('"X-CSRFToken": "')[1].split('"')[0]
        refused = client.post("/logout", headers={"HX-Request": "true"})
        assert refused.status_code == 400
        accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
        assert accepted.status_code == 302


def test_sign_in_is_throttled_per_address(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/login", data={"work_no": "NOBODY", "password": "x" * 8}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "操作过于频繁" in client.post("/login", data={}).get_data(as_text=True)


def test_log_values_cannot_forge_lines():
    assert clean("T1001\r\nevent=sign_in user=A0001") == "T1001\\x0d\\x0aevent=sign_in user=A0001"


def test_failed_sign_in_is_logged_without_the_password(auth, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        auth.login("T1001", "wrong-password-123")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert any("event=sign_in_failed" in line and "request_id=" in line for line in lines)
    assert not any("wrong-password-123" in line for line in lines)


def test_a_weak_secret_key_is_refused_outside_testing(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(WeakSecretKey):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}, instance_path=str(tmp_path))


def test_a_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}, instance_path=str(tmp_path))
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}, instance_path=str(tmp_path))
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text().strip() == first.config["SECRET_KEY"]



def _aged_session_cookie(app, client, monkeypatch, minutes: int) -> str:
    """Re-sign the client's session as if it had last been used ``minutes`` ago."""
    import itsdangerous.timed

    with client.session_transaction() as session:
        data = dict(session)
    serializer = app.session_interface.get_signing_serializer(app)
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - minutes * 60)
    cookie = serializer.dumps(data)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    return cookie


def test_a_session_idle_for_more_than_thirty_minutes_is_ended(app, teller, monkeypatch):
    teller.set_cookie("portal_session", _aged_session_cookie(app, teller, monkeypatch, 31))
    response = teller.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_active_within_thirty_minutes_continues(app, teller, monkeypatch):
    teller.set_cookie("portal_session", _aged_session_cookie(app, teller, monkeypatch, 29))
    assert teller.get("/").status_code == 200


def test_background_polling_does_not_keep_an_idle_session_alive(auth, client):
    auth.login("M0001")
    polled = client.get("/ratings/alerts/badge", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and "Set-Cookie" not in polled.headers
    visited = client.get("/")
    assert "portal_session=" in visited.headers.get("Set-Cookie", "")


def test_a_signed_out_htmx_request_asks_for_a_full_redirect_to_sign_in(client):
    response = client.get("/ratings/alerts/badge", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")
    assert "<html" not in response.get_data(as_text=True)
