"""The read-only JSON API: bearer tokens, JSON answers and errors; the append-only history."""
import base64
import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from portal.blueprints.api.models import ApiToken
from portal.blueprints.api.services import create_token, find_active_token, revoke_token
from portal.extensions import db
from portal.models import AuditEvent

from .conftest import sign_in_as

PERSON_URL = "/api/v1/people/T1001"


@pytest.fixture
def token(app):
    """A fresh, valid API token (plain text)."""
    return create_token("HR 系统")[1]


def bearer(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}


def assert_json_error(response, status: int):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    assert "<html" not in response.get_data(as_text=True).lower()


def assert_no_session_cookie(response):
    assert "Set-Cookie" not in response.headers, response.headers.getlist("Set-Cookie")


# --- refused requests ---------------------------------------------------------------------

def test_a_request_without_a_token_gets_401_json(client):
    response = client.get(PERSON_URL)
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "T1001" not in response.get_data(as_text=True)


@pytest.mark.parametrize("header", [
    "Bearer wyb_this-is-not-a-real-token-0123456789abcdefghijk",
    "Bearer not-even-the-prefix",
    "Bearer ",
    "Bearer",
    "",
])
def test_a_wrong_or_empty_token_gets_401_json(client, token, header):
    response = client.get(PERSON_URL, headers={"Authorization": header})
    assert_json_error(response, 401)


def test_a_token_with_one_character_changed_gets_401(client, token):
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_json_error(client.get(PERSON_URL, headers=bearer(tampered)), 401)


@pytest.mark.parametrize("make_header", [
    lambda plain: f"Basic {base64.b64encode(f'hr:{plain}'.encode()).decode()}",
    lambda plain: f"Token {plain}",
    lambda plain: plain,
    lambda plain: f"Bearer{plain}",
    lambda plain: f"Digest {plain}",
], ids=["basic", "token-scheme", "no-scheme", "no-space", "digest"])
def test_a_valid_token_under_another_scheme_gets_401(client, token, make_header):
    response = client.get(PERSON_URL, headers={"Authorization": make_header(token)})
    assert_json_error(response, 401)


def test_a_token_in_the_query_string_is_not_accepted(client, token):
    assert_json_error(client.get(f"{PERSON_URL}?token={token}"), 401)
    assert_json_error(client.get(f"{PERSON_URL}?access_token={token}"), 401)


def test_a_revoked_token_gets_401(client, token):
    assert client.get(PERSON_URL, headers=bearer(token)).status_code == 200
    revoke_token(find_active_token(token))
    assert_json_error(client.get(PERSON_URL, headers=bearer(token)), 401)
    revoked = db.session.scalars(select(ApiToken)).one()
    assert revoked.revoked_at is not None  # the row stays for the record


def test_revoking_is_audited_once(app, token):
    row = find_active_token(token)
    revoke_token(row)
    revoke_token(row)
    revocations = db.session.scalar(
        select(func.count()).where(AuditEvent.action == "api_token.revoked"))
    assert revocations == 1


def test_a_signed_in_staff_session_does_not_open_the_api(app, client):
    sign_in_as(client, "A0001")
    assert client.get("/").status_code == 200  # the session itself works
    assert_json_error(client.get(PERSON_URL), 401)


def test_a_refused_request_is_written_to_the_security_log(client, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        client.get(PERSON_URL, headers=bearer("wyb_wrong"))
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert any("event=api_denied" in line and "path=/api/v1/people/T1001" in line for line in lines)
    assert not any("wyb_wrong" in line for line in lines)


# --- answered requests --------------------------------------------------------------------

def test_a_known_person_is_answered_with_json(client, token):
    response = client.get(PERSON_URL, headers=bearer(token))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "work_no": "T1001",
        "name": "王芳",
        "role": "teller",
        "outlet": "ZJK-001",
        "joined_on": "2017-02-01",
        "active": True,
    }


def test_the_work_number_is_case_insensitive(client, token):
    response = client.get("/api/v1/people/m0002", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["work_no"] == "M0002"
    assert response.get_json()["outlet"] == "ZJK-002"


def test_the_bearer_scheme_is_case_insensitive(client, token):
    response = client.get(PERSON_URL, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_deactivated_person_is_still_found_and_marked_inactive(client, token):
    from .conftest import person

    person("T1002").active = False
    db.session.commit()
    body = client.get("/api/v1/people/T1002", headers=bearer(token)).get_json()
    assert body["work_no"] == "T1002" and body["active"] is False


@pytest.mark.parametrize("work_no", ["T9999", "ZJK-001", "nobody", "T1001%20", "x" * 300])
def test_an_unknown_person_gets_404_json(client, token, work_no):
    assert_json_error(client.get(f"/api/v1/people/{work_no}", headers=bearer(token)), 404)


def test_an_unknown_address_under_the_api_gets_404_json(client, token):
    assert_json_error(client.get("/api/v1/nothing-here", headers=bearer(token)), 404)


def test_a_write_method_gets_a_json_error_and_changes_nothing(client, token):
    response = client.post(PERSON_URL, headers=bearer(token), json={"name": "x"})
    assert_json_error(response, 405)
    assert client.get(PERSON_URL, headers=bearer(token)).get_json()["name"] == "王芳"


@pytest.mark.parametrize("status, headers_of", [
    (200, lambda token: bearer(token)),
    (401, lambda token: {}),
    (401, lambda token: bearer("wyb_wrong")),
])
def test_the_api_never_sets_a_session_cookie(client, token, status, headers_of):
    response = client.get(PERSON_URL, headers=headers_of(token))
    assert response.status_code == status
    assert_no_session_cookie(response)
    assert client.get_cookie("portal_session") is None


def test_a_404_sets_no_session_cookie_either(client, token):
    response = client.get("/api/v1/people/T9999", headers=bearer(token))
    assert response.status_code == 404
    assert_no_session_cookie(response)


@pytest.mark.parametrize("use_token", [True, False])
def test_api_answers_are_not_cached(client, token, use_token):
    response = client.get(PERSON_URL, headers=bearer(token) if use_token else {})
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the audit history is append-only --------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'forged' WHERE id = :id",
    "UPDATE audit_event SET details = '' WHERE id = :id",
    "DELETE FROM audit_event WHERE id = :id",
    "DELETE FROM audit_event",
])
def test_the_audit_history_cannot_be_changed_or_deleted(app, statement):
    first = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
    first_id, first_action = first.id, first.action
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": first_id})
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == total
    assert db.session.get(AuditEvent, first_id).action == first_action


def test_the_audit_history_still_takes_new_lines(app, token):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    create_token("另一个系统")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
